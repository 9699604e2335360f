//! People: identities linked to HRIS employees
//! (reference/balkanid-identity-employee-mapping.md).
//!
//! Two ways link an identity to an employee:
//!
//! * **explicit rows** from a mapping file (`--people-map FILE.csv`, the
//!   "unmapped identities" CSV filled in by a person):
//!   `import::people_map` reads it into [`Model::people_map`], rejecting
//!   rows with file:line:column;
//! * **automatic matching**: an identity whose email or username equals an
//!   employee's email, username or IDP ID (case-insensitive, `<…>`
//!   stripped, blank never matches) `IS` that employee, unless it matches
//!   two different employees (ambiguous: not linked, reported). Explicit
//!   rows win: an identity named by any accepted row is never auto-linked.
//!
//! [`People::new`] derives every link from the model in one place; reports,
//! findings and the query language all read the same [`People`]. An
//! identity with two different `IS` employees is a [`MapConflict`]: both
//! links are kept (an audit tool over-reports rather than hides access) and
//! the conflict is reported by `whocan import` and `whocan findings`.
//!
//! Also here: the manager hierarchy (ids compared lowercase, cycle-safe).
//! Employees are looked up by id, email or name through the query engine's
//! one resolver (`query::resolve`). Reads no file: `import` does; the
//! unmapped-identities CSV is written by `report::people`.

use std::collections::VecDeque;

use rustc_hash::{FxHashMap, FxHashSet};
use serde::Serialize;

use crate::import::{excerpt, strip_angle_brackets};
use crate::model::{EmployeeAttribute, EntityIdx, Kind, Model, Relation, Sym};

/// Index of an employee in [`Model::employees`].
pub type EmployeeIdx = u32;

/// The columns of the unmapped-identities CSV, in order; also what a mapping
/// file is read by (headers compared ignoring case, space and punctuation).
pub const MAP_COLUMNS: [&str; 7] = [
    "Source",
    "Identity ID",
    "Identity Name",
    "Username",
    "Email",
    "Employee Email",
    "Relation",
];

/// A value compared by the matching rules: `<…>` stripped, trimmed,
/// lowercase; `None` when blank.
pub fn match_key(s: &str) -> Option<String> {
    let s = strip_angle_brackets(s).trim();
    (!s.is_empty()).then(|| s.to_lowercase())
}

/// The text of an employee attribute (`email`, `username`, `idp_id`,
/// `is_active`, …), `""` when not mapped.
pub fn employee_attr<'m>(model: &'m Model, employee: EmployeeIdx, key: &str) -> &'m str {
    employee_attribute(model, employee, key).map_or("", |a| model.str(a.text))
}

/// The employee attribute `key` (`is_active`, `termination_date`, …), with
/// its typed value; `None` when not mapped.
pub fn employee_attribute<'m>(
    model: &'m Model,
    employee: EmployeeIdx,
    key: &str,
) -> Option<&'m EmployeeAttribute> {
    let e = &model.employees[employee as usize];
    e.attributes.iter().find(|a| model.str(a.name) == key)
}

/// Lookups shared by `import::people_map` and [`People::new`], keyed by
/// interned strings (no copy per entity).
pub(crate) struct Index {
    /// `(source, id)` → entity: the graph's one key map (people maps are
    /// read before a graph exists, so it is built here from the model).
    entities: crate::graph::Keys,
    /// id → identities with that id, in any source.
    by_id: FxHashMap<Sym, Vec<EntityIdx>>,
    /// Employee email (match key) → employees.
    emails: FxHashMap<String, Vec<EmployeeIdx>>,
}

impl Index {
    pub(crate) fn new(model: &Model) -> Index {
        let entities = crate::graph::Keys::new(model);
        let mut by_id: FxHashMap<Sym, Vec<EntityIdx>> = FxHashMap::default();
        for (i, e) in model.entities.iter().enumerate() {
            if e.kind == Kind::Identity {
                by_id.entry(e.id).or_default().push(i as EntityIdx);
            }
        }
        let mut emails: FxHashMap<String, Vec<EmployeeIdx>> = FxHashMap::default();
        for i in 0..model.employees.len() as EmployeeIdx {
            if let Some(k) = match_key(employee_attr(model, i, "email")) {
                emails.entry(k).or_default().push(i);
            }
        }
        Index {
            entities,
            by_id,
            emails,
        }
    }

    /// The identity a row names, or why not.
    pub(crate) fn identity(
        &self,
        model: &Model,
        source: &str,
        id: &str,
    ) -> Result<EntityIdx, String> {
        if source.is_empty() {
            let found = model.strings.get(id).and_then(|id| self.by_id.get(&id));
            return match found.map(Vec::as_slice) {
                Some([one]) => Ok(*one),
                Some(many) => Err(format!(
                    "Identity ID {} names {} identities in different sources; fill in Source",
                    excerpt(id),
                    many.len()
                )),
                None => Err(format!(
                    "no identity has Identity ID {} in any source",
                    excerpt(id)
                )),
            };
        }
        match self.entities.find(model, source, id) {
            Some(e) if model.entity(e).kind == Kind::Identity => Ok(e),
            Some(e) => Err(format!(
                "{source}/{id} is a {}, not an identity",
                model.entity(e).kind
            )),
            None => Err(format!(
                "no identity has Source {} and Identity ID {}",
                excerpt(source),
                excerpt(id)
            )),
        }
    }

    /// The employee an email names, or why not.
    pub(crate) fn employee(&self, model: &Model, email: &str) -> Result<EmployeeIdx, String> {
        let key = match_key(email).unwrap_or_default();
        match self.emails.get(&key).map(Vec::as_slice) {
            Some([one]) => Ok(*one),
            Some(many) => Err(format!(
                "Employee Email {} matches {} HRIS employees ({}); it must name one",
                excerpt(email),
                many.len(),
                many.iter()
                    .map(|&e| employee_key(model, e))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
            None if model.employees.is_empty() => Err(format!(
                "Employee Email {} matches no HRIS employee (no HRIS employees are loaded)",
                excerpt(email)
            )),
            None => Err(format!(
                "Employee Email {} matches no HRIS employee's email",
                excerpt(email)
            )),
        }
    }
}

/// `source/id` of an employee.
pub fn employee_key(model: &Model, e: EmployeeIdx) -> String {
    let e = &model.employees[e as usize];
    format!("{}/{}", model.str(e.source), model.str(e.id))
}

/// Which values an automatic match compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Rule {
    /// Identity email = employee email.
    EmailEmail,
    /// Identity email = employee username.
    EmailUsername,
    /// Identity email = employee IDP ID.
    EmailIdp,
    /// Identity username = employee email.
    UsernameEmail,
    /// Identity username = employee username.
    UsernameUsername,
    /// Identity username = employee IDP ID.
    UsernameIdp,
}

impl Rule {
    /// Every rule, in the order they are tried and reported.
    pub const ALL: [Rule; 6] = [
        Rule::EmailEmail,
        Rule::EmailUsername,
        Rule::EmailIdp,
        Rule::UsernameEmail,
        Rule::UsernameUsername,
        Rule::UsernameIdp,
    ];

    /// `identity email = employee email`, ….
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::EmailEmail => "identity email = employee email",
            Rule::EmailUsername => "identity email = employee username",
            Rule::EmailIdp => "identity email = employee idp_id",
            Rule::UsernameEmail => "identity username = employee email",
            Rule::UsernameUsername => "identity username = employee username",
            Rule::UsernameIdp => "identity username = employee idp_id",
        }
    }
}

/// How a link was made.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum How {
    /// An accepted mapping row: index into `Model::people_map.rows` (the
    /// first of identical rows).
    Explicit(u32),
    /// An automatic match.
    Auto(Rule),
}

/// One identity linked to one employee.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Link {
    /// The identity.
    pub identity: EntityIdx,
    /// The employee.
    pub employee: EmployeeIdx,
    /// IS or OWNS.
    pub relation: Relation,
    /// Explicit row or automatic rule.
    pub how: How,
}

/// An identity with two different `IS` employees in mapping rows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MapConflict {
    /// The identity.
    pub identity: EntityIdx,
    /// The first row naming it IS, and its employee.
    pub first: (u32, EmployeeIdx),
    /// A later row naming another employee.
    pub other: (u32, EmployeeIdx),
}

/// An identity matching several employees by automatic rules: not linked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ambiguous {
    /// The identity.
    pub identity: EntityIdx,
    /// Every employee it matched, with the first rule that matched each.
    pub employees: Vec<(EmployeeIdx, Rule)>,
}

/// Every link between identities and employees, and the manager hierarchy.
#[derive(Debug, Default)]
pub struct People {
    /// Every link, sorted by employee, relation, identity.
    pub links: Vec<Link>,
    /// Identities with two different IS employees, in row order.
    pub conflicts: Vec<MapConflict>,
    /// Identities not auto-linked because they match several employees,
    /// in entity order.
    pub ambiguous: Vec<Ambiguous>,
    /// Link indices per identity.
    by_identity: FxHashMap<EntityIdx, Vec<u32>>,
    /// Link indices per employee (`links` is sorted by employee).
    employee_start: Vec<u32>,
    /// Direct reports of each employee.
    reports: Vec<Vec<EmployeeIdx>>,
    /// Direct managers of each employee (resolved).
    managers: Vec<Vec<EmployeeIdx>>,
    /// Employees naming themselves as their manager (no link).
    self_managed: Vec<bool>,
}

/// How many automatic links one rule made.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RuleCount {
    /// The rule, e.g. `identity email = employee email`.
    pub rule: &'static str,
    /// Links it made.
    pub links: u64,
}

/// The counts `whocan import` prints.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Identities loaded.
    pub identities: u64,
    /// Identities with at least one IS link.
    pub mapped_is: u64,
    /// Identities with at least one OWNS link.
    pub mapped_owns: u64,
    /// Distinct explicit links.
    pub explicit: u64,
    /// Automatic links by rule, in [`Rule::ALL`] order (empty under
    /// `--no-auto-map`).
    pub auto_by_rule: Vec<RuleCount>,
    /// Identities matching several employees automatically (not linked).
    pub ambiguous: u64,
    /// Identities with two different IS employees.
    pub conflicts: u64,
    /// Identities with no link at all.
    pub unmapped: u64,
    /// Mapping rows read, accepted, rejected.
    pub rows_read: u64,
    /// Mapping rows accepted.
    pub rows_accepted: u64,
    /// Mapping rows rejected.
    pub rows_rejected: u64,
    /// False under `--no-auto-map`.
    pub auto_map: bool,
}

impl People {
    /// Derives every link: explicit rows first (rows whose identity or
    /// employee no longer resolves are skipped), then, unless
    /// `--no-auto-map`, automatic matches for identities no row names.
    pub fn new(model: &Model) -> People {
        let index = Index::new(model);
        let mut seen: FxHashMap<(EntityIdx, EmployeeIdx, Relation), u32> = FxHashMap::default();
        let mut links = Vec::new();
        let mut explicit_ids: FxHashSet<EntityIdx> = FxHashSet::default();
        let mut first_is: FxHashMap<EntityIdx, (u32, EmployeeIdx)> = FxHashMap::default();
        let mut conflicts = Vec::new();
        let mut reported: FxHashSet<(EntityIdx, EmployeeIdx)> = FxHashSet::default();
        for (r, row) in model.people_map.rows.iter().enumerate() {
            let r = r as u32;
            let (Ok(identity), Ok(employee)) = (
                index.identity(model, &row.source, &row.identity_id),
                index.employee(model, &row.employee_email),
            ) else {
                continue;
            };
            explicit_ids.insert(identity);
            if row.relation == Relation::Is {
                match first_is.get(&identity) {
                    None => {
                        first_is.insert(identity, (r, employee));
                    }
                    Some(&(fr, fe)) if fe != employee && reported.insert((identity, employee)) => {
                        conflicts.push(MapConflict {
                            identity,
                            first: (fr, fe),
                            other: (r, employee),
                        });
                    }
                    Some(_) => {}
                }
            }
            seen.entry((identity, employee, row.relation))
                .or_insert_with(|| {
                    links.push(Link {
                        identity,
                        employee,
                        relation: row.relation,
                        how: How::Explicit(r),
                    });
                    r
                });
        }
        let mut ambiguous = Vec::new();
        if !model.people_map.no_auto_map && !model.employees.is_empty() {
            // Employee values by match key, per field.
            let mut values: FxHashMap<String, Vec<(EmployeeIdx, u8)>> = FxHashMap::default();
            for e in 0..model.employees.len() as EmployeeIdx {
                for (field, key) in ["email", "username", "idp_id"].iter().enumerate() {
                    if let Some(k) = match_key(employee_attr(model, e, key)) {
                        values.entry(k).or_default().push((e, field as u8));
                    }
                }
            }
            for (i, ent) in model.entities.iter().enumerate() {
                let i = i as EntityIdx;
                if ent.kind != Kind::Identity || explicit_ids.contains(&i) {
                    continue;
                }
                let Some(a) = &ent.attributes else { continue };
                let mut found: Vec<(EmployeeIdx, Rule)> = Vec::new();
                for (side, value) in [(0usize, a.email), (1, a.username)] {
                    let Some(k) = match_key(model.str(value)) else {
                        continue;
                    };
                    for &(e, field) in values.get(&k).map(Vec::as_slice).unwrap_or(&[]) {
                        found.push((e, Rule::ALL[side * 3 + field as usize]));
                    }
                }
                // The first rule (in Rule order) that matched each employee.
                found.sort_by_key(|&(e, rule)| (e, rule));
                found.dedup_by_key(|x| x.0);
                match found.as_slice() {
                    [] => {}
                    [(employee, rule)] => links.push(Link {
                        identity: i,
                        employee: *employee,
                        relation: Relation::Is,
                        how: How::Auto(*rule),
                    }),
                    _ => ambiguous.push(Ambiguous {
                        identity: i,
                        employees: found,
                    }),
                }
            }
        }
        links.sort_by_key(|l| (l.employee, l.relation, l.identity));
        let mut by_identity: FxHashMap<EntityIdx, Vec<u32>> = FxHashMap::default();
        let n = model.employees.len();
        let mut employee_start = vec![0u32; n + 1];
        for (k, l) in links.iter().enumerate() {
            by_identity.entry(l.identity).or_default().push(k as u32);
            employee_start[l.employee as usize + 1] += 1;
        }
        for i in 0..n {
            employee_start[i + 1] += employee_start[i];
        }
        let (reports, managers, self_managed) = hierarchy(model);
        People {
            links,
            conflicts,
            ambiguous,
            by_identity,
            employee_start,
            reports,
            managers,
            self_managed,
        }
    }

    /// The links of one employee, IS before OWNS.
    pub fn links_of_employee(&self, e: EmployeeIdx) -> &[Link] {
        let (a, b) = (
            self.employee_start[e as usize] as usize,
            self.employee_start[e as usize + 1] as usize,
        );
        &self.links[a..b]
    }

    /// The links of one identity.
    pub fn links_of_identity(&self, i: EntityIdx) -> impl Iterator<Item = &Link> {
        self.by_identity
            .get(&i)
            .into_iter()
            .flatten()
            .map(|&k| &self.links[k as usize])
    }

    /// True when any link names the identity.
    pub fn is_mapped(&self, i: EntityIdx) -> bool {
        self.by_identity.contains_key(&i)
    }

    /// Direct and indirect reports of `e`, each with its depth (1 = direct),
    /// breadth first, nearest depth; `e` itself never appears, so a cycle in
    /// the manager links ends the walk.
    pub fn reports_of(&self, e: EmployeeIdx) -> Vec<(EmployeeIdx, u32)> {
        walk(&self.reports, e)
    }

    /// The direct reports of `e` (resolved manager links).
    pub fn direct_reports(&self, e: EmployeeIdx) -> &[EmployeeIdx] {
        &self.reports[e as usize]
    }

    /// The direct managers of `e` (resolved manager links).
    pub fn direct_managers(&self, e: EmployeeIdx) -> &[EmployeeIdx] {
        &self.managers[e as usize]
    }

    /// Direct and indirect managers of `e`, nearest first (depth 1 = direct
    /// manager); cycle-safe.
    pub fn managers_of(&self, e: EmployeeIdx) -> Vec<(EmployeeIdx, u32)> {
        walk(&self.managers, e)
    }

    /// True when `e` names itself among its managers, which is no manager
    /// link (see [`ManagerLinks`]).
    pub fn is_self_managed(&self, e: EmployeeIdx) -> bool {
        self.self_managed.get(e as usize).copied().unwrap_or(false)
    }

    /// How a link was made, as a person reads it: `explicit people.csv:4`
    /// or `auto: identity email = employee email`.
    pub fn describe_how(&self, model: &Model, how: How) -> String {
        match how {
            How::Explicit(r) => {
                let row = &model.people_map.rows[r as usize];
                format!("explicit {}:{}", row.file.display(), row.line)
            }
            How::Auto(rule) => format!("auto: {}", rule.as_str()),
        }
    }

    /// The counts for the import report.
    pub fn summary(&self, model: &Model) -> Summary {
        let mut s = Summary {
            auto_map: !model.people_map.no_auto_map,
            ..Summary::default()
        };
        for f in &model.people_map.files {
            s.rows_read += f.rows_read;
            s.rows_accepted += f.rows_accepted;
            s.rows_rejected += f.rows_rejected;
        }
        if s.auto_map {
            s.auto_by_rule = Rule::ALL
                .iter()
                .map(|r| RuleCount {
                    rule: r.as_str(),
                    links: 0,
                })
                .collect();
        }
        for l in &self.links {
            match l.how {
                How::Explicit(_) => s.explicit += 1,
                How::Auto(rule) => {
                    let k = Rule::ALL.iter().position(|r| *r == rule).unwrap_or(0);
                    if let Some(c) = s.auto_by_rule.get_mut(k) {
                        c.links += 1;
                    }
                }
            }
        }
        for (i, e) in model.entities.iter().enumerate() {
            if e.kind != Kind::Identity {
                continue;
            }
            s.identities += 1;
            let links: Vec<&Link> = self.links_of_identity(i as EntityIdx).collect();
            if links.is_empty() {
                s.unmapped += 1;
            }
            if links.iter().any(|l| l.relation == Relation::Is) {
                s.mapped_is += 1;
            }
            if links.iter().any(|l| l.relation == Relation::Owns) {
                s.mapped_owns += 1;
            }
        }
        s.ambiguous = self.ambiguous.len() as u64;
        s.conflicts = self.conflicts.len() as u64;
        s
    }

    /// A conflict as one sentence with both rows' file:line.
    pub fn describe_conflict(&self, model: &Model, c: &MapConflict) -> String {
        let ((file, line), text) = self.conflict_evidence(model, c);
        format!("{file}:{line}: {text}")
    }

    /// A conflict as the file and line of its later row and a sentence
    /// naming the earlier one.
    pub fn conflict_evidence(&self, model: &Model, c: &MapConflict) -> ((String, u64), String) {
        let row = |r: u32| {
            let row = &model.people_map.rows[r as usize];
            (row.file.display().to_string(), row.line)
        };
        let ent = model.entity(c.identity);
        let (first_file, first_line) = row(c.first.0);
        let text = format!(
            "{}/{} IS {} here but IS {} at {first_file}:{first_line}; both links kept",
            model.str(ent.source),
            model.str(ent.id),
            employee_key(model, c.other.1),
            employee_key(model, c.first.1),
        );
        (row(c.other.0), text)
    }

    /// An ambiguous automatic match as one sentence.
    pub fn describe_ambiguous(&self, model: &Model, a: &Ambiguous) -> String {
        format!(
            "{}: {}",
            model.location(model.entity(a.identity).origin),
            self.ambiguous_text(model, a)
        )
    }

    /// An ambiguous automatic match as a sentence, without its place (the
    /// identity's first row).
    pub fn ambiguous_text(&self, model: &Model, a: &Ambiguous) -> String {
        let ent = model.entity(a.identity);
        let matches: Vec<String> = a
            .employees
            .iter()
            .map(|&(e, rule)| format!("{} ({})", employee_key(model, e), rule.as_str()))
            .collect();
        format!(
            "{}/{} matches {} employees: {}; not linked (add a mapping row)",
            model.str(ent.source),
            model.str(ent.id),
            a.employees.len(),
            matches.join(", ")
        )
    }

    /// The mapping summary printed by `whocan import`, several lines.
    pub fn describe(&self, model: &Model) -> String {
        use std::fmt::Write;
        let s = self.summary(model);
        let mut out = String::new();
        let _ = writeln!(
            out,
            "people: {}: {} mapped IS, {} mapped OWNS, {} unmapped",
            format_args!(
                "{} {}",
                s.identities,
                if s.identities == 1 {
                    "identity"
                } else {
                    "identities"
                }
            ),
            s.mapped_is,
            s.mapped_owns,
            s.unmapped
        );
        let _ = writeln!(
            out,
            "  mapping rows: {} read = {} accepted + {} rejected; {} explicit link{}",
            s.rows_read,
            s.rows_accepted,
            s.rows_rejected,
            s.explicit,
            if s.explicit == 1 { "" } else { "s" }
        );
        if s.auto_map {
            for c in &s.auto_by_rule {
                let _ = writeln!(out, "  auto: {}: {}", c.rule, c.links);
            }
        } else {
            out.push_str("  auto-mapping off (--no-auto-map)\n");
        }
        let _ = writeln!(
            out,
            "  conflicts: {}, ambiguous automatic matches: {}",
            s.conflicts, s.ambiguous
        );
        for c in &self.conflicts {
            let _ = writeln!(out, "  conflict: {}", self.describe_conflict(model, c));
        }
        for a in &self.ambiguous {
            let _ = writeln!(out, "  ambiguous: {}", self.describe_ambiguous(model, a));
        }
        for r in &model.people_map.rejections {
            let _ = writeln!(out, "  rejected: {r}");
        }
        out
    }
}

/// What employees' manager references resolve to: the one meaning of a
/// manager link, shared by the import summary, the hierarchy walks and the
/// queries. A reference is compared lowercase (reference/veza-csv-upload.md)
/// with the lowercased ids of the same HRIS source; a reference to the
/// employee itself (the top of a hierarchy, often) is no link; a reference
/// repeated is one link.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ManagerLinks {
    /// Direct managers of each employee, in reference order.
    pub managers: Vec<Vec<EmployeeIdx>>,
    /// Employees naming themselves among their managers.
    pub self_managed: Vec<bool>,
    /// References matching no employee, lowercase, sorted.
    pub unknown: Vec<String>,
}

impl ManagerLinks {
    /// Resolves every employee's manager references.
    pub fn new(model: &Model) -> ManagerLinks {
        let n = model.employees.len();
        let mut ids: FxHashMap<(crate::model::Sym, String), EmployeeIdx> = FxHashMap::default();
        for (i, e) in model.employees.iter().enumerate() {
            ids.entry((e.source, model.str(e.id).to_lowercase()))
                .or_insert(i as EmployeeIdx);
        }
        let mut links = ManagerLinks {
            managers: vec![Vec::new(); n],
            self_managed: vec![false; n],
            unknown: Vec::new(),
        };
        for (i, e) in model.employees.iter().enumerate() {
            for &m in &e.managers {
                let key = model.str(m).to_lowercase();
                match ids.get(&(e.source, key)) {
                    None => links.unknown.push(model.str(m).to_lowercase()),
                    Some(&mi) if mi as usize == i => links.self_managed[i] = true,
                    Some(&mi) => {
                        if !links.managers[i].contains(&mi) {
                            links.managers[i].push(mi);
                        }
                    }
                }
            }
        }
        links.unknown.sort_unstable();
        links.unknown.dedup();
        links
    }

    /// The number of manager links.
    pub fn count(&self) -> usize {
        self.managers.iter().map(Vec::len).sum()
    }

    /// The number of employees naming themselves as their manager.
    pub fn self_managed_count(&self) -> usize {
        self.self_managed.iter().filter(|&&s| s).count()
    }
}

/// Reports and managers per employee, and who names themselves as their
/// manager, from [`ManagerLinks`].
fn hierarchy(model: &Model) -> (Vec<Vec<EmployeeIdx>>, Vec<Vec<EmployeeIdx>>, Vec<bool>) {
    let links = ManagerLinks::new(model);
    let mut reports = vec![Vec::new(); model.employees.len()];
    for (i, managers) in links.managers.iter().enumerate() {
        for &mi in managers {
            reports[mi as usize].push(i as EmployeeIdx);
        }
    }
    (reports, links.managers, links.self_managed)
}

/// Breadth-first walk from `start` over `next`, nearest depth per employee,
/// `start` excluded.
fn walk(next: &[Vec<EmployeeIdx>], start: EmployeeIdx) -> Vec<(EmployeeIdx, u32)> {
    let mut seen: FxHashSet<EmployeeIdx> = FxHashSet::default();
    seen.insert(start);
    let mut out = Vec::new();
    let mut queue = VecDeque::from([(start, 0u32)]);
    while let Some((e, d)) = queue.pop_front() {
        for &n in &next[e as usize] {
            if seen.insert(n) {
                out.push((n, d + 1));
                queue.push_back((n, d + 1));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Attributes, Employee, Entity, PeopleMapRow, Provenance};

    /// A model with identities `(source, id, email, username)` and employees
    /// `(id, email, username, idp_id, managers)`.
    fn model(
        identities: &[(&str, &str, &str, &str)],
        employees: &[(&str, &str, &str, &str, &str)],
    ) -> Model {
        let mut m = Model::default();
        let at = Provenance { file: 0, line: 1 };
        for (source, id, email, username) in identities {
            let attributes = Attributes {
                email: m.strings.intern(email),
                username: m.strings.intern(username),
                ..Attributes::default()
            };
            let e = Entity {
                source: m.strings.intern(source),
                id: m.strings.intern(id),
                name: m.strings.intern(id),
                kind: Kind::Identity,
                source_type: m.strings.intern("user"),
                attributes: Some(attributes),
                origin: at,
            };
            m.entities.push(e);
        }
        for (id, email, username, idp, managers) in employees {
            let mut attributes = Vec::new();
            for (k, v) in [("email", email), ("username", username), ("idp_id", idp)] {
                if !v.is_empty() {
                    let (name, text) = (m.strings.intern(k), m.strings.intern(v));
                    attributes.push(EmployeeAttribute::typed(&m.strings, name, text));
                }
            }
            let e = Employee {
                source: m.strings.intern("hr"),
                id: m.strings.intern(id),
                name: m.strings.intern(id),
                attributes,
                managers: managers
                    .split(',')
                    .filter(|s| !s.is_empty())
                    .map(|s| m.strings.intern(s))
                    .collect(),
                origin: at,
            };
            m.employees.push(e);
        }
        m
    }

    /// Links as `identity -> employee RELATION how`, sorted.
    #[track_caller]
    fn check(m: &Model, expected: &[&str]) {
        let p = People::new(m);
        let mut got: Vec<String> = p
            .links
            .iter()
            .map(|l| {
                format!(
                    "{} -> {} {} {}",
                    m.str(m.entity(l.identity).id),
                    m.str(m.employees[l.employee as usize].id),
                    l.relation.as_str(),
                    p.describe_how(m, l.how)
                )
            })
            .collect();
        got.sort();
        assert_eq!(got, expected);
    }

    fn row(m: &mut Model, id: &str, email: &str, relation: Relation, line: u64) {
        m.people_map.rows.push(PeopleMapRow {
            source: "app".into(),
            identity_id: id.into(),
            employee_email: email.into(),
            relation,
            file: "map.csv".into(),
            line,
        });
    }

    #[test]
    fn every_auto_rule_matches_case_insensitively_with_brackets_stripped() {
        let m = model(
            &[
                ("app", "i1", "<ADA@x.com>", ""),
                ("app", "i2", "bob", ""),
                ("app", "i3", "idp-3", ""),
                ("app", "i4", "", "Dee@X.com"),
                ("app", "i5", "", "eve"),
                ("app", "i6", "", "IDP-6"),
            ],
            &[
                ("e1", "ada@x.com", "", "", ""),
                ("e2", "b@x.com", "BOB", "", ""),
                ("e3", "c@x.com", "", "idp-3", ""),
                ("e4", "dee@x.com", "", "", ""),
                ("e5", "e@x.com", "eve", "", ""),
                ("e6", "f@x.com", "", "idp-6", ""),
            ],
        );
        check(
            &m,
            &[
                "i1 -> e1 IS auto: identity email = employee email",
                "i2 -> e2 IS auto: identity email = employee username",
                "i3 -> e3 IS auto: identity email = employee idp_id",
                "i4 -> e4 IS auto: identity username = employee email",
                "i5 -> e5 IS auto: identity username = employee username",
                "i6 -> e6 IS auto: identity username = employee idp_id",
            ],
        );
    }

    #[test]
    fn blank_values_never_match() {
        let m = model(&[("app", "i1", " ", "<>")], &[("e1", "", "", "", "")]);
        check(&m, &[]);
    }

    #[test]
    fn two_employees_matching_one_identity_is_ambiguous_not_linked() {
        let m = model(
            &[("app", "i1", "ada@x.com", "bob")],
            &[
                ("e1", "ada@x.com", "", "", ""),
                ("e2", "b@x.com", "bob", "", ""),
            ],
        );
        check(&m, &[]);
        let p = People::new(&m);
        assert_eq!(p.ambiguous.len(), 1);
        assert_eq!(p.ambiguous[0].employees.len(), 2);
    }

    #[test]
    fn one_employee_matched_twice_is_linked_once_by_the_first_rule() {
        let m = model(
            &[("app", "i1", "ada@x.com", "ada")],
            &[("e1", "ada@x.com", "ada", "", "")],
        );
        check(&m, &["i1 -> e1 IS auto: identity email = employee email"]);
    }

    #[test]
    fn explicit_rows_win_and_no_auto_map_turns_matching_off() {
        let mut m = model(
            &[
                ("app", "i1", "ada@x.com", ""),
                ("app", "i2", "bob@x.com", ""),
            ],
            &[
                ("e1", "ada@x.com", "", "", ""),
                ("e2", "bob@x.com", "", "", ""),
            ],
        );
        row(&mut m, "i1", "BOB@x.com", Relation::Owns, 2);
        row(&mut m, "i1", "bob@x.com", Relation::Owns, 3);
        check(
            &m,
            &[
                "i1 -> e2 OWNS explicit map.csv:2",
                "i2 -> e2 IS auto: identity email = employee email",
            ],
        );
        m.people_map.no_auto_map = true;
        check(&m, &["i1 -> e2 OWNS explicit map.csv:2"]);
    }

    #[test]
    fn two_is_employees_are_a_conflict_and_both_links_are_kept() {
        let mut m = model(
            &[("app", "i1", "", "")],
            &[
                ("e1", "ada@x.com", "", "", ""),
                ("e2", "bob@x.com", "", "", ""),
            ],
        );
        row(&mut m, "i1", "ada@x.com", Relation::Is, 2);
        row(&mut m, "i1", "bob@x.com", Relation::Is, 5);
        check(
            &m,
            &[
                "i1 -> e1 IS explicit map.csv:2",
                "i1 -> e2 IS explicit map.csv:5",
            ],
        );
        let p = People::new(&m);
        assert_eq!(
            p.describe_conflict(&m, &p.conflicts[0]),
            "map.csv:5: app/i1 IS hr/e2 here but IS hr/e1 at map.csv:2; both links kept"
        );
    }

    #[test]
    fn manager_walks_are_cycle_safe_and_compare_lowercase() {
        let m = model(
            &[],
            &[
                ("E1", "", "", "", "e3"),
                ("e2", "", "", "", "e1"),
                ("e3", "", "", "", "E2"),
                ("e4", "", "", "", "e3"),
            ],
        );
        let p = People::new(&m);
        // e1 manages e2, e2 manages e3, e3 manages e1 and e4.
        assert_eq!(p.reports_of(0), vec![(1, 1), (2, 2), (3, 3)]);
        assert_eq!(p.managers_of(3), vec![(2, 1), (1, 2), (0, 3)]);
    }

    /// Identity ids as `people unmapped` must keep apart: starting with a
    /// formula character, a quote (one or two), tab or CR, then text with
    /// quotes, commas and formula characters (ids are trimmed at import, so
    /// they never end in whitespace).
    fn formula_ids() -> impl proptest::strategy::Strategy<Value = Vec<String>> {
        use proptest::prelude::*;
        let id = (
            prop::sample::select(vec!["=", "+", "-", "@", "'", "''", "\t", "\r", "'-", ""]),
            "[a-z0-9=+@',\"-]{1,5}",
        )
            .prop_map(|(start, rest)| format!("{start}{rest}"));
        prop::collection::btree_set(id, 1..12).prop_map(|ids| ids.into_iter().collect())
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

        /// `people unmapped` → a person fills in every row (by its name) →
        /// `--people-map` links each employee to exactly the identity of
        /// its row.
        #[test]
        fn issue_13_3_unmapped_export_round_trips_every_formula_id(ids in formula_ids()) {
            let mut m = Model::default();
            let at = Provenance { file: 0, line: 1 };
            for (k, id) in ids.iter().enumerate() {
                let e = Entity {
                    source: m.strings.intern("app"),
                    id: m.strings.intern(id),
                    name: m.strings.intern(&format!("n{k}")),
                    kind: Kind::Identity,
                    source_type: m.strings.intern("user"),
                    attributes: Some(Attributes::default()),
                    origin: at,
                };
                m.entities.push(e);
                let (name, text) = (m.strings.intern("email"), m.strings.intern(&format!("e{k}@x.com")));
                let email = EmployeeAttribute::typed(&m.strings, name, text);
                let employee = Employee {
                    source: m.strings.intern("hr"),
                    id: m.strings.intern(&format!("E{k}")),
                    name: m.strings.intern(&format!("E{k}")),
                    attributes: vec![email],
                    managers: Vec::new(),
                    origin: at,
                };
                m.employees.push(employee);
            }
            m.people_map.no_auto_map = true;
            let mut exported = Vec::new();
            crate::report::people::write_unmapped(&People::new(&m), &m, &mut exported).unwrap();
            let mut reader = csv::ReaderBuilder::new().from_reader(exported.as_slice());
            let mut filled = csv::Writer::from_writer(Vec::new());
            filled.write_record(reader.headers().unwrap()).unwrap();
            for record in reader.records() {
                let mut record: Vec<String> =
                    record.unwrap().iter().map(str::to_string).collect();
                let k: usize = record[2][1..].parse().unwrap();
                record[5] = format!("e{k}@x.com");
                record[6] = "IS".into();
                filled.write_record(&record).unwrap();
            }
            let filled = filled.into_inner().unwrap();
            crate::import::people_map::load_reader(&mut m, "map.csv".as_ref(), filled.as_slice())
                .unwrap();
            proptest::prop_assert!(m.people_map.rejections.is_empty(), "{:?}", m.people_map.rejections);
            let people = People::new(&m);
            for (k, id) in ids.iter().enumerate() {
                let linked: Vec<&str> = people
                    .links
                    .iter()
                    .filter(|l| l.employee as usize == k)
                    .map(|l| m.str(m.entity(l.identity).id))
                    .collect();
                proptest::prop_assert_eq!(linked, vec![id.as_str()]);
            }
        }
    }
}
