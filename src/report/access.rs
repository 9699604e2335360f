//! The effective-access report: the contract other tools depend on.
//!
//! One row per distinct (identity, target, permission, provider), columns
//! [`COLUMNS`], sorted bytewise by identity id, target id, permission and
//! provider id (ties by source), byte-identical across runs. CSV rows are
//! assembled from per-entity fragments rendered once, so the cost per row is
//! a few copies.

use std::io::{self, Write};
use std::sync::Mutex;

use rayon::prelude::*;
use serde::Serialize;

use super::{Cell, Format, RowWriter, csv_cell, csv_row};
use crate::expand::{Expansion, Grant, StreamProgress};
use crate::model::{EntityIdx, Kind, Model};

/// The report's columns, in order.
pub const COLUMNS: [&str; 9] = [
    "source",
    "identity_id",
    "identity_name",
    "target_id",
    "target_name",
    "target_type",
    "permission",
    "provider_id",
    "provider_name",
];

/// Writes the whole access report; returns the number of rows.
pub fn write(expansion: &Expansion, format: Format, out: &mut dyn Write) -> io::Result<u64> {
    write_with_progress(expansion, format, out, &mut |_| {})
}

/// [`write()`], telling `progress` after each batch how many identities and
/// rows are done. Every format streams (the table format in chunks, see
/// [`RowWriter`]).
pub fn write_with_progress(
    expansion: &Expansion,
    format: Format,
    out: &mut dyn Write,
    progress: &mut dyn FnMut(StreamProgress),
) -> io::Result<u64> {
    match format {
        Format::Csv => write_csv(expansion, out, progress),
        Format::Jsonl | Format::Json => write_json(expansion, format, out, progress),
        Format::Table => write_rows(
            expansion,
            RowWriter::new(&COLUMNS, Format::Table, out)?,
            progress,
        ),
    }
}

/// The access report as one Parquet table (columns [`COLUMNS`], typed as
/// [`super::parquet`] says), in the report's order, streamed in row groups;
/// returns the number of rows.
pub fn write_parquet_with_progress(
    expansion: &Expansion,
    out: &mut dyn Write,
    progress: &mut dyn FnMut(StreamProgress),
) -> io::Result<u64> {
    write_rows(expansion, RowWriter::parquet(&COLUMNS, out)?, progress)
}

/// Streams the report's rows, batch by batch as the expansion yields them,
/// into `table`.
fn write_rows(
    expansion: &Expansion,
    mut table: RowWriter<'_>,
    progress: &mut dyn FnMut(StreamProgress),
) -> io::Result<u64> {
    let m = expansion.model();
    expansion.stream_with_progress(
        |grants| grants.to_vec(),
        |grants| -> io::Result<()> {
            for g in grants {
                let row = Row::new(m, &g);
                table.row(&[
                    Cell::Str(row.source),
                    Cell::Str(row.identity_id),
                    Cell::Str(row.identity_name),
                    Cell::Str(row.target_id),
                    Cell::Str(row.target_name),
                    Cell::Str(row.target_type),
                    Cell::Str(row.permission),
                    row.provider_id.into(),
                    row.provider_name.into(),
                ])?;
            }
            Ok(())
        },
        progress,
    )?;
    table.finish()
}

/// One report row, borrowed from the model.
#[derive(Serialize)]
struct Row<'a> {
    source: &'a str,
    identity_id: &'a str,
    identity_name: &'a str,
    target_id: &'a str,
    target_name: &'a str,
    target_type: &'a str,
    permission: &'a str,
    provider_id: Option<&'a str>,
    provider_name: Option<&'a str>,
}

impl<'a> Row<'a> {
    fn new(m: &'a Model, g: &Grant) -> Row<'a> {
        let identity = m.entity(g.identity);
        let target = m.entity(g.target);
        let provider = g.provider.map(|p| m.entity(p));
        Row {
            source: m.str(identity.source),
            identity_id: m.str(identity.id),
            identity_name: m.str(identity.name),
            target_id: m.str(target.id),
            target_name: m.str(target.name),
            target_type: target.kind.as_str(),
            permission: m.str(g.permission),
            provider_id: provider.map(|p| m.str(p.id)),
            provider_name: provider.map(|p| m.str(p.name)),
        }
    }
}

/// Byte buffers handed from the consumer back to the renderers, so batches
/// reuse memory instead of faulting in fresh pages.
#[derive(Default)]
struct BufferPool(Mutex<Vec<Vec<u8>>>);

impl BufferPool {
    /// A returned buffer, or a new empty one.
    fn pop(&self) -> Vec<u8> {
        self.0
            .lock()
            .expect("buffer pool")
            .pop()
            .unwrap_or_default()
    }

    fn take(&self, capacity: usize) -> Vec<u8> {
        let mut buf = self.pop();
        buf.clear();
        buf.reserve(capacity);
        buf
    }

    /// A buffer of at least `len` bytes of unspecified content.
    fn take_full(&self, len: usize) -> Vec<u8> {
        let mut buf = self.pop();
        if buf.len() < len {
            buf.resize(len, 0);
        }
        buf
    }

    fn give(&self, buf: Vec<u8>) {
        self.0.lock().expect("buffer pool").push(buf);
    }
}

fn write_json(
    expansion: &Expansion,
    format: Format,
    out: &mut dyn Write,
    progress: &mut dyn FnMut(StreamProgress),
) -> io::Result<u64> {
    let m = expansion.model();
    let pool = BufferPool::default();
    let mut rows = 0u64;
    let array = format == Format::Json;
    if array {
        out.write_all(b"[")?;
    }
    // Array elements are written with a leading comma, dropped for the first
    // one, so batches can be rendered independently.
    let mut first = true;
    expansion.stream_with_progress(
        |grants| {
            let mut buf = pool.take(grants.len() * 200);
            for g in grants {
                if array {
                    buf.extend_from_slice(b",\n  ");
                }
                serde_json::to_writer(&mut buf, &Row::new(m, g)).expect("writing to a Vec");
                if !array {
                    buf.push(b'\n');
                }
            }
            (buf, grants.len() as u64)
        },
        |(buf, n)| -> io::Result<()> {
            rows += n;
            let skip = if array && first && !buf.is_empty() {
                first = false;
                1
            } else {
                0
            };
            out.write_all(&buf[skip..])?;
            pool.give(buf);
            Ok(())
        },
        progress,
    )?;
    if array {
        out.write_all(if first { b"]\n" } else { b"\n]\n" })?;
    }
    Ok(rows)
}

/// Spare bytes after every fragment arena and after the rendered bytes of a
/// batch: a fragment of at most this many bytes is copied as one fixed-size
/// block (a few vector moves, no call into `memcpy` with its length
/// dispatch), and the bytes it writes past the fragment's end are
/// overwritten by the next fragment or never handed out.
const PAD: usize = 64;

/// CSV fragments rendered once, one per index, in one arena padded with
/// [`PAD`] bytes: the identity prefixes (hot: an identity's rows are
/// adjacent) and the permission cells (few).
struct Fragments {
    bytes: Vec<u8>,
    start: Vec<usize>,
}

impl Fragments {
    /// Fragments of the given byte strings, in order.
    fn of(items: impl IntoIterator<Item = Vec<u8>>) -> Fragments {
        let mut bytes = Vec::new();
        let mut start = vec![0];
        for item in items {
            bytes.extend_from_slice(&item);
            start.push(bytes.len());
        }
        bytes.resize(bytes.len() + PAD, 0);
        Fragments { bytes, start }
    }

    /// Where fragment `i` lies in the arena.
    #[inline(always)]
    fn span(&self, i: usize) -> (usize, usize) {
        (self.start[i], self.start[i + 1])
    }

    /// Copies the fragment at `span` to `out[at..]`, returning where it
    /// ends. `out` must have [`PAD`] bytes to spare past that end.
    #[inline(always)]
    fn copy(&self, (start, end): (usize, usize), out: &mut [u8], at: usize) -> usize {
        let len = end - start;
        if len <= PAD {
            let block: &[u8; PAD] = self.bytes[start..start + PAD]
                .try_into()
                .expect("PAD bytes");
            let to: &mut [u8; PAD] = (&mut out[at..at + PAD]).try_into().expect("PAD bytes");
            *to = *block;
        } else {
            out[at..at + len].copy_from_slice(&self.bytes[start..end]);
        }
        at + len
    }
}

/// One entity's `target_id,target_name,target_type,` in one cache line:
/// up to [`SHORT`] bytes of the fragment, its length at [`LEN`] and the
/// length of its `target_id,target_name` part at [`NAME_END`]. Targets and
/// providers are scattered over the whole organisation, so each row's two
/// lookups are cache misses; a slot costs one miss each (an offset array
/// and an arena cost two), and a provider's cells are read from its target
/// fragment, so there is one table, not two.
#[derive(Clone, Copy)]
#[repr(align(64))]
struct Slot([u8; 64]);

/// Fragment bytes a slot holds.
const SHORT: usize = 62;
/// Where a slot keeps its fragment's length, or [`LONG`].
const LEN: usize = 62;
/// Where a slot keeps the length of `id,name`.
const NAME_END: usize = 63;
/// The length of a fragment over [`SHORT`] bytes: it is in
/// [`Targets::long`], and the slot's first 8 bytes index [`Targets::spans`].
const LONG: u8 = u8::MAX;

/// Every entity's target fragment (a provider's `,provider_id,provider_name`
/// is `,` and the start of it), one [`Slot`] per entity.
struct Targets {
    slots: Vec<Slot>,
    /// Fragments over [`SHORT`] bytes, padded with [`PAD`] bytes.
    long: Vec<u8>,
    /// Each long fragment's start, end and `id,name` end in `long`.
    spans: Vec<(usize, usize, usize)>,
}

impl Targets {
    fn build(m: &Model) -> Targets {
        const CHUNK: usize = 16 * 1024;
        let n = m.entities.len();
        let pieces: Vec<Targets> = (0..n.div_ceil(CHUNK))
            .into_par_iter()
            .map(|c| {
                let mut slots = Vec::with_capacity(CHUNK);
                let mut long = Vec::new();
                let mut spans = Vec::new();
                let mut b = Vec::new();
                for e in c * CHUNK..((c + 1) * CHUNK).min(n) {
                    let e = m.entity(e as EntityIdx);
                    b.clear();
                    csv_cell(&mut b, m.str(e.id));
                    b.push(b',');
                    csv_cell(&mut b, m.str(e.name));
                    let name_end = b.len();
                    b.push(b',');
                    b.extend_from_slice(e.kind.as_str().as_bytes());
                    b.push(b',');
                    let mut slot = Slot([0; 64]);
                    if b.len() <= SHORT {
                        slot.0[..b.len()].copy_from_slice(&b);
                        slot.0[LEN] = b.len() as u8;
                        slot.0[NAME_END] = name_end as u8;
                    } else {
                        let start = long.len();
                        long.extend_from_slice(&b);
                        slot.0[..8].copy_from_slice(&(spans.len() as u64).to_le_bytes());
                        slot.0[LEN] = LONG;
                        spans.push((start, long.len(), start + name_end));
                    }
                    slots.push(slot);
                }
                Targets { slots, long, spans }
            })
            .collect();
        let mut targets = Targets {
            slots: Vec::with_capacity(n),
            long: Vec::new(),
            spans: Vec::new(),
        };
        // Chunk-local long fragment indices and offsets, made global.
        for Targets { slots, long, spans } in pieces {
            let (base, count) = (targets.long.len(), targets.spans.len() as u64);
            targets.slots.extend(slots.into_iter().map(|mut slot| {
                if slot.0[LEN] == LONG {
                    let i = u64::from_le_bytes(slot.0[..8].try_into().expect("8 bytes"));
                    slot.0[..8].copy_from_slice(&(i + count).to_le_bytes());
                }
                slot
            }));
            targets.long.extend_from_slice(&long);
            targets.spans.extend(
                spans
                    .iter()
                    .map(|&(s, e, n)| (base + s, base + e, base + n)),
            );
        }
        targets.long.resize(targets.long.len() + PAD, 0);
        targets
    }

    /// The long fragment a slot stands for.
    #[cold]
    fn long_span(&self, slot: &Slot) -> (usize, usize, usize) {
        let i = u64::from_le_bytes(slot.0[..8].try_into().expect("8 bytes"));
        self.spans[i as usize]
    }

    /// The length of `e`'s whole fragment and of its `id,name` part.
    #[inline(always)]
    fn lens(&self, e: EntityIdx) -> (usize, usize) {
        let slot = &self.slots[e as usize];
        if slot.0[LEN] != LONG {
            (slot.0[LEN] as usize, slot.0[NAME_END] as usize)
        } else {
            let (start, end, name_end) = self.long_span(slot);
            (end - start, name_end - start)
        }
    }

    /// Copies the first `len` bytes of `e`'s fragment to `out[at..]`,
    /// returning where they end; `out` must have [`PAD`] bytes to spare
    /// past that end.
    #[inline(always)]
    fn copy(&self, e: EntityIdx, len: usize, out: &mut [u8], at: usize) -> usize {
        let slot = &self.slots[e as usize];
        if slot.0[LEN] != LONG {
            let to: &mut [u8; 64] = (&mut out[at..at + 64]).try_into().expect("64 bytes");
            *to = slot.0;
        } else {
            let (start, _, _) = self.long_span(slot);
            out[at..at + len].copy_from_slice(&self.long[start..start + len]);
        }
        at + len
    }
}

fn write_csv(
    expansion: &Expansion,
    out: &mut dyn Write,
    progress: &mut dyn FnMut(StreamProgress),
) -> io::Result<u64> {
    let m = expansion.model();
    // Only identities hold grants (the contract: every intermediate node is
    // a connection); other entities get an empty prefix, which is never used.
    let identity = Fragments::of(
        (0..m.entities.len())
            .into_par_iter()
            .map(|e| {
                let e = m.entity(e as EntityIdx);
                let mut b = Vec::new();
                if e.kind == Kind::Identity {
                    csv_cell(&mut b, m.str(e.source));
                    b.push(b',');
                    csv_cell(&mut b, m.str(e.id));
                    b.push(b',');
                    csv_cell(&mut b, m.str(e.name));
                    b.push(b',');
                }
                b
            })
            .collect::<Vec<_>>(),
    );
    let target = Targets::build(m);
    let mut header = Vec::new();
    csv_row(&mut header, COLUMNS);
    out.write_all(&header)?;
    let mut rows = 0u64;
    // Permission cells by permission rank: an index, not a hash, per row.
    let permission = Fragments::of(expansion.permissions().iter().map(|&p| {
        let mut cell = Vec::new();
        csv_cell(&mut cell, m.str(p));
        cell
    }));
    let permission_rank = |p| {
        expansion
            .permission_rank(p)
            .expect("a granted permission has a rank") as usize
    };
    let pool = BufferPool::default();
    expansion.stream_with_progress(
        |grants| {
            // Buffers come back from the pool at full length: the bytes
            // past what a batch renders are never read, so they are never
            // cleared either.
            let mut buf = pool.take_full(grants.len() * 128 + PAD);
            let mut at = 0;
            for g in grants {
                let i = identity.span(g.identity as usize);
                let (t, _) = target.lens(g.target);
                let p = permission.span(permission_rank(g.permission));
                // `,provider_id,provider_name\n`, or `,,\n` for a direct grant.
                let d = g.provider.map(|d| target.lens(d).1);
                let len = (i.1 - i.0) + t + (p.1 - p.0) + d.map_or(3, |d| d + 2);
                if at + len + PAD > buf.len() {
                    buf.resize((at + len + PAD).max(buf.len() * 2), 0);
                }
                at = identity.copy(i, &mut buf, at);
                at = target.copy(g.target, t, &mut buf, at);
                at = permission.copy(p, &mut buf, at);
                match (g.provider, d) {
                    (Some(provider), Some(d)) => {
                        buf[at] = b',';
                        at = target.copy(provider, d, &mut buf, at + 1);
                        buf[at] = b'\n';
                        at += 1;
                    }
                    _ => {
                        buf[at..at + 3].copy_from_slice(b",,\n");
                        at += 3;
                    }
                }
            }
            (buf, at, grants.len() as u64)
        },
        |(buf, len, n)| -> io::Result<()> {
            rows += n;
            out.write_all(&buf[..len])?;
            pool.give(buf);
            Ok(())
        },
        progress,
    )?;
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::AccessGraph;

    /// A generated organisation of `rows` rows, as a graph.
    fn org(rows: u64) -> AccessGraph {
        crate::generate::test_org(rows, 7)
    }

    /// Accepts `left` bytes, then fails every write.
    struct FailingAfter {
        left: usize,
    }

    impl Write for FailingAfter {
        fn write(&mut self, data: &[u8]) -> io::Result<usize> {
            if self.left == 0 {
                return Err(io::Error::other("disk full"));
            }
            let n = data.len().min(self.left);
            self.left -= n;
            Ok(n)
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    /// The CSV report rendered cell by cell from [`Row`]s, without
    /// fragments: what the fast path must reproduce byte for byte.
    fn reference_csv(expansion: &Expansion) -> Vec<u8> {
        let m = expansion.model();
        let mut out = Vec::new();
        csv_row(&mut out, COLUMNS);
        let _ = expansion.stream(
            |grants| grants.to_vec(),
            |grants| -> Result<(), ()> {
                for g in grants {
                    let r = Row::new(m, &g);
                    csv_row(
                        &mut out,
                        [
                            r.source,
                            r.identity_id,
                            r.identity_name,
                            r.target_id,
                            r.target_name,
                            r.target_type,
                            r.permission,
                            r.provider_id.unwrap_or(""),
                            r.provider_name.unwrap_or(""),
                        ],
                    );
                }
                Ok(())
            },
        );
        out
    }

    #[test]
    fn csv_rows_equal_cell_by_cell_rendering() {
        let graph = org(20_000);
        let expansion = Expansion::new(&graph);
        let mut out = Vec::new();
        write(&expansion, Format::Csv, &mut out).unwrap();
        assert!(out == reference_csv(&expansion));
    }

    /// Fragments around and past the fixed-size copies (a target fragment
    /// of 62 bytes fits a slot, 63 does not; identity and permission cells
    /// past 64 bytes), with quoting, formula neutralisation and multi-byte
    /// characters in every column.
    #[test]
    fn csv_rows_are_exact_for_fragments_of_every_length() {
        use crate::import::{FileOptions, Importer};
        let mut csv = String::from(
            "Project,Entity Name,Entity Type,Entity Source Type,Entity Source ID,\
             Entity Username,Entity Email,Entity - Has Access To Name,\
             Entity - Has Access To Source ID,Entity - Has Access To Permission Name,\
             Entity - Has Access To Permission Value,Entity Status,Entity First Name,\
             Entity Last Name,Entity LastLoginTime,LastPasswordChangedTime,\
             Entity MfaEnabled,Entity - Has Access To Entity Type,\
             Entity - Has Access To Source Type\n",
        );
        let long = "x".repeat(90);
        let users = [
            "Alice".to_string(),
            format!("\"=Ü, \"\"{long}\"\"\""),
            format!("Bob {long}"),
        ];
        for (u, user) in users.iter().enumerate() {
            for k in 0..80 {
                // A target fragment `ID,NAME,connection,` is 13 bytes + ID + NAME:
                // NAME grows past the 62 bytes of a slot.
                let pad = "é".repeat(k % 3) + &"n".repeat(k);
                let group = if k % 7 == 0 {
                    format!("\"Team, \"\"{pad}\"\"\"")
                } else {
                    format!("G{pad}")
                };
                let permission = match k % 5 {
                    0 => String::new(),
                    1 => format!("perm-{long}"),
                    2 => "+write".to_string(),
                    _ => "read".to_string(),
                };
                let id = if k % 11 == 0 {
                    format!("-g{k}")
                } else {
                    format!("g{k}")
                };
                if u == 0 || k % (u + 1) == 0 {
                    csv.push_str(&format!(
                        "P,{user},identity,user,u-{u},,,{group},{id},,,,,,,,,connection,group\n"
                    ));
                }
                if u == 0 {
                    csv.push_str(&format!(
                        "P,{group},connection,group,{id},,,{group}-bucket,r{k},{permission},,,,,,,,resource,bucket\n"
                    ));
                    csv.push_str(&format!(
                        "P,{group},connection,group,{id},,,{user},u-{},,,,,,,,,identity,user\n",
                        k % 3
                    ));
                }
            }
        }
        let mut importer = Importer::new();
        importer
            .import_reader(
                std::path::Path::new("edges.csv"),
                csv.as_bytes(),
                &FileOptions::default(),
            )
            .unwrap();
        let (model, report) = importer.finish();
        assert_eq!(report.rows_rejected(), 0);
        let graph = AccessGraph::new(model);
        let expansion = Expansion::new(&graph);
        let mut out = Vec::new();
        let rows = write(&expansion, Format::Csv, &mut out).unwrap();
        assert!(rows > 300, "{rows} rows");
        let expected = reference_csv(&expansion);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            String::from_utf8(expected).unwrap()
        );
    }

    #[test]
    fn progress_counts_every_identity_and_row_once_in_order() {
        let graph = org(20_000);
        let expansion = Expansion::new(&graph);
        for format in [Format::Csv, Format::Jsonl, Format::Json, Format::Table] {
            let mut seen: Vec<StreamProgress> = Vec::new();
            let mut out = Vec::new();
            let rows =
                write_with_progress(&expansion, format, &mut out, &mut |p| seen.push(p)).unwrap();
            let last = *seen.last().expect("at least one batch");
            assert_eq!(last.identities, expansion.identities().len() as u64);
            assert_eq!(last.identities_total, last.identities);
            assert_eq!(last.grants, rows);
            assert!(
                seen.windows(2)
                    .all(|w| w[0].identities < w[1].identities && w[0].grants <= w[1].grants),
                "{format:?}: progress must only move forward"
            );
            let mut plain = Vec::new();
            assert_eq!(write(&expansion, format, &mut plain).unwrap(), rows);
            assert_eq!(plain, out, "{format:?}: progress must not change the bytes");
        }
    }

    #[test]
    fn a_failing_writer_stops_the_report_with_its_error() {
        let graph = org(20_000);
        let expansion = Expansion::new(&graph);
        let mut full = Vec::new();
        write(&expansion, Format::Csv, &mut full).unwrap();
        assert!(full.len() > 100_000, "the report spans several batches");
        for left in [0, 1_000, full.len() / 2] {
            let err = write(&expansion, Format::Csv, &mut FailingAfter { left }).unwrap_err();
            assert_eq!(err.to_string(), "disk full");
        }
    }

    use crate::report::tests::Counter;

    /// Every format is written while the expansion runs, not collected
    /// first: bytes are out before the last batch is computed.
    #[test]
    fn issue_14_every_format_of_the_report_streams() {
        let graph = org(20_000);
        let expansion = Expansion::new(&graph);
        for format in [Format::Table, Format::Csv, Format::Json, Format::Jsonl] {
            let counter = Counter::default();
            let mut out = counter.clone();
            let mut seen = Vec::new();
            write_with_progress(&expansion, format, &mut out, &mut |p| {
                seen.push((p.identities, counter.0.get()))
            })
            .unwrap();
            let total = expansion.identities().len() as u64;
            assert!(seen.len() > 2, "{format:?}: several batches");
            assert!(
                seen.iter().any(|&(done, bytes)| done < total && bytes > 0),
                "{format:?}: nothing written before the end: {seen:?}"
            );
        }
    }
}
