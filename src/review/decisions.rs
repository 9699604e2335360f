//! Reviewers' decisions read back: the CSV a review page downloads,
//! checked against the data it was made from, turned into a revocation
//! list and a completion report per reviewer.
//!
//! [`read`] parses one decisions file through the one record reader
//! (`import::records`: physical line numbers, bounded records, UTF-16
//! refused); every row is accepted or rejected with file:line:column and
//! the reason ([`Rejection`], kind [`RejectKind::Decision`]), and rows read
//! = accepted + rejected. [`check`] then holds each accepted decision
//! against the data loaded now: a scope that no longer exists, a page digest
//! other than the one the data gives (made on other inputs, another scope or
//! another `--as-of` date) or a grant that is no longer in its scope is
//! reported, never applied. For each revoked grant the revocation list
//! names the edges a system owner must remove: the identity's own
//! memberships or assignments through which it holds the grant, each with
//! file:line. Does no I/O beyond the reader and writer it is given.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use rustc_hash::{FxHashMap, FxHashSet};

use super::{By, Review, RowKey};
use crate::import::records::{Next, Record, Records, TableError, excerpt, header_key, read_header};
use crate::model::{EdgeIdx, Kind, RejectKind, Rejection};
use crate::report::{Cell, Format, RowWriter};

/// The columns a decisions file has, as the page writes them; the first
/// nine are required.
pub const COLUMNS: [&str; 11] = [
    "page_digest",
    "scope",
    "reviewer",
    "identity_source",
    "identity_id",
    "target_source",
    "target_id",
    "permission",
    "decision",
    "comment",
    "time",
];

/// Required columns: all but `comment` and `time`.
const REQUIRED: usize = 9;

/// A decisions file that cannot be read at all.
pub type DecisionsError = TableError;

/// What a reviewer decided about a row.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verdict {
    /// Only a comment: the row is still undecided.
    Undecided,
    /// The access stays.
    Keep,
    /// The access goes.
    Revoke,
}

/// One accepted decisions row.
#[derive(Clone, Debug)]
pub struct Decision {
    /// The file it came from.
    pub file: PathBuf,
    /// Its physical line.
    pub line: u64,
    /// The page digest it was made on.
    pub digest: String,
    /// The page's scope key.
    pub scope: String,
    /// Who decided.
    pub reviewer: String,
    /// The grant.
    pub key: RowKey,
    /// Keep, revoke, or neither.
    pub verdict: Verdict,
    /// The reviewer's comment.
    pub comment: String,
    /// When, as the page recorded it.
    pub time: String,
}

/// Every decisions file read.
#[derive(Debug, Default)]
pub struct Decisions {
    /// Accepted rows, in input order.
    pub rows: Vec<Decision>,
    /// Rejected rows, in input order.
    pub rejections: Vec<Rejection>,
    /// Data rows read (blank lines are not rows).
    pub rows_read: u64,
}

fn reject(path: &Path, line: u64, column: usize, reason: String) -> Rejection {
    Rejection {
        file: path.to_path_buf(),
        line,
        column,
        kind: RejectKind::Decision,
        reason,
        record: String::new(),
    }
}

/// Reads one decisions file into `into`. A file without a readable header
/// or without the required columns is an error and adds nothing; a bad row
/// is rejected with its line, column and reason.
pub fn read(path: &Path, reader: impl Read, into: &mut Decisions) -> Result<(), DecisionsError> {
    let (rows, rejections) = (&mut into.rows, &mut into.rejections);
    into.rows_read += read_table(
        path,
        reader,
        (&COLUMNS, REQUIRED),
        rejections,
        |record, values, cols| {
            rows.push(row(path, record, values, cols)?);
            Ok(())
        },
    )?;
    Ok(())
}

/// The columns of a revocation list that name the edge to remove.
const EDGE_COLUMNS: [&str; 4] = [
    "remove_from_source",
    "remove_from_id",
    "remove_to_source",
    "remove_to_id",
];

/// One edge of a revocation list: `from` is to be removed from `to`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RevokedEdge {
    /// The file it came from.
    pub file: PathBuf,
    /// Its physical line.
    pub line: u64,
    /// The member: (source, id).
    pub from: (String, String),
    /// What it is removed from: (source, id).
    pub to: (String, String),
}

/// Every revocation list read (`whatif --remove-decisions`).
#[derive(Debug, Default)]
pub struct RevocationList {
    /// Accepted rows, in input order.
    pub edges: Vec<RevokedEdge>,
    /// Rejected rows, in input order.
    pub rejections: Vec<Rejection>,
    /// Data rows read.
    pub rows_read: u64,
}

/// Reads one revocation list (the CSV `review decisions -o` writes, columns
/// [`REVOKE_COLUMNS`]) into `into`: the edge of each row, by source and id.
/// Other columns are ignored; rows are rejected as decisions rows are.
pub fn read_revocations(
    path: &Path,
    reader: impl Read,
    into: &mut RevocationList,
) -> Result<(), DecisionsError> {
    let (edges, rejections) = (&mut into.edges, &mut into.rejections);
    into.rows_read += read_table(
        path,
        reader,
        (&EDGE_COLUMNS, EDGE_COLUMNS.len()),
        rejections,
        |record, values, cols| {
            for (i, v) in values.iter().enumerate() {
                if v.trim().is_empty() {
                    let column = cols[i].expect("required") + 1;
                    return Err((column, format!("{} is empty", EDGE_COLUMNS[i])));
                }
            }
            edges.push(RevokedEdge {
                file: path.to_path_buf(),
                line: record.line(),
                from: (values[0].clone(), values[1].clone()),
                to: (values[2].clone(), values[3].clone()),
            });
            Ok(())
        },
    )?;
    Ok(())
}

/// The one reader of decisions and revocation lists: the header (matched
/// by letters and digits, any case; `columns.1` of `columns.0` required),
/// then every row's cells of those columns (one leading `'` of formula
/// neutralisation removed) handed to `accept`, which takes the row or says
/// at which 1-based column and why it is rejected. Returns the rows read.
fn read_table(
    path: &Path,
    reader: impl Read,
    (columns, required): (&[&str], usize),
    rejections: &mut Vec<Rejection>,
    mut accept: impl FnMut(&Record, Vec<String>, &[Option<usize>]) -> Result<(), (usize, String)>,
) -> Result<u64, DecisionsError> {
    let mut csv = Records::new(reader);
    let mut record = Record::new();
    let mut at: FxHashMap<String, usize> = FxHashMap::default();
    let mut width = 0;
    let header_line = read_header(
        &mut csv,
        &mut record,
        |e| TableError::header(path, e),
        |line, i, text| {
            width = i + 1;
            let key = header_key(text);
            if key.is_empty() {
                return Ok(());
            }
            if let Some(&first) = at.get(&key) {
                return Err(DecisionsError::Header {
                    path: path.to_path_buf(),
                    line,
                    column: i + 1,
                    message: format!(
                        "column {} repeats column {}",
                        excerpt(text.trim()),
                        first + 1
                    ),
                });
            }
            at.insert(key, i);
            Ok(())
        },
    )?;
    let cols: Vec<Option<usize>> = columns
        .iter()
        .map(|c| at.get(&header_key(c)).copied())
        .collect();
    let missing: Vec<String> = columns[..required]
        .iter()
        .zip(&cols)
        .filter(|(_, c)| c.is_none())
        .map(|(n, _)| format!("{n:?}"))
        .collect();
    if !missing.is_empty() {
        return Err(DecisionsError::MissingColumns {
            path: path.to_path_buf(),
            line: header_line,
            columns: missing,
        });
    }
    let mut rows_read = 0;
    loop {
        let next = match csv.read(&mut record) {
            Ok(n) => n,
            Err(e) => {
                rows_read += 1;
                rejections.push(reject(
                    path,
                    record.line(),
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
                rows_read += 1;
                rejections.push(reject(path, line, t.column, t.reason()));
                continue;
            }
            Next::Record => {}
        }
        if record.len() == 1 && record[0].trim_ascii().is_empty() && width > 1 {
            continue;
        }
        rows_read += 1;
        let accepted =
            cells(&record, width, columns, &cols).and_then(|values| accept(&record, values, &cols));
        if let Err((column, reason)) = accepted {
            rejections.push(reject(path, line, column, reason));
        }
    }
    Ok(rows_read)
}

/// One row's cells of `columns` (empty for an absent optional column), or
/// the 1-based column and reason it is rejected.
fn cells(
    record: &Record,
    width: usize,
    columns: &[&str],
    cols: &[Option<usize>],
) -> Result<Vec<String>, (usize, String)> {
    if record.len() != width {
        return Err((
            record.len().min(width).max(1),
            format!("expected {width} fields, found {}", record.len()),
        ));
    }
    let mut values: Vec<String> = Vec::with_capacity(columns.len());
    for (name, col) in columns.iter().zip(cols) {
        let Some(c) = *col else {
            values.push(String::new());
            continue;
        };
        let text = std::str::from_utf8(&record[c])
            .map_err(|_| (c + 1, format!("{name} is not valid UTF-8")))?;
        // The page writes ' before a leading = + - @ tab CR or ' (formula
        // neutralisation, as whocan's CSV reports do): one is removed.
        let text = text.strip_prefix('\'').unwrap_or(text);
        values.push(text.to_string());
    }
    Ok(values)
}

/// One row's cells to a decision, or the 1-based column and reason it is
/// rejected.
fn row(
    path: &Path,
    record: &Record,
    values: Vec<String>,
    cols: &[Option<usize>],
) -> Result<Decision, (usize, String)> {
    let col = |i: usize| cols[i].expect("required") + 1;
    for (i, name) in COLUMNS[..REQUIRED].iter().enumerate() {
        if *name != "reviewer" && *name != "decision" && values[i].trim().is_empty() {
            return Err((col(i), format!("{name} is empty")));
        }
    }
    let verdict = match values[8].trim().to_ascii_lowercase().as_str() {
        "keep" => Verdict::Keep,
        "revoke" => Verdict::Revoke,
        "" => Verdict::Undecided,
        _ => {
            return Err((
                col(8),
                format!(
                    "decision {} is not keep, revoke or empty",
                    excerpt(&values[8])
                ),
            ));
        }
    };
    let digest = values[0].trim().to_string();
    if digest.len() != 64 || !digest.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err((
            col(0),
            format!(
                "page_digest {} is not a blake3 digest (64 hex digits)",
                excerpt(&digest)
            ),
        ));
    }
    let mut v = values.into_iter();
    let mut next = || v.next().expect("one value per column");
    let (digest_cell, scope, reviewer) = (next(), next(), next());
    let _ = digest_cell;
    let key = RowKey {
        identity_source: next(),
        identity_id: next(),
        target_source: next(),
        target_id: next(),
        permission: next(),
    };
    let _decision = next();
    Ok(Decision {
        file: path.to_path_buf(),
        line: record.line(),
        digest: digest.to_ascii_lowercase(),
        scope,
        reviewer,
        key,
        verdict,
        comment: next(),
        time: next(),
    })
}

/// One edge to remove for a revoked grant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Revocation {
    /// The grant revoked.
    pub key: RowKey,
    /// The identity's edge that gives it: into the entry connection, or
    /// the direct assignment.
    pub edge: EdgeIdx,
    /// Who revoked it (`reviewer (scope)`), and their comments.
    pub by: Vec<(String, String)>,
}

/// Completion of one page (of every page of the kinds decided on).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Completion {
    /// The reviewers who decided on it, as the decisions file names them,
    /// comma-separated; empty when nobody did.
    pub reviewer: String,
    /// The page's scope.
    pub scope: String,
    /// Rows on the page, from the data loaded now.
    pub rows: usize,
    /// Rows kept.
    pub kept: usize,
    /// Rows revoked.
    pub revoked: usize,
}

impl Completion {
    /// Rows with a decision.
    pub fn decided(&self) -> usize {
        self.kept + self.revoked
    }

    /// Rows without one.
    pub fn undecided(&self) -> usize {
        self.rows - self.decided()
    }
}

/// What the decisions come to.
#[derive(Debug, Default)]
pub struct Checked {
    /// Edges to remove, sorted by grant, then edge.
    pub revocations: Vec<Revocation>,
    /// Per page of every kind decided on, sorted by scope.
    pub completion: Vec<Completion>,
    /// Decisions not applied, each with its file:line:column and why.
    pub problems: Vec<Rejection>,
    /// Decisions applied.
    pub applied: usize,
}

/// Checks every decision against the data `review` was built from and
/// gathers the revocation list and completion. A later decision on the
/// same row of the same page replaces an earlier one; when they differ,
/// the earlier one is reported.
pub fn check(review: &Review, decisions: &Decisions) -> io::Result<Checked> {
    let mut out = Checked::default();
    let kinds: BTreeSet<By> = decisions
        .rows
        .iter()
        .filter_map(|d| d.scope.split_once(':').and_then(|(k, _)| By::parse(k)))
        .collect();
    let mut scopes: FxHashMap<String, FxHashSet<RowKey>> = FxHashMap::default();
    for by in kinds {
        for (scope, keys) in review.scope_rows(by)? {
            scopes.insert(scope, keys.into_iter().collect());
        }
    }
    // Scope -> row key -> the decision that counts (the last one read).
    let mut latest: BTreeMap<&str, BTreeMap<&RowKey, &Decision>> = BTreeMap::new();
    let problem = |d: &Decision, column: usize, reason: String| Rejection {
        file: d.file.clone(),
        line: d.line,
        column,
        kind: RejectKind::Decision,
        reason,
        record: String::new(),
    };
    for d in &decisions.rows {
        let Some(rows) = scopes.get(&d.scope) else {
            out.problems.push(problem(
                d,
                2,
                format!(
                    "scope {} has no page in the data loaded now: not applied",
                    excerpt(&d.scope)
                ),
            ));
            continue;
        };
        let expected = review.page_digest(&d.scope);
        if d.digest != expected {
            out.problems.push(problem(
                d,
                1,
                format!(
                    "page_digest {}… is not this data's digest for {} ({}…): the page was made from other inputs or another --as-of date; not applied",
                    &d.digest[..16],
                    d.scope,
                    &expected[..16]
                ),
            ));
            continue;
        }
        if !rows.contains(&d.key) {
            out.problems.push(problem(
                d,
                5,
                format!(
                    "{}/{} has no {} on {}/{} in {} any more: not applied",
                    d.key.identity_source,
                    d.key.identity_id,
                    excerpt(&d.key.permission),
                    d.key.target_source,
                    d.key.target_id,
                    d.scope
                ),
            ));
            continue;
        }
        out.applied += 1;
        let page = latest.entry(&d.scope).or_default();
        if let Some(before) = page.insert(&d.key, d) {
            if before.verdict != d.verdict {
                out.problems.push(problem(
                    before,
                    9,
                    format!(
                        "decided again at {}:{}, which counts",
                        d.file.display(),
                        d.line
                    ),
                ));
            }
        }
    }
    let mut revoked: BTreeMap<(RowKey, EdgeIdx), Vec<(String, String)>> = BTreeMap::new();
    let mut all: Vec<&String> = scopes.keys().collect();
    all.sort();
    for scope in all {
        let rows = latest.get(scope.as_str());
        let mut reviewers: BTreeSet<&str> = BTreeSet::new();
        let mut c = Completion {
            reviewer: String::new(),
            scope: scope.clone(),
            rows: scopes[scope].len(),
            kept: 0,
            revoked: 0,
        };
        for (key, d) in rows.into_iter().flatten() {
            reviewers.insert(&d.reviewer);
            match d.verdict {
                Verdict::Keep => c.kept += 1,
                Verdict::Revoke => {
                    c.revoked += 1;
                    for e in entry_edges(review, key) {
                        revoked
                            .entry(((*key).clone(), e))
                            .or_default()
                            .push((format!("{} ({scope})", d.reviewer), d.comment.clone()));
                    }
                }
                Verdict::Undecided => {}
            }
        }
        c.reviewer = reviewers.into_iter().collect::<Vec<_>>().join(", ");
        out.completion.push(c);
    }
    out.revocations = revoked
        .into_iter()
        .map(|((key, edge), by)| Revocation { key, edge, by })
        .collect();
    Ok(out)
}

/// The identity's own granted edges through which it holds the grant: a
/// direct assignment (the edge into the target with the permission) or a
/// membership in a connection whose closure holds it (the expansion's
/// closure, the same one the report is made of), in edge order.
fn entry_edges(review: &Review, key: &RowKey) -> Vec<EdgeIdx> {
    let m = review.model();
    let g = review.expansion().graph();
    let (Some(identity), Some(target)) = (
        g.find(&key.identity_source, &key.identity_id),
        g.find(&key.target_source, &key.target_id),
    ) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (ei, e) in g.edges_from(identity) {
        if !e.granted {
            continue;
        }
        let direct = e.to == target && m.str(e.permission) == key.permission;
        let through = || {
            m.entity(e.to).kind == Kind::Connection
                && review
                    .expansion()
                    .closure_of(e.to)
                    .iter()
                    .any(|&(t, p, _)| t == target && m.str(p) == key.permission)
        };
        if direct || through() {
            out.push(ei);
        }
    }
    out
}

/// Columns of the revocation list.
pub const REVOKE_COLUMNS: [&str; 15] = [
    "identity_source",
    "identity_id",
    "target_source",
    "target_id",
    "permission",
    "remove_from_source",
    "remove_from_id",
    "remove_from_name",
    "remove_to_source",
    "remove_to_id",
    "remove_to_name",
    "edge_permission",
    "at",
    "revoked_by",
    "comments",
];

/// Writes the revocation list: one row per edge to remove and grant, with
/// the edge's file:line and who revoked it.
pub fn write_revocations(
    review: &Review,
    checked: &Checked,
    format: Format,
    out: &mut dyn Write,
) -> io::Result<u64> {
    let m = review.model();
    let mut w = RowWriter::new(&REVOKE_COLUMNS, format, out)?;
    for r in &checked.revocations {
        let e = &m.edges[r.edge as usize];
        let (from, to) = (m.entity(e.from), m.entity(e.to));
        let by: Vec<&str> = r.by.iter().map(|(b, _)| b.as_str()).collect();
        let comments: Vec<&str> =
            r.by.iter()
                .map(|(_, c)| c.as_str())
                .filter(|c| !c.is_empty())
                .collect();
        let at = m.location(e.origin);
        let (by, comments) = (by.join("; "), comments.join("; "));
        w.row(&[
            Cell::Str(&r.key.identity_source),
            Cell::Str(&r.key.identity_id),
            Cell::Str(&r.key.target_source),
            Cell::Str(&r.key.target_id),
            Cell::Str(&r.key.permission),
            Cell::Str(m.str(from.source)),
            Cell::Str(m.str(from.id)),
            Cell::Str(m.str(from.name)),
            Cell::Str(m.str(to.source)),
            Cell::Str(m.str(to.id)),
            Cell::Str(m.str(to.name)),
            Cell::Str(m.str(e.permission)),
            Cell::Str(&at),
            Cell::Str(&by),
            Cell::Str(&comments),
        ])?;
    }
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Decisions {
        let mut d = Decisions::default();
        read(Path::new("d.csv"), text.as_bytes(), &mut d).unwrap();
        d
    }

    const HEADER: &str = "page_digest,scope,reviewer,identity_source,identity_id,target_source,target_id,permission,decision,comment,time\n";

    #[test]
    fn bad_rows_are_rejected_with_line_and_column() {
        let digest = "a".repeat(64);
        let text = format!(
            "{HEADER}{digest},manager:hr/E1,Ann,okta,u1,okta,r1,read,maybe,,\n\
             xyz,manager:hr/E1,Ann,okta,u1,okta,r1,read,keep,,\n\
             {digest},manager:hr/E1,Ann,okta,,okta,r1,read,keep,,\n\
             {digest},manager:hr/E1\n\
             {digest},manager:hr/E1,Ann,'=okta,u1,okta,r1,read,REVOKE,gone,t\n"
        );
        let d = parse(&text);
        let got: Vec<String> = d.rejections.iter().map(|r| r.to_string()).collect();
        assert_eq!(
            got,
            [
                "d.csv:2:9: decision \"maybe\" is not keep, revoke or empty",
                "d.csv:3:1: page_digest \"xyz\" is not a blake3 digest (64 hex digits)",
                "d.csv:4:5: identity_id is empty",
                "d.csv:5:2: expected 11 fields, found 2",
            ]
        );
        assert_eq!(d.rows_read, 5);
        assert_eq!(d.rows.len(), 1);
        assert_eq!(d.rows[0].key.identity_source, "=okta");
        assert_eq!(d.rows[0].verdict, Verdict::Revoke);
        assert_eq!(d.rows[0].line, 6);
    }

    #[test]
    fn missing_columns_refuse_the_file() {
        let mut d = Decisions::default();
        let e = read(
            Path::new("d.csv"),
            "scope,decision\nx,keep\n".as_bytes(),
            &mut d,
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "d.csv:1: missing required columns \"page_digest\", \"reviewer\", \"identity_source\", \"identity_id\", \"target_source\", \"target_id\", \"permission\""
        );
    }
}
