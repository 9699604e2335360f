//! A snapshot argument on standard input (`whocan snapshot verify -`): the
//! copy of stdin that `import::inputs` spools (a snapshot is read in
//! sections and checked against its length before it is decoded), or a
//! refusal saying that a snapshot is expected. Data arguments (`-` among
//! FILES) are loaded by `import::inputs` itself.

use std::path::{Path, PathBuf};

use whocan::import::inputs::spool_stdin_snapshot;

/// The file to read a snapshot argument (`snapshot verify F`, `snapshot info
/// F`) from: the path itself, or for `-` a temporary copy of stdin, kept
/// while the returned guard lives. Stdin that holds something else is
/// refused, saying that a snapshot is expected.
pub fn snapshot_file(arg: &Path) -> Result<(PathBuf, Option<tempfile::TempPath>), super::Failure> {
    if arg != Path::new("-") {
        return Ok((arg.to_path_buf(), None));
    }
    match spool_stdin_snapshot() {
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
    failure.message = whocan::import::inputs::name_stdin(failure.message, spooled);
    failure
}
