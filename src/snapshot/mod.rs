//! Snapshots: the imported [`Model`] and its [`ImportReport`] saved to one
//! verifiable file, and loaded back much faster than re-importing the CSVs.
//!
//! # File layout (format version 4)
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
//! Format 4 is format 3 with more in section 0: the [`Recorded`] inputs
//! besides the data files — each mapping file (path, size, blake3, its text
//! and the data files read with it), each people map (path, size, blake3,
//! row counts) and the options that changed the result — so a snapshot
//! proves how its data was read, and `snapshot verify --sources` checks
//! every file it was made from. Format-3 metadata decodes with
//! `recorded: None` ("not recorded").
//!
//! Format 3 exists for load speed: the records and strings, nearly all of
//! the body, are read by a few loads and stores per field, in parallel,
//! straight into the model's vectors, instead of field by field through
//! serde; the text is checked as UTF-8 once, not per string.
//!
//! Versions 1 to 3 are still read. Their body is all bincode: version 2 has
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
//! The code is split by concern: `header` (magic, version, lengths,
//! checksum, section table, the bounded bincode codec), `records` (the
//! fixed-width entity and edge records, the string lengths and text),
//! `stream` (the chunked, parallel decode of a format-3 or -4 body),
//! `legacy` (formats 1 and 2, and format 3's metadata), `invariants` (the
//! checks a loaded model passes) and `verify` (files on disk compared with
//! the recorded ones);
//! this file holds the public types, encoding and the entry points.
//!
//! This module reads and writes files; it never prints and never reads the
//! clock: the creation time is a parameter (`cli` passes the current time,
//! tests a fixed one).

mod header;
mod invariants;
mod legacy;
mod records;
mod stream;
mod verify;

use std::fmt;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::import::ImportReport;
use crate::model::{
    Conflict, Employee, FileDigest, InputRecord, LoadOptions, MappingFile, Model, PeopleMap,
    Property, SourceFile,
};

pub use header::{
    FORMAT_VERSION, HASH_FIRST_BYTES, HEADER_LEN, Header, MAGIC, MAX_BODY_BYTES,
    OLDEST_READABLE_VERSION, check_header, is_snapshot_file, looks_like_snapshot, verify,
};

use header::{
    bincode_section, check_body_version, check_section_table, decode_section, section,
    split_sections, verify_header,
};
use records::{EDGE_BYTES, ENTITY_BYTES, put_edge, put_entity, put_leb128};
use stream::{hash_body, open_checked, read_at, read_verified};
pub use verify::{FileCheck, RecordedFile, RecordedKind, Verification, verify_files};

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
    pub(super) fn io(path: &Path, action: &'static str, source: io::Error) -> SnapshotError {
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
    /// The mapping files, people maps and options the data was read with;
    /// `None` in snapshots before format 4, which did not record them.
    pub recorded: Option<Recorded>,
}

/// A people-map file as recorded: the file, and what was read from it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeopleMapRecord {
    /// Path, size and digest.
    pub file: FileDigest,
    /// Data rows read.
    pub rows_read: u64,
    /// Rows accepted.
    pub rows_accepted: u64,
    /// Rows rejected.
    pub rows_rejected: u64,
}

/// What a snapshot (format 4 on) records besides its data files: enough to
/// prove how the data was read.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recorded {
    /// Mapping files, with their text and the data files read with them.
    pub mappings: Vec<MappingFile>,
    /// People-map files, with their row counts.
    pub people_maps: Vec<PeopleMapRecord>,
    /// The options that changed the result.
    pub options: LoadOptions,
}

impl Recorded {
    /// What `model` records of its inputs.
    fn of(model: &Model) -> Recorded {
        let counts = |i: usize| model.people_map.files.get(i);
        Recorded {
            mappings: model.inputs.mappings.clone(),
            people_maps: (model.inputs.people_maps.iter().enumerate())
                .map(|(i, file)| PeopleMapRecord {
                    file: file.clone(),
                    rows_read: counts(i).map_or(0, |f| f.rows_read),
                    rows_accepted: counts(i).map_or(0, |f| f.rows_accepted),
                    rows_rejected: counts(i).map_or(0, |f| f.rows_rejected),
                })
                .collect(),
            options: model.inputs.options.clone(),
        }
    }

    /// The model's record of its inputs, as loaded back.
    pub(super) fn inputs(&self) -> InputRecord {
        InputRecord {
            mappings: self.mappings.clone(),
            people_maps: self.people_maps.iter().map(|p| p.file.clone()).collect(),
            options: self.options.clone(),
        }
    }
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
            recorded: Some(Recorded::of(&model)),
        };
        Snapshot {
            metadata,
            model,
            report,
        }
    }
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
pub(super) struct Sources {
    pub(super) sources: Vec<SourceFile>,
    pub(super) conflicts: Vec<Conflict>,
}

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
pub(super) struct People {
    pub(super) employees: Vec<Employee>,
    pub(super) properties: Vec<Property>,
    pub(super) people_map: PeopleMap,
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

/// Decodes a snapshot held in memory, verifying everything.
pub fn decode(bytes: &[u8]) -> Result<Snapshot, SnapshotError> {
    let (header, body) = verify_header(bytes)?;
    check_body_version(header.version, body)?;
    if header.version < 3 {
        return legacy::decode_body(header.version, body);
    }
    stream::decode_in_memory(body, header.version)
}

/// Decodes section 0 of a body of `version`: the metadata, as each version
/// wrote it.
pub(super) fn decode_metadata_section(
    bytes: &[u8],
    version: u32,
) -> Result<Metadata, SnapshotError> {
    match version {
        ..=3 => decode_section::<legacy::MetadataV3>(bytes, 0).map(Metadata::from),
        _ => decode_section(bytes, 0),
    }
}

/// Decodes only the metadata of a snapshot held in memory (after verifying
/// header and checksum); cheaper than [`decode`] for `snapshot info`.
pub fn decode_metadata(bytes: &[u8]) -> Result<Metadata, SnapshotError> {
    let (header, body) = verify_header(bytes)?;
    let sections = split_sections(header.version, body)?;
    decode_metadata_section(sections[0], header.version)
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
    stream::load_streamed(file, path, &header)
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
    let meta = decode_metadata_section(rest, header.version)?;
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
        let Some(recorded) = &self.recorded else {
            return writeln!(
                f,
                "mapping files, people maps, options: not recorded (format {} records data files only)",
                self.format_version
            );
        };
        for m in &recorded.mappings {
            let data: Vec<String> = m.data.iter().map(|p| p.display().to_string()).collect();
            writeln!(
                f,
                "mapping {}: {} bytes, blake3 {}, read with {}",
                m.file.path.display(),
                m.file.bytes,
                m.file.blake3,
                data.join(", ")
            )?;
            // `{:#}` (`snapshot info --mappings`) prints the text too.
            if f.alternate() {
                for line in m.text.lines() {
                    writeln!(f, "    {line}")?;
                }
            }
        }
        for p in &recorded.people_maps {
            writeln!(
                f,
                "people map {}: {} bytes, blake3 {}, {} rows read, {} accepted, {} rejected",
                p.file.path.display(),
                p.file.bytes,
                p.file.blake3,
                p.rows_read,
                p.rows_accepted,
                p.rows_rejected
            )?;
        }
        let o = &recorded.options;
        let mut given = Vec::new();
        if let Some(source) = &o.source {
            given.push(format!("--source {source}"));
        }
        if let Some(mapping) = &o.mapping {
            given.push(format!("--mapping {}", mapping.display()));
        }
        if o.no_auto_map {
            given.push("--no-auto-map".into());
        }
        match given.is_empty() {
            true => writeln!(f, "options: none that change the result"),
            false => writeln!(f, "options: {}", given.join(" ")),
        }
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
