//! Reports as Parquet: the rows a [`super::RowWriter`] is given, written as
//! one typed Parquet table in bounded row groups (see
//! [`crate::export::parquet`]), for `report access --format parquet`.
//!
//! The report's columns keep their names; their types follow from the
//! report contract: every column is a UTF-8 string, `depth` (the manager
//! report's) a 64-bit integer, and the provider columns, empty for a direct
//! grant, are nullable and null there (the CSV's empty cell, JSON's
//! `null`). Text is written as it is: formula neutralisation is for
//! spreadsheets reading CSV, not for typed columns.

use std::io::{self, Write};

use serde_json::Value;

use super::Cell;
use crate::export::parquet::{self as table, Column, ColumnType, Spool, TableWriter};

/// The Parquet columns of a report with these column names.
pub fn columns(names: &[&str]) -> Vec<Column> {
    names
        .iter()
        .map(|&name| {
            let (ty, nullable) = match name {
                "depth" => (ColumnType::Int64, false),
                "provider_id" | "provider_name" => (ColumnType::Utf8, true),
                _ => (ColumnType::Utf8, false),
            };
            Column {
                name: name.to_owned().into(),
                ty,
                nullable,
            }
        })
        .collect()
}

/// A report being written as Parquet: the table writes into a spool that
/// is moved on to the output after every row group.
pub struct ParquetRows {
    table: TableWriter<Spool>,
    spool: Spool,
}

fn io_error(e: ::parquet::errors::ParquetError) -> io::Error {
    io::Error::other(e)
}

impl ParquetRows {
    /// Starts a report table with these column names.
    pub fn new(names: &[&str]) -> io::Result<ParquetRows> {
        let spool = Spool::default();
        let table = TableWriter::new(spool.clone(), "report", &columns(names)).map_err(io_error)?;
        Ok(ParquetRows { table, spool })
    }

    /// Adds one row; after a completed row group, its bytes go to `out`.
    pub fn row(&mut self, cells: &[Cell<'_>], out: &mut dyn Write) -> io::Result<()> {
        let row: Vec<table::Cell<'_>> = cells
            .iter()
            .map(|c| match c {
                Cell::Str(s) => table::Cell::Str(Some(s)),
                Cell::Null => table::Cell::Str(None),
                Cell::Json(Value::Number(n)) => table::Cell::Int(n.as_i64()),
                Cell::Json(Value::Bool(b)) => table::Cell::Bool(Some(*b)),
                Cell::Json(_) => table::Cell::Str(None),
            })
            .collect();
        if self.table.row(&row).map_err(io_error)? {
            self.spool.drain_into(out)?;
        }
        Ok(())
    }

    /// Writes the last row group and the footer to `out`; returns the rows.
    pub fn finish(self, out: &mut dyn Write) -> io::Result<u64> {
        let rows = self.table.rows();
        self.table.finish().map_err(io_error)?;
        self.spool.drain_into(out)?;
        Ok(rows)
    }
}
