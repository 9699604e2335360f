//! Mapped CSV (issue 6): any CSV read through a TOML mapping file
//! (`FILE.csv:MAPPING.toml` or `--mapping`), and `whocan map suggest`.
//! Goldens under `tests/golden/mapped/`.
//!
//! `fixtures/mapped/app.csv` through `app.toml` covers every Application
//! attribute, every transformation, every timestamp format and boolean
//! token, quoted group / role lists, a user without an ID (its name serves
//! as both), a row with no user (its group gets the role) and a repeated
//! user whose later row adds a permission but not its email. The model-level
//! attribute values are checked by the unit test in `src/import/mapped.rs`.

use crate::golden_cases;
use crate::harness::whocan;

golden_cases! { "mapped":
    app_import => ["import", "fixtures/mapped/app.csv:fixtures/mapped/app.toml"],
    app_import_flag => ["import", "fixtures/mapped/app.csv", "--mapping", "fixtures/mapped/app.toml", "--format", "csv"],
    app_access => ["report", "access", "fixtures/mapped/app.csv:fixtures/mapped/app.toml"],
    // Rejected rows: bad timestamps (plain, date_format, custom), a bad
    // custom number, a user with neither id nor name, a short row.
    bad_rows => ["import", "fixtures/mapped/bad_rows.csv:fixtures/mapped/app.toml"],
    duplicate_header => ["import", "fixtures/mapped/duplicate_header.csv:fixtures/mapped/required.toml"],
    // Every line with an empty required value is listed; the file is refused.
    required_missing => ["import", "fixtures/mapped/required_missing.csv:fixtures/mapped/required.toml"],
    bad_transform => ["import", "fixtures/mapped/app.csv:fixtures/mapped/bad_transform.toml"],
    mapping_header_not_in_file => ["import", "fixtures/github_alicegh.csv:fixtures/mapped/required.toml"],
    // #14.8: a missing mapping file is named as such, not taken for a CSV.
    issue_14_missing_mapping_file => ["import", "fixtures/mapped/app.csv:fixtures/mapped/nosuch.toml"],
    // The 19-column export and a mapped CSV in one graph: one access report
    // answers across both sources.
    with_nineteen_columns => ["report", "access", "fixtures/github_alicegh.csv", "fixtures/mapped/app.csv:fixtures/mapped/app.toml", "--format", "csv"],
    // Employees: a manager written in upper case still links (ids compared
    // lowercase), a repeated id in another case is the same employee, an
    // unknown manager is listed, both status fields mapped warn.
    hris_import => ["import", "fixtures/mapped/hris.csv:fixtures/mapped/hris.toml"],
    suggest_application => ["map", "suggest", "fixtures/mapped/suggest_app.csv"],
    suggest_hris => ["map", "suggest", "fixtures/mapped/suggest_hris.csv", "--template", "hris"],
    suggest_unrecognised => ["map", "suggest", "fixtures/mapped/suggest_unknown.csv"],
}

#[test]
fn issue_6_suggested_mapping_imports_its_own_file() {
    let dir = tempfile::tempdir().unwrap();
    let toml = dir.path().join("draft.toml");
    let toml = toml.to_str().unwrap();
    let run = whocan(&[
        "map",
        "suggest",
        "fixtures/mapped/suggest_app.csv",
        "-o",
        toml,
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let pair = format!("fixtures/mapped/suggest_app.csv:{toml}");
    let run = whocan(&["report", "access", &pair, "--format", "csv"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stdout,
        "source,identity_id,identity_name,target_id,target_name,target_type,permission,provider_id,provider_name\n\
         suggest_app,u-1,Ann,Eng,Eng,connection,member,,\n\
         suggest_app,u-1,Ann,Ops,Ops,connection,member,,\n"
    );
}

#[test]
fn issue_6_a_snapshot_keeps_employees_and_properties() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("hr.wcs");
    let out = out.to_str().unwrap();
    let inputs = [
        "fixtures/mapped/hris.csv:fixtures/mapped/hris.toml",
        "fixtures/mapped/app.csv:fixtures/mapped/app.toml",
    ];
    let mut args = vec!["snapshot"];
    args.extend(inputs);
    args.extend(["-o", out]);
    let run = whocan(&args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!run.stderr.contains("warning"), "{}", run.stderr);
    let mut args = vec!["import"];
    args.extend(inputs);
    let from_csv = whocan(&args);
    let from_snapshot = whocan(&["import", out]);
    assert_eq!(from_snapshot.code, 0, "{}", from_snapshot.stderr);
    assert!(
        from_csv.stdout.contains("employees: 3"),
        "{}",
        from_csv.stdout
    );
    assert_eq!(from_snapshot.stdout, from_csv.stdout);
}

/// Full re-upload (issue 6, reference: "incremental updates are not
/// supported"): a snapshot given with a new version of one of its sources
/// keeps the other sources and replaces that one entirely; the import report
/// says what the replacement added and removed. In `app_v2.csv` Bob became
/// inactive, Kim is new, every other user is gone, and Ada's `read` now
/// comes through Admin only (Auditor is gone with the group-only row).
#[test]
fn issue_6_re_upload_replaces_the_source_and_reports_the_change() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("base.wcs");
    let base = base.to_str().unwrap();
    let run = whocan(&[
        "snapshot",
        "fixtures/mapped/app.csv:fixtures/mapped/app.toml",
        "fixtures/github_alicegh.csv",
        "-o",
        base,
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let v2 = "fixtures/mapped/app_v2.csv:fixtures/mapped/app.toml";
    let run = whocan(&["import", base, v2]);
    crate::harness::golden("mapped", "re_upload", &run);
    // The result is exactly the other source plus the new version.
    let replaced = whocan(&["report", "access", base, v2, "--format", "csv"]);
    let fresh = whocan(&[
        "report",
        "access",
        "fixtures/github_alicegh.csv",
        v2,
        "--format",
        "csv",
    ]);
    assert_eq!(replaced.code, 0, "{}", replaced.stderr);
    assert_eq!(replaced.stdout, fresh.stdout);
    // Two snapshots at once are still refused.
    let run = whocan(&["import", base, base]);
    assert_eq!(run.code, 2);
    assert!(run.stdout.contains("only one snapshot"), "{}", run.stdout);
}

/// `--mapping` applies to stdin (`-`) like to a file: same access report.
#[test]
fn issue_6_mapping_applies_to_stdin() {
    let csv = std::fs::read_to_string("fixtures/mapped/app.csv").unwrap();
    let args = ["report", "access", "--format", "csv", "--mapping"];
    let mut from_stdin = args.to_vec();
    from_stdin.extend(["fixtures/mapped/app.toml", "-"]);
    let mut from_file = args.to_vec();
    from_file.extend(["fixtures/mapped/app.toml", "fixtures/mapped/app.csv"]);
    let piped = crate::harness::whocan_with_stdin(&from_stdin, Some(csv.as_bytes()));
    let file = whocan(&from_file);
    assert_eq!(piped.code, 0, "{}", piped.stderr);
    assert!(piped.stdout.lines().count() > 5, "{}", piped.stdout);
    assert_eq!(piped.stdout, file.stdout);
}
