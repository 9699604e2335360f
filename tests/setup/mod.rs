//! What the tests that drive outside tools share: running one of the
//! `.ci/setup-*` scripts, which install a tool when it is absent and print
//! where it is. A script that fails fails the test: nothing is skipped.

use std::path::PathBuf;
use std::process::Command;

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
