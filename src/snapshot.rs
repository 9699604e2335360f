//! Snapshots: the imported [`Model`] and its [`ImportReport`] saved to one
//! verifiable file, and loaded back much faster than re-importing the CSVs.
//!
//! # File layout (format version 2)
//!
//! ```text
//! offset  size  field
//!      0     8  magic           b"WHOCAN\0S"
//!      8     4  format version  u32, little-endian
//!     12     8  body length     u64, little-endian
//!     20    32  body checksum   blake3 of the body
//!     52     …  body            five sections, each a u64 little-endian
//!                               length followed by that many bytes of
//!                               bincode 2 (standard config, serde):
//!                               0 Metadata
//!                               1 the string table (model.strings)
//!                               2 sources, entities, edges, conflicts
//!                               3 ImportReport (rejected rows included)
//!                               4 HRIS employees, typed properties and
//!                                 the identity-to-employee people map
//! ```
//!
//! Version 1 (whocan before HRIS employees and properties were kept) has the
//! first four sections only; it is still read, with no employees and no
//! properties. Any other version is refused.
//!
//! The sections are separate so they decode in parallel. The string table's
//! lookup index is not stored and not rebuilt on load: it is built on the
//! first lookup by text (a query), so reports from a snapshot never pay for
//! it. `snapshot info` decodes section 0 only.
//!
//! Loading refuses a file, with a [`SnapshotError`] naming the problem, when
//! the magic is wrong (a foreign file), the version is not one this build
//! reads, the body length disagrees with the file size (checked before
//! anything is allocated), the checksum does not match (checked before
//! decoding), or the body does not decode into a consistent model. Decoding
//! runs with a bincode byte limit as a second guard, so even a crafted body
//! with a valid checksum cannot make a length field allocate more than a small
//! multiple of the body's real size. Nothing in here panics on bad input.
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

use serde::{Deserialize, Serialize};

use crate::import::ImportReport;
use crate::model::{
    Attributes, Conflict, Edge, Employee, Entity, Interner, Model, PeopleMap, Property, Provenance,
    SourceFile, Sym, Value,
};

/// The eight bytes every snapshot starts with.
pub const MAGIC: [u8; 8] = *b"WHOCAN\0S";

/// The format version this build writes.
pub const FORMAT_VERSION: u32 = 2;

/// The oldest format version this build reads.
pub const OLDEST_READABLE_VERSION: u32 = 1;

/// Header size: magic, version, body length, checksum.
pub const HEADER_LEN: usize = 8 + 4 + 8 + 32;

/// Largest body accepted (1 TiB): a bound on the header's length field that
/// holds whatever the file system says.
pub const MAX_BODY_BYTES: u64 = 1 << 40;

/// A snapshot that cannot be written or loaded.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
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

/// Section 2 as written: the model without its string table, borrowed.
#[derive(Serialize)]
struct RecordsRef<'a> {
    sources: &'a [SourceFile],
    entities: &'a [Entity],
    edges: &'a [Edge],
    conflicts: &'a [Conflict],
}

/// Section 2 as read. Field order must match [`RecordsRef`].
#[derive(Deserialize)]
struct Records {
    sources: Vec<SourceFile>,
    entities: Vec<Entity>,
    edges: Vec<Edge>,
    conflicts: Vec<Conflict>,
}

/// Number of sections in a body of the current format.
const SECTIONS: usize = 5;

/// Number of sections in a format-1 body: no section 4.
const SECTIONS_V1: usize = 4;

/// Section 4 as written: HRIS employees, typed properties, people map.
#[derive(Serialize)]
struct PeopleRef<'a> {
    employees: &'a [Employee],
    properties: &'a [Property],
    people_map: &'a PeopleMap,
}

/// Section 4 as read. Field order must match [`PeopleRef`].
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

fn encode_section<T: Serialize>(value: T, body: &mut Vec<u8>) -> Result<(), SnapshotError> {
    let bytes = bincode::serde::encode_to_vec(value, bincode::config::standard())
        .map_err(|e| SnapshotError::Encode(e.to_string()))?;
    body.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
    body.extend_from_slice(&bytes);
    Ok(())
}

/// Encodes a snapshot: header followed by body.
pub fn encode(snapshot: &Snapshot) -> Result<Vec<u8>, SnapshotError> {
    let model = &snapshot.model;
    let mut body = Vec::new();
    encode_section(&snapshot.metadata, &mut body)?;
    encode_section(&model.strings, &mut body)?;
    encode_section(
        RecordsRef {
            sources: &model.sources,
            entities: &model.entities,
            edges: &model.edges,
            conflicts: &model.conflicts,
        },
        &mut body,
    )?;
    encode_section(&snapshot.report, &mut body)?;
    encode_section(
        PeopleRef {
            employees: &model.employees,
            properties: &model.properties,
            people_map: &model.people_map,
        },
        &mut body,
    )?;
    let header = Header {
        version: FORMAT_VERSION,
        body_len: body.len() as u64,
        checksum: *blake3::hash(&body).as_bytes(),
    };
    let mut out = Vec::with_capacity(HEADER_LEN + body.len());
    out.extend_from_slice(&header.to_bytes());
    out.extend_from_slice(&body);
    Ok(out)
}

/// Writes a snapshot to `path` atomically: a temporary file in the same
/// directory is written, synced and renamed over `path`. Returns the file
/// size.
pub fn save(path: &Path, snapshot: &Snapshot) -> Result<u64, SnapshotError> {
    let bytes = encode(snapshot)?;
    let write_err = |e| SnapshotError::io(path, "cannot write", e);
    let mut tmp = crate::atomic::temp_beside(path).map_err(write_err)?;
    tmp.write_all(&bytes).map_err(write_err)?;
    crate::atomic::commit(tmp, path).map_err(write_err)?;
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
    let actual = blake3::Hasher::new().update_rayon(body).finalize();
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
    decode_body(header.version, body)
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
/// A version-1 body has no section 4: it comes back empty.
fn split_sections(version: u32, body: &[u8]) -> Result<[&[u8]; SECTIONS], SnapshotError> {
    let count = if version == 1 { SECTIONS_V1 } else { SECTIONS };
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

fn decode_body(version: u32, body: &[u8]) -> Result<Snapshot, SnapshotError> {
    let [meta, strings, records, report, people] = split_sections(version, body)?;
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
    let model = Model {
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
    validate(&model)?;
    Ok(Snapshot {
        metadata,
        model,
        report,
    })
}

/// Reads a snapshot file whole, after checking its header against its size.
fn read_verified(path: &Path) -> Result<Vec<u8>, SnapshotError> {
    let read_err = |e| SnapshotError::io(path, "cannot read", e);
    let mut file = std::fs::File::open(path).map_err(read_err)?;
    let file_len = file.metadata().map_err(read_err)?.len();
    let mut prefix = Vec::with_capacity(HEADER_LEN);
    (&mut file)
        .take(HEADER_LEN as u64)
        .read_to_end(&mut prefix)
        .map_err(read_err)?;
    // A file that shrank since `metadata` is refused by the length checks.
    check_header(&prefix, file_len.max(prefix.len() as u64))?;
    // The header's length now equals the file's real size, which bounds the
    // allocation; read one byte more to notice a file that grew meanwhile.
    let mut bytes = Vec::with_capacity(file_len as usize + 1);
    bytes.extend_from_slice(&prefix);
    file.take(file_len - HEADER_LEN as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(read_err)?;
    Ok(bytes)
}

/// Loads and verifies a snapshot file.
pub fn load(path: &Path) -> Result<Snapshot, SnapshotError> {
    decode(&read_verified(path)?)
}

/// Loads only a snapshot's metadata (the file is still verified whole).
pub fn load_metadata(path: &Path) -> Result<Metadata, SnapshotError> {
    decode_metadata(&read_verified(path)?)
}

/// Refuses a model whose indices point nowhere, so nothing downstream can
/// index out of bounds.
fn validate(model: &Model) -> Result<(), SnapshotError> {
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
    let attrs_ok = |a: &Attributes| {
        [
            a.project,
            a.username,
            a.email,
            a.status,
            a.first_name,
            a.last_name,
        ]
        .into_iter()
        .all(sym_ok)
    };
    for (i, e) in model.entities.iter().enumerate() {
        let syms = [e.source, e.id, e.name, e.source_type];
        if !syms.into_iter().all(sym_ok) || !e.attributes.as_ref().is_none_or(attrs_ok) {
            return bad(format!("entity {i} names an unknown string"));
        }
        if !at_ok(e.origin) {
            return bad(format!("entity {i} comes from an unknown file"));
        }
    }
    for (i, e) in model.edges.iter().enumerate() {
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
        assert_eq!(u32::from_le_bytes(bytes[8..12].try_into().unwrap()), 2);
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
