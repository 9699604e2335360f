//! The checks a loaded model passes before it is returned: every index
//! points somewhere, and the model's invariants hold (strings stored once,
//! entity keys unique, an edge's ends in one source, edges distinct and in
//! row order), so a crafted body with a valid checksum is refused too.

use rayon::prelude::*;

use crate::model::{Attributes, Conflict, Model, Provenance, Sym, Value};

use super::SnapshotError;

/// Refuses a model whose indices point nowhere, so nothing downstream can
/// index out of bounds. Entities and edges are checked one by one when
/// `records` is set; a format-3 load checks them while decoding instead.
pub(super) fn validate(model: &Model, records: bool) -> Result<(), SnapshotError> {
    let strings = model.strings.len();
    let entities = model.entities.len();
    let edges = model.edges.len();
    let bad = |what: String| Err(SnapshotError::Invalid(what));
    let sym_ok = |s: Sym| (s.0 as usize) < strings;
    let at_ok = |at: Provenance| (at.file as usize) < model.sources.len();
    if entities > u32::MAX as usize || edges > u32::MAX as usize {
        return bad("more entities or edges than indices can address".into());
    }
    for (i, s) in model.sources.iter().enumerate() {
        if !sym_ok(s.source) {
            return bad(format!("source file {i} names an unknown string"));
        }
    }
    let attrs_ok = |a: &Attributes| a.strings().into_iter().all(sym_ok);
    let entities_to_check = if records { &model.entities[..] } else { &[] };
    let edges_to_check = if records { &model.edges[..] } else { &[] };
    for (i, e) in entities_to_check.iter().enumerate() {
        let syms = [e.source, e.id, e.name, e.source_type];
        if !syms.into_iter().all(sym_ok) || !e.attributes.as_ref().is_none_or(attrs_ok) {
            return bad(format!("entity {i} names an unknown string"));
        }
        if !at_ok(e.origin) {
            return bad(format!("entity {i} comes from an unknown file"));
        }
    }
    for (i, e) in edges_to_check.iter().enumerate() {
        if e.from as usize >= entities || e.to as usize >= entities {
            return bad(format!("edge {i} joins an unknown entity"));
        }
        if !sym_ok(e.permission) {
            return bad(format!("edge {i} names an unknown permission string"));
        }
        if !at_ok(e.origin) {
            return bad(format!("edge {i} comes from an unknown file"));
        }
    }
    for (i, c) in model.conflicts.iter().enumerate() {
        let ok = match *c {
            Conflict::Kind { entity, at, .. } => (entity as usize) < entities && at_ok(at),
            Conflict::SourceType {
                entity,
                kept,
                other,
                at,
            } => (entity as usize) < entities && sym_ok(kept) && sym_ok(other) && at_ok(at),
            Conflict::PermissionValue {
                edge,
                granted_at,
                denied_at,
            } => (edge as usize) < edges && at_ok(granted_at) && at_ok(denied_at),
        };
        if !ok {
            return bad(format!("conflict {i} refers to an unknown entity or edge"));
        }
    }
    for (i, e) in model.employees.iter().enumerate() {
        let syms = [e.source, e.id, e.name].into_iter();
        let pairs = e.attributes.iter().flat_map(|a| [a.name, a.text]);
        if !syms
            .chain(pairs)
            .chain(e.managers.iter().copied())
            .all(sym_ok)
        {
            return bad(format!("employee {i} names an unknown string"));
        }
        if !at_ok(e.origin) {
            return bad(format!("employee {i} comes from an unknown file"));
        }
    }
    for (i, p) in model.properties.iter().enumerate() {
        let value_ok = match &p.value {
            Value::Text(s) | Value::Number(s) => sym_ok(*s),
            Value::Bool(_) | Value::Timestamp(_) => true,
            Value::List(items) => items.iter().copied().all(sym_ok),
        };
        if (p.entity as usize) >= entities || !sym_ok(p.name) || !value_ok {
            return bad(format!(
                "property {i} refers to an unknown entity or string"
            ));
        }
    }
    check_invariants(model)
}

/// The model's invariants beyond indices, which a crafted body with a
/// valid checksum could break (issue 13): every string stored once, entity
/// keys `(source, id)` unique, an edge's two ends in one source (the
/// report's ordering relies on it), edges distinct by `(from, to,
/// permission)` and, within a file, in the order of their first rows.
///
/// Each uniqueness check buckets its records by a hash of their key and
/// sorts the buckets (a few hundred records each, in cache) instead of
/// sorting every record at once; the repeat reported is the one a sort of
/// them all finds first, so the messages are those of a full sort.
fn check_invariants(model: &Model) -> Result<(), SnapshotError> {
    use crate::import::records::excerpt;
    let bad = |what: String| Err(SnapshotError::Invalid(what));
    let strings = &model.strings;
    // Strings: (hash, index), equal hashes compared by text.
    let hashes: Vec<u32> = (0..strings.len() as u32)
        .into_par_iter()
        .map(|i| crate::model::hash_str(strings.resolve(Sym(i))))
        .collect();
    let text = |s: &(u32, u32)| strings.resolve(Sym(s.1));
    let twice = smallest_repeat(
        hashes.len(),
        |i| (hashes[i], i as u32),
        |s| u64::from(s.0) << 32,
        |a, b| a.0 == b.0,
        |run| {
            if let [a, b] = run {
                return (text(a) == text(b)).then_some((*a, *b));
            }
            // Colliding hashes: equal texts side by side, each in index
            // order; the first pair in (hash, index) order wins.
            run.sort_unstable_by(|a, b| text(a).cmp(text(b)).then(a.cmp(b)));
            run.windows(2)
                .filter(|w| text(&w[0]) == text(&w[1]))
                .map(|w| (w[0], w[1]))
                .min()
        },
    );
    if let Some((a, b)) = twice {
        return bad(format!(
            "duplicate string: strings {} and {} are both {}",
            a.1,
            b.1,
            excerpt(strings.resolve(Sym(a.1)))
        ));
    }
    drop(hashes);
    // Entity keys: with every string once, a key is its two symbols.
    let entities = &model.entities;
    let key = |i: usize| {
        let e = &entities[i];
        ((u64::from(e.source.0) << 32) | u64::from(e.id.0), i as u32)
    };
    let twice = smallest_repeat(
        entities.len(),
        key,
        |k| k.0.wrapping_mul(FIBONACCI),
        |a, b| a.0 == b.0,
        |run| Some((run[0], run[1])),
    );
    if let Some((a, b)) = twice {
        let e = &entities[a.1 as usize];
        return bad(format!(
            "duplicate entity key: entities {} and {} are both {} / {}",
            a.1.min(b.1),
            a.1.max(b.1),
            excerpt(strings.resolve(e.source)),
            excerpt(strings.resolve(e.id))
        ));
    }
    let across = model
        .edges
        .par_iter()
        .position_first(|e| entities[e.from as usize].source != entities[e.to as usize].source);
    if let Some(i) = across {
        return bad(format!(
            "edge {i} joins two sources (an edge's ends share their source)"
        ));
    }
    let edges = &model.edges;
    let triple = |i: usize| {
        let e = &edges[i];
        (e.from, e.to, e.permission.0, i as u32)
    };
    let same = smallest_repeat(
        edges.len(),
        triple,
        |t| {
            ((u64::from(t.0) << 32) | u64::from(t.1))
                .wrapping_add(u64::from(t.2).wrapping_mul(FIBONACCI))
                .wrapping_mul(FIBONACCI)
        },
        |a, b| (a.0, a.1, a.2) == (b.0, b.1, b.2),
        |run| Some((run[0], run[1])),
    );
    if let Some((a, b)) = same {
        return bad(format!(
            "duplicate edge: edges {} and {} join the same entities with the same permission",
            a.3, b.3
        ));
    }
    let mut last_line = vec![0u32; model.sources.len()];
    for (i, e) in model.edges.iter().enumerate() {
        let last = &mut last_line[e.origin.file as usize];
        if e.origin.line < *last {
            return bad(format!(
                "edge {i} is not in row order (line {} of its file after line {})",
                e.origin.line, *last
            ));
        }
        *last = e.origin.line;
    }
    Ok(())
}

/// 2^64 / φ: multiplying by it spreads a key's bits into the high bits
/// that pick its bucket.
const FIBONACCI: u64 = 0x9E37_79B9_7F4A_7C15;

/// Records per bucket, about: a bucket sorts in the L1 cache.
const PER_BUCKET: usize = 256;

/// The smallest pair of repeated records, in the records' own order, among
/// `n` records `record(0..n)` (each ordered by its key, then its index):
/// what a sort of all of them and a scan for neighbours with the same key
/// would find first, found without that sort. Records go into buckets by the
/// high bits of `spread` (a hash of the key: equal keys share a bucket),
/// each bucket is sorted on its own and in parallel, and every run of
/// records with `same_key` goes to `repeat`, which returns the run's
/// smallest repeated pair, if any (records whose key is exact take the
/// run's first two; keys that are hashes compare what they hash).
fn smallest_repeat<T: Ord + Copy + Send + Sync>(
    n: usize,
    record: impl Fn(usize) -> T,
    spread: impl Fn(&T) -> u64,
    same_key: impl Fn(&T, &T) -> bool + Sync,
    repeat: impl Fn(&mut [T]) -> Option<(T, T)> + Sync,
) -> Option<(T, T)> {
    if n < 2 {
        return None;
    }
    let bits = (n / PER_BUCKET).max(1).next_power_of_two().trailing_zeros();
    let bucket = |r: &T| match bits {
        0 => 0,
        _ => (spread(r) >> (64 - bits)) as usize,
    };
    // Counted, then placed: two passes over the records, no sort.
    let mut starts = vec![0usize; (1 << bits) + 1];
    for i in 0..n {
        starts[bucket(&record(i)) + 1] += 1;
    }
    for b in 1..starts.len() {
        starts[b] += starts[b - 1];
    }
    let mut placed = vec![record(0); n];
    let mut next = starts.clone();
    for i in 0..n {
        let r = record(i);
        let at = &mut next[bucket(&r)];
        placed[*at] = r;
        *at += 1;
    }
    let mut buckets = Vec::with_capacity(1 << bits);
    let mut rest = &mut placed[..];
    for w in starts.windows(2) {
        let (head, tail) = rest.split_at_mut(w[1] - w[0]);
        buckets.push(head);
        rest = tail;
    }
    buckets
        .into_par_iter()
        .filter_map(|b| {
            b.sort_unstable();
            let mut found = None;
            let mut start = 0;
            while start < b.len() {
                let mut end = start + 1;
                while end < b.len() && same_key(&b[start], &b[end]) {
                    end += 1;
                }
                if end - start > 1
                    && let Some(pair) = repeat(&mut b[start..end])
                {
                    // Runs come in order: the first repeat is the bucket's smallest.
                    found = Some(pair);
                    break;
                }
                start = end;
            }
            found
        })
        .min()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a sort of every record finds: the first neighbours with one key.
    fn by_full_sort(keys: &[u64]) -> Option<((u64, u32), (u64, u32))> {
        let mut all: Vec<(u64, u32)> = keys.iter().zip(0..).map(|(&k, i)| (k, i)).collect();
        all.sort_unstable();
        all.windows(2)
            .find(|w| w[0].0 == w[1].0)
            .map(|w| (w[0], w[1]))
    }

    #[test]
    fn bucketed_repeats_are_the_ones_a_full_sort_finds() {
        let mut x = 7u64;
        let mut next = || {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            x >> 33
        };
        for (n, range) in [
            (0, 1),
            (1, 1),
            (2, 1),
            (3, 2),
            (1000, 1 << 30),
            (5000, 900),
            (70_000, 1 << 40),
        ] {
            let mut keys: Vec<u64> = (0..n).map(|_| next() % range).collect();
            for repeats in 0..3 {
                if repeats > 0 && n > 1 {
                    let (from, to) = (next() as usize % n, next() as usize % n);
                    keys[to] = keys[from];
                }
                let found = smallest_repeat(
                    keys.len(),
                    |i| (keys[i], i as u32),
                    |k| k.0.wrapping_mul(FIBONACCI),
                    |a, b| a.0 == b.0,
                    |run| Some((run[0], run[1])),
                );
                assert_eq!(found, by_full_sort(&keys), "{n} keys below {range}");
            }
        }
    }
}
