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
//!
//! Also here: the unmapped-identities CSV of `whocan people unmapped`
//! ([`write_unmapped`]), the file a person fills in for `--people-map`.

use std::cmp::Ordering;
use std::io::{self, Write};

use serde_json::Value;

use super::{Cell, Format, RowWriter};
use crate::expand::Expansion;
use crate::model::{EntityIdx, Kind, Model};
use crate::people::{EmployeeIdx, MAP_COLUMNS, People, employee_attr};

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
    by_employee(
        expansion,
        people,
        RowWriter::new(&EMPLOYEE_COLUMNS, format, out)?,
    )
}

/// The `--by employee` report as one Parquet table (see
/// [`super::parquet`]), rows as [`write_by_employee`] orders them.
pub fn write_by_employee_parquet(
    expansion: &Expansion,
    people: &People,
    out: &mut dyn Write,
) -> io::Result<u64> {
    by_employee(
        expansion,
        people,
        RowWriter::parquet(&EMPLOYEE_COLUMNS, out)?,
    )
}

fn by_employee(
    expansion: &Expansion,
    people: &People,
    mut writer: RowWriter<'_>,
) -> io::Result<u64> {
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
    by_manager(
        expansion,
        people,
        RowWriter::new(&manager_columns(), format, out)?,
    )
}

/// The `--by manager` report as one Parquet table (see
/// [`super::parquet`]), rows as [`write_by_manager`] orders them.
pub fn write_by_manager_parquet(
    expansion: &Expansion,
    people: &People,
    out: &mut dyn Write,
) -> io::Result<u64> {
    by_manager(
        expansion,
        people,
        RowWriter::parquet(&manager_columns(), out)?,
    )
}

/// [`MANAGER_PREFIX`] then [`EMPLOYEE_COLUMNS`].
fn manager_columns() -> Vec<&'static str> {
    let mut columns: Vec<&str> = MANAGER_PREFIX.to_vec();
    columns.extend(EMPLOYEE_COLUMNS);
    columns
}

fn by_manager(
    expansion: &Expansion,
    people: &People,
    mut writer: RowWriter<'_>,
) -> io::Result<u64> {
    let m = expansion.model();
    let order = sorted_employees(expansion);
    let mut rank = vec![0usize; m.employees.len()];
    for (r, &e) in order.iter().enumerate() {
        rank[e as usize] = r;
    }
    manager_walk(expansion, people, &order, &rank, &mut |manager, reports| {
        let boss = &m.employees[manager as usize];
        for &(e, depth) in reports {
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
        Ok(())
    })?;
    writer.finish()
}

/// Calls `visit` for each manager, by employee id, with their direct and
/// indirect reports that have rows, nearest first: the walk of `--by
/// manager`, shared with the review pages (`crate::review`).
pub fn each_manager(
    expansion: &Expansion,
    people: &People,
    visit: &mut Visit<'_>,
) -> io::Result<u64> {
    let m = expansion.model();
    let order = sorted_employees(expansion);
    let mut rank = vec![0usize; m.employees.len()];
    for (r, &e) in order.iter().enumerate() {
        rank[e as usize] = r;
    }
    manager_walk(expansion, people, &order, &rank, visit)
}

/// What [`each_manager`] calls per manager: the manager, then their
/// reports with rows and each one's depth.
pub type Visit<'a> = dyn FnMut(EmployeeIdx, &[(EmployeeIdx, u32)]) -> io::Result<()> + 'a;

/// Calls `visit` for each manager in `order` with their direct and
/// indirect reports that have rows (an identity with a granted edge), each
/// with its depth, nearest first then by `rank`; returns the number of
/// employees the walk stepped through.
///
/// Linear in the employees and manager links plus the (manager, report)
/// pairs listed: the walk from a manager only enters employees above
/// someone with rows (found once, walking up from them), so a deep chain
/// without access costs nothing per manager. Depths are unchanged: every
/// employee on a shortest path down to one with rows is above them.
fn manager_walk(
    expansion: &Expansion,
    people: &People,
    order: &[EmployeeIdx],
    rank: &[usize],
    visit: &mut Visit<'_>,
) -> io::Result<u64> {
    let n = rank.len();
    let has_rows: Vec<bool> = (0..n as EmployeeIdx)
        .map(|e| {
            people
                .links_of_employee(e)
                .iter()
                .any(|l| !expansion.granted_edges(l.identity).is_empty())
        })
        .collect();
    // Employees with rows and everyone above them.
    let mut above = has_rows.clone();
    let mut stack: Vec<EmployeeIdx> = (0..n as EmployeeIdx)
        .filter(|&e| has_rows[e as usize])
        .collect();
    let mut steps = stack.len() as u64;
    while let Some(e) = stack.pop() {
        for &m in people.direct_managers(e) {
            steps += 1;
            if !above[m as usize] {
                above[m as usize] = true;
                stack.push(m);
            }
        }
    }
    // Breadth first from each manager through `above` only; `seen` holds
    // the number of the walk that last reached an employee.
    let mut seen = vec![u32::MAX; n];
    let mut queue = std::collections::VecDeque::new();
    let mut reports = Vec::new();
    for (walk, &manager) in order.iter().enumerate() {
        if !above[manager as usize] {
            continue;
        }
        let walk = walk as u32;
        seen[manager as usize] = walk;
        queue.clear();
        queue.push_back((manager, 0u32));
        reports.clear();
        while let Some((e, depth)) = queue.pop_front() {
            for &r in people.direct_reports(e) {
                steps += 1;
                if above[r as usize] && seen[r as usize] != walk {
                    seen[r as usize] = walk;
                    if has_rows[r as usize] {
                        reports.push((r, depth + 1));
                    }
                    queue.push_back((r, depth + 1));
                }
            }
        }
        if reports.is_empty() {
            continue;
        }
        reports.sort_by_key(|&(e, depth)| (depth, rank[e as usize]));
        visit(manager, &reports)?;
    }
    Ok(steps)
}

/// The unmapped-identities CSV: one row per identity with no link, sorted
/// by source then id, columns [`MAP_COLUMNS`] with `Employee Email` and
/// `Relation` left empty for a person to fill in, written row by row.
/// Cells are formula-neutralised reversibly (a cell starting with `=`,
/// `+`, `-`, `@`, tab, CR or `'` gets one more leading `'`);
/// `import::people_map` removes one leading `'` from Source and Identity ID, so
/// every id round-trips exactly.
pub fn write_unmapped(
    people: &People,
    model: &Model,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let mut ids: Vec<EntityIdx> = (0..model.entities.len() as EntityIdx)
        .filter(|&i| model.entity(i).kind == Kind::Identity && !people.is_mapped(i))
        .collect();
    ids.sort_by(|&a, &b| {
        let (a, b) = (model.entity(a), model.entity(b));
        (model.str(a.source), model.str(a.id)).cmp(&(model.str(b.source), model.str(b.id)))
    });
    let mut row = Vec::new();
    super::csv_row(&mut row, MAP_COLUMNS);
    out.write_all(&row)?;
    for i in ids {
        let e = model.entity(i);
        let (username, email) = e
            .attributes
            .as_ref()
            .map_or(("", ""), |a| (model.str(a.username), model.str(a.email)));
        row.clear();
        super::csv_row(
            &mut row,
            [
                model.str(e.source),
                model.str(e.id),
                model.str(e.name),
                username,
                email,
                "",
                "",
            ],
        );
        out.write_all(&row)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::AccessGraph;
    use crate::model::{Employee, Model, Provenance};

    /// A model of employees `e0..` whose managers are given by index.
    fn hierarchy(managers: &[&[usize]]) -> Model {
        let mut m = Model::default();
        let hr = m.strings.intern("hr");
        for (i, ms) in managers.iter().enumerate() {
            let id = m.strings.intern(&format!("e{i}"));
            let managers = ms
                .iter()
                .map(|j| m.strings.intern(&format!("e{j}")))
                .collect();
            m.employees.push(Employee {
                source: hr,
                id,
                name: id,
                attributes: Vec::new(),
                managers,
                origin: Provenance { file: 0, line: 1 },
            });
        }
        m
    }

    /// Issue 13.10: `--by manager` over a 20,000-deep manager chain with
    /// no linked identities has nothing to list, and must not walk every
    /// manager's whole chain of reports (20,000² / 2 steps) to find that
    /// out.
    #[test]
    fn issue_13_manager_walk_over_a_deep_chain_without_access_is_linear() {
        let n = 20_000;
        let chain: Vec<Vec<usize>> = (0..n)
            .map(|i| if i == 0 { vec![] } else { vec![i - 1] })
            .collect();
        let refs: Vec<&[usize]> = chain.iter().map(|v| v.as_slice()).collect();
        let graph = AccessGraph::new(hierarchy(&refs));
        let expansion = Expansion::new(&graph);
        let people = People::new(graph.model());
        let order = sorted_employees(&expansion);
        let mut rank = vec![0usize; n];
        for (r, &e) in order.iter().enumerate() {
            rank[e as usize] = r;
        }
        let mut listed = 0;
        let steps = manager_walk(&expansion, &people, &order, &rank, &mut |_, reports| {
            listed += reports.len();
            Ok(())
        })
        .unwrap();
        assert_eq!(listed, 0);
        assert!(steps <= 2 * n as u64, "{steps} steps for {n} employees");
        let mut out = Vec::new();
        let rows = write_by_manager(&expansion, &people, Format::Csv, &mut out).unwrap();
        assert_eq!(rows, 0);
    }
}
