//! Entity changes: `added`, `removed`, and `changed` once per attribute in
//! [`ATTRIBUTES`] whose value differs, keyed by (compared source, Entity
//! Source ID). Does no I/O.

use std::borrow::Cow;
use std::cmp::Ordering;

use rayon::prelude::*;

use super::{ATTRIBUTES, Change, ChangeKind, EntityChange, Names};
use crate::model::{Attributes, Entity, Model};

/// Entities of a model sorted by (compared source, id).
fn sorted_entities<'m>(m: &'m Model, names: &Names) -> Vec<&'m Entity> {
    // Strings looked up once per entity, not once per comparison; (source,
    // id) is unique, so the unstable sort is deterministic.
    let mut v: Vec<(&str, &str, &Entity)> = m
        .entities
        .par_iter()
        .map(|e| (names.source(e.source), m.str(e.id), e))
        .collect();
    v.par_sort_unstable_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
    v.into_iter().map(|(_, _, e)| e).collect()
}

/// An entity's compared attributes as text, in [`ATTRIBUTES`] order:
/// borrowed from the model but for MFA and the password change time, so
/// comparing two entities allocates nothing when they are equal.
fn attribute_values<'m>(m: &'m Model, e: &Entity) -> [Cow<'m, str>; 11] {
    let none = Attributes::default();
    let a = e.attributes.as_ref().unwrap_or(&none);
    let s = |sym| Cow::Borrowed(m.str(sym));
    [
        s(e.name),
        Cow::Borrowed(e.kind.as_str()),
        s(e.source_type),
        s(a.project),
        s(a.username),
        s(a.email),
        s(a.status),
        s(a.first_name),
        s(a.last_name),
        match a.mfa {
            Some(true) => Cow::Borrowed("true"),
            Some(false) => Cow::Borrowed("false"),
            None => Cow::Borrowed(""),
        },
        a.password_changed.map_or(Cow::Borrowed(""), |t| {
            Cow::Owned(crate::import::format_timestamp(t))
        }),
    ]
}

/// Hands every entity change to `emit`, by key.
pub(super) fn entity_changes<E>(
    (old_model, old_names): (&Model, &Names),
    (new_model, new_names): (&Model, &Names),
    emit: &mut dyn FnMut(Change) -> Result<(), E>,
) -> Result<(), E> {
    let old = sorted_entities(old_model, old_names);
    let new = sorted_entities(new_model, new_names);
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
    let (mut i, mut j) = (0, 0);
    while i < old.len() || j < new.len() {
        let order = match (old.get(i), new.get(j)) {
            (Some(o), Some(n)) => (old_names.source(o.source), old_model.str(o.id))
                .cmp(&(new_names.source(n.source), new_model.str(n.id))),
            (Some(_), None) => Ordering::Less,
            _ => Ordering::Greater,
        };
        match order {
            Ordering::Less => {
                emit(Change::Entity(whole(
                    ChangeKind::Removed,
                    old_model,
                    old_names,
                    old[i],
                )))?;
                i += 1;
            }
            Ordering::Greater => {
                emit(Change::Entity(whole(
                    ChangeKind::Added,
                    new_model,
                    new_names,
                    new[j],
                )))?;
                j += 1;
            }
            Ordering::Equal => {
                let (o, n) = (old[i], new[j]);
                let before = attribute_values(old_model, o);
                let after = attribute_values(new_model, n);
                let source = new_names.source(n.source);
                let id = new_model.str(n.id);
                for ((attribute, b), a) in ATTRIBUTES.iter().zip(before).zip(after) {
                    if b != a {
                        emit(Change::Entity(EntityChange {
                            kind: ChangeKind::Changed,
                            source: source.to_string(),
                            id: id.to_string(),
                            name: new_model.str(n.name).to_string(),
                            entity_kind: n.kind,
                            attribute: Some(attribute),
                            old: b.into_owned(),
                            new: a.into_owned(),
                        }))?;
                    }
                }
                i += 1;
                j += 1;
            }
        }
    }
    Ok(())
}
