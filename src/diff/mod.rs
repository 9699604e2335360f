//! Diff: what changed between two access graphs (two reviews).
//!
//! Effective-access changes are keyed by `(source, identity id, target id,
//! permission)` and compare the **set of providers** on each side:
//!
//! - `granted`: the key exists only in the new graph;
//! - `revoked`: the key exists only in the old graph;
//! - `re-attributed`: the key exists in both, with different providers (the
//!   same access now comes through another connection, or became direct).
//!
//! Entity changes are keyed by `(source, Entity Source ID)`: `added`,
//! `removed`, and `changed` once per attribute whose value differs (name,
//! type, source type, project, username, email, status, first and last name,
//! MFA, password change time). Last login time is activity, not
//! configuration, and changes with every export, so it is not compared.
//!
//! People (see `people`): HRIS employees keyed by `(source, employee id)`
//! (`employee-added`, `employee-removed`, `employee-changed` once per
//! attribute: name, every mapped HRIS attribute, managers); identity →
//! employee links keyed by `(identity, relation)` (`link-added`,
//! `link-removed`, `link-moved` when an identity's one IS or OWNS employee
//! became another); and, when asked, findings keyed by `(kind, subject)`
//! (`finding-opened`, `finding-resolved`). With [`Options::by_employee`], the
//! access of every linked identity is compared per person instead
//! (`gained`, `lost`: a target and permission that none of the employee's
//! identities held before, or holds now).
//!
//! Sources are paired first (see `pair`): an old source paired with a new
//! one is compared under the **new** name, and every row names it so.
//!
//! Entities and grants are matched by their strings, never by index, so the
//! two graphs may come from different files, imports or snapshots. Output is
//! sorted bytewise by key, so it is deterministic. Nothing holds every
//! access change: [`Comparison::each`] merges two expansions streamed in key
//! order and hands changes out as they are found; people and findings are
//! not per grant and are compared whole. Does no I/O.

mod access;
mod entities;
pub mod pair;
mod people;
pub mod summary;

use std::collections::BTreeSet;

use rustc_hash::FxHashMap;

use crate::expand::Expansion;
use crate::findings::Finding;
use crate::graph::AccessGraph;
use crate::import::ImportReport;
use crate::model::{Kind, Model, Sym};
pub use pair::Pairing;

/// What kind of change a row reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, clap::ValueEnum)]
pub enum ChangeKind {
    /// Effective access present only in the new graph.
    Granted,
    /// Effective access present only in the old graph.
    Revoked,
    /// The same identity, target and permission, through different providers.
    ReAttributed,
    /// An entity present only in the new graph.
    Added,
    /// An entity present only in the old graph.
    Removed,
    /// An entity attribute that differs between the graphs.
    Changed,
    // The kinds below are accepted by `--fail-on` but kept out of clap's
    // list of possible values, so that message reads as it always has;
    // `whocan diff --help` lists them.
    /// An employee present only in the new side.
    EmployeeAdded,
    /// An employee present only in the old side.
    EmployeeRemoved,
    /// An employee attribute that differs.
    EmployeeChanged,
    /// An identity → employee link present only in the new side.
    LinkAdded,
    /// An identity → employee link present only in the old side.
    LinkRemoved,
    /// An identity's one IS (or OWNS) employee became another.
    LinkMoved,
    /// A finding present only in the new side.
    FindingOpened,
    /// A finding present only in the old side.
    FindingResolved,
    /// A finding on both sides under the same key whose severity or detail
    /// differs.
    FindingChanged,
    /// With `--by employee`: access an employee holds now through none of
    /// their identities before.
    Gained,
    /// With `--by employee`: access an employee held before and holds
    /// through none of their identities now.
    Lost,
}

impl ChangeKind {
    /// Every kind, in display order.
    pub const ALL: [ChangeKind; 17] = [
        ChangeKind::Granted,
        ChangeKind::Revoked,
        ChangeKind::ReAttributed,
        ChangeKind::Added,
        ChangeKind::Removed,
        ChangeKind::Changed,
        ChangeKind::EmployeeAdded,
        ChangeKind::EmployeeRemoved,
        ChangeKind::EmployeeChanged,
        ChangeKind::LinkAdded,
        ChangeKind::LinkRemoved,
        ChangeKind::LinkMoved,
        ChangeKind::FindingOpened,
        ChangeKind::FindingResolved,
        ChangeKind::FindingChanged,
        ChangeKind::Gained,
        ChangeKind::Lost,
    ];

    /// The lowercase name used in output and in `--fail-on`.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Granted => "granted",
            ChangeKind::Revoked => "revoked",
            ChangeKind::ReAttributed => "re-attributed",
            ChangeKind::Added => "added",
            ChangeKind::Removed => "removed",
            ChangeKind::Changed => "changed",
            ChangeKind::EmployeeAdded => "employee-added",
            ChangeKind::EmployeeRemoved => "employee-removed",
            ChangeKind::EmployeeChanged => "employee-changed",
            ChangeKind::LinkAdded => "link-added",
            ChangeKind::LinkRemoved => "link-removed",
            ChangeKind::LinkMoved => "link-moved",
            ChangeKind::FindingOpened => "finding-opened",
            ChangeKind::FindingResolved => "finding-resolved",
            ChangeKind::FindingChanged => "finding-changed",
            ChangeKind::Gained => "gained",
            ChangeKind::Lost => "lost",
        }
    }

    /// Position in [`ChangeKind::ALL`].
    pub fn index(self) -> usize {
        ChangeKind::ALL
            .iter()
            .position(|&k| k == self)
            .unwrap_or_default()
    }

    /// True for the finding kinds, which need findings computed.
    pub fn is_finding(self) -> bool {
        matches!(
            self,
            ChangeKind::FindingOpened | ChangeKind::FindingResolved | ChangeKind::FindingChanged
        )
    }
}
/// One change of effective access.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessChange {
    /// `Granted`, `Revoked` or `ReAttributed`.
    pub kind: ChangeKind,
    /// The identity's source.
    pub source: String,
    /// The identity's Entity Source ID.
    pub identity_id: String,
    /// The identity's name (from the new graph when it has the identity).
    pub identity_name: String,
    /// The target's Entity Source ID.
    pub target_id: String,
    /// The target's name (from the new graph when it has the target).
    pub target_name: String,
    /// The target's source (the identity's, for every import so far).
    pub target_source: String,
    /// The permission.
    pub permission: String,
    /// Providers in the old graph, sorted; `None` is a direct grant. Empty
    /// for `Granted`.
    pub old_providers: Vec<Option<String>>,
    /// Providers in the new graph, sorted; `None` is a direct grant. Empty
    /// for `Revoked`.
    pub new_providers: Vec<Option<String>>,
}

/// One change of an entity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntityChange {
    /// `Added`, `Removed` or `Changed`.
    pub kind: ChangeKind,
    /// The entity's source.
    pub source: String,
    /// The entity's Entity Source ID.
    pub id: String,
    /// The entity's name (from the new graph when it has the entity).
    pub name: String,
    /// The entity's type (from the new graph when it has the entity).
    pub entity_kind: Kind,
    /// For `Changed`: which attribute (see [`ATTRIBUTES`]).
    pub attribute: Option<&'static str>,
    /// For `Changed`: the old value, as text (empty when unset).
    pub old: String,
    /// For `Changed`: the new value, as text (empty when unset).
    pub new: String,
}

/// The attributes compared, in the order changes are listed.
pub const ATTRIBUTES: [&str; 11] = [
    "name",
    "type",
    "source_type",
    "project",
    "username",
    "email",
    "status",
    "first_name",
    "last_name",
    "mfa",
    "password_changed",
];

/// One change of an HRIS employee.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EmployeeChange {
    /// `EmployeeAdded`, `EmployeeRemoved` or `EmployeeChanged`.
    pub kind: ChangeKind,
    /// The employee's source (compared name).
    pub source: String,
    /// The employee id.
    pub id: String,
    /// The employee's name (from the new side when it has the employee).
    pub name: String,
    /// For `EmployeeChanged`: `name`, a mapped HRIS attribute, or
    /// `managers`.
    pub attribute: Option<String>,
    /// For `EmployeeChanged`: the old value (empty when unset).
    pub old: String,
    /// For `EmployeeChanged`: the new value (empty when unset).
    pub new: String,
}

/// One change of an identity → employee link.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkChange {
    /// `LinkAdded`, `LinkRemoved` or `LinkMoved`.
    pub kind: ChangeKind,
    /// The identity's source (compared name).
    pub source: String,
    /// The identity's Entity Source ID.
    pub identity_id: String,
    /// The identity's name.
    pub identity_name: String,
    /// `IS` or `OWNS`.
    pub relation: &'static str,
    /// The employee, as `source/id` (the new one, for a move).
    pub employee: String,
    /// That employee's name.
    pub employee_name: String,
    /// How the old link was made (`explicit people.csv:4`, `auto: …`);
    /// empty for `LinkAdded`.
    pub old: String,
    /// How the new link was made; empty for `LinkRemoved`.
    pub new: String,
    /// For `LinkMoved`: the old employee, as `source/id`.
    pub old_employee: String,
}

/// A finding opened, resolved or changed between the sides.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FindingChange {
    /// `FindingOpened`, `FindingResolved` or `FindingChanged`.
    pub kind: ChangeKind,
    /// The finding (from the side that has it; the new side's when
    /// changed), its subject's source renamed as compared.
    pub finding: Finding,
    /// For `FindingChanged`: the old side's finding under the same key.
    pub before: Option<Finding>,
}

/// With `--by employee`: access a person gained or lost.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PersonChange {
    /// `Gained` or `Lost`.
    pub kind: ChangeKind,
    /// The employee's source (compared name).
    pub source: String,
    /// The employee id.
    pub id: String,
    /// The employee's name.
    pub name: String,
    /// The target's source (compared name).
    pub target_source: String,
    /// The target's Entity Source ID.
    pub target_id: String,
    /// The target's name.
    pub target_name: String,
    /// The permission.
    pub permission: String,
    /// The employee's identities holding it in the old side, as
    /// `source/id`.
    pub old_identities: Vec<String>,
    /// The employee's identities holding it in the new side.
    pub new_identities: Vec<String>,
}

/// Every change between two graphs, each list sorted by key.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Diff {
    /// Effective-access changes, by (source, identity id, target id,
    /// permission).
    pub access: Vec<AccessChange>,
    /// Entity changes, by (source, id, attribute in [`ATTRIBUTES`] order).
    pub entities: Vec<EntityChange>,
    /// Employee changes, by (source, id, attribute).
    pub employees: Vec<EmployeeChange>,
    /// Link changes, by (identity source, id, relation, employee).
    pub links: Vec<LinkChange>,
    /// Findings opened, resolved and changed, by (kind, subject).
    pub findings: Vec<FindingChange>,
    /// With `--by employee`: per-person access changes, by (employee,
    /// target, permission).
    pub persons: Vec<PersonChange>,
}

impl Diff {
    /// Number of changes of one kind.
    pub fn count(&self, kind: ChangeKind) -> usize {
        self.access.iter().filter(|c| c.kind == kind).count()
            + self.entities.iter().filter(|c| c.kind == kind).count()
            + self.employees.iter().filter(|c| c.kind == kind).count()
            + self.links.iter().filter(|c| c.kind == kind).count()
            + self.findings.iter().filter(|c| c.kind == kind).count()
            + self.persons.iter().filter(|c| c.kind == kind).count()
    }

    /// True when nothing changed.
    pub fn is_empty(&self) -> bool {
        ChangeKind::ALL.iter().all(|&k| self.count(k) == 0)
    }
}

/// One change, as [`Comparison::each`] hands them out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    /// A change of effective access.
    Access(AccessChange),
    /// A change of an entity.
    Entity(EntityChange),
    /// A change of an employee.
    Employee(EmployeeChange),
    /// A change of an identity → employee link.
    Link(LinkChange),
    /// A finding opened, resolved or changed (boxed: two findings would
    /// make every change as big).
    Finding(Box<FindingChange>),
    /// With `--by employee`: a person's access gained or lost.
    Person(PersonChange),
}

impl Change {
    /// The change's kind.
    pub fn kind(&self) -> ChangeKind {
        match self {
            Change::Access(c) => c.kind,
            Change::Entity(c) => c.kind,
            Change::Employee(c) => c.kind,
            Change::Link(c) => c.kind,
            Change::Finding(c) => c.kind,
            Change::Person(c) => c.kind,
        }
    }
}

/// What findings are compared with: the same options on both sides, and
/// each side's import report (for rejected rows).
#[derive(Clone, Copy)]
pub struct FindingsInput<'a> {
    /// Checks' options, `--as-of` included.
    pub options: &'a crate::findings::Options,
    /// The old side's import report.
    pub old_report: &'a ImportReport,
    /// The new side's import report.
    pub new_report: &'a ImportReport,
    /// Separation-of-duties rules checked on both sides too (`--rules`);
    /// a rule naming what one side lacks is checked on the other only.
    pub rules: &'a [crate::query::RulesFile],
}

/// What a comparison covers beyond access and entities.
#[derive(Clone, Copy, Default)]
pub struct Options<'a> {
    /// Compare the access of linked identities per employee (`gained`,
    /// `lost`) instead of per identity; identities linked to no employee on
    /// either side keep their identity rows.
    pub by_employee: bool,
    /// Compare findings too.
    pub findings: Option<FindingsInput<'a>>,
}

/// The source names a model holds: its entities' and employees'.
pub fn sources(model: &Model) -> BTreeSet<String> {
    let mut syms: Vec<Sym> = model
        .entities
        .iter()
        .map(|e| e.source)
        .chain(model.employees.iter().map(|e| e.source))
        .collect();
    syms.sort_unstable();
    syms.dedup();
    syms.into_iter().map(|s| model.str(s).to_string()).collect()
}

/// One side's source names as compared: the pairing's renames, looked up
/// by symbol.
pub(crate) struct Names<'a> {
    model: &'a Model,
    renames: FxHashMap<Sym, &'a str>,
}

impl<'a> Names<'a> {
    /// The new side's names: as they are.
    fn plain(model: &'a Model) -> Names<'a> {
        Names {
            model,
            renames: FxHashMap::default(),
        }
    }

    /// The old side's names, renamed by `pairing`.
    fn old(model: &'a Model, pairing: &'a Pairing) -> Names<'a> {
        let renames = pairing
            .pairs
            .iter()
            .filter(|p| p.old != p.new)
            .filter_map(|p| Some((model.strings.get(&p.old)?, p.new.as_str())))
            .collect();
        Names { model, renames }
    }

    /// A source as compared.
    fn source(&self, sym: Sym) -> &'a str {
        if self.renames.is_empty() {
            return self.model.str(sym);
        }
        match self.renames.get(&sym) {
            Some(name) => name,
            None => self.model.str(sym),
        }
    }

    /// A source name as compared.
    fn name(&self, source: &'a str) -> &'a str {
        match self.model.strings.get(source) {
            Some(sym) => self.source(sym),
            None => source,
        }
    }
}

/// Two graphs ready to compare: both expansions and the source pairing.
pub struct Comparison<'g> {
    old: Expansion<'g>,
    new: Expansion<'g>,
    pairing: Pairing,
}

impl<'g> Comparison<'g> {
    /// Expands both graphs (in parallel) under `pairing`.
    pub fn new(old: &'g AccessGraph, new: &'g AccessGraph, pairing: Pairing) -> Comparison<'g> {
        let (old, new) = rayon::join(|| Expansion::new(old), || Expansion::new(new));
        Comparison { old, new, pairing }
    }

    /// The pairing compared under.
    pub fn pairing(&self) -> &Pairing {
        &self.pairing
    }

    /// The old side's expansion.
    pub fn old(&self) -> &Expansion<'g> {
        &self.old
    }

    /// The new side's expansion.
    pub fn new_side(&self) -> &Expansion<'g> {
        &self.new
    }

    /// What a reader must know before the first change: every pair
    /// (`source okta-2026-01 (old) = okta-2026-02 (new)`), every stem left
    /// unpaired, and, when both sides hold sources the other lacks, each
    /// such source with what it accounts for.
    pub fn notes(&self) -> Vec<String> {
        let p = &self.pairing;
        let mut out: Vec<String> = p
            .pairs
            .iter()
            .filter(|x| x.old != x.new)
            .map(|x| format!("source {} (old) = {} (new)", x.old, x.new))
            .collect();
        for a in &p.ambiguous {
            out.push(format!(
                "sources {} (old) and {} (new) share the stem {}: not paired, more than one candidate; pair by hand with --pair OLD=NEW",
                a.old.join(", "),
                a.new.join(", "),
                a.stem
            ));
        }
        // Always, not only when both sides have one: a source dropped from
        // an export reads as mass revocation unless it is said first.
        for s in &p.old_only {
            out.push(self.one_sided(&self.old, s, "old", ["removed", "revoked"]));
        }
        for s in &p.new_only {
            out.push(self.one_sided(&self.new, s, "new", ["added", "granted"]));
        }
        out
    }

    /// `source X only in the old side: its 3 entities and 9 grants appear
    /// as removed / revoked`.
    fn one_sided(&self, x: &Expansion, source: &str, side: &str, verbs: [&str; 2]) -> String {
        let (entities, grants, employees) = source_size(x, source);
        let mut parts = Vec::new();
        let mut as_ = Vec::new();
        use crate::report::plural;
        if entities > 0 {
            parts.push(plural(entities, "entity", "entities"));
            as_.push(verbs[0].to_string());
        }
        if grants > 0 {
            parts.push(plural(grants, "grant", "grants"));
            as_.push(verbs[1].to_string());
        }
        if employees > 0 {
            parts.push(plural(employees, "employee", "employees"));
            as_.push(format!("employee-{}", verbs[0]));
        }
        format!(
            "source {source} only in the {side} side: its {} appear as {}",
            parts.join(" and "),
            as_.join(" / ")
        )
    }

    /// Hands every change to `emit`, in the order of [`Diff`]: access
    /// changes by key (streamed: memory bounded like one report's), then
    /// entity, employee, link and finding changes (per-person access
    /// changes after the identity rows, with `by_employee`). Stops at the
    /// first error `emit` returns.
    pub fn each<E>(
        &self,
        opts: &Options,
        emit: &mut dyn FnMut(Change) -> Result<(), E>,
    ) -> Result<(), E> {
        let (om, nm) = (self.old.model(), self.new.model());
        let old_names = Names::old(om, &self.pairing);
        let new_names = Names::plain(nm);
        let has_people = |m: &Model| !m.employees.is_empty() || !m.people_map.rows.is_empty();
        let want_people =
            opts.by_employee || opts.findings.is_some() || has_people(om) || has_people(nm);
        let (old_people, new_people) = if want_people {
            rayon::join(
                || crate::people::People::new(om),
                || crate::people::People::new(nm),
            )
        } else {
            Default::default()
        };
        let old = people::Side {
            x: &self.old,
            names: &old_names,
            people: &old_people,
        };
        let new = people::Side {
            x: &self.new,
            names: &new_names,
            people: &new_people,
        };
        if opts.by_employee {
            let linked = people::linked_identities(&old, &new);
            access::access_changes((&self.old, &old_names), (&self.new, &new_names), &mut |c| {
                match &c {
                    Change::Access(a)
                        if linked.contains(&(a.source.as_str(), a.identity_id.as_str())) =>
                    {
                        Ok(())
                    }
                    _ => emit(c),
                }
            })?;
            people::person_changes(&old, &new, emit)?;
        } else {
            access::access_changes((&self.old, &old_names), (&self.new, &new_names), emit)?;
        }
        entities::entity_changes((&self.old, &old_names), (&self.new, &new_names), emit)?;
        people::employee_changes(&old, &new, emit)?;
        people::link_changes(&old, &new, emit)?;
        if let Some(f) = &opts.findings {
            people::finding_changes(&old, &new, f, emit)?;
        }
        Ok(())
    }

    /// The name of an entity of the compared source `source` (new side
    /// first), for summaries.
    pub fn entity_name(&self, source: &str, id: &str) -> Option<(&str, Kind)> {
        let find = |x: &Expansion<'g>, source: &str| {
            let g = x.graph();
            let e = g.find(source, id)?;
            let m = g.model();
            Some((m.str(m.entity(e).name), m.entity(e).kind))
        };
        find(&self.new, source).or_else(|| find(&self.old, self.pairing.old_name(source)))
    }
}

/// A source's entities, access rows (of its identities: one per target
/// and permission) and employees in one expansion.
fn source_size(x: &Expansion, source: &str) -> (u64, u64, u64) {
    use rayon::prelude::*;
    let m = x.model();
    let Some(sym) = m.strings.get(source) else {
        return (0, 0, 0);
    };
    let entities = m.entities.iter().filter(|e| e.source == sym).count() as u64;
    let grants = x
        .identities()
        .par_iter()
        .filter(|&&i| m.entity(i).source == sym)
        .map(|&i| {
            // One access row per (target, permission), whatever its
            // providers: grants come sorted by target and permission.
            let mut g = x.grants_of(i);
            g.dedup_by_key(|g| (g.target, g.permission));
            g.len() as u64
        })
        .sum();
    let employees = m.employees.iter().filter(|e| e.source == sym).count() as u64;
    (entities, grants, employees)
}

/// Compares two graphs, holding every change (see [`diff_each`] to stream
/// them instead).
pub fn diff(old: &AccessGraph, new: &AccessGraph) -> Diff {
    diff_with(
        &Comparison::new(old, new, Pairing::none()),
        &Options::default(),
    )
}

/// Every change of a prepared comparison, held.
pub fn diff_with(comparison: &Comparison, opts: &Options) -> Diff {
    let mut d = Diff::default();
    let _ = comparison.each(opts, &mut |c| -> Result<(), ()> {
        match c {
            Change::Access(a) => d.access.push(a),
            Change::Entity(e) => d.entities.push(e),
            Change::Employee(e) => d.employees.push(e),
            Change::Link(l) => d.links.push(l),
            Change::Finding(f) => d.findings.push(*f),
            Change::Person(p) => d.persons.push(p),
        }
        Ok(())
    });
    d
}

/// Compares two graphs with no pairing and hands each change to `emit` as
/// it is found (see [`Comparison::each`]).
pub fn diff_each<E>(
    old: &AccessGraph,
    new: &AccessGraph,
    emit: &mut dyn FnMut(Change) -> Result<(), E>,
) -> Result<(), E> {
    Comparison::new(old, new, Pairing::none()).each(&Options::default(), emit)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::{FileOptions, Importer};
    use std::path::Path;

    const HEADER: &str = "Entity Name,Entity Type,Entity Source Type,Entity Source ID,Entity Status,Entity MfaEnabled,Entity - Has Access To Name,Entity - Has Access To Source ID,Entity - Has Access To Entity Type,Entity - Has Access To Source Type,Entity - Has Access To Permission Name\n";

    fn graph(rows: &str) -> AccessGraph {
        let mut importer = Importer::new();
        let opts = FileOptions {
            source: Some("app".into()),
        };
        let csv = format!("{HEADER}{rows}");
        importer
            .import_reader(Path::new("app.csv"), csv.as_bytes(), &opts)
            .unwrap();
        AccessGraph::new(importer.finish().0)
    }

    /// Renders a diff as one line per change: `kind key old -> new`.
    #[track_caller]
    fn check(old: &str, new: &str, expected: &str) {
        let d = diff(&graph(old), &graph(new));
        let p = |v: &[Option<String>]| {
            v.iter()
                .map(|p| p.as_deref().unwrap_or("(direct)"))
                .collect::<Vec<_>>()
                .join(";")
        };
        let mut got = String::new();
        for c in &d.access {
            got += &format!(
                "{} {}/{} {} {}: {} -> {}\n",
                c.kind.as_str(),
                c.source,
                c.identity_id,
                c.target_id,
                c.permission,
                p(&c.old_providers),
                p(&c.new_providers)
            );
        }
        for c in &d.entities {
            got += &format!(
                "{} {}/{} {}: {} -> {}\n",
                c.kind.as_str(),
                c.source,
                c.id,
                c.attribute.unwrap_or("-"),
                c.old,
                c.new
            );
        }
        assert_eq!(got, expected);
    }

    type Keys =
        std::collections::BTreeMap<(String, String, String, String, String), Vec<Option<String>>>;

    /// Every grant of a graph by diff key, providers sorted: built from
    /// `grants_of` identity by identity, not from the streams.
    fn keyed(g: &AccessGraph) -> Keys {
        let x = Expansion::new(g);
        let m = g.model();
        let mut out = Keys::new();
        for &i in x.identities() {
            for gr in x.grants_of(i) {
                let (id, t) = (m.entity(gr.identity), m.entity(gr.target));
                let key = (
                    m.str(id.source).to_string(),
                    m.str(id.id).to_string(),
                    m.str(t.id).to_string(),
                    m.str(t.source).to_string(),
                    m.str(gr.permission).to_string(),
                );
                let provider = gr.provider.map(|p| m.str(m.entity(p).id).to_string());
                out.entry(key).or_default().push(provider);
            }
        }
        for v in out.values_mut() {
            v.sort();
        }
        out
    }

    /// Issue 13.9: the streamed merge of two expansions gives the changes
    /// a plain comparison of two fully built grant maps gives, in key
    /// order, on two different generated organisations.
    #[test]
    fn issue_13_streamed_diff_matches_a_map_comparison() {
        let old = crate::generate::test_org(3_000, 1);
        let new = crate::generate::test_org(3_000, 2);
        let (a, b) = (keyed(&old), keyed(&new));
        let mut expected = Vec::new();
        for key in a
            .keys()
            .chain(b.keys())
            .collect::<std::collections::BTreeSet<_>>()
        {
            let row = |kind: ChangeKind, o: &[Option<String>], n: &[Option<String>]| {
                (kind, key.clone(), o.to_vec(), n.to_vec())
            };
            match (a.get(key), b.get(key)) {
                (Some(o), None) => expected.push(row(ChangeKind::Revoked, o, &[])),
                (None, Some(n)) => expected.push(row(ChangeKind::Granted, &[], n)),
                (Some(o), Some(n)) if o != n => expected.push(row(ChangeKind::ReAttributed, o, n)),
                _ => {}
            }
        }
        let got: Vec<_> = diff(&old, &new)
            .access
            .into_iter()
            .map(|c| {
                let key = (
                    c.source,
                    c.identity_id,
                    c.target_id,
                    c.target_source,
                    c.permission,
                );
                (c.kind, key, c.old_providers, c.new_providers)
            })
            .collect();
        assert!(expected.len() > 100, "{} changes", expected.len());
        assert_eq!(got, expected);
        // A consumer that fails stops the stream at once.
        let mut seen = 0;
        let stopped = diff_each(&old, &new, &mut |_| {
            seen += 1;
            Err(())
        });
        assert_eq!((stopped, seen), (Err(()), 1));
    }

    const BASE: &str = "alice,identity,user,u1,active,true,Eng,g1,connection,group,\n\
                        Eng,connection,group,g1,,,db,r1,resource,database,read\n";

    #[test]
    fn identical_graphs_have_no_changes() {
        check(BASE, BASE, "");
    }

    #[test]
    fn provider_only_change_is_re_attributed() {
        let new = "alice,identity,user,u1,active,true,Ops,g2,connection,group,\n\
                   Ops,connection,group,g2,,,db,r1,resource,database,read\n\
                   Eng,connection,group,g1,,,db,r1,resource,database,read\n";
        check(
            BASE,
            new,
            "revoked app/u1 g1 member: (direct) -> \n\
             granted app/u1 g2 member:  -> (direct)\n\
             re-attributed app/u1 r1 read: g1 -> g2\n\
             added app/g2 -:  -> \n",
        );
    }

    #[test]
    fn status_and_mfa_changes_are_reported_per_attribute() {
        let new = "alice,identity,user,u1,inactive,false,Eng,g1,connection,group,\n\
                   Eng,connection,group,g1,,,db,r1,resource,database,read\n";
        check(
            BASE,
            new,
            "changed app/u1 status: active -> inactive\n\
             changed app/u1 mfa: true -> false\n",
        );
    }
}
