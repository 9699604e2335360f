//! `whocan stats FILES…`: what the loaded graph holds.

use clap::Args;
use serde_json::json;

use super::{DataArgs, Outcome, Output, OutputArgs, Shape, load, written};
use whocan::expand::Expansion;
use whocan::model::Kind;
use whocan::report::Table;

/// Arguments of `whocan stats`.
#[derive(Args, Debug)]
pub struct StatsArgs {
    #[command(flatten)]
    data: DataArgs,
    #[command(flatten)]
    output: OutputArgs,
    /// Also count effective grants (runs the whole expansion).
    #[arg(long)]
    grants: bool,
}

/// Runs `whocan stats`.
pub fn run(args: StatsArgs) -> Outcome {
    let (graph, report) = load(&args.data)?;
    let m = graph.model();
    let mut t = Table::new(&["metric", "value"]);
    let mut row = |k: &str, v: serde_json::Value| t.push(vec![json!(k), v]);
    row("sources", json!(m.sources.len()));
    row("rows read", json!(report.rows_read()));
    row("rows accepted", json!(report.rows_accepted()));
    row("rows rejected", json!(report.rows_rejected()));
    row("entities", json!(m.entities.len()));
    for kind in Kind::ALL {
        let n = m.entities.iter().filter(|e| e.kind == kind).count();
        row(&format!("entities: {kind}"), json!(n));
    }
    let granted = m.edges.iter().filter(|e| e.granted).count();
    row("edges", json!(m.edges.len()));
    row("edges: granted", json!(granted));
    row("edges: false", json!(m.edges.len() - granted));
    row("conflicts", json!(m.conflicts.len()));
    let cycles = graph.cycles();
    row("nesting cycles", json!(cycles.len()));
    for (i, cycle) in cycles.iter().enumerate() {
        let names: Vec<String> = cycle
            .iter()
            .map(|&e| {
                let e = m.entity(e);
                format!("{} ({})", m.str(e.name), m.str(e.id))
            })
            .collect();
        row(&format!("cycle {}", i + 1), json!(names.join(", ")));
    }
    if args.grants {
        let expansion = Expansion::new(&graph);
        row("effective grants", json!(expansion.count()));
    }
    let mut out = Output::open(args.output.output.as_deref())?;
    written(t.write(args.output.format(Shape::Answer), out.writer()))?;
    out.finish()?;
    Ok(0)
}
