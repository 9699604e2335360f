//! `whocan report access FILES… [--by identity|employee|manager]`: the
//! effective-access report, per identity (the default) or per person.

use clap::{Args, Subcommand, ValueEnum};

use super::{DataArgs, Outcome, Output, OutputArgs, Progress, Shape, load, written};
use whocan::expand::Expansion;
use whocan::people::People;

/// Report kinds.
#[derive(Subcommand, Debug)]
pub enum ReportCommand {
    /// Every identity's effective access with its provider: one row per
    /// (identity, target, permission, provider), sorted by identity id,
    /// target id, permission, provider id. `--by employee` / `--by manager`
    /// report it per person instead (see README, "People").
    Access(AccessArgs),
}

/// Whose access each row is listed under.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum By {
    /// One row per identity, target, permission and provider.
    Identity,
    /// Each HRIS employee's access through the identities they IS and the
    /// service accounts they OWN (`relation` column).
    Employee,
    /// Each manager's direct and indirect reports' access.
    Manager,
}

/// Arguments of `whocan report access`.
#[derive(Args, Debug)]
pub struct AccessArgs {
    #[command(flatten)]
    data: DataArgs,
    #[command(flatten)]
    output: OutputArgs,
    /// Whose access each row is listed under.
    #[arg(long, value_enum, default_value_t = By::Identity)]
    by: By,
}

/// Runs `whocan report access`.
pub fn run(cmd: ReportCommand) -> Outcome {
    match cmd {
        ReportCommand::Access(args) => {
            let (graph, _) = load(&args.data)?;
            let progress = Progress::start("expanding");
            let expansion = Expansion::new(&graph);
            progress.set("expanding and writing");
            let format = args.output.format(Shape::Report);
            let mut out = Output::open(args.output.output.as_deref())?;
            match args.by {
                By::Identity => {
                    progress.bar(expansion.identities().len() as u64, "identities");
                    written(whocan::report::access::write_with_progress(
                        &expansion,
                        format,
                        out.writer(),
                        &mut |p| {
                            progress.advance(p.identities, || {
                                format!("{} rows written", indicatif::HumanCount(p.grants))
                            })
                        },
                    ))?
                }
                By::Employee | By::Manager => {
                    let people = People::new(graph.model());
                    let write = if args.by == By::Employee {
                        whocan::report::people::write_by_employee
                    } else {
                        whocan::report::people::write_by_manager
                    };
                    written(write(&expansion, &people, format, out.writer()))?
                }
            }
            out.finish()?;
            Ok(0)
        }
    }
}
