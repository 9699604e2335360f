//! `whocan snapshot info` / `verify` on the committed snapshots of older
//! formats, byte for byte: what an auditor reads about a snapshot, and the
//! refusal of a file that is not one.

use crate::golden_cases;
use crate::harness::{Run, golden, root, whocan, whocan_with_env};

golden_cases! { "snapshot":
    info_format_v1 => ["snapshot", "info", "fixtures/snapshots/format_v1.wcs"],
    info_format_v2 => ["snapshot", "info", "fixtures/snapshots/format_v2.wcs"],
    verify_format_v2 => ["snapshot", "verify", "fixtures/snapshots/format_v2.wcs"],
    info_format_v3 => ["snapshot", "info", "fixtures/snapshots/format_v3.wcs"],
    issue_16_verify_format_v3_people_map_not_recorded => [
        "snapshot", "verify", "fixtures/snapshots/format_v3.wcs",
        "--sources", "fixtures/people/okta.csv", "--sources", "fixtures/people/map.csv"
    ],
    info_not_a_snapshot => ["snapshot", "info", "fixtures/nested_groups.csv"],
}

/// The inputs of the format-4 tests: a mapped app, HRIS employees, three
/// 19-column sources and a people map.
const RECORDED_INPUTS: [&str; 7] = [
    "fixtures/mapped/app.csv:fixtures/mapped/app.toml",
    "fixtures/people/hr.csv:fixtures/people/hr.toml",
    "fixtures/people/okta.csv",
    "fixtures/people/github.csv",
    "fixtures/people/aws.csv",
    "--people-map",
    "fixtures/people/map.csv",
];

/// Makes a snapshot of `inputs` in `dir` at a fixed creation time.
fn snapshot_of(dir: &std::path::Path, inputs: &[&str]) -> String {
    let snap = dir.join("review.wcs").display().to_string();
    let mut args = vec!["snapshot"];
    args.extend_from_slice(inputs);
    args.extend_from_slice(&["-o", &snap]);
    let made = whocan_with_env(&args, None, &[("SOURCE_DATE_EPOCH", "1790000000")]);
    assert_eq!(made.code, 0, "{}", made.stderr);
    snap
}

/// `run` with the temporary directory written as `TMP`.
fn in_tmp(run: Run, dir: &std::path::Path) -> Run {
    let tmp = dir.display().to_string();
    Run {
        stdout: run.stdout.replace(&tmp, "TMP"),
        stderr: run.stderr.replace(&tmp, "TMP"),
        code: run.code,
    }
}

#[test]
fn issue_16_info_lists_mapping_files_people_maps_and_options() {
    let dir = tempfile::tempdir().unwrap();
    let snap = snapshot_of(dir.path(), &RECORDED_INPUTS);
    let info = whocan(&["snapshot", "info", &snap]);
    golden(
        "snapshot",
        "issue_16_info_records_every_input",
        &in_tmp(info, dir.path()),
    );
    // The mapping's text is there to print, and it is the file's.
    let full = whocan(&["snapshot", "info", &snap, "--mappings"]);
    assert_eq!(full.code, 0, "{}", full.stderr);
    let toml = std::fs::read_to_string(root().join("fixtures/people/hr.toml")).unwrap();
    let indented: String = toml.lines().map(|l| format!("    {l}\n")).collect();
    assert!(full.stdout.contains(&indented), "{}", full.stdout);
    let csv = whocan(&["snapshot", "info", &snap, "--format", "csv"]);
    golden(
        "snapshot",
        "issue_16_info_csv_lists_every_recorded_file",
        &in_tmp(csv, dir.path()),
    );
    let json = whocan(&["snapshot", "info", &snap, "--format", "json"]);
    let value: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(value["recorded"]["mappings"][1]["text"], toml);
    assert_eq!(value["recorded"]["people_maps"][0]["rows_rejected"], 5);
    // The options that change the result are recorded too.
    let snap = snapshot_of(
        dir.path(),
        &[
            "fixtures/people/okta.csv",
            "--source",
            "idp",
            "--no-auto-map",
        ],
    );
    let info = whocan(&["snapshot", "info", &snap]);
    assert!(
        info.stdout
            .ends_with("options: --source idp --no-auto-map\n"),
        "{}",
        info.stdout
    );
}

#[test]
fn issue_16_verify_checks_every_recorded_file() {
    let dir = tempfile::tempdir().unwrap();
    let snap = snapshot_of(dir.path(), &RECORDED_INPUTS);
    let mut args = vec!["snapshot", "verify", &snap];
    for file in [
        "fixtures/mapped/app.csv",
        "fixtures/mapped/app.toml",
        "fixtures/people/hr.csv",
        "fixtures/people/hr.toml",
        "fixtures/people/okta.csv",
        "fixtures/people/github.csv",
        "fixtures/people/aws.csv",
        "fixtures/people/map.csv",
    ] {
        args.extend_from_slice(&["--sources", file]);
    }
    let all = whocan(&args);
    golden(
        "snapshot",
        "issue_16_verify_every_recorded_file",
        &in_tmp(all, dir.path()),
    );
    // One byte of the people map changed: the file is named, exit 1.
    let changed = dir.path().join("map.csv");
    let mut bytes = std::fs::read(root().join("fixtures/people/map.csv")).unwrap();
    let at = bytes.len() / 2;
    bytes[at] ^= 0x01;
    std::fs::write(&changed, &bytes).unwrap();
    let changed = changed.display().to_string();
    let run = whocan(&["snapshot", "verify", &snap, "--sources", &changed]);
    golden(
        "snapshot",
        "issue_16_verify_people_map_one_byte_changed",
        &in_tmp(run, dir.path()),
    );
    // A mapping file changed is named the same way.
    let toml = dir.path().join("app.toml");
    let mut text = std::fs::read(root().join("fixtures/mapped/app.toml")).unwrap();
    text.push(b'\n');
    std::fs::write(&toml, &text).unwrap();
    let run = whocan(&[
        "snapshot",
        "verify",
        &snap,
        "--sources",
        toml.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stdout
            .contains("app.toml: DIFFERS from recorded mapping file fixtures/mapped/app.toml"),
        "{}",
        run.stdout
    );
}

#[test]
fn issue_16_snapshots_are_byte_identical_with_source_date_epoch() {
    let (one, two) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = std::fs::read(snapshot_of(one.path(), &RECORDED_INPUTS)).unwrap();
    let b = std::fs::read(snapshot_of(two.path(), &RECORDED_INPUTS)).unwrap();
    assert!(a == b, "two snapshots of the same inputs differ");
    let bad = whocan_with_env(
        &["snapshot", "fixtures/people/okta.csv", "-o", "never.wcs"],
        None,
        &[("SOURCE_DATE_EPOCH", "yesterday")],
    );
    assert_eq!(bad.code, 2);
    assert!(
        bad.stderr
            .contains("SOURCE_DATE_EPOCH=\"yesterday\" is not a time"),
        "{}",
        bad.stderr
    );
    assert!(!root().join("never.wcs").exists());
}
