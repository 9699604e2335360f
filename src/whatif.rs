//! What-if: the effective-access changes a set of edits to the graph would
//! make, computed without touching the loaded graph.
//!
//! An [`Edit`] removes the edges `Y → G`, removes an entity with every edge
//! into and out of it, or adds a granted edge `Y → G`. [`what_if`] answers
//! with the diff's own [`AccessChange`] rows (granted, revoked,
//! re-attributed, providers before and after), exactly the rows
//! `diff` would give between the graph and one rebuilt from edited rows
//! (`tests/whatif_reference.rs` checks that on generated organisations).
//!
//! How it stays incremental: the edits' source entities are walked
//! *upstream* (the graph's in-adjacency) through
//! connections. The connections met are **dirty** (their closures may
//! change); the identities met are the only ones re-expanded. Everything
//! else is untouched. A dirty connection's new closure is a walk of the
//! overlay (the graph less the removed edges, plus the added ones) that
//! stops at clean connections and takes their cached closures whole (a
//! clean connection reaches no edit, so its closure is the same). The graph
//! and its expansion are only read: the next question sees the original.
//!
//! Does no I/O.

use std::collections::VecDeque;

use rustc_hash::{FxHashMap, FxHashSet};

use crate::diff::{AccessChange, ChangeKind};
use crate::expand::Expansion;
use crate::model::{EntityIdx, Kind, Model};

/// One change to the graph.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Edit {
    /// Every edge `from → to` (any permission, granted or not) is removed.
    Unlink {
        /// The member (identity or connection).
        from: EntityIdx,
        /// What it is removed from.
        to: EntityIdx,
    },
    /// The entity and every edge into and out of it are removed.
    Remove(EntityIdx),
    /// A granted edge `from → to` is added.
    Link {
        /// The new member.
        from: EntityIdx,
        /// What it is added to.
        to: EntityIdx,
        /// The permission; `None` takes the import default (`member` into a
        /// connection, `access` into anything else).
        permission: Option<String>,
    },
}

/// How a re-attributed grant changed, as what-if words it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kept {
    /// Some provider was lost but the access is still held through another
    /// one: "kept through another path".
    AnotherPath,
    /// Only providers were added: the access is now held through a new path
    /// as well.
    NewPath,
}

impl Kept {
    /// The words shown beside the change.
    pub fn as_str(self) -> &'static str {
        match self {
            Kept::AnotherPath => "kept through another path",
            Kept::NewPath => "also through a new path",
        }
    }

    /// How `change` kept its access; `None` unless it is re-attributed.
    pub fn of(change: &AccessChange) -> Option<Kept> {
        if change.kind != ChangeKind::ReAttributed {
            return None;
        }
        let lost = change
            .old_providers
            .iter()
            .any(|p| !change.new_providers.contains(p));
        Some(if lost {
            Kept::AnotherPath
        } else {
            Kept::NewPath
        })
    }
}

/// What a what-if came to.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// The access changes, in the diff's key order (source, identity id,
    /// target id, target source, permission).
    pub changes: Vec<AccessChange>,
    /// Identities re-expanded (the ones whose closures reach an edit).
    pub identities: usize,
    /// Connections whose closures were recomputed.
    pub connections: usize,
    /// Edges the edits remove (existing ones, granted or not).
    pub edges_removed: usize,
    /// Edges the edits add.
    pub edges_added: usize,
}

/// A permission in the overlay: an interned one, or one only an added edge
/// names (index into the added names, past the interner's symbols).
type Perm = u32;

/// One grant in the overlay: (target, permission, provider).
type Entry = (EntityIdx, Perm, Option<EntityIdx>);

/// The graph as the edits leave it, read through the original's index.
struct Overlay<'x, 'g> {
    x: &'x Expansion<'g>,
    removed_pairs: FxHashSet<(EntityIdx, EntityIdx)>,
    removed: FxHashSet<EntityIdx>,
    /// Added edges by source: (target, permission).
    added: FxHashMap<EntityIdx, Vec<(EntityIdx, Perm)>>,
    /// Permissions only added edges name.
    new_perms: Vec<String>,
}

impl Overlay<'_, '_> {
    fn model(&self) -> &Model {
        self.x.model()
    }

    fn is_connection(&self, e: EntityIdx) -> bool {
        self.model().entity(e).kind == Kind::Connection
    }

    fn perm_str(&self, p: Perm) -> &str {
        let m = self.model();
        let n = m.strings.len() as u32;
        if p < n {
            m.str(crate::model::Sym(p))
        } else {
            &self.new_perms[(p - n) as usize]
        }
    }

    /// Granted out-edges of `e` after the edits.
    fn out(&self, e: EntityIdx, each: &mut dyn FnMut(EntityIdx, Perm)) {
        if self.removed.contains(&e) {
            return;
        }
        for &(t, p) in self.x.granted_edges(e) {
            if !self.removed.contains(&t) && !self.removed_pairs.contains(&(e, t)) {
                each(t, p.0);
            }
        }
        if let Some(v) = self.added.get(&e) {
            for &(t, p) in v {
                each(t, p);
            }
        }
    }

    /// Every grant a member of connection `c` gets through it after the
    /// edits; `clean` are the connections whose closures are unchanged.
    fn closure(&self, c: EntityIdx, dirty: &FxHashSet<EntityIdx>) -> Vec<Entry> {
        let mut grants = Vec::new();
        let mut seen = FxHashSet::default();
        let mut clean_seen = FxHashSet::default();
        let mut stack = vec![c];
        seen.insert(c);
        while let Some(d) = stack.pop() {
            if !dirty.contains(&d) {
                // Unchanged: its cached closure, whole (the component it
                // shares with other clean connections included).
                if let Some(comp) = self.x.component(d) {
                    if clean_seen.insert(comp) {
                        grants.extend(
                            self.x
                                .closure_of(d)
                                .into_iter()
                                .map(|(t, p, via)| (t, p.0, Some(via))),
                        );
                    }
                }
                continue;
            }
            self.out(d, &mut |t, p| {
                grants.push((t, p, Some(d)));
                if self.is_connection(t) && seen.insert(t) {
                    stack.push(t);
                }
            });
        }
        grants
    }
}

/// The edits applied to `expansion`'s graph, as access changes. The graph
/// and the expansion are only read.
pub fn what_if(expansion: &Expansion, edits: &[Edit]) -> Outcome {
    let g = expansion.graph();
    let m = g.model();
    let mut o = Overlay {
        x: expansion,
        removed_pairs: FxHashSet::default(),
        removed: FxHashSet::default(),
        added: FxHashMap::default(),
        new_perms: Vec::new(),
    };
    let mut outcome = Outcome::default();
    // Where the walk upstream starts: every removed or added edge's source
    // (and a removed entity itself).
    let mut starts: Vec<EntityIdx> = Vec::new();
    let mut removed_edges = FxHashSet::default();
    for edit in edits {
        match edit {
            Edit::Unlink { from, to } => {
                o.removed_pairs.insert((*from, *to));
                starts.push(*from);
                for (i, e) in g.edges_from(*from) {
                    if e.to == *to {
                        removed_edges.insert(i);
                    }
                }
            }
            Edit::Remove(e) => {
                o.removed.insert(*e);
                starts.push(*e);
                for (i, edge) in g.edges_into(*e) {
                    starts.push(edge.from);
                    removed_edges.insert(i);
                }
                for (i, _) in g.edges_from(*e) {
                    removed_edges.insert(i);
                }
            }
            Edit::Link {
                from,
                to,
                permission,
            } => {
                let name = match permission {
                    Some(p) => p.as_str(),
                    None if m.entity(*to).kind == Kind::Connection => "member",
                    None => "access",
                };
                let perm = match m.strings.get(name) {
                    Some(s) => s.0,
                    None => {
                        let k = match o.new_perms.iter().position(|p| p == name) {
                            Some(k) => k,
                            None => {
                                o.new_perms.push(name.to_string());
                                o.new_perms.len() - 1
                            }
                        };
                        m.strings.len() as u32 + k as u32
                    }
                };
                o.added.entry(*from).or_default().push((*to, perm));
                starts.push(*from);
                outcome.edges_added += 1;
            }
        }
    }
    outcome.edges_removed = removed_edges.len();
    // An added edge into a removed entity is removed with it.
    let removed = o.removed.clone();
    for v in o.added.values_mut() {
        v.retain(|(t, _)| !removed.contains(t));
    }

    // Upstream: dirty connections and affected identities. The original
    // in-edges suffice: a path that reaches a start through an added edge
    // passes that edge's source, itself a start.
    let mut dirty = FxHashSet::default();
    let mut affected = FxHashSet::default();
    let mut queue: VecDeque<EntityIdx> = starts.into_iter().collect();
    let mut visited = FxHashSet::default();
    while let Some(e) = queue.pop_front() {
        if !visited.insert(e) {
            continue;
        }
        match m.entity(e).kind {
            Kind::Identity => {
                affected.insert(e);
            }
            Kind::Connection => {
                dirty.insert(e);
                for (_, edge) in g.edges_into(e) {
                    if edge.granted {
                        queue.push_back(edge.from);
                    }
                }
            }
            // A resource passes no access on.
            _ => {}
        }
    }
    outcome.identities = affected.len();
    outcome.connections = dirty.len();

    // Each affected identity, old grants against new, in the diff's order.
    let mut identities: Vec<EntityIdx> = affected.into_iter().collect();
    identities.sort_by(|&a, &b| {
        let (ea, eb) = (m.entity(a), m.entity(b));
        (m.str(ea.source), m.str(ea.id)).cmp(&(m.str(eb.source), m.str(eb.id)))
    });
    let mut closures: FxHashMap<EntityIdx, Vec<Entry>> = FxHashMap::default();
    for i in identities {
        let old: Vec<Entry> = expansion
            .grants_of(i)
            .into_iter()
            .map(|gr| (gr.target, gr.permission.0, gr.provider))
            .collect();
        let mut new: Vec<Entry> = Vec::new();
        let mut entries = Vec::new();
        o.out(i, &mut |t, p| {
            new.push((t, p, None));
            if o.is_connection(t) {
                entries.push(t);
            }
        });
        entries.sort_unstable();
        entries.dedup();
        for c in entries {
            let closure = closures.entry(c).or_insert_with(|| o.closure(c, &dirty));
            new.extend_from_slice(closure);
        }
        compare(&o, i, old, new, &mut outcome.changes);
    }
    outcome
}

/// A grant's diff key and provider, as strings.
type Keyed<'a> = ((&'a str, &'a str, &'a str), (Option<&'a str>, &'a str));

/// Appends identity `i`'s changes from `old` to `new` grants.
fn compare(
    o: &Overlay,
    i: EntityIdx,
    old: Vec<Entry>,
    new: Vec<Entry>,
    out: &mut Vec<AccessChange>,
) {
    let m = o.model();
    let keyed = |v: Vec<Entry>| -> Vec<(Keyed, EntityIdx)> {
        let mut k: Vec<(Keyed, EntityIdx)> = v
            .into_iter()
            .map(|(t, p, via)| {
                let te = m.entity(t);
                let key = (m.str(te.id), m.str(te.source), o.perm_str(p));
                let provider = (
                    via.map(|d| m.str(m.entity(d).id)),
                    via.map_or("", |d| m.str(m.entity(d).source)),
                );
                ((key, provider), t)
            })
            .collect();
        k.sort_unstable();
        k.dedup();
        k
    };
    let (old, new) = (keyed(old), keyed(new));
    let ie = m.entity(i);
    let push =
        |kind, key: (&str, &str, &str), t: EntityIdx, op, np, out: &mut Vec<AccessChange>| {
            out.push(AccessChange {
                kind,
                source: m.str(ie.source).to_string(),
                identity_id: m.str(ie.id).to_string(),
                identity_name: m.str(ie.name).to_string(),
                target_id: key.0.to_string(),
                target_name: m.str(m.entity(t).name).to_string(),
                target_source: key.1.to_string(),
                permission: key.2.to_string(),
                old_providers: op,
                new_providers: np,
            })
        };
    let providers = |run: &[(Keyed, EntityIdx)]| -> Vec<Option<String>> {
        run.iter()
            .map(|((_, (p, _)), _)| p.map(str::to_string))
            .collect()
    };
    let (mut a, mut b) = (0, 0);
    while a < old.len() || b < new.len() {
        let run_end = |v: &[(Keyed, EntityIdx)], s: usize| {
            let k = v[s].0.0;
            s + v[s..].iter().take_while(|x| x.0.0 == k).count()
        };
        let order = match (old.get(a), new.get(b)) {
            (Some(x), Some(y)) => x.0.0.cmp(&y.0.0),
            (Some(_), None) => std::cmp::Ordering::Less,
            _ => std::cmp::Ordering::Greater,
        };
        match order {
            std::cmp::Ordering::Less => {
                let e = run_end(&old, a);
                push(
                    ChangeKind::Revoked,
                    old[a].0.0,
                    old[a].1,
                    providers(&old[a..e]),
                    Vec::new(),
                    out,
                );
                a = e;
            }
            std::cmp::Ordering::Greater => {
                let e = run_end(&new, b);
                push(
                    ChangeKind::Granted,
                    new[b].0.0,
                    new[b].1,
                    Vec::new(),
                    providers(&new[b..e]),
                    out,
                );
                b = e;
            }
            std::cmp::Ordering::Equal => {
                let (ea, eb) = (run_end(&old, a), run_end(&new, b));
                let (po, pn) = (providers(&old[a..ea]), providers(&new[b..eb]));
                if po != pn {
                    push(ChangeKind::ReAttributed, new[b].0.0, new[b].1, po, pn, out);
                }
                a = ea;
                b = eb;
            }
        }
    }
}
