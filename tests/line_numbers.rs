//! Issue #13.1: every CSV reader reports the physical line a text editor
//! shows for a record's first line, whatever the line ends (LF, CRLF, lone
//! CR), blank lines and newlines inside quoted fields. Random files are
//! generated with the line of every row counted independently, as they are
//! written, and compared with what each reader stores: rejections, edge
//! provenance and people-map rows.

use std::collections::BTreeMap;
use std::path::Path;

use proptest::prelude::*;
use whocan::import::mapped::Mapping;
use whocan::import::{FileOptions, Importer};

/// One generated data row: accepted or rejected, the line end after it, the
/// blank lines before it, and whether one of its cells holds a newline.
#[derive(Clone, Debug)]
struct Row {
    good: bool,
    end: &'static str,
    blanks: Vec<&'static str>,
    inner_newline: Option<&'static str>,
}

fn line_end() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec!["\n", "\r\n", "\r"])
}

fn rows() -> impl Strategy<Value = (&'static str, Vec<Row>, bool)> {
    let row = (
        any::<bool>(),
        line_end(),
        prop::collection::vec(line_end(), 0..3),
        prop::option::of(line_end()),
    )
        .prop_map(|(good, end, blanks, inner_newline)| Row {
            good,
            end,
            blanks,
            inner_newline,
        });
    (line_end(), prop::collection::vec(row, 1..25), any::<bool>())
}

/// Writes a file: `header`, then each row made by `cell(i, good, name)`
/// where `name` is a quoted cell (holding the row's newline, if any).
/// Returns the bytes and each row's line, as `(index, good, line)`.
struct Written {
    bytes: Vec<u8>,
    lines: Vec<(usize, bool, u64)>,
}

fn write(
    header: &str,
    header_end: &str,
    rows: &[Row],
    last_end: bool,
    cell: impl Fn(usize, bool, &str) -> String,
) -> Written {
    let mut bytes = header.as_bytes().to_vec();
    bytes.extend_from_slice(header_end.as_bytes());
    let mut line = 2;
    let mut previous_end = header_end;
    let mut lines = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        for &blank in &row.blanks {
            // A lone CR then an LF would be one CRLF, not two line ends: an
            // editor shows one line break, and so does this count.
            let blank = if previous_end == "\r" && blank == "\n" {
                "\r"
            } else {
                blank
            };
            bytes.extend_from_slice(blank.as_bytes());
            line += 1;
            previous_end = blank;
        }
        lines.push((i, row.good, line));
        let name = match row.inner_newline {
            Some(nl) => {
                line += 1;
                format!("\"N{i}{nl}x\"")
            }
            None => format!("\"N{i}\""),
        };
        bytes.extend_from_slice(cell(i, row.good, &name).as_bytes());
        if i + 1 < rows.len() || last_end {
            bytes.extend_from_slice(row.end.as_bytes());
            line += 1;
            previous_end = row.end;
        }
    }
    Written { bytes, lines }
}

const HEADER: &str = "Project,Entity Name,Entity Type,Entity Source Type,Entity Source ID,Entity Username,Entity Email,Entity - Has Access To Name,Entity - Has Access To Source ID,Entity - Has Access To Permission Name,Entity - Has Access To Permission Value,Entity Status,Entity First Name,Entity Last Name,Entity LastLoginTime,LastPasswordChangedTime,Entity MfaEnabled,Entity - Has Access To Entity Type,Entity - Has Access To Source Type";

fn balkanid_row(i: usize, good: bool, name: &str) -> String {
    let kind = if good { "identity" } else { "bogus" };
    format!("p,{name},{kind},user,u{i},,,G,g{i},,,,,,,,,connection,group")
}

/// Each row's line as the 19-column reader reports it: rejections by their
/// line, accepted rows by their edge's provenance (`u{i}` → `g{i}`).
fn balkanid_lines(bytes: &[u8]) -> BTreeMap<String, u64> {
    let mut imp = Importer::new();
    imp.import_reader(Path::new("t.csv"), bytes, &FileOptions::default())
        .unwrap();
    let (model, report) = imp.finish();
    let mut got = BTreeMap::new();
    for r in &report.rejections {
        got.insert(format!("rejected {}", r.line), r.line);
    }
    for e in &model.edges {
        let id = model.str(model.entity(e.from).id).to_string();
        got.insert(format!("accepted {id}"), u64::from(e.origin.line));
    }
    got
}

fn expected(written: &Written, accepted: impl Fn(usize) -> String) -> BTreeMap<String, u64> {
    written
        .lines
        .iter()
        .map(|&(i, good, line)| {
            let key = if good {
                format!("accepted {}", accepted(i))
            } else {
                format!("rejected {line}")
            };
            (key, line)
        })
        .collect()
}

const MAPPING: &str = r#"template = "application"
application = "crm"
[[column]]
header = "Id"
entity = "user"
attribute = "id"
[[column]]
header = "Name"
entity = "user"
attribute = "name"
[[column]]
header = "Group"
entity = "group"
attribute = "id"
"#;

fn mapped_row(i: usize, good: bool, name: &str) -> String {
    if good {
        format!("u{i},{name},g{i}")
    } else {
        // One field short: a wrong field count.
        format!("u{i},{name}")
    }
}

fn mapped_lines(bytes: &[u8]) -> BTreeMap<String, u64> {
    let mapping = Mapping::parse(MAPPING).unwrap();
    let mut imp = Importer::new();
    imp.import_mapped_reader(Path::new("m.csv"), bytes, &mapping, &FileOptions::default())
        .unwrap();
    let (model, report) = imp.finish();
    let mut got = BTreeMap::new();
    for r in &report.rejections {
        got.insert(format!("rejected {}", r.line), r.line);
    }
    for e in &model.edges {
        let id = model.str(model.entity(e.from).id).to_string();
        got.insert(format!("accepted {id}"), u64::from(e.origin.line));
    }
    got
}

/// A model with identities `app/u0…u29` and HRIS employees `e0…e29@x`, for
/// people-map rows to name.
fn people_model() -> whocan::model::Model {
    let mut identities = format!("{HEADER}\n");
    for i in 0..30 {
        identities.push_str(&format!("p,U{i},identity,user,u{i},,,,,,,,,,,,,,\n"));
    }
    let hris = r#"template = "hris"
[[column]]
header = "Id"
entity = "employee"
attribute = "id"
[[column]]
header = "Email"
entity = "employee"
attribute = "email"
"#;
    let mut employees = "Id,Email\n".to_string();
    for i in 0..30 {
        employees.push_str(&format!("E{i},e{i}@x\n"));
    }
    let mut imp = Importer::new();
    imp.import_reader(
        Path::new("app.csv"),
        identities.as_bytes(),
        &FileOptions::default(),
    )
    .unwrap();
    imp.import_mapped_reader(
        Path::new("hr.csv"),
        employees.as_bytes(),
        &Mapping::parse(hris).unwrap(),
        &FileOptions::default(),
    )
    .unwrap();
    imp.finish().0
}

fn people_row(i: usize, good: bool, name: &str) -> String {
    let relation = if good { "IS" } else { "MAYBE" };
    format!("app,u{i},{name},e{i}@x,{relation}")
}

fn people_lines(model: &whocan::model::Model, bytes: &[u8]) -> BTreeMap<String, u64> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("map.csv");
    std::fs::write(&path, bytes).unwrap();
    let mut model = model.clone();
    whocan::import::people_map::load(&mut model, &path).unwrap();
    let mut got = BTreeMap::new();
    for r in &model.people_map.rejections {
        got.insert(format!("rejected {}", r.line), r.line);
    }
    for r in &model.people_map.rows {
        got.insert(format!("accepted {}", r.identity_id), r.line);
    }
    got
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn issue_13_balkanid_rows_report_their_physical_line((header_end, rows, last_end) in rows()) {
        let written = write(HEADER, header_end, &rows, last_end, balkanid_row);
        prop_assert_eq!(balkanid_lines(&written.bytes), expected(&written, |i| format!("u{i}")));
    }

    #[test]
    fn issue_13_mapped_rows_report_their_physical_line((header_end, rows, last_end) in rows()) {
        let written = write("Id,Name,Group", header_end, &rows, last_end, mapped_row);
        prop_assert_eq!(mapped_lines(&written.bytes), expected(&written, |i| format!("u{i}")));
    }

    #[test]
    fn issue_13_people_map_rows_report_their_physical_line((header_end, rows, last_end) in rows()) {
        let model = people_model();
        let written = write(
            "Source,Identity ID,Identity Name,Employee Email,Relation",
            header_end,
            &rows,
            last_end,
            people_row,
        );
        prop_assert_eq!(people_lines(&model, &written.bytes), expected(&written, |i| format!("u{i}")));
    }
}

/// The issue's cases, one file each: CRLF, blank lines, lone CR.
#[test]
fn issue_13_crlf_blank_lines_and_lone_cr_give_editor_lines() {
    let bad = |i: usize| balkanid_row(i, false, "\"N\"");
    let good = |i: usize| balkanid_row(i, true, "\"N\"");
    let crlf = format!("{HEADER}\r\n{}\r\n{}\r\n", good(0), bad(1));
    assert_eq!(
        balkanid_lines(crlf.as_bytes()),
        BTreeMap::from([("accepted u0".into(), 2), ("rejected 3".into(), 3)])
    );
    let blank = format!("{HEADER}\n\n{}\n\n\n{}\n", good(0), bad(1));
    assert_eq!(
        balkanid_lines(blank.as_bytes()),
        BTreeMap::from([("accepted u0".into(), 3), ("rejected 6".into(), 6)])
    );
    let cr = format!("{HEADER}\r{}\r{}\r", good(0), bad(1));
    assert_eq!(
        balkanid_lines(cr.as_bytes()),
        BTreeMap::from([("accepted u0".into(), 2), ("rejected 3".into(), 3)])
    );
}
