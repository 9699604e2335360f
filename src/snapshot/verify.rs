//! `snapshot verify --sources`: every file a snapshot records (data CSVs,
//! mapping TOMLs, people maps — formats 1 to 3 record data CSVs only)
//! compared with files on disk by size and blake3 digest.
//!
//! A file given is matched with the recorded file of the same path, else of
//! the same file name (when only one has it), else of the same content; so a
//! snapshot moved to another machine is still verified against copies of its
//! inputs under other directories.

use std::io;
use std::path::{Path, PathBuf};

use super::{Metadata, SnapshotError};

/// What a recorded file was read as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordedKind {
    /// A data CSV (19-column, or mapped).
    Data,
    /// A mapping TOML.
    Mapping,
    /// An identity-to-employee mapping CSV (`--people-map`).
    PeopleMap,
}

impl RecordedKind {
    /// How messages name it: `source`, `mapping file`, `people map`.
    pub fn noun(self) -> &'static str {
        match self {
            RecordedKind::Data => "source",
            RecordedKind::Mapping => "mapping file",
            RecordedKind::PeopleMap => "people map",
        }
    }

    /// How machine formats name it: `data`, `mapping`, `people-map`.
    pub fn as_str(self) -> &'static str {
        match self {
            RecordedKind::Data => "data",
            RecordedKind::Mapping => "mapping",
            RecordedKind::PeopleMap => "people-map",
        }
    }
}

/// One file a snapshot records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordedFile<'a> {
    /// What it was read as.
    pub kind: RecordedKind,
    /// The path as given when the snapshot was made.
    pub path: &'a Path,
    /// Size in bytes.
    pub bytes: u64,
    /// blake3 digest, lowercase hex.
    pub blake3: &'a str,
}

impl Metadata {
    /// Every file the snapshot records: data files, then mapping files,
    /// then people maps, each in command-line order.
    pub fn recorded_files(&self) -> Vec<RecordedFile<'_>> {
        let data = self.sources.iter().map(|s| RecordedFile {
            kind: RecordedKind::Data,
            path: &s.path,
            bytes: s.bytes,
            blake3: &s.blake3,
        });
        let recorded = self.recorded.iter();
        let mappings = recorded
            .clone()
            .flat_map(|r| &r.mappings)
            .map(|m| RecordedFile {
                kind: RecordedKind::Mapping,
                path: &m.file.path,
                bytes: m.file.bytes,
                blake3: &m.file.blake3,
            });
        let people = recorded.flat_map(|r| &r.people_maps).map(|p| RecordedFile {
            kind: RecordedKind::PeopleMap,
            path: &p.file.path,
            bytes: p.file.bytes,
            blake3: &p.file.blake3,
        });
        data.chain(mappings).chain(people).collect()
    }
}

/// What one file given to `verify --sources` is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FileCheck<'a> {
    /// Byte-identical to the recorded file.
    Identical {
        /// The file given.
        given: PathBuf,
        /// The recorded file it matched.
        recorded: RecordedFile<'a>,
    },
    /// Matched a recorded file by path or name, but its bytes differ.
    Differs {
        /// The file given.
        given: PathBuf,
        /// The recorded file it matched.
        recorded: RecordedFile<'a>,
        /// Its size now.
        bytes: u64,
        /// Its digest now.
        blake3: String,
    },
    /// No recorded file has its path, file name or content.
    NotRecorded {
        /// The file given.
        given: PathBuf,
        /// Its digest.
        blake3: String,
    },
}

/// The outcome of `verify --sources`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verification<'a> {
    /// One check per file given, in the order given.
    pub checks: Vec<FileCheck<'a>>,
    /// The recorded files no given file matched, in recorded order.
    pub unchecked: Vec<RecordedFile<'a>>,
}

impl Verification<'_> {
    /// True when every file given is identical to a recorded one.
    pub fn passed(&self) -> bool {
        (self.checks.iter()).all(|c| matches!(c, FileCheck::Identical { .. }))
    }
}

/// Compares each of `given` with the file `meta` records for it (see the
/// module documentation for the matching). A file that cannot be read is
/// an error: nothing can be said about it.
pub fn verify_files<'a>(
    meta: &'a Metadata,
    given: &[PathBuf],
) -> Result<Verification<'a>, SnapshotError> {
    let recorded = meta.recorded_files();
    let mut matched = vec![false; recorded.len()];
    let mut checks = Vec::with_capacity(given.len());
    for path in given {
        let (bytes, blake3) =
            digest_file(path).map_err(|e| SnapshotError::io(path, "cannot read", e))?;
        let by_path = || recorded.iter().position(|r| r.path == path.as_path());
        let by_name = || {
            let name = path.file_name()?;
            let mut found = (recorded.iter().enumerate())
                .filter(|(_, r)| r.path.file_name() == Some(name))
                .map(|(i, _)| i);
            match (found.next(), found.next()) {
                (Some(i), None) => Some(i),
                _ => None,
            }
        };
        let by_content = || recorded.iter().position(|r| r.blake3 == blake3);
        let given = path.clone();
        checks.push(match by_path().or_else(by_name).or_else(by_content) {
            Some(i) => {
                matched[i] = true;
                let recorded = recorded[i];
                if recorded.blake3 == blake3 && recorded.bytes == bytes {
                    FileCheck::Identical { given, recorded }
                } else {
                    FileCheck::Differs {
                        given,
                        recorded,
                        bytes,
                        blake3,
                    }
                }
            }
            None => FileCheck::NotRecorded { given, blake3 },
        });
    }
    let unchecked = (recorded.iter().zip(&matched))
        .filter(|(_, done)| !**done)
        .map(|(r, _)| *r)
        .collect();
    Ok(Verification { checks, unchecked })
}

/// Size and blake3 digest (hex) of a file, streamed.
fn digest_file(path: &Path) -> io::Result<(u64, String)> {
    let file = std::fs::File::open(path)?;
    let mut hasher = blake3::Hasher::new();
    let bytes = io::copy(&mut io::BufReader::new(file), &mut hasher)?;
    Ok((bytes, hasher.finalize().to_hex().to_string()))
}
