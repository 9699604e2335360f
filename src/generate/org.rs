//! The organisation's shape (groups nested in levels, roles, policies,
//! resources) and the row generator that describes each entity on demand
//! from its own random stream.

use std::io::{self, Write};

use super::names::*;
use super::rng::{Rng, Stream, muldiv};
use super::write::{push_id, push_num, push_time};
use super::{GenerateConfig, GenerateStats};
use crate::report::csv_field;

/// Groups in levels: level 0 (top) is narrowest, each level about 2.5 times
/// wider than the one above; group ids are contiguous per level.
pub(super) struct Layout {
    /// `starts[l]..starts[l + 1]` are the groups of level `l`.
    starts: Vec<usize>,
}

impl Layout {
    pub(super) fn new(groups: usize, depth: usize) -> Layout {
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
pub(super) enum Node {
    Identity(usize),
    Group(usize),
    Role(usize),
    Policy(usize),
    Resource(usize),
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Identity,
    Group,
    Role,
    Policy,
}

/// One outgoing edge of the current subject; `firm` edges are never `false`
/// (they carry the nesting and the cycles).
#[derive(Clone, Copy)]
pub(super) struct Edge {
    node: Node,
    perm: &'static str,
    firm: bool,
}

/// Attributes of an identity, drawn from its own stream.
pub(super) struct Ident {
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
pub(super) const T0: u64 = 1_640_995_200;
/// About 3.5 years of seconds.
pub(super) const TSPAN: u64 = 110_000_000;

pub(super) struct Generator<'a, W: Write> {
    cfg: &'a GenerateConfig,
    layout: Layout,
    /// Back edges (from shallow group, to leaf group), sorted.
    cycles: Vec<(usize, usize)>,
    role_owner: Option<Kind>,
    policy_owner: Option<Kind>,
    resource_owner: Option<Kind>,
    out: W,
    pub(super) buf: Vec<u8>,
    prefix: Vec<u8>,
    mid: Vec<u8>,
    scratch: String,
    edges: Vec<Edge>,
    stats: GenerateStats,
}

impl<'a, W: Write> Generator<'a, W> {
    pub(super) fn new(cfg: &'a GenerateConfig, out: W) -> Self {
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

    pub(super) fn finish(mut self) -> io::Result<GenerateStats> {
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
        csv_field(p, &self.cfg.source);
        p.push(b',');
        csv_field(p, &name);
        p.push(b',');
        p.extend_from_slice(ty.as_bytes());
        p.push(b',');
        p.extend_from_slice(sty.as_bytes());
        p.push(b',');
        push_id(p, node);
        p.push(b',');
        match username {
            Some(u) => csv_field(p, u),
            None if matches!(node, Node::Policy(_)) => {}
            None => csv_field(p, &name),
        }
        p.push(b',');
        if let Some(e) = email {
            csv_field(p, e);
        }
        p.push(b',');
        let m = &mut self.mid;
        m.clear();
        m.extend_from_slice(status.as_bytes());
        m.push(b',');
        if let Some((f, l)) = names {
            csv_field(m, f);
            m.push(b',');
            csv_field(m, l);
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
            csv_field(b, &name);
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

    pub(super) fn identity(&mut self, i: usize) -> io::Result<()> {
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

    pub(super) fn group(&mut self, g: usize) -> io::Result<()> {
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

    pub(super) fn role(&mut self, x: usize) -> io::Result<()> {
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

    pub(super) fn policy(&mut self, x: usize) -> io::Result<()> {
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
