//! Issue 5: a damaged, truncated, foreign or newer snapshot is refused with
//! a message naming the problem; never a panic, never an allocation sized by
//! an untrusted length.

use std::path::{Path, PathBuf};
use std::process::Command;

use whocan::import::{FileOptions, Importer};
use whocan::snapshot::{self, HEADER_LEN, Snapshot, SnapshotError};

const CREATED: i64 = 1_795_000_000;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fixture_snapshot() -> Snapshot {
    let mut importer = Importer::new();
    for f in ["fixtures/reference_example.csv", "fixtures/diff/old.csv"] {
        importer
            .import_path(&root().join(f), &FileOptions::default())
            .unwrap();
    }
    let (model, report) = importer.finish();
    Snapshot::new(model, report, CREATED)
}

fn good_bytes() -> Vec<u8> {
    snapshot::encode(&fixture_snapshot()).unwrap()
}

/// Rebuilds a header around `body` so length and checksum are right: a
/// crafted file, past every check but decoding.
fn with_valid_header(body: &[u8]) -> Vec<u8> {
    let header = snapshot::Header {
        version: snapshot::FORMAT_VERSION,
        body_len: body.len() as u64,
        checksum: *blake3::hash(body).as_bytes(),
    };
    let mut out = header.to_bytes().to_vec();
    out.extend_from_slice(body);
    out
}

#[track_caller]
fn refused(bytes: &[u8]) -> SnapshotError {
    match snapshot::decode(bytes) {
        Ok(_) => panic!("accepted a damaged snapshot of {} bytes", bytes.len()),
        Err(e) => e,
    }
}

#[test]
fn issue_5_every_single_byte_flip_in_the_header_is_refused() {
    let good = good_bytes();
    for i in 0..HEADER_LEN {
        for mask in [0x01u8, 0x80, 0xff] {
            let mut bad = good.clone();
            bad[i] ^= mask;
            let err = refused(&bad);
            let text = err.to_string();
            match i {
                0..8 => assert!(matches!(err, SnapshotError::Foreign(_)), "byte {i}: {text}"),
                // A version damaged into another readable one: the body's
                // metadata names the real one.
                8..12 => assert!(
                    matches!(
                        err,
                        SnapshotError::NewerVersion { .. }
                            | SnapshotError::UnsupportedVersion { .. }
                    ) || text.starts_with(
                        "inconsistent snapshot: body says format version 3 but the header says "
                    ),
                    "byte {i}: {text}"
                ),
                12..20 => assert!(
                    matches!(
                        err,
                        SnapshotError::Truncated(_)
                            | SnapshotError::TrailingBytes { .. }
                            | SnapshotError::TooLarge(_)
                    ),
                    "byte {i}: {text}"
                ),
                _ => assert!(
                    matches!(err, SnapshotError::Checksum { .. }),
                    "byte {i}: {text}"
                ),
            }
        }
    }
}

#[test]
fn issue_5_flips_in_the_body_fail_the_checksum() {
    let good = good_bytes();
    // Every body byte of the fixture snapshot, one bit each: the body is
    // small enough to try them all.
    for i in HEADER_LEN..good.len() {
        let mut bad = good.clone();
        bad[i] ^= 1 << (i % 8);
        let err = refused(&bad);
        assert!(
            matches!(err, SnapshotError::Checksum { .. }),
            "byte {i}: {err}"
        );
        assert!(err.to_string().contains("checksum mismatch"));
    }
}

#[test]
fn issue_5_every_truncation_is_refused() {
    let good = good_bytes();
    for len in 0..good.len() {
        let err = refused(&good[..len]);
        let text = err.to_string();
        if len == 0 {
            assert!(matches!(err, SnapshotError::Empty), "{text}");
        } else {
            assert!(
                matches!(err, SnapshotError::Truncated(_)),
                "length {len}: {text}"
            );
            assert!(text.starts_with("truncated snapshot: "), "{text}");
        }
    }
}

#[test]
fn extra_bytes_after_the_body_are_refused() {
    let mut bad = good_bytes();
    bad.extend_from_slice(b"junk");
    let err = refused(&bad);
    assert_eq!(
        err.to_string(),
        format!(
            "corrupt snapshot: 4 unexpected bytes after the {}-byte body",
            bad.len() - HEADER_LEN - 4
        )
    );
}

#[test]
fn issue_5_empty_file_is_refused() {
    assert_eq!(
        refused(b"").to_string(),
        "file is empty, not a whocan snapshot"
    );
}

#[test]
fn issue_5_foreign_files_are_refused_by_name() {
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";
    assert_eq!(
        refused(png).to_string(),
        "not a whocan snapshot: the file looks like a PNG image"
    );
    let csv = std::fs::read(root().join("fixtures/reference_example.csv")).unwrap();
    assert_eq!(
        refused(&csv).to_string(),
        "not a whocan snapshot: the file looks like text (a CSV file is imported, not loaded as a snapshot)"
    );
    let err = refused(&[0u8, 1, 2, 3, 4, 5, 6, 7, 8, 9]).to_string();
    assert!(err.contains("starts with bytes 00 01 02 03"), "{err}");
}

#[test]
fn issue_5_length_field_claiming_2_pow_60_bytes_is_refused() {
    let mut bad = good_bytes();
    bad[12..20].copy_from_slice(&(1u64 << 60).to_le_bytes());
    let err = refused(&bad);
    assert_eq!(
        err.to_string(),
        "corrupt snapshot header: body length 1152921504606846976 bytes exceeds the 1099511627776-byte limit"
    );
    // Just under the limit, it is checked against the real size instead.
    bad[12..20].copy_from_slice(&((1u64 << 40) - 1).to_le_bytes());
    assert!(matches!(refused(&bad), SnapshotError::Truncated(_)));
}

#[test]
fn newer_format_version_asks_for_an_upgrade() {
    let mut bad = good_bytes();
    let newest = snapshot::FORMAT_VERSION;
    bad[8..12].copy_from_slice(&(newest + 1).to_le_bytes());
    assert_eq!(
        refused(&bad).to_string(),
        format!(
            "snapshot format version {} is newer than this whocan reads (versions 1 to {newest}); upgrade whocan",
            newest + 1
        )
    );
    bad[8..12].copy_from_slice(&0u32.to_le_bytes());
    assert_eq!(
        refused(&bad).to_string(),
        format!("unsupported snapshot format version 0 (this whocan reads versions 1 to {newest})")
    );
    // A format-4 header over a format-3 body (and the reverse) is caught by
    // the version the body states.
    bad[8..12].copy_from_slice(&3u32.to_le_bytes());
    assert_eq!(
        refused(&bad).to_string(),
        format!("inconsistent snapshot: body says format version {newest} but the header says 3")
    );
}

/// The body's sections: each a u64 little-endian length and its bytes.
fn sections(body: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut rest = body;
    while !rest.is_empty() {
        let len = u64::from_le_bytes(rest[..8].try_into().unwrap()) as usize;
        out.push(rest[8..8 + len].to_vec());
        rest = &rest[8 + len..];
    }
    out
}

fn join_sections(sections: &[Vec<u8>]) -> Vec<u8> {
    let mut body = Vec::new();
    for s in sections {
        body.extend_from_slice(&(s.len() as u64).to_le_bytes());
        body.extend_from_slice(s);
    }
    body
}

#[test]
fn body_is_eight_length_prefixed_sections() {
    let good = good_bytes();
    let parts = sections(&good[HEADER_LEN..]);
    assert_eq!(parts.len(), 8);
    assert_eq!(join_sections(&parts), good[HEADER_LEN..]);
}

#[test]
fn crafted_body_with_valid_checksum_cannot_claim_2_pow_60_bytes() {
    let good = good_bytes();
    let mut parts = sections(&good[HEADER_LEN..]);
    // Section 1 is bincode: sources, then conflicts. A varint count, then
    // each source, whose path is a varint length and its bytes; 0xfd means
    // "u64 follows". One path claiming 2^60 bytes:
    let mut sources = vec![1u8, 0xfd];
    sources.extend_from_slice(&(1u64 << 60).to_le_bytes());
    sources.extend_from_slice(b"x");
    parts[1] = sources;
    let err = refused(&with_valid_header(&join_sections(&parts)));
    assert!(matches!(err, SnapshotError::Decode(_)), "{err}");
    assert!(
        err.to_string()
            .starts_with("corrupt snapshot body: section 1: "),
        "{err}"
    );
    // Section 2 is the string lengths: a u64 count, then one LEB128 length
    // per string. A count of 2^60 is refused before anything is allocated.
    let mut parts = sections(&good[HEADER_LEN..]);
    parts[2][..8].copy_from_slice(&(1u64 << 60).to_le_bytes());
    let err = refused(&with_valid_header(&join_sections(&parts)));
    assert!(
        err.to_string().starts_with(
            "corrupt snapshot body: section 2: 1152921504606846976 strings claimed in "
        ),
        "{err}"
    );
    // A length running past the text is refused by the table's check.
    let mut parts = sections(&good[HEADER_LEN..]);
    let last = parts[2].len() - 1;
    parts[2][last] = 0x7f;
    let err = refused(&with_valid_header(&join_sections(&parts)));
    assert!(matches!(err, SnapshotError::Invalid(_)), "{err}");
    // A section length claiming 2^60 bytes is checked against what is left.
    let mut body = join_sections(&parts[..1]);
    body.extend_from_slice(&(1u64 << 60).to_le_bytes());
    let err = refused(&with_valid_header(&body));
    assert_eq!(
        err.to_string(),
        "corrupt snapshot body: section 1 claims 1152921504606846976 bytes but only 0 remain"
    );
}

#[test]
fn garbage_body_with_valid_checksum_is_refused() {
    for body in [
        &b""[..],
        b"\0",
        b"\xff\xff\xff\xff\xff\xff\xff\xff",
        b"hello, this is not bincode at all",
    ] {
        let err = refused(&with_valid_header(body));
        assert!(
            matches!(err, SnapshotError::Decode(_) | SnapshotError::Invalid(_)),
            "{err}"
        );
    }
    // A valid body followed by junk inside the checksummed region.
    let good = good_bytes();
    let mut body = good[HEADER_LEN..].to_vec();
    body.push(0);
    let err = refused(&with_valid_header(&body));
    assert_eq!(
        err.to_string(),
        "corrupt snapshot body: 1 bytes left over after the last section"
    );
    // Junk inside a section.
    let mut parts = sections(&good[HEADER_LEN..]);
    parts[0].push(0);
    let err = refused(&with_valid_header(&join_sections(&parts)));
    assert_eq!(
        err.to_string(),
        "corrupt snapshot body: section 0: 1 bytes left over after decoding"
    );
}

#[test]
fn fixed_records_with_bytes_whocan_never_writes_are_refused() {
    let good = good_bytes();
    // Section 4: 66-byte entities, the type byte at 24, flags at 25.
    for (at, value, message) in [
        (
            24,
            3,
            "corrupt snapshot body: section 4: entity 0 has a type or flags byte whocan does not write",
        ),
        (
            25,
            0x80,
            "corrupt snapshot body: section 4: entity 0 has a type or flags byte whocan does not write",
        ),
    ] {
        let mut parts = sections(&good[HEADER_LEN..]);
        parts[4][at] = value;
        assert_eq!(
            refused(&with_valid_header(&join_sections(&parts))).to_string(),
            message
        );
    }
    // Section 5: 25-byte edges, granted last.
    let mut parts = sections(&good[HEADER_LEN..]);
    parts[5][24] = 2;
    assert_eq!(
        refused(&with_valid_header(&join_sections(&parts))).to_string(),
        "corrupt snapshot body: section 5: edge 0 has a granted byte other than 0 or 1"
    );
    // Not a whole number of records.
    let mut parts = sections(&good[HEADER_LEN..]);
    parts[5].pop();
    let err = refused(&with_valid_header(&join_sections(&parts)));
    assert!(
        err.to_string()
            .contains("is not a whole number of 25-byte edges"),
        "{err}"
    );
    // Text that is not UTF-8.
    let mut parts = sections(&good[HEADER_LEN..]);
    parts[3][1] = 0xff;
    let err = refused(&with_valid_header(&join_sections(&parts)));
    assert!(
        err.to_string()
            .starts_with("corrupt snapshot body: section 3: the string text is not UTF-8"),
        "{err}"
    );
}

/// Loads `bytes` from a file: a format-3 file is streamed, not decoded in
/// memory, so it takes the other path.
fn load_bytes(dir: &Path, bytes: &[u8]) -> Result<Snapshot, SnapshotError> {
    let path = dir.join("s.wcs");
    std::fs::write(&path, bytes).unwrap();
    snapshot::load(&path)
}

#[test]
fn a_streamed_load_refuses_what_an_in_memory_decode_refuses_with_the_same_message() {
    let dir = tempfile::tempdir().unwrap();
    let good = good_bytes();
    assert!(load_bytes(dir.path(), &good).is_ok());
    let mut cases: Vec<Vec<u8>> = Vec::new();
    // Bit flips all over the body, some in each section.
    for i in (HEADER_LEN..good.len()).step_by(37) {
        let mut bad = good.clone();
        bad[i] ^= 1 << (i % 8);
        cases.push(bad);
    }
    // Truncations, and a byte too many.
    for len in (0..good.len()).step_by(41) {
        cases.push(good[..len].to_vec());
    }
    let mut longer = good.clone();
    longer.push(0);
    cases.push(longer);
    // Crafted bodies with a valid checksum: damage only decoding finds.
    let parts = sections(&good[HEADER_LEN..]);
    for (section, at, value) in [
        (0, 0, 0xff),
        (1, 0, 0xfd),
        (2, 0, 0xff),
        (2, 8, 0xff),
        (3, 1, 0xff),
        (4, 24, 7),
        (4, 8, 0xff),
        (4, 19, 0x01),
        (5, 4, 0xff),
        (5, 24, 9),
        (6, 0, 0xfd),
        (7, 0, 0xfd),
    ] {
        let mut parts = parts.clone();
        parts[section][at] = value;
        cases.push(with_valid_header(&join_sections(&parts)));
    }
    for garbage in [&b""[..], b"\0", b"\xff\xff\xff\xff\xff\xff\xff\xff"] {
        cases.push(with_valid_header(garbage));
    }
    // A header naming an older version than the body's.
    for version in [1u32, 2] {
        let mut older = good.clone();
        older[8..12].copy_from_slice(&version.to_le_bytes());
        cases.push(older);
    }
    for (i, bytes) in cases.iter().enumerate() {
        let in_memory = refused(bytes).to_string();
        let streamed = match load_bytes(dir.path(), bytes) {
            Ok(_) => panic!("case {i}: a streamed load accepted it"),
            Err(e) => e.to_string(),
        };
        assert_eq!(streamed, in_memory, "case {i}");
    }
}

#[test]
fn body_with_dangling_indices_is_refused_as_inconsistent() {
    let mut snap = fixture_snapshot();
    snap.model.edges[0].to = 999_999;
    let err = refused(&snapshot::encode(&snap).unwrap());
    assert_eq!(
        err.to_string(),
        "inconsistent snapshot: edge 0 joins an unknown entity"
    );

    let mut snap = fixture_snapshot();
    snap.model.entities[3].name = whocan::model::Sym(u32::MAX);
    let err = refused(&snapshot::encode(&snap).unwrap());
    assert_eq!(
        err.to_string(),
        "inconsistent snapshot: entity 3 names an unknown string"
    );

    let mut snap = fixture_snapshot();
    snap.model.properties.push(whocan::model::Property {
        entity: 999_999,
        name: whocan::model::Sym(0),
        value: whocan::model::Value::Bool(true),
        custom: true,
    });
    let err = refused(&snapshot::encode(&snap).unwrap());
    assert_eq!(
        err.to_string(),
        "inconsistent snapshot: property 0 refers to an unknown entity or string"
    );
}

// ---- Through files and the binary --------------------------------------

fn whocan(args: &[&str]) -> (String, String, i32) {
    let out = Command::new(env!("CARGO_BIN_EXE_whocan"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code().unwrap_or(-1),
    )
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path.to_str().unwrap().to_string()
}

#[test]
fn issue_5_damaged_snapshots_are_refused_by_every_command_without_panic() {
    let dir = tempfile::tempdir().unwrap();
    let good = good_bytes();
    let mut flipped = good.clone();
    let last = flipped.len() - 1;
    flipped[last] ^= 0x10;
    let mut huge = good.clone();
    huge[12..20].copy_from_slice(&(1u64 << 60).to_le_bytes());
    let cases = [
        (
            "flipped.wcs",
            flipped,
            "corrupt snapshot: body checksum mismatch",
        ),
        (
            "truncated.wcs",
            good[..HEADER_LEN + 10].to_vec(),
            "truncated snapshot: ",
        ),
        ("short.wcs", good[..5].to_vec(), "truncated snapshot: "),
        ("huge.wcs", huge, "exceeds the 1099511627776-byte limit"),
    ];
    for (name, bytes, message) in cases {
        let path = write(dir.path(), name, &bytes);
        for args in [
            vec!["stats", &path],
            vec!["report", "access", &path],
            vec!["import", &path],
            vec!["snapshot", "info", &path],
        ] {
            // `import` lists a refused file in its report on stdout; the
            // others print the error on stderr.
            let (out, err, code) = whocan(&args);
            let err = format!("{out}{err}");
            assert_eq!(code, 2, "{args:?}: {err}");
            assert!(err.contains(message), "{args:?}: {err}");
            assert!(err.contains(name), "{args:?} names the file: {err}");
            assert!(!err.contains("panicked"), "{err}");
        }
        // verify reports damage as a finding: exit 1.
        let (_, err, code) = whocan(&["snapshot", "verify", &path]);
        assert_eq!(code, 1, "{err}");
        assert!(err.contains(message), "{err}");
    }
}

#[test]
fn issue_5_foreign_and_empty_files_given_as_snapshots_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let empty = write(dir.path(), "empty.wcs", b"");
    let png = write(dir.path(), "image.wcs", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR");
    for (path, message) in [
        (empty.as_str(), "file is empty, not a whocan snapshot"),
        (
            png.as_str(),
            "not a whocan snapshot: the file looks like a PNG image",
        ),
        (
            "fixtures/reference_example.csv",
            "not a whocan snapshot: the file looks like text",
        ),
    ] {
        // Issue 13.15: a file that is not a snapshot at all is bad input
        // for verify too (exit 2), not a damaged snapshot (exit 1).
        let (_, err, code) = whocan(&["snapshot", "verify", path]);
        assert_eq!(code, 2, "{err}");
        assert!(err.contains(message), "{err}");
        let (_, err, code) = whocan(&["snapshot", "info", path]);
        assert_eq!(code, 2, "{err}");
        assert!(err.contains(message), "{err}");
    }
    let (_, err, code) = whocan(&["snapshot", "verify", "no-such.wcs"]);
    assert_eq!(code, 2);
    assert!(err.contains("no-such.wcs: cannot read"), "{err}");
}

#[test]
fn loading_a_file_checks_its_size_before_reading() {
    let dir = tempfile::tempdir().unwrap();
    let mut huge = good_bytes();
    huge[12..20].copy_from_slice(&(u64::MAX).to_le_bytes());
    let path = write(dir.path(), "huge.wcs", &huge);
    let err = snapshot::load(Path::new(&path)).unwrap_err();
    assert!(matches!(err, SnapshotError::TooLarge(_)), "{err}");
    let good = good_bytes();
    let path = write(dir.path(), "good.wcs", &good);
    assert!(snapshot::load(Path::new(&path)).is_ok());
    assert_eq!(
        snapshot::load_metadata(Path::new(&path)).unwrap(),
        fixture_snapshot().metadata
    );
}

// ---- Issue 13: lying sizes and broken invariants ---------------------------

/// Writes `head` and extends the file to `len` bytes with a hole: cheap on
/// disk whatever its apparent size.
fn sparse(dir: &Path, name: &str, head: &[u8], len: u64) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, head).unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(len)
        .unwrap();
    path
}

/// Issue 13.7: a header declaring a 100 GB (or 20 GB) body over a sparse
/// file is refused from its structure (the section lengths do not add up),
/// without allocating or hashing what it declares, for every format
/// version, by `load`, `load_metadata` and `snapshot verify`.
#[test]
fn issue_13_sparse_snapshot_declaring_a_huge_body_is_refused_from_its_structure() {
    let dir = tempfile::tempdir().unwrap();
    let good = good_bytes();
    for version in [1u32, 2, 3] {
        for body_len in [100u64 << 30, 20 << 30] {
            let mut head = good.clone();
            head[8..12].copy_from_slice(&version.to_le_bytes());
            head[12..20].copy_from_slice(&body_len.to_le_bytes());
            let path = sparse(dir.path(), "huge.wcs", &head, HEADER_LEN as u64 + body_len);
            for err in [
                snapshot::load(&path).map(|_| ()).unwrap_err(),
                snapshot::load_metadata(&path).map(|_| ()).unwrap_err(),
            ] {
                assert!(
                    matches!(err, SnapshotError::Decode(_)),
                    "version {version}, {body_len} bytes: {err}"
                );
            }
            let (_, err, code) = whocan(&["snapshot", "verify", path.to_str().unwrap()]);
            assert_eq!(code, 1, "{err}");
            assert!(err.contains("corrupt snapshot body: "), "{err}");
        }
    }
}

/// Issue 13.7: a big format-3 body broken at byte 0 (here: all zeros) is
/// refused at once, naming the broken section, not hashed to its end first.
#[test]
fn issue_13_big_body_broken_at_byte_0_is_refused_without_hashing_it() {
    let dir = tempfile::tempdir().unwrap();
    let body_len = 20u64 << 30;
    let header = snapshot::Header {
        version: snapshot::FORMAT_VERSION,
        body_len,
        checksum: [7; 32],
    };
    let path = sparse(
        dir.path(),
        "zeros.wcs",
        &header.to_bytes(),
        HEADER_LEN as u64 + body_len,
    );
    let err = snapshot::load(&path).map(|_| ()).unwrap_err();
    assert!(matches!(err, SnapshotError::Decode(_)), "{err}");
    assert!(err.to_string().contains("section"), "{err}");
}

/// Re-encodes the fixture snapshot after `damage`: a valid checksum over a
/// model that breaks one invariant.
fn crafted(damage: impl FnOnce(&mut whocan::model::Model)) -> Vec<u8> {
    let mut snap = fixture_snapshot();
    damage(&mut snap.model);
    snapshot::encode(&snap).unwrap()
}

/// Issue 13.15: contents with a valid checksum but broken model invariants
/// are refused on load, naming the broken invariant; `snapshot verify`
/// reports it (exit 1) instead of "ok: contents verified".
#[test]
fn issue_13_broken_invariants_are_refused_and_named() {
    let dir = tempfile::tempdir().unwrap();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "duplicate entity key",
            crafted(|m| {
                let copy = m.entities[1].clone();
                m.entities.push(copy);
            }),
        ),
        (
            "joins two sources",
            crafted(|m| {
                let to = m.edges[0].to as usize;
                let other = m.strings.intern("another-source");
                m.entities[to].source = other;
            }),
        ),
        (
            "duplicate edge",
            crafted(|m| {
                let copy = m.edges[0];
                m.edges.push(copy);
            }),
        ),
        (
            "not in row order",
            crafted(|m| {
                let last = m.edges.len() - 1;
                let first = m
                    .edges
                    .iter()
                    .position(|e| e.origin.file == m.edges[last].origin.file)
                    .unwrap();
                m.edges.swap(first, last);
            }),
        ),
    ];
    for (what, bytes) in &cases {
        let err = refused(bytes);
        assert!(matches!(err, SnapshotError::Invalid(_)), "{what}: {err}");
        assert!(err.to_string().contains(what), "{what}: {err}");
        let path = write(dir.path(), "crafted.wcs", bytes);
        let streamed = snapshot::load(Path::new(&path)).map(|_| ()).unwrap_err();
        assert_eq!(streamed.to_string(), err.to_string());
        let (out, err_text, code) = whocan(&["snapshot", "verify", &path]);
        assert_eq!(code, 1, "{what}: {out}{err_text}");
        assert!(!out.contains("ok:"), "{what}: {out}");
        assert!(err_text.contains(what), "{what}: {err_text}");
    }
    // A string stored twice: only a crafted body can hold one.
    let good = good_bytes();
    let mut parts = sections(&good[HEADER_LEN..]);
    // Section 2 is the string count then LEB128 lengths, section 3 the
    // text: append a second copy of the last string.
    let count = u64::from_le_bytes(parts[2][..8].try_into().unwrap());
    let mut lens = Vec::new();
    let mut rest = &parts[2][8..];
    for _ in 0..count {
        let (mut v, mut shift) = (0u64, 0);
        loop {
            let b = rest[0];
            rest = &rest[1..];
            v |= u64::from(b & 0x7f) << shift;
            shift += 7;
            if b & 0x80 == 0 {
                break;
            }
        }
        lens.push(v);
    }
    let last = *lens.last().unwrap() as usize;
    let text_len = parts[3].len();
    let copy = parts[3][text_len - last..].to_vec();
    parts[3].extend_from_slice(&copy);
    parts[2][..8].copy_from_slice(&(count + 1).to_le_bytes());
    let mut leb = Vec::new();
    let mut v = last as u64;
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            leb.push(b);
            break;
        }
        leb.push(b | 0x80);
    }
    parts[2].extend_from_slice(&leb);
    let bytes = with_valid_header(&join_sections(&parts));
    let err = refused(&bytes);
    assert!(err.to_string().contains("duplicate string"), "{err}");
}

/// Issue 13.15: `snapshot verify` exits 2 for a file it cannot use at all
/// (missing, empty or foreign), like every other command, and reads a
/// snapshot from stdin with `-`.
#[test]
fn issue_13_verify_exits_2_for_foreign_files_and_reads_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let png = write(dir.path(), "image.wcs", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR");
    let empty = write(dir.path(), "empty.wcs", b"");
    for path in [
        png.as_str(),
        empty.as_str(),
        "fixtures/reference_example.csv",
        "no-such.wcs",
    ] {
        let (_, err, code) = whocan(&["snapshot", "verify", path]);
        assert_eq!(code, 2, "{path}: {err}");
    }
    let good = good_bytes();
    let mut child = Command::new(env!("CARGO_BIN_EXE_whocan"))
        .args(["snapshot", "verify", "-"])
        .current_dir(root())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write as _;
    child.stdin.take().unwrap().write_all(&good).unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.starts_with("-: ok: header, checksum and contents verified"),
        "{stdout}"
    );
}
