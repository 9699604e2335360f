//! Effective-access changes, identity by identity: the two graphs'
//! identities are matched by key, and each matched pair is first compared
//! by the pieces its grants are merged from — its direct grants and the
//! connection components it enters, whose closures are compared once per
//! component, all as integers with the new side's ranks mapped to the old
//! side's — so the (usually almost all) identities whose access did not
//! change cost neither an expansion nor a string. A pair whose pieces
//! differ has its grants compared as integers next. Only an identity whose grants differ,
//! or that exists on one side only, is compared by strings, grant run by
//! grant run. Identities are worked on in parallel, a window at a time
//! (sized by the grants per identity seen so far), and changes are handed
//! out in key order; a window holds only its changes, never every grant.
//!
//! Keys are `(source, identity id, target id, target source, permission)`
//! with the old side's sources renamed by the pairing (see `pair`); a run of
//! grants sharing a key compares its set of providers. Edges never cross
//! sources, so all of one identity's grants are in its source and their
//! report order is the key order on both sides. Does no I/O.

use std::cmp::Ordering;
use std::sync::atomic::{AtomicU32, Ordering as Atomic};

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use super::{AccessChange, Change, ChangeKind, Names};
use crate::expand::{Expansion, Grant, RankedScratch};
use crate::model::{EntityIdx, Model};

/// No counterpart on the other side.
const NONE: u32 = u32::MAX;

/// Grants (both sides counted) aimed for per window and thread: a window
/// holds the changes of at most about this many grants per thread, or of
/// one identity, so a total churn streams in bounded memory too.
const GRANTS_PER_WINDOW: usize = 1 << 16;

/// Most identity pairs in one window.
const MAX_PAIRS_PER_WINDOW: usize = 1 << 14;

/// A component whose closure no old component has (in [`SameComponents`]).
const DIFFERS: u32 = u32::MAX - 1;

/// One grant with its strings, for matching across graphs.
#[derive(Clone, Copy)]
struct Keyed<'m> {
    source: &'m str,
    identity: &'m str,
    target: &'m str,
    target_source: &'m str,
    permission: &'m str,
    provider: Option<&'m str>,
    identity_idx: EntityIdx,
    target_idx: EntityIdx,
}

/// One side of the comparison.
#[derive(Clone, Copy)]
struct Side<'x, 'g, 'm> {
    x: &'x Expansion<'g>,
    names: &'x Names<'m>,
}

impl<'g: 'm, 'm> Side<'_, 'g, 'm> {
    fn model(&self) -> &'g Model {
        self.x.model()
    }

    /// `grant` with its strings.
    fn keyed(&self, grant: Grant) -> Keyed<'m> {
        let m = self.model();
        let (identity, target) = (m.entity(grant.identity), m.entity(grant.target));
        Keyed {
            source: self.names.source(identity.source),
            identity: m.str(identity.id),
            target: m.str(target.id),
            target_source: self.names.source(target.source),
            permission: m.str(grant.permission),
            provider: grant.provider.map(|p| m.str(m.entity(p).id)),
            identity_idx: grant.identity,
            target_idx: grant.target,
        }
    }

    /// The identities by (compared source, id): the order of the diff's
    /// keys.
    fn identities_by_key(&self) -> Vec<(&'m str, &'m str, EntityIdx)> {
        let m = self.model();
        // Strings looked up once per identity, not once per comparison.
        let mut v: Vec<(&str, &str, EntityIdx)> = (self.x.identities().par_iter())
            .map(|&i| {
                let e = m.entity(i);
                (self.names.source(e.source), m.str(e.id), i)
            })
            .collect();
        v.par_sort_unstable();
        v
    }

    /// Entity ranks per compared source, each list in rank order, which
    /// within one source is id order.
    fn ranks_by_source(&self) -> FxHashMap<&'m str, Vec<u32>> {
        let m = self.model();
        let order = self.x.graph().order();
        let mut by_sym: FxHashMap<crate::model::Sym, Vec<u32>> = FxHashMap::default();
        for (rank, &e) in order.by_rank().iter().enumerate() {
            by_sym
                .entry(m.entity(e).source)
                .or_default()
                .push(rank as u32);
        }
        let mut by_name: FxHashMap<&str, Vec<u32>> = FxHashMap::default();
        for (sym, ranks) in by_sym {
            let list = by_name.entry(self.names.source(sym)).or_default();
            let merged = !list.is_empty();
            list.extend(ranks);
            if merged {
                // Two sources compared under one name: back into id order.
                let id = |r: &u32| m.str(m.entity(order.by_rank()[*r as usize]).id);
                list.sort_by(|a, b| id(a).cmp(id(b)).then(a.cmp(b)));
            }
        }
        by_name
    }
}

/// Every entity of `x` in the diff's key order, (compared source, id),
/// without comparing strings but for source names: the report order is id
/// order within each source.
pub(super) fn entities_by_key<'m>(x: &Expansion<'_>, names: &Names<'m>) -> Vec<EntityIdx> {
    let mut sources: Vec<(&str, Vec<u32>)> =
        Side { x, names }.ranks_by_source().into_iter().collect();
    sources.sort_unstable_by(|a, b| a.0.cmp(b.0));
    let by_rank = x.graph().order().by_rank();
    (sources.iter())
        .flat_map(|(_, ranks)| ranks.iter().map(|&r| by_rank[r as usize]))
        .collect()
}

/// The new side's ranks in the old side's terms: entity rank → the rank of
/// the old entity with the same (compared source, id), permission rank →
/// the rank of the same permission; [`NONE`] where the old side has none.
struct RankMap {
    entity: Vec<u32>,
    permission: Vec<u32>,
}

impl RankMap {
    fn new(old: Side, new: Side) -> RankMap {
        let (om, nm) = (old.model(), new.model());
        let (oo, no) = (old.x.graph().order(), new.x.graph().order());
        let mut entity = vec![NONE; no.by_rank().len()];
        let old_sources = old.ranks_by_source();
        for (name, new_ranks) in new.ranks_by_source() {
            let Some(old_ranks) = old_sources.get(name) else {
                continue;
            };
            let old_id = |r: u32| om.str(om.entity(oo.by_rank()[r as usize]).id);
            let new_id = |r: u32| nm.str(nm.entity(no.by_rank()[r as usize]).id);
            merge_sorted(old_ranks, &new_ranks, old_id, new_id, |o, n| {
                entity[n as usize] = o;
            });
        }
        let (op, np) = (old.x.permissions(), new.x.permissions());
        let mut permission = vec![NONE; np.len()];
        let all = |n: usize| (0..n as u32).collect::<Vec<u32>>();
        merge_sorted(
            &all(op.len()),
            &all(np.len()),
            |r| om.str(op[r as usize]),
            |r| nm.str(np[r as usize]),
            |o, n| permission[n as usize] = o,
        );
        RankMap { entity, permission }
    }

    /// A new side's grant in old ranks ([`NONE`] parts where it has none).
    fn map(&self, (t, p, d): (u32, u32, u32)) -> (u32, u32, u32) {
        let provider = match d {
            0 => 0,
            d => self.entity[d as usize - 1].saturating_add(1),
        };
        (
            self.entity[t as usize],
            self.permission[p as usize],
            provider,
        )
    }
}

/// The new side's connection components matched to the old side's: for
/// each, the old component of one of its member connections when the two
/// closures are the same grants (mapped to old ranks), else [`DIFFERS`].
/// Compared on first use and remembered; the comparison is a function of
/// the data, so which thread makes it first does not matter.
struct SameComponents {
    /// Per new component: [`NONE`] until compared, then the old
    /// component or [`DIFFERS`].
    old_of: Vec<AtomicU32>,
}

impl SameComponents {
    fn new(new: Side) -> SameComponents {
        let old_of = (0..new.x.component_count())
            .map(|_| AtomicU32::new(NONE))
            .collect();
        SameComponents { old_of }
    }

    /// The old component with the same closure as new component `c`.
    fn get(&self, c: u32, (old, new): (Side, Side), ranks: &RankMap) -> Option<u32> {
        let slot = &self.old_of[c as usize];
        let found = match slot.load(Atomic::Relaxed) {
            NONE => {
                let found = Self::compare(c, (old, new), ranks).unwrap_or(DIFFERS);
                slot.store(found, Atomic::Relaxed);
                found
            }
            known => known,
        };
        (found != DIFFERS).then_some(found)
    }

    fn compare(c: u32, (old, new): (Side, Side), ranks: &RankMap) -> Option<u32> {
        let (member, closure) = new.x.component_closure(c);
        let rank = new.x.graph().order().ranks()[member as usize];
        let old_entity = match ranks.entity[rank as usize] {
            NONE => return None,
            r => old.x.graph().order().by_rank()[r as usize],
        };
        let oc = old.x.component(old_entity)?;
        let (_, old_closure) = old.x.component_closure(oc);
        let same = old_closure.len() == closure.len()
            && closure
                .iter()
                .zip(old_closure.iter())
                .all(|(&n, &o)| ranks.map(n) == o);
        same.then_some(oc)
    }
}

/// Calls `matched(a, b)` for every pair of `olds` and `news` items with
/// equal keys; both lists are sorted by key, keys distinct within each.
fn merge_sorted<'s>(
    olds: &[u32],
    news: &[u32],
    old_key: impl Fn(u32) -> &'s str,
    new_key: impl Fn(u32) -> &'s str,
    mut matched: impl FnMut(u32, u32),
) {
    let (mut i, mut j) = (0, 0);
    while i < olds.len() && j < news.len() {
        match old_key(olds[i]).cmp(new_key(news[j])) {
            Ordering::Less => i += 1,
            Ordering::Greater => j += 1,
            Ordering::Equal => {
                matched(olds[i], news[j]);
                i += 1;
                j += 1;
            }
        }
    }
}

/// The two sides' identities matched by key, in key order: `(old, new)`,
/// [`NONE`] where a side has no such identity.
fn identity_pairs(old: Side, new: Side) -> Vec<(u32, u32)> {
    let (olds, news) = rayon::join(|| old.identities_by_key(), || new.identities_by_key());
    let (mut i, mut j) = (0, 0);
    let mut pairs = Vec::with_capacity(olds.len().max(news.len()));
    while i < olds.len() || j < news.len() {
        let order = match (olds.get(i), news.get(j)) {
            (Some(a), Some(b)) => (a.0, a.1).cmp(&(b.0, b.1)),
            (Some(_), None) => Ordering::Less,
            _ => Ordering::Greater,
        };
        pairs.push(match order {
            Ordering::Less => (olds[i].2, NONE),
            Ordering::Greater => (NONE, news[j].2),
            Ordering::Equal => (olds[i].2, news[j].2),
        });
        i += usize::from(order != Ordering::Greater);
        j += usize::from(order != Ordering::Less);
    }
    pairs
}

fn providers(run: &[Keyed]) -> Vec<Option<String>> {
    run.iter().map(|g| g.provider.map(str::to_string)).collect()
}

fn change(
    kind: ChangeKind,
    g: &Keyed,
    m: &Model,
    old: Vec<Option<String>>,
    new: Vec<Option<String>>,
) -> Change {
    Change::Access(AccessChange {
        kind,
        source: g.source.to_string(),
        identity_id: g.identity.to_string(),
        identity_name: m.str(m.entity(g.identity_idx).name).to_string(),
        target_id: g.target.to_string(),
        target_name: m.str(m.entity(g.target_idx).name).to_string(),
        target_source: g.target_source.to_string(),
        permission: g.permission.to_string(),
        old_providers: old,
        new_providers: new,
    })
}

/// A grant as ranks: (target, permission, provider + 1 or 0).
type Ranked = (u32, u32, u32);

/// The id of the entity at `rank`.
fn id<'m>(m: &'m Model, by_rank: &[u32], rank: u32) -> &'m str {
    m.str(m.entity(by_rank[rank as usize]).id)
}

/// A run of one identity's grants with their strings.
fn keyed<'g: 'm, 'm>(side: Side<'_, 'g, 'm>, identity: u32, run: &[Ranked]) -> Vec<Keyed<'m>> {
    run.iter()
        .map(|&g| side.keyed(side.x.unpack(identity, g)))
        .collect()
}

/// The length of the run of grants sharing `grants[0]`'s target and
/// permission (its key: an identity's grants share its source).
fn run_len(grants: &[Ranked]) -> usize {
    let (t, p, _) = grants[0];
    grants.iter().take_while(|g| (g.0, g.1) == (t, p)).count()
}

/// The changes between one identity's grants on each side (either may be
/// empty), as ranks in report order, into `out`, in key order. Keys are
/// compared as old ranks where the new side's entity or permission has a
/// counterpart (the same id orders the same on both sides), by their
/// strings where it has none; strings are built only for the changes.
fn merge_grants<'g: 'm, 'm>(
    (o, og): (u32, &[Ranked]),
    (n, ng): (u32, &[Ranked]),
    (old, new): (Side<'_, 'g, 'm>, Side<'_, 'g, 'm>),
    ranks: &RankMap,
    out: &mut Vec<Change>,
) {
    let (om, nm) = (old.model(), new.model());
    let (oo, no) = (old.x.graph().order(), new.x.graph().order());
    let (op, np) = (old.x.permissions(), new.x.permissions());
    let key_order = |a: &Ranked, b: &Ranked| {
        let target = match ranks.entity[b.0 as usize] {
            NONE => id(om, oo.by_rank(), a.0).cmp(id(nm, no.by_rank(), b.0)),
            mapped => a.0.cmp(&mapped),
        };
        target.then_with(|| match ranks.permission[b.1 as usize] {
            NONE => om.str(op[a.1 as usize]).cmp(nm.str(np[b.1 as usize])),
            mapped => a.1.cmp(&mapped),
        })
    };
    let (mut i, mut j) = (0, 0);
    while i < og.len() || j < ng.len() {
        let order = match (og.get(i), ng.get(j)) {
            (Some(a), Some(b)) => key_order(a, b),
            (Some(_), None) => Ordering::Less,
            _ => Ordering::Greater,
        };
        match order {
            Ordering::Less => {
                let run = &og[i..i + run_len(&og[i..])];
                let run_keyed = keyed(old, o, run);
                let c = change(
                    ChangeKind::Revoked,
                    &run_keyed[0],
                    om,
                    providers(&run_keyed),
                    Vec::new(),
                );
                out.push(c);
                i += run.len();
            }
            Ordering::Greater => {
                let run = &ng[j..j + run_len(&ng[j..])];
                let run_keyed = keyed(new, n, run);
                let c = change(
                    ChangeKind::Granted,
                    &run_keyed[0],
                    nm,
                    Vec::new(),
                    providers(&run_keyed),
                );
                out.push(c);
                j += run.len();
            }
            Ordering::Equal => {
                let a = &og[i..i + run_len(&og[i..])];
                let b = &ng[j..j + run_len(&ng[j..])];
                let same =
                    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| ranks.map(*y).2 == x.2);
                if !same {
                    let (ka, kb) = (keyed(old, o, a), keyed(new, n, b));
                    out.push(change(
                        ChangeKind::ReAttributed,
                        &kb[0],
                        nm,
                        providers(&ka),
                        providers(&kb),
                    ));
                }
                i += a.len();
                j += b.len();
            }
        }
    }
}

/// Scratch space of one worker.
#[derive(Default)]
struct Scratch {
    old: RankedScratch,
    new: RankedScratch,
    /// A pair's new entry components as old ones.
    mapped: Vec<u32>,
}

/// When `o` and `n` are merged from the same pieces (direct grants and
/// closures of the components entered, compared in old ranks), so hold the
/// same grants: an upper bound on how many each holds, for sizing windows.
fn same_pieces(
    (o, n): (u32, u32),
    (old, new): (Side, Side),
    ranks: &RankMap,
    same: &SameComponents,
    scratch: &mut Scratch,
) -> Option<usize> {
    let (os, ns) = (&mut scratch.old, &mut scratch.new);
    old.x.grant_pieces(o, &mut os.buf, &mut os.entries);
    new.x.grant_pieces(n, &mut ns.buf, &mut ns.entries);
    if os.buf.len() != ns.buf.len() || os.entries.len() != ns.entries.len() {
        return None;
    }
    for g in ns.buf.iter_mut() {
        *g = ranks.map(*g);
        if g.0 == NONE || g.1 == NONE {
            return None;
        }
    }
    os.buf.sort_unstable();
    ns.buf.sort_unstable();
    if os.buf != ns.buf {
        return None;
    }
    scratch.mapped.clear();
    for &c in &ns.entries {
        scratch.mapped.push(same.get(c, (old, new), ranks)?);
    }
    scratch.mapped.sort_unstable();
    scratch.mapped.dedup();
    if scratch.mapped != os.entries {
        return None;
    }
    let closures: usize = os.entries.iter().map(|&c| old.x.closure_len(c)).sum();
    Some(2 * (os.buf.len() + closures))
}

/// The changes of one identity pair into `out`.
fn pair_changes(
    (o, n): (u32, u32),
    (old, new): (Side, Side),
    (ranks, same): (&RankMap, &SameComponents),
    scratch: &mut Scratch,
    out: &mut Vec<Change>,
) -> usize {
    if o != NONE && n != NONE {
        if let Some(grants) = same_pieces((o, n), (old, new), ranks, same, scratch) {
            return grants;
        }
    }
    let og = match o {
        NONE => &[][..],
        o => old.x.ranked_grants(o, &mut scratch.old),
    };
    let ng = match n {
        NONE => &[][..],
        n => new.x.ranked_grants(n, &mut scratch.new),
    };
    // The common case: the same grants, compared as integers.
    if og.len() == ng.len() && og.iter().zip(ng).all(|(&a, &b)| ranks.map(b) == a) {
        return og.len() + ng.len();
    }
    merge_grants((o, og), (n, ng), (old, new), ranks, out);
    og.len() + ng.len()
}

/// Hands every access change of the two expansions to `emit`, by key.
pub(super) fn access_changes<'g: 'm, 'm, E>(
    (old_x, old_names): (&Expansion<'g>, &Names<'m>),
    (new_x, new_names): (&Expansion<'g>, &Names<'m>),
    emit: &mut dyn FnMut(Change) -> Result<(), E>,
) -> Result<(), E> {
    let old = Side {
        x: old_x,
        names: old_names,
    };
    let new = Side {
        x: new_x,
        names: new_names,
    };
    let (pairs, ranks) = rayon::join(|| identity_pairs(old, new), || RankMap::new(old, new));
    let same = SameComponents::new(new);
    let threads = rayon::current_num_threads().max(1);
    let pool: std::sync::Mutex<Vec<Scratch>> = std::sync::Mutex::new(Vec::new());
    // One window's changes, worked out on the pool, with its grant count.
    // Change buffers are handed back once their changes are out, so each
    // window fills memory the last one used instead of fresh pages.
    let spare: std::sync::Mutex<Vec<Vec<Change>>> = std::sync::Mutex::new(Vec::new());
    // One window's changes, worked out on the pool, chunk by chunk in
    // order, with its grant count.
    let work = |window: &[(u32, u32)]| -> (Vec<Vec<Change>>, usize) {
        let chunk = window.len().div_ceil(threads * 4).max(1);
        let results: Vec<(Vec<Change>, usize)> = window
            .par_chunks(chunk)
            .map(|chunk| {
                // Scratch buffers outlive chunks and windows: grown once,
                // not per chunk.
                let mut scratch = pool.lock().expect("scratch pool").pop().unwrap_or_default();
                let mut out = spare
                    .lock()
                    .expect("spare buffers")
                    .pop()
                    .unwrap_or_default();
                let grants = (chunk.iter())
                    .map(|&pair| {
                        pair_changes(pair, (old, new), (&ranks, &same), &mut scratch, &mut out)
                    })
                    .sum();
                pool.lock().expect("scratch pool").push(scratch);
                (out, grants)
            })
            .collect();
        let grants = results.iter().map(|r| r.1).sum();
        (results.into_iter().map(|r| r.0).collect(), grants)
    };
    // Sized from the grants per identity seen so far (data, never timing:
    // the output is the same however it is scheduled).
    let window_after = |done: usize, grants_seen: usize| {
        let per_pair = match done {
            0 => 64,
            _ => grants_seen.div_ceil(done).max(1),
        };
        let size = (GRANTS_PER_WINDOW * threads / per_pair).clamp(1, MAX_PAIRS_PER_WINDOW);
        done..(done + size).min(pairs.len())
    };
    let mut next = window_after(0, 0);
    let (mut current, mut grants_seen) = work(&pairs[next.clone()]);
    let mut done = next.end;
    // Each window is worked out on the pool while the one before is handed
    // out here, so writing the rows overlaps finding the next ones; at most
    // two windows' changes are held.
    while !current.is_empty() || done < pairs.len() {
        next = window_after(done, grants_seen);
        let mut following = (Vec::new(), 0);
        let mut handed = Ok(());
        rayon::in_place_scope(|scope| {
            if !next.is_empty() {
                scope.spawn(|_| following = work(&pairs[next.clone()]));
            }
            handed = current.drain(..).try_for_each(|mut changes| {
                changes.drain(..).try_for_each(&mut *emit)?;
                spare.lock().expect("spare buffers").push(changes);
                Ok(())
            });
        });
        handed?;
        (current, done) = (following.0, next.end);
        grants_seen += following.1;
    }
    Ok(())
}
