//! Fuzz-style test of the query language (issue 13, "must show"): generated
//! strings and mutations of the statements in `queries/*.wq` are parsed and
//! every statement that parses is evaluated against the fixture graph the
//! query file is written for, its answer written in every format. Nothing
//! may panic. The cases are bounded and the generator is seeded, so the run
//! is deterministic and takes seconds; a failing case found later becomes a
//! line of `FOUND` below.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};

use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use whocan::graph::AccessGraph;
use whocan::import::{FileOptions, Importer};
use whocan::query::Engine;
use whocan::query::ast::{OutputFormat, Statement};

/// Query files and the fixture each is written for.
const FILES: [(&str, &str); 3] = [
    ("queries/nested_groups.wq", "fixtures/nested_groups.csv"),
    ("queries/cyclic_groups.wq", "fixtures/cyclic_groups.csv"),
    (
        "queries/reference_example.wq",
        "fixtures/reference_example.csv",
    ),
];

/// Text spliced into mutated statements: keywords, operators, quotes,
/// continuation, control and wide characters, huge numbers.
const PIECES: &[&str] = &[
    " ",
    "who",
    "can",
    "reach",
    "what",
    "why",
    "not",
    "with",
    "permission",
    "in",
    "project",
    "direct",
    "via",
    "of",
    "type",
    "members",
    "groups",
    "show",
    "find",
    "count",
    "limit",
    "expect",
    "none",
    "outside",
    "cannot",
    "reaches",
    "includes",
    "excludes",
    "person",
    "owns",
    "manager",
    "reports",
    "stats",
    "cycles",
    "help",
    "format",
    "load",
    "save",
    "quit",
    "id:",
    "/",
    "{",
    "}",
    ",",
    "=",
    "!=",
    "<=",
    ">",
    "\"",
    "\\",
    "\\\n",
    "\n",
    "#",
    ";",
    "0",
    "18446744073709551616",
    "-1",
    "\u{0}",
    "\u{1b}[2K",
    "\r",
    "\t",
    "é",
    "𝔘",
    "\u{202e}",
];

/// Cases found by earlier runs, kept as fixtures.
const FOUND: &[&str] = &[
    "why not",
    "expect count why x y >= 18446744073709551616",
    "{",
];

fn engine_for(csv: &str) -> AccessGraph {
    let path = format!("{}/{csv}", env!("CARGO_MANIFEST_DIR"));
    let rows = std::fs::read(&path).unwrap();
    let mut importer = Importer::new();
    importer
        .import_reader(csv.as_ref(), &rows[..], &FileOptions::default())
        .unwrap();
    AccessGraph::new(importer.finish().0)
}

/// Statements evaluated, over every case: the run must reach the engine,
/// not only the parser's error path.
static EVALUATED: AtomicUsize = AtomicUsize::new(0);

/// Parses `text` and evaluates every statement; panics are the failure.
fn exercise(engine: &Engine, text: &str) {
    let Ok(statements) = whocan::query::parse::parse_script(text) else {
        // The error must render against the text it came from.
        if let Err(e) = whocan::query::parse::parse_script(text) {
            drop(e.render("fuzz", text));
        }
        return;
    };
    for st in &statements {
        EVALUATED.fetch_add(1, Ordering::Relaxed);
        match &st.statement {
            Statement::Ask(ask) => match engine.eval(ask) {
                Ok(ev) => {
                    for f in OutputFormat::ALL {
                        let _ = ev.answer.write(f, &mut Vec::new(), &mut Vec::new());
                    }
                }
                Err(e) => drop(e.render("fuzz", text)),
            },
            Statement::Expect(x) => {
                if let Err(e) = engine.check(x) {
                    drop(e.render("fuzz", text));
                }
            }
            _ => {}
        }
    }
}

/// One edit of a statement's characters.
#[derive(Clone, Debug)]
enum Edit {
    Delete(usize, usize),
    Insert(usize, usize),
    Duplicate(usize, usize),
    Swap(usize, usize),
    Truncate(usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), 1usize..6).prop_map(|(a, n)| Edit::Delete(a, n)),
        (any::<usize>(), 0..PIECES.len()).prop_map(|(a, p)| Edit::Insert(a, p)),
        (any::<usize>(), 1usize..12).prop_map(|(a, n)| Edit::Duplicate(a, n)),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Edit::Swap(a, b)),
        any::<usize>().prop_map(Edit::Truncate),
    ]
}

fn apply(text: &str, edits: &[Edit]) -> String {
    let mut c: Vec<char> = text.chars().collect();
    for e in edits {
        let at = |a: usize, c: &Vec<char>| if c.is_empty() { 0 } else { a % (c.len() + 1) };
        match *e {
            Edit::Delete(a, n) => {
                let a = at(a, &c);
                let b = (a + n).min(c.len());
                c.drain(a..b);
            }
            Edit::Insert(a, p) => {
                let a = at(a, &c);
                c.splice(a..a, PIECES[p].chars());
            }
            Edit::Duplicate(a, n) => {
                let a = at(a, &c);
                let b = (a + n).min(c.len());
                let copy: Vec<char> = c[a..b].to_vec();
                c.splice(b..b, copy);
            }
            Edit::Swap(a, b) => {
                if !c.is_empty() {
                    let (a, b) = (a % c.len(), b % c.len());
                    c.swap(a, b);
                }
            }
            Edit::Truncate(a) => {
                let a = at(a, &c);
                c.truncate(a);
            }
        }
    }
    c.into_iter().collect()
}

/// What one case runs: (fixture, text).
fn case(sources: Vec<Vec<String>>) -> impl Strategy<Value = (usize, String)> {
    let sources = std::sync::Arc::new(sources);
    let mutated = {
        let sources = sources.clone();
        (
            0..FILES.len(),
            any::<usize>(),
            1usize..4,
            proptest::collection::vec(edit(), 0..4),
        )
            .prop_map(move |(f, at, n, edits)| {
                // A run of consecutive statements (or lines) of the file.
                let lines = &sources[f];
                let start = at % lines.len();
                let end = (start + n).min(lines.len());
                (f, apply(&lines[start..end].join("\n"), &edits))
            })
    };
    let pieces = (
        0..FILES.len(),
        proptest::collection::vec(0..PIECES.len(), 0..16),
    )
        .prop_map(|(f, p)| (f, p.into_iter().map(|i| PIECES[i]).collect::<String>()));
    let random = (0..FILES.len(), "\\PC{0,60}");
    let bytes = (
        0..FILES.len(),
        proptest::collection::vec(any::<u8>(), 0..60),
    )
        .prop_map(|(f, b)| (f, String::from_utf8_lossy(&b).into_owned()));
    prop_oneof![6 => mutated, 2 => pieces, 1 => random, 1 => bytes]
}

#[test]
fn fuzz_query_text_never_panics() {
    let graphs: Vec<AccessGraph> = FILES.iter().map(|(_, csv)| engine_for(csv)).collect();
    let engines: Vec<Engine> = graphs.iter().map(Engine::new).collect();
    let sources: Vec<Vec<String>> = FILES
        .iter()
        .map(|(wq, _)| {
            let text =
                std::fs::read_to_string(format!("{}/{wq}", env!("CARGO_MANIFEST_DIR"))).unwrap();
            // Every query file parses and runs as it stands.
            assert!(whocan::query::parse::parse_script(&text).is_ok(), "{wq}");
            text.lines()
                .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
                .map(String::from)
                .collect()
        })
        .collect();
    for (engine, (wq, _)) in engines.iter().zip(FILES) {
        let text = std::fs::read_to_string(format!("{}/{wq}", env!("CARGO_MANIFEST_DIR"))).unwrap();
        exercise(engine, &text);
        for found in FOUND {
            exercise(engine, found);
        }
    }
    let config = Config {
        cases: 20_000,
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner =
        TestRunner::new_with_rng(config, TestRng::deterministic_rng(RngAlgorithm::ChaCha));
    runner
        .run(&case(sources), |(f, text)| {
            exercise(&engines[f], &text);
            common::within_peak_limit().map_err(TestCaseError::fail)
        })
        .unwrap();
    let evaluated = EVALUATED.load(Ordering::Relaxed);
    assert!(evaluated > 5_000, "only {evaluated} statements evaluated");
}
