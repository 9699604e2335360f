//! One run, one document (issue 14.5): `query` with several `-e` and `run`
//! print one JSON document (or one JSON object per line), and `run --junit
//! FILE` writes JUnit XML with one testcase per `expect`.

use crate::harness::whocan;

const NESTED: &str = "fixtures/nested_groups.csv";
const FAILING: &str = "tests/golden/query/failing.wq";

#[test]
fn issue_14_several_expressions_print_one_json_document() {
    let run = whocan(&[
        "query",
        NESTED,
        "-e",
        "who can reach prod-db",
        "-e",
        "members of DBA-Team; expect bob reaches prod-db",
        "--format",
        "json",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("not one JSON document ({e}):\n{}", run.stdout));
    let items = doc.as_array().expect("an array");
    let statements: Vec<&str> = items
        .iter()
        .map(|i| i["statement"].as_str().unwrap())
        .collect();
    assert_eq!(
        statements,
        [
            "who can reach prod-db",
            "members of DBA-Team",
            "expect bob reaches prod-db"
        ]
    );
    assert_eq!(items[0]["line"], 1);
    let who = items[0]["answer"].as_array().expect("rows");
    assert!(who.iter().any(|r| r["identity_name"] == "alice"), "{who:?}");
    let members = items[1]["answer"].as_array().expect("rows");
    assert_eq!(members.len(), 2, "{members:?}");
    assert_eq!(items[2]["passed"], true, "{:?}", items[2]);
}

#[test]
fn issue_14_jsonl_prints_one_object_per_statement() {
    let run = whocan(&[
        "query",
        NESTED,
        "-e",
        "who can reach prod-db",
        "-e",
        "members of DBA-Team\ncount what can bob reach",
        "--format",
        "jsonl",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert_eq!(lines.len(), 3, "{}", run.stdout);
    assert_eq!(lines[1]["statement"], "members of DBA-Team");
    assert_eq!(lines[2]["statement"], "count what can bob reach");
    assert_eq!(lines[2]["line"], 2);
    assert!(lines[0]["answer"].as_array().unwrap().len() >= 2);
}

#[test]
fn issue_14_run_json_holds_the_results_and_the_counts() {
    let run = whocan(&["run", FAILING, "--data", NESTED, "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("not one JSON document ({e}):\n{}", run.stdout));
    assert_eq!(doc["passed"], 2, "{doc}");
    assert_eq!(doc["failed"], 5, "{doc}");
    let results = doc["results"].as_array().unwrap();
    let failed: Vec<u64> = results
        .iter()
        .filter(|r| r["passed"] == false || r.get("error").is_some())
        .map(|r| r["line"].as_u64().unwrap())
        .collect();
    assert_eq!(failed, [4, 5, 6, 7, 9]);
    let line4 = results.iter().find(|r| r["line"] == 4).unwrap();
    assert!(
        line4["detail"].as_str().unwrap().contains("unexpected"),
        "{line4}"
    );
}

#[test]
fn issue_14_run_jsonl_ends_with_the_counts() {
    let run = whocan(&["run", FAILING, "--data", NESTED, "--format", "jsonl"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let lines: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert_eq!(lines.len(), 8, "{}", run.stdout);
    let last = lines.last().unwrap();
    assert_eq!((&last["passed"], &last["failed"]), (&2.into(), &5.into()));
}

#[test]
fn issue_14_run_junit_has_one_testcase_per_expect() {
    let dir = tempfile::tempdir().unwrap();
    let xml = dir.path().join("results.xml");
    let run = whocan(&[
        "run",
        FAILING,
        "--data",
        NESTED,
        "--junit",
        xml.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    // The text report is still printed.
    assert!(run.stdout.contains("2 passed, 5 failed"), "{}", run.stdout);
    let text = std::fs::read_to_string(&xml).unwrap();
    let doc = roxmltree::Document::parse(&text)
        .unwrap_or_else(|e| panic!("not well-formed XML ({e}):\n{text}"));
    let suite = doc
        .descendants()
        .find(|n| n.has_tag_name("testsuite"))
        .expect("a testsuite");
    let cases: Vec<roxmltree::Node> = suite
        .children()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    assert_eq!(cases.len(), 7, "{text}");
    assert_eq!(suite.attribute("tests"), Some("7"), "{text}");
    let failures: Vec<&str> = cases
        .iter()
        .filter_map(|c| {
            c.children()
                .find(|n| n.has_tag_name("failure") || n.has_tag_name("error"))
        })
        .map(|f| f.attribute("message").unwrap())
        .collect();
    assert_eq!(failures.len(), 5, "{text}");
    let counted = suite.attribute("failures").unwrap().parse::<u32>().unwrap()
        + suite.attribute("errors").unwrap().parse::<u32>().unwrap();
    assert_eq!(counted, 5, "{text}");
    assert!(
        failures[0].starts_with(&format!("{FAILING}:4: ")),
        "{failures:?}"
    );
    assert!(
        failures
            .iter()
            .any(|f| f.starts_with(&format!("{FAILING}:9:37: "))),
        "{failures:?}"
    );
}
