//! Naming things in a query: one tiered resolver for entity references and
//! HRIS employee references, the checks of permissions, projects and types,
//! and `find`.
//!
//! An entity reference resolves by id, then source/id, then name, username
//! or email: exact, then case-insensitive (ASCII), then prefix. An employee
//! reference resolves by source/id, then id, then email or name: exact, then
//! case-insensitive, then prefix. Both run through [`first_match`]: several
//! matches at the first tier that matches is an ambiguity, reported with
//! every candidate; nothing is guessed. Does no I/O.

use rustc_hash::{FxHashMap, FxHashSet};
use serde_json::json;

use super::ast::{EntityRef, RefForm, Word};
use super::engine::{Engine, Evaluated, Field, fold_starts_with};
use super::parse::suggest;
use super::{Answer, ErrorKind, QueryError};
use crate::import::strip_angle_brackets;
use crate::model::{EntityIdx, Kind, Sym};
use crate::people::{EmployeeIdx, employee_attr, employee_key};
use crate::report::Table;

/// Candidates listed for an ambiguous reference.
const MAX_CANDIDATES: usize = 10;

/// One tier of a lookup: how it matches, and its matches, computed only
/// when the tier is reached (the case-insensitive index is built on first
/// need, never for an exact id).
type Tier<'a, T> = (&'static str, Box<dyn Fn() -> Vec<T> + 'a>);

/// The tier of the employees `0..n` passing `test`.
fn matching<'a>(
    n: EmployeeIdx,
    test: impl Fn(EmployeeIdx) -> bool + 'a,
) -> Box<dyn Fn() -> Vec<EmployeeIdx> + 'a> {
    Box::new(move || (0..n).filter(|&e| test(e)).collect())
}

/// Tries `tiers` in order; the first that matches anything decides: how it
/// matched and what (one match, or several: an ambiguity). `None` when no
/// tier matches.
fn first_match<T>(tiers: Vec<Tier<'_, T>>) -> Option<(&'static str, Vec<T>)> {
    tiers.into_iter().find_map(|(how, tier)| {
        let found = tier();
        (!found.is_empty()).then_some((how, found))
    })
}

impl<'g> Engine<'g> {
    /// Resolves a reference to one entity, or says why it cannot.
    pub fn resolve(&self, r: &EntityRef) -> Result<EntityIdx, QueryError> {
        let text = r.text.as_str();
        let ids_only = r.form == RefForm::Id;
        let is_id = |f: &Field| *f == Field::Id;
        let not_id = |f: &Field| *f != Field::Id;
        let pick = |entries: &[(Sym, EntityIdx, Field)], keep: &dyn Fn(&Field) -> bool| {
            let mut v: Vec<EntityIdx> =
                entries.iter().filter(|x| keep(&x.2)).map(|x| x.1).collect();
            v.sort_unstable();
            v.dedup();
            v
        };
        // Tiers are tried in order and computed only when reached: the
        // case-insensitive index is built on first need, never for an exact
        // id.
        let mut tiers: Vec<Tier<EntityIdx>> = Vec::new();
        tiers.push(("id", Box::new(|| pick(self.exact_range(text), &is_id))));
        if r.form == RefForm::Word {
            // `source/id`: try every `/`, since ids contain slashes too.
            tiers.push((
                "source/id",
                Box::new(|| {
                    let mut v: Vec<EntityIdx> = text
                        .match_indices('/')
                        .filter_map(|(i, _)| self.graph.find(&text[..i], &text[i + 1..]))
                        .collect();
                    v.sort_unstable();
                    v.dedup();
                    v
                }),
            ));
        }
        if !ids_only {
            tiers.push((
                "name, username or email",
                Box::new(|| pick(self.exact_range(text), &not_id)),
            ));
        }
        tiers.push((
            "case-insensitive id",
            Box::new(|| pick(self.folded_range(text, false), &is_id)),
        ));
        if !ids_only {
            tiers.push((
                "case-insensitive name, username or email",
                Box::new(|| pick(self.folded_range(text, false), &not_id)),
            ));
            tiers.push((
                "prefix of an id, name, username or email",
                Box::new(|| pick(self.folded_range(text, true), &|_| true)),
            ));
        } else {
            tiers.push((
                "id prefix",
                Box::new(|| pick(self.folded_range(text, true), &is_id)),
            ));
        }
        if let Some((how, mut found)) = first_match(tiers) {
            if let [one] = found[..] {
                return Ok(one);
            }
            let n = found.len();
            found.sort_by(|&a, &b| self.order(a, b));
            let candidates = found
                .iter()
                .take(MAX_CANDIDATES)
                .map(|&e| self.candidate(e))
                .collect();
            return Err(QueryError {
                pos: r.pos,
                width: r.width,
                kind: ErrorKind::Ambiguous {
                    text: text.to_string(),
                    how: how.to_string(),
                    candidates,
                    more: n.saturating_sub(MAX_CANDIDATES),
                },
            });
        }
        Err(QueryError {
            pos: r.pos,
            width: r.width,
            kind: ErrorKind::UnknownEntity {
                text: text.to_string(),
                suggestion: self.suggest_entity(text),
            },
        })
    }

    fn suggest_entity(&self, text: &str) -> Option<String> {
        let len = text.len();
        let mut seen = FxHashSet::default();
        let candidates: Vec<&str> = self
            .entries()
            .iter()
            .filter(|x| seen.insert(x.0))
            .map(|x| self.model.str(x.0))
            .filter(|s| s.len().abs_diff(len) <= 3)
            .collect();
        suggest(text, candidates)
    }

    pub(super) fn resolve_kind(
        &self,
        r: &EntityRef,
        allowed: &[Kind],
        role: &str,
    ) -> Result<EntityIdx, QueryError> {
        let e = self.resolve(r)?;
        let kind = self.kind(e);
        if allowed.contains(&kind) {
            return Ok(e);
        }
        Err(QueryError {
            pos: r.pos,
            width: r.width,
            kind: ErrorKind::WrongKind {
                message: format!(
                    "`{}` is {} {kind} ({}/{}); {role}",
                    r.text,
                    if kind == Kind::Identity { "an" } else { "a" },
                    self.source(e),
                    self.id(e)
                ),
            },
        })
    }

    pub(super) fn permission(&self, w: &Option<Word>) -> Result<Option<Sym>, QueryError> {
        let Some(w) = w else { return Ok(None) };
        if let Some(s) = self.model.strings.get(&w.text) {
            if self
                .permissions
                .binary_search_by(|p| self.model.str(*p).cmp(&w.text))
                .is_ok()
                || self.permissions.contains(&s)
            {
                return Ok(Some(s));
            }
        }
        let folded: Vec<Sym> = self
            .permissions
            .iter()
            .copied()
            .filter(|p| self.model.str(*p).eq_ignore_ascii_case(&w.text))
            .collect();
        if folded.len() == 1 {
            return Ok(Some(folded[0]));
        }
        Err(QueryError {
            pos: w.pos,
            width: w.text.chars().count() as u32,
            kind: ErrorKind::UnknownPermission {
                text: w.text.clone(),
                suggestion: suggest(&w.text, self.permissions.iter().map(|p| self.model.str(*p))),
            },
        })
    }

    /// Checks `in project Q`: some entity has project Q (compared
    /// case-insensitively), or an error with the closest project.
    pub(super) fn check_project(&self, w: &Word) -> Result<(), QueryError> {
        let m = self.model;
        if self
            .projects
            .iter()
            .any(|&p| m.str(p).eq_ignore_ascii_case(&w.text))
        {
            return Ok(());
        }
        Err(QueryError {
            pos: w.pos,
            width: w.text.chars().count() as u32,
            kind: ErrorKind::UnknownProject {
                text: w.text.clone(),
                suggestion: suggest(&w.text, self.projects.iter().map(|&p| m.str(p))),
            },
        })
    }

    /// Checks `of type T`: T is a kind or some entity's source type
    /// (compared case-insensitively), or an error with the closest one.
    pub(super) fn check_type(&self, w: &Word) -> Result<(), QueryError> {
        let m = self.model;
        let mut names = Kind::ALL
            .iter()
            .map(|k| k.as_str())
            .chain(self.source_types.iter().map(|&t| m.str(t)));
        if names.any(|t| t.eq_ignore_ascii_case(&w.text)) {
            return Ok(());
        }
        let names = Kind::ALL
            .iter()
            .map(|k| k.as_str())
            .chain(self.source_types.iter().map(|&t| m.str(t)));
        Err(QueryError {
            pos: w.pos,
            width: w.text.chars().count() as u32,
            kind: ErrorKind::UnknownType {
                text: w.text.clone(),
                suggestion: suggest(&w.text, names),
            },
        })
    }

    /// Resolves an employee reference by `source/id`, id, email or name:
    /// exact, then case-insensitive, then prefix. Several matches at the
    /// first tier that matches is an ambiguity listing the candidates;
    /// nothing is guessed.
    pub(super) fn resolve_person(&self, r: &EntityRef) -> Result<EmployeeIdx, QueryError> {
        self.find_employee(r).map_err(|kind| QueryError {
            pos: r.pos,
            width: r.width,
            kind,
        })
    }

    /// [`Engine::resolve_person`] without the position: the employee, or an
    /// unknown- or ambiguous-employee error.
    pub(super) fn find_employee(&self, r: &EntityRef) -> Result<EmployeeIdx, ErrorKind> {
        let model = self.model;
        let text = strip_angle_brackets(&r.text);
        let all = 0..model.employees.len() as EmployeeIdx;
        let fields = |e: EmployeeIdx| -> [&str; 3] {
            let emp = &model.employees[e as usize];
            [
                model.str(emp.id),
                employee_attr(model, e, "email"),
                model.str(emp.name),
            ]
        };
        let lower = text.to_lowercase();
        let n = all.end;
        let tiers: Vec<Tier<EmployeeIdx>> = vec![
            ("source/id", matching(n, |e| employee_key(model, e) == text)),
            ("id", matching(n, |e| fields(e)[0] == text)),
            (
                "email or name",
                matching(n, |e| fields(e)[1..].contains(&text)),
            ),
            (
                "case-insensitive id, email or name",
                matching(n, |e| fields(e).iter().any(|f| f.to_lowercase() == lower)),
            ),
            (
                "prefix of an id, email or name",
                matching(n, |e| {
                    !lower.is_empty()
                        && fields(e)
                            .iter()
                            .any(|f| f.to_lowercase().starts_with(&lower))
                }),
            ),
        ];
        match first_match(tiers) {
            Some((_, found)) if found.len() == 1 => Ok(found[0]),
            Some((how, found)) => {
                let mut candidates: Vec<String> = found
                    .iter()
                    .map(|&e| {
                        format!(
                            "{} ({}, {})",
                            employee_key(model, e),
                            model.str(model.employees[e as usize].name),
                            employee_attr(model, e, "email")
                        )
                    })
                    .collect();
                candidates.sort();
                let more = candidates.len().saturating_sub(MAX_CANDIDATES);
                candidates.truncate(MAX_CANDIDATES);
                if more > 0 {
                    candidates.push(format!("… and {more} more"));
                }
                Err(ErrorKind::AmbiguousEmployee {
                    text: r.text.clone(),
                    how: how.to_string(),
                    candidates,
                })
            }
            None => {
                let words: Vec<&str> = all
                    .flat_map(|e| fields(e).into_iter())
                    .filter(|s| !s.is_empty())
                    .collect();
                Err(ErrorKind::UnknownEmployee {
                    text: r.text.clone(),
                    suggestion: suggest(text, words),
                })
            }
        }
    }

    /// Employees whose id, name or email matches `q`: (rank, field, employee)
    /// with the rank of `find` (exact, case-insensitive, prefix, substring).
    fn find_employees(&self, q: &str) -> Vec<(u8, &'static str, EmployeeIdx)> {
        let m = self.model;
        let lower = q.to_lowercase();
        let mut found = Vec::new();
        for (i, emp) in m.employees.iter().enumerate() {
            let i = i as EmployeeIdx;
            let fields = [
                ("id", m.str(emp.id)),
                ("name", m.str(emp.name)),
                ("email", employee_attr(m, i, "email")),
            ];
            // The best rank, then the first field (id, name, email) with it.
            let best = fields
                .iter()
                .enumerate()
                .filter(|(_, (_, v))| !v.is_empty())
                .filter_map(|(k, &(f, v))| {
                    let rank = if v == q {
                        0
                    } else if v.eq_ignore_ascii_case(q) {
                        1
                    } else if fold_starts_with(v, q) {
                        2
                    } else if !lower.is_empty() && v.to_lowercase().contains(&lower) {
                        3
                    } else {
                        return None;
                    };
                    Some((rank, k, f))
                })
                .min();
            if let Some((rank, _, f)) = best {
                found.push((rank, f, i));
            }
        }
        found.sort_by(|a, b| {
            a.0.cmp(&b.0).then_with(|| {
                m.str(m.employees[a.2 as usize].id)
                    .cmp(m.str(m.employees[b.2 as usize].id))
            })
        });
        found
    }

    pub(super) fn find(&self, text: &Word) -> Evaluated {
        let m = self.model;
        let q = text.text.as_str();
        // (how rank, how, field) per entity: the best match wins.
        let mut best: FxHashMap<EntityIdx, (u8, Field)> = FxHashMap::default();
        let mut note = |e: EntityIdx, rank: u8, f: Field| {
            let slot = best.entry(e).or_insert((rank, f));
            if (rank, f) < *slot {
                *slot = (rank, f);
            }
        };
        for x in self.exact_range(q) {
            note(x.1, 0, x.2);
        }
        for x in self.folded_range(q, false) {
            note(x.1, 1, x.2);
        }
        for x in self.folded_range(q, true) {
            note(x.1, 2, x.2);
        }
        let lower = q.to_ascii_lowercase();
        if !lower.is_empty() {
            for x in self.entries() {
                if m.str(x.0).to_ascii_lowercase().contains(&lower) {
                    note(x.1, 3, x.2);
                }
            }
        }
        let mut found: Vec<(EntityIdx, u8, Field)> =
            best.into_iter().map(|(e, (r, f))| (e, r, f)).collect();
        found.sort_by(|a, b| a.1.cmp(&b.1).then_with(|| self.order(a.0, b.0)));
        let mut t = Table::new(&["source", "id", "name", "kind", "type", "matched"]);
        for &(e, rank, f) in &found {
            let ent = m.entity(e);
            let how = ["exact", "case-insensitive", "prefix", "substring"][rank as usize];
            t.push(vec![
                json!(self.source(e)),
                json!(self.id(e)),
                json!(m.str(ent.name)),
                json!(ent.kind.as_str()),
                json!(m.str(ent.source_type)),
                json!(format!("{} ({how})", f.as_str())),
            ]);
        }
        let employees = self.find_employees(q);
        for &(rank, f, e) in &employees {
            let emp = &m.employees[e as usize];
            let how = ["exact", "case-insensitive", "prefix", "substring"][rank as usize];
            t.push(vec![
                json!(m.str(emp.source)),
                json!(m.str(emp.id)),
                json!(m.str(emp.name)),
                json!("employee"),
                json!("employee"),
                json!(format!("{f} ({how})")),
            ]);
        }
        let mut subjects: Vec<EntityIdx> = found.iter().map(|x| x.0).collect();
        subjects.sort_unstable();
        let count = (subjects.len() + employees.len()) as u64;
        let mut answer = Answer {
            table: t,
            ..Answer::default()
        };
        if found.is_empty() && employees.is_empty() {
            let mut n = format!("nothing matches `{q}`");
            if let Some(s) = self.suggest_entity(q) {
                n.push_str(&format!("; did you mean `{s}`?"));
            }
            answer.notes.push(n);
        }
        Evaluated {
            count,
            ..Evaluated::of_subjects(answer, subjects)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::engine::testing::{NESTED, check};

    #[test]
    fn references_resolve_by_id_then_name_then_case_then_prefix() {
        check(
            NESTED,
            "expect members of grp-l5 = {dave}",
            "true got {dave (u-dave)}\n",
        );
        check(
            NESTED,
            "expect members of LEVEL-5 = {dave}",
            "true got {dave (u-dave)}\n",
        );
        check(
            NESTED,
            "expect groups of ALICE@ACME includes {Engineering}",
            "true got {DBA-Team (grp-dba), Engineering (grp-eng), Platform (grp-platform), Security-Team (grp-sec)}; missing {}\n",
        );
        check(
            NESTED,
            "show level-",
            "error 1:6: `level-` is ambiguous: 5 entities match by prefix of an id, name, username or email; name one by source/id or id:VALUE:\n    t/grp-l1  (connection group, name \"Level-1\")\n    t/grp-l2  (connection group, name \"Level-2\")\n    t/grp-l3  (connection group, name \"Level-3\")\n    t/grp-l4  (connection group, name \"Level-4\")\n    t/grp-l5  (connection role, name \"Level-5\")\n",
        );
        check(
            NESTED,
            "show id:Level-5",
            "error 1:6: no entity matches `Level-5` by id, name, username or email; did you mean `Level-5`?\n",
        );
        check(
            NESTED,
            "show t/grp-audit-2",
            "field,value\nsource,t\nid,grp-audit-2\nname,Auditors\nkind,connection\nsource type,group\nproject,Finance\nstatus,active\ndeclared at,t.csv:26\nhas access to,billing-db (db-billing) [read] at t.csv:30\naccessed by,erin (u-erin) [member] at t.csv:26\n",
        );
    }

    #[test]
    fn unknown_permission_is_an_error_with_a_suggestion() {
        check(
            NESTED,
            "what can bob reach with ADMIN",
            "target_id,target_name,target_type,permission,provider_id,provider_name\ndb-billing,billing-db,resource/database,admin,grp-dba,DBA-Team\ndb-prod,prod-db,resource/database,admin,grp-dba,DBA-Team\n",
        );
        check(
            NESTED,
            "what can bob reach with admn",
            "error 1:25: no edge carries permission `admn`; did you mean `admin`?\n",
        );
    }

    #[test]
    fn employees_resolve_by_id_email_name_and_prefix() {
        use crate::model::{Employee, Model, Provenance};
        let mut m = Model::default();
        for (id, email) in [("e1", "ada@x.com"), ("e2", "adam@x.com")] {
            let (name, text) = (m.strings.intern("email"), m.strings.intern(email));
            let email = crate::model::EmployeeAttribute::typed(&m.strings, name, text);
            let employee = Employee {
                source: m.strings.intern("hr"),
                id: m.strings.intern(id),
                name: m.strings.intern(id),
                attributes: vec![email],
                managers: Vec::new(),
                origin: Provenance { file: 0, line: 1 },
            };
            m.employees.push(employee);
        }
        let g = crate::graph::AccessGraph::new(m);
        let engine = super::Engine::new(&g);
        let find = |text: &str| {
            engine.find_employee(&super::EntityRef {
                form: super::RefForm::Word,
                text: text.into(),
                pos: Default::default(),
                width: 1,
            })
        };
        assert_eq!(find("e2"), Ok(1));
        assert_eq!(find("ADA@x.com"), Ok(0));
        assert_eq!(find("hr/e1"), Ok(0));
        assert!(matches!(
            find("ad"),
            Err(super::ErrorKind::AmbiguousEmployee { .. })
        ));
        assert_eq!(
            find("e3"),
            Err(super::ErrorKind::UnknownEmployee {
                text: "e3".into(),
                suggestion: Some("e1".into())
            })
        );
    }
}
