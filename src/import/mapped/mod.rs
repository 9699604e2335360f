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

mod columns;
mod rows;
#[cfg(test)]
mod tests;
mod transform;

pub use columns::{parse_reference_bool, parse_reference_timestamp};
pub use rows::describe_employees;
pub use transform::{Combine, DateFormat, PadLeft, Replace, SimpleTransform, Static, Transform};

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
        Mapping::read(path).map(|(mapping, _)| mapping)
    }

    /// Reads and parses a mapping file, returning its text too (what a
    /// snapshot records of it).
    pub fn read(path: &Path) -> Result<(Mapping, String), MappingError> {
        let io = |source| MappingError::Io {
            path: path.to_path_buf(),
            source,
        };
        let text = std::fs::read(path).map_err(io)?;
        // As `read_to_string` would say it.
        let text = String::from_utf8(text).map_err(|_| {
            io(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "stream did not contain valid UTF-8",
            ))
        })?;
        let mapping = Mapping::parse(&text).map_err(|message| MappingError::Invalid {
            path: path.to_path_buf(),
            message,
        })?;
        Ok((mapping, text))
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
