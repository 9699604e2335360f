//! Shell completions and the man page (issue 14, "also expected"): the bash
//! script loads and registers a completion, every shell gets a script, and
//! the man page renders with `man -l`. Missing tools fail these tests; `.ci/run`
//! installs them.

use std::process::Command;

use crate::golden_cases;
use crate::harness::{root, whocan};

// The tool subcommands' outputs and refusals, byte for byte: the top-level
// manual page (it lists every subcommand, so a new one shows here), an
// unknown shell, and `bench-queries` asked for no questions.
golden_cases! { "tools":
    man_page => ["man"],
    completions_unknown_shell => ["completions", "tcsh"],
    bench_queries_zero_count => ["bench-queries", "fixtures/nested_groups.csv", "--count", "0"],
}

#[test]
fn issue_14_bash_completion_loads_and_registers_whocan() {
    let bin = env!("CARGO_BIN_EXE_whocan");
    let script = format!("source <('{bin}' completions bash) && complete -p whocan");
    let out = Command::new("bash")
        .args(["-c", &script])
        .current_dir(root())
        .output()
        .expect("bash runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(stderr.is_empty(), "{stderr}");
    assert!(
        stdout.contains("complete") && stdout.trim_end().ends_with(" whocan"),
        "{stdout}"
    );
    // The completion function offers the subcommands.
    let script = format!(
        "source <('{bin}' completions bash) && COMP_WORDS=(whocan rep) COMP_CWORD=1 \
         COMP_LINE='whocan rep' COMP_POINT=10 && _whocan whocan rep whocan && \
         printf '%s\\n' \"${{COMPREPLY[@]}}\""
    );
    let out = Command::new("bash")
        .args(["-c", &script])
        .output()
        .expect("bash runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        stdout.trim(),
        "report",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn issue_14_every_shell_gets_a_completion_script() {
    for (shell, marker) in [
        ("bash", "_whocan()"),
        ("zsh", "#compdef whocan"),
        ("fish", "complete -c whocan"),
        ("powershell", "Register-ArgumentCompleter"),
        ("elvish", "edit:completion:arg-completer[whocan]"),
    ] {
        let run = whocan(&["completions", shell]);
        assert_eq!(run.code, 0, "{shell}: {}", run.stderr);
        assert!(run.stdout.contains(marker), "{shell}:\n{}", run.stdout);
        assert!(run.stdout.contains("findings"), "{shell}");
    }
    let run = whocan(&["completions", "tcsh"]);
    assert_eq!(run.code, 2);
}

#[test]
fn issue_14_man_page_renders_with_man() {
    let run = whocan(&["man"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.starts_with(".ie") || run.stdout.contains(".TH"),
        "{}",
        run.stdout
    );
    // As the README shows it: `whocan man | man -l -`.
    let mut man = Command::new("man")
        .args(["-l", "-"])
        .env("MANPAGER", "cat")
        .env("PAGER", "cat")
        .env("MANWIDTH", "100")
        .env("LC_ALL", "C.UTF-8")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("`man` is installed (.ci/run installs man-db and groff)");
    {
        use std::io::Write;
        let mut stdin = man.stdin.take().unwrap();
        stdin.write_all(run.stdout.as_bytes()).unwrap();
    }
    let out = man.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.trim().is_empty(), "man warned: {stderr}");
    for section in ["NAME", "SYNOPSIS", "DESCRIPTION", "SUBCOMMANDS"] {
        assert!(text.contains(section), "no {section}:\n{text}");
    }
    assert!(text.contains("whocan-report"), "{text}");
}

#[test]
fn issue_14_man_dir_writes_a_page_per_command() {
    let dir = tempfile::tempdir().unwrap();
    let run = whocan(&["man", "--dir", dir.path().to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    for page in [
        "whocan.1",
        "whocan-report-access.1",
        "whocan-run.1",
        "whocan-why.1",
    ] {
        let path = dir.path().join(page);
        assert!(path.is_file(), "no {page}");
        let out = Command::new("man")
            .arg("-l")
            .arg(&path)
            .env("MANPAGER", "cat")
            .env("PAGER", "cat")
            .env("LC_ALL", "C.UTF-8")
            .output()
            .expect("`man` is installed (.ci/run installs man-db and groff)");
        assert!(out.status.success(), "{page}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("SYNOPSIS"), "{page}:\n{text}");
    }
}
