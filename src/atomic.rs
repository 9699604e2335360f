//! Atomic file replacement: write a temporary file beside the target, sync
//! it, rename it over the target. A reader never sees a half-written report
//! or snapshot, and an existing file survives a failed write intact.
//! [`FileWriter`] writes large outputs around the page cache (`O_DIRECT`).

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

/// Bytes per write once output is large: a multiple of any block size.
const CHUNK: usize = 8 << 20;

/// Alignment of the buffer and of file offsets for unbuffered writes.
const ALIGN: usize = 4096;

/// A buffered writer for a file written from start to end: `-o FILE`
/// output in its temporary file (`cli::Output`). Output of at least one 8 MiB chunk is
/// written with `O_DIRECT` where the platform and file system allow, in
/// whole aligned chunks: the bytes go from this buffer to the disk without
/// being copied into and tracked by the page cache, which for a report of
/// gigabytes costs more system time than the copy, and leaves nothing for
/// the final sync to flush. The tail, any explicit flush and any file system
/// that refuses `O_DIRECT` use ordinary writes; the bytes written are the
/// same either way.
pub struct FileWriter {
    file: std::fs::File,
    buf: Vec<u8>,
    /// Where the aligned region starts in `buf`.
    offset: usize,
    /// Bytes waiting in `buf[offset..offset + len]`.
    len: usize,
    /// Whether `O_DIRECT` is set on `file`.
    direct: bool,
    /// Whether the file offset is still a multiple of [`ALIGN`], so
    /// `O_DIRECT` may (still) be used.
    aligned: bool,
}

impl FileWriter {
    /// Wraps a file opened for writing at offset 0.
    pub fn new(file: std::fs::File) -> FileWriter {
        FileWriter {
            file,
            buf: Vec::new(),
            offset: 0,
            len: 0,
            direct: false,
            aligned: true,
        }
    }

    /// Writes out the whole buffered chunk.
    fn write_chunk(&mut self) -> io::Result<()> {
        if self.aligned && !self.direct {
            self.direct = set_direct(&self.file, true).is_ok();
        }
        let was_direct = self.direct;
        let data = &self.buf[self.offset..self.offset + self.len];
        let result = write_all(&mut self.file, &mut self.direct, data);
        if was_direct && !self.direct {
            // Refused once: do not try again for this file.
            self.aligned = false;
        }
        result?;
        self.len = 0;
        Ok(())
    }
}

/// `write_all`, leaving unbuffered mode for good when the file system
/// refuses an `O_DIRECT` write.
fn write_all(file: &mut std::fs::File, direct: &mut bool, mut data: &[u8]) -> io::Result<()> {
    use std::io::Write;
    while !data.is_empty() {
        match file.write(data) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => data = &data[n..],
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if *direct => {
                // Retry the same bytes through the page cache.
                *direct = false;
                if set_direct(file, false).is_err() {
                    return Err(e);
                }
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

impl io::Write for FileWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if self.buf.is_empty() {
            self.buf = vec![0; CHUNK + ALIGN];
            self.offset = self.buf.as_ptr().align_offset(ALIGN).min(ALIGN);
        }
        let n = data.len().min(CHUNK - self.len);
        let start = self.offset + self.len;
        self.buf[start..start + n].copy_from_slice(&data[..n]);
        self.len += n;
        if self.len == CHUNK {
            self.write_chunk()?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.len == 0 {
            return self.file.flush();
        }
        // A partial chunk moves the file offset off alignment: ordinary
        // writes from here on.
        if self.direct {
            set_direct(&self.file, false)?;
            self.direct = false;
        }
        self.aligned = false;
        let data = &self.buf[self.offset..self.offset + self.len];
        write_all(&mut self.file, &mut self.direct, data)?;
        self.len = 0;
        self.file.flush()
    }
}

impl Drop for FileWriter {
    fn drop(&mut self) {
        let _ = io::Write::flush(self);
    }
}

/// Sets or clears `O_DIRECT` on `file`.
#[cfg(target_os = "linux")]
fn set_direct(file: &std::fs::File, on: bool) -> io::Result<()> {
    use rustix::fs::{OFlags, fcntl_getfl, fcntl_setfl};
    let flags = fcntl_getfl(file)?;
    let flags = if on {
        flags | OFlags::DIRECT
    } else {
        flags - OFlags::DIRECT
    };
    Ok(fcntl_setfl(file, flags)?)
}

#[cfg(not(target_os = "linux"))]
fn set_direct(_file: &std::fs::File, on: bool) -> io::Result<()> {
    if on {
        Err(io::ErrorKind::Unsupported.into())
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// Writes `data` through a `FileWriter` in `pieces`-sized writes,
    /// flushing after the bytes listed in `flush_at`; returns the file.
    fn round_trip(dir: &Path, data: &[u8], piece: usize, flush_at: &[usize]) -> Vec<u8> {
        let path = dir.join("out");
        let mut w = FileWriter::new(std::fs::File::create(&path).unwrap());
        let mut written = 0;
        for chunk in data.chunks(piece) {
            w.write_all(chunk).unwrap();
            written += chunk.len();
            if flush_at
                .iter()
                .any(|&f| f > written - chunk.len() && f <= written)
            {
                w.flush().unwrap();
            }
        }
        w.flush().unwrap();
        drop(w);
        std::fs::read(&path).unwrap()
    }

    #[test]
    fn file_writer_keeps_every_byte_in_order_across_chunks_and_flushes() {
        let data: Vec<u8> = (0..2 * CHUNK + 12_345)
            .map(|i| (i * 7 % 251) as u8)
            .collect();
        // Beside the sources (a disk file system, where O_DIRECT applies)
        // and in the temporary directory (which may refuse it).
        let here = tempfile::tempdir_in(".").unwrap();
        let tmp = tempfile::tempdir().unwrap();
        for dir in [here.path(), tmp.path()] {
            assert!(round_trip(dir, &data, 1_000_003, &[]) == data);
            assert!(round_trip(dir, &data, CHUNK, &[]) == data);
            assert!(round_trip(dir, &data, 777, &[CHUNK / 3, CHUNK + 5]) == data);
            assert!(round_trip(dir, &data[..100], 7, &[50]) == data[..100]);
            assert!(round_trip(dir, &[], 7, &[]).is_empty());
        }
    }
}
