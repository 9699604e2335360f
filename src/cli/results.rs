//! One run, one document: the results of `whocan query`'s and `whocan run`'s
//! statements framed as one JSON document (`--format json`) or one JSON
//! object per statement and line (`jsonl`), and `whocan run --junit FILE`'s
//! JUnit XML.
//!
//! Each answer is still rendered by `whocan::query` and streamed through
//! here as it is written; this module only adds the frame around it (the
//! statement, its line, the verdict of an `expect`, an error).

use std::io::{self, Write};

use whocan::query::ast::{Located, OutputFormat, Statement};
use whocan::query::session::{Executed, execute};

/// How the items are framed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Frame {
    /// One pretty-printed JSON document.
    Json,
    /// One compact JSON object per line.
    Jsonl,
}

impl Frame {
    fn of(format: OutputFormat) -> Option<Frame> {
        match format {
            OutputFormat::Json => Some(Frame::Json),
            OutputFormat::Jsonl => Some(Frame::Jsonl),
            _ => None,
        }
    }
}

/// What the document is: `query`'s array of items, or `run`'s object with
/// its file, the items and the counts.
#[derive(Clone, Debug)]
pub enum Shape {
    /// `[ {statement, line, answer}, … ]`.
    Items,
    /// `{"file": …, "results": [ … ], "passed": N, "failed": N}`; with
    /// `jsonl`, the items and then `{"file", "passed", "failed"}`.
    Run {
        /// The query file, as given.
        file: String,
    },
}

/// The document being written: which frame is open and how many items it
/// holds. Statements in a table-like format are written around it as they
/// were; a `format` statement that leaves JSON closes the document.
pub struct Document {
    shape: Shape,
    open: Option<(Frame, usize)>,
    /// Whether any JSON document or line was written.
    wrote: bool,
}

/// JSON text of a string.
fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

impl Document {
    /// A document of `shape`, nothing written yet.
    pub fn new(shape: Shape) -> Document {
        Document {
            shape,
            open: None,
            wrote: false,
        }
    }

    /// Indentation of an item's opening brace in a JSON document.
    fn indent(&self) -> &'static str {
        match self.shape {
            Shape::Items => "  ",
            Shape::Run { .. } => "    ",
        }
    }

    /// Opens the frame for `frame` (closing another one) and starts a new
    /// item: returns what to write before the item's head.
    fn begin(&mut self, frame: Frame) -> Vec<u8> {
        let mut bytes = Vec::new();
        if self.open.is_some_and(|(f, _)| f != frame) {
            bytes.extend(self.close_bytes());
        }
        let (_, count) = match &mut self.open {
            Some(open) => open,
            None => {
                if frame == Frame::Json {
                    match &self.shape {
                        Shape::Items => bytes.extend_from_slice(b"[\n"),
                        Shape::Run { file } => bytes.extend(
                            format!("{{\n  \"file\": {},\n  \"results\": [\n", quote(file))
                                .into_bytes(),
                        ),
                    }
                }
                self.wrote = true;
                self.open.insert((frame, 0))
            }
        };
        if frame == Frame::Json && *count > 0 {
            bytes.extend_from_slice(b",\n");
        }
        *count += 1;
        bytes
    }

    /// The start of an item, up to the value of its last key.
    fn head(&self, frame: Frame, st: &Located, key: &str) -> String {
        let statement = quote(&st.text);
        let line = st.pos.line;
        match frame {
            Frame::Json => {
                let i = self.indent();
                format!(
                    "{i}{{\n{i}  \"statement\": {statement},\n{i}  \"line\": {line},\n{i}  \"{key}\": "
                )
            }
            Frame::Jsonl => format!("{{\"statement\":{statement},\"line\":{line},\"{key}\":"),
        }
    }

    /// Closes an item whose last value has been written.
    fn tail(&self, out: &mut dyn Write, frame: Frame) -> io::Result<()> {
        match frame {
            Frame::Json => write!(out, "\n{}}}", self.indent()),
            Frame::Jsonl => out.write_all(b"}\n"),
        }
    }

    /// Closes the open document, if any, and returns what ends it (`run`'s
    /// counts come with [`Document::finish`]).
    fn close_bytes(&mut self) -> &'static [u8] {
        match (self.open.take(), &self.shape) {
            (Some((Frame::Json, _)), Shape::Items) => b"\n]\n",
            (Some((Frame::Json, _)), Shape::Run { .. }) => b"\n  ]\n}\n",
            _ => b"",
        }
    }

    /// Closes the open JSON document, if any, before text in another format
    /// is written after it.
    pub fn close(&mut self, out: &mut dyn Write) -> io::Result<()> {
        out.write_all(self.close_bytes())
    }

    /// Runs one statement, writing an answer (or help) in `format` into the
    /// document when the format is JSON or JSON lines, and straight to `out`
    /// otherwise. Expectations and errors come back for the caller to frame
    /// with [`Document::verdict`] or [`Document::error`], or print.
    pub fn execute(
        &mut self,
        engine: &whocan::query::Engine,
        st: &Located,
        format: &mut OutputFormat,
        out: &mut dyn Write,
    ) -> io::Result<Executed> {
        let Some(frame) = Frame::of(*format) else {
            out.write_all(self.close_bytes())?;
            return execute(engine, st, format, out, &mut io::stderr());
        };
        match st.statement {
            Statement::Ask(_) => {}
            Statement::Help(_) => {
                // Help is text: one JSON string.
                let mut text = Vec::new();
                let executed = execute(engine, st, format, &mut text, &mut io::stderr())?;
                if matches!(executed, Executed::Done) {
                    out.write_all(&self.begin(frame))?;
                    out.write_all(self.head(frame, st, "answer").as_bytes())?;
                    out.write_all(quote(&String::from_utf8_lossy(&text)).as_bytes())?;
                    self.tail(out, frame)?;
                }
                return Ok(executed);
            }
            _ => return execute(engine, st, format, out, &mut io::stderr()),
        }
        // The item is written only once the answer starts: a query that
        // cannot be answered writes nothing and comes back as an error.
        let saved = (self.open, self.wrote);
        let mut prefix = self.begin(frame);
        prefix.extend(self.head(frame, st, "answer").into_bytes());
        if frame == Frame::Jsonl {
            prefix.push(b'[');
        }
        let mut item = Item {
            out: &mut *out,
            prefix: Some(prefix),
            newline: match frame {
                Frame::Json => format!("\n{}  ", self.indent()).into_bytes(),
                Frame::Jsonl => b",".to_vec(),
            },
            pending: false,
        };
        let executed = execute(engine, st, format, &mut item, &mut io::stderr())?;
        match (&executed, item.prefix.take()) {
            (Executed::Done, Some(prefix)) => {
                // An empty JSON-lines answer writes no line at all.
                item.out.write_all(&prefix)?;
                item.out.write_all(b"[]")?;
            }
            (_, Some(_)) => {
                (self.open, self.wrote) = saved;
                return Ok(executed);
            }
            (_, None) if frame == Frame::Jsonl => item.out.write_all(b"]")?,
            (_, None) => {}
        }
        self.tail(out, frame)?;
        Ok(executed)
    }

    /// True when statements in `format` are framed into the document (JSON
    /// and JSON lines); the caller prints them itself otherwise.
    pub fn frames(format: OutputFormat) -> bool {
        Frame::of(format).is_some()
    }

    /// Frames an expectation's verdict, when the format is JSON or JSON
    /// lines (see [`Document::frames`]); writes nothing otherwise.
    pub fn verdict(
        &mut self,
        out: &mut dyn Write,
        format: OutputFormat,
        st: &Located,
        passed: bool,
        detail: &str,
    ) -> io::Result<()> {
        let Some(frame) = Frame::of(format) else {
            return Ok(());
        };
        out.write_all(&self.begin(frame))?;
        out.write_all(self.head(frame, st, "passed").as_bytes())?;
        let detail = quote(detail);
        match frame {
            Frame::Json => write!(out, "{passed},\n{}  \"detail\": {detail}", self.indent())?,
            Frame::Jsonl => write!(out, "{passed},\"detail\":{detail}")?,
        }
        self.tail(out, frame)
    }

    /// Frames a statement that could not be answered (the rendered message,
    /// with its position), when the format is JSON or JSON lines; writes
    /// nothing otherwise.
    pub fn error(
        &mut self,
        out: &mut dyn Write,
        format: OutputFormat,
        st: &Located,
        message: &str,
    ) -> io::Result<()> {
        let Some(frame) = Frame::of(format) else {
            return Ok(());
        };
        out.write_all(&self.begin(frame))?;
        out.write_all(self.head(frame, st, "error").as_bytes())?;
        out.write_all(quote(message).as_bytes())?;
        self.tail(out, frame)
    }

    /// Ends the run: closes the document (with `run`'s counts), or writes
    /// an empty one when the run's format is JSON and nothing was written.
    pub fn finish(
        mut self,
        out: &mut dyn Write,
        format: OutputFormat,
        counts: Option<(u64, u64)>,
    ) -> io::Result<()> {
        let frame = self.open.map(|(f, _)| f).or(Frame::of(format));
        match (&self.shape, frame, counts) {
            (Shape::Run { file }, Some(Frame::Json), Some((passed, failed))) => {
                if self.open.is_none() {
                    write!(out, "{{\n  \"file\": {},\n  \"results\": [", quote(file))?;
                } else {
                    out.write_all(b"\n  ]")?;
                }
                self.open = None;
                writeln!(
                    out,
                    ",\n  \"passed\": {passed},\n  \"failed\": {failed}\n}}"
                )?;
            }
            (Shape::Run { file }, Some(Frame::Jsonl), Some((passed, failed))) => {
                writeln!(
                    out,
                    "{{\"file\":{},\"passed\":{passed},\"failed\":{failed}}}",
                    quote(file)
                )?;
            }
            (Shape::Items, Some(Frame::Json), _) if !self.wrote => out.write_all(b"[]\n")?,
            _ => out.write_all(self.close_bytes())?,
        }
        Ok(())
    }
}

/// Re-frames an answer's JSON as it streams: the item's prefix (separator
/// and head) before the first byte, and each line break that is followed by more text turned
/// into `newline` (an indented line break in a JSON document; a comma
/// between the rows of a JSON-lines answer, which becomes one array). JSON
/// strings never hold a raw line break, so every `\n` is between values.
struct Item<'o> {
    out: &'o mut dyn Write,
    /// Written before the first byte, then `None`.
    prefix: Option<Vec<u8>>,
    newline: Vec<u8>,
    pending: bool,
}

impl Write for Item<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        if let Some(prefix) = self.prefix.take() {
            self.out.write_all(&prefix)?;
        }
        let mut rest = buf;
        while !rest.is_empty() {
            if self.pending {
                self.out.write_all(&self.newline)?;
                self.pending = false;
            }
            match memchr::memchr(b'\n', rest) {
                Some(i) => {
                    self.out.write_all(&rest[..i])?;
                    self.pending = true;
                    rest = &rest[i + 1..];
                }
                None => {
                    self.out.write_all(rest)?;
                    rest = &[];
                }
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// How one `expect` (or a statement that could not be answered) ended.
#[derive(Debug)]
enum Outcome {
    Passed,
    /// A failed expectation: what was found.
    Failed(String),
    /// A statement that could not be evaluated: the rendered error.
    Error(String),
}

/// `whocan run --junit FILE`: one testcase per `expect`, and one per query
/// that could not be answered (both count as failed in `run`), with
/// `file:line` in every failure message.
#[derive(Debug)]
pub struct JUnit {
    file: String,
    cases: Vec<(String, u32, Outcome)>,
}

/// Escapes text for an XML attribute (line breaks and tabs as character
/// references, which attribute parsing would otherwise turn into spaces) or,
/// with `attribute` false, element content. Characters XML 1.0 cannot hold
/// at all (most control characters) become U+FFFD.
fn escape(text: &str, attribute: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' | '\t' if !attribute => out.push(c),
            '\n' => out.push_str("&#10;"),
            '\t' => out.push_str("&#9;"),
            '\r' => out.push_str("&#13;"),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// A statement's text on one line, for a testcase name.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl JUnit {
    /// Results of the query file `file` (as given on the command line).
    pub fn new(file: &str) -> JUnit {
        JUnit {
            file: file.to_string(),
            cases: Vec::new(),
        }
    }

    /// Records an expectation's verdict.
    pub fn verdict(&mut self, st: &Located, passed: bool, detail: &str) {
        let outcome = if passed {
            Outcome::Passed
        } else {
            Outcome::Failed(detail.to_string())
        };
        self.cases.push((one_line(&st.text), st.pos.line, outcome));
    }

    /// Records a statement that could not be evaluated, with its rendered
    /// error (which starts with `file:line:column:`).
    pub fn error(&mut self, st: &Located, rendered: &str) {
        self.cases.push((
            one_line(&st.text),
            st.pos.line,
            Outcome::Error(rendered.to_string()),
        ));
    }

    /// Writes the XML document.
    pub fn write(&self, out: &mut dyn Write) -> io::Result<()> {
        let count = |f: fn(&Outcome) -> bool| self.cases.iter().filter(|c| f(&c.2)).count();
        let tests = self.cases.len();
        let failures = count(|o| matches!(o, Outcome::Failed(_)));
        let errors = count(|o| matches!(o, Outcome::Error(_)));
        let file = escape(&self.file, true);
        writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
        writeln!(
            out,
            r#"<testsuites name="whocan run" tests="{tests}" failures="{failures}" errors="{errors}">"#
        )?;
        writeln!(
            out,
            r#"  <testsuite name="{file}" tests="{tests}" failures="{failures}" errors="{errors}" skipped="0">"#
        )?;
        for (name, line, outcome) in &self.cases {
            let open = format!(
                r#"    <testcase classname="{file}" name="{}" file="{file}" line="{line}""#,
                escape(name, true)
            );
            match outcome {
                Outcome::Passed => writeln!(out, "{open}/>")?,
                Outcome::Failed(detail) => {
                    writeln!(out, "{open}>")?;
                    writeln!(
                        out,
                        r#"      <failure type="expect" message="{}">{}</failure>"#,
                        escape(&format!("{}:{line}: {name}", self.file), true),
                        escape(detail, false)
                    )?;
                    writeln!(out, "    </testcase>")?;
                }
                Outcome::Error(rendered) => {
                    writeln!(out, "{open}>")?;
                    let first = rendered.lines().next().unwrap_or_default();
                    writeln!(
                        out,
                        r#"      <error type="query" message="{}">{}</error>"#,
                        escape(first, true),
                        escape(rendered, false)
                    )?;
                    writeln!(out, "    </testcase>")?;
                }
            }
        }
        writeln!(out, "  </testsuite>")?;
        writeln!(out, "</testsuites>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check_item(newline: &str, chunks: &[&str], expected: &str) {
        let mut out = Vec::new();
        let mut item = Item {
            out: &mut out,
            prefix: Some(b"P:".to_vec()),
            newline: newline.as_bytes().to_vec(),
            pending: false,
        };
        for chunk in chunks {
            item.write_all(chunk.as_bytes()).unwrap();
        }
        assert_eq!(String::from_utf8(out).unwrap(), expected);
    }

    #[test]
    fn json_lines_rows_become_one_array_whatever_the_write_boundaries() {
        check_item(
            ",",
            &["{\"a\":1}\n{\"a\"", ":2}", "\n"],
            "P:{\"a\":1},{\"a\":2}",
        );
        check_item(",", &["{\"a\":1}", "\n"], "P:{\"a\":1}");
    }

    #[test]
    fn pretty_json_is_indented_and_loses_its_last_line_break() {
        check_item("\n    ", &["[\n  1\n]\n"], "P:[\n      1\n    ]");
    }

    #[test]
    fn nothing_written_writes_no_prefix() {
        check_item(",", &[""], "");
    }

    #[test]
    fn xml_escapes_markup_and_characters_xml_cannot_hold() {
        assert_eq!(
            escape("a<b & \"c\" 'd'>\n\t\u{1}", true),
            "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;&#10;&#9;\u{FFFD}"
        );
        assert_eq!(escape("x\ny\tz", false), "x\ny\tz");
    }
}
