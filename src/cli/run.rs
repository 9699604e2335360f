//! `whocan run QUERYFILE --data FILE…`: run a query file in CI.
//!
//! Queries print their answers under a `# FILE:LINE: query` heading;
//! expectations print only when they fail, with file and line. Ends with
//! `N passed, N failed`. `--format json` prints one document instead
//! (`{file, results, passed, failed}`), `jsonl` one result per line and the
//! counts last; `--junit FILE` also writes JUnit XML. Exit 0 when every expectation holds, 1 when one
//! fails (or cannot be evaluated: an unknown or ambiguous entity), 2 on a
//! syntax error or bad input, before anything runs.

use std::path::PathBuf;

use clap::Args;

use super::query::QueryOutputArgs;
use super::results::{Document, JUnit, Shape};
use super::{DataArgs, DataOptions, Failure, Outcome, Output, load, written};
use whocan::query::Engine;
use whocan::query::ast::{OutputFormat, Statement};
use whocan::query::parse::parse_script;
use whocan::query::session::{Executed, Results, Style};

/// Arguments of `whocan run`.
#[derive(Args, Debug)]
pub struct RunArgs {
    /// The query file (`queries/*.wq`).
    #[arg(value_name = "QUERYFILE")]
    query_file: PathBuf,
    /// An input file, as for every other command: 19-column CSV (`-` for
    /// stdin), a `FILE.csv:MAPPING.toml` pair, or a snapshot; `NAME=FILE`
    /// names a CSV's source. Repeat for several files: `--data okta.csv
    /// --data github.csv`.
    #[arg(long, required = true, value_name = "FILE")]
    data: Vec<PathBuf>,
    #[command(flatten)]
    options: DataOptions,
    #[command(flatten)]
    output: QueryOutputArgs,
    /// Also write the results as JUnit XML to FILE, for CI systems: one
    /// testcase per `expect` (and per query that cannot be answered), each
    /// failure with file:line.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
}

/// Runs `whocan run FILE QUERYFILE…`.
pub fn run(args: RunArgs) -> Outcome {
    let name = args.query_file.display().to_string();
    whocan::atomic::note_input(&args.query_file);
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
    let mut doc = Document::new(Shape::Run { file: name.clone() });
    let mut junit = args.junit.as_ref().map(|_| JUnit::new(&name));
    let mut results = Results::new(Style::FailuresIn(name.clone()));
    for st in &statements {
        let heading = matches!(st.statement, Statement::Ask(_)) && format == OutputFormat::Table;
        if heading {
            // A JSON document left by a `format` statement ends first.
            written(doc.close(out.writer()))?;
            written(writeln!(
                out.writer(),
                "# {name}:{}: {}",
                st.pos.line,
                st.text
            ))?;
        }
        let executed = doc
            .execute(&engine, st, &mut format, out.writer())
            .map_err(|e| Failure::input(format!("cannot write output: {e}")))?;
        let w = out.writer();
        let framed = Document::frames(format);
        match executed {
            Executed::Done => {
                if heading {
                    written(writeln!(w))?;
                }
            }
            Executed::Expect(v) => {
                let line = results.verdict(st, &v);
                if let Some(j) = &mut junit {
                    j.verdict(st, v.passed, &v.detail);
                }
                if framed {
                    written(doc.verdict(w, format, st, v.passed, &v.detail))?;
                } else if let Some(line) = line {
                    written(w.write_all(line.as_bytes()))?;
                }
            }
            Executed::Error(e) => {
                let rendered = results.error(&e, &name, &text, 1);
                if let Some(j) = &mut junit {
                    j.error(st, &rendered);
                }
                if framed {
                    written(doc.error(w, format, st, &rendered))?;
                } else {
                    written(writeln!(w, "{rendered}"))?;
                }
            }
            Executed::Load(_) | Executed::Save(_) => unreachable!("refused above"),
            Executed::Quit => break,
        }
    }
    let (passed, failed) = (results.passed(), results.failed());
    if Document::frames(format) {
        written(doc.finish(out.writer(), format, Some((passed, failed))))?;
    } else {
        written(doc.finish(out.writer(), format, None))?;
        written(writeln!(out.writer(), "{passed} passed, {failed} failed"))?;
    }
    out.finish()?;
    if let (Some(path), Some(j)) = (&args.junit, &junit) {
        let mut xml = Output::open(Some(path))?;
        written(j.write(xml.writer()))?;
        xml.finish()?;
    }
    Ok(results.code())
}
