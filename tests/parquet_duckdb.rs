//! Issue 17, part 1: `whocan export --to parquet` read back by an independent
//! reader. DuckDB (Python, pinned, installed by `.ci/setup-duckdb` into a venv
//! outside the clone) reads every table whocan wrote; its schema must be the
//! documented one (docs/schema.md) and its rows the model's, in the model's
//! order. The expected rows are built here from the library's model, cell by
//! cell, not from the export code. A machine where DuckDB cannot run fails
//! this test; it never skips.

use std::path::{Path, PathBuf};
use std::process::Command;

mod setup;

use serde_json::{Value, json};
use whocan::import::inputs::{Inputs, Quiet, load};
use whocan::model::{EmployeeValue, Model};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The venv's python with the pinned duckdb, installed when absent.
fn duckdb_python() -> PathBuf {
    setup::tool("setup-duckdb", "DuckDB")
}

/// DuckDB's view of one Parquet file: `(column, DuckDB type, repetition)`
/// and every row as one JSON array, timestamps as seconds since the epoch.
const READ: &str = r#"
import duckdb, json, sys
con = duckdb.connect()
path = sys.argv[1]
columns = con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [path]).fetchall()
repetition = dict(con.execute(
    "SELECT name, repetition_type FROM parquet_schema(?) WHERE num_children IS NULL", [path]
).fetchall())
select = ", ".join(
    f'epoch("{c[0]}")::BIGINT' if c[1] == "TIMESTAMP WITH TIME ZONE" else f'"{c[0]}"'
    for c in columns
)
print(json.dumps([[c[0], c[1], repetition[c[0]]] for c in columns]))
for row in con.execute(f"SELECT {select} FROM read_parquet(?)", [path]).fetchall():
    print(json.dumps(list(row), ensure_ascii=False, separators=(",", ":")))
"#;

/// A table as DuckDB reads it: its schema line, then one line per row.
fn duckdb_read(python: &Path, file: &Path) -> (Value, Vec<String>) {
    let what = format!("duckdb on {}", file.display());
    let text = setup::python(python, READ, [file], &what);
    let mut lines = text.lines();
    let schema = serde_json::from_str(lines.next().expect("a schema line")).unwrap();
    (schema, lines.map(str::to_owned).collect())
}

/// Runs `whocan export ARGS --to parquet -o DIR`; returns DIR.
fn export(args: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_whocan"))
        .arg("export")
        .args(args)
        .args(["--to", "parquet", "-o"])
        .arg(dir.path())
        .current_dir(root())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "export failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    dir
}

/// The model `whocan` builds from `args` (files and `--people-map FILE`).
fn model_of(args: &[&str]) -> Model {
    let mut inputs = Inputs {
        files: Vec::new(),
        source: None,
        mapping: None,
        people_map: Vec::new(),
        no_auto_map: false,
    };
    let mut args = args.iter();
    while let Some(a) = args.next() {
        if *a == "--people-map" {
            inputs.people_map.push(PathBuf::from(args.next().unwrap()));
        } else {
            inputs.files.push(PathBuf::from(a));
        }
    }
    // Paths relative to the crate root, as the binary gets them.
    std::env::set_current_dir(root()).unwrap();
    load(&inputs, &Quiet).model
}

fn opt(text: &str) -> Value {
    if text.is_empty() {
        Value::Null
    } else {
        json!(text)
    }
}

fn file(model: &Model, index: u32) -> String {
    model.sources[index as usize].path.display().to_string()
}

fn expected_entities(m: &Model) -> Vec<String> {
    m.entities
        .iter()
        .map(|e| {
            let a = e.attributes.as_ref();
            let s = |f: fn(&whocan::model::Attributes) -> whocan::model::Sym| {
                a.map_or(Value::Null, |a| opt(m.str(f(a))))
            };
            json!([
                m.str(e.source),
                m.str(e.id),
                e.kind.as_str(),
                m.str(e.source_type),
                m.str(e.name),
                a.is_some(),
                s(|a| a.project),
                s(|a| a.username),
                s(|a| a.email),
                s(|a| a.status),
                s(|a| a.first_name),
                s(|a| a.last_name),
                a.and_then(|a| a.mfa),
                a.and_then(|a| a.last_login),
                a.and_then(|a| a.password_changed),
                file(m, e.origin.file),
                e.origin.line,
            ])
            .to_string()
        })
        .collect()
}

fn expected_edges(m: &Model) -> Vec<String> {
    m.edges
        .iter()
        .map(|edge| {
            let (from, to) = (m.entity(edge.from), m.entity(edge.to));
            json!([
                m.str(from.source),
                m.str(from.id),
                m.str(to.source),
                m.str(to.id),
                m.str(edge.permission),
                edge.granted,
                file(m, edge.origin.file),
                edge.origin.line,
                edge.rows,
            ])
            .to_string()
        })
        .collect()
}

fn expected_employees(m: &Model) -> Vec<String> {
    m.employees
        .iter()
        .map(|e| {
            let get = |k: &str| e.attributes.iter().find(|a| m.str(a.name) == k);
            let text = |k: &str| get(k).map_or(Value::Null, |a| opt(m.str(a.text)));
            let time = |k: &str| match get(k).map(|a| a.value) {
                Some(EmployeeValue::Timestamp(t)) => json!(t),
                _ => Value::Null,
            };
            let active = match get("is_active").map(|a| a.value) {
                Some(EmployeeValue::Bool(b)) => json!(b),
                _ => Value::Null,
            };
            let managers: Vec<&str> = e.managers.iter().map(|&s| m.str(s)).collect();
            let attributes: serde_json::Map<String, Value> = e
                .attributes
                .iter()
                .map(|a| (m.str(a.name).to_owned(), json!(m.str(a.text))))
                .collect();
            json!([
                m.str(e.source),
                m.str(e.id),
                m.str(e.name),
                text("email"),
                text("username"),
                text("idp_id"),
                active,
                time("start_date"),
                time("termination_date"),
                managers.join(","),
                Value::Object(attributes).to_string(),
                file(m, e.origin.file),
                e.origin.line,
            ])
            .to_string()
        })
        .collect()
}

fn expected_links(m: &Model) -> Vec<String> {
    let people = whocan::people::People::new(m);
    people
        .links
        .iter()
        .map(|l| {
            let i = m.entity(l.identity);
            let e = &m.employees[l.employee as usize];
            let (how, rule, file, line) = match l.how {
                whocan::people::How::Explicit(r) => {
                    let row = &m.people_map.rows[r as usize];
                    (
                        "explicit",
                        Value::Null,
                        json!(row.file.display().to_string()),
                        json!(row.line),
                    )
                }
                whocan::people::How::Auto(rule) => {
                    ("auto", json!(rule.as_str()), Value::Null, Value::Null)
                }
            };
            json!([
                m.str(i.source),
                m.str(i.id),
                m.str(e.source),
                m.str(e.id),
                l.relation.as_str(),
                how,
                rule,
                file,
                line
            ])
            .to_string()
        })
        .collect()
}

/// The schema docs/schema.md gives a table: `(column, type, nullable)` from
/// the rows of the table under the heading `### FILE`.
fn documented(table: &str) -> Vec<(String, String, bool)> {
    let doc = std::fs::read_to_string(root().join("docs/schema.md")).unwrap();
    let start = doc
        .find(&format!("### `{table}`"))
        .unwrap_or_else(|| panic!("docs/schema.md has no section for {table}"));
    doc[start..]
        .lines()
        .skip(1)
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .skip(2)
        .map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            let unquote = |s: &str| s.trim_matches('`').to_owned();
            (unquote(cells[1]), unquote(cells[2]), cells[3] == "yes")
        })
        .collect()
}

/// Parquet's type as docs/schema.md writes it, and DuckDB's name for it.
fn duckdb_type(doc_type: &str) -> &'static str {
    match doc_type {
        "STRING" => "VARCHAR",
        "BOOLEAN" => "BOOLEAN",
        "INT64" => "BIGINT",
        "TIMESTAMP(MICROS, UTC)" => "TIMESTAMP WITH TIME ZONE",
        other => panic!("docs/schema.md: unknown type {other}"),
    }
}

/// Checks one table: DuckDB's schema is the documented one, its rows the
/// expected ones in order.
#[track_caller]
fn check_table(python: &Path, dir: &Path, table: &str, expected: &[String]) {
    let (schema, rows) = duckdb_read(python, &dir.join(table));
    let documented: Vec<Value> = documented(table)
        .into_iter()
        .map(|(name, ty, nullable)| {
            json!([
                name,
                duckdb_type(&ty),
                if nullable { "OPTIONAL" } else { "REQUIRED" }
            ])
        })
        .collect();
    assert_eq!(schema, Value::Array(documented), "{table}: schema");
    assert_eq!(rows.len(), expected.len(), "{table}: row count");
    for (i, (got, want)) in rows.iter().zip(expected).enumerate() {
        assert_eq!(got, want, "{table}: row {i}");
    }
}

#[test]
fn issue_17_duckdb_reads_the_fixtures_entities_and_edges_as_the_model_has_them() {
    let python = duckdb_python();
    let inputs = [
        "fixtures/reference_example.csv",
        "fixtures/nested_groups.csv",
        "fixtures/cyclic_groups.csv",
        "fixtures/conflicts.csv",
        "fixtures/express_mode.csv",
        "fixtures/entities_only.csv",
        "fixtures/hostile_names.csv",
        "fixtures/bom_crlf_quoted.csv",
    ];
    let dir = export(&inputs);
    let model = model_of(&inputs);
    assert!(model.entities.iter().any(|e| e.attributes.is_none()));
    assert!(model.edges.iter().any(|e| !e.granted));
    check_table(
        &python,
        dir.path(),
        "entities.parquet",
        &expected_entities(&model),
    );
    check_table(
        &python,
        dir.path(),
        "edges.parquet",
        &expected_edges(&model),
    );
    assert!(!dir.path().join("employees.parquet").exists());
    assert!(!dir.path().join("links.parquet").exists());
}

#[test]
fn issue_17_duckdb_reads_employees_and_links_when_people_are_loaded() {
    let python = duckdb_python();
    let inputs = [
        "fixtures/people/hr.csv:fixtures/people/hr.toml",
        "fixtures/people/okta.csv",
        "fixtures/people/github.csv",
        "fixtures/people/aws.csv",
        "--people-map",
        "fixtures/people/map.csv",
    ];
    let dir = export(&inputs);
    let model = model_of(&inputs);
    assert!(!model.employees.is_empty());
    check_table(
        &python,
        dir.path(),
        "entities.parquet",
        &expected_entities(&model),
    );
    check_table(
        &python,
        dir.path(),
        "edges.parquet",
        &expected_edges(&model),
    );
    let employees = expected_employees(&model);
    assert!(
        model.employees.iter().any(|e| e
            .attributes
            .iter()
            .any(|a| matches!(a.value, EmployeeValue::Timestamp(_)))),
        "a typed termination date is exported"
    );
    check_table(&python, dir.path(), "employees.parquet", &employees);
    let links = expected_links(&model);
    assert!(links.iter().any(|l| l.contains("\"explicit\"")));
    assert!(links.iter().any(|l| l.contains("\"auto\"")));
    check_table(&python, dir.path(), "links.parquet", &links);
}

/// Runs `whocan ARGS` from the crate root; panics unless it exits 0.
fn whocan(args: &[&str]) -> Vec<u8> {
    let out = Command::new(env!("CARGO_BIN_EXE_whocan"))
        .args(args)
        .current_dir(root())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "whocan {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// The CSV report's rows as JSON arrays of the cells' values (formula
/// neutralisation undone: Parquet keeps the text as it is), an empty
/// provider cell as null.
fn csv_rows(csv: &[u8]) -> (Vec<String>, Vec<String>) {
    let mut reader = csv::Reader::from_reader(csv);
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    let rows = reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            let cells: Vec<Value> = r
                .iter()
                .zip(&header)
                .map(|(cell, column)| {
                    let cell = whocan::report::unneutralise(cell);
                    match column.as_str() {
                        "provider_id" | "provider_name" if cell.is_empty() => Value::Null,
                        "depth" => json!(cell.parse::<i64>().unwrap()),
                        _ => json!(cell),
                    }
                })
                .collect();
            Value::Array(cells).to_string()
        })
        .collect();
    (header, rows)
}

/// `report access ARGS` as CSV and as Parquet: DuckDB reads the Parquet
/// file and gets the CSV's rows, in order, under the same column names,
/// typed (text, `depth` a BIGINT, providers nullable and the rest not).
/// Returns the number of rows and of row groups.
fn check_report(python: &Path, args: &[&str]) -> (usize, u64) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("access.parquet");
    let mut all = vec!["report", "access"];
    all.extend(args);
    let mut csv = all.clone();
    csv.extend(["--format", "csv"]);
    let csv = whocan(&csv);
    all.extend(["-o", file.to_str().unwrap()]);
    whocan(&all);
    let (header, expected) = csv_rows(&csv);
    let (schema, rows) = duckdb_read(python, &file);
    let want_schema: Vec<Value> = header
        .iter()
        .map(|c| match c.as_str() {
            "depth" => json!([c, "BIGINT", "REQUIRED"]),
            "provider_id" | "provider_name" => json!([c, "VARCHAR", "OPTIONAL"]),
            _ => json!([c, "VARCHAR", "REQUIRED"]),
        })
        .collect();
    assert_eq!(schema, Value::Array(want_schema), "{args:?}: schema");
    assert_eq!(rows.len(), expected.len(), "{args:?}: row count");
    for (i, (got, want)) in rows.iter().zip(&expected).enumerate() {
        assert_eq!(got, want, "{args:?}: row {i}");
    }
    let groups = Command::new(python)
        .arg("-c")
        .arg(
            "import duckdb, sys\n\
             r = duckdb.execute('SELECT count(DISTINCT row_group_id), max(row_group_num_rows) \
             FROM parquet_metadata(?)', [sys.argv[1]]).fetchone()\n\
             print(r[0], r[1] or 0)",
        )
        .arg(&file)
        .output()
        .unwrap();
    let text = String::from_utf8(groups.stdout).unwrap();
    let mut numbers = text.split_whitespace().map(|n| n.parse::<u64>().unwrap());
    let (count, largest) = (numbers.next().unwrap(), numbers.next().unwrap());
    assert!(
        largest <= whocan::export::parquet::ROW_GROUP_ROWS as u64,
        "row groups are bounded"
    );
    (expected.len(), count)
}

#[test]
fn issue_17_duckdb_reads_the_access_report_as_the_csv_report_has_it() {
    let python = duckdb_python();
    let fixtures = [
        "fixtures/reference_example.csv",
        "fixtures/nested_groups.csv",
        "fixtures/cyclic_groups.csv",
        "fixtures/conflicts.csv",
        "fixtures/hostile_names.csv",
    ];
    let (rows, _) = check_report(&python, &fixtures);
    assert!(rows > 50, "{rows} rows");
    let people = [
        "fixtures/people/hr.csv:fixtures/people/hr.toml",
        "fixtures/people/okta.csv",
        "fixtures/people/github.csv",
        "fixtures/people/aws.csv",
        "--people-map",
        "fixtures/people/map.csv",
    ];
    for by in ["identity", "employee", "manager"] {
        let mut args = people.to_vec();
        args.extend(["--by", by]);
        let (rows, _) = check_report(&python, &args);
        assert!(rows > 0, "--by {by}: no rows to compare");
    }
}

#[test]
fn issue_17_duckdb_reads_a_generated_organisations_report_in_row_groups() {
    let python = duckdb_python();
    let dir = tempfile::tempdir().unwrap();
    let org = dir.path().join("org.csv");
    whocan(&[
        "generate",
        "--scale",
        "small",
        "--seed",
        "3",
        "-o",
        org.to_str().unwrap(),
    ]);
    let (rows, groups) = check_report(&python, &[org.to_str().unwrap()]);
    assert!(
        rows > whocan::export::parquet::ROW_GROUP_ROWS,
        "{rows} rows"
    );
    assert!(groups >= 2, "streamed in {groups} row group(s)");
}
