//! The prompt end to end through piped stdin (rustyline reads plain lines
//! when stdin is not a terminal), and Tab completion through rustyline's
//! `Completer` trait.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use rustyline::Context;
use rustyline::completion::Completer;
use rustyline::history::MemHistory;
use whocan::repl::ShellHelper;

struct Run {
    stdout: String,
    stderr: String,
    code: i32,
}

fn shell(args: &[&str], input: &str) -> Run {
    let home = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_whocan"))
        .arg("shell")
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .env("HOME", home.path())
        .env_remove("WHOCAN_HISTORY")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    Run {
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        code: out.status.code().unwrap(),
    }
}

#[test]
fn history_is_written_and_errors_leave_the_prompt_up() {
    let dir = tempfile::tempdir().unwrap();
    let history: PathBuf = dir.path().join("history");
    let h = history.to_str().unwrap();
    let run = shell(
        &["--history", h, "fixtures/nested_groups.csv"],
        "who can rech prod-db\nshow nobody-at-all\ncount who can reach prod-db\n",
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    // Both bad queries are reported and the third still answered.
    assert!(
        run.stderr.contains("did you mean `reach`?"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("no entity matches `nobody-at-all`"));
    assert_eq!(run.stdout, "COUNT\n3\n");
    let saved = std::fs::read_to_string(&history).unwrap();
    for line in [
        "who can rech prod-db",
        "show nobody-at-all",
        "count who can reach prod-db",
    ] {
        assert!(saved.contains(line), "history lacks {line:?}:\n{saved}");
    }

    // A second session starts from the same history and appends to it.
    let run = shell(&["--history", h, "fixtures/nested_groups.csv"], "stats\n");
    assert_eq!(run.code, 0);
    let saved = std::fs::read_to_string(&history).unwrap();
    assert!(saved.contains("who can rech prod-db") && saved.contains("stats"));
}

#[test]
fn multi_line_input_continues_until_the_set_closes() {
    let run = shell(
        &["--no-history", "fixtures/nested_groups.csv"],
        "expect members of DBA-Team = {\n  alice,\n  bob\n}\nwho can reach \\\n  billing-db with read\n",
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .starts_with("ok: expect members of DBA-Team = {alice, bob}\n"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("u-erin"), "{}", run.stdout);
}

#[test]
fn load_replaces_the_data_and_a_bad_load_keeps_it() {
    let run = shell(
        &["--no-history", "fixtures/nested_groups.csv"],
        "load fixtures/no-such-file.csv\ncount find alice\nload fixtures/reference_example.csv\ncount find sarah\nquit\nstats\n",
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("no-such-file.csv"), "{}", run.stderr);
    // The failed load kept the nested groups; the second load replaced them;
    // `quit` ended the session before `stats`.
    assert_eq!(run.stdout, "COUNT\n1\nCOUNT\n1\n");
    assert!(run.stderr.contains("49 entities"), "{}", run.stderr);
}

#[test]
fn end_of_input_exits_cleanly_with_no_data_errors() {
    let run = shell(&["--no-history", "fixtures/nested_groups.csv"], "");
    assert_eq!(run.code, 0);
    assert_eq!(run.stdout, "");
}

#[track_caller]
fn complete(line: &str) -> (usize, Vec<String>) {
    let helper = ShellHelper::new(vec![
        "alice".into(),
        "u-alice".into(),
        "Network Operations".into(),
        "prod-db".into(),
        "db-prod".into(),
    ]);
    let history = MemHistory::new();
    let ctx = Context::new(&history);
    let (start, pairs) = helper.complete(line, line.len(), &ctx).unwrap();
    (start, pairs.into_iter().map(|p| p.replacement).collect())
}

#[test]
fn completer_offers_commands_then_entities() {
    assert_eq!(complete("mem"), (0, vec!["members".to_string()]));
    assert_eq!(
        complete("why alice pr"),
        (10, vec!["project".to_string(), "prod-db".to_string()])
    );
    assert_eq!(
        complete("members of net"),
        (11, vec!["\"Network Operations\"".to_string()])
    );
    assert_eq!(complete("show \"u-a"), (5, vec!["\"u-alice\"".to_string()]));
    assert_eq!(complete("format ta"), (7, vec!["table".to_string()]));
    assert_eq!(complete("stats; wh").1, vec!["who", "what", "why"]);
}

#[test]
fn save_writes_a_snapshot_that_load_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("org.wcs");
    let s = snap.to_str().unwrap();
    let run = shell(
        &["--no-history", "fixtures/nested_groups.csv"],
        &format!(
            "save no-such-dir/x.wcs\nsave {s}\nload fixtures/reference_example.csv\ncount who can reach prod-db\nload {s}\ncount who can reach prod-db\n"
        ),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!("whocan: saved {s} (")),
        "{}",
        run.stderr
    );
    // prod-db is unknown in the reference example, known again after loading
    // the snapshot.
    assert!(
        run.stderr.contains("no entity matches `prod-db`"),
        "{}",
        run.stderr
    );
    assert_eq!(run.stdout, "COUNT\n3\n");
}
