//! The data model: interned strings, entities keyed by `(source, Entity Source
//! ID)`, edges with provenance, source files with their digests, and the
//! conflicts found while importing.
//!
//! Everything here is plain data (serde-serialisable for snapshots); it does
//! no I/O. `import` fills a [`Model`], `graph` indexes it, `expand` derives
//! effective access from it.

use std::fmt;
use std::path::PathBuf;

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

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

/// A string table: every id, name and attribute is stored once.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Interner {
    strings: Vec<Box<str>>,
    #[serde(skip)]
    index: FxHashMap<Box<str>, Sym>,
}

impl Default for Interner {
    fn default() -> Self {
        let mut interner = Interner {
            strings: Vec::new(),
            index: FxHashMap::default(),
        };
        interner.intern("");
        interner
    }
}

impl Interner {
    /// Returns the symbol for `s`, adding it if it is new.
    pub fn intern(&mut self, s: &str) -> Sym {
        if let Some(&sym) = self.index.get(s) {
            return sym;
        }
        let sym = Sym(self.strings.len() as u32);
        let boxed: Box<str> = s.into();
        self.strings.push(boxed.clone());
        self.index.insert(boxed, sym);
        sym
    }

    /// Returns the symbol for `s` if it was ever interned.
    pub fn get(&self, s: &str) -> Option<Sym> {
        self.index.get(s).copied()
    }

    /// The string behind `sym`.
    pub fn resolve(&self, sym: Sym) -> &str {
        &self.strings[sym.0 as usize]
    }

    /// Number of distinct strings.
    pub fn len(&self) -> usize {
        self.strings.len()
    }

    /// Never true: the empty string is always interned.
    pub fn is_empty(&self) -> bool {
        self.strings.is_empty()
    }

    /// Rebuilds the lookup index after deserialisation, refusing a table whose
    /// first string is not `""` or that holds the same string twice.
    pub fn rebuild_index(&mut self) -> Result<(), String> {
        if self.strings.first().map(|s| &**s) != Some("") {
            return Err("string table does not start with the empty string".into());
        }
        self.index.clear();
        self.index.reserve(self.strings.len());
        for (i, s) in self.strings.iter().enumerate() {
            if self.index.insert(s.clone(), Sym(i as u32)).is_some() {
                return Err(format!("string table holds {s:?} twice"));
            }
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
