//! Issue 17, part 3: `whocan export --to opengraph` against the OpenGraph
//! ingest schema, twice: by a real JSON Schema validator (Python
//! `jsonschema`, pinned, from `.ci/setup-duckdb`) running
//! `docs/opengraph.schema.json` over the fixtures' export and a generated
//! organisation's, after seeing it reject documents broken one rule at a
//! time; and by hand, for the rules a JSON Schema cannot state (unique ids,
//! endpoints naming existing nodes, prefixed kinds, lowercase property
//! names) and against the model: every entity a node, every granted edge an
//! edge, no false edge. A machine where the validator cannot run fails this
//! test; it never skips.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

mod setup;

use serde_json::{Value, json};
use whocan::import::inputs::{Inputs, Quiet, load};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

const FIXTURES: &[&str] = &[
    "fixtures/reference_example.csv",
    "fixtures/nested_groups.csv",
    "fixtures/cyclic_groups.csv",
    "fixtures/conflicts.csv",
    "fixtures/express_mode.csv",
    "fixtures/entities_only.csv",
    "fixtures/hostile_names.csv",
    "fixtures/bom_crlf_quoted.csv",
    "fixtures/people/okta.csv",
    "fixtures/people/github.csv",
];

/// Runs `whocan ARGS` from the crate root; panics unless it exits 0.
fn whocan(args: &[&str]) {
    let run = Command::new(env!("CARGO_BIN_EXE_whocan"))
        .args(args)
        .current_dir(root())
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "whocan {args:?}: {}",
        String::from_utf8_lossy(&run.stderr)
    );
}

/// The export of `files`, as bytes.
fn export(files: &[&str]) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("graph.json");
    let mut args = vec!["export"];
    args.extend_from_slice(files);
    args.extend(["--to", "opengraph", "-o", out.to_str().unwrap()]);
    whocan(&args);
    std::fs::read(out).unwrap()
}

/// Checks the schema against its metaschema (Draft 2020-12), then prints one
/// JSON line per document: every error as `[path, message]`, the path as
/// JSON Pointer segments joined by `/`.
const VALIDATE: &str = r#"
import json, sys
from jsonschema import Draft202012Validator
with open(sys.argv[1], encoding="utf-8") as f:
    schema = json.load(f)
Draft202012Validator.check_schema(schema)
validator = Draft202012Validator(schema)
for path in sys.argv[2:]:
    with open(path, encoding="utf-8") as f:
        document = json.load(f)
    errors = [["/".join(str(p) for p in e.absolute_path), e.message] for e in validator.iter_errors(document)]
    print(json.dumps(sorted(errors)))
"#;

/// The JSON Schema validator's errors for each document, in one Python
/// process: `(path, message)` pairs, none for a valid document.
fn validate(python: &Path, documents: &[PathBuf]) -> Vec<Vec<(String, String)>> {
    let schema = root().join("docs/opengraph.schema.json");
    let args = std::iter::once(schema.as_path()).chain(documents.iter().map(PathBuf::as_path));
    let text = setup::python(python, VALIDATE, args, "the validator");
    let results: Vec<Vec<(String, String)>> = text
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON line of errors"))
        .collect();
    assert_eq!(results.len(), documents.len(), "one line per document");
    results
}

/// One way to break a valid export, and the path (JSON Pointer segments)
/// the validator must name.
type Breakage = (&'static str, fn(&mut Value), &'static str);

/// Every rule of the schema broken once, on the fixtures' export.
const BREAKAGES: &[Breakage] = &[
    (
        "an object property value",
        |d| d["graph"]["nodes"][0]["properties"]["name"] = json!({"first": "Ada"}),
        "graph/nodes/0/properties/name",
    ),
    (
        "a null property value",
        |d| d["graph"]["nodes"][0]["properties"]["email"] = Value::Null,
        "graph/nodes/0/properties/email",
    ),
    (
        "a mixed array",
        |d| d["graph"]["nodes"][1]["properties"]["tags"] = json!(["a", 1]),
        "graph/nodes/1/properties/tags",
    ),
    (
        "an array of arrays",
        |d| d["graph"]["nodes"][1]["properties"]["tags"] = json!([["a"]]),
        "graph/nodes/1/properties/tags",
    ),
    (
        "the reserved objectid",
        |d| d["graph"]["nodes"][2]["properties"]["objectid"] = json!("x"),
        "graph/nodes/2/properties",
    ),
    (
        "properties a list",
        |d| d["graph"]["nodes"][2]["properties"] = json!(["name"]),
        "graph/nodes/2/properties",
    ),
    (
        "a numeric id",
        |d| d["graph"]["nodes"][3]["id"] = json!(7),
        "graph/nodes/3/id",
    ),
    (
        "no kinds",
        |d| d["graph"]["nodes"][3]["kinds"] = json!([]),
        "graph/nodes/3/kinds",
    ),
    (
        "four kinds",
        |d| d["graph"]["nodes"][3]["kinds"] = json!(["A", "B", "C", "D"]),
        "graph/nodes/3/kinds",
    ),
    (
        "a node without kinds",
        |d| {
            d["graph"]["nodes"][4]
                .as_object_mut()
                .unwrap()
                .remove("kinds");
        },
        "graph/nodes/4",
    ),
    (
        "an edge kind with a colon",
        |d| d["graph"]["edges"][0]["kind"] = json!("s3:GetObject"),
        "graph/edges/0/kind",
    ),
    (
        "an edge kind with a dash",
        |d| d["graph"]["edges"][0]["kind"] = json!("read-write"),
        "graph/edges/0/kind",
    ),
    (
        "an edge without properties",
        |d| {
            d["graph"]["edges"][1]
                .as_object_mut()
                .unwrap()
                .remove("properties");
        },
        "graph/edges/1",
    ),
    (
        "an unknown match_by",
        |d| d["graph"]["edges"][2]["start"]["match_by"] = json!("email"),
        "graph/edges/2/start/match_by",
    ),
    (
        "an endpoint without value",
        |d| {
            d["graph"]["edges"][2]["end"]
                .as_object_mut()
                .unwrap()
                .remove("value");
        },
        "graph/edges/2/end",
    ),
    (
        "match_by property with a value",
        |d| d["graph"]["edges"][3]["start"]["match_by"] = json!("property"),
        "graph/edges/3/start",
    ),
    (
        "a metadata key beyond source_kind",
        |d| d["metadata"]["source"] = json!("whocan"),
        "metadata",
    ),
    (
        "no graph",
        |d| {
            d.as_object_mut().unwrap().remove("graph");
        },
        "",
    ),
    (
        "nodes an object",
        |d| d["graph"]["nodes"] = json!({}),
        "graph/nodes",
    ),
];

/// `^[A-Za-z0-9_]+$`: edge kinds (schema `pattern`), and what whocan keeps
/// node kinds and `source_kind` to.
fn word(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// A property map: an object (or null) whose values are strings, numbers,
/// booleans or homogeneous arrays of one of those (no null, no object, no
/// nested array), without the reserved key `objectid`; names lowercase.
#[track_caller]
fn check_properties(what: &str, properties: &Value) {
    let Some(map) = properties.as_object() else {
        assert!(properties.is_null(), "{what}: properties is not an object");
        return;
    };
    assert!(!map.contains_key("objectid"), "{what}: reserved objectid");
    for (key, value) in map {
        assert!(
            !key.is_empty()
                && key
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
            "{what}: property name {key:?} is not lowercase"
        );
        let primitive = |v: &Value| match v {
            Value::String(_) => Some(0),
            Value::Number(_) => Some(1),
            Value::Bool(_) => Some(2),
            _ => None,
        };
        match value {
            Value::Array(items) => {
                let types: BTreeSet<Option<u8>> = items.iter().map(primitive).collect();
                assert!(
                    types.len() <= 1 && !types.contains(&None),
                    "{what}: {key} is not a homogeneous array of primitives"
                );
            }
            v => assert!(
                primitive(v).is_some(),
                "{what}: {key} = {v} is not primitive"
            ),
        }
    }
}

/// An edge endpoint: `{match_by: "id", value}` naming an existing node.
#[track_caller]
fn check_endpoint(what: &str, endpoint: &Value, ids: &BTreeSet<String>) -> String {
    let map = endpoint.as_object().expect("an endpoint is an object");
    let keys: BTreeSet<&str> = map.keys().map(String::as_str).collect();
    assert_eq!(keys, BTreeSet::from(["match_by", "value"]), "{what}");
    assert_eq!(map["match_by"], "id", "{what}: match_by");
    let value = map["value"].as_str().expect("value is a string");
    assert!(ids.contains(value), "{what}: no node has id {value:?}");
    value.to_owned()
}

#[test]
fn issue_17_opengraph_export_meets_every_schema_constraint() {
    let bytes = export(FIXTURES);
    let doc: Value = serde_json::from_slice(&bytes).expect("the export is one JSON document");
    let top = doc.as_object().expect("the document is an object");
    let keys: BTreeSet<&str> = top.keys().map(String::as_str).collect();
    assert_eq!(keys, BTreeSet::from(["graph", "metadata"]));
    // metadata: an object with source_kind only (additionalProperties false).
    let metadata = top["metadata"].as_object().unwrap();
    assert_eq!(metadata.len(), 1);
    let source_kind = metadata["source_kind"].as_str().unwrap();
    assert!(word(source_kind));
    let graph = top["graph"].as_object().unwrap();
    let keys: BTreeSet<&str> = graph.keys().map(String::as_str).collect();
    assert_eq!(keys, BTreeSet::from(["edges", "nodes"]));
    let nodes = graph["nodes"].as_array().unwrap();
    let edges = graph["edges"].as_array().unwrap();

    // Nodes: id (a string, unique), kinds (1 to 3 strings; BloodHound adds
    // source_kind to them, so 2 at most here), properties.
    let mut ids = BTreeSet::new();
    for node in nodes {
        let map = node.as_object().expect("a node is an object");
        let keys: BTreeSet<&str> = map.keys().map(String::as_str).collect();
        assert_eq!(keys, BTreeSet::from(["id", "kinds", "properties"]));
        let id = map["id"].as_str().expect("id is a string");
        assert!(!id.is_empty());
        assert!(ids.insert(id.to_owned()), "node id {id:?} twice");
        let kinds = map["kinds"].as_array().expect("kinds is an array");
        assert!(
            !kinds.is_empty() && kinds.len() < 3,
            "{id}: {} kinds",
            kinds.len()
        );
        for kind in kinds {
            let kind = kind.as_str().expect("a kind is a string");
            // Prefixed: never one of BloodHound's built-in kinds.
            assert!(
                word(kind) && kind.starts_with("Whocan_"),
                "{id}: kind {kind:?}"
            );
        }
        check_properties(id, &map["properties"]);
    }

    // Edges: start, end, kind (pattern ^[A-Za-z0-9_]+$), properties.
    let mut exported = BTreeMap::new();
    for (i, edge) in edges.iter().enumerate() {
        let what = format!("edge {i}");
        let map = edge.as_object().expect("an edge is an object");
        let keys: BTreeSet<&str> = map.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            BTreeSet::from(["end", "kind", "properties", "start"]),
            "{what}"
        );
        let start = check_endpoint(&what, &map["start"], &ids);
        let end = check_endpoint(&what, &map["end"], &ids);
        let kind = map["kind"].as_str().expect("kind is a string");
        assert!(word(kind), "{what}: kind {kind:?}");
        check_properties(&what, &map["properties"]);
        let permission = map["properties"]["permission"].as_str().unwrap();
        assert_eq!(kind, whocan::export::opengraph::sanitise_kind(permission));
        assert_eq!(map["properties"]["granted"], true);
        *exported
            .entry((start, end, permission.to_owned()))
            .or_insert(0) += 1;
    }

    // Against the model: one node per entity, one edge per granted edge.
    std::env::set_current_dir(root()).unwrap();
    let model = load(
        &Inputs {
            files: FIXTURES.iter().map(PathBuf::from).collect(),
            source: None,
            mapping: None,
            people_map: Vec::new(),
            no_auto_map: false,
        },
        &Quiet,
    )
    .model;
    assert_eq!(nodes.len(), model.entities.len());
    let node_id = |e: u32| {
        let e = model.entity(e);
        whocan::export::opengraph::node_id(model.str(e.source), model.str(e.id))
    };
    let mut granted = BTreeMap::new();
    for edge in model.edges.iter().filter(|e| e.granted) {
        let key = (
            node_id(edge.from),
            node_id(edge.to),
            model.str(edge.permission).to_owned(),
        );
        *granted.entry(key).or_insert(0) += 1;
    }
    assert!(
        model.edges.iter().any(|e| !e.granted),
        "a false edge to omit"
    );
    assert_eq!(exported, granted, "every granted edge once, no false edge");
    // Kinds really needed sanitising somewhere in the fixtures.
    assert!(
        edges
            .iter()
            .any(|e| e["kind"] != e["properties"]["permission"]),
        "some permission needed sanitising"
    );

    // Stable: the same input gives the same bytes.
    assert_eq!(bytes, export(FIXTURES));
}

#[test]
fn issue_17_opengraph_export_passes_a_json_schema_validator() {
    let python = setup::tool("setup-duckdb", "the jsonschema validator");
    let dir = tempfile::tempdir().unwrap();
    let fixtures = dir.path().join("fixtures.json");
    std::fs::write(&fixtures, export(FIXTURES)).unwrap();
    let org = dir.path().join("org.csv");
    whocan(&["generate", "--scale", "small", "-o", org.to_str().unwrap()]);
    let generated = dir.path().join("generated.json");
    whocan(&[
        "export",
        org.to_str().unwrap(),
        "--to",
        "opengraph",
        "-o",
        generated.to_str().unwrap(),
    ]);

    // The validator is seen to reject each rule broken, before its verdict
    // on the real exports counts.
    let valid: Value = serde_json::from_slice(&std::fs::read(&fixtures).unwrap()).unwrap();
    let mut documents = vec![fixtures.clone(), generated.clone()];
    for (i, (_, breakage, _)) in BREAKAGES.iter().enumerate() {
        let mut broken = valid.clone();
        breakage(&mut broken);
        let path = dir.path().join(format!("broken-{i}.json"));
        std::fs::write(&path, serde_json::to_vec(&broken).unwrap()).unwrap();
        documents.push(path);
    }
    let results = validate(&python, &documents);
    for ((what, _, at), errors) in BREAKAGES.iter().zip(&results[2..]) {
        assert!(
            errors.iter().any(|(path, _)| path == at),
            "{what}: the validator does not reject /{at}; its errors: {errors:?}"
        );
    }
    assert_eq!(results[0], [], "the fixtures' export");
    assert_eq!(results[1], [], "a generated organisation's export");
    let generated: Value = serde_json::from_slice(&std::fs::read(&generated).unwrap()).unwrap();
    assert!(
        generated["graph"]["edges"].as_array().unwrap().len() > 1000,
        "the generated organisation is not trivially small"
    );
}
