//! The effective-access report: the contract other tools depend on.
//!
//! One row per distinct (identity, target, permission, provider), columns
//! [`COLUMNS`], sorted bytewise by identity id, target id, permission and
//! provider id (ties by source), byte-identical across runs. CSV rows are
//! assembled from per-entity fragments rendered once, so the cost per row is
//! a few copies.

use std::io::{self, Write};

use rayon::prelude::*;
use serde::Serialize;

use super::{Format, Table, csv_cell, csv_row};
use crate::expand::{Expansion, Grant};
use crate::model::{EntityIdx, Model};

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
    match format {
        Format::Csv => write_csv(expansion, out),
        Format::Jsonl | Format::Json => write_json(expansion, format, out),
        Format::Table => {
            let mut table = Table::new(&COLUMNS);
            let m = expansion.model();
            expansion.stream(
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

fn write_json(expansion: &Expansion, format: Format, out: &mut dyn Write) -> io::Result<u64> {
    let m = expansion.model();
    let mut rows = 0u64;
    let array = format == Format::Json;
    if array {
        out.write_all(b"[")?;
    }
    // Array elements are written with a leading comma, dropped for the first
    // one, so batches can be rendered independently.
    let mut first = true;
    expansion.stream(
        |grants| {
            let mut buf = Vec::with_capacity(grants.len() * 200);
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
            out.write_all(&buf[skip..])
        },
    )?;
    if array {
        out.write_all(if first { b"]\n" } else { b"\n]\n" })?;
    }
    Ok(rows)
}

/// Per-entity CSV fragments rendered once: `source,identity_id,identity_name`,
/// `target_id,target_name,target_type` and `provider_id,provider_name`.
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
        let mut bytes = Vec::new();
        let mut start = Vec::with_capacity(n + 1);
        start.push(0);
        for (b, ends) in pieces {
            let base = bytes.len();
            start.extend(ends.iter().map(|e| base + e));
            bytes.extend_from_slice(&b);
        }
        Fragments { bytes, start }
    }

    fn get(&self, e: EntityIdx) -> &[u8] {
        &self.bytes[self.start[e as usize]..self.start[e as usize + 1]]
    }
}

fn write_csv(expansion: &Expansion, out: &mut dyn Write) -> io::Result<u64> {
    let m = expansion.model();
    let identity = Fragments::build(m, |e, b| {
        let e = m.entity(e);
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
        b.push(b',');
        csv_cell(b, m.str(e.id));
        b.push(b',');
        csv_cell(b, m.str(e.name));
    });
    let mut header = Vec::new();
    csv_row(&mut header, COLUMNS);
    out.write_all(&header)?;
    let mut rows = 0u64;
    let mut perm_cache = std::collections::HashMap::new();
    for edge in &m.edges {
        perm_cache.entry(edge.permission).or_insert_with(|| {
            let mut b = Vec::new();
            csv_cell(&mut b, m.str(edge.permission));
            b
        });
    }
    expansion.stream(
        |grants| {
            let mut buf = Vec::with_capacity(grants.len() * 128);
            for g in grants {
                buf.extend_from_slice(identity.get(g.identity));
                buf.extend_from_slice(target.get(g.target));
                buf.extend_from_slice(&perm_cache[&g.permission]);
                match g.provider {
                    Some(p) => buf.extend_from_slice(provider.get(p)),
                    None => buf.extend_from_slice(b",,"),
                }
                buf.push(b'\n');
            }
            (buf, grants.len() as u64)
        },
        |(buf, n)| -> io::Result<()> {
            rows += n;
            out.write_all(&buf)
        },
    )?;
    Ok(rows)
}
