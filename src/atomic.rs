//! Atomic file replacement: write a temporary file beside the target, sync
//! it, rename it over the target. A reader never sees a half-written report
//! or snapshot, and an existing file survives a failed write intact.

use std::io;
use std::path::Path;

use tempfile::NamedTempFile;

/// A temporary file in `path`'s directory, to be filled and then
/// [`commit`]ted over `path`. It gets the permissions of the file it will
/// replace, or 0644 for a new file (tempfile's own default is 0600).
pub fn temp_beside(path: &Path) -> io::Result<NamedTempFile> {
    let permissions = std::fs::metadata(path)
        .map(|m| m.permissions())
        .unwrap_or_else(|_| default_permissions());
    tempfile::Builder::new()
        .prefix(".whocan-")
        .permissions(permissions)
        .tempfile_in(directory(path))
}

/// Syncs `tmp` and renames it over `path`, then syncs the directory so the
/// rename itself survives a crash (where the platform allows).
pub fn commit(tmp: NamedTempFile, path: &Path) -> io::Result<()> {
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    if let Ok(dir) = std::fs::File::open(directory(path)) {
        let _ = dir.sync_all();
    }
    Ok(())
}

fn directory(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

#[cfg(unix)]
fn default_permissions() -> std::fs::Permissions {
    use std::os::unix::fs::PermissionsExt;
    std::fs::Permissions::from_mode(0o644)
}

#[cfg(not(unix))]
fn default_permissions() -> std::fs::Permissions {
    let mut p = std::fs::metadata(".")
        .map(|m| m.permissions())
        .expect("the current directory has metadata");
    p.set_readonly(false);
    p
}
