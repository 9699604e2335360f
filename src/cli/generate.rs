//! `whocan generate`: write a deterministic synthetic organisation in the
//! 19-column format, for benchmarks and demos.

use clap::Args;

use super::{Failure, Outcome, Output, written};
use whocan::generate::{GenerateConfig, GenerateStats, generate, generate_dense};

/// Arguments of `whocan generate`.
#[derive(Args, Debug)]
pub struct GenerateArgs {
    /// Size preset: tiny, small, medium (~1M rows), large (~5M rows).
    #[arg(long, default_value = "small", conflicts_with = "rows")]
    scale: String,
    /// Approximate number of rows (scales the medium shape; 1 to
    /// 1,000,000,000).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=1_000_000_000))]
    rows: Option<u64>,
    /// Seed: the same seed gives byte-identical output (any 64-bit
    /// unsigned number).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// `org` (default): the realistic organisation the scale describes;
    /// `dense`: --identities identities all in one group that grants
    /// --resources resources (a report of their product: the shape of
    /// issue 13, 1,100 × 200,000 = 220M rows from an 18.5 MB file).
    #[arg(long, default_value = "org", value_parser = ["org", "dense"])]
    shape: String,
    /// Identities of the dense shape (1 to 100,000,000).
    #[arg(long, default_value_t = 1_100,
          value_parser = clap::value_parser!(u64).range(1..=100_000_000))]
    identities: u64,
    /// Resources of the dense shape (1 to 100,000,000).
    #[arg(long, default_value_t = 200_000,
          value_parser = clap::value_parser!(u64).range(1..=100_000_000))]
    resources: u64,
    /// Write to FILE instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    output: Option<std::path::PathBuf>,
}

/// Runs `whocan generate`.
pub fn run(args: GenerateArgs) -> Outcome {
    if args.shape == "dense" {
        let mut out = Output::open(args.output.as_deref())?;
        let stats = generate_dense(args.identities, args.resources, out.writer());
        return finish(out, stats);
    }
    let cfg = match args.rows {
        Some(rows) => GenerateConfig::with_rows(rows, args.seed),
        None => {
            let mut cfg = GenerateConfig::scale(&args.scale).ok_or_else(|| {
                Failure::input(format!(
                    "unknown scale {:?}: expected tiny, small, medium or large",
                    args.scale
                ))
            })?;
            cfg.seed = args.seed;
            cfg
        }
    };
    let mut out = Output::open(args.output.as_deref())?;
    let stats = generate(&cfg, out.writer());
    finish(out, stats)
}

/// Commits the output and tells what was generated.
fn finish(out: Output, stats: std::io::Result<GenerateStats>) -> Outcome {
    written(
        stats
            .as_ref()
            .map(|_| ())
            .map_err(|e| std::io::Error::new(e.kind(), e.to_string())),
    )?;
    out.finish()?;
    if let Ok(s) = stats {
        super::note(&format!(
            "generated {} rows: {} identities, {} connections, {} resources, {} bytes",
            s.rows, s.identities, s.connections, s.resources, s.bytes
        ));
    }
    Ok(0)
}
