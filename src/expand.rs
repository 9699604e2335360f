//! Effective access: which identity holds which permission on which target,
//! and which connection provides it.
//!
//! The contract (PRODUCT.md): identity *i* has permission *p* on target *t*
//! when a path `i → c1 → … → ck → t` of granted edges exists whose
//! intermediate nodes are all connections (k ≥ 0) and whose last edge carries
//! *p*; the provider is `ck`, none for a direct grant.
//!
//! How it scales: connections joined by granted edges are condensed into
//! strongly connected components (every member of a component reaches the
//! same connections, so cycles cost nothing extra). Each component's
//! *closure* — every `(target, permission, provider)` reachable through it —
//! is computed once, on first use, and shared by every identity entering
//! through it. An identity's grants are its direct edges merged with the
//! closures of the components it enters. Nothing walks the whole graph per
//! identity, and reports stream identity by identity.
//!
//! Does no I/O.

use std::borrow::Cow;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

use rayon::prelude::*;

use crate::graph::AccessGraph;
use crate::model::{EntityIdx, Kind, Model, Sym};

/// One derived grant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Grant {
    /// The identity holding the access.
    pub identity: EntityIdx,
    /// What it can reach.
    pub target: EntityIdx,
    /// With which permission.
    pub permission: Sym,
    /// The connection holding the granting edge; `None` for a direct grant.
    pub provider: Option<EntityIdx>,
}

/// A grant as sort key: (target rank, permission rank, provider rank + 1, or
/// 0 for direct). Sorting these sorts grants in report order.
type Packed = (u32, u32, u32);

const NONE: u32 = u32::MAX;

/// Most closure entries kept in the shared cache (12 bytes each, so about
/// 400 MiB). Past it, closures are recomputed per use: a pathological
/// organisation gets slower, never out of memory.
const CLOSURE_CACHE_ENTRIES: usize = 32 << 20;

/// Grants aimed for per parallel batch when streaming; batches are cut from
/// an upper bound on each identity's grants (direct edges plus the closure
/// sizes of the components it enters), known before any grant is allocated.
const GRANTS_PER_BATCH: usize = 1 << 16;

/// Most identity groups in one streamed batch.
const MAX_GROUPS_PER_BATCH: usize = 4096;

/// Splits consecutive groups with grant upper bounds `bounds` into at most
/// `most` batches (ranges of indices into `bounds`), each closed once its
/// bounds reach `grants_per_batch` or it holds [`MAX_GROUPS_PER_BATCH`]
/// groups; every batch has at least one group, so a group bigger than the
/// target is a batch of its own. Always covers at least the first group.
fn cut_batches(
    bounds: &[usize],
    grants_per_batch: usize,
    most: usize,
) -> Vec<std::ops::Range<usize>> {
    let mut batches = Vec::new();
    let (mut start, mut sum) = (0usize, 0usize);
    for (k, &b) in bounds.iter().enumerate() {
        sum = sum.saturating_add(b);
        if sum >= grants_per_batch || k + 1 - start >= MAX_GROUPS_PER_BATCH {
            batches.push(start..k + 1);
            start = k + 1;
            sum = 0;
            if batches.len() == most {
                return batches;
            }
        }
    }
    if start < bounds.len() {
        batches.push(start..bounds.len());
    }
    batches
}

/// How far a stream has got: identities and grants consumed so far.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StreamProgress {
    /// Identities whose grants have been consumed.
    pub identities: u64,
    /// Every identity the stream will go through.
    pub identities_total: u64,
    /// Grants consumed (report rows).
    pub grants: u64,
}

/// One batch's rendered value with its counts.
struct Rendered<T> {
    value: T,
    identities: u64,
    grants: usize,
}

/// Per-batch working buffers, reused across batches.
#[derive(Default)]
struct Scratch {
    all: Vec<Grant>,
    buf: Vec<Packed>,
    entries: Vec<u32>,
}

/// Reusable buffers for [`Expansion::ranked_grants`].
#[derive(Default)]
pub(crate) struct RankedScratch {
    pub(crate) buf: Vec<Packed>,
    pub(crate) entries: Vec<u32>,
}

/// Precomputed structures for deriving effective access from one graph.
pub struct Expansion<'g> {
    graph: &'g AccessGraph,
    /// The graph's report order (see [`crate::graph::Order`]): entity →
    /// rank, rank → entity, permission symbol → rank, rank → permission.
    rank: &'g [u32],
    by_rank: &'g [EntityIdx],
    perm_rank: &'g [u32],
    perms_by_rank: &'g [Sym],
    /// Connection → component (`NONE` for other kinds).
    comp_of: Vec<u32>,
    comp_start: Vec<u32>,
    comp_members: Vec<EntityIdx>,
    succ_start: Vec<u32>,
    succ: Vec<u32>,
    closures: Vec<OnceLock<Box<[Packed]>>>,
    /// Closure sizes once known (`NONE` before), for sizing batches.
    closure_lens: Vec<AtomicU32>,
    cached_entries: AtomicUsize,
    /// Identities in report order, grouped: identities sharing an id (from
    /// different sources) are adjacent.
    identities: Vec<EntityIdx>,
}

impl<'g> Expansion<'g> {
    /// Builds the expansion structures: O(entities log entities + edges).
    pub fn new(graph: &'g AccessGraph) -> Expansion<'g> {
        let model = graph.model();
        let n = model.entities.len();

        let order = graph.order();
        let (rank, by_rank) = (order.ranks(), order.by_rank());
        let (perm_rank, perms_by_rank) = (order.permission_ranks(), order.permissions());

        // Components of connections and the DAG between them.
        let components = graph.connection_components();
        let mut comp_of = vec![NONE; n];
        let mut comp_start = Vec::with_capacity(components.len() + 1);
        let mut comp_members = Vec::new();
        comp_start.push(0);
        for (c, members) in components.iter().enumerate() {
            for &m in members {
                comp_of[m as usize] = c as u32;
            }
            comp_members.extend_from_slice(members);
            comp_start.push(comp_members.len() as u32);
        }
        let mut succ_start = Vec::with_capacity(components.len() + 1);
        let mut succ = Vec::new();
        succ_start.push(0);
        for (c, members) in components.iter().enumerate() {
            let from = succ.len();
            for &m in members {
                for &(to, _) in graph.granted_edges(m) {
                    let d = comp_of[to as usize];
                    if d != NONE && d != c as u32 {
                        succ.push(d);
                    }
                }
            }
            succ[from..].sort_unstable();
            let mut kept = from;
            for i in from..succ.len() {
                if i == from || succ[i] != succ[kept - 1] {
                    succ[kept] = succ[i];
                    kept += 1;
                }
            }
            succ.truncate(kept);
            succ_start.push(succ.len() as u32);
        }
        let closures = (0..components.len()).map(|_| OnceLock::new()).collect();
        let closure_lens = (0..components.len())
            .map(|_| AtomicU32::new(NONE))
            .collect();

        let identities: Vec<EntityIdx> = by_rank
            .iter()
            .copied()
            .filter(|&e| model.entity(e).kind == Kind::Identity)
            .collect();

        Expansion {
            graph,
            rank,
            by_rank,
            perm_rank,
            perms_by_rank,
            comp_of,
            comp_start,
            comp_members,
            succ_start,
            succ,
            closures,
            closure_lens,
            cached_entries: AtomicUsize::new(0),
            identities,
        }
    }

    /// The graph this expansion derives from.
    pub fn graph(&self) -> &'g AccessGraph {
        self.graph
    }

    /// The model behind the graph.
    pub fn model(&self) -> &'g Model {
        self.graph.model()
    }

    /// Every identity, in report order (by id, then source).
    pub fn identities(&self) -> &[EntityIdx] {
        &self.identities
    }

    /// Every permission on a granted or false edge, in byte order: a
    /// permission's position here is its rank.
    pub fn permissions(&self) -> &[Sym] {
        self.perms_by_rank
    }

    /// The position of `permission` in [`Expansion::permissions`]; `None`
    /// for a string no edge uses as a permission.
    pub fn permission_rank(&self, permission: Sym) -> Option<u32> {
        self.graph.order().permission_rank(permission)
    }

    /// Granted out-edges of an entity: `(target, permission)`.
    pub fn granted_edges(&self, entity: EntityIdx) -> &'g [(EntityIdx, Sym)] {
        self.graph.granted_edges(entity)
    }

    /// The connection component an entity belongs to (connections only).
    pub fn component(&self, entity: EntityIdx) -> Option<u32> {
        let c = self.comp_of[entity as usize];
        (c != NONE).then_some(c)
    }

    fn members(&self, comp: u32) -> &[EntityIdx] {
        let c = comp as usize;
        &self.comp_members[self.comp_start[c] as usize..self.comp_start[c + 1] as usize]
    }

    fn successors(&self, comp: u32) -> &[u32] {
        let c = comp as usize;
        &self.succ[self.succ_start[c] as usize..self.succ_start[c + 1] as usize]
    }

    /// Every `(target, permission, provider)` a member of `comp` gets through
    /// it, sorted and distinct; computed once and cached while the cache has
    /// room.
    fn closure(&self, comp: u32) -> Cow<'_, [Packed]> {
        let slot = &self.closures[comp as usize];
        if let Some(cached) = slot.get() {
            return Cow::Borrowed(cached);
        }
        let grants = self.compute_closure(comp);
        let size = grants.len();
        self.closure_lens[comp as usize]
            .store(size.min(NONE as usize - 1) as u32, Ordering::Relaxed);
        let admitted = self
            .cached_entries
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |used| {
                (used + size <= CLOSURE_CACHE_ENTRIES).then_some(used + size)
            })
            .is_ok();
        if !admitted {
            return Cow::Owned(grants.into_vec());
        }
        if slot.set(grants).is_err() {
            // Another thread cached it first; give the budget back.
            self.cached_entries.fetch_sub(size, Ordering::Relaxed);
        }
        Cow::Borrowed(slot.get().expect("closure was just cached"))
    }

    /// The size of `comp`'s closure; remembered once known, so a closure
    /// too big for the cache is computed again only to expand it.
    pub(crate) fn closure_len(&self, comp: u32) -> usize {
        let known = self.closure_lens[comp as usize].load(Ordering::Relaxed);
        if known != NONE {
            return known as usize;
        }
        self.closure(comp).len()
    }

    fn compute_closure(&self, comp: u32) -> Box<[Packed]> {
        let mut seen = rustc_hash::FxHashSet::default();
        let mut stack = vec![comp];
        seen.insert(comp);
        let mut grants = Vec::new();
        while let Some(c) = stack.pop() {
            for &d in self.members(c) {
                let provider = self.rank[d as usize] + 1;
                for &(t, p) in self.granted_edges(d) {
                    grants.push((
                        self.rank[t as usize],
                        self.perm_rank[p.0 as usize],
                        provider,
                    ));
                }
            }
            for &s in self.successors(c) {
                if seen.insert(s) {
                    stack.push(s);
                }
            }
        }
        grants.sort_unstable();
        grants.dedup();
        grants.into_boxed_slice()
    }

    /// The pieces one identity's grants are merged from: its direct grants
    /// as sort keys in `buf` (in edge order, not sorted) and the components
    /// it enters in `entries`, sorted, distinct. Its grants are exactly
    /// `buf` joined with those components' closures, so two identities
    /// with the same pieces have the same grants.
    pub(crate) fn grant_pieces(
        &self,
        identity: EntityIdx,
        buf: &mut Vec<Packed>,
        entries: &mut Vec<u32>,
    ) {
        buf.clear();
        entries.clear();
        for &(t, p) in self.granted_edges(identity) {
            buf.push((self.rank[t as usize], self.perm_rank[p.0 as usize], 0));
            let c = self.comp_of[t as usize];
            if c != NONE {
                entries.push(c);
            }
        }
        entries.sort_unstable();
        entries.dedup();
    }

    /// A component's closure as sort keys (see [`Expansion::closure`]) and
    /// one of its member connections, for comparing components across
    /// graphs.
    pub(crate) fn component_closure(&self, comp: u32) -> (EntityIdx, Cow<'_, [Packed]>) {
        (self.members(comp)[0], self.closure(comp))
    }

    /// How many connection components there are.
    pub(crate) fn component_count(&self) -> usize {
        self.closures.len()
    }

    /// Fills `buf` with one identity's grants as sort keys, sorted, distinct.
    fn packed_grants(&self, identity: EntityIdx, buf: &mut Vec<Packed>, entries: &mut Vec<u32>) {
        self.grant_pieces(identity, buf, entries);
        for &c in entries.iter() {
            buf.extend_from_slice(&self.closure(c));
        }
        // The pieces are sorted runs; the stable sort merges runs cheaply.
        buf.sort();
        buf.dedup();
    }

    /// One identity's grants as rank triples (target rank, permission
    /// rank, provider rank + 1 or 0 for direct), in report order, distinct,
    /// in `scratch`: what `diff` compares across two graphs as integers.
    pub(crate) fn ranked_grants<'s>(
        &self,
        identity: EntityIdx,
        scratch: &'s mut RankedScratch,
    ) -> &'s [(u32, u32, u32)] {
        self.packed_grants(identity, &mut scratch.buf, &mut scratch.entries);
        &scratch.buf
    }

    /// The grant a rank triple of [`Expansion::ranked_grants`] stands for.
    pub(crate) fn unpack(&self, identity: EntityIdx, (t, p, d): Packed) -> Grant {
        Grant {
            identity,
            target: self.by_rank[t as usize],
            permission: self.perms_by_rank[p as usize],
            provider: (d != 0).then(|| self.by_rank[d as usize - 1]),
        }
    }

    /// One identity's effective access, in report order (target id,
    /// permission, provider id), distinct.
    pub fn grants_of(&self, identity: EntityIdx) -> Vec<Grant> {
        let mut buf = Vec::new();
        let mut entries = Vec::new();
        self.packed_grants(identity, &mut buf, &mut entries);
        buf.into_iter().map(|g| self.unpack(identity, g)).collect()
    }

    /// Everything a member of `connection` gets through it: `(target,
    /// permission, provider)` in report order, distinct. Empty for an entity
    /// that is not a connection.
    pub fn closure_of(&self, connection: EntityIdx) -> Vec<(EntityIdx, Sym, EntityIdx)> {
        let Some(c) = self.component(connection) else {
            return Vec::new();
        };
        self.closure(c)
            .iter()
            .map(|&(t, p, d)| {
                (
                    self.by_rank[t as usize],
                    self.perms_by_rank[p as usize],
                    self.by_rank[d as usize - 1],
                )
            })
            .collect()
    }

    /// The connections `identity` reaches through granted edges (direct and
    /// nested), sorted by entity index.
    pub fn connections_of(&self, identity: EntityIdx) -> Vec<EntityIdx> {
        let mut seen = rustc_hash::FxHashSet::default();
        let mut stack = Vec::new();
        for &(t, _) in self.granted_edges(identity) {
            let c = self.comp_of[t as usize];
            if c != NONE && seen.insert(c) {
                stack.push(c);
            }
        }
        let mut out = Vec::new();
        while let Some(c) = stack.pop() {
            out.extend_from_slice(self.members(c));
            for &s in self.successors(c) {
                if seen.insert(s) {
                    stack.push(s);
                }
            }
        }
        out.sort_unstable();
        out
    }

    /// Appends the grants of a group of identities that share an id to
    /// `out`, merged in report order: target id, permission, provider id,
    /// then source.
    fn group_grants(
        &self,
        group: &[EntityIdx],
        out: &mut Vec<Grant>,
        buf: &mut Vec<Packed>,
        entries: &mut Vec<u32>,
    ) {
        let start = out.len();
        for &identity in group {
            self.packed_grants(identity, buf, entries);
            out.extend(buf.iter().map(|&g| self.unpack(identity, g)));
        }
        if group.len() > 1 {
            let m = self.model();
            let id = |e: EntityIdx| m.str(m.entity(e).id);
            out[start..].sort_by(|a, b| {
                id(a.target)
                    .cmp(id(b.target))
                    .then_with(|| m.str(a.permission).cmp(m.str(b.permission)))
                    .then_with(|| a.provider.map(id).cmp(&b.provider.map(id)))
                    .then_with(|| {
                        self.rank[a.identity as usize].cmp(&self.rank[b.identity as usize])
                    })
                    .then_with(|| self.rank[a.target as usize].cmp(&self.rank[b.target as usize]))
                    .then_with(|| {
                        a.provider
                            .map(|p| self.rank[p as usize])
                            .cmp(&b.provider.map(|p| self.rank[p as usize]))
                    })
            });
        }
    }

    /// An upper bound on the grants of a group of identities: their direct
    /// edges plus the closure sizes of the components they enter (overlaps
    /// counted twice). Computes (and caches) those closures, never the
    /// grants themselves.
    fn group_bound(&self, group: &[EntityIdx]) -> usize {
        let mut entries: Vec<u32> = Vec::new();
        let mut bound = 0usize;
        for &identity in group {
            let edges = self.granted_edges(identity);
            bound += edges.len();
            entries.clear();
            entries.extend(
                edges
                    .iter()
                    .map(|&(t, _)| self.comp_of[t as usize])
                    .filter(|&c| c != NONE),
            );
            entries.sort_unstable();
            entries.dedup();
            for &c in &entries {
                bound = bound.saturating_add(self.closure_len(c));
            }
        }
        bound
    }

    /// Identities split into groups sharing one id (usually one identity
    /// each), in report order.
    fn identity_groups(&self) -> Vec<&[EntityIdx]> {
        let m = self.model();
        self.identities
            .chunk_by(|&a, &b| m.entity(a).id == m.entity(b).id)
            .collect()
    }

    /// Streams every grant of every identity in report order. Work runs in
    /// parallel over batches of identities; `render` turns one batch's grants
    /// into a value (e.g. bytes) and `consume` receives the values in order,
    /// on the calling thread, while the next window of batches is computed
    /// (so writing overlaps expansion). `progress` is told, after each
    /// consumed batch, how many identities and grants have been consumed so
    /// far. Batches are cut from each identity's grant bound (direct edges
    /// plus entered closure sizes) before any grant is allocated, so memory
    /// stays bounded by the closures plus two windows of about 64K grants per
    /// batch (or one identity's grants, if more), two batches per thread,
    /// however large the answer.
    pub fn stream_with_progress<T, E>(
        &self,
        render: impl Fn(&[Grant]) -> T + Sync,
        consume: impl FnMut(T) -> Result<(), E>,
        progress: &mut dyn FnMut(StreamProgress),
    ) -> Result<(), E>
    where
        T: Send,
    {
        self.stream_sized(GRANTS_PER_BATCH, render, consume, progress)
    }

    /// [`Expansion::stream_with_progress`] aiming at `grants_per_batch`.
    fn stream_sized<T, E>(
        &self,
        grants_per_batch: usize,
        render: impl Fn(&[Grant]) -> T + Sync,
        consume: impl FnMut(T) -> Result<(), E>,
        progress: &mut dyn FnMut(StreamProgress),
    ) -> Result<(), E>
    where
        T: Send,
    {
        let groups = self.identity_groups();
        self.stream_groups(&groups, grants_per_batch, render, consume, progress)
    }

    /// The streaming engine behind every `stream*` method: `groups` of
    /// identities (a group's grants are merged) in the order given.
    fn stream_groups<T, E>(
        &self,
        groups: &[&[EntityIdx]],
        grants_per_batch: usize,
        render: impl Fn(&[Grant]) -> T + Sync,
        mut consume: impl FnMut(T) -> Result<(), E>,
        progress: &mut dyn FnMut(StreamProgress),
    ) -> Result<(), E>
    where
        T: Send,
    {
        let threads = rayon::current_num_threads().max(1);
        // Scratch buffers live across batches and windows: no allocation
        // (and no fresh pages to fault in) per batch once warm.
        let scratch: Mutex<Vec<Scratch>> = Mutex::new(Vec::new());
        let render = &render;
        let scratch = &scratch;
        let mut state = StreamProgress {
            identities: 0,
            identities_total: groups.iter().map(|g| g.len() as u64).sum(),
            grants: 0,
        };
        // One window: the next few batches per thread, computed in parallel,
        // in order. Batches are cut from an upper bound on each group's
        // grants, known from closure sizes before anything is allocated
        // (data, never timing), so the output is the same however it is
        // scheduled and a window holds about `2 × threads ×
        // grants_per_batch` grants, or one group's, whichever is more.
        let next_window = |done: usize, grants_seen: usize| -> (Vec<Rendered<T>>, usize) {
            // Which groups to bound: enough for a window at the grants per
            // group seen so far (bounds are never below the real count, so
            // this rarely falls short), and at most 4096 groups per batch.
            let per_group = if done == 0 {
                64
            } else {
                grants_seen.div_ceil(done).max(1)
            };
            let guess = (grants_per_batch / per_group).clamp(1, MAX_GROUPS_PER_BATCH);
            let candidates = &groups[done..(done + guess * threads * 2).min(groups.len())];
            let bounds: Vec<usize> = candidates
                .par_iter()
                .map(|group| self.group_bound(group))
                .collect();
            let window = cut_batches(&bounds, grants_per_batch, threads * 2)
                .into_iter()
                .map(|r| &candidates[r])
                .collect::<Vec<_>>();
            let end = done + window.iter().map(|b| b.len()).sum::<usize>();
            let rendered = window
                .par_iter()
                .map(|batch| {
                    let mut sc = scratch
                        .lock()
                        .expect("scratch pool")
                        .pop()
                        .unwrap_or_default();
                    sc.all.clear();
                    let mut identities = 0u64;
                    for group in batch.iter() {
                        self.group_grants(group, &mut sc.all, &mut sc.buf, &mut sc.entries);
                        identities += group.len() as u64;
                    }
                    let value = render(&sc.all);
                    let grants = sc.all.len();
                    scratch.lock().expect("scratch pool").push(sc);
                    Rendered {
                        value,
                        identities,
                        grants,
                    }
                })
                .collect();
            (rendered, end)
        };
        let mut deliver = |window: Vec<Rendered<T>>| -> Result<(), E> {
            for r in window {
                consume(r.value)?;
                state.identities += r.identities;
                state.grants += r.grants as u64;
                progress(state);
            }
            Ok(())
        };
        // Called from a rayon worker (e.g. inside `rayon::join`), the caller
        // must not block waiting for a producer whose parallel work needs
        // that very pool: every worker could end up waiting, and nothing
        // would run. There, windows are computed and consumed in turn.
        if rayon::current_thread_index().is_some() {
            let (mut done, mut grants_seen) = (0usize, 0usize);
            while done < groups.len() {
                let (window, end) = next_window(done, grants_seen);
                grants_seen += window.iter().map(|r| r.grants).sum::<usize>();
                done = end;
                deliver(window)?;
            }
            return Ok(());
        }
        let next_window = &next_window;
        std::thread::scope(|s| {
            // A rendezvous channel: the producer computes window k+1 while
            // the caller consumes window k, and waits for it to finish.
            let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<Rendered<T>>>(0);
            s.spawn(move || {
                let (mut done, mut grants_seen) = (0usize, 0usize);
                while done < groups.len() {
                    let (window, end) = next_window(done, grants_seen);
                    grants_seen += window.iter().map(|r| r.grants).sum::<usize>();
                    done = end;
                    if tx.send(window).is_err() {
                        // The consumer stopped (a write failed): stop too.
                        return;
                    }
                }
            });
            for window in rx {
                deliver(window)?;
            }
            Ok(())
        })
    }

    /// [`Expansion::stream_with_progress`] without progress.
    pub fn stream<T, E>(
        &self,
        render: impl Fn(&[Grant]) -> T + Sync,
        consume: impl FnMut(T) -> Result<(), E>,
    ) -> Result<(), E>
    where
        T: Send,
    {
        self.stream_with_progress(render, consume, &mut |_| {})
    }

    /// Total number of grants (runs the whole expansion).
    pub fn count(&self) -> u64 {
        let mut total = 0u64;
        let _ = self.stream(
            |g| g.len() as u64,
            |n| -> Result<(), ()> {
                total += n;
                Ok(())
            },
        );
        total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A generated organisation of `rows` rows, as a graph.
    fn org(rows: u64) -> AccessGraph {
        crate::generate::test_org(rows, 11)
    }

    /// Streaming from inside rayon (as `diff` does for its two graphs) must
    /// not wait on a producer that needs the workers it is blocking: two
    /// streams under `rayon::join` finish, with the same grants as one
    /// stream from a plain thread.
    #[test]
    fn streams_under_rayon_join_finish_with_the_same_grants() {
        // On its own thread, so a deadlock fails the test after the timeout
        // instead of hanging it.
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let graph = org(20_000);
            let expansion = Expansion::new(&graph);
            let collect = || {
                let mut all = Vec::new();
                let _ = expansion.stream(
                    |g| g.to_vec(),
                    |v| -> Result<(), ()> {
                        all.extend(v);
                        Ok(())
                    },
                );
                all
            };
            let alone = collect();
            let (a, b) = rayon::join(collect, collect);
            let _ = tx.send(a == alone && b == alone && !alone.is_empty());
        });
        let same = rx
            .recv_timeout(std::time::Duration::from_secs(120))
            .expect("two streams under rayon::join did not finish: deadlock");
        assert!(same);
    }

    #[test]
    fn small_batches_stream_the_same_grants_in_the_same_order() {
        let graph = org(5_000);
        let expansion = Expansion::new(&graph);
        let mut whole = Vec::new();
        let _ = expansion.stream(
            |g| g.to_vec(),
            |g| -> Result<(), ()> {
                whole.extend(g);
                Ok(())
            },
        );
        let mut batched = Vec::new();
        let mut batches = 0;
        let _ = expansion.stream_sized(
            64,
            |g| g.to_vec(),
            |g| -> Result<(), ()> {
                batched.extend(g);
                batches += 1;
                Ok(())
            },
            &mut |_| {},
        );
        assert!(batches > 20, "{batches} batches");
        assert!(!whole.is_empty());
        assert_eq!(whole, batched);
        let direct: Vec<Grant> = expansion
            .identities()
            .iter()
            .flat_map(|&i| expansion.grants_of(i))
            .collect();
        assert_eq!(direct.len(), whole.len());
    }

    /// Issue 13.5: a dense organisation (every identity in one group that
    /// grants many resources) must not put every identity's grants in the
    /// first window. Each batch holds at most the target plus one group's
    /// grants, however many grants the guess for the first window expects.
    #[test]
    fn issue_13_dense_batches_are_sized_by_closures() {
        let graph = crate::generate::test_dense(40, 2_000);
        let expansion = Expansion::new(&graph);
        let per_identity = 2_001;
        let target = 4_096;
        let (mut batches, mut total, mut largest) = (0, 0, 0);
        let _ = expansion.stream_sized(
            target,
            |g| g.len(),
            |n| -> Result<(), ()> {
                batches += 1;
                total += n;
                largest = largest.max(n);
                Ok(())
            },
            &mut |_| {},
        );
        assert_eq!(total, 40 * per_identity);
        assert!(
            largest <= target + per_identity,
            "a batch of {largest} grants in {batches} batches"
        );
    }

    #[test]
    fn cut_batches_close_at_the_target_and_keep_big_groups_alone() {
        assert_eq!(cut_batches(&[5, 5, 5, 5], 10, 8), vec![0..2, 2..4]);
        assert_eq!(cut_batches(&[50, 1, 1], 10, 8), vec![0..1, 1..3]);
        assert_eq!(cut_batches(&[50, 50, 50], 10, 2), vec![0..1, 1..2]);
        assert_eq!(cut_batches(&[0, 0], 10, 2), vec![0..2]);
    }

    #[test]
    fn a_failing_consumer_stops_the_stream_in_any_window() {
        let graph = org(5_000);
        let expansion = Expansion::new(&graph);
        for stop_after in [0, 1, 7, 30] {
            let mut consumed = 0;
            let result = expansion.stream_sized(
                64,
                |g| g.len(),
                |_| {
                    if consumed == stop_after {
                        return Err(consumed);
                    }
                    consumed += 1;
                    Ok(())
                },
                &mut |_| {},
            );
            assert_eq!(result, Err(stop_after));
        }
    }
}
