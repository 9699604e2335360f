//! Rendering: rows to bytes in table, CSV, JSON or JSON-lines form, and
//! nothing else. Callers hand over a writer; this module never opens files.
//!
//! Every format streams: a [`RowWriter`] takes one row at a time and writes
//! it (CSV, JSON lines, one element of a JSON array), or, for the table
//! format, holds at most one chunk of rows ([`CHUNK_ROWS`] rows or
//! [`CHUNK_BYTES`] bytes of text) to measure column widths from before
//! writing it. Memory is bounded by the chunk, not by the answer.
//!
//! CSV output neutralises spreadsheet formula injection reversibly: a cell
//! starting with `=`, `+`, `-`, `@`, tab, carriage return or `'` gets a
//! leading `'` ([`needs_quote_prefix`]), so [`unneutralise`] gives back the exact
//! value. Human-facing text (the table format, the import printout, notes
//! and errors) shows control characters escaped ([`escape`]); CSV and JSON
//! keep every value exact.

pub mod access;
pub mod parquet;
pub mod people;

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::{self, Write};

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};
use serde_json::Value;
use unicode_width::UnicodeWidthStr;

/// Output formats shared by every command.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Aligned columns for people.
    Table,
    /// RFC 4180 CSV with a header row.
    Csv,
    /// One JSON document.
    Json,
    /// One JSON object per line.
    Jsonl,
}

/// A generic result table: named columns, rows of JSON values (strings,
/// numbers, booleans, null).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Table {
    /// Column names.
    pub columns: Vec<String>,
    /// Rows, each as long as `columns`.
    pub rows: Vec<Vec<Value>>,
}

impl Table {
    /// A table with the given column names and no rows.
    pub fn new(columns: &[&str]) -> Table {
        Table {
            columns: columns.iter().map(|c| c.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    /// Appends a row.
    pub fn push(&mut self, row: Vec<Value>) {
        debug_assert_eq!(row.len(), self.columns.len());
        self.rows.push(row);
    }

    /// Renders the table through a [`RowWriter`]: JSON objects keep the
    /// column order.
    pub fn write(&self, format: Format, out: &mut dyn Write) -> io::Result<()> {
        let columns: Vec<&str> = self.columns.iter().map(String::as_str).collect();
        let mut writer = RowWriter::new(&columns, format, out)?;
        let mut cells = Vec::with_capacity(columns.len());
        for row in &self.rows {
            cells.clear();
            cells.extend(row.iter().map(Cell::from));
            writer.row(&cells)?;
        }
        writer.finish().map(|_| ())
    }
}

/// One cell of a row handed to a [`RowWriter`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Cell<'a> {
    /// Text.
    Str(&'a str),
    /// No value: empty in table and CSV, `null` in JSON.
    Null,
    /// Any other JSON value (a number, a boolean, an array): its JSON text
    /// in table and CSV.
    Json(&'a Value),
}

impl<'a> From<&'a Value> for Cell<'a> {
    fn from(v: &'a Value) -> Cell<'a> {
        match v {
            Value::String(s) => Cell::Str(s),
            Value::Null => Cell::Null,
            other => Cell::Json(other),
        }
    }
}

impl<'a> From<&'a str> for Cell<'a> {
    fn from(s: &'a str) -> Cell<'a> {
        Cell::Str(s)
    }
}

impl<'a> From<Option<&'a str>> for Cell<'a> {
    fn from(s: Option<&'a str>) -> Cell<'a> {
        s.map_or(Cell::Null, Cell::Str)
    }
}

impl Cell<'_> {
    /// The cell as plain text: strings unquoted, null empty.
    pub fn text(&self) -> Cow<'_, str> {
        match self {
            Cell::Str(s) => Cow::Borrowed(s),
            Cell::Null => Cow::Borrowed(""),
            Cell::Json(v) => Cow::Owned(plain(v)),
        }
    }
}

impl Serialize for Cell<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Cell::Str(s) => serializer.serialize_str(s),
            Cell::Null => serializer.serialize_unit(),
            Cell::Json(v) => v.serialize(serializer),
        }
    }
}

/// A row as a JSON object whose keys are the columns, in column order (a
/// `serde_json::Value` object would sort them).
struct Object<'r, 'c> {
    columns: &'r [String],
    cells: &'r [Cell<'c>],
}

impl Serialize for Object<'_, '_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.columns.len()))?;
        for (column, cell) in self.columns.iter().zip(self.cells) {
            map.serialize_entry(column, cell)?;
        }
        map.end()
    }
}

/// Rows of the table format held before they are written, at most: their
/// widths set the columns' widths (see [`RowWriter`]).
pub const CHUNK_ROWS: usize = 1024;

/// Bytes of cell text the table format holds before writing, at most.
pub const CHUNK_BYTES: usize = 4 << 20;

/// Writes rows one at a time in any [`Format`], so an answer of any size
/// streams:
///
/// * CSV: a header row, then each row as it comes (formula-neutralised);
/// * JSON: one array of objects, pretty-printed, one element per row, keys
///   in column order;
/// * JSON lines: one object per row;
/// * table: upper-case headers and left-aligned columns two spaces apart,
///   control characters escaped ([`escape`]). Rows are held in chunks of
///   [`CHUNK_ROWS`] rows (or [`CHUNK_BYTES`] bytes); a column is as wide as
///   its widest cell so far, so an answer that fits one chunk is aligned
///   exactly and a longer one widens a column only where a later chunk
///   needs it. Nothing is cut.
pub struct RowWriter<'o> {
    format: Format,
    out: &'o mut dyn Write,
    columns: Vec<String>,
    table: Option<TextTable>,
    rows: u64,
    buf: Vec<u8>,
    indented: Vec<u8>,
    /// The Parquet table rows go to instead, for [`RowWriter::parquet`].
    parquet: Option<parquet::ParquetRows>,
}

impl<'o> RowWriter<'o> {
    /// A writer of rows with these columns as one typed Parquet table (see
    /// [`parquet`]), streamed in row groups; `format` is then unused.
    pub fn parquet(columns: &[&str], out: &'o mut dyn Write) -> io::Result<RowWriter<'o>> {
        let mut writer = RowWriter::new(columns, Format::Jsonl, out)?;
        writer.parquet = Some(parquet::ParquetRows::new(columns)?);
        Ok(writer)
    }

    /// A writer of rows with these columns; CSV writes its header now.
    pub fn new(
        columns: &[&str],
        format: Format,
        out: &'o mut dyn Write,
    ) -> io::Result<RowWriter<'o>> {
        let mut writer = RowWriter {
            format,
            out,
            columns: columns.iter().map(|c| c.to_string()).collect(),
            table: (format == Format::Table).then(|| TextTable::new(columns)),
            rows: 0,
            buf: Vec::new(),
            indented: Vec::new(),
            parquet: None,
        };
        if format == Format::Csv {
            csv_row(&mut writer.buf, columns.iter().copied());
            writer.out.write_all(&writer.buf)?;
        }
        Ok(writer)
    }

    /// Writes one row (as long as the columns).
    pub fn row(&mut self, cells: &[Cell<'_>]) -> io::Result<()> {
        debug_assert_eq!(cells.len(), self.columns.len());
        if let Some(table) = &mut self.parquet {
            self.rows += 1;
            return table.row(cells, &mut *self.out);
        }
        match self.format {
            Format::Table => {
                self.rows += 1;
                let table = self.table.as_mut().expect("a table format writer");
                table.push(cells.iter().map(|c| c.text()), &mut *self.out)
            }
            Format::Csv => {
                self.rows += 1;
                self.buf.clear();
                for (i, cell) in cells.iter().enumerate() {
                    if i > 0 {
                        self.buf.push(b',');
                    }
                    csv_cell(&mut self.buf, &cell.text());
                }
                self.buf.push(b'\n');
                self.out.write_all(&self.buf)
            }
            Format::Json | Format::Jsonl => {
                let columns = std::mem::take(&mut self.columns);
                let written = self.element(&Object {
                    columns: &columns,
                    cells,
                });
                self.columns = columns;
                written
            }
        }
    }

    /// Writes any serialisable value as the next element of the JSON array
    /// (or JSON line), for answers whose cells are objects. Table and CSV
    /// writers take rows only ([`RowWriter::row`]).
    pub fn element(&mut self, value: &impl Serialize) -> io::Result<()> {
        if self.parquet.is_some() {
            return Err(io::Error::other("a Parquet table is written row by row"));
        }
        self.rows += 1;
        self.buf.clear();
        match self.format {
            Format::Jsonl => {
                serde_json::to_writer(&mut self.buf, value).map_err(io::Error::from)?;
                self.buf.push(b'\n');
                self.out.write_all(&self.buf)
            }
            Format::Json => {
                // An element of a pretty-printed array: every line indented
                // two spaces (a JSON string holds no raw newline).
                serde_json::to_writer_pretty(&mut self.buf, value).map_err(io::Error::from)?;
                self.indented.clear();
                self.indented
                    .extend_from_slice(if self.rows == 1 { b"[\n" } else { b",\n" });
                for (i, line) in self.buf.split(|&b| b == b'\n').enumerate() {
                    if i > 0 {
                        self.indented.push(b'\n');
                    }
                    self.indented.extend_from_slice(b"  ");
                    self.indented.extend_from_slice(line);
                }
                self.out.write_all(&self.indented)
            }
            Format::Table | Format::Csv => Err(io::Error::other(
                "a table or CSV answer is written row by row",
            )),
        }
    }

    /// Writes what is held and the end of the document; returns the number
    /// of rows written.
    pub fn finish(mut self) -> io::Result<u64> {
        if let Some(table) = self.parquet.take() {
            return table.finish(&mut *self.out);
        }
        match self.format {
            Format::Table => {
                if let Some(mut table) = self.table.take() {
                    table.flush(&mut *self.out)?;
                }
            }
            Format::Json => {
                self.out
                    .write_all(if self.rows == 0 { b"[]\n" } else { b"\n]\n" })?;
            }
            Format::Csv | Format::Jsonl => {}
        }
        Ok(self.rows)
    }
}

/// The table format's pending chunk: escaped cell text in one string, each
/// cell's end and display width.
struct TextTable {
    header: Vec<(String, usize)>,
    widths: Vec<usize>,
    header_written: bool,
    text: String,
    cells: Vec<(usize, usize)>,
    block: String,
}

impl TextTable {
    fn new(columns: &[&str]) -> TextTable {
        let header: Vec<(String, usize)> = columns
            .iter()
            .map(|c| {
                let h = escape(&c.to_uppercase()).into_owned();
                let w = display_width(&h);
                (h, w)
            })
            .collect();
        TextTable {
            widths: header.iter().map(|&(_, w)| w).collect(),
            header,
            header_written: false,
            text: String::new(),
            cells: Vec::new(),
            block: String::new(),
        }
    }

    fn push<'c>(
        &mut self,
        cells: impl Iterator<Item = Cow<'c, str>>,
        out: &mut dyn Write,
    ) -> io::Result<()> {
        for cell in cells {
            let start = self.text.len();
            escape_into(&cell, &mut self.text);
            let width = display_width(&self.text[start..]);
            self.cells.push((self.text.len(), width));
        }
        if self.cells.len() >= CHUNK_ROWS * self.widths.len().max(1)
            || self.text.len() >= CHUNK_BYTES
        {
            self.flush(out)?;
        }
        Ok(())
    }

    /// Writes the header (once) and the pending rows, widening columns to
    /// fit them.
    fn flush(&mut self, out: &mut dyn Write) -> io::Result<()> {
        let columns = self.widths.len().max(1);
        for (k, &(_, w)) in self.cells.iter().enumerate() {
            let c = k % columns;
            self.widths[c] = self.widths[c].max(w);
        }
        self.block.clear();
        if !self.header_written {
            self.header_written = true;
            let row_start = self.block.len();
            for (i, (h, w)) in self.header.iter().enumerate() {
                self.block.push_str(h);
                pad(&mut self.block, self.widths[i] - w + 2);
            }
            end_line(&mut self.block, row_start);
        }
        let mut start = 0;
        for row in self.cells.chunks(columns) {
            let row_start = self.block.len();
            for (i, &(end, w)) in row.iter().enumerate() {
                self.block.push_str(&self.text[start..end]);
                pad(&mut self.block, self.widths[i] - w + 2);
                start = end;
            }
            end_line(&mut self.block, row_start);
        }
        self.text.clear();
        self.cells.clear();
        out.write_all(self.block.as_bytes())
    }
}

fn pad(s: &mut String, n: usize) {
    s.extend(std::iter::repeat_n(' ', n));
}

/// Ends the line that starts at `row_start` without trailing whitespace.
fn end_line(s: &mut String, row_start: usize) {
    let kept = s[row_start..].trim_end().len();
    s.truncate(row_start + kept);
    s.push('\n');
}

/// Columns a terminal gives `s` (already escaped: no control characters).
fn display_width(s: &str) -> usize {
    if s.is_ascii() {
        s.len()
    } else {
        UnicodeWidthStr::width(s)
    }
}

/// True for a character a terminal would act on rather than show: C0 and
/// C1 controls, DEL, and the bidirectional overrides and isolates that
/// reorder what follows them on screen.
fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        )
}

/// Appends `s` with every character a terminal would act on escaped:
/// `\n`, `\r`, `\t`, `\x1b` (other ASCII controls and DEL as `\xNN`),
/// `\u{9b}` (C1 controls, bidirectional controls). Everything else is
/// copied as it is.
pub fn escape_into(s: &str, out: &mut String) {
    if s.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        out.push_str(s);
        return;
    }
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if needs_escape(c) && (c as u32) < 0x80 => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if needs_escape(c) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
}

/// `s` as a terminal may show it: every control character escaped (see
/// [`escape_into`]); borrowed when there is none. The one escaping rule of
/// the table format and every human-facing printout.
pub fn escape(s: &str) -> Cow<'_, str> {
    if s.chars().any(needs_escape) {
        let mut out = String::with_capacity(s.len() + 16);
        escape_into(s, &mut out);
        Cow::Owned(out)
    } else {
        Cow::Borrowed(s)
    }
}

/// Multi-line text as a terminal may show it: each line [`escape`]d, the
/// line breaks kept.
pub fn escape_lines(s: &str) -> Cow<'_, str> {
    if !s.chars().any(|c| c != '\n' && needs_escape(c)) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for (i, line) in s.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        escape_into(line, &mut out);
    }
    Cow::Owned(out)
}

/// A value as plain text: strings unquoted, null empty.
pub fn plain(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// True when a CSV cell gets a leading `'`: a spreadsheet would execute a
/// cell starting like this (`=`, `+`, `-`, `@`, tab, carriage return), or it
/// starts with `'` itself, so that the quote whocan adds is never confused
/// with one in the data.
pub fn needs_quote_prefix(s: &str) -> bool {
    matches!(
        s.as_bytes().first(),
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r' | b'\'')
    )
}

/// `s` with whocan's formula neutralisation undone: one leading `'`
/// removed. The exact inverse of [`csv_cell`]'s prefix, for any value.
pub fn unneutralise(s: &str) -> &str {
    s.strip_prefix('\'').unwrap_or(s)
}

/// Appends one CSV cell: formula-neutralised, quoted when needed.
pub fn csv_cell(out: &mut Vec<u8>, s: &str) {
    csv_quoted(out, if needs_quote_prefix(s) { "'" } else { "" }, s);
}

/// Appends `s` as one CSV field of a data file (the generator's CSV, read
/// back as input): quoted, quotes doubled, when it holds a comma, a quote or
/// a line break, and never formula-neutralised, which would change the data.
/// Reports use [`csv_cell`].
pub fn csv_field(out: &mut Vec<u8>, s: &str) {
    csv_quoted(out, "", s);
}

/// `prefix` then `s` as one CSV field, quoted when `s` needs it.
#[inline]
fn csv_quoted(out: &mut Vec<u8>, prefix: &str, s: &str) {
    let quote = s.bytes().any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r'));
    if quote {
        out.push(b'"');
    }
    out.extend_from_slice(prefix.as_bytes());
    if quote {
        for b in s.bytes() {
            if b == b'"' {
                out.push(b'"');
            }
            out.push(b);
        }
        out.push(b'"');
    } else {
        out.extend_from_slice(s.as_bytes());
    }
}

/// Appends one CSV row terminated by `\n`.
pub fn csv_row<'a>(out: &mut Vec<u8>, cells: impl IntoIterator<Item = &'a str>) {
    for (i, cell) in cells.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        csv_cell(out, cell);
    }
    out.push(b'\n');
}

/// `N thing` or `N things`: the one place whocan pluralises a count in a
/// message or an answer (`one` for exactly one, `many` otherwise, zero
/// included).
pub fn plural<N: Copy + std::fmt::Display + TryInto<u64>>(n: N, one: &str, many: &str) -> String {
    let is_one = n.try_into().ok() == Some(1);
    format!("{n} {}", if is_one { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(cell: &str, expected: &str) {
        let mut out = Vec::new();
        csv_cell(&mut out, cell);
        assert_eq!(String::from_utf8(out).unwrap(), expected);
    }

    #[test]
    fn csv_cells_quote_and_neutralise_formulas() {
        check("plain", "plain");
        check("a,b", "\"a,b\"");
        check("say \"hi\"", "\"say \"\"hi\"\"\"");
        check("two\nlines", "\"two\nlines\"");
        check("=HYPERLINK(\"x\")", "\"'=HYPERLINK(\"\"x\"\")\"");
        check("+1", "'+1");
        check("-1", "'-1");
        check("@SUM(A1)", "'@SUM(A1)");
        check("\tx", "'\tx");
        check("\rx", "\"'\rx\"");
        check("a=b", "a=b");
    }

    /// The table format as comfy-table rendered it before (preset NOTHING,
    /// two spaces of right padding, lines trimmed): the reference for
    /// answers that fit one chunk.
    fn comfy(table: &Table) -> String {
        let mut t = comfy_table::Table::new();
        t.load_preset(comfy_table::presets::NOTHING);
        t.set_header(
            table
                .columns
                .iter()
                .map(|c| comfy_table::Cell::new(c.to_uppercase())),
        );
        for row in &table.rows {
            t.add_row(
                row.iter()
                    .map(|v| comfy_table::Cell::new(plain(v).replace('\n', "\\n"))),
            );
        }
        for column in t.column_iter_mut() {
            column.set_padding((0, 2));
        }
        let mut out = String::new();
        for line in t.to_string().lines() {
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }

    fn render(table: &Table, format: Format) -> String {
        let mut out = Vec::new();
        table.write(format, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    proptest::proptest! {
        /// Cells of printable text (wide and combining characters, inner
        /// and trailing spaces, empty cells) render exactly as comfy-table
        /// did.
        #[test]
        fn table_format_equals_comfy_table_for_small_answers(
            rows in proptest::collection::vec(
                proptest::collection::vec("[a-zé漢 \u{301}0-9]{0,6}", 3),
                0..8,
            )
        ) {
            let mut t = Table::new(&["id", "name", "wide_column_name"]);
            for row in rows {
                t.push(row.into_iter().map(Value::String).collect());
            }
            proptest::prop_assert_eq!(render(&t, Format::Table), comfy(&t));
        }

        /// Any value, once neutralised and quoted as a CSV cell, reads back
        /// as itself after [`unneutralise`]: `-1` and `'-1` stay apart.
        #[test]
        fn issue_13_3_neutralisation_is_reversible(
            start in proptest::sample::select(vec!["=", "+", "-", "@", "'", "''", "\t", "\r", ""]),
            rest in "[a-z'=\",\r\n -]{0,6}",
        ) {
            let value = format!("{start}{rest}");
            let mut line = Vec::new();
            csv_row(&mut line, [value.as_str(), "x"]);
            let mut reader = csv::ReaderBuilder::new().has_headers(false).from_reader(line.as_slice());
            let record = reader.records().next().unwrap().unwrap();
            proptest::prop_assert_eq!(unneutralise(&record[0]), value.as_str());
        }
    }

    #[test]
    fn issue_13_3_a_leading_quote_is_doubled() {
        check("'-1", "''-1");
        check("'x", "''x");
        check("it's", "it's");
        assert_eq!(unneutralise("''-1"), "'-1");
        assert_eq!(unneutralise("'-1"), "-1");
        assert_eq!(unneutralise("-1"), "-1");
    }

    #[test]
    fn issue_13_14_escape_shows_every_control_character() {
        assert_eq!(escape("plain é 漢"), "plain é 漢");
        assert!(matches!(escape("plain"), Cow::Borrowed(_)));
        assert_eq!(
            escape("ok\r\x1b[2K\x07\x08\t\n\x7f"),
            r"ok\r\x1b[2K\x07\x08\t\n\x7f"
        );
        assert_eq!(
            escape("\u{9b}31m\u{202e}x\u{2066}"),
            r"\u{9b}31m\u{202e}x\u{2066}"
        );
        assert_eq!(escape_lines("a\x1b\nb\r\n"), "a\\x1b\nb\\r\n");
        let mut t = Table::new(&["name"]);
        t.push(vec![Value::String("ok\r\x1b[2Kroot".into())]);
        assert_eq!(render(&t, Format::Table), "NAME\nok\\r\\x1b[2Kroot\n");
        // CSV and JSON keep the value exact.
        assert_eq!(render(&t, Format::Csv), "name\n\"ok\r\x1b[2Kroot\"\n");
        assert_eq!(
            render(&t, Format::Jsonl),
            "{\"name\":\"ok\\r\\u001b[2Kroot\"}\n"
        );
    }

    #[test]
    fn issue_14_json_keys_follow_the_column_order() {
        let mut t = Table::new(&["zeta", "alpha", "mid"]);
        t.push(vec![Value::from(1), Value::Null, Value::from("x")]);
        assert_eq!(
            render(&t, Format::Jsonl),
            "{\"zeta\":1,\"alpha\":null,\"mid\":\"x\"}\n"
        );
        assert_eq!(
            render(&t, Format::Json),
            "[\n  {\n    \"zeta\": 1,\n    \"alpha\": null,\n    \"mid\": \"x\"\n  }\n]\n"
        );
        assert_eq!(render(&Table::new(&["a"]), Format::Json), "[]\n");
    }

    /// Counts the bytes written so far (also `access`'s tests).
    #[derive(Clone, Default)]
    pub(crate) struct Counter(pub(crate) std::rc::Rc<std::cell::Cell<usize>>);

    impl Write for Counter {
        fn write(&mut self, data: &[u8]) -> io::Result<usize> {
            self.0.set(self.0.get() + data.len());
            Ok(data.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    /// The table format writes each chunk as it fills: what it holds is
    /// bounded by the chunk, not by the answer.
    #[test]
    fn issue_14_table_format_streams_in_chunks() {
        let counter = Counter::default();
        let mut out = counter.clone();
        let mut w = RowWriter::new(&["n", "text"], Format::Table, &mut out).unwrap();
        let mut written_at = Vec::new();
        for n in 0..10 * CHUNK_ROWS {
            let n = n.to_string();
            w.row(&[Cell::Str(&n), Cell::Str("row")]).unwrap();
            written_at.push(counter.0.get());
        }
        w.finish().unwrap();
        // Bytes are out after the first chunk, and never more than one
        // chunk of rows is pending.
        assert_eq!(written_at[CHUNK_ROWS - 2], 0);
        assert!(written_at[CHUNK_ROWS - 1] > 0);
        for k in 1..10 {
            assert!(written_at[k * CHUNK_ROWS - 1] > written_at[k * CHUNK_ROWS - 2]);
        }
        // A later, wider chunk widens its column; nothing is cut.
        let mut out = Vec::new();
        let mut w = RowWriter::new(&["n", "text"], Format::Table, &mut out).unwrap();
        for n in 0..CHUNK_ROWS + 1 {
            let text = if n == CHUNK_ROWS {
                "a much longer cell"
            } else {
                "x"
            };
            w.row(&[Cell::Str("1"), Cell::Str(text)]).unwrap();
        }
        w.finish().unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("N  TEXT\n1  x\n"));
        assert!(text.ends_with("\n1  a much longer cell\n"));
    }

    /// A cell of millions of characters (a 1M-node cycle's member list)
    /// renders whole, on one line, in time linear in its length; the
    /// comfy-table renderer split it at 65,535 columns and took minutes.
    #[test]
    fn issue_13_10_table_renders_huge_cells_whole_in_linear_time() {
        let huge = "member-0000001, ".repeat(400_000);
        let mut t = Table::new(&["cycle", "members"]);
        for k in 0..3 {
            t.push(vec![Value::from(k), Value::String(huge.clone())]);
        }
        let text = render(&t, Format::Table);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4);
        assert_eq!(lines[1], format!("0      {}", huge.trim_end()));
    }
}
