//! Entity changes: `added`, `removed`, and `changed` once per attribute in
//! [`ATTRIBUTES`] whose value differs, keyed by (compared source, Entity
//! Source ID). Does no I/O.

use std::cmp::Ordering;

use rayon::prelude::*;

use super::{ATTRIBUTES, Change, ChangeKind, EntityChange, Names};
use crate::expand::Expansion;
use crate::model::{Attributes, Entity, Model};

/// One compared attribute: text borrowed from the model, or a time kept
/// as a number until it must be shown, so comparing two entities allocates
/// nothing when they are equal.
#[derive(PartialEq, Eq)]
enum Value<'m> {
    Text(&'m str),
    Time(Option<i64>),
}

impl Value<'_> {
    fn into_text(self) -> String {
        match self {
            Value::Text(s) => s.to_string(),
            Value::Time(t) => t.map_or_else(String::new, crate::import::format_timestamp),
        }
    }
}

/// An entity's compared attributes, in [`ATTRIBUTES`] order.
fn attribute_values<'m>(m: &'m Model, e: &Entity) -> [Value<'m>; 11] {
    let none = Attributes::default();
    let a = e.attributes.as_ref().unwrap_or(&none);
    let s = |sym| Value::Text(m.str(sym));
    [
        s(e.name),
        Value::Text(e.kind.as_str()),
        s(e.source_type),
        s(a.project),
        s(a.username),
        s(a.email),
        s(a.status),
        s(a.first_name),
        s(a.last_name),
        Value::Text(match a.mfa {
            Some(true) => "true",
            Some(false) => "false",
            None => "",
        }),
        Value::Time(a.password_changed),
    ]
}

/// Entity pairs compared per window: a window holds only its changes.
const PAIRS_PER_WINDOW: usize = 1 << 16;

/// Every entity in key order (compared source, id).
fn sorted<'g>(x: &Expansion<'g>, names: &Names) -> Vec<&'g Entity> {
    let m = x.model();
    let keyed = super::access::entities_by_key(x, names);
    keyed.into_iter().map(|e| m.entity(e)).collect()
}

/// The two sides' entities matched by key, in key order; `None` where a
/// side has no such entity.
fn entity_pairs<'o, 'n>(
    (old_x, old_names): (&Expansion<'o>, &Names),
    (new_x, new_names): (&Expansion<'n>, &Names),
) -> Vec<(Option<&'o Entity>, Option<&'n Entity>)> {
    let (old_model, new_model) = (old_x.model(), new_x.model());
    let (old, new) = rayon::join(|| sorted(old_x, old_names), || sorted(new_x, new_names));
    let mut pairs = Vec::with_capacity(old.len().max(new.len()));
    let (mut i, mut j) = (0, 0);
    while i < old.len() || j < new.len() {
        let order = match (old.get(i), new.get(j)) {
            (Some(o), Some(n)) => (old_names.source(o.source), old_model.str(o.id))
                .cmp(&(new_names.source(n.source), new_model.str(n.id))),
            (Some(_), None) => Ordering::Less,
            _ => Ordering::Greater,
        };
        pairs.push(match order {
            Ordering::Less => (Some(old[i]), None),
            Ordering::Greater => (None, Some(new[j])),
            Ordering::Equal => (Some(old[i]), Some(new[j])),
        });
        i += usize::from(order != Ordering::Greater);
        j += usize::from(order != Ordering::Less);
    }
    pairs
}

/// The changes of one entity pair into `out`.
fn pair_changes(
    pair: (Option<&Entity>, Option<&Entity>),
    (old_model, old_names): (&Model, &Names),
    (new_model, new_names): (&Model, &Names),
    out: &mut Vec<Change>,
) {
    let whole = |kind, m: &Model, names: &Names, e: &Entity| EntityChange {
        kind,
        source: names.source(e.source).to_string(),
        id: m.str(e.id).to_string(),
        name: m.str(e.name).to_string(),
        entity_kind: e.kind,
        attribute: None,
        old: String::new(),
        new: String::new(),
    };
    match pair {
        (Some(o), None) => out.push(Change::Entity(whole(
            ChangeKind::Removed,
            old_model,
            old_names,
            o,
        ))),
        (None, Some(n)) => out.push(Change::Entity(whole(
            ChangeKind::Added,
            new_model,
            new_names,
            n,
        ))),
        (Some(o), Some(n)) => {
            let before = attribute_values(old_model, o);
            let after = attribute_values(new_model, n);
            for ((attribute, b), a) in ATTRIBUTES.iter().zip(before).zip(after) {
                if b != a {
                    out.push(Change::Entity(EntityChange {
                        kind: ChangeKind::Changed,
                        source: new_names.source(n.source).to_string(),
                        id: new_model.str(n.id).to_string(),
                        name: new_model.str(n.name).to_string(),
                        entity_kind: n.kind,
                        attribute: Some(attribute),
                        old: b.into_text(),
                        new: a.into_text(),
                    }));
                }
            }
        }
        (None, None) => {}
    }
}

/// Hands every entity change to `emit`, by key: pairs are compared in
/// parallel a window at a time, and each window's changes handed out in
/// order.
pub(super) fn entity_changes<E>(
    (old_x, old_names): (&Expansion, &Names),
    (new_x, new_names): (&Expansion, &Names),
    emit: &mut dyn FnMut(Change) -> Result<(), E>,
) -> Result<(), E> {
    let pairs = entity_pairs((old_x, old_names), (new_x, new_names));
    let (old, new) = ((old_x.model(), old_names), (new_x.model(), new_names));
    let chunk = PAIRS_PER_WINDOW.div_ceil(rayon::current_num_threads().max(1) * 4);
    for window in pairs.chunks(PAIRS_PER_WINDOW) {
        let changes: Vec<Vec<Change>> = window
            .par_chunks(chunk)
            .map(|pairs| {
                let mut out = Vec::new();
                for &pair in pairs {
                    pair_changes(pair, old, new, &mut out);
                }
                out
            })
            .collect();
        for c in changes.into_iter().flatten() {
            emit(c)?;
        }
    }
    Ok(())
}
