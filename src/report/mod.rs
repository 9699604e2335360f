//! Rendering: rows to bytes in table, CSV, JSON or JSON-lines form, and
//! nothing else. Callers hand over a writer; this module never opens files.
//!
//! CSV output neutralises spreadsheet formula injection: a cell starting with
//! `=`, `+`, `-`, `@`, tab or carriage return gets a leading `'`.

pub mod access;
pub mod people;

use std::io::{self, Write};

use serde_json::Value;

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

    /// Renders the table.
    pub fn write(&self, format: Format, out: &mut dyn Write) -> io::Result<()> {
        match format {
            Format::Table => write_table(self, out),
            Format::Csv => {
                let mut buf = Vec::new();
                csv_row(&mut buf, self.columns.iter().map(String::as_str));
                for row in &self.rows {
                    let cells: Vec<String> = row.iter().map(plain).collect();
                    csv_row(&mut buf, cells.iter().map(String::as_str));
                }
                out.write_all(&buf)
            }
            Format::Json => {
                let objects: Vec<Value> = self.rows.iter().map(|r| self.object(r)).collect();
                serde_json::to_writer_pretty(&mut *out, &objects)?;
                out.write_all(b"\n")
            }
            Format::Jsonl => {
                for row in &self.rows {
                    serde_json::to_writer(&mut *out, &self.object(row))?;
                    out.write_all(b"\n")?;
                }
                Ok(())
            }
        }
    }

    fn object(&self, row: &[Value]) -> Value {
        Value::Object(
            self.columns
                .iter()
                .cloned()
                .zip(row.iter().cloned())
                .collect(),
        )
    }
}

/// A value as plain text: strings unquoted, null empty.
pub fn plain(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn write_table(table: &Table, out: &mut dyn Write) -> io::Result<()> {
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
    for line in t.to_string().lines() {
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}

/// True when a spreadsheet would execute a cell starting like this.
fn is_formula(s: &str) -> bool {
    matches!(
        s.as_bytes().first(),
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r')
    )
}

/// Appends one CSV cell: formula-neutralised, quoted when needed.
pub fn csv_cell(out: &mut Vec<u8>, s: &str) {
    let neutralise = is_formula(s);
    let quote = s.bytes().any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r'));
    if quote {
        out.push(b'"');
    }
    if neutralise {
        out.push(b'\'');
    }
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
}
