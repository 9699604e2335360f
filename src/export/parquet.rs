//! Parquet tables: a fixed list of typed columns, filled row by row and
//! written in row groups of [`ROW_GROUP_ROWS`] rows, so memory is bounded by
//! one row group whatever the table's length.
//!
//! Built on the `parquet` crate's low-level column writers (no Arrow):
//! flat schemas of UTF-8 strings, booleans, 64-bit integers and UTC
//! timestamps (microseconds), each column required or nullable, snappy
//! compression, dictionary encoding where it pays (the crate's default).
//! The module does no file I/O: it writes to any `Write` it is handed.

use std::borrow::Cow;
use std::io::Write;
use std::sync::{Arc, Mutex};

use parquet::basic::Compression;
use parquet::data_type::{BoolType, ByteArray, ByteArrayType, Int64Type};
use parquet::errors::ParquetError;
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;

/// Rows per row group: the unit of buffering. At most this many rows of a
/// table are held in memory (as column values, then as the encoded pages
/// of one row group) before they are written out.
pub const ROW_GROUP_ROWS: usize = 1 << 16;

/// The physical and logical type of a column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColumnType {
    /// `BYTE_ARRAY (STRING)`: UTF-8 text.
    Utf8,
    /// `BOOLEAN`.
    Bool,
    /// `INT64`: a signed 64-bit integer.
    Int64,
    /// `INT64 (TIMESTAMP(MICROS, true))`: microseconds since the Unix epoch,
    /// UTC. Cells are given in seconds ([`Cell::Time`]).
    Timestamp,
}

/// One column of a table: its name, type and whether it may be null.
#[derive(Clone, Debug)]
pub struct Column {
    /// The column name (lowercase, `snake_case`).
    pub name: Cow<'static, str>,
    /// Its type.
    pub ty: ColumnType,
    /// Whether a cell may be null (`optional` in the Parquet schema).
    pub nullable: bool,
}

impl Column {
    /// A required column.
    pub const fn required(name: &'static str, ty: ColumnType) -> Column {
        Column {
            name: Cow::Borrowed(name),
            ty,
            nullable: false,
        }
    }

    /// A nullable column.
    pub const fn nullable(name: &'static str, ty: ColumnType) -> Column {
        Column {
            name: Cow::Borrowed(name),
            ty,
            nullable: true,
        }
    }
}

/// One cell of a row, `None` for null.
#[derive(Clone, Copy, Debug)]
pub enum Cell<'a> {
    /// A [`ColumnType::Utf8`] cell.
    Str(Option<&'a str>),
    /// A [`ColumnType::Bool`] cell.
    Bool(Option<bool>),
    /// A [`ColumnType::Int64`] cell.
    Int(Option<i64>),
    /// A [`ColumnType::Timestamp`] cell, in seconds since the Unix epoch.
    Time(Option<i64>),
}

/// The values of one column in the current row group.
enum Values {
    Utf8 {
        values: Vec<ByteArray>,
        /// The last value pushed, whose bytes the next equal value shares
        /// (sorted reports repeat a value over consecutive rows).
        last: Option<ByteArray>,
    },
    Bool(Vec<bool>),
    Int64(Vec<i64>),
}

/// One column's buffer: values and, for a nullable column, definition
/// levels (1 present, 0 null).
struct Buffer {
    values: Values,
    defs: Vec<i16>,
}

/// Writes one Parquet table (one file) row by row.
pub struct TableWriter<W: Write + Send> {
    writer: SerializedFileWriter<W>,
    columns: Vec<Column>,
    buffers: Vec<Buffer>,
    rows: usize,
    total: u64,
}

impl<W: Write + Send> TableWriter<W> {
    /// Starts a table named `name` (the Parquet schema's message name) with
    /// `columns`, written to `out`.
    pub fn new(out: W, name: &str, columns: &[Column]) -> Result<TableWriter<W>, ParquetError> {
        let schema = Arc::new(parse_message_type(&schema_text(name, columns))?);
        let properties = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            // Row groups are cut here, by row count; the crate's own limit
            // must not cut them first.
            .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
            .set_created_by(format!("whocan {}", env!("CARGO_PKG_VERSION")))
            .build();
        let writer = SerializedFileWriter::new(out, schema, Arc::new(properties))?;
        let buffers = columns
            .iter()
            .map(|c| Buffer {
                values: match c.ty {
                    ColumnType::Utf8 => Values::Utf8 {
                        values: Vec::new(),
                        last: None,
                    },
                    ColumnType::Bool => Values::Bool(Vec::new()),
                    ColumnType::Int64 | ColumnType::Timestamp => Values::Int64(Vec::new()),
                },
                defs: Vec::new(),
            })
            .collect();
        Ok(TableWriter {
            writer,
            columns: columns.to_vec(),
            buffers,
            rows: 0,
            total: 0,
        })
    }

    /// Adds one row: one cell per column, in column order, each of the
    /// column's type (a row of another shape is refused with an error, and
    /// leaves the table unusable). Returns true when the row completed a
    /// row group, which was written out.
    pub fn row(&mut self, cells: &[Cell<'_>]) -> Result<bool, ParquetError> {
        if cells.len() != self.columns.len() {
            return Err(ParquetError::General(format!(
                "a row of {} cells for {} columns",
                cells.len(),
                self.columns.len()
            )));
        }
        for ((cell, column), buffer) in cells.iter().zip(&self.columns).zip(&mut self.buffers) {
            let present = match (cell, &mut buffer.values) {
                (Cell::Str(v), Values::Utf8 { values, last }) => v.map(|s| {
                    let bytes = match last {
                        Some(l) if l.data() == s.as_bytes() => l.clone(),
                        _ => {
                            let b = ByteArray::from(s);
                            *last = Some(b.clone());
                            b
                        }
                    };
                    values.push(bytes);
                }),
                (Cell::Bool(v), Values::Bool(values)) => v.map(|b| values.push(b)),
                (Cell::Int(v), Values::Int64(values)) if column.ty == ColumnType::Int64 => {
                    v.map(|i| values.push(i))
                }
                (Cell::Time(v), Values::Int64(values)) if column.ty == ColumnType::Timestamp => {
                    v.map(|s| values.push(s.saturating_mul(1_000_000)))
                }
                (cell, _) => {
                    return Err(ParquetError::General(format!(
                        "column {}: a cell {cell:?} of another type",
                        column.name
                    )));
                }
            };
            match (present.is_some(), column.nullable) {
                (true, true) => buffer.defs.push(1),
                (false, true) => buffer.defs.push(0),
                (true, false) => {}
                (false, false) => {
                    return Err(ParquetError::General(format!(
                        "column {} is required: a null cell",
                        column.name
                    )));
                }
            }
        }
        self.rows += 1;
        self.total += 1;
        if self.rows == ROW_GROUP_ROWS {
            self.flush_group()?;
            return Ok(true);
        }
        Ok(false)
    }

    /// Rows added so far.
    pub fn rows(&self) -> u64 {
        self.total
    }

    /// Writes the buffered rows as one row group.
    fn flush_group(&mut self) -> Result<(), ParquetError> {
        if self.rows == 0 {
            return Ok(());
        }
        let mut group = self.writer.next_row_group()?;
        for (buffer, column) in self.buffers.iter_mut().zip(&self.columns) {
            let Some(mut writer) = group.next_column()? else {
                return Err(ParquetError::General(format!(
                    "column {} is missing from the schema",
                    column.name
                )));
            };
            let defs = column.nullable.then_some(&buffer.defs[..]);
            match &mut buffer.values {
                Values::Utf8 { values, last } => {
                    writer
                        .typed::<ByteArrayType>()
                        .write_batch(values, defs, None)?;
                    values.clear();
                    *last = None;
                }
                Values::Bool(values) => {
                    writer.typed::<BoolType>().write_batch(values, defs, None)?;
                    values.clear();
                }
                Values::Int64(values) => {
                    writer
                        .typed::<Int64Type>()
                        .write_batch(values, defs, None)?;
                    values.clear();
                }
            }
            buffer.defs.clear();
            writer.close()?;
        }
        group.close()?;
        self.rows = 0;
        Ok(())
    }

    /// Writes the last row group and the footer; returns the writer.
    pub fn finish(mut self) -> Result<W, ParquetError> {
        self.flush_group()?;
        self.writer.into_inner()
    }
}

/// A byte buffer shared with a [`TableWriter`], for writing a table to a
/// writer that is not `Send` (the crate's writer must be): the table writes
/// into the spool, and its owner moves the bytes on with
/// [`Spool::drain_into`] after each row group, so the spool holds at most
/// one row group's encoded bytes.
#[derive(Clone, Default)]
pub struct Spool(Arc<Mutex<Vec<u8>>>);

impl Spool {
    /// Writes the bytes spooled so far to `out` and forgets them.
    pub fn drain_into(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let mut bytes = self.0.lock().map_err(|_| std::io::Error::other("spool"))?;
        out.write_all(&bytes)?;
        bytes.clear();
        Ok(())
    }
}

impl Write for Spool {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        let mut bytes = self.0.lock().map_err(|_| std::io::Error::other("spool"))?;
        bytes.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The Parquet schema of a table, in the message-type text the crate parses.
fn schema_text(name: &str, columns: &[Column]) -> String {
    let mut text = format!("message {name} {{\n");
    for c in columns {
        let repetition = if c.nullable { "optional" } else { "required" };
        let ty = match c.ty {
            ColumnType::Utf8 => "binary",
            ColumnType::Bool => "boolean",
            ColumnType::Int64 | ColumnType::Timestamp => "int64",
        };
        let logical = match c.ty {
            ColumnType::Utf8 => " (STRING)",
            ColumnType::Timestamp => " (TIMESTAMP(MICROS,true))",
            ColumnType::Bool | ColumnType::Int64 => "",
        };
        text.push_str(&format!("  {repetition} {ty} {}{logical};\n", c.name));
    }
    text.push('}');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    const COLUMNS: &[Column] = &[
        Column::required("name", ColumnType::Utf8),
        Column::nullable("flag", ColumnType::Bool),
        Column::nullable("at", ColumnType::Timestamp),
    ];

    #[test]
    fn schema_names_every_column_with_its_type() {
        assert_eq!(
            schema_text("t", COLUMNS),
            "message t {\n  required binary name (STRING);\n  optional boolean flag;\n  \
             optional int64 at (TIMESTAMP(MICROS,true));\n}"
        );
        parse_message_type(&schema_text("t", COLUMNS)).unwrap();
    }
}
