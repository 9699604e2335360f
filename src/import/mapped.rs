//! Mapped CSV: any CSV plus a TOML mapping file that says which column is
//! which attribute of which entity (see `reference/veza-csv-upload.md`).
//!
//! Owns the mapping format ([`Mapping`]), its validation against a file's
//! header, transformations, the reference's value rules (booleans,
//! timestamps, unset tokens, lists) and turning rows of the Application
//! template into users, groups, roles and the application resource. Merging
//! into entities and edges is left to [`Importer`]; reading the mapping file
//! from disk to the caller ([`Mapping::load`] is a convenience).
//!
//! The HRIS template's employees are people, not accounts: they go to
//! [`crate::model::Model::employees`], beside the access graph, with their
//! attributes and lowercase manager links.

use std::collections::BTreeSet;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::records::{Next, Record, Records, excerpt};
use super::{
    Declared, FileOptions, FileReport, ImportError, Importer, MAX_CELL_BYTES, RejectKind,
    Rejection, default_source, parse_timestamp,
};
use crate::model::{Attributes, EntityIdx, Kind, Property, Provenance, Sym, Value};

/// A mapping file: one CSV's columns mapped onto a template's entities.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    /// Which template the columns map onto.
    pub template: Template,
    /// Source name of the entities (default: the CSV's file stem).
    pub source: Option<String>,
    /// The application every role permission points at (Application
    /// template).
    pub application: Option<String>,
    /// One entry per mapped column.
    #[serde(rename = "column", default)]
    pub columns: Vec<ColumnMapping>,
}

/// The reference's OAA templates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Template {
    /// Users, groups and roles of one application.
    Application,
    /// Employees of an HR system.
    Hris,
}

/// The entity a column describes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EntityType {
    /// An application account: an identity.
    User,
    /// A group: a connection.
    Group,
    /// A role: a connection whose permissions point at the application.
    Role,
    /// An HRIS employee.
    Employee,
}

impl EntityType {
    fn as_str(self) -> &'static str {
        match self {
            EntityType::User => "user",
            EntityType::Group => "group",
            EntityType::Role => "role",
            EntityType::Employee => "employee",
        }
    }
}

/// A built-in attribute of the Application template.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Attribute {
    /// Unique identifier.
    Id,
    /// Display name (a list for groups and roles).
    Name,
    /// User: boolean, reference rules.
    IsActive,
    /// Timestamp.
    CreatedAt,
    /// User: timestamp of the last login.
    LastLoginAt,
    /// User: timestamp of deactivation.
    DeactivatedAt,
    /// User: timestamp of the last password change.
    PasswordLastChangedAt,
    /// User: email address.
    Email,
    /// Entity owner id.
    OwnerId,
    /// Entity owner node type.
    OwnerType,
    /// Role: permissions (a list), additive across rows.
    Permissions,
    /// Employee: alternative identifier.
    EmployeeNumber,
    /// Employee: company.
    Company,
    /// Employee: first name.
    FirstName,
    /// Employee: last name.
    LastName,
    /// Employee: preferred name.
    PreferredName,
    /// Employee: complete display name.
    DisplayFullName,
    /// Employee: standardised name.
    CanonicalName,
    /// Employee: username.
    Username,
    /// Employee: identity-provider id.
    IdpId,
    /// Employee: personal email.
    PersonalEmail,
    /// Employee: home location.
    HomeLocation,
    /// Employee: work location.
    WorkLocation,
    /// Employee: cost center.
    CostCenter,
    /// Employee: department.
    Department,
    /// Employee: manager ids (a list), compared lowercase.
    Managers,
    /// Employee: group memberships (a list).
    Groups,
    /// Employee: employment status.
    EmploymentStatus,
    /// Employee: employment start date (timestamp).
    StartDate,
    /// Employee: employment end date (timestamp).
    TerminationDate,
    /// Employee: job title.
    JobTitle,
    /// Employee: employment types (a list).
    EmploymentTypes,
    /// Employee: primary time zone.
    PrimaryTimeZone,
}

impl Attribute {
    fn allowed_on(self, entity: EntityType) -> bool {
        use Attribute::*;
        match entity {
            EntityType::User => matches!(
                self,
                Id | Name
                    | IsActive
                    | CreatedAt
                    | LastLoginAt
                    | DeactivatedAt
                    | PasswordLastChangedAt
                    | Email
                    | OwnerId
                    | OwnerType
            ),
            EntityType::Group => matches!(self, Id | Name | CreatedAt | OwnerId | OwnerType),
            EntityType::Role => matches!(self, Id | Name | Permissions | OwnerId | OwnerType),
            EntityType::Employee => !matches!(
                self,
                CreatedAt
                    | LastLoginAt
                    | DeactivatedAt
                    | PasswordLastChangedAt
                    | OwnerId
                    | OwnerType
                    | Permissions
            ),
        }
    }

    /// The snake_case name used in mapping files.
    fn name(self) -> String {
        let debug = format!("{self:?}");
        let mut out = String::new();
        for (i, c) in debug.chars().enumerate() {
            if c.is_uppercase() && i > 0 {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        }
        out
    }

    fn is_timestamp(self) -> bool {
        matches!(
            self,
            Attribute::CreatedAt
                | Attribute::LastLoginAt
                | Attribute::DeactivatedAt
                | Attribute::PasswordLastChangedAt
                | Attribute::StartDate
                | Attribute::TerminationDate
        )
    }
}

/// The type of a custom property.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ValueType {
    /// Any text.
    String,
    /// A decimal number.
    Number,
    /// Reference boolean rules: never invalid.
    Boolean,
    /// Reference timestamp formats; invalid rejects the row.
    Timestamp,
    /// Comma-separated list.
    StringList,
}

/// One `[[column]]` entry.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnMapping {
    /// The CSV header (matched case-insensitively).
    pub header: String,
    /// False to ignore the column (default true).
    #[serde(default = "yes")]
    pub include: bool,
    /// The entity the column describes.
    pub entity: EntityType,
    /// The built-in attribute; exactly one of `attribute` and `custom`.
    pub attribute: Option<Attribute>,
    /// A custom property name.
    pub custom: Option<String>,
    /// The custom property's type (default `string`).
    #[serde(rename = "type")]
    pub value_type: Option<ValueType>,
    /// An empty value in any row refuses the whole file.
    #[serde(default)]
    pub required: bool,
    /// Transformations, applied in order to the cell.
    #[serde(default)]
    pub transform: Vec<Transform>,
}

fn yes() -> bool {
    true
}

/// One transformation step.
#[derive(Clone, Debug)]
pub enum Transform {
    /// `"upper"`, `"lower"` or `"trim"`.
    Simple(SimpleTransform),
    /// `{ combine = ["First", "Last"], separator = " " }`: the named columns'
    /// cells joined (empty ones skipped).
    Combine(Combine),
    /// `{ pad_left = 6, char = "0" }`.
    PadLeft(PadLeft),
    /// `{ replace = "-", with = "_" }`.
    Replace(Replace),
    /// `{ static = "value" }`: the value, whatever the cell says.
    Static(Static),
    /// `{ date_format = "%d.%m.%Y" }`: parse the value with this strftime
    /// format into a timestamp.
    DateFormat(DateFormat),
}

/// What a `transform` list entry may be, for error messages.
const TRANSFORMS: &str = "\"upper\", \"lower\", \"trim\", { combine = [\"A\", \"B\"], separator = \" \" }, \
{ pad_left = 6, char = \"0\" }, { replace = \"-\", with = \"_\" }, { static = \"value\" } or \
{ date_format = \"%d.%m.%Y\" }";

impl<'de> Deserialize<'de> for Transform {
    /// Decided by the entry's shape (a word, or a table's key), so a
    /// mistake is named precisely instead of "did not match any variant".
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let value = toml::Value::deserialize(d)?;
        let parts = |what: &str, v: toml::Value| -> Result<Transform, D::Error> {
            let r = match what {
                "combine" => v.try_into().map(Transform::Combine),
                "pad_left" => v.try_into().map(Transform::PadLeft),
                "replace" => v.try_into().map(Transform::Replace),
                "static" => v.try_into().map(Transform::Static),
                _ => v.try_into().map(Transform::DateFormat),
            };
            r.map_err(|e: toml::de::Error| {
                D::Error::custom(format!("transform {what}: {}", e.message()))
            })
            .and_then(|t| {
                t.check()
                    .map(|()| t)
                    .map_err(|m| D::Error::custom(format!("transform {what}: {m}")))
            })
        };
        match &value {
            toml::Value::String(word) => match word.as_str() {
                "upper" => Ok(Transform::Simple(SimpleTransform::Upper)),
                "lower" => Ok(Transform::Simple(SimpleTransform::Lower)),
                "trim" => Ok(Transform::Simple(SimpleTransform::Trim)),
                other => Err(D::Error::custom(format!(
                    "unknown transform {other:?}; a transform is {TRANSFORMS}"
                ))),
            },
            toml::Value::Table(t) => {
                let known = ["combine", "pad_left", "replace", "static", "date_format"];
                match known.iter().find(|k| t.contains_key(**k)) {
                    Some(what) => parts(what, value.clone()),
                    None => {
                        let keys: Vec<&str> = t.keys().map(String::as_str).collect();
                        Err(D::Error::custom(format!(
                            "unknown transform {{ {} }}; a transform is {TRANSFORMS}",
                            keys.join(", ")
                        )))
                    }
                }
            }
            other => Err(D::Error::custom(format!(
                "a transform is {TRANSFORMS}, not {}",
                other.type_str()
            ))),
        }
    }
}

impl Transform {
    /// Refuses parameters no cell can hold (issue 13: a `pad_left` of
    /// 2^63 aborted, 10^9 took gigabytes per row) and date formats that
    /// cannot parse a date, so they are reported once, at load, with their
    /// TOML position, not on every row.
    fn check(&self) -> Result<(), String> {
        let limit = |what: &str, bytes: usize| {
            if bytes > MAX_CELL_BYTES {
                Err(format!(
                    "{what} makes {bytes} bytes, beyond the {MAX_CELL_BYTES}-byte cell limit"
                ))
            } else {
                Ok(())
            }
        };
        match self {
            Transform::Simple(_) => Ok(()),
            Transform::Combine(c) => limit("the separator", c.separator.len()),
            Transform::PadLeft(p) => limit(
                &format!("padding to {} characters of {:?}", p.pad_left, p.char),
                p.pad_left.saturating_mul(p.char.len_utf8()),
            ),
            Transform::Replace(r) => {
                limit("the text to find", r.replace.len())?;
                limit("the replacement", r.with.len())
            }
            Transform::Static(v) => limit("the value", v.value.len()),
            Transform::DateFormat(d) => check_date_format(&d.date_format),
        }
    }
}

/// A `date_format` must format and parse back a date: this refuses an
/// empty format, a lone `%`, unknown directives (`%Q%K`) and formats that
/// name no full date.
fn check_date_format(format: &str) -> Result<(), String> {
    if format.is_empty() {
        return Err("an empty date_format matches no date".into());
    }
    let sample = jiff::civil::date(2001, 2, 3)
        .at(4, 5, 6, 0)
        .to_zoned(jiff::tz::TimeZone::UTC)
        .map_err(|e| e.to_string())?;
    let text = jiff::fmt::strtime::format(format, &sample)
        .map_err(|e| format!("date_format {format:?} is not a valid strftime format: {e}"))?;
    match strtime(&text, format) {
        Some(_) => Ok(()),
        None => Err(format!(
            "date_format {format:?} does not give a date (it needs a year, month and day, or %s)"
        )),
    }
}

/// Transformations without parameters.
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SimpleTransform {
    /// Uppercase.
    Upper,
    /// Lowercase.
    Lower,
    /// Remove surrounding whitespace.
    Trim,
}

/// See [`Transform::Combine`].
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Combine {
    /// Headers to join, in order.
    pub combine: Vec<String>,
    /// Put between parts (default one space).
    #[serde(default = "space")]
    pub separator: String,
}

fn space() -> String {
    " ".into()
}

/// See [`Transform::PadLeft`].
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PadLeft {
    /// Minimum length in characters.
    pub pad_left: usize,
    /// Padding character (default `0`).
    #[serde(default = "zero")]
    pub char: char,
}

fn zero() -> char {
    '0'
}

/// See [`Transform::Replace`].
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Replace {
    /// Text to find.
    pub replace: String,
    /// Replacement.
    pub with: String,
}

/// See [`Transform::Static`].
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Static {
    /// The value.
    #[serde(rename = "static")]
    pub value: String,
}

/// See [`Transform::DateFormat`].
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DateFormat {
    /// strftime format, e.g. `%d.%m.%Y`.
    pub date_format: String,
}

/// A mapping file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum MappingError {
    /// The file could not be read.
    #[error("{path}: cannot read the mapping file: {source}")]
    Io {
        /// The mapping file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a valid mapping.
    #[error("{path}: {message}")]
    Invalid {
        /// The mapping file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

impl Mapping {
    /// Reads and parses a mapping file.
    pub fn load(path: &Path) -> Result<Mapping, MappingError> {
        let text = std::fs::read_to_string(path).map_err(|source| MappingError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Mapping::parse(&text).map_err(|message| MappingError::Invalid {
            path: path.to_path_buf(),
            message,
        })
    }

    /// Parses mapping text and checks it on its own (headers are checked
    /// against the CSV on import).
    pub fn parse(text: &str) -> Result<Mapping, String> {
        // One line, `line:column: message`, like every other whocan error.
        let mapping: Mapping = toml::from_str(text).map_err(|e| match e.span() {
            Some(span) => {
                let before = &text[..span.start.min(text.len())];
                let line = before.matches('\n').count() + 1;
                let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
                format!(
                    "{line}:{column}: {}",
                    e.message().trim_end().replace('\n', " ")
                )
            }
            None => e.message().trim_end().replace('\n', " "),
        })?;
        mapping.check()?;
        Ok(mapping)
    }

    fn check(&self) -> Result<(), String> {
        let mut seen = BTreeSet::new();
        for c in self.columns.iter().filter(|c| c.include) {
            let what = format!("column {:?}", c.header);
            match (c.attribute, &c.custom) {
                (Some(_), Some(_)) => {
                    return Err(format!("{what}: give `attribute` or `custom`, not both"));
                }
                (None, None) => return Err(format!("{what}: give `attribute` or `custom`")),
                (Some(a), None) => {
                    if !a.allowed_on(c.entity) {
                        return Err(format!(
                            "{what}: a {} has no attribute {:?}",
                            c.entity.as_str(),
                            a.name()
                        ));
                    }
                    if !seen.insert((c.entity, a)) {
                        return Err(format!(
                            "{what}: {} {} is mapped twice",
                            c.entity.as_str(),
                            a.name()
                        ));
                    }
                }
                (None, Some(_)) => {}
            }
            if c.value_type.is_some() && c.custom.is_none() {
                return Err(format!("{what}: `type` applies to custom properties only"));
            }
            if self.template == Template::Application && c.entity == EntityType::Employee {
                return Err(format!("{what}: employees belong to the hris template"));
            }
            if self.template == Template::Hris && c.entity != EntityType::Employee {
                return Err(format!("{what}: the hris template maps employees only"));
            }
        }
        if self.template == Template::Application {
            if self
                .application
                .as_deref()
                .is_none_or(|a| a.trim().is_empty())
            {
                return Err("the application template needs `application = \"name\"`".into());
            }
            for entity in [EntityType::User, EntityType::Group, EntityType::Role] {
                let mapped = self.columns.iter().any(|c| c.include && c.entity == entity);
                let identified = seen.contains(&(entity, Attribute::Id))
                    || seen.contains(&(entity, Attribute::Name));
                // reference: for all entities, an ID or Name is required.
                if mapped && !identified {
                    return Err(format!(
                        "{} columns are mapped but neither its id nor its name",
                        entity.as_str()
                    ));
                }
            }
        }
        Ok(())
    }
}

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
fn strtime(s: &str, format: &str) -> Option<i64> {
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
fn list(s: &str) -> Vec<&str> {
    s.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect()
}

/// A mapped column resolved against one file's header.
struct Resolved {
    index: usize,
    header: String,
    entity: EntityType,
    attribute: Option<Attribute>,
    custom: Option<(String, ValueType)>,
    required: bool,
    steps: Vec<Step>,
}

enum Step {
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
    fn output_bytes(&self, v: &str, cells: &[&str]) -> usize {
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
fn find(headers: &rustc_hash::FxHashMap<String, usize>, name: &str) -> Option<usize> {
    headers.get(&name.trim().to_lowercase()).copied()
}

fn resolve(
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
                super::quote_list(&missing)
            ),
        });
    }
    Ok(out)
}

type RowError = (usize, RejectKind, String);

impl Resolved {
    /// The 1-based field a rejection names: the column itself, or the first
    /// when the value is synthesised (static, combine) and not in the file.
    fn column(&self) -> usize {
        if self.index == usize::MAX {
            1
        } else {
            self.index + 1
        }
    }

    /// The column's value in one row, transformations applied. Every
    /// step's output obeys the cell limit, checked before it is built.
    fn value(&self, cells: &[&str]) -> Result<String, RowError> {
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
                            Some(secs) => super::format_timestamp(secs),
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
enum RawValue {
    Text(String),
    Number(String),
    Bool(bool),
    Timestamp(i64),
    List(Vec<String>),
}

impl RawValue {
    /// The value as employee attribute text: booleans `true`/`false`,
    /// timestamps RFC 3339, lists joined by `, `.
    fn to_text(&self) -> String {
        match self {
            RawValue::Text(s) | RawValue::Number(s) => s.clone(),
            RawValue::Bool(b) => b.to_string(),
            RawValue::Timestamp(t) => super::format_timestamp(*t),
            RawValue::List(items) => items.join(", "),
        }
    }

    fn intern(&self, imp: &mut Importer) -> Value {
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
fn custom_value(
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

/// What one accepted row says, before it is merged.
#[derive(Default)]
struct RowData {
    line: u64,
    user: Option<User>,
    groups: Vec<(String, String)>,
    roles: Vec<(String, String)>,
    permissions: Vec<String>,
    /// Typed properties of the row's user, groups and roles: `(entity,
    /// name, custom, value)`, in mapping order.
    properties: Vec<(EntityType, String, bool, RawValue)>,
    employee: Option<EmployeeRow>,
}

/// What one HRIS row says about its employee.
struct EmployeeRow {
    id: String,
    name: String,
    attributes: Vec<(String, String)>,
    managers: Vec<String>,
}

fn parse_employee(columns: &[Resolved], cells: &[&str], line: u64) -> Result<RowData, RowError> {
    let (mut id, mut name) = (String::new(), String::new());
    let mut attributes = Vec::new();
    let mut managers = Vec::new();
    for c in columns {
        let v = c.value(cells)?;
        let column = c.column();
        if let Some((custom, ty)) = &c.custom {
            if let Some(value) = custom_value(c, custom, *ty, v)? {
                attributes.push((custom.clone(), value.to_text()));
            }
            continue;
        }
        let Some(a) = c.attribute else { continue };
        match a {
            Attribute::Id => id = v,
            Attribute::Name => name = v,
            // reference/veza-csv-upload.md: manager references are compared
            // with employee ids in lowercase.
            Attribute::Managers => {
                managers = list(&v).into_iter().map(str::to_lowercase).collect();
            }
            Attribute::IsActive if !v.is_empty() => {
                attributes.push((a.name(), parse_reference_bool(&v).to_string()));
            }
            a if a.is_timestamp() => {
                let ts = parse_reference_timestamp(&v).map_err(|()| {
                    (
                        column,
                        RejectKind::BadTimestamp,
                        format!("{} {} is not a timestamp", c.header, excerpt(&v)),
                    )
                })?;
                if let Some(ts) = ts {
                    attributes.push((a.name(), super::format_timestamp(ts)));
                }
            }
            a if !v.is_empty() => attributes.push((a.name(), v)),
            _ => {}
        }
    }
    if id.is_empty() && name.is_empty() {
        return Err((
            1,
            RejectKind::EmptyRequired,
            "the row gives neither the employee's id nor its name".into(),
        ));
    }
    if id.is_empty() {
        id = name.clone();
    } else if name.is_empty() {
        name = id.clone();
    }
    Ok(RowData {
        line,
        employee: Some(EmployeeRow {
            id,
            name,
            attributes,
            managers,
        }),
        ..RowData::default()
    })
}

/// Adds an employee; the caller has checked that no earlier row named it
/// (ids compared lowercase): the first row wins.
fn add_employee(imp: &mut Importer, e: &EmployeeRow, source: Sym, at: Provenance) {
    let employee = crate::model::Employee {
        source,
        id: imp.intern(&e.id),
        name: imp.intern(&e.name),
        attributes: e
            .attributes
            .iter()
            .map(|(k, v)| (imp.model.strings.intern(k), imp.model.strings.intern(v)))
            .collect(),
        managers: e.managers.iter().map(|m| imp.intern(m)).collect(),
        origin: at,
    };
    imp.model.employees.push(employee);
}

/// One line for the import report: employees, manager links resolved (ids
/// compared lowercase) and manager references that match no employee.
pub fn describe_employees(model: &crate::model::Model) -> String {
    // The links `manager of` and `--by manager` walk, counted the same way.
    let links = crate::people::ManagerLinks::new(model);
    let linked = links.count();
    let mut s = format!(
        "employees: {} ({linked} manager link{})",
        model.employees.len(),
        if linked == 1 { "" } else { "s" }
    );
    let own = links.self_managed_count();
    if own > 0 {
        s.push_str(&format!(
            "\n  naming themselves as their manager (no link): {own}"
        ));
    }
    if !links.unknown.is_empty() {
        s.push_str(&format!(
            "\n  managers matching no employee: {}",
            super::quote_list(&links.unknown)
        ));
    }
    s
}

#[derive(Default)]
struct User {
    id: String,
    name: String,
    email: String,
    active: Option<bool>,
    last_login: Option<i64>,
    password_changed: Option<i64>,
}

/// Pairs ids with names; with only one of them it serves as both.
fn identify(ids: &str, names: &str, is_list: bool) -> Vec<(String, String)> {
    let split = |s: &str| -> Vec<String> {
        if is_list {
            list(s).into_iter().map(String::from).collect()
        } else if s.is_empty() {
            Vec::new()
        } else {
            vec![s.to_string()]
        }
    };
    let (ids, names) = (split(ids), split(names));
    match (ids.is_empty(), names.is_empty()) {
        (true, true) => Vec::new(),
        (false, true) => ids.into_iter().map(|i| (i.clone(), i)).collect(),
        (true, false) => names.into_iter().map(|n| (n.clone(), n)).collect(),
        (false, false) => ids
            .iter()
            .enumerate()
            .map(|(k, id)| (id.clone(), names.get(k).unwrap_or(id).clone()))
            .collect(),
    }
}

fn parse_row(columns: &[Resolved], cells: &[&str], line: u64) -> Result<RowData, RowError> {
    let mut row = RowData {
        line,
        ..RowData::default()
    };
    let mut user = User::default();
    let mut user_extra: Option<usize> = None;
    let (mut group_id, mut group_name, mut role_id, mut role_name) =
        (String::new(), String::new(), String::new(), String::new());
    for c in columns {
        let v = c.value(cells)?;
        let column = c.column();
        let has_cell = !cells.get(c.index).is_none_or(|s| s.trim().is_empty());
        if let Some((name, ty)) = &c.custom {
            if let Some(value) = custom_value(c, name, *ty, v)? {
                // A static value describes every row's user, if any.
                if c.entity == EntityType::User && has_cell {
                    user_extra.get_or_insert(column);
                }
                row.properties.push((c.entity, name.clone(), true, value));
            }
            continue;
        }
        let Some(a) = c.attribute else { continue };
        let mut ts = None;
        if a.is_timestamp() {
            ts = parse_reference_timestamp(&v).map_err(|()| {
                (
                    column,
                    RejectKind::BadTimestamp,
                    format!(
                        "{} {} is not a timestamp (e.g. 2006-01-02T15:04:05Z, 20060102150405, 1/2/2006)",
                        c.header,
                        excerpt(&v)
                    ),
                )
            })?;
        }
        match (c.entity, a) {
            (EntityType::User, Attribute::Id) => user.id = v,
            (EntityType::User, Attribute::Name) => user.name = v,
            (EntityType::User, Attribute::Email) => user.email = v,
            // reference: anything but the true tokens is false; an empty cell
            // says nothing.
            (EntityType::User, Attribute::IsActive) if !v.is_empty() => {
                user.active = Some(parse_reference_bool(&v));
            }
            (EntityType::User, Attribute::LastLoginAt) => user.last_login = ts,
            (EntityType::User, Attribute::PasswordLastChangedAt) => user.password_changed = ts,
            (EntityType::Group, Attribute::Id) => group_id = v,
            (EntityType::Group, Attribute::Name) => group_name = v,
            (EntityType::Role, Attribute::Id) => role_id = v,
            (EntityType::Role, Attribute::Name) => role_name = v,
            (EntityType::Role, Attribute::Permissions) => {
                row.permissions = list(&v).into_iter().map(String::from).collect();
            }
            // The template attributes the 19-column model has no field for
            // (created / deactivated times, owner) are typed properties.
            (entity, a) => {
                let value = match ts {
                    Some(t) => Some(RawValue::Timestamp(t)),
                    None if a.is_timestamp() || v.is_empty() => None,
                    None => Some(RawValue::Text(v)),
                };
                if let Some(value) = value {
                    row.properties.push((entity, a.name(), false, value));
                }
            }
        }
        if c.entity == EntityType::User && !matches!(a, Attribute::Id | Attribute::Name) && has_cell
        {
            user_extra.get_or_insert(column);
        }
    }
    if user.id.is_empty() && user.name.is_empty() {
        if let Some(column) = user_extra {
            return Err((
                column,
                RejectKind::EmptyRequired,
                "the row describes a user but gives neither its id nor its name".into(),
            ));
        }
    } else {
        if user.id.is_empty() {
            user.id = user.name.clone();
        } else if user.name.is_empty() {
            user.name = user.id.clone();
        }
        row.user = Some(user);
    }
    // reference: group and role names support list format; ids follow.
    row.groups = identify(&group_id, &group_name, true);
    row.roles = identify(&role_id, &role_name, true);
    Ok(row)
}

impl Importer {
    /// Imports one CSV file (`-`: stdin) read through a mapping. A file that
    /// cannot be read through the mapping is recorded as refused and returned
    /// as the error; the importer stays usable.
    pub fn import_mapped(
        &mut self,
        path: &Path,
        mapping: &Mapping,
        opts: &FileOptions,
    ) -> Result<(), ImportError> {
        if path == Path::new("-") {
            return self.import_mapped_reader(path, std::io::stdin().lock(), mapping, opts);
        }
        match std::fs::File::open(path) {
            Ok(file) => self.import_mapped_reader(path, file, mapping, opts),
            Err(source) => {
                let err = ImportError::Io {
                    path: path.to_path_buf(),
                    source,
                };
                let opts = FileOptions {
                    source: opts.source.clone().or_else(|| mapping.source.clone()),
                };
                self.record_unreadable(path, &opts, &err);
                Err(err)
            }
        }
    }

    /// Imports a CSV from any reader (stdin: `path` is `-`) through a
    /// mapping; the source defaults to the mapping's, else `path`'s stem
    /// (`stdin` for `-`).
    pub fn import_mapped_reader<R: Read>(
        &mut self,
        path: &Path,
        reader: R,
        mapping: &Mapping,
        opts: &FileOptions,
    ) -> Result<(), ImportError> {
        let source_name = opts
            .source
            .clone()
            .or_else(|| mapping.source.clone())
            .unwrap_or_else(|| default_source(path));
        self.read_file(
            path,
            source_name,
            reader,
            |imp, input, file, source, report| {
                read(imp, input, path, mapping, file, source, report)
            },
        )
    }
}

fn read<R: Read>(
    imp: &mut Importer,
    reader: R,
    path: &Path,
    mapping: &Mapping,
    file: u32,
    source: Sym,
    report: &mut FileReport,
) -> Result<(), ImportError> {
    let mut csv = Records::new(reader);
    let records_error = |e| ImportError::records(path, e);
    let mut record = Record::new();
    let mut headers: Vec<String> = Vec::new();
    // Lowercase header to its column: one lookup per header, however wide
    // the file.
    let mut seen: rustc_hash::FxHashMap<String, usize> = Default::default();
    let header_line = super::records::read_header(
        &mut csv,
        &mut record,
        |e| ImportError::header(path, e),
        |line, i, text| {
            let text = text.trim().to_string();
            // reference/veza-csv-upload.md: headers must be unique regardless
            // of case; the import fails otherwise.
            if let Some(&first) = seen.get(&text.to_lowercase()) {
                return Err(ImportError::DuplicateHeader {
                    path: path.to_path_buf(),
                    line,
                    column: i + 1,
                    name: text,
                    first_column: first + 1,
                    first: headers[first].clone(),
                });
            }
            seen.insert(text.to_lowercase(), i);
            headers.push(text);
            Ok(())
        },
    )?;
    if headers.len() == 1 && headers[0].is_empty() {
        return Err(ImportError::Empty {
            path: path.to_path_buf(),
        });
    }
    let columns = resolve(mapping, &seen, path, header_line)?;
    // A column read only through another's `combine` is used, not ignored.
    let mut mapped: BTreeSet<usize> = columns.iter().map(|c| c.index).collect();
    for c in &columns {
        for step in &c.steps {
            if let Step::Combine(idx, _) = step {
                mapped.extend(idx);
            }
        }
    }
    let ignored: Vec<String> = headers
        .iter()
        .enumerate()
        .filter(|(i, _)| !mapped.contains(i))
        .map(|(_, h)| h.clone())
        .collect();
    if !ignored.is_empty() {
        report.warnings.push(format!(
            "ignored {} unmapped column{}: {}",
            ignored.len(),
            if ignored.len() == 1 { "" } else { "s" },
            super::excerpt_list(&ignored)
        ));
    }

    // First pass: parse every row, so a required column empty anywhere
    // refuses the file before anything is merged.
    let mut rows: Vec<Result<RowData, Rejection>> = Vec::new();
    let mut empty_required: Vec<(String, u64)> = Vec::new();
    loop {
        let next = csv.read(&mut record).map_err(records_error)?;
        let line = record.line();
        let rejection = |(column, kind, reason): RowError| Rejection {
            file: path.to_path_buf(),
            line,
            column,
            kind,
            reason,
            record: super::records::raw_excerpt(&record),
        };
        match next {
            Next::End => break,
            Next::TooLong(t) => {
                rows.push(Err(rejection((
                    t.column,
                    RejectKind::RecordTooLong,
                    t.reason(),
                ))));
                continue;
            }
            Next::Record => {}
        }
        if record.len() != headers.len() {
            rows.push(Err(rejection((
                record.len().min(headers.len()) + 1,
                RejectKind::FieldCount,
                format!(
                    "row has {} field{}, the header has {}",
                    record.len(),
                    if record.len() == 1 { "" } else { "s" },
                    headers.len()
                ),
            ))));
            continue;
        }
        let mut cells = Vec::with_capacity(record.len());
        let mut bad = None;
        for (i, raw) in record.iter().enumerate() {
            match std::str::from_utf8(raw) {
                Ok(s) if s.len() > MAX_CELL_BYTES => {
                    bad = Some((
                        i + 1,
                        RejectKind::CellTooLong,
                        format!("{} is longer than {MAX_CELL_BYTES} bytes", headers[i]),
                    ));
                    break;
                }
                Ok(s) => cells.push(s),
                Err(_) => {
                    bad = Some((
                        i + 1,
                        RejectKind::Encoding,
                        format!("{} is not valid UTF-8", headers[i]),
                    ));
                    break;
                }
            }
        }
        if let Some(e) = bad {
            rows.push(Err(rejection(e)));
            continue;
        }
        for c in columns.iter().filter(|c| c.required) {
            if c.value(&cells).map(|v| v.is_empty()).unwrap_or(false) {
                empty_required.push((c.header.clone(), line));
            }
        }
        let parsed = match mapping.template {
            Template::Application => parse_row(&columns, &cells, line),
            Template::Hris => parse_employee(&columns, &cells, line),
        };
        rows.push(parsed.map_err(rejection));
    }
    if !empty_required.is_empty() {
        return Err(ImportError::EmptyRequired {
            path: path.to_path_buf(),
            cells: empty_required,
        });
    }

    if mapping.template == Template::Hris {
        let mapped = |a| {
            columns
                .iter()
                .any(|c| c.entity == EntityType::Employee && c.attribute == Some(a))
        };
        if mapped(Attribute::IsActive) && mapped(Attribute::EmploymentStatus) {
            // reference/veza-csv-upload.md: map only one of the two.
            report.warnings.push(
                "both is_active and employment_status are mapped: the reference says to map only one"
                    .into(),
            );
        }
    }
    let application = mapping.application.as_deref().unwrap_or("").trim();
    let mut app = None;
    // Employee ids of this source already known (lowercase): the first row
    // naming an employee wins, across files of one source too.
    let mut employees: std::collections::HashSet<String> = imp
        .model
        .employees
        .iter()
        .filter(|e| e.source == source)
        .map(|e| imp.model.str(e.id).to_lowercase())
        .collect();
    for row in rows {
        report.rows_read += 1;
        let row = match row {
            Ok(row) => row,
            Err(rejection) => {
                imp.reject(rejection, report);
                continue;
            }
        };
        report.rows_accepted += 1;
        let at = Provenance {
            file,
            line: row.line.min(u32::MAX as u64) as u32,
        };
        if let Some(employee) = &row.employee {
            if employees.insert(employee.id.to_lowercase()) {
                add_employee(imp, employee, source, at);
            }
            continue;
        }
        accept(imp, &row, source, application, &mut app, at, report);
    }
    Ok(())
}

fn accept(
    imp: &mut Importer,
    row: &RowData,
    source: Sym,
    application: &str,
    app: &mut Option<u32>,
    at: Provenance,
    report: &mut FileReport,
) {
    let declare = |imp: &mut Importer, id: &str, name: &str, kind: Kind, source_type: &str| {
        imp.declare(
            &Declared {
                hashes: None,
                source,
                id,
                name,
                kind,
                source_type,
            },
            at,
        )
    };
    // reference: "properties are set based on the first row where the
    // entity ID appears".
    let properties = |imp: &mut Importer, idx: EntityIdx, entity: EntityType| {
        for (_, name, custom, value) in row.properties.iter().filter(|p| p.0 == entity) {
            let property = Property {
                entity: idx,
                name: imp.intern(name),
                value: value.intern(imp),
                custom: *custom,
            };
            imp.model.properties.push(property);
        }
    };
    let user = row.user.as_ref().map(|u| {
        let (idx, _) = declare(imp, &u.id, &u.name, Kind::Identity, "user");
        if imp.needs_attributes(idx) {
            properties(imp, idx, EntityType::User);
            let attrs = Attributes {
                // The Application template maps no username: only what the
                // mapping maps is stored (issue 14.9), never the display name.
                username: Sym::EMPTY,
                email: imp.intern(super::strip_angle_brackets(&u.email)),
                status: match u.active {
                    Some(true) => imp.intern("active"),
                    Some(false) => imp.intern("inactive"),
                    None => Sym::EMPTY,
                },
                last_login: u.last_login,
                password_changed: u.password_changed,
                ..Attributes::default()
            };
            imp.set_attributes(idx, || attrs);
        }
        idx
    });
    let side = |imp: &mut Importer, list: &[(String, String)], entity: EntityType| {
        list.iter()
            .map(|(id, name)| {
                let (idx, new) = declare(imp, id, name, Kind::Connection, entity.as_str());
                if new {
                    properties(imp, idx, entity);
                }
                imp.set_attributes(idx, Attributes::default);
                idx
            })
            .collect::<Vec<_>>()
    };
    let groups = side(imp, &row.groups, EntityType::Group);
    let roles = side(imp, &row.roles, EntityType::Role);
    let member = imp.intern("member");
    let assigned = imp.intern("assigned");
    let mut related = false;
    if let Some(u) = user {
        for &g in &groups {
            imp.relate(u, g, member, true, at);
            related = true;
        }
        for &r in &roles {
            imp.relate(u, r, assigned, true, at);
            related = true;
        }
    } else {
        // A row without a user assigns its roles to its groups.
        for &g in &groups {
            for &r in &roles {
                imp.relate(g, r, assigned, true, at);
                related = true;
            }
        }
    }
    if !row.permissions.is_empty() && !roles.is_empty() {
        let app = *app.get_or_insert_with(|| {
            let (idx, _) = imp.declare(
                &Declared {
                    hashes: None,
                    source,
                    id: application,
                    name: application,
                    kind: Kind::Resource,
                    source_type: "application",
                },
                at,
            );
            idx
        });
        // reference: role permissions are additive across rows.
        for &r in &roles {
            for p in &row.permissions {
                let p = imp.intern(p);
                imp.relate(r, app, p, true, at);
                related = true;
            }
        }
    }
    if !related {
        report.rows_without_target += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn booleans_follow_the_reference_tokens() {
        for t in ["true", "T", "yes", "Y", "1", "Active", "ENABLED", " true "] {
            assert!(parse_reference_bool(t), "{t}");
        }
        for f in ["false", "no", "0", "", "maybe", "disabled", "2"] {
            assert!(!parse_reference_bool(f), "{f}");
        }
    }

    #[test]
    fn timestamps_accept_every_listed_format() {
        let day = 1_138_579_200; // 2006-01-30T00:00:00Z
        let full = day + 15 * 3600 + 4 * 60 + 5;
        for (s, want) in [
            ("2006-01-30T15:04:05.123456789Z", full),
            ("2006-01-30T15:04:05+00:00", full),
            ("2006-01-30T17:04:05+02:00", full),
            ("20060130150405", full),
            ("2006-01-30 17:04:05+02:00", full),
            ("2006-01-30 15:04:05", full),
            ("2006-01-30", day),
            ("2006-01-30T", day),
            ("2006-01-30T15:04:05", full),
            ("2006-01-30T15:04:05Z", full),
            ("1/30/2006", day),
            ("01/30/2006", day),
        ] {
            assert_eq!(parse_reference_timestamp(s), Ok(Some(want)), "{s}");
        }
        for unset in ["never", "NULL", "none", "false", "0", "", "  "] {
            assert_eq!(parse_reference_timestamp(unset), Ok(None), "{unset}");
        }
        for bad in ["yesterday", "30/1/2006", "2006-02-30", "2006013015040"] {
            assert_eq!(parse_reference_timestamp(bad), Err(()), "{bad}");
        }
    }

    #[test]
    fn mapping_without_identifier_is_refused() {
        let err = Mapping::parse(
            "template = \"application\"\napplication = \"crm\"\n[[column]]\nheader = \"Mail\"\nentity = \"user\"\nattribute = \"email\"\n",
        )
        .unwrap_err();
        assert_eq!(
            err,
            "user columns are mapped but neither its id nor its name"
        );
    }

    #[test]
    fn attributes_belong_to_their_entity() {
        let mapping = |entity: &str, attribute: &str| {
            Mapping::parse(&format!(
                "template = \"application\"\napplication = \"crm\"\n[[column]]\nheader = \"X\"\nentity = \"{entity}\"\nattribute = \"{attribute}\"\n"
            ))
            .map(|_| ())
        };
        assert_eq!(mapping("user", "id"), Ok(()));
        assert_eq!(mapping("role", "name"), Ok(()));
        assert_eq!(
            mapping("user", "department").unwrap_err(),
            "column \"X\": a user has no attribute \"department\""
        );
        assert!(mapping("group", "permissions").is_err());
        assert!(mapping("user", "permissions").is_err());
    }

    /// A one-column Application mapping with these transforms on the id.
    fn with_transform(transform: &str) -> String {
        format!(
            "template = \"application\"\napplication = \"crm\"\n[[column]]\nheader = \"Id\"\nentity = \"user\"\nattribute = \"id\"\ntransform = [{transform}]\n"
        )
    }

    /// Issue 13.6: a parameter whose output cannot fit in a cell is refused
    /// when the mapping is read, with its line and column, instead of
    /// allocating per row.
    #[test]
    fn issue_13_transform_parameters_beyond_the_cell_limit_are_refused_at_load() {
        let long = "x".repeat(MAX_CELL_BYTES + 1);
        for transform in [
            "{ pad_left = 9223372036854775807 }".to_string(),
            "{ pad_left = 1000000000 }".to_string(),
            "{ pad_left = 40000, char = \"é\" }".to_string(),
            format!("{{ static = \"{long}\" }}"),
            format!("{{ replace = \"a\", with = \"{long}\" }}"),
            format!("{{ combine = [\"A\"], separator = \"{long}\" }}"),
        ] {
            let err = Mapping::parse(&with_transform(&transform)).unwrap_err();
            assert!(err.starts_with("7:"), "{transform:.40}: {err:.200}");
            assert!(err.contains("65536-byte cell limit"), "{err:.200}");
        }
        assert!(Mapping::parse(&with_transform("{ pad_left = 65536 }")).is_ok());
    }

    #[test]
    fn issue_13_invalid_date_formats_are_refused_at_load() {
        for format in ["%", "", "%Q%K", "%d.%m.%", "no date here"] {
            let err = Mapping::parse(&with_transform(&format!("{{ date_format = {format:?} }}")))
                .unwrap_err();
            assert!(err.starts_with("7:"), "{format:?}: {err}");
            assert!(err.contains("date_format"), "{format:?}: {err}");
        }
        for format in ["%d.%m.%Y", "%Y-%m-%d %H:%M", "%m/%d/%y", "%s"] {
            let text = with_transform(&format!("{{ date_format = {format:?} }}"));
            assert!(Mapping::parse(&text).is_ok(), "{format:?}");
        }
    }

    /// Issue 13.6: each step's output obeys the cell limit, checked before
    /// it is built: a replace chain that would grow a 4-byte cell past it
    /// rejects the row as too long (the old code built 1.4 GB from 13 rows).
    #[test]
    fn issue_13_transform_output_obeys_the_cell_limit() {
        let grow = format!("{{ replace = \"a\", with = \"{}\" }}", "a".repeat(1000));
        let transform = [grow.as_str(); 4].join(", ");
        let mapping = Mapping::parse(&with_transform(&transform)).unwrap();
        let mut imp = Importer::new();
        let csv = "Id\naaaa\nb\n";
        imp.import_mapped_reader(
            Path::new("grow.csv"),
            csv.as_bytes(),
            &mapping,
            &FileOptions::default(),
        )
        .unwrap();
        let (model, report) = imp.finish();
        assert_eq!(report.rows_rejected(), 1, "{:?}", report.rejections);
        let r = &report.rejections[0];
        assert_eq!(r.kind, RejectKind::CellTooLong);
        assert!(r.reason.contains("65536"), "{}", r.reason);
        assert_eq!(model.entities.len(), 1);

        let pad = Mapping::parse(&with_transform("{ pad_left = 65536, char = \"é\" }"));
        assert!(pad.is_err(), "65536 two-byte characters exceed the limit");
        let pad = Mapping::parse(&with_transform("{ pad_left = 65536 }")).unwrap();
        let mut imp = Importer::new();
        imp.import_mapped_reader(
            Path::new("pad.csv"),
            "Id\nabc\n".as_bytes(),
            &pad,
            &FileOptions::default(),
        )
        .unwrap();
        let (model, report) = imp.finish();
        assert_eq!(report.rows_rejected(), 0, "{:?}", report.rejections);
        assert_eq!(model.str(model.entities[0].id).len(), 65536);
    }

    #[test]
    fn transformations_parse_in_every_form() {
        let m = Mapping::parse(
            r#"template = "application"
application = "crm"
[[column]]
header = "Id"
entity = "user"
attribute = "id"
transform = ["trim", "upper", "lower", { pad_left = 4, char = "0" }, { replace = "-", with = "_" },
             { combine = ["A", "B"] }, { static = "x" }, { date_format = "%d.%m.%Y" }]
"#,
        )
        .unwrap();
        assert_eq!(m.columns[0].transform.len(), 8);
    }
}

#[cfg(test)]
mod fixture_tests {
    use super::*;
    use crate::model::Model;

    /// Imports `fixtures/mapped/<csv>` through `app.toml` and renders every
    /// user with the attributes the model keeps.
    #[track_caller]
    fn check(csv: &str, expected: &str) {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/mapped");
        let mapping = Mapping::load(&root.join("app.toml")).unwrap();
        let mut imp = Importer::new();
        let _ = imp.import_mapped(&root.join(csv), &mapping, &FileOptions::default());
        let (model, _) = imp.finish();
        assert_eq!(render(&model), expected);
    }

    fn render(m: &Model) -> String {
        let mut out = String::new();
        for e in m.entities.iter().filter(|e| e.kind == Kind::Identity) {
            let a = e.attributes.clone().unwrap_or_default();
            let ts = |t: Option<i64>| t.map_or("-".into(), super::super::format_timestamp);
            out.push_str(&format!(
                "{}|{}|{}|{}|{}|{}\n",
                m.str(e.id),
                m.str(e.name),
                m.str(a.email),
                m.str(a.status),
                ts(a.last_login),
                ts(a.password_changed),
            ));
        }
        out
    }

    #[test]
    fn issue_6_hris_employees_keep_first_row_attributes_and_lowercase_managers() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/mapped");
        let mapping = Mapping::load(&root.join("hris.toml")).unwrap();
        let mut imp = Importer::new();
        imp.import_mapped(&root.join("hris.csv"), &mapping, &FileOptions::default())
            .unwrap();
        let (m, _) = imp.finish();
        assert!(m.entities.is_empty() && m.edges.is_empty());
        let got: Vec<String> = m
            .employees
            .iter()
            .map(|e| {
                let attrs: Vec<String> = e
                    .attributes
                    .iter()
                    .map(|&(k, v)| format!("{}={}", m.str(k), m.str(v)))
                    .collect();
                let managers: Vec<&str> = e.managers.iter().map(|&s| m.str(s)).collect();
                format!(
                    "{}|{}|{}|{}",
                    m.str(e.id),
                    m.str(e.name),
                    managers.join(","),
                    attrs.join(" ")
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                "EMP001|Ada Lovelace||employee_number=0001 first_name=Ada last_name=Lovelace \
                 preferred_name=Ada email=ada@example.com personal_email=ada@home.example \
                 company=Acme department=Eng cost_center=CC-10 job_title=CTO groups=eng, leads \
                 employment_status=employed is_active=true start_date=2006-01-30T00:00:00Z \
                 employment_types=full-time primary_time_zone=Europe/London home_location=London \
                 work_location=HQ username=ada idp_id=idp-1 canonical_name=lovelace.ada \
                 display_full_name=Ada L. shoe_size=38",
                "emp002|Bob Byte|emp001|employee_number=0002 first_name=Bob last_name=Byte \
                 email=bob@example.com company=Acme department=Eng cost_center=CC-10 \
                 job_title=Engineer groups=eng employment_status=employed is_active=true \
                 start_date=2006-01-02T00:00:00Z employment_types=full-time primary_time_zone=UTC \
                 work_location=HQ username=bob idp_id=idp-2",
                "emp003|emp003|emp001,emp009|employee_number=0003 first_name=Cy last_name=Cole \
                 email=cy@example.com company=Acme department=Ops cost_center=CC-20 \
                 job_title=Operator groups=ops employment_status=terminated is_active=false \
                 start_date=2006-01-30T15:04:05Z termination_date=2007-01-01T00:00:00Z \
                 employment_types=contractor",
            ]
        );
    }

    #[test]
    fn every_timestamp_format_boolean_token_and_transformation_lands_in_the_model() {
        check(
            "app.csv",
            "U_01|Ada Lovelace|ada@example.com|active|2006-01-30T15:04:05Z|2006-01-30T15:04:05Z\n\
             U_02|Bob Byte|bob@example.com|active|2006-01-30T15:04:05Z|-\n\
             U_03|Cy Cole|cy@example.com|active|2006-01-30T15:04:05Z|-\n\
             U_04|Di Dahl|di@example.com|active|2006-01-30T15:04:05Z|-\n\
             U_05|Ed Eng|ed@example.com|active|2006-01-30T00:00:00Z|-\n\
             U_06|Flo Fox|flo@example.com|active|2006-01-30T00:00:00Z|-\n\
             U_07|Gus Gray|gus@example.com|active|2006-01-30T15:04:05Z|-\n\
             U_08|Hal Hill|hal@example.com|active|2006-01-30T15:04:05Z|-\n\
             U_09|Ivy Ives|ivy@example.com|inactive|2006-01-02T00:00:00Z|-\n\
             U_10|Jo Jay|jo@example.com|inactive|-|-\n\
             Grace Hopper|Grace Hopper|grace@example.com||-|-\n",
        );
    }

    #[test]
    fn issue_6_template_attributes_and_custom_properties_are_kept_typed() {
        let mapping = Mapping::load(Path::new("fixtures/mapped/app.toml")).unwrap();
        let mut imp = Importer::new();
        imp.import_mapped(
            Path::new("fixtures/mapped/app.csv"),
            &mapping,
            &FileOptions::default(),
        )
        .unwrap();
        let (m, _) = imp.finish();
        let mut out = String::new();
        for p in &m.properties {
            let value = match &p.value {
                Value::Text(s) => format!("{:?}", m.str(*s)),
                Value::Number(s) => format!("number {}", m.str(*s)),
                Value::Bool(b) => format!("{b}"),
                Value::Timestamp(t) => super::super::format_timestamp(*t),
                Value::List(items) => {
                    format!("{:?}", items.iter().map(|s| m.str(*s)).collect::<Vec<_>>())
                }
            };
            let custom = if p.custom { "custom " } else { "" };
            out.push_str(&format!(
                "{} {custom}{}={value}\n",
                m.str(m.entity(p.entity).id),
                m.str(p.name)
            ));
        }
        // First row wins: U_01's second row (other email, inactive) changes
        // nothing. An empty cell sets nothing ("never" and "null" are unset
        // timestamps), a padded empty badge stays unset, the static Region
        // is set for every user, and group properties come from the row that
        // first names the group.
        assert_eq!(
            out,
            "U_01 created_at=2006-01-30T00:00:00Z\n\
             U_01 owner_id=\"u-07\"\n\
             U_01 owner_type=\"user\"\n\
             U_01 custom department=\"R&D\"\n\
             U_01 custom badge=number 000042\n\
             U_01 custom hired=2006-01-30T00:00:00Z\n\
             U_01 custom region=\"eu-west\"\n\
             Eng created_at=2006-01-30T00:00:00Z\n\
             Ops created_at=2006-01-30T00:00:00Z\n\
             U_02 created_at=2006-01-31T00:00:00Z\n\
             U_02 custom department=\"R&D\"\n\
             U_02 custom badge=number 000007\n\
             U_02 custom region=\"eu-west\"\n\
             U_03 custom region=\"eu-west\"\n\
             U_04 custom region=\"eu-west\"\n\
             U_05 custom region=\"eu-west\"\n\
             U_06 custom region=\"eu-west\"\n\
             U_07 custom region=\"eu-west\"\n\
             U_08 custom region=\"eu-west\"\n\
             U_09 custom region=\"eu-west\"\n\
             U_10 deactivated_at=2006-02-01T00:00:00Z\n\
             U_10 custom region=\"eu-west\"\n\
             Grace Hopper custom region=\"eu-west\"\n"
        );
    }
}
