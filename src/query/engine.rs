//! The query engine's state: [`Engine`] holds the structures built once per
//! loaded graph (the [`Expansion`], a lookup of every id, name, username and
//! email, the distinct projects and source types) over the graph's one index
//! (edge lists in both directions, ranks, the permission table: see
//! [`crate::graph`]), and the naming and ordering every answer
//! shares, so each question walks only the part of the graph it is about,
//! never the whole graph. The questions themselves live in the sibling
//! modules, one per kind of question; [`Engine::eval`] dispatches to them.
//!
//! The lookup tables are private to this module and read through a small
//! API (`edges_out`, `edges_in`, `entries`, `exact_range`, `folded_range`,
//! `order`). Does no I/O.

use std::cmp::Ordering;
use std::sync::OnceLock;

use serde_json::json;

use super::Answer;
use super::QueryError;
use super::ast::{Ask, Query};
use crate::expand::Expansion;
use crate::graph::AccessGraph;
use crate::model::{EdgeIdx, EntityIdx, Kind, Model, Sym};
use crate::people::People;
use crate::report::Table;

/// Which attribute a lookup entry holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(super) enum Field {
    Id,
    Name,
    Username,
    Email,
}

impl Field {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Field::Id => "id",
            Field::Name => "name",
            Field::Username => "username",
            Field::Email => "email",
        }
    }
}

/// The result of evaluating a query: the answer plus its distinct subjects
/// (identities, targets, connections or entities) for `count` and `expect`.
#[derive(Debug)]
pub struct Evaluated {
    /// What to print.
    pub answer: Answer,
    /// Distinct subjects, sorted by entity index.
    pub subjects: Vec<EntityIdx>,
    /// The number `count` reports (subjects, or granting paths for `why`).
    pub count: u64,
    /// Why `count` is only a lower bound (a `why` search that stopped
    /// early), said beside the number.
    pub count_note: Option<String>,
}

impl Evaluated {
    /// An answer counted by its distinct subjects.
    pub(super) fn of_subjects(answer: Answer, subjects: Vec<EntityIdx>) -> Evaluated {
        Evaluated {
            count: subjects.len() as u64,
            answer,
            subjects,
            count_note: None,
        }
    }

    /// An answer without entity subjects, counted as `count`.
    pub(super) fn counted(answer: Answer, count: u64) -> Evaluated {
        Evaluated {
            answer,
            subjects: Vec::new(),
            count,
            count_note: None,
        }
    }
}

/// Precomputed structures for answering queries over one graph.
pub struct Engine<'g> {
    pub(super) graph: &'g AccessGraph,
    pub(super) model: &'g Model,
    pub(super) expansion: Expansion<'g>,
    /// Every non-empty id, name, username and email, sorted by symbol.
    exact: Vec<(Sym, EntityIdx, Field)>,
    /// The same, sorted by ASCII-lowercased text; built on first need.
    folded: OnceLock<Vec<(Sym, EntityIdx, Field)>>,
    /// Distinct permissions, in byte order (the graph's permission table).
    pub(super) permissions: &'g [Sym],
    /// Distinct non-empty projects and source types, for `in project` and
    /// `of type` (checked, with "did you mean").
    pub(super) projects: Vec<Sym>,
    pub(super) source_types: Vec<Sym>,
    /// Indices into `Model::properties`, sorted by entity.
    pub(super) properties: Vec<u32>,
    /// Identity-employee links and the manager hierarchy; built on first
    /// need (only person questions use them).
    people: OnceLock<People>,
}

/// Compares two strings ASCII-case-insensitively.
fn fold_cmp(a: &str, b: &str) -> Ordering {
    a.bytes()
        .map(|c| c.to_ascii_lowercase())
        .cmp(b.bytes().map(|c| c.to_ascii_lowercase()))
}

/// True when `s` starts with `prefix`, ASCII case ignored.
pub(super) fn fold_starts_with(s: &str, prefix: &str) -> bool {
    s.len() >= prefix.len() && s.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
}

impl<'g> Engine<'g> {
    /// Builds the query structures: O(entities log entities + edges).
    pub fn new(graph: &'g AccessGraph) -> Engine<'g> {
        let model = graph.model();
        let n = model.entities.len();
        let expansion = Expansion::new(graph);
        let mut exact = Vec::with_capacity(n * 2);
        for (i, e) in model.entities.iter().enumerate() {
            let i = i as EntityIdx;
            exact.push((e.id, i, Field::Id));
            if !e.name.is_empty() {
                exact.push((e.name, i, Field::Name));
            }
            if let Some(a) = &e.attributes {
                if !a.username.is_empty() {
                    exact.push((a.username, i, Field::Username));
                }
                if !a.email.is_empty() {
                    exact.push((a.email, i, Field::Email));
                }
            }
        }
        exact.sort_unstable();
        exact.dedup();
        let permissions = graph.order().permissions();
        let distinct = |syms: &mut dyn Iterator<Item = Sym>| {
            let mut v: Vec<Sym> = syms.filter(|s| !model.str(*s).is_empty()).collect();
            v.sort_unstable();
            v.dedup();
            v.sort_by(|&a, &b| model.str(a).cmp(model.str(b)));
            v
        };
        let projects = distinct(
            &mut model
                .entities
                .iter()
                .filter_map(|e| e.attributes.as_ref().map(|a| a.project)),
        );
        let source_types = distinct(&mut model.entities.iter().map(|e| e.source_type));
        let mut properties: Vec<u32> = (0..model.properties.len() as u32).collect();
        properties.sort_by_key(|&i| model.properties[i as usize].entity);
        Engine {
            graph,
            model,
            expansion,
            exact,
            folded: OnceLock::new(),
            permissions,
            projects,
            source_types,
            properties,
            people: OnceLock::new(),
        }
    }

    /// The graph answered from.
    pub fn graph(&self) -> &'g AccessGraph {
        self.graph
    }

    /// The expansion answers are derived from.
    pub fn expansion(&self) -> &Expansion<'g> {
        &self.expansion
    }

    fn folded(&self) -> &[(Sym, EntityIdx, Field)] {
        self.folded.get_or_init(|| {
            let m = self.model;
            let mut v = self.exact.clone();
            v.sort_by(|a, b| {
                fold_cmp(m.str(a.0), m.str(b.0))
                    .then_with(|| m.str(a.0).cmp(m.str(b.0)))
                    .then_with(|| (a.1, a.2).cmp(&(b.1, b.2)))
            });
            v
        })
    }

    // ---- edges ----

    /// Every edge out of `e`, granted or not, in model order.
    pub(super) fn edges_out(&self, e: EntityIdx) -> &'g [EdgeIdx] {
        self.graph.out_edges(e)
    }

    /// Every edge into `e`, granted or not, in model order.
    pub(super) fn edges_in(&self, e: EntityIdx) -> &'g [EdgeIdx] {
        self.graph.in_edges(e)
    }

    pub(super) fn kind(&self, e: EntityIdx) -> Kind {
        self.model.entity(e).kind
    }

    // ---- naming ----

    pub(super) fn label(&self, e: EntityIdx) -> &'g str {
        let ent = self.model.entity(e);
        if ent.name.is_empty() {
            self.model.str(ent.id)
        } else {
            self.model.str(ent.name)
        }
    }

    pub(super) fn id(&self, e: EntityIdx) -> &'g str {
        self.model.str(self.model.entity(e).id)
    }

    pub(super) fn source(&self, e: EntityIdx) -> &'g str {
        self.model.str(self.model.entity(e).source)
    }

    /// `name (id)`, or the id alone when the name is the id or empty.
    pub(super) fn named(&self, e: EntityIdx) -> String {
        let (label, id) = (self.label(e), self.id(e));
        if label == id {
            id.to_string()
        } else {
            format!("{label} ({id})")
        }
    }

    /// An entity as an ambiguity lists it: `source/id  (kind type, name "…")`.
    pub(super) fn candidate(&self, e: EntityIdx) -> String {
        let ent = self.model.entity(e);
        format!(
            "{}/{}  ({} {}, name {:?})",
            self.source(e),
            self.id(e),
            ent.kind,
            self.model.str(ent.source_type),
            self.model.str(ent.name)
        )
    }

    /// Sort key for entities in output: id, then source.
    pub(super) fn order(&self, a: EntityIdx, b: EntityIdx) -> Ordering {
        // The graph's ranks are exactly this order, computed once.
        let rank = self.graph.order().ranks();
        rank[a as usize].cmp(&rank[b as usize])
    }

    // ---- lookup ----

    /// Every lookup entry: each non-empty id, name, username and email with
    /// its entity, sorted by symbol.
    pub(super) fn entries(&self) -> &[(Sym, EntityIdx, Field)] {
        &self.exact
    }

    /// The entries whose text is exactly `text`.
    pub(super) fn exact_range(&self, text: &str) -> &[(Sym, EntityIdx, Field)] {
        let Some(sym) = self.model.strings.get(text) else {
            return &[];
        };
        let lo = self.exact.partition_point(|x| x.0 < sym);
        let hi = self.exact.partition_point(|x| x.0 <= sym);
        &self.exact[lo..hi]
    }

    /// The entries whose text equals `text` (or, with `prefix`, starts
    /// with it), ASCII case ignored.
    pub(super) fn folded_range(&self, text: &str, prefix: bool) -> &[(Sym, EntityIdx, Field)] {
        let m = self.model;
        let folded = self.folded();
        let lo = folded.partition_point(|x| fold_cmp(m.str(x.0), text) == Ordering::Less);
        let hi = if prefix {
            lo + folded[lo..].partition_point(|x| fold_starts_with(m.str(x.0), text))
        } else {
            lo + folded[lo..].partition_point(|x| fold_cmp(m.str(x.0), text) == Ordering::Equal)
        };
        &folded[lo..hi]
    }

    // ---- evaluation ----

    /// Evaluates a query.
    pub fn eval(&self, ask: &Ask) -> Result<Evaluated, QueryError> {
        let mut ev = match &ask.query {
            Query::Who {
                target,
                permission,
                project,
                route,
            } => self.who(target, permission, project, route)?,
            Query::What {
                identity,
                permission,
                of_type,
            } => self.what(identity, permission, of_type)?,
            Query::Why {
                not,
                identity,
                target,
                permission,
            } => self.why(*not, identity, target, permission, ask.limit)?,
            Query::Members { connection } => self.members(connection)?,
            Query::Groups { entity } => self.groups(entity)?,
            Query::Show { entity } => self.show(entity)?,
            Query::Find { text } => self.find(text),
            Query::Stats => self.stats(),
            Query::Cycles => self.cycles(),
            Query::PersonWhat { person } => self.person_what(person)?,
            Query::Owners { entity } => self.owners(entity)?,
            Query::Managers { person } => self.hierarchy(person, false)?,
            Query::Reports { person } => self.hierarchy(person, true)?,
            Query::WhatIf { changes } => self.what_if(changes)?,
            Query::Blast { entity } => self.blast(entity)?,
        };
        if ask.count {
            let mut t = Table::new(&["count"]);
            t.push(vec![json!(ev.count)]);
            ev.answer = Answer {
                table: t,
                notes: ev.count_note.iter().cloned().collect(),
                ..Answer::default()
            };
        } else if let Some(limit) = ask.limit {
            let rows = &mut ev.answer.table.rows;
            if !matches!(ask.query, Query::Why { .. }) && rows.len() > limit {
                let total = rows.len();
                rows.truncate(limit);
                ev.answer
                    .notes
                    .push(format!("showing {limit} of {total} rows (limit {limit})"));
            }
        }
        Ok(ev)
    }

    /// The identity-employee links, built on first use.
    pub fn people(&self) -> &People {
        self.people.get_or_init(|| People::new(self.model))
    }
}

/// What the unit tests of every question share: a graph from 19-column
/// rows, and one `check` that runs a statement and renders its answer.
#[cfg(test)]
pub(super) mod testing {
    use super::Engine;
    use crate::graph::AccessGraph;
    use crate::import::{FileOptions, Importer};
    use crate::query::ast::Statement;
    use crate::query::parse::parse_statement;

    /// Nested groups with a cycle and a `false` edge.
    pub const NESTED: &str = include_str!("../../fixtures/nested_groups.csv");

    /// The graph of `rows`, imported as `t.csv`.
    pub fn graph(rows: &str) -> AccessGraph {
        let mut importer = Importer::new();
        importer
            .import_reader("t.csv".as_ref(), rows.as_bytes(), &FileOptions::default())
            .unwrap();
        AccessGraph::new(importer.finish().0)
    }

    /// Runs one statement and renders it as CSV (or the verdict, or the error).
    #[track_caller]
    pub fn check(rows: &str, query: &str, expected: &str) {
        let g = graph(rows);
        let engine = Engine::new(&g);
        let st = parse_statement(query).unwrap().statement;
        let got = match st {
            Statement::Ask(ask) => match engine.eval(&ask) {
                Ok(ev) => {
                    let mut out = Vec::new();
                    ev.answer
                        .table
                        .write(crate::report::Format::Csv, &mut out)
                        .unwrap();
                    String::from_utf8(out).unwrap()
                }
                Err(e) => format!("error {e}\n"),
            },
            Statement::Expect(e) => match engine.check(&e) {
                Ok(v) => format!("{} {}\n", v.passed, v.detail),
                Err(e) => format!("error {e}\n"),
            },
            other => panic!("not a query: {other:?}"),
        };
        assert_eq!(got, expected, "{query}");
    }
}
