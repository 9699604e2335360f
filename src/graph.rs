//! [`AccessGraph`]: the imported [`Model`] and the one index over it.
//!
//! Every reader of the graph — the expansion, the query engine, people and
//! findings — reads the same index, built once per loaded model and part by
//! part on first use, so a report pays only for what it reads:
//!
//! - [`Order`]: entity ranks (report order: id, then source, bytewise) and
//!   the permission table (distinct permissions in byte order);
//! - granted out-edges as `(target, permission)` pairs, compressed (the
//!   expansion's hot loop);
//! - in- and out-adjacency over edge indexes, granted or not, each list in
//!   input order (queries, paths, evidence);
//! - [`Keys`], the `(source, id) → entity` map.
//!
//! The index is a pure function of the model and never stored (a snapshot
//! holds the model). petgraph is used for one algorithm, the connection
//! components, and its types do not leave this module.

use std::sync::OnceLock;

use petgraph::graph::{DiGraph, NodeIndex};
use rayon::prelude::*;
use rustc_hash::FxHashMap;

use crate::model::{Edge, EdgeIdx, EntityIdx, Kind, Model, Sym};

/// "No rank": a string no edge uses as a permission.
const NONE: u32 = u32::MAX;

/// The model plus its index, each part built on first use.
pub struct AccessGraph {
    model: Model,
    order: OnceLock<Order>,
    granted: OnceLock<Csr<(EntityIdx, Sym)>>,
    out: OnceLock<Csr<EdgeIdx>>,
    into: OnceLock<Csr<EdgeIdx>>,
    keys: OnceLock<Keys>,
}

/// Compressed rows: row `e` is `items[start[e]..start[e + 1]]`.
struct Csr<T> {
    start: Vec<u32>,
    items: Vec<T>,
}

impl<T: Copy + Default> Csr<T> {
    /// Rows for `n` entities from `(row, item)` pairs; each row keeps the
    /// pairs' order.
    fn build(n: usize, pairs: impl Iterator<Item = (usize, T)> + Clone) -> Csr<T> {
        let mut start = vec![0u32; n + 1];
        for (row, _) in pairs.clone() {
            start[row + 1] += 1;
        }
        for i in 0..n {
            start[i + 1] += start[i];
        }
        let mut fill = start.clone();
        let mut items = vec![T::default(); start[n] as usize];
        for (row, item) in pairs {
            items[fill[row] as usize] = item;
            fill[row] += 1;
        }
        Csr { start, items }
    }

    fn row(&self, e: EntityIdx) -> &[T] {
        let e = e as usize;
        &self.items[self.start[e] as usize..self.start[e + 1] as usize]
    }
}

/// Report order: entity ranks and the permission table.
pub struct Order {
    /// Entity → position in (id, source) order.
    rank: Vec<u32>,
    /// Position → entity.
    by_rank: Vec<EntityIdx>,
    /// Interned string → position among permissions (`u32::MAX` if no edge
    /// uses it as one).
    perm_rank: Vec<u32>,
    /// Distinct permissions of every edge, granted or not, in byte order.
    permissions: Vec<Sym>,
}

/// The first 16 bytes of `s`, zero-padded, as a big-endian integer: where two
/// of these differ they order like the strings themselves.
fn id_prefix(s: &str) -> u128 {
    let mut bytes = [0u8; 16];
    let n = s.len().min(16);
    bytes[..n].copy_from_slice(&s.as_bytes()[..n]);
    u128::from_be_bytes(bytes)
}

impl Order {
    /// O(entities log entities + edges).
    fn new(model: &Model) -> Order {
        let n = model.entities.len();
        // The first 16 bytes of the id, big-endian and zero-padded, order
        // like the id itself wherever they differ, so most comparisons are
        // one integer comparison instead of two string lookups.
        let mut keyed: Vec<(u128, EntityIdx)> = (0..n as EntityIdx)
            .into_par_iter()
            .map(|e| (id_prefix(model.str(model.entity(e).id)), e))
            .collect();
        keyed.par_sort_unstable_by(|&(pa, a), &(pb, b)| {
            pa.cmp(&pb).then_with(|| {
                let (ea, eb) = (model.entity(a), model.entity(b));
                model
                    .str(ea.id)
                    .cmp(model.str(eb.id))
                    .then_with(|| model.str(ea.source).cmp(model.str(eb.source)))
            })
        });
        let by_rank: Vec<EntityIdx> = keyed.into_iter().map(|(_, e)| e).collect();
        let mut rank = vec![0u32; n];
        for (r, &e) in by_rank.iter().enumerate() {
            rank[e as usize] = r as u32;
        }

        // Distinct permissions first (cheap integer sort), then by bytes.
        let mut permissions: Vec<Sym> = model.edges.iter().map(|e| e.permission).collect();
        permissions.par_sort_unstable();
        permissions.dedup();
        permissions.sort_unstable_by(|&a, &b| model.str(a).cmp(model.str(b)));
        let mut perm_rank = vec![NONE; model.strings.len()];
        for (r, p) in permissions.iter().enumerate() {
            perm_rank[p.0 as usize] = r as u32;
        }
        Order {
            rank,
            by_rank,
            perm_rank,
            permissions,
        }
    }

    /// Entity → its position in report order, for every entity.
    pub fn ranks(&self) -> &[u32] {
        &self.rank
    }

    /// Every entity in report order (by id, then source, bytewise).
    pub fn by_rank(&self) -> &[EntityIdx] {
        &self.by_rank
    }

    /// Interned string → its position in [`Order::permissions`], indexed by
    /// symbol; `u32::MAX` for a string no edge uses as a permission.
    pub fn permission_ranks(&self) -> &[u32] {
        &self.perm_rank
    }

    /// Every permission on a granted or false edge, in byte order: a
    /// permission's position here is its rank.
    pub fn permissions(&self) -> &[Sym] {
        &self.permissions
    }

    /// The position of `permission` in [`Order::permissions`]; `None` for a
    /// string no edge uses as a permission.
    pub fn permission_rank(&self, permission: Sym) -> Option<u32> {
        let r = *self.perm_rank.get(permission.0 as usize)?;
        (r != NONE).then_some(r)
    }
}

/// The `(source, id) → entity` map: the one key index over a loaded model
/// (the importer's own, `import::keys`, exists only while rows are merged).
pub struct Keys(FxHashMap<(Sym, Sym), EntityIdx>);

impl Keys {
    /// Indexes every entity of `model` by its interned `(source, id)`.
    pub fn new(model: &Model) -> Keys {
        let mut keys = FxHashMap::default();
        keys.reserve(model.entities.len());
        for (i, e) in model.entities.iter().enumerate() {
            keys.insert((e.source, e.id), i as EntityIdx);
        }
        Keys(keys)
    }

    /// The entity with interned `(source, id)`.
    pub fn get(&self, source: Sym, id: Sym) -> Option<EntityIdx> {
        self.0.get(&(source, id)).copied()
    }

    /// The entity with `(source, id)` in `model` (the model this was built
    /// from).
    pub fn find(&self, model: &Model, source: &str, id: &str) -> Option<EntityIdx> {
        self.get(model.strings.get(source)?, model.strings.get(id)?)
    }
}

impl AccessGraph {
    /// Takes a model; its index is built as it is read.
    pub fn new(model: Model) -> AccessGraph {
        AccessGraph {
            model,
            order: OnceLock::new(),
            granted: OnceLock::new(),
            out: OnceLock::new(),
            into: OnceLock::new(),
            keys: OnceLock::new(),
        }
    }

    /// The underlying model.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// Gives the model back.
    pub fn into_model(self) -> Model {
        self.model
    }

    /// Entity ranks and the permission table.
    pub fn order(&self) -> &Order {
        self.order.get_or_init(|| Order::new(&self.model))
    }

    /// The `(source, id)` key map.
    pub fn keys(&self) -> &Keys {
        self.keys.get_or_init(|| Keys::new(&self.model))
    }

    /// Looks an entity up by `(source, id)`.
    pub fn find(&self, source: &str, id: &str) -> Option<EntityIdx> {
        self.keys().find(&self.model, source, id)
    }

    /// Granted out-edges of an entity as `(target, permission)`, in input
    /// order.
    pub fn granted_edges(&self, entity: EntityIdx) -> &[(EntityIdx, Sym)] {
        self.granted
            .get_or_init(|| {
                let granted = self.model.edges.iter().filter(|e| e.granted);
                Csr::build(
                    self.model.entities.len(),
                    granted.map(|e| (e.from as usize, (e.to, e.permission))),
                )
            })
            .row(entity)
    }

    /// Indexes of every edge leaving `entity`, granted or not, in input
    /// order.
    pub fn out_edges(&self, entity: EntityIdx) -> &[EdgeIdx] {
        self.out
            .get_or_init(|| self.adjacency(|e| e.from))
            .row(entity)
    }

    /// Indexes of every edge entering `entity`, granted or not, in input
    /// order.
    pub fn in_edges(&self, entity: EntityIdx) -> &[EdgeIdx] {
        self.into
            .get_or_init(|| self.adjacency(|e| e.to))
            .row(entity)
    }

    fn adjacency(&self, end: impl Fn(&Edge) -> EntityIdx) -> Csr<EdgeIdx> {
        let edges = self.model.edges.iter().enumerate();
        Csr::build(
            self.model.entities.len(),
            edges.map(|(i, e)| (end(e) as usize, i as EdgeIdx)),
        )
    }

    /// Every edge leaving `entity`, granted or not, in input order.
    pub fn edges_from(&self, entity: EntityIdx) -> impl Iterator<Item = (EdgeIdx, &Edge)> {
        let edges = &self.model.edges;
        self.out_edges(entity)
            .iter()
            .map(move |&i| (i, &edges[i as usize]))
    }

    /// Every edge entering `entity`, granted or not, in input order.
    pub fn edges_into(&self, entity: EntityIdx) -> impl Iterator<Item = (EdgeIdx, &Edge)> {
        let edges = &self.model.edges;
        self.in_edges(entity)
            .iter()
            .map(move |&i| (i, &edges[i as usize]))
    }

    /// Strongly connected components of the connections joined by granted
    /// edges, each as its entity list; a component of one connection without
    /// a self-edge is not a cycle. Components come in reverse topological
    /// order (a component before every component that reaches it).
    pub fn connection_components(&self) -> Vec<Vec<EntityIdx>> {
        // Only connections can be in a component with another node, so the
        // search runs on the connections alone, numbered in entity order:
        // the components and their order are those of the search over the
        // whole graph, less the other entities' singletons.
        let entities = &self.model.entities;
        let connections: Vec<EntityIdx> = (0..entities.len() as EntityIdx)
            .filter(|&e| entities[e as usize].kind == Kind::Connection)
            .collect();
        let mut dense = vec![u32::MAX; entities.len()];
        for (d, &e) in connections.iter().enumerate() {
            dense[e as usize] = d as u32;
        }
        let mut graph = DiGraph::<(), (), u32>::with_capacity(connections.len(), 0);
        for _ in &connections {
            graph.add_node(());
        }
        for edge in self.model.edges.iter().filter(|e| e.granted) {
            let (from, to) = (dense[edge.from as usize], dense[edge.to as usize]);
            if from != u32::MAX && to != u32::MAX {
                graph.add_edge(
                    NodeIndex::new(from as usize),
                    NodeIndex::new(to as usize),
                    (),
                );
            }
        }
        // kosaraju_scc is iterative; petgraph's tarjan_scc recurses and would
        // overflow the stack on deep nesting.
        petgraph::algo::kosaraju_scc(&graph)
            .into_iter()
            .map(|c| c.into_iter().map(|n| connections[n.index()]).collect())
            .collect()
    }

    /// Nesting cycles: components of more than one connection, or one
    /// connection granting itself. Each cycle's members are sorted.
    pub fn cycles(&self) -> Vec<Vec<EntityIdx>> {
        let mut cycles: Vec<Vec<EntityIdx>> = self
            .connection_components()
            .into_iter()
            .filter(|c| c.len() > 1 || self.granted_edges(c[0]).iter().any(|&(to, _)| to == c[0]))
            .map(|mut c| {
                c.sort_unstable();
                c
            })
            .collect();
        cycles.sort();
        cycles
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::{FileOptions, Importer};

    const HEADER: &str = "Entity Source ID,Entity Type,Entity Name,\
        Entity - Has Access To Source ID,Entity - Has Access To Entity Type,\
        Entity - Has Access To Name,Entity - Has Access To Permission Name,\
        Entity - Has Access To Permission Value,Entity Source Type,\
        Entity - Has Access To Source Type\n";

    fn graph(rows: &str) -> AccessGraph {
        let mut importer = Importer::new();
        importer
            .import_reader(
                "s.csv".as_ref(),
                rows.lines()
                    .fold(HEADER.to_string(), |csv, row| csv + row + ",app,app\n")
                    .as_bytes(),
                &FileOptions::default(),
            )
            .unwrap();
        AccessGraph::new(importer.finish().0)
    }

    #[test]
    fn adjacency_lists_every_edge_in_input_order_granted_or_not() {
        let g = graph(
            "u,identity,U,g,connection,G,,\n\
             u,identity,U,r,resource,R,read,false\n\
             g,connection,G,r,resource,R,write,\n\
             u,identity,U,r,resource,R,admin,\n",
        );
        let m = g.model();
        let u = g.find("s", "u").unwrap();
        let r = g.find("s", "r").unwrap();
        let out: Vec<&str> = g.edges_from(u).map(|(_, e)| m.str(e.permission)).collect();
        assert_eq!(out, ["member", "read", "admin"]);
        let into: Vec<&str> = g.edges_into(r).map(|(_, e)| m.str(e.permission)).collect();
        assert_eq!(into, ["read", "write", "admin"]);
        // Granted edges skip the false one.
        let granted: Vec<&str> = g.granted_edges(u).iter().map(|&(_, p)| m.str(p)).collect();
        assert_eq!(granted, ["member", "admin"]);
        assert_eq!(g.find("s", "nobody"), None);
    }

    #[test]
    fn order_ranks_by_id_then_source_and_permissions_bytewise() {
        let g = graph(
            "b,identity,B,a,resource,A,write,\n\
             a0123456789abcdef1,identity,X,a,resource,A,Read,\n\
             a0123456789abcdef0,identity,Y,a,resource,A,admin,false\n",
        );
        let m = g.model();
        let order = g.order();
        let ids: Vec<&str> = order
            .by_rank()
            .iter()
            .map(|&e| m.str(m.entity(e).id))
            .collect();
        // Ids sharing a 16-byte prefix still order by their full bytes.
        assert_eq!(ids, ["a", "a0123456789abcdef0", "a0123456789abcdef1", "b"]);
        for (r, &e) in order.by_rank().iter().enumerate() {
            assert_eq!(order.ranks()[e as usize], r as u32);
        }
        let perms: Vec<&str> = order.permissions().iter().map(|&p| m.str(p)).collect();
        assert_eq!(perms, ["Read", "admin", "write"]);
        let admin = m.strings.get("admin").unwrap();
        assert_eq!(order.permission_rank(admin), Some(1));
        assert_eq!(order.permission_rank(m.strings.get("b").unwrap()), None);
    }
}
