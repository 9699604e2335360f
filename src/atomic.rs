//! Output files: the one way whocan writes a file (`-o`, `--rejects`,
//! snapshots, the prompt's `save`), through [`Destination`].
//!
//! - A regular file, or a path where nothing exists yet, is replaced
//!   atomically: a temporary file beside it is written, synced and renamed
//!   over it, so a reader never sees half a report and a failed write leaves
//!   the old file intact.
//! - A symlink is followed: its final target is replaced, beside the
//!   target; the link itself stays as it was.
//! - Anything else (a character device such as `/dev/null`, a FIFO) is
//!   written through, never replaced by a regular file.
//! - A path that is one of the run's inputs ([`note_input`]: the same device
//!   and inode, or the same canonical path) is refused with
//!   [`OutputError::SameAsInput`].
//! - Temporary files are named after their target and the writing process
//!   (`.NAME.whocan-PID-XXXXXXXX`). They are removed on error, by a handler
//!   for SIGINT, SIGTERM, SIGHUP and SIGABRT (installed only where the
//!   signal has its default action), and by the next write to the same
//!   target when the process that left one is gone.
//!
//! [`FileWriter`] writes large outputs around the page cache (`O_DIRECT`).

use std::ffi::OsString;
use std::fs::{File, Metadata};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Why an output file cannot be written.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// The output is one of the inputs: writing it would destroy the data
    /// being read.
    #[error("refusing to write {output}: it is the input {input}; choose another output file")]
    SameAsInput {
        /// The output path as given.
        output: PathBuf,
        /// The input it is, as given.
        input: PathBuf,
    },
    /// The output path is a directory.
    #[error("cannot write {path}: it is a directory")]
    Directory {
        /// The output path as given.
        path: PathBuf,
    },
    /// Creating, writing, syncing or renaming failed.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The output path as given.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
}

impl OutputError {
    fn io(path: &Path, source: io::Error) -> OutputError {
        OutputError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// One input file of this run, as recorded by [`note_input`].
struct Input {
    /// As given (for messages).
    given: PathBuf,
    /// Device and inode.
    id: Option<(u64, u64)>,
    /// The canonical path.
    canonical: Option<PathBuf>,
}

/// Every input of this process: outputs are checked against them.
static INPUTS: Mutex<Vec<Input>> = Mutex::new(Vec::new());

/// Records `path` as an input of this run (`-` is standard input), so that
/// no [`Destination`] replaces it. Only regular files are recorded: writing
/// through a device or FIFO destroys nothing, and a path that does not
/// exist holds nothing to lose.
pub fn note_input(path: &Path) {
    let (given, at) = if path == Path::new("-") {
        // Standard input redirected from a file: that file.
        (PathBuf::from("- (standard input)"), Path::new("/dev/stdin"))
    } else {
        (path.to_path_buf(), path)
    };
    let Ok(meta) = std::fs::metadata(at) else {
        return;
    };
    if !meta.is_file() {
        return;
    }
    let input = Input {
        given,
        id: file_id(&meta),
        canonical: std::fs::canonicalize(at).ok(),
    };
    INPUTS.lock().unwrap_or_else(|e| e.into_inner()).push(input);
}

/// The input that `target` (a resolved path, no symlink at its end) is, if
/// any: same device and inode, or same canonical path.
fn input_at(target: &Path, meta: Option<&Metadata>) -> Option<PathBuf> {
    let id = meta.and_then(file_id);
    let canonical = canonical_of(target);
    let inputs = INPUTS.lock().unwrap_or_else(|e| e.into_inner());
    inputs
        .iter()
        .find(|i| (id.is_some() && i.id == id) || (canonical.is_some() && i.canonical == canonical))
        .map(|i| i.given.clone())
}

/// The canonical path of `path`, or of its directory joined with its name
/// when it does not exist yet.
fn canonical_of(path: &Path) -> Option<PathBuf> {
    std::fs::canonicalize(path).ok().or_else(|| {
        let dir = std::fs::canonicalize(directory(path)).ok()?;
        Some(dir.join(path.file_name()?))
    })
}

#[cfg(unix)]
fn file_id(meta: &Metadata) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    Some((meta.dev(), meta.ino()))
}

#[cfg(not(unix))]
fn file_id(_meta: &Metadata) -> Option<(u64, u64)> {
    None
}

/// What is at an output path once symlinks are followed.
enum Resolved {
    /// A regular file, to replace.
    File(PathBuf, Metadata),
    /// Nothing yet: a file to create.
    New(PathBuf),
    /// A device, FIFO or socket: written through.
    Special(PathBuf),
}

/// Follows symlinks from `path` (at most 40, like the kernel) to what the
/// output will write: a dangling link resolves to the path it names.
fn resolve(path: &Path) -> Result<Resolved, OutputError> {
    let mut at = path.to_path_buf();
    for _ in 0..40 {
        let meta = match std::fs::symlink_metadata(&at) {
            Ok(meta) => meta,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Resolved::New(at)),
            Err(e) => return Err(OutputError::io(path, e)),
        };
        let kind = meta.file_type();
        if kind.is_symlink() {
            let link = std::fs::read_link(&at).map_err(|e| OutputError::io(path, e))?;
            at = if link.is_absolute() {
                link
            } else {
                directory(&at).join(link)
            };
        } else if kind.is_file() {
            return Ok(Resolved::File(at, meta));
        } else if kind.is_dir() {
            return Err(OutputError::Directory {
                path: path.to_path_buf(),
            });
        } else {
            return Ok(Resolved::Special(at));
        }
    }
    Err(OutputError::io(
        path,
        io::Error::other("too many levels of symbolic links"),
    ))
}

/// Where one output goes: a temporary file to rename over its target on
/// [`commit`](Destination::commit), or a device or FIFO written through.
/// Dropped without a commit, the temporary file is removed and the target
/// is left as it was.
pub struct Destination {
    /// The path as given, for messages.
    path: PathBuf,
    /// The file the bytes end up in (a symlink's target).
    target: PathBuf,
    /// The temporary file, unless the target is written through.
    temp: Option<Temp>,
}

impl Destination {
    /// Opens the output `path` (see the module documentation for what each
    /// kind of path gets) and returns it with the file to write the bytes
    /// into, at offset 0.
    pub fn open(path: &Path) -> Result<(Destination, File), OutputError> {
        let (target, meta) = match resolve(path)? {
            Resolved::Special(target) => {
                let file = std::fs::OpenOptions::new()
                    .write(true)
                    .open(&target)
                    .map_err(|e| OutputError::io(path, e))?;
                let dest = Destination {
                    path: path.to_path_buf(),
                    target,
                    temp: None,
                };
                return Ok((dest, file));
            }
            Resolved::File(target, meta) => (target, Some(meta)),
            Resolved::New(target) => (target, None),
        };
        if let Some(input) = input_at(&target, meta.as_ref()) {
            return Err(OutputError::SameAsInput {
                output: path.to_path_buf(),
                input,
            });
        }
        remove_stale_temps(&target);
        let permissions = meta
            .map(|m| m.permissions())
            .unwrap_or_else(default_permissions);
        let prefix = temp_prefix(&target, std::process::id());
        let temp = Temp::create(directory(&target), &prefix, &permissions)
            .map_err(|e| OutputError::io(path, e))?;
        let writer = temp
            .file
            .try_clone()
            .map_err(|e| OutputError::io(path, e))?;
        let dest = Destination {
            path: path.to_path_buf(),
            target,
            temp: Some(temp),
        };
        Ok((dest, writer))
    }

    /// The file the bytes end up in: the path given, or its symlink's
    /// target.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// The temporary file being written, if the target is replaced.
    pub fn temp_path(&self) -> Option<&Path> {
        self.temp.as_ref().map(|t| t.path.as_path())
    }

    /// Syncs the temporary file and renames it over the target, then syncs
    /// the directory so the rename itself survives a crash (where the
    /// platform allows). A device or FIFO needs nothing more.
    pub fn commit(mut self) -> Result<(), OutputError> {
        let Some(mut temp) = self.temp.take() else {
            return Ok(());
        };
        let path = &self.path;
        temp.file.sync_all().map_err(|e| OutputError::io(path, e))?;
        std::fs::rename(&temp.path, &self.target).map_err(|e| OutputError::io(path, e))?;
        temp.exists = false;
        if let Ok(dir) = File::open(directory(&self.target)) {
            let _ = dir.sync_all();
        }
        Ok(())
    }
}

/// A temporary file registered for removal on a fatal signal.
struct Temp {
    path: PathBuf,
    /// Read-write handle (the final sync; the writer gets a clone).
    file: File,
    /// Whether `path` still names it (not once renamed).
    exists: bool,
    /// Its slot in the signal handler's list, if it got one.
    slot: Option<usize>,
}

impl Temp {
    /// Creates a new file `PREFIX` + 8 random characters in `dir`. Its name
    /// is registered for removal on a signal *before* the file is created,
    /// so no signal can leave it behind.
    fn create(
        dir: &Path,
        prefix: &std::ffi::OsStr,
        permissions: &std::fs::Permissions,
    ) -> io::Result<Temp> {
        for _ in 0..100 {
            let mut name = prefix.to_os_string();
            name.push(random_suffix());
            let path = dir.join(name);
            let slot = std::path::absolute(&path)
                .ok()
                .and_then(|p| signals::register(&p));
            let mut options = std::fs::OpenOptions::new();
            options.read(true).write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
                options.mode(permissions.mode());
            }
            match options.open(&path) {
                Ok(file) => {
                    #[cfg(not(unix))]
                    let _ = std::fs::set_permissions(&path, permissions.clone());
                    return Ok(Temp {
                        path,
                        file,
                        exists: true,
                        slot,
                    });
                }
                Err(e) => {
                    if let Some(slot) = slot {
                        signals::unregister(slot);
                    }
                    if e.kind() != io::ErrorKind::AlreadyExists {
                        return Err(e);
                    }
                }
            }
        }
        Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            "no free temporary file name",
        ))
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        // Removed first, then forgotten: a signal in between only unlinks
        // a name that no longer exists.
        if self.exists {
            let _ = std::fs::remove_file(&self.path);
        }
        if let Some(slot) = self.slot {
            signals::unregister(slot);
        }
    }
}

/// Eight random letters and digits (std's randomly keyed hasher over a
/// counter and the clock: unpredictable enough for a name that
/// `create_new` makes unique anyway).
fn random_suffix() -> String {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    hasher.write_u128(now);
    let mut n = hasher.finish();
    let base = ALPHABET.len() as u64;
    (0..8)
        .map(|_| {
            let c = ALPHABET[(n % base) as usize];
            n /= base;
            c as char
        })
        .collect()
}

/// The temporary-file prefix for `target` written by process `pid`:
/// `.NAME.whocan-PID-` (NAME cut to 64 bytes), so a later write can find
/// the ones a killed process left.
fn temp_prefix(target: &Path, pid: u32) -> OsString {
    let mut prefix = stale_prefix(target);
    prefix.push(format!("{pid}-"));
    prefix
}

/// `.NAME.whocan-`: what every temporary file of `target` starts with.
fn stale_prefix(target: &Path) -> OsString {
    let name = target.file_name().unwrap_or_default();
    let mut prefix = OsString::from(".");
    prefix.push(cut_name(name));
    prefix.push(".whocan-");
    prefix
}

#[cfg(unix)]
fn cut_name(name: &std::ffi::OsStr) -> OsString {
    use std::os::unix::ffi::OsStrExt;
    let bytes = name.as_bytes();
    std::ffi::OsStr::from_bytes(&bytes[..bytes.len().min(64)]).to_os_string()
}

#[cfg(not(unix))]
fn cut_name(name: &std::ffi::OsStr) -> OsString {
    name.to_string_lossy()
        .chars()
        .take(64)
        .collect::<String>()
        .into()
}

/// Removes the temporary files of `target` left by processes that no
/// longer exist (killed by a signal that could not be handled, or before
/// the handler was installed). A live writer's files are left alone.
fn remove_stale_temps(target: &Path) {
    let prefix = stale_prefix(target);
    let Ok(entries) = std::fs::read_dir(directory(target)) else {
        return;
    };
    let own = std::process::id();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(rest) = strip_prefix(&name, &prefix) else {
            continue;
        };
        let pid = rest.split('-').next().and_then(|p| p.parse::<u32>().ok());
        if pid.is_some_and(|p| p != own && !signals::process_exists(p)) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// The rest of `name` after `prefix`, when it starts with it (lossy).
fn strip_prefix(name: &std::ffi::OsStr, prefix: &std::ffi::OsStr) -> Option<String> {
    let name = name.as_encoded_bytes();
    let prefix = prefix.as_encoded_bytes();
    let rest = name.strip_prefix(prefix)?;
    Some(String::from_utf8_lossy(rest).into_owned())
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

/// Removal of temporary files on fatal signals. The handler only reads
/// atomics and calls `unlink` and `raise`, which are async-signal-safe.
#[cfg(unix)]
mod signals {
    use std::ffi::{CString, c_char, c_int};
    use std::path::Path;
    use std::ptr::null_mut;
    use std::sync::Once;
    use std::sync::atomic::{AtomicPtr, Ordering};

    /// Temporary files open at once (a process writes one or two).
    const SLOTS: usize = 64;

    /// NUL-terminated paths of the temporary files to unlink on a signal.
    static PATHS: [AtomicPtr<c_char>; SLOTS] = [const { AtomicPtr::new(null_mut()) }; SLOTS];

    static INSTALL: Once = Once::new();

    /// The signals whose default action ends the process and that a user or
    /// supervisor sends to stop one (SIGABRT: a failed allocation).
    const SIGNALS: [c_int; 4] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGABRT];

    /// Registers `path` for removal on a fatal signal, installing the
    /// handler on first use; `None` when every slot is taken (the next
    /// write to the same target still removes a file left behind).
    pub fn register(path: &Path) -> Option<usize> {
        use std::os::unix::ffi::OsStrExt;
        INSTALL.call_once(install);
        let ptr = CString::new(path.as_os_str().as_bytes()).ok()?.into_raw();
        for (i, slot) in PATHS.iter().enumerate() {
            if slot
                .compare_exchange(null_mut(), ptr, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok()
            {
                return Some(i);
            }
        }
        // SAFETY: `ptr` came from `into_raw` above and was never shared.
        drop(unsafe { CString::from_raw(ptr) });
        None
    }

    /// Forgets a registered path. Its bytes are never freed: a handler
    /// running on another thread may be reading them (a few dozen bytes per
    /// output file).
    pub fn unregister(slot: usize) {
        PATHS[slot].store(null_mut(), Ordering::SeqCst);
    }

    extern "C" fn on_signal(signal: c_int) {
        for slot in &PATHS {
            let path = slot.load(Ordering::SeqCst);
            if !path.is_null() {
                // SAFETY: a NUL-terminated string that is never freed.
                unsafe { libc::unlink(path) };
            }
        }
        // SA_RESETHAND restored the default action: the signal ends the
        // process as it would have, once this handler returns.
        // SAFETY: raise is async-signal-safe.
        unsafe { libc::raise(signal) };
    }

    /// Installs the handler for each signal still at its default action (a
    /// signal ignored, as under `nohup`, or handled by someone else, is left
    /// so).
    fn install() {
        for signal in SIGNALS {
            // SAFETY: plain sigaction calls on zeroed, then filled, structs.
            unsafe {
                let mut old: libc::sigaction = std::mem::zeroed();
                if libc::sigaction(signal, std::ptr::null(), &mut old) != 0
                    || old.sa_sigaction != libc::SIG_DFL
                {
                    continue;
                }
                let mut action: libc::sigaction = std::mem::zeroed();
                action.sa_sigaction = on_signal as extern "C" fn(c_int) as libc::sighandler_t;
                action.sa_flags = libc::SA_RESETHAND;
                libc::sigemptyset(&mut action.sa_mask);
                libc::sigaction(signal, &action, std::ptr::null_mut());
            }
        }
    }

    /// Whether process `pid` exists (a process of another user counts).
    pub fn process_exists(pid: u32) -> bool {
        let Ok(pid) = libc::pid_t::try_from(pid) else {
            return false;
        };
        // SAFETY: signal 0 only checks for existence.
        if unsafe { libc::kill(pid, 0) } == 0 {
            return true;
        }
        std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
    }
}

/// Without Unix signals: nothing to register; a temporary file is never
/// taken for stale.
#[cfg(not(unix))]
mod signals {
    use std::path::Path;

    /// No handler to register `path` with.
    pub fn register(_path: &Path) -> Option<usize> {
        None
    }

    /// Nothing was registered.
    pub fn unregister(_slot: usize) {}

    /// Unknown without Unix signals: every owner is taken to be alive.
    pub fn process_exists(_pid: u32) -> bool {
        true
    }
}

/// Bytes per write once output is large: a multiple of any block size.
const CHUNK: usize = 8 << 20;

/// Alignment of the buffer and of file offsets for unbuffered writes.
const ALIGN: usize = 4096;

/// A buffered writer for a file written from start to end: `-o FILE`
/// output in its temporary file (`cli::Output`), or the device it writes
/// through. Output of at least one 8 MiB chunk is
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
    /// Wraps a file opened for writing at offset 0. Only a regular file
    /// is ever written with `O_DIRECT` (on a pipe it would mean packet
    /// mode).
    pub fn new(file: std::fs::File) -> FileWriter {
        let regular = file.metadata().is_ok_and(|m| m.is_file());
        FileWriter {
            file,
            buf: Vec::new(),
            offset: 0,
            len: 0,
            direct: false,
            aligned: regular,
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
