//! `whocan diff OLD NEW`: effective-access and entity changes between two
//! reviews. The comparison lives in `whocan::diff`; this module loads both
//! sides, writes the rows as the changes stream in (nothing holds them all
//! but the aligned table format) and picks the exit code for `--fail-on`.

use std::path::{Path, PathBuf};

use clap::Args;
use serde_json::{Value, json};

use super::{DataArgs, Failure, Outcome, Output, OutputArgs, Shape, load, written};
use whocan::diff::{Change, ChangeKind};
use whocan::report::{Cell, RowWriter};

/// The columns of `whocan diff`, in order.
pub const COLUMNS: [&str; 11] = [
    "change",
    "source",
    "entity_id",
    "entity_name",
    "entity_type",
    "target_id",
    "target_name",
    "permission",
    "attribute",
    "old",
    "new",
];

/// Arguments of `whocan diff`.
#[derive(Args, Debug)]
#[command(after_help = "\
OLD and NEW are each a snapshot file, a CSV file, or several CSV files joined by commas \
(old/okta.csv,old/github.csv). A name that exists as a file is never split.

Rows, access changes first, then entity changes, each sorted by source and id:
  granted        identity/target/permission present only in NEW; `new` lists its providers
  revoked        present only in OLD; `old` lists its providers
  re-attributed  present in both with different providers (attribute `providers`)
  added/removed  an entity present only in NEW / only in OLD
  changed        one row per differing attribute: name, type, source_type, project, username,
                 email, status, first_name, last_name, mfa, password_changed
Providers are connection ids joined by \"; \"; (direct) is a grant held without a connection.

Sources default to each file's stem, so compare exports with the same file names, or give
--source to name the source of every CSV on both sides.

Examples:
  whocan diff review-2026Q3.wcs review-2026Q4.wcs
  whocan diff --source okta q3/okta.csv q4/okta.csv --fail-on granted,revoked")]
pub struct DiffArgs {
    /// The earlier side: a snapshot, a CSV file, or CSV files joined by commas.
    old: String,
    /// The later side, in the same forms.
    new: String,
    /// Source name for every CSV file on both sides (default: each file's
    /// stem); a snapshot side keeps the names it was made with.
    #[arg(long, value_name = "NAME")]
    source: Option<String>,
    /// Exit 1 when changes of these kinds exist (comma-separated: granted,
    /// revoked, re-attributed, added, removed, changed).
    #[arg(long, value_delimiter = ',', value_name = "KINDS")]
    fail_on: Vec<ChangeKind>,
    #[command(flatten)]
    output: OutputArgs,
}

/// Splits one side into its files: a whole existing path, else a
/// comma-joined list.
fn side(spec: &str, source: &Option<String>) -> Result<DataArgs, Failure> {
    let files: Vec<PathBuf> = if spec.is_empty() || Path::new(spec).exists() {
        vec![PathBuf::from(spec)]
    } else {
        spec.split(',').map(PathBuf::from).collect()
    };
    if files.iter().any(|f| f.as_os_str().is_empty()) {
        return Err(Failure::input(format!(
            "{spec:?}: expected a snapshot, a CSV file, or CSV files joined by commas"
        )));
    }
    // --source names the CSVs' source; a snapshot keeps its own names, so
    // one side may be a snapshot and the other CSV.
    let snapshot =
        files.len() == 1 && whocan::snapshot::is_snapshot_file(&files[0]).unwrap_or(false);
    Ok(DataArgs {
        files,
        options: super::DataOptions {
            source: if snapshot { None } else { source.clone() },
            ..Default::default()
        },
    })
}

/// Runs `whocan diff OLD NEW`.
pub fn run(args: DiffArgs) -> Outcome {
    let (old, _) = load(&side(&args.old, &args.source)?)?;
    let (new, _) = load(&side(&args.new, &args.source)?)?;
    let progress = super::Progress::start("comparing");
    let mut out = Output::open(args.output.output.as_deref())?;
    // Changes are written as they are found (the table format holds its
    // rows to align them, as every table does).
    let mut counts = [0u64; ChangeKind::ALL.len()];
    let index = |kind: ChangeKind| ChangeKind::ALL.iter().position(|&k| k == kind);
    let format = args.output.format(Shape::Report);
    let result = (|| -> std::io::Result<()> {
        let mut sink = RowWriter::new(&COLUMNS, format, out.writer())?;
        whocan::diff::diff_each(&old, &new, &mut |change| {
            let kind = match &change {
                Change::Access(c) => c.kind,
                Change::Entity(c) => c.kind,
            };
            if let Some(i) = index(kind) {
                counts[i] += 1;
            }
            let values = row(&change);
            let cells: Vec<Cell<'_>> = values.iter().map(Cell::from).collect();
            sink.row(&cells)
        })?;
        sink.finish().map(|_| ())
    })();
    drop(progress);
    written(result)?;
    out.finish()?;
    let failed = args
        .fail_on
        .iter()
        .any(|&k| index(k).is_some_and(|i| counts[i] > 0));
    Ok(if failed { 1 } else { 0 })
}

fn providers(list: &[Option<String>]) -> String {
    list.iter()
        .map(|p| p.as_deref().unwrap_or("(direct)"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// One change as a row of [`COLUMNS`].
fn row(change: &Change) -> Vec<Value> {
    let s = |v: &str| Value::String(v.to_string());
    match change {
        Change::Access(c) => vec![
            s(c.kind.as_str()),
            s(&c.source),
            s(&c.identity_id),
            s(&c.identity_name),
            s("identity"),
            s(&c.target_id),
            s(&c.target_name),
            s(&c.permission),
            s("providers"),
            json!(providers(&c.old_providers)),
            json!(providers(&c.new_providers)),
        ],
        Change::Entity(c) => vec![
            s(c.kind.as_str()),
            s(&c.source),
            s(&c.id),
            s(&c.name),
            s(c.entity_kind.as_str()),
            s(""),
            s(""),
            s(""),
            s(c.attribute.unwrap_or("")),
            s(&c.old),
            s(&c.new),
        ],
    }
}
