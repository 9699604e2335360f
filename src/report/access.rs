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

use super::{Format, Table, csv_cell, csv_row};
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
/// rows are done (the table format is only rendered at the end).
pub fn write_with_progress(
    expansion: &Expansion,
    format: Format,
    out: &mut dyn Write,
    progress: &mut dyn FnMut(StreamProgress),
) -> io::Result<u64> {
    match format {
        Format::Csv => write_csv(expansion, out, progress),
        Format::Jsonl | Format::Json => write_json(expansion, format, out, progress),
        Format::Table => {
            let mut table = Table::new(&COLUMNS);
            let m = expansion.model();
            expansion.stream_with_progress(
                |grants| grants.to_vec(),
                |grants| -> io::Result<()> {
                    for g in grants {
                        let row = Row::new(m, &g);
                        table.push(
                            [
                                row.source,
                                row.identity_id,
                                row.identity_name,
                                row.target_id,
                                row.target_name,
                                row.target_type,
                                row.permission,
                                row.provider_id.unwrap_or(""),
                                row.provider_name.unwrap_or(""),
                            ]
                            .iter()
                            .map(|s| serde_json::Value::String(s.to_string()))
                            .collect(),
                        );
                    }
                    Ok(())
                },
                progress,
            )?;
            table.write(Format::Table, out)?;
            Ok(table.rows.len() as u64)
        }
    }
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
    fn take(&self, capacity: usize) -> Vec<u8> {
        let mut buf = self
            .0
            .lock()
            .expect("buffer pool")
            .pop()
            .unwrap_or_default();
        buf.clear();
        buf.reserve(capacity);
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

/// Per-entity CSV fragments rendered once: `source,identity_id,identity_name,`,
/// `target_id,target_name,target_type,` and `,provider_id,provider_name`.
struct Fragments {
    bytes: Vec<u8>,
    start: Vec<usize>,
}

impl Fragments {
    fn build(m: &Model, render: impl Fn(EntityIdx, &mut Vec<u8>) + Sync) -> Fragments {
        const CHUNK: usize = 16 * 1024;
        let n = m.entities.len();
        let pieces: Vec<(Vec<u8>, Vec<usize>)> = (0..n.div_ceil(CHUNK))
            .into_par_iter()
            .map(|c| {
                let mut bytes = Vec::new();
                let mut ends = Vec::new();
                for e in c * CHUNK..((c + 1) * CHUNK).min(n) {
                    render(e as EntityIdx, &mut bytes);
                    ends.push(bytes.len());
                }
                (bytes, ends)
            })
            .collect();
        let mut bytes = Vec::with_capacity(pieces.iter().map(|p| p.0.len()).sum());
        let mut start = Vec::with_capacity(n + 1);
        start.push(0);
        for (b, ends) in pieces {
            let base = bytes.len();
            start.extend(ends.iter().map(|e| base + e));
            bytes.extend_from_slice(&b);
        }
        Fragments { bytes, start }
    }

    fn get(&self, i: usize) -> &[u8] {
        &self.bytes[self.start[i]..self.start[i + 1]]
    }
}

fn write_csv(
    expansion: &Expansion,
    out: &mut dyn Write,
    progress: &mut dyn FnMut(StreamProgress),
) -> io::Result<u64> {
    let m = expansion.model();
    // Only identities hold grants and only connections provide them (the
    // contract: every intermediate node is a connection); other entities
    // get an empty fragment there, which is never used.
    let identity = Fragments::build(m, |e, b| {
        let e = m.entity(e);
        if e.kind != Kind::Identity {
            return;
        }
        csv_cell(b, m.str(e.source));
        b.push(b',');
        csv_cell(b, m.str(e.id));
        b.push(b',');
        csv_cell(b, m.str(e.name));
        b.push(b',');
    });
    let target = Fragments::build(m, |e, b| {
        let e = m.entity(e);
        csv_cell(b, m.str(e.id));
        b.push(b',');
        csv_cell(b, m.str(e.name));
        b.push(b',');
        b.extend_from_slice(e.kind.as_str().as_bytes());
        b.push(b',');
    });
    let provider = Fragments::build(m, |e, b| {
        let e = m.entity(e);
        if e.kind != Kind::Connection {
            return;
        }
        b.push(b',');
        csv_cell(b, m.str(e.id));
        b.push(b',');
        csv_cell(b, m.str(e.name));
    });
    let mut header = Vec::new();
    csv_row(&mut header, COLUMNS);
    out.write_all(&header)?;
    let mut rows = 0u64;
    // Permission cells by permission rank: an index, not a hash, per row.
    let mut permission = Fragments {
        bytes: Vec::new(),
        start: vec![0],
    };
    for &p in expansion.permissions() {
        csv_cell(&mut permission.bytes, m.str(p));
        permission.start.push(permission.bytes.len());
    }
    let permission_rank = |p| {
        expansion
            .permission_rank(p)
            .expect("a granted permission has a rank") as usize
    };
    let pool = BufferPool::default();
    expansion.stream_with_progress(
        |grants| {
            let mut buf = pool.take(grants.len() * 128);
            for g in grants {
                buf.extend_from_slice(identity.get(g.identity as usize));
                buf.extend_from_slice(target.get(g.target as usize));
                buf.extend_from_slice(permission.get(permission_rank(g.permission)));
                match g.provider {
                    Some(p) => buf.extend_from_slice(provider.get(p as usize)),
                    None => buf.extend_from_slice(b",,"),
                }
                buf.push(b'\n');
            }
            (buf, grants.len() as u64)
        },
        |(buf, n)| -> io::Result<()> {
            rows += n;
            out.write_all(&buf)?;
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
}
