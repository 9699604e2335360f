//! `whocan export FILES… --to parquet -o DIR`: the model as Parquet tables
//! for the data platform (see `whocan::export` and docs/schema.md).

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};

use super::{DataArgs, Failure, Outcome, load};
use whocan::atomic::{Destination, FileWriter};
use whocan::export::{self, ExportError};
use whocan::model::Kind;
use whocan::people::People;

/// What to export to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum To {
    /// Parquet tables in the directory `-o DIR`: entities.parquet,
    /// edges.parquet and, when employees or a people map are loaded,
    /// employees.parquet and links.parquet.
    Parquet,
    /// One BloodHound OpenGraph JSON document in the file `-o FILE`
    /// (docs/opengraph.md): entities as nodes, granted edges as edges.
    Opengraph,
}

/// Arguments of `whocan export`.
#[derive(Args, Debug)]
pub struct ExportArgs {
    #[command(flatten)]
    data: DataArgs,
    /// The export format.
    #[arg(long, value_enum)]
    to: To,
    /// Where to write: a directory for `--to parquet` (created if absent;
    /// each file in it replaced atomically), a file for `--to opengraph`
    /// (replaced atomically).
    #[arg(short, long, value_name = "PATH")]
    output: PathBuf,
}

/// One file being written: its destination and its name for messages.
struct Pending {
    name: &'static str,
    destination: Destination,
    rows: u64,
}

/// Writes one table with `write` into `dir/name`, not yet committed.
fn table(
    dir: &Path,
    name: &'static str,
    write: impl FnOnce(FileWriter) -> Result<(FileWriter, u64), ExportError>,
) -> Result<Pending, Failure> {
    let path = dir.join(name);
    let (destination, file) = Destination::open(&path)?;
    let failed = |e: &dyn std::error::Error| {
        Failure::input(format!(
            "{}: {}",
            path.display(),
            whocan::import::inputs::error_chain(e)
        ))
    };
    let (mut writer, rows) = write(FileWriter::new(file)).map_err(|e| failed(&e))?;
    writer.flush().map_err(|e| failed(&e))?;
    Ok(Pending {
        name,
        destination,
        rows,
    })
}

/// Runs `whocan export`.
pub fn run(args: ExportArgs) -> Outcome {
    let (graph, _) = load(&args.data)?;
    let model = graph.model();
    match args.to {
        To::Opengraph => {
            let path = &args.output;
            let (destination, file) = Destination::open(path)?;
            let failed = |e: &dyn std::error::Error| {
                Failure::input(format!(
                    "{}: {}",
                    path.display(),
                    whocan::import::inputs::error_chain(e)
                ))
            };
            let out = std::io::BufWriter::with_capacity(1 << 20, FileWriter::new(file));
            let (out, written) = export::opengraph::write(model, out).map_err(|e| failed(&e))?;
            let mut file = out.into_inner().map_err(|e| failed(e.error()))?;
            file.flush().map_err(|e| failed(&e))?;
            destination.commit()?;
            let summary = format!(
                "{}: {} nodes, {} edges ({} false edge{} left out)\n",
                path.file_name().unwrap_or_default().to_string_lossy(),
                written.nodes,
                written.edges,
                written.false_edges,
                if written.false_edges == 1 { "" } else { "s" }
            );
            super::written(std::io::stdout().write_all(summary.as_bytes()))?;
            Ok(0)
        }
        To::Parquet => {
            let dir = &args.output;
            std::fs::create_dir_all(dir).map_err(|e| {
                Failure::input(format!("cannot create directory {}: {e}", dir.display()))
            })?;
            let mut pending = vec![
                table(dir, "entities.parquet", |w| {
                    export::write_entities(model, w)
                })?,
                table(dir, "edges.parquet", |w| export::write_edges(model, w))?,
            ];
            let has_identities = model.entities.iter().any(|e| e.kind == Kind::Identity);
            if !model.employees.is_empty() {
                pending.push(table(dir, "employees.parquet", |w| {
                    export::write_employees(model, w)
                })?);
            }
            // Links exist where `import` reports them: a people map was
            // given, or employees and identities were both loaded.
            if !model.people_map.files.is_empty() || (!model.employees.is_empty() && has_identities)
            {
                let people = People::new(model);
                pending.push(table(dir, "links.parquet", |w| {
                    export::write_links(model, &people, w)
                })?);
            }
            // Every file is written before any replaces its target, so a
            // failure leaves the directory as it was.
            let mut summary = String::new();
            for p in pending {
                p.destination.commit()?;
                summary.push_str(&format!("{}: {} rows\n", p.name, p.rows));
            }
            super::written(std::io::stdout().write_all(summary.as_bytes()))?;
            Ok(0)
        }
    }
}
