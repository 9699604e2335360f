//! The generator's seeded PRNG (splitmix64): one independent stream per
//! entity and purpose, so an entity is described the same way wherever it
//! appears.

pub(super) const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

pub(super) fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Independent random streams: every entity draws its attributes and its
/// edges from its own stream, so any entity can be (re)described on demand.
#[derive(Clone, Copy)]
pub(super) enum Stream {
    IdentAttr = 1,
    IdentEdges,
    GroupName,
    GroupEdges,
    RoleName,
    RoleEdges,
    PolicyName,
    PolicyEdges,
    ResourceAttr,
    Cycles,
}

/// splitmix64, seeded from (seed, stream, index).
pub(super) struct Rng(u64);

impl Rng {
    pub(super) fn new(seed: u64, stream: Stream, idx: usize) -> Rng {
        let s = mix64((stream as u64).wrapping_mul(GOLDEN) ^ mix64(idx as u64 ^ 0x5555_5555));
        Rng(mix64(seed ^ s))
    }
    pub(super) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(GOLDEN);
        mix64(self.0)
    }
    /// Uniform in `0..n` (0 when `n == 0`).
    pub(super) fn below(&mut self, n: u64) -> u64 {
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }
    pub(super) fn index(&mut self, n: usize) -> usize {
        self.below(n as u64) as usize
    }
    /// Uniform in `0..=n`.
    pub(super) fn upto(&mut self, n: u32) -> u32 {
        self.below(n as u64 + 1) as u32
    }
    pub(super) fn percent(&mut self, pct: u32) -> bool {
        self.below(100) < pct as u64
    }
    pub(super) fn permille(&mut self, pm: u32) -> bool {
        self.below(1000) < pm as u64
    }
    pub(super) fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.index(xs.len())]
    }
}

/// `i * m / n` without overflow.
pub(super) fn muldiv(i: usize, m: usize, n: usize) -> usize {
    (i as u128 * m as u128 / n.max(1) as u128) as usize
}
