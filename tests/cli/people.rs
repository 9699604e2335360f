//! People and findings (issue 7): identities linked to HRIS employees by a
//! people map (`--people-map`, IS / OWNS) and by automatic matching, the
//! unmapped-identities export, per-person access reports, the person query
//! forms and `whocan findings`. Goldens under `tests/golden/people/`.
//!
//! `fixtures/people/`: `hr.csv` through `hr.toml` (seven employees, managers
//! in both cases, one terminated), identities in three sources (`okta.csv`,
//! `github.csv`, `aws.csv`, 19-column) and `map.csv`: explicit IS and OWNS
//! rows, a duplicate row, a conflicting second IS employee and one rejected
//! row per reason (unknown employee, unknown identity, bad relation, a
//! connection instead of an identity, empty Employee Email). The data holds
//! one case of every finding (bob-gh holds more grants than the evidence
//! shows, so "… and N more" is covered); findings always run with `--as-of`, so the
//! goldens do not depend on the clock.

use crate::golden_cases;
use crate::harness::whocan;

const HR: &str = "fixtures/people/hr.csv:fixtures/people/hr.toml";
const OKTA: &str = "fixtures/people/okta.csv";
const GITHUB: &str = "fixtures/people/github.csv";
const AWS: &str = "fixtures/people/aws.csv";
const MAP: &str = "fixtures/people/map.csv";
const AS_OF: &str = "2026-01-31";

golden_cases! { "people":
    // Two privileged grants without MFA: "2 grants are", not "2 grant iss"
    // (every count in a message goes through `report::plural`).
    findings_two_privileged_grants => ["findings", "fixtures/findings/mfa_two_grants.csv", "--as-of", AS_OF, "--format", "csv"],
    // The mapping summary: counts by rule, explicit links, the conflict, the
    // ambiguous match and every rejected mapping row with file:line:column.
    import_mapping => ["import", HR, OKTA, GITHUB, AWS, "--people-map", MAP],
    import_mapping_json => ["import", HR, OKTA, GITHUB, AWS, "--people-map", MAP, "--format", "json"],
    import_auto_only => ["import", HR, OKTA, GITHUB, AWS],
    import_no_auto_map => ["import", HR, OKTA, GITHUB, AWS, "--people-map", MAP, "--no-auto-map"],
    // A people map without the Employee Email column is refused (exit 2).
    map_missing_column => ["import", HR, OKTA, "--people-map", "fixtures/people/missing_column.csv"],
    map_missing_file => ["report", "access", HR, OKTA, "--people-map", "fixtures/people/nope.csv"],
    unmapped => ["people", "unmapped", HR, OKTA, GITHUB, AWS, "--people-map", MAP],
    unmapped_no_auto_map => ["people", "unmapped", HR, OKTA, GITHUB, AWS, "--no-auto-map"],
    by_employee => ["report", "access", "--by", "employee", HR, OKTA, GITHUB, AWS, "--people-map", MAP, "--format", "table"],
    by_employee_csv => ["report", "access", "--by", "employee", HR, OKTA, GITHUB, AWS, "--people-map", MAP, "--format", "csv"],
    // No HRIS data: no employees, an empty report in every format.
    by_employee_json_no_hr => ["report", "access", "--by", "employee", OKTA, "--format", "json"],
    by_employee_csv_no_hr => ["report", "access", "--by", "employee", OKTA, "--format", "csv"],
    by_manager => ["report", "access", "--by", "manager", HR, OKTA, GITHUB, AWS, "--people-map", MAP, "--format", "table"],
    by_manager_json => ["report", "access", "--by", "manager", HR, OKTA, GITHUB, AWS, "--people-map", MAP, "--format", "json"],
    by_manager_jsonl => ["report", "access", "--by", "manager", HR, OKTA, GITHUB, AWS, "--people-map", MAP, "--format", "jsonl"],
    findings => ["findings", HR, OKTA, GITHUB, AWS, "--people-map", MAP, "--as-of", AS_OF, "--format", "table"],
    findings_csv => ["findings", HR, OKTA, GITHUB, AWS, "--people-map", MAP, "--as-of", AS_OF, "--format", "csv"],
    findings_json => ["findings", HR, OKTA, GITHUB, AWS, "--people-map", MAP, "--as-of", AS_OF, "--format", "json"],
    findings_jsonl => ["findings", HR, OKTA, GITHUB, AWS, "--people-map", MAP, "--as-of", AS_OF, "--format", "jsonl"],
    // Exit 1: a critical finding is worse than high.
    findings_fail_on_high => ["findings", HR, OKTA, GITHUB, AWS, "--people-map", MAP, "--as-of", AS_OF, "--fail-on", "high", "--format", "csv"],
    // Exit 0: without HR data the only finding is a dormant account (low).
    findings_fail_on_medium_clean => ["findings", "fixtures/github_alicegh.csv", "--as-of", AS_OF, "--fail-on", "medium"],
    findings_fail_on_low => ["findings", "fixtures/github_alicegh.csv", "--as-of", AS_OF, "--fail-on", "low"],
    // Before Cy's termination date and Bob's 90 days: fewer findings.
    findings_earlier_as_of => ["findings", HR, OKTA, GITHUB, AWS, "--people-map", MAP, "--as-of", "2025-07-01", "--format", "csv", "--dormant-days", "365"],
    // Replacing the privileged patterns: `admin` no longer counts.
    findings_privileged_patterns => ["findings", HR, OKTA, GITHUB, AWS, "--people-map", MAP, "--as-of", AS_OF, "--privileged", "write,*:*", "--format", "csv"],
    findings_bad_as_of => ["findings", OKTA, "--as-of", "last tuesday"],
    query_person_what => ["query", HR, OKTA, GITHUB, AWS, "--people-map", MAP, "-e", "what can person dee@acme.test reach"],
    query_person_what_owns => ["query", HR, OKTA, GITHUB, AWS, "--people-map", MAP, "-e", "what can person \"Eve Ops\" reach", "--format", "csv"],
    query_who_owns_identity => ["query", HR, OKTA, GITHUB, AWS, "--people-map", MAP, "-e", "who owns svc-deploy"],
    query_who_owns_resource => ["query", HR, OKTA, GITHUB, AWS, "--people-map", MAP, "-e", "who owns deploy-pipeline"],
    query_who_owns_nobody => ["query", HR, OKTA, GITHUB, AWS, "--people-map", MAP, "-e", "who owns u-ada"],
    query_manager_of => ["query", HR, OKTA, "-e", "manager of \"cy cole\""],
    query_reports_of => ["query", HR, OKTA, "-e", "reports of E100", "--format", "json"],
    query_count_reports => ["query", HR, OKTA, "-e", "count reports of ada@acme.test"],
    query_unknown_person => ["query", HR, OKTA, "-e", "reports of E101"],
    query_ambiguous_person => ["query", HR, OKTA, "-e", "manager of E"],
    query_help_people => ["query", OKTA, "-e", "help people"],
}

/// Export the unmapped identities, fill two rows in (an IS and an OWNS),
/// load the file back: those identities are mapped, the rest still are not.
#[test]
fn issue_7_unmapped_export_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let exported = dir.path().join("unmapped.csv");
    let exported = exported.to_str().unwrap();
    let run = whocan(&["people", "unmapped", HR, OKTA, GITHUB, AWS, "-o", exported]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let text = std::fs::read_to_string(exported).unwrap();
    let mut filled = String::new();
    let mut rows = 0;
    for line in text.lines() {
        // The last two cells, Employee Email and Relation, are empty.
        let fill = |who: &str, relation: &str| {
            let head = line.strip_suffix(",,").expect("two empty cells at the end");
            format!("{head},{who},{relation}")
        };
        let line = if line.starts_with("okta,u-ghost,") {
            rows += 1;
            fill("fay@acme.test", "IS")
        } else if line.starts_with("okta,svc-backup,") {
            rows += 1;
            fill("<GUS@acme.test>", "owns")
        } else {
            line.to_string()
        };
        filled.push_str(&line);
        filled.push('\n');
    }
    assert_eq!(rows, 2, "both identities were exported:\n{text}");
    let filled_path = dir.path().join("filled.csv");
    std::fs::write(&filled_path, &filled).unwrap();
    let filled_path = filled_path.to_str().unwrap();

    let run = whocan(&[
        "people",
        "unmapped",
        HR,
        OKTA,
        GITHUB,
        AWS,
        "--people-map",
        filled_path,
    ]);
    assert!(
        run.stderr.contains("people-map rows rejected"),
        "unfilled rows are rejected: {}",
        run.stderr
    );
    assert!(!run.stdout.contains("u-ghost"), "{}", run.stdout);
    assert!(!run.stdout.contains("svc-backup"), "{}", run.stdout);
    assert!(run.stdout.contains("aws,shared,"), "{}", run.stdout);

    let run = whocan(&[
        "query",
        HR,
        OKTA,
        GITHUB,
        AWS,
        "--people-map",
        filled_path,
        "--format",
        "csv",
        "-e",
        "who owns svc-backup",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .contains("\nE700,Gus Guard,gus@acme.test,okta,svc-backup,"),
        "{}",
        run.stdout
    );
    let run = whocan(&[
        "query",
        HR,
        OKTA,
        GITHUB,
        AWS,
        "--people-map",
        filled_path,
        "--format",
        "csv",
        "-e",
        "what can person fay@acme.test reach",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("\nIS,okta,u-ghost,Ghost,okta-console,"),
        "{}",
        run.stdout
    );
}

/// A snapshot keeps the people map (explicit rows, rejected rows, the
/// `--no-auto-map` setting): per-person reports and findings from the
/// snapshot are byte-identical to those from the files.
#[test]
fn a_snapshot_keeps_the_people_map() {
    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("people.wcs");
    let snap = snap.to_str().unwrap();
    let files = [HR, OKTA, GITHUB, AWS, "--people-map", MAP];
    let mut args = vec!["snapshot"];
    args.extend(files);
    args.extend(["-o", snap]);
    let run = whocan(&args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    for command in [
        &["report", "access", "--by", "employee", "--format", "csv"][..],
        &["findings", "--as-of", "2026-11-23", "--format", "csv"],
        &["import"],
    ] {
        let mut from_files = command.to_vec();
        from_files.extend(files);
        let mut from_snapshot = command.to_vec();
        from_snapshot.push(snap);
        let (a, b) = (whocan(&from_files), whocan(&from_snapshot));
        assert!(!a.stdout.is_empty(), "{command:?}: {}", a.stderr);
        assert_eq!(a.stdout, b.stdout, "{command:?}");
        assert_eq!(a.code, b.code, "{command:?}");
    }
}

/// `whocan run` takes the same data options as every other command: the
/// query file's `who owns` assertion holds only through the people map.
#[test]
fn run_takes_the_people_map() {
    let args = [
        "run",
        "fixtures/people/queries.wq",
        "--data",
        HR,
        "--data",
        OKTA,
        "--data",
        GITHUB,
        "--data",
        AWS,
    ];
    let with_map = whocan(&[&args[..], &["--people-map", MAP]].concat());
    assert_eq!(with_map.code, 0, "{}{}", with_map.stdout, with_map.stderr);
    assert!(
        with_map.stdout.contains("3 passed, 0 failed"),
        "{}",
        with_map.stdout
    );
    let without = whocan(&args);
    assert_eq!(without.code, 1, "{}", without.stdout);
    assert!(
        without.stdout.contains("2 passed, 1 failed"),
        "{}",
        without.stdout
    );
}

/// Issue 14: findings in JSON give the entity as `{source, id, kind, name}`
/// (a rejected row as `{file, line}`) and each piece of evidence as
/// `{file, line, column, text}`, not as formatted strings; text formats keep
/// their one-line labels.
#[test]
fn issue_14_findings_json_gives_entity_and_evidence_as_objects() {
    let run = crate::harness::whocan(&[
        "findings",
        HR,
        OKTA,
        GITHUB,
        AWS,
        "--people-map",
        MAP,
        "--as-of",
        AS_OF,
        "--format",
        "jsonl",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let mut rows = 0;
    for line in run.stdout.lines() {
        let f: serde_json::Value = serde_json::from_str(line).unwrap();
        let entity = f["entity"].as_object().expect("entity is an object");
        let keys: Vec<&str> = entity.keys().map(String::as_str).collect();
        let mut expected = if f["kind"] == "rejected-row" {
            vec!["file", "line"]
        } else {
            vec!["id", "kind", "name", "source"]
        };
        expected.sort();
        let mut keys = keys;
        keys.sort();
        assert_eq!(keys, expected, "{line}");
        for e in f["evidence"].as_array().expect("evidence is an array") {
            let e = e.as_object().expect("each piece of evidence is an object");
            assert!(e["text"].is_string(), "{line}");
            assert!(e["line"].is_u64() || e["line"].is_null(), "{line}");
        }
        rows += 1;
    }
    assert!(rows > 5, "{rows} findings");
}
