//! Exports of the model for other tools: Parquet tables (entities, edges,
//! employees, identity → employee links) for DuckDB, Polars and Spark, and
//! a BloodHound OpenGraph document ([`opengraph`]).
//!
//! Every table lists its rows in the model's order and is written in
//! bounded row groups (see [`parquet`]); the columns and their types are
//! documented in `docs/schema.md`, which a test keeps in step with the
//! column lists here. The module writes to the writers it is handed; the
//! command line opens the files (through `atomic`).

pub mod opengraph;
pub mod parquet;

use std::io::Write;

use self::parquet::{Cell, Column, ColumnType, TableWriter};
use crate::model::{EmployeeValue, Entity, Model, Provenance};
use crate::people::{How, People};

/// Why an export could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The Parquet writer failed (an I/O error underneath, usually).
    #[error("cannot write parquet")]
    Parquet(#[from] ::parquet::errors::ParquetError),
    /// Writing failed.
    #[error("cannot write output")]
    Io(#[from] std::io::Error),
}

use ColumnType::{Bool, Int64, Timestamp, Utf8};

/// The columns of `entities.parquet`, one row per entity in model order
/// (order of first appearance in the input).
pub const ENTITY_COLUMNS: &[Column] = &[
    Column::required("source", Utf8),
    Column::required("id", Utf8),
    Column::required("kind", Utf8),
    Column::required("source_type", Utf8),
    Column::required("name", Utf8),
    Column::required("subject", Bool),
    Column::nullable("project", Utf8),
    Column::nullable("username", Utf8),
    Column::nullable("email", Utf8),
    Column::nullable("status", Utf8),
    Column::nullable("first_name", Utf8),
    Column::nullable("last_name", Utf8),
    Column::nullable("mfa", Bool),
    Column::nullable("last_login", Timestamp),
    Column::nullable("password_changed", Timestamp),
    Column::required("file", Utf8),
    Column::required("line", Int64),
];

/// The columns of `edges.parquet`, one row per distinct edge
/// `(from, to, permission)` in model order (order of first row).
pub const EDGE_COLUMNS: &[Column] = &[
    Column::required("from_source", Utf8),
    Column::required("from_id", Utf8),
    Column::required("to_source", Utf8),
    Column::required("to_id", Utf8),
    Column::required("permission", Utf8),
    Column::required("granted", Bool),
    Column::required("file", Utf8),
    Column::required("line", Int64),
    Column::required("rows", Int64),
];

/// The columns of `employees.parquet`, one row per HRIS employee in model
/// order.
pub const EMPLOYEE_COLUMNS: &[Column] = &[
    Column::required("source", Utf8),
    Column::required("id", Utf8),
    Column::required("name", Utf8),
    Column::nullable("email", Utf8),
    Column::nullable("username", Utf8),
    Column::nullable("idp_id", Utf8),
    Column::nullable("is_active", Bool),
    Column::nullable("start_date", Timestamp),
    Column::nullable("termination_date", Timestamp),
    Column::required("managers", Utf8),
    Column::required("attributes", Utf8),
    Column::required("file", Utf8),
    Column::required("line", Int64),
];

/// The columns of `links.parquet`, one row per identity → employee link,
/// sorted by employee, relation, identity (the order `people` keeps).
pub const LINK_COLUMNS: &[Column] = &[
    Column::required("identity_source", Utf8),
    Column::required("identity_id", Utf8),
    Column::required("employee_source", Utf8),
    Column::required("employee_id", Utf8),
    Column::required("relation", Utf8),
    Column::required("how", Utf8),
    Column::nullable("rule", Utf8),
    Column::nullable("file", Utf8),
    Column::nullable("line", Int64),
];

/// The file a provenance names, as given on the command line.
fn file_of(model: &Model, at: Provenance) -> String {
    model
        .sources
        .get(at.file as usize)
        .map(|s| s.path.display().to_string())
        .unwrap_or_default()
}

/// `Some(text)` unless `text` is empty.
fn non_empty(text: &str) -> Option<&str> {
    (!text.is_empty()).then_some(text)
}

/// Writes `entities.parquet` to `out`; returns the writer and the rows
/// written.
pub fn write_entities<W: Write + Send>(model: &Model, out: W) -> Result<(W, u64), ExportError> {
    let mut table = TableWriter::new(out, "entities", ENTITY_COLUMNS)?;
    // Provenance paths repeat over long runs of rows: resolved once per
    // file.
    let files: Vec<String> = (0..model.sources.len() as u32)
        .map(|file| file_of(model, Provenance { file, line: 0 }))
        .collect();
    for e in &model.entities {
        let Entity {
            source,
            id,
            name,
            kind,
            source_type,
            attributes,
            origin,
        } = e;
        let attr = |pick: fn(&crate::model::Attributes) -> crate::model::Sym| {
            attributes
                .as_ref()
                .and_then(|a| non_empty(model.str(pick(a))))
        };
        let file = files.get(origin.file as usize).map_or("", String::as_str);
        table.row(&[
            Cell::Str(Some(model.str(*source))),
            Cell::Str(Some(model.str(*id))),
            Cell::Str(Some(kind.as_str())),
            Cell::Str(Some(model.str(*source_type))),
            Cell::Str(Some(model.str(*name))),
            Cell::Bool(Some(attributes.is_some())),
            Cell::Str(attr(|a| a.project)),
            Cell::Str(attr(|a| a.username)),
            Cell::Str(attr(|a| a.email)),
            Cell::Str(attr(|a| a.status)),
            Cell::Str(attr(|a| a.first_name)),
            Cell::Str(attr(|a| a.last_name)),
            Cell::Bool(attributes.as_ref().and_then(|a| a.mfa)),
            Cell::Time(attributes.as_ref().and_then(|a| a.last_login)),
            Cell::Time(attributes.as_ref().and_then(|a| a.password_changed)),
            Cell::Str(Some(file)),
            Cell::Int(Some(i64::from(origin.line))),
        ])?;
    }
    let rows = table.rows();
    Ok((table.finish()?, rows))
}

/// Writes `edges.parquet` to `out`; returns the writer and the rows
/// written.
pub fn write_edges<W: Write + Send>(model: &Model, out: W) -> Result<(W, u64), ExportError> {
    let mut table = TableWriter::new(out, "edges", EDGE_COLUMNS)?;
    let files: Vec<String> = (0..model.sources.len() as u32)
        .map(|file| file_of(model, Provenance { file, line: 0 }))
        .collect();
    for edge in &model.edges {
        let (from, to) = (model.entity(edge.from), model.entity(edge.to));
        let file = files
            .get(edge.origin.file as usize)
            .map_or("", String::as_str);
        table.row(&[
            Cell::Str(Some(model.str(from.source))),
            Cell::Str(Some(model.str(from.id))),
            Cell::Str(Some(model.str(to.source))),
            Cell::Str(Some(model.str(to.id))),
            Cell::Str(Some(model.str(edge.permission))),
            Cell::Bool(Some(edge.granted)),
            Cell::Str(Some(file)),
            Cell::Int(Some(i64::from(edge.origin.line))),
            Cell::Int(Some(i64::from(edge.rows))),
        ])?;
    }
    let rows = table.rows();
    Ok((table.finish()?, rows))
}

/// Writes `employees.parquet` to `out`; returns the writer and the rows
/// written.
pub fn write_employees<W: Write + Send>(model: &Model, out: W) -> Result<(W, u64), ExportError> {
    let mut table = TableWriter::new(out, "employees", EMPLOYEE_COLUMNS)?;
    for e in &model.employees {
        let find = |key: &str| {
            e.attributes
                .iter()
                .find(|a| model.str(a.name) == key)
                .copied()
        };
        let text = |key: &str| find(key).and_then(|a| non_empty(model.str(a.text)));
        let is_active = find("is_active").and_then(|a| match a.value {
            EmployeeValue::Bool(b) => Some(b),
            _ => None,
        });
        let time = |key: &str| {
            find(key).and_then(|a| match a.value {
                EmployeeValue::Timestamp(t) => Some(t),
                _ => None,
            })
        };
        let managers: Vec<&str> = e.managers.iter().map(|&m| model.str(m)).collect();
        let attributes: serde_json::Map<String, serde_json::Value> = e
            .attributes
            .iter()
            .map(|a| (model.str(a.name).to_owned(), model.str(a.text).into()))
            .collect();
        // serde_json's map keeps keys sorted (no `preserve_order`): the
        // text is deterministic.
        let attributes = serde_json::Value::Object(attributes).to_string();
        let file = file_of(model, e.origin);
        table.row(&[
            Cell::Str(Some(model.str(e.source))),
            Cell::Str(Some(model.str(e.id))),
            Cell::Str(Some(model.str(e.name))),
            Cell::Str(text("email")),
            Cell::Str(text("username")),
            Cell::Str(text("idp_id")),
            Cell::Bool(is_active),
            Cell::Time(time("start_date")),
            Cell::Time(time("termination_date")),
            Cell::Str(Some(&managers.join(","))),
            Cell::Str(Some(&attributes)),
            Cell::Str(Some(&file)),
            Cell::Int(Some(i64::from(e.origin.line))),
        ])?;
    }
    let rows = table.rows();
    Ok((table.finish()?, rows))
}

/// Writes `links.parquet` to `out` from `people`'s links; returns the
/// writer and the rows written.
pub fn write_links<W: Write + Send>(
    model: &Model,
    people: &People,
    out: W,
) -> Result<(W, u64), ExportError> {
    let mut table = TableWriter::new(out, "links", LINK_COLUMNS)?;
    for link in &people.links {
        let identity = model.entity(link.identity);
        let employee = &model.employees[link.employee as usize];
        let (how, rule, file, line) = match link.how {
            How::Explicit(row) => {
                let row = &model.people_map.rows[row as usize];
                let file = row.file.display().to_string();
                ("explicit", None, Some(file), i64::try_from(row.line).ok())
            }
            How::Auto(rule) => ("auto", Some(rule.as_str()), None, None),
        };
        table.row(&[
            Cell::Str(Some(model.str(identity.source))),
            Cell::Str(Some(model.str(identity.id))),
            Cell::Str(Some(model.str(employee.source))),
            Cell::Str(Some(model.str(employee.id))),
            Cell::Str(Some(link.relation.as_str())),
            Cell::Str(Some(how)),
            Cell::Str(rule),
            Cell::Str(file.as_deref()),
            Cell::Int(line),
        ])?;
    }
    let rows = table.rows();
    Ok((table.finish()?, rows))
}
