//! The chunked, parallel decode of a format-3 body: read (from memory or
//! a file) a few MiB at a time, hashed as it arrives, its fixed records
//! decoded in parallel straight into the model's vectors; the bincode
//! sections are kept encoded until the checksum is known to match.

use std::io::{self, Read};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use rayon::prelude::*;

use crate::import::ImportReport;
use crate::model::{Edge, Entity, InputRecord, Interner, Model};

use super::header::{
    HASH_FIRST_BYTES, HEADER_LEN, Header, check_checksum_of, check_header, decode_section,
};
use super::invariants::validate;
use super::records::{
    EDGE_BYTES, ENTITY_BYTES, decode_ends, decode_strings, get_edge, get_entity, le32, string_count,
};
use super::{People, Snapshot, SnapshotError, Sources, decode};

/// Bytes read, hashed and decoded at a time when a format-3 file is
/// streamed: small enough to stay in cache from the read to the decode,
/// large enough for a parallel decode to split well.
pub(super) const CHUNK_BYTES: usize = 4 << 20;

/// A format-3 body being decoded: in memory (its checksum already
/// verified) or streamed from a file and hashed as it is read.
pub(super) struct BodyReader<'a> {
    source: BodySource<'a>,
    /// Body bytes not read yet.
    left: u64,
    /// The hash of the body read so far, when it is verified as it streams.
    hasher: Option<blake3::Hasher>,
    /// The last chunk read from a file, reused for the next.
    buf: Vec<u8>,
}

/// Where a [`BodyReader`]'s bytes come from.
pub(super) enum BodySource<'a> {
    /// The rest of a body in memory.
    Memory(&'a [u8]),
    /// A file positioned at the rest of the body.
    File { file: std::fs::File, path: &'a Path },
}

/// Appends exactly `n` bytes of `file` to `buf`; a file that ends first has
/// shrunk since its size was checked.
pub(super) fn read_exactly(
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

/// A failed read of `path`: an early end means the file shrank after its
/// size was checked.
fn read_error(path: &Path, e: io::Error) -> SnapshotError {
    match e.kind() {
        io::ErrorKind::UnexpectedEof => SnapshotError::Truncated(
            "the file ended early while being read (it shrank after its size was checked)".into(),
        ),
        _ => SnapshotError::io(path, "cannot read", e),
    }
}

/// Fills `dst` from the file's position on, two halves at once where the
/// platform reads at an offset, and moves the position past them.
pub(super) fn read_halves(
    file: &mut std::fs::File,
    path: &Path,
    dst: &mut [u8],
) -> Result<(), SnapshotError> {
    let read_err = |e| read_error(path, e);
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
pub(super) struct StreamedV3 {
    meta: Vec<u8>,
    sources: Vec<u8>,
    strings: Interner,
    entities: Vec<Entity>,
    edges: Vec<Edge>,
    report: Vec<u8>,
    people: Vec<u8>,
    checks: RecordChecks,
}

/// Reads a format-3 body section by section, decoding the fixed records
/// chunk by chunk as they arrive (in parallel within a chunk) straight into
/// the model's vectors.
pub(super) fn stream_v3(r: &mut BodyReader<'_>) -> Result<StreamedV3, SnapshotError> {
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
pub(super) struct RecordChecks {
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
pub(super) fn stream_records(
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
pub(super) struct Streamed<T> {
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
pub(super) fn stream_section<T: Send, const N: usize>(
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

/// Decodes what [`stream_v3`] left encoded, once the checksum is known to
/// match, and checks the model.
pub(super) fn finish_v3(s: StreamedV3, version: u32) -> Result<Snapshot, SnapshotError> {
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
        super::decode_metadata_section(&meta, version),
        decode_section::<Sources>(&sources, 1),
        decode_section::<ImportReport>(&report, 6),
        decode_section::<People>(&people, 7),
    );
    let metadata = metadata?;
    if metadata.format_version != version {
        return Err(SnapshotError::Invalid(format!(
            "body says format version {} but the header says {version}",
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
        inputs: (metadata.recorded.as_ref()).map_or_else(InputRecord::default, |r| r.inputs()),
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
pub(super) fn open_checked(
    path: &Path,
) -> Result<(std::fs::File, Vec<u8>, Header, u64), SnapshotError> {
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
pub(super) fn read_verified(path: &Path) -> Result<Vec<u8>, SnapshotError> {
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

/// Fills `dst` from `file` at `offset`, not moving the file's position.
pub(super) fn read_at(
    file: &std::fs::File,
    path: &Path,
    dst: &mut [u8],
    offset: u64,
) -> Result<(), SnapshotError> {
    let read_err = |e| read_error(path, e);
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
pub(super) fn hash_body(
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

/// Decodes a format-3 body held in memory, its checksum already verified.
pub(super) fn decode_in_memory(body: &[u8], version: u32) -> Result<Snapshot, SnapshotError> {
    // Verified whole: nothing to hash while decoding.
    let mut reader = BodyReader {
        source: BodySource::Memory(body),
        left: body.len() as u64,
        hasher: None,
        buf: Vec::new(),
    };
    finish_v3(stream_v3(&mut reader)?, version)
}

/// Streams a format-3 body from `file`, positioned after its checked
/// header: hashed as it is read, decoded chunk by chunk (see the module
/// documentation of [`super`]).
pub(super) fn load_streamed(
    file: std::fs::File,
    path: &Path,
    header: &Header,
) -> Result<Snapshot, SnapshotError> {
    let header = *header;
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
    finish_v3(streamed, header.version)
}
