//! `diff`'s effective-access changes (and entities added and removed)
//! against an obviously correct reference, on random pairs of organisations: each side's grants are
//! listed whole (`Expansion::grants_of`, itself checked against a reference
//! in `expand_reference.rs`), keyed by strings, and compared as two maps of
//! provider sets. The diff under test matches identities and compares ranks
//! as integers before it looks at strings; this checks that shortcut, on
//! sides that share most rows, with ids repeated across two sources, with
//! identities and permissions on one side only, and with the old side's
//! sources renamed by a pairing (`okta-2026-01` = `okta-2026-02`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use proptest::prelude::*;
use whocan::diff::{self, ChangeKind, Comparison, Options, Pairing};
use whocan::expand::Expansion;
use whocan::graph::AccessGraph;
use whocan::import::{FileOptions, Importer};

const HEADER: [&str; 9] = [
    "Entity Name",
    "Entity Type",
    "Entity Source Type",
    "Entity Source ID",
    "Entity - Has Access To Name",
    "Entity - Has Access To Source ID",
    "Entity - Has Access To Permission Name",
    "Entity - Has Access To Entity Type",
    "Entity - Has Access To Source Type",
];

/// Entities: `u0..u4` identities, `c0..c6` connections, `r0..r3`
/// resources, the same ids in both sources.
fn entity(i: usize) -> (String, &'static str) {
    match i {
        0..5 => (format!("u{i}"), "identity"),
        5..12 => (format!("c{}", i - 5), "connection"),
        _ => (format!("r{}", i - 12), "resource"),
    }
}

const ENTITIES: usize = 16;
const PERMISSIONS: [&str; 4] = ["read", "admin", "member", "write"];

/// One row: source (0 or 1), from, to, permission.
type Row = (usize, usize, usize, usize);

fn rows() -> impl Strategy<Value = Vec<Row>> {
    proptest::collection::vec((0..2usize, 0..ENTITIES, 0..ENTITIES, 0..4usize), 0..60)
}

/// The CSV of one source's rows, entities listed first so identities
/// without access exist too.
fn csv_of(rows: &[Row], source: usize, present: &[bool]) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(HEADER).unwrap();
    for (i, _) in present.iter().enumerate().filter(|(_, p)| **p) {
        let (id, kind) = entity(i);
        w.write_record([&id, kind, "thing", &id, "", "", "", "", ""])
            .unwrap();
    }
    for &(_, from, to, p) in rows.iter().filter(|r| r.0 == source) {
        let ((fid, fkind), (tid, tkind)) = (entity(from), entity(to));
        w.write_record([
            &fid,
            fkind,
            "thing",
            &fid,
            &tid,
            &tid,
            PERMISSIONS[p],
            tkind,
            "thing",
        ])
        .unwrap();
    }
    w.into_inner().unwrap()
}

/// An import of two sources named `names`.
fn graph(rows: &[Row], names: [&str; 2], present: &[bool]) -> AccessGraph {
    let mut importer = Importer::new();
    for (source, name) in names.iter().enumerate() {
        let opts = FileOptions {
            source: Some(name.to_string()),
        };
        let csv = csv_of(rows, source, present);
        let path = format!("{name}.csv");
        importer
            .import_reader(Path::new(&path), csv.as_slice(), &opts)
            .unwrap();
    }
    AccessGraph::new(importer.finish().0)
}

type Key = (String, String, String, String, String);

/// How the old side's source names are compared.
type Rename = Box<dyn Fn(&str) -> String>;

/// Every grant of a graph, by key, with its providers; sources renamed by
/// `rename`.
fn grants(g: &AccessGraph, rename: &dyn Fn(&str) -> String) -> BTreeMap<Key, BTreeSet<String>> {
    let x = Expansion::new(g);
    let m = g.model();
    let mut out: BTreeMap<Key, BTreeSet<String>> = BTreeMap::new();
    for &i in x.identities() {
        for grant in x.grants_of(i) {
            let (e, t) = (m.entity(grant.identity), m.entity(grant.target));
            let key = (
                rename(m.str(e.source)),
                m.str(e.id).to_string(),
                m.str(t.id).to_string(),
                rename(m.str(t.source)),
                m.str(grant.permission).to_string(),
            );
            let provider = grant.provider.map_or("(direct)".to_string(), |p| {
                m.str(m.entity(p).id).to_string()
            });
            out.entry(key).or_default().insert(provider);
        }
    }
    out
}

/// The reference: one line per changed key, in key order.
fn reference(old: &AccessGraph, new: &AccessGraph, rename: &dyn Fn(&str) -> String) -> Vec<String> {
    let (o, n) = (grants(old, rename), grants(new, &|s| s.to_string()));
    let keys: BTreeSet<&Key> = o.keys().chain(n.keys()).collect();
    let mut lines = Vec::new();
    for key in keys {
        let kind = match (o.get(key), n.get(key)) {
            (Some(_), None) => "revoked",
            (None, Some(_)) => "granted",
            (Some(a), Some(b)) if a != b => "re-attributed",
            _ => continue,
        };
        let providers = |p: Option<&BTreeSet<String>>| {
            p.map_or(String::new(), |p| {
                p.iter().cloned().collect::<Vec<_>>().join(";")
            })
        };
        lines.push(format!(
            "{kind} {key:?} {} -> {}",
            providers(o.get(key)),
            providers(n.get(key))
        ));
    }
    lines
}

/// The reference for entities: every (source, id) on one side only, in
/// key order, as `added` / `removed`.
fn entity_reference(
    old: &AccessGraph,
    new: &AccessGraph,
    rename: &dyn Fn(&str) -> String,
) -> Vec<String> {
    let keys = |g: &AccessGraph, rename: &dyn Fn(&str) -> String| -> BTreeSet<(String, String)> {
        let m = g.model();
        (m.entities.iter())
            .map(|e| (rename(m.str(e.source)), m.str(e.id).to_string()))
            .collect()
    };
    let (o, n) = (keys(old, rename), keys(new, &|s| s.to_string()));
    let all: BTreeSet<&(String, String)> = o.iter().chain(&n).collect();
    (all.into_iter())
        .filter_map(|k| match (o.contains(k), n.contains(k)) {
            (true, false) => Some(format!("removed {k:?}")),
            (false, true) => Some(format!("added {k:?}")),
            _ => None,
        })
        .collect()
}

/// What `diff` says of entities added and removed, in the same shape.
fn entities_diffed(d: &diff::Diff) -> Vec<String> {
    (d.entities.iter())
        .filter(|e| e.kind != ChangeKind::Changed)
        .map(|e| format!("{} {:?}", e.kind.as_str(), (e.source.clone(), e.id.clone())))
        .collect()
}

/// What `diff` says, in the same shape.
fn diffed(d: &diff::Diff) -> Vec<String> {
    d.access
        .iter()
        .map(|a| {
            let kind = match a.kind {
                ChangeKind::Revoked => "revoked",
                ChangeKind::Granted => "granted",
                ChangeKind::ReAttributed => "re-attributed",
                other => panic!("not an access kind: {other:?}"),
            };
            let key: Key = (
                a.source.clone(),
                a.identity_id.clone(),
                a.target_id.clone(),
                a.target_source.clone(),
                a.permission.clone(),
            );
            let providers = |p: &[Option<String>]| {
                let set: BTreeSet<String> = p
                    .iter()
                    .map(|p| p.clone().unwrap_or("(direct)".into()))
                    .collect();
                set.into_iter().collect::<Vec<_>>().join(";")
            };
            format!(
                "{kind} {key:?} {} -> {}",
                providers(&a.old_providers),
                providers(&a.new_providers)
            )
        })
        .collect()
}

/// The diff against the reference on one pair of row sets.
fn check(old_rows: &[Row], new_rows: &[Row]) {
    let present = [true; ENTITIES];
    let old = graph(old_rows, ["aws", "okta"], &present);
    let new = graph(new_rows, ["aws", "okta"], &present);
    let d = diff::diff_with(
        &Comparison::new(&old, &new, Pairing::none()),
        &Options::default(),
    );
    let same = |s: &str| s.to_string();
    assert_eq!(diffed(&d), reference(&old, &new, &same));
    assert_eq!(entities_diffed(&d), entity_reference(&old, &new, &same));
}

/// Identities whose direct edges are the same are settled by comparing the
/// closures of the groups they enter: a group's closure with the same
/// targets but another permission, or another provider, is a change.
#[test]
fn a_change_inside_a_group_is_seen_by_its_members() {
    // u0 -> c0 (member); c0 -> r0 read, then admin.
    check(
        &[(0, 0, 5, 2), (0, 5, 12, 0)],
        &[(0, 0, 5, 2), (0, 5, 12, 1)],
    );
    // u0 -> c0 -> c1 -> r0 read, then c0 -> r0 read directly instead of
    // through c1 (same target and permission, another provider).
    check(
        &[(0, 0, 5, 2), (0, 5, 6, 2), (0, 6, 12, 0)],
        &[(0, 0, 5, 2), (0, 5, 6, 2), (0, 5, 12, 0)],
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn diff_access_and_entity_changes_match_the_reference(
        shared in rows(),
        only_old in rows(),
        only_new in rows(),
        old_present in proptest::collection::vec(proptest::bool::weighted(0.8), ENTITIES),
        new_present in proptest::collection::vec(proptest::bool::weighted(0.8), ENTITIES),
        renamed in any::<bool>(),
    ) {
        let old_rows: Vec<Row> = shared.iter().chain(&only_old).copied().collect();
        let new_rows: Vec<Row> = shared.iter().chain(&only_new).copied().collect();
        let new = graph(&new_rows, ["aws", "okta-2026-02"], &new_present);
        let (old, pairing, rename): (AccessGraph, Pairing, Rename) =
            if renamed {
                let old = graph(&old_rows, ["aws", "okta-2026-01"], &old_present);
                let pairing = Pairing::resolve(
                    &diff::sources(old.model()),
                    &diff::sources(new.model()),
                    &[],
                    true,
                )
                .unwrap();
                prop_assert_eq!(pairing.rename("okta-2026-01"), "okta-2026-02");
                let rename = |s: &str| match s {
                    "okta-2026-01" => "okta-2026-02".to_string(),
                    s => s.to_string(),
                };
                (old, pairing, Box::new(rename))
            } else {
                let old = graph(&old_rows, ["aws", "okta-2026-02"], &old_present);
                (old, Pairing::none(), Box::new(|s: &str| s.to_string()))
            };
        let d = diff::diff_with(&Comparison::new(&old, &new, pairing), &Options::default());
        prop_assert_eq!(diffed(&d), reference(&old, &new, &*rename));
        prop_assert_eq!(entities_diffed(&d), entity_reference(&old, &new, &*rename));
    }
}
