//! The *dense* organisation: every identity in one group that reads every
//! resource, the shape where the report is far bigger than its input.

use std::io::{self, Write};

use super::{GenerateStats, HEADER};

/// Writes a *dense* organisation: `identities` identities, all members of
/// one group (`grp-0`) that grants `read` on `resources` resources, so the
/// report has `identities × resources` rows from `identities + resources`
/// rows of input. The shape where the answer is far bigger than the data
/// (issue 13: 1,100 × 200,000 gives an 18.5 MB file (issue 13 saw 13 MB) and a 220M-row report).
pub fn generate_dense<W: Write>(
    identities: u64,
    resources: u64,
    mut out: W,
) -> io::Result<GenerateStats> {
    let mut buf = Vec::with_capacity(1 << 16);
    let mut bytes = 0u64;
    buf.extend_from_slice(HEADER.as_bytes());
    let mut flush = |buf: &mut Vec<u8>, force: bool| -> io::Result<()> {
        if force || buf.len() >= 1 << 16 {
            out.write_all(buf)?;
            bytes += buf.len() as u64;
            buf.clear();
        }
        Ok(())
    };
    for i in 0..identities {
        writeln!(
            buf,
            ",User {i},identity,user,usr-{i},user{i},user{i}@example.com,All Staff,grp-0,\
             member,true,active,,,,,true,connection,group"
        )?;
        flush(&mut buf, false)?;
    }
    for r in 0..resources {
        writeln!(
            buf,
            ",All Staff,connection,group,grp-0,,,Bucket {r},res-{r},read,true,,,,,,,resource,bucket"
        )?;
        flush(&mut buf, false)?;
    }
    flush(&mut buf, true)?;
    out.flush()?;
    Ok(GenerateStats {
        rows: identities + resources,
        identities,
        connections: u64::from(resources > 0 || identities > 0),
        resources,
        bytes,
    })
}
