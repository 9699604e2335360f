//! The query language shared by the prompt (`whocan shell`), one-shot
//! commands (`whocan query -e`, `whocan why`) and query files (`whocan run`).
//!
//! `ast` is the syntax tree, `parse` turns text into it (one parser for
//! every entry point), `eval` answers it from structures built once per
//! loaded graph. This module holds what they share: the typed
//! [`QueryError`] with its position, and the [`Answer`] with its rendering
//! (table, CSV, JSON, JSON lines through [`crate::report::Table`]; Graphviz
//! DOT and Mermaid for `why` and `members`). Does no I/O beyond writing to
//! the writer it is given.
//!
//! # Grammar
//!
//! ```text
//! statement  := ask | "expect" expectation | "help" [topic] | "format" FORMAT
//!             | "load" FILE… | "save" FILE | "quit" | "exit"
//! ask        := ["count"] query ["limit" N]
//! query      := "who can reach" ENT {"with" ["permission"] P | "in project" Q
//!                                    | "direct" | "via" ENT}
//!             | "what can" ENT "reach" {"with" ["permission"] P | "of type" T}
//!             | "why" ["not"] ENT ENT ["with" P]  |  "via which group" ENT ENT
//!             | "members" ["of"] ENT  |  "groups" ["of"] ENT
//!             | "show" ENT  |  "find" TEXT  |  "stats"  |  "cycles"
//!             | "what can person" PERSON "reach"  |  "who owns" ENT
//!             | ("manager" | "managers") ["of"] PERSON  |  "reports" ["of"] PERSON
//! expectation:= query ("=" | "includes" | "excludes") "{" ENT, … "}"
//!             | "count" query OP N                      (OP: = != < <= > >=)
//!             | "none outside" ENT "can reach" ENT ["with" P]
//!             | ENT ("reaches" | "can reach" | "cannot reach") ENT ["with" P] ["via" ENT]
//! ENT        := word | "quoted name" | id:VALUE | source/id
//! PERSON     := an HRIS employee's id, email or name (same forms as ENT)
//! ```

pub mod ast;
pub mod eval;
pub mod parse;

use std::fmt;
use std::io::{self, Write};

use serde_json::Value;

use crate::report::{Cell, Format, RowWriter, Table};
use ast::{OutputFormat, Pos};

pub use eval::Engine;

/// What went wrong with a query, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueryError {
    /// Where the offending text starts.
    pub pos: Pos,
    /// How many characters to underline.
    pub width: u32,
    /// What went wrong.
    pub kind: ErrorKind,
}

/// The kinds of [`QueryError`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The text does not follow the grammar.
    Syntax {
        /// What the parser expected.
        expected: String,
        /// What it found.
        found: String,
        /// A keyword close to what was typed.
        suggestion: Option<String>,
    },
    /// No entity matches a reference.
    UnknownEntity {
        /// The reference as typed.
        text: String,
        /// A close name or id.
        suggestion: Option<String>,
    },
    /// Several entities match a reference; the query does not guess.
    Ambiguous {
        /// The reference as typed.
        text: String,
        /// How it matched (`name`, `case-insensitive name`, `prefix`, …).
        how: String,
        /// Each candidate: `source/id (kind, name)`.
        candidates: Vec<String>,
        /// Candidates not listed.
        more: usize,
    },
    /// No edge carries this permission.
    UnknownPermission {
        /// The permission as typed.
        text: String,
        /// A close permission name.
        suggestion: Option<String>,
    },
    /// No entity has this Project (`in project Q`).
    UnknownProject {
        /// The project as typed.
        text: String,
        /// A close project name.
        suggestion: Option<String>,
    },
    /// No entity has this kind or source type (`of type T`).
    UnknownType {
        /// The type as typed.
        text: String,
        /// A close kind or source type.
        suggestion: Option<String>,
    },
    /// The entity is of the wrong kind for the question.
    WrongKind {
        /// What the entity is, e.g. "`alice` (u-alice) is an identity".
        message: String,
    },
    /// No HRIS employee matches a person reference.
    UnknownEmployee {
        /// The reference as typed.
        text: String,
        /// A close id, email or name.
        suggestion: Option<String>,
    },
    /// Several HRIS employees match a person reference.
    AmbiguousEmployee {
        /// The reference as typed.
        text: String,
        /// How they matched.
        how: String,
        /// Each candidate: `source/id (name, email)`.
        candidates: Vec<String>,
    },
    /// Well-formed, but not available here (e.g. `load` in a query file).
    Unsupported {
        /// Why.
        message: String,
    },
}

impl QueryError {
    /// A syntax error.
    pub fn syntax(
        pos: Pos,
        width: u32,
        expected: String,
        found: String,
        suggestion: Option<String>,
    ) -> QueryError {
        QueryError {
            pos,
            width: width.max(1),
            kind: ErrorKind::Syntax {
                expected,
                found,
                suggestion,
            },
        }
    }

    /// An error that is not tied to a place in the text.
    pub fn unsupported(pos: Pos, message: impl Into<String>) -> QueryError {
        QueryError {
            pos,
            width: 1,
            kind: ErrorKind::Unsupported {
                message: message.into(),
            },
        }
    }

    /// True for a syntax error (exit 2 in `whocan run`).
    pub fn is_syntax(&self) -> bool {
        matches!(self.kind, ErrorKind::Syntax { .. })
    }

    /// The message without its position.
    pub fn message(&self) -> String {
        match &self.kind {
            ErrorKind::Syntax {
                expected,
                found,
                suggestion,
            } => {
                let mut s = format!("expected {expected}, found {found}");
                if let Some(sug) = suggestion {
                    s.push_str(&format!("; did you mean `{sug}`?"));
                }
                s
            }
            ErrorKind::UnknownEntity { text, suggestion } => {
                let mut s = format!("no entity matches `{text}` by id, name, username or email");
                if let Some(sug) = suggestion {
                    s.push_str(&format!("; did you mean `{sug}`?"));
                }
                s
            }
            ErrorKind::Ambiguous {
                text,
                how,
                candidates,
                more,
            } => {
                // `id:VALUE` cannot tell apart entities that share an id.
                let by_id = matches!(how.as_str(), "id" | "case-insensitive id" | "id prefix");
                let mut s = format!(
                    "`{text}` is ambiguous: {} entities match by {how}; name one by {}:",
                    candidates.len() + more,
                    if by_id {
                        "source/id"
                    } else {
                        "source/id or id:VALUE"
                    }
                );
                for c in candidates {
                    s.push_str("\n    ");
                    s.push_str(c);
                }
                if *more > 0 {
                    s.push_str(&format!("\n    … and {more} more"));
                }
                s
            }
            ErrorKind::UnknownPermission { text, suggestion } => {
                let mut s = format!("no edge carries permission `{text}`");
                if let Some(sug) = suggestion {
                    s.push_str(&format!("; did you mean `{sug}`?"));
                }
                s
            }
            ErrorKind::UnknownProject { text, suggestion } => {
                with_suggestion(format!("no entity is in project `{text}`"), suggestion)
            }
            ErrorKind::UnknownType { text, suggestion } => {
                with_suggestion(format!("no entity is of type `{text}`"), suggestion)
            }
            ErrorKind::UnknownEmployee { text, suggestion } => {
                let mut s = format!("no employee matches `{text}` by id, email or name");
                if let Some(sug) = suggestion {
                    s.push_str(&format!("; did you mean `{sug}`?"));
                }
                s
            }
            ErrorKind::AmbiguousEmployee {
                text,
                how,
                candidates,
            } => {
                let mut s = format!(
                    "`{text}` is ambiguous: several employees match by {how}; name one by source/id:"
                );
                for c in candidates {
                    s.push_str("\n    ");
                    s.push_str(c);
                }
                s
            }
            ErrorKind::WrongKind { message } => message.clone(),
            ErrorKind::Unsupported { message } => message.clone(),
        }
    }

    /// The error as a person reads it: `ORIGIN:LINE:COLUMN: message`, then
    /// the offending line with a caret under the text. `source` is the whole
    /// text the positions refer to.
    pub fn render(&self, origin: &str, source: &str) -> String {
        let mut s = format!(
            "{origin}:{}:{}: {}",
            self.pos.line,
            self.pos.column,
            self.message()
        );
        if let Some(line) = source.lines().nth(self.pos.line.saturating_sub(1) as usize) {
            let pad: String = line
                .chars()
                .take(self.pos.column.saturating_sub(1) as usize)
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            s.push_str(&format!(
                "\n  | {line}\n  | {pad}{}",
                "^".repeat(self.width as usize)
            ));
        }
        s
    }
}

/// `message; did you mean `SUGGESTION`?` when there is a suggestion.
fn with_suggestion(mut message: String, suggestion: &Option<String>) -> String {
    if let Some(sug) = suggestion {
        message.push_str(&format!("; did you mean `{sug}`?"));
    }
    message
}

/// `N thing` or `N things`: the one place answers pluralise (`one` for
/// exactly one, `many` otherwise, zero included).
pub fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: {}",
            self.pos.line,
            self.pos.column,
            self.message()
        )
    }
}

impl std::error::Error for QueryError {}

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

/// Help topics, for `help` and completion.
pub const HELP_TOPICS: &[&str] = &[
    "who", "what", "why", "members", "groups", "show", "find", "stats", "count", "limit", "expect",
    "entities", "format", "prompt", "people",
];

/// The text of `help` or `help TOPIC`; an unknown topic is an error naming
/// the topics.
pub fn help(topic: Option<&str>) -> Result<&'static str, String> {
    let text = match topic {
        None => HELP,
        Some("who") => {
            "who can reach X [with [permission] P] [in project Q] [direct | via G] [limit N]\n  \
             Identities with effective access to X, one row per permission and provider\n  \
             (the connection holding the granting edge; `(direct)` for a direct grant).\n  \
             `in project Q`: identities whose Project is Q. `direct`: direct grants only.\n  \
             `via G`: grants that flow through connection G: the identity is in G\n  \
             (directly or nested) and G is, or reaches, the provider. Around a\n  \
             nesting cycle access flows through every member of the cycle.\n"
        }
        Some("what") => {
            "what can Y reach [with [permission] P] [of type T] [limit N]\n  \
             Everything identity Y (or any member of connection Y) reaches, with the\n  \
             permission and provider. `of type T`: targets whose kind (identity,\n  \
             connection, resource) or source type (application, role, …) is T.\n"
        }
        Some("why") => {
            "why Y X [with P] [limit N]      (also: via which group Y X)\n\
             why not Y X [with P]\n  \
             Every path from Y to X: the entry connection Y is a direct member of,\n  \
             the chain, the provider, and file:line of every edge. Paths that do not\n  \
             grant are shown and explained: a `false` edge on the way, a grant with\n  \
             another permission, a path through an identity or resource (which never\n  \
             passes access on). Shows 20 paths unless `limit N`. `--format dot|mermaid`\n  \
             draws them.\n"
        }
        Some("members") => {
            "members [of] G [limit N]\n  \
             Identities in connection G, directly or through nested connections, with\n  \
             the nearest path length (depth 1 = direct member) and the entry connection\n  \
             on a nearest path. `--format dot|mermaid` draws the nesting.\n"
        }
        Some("groups") => {
            "groups [of] Y [limit N]\n  \
             Every connection Y is in, directly (depth 1) or nested, nearest first,\n  \
             with the connection each was reached through.\n"
        }
        Some("show") => {
            "show X\n  One entity: key, kind, attributes, properties of mapped imports, where it\n  \
             was declared, and its edges. Not an entity: the HRIS employee X (attributes,\n  \
             managers, linked identities).\n"
        }
        Some("find") => {
            "find TEXT [limit N]\n  \
             Entities whose id, name, username or email matches TEXT, then HRIS\n  \
             employees whose id, name or email does: exact, case-insensitive,\n  \
             prefix or substring, best matches first.\n"
        }
        Some("stats") => {
            "stats\n  Counts of the loaded graph and every nesting cycle, listed.\ncycles\n  The nesting cycles only.\n"
        }
        Some("count") => {
            "count QUERY\n  \
             The number of distinct subjects: identities (who, members), targets (what),\n  \
             connections (groups), entities and employees (find), granting paths (why;\n  \
             \"at least\" when the search stopped early).\n"
        }
        Some("limit") => {
            "QUERY limit N\n  At most N rows (N paths for why); the answer says how many there were.\n"
        }
        Some("expect") => {
            "Assertions (query files, `whocan run`; also at the prompt):\n  \
             expect QUERY = {A, B}          the distinct subjects are exactly these\n  \
             expect QUERY includes {A}      … at least these\n  \
             expect QUERY excludes {A}      … none of these\n  \
             expect count QUERY <= 20       also = != < > >=\n  \
             expect none outside G can reach X [with P]\n  \
             expect Y reaches X [with P] [via G]\n  \
             expect Y cannot reach X [with P] [via G]\n  \
             Sets may span lines; `#` starts a comment; a trailing `\\` continues a line.\n"
        }
        Some("entities") => {
            "Naming an entity:\n  \
             alice                a bare word: id, then name, username or email\n  \
             \"Network Ops\"        a quoted name (spaces, keywords)\n  \
             id:u-123             ids only\n  \
             github/u-123         source/id\n  \
             Each is tried exact, then case-insensitive, then as a prefix. When several\n  \
             entities match, the candidates are listed with their source and id.\n"
        }
        Some("format") => {
            "format table|csv|json|jsonl|dot|mermaid\n  \
             How answers are printed. dot and mermaid draw `why` and `members`.\n"
        }
        Some("prompt") => {
            "At the prompt: Tab completes what fits where the cursor is (keywords,\n  \
             entities, permissions, projects, types, file names), Up/Down walk the\n  \
             history (kept in ~/.whocan_history), an open `{` or a trailing `\\`\n  \
             continues on the next line, Ctrl-C cancels the entry, Ctrl-D or `quit`\n  \
             exits. `load FILES…` replaces the data (CSVs or one snapshot);\n  \
             `save FILE` writes a snapshot of the loaded data.\n"
        }
        Some("people") => {
            "what can person P reach [limit N]\n  \
             HRIS employee P's access across every app: through each identity P IS\n  \
             (the accounts P uses) and each service account P OWNS (`relation`\n  \
             column), with the identity, provider and how the link was made.\n\
             who owns X\n  \
             Employees with an OWNS link to identity X; for a connection or resource,\n  \
             the OWNS owners of every identity reaching it, with the permission.\n\
             manager of P          reports of P\n  \
             P's managers or reports, direct (depth 1) and indirect, nearest first;\n  \
             manager ids are compared lowercase, cycles end the walk.\n  \
             P is an employee's source/id, id, email or name: exact, case-insensitive,\n  \
             then prefix. Links come from --people-map files and automatic matching\n  \
             of emails and usernames (see README, \"People\").\n"
        }
        Some(other) => {
            return Err(format!(
                "no help on `{other}`; topics: {}",
                HELP_TOPICS.join(", ")
            ));
        }
    };
    Ok(text)
}

const HELP: &str = "\
Questions:
  who can reach X [with P] [in project Q] [direct | via G]
  what can Y reach [with P] [of type T]
  why Y X [with P]            why not Y X [with P]
  members of G                groups of Y
  show X                      find TEXT
  stats                       cycles
  count QUERY                 QUERY limit N
People (HRIS employees):
  what can person P reach     who owns X
  manager of P                reports of P
Assertions:
  expect QUERY = {A, B}       expect count QUERY <= N
  expect none outside G can reach X [with P]
  expect Y reaches X [with P] [via G]
Session:
  help [TOPIC]   format table|csv|json|jsonl|dot|mermaid   load FILES…   save FILE   quit
Topics: who, what, why, members, groups, show, find, stats, count, limit, expect,
        entities, format, prompt, people
";
