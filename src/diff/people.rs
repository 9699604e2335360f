//! People in a diff: HRIS employees, identity → employee links, findings
//! and per-person access. None of these is per grant, so each side is
//! gathered whole, keyed by strings (sources renamed by the pairing), and
//! the two key maps are walked together in key order.
//!
//! - Employees are keyed by (source, employee id); a changed employee gives
//!   one row per differing attribute: `name`, then every mapped HRIS
//!   attribute by name, then `managers`.
//! - Links are keyed by (identity source, identity id, relation): an
//!   identity whose one IS (or OWNS) employee became another is
//!   `link-moved`; otherwise employees only on one side are
//!   `link-removed` / `link-added`. How a link was made is shown (old → new)
//!   but a link made another way to the same employee is no change.
//! - Findings are keyed by (kind, subject): the first finding of a key on
//!   each side stands for it; a key on the new side only is opened, on the
//!   old side only resolved, and on both with another severity or detail
//!   changed (evidence and fix hint alone do not make a change: they name
//!   files and lines, which move with every export).
//! - Per person (`--by employee`): a person's access is every (target
//!   source, target id, permission) any of their linked identities (IS or
//!   OWNS) holds; one person is gathered at a time.
//!
//! Does no I/O.

use std::collections::{BTreeMap, BTreeSet};

use rustc_hash::FxHashSet;

use super::{
    Change, ChangeKind, EmployeeChange, FindingChange, FindingsInput, LinkChange, Names,
    PersonChange,
};
use crate::expand::Expansion;
use crate::findings::{Finding, Subject};
use crate::model::Model;
use crate::people::{EmployeeIdx, People};

/// One side of the comparison, as the people parts read it.
pub(super) struct Side<'a, 'g> {
    /// The side's expansion (and model).
    pub x: &'a Expansion<'g>,
    /// Source names as compared.
    pub names: &'a Names<'a>,
    /// The side's links.
    pub people: &'a People,
}

impl<'a> Side<'a, '_> {
    fn model(&self) -> &'a Model {
        self.names.model
    }

    /// An employee's key: (compared source, id).
    fn employee_key(&self, e: EmployeeIdx) -> (&'a str, &'a str) {
        let m = self.model();
        let emp = &m.employees[e as usize];
        (self.names.source(emp.source), m.str(emp.id))
    }

    /// Every employee by key.
    fn employees(&self) -> BTreeMap<(&'a str, &'a str), EmployeeIdx> {
        (0..self.model().employees.len() as EmployeeIdx)
            .map(|e| (self.employee_key(e), e))
            .collect()
    }

    /// An employee's compared values: `name`, every attribute (first value
    /// of a name), `managers`.
    fn employee_values(&self, e: EmployeeIdx) -> BTreeMap<&'a str, String> {
        let m = self.model();
        let emp = &m.employees[e as usize];
        let mut v: BTreeMap<&str, String> = BTreeMap::new();
        for a in &emp.attributes {
            v.entry(m.str(a.name))
                .or_insert_with(|| m.str(a.text).to_string());
        }
        v.insert("name", m.str(emp.name).to_string());
        let managers: Vec<&str> = emp.managers.iter().map(|&s| m.str(s)).collect();
        v.insert("managers", managers.join(", "));
        v
    }
}

/// Walks two key maps together, in key order.
fn merge<K: Ord, A, B, E>(
    old: BTreeMap<K, A>,
    new: BTreeMap<K, B>,
    mut f: impl FnMut(&K, Option<A>, Option<B>) -> Result<(), E>,
) -> Result<(), E> {
    let mut both: BTreeMap<K, (Option<A>, Option<B>)> = BTreeMap::new();
    for (k, a) in old {
        both.entry(k).or_insert((None, None)).0 = Some(a);
    }
    for (k, b) in new {
        both.entry(k).or_insert((None, None)).1 = Some(b);
    }
    for (k, (a, b)) in both {
        f(&k, a, b)?;
    }
    Ok(())
}

/// Employees added, removed and changed (see the module docs for the
/// attribute order).
pub(super) fn employee_changes<E>(
    old: &Side,
    new: &Side,
    emit: &mut dyn FnMut(Change) -> Result<(), E>,
) -> Result<(), E> {
    merge(old.employees(), new.employees(), |&(source, id), o, n| {
        let row = |kind, name: &str, attribute: Option<String>, old: String, new: String| {
            Change::Employee(EmployeeChange {
                kind,
                source: source.to_string(),
                id: id.to_string(),
                name: name.to_string(),
                attribute,
                old,
                new,
            })
        };
        let name = |side: &Side, e: EmployeeIdx| {
            let m = side.model();
            m.str(m.employees[e as usize].name).to_string()
        };
        match (o, n) {
            (Some(o), None) => emit(row(
                ChangeKind::EmployeeRemoved,
                &name(old, o),
                None,
                String::new(),
                String::new(),
            )),
            (None, Some(n)) => emit(row(
                ChangeKind::EmployeeAdded,
                &name(new, n),
                None,
                String::new(),
                String::new(),
            )),
            (Some(o), Some(n)) => {
                let (before, after) = (old.employee_values(o), new.employee_values(n));
                let display = name(new, n);
                let mut keys: Vec<&str> = before.keys().chain(after.keys()).copied().collect();
                keys.sort_by_key(|k| (*k != "name", *k == "managers", *k));
                keys.dedup();
                for k in keys {
                    let (b, a) = (before.get(k), after.get(k));
                    if b != a {
                        emit(row(
                            ChangeKind::EmployeeChanged,
                            &display,
                            Some(k.to_string()),
                            b.cloned().unwrap_or_default(),
                            a.cloned().unwrap_or_default(),
                        ))?;
                    }
                }
                Ok(())
            }
            (None, None) => Ok(()),
        }
    })
}

/// One link as compared: the employee's key and name, and how it was made.
type LinkEnd = (String, String, String);

/// A side's links by (identity source, identity id, relation), with the
/// identity's name; each group's employees sorted.
fn links<'a>(
    side: &Side<'a, '_>,
) -> BTreeMap<(&'a str, &'a str, &'static str), (&'a str, Vec<LinkEnd>)> {
    let m = side.model();
    let mut out: BTreeMap<_, (&str, Vec<LinkEnd>)> = BTreeMap::new();
    for link in &side.people.links {
        let ident = m.entity(link.identity);
        let (es, eid) = side.employee_key(link.employee);
        let employee = format!("{es}/{eid}");
        let emp_name = m.str(m.employees[link.employee as usize].name).to_string();
        let how = side.people.describe_how(m, link.how);
        out.entry((
            side.names.source(ident.source),
            m.str(ident.id),
            link.relation.as_str(),
        ))
        .or_insert((m.str(ident.name), Vec::new()))
        .1
        .push((employee, emp_name, how));
    }
    for (_, ends) in out.values_mut() {
        ends.sort();
        ends.dedup_by(|a, b| a.0 == b.0);
    }
    out
}

/// Links added, removed and moved.
pub(super) fn link_changes<E>(
    old: &Side,
    new: &Side,
    emit: &mut dyn FnMut(Change) -> Result<(), E>,
) -> Result<(), E> {
    merge(links(old), links(new), |&(source, id, relation), o, n| {
        let name = n.as_ref().or(o.as_ref()).map_or("", |(name, _)| *name);
        let (o, n) = (
            o.map(|x| x.1).unwrap_or_default(),
            n.map(|x| x.1).unwrap_or_default(),
        );
        let only = |a: &[LinkEnd], b: &[LinkEnd]| -> Vec<LinkEnd> {
            a.iter()
                .filter(|x| !b.iter().any(|y| y.0 == x.0))
                .cloned()
                .collect()
        };
        let (gone, came) = (only(&o, &n), only(&n, &o));
        let row = |kind, end: &LinkEnd, old: String, new: String, old_employee: String| {
            Change::Link(LinkChange {
                kind,
                source: source.to_string(),
                identity_id: id.to_string(),
                identity_name: name.to_string(),
                relation,
                employee: end.0.clone(),
                employee_name: end.1.clone(),
                old,
                new,
                old_employee,
            })
        };
        if let ([g], [c]) = (gone.as_slice(), came.as_slice()) {
            return emit(row(
                ChangeKind::LinkMoved,
                c,
                g.2.clone(),
                c.2.clone(),
                g.0.clone(),
            ));
        }
        for g in &gone {
            emit(row(
                ChangeKind::LinkRemoved,
                g,
                g.2.clone(),
                String::new(),
                String::new(),
            ))?;
        }
        for c in &came {
            emit(row(
                ChangeKind::LinkAdded,
                c,
                String::new(),
                c.2.clone(),
                String::new(),
            ))?;
        }
        Ok(())
    })
}

/// A finding's key: its kind, then its subject (sources as compared; a
/// row by file and line).
type FindingKey = (&'static str, String, String, u64);

/// A side's findings by key, the first of a key standing for it, subject
/// sources renamed as compared.
fn findings_by_key(side: &Side, found: Vec<Finding>) -> BTreeMap<FindingKey, Finding> {
    let mut out = BTreeMap::new();
    for mut f in found {
        let key = match &mut f.entity {
            Subject::Entity { source, id, .. } => {
                *source = side.names.name(source).to_string();
                // A rule's violations are told apart by the rule's line.
                let rule = match f.kind {
                    crate::findings::FindingKind::SodViolation => {
                        f.evidence.first().and_then(|e| e.line).unwrap_or(0)
                    }
                    _ => 0,
                };
                (f.kind.as_str(), source.clone(), id.clone(), rule)
            }
            Subject::Row { file, line } => (f.kind.as_str(), file.clone(), String::new(), *line),
        };
        out.entry(key).or_insert(f);
    }
    out
}

/// Findings opened and resolved: each side's findings under the same
/// options.
pub(super) fn finding_changes<E>(
    old: &Side,
    new: &Side,
    input: &FindingsInput,
    emit: &mut dyn FnMut(Change) -> Result<(), E>,
) -> Result<(), E> {
    let side = |x: &Side, report| {
        let mut found = crate::findings::findings(x.x, x.people, report, input.options);
        if !input.rules.is_empty() {
            let engine = crate::query::Engine::new(x.x.graph());
            let rules = crate::query::rules_findings(&engine, input.rules, false);
            found.extend(rules.unwrap_or_default());
        }
        found
    };
    let (o, n) = rayon::join(
        || side(old, input.old_report),
        || side(new, input.new_report),
    );
    merge(
        findings_by_key(old, o),
        findings_by_key(new, n),
        |_, o, n| match (o, n) {
            (Some(finding), None) => emit(Change::Finding(Box::new(FindingChange {
                kind: ChangeKind::FindingResolved,
                finding,
                before: None,
            }))),
            (None, Some(finding)) => emit(Change::Finding(Box::new(FindingChange {
                kind: ChangeKind::FindingOpened,
                finding,
                before: None,
            }))),
            (Some(before), Some(finding))
                if (before.severity, &before.detail) != (finding.severity, &finding.detail) =>
            {
                emit(Change::Finding(Box::new(FindingChange {
                    kind: ChangeKind::FindingChanged,
                    finding,
                    before: Some(before),
                })))
            }
            _ => Ok(()),
        },
    )
}

/// Every identity linked to an employee on either side, by (compared
/// source, id): their access is compared per person under `--by employee`.
pub(super) fn linked_identities<'a>(
    old: &Side<'a, '_>,
    new: &Side<'a, '_>,
) -> FxHashSet<(&'a str, &'a str)> {
    let mut out = FxHashSet::default();
    for side in [old, new] {
        let m = side.model();
        for link in &side.people.links {
            let e = m.entity(link.identity);
            out.insert((side.names.source(e.source), m.str(e.id)));
        }
    }
    out
}

/// A person's access on one side: (target source, target id, permission)
/// → (target name, identities holding it as `source/id`).
type Access<'a> = BTreeMap<(&'a str, &'a str, &'a str), (&'a str, BTreeSet<String>)>;

fn person_access<'a>(side: &Side<'a, '_>, e: Option<EmployeeIdx>) -> Access<'a> {
    let mut out = Access::new();
    let Some(e) = e else {
        return out;
    };
    let m = side.model();
    for link in side.people.links_of_employee(e) {
        let ident = m.entity(link.identity);
        let label = format!("{}/{}", side.names.source(ident.source), m.str(ident.id));
        for g in side.x.grants_of(link.identity) {
            let t = m.entity(g.target);
            out.entry((
                side.names.source(t.source),
                m.str(t.id),
                m.str(g.permission),
            ))
            .or_insert((m.str(t.name), BTreeSet::new()))
            .1
            .insert(label.clone());
        }
    }
    out
}

/// Per-person access gained and lost, employee by employee.
pub(super) fn person_changes<E>(
    old: &Side,
    new: &Side,
    emit: &mut dyn FnMut(Change) -> Result<(), E>,
) -> Result<(), E> {
    merge(old.employees(), new.employees(), |&(source, id), o, n| {
        let name = match (n, o) {
            (Some(e), _) => new.model().str(new.model().employees[e as usize].name),
            (None, Some(e)) => old.model().str(old.model().employees[e as usize].name),
            (None, None) => "",
        };
        merge(
            person_access(old, o),
            person_access(new, n),
            |&(target_source, target_id, permission), a, b| {
                let kind = match (&a, &b) {
                    (Some(_), None) => ChangeKind::Lost,
                    (None, Some(_)) => ChangeKind::Gained,
                    _ => return Ok(()),
                };
                let target_name = b.as_ref().or(a.as_ref()).map_or("", |x| x.0);
                let ids = |x: Option<(&str, BTreeSet<String>)>| {
                    x.map(|x| x.1.into_iter().collect()).unwrap_or_default()
                };
                emit(Change::Person(PersonChange {
                    kind,
                    source: source.to_string(),
                    id: id.to_string(),
                    name: name.to_string(),
                    target_source: target_source.to_string(),
                    target_id: target_id.to_string(),
                    target_name: target_name.to_string(),
                    permission: permission.to_string(),
                    old_identities: ids(a),
                    new_identities: ids(b),
                }))
            },
        )
    })
}
