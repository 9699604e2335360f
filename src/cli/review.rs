//! `whocan review FILES… --by manager|source|resource -o DIR` (one
//! self-contained HTML page per reviewer scope and an index) and `whocan
//! review decisions FILES… --decisions D.csv… [-o revoke.csv]` (decisions
//! read back into a revocation list and a completion report).
//!
//! Rows, pages, digests and the checks live in `whocan::review`; this
//! module opens the files, prints and picks exit codes.

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};

use super::findings::{CheckArgs, now};
use super::{DataArgs, Failure, Outcome, Output, OutputArgs, Shape, load, written};
use whocan::report::{Table, plural};
use whocan::review::decisions::{self, Decisions};
use whocan::review::page::{Written, write_index, write_page};
use whocan::review::{By, Review};

/// Whose access each page lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum ByArg {
    /// One page per manager: their direct and indirect reports' access
    /// (HRIS employees linked to identities).
    Manager,
    /// One page per source (application), for its owner.
    Source,
    /// One page per resource: every identity reaching it.
    Resource,
}

/// Arguments of `whocan review`.
#[derive(Args, Debug)]
#[command(
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true,
    after_help = "Each page is one HTML file with its style, script and data inline: it opens \
from file:// and fetches nothing. Reviewers mark rows Keep or Revoke, comment, and download \
their decisions as CSV; `whocan review decisions` reads them back.\n\nExamples:\n  whocan \
review okta.csv hr.csv:hr.toml --by manager --as-of 2026-12-01 -o review/\n  whocan review \
decisions okta.csv hr.csv:hr.toml --as-of 2026-12-01 --decisions ann.csv -o revoke.csv"
)]
pub struct ReviewArgs {
    #[command(subcommand)]
    command: Option<ReviewCommand>,
    #[command(flatten)]
    data: DataArgs,
    /// Whose access each page lists.
    #[arg(long, value_enum, required = true)]
    by: Option<ByArg>,
    /// The directory to write `index.html` and the pages into (created
    /// when missing; each file replaced atomically).
    #[arg(short, long, value_name = "DIR", required = true)]
    output: Option<PathBuf>,
    /// "Now" for the findings and the page header (a date or timestamp;
    /// default: the current time, UTC). Part of each page's digest.
    #[arg(long, value_name = "DATE")]
    as_of: Option<String>,
    /// The findings shown on the pages are `whocan findings`' with these.
    #[command(flatten)]
    checks: CheckArgs,
}

/// `whocan review` subcommands.
#[derive(Subcommand, Debug)]
enum ReviewCommand {
    /// Read reviewers' decisions back: check each against the data (page
    /// digest, scope, grant), write the revocation list (the edge to
    /// remove for each revoked grant, with file:line) and print the
    /// completion of each page. Exit 1 when a decision is not applied or a
    /// row is rejected, 2 when a file cannot be read.
    Decisions(DecisionsArgs),
}

/// Arguments of `whocan review decisions`.
#[derive(Args, Debug)]
struct DecisionsArgs {
    #[command(flatten)]
    data: DataArgs,
    /// A decisions CSV downloaded from a review page (repeat for several).
    #[arg(long = "decisions", value_name = "FILE", required = true)]
    decisions: Vec<PathBuf>,
    #[command(flatten)]
    output: OutputArgs,
    /// The `--as-of` date the pages were made with (part of their digest).
    #[arg(long, value_name = "DATE")]
    as_of: Option<String>,
}

/// The review as of `--as-of`, with findings when `checks` are given
/// (`--dormant-days`, `--privileged`).
fn review<'g>(
    graph: &'g whocan::graph::AccessGraph,
    report: &whocan::import::ImportReport,
    as_of: Option<&str>,
    checks: Option<&CheckArgs>,
) -> Result<Review<'g>, Failure> {
    let opts = checks.map(|c| c.options(as_of)).transpose()?;
    // One reading of the clock: the findings' "now" is the date shown.
    let shown = whocan::import::format_timestamp(match &opts {
        Some(o) => o.now,
        None => now(as_of)?,
    });
    Ok(Review::new(graph, report, opts.as_ref(), shown))
}

/// Runs `whocan review` and `review decisions`.
pub fn run(args: ReviewArgs) -> Outcome {
    if let Some(ReviewCommand::Decisions(d)) = args.command {
        return run_decisions(d);
    }
    let dir = args.output.expect("clap requires -o");
    let by = match args.by.expect("clap requires --by") {
        ByArg::Manager => By::Manager,
        ByArg::Source => By::Source,
        ByArg::Resource => By::Resource,
    };
    let (graph, report) = load(&args.data)?;
    let review = review(&graph, &report, args.as_of.as_deref(), Some(&args.checks))?;
    if by == By::Manager && graph.model().employees.is_empty() {
        return Err(Failure::input(
            "--by manager needs HRIS employees (a mapped CSV with the hris template) and the identities linked to them",
        ));
    }
    std::fs::create_dir_all(&dir)
        .map_err(|e| Failure::input(format!("{}: cannot create directory: {e}", dir.display())))?;
    let mut pages: Vec<(Written, u64)> = Vec::new();
    let mut failure = None;
    let result = review.each_page(by, &mut |page| {
        let file = whocan::review::page::file_name(&page.scope.key);
        let mut out = match Output::open(Some(&dir.join(&file))) {
            Ok(o) => o,
            Err(f) => {
                failure = Some(f);
                return Err(std::io::Error::other("output refused"));
            }
        };
        let mut counting = Counting {
            inner: out.writer(),
            bytes: 0,
        };
        let w = write_page(&review, &page, &mut counting)?;
        let bytes = counting.bytes;
        if let Err(f) = out.finish() {
            failure = Some(f);
            return Err(std::io::Error::other("output failed"));
        }
        pages.push((w, bytes));
        Ok(())
    });
    if let Some(f) = failure {
        return Err(f);
    }
    written(result)?;
    let list: Vec<Written> = pages.iter().map(|(w, _)| w.clone()).collect();
    let mut out = Output::open(Some(&dir.join("index.html")))?;
    written(write_index(&review, by.as_str(), &list, out.writer()))?;
    out.finish()?;
    let mut t = Table::new(&["page", "scope", "grants", "identities", "findings", "bytes"]);
    for (w, bytes) in &pages {
        t.push(vec![
            w.file.clone().into(),
            w.scope.clone().into(),
            w.rows.into(),
            w.identities.into(),
            w.findings.into(),
            (*bytes).into(),
        ]);
    }
    let mut stdout = Output::open(None)?;
    written(t.write(whocan::report::Format::Table, stdout.writer()))?;
    let largest = pages.iter().map(|(_, b)| *b).max().unwrap_or(0);
    let total: u64 = pages.iter().map(|(_, b)| *b).sum();
    written(writeln!(
        stdout.writer(),
        "{} and index.html in {}; {} bytes in all, the largest {} bytes",
        plural(pages.len(), "page", "pages"),
        dir.display(),
        total,
        largest
    ))?;
    stdout.finish()?;
    Ok(0)
}

/// Counts the bytes written through it.
struct Counting<'a> {
    inner: &'a mut dyn Write,
    bytes: u64,
}

impl Write for Counting<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

fn run_decisions(args: DecisionsArgs) -> Outcome {
    let (graph, report) = load(&args.data)?;
    // Decisions are checked against rows, which no finding changes.
    let review = review(&graph, &report, args.as_of.as_deref(), None)?;
    let mut read = Decisions::default();
    for path in &args.decisions {
        whocan::atomic::note_input(path);
        let file = std::fs::File::open(path)
            .map_err(|e| Failure::input(format!("{}: cannot read: {e}", path.display())))?;
        decisions::read(path, std::io::BufReader::new(file), &mut read)
            .map_err(|e| Failure::input(e.to_string()))?;
    }
    let checked = written_checked(decisions::check(&review, &read))?;
    let format = args.output.format(Shape::Report);
    let mut out = Output::open(args.output.output.as_deref())?;
    written(decisions::write_revocations(
        &review,
        &checked,
        format,
        out.writer(),
    ))?;
    out.finish()?;
    let mut err = std::io::stderr().lock();
    let accepted = read.rows.len();
    let _ = writeln!(
        err,
        "{} read: {} accepted, {} rejected; {} applied, {} not applied",
        plural(read.rows_read as usize, "decision row", "decision rows"),
        accepted,
        read.rejections.len(),
        checked.applied,
        checked.problems.len()
    );
    let mut problems: Vec<_> = read.rejections.iter().chain(&checked.problems).collect();
    problems.sort_by(|a, b| (&a.file, a.line, a.column).cmp(&(&b.file, b.line, b.column)));
    for r in problems {
        let _ = writeln!(err, "{}", whocan::report::escape_lines(&r.to_string()));
    }
    let mut t = Table::new(&[
        "scope",
        "reviewer",
        "grants",
        "decided",
        "undecided",
        "kept",
        "revoked",
    ]);
    for c in &checked.completion {
        t.push(vec![
            c.scope.clone().into(),
            c.reviewer.clone().into(),
            c.rows.into(),
            c.decided().into(),
            c.undecided().into(),
            c.kept.into(),
            c.revoked.into(),
        ]);
    }
    let _ = t.write(whocan::report::Format::Table, &mut err);
    let _ = writeln!(
        err,
        "{} to remove",
        plural(checked.revocations.len(), "edge", "edges")
    );
    let bad = !read.rejections.is_empty() || !checked.problems.is_empty();
    Ok(if bad { 1 } else { 0 })
}

fn written_checked<T>(r: std::io::Result<T>) -> Result<T, Failure> {
    r.map_err(|e| Failure::input(format!("cannot check decisions: {e}")))
}
