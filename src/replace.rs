//! Full re-upload: new files of a source replace everything the base held
//! for that source (reference/veza-csv-upload.md: "Incremental updates are
//! not supported; you must submit the complete data set for each update").
//!
//! [`replace_sources`] builds the merged model from a base (usually a
//! snapshot) and a fresh import: every source the fresh import names is
//! dropped from the base whole (entities, edges, conflicts, employees,
//! properties, files and their rejected rows), then the fresh import is
//! appended. Sources are disjoint by construction, so nothing is merged
//! across the two: the result is exactly the base's other sources plus the
//! new data. [`Replacement`] says, per replaced source, what the re-upload
//! added and removed. Does no I/O.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::diff::{self, ChangeKind};
use crate::graph::AccessGraph;
use std::path::{Path, PathBuf};

use crate::import::{FileReport, ImportReport};
use crate::model::{
    Attributes, Conflict, EdgeIdx, Employee, EmployeeAttribute, EntityIdx, InputRecord,
    MappingFile, Model, Property, Provenance, SourceFile, Sym, Value,
};

/// What re-uploading one source changed.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Replacement {
    /// The source name.
    pub source: String,
    /// Files the base held for the source (empty: a new source).
    pub old_files: Vec<String>,
    /// Data rows those files held.
    pub old_rows: u64,
    /// Files that replaced them.
    pub new_files: Vec<String>,
    /// Data rows the new files hold.
    pub new_rows: u64,
    /// Entities only in the new upload.
    pub entities_added: u64,
    /// Entities only in the old one.
    pub entities_removed: u64,
    /// Entity attributes that differ.
    pub entities_changed: u64,
    /// Relationships (edges `from → to` with permission and value) only in
    /// the new upload.
    pub edges_added: u64,
    /// Relationships only in the old one.
    pub edges_removed: u64,
    /// Effective grants only in the new upload.
    pub access_granted: u64,
    /// Effective grants only in the old one.
    pub access_revoked: u64,
    /// The same access through other providers.
    pub access_re_attributed: u64,
    /// HRIS employees only in the new upload.
    pub employees_added: u64,
    /// HRIS employees only in the old one.
    pub employees_removed: u64,
}

/// Replaces in `base` every source that `fresh` imported. Returns the merged
/// model and report, and one [`Replacement`] per source of `fresh`, sorted by
/// source name.
pub fn replace_sources(
    base: (Model, ImportReport),
    fresh: (Model, ImportReport),
) -> (Model, ImportReport, Vec<Replacement>) {
    let (base, base_report) = base;
    let (fresh, fresh_report) = fresh;
    let replaced: BTreeSet<String> = fresh_report
        .files
        .iter()
        .map(|f| f.source.clone())
        .collect();
    let mut merged = Model::default();
    append(&mut merged, &base, |s| !replaced.contains(s));
    append(&mut merged, &fresh, |_| true);
    // The identity-to-employee map is keyed by strings, not by source: it
    // stays; rows naming an identity the re-upload removed link nothing.
    merged.people_map = base.people_map.clone();
    merged.inputs = kept_inputs(&base, &fresh, &replaced);

    let is_kept = |f: &&FileReport| !replaced.contains(&f.source);
    let kept: BTreeSet<&Path> = base_report
        .files
        .iter()
        .filter(is_kept)
        .map(|f| f.path.as_path())
        .collect();
    let mut report = ImportReport {
        files: base_report.files.iter().filter(is_kept).cloned().collect(),
        rejections: base_report
            .rejections
            .iter()
            .filter(|r| kept.contains(r.file.as_path()))
            .cloned()
            .collect(),
    };
    report.files.extend(fresh_report.files.iter().cloned());
    report
        .rejections
        .extend(fresh_report.rejections.iter().cloned());

    // Edges never cross sources, so the replaced sources' old data alone
    // says what they held: the change is computed on it and the fresh import,
    // not on the whole (possibly much larger) base.
    let mut old = Model::default();
    append(&mut old, &base, |s| replaced.contains(s));
    let changes = summarise(old, &base_report, fresh, &fresh_report, &replaced);
    (merged, report, changes)
}

/// What the merged model was read with: the base's people maps (kept with
/// its people map) and options, its mapping files still used by a kept
/// source, then the re-uploads' mapping files.
fn kept_inputs(base: &Model, fresh: &Model, replaced: &BTreeSet<String>) -> InputRecord {
    let kept: BTreeSet<&Path> = base
        .sources
        .iter()
        .filter(|s| !replaced.contains(base.str(s.source)))
        .map(|s| s.path.as_path())
        .collect();
    let mut inputs = InputRecord {
        people_maps: base.inputs.people_maps.clone(),
        options: base.inputs.options.clone(),
        mappings: Vec::new(),
    };
    let base_mappings = base.inputs.mappings.iter().map(|m| (m, Some(&kept)));
    let fresh_mappings = fresh.inputs.mappings.iter().map(|m| (m, None));
    for (mapping, only) in base_mappings.chain(fresh_mappings) {
        let data: Vec<PathBuf> = mapping
            .data
            .iter()
            .filter(|p| only.is_none_or(|kept| kept.contains(p.as_path())))
            .cloned()
            .collect();
        if !data.is_empty() {
            inputs.mappings.push(MappingFile {
                data,
                ..mapping.clone()
            });
        }
    }
    inputs
}

/// Counts what changed per replaced source between its old data and the
/// fresh import: entities and effective access through [`diff::diff`],
/// relationships and employees by their strings.
fn summarise(
    old: Model,
    base_report: &ImportReport,
    new: Model,
    fresh_report: &ImportReport,
    replaced: &BTreeSet<String>,
) -> Vec<Replacement> {
    let mut out: BTreeMap<String, Replacement> = replaced
        .iter()
        .map(|s| {
            let files = |r: &ImportReport| -> (Vec<String>, u64) {
                let files: Vec<_> = r.files.iter().filter(|f| &f.source == s).collect();
                (
                    files.iter().map(|f| f.path.display().to_string()).collect(),
                    files.iter().map(|f| f.rows_read).sum(),
                )
            };
            let (old_files, old_rows) = files(base_report);
            let (new_files, new_rows) = files(fresh_report);
            let r = Replacement {
                source: s.clone(),
                old_files,
                old_rows,
                new_files,
                new_rows,
                ..Replacement::default()
            };
            (s.clone(), r)
        })
        .collect();

    let edges = |m: &Model| -> BTreeSet<(String, String)> {
        m.edges
            .iter()
            .map(|e| {
                let (from, to) = (m.entity(e.from), m.entity(e.to));
                let edge = format!(
                    "{}\0{}\0{}\0{}",
                    m.str(from.id),
                    m.str(to.id),
                    m.str(e.permission),
                    e.granted
                );
                (m.str(from.source).to_string(), edge)
            })
            .collect()
    };
    let employees = |m: &Model| -> BTreeSet<(String, String)> {
        m.employees
            .iter()
            .map(|e| (m.str(e.source).to_string(), m.str(e.id).to_lowercase()))
            .collect()
    };
    tally(&edges(&old), &edges(&new), &mut out, |r| {
        (&mut r.edges_removed, &mut r.edges_added)
    });
    tally(&employees(&old), &employees(&new), &mut out, |r| {
        (&mut r.employees_removed, &mut r.employees_added)
    });

    let d = diff::diff(&AccessGraph::new(old), &AccessGraph::new(new));
    for c in &d.entities {
        if let Some(r) = out.get_mut(&c.source) {
            match c.kind {
                ChangeKind::Added => r.entities_added += 1,
                ChangeKind::Removed => r.entities_removed += 1,
                _ => r.entities_changed += 1,
            }
        }
    }
    for c in &d.access {
        if let Some(r) = out.get_mut(&c.source) {
            match c.kind {
                ChangeKind::Granted => r.access_granted += 1,
                ChangeKind::Revoked => r.access_revoked += 1,
                _ => r.access_re_attributed += 1,
            }
        }
    }
    out.into_values().collect()
}

/// Counts, per source (a key's first part), the keys only in `old` and the
/// keys only in `new`, into the two counters `counters` picks.
fn tally(
    old: &BTreeSet<(String, String)>,
    new: &BTreeSet<(String, String)>,
    out: &mut BTreeMap<String, Replacement>,
    counters: impl Fn(&mut Replacement) -> (&mut u64, &mut u64),
) {
    for (keys, others, removed) in [(old, new, true), (new, old, false)] {
        for (source, _) in keys.difference(others) {
            if let Some(r) = out.get_mut(source) {
                let (gone, came) = counters(r);
                *if removed { gone } else { came } += 1;
            }
        }
    }
}

/// Appends the parts of `src` whose source name passes `keep` to `dst`,
/// re-interning every string and renumbering entities, edges and files.
fn append(dst: &mut Model, src: &Model, keep: impl Fn(&str) -> bool) {
    let mut strings: HashMap<Sym, Sym> = HashMap::new();
    let mut sym = |dst: &mut Model, s: Sym| -> Sym {
        *strings
            .entry(s)
            .or_insert_with(|| dst.strings.intern(src.str(s)))
    };
    let mut files: Vec<Option<u32>> = Vec::with_capacity(src.sources.len());
    for f in &src.sources {
        if keep(src.str(f.source)) {
            files.push(Some(dst.sources.len() as u32));
            let source = sym(dst, f.source);
            dst.sources.push(SourceFile {
                source,
                ..f.clone()
            });
        } else {
            files.push(None);
        }
    }
    // Every record of a kept source comes from a kept file.
    let at = |p: Provenance| Provenance {
        file: files[p.file as usize].expect("a kept record comes from a kept file"),
        line: p.line,
    };
    let mut entities: Vec<Option<EntityIdx>> = Vec::with_capacity(src.entities.len());
    for e in &src.entities {
        if !keep(src.str(e.source)) {
            entities.push(None);
            continue;
        }
        entities.push(Some(dst.entities.len() as EntityIdx));
        let attributes = e.attributes.as_ref().map(|a| Attributes {
            project: sym(dst, a.project),
            username: sym(dst, a.username),
            email: sym(dst, a.email),
            status: sym(dst, a.status),
            first_name: sym(dst, a.first_name),
            last_name: sym(dst, a.last_name),
            ..a.clone()
        });
        let entity = crate::model::Entity {
            source: sym(dst, e.source),
            id: sym(dst, e.id),
            name: sym(dst, e.name),
            kind: e.kind,
            source_type: sym(dst, e.source_type),
            attributes,
            origin: at(e.origin),
        };
        dst.entities.push(entity);
    }
    let mut edges: Vec<Option<EdgeIdx>> = Vec::with_capacity(src.edges.len());
    for e in &src.edges {
        match (entities[e.from as usize], entities[e.to as usize]) {
            (Some(from), Some(to)) => {
                edges.push(Some(dst.edges.len() as EdgeIdx));
                let permission = sym(dst, e.permission);
                dst.edges.push(crate::model::Edge {
                    from,
                    to,
                    permission,
                    origin: at(e.origin),
                    ..*e
                });
            }
            _ => edges.push(None),
        }
    }
    for c in &src.conflicts {
        let c = match *c {
            Conflict::Kind {
                entity,
                kept,
                other,
                at: p,
            } => entities[entity as usize].map(|entity| Conflict::Kind {
                entity,
                kept,
                other,
                at: at(p),
            }),
            Conflict::SourceType {
                entity,
                kept,
                other,
                at: p,
            } => entities[entity as usize].map(|entity| Conflict::SourceType {
                entity,
                kept: sym(dst, kept),
                other: sym(dst, other),
                at: at(p),
            }),
            Conflict::PermissionValue {
                edge,
                granted_at,
                denied_at,
            } => edges[edge as usize].map(|edge| Conflict::PermissionValue {
                edge,
                granted_at: at(granted_at),
                denied_at: at(denied_at),
            }),
        };
        dst.conflicts.extend(c);
    }
    for e in src.employees.iter().filter(|e| keep(src.str(e.source))) {
        let employee = Employee {
            source: sym(dst, e.source),
            id: sym(dst, e.id),
            name: sym(dst, e.name),
            attributes: e
                .attributes
                .iter()
                .map(|a| EmployeeAttribute {
                    name: sym(dst, a.name),
                    text: sym(dst, a.text),
                    value: a.value,
                })
                .collect(),
            managers: e.managers.iter().map(|&m| sym(dst, m)).collect(),
            origin: at(e.origin),
        };
        dst.employees.push(employee);
    }
    for p in &src.properties {
        let Some(entity) = entities[p.entity as usize] else {
            continue;
        };
        let value = match &p.value {
            Value::Text(s) => Value::Text(sym(dst, *s)),
            Value::Number(s) => Value::Number(sym(dst, *s)),
            Value::List(items) => Value::List(items.iter().map(|&s| sym(dst, s)).collect()),
            v => v.clone(),
        };
        let property = Property {
            entity,
            name: sym(dst, p.name),
            value,
            custom: p.custom,
        };
        dst.properties.push(property);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::{FileOptions, Importer};
    use std::path::Path;

    fn import(files: &[(&str, &str)]) -> (Model, ImportReport) {
        let mut imp = Importer::new();
        for (name, csv) in files {
            imp.import_reader(Path::new(name), csv.as_bytes(), &FileOptions::default())
                .unwrap();
        }
        imp.finish()
    }

    const HEADER: &str = "Entity Name,Entity Type,Entity Source Type,Entity Source ID,Entity - Has Access To Name,Entity - Has Access To Source ID,Entity - Has Access To Entity Type,Entity - Has Access To Source Type,Entity - Has Access To Permission Name\n";

    fn report(m: Model) -> String {
        let graph = AccessGraph::new(m);
        let mut out = Vec::new();
        crate::report::access::write(
            &crate::expand::Expansion::new(&graph),
            crate::report::Format::Csv,
            &mut out,
        )
        .unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn replacing_a_source_equals_importing_the_new_version_beside_the_others() {
        let okta_v1 = format!(
            "{HEADER}ann,identity,user,a,Eng,g,connection,group,\nEng,connection,group,g,db,r,resource,db,read\nbob,identity,user,b,db,r,resource,db,write\n"
        );
        let okta_v2 = format!(
            "{HEADER}ann,identity,user,a,Eng,g,connection,group,\nEng,connection,group,g,db,r,resource,db,admin\ncy,identity,user,c,Eng,g,connection,group,\n"
        );
        let github = format!("{HEADER}ann,identity,user,a,repo,x,resource,repo,push\n");
        let base = import(&[("okta.csv", &okta_v1), ("github.csv", &github)]);
        let fresh = import(&[("okta.csv", &okta_v2)]);
        let (merged, merged_report, changes) = replace_sources(base, fresh);
        let direct = import(&[("github.csv", &github), ("okta.csv", &okta_v2)]);
        assert_eq!(report(merged.clone()), report(direct.0));
        assert_eq!(merged_report.rows_read(), 4);
        assert_eq!(
            changes,
            vec![Replacement {
                source: "okta".into(),
                old_files: vec!["okta.csv".into()],
                old_rows: 3,
                new_files: vec!["okta.csv".into()],
                new_rows: 3,
                entities_added: 1,   // cy
                entities_removed: 1, // bob
                entities_changed: 0,
                edges_added: 2,    // Eng→db admin, cy→Eng
                edges_removed: 2,  // Eng→db read, bob→db write
                access_granted: 3, // ann admin via Eng; cy member of Eng, admin via Eng
                access_revoked: 2, // ann read via Eng, bob write
                access_re_attributed: 0,
                employees_added: 0,
                employees_removed: 0,
            }]
        );
    }
}
