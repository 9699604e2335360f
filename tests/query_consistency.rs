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

// ---- issue 13.2 / 14.3 / 14.8: answers that tell the truth ----

/// An organisation from `(from, from kind, to, to kind, permission, value)`
/// rows, each entity's id doubling as its name, all in source `t`.
fn graph_from_rows<'a>(
    rows: impl IntoIterator<Item = (String, &'a str, String, &'a str, &'a str, &'a str)>,
) -> AccessGraph {
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
    for (f, fk, t, tk, p, v) in rows {
        w.write_record([&f, fk, "thing", &f, &t, &t, p, v, tk, "thing"])
            .unwrap();
    }
    let bytes = w.into_inner().unwrap();
    let mut importer = Importer::new();
    importer
        .import_reader("t.csv".as_ref(), &bytes[..], &FileOptions::default())
        .unwrap();
    let (model, report) = importer.finish();
    assert_eq!(report.rows_rejected(), 0);
    AccessGraph::new(model)
}

/// Evaluates one statement's query; the error rendered as text.
fn ask(engine: &Engine, text: &str) -> Result<whocan::query::Evaluated, String> {
    use whocan::query::ast::Statement;
    match whocan::query::parse::parse_statement(text)
        .unwrap()
        .statement
    {
        Statement::Ask(a) => engine.eval(&a).map_err(|e| e.message()),
        other => panic!("not a query: {other:?}"),
    }
}

/// The answer as a person reads it (table format, notes included).
fn shown(ev: &whocan::query::Evaluated) -> String {
    let mut out = Vec::new();
    ev.answer
        .write(
            whocan::query::ast::OutputFormat::Table,
            &mut out,
            &mut Vec::new(),
        )
        .unwrap()
        .unwrap();
    String::from_utf8(out).unwrap()
}

/// `alice -> B`, B into a clique of `k` connections that each lead back to
/// B, and `B -[read]-> X` declared last: every clique node reaches X (via
/// B), but no simple path from alice through the clique does.
fn dead_end_clique(k: usize, grant: &'static str) -> AccessGraph {
    let c = |i: usize| format!("K{i}");
    let mut rows = vec![(
        "alice".to_string(),
        "identity",
        "B".to_string(),
        "connection",
        "member",
        "",
    )];
    for i in 0..k {
        rows.push(("B".into(), "connection", c(i), "connection", "member", ""));
    }
    for i in 0..k {
        for j in 0..k {
            if i != j {
                rows.push((c(i), "connection", c(j), "connection", "member", ""));
            }
        }
        rows.push((c(i), "connection", "B".into(), "connection", "member", ""));
    }
    rows.push((
        "B".into(),
        "connection",
        "X".into(),
        "resource",
        "read",
        grant,
    ));
    graph_from_rows(rows)
}

#[test]
fn issue_13_dead_end_clique_does_not_hide_the_granting_path() {
    let graph = dead_end_clique(10, "");
    let engine = Engine::new(&graph);
    let who = ask(&engine, "who can reach X").unwrap();
    assert_eq!(who.count, 1, "alice reaches X");
    let why = ask(&engine, "why alice X").unwrap();
    let text = shown(&why);
    assert!(why.count >= 1, "{text}");
    // The search for more paths ran out of steps in the clique: said.
    assert!(
        text.starts_with("alice can reach X: at least 1 granting path"),
        "{text}"
    );
    assert!(text.contains("grants read via B"), "{text}");
    assert!(text.contains("search stopped after "), "{text}");
    let count = ask(&engine, "count why alice X").unwrap();
    assert_eq!(count.count, 1);
}

#[test]
fn issue_13_a_stopped_search_says_so_never_no_path() {
    // The same shape with a `false` edge into X: no grant, and the search
    // for the blocked path runs out of steps in the clique.
    let graph = dead_end_clique(10, "false");
    let engine = Engine::new(&graph);
    let why = ask(&engine, "why alice X").unwrap();
    let text = shown(&why);
    assert_eq!(why.count, 0, "{text}");
    assert!(!text.contains("no path"), "{text}");
    assert!(text.contains("search stopped after "), "{text}");
}

#[test]
fn issue_13_long_chain_and_cycle_find_the_granting_path() {
    // y -> C0 -> C1 -> … -> C(n-1) -> C0 (a cycle), C(n-1) -[read]-> X, and
    // each Ci -> R first (a resource: a dead end): walking the one path
    // takes more steps than the search budget.
    let n = 300_000;
    let c = |i: usize| format!("C{i}");
    let mut rows = vec![(
        "y".to_string(),
        "identity",
        c(0),
        "connection",
        "member",
        "",
    )];
    for i in 0..n {
        rows.push((c(i), "connection", "R".into(), "resource", "read", ""));
        rows.push((c(i), "connection", c((i + 1) % n), "connection", "", ""));
    }
    rows.push((c(n - 1), "connection", "X".into(), "resource", "read", ""));
    let graph = graph_from_rows(rows);
    let engine = Engine::new(&graph);
    let why = ask(&engine, "why y X limit 1").unwrap();
    assert_eq!(why.count, 1);
    let rows = &why.answer.table.rows;
    assert_eq!(rows.len(), n + 1, "the path has every step");
    assert_eq!(rows[n][4], serde_json::json!(c(n - 1)));
}

#[test]
fn issue_14_why_says_at_least_when_the_cap_cut_the_search() {
    // alice -> A0..A39 -> B0..B39 -> X: 1,600 granting paths, more than
    // `why` collects.
    let mut rows = Vec::new();
    for i in 0..40 {
        rows.push((
            "alice".to_string(),
            "identity",
            format!("A{i}"),
            "connection",
            "member",
            "",
        ));
        for j in 0..40 {
            rows.push((
                format!("A{i}"),
                "connection",
                format!("B{j}"),
                "connection",
                "member",
                "",
            ));
        }
    }
    for j in 0..40 {
        rows.push((
            format!("B{j}"),
            "connection",
            "X".into(),
            "resource",
            "read",
            "",
        ));
    }
    let graph = graph_from_rows(rows);
    let engine = Engine::new(&graph);
    let text = shown(&ask(&engine, "why alice X").unwrap());
    assert!(
        text.starts_with("alice can reach X: at least 1000 granting paths"),
        "{text}"
    );
    let count = ask(&engine, "count why alice X").unwrap();
    assert_eq!(count.count, 1000);
    let text = shown(&count);
    assert!(text.contains("at least 1000"), "{text}");
}

fn nested() -> AccessGraph {
    let rows = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/nested_groups.csv"
    ))
    .unwrap();
    let mut importer = Importer::new();
    importer
        .import_reader("n.csv".as_ref(), rows.as_bytes(), &FileOptions::default())
        .unwrap();
    AccessGraph::new(importer.finish().0)
}

#[test]
fn issue_14_empty_answers_name_the_filter_and_what_exists() {
    let graph = nested();
    let engine = Engine::new(&graph);
    let text = shown(&ask(&engine, "who can reach prod-db with page").unwrap());
    assert_eq!(
        text,
        "nobody has `page` on prod-db (db-prod); 3 identities reach it with admin, read, write\n"
    );
    let text = shown(&ask(&engine, "who can reach prod-db in project Data").unwrap());
    assert_eq!(
        text,
        "nobody in project `Data` reaches prod-db (db-prod); 3 identities reach it from project Platform\n"
    );
    let text = shown(&ask(&engine, "who can reach wiki direct").unwrap());
    assert_eq!(
        text,
        "nobody reaches wiki (res-wiki) directly; 1 identity reaches it through a connection\n"
    );
    let text = shown(&ask(&engine, "what can alice reach with page").unwrap());
    assert_eq!(
        text,
        "alice (u-alice) has no `page` on anything; reaches 7 targets with admin, member, write\n"
    );
    let text = shown(&ask(&engine, "what can carol reach of type logging").unwrap());
    assert_eq!(
        text,
        "carol (u-carol) reaches nothing of type `logging`; reaches 2 targets of type application, group\n"
    );
    // Nothing at all is still said plainly.
    let text = shown(&ask(&engine, "who can reach svc-deploy").unwrap());
    assert_eq!(text, "nobody can reach svc-deploy\n");
}

#[test]
fn issue_14_unknown_type_project_or_permission_gets_did_you_mean() {
    let graph = nested();
    let engine = Engine::new(&graph);
    assert_eq!(
        ask(&engine, "what can alice reach of type databse").unwrap_err(),
        "no entity is of type `databse`; did you mean `database`?"
    );
    assert_eq!(
        ask(&engine, "who can reach wiki in project Contractor").unwrap_err(),
        "no entity is in project `Contractor`; did you mean `Contractors`?"
    );
    assert_eq!(
        ask(&engine, "who can reach wiki with raed").unwrap_err(),
        "no edge carries permission `raed`; did you mean `read`?"
    );
}

#[test]
fn issue_14_ambiguity_by_id_suggests_source_id() {
    let two = "Entity Name,Entity Type,Entity Source Type,Entity Source ID\n\
               a,identity,user,u-1\n";
    let mut importer = Importer::new();
    for source in ["okta.csv", "github.csv"] {
        importer
            .import_reader(source.as_ref(), two.as_bytes(), &FileOptions::default())
            .unwrap();
    }
    let graph = AccessGraph::new(importer.finish().0);
    let engine = Engine::new(&graph);
    let err = ask(&engine, "show u-1").unwrap_err();
    assert!(
        err.starts_with("`u-1` is ambiguous: 2 entities match by id; name one by source/id:"),
        "{err}"
    );
    assert!(!err.contains("id:VALUE"), "{err}");
    // A clash by name can still be broken with id:VALUE.
    let err = ask(&engine, "show a").unwrap_err();
    assert!(err.contains("source/id or id:VALUE"), "{err}");
}

#[test]
fn issue_14_one_of_anything_is_singular() {
    let graph = graph_from_rows([(
        "G".to_string(),
        "connection",
        "G".to_string(),
        "connection",
        "member",
        "",
    )]);
    let engine = Engine::new(&graph);
    let text = shown(&ask(&engine, "cycles").unwrap());
    assert!(text.contains("1 connection: G"), "{text}");
    assert!(!text.contains("1 connections"), "{text}");
}

/// The granting paths `why` shows, as `(permission, provider id)`: the
/// permission of a path's last edge and the id of its holder ("" for a
/// direct grant).
fn granting_paths(ev: &whocan::query::Evaluated) -> BTreeSet<(String, String)> {
    let rows = &ev.answer.table.rows;
    let mut got = BTreeSet::new();
    let mut i = 0;
    while i < rows.len() {
        let mut j = i;
        while j + 1 < rows.len() && rows[j + 1][0] == rows[i][0] {
            j += 1;
        }
        let verdict = rows[i][1].as_str().unwrap();
        if verdict.starts_with("grants ") && !verdict.contains(", not ") {
            let provider = if j > i {
                rows[j][4].as_str().unwrap()
            } else {
                ""
            };
            got.insert((
                rows[j][5].as_str().unwrap().to_string(),
                provider.to_string(),
            ));
        }
        i = j + 1;
    }
    got
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    /// Issue 13.2: on generated organisations (nesting, second parents,
    /// cycles, false edges), every row of the access report has a granting
    /// path in `why` with the same permission and provider.
    #[test]
    fn issue_13_why_shows_every_report_row_on_generated_orgs(
        seed in any::<u64>(),
        identities in 4usize..30,
        groups in 2usize..12,
        depth in 1usize..6,
        cycles in 0usize..3,
    ) {
        let mut cfg = whocan::generate::GenerateConfig::scale("tiny").unwrap();
        cfg.seed = seed;
        cfg.identities = identities;
        cfg.groups = groups;
        cfg.nesting_depth = depth;
        cfg.cycles = cycles;
        cfg.extra_memberships = 2;
        let mut bytes = Vec::new();
        whocan::generate::generate(&cfg, &mut bytes).unwrap();
        let mut importer = Importer::new();
        importer
            .import_reader("gen.csv".as_ref(), &bytes[..], &FileOptions::default())
            .unwrap();
        let graph = AccessGraph::new(importer.finish().0);
        let engine = Engine::new(&graph);
        let m = graph.model();
        let x = engine.expansion();
        let mut rows = 0;
        for &y in x.identities() {
            let mut by_target: std::collections::BTreeMap<EntityIdx, BTreeSet<(String, String)>> =
                Default::default();
            for g in x.grants_of(y) {
                let provider = g.provider.map_or(String::new(), |p| m.str(m.entity(p).id).to_string());
                by_target
                    .entry(g.target)
                    .or_default()
                    .insert((m.str(g.permission).to_string(), provider));
            }
            for (t, want) in by_target {
                rows += want.len();
                let ev = engine
                    .eval(&Ask {
                        query: Query::Why {
                            not: false,
                            identity: reference(&engine, y),
                            target: reference(&engine, t),
                            permission: None,
                        },
                        count: false,
                        limit: Some(100_000),
                    })
                    .unwrap();
                let got = granting_paths(&ev);
                for w in &want {
                    prop_assert!(
                        got.contains(w),
                        "why {} {}: no granting path with {:?}; got {:?}",
                        m.str(m.entity(y).id),
                        m.str(m.entity(t).id),
                        w,
                        got
                    );
                }
            }
        }
        prop_assert!(rows > 0);
    }
}

#[test]
fn issue_13_did_you_mean_over_long_names_is_bounded() {
    // 100 entities with 60,000-character names and a misspelt reference to
    // one of them: comparing whole names is quadratic (minutes per query).
    let long = |i: usize| format!("n{i:03}{}", "x".repeat(60_000));
    let graph = graph_from_rows(
        (0..100).map(|i| (long(i), "identity", "R".to_string(), "resource", "read", "")),
    );
    let engine = Engine::new(&graph);
    let mut typo = long(42);
    typo.replace_range(30_000..30_001, "y");
    let err = ask(&engine, &format!("show {typo}")).unwrap_err();
    assert!(err.starts_with("no entity matches"), "{}", &err[..80]);
    let ev = ask(&engine, &format!("find {typo}")).unwrap();
    assert_eq!(ev.count, 0);
}
