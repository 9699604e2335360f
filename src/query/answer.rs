//! Rendering an [`Answer`]: the table as people read it (hidden id
//! columns, repeated group cells blanked, `(direct)` for a null provider),
//! CSV, JSON and JSON lines through [`crate::report`], and the [`Picture`]
//! of `why` and `members` as Graphviz DOT or Mermaid. Writes only to the
//! writers it is given.

use std::io::{self, Write};

use serde_json::Value;

use super::ast::OutputFormat;
use crate::report::{Cell, Format, RowWriter, Table};

/// A node of a graph picture.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PictureNode {
    /// A stable identifier (`n0`, `n1`, …).
    pub key: String,
    /// The label shown.
    pub label: String,
    /// `identity`, `connection` or `resource`.
    pub kind: &'static str,
}

/// An edge of a graph picture.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PictureEdge {
    /// Index of the source node.
    pub from: usize,
    /// Index of the target node.
    pub to: usize,
    /// The permission.
    pub label: String,
    /// False for a `false` edge (drawn dashed).
    pub granted: bool,
}

/// A graph picture for `why` and `members`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Picture {
    /// Nodes, in first-seen order.
    pub nodes: Vec<PictureNode>,
    /// Edges, in first-seen order, distinct.
    pub edges: Vec<PictureEdge>,
}

impl Picture {
    /// Graphviz DOT.
    pub fn dot(&self) -> String {
        let mut s =
            String::from("digraph whocan {\n  rankdir=LR;\n  node [fontname=\"Helvetica\"];\n");
        for n in &self.nodes {
            let shape = match n.kind {
                "identity" => "ellipse",
                "connection" => "box",
                _ => "cylinder",
            };
            s.push_str(&format!(
                "  {} [label={}, shape={shape}];\n",
                n.key,
                dot_quote(&n.label)
            ));
        }
        for e in &self.edges {
            let style = if e.granted {
                String::new()
            } else {
                ", style=dashed, color=red".to_string()
            };
            let label = if e.granted {
                e.label.clone()
            } else {
                format!("{} = false", e.label)
            };
            s.push_str(&format!(
                "  {} -> {} [label={}{style}];\n",
                self.nodes[e.from].key,
                self.nodes[e.to].key,
                dot_quote(&label)
            ));
        }
        s.push_str("}\n");
        s
    }

    /// A Mermaid flowchart.
    pub fn mermaid(&self) -> String {
        let mut s = String::from("flowchart LR\n");
        for n in &self.nodes {
            let label = mermaid_quote(&n.label);
            let shape = match n.kind {
                "identity" => format!("([{label}])"),
                "connection" => format!("[{label}]"),
                _ => format!("[({label})]"),
            };
            s.push_str(&format!("  {}{shape}\n", n.key));
        }
        for e in &self.edges {
            let (arrow, label) = if e.granted {
                ("-->", e.label.clone())
            } else {
                ("-.->", format!("{} = false", e.label))
            };
            s.push_str(&format!(
                "  {} {arrow}|{}| {}\n",
                self.nodes[e.from].key,
                mermaid_quote(&label),
                self.nodes[e.to].key
            ));
        }
        s
    }
}

/// A Graphviz quoted string: `"` and `\` escaped, `<`, `>` and `&` as
/// HTML entities (Graphviz turns them back into text, so a name never
/// becomes markup in SVG output), control characters shown escaped.
fn dot_quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '\n' => out.push_str("\\n"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            c => {
                let mut buf = [0; 4];
                let escaped = crate::report::escape(c.encode_utf8(&mut buf));
                // `\x1b` as text: the backslash itself escaped for dot.
                out.push_str(&escaped.replace('\\', "\\\\"));
            }
        }
    }
    out.push('"');
    out
}

/// A Mermaid quoted label. Mermaid labels may hold HTML, so `"`, `<`, `>`,
/// `&`, `#` (which starts Mermaid's entity codes) and the backtick (which
/// starts a Markdown string) are written as entity codes; control
/// characters are shown escaped.
fn mermaid_quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in crate::report::escape(s).chars() {
        match c {
            '"' => out.push_str("#quot;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '&' => out.push_str("#amp;"),
            '#' => out.push_str("#35;"),
            '`' => out.push_str("#96;"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The answer to one query: a table plus what a person should be told.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Answer {
    /// A line printed above the table in table format.
    pub title: Option<String>,
    /// The rows.
    pub table: Table,
    /// Columns left out of table format (ids shown in CSV / JSON only).
    pub hide_in_table: Vec<usize>,
    /// Leading columns whose repeats are blanked in table format.
    pub group_columns: usize,
    /// Text shown for a null cell of a column in table format (e.g.
    /// `(direct)` for a direct grant's provider).
    pub null_as: Vec<(usize, &'static str)>,
    /// Remarks: truncation, why nothing matched. Printed after the table in
    /// table format, on stderr otherwise.
    pub notes: Vec<String>,
    /// A picture, for `--format dot|mermaid`.
    pub picture: Option<Picture>,
}

impl Answer {
    /// Writes the answer in `format`; notes for non-table formats go to
    /// `notes_out`. Fails with an unsupported-format message when a picture
    /// is asked of an answer without one.
    pub fn write(
        &self,
        format: OutputFormat,
        out: &mut dyn Write,
        notes_out: &mut dyn Write,
    ) -> io::Result<Result<(), String>> {
        let table_format = match format {
            OutputFormat::Table => Format::Table,
            OutputFormat::Csv => Format::Csv,
            OutputFormat::Json => Format::Json,
            OutputFormat::Jsonl => Format::Jsonl,
            OutputFormat::Dot | OutputFormat::Mermaid => {
                let Some(p) = &self.picture else {
                    return Ok(Err(format!(
                        "--format {} is only available for `why` and `members`",
                        format.as_str()
                    )));
                };
                let text = if format == OutputFormat::Dot {
                    p.dot()
                } else {
                    p.mermaid()
                };
                out.write_all(text.as_bytes())?;
                for n in &self.notes {
                    writeln!(notes_out, "whocan: note: {n}")?;
                }
                return Ok(Ok(()));
            }
        };
        if table_format == Format::Table {
            if let Some(t) = &self.title {
                writeln!(out, "{}", crate::report::escape_lines(t))?;
            }
            if !self.table.rows.is_empty() {
                self.write_for_people(out)?;
            }
            for n in &self.notes {
                writeln!(out, "{}", crate::report::escape_lines(n))?;
            }
        } else {
            self.table.write(table_format, out)?;
            for n in &self.notes {
                writeln!(
                    notes_out,
                    "whocan: note: {}",
                    crate::report::escape_lines(n)
                )?;
            }
        }
        Ok(Ok(()))
    }

    /// The table as shown to people, streamed: hidden columns dropped,
    /// repeated group cells blanked, null cells shown as their column's
    /// `null_as` text.
    fn write_for_people(&self, out: &mut dyn Write) -> io::Result<()> {
        let keep: Vec<usize> = (0..self.table.columns.len())
            .filter(|i| !self.hide_in_table.contains(i))
            .collect();
        let columns: Vec<&str> = keep
            .iter()
            .map(|&i| self.table.columns[i].as_str())
            .collect();
        let mut writer = RowWriter::new(&columns, Format::Table, out)?;
        let mut cells = Vec::with_capacity(keep.len());
        let mut previous: Option<&Vec<Value>> = None;
        for row in &self.table.rows {
            let same_group = self.group_columns > 0
                && previous.is_some_and(|p| p[..self.group_columns] == row[..self.group_columns]);
            cells.clear();
            cells.extend(keep.iter().map(|&i| {
                if same_group && i < self.group_columns {
                    Cell::Str("")
                } else if let (Value::Null, Some((_, text))) =
                    (&row[i], self.null_as.iter().find(|(c, _)| *c == i))
                {
                    Cell::Str(text)
                } else {
                    Cell::from(&row[i])
                }
            }));
            writer.row(&cells)?;
            previous = Some(row);
        }
        writer.finish().map(|_| ())
    }
}
