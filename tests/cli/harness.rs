//! Runs the binary and compares its output with golden files.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// What one run of the binary produced.
pub struct Run {
    pub stdout: String,
    pub stderr: String,
    pub code: i32,
}

/// Runs `whocan ARGS` from the crate root, with no terminal, no color and an
/// empty HOME, so paths in messages are the relative ones given.
pub fn whocan(args: &[&str]) -> Run {
    whocan_with_stdin(args, None)
}

/// Like [`whocan`], feeding `stdin` to the process.
pub fn whocan_with_stdin(args: &[&str], stdin: Option<&[u8]>) -> Run {
    whocan_with_env(args, stdin, &[])
}

/// Like [`whocan_with_stdin`], with `env` set in the process's environment.
pub fn whocan_with_env(args: &[&str], stdin: Option<&[u8]>, env: &[(&str, &str)]) -> Run {
    use std::io::Write;
    // A fresh HOME per run: the prompt's history file must never touch, or
    // depend on, the developer's own.
    let home = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_whocan"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .env("HOME", home.path())
        .env_remove("WHOCAN_HISTORY")
        .env_remove("SOURCE_DATE_EPOCH")
        .envs(env.iter().copied())
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the whocan binary runs");
    if let Some(input) = stdin {
        child.stdin.take().unwrap().write_all(input).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    Run {
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        code: out
            .status
            .code()
            .expect("whocan exited normally, not by a signal"),
    }
}

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Compares a run with `tests/golden/<group>/<case>.{out,err,code}`, or
/// rewrites them when `WHOCAN_BLESS` is set.
#[track_caller]
pub fn golden(group: &str, case: &str, run: &Run) {
    let dir = root().join("tests/golden").join(group);
    let files = [
        ("out", run.stdout.clone()),
        ("err", run.stderr.clone()),
        ("code", format!("{}\n", run.code)),
    ];
    if std::env::var_os("WHOCAN_BLESS").is_some() {
        std::fs::create_dir_all(&dir).unwrap();
        for (ext, text) in &files {
            std::fs::write(dir.join(format!("{case}.{ext}")), text).unwrap();
        }
        return;
    }
    let mut failures = Vec::new();
    for (ext, actual) in &files {
        let path = dir.join(format!("{case}.{ext}"));
        let expected = read(&path);
        if &expected != actual {
            failures.push(format!(
                "--- {} (expected)\n{expected}\n--- actual\n{actual}",
                path.display()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "golden mismatch for {group}/{case} (WHOCAN_BLESS=1 rewrites):\n{}",
        failures.join("\n")
    );
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (run with WHOCAN_BLESS=1 to create it)",
            path.display()
        )
    })
}

/// Declares one golden test per case: `name => [args…]`.
#[macro_export]
macro_rules! golden_cases {
    ($group:literal: $($name:ident => [$($arg:expr),* $(,)?]),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                let run = $crate::harness::whocan(&[$($arg),*]);
                $crate::harness::golden($group, stringify!($name), &run);
            }
        )*
    };
}
