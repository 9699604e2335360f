//! `whocan export` (issue 17): what it prints and its exit codes. The files
//! it writes are checked by an independent reader in `tests/parquet_duckdb.rs`.

use crate::golden_cases;
use crate::harness::{golden, whocan};

golden_cases! { "export":
    // `--to` is required: clap's usage error, exit 2.
    no_format => ["export", "fixtures/nested_groups.csv", "-o", "target/never-written"],
    // A missing input file: exit 2 before anything is written.
    missing_input => ["export", "fixtures/nope.csv", "--to", "parquet", "-o", "target/never-written"],
    // Parquet is a file format: `report access --format parquet` needs -o.
    report_parquet_needs_output => ["report", "access", "fixtures/nested_groups.csv", "--format", "parquet"],
    report_parquet_not_to_stdout => ["report", "access", "fixtures/nested_groups.csv", "--format", "parquet", "-o", "-"],
}

/// Runs `whocan export ARGS --to parquet -o DIR` into a fresh directory;
/// returns the run and the files the directory holds afterwards.
fn export_parquet(args: &[&str]) -> (crate::harness::Run, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let mut all = vec!["export"];
    all.extend(args);
    all.extend(["--to", "parquet", "-o", out.to_str().unwrap()]);
    let run = whocan(&all);
    let mut files: Vec<String> = std::fs::read_dir(&out)
        .map(|d| {
            d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    (run, files)
}

#[test]
fn parquet_tables_of_the_fixtures() {
    let (run, files) = export_parquet(&[
        "fixtures/reference_example.csv",
        "fixtures/nested_groups.csv",
    ]);
    golden("export", "parquet_fixtures", &run);
    assert_eq!(files, ["edges.parquet", "entities.parquet"]);
}

#[test]
fn parquet_tables_with_people() {
    let (run, files) = export_parquet(&[
        "fixtures/people/hr.csv:fixtures/people/hr.toml",
        "fixtures/people/okta.csv",
        "--people-map",
        "fixtures/people/map.csv",
    ]);
    golden("export", "parquet_people", &run);
    assert_eq!(
        files,
        [
            "edges.parquet",
            "employees.parquet",
            "entities.parquet",
            "links.parquet"
        ]
    );
}

#[test]
fn parquet_export_of_the_same_input_is_byte_identical() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = Vec::new();
    for n in ["a", "b"] {
        let out = dir.path().join(n);
        let run = whocan(&[
            "export",
            "fixtures/people/hr.csv:fixtures/people/hr.toml",
            "fixtures/people/okta.csv",
            "--people-map",
            "fixtures/people/map.csv",
            "--to",
            "parquet",
            "-o",
            out.to_str().unwrap(),
        ]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let files = [
            "entities.parquet",
            "edges.parquet",
            "employees.parquet",
            "links.parquet",
        ];
        bytes.push(files.map(|f| std::fs::read(out.join(f)).unwrap()));
    }
    assert!(bytes[0] == bytes[1], "every table is byte-identical");
}

#[test]
fn opengraph_document_of_the_fixtures() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("graph.json");
    let run = whocan(&[
        "export",
        "fixtures/nested_groups.csv",
        "fixtures/cyclic_groups.csv",
        "--to",
        "opengraph",
        "-o",
        out.to_str().unwrap(),
    ]);
    golden("export", "opengraph_fixtures", &run);
    // The document itself, byte for byte: streamed, but one valid document.
    let text = std::fs::read_to_string(&out).unwrap();
    let expected = crate::harness::root().join("tests/golden/export/opengraph_fixtures.json");
    if std::env::var_os("WHOCAN_BLESS").is_some() {
        std::fs::write(&expected, &text).unwrap();
    }
    assert_eq!(text, std::fs::read_to_string(expected).unwrap());
}
