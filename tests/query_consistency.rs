//! The query engine's reverse walks against the forward expansion, on random
//! organisations with nesting, cycles, `false` edges, identity → identity
//! edges and resources with out-edges:
//!
//! - `who can reach X` (a walk up from X's holders) lists exactly the grants
//!   on X that the expansion gives identity by identity;
//! - `members of G` lists exactly the identities whose connections include G;
//! - `why Y X` finds a granting path exactly when Y has a grant on X, and its
//!   granting paths name exactly Y's (permission, provider) pairs on X.

use std::collections::BTreeSet;

use proptest::prelude::*;
use whocan::graph::AccessGraph;
use whocan::import::{FileOptions, Importer};
use whocan::model::{EntityIdx, Kind};
use whocan::query::Engine;
use whocan::query::ast::{Ask, EntityRef, Pos, Query, RefForm};

const KINDS: [&str; 3] = ["identity", "connection", "resource"];
const PERMISSIONS: [&str; 4] = ["", "read", "admin", "member"];
const VALUES: [&str; 4] = ["", "true", "true", "false"];

/// Entities by kind (0 identity, 1 connection, 2 resource) and rows
/// (from, to, permission, value).
type Org = (Vec<usize>, Vec<(usize, usize, usize, usize)>);

fn org() -> impl Strategy<Value = Org> {
    (3usize..14).prop_flat_map(|n| {
        (
            proptest::collection::vec(
                prop_oneof![2 => Just(0usize), 3 => Just(1), 1 => Just(2)],
                n,
            ),
            proptest::collection::vec((0..n, 0..n, 0..PERMISSIONS.len(), 0..VALUES.len()), 0..40),
        )
    })
}

fn graph_of((kinds, rows): &Org) -> AccessGraph {
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
    let id = |i: usize| format!("e{i}");
    for (i, &k) in kinds.iter().enumerate() {
        w.write_record([&id(i), KINDS[k], "thing", &id(i), "", "", "", "", "", ""])
            .unwrap();
    }
    for &(f, t, p, v) in rows {
        w.write_record([
            &id(f),
            KINDS[kinds[f]],
            "thing",
            &id(f),
            &id(t),
            &id(t),
            PERMISSIONS[p],
            VALUES[v],
            KINDS[kinds[t]],
            "thing",
        ])
        .unwrap();
    }
    let bytes = w.into_inner().unwrap();
    let mut importer = Importer::new();
    importer
        .import_reader("org.csv".as_ref(), &bytes[..], &FileOptions::default())
        .unwrap();
    let (model, report) = importer.finish();
    assert_eq!(report.rows_rejected(), 0);
    AccessGraph::new(model)
}

fn reference(engine: &Engine, e: EntityIdx) -> EntityRef {
    let m = engine.graph().model();
    EntityRef {
        form: RefForm::Id,
        text: m.str(m.entity(e).id).to_string(),
        pos: Pos::default(),
        width: 1,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn reverse_walks_agree_with_the_expansion(org in org()) {
        let graph = graph_of(&org);
        let engine = Engine::new(&graph);
        let m = graph.model();
        let x = engine.expansion();
        let all: Vec<EntityIdx> = (0..m.entities.len() as EntityIdx).collect();
        let mut forward = BTreeSet::new();
        for &i in x.identities() {
            for g in x.grants_of(i) {
                forward.insert((g.target, g.identity, g.permission, g.provider));
            }
        }
        for &t in &all {
            let got: BTreeSet<_> = engine
                .who_grants(t, None)
                .into_iter()
                .map(|g| (g.target, g.identity, g.permission, g.provider))
                .collect();
            let want: BTreeSet<_> = forward.iter().filter(|g| g.0 == t).copied().collect();
            prop_assert_eq!(got, want, "who can reach e{}", t);
        }
        for &c in all.iter().filter(|&&c| m.entity(c).kind == Kind::Connection) {
            let got: BTreeSet<EntityIdx> = engine.members_of(c).into_iter().map(|m| m.0).collect();
            let want: BTreeSet<EntityIdx> = x
                .identities()
                .iter()
                .copied()
                .filter(|&i| x.connections_of(i).contains(&c))
                .collect();
            prop_assert_eq!(got, want, "members of e{}", c);
        }
        for &y in x.identities() {
            for &t in &all {
                let ask = Ask {
                    query: Query::Why {
                        not: false,
                        identity: reference(&engine, y),
                        target: reference(&engine, t),
                        permission: None,
                    },
                    count: false,
                    limit: Some(10_000),
                };
                let ev = engine.eval(&ask).unwrap();
                let want: BTreeSet<String> = forward
                    .iter()
                    .filter(|g| g.0 == t && g.1 == y)
                    .map(|g| format!(
                        "{} {}",
                        m.str(g.2),
                        g.3.map_or(String::new(), |p| m.str(m.entity(p).id).to_string())
                    ))
                    .collect();
                prop_assert_eq!(ev.count > 0, !want.is_empty(), "why e{} e{}", y, t);
                // Each granting path: (permission of its last edge, provider id).
                let mut got = BTreeSet::new();
                let rows = &ev.answer.table.rows;
                let mut i = 0;
                while i < rows.len() {
                    let path = rows[i][0].clone();
                    let mut j = i;
                    while j + 1 < rows.len() && rows[j + 1][0] == path {
                        j += 1;
                    }
                    if rows[i][1].as_str().unwrap().starts_with("grants ")
                        && !rows[i][1].as_str().unwrap().contains(", not ")
                    {
                        let last = &rows[j];
                        let provider = if j > i { last[4].as_str().unwrap() } else { "" };
                        got.insert(format!("{} {}", last[5].as_str().unwrap(), provider));
                    }
                    i = j + 1;
                }
                prop_assert_eq!(got, want, "why e{} e{} paths", y, t);
            }
        }
    }
}

/// Words the fuzzer strings together: keywords, entities of the nested
/// fixture, punctuation, and awkward text.
const PIECES: &[&str] = &[
    "who",
    "what",
    "why",
    "not",
    "can",
    "reach",
    "with",
    "in",
    "project",
    "direct",
    "via",
    "members",
    "groups",
    "of",
    "show",
    "find",
    "stats",
    "cycles",
    "count",
    "limit",
    "expect",
    "none",
    "outside",
    "reaches",
    "cannot",
    "includes",
    "excludes",
    "help",
    "format",
    "dot",
    "which",
    "group",
    "type",
    "alice",
    "bob",
    "Auditors",
    "prod-db",
    "DBA-Team",
    "Ops",
    "id:u-alice",
    "nested_groups/grp-audit-2",
    "admin",
    "read",
    "0",
    "3",
    "99999999999999999999",
    "=",
    "<=",
    "!",
    "!=",
    "{",
    "}",
    ",",
    ";",
    "\n",
    "\\\n",
    "#",
    "\"",
    "\"a b\"",
    "'x'",
    "é",
    "aaé",
    "",
    "l",
    "Level-",
    "\u{0}",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn no_statement_makes_the_engine_panic(
        pieces in proptest::collection::vec(0..PIECES.len(), 0..12),
        glue in proptest::collection::vec(prop_oneof![Just(" "), Just(""), Just("  ")], 12),
    ) {
        let text: String = pieces
            .iter()
            .zip(&glue)
            .flat_map(|(&p, &g)| [PIECES[p], g])
            .collect();
        let rows = std::fs::read_to_string(
            concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/nested_groups.csv"),
        )
        .unwrap();
        let mut importer = Importer::new();
        importer
            .import_reader("n.csv".as_ref(), rows.as_bytes(), &FileOptions::default())
            .unwrap();
        let graph = AccessGraph::new(importer.finish().0);
        let engine = Engine::new(&graph);
        if let Ok(statements) = whocan::query::parse::parse_script(&text) {
            use whocan::query::ast::{OutputFormat, Statement};
            // Straight to the engine: `repl::execute` would catch a panic.
            for st in &statements {
                match &st.statement {
                    Statement::Ask(ask) => match engine.eval(ask) {
                        Ok(ev) => {
                            for f in OutputFormat::ALL {
                                let _ = ev.answer.write(f, &mut Vec::new(), &mut Vec::new());
                            }
                        }
                        Err(e) => drop(e.render("fuzz", &text)),
                    },
                    Statement::Expect(x) => {
                        if let Err(e) = engine.check(x) {
                            drop(e.render("fuzz", &text));
                        }
                    }
                    _ => {}
                }
            }
        }
    }
}
