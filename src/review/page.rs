//! Review pages as HTML: one self-contained page per scope and the index.
//!
//! The markup is built with `maud`, which HTML-escapes every value it is
//! given; the page's rows are embedded as JSON inside
//! `<script type="application/json">`, escaped by [`escape_json`] so that no
//! value can end the script element (`</script>`), open a comment (`<!--`)
//! or break a JavaScript string (U+2028, U+2029). The page's script
//! (`page.js`) and style (`page.css`), inline, draw the table from that data
//! with `textContent` and SVG elements, never by parsing markup; nothing is
//! fetched, so a page opens from `file://` with no network. Rows are
//! written one at a time into the JSON (strings once, in a table after
//! them), so a page costs one page's rows in memory. Does no I/O beyond the
//! writer it is given.

use std::io::{self, Write};

use maud::{DOCTYPE, Markup, PreEscaped, html};
use rustc_hash::FxHashMap;
use serde::Serialize;

use super::{Page, Review};
use crate::model::{EntityIdx, Model};
use crate::people::employee_key;

/// The page's script, inline.
const SCRIPT: &str = include_str!("page.js");
/// The page's style sheet (screen and print), inline.
const STYLE: &str = include_str!("page.css");

/// JSON text made safe to embed in an HTML `<script>` element: `<`, `>`
/// and `&` become `\u003c`, `\u003e`, `\u0026`, and U+2028 / U+2029
/// become `\u2028` / `\u2029`. Valid JSON stays valid JSON with the same
/// value (these characters only occur inside strings).
pub fn escape_json(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

/// One line of the index: what a page holds and where it was written.
#[derive(Clone, Debug, Serialize)]
pub struct Written {
    /// The page's file name, relative to the output directory.
    pub file: String,
    /// The scope key.
    pub scope: String,
    /// The page's heading.
    pub title: String,
    /// Rows on the page.
    pub rows: usize,
    /// Identities in scope.
    pub identities: usize,
    /// Findings in scope.
    pub findings: usize,
    /// The page's digest.
    pub digest: String,
}

/// A file name for a scope: its key with every character outside
/// `[A-Za-z0-9._-]` as `_`, cut to 60 bytes, then 8 hex digits of the key's
/// blake3, so two keys never share a name.
pub fn file_name(scope_key: &str) -> String {
    let mut slug: String = scope_key
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    slug.truncate(60);
    let hash = blake3::hash(scope_key.as_bytes()).to_hex();
    format!("{slug}-{}.html", &hash[..8])
}

/// Strings of one page's data, each once, in first-use order.
#[derive(Default)]
struct Strings {
    list: Vec<String>,
    index: FxHashMap<String, u32>,
}

impl Strings {
    fn id(&mut self, s: &str) -> u32 {
        if let Some(&i) = self.index.get(s) {
            return i;
        }
        let i = self.list.len() as u32;
        self.list.push(s.to_string());
        self.index.insert(s.to_string(), i);
        i
    }
}

/// `name`, or the id when the name is empty.
fn name(model: &Model, e: EntityIdx) -> &str {
    let ent = model.entity(e);
    let n = model.str(ent.name);
    if n.is_empty() { model.str(ent.id) } else { n }
}

/// Writes `value` as escaped JSON.
fn json(out: &mut dyn Write, value: &impl Serialize) -> io::Result<()> {
    let text = serde_json::to_string(value).map_err(io::Error::other)?;
    out.write_all(escape_json(&text).as_bytes())
}

/// Writes one review page: header, controls, the table's frame, the data
/// and the script. Returns the index line (without the file name).
pub fn write_page(review: &Review, page: &Page, out: &mut dyn Write) -> io::Result<Written> {
    let m = review.model();
    let sev_counts = {
        let mut c: Vec<(&str, usize)> = Vec::new();
        for &f in &page.findings {
            let s = review.findings[f as usize].severity.as_str();
            match c.iter_mut().find(|(k, _)| *k == s) {
                Some(e) => e.1 += 1,
                None => c.push((s, 1)),
            }
        }
        c
    };
    let mut kinds: Vec<&str> = page
        .findings
        .iter()
        .map(|&f| review.findings[f as usize].kind.as_str())
        .collect();
    kinds.sort_unstable();
    kinds.dedup();
    let head: Markup = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "Access review: " (page.scope.title) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                header {
                    h1 { "Access review: " span #scope-title { (page.scope.title) } }
                    dl.meta {
                        dt { "Scope" } dd { code #scope-key { (page.scope.key) } }
                        dt { "As of" } dd #as-of { (review.as_of()) }
                        dt { "Page digest" } dd { code #page-digest { (page.digest) } }
                        dt { "Input digest" } dd { code { (review.input_digest()) } }
                        dt { "Inputs" }
                        dd {
                            ul.inputs {
                                @for s in &m.sources {
                                    li {
                                        code { (s.path.display().to_string()) }
                                        " (source " (m.str(s.source)) ", "
                                        (s.bytes) " bytes) blake3 "
                                        code { (s.blake3) }
                                    }
                                }
                            }
                        }
                    }
                    p.counts {
                        span #count-identities { (page.identities) } " identities · "
                        span #count-grants { (page.rows.len()) } " grants · "
                        span #count-findings { (page.findings.len()) } " findings in scope"
                        @for (s, n) in &sev_counts {
                            " " span class={ "sev sev-" (s) } { (n) " " (s) }
                        }
                    }
                }
                section.controls aria-label="Review controls" {
                    label { "Reviewer " input #reviewer type="text" value=(page.scope.reviewer) autocomplete="name"; }
                    label { "Filter " input #filter type="search" placeholder="name, id, permission, provider…"; }
                    label {
                        "Findings "
                        select #finding {
                            option value="" { "all rows" }
                            option value="*" { "rows with any finding" }
                            @for k in &kinds { option value=(k) { (k) } }
                        }
                    }
                    button #download type="button" { "Download decisions" }
                    span #progress aria-live="polite" {}
                }
                table #rows {
                    caption { "One row per identity, target and permission; expand a row for the path that gives it." }
                    thead {
                        tr {
                            th scope="col" { span.visually-hidden { "Path" } }
                            @for (col, label) in [("identity", "Identity"), ("employee", "Employee"), ("target", "Target"), ("permission", "Permission"), ("providers", "Provider(s)"), ("findings", "Findings"), ("decision", "Decision")] {
                                th scope="col" aria-sort="none" data-col=(col) {
                                    button.sort type="button" data-col=(col) { (label) }
                                }
                            }
                            th scope="col" { "Comment" }
                        }
                    }
                    tbody #rows-body {}
                }
                nav #pager aria-label="Pages" {}
                noscript { p { "This page needs JavaScript to show its rows; the data is embedded in it." } }
            }
        }
    };
    // The document up to `</body></html>`, which maud closes last.
    let head = head.into_string();
    let tail_at = head.rfind("</body>").unwrap_or(head.len());
    out.write_all(&head.as_bytes()[..tail_at])?;
    out.write_all(b"<script type=\"application/json\" id=\"review-data\">{\"version\":1,")?;
    let meta = serde_json::json!({
        "scope": page.scope.key,
        "title": page.scope.title,
        "by": page.scope.by.as_str(),
        "digest": page.digest,
        "asOf": review.as_of(),
        "file": file_name(&page.scope.key),
    });
    out.write_all(b"\"meta\":")?;
    json(out, &meta)?;
    out.write_all(b",\"findings\":[")?;
    for (n, &f) in page.findings.iter().enumerate() {
        let f = &review.findings[f as usize];
        if n > 0 {
            out.write_all(b",")?;
        }
        json(
            out,
            &(
                f.severity.as_str(),
                f.kind.as_str(),
                crate::findings::label(m, f.entity),
                review.detail(f),
            ),
        )?;
    }
    out.write_all(b"],\"rows\":[")?;
    let mut strings = Strings::default();
    let mut edges: Vec<u32> = Vec::new();
    let mut edge_slot: FxHashMap<u32, u32> = FxHashMap::default();
    let finding_slot: FxHashMap<u32, usize> = page
        .findings
        .iter()
        .enumerate()
        .map(|(n, &f)| (f, n))
        .collect();
    for (n, row) in page.rows.iter().enumerate() {
        if n > 0 {
            out.write_all(b",")?;
        }
        let (i, t) = (m.entity(row.identity), m.entity(row.target));
        let employees: Vec<String> = row
            .employees
            .iter()
            .map(|&(e, rel)| {
                let name = m.str(m.employees[e as usize].name);
                let rel = if rel == crate::model::Relation::Owns {
                    " (owns)"
                } else {
                    ""
                };
                format!("{name} ({}){rel}", employee_key(m, e))
            })
            .collect();
        let mut providers: Vec<u32> = row
            .providers
            .iter()
            .map(|&p| strings.id(name(m, p)))
            .collect();
        if row.direct {
            providers.insert(0, strings.id("(direct)"));
        }
        let findings: Vec<usize> = row
            .findings
            .iter()
            .filter_map(|f| finding_slot.get(f).copied())
            .collect();
        let paths: Vec<Vec<u32>> = row
            .paths
            .iter()
            .map(|p| {
                p.iter()
                    .map(|&e| {
                        *edge_slot.entry(e).or_insert_with(|| {
                            edges.push(e);
                            edges.len() as u32 - 1
                        })
                    })
                    .collect()
            })
            .collect();
        let cells = (
            strings.id(m.str(i.source)),
            strings.id(m.str(i.id)),
            strings.id(name(m, row.identity)),
            strings.id(&employees.join("; ")),
            strings.id(m.str(t.source)),
            strings.id(m.str(t.id)),
            strings.id(name(m, row.target)),
            strings.id(m.entity(row.target).kind.as_str()),
            strings.id(m.str(row.permission)),
            providers,
            findings,
            paths,
        );
        json(out, &cells)?;
    }
    out.write_all(b"],\"edges\":[")?;
    for (n, &e) in edges.iter().enumerate() {
        if n > 0 {
            out.write_all(b",")?;
        }
        let edge = &m.edges[e as usize];
        let cells = (
            strings.id(name(m, edge.from)),
            strings.id(m.entity(edge.from).kind.as_str()),
            strings.id(name(m, edge.to)),
            strings.id(m.entity(edge.to).kind.as_str()),
            strings.id(m.str(edge.permission)),
            u8::from(edge.granted),
            strings.id(&m.location(edge.origin)),
        );
        json(out, &cells)?;
    }
    out.write_all(b"],\"strings\":")?;
    json(out, &strings.list)?;
    out.write_all(b"}</script>\n<script>")?;
    out.write_all(SCRIPT.as_bytes())?;
    out.write_all(b"</script>\n")?;
    out.write_all(&head.as_bytes()[tail_at..])?;
    out.write_all(b"\n")?;
    Ok(Written {
        file: file_name(&page.scope.key),
        scope: page.scope.key.clone(),
        title: page.scope.title.clone(),
        rows: page.rows.len(),
        identities: page.identities,
        findings: page.findings.len(),
        digest: page.digest.clone(),
    })
}

/// Writes the index: every page with its scope, counts and digest.
pub fn write_index(
    review: &Review,
    by: &str,
    pages: &[Written],
    out: &mut dyn Write,
) -> io::Result<()> {
    let m = review.model();
    let total: usize = pages.iter().map(|p| p.rows).sum();
    let page: Markup = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "Access reviews by " (by) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                header {
                    h1 { "Access reviews by " (by) }
                    dl.meta {
                        dt { "As of" } dd { (review.as_of()) }
                        dt { "Input digest" } dd { code { (review.input_digest()) } }
                        dt { "Inputs" }
                        dd {
                            ul.inputs {
                                @for s in &m.sources {
                                    li { code { (s.path.display().to_string()) } " blake3 " code { (s.blake3) } }
                                }
                            }
                        }
                    }
                    p.counts { (pages.len()) " pages · " (total) " rows" }
                }
                table #pages {
                    thead { tr { th scope="col" { "Scope" } th scope="col" { "Grants" } th scope="col" { "Identities" } th scope="col" { "Findings" } th scope="col" { "Page digest" } } }
                    tbody {
                        @for p in pages {
                            tr {
                                td { a href=(p.file) { (p.title) } br; code.key { (p.scope) } }
                                td.num { (p.rows) }
                                td.num { (p.identities) }
                                td.num { (p.findings) }
                                td { code { (&p.digest[..16]) "…" } }
                            }
                        }
                    }
                }
            }
        }
    };
    out.write_all(page.into_string().as_bytes())?;
    out.write_all(b"\n")
}
