//! Access reviews: the rows a reviewer certifies, one page per reviewer
//! scope (a manager, a source, a resource), each row with its evidence.
//!
//! A [`Review`] is built once per loaded graph: the expansion, the
//! identity-employee links ([`People`]) and the findings
//! ([`crate::findings`], not re-derived here), each kept as the pages show
//! it ([`Brief`]: no evidence, which `whocan findings` prints and the pages
//! do not). A row's paths come from the `why` walk over the graph's own
//! edge lists ([`GrantTree`]), so no query engine (no name index) is built.
//! [`Review::each_page`] hands the caller one [`Page`] at a time, so only
//! one page's rows are in memory;
//! [`page`] renders a page and the index as HTML, [`decisions`] reads the
//! reviewers' decisions back. Does no I/O: the caller opens every file.
//!
//! A row is one (identity, target, permission) with every provider; its key
//! is the five strings identity source and id, target source and id, and
//! permission ([`RowKey`]). A page's digest ([`Review::page_digest`]) is the
//! blake3 of the input files' digests, the scope and the `--as-of` date, so
//! a decision made on other data, another scope or another date is
//! recognised when it is read back.

pub mod decisions;
pub mod page;

use std::io;
use std::rc::Rc;

use rustc_hash::FxHashMap;

use crate::expand::Expansion;
use crate::findings::{FindingKind, Severity, Subject};
use crate::graph::AccessGraph;
use crate::import::ImportReport;
use crate::model::{EdgeIdx, EntityIdx, Kind, Model, Relation, Sym};
use crate::people::{EmployeeIdx, People, employee_key};
use crate::query::GrantTree;

/// Whose access a page lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum By {
    /// One page per manager: their direct and indirect reports' access.
    Manager,
    /// One page per source (application): its identities' access.
    Source,
    /// One page per resource: every identity reaching it.
    Resource,
}

impl By {
    /// The word used on the command line and in scope keys.
    pub fn as_str(self) -> &'static str {
        match self {
            By::Manager => "manager",
            By::Source => "source",
            By::Resource => "resource",
        }
    }

    /// The kind named by `s` (`manager`, `source`, `resource`).
    pub fn parse(s: &str) -> Option<By> {
        match s {
            "manager" => Some(By::Manager),
            "source" => Some(By::Source),
            "resource" => Some(By::Resource),
            _ => None,
        }
    }
}

/// The five strings that name a row: the grant it certifies.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RowKey {
    /// The identity's source.
    pub identity_source: String,
    /// The identity's Entity Source ID.
    pub identity_id: String,
    /// The target's source.
    pub target_source: String,
    /// The target's Entity Source ID.
    pub target_id: String,
    /// The permission.
    pub permission: String,
}

/// One row of a review page.
#[derive(Clone, Debug)]
pub struct Row {
    /// The identity holding the access.
    pub identity: EntityIdx,
    /// The employees the identity is linked to in this scope, with the
    /// relation (`IS` / `OWNS`).
    /// Shared by the identity's rows.
    pub employees: Rc<[(EmployeeIdx, Relation)]>,
    /// What it reaches.
    pub target: EntityIdx,
    /// With which permission.
    pub permission: Sym,
    /// The connections holding the granting edges, sorted; empty for a
    /// direct grant only.
    pub providers: Box<[EntityIdx]>,
    /// True when one way to the access is a direct grant.
    pub direct: bool,
    /// Indices into [`Review::findings`] of the findings about the
    /// identity or a connection on its paths.
    pub findings: Box<[u32]>,
    /// The evidence: one shortest path per granting edge (the `why`
    /// search), then `false` edges out of the path's nodes into the target,
    /// each as the path prefix plus that edge. (A row's lists are boxed
    /// slices, exactly their size: a page can hold 100,000 rows at once.)
    pub paths: Box<[Box<[EdgeIdx]>]>,
}

/// One reviewer scope.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scope {
    /// Kind of scope.
    pub by: By,
    /// Stable key: `manager:SOURCE/ID`, `source:NAME`,
    /// `resource:SOURCE/ID`.
    pub key: String,
    /// Heading shown on the page.
    pub title: String,
    /// The reviewer named by default (the manager's name, else empty).
    pub reviewer: String,
}

/// One page: its scope and its rows, sorted.
#[derive(Debug)]
pub struct Page {
    /// Whose page it is.
    pub scope: Scope,
    /// The rows, sorted by identity, target, permission.
    pub rows: Vec<Row>,
    /// Distinct findings in scope, indices into [`Review::findings`].
    pub findings: Vec<u32>,
    /// Distinct identities in scope.
    pub identities: usize,
    /// The page's digest ([`Review::page_digest`]).
    pub digest: String,
}

/// A finding as a page shows it: what `whocan findings` prints of it but
/// the evidence and the fix, which the pages leave to that command (an
/// organisation's findings with their evidence are most of what a review
/// would otherwise hold for the whole run). Its entity's label is made
/// when a page is written ([`crate::findings::label`]) and its detail is
/// a range of [`Review`]'s one text buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Brief {
    /// How bad.
    pub severity: Severity,
    /// What kind.
    pub kind: FindingKind,
    /// The entity it is about.
    pub entity: EntityIdx,
    /// Where its detail is in the text buffer ([`Review::detail`]).
    detail: (u32, u32),
}

/// Everything review pages are built from, once per graph.
pub struct Review<'g> {
    graph: &'g AccessGraph,
    expansion: Expansion<'g>,
    people: People,
    /// The findings about entities of the loaded data (those about input
    /// rows are on no page), in the order `whocan findings` prints them.
    pub findings: Vec<Brief>,
    /// Every finding's detail, one after another.
    details: String,
    /// (entity, index into `findings`) for every finding, sorted.
    findings_of: Vec<(EntityIdx, u32)>,
    input_digest: String,
    as_of: String,
    /// False while [`Review::scope_rows`] lists rows without paths.
    with_paths: std::cell::Cell<bool>,
}

impl<'g> Review<'g> {
    /// Builds the expansion, the people links and the findings (with
    /// `options`, whose `now` is the page's `--as-of` date, shown as
    /// `as_of`; none without options: reading decisions back needs only
    /// the rows).
    pub fn new(
        graph: &'g AccessGraph,
        report: &ImportReport,
        options: Option<&crate::findings::Options>,
        as_of: String,
    ) -> Review<'g> {
        let expansion = Expansion::new(graph);
        let people = People::new(graph.model());
        // Each finding is cut to its brief as it is made, so no two
        // findings' evidence are ever held together.
        let mut findings: Vec<Brief> = Vec::new();
        let mut details = String::new();
        if let Some(options) = options {
            crate::findings::each_finding(&expansion, &people, report, options, &mut |f| {
                if let Subject::Entity { source, id, .. } = &f.entity {
                    if let Some(entity) = graph.find(source, id) {
                        let at = details.len() as u32;
                        details.push_str(&f.detail);
                        findings.push(Brief {
                            severity: f.severity,
                            kind: f.kind,
                            entity,
                            detail: (at, f.detail.len() as u32),
                        });
                    }
                }
            });
        }
        details.shrink_to_fit();
        // `crate::findings::sort`'s order: worst first, then kind, entity
        // label and detail; it breaks the remaining ties by evidence, which
        // a brief lacks, so they keep the checks' (deterministic) order
        // here. Tied findings are about one entity and look the same on a
        // page, so no page's bytes depend on which comes first. The labels
        // live only while sorting.
        let m = graph.model();
        let labels: Vec<String> = findings
            .iter()
            .map(|b| crate::findings::label(m, b.entity))
            .collect();
        let text = |b: &Brief| &details[b.detail.0 as usize..(b.detail.0 + b.detail.1) as usize];
        let mut order: Vec<u32> = (0..findings.len() as u32).collect();
        order.sort_by(|&x, &y| {
            let (a, b) = (&findings[x as usize], &findings[y as usize]);
            b.severity
                .cmp(&a.severity)
                .then_with(|| a.kind.cmp(&b.kind))
                .then_with(|| labels[x as usize].cmp(&labels[y as usize]))
                .then_with(|| text(a).cmp(text(b)))
        });
        drop(labels);
        let findings: Vec<Brief> = order.iter().map(|&n| findings[n as usize]).collect();
        let mut findings_of: Vec<(EntityIdx, u32)> = findings
            .iter()
            .enumerate()
            .map(|(n, b)| (b.entity, n as u32))
            .collect();
        findings_of.sort_unstable();
        let input_digest = input_digest(graph.model());
        Review {
            graph,
            expansion,
            people,
            findings,
            details,
            findings_of,
            input_digest,
            as_of,
            with_paths: std::cell::Cell::new(true),
        }
    }

    /// The model the pages show.
    pub fn model(&self) -> &'g Model {
        self.graph.model()
    }

    /// The expansion the rows come from.
    pub fn expansion(&self) -> &Expansion<'g> {
        &self.expansion
    }

    /// The identity-employee links.
    pub fn people(&self) -> &People {
        &self.people
    }

    /// The detail of a finding, as `whocan findings` words it.
    pub fn detail(&self, finding: &Brief) -> &str {
        let (at, len) = finding.detail;
        &self.details[at as usize..(at + len) as usize]
    }

    /// Indices into [`Review::findings`] of the findings about `e`.
    fn findings_of(&self, e: EntityIdx) -> impl Iterator<Item = u32> + '_ {
        let at = self.findings_of.partition_point(|&(x, _)| x < e);
        self.findings_of[at..]
            .iter()
            .take_while(move |&&(x, _)| x == e)
            .map(|&(_, f)| f)
    }

    /// The `--as-of` date shown on every page.
    pub fn as_of(&self) -> &str {
        &self.as_of
    }

    /// blake3 over the input files' digests, in the order loaded.
    pub fn input_digest(&self) -> &str {
        &self.input_digest
    }

    /// A page's digest: blake3 of the input digest, the scope key and the
    /// `--as-of` date, lowercase hex. Decisions carry it back.
    pub fn page_digest(&self, scope_key: &str) -> String {
        let mut h = blake3::Hasher::new();
        for part in [
            "whocan-review-1",
            &self.input_digest,
            scope_key,
            &self.as_of,
        ] {
            h.update(part.as_bytes());
            h.update(b"\n");
        }
        h.finalize().to_hex().to_string()
    }

    /// The row key of a row.
    pub fn key(&self, row: &Row) -> RowKey {
        let m = self.model();
        let (i, t) = (m.entity(row.identity), m.entity(row.target));
        RowKey {
            identity_source: m.str(i.source).to_string(),
            identity_id: m.str(i.id).to_string(),
            target_source: m.str(t.source).to_string(),
            target_id: m.str(t.id).to_string(),
            permission: m.str(row.permission).to_string(),
        }
    }

    /// Calls `visit` with every page of kind `by`, one at a time, in scope
    /// order (managers by employee id, sources by name, resources by
    /// source and id). Scopes without rows give no page.
    pub fn each_page(
        &self,
        by: By,
        visit: &mut dyn FnMut(Page) -> io::Result<()>,
    ) -> io::Result<()> {
        let m = self.model();
        let people = self.people();
        match by {
            By::Manager => {
                crate::report::people::each_manager(
                    self.expansion(),
                    people,
                    &mut |manager, reports| {
                        let mut members = Vec::new();
                        for &(e, _) in reports {
                            for link in people.links_of_employee(e) {
                                members.push((link.identity, Some((e, link.relation))));
                            }
                        }
                        let boss = &m.employees[manager as usize];
                        let scope = Scope {
                            by,
                            key: format!("manager:{}", employee_key(m, manager)),
                            title: format!(
                                "{} ({}): {} reports",
                                m.str(boss.name),
                                employee_key(m, manager),
                                reports.len()
                            ),
                            reviewer: m.str(boss.name).to_string(),
                        };
                        visit(self.page(scope, &members, None, self.with_paths.get()))
                    },
                )?;
            }
            By::Source => {
                let mut by_source: Vec<(&str, Vec<EntityIdx>)> = Vec::new();
                let mut index: FxHashMap<Sym, usize> = FxHashMap::default();
                for &i in self.expansion().identities() {
                    let s = m.entity(i).source;
                    let at = *index.entry(s).or_insert_with(|| {
                        by_source.push((m.str(s), Vec::new()));
                        by_source.len() - 1
                    });
                    by_source[at].1.push(i);
                }
                by_source.sort_by(|a, b| a.0.cmp(b.0));
                for (name, identities) in by_source {
                    let members: Vec<_> = identities.iter().map(|&i| (i, None)).collect();
                    let scope = Scope {
                        by,
                        key: format!("source:{name}"),
                        title: format!("source {name}"),
                        reviewer: String::new(),
                    };
                    let page = self.page(scope, &members, None, self.with_paths.get());
                    if !page.rows.is_empty() {
                        visit(page)?;
                    }
                }
            }
            By::Resource => {
                // Who reaches each resource: (target, identity) pairs of
                // every grant, 8 bytes each, sorted by the target's key.
                let mut pairs: Vec<(EntityIdx, EntityIdx)> = Vec::new();
                for &i in self.expansion().identities() {
                    for g in self.expansion().grants_of(i) {
                        if m.entity(g.target).kind == Kind::Resource {
                            pairs.push((g.target, i));
                        }
                    }
                }
                let ranks = self.graph.order().ranks();
                pairs.sort_unstable_by_key(|&(t, i)| (ranks[t as usize], ranks[i as usize]));
                pairs.dedup();
                let mut at = 0;
                while at < pairs.len() {
                    let target = pairs[at].0;
                    let end = at + pairs[at..].partition_point(|p| p.0 == target);
                    let members: Vec<_> = pairs[at..end].iter().map(|&(_, i)| (i, None)).collect();
                    let t = m.entity(target);
                    let key = format!("{}/{}", m.str(t.source), m.str(t.id));
                    let scope = Scope {
                        by,
                        title: format!("resource {} ({key})", m.str(t.name)),
                        key: format!("resource:{key}"),
                        reviewer: String::new(),
                    };
                    visit(self.page(scope, &members, Some(target), self.with_paths.get()))?;
                    at = end;
                }
            }
        }
        Ok(())
    }

    /// The page of `scope` over `members` (identities, with the employee
    /// that puts them in scope when there is one), only rows on `target`
    /// when given.
    fn page(
        &self,
        scope: Scope,
        members: &[(EntityIdx, Option<(EmployeeIdx, Relation)>)],
        target: Option<EntityIdx>,
        with_paths: bool,
    ) -> Page {
        let m = self.model();
        let ranks = self.graph.order().ranks();
        // Identity -> the employees it is in scope through.
        let mut identities: Vec<(EntityIdx, Vec<(EmployeeIdx, Relation)>)> = Vec::new();
        let mut seen: FxHashMap<EntityIdx, usize> = FxHashMap::default();
        for &(i, emp) in members {
            let at = *seen.entry(i).or_insert_with(|| {
                identities.push((i, Vec::new()));
                identities.len() - 1
            });
            let list = &mut identities[at].1;
            match emp {
                Some(e) if !list.contains(&e) => list.push(e),
                Some(_) => {}
                None if list.is_empty() => {
                    // Outside a manager's page, show every linked employee.
                    for l in self.people().links_of_identity(i) {
                        if !list.contains(&(l.employee, l.relation)) {
                            list.push((l.employee, l.relation));
                        }
                    }
                }
                None => {}
            }
        }
        identities.sort_by_key(|(i, _)| ranks[*i as usize]);
        let mut rows = Vec::new();
        let mut in_scope = 0;
        for (identity, mut employees) in identities {
            employees.sort_by(|a, b| {
                employee_key(m, a.0)
                    .cmp(&employee_key(m, b.0))
                    .then(a.1.as_str().cmp(b.1.as_str()))
            });
            let before = rows.len();
            self.rows_of(identity, &employees.into(), target, with_paths, &mut rows);
            if rows.len() > before {
                in_scope += 1;
            }
        }
        // The doubling's slack is given back before the page is written,
        // which needs memory of its own (the page's string table).
        rows.shrink_to_fit();
        let mut findings: Vec<u32> = rows
            .iter()
            .flat_map(|r| r.findings.iter().copied())
            .collect();
        findings.sort_unstable();
        findings.dedup();
        let digest = self.page_digest(&scope.key);
        Page {
            scope,
            rows,
            findings,
            identities: in_scope,
            digest,
        }
    }

    /// Appends the rows of one identity (on `target` only, when given):
    /// its grants merged by (target, permission), in report order.
    fn rows_of(
        &self,
        identity: EntityIdx,
        employees: &Rc<[(EmployeeIdx, Relation)]>,
        target: Option<EntityIdx>,
        with_paths: bool,
        rows: &mut Vec<Row>,
    ) {
        let m = self.model();
        let grants = self.expansion().grants_of(identity);
        let tree = with_paths.then(|| GrantTree::new(self.graph, identity));
        let mut at = 0;
        while at < grants.len() {
            let g = &grants[at];
            let end = at
                + grants[at..]
                    .iter()
                    .take_while(|h| h.target == g.target && h.permission == g.permission)
                    .count();
            if target.is_some_and(|t| t != g.target) {
                at = end;
                continue;
            }
            let mut providers: Vec<EntityIdx> =
                grants[at..end].iter().filter_map(|h| h.provider).collect();
            providers.dedup();
            let direct = grants[at..end].iter().any(|h| h.provider.is_none());
            let paths = match &tree {
                Some(tree) => self.evidence(tree, identity, g.target, g.permission),
                None => Vec::new(),
            };
            let mut findings: Vec<u32> = self.findings_of(identity).collect();
            for path in &paths {
                for &e in path {
                    let to = m.edges[e as usize].to;
                    if m.entity(to).kind == Kind::Connection {
                        findings.extend(self.findings_of(to));
                    }
                }
            }
            findings.sort_unstable();
            findings.dedup();
            rows.push(Row {
                identity,
                employees: Rc::clone(employees),
                target: g.target,
                permission: g.permission,
                providers: providers.into(),
                direct,
                findings: findings.into(),
                paths: paths.into_iter().map(Vec::into_boxed_slice).collect(),
            });
            at = end;
        }
    }

    /// The paths shown for one row: the `why` search's shortest path per
    /// granting edge with this permission, then each `false` edge with this
    /// permission out of a node on the first path into the target (drawn
    /// dashed: access that edge records as not held).
    fn evidence(
        &self,
        tree: &GrantTree,
        identity: EntityIdx,
        target: EntityIdx,
        permission: Sym,
    ) -> Vec<Vec<EdgeIdx>> {
        let m = self.model();
        let mut paths: Vec<Vec<EdgeIdx>> = tree
            .paths_into(self.graph, target)
            .into_iter()
            .filter(|p| {
                p.last()
                    .is_some_and(|&e| m.edges[e as usize].permission == permission)
            })
            .collect();
        if let Some(first) = paths.first().cloned() {
            let mut extra = Vec::new();
            for n in 0..first.len() {
                let node = if n == 0 {
                    identity
                } else {
                    m.edges[first[n - 1] as usize].to
                };
                for &e in self.graph.out_edges(node) {
                    let edge = &m.edges[e as usize];
                    if !edge.granted && edge.to == target && edge.permission == permission {
                        let mut p = first[..n].to_vec();
                        p.push(e);
                        extra.push(p);
                    }
                }
            }
            paths.extend(extra.into_iter().take(MAX_FALSE_PATHS));
        }
        paths
    }

    /// The scope keys of kind `by` that a page would be written for, with
    /// each one's rows: what `review decisions` checks decisions against.
    /// Rows are listed without their paths (which only pages draw).
    pub fn scope_rows(&self, by: By) -> io::Result<FxHashMap<String, Vec<RowKey>>> {
        let mut out = FxHashMap::default();
        self.with_paths.set(false);
        let done = self.each_page(by, &mut |page| {
            let keys = page.rows.iter().map(|r| self.key(r)).collect();
            out.insert(page.scope.key, keys);
            Ok(())
        });
        self.with_paths.set(true);
        done.map(|()| out)
    }
}

/// Most dashed `false`-edge paths drawn beside a row's granting paths.
const MAX_FALSE_PATHS: usize = 4;

/// blake3 over every input file's blake3 (hex, one per line), in the
/// order they were loaded, then the people map's accepted rows (source,
/// identity id, employee email, relation), which decide whose page a grant
/// is on.
fn input_digest(model: &Model) -> String {
    let mut h = blake3::Hasher::new();
    for s in &model.sources {
        h.update(s.blake3.as_bytes());
        h.update(b"\n");
    }
    for r in &model.people_map.rows {
        for part in [&r.source, &r.identity_id, &r.employee_email] {
            h.update(&(part.len() as u64).to_le_bytes());
            h.update(part.as_bytes());
        }
        h.update(r.relation.as_str().as_bytes());
        h.update(b"\n");
    }
    h.finalize().to_hex().to_string()
}

#[cfg(test)]
mod tests;
