//! The command line's inputs, loaded: CSV files (19-column or
//! `FILE.csv:MAPPING.toml`, each optionally `NAME=` to name its source, see
//! [`split_input`]), one snapshot recognised by its content (alone,
//! or as a base whose sources CSV re-uploads replace, see `crate::replace`),
//! then people maps. [`load`] returns the model, its [`ImportReport`] and
//! what a re-upload replaced; refused files are entries of the report, never
//! errors, so one run reports every problem.
//!
//! This module decides and reads; it prints nothing. `cli` turns the
//! [`Observer`] calls into progress bars and the report into messages and
//! exit codes.
//!
//! A snapshot on standard input is spooled here (see
//! [`spool_stdin_snapshot`]) rather than in `cli`: the importer already
//! reads `-` from stdin in the library, and telling a snapshot from CSV by
//! its first bytes is the same decision for a file and for stdin.

use std::io::{self, BufRead};
use std::path::{Path, PathBuf};

use super::{FileOptions, FileReport, ImportReport, Importer, ProgressHook, default_source};
use crate::model::{InputRecord, LoadOptions, Model};
use crate::replace::Replacement;

/// What to load: the data arguments of a command, as given.
#[derive(Clone, Debug, Default)]
pub struct Inputs {
    /// Input files as given: CSV files, `-` for stdin, `FILE.csv:MAPPING.toml`
    /// pairs, or one snapshot; a CSV argument may start with `NAME=` to
    /// name its source (see [`split_input`]).
    pub files: Vec<PathBuf>,
    /// `--source`: the source name of every file given without its own
    /// `NAME=`.
    pub source: Option<String>,
    /// `--mapping`: the mapping file for every CSV without its own.
    pub mapping: Option<PathBuf>,
    /// `--people-map` files, read after every data file.
    pub people_map: Vec<PathBuf>,
    /// `--no-auto-map`: link identities by mapping rows only.
    pub no_auto_map: bool,
}

impl Inputs {
    /// Every file these inputs read (each half of a `FILE.csv:MAPPING.toml`
    /// pair, `--mapping`, `--people-map`, `-` for stdin), in argument order;
    /// a `NAME=` prefix is not part of the path.
    pub fn paths(&self) -> Vec<PathBuf> {
        let mut paths = Vec::new();
        for arg in &self.files {
            let input = split_input(arg);
            paths.push(input.path);
            paths.extend(input.mapping);
        }
        paths.extend(self.mapping.iter().chain(&self.people_map).cloned());
        paths
    }
}

/// What [`load`] loaded.
#[derive(Debug, Default)]
pub struct Loaded {
    /// The model (empty when a snapshot or a re-upload was refused).
    pub model: Model,
    /// Every file read or refused, and every rejected row.
    pub report: ImportReport,
    /// What each re-uploaded source replaced in a snapshot base.
    pub replaced: Vec<Replacement>,
}

/// Told what [`load`] is doing, to draw progress; every method does nothing
/// by default.
pub trait Observer {
    /// A snapshot starts loading from `path`.
    fn loading_snapshot(&self, _path: &Path) {}
    /// The snapshot [`Observer::loading_snapshot`] announced is loaded (or
    /// refused).
    fn snapshot_loaded(&self) {}
    /// CSV files start importing.
    fn importing_started(&self) {}
    /// `csv` (of `total` bytes when known) starts importing; the hook
    /// returned, if any, is told the bytes read as reading goes on.
    fn importing_file(&self, _csv: &Path, _total: Option<u64>) -> Option<ProgressHook> {
        None
    }
    /// Every CSV file is read; rows are being merged into edges.
    fn merging(&self) {}
    /// CSV import is over.
    fn importing_finished(&self) {}
}

/// An [`Observer`] that draws nothing.
pub struct Quiet;

impl Observer for Quiet {}

/// An error's message followed by each source's that it does not already
/// contain, `: `-separated: how every refused file's reason is written.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut message = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = s.source();
    }
    message
}

/// Splits `FILE.csv:MAPPING.toml` into its two paths: only when the whole
/// argument is not an existing file and the part after the last `:` names a
/// `.toml` file (existing or not: a missing one is then reported as the
/// missing mapping file it is, not as a CSV that cannot be read).
pub fn split_mapped(arg: &Path) -> Option<(PathBuf, PathBuf)> {
    if arg.exists() {
        return None;
    }
    let text = arg.to_str()?;
    let (csv, mapping) = text.rsplit_once(':')?;
    let mapping = Path::new(mapping);
    let is_toml = mapping
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("toml"));
    (is_toml && !csv.is_empty()).then(|| (PathBuf::from(csv), mapping.to_path_buf()))
}

/// One data argument, split: `[NAME=]FILE[:MAPPING.toml]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Input {
    /// The source name given before `=`, if any: it wins over `--source`
    /// and over the mapping's `source`.
    pub name: Option<String>,
    /// The file to read (`-` for stdin).
    pub path: PathBuf,
    /// The mapping file given after `:`, if any.
    pub mapping: Option<PathBuf>,
}

/// Splits one data argument into its source name, file and mapping file:
/// `okta=okta-2026-01.csv`, `app=users.csv:app.toml`, `okta=-`, or a plain
/// path. See [`split_named`] for when a prefix is a name.
pub fn split_input(arg: &Path) -> Input {
    let (name, rest) = match split_named(arg) {
        Some((name, rest)) => (Some(name), rest),
        None => (None, arg.to_path_buf()),
    };
    match split_mapped(&rest) {
        Some((path, mapping)) => Input {
            name,
            path,
            mapping: Some(mapping),
        },
        None => Input {
            name,
            path: rest,
            mapping: None,
        },
    }
}

/// Splits `NAME=FILE` into the source name and the rest of the argument
/// (itself maybe `FILE.csv:MAPPING.toml`): only when `NAME` (everything
/// before the first `=`) is a source name (see [`is_source_name`]), the
/// rest is not empty, and neither the whole argument nor, for a
/// `FILE.csv:MAPPING.toml` pair, its whole CSV half is an existing file.
/// So a file literally named `a=b.csv` is still read as that file, and
/// `dir/a=b.csv` (a `/` is no name) is always a path.
pub fn split_named(arg: &Path) -> Option<(String, PathBuf)> {
    if arg.exists() || split_mapped(arg).is_some_and(|(csv, _)| csv.exists()) {
        return None;
    }
    let (name, rest) = arg.to_str()?.split_once('=')?;
    (is_source_name(name) && !rest.is_empty()).then(|| (name.to_string(), PathBuf::from(rest)))
}

/// True when `text` can be a source name given on the command line
/// (`NAME=FILE`): `^[A-Za-z0-9][A-Za-z0-9._-]*$`.
pub fn is_source_name(text: &str) -> bool {
    let mut chars = text.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

/// When stdin starts like a snapshot, copies all of it into a temporary
/// file (deleted when the returned path is dropped), because a snapshot is
/// read in sections and checked against its length before it is decoded;
/// `None` when it holds something else, with nothing consumed, so the CSV
/// reader gets all of it.
pub fn spool_stdin_snapshot() -> io::Result<Option<tempfile::TempPath>> {
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

/// `message` with the temporary copy of stdin named as given, `-`.
pub fn name_stdin(message: String, spooled: &Option<tempfile::TempPath>) -> String {
    match spooled {
        Some(spooled) => message.replace(&spooled.display().to_string(), "-"),
        None => message,
    }
}

/// Loads `inputs`: one snapshot alone stands in for the import (its model
/// and import report come back exactly as saved); one snapshot given with
/// CSV files is the base, and each CSV's source replaces that source in it
/// entirely (the reference's full re-upload); otherwise every CSV file is
/// imported. People maps are read last. A snapshot that fails to load, two
/// snapshots, or a re-upload that cannot be read, is a refused file in the
/// report and an empty model.
pub fn load(inputs: &Inputs, observer: &dyn Observer) -> Loaded {
    let (mut model, mut report, replaced) = match load_snapshot_input(inputs, observer) {
        SnapshotInput::None => {
            let (model, report) = import_csv(inputs, &inputs.files, observer);
            (model, report, Vec::new())
        }
        SnapshotInput::Only(model, report) => (model, report, Vec::new()),
        SnapshotInput::Base(base, base_report, others) => {
            let fresh = import_csv(inputs, &others, observer);
            if fresh.1.refused().next().is_some() {
                // Nothing is replaced by files that could not be read.
                return Loaded {
                    report: fresh.1,
                    ..Loaded::default()
                };
            }
            crate::replace::replace_sources((base, base_report), fresh)
        }
    };
    // What changed the result is recorded with the model; a snapshot alone
    // keeps what it was made with (only `--no-auto-map` can be added).
    let options = &mut model.inputs.options;
    if inputs.source.is_some() || inputs.mapping.is_some() {
        *options = LoadOptions {
            source: inputs.source.clone(),
            mapping: inputs.mapping.clone(),
            no_auto_map: options.no_auto_map,
        };
    }
    options.no_auto_map |= inputs.no_auto_map;
    // Mapping rows are checked against the identities and employees just
    // loaded, so people maps are read last (see `people_map::load`).
    model.people_map.no_auto_map |= inputs.no_auto_map;
    for path in &inputs.people_map {
        if let Err(e) = super::people_map::load(&mut model, path) {
            report.files.push(FileReport {
                path: path.clone(),
                source: "people-map".into(),
                refused: Some(error_chain(&e)),
                ..Default::default()
            });
        }
    }
    Loaded {
        model,
        report,
        replaced,
    }
}

/// Imports CSV `files` (19-column or mapped) with `inputs`' options.
fn import_csv(
    inputs: &Inputs,
    files: &[PathBuf],
    observer: &dyn Observer,
) -> (Model, ImportReport) {
    observer.importing_started();
    let mut importer = Importer::new();
    let mut record = InputRecord::default();
    for arg in files {
        let input = split_input(arg);
        // A per-file name wins over `--source`, which wins over the
        // mapping's `source` (see `import_mapped_reader`).
        let opts = FileOptions {
            source: input.name.or_else(|| inputs.source.clone()),
        };
        let path = &input.path;
        let mapping = input.mapping.or_else(|| inputs.mapping.clone());
        let total = (path.as_path() != Path::new("-"))
            .then(|| std::fs::metadata(path).ok().filter(|m| m.is_file()))
            .flatten()
            .map(|m| m.len());
        if let Some(hook) = observer.importing_file(path, total) {
            importer.set_progress(hook);
        }
        // A refused file is recorded in the report; keep going so one run
        // reports every problem.
        match mapping {
            None => {
                let _ = importer.import_path(path, &opts);
            }
            Some(mapping_path) => match super::mapped::Mapping::read(&mapping_path) {
                Ok((mapping, text)) => {
                    let _ = importer.import_mapped(path, &mapping, &opts);
                    record.record_mapping(&mapping_path, text.as_bytes(), path);
                }
                Err(e) => importer.refuse(path, &opts, e.to_string()),
            },
        }
    }
    observer.merging();
    let (mut model, report) = importer.finish();
    model.inputs = record;
    observer.importing_finished();
    (model, report)
}

/// What the snapshot among the inputs is for.
enum SnapshotInput {
    /// Every input is CSV.
    None,
    /// The snapshot is the only input (or it could not be loaded: the model
    /// is empty and the report says why).
    Only(Model, ImportReport),
    /// A snapshot given with CSV files: the base they replace sources of.
    Base(Model, ImportReport, Vec<PathBuf>),
}

/// A report of one refused file, and an empty model.
fn refused(path: &Path, reason: String) -> SnapshotInput {
    let report = ImportReport {
        files: vec![FileReport {
            path: path.to_path_buf(),
            source: default_source(path),
            refused: Some(reason),
            ..Default::default()
        }],
        rejections: Vec::new(),
    };
    SnapshotInput::Only(Model::default(), report)
}

/// Loads the snapshot among `inputs.files`, if there is one (`-` included:
/// a snapshot on stdin is recognised by content too). Two snapshots, a
/// `NAME=` on a snapshot, or `--source` with a snapshot alone, are refused:
/// a snapshot keeps the source names it was made with (a base's re-uploads
/// are CSV files, named as any CSV file is).
fn load_snapshot_input(inputs: &Inputs, observer: &dyn Observer) -> SnapshotInput {
    let stdin = Path::new("-");
    let args: Vec<(&PathBuf, Input)> = inputs.files.iter().map(|a| (a, split_input(a))).collect();
    let spooled = match args.iter().any(|(_, input)| input.path.as_path() == stdin) {
        true => spool_stdin_snapshot(),
        false => Ok(None),
    };
    let spooled = match spooled {
        Ok(spooled) => spooled,
        Err(e) => return refused(stdin, format!("-: cannot read stdin: {e}")),
    };
    // A file that cannot be opened is left to the importer, which reports it.
    let snapshots: Vec<&(&PathBuf, Input)> = args
        .iter()
        .filter(|(_, input)| input.mapping.is_none())
        .filter(|(_, input)| match input.path.as_path() == stdin {
            true => spooled.is_some(),
            false => crate::snapshot::is_snapshot_file(&input.path).unwrap_or(false),
        })
        .collect();
    let Some((first_arg, first_input)) = snapshots.first() else {
        return SnapshotInput::None;
    };
    let first = &first_input.path;
    if snapshots.len() > 1 {
        return refused(
            first,
            format!(
                "{}: only one snapshot can be loaded at a time (to compare two, use `whocan diff OLD NEW`)",
                first.display()
            ),
        );
    }
    if let Some(name) = &first_input.name {
        return refused(
            first,
            format!(
                "{}: a source name ({name}=) does not apply to a snapshot: it keeps the source names it was made with",
                first.display()
            ),
        );
    }
    let others: Vec<PathBuf> = inputs
        .files
        .iter()
        .filter(|p| p != first_arg)
        .cloned()
        .collect();
    if inputs.source.is_some() && others.is_empty() {
        return refused(
            first,
            format!(
                "{}: --source does not apply to a snapshot: it keeps the source names it was made with",
                first.display()
            ),
        );
    }
    observer.loading_snapshot(first);
    let loaded = match &spooled {
        Some(spooled) if first.as_path() == stdin => crate::snapshot::load(spooled),
        _ => crate::snapshot::load(first),
    };
    observer.snapshot_loaded();
    match loaded {
        Ok(snapshot) if others.is_empty() => SnapshotInput::Only(snapshot.model, snapshot.report),
        Ok(snapshot) => SnapshotInput::Base(snapshot.model, snapshot.report, others),
        Err(e) => {
            let message = match e {
                // An I/O error already names the path.
                crate::snapshot::SnapshotError::Io { .. } => error_chain(&e),
                e => format!("{}: {}", first.display(), error_chain(&e)),
            };
            // Name stdin as given, not the temporary copy.
            refused(first, name_stdin(message, &spooled))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(path: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures")
            .join(path)
    }

    #[test]
    fn mapping_pairs_split_only_when_the_argument_is_no_file() {
        let pair = split_mapped(Path::new("users.csv:app.toml"));
        assert_eq!(
            pair,
            Some((PathBuf::from("users.csv"), PathBuf::from("app.toml")))
        );
        assert_eq!(split_mapped(Path::new("users.csv:notes.txt")), None);
        assert_eq!(split_mapped(Path::new(":app.toml")), None);
        assert_eq!(split_mapped(&fixture("nested_groups.csv")), None);
    }

    #[test]
    fn issue_16_a_name_prefix_splits_only_when_it_is_a_name_and_no_file() {
        let input = |arg: &str| split_input(Path::new(arg));
        let named = |name: &str, path: &str, mapping: Option<&str>| Input {
            name: Some(name.into()),
            path: path.into(),
            mapping: mapping.map(PathBuf::from),
        };
        let plain = |path: &str| Input {
            name: None,
            path: path.into(),
            mapping: None,
        };
        assert_eq!(
            input("okta=okta-2026-01.csv"),
            named("okta", "okta-2026-01.csv", None)
        );
        assert_eq!(
            input("app=users.csv:app.toml"),
            named("app", "users.csv", Some("app.toml"))
        );
        assert_eq!(input("okta=-"), named("okta", "-", None));
        assert_eq!(input("a.b_c-9=x=y.csv"), named("a.b_c-9", "x=y.csv", None));
        // Not a name: a space, a leading `.`, a `/`, nothing before or after.
        assert_eq!(input("bad name=x.csv"), plain("bad name=x.csv"));
        assert_eq!(input(".hidden=x.csv"), plain(".hidden=x.csv"));
        assert_eq!(input("dir/a=b.csv"), plain("dir/a=b.csv"));
        assert_eq!(input("=x.csv"), plain("=x.csv"));
        assert_eq!(input("okta="), plain("okta="));
        assert_eq!(input("okta.csv"), plain("okta.csv"));
        // An existing file is read as itself, whatever its name holds.
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a=b.csv");
        std::fs::write(&file, "").unwrap();
        assert_eq!(split_named(&file), None);
        assert!(!is_source_name(&file.display().to_string()));
        assert!(is_source_name("okta") && is_source_name("9") && !is_source_name(""));
    }

    #[test]
    fn issue_16_a_per_file_name_wins_over_source_and_the_mapping() {
        let app = fixture("mapped/app.csv");
        let toml = fixture("mapped/app.toml");
        let inputs = Inputs {
            files: vec![
                format!("crm={}:{}", app.display(), toml.display()).into(),
                format!("okta={}", fixture("people/okta.csv").display()).into(),
                fixture("people/okta.csv"),
            ],
            source: Some("given".into()),
            ..Inputs::default()
        };
        let loaded = load(&inputs, &Quiet);
        let sources: Vec<(&str, String)> = loaded
            .report
            .files
            .iter()
            .map(|f| (f.source.as_str(), f.path.display().to_string()))
            .collect();
        assert_eq!(
            sources,
            [
                ("crm", app.display().to_string()),
                ("okta", fixture("people/okta.csv").display().to_string()),
                ("given", fixture("people/okta.csv").display().to_string()),
            ]
        );
        assert_eq!(inputs.paths()[..3], [app, toml, fixture("people/okta.csv")]);
    }

    #[test]
    fn every_input_path_is_listed_halves_of_pairs_included() {
        let inputs = Inputs {
            files: vec!["a.csv".into(), "b.csv:m.toml".into(), "-".into()],
            mapping: Some("all.toml".into()),
            people_map: vec!["p.csv".into()],
            ..Inputs::default()
        };
        let paths: Vec<String> = inputs
            .paths()
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        assert_eq!(
            paths,
            ["a.csv", "b.csv", "m.toml", "-", "all.toml", "p.csv"]
        );
    }

    #[test]
    fn refused_files_are_reported_and_people_maps_read_last() {
        let inputs = Inputs {
            files: vec![fixture("people/okta.csv"), fixture("missing.csv")],
            people_map: vec![fixture("people/missing_map.csv")],
            ..Inputs::default()
        };
        let loaded = load(&inputs, &Quiet);
        let refused: Vec<&str> = loaded.report.refused().map(|f| f.source.as_str()).collect();
        assert_eq!(refused, ["missing", "people-map"]);
        assert!(!loaded.model.entities.is_empty());
        assert!(loaded.replaced.is_empty());
    }
}
