//! `whocan diff` (issue 5): golden cases under `tests/golden/diff/`.
//!
//! `fixtures/diff/old.csv` → `new.csv` covers every change kind: granted
//! (erin joins Ops), revoked (bob's direct wiki read, dave's access),
//! re-attributed with only the provider changing (alice's wiki read moves
//! from Eng to the nested Docs group; carol's loses its direct grant),
//! added (erin, Docs), removed (dave, Legacy, old-app), and changed
//! attributes (bob's status, alice's MFA, the DBA group's name). alice's
//! last login also changes and is deliberately not reported.

use crate::golden_cases;
use crate::harness::{Run, whocan};

golden_cases! { "diff":
    every_kind_table => ["diff", "--source", "acme", "fixtures/diff/old.csv", "fixtures/diff/new.csv", "--format", "table"],
    every_kind_csv => ["diff", "--source", "acme", "fixtures/diff/old.csv", "fixtures/diff/new.csv", "--format", "csv"],
    every_kind_json => ["diff", "--source", "acme", "fixtures/diff/old.csv", "fixtures/diff/new.csv", "--format", "json"],
    every_kind_jsonl => ["diff", "--source", "acme", "fixtures/diff/old.csv", "fixtures/diff/new.csv", "--format", "jsonl"],
    // --fail-on exits 1 when changes of those kinds exist, and only then.
    fail_on_granted_revoked => ["diff", "--source", "acme", "fixtures/diff/old.csv", "fixtures/diff/new.csv", "--format", "csv", "--fail-on", "granted,revoked"],
    fail_on_unchanged => ["diff", "--source", "acme", "fixtures/diff/old.csv", "fixtures/diff/old.csv", "--fail-on", "granted,revoked,re-attributed"],
    fail_on_unknown_kind => ["diff", "fixtures/diff/old.csv", "fixtures/diff/new.csv", "--fail-on", "promoted"],
    // Comma-joined CSV sets are compared as a whole.
    csv_set => ["diff", "fixtures/reference_example.csv,fixtures/github_alicegh.csv", "fixtures/github_alicegh.csv", "--format", "csv"],
    empty_side => ["diff", "fixtures/github_alicegh.csv,", "fixtures/diff/new.csv"],
}

const OLD: &str = "fixtures/diff/old.csv";
const NEW: &str = "fixtures/diff/new.csv";

fn triple(run: Run) -> (String, String, i32) {
    (run.stdout, run.stderr, run.code)
}

#[test]
fn issue_5_diff_of_snapshots_equals_diff_of_their_csvs() {
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("q3.wcs");
    let new = dir.path().join("q4.wcs");
    let (old, new) = (old.to_str().unwrap(), new.to_str().unwrap());
    for (csv, snap) in [(OLD, old), (NEW, new)] {
        let run = whocan(&["snapshot", "--source", "acme", csv, "-o", snap]);
        assert_eq!(run.code, 0, "{}", run.stderr);
    }
    for format in ["table", "csv", "json"] {
        let from_csv = triple(whocan(&[
            "diff", "--source", "acme", OLD, NEW, "--format", format,
        ]));
        assert_eq!(
            triple(whocan(&["diff", old, new, "--format", format])),
            from_csv
        );
        // One side a snapshot, the other CSV.
        assert_eq!(
            whocan(&["diff", old, NEW, "--source", "acme", "--format", format]).stdout,
            from_csv.0
        );
    }
}
