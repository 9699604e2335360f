//! An open-addressing hash table of small `Copy` slots with linear probing,
//! for the two big lookup structures of an import: the string table's index
//! and the importer's entity index.
//!
//! Unlike a general-purpose map it can [`prefetch`](ProbeTable::prefetch)
//! the slot a hash will probe first. On a large import both tables are far
//! bigger than the CPU caches and every lookup would wait for memory; the
//! importer asks for the slots of rows a little ahead of the one it merges,
//! so they arrive meanwhile. Slots carry 32 bits of their key's hash, so
//! probing and growing compare and rehash from the slot alone.

/// What a [`ProbeTable`] stores.
pub(crate) trait Slot: Copy {
    /// The free slot.
    const EMPTY: Self;
    /// True for a free slot.
    fn is_empty(&self) -> bool;
    /// The 32 hash bits the slot was stored under.
    fn hash(&self) -> u32;
}

/// Slots in a power-of-two array, at most 4/5 full.
#[derive(Clone)]
pub(crate) struct ProbeTable<S> {
    slots: Vec<S>,
    len: usize,
}

impl<S: Slot> Default for ProbeTable<S> {
    fn default() -> Self {
        ProbeTable::with_capacity(0)
    }
}

impl<S: Slot> ProbeTable<S> {
    /// A table for about `entries` entries.
    pub fn with_capacity(entries: usize) -> Self {
        Self::with_slots((entries.max(16) * 5 / 4).next_power_of_two())
    }

    fn with_slots(slots: usize) -> Self {
        ProbeTable {
            slots: vec![S::EMPTY; slots],
            len: 0,
        }
    }

    #[cfg(test)]
    /// Number of entries.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Makes room for `more` entries without growing on the way.
    pub fn reserve(&mut self, more: usize) {
        let want = (self.len + more).max(16) * 5 / 4;
        if want > self.slots.len() {
            self.grow_to(want.next_power_of_two());
        }
    }

    fn grow_to(&mut self, slots: usize) {
        let mut bigger = ProbeTable::<S>::with_slots(slots);
        for slot in self.slots.iter().filter(|s| !s.is_empty()) {
            let mut i = bigger.home(slot.hash());
            while !bigger.slots[i].is_empty() {
                i = (i + 1) & (bigger.slots.len() - 1);
            }
            bigger.slots[i] = *slot;
        }
        bigger.len = self.len;
        *self = bigger;
    }

    /// The slot a hash starts probing at (Fibonacci hashing of the 32 bits,
    /// so keys whose hashes differ only in high bits still spread).
    fn home(&self, hash: u32) -> usize {
        let bits = self.slots.len().trailing_zeros().max(1);
        (u64::from(hash).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - bits)) as usize
            & (self.slots.len() - 1)
    }

    /// Asks the CPU to fetch the slot `hash` starts probing at. A hint
    /// only: it changes no result.
    #[inline]
    pub fn prefetch(&self, hash: u32) {
        #[cfg(target_arch = "x86_64")]
        {
            let slot: *const S = &self.slots[self.home(hash)];
            // SAFETY: a prefetch reads nothing observable and cannot fault;
            // the pointer is to a live slot in any case.
            unsafe {
                core::arch::x86_64::_mm_prefetch::<{ core::arch::x86_64::_MM_HINT_T0 }>(slot.cast())
            };
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = hash;
    }

    /// Probes for the entry `is` accepts among the slots stored under
    /// `hash`: `Ok(index)` if found, else `Err(index)` of the free slot
    /// where it belongs.
    #[inline]
    pub fn find(&self, hash: u32, mut is: impl FnMut(&S) -> bool) -> Result<usize, usize> {
        let mask = self.slots.len() - 1;
        let mut i = self.home(hash);
        loop {
            let slot = &self.slots[i];
            if slot.is_empty() {
                return Err(i);
            }
            if slot.hash() == hash && is(slot) {
                return Ok(i);
            }
            i = (i + 1) & mask;
        }
    }

    /// The slot at `index`.
    pub fn get(&self, index: usize) -> &S {
        &self.slots[index]
    }

    /// Fills the free slot `index` that [`find`](Self::find) returned; the
    /// table may grow afterwards, so earlier indexes are no longer valid.
    pub fn insert_at(&mut self, index: usize, slot: S) {
        debug_assert!(self.slots[index].is_empty());
        self.slots[index] = slot;
        self.len += 1;
        if self.len * 5 / 4 > self.slots.len() {
            self.grow_to(self.slots.len() * 2);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Copy, Debug, PartialEq)]
    struct Pair {
        hash: u32,
        value: u32,
    }

    impl Slot for Pair {
        const EMPTY: Pair = Pair {
            hash: 0,
            value: u32::MAX,
        };
        fn is_empty(&self) -> bool {
            self.value == u32::MAX
        }
        fn hash(&self) -> u32 {
            self.hash
        }
    }

    #[test]
    fn entries_are_found_across_growth_and_colliding_hashes() {
        let mut table = ProbeTable::<Pair>::default();
        // Few distinct hashes: entries collide and share probe runs; the
        // table grows several times on the way.
        let hash = |v: u32| (v % 13).wrapping_mul(0x0100_0001);
        for v in 0..5_000u32 {
            let free = table
                .find(hash(v), |s| s.value == v)
                .expect_err("a new entry");
            table.insert_at(
                free,
                Pair {
                    hash: hash(v),
                    value: v,
                },
            );
        }
        assert_eq!(table.len(), 5_000);
        for v in 0..5_000u32 {
            table.prefetch(hash(v));
            let at = table.find(hash(v), |s| s.value == v).expect("stored");
            assert_eq!(table.get(at).value, v);
        }
        assert!(table.find(hash(5_000), |s| s.value == 5_000).is_err());
    }

    #[test]
    fn reserve_keeps_entries_and_indexes_stay_valid_until_an_insert() {
        let mut table = ProbeTable::<Pair>::with_capacity(4);
        for v in 0..10u32 {
            let free = table.find(v, |s| s.value == v).unwrap_err();
            table.insert_at(free, Pair { hash: v, value: v });
        }
        table.reserve(10_000);
        for v in 0..10u32 {
            assert!(table.find(v, |s| s.value == v).is_ok());
        }
    }
}
