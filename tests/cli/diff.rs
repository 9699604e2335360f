//! `whocan diff` (issue 5): golden cases under `tests/golden/diff/`.
//!
//! `fixtures/diff/old.csv` → `new.csv` covers every change kind: granted
//! (erin joins Ops), revoked (bob's direct wiki read, dave's access),
//! re-attributed with only the provider changing (alice's wiki read moves
//! from Eng to the nested Docs group; carol's loses its direct grant),
//! added (erin, Docs), removed (dave, Legacy, old-app), and changed
//! attributes (bob's status, alice's MFA, the DBA group's name). alice's
//! last login also changes and is deliberately not reported.
//!
//! Issue 16: `fixtures/diff/dated/okta-2026-01.csv` → `okta-2026-02.csv`
//! are two monthly exports of one app (sources default to the file stems,
//! so they differ); `okta-2025-12.csv` is a third export (two candidates
//! for one stem) and `identity-provider.csv` the February export under
//! another name (a renamed source). `fixtures/diff/people/` holds two HRIS
//! exports (`hr-2026-01.csv` / `hr-2026-02.csv`, read through `hr.toml`,
//! which names no source, so they pair as the okta ones do) and two people
//! maps around one unchanged `okta.csv`: Cy (E300) is terminated with his
//! account still active, Dee (E400) changes department and manager, Eve
//! (E500) joins, Fay (E600) leaves the HRIS export, the shared `u-oncall`
//! account moves from Ada to Bob, and `u-dee` becomes a service account
//! owned by Eve (an explicit row replaces Dee's automatic link).

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

const JAN: &str = "fixtures/diff/dated/okta-2026-01.csv";
const FEB: &str = "fixtures/diff/dated/okta-2026-02.csv";
const RENAMED: &str = "fixtures/diff/dated/identity-provider.csv";
const JAN_AND_DEC: &str =
    "fixtures/diff/dated/okta-2026-01.csv,fixtures/diff/dated/okta-2025-12.csv";
const HR_JAN: &str = "fixtures/diff/people/hr-2026-01.csv:fixtures/diff/people/hr.toml,fixtures/diff/people/okta.csv";
const HR_FEB: &str = "fixtures/diff/people/hr-2026-02.csv:fixtures/diff/people/hr.toml,fixtures/diff/people/okta.csv";
/// February's HRIS with an okta export in which the departed Cy's access
/// shrank from two grants to one (a direct grant instead of a group).
const HR_FEB_LESS: &str = "fixtures/diff/people/hr-2026-02.csv:fixtures/diff/people/hr.toml,fixtures/diff/findings/okta.csv";
const MAP_JAN: &str = "fixtures/diff/people/map-2026-01.csv";
const MAP_FEB: &str = "fixtures/diff/people/map-2026-02.csv";

golden_cases! { "diff":
    // Issue 16.1: dated exports pair up, said first (above the table, on
    // stderr for the data formats), rows named by the new side's name.
    issue_16_dated_exports_pair_table => ["diff", JAN, FEB, "--format", "table"],
    issue_16_dated_exports_pair_csv => ["diff", JAN, FEB, "--format", "csv"],
    issue_16_dated_exports_pair_json => ["diff", JAN, FEB, "--format", "json"],
    issue_16_dated_exports_pair_jsonl => ["diff", JAN, FEB, "--format", "jsonl"],
    // --no-pair: total churn, but both one-sided sources announced first.
    issue_16_no_pair_announces_one_sided_sources => ["diff", "--no-pair", JAN, FEB, "--format", "csv", "--summary"],
    // A renamed source is announced before any change; --pair settles it.
    issue_16_renamed_source_is_announced_first => ["diff", JAN, RENAMED, "--format", "table"],
    issue_16_renamed_source_paired_by_hand => ["diff", "--pair", "okta-2026-01=identity-provider", JAN, RENAMED, "--format", "csv", "--summary"],
    // Two candidates for one stem: nothing paired, --pair suggested.
    issue_16_two_candidates_pair_nothing => ["diff", JAN_AND_DEC, FEB, "--format", "csv", "--summary"],
    issue_16_pair_by_hand_among_candidates => ["diff", "--pair", "okta-2026-01=okta-2026-02", JAN_AND_DEC, FEB, "--format", "csv", "--summary"],
    issue_16_pair_unknown_source => ["diff", "--pair", "okta=okta-2026-02", JAN, FEB],
    issue_16_pair_syntax => ["diff", "--pair", "okta-2026-01", JAN, FEB],
    // Issue 16.2: employees, links and findings, in every format.
    issue_16_people_table => ["diff", HR_JAN, HR_FEB, "--old-people-map", MAP_JAN, "--new-people-map", MAP_FEB, "--findings", "--as-of", "2026-03-01", "--format", "table"],
    issue_16_people_csv => ["diff", HR_JAN, HR_FEB, "--old-people-map", MAP_JAN, "--new-people-map", MAP_FEB, "--findings", "--as-of", "2026-03-01", "--format", "csv"],
    issue_16_people_json => ["diff", HR_JAN, HR_FEB, "--old-people-map", MAP_JAN, "--new-people-map", MAP_FEB, "--findings", "--as-of", "2026-03-01", "--format", "json"],
    issue_16_people_jsonl => ["diff", HR_JAN, HR_FEB, "--old-people-map", MAP_JAN, "--new-people-map", MAP_FEB, "--findings", "--as-of", "2026-03-01", "--format", "jsonl"],
    // The reverse direction: the finding is resolved, the link moves back.
    issue_16_people_reversed => ["diff", HR_FEB, HR_JAN, "--old-people-map", MAP_FEB, "--new-people-map", MAP_JAN, "--findings", "--as-of", "2026-03-01", "--format", "csv"],
    // --fail-on with the new kinds (a finding kind implies --findings).
    issue_16_fail_on_employee_changed => ["diff", HR_JAN, HR_FEB, "--fail-on", "employee-changed", "--format", "csv", "--summary"],
    issue_16_fail_on_finding_opened => ["diff", HR_JAN, HR_FEB, "--fail-on", "finding-opened", "--as-of", "2026-03-01", "--format", "csv", "--summary"],
    issue_16_fail_on_link_moved => ["diff", HR_JAN, HR_FEB, "--old-people-map", MAP_JAN, "--new-people-map", MAP_FEB, "--fail-on", "link-moved", "--format", "csv", "--summary"],
    // A finding under the same key with another detail (or severity) is
    // changed, old and new side by side; --fail-on finding-changed
    // implies --findings.
    issue_16_finding_changed_csv => ["diff", HR_FEB, HR_FEB_LESS, "--findings", "--as-of", "2026-03-01", "--format", "csv"],
    issue_16_finding_changed_json => ["diff", HR_FEB, HR_FEB_LESS, "--findings", "--as-of", "2026-03-01", "--format", "json"],
    issue_16_fail_on_finding_changed => ["diff", HR_FEB, HR_FEB_LESS, "--fail-on", "finding-changed", "--as-of", "2026-03-01", "--format", "csv", "--summary"],
    issue_16_fail_on_new_kinds_unchanged => ["diff", HR_JAN, HR_JAN, "--fail-on", "employee-added,employee-removed,employee-changed,link-added,link-removed,link-moved,finding-opened,finding-resolved,finding-changed,gained,lost", "--as-of", "2026-03-01", "--format", "csv"],
    // --by employee: what each person gained or lost across every app.
    issue_16_by_employee => ["diff", HR_JAN, HR_FEB, "--old-people-map", MAP_JAN, "--new-people-map", MAP_FEB, "--by", "employee", "--format", "csv"],
    issue_16_by_employee_fail_on_gained => ["diff", HR_JAN, HR_FEB, "--old-people-map", MAP_JAN, "--new-people-map", MAP_FEB, "--by", "employee", "--fail-on", "gained", "--format", "jsonl"],
    // Issue 16.3: the summary in every format.
    issue_16_summary_table => ["diff", JAN, FEB, "--summary", "--format", "table"],
    issue_16_summary_csv => ["diff", JAN, FEB, "--summary", "--format", "csv"],
    issue_16_summary_json => ["diff", JAN, FEB, "--summary", "--format", "json"],
    issue_16_summary_jsonl => ["diff", JAN, FEB, "--summary", "--format", "jsonl"],
    issue_16_summary_people => ["diff", HR_JAN, HR_FEB, "--old-people-map", MAP_JAN, "--new-people-map", MAP_FEB, "--findings", "--as-of", "2026-03-01", "--summary", "--format", "table"],
}

/// The rows of a csv diff with the source column blanked: pairing renames
/// a source, and nothing else.
fn rows_without_source(csv: &str) -> Vec<String> {
    csv.lines()
        .map(|l| {
            let mut cells: Vec<&str> = l.splitn(3, ',').collect();
            cells[1] = "";
            cells.join(",")
        })
        .collect()
}

/// Issue 16 (Must show): the dated exports give the true change without
/// `--source`: the same rows, kind by kind, as `--source okta` on both
/// sides, and nothing like the churn of comparing two different sources.
#[test]
fn issue_16_dated_exports_give_the_true_change_without_source() {
    let paired = whocan(&["diff", JAN, FEB, "--format", "csv"]);
    let named = whocan(&["diff", "--source", "okta", JAN, FEB, "--format", "csv"]);
    assert_eq!((paired.code, named.code), (0, 0));
    assert_eq!(
        paired.stderr,
        "whocan: source okta-2026-01 (old) = okta-2026-02 (new)\n"
    );
    assert_eq!(named.stderr, "");
    assert_eq!(
        rows_without_source(&paired.stdout),
        rows_without_source(&named.stdout)
    );
    let count = |out: &str, kind: &str| {
        out.lines()
            .filter(|l| l.starts_with(&format!("{kind},")))
            .count()
    };
    let unpaired = whocan(&["diff", "--no-pair", JAN, FEB, "--format", "csv"]).stdout;
    for (kind, truth, churn) in [
        ("revoked", 5, 15),
        ("granted", 7, 17),
        ("added", 1, 10),
        ("removed", 1, 10),
    ] {
        assert_eq!(count(&paired.stdout, kind), truth, "{kind}");
        assert_eq!(count(&unpaired, kind), churn, "{kind}");
    }
}

/// Issue 16 (Must show): between two snapshots, a terminated employee is a
/// changed employee and an opened departed-employee-access finding, and a
/// moved link is moved, exactly as between their CSVs.
#[test]
fn issue_16_people_diff_of_snapshots_equals_diff_of_their_csvs() {
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("2026-01.wcs");
    let new = dir.path().join("2026-02.wcs");
    let (old, new) = (old.to_str().unwrap(), new.to_str().unwrap());
    for (side, map, snap) in [(HR_JAN, MAP_JAN, old), (HR_FEB, MAP_FEB, new)] {
        let mut args = vec!["snapshot"];
        args.extend(side.split(','));
        args.extend(["--people-map", map, "-o", snap]);
        let run = whocan(&args);
        assert_eq!(run.code, 0, "{}", run.stderr);
    }
    let common = ["--findings", "--as-of", "2026-03-01", "--format", "csv"];
    let from_csv = whocan(
        &[
            &["diff", HR_JAN, HR_FEB, "--old-people-map", MAP_JAN][..],
            &["--new-people-map", MAP_FEB],
            &common,
        ]
        .concat(),
    );
    let from_snapshots = whocan(&[&["diff", old, new][..], &common].concat());
    let out = &from_csv.stdout.clone();
    assert_eq!(triple(from_snapshots), triple(from_csv));
    assert!(
        out.contains("employee-changed,hr-2026-02,E300,Cy Cole,employee,,,,employment_status,active,terminated\n"),
        "{out}"
    );
    assert!(
        out.contains(
            "finding-opened,okta,u-cy,cy,identity,,,,departed-employee-access,,critical: "
        ),
        "{out}"
    );
    assert!(
        out.contains("link-moved,okta,u-oncall,oncall,identity,hr-2026-02/E200,"),
        "{out}"
    );
}

/// Issue 16: a one-sided source is announced before the first change row
/// in every format (above the header for table, on stderr otherwise).
#[test]
fn issue_16_one_sided_sources_come_before_any_change() {
    let table = whocan(&["diff", JAN, RENAMED, "--format", "table"]).stdout;
    let first_row = table.find("CHANGE").unwrap();
    let note = table
        .find("source okta-2026-01 only in the old side")
        .unwrap();
    assert!(note < first_row, "{table}");
    for format in ["csv", "json", "jsonl"] {
        let run = whocan(&["diff", JAN, RENAMED, "--format", format]);
        assert!(
            run.stderr
                .contains("source identity-provider only in the new side"),
            "{format}: {}",
            run.stderr
        );
        assert!(!run.stdout.contains("only in the"), "{format}");
    }
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
