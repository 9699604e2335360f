//! Issue 16.1: a per-file source name on the command line, `NAME=FILE`
//! (also `NAME=FILE.csv:MAPPING.toml` and `NAME=-`), for every data command:
//! it wins over `--source` and the mapping's `source`, is refused on a lone
//! snapshot, and is what diffs, snapshots and re-uploads see.

use std::path::Path;
use std::process::Command;

use crate::golden_cases;
use crate::harness::{Run, golden, whocan, whocan_with_stdin};

const JAN: &str = "fixtures/diff/dated/okta-2026-01.csv";
const FEB: &str = "fixtures/diff/dated/okta-2026-02.csv";

golden_cases! { "named":
    // The same name on both sides: no pairing needed, the true change.
    issue_16_named_dated_exports_diff => ["diff", "okta=fixtures/diff/dated/okta-2026-01.csv", "okta=fixtures/diff/dated/okta-2026-02.csv"],
    // The name wins over the mapping's `source = "crm"`.
    issue_16_named_mapped_file => ["import", "sales=fixtures/mapped/app.csv:fixtures/mapped/app.toml"],
    // The name wins over --source; the file without one gets --source.
    issue_16_named_over_source => ["import", "okta=fixtures/github_alicegh.csv", "fixtures/reference_example.csv", "--source", "given", "--format", "csv"],
    // Not a name (a space): the whole argument is a path, and the error names it.
    issue_16_bad_name_is_a_path => ["import", "bad name=x.csv"],
    // A snapshot keeps the names it was made with.
    issue_16_named_lone_snapshot_refused => ["import", "x=fixtures/snapshots/format_v2.wcs"],
    // On a diff side too, even with --source (which a snapshot side ignores).
    issue_16_named_snapshot_side_refused => ["diff", "x=fixtures/snapshots/format_v2.wcs", FEB, "--source", "y"],
    issue_16_named_report => ["report", "access", "okta=fixtures/github_alicegh.csv", "--format", "csv"],
}

/// Runs `whocan ARGS` in `dir`, as the harness runs it from the crate root.
fn whocan_in(dir: &Path, args: &[&str]) -> Run {
    let home = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_whocan"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("HOME", home.path())
        .output()
        .unwrap();
    Run {
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        code: out.status.code().unwrap(),
    }
}

#[test]
fn issue_16_named_diff_equals_the_source_diff() {
    let named = whocan(&["diff", &format!("okta={JAN}"), &format!("okta={FEB}")]);
    let source = whocan(&["diff", JAN, FEB, "--source", "okta"]);
    assert_eq!(named.code, source.code);
    assert_eq!(named.stdout, source.stdout);
    assert_eq!(named.stderr, source.stderr);
    assert!(named.stdout.contains("\nrevoked,okta,"), "{}", named.stdout);
}

#[test]
fn issue_16_named_stdin() {
    let csv = std::fs::read(crate::harness::root().join("fixtures/github_alicegh.csv")).unwrap();
    let run = whocan_with_stdin(&["import", "okta=-"], Some(&csv));
    golden("named", "issue_16_named_stdin", &run);
    assert!(
        run.stdout.starts_with("- (source \"okta\""),
        "{}",
        run.stdout
    );
}

#[test]
fn issue_16_a_file_literally_named_like_a_name_still_imports() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        crate::harness::root().join("fixtures/github_alicegh.csv"),
        dir.path().join("a=b.csv"),
    )
    .unwrap();
    let run = whocan_in(dir.path(), &["import", "a=b.csv"]);
    golden("named", "issue_16_file_named_a_eq_b", &run);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.starts_with("a=b.csv (source \"a=b\""),
        "{}",
        run.stdout
    );
}

#[test]
fn issue_16_snapshots_and_re_uploads_see_the_name() {
    let dir = tempfile::tempdir().unwrap();
    let root = crate::harness::root();
    let snap = dir.path().join("s.wcs");
    let (jan, feb) = (root.join(JAN), root.join(FEB));
    let snap_s = snap.to_str().unwrap();
    let made = whocan(&["snapshot", &format!("okta={}", jan.display()), "-o", snap_s]);
    assert_eq!(made.code, 0, "{}", made.stderr);
    let info = whocan(&["snapshot", "info", snap_s]);
    assert!(
        info.stdout
            .contains(&format!("source {} (\"okta\")", jan.display())),
        "{}",
        info.stdout
    );
    // A name on a re-upload of a base names the source it replaces.
    let replaced = whocan(&["import", snap_s, &format!("okta={}", feb.display())]);
    assert_eq!(replaced.code, 0, "{}", replaced.stderr);
    assert!(
        replaced.stdout.contains("replaced source \"okta\""),
        "{}",
        replaced.stdout
    );
    // A name on the base itself is refused, as on a lone snapshot.
    let refused = whocan(&[
        "import",
        &format!("x={snap_s}"),
        &format!("okta={}", feb.display()),
    ]);
    assert_eq!(refused.code, 2, "{}", refused.stdout);
    assert!(
        refused
            .stdout
            .contains("a source name (x=) does not apply to a snapshot")
    );
}

#[test]
fn issue_16_a_named_input_is_never_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("x.csv");
    std::fs::copy(
        crate::harness::root().join("fixtures/github_alicegh.csv"),
        &file,
    )
    .unwrap();
    let before = std::fs::read(&file).unwrap();
    let f = file.to_str().unwrap();
    let run = whocan(&["report", "access", &format!("okta={f}"), "-o", f]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("it is the input"), "{}", run.stderr);
    assert_eq!(std::fs::read(&file).unwrap(), before);
}

#[test]
fn issue_16_why_takes_a_named_stdin() {
    // `okta=-` has no extension and is no file: it is still an input.
    let csv = std::fs::read(crate::harness::root().join("fixtures/github_alicegh.csv")).unwrap();
    let run = whocan_with_stdin(
        &["why", "okta=-", "u-alicegh", "repo-customer-application"],
        Some(&csv),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("-:2"), "{}", run.stdout);
}
