//! The command line: clap types, loading data, output files, progress and
//! exit codes. One file per subcommand; this module holds what they share.
//!
//! Only `cli` prints, adds context to errors and picks exit codes: 0 ok,
//! 1 findings / failed assertions, 2 bad usage or bad input.

mod bench_queries;
mod bench_whatif;
mod completions;
mod diff;
mod export;
mod findings;
mod generate;
mod import;
mod map;
mod people;
mod query;
mod report;
mod results;
mod review;
mod run;
mod shell;
mod snapshot;
mod stats;
mod stdin;
mod whatif;
mod why;

use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use whocan::graph::AccessGraph;
use whocan::import::inputs::{Inputs, Loaded, Observer};
use whocan::import::{ImportReport, ProgressHook};
use whocan::report::Format;

/// whocan: who can reach what, through which group, from the CSV exports you
/// already have.
#[derive(Parser, Debug)]
#[command(name = "whocan", version, about, long_about = None)]
pub struct Cli {
    /// When to colour messages: auto (stderr is a terminal and none of
    /// NO_COLOR, CLICOLOR=0, TERM=dumb is set), always, never.
    #[arg(
        long,
        global = true,
        value_enum,
        value_name = "WHEN",
        default_value_t = ColorWhen::Auto
    )]
    color: ColorWhen,
    #[command(subcommand)]
    command: Command,
}

/// `--color`: when messages are coloured.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorWhen {
    /// On a terminal, unless NO_COLOR, CLICOLOR=0 or TERM=dumb says not
    /// (CLICOLOR_FORCE=1 colours even off a terminal).
    Auto,
    /// Always, whatever the environment.
    Always,
    /// Never.
    Never,
}

/// This run's `--color` (0 auto, 1 always, 2 never).
static COLOR: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(0);

/// Whether messages on stderr are coloured in this run.
fn stderr_colored() -> bool {
    let when = match COLOR.load(std::sync::atomic::Ordering::Relaxed) {
        1 => ColorWhen::Always,
        2 => ColorWhen::Never,
        _ => ColorWhen::Auto,
    };
    color_allowed(when, io::stderr().is_terminal(), |k| std::env::var_os(k))
}

/// Whether to colour, given `--color`, whether the stream is a terminal and
/// the environment (`var`): NO_COLOR (any non-empty value) turns colour
/// off, CLICOLOR_FORCE (not `0`) on, CLICOLOR=0 and TERM=dumb off. The
/// flag, when not `auto`, wins over all of them.
pub fn color_allowed(
    when: ColorWhen,
    terminal: bool,
    var: impl Fn(&str) -> Option<std::ffi::OsString>,
) -> bool {
    let set = |key: &str| var(key).filter(|v| !v.is_empty());
    match when {
        ColorWhen::Always => true,
        ColorWhen::Never => false,
        ColorWhen::Auto if set("NO_COLOR").is_some() => false,
        ColorWhen::Auto if set("CLICOLOR_FORCE").is_some_and(|v| v != "0") => true,
        ColorWhen::Auto if set("CLICOLOR").is_some_and(|v| v == "0") => false,
        ColorWhen::Auto if set("TERM").is_some_and(|v| v == "dumb") => false,
        ColorWhen::Auto => terminal,
    }
}

/// `--color` read from the raw arguments, for clap's own messages (printed
/// before the arguments are parsed): the last one given before `--`.
fn color_in_args() -> clap::ColorChoice {
    let mut choice = clap::ColorChoice::Auto;
    let mut args = std::env::args_os().skip(1);
    while let Some(arg) = args.next() {
        let value = match arg.to_str() {
            Some("--") => break,
            Some("--color") => args.next(),
            Some(a) => a.strip_prefix("--color=").map(Into::into),
            None => None,
        };
        match value.as_ref().and_then(|v| v.to_str()) {
            Some("always") => choice = clap::ColorChoice::Always,
            Some("never") => choice = clap::ColorChoice::Never,
            Some("auto") => choice = clap::ColorChoice::Auto,
            _ => {}
        }
    }
    choice
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Import files and print the import report (rows read, accepted,
    /// rejected with file:line:column and reason, entities, edges, conflicts).
    Import(import::ImportArgs),
    /// Write a derived-access report.
    #[command(subcommand)]
    Report(report::ReportCommand),
    /// Print statistics of the loaded graph, including nesting cycles.
    Stats(stats::StatsArgs),
    /// Answer queries once: `whocan query FILES… -e 'who can reach prod-db'`.
    Query(query::QueryArgs),
    /// Every path from an identity to a target, with providers and file:line.
    Why(why::WhyArgs),
    /// The interactive prompt: history, Tab completion, `help`.
    Shell(shell::ShellArgs),
    /// Run a query file with assertions; exit 1 when one fails.
    Run(run::RunArgs),
    /// Time who / what / why questions in-process; print one JSON object.
    BenchQueries(bench_queries::BenchArgs),
    /// Write a deterministic synthetic organisation (19-column CSV) for
    /// benchmarks and demos.
    Generate(generate::GenerateArgs),
    /// Save the graph, provenance and import report to one verifiable
    /// snapshot file; verify a snapshot; print its metadata.
    Snapshot(snapshot::SnapshotArgs),
    /// List effective-access changes (granted, revoked, re-attributed) and
    /// entity changes between two snapshots or CSV sets.
    Diff(diff::DiffArgs),
    /// Export the model for other tools: `--to parquet -o DIR` (entities,
    /// edges, employees, links as Parquet tables) or `--to opengraph -o
    /// FILE` (one BloodHound OpenGraph document).
    Export(export::ExportArgs),
    /// Work with mapping files for arbitrary CSV (`FILE.csv:MAPPING.toml`).
    #[command(subcommand)]
    Map(map::MapCommand),
    /// Identities and the employees they belong to: `people unmapped`
    /// writes the CSV to fill in for `--people-map`.
    #[command(subcommand)]
    People(people::PeopleCommand),
    /// Audit findings (orphaned, ownerless, departed, dormant, privileged
    /// without MFA, disabled connections, data quality) with evidence and a
    /// fix hint; `--fail-on SEVERITY` exits 1 when one is found.
    Findings(findings::FindingsArgs),
    /// Access-review pages: one self-contained HTML page per manager,
    /// source or resource, with Keep / Revoke decisions saved as CSV;
    /// `review decisions` reads them back into a revocation list.
    Review(review::ReviewArgs),
    /// What edits would change before they are made: `--remove 'Y -> G'`,
    /// `--add 'Y -> G [P]'`, `--remove-connection G` (granted, revoked,
    /// re-attributed; kept through another path).
    Whatif(whatif::WhatIfArgs),
    /// Time single-edge what-if questions against a full re-expansion and
    /// diff; print one JSON object (a benchmark for bench/run).
    #[command(hide = true)]
    BenchWhatif(bench_whatif::BenchWhatifArgs),
    /// Print the shell completion script for bash, zsh, fish, elvish or
    /// powershell.
    Completions(completions::CompletionsArgs),
    /// Print the manual page (roff), or write one page per command with
    /// `--dir`.
    Man(completions::ManArgs),
}

/// Input files shared by every command that takes data.
#[derive(Args, Debug, Clone)]
pub struct DataArgs {
    /// Input files: 19-column CSV (`-` for stdin), `FILE.csv:MAPPING.toml`
    /// pairs (any CSV read through a mapping file), or one whocan snapshot
    /// (recognised by its content, whatever its name); a snapshot given with
    /// CSV files is a base in which each CSV's source is replaced whole.
    /// `NAME=FILE` names one CSV file's source (`okta=okta-2026-01.csv`,
    /// `app=users.csv:app.toml`, `okta=-`), over `--source` and the
    /// mapping's `source`.
    #[arg(required = true, value_name = "FILES")]
    pub files: Vec<PathBuf>,
    /// How the files are read.
    #[command(flatten)]
    pub options: DataOptions,
}

/// How input files are read: every data option but the files themselves
/// (`why` and `run` take their files in other positions).
#[derive(Args, Debug, Clone, Default)]
pub struct DataOptions {
    /// Source name for every file given without its own `NAME=` (default:
    /// the mapping's `source`, else each file's stem).
    #[arg(long, value_name = "NAME")]
    pub source: Option<String>,
    /// Read every CSV file given without its own `:MAPPING.toml` through this
    /// mapping file.
    #[arg(long, value_name = "MAPPING.toml")]
    pub mapping: Option<PathBuf>,
    /// Identity-to-employee mapping CSV (`whocan people unmapped`, filled in:
    /// Employee Email and Relation IS / OWNS); may be repeated.
    #[arg(long = "people-map", value_name = "FILE.csv")]
    pub people_map: Vec<PathBuf>,
    /// Link identities to employees by mapping rows only, not by matching
    /// emails and usernames.
    #[arg(long)]
    pub no_auto_map: bool,
}

impl DataArgs {
    /// The inputs to load, as the library takes them.
    pub fn inputs(&self) -> Inputs {
        Inputs {
            files: self.files.clone(),
            source: self.options.source.clone(),
            mapping: self.options.mapping.clone(),
            people_map: self.options.people_map.clone(),
            no_auto_map: self.options.no_auto_map,
        }
    }
}

/// Output options shared by every command that prints results.
#[derive(Args, Debug, Clone)]
pub struct OutputArgs {
    /// Output format (default: from -o FILE's extension: .csv, .json,
    /// .jsonl / .ndjson, .txt for table; else table, and csv for reports
    /// written anywhere but a terminal).
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Write to FILE instead of stdout (replaced atomically; never an input).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

impl OutputArgs {
    /// The format to write: `--format`, else what [`chosen_format`] picks
    /// for `shape`.
    pub fn format(&self, shape: Shape) -> Format {
        chosen_format(self.format, self.output.as_deref(), shape)
    }
}

/// What a command writes, for the format it gets without `--format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// Rows for other programs (`report access`, `findings`, `diff`): a
    /// table on a terminal, CSV anywhere else.
    Report,
    /// Answers and summaries to read (`import`, `stats`, `query`, `why`,
    /// `run`, `snapshot info`): a table unless `-o FILE`'s extension names
    /// another format.
    Answer,
}

/// The format of one output: `explicit` (`--format`) when given, else the
/// one `-o FILE`'s extension names (`.csv`, `.json`, `.jsonl` / `.ndjson`,
/// `.txt` for table, `.dot` / `.gv`, `.mmd` / `.mermaid` where `F` has
/// them), else the default for `shape`. An extension that names no format
/// of `F` gets the default, with a note on stderr.
pub fn chosen_format<F: clap::ValueEnum>(
    explicit: Option<F>,
    output: Option<&Path>,
    shape: Shape,
) -> F {
    if let Some(format) = explicit {
        return format;
    }
    let file = output.filter(|p| *p != Path::new("-"));
    let default = match shape {
        Shape::Answer => "table",
        Shape::Report if file.is_none() && io::stdout().is_terminal() => "table",
        Shape::Report => "csv",
    };
    let named = |name: &str| F::from_str(name, true).ok();
    if let Some((path, ext)) = file.and_then(|p| Some((p, p.extension()?))) {
        let ext = ext.to_string_lossy().to_ascii_lowercase();
        let name = match ext.as_str() {
            "csv" => "csv",
            "json" => "json",
            "jsonl" | "ndjson" => "jsonl",
            "txt" => "table",
            "dot" | "gv" => "dot",
            "mmd" | "mermaid" => "mermaid",
            "parquet" => "parquet",
            _ => "",
        };
        if let Some(format) = named(name) {
            return format;
        }
        note(&format!(
            "{}: .{ext} names no output format; writing {default} (--format chooses one)",
            path.display()
        ));
    }
    named(default).expect("every format has table and csv")
}

/// A failure with its exit code; the message goes to stderr.
#[derive(Debug)]
pub struct Failure {
    /// Exit code: 1 or 2.
    pub code: u8,
    /// What to print.
    pub message: String,
}

impl Failure {
    /// Bad usage or bad input: exit 2.
    pub fn input(message: impl Into<String>) -> Failure {
        Failure {
            code: 2,
            message: message.into(),
        }
    }
}

impl<E: std::error::Error> From<E> for Failure {
    fn from(e: E) -> Failure {
        Failure::input(whocan::import::inputs::error_chain(&e))
    }
}

/// Result of a subcommand: the exit code on success.
pub type Outcome = Result<u8, Failure>;

/// Parses arguments, runs the command, prints errors, returns the exit code.
pub fn run() -> u8 {
    use clap::{CommandFactory, FromArgMatches};
    let mut command = Cli::command().color(color_in_args());
    let parsed = command
        .try_get_matches_from_mut(std::env::args_os())
        .and_then(|m| Cli::from_arg_matches(&m));
    let cli = match parsed {
        Ok(cli) => cli,
        Err(e) => {
            let e = e.format(&mut command);
            let _ = e.print();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    let color = match cli.color {
        ColorWhen::Auto => 0,
        ColorWhen::Always => 1,
        ColorWhen::Never => 2,
    };
    COLOR.store(color, std::sync::atomic::Ordering::Relaxed);
    let outcome = match cli.command {
        Command::Import(args) => import::run(args),
        Command::Report(cmd) => report::run(cmd),
        Command::Stats(args) => stats::run(args),
        Command::Query(args) => query::run(args),
        Command::Why(args) => why::run(args),
        Command::Shell(args) => shell::run(args),
        Command::Run(args) => run::run(args),
        Command::BenchQueries(args) => bench_queries::run(args),
        Command::Generate(args) => generate::run(args),
        Command::Snapshot(args) => snapshot::run(args),
        Command::Diff(args) => diff::run(args),
        Command::Export(args) => export::run(args),
        Command::Map(cmd) => map::run(cmd),
        Command::People(cmd) => people::run(cmd),
        Command::Findings(args) => findings::run(args),
        Command::Review(args) => review::run(args),
        Command::Whatif(args) => whatif::run(args),
        Command::BenchWhatif(args) => bench_whatif::run(args),
        Command::Completions(args) => completions::completions(args),
        Command::Man(args) => completions::man(args),
    };
    match outcome {
        Ok(code) => code,
        Err(f) if f.message.is_empty() => f.code,
        Err(f) => {
            error(&f.message);
            f.code
        }
    }
}

/// Prints `whocan: error: …` to stderr, the label in red when colour is on
/// (`--color`, see [`color_allowed`]). Control characters in the message
/// (names from the data) are escaped, as in every human-facing output.
pub fn error(message: &str) {
    let color = stderr_colored();
    let label = if color {
        "\x1b[1;31merror\x1b[0m"
    } else {
        "error"
    };
    let _ = writeln!(
        io::stderr(),
        "whocan: {label}: {}",
        whocan::report::escape_lines(message)
    );
}

/// Prints `whocan: …` to stderr: a remark, not a problem.
pub fn note(message: &str) {
    let _ = writeln!(
        io::stderr(),
        "whocan: {}",
        whocan::report::escape_lines(message)
    );
}

/// Prints `whocan: warning: …` to stderr, the label in yellow when colour
/// is on.
pub fn warn(message: &str) {
    let color = stderr_colored();
    let label = if color {
        "\x1b[1;33mwarning\x1b[0m"
    } else {
        "warning"
    };
    let _ = writeln!(
        io::stderr(),
        "whocan: {label}: {}",
        whocan::report::escape_lines(message)
    );
}

/// A spinner on stderr while long work runs, only when stderr is a terminal.
pub struct Progress(Option<indicatif::ProgressBar>);

impl Progress {
    /// Starts a spinner showing `message`.
    pub fn start(message: impl Into<String>) -> Progress {
        if !io::stderr().is_terminal() {
            return Progress(None);
        }
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_message(message.into());
        bar.enable_steady_tick(Duration::from_millis(120));
        Progress(Some(bar))
    }

    /// Changes the message.
    pub fn set(&self, message: impl Into<String>) {
        if let Some(bar) = &self.0 {
            bar.set_message(message.into());
        }
    }

    /// Shows a bar of `total` bytes labelled `message`, from zero (a byte
    /// count alone when the total is unknown), and returns the function that
    /// moves it, for the work to call as it goes; `None` when nothing is
    /// drawn, so the work pays nothing.
    pub fn bytes(&self, message: impl Into<String>, total: Option<u64>) -> Option<ProgressHook> {
        let bar = self.0.as_ref()?;
        let template = match total {
            Some(_) => "{spinner} {msg} [{bar:30}] {bytes}/{total_bytes} ({bytes_per_sec}, {eta})",
            None => "{spinner} {msg} {bytes} ({bytes_per_sec})",
        };
        if let Ok(style) = indicatif::ProgressStyle::with_template(template) {
            bar.set_style(style.progress_chars("=> "));
        }
        match total {
            Some(total) => bar.set_length(total),
            None => bar.unset_length(),
        }
        bar.set_position(0);
        bar.set_message(message.into());
        let bar = bar.clone();
        Some(std::sync::Arc::new(move |done| bar.set_position(done)))
    }

    /// Turns the spinner into a determinate bar of `total` `unit`s.
    pub fn bar(&self, total: u64, unit: &str) {
        if let Some(bar) = &self.0 {
            let template =
                format!("{{msg}} [{{bar:30}}] {{human_pos}}/{{human_len}} {unit} ({{eta}})");
            if let Ok(style) = indicatif::ProgressStyle::with_template(&template) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.set_length(total);
            bar.set_position(0);
        }
    }

    /// Moves a bar to `done` and sets its message.
    pub fn advance(&self, done: u64, message: impl FnOnce() -> String) {
        if let Some(bar) = &self.0 {
            bar.set_position(done);
            bar.set_message(message());
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}

/// Imports every file, continuing past refused files so one run reports
/// every problem (see [`whocan::import::inputs::load`]), with progress on
/// stderr. Refused files are listed in the report.
pub fn import_all(data: &DataArgs) -> (whocan::model::Model, ImportReport) {
    let loaded = import_replacing(data);
    (loaded.model, loaded.report)
}

/// [`import_all`], also saying what a re-upload changed: one snapshot given
/// with CSV files is the base, and each CSV's source replaces that source in
/// it entirely (the reference's full re-upload; see `whocan::replace`).
pub fn import_replacing(data: &DataArgs) -> Loaded {
    note_inputs(data);
    whocan::import::inputs::load(&data.inputs(), &Spinner::default())
}

/// Draws [`whocan::import::inputs::load`]'s progress: a spinner while a
/// snapshot loads, and while CSV files import a byte bar per file.
#[derive(Default)]
struct Spinner(std::cell::RefCell<Option<Progress>>);

impl Observer for Spinner {
    fn loading_snapshot(&self, path: &Path) {
        *self.0.borrow_mut() = Some(Progress::start(format!("loading {}", path.display())));
    }

    fn snapshot_loaded(&self) {
        self.0.borrow_mut().take();
    }

    fn importing_started(&self) {
        *self.0.borrow_mut() = Some(Progress::start("importing"));
    }

    fn importing_file(&self, csv: &Path, total: Option<u64>) -> Option<ProgressHook> {
        let progress = self.0.borrow();
        progress
            .as_ref()?
            .bytes(format!("importing {}", csv.display()), total)
    }

    fn merging(&self) {
        if let Some(progress) = self.0.borrow().as_ref() {
            progress.set("merging rows into edges");
        }
    }

    fn importing_finished(&self) {
        self.0.borrow_mut().take();
    }
}

/// Loads data for a query or report: refused files are an error (exit 2),
/// rejected rows a one-line warning pointing at `whocan import`.
pub fn load(data: &DataArgs) -> Result<Graph, Failure> {
    loaded(import_all(data))
}

/// A loaded data set: its graph and import report.
pub type Graph = (AccessGraph, ImportReport);

/// Two data sets loaded at once (the sides of a diff), with one spinner;
/// notes and warnings are printed in order, the first set's first.
pub fn load_two(first: &DataArgs, second: &DataArgs) -> Result<(Graph, Graph), Failure> {
    note_inputs(first);
    note_inputs(second);
    let progress = Progress::start("loading");
    let quiet = |data: &DataArgs| {
        let loaded = whocan::import::inputs::load(&data.inputs(), &whocan::import::inputs::Quiet);
        (loaded.model, loaded.report)
    };
    let (a, b) = rayon::join(|| quiet(first), || quiet(second));
    drop(progress);
    Ok((loaded(a)?, loaded(b)?))
}

/// An imported data set as a graph, its rejections warned about; refused
/// files fail it.
fn loaded((model, report): (whocan::model::Model, ImportReport)) -> Result<Graph, Failure> {
    let refused: Vec<String> = report.refused().filter_map(|f| f.refused.clone()).collect();
    if !refused.is_empty() {
        return Err(Failure::input(refused.join("\nwhocan: error: ")));
    }
    let rejected = report.rows_rejected();
    if rejected > 0 {
        warn(&format!(
            "{rejected} row{} rejected; `whocan import` lists them with file:line:column",
            if rejected == 1 { "" } else { "s" }
        ));
    }
    let mapping_rejected = model.people_map.rejections.len();
    if mapping_rejected > 0 {
        warn(&format!(
            "{mapping_rejected} people-map row{} rejected; `whocan import` lists them with file:line:column",
            if mapping_rejected == 1 { "" } else { "s" }
        ));
    }
    Ok((AccessGraph::new(model), report))
}

/// Where output goes: stdout, or a file through the one output mechanism,
/// [`whocan::atomic::Destination`] (replaced atomically on success, never
/// an input, a device or FIFO written through, a symlink's target replaced).
pub struct Output {
    destination: Option<whocan::atomic::Destination>,
    writer: Box<dyn Write>,
}

impl Output {
    /// Opens `-o FILE` (a temporary file beside it, or the device itself)
    /// or stdout.
    pub fn open(path: Option<&Path>) -> Result<Output, Failure> {
        match path {
            None => Ok(Output {
                destination: None,
                writer: Box::new(io::BufWriter::with_capacity(1 << 20, io::stdout())),
            }),
            Some(path) if path == Path::new("-") => Output::open(None),
            Some(path) => {
                let (destination, file) = whocan::atomic::Destination::open(path)?;
                Ok(Output {
                    destination: Some(destination),
                    writer: Box::new(whocan::atomic::FileWriter::new(file)),
                })
            }
        }
    }

    /// The writer to render into.
    pub fn writer(&mut self) -> &mut dyn Write {
        &mut *self.writer
    }

    /// Flushes and, for a file, syncs and renames it into place. A closed
    /// pipe on stdout (`| head`) or on a FIFO is not an error.
    pub fn finish(mut self) -> Result<(), Failure> {
        match self.writer.flush() {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => return Ok(()),
            Err(e) => return Err(Failure::input(format!("cannot write output: {e}"))),
            Ok(()) => {}
        }
        drop(self.writer);
        if let Some(destination) = self.destination.take() {
            destination.commit()?;
        }
        Ok(())
    }
}

/// Records every file `data` reads (CSV files, `FILE.csv:MAPPING.toml`
/// pairs, `--mapping`, `--people-map`, stdin; the path of a `NAME=FILE`,
/// not the argument) as an input, so that no
/// output of this run replaces one (see [`whocan::atomic::note_input`]).
pub fn note_inputs(data: &DataArgs) {
    for path in data.inputs().paths() {
        whocan::atomic::note_input(&path);
    }
}

/// Maps a write error to a failure, treating a closed pipe as success.
pub fn written(result: io::Result<impl Sized>) -> Result<(), Failure> {
    match result {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Failure::input(format!("cannot write output: {e}"))),
    }
}

#[cfg(test)]
mod usage;

#[cfg(test)]
mod tests {
    use super::*;

    /// `color_allowed` with the environment `vars`.
    fn allowed(when: ColorWhen, terminal: bool, vars: &[(&str, &str)]) -> bool {
        color_allowed(when, terminal, |key| {
            vars.iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| std::ffi::OsString::from(v))
        })
    }

    #[test]
    fn issue_14_colour_respects_no_color_term_dumb_and_clicolor() {
        use ColorWhen::*;
        assert!(allowed(Auto, true, &[]));
        assert!(allowed(Auto, true, &[("TERM", "xterm-256color")]));
        assert!(!allowed(Auto, false, &[]), "not a terminal");
        for off in [("NO_COLOR", "1"), ("TERM", "dumb"), ("CLICOLOR", "0")] {
            assert!(!allowed(Auto, true, &[off]), "{off:?}");
            assert!(
                allowed(Always, false, &[off]),
                "--color always wins over {off:?}"
            );
        }
        // An empty NO_COLOR does not count.
        assert!(allowed(Auto, true, &[("NO_COLOR", "")]));
        assert!(allowed(Auto, false, &[("CLICOLOR_FORCE", "1")]));
        assert!(!allowed(Auto, false, &[("CLICOLOR_FORCE", "0")]));
        assert!(!allowed(
            Auto,
            true,
            &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")]
        ));
        assert!(!allowed(Never, true, &[("CLICOLOR_FORCE", "1")]));
    }
}
