//! The interactive prompt (`whocan shell`): a rustyline loop over the one
//! query parser ([`crate::query::parse`]) and engine ([`crate::query::eval`]).
//!
//! Persistent history, Tab completion of commands and entity names / ids,
//! multi-line input (an open `{` or a trailing `\`), Ctrl-C cancels the line,
//! Ctrl-D exits. A bad query prints an error and the prompt stays up. When
//! stdin is not a terminal rustyline reads plain lines without a prompt, so
//! the shell can be scripted and tested through a pipe.
//!
//! Also home of [`execute`], the statement runner `whocan query` and
//! `whocan run` share with the prompt. Loading data is the caller's: the
//! shell gets a loader function, so this module reads only its history file
//! and writes only that and the snapshots `save` asks for.

use std::borrow::Cow;
use std::io::{self, Write};
use std::path::PathBuf;

use rustyline::completion::{Completer, Pair};
use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::history::FileHistory;
use rustyline::validate::{ValidationContext, ValidationResult, Validator};
use rustyline::{Config, Context, Editor, Helper};

use crate::graph::AccessGraph;
use crate::import::ImportReport;
use crate::query::ast::{Located, OutputFormat, Statement};
use crate::query::eval::Verdict;
use crate::query::parse::{KEYWORDS, STATEMENT_WORDS, is_incomplete, parse_script};
use crate::query::{Engine, HELP_TOPICS, QueryError, help};

/// What running one statement came to.
#[derive(Debug)]
pub enum Executed {
    /// Printed an answer, help, or switched format.
    Done,
    /// An expectation was checked.
    Expect(Verdict),
    /// The statement could not be answered (unknown entity, ambiguity, …).
    Error(QueryError),
    /// `load FILES…`: the caller replaces the data.
    Load(Vec<String>),
    /// `save FILE`: the caller writes a snapshot.
    Save(String),
    /// `quit` / `exit`.
    Quit,
}

/// Runs one statement against `engine`, printing answers to `out` (notes of
/// machine formats to `notes`). Expectations, errors and session commands
/// are returned for the caller to report.
pub fn execute(
    engine: &Engine,
    located: &Located,
    format: &mut OutputFormat,
    out: &mut dyn Write,
    notes: &mut dyn Write,
) -> io::Result<Executed> {
    match &located.statement {
        Statement::Ask(ask) => {
            // A query must never take the prompt down; a panic here is a bug,
            // reported as an error instead.
            let result =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| engine.eval(ask)));
            let evaluated = match result {
                Ok(Ok(ev)) => ev,
                Ok(Err(e)) => return Ok(Executed::Error(e)),
                Err(_) => {
                    return Ok(Executed::Error(QueryError::unsupported(
                        located.pos,
                        "internal error while answering this query (a bug; please report it)",
                    )));
                }
            };
            if let Err(message) = evaluated.answer.write(*format, out, notes)? {
                return Ok(Executed::Error(QueryError::unsupported(
                    located.pos,
                    message,
                )));
            }
            Ok(Executed::Done)
        }
        Statement::Expect(e) => Ok(match engine.check(e) {
            Ok(v) => Executed::Expect(v),
            Err(mut e) => {
                if e.pos == Default::default() {
                    e.pos = located.pos;
                }
                Executed::Error(e)
            }
        }),
        Statement::Help(topic) => match help(topic.as_deref()) {
            Ok(text) => {
                out.write_all(text.as_bytes())?;
                Ok(Executed::Done)
            }
            Err(message) => Ok(Executed::Error(QueryError::unsupported(
                located.pos,
                message,
            ))),
        },
        Statement::Format(f) => {
            *format = *f;
            Ok(Executed::Done)
        }
        Statement::Load(files) => Ok(Executed::Load(files.clone())),
        Statement::Save(file) => Ok(Executed::Save(file.clone())),
        Statement::Quit => Ok(Executed::Quit),
    }
}

fn fold_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    a.bytes()
        .map(|c| c.to_ascii_lowercase())
        .cmp(b.bytes().map(|c| c.to_ascii_lowercase()))
}

/// Tab completion, multi-line validation and nothing else.
pub struct ShellHelper {
    /// Entity ids and names as given, until the first completion sorts them.
    unsorted: std::cell::Cell<Vec<String>>,
    /// Entity ids and names, sorted ASCII-case-insensitively. Sorting a
    /// million names takes a moment, so it waits for the first Tab rather
    /// than delaying the prompt.
    words: std::cell::OnceCell<Vec<String>>,
}

impl ShellHelper {
    /// A helper completing these entity words (plus the language's keywords).
    pub fn new(words: Vec<String>) -> ShellHelper {
        ShellHelper {
            unsorted: std::cell::Cell::new(words),
            words: std::cell::OnceCell::new(),
        }
    }

    fn words(&self) -> &[String] {
        self.words.get_or_init(|| {
            let mut words = self.unsorted.take();
            words.sort_unstable_by(|a, b| fold_cmp(a, b).then_with(|| a.cmp(b)));
            words.dedup();
            words
        })
    }

    /// Candidates for the word ending at `pos`: (start of the word,
    /// replacements). Statement words at the start of a line, help topics
    /// after `help`, formats after `format`, otherwise keywords and entity
    /// names / ids. Names with spaces are offered quoted.
    pub fn candidates(&self, line: &str, pos: usize) -> (usize, Vec<String>) {
        const MAX: usize = 200;
        let before = &line[..pos];
        let start = before
            .rfind(|c: char| c.is_whitespace() || matches!(c, '{' | ',' | ';'))
            .map_or(0, |i| {
                i + before[i..].chars().next().map_or(1, char::len_utf8)
            });
        let word = &before[start..];
        let (quoted, prefix) = match word.strip_prefix(['"', '\'']) {
            Some(rest) => (true, rest),
            None => (false, word),
        };
        let previous: Vec<&str> = before[..start]
            .rsplit(';')
            .next()
            .unwrap_or("")
            .split_whitespace()
            .collect();
        let lower = prefix.to_ascii_lowercase();
        let mut out: Vec<String> = Vec::new();
        let keywords: Vec<&str> = match previous.last().map(|w| w.to_ascii_lowercase()) {
            None => STATEMENT_WORDS.to_vec(),
            Some(w) if w == "help" => HELP_TOPICS.to_vec(),
            Some(w) if w == "format" => OutputFormat::ALL.iter().map(|f| f.as_str()).collect(),
            Some(_) => KEYWORDS.to_vec(),
        };
        if !quoted {
            out.extend(
                keywords
                    .iter()
                    .filter(|k| k.starts_with(&lower))
                    .map(|k| k.to_string()),
            );
        }
        if !previous.is_empty()
            && !matches!(
                previous.last().map(|w| w.to_ascii_lowercase()).as_deref(),
                Some("help" | "format")
            )
        {
            let words = self.words();
            let from = words
                .partition_point(|w| w.bytes().map(|b| b.to_ascii_lowercase()).lt(lower.bytes()));
            for w in words[from..]
                .iter()
                .take_while(|w| {
                    w.len() >= lower.len()
                        && w.as_bytes()[..lower.len()].eq_ignore_ascii_case(lower.as_bytes())
                })
                .take(MAX)
            {
                if quoted
                    || w.contains(char::is_whitespace)
                    || w.contains(['"', '{', '}', ',', ';'])
                {
                    out.push(format!("\"{}\"", w.replace('"', "\\\"")));
                } else {
                    out.push(w.clone());
                }
            }
        }
        out.dedup();
        (start, out)
    }
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

impl Validator for ShellHelper {
    fn validate(&self, ctx: &mut ValidationContext) -> rustyline::Result<ValidationResult> {
        if is_incomplete(ctx.input()) {
            Ok(ValidationResult::Incomplete)
        } else {
            Ok(ValidationResult::Valid(None))
        }
    }
}

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

enum Next {
    Reload(Vec<PathBuf>),
    Exit,
}

/// Runs the prompt on `graph` (imported with `report`) until Ctrl-D or
/// `quit`; `load` swaps the data through `loader`, `save FILE` writes a
/// snapshot of it. Returns the exit code: 0, or 2 when the terminal fails.
pub fn run(graph: AccessGraph, report: ImportReport, loader: Loader, options: ShellOptions) -> u8 {
    let config = Config::builder()
        .auto_add_history(false)
        .max_history_size(10_000)
        .map(|b| b.build())
        .unwrap_or_default();
    let mut editor: Editor<ShellHelper, FileHistory> = match Editor::with_config(config) {
        Ok(e) => e,
        Err(e) => {
            let _ = writeln!(io::stderr(), "whocan: error: cannot start the prompt: {e}");
            return 2;
        }
    };
    if let Some(path) = &options.history {
        // A missing history file is normal on first use.
        let _ = editor.load_history(path);
    }
    let mut format = options.format;
    let (mut graph, mut report) = (graph, report);
    let code = loop {
        match session(&graph, &report, &mut editor, &mut format, &options) {
            Ok(Next::Exit) => break 0,
            Ok(Next::Reload(files)) => match loader(&files) {
                Ok((g, r)) => {
                    graph = g;
                    report = r;
                }
                Err(message) => {
                    let _ = writeln!(io::stderr(), "whocan: error: {message}");
                }
            },
            Err(e) => {
                let _ = writeln!(io::stderr(), "whocan: error: {e}");
                break 2;
            }
        }
    };
    save_history(&mut editor, &options);
    code
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

fn session(
    graph: &AccessGraph,
    report: &ImportReport,
    editor: &mut Editor<ShellHelper, FileHistory>,
    format: &mut OutputFormat,
    options: &ShellOptions,
) -> Result<Next, ReadlineError> {
    let engine = Engine::new(graph);
    editor.set_helper(Some(ShellHelper::new(engine.completion_words())));
    let m = graph.model();
    let _ = writeln!(
        io::stderr(),
        "whocan: {} entities, {} edges loaded; `help` for the language, Ctrl-D to exit",
        m.entities.len(),
        m.edges.len()
    );
    loop {
        let line = match editor.readline("whocan> ") {
            Ok(line) => line,
            // Ctrl-C cancels the line being typed.
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => return Ok(Next::Exit),
            Err(e) => return Err(e),
        };
        if line.trim().is_empty() {
            continue;
        }
        let _ = editor.add_history_entry(line.as_str());
        let statements = match parse_script(&line) {
            Ok(s) => s,
            Err(e) => {
                let _ = writeln!(io::stderr(), "whocan: error: {}", e.render("input", &line));
                continue;
            }
        };
        let stdout = io::stdout();
        for st in &statements {
            let mut out = stdout.lock();
            let executed = match execute(&engine, st, format, &mut out, &mut io::stderr()) {
                Ok(x) => x,
                Err(e) => {
                    let _ = writeln!(io::stderr(), "whocan: error: cannot write output: {e}");
                    continue;
                }
            };
            let _ = out.flush();
            drop(out);
            match executed {
                Executed::Done => {}
                Executed::Expect(v) => {
                    let _ = if v.passed {
                        writeln!(io::stdout(), "ok: {}", st.text)
                    } else {
                        writeln!(io::stdout(), "FAILED: {}\n  {}", st.text, v.detail)
                    };
                }
                Executed::Error(e) => {
                    let _ = writeln!(io::stderr(), "whocan: error: {}", e.render("input", &line));
                }
                Executed::Load(files) => {
                    save_history(editor, options);
                    return Ok(Next::Reload(files.into_iter().map(PathBuf::from).collect()));
                }
                Executed::Save(file) => {
                    let snapshot = crate::snapshot::Snapshot::new(
                        graph.model().clone(),
                        report.clone(),
                        jiff::Timestamp::now().as_second(),
                    );
                    let _ = match crate::snapshot::save(std::path::Path::new(&file), &snapshot) {
                        Ok(bytes) => writeln!(io::stderr(), "whocan: saved {file} ({bytes} bytes)"),
                        Err(e) => writeln!(io::stderr(), "whocan: error: {e}"),
                    };
                }
                Executed::Quit => return Ok(Next::Exit),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(line: &str, expected: &[&str]) {
        let helper = ShellHelper::new(vec![
            "alice".into(),
            "Alice Smith".into(),
            "admins".into(),
            "prod-db".into(),
            "Network-Operations-Team".into(),
        ]);
        let (_, got) = helper.candidates(line, line.len());
        assert_eq!(got, expected, "completing {line:?}");
    }

    #[test]
    fn completes_statement_words_at_the_start() {
        check("wh", &["who", "what", "why"]);
        check("st", &["stats"]);
    }

    #[test]
    fn completes_entity_names_and_keywords_after_the_first_word() {
        check("who can reach pr", &["project", "prod-db"]);
        check("who can reach a", &["admins", "alice", "\"Alice Smith\""]);
        check("show \"Al", &["\"alice\"", "\"Alice Smith\""]);
        check("show netw", &["Network-Operations-Team"]);
    }

    #[test]
    fn completes_help_topics_and_formats() {
        check("help wh", &["who", "what", "why"]);
        check("format j", &["json", "jsonl"]);
    }
}
