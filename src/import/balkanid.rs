//! The BalkanID custom-application CSV: 19 columns, one row per edge
//! *entity → has access to → entity* (see `reference/balkanid-custom-app-csv.md`).
//!
//! Owns header recognition (any order, any case, both spellings of the
//! password column), mode detection (Power, Express, Entities-only) and row
//! validation. Merging rows into entities and edges is left to
//! [`Importer`].

use std::io::Read;
use std::path::Path;

use super::records::{self, Next, Record, Records, excerpt};
use super::{
    Declared, DeclaredHashes, FileReport, ImportError, Importer, MAX_CELL_BYTES, Mode, RejectKind,
    Rejection, key_hash, parse_bool, parse_timestamp, strip_angle_brackets,
};
use crate::model::{Attributes, EntityIdx, Kind, Provenance, Sym, hash_str};

/// The 19 columns, in the reference's table order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Column {
    /// Project.
    Project,
    /// Entity Name.
    EntityName,
    /// Entity Type.
    EntityType,
    /// Entity Source Type.
    EntitySourceType,
    /// Entity Source ID.
    EntitySourceId,
    /// Entity Username.
    Username,
    /// Entity Email.
    Email,
    /// Entity - Has Access To Name.
    TargetName,
    /// Entity - Has Access To Source ID.
    TargetSourceId,
    /// Entity - Has Access To Entity Type.
    TargetEntityType,
    /// Entity - Has Access To Source Type.
    TargetSourceType,
    /// Entity - Has Access To Permission Name.
    PermissionName,
    /// Entity - Has Access To Permission Value.
    PermissionValue,
    /// Entity Status.
    Status,
    /// Entity First Name.
    FirstName,
    /// Entity Last Name.
    LastName,
    /// Entity LastLoginTime.
    LastLogin,
    /// Entity LastPasswordChangedTime (also spelt LastPasswordChangedTime).
    PasswordChanged,
    /// Entity MfaEnabled.
    Mfa,
}

const COLUMNS: usize = 19;

/// The Has-Access-To columns: a file without any is Entities-only, and a row
/// with all of them empty names its entity and no edge.
const TARGET_COLUMNS: [Column; 6] = [
    Column::TargetName,
    Column::TargetSourceId,
    Column::TargetEntityType,
    Column::TargetSourceType,
    Column::PermissionName,
    Column::PermissionValue,
];

impl Column {
    const ALL: [Column; COLUMNS] = [
        Column::Project,
        Column::EntityName,
        Column::EntityType,
        Column::EntitySourceType,
        Column::EntitySourceId,
        Column::Username,
        Column::Email,
        Column::TargetName,
        Column::TargetSourceId,
        Column::TargetEntityType,
        Column::TargetSourceType,
        Column::PermissionName,
        Column::PermissionValue,
        Column::Status,
        Column::FirstName,
        Column::LastName,
        Column::LastLogin,
        Column::PasswordChanged,
        Column::Mfa,
    ];

    /// The reference's spelling, used in messages.
    pub fn name(self) -> &'static str {
        match self {
            Column::Project => "Project",
            Column::EntityName => "Entity Name",
            Column::EntityType => "Entity Type",
            Column::EntitySourceType => "Entity Source Type",
            Column::EntitySourceId => "Entity Source ID",
            Column::Username => "Entity Username",
            Column::Email => "Entity Email",
            Column::TargetName => "Entity - Has Access To Name",
            Column::TargetSourceId => "Entity - Has Access To Source ID",
            Column::TargetEntityType => "Entity - Has Access To Entity Type",
            Column::TargetSourceType => "Entity - Has Access To Source Type",
            Column::PermissionName => "Entity - Has Access To Permission Name",
            Column::PermissionValue => "Entity - Has Access To Permission Value",
            Column::Status => "Entity Status",
            Column::FirstName => "Entity First Name",
            Column::LastName => "Entity Last Name",
            Column::LastLogin => "Entity LastLoginTime",
            Column::PasswordChanged => "Entity LastPasswordChangedTime",
            Column::Mfa => "Entity MfaEnabled",
        }
    }

    /// Recognises a header cell. Matching ignores case, surrounding space and
    /// punctuation, so `Entity - Has Access To Name` and `entity has access
    /// to name` are the same column.
    pub fn recognise(header: &str) -> Option<Column> {
        let key: String = header
            .chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .collect();
        Some(match key.as_str() {
            "project" => Column::Project,
            "entityname" => Column::EntityName,
            "entitytype" => Column::EntityType,
            "entitysourcetype" => Column::EntitySourceType,
            "entitysourceid" => Column::EntitySourceId,
            "entityusername" => Column::Username,
            "entityemail" => Column::Email,
            "entityhasaccesstoname" => Column::TargetName,
            "entityhasaccesstosourceid" => Column::TargetSourceId,
            "entityhasaccesstoentitytype" => Column::TargetEntityType,
            "entityhasaccesstosourcetype" => Column::TargetSourceType,
            "entityhasaccesstopermissionname" => Column::PermissionName,
            "entityhasaccesstopermissionvalue" => Column::PermissionValue,
            "entitystatus" => Column::Status,
            "entityfirstname" => Column::FirstName,
            "entitylastname" => Column::LastName,
            "entitylastlogintime" | "lastlogintime" => Column::LastLogin,
            // The reference's column table says "Entity LastPasswordChangedTime",
            // its example header says "LastPasswordChangedTime": both are used.
            "entitylastpasswordchangedtime" | "lastpasswordchangedtime" => Column::PasswordChanged,
            "entitymfaenabled" => Column::Mfa,
            _ => return None,
        })
    }
}

/// Where each known column sits in a file, and how the file is read.
struct Layout {
    position: [Option<usize>; COLUMNS],
    mode: Mode,
    has_targets: bool,
    fields: usize,
}

impl Layout {
    fn get(&self, c: Column) -> Option<usize> {
        self.position[c as usize]
    }

    fn from_header(
        headers: &[String],
        path: &Path,
        line: u64,
        report: &mut FileReport,
    ) -> Result<Layout, ImportError> {
        if headers.is_empty() || (headers.len() == 1 && headers[0].trim().is_empty()) {
            return Err(ImportError::Empty {
                path: path.to_path_buf(),
            });
        }
        // reference/veza-csv-upload.md and the issue: headers must be unique
        // case-insensitively; the two password spellings count as one column.
        // One hash lookup per header: a file may have 100,000 columns.
        let mut position = [None; COLUMNS];
        let mut seen: rustc_hash::FxHashMap<String, usize> = Default::default();
        let mut unknown = Vec::new();
        for (i, raw) in headers.iter().enumerate() {
            let text = raw.trim_start_matches('\u{feff}').trim();
            let lower = text.to_lowercase();
            let duplicate_of = seen.get(&lower).copied();
            let column = Column::recognise(text);
            let duplicate_of = duplicate_of.or_else(|| column.and_then(|c| position[c as usize]));
            if let Some(first) = duplicate_of {
                return Err(ImportError::DuplicateHeader {
                    path: path.to_path_buf(),
                    line,
                    column: i + 1,
                    name: text.to_string(),
                    first_column: first + 1,
                    first: headers[first].trim().to_string(),
                });
            }
            seen.insert(lower, i);
            match column {
                Some(c) => position[c as usize] = Some(i),
                None => unknown.push(text),
            }
        }
        if !unknown.is_empty() {
            report.warnings.push(format!(
                "ignored {} unknown column{}: {}",
                unknown.len(),
                if unknown.len() == 1 { "" } else { "s" },
                super::excerpt_list(&unknown)
            ));
        }

        let has = |c: Column| position[c as usize].is_some();
        let type_columns = [
            Column::EntityType,
            Column::EntitySourceType,
            Column::TargetEntityType,
            Column::TargetSourceType,
        ];
        let has_targets = TARGET_COLUMNS.iter().any(|&c| has(c));
        // Express Mode: only names and ids; the type columns are absent
        // altogether. Any type column present means Power Mode, where all of
        // them are required.
        let mode = if type_columns.iter().any(|&c| has(c)) {
            Mode::Power
        } else {
            Mode::Express
        };
        let mut required = vec![Column::EntityName, Column::EntitySourceId];
        if mode == Mode::Power {
            required.extend([Column::EntityType, Column::EntitySourceType]);
        }
        if has_targets {
            required.extend([Column::TargetName, Column::TargetSourceId]);
            if mode == Mode::Power {
                required.extend([Column::TargetEntityType, Column::TargetSourceType]);
            }
        }
        let missing: Vec<String> = required
            .iter()
            .filter(|&&c| !has(c))
            .map(|c| c.name().to_string())
            .collect();
        if !missing.is_empty() {
            return Err(ImportError::MissingColumns {
                path: path.to_path_buf(),
                line,
                columns: missing,
            });
        }
        Ok(Layout {
            position,
            mode,
            has_targets,
            fields: headers.len(),
        })
    }
}

/// Reusable parse state for one file: the last timestamp parsed per column
/// (consecutive rows usually repeat their subject's attributes).
#[derive(Default)]
struct TimestampCache {
    last: [(String, Option<i64>); 2],
}

impl TimestampCache {
    fn parse(&mut self, slot: usize, text: &str) -> Option<i64> {
        let (last_text, last_value) = &mut self.last[slot];
        if last_text != text {
            *last_value = parse_timestamp(text);
            last_text.clear();
            last_text.push_str(text);
        }
        *last_value
    }
}

/// Reads one 19-column file into `imp`, recording rows and rejections in
/// `report`.
pub(super) fn read<R: Read + Send>(
    imp: &mut Importer,
    reader: R,
    path: &Path,
    file: u32,
    source: Sym,
    report: &mut FileReport,
) -> Result<(), ImportError> {
    let mut csv = Records::new(reader);
    let mut record = Record::new();
    let mut headers = Vec::new();
    let header_line = records::read_header(
        &mut csv,
        &mut record,
        |e| ImportError::header(path, e),
        |_, _, text| {
            headers.push(text.to_string());
            Ok(())
        },
    )?;
    let layout = Layout::from_header(&headers, path, header_line, report)?;
    report.mode = Some(layout.mode);
    report.entities_only = !layout.has_targets;

    // Two stages on two threads: this one merges rows into the model (the
    // sequential part: every row looks entities and edges up), a reader
    // thread parses and validates the next batches meanwhile. Batches keep
    // input order, so provenance, first-row-wins and rejections are exactly
    // as in a single pass.
    let layout = &layout;
    let (full_tx, full_rx) =
        std::sync::mpsc::sync_channel::<Result<Batch, records::RecordError>>(4);
    let (empty_tx, empty_rx) = std::sync::mpsc::channel::<Batch>();
    let mut last = LastSubject::default();
    std::thread::scope(|scope| {
        scope.spawn(move || {
            let mut cache = TimestampCache::default();
            loop {
                let mut batch = empty_rx.try_recv().unwrap_or_default();
                batch.clear();
                let more = match batch.fill(&mut csv, &mut record, layout, &mut cache, path, source)
                {
                    Ok(more) => more,
                    Err(e) => {
                        let _ = full_tx.send(Err(e));
                        return;
                    }
                };
                if !batch.rows.is_empty() && full_tx.send(Ok(batch)).is_err() {
                    return;
                }
                if !more {
                    return;
                }
            }
        });
        for batch in full_rx {
            let batch = batch.map_err(|e| ImportError::records(path, e))?;
            for (i, parsed) in batch.rows.iter().enumerate() {
                // Entity lookups miss the cache on a large import: ask for
                // the slots of a row a little ahead, so they arrive while
                // the rows before it are merged.
                if let Some(Parsed::Accepted(ahead)) = batch.rows.get(i + PREFETCH_ROWS) {
                    prefetch(imp, ahead);
                }
                report.rows_read += 1;
                match parsed {
                    Parsed::Accepted(meta) => {
                        let row = meta.view(&batch.text);
                        let at = Provenance {
                            file,
                            line: meta.line.min(u32::MAX as u64) as u32,
                        };
                        accept(imp, &row, layout, source, at, report, &mut last);
                        report.rows_accepted += 1;
                    }
                    Parsed::Rejected(rejection) => imp.reject(rejection.clone(), report),
                }
            }
            let _ = empty_tx.send(batch);
        }
        Ok(())
    })
}

/// How many rows ahead of the one being merged its entity slots are
/// prefetched.
const PREFETCH_ROWS: usize = 8;

/// Prefetches what merging `row` will look up: its target's key and strings
/// and, when its subject is not the previous row's (whose rows come
/// together), the subject's key and the strings its attributes intern.
fn prefetch(imp: &Importer, row: &Meta) {
    let h = &row.hashes;
    if row.values.has_target {
        imp.prefetch_key(h.target.key);
        imp.prefetch_string(h.target.id);
        imp.prefetch_string(h.target.name);
    }
    if let Some(s) = &h.subject {
        imp.prefetch_key(s.declared.key);
        for hash in [
            s.declared.id,
            s.declared.name,
            s.username,
            s.email,
            s.first_name,
            s.last_name,
        ] {
            imp.prefetch_string(hash);
        }
    }
}

/// Rows per batch handed from the reader thread to the merging thread.
const BATCH_ROWS: usize = 4096;

/// A run of parsed rows: validated cells copied into one text buffer.
#[derive(Default)]
struct Batch {
    text: String,
    rows: Vec<Parsed>,
}

enum Parsed {
    Accepted(Meta),
    Rejected(Rejection),
}

/// A validated row without borrows: cell ranges into [`Batch::text`], and
/// the key hashes of its two sides, computed on the reader thread.
struct Meta {
    line: u64,
    cells: [(u32, u32); COLUMNS],
    values: Values,
    hashes: RowHashes,
}

/// The hashes the merging thread needs of a row's cells (entity keys and
/// strings it may intern), computed on the reader thread.
#[derive(Clone, Copy, Default)]
struct RowHashes {
    target: DeclaredHashes,
    permission: u32,
    /// `None` when the row repeats the previous row's subject id: it
    /// almost never needs them, and computes them itself if it does.
    subject: Option<SubjectHashes>,
}

/// Hashes of a row's subject: its key and the strings it may intern.
#[derive(Clone, Copy, Default)]
struct SubjectHashes {
    declared: DeclaredHashes,
    project: u32,
    username: u32,
    email: u32,
    status: u32,
    first_name: u32,
    last_name: u32,
}

impl SubjectHashes {
    fn of<'a>(cell: impl Fn(Column) -> &'a str, source: Sym) -> SubjectHashes {
        SubjectHashes {
            declared: declared_hashes(&cell, source, Column::EntitySourceId, Column::EntityName),
            project: hash_str(cell(Column::Project)),
            username: hash_str(cell(Column::Username)),
            email: hash_str(strip_angle_brackets(cell(Column::Email))),
            status: hash_str(cell(Column::Status)),
            first_name: hash_str(cell(Column::FirstName)),
            last_name: hash_str(cell(Column::LastName)),
        }
    }
}

fn declared_hashes<'a>(
    cell: impl Fn(Column) -> &'a str,
    source: Sym,
    id: Column,
    name: Column,
) -> DeclaredHashes {
    DeclaredHashes {
        key: key_hash(source, cell(id)),
        id: hash_str(cell(id)),
        name: hash_str(cell(name)),
    }
}

impl RowHashes {
    fn of(row: &Row, source: Sym, same_subject: bool) -> RowHashes {
        let cell = |c| row.cell(c);
        let target = if row.values.has_target {
            declared_hashes(cell, source, Column::TargetSourceId, Column::TargetName)
        } else {
            DeclaredHashes::default()
        };
        RowHashes {
            target,
            permission: hash_str(permission(
                row.cell(Column::PermissionName),
                row.values.target_kind,
            )),
            subject: (!same_subject).then(|| SubjectHashes::of(cell, source)),
        }
    }
}

/// A row's permission: its Permission Name, or the reference's default —
/// "member" into a connection, "access" into anything else, by the row's
/// own target type.
fn permission(name: &str, target_kind: Option<Kind>) -> &str {
    match name {
        "" if target_kind == Some(Kind::Connection) => "member",
        "" => "access",
        name => name,
    }
}

impl Meta {
    fn view<'a>(&'a self, text: &'a str) -> View<'a> {
        View { meta: self, text }
    }
}

/// An accepted row as the merging thread reads it: a cell is sliced from
/// the batch's text only when asked for (most rows need a few of the 19).
struct View<'a> {
    meta: &'a Meta,
    text: &'a str,
}

impl<'a> View<'a> {
    fn cell(&self, c: Column) -> &'a str {
        let (start, end) = self.meta.cells[c as usize];
        &self.text[start as usize..end as usize]
    }

    fn values(&self) -> &Values {
        &self.meta.values
    }
}

impl Batch {
    fn clear(&mut self) {
        self.text.clear();
        self.rows.clear();
    }

    /// Reads and validates up to [`BATCH_ROWS`] records; false at the end of
    /// the input.
    fn fill<R: Read>(
        &mut self,
        csv: &mut Records<R>,
        record: &mut Record,
        layout: &Layout,
        cache: &mut TimestampCache,
        path: &Path,
        source: Sym,
    ) -> Result<bool, records::RecordError> {
        // The previous accepted row's subject id, as a range of `text`.
        let mut previous_subject = None;
        while self.rows.len() < BATCH_ROWS {
            let parsed = match csv.read(record)? {
                Next::End => return Ok(false),
                Next::TooLong(t) => Parsed::Rejected(Rejection {
                    file: path.to_path_buf(),
                    line: record.line(),
                    column: t.column,
                    kind: RejectKind::RecordTooLong,
                    reason: t.reason(),
                    record: records::raw_excerpt(record),
                }),
                Next::Record => {
                    self.parse(record, layout, cache, path, source, &mut previous_subject)
                }
            };
            self.rows.push(parsed);
            // Cell ranges are u32: start a new batch well before 4 GiB.
            if self.text.len() > 1 << 30 {
                break;
            }
        }
        Ok(true)
    }

    /// Validates one whole record into an accepted or rejected row.
    fn parse(
        &mut self,
        record: &Record,
        layout: &Layout,
        cache: &mut TimestampCache,
        path: &Path,
        source: Sym,
        previous_subject: &mut Option<(u32, u32)>,
    ) -> Parsed {
        let line = record.line();
        let mut row = Row::default();
        match row.parse(record, layout, cache) {
            Ok(()) => {
                let same_subject = previous_subject.is_some_and(|(start, end)| {
                    self.text[start as usize..end as usize] == *row.cell(Column::EntitySourceId)
                });
                let hashes = RowHashes::of(&row, source, same_subject);
                let cells = self.keep_cells(&row);
                *previous_subject = Some(cells[Column::EntitySourceId as usize]);
                Parsed::Accepted(Meta {
                    line,
                    cells,
                    values: row.values,
                    hashes,
                })
            }
            Err((column, kind, reason)) => Parsed::Rejected(Rejection {
                file: path.to_path_buf(),
                line,
                column,
                kind,
                reason,
                record: records::raw_excerpt(record),
            }),
        }
    }

    /// Copies a row's cells into the batch's text and returns their ranges:
    /// the whole record in one copy when it is valid UTF-8 and not huge
    /// (the cells are slices of it), else cell by cell.
    fn keep_cells(&mut self, row: &Row) -> [(u32, u32); COLUMNS] {
        let mut cells = [(0u32, 0u32); COLUMNS];
        let base = self.text.len();
        // (Not a huge record: ignored columns are not bounded, kept cells are.)
        let whole = row
            .whole
            .filter(|w| w.len() <= MAX_CELL_BYTES)
            .map(|whole| {
                self.text.push_str(whole);
                (whole.as_ptr() as usize, whole.len())
            });
        for (range, cell) in cells.iter_mut().zip(row.cells) {
            let offset = (cell.as_ptr() as usize).wrapping_sub(whole.map_or(0, |w| w.0));
            *range = match whole {
                Some((_, len)) if offset <= len && cell.len() <= len - offset => {
                    ((base + offset) as u32, (base + offset + cell.len()) as u32)
                }
                // An unset column's "" or a record that is not all UTF-8.
                _ => {
                    let start = self.text.len() as u32;
                    self.text.push_str(cell);
                    (start, self.text.len() as u32)
                }
            };
        }
        cells
    }
}

type RowError = (usize, RejectKind, String);

/// One validated row, cells trimmed and borrowed from the record.
#[derive(Default)]
struct Row<'r> {
    cells: [&'r str; COLUMNS],
    values: Values,
    /// The whole record's fields, back to back, when they are valid UTF-8:
    /// the cells are slices of it.
    whole: Option<&'r str>,
}

/// What validating a row derived from its cells.
#[derive(Clone, Copy, Default)]
struct Values {
    subject_kind: Option<Kind>,
    target_kind: Option<Kind>,
    granted: bool,
    mfa: Option<bool>,
    last_login: Option<i64>,
    password_changed: Option<i64>,
    has_target: bool,
}

impl<'r> Row<'r> {
    fn cell(&self, c: Column) -> &'r str {
        self.cells[c as usize]
    }

    fn parse(
        &mut self,
        record: &'r Record,
        layout: &Layout,
        cache: &mut TimestampCache,
    ) -> Result<(), RowError> {
        if record.len() != layout.fields {
            let column = record.len().min(layout.fields) + 1;
            // A quote left open swallows the following lines into one field;
            // say so, since the field count alone does not explain it.
            let hint = if record.iter().any(|f| f.contains(&b'\n')) {
                "; a field spans several lines: is a quote left open?"
            } else {
                ""
            };
            return Err((
                column,
                RejectKind::FieldCount,
                format!(
                    "row has {} field{}, the header has {}{hint}",
                    record.len(),
                    if record.len() == 1 { "" } else { "s" },
                    layout.fields
                ),
            ));
        }
        // One UTF-8 check of the whole record instead of one per cell; a cell
        // is then a slice of it (fields are stored back to back). Should a
        // field boundary split a character, or the record not be UTF-8, the
        // cells are checked one by one below, which names the bad cell.
        let all = record.as_slice();
        let whole = std::str::from_utf8(all).ok();
        self.whole = whole;
        for c in Column::ALL {
            self.cells[c as usize] = "";
            let Some(i) = layout.get(c) else { continue };
            let raw = &record[i];
            let sliced = whole.and_then(|whole| whole.get(record.range(i)));
            let text = sliced
                .map_or_else(|| std::str::from_utf8(raw), Ok)
                .map_err(|e| {
                    (
                        i + 1,
                        RejectKind::Encoding,
                        format!(
                            "{} is not valid UTF-8 (invalid byte at offset {})",
                            c.name(),
                            e.valid_up_to()
                        ),
                    )
                })?;
            let text = trim(text);
            if text.len() > MAX_CELL_BYTES {
                return Err((
                    i + 1,
                    RejectKind::CellTooLong,
                    format!(
                        "{} is {} bytes long; the limit is {} bytes",
                        c.name(),
                        text.len(),
                        MAX_CELL_BYTES
                    ),
                ));
            }
            self.cells[c as usize] = text;
        }
        let col = |c: Column| layout.get(c).map_or(0, |i| i + 1);
        let required = |row: &Row, c: Column, why: &str| -> Result<(), RowError> {
            if layout.get(c).is_some() && row.cell(c).is_empty() {
                Err((
                    col(c),
                    RejectKind::EmptyRequired,
                    format!("{} is empty; it is required{why}", c.name()),
                ))
            } else {
                Ok(())
            }
        };
        required(self, Column::EntityName, "")?;
        required(self, Column::EntityType, "")?;
        required(self, Column::EntitySourceType, "")?;
        required(self, Column::EntitySourceId, "")?;
        self.values.subject_kind = match layout.mode {
            Mode::Express => Some(Kind::Identity),
            Mode::Power => Some(parse_kind(
                self.cell(Column::EntityType),
                Column::EntityType,
                col,
            )?),
        };

        // Entities-only: a row with every Has-Access-To cell empty names its
        // entity and no edge.
        self.values.has_target = TARGET_COLUMNS.iter().any(|&c| !self.cell(c).is_empty());
        if self.values.has_target {
            let why = " when the row has access columns";
            required(self, Column::TargetName, why)?;
            required(self, Column::TargetSourceId, why)?;
            required(self, Column::TargetEntityType, why)?;
            required(self, Column::TargetSourceType, why)?;
            self.values.target_kind = match layout.mode {
                Mode::Express => Some(Kind::Resource),
                Mode::Power => Some(parse_kind(
                    self.cell(Column::TargetEntityType),
                    Column::TargetEntityType,
                    col,
                )?),
            };
            // reference: Permission Value defaults to true.
            let value = self.cell(Column::PermissionValue);
            self.values.granted = if value.is_empty() {
                true
            } else {
                parse_bool(value).ok_or_else(|| bad_bool(Column::PermissionValue, value, col))?
            };
        }
        let mfa = self.cell(Column::Mfa);
        self.values.mfa = if mfa.is_empty() {
            None
        } else {
            Some(parse_bool(mfa).ok_or_else(|| bad_bool(Column::Mfa, mfa, col))?)
        };
        self.values.last_login = self.timestamp(Column::LastLogin, 0, cache, col)?;
        self.values.password_changed = self.timestamp(Column::PasswordChanged, 1, cache, col)?;
        Ok(())
    }

    fn timestamp(
        &self,
        c: Column,
        slot: usize,
        cache: &mut TimestampCache,
        col: impl Fn(Column) -> usize,
    ) -> Result<Option<i64>, RowError> {
        let text = self.cell(c);
        if text.is_empty() {
            return Ok(None);
        }
        match cache.parse(slot, text) {
            Some(t) => Ok(Some(t)),
            None => Err((
                col(c),
                RejectKind::BadTimestamp,
                format!(
                    "{} {} is not a timestamp (expected e.g. \"2024-01-15 09:30:00 +0000 UTC\" or \"2024-01-15T09:30:00Z\")",
                    c.name(),
                    excerpt(text)
                ),
            )),
        }
    }
}

/// `str::trim`, with a shortcut for the common cell that starts and ends
/// with a printable ASCII byte (never Unicode white space).
fn trim(text: &str) -> &str {
    match (text.as_bytes().first(), text.as_bytes().last()) {
        (Some(&first), Some(&last))
            if (0x21..0x80).contains(&first) && (0x21..0x80).contains(&last) =>
        {
            text
        }
        _ => text.trim(),
    }
}

fn parse_kind(text: &str, c: Column, col: impl Fn(Column) -> usize) -> Result<Kind, RowError> {
    Kind::parse(text).ok_or_else(|| {
        (
            col(c),
            RejectKind::UnknownEntityType,
            format!(
                "{} {} is not one of identity, connection, resource",
                c.name(),
                excerpt(text)
            ),
        )
    })
}

fn bad_bool(c: Column, text: &str, col: impl Fn(Column) -> usize) -> RowError {
    (
        col(c),
        RejectKind::BadBoolean,
        format!(
            "{} {} is not a boolean (true/false, t/f, yes/no, y/n, 1/0)",
            c.name(),
            excerpt(text)
        ),
    )
}

/// The subject of the last accepted row. Exports list an entity's rows
/// together (three rows in four repeat the previous subject in the medium
/// benchmark organisation), and such a row needs no lookup: its entity
/// exists, already has its attributes, and any conflict its type or source
/// type could raise was raised by the row that set this.
#[derive(Default)]
struct LastSubject {
    id: String,
    source_type: String,
    kind: Option<Kind>,
    entity: EntityIdx,
}

impl LastSubject {
    fn get(&self, d: &Declared) -> Option<EntityIdx> {
        (self.kind == Some(d.kind) && self.id == d.id && self.source_type == d.source_type)
            .then_some(self.entity)
    }

    fn set(&mut self, d: &Declared, entity: EntityIdx) {
        self.id.clear();
        self.id.push_str(d.id);
        self.source_type.clear();
        self.source_type.push_str(d.source_type);
        self.kind = Some(d.kind);
        self.entity = entity;
    }
}

fn accept(
    imp: &mut Importer,
    row: &View,
    layout: &Layout,
    source: Sym,
    at: Provenance,
    report: &mut FileReport,
    last: &mut LastSubject,
) {
    let express = layout.mode == Mode::Express;
    let subject = Declared {
        hashes: row.meta.hashes.subject.map(|s| s.declared),
        source,
        id: row.cell(Column::EntitySourceId),
        name: row.cell(Column::EntityName),
        kind: row.values().subject_kind.unwrap_or(Kind::Identity),
        // reference, Express Mode: identities are users.
        source_type: if express {
            "user"
        } else {
            row.cell(Column::EntitySourceType)
        },
    };
    let from = match last.get(&subject) {
        Some(from) => from,
        None => {
            let from = declare_subject(imp, &subject, row, at);
            last.set(&subject, from);
            from
        }
    };
    if !row.values().has_target {
        report.rows_without_target += 1;
        return;
    }
    relate_target(imp, row, express, source, from, at);
}

/// Finds or creates a row's subject and gives it the row's attributes
/// unless an earlier row did.
fn declare_subject(
    imp: &mut Importer,
    subject: &Declared,
    row: &View,
    at: Provenance,
) -> EntityIdx {
    let (from, _) = imp.declare(subject, at);
    if imp.needs_attributes(from) {
        let h = row
            .meta
            .hashes
            .subject
            .unwrap_or_else(|| SubjectHashes::of(|c| row.cell(c), subject.source));
        let attrs = Attributes {
            project: imp.intern_hashed(row.cell(Column::Project), h.project),
            username: imp.intern_hashed(row.cell(Column::Username), h.username),
            email: imp.intern_hashed(strip_angle_brackets(row.cell(Column::Email)), h.email),
            status: imp.intern_hashed(row.cell(Column::Status), h.status),
            first_name: imp.intern_hashed(row.cell(Column::FirstName), h.first_name),
            last_name: imp.intern_hashed(row.cell(Column::LastName), h.last_name),
            last_login: row.values().last_login,
            password_changed: row.values().password_changed,
            mfa: row.values().mfa,
        };
        imp.set_attributes(from, || attrs);
    }
    from
}

fn relate_target(
    imp: &mut Importer,
    row: &View,
    express: bool,
    source: Sym,
    from: EntityIdx,
    at: Provenance,
) {
    let target_kind = row.values().target_kind.unwrap_or(Kind::Resource);
    let target = Declared {
        hashes: Some(row.meta.hashes.target),
        source,
        id: row.cell(Column::TargetSourceId),
        name: row.cell(Column::TargetName),
        kind: target_kind,
        // reference, Express Mode: the other side is an entitlement.
        source_type: if express {
            "entitlement"
        } else {
            row.cell(Column::TargetSourceType)
        },
    };
    let (to, _) = imp.declare(&target, at);
    let permission = imp.intern_hashed(
        permission(row.cell(Column::PermissionName), Some(target_kind)),
        row.meta.hashes.permission,
    );
    imp.relate(from, to, permission, row.values().granted, at);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::{FileOptions, ImportReport};
    use crate::model::{Conflict, Model};

    const HEADER: &str = "Project,Entity Name,Entity Type,Entity Source Type,Entity Source ID,Entity Username,Entity Email,Entity - Has Access To Name,Entity - Has Access To Source ID,Entity - Has Access To Permission Name,Entity - Has Access To Permission Value,Entity Status,Entity First Name,Entity Last Name,Entity LastLoginTime,LastPasswordChangedTime,Entity MfaEnabled,Entity - Has Access To Entity Type,Entity - Has Access To Source Type\n";

    fn import(rows: &[u8]) -> (Model, ImportReport) {
        let mut input = HEADER.as_bytes().to_vec();
        input.extend_from_slice(rows);
        let mut imp = Importer::new();
        imp.import_reader(Path::new("t.csv"), &input[..], &FileOptions::default())
            .unwrap();
        imp.finish()
    }

    /// Every conflict as `line: description`, in model order.
    fn conflicts(model: &Model) -> Vec<String> {
        model
            .conflicts
            .iter()
            .map(|c| match c {
                Conflict::Kind {
                    entity, other, at, ..
                } => format!(
                    "{}: kind {other} of {}",
                    at.line,
                    model.str(model.entity(*entity).id)
                ),
                Conflict::SourceType {
                    entity, other, at, ..
                } => format!(
                    "{}: source type {} of {}",
                    at.line,
                    model.str(*other),
                    model.str(model.entity(*entity).id)
                ),
                Conflict::PermissionValue { granted_at, .. } => {
                    format!("{}: permission value", granted_at.line)
                }
            })
            .collect()
    }

    #[test]
    fn a_character_split_across_two_cells_is_invalid_utf8() {
        // The record's bytes are valid UTF-8 as a whole ("x" "é" "y"), but
        // neither cell is on its own.
        let mut row = b"x\xc3,\xa9y,identity,user,u1".to_vec();
        row.extend_from_slice(b",,,,,,,,,,,,,,\n");
        let (_, report) = import(&row);
        let rejection = &report.rejections[0];
        assert_eq!(rejection.kind, RejectKind::Encoding);
        assert_eq!((rejection.line, rejection.column), (2, 1));
        assert_eq!(
            rejection.reason,
            "Project is not valid UTF-8 (invalid byte at offset 1)"
        );
        assert_eq!(report.files[0].rows_rejected, 1);
    }

    #[test]
    fn repeated_subject_rows_raise_each_conflict_once_at_its_first_row() {
        let rows = "\
p,Ann,identity,user,u1,ann,,G,g1,,,active,,,,,,connection,group
p,Ann,identity,user,u1,ann2,,G,g2,,,active,,,,,,connection,group
p,Ann,identity,admin,u1,,,G,g3,,,active,,,,,,connection,group
p,Ann,identity,admin,u1,,,G,g4,,,active,,,,,,connection,group
p,Ann,resource,admin,u1,,,G,g5,,,active,,,,,,connection,group
p,Ann,resource,admin,u1,,,G,g6,,,active,,,,,,connection,group
p,Ann,identity,user,u1,,,G,g7,,,active,,,,,,connection,group
";
        let (model, report) = import(rows.as_bytes());
        assert_eq!(report.files[0].rows_accepted, 7);
        assert_eq!(
            conflicts(&model),
            ["4: source type admin of u1", "6: kind resource of u1"]
        );
        // Attributes come from the subject's first row, however many rows
        // repeat it.
        let ann = &model.entities[0];
        let attrs = ann.attributes.as_ref().unwrap();
        assert_eq!(model.str(attrs.username), "ann");
        assert_eq!(model.edges.len(), 7);
        assert!(model.edges.iter().all(|e| e.from == 0));
    }

    #[test]
    fn a_subject_seen_again_after_other_rows_is_the_same_entity() {
        let rows = "\
p,Ann,identity,user,u1,ann,,G,g1,,,active,,,,,,connection,group
p,Bob,identity,user,u2,bob,,G,g1,,,active,,,,,,connection,group
p,Ann,identity,user,u1,other,,G,g2,,,active,,,,,,connection,group
";
        let (model, _) = import(rows.as_bytes());
        let ids: Vec<&str> = model.entities.iter().map(|e| model.str(e.id)).collect();
        assert_eq!(ids, ["u1", "g1", "u2", "g2"]);
        let from: Vec<u32> = model.edges.iter().map(|e| e.from).collect();
        assert_eq!(from, [0, 2, 0]);
        let attrs = model.entities[0].attributes.as_ref().unwrap();
        assert_eq!(model.str(attrs.username), "ann");
    }
}
