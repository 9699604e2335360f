//! The identity-to-employee mapping file (`--people-map FILE.csv`, the
//! "unmapped identities" CSV of `whocan people unmapped`, filled in by a
//! person; reference/balkanid-identity-employee-mapping.md): read through
//! [`crate::import::records`] like every CSV input, checked row by row
//! against the identities and HRIS employees already loaded, into
//! [`Model::people_map`]. Links are derived from it by `people::People`.

use std::path::Path;

use rustc_hash::FxHashMap;

use super::records::{Next, Record, Records, TableError, excerpt, header_key, read_header};
use super::strip_angle_brackets;
use crate::model::{FileDigest, Model, PeopleMapFile, PeopleMapRow, Rejection, Relation};
use crate::people::Index;

/// A mapping file that cannot be read at all.
pub type PeopleMapError = TableError;

/// Reads one identity-to-employee mapping file into `model.people_map`:
/// accepted rows as loaded, rejected rows with file:line:column and reason.
/// Rows accepted + rows rejected = rows read. Call after every data file is
/// imported: rows are checked against the identities and HRIS employees
/// loaded. A file that cannot be read as a mapping file is an error and
/// adds nothing.
///
/// The file's size and blake3 digest, over all its bytes, are recorded in
/// [`Model::inputs`] beside it (what `snapshot verify --sources` checks).
pub fn load(model: &mut Model, path: &Path) -> Result<(), PeopleMapError> {
    let io = |source| PeopleMapError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let mut digest = super::Digesting::new(file, None);
    load_reader(model, path, &mut digest)?;
    // The digest covers the whole file, as recorded.
    std::io::copy(&mut digest, &mut std::io::sink()).map_err(io)?;
    let (bytes, blake3) = digest.finish();
    model.inputs.people_maps.push(FileDigest {
        path: path.to_path_buf(),
        bytes,
        blake3,
    });
    Ok(())
}

/// [`load`] from any reader; `path` names it in messages and rows.
pub fn load_reader(
    model: &mut Model,
    path: &Path,
    reader: impl std::io::Read,
) -> Result<(), PeopleMapError> {
    let mut csv = Records::new(reader);
    let mut record = Record::new();
    let mut keys: Vec<String> = Vec::new();
    // Comparison key to its first column: one lookup per header.
    let mut first_of: FxHashMap<String, usize> = FxHashMap::default();
    let header_line = read_header(
        &mut csv,
        &mut record,
        |e| TableError::header(path, e),
        |line, i, text| {
            let key = header_key(text);
            if !key.is_empty() {
                if let Some(&first) = first_of.get(&key) {
                    return Err(PeopleMapError::Header {
                        path: path.to_path_buf(),
                        line,
                        column: i + 1,
                        message: format!(
                            "duplicate column {} (same as column {})",
                            excerpt(text.trim()),
                            first + 1
                        ),
                    });
                }
                first_of.insert(key.clone(), i);
            }
            keys.push(key);
            Ok(())
        },
    )?;
    let find = |name: &str| first_of.get(&header_key(name)).copied();
    let (source_col, id_col, email_col, relation_col) = (
        find("Source"),
        find("Identity ID"),
        find("Employee Email"),
        find("Relation"),
    );
    let missing: Vec<String> = [
        ("Identity ID", id_col),
        ("Employee Email", email_col),
        ("Relation", relation_col),
    ]
    .iter()
    .filter(|(_, c)| c.is_none())
    .map(|(n, _)| format!("{n:?}"))
    .collect();
    let (Some(id_col), Some(email_col), Some(relation_col)) = (id_col, email_col, relation_col)
    else {
        return Err(PeopleMapError::MissingColumns {
            path: path.to_path_buf(),
            line: header_line,
            columns: missing,
        });
    };
    let index = Index::new(model);
    let mut report = PeopleMapFile {
        path: path.to_path_buf(),
        ..PeopleMapFile::default()
    };
    let width = keys.len();
    loop {
        let next = match csv.read(&mut record) {
            Ok(next) => next,
            Err(e) => {
                // An I/O error ends the file; it is reported.
                let line = record.line();
                report.rows_read += 1;
                report.rows_rejected += 1;
                model.people_map.rejections.push(Rejection::people_map(
                    path,
                    line,
                    1,
                    format!("cannot read record: {e}"),
                ));
                break;
            }
        };
        let line = record.line();
        match next {
            Next::End => break,
            Next::TooLong(t) => {
                report.rows_read += 1;
                report.rows_rejected += 1;
                model.people_map.rejections.push(Rejection::people_map(
                    path,
                    line,
                    t.column,
                    t.reason(),
                ));
                continue;
            }
            Next::Record => {}
        }
        if record.len() == 1 && record[0].trim_ascii().is_empty() && width > 1 {
            // A blank line is not a row.
            continue;
        }
        report.rows_read += 1;
        let outcome = check_row(
            model,
            &index,
            &record,
            width,
            (source_col, id_col, email_col, relation_col),
        );
        match outcome {
            Ok((source, identity_id, employee_email, relation)) => {
                report.rows_accepted += 1;
                model.people_map.rows.push(PeopleMapRow {
                    source,
                    identity_id,
                    employee_email,
                    relation,
                    file: path.to_path_buf(),
                    line,
                });
            }
            Err((column, reason)) => {
                report.rows_rejected += 1;
                model
                    .people_map
                    .rejections
                    .push(Rejection::people_map(path, line, column, reason));
            }
        }
    }
    model.people_map.files.push(report);
    Ok(())
}

type Checked = (String, String, String, Relation);

/// Validates one mapping row; on rejection, the 1-based column and reason.
fn check_row(
    model: &Model,
    index: &Index,
    record: &Record,
    width: usize,
    (source_col, id_col, email_col, relation_col): (Option<usize>, usize, usize, usize),
) -> Result<Checked, (usize, String)> {
    if record.len() != width {
        return Err((
            record.len().min(width).max(1),
            format!("row has {} fields but the header has {width}", record.len()),
        ));
    }
    let mut cells = Vec::with_capacity(width);
    for (i, cell) in record.iter().enumerate() {
        let text = std::str::from_utf8(cell)
            .map_err(|_| (i + 1, format!("column {} is not valid UTF-8", i + 1)))?;
        if text.len() > crate::import::MAX_CELL_BYTES {
            return Err((
                i + 1,
                format!(
                    "cell is longer than {} bytes",
                    crate::import::MAX_CELL_BYTES
                ),
            ));
        }
        cells.push(text.trim());
    }
    let source = source_col.map_or("", |c| crate::report::unneutralise(cells[c]));
    let id = crate::report::unneutralise(cells[id_col]);
    let email = strip_angle_brackets(cells[email_col]);
    let relation = cells[relation_col];
    if id.is_empty() {
        return Err((id_col + 1, "Identity ID is empty (required)".into()));
    }
    if email.is_empty() {
        return Err((
            email_col + 1,
            "Employee Email is empty (required); fill it in or delete the row".into(),
        ));
    }
    let relation = if relation.eq_ignore_ascii_case("is") {
        Relation::Is
    } else if relation.eq_ignore_ascii_case("owns") {
        Relation::Owns
    } else if relation.is_empty() {
        return Err((
            relation_col + 1,
            "Relation is empty: expected IS or OWNS".into(),
        ));
    } else {
        return Err((
            relation_col + 1,
            format!("Relation {} is not IS or OWNS", excerpt(relation)),
        ));
    };
    index
        .identity(model, source, id)
        .map_err(|r| (id_col + 1, r))?;
    index
        .employee(model, email)
        .map_err(|r| (email_col + 1, r))?;
    Ok((
        source.to_string(),
        id.to_string(),
        email.to_string(),
        relation,
    ))
}
