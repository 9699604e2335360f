//! What the tests that drive outside tools share: running one of the
//! `.ci/setup-*` scripts, which install a tool when it is absent and print
//! where it is. A script that fails fails the test: nothing is skipped.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Runs `.ci/SCRIPT` (idempotent and locked, so tests may call it in
/// parallel) and returns the path it prints last on stdout; panics with
/// its stderr, naming `needed_for`, when it fails.
pub fn tool(script: &str, needed_for: &str) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join(".ci")
        .join(script);
    let out = Command::new("bash")
        .arg(&path)
        .output()
        .unwrap_or_else(|e| panic!("bash runs {}: {e}", path.display()));
    assert!(
        out.status.success(),
        ".ci/{script} failed ({}), so {needed_for} cannot run and this test fails:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).expect("a UTF-8 path");
    let tool = PathBuf::from(stdout.lines().last().expect("a path on stdout").trim());
    assert!(tool.is_file(), "{}: not a file", tool.display());
    tool
}

/// Runs `python -c script args…` (a venv's Python, from [`tool`]) with no
/// stdin and returns its stdout; panics with its stderr, naming `what`,
/// when it fails.
#[allow(dead_code)] // not every test that includes this module runs Python
pub fn python<I, A>(python: &Path, script: &str, args: I, what: &str) -> String
where
    I: IntoIterator<Item = A>,
    A: AsRef<OsStr>,
{
    let out = Command::new(python)
        .arg("-c")
        .arg(script)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{} runs ({what}): {e}", python.display()));
    assert!(
        out.status.success(),
        "{what} failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}
