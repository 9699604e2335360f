//! `whocan generate`: deterministic, and everything it writes imports.

use crate::golden_cases;
use crate::harness::whocan;

golden_cases! { "generate":
    tiny => ["generate", "--scale", "tiny", "--seed", "7"],
    unknown_scale => ["generate", "--scale", "enormous"],
}

#[test]
fn generated_organisation_imports_without_rejections() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("small.csv");
    let run = whocan(&[
        "generate",
        "--scale",
        "small",
        "--seed",
        "3",
        "-o",
        file.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = whocan(&["import", file.to_str().unwrap(), "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["totals"]["rows_rejected"], 0, "{}", run.stdout);
    assert!(report["totals"]["rows_read"].as_u64().unwrap() > 5_000);
    assert!(
        report["edges"]["false"].as_u64().unwrap() > 0,
        "some false edges"
    );
    let stats = whocan(&["stats", file.to_str().unwrap(), "--format", "json"]);
    let stats: serde_json::Value = serde_json::from_str(&stats.stdout).unwrap();
    let cycles = stats
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["metric"] == "nesting cycles")
        .expect("stats lists nesting cycles");
    assert!(
        cycles["value"].as_u64().unwrap() > 0,
        "the generator nests with cycles"
    );
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    let a = whocan(&["generate", "--scale", "tiny", "--seed", "11"]).stdout;
    let b = whocan(&["generate", "--scale", "tiny", "--seed", "11"]).stdout;
    let c = whocan(&["generate", "--scale", "tiny", "--seed", "12"]).stdout;
    assert_eq!(a, b);
    assert_ne!(a, c);
}
