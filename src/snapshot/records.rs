//! The fixed-width records of a format-3 body: the 66-byte entity and
//! 25-byte edge codecs, and the string table as stored (LEB128 lengths,
//! then the concatenated text). The layout is in [`super`]'s documentation.

use crate::model::{Attributes, Edge, Entity, Interner, Kind, Provenance, Sym};

use super::SnapshotError;

/// Bytes of one entity in a format-3 body.
pub(super) const ENTITY_BYTES: usize = 66;

/// Bytes of one edge in a format-3 body.
pub(super) const EDGE_BYTES: usize = 25;

#[inline]
pub(super) fn le32(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"))
}

#[inline]
pub(super) fn le64(bytes: &[u8], at: usize) -> i64 {
    i64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"))
}

pub(super) fn put_leb128(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push(value as u8 | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// One LEB128 number and the bytes after it; `None` when the bytes end
/// first or it runs past ten bytes.
#[inline]
pub(super) fn get_leb128(bytes: &[u8]) -> Option<(u64, &[u8])> {
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
pub(super) fn put_entity(out: &mut Vec<u8>, e: &Entity) {
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
pub(super) fn get_entity(r: &[u8; ENTITY_BYTES]) -> (Entity, u32, bool) {
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
pub(super) fn put_edge(out: &mut Vec<u8>, e: &Edge) {
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
pub(super) fn get_edge(r: &[u8; EDGE_BYTES]) -> (Edge, bool) {
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

/// The string count at the start of section 2.
pub(super) fn string_count(lengths: &[u8]) -> Result<u64, SnapshotError> {
    match lengths.first_chunk::<8>() {
        Some(count) => Ok(u64::from_le_bytes(*count)),
        None => Err(SnapshotError::Decode(format!(
            "section 2: {} bytes, too short for the string count",
            lengths.len()
        ))),
    }
}

/// Each string's end offset, from section 2: the count, then each length.
pub(super) fn decode_ends(bytes: &[u8]) -> Result<Vec<u64>, SnapshotError> {
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
pub(super) fn decode_strings(
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
