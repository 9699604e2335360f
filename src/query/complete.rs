//! What the prompt needs from the language: [`Continuation`] (whether a
//! statement typed line by line goes on, in one pass over each line),
//! [`is_incomplete`], and [`expected_after`] with its [`Slot`]s, what the
//! grammar takes where the cursor is, for Tab completion. Does no I/O.

use super::ast::Pos;
use super::lex::{Tok, lex};
use super::parse::Parser;

/// True when `text` is an unfinished statement: an open `{` or a trailing
/// `\` (see [`Continuation`], which the prompt feeds line by line).
pub fn is_incomplete(text: &str) -> bool {
    let mut c = Continuation::default();
    for line in text.split('\n') {
        c.feed(line.as_bytes());
        c.end_line();
    }
    c.is_incomplete()
}

/// Whether a statement typed line by line goes on: the lexer's rules for
/// where a newline does not end a statement (inside `{…}`, after a trailing
/// `\`; quotes and `#` comments end at the line's end), kept as state so
/// that each byte is looked at once however many lines a statement spans.
///
/// Works on bytes, in pieces of a line if need be: every character that
/// matters is ASCII, and UTF-8 never repeats an ASCII byte inside another
/// character, so a line need not be valid UTF-8 to be followed.
///
/// ```
/// use whocan::query::parse::Continuation;
/// let mut c = Continuation::default();
/// c.feed(b"expect members of DBA = {alice,");
/// c.end_line();
/// assert!(c.is_incomplete());
/// c.feed(b"  bob}");
/// c.end_line();
/// assert!(!c.is_incomplete());
/// ```
#[derive(Clone, Debug, Default)]
pub struct Continuation {
    depth: u32,
    /// The outermost `{` still open.
    open: Option<Pos>,
    /// The last line's trailing `\`.
    backslash: Option<Pos>,
    /// Where the line being fed stands.
    line: u32,
    column: u32,
    quote: Option<u8>,
    /// After a `\` inside quotes: the next byte is escaped.
    escaped: bool,
    comment: bool,
    /// The last byte of this line that is not a space, tab or CR, outside
    /// comments: a `\` there continues the statement.
    last: Option<(u8, Pos)>,
    /// Bytes looked at, for tests that count work.
    scanned: u64,
}

impl Continuation {
    /// Follows a piece of the current line (no `\n` in it).
    pub fn feed(&mut self, bytes: &[u8]) {
        self.scanned += bytes.len() as u64;
        for &b in bytes {
            // Columns count characters: skip UTF-8 continuation bytes.
            if b & 0xC0 != 0x80 {
                self.column += 1;
            }
            if self.comment {
                continue;
            }
            let pos = Pos {
                line: self.line + 1,
                column: self.column,
            };
            if !matches!(b, b' ' | b'\t' | b'\r') {
                self.last = Some((if self.quote.is_some() { 0 } else { b }, pos));
            }
            if let Some(q) = self.quote {
                if self.escaped {
                    self.escaped = false;
                } else if b == b'\\' {
                    self.escaped = true;
                } else if b == q {
                    self.quote = None;
                }
                continue;
            }
            match b {
                b'"' | b'\'' => self.quote = Some(b),
                b'#' => self.comment = true,
                b'{' => {
                    if self.depth == 0 {
                        self.open = Some(pos);
                    }
                    self.depth += 1;
                }
                b'}' => {
                    // As the lexer: a stray `}` does not open anything.
                    self.depth = self.depth.saturating_sub(1);
                    if self.depth == 0 {
                        self.open = None;
                    }
                }
                _ => {}
            }
        }
    }

    /// Ends the current line.
    pub fn end_line(&mut self) {
        self.backslash = match self.last {
            Some((b'\\', pos)) => Some(pos),
            _ => None,
        };
        self.line += 1;
        self.column = 0;
        self.quote = None;
        self.escaped = false;
        self.comment = false;
        self.last = None;
    }

    /// True when the statement goes on to the next line.
    pub fn is_incomplete(&self) -> bool {
        self.depth > 0 || self.backslash.is_some()
    }

    /// The outermost `{` not yet closed (line 1 = the first line fed).
    pub fn open_brace(&self) -> Option<Pos> {
        self.open.filter(|_| self.depth > 0)
    }

    /// The trailing `\` of the last line, if it has one.
    pub fn trailing_backslash(&self) -> Option<Pos> {
        self.backslash
    }

    /// How many bytes were looked at.
    pub fn scanned(&self) -> u64 {
        self.scanned
    }
}

/// What the grammar takes at some point of a statement: the answer of
/// [`expected_after`], for Tab completion.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Slot {
    /// This keyword (or a format name, a statement word, …).
    Keyword(String),
    /// An entity: a name, an id, `source/id` or `id:VALUE`.
    Entity,
    /// An HRIS employee: an id, email or name.
    Person,
    /// A permission name (`with P`).
    Permission,
    /// A project name (`in project Q`).
    Project,
    /// A kind or source type (`of type T`).
    Type,
    /// A file name (`load`, `save`).
    File,
    /// A `help` topic.
    HelpTopic,
    /// Free text (`find TEXT`).
    Text,
}

/// What may come at the end of `text`, by position in the grammar: the
/// parser runs over the last statement of `text` and notes what it looks for
/// where the text stops. Empty when the text already fails to parse.
///
/// ```
/// use whocan::query::parse::{Slot, expected_after};
/// assert_eq!(expected_after("who can reach prod-db with "), [
///     Slot::Keyword("permission".into()),
///     Slot::Permission,
/// ]);
/// assert!(expected_after("what can alice reach ").contains(&Slot::Keyword("of".into())));
/// ```
pub fn expected_after(text: &str) -> Vec<Slot> {
    let Ok(tokens) = lex(text) else {
        return Vec::new();
    };
    // The last statement: after the last end before the final one.
    let start = tokens[..tokens.len() - 1]
        .iter()
        .rposition(|t| t.tok == Tok::End)
        .map_or(0, |i| i + 1);
    let mut p = Parser {
        tokens: &tokens[start..],
        at: 0,
        slots: Some(std::cell::RefCell::new(Vec::new())),
    };
    let _ = p.statement();
    let mut slots = p.slots.map(|s| s.into_inner()).unwrap_or_default();
    // Keywords in the order the grammar tries them, then values; each once.
    let mut seen = std::collections::HashSet::new();
    slots.retain(|s| seen.insert(s.clone()));
    slots.sort_by_key(|s| !matches!(s, Slot::Keyword(_)));
    slots
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::parse::STATEMENT_WORDS;

    #[track_caller]
    fn slots(text: &str, expected: &[&str]) {
        let got: Vec<String> = expected_after(text)
            .into_iter()
            .map(|s| match s {
                Slot::Keyword(k) => k,
                other => format!("{other:?}"),
            })
            .collect();
        assert_eq!(got, expected, "after {text:?}");
    }

    #[test]
    fn completion_follows_the_grammar() {
        slots("", STATEMENT_WORDS);
        slots("stats; ", STATEMENT_WORDS);
        slots("who ", &["owns", "can"]);
        slots("who can reach ", &["Entity"]);
        slots(
            "who can reach x ",
            &["with", "in", "direct", "via", "limit"],
        );
        slots("who can reach x with ", &["permission", "Permission"]);
        slots("who can reach x with admin in ", &["project"]);
        slots("who can reach x in project ", &["Project"]);
        slots("what can ", &["person", "Entity"]);
        slots("what can y reach of ", &["type"]);
        slots("what can y reach of type ", &["Type"]);
        slots("manager of ", &["Person"]);
        slots("load ", &["File"]);
        slots("load a.csv ", &["File"]);
        slots("save ", &["File"]);
        slots("help ", &["HelpTopic"]);
        slots("expect members of g = {a,\n  ", &["Entity"]);
        slots("who can rech ", &[]);
        slots("stats ", &[]);
    }

    #[test]
    fn continuation_scans_each_byte_once() {
        let mut c = Continuation::default();
        c.feed(b"expect members of g = {");
        c.end_line();
        for _ in 0..1000 {
            c.feed(b"  alice,");
            c.end_line();
        }
        assert!(c.is_incomplete());
        assert_eq!(
            c.open_brace(),
            Some(Pos {
                line: 1,
                column: 23
            })
        );
        c.feed(b"}");
        c.end_line();
        assert!(!c.is_incomplete());
        assert_eq!(c.scanned(), 23 + 8 * 1000 + 1);
        let mut c = Continuation::default();
        c.feed("show \"é{\" \\ ".as_bytes());
        c.end_line();
        assert_eq!(
            c.trailing_backslash(),
            Some(Pos {
                line: 1,
                column: 11
            })
        );
        c.feed(b"x # \\");
        c.end_line();
        assert!(!c.is_incomplete());
    }

    #[test]
    fn incomplete_input_is_detected() {
        assert!(is_incomplete("expect who can reach a = {alice,"));
        assert!(is_incomplete("who can reach \\"));
        assert!(!is_incomplete("who can reach a"));
        assert!(!is_incomplete("show \"{\""));
    }
}
