//! A snapshot on standard input (`cat review.wcs | whocan report access -`):
//! recognised by its first bytes, like a snapshot file, and copied to a
//! temporary file, because a snapshot is read in sections and checked
//! against its length before it is decoded. Anything else on stdin is left
//! unread for the CSV reader.

use std::io::{self, BufRead};

/// When stdin starts like a snapshot, copies all of it into a temporary
/// file (deleted when the returned path is dropped); `None` when it holds
/// something else, with nothing consumed.
pub fn spool_snapshot() -> io::Result<Option<tempfile::TempPath>> {
    let mut stdin = io::stdin().lock();
    // The first read is only looked at: it stays in stdin's buffer for
    // whoever reads stdin next.
    let start = stdin.fill_buf()?;
    if !crate::snapshot::looks_like_snapshot(start) {
        return Ok(None);
    }
    let mut file = tempfile::NamedTempFile::new()?;
    io::copy(&mut stdin, file.as_file_mut())?;
    Ok(Some(file.into_temp_path()))
}
