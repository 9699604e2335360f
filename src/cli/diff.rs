//! `whocan diff OLD NEW`: effective-access, entity and people changes
//! between two reviews. The comparison lives in `whocan::diff`; this module
//! loads both sides, pairs their sources, prints what a reader must know
//! first (pairs, sources on one side only: above the table, or on stderr
//! for the data formats, which stay parseable), writes the rows as the
//! changes stream in (nothing holds them all but the aligned table format)
//! or the summary, and picks the exit code for `--fail-on`.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use clap::Args;
use serde_json::json;

use super::{DataArgs, Failure, Outcome, Output, OutputArgs, Shape, written};
use whocan::diff::summary::Summary;
use whocan::diff::{Change, ChangeKind, Comparison, FindingsInput, Options, Pairing};
use whocan::findings::Subject;
use whocan::import::inputs::split_input;
use whocan::report::{Cell, Format, RowWriter};

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

Rows, access changes first, then entity, employee, link and finding changes, each sorted by key:
  granted        identity/target/permission present only in NEW; `new` lists its providers
  revoked        present only in OLD; `old` lists its providers
  re-attributed  present in both with different providers (attribute `providers`)
  added/removed  an entity present only in NEW / only in OLD
  changed        one row per differing attribute: name, type, source_type, project, username,
                 email, status, first_name, last_name, mfa, password_changed
  employee-added/employee-removed/employee-changed
                 an HRIS employee (by source and id); changed: one row per attribute (name,
                 every HRIS attribute, managers)
  link-added/link-removed/link-moved
                 an identity's IS / OWNS link to an employee (target), with how it was made;
                 moved: its one employee became another
  finding-opened/finding-resolved/finding-changed (with --findings)
                 a finding (by kind and entity) only in NEW / only in OLD / in both with
                 another severity or detail
  gained/lost (with --by employee)
                 a target and permission an employee holds through none of their identities
                 before / now; identities linked to no employee keep their own rows
Providers are connection ids joined by \"; \"; (direct) is a grant held without a connection.

Sources default to each file's stem. Sources whose names differ only by a date or a number
(okta-2026-01 / okta-2026-02, okta_20260115, github-export-3, aws (2), okta) are paired and
compared as one, under the NEW side's name; the pairs are printed first (above the table, or
on stderr for csv, json and jsonl). A name with several candidates on a side is not paired:
give --pair OLD=NEW. When both sides hold sources the other lacks, each is announced first
with the entities and grants it accounts for, so a rename never reads as mass revocation.

Examples:
  whocan diff review-2026Q3.wcs review-2026Q4.wcs --summary
  whocan diff okta-2026-01.csv okta-2026-02.csv --fail-on granted,revoked
  whocan diff q3.wcs q4.wcs --findings --as-of 2026-10-01 --fail-on finding-opened")]
pub struct DiffArgs {
    /// The earlier side: a snapshot, a CSV file, or CSV files joined by
    /// commas; a CSV file may be `NAME=FILE` to name its source
    /// (`okta=okta-2026-01.csv`: the same name on both sides needs no
    /// pairing).
    old: String,
    /// The later side, in the same forms.
    new: String,
    /// Source name for every CSV file on both sides without its own
    /// `NAME=` (default: each file's stem); a snapshot side keeps the names
    /// it was made with.
    #[arg(long, value_name = "NAME")]
    source: Option<String>,
    /// Exit 1 when changes of these kinds exist (comma-separated: granted,
    /// revoked, re-attributed, added, removed, changed, employee-added,
    /// employee-removed, employee-changed, link-added, link-removed,
    /// link-moved, finding-opened, finding-resolved, finding-changed, gained,
    /// lost).
    #[arg(long, value_delimiter = ',', value_name = "KINDS")]
    fail_on: Vec<ChangeKind>,
    /// Compare the old side's source OLD as the new side's source NEW (may
    /// be repeated); rows name it NEW.
    #[arg(long = "pair", value_name = "OLD=NEW")]
    pairs: Vec<String>,
    /// Do not pair sources by name stem (pairs given with --pair still
    /// apply).
    #[arg(long)]
    no_pair: bool,
    /// `employee`: compare the access of linked identities per person
    /// (gained / lost across every app) instead of per identity.
    #[arg(long, value_enum, value_name = "WHOM", default_value = "identity")]
    by: By,
    /// Print counts per change kind and per source, then the ten largest
    /// changes by number of grants, instead of the rows.
    #[arg(long)]
    summary: bool,
    /// Compare findings too (finding-opened / finding-resolved /
    /// finding-changed); implied by --fail-on any of those.
    #[arg(long)]
    findings: bool,
    /// "Now" for the findings of both sides (a date or timestamp; default:
    /// the current time, UTC).
    #[arg(long, value_name = "DATE")]
    as_of: Option<String>,
    /// The findings' own options, as `whocan findings` takes them.
    #[command(flatten)]
    checks: super::findings::CheckArgs,
    /// Findings: separation-of-duties rules files checked on both sides
    /// (as `whocan findings --rules`); implies --findings. May be repeated.
    #[arg(long, value_name = "FILE")]
    rules: Vec<PathBuf>,
    /// Identity-to-employee mapping CSV for a CSV old side (may be
    /// repeated); a snapshot side keeps its own.
    #[arg(long, value_name = "FILE.csv")]
    old_people_map: Vec<PathBuf>,
    /// Identity-to-employee mapping CSV for a CSV new side (may be
    /// repeated).
    #[arg(long, value_name = "FILE.csv")]
    new_people_map: Vec<PathBuf>,
    #[command(flatten)]
    output: OutputArgs,
}

/// Whose access `--by` compares.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum By {
    /// Each identity's (the default).
    Identity,
    /// Each employee's, through every linked identity.
    Employee,
}

/// Splits one side into its files: a whole existing path, else a
/// comma-joined list.
fn side(spec: &str, source: &Option<String>, people_map: &[PathBuf]) -> Result<DataArgs, Failure> {
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
    // A `NAME=` on a snapshot is refused by the loader, saying so.
    let snapshot = files.len() == 1
        && whocan::snapshot::is_snapshot_file(&split_input(&files[0]).path).unwrap_or(false);
    Ok(DataArgs {
        files,
        options: super::DataOptions {
            source: if snapshot { None } else { source.clone() },
            people_map: people_map.to_vec(),
            ..Default::default()
        },
    })
}

/// Runs `whocan diff OLD NEW`.
pub fn run(args: DiffArgs) -> Outcome {
    let want_findings =
        args.findings || !args.rules.is_empty() || args.fail_on.iter().any(|k| k.is_finding());
    let rules = super::findings::read_rules(&args.rules)?;
    let finding_options = if want_findings {
        Some(args.checks.options(args.as_of.as_deref())?)
    } else {
        None
    };
    let ((old, old_report), (new, new_report)) = super::load_two(
        &side(&args.old, &args.source, &args.old_people_map)?,
        &side(&args.new, &args.source, &args.new_people_map)?,
    )?;
    let pairing = Pairing::resolve(
        &whocan::diff::sources(old.model()),
        &whocan::diff::sources(new.model()),
        &args.pairs,
        !args.no_pair,
    )?;
    if !rules.is_empty() {
        // A rule must name what at least one side holds.
        let (o, n) = (
            whocan::query::Engine::new(&old),
            whocan::query::Engine::new(&new),
        );
        if let Some(e) = whocan::query::unresolved_rule(&[&n, &o], &rules) {
            return Err(Failure::input(e));
        }
    }
    let progress = super::Progress::start("comparing");
    let comparison = Comparison::new(&old, &new, pairing);
    let opts = Options {
        by_employee: args.by == By::Employee,
        findings: finding_options.as_ref().map(|options| FindingsInput {
            options,
            old_report: &old_report,
            new_report: &new_report,
            rules: &rules,
        }),
    };
    let format = args.output.format(Shape::Report);
    let notes = comparison.notes();
    if format != Format::Table {
        // Data formats stay parseable: what must be read first goes to
        // stderr, before any row is written.
        for n in &notes {
            super::note(n);
        }
    }
    let mut out = Output::open(args.output.output.as_deref())?;
    let mut summary = Summary::default();
    let result = (|| -> std::io::Result<()> {
        let w = out.writer();
        if format == Format::Table && !notes.is_empty() {
            for n in &notes {
                writeln!(w, "{}", whocan::report::escape_lines(n))?;
            }
            writeln!(w)?;
        }
        if args.summary {
            comparison.each(&opts, &mut |change| -> std::io::Result<()> {
                summary.add(&change);
                Ok(())
            })?;
            let mut sink = RowWriter::new(&whocan::diff::summary::COLUMNS, format, w)?;
            for r in summary.rows(&comparison) {
                let count = json!(r.count);
                let cells: [Cell<'_>; 7] = [
                    r.section.into(),
                    r.change.into(),
                    r.source.as_str().into(),
                    r.entity_id.as_str().into(),
                    r.entity_name.as_str().into(),
                    r.entity_type.into(),
                    (&count).into(),
                ];
                sink.row(&cells)?;
            }
            return sink.finish().map(|_| ());
        }
        let mut sink = RowWriter::new(&COLUMNS, format, w)?;
        comparison.each(&opts, &mut |change| {
            summary.tally(&change);
            let values = row(&change);
            let cells: Vec<Cell<'_>> = values.iter().map(|v| Cell::Str(v)).collect();
            sink.row(&cells)
        })?;
        sink.finish().map(|_| ())
    })();
    drop(progress);
    written(result)?;
    out.finish()?;
    let failed = args.fail_on.iter().any(|&k| summary.count(k) > 0);
    Ok(if failed { 1 } else { 0 })
}

fn providers(list: &[Option<String>]) -> String {
    list.iter()
        .map(|p| p.as_deref().unwrap_or("(direct)"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// One change as a row of [`COLUMNS`].
fn row(change: &Change) -> [Cow<'_, str>; 11] {
    let s = Cow::Borrowed;
    match change {
        Change::Access(c) => [
            s(c.kind.as_str()),
            s(&c.source),
            s(&c.identity_id),
            s(&c.identity_name),
            s("identity"),
            s(&c.target_id),
            s(&c.target_name),
            s(&c.permission),
            s("providers"),
            Cow::Owned(providers(&c.old_providers)),
            Cow::Owned(providers(&c.new_providers)),
        ],
        Change::Entity(c) => [
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
        Change::Employee(c) => [
            s(c.kind.as_str()),
            s(&c.source),
            s(&c.id),
            s(&c.name),
            s("employee"),
            s(""),
            s(""),
            s(""),
            s(c.attribute.as_deref().unwrap_or("")),
            s(&c.old),
            s(&c.new),
        ],
        Change::Link(c) => {
            // A move names both employees, each with how its link was made;
            // an added or removed link shows how it was made.
            let (attribute, old, new) = match c.kind {
                ChangeKind::LinkMoved => (
                    "employee",
                    format!("{} ({})", c.old_employee, c.old),
                    format!("{} ({})", c.employee, c.new),
                ),
                _ => ("how", c.old.clone(), c.new.clone()),
            };
            [
                s(c.kind.as_str()),
                s(&c.source),
                s(&c.identity_id),
                s(&c.identity_name),
                s("identity"),
                s(&c.employee),
                s(&c.employee_name),
                s(c.relation),
                s(attribute),
                Cow::Owned(old),
                Cow::Owned(new),
            ]
        }
        Change::Finding(c) => {
            let f = &c.finding;
            let (source, id, name, kind) = match &f.entity {
                Subject::Entity {
                    source,
                    id,
                    kind,
                    name,
                } => (s(source), s(id), s(name), *kind),
                Subject::Row { file, line } => {
                    (s(file), Cow::Owned(line.to_string()), s(""), "row")
                }
            };
            let text =
                |f: &whocan::findings::Finding| format!("{}: {}", f.severity.as_str(), f.detail);
            let (old, new) = match (&c.before, c.kind) {
                (Some(before), _) => (text(before), text(f)),
                (None, ChangeKind::FindingResolved) => (text(f), String::new()),
                (None, _) => (String::new(), text(f)),
            };
            [
                s(c.kind.as_str()),
                source,
                id,
                name,
                s(kind),
                s(""),
                s(""),
                s(""),
                s(f.kind.as_str()),
                Cow::Owned(old),
                Cow::Owned(new),
            ]
        }
        Change::Person(c) => [
            s(c.kind.as_str()),
            s(&c.source),
            s(&c.id),
            s(&c.name),
            s("employee"),
            s(&c.target_id),
            s(&c.target_name),
            s(&c.permission),
            s("identities"),
            Cow::Owned(c.old_identities.join("; ")),
            Cow::Owned(c.new_identities.join("; ")),
        ],
    }
}
