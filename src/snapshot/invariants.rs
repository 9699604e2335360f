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
        let pairs = e.attributes.iter().flat_map(|&(k, v)| [k, v]);
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
fn check_invariants(model: &Model) -> Result<(), SnapshotError> {
    use crate::import::records::excerpt;
    let bad = |what: String| Err(SnapshotError::Invalid(what));
    let strings = &model.strings;
    // Strings: sorted by (hash, index), equal neighbours compared.
    let mut hashed: Vec<(u32, u32)> = (0..strings.len() as u32)
        .into_par_iter()
        .map(|i| (crate::model::hash_str(strings.resolve(Sym(i))), i))
        .collect();
    hashed.par_sort_unstable();
    let twice = hashed.par_windows(2).find_first(|w| {
        w[0].0 == w[1].0 && strings.resolve(Sym(w[0].1)) == strings.resolve(Sym(w[1].1))
    });
    if let Some(w) = twice {
        return bad(format!(
            "duplicate string: strings {} and {} are both {}",
            w[0].1,
            w[1].1,
            excerpt(strings.resolve(Sym(w[0].1)))
        ));
    }
    drop(hashed);
    // Entity keys: with every string once, a key is its two symbols.
    let mut keys: Vec<(u64, u32)> = model
        .entities
        .par_iter()
        .enumerate()
        .map(|(i, e)| ((u64::from(e.source.0) << 32) | u64::from(e.id.0), i as u32))
        .collect();
    keys.par_sort_unstable();
    if let Some(w) = keys.par_windows(2).find_first(|w| w[0].0 == w[1].0) {
        let e = &model.entities[w[0].1 as usize];
        return bad(format!(
            "duplicate entity key: entities {} and {} are both {} / {}",
            w[0].1.min(w[1].1),
            w[0].1.max(w[1].1),
            excerpt(strings.resolve(e.source)),
            excerpt(strings.resolve(e.id))
        ));
    }
    drop(keys);
    let entities = &model.entities;
    let across = model
        .edges
        .par_iter()
        .position_first(|e| entities[e.from as usize].source != entities[e.to as usize].source);
    if let Some(i) = across {
        return bad(format!(
            "edge {i} joins two sources (an edge's ends share their source)"
        ));
    }
    let mut triples: Vec<(u32, u32, u32, u32)> = model
        .edges
        .par_iter()
        .enumerate()
        .map(|(i, e)| (e.from, e.to, e.permission.0, i as u32))
        .collect();
    triples.par_sort_unstable();
    let same = triples
        .par_windows(2)
        .find_first(|w| (w[0].0, w[0].1, w[0].2) == (w[1].0, w[1].1, w[1].2));
    if let Some(w) = same {
        return bad(format!(
            "duplicate edge: edges {} and {} join the same entities with the same permission",
            w[0].3, w[1].3
        ));
    }
    drop(triples);
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
