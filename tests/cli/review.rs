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
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let out_s = out.to_str().unwrap();
    let run = whocan(&[
        "review", HR, OKTA, "--by", by, "--as-of", AS_OF, "-o", out_s,
    ]);
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
