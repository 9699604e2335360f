//! Mapped columns resolved against one file's header, their transformation
//! steps applied to a row's cells, and the reference's value rules
//! (booleans, timestamps, lists, custom property types;
//! reference/veza-csv-upload.md).
use super::transform::{SimpleTransform, Transform};
use super::*;

/// Reference boolean rule: `true, t, yes, y, 1, active, enabled` (any case)
/// are true; anything else, including an empty cell, is false.
pub fn parse_reference_bool(s: &str) -> bool {
    const TRUE: [&str; 7] = ["true", "t", "yes", "y", "1", "active", "enabled"];
    let s = s.trim();
    TRUE.iter().any(|t| s.eq_ignore_ascii_case(t))
}

/// Reference timestamp rule: `Ok(None)` for an unset value (`never`, `null`,
/// `none`, `false`, `0` or empty, any case), `Ok(Some(seconds))` for any of
/// the listed formats (RFC 3339 with or without fraction, `20060102150405`,
/// `2006-01-30 15:04:05Z07:00`, `2006-01-30 15:04:05`, `2006-01-30`,
/// `2006-01-30T`, `2006-01-30T15:04:05[Z]`, `1/2/2006`), `Err(())` otherwise.
#[allow(clippy::result_unit_err)]
pub fn parse_reference_timestamp(s: &str) -> Result<Option<i64>, ()> {
    let s = s.trim();
    const UNSET: [&str; 6] = ["never", "null", "none", "false", "0", ""];
    if UNSET.iter().any(|u| s.eq_ignore_ascii_case(u)) {
        return Ok(None);
    }
    let date_only = s.strip_suffix('T').unwrap_or(s);
    if let Some(t) = parse_timestamp(date_only) {
        return Ok(Some(t));
    }
    // `2006-01-30 15:04:05Z07:00` with a space: make it RFC 3339.
    if s.len() > 10 && s.as_bytes()[10] == b' ' {
        let t = format!("{}T{}", &s[..10], &s[11..]);
        if let Some(t) = parse_timestamp(&t) {
            return Ok(Some(t));
        }
    }
    // Active Directory: 20060102150405.
    if s.len() == 14 && s.bytes().all(|b| b.is_ascii_digit()) {
        return strtime(s, "%Y%m%d%H%M%S").map(Some).ok_or(());
    }
    // US: 1/2/2006 (month/day/year).
    let parts: Vec<&str> = s.split('/').collect();
    if let [m, d, y] = parts[..]
        && let (Ok(m), Ok(d), Ok(y)) = (m.parse::<i8>(), d.parse::<i8>(), y.parse::<i16>())
        && y >= 1000
        && let Ok(date) = jiff::civil::Date::new(y, m, d)
        && let Ok(z) = date.to_zoned(jiff::tz::TimeZone::UTC)
    {
        return Ok(Some(z.timestamp().as_second()));
    }
    Err(())
}

/// Parses `s` with a strftime `format` into seconds (UTC unless the format
/// has an offset; a date alone is midnight).
pub(super) fn strtime(s: &str, format: &str) -> Option<i64> {
    let tm = jiff::fmt::strtime::parse(format, s).ok()?;
    if let Ok(ts) = tm.to_timestamp() {
        return Some(ts.as_second());
    }
    let utc = jiff::tz::TimeZone::UTC;
    if let Ok(dt) = tm.to_datetime() {
        return dt.to_zoned(utc).ok().map(|z| z.timestamp().as_second());
    }
    let date = tm.to_date().ok()?;
    date.to_zoned(utc).ok().map(|z| z.timestamp().as_second())
}

/// Splits a list cell: comma-separated, items trimmed, empty items dropped.
pub(super) fn list(s: &str) -> Vec<&str> {
    s.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect()
}

/// A mapped column resolved against one file's header.
pub(super) struct Resolved {
    pub(super) index: usize,
    pub(super) header: String,
    pub(super) entity: EntityType,
    pub(super) attribute: Option<Attribute>,
    pub(super) custom: Option<(String, ValueType)>,
    pub(super) required: bool,
    pub(super) steps: Vec<Step>,
}

pub(super) enum Step {
    Upper,
    Lower,
    Trim,
    Combine(Vec<usize>, String),
    PadLeft(usize, char),
    Replace(String, String),
    Static(String),
    DateFormat(String),
}

impl Step {
    /// An upper bound on this step's output from `v` in a row of `cells`,
    /// in bytes, computed without building it.
    pub(super) fn output_bytes(&self, v: &str, cells: &[&str]) -> usize {
        match self {
            // Case mapping grows a cell by at most 3× (bounded, as the cell
            // is): its real length is checked once built.
            Step::Upper | Step::Lower | Step::Trim => v.len(),
            Step::Combine(idx, sep) => idx
                .iter()
                .map(|&i| cells.get(i).map_or(0, |c| c.len()) + sep.len())
                .sum(),
            Step::PadLeft(width, ch) => {
                let pad = width.saturating_sub(v.chars().count());
                v.len().saturating_add(pad.saturating_mul(ch.len_utf8()))
            }
            Step::Replace(from, to) if !from.is_empty() && to.len() > from.len() => {
                let n = v.matches(from.as_str()).count();
                v.len()
                    .saturating_add(n.saturating_mul(to.len() - from.len()))
            }
            Step::Replace(..) => v.len(),
            Step::Static(s) => s.len(),
            // The value itself, or a timestamp in RFC 3339.
            Step::DateFormat(_) => v.len().min(32),
        }
    }
}

/// Finds a header case-insensitively in the file's lowercase headers.
pub(super) fn find(headers: &rustc_hash::FxHashMap<String, usize>, name: &str) -> Option<usize> {
    headers.get(&name.trim().to_lowercase()).copied()
}

pub(super) fn resolve(
    mapping: &Mapping,
    lowercase: &rustc_hash::FxHashMap<String, usize>,
    path: &Path,
    line: u64,
) -> Result<Vec<Resolved>, ImportError> {
    let mut missing = Vec::new();
    let mut out = Vec::new();
    for c in mapping.columns.iter().filter(|c| c.include) {
        // A column whose value is fully given by its transformations (a
        // static value, or a combination) need not exist in the file.
        let synthesised = c
            .transform
            .iter()
            .any(|t| matches!(t, Transform::Static(_) | Transform::Combine(_)));
        let index = match find(lowercase, &c.header) {
            Some(i) => i,
            None if synthesised => usize::MAX,
            None => {
                missing.push(c.header.clone());
                continue;
            }
        };
        let mut steps = Vec::new();
        for t in &c.transform {
            steps.push(match t {
                Transform::Simple(SimpleTransform::Upper) => Step::Upper,
                Transform::Simple(SimpleTransform::Lower) => Step::Lower,
                Transform::Simple(SimpleTransform::Trim) => Step::Trim,
                Transform::Combine(comb) => {
                    let mut idx = Vec::new();
                    for h in &comb.combine {
                        match find(lowercase, h) {
                            Some(i) => idx.push(i),
                            None => missing.push(h.clone()),
                        }
                    }
                    Step::Combine(idx, comb.separator.clone())
                }
                Transform::PadLeft(p) => Step::PadLeft(p.pad_left, p.char),
                Transform::Replace(r) => Step::Replace(r.replace.clone(), r.with.clone()),
                Transform::Static(s) => Step::Static(s.value.clone()),
                Transform::DateFormat(d) => Step::DateFormat(d.date_format.clone()),
            });
        }
        out.push(Resolved {
            index,
            header: c.header.clone(),
            entity: c.entity,
            attribute: c.attribute,
            custom: c
                .custom
                .clone()
                .map(|name| (name, c.value_type.unwrap_or(ValueType::String))),
            required: c.required,
            steps,
        });
    }
    if !missing.is_empty() {
        missing.dedup();
        return Err(ImportError::Mapping {
            path: path.to_path_buf(),
            message: format!(
                "line {line}: the mapping names column{} not in the file: {}",
                if missing.len() == 1 { "" } else { "s" },
                crate::import::quote_list(&missing)
            ),
        });
    }
    Ok(out)
}

pub(super) type RowError = (usize, RejectKind, String);

impl Resolved {
    /// The 1-based field a rejection names: the column itself, or the first
    /// when the value is synthesised (static, combine) and not in the file.
    pub(super) fn column(&self) -> usize {
        if self.index == usize::MAX {
            1
        } else {
            self.index + 1
        }
    }

    /// The column's value in one row, transformations applied. Every
    /// step's output obeys the cell limit, checked before it is built.
    pub(super) fn value(&self, cells: &[&str]) -> Result<String, RowError> {
        let column = self.column();
        let mut v = cells.get(self.index).copied().unwrap_or("").to_string();
        let too_long = |bytes: usize| -> Result<(), RowError> {
            if bytes > MAX_CELL_BYTES {
                return Err((
                    column,
                    RejectKind::CellTooLong,
                    format!(
                        "{}: a transformation would make {bytes} bytes, longer than {MAX_CELL_BYTES} bytes",
                        self.header
                    ),
                ));
            }
            Ok(())
        };
        for step in &self.steps {
            too_long(step.output_bytes(&v, cells))?;
            v = match step {
                Step::Upper => v.to_uppercase(),
                Step::Lower => v.to_lowercase(),
                Step::Trim => v.trim().to_string(),
                Step::Combine(idx, sep) => idx
                    .iter()
                    .map(|&i| cells[i].trim())
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>()
                    .join(sep),
                // Padding fills a value out; it does not invent one.
                Step::PadLeft(..) if v.trim().is_empty() => v,
                Step::PadLeft(width, ch) => {
                    let len = v.chars().count();
                    let pad: String = std::iter::repeat_n(*ch, width.saturating_sub(len)).collect();
                    pad + &v
                }
                Step::Replace(from, to) if !from.is_empty() => v.replace(from.as_str(), to),
                Step::Replace(..) => v,
                Step::Static(s) => s.clone(),
                Step::DateFormat(format) => {
                    let t = v.trim();
                    if t.is_empty() {
                        v
                    } else {
                        match strtime(t, format) {
                            Some(secs) => crate::import::format_timestamp(secs),
                            None => {
                                return Err((
                                    column,
                                    RejectKind::BadTimestamp,
                                    format!(
                                        "{} {} does not match date format {format:?}",
                                        self.header,
                                        excerpt(t)
                                    ),
                                ));
                            }
                        }
                    }
                }
            };
            // Case mapping is only bounded before it runs: check what it made.
            too_long(v.len())?;
        }
        Ok(v.trim().to_string())
    }
}

/// A property value parsed from one cell, before its strings are interned.
#[derive(Clone, Debug)]
pub(super) enum RawValue {
    Text(String),
    Number(String),
    Bool(bool),
    Timestamp(i64),
    List(Vec<String>),
}

impl RawValue {
    /// The value as employee attribute text: booleans `true`/`false`,
    /// timestamps RFC 3339, lists joined by `, `.
    pub(super) fn to_text(&self) -> String {
        match self {
            RawValue::Text(s) | RawValue::Number(s) => s.clone(),
            RawValue::Bool(b) => b.to_string(),
            RawValue::Timestamp(t) => crate::import::format_timestamp(*t),
            RawValue::List(items) => items.join(", "),
        }
    }

    pub(super) fn intern(&self, imp: &mut Importer) -> Value {
        match self {
            RawValue::Text(s) => Value::Text(imp.intern(s)),
            RawValue::Number(s) => Value::Number(imp.intern(s)),
            RawValue::Bool(b) => Value::Bool(*b),
            RawValue::Timestamp(t) => Value::Timestamp(*t),
            RawValue::List(items) => Value::List(items.iter().map(|i| imp.intern(i)).collect()),
        }
    }
}

/// A custom property's value under its declared type: `None` when the cell
/// is empty (or an unset timestamp); an error for a number or timestamp that
/// does not parse.
pub(super) fn custom_value(
    c: &Resolved,
    name: &str,
    ty: ValueType,
    v: String,
) -> Result<Option<RawValue>, RowError> {
    if v.is_empty() {
        return Ok(None);
    }
    let column = c.column();
    Ok(match ty {
        ValueType::String => Some(RawValue::Text(v)),
        ValueType::Number => {
            if v.parse::<f64>().is_err() {
                return Err((
                    column,
                    RejectKind::BadNumber,
                    format!(
                        "{} {} is not a number (custom {name})",
                        c.header,
                        excerpt(&v)
                    ),
                ));
            }
            Some(RawValue::Number(v))
        }
        ValueType::Boolean => Some(RawValue::Bool(parse_reference_bool(&v))),
        ValueType::Timestamp => parse_reference_timestamp(&v)
            .map_err(|()| {
                (
                    column,
                    RejectKind::BadTimestamp,
                    format!(
                        "{} {} is not a timestamp (custom {name})",
                        c.header,
                        excerpt(&v)
                    ),
                )
            })?
            .map(RawValue::Timestamp),
        ValueType::StringList => Some(RawValue::List(
            list(&v).into_iter().map(String::from).collect(),
        )),
    })
}
