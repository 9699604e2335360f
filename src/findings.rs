//! Audit findings: what is wrong with the loaded access, not only what is.
//!
//! [`findings`] checks the model, its expansion and the identity-employee
//! links ([`People`]) and returns every [`Finding`] with a severity, the
//! entity, the evidence (rows and edges with file:line) and a one-line fix
//! hint, sorted by severity (worst first), kind, entity and detail, so the
//! output is deterministic. "Now" is [`Options::now`], never the clock.
//!
//! Definitions (also in the README, "Findings"):
//!
//! * an identity's status is **inactive** when its Entity Status is one of
//!   [`INACTIVE_STATUSES`], **active** when it is `active` or `enabled`, and
//!   unknown when empty (unknown counts as active for dormancy only);
//! * an employee has **left** when `is_active` is false, `employment_status`
//!   is one of [`DEPARTED_STATUSES`], or `termination_date` is on or before
//!   now;
//! * a **service account** is an identity with an `OWNS` link, or whose
//!   source type contains `service`, `bot`, `robot` or `machine`, or whose
//!   id, name or username starts with `svc-`, `svc_` or `svc.`
//!   (case-insensitive);
//! * a permission is **privileged** when it contains one of the patterns
//!   (case-insensitive substring; default [`DEFAULT_PRIVILEGED`]).
//!
//! Orphaned identities and ownerless service accounts are only reported
//! when HRIS employees are loaded: without HR data every identity would be
//! one. Does no I/O.

use std::io::{self, Write};

use serde::Serialize;

use crate::expand::{Expansion, Grant};
use crate::import::{ImportReport, format_timestamp, parse_timestamp};
use crate::model::{Conflict, EmployeeValue, EntityIdx, Kind, Model, Provenance, Relation};
use crate::people::{EmployeeIdx, People, employee_attr, employee_attribute, employee_key};
use crate::report::{Cell, Format, RowWriter};

/// How bad a finding is, least to worst.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Data quality worth knowing.
    Info,
    /// Worth a look.
    Low,
    /// Should be fixed.
    Medium,
    /// Fix soon.
    High,
    /// Fix now.
    Critical,
}

impl Severity {
    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

/// What a finding is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FindingKind {
    /// A departed employee's identity is still active or holds access.
    DepartedEmployeeAccess,
    /// MFA off and a privileged permission held.
    PrivilegedWithoutMfa,
    /// Access flowing through a disabled or suspended connection.
    DisabledConnectionAccess,
    /// An identity linked to no employee that holds access.
    OrphanedIdentity,
    /// A service account with no `OWNS` owner.
    ServiceAccountWithoutOwner,
    /// Active with access, but no login for `--dormant-days` or never.
    DormantAccount,
    /// Conflicting declarations in the input or the people map.
    ImportConflict,
    /// An identity matching several employees automatically.
    AmbiguousMapping,
    /// A row rejected at import.
    RejectedRow,
    /// A separation-of-duties rule broken: one identity or person holds
    /// accesses a rule forbids together (`--rules`).
    SodViolation,
}

impl FindingKind {
    /// The kind's name in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            FindingKind::DepartedEmployeeAccess => "departed-employee-access",
            FindingKind::PrivilegedWithoutMfa => "privileged-without-mfa",
            FindingKind::DisabledConnectionAccess => "disabled-connection-access",
            FindingKind::OrphanedIdentity => "orphaned-identity",
            FindingKind::ServiceAccountWithoutOwner => "service-account-without-owner",
            FindingKind::DormantAccount => "dormant-account",
            FindingKind::ImportConflict => "import-conflict",
            FindingKind::AmbiguousMapping => "ambiguous-mapping",
            FindingKind::RejectedRow => "rejected-row",
            FindingKind::SodViolation => "sod-violation",
        }
    }
}

/// What a finding is about. Text formats show it as one label
/// ([`Subject::label`]); JSON as an object: `{source, id, kind, name}` for an
/// entity, `{file, line}` for a rejected row.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Subject {
    /// An identity, connection or resource.
    Entity {
        /// Its source.
        source: String,
        /// Its Entity Source ID.
        id: String,
        /// `identity`, `connection` or `resource`.
        kind: &'static str,
        /// Its name.
        name: String,
    },
    /// A row of an input file.
    Row {
        /// The file.
        file: String,
        /// The physical line.
        line: u64,
    },
}

impl Subject {
    /// `source/id (name)` (`source/id` when the name is the id), or
    /// `file:line` for a row.
    pub fn label(&self) -> String {
        match self {
            Subject::Entity {
                source, id, name, ..
            } if name.is_empty() || name == id => format!("{source}/{id}"),
            Subject::Entity {
                source, id, name, ..
            } => format!("{source}/{id} ({name})"),
            Subject::Row { file, line } => format!("{file}:{line}"),
        }
    }
}

/// One line of evidence: where it is and what it shows there. Text
/// formats show it as `file:line: text` ([`std::fmt::Display`]); JSON as
/// `{file, line, column, text}` (nulls where it has no place).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Evidence {
    /// The file, when the evidence has a place.
    pub file: Option<String>,
    /// The physical line in `file`.
    pub line: Option<u64>,
    /// The column, for a rejected row.
    pub column: Option<usize>,
    /// What it shows.
    pub text: String,
}

impl Evidence {
    /// Evidence at a row that `model` holds the provenance of.
    pub fn at(model: &Model, at: Provenance, text: String) -> Evidence {
        let file = model
            .sources
            .get(at.file as usize)
            .map_or_else(|| "?".to_string(), |s| s.path.display().to_string());
        Evidence {
            file: Some(file),
            line: Some(u64::from(at.line)),
            column: None,
            text,
        }
    }

    /// Evidence with no place of its own (a summary line).
    pub fn note(text: String) -> Evidence {
        Evidence {
            file: None,
            line: None,
            column: None,
            text,
        }
    }
}

impl std::fmt::Display for Evidence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.file, self.line, self.column) {
            (Some(file), Some(line), Some(column)) => {
                write!(f, "{file}:{line}:{column}: {}", self.text)
            }
            (Some(file), Some(line), None) => write!(f, "{file}:{line}: {}", self.text),
            _ => f.write_str(&self.text),
        }
    }
}

/// One finding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// How bad.
    pub severity: Severity,
    /// What kind.
    pub kind: FindingKind,
    /// What it is about: an entity, or the row of a rejected row.
    pub entity: Subject,
    /// What is wrong, in one sentence.
    pub detail: String,
    /// Rows and edges showing it, each with its file and line.
    pub evidence: Vec<Evidence>,
    /// What to do, in one line.
    pub fix: String,
    /// Sort key after severity and kind: the entity, or file and line for a
    /// rejected row (so line 9 sorts before line 10).
    #[serde(skip)]
    order: (String, u64),
}

/// Default privileged-permission patterns (case-insensitive substrings).
pub const DEFAULT_PRIVILEGED: [&str; 10] = [
    "admin",
    "owner",
    "write",
    "*:*",
    "assumerole",
    "root",
    "superuser",
    "full",
    "manage",
    "delete",
];

/// Entity Status values meaning the identity or connection is off.
pub const INACTIVE_STATUSES: [&str; 10] = [
    "inactive",
    "disabled",
    "suspended",
    "deactivated",
    "deprovisioned",
    "locked",
    "terminated",
    "deleted",
    "archived",
    "blocked",
];

/// `employment_status` values meaning the employee has left.
pub const DEPARTED_STATUSES: [&str; 7] = [
    "terminated",
    "inactive",
    "former",
    "separated",
    "resigned",
    "retired",
    "deceased",
];

/// Evidence lines shown per finding before "… and N more".
const MAX_EVIDENCE: usize = 5;

/// What the checks depend on.
#[derive(Clone, Debug)]
pub struct Options {
    /// "Now", seconds since the Unix epoch (`--as-of`).
    pub now: i64,
    /// Days without login before an account is dormant.
    pub dormant_days: u64,
    /// Privileged-permission patterns, lowercase.
    pub privileged: Vec<String>,
}

/// Identity or connection status, as the checks read it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Status {
    Active,
    Inactive,
    Unknown,
}

fn status(model: &Model, e: EntityIdx) -> Status {
    let Some(a) = &model.entity(e).attributes else {
        return Status::Unknown;
    };
    let s = model.str(a.status).trim().to_lowercase();
    if s.is_empty() {
        Status::Unknown
    } else if INACTIVE_STATUSES.contains(&s.as_str()) {
        Status::Inactive
    } else if s == "active" || s == "enabled" {
        Status::Active
    } else {
        Status::Unknown
    }
}

/// `source/id (name)`, or `source/id` when the name is the id: how a
/// finding about `e` names it ([`Subject::label`]).
pub fn label(model: &Model, e: EntityIdx) -> String {
    subject(model, e).label()
}

/// The entity `e` as a finding's subject.
fn subject(model: &Model, e: EntityIdx) -> Subject {
    let ent = model.entity(e);
    Subject::Entity {
        source: model.str(ent.source).to_string(),
        id: model.str(ent.id).to_string(),
        kind: ent.kind.as_str(),
        name: model.str(ent.name).to_string(),
    }
}

fn employee_label(model: &Model, e: EmployeeIdx) -> String {
    format!(
        "{} ({})",
        employee_key(model, e),
        model.str(model.employees[e as usize].name)
    )
}

/// True when the identity counts as a service account (see the module
/// docs).
pub fn is_service_account(model: &Model, people: &People, i: EntityIdx) -> bool {
    if people
        .links_of_identity(i)
        .any(|l| l.relation == Relation::Owns)
    {
        return true;
    }
    let ent = model.entity(i);
    let st = model.str(ent.source_type).to_lowercase();
    if ["service", "bot", "robot", "machine"]
        .iter()
        .any(|w| st.contains(w))
    {
        return true;
    }
    let username = ent
        .attributes
        .as_ref()
        .map_or("", |a| model.str(a.username));
    [model.str(ent.id), model.str(ent.name), username]
        .iter()
        .any(|s| {
            let s = s.to_lowercase();
            ["svc-", "svc_", "svc."].iter().any(|p| s.starts_with(p))
        })
}

/// Why an employee has left, or `None`.
pub fn departure(model: &Model, e: EmployeeIdx, now: i64) -> Option<String> {
    let mut why = Vec::new();
    // The template's `is_active` and `termination_date` are typed by the
    // importer; a custom property of the same name is text, read by the
    // same rules as before they were typed.
    let attribute = |key| employee_attribute(model, e, key);
    let inactive = attribute("is_active").is_some_and(|a| match a.value {
        EmployeeValue::Bool(active) => !active,
        _ => model.str(a.text).eq_ignore_ascii_case("false"),
    });
    if inactive {
        why.push("is_active false".to_string());
    }
    let status = employee_attr(model, e, "employment_status");
    if DEPARTED_STATUSES.contains(&status.trim().to_lowercase().as_str()) {
        why.push(format!("employment_status {status:?}"));
    }
    let end = attribute("termination_date").and_then(|a| match a.value {
        EmployeeValue::Timestamp(t) => Some(t),
        _ => parse_timestamp(model.str(a.text)),
    });
    if let Some(t) = end
        && t <= now
    {
        why.push(format!("termination_date {} passed", format_timestamp(t)));
    }
    (!why.is_empty()).then(|| why.join(", "))
}

/// The edge that grants `g`, as evidence: `file:line: from -> to permission`.
fn grant_evidence(expansion: &Expansion, g: &Grant) -> Evidence {
    let m = expansion.model();
    let holder = g.provider.unwrap_or(g.identity);
    let edge = expansion
        .graph()
        .edges_from(holder)
        .into_iter()
        .find(|(_, e)| e.to == g.target && e.permission == g.permission && e.granted);
    let text = format!(
        "{} -> {} {}",
        label(m, holder),
        label(m, g.target),
        m.str(g.permission)
    );
    match edge {
        Some((_, e)) => Evidence::at(m, e.origin, text),
        None => Evidence::note(text),
    }
}

/// `lines` followed by the evidence of `grants`, cut to [`MAX_EVIDENCE`]
/// lines plus "… and N more". Only the grants shown are rendered: an
/// identity can hold millions.
fn limited<'a>(
    expansion: &Expansion,
    mut lines: Vec<Evidence>,
    grants: impl ExactSizeIterator<Item = &'a Grant>,
) -> Vec<Evidence> {
    let total = lines.len() + grants.len();
    let room = MAX_EVIDENCE.saturating_sub(lines.len());
    lines.extend(grants.take(room).map(|g| grant_evidence(expansion, g)));
    if total > MAX_EVIDENCE {
        lines.truncate(MAX_EVIDENCE);
        lines.push(Evidence::note(format!(
            "… and {} more",
            total - MAX_EVIDENCE
        )));
    }
    lines
}

fn declared(model: &Model, e: EntityIdx, what: &str) -> Evidence {
    Evidence::at(
        model,
        model.entity(e).origin,
        format!("{} {what}", label(model, e)),
    )
}

/// Every finding, sorted worst first.
pub fn findings(
    expansion: &Expansion,
    people: &People,
    report: &ImportReport,
    opts: &Options,
) -> Vec<Finding> {
    let mut out = Vec::new();
    each_finding(expansion, people, report, opts, &mut |f| out.push(f));
    sort(&mut out);
    out
}

/// Hands `emit` every finding of [`findings`], one at a time and unsorted
/// (in the order the checks run, which is deterministic), so a caller that
/// keeps only part of each (the review pages keep no evidence) never holds
/// every finding's evidence at once.
pub fn each_finding(
    expansion: &Expansion,
    people: &People,
    report: &ImportReport,
    opts: &Options,
    emit: &mut dyn FnMut(Finding),
) {
    let m = expansion.model();
    let identities: Vec<EntityIdx> = (0..m.entities.len() as EntityIdx)
        .filter(|&i| m.entity(i).kind == Kind::Identity)
        .collect();
    let hr_loaded = !m.employees.is_empty();

    // Departed employees whose identities are still active or hold access.
    for e in 0..m.employees.len() as EmployeeIdx {
        let Some(why) = departure(m, e, opts.now) else {
            continue;
        };
        for link in people.links_of_employee(e) {
            let i = link.identity;
            let g = &expansion.grants_of(i);
            let active = status(m, i) == Status::Active;
            if !active && g.is_empty() {
                continue;
            }
            let mut state = Vec::new();
            if active {
                state.push("is still active".to_string());
            }
            if !g.is_empty() {
                state.push(format!(
                    "holds {}",
                    crate::report::plural(g.len(), "grant", "grants")
                ));
            }
            let evidence = vec![
                Evidence::at(
                    m,
                    m.employees[e as usize].origin,
                    format!("employee {} left: {why}", employee_label(m, e)),
                ),
                declared(
                    m,
                    i,
                    &format!(
                        "{} this employee ({})",
                        link.relation.as_str(),
                        people.describe_how(m, link.how)
                    ),
                ),
            ];
            let evidence_grants = g.iter();
            emit(Finding {
                order: Default::default(),
                severity: if g.is_empty() {
                    Severity::High
                } else {
                    Severity::Critical
                },
                kind: FindingKind::DepartedEmployeeAccess,
                entity: subject(m, i),
                detail: format!(
                    "{} of departed employee {} {}",
                    if link.relation == Relation::Is {
                        "identity"
                    } else {
                        "service account"
                    },
                    employee_label(m, e),
                    state.join(" and ")
                ),
                evidence: limited(expansion, evidence, evidence_grants),
                fix: if link.relation == Relation::Is {
                    "disable the account and remove its access".into()
                } else {
                    "hand the service account to a current owner (OWNS row) or disable it".into()
                },
            });
        }
    }

    let disabled: Vec<EntityIdx> = (0..m.entities.len() as EntityIdx)
        .filter(|&c| m.entity(c).kind == Kind::Connection && status(m, c) == Status::Inactive)
        .collect();
    // Providers reachable from each disabled connection (itself included
    // when it grants directly).
    let reachable: Vec<rustc_hash::FxHashSet<EntityIdx>> = disabled
        .iter()
        .map(|&c| expansion.closure_of(c).iter().map(|x| x.2).collect())
        .collect();

    // One identity's grants at a time: memory stays bounded by the largest
    // identity's access, not the whole organisation's.
    for &i in &identities {
        let g = &expansion.grants_of(i);
        let ent = m.entity(i);
        // Privileged access without MFA.
        if ent.attributes.as_ref().and_then(|a| a.mfa) == Some(false) {
            let privileged: Vec<&Grant> = g
                .iter()
                .filter(|g| {
                    let p = m.str(g.permission).to_lowercase();
                    opts.privileged.iter().any(|pat| p.contains(pat.as_str()))
                })
                .collect();
            if !privileged.is_empty() {
                let mut perms: Vec<&str> = privileged.iter().map(|g| m.str(g.permission)).collect();
                perms.sort_unstable();
                perms.dedup();
                let evidence = vec![declared(m, i, "MfaEnabled false")];
                let evidence_grants = privileged.iter().copied();
                emit(Finding {
                    order: Default::default(),
                    severity: Severity::High,
                    kind: FindingKind::PrivilegedWithoutMfa,
                    entity: subject(m, i),
                    detail: format!(
                        "MFA is off and {} privileged: {}",
                        crate::report::plural(privileged.len(), "grant is", "grants are"),
                        perms.join(", ")
                    ),
                    evidence: limited(expansion, evidence, evidence_grants),
                    fix: "turn on MFA or remove the privileged permission".into(),
                });
            }
        }
        // Access through a disabled or suspended connection.
        if !disabled.is_empty() && !g.is_empty() {
            let inside = expansion.connections_of(i);
            for (&c, providers) in disabled.iter().zip(&reachable) {
                if inside.binary_search(&c).is_err() {
                    continue;
                }
                let through: Vec<&Grant> = g
                    .iter()
                    .filter(|g| g.provider.is_some_and(|p| providers.contains(&p)))
                    .collect();
                if through.is_empty() {
                    continue;
                }
                let status_text = m
                    .entity(c)
                    .attributes
                    .as_ref()
                    .map_or("", |a| m.str(a.status));
                let evidence = vec![declared(m, c, &format!("status {status_text:?}"))];
                let evidence_grants = through.iter().copied();
                emit(Finding {
                    order: Default::default(),
                    severity: Severity::Medium,
                    kind: FindingKind::DisabledConnectionAccess,
                    entity: subject(m, i),
                    detail: format!(
                        "{} through {} connection {}",
                        if through.len() == 1 {
                            "1 grant flows".to_string()
                        } else {
                            format!("{} grants flow", through.len())
                        },
                        status_text.to_lowercase(),
                        label(m, c)
                    ),
                    evidence: limited(expansion, evidence, evidence_grants),
                    fix: "remove the identity from the connection, or the connection's grants"
                        .into(),
                });
            }
        }
        if hr_loaded {
            let service = is_service_account(m, people, i);
            let owned = people
                .links_of_identity(i)
                .any(|l| l.relation == Relation::Owns);
            if service && !owned {
                let evidence = vec![declared(
                    m,
                    i,
                    &format!("source type {:?}", m.str(ent.source_type)),
                )];
                let evidence_grants = g.iter();
                emit(Finding {
                    order: Default::default(),
                    severity: if g.is_empty() {
                        Severity::Low
                    } else {
                        Severity::Medium
                    },
                    kind: FindingKind::ServiceAccountWithoutOwner,
                    entity: subject(m, i),
                    detail: format!(
                        "service account with no OWNS owner, holding {}",
                        crate::report::plural(g.len(), "grant", "grants")
                    ),
                    evidence: limited(expansion, evidence, evidence_grants),
                    fix: "add an OWNS row naming the responsible employee to the people map".into(),
                });
            } else if !service && !people.is_mapped(i) && !g.is_empty() {
                let evidence = vec![declared(m, i, "declared")];
                let evidence_grants = g.iter();
                emit(Finding {
                    order: Default::default(),
                    severity: Severity::Medium,
                    kind: FindingKind::OrphanedIdentity,
                    entity: subject(m, i),
                    detail: format!(
                        "linked to no employee, holding {}",
                        crate::report::plural(g.len(), "grant", "grants")
                    ),
                    evidence: limited(expansion, evidence, evidence_grants),
                    fix: "map it to its employee (whocan people unmapped) or remove it".into(),
                });
            }
        }
        // Dormant: active (or status unknown) with access, no recent login.
        if ent.attributes.is_some() && status(m, i) != Status::Inactive && !g.is_empty() {
            let last = ent.attributes.as_ref().and_then(|a| a.last_login);
            // Saturating: no number of days can wrap into the past.
            let limit = i64::try_from(opts.dormant_days)
                .unwrap_or(i64::MAX)
                .saturating_mul(86_400);
            let stale = match last {
                None => Some("has never logged in".to_string()),
                Some(t) if opts.now.saturating_sub(t) > limit => Some(format!(
                    "last logged in {} ({} days before {})",
                    format_timestamp(t),
                    (opts.now - t) / 86_400,
                    format_timestamp(opts.now)
                )),
                Some(_) => None,
            };
            if let Some(stale) = stale {
                let evidence = vec![declared(m, i, &stale)];
                let evidence_grants = g.iter();
                emit(Finding {
                    order: Default::default(),
                    severity: Severity::Low,
                    kind: FindingKind::DormantAccount,
                    entity: subject(m, i),
                    detail: format!(
                        "{stale}, holding {}",
                        crate::report::plural(g.len(), "grant", "grants")
                    ),
                    evidence: limited(expansion, evidence, evidence_grants),
                    fix: format!(
                        "disable the account or confirm it is needed (dormant after {} days)",
                        opts.dormant_days
                    ),
                });
            }
        }
    }

    // Data quality: conflicts, ambiguous matches, rejected rows.
    for c in &m.conflicts {
        let (entity, detail, at) = describe_model_conflict(m, c);
        emit(Finding {
            order: Default::default(),
            severity: Severity::Low,
            kind: FindingKind::ImportConflict,
            entity,
            detail,
            evidence: vec![at],
            fix: "make the source files agree".into(),
        });
    }
    for c in &people.conflicts {
        emit(Finding {
            order: Default::default(),
            severity: Severity::Low,
            kind: FindingKind::ImportConflict,
            entity: subject(m, c.identity),
            detail: "identity IS two different employees in the people map".into(),
            evidence: vec![{
                let (at, text) = people.conflict_evidence(m, c);
                Evidence {
                    file: Some(at.0),
                    line: Some(at.1),
                    column: None,
                    text,
                }
            }],
            fix: "keep one IS row for the identity (a shared account needs an owner, OWNS)".into(),
        });
    }
    for a in &people.ambiguous {
        emit(Finding {
            order: Default::default(),
            severity: Severity::Info,
            kind: FindingKind::AmbiguousMapping,
            entity: subject(m, a.identity),
            detail: format!(
                "matches {} automatically; not linked",
                crate::report::plural(a.employees.len(), "employee", "employees")
            ),
            evidence: vec![Evidence::at(
                m,
                m.entity(a.identity).origin,
                people.ambiguous_text(m, a),
            )],
            fix: "add an explicit row for the identity to the people map".into(),
        });
    }
    for r in &report.rejections {
        emit(Finding {
            order: (r.file.display().to_string(), r.line),
            severity: Severity::Info,
            kind: FindingKind::RejectedRow,
            entity: Subject::Row {
                file: r.file.display().to_string(),
                line: r.line,
            },
            detail: r.reason.clone(),
            evidence: vec![
                Evidence {
                    file: Some(r.file.display().to_string()),
                    line: Some(r.line),
                    column: Some(r.column),
                    text: r.reason.clone(),
                },
                Evidence::note(r.record.clone()),
            ],
            fix: "fix the row and import again".into(),
        });
    }
    for r in &m.people_map.rejections {
        emit(Finding {
            order: (r.file.display().to_string(), r.line),
            severity: Severity::Info,
            kind: FindingKind::RejectedRow,
            entity: Subject::Row {
                file: r.file.display().to_string(),
                line: r.line,
            },
            detail: r.reason.clone(),
            evidence: vec![Evidence {
                file: Some(r.file.display().to_string()),
                line: Some(r.line),
                column: Some(r.column),
                text: r.reason.clone(),
            }],
            fix: "fix the people-map row and load it again".into(),
        });
    }
}

impl Finding {
    /// A finding made outside this module (a separation-of-duties rule's
    /// violation), ordered by its entity.
    pub fn new(
        severity: Severity,
        kind: FindingKind,
        entity: Subject,
        detail: String,
        evidence: Vec<Evidence>,
        fix: String,
    ) -> Finding {
        Finding {
            severity,
            kind,
            order: (entity.label(), 0),
            entity,
            detail,
            evidence,
            fix,
        }
    }
}

/// Sorts findings worst first, then by kind, entity, detail and evidence:
/// the order [`findings`] returns, kept when other findings join them.
pub fn sort(out: &mut [Finding]) {
    for f in out.iter_mut() {
        if f.order.0.is_empty() {
            f.order.0 = f.entity.label();
        }
    }
    out.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.kind.cmp(&b.kind))
            .then_with(|| a.order.cmp(&b.order))
            .then_with(|| a.entity.label().cmp(&b.entity.label()))
            .then_with(|| a.detail.cmp(&b.detail))
            .then_with(|| {
                let text =
                    |f: &Finding| f.evidence.iter().map(|e| e.to_string()).collect::<Vec<_>>();
                text(a).cmp(&text(b))
            })
    });
}

/// Subject, sentence and evidence of a model conflict.
fn describe_model_conflict(m: &Model, c: &Conflict) -> (Subject, String, Evidence) {
    match c {
        Conflict::Kind {
            entity,
            kept,
            other,
            at,
        } => (
            subject(m, *entity),
            format!(
                "declared {other} at {} but {kept} first; kept {kept}",
                m.location(*at)
            ),
            declared(m, *entity, &format!("declared {kept}")),
        ),
        Conflict::SourceType {
            entity,
            kept,
            other,
            at,
        } => (
            subject(m, *entity),
            format!(
                "declared source type {:?} at {} but {:?} first",
                m.str(*other),
                m.location(*at),
                m.str(*kept)
            ),
            declared(
                m,
                *entity,
                &format!("declared source type {:?}", m.str(*kept)),
            ),
        ),
        Conflict::PermissionValue {
            edge,
            granted_at,
            denied_at,
        } => {
            let e = &m.edges[*edge as usize];
            (
                subject(m, e.from),
                format!(
                    "{} -> {} {:?} is false at {} but true at {}; counted as granted",
                    label(m, e.from),
                    label(m, e.to),
                    m.str(e.permission),
                    m.location(*denied_at),
                    m.location(*granted_at)
                ),
                Evidence::at(m, *denied_at, "permission value false".into()),
            )
        }
    }
}

/// Columns of the findings output, in order.
pub const COLUMNS: [&str; 6] = ["severity", "kind", "entity", "detail", "evidence", "fix"];

/// Writes findings one row at a time ([`RowWriter`]): `evidence` joined
/// with `; ` for table and CSV, a JSON array otherwise. Returns the number
/// of rows.
pub fn write(findings: &[Finding], format: Format, out: &mut dyn Write) -> io::Result<u64> {
    let mut writer = RowWriter::new(&COLUMNS, format, out)?;
    for f in findings {
        if matches!(format, Format::Json | Format::Jsonl) {
            // The entity and the evidence as objects, keys in column order.
            #[derive(Serialize)]
            struct Row<'a> {
                severity: &'a str,
                kind: &'a str,
                entity: &'a Subject,
                detail: &'a str,
                evidence: &'a [Evidence],
                fix: &'a str,
            }
            writer.element(&Row {
                severity: f.severity.as_str(),
                kind: f.kind.as_str(),
                entity: &f.entity,
                detail: &f.detail,
                evidence: &f.evidence,
                fix: &f.fix,
            })?;
        } else {
            let evidence: Vec<String> = f.evidence.iter().map(|e| e.to_string()).collect();
            writer.row(&[
                Cell::Str(f.severity.as_str()),
                Cell::Str(f.kind.as_str()),
                Cell::Str(&f.entity.label()),
                Cell::Str(&f.detail),
                Cell::Str(&evidence.join("; ")),
                Cell::Str(&f.fix),
            ])?;
        }
    }
    writer.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Employee, EmployeeAttribute, Provenance};

    /// `departure` of one employee with these attributes, at 2026-01-31.
    #[track_caller]
    fn check(attributes: &[(&str, &str)], expected: Option<&str>) {
        let mut m = Model::default();
        let attributes = attributes
            .iter()
            .map(|(k, v)| {
                let (name, text) = (m.strings.intern(k), m.strings.intern(v));
                EmployeeAttribute::typed(&m.strings, name, text)
            })
            .collect();
        let e = Employee {
            source: m.strings.intern("hr"),
            id: m.strings.intern("e1"),
            name: m.strings.intern("E One"),
            attributes,
            managers: Vec::new(),
            origin: Provenance { file: 0, line: 2 },
        };
        m.employees.push(e);
        let now = parse_timestamp("2026-01-31").unwrap();
        assert_eq!(departure(&m, 0, now).as_deref(), expected);
    }

    #[test]
    fn an_employee_leaves_by_flag_status_or_past_termination_date() {
        check(
            &[("is_active", "true"), ("employment_status", "employed")],
            None,
        );
        check(&[("is_active", "false")], Some("is_active false"));
        check(
            &[("employment_status", "Terminated")],
            Some("employment_status \"Terminated\""),
        );
        check(&[("termination_date", "2026-02-01T00:00:00Z")], None);
        check(
            &[("termination_date", "2026-01-31T00:00:00Z")],
            Some("termination_date 2026-01-31T00:00:00Z passed"),
        );
    }
}
