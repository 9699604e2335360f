//! `whocan run QUERYFILE --data FILES…`: run a query file in CI.
//!
//! Queries print their answers under a `# FILE:LINE: query` heading;
//! expectations print only when they fail, with file and line. Ends with
//! `N passed, N failed`. Exit 0 when every expectation holds, 1 when one
//! fails (or cannot be evaluated: an unknown or ambiguous entity), 2 on a
//! syntax error or bad input, before anything runs.

use std::io;
use std::path::PathBuf;

use clap::Args;

use super::query::QueryOutputArgs;
use super::{DataArgs, DataOptions, Failure, Outcome, Output, load, written};
use crate::query::Engine;
use crate::query::ast::{OutputFormat, Statement};
use crate::query::parse::parse_script;
use crate::repl::{Executed, execute};

/// Arguments of `whocan run`.
#[derive(Args, Debug)]
pub struct RunArgs {
    /// The query file (`queries/*.wq`).
    #[arg(value_name = "QUERYFILE")]
    query_file: PathBuf,
    /// Input files, as for every other command: 19-column CSV (`-` for
    /// stdin), `FILE.csv:MAPPING.toml` pairs, or a snapshot.
    #[arg(long, required = true, num_args = 1.., value_name = "FILES")]
    data: Vec<PathBuf>,
    #[command(flatten)]
    options: DataOptions,
    #[command(flatten)]
    output: QueryOutputArgs,
}

pub fn run(args: RunArgs) -> Outcome {
    let name = args.query_file.display().to_string();
    crate::atomic::note_input(&args.query_file);
    let text = std::fs::read_to_string(&args.query_file)
        .map_err(|e| Failure::input(format!("{name}: cannot read: {e}")))?;
    let statements = parse_script(&text).map_err(|e| Failure::input(e.render(&name, &text)))?;
    for st in &statements {
        if matches!(st.statement, Statement::Load(_) | Statement::Save(_)) {
            return Err(Failure::input(format!(
                "{name}:{}:{}: `{}` is only available at the prompt; give data with --data",
                st.pos.line, st.pos.column, st.text
            )));
        }
    }
    let (graph, _) = load(&DataArgs {
        files: args.data.clone(),
        options: args.options.clone(),
    })?;
    let engine = Engine::new(&graph);
    let mut out = Output::open(args.output.output.as_deref())?;
    let mut format = args.output.format();
    let (mut passed, mut failed) = (0u64, 0u64);
    for st in &statements {
        if matches!(st.statement, Statement::Ask(_)) && format == OutputFormat::Table {
            written(writeln!(
                out.writer(),
                "# {name}:{}: {}",
                st.pos.line,
                st.text
            ))?;
        }
        let executed = execute(&engine, st, &mut format, out.writer(), &mut io::stderr())
            .map_err(|e| Failure::input(format!("cannot write output: {e}")))?;
        let w = out.writer();
        match executed {
            Executed::Done => {
                if matches!(st.statement, Statement::Ask(_)) && format == OutputFormat::Table {
                    written(writeln!(w))?;
                }
            }
            Executed::Expect(v) if v.passed => passed += 1,
            Executed::Expect(v) => {
                failed += 1;
                written(writeln!(
                    w,
                    "{name}:{}: FAILED: {}\n    {}",
                    st.pos.line, st.text, v.detail
                ))?;
            }
            Executed::Error(e) => {
                failed += 1;
                written(writeln!(w, "{}", e.render(&name, &text)))?;
            }
            Executed::Load(_) | Executed::Save(_) => unreachable!("refused above"),
            Executed::Quit => break,
        }
    }
    written(writeln!(out.writer(), "{passed} passed, {failed} failed"))?;
    out.finish()?;
    Ok(if failed > 0 { 1 } else { 0 })
}
