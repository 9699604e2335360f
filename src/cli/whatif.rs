//! `whocan whatif FILES… --remove 'Y -> G' --add 'Y -> G [P]'
//! --remove-connection G`: the access changes the edits would make, as the
//! query language's `what if` answers them (`whocan::whatif`: the loaded
//! graph is never modified). This module turns the flags into edits, prints
//! the rows and picks the exit code for `--fail-on`.

use clap::Args;

use super::{DataArgs, Failure, Outcome, Output, OutputArgs, Shape, load, written};
use whocan::diff::ChangeKind;
use whocan::query::ast::{EntityRef, GraphChange, Pos, RefForm, Word};
use whocan::query::{Engine, WHATIF_COLUMNS, whatif_row, whatif_summary};
use whocan::report::{Cell, Format, RowWriter};

/// Arguments of `whocan whatif`.
#[derive(Args, Debug)]
#[command(after_help = "\
Each edit names entities as the query language does (id, name, source/id, id:VALUE):
  --remove 'alice -> Engineering'     every edge alice -> Engineering
  --remove-connection DBA-Team        the connection and every edge into or out of it
  --add 'carol -> DBA-Team'           a granted edge (permission member into a connection,
  --add 'carol -> prod-db [admin]'    access into anything else, unless given in brackets)
Edits apply together. Rows are the diff's access changes (granted, revoked, re-attributed,
providers before and after) of the identities whose access the edits reach; `kept` says
\"kept through another path\" when a provider was lost but the access is still held.
Same as the prompt's: what if remove alice from Engineering, remove DBA-Team")]
pub struct WhatIfArgs {
    #[command(flatten)]
    data: DataArgs,
    /// Remove every edge Y -> G (`'Y -> G'`); may be repeated.
    #[arg(long = "remove", value_name = "'Y -> G'")]
    remove: Vec<String>,
    /// Add a granted edge Y -> G, optionally with a permission in brackets
    /// (`'Y -> G [P]'`); may be repeated.
    #[arg(long = "add", value_name = "'Y -> G [P]'")]
    add: Vec<String>,
    /// Remove a connection (or any entity) and all its edges; may be
    /// repeated.
    #[arg(long = "remove-connection", value_name = "G")]
    remove_connection: Vec<String>,
    /// Exit 1 when changes of these kinds would happen (comma-separated:
    /// granted, revoked, re-attributed).
    #[arg(long, value_delimiter = ',', value_name = "KINDS")]
    fail_on: Vec<ChangeKind>,
    #[command(flatten)]
    output: OutputArgs,
}

/// An entity reference typed on the command line, at `column` of its flag's
/// text.
fn reference(text: &str, column: usize) -> EntityRef {
    let form = if let Some(id) = text.strip_prefix("id:") {
        return EntityRef {
            form: RefForm::Id,
            text: id.to_string(),
            pos: Pos {
                line: 1,
                column: column as u32,
            },
            width: text.chars().count() as u32,
        };
    } else if text.chars().any(char::is_whitespace) {
        RefForm::Quoted
    } else {
        RefForm::Word
    };
    EntityRef {
        form,
        text: text.to_string(),
        pos: Pos {
            line: 1,
            column: column as u32,
        },
        width: text.chars().count().max(1) as u32,
    }
}

/// `Y -> G` (and, with `permission`, an optional `[P]` after G) as
/// references.
fn pair(
    flag: &str,
    spec: &str,
    permission: bool,
) -> Result<(EntityRef, EntityRef, Option<Word>), Failure> {
    let bad = || {
        Failure::input(format!(
            "{flag} {spec:?}: expected 'Y -> G'{}",
            if permission { " or 'Y -> G [P]'" } else { "" }
        ))
    };
    let (y, rest) = spec.split_once("->").ok_or_else(bad)?;
    let col = |part: &str| spec[..spec.len() - part.len()].chars().count() + 1;
    let mut g = rest.trim();
    let mut p = None;
    if permission && g.ends_with(']') {
        if let Some(open) = g.rfind('[') {
            let inner = g[open + 1..g.len() - 1].trim();
            if inner.is_empty() {
                return Err(bad());
            }
            p = Some(Word {
                text: inner.to_string(),
                pos: Pos {
                    line: 1,
                    column: col(&rest[rest.find('[').unwrap_or(0)..]) as u32,
                },
            });
            g = g[..open].trim();
        }
    }
    let y = y.trim();
    if y.is_empty() || g.is_empty() {
        return Err(bad());
    }
    let y_at = col(spec.trim_start());
    let g_at = col(rest.trim_start());
    Ok((reference(y, y_at), reference(g, g_at), p))
}

/// Runs `whocan whatif`.
pub fn run(args: WhatIfArgs) -> Outcome {
    // Parsed before loading: a malformed edit is bad usage, whatever the
    // data.
    let mut changes: Vec<(String, String, GraphChange)> = Vec::new();
    for spec in &args.remove {
        let (member, group, _) = pair("--remove", spec, false)?;
        changes.push((
            "--remove".into(),
            spec.clone(),
            GraphChange::Unlink { member, group },
        ));
    }
    for spec in &args.remove_connection {
        let entity = reference(spec.trim(), 1);
        changes.push((
            "--remove-connection".into(),
            spec.clone(),
            GraphChange::Remove { entity },
        ));
    }
    for spec in &args.add {
        let (member, group, permission) = pair("--add", spec, true)?;
        changes.push((
            "--add".into(),
            spec.clone(),
            GraphChange::Link {
                member,
                group,
                permission,
            },
        ));
    }
    if changes.is_empty() {
        return Err(Failure::input(
            "nothing to change: give --remove 'Y -> G', --add 'Y -> G [P]' or --remove-connection G",
        ));
    }
    let (graph, _) = load(&args.data)?;
    let engine = Engine::new(&graph);
    // Each edit resolved on its own first, so an error names its flag.
    for (flag, spec, change) in &changes {
        if let Err(e) = engine.edits(std::slice::from_ref(change)) {
            return Err(Failure::input(e.render(flag, spec)));
        }
    }
    let all: Vec<GraphChange> = changes.into_iter().map(|(_, _, c)| c).collect();
    let edits = engine
        .edits(&all)
        .map_err(|e| Failure::input(e.to_string()))?;
    let outcome = whocan::whatif::what_if(engine.expansion(), &edits);
    let format = args.output.format(Shape::Report);
    let summary = whatif_summary(&outcome);
    if format != Format::Table {
        super::note(&summary);
    }
    let mut out = Output::open(args.output.output.as_deref())?;
    let result = (|| -> std::io::Result<()> {
        let w = out.writer();
        let mut sink = RowWriter::new(&WHATIF_COLUMNS, format, w)?;
        for c in &outcome.changes {
            let values = whatif_row(c);
            let cells: Vec<Cell<'_>> = values.iter().map(Cell::from).collect();
            sink.row(&cells)?;
        }
        sink.finish()?;
        if format == Format::Table {
            writeln!(w, "{summary}")?;
        }
        Ok(())
    })();
    written(result)?;
    out.finish()?;
    let failed = args
        .fail_on
        .iter()
        .any(|&k| outcome.changes.iter().any(|c| c.kind == k));
    Ok(if failed { 1 } else { 0 })
}
