//! Answers queries: [`Engine`] holds the structures built once per loaded
//! graph (the [`Expansion`], edge lists in both directions, a lookup of every
//! id, name, username and email) so each question walks only the part of
//! the graph it is about, never the whole graph.
//!
//! Entity references resolve by id, then name, username or email: exact,
//! then case-insensitive (ASCII), then prefix. Several matches at the first
//! tier that matches is an ambiguity, reported with every candidate's
//! source and id; nothing is guessed. Does no I/O.

use std::cmp::Ordering;
use std::collections::VecDeque;
use std::sync::OnceLock;

use rustc_hash::{FxHashMap, FxHashSet};
use serde_json::{Value, json};

use super::ast::*;
use super::parse::suggest;
use super::{Answer, ErrorKind, Picture, PictureEdge, PictureNode, QueryError, plural};
use crate::expand::{Expansion, Grant};
use crate::graph::AccessGraph;
use crate::model::{EdgeIdx, EntityIdx, Kind, Model, Relation, Sym};
use crate::people::{EmployeeIdx, EmployeeLookupError, People, employee_attr};
use crate::report::Table;

/// Most paths `why` collects before it stops looking.
pub const MAX_PATHS: usize = 1000;
/// Paths `why` shows when no `limit` is given.
pub const DEFAULT_WHY_LIMIT: usize = 20;
/// Most search steps `why` takes (the number of simple paths can grow
/// exponentially with nesting; the answer says when it stopped early).
const MAX_WHY_STEPS: usize = 500_000;
/// Candidates listed for an ambiguous reference.
const MAX_CANDIDATES: usize = 10;

/// Which attribute a lookup entry holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Field {
    Id,
    Name,
    Username,
    Email,
}

impl Field {
    fn as_str(self) -> &'static str {
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

/// The outcome of one expectation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// True when the expectation holds.
    pub passed: bool,
    /// What was found, for the failure message.
    pub detail: String,
}

/// Precomputed structures for answering queries over one graph.
pub struct Engine<'g> {
    graph: &'g AccessGraph,
    model: &'g Model,
    expansion: Expansion<'g>,
    out_start: Vec<u32>,
    out_edges: Vec<EdgeIdx>,
    in_start: Vec<u32>,
    in_edges: Vec<EdgeIdx>,
    /// Every non-empty id, name, username and email, sorted by symbol.
    exact: Vec<(Sym, EntityIdx, Field)>,
    /// The same, sorted by ASCII-lowercased text; built on first need.
    folded: OnceLock<Vec<(Sym, EntityIdx, Field)>>,
    /// Distinct permissions.
    permissions: Vec<Sym>,
    /// Distinct non-empty projects and source types, for `in project` and
    /// `of type` (checked, with "did you mean").
    projects: Vec<Sym>,
    source_types: Vec<Sym>,
    /// Indices into `Model::properties`, sorted by entity.
    properties: Vec<u32>,
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

fn fold_starts_with(s: &str, prefix: &str) -> bool {
    s.len() >= prefix.len() && s.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
}

fn csr(
    n: usize,
    edges: impl Iterator<Item = (usize, EdgeIdx)> + Clone,
) -> (Vec<u32>, Vec<EdgeIdx>) {
    let mut start = vec![0u32; n + 1];
    for (k, _) in edges.clone() {
        start[k + 1] += 1;
    }
    for i in 0..n {
        start[i + 1] += start[i];
    }
    let mut fill = start.clone();
    let mut list = vec![0; start[n] as usize];
    for (k, e) in edges {
        list[fill[k] as usize] = e;
        fill[k] += 1;
    }
    (start, list)
}

impl<'g> Engine<'g> {
    /// Builds the query structures: O(entities log entities + edges).
    pub fn new(graph: &'g AccessGraph) -> Engine<'g> {
        let model = graph.model();
        let n = model.entities.len();
        let expansion = Expansion::new(graph);
        let edges = model.edges.iter().enumerate();
        let (out_start, out_edges) = csr(
            n,
            edges.clone().map(|(i, e)| (e.from as usize, i as EdgeIdx)),
        );
        let (in_start, in_edges) = csr(n, edges.map(|(i, e)| (e.to as usize, i as EdgeIdx)));
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
        let mut permissions: Vec<Sym> = model.edges.iter().map(|e| e.permission).collect();
        permissions.sort_unstable();
        permissions.dedup();
        permissions.sort_by(|&a, &b| model.str(a).cmp(model.str(b)));
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
            out_start,
            out_edges,
            in_start,
            in_edges,
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

    /// Words for tab completion: every id and name (names first), distinct,
    /// sorted.
    pub fn completion_words(&self) -> Vec<String> {
        let mut words: Vec<String> = self
            .exact
            .iter()
            .filter(|(_, _, f)| matches!(f, Field::Id | Field::Name))
            .map(|(s, _, _)| self.model.str(*s).to_string())
            .collect();
        words.sort_unstable();
        words.dedup();
        words
    }

    // ---- edges ----

    fn edges_out(&self, e: EntityIdx) -> &[EdgeIdx] {
        let e = e as usize;
        &self.out_edges[self.out_start[e] as usize..self.out_start[e + 1] as usize]
    }

    fn edges_in(&self, e: EntityIdx) -> &[EdgeIdx] {
        let e = e as usize;
        &self.in_edges[self.in_start[e] as usize..self.in_start[e + 1] as usize]
    }

    fn kind(&self, e: EntityIdx) -> Kind {
        self.model.entity(e).kind
    }

    // ---- naming ----

    fn label(&self, e: EntityIdx) -> &'g str {
        let ent = self.model.entity(e);
        if ent.name.is_empty() {
            self.model.str(ent.id)
        } else {
            self.model.str(ent.name)
        }
    }

    fn id(&self, e: EntityIdx) -> &'g str {
        self.model.str(self.model.entity(e).id)
    }

    fn source(&self, e: EntityIdx) -> &'g str {
        self.model.str(self.model.entity(e).source)
    }

    /// `name (id)`, or the id alone when the name is the id or empty.
    fn named(&self, e: EntityIdx) -> String {
        let (label, id) = (self.label(e), self.id(e));
        if label == id {
            id.to_string()
        } else {
            format!("{label} ({id})")
        }
    }

    fn candidate(&self, e: EntityIdx) -> String {
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
    fn order(&self, a: EntityIdx, b: EntityIdx) -> Ordering {
        self.id(a)
            .cmp(self.id(b))
            .then_with(|| self.source(a).cmp(self.source(b)))
    }

    // ---- resolution ----

    fn exact_range(&self, text: &str) -> &[(Sym, EntityIdx, Field)] {
        let Some(sym) = self.model.strings.get(text) else {
            return &[];
        };
        let lo = self.exact.partition_point(|x| x.0 < sym);
        let hi = self.exact.partition_point(|x| x.0 <= sym);
        &self.exact[lo..hi]
    }

    fn folded_range(&self, text: &str, prefix: bool) -> &[(Sym, EntityIdx, Field)] {
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
        type Tier<'a> = (&'static str, Box<dyn Fn() -> Vec<EntityIdx> + 'a>);
        let mut tiers: Vec<Tier> = Vec::new();
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
        for (how, tier) in tiers {
            let mut found = tier();
            match found.len() {
                0 => continue,
                1 => return Ok(found[0]),
                n => {
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
            }
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
            .exact
            .iter()
            .filter(|x| seen.insert(x.0))
            .map(|x| self.model.str(x.0))
            .filter(|s| s.len().abs_diff(len) <= 3)
            .collect();
        suggest(text, candidates)
    }

    fn resolve_kind(
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

    fn permission(&self, w: &Option<Word>) -> Result<Option<Sym>, QueryError> {
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
    fn check_project(&self, w: &Word) -> Result<(), QueryError> {
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
    fn check_type(&self, w: &Word) -> Result<(), QueryError> {
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

    /// `N identities` and their distinct permissions, for an empty answer.
    fn grants_summary(
        &self,
        grants: &[Grant],
        subject: impl Fn(&Grant) -> EntityIdx,
    ) -> (usize, String) {
        let m = self.model;
        let subjects: FxHashSet<EntityIdx> = grants.iter().map(&subject).collect();
        let mut perms: Vec<&str> = grants.iter().map(|g| m.str(g.permission)).collect();
        perms.sort_unstable();
        perms.dedup();
        (subjects.len(), perms.join(", "))
    }

    // ---- traversals ----

    /// Identities reaching connection `c` through granted edges whose
    /// intermediate nodes are connections, each with its nearest distance
    /// (1 = direct member) and the entry connection on a nearest path.
    pub fn members_of(&self, c: EntityIdx) -> Vec<(EntityIdx, u32, EntityIdx)> {
        let m = self.model;
        let mut depth: FxHashMap<EntityIdx, u32> = FxHashMap::default();
        depth.insert(c, 0);
        let mut queue = VecDeque::from([c]);
        let mut out = Vec::new();
        let mut found = FxHashSet::default();
        while let Some(u) = queue.pop_front() {
            let d = depth[&u];
            for &ei in self.edges_in(u) {
                let edge = &m.edges[ei as usize];
                if !edge.granted {
                    continue;
                }
                let f = edge.from;
                match self.kind(f) {
                    Kind::Connection => {
                        if let std::collections::hash_map::Entry::Vacant(v) = depth.entry(f) {
                            v.insert(d + 1);
                            queue.push_back(f);
                        }
                    }
                    Kind::Identity => {
                        if found.insert(f) {
                            out.push((f, d + 1, u));
                        }
                    }
                    Kind::Resource => {}
                }
            }
        }
        out
    }

    /// Connections reachable from `c` (itself included) through granted
    /// connection-to-connection edges.
    fn downstream(&self, c: EntityIdx) -> FxHashSet<EntityIdx> {
        let mut seen = FxHashSet::default();
        seen.insert(c);
        let mut stack = vec![c];
        while let Some(u) = stack.pop() {
            for &(t, _) in self.expansion.granted_edges(u) {
                if self.kind(t) == Kind::Connection && seen.insert(t) {
                    stack.push(t);
                }
            }
        }
        seen
    }

    /// Every connection `e` is in, nearest first: (connection, depth, the
    /// connection it was reached from, none for a direct membership).
    fn groups_of(&self, e: EntityIdx) -> Vec<(EntityIdx, u32, Option<EntityIdx>)> {
        let mut depth: FxHashMap<EntityIdx, u32> = FxHashMap::default();
        let mut queue = VecDeque::new();
        let mut out = Vec::new();
        for &(t, _) in self.expansion.granted_edges(e) {
            if self.kind(t) == Kind::Connection && !depth.contains_key(&t) {
                depth.insert(t, 1);
                queue.push_back(t);
                out.push((t, 1, None));
            }
        }
        while let Some(u) = queue.pop_front() {
            let d = depth[&u];
            for &(t, _) in self.expansion.granted_edges(u) {
                if self.kind(t) == Kind::Connection && !depth.contains_key(&t) {
                    depth.insert(t, d + 1);
                    queue.push_back(t);
                    out.push((t, d + 1, Some(u)));
                }
            }
        }
        out
    }

    /// Every grant on `target`: (identity, permission, provider), distinct,
    /// sorted by identity id, source, permission, provider id.
    pub fn who_grants(&self, target: EntityIdx, permission: Option<Sym>) -> Vec<Grant> {
        let m = self.model;
        let mut grants = Vec::new();
        let mut members: FxHashMap<EntityIdx, Vec<EntityIdx>> = FxHashMap::default();
        for &ei in self.edges_in(target) {
            let edge = &m.edges[ei as usize];
            if !edge.granted || permission.is_some_and(|p| p != edge.permission) {
                continue;
            }
            match self.kind(edge.from) {
                Kind::Identity => grants.push(Grant {
                    identity: edge.from,
                    target,
                    permission: edge.permission,
                    provider: None,
                }),
                Kind::Connection => {
                    let ids = members.entry(edge.from).or_insert_with(|| {
                        self.members_of(edge.from)
                            .into_iter()
                            .map(|(i, _, _)| i)
                            .collect()
                    });
                    grants.extend(ids.iter().map(|&i| Grant {
                        identity: i,
                        target,
                        permission: edge.permission,
                        provider: Some(edge.from),
                    }));
                }
                // A resource passes no access on.
                Kind::Resource => {}
            }
        }
        grants.sort_unstable_by(|a, b| {
            self.order(a.identity, b.identity)
                .then_with(|| m.str(a.permission).cmp(m.str(b.permission)))
                .then_with(|| match (a.provider, b.provider) {
                    (None, None) => Ordering::Equal,
                    (None, Some(_)) => Ordering::Less,
                    (Some(_), None) => Ordering::Greater,
                    (Some(x), Some(y)) => self.order(x, y),
                })
        });
        grants.dedup();
        grants
    }

    /// Grants of an identity, or what members of a connection get through it.
    fn what_grants(&self, e: EntityIdx) -> Vec<Grant> {
        match self.kind(e) {
            Kind::Identity => self.expansion.grants_of(e),
            _ => self
                .expansion
                .closure_of(e)
                .into_iter()
                .map(|(target, permission, provider)| Grant {
                    identity: e,
                    target,
                    permission,
                    provider: Some(provider),
                })
                .collect(),
        }
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

    fn who(
        &self,
        target: &EntityRef,
        permission: &Option<Word>,
        project: &Option<Word>,
        route: &Route,
    ) -> Result<Evaluated, QueryError> {
        let m = self.model;
        let x = self.resolve(target)?;
        let p = self.permission(permission)?;
        if let Some(project) = project {
            self.check_project(project)?;
        }
        let via = match route {
            Route::Via(g) => {
                Some(self.resolve_kind(g, &[Kind::Connection], "`via` takes a connection")?)
            }
            _ => None,
        };
        let nx = self.named(x);
        let identities = |n: usize| plural(n, "identity reaches", "identities reach");
        // Filters apply in turn; when one empties the answer, the note names
        // it and says what there was before it.
        let mut empty: Option<String> = None;
        let mut grants = self.who_grants(x, p);
        if grants.is_empty()
            && let Some(p) = p
        {
            let all = self.who_grants(x, None);
            if !all.is_empty() {
                let (n, perms) = self.grants_summary(&all, |g| g.identity);
                empty = Some(format!(
                    "nobody has `{}` on {nx}; {} it with {perms}",
                    m.str(p),
                    identities(n)
                ));
            }
        }
        let project_of = |g: &Grant| {
            m.entity(g.identity)
                .attributes
                .as_ref()
                .map_or("", |a| m.str(a.project))
        };
        if let Some(project) = project {
            let before = std::mem::take(&mut grants);
            grants = before
                .iter()
                .filter(|g| project_of(g).eq_ignore_ascii_case(&project.text))
                .copied()
                .collect();
            if grants.is_empty() && !before.is_empty() {
                let (n, _) = self.grants_summary(&before, |g| g.identity);
                let mut projects: Vec<&str> = before
                    .iter()
                    .map(|g| match project_of(g) {
                        "" => "(none)",
                        p => p,
                    })
                    .collect();
                projects.sort_unstable();
                projects.dedup();
                empty = Some(format!(
                    "nobody in project `{}` reaches {nx}; {} it from {} {}",
                    project.text,
                    identities(n),
                    if projects.len() == 1 {
                        "project"
                    } else {
                        "projects"
                    },
                    projects.join(", ")
                ));
            }
        }
        let before = grants.len();
        let kept_before: Vec<EntityIdx> = grants.iter().map(|g| g.identity).collect();
        match route {
            Route::Any => {}
            Route::Direct => grants.retain(|g| g.provider.is_none()),
            Route::Via(_) => {
                let g = via.expect("resolved above");
                let down = self.downstream(g);
                let members: FxHashSet<EntityIdx> =
                    self.members_of(g).into_iter().map(|(i, _, _)| i).collect();
                grants.retain(|gr| {
                    gr.provider.is_some_and(|p| down.contains(&p)) && members.contains(&gr.identity)
                });
            }
        }
        if grants.is_empty() && before > 0 {
            let n = kept_before.iter().collect::<FxHashSet<_>>().len();
            empty = Some(match via {
                None => format!(
                    "nobody reaches {nx} directly; {} it through a connection",
                    identities(n)
                ),
                Some(g) => format!(
                    "no access to {nx} flows through {}; {} it otherwise",
                    self.named(g),
                    identities(n)
                ),
            });
        }
        let mut t = Table::new(&[
            "identity_id",
            "identity_name",
            "source",
            "permission",
            "provider_id",
            "provider_name",
        ]);
        let mut subjects = Vec::new();
        for g in &grants {
            subjects.push(g.identity);
            t.push(vec![
                json!(self.id(g.identity)),
                json!(m.str(m.entity(g.identity).name)),
                json!(self.source(g.identity)),
                json!(m.str(g.permission)),
                g.provider.map_or(Value::Null, |p| json!(self.id(p))),
                g.provider.map_or(Value::Null, |p| json!(self.label(p))),
            ]);
        }
        Ok(grant_answer(t, subjects, || {
            empty.unwrap_or_else(|| format!("nobody can reach {nx}"))
        }))
    }

    fn what(
        &self,
        identity: &EntityRef,
        permission: &Option<Word>,
        of_type: &Option<Word>,
    ) -> Result<Evaluated, QueryError> {
        let m = self.model;
        let y = self.resolve_kind(
            identity,
            &[Kind::Identity, Kind::Connection],
            "a resource holds no access",
        )?;
        let p = self.permission(permission)?;
        if let Some(t) = of_type {
            self.check_type(t)?;
        }
        let ny = self.named(y);
        let targets = |n: usize| plural(n, "target", "targets");
        let mut empty: Option<String> = None;
        let mut grants = self.what_grants(y);
        if let Some(p) = p {
            let before = std::mem::take(&mut grants);
            grants = before
                .iter()
                .filter(|g| g.permission == p)
                .copied()
                .collect();
            if grants.is_empty() && !before.is_empty() {
                let (n, perms) = self.grants_summary(&before, |g| g.target);
                empty = Some(format!(
                    "{ny} has no `{}` on anything; reaches {} with {perms}",
                    m.str(p),
                    targets(n)
                ));
            }
        }
        if let Some(t) = of_type {
            let before = std::mem::take(&mut grants);
            grants = before
                .iter()
                .filter(|g| {
                    let e = m.entity(g.target);
                    e.kind.as_str().eq_ignore_ascii_case(&t.text)
                        || m.str(e.source_type).eq_ignore_ascii_case(&t.text)
                })
                .copied()
                .collect();
            if grants.is_empty() && !before.is_empty() {
                let (n, _) = self.grants_summary(&before, |g| g.target);
                let mut types: Vec<&str> = before
                    .iter()
                    .map(|g| m.str(m.entity(g.target).source_type))
                    .collect();
                types.sort_unstable();
                types.dedup();
                empty = Some(format!(
                    "{ny} reaches nothing of type `{}`; reaches {} of type {}",
                    t.text,
                    targets(n),
                    types.join(", ")
                ));
            }
        }
        let mut t = Table::new(&[
            "target_id",
            "target_name",
            "target_type",
            "permission",
            "provider_id",
            "provider_name",
        ]);
        let mut subjects = Vec::new();
        for g in &grants {
            subjects.push(g.target);
            let e = m.entity(g.target);
            t.push(vec![
                json!(self.id(g.target)),
                json!(m.str(e.name)),
                json!(format!("{}/{}", e.kind, m.str(e.source_type))),
                json!(m.str(g.permission)),
                g.provider.map_or(Value::Null, |p| json!(self.id(p))),
                g.provider.map_or(Value::Null, |p| json!(self.label(p))),
            ]);
        }
        Ok(grant_answer(t, subjects, || {
            empty.unwrap_or_else(|| format!("{ny} reaches nothing"))
        }))
    }

    fn members(&self, connection: &EntityRef) -> Result<Evaluated, QueryError> {
        let m = self.model;
        let g = self.resolve_kind(
            connection,
            &[Kind::Connection],
            "`members` takes a connection (try `groups of`)",
        )?;
        let mut members = self.members_of(g);
        members.sort_by(|a, b| self.order(a.0, b.0));
        let mut t = Table::new(&[
            "identity_id",
            "identity_name",
            "source",
            "depth",
            "entry_id",
            "entry_name",
        ]);
        for &(i, d, entry) in &members {
            t.push(vec![
                json!(self.id(i)),
                json!(m.str(m.entity(i).name)),
                json!(self.source(i)),
                json!(d),
                json!(self.id(entry)),
                json!(self.label(entry)),
            ]);
        }
        // The picture: the nesting below `g` that the members come through.
        let mut pic = PictureBuilder::default();
        pic.node(self, g);
        let mut depth: FxHashMap<EntityIdx, u32> = FxHashMap::default();
        depth.insert(g, 0);
        let mut queue = VecDeque::from([g]);
        while let Some(u) = queue.pop_front() {
            for &ei in self.edges_in(u) {
                let edge = &m.edges[ei as usize];
                if edge.granted && self.kind(edge.from) != Kind::Resource {
                    pic.edge(self, ei);
                    if self.kind(edge.from) == Kind::Connection && !depth.contains_key(&edge.from) {
                        depth.insert(edge.from, 0);
                        queue.push_back(edge.from);
                    }
                }
            }
        }
        let mut subjects: Vec<EntityIdx> = members.iter().map(|x| x.0).collect();
        subjects.sort_unstable();
        let mut answer = Answer {
            table: t,
            picture: Some(pic.picture),
            ..Answer::default()
        };
        if members.is_empty() {
            answer
                .notes
                .push(format!("{} has no members", self.named(g)));
        }
        Ok(Evaluated {
            count: subjects.len() as u64,
            answer,
            subjects,
            count_note: None,
        })
    }

    fn groups(&self, entity: &EntityRef) -> Result<Evaluated, QueryError> {
        let m = self.model;
        let e = self.resolve_kind(
            entity,
            &[Kind::Identity, Kind::Connection],
            "a resource is in no group",
        )?;
        let mut groups = self.groups_of(e);
        groups.sort_by(|a, b| a.1.cmp(&b.1).then_with(|| self.order(a.0, b.0)));
        let mut t = Table::new(&[
            "connection_id",
            "connection_name",
            "source",
            "type",
            "depth",
            "via_id",
            "via_name",
        ]);
        for &(c, d, via) in &groups {
            t.push(vec![
                json!(self.id(c)),
                json!(m.str(m.entity(c).name)),
                json!(self.source(c)),
                json!(m.str(m.entity(c).source_type)),
                json!(d),
                via.map_or(Value::Null, |v| json!(self.id(v))),
                via.map_or(Value::Null, |v| json!(self.label(v))),
            ]);
        }
        let mut subjects: Vec<EntityIdx> = groups.iter().map(|x| x.0).collect();
        subjects.sort_unstable();
        let mut answer = Answer {
            table: t,
            hide_in_table: vec![5],
            null_as: vec![(6, "(direct)")],
            ..Answer::default()
        };
        if groups.is_empty() {
            answer
                .notes
                .push(format!("{} is in no connection", self.named(e)));
        }
        Ok(Evaluated {
            count: subjects.len() as u64,
            answer,
            subjects,
            count_note: None,
        })
    }

    fn show(&self, entity: &EntityRef) -> Result<Evaluated, QueryError> {
        const MAX_EDGES: usize = 50;
        let m = self.model;
        let e = match self.resolve(entity) {
            Ok(e) => e,
            // Not an entity: maybe an HRIS employee.
            Err(err) if matches!(err.kind, ErrorKind::UnknownEntity { .. }) => {
                return match crate::people::find_employee(m, &entity.text) {
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
        Ok(Evaluated {
            answer: Answer {
                table: t,
                group_columns: 1,
                notes,
                ..Answer::default()
            },
            subjects: vec![e],
            count: 1,
            count_note: None,
        })
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

    /// `show` for an HRIS employee: attributes, managers, linked identities.
    fn show_employee(&self, e: EmployeeIdx) -> Evaluated {
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
        Evaluated {
            answer: Answer {
                table: t,
                group_columns: 1,
                ..Answer::default()
            },
            subjects: Vec::new(),
            count: 1,
            count_note: None,
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

    fn find(&self, text: &Word) -> Evaluated {
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
            for x in &self.exact {
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
            answer,
            subjects,
            count_note: None,
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

    fn stats(&self) -> Evaluated {
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
        Evaluated {
            answer: Answer {
                table: t,
                ..Answer::default()
            },
            subjects: Vec::new(),
            count: m.entities.len() as u64,
            count_note: None,
        }
    }

    fn cycles(&self) -> Evaluated {
        let mut t = Table::new(&["cycle", "members"]);
        let n = self.cycle_rows(&mut t);
        let mut answer = Answer {
            table: t,
            ..Answer::default()
        };
        if n == 0 {
            answer.notes.push("no nesting cycles".into());
        }
        Evaluated {
            answer,
            subjects: Vec::new(),
            count: n as u64,
            count_note: None,
        }
    }

    // ---- why ----

    /// Paths from `y` to `x` with distinct intermediate nodes. First one
    /// shortest path for every grant `y` holds on `x` (one per granting edge
    /// into `x`: the expansion's `(permission, provider)` pairs), found by a
    /// breadth-first walk bounded by the graph, so a grant always has a path
    /// whatever the budget; then three searches add the other paths: (1)
    /// granted edges through connections, the paths that grant; (2) through
    /// connections with a `false` edge on the way; (3) only when nothing
    /// grants, paths through an identity or resource. Returns the paths and
    /// why a search stopped early, if one did.
    fn paths(&self, y: EntityIdx, x: EntityIdx) -> (Vec<Vec<EdgeIdx>>, Option<Cut>) {
        let m = self.model;
        let mut paths = self.grant_paths(y, x);
        let guaranteed: FxHashSet<Vec<EdgeIdx>> = paths.iter().cloned().collect();
        let mut cut = None;
        let mut add = |paths: &mut Vec<Vec<EdgeIdx>>,
                       (found, c): (Vec<Vec<EdgeIdx>>, Option<Cut>)| {
            paths.extend(found.into_iter().filter(|p| !guaranteed.contains(p)));
            cut = Cut::merge(cut, c);
        };
        let through_connections = |t: EntityIdx| self.kind(t) == Kind::Connection;
        let granted = |e: EdgeIdx| m.edges[e as usize].granted;
        add(
            &mut paths,
            self.search(y, x, &granted, &through_connections, &|_| true, MAX_PATHS),
        );
        let has_false = |p: &[EdgeIdx]| p.iter().any(|&e| !m.edges[e as usize].granted);
        add(
            &mut paths,
            self.search(y, x, &|_| true, &through_connections, &has_false, MAX_PATHS),
        );
        if paths.iter().all(|p| has_false(p)) {
            let through_other = |p: &[EdgeIdx]| {
                p[..p.len() - 1]
                    .iter()
                    .any(|&e| self.kind(m.edges[e as usize].to) != Kind::Connection)
            };
            add(
                &mut paths,
                self.search(y, x, &|_| true, &|_| true, &through_other, MAX_PATHS / 4),
            );
        }
        (paths, cut)
    }

    /// One shortest path per grant of `y` on `x`: a breadth-first walk from
    /// `y` over granted edges through connections (the walk the expansion
    /// makes), then, for `y` and every connection reached, each granted edge
    /// into `x` with the path that reached its holder. The paths' nodes are
    /// distinct but for `x` itself, which a path may pass when `x` is a
    /// connection in a cycle.
    fn grant_paths(&self, y: EntityIdx, x: EntityIdx) -> Vec<Vec<EdgeIdx>> {
        let m = self.model;
        let mut parent: FxHashMap<EntityIdx, EdgeIdx> = FxHashMap::default();
        let mut reached = FxHashSet::default();
        reached.insert(y);
        let mut order = vec![y];
        let mut next = 0;
        while next < order.len() {
            let u = order[next];
            next += 1;
            for &ei in self.edges_out(u) {
                let e = &m.edges[ei as usize];
                if e.granted && self.kind(e.to) == Kind::Connection && reached.insert(e.to) {
                    parent.insert(e.to, ei);
                    order.push(e.to);
                }
            }
        }
        let mut paths = Vec::new();
        for &holder in &order {
            for &ei in self.edges_out(holder) {
                let e = &m.edges[ei as usize];
                if !e.granted || e.to != x {
                    continue;
                }
                let mut path = vec![ei];
                let mut v = holder;
                while v != y {
                    let pe = parent[&v];
                    path.push(pe);
                    v = m.edges[pe as usize].from;
                }
                path.reverse();
                paths.push(path);
            }
        }
        paths
    }

    /// Depth-first enumeration of paths from `y` to `x` over edges passing
    /// `edge_ok`, through intermediate nodes passing `passable` (distinct,
    /// possibly `x` itself: in a cycle, `bob -> OnCall -> Ops -> OnCall` is how
    /// bob holds `member` on OnCall with provider Ops), keeping those passing
    /// `keep`, at most `max` of them.
    fn search(
        &self,
        y: EntityIdx,
        x: EntityIdx,
        edge_ok: &dyn Fn(EdgeIdx) -> bool,
        passable: &dyn Fn(EntityIdx) -> bool,
        keep: &dyn Fn(&[EdgeIdx]) -> bool,
        max: usize,
    ) -> (Vec<Vec<EdgeIdx>>, Option<Cut>) {
        let m = self.model;
        // Nodes reachable from y.
        let mut forward = FxHashSet::default();
        forward.insert(y);
        let mut stack = vec![y];
        while let Some(u) = stack.pop() {
            if u != y && !passable(u) {
                continue;
            }
            for &ei in self.edges_out(u) {
                let t = m.edges[ei as usize].to;
                if edge_ok(ei) && forward.insert(t) {
                    stack.push(t);
                }
            }
        }
        if !forward.contains(&x) {
            return (Vec::new(), None);
        }
        // Of those, the nodes that reach x.
        let mut useful = FxHashSet::default();
        useful.insert(x);
        let mut stack = vec![x];
        while let Some(u) = stack.pop() {
            for &ei in self.edges_in(u) {
                let f = m.edges[ei as usize].from;
                if edge_ok(ei)
                    && forward.contains(&f)
                    && (f == y || passable(f))
                    && useful.insert(f)
                {
                    stack.push(f);
                }
            }
        }
        let mut paths = Vec::new();
        let mut on_path = FxHashSet::default();
        on_path.insert(y);
        let mut path: Vec<EdgeIdx> = Vec::new();
        let mut frames: Vec<(EntityIdx, usize)> = vec![(y, 0)];
        let mut steps = 0usize;
        let mut cut = None;
        while let Some(&mut (u, ref mut i)) = frames.last_mut() {
            if paths.len() >= max {
                cut = Some(Cut::Paths);
                break;
            }
            if steps == MAX_WHY_STEPS {
                cut = Some(Cut::Steps(steps));
                break;
            }
            steps += 1;
            let out = self.edges_out(u);
            if *i >= out.len() {
                frames.pop();
                on_path.remove(&u);
                path.pop();
                continue;
            }
            let ei = out[*i];
            *i += 1;
            if !edge_ok(ei) {
                continue;
            }
            let t = m.edges[ei as usize].to;
            if t == x {
                path.push(ei);
                if keep(&path) {
                    paths.push(path.clone());
                }
                path.pop();
            }
            if t != y && useful.contains(&t) && !on_path.contains(&t) && passable(t) {
                on_path.insert(t);
                path.push(ei);
                frames.push((t, 0));
            }
        }
        (paths, cut)
    }

    fn why(
        &self,
        not: bool,
        identity: &EntityRef,
        target: &EntityRef,
        permission: &Option<Word>,
        limit: Option<usize>,
    ) -> Result<Evaluated, QueryError> {
        let m = self.model;
        let y = self.resolve_kind(
            identity,
            &[Kind::Identity, Kind::Connection],
            "`why` starts from an identity (a resource holds no access)",
        )?;
        let x = self.resolve(target)?;
        let p = self.permission(permission)?;
        let (raw, cut) = self.paths(y, x);

        // Classify: 0 grants, 1 grants another permission, 2 blocked by a
        // false edge, 3 passes through an identity or resource.
        let mut paths: Vec<(u8, String, Vec<EdgeIdx>)> = raw
            .into_iter()
            .map(|edges| {
                let (status, verdict) = self.verdict(&edges, p);
                (status, verdict, edges)
            })
            .collect();
        let ids = |edges: &[EdgeIdx]| -> Vec<&str> {
            edges
                .iter()
                .map(|&e| self.id(m.edges[e as usize].to))
                .collect()
        };
        paths.sort_by(|a, b| {
            a.0.cmp(&b.0)
                .then_with(|| a.2.len().cmp(&b.2.len()))
                .then_with(|| ids(&a.2).cmp(&ids(&b.2)))
                .then_with(|| a.2.cmp(&b.2))
        });
        let granting = paths.iter().filter(|p| p.0 == 0).count();
        let count_of = |s: u8| paths.iter().filter(|p| p.0 == s).count();
        let with = p.map(|p| format!(" with {}", m.str(p))).unwrap_or_default();
        let (ny, nx) = (self.named(y), self.named(x));
        let mut parts = Vec::new();
        for (s, what) in [
            (1, "grant another permission"),
            (2, "blocked by a false edge"),
            (
                3,
                "through an identity or resource, which never passes access on",
            ),
        ] {
            let n = count_of(s);
            if n > 0 {
                let what = if n == 1 {
                    what.replacen("grant ", "grants ", 1)
                } else {
                    what.to_string()
                };
                parts.push(format!("{} {what}", plural(n, "path", "paths")));
            }
        }
        let at_least = if cut.is_some() { "at least " } else { "" };
        let title = if granting > 0 {
            let mut s = format!(
                "{ny} can reach {nx}{with}: {at_least}{}",
                plural(granting, "granting path", "granting paths")
            );
            for part in &parts {
                s.push_str(", ");
                s.push_str(part);
            }
            if not {
                s.push_str("; nothing is missing");
            }
            s
        } else if paths.is_empty() {
            match cut {
                // No grant (every grant has a path), but the search for
                // other paths did not finish: never "no path".
                Some(c) => format!(
                    "{ny} cannot reach {nx}{with}: no granting path; {}",
                    c.describe()
                ),
                None => format!("{ny} cannot reach {nx}{with}: no path from {ny} to {nx}"),
            }
        } else {
            format!(
                "{ny} cannot reach {nx}{with}: {at_least}{}",
                parts.join(", ")
            )
        };
        let total = paths.len();
        let limit = limit.unwrap_or(DEFAULT_WHY_LIMIT);
        let mut notes = Vec::new();
        if let Some(c) = cut {
            notes.push(format!(
                "{}; {} found, there may be more",
                c.describe(),
                plural(total, "path", "paths")
            ));
        }
        if total > limit {
            notes.push(format!("showing {limit} of {total} paths (limit {limit})"));
            paths.truncate(limit);
        }
        if total == 0 {
            // Say where access to x does come from, so the gap is visible.
            let holders: Vec<String> = self
                .edges_in(x)
                .iter()
                .take(10)
                .map(|&ei| {
                    let e = &m.edges[ei as usize];
                    format!(
                        "{} [{}{}]",
                        self.named(e.from),
                        m.str(e.permission),
                        if e.granted { "" } else { " = false" }
                    )
                })
                .collect();
            if holders.is_empty() {
                notes.push(format!("no edge leads to {nx}"));
            } else {
                notes.push(format!("edges into {nx} come from: {}", holders.join(", ")));
            }
            let groups = self.groups_of(y).len();
            notes.push(format!(
                "{ny} is in {}; see `groups of {}`",
                plural(groups, "connection", "connections"),
                self.id(y)
            ));
        }
        let mut t = Table::new(&[
            "path",
            "verdict",
            "step",
            "from",
            "from_id",
            "permission",
            "to",
            "to_id",
            "granted",
            "at",
        ]);
        let mut pic = PictureBuilder::default();
        for (n, (_, verdict, edges)) in paths.iter().enumerate() {
            for (s, &ei) in edges.iter().enumerate() {
                let e = &m.edges[ei as usize];
                pic.edge(self, ei);
                t.push(vec![
                    json!(n + 1),
                    json!(verdict),
                    json!(s + 1),
                    json!(self.label(e.from)),
                    json!(self.id(e.from)),
                    json!(m.str(e.permission)),
                    json!(self.label(e.to)),
                    json!(self.id(e.to)),
                    json!(e.granted),
                    json!(m.location(e.origin)),
                ]);
            }
        }
        if pic.picture.nodes.is_empty() {
            pic.node(self, y);
            pic.node(self, x);
        }
        Ok(Evaluated {
            answer: Answer {
                title: Some(title),
                table: t,
                hide_in_table: vec![4, 7],
                group_columns: 2,
                null_as: Vec::new(),
                notes,
                picture: Some(pic.picture),
            },
            subjects: Vec::new(),
            count: granting as u64,
            count_note: cut.map(|c| format!("at least {granting}: {}", c.describe())),
        })
    }

    /// Classifies one path and says why in words.
    fn verdict(&self, edges: &[EdgeIdx], p: Option<Sym>) -> (u8, String) {
        let m = self.model;
        for (s, &ei) in edges.iter().enumerate() {
            let e = &m.edges[ei as usize];
            if !e.granted {
                return (
                    2,
                    format!(
                        "blocked: step {} ({} -[{}]-> {}) is false",
                        s + 1,
                        self.label(e.from),
                        m.str(e.permission),
                        self.label(e.to)
                    ),
                );
            }
            if s + 1 < edges.len() && self.kind(e.to) != Kind::Connection {
                return (
                    3,
                    format!(
                        "no access: passes through {} {}, which passes no access on",
                        self.kind(e.to),
                        self.label(e.to)
                    ),
                );
            }
        }
        let last = &m.edges[*edges.last().expect("a path has an edge") as usize];
        if p.is_some_and(|p| p != last.permission) {
            return (
                1,
                format!(
                    "grants {}, not {}",
                    m.str(last.permission),
                    m.str(p.expect("checked"))
                ),
            );
        }
        let perm = m.str(last.permission);
        if edges.len() == 1 {
            return (0, format!("grants {perm} directly"));
        }
        let entry = m.edges[edges[0] as usize].to;
        let provider = last.from;
        if entry == provider {
            (0, format!("grants {perm} via {}", self.label(provider)))
        } else {
            (
                0,
                format!(
                    "grants {perm} via {} (entry {})",
                    self.label(provider),
                    self.label(entry)
                ),
            )
        }
    }

    // ---- expectations ----

    fn subjects(&self, query: &Query) -> Result<Evaluated, QueryError> {
        self.eval(&Ask {
            query: query.clone(),
            count: false,
            limit: None,
        })
    }

    fn list(&self, items: &[EntityIdx]) -> String {
        let mut items = items.to_vec();
        items.sort_by(|&a, &b| self.order(a, b));
        let names: Vec<String> = items.iter().map(|&e| self.named(e)).collect();
        format!("{{{}}}", names.join(", "))
    }

    // ---- people ----

    /// The identity-employee links, built on first use.
    pub fn people(&self) -> &People {
        self.people.get_or_init(|| People::new(self.model))
    }

    /// Resolves an employee reference by `source/id`, id, email or name.
    fn resolve_person(&self, r: &EntityRef) -> Result<EmployeeIdx, QueryError> {
        crate::people::find_employee(self.model, &r.text).map_err(|e| QueryError {
            pos: r.pos,
            width: r.width,
            kind: match e {
                EmployeeLookupError::Unknown { suggestion } => ErrorKind::UnknownEmployee {
                    text: r.text.clone(),
                    suggestion,
                },
                EmployeeLookupError::Ambiguous {
                    how,
                    mut candidates,
                } => {
                    let more = candidates.len().saturating_sub(MAX_CANDIDATES);
                    candidates.truncate(MAX_CANDIDATES);
                    if more > 0 {
                        candidates.push(format!("… and {more} more"));
                    }
                    ErrorKind::AmbiguousEmployee {
                        text: r.text.clone(),
                        how: how.to_string(),
                        candidates,
                    }
                }
            },
        })
    }

    fn person_named(&self, e: EmployeeIdx) -> String {
        let emp = &self.model.employees[e as usize];
        format!("{} ({})", self.model.str(emp.name), self.model.str(emp.id))
    }

    fn person_what(&self, person: &EntityRef) -> Result<Evaluated, QueryError> {
        let m = self.model;
        let e = self.resolve_person(person)?;
        let people = self.people();
        let mut t = Table::new(&[
            "relation",
            "source",
            "identity_id",
            "identity_name",
            "target_id",
            "target_name",
            "target_type",
            "permission",
            "provider_id",
            "provider_name",
            "mapping",
        ]);
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
            let target = m.entity(g.target);
            t.push(vec![
                json!(relation.as_str()),
                json!(self.source(*i)),
                json!(self.id(*i)),
                json!(m.str(m.entity(*i).name)),
                json!(self.id(g.target)),
                json!(m.str(target.name)),
                json!(format!("{}/{}", target.kind, m.str(target.source_type))),
                json!(m.str(g.permission)),
                g.provider.map_or(Value::Null, |p| json!(self.id(p))),
                g.provider.map_or(Value::Null, |p| json!(self.label(p))),
                json!(how),
            ]);
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
        Ok(Evaluated {
            count: subjects.len() as u64,
            answer,
            subjects,
            count_note: None,
        })
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

    fn owners(&self, entity: &EntityRef) -> Result<Evaluated, QueryError> {
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
        Ok(Evaluated {
            count: employees.len() as u64,
            answer,
            subjects: Vec::new(),
            count_note: None,
        })
    }

    /// `reports of P` (`down`) or `manager of P`: nearest first, then by id.
    fn hierarchy(&self, person: &EntityRef, down: bool) -> Result<Evaluated, QueryError> {
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
        Ok(Evaluated {
            count: found.len() as u64,
            answer,
            subjects: Vec::new(),
            count_note: None,
        })
    }

    /// Checks an expectation.
    pub fn check(&self, expectation: &Expectation) -> Result<Verdict, QueryError> {
        let m = self.model;
        match expectation {
            Expectation::Set { query, cmp, items } => {
                if matches!(
                    query,
                    Query::Why { .. }
                        | Query::Stats
                        | Query::Cycles
                        | Query::Show { .. }
                        | Query::Owners { .. }
                        | Query::Managers { .. }
                        | Query::Reports { .. }
                ) {
                    return Err(QueryError::unsupported(
                        Pos::default(),
                        format!(
                            "`expect {} …` compares no set; use `expect count`",
                            query.verb()
                        ),
                    ));
                }
                let got: FxHashSet<EntityIdx> =
                    self.subjects(query)?.subjects.into_iter().collect();
                let mut want = FxHashSet::default();
                for r in items {
                    want.insert(self.resolve(r)?);
                }
                let missing: Vec<EntityIdx> = want.difference(&got).copied().collect();
                let extra: Vec<EntityIdx> = got.difference(&want).copied().collect();
                let mut got_list: Vec<EntityIdx> = got.iter().copied().collect();
                got_list.sort_unstable();
                let (passed, detail) = match cmp {
                    SetCmp::Equals => {
                        let mut parts = vec![format!("got {}", self.list(&got_list))];
                        if !missing.is_empty() {
                            parts.push(format!("missing {}", self.list(&missing)));
                        }
                        if !extra.is_empty() {
                            parts.push(format!("unexpected {}", self.list(&extra)));
                        }
                        (missing.is_empty() && extra.is_empty(), parts.join("; "))
                    }
                    SetCmp::Includes => (
                        missing.is_empty(),
                        format!(
                            "got {}; missing {}",
                            self.list(&got_list),
                            self.list(&missing)
                        ),
                    ),
                    SetCmp::Excludes => {
                        let present: Vec<EntityIdx> = want.intersection(&got).copied().collect();
                        (
                            present.is_empty(),
                            format!("present {}", self.list(&present)),
                        )
                    }
                };
                Ok(Verdict { passed, detail })
            }
            Expectation::Count { query, cmp, value } => {
                let ev = self.subjects(query)?;
                let n = ev.count;
                Ok(Verdict {
                    passed: cmp.holds(n, *value),
                    detail: match ev.count_note {
                        Some(note) => format!("count is {note}"),
                        None => format!("count is {n}"),
                    },
                })
            }
            Expectation::NoneOutside {
                group,
                target,
                permission,
            } => {
                let g = self.resolve_kind(
                    group,
                    &[Kind::Connection],
                    "`none outside` takes a connection",
                )?;
                let x = self.resolve(target)?;
                let p = self.permission(permission)?;
                let members: FxHashSet<EntityIdx> =
                    self.members_of(g).into_iter().map(|(i, _, _)| i).collect();
                let mut offenders: Vec<String> = Vec::new();
                for gr in self.who_grants(x, p) {
                    if !members.contains(&gr.identity) {
                        offenders.push(format!(
                            "{} [{}] {}",
                            self.named(gr.identity),
                            m.str(gr.permission),
                            gr.provider.map_or("directly".to_string(), |pr| format!(
                                "via {}",
                                self.label(pr)
                            ))
                        ));
                    }
                }
                Ok(Verdict {
                    passed: offenders.is_empty(),
                    detail: format!(
                        "{} outside {}: {}",
                        offenders.len(),
                        self.label(g),
                        offenders.join("; ")
                    ),
                })
            }
            Expectation::Reaches {
                negated,
                identity,
                target,
                permission,
                via,
            } => {
                let y = self.resolve_kind(
                    identity,
                    &[Kind::Identity, Kind::Connection],
                    "a resource holds no access",
                )?;
                let x = self.resolve(target)?;
                let p = self.permission(permission)?;
                let mut grants: Vec<Grant> = self
                    .what_grants(y)
                    .into_iter()
                    .filter(|g| g.target == x)
                    .collect();
                let all: Vec<String> = grants
                    .iter()
                    .map(|g| {
                        format!(
                            "{} {}",
                            m.str(g.permission),
                            g.provider.map_or("directly".to_string(), |pr| format!(
                                "via {}",
                                self.label(pr)
                            ))
                        )
                    })
                    .collect();
                if let Some(p) = p {
                    grants.retain(|g| g.permission == p);
                }
                if let Some(via) = via {
                    let g =
                        self.resolve_kind(via, &[Kind::Connection], "`via` takes a connection")?;
                    let down = self.downstream(g);
                    let in_g = self.kind(y) == Kind::Connection && self.downstream(y).contains(&g)
                        || self.groups_of(y).iter().any(|c| c.0 == g);
                    grants.retain(|gr| in_g && gr.provider.is_some_and(|pr| down.contains(&pr)));
                }
                let detail = if all.is_empty() {
                    format!("{} has no access to {}", self.named(y), self.named(x))
                } else {
                    format!(
                        "{} reaches {} with: {}",
                        self.named(y),
                        self.named(x),
                        all.join("; ")
                    )
                };
                Ok(Verdict {
                    passed: grants.is_empty() == *negated,
                    detail,
                })
            }
        }
    }
}

/// Why a `why` search stopped before it had seen every path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cut {
    /// It collected as many paths as it keeps.
    Paths,
    /// It took this many steps, its budget.
    Steps(usize),
}

impl Cut {
    /// Two searches' reasons as one: steps (summed) over a full path list.
    fn merge(a: Option<Cut>, b: Option<Cut>) -> Option<Cut> {
        match (a, b) {
            (Some(Cut::Steps(x)), Some(Cut::Steps(y))) => Some(Cut::Steps(x + y)),
            (Some(Cut::Steps(x)), _) | (_, Some(Cut::Steps(x))) => Some(Cut::Steps(x)),
            (a, b) => a.or(b),
        }
    }

    fn describe(self) -> String {
        match self {
            Cut::Paths => format!("stopped looking at {MAX_PATHS} paths of one kind"),
            Cut::Steps(n) => format!("search stopped after {n} steps"),
        }
    }
}

#[derive(Default)]
struct PictureBuilder {
    picture: Picture,
    nodes: FxHashMap<EntityIdx, usize>,
    edges: FxHashSet<EdgeIdx>,
}

impl PictureBuilder {
    fn node(&mut self, engine: &Engine, e: EntityIdx) -> usize {
        let next = self.picture.nodes.len();
        *self.nodes.entry(e).or_insert_with(|| {
            self.picture.nodes.push(PictureNode {
                key: format!("n{next}"),
                label: engine.named(e),
                kind: engine.kind(e).as_str(),
            });
            next
        })
    }

    fn edge(&mut self, engine: &Engine, ei: EdgeIdx) {
        if !self.edges.insert(ei) {
            return;
        }
        let e = &engine.model.edges[ei as usize];
        let from = self.node(engine, e.from);
        let to = self.node(engine, e.to);
        self.picture.edges.push(PictureEdge {
            from,
            to,
            label: engine.model.str(e.permission).to_string(),
            granted: e.granted,
        });
    }
}

/// The answer of `who can reach` / `what can … reach`: a grant table grouped
/// by its first three columns, providers `(direct)` when absent, counted by
/// distinct subjects, with a note when there is nothing to show.
fn grant_answer(
    table: Table,
    mut subjects: Vec<EntityIdx>,
    empty: impl FnOnce() -> String,
) -> Evaluated {
    subjects.sort_unstable();
    let rows = subjects.len();
    subjects.dedup();
    let mut answer = Answer {
        table,
        group_columns: 3,
        null_as: vec![(5, "(direct)")],
        ..Answer::default()
    };
    if rows == 0 {
        answer.notes.push(empty());
    }
    Evaluated {
        count: subjects.len() as u64,
        answer,
        subjects,
        count_note: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::{FileOptions, Importer};
    use crate::query::parse::parse_statement;

    const NESTED: &str = include_str!("../../fixtures/nested_groups.csv");

    fn graph(rows: &str) -> AccessGraph {
        let mut importer = Importer::new();
        importer
            .import_reader("t.csv".as_ref(), rows.as_bytes(), &FileOptions::default())
            .unwrap();
        AccessGraph::new(importer.finish().0)
    }

    /// Runs one statement and renders it as CSV (or the verdict, or the error).
    #[track_caller]
    fn check(rows: &str, query: &str, expected: &str) {
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
    fn nested_group_grant_names_the_inner_provider() {
        check(
            NESTED,
            "who can reach prod-db with admin",
            "identity_id,identity_name,source,permission,provider_id,provider_name\nu-alice,alice,t,admin,grp-dba,DBA-Team\nu-bob,bob,t,admin,grp-dba,DBA-Team\n",
        );
    }

    #[test]
    fn via_keeps_grants_whose_path_runs_through_the_connection() {
        check(
            NESTED,
            "expect who can reach prod-db via Engineering = {alice, bob}",
            "true got {alice (u-alice), bob (u-bob)}\n",
        );
        // Access flows around a nesting cycle: svc-deploy's read from Ops can
        // flow through OnCall (Ops -> OnCall -> Ops), so it counts.
        check(
            NESTED,
            "expect who can reach prod-db via OnCall = {bob, svc-deploy}",
            "true got {svc-deploy, bob (u-bob)}\n",
        );
        check(
            NESTED,
            "expect bob reaches prod-db with read via Engineering",
            "false bob (u-bob) reaches prod-db (db-prod) with: admin via DBA-Team; read via Ops\n",
        );
    }

    #[test]
    fn false_edge_is_kept_but_not_traversed() {
        check(NESTED, "count why carol billing-db", "count\n0\n");
        check(
            NESTED,
            "expect none outside DBA-Team can reach billing-db with admin",
            "true 0 outside DBA-Team: \n",
        );
        check(
            NESTED,
            "expect none outside Engineering can reach prod-db",
            "false 2 outside Engineering: svc-deploy [read] via Ops; svc-deploy [write] directly\n",
        );
        check(
            NESTED,
            "expect count members of DBA-Team = 2",
            "true count is 2\n",
        );
    }

    #[test]
    fn cycle_members_get_everything_the_cycle_holds() {
        check(
            NESTED,
            "what can bob reach of type resource",
            "target_id,target_name,target_type,permission,provider_id,provider_name\ndb-billing,billing-db,resource/database,admin,grp-dba,DBA-Team\ndb-prod,prod-db,resource/database,admin,grp-dba,DBA-Team\ndb-prod,prod-db,resource/database,read,grp-ops,Ops\nres-pager,pager,resource/application,page,grp-oncall,OnCall\n",
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
}
