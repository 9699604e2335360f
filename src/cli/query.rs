//! `whocan query FILES… -e 'QUERY'`: answer queries once, for scripts.
//!
//! Each `-e` may hold several statements (`;` or newlines). Answers go to
//! stdout (or `-o FILE`) in `--format`; errors go to stderr with the
//! position in the expression. Exit 0, 1 when an `expect` fails, 2 on a bad
//! query or bad input.

use std::io;
use std::path::PathBuf;

use clap::Args;

use super::results::{Document, Shape};
use super::{DataArgs, Failure, Outcome, Output, load, written};
use whocan::query::Engine;
use whocan::query::ast::{Located, OutputFormat};
use whocan::query::parse::parse_script;
use whocan::query::session::{Executed, Results, Style, execute};

/// Output options of the query commands: the table formats plus pictures.
#[derive(Args, Debug, Clone)]
pub struct QueryOutputArgs {
    /// Output format; dot and mermaid draw `why` and `members` (default:
    /// from -o FILE's extension: .csv, .json, .jsonl / .ndjson, .txt, .dot /
    /// .gv, .mmd / .mermaid; else table).
    #[arg(long, value_enum)]
    pub format: Option<OutputFormat>,
    /// Write to FILE instead of stdout (replaced atomically; never an input).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

impl QueryOutputArgs {
    /// The starting format: `--format`, else the one `-o FILE`'s extension
    /// names, else table (see [`super::chosen_format`]).
    pub fn format(&self) -> OutputFormat {
        super::chosen_format(self.format, self.output.as_deref(), super::Shape::Answer)
    }
}

/// Arguments of `whocan query`.
#[derive(Args, Debug)]
pub struct QueryArgs {
    #[command(flatten)]
    data: DataArgs,
    /// The query (repeat for several; see `whocan shell` and `help` for the
    /// language). With `--format json` the run prints one JSON array of
    /// `{statement, line, answer}`; with `jsonl`, one such object per line.
    #[arg(short = 'e', long = "expr", value_name = "QUERY", required = true)]
    expr: Vec<String>,
    #[command(flatten)]
    output: QueryOutputArgs,
}

/// Runs `whocan query -e …`.
pub fn run(args: QueryArgs) -> Outcome {
    // Parse first: a typo should not cost an import.
    let mut parsed: Vec<(String, Vec<Located>)> = Vec::new();
    for e in &args.expr {
        match parse_script(e) {
            Ok(s) => parsed.push((e.clone(), s)),
            Err(err) => return Err(Failure::input(err.render("query", e))),
        }
    }
    let (graph, _) = load(&args.data)?;
    let engine = Engine::new(&graph);
    run_statements(&engine, &parsed, &args.output, false)
}

/// Runs parsed statements, printing answers; shared with `whocan why`.
///
/// With `--format json` the whole run is one JSON document, an array of
/// `{statement, line, answer}` (an `expect` gives `passed` and `detail`
/// instead of `answer`); with `jsonl`, one such object per line. `why`, one
/// question by construction, prints its answer alone (`single`).
pub fn run_statements(
    engine: &Engine,
    parsed: &[(String, Vec<Located>)],
    output: &QueryOutputArgs,
    single: bool,
) -> Outcome {
    let mut out = Output::open(output.output.as_deref())?;
    let mut format = output.format();
    let mut doc = Document::new(Shape::Items);
    let mut results = Results::new(Style::Each);
    let mut first = true;
    'run: for (source, statements) in parsed {
        for st in statements {
            if !first && format == OutputFormat::Table {
                // A JSON document left by a `format` statement ends first.
                written(doc.close(out.writer()))?;
                written(out.writer().write_all(b"\n"))?;
            }
            first = false;
            let executed = if single {
                execute(engine, st, &mut format, out.writer(), &mut io::stderr())
            } else {
                doc.execute(engine, st, &mut format, out.writer())
            };
            match executed {
                Err(e) => return Err(Failure::input(format!("cannot write output: {e}"))),
                Ok(Executed::Done) => {}
                Ok(Executed::Expect(v)) => {
                    let line = results.verdict(st, &v);
                    let w = out.writer();
                    if Document::frames(format) && !single {
                        written(doc.verdict(w, format, st, v.passed, &v.detail))?;
                    } else if let Some(line) = line {
                        written(w.write_all(line.as_bytes()))?;
                    }
                }
                Ok(Executed::Error(e)) => {
                    written(doc.finish(out.writer(), format, None))?;
                    out.finish()?;
                    return Err(Failure::input(results.error(&e, "query", source, 1)));
                }
                Ok(Executed::Load(_) | Executed::Save(_)) => {
                    written(doc.finish(out.writer(), format, None))?;
                    out.finish()?;
                    return Err(Failure::input(format!(
                        "query:{}:{}: `{}` is only available at the prompt (`whocan shell`)",
                        st.pos.line, st.pos.column, st.text
                    )));
                }
                Ok(Executed::Quit) => break 'run,
            }
        }
    }
    if !single {
        written(doc.finish(out.writer(), format, None))?;
    }
    out.finish()?;
    Ok(results.code())
}
