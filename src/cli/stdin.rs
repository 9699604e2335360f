//! A snapshot on standard input (`cat review.wcs | whocan report access -`):
//! recognised by its first bytes, like a snapshot file, and copied to a
//! temporary file, because a snapshot is read in sections and checked
//! against its length before it is decoded. Anything else on stdin is left
//! unread for the CSV reader.

use std::io::{self, BufRead};
use std::path::{Path, PathBuf};

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

/// The file to read a snapshot argument (`snapshot verify F`, `snapshot info
/// F`) from: the path itself, or for `-` a temporary copy of stdin, kept
/// while the returned guard lives. Stdin that holds something else is
/// refused, saying that a snapshot is expected.
pub fn snapshot_file(arg: &Path) -> Result<(PathBuf, Option<tempfile::TempPath>), super::Failure> {
    if arg != Path::new("-") {
        return Ok((arg.to_path_buf(), None));
    }
    match spool_snapshot() {
        Ok(Some(spooled)) => Ok((spooled.to_path_buf(), Some(spooled))),
        Ok(None) => Err(super::Failure::input(
            "-: stdin does not hold a whocan snapshot (it does not start with the snapshot header)",
        )),
        Err(e) => Err(super::Failure::input(format!("-: cannot read stdin: {e}"))),
    }
}

/// Names stdin as given (`-`) in a failure about its temporary copy.
pub fn name_stdin(
    mut failure: super::Failure,
    spooled: &Option<tempfile::TempPath>,
) -> super::Failure {
    if let Some(spooled) = spooled {
        failure.message = failure.message.replace(&spooled.display().to_string(), "-");
    }
    failure
}
