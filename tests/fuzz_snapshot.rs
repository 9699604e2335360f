//! Issue 13: fuzz-style tests of the snapshot reader. Mutations of a valid
//! snapshot — bit flips, truncations, crafted section lengths (with and
//! without a recomputed checksum), random bodies behind a valid header —
//! are decoded in memory and loaded from a file: every case is refused or
//! accepted cleanly, never a panic or an abort, in bounded memory (the
//! process's peak resident size is checked at the end). A failing case
//! proptest finds is kept in `fuzz_snapshot.proptest-regressions`.

mod common;

use std::path::Path;

use proptest::prelude::*;
use whocan::import::{FileOptions, Importer};
use whocan::snapshot::{self, HEADER_LEN, Snapshot};

fn good_bytes() -> Vec<u8> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut importer = Importer::new();
    for f in [
        "fixtures/reference_example.csv",
        "fixtures/cyclic_groups.csv",
    ] {
        importer
            .import_path(&root.join(f), &FileOptions::default())
            .unwrap();
    }
    let (model, report) = importer.finish();
    snapshot::encode(&Snapshot::new(model, report, 1_795_000_000)).unwrap()
}

/// The header rebuilt so its length and checksum match `body`.
fn with_valid_header(version: u32, body: &[u8]) -> Vec<u8> {
    let header = snapshot::Header {
        version,
        body_len: body.len() as u64,
        checksum: *blake3::hash(body).as_bytes(),
    };
    let mut out = header.to_bytes().to_vec();
    out.extend_from_slice(body);
    out
}

/// Offsets of the eight-byte section lengths in a body.
fn length_offsets(body: &[u8]) -> Vec<usize> {
    let mut out = Vec::new();
    let mut at = 0;
    while at + 8 <= body.len() {
        out.push(at);
        let len = u64::from_le_bytes(body[at..at + 8].try_into().unwrap()) as usize;
        at += 8 + len;
    }
    out
}

#[derive(Debug, Clone)]
enum Mutation {
    /// XOR these bytes at these positions (modulo the length).
    Flip(Vec<(usize, u8)>),
    /// Keep this many bytes (modulo the length).
    Truncate(usize),
    /// Set section `n`'s length field to `len`.
    Length(usize, u64),
    /// Write these bytes at a position of the body.
    Splice(usize, Vec<u8>),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let lengths = prop_oneof![
        Just(0u64),
        Just(u64::MAX),
        Just(1 << 40),
        Just(1 << 60),
        0u64..100_000,
        any::<u64>(),
    ];
    prop_oneof![
        proptest::collection::vec((any::<usize>(), 1u8..=255), 1..8).prop_map(Mutation::Flip),
        any::<usize>().prop_map(Mutation::Truncate),
        (0usize..8, lengths).prop_map(|(n, len)| Mutation::Length(n, len)),
        (
            any::<usize>(),
            proptest::collection::vec(any::<u8>(), 1..64)
        )
            .prop_map(|(at, bytes)| Mutation::Splice(at, bytes)),
    ]
}

/// Applies a mutation to the body, optionally recomputing the checksum (so
/// the damage gets past it into the decoder) and naming another version.
fn mutate(good: &[u8], m: &Mutation, rehash: bool, version: u32) -> Vec<u8> {
    let mut body = good[HEADER_LEN..].to_vec();
    match m {
        Mutation::Flip(flips) => {
            for &(at, mask) in flips {
                let i = at % body.len();
                body[i] ^= mask;
            }
        }
        Mutation::Truncate(n) => body.truncate(n % body.len()),
        Mutation::Length(n, len) => {
            let offsets = length_offsets(&body);
            let at = offsets[n % offsets.len()];
            body[at..at + 8].copy_from_slice(&len.to_le_bytes());
        }
        Mutation::Splice(at, bytes) => {
            let i = at % body.len();
            for (k, &b) in bytes.iter().enumerate() {
                if let Some(slot) = body.get_mut(i + k) {
                    *slot = b;
                }
            }
        }
    }
    if rehash {
        with_valid_header(version, &body)
    } else {
        let mut out = good[..HEADER_LEN].to_vec();
        out[8..12].copy_from_slice(&version.to_le_bytes());
        out.extend_from_slice(&body);
        out
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn mutated_snapshots_are_refused_or_loaded_cleanly(
        m in mutation(),
        rehash in any::<bool>(),
        version in prop_oneof![Just(3u32), Just(1), Just(2), Just(4)],
    ) {
        let good = good_bytes();
        let bytes = mutate(&good, &m, rehash, version);
        let in_memory = snapshot::decode(&bytes).map(|_| ());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.wcs");
        std::fs::write(&path, &bytes).unwrap();
        let loaded = snapshot::load(&path).map(|_| ());
        let _ = snapshot::load_metadata(&path);
        let _ = snapshot::load_reader(&bytes[..], Path::new("-"));
        // Whatever the damage, the two ways of reading agree on accepting.
        prop_assert_eq!(in_memory.is_ok(), loaded.is_ok(), "{:?} {:?}", in_memory, loaded);
        common::within_peak_limit().map_err(TestCaseError::fail)?;
    }

    #[test]
    fn random_bodies_behind_a_valid_header_are_refused_cleanly(
        body in proptest::collection::vec(any::<u8>(), 0..4096),
        version in 1u32..=3,
    ) {
        let bytes = with_valid_header(version, &body);
        prop_assert!(snapshot::decode(&bytes).is_err());
        let _ = snapshot::load_reader(&bytes[..], Path::new("-"));
    }
}
