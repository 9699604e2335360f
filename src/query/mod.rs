//! The query language shared by the prompt (`whocan shell`), one-shot
//! commands (`whocan query -e`, `whocan why`) and query files (`whocan run`).
//!
//! `ast` is the syntax tree; `parse` turns text into it (one parser for
//! every entry point; its lexer is `lex`, its completion support
//! `complete`). [`Engine`] (`engine`) holds the structures built once per
//! loaded graph and answers from them, one module per kind of question:
//! `resolve` (entity and employee references, `find`), `grants` (who /
//! what / via), `membership` (members, groups), `why` (paths, verdicts),
//! `people` (person questions), `inspect` (show, stats, cycles) and
//! `expect` (assertions). `answer` renders an [`Answer`] (table, CSV, JSON,
//! JSON lines through [`crate::report::Table`]; Graphviz DOT and Mermaid
//! for `why` and `members`), `help` is the help text, and `session` runs
//! statements for every front end and words their results. This module
//! holds the grammar and the typed [`QueryError`] with its position. Does
//! no I/O beyond writing to the writer it is given.
//!
//! # Grammar
//!
//! ```text
//! statement  := ask | "expect" expectation | rule | "help" [topic] | "format" FORMAT
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
//!             | "what if" CHANGE {"," CHANGE}  |  "blast radius" ["of"] ENT
//! CHANGE     := "remove" ENT "from" ENT  |  "remove" ENT  |  "add" ENT "to" ENT ["with" P]
//! rule       := "forbid" ENT ["with" P] ("and" ENT ["with" P])… ["for persons"]
//!               ["except members of" ENT] ["severity" S]   (also after "expect")
//! expectation:= query ("=" | "includes" | "excludes") "{" ENT, … "}"
//!             | "count" query OP N                      (OP: = != < <= > >=)
//!             | "none outside" ENT "can reach" ENT ["with" P]
//!             | ENT ("reaches" | "can reach" | "cannot reach") ENT ["with" P] ["via" ENT]
//! ENT        := word | "quoted name" | id:VALUE | source/id
//! PERSON     := an HRIS employee's id, email or name (same forms as ENT)
//! ```

mod answer;
pub mod ast;
mod complete;
mod engine;
mod expect;
mod grants;
mod help;
mod inspect;
mod lex;
mod membership;
pub mod parse;
mod parse_rules;
mod people;
mod resolve;
pub mod session;
mod sod;
mod whatif;
mod why;

use std::fmt;

use ast::Pos;

pub use answer::{Answer, Picture, PictureEdge, PictureNode};
pub use engine::{Engine, Evaluated};
pub use expect::Verdict;
pub use help::{HELP_TOPICS, help};
pub use sod::{
    Held, Holder, RuleAt, RulesFile, Violation, parse_rules, rules_findings, unresolved_rule,
};
pub use whatif::{WHATIF_COLUMNS, providers, whatif_row, whatif_summary};
pub use why::{DEFAULT_WHY_LIMIT, GrantTree, MAX_PATHS};

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

pub use crate::report::plural;

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
