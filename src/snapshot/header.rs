//! The snapshot header and the body's section framing: the magic, the
//! format version, the body length and its blake3 checksum, checked against
//! the file before anything is allocated; the section table (each section a
//! u64 length and its bytes); and the bounded bincode codec of the bincode
//! sections.

use std::io::{self, Read};
use std::path::Path;

use serde::Serialize;

use super::SnapshotError;
use super::stream::read_at;

/// The eight bytes every snapshot starts with.
pub const MAGIC: [u8; 8] = *b"WHOCAN\0S";

/// The format version this build writes.
pub const FORMAT_VERSION: u32 = 4;

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

/// Most sections in a body (format 3).
pub(super) const SECTIONS: usize = 8;

/// Number of sections in a body of `version`.
pub(super) fn section_count(version: u32) -> usize {
    match version {
        1 => 4,
        2 => 5,
        _ => SECTIONS,
    }
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
pub(super) fn section(
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
pub(super) fn bincode_section<T: Serialize>(
    body: &mut Vec<u8>,
    value: T,
) -> Result<(), SnapshotError> {
    section(body, |out| {
        bincode::serde::encode_into_std_write(value, out, bincode::config::standard())
            .map(|_| ())
            .map_err(|e| SnapshotError::Encode(e.to_string()))
    })
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
pub(super) fn describe_foreign(prefix: &[u8]) -> String {
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
pub(super) fn verify_header(bytes: &[u8]) -> Result<(Header, &[u8]), SnapshotError> {
    let header = check_header(&bytes[..bytes.len().min(HEADER_LEN)], bytes.len() as u64)?;
    let body = &bytes[HEADER_LEN..];
    check_checksum(&header, body)?;
    Ok((header, body))
}

pub(super) fn check_checksum(header: &Header, body: &[u8]) -> Result<(), SnapshotError> {
    // Hashed on every core: the checksum is on the load's critical path.
    check_checksum_of(header, blake3::Hasher::new().update_rayon(body).finalize())
}

/// Compares a body's digest with the header's.
pub(super) fn check_checksum_of(
    header: &Header,
    actual: blake3::Hash,
) -> Result<(), SnapshotError> {
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

/// Section 0, the metadata, comes first in every version and names the
/// format version too. The checksum covers the body, not the header, so a
/// header whose version was damaged into another readable one is caught
/// here with a message that says so, not by whatever the other version's
/// decoder makes of the body.
pub(super) fn check_body_version(version: u32, body: &[u8]) -> Result<(), SnapshotError> {
    let Some((len, rest)) = body.split_first_chunk::<8>() else {
        return Ok(());
    };
    let len = u64::from_le_bytes(*len);
    if len > rest.len() as u64 {
        return Ok(());
    }
    // The version is section 0's first field in every format.
    let first = bincode::serde::decode_from_slice::<u32, _>(
        &rest[..len as usize],
        bincode::config::standard(),
    );
    match first {
        Ok((found, _)) if found != version => Err(SnapshotError::Invalid(format!(
            "body says format version {found} but the header says {version}"
        ))),
        // Other problems are the decoder's to report.
        _ => Ok(()),
    }
}

/// How many bytes of in-memory data bincode may claim per encoded byte.
/// bincode claims each decoded value's in-memory size against its limit:
/// a one-byte varint decoding to a `u64` or `usize` claims 8, each string
/// byte claims 1; nothing in a snapshot claims more than 8 per byte, plus the
/// string bytes themselves.
pub(super) const CLAIM_PER_BYTE: u64 = 9;

/// Runs bincode with a byte limit a bounded multiple of the section's
/// length: every length field claims its bytes against the limit before
/// anything is allocated, so a crafted length is refused, not allocated. The
/// limit is a const generic in bincode, so a few tiers (each 8× the last)
/// cover every size; the limit is at most 8 × [`CLAIM_PER_BYTE`] times the
/// section's real size.
pub(super) fn decode_limited<T: serde::de::DeserializeOwned>(
    body: &[u8],
) -> Result<(T, usize), String> {
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
pub(super) fn split_sections(
    version: u32,
    body: &[u8],
) -> Result<[&[u8]; SECTIONS], SnapshotError> {
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
pub(super) fn decode_section<T: serde::de::DeserializeOwned>(
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

/// Checks a body's section table against its length, reading only the
/// eight-byte lengths at their offsets: the same messages as
/// [`split_sections`], without reading (or allocating for) the sections.
pub(super) fn check_section_table(
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
