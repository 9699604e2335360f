//! Looking at the data: `show X` (one entity's fields, properties and
//! edges, or an HRIS employee when no entity matches), `stats` and
//! `cycles`. Does no I/O.

use serde_json::json;

use super::ast::EntityRef;
use super::engine::{Engine, Evaluated};
use super::{Answer, ErrorKind, QueryError, plural};
use crate::model::Kind;
use crate::report::Table;

impl<'g> Engine<'g> {
    pub(super) fn show(&self, entity: &EntityRef) -> Result<Evaluated, QueryError> {
        const MAX_EDGES: usize = 50;
        let m = self.model;
        let e = match self.resolve(entity) {
            Ok(e) => e,
            // Not an entity: maybe an HRIS employee.
            Err(err) if matches!(err.kind, ErrorKind::UnknownEntity { .. }) => {
                return match self.find_employee(entity) {
                    Ok(emp) => Ok(self.show_employee(emp)),
                    Err(_) => Err(err),
                };
            }
            Err(err) => return Err(err),
        };
        let ent = m.entity(e);
        let mut t = Table::new(&["field", "value"]);
        let mut row = |k: &str, v: String| t.push(vec![json!(k), json!(v)]);
        row("source", self.source(e).into());
        row("id", self.id(e).into());
        row("name", m.str(ent.name).into());
        row("kind", ent.kind.as_str().into());
        row("source type", m.str(ent.source_type).into());
        if let Some(a) = &ent.attributes {
            for (k, v) in [
                ("project", a.project),
                ("username", a.username),
                ("email", a.email),
                ("status", a.status),
                ("first name", a.first_name),
                ("last name", a.last_name),
            ] {
                if !v.is_empty() {
                    row(k, m.str(v).into());
                }
            }
            if let Some(mfa) = a.mfa {
                row("mfa", mfa.to_string());
            }
            if let Some(t) = a.last_login {
                row("last login", crate::import::format_timestamp(t));
            }
            if let Some(t) = a.password_changed {
                row("password changed", crate::import::format_timestamp(t));
            }
        }
        // Typed properties of mapped imports (template attributes without a
        // column of their own, and custom properties), in import order.
        let lo = self
            .properties
            .partition_point(|&i| m.properties[i as usize].entity < e);
        for &i in self.properties[lo..]
            .iter()
            .take_while(|&&i| m.properties[i as usize].entity == e)
        {
            let prop = &m.properties[i as usize];
            row(m.str(prop.name), self.property_value(&prop.value));
        }
        row("declared at", m.location(ent.origin));
        let mut notes = Vec::new();
        for (label, edges, outgoing) in [
            ("has access to", self.edges_out(e), true),
            ("accessed by", self.edges_in(e), false),
        ] {
            for &ei in edges.iter().take(MAX_EDGES) {
                let edge = &m.edges[ei as usize];
                let other = if outgoing { edge.to } else { edge.from };
                row(
                    label,
                    format!(
                        "{} [{}{}] at {}",
                        self.named(other),
                        m.str(edge.permission),
                        if edge.granted { "" } else { " = false" },
                        m.location(edge.origin)
                    ),
                );
            }
            if edges.len() > MAX_EDGES {
                notes.push(format!(
                    "{label}: showing {MAX_EDGES} of {} edges",
                    edges.len()
                ));
            }
        }
        let answer = Answer {
            table: t,
            group_columns: 1,
            notes,
            ..Answer::default()
        };
        Ok(Evaluated::of_subjects(answer, vec![e]))
    }

    /// A property's value as text.
    fn property_value(&self, v: &crate::model::Value) -> String {
        use crate::model::Value as V;
        let m = self.model;
        match v {
            V::Text(s) | V::Number(s) => m.str(*s).to_string(),
            V::Bool(b) => b.to_string(),
            V::Timestamp(t) => crate::import::format_timestamp(*t),
            V::List(items) => items
                .iter()
                .map(|s| m.str(*s))
                .collect::<Vec<_>>()
                .join(", "),
        }
    }

    fn cycle_rows(&self, t: &mut Table) -> usize {
        let cycles = self.graph.cycles();
        for (i, cycle) in cycles.iter().enumerate() {
            let mut members = cycle.clone();
            members.sort_by(|&a, &b| self.order(a, b));
            let names: Vec<String> = members.iter().map(|&e| self.named(e)).collect();
            t.push(vec![
                json!(format!("cycle {}", i + 1)),
                json!(format!(
                    "{}: {}",
                    plural(cycle.len(), "connection", "connections"),
                    names.join(", ")
                )),
            ]);
        }
        cycles.len()
    }

    pub(super) fn stats(&self) -> Evaluated {
        let m = self.model;
        let mut t = Table::new(&["metric", "value"]);
        t.push(vec![json!("sources"), json!(m.sources.len())]);
        t.push(vec![json!("entities"), json!(m.entities.len())]);
        for kind in Kind::ALL {
            let n = m.entities.iter().filter(|e| e.kind == kind).count();
            t.push(vec![json!(format!("entities: {kind}")), json!(n)]);
        }
        let granted = m.edges.iter().filter(|e| e.granted).count();
        t.push(vec![json!("edges"), json!(m.edges.len())]);
        t.push(vec![json!("edges: granted"), json!(granted)]);
        t.push(vec![json!("edges: false"), json!(m.edges.len() - granted)]);
        t.push(vec![json!("permissions"), json!(self.permissions.len())]);
        t.push(vec![json!("conflicts"), json!(m.conflicts.len())]);
        let at = t.rows.len();
        t.push(vec![json!("nesting cycles"), json!(0)]);
        let n = self.cycle_rows(&mut t);
        t.rows[at][1] = json!(n);
        let answer = Answer {
            table: t,
            ..Answer::default()
        };
        Evaluated::counted(answer, m.entities.len() as u64)
    }

    pub(super) fn cycles(&self) -> Evaluated {
        let mut t = Table::new(&["cycle", "members"]);
        let n = self.cycle_rows(&mut t);
        let mut answer = Answer {
            table: t,
            ..Answer::default()
        };
        if n == 0 {
            answer.notes.push("no nesting cycles".into());
        }
        Evaluated::counted(answer, n as u64)
    }
}
