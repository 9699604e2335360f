//! The expander against a small, obviously correct reference, on random
//! organisations: nesting at least 8 deep, cycles, `false` edges, empty
//! permission names and values (defaults), duplicate rows, identity →
//! identity edges and resources with out-edges (which never pass access on).
//!
//! The reference works from the generated rows themselves, not from whocan's
//! model, so the importer's defaults and merging are checked too.

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};

use proptest::prelude::*;
use whocan::expand::Expansion;
use whocan::graph::AccessGraph;
use whocan::import::{FileOptions, Importer};
use whocan::report::{Format, access};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Kind {
    Identity,
    Connection,
    Resource,
}

#[derive(Clone, Debug)]
struct Org {
    /// (id, name, kind) for every entity.
    entities: Vec<(String, String, Kind)>,
    /// Rows: (from, to, permission cell, value cell), indices into entities.
    rows: Vec<(usize, usize, &'static str, &'static str)>,
}

const PERMISSIONS: [&str; 5] = ["", "", "read", "admin", "member"];
const VALUES: [&str; 7] = ["", "true", "True", "1", "yes", "false", "0"];

fn kind_name(k: Kind) -> &'static str {
    match k {
        Kind::Identity => "identity",
        Kind::Connection => "connection",
        Kind::Resource => "resource",
    }
}

fn org() -> impl Strategy<Value = Org> {
    (1usize..7, 9usize..15, 1usize..5).prop_flat_map(|(ni, nc, nr)| {
        let n = ni + nc + nr;
        let edge = (0..n, 0..n, 0..PERMISSIONS.len(), 0..VALUES.len());
        (
            Just((ni, nc, nr)),
            proptest::collection::vec(edge, 0..40),
            Just(()).prop_perturb(move |_, mut rng| {
                // A chain through 8+ distinct connections, in random order,
                // with a back edge closing a cycle part of the time.
                let mut order: Vec<usize> = (ni..ni + nc).collect();
                for i in (1..order.len()).rev() {
                    order.swap(i, rng.random_range(0..=i));
                }
                let depth = rng.random_range(8..=order.len());
                let back = rng.random_bool(0.6);
                (order[..depth].to_vec(), back)
            }),
            proptest::collection::vec(0..ni, 1..4),
        )
            .prop_map(|((ni, nc, nr), edges, (chain, back), entry_users)| {
                let mut entities = Vec::new();
                for i in 0..ni {
                    entities.push((format!("u{i}"), format!("User {i}"), Kind::Identity));
                }
                for c in 0..nc {
                    entities.push((format!("c{c}"), format!("Group, {c}"), Kind::Connection));
                }
                for r in 0..nr {
                    entities.push((format!("r{r}"), format!("Res \"{r}\""), Kind::Resource));
                }
                let mut rows = Vec::new();
                for w in chain.windows(2) {
                    rows.push((w[0], w[1], "member", "true"));
                }
                if back {
                    rows.push((*chain.last().unwrap(), chain[chain.len() / 2], "", ""));
                }
                let last = *chain.last().unwrap();
                rows.push((last, ni + nc, "admin", "true"));
                for u in entry_users {
                    rows.push((u, chain[0], "", "true"));
                }
                for (f, t, p, v) in edges {
                    rows.push((f, t, PERMISSIONS[p], VALUES[v]));
                }
                // Duplicate a few rows, some with the opposite value.
                let dups: Vec<_> = rows.iter().step_by(5).cloned().collect();
                for (f, t, p, v) in dups {
                    rows.push((f, t, p, if v == "false" { "true" } else { v }));
                }
                Org { entities, rows }
            })
    })
}

fn csv_of(org: &Org, rows: &[(usize, usize, &str, &str)]) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "Entity Name",
        "Entity Type",
        "Entity Source Type",
        "Entity Source ID",
        "Entity - Has Access To Name",
        "Entity - Has Access To Source ID",
        "Entity - Has Access To Permission Name",
        "Entity - Has Access To Permission Value",
        "Entity - Has Access To Entity Type",
        "Entity - Has Access To Source Type",
    ])
    .unwrap();
    // Every entity once as an entities-only row, so identities without
    // edges exist too.
    for (id, name, kind) in &org.entities {
        w.write_record([
            name.as_str(),
            kind_name(*kind),
            "thing",
            id,
            "",
            "",
            "",
            "",
            "",
            "",
        ])
        .unwrap();
    }
    for &(f, t, p, v) in rows {
        let (fid, fname, fkind) = &org.entities[f];
        let (tid, tname, tkind) = &org.entities[t];
        w.write_record([
            fname.as_str(),
            kind_name(*fkind),
            "thing",
            fid,
            tname,
            tid,
            p,
            v,
            kind_name(*tkind),
            "thing",
        ])
        .unwrap();
    }
    w.into_inner().unwrap()
}

/// The reference: merge rows into edges (defaults applied, granted if any row
/// says true), then a plain BFS per identity over connections.
fn reference(org: &Org) -> String {
    let mut granted: HashMap<(usize, usize, String), bool> = HashMap::new();
    for &(f, t, p, v) in &org.rows {
        let perm = match p {
            "" if org.entities[t].2 == Kind::Connection => "member",
            "" => "access",
            p => p,
        };
        let value = !matches!(v, "false" | "0");
        *granted.entry((f, t, perm.to_string())).or_insert(false) |= value;
    }
    let active: Vec<(usize, usize, String)> = granted
        .into_iter()
        .filter(|(_, g)| *g)
        .map(|(k, _)| k)
        .collect();
    let out = |from: usize| active.iter().filter(move |(f, _, _)| *f == from);

    let mut rows = BTreeSet::new();
    for (i, (iid, iname, kind)) in org.entities.iter().enumerate() {
        if *kind != Kind::Identity {
            continue;
        }
        // Direct grants.
        for (_, t, p) in out(i) {
            rows.insert((
                iid.clone(),
                org.entities[*t].0.clone(),
                p.clone(),
                String::new(),
                iname.clone(),
                *t,
                None,
            ));
        }
        // Every connection reachable through connections only.
        let mut seen = HashSet::new();
        let mut queue: VecDeque<usize> = out(i)
            .map(|(_, t, _)| *t)
            .filter(|&t| org.entities[t].2 == Kind::Connection)
            .collect();
        while let Some(c) = queue.pop_front() {
            if !seen.insert(c) {
                continue;
            }
            for (_, t, p) in out(c) {
                rows.insert((
                    iid.clone(),
                    org.entities[*t].0.clone(),
                    p.clone(),
                    org.entities[c].0.clone(),
                    iname.clone(),
                    *t,
                    Some(c),
                ));
                if org.entities[*t].2 == Kind::Connection {
                    queue.push_back(*t);
                }
            }
        }
    }
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    w.write_record(access::COLUMNS).unwrap();
    for (iid, tid, perm, pid, iname, t, provider) in rows {
        let (_, tname, tkind) = &org.entities[t];
        let pname = provider
            .map(|c| org.entities[c].1.clone())
            .unwrap_or_default();
        w.write_record([
            "org",
            &iid,
            &iname,
            &tid,
            tname,
            kind_name(*tkind),
            &perm,
            &pid,
            &pname,
        ])
        .unwrap();
    }
    String::from_utf8(w.into_inner().unwrap()).unwrap()
}

fn whocan_report(csv: &[u8]) -> String {
    let mut importer = Importer::new();
    importer
        .import_reader(
            std::path::Path::new("org.csv"),
            csv,
            &FileOptions::default(),
        )
        .unwrap();
    let (model, report) = importer.finish();
    assert_eq!(report.rows_rejected(), 0, "{:?}", report.rejections);
    let graph = AccessGraph::new(model);
    let expansion = Expansion::new(&graph);
    let mut out = Vec::new();
    access::write(&expansion, Format::Csv, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn expansion_matches_reference(org in org()) {
        let expected = reference(&org);
        let actual = whocan_report(&csv_of(&org, &org.rows));
        prop_assert_eq!(actual, expected);
    }

    #[test]
    fn shuffled_rows_give_identical_reports(org in org(), seed in any::<u64>()) {
        let mut rows = org.rows.clone();
        let mut state = seed | 1;
        for i in (1..rows.len()).rev() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            rows.swap(i, (state % (i as u64 + 1)) as usize);
        }
        prop_assert_eq!(
            whocan_report(&csv_of(&org, &rows)),
            whocan_report(&csv_of(&org, &org.rows))
        );
    }
}

/// Issue 13.5: the dense shape (every identity in one group that grants
/// many resources: the answer far bigger than the data, streamed in
/// batches cut by closure size) gives the reference's report, row for row.
#[test]
fn issue_13_dense_organisation_report_matches_reference() {
    let (identities, resources) = (40, 2_000);
    let mut entities = Vec::new();
    for i in 0..identities {
        entities.push((format!("u{i}"), format!("User {i}"), Kind::Identity));
    }
    entities.push(("all".to_string(), "All Staff".to_string(), Kind::Connection));
    for r in 0..resources {
        entities.push((format!("r{r}"), format!("Bucket {r}"), Kind::Resource));
    }
    let group = identities;
    let mut rows = Vec::new();
    for i in 0..identities {
        rows.push((i, group, "", "true"));
    }
    for r in 0..resources {
        rows.push((group, group + 1 + r, "read", "true"));
    }
    let org = Org { entities, rows };
    let expected = reference(&org);
    assert_eq!(expected.lines().count(), 1 + identities * (resources + 1));
    assert_eq!(whocan_report(&csv_of(&org, &org.rows)), expected);
}
