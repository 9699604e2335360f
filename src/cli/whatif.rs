//! `whocan whatif FILES… --remove 'Y -> G' --add 'Y -> G [P]'
//! --remove-connection G`: the access changes the edits would make, as the
//! query language's `what if` answers them (`whocan::whatif`: the loaded
//! graph is never modified). This module turns the flags into edits, prints
//! the rows and picks the exit code for `--fail-on`. `--remove-decisions`
//! reads a review's revocation list (`whocan::review::decisions`) as edge
//! removals.

use clap::Args;

use super::{DataArgs, Failure, Outcome, Output, OutputArgs, Shape, load, written};
use whocan::diff::ChangeKind;
use whocan::graph::AccessGraph;
use whocan::query::ast::{EntityRef, GraphChange, Pos, RefForm, Word};
use whocan::query::{Engine, WHATIF_COLUMNS, whatif_row, whatif_summary};
use whocan::report::{Cell, Format, RowWriter};
use whocan::review::decisions::{self, RevocationList};
use whocan::whatif::Edit;

/// Arguments of `whocan whatif`.
#[derive(Args, Debug)]
#[command(after_help = "\
Each edit names entities as the query language does (id, name, source/id, id:VALUE):
  --remove 'alice -> Engineering'     every edge alice -> Engineering
  --remove-connection DBA-Team        the connection and every edge into or out of it
  --add 'carol -> DBA-Team'           a granted edge (permission member into a connection,
  --add 'carol -> prod-db [admin]'    access into anything else, unless given in brackets)
  --remove-decisions revoke.csv       every edge of a revocation list (review decisions -o)
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
    /// Remove every edge a revocation list names (the CSV `whocan review
    /// decisions … -o revoke.csv` writes: each row's remove_from → remove_to
    /// edge, by source and id); may be repeated.
    #[arg(long = "remove-decisions", value_name = "FILE")]
    remove_decisions: Vec<std::path::PathBuf>,
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

/// Reads the revocation lists of `--remove-decisions`: a file that cannot
/// be read, or any rejected row (file:line:column and reason), is bad input.
fn revocation_lists(paths: &[std::path::PathBuf]) -> Result<RevocationList, Failure> {
    let mut read = RevocationList::default();
    for path in paths {
        whocan::atomic::note_input(path);
        let file = std::fs::File::open(path)
            .map_err(|e| Failure::input(format!("{}: cannot read: {e}", path.display())))?;
        decisions::read_revocations(path, std::io::BufReader::new(file), &mut read)
            .map_err(|e| Failure::input(e.to_string()))?;
    }
    if !read.rejections.is_empty() {
        let lines: Vec<String> = (read.rejections.iter())
            .map(|r| whocan::report::escape_lines(&r.to_string()).into_owned())
            .collect();
        return Err(Failure::input(lines.join("\nwhocan: error: ")));
    }
    Ok(read)
}

/// Each revoked edge as an edit of `graph`: both ends must exist and the
/// edge too, else the list was made on other data (file:line says which row).
fn revoked_edges(graph: &AccessGraph, list: &RevocationList) -> Result<Vec<Edit>, Failure> {
    let mut edits = Vec::with_capacity(list.edges.len());
    for e in &list.edges {
        let at = format!("{}:{}", e.file.display(), e.line);
        let name = |(source, id): &(String, String)| format!("{source}/{id}");
        let find = |end: &(String, String)| {
            graph
                .find(&end.0, &end.1)
                .ok_or_else(|| Failure::input(format!("{at}: no entity {} in the data", name(end))))
        };
        let (from, to) = (find(&e.from)?, find(&e.to)?);
        if !graph.edges_from(from).any(|(_, edge)| edge.to == to) {
            return Err(Failure::input(format!(
                "{at}: {} has no edge to {} in the data: nothing to remove",
                name(&e.from),
                name(&e.to)
            )));
        }
        edits.push(Edit::Unlink { from, to });
    }
    Ok(edits)
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
    let revoked = revocation_lists(&args.remove_decisions)?;
    if changes.is_empty() && revoked.edges.is_empty() {
        return Err(Failure::input(
            "nothing to change: give --remove 'Y -> G', --add 'Y -> G [P]', --remove-connection G or --remove-decisions FILE",
        ));
    }
    let (graph, _) = load(&args.data)?;
    let revoked = revoked_edges(&graph, &revoked)?;
    let engine = Engine::new(&graph);
    // Each edit resolved on its own first, so an error names its flag.
    for (flag, spec, change) in &changes {
        if let Err(e) = engine.edits(std::slice::from_ref(change)) {
            return Err(Failure::input(e.render(flag, spec)));
        }
    }
    let all: Vec<GraphChange> = changes.into_iter().map(|(_, _, c)| c).collect();
    let mut edits = engine
        .edits(&all)
        .map_err(|e| Failure::input(e.to_string()))?;
    edits.extend(revoked);
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
