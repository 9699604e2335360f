//! Access reviews (issue 18): `whocan review --by manager|source|resource`
//! writes one HTML page per scope and an index; `whocan review decisions`
//! reads decisions back. Goldens under `tests/golden/review/`: each run's
//! stdout, stderr and exit code, and for the pages their embedded data and
//! the index, so every byte a page is made of is compared.
//!
//! `fixtures/review/`: `okta.csv` (nested groups Engineering → Platform, a
//! `false` edge from Engineering to prod-db, direct grants, an identity
//! named `<img src=x onerror=alert(1)>`), `hr.csv` through `hr.toml` (Mia
//! above Ann above Bob, Eve and Cy, who has left) and `decisions.csv`, made
//! on Ann's page: a revoke, a keep, one row per reason a decision is not
//! applied (gone grant, wrong digest, unknown scope) and two rejected rows.

use crate::golden_cases;
use crate::harness::{Run, golden, whocan};

const HR: &str = "fixtures/review/hr.csv:fixtures/review/hr.toml";
const OKTA: &str = "fixtures/review/okta.csv";
const AS_OF: &str = "2026-01-31";

golden_cases! { "review":
    // Every decision checked: applied ones give the revocation list (the
    // identity's own edge, with file:line), the others are reported with
    // file:line:column, and each page's completion is printed; exit 1.
    decisions => ["review", "decisions", HR, OKTA, "--as-of", AS_OF, "--decisions", "fixtures/review/decisions.csv"],
    // Another --as-of date is another page digest: nothing is applied.
    decisions_other_date => ["review", "decisions", HR, OKTA, "--as-of", "2026-02-28", "--decisions", "fixtures/review/decisions.csv"],
    // A decisions file without the key columns is refused, exit 2.
    decisions_missing_columns => ["review", "decisions", HR, OKTA, "--as-of", AS_OF, "--decisions", "fixtures/people/map.csv"],
    // --by manager without HRIS employees is bad input.
    by_manager_without_employees => ["review", OKTA, "--by", "manager", "--as-of", AS_OF, "-o", "/nonexistent/never-written"],
    // --by has no default: the reviewer scope is always said.
    by_is_required => ["review", HR, OKTA, "-o", "/nonexistent/never-written"],
}

/// Runs `whocan review … -o DIR` into a fresh directory and compares, as
/// goldens, stdout (the directory written as `DIR`), the index and each
/// page's embedded data.
#[track_caller]
fn pages(case: &str, by: &str) {
    pages_with(case, by, &[]);
}

/// [`pages`] with `extra` arguments to `review`.
#[track_caller]
fn pages_with(case: &str, by: &str, extra: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let out_s = out.to_str().unwrap();
    let mut args = vec![
        "review", HR, OKTA, "--by", by, "--as-of", AS_OF, "-o", out_s,
    ];
    args.extend(extra);
    let run = whocan(&args);
    let run = Run {
        stdout: run.stdout.replace(out_s, "DIR"),
        stderr: run.stderr.replace(out_s, "DIR"),
        code: run.code,
    };
    golden("review", case, &run);
    let mut names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    let mut data = String::new();
    for name in &names {
        let html = std::fs::read_to_string(out.join(name)).unwrap();
        // Values are data, never markup: no raw `<img` or `<script>` from
        // a name reaches the page, and the one data element closes once.
        assert!(!html.contains("<img"), "{name}: raw <img");
        assert!(!html.contains("alert(2)</script>"), "{name}: raw script");
        data.push_str(&format!("== {name}\n"));
        if name == "index.html" {
            data.push_str(&html);
        } else {
            let start = html.find("id=\"review-data\">").expect("embedded data") + 17;
            let end = start + html[start..].find("</script>").unwrap();
            assert_eq!(
                html.matches("</script>").count(),
                2,
                "{name}: data and script only"
            );
            data.push_str(&html[start..end]);
            data.push('\n');
        }
    }
    let data_run = Run {
        stdout: data,
        stderr: String::new(),
        code: 0,
    };
    golden("review", &format!("{case}_files"), &data_run);
}

#[test]
fn review_by_manager() {
    pages("by_manager", "manager");
}

#[test]
fn review_by_source() {
    pages("by_source", "source");
}

#[test]
fn review_by_resource() {
    pages("by_resource", "resource");
}

/// Everyone last logged in on 2026-01-20, 11 days before `--as-of`: with
/// `--dormant-days 7` every identity with access is dormant, so the pages'
/// findings (and their counts in stdout and the index) gain a
/// `dormant-account` each; `--privileged read` makes Eve's read privileged
/// too. The default (90 days) pages are `by_manager`.
#[test]
fn issue_18_review_findings_follow_dormant_days_and_privileged() {
    pages_with(
        "by_manager_dormant_7",
        "manager",
        &["--dormant-days", "7", "--privileged", "admin,read"],
    );
}

/// The embedded data of every page written by `review ARGS -o DIR`.
fn page_data(args: &[&str]) -> Vec<serde_json::Value> {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["-o", out.to_str().unwrap()]);
    let run = whocan(&all);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let mut names: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n != "index.html")
        .collect();
    names.sort();
    names
        .iter()
        .map(|name| {
            let html = std::fs::read_to_string(out.join(name)).unwrap();
            let start = html.find("id=\"review-data\">").unwrap() + 17;
            let end = start + html[start..].find("</script>").unwrap();
            serde_json::from_str(&html[start..end]).unwrap()
        })
        .collect()
}

/// A finding's entity as `whocan findings` labels it.
fn label(entity: &serde_json::Value) -> String {
    let (source, id, name) = (
        entity["source"].as_str().unwrap(),
        entity["id"].as_str().unwrap(),
        entity["name"].as_str().unwrap(),
    );
    if name.is_empty() || name == id {
        format!("{source}/{id}")
    } else {
        format!("{source}/{id} ({name})")
    }
}

/// Each page's findings are exactly `whocan findings`' (same data, date and
/// options) about the identities on the page or the connections on its
/// paths, in the same order, with the same severity, kind and detail.
#[test]
fn issue_18_page_findings_equal_whocan_findings_for_the_scope() {
    for options in [
        &[][..],
        &["--dormant-days", "7", "--privileged", "admin,read"][..],
    ] {
        let mut findings_args = vec!["findings", HR, OKTA, "--as-of", AS_OF, "--format", "json"];
        findings_args.extend(options);
        let run = whocan(&findings_args);
        let all: Vec<serde_json::Value> = serde_json::from_str(&run.stdout).unwrap();
        for by in ["manager", "source", "resource"] {
            let mut review_args = vec!["review", HR, OKTA, "--by", by, "--as-of", AS_OF];
            review_args.extend(options);
            let pages = page_data(&review_args);
            assert!(!pages.is_empty());
            for page in &pages {
                let s = |i: &serde_json::Value| {
                    page["strings"][i.as_u64().unwrap() as usize]
                        .as_str()
                        .unwrap()
                        .to_string()
                };
                let identities: Vec<(String, String)> = page["rows"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| (s(&r[0]), s(&r[1])))
                    .collect();
                // Connection nodes of the paths, by name (unique in the
                // fixture).
                let mut connections = Vec::new();
                for e in page["edges"].as_array().unwrap() {
                    for (name, kind) in [(&e[0], &e[1]), (&e[2], &e[3])] {
                        if s(kind) == "connection" {
                            connections.push(s(name));
                        }
                    }
                }
                let expected: Vec<serde_json::Value> = all
                    .iter()
                    .filter(|f| {
                        let e = &f["entity"];
                        match e["kind"].as_str() {
                            Some("identity") => identities.contains(&(
                                e["source"].as_str().unwrap().to_string(),
                                e["id"].as_str().unwrap().to_string(),
                            )),
                            Some("connection") => {
                                connections.contains(&e["name"].as_str().unwrap().to_string())
                            }
                            _ => false,
                        }
                    })
                    .map(|f| {
                        serde_json::json!([
                            f["severity"],
                            f["kind"],
                            label(&f["entity"]),
                            f["detail"]
                        ])
                    })
                    .collect();
                assert_eq!(
                    page["findings"].as_array().unwrap(),
                    &expected,
                    "{by} page {} with {options:?}",
                    page["meta"]["scope"]
                );
            }
        }
    }
}
