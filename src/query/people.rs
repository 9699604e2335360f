//! Person questions over HRIS employees: `what can person P reach`
//! (through every identity P IS or OWNS), `who owns X`, `manager of P`,
//! `reports of P`, and `show` of an employee. The identity-employee links
//! come from [`crate::people::People`], built on first need. Does no I/O.

use serde_json::{Value, json};

use super::ast::EntityRef;
use super::engine::{Engine, Evaluated};
use super::{Answer, QueryError, plural};
use crate::model::{EntityIdx, Kind, Relation, Sym};
use crate::people::{EmployeeIdx, employee_attr};
use crate::report::Table;

impl<'g> Engine<'g> {
    fn person_named(&self, e: EmployeeIdx) -> String {
        let emp = &self.model.employees[e as usize];
        format!("{} ({})", self.model.str(emp.name), self.model.str(emp.id))
    }

    pub(super) fn person_what(&self, person: &EntityRef) -> Result<Evaluated, QueryError> {
        let m = self.model;
        let e = self.resolve_person(person)?;
        let people = self.people();
        // The report's columns, with the relation before and the mapping
        // after them.
        let columns: Vec<&str> = std::iter::once("relation")
            .chain(crate::report::access::COLUMNS)
            .chain(["mapping"])
            .collect();
        let mut t = Table::new(&columns);
        let mut rows: Vec<(Relation, EntityIdx, crate::expand::Grant, String)> = Vec::new();
        for link in people.links_of_employee(e) {
            let how = people.describe_how(m, link.how);
            for g in self.expansion.grants_of(link.identity) {
                rows.push((link.relation, link.identity, g, how.clone()));
            }
        }
        rows.sort_by(|a, b| {
            a.0.cmp(&b.0)
                .then_with(|| self.order(a.1, b.1))
                .then_with(|| self.order(a.2.target, b.2.target))
                .then_with(|| m.str(a.2.permission).cmp(m.str(b.2.permission)))
                .then_with(|| match (a.2.provider, b.2.provider) {
                    (Some(x), Some(y)) => self.order(x, y),
                    (x, y) => x.is_some().cmp(&y.is_some()),
                })
        });
        let mut subjects = Vec::new();
        for (relation, i, g, how) in &rows {
            subjects.push(g.target);
            let mut row = vec![
                json!(relation.as_str()),
                json!(self.source(*i)),
                json!(self.id(*i)),
                json!(m.str(m.entity(*i).name)),
            ];
            row.extend(self.target_cells(g));
            row.push(json!(how));
            t.push(row);
        }
        subjects.sort_unstable();
        subjects.dedup();
        let mut answer = Answer {
            table: t,
            group_columns: 4,
            null_as: vec![(9, "(direct)")],
            ..Answer::default()
        };
        if rows.is_empty() {
            let n = people.links_of_employee(e).len();
            answer.notes.push(format!(
                "{} reaches nothing through {}",
                self.person_named(e),
                plural(n, "linked identity", "linked identities")
            ));
        }
        Ok(Evaluated::of_subjects(answer, subjects))
    }

    /// Rows of employees: the columns every person answer shares.
    fn person_cells(&self, e: EmployeeIdx) -> Vec<Value> {
        let emp = &self.model.employees[e as usize];
        vec![
            json!(self.model.str(emp.id)),
            json!(self.model.str(emp.name)),
            json!(employee_attr(self.model, e, "email")),
        ]
    }

    pub(super) fn owners(&self, entity: &EntityRef) -> Result<Evaluated, QueryError> {
        let m = self.model;
        let x = self.resolve(entity)?;
        let people = self.people();
        // (employee, identity, permission) — the permission only when X is a
        // connection or resource reached by the owned identity.
        let mut found: Vec<(EmployeeIdx, EntityIdx, Option<Sym>, String)> = Vec::new();
        if self.kind(x) == Kind::Identity {
            for l in people.links_of_identity(x) {
                if l.relation == Relation::Owns {
                    found.push((l.employee, x, None, people.describe_how(m, l.how)));
                }
            }
        } else {
            for g in self.who_grants(x, None) {
                for l in people.links_of_identity(g.identity) {
                    if l.relation == Relation::Owns {
                        found.push((
                            l.employee,
                            g.identity,
                            Some(g.permission),
                            people.describe_how(m, l.how),
                        ));
                    }
                }
            }
        }
        let emp_id = |e: EmployeeIdx| m.str(m.employees[e as usize].id);
        found.sort_by(|a, b| {
            emp_id(a.0)
                .cmp(emp_id(b.0))
                .then_with(|| a.0.cmp(&b.0))
                .then_with(|| self.order(a.1, b.1))
                .then_with(|| a.2.map(|p| m.str(p)).cmp(&b.2.map(|p| m.str(p))))
        });
        found.dedup_by(|a, b| (a.0, a.1, a.2) == (b.0, b.1, b.2));
        let mut t = Table::new(&[
            "employee_id",
            "employee_name",
            "employee_email",
            "source",
            "identity_id",
            "identity_name",
            "permission",
            "mapping",
        ]);
        for (e, i, p, how) in &found {
            let mut row = self.person_cells(*e);
            row.extend([
                json!(self.source(*i)),
                json!(self.id(*i)),
                json!(m.str(m.entity(*i).name)),
                p.map_or(Value::Null, |p| json!(m.str(p))),
                json!(how),
            ]);
            t.push(row);
        }
        let mut employees: Vec<EmployeeIdx> = found.iter().map(|f| f.0).collect();
        employees.sort_unstable();
        employees.dedup();
        let mut answer = Answer {
            table: t,
            group_columns: 3,
            ..Answer::default()
        };
        if found.is_empty() {
            let mut note = if self.kind(x) == Kind::Identity {
                format!("nobody OWNS {}", self.named(x))
            } else {
                format!("no identity reaching {} has an OWNS owner", self.named(x))
            };
            let users: Vec<String> = people
                .links_of_identity(x)
                .filter(|l| l.relation == Relation::Is)
                .map(|l| self.person_named(l.employee))
                .collect();
            if !users.is_empty() {
                note.push_str(&format!(" (it IS {})", users.join(", ")));
            }
            answer.notes.push(note);
        }
        Ok(Evaluated::counted(answer, employees.len() as u64))
    }

    /// `reports of P` (`down`) or `manager of P`: nearest first, then by id.
    pub(super) fn hierarchy(
        &self,
        person: &EntityRef,
        down: bool,
    ) -> Result<Evaluated, QueryError> {
        let m = self.model;
        let e = self.resolve_person(person)?;
        let people = self.people();
        let mut found = if down {
            people.reports_of(e)
        } else {
            people.managers_of(e)
        };
        let emp_id = |e: EmployeeIdx| m.str(m.employees[e as usize].id);
        found.sort_by(|a, b| a.1.cmp(&b.1).then_with(|| emp_id(a.0).cmp(emp_id(b.0))));
        let mut t = Table::new(&[
            "depth",
            "employee_id",
            "employee_name",
            "employee_email",
            "employee_source",
        ]);
        for &(r, depth) in &found {
            let mut row = vec![json!(depth)];
            row.extend(self.person_cells(r));
            row.push(json!(m.str(m.employees[r as usize].source)));
            t.push(row);
        }
        let mut answer = Answer {
            table: t,
            ..Answer::default()
        };
        if found.is_empty() {
            let mut note = format!(
                "{} has no {}",
                self.person_named(e),
                if down { "reports" } else { "manager" }
            );
            if !down && people.is_self_managed(e) {
                note.push_str(" (it names itself as its manager, which is no manager link)");
            }
            answer.notes.push(note);
        }
        Ok(Evaluated::counted(answer, found.len() as u64))
    }

    /// `show` for an HRIS employee: attributes, managers, linked identities.
    pub(super) fn show_employee(&self, e: EmployeeIdx) -> Evaluated {
        let m = self.model;
        let emp = &m.employees[e as usize];
        let mut t = Table::new(&["field", "value"]);
        let mut row = |k: &str, v: String| t.push(vec![json!(k), json!(v)]);
        row("source", m.str(emp.source).into());
        row("id", m.str(emp.id).into());
        row("name", m.str(emp.name).into());
        row("kind", "employee".into());
        for a in &emp.attributes {
            if !m.str(a.text).is_empty() {
                row(m.str(a.name), m.str(a.text).into());
            }
        }
        let people = self.people();
        let managers = people.managers_of(e);
        for &(boss, _) in managers.iter().filter(|x| x.1 == 1) {
            row("manager", self.person_named(boss));
        }
        if people.is_self_managed(e) {
            row("manager", "(names itself: not a manager link)".into());
        }
        row("declared at", m.location(emp.origin));
        for link in people.links_of_employee(e) {
            row(
                "linked identity",
                format!(
                    "{} {} ({}/{}; {})",
                    link.relation.as_str(),
                    self.named(link.identity),
                    self.source(link.identity),
                    self.id(link.identity),
                    people.describe_how(m, link.how)
                ),
            );
        }
        Evaluated::counted(
            Answer {
                table: t,
                group_columns: 1,
                ..Answer::default()
            },
            1,
        )
    }
}
