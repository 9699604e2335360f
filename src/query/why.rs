//! `why` and `why not`: every path from an identity to a target with its
//! provenance (one shortest path per grant first, by a breadth-first walk
//! bounded by the graph, then a step-bounded depth-first search for the
//! rest), each path's verdict in words, and the answer's picture. Does no
//! I/O.

use rustc_hash::{FxHashMap, FxHashSet};
use serde_json::json;

use super::ast::{EntityRef, Word};
use super::engine::{Engine, Evaluated};
use super::membership::PictureBuilder;
use super::{Answer, QueryError, plural};
use crate::graph::AccessGraph;
use crate::model::{EdgeIdx, EntityIdx, Kind, Sym};
use crate::report::Table;

/// Most paths `why` collects before it stops looking.
pub const MAX_PATHS: usize = 1000;
/// Paths `why` shows when no `limit` is given.
pub const DEFAULT_WHY_LIMIT: usize = 20;
/// Most search steps `why` takes (the number of simple paths can grow
/// exponentially with nesting; the answer says when it stopped early).
const MAX_WHY_STEPS: usize = 500_000;

impl<'g> Engine<'g> {
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
    /// makes, [`Engine::grant_tree`]), then, for `y` and every connection
    /// reached, each granted edge into `x` with the path that reached its
    /// holder ([`Engine::grant_paths_in`]). The paths' nodes are distinct
    /// but for `x` itself, which a path may pass when `x` is a connection in
    /// a cycle. The review pages draw these as each row's evidence
    /// (`crate::review`), walking once per identity.
    pub fn grant_paths(&self, y: EntityIdx, x: EntityIdx) -> Vec<Vec<EdgeIdx>> {
        self.grant_paths_in(&self.grant_tree(y), x)
    }

    /// The breadth-first walk of [`Engine::grant_paths`] from `y`, to
    /// reuse for every target of `y` ([`GrantTree::new`]).
    pub fn grant_tree(&self, y: EntityIdx) -> GrantTree {
        GrantTree::new(self.graph, y)
    }

    /// The paths of [`Engine::grant_paths`] into `x`, from a walk made by
    /// [`Engine::grant_tree`] ([`GrantTree::paths_into`]).
    pub fn grant_paths_in(&self, tree: &GrantTree, x: EntityIdx) -> Vec<Vec<EdgeIdx>> {
        tree.paths_into(self.graph, x)
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

    pub(super) fn why(
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
}

/// The breadth-first walk from one identity over granted edges through
/// connections: how each connection was first reached.
#[derive(Clone, Debug)]
pub struct GrantTree {
    /// Connection -> the edge that first reached it.
    parent: FxHashMap<EntityIdx, EdgeIdx>,
    /// The identity, then the connections in the order reached.
    order: Vec<EntityIdx>,
}

impl GrantTree {
    /// The walk from `y` over `graph`'s granted edges into connections,
    /// breadth first: it needs only the graph's edge lists, not a query
    /// [`Engine`] (the review pages walk it without one).
    pub fn new(graph: &AccessGraph, y: EntityIdx) -> GrantTree {
        let m = graph.model();
        let mut parent: FxHashMap<EntityIdx, EdgeIdx> = FxHashMap::default();
        let mut reached = FxHashSet::default();
        reached.insert(y);
        let mut order = vec![y];
        let mut next = 0;
        while next < order.len() {
            let u = order[next];
            next += 1;
            for &ei in graph.out_edges(u) {
                let e = &m.edges[ei as usize];
                if e.granted && m.entity(e.to).kind == Kind::Connection && reached.insert(e.to) {
                    parent.insert(e.to, ei);
                    order.push(e.to);
                }
            }
        }
        GrantTree { parent, order }
    }

    /// One shortest path per granted edge into `x` out of the identity or
    /// a connection the walk reached: the path that reached the edge's
    /// holder, then the edge.
    pub fn paths_into(&self, graph: &AccessGraph, x: EntityIdx) -> Vec<Vec<EdgeIdx>> {
        let m = graph.model();
        let y = self.order[0];
        let mut paths = Vec::new();
        for &holder in &self.order {
            for &ei in graph.out_edges(holder) {
                let e = &m.edges[ei as usize];
                if !e.granted || e.to != x {
                    continue;
                }
                let mut path = vec![ei];
                let mut v = holder;
                while v != y {
                    let pe = self.parent[&v];
                    path.push(pe);
                    v = m.edges[pe as usize].from;
                }
                path.reverse();
                paths.push(path);
            }
        }
        paths
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
