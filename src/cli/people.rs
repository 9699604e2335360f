//! `whocan people unmapped FILES… [-o FILE]`: the CSV of identities linked
//! to no employee, for a person to fill in and load back with
//! `--people-map`.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::{DataArgs, Outcome, Output, load, written};
use whocan::people::People;

/// People subcommands.
#[derive(Subcommand, Debug)]
pub enum PeopleCommand {
    /// Write the unmapped identities as CSV (Source, Identity ID, Identity
    /// Name, Username, Email, Employee Email, Relation), sorted by source and
    /// id, with Employee Email and Relation (IS or OWNS) left to fill in.
    Unmapped(UnmappedArgs),
}

/// Arguments of `whocan people unmapped`.
#[derive(Args, Debug)]
pub struct UnmappedArgs {
    #[command(flatten)]
    data: DataArgs,
    /// Write to FILE instead of stdout (replaced atomically).
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
}

/// Runs `whocan people …`.
pub fn run(cmd: PeopleCommand) -> Outcome {
    match cmd {
        PeopleCommand::Unmapped(args) => {
            let (graph, _) = load(&args.data)?;
            let model = graph.model();
            let people = People::new(model);
            let mut out = Output::open(args.output.as_deref())?;
            written(whocan::report::people::write_unmapped(
                &people,
                model,
                out.writer(),
            ))?;
            out.finish()?;
            Ok(0)
        }
    }
}
