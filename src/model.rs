//! The data model: interned strings, entities keyed by `(source, Entity Source
//! ID)`, edges with provenance, source files with their digests, and the
//! conflicts found while importing.
//!
//! Everything here is plain data (serde-serialisable for snapshots); it does
//! no I/O. `import` fills a [`Model`], `graph` indexes it, `expand` derives
//! effective access from it.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::table::ProbeTable;

/// An interned string: an index into [`Interner`]. `Sym::EMPTY` is `""`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
pub struct Sym(pub u32);

impl Sym {
    /// The empty string, always present.
    pub const EMPTY: Sym = Sym(0);

    /// True for the empty string.
    pub fn is_empty(self) -> bool {
        self == Sym::EMPTY
    }
}

/// A string table: every id, name and attribute is stored once, all in one
/// buffer (no allocation per string), found through a hash table of indices.
#[derive(Clone, Serialize, Deserialize)]
pub struct Interner {
    /// Every string, concatenated.
    text: String,
    /// End offset in `text` of each string; string `i` starts where `i - 1`
    /// ends.
    ends: Vec<u64>,
    /// Each string's index with 32 bits of its hash: probes and growth
    /// compare and rehash from the slot alone, without reading the text,
    /// which on a large table is a cache miss per slot. Built on first use
    /// after deserialising: a loaded snapshot that is only reported on
    /// never needs it.
    #[serde(skip)]
    index: std::sync::OnceLock<ProbeTable<StrSlot>>,
}

/// One entry of [`Interner`]'s lookup index.
#[derive(Clone, Copy)]
struct StrSlot {
    sym: u32,
    hash: u32,
}

impl crate::table::Slot for StrSlot {
    const EMPTY: StrSlot = StrSlot {
        sym: u32::MAX,
        hash: 0,
    };

    fn is_empty(&self) -> bool {
        self.sym == u32::MAX
    }

    fn hash(&self) -> u32 {
        self.hash
    }
}

impl fmt::Debug for Interner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Interner({} strings)", self.ends.len())
    }
}

impl Default for Interner {
    fn default() -> Self {
        let mut interner = Interner {
            text: String::new(),
            ends: Vec::new(),
            index: std::sync::OnceLock::from(ProbeTable::default()),
        };
        interner.intern("");
        interner
    }
}

/// 32 bits of a string's hash: the high half of FxHash, its best-mixed bits.
/// [`Interner::intern_hashed`] takes it precomputed.
pub fn hash_str(s: &str) -> u32 {
    use std::hash::BuildHasher;
    (rustc_hash::FxBuildHasher.hash_one(s) >> 32) as u32
}

impl Interner {
    fn slice<'t>(text: &'t str, ends: &[u64], i: usize) -> &'t str {
        let start = if i == 0 { 0 } else { ends[i - 1] as usize };
        &text[start..ends[i] as usize]
    }

    /// Returns the symbol for `s`, adding it if it is new.
    pub fn intern(&mut self, s: &str) -> Sym {
        self.intern_hashed(s, hash_str(s))
    }

    /// [`intern`](Self::intern) with `hash == hash_str(s)` computed by the
    /// caller (e.g. on another thread).
    pub fn intern_hashed(&mut self, s: &str, hash: u32) -> Sym {
        debug_assert_eq!(hash, hash_str(s));
        if self.index.get().is_none() {
            let built = Self::build_index(&self.text, &self.ends);
            let _ = self.index.set(built);
        }
        let Interner { text, ends, index } = self;
        let index = index.get_mut().expect("the index was just built");
        // One probe: a new string goes in the slot the lookup ended at.
        match index.find(hash, |slot| Self::slice(text, ends, slot.sym as usize) == s) {
            Ok(found) => Sym(index.get(found).sym),
            Err(free) => {
                let i = ends.len() as u32;
                text.push_str(s);
                ends.push(text.len() as u64);
                index.insert_at(free, StrSlot { sym: i, hash });
                Sym(i)
            }
        }
    }

    /// Asks the CPU to fetch the index slot a string with hash `hash` is
    /// probed at first; a hint for a coming [`intern_hashed`](Self::intern_hashed).
    #[inline]
    pub fn prefetch(&self, hash: u32) {
        if let Some(index) = self.index.get() {
            index.prefetch(hash);
        }
    }

    fn find(&self, s: &str, hash: u32) -> Option<Sym> {
        let (text, ends) = (&self.text, &self.ends);
        let index = self.index.get_or_init(|| Self::build_index(text, ends));
        index
            .find(hash, |slot| Self::slice(text, ends, slot.sym as usize) == s)
            .ok()
            .map(|found| Sym(index.get(found).sym))
    }

    /// Returns the symbol for `s` if it was ever interned.
    pub fn get(&self, s: &str) -> Option<Sym> {
        self.find(s, hash_str(s))
    }

    /// The string behind `sym`.
    pub fn resolve(&self, sym: Sym) -> &str {
        Self::slice(&self.text, &self.ends, sym.0 as usize)
    }

    /// Where `sym`'s text lies in the table: byte offsets `(start, end)`,
    /// valid for the table's life (strings are only ever appended).
    pub(crate) fn span(&self, sym: Sym) -> (u64, u64) {
        let i = sym.0 as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        (start, self.ends[i])
    }

    /// The text at a [`span`](Self::span).
    pub(crate) fn resolve_span(&self, start: u64, end: u64) -> &str {
        &self.text[start as usize..end as usize]
    }

    /// Number of distinct strings.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Never true: the empty string is always interned.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Reserves room for about `strings` more strings of `bytes` in all.
    pub fn reserve(&mut self, strings: usize, bytes: usize) {
        self.ends.reserve(strings);
        self.text.reserve(bytes);
        if let Some(index) = self.index.get_mut() {
            index.reserve(strings);
        }
    }

    /// The lookup index of a table. Should a (crafted) table hold a string
    /// twice, the first copy is the one found.
    fn build_index(text: &str, ends: &[u64]) -> ProbeTable<StrSlot> {
        let mut index = ProbeTable::<StrSlot>::with_capacity(ends.len());
        for i in 0..ends.len() {
            let s = Self::slice(text, ends, i);
            let hash = hash_str(s);
            if let Err(free) =
                index.find(hash, |slot| Self::slice(text, ends, slot.sym as usize) == s)
            {
                index.insert_at(
                    free,
                    StrSlot {
                        sym: i as u32,
                        hash,
                    },
                );
            }
        }
        index
    }

    /// The concatenated text and each string's end offset, as a snapshot
    /// stores them.
    pub(crate) fn raw_parts(&self) -> (&str, &[u64]) {
        (&self.text, &self.ends)
    }

    /// A table from stored parts, checked like a deserialised one (see
    /// [`Interner::check`]); the lookup index is built on first use.
    pub(crate) fn from_raw_parts(text: String, ends: Vec<u64>) -> Result<Interner, String> {
        let interner = Interner {
            text,
            ends,
            index: std::sync::OnceLock::new(),
        };
        interner.check()?;
        Ok(interner)
    }

    /// Checks a deserialised table: offsets must rise, stay inside the text
    /// and fall on character boundaries, and the first string must be `""`.
    /// The lookup index is built on first use (see [`Interner::get`]).
    pub fn check(&self) -> Result<(), String> {
        let mut start = 0u64;
        for (i, &end) in self.ends.iter().enumerate() {
            if end < start
                || end > self.text.len() as u64
                || !self.text.is_char_boundary(end as usize)
            {
                return Err(format!("string table offset {i} is out of range"));
            }
            start = end;
        }
        if self.ends.len() > u32::MAX as usize {
            return Err("string table holds more than 2^32 strings".into());
        }
        if self.ends.first() != Some(&0) {
            return Err("string table does not start with the empty string".into());
        }
        Ok(())
    }
}

/// The reference's Entity Type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Kind {
    /// A user or service account.
    Identity,
    /// A group, role, policy or anything else that passes access on.
    Connection,
    /// Something that is accessed.
    Resource,
}

impl Kind {
    /// All kinds, in display order.
    pub const ALL: [Kind; 3] = [Kind::Identity, Kind::Connection, Kind::Resource];

    /// Parses an Entity Type cell (case-insensitive, surrounding space ignored).
    pub fn parse(s: &str) -> Option<Kind> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("identity") {
            Some(Kind::Identity)
        } else if s.eq_ignore_ascii_case("connection") {
            Some(Kind::Connection)
        } else if s.eq_ignore_ascii_case("resource") {
            Some(Kind::Resource)
        } else {
            None
        }
    }

    /// The lowercase name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Identity => "identity",
            Kind::Connection => "connection",
            Kind::Resource => "resource",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Index of an entity in [`Model::entities`].
pub type EntityIdx = u32;
/// Index of an edge in [`Model::edges`].
pub type EdgeIdx = u32;

/// Where a row came from: an index into [`Model::sources`] and the 1-based
/// line the record starts on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Provenance {
    /// Index into [`Model::sources`].
    pub file: u32,
    /// 1-based line number of the record's first line.
    pub line: u32,
}

/// The attributes a row gives its subject entity. Attributes come from the
/// first row in which the entity is the subject; later rows add edges only.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attributes {
    /// The Project column.
    pub project: Sym,
    /// Entity Username.
    pub username: Sym,
    /// Entity Email, with surrounding `<…>` removed.
    pub email: Sym,
    /// Entity Status (free text: active, inactive, suspended, …).
    pub status: Sym,
    /// Entity First Name.
    pub first_name: Sym,
    /// Entity Last Name.
    pub last_name: Sym,
    /// Entity LastLoginTime, seconds since the Unix epoch (UTC).
    pub last_login: Option<i64>,
    /// Entity LastPasswordChangedTime, seconds since the Unix epoch (UTC).
    pub password_changed: Option<i64>,
    /// Entity MfaEnabled; `None` when the cell was empty.
    pub mfa: Option<bool>,
}

impl Attributes {
    /// The six string attributes, in column order: project, username,
    /// email, status, first name, last name.
    pub fn strings(&self) -> [Sym; 6] {
        [
            self.project,
            self.username,
            self.email,
            self.status,
            self.first_name,
            self.last_name,
        ]
    }
}

/// One entity: an identity, a connection or a resource of one source.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entity {
    /// The import (app / integration) this entity belongs to.
    pub source: Sym,
    /// Entity Source ID: unique within `source`.
    pub id: Sym,
    /// Entity Name, from the first row that names the entity.
    pub name: Sym,
    /// Entity Type, from the first row that names the entity.
    pub kind: Kind,
    /// Entity Source Type (user, group, role, …), from the first row naming it.
    pub source_type: Sym,
    /// Subject attributes; `None` when the entity only ever appeared as a
    /// "Has Access To" target.
    pub attributes: Option<Attributes>,
    /// The first row that named the entity.
    pub origin: Provenance,
}

/// An HRIS employee: a person, not an account. Kept out of the access graph
/// (no [`Kind`], no edges): employees carry attributes and manager links
/// only.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Employee {
    /// The import this employee belongs to.
    pub source: Sym,
    /// Unique id (the name when the mapping gives no id).
    pub id: Sym,
    /// Name (the id when the mapping gives no name).
    pub name: Sym,
    /// Mapped attributes other than id, name and managers, in mapping
    /// order, from the first row.
    pub attributes: Vec<EmployeeAttribute>,
    /// Manager ids, lowercased: the reference compares them with lowercase
    /// employee ids.
    pub managers: Vec<Sym>,
    /// The first row naming the employee.
    pub origin: Provenance,
}

/// One attribute of an employee: its name, its text (what output shows and
/// what snapshots store: a boolean as `true` / `false`, a timestamp in RFC
/// 3339, a list joined by `, `) and its typed value, which findings and
/// queries read without parsing the text again.
///
/// The HRIS template's own attributes are typed by their name: `is_active`
/// a [`Value::Bool`], `start_date` and `termination_date` a
/// [`Value::Timestamp`]; every other attribute, custom properties included,
/// is [`Value::Text`] of its text. That is all a format-3 snapshot can
/// recover from the text it stores (the pair `(name, text)`, as before
/// attributes were typed), so a loaded model equals the imported one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EmployeeAttribute {
    /// The attribute name (`email`, `is_active`, a custom name, …).
    pub name: Sym,
    /// The value as text.
    pub text: Sym,
    /// The value, typed.
    pub value: EmployeeValue,
}

/// The typed value of an [`EmployeeAttribute`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EmployeeValue {
    /// Text: the attribute's text.
    Text,
    /// A boolean (`is_active`).
    Bool(bool),
    /// Seconds since the Unix epoch, UTC (`start_date`, `termination_date`).
    Timestamp(i64),
}

impl EmployeeAttribute {
    /// Whether attribute `name` is a timestamp of the HRIS template.
    pub fn is_timestamp_name(name: &str) -> bool {
        matches!(name, "start_date" | "termination_date")
    }

    /// The attribute `name` = `text`, typed by its name as the importer
    /// types it (see [`EmployeeAttribute`]): only text in the form the
    /// importer writes is typed, so the text always round-trips.
    pub fn typed(strings: &Interner, name: Sym, text: Sym) -> EmployeeAttribute {
        let (key, value) = (strings.resolve(name), strings.resolve(text));
        let value = match (key, value) {
            ("is_active", "true") => EmployeeValue::Bool(true),
            ("is_active", "false") => EmployeeValue::Bool(false),
            (key, value) if Self::is_timestamp_name(key) => {
                match crate::import::parse_timestamp(value) {
                    Some(t) if crate::import::format_timestamp(t) == value => {
                        EmployeeValue::Timestamp(t)
                    }
                    _ => EmployeeValue::Text,
                }
            }
            _ => EmployeeValue::Text,
        };
        EmployeeAttribute { name, text, value }
    }
}

// Snapshots store an attribute as the pair `(name, text)` (format 3, as
// before attributes were typed); `snapshot` types it again by its name
// after loading, through [`EmployeeAttribute::typed`], once the strings
// are known.
impl Serialize for EmployeeAttribute {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        (self.name, self.text).serialize(s)
    }
}

impl<'de> Deserialize<'de> for EmployeeAttribute {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let (name, text) = <(Sym, Sym)>::deserialize(d)?;
        Ok(EmployeeAttribute {
            name,
            text,
            value: EmployeeValue::Text,
        })
    }
}

impl Model {
    /// Types every employee attribute by its name (see
    /// [`EmployeeAttribute::typed`]): what a loaded snapshot, which stores
    /// text only, needs once its strings are read.
    pub fn type_employee_attributes(&mut self) {
        let strings = &self.strings;
        for e in &mut self.employees {
            for a in &mut e.attributes {
                *a = EmployeeAttribute::typed(strings, a.name, a.text);
            }
        }
    }
}

/// A typed property of an entity from a mapped import: the Application
/// template's built-in attributes that have no column in the 19-column
/// format (created / deactivated times, owner) and every custom property.
/// Set from the first row naming the entity, like every other attribute.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Property {
    /// The entity described.
    pub entity: EntityIdx,
    /// The attribute name (`created_at`, `owner_id`, …) or the custom
    /// property's name as the mapping gives it.
    pub name: Sym,
    /// The value, typed as the mapping says.
    pub value: Value,
    /// Whether `name` is a custom property (not a template attribute).
    pub custom: bool,
}

/// A property's value, typed as its mapping declares.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Value {
    /// Text.
    Text(Sym),
    /// A decimal number, kept as written (validated).
    Number(Sym),
    /// A boolean under the reference's rules.
    Bool(bool),
    /// Seconds since the Unix epoch (UTC).
    Timestamp(i64),
    /// A comma-separated list, split and trimmed.
    List(Vec<Sym>),
}

/// One relationship *from → has access to → to*, merged over every row that
/// states it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Edge {
    /// The entity holding the access.
    pub from: EntityIdx,
    /// The entity accessed.
    pub to: EntityIdx,
    /// Permission Name, defaults applied.
    pub permission: Sym,
    /// Permission Value: `false` records that the access is *not* held; such
    /// an edge is kept and explained but grants nothing and is not traversed.
    /// When rows disagree the edge counts as granted (see [`Conflict`]).
    pub granted: bool,
    /// The first row stating the edge.
    pub origin: Provenance,
    /// How many accepted rows state this edge.
    pub rows: u32,
}

/// One input file (or stdin) and what was read from it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceFile {
    /// The path as given on the command line (`-` for stdin).
    pub path: PathBuf,
    /// The source name entities of this file belong to.
    pub source: Sym,
    /// Size in bytes.
    pub bytes: u64,
    /// blake3 digest of the file's bytes, lowercase hex.
    pub blake3: String,
}

/// Something the input said twice, differently. Reported, never silently
/// merged.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Conflict {
    /// An entity declared with two different Entity Types; the first wins.
    Kind {
        /// The entity.
        entity: EntityIdx,
        /// The type the entity keeps, from its first row.
        kept: Kind,
        /// The type a later row declared.
        other: Kind,
        /// That later row.
        at: Provenance,
    },
    /// An entity declared with two different Entity Source Types.
    SourceType {
        /// The entity.
        entity: EntityIdx,
        /// The source type the entity keeps.
        kept: Sym,
        /// The source type a later row declared.
        other: Sym,
        /// That later row.
        at: Provenance,
    },
    /// Rows disagree on one edge's Permission Value; the edge counts as
    /// granted.
    PermissionValue {
        /// The edge.
        edge: EdgeIdx,
        /// A row saying `true`.
        granted_at: Provenance,
        /// A row saying `false`.
        denied_at: Provenance,
    },
}

/// The imported data: entities, edges, sources and conflicts, all referring to
/// one string table.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Model {
    /// Every string.
    pub strings: Interner,
    /// Every input file, in command-line order.
    pub sources: Vec<SourceFile>,
    /// Every entity, in order of first appearance.
    pub entities: Vec<Entity>,
    /// Every distinct edge `(from, to, permission)`, in order of first row.
    pub edges: Vec<Edge>,
    /// Conflicting declarations, in input order.
    pub conflicts: Vec<Conflict>,
    /// HRIS employees, in order of first appearance; not part of the access
    /// graph.
    #[serde(default)]
    pub employees: Vec<Employee>,
    /// Typed properties of entities from mapped imports, in order of first
    /// appearance; at most one per (entity, name).
    #[serde(default)]
    pub properties: Vec<Property>,
    /// Identity-to-employee mapping files (`--people-map`): accepted rows as
    /// loaded, rejected rows, and whether automatic matching is on. Links
    /// are derived from it by `people::People::new`.
    #[serde(default)]
    pub people_map: PeopleMap,
    /// The files read besides the data CSVs (mapping TOMLs, people maps)
    /// and the options that changed what was read: what a snapshot records
    /// to prove how its data was made.
    #[serde(default)]
    pub inputs: InputRecord,
}

/// A file as read: where, how big, and its blake3 digest, so a later run
/// can prove a file on disk is byte-identical to it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileDigest {
    /// The path as given on the command line.
    pub path: PathBuf,
    /// Size in bytes.
    pub bytes: u64,
    /// blake3 digest of the file's bytes, lowercase hex.
    pub blake3: String,
}

impl FileDigest {
    /// The digest of `bytes`, read from `path`.
    pub fn of(path: &Path, bytes: &[u8]) -> FileDigest {
        FileDigest {
            path: path.to_path_buf(),
            bytes: bytes.len() as u64,
            blake3: blake3::hash(bytes).to_hex().to_string(),
        }
    }
}

/// A mapping file (`FILE.csv:MAPPING.toml` or `--mapping`) that shaped a
/// mapped import: the file as read and its text, which whocan parses again
/// to show the mapping.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MappingFile {
    /// Path, size and digest.
    pub file: FileDigest,
    /// The TOML text, as read (its digest is `file.blake3`).
    pub text: String,
    /// The data files read with it, in command-line order.
    pub data: Vec<PathBuf>,
}

/// The options given on the command line that change what is read.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoadOptions {
    /// `--source`: the source name of every file without its own `NAME=`.
    pub source: Option<String>,
    /// `--mapping`: the mapping file of every CSV without its own.
    pub mapping: Option<PathBuf>,
    /// `--no-auto-map`: identities linked by mapping rows only.
    pub no_auto_map: bool,
}

/// Everything read besides the data CSVs, as [`Model::inputs`] records it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputRecord {
    /// Mapping files, in the order first used.
    pub mappings: Vec<MappingFile>,
    /// People-map files (`--people-map`), in the order read: one per entry
    /// of [`PeopleMap::files`].
    pub people_maps: Vec<FileDigest>,
    /// The options that changed the result.
    pub options: LoadOptions,
}

impl InputRecord {
    /// Records that `data` was read with the mapping file `path`, whose
    /// bytes are `bytes` (UTF-8 text): a mapping used for several files is
    /// recorded once.
    pub fn record_mapping(&mut self, path: &Path, bytes: &[u8], data: &Path) {
        let file = FileDigest::of(path, bytes);
        match self.mappings.iter_mut().find(|m| m.file == file) {
            Some(known) => known.data.push(data.to_path_buf()),
            None => self.mappings.push(MappingFile {
                file,
                text: String::from_utf8_lossy(bytes).into_owned(),
                data: vec![data.to_path_buf()],
            }),
        }
    }
}

/// How an identity relates to an employee
/// (reference/balkanid-identity-employee-mapping.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Relation {
    /// The account the employee logs into and uses.
    Is,
    /// A service account the employee is responsible for.
    Owns,
}

impl Relation {
    /// `IS` or `OWNS`, as written in mapping files.
    pub fn as_str(self) -> &'static str {
        match self {
            Relation::Is => "IS",
            Relation::Owns => "OWNS",
        }
    }
}

/// One accepted row of an identity-to-employee mapping file, as loaded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeopleMapRow {
    /// The Source column (may be empty when the id is unique).
    pub source: String,
    /// Identity ID.
    pub identity_id: String,
    /// Employee Email, `<…>` stripped, as written otherwise.
    pub employee_email: String,
    /// The Relation column.
    pub relation: Relation,
    /// The mapping file, as given.
    pub file: PathBuf,
    /// 1-based line of the record.
    pub line: u64,
}

/// Why a row was rejected, for counting; the full text is in
/// [`Rejection::reason`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum RejectKind {
    /// The row has more or fewer fields than the header.
    FieldCount,
    /// A cell is not valid UTF-8.
    Encoding,
    /// A cell is longer than [`crate::import::MAX_CELL_BYTES`].
    CellTooLong,
    /// A required cell is empty.
    EmptyRequired,
    /// An Entity Type is not identity, connection or resource.
    UnknownEntityType,
    /// A boolean cell is not a boolean.
    BadBoolean,
    /// A timestamp cell is not a timestamp.
    BadTimestamp,
    /// A number cell (mapped custom property) is not a number.
    BadNumber,
    /// The record passes [`crate::import::records::MAX_RECORD_BYTES`] or
    /// [`crate::import::records::MAX_RECORD_FIELDS`]; it is skipped unread.
    RecordTooLong,
    /// A people-map row that links nothing (an unknown identity or
    /// employee, a bad relation, an unreadable or overlong record).
    PeopleMap,
    /// A review decisions row that cannot be read or checked
    /// (`whocan review decisions`).
    Decision,
}

impl RejectKind {
    /// A short label for reports.
    pub fn label(self) -> &'static str {
        match self {
            RejectKind::FieldCount => "wrong field count",
            RejectKind::Encoding => "invalid UTF-8",
            RejectKind::CellTooLong => "cell too long",
            RejectKind::EmptyRequired => "empty required field",
            RejectKind::UnknownEntityType => "unknown entity type",
            RejectKind::BadBoolean => "bad boolean",
            RejectKind::BadTimestamp => "bad timestamp",
            RejectKind::BadNumber => "bad number",
            RejectKind::RecordTooLong => "record too long",
            RejectKind::PeopleMap => "people-map row",
            RejectKind::Decision => "decision row",
        }
    }
}

/// One rejected row, of any input: a data CSV (every kind but
/// [`RejectKind::PeopleMap`]) or a people map (that kind, and no `record`:
/// the people map's rows have never been kept raw, and format-3 snapshots
/// store these four fields only; see [`PeopleMap::rejections`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejection {
    /// The file, as given.
    pub file: PathBuf,
    /// 1-based line where the record starts.
    pub line: u64,
    /// 1-based field number the problem is in.
    pub column: usize,
    /// The category.
    pub kind: RejectKind,
    /// A sentence naming the header and quoting the value.
    pub reason: String,
    /// The raw record, as CSV text (lossy UTF-8, cut at 1 KiB), so a person
    /// can fix and re-import it.
    pub record: String,
}

impl Rejection {
    /// A people-map row's rejection: kind [`RejectKind::PeopleMap`], no
    /// raw record.
    pub fn people_map(file: &Path, line: u64, column: usize, reason: String) -> Rejection {
        Rejection {
            file: file.to_path_buf(),
            line,
            column,
            kind: RejectKind::PeopleMap,
            reason,
            record: String::new(),
        }
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file.display(),
            self.line,
            self.column,
            self.reason
        )
    }
}

/// One mapping file and what was read from it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeopleMapFile {
    /// The file, as given.
    pub path: PathBuf,
    /// Data rows read (the header excluded).
    pub rows_read: u64,
    /// Rows accepted.
    pub rows_accepted: u64,
    /// Rows rejected.
    pub rows_rejected: u64,
}

/// Everything the identity-to-employee mapping files said.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeopleMap {
    /// Every mapping file, in command-line order.
    pub files: Vec<PeopleMapFile>,
    /// Accepted rows, in input order (identical rows kept: provenance).
    pub rows: Vec<PeopleMapRow>,
    /// Rejected rows, in input order, all of kind [`RejectKind::PeopleMap`]
    /// (stored in snapshots as file, line, column and reason).
    #[serde(with = "people_map_rejections")]
    pub rejections: Vec<Rejection>,
    /// `--no-auto-map`: identities are linked by explicit rows only.
    pub no_auto_map: bool,
}

impl Model {
    /// The string behind a symbol.
    pub fn str(&self, sym: Sym) -> &str {
        self.strings.resolve(sym)
    }

    /// The entity at `idx`.
    pub fn entity(&self, idx: EntityIdx) -> &Entity {
        &self.entities[idx as usize]
    }

    /// Formats a provenance as `path:line`.
    pub fn location(&self, at: Provenance) -> String {
        let path = self
            .sources
            .get(at.file as usize)
            .map(|s| s.path.display().to_string())
            .unwrap_or_else(|| "?".into());
        format!("{path}:{}", at.line)
    }
}

/// The snapshot encoding of [`PeopleMap::rejections`]: file, line, column
/// and reason, as format 3 has always stored them (a people-map rejection
/// has no raw record, and its kind is always [`RejectKind::PeopleMap`]).
mod people_map_rejections {
    use std::path::PathBuf;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::{RejectKind, Rejection};

    #[derive(Serialize)]
    struct Stored<'a> {
        file: &'a PathBuf,
        line: u64,
        column: usize,
        reason: &'a str,
    }

    #[derive(Deserialize)]
    struct Loaded {
        file: PathBuf,
        line: u64,
        column: usize,
        reason: String,
    }

    /// Writes each rejection as its four stored fields.
    pub fn serialize<S: Serializer>(rejections: &[Rejection], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(rejections.iter().map(|r| Stored {
            file: &r.file,
            line: r.line,
            column: r.column,
            reason: &r.reason,
        }))
    }

    /// Reads the four stored fields back into people-map rejections.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Rejection>, D::Error> {
        let loaded = Vec::<Loaded>::deserialize(d)?;
        Ok(loaded
            .into_iter()
            .map(|r| Rejection {
                file: r.file,
                line: r.line,
                column: r.column,
                kind: RejectKind::PeopleMap,
                reason: r.reason,
                record: String::new(),
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// People-map rejections are `Rejection`s, but a snapshot stores them
    /// exactly as format 3 always has (file, line, column, reason), and
    /// reads them back equal.
    #[test]
    fn people_map_rejections_keep_their_format_3_encoding() {
        #[derive(Serialize)]
        struct Format3 {
            files: Vec<PeopleMapFile>,
            rows: Vec<PeopleMapRow>,
            rejections: Vec<(PathBuf, u64, usize, String)>,
            no_auto_map: bool,
        }
        let rejection = Rejection::people_map(
            Path::new("map.csv"),
            7,
            3,
            "no identity has Source \"x\"".into(),
        );
        let map = PeopleMap {
            rejections: vec![rejection.clone()],
            no_auto_map: true,
            ..PeopleMap::default()
        };
        let config = bincode::config::standard();
        let bytes = bincode::serde::encode_to_vec(&map, config).unwrap();
        let format3 = Format3 {
            files: Vec::new(),
            rows: Vec::new(),
            rejections: vec![(rejection.file, 7, 3, rejection.reason)],
            no_auto_map: true,
        };
        assert_eq!(
            bytes,
            bincode::serde::encode_to_vec(&format3, config).unwrap()
        );
        let (back, _): (PeopleMap, usize) =
            bincode::serde::decode_from_slice(&bytes, config).unwrap();
        assert_eq!(back, map);
    }
}
