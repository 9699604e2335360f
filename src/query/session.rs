//! Running statements, for every front end: [`execute`] answers one parsed
//! statement (printing its answer or help), and [`Results`] words what the
//! prompt (`whocan shell`), `whocan query -e` and `whocan run` report about
//! the rest: an `expect`'s verdict line, an error with its position and the
//! offending line, the counts and the exit code. Each front end keeps only
//! its frame (headings, JSON documents, the prompt's stderr).
//!
//! Does no file I/O: `load` and `save` are returned to the caller, which
//! reads and writes the files; answers go to the writers given.

use std::io::{self, Write};

use super::ast::{Located, OutputFormat, Statement};
use super::{Engine, QueryError, Verdict, help};

/// What running one statement came to.
#[derive(Debug)]
pub enum Executed {
    /// Printed an answer, help, or switched format.
    Done,
    /// An expectation was checked.
    Expect(Verdict),
    /// The statement could not be answered (unknown entity, ambiguity, …).
    Error(QueryError),
    /// `load FILES…`: the caller replaces the data.
    Load(Vec<String>),
    /// `save FILE`: the caller writes a snapshot.
    Save(String),
    /// `quit` / `exit`.
    Quit,
}

/// Runs one statement against `engine`, printing answers to `out` (notes of
/// machine formats to `notes`). Expectations, errors and session commands
/// are returned for the caller to report (through [`Results`]).
pub fn execute(
    engine: &Engine,
    located: &Located,
    format: &mut OutputFormat,
    out: &mut dyn Write,
    notes: &mut dyn Write,
) -> io::Result<Executed> {
    match &located.statement {
        Statement::Ask(ask) => {
            // A query must never take the prompt down; a panic here is a bug,
            // reported as an error instead.
            let result =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| engine.eval(ask)));
            let evaluated = match result {
                Ok(Ok(ev)) => ev,
                Ok(Err(e)) => return Ok(Executed::Error(e)),
                Err(_) => {
                    return Ok(Executed::Error(QueryError::unsupported(
                        located.pos,
                        "internal error while answering this query (a bug; please report it)",
                    )));
                }
            };
            if let Err(message) = evaluated.answer.write(*format, out, notes)? {
                return Ok(Executed::Error(QueryError::unsupported(
                    located.pos,
                    message,
                )));
            }
            Ok(Executed::Done)
        }
        Statement::Expect(e) => Ok(match engine.check(e) {
            Ok(v) => Executed::Expect(v),
            Err(mut e) => {
                if e.pos == Default::default() {
                    e.pos = located.pos;
                }
                Executed::Error(e)
            }
        }),
        Statement::Help(topic) => match help(topic.as_deref()) {
            Ok(text) => {
                out.write_all(text.as_bytes())?;
                Ok(Executed::Done)
            }
            Err(message) => Ok(Executed::Error(QueryError::unsupported(
                located.pos,
                message,
            ))),
        },
        Statement::Format(f) => {
            *format = *f;
            Ok(Executed::Done)
        }
        Statement::Load(files) => Ok(Executed::Load(files.clone())),
        Statement::Save(file) => Ok(Executed::Save(file.clone())),
        Statement::Quit => Ok(Executed::Quit),
    }
}

/// How a front end words assertion results and counts failures.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Style {
    /// The prompt and `whocan query -e`: `ok: STATEMENT` for a pass,
    /// `FAILED: STATEMENT` and the detail indented two spaces for a
    /// failure. Exit 1 after a failed `expect`, 2 after a statement that
    /// could not run.
    Each,
    /// `whocan run FILE`: failures only, as `FILE:LINE: FAILED: STATEMENT`
    /// and the detail indented four spaces. A statement that could not run
    /// is a failure too; exit 1 after any failure.
    FailuresIn(String),
}

/// A run's results so far: how they are worded, how many passed and
/// failed, and the exit code they come to.
#[derive(Clone, Debug)]
pub struct Results {
    style: Style,
    passed: u64,
    failed: u64,
    errors: u64,
}

impl Results {
    /// No results yet, worded in `style`.
    pub fn new(style: Style) -> Results {
        Results {
            style,
            passed: 0,
            failed: 0,
            errors: 0,
        }
    }

    /// Counts the verdict of `st`; returns the text to write (newline
    /// included) when results are written as text, `None` when the style
    /// writes nothing for it (a pass in a query file).
    pub fn verdict(&mut self, st: &Located, v: &Verdict) -> Option<String> {
        if v.passed {
            self.passed += 1;
        } else {
            self.failed += 1;
        }
        match (&self.style, v.passed) {
            (Style::Each, true) => Some(format!("ok: {}\n", st.text)),
            (Style::Each, false) => Some(format!("FAILED: {}\n  {}\n", st.text, v.detail)),
            (Style::FailuresIn(_), true) => None,
            (Style::FailuresIn(name), false) => Some(format!(
                "{name}:{}: FAILED: {}\n    {}\n",
                st.pos.line, st.text, v.detail
            )),
        }
    }

    /// Counts an error in `text` (from `origin`), a text whose first line
    /// is line `first_line` of the input, and renders it:
    /// `ORIGIN:LINE:COLUMN: message`, then the offending line with a caret
    /// under the text.
    pub fn error(&mut self, e: &QueryError, origin: &str, text: &str, first_line: u64) -> String {
        self.errors += 1;
        let offset = u32::try_from(first_line.saturating_sub(1)).unwrap_or(u32::MAX);
        let mut at = e.clone();
        at.pos.line = at.pos.line.saturating_add(offset);
        // `render` with no source is the headline alone; what rendering
        // against the text itself adds is the excerpt with its caret.
        let full = e.render(origin, text);
        let excerpt = full.get(e.render(origin, "").len()..).unwrap_or("");
        format!("{}{excerpt}", at.render(origin, ""))
    }

    /// Counts a failure that is no statement's (a line that could not be
    /// read, a `load` that failed, output that could not be written).
    pub fn other_error(&mut self) {
        self.errors += 1;
    }

    /// Expectations that held.
    pub fn passed(&self) -> u64 {
        self.passed
    }

    /// Expectations that failed, plus statements that could not run.
    pub fn failed(&self) -> u64 {
        self.failed + self.errors
    }

    /// The exit code the results come to (see [`Style`]).
    pub fn code(&self) -> u8 {
        match self.style {
            Style::Each if self.errors > 0 => 2,
            Style::Each if self.failed > 0 => 1,
            Style::FailuresIn(_) if self.failed() > 0 => 1,
            _ => 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::parse::parse_statement;

    #[track_caller]
    fn check(style: Style, passed: bool, expected: Option<&str>, code: u8) {
        let st = parse_statement("expect count stats = 1").unwrap();
        let mut results = Results::new(style);
        let v = Verdict {
            passed,
            detail: "count is 2".into(),
        };
        assert_eq!(results.verdict(&st, &v).as_deref(), expected);
        assert_eq!(results.code(), code);
    }

    #[test]
    fn verdicts_are_worded_by_front_end() {
        check(Style::Each, true, Some("ok: expect count stats = 1\n"), 0);
        check(
            Style::Each,
            false,
            Some("FAILED: expect count stats = 1\n  count is 2\n"),
            1,
        );
        check(Style::FailuresIn("q.wq".into()), true, None, 0);
        check(
            Style::FailuresIn("q.wq".into()),
            false,
            Some("q.wq:1: FAILED: expect count stats = 1\n    count is 2\n"),
            1,
        );
    }

    #[test]
    fn errors_point_at_their_line_in_the_input() {
        let text = "stats\nshow nobody";
        let e = QueryError::unsupported(
            crate::query::ast::Pos { line: 2, column: 6 },
            "no such thing",
        );
        let mut results = Results::new(Style::Each);
        assert_eq!(
            results.error(&e, "input", text, 10),
            "input:11:6: no such thing\n  | show nobody\n  |      ^"
        );
        assert_eq!(results.code(), 2);
        let mut run = Results::new(Style::FailuresIn("q.wq".into()));
        run.error(&e, "q.wq", text, 1);
        assert_eq!((run.failed(), run.code()), (1, 1));
    }
}
