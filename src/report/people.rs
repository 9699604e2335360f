//! Per-person access reports: `report access --by employee` and
//! `--by manager`.
//!
//! An employee's access is the effective access of every identity linked
//! to them ([`crate::people::People`]): identities they `IS` (the accounts
//! they use) and service accounts they `OWNS`, told apart by the `relation`
//! column. Columns [`EMPLOYEE_COLUMNS`]; `--by manager` prefixes
//! [`MANAGER_PREFIX`] and lists every direct and indirect report's rows
//! under each manager. Rows are sorted by string keys, never by hash order,
//! so output is byte-identical across runs; CSV cells are
//! formula-neutralised by [`RowWriter`], which streams every format. An identity linked to two employees
//! (a mapping conflict) appears under both. Identities without effective
//! access give no rows.

use std::cmp::Ordering;
use std::io::{self, Write};

use serde_json::Value;

use super::{Cell, Format, RowWriter};
use crate::expand::Expansion;
use crate::people::{EmployeeIdx, People, employee_attr};

/// Columns of `--by employee`, in order: who the person is and how the
/// identity is theirs, then the access report's own columns.
pub const EMPLOYEE_COLUMNS: [&str; 15] = concat(
    [
        "employee_source",
        "employee_id",
        "employee_name",
        "employee_email",
        "relation",
        "mapping",
    ],
    super::access::COLUMNS,
);

/// `a` followed by `b`, at compile time.
const fn concat<const A: usize, const B: usize, const N: usize>(
    a: [&'static str; A],
    b: [&'static str; B],
) -> [&'static str; N] {
    assert!(A + B == N);
    let mut out = [""; N];
    let mut i = 0;
    while i < N {
        out[i] = if i < A { a[i] } else { b[i - A] };
        i += 1;
    }
    out
}

/// Columns `--by manager` puts before [`EMPLOYEE_COLUMNS`].
pub const MANAGER_PREFIX: [&str; 4] = ["manager_source", "manager_id", "manager_name", "depth"];

/// One employee's rows, sorted, as strings.
fn employee_rows(expansion: &Expansion, people: &People, e: EmployeeIdx) -> Vec<Vec<String>> {
    let m = expansion.model();
    let emp = &m.employees[e as usize];
    let mut rows = Vec::new();
    for link in people.links_of_employee(e) {
        let identity = m.entity(link.identity);
        let mapping = people.describe_how(m, link.how);
        for g in expansion.grants_of(link.identity) {
            let target = m.entity(g.target);
            let provider = g.provider.map(|p| m.entity(p));
            rows.push(vec![
                m.str(emp.source).to_string(),
                m.str(emp.id).to_string(),
                m.str(emp.name).to_string(),
                employee_attr(m, e, "email").to_string(),
                link.relation.as_str().to_string(),
                mapping.clone(),
                m.str(identity.source).to_string(),
                m.str(identity.id).to_string(),
                m.str(identity.name).to_string(),
                m.str(target.id).to_string(),
                m.str(target.name).to_string(),
                target.kind.as_str().to_string(),
                m.str(g.permission).to_string(),
                provider.map_or(String::new(), |p| m.str(p.id).to_string()),
                provider.map_or(String::new(), |p| m.str(p.name).to_string()),
            ]);
        }
    }
    // Relation (IS before OWNS), identity source and id, target id,
    // permission, provider id, then the rest.
    let key = [4usize, 6, 7, 9, 12, 13, 5, 8, 10, 11, 14];
    rows.sort_by(|a, b| {
        key.iter()
            .map(|&k| a[k].cmp(&b[k]))
            .find(|o| *o != Ordering::Equal)
            .unwrap_or(Ordering::Equal)
    });
    rows.dedup();
    rows
}

/// Employees sorted by id, then source.
fn sorted_employees(expansion: &Expansion) -> Vec<EmployeeIdx> {
    let m = expansion.model();
    let mut v: Vec<EmployeeIdx> = (0..m.employees.len() as EmployeeIdx).collect();
    v.sort_by(|&a, &b| {
        let (a, b) = (&m.employees[a as usize], &m.employees[b as usize]);
        (m.str(a.id), m.str(a.source)).cmp(&(m.str(b.id), m.str(b.source)))
    });
    v
}

/// A row's cells: a direct grant's empty provider columns are null
/// (`null` in JSON), as in the access report.
fn cells(row: &[String]) -> impl Iterator<Item = Cell<'_>> + '_ {
    row.iter().enumerate().map(|(i, s)| {
        if s.is_empty() && i >= 13 {
            Cell::Null
        } else {
            Cell::Str(s)
        }
    })
}

/// Writes the `--by employee` report; returns the number of rows. Rows are
/// computed one employee at a time.
pub fn write_by_employee(
    expansion: &Expansion,
    people: &People,
    format: Format,
    out: &mut dyn Write,
) -> io::Result<u64> {
    let mut writer = RowWriter::new(&EMPLOYEE_COLUMNS, format, out)?;
    for e in sorted_employees(expansion) {
        for row in employee_rows(expansion, people, e) {
            let row_cells: Vec<Cell> = cells(&row).collect();
            writer.row(&row_cells)?;
        }
    }
    writer.finish()
}

/// Writes the `--by manager` report: for each manager (by id), each direct
/// (depth 1) and indirect report, nearest first then by id, with that
/// report's rows. A report's rows are recomputed under each of their
/// managers rather than cached: memory stays bounded by one employee's
/// access. Returns the number of rows.
pub fn write_by_manager(
    expansion: &Expansion,
    people: &People,
    format: Format,
    out: &mut dyn Write,
) -> io::Result<u64> {
    let m = expansion.model();
    let mut columns: Vec<&str> = MANAGER_PREFIX.to_vec();
    columns.extend(EMPLOYEE_COLUMNS);
    let mut writer = RowWriter::new(&columns, format, out)?;
    let order = sorted_employees(expansion);
    let mut rank = vec![0usize; m.employees.len()];
    for (r, &e) in order.iter().enumerate() {
        rank[e as usize] = r;
    }
    for &manager in &order {
        let mut reports = people.reports_of(manager);
        reports.sort_by_key(|&(e, depth)| (depth, rank[e as usize]));
        let boss = &m.employees[manager as usize];
        for (e, depth) in reports {
            let depth = Value::from(depth);
            for row in employee_rows(expansion, people, e) {
                let mut row_cells = vec![
                    Cell::Str(m.str(boss.source)),
                    Cell::Str(m.str(boss.id)),
                    Cell::Str(m.str(boss.name)),
                    Cell::Json(&depth),
                ];
                row_cells.extend(cells(&row));
                writer.row(&row_cells)?;
            }
        }
    }
    writer.finish()
}
