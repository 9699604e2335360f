//! Tests of the clap definition itself (issues 13.4 and 14.2), which lives
//! in the binary: every numeric option is bounded; every usage line runs
//! exactly in the order `--help` prints it, with real fixture values; no
//! option swallows the positional arguments after it. The usage lines are
//! run through the built `whocan` binary (`cargo test` builds it beside this
//! test executable).

use std::path::PathBuf;
use std::process::{Command, Stdio};

use clap::CommandFactory;

use super::Cli;

const NESTED: &str = "fixtures/nested_groups.csv";
const CYCLIC: &str = "fixtures/cyclic_groups.csv";

/// What one run of the binary produced.
struct Run {
    stdout: String,
    stderr: String,
    code: i32,
}

/// The crate root: runs start there, so fixture paths are relative.
fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs the built `whocan` binary (`target/<profile>/whocan`, beside the
/// `deps/` directory holding this test executable) from the crate root,
/// with no terminal, no colour and an empty HOME.
fn whocan(args: &[&str]) -> Run {
    let exe = std::env::current_exe().unwrap();
    let bin = exe
        .parent()
        .and_then(|deps| deps.parent())
        .map(|dir| dir.join(format!("whocan{}", std::env::consts::EXE_SUFFIX)))
        .filter(|bin| bin.is_file())
        .expect("the whocan binary is built beside the tests: run `cargo test`");
    let home = tempfile::tempdir().unwrap();
    let out = Command::new(bin)
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .env("HOME", home.path())
        .env_remove("WHOCAN_HISTORY")
        .stdin(Stdio::null())
        .output()
        .expect("the whocan binary runs");
    Run {
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        code: out.status.code().expect("whocan exited normally"),
    }
}

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
    walk(&Cli::command(), &mut Vec::new(), &mut out);
    out
}

/// The clap definition of one subcommand.
fn find(path: &[String]) -> clap::Command {
    let mut cmd = Cli::command();
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
        ("review", "BY") => v(&["source"]),
        ("review", "DIR") => vec![format!("{out_dir}/review")],
        // Decisions made on other data: reported, not applied (exit 1).
        ("review decisions", "FILE") => v(&["fixtures/review/decisions.csv"]),
        ("export", "TO") => v(&["parquet"]),
        ("export", "PATH") => vec![format!("{out_dir}/export")],
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
        "decisions" => vec!["fixtures/review/decisions.csv"],
        "rules" if cmd == "diff" => vec!["fixtures/diff/rules.wq"],
        "rules" => vec!["fixtures/sod/nested.wq"],
        "remove" => vec!["nested_groups/u-bob -> nested_groups/grp-oncall"],
        "add" => vec!["nested_groups/u-carol -> nested_groups/grp-dba [admin]"],
        "remove-connection" => vec!["nested_groups/grp-ops"],
        "remove-decisions" => vec!["fixtures/review/revoke_nested.csv"],
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

#[test]
fn issue_13_4_every_numeric_option_is_bounded() {
    use clap::Parser;
    use std::any::TypeId;
    /// Every option whose value is a number: (subcommand path, long name).
    fn numeric(cmd: &clap::Command, path: &mut Vec<String>, out: &mut Vec<(Vec<String>, String)>) {
        let numbers = [
            TypeId::of::<u8>(),
            TypeId::of::<u16>(),
            TypeId::of::<u32>(),
            TypeId::of::<u64>(),
            TypeId::of::<u128>(),
            TypeId::of::<usize>(),
            TypeId::of::<i8>(),
            TypeId::of::<i16>(),
            TypeId::of::<i32>(),
            TypeId::of::<i64>(),
            TypeId::of::<i128>(),
            TypeId::of::<isize>(),
            TypeId::of::<f32>(),
            TypeId::of::<f64>(),
        ];
        for arg in cmd.get_arguments() {
            let id = arg.get_value_parser().type_id();
            if numbers.iter().any(|n| id == *n) {
                let long = arg.get_long().expect("numeric options have a long name");
                out.push((path.clone(), long.to_string()));
            }
        }
        for sub in cmd.get_subcommands() {
            path.push(sub.get_name().to_string());
            numeric(sub, path, out);
            path.pop();
        }
    }
    let mut options = Vec::new();
    numeric(&Cli::command(), &mut Vec::new(), &mut options);
    // Seeds take any 64-bit number by design; everything else is bounded.
    let full_range = [
        ("generate", "seed"),
        ("bench-queries", "seed"),
        ("bench-whatif", "seed"),
    ];
    let rejected = |path: &[String], long: &str, value: &str| {
        let mut args = vec!["whocan".to_string()];
        args.extend(path.iter().cloned());
        args.push(format!("--{long}={value}"));
        match Cli::try_parse_from(&args) {
            Err(e) => e.kind() == clap::error::ErrorKind::ValueValidation,
            Ok(_) => false,
        }
    };
    for (path, long) in &options {
        let name = format!("{} --{long}", path.join(" "));
        assert!(!rejected(path, long, "1"), "{name} 1 is accepted");
        assert!(rejected(path, long, "-1"), "{name} -1 is refused");
        assert!(
            rejected(path, long, "99999999999999999999999"),
            "{name} overflow is refused"
        );
        let full = full_range
            .iter()
            .any(|(cmd, opt)| path.last().is_some_and(|p| p == cmd) && long == opt);
        if full {
            assert!(!rejected(path, long, "18446744073709551615"), "{name}");
        } else {
            assert!(
                rejected(path, long, "106751991167301"),
                "{name} 106751991167301 is refused"
            );
        }
    }
    for expected in ["dormant-days", "limit", "rows", "count", "seed"] {
        assert!(
            options.iter().any(|(_, long)| long == expected),
            "found --{expected} among {options:?}"
        );
    }
}
