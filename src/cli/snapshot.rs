//! `whocan snapshot FILES… -o FILE`, `whocan snapshot verify FILE
//! [--sources FILE]…` and `whocan snapshot info FILE`.
//!
//! The file format and every check live in `whocan::snapshot`; this module
//! reads the clock (creation time), prints and picks exit codes.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use serde_json::json;

use super::{DataArgs, Failure, Outcome, Output, OutputArgs, import_replacing, written};
use whocan::report::plural;
use whocan::report::{Format, Table};
use whocan::snapshot::{self, FileCheck, Metadata, RecordedKind, SnapshotError};

/// Arguments of `whocan snapshot`.
#[derive(Args, Debug)]
#[command(
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true,
    after_help = "A snapshot holds the graph, its provenance, the import report (rejected rows \
included) and metadata: format and whocan versions, creation time (SOURCE_DATE_EPOCH when set, \
for byte-identical snapshots), each source file's path, size, blake3 digest and row counts, and \
each mapping file (with its text) and people map read, and the options that changed the result. Every command that takes data accepts a snapshot in place \
of its CSV files; it is recognised by content, not by name.\n\nExamples:\n  whocan snapshot \
okta.csv github.csv -o review-2026Q4.wcs\n  whocan snapshot verify review-2026Q4.wcs --sources \
okta.csv --sources github.csv\n  whocan snapshot info review-2026Q4.wcs"
)]
pub struct SnapshotArgs {
    #[command(subcommand)]
    command: Option<SnapshotCommand>,
    #[command(flatten)]
    data: DataArgs,
    /// The snapshot file to write (replaced atomically).
    #[arg(short, long, value_name = "FILE", required = true)]
    output: Option<PathBuf>,
}

/// `whocan snapshot` subcommands.
#[derive(Subcommand, Debug)]
enum SnapshotCommand {
    /// Check a snapshot's integrity (header, length, checksum, contents) and,
    /// with --sources, that the given files (data CSVs, mapping files, people
    /// maps) are byte-identical to the ones recorded. Exit 0 when everything matches, 1 when the snapshot is
    /// damaged or a source differs, 2 when a file cannot be read or is not a
    /// snapshot.
    Verify(VerifyArgs),
    /// Print a snapshot's metadata: versions, creation time, sources with
    /// their sizes, digests and row counts, then (format 4 on) the mapping
    /// files, people maps and options the data was read with. `--format csv`
    /// lists every recorded file.
    Info(InfoArgs),
}

/// Arguments of `whocan snapshot verify`.
#[derive(Args, Debug)]
struct VerifyArgs {
    /// The snapshot (`-` for stdin).
    file: PathBuf,
    /// A file to compare with the recorded digests: a data CSV, a mapping
    /// TOML or a people map (repeat for several: `--sources okta.csv
    /// --sources map.csv`). Each is matched with the recorded file of the
    /// same path, else of the same file name, else of the same content.
    #[arg(long = "sources", value_name = "FILE")]
    sources: Vec<PathBuf>,
}

/// Arguments of `whocan snapshot info`.
#[derive(Args, Debug)]
struct InfoArgs {
    /// The snapshot (`-` for stdin).
    file: PathBuf,
    /// Also print the text of every recorded mapping file (format 4 on).
    #[arg(long)]
    mappings: bool,
    #[command(flatten)]
    output: OutputArgs,
}

/// Runs `whocan snapshot` and its `verify` / `info` subcommands.
pub fn run(args: SnapshotArgs) -> Outcome {
    match args.command {
        Some(SnapshotCommand::Verify(v)) => verify(v),
        Some(SnapshotCommand::Info(i)) => info(i),
        None => {
            let output = args
                .output
                .ok_or_else(|| Failure::input("snapshot needs -o FILE"))?;
            save(&args.data, &output)
        }
    }
}

fn save(data: &DataArgs, output: &Path) -> Outcome {
    let progress = super::Progress::start("importing");
    let whocan::import::inputs::Loaded {
        model,
        report,
        replaced,
    } = import_replacing(data);
    let refused: Vec<String> = report.refused().filter_map(|f| f.refused.clone()).collect();
    if !refused.is_empty() {
        return Err(Failure::input(format!(
            "{}\nwhocan: error: no snapshot written",
            refused.join("\nwhocan: error: ")
        )));
    }
    progress.set(format!("writing {}", output.display()));
    let created = creation_time()?;
    let snap = snapshot::Snapshot::new(model, report, created);
    let size = snapshot::save(output, &snap)?;
    drop(progress);
    let r = &snap.report;
    let line = format!(
        "wrote {}: {}, {}, {} read ({} accepted, {} rejected), {}, {}\n",
        output.display(),
        plural(size, "byte", "bytes"),
        plural(snap.metadata.sources.len() as u64, "source", "sources"),
        plural(r.rows_read(), "row", "rows"),
        r.rows_accepted(),
        r.rows_rejected(),
        plural(snap.metadata.entities, "entity", "entities"),
        plural(snap.metadata.edges, "edge", "edges"),
    );
    let mut line = line;
    for r in &replaced {
        line.push_str(&super::import::describe_replacement(r));
        line.push('\n');
    }
    let mut out = Output::open(None)?;
    written(out.writer().write_all(line.as_bytes()))?;
    out.finish()?;
    Ok(0)
}

/// The snapshot's creation time: `SOURCE_DATE_EPOCH` (seconds since the
/// Unix epoch, the reproducible-builds convention) when set, so the same
/// inputs give a byte-identical snapshot; else now. The only clock read:
/// library code takes the time as a parameter.
fn creation_time() -> Result<i64, Failure> {
    let text = match std::env::var("SOURCE_DATE_EPOCH") {
        Err(std::env::VarError::NotPresent) => return Ok(jiff::Timestamp::now().as_second()),
        Ok(text) => text,
        Err(std::env::VarError::NotUnicode(text)) => text.to_string_lossy().into_owned(),
    };
    match text.trim().parse::<i64>() {
        Ok(seconds) if jiff::Timestamp::from_second(seconds).is_ok() => Ok(seconds),
        _ => Err(Failure::input(format!(
            "SOURCE_DATE_EPOCH={text:?} is not a time: expected seconds since 1970-01-01T00:00:00Z"
        ))),
    }
}

/// Exit code for a snapshot that failed to load: 2 when it could not be
/// read at all or is no snapshot (empty, foreign: bad input, as for every
/// other command), 1 when it is a snapshot found damaged.
fn load_failure(e: SnapshotError, path: &Path) -> Failure {
    let code = match e {
        SnapshotError::Io { .. } | SnapshotError::Empty | SnapshotError::Foreign(_) => 2,
        _ => 1,
    };
    let message = match e {
        SnapshotError::Io { .. } => Failure::from(e).message,
        e => format!("{}: {}", path.display(), Failure::from(e).message),
    };
    Failure { code, message }
}

fn verify(args: VerifyArgs) -> Outcome {
    // `-` reads the snapshot from stdin.
    let (path, spooled) = super::stdin::snapshot_file(&args.file)?;
    let snap = snapshot::load(&path)
        .map_err(|e| super::stdin::name_stdin(load_failure(e, &args.file), &spooled))?;
    let meta = &snap.metadata;
    let mut lines = format!(
        "{}: ok: header, checksum and contents verified ({}, {}, {})\n",
        args.file.display(),
        plural(meta.sources.len() as u64, "source", "sources"),
        plural(meta.entities, "entity", "entities"),
        plural(meta.edges, "edge", "edges"),
    );
    // A file that cannot be read is bad input (exit 2), not a finding.
    let verification =
        snapshot::verify_files(meta, &args.sources).map_err(|e| Failure::input(e.to_string()))?;
    for check in &verification.checks {
        lines += &match check {
            FileCheck::Identical { given, recorded } => format!(
                "{}: ok: identical to recorded {} {} ({}, blake3 {})\n",
                given.display(),
                recorded.kind.noun(),
                recorded.path.display(),
                plural(recorded.bytes, "byte", "bytes"),
                recorded.blake3
            ),
            FileCheck::Differs {
                given,
                recorded,
                bytes,
                blake3,
            } => format!(
                "{}: DIFFERS from recorded {} {}: recorded {}, blake3 {}; now {}, blake3 {}\n",
                given.display(),
                recorded.kind.noun(),
                recorded.path.display(),
                plural(recorded.bytes, "byte", "bytes"),
                recorded.blake3,
                plural(*bytes, "byte", "bytes"),
                blake3
            ),
            FileCheck::NotRecorded { given, blake3 } => format!(
                "{}: NOT RECORDED: no recorded file has this path, file name or content (blake3 {blake3}){}\n",
                given.display(),
                match meta.recorded {
                    Some(_) => String::new(),
                    None => format!(
                        "; a format-{} snapshot records data files only",
                        meta.format_version
                    ),
                }
            ),
        };
    }
    if !args.sources.is_empty() {
        for rec in &verification.unchecked {
            lines += &format!(
                "{}: not checked: recorded {} not given with --sources\n",
                rec.path.display(),
                rec.kind.noun()
            );
        }
    }
    let code = if verification.passed() { 0 } else { 1 };
    let mut out = Output::open(None)?;
    written(out.writer().write_all(lines.as_bytes()))?;
    out.finish()?;
    Ok(code)
}

fn info(args: InfoArgs) -> Outcome {
    // Unlike `verify`, where damage is the finding asked about, a damaged
    // file is bad input here: exit 2.
    // `-` reads the snapshot from stdin.
    let (path, spooled) = super::stdin::snapshot_file(&args.file)?;
    let meta = snapshot::load_metadata(&path).map_err(|e| {
        let failure = Failure {
            code: 2,
            ..load_failure(e, &args.file)
        };
        super::stdin::name_stdin(failure, &spooled)
    })?;
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    whocan::atomic::note_input(&path);
    let format = args.output.format(super::Shape::Answer);
    let mut out = Output::open(args.output.output.as_deref())?;
    let w = out.writer();
    match format {
        Format::Table => {
            let mut text = format!(
                "file: {} ({})\n",
                args.file.display(),
                plural(size, "byte", "bytes")
            );
            text += &match args.mappings {
                true => format!("{meta:#}"),
                false => format!("{meta}"),
            };
            written(w.write_all(text.as_bytes()))?;
        }
        Format::Csv => written(sources_table(&meta).write(Format::Csv, w))?,
        Format::Json | Format::Jsonl => {
            let value = json!({
                "file": args.file.display().to_string(),
                "bytes": size,
                "format_version": meta.format_version,
                "whocan_version": meta.whocan_version,
                "created": whocan::import::format_timestamp(meta.created),
                "entities": meta.entities,
                "edges": meta.edges,
                "conflicts": meta.conflicts,
                "sources": meta.sources,
                "recorded": meta.recorded,
            });
            let r = if format == Format::Json {
                serde_json::to_writer_pretty(&mut *w, &value)
            } else {
                serde_json::to_writer(&mut *w, &value)
            };
            written(r.map_err(std::io::Error::from))?;
            written(w.write_all(b"\n"))?;
        }
    }
    out.finish()?;
    Ok(0)
}

fn sources_table(meta: &Metadata) -> Table {
    let mut t = Table::new(&[
        "path",
        "source",
        "bytes",
        "blake3",
        "rows_read",
        "rows_accepted",
        "rows_rejected",
        "kind",
    ]);
    for s in &meta.sources {
        t.push(vec![
            json!(s.path.display().to_string()),
            json!(s.source),
            json!(s.bytes),
            json!(s.blake3),
            json!(s.rows_read),
            json!(s.rows_accepted),
            json!(s.rows_rejected),
            json!(RecordedKind::Data.as_str()),
        ]);
    }
    // Mapping files and people maps (format 4 on) name no source.
    let recorded = meta.recorded.iter();
    for m in recorded.clone().flat_map(|r| &r.mappings) {
        let (file, none) = (&m.file, serde_json::Value::Null);
        t.push(vec![
            json!(file.path.display().to_string()),
            none.clone(),
            json!(file.bytes),
            json!(file.blake3),
            none.clone(),
            none.clone(),
            none,
            json!(RecordedKind::Mapping.as_str()),
        ]);
    }
    for p in recorded.flat_map(|r| &r.people_maps) {
        t.push(vec![
            json!(p.file.path.display().to_string()),
            serde_json::Value::Null,
            json!(p.file.bytes),
            json!(p.file.blake3),
            json!(p.rows_read),
            json!(p.rows_accepted),
            json!(p.rows_rejected),
            json!(RecordedKind::PeopleMap.as_str()),
        ]);
    }
    t
}
