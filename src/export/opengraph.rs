//! The BloodHound OpenGraph export: the model as one OpenGraph ingest
//! document (`metadata`, `graph.nodes[]`, `graph.edges[]`) for teams that
//! draw attack paths in BloodHound. docs/opengraph.md says what the
//! published schema requires and how whocan meets it.
//!
//! Identities, connections and resources are nodes; every *granted* edge is
//! an edge whose kind is its permission, sanitised to `[A-Za-z0-9_]` (the
//! original in the `permission` property). An edge whose Permission Value
//! is `false` records access that is *not* held: OpenGraph has no way to
//! mark an edge as not traversable, so such edges are left out (and
//! counted). The document is streamed node by node and edge by edge: memory
//! does not grow with the output.

use std::io::Write;

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

use super::ExportError;
use crate::model::{Entity, Kind, Model};

/// `metadata.source_kind`: the kind BloodHound adds to every node of the
/// file, so whocan's nodes can be told from other collectors'.
pub const SOURCE_KIND: &str = "Whocan";

/// What [`write()`] wrote.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Written {
    /// Nodes (one per entity).
    pub nodes: u64,
    /// Edges (one per granted edge).
    pub edges: u64,
    /// Edges left out because their Permission Value is `false`.
    pub false_edges: u64,
}

/// `s` with every character outside `[A-Za-z0-9_]` replaced by `_`
/// (`"read-write"` → `"read_write"`); `_` when `s` is empty, since a kind
/// must have at least one character.
pub fn sanitise_kind(s: &str) -> String {
    if s.is_empty() {
        return "_".into();
    }
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The node id of an entity: its source and its id, `:`-separated, with
/// `%` and `:` in the source percent-encoded so the first `:` always ends
/// the source. Unique (one per `(source, id)` key) and stable across runs.
pub fn node_id(source: &str, id: &str) -> String {
    let mut out = String::with_capacity(source.len() + id.len() + 1);
    for c in source.chars() {
        match c {
            '%' => out.push_str("%25"),
            ':' => out.push_str("%3A"),
            c => out.push(c),
        }
    }
    out.push(':');
    out.push_str(id);
    out
}

/// The kind of an entity's [`Kind`]: `Whocan_Identity`, `Whocan_Connection`
/// or `Whocan_Resource` (prefixed, so as not to overlap BloodHound's own
/// node kinds).
pub fn primary_kind(kind: Kind) -> &'static str {
    match kind {
        Kind::Identity => "Whocan_Identity",
        Kind::Connection => "Whocan_Connection",
        Kind::Resource => "Whocan_Resource",
    }
}

/// A node: id, kinds, properties (no null values: the schema takes
/// primitives only, so absent attributes are left out).
struct Node<'m> {
    model: &'m Model,
    entity: &'m Entity,
}

impl Serialize for Node<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (m, e) = (self.model, self.entity);
        let mut kinds = vec![primary_kind(e.kind).to_owned()];
        let source_type = m.str(e.source_type);
        if !source_type.is_empty() {
            let kind = format!("Whocan_{}", sanitise_kind(source_type));
            if kind != kinds[0] {
                kinds.push(kind);
            }
        }
        let mut node = s.serialize_map(Some(3))?;
        node.serialize_entry("id", &node_id(m.str(e.source), m.str(e.id)))?;
        node.serialize_entry("kinds", &kinds)?;
        node.serialize_entry("properties", &NodeProperties(m, e))?;
        node.end()
    }
}

struct NodeProperties<'m>(&'m Model, &'m Entity);

impl Serialize for NodeProperties<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (m, e) = (self.0, self.1);
        let mut map = s.serialize_map(None)?;
        let name = m.str(e.name);
        // BloodHound shows `name` on the graph; an entity without a name
        // shows its id.
        map.serialize_entry("name", if name.is_empty() { m.str(e.id) } else { name })?;
        map.serialize_entry("source", m.str(e.source))?;
        map.serialize_entry("entity_id", m.str(e.id))?;
        map.serialize_entry("kind", e.kind.as_str())?;
        if !e.source_type.is_empty() {
            map.serialize_entry("source_type", m.str(e.source_type))?;
        }
        if let Some(a) = &e.attributes {
            let texts = [
                ("project", a.project),
                ("username", a.username),
                ("email", a.email),
                ("status", a.status),
                ("first_name", a.first_name),
                ("last_name", a.last_name),
            ];
            for (key, sym) in texts {
                if !sym.is_empty() {
                    map.serialize_entry(key, m.str(sym))?;
                }
            }
            if let Some(mfa) = a.mfa {
                map.serialize_entry("mfa", &mfa)?;
            }
            let times = [
                ("last_login", a.last_login),
                ("password_changed", a.password_changed),
            ];
            for (key, t) in times {
                if let Some(t) = t {
                    map.serialize_entry(key, &crate::import::format_timestamp(t))?;
                }
            }
        }
        let file = m
            .sources
            .get(e.origin.file as usize)
            .map(|f| f.path.display().to_string())
            .unwrap_or_default();
        map.serialize_entry("file", &file)?;
        map.serialize_entry("line", &e.origin.line)?;
        map.end()
    }
}

/// One `{match_by: "id", value}` endpoint.
#[derive(Serialize)]
struct Endpoint {
    match_by: &'static str,
    value: String,
}

/// Writes the OpenGraph document of `model` to `out`, streamed: the
/// opening, each node, each granted edge, the closing.
pub fn write<W: Write>(model: &Model, mut out: W) -> Result<(W, Written), ExportError> {
    let mut written = Written::default();
    write!(
        out,
        "{{\n  \"metadata\": {{\"source_kind\": \"{SOURCE_KIND}\"}},\n  \"graph\": {{\n    \"nodes\": ["
    )?;
    for (i, entity) in model.entities.iter().enumerate() {
        out.write_all(if i == 0 { b"\n      " } else { b",\n      " })?;
        serde_json::to_writer(&mut out, &Node { model, entity }).map_err(std::io::Error::from)?;
        written.nodes += 1;
    }
    out.write_all(if written.nodes == 0 {
        b"],\n    \"edges\": ["
    } else {
        b"\n    ],\n    \"edges\": ["
    })?;
    for edge in &model.edges {
        if !edge.granted {
            written.false_edges += 1;
            continue;
        }
        let (from, to) = (model.entity(edge.from), model.entity(edge.to));
        let permission = model.str(edge.permission);
        let file = model
            .sources
            .get(edge.origin.file as usize)
            .map(|f| f.path.display().to_string())
            .unwrap_or_default();
        let value = serde_json::json!({
            "start": Endpoint { match_by: "id", value: node_id(model.str(from.source), model.str(from.id)) },
            "end": Endpoint { match_by: "id", value: node_id(model.str(to.source), model.str(to.id)) },
            "kind": sanitise_kind(permission),
            "properties": {
                "permission": permission,
                "granted": true,
                "file": file,
                "line": edge.origin.line,
                "rows": edge.rows,
            },
        });
        out.write_all(if written.edges == 0 {
            b"\n      "
        } else {
            b",\n      "
        })?;
        serde_json::to_writer(&mut out, &value).map_err(std::io::Error::from)?;
        written.edges += 1;
    }
    out.write_all(if written.edges == 0 {
        b"]\n  }\n}\n"
    } else {
        b"\n    ]\n  }\n}\n"
    })?;
    Ok((out, written))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_sanitised_to_word_characters() {
        assert_eq!(sanitise_kind("read-write"), "read_write");
        assert_eq!(sanitise_kind("s3:GetObject"), "s3_GetObject");
        assert_eq!(sanitise_kind("Ünïcode ok"), "_n_code_ok");
        assert_eq!(sanitise_kind(""), "_");
    }

    #[test]
    fn node_ids_keep_source_and_id_apart() {
        assert_eq!(node_id("okta", "u:1"), "okta:u:1");
        assert_eq!(node_id("a:b", "c"), "a%3Ab:c");
        assert_ne!(node_id("a:b", "c"), node_id("a", "b:c"));
        assert_eq!(node_id("50%", "x"), "50%25:x");
    }
}
