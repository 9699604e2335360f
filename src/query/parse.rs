//! Text to [`Statement`]s: one parser for the prompt, one-shot commands and
//! query files.
//!
//! Statements end at a newline or `;`. A newline inside `{…}` or after a
//! trailing `\` continues the statement, so sets and long queries can span
//! lines. `#` starts a comment. Keywords are case-insensitive; a misspelt
//! keyword gets a suggestion. Does no I/O and knows nothing of the graph:
//! entity references are resolved by [`super::Engine`]. The lexer is
//! `lex`; the completion support (`Continuation`, `expected_after`) is
//! `complete`, re-exported here.

use super::QueryError;
use super::ast::*;
use super::lex::{Tok, Token, describe, lex};

pub use super::complete::{Continuation, Slot, expected_after, is_incomplete};

/// Every word that can start a statement, for messages and completion.
pub const STATEMENT_WORDS: &[&str] = &[
    "who", "what", "why", "via", "members", "groups", "show", "find", "stats", "cycles", "count",
    "expect", "help", "format", "load", "save", "quit", "exit", "manager", "reports", "forbid",
    "blast",
];

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

/// The parser over one statement's tokens.
pub(super) struct Parser<'t> {
    /// The statement's tokens, its end last.
    pub(super) tokens: &'t [Token],
    /// The next token.
    pub(super) at: usize,
    /// When completing: what was looked for at the last token.
    pub(super) slots: Option<std::cell::RefCell<Vec<Slot>>>,
}

impl<'t> Parser<'t> {
    pub(super) fn peek(&self) -> &'t Token {
        &self.tokens[self.at.min(self.tokens.len() - 1)]
    }

    pub(super) fn next(&mut self) -> &'t Token {
        let t = self.peek();
        if self.at < self.tokens.len() - 1 {
            self.at += 1;
        }
        t
    }

    /// Notes that `slot` is looked for, when completing and at the end.
    pub(super) fn offer(&self, slot: Slot) {
        if let Some(slots) = &self.slots {
            if self.at + 1 >= self.tokens.len() {
                slots.borrow_mut().push(slot);
            }
        }
    }

    pub(super) fn peek_word(&self) -> Option<String> {
        match &self.peek().tok {
            Tok::Word(w) => Some(w.to_lowercase()),
            _ => None,
        }
    }

    pub(super) fn peek_is(&self, kw: &str) -> bool {
        self.offer(Slot::Keyword(kw.to_string()));
        self.peek_word().as_deref() == Some(kw)
    }

    pub(super) fn eat(&mut self, kw: &str) -> bool {
        if self.peek_is(kw) {
            self.next();
            true
        } else {
            false
        }
    }

    pub(super) fn error_here(&self, expected: &str, choices: &[&str]) -> QueryError {
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

    pub(super) fn expect_kw(&mut self, kw: &str) -> Result<(), QueryError> {
        if self.eat(kw) {
            Ok(())
        } else {
            Err(self.error_here(&format!("`{kw}`"), &[kw]))
        }
    }

    pub(super) fn expect_end(&mut self, modifiers: &[&str]) -> Result<(), QueryError> {
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

    pub(super) fn entity(&mut self) -> Result<EntityRef, QueryError> {
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

    pub(super) fn word(&mut self, slot: Slot, what: &str) -> Result<Word, QueryError> {
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

    /// Parses one statement.
    pub(super) fn statement(&mut self) -> Result<Statement, QueryError> {
        let Some(first) = self.peek_word() else {
            return Err(self.error_here("a statement (try `help`)", STATEMENT_WORDS));
        };
        let statement = match first.as_str() {
            "expect" => {
                self.next();
                Statement::Expect(self.expectation()?)
            }
            "forbid" => {
                self.next();
                Statement::Expect(Expectation::Forbid(self.rule()?))
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
            "what"
                if self.tokens.get(self.at + 1).is_some_and(
                    |t| matches!(&t.tok, Tok::Word(w) if w.eq_ignore_ascii_case("if")),
                ) =>
            {
                self.next();
                self.what_if()?
            }
            "blast" => {
                self.next();
                self.blast()?
            }
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
                self.offer(Slot::Keyword("if".into()));
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
        if self.eat("forbid") {
            return Ok(Expectation::Forbid(self.rule()?));
        }
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
}
