//! `whocan shell FILES…`: the interactive prompt (see [`crate::repl`]).

use std::path::PathBuf;

use clap::Args;

use super::{DataArgs, Outcome, load};
use crate::repl::{self, ShellOptions};
use whocan::query::ast::OutputFormat;

/// Arguments of `whocan shell`.
#[derive(Args, Debug)]
pub struct ShellArgs {
    #[command(flatten)]
    data: DataArgs,
    /// History file (default: $WHOCAN_HISTORY, else ~/.whocan_history).
    #[arg(long, value_name = "FILE")]
    history: Option<PathBuf>,
    /// Keep no history.
    #[arg(long, conflicts_with = "history")]
    no_history: bool,
    /// Starting output format (`format` at the prompt changes it).
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    format: OutputFormat,
}

fn default_history() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("WHOCAN_HISTORY").filter(|p| !p.is_empty()) {
        return Some(p.into());
    }
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(|h| PathBuf::from(h).join(".whocan_history"))
}

/// Runs `whocan shell`: the prompt.
pub fn run(args: ShellArgs) -> Outcome {
    let (graph, report) = load(&args.data)?;
    let options = args.data.options.clone();
    let loader = move |files: &[PathBuf]| {
        load(&DataArgs {
            files: files.to_vec(),
            options: options.clone(),
        })
        .map_err(|f| f.message)
    };
    let history = if args.no_history {
        None
    } else {
        args.history.or_else(default_history)
    };
    Ok(repl::run(
        graph,
        report,
        &loader,
        ShellOptions {
            history,
            format: args.format,
        },
    ))
}
