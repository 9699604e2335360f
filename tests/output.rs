//! The one output mechanism (`crate::atomic::Destination`), through the
//! real binary: `-o`, `--rejects`, snapshots and the prompt's `save` never
//! replace an input (issues 13.11, 14.4), write devices and FIFOs through and
//! replace a symlink's target, not the link (13.11); a write killed by SIGINT
//! or SIGTERM leaves no temporary file and a later write removes stale ones
//! (13.12); the format follows `-o FILE`'s extension and reports default to
//! CSV off a terminal (14.1); `--color` (14); every numeric option is
//! bounded (13.4).
//!
//! Every case works on copies of the fixtures in a temporary directory.

#![cfg(unix)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `whocan ARGS` in `dir`, with no terminal, NO_COLOR and an empty HOME.
fn whocan_in(dir: &Path, args: &[&str], stdin: Stdio) -> Output {
    let home = tempfile::tempdir().unwrap();
    Command::new(env!("CARGO_BIN_EXE_whocan"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("HOME", home.path())
        .env_remove("WHOCAN_HISTORY")
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .expect("the whocan binary runs")
}

fn whocan(dir: &Path, args: &[&str]) -> Output {
    whocan_in(dir, args, Stdio::null())
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Hidden files in `dir`: whocan's temporary files (nothing else here
/// starts with a dot).
fn hidden(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    names.sort();
    names
}

fn copy(fixture: &str, dir: &Path, name: &str) {
    std::fs::copy(root().join("fixtures").join(fixture), dir.join(name)).unwrap();
}

/// A directory with copies of the fixtures the cases read.
fn workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    copy("reference_example.csv", d, "v.csv");
    copy("nested_groups.csv", d, "w.csv");
    copy("mapped/app.csv", d, "app.csv");
    copy("mapped/app.toml", d, "app.toml");
    copy("people/hr.csv", d, "hr.csv");
    copy("people/hr.toml", d, "hr.toml");
    copy("people/okta.csv", d, "okta.csv");
    copy("people/map.csv", d, "map.csv");
    std::fs::write(d.join("q.wq"), "stats\n").unwrap();
    std::fs::create_dir(d.join("sub")).unwrap();
    let made = whocan(d, &["snapshot", "v.csv", "-o", "s.wcs"]);
    assert!(made.status.success(), "{}", stderr(&made));
    dir
}

#[test]
fn issue_14_4_output_onto_an_input_is_refused_for_every_command() {
    let dir = workspace();
    let d = dir.path();
    std::os::unix::fs::symlink("v.csv", d.join("link.csv")).unwrap();
    std::fs::hard_link(d.join("v.csv"), d.join("hard.csv")).unwrap();
    // (arguments, the output as given, the input it is)
    let cases: &[(&[&str], &str, &str)] = &[
        (&["snapshot", "v.csv", "-o", "v.csv"], "v.csv", "v.csv"),
        (
            &["report", "access", "v.csv", "-o", "v.csv"],
            "v.csv",
            "v.csv",
        ),
        (&["import", "v.csv", "--rejects", "v.csv"], "v.csv", "v.csv"),
        (&["import", "v.csv", "-o", "v.csv"], "v.csv", "v.csv"),
        (&["stats", "v.csv", "-o", "v.csv"], "v.csv", "v.csv"),
        (&["findings", "v.csv", "-o", "v.csv"], "v.csv", "v.csv"),
        (
            &["people", "unmapped", "v.csv", "-o", "v.csv"],
            "v.csv",
            "v.csv",
        ),
        (&["diff", "v.csv", "w.csv", "-o", "w.csv"], "w.csv", "w.csv"),
        (
            &["query", "v.csv", "-e", "stats", "-o", "v.csv"],
            "v.csv",
            "v.csv",
        ),
        (&["why", "v.csv", "a", "b", "-o", "v.csv"], "v.csv", "v.csv"),
        (
            &["run", "q.wq", "--data", "v.csv", "-o", "q.wq"],
            "q.wq",
            "q.wq",
        ),
        (
            &["report", "access", "app.csv:app.toml", "-o", "app.toml"],
            "app.toml",
            "app.toml",
        ),
        (
            &[
                "report",
                "access",
                "--mapping",
                "app.toml",
                "app.csv",
                "-o",
                "app.csv",
            ],
            "app.csv",
            "app.csv",
        ),
        (
            &[
                "report",
                "access",
                "hr.csv:hr.toml",
                "okta.csv",
                "--people-map",
                "map.csv",
                "-o",
                "map.csv",
            ],
            "map.csv",
            "map.csv",
        ),
        (
            &["report", "access", "s.wcs", "-o", "s.wcs"],
            "s.wcs",
            "s.wcs",
        ),
        (
            &["snapshot", "info", "s.wcs", "-o", "s.wcs"],
            "s.wcs",
            "s.wcs",
        ),
        (
            &["map", "suggest", "app.csv", "-o", "app.csv"],
            "app.csv",
            "app.csv",
        ),
        // The same file by another name: a symlink, a hard link, a path
        // spelt differently.
        (
            &["report", "access", "v.csv", "-o", "link.csv"],
            "link.csv",
            "v.csv",
        ),
        (
            &["report", "access", "v.csv", "-o", "hard.csv"],
            "hard.csv",
            "v.csv",
        ),
        (
            &["report", "access", "v.csv", "-o", "sub/../v.csv"],
            "sub/../v.csv",
            "v.csv",
        ),
    ];
    for (args, output, input) in cases {
        let before = std::fs::read(d.join(input)).unwrap();
        let out = whocan(d, args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains(&format!(
                "refusing to write {output}: it is the input {input}"
            )),
            "{args:?}: {err}"
        );
        assert!(
            std::fs::read(d.join(input)).unwrap() == before,
            "{args:?} changed {input}"
        );
        assert!(hidden(d).is_empty(), "{args:?} left {:?}", hidden(d));
    }
    // Standard input redirected from the file.
    let before = std::fs::read(d.join("v.csv")).unwrap();
    let stdin = std::fs::File::open(d.join("v.csv")).unwrap();
    let out = whocan_in(d, &["report", "access", "-", "-o", "v.csv"], stdin.into());
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("it is the input - (standard input)"));
    assert!(std::fs::read(d.join("v.csv")).unwrap() == before);
}

#[test]
fn issue_14_4_save_at_the_prompt_onto_an_input_is_refused() {
    let dir = workspace();
    let d = dir.path();
    let before = std::fs::read(d.join("v.csv")).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_whocan"))
        .args(["shell", "--no-history", "v.csv"])
        .current_dir(d)
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"save v.csv\nsave other.wcs\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let err = stderr(&out);
    assert!(
        err.contains("refusing to write v.csv: it is the input v.csv"),
        "{err}"
    );
    assert!(std::fs::read(d.join("v.csv")).unwrap() == before);
    // Saving elsewhere still works.
    assert!(err.contains("saved other.wcs"), "{err}");
    let info = whocan(d, &["snapshot", "info", "other.wcs"]);
    assert!(info.status.success(), "{}", stderr(&info));
    assert!(hidden(d).is_empty(), "{:?}", hidden(d));
}

#[test]
fn issue_13_11_output_to_a_fifo_is_written_through() {
    use std::os::unix::fs::FileTypeExt;
    let dir = workspace();
    let d = dir.path();
    let fifo = d.join("pipe");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a plain mkfifo call on a NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read(fifo).unwrap())
    };
    let out = whocan(d, &["report", "access", "v.csv", "-o", "pipe"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        std::fs::symlink_metadata(&fifo)
            .unwrap()
            .file_type()
            .is_fifo(),
        "the FIFO was replaced"
    );
    let expected = whocan(d, &["report", "access", "v.csv", "--format", "csv"]);
    assert!(reader.join().unwrap() == expected.stdout);
    assert!(hidden(d).is_empty(), "{:?}", hidden(d));
}

#[test]
fn issue_13_11_output_to_a_character_device_is_written_through() {
    use std::os::unix::fs::FileTypeExt;
    let dir = workspace();
    let d = dir.path();
    let is_char_device = |p: &Path| {
        std::fs::symlink_metadata(p)
            .unwrap()
            .file_type()
            .is_char_device()
    };
    // A private null device first (root may make one), so a regression
    // replaces that one, not the machine's /dev/null.
    let node = d.join("null");
    let c = std::ffi::CString::new(node.to_str().unwrap()).unwrap();
    // SAFETY: a plain mknod call on a NUL-terminated path.
    let made = unsafe { libc::mknod(c.as_ptr(), libc::S_IFCHR | 0o666, libc::makedev(1, 3)) } == 0;
    if made {
        let out = whocan(d, &["report", "access", "v.csv", "-o", "null"]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(is_char_device(&node), "the device node was replaced");
        let out = whocan(d, &["snapshot", "v.csv", "-o", "null"]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(is_char_device(&node), "the device node was replaced");
    }
    for args in [
        &["report", "access", "v.csv", "-o", "/dev/null"][..],
        &["import", "v.csv", "--rejects", "/dev/null"],
        &["generate", "--scale", "tiny", "-o", "/dev/null"],
    ] {
        let out = whocan(d, args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        assert!(is_char_device(Path::new("/dev/null")), "{args:?}");
    }
    assert!(hidden(d).is_empty(), "{:?}", hidden(d));
    assert!(
        hidden(Path::new("/dev"))
            .iter()
            .all(|n| !n.contains("whocan")),
        "a temporary file in /dev"
    );
}

#[test]
fn issue_13_11_output_through_a_symlink_replaces_the_target_not_the_link() {
    let dir = workspace();
    let d = dir.path();
    std::fs::write(d.join("sub/target.csv"), "old\n").unwrap();
    std::os::unix::fs::symlink("sub/target.csv", d.join("link.csv")).unwrap();
    // A chain, and a link to a file that does not exist yet.
    std::os::unix::fs::symlink("link.csv", d.join("chain.csv")).unwrap();
    std::os::unix::fs::symlink("sub/new.csv", d.join("dangling.csv")).unwrap();
    let expected = whocan(d, &["report", "access", "v.csv", "--format", "csv"]).stdout;
    for (link, points_to, target) in [
        ("link.csv", "sub/target.csv", "sub/target.csv"),
        ("chain.csv", "link.csv", "sub/target.csv"),
        ("dangling.csv", "sub/new.csv", "sub/new.csv"),
    ] {
        std::fs::write(d.join("sub/target.csv"), "old\n").unwrap();
        let out = whocan(d, &["report", "access", "v.csv", "-o", link]);
        assert!(out.status.success(), "{link}: {}", stderr(&out));
        let meta = std::fs::symlink_metadata(d.join(link)).unwrap();
        assert!(meta.file_type().is_symlink(), "{link} was replaced");
        assert_eq!(
            std::fs::read_link(d.join(link)).unwrap(),
            Path::new(points_to)
        );
        assert!(
            std::fs::read(d.join(target)).unwrap() == expected,
            "{target} holds the report"
        );
    }
    // Snapshots go through the same mechanism.
    let out = whocan(d, &["snapshot", "v.csv", "-o", "link.csv"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        std::fs::symlink_metadata(d.join("link.csv"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    let info = whocan(d, &["snapshot", "info", "sub/target.csv"]);
    assert!(info.status.success(), "{}", stderr(&info));
    assert!(hidden(d).is_empty(), "{:?}", hidden(d));
    assert!(
        hidden(&d.join("sub")).is_empty(),
        "{:?}",
        hidden(&d.join("sub"))
    );
}

/// Waits for process `pid` (our child) to change state; returns the
/// `waitpid` status.
fn wait_pid(pid: libc::pid_t, flags: libc::c_int) -> Option<libc::c_int> {
    let mut status = 0;
    // SAFETY: waitpid on our own child.
    let r = unsafe { libc::waitpid(pid, &mut status, flags) };
    (r == pid).then_some(status)
}

/// Runs a report into `out.csv` and sends `signal` while its temporary file
/// exists: the process is stopped, the file checked to still be there, the
/// signal sent and the process continued. `false` when the write finished
/// before it could be caught.
// The child is reaped with `waitpid` (which also sees it stop), not
// `Child::wait`.
#[allow(clippy::zombie_processes)]
fn interrupt_mid_write(d: &Path, signal: libc::c_int) -> bool {
    use std::os::unix::process::CommandExt;
    let mut command = Command::new(env!("CARGO_BIN_EXE_whocan"));
    command
        .args(["report", "access", "small.csv", "-o", "out.csv"])
        .current_dir(d)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    // SAFETY: only setrlimit and sigaction between fork and exec, both
    // async-signal-safe: SIGABRT dumps no core, and each signal has its
    // default action, as for a command started from a terminal. A test run
    // as a background job of a non-interactive shell inherits SIGINT
    // ignored, and whocan rightly leaves an ignored signal alone (as under
    // `nohup`): the process would then finish its write, exit 0, and this
    // test would fail for the way it was started.
    unsafe {
        command.pre_exec(|| {
            let none = libc::rlimit {
                rlim_cur: 0,
                rlim_max: 0,
            };
            libc::setrlimit(libc::RLIMIT_CORE, &none);
            for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGABRT] {
                let mut default: libc::sigaction = std::mem::zeroed();
                default.sa_sigaction = libc::SIG_DFL;
                libc::sigaction(signal, &default, std::ptr::null_mut());
            }
            Ok(())
        });
    }
    let child = command.spawn().unwrap();
    let pid = child.id() as libc::pid_t;
    let kill = |s| {
        // SAFETY: signalling our own child.
        unsafe { libc::kill(pid, s) }
    };
    loop {
        if wait_pid(pid, libc::WNOHANG).is_some() {
            return false;
        }
        if hidden(d).is_empty() {
            std::thread::sleep(std::time::Duration::from_micros(200));
            continue;
        }
        kill(libc::SIGSTOP);
        let status = wait_pid(pid, libc::WUNTRACED).unwrap();
        if !libc::WIFSTOPPED(status) {
            return false;
        }
        let caught = !hidden(d).is_empty();
        if caught {
            kill(signal);
        }
        kill(libc::SIGCONT);
        let status = wait_pid(pid, 0).unwrap();
        if caught {
            assert!(
                libc::WIFSIGNALED(status) && libc::WTERMSIG(status) == signal,
                "the process ends by the signal (status {status})"
            );
        }
        return caught;
    }
}

#[test]
fn issue_13_12_sigint_sigterm_sighup_and_abort_mid_write_leave_no_temp_file() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let made = whocan(d, &["generate", "--scale", "small", "-o", "small.csv"]);
    assert!(made.status.success(), "{}", stderr(&made));
    // SIGABRT is what a failed allocation ends with.
    for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGABRT] {
        std::fs::write(d.join("out.csv"), "old\n").unwrap();
        let caught = (0..10).any(|_| {
            std::fs::write(d.join("out.csv"), "old\n").unwrap();
            interrupt_mid_write(d, signal)
        });
        assert!(caught, "never caught the write in progress");
        assert!(hidden(d).is_empty(), "signal {signal} left {:?}", hidden(d));
        assert_eq!(std::fs::read_to_string(d.join("out.csv")).unwrap(), "old\n");
    }
}

#[test]
fn issue_13_12_a_later_write_removes_stale_temp_files_of_its_target() {
    let dir = workspace();
    let d = dir.path();
    // A process id that no longer exists: a child that has exited.
    let mut gone = Command::new("true").spawn().unwrap();
    let dead = gone.id();
    gone.wait().unwrap();
    let live = std::process::id();
    let stale = format!(".out.csv.whocan-{dead}-AbC123");
    let in_use = format!(".out.csv.whocan-{live}-XyZ789");
    let other = format!(".other.csv.whocan-{dead}-QrS456");
    for name in [&stale, &in_use, &other] {
        std::fs::write(d.join(name), "partial").unwrap();
    }
    let out = whocan(d, &["report", "access", "v.csv", "-o", "out.csv"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        !d.join(&stale).exists(),
        "the stale temporary file is removed"
    );
    assert!(d.join(&in_use).exists(), "a live writer's file is kept");
    assert!(d.join(&other).exists(), "another target's file is kept");
}

#[test]
fn issue_14_1_output_format_follows_the_extension() {
    let dir = workspace();
    let d = dir.path();
    let data = root().join("fixtures/nested_groups.csv");
    let data = data.to_str().unwrap();
    let stdout = |args: &[&str]| {
        let out = whocan(d, args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        out.stdout
    };
    let file = |args: &[&str], name: &str| {
        let out = whocan(d, args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        (std::fs::read(d.join(name)).unwrap(), stderr(&out))
    };
    for (name, format) in [
        ("out.csv", "csv"),
        ("out.json", "json"),
        ("out.jsonl", "jsonl"),
        ("out.ndjson", "jsonl"),
        ("OUT.CSV", "csv"),
        ("out.txt", "table"),
    ] {
        let expected = stdout(&["report", "access", data, "--format", format]);
        let (got, _) = file(&["report", "access", data, "-o", name], name);
        assert!(got == expected, "report -o {name} is {format}");
        let expected = stdout(&["stats", data, "--format", format]);
        let (got, _) = file(&["stats", data, "-o", name], name);
        assert!(got == expected, "stats -o {name} is {format}");
        let expected = stdout(&["query", data, "-e", "cycles", "--format", format]);
        let (got, _) = file(&["query", data, "-e", "cycles", "-o", name], name);
        assert!(got == expected, "query -o {name} is {format}");
    }
    // --format wins over the extension.
    let expected = stdout(&["report", "access", data, "--format", "json"]);
    let (got, _) = file(
        &["report", "access", data, "-o", "x.csv", "--format", "json"],
        "x.csv",
    );
    assert!(got == expected);
    // An extension that names no format: the default, with a note.
    let expected = stdout(&["report", "access", data, "--format", "csv"]);
    let (got, note) = file(&["report", "access", data, "-o", "out.xyz"], "out.xyz");
    assert!(got == expected);
    assert!(
        note.contains("out.xyz: .xyz names no output format; writing csv"),
        "{note}"
    );
    let expected = stdout(&["query", data, "-e", "members of grp-eng", "--format", "dot"]);
    let (got, _) = file(
        &["query", data, "-e", "members of grp-eng", "-o", "g.dot"],
        "g.dot",
    );
    assert!(got == expected, "query -o g.dot is dot");
}

#[test]
fn issue_14_1_reports_default_to_csv_when_not_a_terminal() {
    let dir = workspace();
    let d = dir.path();
    let data = root().join("fixtures/nested_groups.csv");
    let data = data.to_str().unwrap();
    let run = |args: &[&str]| {
        let out = whocan(d, args);
        assert!(
            out.status.code().is_some_and(|c| c < 2),
            "{args:?}: {}",
            stderr(&out)
        );
        out.stdout
    };
    let with = |args: &[&str], format: &str| {
        let mut args = args.to_vec();
        args.extend(["--format", format]);
        run(&args)
    };
    let old = root().join("fixtures/diff/old.csv");
    let new = root().join("fixtures/diff/new.csv");
    let reports: [Vec<&str>; 4] = [
        vec!["report", "access", data],
        vec!["report", "access", data, "--by", "employee"],
        vec!["findings", data, "--as-of", "2026-01-31"],
        vec!["diff", old.to_str().unwrap(), new.to_str().unwrap()],
    ];
    for args in &reports {
        assert!(run(args) == with(args, "csv"), "{args:?} pipes CSV");
    }
    // Answers stay tables.
    let answers: [Vec<&str>; 2] = [vec!["stats", data], vec!["query", data, "-e", "cycles"]];
    for args in &answers {
        assert!(run(args) == with(args, "table"), "{args:?} pipes a table");
    }
}

#[test]
fn issue_14_color_flag_overrides_the_environment() {
    let dir = workspace();
    let d = dir.path();
    let red = "\x1b[1;31merror\x1b[0m";
    // NO_COLOR is set and stderr is a pipe: --color always still colours.
    let out = whocan(d, &["--color", "always", "report", "access", "missing.csv"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains(red), "{}", stderr(&out));
    let out = whocan(d, &["report", "access", "missing.csv", "--color=always"]);
    assert!(stderr(&out).contains(red), "a global option");
    for args in [
        &["report", "access", "missing.csv"][..],
        &["report", "access", "missing.csv", "--color", "never"],
        &["report", "access", "missing.csv", "--color", "auto"],
    ] {
        let out = whocan(d, args);
        assert_eq!(out.status.code(), Some(2));
        assert!(!stderr(&out).contains('\x1b'), "{args:?}: {}", stderr(&out));
    }
    let out = whocan(d, &["--color", "sometimes", "stats", "v.csv"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn issue_13_4_dormant_days_overflow_is_bad_usage() {
    let dir = workspace();
    let out = whocan(
        dir.path(),
        &["findings", "v.csv", "--dormant-days", "106751991167301"],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("106751991167301") && err.contains("--dormant-days") && err.contains("36500"),
        "{err}"
    );
    assert!(out.stdout.is_empty());
}
