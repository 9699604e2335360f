//! Deterministic generator of realistic synthetic organisations, written as a
//! 19-column BalkanID custom-app entitlements CSV.
//!
//! This module owns everything needed to produce such a file from a seed: a
//! tiny seeded PRNG (splitmix64), the organisation's shape (identities, groups
//! nested in levels with a few membership cycles, roles, policies, resources of
//! several source types), the synthesis of names and subject attributes, and a
//! fast row writer that formats into a reused buffer. It depends on `std` only.
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

use std::io::{self, Write};

/// The header row: the 19 columns, in the reference order.
const HEADER: &str = "Project,Entity Name,Entity Type,Entity Source Type,Entity Source ID,\
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

/// Writes a *dense* organisation: `identities` identities, all members of
/// one group (`grp-0`) that grants `read` on `resources` resources, so the
/// report has `identities × resources` rows from `identities + resources`
/// rows of input. The shape where the answer is far bigger than the data
/// (issue 13: 1,100 × 200,000 gives an 18.5 MB file (issue 13 saw 13 MB) and a 220M-row report).
pub fn generate_dense<W: Write>(
    identities: u64,
    resources: u64,
    mut out: W,
) -> io::Result<GenerateStats> {
    let mut buf = Vec::with_capacity(1 << 16);
    let mut bytes = 0u64;
    buf.extend_from_slice(HEADER.as_bytes());
    let mut flush = |buf: &mut Vec<u8>, force: bool| -> io::Result<()> {
        if force || buf.len() >= 1 << 16 {
            out.write_all(buf)?;
            bytes += buf.len() as u64;
            buf.clear();
        }
        Ok(())
    };
    for i in 0..identities {
        writeln!(
            buf,
            ",User {i},identity,user,usr-{i},user{i},user{i}@example.com,All Staff,grp-0,\
             member,true,active,,,,,true,connection,group"
        )?;
        flush(&mut buf, false)?;
    }
    for r in 0..resources {
        writeln!(
            buf,
            ",All Staff,connection,group,grp-0,,,Bucket {r},res-{r},read,true,,,,,,,resource,bucket"
        )?;
        flush(&mut buf, false)?;
    }
    flush(&mut buf, true)?;
    out.flush()?;
    Ok(GenerateStats {
        rows: identities + resources,
        identities,
        connections: u64::from(resources > 0 || identities > 0),
        resources,
        bytes,
    })
}

// ---------------------------------------------------------------------------
// PRNG

const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Independent random streams: every entity draws its attributes and its
/// edges from its own stream, so any entity can be (re)described on demand.
#[derive(Clone, Copy)]
enum Stream {
    IdentAttr = 1,
    IdentEdges,
    GroupName,
    GroupEdges,
    RoleName,
    RoleEdges,
    PolicyName,
    PolicyEdges,
    ResourceAttr,
    Cycles,
}

/// splitmix64, seeded from (seed, stream, index).
struct Rng(u64);

impl Rng {
    fn new(seed: u64, stream: Stream, idx: usize) -> Rng {
        let s = mix64((stream as u64).wrapping_mul(GOLDEN) ^ mix64(idx as u64 ^ 0x5555_5555));
        Rng(mix64(seed ^ s))
    }
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(GOLDEN);
        mix64(self.0)
    }
    /// Uniform in `0..n` (0 when `n == 0`).
    fn below(&mut self, n: u64) -> u64 {
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }
    fn index(&mut self, n: usize) -> usize {
        self.below(n as u64) as usize
    }
    /// Uniform in `0..=n`.
    fn upto(&mut self, n: u32) -> u32 {
        self.below(n as u64 + 1) as u32
    }
    fn percent(&mut self, pct: u32) -> bool {
        self.below(100) < pct as u64
    }
    fn permille(&mut self, pm: u32) -> bool {
        self.below(1000) < pm as u64
    }
    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.index(xs.len())]
    }
}

/// `i * m / n` without overflow.
fn muldiv(i: usize, m: usize, n: usize) -> usize {
    (i as u128 * m as u128 / n.max(1) as u128) as usize
}

// ---------------------------------------------------------------------------
// Name tables (display form, ASCII slug for usernames)

const FIRST: &[(&str, &str)] = &[
    ("James", "james"),
    ("Mary", "mary"),
    ("Robert", "robert"),
    ("Patricia", "patricia"),
    ("John", "john"),
    ("Jennifer", "jennifer"),
    ("Michael", "michael"),
    ("Linda", "linda"),
    ("David", "david"),
    ("Elizabeth", "elizabeth"),
    ("William", "william"),
    ("Barbara", "barbara"),
    ("Richard", "richard"),
    ("Susan", "susan"),
    ("Joseph", "joseph"),
    ("Jessica", "jessica"),
    ("Thomas", "thomas"),
    ("Sarah", "sarah"),
    ("Wei", "wei"),
    ("Priya", "priya"),
    ("Ahmed", "ahmed"),
    ("Fatima", "fatima"),
    ("Hiroshi", "hiroshi"),
    ("Yuki", "yuki"),
    ("Olga", "olga"),
    ("Ivan", "ivan"),
    ("Carlos", "carlos"),
    ("Ana", "ana"),
    ("Kwame", "kwame"),
    ("Amara", "amara"),
    ("Liam", "liam"),
    ("Noah", "noah"),
    ("Emma", "emma"),
    ("Olivia", "olivia"),
    ("Mateo", "mateo"),
    ("Aisha", "aisha"),
    ("Dmitri", "dmitri"),
    ("Elena", "elena"),
    ("Hana", "hana"),
    ("Arjun", "arjun"),
    ("Mei", "mei"),
    ("Ngozi", "ngozi"),
    ("José", "jose"),
    ("Zoë", "zoe"),
    ("Łukasz", "lukasz"),
    ("Søren", "soren"),
    ("Chloé", "chloe"),
    ("Björn", "bjorn"),
    ("Jürgen", "jurgen"),
    ("François", "francois"),
];

const LAST: &[(&str, &str)] = &[
    ("Smith", "smith"),
    ("Johnson", "johnson"),
    ("Williams", "williams"),
    ("Brown", "brown"),
    ("Jones", "jones"),
    ("Garcia", "garcia"),
    ("Miller", "miller"),
    ("Davis", "davis"),
    ("Rodriguez", "rodriguez"),
    ("Martinez", "martinez"),
    ("Hernandez", "hernandez"),
    ("Lopez", "lopez"),
    ("Wilson", "wilson"),
    ("Anderson", "anderson"),
    ("Taylor", "taylor"),
    ("Moore", "moore"),
    ("Jackson", "jackson"),
    ("Martin", "martin"),
    ("Lee", "lee"),
    ("Nguyen", "nguyen"),
    ("Patel", "patel"),
    ("Kim", "kim"),
    ("Chen", "chen"),
    ("Wang", "wang"),
    ("Singh", "singh"),
    ("Okafor", "okafor"),
    ("Mensah", "mensah"),
    ("Tanaka", "tanaka"),
    ("Ivanova", "ivanova"),
    ("Kowalski", "kowalski"),
    ("Abbott", "abbott"),
    ("Fischer", "fischer"),
    ("Rossi", "rossi"),
    ("Dubois", "dubois"),
    ("Haddad", "haddad"),
    ("Cohen", "cohen"),
    ("Silva", "silva"),
    ("de la Cruz", "delacruz"),
    ("van der Berg", "vanderberg"),
    ("O'Brien", "obrien"),
    ("D'Angelo", "dangelo"),
    ("Smith, \"Jr\"", "smith"),
    ("Reese, III", "reese"),
    ("Müller", "muller"),
    ("Sørensen", "sorensen"),
    ("Núñez", "nunez"),
    ("Çelik", "celik"),
    ("Ōtani", "otani"),
    ("李", "li"),
    ("Андреев", "andreev"),
];

const DOMAINS: &[&str] = &[
    "acme.example.com",
    "corp.acme.example",
    "acme-contractors.example.org",
];

const SA_WORDS: &[&str] = &[
    "billing-etl",
    "ci-deployer",
    "backup",
    "monitoring",
    "terraform",
    "data-sync",
    "report-gen",
    "scim-provisioner",
    "log-shipper",
    "payments-worker",
];

const DEPTS: &[&str] = &[
    "Engineering",
    "Sales",
    "Marketing",
    "Finance",
    "Legal",
    "HR",
    "IT",
    "Security",
    "Operations",
    "Support",
    "Data",
    "Product",
    "Research & Development",
    "Customer Success",
    "Sales, EMEA",
];

const TEAMS: &[&str] = &[
    "Platform",
    "Backend",
    "Frontend",
    "Mobile",
    "SRE",
    "Infra",
    "Analytics",
    "Payroll",
    "Recruiting",
    "Audit",
    "Compliance",
    "Billing",
    "Payments",
    "Identity",
    "Networking",
    "Storage",
    "QA",
    "Design",
    "Growth",
    "Partnerships",
    "Field",
    "Ops",
    "Admins",
    "Developers",
    "Readers",
    "On-Call",
    "Tiger \"Core\" Team",
    "Legal, Risk & Compliance",
    "Zürich-Ops",
    "Équipe-Données",
    "東京-Support",
];

const ENVS: &[&str] = &["prod", "staging", "dev", "sandbox", "shared"];

const SERVICES: &[&str] = &[
    "billing",
    "payments",
    "analytics",
    "identity",
    "search",
    "checkout",
    "ledger",
    "warehouse",
    "ml",
    "web",
    "mobile",
    "reporting",
];

const ROLE_ACCESS: &[&str] = &[
    "admin",
    "readonly",
    "deployer",
    "operator",
    "auditor",
    "developer",
    "break-glass",
];

const POLICY_SVC: &[&str] = &[
    "S3",
    "RDS",
    "EC2",
    "Lambda",
    "DynamoDB",
    "IAM",
    "KMS",
    "CloudWatch",
    "GitHub",
    "Jira",
    "Salesforce",
    "Snowflake",
    "Okta",
    "Vault",
];

const POLICY_ACCESS: &[&str] = &[
    "ReadOnly",
    "FullAccess",
    "PowerUser",
    "Write",
    "Audit",
    "Deploy",
];

const APPS: &[&str] = &[
    "Salesforce",
    "Workday",
    "Jira",
    "Confluence",
    "Slack",
    "Zoom",
    "NetSuite",
    "ServiceNow",
    "Tableau",
    "Zendesk",
    "Okta Admin Console",
    "Reports, Q3 \"Final\"",
    "Gestión-Nómina",
];

const DATA_WORDS: &[&str] = &[
    "orders",
    "invoices",
    "logs",
    "backups",
    "customers",
    "payroll",
    "analytics",
    "events",
    "metrics",
    "audit",
    "ml-models",
    "assets",
    "reports",
    "ledger",
    "inventory",
    "données",
];

const DB_ENGINES: &[&str] = &["pg", "mysql", "mongo", "snowflake", "redshift"];

/// Resource source types with their relative weights and permission names.
const RESOURCE_KINDS: &[(&str, u32, &[&str])] = &[
    (
        "application",
        30,
        &["access", "read", "write", "admin", "user"],
    ),
    (
        "storage",
        20,
        &[
            "s3:GetObject",
            "s3:PutObject",
            "s3:ListBucket",
            "s3:DeleteObject",
            "read",
            "write",
        ],
    ),
    (
        "database",
        20,
        &["read", "write", "admin", "SELECT", "INSERT"],
    ),
    (
        "repository",
        20,
        &["read", "write", "admin", "maintain", "triage"],
    ),
    (
        "api",
        10,
        &["invoke", "read", "write", "admin", "AssumeRole"],
    ),
];

// ---------------------------------------------------------------------------
// Organisation shape

/// Groups in levels: level 0 (top) is narrowest, each level about 2.5 times
/// wider than the one above; group ids are contiguous per level.
struct Layout {
    /// `starts[l]..starts[l + 1]` are the groups of level `l`.
    starts: Vec<usize>,
}

impl Layout {
    fn new(groups: usize, depth: usize) -> Layout {
        let d = depth.max(1).min(groups);
        if d == 0 {
            return Layout { starts: vec![0] };
        }
        let mut weights = Vec::with_capacity(d);
        let mut w = 1.0f64;
        for _ in 0..d {
            weights.push(w);
            w *= 2.5;
        }
        let total: f64 = weights.iter().sum();
        let spare = (groups - d) as f64;
        let mut starts = vec![0usize];
        for (l, w) in weights.iter().enumerate() {
            let width = if l + 1 == d {
                groups - starts[l]
            } else {
                1 + (spare * w / total).floor() as usize
            };
            starts.push(starts[l] + width);
        }
        Layout { starts }
    }
    fn depth(&self) -> usize {
        self.starts.len() - 1
    }
    fn width(&self, l: usize) -> usize {
        self.starts[l + 1] - self.starts[l]
    }
    fn level(&self, g: usize) -> usize {
        (0..self.depth())
            .rev()
            .find(|&l| g >= self.starts[l])
            .unwrap_or(0)
    }
    /// The group one level up that `g` is (always, firmly) a member of:
    /// contiguous blocks of a level map onto the groups of the level above.
    fn primary_parent(&self, g: usize) -> Option<usize> {
        let l = self.level(g);
        if l == 0 {
            return None;
        }
        let j = g - self.starts[l];
        Some(self.starts[l - 1] + muldiv(j, self.width(l - 1), self.width(l)))
    }
    fn ancestor_at(&self, mut g: usize, level: usize) -> usize {
        while self.level(g) > level {
            match self.primary_parent(g) {
                Some(p) => g = p,
                None => break,
            }
        }
        g
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Node {
    Identity(usize),
    Group(usize),
    Role(usize),
    Policy(usize),
    Resource(usize),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Identity,
    Group,
    Role,
    Policy,
}

/// One outgoing edge of the current subject; `firm` edges are never `false`
/// (they carry the nesting and the cycles).
#[derive(Clone, Copy)]
struct Edge {
    node: Node,
    perm: &'static str,
    firm: bool,
}

/// Attributes of an identity, drawn from its own stream.
struct Ident {
    sa: bool,
    first: usize,
    last: usize,
    word: usize,
    status: &'static str,
    mfa: bool,
    /// 0: plain, 1: written `<a@b.c>`, 2: none.
    email: u8,
    domain: usize,
    login: Option<(u64, bool)>,
    pwd: Option<(u64, bool)>,
    orphan: bool,
}

/// 2022-01-01T00:00:00Z.
const T0: u64 = 1_640_995_200;
/// About 3.5 years of seconds.
const TSPAN: u64 = 110_000_000;

struct Generator<'a, W: Write> {
    cfg: &'a GenerateConfig,
    layout: Layout,
    /// Back edges (from shallow group, to leaf group), sorted.
    cycles: Vec<(usize, usize)>,
    role_owner: Option<Kind>,
    policy_owner: Option<Kind>,
    resource_owner: Option<Kind>,
    out: W,
    buf: Vec<u8>,
    prefix: Vec<u8>,
    mid: Vec<u8>,
    scratch: String,
    edges: Vec<Edge>,
    stats: GenerateStats,
}

impl<'a, W: Write> Generator<'a, W> {
    fn new(cfg: &'a GenerateConfig, out: W) -> Self {
        let layout = Layout::new(cfg.groups, cfg.nesting_depth);
        let d = layout.depth();
        let mut cycles = Vec::new();
        if d >= 2 {
            for j in 0..cfg.cycles {
                let mut r = Rng::new(cfg.seed, Stream::Cycles, j);
                let leaf = layout.starts[d - 1] + r.index(layout.width(d - 1));
                let level = r.index(d - 1);
                cycles.push((layout.ancestor_at(leaf, level), leaf));
            }
        }
        cycles.sort_unstable();
        cycles.dedup();
        let first = |cands: &[(Kind, usize)]| cands.iter().find(|c| c.1 > 0).map(|c| c.0);
        let ids = (Kind::Identity, cfg.identities);
        let grp = (Kind::Group, cfg.groups);
        let rol = (Kind::Role, cfg.roles);
        let pol = (Kind::Policy, cfg.policies);
        Generator {
            cfg,
            layout,
            cycles,
            role_owner: first(&[grp, ids]),
            policy_owner: first(&[rol, grp, ids]),
            resource_owner: first(&[pol, rol, grp, ids]),
            out,
            buf: Vec::with_capacity(1 << 17),
            prefix: Vec::with_capacity(256),
            mid: Vec::with_capacity(256),
            scratch: String::with_capacity(128),
            edges: Vec::with_capacity(64),
            stats: GenerateStats::default(),
        }
    }

    fn finish(mut self) -> io::Result<GenerateStats> {
        self.flush_buf()?;
        self.out.flush()?;
        let c = self.cfg;
        let any = c.identities + c.groups + c.roles + c.policies > 0;
        self.stats.identities = c.identities as u64;
        self.stats.connections = (c.groups + c.roles + c.policies) as u64;
        self.stats.resources = if any { c.resources as u64 } else { 0 };
        Ok(self.stats)
    }

    fn flush_buf(&mut self) -> io::Result<()> {
        self.out.write_all(&self.buf)?;
        self.stats.bytes += self.buf.len() as u64;
        self.buf.clear();
        Ok(())
    }

    fn count(&self, k: Kind) -> usize {
        match k {
            Kind::Identity => self.cfg.identities,
            Kind::Group => self.cfg.groups,
            Kind::Role => self.cfg.roles,
            Kind::Policy => self.cfg.policies,
        }
    }

    // --- entity descriptions ----------------------------------------------

    fn ident(&self, i: usize) -> Ident {
        let mut r = Rng::new(self.cfg.seed, Stream::IdentAttr, i);
        let sa = r.percent(5);
        let first = r.index(FIRST.len());
        let last = r.index(LAST.len());
        let word = r.index(SA_WORDS.len());
        let s = r.below(100);
        let status = if sa {
            if s < 95 { "active" } else { "inactive" }
        } else if s < 90 {
            "active"
        } else if s < 97 {
            "inactive"
        } else {
            "suspended"
        };
        let mfa = !sa && r.percent(70);
        let e = r.below(100);
        let email = if sa || e >= 95 {
            2
        } else if e >= 85 {
            1
        } else {
            0
        };
        let domain = if r.percent(90) {
            0
        } else {
            r.index(DOMAINS.len())
        };
        let login_at = T0 + r.below(TSPAN);
        let l = r.below(100);
        let login = if l < 75 {
            Some((login_at, false))
        } else if l < 87 {
            Some((login_at, true))
        } else {
            None
        };
        let p = r.below(100);
        let pwd_at = login_at - r.below((login_at - T0).min(400 * 86_400) + 1);
        let pwd = if sa || p >= 88 {
            None
        } else {
            Some((pwd_at, p >= 78))
        };
        let orphan = (self.cfg.identities >= 3 && i + 1 == self.cfg.identities) || r.permille(5);
        Ident {
            sa,
            first,
            last,
            word,
            status,
            mfa,
            email,
            domain,
            login,
            pwd,
            orphan,
        }
    }

    fn resource_kind(&self, x: usize) -> usize {
        let mut r = Rng::new(self.cfg.seed, Stream::ResourceAttr, x);
        let total: u32 = RESOURCE_KINDS.iter().map(|k| k.1).sum();
        let mut v = r.below(total as u64) as u32;
        for (k, kind) in RESOURCE_KINDS.iter().enumerate() {
            if v < kind.1 {
                return k;
            }
            v -= kind.1;
        }
        0
    }

    /// Writes the entity name of `node` into `s` (cleared first) and returns
    /// its Entity Type and Entity Source Type.
    fn describe(&self, node: Node, s: &mut String) -> (&'static str, &'static str) {
        s.clear();
        let seed = self.cfg.seed;
        match node {
            Node::Identity(i) => {
                let a = self.ident(i);
                if a.sa {
                    s.push_str("svc-");
                    s.push_str(SA_WORDS[a.word]);
                    s.push('-');
                    push_num(s, i as u64);
                } else {
                    s.push_str(FIRST[a.first].0);
                    s.push(' ');
                    s.push_str(LAST[a.last].0);
                }
                let sty = if a.sa { "service_account" } else { "user" };
                ("identity", sty)
            }
            Node::Group(g) => {
                let root = self.layout.ancestor_at(g, 0);
                let dept = Rng::new(seed, Stream::GroupName, root).pick(DEPTS);
                if self.layout.level(g) == 0 {
                    s.push_str("All-");
                    s.push_str(dept);
                } else {
                    s.push_str(dept);
                    s.push('-');
                    let mut r = Rng::new(seed, Stream::GroupName, g);
                    r.next_u64();
                    s.push_str(r.pick(TEAMS));
                }
                s.push('-');
                push_num(s, g as u64);
                ("connection", "group")
            }
            Node::Role(x) => {
                let mut r = Rng::new(seed, Stream::RoleName, x);
                for part in [r.pick(ENVS), r.pick(SERVICES), r.pick(ROLE_ACCESS)] {
                    s.push_str(part);
                    s.push('-');
                }
                s.push_str("role-");
                push_num(s, x as u64);
                ("connection", "role")
            }
            Node::Policy(x) => {
                let mut r = Rng::new(seed, Stream::PolicyName, x);
                for part in [r.pick(POLICY_SVC), r.pick(POLICY_ACCESS)] {
                    s.push_str(part);
                    s.push('-');
                }
                s.push_str("Policy-");
                push_num(s, x as u64);
                ("connection", "policy")
            }
            Node::Resource(x) => {
                let kind = self.resource_kind(x);
                let mut r = Rng::new(seed, Stream::ResourceAttr, x);
                r.next_u64();
                let env = r.pick(ENVS);
                let word = r.pick(DATA_WORDS);
                match RESOURCE_KINDS[kind].0 {
                    "application" => {
                        s.push_str(r.pick(APPS));
                        s.push('-');
                        s.push_str(env);
                    }
                    "storage" => {
                        s.push_str("s3-");
                        s.push_str(word);
                        s.push('-');
                        s.push_str(env);
                    }
                    "database" => {
                        s.push_str(r.pick(DB_ENGINES));
                        s.push('-');
                        s.push_str(word);
                        s.push('-');
                        s.push_str(env);
                    }
                    "repository" => {
                        s.push_str("acme/");
                        s.push_str(r.pick(SERVICES));
                        s.push('-');
                        s.push_str(word);
                    }
                    _ => {
                        s.push_str("api-");
                        s.push_str(r.pick(SERVICES));
                        s.push_str("-v");
                        push_num(s, 1 + r.below(3));
                    }
                }
                s.push('-');
                push_num(s, x as u64);
                ("resource", RESOURCE_KINDS[kind].0)
            }
        }
    }

    /// The permission an edge into `node` carries, by default.
    fn default_perm(node: Node) -> &'static str {
        match node {
            Node::Group(_) | Node::Role(_) | Node::Policy(_) => "member",
            _ => "access",
        }
    }

    fn resource_perm(&self, r: &mut Rng, x: usize) -> &'static str {
        if r.percent(8) {
            "access"
        } else {
            r.pick(RESOURCE_KINDS[self.resource_kind(x)].2)
        }
    }

    // --- subjects ---------------------------------------------------------

    /// Writes the subject's columns 0-6 into `prefix` and 11-16 into `mid`.
    #[allow(clippy::too_many_arguments)]
    fn subject(
        &mut self,
        node: Node,
        username: Option<&str>,
        email: Option<&str>,
        status: &str,
        names: Option<(&str, &str)>,
        login: Option<(u64, bool)>,
        pwd: Option<(u64, bool)>,
        mfa: bool,
    ) {
        let mut name = std::mem::take(&mut self.scratch);
        let (ty, sty) = self.describe(node, &mut name);
        let p = &mut self.prefix;
        p.clear();
        push_field(p, &self.cfg.source);
        p.push(b',');
        push_field(p, &name);
        p.push(b',');
        p.extend_from_slice(ty.as_bytes());
        p.push(b',');
        p.extend_from_slice(sty.as_bytes());
        p.push(b',');
        push_id(p, node);
        p.push(b',');
        match username {
            Some(u) => push_field(p, u),
            None if matches!(node, Node::Policy(_)) => {}
            None => push_field(p, &name),
        }
        p.push(b',');
        if let Some(e) = email {
            push_field(p, e);
        }
        p.push(b',');
        let m = &mut self.mid;
        m.clear();
        m.extend_from_slice(status.as_bytes());
        m.push(b',');
        if let Some((f, l)) = names {
            push_field(m, f);
            m.push(b',');
            push_field(m, l);
        } else {
            m.push(b',');
        }
        m.push(b',');
        if let Some((t, rfc)) = login {
            push_time(m, t, rfc);
        }
        m.push(b',');
        if let Some((t, rfc)) = pwd {
            push_time(m, t, rfc);
        }
        m.push(b',');
        m.extend_from_slice(if mfa { b"true," } else { b"false," });
        self.scratch = name;
    }

    /// Writes one row per collected edge (or one entities-only row).
    fn rows(&mut self, r: &mut Rng) -> io::Result<()> {
        if self.edges.is_empty() {
            self.buf.extend_from_slice(&self.prefix);
            self.buf.extend_from_slice(b",,,,");
            self.buf.extend_from_slice(&self.mid);
            self.buf.extend_from_slice(b",\n");
            self.stats.rows += 1;
        }
        let mut name = std::mem::take(&mut self.scratch);
        for k in 0..self.edges.len() {
            let e = self.edges[k];
            let (ty, sty) = self.describe(e.node, &mut name);
            let b = &mut self.buf;
            b.extend_from_slice(&self.prefix);
            push_field(b, &name);
            b.push(b',');
            push_id(b, e.node);
            b.push(b',');
            if !(e.perm == Self::default_perm(e.node) && r.percent(self.cfg.empty_permission_pct)) {
                b.extend_from_slice(e.perm.as_bytes());
            }
            b.push(b',');
            let v = r.below(1000);
            let fp = if e.firm {
                0
            } else {
                self.cfg.false_permille.min(1000) as u64
            };
            let value: &[u8] = if v < fp {
                b"false"
            } else if (v - fp) * 100 < (1000 - fp) * 86 {
                b"true"
            } else if (v - fp) * 100 < (1000 - fp) * 94 {
                b"True"
            } else {
                b""
            };
            b.extend_from_slice(value);
            b.push(b',');
            b.extend_from_slice(&self.mid);
            b.extend_from_slice(ty.as_bytes());
            b.push(b',');
            b.extend_from_slice(sty.as_bytes());
            b.push(b'\n');
            self.stats.rows += 1;
            if self.buf.len() >= 1 << 16 {
                self.flush_buf()?;
            }
        }
        self.scratch = name;
        if self.buf.len() >= 1 << 16 {
            self.flush_buf()?;
        }
        Ok(())
    }

    /// Adds an edge unless the subject already has one with this target and
    /// permission.
    fn add(&mut self, node: Node, perm: &'static str, firm: bool) {
        if !self.edges.iter().any(|e| e.node == node && e.perm == perm) {
            self.edges.push(Edge { node, perm, firm });
        }
    }

    /// Edges to the blocks of roles / policies / resources `kind` #`i` owns,
    /// so that every one of those is the target of at least one row.
    /// Roles, policies and resources owned by groups go to the leaf (team)
    /// groups only: a grant on a top-level group reaches a whole department.
    fn owned(&mut self, kind: Kind, i: usize, r: &mut Rng) {
        let (i, n) = if kind == Kind::Group {
            let leaf = self.layout.depth() - 1;
            match i.checked_sub(self.layout.starts[leaf]) {
                Some(j) => (j, self.layout.width(leaf)),
                None => return,
            }
        } else {
            (i, self.count(kind))
        };
        if self.role_owner == Some(kind) {
            for x in muldiv(i, self.cfg.roles, n)..muldiv(i + 1, self.cfg.roles, n) {
                let perm = if kind == Kind::Identity {
                    "AssumeRole"
                } else {
                    "RoleAssignment"
                };
                self.edges.push(Edge {
                    node: Node::Role(x),
                    perm,
                    firm: false,
                });
            }
        }
        if self.policy_owner == Some(kind) {
            for x in muldiv(i, self.cfg.policies, n)..muldiv(i + 1, self.cfg.policies, n) {
                self.edges.push(Edge {
                    node: Node::Policy(x),
                    perm: "PolicyAttachment",
                    firm: false,
                });
            }
        }
        if self.resource_owner == Some(kind) {
            for x in muldiv(i, self.cfg.resources, n)..muldiv(i + 1, self.cfg.resources, n) {
                let perm = self.resource_perm(r, x);
                self.edges.push(Edge {
                    node: Node::Resource(x),
                    perm,
                    firm: false,
                });
            }
        }
    }

    fn random_resources(&mut self, r: &mut Rng, n: u32) {
        if self.cfg.resources == 0 {
            return;
        }
        for _ in 0..n {
            let x = r.index(self.cfg.resources);
            let perm = self.resource_perm(r, x);
            self.add(Node::Resource(x), perm, false);
        }
    }

    fn identity(&mut self, i: usize) -> io::Result<()> {
        let a = self.ident(i);
        let cfg = self.cfg;
        let mut user = String::new();
        let mut email = String::new();
        if !a.sa {
            user.push_str(FIRST[a.first].1);
            user.push('.');
            user.push_str(LAST[a.last].1);
            push_num(&mut user, i as u64);
            if a.email == 1 {
                email.push('<');
            }
            email.push_str(&user);
            email.push('@');
            email.push_str(DOMAINS[a.domain]);
            if a.email == 1 {
                email.push('>');
            }
        }
        self.subject(
            Node::Identity(i),
            (!a.sa).then_some(user.as_str()),
            (a.email < 2).then_some(email.as_str()),
            a.status,
            (!a.sa).then_some((FIRST[a.first].0, LAST[a.last].0)),
            a.login,
            a.pwd,
            a.mfa,
        );
        let mut r = Rng::new(cfg.seed, Stream::IdentEdges, i);
        self.edges.clear();
        self.owned(Kind::Identity, i, &mut r);
        if !a.orphan {
            let (g, l) = (cfg.groups, self.layout.depth());
            if g > 0 && (!a.sa || r.percent(50)) {
                // The team: leaf groups split the identities in blocks.
                let w = self.layout.width(l - 1);
                let team = self.layout.starts[l - 1] + muldiv(i, w, cfg.identities);
                self.add(Node::Group(team), "member", false);
                if !a.sa {
                    for _ in 0..r.upto(cfg.extra_memberships) {
                        self.add(Node::Group(r.index(g)), "member", false);
                    }
                }
            }
            if cfg.roles > 0 && r.percent(if a.sa { 60 } else { 3 }) {
                for _ in 0..1 + r.below(2) {
                    self.add(Node::Role(r.index(cfg.roles)), "AssumeRole", false);
                }
            }
            if r.percent(if a.sa { 40 } else { 8 }) {
                let n = 1 + r.upto(2);
                self.random_resources(&mut r, n);
            }
            if !a.sa && cfg.identities > 1 && r.permille(10) {
                let other = (i + 1 + r.index(cfg.identities - 1)) % cfg.identities;
                self.add(Node::Identity(other), "impersonate", false);
            }
        }
        self.rows(&mut r)
    }

    fn connection_subject(&mut self, node: Node, r: &mut Rng, login_pct: u32) {
        let login = r
            .percent(login_pct)
            .then(|| (T0 + r.below(TSPAN), r.percent(20)));
        self.subject(node, None, None, "active", None, login, None, false);
    }

    fn group(&mut self, g: usize) -> io::Result<()> {
        let cfg = self.cfg;
        let mut r = Rng::new(cfg.seed, Stream::GroupEdges, g);
        self.connection_subject(Node::Group(g), &mut r, 0);
        self.edges.clear();
        let level = self.layout.level(g);
        if let Some(p) = self.layout.primary_parent(g) {
            self.add(Node::Group(p), "member", true);
            if r.percent(cfg.second_parent_pct) {
                let s = self.layout.starts[level - 1] + r.index(self.layout.width(level - 1));
                self.add(Node::Group(s), "member", false);
            }
        }
        let from = self.cycles.partition_point(|c| c.0 < g);
        let to = self.cycles.partition_point(|c| c.0 <= g);
        for k in from..to {
            let leaf = self.cycles[k].1;
            self.add(Node::Group(leaf), "member", true);
        }
        self.owned(Kind::Group, g, &mut r);
        // Direct grants get likelier down the hierarchy.
        let depth = self.layout.depth();
        let grants = r.below(depth as u64) <= level as u64;
        if cfg.roles > 0 && grants {
            for _ in 0..r.upto(cfg.roles_per_group) {
                let perm = if r.percent(10) {
                    "AssumeRole"
                } else {
                    "RoleAssignment"
                };
                self.add(Node::Role(r.index(cfg.roles)), perm, false);
            }
        }
        if cfg.policies > 0 && grants && r.percent(10) {
            self.add(
                Node::Policy(r.index(cfg.policies)),
                "PolicyAttachment",
                false,
            );
        }
        if grants {
            let n = r.upto(cfg.resources_per_connection);
            self.random_resources(&mut r, n);
        }
        if self.edges.is_empty() {
            self.random_resources(&mut r, 1);
        }
        self.rows(&mut r)
    }

    fn role(&mut self, x: usize) -> io::Result<()> {
        let cfg = self.cfg;
        let mut r = Rng::new(cfg.seed, Stream::RoleEdges, x);
        self.connection_subject(Node::Role(x), &mut r, 30);
        self.edges.clear();
        self.owned(Kind::Role, x, &mut r);
        if cfg.policies > 0 {
            for _ in 0..r.upto(cfg.policies_per_role) {
                self.add(
                    Node::Policy(r.index(cfg.policies)),
                    "PolicyAttachment",
                    false,
                );
            }
        }
        if r.percent(20) || self.edges.is_empty() {
            self.random_resources(&mut r, 1);
        }
        self.rows(&mut r)
    }

    fn policy(&mut self, x: usize) -> io::Result<()> {
        let cfg = self.cfg;
        let mut r = Rng::new(cfg.seed, Stream::PolicyEdges, x);
        self.connection_subject(Node::Policy(x), &mut r, 0);
        self.edges.clear();
        self.owned(Kind::Policy, x, &mut r);
        let n = r.upto(cfg.resources_per_connection);
        self.random_resources(&mut r, n);
        if self.edges.is_empty() {
            self.random_resources(&mut r, 1);
        }
        self.rows(&mut r)
    }
}

// ---------------------------------------------------------------------------
// Formatting

/// Appends `s` as one CSV field, quoted (with doubled quotes) when needed.
fn push_field(b: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    if bytes
        .iter()
        .any(|&c| matches!(c, b',' | b'"' | b'\n' | b'\r'))
    {
        b.push(b'"');
        for &c in bytes {
            if c == b'"' {
                b.push(b'"');
            }
            b.push(c);
        }
        b.push(b'"');
    } else {
        b.extend_from_slice(bytes);
    }
}

fn push_num(s: &mut String, mut n: u64) {
    let mut tmp = [0u8; 20];
    let mut k = tmp.len();
    loop {
        k -= 1;
        tmp[k] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    s.push_str(std::str::from_utf8(&tmp[k..]).unwrap_or_default());
}

/// Appends `n` in decimal, zero-padded to at least `width` digits.
fn push_padded(b: &mut Vec<u8>, mut n: u64, width: usize) {
    let mut tmp = [b'0'; 20];
    let mut k = tmp.len();
    loop {
        k -= 1;
        tmp[k] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    k = k.min(tmp.len() - width.min(tmp.len()));
    b.extend_from_slice(&tmp[k..]);
}

/// Appends the Entity Source ID of `node`: a kind prefix and the index.
fn push_id(b: &mut Vec<u8>, node: Node) {
    let (p, x): (&[u8], usize) = match node {
        Node::Identity(x) => (b"usr-", x),
        Node::Group(x) => (b"grp-", x),
        Node::Role(x) => (b"rol-", x),
        Node::Policy(x) => (b"pol-", x),
        Node::Resource(x) => (b"res-", x),
    };
    b.extend_from_slice(p);
    push_padded(b, x as u64, 7);
}

/// Appends Unix time `t` as `2024-01-15 09:30:00 +0000 UTC`, or as RFC 3339
/// `2024-01-15T09:30:00Z` when `rfc`.
fn push_time(b: &mut Vec<u8>, t: u64, rfc: bool) {
    let days = t / 86_400;
    let secs = t % 86_400;
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    push_padded(b, y, 4);
    b.push(b'-');
    push_padded(b, m, 2);
    b.push(b'-');
    push_padded(b, d, 2);
    b.push(if rfc { b'T' } else { b' ' });
    push_padded(b, secs / 3600, 2);
    b.push(b':');
    push_padded(b, secs / 60 % 60, 2);
    b.push(b':');
    push_padded(b, secs % 60, 2);
    b.extend_from_slice(if rfc { b"Z" } else { b" +0000 UTC" });
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{HashMap, HashSet, VecDeque};

    fn gen_bytes(cfg: &GenerateConfig) -> (Vec<u8>, GenerateStats) {
        let mut v = Vec::new();
        let stats = generate(cfg, &mut v).unwrap();
        (v, stats)
    }

    fn records(bytes: &[u8]) -> Vec<csv::StringRecord> {
        let mut rd = csv::ReaderBuilder::new().flexible(true).from_reader(bytes);
        rd.records().map(|r| r.unwrap()).collect()
    }

    fn small() -> GenerateConfig {
        GenerateConfig::scale("small").unwrap()
    }

    /// The parsed graph: node ids, kinds and active, permission-resolved edges.
    struct Graph {
        kind: Vec<String>,
        out: Vec<Vec<(usize, usize)>>, // (target, permission id), value true
        ids: HashMap<String, usize>,
    }

    fn parse_graph(bytes: &[u8]) -> Graph {
        let mut g = Graph {
            kind: Vec::new(),
            out: Vec::new(),
            ids: HashMap::new(),
        };
        let mut perms: HashMap<String, usize> = HashMap::new();
        let node = |g: &mut Graph, id: &str, kind: &str| -> usize {
            if let Some(&n) = g.ids.get(id) {
                return n;
            }
            let n = g.kind.len();
            g.ids.insert(id.to_string(), n);
            g.kind.push(kind.to_string());
            g.out.push(Vec::new());
            n
        };
        for rec in records(bytes) {
            let s = node(&mut g, &rec[4], &rec[2]);
            if rec[8].is_empty() {
                continue;
            }
            let t = node(&mut g, &rec[8], &rec[17]);
            if &rec[10] == "false" {
                continue;
            }
            let p = match &rec[9] {
                "" if &rec[17] == "connection" => "member",
                "" => "access",
                p => p,
            };
            let n = perms.len();
            let pid = *perms.entry(p.to_string()).or_insert(n);
            g.out[s].push((t, pid));
        }
        g
    }

    /// Distinct (identity, target, permission, provider) effective grants:
    /// BFS per identity over connections reached by active edges.
    fn count_grants(g: &Graph) -> u64 {
        const NONE: usize = usize::MAX;
        let mut total = 0u64;
        let mut seen = vec![usize::MAX; g.kind.len()];
        let mut set: HashSet<(usize, usize, usize)> = HashSet::new();
        let mut queue = VecDeque::new();
        for i in 0..g.kind.len() {
            if g.kind[i] != "identity" {
                continue;
            }
            set.clear();
            for &(t, p) in &g.out[i] {
                set.insert((t, p, NONE));
                if g.kind[t] == "connection" && seen[t] != i {
                    seen[t] = i;
                    queue.push_back(t);
                }
            }
            while let Some(c) = queue.pop_front() {
                for &(t, p) in &g.out[c] {
                    set.insert((t, p, c));
                    if g.kind[t] == "connection" && seen[t] != i {
                        seen[t] = i;
                        queue.push_back(t);
                    }
                }
            }
            total += set.len() as u64;
        }
        total
    }

    #[test]
    fn same_seed_same_bytes_different_seed_different() {
        let cfg = small();
        let (a, sa) = gen_bytes(&cfg);
        let (b, sb) = gen_bytes(&cfg);
        assert_eq!(a, b);
        assert_eq!(sa, sb);
        let (c, _) = gen_bytes(&GenerateConfig { seed: 2, ..cfg });
        assert_ne!(a, c);
    }

    #[test]
    fn header_is_exact() {
        let (bytes, _) = gen_bytes(&GenerateConfig::scale("tiny").unwrap());
        let first = bytes.split(|&c| c == b'\n').next().unwrap();
        assert_eq!(
            std::str::from_utf8(first).unwrap(),
            "Project,Entity Name,Entity Type,Entity Source Type,Entity Source ID,Entity Username,\
             Entity Email,Entity - Has Access To Name,Entity - Has Access To Source ID,\
             Entity - Has Access To Permission Name,Entity - Has Access To Permission Value,\
             Entity Status,Entity First Name,Entity Last Name,Entity LastLoginTime,\
             LastPasswordChangedTime,Entity MfaEnabled,Entity - Has Access To Entity Type,\
             Entity - Has Access To Source Type"
        );
    }

    fn is_time(s: &str) -> bool {
        let b = s.as_bytes();
        let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
        let date = b.len() >= 19
            && digits(0..4)
            && b[4] == b'-'
            && digits(5..7)
            && b[7] == b'-'
            && digits(8..10)
            && digits(11..13)
            && b[13] == b':'
            && digits(14..16)
            && b[16] == b':'
            && digits(17..19);
        date && ((b[10] == b' ' && &s[19..] == " +0000 UTC") || (b[10] == b'T' && &s[19..] == "Z"))
    }

    #[test]
    fn every_row_is_valid_and_entities_are_consistent() {
        let cfg = small();
        let (bytes, stats) = gen_bytes(&cfg);
        let recs = records(&bytes);
        assert_eq!(recs.len() as u64, stats.rows);
        assert_eq!(stats.bytes, bytes.len() as u64);
        // id -> (name, type, source type); id -> subject attributes
        let mut named: HashMap<String, (String, String, String)> = HashMap::new();
        let mut attrs: HashMap<String, Vec<String>> = HashMap::new();
        let mut check = |id: &str, name: &str, ty: &str, sty: &str| {
            let v = (name.to_string(), ty.to_string(), sty.to_string());
            let prev = named.entry(id.to_string()).or_insert_with(|| v.clone());
            assert_eq!(*prev, v, "entity {id} described differently");
        };
        let mut entities_only = 0;
        for rec in &recs {
            assert_eq!(rec.len(), 19);
            assert_eq!(&rec[0], cfg.source);
            for i in [1, 2, 3, 4] {
                assert!(!rec[i].is_empty(), "required column {i} empty: {rec:?}");
            }
            assert!(matches!(&rec[2], "identity" | "connection" | "resource"));
            check(&rec[4], &rec[1], &rec[2], &rec[3]);
            let a: Vec<String> = [5, 6, 11, 12, 13, 14, 15, 16]
                .iter()
                .map(|&i| rec[i].to_string())
                .collect();
            let prev = attrs.entry(rec[4].to_string()).or_insert_with(|| a.clone());
            assert_eq!(*prev, a, "subject attributes of {} differ", &rec[4]);
            let target = [7, 8, 9, 10, 17, 18];
            if target.iter().all(|&i| rec[i].is_empty()) {
                entities_only += 1;
                continue;
            }
            for i in [7, 8, 17, 18] {
                assert!(!rec[i].is_empty(), "required column {i} empty: {rec:?}");
            }
            assert!(matches!(&rec[17], "identity" | "connection" | "resource"));
            assert!(matches!(&rec[10], "" | "true" | "True" | "false"));
            check(&rec[8], &rec[7], &rec[17], &rec[18]);
            assert!(matches!(&rec[16], "true" | "false"));
            for i in [14, 15] {
                assert!(
                    rec[i].is_empty() || is_time(&rec[i]),
                    "bad time {:?}",
                    &rec[i]
                );
            }
        }
        assert!(entities_only >= 1);
        // Every entity appears, with a unique, kind-prefixed id.
        let expect = [
            ("usr-", cfg.identities),
            ("grp-", cfg.groups),
            ("rol-", cfg.roles),
            ("pol-", cfg.policies),
            ("res-", cfg.resources),
        ];
        for (prefix, n) in expect {
            let got = named.keys().filter(|k| k.starts_with(prefix)).count();
            assert_eq!(got, n, "{prefix}");
        }
        assert_eq!(stats.identities, cfg.identities as u64);
        assert_eq!(
            stats.connections,
            (cfg.groups + cfg.roles + cfg.policies) as u64
        );
        assert_eq!(stats.resources, cfg.resources as u64);
    }

    #[test]
    fn nesting_depth_and_cycles() {
        let cfg = small();
        let (bytes, _) = gen_bytes(&cfg);
        let g = parse_graph(&bytes);
        let is_group = |id: &str| id.starts_with("grp-");
        let groups: Vec<usize> = g
            .ids
            .iter()
            .filter(|(k, _)| is_group(k))
            .map(|(_, &v)| v)
            .collect();
        let gedges = |n: usize| {
            g.out[n]
                .iter()
                .map(|e| e.0)
                .filter(|t| groups.contains(t))
                .collect::<Vec<_>>()
        };
        // A cycle: Kahn's algorithm cannot remove every group.
        let mut indeg: HashMap<usize, usize> = groups.iter().map(|&n| (n, 0)).collect();
        for &n in &groups {
            for t in gedges(n) {
                *indeg.get_mut(&t).unwrap() += 1;
            }
        }
        let mut stack: Vec<usize> = indeg.iter().filter(|e| *e.1 == 0).map(|e| *e.0).collect();
        let mut removed = 0;
        while let Some(n) = stack.pop() {
            removed += 1;
            for t in gedges(n) {
                let d = indeg.get_mut(&t).unwrap();
                *d -= 1;
                if *d == 0 {
                    stack.push(t);
                }
            }
        }
        assert!(removed < groups.len(), "no cycle among group edges");
        // Depth: some group is nesting_depth - 1 membership edges below another.
        let mut deepest = 0;
        for &s in &groups {
            let mut dist = HashMap::from([(s, 0usize)]);
            let mut q = VecDeque::from([s]);
            while let Some(n) = q.pop_front() {
                for t in gedges(n) {
                    if !dist.contains_key(&t) {
                        dist.insert(t, dist[&n] + 1);
                        q.push_back(t);
                    }
                }
            }
            deepest = deepest.max(*dist.values().max().unwrap());
        }
        assert!(deepest + 1 >= cfg.nesting_depth, "deepest chain {deepest}");
    }

    #[test]
    fn variety_is_present() {
        let (bytes, _) = gen_bytes(&small());
        let recs = records(&bytes);
        let count = |f: &dyn Fn(&csv::StringRecord) -> bool| recs.iter().filter(|r| f(r)).count();
        let edges = count(&|r| !r[8].is_empty());
        let falses = count(&|r| &r[10] == "false");
        assert!(falses > 0 && falses * 50 < edges, "false values: {falses}");
        assert!(count(&|r| !r[8].is_empty() && r[9].is_empty() && &r[17] == "connection") > 0);
        assert!(count(&|r| !r[8].is_empty() && r[9].is_empty() && &r[17] == "resource") > 0);
        assert!(count(&|r| !r[8].is_empty() && r[10].is_empty()) > 0);
        assert!(count(&|r| &r[10] == "True") > 0);
        assert!(count(&|r| r[14].ends_with('Z')) > 0);
        assert!(count(&|r| r[14].ends_with("UTC")) > 0);
        assert!(count(&|r| r[6].starts_with('<') && r[6].ends_with('>')) > 0);
        assert!(count(&|r| &r[3] == "service_account") > 0);
        assert!(count(&|r| &r[11] == "suspended") > 0);
        assert!(count(&|r| &r[9] == "impersonate" && &r[17] == "identity") > 0);
        assert!(count(&|r| &r[9] == "s3:GetObject") > 0);
        assert!(count(&|r| !r[1].is_ascii()) > 0);
        for sty in ["application", "storage", "database", "repository", "api"] {
            assert!(count(&|r| &r[18] == sty) > 0, "{sty}");
        }
        for p in ["RoleAssignment", "PolicyAttachment", "AssumeRole"] {
            assert!(count(&|r| &r[9] == p) > 0, "{p}");
        }
    }

    #[test]
    fn quoted_fields_round_trip() {
        let (bytes, _) = gen_bytes(&small());
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(text.contains("Smith, \"\"Jr\"\"\""), "no doubled quotes");
        let recs = records(&bytes);
        let hit = recs
            .iter()
            .find(|r| &r[13] == "Smith, \"Jr\"")
            .expect("a last name needing quotes");
        assert!(hit[1].ends_with(" Smith, \"Jr\""));
        assert!(recs.iter().any(|r| r[7].contains(", ")));
    }

    #[test]
    fn scales_and_edge_cases() {
        assert!(GenerateConfig::scale("huge").is_none());
        let (_, tiny) = gen_bytes(&GenerateConfig::scale("tiny").unwrap());
        assert!((30..=80).contains(&tiny.rows), "tiny rows {}", tiny.rows);
        let (_, small) = gen_bytes(&small());
        assert!(
            (7_000..=13_000).contains(&small.rows),
            "small rows {}",
            small.rows
        );
        let m = GenerateConfig::scale("medium").unwrap();
        let l = GenerateConfig::scale("large").unwrap();
        assert_eq!(l.identities, 5 * m.identities);
        // Degenerate configurations never panic.
        let zero = GenerateConfig {
            identities: 0,
            groups: 0,
            roles: 0,
            policies: 0,
            resources: 0,
            nesting_depth: 0,
            cycles: 0,
            ..GenerateConfig::with_rows(1, 3)
        };
        let (bytes, s) = gen_bytes(&zero);
        assert_eq!(s.rows, 0);
        assert_eq!(bytes, HEADER.as_bytes());
        for (i, g, r, p, x, d) in [
            (5, 0, 0, 0, 7, 4),
            (1, 1, 1, 1, 1, 9),
            (3, 2, 0, 3, 0, 2),
            (0, 4, 2, 2, 5, 3),
        ] {
            let cfg = GenerateConfig {
                identities: i,
                groups: g,
                roles: r,
                policies: p,
                resources: x,
                nesting_depth: d,
                ..GenerateConfig::scale("tiny").unwrap()
            };
            let (bytes, s) = gen_bytes(&cfg);
            let recs = records(&bytes);
            assert_eq!(recs.len() as u64, s.rows);
            let ids: HashSet<&str> = recs
                .iter()
                .flat_map(|r| [r.get(4).unwrap(), r.get(8).unwrap()])
                .collect();
            let res = ids.iter().filter(|k| k.starts_with("res-")).count();
            assert_eq!(res as u64, s.resources, "{cfg:?}");
        }
    }

    /// The grant calibration: effective grants per row of the medium shape.
    #[test]
    fn grants_per_row_is_about_ten() {
        let cfg = GenerateConfig::with_rows(20_000, 1);
        let (bytes, stats) = gen_bytes(&cfg);
        let grants = count_grants(&parse_graph(&bytes));
        let ratio = grants as f64 / stats.rows as f64;
        assert!((7.0..=13.0).contains(&ratio), "ratio {ratio}");
    }

    /// `cargo test --release -- --ignored --nocapture calibrate`
    #[test]
    #[ignore]
    fn calibrate() {
        for rows in [10_000u64, 100_000, 1_000_000] {
            let cfg = GenerateConfig::with_rows(rows, 1);
            let (bytes, stats) = gen_bytes(&cfg);
            let g = parse_graph(&bytes);
            let grants = count_grants(&g);
            // Average closure per identity, by connection kind (id prefix).
            let prefix: Vec<&str> = {
                let mut v = vec![""; g.kind.len()];
                for (id, &n) in &g.ids {
                    v[n] = &id[..3];
                }
                v
            };
            let mut closure: HashMap<&str, u64> = HashMap::new();
            let mut seen = vec![usize::MAX; g.kind.len()];
            let mut stack = Vec::new();
            for i in (0..g.kind.len()).filter(|&i| g.kind[i] == "identity") {
                stack.push(i);
                while let Some(c) = stack.pop() {
                    for &(t, _) in &g.out[c] {
                        if g.kind[t] == "connection" && seen[t] != i {
                            seen[t] = i;
                            *closure.entry(prefix[t]).or_default() += 1;
                            stack.push(t);
                        }
                    }
                }
            }
            let mut closure: Vec<_> = closure
                .into_iter()
                .map(|(k, v)| format!("{k} {:.1}", v as f64 / cfg.identities as f64))
                .collect();
            closure.sort();
            println!("  closure per identity: {}", closure.join(", "));
            println!(
                "with_rows({rows}): rows {} grants {grants} ratio {:.2} bytes/row {:.0}",
                stats.rows,
                grants as f64 / stats.rows as f64,
                stats.bytes as f64 / stats.rows as f64
            );
        }
    }

    /// `cargo test --release -- --ignored --nocapture throughput`
    #[test]
    #[ignore]
    fn throughput() {
        for name in ["medium", "large"] {
            let cfg = GenerateConfig::scale(name).unwrap();
            let t = std::time::Instant::now();
            let stats = generate(&cfg, io::sink()).unwrap();
            let secs = t.elapsed().as_secs_f64();
            println!(
                "{name}: {} rows, {} MB in {secs:.2}s: {:.0} rows/s, {:.0} MB/s",
                stats.rows,
                stats.bytes / 1_000_000,
                stats.rows as f64 / secs,
                stats.bytes as f64 / 1e6 / secs
            );
        }
    }
}
