//! The command line: clap types, loading data, output files, progress and
//! exit codes. One file per subcommand; this module holds what they share.
//!
//! Only `cli` prints, adds context to errors and picks exit codes: 0 ok,
//! 1 findings / failed assertions, 2 bad usage or bad input.

mod bench_queries;
mod diff;
mod findings;
mod generate;
mod import;
mod map;
mod people;
mod query;
mod report;
mod run;
mod shell;
mod snapshot;
mod stats;
mod why;

use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::graph::AccessGraph;
use crate::import::{FileOptions, ImportReport, Importer};
use crate::report::Format;

/// whocan: who can reach what, through which group, from the CSV exports you
/// already have.
#[derive(Parser, Debug)]
#[command(name = "whocan", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
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
}

/// Input files shared by every command that takes data.
#[derive(Args, Debug, Clone)]
pub struct DataArgs {
    /// Input files: 19-column CSV (`-` for stdin), `FILE.csv:MAPPING.toml`
    /// pairs (any CSV read through a mapping file), or one whocan snapshot
    /// (recognised by its content, whatever its name); a snapshot given with
    /// CSV files is a base in which each CSV's source is replaced whole.
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
    /// Source name for every file given (default: the mapping's `source`,
    /// else each file's stem).
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

/// Splits `FILE.csv:MAPPING.toml` into its two paths: only when the whole
/// argument is not an existing file and the part after the last `:` is an
/// existing `.toml` file.
pub fn split_mapped(arg: &Path) -> Option<(PathBuf, PathBuf)> {
    if arg.exists() {
        return None;
    }
    let text = arg.to_str()?;
    let (csv, mapping) = text.rsplit_once(':')?;
    let mapping = Path::new(mapping);
    let is_toml = mapping
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("toml"));
    (is_toml && mapping.is_file()).then(|| (PathBuf::from(csv), mapping.to_path_buf()))
}

/// Output options shared by every command that prints results.
#[derive(Args, Debug, Clone)]
pub struct OutputArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Write to FILE instead of stdout (replaced atomically).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
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
        let mut message = e.to_string();
        let mut source = e.source();
        while let Some(s) = source {
            let text = s.to_string();
            if !message.contains(&text) {
                message.push_str(": ");
                message.push_str(&text);
            }
            source = s.source();
        }
        Failure::input(message)
    }
}

/// Result of a subcommand: the exit code on success.
pub type Outcome = Result<u8, Failure>;

/// Parses arguments, runs the command, prints errors, returns the exit code.
pub fn run() -> u8 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
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
        Command::Map(cmd) => map::run(cmd),
        Command::People(cmd) => people::run(cmd),
        Command::Findings(args) => findings::run(args),
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

/// Prints `whocan: error: …` to stderr, in red on a terminal unless
/// `NO_COLOR` is set. Control characters in the message (names from the
/// data) are escaped, as in every human-facing output.
pub fn error(message: &str) {
    let color =
        io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let label = if color {
        "\x1b[1;31merror\x1b[0m"
    } else {
        "error"
    };
    let _ = writeln!(
        io::stderr(),
        "whocan: {label}: {}",
        crate::report::escape_lines(message)
    );
}

/// Prints `whocan: …` to stderr: a remark, not a problem.
pub fn note(message: &str) {
    let _ = writeln!(
        io::stderr(),
        "whocan: {}",
        crate::report::escape_lines(message)
    );
}

/// Prints `whocan: warning: …` to stderr.
pub fn warn(message: &str) {
    let color =
        io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let label = if color {
        "\x1b[1;33mwarning\x1b[0m"
    } else {
        "warning"
    };
    let _ = writeln!(
        io::stderr(),
        "whocan: {label}: {}",
        crate::report::escape_lines(message)
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
    pub fn bytes(
        &self,
        message: impl Into<String>,
        total: Option<u64>,
    ) -> Option<crate::import::ProgressHook> {
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
/// every problem. Returns the importer's results; refused files are listed in
/// the report.
///
/// A single snapshot file (recognised by its first bytes, not its name)
/// stands in for the import: its model and import report come back exactly
/// as saved. A snapshot that fails to load, or one mixed with other files, is
/// a refused file in the report.
pub fn import_all(data: &DataArgs) -> (crate::model::Model, ImportReport) {
    let (model, report, _) = import_replacing(data);
    (model, report)
}

/// [`import_all`], also saying what a re-upload changed: one snapshot given
/// with CSV files is the base, and each CSV's source replaces that source in
/// it entirely (the reference's full re-upload; see `crate::replace`).
pub fn import_replacing(
    data: &DataArgs,
) -> (
    crate::model::Model,
    ImportReport,
    Vec<crate::replace::Replacement>,
) {
    let (mut model, mut report, replaced) = match load_snapshot_input(data) {
        SnapshotInput::None => {
            let (model, report) = import_csv(data);
            (model, report, Vec::new())
        }
        SnapshotInput::Only(model, report) => (model, report, Vec::new()),
        SnapshotInput::Base(base, base_report, others) => {
            let fresh = import_csv(&DataArgs {
                files: others,
                ..data.clone()
            });
            if fresh.1.refused().next().is_some() {
                // Nothing is replaced by files that could not be read.
                return (crate::model::Model::default(), fresh.1, Vec::new());
            }
            crate::replace::replace_sources((base, base_report), fresh)
        }
    };
    // Mapping rows are checked against the identities and employees just
    // loaded, so people maps are read last (see `people::load_map`).
    model.people_map.no_auto_map |= data.options.no_auto_map;
    for path in &data.options.people_map {
        if let Err(e) = crate::people::load_map(&mut model, path) {
            report.files.push(crate::import::FileReport {
                path: path.clone(),
                source: "people-map".into(),
                refused: Some(Failure::from(e).message),
                ..Default::default()
            });
        }
    }
    (model, report, replaced)
}

/// Imports CSV files (19-column or mapped).
fn import_csv(data: &DataArgs) -> (crate::model::Model, ImportReport) {
    let progress = Progress::start("importing");
    let mut importer = Importer::new();
    let opts = FileOptions {
        source: data.options.source.clone(),
    };
    for path in &data.files {
        let mapped =
            split_mapped(path).or_else(|| Some((path.clone(), data.options.mapping.clone()?)));
        let csv = mapped.as_ref().map_or(path, |(csv, _)| csv);
        let total = (csv.as_path() != Path::new("-"))
            .then(|| std::fs::metadata(csv).ok().filter(|m| m.is_file()))
            .flatten()
            .map(|m| m.len());
        if let Some(hook) = progress.bytes(format!("importing {}", csv.display()), total) {
            importer.set_progress(hook);
        }
        // A refused file is recorded in the report; keep going so one run
        // reports every problem.
        match mapped {
            None => {
                let _ = importer.import_path(path, &opts);
            }
            Some((csv, mapping)) => match crate::import::mapped::Mapping::load(&mapping) {
                Ok(mapping) => {
                    let _ = importer.import_mapped(&csv, &mapping, &opts);
                }
                Err(e) => importer.refuse(&csv, &opts, e.to_string()),
            },
        }
    }
    progress.set("merging rows into edges");
    importer.finish()
}

/// What the snapshot among the inputs is for.
enum SnapshotInput {
    /// Every input is CSV.
    None,
    /// The snapshot is the only input (or it could not be loaded: the model
    /// is empty and the report says why).
    Only(crate::model::Model, ImportReport),
    /// A snapshot given with CSV files: the base they replace sources of.
    Base(crate::model::Model, ImportReport, Vec<PathBuf>),
}

/// Loads the snapshot among `data.files`, if there is one. Two snapshots, or
/// `--source` with a snapshot alone, are refused.
fn load_snapshot_input(data: &DataArgs) -> SnapshotInput {
    // A file that cannot be opened is left to the importer, which reports it.
    let snapshots: Vec<&PathBuf> = data
        .files
        .iter()
        .filter(|p| p.as_path() != Path::new("-"))
        .filter(|p| crate::snapshot::is_snapshot_file(p).unwrap_or(false))
        .collect();
    let Some(first) = snapshots.first() else {
        return SnapshotInput::None;
    };
    let refuse = |path: &Path, reason: String| {
        let report = ImportReport {
            files: vec![crate::import::FileReport {
                path: path.to_path_buf(),
                source: crate::import::default_source(path),
                refused: Some(reason),
                ..Default::default()
            }],
            rejections: Vec::new(),
        };
        SnapshotInput::Only(crate::model::Model::default(), report)
    };
    if snapshots.len() > 1 {
        return refuse(
            first,
            format!(
                "{}: only one snapshot can be loaded at a time (to compare two, use `whocan diff OLD NEW`)",
                first.display()
            ),
        );
    }
    let others: Vec<PathBuf> = data.files.iter().filter(|p| p != first).cloned().collect();
    if data.options.source.is_some() && others.is_empty() {
        return refuse(
            first,
            format!(
                "{}: --source does not apply to a snapshot: it keeps the source names it was made with",
                first.display()
            ),
        );
    }
    let progress = Progress::start(format!("loading {}", first.display()));
    let loaded = crate::snapshot::load(first);
    drop(progress);
    match loaded {
        Ok(snapshot) if others.is_empty() => SnapshotInput::Only(snapshot.model, snapshot.report),
        Ok(snapshot) => SnapshotInput::Base(snapshot.model, snapshot.report, others),
        Err(e) => {
            let message = match e {
                // An I/O error already names the path.
                crate::snapshot::SnapshotError::Io { .. } => Failure::from(e).message,
                e => format!("{}: {}", first.display(), Failure::from(e).message),
            };
            refuse(first, message)
        }
    }
}

/// Loads data for a query or report: refused files are an error (exit 2),
/// rejected rows a one-line warning pointing at `whocan import`.
pub fn load(data: &DataArgs) -> Result<(AccessGraph, ImportReport), Failure> {
    let (model, report) = import_all(data);
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

/// Where output goes: stdout, or a file replaced atomically on success.
pub struct Output {
    target: Option<(PathBuf, tempfile::NamedTempFile)>,
    writer: Box<dyn Write>,
}

impl Output {
    /// Opens `-o FILE` (a temporary file beside it) or stdout.
    pub fn open(path: Option<&Path>) -> Result<Output, Failure> {
        match path {
            None => Ok(Output {
                target: None,
                writer: Box::new(io::BufWriter::with_capacity(1 << 20, io::stdout())),
            }),
            Some(path) if path == Path::new("-") => Output::open(None),
            Some(path) => {
                let tmp = crate::atomic::temp_beside(path)
                    .map_err(|e| Failure::input(format!("cannot write {}: {e}", path.display())))?;
                let file = tmp
                    .reopen()
                    .map_err(|e| Failure::input(format!("cannot write {}: {e}", path.display())))?;
                Ok(Output {
                    target: Some((path.to_path_buf(), tmp)),
                    writer: Box::new(crate::atomic::FileWriter::new(file)),
                })
            }
        }
    }

    /// The writer to render into.
    pub fn writer(&mut self) -> &mut dyn Write {
        &mut *self.writer
    }

    /// Flushes and, for a file, syncs and renames it into place. A closed
    /// pipe on stdout (`| head`) is not an error.
    pub fn finish(mut self) -> Result<(), Failure> {
        match self.writer.flush() {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => return Ok(()),
            Err(e) => return Err(Failure::input(format!("cannot write output: {e}"))),
            Ok(()) => {}
        }
        drop(self.writer);
        if let Some((path, tmp)) = self.target.take() {
            crate::atomic::commit(tmp, &path)
                .map_err(|e| Failure::input(format!("cannot write {}: {e}", path.display())))?;
        }
        Ok(())
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
