//! The interactive prompt (`whocan shell`): a rustyline loop over the one
//! query parser ([`whocan::query::parse`]) and engine ([`whocan::query::Engine`]),
//! running statements through [`whocan::query::session`] as `whocan query`
//! and `whocan run` do.
//!
//! Persistent history, Tab completion by position in the grammar (what the
//! parser looks for where the cursor is: statement words, keywords,
//! entities, permissions, projects, types, file names, help topics),
//! multi-line input (an open `{` or a trailing `\` asks for another line,
//! followed by [`Continuation`] in one pass over each line), Ctrl-C cancels
//! the entry, Ctrl-D exits. A bad query prints an error and the prompt stays
//! up.
//!
//! When stdin is not a terminal the shell is scripted: it reads plain lines
//! itself (a statement bounded by [`MAX_STATEMENT_BYTES`], an invalid UTF-8
//! line reported and skipped), prints no prompt, gives every error its real
//! `input:LINE:COLUMN`, reports a statement left open at the end of input,
//! and exits 1 after a failed `expect`, 2 after a statement that could not
//! run.
//!
//! Loading data is the caller's: the shell gets a loader function, so this
//! module reads only its history file, stdin and the directories it
//! completes file names from, and writes only its history and the
//! snapshots `save` asks for.

use std::borrow::Cow;
use std::cell::{OnceCell, RefCell};
use std::io::{self, BufRead, IsTerminal, Write};
use std::path::PathBuf;

use rustyline::completion::{Completer, Pair};
use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::history::FileHistory;
use rustyline::validate::Validator;
use rustyline::{Config, Context, Editor, Helper};

use whocan::graph::AccessGraph;
use whocan::import::ImportReport;
use whocan::model::{Kind, Model};
use whocan::query::ast::{Located, OutputFormat};
use whocan::query::parse::{Continuation, Slot, expected_after, parse_script};
use whocan::query::session::{Executed, Results, Style, execute};
use whocan::query::{Engine, HELP_TOPICS, QueryError};

/// The longest statement the shell takes, continuation lines included: a
/// longer one is refused with its line, skipped to its end, and the session
/// goes on.
pub const MAX_STATEMENT_BYTES: usize = 1 << 20;

/// How many candidates one slot offers at most.
const MAX_CANDIDATES: usize = 200;

fn fold_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    a.bytes()
        .map(|c| c.to_ascii_lowercase())
        .cmp(b.bytes().map(|c| c.to_ascii_lowercase()))
}

/// A word list, sorted ASCII-case-insensitively on first use: sorting a
/// million names takes a moment, so it waits for the first Tab rather than
/// delaying the prompt.
#[derive(Default)]
pub struct Words {
    unsorted: std::cell::Cell<Vec<String>>,
    sorted: OnceCell<Vec<String>>,
}

impl Words {
    fn sorted(&self) -> &[String] {
        self.sorted.get_or_init(|| {
            let mut words = self.unsorted.take();
            words.retain(|w| !w.is_empty());
            words.sort_unstable_by(|a, b| fold_cmp(a, b).then_with(|| a.cmp(b)));
            words.dedup();
            words
        })
    }

    /// The words starting with `prefix` (ASCII case ignored), at most `max`.
    fn starting_with<'w>(&'w self, prefix: &str, max: usize) -> impl Iterator<Item = &'w str> {
        let words = self.sorted();
        let lower = prefix.to_ascii_lowercase();
        let from =
            words.partition_point(|w| w.bytes().map(|b| b.to_ascii_lowercase()).lt(lower.bytes()));
        words[from..]
            .iter()
            .take_while(move |w| {
                w.len() >= lower.len()
                    && w.as_bytes()[..lower.len()].eq_ignore_ascii_case(lower.as_bytes())
            })
            .take(max)
            .map(String::as_str)
    }
}

impl From<Vec<String>> for Words {
    fn from(words: Vec<String>) -> Words {
        Words {
            unsorted: std::cell::Cell::new(words),
            sorted: OnceCell::new(),
        }
    }
}

/// What the completer offers for each kind of [`Slot`], taken from the
/// loaded data.
#[derive(Default)]
pub struct Vocabulary {
    /// Entity ids and names.
    pub entities: Words,
    /// Entity ids (for `id:VALUE`).
    pub ids: Words,
    /// `source/id` of every entity.
    pub keys: Words,
    /// `source/` of every source, the way to `source/id`.
    pub sources: Words,
    /// Permission names.
    pub permissions: Words,
    /// Project names.
    pub projects: Words,
    /// Kinds and source types.
    pub types: Words,
    /// HRIS employee ids and names.
    pub people: Words,
}

impl Vocabulary {
    /// The words of `model`.
    pub fn of(model: &Model) -> Vocabulary {
        let s = |sym| model.str(sym).to_string();
        let (mut entities, mut ids, mut keys, mut projects, mut types) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for e in &model.entities {
            entities.push(s(e.id));
            entities.push(s(e.name));
            ids.push(s(e.id));
            keys.push(format!("{}/{}", model.str(e.source), model.str(e.id)));
            types.push(s(e.source_type));
            if let Some(a) = &e.attributes {
                projects.push(s(a.project));
            }
        }
        let sources: Vec<String> = model
            .sources
            .iter()
            .map(|f| format!("{}/", model.str(f.source)))
            .collect();
        types.extend(Kind::ALL.iter().map(|k| k.as_str().to_string()));
        let permissions: Vec<String> = model.edges.iter().map(|e| s(e.permission)).collect();
        let people: Vec<String> = model
            .employees
            .iter()
            .flat_map(|e| [s(e.id), s(e.name)])
            .collect();
        Vocabulary {
            entities: entities.into(),
            ids: ids.into(),
            keys: keys.into(),
            sources: sources.into(),
            permissions: permissions.into(),
            projects: projects.into(),
            types: types.into(),
            people: people.into(),
        }
    }
}

/// Tab completion by position in the grammar, and nothing else.
pub struct ShellHelper {
    vocabulary: Vocabulary,
    /// The lines of the statement typed so far, before the current line.
    pending: RefCell<String>,
}

/// Needs quotes to stay one word: what ends a bare word in the lexer.
fn needs_quotes(word: &str) -> bool {
    word.is_empty()
        || word.contains(|c: char| {
            c.is_whitespace() || matches!(c, '"' | '\'' | '{' | '}' | ',' | ';' | '#')
        })
}

fn quoted(word: &str) -> String {
    format!("\"{}\"", word.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Where the word ending at the end of `before` starts: at its opening
/// quote when a quote is still open, else after the last separator.
fn word_start(before: &str) -> usize {
    let mut quote: Option<(char, usize)> = None;
    let mut start = 0;
    let mut escaped = false;
    for (i, c) in before.char_indices() {
        if let Some((q, _)) = quote {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '"' | '\'' => quote = Some((c, i)),
            c if c.is_whitespace() || matches!(c, '{' | '}' | ',' | ';' | '=' | '<' | '>') => {
                start = i + c.len_utf8()
            }
            _ => {}
        }
    }
    match quote {
        Some((_, i)) => i,
        None => start,
    }
}

impl ShellHelper {
    /// A helper completing from `vocabulary` (plus the language's keywords).
    pub fn new(vocabulary: Vocabulary) -> ShellHelper {
        ShellHelper {
            vocabulary,
            pending: RefCell::new(String::new()),
        }
    }

    /// Candidates for the word ending at `pos`: (start of the word,
    /// replacements). The parser says what the grammar takes there
    /// ([`expected_after`]): keywords first, then the values of each slot
    /// that start with the word. Names that would not lex as one word are
    /// offered quoted; `id:` and `source/` prefixes complete ids and keys.
    pub fn candidates(&self, line: &str, pos: usize) -> (usize, Vec<String>) {
        let before = &line[..pos];
        let start = word_start(before);
        let word = &before[start..];
        let (quote, prefix) = match word.chars().next() {
            Some(q @ ('"' | '\'')) => (Some(q), &word[1..]),
            _ => (None, word),
        };
        let pending = self.pending.borrow();
        let context = if pending.is_empty() {
            Cow::Borrowed(&before[..start])
        } else {
            Cow::Owned(format!("{pending}\n{}", &before[..start]))
        };
        let mut out: Vec<String> = Vec::new();
        let v = &self.vocabulary;
        let mut push = |w: &str| {
            let w = if quote.is_some() || needs_quotes(w) {
                quoted(w)
            } else {
                w.to_string()
            };
            if !out.contains(&w) {
                out.push(w);
            }
        };
        let lower = prefix.to_ascii_lowercase();
        for slot in expected_after(&context) {
            match slot {
                Slot::Keyword(k) => {
                    if quote.is_none() && k.starts_with(&lower) {
                        push(&k);
                    }
                }
                Slot::Entity => {
                    if quote.is_none() && lower.starts_with("id:") {
                        for id in v.ids.starting_with(&prefix[3..], MAX_CANDIDATES) {
                            push(&format!("id:{id}"));
                        }
                        continue;
                    }
                    for w in v.entities.starting_with(prefix, MAX_CANDIDATES) {
                        push(w);
                    }
                    // `source/` until a `/` is typed, then `source/id`.
                    if quote.is_none() {
                        let keys = if prefix.contains('/') {
                            &v.keys
                        } else {
                            &v.sources
                        };
                        keys.starting_with(prefix, MAX_CANDIDATES)
                            .for_each(&mut push);
                    }
                }
                Slot::Person => v
                    .people
                    .starting_with(prefix, MAX_CANDIDATES)
                    .for_each(&mut push),
                Slot::Permission => v
                    .permissions
                    .starting_with(prefix, MAX_CANDIDATES)
                    .for_each(&mut push),
                Slot::Project => v
                    .projects
                    .starting_with(prefix, MAX_CANDIDATES)
                    .for_each(&mut push),
                Slot::Type => v
                    .types
                    .starting_with(prefix, MAX_CANDIDATES)
                    .for_each(&mut push),
                Slot::HelpTopic => HELP_TOPICS
                    .iter()
                    .filter(|t| t.starts_with(&lower))
                    .for_each(|t| push(t)),
                Slot::File => files(prefix).iter().for_each(|f| push(f)),
                Slot::Text => v
                    .entities
                    .starting_with(prefix, MAX_CANDIDATES)
                    .for_each(&mut push),
            }
        }
        (start, out)
    }
}

/// File names starting with `prefix` (a path as typed), directories with a
/// trailing `/`; hidden entries only when the prefix asks for them.
fn files(prefix: &str) -> Vec<String> {
    let (dir, part) = match prefix.rfind('/') {
        Some(i) => (&prefix[..=i], &prefix[i + 1..]),
        None => ("", prefix),
    };
    let Ok(entries) = std::fs::read_dir(if dir.is_empty() { "." } else { dir }) else {
        return Vec::new();
    };
    let mut out: Vec<String> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            if !name.starts_with(part) || (name.starts_with('.') && !part.starts_with('.')) {
                return None;
            }
            let slash = if e.file_type().ok()?.is_dir() {
                "/"
            } else {
                ""
            };
            Some(format!("{dir}{name}{slash}"))
        })
        .take(10 * MAX_CANDIDATES)
        .collect();
    out.sort();
    out.truncate(MAX_CANDIDATES);
    out
}

impl Completer for ShellHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let (start, words) = self.candidates(line, pos);
        Ok((
            start,
            words
                .into_iter()
                .map(|w| Pair {
                    display: w.clone(),
                    replacement: w,
                })
                .collect(),
        ))
    }
}

impl Hinter for ShellHelper {
    type Hint = String;
}

impl Highlighter for ShellHelper {
    fn highlight_prompt<'b, 's: 'b, 'p: 'b>(
        &'s self,
        prompt: &'p str,
        _default: bool,
    ) -> Cow<'b, str> {
        Cow::Borrowed(prompt)
    }
}

// Every line is accepted as typed: the session follows continuation lines
// itself (one line per readline, each scanned once).
impl Validator for ShellHelper {}

impl Helper for ShellHelper {}

/// Loads data for the shell: files as typed (CSV or one snapshot), to a
/// graph and its import report, or a message.
pub type Loader<'a> = &'a dyn Fn(&[PathBuf]) -> Result<(AccessGraph, ImportReport), String>;

/// Options of the shell.
pub struct ShellOptions {
    /// Where history is kept; `None` keeps none.
    pub history: Option<PathBuf>,
    /// The starting output format.
    pub format: OutputFormat,
}

/// Why an entry will not run (already reported).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Refused {
    TooLong,
    NotUtf8,
}

/// One statement being read, line by line: its text (bounded by
/// [`MAX_STATEMENT_BYTES`]), where it started and whether it goes on.
#[derive(Default)]
struct Entry {
    text: String,
    /// The line being read, as bytes until it ends.
    line: Vec<u8>,
    /// The session's line number of the first line; 0 while empty.
    first_line: u64,
    continuation: Continuation,
    refused: Option<Refused>,
    /// The refusal was reported.
    reported: bool,
    /// Lines joined into `text`.
    joined: u32,
}

impl Entry {
    fn started(&self) -> bool {
        self.first_line > 0
    }

    /// Adds a piece of the current line, session line `number`.
    fn push(&mut self, number: u64, bytes: &[u8]) {
        if self.first_line == 0 {
            self.first_line = number;
        }
        self.continuation.feed(bytes);
        if self.refused.is_none() {
            if self.text.len() + self.line.len() + bytes.len() + 1 > MAX_STATEMENT_BYTES {
                self.refused = Some(Refused::TooLong);
                self.text = String::new();
                self.line = Vec::new();
            } else {
                self.line.extend_from_slice(bytes);
            }
        }
    }

    /// Ends the current line; says what to report, once.
    fn end_line(&mut self) -> Option<Refused> {
        self.continuation.end_line();
        let line = std::mem::take(&mut self.line);
        if self.refused.is_none() {
            match String::from_utf8(line) {
                Ok(line) => {
                    // One text line per line read: positions stay true.
                    if self.joined > 0 {
                        self.text.push('\n');
                    }
                    self.joined += 1;
                    self.text.push_str(&line);
                }
                Err(_) => {
                    self.refused = Some(Refused::NotUtf8);
                    self.text = String::new();
                }
            }
        }
        match self.refused {
            Some(r) if !self.reported => {
                self.reported = true;
                Some(r)
            }
            _ => None,
        }
    }

    fn complete(&self) -> bool {
        !self.continuation.is_incomplete()
    }
}

/// Where lines come from: the terminal's line editor, or plain stdin.
enum Input {
    Terminal,
    Script(io::StdinLock<'static>),
}

/// A complete statement text: its first line in the session and the text.
struct Ready {
    first_line: u64,
    text: String,
}

/// Statements of an entry left to run after a `load` replaced the data.
struct Rest {
    first_line: u64,
    text: String,
    statements: Vec<Located>,
}

/// The session's state across loads: the editor, what is being typed, the
/// line count and the exit code so far.
struct Prompt<'o> {
    editor: Editor<ShellHelper, FileHistory>,
    input: Input,
    options: &'o ShellOptions,
    format: OutputFormat,
    entry: Entry,
    ready: std::collections::VecDeque<Ready>,
    rest: Option<Rest>,
    /// Lines read so far.
    lines: u64,
    /// Verdicts and errors so far: their wording and the exit code.
    results: Results,
}

/// Where error messages say the text came from.
const ORIGIN: &str = "input";

/// How running an entry ends.
enum Flow {
    Go,
    Exit,
    /// A `load` worked: the new data.
    Replace(Box<(AccessGraph, ImportReport)>),
}

impl Prompt<'_> {
    fn error(&mut self, message: impl std::fmt::Display) {
        self.results.other_error();
        let _ = writeln!(io::stderr(), "whocan: error: {message}");
    }

    /// A query error in the entry starting at `first_line`, at its real line.
    fn query_error(&mut self, e: &QueryError, first_line: u64, text: &str) {
        let rendered = self.results.error(e, ORIGIN, text, first_line);
        let _ = writeln!(io::stderr(), "whocan: error: {rendered}");
    }

    /// Reads one line (at a terminal: one entry of the editor). False at
    /// the end of input.
    fn read(&mut self) -> Result<bool, ReadlineError> {
        match &mut self.input {
            Input::Terminal => {
                let prompt = if self.entry.started() {
                    "   ...> "
                } else {
                    "whocan> "
                };
                // The completer sees the statement's earlier lines.
                if let Some(h) = self.editor.helper_mut() {
                    h.pending.replace(std::mem::take(&mut self.entry.text));
                }
                let read = self.editor.readline(prompt);
                if let Some(h) = self.editor.helper_mut() {
                    self.entry.text = h.pending.take();
                }
                match read {
                    Ok(text) => {
                        // A bracketed paste may bring several lines at once.
                        for line in text.split('\n') {
                            self.end_line(line.as_bytes());
                        }
                        Ok(true)
                    }
                    // Ctrl-C cancels the entry being typed.
                    Err(ReadlineError::Interrupted) => {
                        self.entry = Entry::default();
                        Ok(true)
                    }
                    Err(ReadlineError::Eof) => Ok(false),
                    Err(ReadlineError::Io(e)) if e.kind() == io::ErrorKind::InvalidData => {
                        self.lines += 1;
                        self.entry = Entry::default();
                        let n = self.lines;
                        self.error(format_args!(
                            "{ORIGIN}:{n}: the line is not valid UTF-8; it was not run"
                        ));
                        Ok(true)
                    }
                    Err(e) => Err(e),
                }
            }
            Input::Script(stdin) => {
                // Read in pieces: a line longer than the cap is followed to
                // its end without being held.
                let number = self.lines + 1;
                let mut any = false;
                loop {
                    let buf = stdin.fill_buf()?;
                    if buf.is_empty() {
                        if !any {
                            return Ok(false);
                        }
                        break;
                    }
                    any = true;
                    if let Some(i) = memchr::memchr(b'\n', buf) {
                        self.entry.push(number, &buf[..i]);
                        stdin.consume(i + 1);
                        break;
                    }
                    let n = buf.len();
                    self.entry.push(number, buf);
                    stdin.consume(n);
                }
                self.end_line(&[]);
                Ok(true)
            }
        }
    }

    /// Ends a line whose last bytes are `rest`; queues the statement when
    /// it is complete.
    fn end_line(&mut self, rest: &[u8]) {
        self.lines += 1;
        let number = self.lines;
        self.entry.push(number, rest);
        match self.entry.end_line() {
            None => {}
            Some(Refused::NotUtf8) => self.error(format_args!(
                "{ORIGIN}:{number}: the line is not valid UTF-8; the statement was not run"
            )),
            Some(Refused::TooLong) => {
                let first = self.entry.first_line;
                self.error(format_args!(
                    "{ORIGIN}:{first}: the statement is longer than {} MiB; it was not run",
                    MAX_STATEMENT_BYTES >> 20
                ));
            }
        }
        if self.entry.complete() {
            let entry = std::mem::take(&mut self.entry);
            if entry.refused.is_none() && !entry.text.trim().is_empty() {
                self.ready.push_back(Ready {
                    first_line: entry.first_line,
                    text: entry.text,
                });
            }
        }
    }

    /// At the end of input: a statement still open is an error.
    fn unfinished(&mut self) {
        let entry = std::mem::take(&mut self.entry);
        if !entry.started() || entry.complete() || entry.refused.is_some() {
            return;
        }
        let first = entry.first_line;
        let line = |p: whocan::query::ast::Pos| first + u64::from(p.line) - 1;
        if let Some(p) = entry.continuation.open_brace() {
            self.error(format_args!(
                "{ORIGIN}:{}:{}: `{{` is never closed; the statement from line {first} to the end of input was not run",
                line(p),
                p.column
            ));
        } else if let Some(p) = entry.continuation.trailing_backslash() {
            self.error(format_args!(
                "{ORIGIN}:{}:{}: the trailing `\\` continues the statement past the end of input; it was not run",
                line(p),
                p.column
            ));
        }
    }

    /// Runs the statements of an entry.
    fn run_statements(
        &mut self,
        engine: &Engine,
        graph: &AccessGraph,
        report: &ImportReport,
        loader: Loader,
        rest: Rest,
    ) -> Flow {
        let Rest {
            first_line,
            text,
            statements,
        } = rest;
        let stdout = io::stdout();
        let mut statements = statements.into_iter();
        while let Some(st) = statements.next() {
            let mut out = stdout.lock();
            let executed = match execute(engine, &st, &mut self.format, &mut out, &mut io::stderr())
            {
                Ok(x) => x,
                Err(e) => {
                    drop(out);
                    self.error(format_args!("cannot write output: {e}"));
                    continue;
                }
            };
            let _ = out.flush();
            drop(out);
            match executed {
                Executed::Done => {}
                Executed::Expect(v) => {
                    if let Some(line) = self.results.verdict(&st, &v) {
                        let _ = io::stdout().write_all(line.as_bytes());
                    }
                }
                Executed::Error(e) => self.query_error(&e, first_line, &text),
                Executed::Load(files) => {
                    let files: Vec<PathBuf> = files.into_iter().map(PathBuf::from).collect();
                    match loader(&files) {
                        Ok((g, r)) => {
                            self.rest = Some(Rest {
                                first_line,
                                text,
                                statements: statements.collect(),
                            });
                            return Flow::Replace(Box::new((g, r)));
                        }
                        // The old data stays, and so does the engine built on it.
                        Err(message) => self.error(message),
                    }
                }
                Executed::Save(file) => {
                    let snapshot = whocan::snapshot::Snapshot::new(
                        graph.model().clone(),
                        report.clone(),
                        jiff::Timestamp::now().as_second(),
                    );
                    match whocan::snapshot::save(std::path::Path::new(&file), &snapshot) {
                        Ok(bytes) => {
                            let _ = writeln!(io::stderr(), "whocan: saved {file} ({bytes} bytes)");
                        }
                        Err(e) => self.error(e),
                    }
                }
                Executed::Quit => return Flow::Exit,
            }
        }
        Flow::Go
    }
}

fn banner(graph: &AccessGraph) {
    let m = graph.model();
    let _ = writeln!(
        io::stderr(),
        "whocan: {} entities, {} edges loaded; `help` for the language, Ctrl-D to exit",
        m.entities.len(),
        m.edges.len()
    );
}

/// Runs the prompt on `graph` (imported with `report`) until Ctrl-D or
/// `quit`; `load` swaps the data through `loader`, `save FILE` writes a
/// snapshot of it. Returns the exit code: at a terminal 0, or 2 when the
/// terminal fails; scripted (stdin not a terminal) also 1 after a failed
/// `expect` and 2 after a statement that could not run.
pub fn run(graph: AccessGraph, report: ImportReport, loader: Loader, options: ShellOptions) -> u8 {
    let config = Config::builder()
        .auto_add_history(false)
        .max_history_size(10_000)
        .map(|b| b.build())
        .unwrap_or_default();
    let editor: Editor<ShellHelper, FileHistory> = match Editor::with_config(config) {
        Ok(e) => e,
        Err(e) => {
            let _ = writeln!(io::stderr(), "whocan: error: cannot start the prompt: {e}");
            return 2;
        }
    };
    let scripted = !io::stdin().is_terminal();
    let mut prompt = Prompt {
        editor,
        input: if scripted {
            Input::Script(io::stdin().lock())
        } else {
            Input::Terminal
        },
        options: &options,
        format: options.format,
        entry: Entry::default(),
        ready: Default::default(),
        rest: None,
        lines: 0,
        results: Results::new(Style::Each),
    };
    if let Some(path) = &options.history {
        // A missing history file is normal on first use.
        let _ = prompt.editor.load_history(path);
    }
    let (mut graph, mut report) = (graph, report);
    banner(&graph);
    let failed = loop {
        match session(&mut prompt, &graph, &report, loader) {
            Ok(None) => break false,
            Ok(Some((g, r))) => {
                graph = g;
                report = r;
                banner(&graph);
            }
            Err(e) => {
                let _ = writeln!(io::stderr(), "whocan: error: {e}");
                break true;
            }
        }
    };
    save_history(&mut prompt.editor, &options);
    match (failed, scripted) {
        (true, _) => 2,
        (false, true) => prompt.results.code(),
        (false, false) => 0,
    }
}

fn save_history(editor: &mut Editor<ShellHelper, FileHistory>, options: &ShellOptions) {
    if let Some(path) = &options.history {
        if let Err(e) = editor.save_history(path) {
            let _ = writeln!(
                io::stderr(),
                "whocan: warning: cannot write history {}: {e}",
                path.display()
            );
        }
    }
}

/// Runs statements on one loaded graph until the end, `quit` (`None`) or a
/// `load` that worked (the new data).
fn session(
    prompt: &mut Prompt,
    graph: &AccessGraph,
    report: &ImportReport,
    loader: Loader,
) -> Result<Option<(AccessGraph, ImportReport)>, ReadlineError> {
    let engine = Engine::new(graph);
    prompt
        .editor
        .set_helper(Some(ShellHelper::new(Vocabulary::of(graph.model()))));
    let mut next = prompt.rest.take();
    loop {
        let rest = match next.take() {
            Some(rest) => rest,
            None => {
                let Some(ready) = prompt.ready.pop_front() else {
                    if !prompt.read()? {
                        prompt.unfinished();
                        return Ok(None);
                    }
                    continue;
                };
                let _ = prompt.editor.add_history_entry(ready.text.as_str());
                match parse_script(&ready.text) {
                    Ok(statements) => Rest {
                        first_line: ready.first_line,
                        text: ready.text,
                        statements,
                    },
                    Err(e) => {
                        prompt.query_error(&e, ready.first_line, &ready.text);
                        continue;
                    }
                }
            }
        };
        match prompt.run_statements(&engine, graph, report, loader, rest) {
            Flow::Go => {}
            Flow::Exit => return Ok(None),
            Flow::Replace(loaded) => {
                // The history so far survives whatever comes next.
                save_history(&mut prompt.editor, prompt.options);
                return Ok(Some(*loaded));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(w: &[&str]) -> Words {
        w.iter().map(|s| s.to_string()).collect::<Vec<_>>().into()
    }

    fn helper() -> ShellHelper {
        ShellHelper::new(Vocabulary {
            entities: words(&[
                "alice",
                "u-alice",
                "Alice Smith",
                "admins",
                "prod-db",
                "db-prod",
                "Network-Operations-Team",
            ]),
            ids: words(&["u-alice", "admins", "db-prod", "grp-netops"]),
            keys: words(&[
                "okta/u-alice",
                "okta/admins",
                "pg/db-prod",
                "okta/grp-netops",
            ]),
            sources: words(&["okta/", "pg/"]),
            permissions: words(&["admin", "read", "write"]),
            projects: words(&["Corp", "Payments Team"]),
            types: words(&["identity", "connection", "resource", "group", "database"]),
            people: words(&["W001", "Dana Lee"]),
        })
    }

    #[track_caller]
    fn check(line: &str, expected: &[&str]) {
        let (_, got) = helper().candidates(line, line.len());
        assert_eq!(got, expected, "completing {line:?}");
    }

    #[test]
    fn completes_statement_words_at_the_start() {
        check("wh", &["who", "what", "why"]);
        check("st", &["stats"]);
        check("stats; wh", &["who", "what", "why"]);
    }

    #[test]
    fn completes_entities_where_the_grammar_takes_one() {
        check("who can reach pr", &["prod-db"]);
        check("who can reach a", &["admins", "alice", "\"Alice Smith\""]);
        check("show \"Al", &["\"alice\"", "\"Alice Smith\""]);
        check("show netw", &["Network-Operations-Team"]);
        check(
            "why alice ",
            &[
                "admins",
                "alice",
                "\"Alice Smith\"",
                "db-prod",
                "Network-Operations-Team",
                "prod-db",
                "u-alice",
                "okta/",
                "pg/",
            ],
        );
    }

    #[test]
    fn issue_14_completes_permissions_after_with() {
        check(
            "who can reach prod-db with ",
            &["permission", "admin", "read", "write"],
        );
        check("who can reach prod-db with r", &["read"]);
        check("who can reach prod-db with permission w", &["write"]);
        check("what can alice reach with a", &["admin"]);
        check(
            "expect alice reaches prod-db with ",
            &["permission", "admin", "read", "write"],
        );
    }

    #[test]
    fn issue_14_completes_projects_after_in_project() {
        check(
            "who can reach prod-db in project ",
            &["Corp", "\"Payments Team\""],
        );
        check("who can reach prod-db in project p", &["\"Payments Team\""]);
        check("who can reach prod-db in ", &["project"]);
    }

    #[test]
    fn issue_14_completes_kinds_and_source_types_after_of_type() {
        check(
            "what can alice reach of type ",
            &["connection", "database", "group", "identity", "resource"],
        );
        check("what can alice reach of type d", &["database"]);
        check("what can alice reach of t", &["type"]);
    }

    #[test]
    fn issue_14_completes_modifiers_by_query() {
        check(
            "who can reach prod-db ",
            &["with", "in", "direct", "via", "limit"],
        );
        check("what can alice reach ", &["with", "of", "limit"]);
        check("why alice prod-db ", &["with", "limit"]);
        check("who ", &["owns", "can"]);
    }

    #[test]
    fn issue_14_completes_id_and_source_id_forms() {
        check(
            "show id:",
            &["id:admins", "id:db-prod", "id:grp-netops", "id:u-alice"],
        );
        check("show id:u", &["id:u-alice"]);
        check("show ok", &["okta/"]);
        check(
            "show okta/",
            &["okta/admins", "okta/grp-netops", "okta/u-alice"],
        );
        check("members of okta/g", &["okta/grp-netops"]);
    }

    #[test]
    fn issue_14_completes_file_names_after_load_and_save() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("org.csv"), "").unwrap();
        std::fs::write(dir.path().join("org map.toml"), "").unwrap();
        std::fs::create_dir(dir.path().join("snaps")).unwrap();
        let d = format!("{}/", dir.path().display());
        let (_, got) = helper().candidates(&format!("load {d}o"), 5 + d.len() + 1);
        assert_eq!(got, [format!("\"{d}org map.toml\""), format!("{d}org.csv")]);
        let line = format!("load {d}org.csv {d}s");
        let (_, got) = helper().candidates(&line, line.len());
        assert_eq!(got, [format!("{d}snaps/")]);
        let line = format!("save {d}");
        let (_, got) = helper().candidates(&line, line.len());
        assert_eq!(got.len(), 3, "{got:?}");
    }

    #[test]
    fn completes_people_help_topics_and_formats() {
        check("manager of d", &["\"Dana Lee\""]);
        check("help wh", &["who", "what", "why", "whatif"]);
        check("format j", &["json", "jsonl"]);
    }

    #[test]
    fn completes_inside_a_statement_continued_over_lines() {
        let h = helper();
        h.pending
            .replace("expect members of admins = {\n  alice,".into());
        let (start, got) = h.candidates("  u-a", 5);
        assert_eq!((start, got), (2, vec!["u-alice".to_string()]));
    }

    /// Completion through rustyline's own `Completer` interface, as the
    /// editor calls it (was `tests/query_shell.rs` before the prompt moved
    /// into the binary).
    mod through_rustyline {
        use super::super::*;
        use rustyline::history::MemHistory;

        #[track_caller]
        fn complete(line: &str) -> (usize, Vec<String>) {
            let words = |w: &[&str]| -> Words {
                w.iter().map(|s| s.to_string()).collect::<Vec<_>>().into()
            };
            let helper = ShellHelper::new(Vocabulary {
                entities: words(&[
                    "alice",
                    "u-alice",
                    "Network Operations",
                    "prod-db",
                    "db-prod",
                ]),
                permissions: words(&["admin", "read"]),
                ..Vocabulary::default()
            });
            let history = MemHistory::new();
            let ctx = Context::new(&history);
            let (start, pairs) = helper.complete(line, line.len(), &ctx).unwrap();
            (start, pairs.into_iter().map(|p| p.replacement).collect())
        }

        #[test]
        fn completer_offers_what_the_grammar_takes_there() {
            assert_eq!(complete("mem"), (0, vec!["members".to_string()]));
            // The target of `why`: an entity, not the keyword `project`.
            assert_eq!(complete("why alice pr"), (10, vec!["prod-db".to_string()]));
            assert_eq!(
                complete("members of net"),
                (11, vec!["\"Network Operations\"".to_string()])
            );
            assert_eq!(complete("show \"u-a"), (5, vec!["\"u-alice\"".to_string()]));
            assert_eq!(
                complete("show \"Network O"),
                (5, vec!["\"Network Operations\"".to_string()])
            );
            assert_eq!(complete("format ta"), (7, vec!["table".to_string()]));
            assert_eq!(complete("stats; wh").1, vec!["who", "what", "why"]);
            assert_eq!(
                complete("who can reach prod-db with ").1,
                vec!["permission", "admin", "read"]
            );
        }
    }
}
