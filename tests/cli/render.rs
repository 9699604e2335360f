//! Rendering across commands (issues 13 and 14): control characters never
//! reach a terminal raw, CSV and JSON keep values exact, picture labels
//! cannot become markup, JSON keys keep the column order, and the people
//! map's formula neutralisation round-trips.
//!
//! `fixtures/hostile_names.csv`: an identity named `ok\r\x1b[2Kroot\x07\x08`
//! (CR, an erase-line sequence, BEL, backspace) without MFA in a group named
//! with `<script>` that holds `admin` on a resource whose name has a C1 CSI
//! (U+009B) and a right-to-left override (U+202E).
//! `fixtures/people/formula_ids.csv`: identities `-1`, `'-1`, `''x` and
//! `=1+1`, distinct ids that formula neutralisation must keep apart.

use crate::harness::{Run, whocan};

const HOSTILE: &str = "fixtures/hostile_names.csv";
const RAW_NAME: &str = "ok\r\x1b[2Kroot\x07\x08";
const SHOWN_NAME: &str = r"ok\r\x1b[2Kroot\x07\x08";

/// The control characters a run printed, other than line breaks.
fn controls(text: &str) -> Vec<char> {
    text.chars()
        .filter(|&c| {
            c != '\n'
                && (c.is_control()
                    || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'))
        })
        .collect()
}

#[track_caller]
fn ok(args: &[&str]) -> Run {
    let run = whocan(args);
    assert!(
        run.code == 0 || run.code == 1,
        "{args:?}: exit {}\n{}",
        run.code,
        run.stderr
    );
    run
}

#[test]
fn issue_13_14_control_characters_are_escaped_in_every_human_output() {
    let cases: Vec<Vec<&str>> = vec![
        // Reports write CSV off a terminal: the table is asked for.
        vec!["report", "access", HOSTILE, "--format", "table"],
        vec![
            "findings",
            HOSTILE,
            "--as-of",
            "2026-01-31",
            "--format",
            "table",
        ],
        vec!["import", HOSTILE],
        vec!["query", HOSTILE, "-e", "find root"],
        vec!["query", HOSTILE, "-e", "who can reach r-prod"],
        vec!["query", HOSTILE, "-e", "show u-evil"],
        vec!["why", HOSTILE, "u-evil", "r-prod"],
        vec!["stats", HOSTILE],
    ];
    for args in cases {
        let run = ok(&args);
        assert_eq!(
            controls(&run.stdout),
            vec![],
            "{args:?} stdout:\n{}",
            run.stdout
        );
        assert_eq!(
            controls(&run.stderr),
            vec![],
            "{args:?} stderr:\n{}",
            run.stderr
        );
    }
    let report = ok(&["report", "access", HOSTILE, "--format", "table"]);
    assert!(report.stdout.contains(SHOWN_NAME), "{}", report.stdout);
    assert!(
        report.stdout.contains(r"Prod \u{9b}31m\u{202e}DB"),
        "{}",
        report.stdout
    );
    let findings = ok(&[
        "findings",
        HOSTILE,
        "--as-of",
        "2026-01-31",
        "--format",
        "table",
    ]);
    assert!(findings.stdout.contains("privileged-without-mfa"));
    assert!(findings.stdout.contains(SHOWN_NAME), "{}", findings.stdout);
}

#[test]
fn issue_13_14_csv_and_json_keep_control_characters_exact() {
    let csv = ok(&["report", "access", HOSTILE, "--format", "csv"]);
    assert!(
        csv.stdout.contains(&format!("\"{RAW_NAME}\"")),
        "{}",
        csv.stdout
    );
    let json = ok(&["report", "access", HOSTILE, "--format", "jsonl"]);
    let first: serde_json::Value =
        serde_json::from_str(json.stdout.lines().next().unwrap()).unwrap();
    assert_eq!(first["identity_name"], RAW_NAME);
    let findings = ok(&[
        "findings",
        HOSTILE,
        "--as-of",
        "2026-01-31",
        "--format",
        "json",
    ]);
    assert!(
        findings.stdout.contains(r"ok\r\u001b[2Kroot\u0007\b"),
        "{}",
        findings.stdout
    );
}

#[test]
fn issue_13_14_picture_labels_cannot_become_markup() {
    for format in ["mermaid", "dot"] {
        let run = ok(&["why", HOSTILE, "u-evil", "r-prod", "--format", format]);
        assert!(
            !run.stdout.contains("<script>"),
            "{format}:\n{}",
            run.stdout
        );
        assert_eq!(controls(&run.stdout), vec![], "{format}:\n{}", run.stdout);
        let escaped = if format == "mermaid" {
            "#lt;script#gt;"
        } else {
            "&lt;script&gt;"
        };
        assert!(run.stdout.contains(escaped), "{format}:\n{}", run.stdout);
    }
}

/// Every JSON object lists its keys in the answer's column order.
#[test]
fn issue_14_json_keys_follow_the_column_order() {
    let run = ok(&[
        "query",
        "fixtures/nested_groups.csv",
        "-e",
        "who can reach prod-db",
        "--format",
        "jsonl",
    ]);
    // One object per statement: `{statement, line, answer: [rows]}`; the
    // first row's text is what is checked.
    let framed = run.stdout.lines().next().expect("one statement");
    let start = framed.find("\"answer\":[").expect("an answer") + "\"answer\":[".len();
    let line = &framed[start..start + framed[start..].find('}').expect("a row") + 1];
    let header = ok(&[
        "query",
        "fixtures/nested_groups.csv",
        "-e",
        "who can reach prod-db",
        "--format",
        "csv",
    ]);
    let columns: Vec<&str> = header.stdout.lines().next().unwrap().split(',').collect();
    let object: serde_json::Map<String, serde_json::Value> = serde_json::from_str(line).unwrap();
    // The object's keys, in the order they appear in the text.
    let mut in_text: Vec<&str> = object.keys().map(String::as_str).collect();
    in_text.sort_by_key(|k| line.find(&format!("\"{k}\":")).unwrap());
    assert_eq!(in_text, columns, "{line}");
}

/// `people unmapped` → fill in a row → `--people-map` links exactly the
/// identity of that row: `-1` and `'-1` are different accounts.
#[test]
fn issue_13_3_people_map_round_trip_links_the_exact_identity() {
    const HR: &str = "fixtures/people/hr.csv:fixtures/people/hr.toml";
    const IDS: &str = "fixtures/people/formula_ids.csv";
    let unmapped = ok(&["people", "unmapped", HR, IDS, "--no-auto-map"]);
    let dir = tempfile::tempdir().unwrap();
    let mut reader = csv::ReaderBuilder::new().from_reader(unmapped.stdout.as_bytes());
    let mut writer = csv::Writer::from_path(dir.path().join("map.csv")).unwrap();
    writer
        .write_record(reader.headers().unwrap().clone().iter())
        .unwrap();
    // The person fills in the rows of these names with these employees.
    let people = [
        ("minus one", "ada@acme.test"),
        ("quote minus one", "bob@acme.test"),
        ("quote quote", "cy@acme.test"),
        ("equals", "dee@acme.test"),
    ];
    let mut filled = 0;
    for record in reader.records() {
        let mut record: Vec<String> = record.unwrap().iter().map(str::to_string).collect();
        if let Some((_, email)) = people.iter().find(|(name, _)| record[2] == *name) {
            record[5] = email.to_string();
            record[6] = "IS".into();
            filled += 1;
        }
        writer.write_record(&record).unwrap();
    }
    writer.flush().unwrap();
    assert_eq!(filled, people.len(), "{}", unmapped.stdout);
    let map = dir.path().join("map.csv");
    let report = ok(&[
        "report",
        "access",
        "--by",
        "employee",
        HR,
        IDS,
        "--no-auto-map",
        "--people-map",
        map.to_str().unwrap(),
        "--format",
        "jsonl",
    ]);
    let mut links: Vec<(String, String)> = report
        .stdout
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (
                v["employee_email"].as_str().unwrap().to_string(),
                v["identity_id"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    links.dedup();
    let expected: Vec<(String, String)> = [
        ("ada@acme.test", "-1"),
        ("bob@acme.test", "'-1"),
        ("cy@acme.test", "''x"),
        ("dee@acme.test", "=1+1"),
    ]
    .iter()
    .map(|(e, i)| (e.to_string(), i.to_string()))
    .collect();
    assert_eq!(links, expected, "{}", report.stdout);
}
