//! Issue 5: golden tests for `whocan diff`. Each case runs the real binary
//! from the crate root and compares stdout, stderr and the exit code with
//! `tests/golden/diff/<case>.{out,err,code}`. `WHOCAN_BLESS=1 cargo test`
//! rewrites the goldens.
//!
//! `fixtures/diff/old.csv` → `new.csv` covers every change kind: granted
//! (erin joins Ops), revoked (bob's direct wiki read, dave's access),
//! re-attributed with only the provider changing (alice's wiki read moves
//! from Eng to the nested Docs group; carol's loses its direct grant),
//! added (erin, Docs), removed (dave, Legacy, old-app), and changed
//! attributes (bob's status, alice's MFA, the DBA group's name). alice's
//! last login also changes and is deliberately not reported.

use std::path::PathBuf;
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn run(args: &[&str]) -> (String, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_whocan"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
        format!("{}\n", out.status.code().unwrap_or(-1)),
    )
}

#[track_caller]
fn golden(case: &str, args: &[&str]) {
    let (out, err, code) = run(args);
    let dir = root().join("tests/golden/diff");
    let bless = std::env::var_os("WHOCAN_BLESS").is_some_and(|v| !v.is_empty());
    for (ext, got) in [("out", &out), ("err", &err), ("code", &code)] {
        let path = dir.join(format!("{case}.{ext}"));
        if bless {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, got).unwrap();
            continue;
        }
        let want = std::fs::read_to_string(&path).unwrap_or_else(|_| {
            panic!("missing golden {}; run with WHOCAN_BLESS=1", path.display())
        });
        assert_eq!(
            got,
            &want,
            "{case}.{ext} differs; `whocan {}`",
            args.join(" ")
        );
    }
}

const OLD: &str = "fixtures/diff/old.csv";
const NEW: &str = "fixtures/diff/new.csv";

#[test]
fn issue_5_diff_table_lists_every_change_kind() {
    golden("every_kind_table", &["diff", "--source", "acme", OLD, NEW]);
}

#[test]
fn issue_5_diff_csv() {
    golden(
        "every_kind_csv",
        &["diff", "--source", "acme", OLD, NEW, "--format", "csv"],
    );
}

#[test]
fn issue_5_diff_json() {
    golden(
        "every_kind_json",
        &["diff", "--source", "acme", OLD, NEW, "--format", "json"],
    );
}

#[test]
fn issue_5_diff_jsonl() {
    golden(
        "every_kind_jsonl",
        &["diff", "--source", "acme", OLD, NEW, "--format", "jsonl"],
    );
}

#[test]
fn issue_5_fail_on_granted_revoked_exits_1_when_they_exist() {
    golden(
        "fail_on_granted_revoked",
        &[
            "diff",
            "--source",
            "acme",
            OLD,
            NEW,
            "--format",
            "csv",
            "--fail-on",
            "granted,revoked",
        ],
    );
}

#[test]
fn fail_on_ignores_kinds_that_did_not_happen() {
    golden(
        "fail_on_unchanged",
        &[
            "diff",
            "--source",
            "acme",
            OLD,
            OLD,
            "--fail-on",
            "granted,revoked,re-attributed",
        ],
    );
}

#[test]
fn fail_on_an_unknown_kind_is_a_usage_error() {
    golden(
        "fail_on_unknown_kind",
        &["diff", OLD, NEW, "--fail-on", "promoted"],
    );
}

#[test]
fn comma_joined_csv_sets_are_compared_as_a_whole() {
    golden(
        "csv_set",
        &[
            "diff",
            "fixtures/reference_example.csv,fixtures/github_alicegh.csv",
            "fixtures/github_alicegh.csv",
            "--format",
            "csv",
        ],
    );
}

#[test]
fn empty_side_is_a_usage_error() {
    golden("empty_side", &["diff", "fixtures/github_alicegh.csv,", NEW]);
}

#[test]
fn issue_5_diff_of_snapshots_equals_diff_of_their_csvs() {
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("q3.wcs");
    let new = dir.path().join("q4.wcs");
    let (old, new) = (old.to_str().unwrap(), new.to_str().unwrap());
    for (csv, snap) in [(OLD, old), (NEW, new)] {
        let (_, err, code) = run(&["snapshot", "--source", "acme", csv, "-o", snap]);
        assert_eq!(code, "0\n", "{err}");
    }
    for format in ["table", "csv", "json"] {
        let from_csv = run(&["diff", "--source", "acme", OLD, NEW, "--format", format]);
        assert_eq!(run(&["diff", old, new, "--format", format]), from_csv);
        // One side a snapshot, the other CSV.
        assert_eq!(
            run(&["diff", old, NEW, "--source", "acme", "--format", format]).0,
            from_csv.0
        );
    }
}
