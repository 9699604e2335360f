//! `whocan report access FILES… [--by identity|employee|manager]`: the
//! effective-access report, per identity (the default) or per person.

use clap::{Args, Subcommand, ValueEnum};

use std::path::{Path, PathBuf};

use super::{DataArgs, Failure, Outcome, Output, Progress, Shape, chosen_format, load, written};
use whocan::expand::Expansion;
use whocan::people::People;
use whocan::report::Format;

/// Report kinds.
#[derive(Subcommand, Debug)]
pub enum ReportCommand {
    /// Every identity's effective access with its provider: one row per
    /// (identity, target, permission, provider), sorted by identity id,
    /// target id, permission, provider id. `--by employee` / `--by manager`
    /// report it per person instead (see README, "People").
    Access(AccessArgs),
}

/// Whose access each row is listed under.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum By {
    /// One row per identity, target, permission and provider.
    Identity,
    /// Each HRIS employee's access through the identities they IS and the
    /// service accounts they OWN (`relation` column).
    Employee,
    /// Each manager's direct and indirect reports' access.
    Manager,
}

/// Arguments of `whocan report access`.
#[derive(Args, Debug)]
pub struct AccessArgs {
    #[command(flatten)]
    data: DataArgs,
    #[command(flatten)]
    output: AccessOutput,
    /// Whose access each row is listed under.
    #[arg(long, value_enum, default_value_t = By::Identity)]
    by: By,
}

/// The formats of `report access`: every format of the other commands,
/// and Parquet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum AccessFormat {
    /// Aligned columns for people.
    Table,
    /// RFC 4180 CSV with a header row.
    Csv,
    /// One JSON document.
    Json,
    /// One JSON object per line.
    Jsonl,
    /// One typed Parquet table (requires -o FILE): see docs/schema.md.
    Parquet,
}

/// Output options of `report access`.
#[derive(Args, Debug, Clone)]
pub struct AccessOutput {
    /// Output format (default: from -o FILE's extension: .csv, .json,
    /// .jsonl / .ndjson, .txt for table, .parquet; else table on a
    /// terminal, csv anywhere else).
    #[arg(long, value_enum)]
    format: Option<AccessFormat>,
    /// Write to FILE instead of stdout (replaced atomically; never an
    /// input). Required for parquet.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
}

/// Runs `whocan report access`.
pub fn run(cmd: ReportCommand) -> Outcome {
    match cmd {
        ReportCommand::Access(args) => {
            let output = args.output.output.as_deref();
            let format = chosen_format(args.output.format, output, Shape::Report);
            let format = match format {
                AccessFormat::Table => Format::Table,
                AccessFormat::Csv => Format::Csv,
                AccessFormat::Json => Format::Json,
                AccessFormat::Jsonl => Format::Jsonl,
                AccessFormat::Parquet => return parquet(&args.data, output, args.by),
            };
            let (graph, _) = load(&args.data)?;
            let progress = Progress::start("expanding");
            let expansion = Expansion::new(&graph);
            progress.set("expanding and writing");
            let mut out = Output::open(output)?;
            match args.by {
                By::Identity => {
                    progress.bar(expansion.identities().len() as u64, "identities");
                    written(whocan::report::access::write_with_progress(
                        &expansion,
                        format,
                        out.writer(),
                        &mut |p| {
                            progress.advance(p.identities, || {
                                format!("{} rows written", indicatif::HumanCount(p.grants))
                            })
                        },
                    ))?
                }
                By::Employee | By::Manager => {
                    let people = People::new(graph.model());
                    let write = if args.by == By::Employee {
                        whocan::report::people::write_by_employee
                    } else {
                        whocan::report::people::write_by_manager
                    };
                    written(write(&expansion, &people, format, out.writer()))?
                }
            }
            out.finish()?;
            Ok(0)
        }
    }
}

/// `report access --format parquet -o FILE`: the same rows, in the same
/// order, as one typed Parquet table, streamed in row groups.
fn parquet(data: &DataArgs, output: Option<&Path>, by: By) -> Outcome {
    let Some(path) = output.filter(|p| *p != Path::new("-")) else {
        return Err(Failure::input(
            "--format parquet writes a file: give -o FILE (Parquet is not written to stdout)",
        ));
    };
    let (graph, _) = load(data)?;
    let progress = Progress::start("expanding");
    let expansion = Expansion::new(&graph);
    progress.set("expanding and writing");
    let mut out = Output::open(Some(path))?;
    match by {
        By::Identity => {
            progress.bar(expansion.identities().len() as u64, "identities");
            written(whocan::report::access::write_parquet_with_progress(
                &expansion,
                out.writer(),
                &mut |p| {
                    progress.advance(p.identities, || {
                        format!("{} rows written", indicatif::HumanCount(p.grants))
                    })
                },
            ))?
        }
        By::Employee | By::Manager => {
            let people = People::new(graph.model());
            let write = if by == By::Employee {
                whocan::report::people::write_by_employee_parquet
            } else {
                whocan::report::people::write_by_manager_parquet
            };
            written(write(&expansion, &people, out.writer()))?
        }
    }
    out.finish()?;
    Ok(0)
}
