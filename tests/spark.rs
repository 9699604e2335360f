//! The same report on Apache Spark (issue #17, part 2): `spark/effective_access.py`
//! run by `spark-submit --master local[2]` on whocan's own Parquet export must
//! give whocan's CSV report byte for byte.
//!
//! Cases: the fixtures together (sources sharing ids, so the merge order of
//! identities with one id in two sources is exercised) and a few alone, a
//! `whocan generate --scale small` organisation, and an organisation written
//! here with membership cycles, a self-loop and nesting 12 connections deep,
//! in two sources with the same ids, `false` edges and hostile names. All
//! cases run in one Spark session (one JVM start). Spark, Java and the venv
//! come from `.ci/setup-spark`, which this test runs itself (it is
//! idempotent and locked), so a missing Spark fails the test, never skips it.
//!
//! The job's typed output, `access.parquet` (a directory of part files), is
//! read back by an independent reader, DuckDB (from `.ci/setup-duckdb`), and
//! must hold whocan's own `report access --format parquet` rows, in order,
//! under the same column names and types.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

mod setup;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `spark-submit --master local[2] … spark/effective_access.py`, from the
/// venv `.ci/setup-spark` makes; the caller adds the job's arguments.
fn spark_job() -> Command {
    let spark_submit = setup::tool("setup-spark", "Spark");
    let python = spark_submit.with_file_name("python");
    let mut job = Command::new(&spark_submit);
    job.args([
        "--master",
        "local[2]",
        "--driver-memory",
        "1g",
        "--conf",
        "spark.sql.shuffle.partitions=4",
        "--conf",
        "spark.ui.enabled=false",
        "--conf",
        "spark.driver.extraJavaOptions=-XX:TieredStopAtLevel=1 -XX:+UseSerialGC",
    ])
    .arg(root().join("spark/effective_access.py"))
    .env("PYSPARK_PYTHON", &python)
    .env("PYSPARK_DRIVER_PYTHON", &python)
    .env("SPARK_LOCAL_IP", "127.0.0.1")
    .stdin(Stdio::null());
    job
}

/// Runs the whocan binary, which must succeed.
fn whocan(args: &[&str]) {
    let out = Command::new(env!("CARGO_BIN_EXE_whocan"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .expect("the whocan binary runs");
    assert!(
        out.status.success(),
        "whocan {args:?} failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

/// One comparison: whocan's export and reports of some inputs, and where
/// the Spark job writes its own.
struct Case {
    name: &'static str,
    export: PathBuf,
    expected: PathBuf,
    expected_parquet: PathBuf,
    out: PathBuf,
}

impl Case {
    /// Exports `inputs` to Parquet and writes whocan's CSV and Parquet
    /// reports of them.
    fn new(tmp: &Path, name: &'static str, inputs: &[&str]) -> Case {
        let dir = tmp.join(name);
        std::fs::create_dir_all(&dir).unwrap();
        let case = Case {
            name,
            export: dir.join("export"),
            expected: dir.join("whocan.csv"),
            expected_parquet: dir.join("whocan.parquet"),
            out: dir.join("spark"),
        };
        let mut export = vec!["export"];
        export.extend_from_slice(inputs);
        export.extend(["--to", "parquet", "-o", case.export.to_str().unwrap()]);
        whocan(&export);
        for (format, file) in [("csv", &case.expected), ("parquet", &case.expected_parquet)] {
            let mut report = vec!["report", "access"];
            report.extend_from_slice(inputs);
            report.extend(["--format", format, "-o", file.to_str().unwrap()]);
            whocan(&report);
        }
        case
    }

    /// The Spark job's CSV part files, concatenated in file-name order.
    fn spark_csv(&self) -> Vec<u8> {
        let dir = self.out.join("access.csv");
        let mut parts: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.unwrap().path())
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("part-"))
            })
            .collect();
        parts.sort();
        assert!(!parts.is_empty(), "{}: no part files", dir.display());
        assert!(
            dir.join("_SUCCESS").is_file(),
            "{}: the job did not finish its write",
            dir.display()
        );
        let mut all = Vec::new();
        for p in parts {
            all.extend(std::fs::read(p).unwrap());
        }
        all
    }
}

/// DuckDB reads each glob of Parquet files (a file, or a Spark output's
/// part files) and prints, per glob `i`, `i<TAB>[[column, type], …]`, then
/// `i<TAB>[cell, …]` per row: part files in name order, rows in file order.
const READ_PARQUET: &str = r#"
import duckdb, json, sys
con = duckdb.connect()
extra = ("filename", "file_row_number")
for i, pattern in enumerate(sys.argv[1:]):
    rel = "read_parquet(?, filename = true, file_row_number = true)"
    columns = [c for c in con.execute(f"DESCRIBE SELECT * FROM {rel}", [pattern]).fetchall() if c[0] not in extra]
    print(i, json.dumps([[c[0], c[1]] for c in columns]), sep="\t")
    select = ", ".join(f'"{c[0]}"' for c in columns)
    query = f"SELECT {select} FROM {rel} ORDER BY filename, file_row_number"
    for row in con.execute(query, [pattern]).fetchall():
        print(i, json.dumps(list(row), ensure_ascii=False, separators=(",", ":")), sep="\t")
"#;

/// One Parquet table as DuckDB reads it: its columns and types, and its
/// rows as JSON arrays, in order.
#[derive(Default)]
struct Table {
    schema: String,
    rows: Vec<String>,
}

/// DuckDB's reading of every glob, in one Python process.
fn duckdb_read(python: &Path, globs: &[PathBuf]) -> Vec<Table> {
    let what = format!("DuckDB reading {globs:?}");
    let text = setup::python(python, READ_PARQUET, globs, &what);
    let mut tables: Vec<Table> = globs.iter().map(|_| Table::default()).collect();
    for line in text.lines() {
        let (i, json) = line.split_once('\t').expect("index<TAB>json");
        let table = &mut tables[i.parse::<usize>().unwrap()];
        if table.schema.is_empty() {
            table.schema = json.to_owned();
        } else {
            table.rows.push(json.to_owned());
        }
    }
    tables
}

/// Where DuckDB's reading of the job's `access.parquet` first departs from
/// whocan's `report access --format parquet`, if anywhere.
fn parquet_difference(whocan: &Table, spark: &Table) -> Option<String> {
    if whocan.schema != spark.schema {
        return Some(format!(
            "columns differ:\n  whocan: {}\n  spark:  {}",
            whocan.schema, spark.schema
        ));
    }
    let longest = whocan.rows.len().max(spark.rows.len());
    (0..longest).find_map(|i| {
        let (w, s) = (whocan.rows.get(i), spark.rows.get(i));
        (w != s).then(|| {
            format!(
                "{} vs {} rows, first difference at row {}:\n  whocan: {w:?}\n  spark:  {s:?}",
                whocan.rows.len(),
                spark.rows.len(),
                i + 1
            )
        })
    })
}

/// The first line where two reports differ, for the failure message.
fn first_difference(expected: &[u8], actual: &[u8]) -> String {
    let (e, a) = (
        String::from_utf8_lossy(expected),
        String::from_utf8_lossy(actual),
    );
    let (el, al): (Vec<&str>, Vec<&str>) = (e.split('\n').collect(), a.split('\n').collect());
    for i in 0..el.len().max(al.len()) {
        let (x, y) = (el.get(i), al.get(i));
        if x != y {
            return format!("line {}:\n  whocan: {x:?}\n  spark:  {y:?}", i + 1);
        }
    }
    "no differing line".to_string()
}

/// A small deterministic PRNG (splitmix64), so the organisation below is
/// the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// One CSV field, quoted when it holds a comma, a quote or a line break.
fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Depth of the group chain in [`deep_org`]: `g-00 → g-01 → … → g-11`.
const CHAIN: usize = 12;

/// A 19-column file for one source: a chain of [`CHAIN`] groups with back
/// edges (`g-11 → g-03`, `g-07 → g-05`) and a self-loop (`g-02`), roles and
/// policies below some groups, resources, identities entering at random
/// depths, `false` edges, identity → identity, connection → identity and
/// resource → connection edges, permissions differing only in case, and
/// names that need quoting or neutralising. `seed` varies the random part
/// between the two sources, which share every id.
fn deep_org(project: &str, seed: u64) -> String {
    const HEADER: &str = "Project,Entity Name,Entity Type,Entity Source Type,Entity Source ID,\
Entity Username,Entity Email,Entity - Has Access To Name,Entity - Has Access To Source ID,\
Entity - Has Access To Permission Name,Entity - Has Access To Permission Value,Entity Status,\
Entity First Name,Entity Last Name,Entity LastLoginTime,LastPasswordChangedTime,\
Entity MfaEnabled,Entity - Has Access To Entity Type,Entity - Has Access To Source Type\n";
    let mut rng = Rng(seed);
    let mut csv = String::from(HEADER);
    // (kind, source type, id, name) of every entity.
    let group = |g: usize| {
        let name = match g {
            4 => "=cmd|' /C calc'!A0".to_string(),
            6 => "Ops, \"night\" shift".to_string(),
            _ => format!("Group {g:02}"),
        };
        ("connection", "group", format!("g-{g:02}"), name)
    };
    let role = |r: usize| ("connection", "role", format!("r-{r}"), format!("Role {r}"));
    let policy = |p: usize| {
        (
            "connection",
            "policy",
            format!("p-{p}"),
            format!("-Policy {p}"),
        )
    };
    let resource = |r: usize| {
        let name = if r == 3 {
            "two\nlines".to_string()
        } else {
            format!("@res-{r}")
        };
        ("resource", "database", format!("res-{r:02}"), name)
    };
    let identity = |i: usize| {
        let name = if i == 7 {
            "+alice'".to_string()
        } else {
            format!("user {i}")
        };
        ("identity", "user", format!("u-{i:03}"), name)
    };
    type Entity = (&'static str, &'static str, String, String);
    let mut row = |from: &Entity, to: &Entity, permission: &str, value: &str| {
        let cells = [
            project, &from.3, from.0, from.1, &from.2, "", "", &to.3, &to.2, permission, value,
            "active", "", "", "", "", "", to.0, to.1,
        ];
        let line: Vec<String> = cells.iter().map(|c| field(c)).collect();
        writeln!(csv, "{}", line.join(",")).unwrap();
    };
    let perms = ["read", "Read", "write", "admin", "", "s3:GetObject"];
    for g in 0..CHAIN - 1 {
        row(&group(g), &group(g + 1), "member", "true");
    }
    row(&group(11), &group(3), "member", "true");
    row(&group(7), &group(5), "", "");
    row(&group(2), &group(2), "member", "true");
    // A false link: g-09 does not pass access into r-2.
    row(&group(9), &role(2), "assigned", "false");
    for g in 0..CHAIN {
        for _ in 0..1 + rng.below(2) {
            let p = perms[rng.below(perms.len())];
            row(&group(g), &resource(rng.below(16)), p, "true");
        }
        if g % 3 == 0 {
            row(&group(g), &role(g / 3), "assigned", "true");
        }
    }
    row(&group(5), &identity(40), "impersonate", "true");
    for r in 0..4 {
        row(&role(r), &policy(r), "attached", "true");
        row(
            &role(r),
            &resource(rng.below(16)),
            perms[rng.below(perms.len())],
            "true",
        );
        row(&policy(r), &resource(rng.below(16)), "admin", "true");
        row(
            &policy(r),
            &resource(r),
            "read",
            if r == 1 { "false" } else { "true" },
        );
    }
    // The deepest resource: only g-11 holds it, so an identity entering at
    // g-00 reaches it through all 12 groups of the chain.
    row(&group(11), &resource(20), "deep", "true");
    // A resource never passes access on.
    row(&resource(5), &group(0), "member", "true");
    // u-000 enters only at the top of the chain.
    row(&identity(0), &group(0), "member", "true");
    for i in 1..48 {
        for _ in 0..1 + rng.below(3) {
            let g = rng.below(CHAIN);
            let value = if rng.below(10) == 0 { "false" } else { "true" };
            row(&identity(i), &group(g), "", value);
        }
        match rng.below(6) {
            0 => row(&identity(i), &resource(rng.below(16)), "read", "true"),
            1 => row(
                &identity(i),
                &identity(rng.below(48)),
                "impersonate",
                "true",
            ),
            2 => row(&identity(i), &role(rng.below(4)), "AssumeRole", "true"),
            _ => {}
        }
    }
    csv
}

#[test]
fn issue_17_spark_report_equals_whocans_on_fixtures_and_deep_cyclic_orgs() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();

    // Two sources with the same ids and different random parts.
    let east = t.join("east.csv");
    let west = t.join("west.csv");
    std::fs::write(&east, deep_org("East", 17)).unwrap();
    std::fs::write(&west, deep_org("West", 29)).unwrap();
    let small = t.join("small.csv");
    whocan(&[
        "generate",
        "--scale",
        "small",
        "-o",
        small.to_str().unwrap(),
    ]);

    let fixtures = [
        "fixtures/reference_example.csv",
        "fixtures/github_alicegh.csv",
        "fixtures/cyclic_groups.csv",
        "fixtures/nested_groups.csv",
        "fixtures/hostile_names.csv",
        "fixtures/conflicts.csv",
        "fixtures/express_mode.csv",
        "fixtures/entities_only.csv",
        "fixtures/bom_crlf_quoted.csv",
        "fixtures/unknown_columns.csv",
    ];
    let cases = [
        Case::new(t, "fixtures", &fixtures),
        Case::new(t, "entities_only", &["fixtures/entities_only.csv"]),
        Case::new(
            t,
            "deep_cycles",
            &[east.to_str().unwrap(), west.to_str().unwrap()],
        ),
        Case::new(t, "generated_small", &[small.to_str().unwrap()]),
    ];

    // The deep organisation is as deep as it says: u-000 enters at g-00 and
    // reaches the resource only g-11 holds, 12 connections down.
    let deep = std::fs::read_to_string(&cases[2].expected).unwrap();
    assert!(
        deep.contains("east,u-000,user 0,res-20,'@res-20,resource,deep,g-11,Group 11\n"),
        "whocan's report of the deep organisation lacks the 12-deep grant"
    );

    let mut job = spark_job();
    job.arg("--csv");
    for case in &cases {
        job.arg(&case.export).arg(&case.out);
    }
    let out = job.output().expect("spark-submit runs");
    assert!(
        out.status.success(),
        "spark-submit failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    // DuckDB reads whocan's Parquet report and the job's part files, all in
    // one process.
    let globs: Vec<PathBuf> = cases
        .iter()
        .flat_map(|c| {
            [
                c.expected_parquet.clone(),
                c.out.join("access.parquet").join("part-*.parquet"),
            ]
        })
        .collect();
    let tables = duckdb_read(
        &setup::tool("setup-duckdb", "DuckDB (the job's Parquet reader)"),
        &globs,
    );
    // Not vacuous: whocan's Parquet report of the deep organisation has as
    // many rows as its CSV report (whose names hold line breaks).
    assert_eq!(
        tables[4].rows.len(),
        csv::Reader::from_reader(deep.as_bytes()).records().count(),
        "whocan's Parquet report of the deep organisation, as DuckDB reads it"
    );

    let mut failures = Vec::new();
    for (case, pair) in cases.iter().zip(tables.chunks(2)) {
        if let Some(difference) = parquet_difference(&pair[0], &pair[1]) {
            failures.push(format!(
                "{}: DuckDB reads Spark's access.parquet unlike whocan's: {difference}",
                case.name
            ));
        }
        let expected = std::fs::read(&case.expected).unwrap();
        let actual = case.spark_csv();
        if expected != actual {
            failures.push(format!(
                "{}: Spark's report differs from whocan's ({} vs {} bytes), first at {}",
                case.name,
                actual.len(),
                expected.len(),
                first_difference(&expected, &actual)
            ));
        }
        assert!(
            case.out.join("access.parquet/_SUCCESS").is_file(),
            "{}: no access.parquet written",
            case.name
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn issue_17_spark_job_refuses_a_missing_export_with_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("no-export");
    let out = spark_job()
        .arg(&missing)
        .arg(tmp.path().join("out"))
        .output()
        .expect("spark-submit runs");
    // spark-submit relays the Python driver's stderr on its stdout.
    let output = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(2), "output:\n{output}");
    let expected = format!(
        "effective_access.py: error: {}: no such file",
        missing.join("entities.parquet").display()
    );
    assert!(
        output.contains(&expected),
        "output lacks {expected:?}:\n{output}"
    );
    assert!(!tmp.path().join("out").exists(), "nothing is written");
}
