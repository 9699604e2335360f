//! `whocan bench-queries FILES… --count N --seed S`: time interactive
//! questions in-process and print one JSON object.
//!
//! Loads once, builds the query engine once, then answers `count` random
//! `who can reach`, `what can … reach` and `why` questions, picked
//! deterministically from the seed, timing each (resolution, evaluation and
//! building the answer's rows; not printing). A benchmark, not a test: it
//! reads the clock.

use std::time::Instant;

use clap::Args;
use serde_json::json;

use super::{DataArgs, Failure, Outcome, load};
use whocan::model::{EntityIdx, Kind};
use whocan::query::Engine;
use whocan::query::ast::{Ask, EntityRef, Pos, Query, RefForm, Route};

/// Arguments of `whocan bench-queries`.
#[derive(Args, Debug)]
pub struct BenchArgs {
    #[command(flatten)]
    data: DataArgs,
    /// Questions of each kind (1 to 1,000,000).
    #[arg(
        long,
        default_value_t = 1000,
        value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=1_000_000)
    )]
    count: usize,
    /// Seed for picking identities and targets (any 64-bit unsigned number).
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

/// splitmix64: small, deterministic, good enough to pick samples.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[(self.next() % items.len() as u64) as usize]
    }
}

fn summary(mut ms: Vec<f64>) -> serde_json::Value {
    if ms.is_empty() {
        return json!(null);
    }
    ms.sort_by(|a, b| a.total_cmp(b));
    let at = |q: f64| ms[((ms.len() as f64 * q).ceil() as usize).clamp(1, ms.len()) - 1];
    json!({
        "n": ms.len(),
        "median_ms": round(at(0.5)),
        "p99_ms": round(at(0.99)),
        "max_ms": round(ms[ms.len() - 1]),
        "mean_ms": round(ms.iter().sum::<f64>() / ms.len() as f64),
    })
}

fn round(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn by_id(engine: &Engine, e: EntityIdx) -> EntityRef {
    let m = engine.graph().model();
    let ent = m.entity(e);
    EntityRef {
        form: RefForm::Word,
        text: format!("{}/{}", m.str(ent.source), m.str(ent.id)),
        pos: Pos { line: 1, column: 1 },
        width: 1,
    }
}

/// Runs `whocan bench-queries`: timed who / what / why questions, as JSON.
pub fn run(args: BenchArgs) -> Outcome {
    let t0 = Instant::now();
    let (graph, _) = load(&args.data)?;
    let load_ms = t0.elapsed().as_secs_f64() * 1e3;
    let t1 = Instant::now();
    let engine = Engine::new(&graph);
    let index_ms = t1.elapsed().as_secs_f64() * 1e3;
    let m = graph.model();
    let identities: Vec<EntityIdx> = engine.expansion().identities().to_vec();
    let targets: Vec<EntityIdx> = (0..m.entities.len() as EntityIdx)
        .filter(|&e| m.entity(e).kind != Kind::Identity)
        .collect();
    if identities.is_empty() || targets.is_empty() {
        return Err(Failure::input("bench-queries needs identities and targets"));
    }
    let mut rng = Rng(args.seed);
    let ask = |query: Query| Ask {
        query,
        count: false,
        limit: None,
    };
    let time = |a: &Ask| -> Option<f64> {
        let t = Instant::now();
        let r = engine.eval(a);
        let ms = t.elapsed().as_secs_f64() * 1e3;
        // An ambiguous pick (same source/id path) is skipped, not timed.
        r.ok().map(|_| ms)
    };
    let (mut who, mut what, mut why) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..args.count {
        let x = rng.pick(&targets);
        who.extend(time(&ask(Query::Who {
            target: by_id(&engine, x),
            permission: None,
            project: None,
            route: Route::Any,
        })));
        let y = rng.pick(&identities);
        what.extend(time(&ask(Query::What {
            identity: by_id(&engine, y),
            permission: None,
            of_type: None,
        })));
        // Ask why about something the identity does reach when it reaches
        // anything (picked untimed), else about a random target.
        let y = rng.pick(&identities);
        let grants = engine.expansion().grants_of(y);
        let x = if grants.is_empty() {
            rng.pick(&targets)
        } else {
            grants[(rng.next() % grants.len() as u64) as usize].target
        };
        why.extend(time(&ask(Query::Why {
            not: false,
            identity: by_id(&engine, y),
            target: by_id(&engine, x),
            permission: None,
        })));
    }
    let report = json!({
        "entities": m.entities.len(),
        "edges": m.edges.len(),
        "count": args.count,
        "seed": args.seed,
        "load_ms": round(load_ms),
        "index_ms": round(index_ms),
        "who": summary(who),
        "what": summary(what),
        "why": summary(why),
    });
    println!("{report}");
    Ok(0)
}
