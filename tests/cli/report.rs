//! `whocan report access`: the access-report contract on hand-worked
//! fixtures.

use crate::golden_cases;

// fixtures/github_alicegh.csv is the reference's own example: alicegh is a
// member of Engineering, which has access to customer-application and
// admin-application. Expected, by hand: alicegh holds `member` on
// Engineering directly (the empty Permission Name into a connection defaults
// to `member`) and `access` (the default into a resource) on both
// repositories with provider Engineering. Rows sort by target id:
// repo-admin-application < repo-customer-application < team-engineering.
//
// fixtures/reference_example.csv is the reference's example table verbatim:
// only three identities (john.developer, mary.analyst, sarah.admin), each
// with one direct grant and no group membership, so three direct rows,
// sorted by identity id: 63c16f61… < AIDACK… < usr_sarah_001 (bytewise:
// digits before uppercase before lowercase).
//
// fixtures/cyclic_groups.csv, by hand (Eng and Platform nest each other):
// - alice: member of Eng directly; via Eng: Platform (member), repo (access,
//   the default), dave (impersonate, an identity target: listed, never
//   traversed, so alice gets nothing of dave's Admins); via Platform: Eng
//   (member) and prod-db admin. Platform's `read` on prod-db is false: absent.
// - bob: member of Ops directly (empty name into a connection = member); via
//   Ops: Platform; through the cycle everything alice gets via Eng and
//   Platform, plus Platform membership via Ops.
// - carol: her Eng membership is false, so only her direct read on prod-db.
// - dave: member of Admins directly, write on vault via Admins.
golden_cases! { "report":
    alicegh_csv => ["report", "access", "fixtures/github_alicegh.csv", "--format", "csv"],
    alicegh_table => ["report", "access", "fixtures/github_alicegh.csv", "--format", "table"],
    alicegh_json => ["report", "access", "fixtures/github_alicegh.csv", "--format", "json"],
    alicegh_jsonl => ["report", "access", "fixtures/github_alicegh.csv", "--format", "jsonl"],
    reference_example_csv => ["report", "access", "fixtures/reference_example.csv", "--format", "csv"],
    cyclic_groups_csv => ["report", "access", "fixtures/cyclic_groups.csv", "--format", "csv"],
    formula_injection_csv => ["report", "access", "fixtures/bom_crlf_quoted.csv", "--format", "csv"],
    express_mode_csv => ["report", "access", "fixtures/express_mode.csv", "--format", "csv"],
    conflicts_csv => ["report", "access", "fixtures/conflicts.csv", "--format", "csv"],
    refused_file_fails => ["report", "access", "fixtures/github_alicegh.csv", "fixtures/bad/duplicate_header.csv"],
    rejected_rows_warn => ["report", "access", "fixtures/bad/bad_boolean.csv", "--format", "csv"],
    empty_json => ["report", "access", "fixtures/entities_only.csv", "--format", "json"],
}

#[test]
fn output_file_is_written_and_identical_to_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("access.csv");
    let args = [
        "report",
        "access",
        "fixtures/cyclic_groups.csv",
        "fixtures/reference_example.csv",
        "--format",
        "csv",
    ];
    let stdout = crate::harness::whocan(&args).stdout;
    let mut with_file = args.to_vec();
    with_file.extend(["-o", out.to_str().unwrap()]);
    let run = crate::harness::whocan(&with_file);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout, "");
    assert_eq!(std::fs::read_to_string(&out).unwrap(), stdout);
}
