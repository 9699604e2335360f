//! `whocan bench-whatif FILES… --count N --full K --seed S` (hidden): time
//! single-edge what-if questions in-process against the route a user has
//! without them — edit the model, re-expand everything and diff — and
//! print one JSON object for `bench/run`.
//!
//! Loads once and builds the expansion once, then removes `count` random
//! edges one at a time (each a fresh question on the original graph),
//! timing `whatif::what_if`. For the first `full` of those edges it also
//! builds the edited graph and times the full `diff`, and checks both give
//! the same rows. A benchmark, not a test: it reads the clock.

use std::time::Instant;

use clap::Args;
use serde_json::json;

use super::{DataArgs, Failure, Outcome, load};
use whocan::expand::Expansion;
use whocan::graph::AccessGraph;
use whocan::model::{EntityIdx, Kind};
use whocan::whatif::{Edit, what_if};

/// Arguments of `whocan bench-whatif`.
#[derive(Args, Debug)]
pub struct BenchWhatifArgs {
    #[command(flatten)]
    data: DataArgs,
    /// Single-edge removals to time (1 to 1,000,000).
    #[arg(
        long,
        default_value_t = 1000,
        value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=1_000_000)
    )]
    count: usize,
    /// How many of them also go the full route (edit, re-expand, diff).
    #[arg(
        long,
        default_value_t = 3,
        value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(0..=100)
    )]
    full: usize,
    /// Seed for picking edges (any 64-bit unsigned number).
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

/// splitmix64: small, deterministic, good enough to pick samples.
fn next(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// n, median, p99, max and mean of `v`, the keys suffixed with `unit`.
fn summary(mut v: Vec<f64>, unit: &str) -> serde_json::Value {
    if v.is_empty() {
        return json!(null);
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let at = |q: f64| v[((v.len() as f64 * q).ceil() as usize).clamp(1, v.len()) - 1];
    let mut o = serde_json::Map::new();
    o.insert("n".into(), json!(v.len()));
    o.insert(format!("median{unit}"), json!(round(at(0.5))));
    o.insert(format!("p99{unit}"), json!(round(at(0.99))));
    o.insert(format!("max{unit}"), json!(round(v[v.len() - 1])));
    o.insert(
        format!("mean{unit}"),
        json!(round(v.iter().sum::<f64>() / v.len() as f64)),
    );
    serde_json::Value::Object(o)
}

fn round(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Runs `whocan bench-whatif`.
pub fn run(args: BenchWhatifArgs) -> Outcome {
    let (graph, _) = load(&args.data)?;
    let m = graph.model();
    let t = Instant::now();
    let expansion = Expansion::new(&graph);
    let index_ms = t.elapsed().as_secs_f64() * 1e3;
    // Edges that can carry access: granted, out of an identity or a
    // connection.
    let candidates: Vec<(EntityIdx, EntityIdx)> = m
        .edges
        .iter()
        .filter(|e| e.granted && m.entity(e.from).kind != Kind::Resource)
        .map(|e| (e.from, e.to))
        .collect();
    if candidates.is_empty() {
        return Err(Failure::input("bench-whatif needs granted edges"));
    }
    let mut state = args.seed;
    let picks: Vec<(EntityIdx, EntityIdx)> = (0..args.count)
        .map(|_| candidates[(next(&mut state) % candidates.len() as u64) as usize])
        .collect();
    let (mut times, mut identities, mut changes) = (Vec::new(), Vec::new(), Vec::new());
    let mut answers = Vec::new();
    for (k, &(from, to)) in picks.iter().enumerate() {
        let t = Instant::now();
        let o = what_if(&expansion, &[Edit::Unlink { from, to }]);
        times.push(t.elapsed().as_secs_f64() * 1e3);
        identities.push(o.identities as f64);
        changes.push(o.changes.len() as f64);
        if k < args.full {
            answers.push(o.changes);
        }
    }
    let mut full_ms = Vec::new();
    let mut agree = true;
    for (k, &(from, to)) in picks.iter().take(args.full).enumerate() {
        let mut edited = m.clone();
        edited.edges.retain(|e| (e.from, e.to) != (from, to));
        let t = Instant::now();
        let edited = AccessGraph::new(edited);
        let d = whocan::diff::diff(&graph, &edited);
        full_ms.push(t.elapsed().as_secs_f64() * 1e3);
        agree &= d.access == answers[k];
    }
    let report = json!({
        "entities": m.entities.len(),
        "edges": m.edges.len(),
        "count": args.count,
        "seed": args.seed,
        "index_ms": round(index_ms),
        "whatif": summary(times, "_ms"),
        "identities_reexpanded": summary(identities, ""),
        "changes": summary(changes, ""),
        "full_diff": summary(full_ms, "_ms"),
        "full_agrees": agree,
    });
    println!("{report}");
    Ok(if agree { 0 } else { 1 })
}
