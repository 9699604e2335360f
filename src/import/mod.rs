//! Importing: turns input files into a [`Model`] plus an [`ImportReport`].
//!
//! Bad rows are data, not failures: every rejected row becomes a
//! [`Rejection`] (file, line, column, reason) and the run goes on, so one run
//! reports every problem and `rows accepted + rows rejected = rows read` holds
//! per file. Only a file that cannot be read as the format at all (missing or
//! duplicate columns, no header, an I/O error) is refused with an
//! [`ImportError`]. One submodule per input format; this module owns what they
//! share: the [`Importer`] that merges entities and edges, and the value rules.

pub mod balkanid;
pub mod inputs;
mod keys;
pub mod mapped;
pub mod people_map;
pub mod records;

pub use records::{excerpt, raw_excerpt};

use std::collections::BTreeMap;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use rustc_hash::FxHashSet;
use serde::{Deserialize, Serialize};

use crate::model::{
    Attributes, Conflict, Edge, EdgeIdx, Entity, EntityIdx, Kind, Model, Provenance, SourceFile,
    Sym, hash_str,
};

/// Longest cell whitespace-trimmed cell accepted, in bytes. A longer cell
/// rejects its row: no real id, name or attribute is this long, and the bound
/// keeps one hostile row from inflating the string table.
pub const MAX_CELL_BYTES: usize = 64 * 1024;

/// Most input bytes the tables are sized for before any row is read: 1 GiB
/// (about 7 million rows, a few hundred MB of tables).
pub const MAX_PRESIZE_BYTES: u64 = 1 << 30;

/// A file that could not be imported at all.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file could not be opened or read.
    #[error("{path}: cannot read: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// The file has no header row.
    #[error("{path}: file is empty: expected a header row")]
    Empty {
        /// The file.
        path: PathBuf,
    },
    /// A header cell is not valid UTF-8.
    #[error("{path}:{line}:{column}: header is not valid UTF-8")]
    HeaderEncoding {
        /// The file.
        path: PathBuf,
        /// Line of the header.
        line: u64,
        /// 1-based column.
        column: usize,
    },
    /// Two header cells name the same column (case-insensitively).
    #[error(
        "{path}:{line}:{column}: duplicate column {} (same as column {first_column}, {})",
        excerpt(.name),
        excerpt(.first)
    )]
    DuplicateHeader {
        /// The file.
        path: PathBuf,
        /// Line of the header.
        line: u64,
        /// 1-based column of the second occurrence.
        column: usize,
        /// Its header text.
        name: String,
        /// 1-based column of the first occurrence.
        first_column: usize,
        /// Its header text.
        first: String,
    },
    /// The file is UTF-16: whocan reads UTF-8 only.
    #[error("{path}: {}", records::RecordError::Utf16(*.byte_order))]
    Utf16 {
        /// The file.
        path: PathBuf,
        /// Its byte order.
        byte_order: records::ByteOrder,
    },
    /// The header row is longer than a record may be
    /// ([`records::MAX_RECORD_BYTES`], [`records::MAX_RECORD_FIELDS`]).
    #[error("{path}:{line}:{column}: header row: {reason}; is this a CSV file?")]
    HeaderTooLong {
        /// The file.
        path: PathBuf,
        /// Line of the header.
        line: u64,
        /// 1-based field being read when the bound was passed.
        column: usize,
        /// Which bound.
        reason: String,
    },
    /// A mapping file cannot be applied to this file.
    #[error("{path}: {message}")]
    Mapping {
        /// The CSV file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// Columns marked `required` in a mapping are empty in some rows; the
    /// whole file is refused (reference/veza-csv-upload.md).
    #[error("{path}: required value missing: {}", required_cells(.cells))]
    EmptyRequired {
        /// The CSV file.
        path: PathBuf,
        /// Every empty required cell: header and line.
        cells: Vec<(String, u64)>,
    },
    /// Required columns are absent.
    #[error("{path}:{line}: missing required column{} {}", if .columns.len() == 1 { "" } else { "s" }, quote_list(.columns))]
    MissingColumns {
        /// The file.
        path: PathBuf,
        /// Line of the header.
        line: u64,
        /// The missing columns, by their reference names.
        columns: Vec<String>,
    },
}

fn required_cells(cells: &[(String, u64)]) -> String {
    cells
        .iter()
        .map(|(header, line)| format!("{header:?} empty on line {line}"))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(crate) fn quote_list(items: &[String]) -> String {
    excerpt_list(items)
}

/// Most items of a list echoed in a message.
const LIST_ITEMS: usize = 20;

/// Items as a message lists them: each an [`excerpt`], at most
/// [`LIST_ITEMS`] of them and a count of the rest.
pub(crate) fn excerpt_list<S: AsRef<str>>(items: &[S]) -> String {
    let mut text = items
        .iter()
        .take(LIST_ITEMS)
        .map(|c| excerpt(c.as_ref()))
        .collect::<Vec<_>>()
        .join(", ");
    if items.len() > LIST_ITEMS {
        text.push_str(&format!(" and {} more", items.len() - LIST_ITEMS));
    }
    text
}

impl ImportError {
    /// The error for a file whose header row cannot be read.
    pub(crate) fn header(path: &Path, e: records::HeaderError) -> ImportError {
        let path = path.to_path_buf();
        match e {
            records::HeaderError::Records(e) => ImportError::records(&path, e),
            records::HeaderError::Empty => ImportError::Empty { path },
            records::HeaderError::TooLong { line, too_long } => ImportError::HeaderTooLong {
                path,
                line,
                column: too_long.column,
                reason: too_long.limit(),
            },
            records::HeaderError::Encoding { line, column } => {
                ImportError::HeaderEncoding { path, line, column }
            }
        }
    }

    /// The error for a file whose records cannot be read.
    pub(crate) fn records(path: &Path, e: records::RecordError) -> ImportError {
        match e {
            records::RecordError::Io(source) => ImportError::Io {
                path: path.to_path_buf(),
                source,
            },
            records::RecordError::Utf16(byte_order) => ImportError::Utf16 {
                path: path.to_path_buf(),
                byte_order,
            },
        }
    }
}

// One rejection type for every reader, the people map's included; it lives
// with the model because the people map keeps its rejections there.
pub use crate::model::{RejectKind, Rejection};

/// How a 19-column file was read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Mode {
    /// All type columns present.
    Power,
    /// Type columns absent: identities `user`, targets `resource`
    /// `entitlement` (reference: Express Mode).
    Express,
}

impl Mode {
    /// Lowercase name for reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Power => "power",
            Mode::Express => "express",
        }
    }
}

/// What happened to one input file.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileReport {
    /// The file, as given.
    pub path: PathBuf,
    /// The source its entities belong to.
    pub source: String,
    /// `power` or `express`; `None` when the file was refused.
    pub mode: Option<Mode>,
    /// True when the file has no Has-Access-To columns (Entities-only).
    pub entities_only: bool,
    /// Data rows read (the header excluded).
    pub rows_read: u64,
    /// Rows accepted.
    pub rows_accepted: u64,
    /// Rows rejected; see [`ImportReport::rejections`].
    pub rows_rejected: u64,
    /// Accepted rows that name an entity but no target.
    pub rows_without_target: u64,
    /// Rejected rows by category.
    pub rejected_by_kind: BTreeMap<RejectKind, u64>,
    /// Non-fatal remarks (ignored columns, …).
    pub warnings: Vec<String>,
    /// Why the file was refused, if it was.
    pub refused: Option<String>,
}

/// The import report of a whole run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportReport {
    /// One entry per input file, in command-line order.
    pub files: Vec<FileReport>,
    /// Every rejected row, in input order.
    pub rejections: Vec<Rejection>,
}

impl ImportReport {
    /// Total rows read over all files.
    pub fn rows_read(&self) -> u64 {
        self.files.iter().map(|f| f.rows_read).sum()
    }
    /// Total rows accepted.
    pub fn rows_accepted(&self) -> u64 {
        self.files.iter().map(|f| f.rows_accepted).sum()
    }
    /// Total rows rejected.
    pub fn rows_rejected(&self) -> u64 {
        self.files.iter().map(|f| f.rows_rejected).sum()
    }
    /// Files refused as a whole.
    pub fn refused(&self) -> impl Iterator<Item = &FileReport> {
        self.files.iter().filter(|f| f.refused.is_some())
    }
}

/// Options for one input file.
#[derive(Clone, Debug, Default)]
pub struct FileOptions {
    /// Source name; defaults to the file stem (`stdin` for `-`).
    pub source: Option<String>,
}

/// The source name a path gets when none is given: its file stem.
pub fn default_source(path: &Path) -> String {
    if path == Path::new("-") {
        return "stdin".into();
    }
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

/// Accumulates entities and edges from any number of files into one
/// [`Model`], merging by key and recording conflicts.
#[derive(Default)]
pub struct Importer {
    model: Model,
    report: ImportReport,
    /// Entities by `(source, id text)`: one probe finds a row's entity
    /// without interning or looking up its id string first.
    keys: keys::KeyTable,
    pending: Vec<PendingEdge>,
    reported_conflicts: FxHashSet<(EntityIdx, bool, u32)>,
    hot: HotStrings,
    progress: Option<ProgressHook>,
}

/// Told how many bytes of the current file have been read so far; called
/// once per buffer refill (about a megabyte), never per row.
pub type ProgressHook = std::sync::Arc<dyn Fn(u64) + Send + Sync>;

/// Precomputed hashes of a [`Declared`]: [`key_hash`] of `(source, id)`
/// and [`hash_str`] of the id and of the name.
#[derive(Clone, Copy, Default)]
pub(crate) struct DeclaredHashes {
    /// [`key_hash`] of `(source, id)`.
    pub key: u32,
    /// [`hash_str`] of the id.
    pub id: u32,
    /// [`hash_str`] of the name.
    pub name: u32,
}

/// One side of a row: what it says about an entity, borrowed from the row.
pub(crate) struct Declared<'a> {
    /// Hashes the caller computed already (the 19-column reader does, on
    /// its parsing thread, off the merging thread's path).
    pub hashes: Option<DeclaredHashes>,
    /// The row's source.
    pub source: Sym,
    /// The Entity Source ID (or the target's).
    pub id: &'a str,
    /// The name the row gives it.
    pub name: &'a str,
    /// The kind the row gives it.
    pub kind: Kind,
    /// The source type the row gives it.
    pub source_type: &'a str,
}

impl Importer {
    /// An empty importer.
    pub fn new() -> Self {
        Self::default()
    }

    /// Calls `hook` with the bytes read of the file being imported as reading
    /// goes on, e.g. to draw a progress bar.
    pub fn set_progress(&mut self, hook: ProgressHook) {
        self.progress = Some(hook);
    }

    /// Imports one file (or stdin for `-`) in the 19-column format. A file
    /// that cannot be read as the format is recorded as refused in the report
    /// and returned as the error; the importer stays usable.
    pub fn import_path(&mut self, path: &Path, opts: &FileOptions) -> Result<(), ImportError> {
        let io_err = |source| ImportError::Io {
            path: path.to_path_buf(),
            source,
        };
        if path == Path::new("-") {
            return self.import_reader(path, io::stdin(), opts);
        }
        match std::fs::File::open(path) {
            Ok(file) => {
                if let Ok(meta) = file.metadata() {
                    self.reserve_for_bytes(meta.len());
                }
                self.import_reader(path, file, opts)
            }
            Err(e) => {
                let err = io_err(e);
                self.record_unreadable(path, opts, &err);
                Err(err)
            }
        }
    }

    /// Grows the tables for about `bytes` more input, so large files do not
    /// rehash repeatedly. Rows run ~120 bytes or more; a wrong guess only
    /// costs memory or a rehash. A file's size is a claim, not data (a
    /// sparse file says 20 GB and holds nothing): the reservation is capped
    /// at [`MAX_PRESIZE_BYTES`] of input, and the tables grow by doubling
    /// past it as rows actually arrive.
    fn reserve_for_bytes(&mut self, bytes: u64) {
        let bytes = bytes.min(MAX_PRESIZE_BYTES);
        let rows = (bytes / 150).min(50_000_000) as usize;
        self.pending.reserve(rows);
        self.keys.reserve(rows / 2);
        self.model
            .strings
            .reserve(rows, bytes.min(1 << 34) as usize / 3);
        self.model.entities.reserve(rows / 2);
    }

    /// Imports 19-column CSV from a reader; `path` names it in messages.
    pub fn import_reader<R: Read + Send>(
        &mut self,
        path: &Path,
        reader: R,
        opts: &FileOptions,
    ) -> Result<(), ImportError> {
        let source_name = opts.source.clone().unwrap_or_else(|| default_source(path));
        self.read_file(
            path,
            source_name,
            reader,
            |imp, input, file, source, report| {
                balkanid::read(imp, input, path, file, source, report)
            },
        )
    }

    /// Reads one file with a format's `read` function, recording what every
    /// format records: the file's report entry (refused or not), its source,
    /// size and blake3 digest over all its bytes.
    pub(crate) fn read_file<R: Read>(
        &mut self,
        path: &Path,
        source_name: String,
        reader: R,
        read: impl FnOnce(
            &mut Importer,
            &mut Digesting<R>,
            u32,
            Sym,
            &mut FileReport,
        ) -> Result<(), ImportError>,
    ) -> Result<(), ImportError> {
        let mut file_report = FileReport {
            path: path.to_path_buf(),
            source: source_name.clone(),
            ..FileReport::default()
        };
        let file_idx = self.model.sources.len() as u32;
        let source = self.model.strings.intern(&source_name);
        let mut digest = Digesting::new(reader, self.progress.clone());
        let result = read(self, &mut digest, file_idx, source, &mut file_report);
        if let Err(e) = &result {
            file_report.refused = Some(e.to_string());
        }
        // Drain the rest so the digest covers the whole file, as recorded;
        // but a refused file is not read on (it may never end: /dev/zero).
        if result.is_ok() {
            let _ = io::copy(&mut digest, &mut io::sink());
        }
        let (bytes, blake3) = digest.finish();
        self.model.sources.push(SourceFile {
            path: path.to_path_buf(),
            source,
            bytes,
            blake3,
        });
        self.report.files.push(file_report);
        result
    }

    /// Records a file refused before reading it (e.g. its mapping file is
    /// invalid), so the report lists it.
    pub fn refuse(&mut self, path: &Path, opts: &FileOptions, reason: String) {
        self.report.files.push(FileReport {
            path: path.to_path_buf(),
            source: opts.source.clone().unwrap_or_else(|| default_source(path)),
            refused: Some(reason),
            ..FileReport::default()
        });
    }

    /// Records a file that could not even be opened, so the report lists it.
    fn record_unreadable(&mut self, path: &Path, opts: &FileOptions, err: &ImportError) {
        let source = opts.source.clone().unwrap_or_else(|| default_source(path));
        self.report.files.push(FileReport {
            path: path.to_path_buf(),
            source,
            refused: Some(err.to_string()),
            ..FileReport::default()
        });
    }

    /// The model and report built so far.
    pub fn finish(mut self) -> (Model, ImportReport) {
        self.build_edges();
        (self.model, self.report)
    }

    /// Interns `s`, through a small cache of strings seen more than once.
    pub(crate) fn intern(&mut self, s: &str) -> Sym {
        self.hot.intern(&mut self.model.strings, s, hash_str(s))
    }

    /// [`intern`](Self::intern) with `hash == hash_str(s)` precomputed.
    pub(crate) fn intern_hashed(&mut self, s: &str, hash: u32) -> Sym {
        self.hot.intern(&mut self.model.strings, s, hash)
    }

    /// Hints that a string with hash `hash` is about to be interned.
    pub(crate) fn prefetch_string(&self, hash: u32) {
        self.model.strings.prefetch(hash);
    }

    pub(crate) fn reject(&mut self, rejection: Rejection, file_report: &mut FileReport) {
        file_report.rows_rejected += 1;
        *file_report
            .rejected_by_kind
            .entry(rejection.kind)
            .or_default() += 1;
        self.report.rejections.push(rejection);
    }

    /// Finds or creates the entity a row declares; returns it and whether it
    /// is new. Name, type and source type come from the first row naming the
    /// entity; a different type later is a conflict, reported once per entity
    /// and value. Only a new entity's strings are interned: most rows name
    /// entities already seen, and this is the importer's hot path.
    pub(crate) fn declare(&mut self, d: &Declared, at: Provenance) -> (EntityIdx, bool) {
        let hashes = d.hashes.unwrap_or_else(|| DeclaredHashes {
            key: key_hash(d.source, d.id),
            id: hash_str(d.id),
            name: hash_str(d.name),
        });
        let hash = hashes.key;
        let entities = &self.model.entities;
        let found = self
            .keys
            .find(hash, d.source, d.id, &self.model.strings, |e| {
                entities[e as usize].id
            });
        let slot = match found {
            Ok(at) => *self.keys.get(at),
            Err(free) => {
                let idx = self.model.entities.len() as EntityIdx;
                let id = self.model.strings.intern_hashed(d.id, hashes.id);
                let name = self
                    .hot
                    .intern(&mut self.model.strings, d.name, hashes.name);
                let source_type = self.intern(d.source_type);
                self.keys.insert_at(
                    free,
                    hash,
                    idx,
                    d.source,
                    id,
                    source_type,
                    d.kind,
                    &self.model.strings,
                );
                self.model.entities.push(Entity {
                    source: d.source,
                    id,
                    name,
                    kind: d.kind,
                    source_type,
                    attributes: None,
                    origin: at,
                });
                return (idx, true);
            }
        };
        let (idx, kept_kind, kept_type) = (slot.entity, slot.kind(), slot.source_type);
        if kept_kind != d.kind && self.reported_conflicts.insert((idx, true, d.kind as u32)) {
            self.model.conflicts.push(Conflict::Kind {
                entity: idx,
                kept: kept_kind,
                other: d.kind,
                at,
            });
        }
        if self.model.strings.resolve(kept_type) != d.source_type {
            let other = self.model.strings.intern(d.source_type);
            if self.reported_conflicts.insert((idx, false, other.0)) {
                self.model.conflicts.push(Conflict::SourceType {
                    entity: idx,
                    kept: kept_type,
                    other,
                    at,
                });
            }
        }
        (idx, false)
    }

    /// Hints that an entity with key hash `hash` is about to be declared;
    /// see [`keys::KeyTable::prefetch`].
    pub(crate) fn prefetch_key(&self, hash: u32) {
        self.keys.prefetch(hash);
    }

    /// True while no row has given the entity its subject attributes.
    pub(crate) fn needs_attributes(&self, idx: EntityIdx) -> bool {
        self.model.entities[idx as usize].attributes.is_none()
    }

    /// Gives an entity its subject attributes unless an earlier row did.
    pub(crate) fn set_attributes(&mut self, idx: EntityIdx, attrs: impl FnOnce() -> Attributes) {
        let entity = &mut self.model.entities[idx as usize];
        if entity.attributes.is_none() {
            entity.attributes = Some(attrs());
        }
    }

    /// Adds one row's edge, merging rows that state the same
    /// `(from, to, permission)`.
    pub(crate) fn relate(
        &mut self,
        from: EntityIdx,
        to: EntityIdx,
        permission: Sym,
        granted: bool,
        at: Provenance,
    ) {
        // Rows are merged into edges once, in `finish`: a sort beats a hash
        // lookup per row, which misses the cache on large imports.
        self.pending.push(PendingEdge {
            from,
            to,
            permission,
            granted,
            at,
        });
    }

    /// Merges the rows stated so far into edges, `(from, to, permission)`
    /// once each, in order of first row, and reports disagreeing Permission
    /// Values in input order among the other conflicts.
    fn build_edges(&mut self) {
        use rayon::prelude::*;
        let mut rows = std::mem::take(&mut self.pending);
        // (from, to, permission, row) is unique: one edge per row.
        rows.par_sort_unstable_by_key(|r| (r.from, r.to, r.permission, r.at));
        let mut edges = Vec::with_capacity(rows.len());
        // (edge position, granted_at, denied_at, the row that disagreed)
        let mut disagreements = Vec::new();
        for group in
            rows.chunk_by(|a, b| (a.from, a.to, a.permission) == (b.from, b.to, b.permission))
        {
            let first = &group[0];
            if let Some(other) = group.iter().find(|r| r.granted != first.granted) {
                // PRODUCT.md: where rows disagree on one edge it counts as
                // granted and the conflict is reported; an audit tool
                // over-reports rather than hides access.
                let (granted_at, denied_at) = if first.granted {
                    (first.at, other.at)
                } else {
                    (other.at, first.at)
                };
                disagreements.push((edges.len(), granted_at, denied_at, other.at));
            }
            edges.push(Edge {
                from: first.from,
                to: first.to,
                permission: first.permission,
                granted: group.iter().any(|r| r.granted),
                origin: first.at,
                rows: group.len().min(u32::MAX as usize) as u32,
            });
        }
        drop(rows);
        // Edges in order of their first row, as the input states them.
        let mut order: Vec<u32> = (0..edges.len() as u32).collect();
        order.par_sort_unstable_by_key(|&i| edges[i as usize].origin);
        let mut position = vec![0 as EdgeIdx; edges.len()];
        for (new, &old) in order.iter().enumerate() {
            position[old as usize] = new as EdgeIdx;
        }
        let base = self.model.edges.len() as EdgeIdx;
        self.model
            .edges
            .extend(order.iter().map(|&i| edges[i as usize]));
        // Merge the value conflicts into the declaration conflicts by the row
        // where each was found; on one row, declarations come first.
        disagreements.sort_by_key(|d| d.3);
        let declared = std::mem::take(&mut self.model.conflicts);
        let mut value_conflicts = disagreements.into_iter().peekable();
        for conflict in declared {
            let at = match &conflict {
                Conflict::Kind { at, .. } | Conflict::SourceType { at, .. } => *at,
                Conflict::PermissionValue {
                    granted_at,
                    denied_at,
                    ..
                } => (*granted_at).max(*denied_at),
            };
            while let Some(&(edge, granted_at, denied_at, found)) = value_conflicts.peek() {
                if found >= at {
                    break;
                }
                self.model.conflicts.push(Conflict::PermissionValue {
                    edge: base + position[edge],
                    granted_at,
                    denied_at,
                });
                value_conflicts.next();
            }
            self.model.conflicts.push(conflict);
        }
        for (edge, granted_at, denied_at, _) in value_conflicts {
            self.model.conflicts.push(Conflict::PermissionValue {
                edge: base + position[edge],
                granted_at,
                denied_at,
            });
        }
    }
}

/// 32 bits of the hash of an entity key `(source, id)`.
pub(crate) fn key_hash(source: Sym, id: &str) -> u32 {
    use std::hash::BuildHasher;
    (rustc_hash::FxBuildHasher.hash_one((source.0, id)) >> 32) as u32
}

/// A direct-mapped cache in front of the string table for short strings
/// that repeat: project, status, first and last names, permission and
/// source types recur on most rows, and on a large import the table's probe
/// for them is a cache miss while this lookup is not. A string is cached
/// only once the table already held it, so one-off ids and emails do not
/// evict the repeated ones. Answers are the table's: a hit is checked
/// against the whole text.
struct HotStrings {
    slots: Vec<HotSlot>,
}

#[derive(Clone, Copy, Default)]
struct HotSlot {
    len: u8,
    text: [u8; HOT_TEXT],
    sym: Sym,
}

/// Longest string the cache keeps, in bytes.
const HOT_TEXT: usize = 27;
const HOT_SLOTS: usize = 512;

impl Default for HotStrings {
    fn default() -> Self {
        HotStrings {
            slots: vec![HotSlot::default(); HOT_SLOTS],
        }
    }
}

impl HotStrings {
    fn intern(&mut self, strings: &mut crate::model::Interner, s: &str, hash: u32) -> Sym {
        if s.len() > HOT_TEXT {
            return strings.intern_hashed(s, hash);
        }
        let slot = &mut self.slots[hash as usize % HOT_SLOTS];
        if usize::from(slot.len) == s.len() && &slot.text[..s.len()] == s.as_bytes() {
            return slot.sym;
        }
        let before = strings.len();
        let sym = strings.intern_hashed(s, hash);
        if strings.len() == before {
            slot.len = s.len() as u8;
            slot.text[..s.len()].copy_from_slice(s.as_bytes());
            slot.sym = sym;
        }
        sym
    }
}

/// One row's edge, before rows stating the same edge are merged.
#[derive(Clone, Copy)]
struct PendingEdge {
    from: EntityIdx,
    to: EntityIdx,
    permission: Sym,
    granted: bool,
    at: Provenance,
}

/// A reader that hashes and counts what passes through it. The hashing
/// runs on a thread of its own, fed a megabyte at a time, so it is off the
/// parsing thread's path (the parser is the slower stage of an import).
pub(crate) struct Digesting<R> {
    inner: R,
    bytes: u64,
    progress: Option<ProgressHook>,
    /// Bytes read and not yet sent to the hashing thread.
    pending: Vec<u8>,
    to_hasher: Option<std::sync::mpsc::SyncSender<Vec<u8>>>,
    /// Buffers the hashing thread is done with, for reuse.
    from_hasher: std::sync::mpsc::Receiver<Vec<u8>>,
    hasher: Option<std::thread::JoinHandle<blake3::Hasher>>,
}

/// Bytes handed to the hashing thread at a time.
const DIGEST_CHUNK: usize = 1 << 20;

impl<R: Read> Digesting<R> {
    pub(crate) fn new(inner: R, progress: Option<ProgressHook>) -> Self {
        let (to_hasher, chunks) = std::sync::mpsc::sync_channel::<Vec<u8>>(4);
        let (give_back, from_hasher) = std::sync::mpsc::channel();
        let hasher = std::thread::spawn(move || {
            let mut hasher = blake3::Hasher::new();
            for chunk in chunks {
                hasher.update(&chunk);
                let _ = give_back.send(chunk);
            }
            hasher
        });
        Digesting {
            inner,
            bytes: 0,
            progress,
            pending: Vec::with_capacity(DIGEST_CHUNK),
            to_hasher: Some(to_hasher),
            from_hasher,
            hasher: Some(hasher),
        }
    }

    fn send_pending(&mut self) {
        let next = match self.from_hasher.try_recv() {
            Ok(mut reused) => {
                reused.clear();
                reused
            }
            Err(_) => Vec::with_capacity(DIGEST_CHUNK),
        };
        let chunk = std::mem::replace(&mut self.pending, next);
        if let Some(to_hasher) = &self.to_hasher {
            // The hashing thread only stops when the sender is dropped.
            let _ = to_hasher.send(chunk);
        }
    }

    pub(crate) fn finish(mut self) -> (u64, String) {
        self.send_pending();
        self.to_hasher = None;
        let hasher = self
            .hasher
            .take()
            .expect("finished once")
            .join()
            .expect("the hashing thread does not panic");
        (self.bytes, hasher.finalize().to_hex().to_string())
    }
}

impl<R: Read> Read for Digesting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.pending.extend_from_slice(&buf[..n]);
        if self.pending.len() >= DIGEST_CHUNK {
            self.send_pending();
        }
        self.bytes += n as u64;
        if let Some(progress) = &self.progress {
            progress(self.bytes);
        }
        Ok(n)
    }
}

/// Parses a boolean cell: `true/t/yes/y/1` and `false/f/no/n/0`, any case,
/// surrounding space ignored. `None` for anything else.
pub fn parse_bool(s: &str) -> Option<bool> {
    const TRUE: [&str; 5] = ["true", "t", "yes", "y", "1"];
    const FALSE: [&str; 5] = ["false", "f", "no", "n", "0"];
    let s = s.trim();
    if TRUE.iter().any(|t| s.eq_ignore_ascii_case(t)) {
        Some(true)
    } else if FALSE.iter().any(|f| s.eq_ignore_ascii_case(f)) {
        Some(false)
    } else {
        None
    }
}

/// Parses a timestamp to seconds since the Unix epoch (UTC).
///
/// Accepts the reference's form `2024-01-15 09:30:00 +0000 UTC` (Go's
/// `time.Time.String`, optionally with fractional seconds), RFC 3339 /
/// ISO 8601 with an offset or `Z` (`T` or space between date and time), a
/// date and time without offset (taken as UTC), and a bare date (midnight
/// UTC).
pub fn parse_timestamp(s: &str) -> Option<i64> {
    use jiff::civil::{Date, DateTime};
    let s = s.trim();
    // Go's time.String ends with the zone abbreviation after the numeric
    // offset ("+0000 UTC"); the offset alone is authoritative.
    let mut core = s;
    if let Some((head, abbrev)) = s.rsplit_once(' ')
        && !abbrev.is_empty()
        && abbrev.bytes().all(|b| b.is_ascii_alphabetic())
        && head.contains(' ')
    {
        core = head;
    }
    if let Ok(tm) = jiff::fmt::strtime::parse("%Y-%m-%d %H:%M:%S%.f %z", core)
        && let Ok(ts) = tm.to_timestamp()
    {
        return Some(ts.as_second());
    }
    if let Ok(ts) = core.parse::<jiff::Timestamp>() {
        return Some(ts.as_second());
    }
    if let Ok(dt) = core.parse::<DateTime>() {
        return dt
            .to_zoned(jiff::tz::TimeZone::UTC)
            .ok()
            .map(|z| z.timestamp().as_second());
    }
    if let Ok(d) = core.parse::<Date>() {
        return d
            .to_zoned(jiff::tz::TimeZone::UTC)
            .ok()
            .map(|z| z.timestamp().as_second());
    }
    None
}

/// Formats seconds since the epoch as RFC 3339 UTC, e.g.
/// `2024-01-15T09:30:00Z`.
pub fn format_timestamp(secs: i64) -> String {
    match jiff::Timestamp::from_second(secs) {
        Ok(ts) => ts.to_string(),
        Err(_) => secs.to_string(),
    }
}

/// Removes the angle brackets some exports put around emails:
/// `<a@b.c>` is `a@b.c`.
pub fn strip_angle_brackets(s: &str) -> &str {
    let t = s.trim();
    t.strip_prefix('<')
        .and_then(|t| t.strip_suffix('>'))
        .map(str::trim)
        .unwrap_or(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issue_13_a_huge_claimed_size_presizes_no_more_than_the_cap() {
        // A sparse 20 GB file claims 20 GB; the tables are sized for at
        // most MAX_PRESIZE_BYTES of it.
        let mut imp = Importer::new();
        imp.reserve_for_bytes(20 << 30);
        let rows = (MAX_PRESIZE_BYTES / 150) as usize;
        assert!(imp.pending.capacity() <= rows, "{}", imp.pending.capacity());
        assert!(imp.model.entities.capacity() <= rows / 2);
        assert!(imp.model.strings.len() <= 1);
    }

    #[test]
    fn booleans_accept_the_documented_forms_only() {
        for t in ["true", "True", "TRUE", "t", "yes", "Y", "1", " true "] {
            assert_eq!(parse_bool(t), Some(true), "{t}");
        }
        for f in ["false", "False", "FALSE", "f", "no", "N", "0"] {
            assert_eq!(parse_bool(f), Some(false), "{f}");
        }
        for bad in ["maybe", "", "2", "yess", "active"] {
            assert_eq!(parse_bool(bad), None, "{bad}");
        }
    }

    #[test]
    fn timestamps_accept_reference_and_iso_forms() {
        let want = 1_705_311_000; // 2024-01-15T09:30:00Z
        for s in [
            "2024-01-15 09:30:00 +0000 UTC",
            "2024-01-15 09:30:00.000 +0000 UTC",
            "2024-01-15 10:30:00 +0100 CET",
            "2024-01-15T09:30:00Z",
            "2024-01-15T09:30:00+00:00",
            "2024-01-15T11:30:00+02:00",
            "2024-01-15 09:30:00Z",
            "2024-01-15T09:30:00",
            "2024-01-15T09:30:00.5Z",
        ] {
            assert_eq!(parse_timestamp(s), Some(want), "{s}");
        }
        assert_eq!(parse_timestamp("2024-01-15"), Some(1_705_276_800));
        for bad in [
            "yesterday",
            "2024-13-01",
            "2024-02-30",
            "15/01/2024 9am",
            "",
        ] {
            assert_eq!(parse_timestamp(bad), None, "{bad}");
        }
        assert_eq!(format_timestamp(want), "2024-01-15T09:30:00Z");
    }

    #[test]
    fn emails_lose_their_angle_brackets() {
        assert_eq!(strip_angle_brackets("<a@b.c>"), "a@b.c");
        assert_eq!(strip_angle_brackets(" a@b.c "), "a@b.c");
        assert_eq!(strip_angle_brackets("<a@b.c"), "<a@b.c");
    }
}
