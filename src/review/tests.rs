//! Unit tests of the review pages: rows and their evidence, escaping,
//! digests, determinism.

use super::page::{escape_json, write_page};
use super::*;
use crate::findings::{DEFAULT_PRIVILEGED, Options};
use crate::import::{FileOptions, Importer};

const OKTA: &str = include_str!("../../fixtures/review/okta.csv");

fn graph() -> (AccessGraph, ImportReport) {
    let mut importer = Importer::new();
    importer
        .import_reader(
            "okta.csv".as_ref(),
            OKTA.as_bytes(),
            &FileOptions::default(),
        )
        .unwrap();
    let (model, report) = importer.finish();
    (AccessGraph::new(model), report)
}

fn options() -> Options {
    Options {
        now: 1_769_817_600,
        dormant_days: 90,
        privileged: DEFAULT_PRIVILEGED.iter().map(|s| s.to_string()).collect(),
    }
}

/// The one page of `--by source` over the fixture.
fn source_page(review: &Review) -> Page {
    let mut pages = Vec::new();
    review
        .each_page(By::Source, &mut |p| {
            pages.push(p);
            Ok(())
        })
        .unwrap();
    assert_eq!(pages.len(), 1);
    pages.pop().unwrap()
}

#[test]
fn json_cannot_break_out_of_its_script_element() {
    let raw = serde_json::to_string("</script><!--x-->\u{2028}\u{2029}&").unwrap();
    let safe = escape_json(&raw);
    assert_eq!(
        safe,
        r#""\u003c/script\u003e\u003c!--x--\u003e\u2028\u2029\u0026""#
    );
    let back: String = serde_json::from_str(&safe).unwrap();
    assert_eq!(back, "</script><!--x-->\u{2028}\u{2029}&");
}

#[test]
fn a_row_merges_its_providers_and_carries_each_grant_path() {
    let (g, report) = graph();
    let review = Review::new(&g, &report, Some(&options()), "2026-01-31".into());
    let page = source_page(&review);
    let m = g.model();
    let wiki = page
        .rows
        .iter()
        .find(|r| {
            m.str(m.entity(r.identity).id) == "u-bob" && m.str(m.entity(r.target).id) == "r-wiki"
        })
        .unwrap();
    assert!(wiki.direct);
    let providers: Vec<&str> = wiki
        .providers
        .iter()
        .map(|&p| m.str(m.entity(p).id))
        .collect();
    assert_eq!(providers, ["g-platform"]);
    let lines: Vec<Vec<u32>> = wiki
        .paths
        .iter()
        .map(|p| p.iter().map(|&e| m.edges[e as usize].origin.line).collect())
        .collect();
    assert_eq!(lines, [vec![3], vec![2, 8, 11]]);
    // Admin on prod-db: the granting path, then the `false` edge out of
    // Engineering beside it.
    let admin = page
        .rows
        .iter()
        .find(|r| m.str(m.entity(r.identity).id) == "u-bob" && m.str(r.permission) == "admin")
        .unwrap();
    let granted: Vec<Vec<bool>> = admin
        .paths
        .iter()
        .map(|p| p.iter().map(|&e| m.edges[e as usize].granted).collect())
        .collect();
    assert_eq!(granted, [vec![true, true, true], vec![true, false]]);
}

#[test]
fn the_page_digest_depends_on_scope_and_date() {
    let (g, report) = graph();
    let a = Review::new(&g, &report, Some(&options()), "2026-01-31".into());
    let b = Review::new(&g, &report, Some(&options()), "2026-02-28".into());
    assert_ne!(a.page_digest("source:okta"), a.page_digest("source:other"));
    assert_ne!(a.page_digest("source:okta"), b.page_digest("source:okta"));
    assert_eq!(a.page_digest("source:okta"), a.page_digest("source:okta"));
    assert_eq!(a.page_digest("source:okta").len(), 64);
}

#[test]
fn pages_are_byte_identical_and_names_never_become_markup() {
    let (g, report) = graph();
    let review = Review::new(&g, &report, Some(&options()), "2026-01-31".into());
    let render = || {
        let mut out = Vec::new();
        write_page(&review, &source_page(&review), &mut out).unwrap();
        String::from_utf8(out).unwrap()
    };
    let html = render();
    assert_eq!(html, render());
    assert!(!html.contains("<img"));
    assert!(html.contains("\\u003cimg src=x onerror=alert(1)\\u003e"));
    assert_eq!(html.matches("<script").count(), 2);
}

#[test]
fn issue_18_review_keeps_each_finding_as_a_brief_without_evidence() {
    let (g, report) = graph();
    let review = Review::new(&g, &report, Some(&options()), "2026-01-31".into());
    let full = crate::findings::findings(
        &Expansion::new(&g),
        &People::new(g.model()),
        &report,
        &options(),
    );
    let shown: Vec<(Severity, FindingKind, String, &str)> = review
        .findings
        .iter()
        .map(|b| {
            (
                b.severity,
                b.kind,
                crate::findings::label(g.model(), b.entity),
                review.detail(b),
            )
        })
        .collect();
    let expected: Vec<(Severity, FindingKind, String, &str)> = full
        .iter()
        .filter(|f| matches!(f.entity, Subject::Entity { .. }))
        .map(|f| (f.severity, f.kind, f.entity.label(), f.detail.as_str()))
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(shown, expected);
    // What the review holds of its findings for the whole run is their
    // details, one after another: no evidence line, no fix.
    let details: usize = full.iter().map(|f| f.detail.len()).sum();
    assert_eq!(review.details.len(), details);
    for f in &full {
        for e in &f.evidence {
            assert!(
                !review.details.contains(&e.text),
                "evidence kept: {}",
                e.text
            );
        }
        assert!(!review.details.contains(&f.fix));
    }
}
