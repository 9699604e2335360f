//! Arguments read as their usage says (issue 14.2): `why`'s last two
//! arguments, `--privileged` lists. The usage-line tests walk the clap
//! definition, which lives in the binary: see `src/cli/tests.rs`.

use crate::harness::whocan;

const NESTED: &str = "fixtures/nested_groups.csv";

/// `why FILES… IDENTITY TARGET` reads its last two arguments as the identity
/// and the target; an extra argument is named as such, not reported as an
/// unreadable file.
#[test]
fn issue_14_why_names_an_argument_that_is_not_a_file() {
    let run = whocan(&["why", NESTED, "bob", "prod-db", "extra"]);
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(
        run.stderr.contains("`bob` is not a file")
            && run.stderr.contains("IDENTITY `prod-db`")
            && run.stderr.contains("TARGET `extra`"),
        "{}",
        run.stderr
    );
}

/// `--privileged` takes a comma list or repeats, and never the file after
/// it.
#[test]
fn issue_14_privileged_patterns_repeat_or_take_a_comma_list() {
    let people = [
        "fixtures/people/hr.csv:fixtures/people/hr.toml",
        "fixtures/people/okta.csv",
        "fixtures/people/github.csv",
        "fixtures/people/aws.csv",
        "--people-map",
        "fixtures/people/map.csv",
        "--as-of",
        "2026-01-31",
        "--format",
        "csv",
    ];
    // Only `admin` makes dee-gh's grant privileged: the second pattern counts.
    let first_only = whocan(&[&["findings", "--privileged", "read"][..], &people].concat());
    let comma = whocan(&[&["findings", "--privileged", "read,admin"][..], &people].concat());
    let repeated = whocan(
        &[
            &["findings", "--privileged", "read", "--privileged", "admin"][..],
            &people,
        ]
        .concat(),
    );
    assert_eq!(comma.code, 0, "{}", comma.stderr);
    assert_eq!(comma.stdout, repeated.stdout);
    assert!(
        comma.stdout.contains("privileged-without-mfa"),
        "{}",
        comma.stdout
    );
    assert!(!first_only.stdout.contains("privileged-without-mfa"));
}
