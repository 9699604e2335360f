//! The prompt through a real pseudo-terminal: tmux runs `whocan shell`,
//! `send-keys` types and `capture-pane` reads the screen. Piped stdin takes
//! another path (plain lines, no editor), so what only a terminal shows is
//! tested here. tmux is required: CI installs it (`.ci/run`), and a missing
//! tmux fails these tests rather than skipping them.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// One private tmux server (its own socket), killed when dropped.
struct Tmux {
    socket: PathBuf,
    _dir: tempfile::TempDir,
}

impl Tmux {
    fn start(dir: &Path, args: &[&str]) -> Tmux {
        let socket_dir = tempfile::tempdir().unwrap();
        let socket = socket_dir.path().join("sock");
        let tmux = Tmux {
            socket,
            _dir: socket_dir,
        };
        let home = format!("HOME={}", dir.display());
        let mut command = vec![
            "new-session",
            "-d",
            "-x",
            "150",
            "-y",
            "60",
            "-s",
            "t",
            "-c",
            env!("CARGO_MANIFEST_DIR"),
            "-e",
            "NO_COLOR=1",
            "-e",
            &home,
            "--",
            env!("CARGO_BIN_EXE_whocan"),
            "shell",
        ];
        command.extend_from_slice(args);
        let out = tmux.run(&command);
        assert!(
            out.status.success(),
            "tmux new-session failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        tmux
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .args(["-f", "/dev/null"])
            .args(args)
            .output()
            .expect("tmux is required for the terminal tests (apt-get install tmux)")
    }

    /// The whole pane, scrollback included, wrapped lines joined.
    fn screen(&self) -> String {
        let out = self.run(&["capture-pane", "-p", "-J", "-S", "-", "-t", "t"]);
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn running(&self) -> bool {
        self.run(&["has-session", "-t", "t"]).status.success()
    }

    /// Waits until `done` holds for the screen; fails with the screen after
    /// a generous deadline (a hang, not a slow machine).
    #[track_caller]
    fn wait_for(&self, what: &str, done: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let screen = self.screen();
            if done(&screen) {
                return screen;
            }
            if Instant::now() > deadline {
                panic!("timed out waiting for {what}; the screen:\n{screen}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    #[track_caller]
    fn wait_for_exit(&self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while self.running() {
            if Instant::now() > deadline {
                panic!("the shell did not exit; the screen:\n{}", self.screen());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
    }
}

#[track_caller]
fn in_order(text: &str, parts: &[&str]) {
    let mut from = 0;
    for part in parts {
        match text[from..].find(part) {
            Some(i) => from += i + part.len(),
            None => panic!("{part:?} missing or out of order in:\n{text}"),
        }
    }
}

#[test]
fn issue_14_lines_typed_ahead_all_run_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let history = dir.path().join("history");
    let h = history.to_str().unwrap();
    let tmux = Tmux::start(dir.path(), &["--history", h, "fixtures/nested_groups.csv"]);
    tmux.wait_for("the prompt", |s| s.contains("whocan> "));
    // One send-keys: the three lines reach the terminal at once, as when
    // typed ahead of a slow answer or pasted without bracketed paste.
    let out = tmux.run(&[
        "send-keys",
        "-t",
        "t",
        "cycles",
        "Enter",
        "count who can reach wiki",
        "Enter",
        "find dave",
        "Enter",
    ]);
    assert!(out.status.success());
    let screen = tmux.wait_for("the answer to `find dave`", |s| s.contains("u-dave"));
    in_order(
        &screen,
        &[
            "whocan> cycles",
            "cycle 1",
            "whocan> count who can reach wiki",
            "COUNT",
            "whocan> find dave",
            "u-dave",
        ],
    );
    tmux.run(&["send-keys", "-t", "t", "C-d"]);
    tmux.wait_for_exit();
    let saved = std::fs::read_to_string(&history).unwrap();
    in_order(&saved, &["cycles", "count who can reach wiki", "find dave"]);
}

#[test]
fn continued_entries_prompt_for_more_tab_completes_and_ctrl_c_cancels_the_entry() {
    let dir = tempfile::tempdir().unwrap();
    let tmux = Tmux::start(dir.path(), &["--no-history", "fixtures/nested_groups.csv"]);
    tmux.wait_for("the prompt", |s| s.contains("whocan> "));
    // An open `{` asks for more; Ctrl-C drops the whole entry, not a line.
    tmux.run(&[
        "send-keys",
        "-t",
        "t",
        "members of {",
        "Enter",
        "x",
        "Enter",
    ]);
    tmux.wait_for("the continuation prompt", |s| {
        s.matches("   ...> ").count() == 2
    });
    // Each entry is typed once its prompt is up, as a person would: keys
    // sent while the line editor is between two prompts may be read by
    // neither (seen under load as a timeout waiting for the count).
    let prompts = |n: usize| move |s: &str| s.matches("whocan> ").count() >= n;
    tmux.run(&["send-keys", "-t", "t", "C-c"]);
    tmux.wait_for("a fresh prompt after Ctrl-C", prompts(2));
    tmux.run(&["send-keys", "-t", "t", "count find alice", "Enter"]);
    let screen = tmux.wait_for("the count", |s| s.contains("COUNT"));
    assert!(!screen.contains("error"), "{screen}");
    tmux.wait_for("the prompt after the count", prompts(3));
    // Tab after `with ` offers what the grammar takes there.
    tmux.run(&["send-keys", "-t", "t", "who can reach prod-db with ", "Tab"]);
    tmux.wait_for("the completion", |s| s.contains("with permission"));
    tmux.run(&["send-keys", "-t", "t", "C-u", "C-d"]);
    tmux.wait_for_exit();
}
