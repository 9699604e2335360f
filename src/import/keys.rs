//! The importer's entity index: entities by key `(source, id)`.
//!
//! A [`ProbeTable`] of 24-byte slots, so the merging loop can
//! [`prefetch`](KeyTable::prefetch) the slot of a row a few rows before it
//! looks the row up. A slot holds everything
//! a row naming a known entity needs — 32 bits of the key's hash, the
//! entity, its key, where its id's text is in the string table, and the type
//! and source type the entity keeps — so such a row reads the slot and the
//! id's text, not the entity.

use crate::model::{EntityIdx, Interner, Kind, Sym};
use crate::table::{ProbeTable, Slot};

/// One slot; `entity == EMPTY` marks a free one.
#[derive(Clone, Copy)]
pub(super) struct KeySlot {
    /// 32 bits of the key's hash: most mismatches fail here, reading no text.
    pub hash: u32,
    /// The entity (`EMPTY` for a free slot).
    pub entity: EntityIdx,
    /// The entity's source.
    pub source: Sym,
    /// The kept source type (first row wins), for conflict checks.
    pub source_type: Sym,
    /// The id's text in the string table and the entity's kind, packed; see
    /// [`Packed`].
    packed: u64,
}

const EMPTY: EntityIdx = EntityIdx::MAX;

/// `start` (38 bits) | `len` (24 bits) | `kind` (2 bits). An id whose span
/// does not fit (16 MiB long, or past 256 GiB of strings) stores
/// `len == LONG` and is compared through its symbol instead.
struct Packed;

impl Packed {
    const LEN_BITS: u32 = 24;
    const LONG: u64 = (1 << Self::LEN_BITS) - 1;
    const START_LIMIT: u64 = 1 << 38;

    fn pack(start: u64, len: u64, kind: Kind) -> u64 {
        let (start, len) = if len >= Self::LONG || start >= Self::START_LIMIT {
            (0, Self::LONG)
        } else {
            (start, len)
        };
        (start << 26) | (len << 2) | kind as u64
    }

    fn kind(packed: u64) -> Kind {
        match packed & 3 {
            0 => Kind::Identity,
            1 => Kind::Connection,
            _ => Kind::Resource,
        }
    }

    /// The id's text span, or `None` for an id stored as `LONG`.
    fn span(packed: u64) -> Option<(u64, u64)> {
        let len = (packed >> 2) & Self::LONG;
        (len != Self::LONG).then(|| {
            let start = packed >> 26;
            (start, start + len)
        })
    }
}

impl KeySlot {
    /// The entity's kind.
    pub fn kind(&self) -> Kind {
        Packed::kind(self.packed)
    }
}

impl Slot for KeySlot {
    const EMPTY: KeySlot = KeySlot {
        hash: 0,
        entity: EMPTY,
        source: Sym(0),
        source_type: Sym(0),
        packed: 0,
    };

    fn is_empty(&self) -> bool {
        self.entity == EMPTY
    }

    fn hash(&self) -> u32 {
        self.hash
    }
}

/// Entities by `(source, id)`.
#[derive(Default)]
pub(super) struct KeyTable(ProbeTable<KeySlot>);

impl KeyTable {
    /// Makes room for `more` entities without growing on the way.
    pub fn reserve(&mut self, more: usize) {
        self.0.reserve(more);
    }

    /// Asks the CPU to fetch the slot a key with this hash is probed at
    /// first; a hint only.
    #[inline]
    pub fn prefetch(&self, hash: u32) {
        self.0.prefetch(hash);
    }

    /// The slot of `(source, id)`, whose hash is `hash`: `Ok(index)` if
    /// found, else `Err(index)` of the free slot for it. `id_of` gives an
    /// entity's id symbol, for the rare id too long to keep a span of.
    pub fn find(
        &self,
        hash: u32,
        source: Sym,
        id: &str,
        strings: &Interner,
        id_of: impl Fn(EntityIdx) -> Sym,
    ) -> Result<usize, usize> {
        self.0.find(hash, |slot| {
            slot.source == source
                && match Packed::span(slot.packed) {
                    Some((start, end)) => strings.resolve_span(start, end) == id,
                    None => strings.resolve(id_of(slot.entity)) == id,
                }
        })
    }

    /// The slot at `index`, as found by [`find`](Self::find).
    pub fn get(&self, index: usize) -> &KeySlot {
        self.0.get(index)
    }

    /// Fills the free slot `index` [`find`](Self::find) returned; the table
    /// may grow afterwards, so indexes from before do not stay valid.
    #[allow(clippy::too_many_arguments)]
    pub fn insert_at(
        &mut self,
        index: usize,
        hash: u32,
        entity: EntityIdx,
        source: Sym,
        id: Sym,
        source_type: Sym,
        kind: Kind,
        strings: &Interner,
    ) {
        let (start, end) = strings.span(id);
        self.0.insert_at(
            index,
            KeySlot {
                hash,
                entity,
                source,
                source_type,
                packed: Packed::pack(start, end - start, kind),
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_spans_round_trip_and_long_ones_fall_back() {
        for kind in Kind::ALL {
            let p = Packed::pack(123_456, 42, kind);
            assert_eq!(Packed::kind(p), kind);
            assert_eq!(Packed::span(p), Some((123_456, 123_498)));
            let long = Packed::pack(7, 1 << 24, kind);
            assert_eq!(Packed::kind(long), kind);
            assert_eq!(Packed::span(long), None);
            let far = Packed::pack(1 << 38, 3, kind);
            assert_eq!(Packed::span(far), None);
        }
    }

    #[test]
    fn keys_are_found_by_source_and_id_text() {
        let mut strings = Interner::default();
        let mut table = KeyTable::default();
        let mut ids = Vec::new();
        for n in 0..2_000u32 {
            let text = format!("id-{n}");
            let id = strings.intern(&text);
            ids.push(id);
            // Few distinct hashes: keys collide and share probe runs.
            let (hash, source) = (n % 7, Sym(n % 2));
            let at = table
                .find(hash, source, &text, &strings, |e| ids[e as usize])
                .expect_err("new key");
            table.insert_at(at, hash, n, source, id, Sym(0), Kind::Resource, &strings);
        }
        for n in 0..2_000u32 {
            let text = format!("id-{n}");
            let found = table
                .find(n % 7, Sym(n % 2), &text, &strings, |e| ids[e as usize])
                .expect("known key");
            assert_eq!(table.get(found).entity, n);
            assert_eq!(table.get(found).kind(), Kind::Resource);
            // The same id under the other source is another key.
            let other = Sym(1 - n % 2);
            assert!(
                table
                    .find(n % 7, other, &text, &strings, |e| ids[e as usize])
                    .is_err()
            );
        }
    }
}
