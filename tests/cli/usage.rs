//! Usage lines that are true (issue 14.2): every subcommand run exactly in
//! the order its own `--help` usage line prints, with real fixture values,
//! and no option that could swallow the positional arguments after it.

use clap::CommandFactory;

use crate::harness::{Run, whocan};

const NESTED: &str = "fixtures/nested_groups.csv";
const CYCLIC: &str = "fixtures/cyclic_groups.csv";

/// Every leaf subcommand's path (`["report", "access"]`), found in the
/// binary's own clap definition so a new subcommand is tested too.
fn leaf_commands() -> Vec<Vec<String>> {
    fn walk(cmd: &clap::Command, path: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
        let subs: Vec<&clap::Command> = cmd
            .get_subcommands()
            .filter(|c| c.get_name() != "help")
            .collect();
        // A command with subcommands may also run on its own (`snapshot
        // FILES… -o F`): its own usage line is tested as well.
        if subs.is_empty() || (!path.is_empty() && !cmd.is_subcommand_required_set()) {
            out.push(path.clone());
        }
        for sub in subs {
            path.push(sub.get_name().to_string());
            walk(sub, path, out);
            path.pop();
        }
    }
    let mut out = Vec::new();
    walk(&whocan::cli::Cli::command(), &mut Vec::new(), &mut out);
    out
}

/// The clap definition of one subcommand.
fn find(path: &[String]) -> clap::Command {
    let mut cmd = whocan::cli::Cli::command();
    cmd.build();
    for name in path {
        cmd = cmd.find_subcommand(name).unwrap().clone();
    }
    cmd
}

/// Real values for a placeholder of the usage line of `cmd`.
#[track_caller]
fn values(cmd: &str, name: &str, snapshot: &str, out_dir: &str) -> Vec<String> {
    let v = |xs: &[&str]| xs.iter().map(|s| s.to_string()).collect();
    match (cmd, name) {
        // Both fixtures hold a `bob` and a `prod-db`: name them by source/id.
        ("why", "IDENTITY") => v(&["nested_groups/u-bob"]),
        ("why", "TARGET") => v(&["nested_groups/db-prod"]),
        ("run", "QUERYFILE") => v(&["queries/nested_groups.wq"]),
        ("run", "FILE") => v(&[NESTED]),
        ("diff", "OLD") => v(&["fixtures/diff/old.csv"]),
        ("diff", "NEW") => v(&["fixtures/diff/new.csv"]),
        ("map suggest", "FILE") => v(&["fixtures/mapped/app.csv"]),
        ("snapshot verify" | "snapshot info", "FILE") => vec![snapshot.to_string()],
        ("snapshot", "FILE") => vec![format!("{out_dir}/written.wcs")],
        ("completions", "SHELL") => v(&["bash"]),
        (_, "FILES" | "FILE.csv") => v(&[NESTED, CYCLIC]),
        (_, "QUERY") => v(&["stats"]),
        _ => panic!("no fixture value for <{name}> in the usage line of `whocan {cmd}`: add one"),
    }
}

/// Values for a repeatable option of `cmd`, put where the usage line's
/// `[OPTIONS]` stands: before the positional arguments, where an option
/// taking several values would swallow them.
#[track_caller]
fn option_values(cmd: &str, long: &str) -> Vec<&'static str> {
    match long {
        "data" | "sources" => vec![NESTED],
        "people-map" | "old-people-map" | "new-people-map" => vec!["fixtures/people/map.csv"],
        // `whocan diff`'s fixtures hold the sources `old` and `new`.
        "pair" => vec!["old=new"],
        "privileged" => vec!["super"],
        "expr" => vec!["count cycles"],
        "fail-on" => vec!["granted"],
        _ => panic!("no fixture value for the repeatable --{long} of `whocan {cmd}`: add one"),
    }
}

/// The usage lines `whocan PATH --help` prints, without `Usage:`.
fn usage_lines(path: &[String]) -> Vec<String> {
    let args: Vec<&str> = path.iter().map(String::as_str).chain(["--help"]).collect();
    let run = whocan(&args);
    assert_eq!(run.code, 0, "whocan {args:?}: {}", run.stderr);
    let mut lines = Vec::new();
    let mut in_usage = false;
    for line in run.stdout.lines() {
        if let Some(rest) = line.strip_prefix("Usage: ") {
            in_usage = true;
            lines.push(rest.trim().to_string());
        } else if in_usage && line.starts_with("       ") {
            lines.push(line.trim().to_string());
        } else {
            in_usage = false;
        }
    }
    assert!(
        !lines.is_empty(),
        "no usage line in `whocan {args:?} --help`"
    );
    lines
}

/// The command line a usage line describes, with real values.
fn argv_of(usage: &str, path: &[String], snapshot: &str, out_dir: &str) -> Option<Vec<String>> {
    let cmd_name = path.join(" ");
    let def = find(path);
    let tokens: Vec<&str> = usage.split_whitespace().collect();
    assert_eq!(tokens[0], "whocan", "{usage}");
    let mut argv = Vec::new();
    let mut i = 1;
    while i < tokens.len() {
        let token = tokens[i];
        i += 1;
        if path.iter().any(|p| p == token) {
            argv.push(token.to_string());
        } else if token == "<COMMAND>" {
            // The subcommands' own usage lines are tested on their own.
            return None;
        } else if token == "[OPTIONS]" {
            for arg in def.get_arguments() {
                let repeatable = matches!(arg.get_action(), clap::ArgAction::Append);
                if arg.is_positional() || !repeatable {
                    continue;
                }
                let long = arg.get_long().expect("repeatable options have a long name");
                for value in option_values(&cmd_name, long) {
                    argv.push(format!("--{long}"));
                    argv.push(value.to_string());
                }
            }
        } else if token.starts_with("--") || token.starts_with('-') {
            // A required option, then its value.
            argv.push(token.to_string());
            let value = tokens[i];
            i += 1;
            let name = value
                .trim_end_matches("...")
                .trim_start_matches(['<', '['])
                .trim_end_matches(['>', ']']);
            let given = values(&cmd_name, name, snapshot, out_dir);
            argv.push(given[0].clone());
            assert!(
                !value.ends_with("..."),
                "`{token} {value}` in `{usage}`: an option followed by `...` swallows the \
                 positional arguments after it"
            );
        } else {
            let name = token
                .trim_end_matches("...")
                .trim_start_matches(['<', '['])
                .trim_end_matches(['>', ']']);
            let given = values(&cmd_name, name, snapshot, out_dir);
            if token.ends_with("...") {
                argv.extend(given);
            } else {
                argv.push(given[0].clone());
            }
        }
    }
    Some(argv)
}

#[test]
fn issue_14_every_usage_line_runs_in_the_order_it_prints() {
    let dir = tempfile::tempdir().unwrap();
    let snapshot = dir.path().join("nested.wcs");
    let snapshot = snapshot.to_str().unwrap();
    let made = whocan(&["snapshot", NESTED, "-o", snapshot]);
    assert_eq!(made.code, 0, "{}", made.stderr);
    let out_dir = dir.path().to_str().unwrap();
    let commands = leaf_commands();
    assert!(commands.len() >= 15, "{commands:?}");
    let mut ran = 0;
    for path in &commands {
        for usage in usage_lines(path) {
            let Some(argv) = argv_of(&usage, path, snapshot, out_dir) else {
                continue;
            };
            let args: Vec<&str> = argv.iter().map(String::as_str).collect();
            let Run {
                code,
                stderr,
                stdout,
            } = whocan(&args);
            // 1 is an answer (findings, a failed expect, changes found); 2
            // is a refusal, which a true usage line must never cause.
            assert!(
                code == 0 || code == 1,
                "usage `{usage}` run as `whocan {}` exited {code}:\n{stderr}",
                args.join(" ")
            );
            assert!(
                !stderr.contains("error"),
                "usage `{usage}` run as `whocan {}`:\n{stderr}\n{stdout}",
                args.join(" ")
            );
            ran += 1;
        }
    }
    // Every command's usage line ran (a command with subcommands that also
    // runs on its own, like `snapshot`, has one more, skipped above).
    assert_eq!(ran, commands.len(), "ran {ran} usage lines of {commands:?}");
}

/// An option either takes one value per occurrence (repeat it) or none:
/// `num_args = 1..` would swallow the positional arguments after it.
#[test]
fn issue_14_no_option_takes_several_values_at_once() {
    let mut bad = Vec::new();
    for path in leaf_commands() {
        let cmd = find(&path);
        for arg in cmd.get_arguments().filter(|a| !a.is_positional()) {
            let range = arg.get_num_args().expect("built");
            if range.max_values() > 1 {
                bad.push(format!(
                    "whocan {} --{}",
                    path.join(" "),
                    arg.get_long().unwrap_or("?")
                ));
            }
        }
    }
    assert!(bad.is_empty(), "options taking several values: {bad:?}");
}

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
