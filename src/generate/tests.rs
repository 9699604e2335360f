//! The generator's tests: determinism, the exact header, validity of every
//! row, nesting and cycles, variety, scales and the grant calibration.

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
