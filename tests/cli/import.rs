//! `whocan import`: the import report, and every malformed file in
//! `fixtures/bad/` getting a clear refusal or a file:line:column rejection.

use crate::golden_cases;
use crate::harness::whocan;

golden_cases! { "import":
    reference_example => ["import", "fixtures/reference_example.csv"],
    reference_example_json => ["import", "fixtures/reference_example.csv", "--format", "json"],
    per_file_csv => ["import", "fixtures/reference_example.csv", "fixtures/github_alicegh.csv", "--format", "csv"],
    bom_crlf_quoted => ["import", "fixtures/bom_crlf_quoted.csv"],
    express_mode => ["import", "fixtures/express_mode.csv"],
    entities_only => ["import", "fixtures/entities_only.csv"],
    conflicts => ["import", "fixtures/conflicts.csv"],
    unknown_columns => ["import", "fixtures/unknown_columns.csv"],
    source_override => ["import", "fixtures/github_alicegh.csv", "--source", "github", "--format", "csv"],
    missing_file => ["import", "fixtures/does-not-exist.csv"],
    no_files => ["import"],
    bad_boolean => ["import", "fixtures/bad/bad_boolean.csv"],
    bad_mfa_boolean => ["import", "fixtures/bad/bad_mfa_boolean.csv"],
    bad_timestamp => ["import", "fixtures/bad/bad_timestamp.csv"],
    impossible_date => ["import", "fixtures/bad/impossible_date.csv"],
    binary_garbage => ["import", "fixtures/bad/binary_garbage.bin"],
    blank_line_only => ["import", "fixtures/bad/blank_line_only.csv"],
    both_password_spellings => ["import", "fixtures/bad/both_password_spellings.csv"],
    duplicate_header => ["import", "fixtures/bad/duplicate_header.csv"],
    empty => ["import", "fixtures/bad/empty.csv"],
    empty_required_field => ["import", "fixtures/bad/empty_required_field.csv"],
    header_only => ["import", "fixtures/bad/header_only.csv"],
    huge_field => ["import", "fixtures/bad/huge_field.csv"],
    invalid_utf8 => ["import", "fixtures/bad/invalid_utf8.csv"],
    invalid_utf8_header => ["import", "fixtures/bad/invalid_utf8_header.csv"],
    missing_required_column => ["import", "fixtures/bad/missing_required_column.csv"],
    missing_target_type_columns => ["import", "fixtures/bad/missing_target_type_columns.csv"],
    partial_target => ["import", "fixtures/bad/partial_target.csv"],
    ragged_rows => ["import", "fixtures/bad/ragged_rows.csv"],
    unterminated_quote => ["import", "fixtures/bad/unterminated_quote.csv"],
    wrong_entity_type => ["import", "fixtures/bad/wrong_entity_type.csv"],
    wrong_target_entity_type => ["import", "fixtures/bad/wrong_target_entity_type.csv"],
    issue_13_utf16_le_bom => ["import", "fixtures/bad/utf16_le_bom.csv"],
    issue_13_utf16_be_no_bom => ["import", "fixtures/bad/utf16_be_no_bom.csv"],
    good_and_bad_together => ["import", "fixtures/github_alicegh.csv", "fixtures/bad/empty.csv", "fixtures/bad/bad_boolean.csv"],
}

/// Every file in fixtures/bad/ gets exit 0 (rows rejected) or 2 (refused),
/// never a panic, and its messages name the file; rows add up.
#[test]
fn every_bad_fixture_is_reported_never_panics() {
    let dir = crate::harness::root().join("fixtures/bad");
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert!(
        names.len() >= 15,
        "fixtures/bad holds {} files",
        names.len()
    );
    for name in names {
        let path = format!("fixtures/bad/{name}");
        let run = whocan(&["import", &path, "--format", "json"]);
        assert!(
            run.code == 0 || run.code == 2,
            "{path}: exit {} stderr {}",
            run.code,
            run.stderr
        );
        assert!(!run.stderr.contains("panicked"), "{path}: {}", run.stderr);
        let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        let file = &report["files"][0];
        let read = file["rows_read"].as_u64().unwrap();
        let accepted = file["rows_accepted"].as_u64().unwrap();
        let rejected = file["rows_rejected"].as_u64().unwrap();
        assert_eq!(read, accepted + rejected, "{path}");
        if run.code == 2 {
            let refused = file["refused"].as_str().unwrap();
            assert!(refused.starts_with(&path), "{path}: {refused}");
        } else {
            for r in report["rejections"].as_array().unwrap() {
                assert!(r["line"].as_u64().unwrap() >= 2, "{path}: {r}");
                assert!(r["column"].as_u64().unwrap() >= 1, "{path}: {r}");
            }
        }
    }
}

#[test]
fn rejects_file_lists_rows_with_position_and_reason() {
    let dir = tempfile::tempdir().unwrap();
    let rejects = dir.path().join("rejects.csv");
    let run = whocan(&[
        "import",
        "fixtures/bad/ragged_rows.csv",
        "fixtures/bad/bad_boolean.csv",
        "--rejects",
        rejects.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let text = std::fs::read_to_string(&rejects).unwrap();
    let expected = "\
file,line,column,kind,reason,record
fixtures/bad/ragged_rows.csv,3,20,wrong field count,\"row has 20 fields, the header has 19\",\"ops,Admins,connection,group,g-admins,,,prod-db,r-prod-db,admin,true,active,,,,,,resource,database,extra\"
fixtures/bad/ragged_rows.csv,4,6,wrong field count,\"row has 5 fields, the header has 19\",\"ops,bob,identity,user,u-bob\"
fixtures/bad/bad_boolean.csv,3,11,bad boolean,\"Entity - Has Access To Permission Value \"\"maybe\"\" is not a boolean (true/false, t/f, yes/no, y/n, 1/0)\",\"ops,Admins,connection,group,g-admins,,,prod-db,r-prod-db,admin,maybe,active,,,,,,resource,database\"
";
    assert_eq!(text, expected);
}

#[test]
fn stdin_is_read_for_dash() {
    let csv = std::fs::read(crate::harness::root().join("fixtures/github_alicegh.csv")).unwrap();
    let run = crate::harness::whocan_with_stdin(
        &["report", "access", "-", "--format", "csv"],
        Some(&csv),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.starts_with("source,identity_id,"));
    assert!(
        run.stdout
            .contains("\nstdin,u-alicegh,alicegh,team-engineering,"),
        "{}",
        run.stdout
    );
}

/// #13.8: a file refused at its first bytes is not read on. stdin gets a
/// UTF-16 byte-order mark and then zeros without end (as `cat /dev/zero`
/// would); whocan must exit 2 having read a bounded part of it, which the
/// writer sees as a broken pipe long before its 256 MiB are written.
#[test]
fn issue_13_a_refused_stdin_is_not_read_to_its_end() {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_whocan"))
        .args(["import", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        let mut written = 0u64;
        let zeros = vec![0u8; 1 << 16];
        if stdin.write_all(b"\xff\xfe,x\n").is_err() {
            return written;
        }
        while written < 256 << 20 {
            match stdin.write(&zeros) {
                Ok(n) => written += n as u64,
                Err(_) => break,
            }
        }
        written
    });
    let output = child.wait_with_output().unwrap();
    let written = writer.join().unwrap();
    let text = String::from_utf8_lossy(&output.stdout) + String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{text}");
    assert!(text.contains("stdin") || text.contains('-'), "{text}");
    assert!(text.contains("UTF-16"), "{text}");
    assert!(
        written < 64 << 20,
        "whocan read {written} bytes of a refused file"
    );
}
