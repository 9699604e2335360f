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
use whocan::snapshot::{self, Metadata, SnapshotError};

/// Arguments of `whocan snapshot`.
#[derive(Args, Debug)]
#[command(
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true,
    after_help = "A snapshot holds the graph, its provenance, the import report (rejected rows \
included) and metadata: format and whocan versions, creation time, each source file's path, \
size, blake3 digest and row counts. Every command that takes data accepts a snapshot in place \
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
    /// with --sources, that the given files are byte-identical to the ones
    /// recorded. Exit 0 when everything matches, 1 when the snapshot is
    /// damaged or a source differs, 2 when a file cannot be read or is not a
    /// snapshot.
    Verify(VerifyArgs),
    /// Print a snapshot's metadata: versions, creation time, sources with
    /// their sizes, digests and row counts. `--format csv` lists the sources.
    Info(InfoArgs),
}

/// Arguments of `whocan snapshot verify`.
#[derive(Args, Debug)]
struct VerifyArgs {
    /// The snapshot (`-` for stdin).
    file: PathBuf,
    /// A source file to compare with the recorded digests (repeat for
    /// several: `--sources okta.csv --sources github.csv`). Each is matched
    /// with the recorded source of the same path, else of the same file
    /// name, else of the same content.
    #[arg(long = "sources", value_name = "FILE")]
    sources: Vec<PathBuf>,
}

/// Arguments of `whocan snapshot info`.
#[derive(Args, Debug)]
struct InfoArgs {
    /// The snapshot (`-` for stdin).
    file: PathBuf,
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
    // The only clock read: library code takes the time as a parameter.
    let created = jiff::Timestamp::now().as_second();
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
    let mut code = 0;
    let mut checked = vec![false; meta.sources.len()];
    for given in &args.sources {
        let (bytes, digest) = digest_file(given)?;
        let by_path = meta.sources.iter().position(|s| s.path == *given);
        let by_name = || {
            let name = given.file_name()?;
            let mut found = meta
                .sources
                .iter()
                .enumerate()
                .filter(|(_, s)| s.path.file_name() == Some(name));
            match (found.next(), found.next()) {
                (Some((i, _)), None) => Some(i),
                _ => None,
            }
        };
        let by_content = || meta.sources.iter().position(|s| s.blake3 == digest);
        match by_path.or_else(by_name).or_else(by_content) {
            Some(i) => {
                checked[i] = true;
                let rec = &meta.sources[i];
                if rec.blake3 == digest && rec.bytes == bytes {
                    lines += &format!(
                        "{}: ok: identical to recorded source {} ({}, blake3 {})\n",
                        given.display(),
                        rec.path.display(),
                        plural(bytes, "byte", "bytes"),
                        digest
                    );
                } else {
                    code = 1;
                    lines += &format!(
                        "{}: DIFFERS from recorded source {}: recorded {}, blake3 {}; now {}, blake3 {}\n",
                        given.display(),
                        rec.path.display(),
                        plural(rec.bytes, "byte", "bytes"),
                        rec.blake3,
                        plural(bytes, "byte", "bytes"),
                        digest
                    );
                }
            }
            None => {
                code = 1;
                lines += &format!(
                    "{}: NOT RECORDED: no recorded source has this path, file name or content (blake3 {})\n",
                    given.display(),
                    digest
                );
            }
        }
    }
    if !args.sources.is_empty() {
        for (rec, done) in meta.sources.iter().zip(&checked) {
            if !done {
                lines += &format!(
                    "{}: not checked: recorded but not given with --sources\n",
                    rec.path.display()
                );
            }
        }
    }
    let mut out = Output::open(None)?;
    written(out.writer().write_all(lines.as_bytes()))?;
    out.finish()?;
    Ok(code)
}

/// Size and blake3 digest (hex) of a file, streamed.
fn digest_file(path: &Path) -> Result<(u64, String), Failure> {
    let fail = |e: std::io::Error| Failure::input(format!("{}: cannot read: {e}", path.display()));
    let file = std::fs::File::open(path).map_err(fail)?;
    let mut hasher = blake3::Hasher::new();
    let bytes = std::io::copy(&mut std::io::BufReader::new(file), &mut hasher).map_err(fail)?;
    Ok((bytes, hasher.finalize().to_hex().to_string()))
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
            let text = format!(
                "file: {} ({})\n{meta}",
                args.file.display(),
                plural(size, "byte", "bytes")
            );
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
        ]);
    }
    t
}
