//! Text to [`Statement`]s: one parser for the prompt, one-shot commands and
//! query files.
//!
//! Statements end at a newline or `;`. A newline inside `{…}` or after a
//! trailing `\` continues the statement, so sets and long queries can span
//! lines. `#` starts a comment. Keywords are case-insensitive; a misspelt
//! keyword gets a suggestion. Does no I/O and knows nothing of the graph:
//! entity references are resolved by [`super::eval`].

use super::QueryError;
use super::ast::*;

/// Every word that can start a statement, for messages and completion.
pub const STATEMENT_WORDS: &[&str] = &[
    "who", "what", "why", "via", "members", "groups", "show", "find", "stats", "cycles", "count",
    "expect", "help", "format", "load", "save", "quit", "exit", "manager", "reports",
];

/// Every keyword of the language, for completion.
pub const KEYWORDS: &[&str] = &[
    "who",
    "what",
    "why",
    "not",
    "via",
    "which",
    "group",
    "members",
    "groups",
    "of",
    "show",
    "find",
    "stats",
    "cycles",
    "count",
    "expect",
    "help",
    "format",
    "load",
    "save",
    "quit",
    "exit",
    "can",
    "reach",
    "reaches",
    "cannot",
    "with",
    "permission",
    "in",
    "project",
    "direct",
    "type",
    "limit",
    "none",
    "outside",
    "includes",
    "excludes",
    "person",
    "owns",
    "manager",
    "reports",
];

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Word(String),
    Str(String),
    Op(Cmp),
    LBrace,
    RBrace,
    Comma,
    /// End of a statement: newline, `;` or end of input.
    End,
}

#[derive(Clone, Debug)]
struct Token {
    tok: Tok,
    pos: Pos,
    width: u32,
    /// Byte offset of the token in the text.
    offset: usize,
}

fn describe(tok: &Tok) -> String {
    match tok {
        Tok::Word(w) => format!("`{w}`"),
        Tok::Str(s) => format!("\"{s}\""),
        Tok::Op(c) => format!("`{}`", c.as_str()),
        Tok::LBrace => "`{`".into(),
        Tok::RBrace => "`}`".into(),
        Tok::Comma => "`,`".into(),
        Tok::End => "end of statement".into(),
    }
}

fn is_word_char(c: char) -> bool {
    !c.is_whitespace() && !matches!(c, '{' | '}' | ',' | ';' | '"' | '\'')
}

/// Splits text into tokens; newlines inside braces or after `\` are not
/// statement ends.
fn lex(text: &str) -> Result<Vec<Token>, QueryError> {
    let mut tokens = Vec::new();
    let mut chars = text.char_indices().peekable();
    let (mut line, mut column) = (1u32, 1u32);
    let mut depth = 0u32;
    while let Some(&(offset, c)) = chars.peek() {
        let pos = Pos { line, column };
        let mut advance = |chars: &mut std::iter::Peekable<std::str::CharIndices>| {
            let (_, c) = chars.next().expect("peeked");
            if c == '\n' {
                line += 1;
                column = 1;
            } else {
                column += 1;
            }
        };
        match c {
            '\n' => {
                advance(&mut chars);
                if depth == 0 {
                    tokens.push(Token {
                        tok: Tok::End,
                        pos,
                        width: 1,
                        offset,
                    });
                }
            }
            ';' => {
                advance(&mut chars);
                tokens.push(Token {
                    tok: Tok::End,
                    pos,
                    width: 1,
                    offset,
                });
            }
            c if c.is_whitespace() => advance(&mut chars),
            '#' => {
                while let Some(&(_, c)) = chars.peek() {
                    if c == '\n' {
                        break;
                    }
                    advance(&mut chars);
                }
            }
            '\\' if text[offset + 1..]
                .trim_start_matches([' ', '\t', '\r'])
                .starts_with('\n')
                || text[offset + 1..].trim().is_empty() =>
            {
                // A line continuation: skip to after the newline.
                advance(&mut chars);
                while let Some(&(_, c)) = chars.peek() {
                    advance(&mut chars);
                    if c == '\n' {
                        break;
                    }
                }
            }
            '{' | '}' | ',' => {
                advance(&mut chars);
                let tok = match c {
                    '{' => {
                        depth += 1;
                        Tok::LBrace
                    }
                    '}' => {
                        depth = depth.saturating_sub(1);
                        Tok::RBrace
                    }
                    _ => Tok::Comma,
                };
                tokens.push(Token {
                    tok,
                    pos,
                    width: 1,
                    offset,
                });
            }
            '"' | '\'' => {
                let quote = c;
                advance(&mut chars);
                let mut s = String::new();
                let mut width = 1;
                let mut closed = false;
                while let Some(&(_, c)) = chars.peek() {
                    if c == '\n' {
                        break;
                    }
                    advance(&mut chars);
                    width += 1;
                    if c == quote {
                        closed = true;
                        break;
                    }
                    if c == '\\' {
                        if let Some(&(_, next)) = chars.peek() {
                            if next == quote || next == '\\' {
                                advance(&mut chars);
                                width += 1;
                                s.push(next);
                                continue;
                            }
                        }
                    }
                    s.push(c);
                }
                if !closed {
                    return Err(QueryError::syntax(
                        pos,
                        width,
                        format!("a closing {quote}"),
                        "end of line".into(),
                        None,
                    ));
                }
                tokens.push(Token {
                    tok: Tok::Str(s),
                    pos,
                    width,
                    offset,
                });
            }
            '=' | '<' | '>' | '!' => {
                advance(&mut chars);
                let next = chars.peek().map(|&(_, c)| c);
                let (cmp, width) = match (c, next) {
                    ('=', Some('=')) => (Cmp::Eq, 2),
                    ('=', _) => (Cmp::Eq, 1),
                    ('!', Some('=')) => (Cmp::Ne, 2),
                    ('<', Some('=')) => (Cmp::Le, 2),
                    ('<', _) => (Cmp::Lt, 1),
                    ('>', Some('=')) => (Cmp::Ge, 2),
                    ('>', _) => (Cmp::Gt, 1),
                    _ => {
                        return Err(QueryError::syntax(
                            pos,
                            1,
                            "`!=`".into(),
                            "`!`".into(),
                            None,
                        ));
                    }
                };
                if width == 2 {
                    advance(&mut chars);
                }
                tokens.push(Token {
                    tok: Tok::Op(cmp),
                    pos,
                    width,
                    offset,
                });
            }
            _ => {
                let mut s = String::new();
                let mut width = 0;
                while let Some(&(_, c)) = chars.peek() {
                    if !is_word_char(c) {
                        break;
                    }
                    advance(&mut chars);
                    s.push(c);
                    width += 1;
                }
                tokens.push(Token {
                    tok: Tok::Word(s),
                    pos,
                    width,
                    offset,
                });
            }
        }
    }
    tokens.push(Token {
        tok: Tok::End,
        pos: Pos { line, column },
        width: 1,
        offset: text.len(),
    });
    Ok(tokens)
}

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

/// Parses a whole text (a query file, a prompt entry, a `-e` argument) into
/// statements. Blank lines and comments yield nothing.
///
/// ```
/// use whocan::query::parse::parse_script;
/// let statements = parse_script("who can reach prod-db with admin\nstats").unwrap();
/// assert_eq!(statements.len(), 2);
/// ```
pub fn parse_script(text: &str) -> Result<Vec<Located>, QueryError> {
    let tokens = lex(text)?;
    let mut out = Vec::new();
    let mut start = 0;
    for (i, t) in tokens.iter().enumerate() {
        if t.tok == Tok::End {
            if i > start {
                let slice = &tokens[start..=i];
                let mut p = Parser {
                    tokens: slice,
                    at: 0,
                    slots: None,
                };
                let statement = p.statement()?;
                let end = t.offset.min(text.len());
                out.push(Located {
                    statement,
                    pos: slice[0].pos,
                    text: one_line(&text[slice[0].offset..end]),
                });
            }
            start = i + 1;
        }
    }
    Ok(out)
}

/// A statement's text on one line, for messages: comments and line
/// continuations dropped, each line break with its indentation one space.
fn one_line(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let line = match line.find('#') {
            // A `#` inside quotes is text, not a comment; keep such lines whole.
            Some(i) if !line[..i].contains(['"', '\'']) => &line[..i],
            _ => line,
        };
        let line = line.trim().trim_end_matches('\\').trim_end();
        if line.is_empty() {
            continue;
        }
        if !out.is_empty() && !out.ends_with('{') && !line.starts_with('}') {
            out.push(' ');
        }
        out.push_str(line);
    }
    out
}

/// Parses exactly one statement.
pub fn parse_statement(text: &str) -> Result<Located, QueryError> {
    let mut all = parse_script(text)?;
    match all.len() {
        1 => Ok(all.remove(0)),
        0 => Err(QueryError::syntax(
            Pos { line: 1, column: 1 },
            1,
            "a statement".into(),
            "nothing".into(),
            None,
        )),
        _ => Err(QueryError::syntax(
            all[1].pos,
            1,
            "one statement".into(),
            "a second statement".into(),
            None,
        )),
    }
}

/// The closest of `candidates` to `word`, when close enough to be a typo.
pub fn suggest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let lower = compared(word);
    let mut best: Option<(f64, &str)> = None;
    for c in candidates {
        let other = compared(c);
        let score = strsim::jaro_winkler(&lower, &other);
        let close =
            strsim::damerau_levenshtein(&lower, &other) <= (lower.chars().count() / 3).max(1);
        if (score >= 0.85 || close) && best.is_none_or(|(s, _)| score > s) {
            best = Some((score, c));
        }
    }
    best.map(|(_, c)| c.to_string())
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

/// Most characters of a word or candidate that [`suggest`] compares: both
/// measures are quadratic in the length, so longer text is compared by its
/// first `MAX_COMPARED_CHARS` characters (a hint needs no more).
pub const MAX_COMPARED_CHARS: usize = 64;

/// The lowercased text [`suggest`] compares: at most
/// [`MAX_COMPARED_CHARS`] characters of `s`, whatever its length.
pub fn compared(s: &str) -> String {
    s.chars()
        .take(MAX_COMPARED_CHARS)
        .flat_map(char::to_lowercase)
        .collect()
}

struct Parser<'t> {
    tokens: &'t [Token],
    at: usize,
    /// When completing: what was looked for at the last token.
    slots: Option<std::cell::RefCell<Vec<Slot>>>,
}

impl<'t> Parser<'t> {
    fn peek(&self) -> &'t Token {
        &self.tokens[self.at.min(self.tokens.len() - 1)]
    }

    fn next(&mut self) -> &'t Token {
        let t = self.peek();
        if self.at < self.tokens.len() - 1 {
            self.at += 1;
        }
        t
    }

    /// Notes that `slot` is looked for, when completing and at the end.
    fn offer(&self, slot: Slot) {
        if let Some(slots) = &self.slots {
            if self.at + 1 >= self.tokens.len() {
                slots.borrow_mut().push(slot);
            }
        }
    }

    fn peek_word(&self) -> Option<String> {
        match &self.peek().tok {
            Tok::Word(w) => Some(w.to_lowercase()),
            _ => None,
        }
    }

    fn peek_is(&self, kw: &str) -> bool {
        self.offer(Slot::Keyword(kw.to_string()));
        self.peek_word().as_deref() == Some(kw)
    }

    fn eat(&mut self, kw: &str) -> bool {
        if self.peek_is(kw) {
            self.next();
            true
        } else {
            false
        }
    }

    fn error_here(&self, expected: &str, choices: &[&str]) -> QueryError {
        for c in choices {
            self.offer(Slot::Keyword(c.to_string()));
        }
        let t = self.peek();
        let suggestion = match &t.tok {
            Tok::Word(w) => suggest(w, choices.iter().copied()),
            _ => None,
        };
        QueryError::syntax(
            t.pos,
            t.width,
            expected.into(),
            describe(&t.tok),
            suggestion,
        )
    }

    fn expect_kw(&mut self, kw: &str) -> Result<(), QueryError> {
        if self.eat(kw) {
            Ok(())
        } else {
            Err(self.error_here(&format!("`{kw}`"), &[kw]))
        }
    }

    fn expect_end(&mut self, modifiers: &[&str]) -> Result<(), QueryError> {
        if self.peek().tok == Tok::End {
            return Ok(());
        }
        let expected = if modifiers.is_empty() {
            "end of statement".to_string()
        } else {
            format!(
                "{} or end of statement",
                modifiers
                    .iter()
                    .map(|m| format!("`{m}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        Err(self.error_here(&expected, modifiers))
    }

    fn entity(&mut self) -> Result<EntityRef, QueryError> {
        self.reference(Slot::Entity)
    }

    fn person(&mut self) -> Result<EntityRef, QueryError> {
        self.reference(Slot::Person)
    }

    /// An entity or person reference (`slot` says which, for completion).
    fn reference(&mut self, slot: Slot) -> Result<EntityRef, QueryError> {
        self.offer(slot);
        let t = self.peek();
        let r = match &t.tok {
            Tok::Word(w) => {
                if w.len() > 3 && w.get(..3).is_some_and(|p| p.eq_ignore_ascii_case("id:")) {
                    EntityRef {
                        form: RefForm::Id,
                        text: w[3..].to_string(),
                        pos: t.pos,
                        width: t.width,
                    }
                } else {
                    EntityRef {
                        form: RefForm::Word,
                        text: w.clone(),
                        pos: t.pos,
                        width: t.width,
                    }
                }
            }
            Tok::Str(s) => EntityRef {
                form: RefForm::Quoted,
                text: s.clone(),
                pos: t.pos,
                width: t.width,
            },
            _ => {
                return Err(self.error_here(
                    "an entity (a name, an id, a \"quoted name\" or id:VALUE)",
                    &[],
                ));
            }
        };
        self.next();
        Ok(r)
    }

    fn word(&mut self, slot: Slot, what: &str) -> Result<Word, QueryError> {
        self.offer(slot);
        let t = self.peek();
        match &t.tok {
            Tok::Word(w) | Tok::Str(w) => {
                self.next();
                Ok(Word {
                    text: w.clone(),
                    pos: t.pos,
                })
            }
            _ => Err(self.error_here(what, &[])),
        }
    }

    fn number(&mut self) -> Result<u64, QueryError> {
        let t = self.peek();
        if let Tok::Word(w) = &t.tok {
            if let Ok(n) = w.parse::<u64>() {
                self.next();
                return Ok(n);
            }
        }
        Err(self.error_here("a number", &[]))
    }

    fn statement(&mut self) -> Result<Statement, QueryError> {
        let Some(first) = self.peek_word() else {
            return Err(self.error_here("a statement (try `help`)", STATEMENT_WORDS));
        };
        let statement = match first.as_str() {
            "expect" => {
                self.next();
                Statement::Expect(self.expectation()?)
            }
            "help" => {
                self.next();
                self.offer(Slot::HelpTopic);
                let topic = match &self.peek().tok {
                    Tok::Word(w) | Tok::Str(w) => {
                        let w = w.to_lowercase();
                        self.next();
                        Some(w)
                    }
                    _ => None,
                };
                Statement::Help(topic)
            }
            "format" => {
                self.next();
                let names: Vec<&str> = OutputFormat::ALL.iter().map(|f| f.as_str()).collect();
                let Some(w) = self.peek_word() else {
                    return Err(
                        self.error_here("a format (table, csv, json, jsonl, dot, mermaid)", &names)
                    );
                };
                let Some(f) = OutputFormat::ALL.into_iter().find(|f| f.as_str() == w) else {
                    return Err(
                        self.error_here("a format (table, csv, json, jsonl, dot, mermaid)", &names)
                    );
                };
                self.next();
                Statement::Format(f)
            }
            "load" => {
                self.next();
                let mut files = Vec::new();
                loop {
                    self.offer(Slot::File);
                    let (Tok::Word(w) | Tok::Str(w)) = &self.peek().tok else {
                        break;
                    };
                    files.push(w.clone());
                    self.next();
                }
                if files.is_empty() {
                    return Err(self.error_here("a file to load", &[]));
                }
                Statement::Load(files)
            }
            "save" => {
                self.next();
                Statement::Save(self.word(Slot::File, "a snapshot file name")?.text)
            }
            "quit" | "exit" => {
                self.next();
                Statement::Quit
            }
            _ => Statement::Ask(self.ask()?),
        };
        self.expect_end(&[])?;
        Ok(statement)
    }

    fn ask(&mut self) -> Result<Ask, QueryError> {
        let count = self.eat("count");
        let (query, limit) = self.query(true)?;
        Ok(Ask {
            query,
            count,
            limit,
        })
    }

    /// Parses a query and, when `allow_limit`, a `limit N` among its
    /// modifiers. Stops before a token it does not know (the caller checks
    /// what follows).
    fn query(&mut self, allow_limit: bool) -> Result<(Query, Option<usize>), QueryError> {
        let Some(first) = self.peek_word() else {
            return Err(self.error_here("a query (try `help`)", STATEMENT_WORDS));
        };
        let mut limit = None;
        let take_limit = |p: &mut Parser, limit: &mut Option<usize>| -> Result<bool, QueryError> {
            if allow_limit && limit.is_none() && p.eat("limit") {
                *limit = Some(p.number()? as usize);
                Ok(true)
            } else {
                Ok(false)
            }
        };
        let query = match first.as_str() {
            "who"
                if self.tokens.get(self.at + 1).is_some_and(
                    |t| matches!(&t.tok, Tok::Word(w) if w.eq_ignore_ascii_case("owns")),
                ) =>
            {
                self.next();
                self.next();
                let entity = self.entity()?;
                take_limit(self, &mut limit)?;
                Query::Owners { entity }
            }
            "manager" | "managers" | "reports" => {
                self.next();
                self.eat("of");
                let person = self.person()?;
                take_limit(self, &mut limit)?;
                if first == "reports" {
                    Query::Reports { person }
                } else {
                    Query::Managers { person }
                }
            }
            "what"
                if self.tokens.get(self.at + 1).is_some_and(
                    |t| matches!(&t.tok, Tok::Word(w) if w.eq_ignore_ascii_case("can")),
                ) && self.tokens.get(self.at + 2).is_some_and(
                    |t| matches!(&t.tok, Tok::Word(w) if w.eq_ignore_ascii_case("person")),
                ) && self.tokens.get(self.at + 3).is_some_and(
                    // `what can person reach`: an entity named "person".
                    |t| !matches!(&t.tok, Tok::Word(w) if w.eq_ignore_ascii_case("reach")),
                ) =>
            {
                self.next();
                self.next();
                self.next();
                let person = self.person()?;
                self.expect_kw("reach")?;
                take_limit(self, &mut limit)?;
                Query::PersonWhat { person }
            }
            "who" => {
                self.next();
                self.offer(Slot::Keyword("owns".into()));
                self.expect_kw("can")?;
                self.expect_kw("reach")?;
                let target = self.entity()?;
                let (mut permission, mut project, mut route) = (None, None, Route::Any);
                loop {
                    if permission.is_none() && self.eat("with") {
                        self.eat("permission");
                        permission = Some(self.word(Slot::Permission, "a permission name")?);
                    } else if project.is_none() && self.eat("in") {
                        self.expect_kw("project")?;
                        project = Some(self.word(Slot::Project, "a project name")?);
                    } else if route == Route::Any && self.eat("direct") {
                        route = Route::Direct;
                    } else if route == Route::Any && self.eat("via") {
                        route = Route::Via(self.entity()?);
                    } else if take_limit(self, &mut limit)? {
                    } else {
                        break;
                    }
                }
                Query::Who {
                    target,
                    permission,
                    project,
                    route,
                }
            }
            "what" => {
                self.next();
                self.expect_kw("can")?;
                self.offer(Slot::Keyword("person".into()));
                let identity = self.entity()?;
                self.expect_kw("reach")?;
                let (mut permission, mut of_type) = (None, None);
                loop {
                    if permission.is_none() && self.eat("with") {
                        self.eat("permission");
                        permission = Some(self.word(Slot::Permission, "a permission name")?);
                    } else if of_type.is_none() && self.eat("of") {
                        self.expect_kw("type")?;
                        of_type = Some(self.word(
                            Slot::Type,
                            "a type (identity, connection, resource or a source type)",
                        )?);
                    } else if take_limit(self, &mut limit)? {
                    } else {
                        break;
                    }
                }
                Query::What {
                    identity,
                    permission,
                    of_type,
                }
            }
            "why" | "via" => {
                self.next();
                if first == "via" {
                    self.expect_kw("which")?;
                    self.expect_kw("group")?;
                }
                let not = first == "why" && self.peek_is("not") && {
                    // `why not Y X`, unless `not` is the identity itself
                    // (`why not X` has only two words after `why`).
                    let after = &self.tokens[self.at + 1..];
                    after.len() > 2
                        && !matches!(after[0].tok, Tok::End)
                        && !matches!(after[1].tok, Tok::End)
                };
                if not {
                    self.next();
                }
                let identity = self.entity()?;
                let target = self.entity()?;
                let mut permission = None;
                loop {
                    if permission.is_none() && self.eat("with") {
                        self.eat("permission");
                        permission = Some(self.word(Slot::Permission, "a permission name")?);
                    } else if take_limit(self, &mut limit)? {
                    } else {
                        break;
                    }
                }
                Query::Why {
                    not,
                    identity,
                    target,
                    permission,
                }
            }
            "members" => {
                self.next();
                self.eat("of");
                let connection = self.entity()?;
                take_limit(self, &mut limit)?;
                Query::Members { connection }
            }
            "groups" => {
                self.next();
                self.eat("of");
                let entity = self.entity()?;
                take_limit(self, &mut limit)?;
                Query::Groups { entity }
            }
            "show" => {
                self.next();
                Query::Show {
                    entity: self.entity()?,
                }
            }
            "find" => {
                self.next();
                let text = self.word(Slot::Text, "text to find")?;
                take_limit(self, &mut limit)?;
                Query::Find { text }
            }
            "stats" => {
                self.next();
                Query::Stats
            }
            "cycles" => {
                self.next();
                Query::Cycles
            }
            _ => return Err(self.error_here("a query (try `help`)", STATEMENT_WORDS)),
        };
        if allow_limit {
            let modifiers: &[&str] = match &query {
                Query::Who { .. } => &["with", "in", "direct", "via", "limit"],
                Query::What { .. } => &["with", "of", "limit"],
                Query::Why { .. } => &["with", "limit"],
                Query::Members { .. }
                | Query::Groups { .. }
                | Query::Find { .. }
                | Query::PersonWhat { .. }
                | Query::Owners { .. }
                | Query::Managers { .. }
                | Query::Reports { .. } => &["limit"],
                _ => &[],
            };
            self.expect_end(modifiers)?;
        }
        Ok((query, limit))
    }

    fn expectation(&mut self) -> Result<Expectation, QueryError> {
        if self.eat("none") {
            self.expect_kw("outside")?;
            let group = self.entity()?;
            self.expect_kw("can")?;
            self.expect_kw("reach")?;
            let target = self.entity()?;
            let permission = if self.eat("with") {
                self.eat("permission");
                Some(self.word(Slot::Permission, "a permission name")?)
            } else {
                None
            };
            self.expect_end(&["with"])?;
            return Ok(Expectation::NoneOutside {
                group,
                target,
                permission,
            });
        }
        if self.eat("count") {
            let (query, _) = self.query(false)?;
            let cmp = match self.peek().tok {
                Tok::Op(c) => {
                    self.next();
                    c
                }
                _ => {
                    let mods: &[&str] = match &query {
                        Query::Who { .. } => &["with", "in", "direct", "via"],
                        Query::What { .. } => &["with", "of"],
                        Query::Why { .. } => &["with"],
                        _ => &[],
                    };
                    let mut expected: Vec<String> = mods.iter().map(|m| format!("`{m}`")).collect();
                    expected.push("a comparison (=, !=, <, <=, >, >=)".into());
                    return Err(self.error_here(&expected.join(", "), mods));
                }
            };
            let value = self.number()?;
            self.expect_end(&[])?;
            return Ok(Expectation::Count { query, cmp, value });
        }
        let starts_query = matches!(
            self.peek_word().as_deref(),
            Some("who" | "what" | "members" | "groups" | "find")
        );
        if starts_query {
            let (query, _) = self.query(false)?;
            let cmp = if let Tok::Op(Cmp::Eq) = self.peek().tok {
                self.next();
                SetCmp::Equals
            } else if self.eat("includes") {
                SetCmp::Includes
            } else if self.eat("excludes") {
                SetCmp::Excludes
            } else {
                let mods: &[&str] = match &query {
                    Query::Who { .. } => &["with", "in", "direct", "via", "includes", "excludes"],
                    Query::What { .. } => &["with", "of", "includes", "excludes"],
                    _ => &["includes", "excludes"],
                };
                let mut expected: Vec<String> = mods.iter().map(|m| format!("`{m}`")).collect();
                expected.push("`= {…}`".into());
                return Err(self.error_here(&expected.join(", "), mods));
            };
            let items = self.set()?;
            self.expect_end(&[])?;
            return Ok(Expectation::Set { query, cmp, items });
        }
        self.offer(Slot::Entity);
        if !matches!(self.peek().tok, Tok::Word(_) | Tok::Str(_)) {
            return Err(self.error_here(
                "`none outside`, `count`, a query or an identity",
                &["none", "count", "who", "what", "members", "groups", "find"],
            ));
        }
        let identity = self.entity()?;
        let negated = if self.eat("reaches") {
            false
        } else if self.eat("can") {
            self.expect_kw("reach")?;
            false
        } else if self.eat("cannot") {
            self.expect_kw("reach")?;
            true
        } else {
            return Err(self.error_here(
                "`reaches`, `can reach` or `cannot reach`",
                &["reaches", "cannot"],
            ));
        };
        let target = self.entity()?;
        let (mut permission, mut via) = (None, None);
        loop {
            if permission.is_none() && self.eat("with") {
                self.eat("permission");
                permission = Some(self.word(Slot::Permission, "a permission name")?);
            } else if via.is_none() && self.eat("via") {
                via = Some(self.entity()?);
            } else {
                break;
            }
        }
        self.expect_end(&["with", "via"])?;
        Ok(Expectation::Reaches {
            negated,
            identity,
            target,
            permission,
            via,
        })
    }

    fn set(&mut self) -> Result<Vec<EntityRef>, QueryError> {
        if self.peek().tok != Tok::LBrace {
            return Err(self.error_here("`{`", &[]));
        }
        self.next();
        let mut items = Vec::new();
        if self.peek().tok == Tok::RBrace {
            self.next();
            return Ok(items);
        }
        loop {
            items.push(self.entity()?);
            match self.peek().tok {
                Tok::Comma => {
                    self.next();
                    // A trailing comma is fine.
                    if self.peek().tok == Tok::RBrace {
                        self.next();
                        return Ok(items);
                    }
                }
                Tok::RBrace => {
                    self.next();
                    return Ok(items);
                }
                _ => return Err(self.error_here("`,` or `}`", &[])),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(text: &str, expected: &str) {
        let got = match parse_script(text) {
            Ok(s) => format!(
                "{:?}",
                s.into_iter().map(|l| l.statement).collect::<Vec<_>>()
            ),
            Err(e) => format!("error {e}"),
        };
        assert!(
            got.contains(expected),
            "{text:?}\n got: {got}\nwant: {expected}"
        );
    }

    #[test]
    fn who_with_every_modifier_in_any_order() {
        check(
            "who can reach prod-db via DBA limit 3 with admin in project P",
            "permission: Some(Word { text: \"admin\"",
        );
        check("count who can reach x direct", "count: true");
    }

    #[test]
    fn misspelt_keyword_gets_a_suggestion_with_position() {
        check(
            "who can rech prod-db",
            "error 1:9: expected `reach`, found `rech`; did you mean `reach`?",
        );
        check(
            "stast",
            "error 1:1: expected a query (try `help`), found `stast`; did you mean `stats`?",
        );
    }

    #[test]
    fn sets_span_lines_and_comments_are_ignored() {
        check(
            "# header\nexpect who can reach a = {\n  alice, # first\n  bob,\n}\n",
            "items: [EntityRef { form: Word, text: \"alice\"",
        );
        assert!(parse_script("a\\\n").is_err());
        assert_eq!(parse_script("stats \\\n").unwrap().len(), 1);
    }

    #[test]
    fn quoted_and_id_references() {
        check(
            "show \"Network Operations\"",
            "form: Quoted, text: \"Network Operations\"",
        );
        check("show id:u-1", "form: Id, text: \"u-1\"");
        check("show 'it''s'", "error");
    }

    #[test]
    fn unterminated_string_is_an_error() {
        check(
            "show \"abc",
            "error 1:6: expected a closing \", found end of line",
        );
    }

    #[test]
    fn expectations_parse() {
        check(
            "expect count what can svc reach <= 20",
            "Count { query: What",
        );
        check(
            "expect none outside Sec can reach log with write",
            "NoneOutside",
        );
        check(
            "expect alice reaches db with admin via DBA",
            "Reaches { negated: false",
        );
        check("expect alice cannot reach db", "Reaches { negated: true");
        check(
            "expect count who can reach x 3",
            "error 1:30: expected `with`, `in`, `direct`, `via`, a comparison",
        );
    }

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
