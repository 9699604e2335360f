//! `whocan import FILES…`: import and print the import report.

use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::Args;
use serde_json::{Value, json};

use super::{DataArgs, Outcome, Output, OutputArgs, Shape, import_replacing, written};
use whocan::import::ImportReport;
use whocan::model::{Conflict, Kind, Model, Sym};
use whocan::replace::Replacement;
use whocan::report::{Format, Table, csv_row};

/// Arguments of `whocan import`.
#[derive(Args, Debug)]
pub struct ImportArgs {
    #[command(flatten)]
    data: DataArgs,
    #[command(flatten)]
    output: OutputArgs,
    /// Also write every rejected row, with file, line, column and reason, to
    /// FILE as CSV.
    #[arg(long, value_name = "FILE")]
    rejects: Option<PathBuf>,
}

/// Runs `whocan import`: the import summary and every rejected row.
pub fn run(args: ImportArgs) -> Outcome {
    let whocan::import::inputs::Loaded {
        model,
        report,
        replaced,
    } = import_replacing(&args.data);
    if let Some(path) = &args.rejects {
        let mut out = Output::open(Some(path))?;
        let mut buf = Vec::new();
        csv_row(
            &mut buf,
            ["file", "line", "column", "kind", "reason", "record"],
        );
        for r in &report.rejections {
            let file = r.file.display().to_string();
            csv_row(
                &mut buf,
                [
                    file.as_str(),
                    &r.line.to_string(),
                    &r.column.to_string(),
                    r.kind.label(),
                    &r.reason,
                    &r.record,
                ],
            );
        }
        written(out.writer().write_all(&buf))?;
        out.finish()?;
    }
    let mut out = Output::open(args.output.output.as_deref())?;
    let w = out.writer();
    match args.output.format(Shape::Answer) {
        Format::Table => {
            // Names and rejected rows' text reach a terminal: controls escaped.
            let text = human(&model, &report, &replaced);
            written(w.write_all(whocan::report::escape_lines(&text).as_bytes()))?
        }
        Format::Json => {
            written(
                serde_json::to_writer_pretty(&mut *w, &summary(&model, &report, &replaced))
                    .map_err(std::io::Error::from),
            )?;
            written(w.write_all(b"\n"))?;
        }
        Format::Jsonl => {
            written(
                serde_json::to_writer(&mut *w, &summary(&model, &report, &replaced))
                    .map_err(std::io::Error::from),
            )?;
            written(w.write_all(b"\n"))?;
        }
        Format::Csv => written(per_file(&report).write(Format::Csv, w))?,
    }
    out.finish()?;
    Ok(if report.refused().next().is_some() {
        2
    } else {
        0
    })
}

use whocan::report::plural;

/// Entities by kind and by source type, edges granted and not.
struct Counts {
    by_kind: BTreeMap<Kind, u64>,
    by_source_type: BTreeMap<String, u64>,
    edges_granted: u64,
    edges_denied: u64,
    /// Mapped-import properties by name.
    properties: BTreeMap<String, u64>,
}

fn counts(model: &Model) -> Counts {
    // Counted by kind index and by symbol, then keyed by kind and text: a
    // string per entity was most of the time `import` spent after loading
    // a snapshot.
    let by_text = |syms: &mut dyn Iterator<Item = Sym>| {
        let mut counts = rustc_hash::FxHashMap::<Sym, u64>::default();
        for sym in syms {
            *counts.entry(sym).or_insert(0) += 1;
        }
        let mut named = BTreeMap::new();
        for (sym, n) in counts {
            *named.entry(model.str(sym).to_string()).or_insert(0) += n;
        }
        named
    };
    let mut kinds = [0u64; Kind::ALL.len()];
    for e in &model.entities {
        kinds[e.kind as usize] += 1;
    }
    let by_kind: BTreeMap<Kind, u64> = Kind::ALL
        .into_iter()
        .map(|k| (k, kinds[k as usize]))
        .filter(|&(_, n)| n > 0)
        .collect();
    let by_source_type = by_text(&mut model.entities.iter().map(|e| e.source_type));
    let edges_granted = model.edges.iter().filter(|e| e.granted).count() as u64;
    let properties = by_text(&mut model.properties.iter().map(|p| p.name));
    Counts {
        properties,
        by_kind,
        by_source_type,
        edges_granted,
        edges_denied: model.edges.len() as u64 - edges_granted,
    }
}

/// A conflict as one sentence.
pub fn describe_conflict(model: &Model, conflict: &Conflict) -> String {
    let name = |e: u32| {
        let e = model.entity(e);
        format!(
            "{}/{} ({:?})",
            model.str(e.source),
            model.str(e.id),
            model.str(e.name)
        )
    };
    match conflict {
        Conflict::Kind {
            entity,
            kept,
            other,
            at,
        } => format!(
            "{}: {} declared {other} here but {kept} at {}; kept {kept}",
            model.location(*at),
            name(*entity),
            model.location(model.entity(*entity).origin)
        ),
        Conflict::SourceType {
            entity,
            kept,
            other,
            at,
        } => format!(
            "{}: {} declared source type {:?} here but {:?} at {}; kept {:?}",
            model.location(*at),
            name(*entity),
            model.str(*other),
            model.str(*kept),
            model.location(model.entity(*entity).origin),
            model.str(*kept)
        ),
        Conflict::PermissionValue {
            edge,
            granted_at,
            denied_at,
        } => {
            let e = &model.edges[*edge as usize];
            format!(
                "{}: {} -> {} {:?} is false here but true at {}; counted as granted",
                model.location(*denied_at),
                name(e.from),
                name(e.to),
                model.str(e.permission),
                model.location(*granted_at)
            )
        }
    }
}

fn human(model: &Model, report: &ImportReport, replaced: &[Replacement]) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    for f in &report.files {
        let _ = write!(s, "{} (source {:?}", f.path.display(), f.source);
        if let Some(mode) = f.mode {
            let _ = write!(s, ", {} mode", mode.as_str());
        }
        if f.entities_only {
            s.push_str(", entities only");
        }
        s.push_str("): ");
        match &f.refused {
            Some(reason) => {
                let _ = writeln!(s, "REFUSED\n  {reason}");
            }
            None => {
                let _ = writeln!(
                    s,
                    "{} read, {} accepted, {} rejected",
                    plural(f.rows_read, "row", "rows"),
                    f.rows_accepted,
                    f.rows_rejected
                );
                for (kind, n) in &f.rejected_by_kind {
                    let _ = writeln!(s, "  rejected: {n} {}", kind.label());
                }
                if f.rows_without_target > 0 {
                    let _ = writeln!(
                        s,
                        "  {} without a target (entity only)",
                        plural(f.rows_without_target, "row", "rows")
                    );
                }
            }
        }
        for w in &f.warnings {
            let _ = writeln!(s, "  warning: {w}");
        }
    }
    if !report.rejections.is_empty() {
        s.push_str("\nrejected rows:\n");
        for r in &report.rejections {
            let _ = writeln!(s, "  {r}");
        }
    }
    let c = counts(model);
    let _ = writeln!(
        s,
        "\ntotal: {} read = {} accepted + {} rejected",
        plural(report.rows_read(), "row", "rows"),
        report.rows_accepted(),
        report.rows_rejected()
    );
    let kinds: Vec<String> = Kind::ALL
        .iter()
        .map(|k| format!("{} {}", c.by_kind.get(k).copied().unwrap_or(0), k))
        .collect();
    let _ = writeln!(
        s,
        "entities: {} ({})",
        model.entities.len(),
        kinds.join(", ")
    );
    let types: Vec<String> = c
        .by_source_type
        .iter()
        .map(|(t, n)| format!("{n} {t}"))
        .collect();
    if !types.is_empty() {
        let _ = writeln!(s, "  by source type: {}", types.join(", "));
    }
    let _ = writeln!(
        s,
        "edges: {} ({} granted, {} false)",
        model.edges.len(),
        c.edges_granted,
        c.edges_denied
    );
    let _ = writeln!(s, "conflicts: {}", model.conflicts.len());
    if !model.employees.is_empty() {
        let _ = writeln!(s, "{}", whocan::import::mapped::describe_employees(model));
    }
    if !c.properties.is_empty() {
        let names: Vec<String> = c
            .properties
            .iter()
            .map(|(p, n)| format!("{p} {n}"))
            .collect();
        let _ = writeln!(
            s,
            "properties: {} ({})",
            model.properties.len(),
            names.join(", ")
        );
    }
    for conflict in &model.conflicts {
        let _ = writeln!(s, "  {}", describe_conflict(model, conflict));
    }
    if let Some(people) = people_summary(model) {
        s.push_str(&people.describe(model));
    }
    for r in replaced {
        let _ = writeln!(s, "{}", describe_replacement(r));
    }
    s
}

/// What a re-upload changed for one source, in a few lines.
pub fn describe_replacement(r: &Replacement) -> String {
    use std::fmt::Write as _;
    let files = |f: &[String]| {
        if f.is_empty() {
            "nothing".to_string()
        } else {
            f.join(", ")
        }
    };
    let mut s = if r.old_files.is_empty() {
        format!(
            "added source {:?}: {} ({})",
            r.source,
            files(&r.new_files),
            plural(r.new_rows, "row", "rows")
        )
    } else {
        format!(
            "replaced source {:?}: {} ({}) by {} ({})",
            r.source,
            files(&r.old_files),
            plural(r.old_rows, "row", "rows"),
            files(&r.new_files),
            plural(r.new_rows, "row", "rows")
        )
    };
    let _ = write!(
        s,
        "\n  entities: {} added, {} removed, {} attribute{} changed\
         \n  relationships: {} added, {} removed\
         \n  effective access: {} granted, {} revoked, {} re-attributed",
        r.entities_added,
        r.entities_removed,
        r.entities_changed,
        if r.entities_changed == 1 { "" } else { "s" },
        r.edges_added,
        r.edges_removed,
        r.access_granted,
        r.access_revoked,
        r.access_re_attributed,
    );
    if r.employees_added + r.employees_removed > 0 {
        let _ = write!(
            s,
            "\n  employees: {} added, {} removed",
            r.employees_added, r.employees_removed
        );
    }
    s
}

/// The identity-to-employee links, when there is something to link: a
/// people map was given, or HRIS employees and identities were loaded
/// together.
fn people_summary(model: &Model) -> Option<whocan::people::People> {
    let has_identities = model.entities.iter().any(|e| e.kind == Kind::Identity);
    (!model.people_map.files.is_empty() || (!model.employees.is_empty() && has_identities))
        .then(|| whocan::people::People::new(model))
}

fn summary(model: &Model, report: &ImportReport, replaced: &[Replacement]) -> Value {
    let mut value = summary_without_people(model, report, replaced);
    if let Some(people) = people_summary(model) {
        value["people"] = json!({
            "summary": people.summary(model),
            "conflicts": people.conflicts.iter().map(|c| people.describe_conflict(model, c)).collect::<Vec<_>>(),
            "ambiguous": people.ambiguous.iter().map(|a| people.describe_ambiguous(model, a)).collect::<Vec<_>>(),
            // A people-map rejection has no kind of its own and no raw
            // record: its file, line, column and reason.
            "rejections": model.people_map.rejections.iter().map(|r| json!({
                "file": r.file, "line": r.line, "column": r.column, "reason": r.reason,
            })).collect::<Vec<_>>(),
        });
    }
    value
}

fn summary_without_people(model: &Model, report: &ImportReport, replaced: &[Replacement]) -> Value {
    let c = counts(model);
    json!({
        "files": report.files,
        "totals": {
            "rows_read": report.rows_read(),
            "rows_accepted": report.rows_accepted(),
            "rows_rejected": report.rows_rejected(),
        },
        "entities": {
            "total": model.entities.len(),
            "by_kind": c.by_kind.iter().map(|(k, n)| (k.as_str().to_string(), json!(n))).collect::<serde_json::Map<_, _>>(),
            "by_source_type": c.by_source_type,
        },
        "edges": {
            "total": model.edges.len(),
            "granted": c.edges_granted,
            "false": c.edges_denied,
        },
        "conflicts": model.conflicts.iter().map(|x| describe_conflict(model, x)).collect::<Vec<_>>(),
        "properties": c.properties,
        "replaced": replaced,
        "rejections": report.rejections,
    })
}

fn per_file(report: &ImportReport) -> Table {
    let mut t = Table::new(&[
        "file",
        "source",
        "mode",
        "rows_read",
        "rows_accepted",
        "rows_rejected",
        "refused",
    ]);
    for f in &report.files {
        t.push(vec![
            json!(f.path.display().to_string()),
            json!(f.source),
            json!(f.mode.map(|m| m.as_str()).unwrap_or("")),
            json!(f.rows_read),
            json!(f.rows_accepted),
            json!(f.rows_rejected),
            json!(f.refused.clone().unwrap_or_default()),
        ]);
    }
    t
}
