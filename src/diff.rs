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
//! Entities and grants are matched by their strings, never by index, so the
//! two graphs may come from different files, imports or snapshots. Output is
//! sorted bytewise by key, so it is deterministic. Nothing holds every
//! change: [`diff_each`] merges two expansions streamed in key order and
//! hands changes out as they are found. Does no I/O.

use std::cmp::Ordering;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use rayon::prelude::*;

use crate::expand::{Expansion, Grant};
use crate::graph::AccessGraph;
use crate::model::{Attributes, Entity, EntityIdx, Kind, Model};

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
}

impl ChangeKind {
    /// Every kind, in display order.
    pub const ALL: [ChangeKind; 6] = [
        ChangeKind::Granted,
        ChangeKind::Revoked,
        ChangeKind::ReAttributed,
        ChangeKind::Added,
        ChangeKind::Removed,
        ChangeKind::Changed,
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
        }
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

/// Every change between two graphs, each list sorted by key.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Diff {
    /// Effective-access changes, by (source, identity id, target id,
    /// permission).
    pub access: Vec<AccessChange>,
    /// Entity changes, by (source, id, attribute in [`ATTRIBUTES`] order).
    pub entities: Vec<EntityChange>,
}

impl Diff {
    /// Number of changes of one kind.
    pub fn count(&self, kind: ChangeKind) -> usize {
        self.access.iter().filter(|c| c.kind == kind).count()
            + self.entities.iter().filter(|c| c.kind == kind).count()
    }

    /// True when nothing changed.
    pub fn is_empty(&self) -> bool {
        self.access.is_empty() && self.entities.is_empty()
    }
}

/// One change, as [`diff_each`] hands them out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    /// A change of effective access.
    Access(AccessChange),
    /// A change of an entity.
    Entity(EntityChange),
}

/// Compares two graphs, holding every change (see [`diff_each`] to stream
/// them instead).
pub fn diff(old: &AccessGraph, new: &AccessGraph) -> Diff {
    let mut d = Diff::default();
    let _ = diff_each(old, new, &mut |c| -> Result<(), ()> {
        match c {
            Change::Access(a) => d.access.push(a),
            Change::Entity(e) => d.entities.push(e),
        }
        Ok(())
    });
    d
}

/// Compares two graphs and hands each change to `emit` as it is found, in
/// the order of [`Diff`]: access changes by key, then entity changes. Both
/// expansions stream in that key order (identities by source and id, each
/// identity's grants in report order) and are merged on the fly, so memory
/// is bounded like one report's, whatever the number of changes. Stops at
/// the first error `emit` returns.
pub fn diff_each<E>(
    old: &AccessGraph,
    new: &AccessGraph,
    emit: &mut dyn FnMut(Change) -> Result<(), E>,
) -> Result<(), E> {
    access_changes(old, new, emit)?;
    entity_changes(old.model(), new.model(), emit)
}

/// One grant with its strings, for matching across graphs.
#[derive(Clone, Copy)]
struct Keyed<'m> {
    source: &'m str,
    identity: &'m str,
    target: &'m str,
    target_source: &'m str,
    permission: &'m str,
    provider: Option<&'m str>,
    identity_idx: EntityIdx,
    target_idx: EntityIdx,
}

impl Keyed<'_> {
    fn key(&self) -> (&str, &str, &str, &str, &str) {
        (
            self.source,
            self.identity,
            self.target,
            self.target_source,
            self.permission,
        )
    }
}

/// A graph's identities by (source, id): the order of the diff's keys.
fn identities_by_key(expansion: &Expansion) -> Vec<EntityIdx> {
    let m = expansion.model();
    let mut v = expansion.identities().to_vec();
    v.par_sort_unstable_by(|&a, &b| {
        let (a, b) = (m.entity(a), m.entity(b));
        (m.str(a.source), m.str(a.id)).cmp(&(m.str(b.source), m.str(b.id)))
    });
    v
}

/// Streams a graph's grants as [`Keyed`] batches into `tx`, in key order:
/// identities by (source, id), each one's grants by target id, target
/// source, permission and provider (report order; an edge's ends share a
/// source, so providers order by id). Distinct, as the expansion's are.
fn send_keyed<'m>(expansion: &Expansion<'m>, tx: SyncSender<Vec<Keyed<'m>>>) {
    let m = expansion.model();
    let order = identities_by_key(expansion);
    let _ = expansion.stream_identities(
        &order,
        |grants: &[Grant]| {
            grants
                .iter()
                .map(|g| {
                    let identity = m.entity(g.identity);
                    let target = m.entity(g.target);
                    Keyed {
                        source: m.str(identity.source),
                        identity: m.str(identity.id),
                        target: m.str(target.id),
                        target_source: m.str(target.source),
                        permission: m.str(g.permission),
                        provider: g.provider.map(|p| m.str(m.entity(p).id)),
                        identity_idx: g.identity,
                        target_idx: g.target,
                    }
                })
                .collect::<Vec<_>>()
        },
        // The merge stopped (its consumer failed): stop too.
        |batch| tx.send(batch).map_err(|_| ()),
    );
}

/// The grants of one side as they arrive, one key's run at a time.
struct Runs<'m> {
    rx: Receiver<Vec<Keyed<'m>>>,
    batch: std::vec::IntoIter<Keyed<'m>>,
    next: Option<Keyed<'m>>,
}

impl<'m> Runs<'m> {
    fn new(rx: Receiver<Vec<Keyed<'m>>>) -> Runs<'m> {
        let mut runs = Runs {
            rx,
            batch: Vec::new().into_iter(),
            next: None,
        };
        runs.next = runs.pull();
        runs
    }

    fn pull(&mut self) -> Option<Keyed<'m>> {
        loop {
            if let Some(g) = self.batch.next() {
                return Some(g);
            }
            self.batch = self.rx.recv().ok()?.into_iter();
        }
    }

    /// The first grant of the next run.
    fn peek(&self) -> Option<&Keyed<'m>> {
        self.next.as_ref()
    }

    /// The next run: every grant sharing the next key, into `run`.
    fn take(&mut self, run: &mut Vec<Keyed<'m>>) {
        run.clear();
        while let Some(g) = self.next {
            if run.first().is_some_and(|f| f.key() != g.key()) {
                break;
            }
            run.push(g);
            self.next = self.pull();
        }
    }
}

fn providers(run: &[Keyed]) -> Vec<Option<String>> {
    run.iter().map(|g| g.provider.map(str::to_string)).collect()
}

fn access_changes<E>(
    old: &AccessGraph,
    new: &AccessGraph,
    emit: &mut dyn FnMut(Change) -> Result<(), E>,
) -> Result<(), E> {
    let (old_x, new_x) = rayon::join(|| Expansion::new(old), || Expansion::new(new));
    let (old_model, new_model) = (old.model(), new.model());
    let change = |kind, g: &Keyed, m: &Model, old_p, new_p| {
        Change::Access(AccessChange {
            kind,
            source: g.source.to_string(),
            identity_id: g.identity.to_string(),
            identity_name: m.str(m.entity(g.identity_idx).name).to_string(),
            target_id: g.target.to_string(),
            target_name: m.str(m.entity(g.target_idx).name).to_string(),
            target_source: g.target_source.to_string(),
            permission: g.permission.to_string(),
            old_providers: old_p,
            new_providers: new_p,
        })
    };
    std::thread::scope(|s| {
        // Each side streams on its own thread, at most a window and a
        // batch ahead of the merge.
        let (old_tx, old_rx) = sync_channel(1);
        let (new_tx, new_rx) = sync_channel(1);
        let (old_x, new_x) = (&old_x, &new_x);
        s.spawn(move || send_keyed(old_x, old_tx));
        s.spawn(move || send_keyed(new_x, new_tx));
        let mut olds = Runs::new(old_rx);
        let mut news = Runs::new(new_rx);
        let (mut o, mut n) = (Vec::new(), Vec::new());
        loop {
            let order = match (olds.peek(), news.peek()) {
                (None, None) => break,
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (Some(a), Some(b)) => a.key().cmp(&b.key()),
            };
            match order {
                Ordering::Less => {
                    olds.take(&mut o);
                    emit(change(
                        ChangeKind::Revoked,
                        &o[0],
                        old_model,
                        providers(&o),
                        Vec::new(),
                    ))?;
                }
                Ordering::Greater => {
                    news.take(&mut n);
                    emit(change(
                        ChangeKind::Granted,
                        &n[0],
                        new_model,
                        Vec::new(),
                        providers(&n),
                    ))?;
                }
                Ordering::Equal => {
                    olds.take(&mut o);
                    news.take(&mut n);
                    let same = o.len() == n.len()
                        && o.iter().zip(&n).all(|(a, b)| a.provider == b.provider);
                    if !same {
                        emit(change(
                            ChangeKind::ReAttributed,
                            &n[0],
                            new_model,
                            providers(&o),
                            providers(&n),
                        ))?;
                    }
                }
            }
        }
        Ok(())
    })
}

/// Entities of a model sorted by (source, id).
fn sorted_entities(m: &Model) -> Vec<&Entity> {
    let mut v: Vec<&Entity> = m.entities.iter().collect();
    v.par_sort_unstable_by(|a, b| {
        (m.str(a.source), m.str(a.id)).cmp(&(m.str(b.source), m.str(b.id)))
    });
    v
}

/// An entity's compared attributes as text, in [`ATTRIBUTES`] order.
fn attribute_values(m: &Model, e: &Entity) -> [String; 11] {
    let none = Attributes::default();
    let a = e.attributes.as_ref().unwrap_or(&none);
    let s = |sym| m.str(sym).to_string();
    [
        s(e.name),
        e.kind.as_str().to_string(),
        s(e.source_type),
        s(a.project),
        s(a.username),
        s(a.email),
        s(a.status),
        s(a.first_name),
        s(a.last_name),
        a.mfa.map(|b| b.to_string()).unwrap_or_default(),
        a.password_changed
            .map(crate::import::format_timestamp)
            .unwrap_or_default(),
    ]
}

fn entity_changes<E>(
    old_model: &Model,
    new_model: &Model,
    emit: &mut dyn FnMut(Change) -> Result<(), E>,
) -> Result<(), E> {
    let old = sorted_entities(old_model);
    let new = sorted_entities(new_model);
    let key = |m: &Model, e: &Entity| (m.str(e.source).to_string(), m.str(e.id).to_string());
    let whole = |kind, m: &Model, e: &Entity| EntityChange {
        kind,
        source: m.str(e.source).to_string(),
        id: m.str(e.id).to_string(),
        name: m.str(e.name).to_string(),
        entity_kind: e.kind,
        attribute: None,
        old: String::new(),
        new: String::new(),
    };
    let (mut i, mut j) = (0, 0);
    while i < old.len() || j < new.len() {
        let order = match (old.get(i), new.get(j)) {
            (Some(o), Some(n)) => (old_model.str(o.source), old_model.str(o.id))
                .cmp(&(new_model.str(n.source), new_model.str(n.id))),
            (Some(_), None) => Ordering::Less,
            _ => Ordering::Greater,
        };
        match order {
            Ordering::Less => {
                emit(Change::Entity(whole(
                    ChangeKind::Removed,
                    old_model,
                    old[i],
                )))?;
                i += 1;
            }
            Ordering::Greater => {
                emit(Change::Entity(whole(ChangeKind::Added, new_model, new[j])))?;
                j += 1;
            }
            Ordering::Equal => {
                let (o, n) = (old[i], new[j]);
                let before = attribute_values(old_model, o);
                let after = attribute_values(new_model, n);
                let (source, id) = key(new_model, n);
                for ((attribute, b), a) in ATTRIBUTES.iter().zip(before).zip(after) {
                    if b != a {
                        emit(Change::Entity(EntityChange {
                            kind: ChangeKind::Changed,
                            source: source.clone(),
                            id: id.clone(),
                            name: new_model.str(n.name).to_string(),
                            entity_kind: n.kind,
                            attribute: Some(attribute),
                            old: b,
                            new: a,
                        }))?;
                    }
                }
                i += 1;
                j += 1;
            }
        }
    }
    Ok(())
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
