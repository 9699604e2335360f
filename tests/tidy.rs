//! Tidy: the invariants of ARCHITECTURE.md that are about the source tree
//! itself, checked by reading it (as rust-analyzer's `tidy` does). Each
//! test names the rule it keeps; a failure lists every offending line.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every `.rs` file under `dir`, as paths relative to the crate root, sorted.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![root().join(dir)];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path.strip_prefix(root()).unwrap().to_path_buf());
            }
        }
    }
    files.sort();
    files
}

/// `(file, text)` of every source file under `src/`.
fn sources() -> Vec<(String, String)> {
    rust_files(Path::new("src"))
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(root().join(&p)).unwrap();
            (p.to_string_lossy().replace('\\', "/"), text)
        })
        .collect()
}

/// Whether `file` (a path under `src/`) is inside one of `rooms`: a module
/// file (`src/graph.rs`) or a directory (`src/import/`).
fn inside(file: &str, rooms: &[&str]) -> bool {
    rooms
        .iter()
        .any(|room| file == *room || (room.ends_with('/') && file.starts_with(room)))
}

/// The line's code, without a trailing `//` comment or doc text.
fn code(line: &str) -> &str {
    let trimmed = line.trim_start();
    if trimmed.starts_with("//") {
        return "";
    }
    match line.find("//") {
        Some(i) if !line[..i].contains('"') => &line[..i],
        _ => line,
    }
}

/// Fails with every `file:line: text` where `pattern` occurs in code outside
/// `rooms`.
fn confined(what: &str, patterns: &[&str], rooms: &[&str]) {
    let mut offenders = Vec::new();
    for (file, text) in sources() {
        if inside(&file, rooms) {
            continue;
        }
        for (n, line) in text.lines().enumerate() {
            if patterns.iter().any(|p| code(line).contains(p)) {
                offenders.push(format!("{file}:{}: {}", n + 1, line.trim()));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "{what} may only appear in {rooms:?}; found elsewhere:\n{}",
        offenders.join("\n")
    );
}

/// petgraph is an implementation detail of `graph` (one algorithm, the
/// connection components); every other module reads `graph`'s index.
#[test]
fn petgraph_is_named_only_in_graph() {
    confined("petgraph", &["petgraph"], &["src/graph.rs", "src/graph/"]);
}

/// Only the modules that read input or write output touch the file system:
/// the readers (`import`), the snapshot file, the one output mechanism
/// (`atomic`) and the binary's front ends (`cli`, the prompt). Everything
/// else works on readers, writers and models it is given.
#[test]
fn file_system_access_is_confined_to_the_io_modules() {
    confined(
        "file-system access",
        &[
            "std::fs",
            "fs::",
            "File::open",
            "File::create",
            "OpenOptions",
        ],
        &[
            "src/import/",
            "src/snapshot/",
            "src/atomic.rs",
            "src/cli/",
            "src/repl.rs",
            "src/main.rs",
        ],
    );
}

/// Every source file says what it is for in a `//!` header, first thing.
#[test]
fn every_source_file_starts_with_a_module_header() {
    let missing: Vec<String> = sources()
        .into_iter()
        .filter(|(_, text)| !text.trim_start().starts_with("//!"))
        .map(|(file, _)| file)
        .collect();
    assert!(missing.is_empty(), "no `//!` header: {missing:?}");
}

/// Whether the item declared at `lines[at]` has a `///` doc comment above
/// it, past any attributes (single- or multi-line).
fn documented(lines: &[&str], at: usize) -> bool {
    let mut i = at;
    let mut in_attribute = false;
    while i > 0 {
        i -= 1;
        let line = lines[i].trim();
        if in_attribute {
            if line.starts_with("#[") {
                in_attribute = false;
            }
            continue;
        }
        if line.starts_with("///") || line.starts_with("#[doc") {
            return true;
        }
        if line.starts_with("#[") {
            if !line.ends_with(']') {
                return false;
            }
            continue;
        }
        if line.ends_with(")]") || line == "]" {
            in_attribute = true;
            continue;
        }
        return false;
    }
    false
}

/// Every `pub` item and field is documented with `///` (`pub mod x;` is
/// documented by its file's `//!` header, `pub use` by what it re-exports).
#[test]
fn every_pub_item_has_a_doc_comment() {
    let mut missing = Vec::new();
    for (file, text) in sources() {
        let lines: Vec<&str> = text.lines().collect();
        for (n, line) in lines.iter().enumerate() {
            let trimmed = line.trim_start();
            let Some(rest) = trimmed.strip_prefix("pub ") else {
                continue;
            };
            let is_decl = rest.starts_with("use ")
                || (rest.starts_with("mod ") && rest.trim_end().ends_with(';'));
            if !is_decl && !documented(&lines, n) {
                missing.push(format!("{file}:{}: {}", n + 1, trimmed));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "pub items without `///`:\n{}",
        missing.join("\n")
    );
}

/// No source file (with its unit tests) grows past 1,200 lines: past that,
/// a module holds more than one concern and is split by concern.
#[test]
fn no_source_file_is_over_1200_lines() {
    let long: Vec<String> = sources()
        .into_iter()
        .filter(|(_, text)| text.lines().count() > 1200)
        .map(|(file, text)| format!("{file}: {} lines", text.lines().count()))
        .collect();
    assert!(long.is_empty(), "over 1,200 lines:\n{}", long.join("\n"));
}

/// The subcommands `whocan --help` lists (but `help`).
fn subcommands() -> BTreeSet<String> {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_whocan"))
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    help.lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .map(String::from)
        .collect()
}

/// The subcommands some golden test under `tests/cli/` runs: the first
/// string of the argument list in a `golden_cases!` case (`name => ["sub",
/// …]`) or in a `golden(…, &["sub", …], …)` call.
fn golden_subcommands() -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for file in rust_files(Path::new("tests/cli")) {
        let text = std::fs::read_to_string(root().join(file)).unwrap();
        let mut rest = text.as_str();
        // Each golden case or call, up to the first argument list after it.
        while let Some(at) = ["=>", "golden("]
            .iter()
            .filter_map(|m| rest.find(m).map(|i| (i, m.len())))
            .min()
        {
            rest = &rest[at.0 + at.1..];
            if let Some(open) = rest.find("[\"") {
                let args = &rest[open + 2..];
                if let Some(end) = args.find('"') {
                    found.insert(args[..end].to_string());
                }
            }
        }
    }
    found
}

/// Every subcommand has at least one golden test (output, errors and exit
/// code compared byte for byte).
#[test]
fn every_subcommand_has_a_golden_test() {
    let covered = golden_subcommands();
    let missing: Vec<String> = subcommands()
        .into_iter()
        .filter(|c| !covered.contains(c))
        .collect();
    assert!(
        missing.is_empty(),
        "subcommands without a golden test in tests/cli: {missing:?}"
    );
}

/// ARCHITECTURE.md's code map names every source file under `src/`, and
/// nothing else: `` `src/…` `` paths in its "Code map" section.
#[test]
fn architecture_code_map_matches_the_tree() {
    let text = std::fs::read_to_string(root().join("ARCHITECTURE.md")).unwrap();
    let map = text
        .split("\n## ")
        .find(|s| s.starts_with("Code map"))
        .expect("ARCHITECTURE.md has a `## Code map` section");
    let mut named = BTreeSet::new();
    for piece in map.split('`').skip(1).step_by(2) {
        if piece.starts_with("src/") && piece.ends_with(".rs") {
            named.insert(piece.to_string());
        }
    }
    let tree: BTreeSet<String> = sources().into_iter().map(|(file, _)| file).collect();
    let unnamed: Vec<&String> = tree.difference(&named).collect();
    let stale: Vec<&String> = named.difference(&tree).collect();
    assert!(
        unnamed.is_empty() && stale.is_empty(),
        "ARCHITECTURE.md code map is out of date.\nnot in the map: {unnamed:?}\nnot in the tree: {stale:?}"
    );
}
