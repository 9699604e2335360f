//! Issue 5: a snapshot stands in for its CSVs. Reports from a snapshot are
//! byte-identical to reports from the CSVs it was made from, on the fixtures
//! (through the library and through the `whocan` binary) and on random
//! organisations (proptest).

use std::path::{Path, PathBuf};
use std::process::Command;

use proptest::prelude::*;
use whocan::expand::Expansion;
use whocan::graph::AccessGraph;
use whocan::import::{FileOptions, ImportReport, Importer};
use whocan::model::Model;
use whocan::report::Format;
use whocan::snapshot::{self, Snapshot};

/// A fixed creation time: tests use no clock.
const CREATED: i64 = 1_795_000_000;

const FORMATS: [Format; 4] = [Format::Table, Format::Csv, Format::Json, Format::Jsonl];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn import_files(files: &[&str]) -> (Model, ImportReport) {
    let mut importer = Importer::new();
    for f in files {
        let _ = importer.import_path(&root().join(f), &FileOptions::default());
    }
    importer.finish()
}

fn import_text(csv: &str) -> (Model, ImportReport) {
    let mut importer = Importer::new();
    let _ = importer.import_reader(
        Path::new("org.csv"),
        csv.as_bytes(),
        &FileOptions::default(),
    );
    importer.finish()
}

fn access_report(model: Model, format: Format) -> Vec<u8> {
    let graph = AccessGraph::new(model);
    let mut out = Vec::new();
    whocan::report::access::write(&Expansion::new(&graph), format, &mut out).unwrap();
    out
}

/// Saves and reloads through bytes; returns the reloaded model and report.
fn round_trip(model: &Model, report: &ImportReport) -> (Model, ImportReport) {
    let snap = Snapshot::new(model.clone(), report.clone(), CREATED);
    let bytes = snapshot::encode(&snap).unwrap();
    let back = snapshot::decode(&bytes).unwrap();
    assert_eq!(back.metadata, snap.metadata);
    (back.model, back.report)
}

#[track_caller]
fn check_round_trip(model: Model, report: ImportReport) {
    let (back_model, back_report) = round_trip(&model, &report);
    assert_eq!(back_report, report);
    assert_eq!(back_model.entities, model.entities);
    assert_eq!(back_model.edges, model.edges);
    assert_eq!(back_model.sources, model.sources);
    assert_eq!(back_model.conflicts, model.conflicts);
    assert_eq!(back_model.employees, model.employees);
    assert_eq!(back_model.properties, model.properties);
    for format in FORMATS {
        assert_eq!(
            access_report(back_model.clone(), format),
            access_report(model.clone(), format),
            "{format:?}"
        );
    }
}

#[test]
fn issue_5_fixture_reports_are_identical_from_snapshot() {
    for files in [
        &["fixtures/reference_example.csv"][..],
        &["fixtures/github_alicegh.csv"],
        &[
            "fixtures/reference_example.csv",
            "fixtures/github_alicegh.csv",
        ],
        &["fixtures/diff/old.csv"],
        &["fixtures/diff/new.csv"],
    ] {
        let (model, report) = import_files(files);
        check_round_trip(model, report);
    }
}

#[test]
fn issue_6_employees_and_properties_survive_the_snapshot() {
    use whocan::model::EmployeeValue;
    let mut importer = Importer::new();
    for (csv, mapping) in [("app.csv", "app.toml"), ("hris.csv", "hris.toml")] {
        let dir = root().join("fixtures/mapped");
        let mapping = whocan::import::mapped::Mapping::load(&dir.join(mapping)).unwrap();
        importer
            .import_mapped(&dir.join(csv), &mapping, &FileOptions::default())
            .unwrap();
    }
    let (model, report) = importer.finish();
    assert!(!model.employees.is_empty());
    assert!(!model.properties.is_empty());
    // Employee attributes are typed values (#15.3), and the snapshot, which
    // stores their text, gives the same values back (compared in
    // `check_round_trip`).
    let values: Vec<_> = model
        .employees
        .iter()
        .flat_map(|e| e.attributes.iter().map(|a| a.value))
        .collect();
    assert!(values.iter().any(|v| matches!(v, EmployeeValue::Bool(_))));
    assert!(
        values
            .iter()
            .any(|v| matches!(v, EmployeeValue::Timestamp(_)))
    );
    check_round_trip(model, report);
}

#[test]
fn a_format_1_snapshot_is_still_read() {
    // Written by whocan before format 2 (employees and properties) from
    // these two CSVs; format 1 must stay readable for old audits.
    let bytes = std::fs::read(root().join("fixtures/snapshots/format_v1.wcs")).unwrap();
    assert_eq!(bytes[8..12], 1u32.to_le_bytes());
    let old = snapshot::decode(&bytes).unwrap();
    assert_eq!(old.metadata.format_version, 1);
    assert!(old.model.employees.is_empty() && old.model.properties.is_empty());
    let (model, report) = import_files(&[
        "fixtures/reference_example.csv",
        "fixtures/github_alicegh.csv",
    ]);
    assert_eq!(old.report.rows_read(), report.rows_read());
    for format in FORMATS {
        assert_eq!(
            access_report(old.model.clone(), format),
            access_report(model.clone(), format),
            "{format:?}"
        );
    }
}

/// The inputs `fixtures/snapshots/format_v2.wcs` was written from (by
/// whocan before format 3), as command-line arguments: a mapped app with
/// properties, HRIS employees, three 19-column sources (a rejected row, a
/// conflict) and a people map with rejected rows.
const FORMAT_V2_INPUTS: [&str; 7] = [
    "fixtures/mapped/app.csv:fixtures/mapped/app.toml",
    "fixtures/people/hr.csv:fixtures/people/hr.toml",
    "fixtures/people/okta.csv",
    "fixtures/people/github.csv",
    "fixtures/people/aws.csv",
    "--people-map",
    "fixtures/people/map.csv",
];

#[test]
fn a_format_2_snapshot_is_still_read() {
    let bytes = std::fs::read(root().join("fixtures/snapshots/format_v2.wcs")).unwrap();
    assert_eq!(bytes[8..12], 2u32.to_le_bytes());
    let old = snapshot::decode(&bytes).unwrap();
    assert_eq!(old.metadata.format_version, 2);
    assert_eq!(old.metadata.sources.len(), 5);
    assert_eq!(old.model.employees.len(), 7);
    assert_eq!(old.model.properties.len(), 23);
    assert_eq!(old.model.people_map.rows.len(), 6);
    assert_eq!(old.model.people_map.rejections.len(), 5);
    assert_eq!(old.model.conflicts.len(), 1);
    assert_eq!(old.report.rejections.len(), 1);
    // Everything a command shows from it is what the CSVs give today.
    let snap = "fixtures/snapshots/format_v2.wcs";
    for command in [
        &["report", "access", "--format", "csv"][..],
        &["report", "access", "--format", "json"],
        &["import"],
        &["import", "--format", "json"],
        &["stats"],
        &["people", "unmapped"],
    ] {
        let mut from_csv: Vec<&str> = command.to_vec();
        from_csv.extend_from_slice(&FORMAT_V2_INPUTS);
        let mut from_snap: Vec<&str> = command.to_vec();
        from_snap.push(snap);
        let (mut out, err, code) = whocan(&from_snap);
        assert_eq!(code, 0, "{command:?}: {err}");
        if command == ["people", "unmapped"] {
            out = without_recorded_mapped_usernames(&out);
        }
        assert_eq!((out, err, code), whocan(&from_csv), "{command:?}");
    }
}

#[test]
fn a_format_3_snapshot_is_still_read() {
    // Written by whocan before format 4 (the record of mapping files, people
    // maps and options) from the same inputs as the format-2 fixture.
    let bytes = std::fs::read(root().join("fixtures/snapshots/format_v3.wcs")).unwrap();
    assert_eq!(bytes[8..12], 3u32.to_le_bytes());
    let old = snapshot::decode(&bytes).unwrap();
    assert_eq!(old.metadata.format_version, 3);
    assert_eq!(old.metadata.recorded, None);
    assert_eq!(old.model.inputs, Default::default());
    assert_eq!(old.metadata.sources.len(), 5);
    assert_eq!(old.model.people_map.rejections.len(), 5);
    let snap = "fixtures/snapshots/format_v3.wcs";
    for command in [
        &["report", "access", "--format", "csv"][..],
        &["report", "access", "--format", "json"],
        &["import", "--format", "json"],
        &["stats"],
        &["people", "unmapped"],
        &["findings", "--as-of", "2026-06-01"],
    ] {
        let mut from_csv: Vec<&str> = command.to_vec();
        from_csv.extend_from_slice(&FORMAT_V2_INPUTS);
        let mut from_snap: Vec<&str> = command.to_vec();
        from_snap.push(snap);
        let (out, err, code) = whocan(&from_snap);
        assert!(code <= 1, "{command:?}: {err}");
        assert_eq!((out, err, code), whocan(&from_csv), "{command:?}");
    }
}

#[test]
fn issue_16_a_format_4_snapshot_records_and_restores_every_input() {
    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("s.wcs");
    let mut args = vec!["snapshot"];
    args.extend_from_slice(&FORMAT_V2_INPUTS);
    args.extend_from_slice(&["--no-auto-map", "-o", snap.to_str().unwrap()]);
    let (_, err, code) = whocan(&args);
    assert_eq!(code, 0, "{err}");
    let loaded = snapshot::load(&snap).unwrap();
    let recorded = loaded.metadata.recorded.clone().unwrap();
    let paths = |v: Vec<&std::path::Path>| {
        v.iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        paths(
            recorded
                .mappings
                .iter()
                .map(|m| m.file.path.as_path())
                .collect()
        ),
        ["fixtures/mapped/app.toml", "fixtures/people/hr.toml"]
    );
    let toml = std::fs::read(root().join("fixtures/people/hr.toml")).unwrap();
    assert_eq!(recorded.mappings[1].text.as_bytes(), toml);
    assert_eq!(
        recorded.mappings[1].file.blake3,
        blake3::hash(&toml).to_hex().to_string()
    );
    assert_eq!(
        recorded.mappings[1].data,
        [std::path::PathBuf::from("fixtures/people/hr.csv")]
    );
    let map = std::fs::read(root().join("fixtures/people/map.csv")).unwrap();
    let people = &recorded.people_maps[0];
    assert_eq!(people.file.bytes, map.len() as u64);
    assert_eq!(people.file.blake3, blake3::hash(&map).to_hex().to_string());
    assert_eq!(
        (people.rows_read, people.rows_accepted, people.rows_rejected),
        (11, 6, 5)
    );
    assert!(recorded.options.no_auto_map);
    // The model gets the record back, so a snapshot of the snapshot (or a
    // re-upload onto it) keeps it.
    assert_eq!(loaded.model.inputs.mappings, recorded.mappings);
    let again = dir.path().join("again.wcs");
    let (_, err, code) = whocan(&[
        "snapshot",
        snap.to_str().unwrap(),
        "-o",
        again.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        snapshot::load(&again).unwrap().metadata.recorded,
        Some(recorded.clone())
    );
    // Re-uploading the mapped source replaces its mapping's record; the
    // other mapping stays.
    let (_, err, code) = whocan(&[
        "snapshot",
        snap.to_str().unwrap(),
        "fixtures/mapped/app_v2.csv:fixtures/mapped/app.toml",
        "-o",
        again.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let replaced = snapshot::load(&again).unwrap().metadata.recorded.unwrap();
    let data: Vec<String> = replaced
        .mappings
        .iter()
        .flat_map(|m| m.data.iter().map(|p| p.display().to_string()))
        .collect();
    assert_eq!(
        data,
        ["fixtures/people/hr.csv", "fixtures/mapped/app_v2.csv"]
    );
    assert_eq!(replaced.people_maps, recorded.people_maps);
}

/// `people unmapped` from the format-2 snapshot, with the one thing that
/// version recorded and today's import does not: a mapped user's display
/// name as its username (issue 14.9; the mapped fixture's source is `crm`).
/// Every other cell must still equal today's import.
fn without_recorded_mapped_usernames(csv: &[u8]) -> Vec<u8> {
    let text = String::from_utf8(csv.to_vec()).unwrap();
    let mut out = String::new();
    for (i, line) in text.lines().enumerate() {
        let mut cells: Vec<&str> = line.split(',').collect();
        // Source, Identity ID, Identity Name, Username, Email, ...
        if i > 0 && cells[0] == "crm" && cells[3] == cells[2] {
            cells[3] = "";
        }
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    out.into_bytes()
}

#[test]
fn issue_5_rejected_rows_and_conflicts_survive_the_snapshot() {
    let csv = "Entity Name,Entity Type,Entity Source Type,Entity Source ID,Entity - Has Access To Name,Entity - Has Access To Source ID,Entity - Has Access To Entity Type,Entity - Has Access To Source Type,Entity - Has Access To Permission Value\n\
               alice,identity,user,u1,Eng,g1,connection,group,true\n\
               bob,bogus,user,u2,Eng,g1,connection,group,true\n\
               carol,identity,user,u3,Eng,g1,connection,group,maybe\n\
               Eng,resource,group,g1,db,r1,resource,db,true\n\
               alice,identity,user,u1,Eng,g1,connection,group,false\n";
    let (model, report) = import_text(csv);
    assert_eq!(report.rejections.len(), 2);
    assert!(!model.conflicts.is_empty());
    check_round_trip(model, report);
}

#[test]
fn metadata_records_each_source_with_digest_and_row_counts() {
    let (model, report) = import_files(&["fixtures/reference_example.csv"]);
    let bytes = std::fs::read(root().join("fixtures/reference_example.csv")).unwrap();
    let snap = Snapshot::new(model, report, CREATED);
    let meta = &snap.metadata;
    assert_eq!(meta.format_version, snapshot::FORMAT_VERSION);
    assert_eq!(meta.whocan_version, env!("CARGO_PKG_VERSION"));
    assert_eq!(meta.created, CREATED);
    assert_eq!(meta.sources.len(), 1);
    let s = &meta.sources[0];
    assert_eq!(s.bytes, bytes.len() as u64);
    assert_eq!(s.blake3, blake3::hash(&bytes).to_hex().to_string());
    assert_eq!(s.source, "reference_example");
    assert_eq!(s.rows_read, s.rows_accepted + s.rows_rejected);
    assert!(s.rows_read > 0);
    let back = snapshot::decode(&snapshot::encode(&snap).unwrap()).unwrap();
    assert_eq!(&back.metadata, meta);
}

#[test]
fn encoding_is_deterministic() {
    let (model, report) = import_files(&["fixtures/reference_example.csv"]);
    let a = snapshot::encode(&Snapshot::new(model.clone(), report.clone(), CREATED)).unwrap();
    let b = snapshot::encode(&Snapshot::new(model, report, CREATED)).unwrap();
    assert_eq!(a, b);
}

#[test]
fn save_replaces_an_existing_file_atomically_and_leaves_no_temporary() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("review.wcs");
    std::fs::write(&path, b"an older file that must be replaced whole").unwrap();
    let (model, report) = import_files(&["fixtures/reference_example.csv"]);
    let snap = Snapshot::new(model, report, CREATED);
    let size = snapshot::save(&path, &snap).unwrap();
    let on_disk = std::fs::read(&path).unwrap();
    assert_eq!(on_disk.len() as u64, size);
    assert_eq!(on_disk, snapshot::encode(&snap).unwrap());
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("review.wcs")]);
    let loaded = snapshot::load(&path).unwrap();
    assert_eq!(loaded.report, snap.report);
}

#[test]
fn save_into_a_missing_directory_fails_without_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("no/such/dir/review.wcs");
    let (model, report) = import_files(&["fixtures/github_alicegh.csv"]);
    let err = snapshot::save(&path, &Snapshot::new(model, report, CREATED)).unwrap_err();
    assert!(err.to_string().contains("cannot write"), "{err}");
}

// ---- Through the binary -------------------------------------------------

fn whocan(args: &[&str]) -> (Vec<u8>, String, i32) {
    let out = Command::new(env!("CARGO_BIN_EXE_whocan"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    (
        out.stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code().unwrap_or(-1),
    )
}

#[test]
fn issue_5_every_data_command_gives_identical_output_from_a_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [&[&str]; 3] = [
        &[
            "fixtures/reference_example.csv",
            "fixtures/github_alicegh.csv",
        ],
        &["fixtures/diff/old.csv"],
        &["fixtures/github_alicegh.csv"],
    ];
    for (i, csvs) in cases.iter().enumerate() {
        // A name without the usual extension: detection is by content.
        let snap = dir.path().join(format!("snap{i}.data"));
        let snap = snap.to_str().unwrap();
        let mut args = vec!["snapshot"];
        args.extend_from_slice(csvs);
        args.extend_from_slice(&["-o", snap]);
        let (out, err, code) = whocan(&args);
        assert_eq!(code, 0, "{err}");
        assert!(String::from_utf8_lossy(&out).starts_with("wrote "));
        for command in [
            &["report", "access"][..],
            &["stats"],
            &["stats", "--grants"],
            &["import"],
        ] {
            for format in ["table", "csv", "json", "jsonl"] {
                let mut from_csv: Vec<&str> = command.to_vec();
                from_csv.extend_from_slice(csvs);
                from_csv.extend_from_slice(&["--format", format]);
                let mut from_snap: Vec<&str> = command.to_vec();
                from_snap.extend_from_slice(&[snap, "--format", format]);
                assert_eq!(
                    whocan(&from_snap),
                    whocan(&from_csv),
                    "{command:?} --format {format} on {csvs:?}"
                );
            }
        }
    }
}

#[test]
fn snapshot_verify_checks_sources_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("r.wcs");
    let snap = snap.to_str().unwrap();
    let (_, err, code) = whocan(&["snapshot", "fixtures/diff/old.csv", "-o", snap]);
    assert_eq!(code, 0, "{err}");

    let (out, _, code) = whocan(&[
        "snapshot",
        "verify",
        snap,
        "--sources",
        "fixtures/diff/old.csv",
    ]);
    let out = String::from_utf8(out).unwrap();
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains(": ok: header, checksum and contents verified"),
        "{out}"
    );
    assert!(
        out.contains("fixtures/diff/old.csv: ok: identical"),
        "{out}"
    );

    // Same file name, different bytes: reported, exit 1.
    let changed = dir.path().join("old.csv");
    let mut bytes = std::fs::read(root().join("fixtures/diff/old.csv")).unwrap();
    bytes.extend_from_slice(b"Corp,mallory,identity,user,u9,,,,,,,,,,,,,,\n");
    std::fs::write(&changed, bytes).unwrap();
    let (out, _, code) = whocan(&[
        "snapshot",
        "verify",
        snap,
        "--sources",
        changed.to_str().unwrap(),
    ]);
    let out = String::from_utf8(out).unwrap();
    assert_eq!(code, 1);
    assert!(
        out.contains("DIFFERS from recorded source fixtures/diff/old.csv"),
        "{out}"
    );

    // A file that was never recorded.
    let (out, _, code) = whocan(&[
        "snapshot",
        "verify",
        snap,
        "--sources",
        "fixtures/diff/new.csv",
    ]);
    assert_eq!(code, 1);
    assert!(String::from_utf8(out).unwrap().contains("NOT RECORDED"));
}

#[test]
fn snapshot_info_prints_the_metadata() {
    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("r.wcs");
    let snap = snap.to_str().unwrap();
    whocan(&[
        "snapshot",
        "fixtures/reference_example.csv",
        "fixtures/github_alicegh.csv",
        "-o",
        snap,
    ]);
    let (out, err, code) = whocan(&["snapshot", "info", snap, "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["format_version"], snapshot::FORMAT_VERSION);
    assert_eq!(v["whocan_version"], env!("CARGO_PKG_VERSION"));
    assert!(v["created"].as_str().unwrap().ends_with('Z'));
    let sources = v["sources"].as_array().unwrap();
    assert_eq!(sources.len(), 2);
    let bytes = std::fs::read(root().join("fixtures/github_alicegh.csv")).unwrap();
    assert_eq!(sources[1]["path"], "fixtures/github_alicegh.csv");
    assert_eq!(
        sources[1]["blake3"],
        blake3::hash(&bytes).to_hex().to_string()
    );
    assert_eq!(sources[1]["bytes"], bytes.len());
    let (out, _, code) = whocan(&["snapshot", "info", snap]);
    assert_eq!(code, 0);
    let text = String::from_utf8(out).unwrap();
    let version = format!("format version: {}", snapshot::FORMAT_VERSION);
    for needle in [
        version.as_str(),
        "whocan version: ",
        "created: ",
        "fixtures/github_alicegh.csv",
    ] {
        assert!(text.contains(needle), "{needle} in {text}");
    }
}

#[test]
fn two_snapshots_or_a_snapshot_given_a_source_name_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("r.wcs");
    let snap = snap.to_str().unwrap();
    whocan(&["snapshot", "fixtures/github_alicegh.csv", "-o", snap]);
    // A snapshot with CSV files is a base whose sources they replace
    // (tests/cli/mapped.rs); two snapshots are refused.
    let (_, err, code) = whocan(&["report", "access", snap, snap]);
    assert_eq!(code, 2);
    assert!(
        err.contains("only one snapshot can be loaded at a time"),
        "{err}"
    );
    let (_, err, code) = whocan(&["stats", "--source", "x", snap]);
    assert_eq!(code, 2);
    assert!(
        err.contains("--source does not apply to a snapshot"),
        "{err}"
    );
}

#[test]
fn snapshot_of_a_refused_file_is_not_written() {
    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("r.wcs");
    let (_, err, code) = whocan(&["snapshot", "no-such-file.csv", "-o", snap.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("no snapshot written"), "{err}");
    assert!(!snap.exists());
}

// ---- Random organisations -----------------------------------------------

const HEADER: &str = "Entity Name,Entity Type,Entity Source Type,Entity Source ID,Entity - Has Access To Name,Entity - Has Access To Source ID,Entity - Has Access To Entity Type,Entity - Has Access To Source Type,Entity - Has Access To Permission Name,Entity - Has Access To Permission Value,Entity Status,Entity MfaEnabled\n";

/// One generated row: subject (identity or group), target (group or
/// resource), permission, value; now and then a bad row.
fn row() -> impl Strategy<Value = String> {
    let subject = prop_oneof![
        (0..6u8).prop_map(|i| format!("user{i},identity,user,u{i}")),
        (0..6u8).prop_map(|g| format!("Group {g},connection,group,g{g}")),
    ];
    let target = prop_oneof![
        (0..6u8).prop_map(|g| format!("Group {g},g{g},connection,group")),
        (0..5u8).prop_map(|r| format!("res {r},r{r},resource,app")),
    ];
    let permission = prop::sample::select(vec!["", "read", "write", "=cmd"]);
    let value = prop::sample::select(vec!["", "True", "false", "maybe"]);
    let status = prop::sample::select(vec!["active", "inactive", ""]);
    let mfa = prop::sample::select(vec!["true", "false", ""]);
    (subject, target, permission, value, status, mfa, 0..20u8).prop_map(
        |(s, t, p, v, st, m, odd)| match odd {
            0 => format!("{s},too,few\n"),
            1 => format!("x,bogus,user,u9,{t},{p},{v},{st},{m}\n"),
            _ => format!("{s},{t},{p},{v},{st},{m}\n"),
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn issue_5_random_organisations_round_trip_byte_for_byte(rows in prop::collection::vec(row(), 0..60)) {
        let csv = format!("{HEADER}{}", rows.concat());
        let (model, report) = import_text(&csv);
        let (back_model, back_report) = round_trip(&model, &report);
        prop_assert_eq!(&back_report, &report);
        for format in [Format::Csv, Format::Json] {
            prop_assert_eq!(access_report(back_model.clone(), format), access_report(model.clone(), format));
        }
    }
}

#[test]
fn issue_5_many_short_strings_stay_within_the_decode_limit() {
    // bincode counts each string's in-memory length field (8 bytes) against
    // the decode limit, so a table of short strings claims several times its
    // encoded size. A real 1M-row organisation hit this; so does this one.
    let mut model = Model::default();
    for i in 0..300_000 {
        model.strings.intern(&i.to_string());
    }
    let snap = Snapshot::new(model, ImportReport::default(), CREATED);
    let back = snapshot::decode(&snapshot::encode(&snap).unwrap()).unwrap();
    assert_eq!(back.model.strings.len(), 300_001);
    assert_eq!(
        back.model.strings.get("299999"),
        snap.model.strings.get("299999")
    );
}
