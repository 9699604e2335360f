//! Membership: `members of G` (identities in a connection, directly or
//! nested, with depth and entry connection, and the picture of the
//! nesting), `groups of Y` (every connection Y is in, nearest first), the
//! walks behind them that `who … via` and expectations reuse, and the
//! [`PictureBuilder`] that `members` and `why` draw with. Does no I/O.

use std::collections::VecDeque;

use rustc_hash::{FxHashMap, FxHashSet};
use serde_json::{Value, json};

use super::ast::EntityRef;
use super::engine::{Engine, Evaluated};
use super::{Answer, Picture, PictureEdge, PictureNode, QueryError};
use crate::model::{EdgeIdx, EntityIdx, Kind};
use crate::report::Table;

impl<'g> Engine<'g> {
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
    pub(super) fn downstream(&self, c: EntityIdx) -> FxHashSet<EntityIdx> {
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
    pub(super) fn groups_of(&self, e: EntityIdx) -> Vec<(EntityIdx, u32, Option<EntityIdx>)> {
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

    pub(super) fn members(&self, connection: &EntityRef) -> Result<Evaluated, QueryError> {
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
        Ok(Evaluated::of_subjects(answer, subjects))
    }

    pub(super) fn groups(&self, entity: &EntityRef) -> Result<Evaluated, QueryError> {
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
        Ok(Evaluated::of_subjects(answer, subjects))
    }
}

/// A [`Picture`] built edge by edge: each entity and edge once, in
/// first-seen order.
#[derive(Default)]
pub(super) struct PictureBuilder {
    /// The picture so far.
    pub(super) picture: Picture,
    nodes: FxHashMap<EntityIdx, usize>,
    edges: FxHashSet<EdgeIdx>,
}

impl PictureBuilder {
    /// The node of `e`, added on first sight.
    pub(super) fn node(&mut self, engine: &Engine, e: EntityIdx) -> usize {
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

    /// Adds edge `ei` and its ends, once.
    pub(super) fn edge(&mut self, engine: &Engine, ei: EdgeIdx) {
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
