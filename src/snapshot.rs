//! Snapshots: the imported [`Model`] and its [`ImportReport`] saved to one
//! verifiable file, and loaded back much faster than re-importing the CSVs.
//!
//! # File layout (format version 3)
//!
//! ```text
//! offset  size  field
//!      0     8  magic           b"WHOCAN\0S"
//!      8     4  format version  u32, little-endian
//!     12     8  body length     u64, little-endian
//!     20    32  body checksum   blake3 of the body
//!     52     …  body            eight sections, each a u64 little-endian
//!                               length followed by that many bytes:
//!                               0 Metadata                      bincode
//!                               1 sources and conflicts         bincode
//!                               2 string lengths: u64 count, then each
//!                                 string's byte length, LEB128
//!                               3 string text: every string, concatenated
//!                                 (UTF-8)
//!                               4 entities, 66 bytes each       fixed
//!                               5 edges, 25 bytes each          fixed
//!                               6 ImportReport                  bincode
//!                               7 HRIS employees, typed properties and
//!                                 the identity-to-employee people map
//!                                                               bincode
//! ```
//!
//! bincode sections are bincode 2 (standard config, serde). The fixed
//! records are little-endian: an entity is source, id, name, source type,
//! origin file, origin line (u32 each), its type (0 identity, 1 connection,
//! 2 resource), a flags byte (bit 0 attributes present, bit 1 last login
//! present, bit 2 password change present, bits 3–4 MFA: 0 none, 1 false,
//! 2 true) and the attributes: project, username, email, status, first and
//! last name (u32 each), last login and password change (i64 each), zero
//! when absent. An edge is from, to, permission, origin file, origin line,
//! rows (u32 each) and granted (0 or 1).
//!
//! Format 3 exists for load speed: the records and strings, nearly all of
//! the body, are read by a few loads and stores per field, in parallel,
//! straight into the model's vectors, instead of field by field through
//! serde; the text is checked as UTF-8 once, not per string.
//!
//! Versions 1 and 2 are still read. Their body is all bincode: version 2 has
//! five sections (0 Metadata, 1 the string table, 2 sources, entities,
//! edges and conflicts, 3 ImportReport, 4 employees, properties and people
//! map); version 1 (whocan before HRIS employees and properties were kept)
//! has the first four only and loads with no employees and no properties.
//! Any other version is refused.
//!
//! The string table's lookup index is not stored and not rebuilt on load:
//! it is built on the first lookup by text (a query), so reports from a
//! snapshot never pay for it. `snapshot info` decodes section 0 only.
//!
//! Loading refuses a file, with a [`SnapshotError`] naming the problem, when
//! the magic is wrong (a foreign file), the version is not one this build
//! reads, the body length disagrees with the file size (checked before
//! anything is allocated), the checksum does not match, or the body does not
//! decode into a consistent model. A format-3 file is streamed: it is read
//! in chunks of a few MiB, each hashed, then its fixed records decoded into
//! the model's vectors, so the file is never held whole in memory (at the
//! medium benchmark size, allocating that copy cost as much as decoding).
//! The checksum is compared once the whole body is read, before anything
//! decoded is returned and before any bincode section is decoded; a
//! mismatch is reported as such even when the damage also broke the
//! structure — for bodies up to [`HASH_FIRST_BYTES`]. A bigger body's
//! section table (eight lengths, read at their offsets) is checked before
//! anything else, and a body that breaks while streaming is refused at
//! once: a lying header over a sparse 100 GB file, or a big body broken at
//! byte 0, fails in a few reads instead of being hashed or allocated first.
//! Formats 1 and 2 past that size are hashed (streamed) before they are
//! read whole, so a damaged one is never held in memory. Besides indices,
//! loading checks the model's invariants: strings stored once, entity keys
//! unique, an edge's ends in one source, edges distinct and in row order. Fixed records are decoded by bounds-checked code whose
//! allocations are sized by section lengths already checked against the
//! file size, so decoding a damaged chunk before its checksum is known costs
//! nothing but the work. bincode decoding runs with a byte limit as a second
//! guard, so even a crafted body with a valid checksum cannot make a length
//! field allocate more than a small multiple of the body's real size. Every
//! index is checked after decoding. Nothing in here panics on bad input.
//!
//! Writes are atomic: a temporary file beside the target is written, synced
//! and renamed over it, so an existing snapshot is never left half-written.
//!
//! This module reads and writes files; it never prints and never reads the
//! clock: the creation time is a parameter (`cli` passes the current time,
//! tests a fixed one).

use std::fmt;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::import::ImportReport;
use crate::model::{
    Attributes, Conflict, Edge, Employee, Entity, Interner, Kind, Model, PeopleMap, Property,
    Provenance, SourceFile, Sym, Value,
};

/// The eight bytes every snapshot starts with.
pub const MAGIC: [u8; 8] = *b"WHOCAN\0S";

/// The format version this build writes.
pub const FORMAT_VERSION: u32 = 3;

/// The oldest format version this build reads.
pub const OLDEST_READABLE_VERSION: u32 = 1;

/// Header size: magic, version, body length, checksum.
pub const HEADER_LEN: usize = 8 + 4 + 8 + 32;

/// Largest body accepted (1 TiB): a bound on the header's length field that
/// holds whatever the file system says.
pub const MAX_BODY_BYTES: u64 = 1 << 40;

/// Bodies up to this size are hashed before their structure is judged, so
/// damage reads as a checksum mismatch as it does in memory; bigger ones
/// have their section table checked first and fail fast.
pub const HASH_FIRST_BYTES: u64 = 64 << 20;

/// A snapshot that cannot be written or loaded.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// The output cannot be written there (an input, a directory) or its
    /// temporary file could not be created, synced or renamed.
    #[error(transparent)]
    Output(#[from] crate::atomic::OutputError),
    /// The file could not be opened, read or written.
    #[error("{path}: {action}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What was being done (`cannot read`, `cannot write`, …).
        action: &'static str,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// The file is empty.
    #[error("file is empty, not a whocan snapshot")]
    Empty,
    /// The file does not start with [`MAGIC`].
    #[error("not a whocan snapshot: {0}")]
    Foreign(String),
    /// The file ends inside the header or the body.
    #[error("truncated snapshot: {0}")]
    Truncated(String),
    /// The file holds more bytes than the header accounts for.
    #[error(
        "corrupt snapshot: {extra} unexpected byte{} after the {body}-byte body",
        if *.extra == 1 { "" } else { "s" }
    )]
    TrailingBytes {
        /// Bytes past the end of the body.
        extra: u64,
        /// The body length the header declares.
        body: u64,
    },
    /// The header's body length is beyond [`MAX_BODY_BYTES`].
    #[error(
        "corrupt snapshot header: body length {0} bytes exceeds the {MAX_BODY_BYTES}-byte limit"
    )]
    TooLarge(u64),
    /// The file was written by a newer whocan.
    #[error(
        "snapshot format version {found} is newer than this whocan reads (versions {OLDEST_READABLE_VERSION} to {FORMAT_VERSION}); upgrade whocan"
    )]
    NewerVersion {
        /// The version in the header.
        found: u32,
    },
    /// The version field is not one any whocan wrote.
    #[error(
        "unsupported snapshot format version {found} (this whocan reads versions {OLDEST_READABLE_VERSION} to {FORMAT_VERSION})"
    )]
    UnsupportedVersion {
        /// The version in the header.
        found: u32,
    },
    /// The body's blake3 digest does not match the header.
    #[error(
        "corrupt snapshot: body checksum mismatch (header says blake3 {expected}, body hashes to {actual}); the file was modified or damaged"
    )]
    Checksum {
        /// The digest in the header, hex.
        expected: String,
        /// The digest of the body read, hex.
        actual: String,
    },
    /// The body matches its checksum but does not decode.
    #[error("corrupt snapshot body: {0}")]
    Decode(String),
    /// The body decodes but is not a consistent model.
    #[error("inconsistent snapshot: {0}")]
    Invalid(String),
    /// The snapshot could not be encoded (e.g. a path that is not UTF-8).
    #[error("cannot encode snapshot: {0}")]
    Encode(String),
}

impl SnapshotError {
    /// Adds the path to an error that does not name it yet.
    fn io(path: &Path, action: &'static str, source: io::Error) -> SnapshotError {
        SnapshotError::Io {
            path: path.to_path_buf(),
            action,
            source,
        }
    }
}

/// One source file as recorded in a snapshot: enough to prove later that a
/// CSV is byte-identical to the one imported.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceRecord {
    /// The path as given on the command line.
    pub path: PathBuf,
    /// The source name its entities belong to.
    pub source: String,
    /// Size in bytes.
    pub bytes: u64,
    /// blake3 digest of the file's bytes, lowercase hex.
    pub blake3: String,
    /// Data rows read.
    pub rows_read: u64,
    /// Rows accepted.
    pub rows_accepted: u64,
    /// Rows rejected.
    pub rows_rejected: u64,
}

/// What a snapshot says about itself; `whocan snapshot info` prints it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metadata {
    /// The body's format version (also in the header).
    pub format_version: u32,
    /// The whocan version that wrote the snapshot.
    pub whocan_version: String,
    /// Creation time, seconds since the Unix epoch (UTC).
    pub created: i64,
    /// Every input file, in command-line order.
    pub sources: Vec<SourceRecord>,
    /// Entities in the model.
    pub entities: u64,
    /// Distinct edges in the model.
    pub edges: u64,
    /// Conflicting declarations found while importing.
    pub conflicts: u64,
}

/// A loaded (or to-be-saved) snapshot: metadata, the model and the import
/// report, exactly as the import produced them.
#[derive(Clone, Debug)]
pub struct Snapshot {
    /// What the snapshot says about itself.
    pub metadata: Metadata,
    /// The imported data.
    pub model: Model,
    /// The import report, rejected rows included.
    pub report: ImportReport,
}

impl Snapshot {
    /// Wraps an import's result, recording `created` (seconds since the Unix
    /// epoch) as the creation time.
    pub fn new(model: Model, report: ImportReport, created: i64) -> Snapshot {
        let sources = model
            .sources
            .iter()
            .enumerate()
            .map(|(i, s)| {
                // The importer pushes one report entry per source, in the
                // same order; match by path as a fallback in case an entry
                // is missing.
                let file = report
                    .files
                    .get(i)
                    .filter(|f| f.path == s.path)
                    .or_else(|| report.files.iter().find(|f| f.path == s.path));
                SourceRecord {
                    path: s.path.clone(),
                    source: model.str(s.source).to_string(),
                    bytes: s.bytes,
                    blake3: s.blake3.clone(),
                    rows_read: file.map_or(0, |f| f.rows_read),
                    rows_accepted: file.map_or(0, |f| f.rows_accepted),
                    rows_rejected: file.map_or(0, |f| f.rows_rejected),
                }
            })
            .collect();
        let metadata = Metadata {
            format_version: FORMAT_VERSION,
            whocan_version: env!("CARGO_PKG_VERSION").to_string(),
            created,
            sources,
            entities: model.entities.len() as u64,
            edges: model.edges.len() as u64,
            conflicts: model.conflicts.len() as u64,
        };
        Snapshot {
            metadata,
            model,
            report,
        }
    }
}

/// Section 2 of a format-1 or format-2 body: the model without its string
/// table. Field order is the file's.
#[derive(Deserialize)]
struct Records {
    sources: Vec<SourceFile>,
    entities: Vec<Entity>,
    edges: Vec<Edge>,
    conflicts: Vec<Conflict>,
}

/// Section 1 of a format-3 body as written: sources and conflicts.
#[derive(Serialize)]
struct SourcesRef<'a> {
    sources: &'a [SourceFile],
    conflicts: &'a [Conflict],
}

/// Section 1 of a format-3 body as read. Field order must match
/// [`SourcesRef`].
#[derive(Deserialize)]
struct Sources {
    sources: Vec<SourceFile>,
    conflicts: Vec<Conflict>,
}

/// Most sections in a body (format 3).
const SECTIONS: usize = 8;

/// Number of sections in a body of `version`.
fn section_count(version: u32) -> usize {
    match version {
        1 => 4,
        2 => 5,
        _ => SECTIONS,
    }
}

/// Bytes of one entity in a format-3 body.
const ENTITY_BYTES: usize = 66;

/// Bytes of one edge in a format-3 body.
const EDGE_BYTES: usize = 25;

/// Bytes read, hashed and decoded at a time when a format-3 file is
/// streamed: small enough to stay in cache from the read to the decode,
/// large enough for a parallel decode to split well.
const CHUNK_BYTES: usize = 4 << 20;

/// The people section (4 in format 2, 7 in format 3) as written: HRIS
/// employees, typed properties, people map.
#[derive(Serialize)]
struct PeopleRef<'a> {
    employees: &'a [Employee],
    properties: &'a [Property],
    people_map: &'a PeopleMap,
}

/// The people section as read. Field order must match [`PeopleRef`].
#[derive(Deserialize, Default)]
struct People {
    employees: Vec<Employee>,
    properties: Vec<Property>,
    people_map: PeopleMap,
}

/// A decoded header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// Format version.
    pub version: u32,
    /// Body length in bytes.
    pub body_len: u64,
    /// blake3 digest of the body.
    pub checksum: [u8; 32],
}

impl Header {
    /// The 52 header bytes.
    pub fn to_bytes(&self) -> [u8; HEADER_LEN] {
        let mut out = [0u8; HEADER_LEN];
        out[..8].copy_from_slice(&MAGIC);
        out[8..12].copy_from_slice(&self.version.to_le_bytes());
        out[12..20].copy_from_slice(&self.body_len.to_le_bytes());
        out[20..52].copy_from_slice(&self.checksum);
        out
    }
}

/// True when `prefix` (the first bytes of a file, possibly fewer than eight)
/// is a snapshot's start: a non-empty prefix of [`MAGIC`] or the whole of it.
/// `cli` uses this to tell snapshots from CSV by content, not extension.
pub fn looks_like_snapshot(prefix: &[u8]) -> bool {
    let n = prefix.len().min(MAGIC.len());
    n > 0 && prefix[..n] == MAGIC[..n]
}

/// Reads the first bytes of `path` and says whether it is a snapshot (see
/// [`looks_like_snapshot`]).
pub fn is_snapshot_file(path: &Path) -> io::Result<bool> {
    let mut file = std::fs::File::open(path)?;
    let mut prefix = [0u8; 8];
    let mut filled = 0;
    while filled < prefix.len() {
        match file.read(&mut prefix[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(looks_like_snapshot(&prefix[..filled]))
}

/// Appends one section: its length, then what `write` puts after it.
fn section(
    body: &mut Vec<u8>,
    write: impl FnOnce(&mut Vec<u8>) -> Result<(), SnapshotError>,
) -> Result<(), SnapshotError> {
    let at = body.len();
    body.extend_from_slice(&[0; 8]);
    write(body)?;
    let len = (body.len() - at - 8) as u64;
    body[at..at + 8].copy_from_slice(&len.to_le_bytes());
    Ok(())
}

/// Appends one bincode section.
fn bincode_section<T: Serialize>(body: &mut Vec<u8>, value: T) -> Result<(), SnapshotError> {
    section(body, |out| {
        bincode::serde::encode_into_std_write(value, out, bincode::config::standard())
            .map(|_| ())
            .map_err(|e| SnapshotError::Encode(e.to_string()))
    })
}

#[inline]
fn le32(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"))
}

#[inline]
fn le64(bytes: &[u8], at: usize) -> i64 {
    i64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"))
}

fn put_leb128(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push(value as u8 | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// One LEB128 number and the bytes after it; `None` when the bytes end
/// first or it runs past ten bytes.
#[inline]
fn get_leb128(bytes: &[u8]) -> Option<(u64, &[u8])> {
    let mut value = 0u64;
    for (i, &b) in bytes.iter().enumerate().take(10) {
        value |= u64::from(b & 0x7f) << (7 * i);
        if b < 0x80 {
            return Some((value, &bytes[i + 1..]));
        }
    }
    None
}

/// Appends one entity record (see the module documentation).
fn put_entity(out: &mut Vec<u8>, e: &Entity) {
    for v in [
        e.source.0,
        e.id.0,
        e.name.0,
        e.source_type.0,
        e.origin.file,
        e.origin.line,
    ] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out.push(match e.kind {
        Kind::Identity => 0,
        Kind::Connection => 1,
        Kind::Resource => 2,
    });
    let Some(a) = &e.attributes else {
        // Flags 0 and zeroed attributes.
        out.extend_from_slice(&[0; ENTITY_BYTES - 25]);
        return;
    };
    let mfa: u8 = match a.mfa {
        None => 0,
        Some(false) => 1,
        Some(true) => 2,
    };
    out.push(
        1 | (u8::from(a.last_login.is_some()) << 1)
            | (u8::from(a.password_changed.is_some()) << 2)
            | (mfa << 3),
    );
    for s in a.strings() {
        out.extend_from_slice(&s.0.to_le_bytes());
    }
    for t in [a.last_login, a.password_changed] {
        out.extend_from_slice(&t.unwrap_or(0).to_le_bytes());
    }
}

/// One entity record: the entity, the largest string index it names, and
/// whether its type and flags bytes are ones whocan writes.
#[inline]
fn get_entity(r: &[u8; ENTITY_BYTES]) -> (Entity, u32, bool) {
    let r = &r[..];
    let sym = |at| Sym(le32(r, at));
    let (kind, kind_ok) = match r[24] {
        0 => (Kind::Identity, true),
        1 => (Kind::Connection, true),
        2 => (Kind::Resource, true),
        _ => (Kind::Identity, false),
    };
    let flags = r[25];
    let mut max = le32(r, 0).max(le32(r, 4)).max(le32(r, 8)).max(le32(r, 12));
    let (attributes, flags_ok) = if flags & 1 == 0 {
        (None, flags == 0)
    } else {
        for at in [26, 30, 34, 38, 42, 46] {
            max = max.max(le32(r, at));
        }
        let attributes = Attributes {
            project: sym(26),
            username: sym(30),
            email: sym(34),
            status: sym(38),
            first_name: sym(42),
            last_name: sym(46),
            last_login: (flags & 2 != 0).then(|| le64(r, 50)),
            password_changed: (flags & 4 != 0).then(|| le64(r, 58)),
            mfa: match (flags >> 3) & 3 {
                1 => Some(false),
                2 => Some(true),
                _ => None,
            },
        };
        (Some(attributes), flags >> 3 <= 2)
    };
    let entity = Entity {
        source: sym(0),
        id: sym(4),
        name: sym(8),
        kind,
        source_type: sym(12),
        attributes,
        origin: Provenance {
            file: le32(r, 16),
            line: le32(r, 20),
        },
    };
    (entity, max, kind_ok && flags_ok)
}

/// Appends one edge record (see the module documentation).
fn put_edge(out: &mut Vec<u8>, e: &Edge) {
    for v in [
        e.from,
        e.to,
        e.permission.0,
        e.origin.file,
        e.origin.line,
        e.rows,
    ] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out.push(u8::from(e.granted));
}

/// One edge record, and whether its granted byte is 0 or 1.
#[inline]
fn get_edge(r: &[u8; EDGE_BYTES]) -> (Edge, bool) {
    let r = &r[..];
    let edge = Edge {
        from: le32(r, 0),
        to: le32(r, 4),
        permission: Sym(le32(r, 8)),
        granted: r[24] == 1,
        origin: Provenance {
            file: le32(r, 12),
            line: le32(r, 16),
        },
        rows: le32(r, 20),
    };
    (edge, r[24] <= 1)
}

/// Encodes a snapshot: header followed by body.
pub fn encode(snapshot: &Snapshot) -> Result<Vec<u8>, SnapshotError> {
    let model = &snapshot.model;
    let (text, ends) = model.strings.raw_parts();
    let mut body = Vec::with_capacity(
        text.len()
            + 2 * ends.len()
            + model.entities.len() * ENTITY_BYTES
            + model.edges.len() * EDGE_BYTES
            + 4096,
    );
    bincode_section(&mut body, &snapshot.metadata)?;
    bincode_section(
        &mut body,
        SourcesRef {
            sources: &model.sources,
            conflicts: &model.conflicts,
        },
    )?;
    section(&mut body, |out| {
        out.extend_from_slice(&(ends.len() as u64).to_le_bytes());
        let mut start = 0;
        for &end in ends {
            put_leb128(out, end - start);
            start = end;
        }
        Ok(())
    })?;
    section(&mut body, |out| {
        out.extend_from_slice(text.as_bytes());
        Ok(())
    })?;
    section(&mut body, |out| {
        model.entities.iter().for_each(|e| put_entity(out, e));
        Ok(())
    })?;
    section(&mut body, |out| {
        model.edges.iter().for_each(|e| put_edge(out, e));
        Ok(())
    })?;
    bincode_section(&mut body, &snapshot.report)?;
    bincode_section(
        &mut body,
        PeopleRef {
            employees: &model.employees,
            properties: &model.properties,
            people_map: &model.people_map,
        },
    )?;
    let header = Header {
        version: FORMAT_VERSION,
        body_len: body.len() as u64,
        checksum: *blake3::Hasher::new()
            .update_rayon(&body)
            .finalize()
            .as_bytes(),
    };
    let mut out = Vec::with_capacity(HEADER_LEN + body.len());
    out.extend_from_slice(&header.to_bytes());
    out.extend_from_slice(&body);
    Ok(out)
}

/// Writes a snapshot to `path` through [`crate::atomic::Destination`]: a
/// temporary file beside it is written, synced and renamed over it. Returns
/// the file size.
pub fn save(path: &Path, snapshot: &Snapshot) -> Result<u64, SnapshotError> {
    let bytes = encode(snapshot)?;
    // The one output mechanism: refuses an input, writes a device through,
    // replaces a symlink's target (see `crate::atomic`).
    let (destination, mut file) = crate::atomic::Destination::open(path)?;
    file.write_all(&bytes)
        .map_err(|e| SnapshotError::io(path, "cannot write", e))?;
    destination.commit()?;
    Ok(bytes.len() as u64)
}

/// Checks the header against the whole file's size, before anything sized
/// by the header is allocated. `prefix` is the start of the file (up to
/// [`HEADER_LEN`] bytes), `file_len` its total size.
pub fn check_header(prefix: &[u8], file_len: u64) -> Result<Header, SnapshotError> {
    if file_len == 0 || prefix.is_empty() {
        return Err(SnapshotError::Empty);
    }
    if !looks_like_snapshot(prefix) {
        return Err(SnapshotError::Foreign(describe_foreign(prefix)));
    }
    if prefix.len() < HEADER_LEN || file_len < HEADER_LEN as u64 {
        return Err(SnapshotError::Truncated(format!(
            "the file holds {file_len} byte{}, less than the {HEADER_LEN}-byte header",
            if file_len == 1 { "" } else { "s" }
        )));
    }
    let version = u32::from_le_bytes(prefix[8..12].try_into().expect("4 bytes"));
    let body_len = u64::from_le_bytes(prefix[12..20].try_into().expect("8 bytes"));
    let checksum: [u8; 32] = prefix[20..52].try_into().expect("32 bytes");
    if version > FORMAT_VERSION {
        return Err(SnapshotError::NewerVersion { found: version });
    }
    if version < OLDEST_READABLE_VERSION {
        return Err(SnapshotError::UnsupportedVersion { found: version });
    }
    if body_len > MAX_BODY_BYTES {
        return Err(SnapshotError::TooLarge(body_len));
    }
    let actual = file_len - HEADER_LEN as u64;
    if actual < body_len {
        return Err(SnapshotError::Truncated(format!(
            "the header declares a {body_len}-byte body but the file holds {actual} byte{} after the header",
            if actual == 1 { "" } else { "s" }
        )));
    }
    if actual > body_len {
        return Err(SnapshotError::TrailingBytes {
            extra: actual - body_len,
            body: body_len,
        });
    }
    Ok(Header {
        version,
        body_len,
        checksum,
    })
}

/// A short description of what a foreign file looks like, for the message.
fn describe_foreign(prefix: &[u8]) -> String {
    const KNOWN: [(&[u8], &str); 6] = [
        (b"\x89PNG", "a PNG image"),
        (b"PK\x03\x04", "a ZIP archive"),
        (b"\x1f\x8b", "a gzip file"),
        (b"%PDF", "a PDF document"),
        (b"\x7fELF", "an executable"),
        (b"\xef\xbb\xbf", "a text file with a byte-order mark (CSV?)"),
    ];
    for (magic, what) in KNOWN {
        if prefix.starts_with(magic) {
            return format!("the file looks like {what}");
        }
    }
    let text = prefix
        .iter()
        .all(|&b| b.is_ascii_graphic() || b.is_ascii_whitespace());
    if text {
        "the file looks like text (a CSV file is imported, not loaded as a snapshot)".into()
    } else {
        let hex: Vec<String> = prefix.iter().take(8).map(|b| format!("{b:02x}")).collect();
        format!(
            "it starts with bytes {} instead of the snapshot magic \"WHOCAN\\0S\"",
            hex.join(" ")
        )
    }
}

/// Checks a whole snapshot in memory: header, length and checksum. Returns
/// the body.
pub fn verify(bytes: &[u8]) -> Result<&[u8], SnapshotError> {
    verify_header(bytes).map(|(_, body)| body)
}

/// [`verify`], also returning the header.
fn verify_header(bytes: &[u8]) -> Result<(Header, &[u8]), SnapshotError> {
    let header = check_header(&bytes[..bytes.len().min(HEADER_LEN)], bytes.len() as u64)?;
    let body = &bytes[HEADER_LEN..];
    check_checksum(&header, body)?;
    Ok((header, body))
}

fn check_checksum(header: &Header, body: &[u8]) -> Result<(), SnapshotError> {
    // Hashed on every core: the checksum is on the load's critical path.
    check_checksum_of(header, blake3::Hasher::new().update_rayon(body).finalize())
}

/// Compares a body's digest with the header's.
fn check_checksum_of(header: &Header, actual: blake3::Hash) -> Result<(), SnapshotError> {
    // blake3::Hash compares in constant time; the speed is irrelevant here,
    // but it is the type's equality.
    if actual != blake3::Hash::from_bytes(header.checksum) {
        return Err(SnapshotError::Checksum {
            expected: blake3::Hash::from_bytes(header.checksum)
                .to_hex()
                .to_string(),
            actual: actual.to_hex().to_string(),
        });
    }
    Ok(())
}

/// Decodes a snapshot held in memory, verifying everything.
pub fn decode(bytes: &[u8]) -> Result<Snapshot, SnapshotError> {
    let (header, body) = verify_header(bytes)?;
    check_body_version(header.version, body)?;
    if header.version < 3 {
        return decode_body(header.version, body);
    }
    // Verified whole above: nothing to hash while decoding.
    let mut reader = BodyReader {
        source: BodySource::Memory(body),
        left: body.len() as u64,
        hasher: None,
        buf: Vec::new(),
    };
    finish_v3(stream_v3(&mut reader)?)
}

/// Section 0, the metadata, comes first in every version and names the
/// format version too. The checksum covers the body, not the header, so a
/// header whose version was damaged into another readable one is caught
/// here with a message that says so, not by whatever the other version's
/// decoder makes of the body.
fn check_body_version(version: u32, body: &[u8]) -> Result<(), SnapshotError> {
    let Some((len, rest)) = body.split_first_chunk::<8>() else {
        return Ok(());
    };
    let len = u64::from_le_bytes(*len);
    if len > rest.len() as u64 {
        return Ok(());
    }
    match decode_section::<Metadata>(&rest[..len as usize], 0) {
        Ok(meta) if meta.format_version != version => Err(SnapshotError::Invalid(format!(
            "body says format version {} but the header says {version}",
            meta.format_version
        ))),
        // Other problems are the decoder's to report.
        _ => Ok(()),
    }
}

/// Decodes only the metadata of a snapshot held in memory (after verifying
/// header and checksum); cheaper than [`decode`] for `snapshot info`.
pub fn decode_metadata(bytes: &[u8]) -> Result<Metadata, SnapshotError> {
    let (header, body) = verify_header(bytes)?;
    let sections = split_sections(header.version, body)?;
    decode_section(sections[0], 0)
}

/// How many bytes of in-memory data bincode may claim per encoded byte.
/// bincode claims each decoded value's in-memory size against its limit:
/// a one-byte varint decoding to a `u64` or `usize` claims 8, each string
/// byte claims 1; nothing in a snapshot claims more than 8 per byte, plus the
/// string bytes themselves.
const CLAIM_PER_BYTE: u64 = 9;

/// Runs bincode with a byte limit a bounded multiple of the section's
/// length: every length field claims its bytes against the limit before
/// anything is allocated, so a crafted length is refused, not allocated. The
/// limit is a const generic in bincode, so a few tiers (each 8× the last)
/// cover every size; the limit is at most 8 × [`CLAIM_PER_BYTE`] times the
/// section's real size.
fn decode_limited<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<(T, usize), String> {
    let need = (body.len() as u64).saturating_mul(CLAIM_PER_BYTE);
    macro_rules! tiers {
        ($($bits:literal),*) => {
            $(
                if need <= (1u64 << $bits) {
                    return bincode::serde::decode_from_slice(
                        body,
                        bincode::config::standard().with_limit::<{ 1usize << $bits }>(),
                    )
                    .map_err(|e| e.to_string());
                }
            )*
        };
    }
    tiers!(21, 24, 27, 30, 33, 36, 39, 42, 45);
    Err(format!("{} bytes is beyond the size limit", body.len()))
}

/// Splits a body into its sections, checking every length against what is
/// left before slicing.
/// Sections a version does not have (4 and up in version 1, 5 and up in
/// version 2) come back empty.
fn split_sections(version: u32, body: &[u8]) -> Result<[&[u8]; SECTIONS], SnapshotError> {
    let count = section_count(version);
    let mut sections = [&body[..0]; SECTIONS];
    let mut rest = body;
    for (i, section) in sections.iter_mut().take(count).enumerate() {
        let Some((len, tail)) = rest.split_first_chunk::<8>() else {
            return Err(SnapshotError::Decode(format!(
                "section {i} is missing: {} bytes left where an 8-byte length belongs",
                rest.len()
            )));
        };
        let len = u64::from_le_bytes(*len);
        if len > tail.len() as u64 {
            return Err(SnapshotError::Decode(format!(
                "section {i} claims {len} bytes but only {} remain",
                tail.len()
            )));
        }
        let (this, tail) = tail.split_at(len as usize);
        *section = this;
        rest = tail;
    }
    if !rest.is_empty() {
        return Err(SnapshotError::Decode(format!(
            "{} bytes left over after the last section",
            rest.len()
        )));
    }
    Ok(sections)
}

/// Decodes one whole section.
fn decode_section<T: serde::de::DeserializeOwned>(
    bytes: &[u8],
    index: usize,
) -> Result<T, SnapshotError> {
    let (value, used) = decode_limited(bytes)
        .map_err(|e| SnapshotError::Decode(format!("section {index}: {e}")))?;
    if used != bytes.len() {
        return Err(SnapshotError::Decode(format!(
            "section {index}: {} bytes left over after decoding",
            bytes.len() - used
        )));
    }
    Ok(value)
}

/// Decodes a format-1 or format-2 body.
fn decode_body(version: u32, body: &[u8]) -> Result<Snapshot, SnapshotError> {
    let [meta, strings, records, report, people, ..] = split_sections(version, body)?;
    // Sections decode in parallel; the string table's lookup index is built
    // later, on first use, so a load that only reports never pays for it.
    let (strings, (records, (metadata, report, people))) = rayon::join(
        || -> Result<Interner, SnapshotError> {
            let strings: Interner = decode_section(strings, 1)?;
            strings.check().map_err(SnapshotError::Invalid)?;
            Ok(strings)
        },
        || {
            rayon::join(
                || decode_section::<Records>(records, 2),
                || {
                    (
                        decode_section::<Metadata>(meta, 0),
                        decode_section::<ImportReport>(report, 3),
                        if version == 1 {
                            Ok(People::default())
                        } else {
                            decode_section::<People>(people, 4)
                        },
                    )
                },
            )
        },
    );
    let metadata = metadata?;
    if metadata.format_version != version {
        return Err(SnapshotError::Invalid(format!(
            "body says format version {} but the header says {version}",
            metadata.format_version
        )));
    }
    let records = records?;
    let people = people?;
    let mut model = Model {
        strings: strings?,
        sources: records.sources,
        entities: records.entities,
        edges: records.edges,
        conflicts: records.conflicts,
        employees: people.employees,
        properties: people.properties,
        people_map: people.people_map,
    };
    let report = report?;
    validate(&model, true)?;
    // Snapshots store attribute text; the values are typed again by name.
    model.type_employee_attributes();
    Ok(Snapshot {
        metadata,
        model,
        report,
    })
}

/// A format-3 body being decoded: in memory (its checksum already
/// verified) or streamed from a file and hashed as it is read.
struct BodyReader<'a> {
    source: BodySource<'a>,
    /// Body bytes not read yet.
    left: u64,
    /// The hash of the body read so far, when it is verified as it streams.
    hasher: Option<blake3::Hasher>,
    /// The last chunk read from a file, reused for the next.
    buf: Vec<u8>,
}

/// Where a [`BodyReader`]'s bytes come from.
enum BodySource<'a> {
    /// The rest of a body in memory.
    Memory(&'a [u8]),
    /// A file positioned at the rest of the body.
    File { file: std::fs::File, path: &'a Path },
}

/// Appends exactly `n` bytes of `file` to `buf`; a file that ends first has
/// shrunk since its size was checked.
fn read_exactly(
    file: &mut std::fs::File,
    path: &Path,
    buf: &mut Vec<u8>,
    n: usize,
) -> Result<(), SnapshotError> {
    let start = buf.len();
    buf.reserve_exact(n);
    Read::by_ref(file)
        .take(n as u64)
        .read_to_end(buf)
        .map_err(|e| SnapshotError::io(path, "cannot read", e))?;
    let got = buf.len() - start;
    if got < n {
        return Err(SnapshotError::Truncated(format!(
            "the file ended {} bytes early while being read (it shrank after its size was checked)",
            n - got
        )));
    }
    Ok(())
}

/// Fills `dst` from the file's position on, two halves at once where the
/// platform reads at an offset, and moves the position past them.
fn read_halves(file: &mut std::fs::File, path: &Path, dst: &mut [u8]) -> Result<(), SnapshotError> {
    let read_err = |e: io::Error| match e.kind() {
        io::ErrorKind::UnexpectedEof => SnapshotError::Truncated(
            "the file ended early while being read (it shrank after its size was checked)".into(),
        ),
        _ => SnapshotError::io(path, "cannot read", e),
    };
    #[cfg(unix)]
    {
        use std::io::{Seek, SeekFrom};
        use std::os::unix::fs::FileExt;
        let at = file.stream_position().map_err(read_err)?;
        let half = dst.len() / 2;
        let (a, b) = dst.split_at_mut(half);
        let file_ref = &*file;
        let (ra, rb) = rayon::join(
            || file_ref.read_exact_at(a, at),
            || file_ref.read_exact_at(b, at + half as u64),
        );
        ra.map_err(read_err)?;
        rb.map_err(read_err)?;
        file.seek(SeekFrom::Current(dst.len() as i64))
            .map_err(read_err)?;
        Ok(())
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        file.read_exact(dst).map_err(read_err)
    }
}

impl BodyReader<'_> {
    /// Refuses to read past the body.
    fn check_left(&self, n: usize) -> Result<(), SnapshotError> {
        if n as u64 > self.left {
            return Err(SnapshotError::Decode(format!(
                "{n} bytes wanted but only {} remain",
                self.left
            )));
        }
        Ok(())
    }

    /// The next `n` bytes of the body, hashed when streaming.
    fn take(&mut self, n: usize) -> Result<&[u8], SnapshotError> {
        self.check_left(n)?;
        let bytes: &[u8] = match &mut self.source {
            BodySource::Memory(rest) => {
                let whole: &[u8] = rest;
                let (head, tail) = whole.split_at(n);
                *rest = tail;
                head
            }
            BodySource::File { file, path } => {
                self.buf.clear();
                read_exactly(file, path, &mut self.buf, n)?;
                &self.buf
            }
        };
        self.left -= n as u64;
        if let Some(hasher) = &mut self.hasher {
            hasher.update_rayon(bytes);
        }
        Ok(bytes)
    }

    /// Appends the next `n` bytes of the body to `dst` (read straight
    /// into it from a file), hashed when streaming.
    fn take_into(&mut self, dst: &mut Vec<u8>, n: usize) -> Result<(), SnapshotError> {
        self.check_left(n)?;
        let start = dst.len();
        match &mut self.source {
            BodySource::Memory(rest) => {
                let whole: &[u8] = rest;
                let (head, tail) = whole.split_at(n);
                *rest = tail;
                dst.extend_from_slice(head);
            }
            BodySource::File { file, path } => read_exactly(file, path, dst, n)?,
        }
        self.left -= n as u64;
        if let Some(hasher) = &mut self.hasher {
            hasher.update_rayon(&dst[start..]);
        }
        Ok(())
    }

    /// Fills `dst` with the next bytes of the body, hashed when streaming.
    /// From a file, the two halves are read at once, on two cores: the
    /// copy is what first touches `dst`'s pages, and faulting them in is
    /// most of its cost.
    fn take_exact(&mut self, dst: &mut [u8]) -> Result<(), SnapshotError> {
        let n = dst.len();
        self.check_left(n)?;
        match &mut self.source {
            BodySource::Memory(rest) => {
                let whole: &[u8] = rest;
                let (head, tail) = whole.split_at(n);
                *rest = tail;
                dst.copy_from_slice(head);
            }
            BodySource::File { file, path } => read_halves(file, path, dst)?,
        }
        self.left -= n as u64;
        if let Some(hasher) = &mut self.hasher {
            hasher.update_rayon(dst);
        }
        Ok(())
    }

    /// The length of section `index`, checked against what is left.
    fn section(&mut self, index: usize) -> Result<usize, SnapshotError> {
        if self.left < 8 {
            return Err(SnapshotError::Decode(format!(
                "section {index} is missing: {} bytes left where an 8-byte length belongs",
                self.left
            )));
        }
        let len = u64::from_le_bytes(self.take(8)?.try_into().expect("8 bytes"));
        if len > self.left {
            return Err(SnapshotError::Decode(format!(
                "section {index} claims {len} bytes but only {} remain",
                self.left
            )));
        }
        // At most the body's length, which is the file's: it fits.
        Ok(len as usize)
    }

    /// Section `index`, copied out whole.
    fn section_bytes(&mut self, index: usize) -> Result<Vec<u8>, SnapshotError> {
        let len = self.section(index)?;
        let mut bytes = Vec::with_capacity(len);
        self.take_into(&mut bytes, len)?;
        Ok(bytes)
    }
}

/// A format-3 body as read: the bincode sections still encoded (they are
/// decoded once the checksum is known to match), the rest decoded.
struct StreamedV3 {
    meta: Vec<u8>,
    sources: Vec<u8>,
    strings: Interner,
    entities: Vec<Entity>,
    edges: Vec<Edge>,
    report: Vec<u8>,
    people: Vec<u8>,
    checks: RecordChecks,
}

/// The string count at the start of section 2.
fn string_count(lengths: &[u8]) -> Result<u64, SnapshotError> {
    match lengths.first_chunk::<8>() {
        Some(count) => Ok(u64::from_le_bytes(*count)),
        None => Err(SnapshotError::Decode(format!(
            "section 2: {} bytes, too short for the string count",
            lengths.len()
        ))),
    }
}

/// Reads a format-3 body section by section, decoding the fixed records
/// chunk by chunk as they arrive (in parallel within a chunk) straight into
/// the model's vectors.
fn stream_v3(r: &mut BodyReader<'_>) -> Result<StreamedV3, SnapshotError> {
    let meta = r.section_bytes(0)?;
    let sources = r.section_bytes(1)?;
    let lengths = r.section_bytes(2)?;
    let strings = string_count(&lengths)?;
    let len = r.section(3)?;
    // The offsets are worked out on one core while the text is read on the
    // other; the text is checked while the records stream in.
    let (ends, text) = rayon::join(
        || decode_ends(&lengths),
        || -> Result<Vec<u8>, SnapshotError> {
            // Zeroed by the allocator, not written: its pages are first
            // touched by the read.
            let mut text = vec![0; len];
            r.take_exact(&mut text)?;
            Ok(text)
        },
    );
    let text = text?;
    let (table, records) =
        rayon::join(|| decode_strings(ends, text), || stream_records(r, strings));
    let (entities, edges, checks) = records?;
    let table = table?;

    let report = r.section_bytes(6)?;
    let people = r.section_bytes(7)?;
    if r.left > 0 {
        return Err(SnapshotError::Decode(format!(
            "{} bytes left over after the last section",
            r.left
        )));
    }
    Ok(StreamedV3 {
        meta,
        sources,
        strings: table,
        entities,
        edges,
        report,
        people,
        checks,
    })
}

/// What decoding the fixed records noticed, for [`finish_v3`] to report.
struct RecordChecks {
    /// Some entity or edge names a string or an entity past the end:
    /// [`validate`] then checks every record, to say which.
    dangling: bool,
    /// The largest origin file index of any entity or edge.
    max_file: u32,
    /// The first entity whose type or flags byte whocan does not write.
    bad_entity: Option<usize>,
    /// The first edge whose granted byte is neither 0 nor 1.
    bad_edge: Option<usize>,
}

/// Streams sections 4 and 5, the entities and edges, chunk by chunk, each
/// decoded in parallel straight into its vector.
fn stream_records(
    r: &mut BodyReader<'_>,
    strings: u64,
) -> Result<(Vec<Entity>, Vec<Edge>, RecordChecks), SnapshotError> {
    let entities = stream_section::<_, ENTITY_BYTES>(r, 4, "entities", 16, |rec| {
        let (entity, max_sym, ok) = get_entity(rec);
        let dangling = u64::from(max_sym) >= strings;
        (entity, dangling, ok)
    })?;
    let entity_count = entities.values.len() as u64;
    let edges = stream_section::<_, EDGE_BYTES>(r, 5, "edges", 12, |rec| {
        let (edge, ok) = get_edge(rec);
        let dangling = u64::from(edge.from.max(edge.to)) >= entity_count
            || u64::from(edge.permission.0) >= strings;
        (edge, dangling, ok)
    })?;
    Ok((
        entities.values,
        edges.values,
        RecordChecks {
            dangling: entities.dangling || edges.dangling,
            max_file: entities.max_file.max(edges.max_file),
            bad_entity: entities.first_bad,
            bad_edge: edges.first_bad,
        },
    ))
}

/// One section of fixed records, decoded, and what decoding noticed.
struct Streamed<T> {
    values: Vec<T>,
    /// Some record names a string or an entity past the end.
    dangling: bool,
    /// The largest origin file index of any record.
    max_file: u32,
    /// The first record whose bytes whocan does not write.
    first_bad: Option<usize>,
}

/// Streams section `section` of `N`-byte records (`what`, for messages),
/// chunk by chunk, decoding each chunk's records in parallel with `decode`
/// (the value, whether it dangles, whether its bytes are valid). The origin
/// file index of a record is the u32 at byte `file_at`.
fn stream_section<T: Send, const N: usize>(
    r: &mut BodyReader<'_>,
    section: usize,
    what: &str,
    file_at: usize,
    decode: impl Fn(&[u8; N]) -> (T, bool, bool) + Sync,
) -> Result<Streamed<T>, SnapshotError> {
    let len = r.section(section)?;
    if len % N != 0 {
        return Err(SnapshotError::Decode(format!(
            "section {section}: {len} bytes is not a whole number of {N}-byte {what}"
        )));
    }
    let count = len / N;
    let dangling = AtomicBool::new(false);
    let first_bad = AtomicUsize::new(usize::MAX);
    let mut max_file = 0u32;
    // At most a small multiple of the bytes read: bounded by the file's size.
    let mut values = Vec::with_capacity(count);
    while values.len() < count {
        let base = values.len();
        let n = (CHUNK_BYTES / N).min(count - base);
        let bytes = r.take(n * N)?;
        max_file = bytes
            .chunks_exact(N)
            .map(|rec| le32(rec, file_at))
            .fold(max_file, u32::max);
        values.par_extend(bytes.par_chunks_exact(N).enumerate().map(|(j, rec)| {
            let (value, dangles, ok) = decode(rec.try_into().expect("a whole record"));
            if dangles {
                dangling.store(true, Ordering::Relaxed);
            }
            if !ok {
                first_bad.fetch_min(base + j, Ordering::Relaxed);
            }
            value
        }));
    }
    Ok(Streamed {
        values,
        dangling: dangling.into_inner(),
        max_file,
        first_bad: Some(first_bad.into_inner()).filter(|&i| i != usize::MAX),
    })
}

/// Each string's end offset, from section 2: the count, then each length.
fn decode_ends(bytes: &[u8]) -> Result<Vec<u64>, SnapshotError> {
    let bad = |what: String| SnapshotError::Decode(format!("section 2: {what}"));
    let count = string_count(bytes)?;
    let mut rest = &bytes[8..];
    // Each length takes a byte at least: a larger count is refused before
    // anything is allocated.
    if count > rest.len() as u64 {
        return Err(bad(format!(
            "{count} strings claimed in {} bytes of lengths",
            rest.len()
        )));
    }
    let mut ends = Vec::with_capacity(count as usize);
    let mut end = 0u64;
    for i in 0..count {
        let Some((len, tail)) = get_leb128(rest) else {
            return Err(bad(format!("the length of string {i} is cut short")));
        };
        rest = tail;
        // Past the text, it is refused by the table's check.
        end = end.saturating_add(len);
        ends.push(end);
    }
    if !rest.is_empty() {
        return Err(bad(format!(
            "{} bytes left over after the lengths",
            rest.len()
        )));
    }
    Ok(ends)
}

/// The string table from sections 2 (decoded) and 3.
fn decode_strings(
    ends: Result<Vec<u64>, SnapshotError>,
    text: Vec<u8>,
) -> Result<Interner, SnapshotError> {
    let ends = ends?;
    let text = String::from_utf8(text).map_err(|e| {
        SnapshotError::Decode(format!(
            "section 3: the string text is not UTF-8 (at byte {})",
            e.utf8_error().valid_up_to()
        ))
    })?;
    Interner::from_raw_parts(text, ends).map_err(SnapshotError::Invalid)
}

/// Decodes what [`stream_v3`] left encoded, once the checksum is known to
/// match, and checks the model.
fn finish_v3(s: StreamedV3) -> Result<Snapshot, SnapshotError> {
    let StreamedV3 {
        meta,
        sources,
        strings,
        entities,
        edges,
        report,
        people,
        checks,
    } = s;
    let (metadata, sources, report, people) = (
        decode_section::<Metadata>(&meta, 0),
        decode_section::<Sources>(&sources, 1),
        decode_section::<ImportReport>(&report, 6),
        decode_section::<People>(&people, 7),
    );
    let metadata = metadata?;
    if metadata.format_version != 3 {
        return Err(SnapshotError::Invalid(format!(
            "body says format version {} but the header says 3",
            metadata.format_version
        )));
    }
    let sources = sources?;
    if let Some(i) = checks.bad_entity {
        return Err(SnapshotError::Decode(format!(
            "section 4: entity {i} has a type or flags byte whocan does not write"
        )));
    }
    if let Some(i) = checks.bad_edge {
        return Err(SnapshotError::Decode(format!(
            "section 5: edge {i} has a granted byte other than 0 or 1"
        )));
    }
    let report = report?;
    let people = people?;
    let mut model = Model {
        strings,
        sources: sources.sources,
        entities,
        edges,
        conflicts: sources.conflicts,
        employees: people.employees,
        properties: people.properties,
        people_map: people.people_map,
    };
    // Records were checked against the string and entity counts as they
    // were decoded; only a problem found there, or an origin past the
    // sources, needs the record-by-record pass that names the first.
    let records = checks.dangling || checks.max_file as usize >= model.sources.len();
    validate(&model, records)?;
    // Snapshots store attribute text; the values are typed again by name.
    model.type_employee_attributes();
    Ok(Snapshot {
        metadata,
        model,
        report,
    })
}

/// Opens a snapshot file and checks its header against its size, before
/// anything sized by the header is allocated. Returns the file, positioned
/// after the header, the header bytes, the header and the file's size.
fn open_checked(path: &Path) -> Result<(std::fs::File, Vec<u8>, Header, u64), SnapshotError> {
    let read_err = |e| SnapshotError::io(path, "cannot read", e);
    let mut file = std::fs::File::open(path).map_err(read_err)?;
    let file_len = file.metadata().map_err(read_err)?.len();
    let mut prefix = Vec::with_capacity(HEADER_LEN);
    (&mut file)
        .take(HEADER_LEN as u64)
        .read_to_end(&mut prefix)
        .map_err(read_err)?;
    // A file that shrank since `metadata` is refused by the length checks.
    let header = check_header(&prefix, file_len.max(prefix.len() as u64))?;
    Ok((file, prefix, header, file_len))
}

/// Reads a snapshot file whole, after checking its header against its size.
fn read_verified(path: &Path) -> Result<Vec<u8>, SnapshotError> {
    let (file, prefix, _, file_len) = open_checked(path)?;
    // Grown as bytes arrive, never sized from the (apparent) file size: a
    // sparse file's size is no promise. One byte more than the header
    // declares notices a file that grew meanwhile.
    let mut bytes = prefix;
    file.take(file_len - HEADER_LEN as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| SnapshotError::io(path, "cannot read", e))?;
    Ok(bytes)
}

/// Checks a body's section table against its length, reading only the
/// eight-byte lengths at their offsets: the same messages as
/// [`split_sections`], without reading (or allocating for) the sections.
fn check_section_table(
    file: &std::fs::File,
    path: &Path,
    header: &Header,
) -> Result<(), SnapshotError> {
    let mut at = 0u64;
    for i in 0..section_count(header.version) {
        let left = header.body_len - at;
        if left < 8 {
            return Err(SnapshotError::Decode(format!(
                "section {i} is missing: {left} bytes left where an 8-byte length belongs"
            )));
        }
        let mut len = [0u8; 8];
        read_at(file, path, &mut len, HEADER_LEN as u64 + at)?;
        let len = u64::from_le_bytes(len);
        if len > left - 8 {
            return Err(SnapshotError::Decode(format!(
                "section {i} claims {len} bytes but only {} remain",
                left - 8
            )));
        }
        at += 8 + len;
    }
    if at < header.body_len {
        return Err(SnapshotError::Decode(format!(
            "{} bytes left over after the last section",
            header.body_len - at
        )));
    }
    Ok(())
}

/// Fills `dst` from `file` at `offset`, not moving the file's position.
fn read_at(
    file: &std::fs::File,
    path: &Path,
    dst: &mut [u8],
    offset: u64,
) -> Result<(), SnapshotError> {
    let read_err = |e: io::Error| match e.kind() {
        io::ErrorKind::UnexpectedEof => SnapshotError::Truncated(
            "the file ended early while being read (it shrank after its size was checked)".into(),
        ),
        _ => SnapshotError::io(path, "cannot read", e),
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileExt;
        file.read_exact_at(dst, offset).map_err(read_err)
    }
    #[cfg(not(unix))]
    {
        use std::io::{Seek, SeekFrom};
        let mut f = file.try_clone().map_err(read_err)?;
        let back = f.stream_position().map_err(read_err)?;
        f.seek(SeekFrom::Start(offset)).map_err(read_err)?;
        let r = f.read_exact(dst).map_err(read_err);
        f.seek(SeekFrom::Start(back)).map_err(read_err)?;
        r
    }
}

/// Hashes the body of `file` (positioned after the header) in chunks and
/// compares it with the header, keeping the first `keep` bytes: constant
/// memory whatever the body's size.
fn hash_body(
    file: &mut std::fs::File,
    path: &Path,
    header: &Header,
    keep: u64,
) -> Result<Vec<u8>, SnapshotError> {
    let mut hasher = blake3::Hasher::new();
    let mut kept = Vec::new();
    let mut buf = Vec::with_capacity(CHUNK_BYTES);
    let mut left = header.body_len;
    while left > 0 {
        let n = (CHUNK_BYTES as u64).min(left) as usize;
        buf.clear();
        read_exactly(file, path, &mut buf, n)?;
        hasher.update_rayon(&buf);
        let read = header.body_len - left;
        if read < keep {
            let take = ((keep - read) as usize).min(n);
            kept.extend_from_slice(&buf[..take]);
        }
        left -= n as u64;
    }
    check_checksum_of(header, hasher.finalize())?;
    Ok(kept)
}

/// Loads and verifies a snapshot file. A format-3 file is streamed (see
/// the module documentation); older ones are read whole and decoded.
pub fn load(path: &Path) -> Result<Snapshot, SnapshotError> {
    let (mut file, _, header, _) = open_checked(path)?;
    if header.body_len > HASH_FIRST_BYTES {
        check_section_table(&file, path, &header)?;
    }
    if header.version < 3 {
        if header.body_len > HASH_FIRST_BYTES {
            // Verified before it is held: a damaged body never is.
            hash_body(&mut file, path, &header, 0)?;
        }
        return decode(&read_verified(path)?);
    }
    let mut reader = BodyReader {
        source: BodySource::File { file, path },
        left: header.body_len,
        hasher: Some(blake3::Hasher::new()),
        buf: Vec::with_capacity(CHUNK_BYTES),
    };
    let streamed = match stream_v3(&mut reader) {
        // Too much left to hash before saying so: the structure is broken,
        // whatever the checksum would say.
        Err(e) if reader.left > HASH_FIRST_BYTES => return Err(e),
        streamed => streamed,
    };
    if streamed.is_err() {
        // A damaged body is reported as damaged, as when the checksum came
        // first: hash what is left, then compare.
        while reader.left > 0 {
            let n = CHUNK_BYTES.min(reader.left as usize);
            if reader.take(n).is_err() {
                break;
            }
        }
    }
    if let (0, Some(hasher)) = (reader.left, &reader.hasher) {
        check_checksum_of(&header, hasher.finalize())?;
    }
    let streamed = match streamed {
        Ok(streamed) => streamed,
        // The body matches its checksum but does not decode: the file is
        // read whole and decoded in memory (the rare path), so the message
        // is the one `decode` gives, whatever the damage.
        Err(e) => {
            return match decode(&read_verified(path)?) {
                Err(canonical) => Err(canonical),
                Ok(_) => Err(e),
            };
        }
    };
    // A file that grew while being read holds bytes past the body.
    if let BodySource::File { mut file, .. } = reader.source {
        let read_err = |e| SnapshotError::io(path, "cannot read", e);
        if file.read(&mut [0u8; 1]).map_err(read_err)? > 0 {
            let len = file.metadata().map_err(read_err)?.len();
            return Err(SnapshotError::TrailingBytes {
                extra: len
                    .saturating_sub(HEADER_LEN as u64 + header.body_len)
                    .max(1),
                body: header.body_len,
            });
        }
    }
    finish_v3(streamed)
}

/// Loads only a snapshot's metadata. The body is still verified whole
/// (hashed in chunks, in constant memory); only section 0 is kept and
/// decoded.
pub fn load_metadata(path: &Path) -> Result<Metadata, SnapshotError> {
    let (mut file, _, header, _) = open_checked(path)?;
    if header.body_len > HASH_FIRST_BYTES {
        check_section_table(&file, path, &header)?;
    }
    let mut len = [0u8; 8];
    if header.body_len >= 8 {
        read_at(&file, path, &mut len, HEADER_LEN as u64)?;
    }
    let keep = u64::from_le_bytes(len)
        .saturating_add(8)
        .min(header.body_len);
    let kept = hash_body(&mut file, path, &header, keep)?;
    let Some((len, rest)) = kept.split_first_chunk::<8>() else {
        return Err(SnapshotError::Decode(format!(
            "section 0 is missing: {} bytes left where an 8-byte length belongs",
            kept.len()
        )));
    };
    let len = u64::from_le_bytes(*len);
    if len > rest.len() as u64 {
        return Err(SnapshotError::Decode(format!(
            "section 0 claims {len} bytes but only {} remain",
            header.body_len - 8
        )));
    }
    let meta: Metadata = decode_section(rest, 0)?;
    if meta.format_version != header.version {
        return Err(SnapshotError::Invalid(format!(
            "body says format version {} but the header says {}",
            meta.format_version, header.version
        )));
    }
    Ok(meta)
}

/// Loads and verifies a snapshot from a reader (e.g. stdin): the header is
/// checked before the body is read, and the body is held in memory as it
/// arrives (never sized from the header), then decoded as [`decode`] does.
pub fn load_reader(mut reader: impl Read, path: &Path) -> Result<Snapshot, SnapshotError> {
    let read_err = |e| SnapshotError::io(path, "cannot read", e);
    let mut bytes = Vec::with_capacity(HEADER_LEN);
    (&mut reader)
        .take(HEADER_LEN as u64)
        .read_to_end(&mut bytes)
        .map_err(read_err)?;
    let declared = if bytes.len() == HEADER_LEN {
        u64::from_le_bytes(bytes[12..20].try_into().expect("8 bytes"))
    } else {
        0
    };
    // As if the stream held exactly what the header declares: the version,
    // the magic and the length bound are checked before reading on.
    check_header(&bytes, (bytes.len() as u64).saturating_add(declared))?;
    reader
        .take(declared + 1)
        .read_to_end(&mut bytes)
        .map_err(read_err)?;
    decode(&bytes)
}

/// Refuses a model whose indices point nowhere, so nothing downstream can
/// index out of bounds. Entities and edges are checked one by one when
/// `records` is set; a format-3 load checks them while decoding instead.
fn validate(model: &Model, records: bool) -> Result<(), SnapshotError> {
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

impl fmt::Display for Metadata {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "format version: {}", self.format_version)?;
        writeln!(f, "whocan version: {}", self.whocan_version)?;
        writeln!(
            f,
            "created: {}",
            crate::import::format_timestamp(self.created)
        )?;
        writeln!(
            f,
            "entities: {}, edges: {}, conflicts: {}",
            self.entities, self.edges, self.conflicts
        )?;
        for s in &self.sources {
            writeln!(
                f,
                "source {} ({:?}): {} bytes, blake3 {}, {} rows read, {} accepted, {} rejected",
                s.path.display(),
                s.source,
                s.bytes,
                s.blake3,
                s.rows_read,
                s.rows_accepted,
                s.rows_rejected
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Snapshot {
        let csv = "Entity Name,Entity Type,Entity Source Type,Entity Source ID,Entity - Has Access To Name,Entity - Has Access To Source ID,Entity - Has Access To Entity Type,Entity - Has Access To Source Type\n\
                   alice,identity,user,u1,Eng,g1,connection,group\n\
                   Eng,connection,group,g1,db,r1,resource,database\n";
        let mut importer = crate::import::Importer::new();
        importer
            .import_reader(
                Path::new("app.csv"),
                csv.as_bytes(),
                &crate::import::FileOptions::default(),
            )
            .unwrap();
        let (model, report) = importer.finish();
        Snapshot::new(model, report, 1_700_000_000)
    }

    #[test]
    fn header_is_magic_version_length_checksum() {
        let bytes = encode(&sample()).unwrap();
        assert_eq!(&bytes[..8], b"WHOCAN\0S");
        assert_eq!(
            u32::from_le_bytes(bytes[8..12].try_into().unwrap()),
            FORMAT_VERSION
        );
        let len = u64::from_le_bytes(bytes[12..20].try_into().unwrap());
        assert_eq!(len as usize, bytes.len() - HEADER_LEN);
        assert_eq!(&bytes[20..52], blake3::hash(&bytes[52..]).as_bytes());
    }

    #[test]
    fn snapshot_round_trips_model_and_report() {
        let snap = sample();
        let back = decode(&encode(&snap).unwrap()).unwrap();
        assert_eq!(back.metadata, snap.metadata);
        assert_eq!(back.report, snap.report);
        assert_eq!(back.model.entities, snap.model.entities);
        assert_eq!(back.model.edges, snap.model.edges);
        assert_eq!(
            back.model.strings.get("alice"),
            snap.model.strings.get("alice")
        );
        assert_eq!(back.metadata.sources[0].rows_read, 2);
    }

    #[test]
    fn length_field_of_2_pow_60_is_refused_before_allocating() {
        let mut bytes = encode(&sample()).unwrap();
        bytes[12..20].copy_from_slice(&(1u64 << 60).to_le_bytes());
        let err = decode(&bytes).unwrap_err();
        assert!(matches!(err, SnapshotError::TooLarge(_)), "{err}");
    }

    #[test]
    fn short_prefix_of_magic_counts_as_snapshot() {
        assert!(looks_like_snapshot(b"WHO"));
        assert!(looks_like_snapshot(b"WHOCAN\0S rest"));
        assert!(!looks_like_snapshot(b"Project,Entity Name"));
        assert!(!looks_like_snapshot(b""));
    }
}
