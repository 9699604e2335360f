//! Deterministic generator of realistic synthetic organisations, written as a
//! 19-column BalkanID custom-app entitlements CSV.
//!
//! This module owns everything needed to produce such a file from a seed: a
//! tiny seeded PRNG (splitmix64), the organisation's shape (identities, groups
//! nested in levels with a few membership cycles, roles, policies, resources of
//! several source types), the synthesis of names and subject attributes, and a
//! fast row writer that formats into a reused buffer (dates through `jiff`, CSV
//! fields through the report module's shared quoting, [`crate::report::csv_field`]).
//! `org` holds the shape and the row generator, `names` its name tables, `rng`
//! the PRNG, `write` the formatting and `dense` the dense shape.
//!
//! The output is a pure function of the [`GenerateConfig`]: the same
//! configuration (seed included) always gives byte-identical output. Every row
//! is valid per the reference format, and every entity is described the same
//! way on every row that names it (see [`generate`]).
//!
//! Shape, in the direction of the edges ("entity has access to entity"):
//! identity -> group (`member`), group -> parent group (`member`, groups are
//! arranged in `nesting_depth` levels, each group is a member of one or two
//! groups one level up), a few "back" edges from a shallow group to a leaf
//! group below it (each closes a membership cycle), group -> role
//! (`RoleAssignment`), role -> policy (`PolicyAttachment`), connection ->
//! resource (`read`, `write`, `s3:GetObject`, ...), plus a few identity ->
//! role (`AssumeRole`), identity -> resource and identity -> identity
//! (`impersonate`) edges.
//!
//! Calibration (measured with the grant counter in this module's tests, per
//! the product's effective-access semantics, seed 1): the medium shape gives
//! about 10.5 distinct effective grants (identity, target, permission,
//! provider) per row — 10.46 on `with_rows(100_000, 1)` (99,805 rows, 1.04M
//! grants), 10.62 on `medium` (998,478 rows, 10.6M grants), 10.76 on `large`
//! (4,998,122 rows, 53.8M grants); 8.7 on `small`. An identity reaches on
//! average ~16 groups, ~1.7 roles and ~6.7 policies. Roles are owned by leaf
//! (team) groups and policies by roles, so a policy is reached by about as
//! many identities as a team has members: that is what holds the ratio.
//!
//! Speed: about 2.2-2.7M rows per CPU-second in release mode (180 bytes a
//! row), in constant memory: entities are described on demand from their own
//! random streams, nothing is kept per entity.

mod dense;
mod names;
mod org;
mod rng;
#[cfg(test)]
mod tests;
mod write;

use std::io::{self, Write};

pub use dense::generate_dense;
use org::Generator;

/// The header row: the 19 columns, in the reference order.
pub(super) const HEADER: &str = "Project,Entity Name,Entity Type,Entity Source Type,Entity Source ID,\
Entity Username,Entity Email,Entity - Has Access To Name,Entity - Has Access To Source ID,\
Entity - Has Access To Permission Name,Entity - Has Access To Permission Value,Entity Status,\
Entity First Name,Entity Last Name,Entity LastLoginTime,LastPasswordChangedTime,\
Entity MfaEnabled,Entity - Has Access To Entity Type,Entity - Has Access To Source Type\n";

/// Rows the `medium` shape produces; [`GenerateConfig::with_rows`] scales from it.
const MEDIUM_ROWS: f64 = 1_000_000.0;

/// What to generate: entity counts, the organisation's shape and the seed.
///
/// Counts are exact (every entity listed here appears in the output, at least
/// as the subject or the target of one row); the shape knobs are upper bounds
/// of uniform draws, so their means are about half of the stated value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenerateConfig {
    /// Seed of the PRNG: the same configuration always gives the same bytes.
    pub seed: u64,
    /// Number of identities (about 5% are service accounts).
    pub identities: usize,
    /// Number of groups (connections, source type `group`).
    pub groups: usize,
    /// Number of roles (connections, source type `role`).
    pub roles: usize,
    /// Number of policies (connections, source type `policy`).
    pub policies: usize,
    /// Number of resources (application, storage, database, repository, api).
    pub resources: usize,
    /// Levels of group nesting: a leaf group is `nesting_depth - 1` membership
    /// edges below a top-level group (capped by the number of groups).
    pub nesting_depth: usize,
    /// Value of the Project column on every row.
    pub source: String,
    /// Maximum number of group memberships of a user besides its team.
    pub extra_memberships: u32,
    /// Percentage of non-top groups that are also a member of a second group.
    pub second_parent_pct: u32,
    /// Maximum number of extra (random) roles assigned to a group.
    pub roles_per_group: u32,
    /// Maximum number of extra (random) policies attached to a role.
    pub policies_per_role: u32,
    /// Maximum number of extra (random) resources granted by a group or policy.
    pub resources_per_connection: u32,
    /// Number of back edges (shallow group -> leaf group below it), each
    /// closing a membership cycle; needs at least two levels.
    pub cycles: usize,
    /// Per-mille of edges whose Permission Value is `false`.
    pub false_permille: u32,
    /// Percentage of edges carrying a default permission (`member` into a
    /// connection, `access` otherwise) whose Permission Name is left empty.
    pub empty_permission_pct: u32,
}

impl GenerateConfig {
    /// A named preset: `tiny` (~50 rows), `small` (~10k rows), `medium` (~1M
    /// rows, ~10M effective grants) or `large` (~5M rows, ~50M grants); seed 1.
    /// `None` for any other name.
    pub fn scale(name: &str) -> Option<GenerateConfig> {
        match name {
            "tiny" => Some(GenerateConfig {
                seed: 1,
                identities: 12,
                groups: 6,
                roles: 2,
                policies: 2,
                resources: 8,
                nesting_depth: 3,
                source: "Acme-Tiny".to_string(),
                extra_memberships: 1,
                second_parent_pct: 30,
                roles_per_group: 1,
                policies_per_role: 1,
                resources_per_connection: 1,
                cycles: 1,
                false_permille: 40,
                empty_permission_pct: 20,
            }),
            "small" => Some(Self::with_rows(10_000, 1)),
            "medium" => Some(Self::medium(1)),
            "large" => Some(Self::with_rows(5_000_000, 1)),
            _ => None,
        }
    }

    /// The medium shape scaled linearly to about `rows` rows (entity counts
    /// scale, per-entity degrees and nesting depth stay), so the ratio of
    /// effective grants to rows stays about 10.
    pub fn with_rows(rows: u64, seed: u64) -> GenerateConfig {
        let base = Self::medium(seed);
        let f = rows as f64 / MEDIUM_ROWS;
        let s = |n: usize| ((n as f64 * f).round() as usize).max(1);
        GenerateConfig {
            identities: s(base.identities),
            groups: s(base.groups),
            roles: s(base.roles),
            policies: s(base.policies),
            resources: s(base.resources),
            cycles: s(base.cycles),
            ..base
        }
    }

    fn medium(seed: u64) -> GenerateConfig {
        GenerateConfig {
            seed,
            identities: 105_000,
            groups: 40_000,
            roles: 20_000,
            policies: 60_000,
            resources: 530_000,
            nesting_depth: 6,
            source: "Acme-Corp".to_string(),
            extra_memberships: 2,
            second_parent_pct: 10,
            roles_per_group: 0,
            policies_per_role: 1,
            resources_per_connection: 2,
            cycles: 100,
            false_permille: 10,
            empty_permission_pct: 15,
        }
    }
}

/// What [`generate`] wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GenerateStats {
    /// Data rows written (the header not included).
    pub rows: u64,
    /// Identities described (each is the subject of at least one row).
    pub identities: u64,
    /// Connections (groups, roles, policies) described.
    pub connections: u64,
    /// Resources named (each is the target of at least one row).
    pub resources: u64,
    /// Bytes written, header included.
    pub bytes: u64,
}

/// Writes the organisation described by `cfg` to `out` as a BalkanID CSV:
/// the 19-column header, then one row per edge, grouped by subject
/// (identities, then groups, roles and policies). Identities without any
/// edge get one entities-only row (all six Has-Access-To columns empty).
///
/// Entity Source IDs are unique across the file (`usr-`, `grp-`, `rol-`,
/// `pol-`, `res-` followed by the index); an entity's name, type and source
/// type are the same on every row, and its subject attributes are the same on
/// every row where it is the subject. Writes are buffered internally; `out`
/// receives large chunks and is flushed at the end.
pub fn generate<W: Write>(cfg: &GenerateConfig, out: W) -> io::Result<GenerateStats> {
    let mut g = Generator::new(cfg, out);
    g.buf.extend_from_slice(HEADER.as_bytes());
    for i in 0..cfg.identities {
        g.identity(i)?;
    }
    for i in 0..cfg.groups {
        g.group(i)?;
    }
    for i in 0..cfg.roles {
        g.role(i)?;
    }
    for i in 0..cfg.policies {
        g.policy(i)?;
    }
    g.finish()
}

/// A generated organisation of about `rows` rows, imported, as a graph: for
/// unit tests of the engine on realistic shapes.
#[cfg(test)]
pub(crate) fn test_org(rows: u64, seed: u64) -> crate::graph::AccessGraph {
    let mut csv = Vec::new();
    generate(&GenerateConfig::with_rows(rows, seed), &mut csv).unwrap();
    imported("org.csv", &csv)
}

/// A dense organisation ([`generate_dense`]), imported, as a graph.
#[cfg(test)]
pub(crate) fn test_dense(identities: u64, resources: u64) -> crate::graph::AccessGraph {
    let mut csv = Vec::new();
    generate_dense(identities, resources, &mut csv).unwrap();
    imported("dense.csv", &csv)
}

/// A generated file imported as `name`, every row accepted, as a graph.
#[cfg(test)]
fn imported(name: &str, csv: &[u8]) -> crate::graph::AccessGraph {
    use crate::import::{FileOptions, Importer};
    let mut importer = Importer::new();
    importer
        .import_reader(std::path::Path::new(name), csv, &FileOptions::default())
        .unwrap();
    let (model, report) = importer.finish();
    assert_eq!(report.rows_rejected(), 0);
    crate::graph::AccessGraph::new(model)
}
