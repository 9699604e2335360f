//! A snapshot on standard input (issue 14.8): recognised by its content,
//! like a snapshot file, instead of being parsed as CSV.

use crate::harness::{whocan, whocan_with_stdin};

const NESTED: &str = "fixtures/nested_groups.csv";

#[test]
fn issue_14_snapshot_loads_from_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("nested.wcs");
    let made = whocan(&["snapshot", NESTED, "-o", snap.to_str().unwrap()]);
    assert_eq!(made.code, 0, "{}", made.stderr);
    let bytes = std::fs::read(&snap).unwrap();
    let piped = whocan_with_stdin(&["report", "access", "-", "--format", "csv"], Some(&bytes));
    let direct = whocan(&["report", "access", NESTED, "--format", "csv"]);
    assert_eq!(piped.code, 0, "{}", piped.stderr);
    assert_eq!(piped.stderr, "");
    assert_eq!(piped.stdout, direct.stdout);
    // A CSV on stdin is still read as CSV.
    let csv = std::fs::read(crate::harness::root().join(NESTED)).unwrap();
    let piped_csv = whocan_with_stdin(&["stats", "-"], Some(&csv));
    assert_eq!(piped_csv.code, 0, "{}", piped_csv.stderr);
    assert!(piped_csv.stdout.contains("26"), "{}", piped_csv.stdout);
}

#[test]
fn issue_14_damaged_snapshot_on_stdin_is_named_as_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("nested.wcs");
    let made = whocan(&["snapshot", NESTED, "-o", snap.to_str().unwrap()]);
    assert_eq!(made.code, 0, "{}", made.stderr);
    let mut bytes = std::fs::read(&snap).unwrap();
    bytes.truncate(bytes.len() / 2);
    let run = whocan_with_stdin(&["stats", "-"], Some(&bytes));
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("whocan: error: -"), "{}", run.stderr);
    assert!(run.stderr.contains("truncated"), "{}", run.stderr);
    assert!(!run.stderr.contains("UTF-8"), "{}", run.stderr);
    assert!(!run.stderr.contains(".tmp"), "{}", run.stderr);
}

#[test]
fn issue_14_snapshot_info_and_verify_read_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("nested.wcs");
    let made = whocan(&["snapshot", NESTED, "-o", snap.to_str().unwrap()]);
    assert_eq!(made.code, 0, "{}", made.stderr);
    let bytes = std::fs::read(&snap).unwrap();
    let info = whocan_with_stdin(&["snapshot", "info", "-"], Some(&bytes));
    assert_eq!(info.code, 0, "{}", info.stderr);
    assert!(
        info.stdout
            .starts_with(&format!("file: - ({} bytes)", bytes.len())),
        "{}",
        info.stdout
    );
    let verify = whocan_with_stdin(
        &["snapshot", "verify", "-", "--sources", NESTED],
        Some(&bytes),
    );
    assert_eq!(verify.code, 0, "{}{}", verify.stdout, verify.stderr);
    assert!(verify.stdout.starts_with("-: ok: "), "{}", verify.stdout);
    // A CSV is not a snapshot, and the message says so.
    let csv = std::fs::read(crate::harness::root().join(NESTED)).unwrap();
    let refused = whocan_with_stdin(&["snapshot", "info", "-"], Some(&csv));
    assert_eq!(refused.code, 2);
    assert!(
        refused
            .stderr
            .contains("stdin does not hold a whocan snapshot"),
        "{}",
        refused.stderr
    );
}
