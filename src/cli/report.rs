//! `whocan report access FILES…`: the effective-access report.

use clap::{Args, Subcommand};

use super::{DataArgs, Outcome, Output, OutputArgs, Progress, load, written};
use crate::expand::Expansion;

/// Report kinds.
#[derive(Subcommand, Debug)]
pub enum ReportCommand {
    /// Every identity's effective access with its provider: one row per
    /// (identity, target, permission, provider), sorted by identity id,
    /// target id, permission, provider id.
    Access(AccessArgs),
}

/// Arguments of `whocan report access`.
#[derive(Args, Debug)]
pub struct AccessArgs {
    #[command(flatten)]
    data: DataArgs,
    #[command(flatten)]
    output: OutputArgs,
}

pub fn run(cmd: ReportCommand) -> Outcome {
    match cmd {
        ReportCommand::Access(args) => {
            let (graph, _) = load(&args.data)?;
            let progress = Progress::start("expanding");
            let expansion = Expansion::new(&graph);
            progress.bar(expansion.identities().len() as u64, "identities");
            progress.set("expanding and writing");
            let mut out = Output::open(args.output.output.as_deref())?;
            written(crate::report::access::write_with_progress(
                &expansion,
                args.output.format,
                out.writer(),
                &mut |p| {
                    progress.advance(p.identities, || {
                        format!("{} rows written", indicatif::HumanCount(p.grants))
                    })
                },
            ))?;
            out.finish()?;
            Ok(0)
        }
    }
}
