//! [`AccessGraph`]: the imported [`Model`] indexed as a directed graph.
//!
//! Node `i` is entity `i`, edge weights are indices into `Model::edges`, so
//! the graph is a pure index over the model and can be rebuilt from it (a
//! snapshot stores the model, never petgraph types). petgraph types do not
//! leave this module.

use petgraph::Direction;
use petgraph::graph::{DiGraph, NodeIndex};

use rustc_hash::FxHashMap;

use crate::model::{Edge, EdgeIdx, EntityIdx, Kind, Model, Sym};

/// The model plus a graph index and a key index.
pub struct AccessGraph {
    model: Model,
    graph: DiGraph<EntityIdx, EdgeIdx, u32>,
    keys: FxHashMap<(Sym, Sym), EntityIdx>,
}

impl AccessGraph {
    /// Indexes a model.
    pub fn new(model: Model) -> AccessGraph {
        let mut graph = DiGraph::with_capacity(model.entities.len(), model.edges.len());
        let mut keys = FxHashMap::default();
        keys.reserve(model.entities.len());
        for (i, e) in model.entities.iter().enumerate() {
            graph.add_node(i as EntityIdx);
            keys.insert((e.source, e.id), i as EntityIdx);
        }
        for (i, e) in model.edges.iter().enumerate() {
            graph.add_edge(
                NodeIndex::new(e.from as usize),
                NodeIndex::new(e.to as usize),
                i as EdgeIdx,
            );
        }
        AccessGraph { model, graph, keys }
    }

    /// The underlying model.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// Gives the model back.
    pub fn into_model(self) -> Model {
        self.model
    }

    /// Looks an entity up by `(source, id)`.
    pub fn find(&self, source: &str, id: &str) -> Option<EntityIdx> {
        let s = self.model.strings.get(source)?;
        let i = self.model.strings.get(id)?;
        self.keys.get(&(s, i)).copied()
    }

    /// Every edge leaving `entity`, granted or not, in input order.
    pub fn edges_from(&self, entity: EntityIdx) -> Vec<(EdgeIdx, &Edge)> {
        self.edges_dir(entity, Direction::Outgoing)
    }

    /// Every edge entering `entity`, granted or not, in input order.
    pub fn edges_into(&self, entity: EntityIdx) -> Vec<(EdgeIdx, &Edge)> {
        self.edges_dir(entity, Direction::Incoming)
    }

    fn edges_dir(&self, entity: EntityIdx, dir: Direction) -> Vec<(EdgeIdx, &Edge)> {
        let mut out: Vec<(EdgeIdx, &Edge)> = self
            .graph
            .edges_directed(NodeIndex::new(entity as usize), dir)
            .map(|e| (*e.weight(), &self.model.edges[*e.weight() as usize]))
            .collect();
        out.sort_unstable_by_key(|(i, _)| *i);
        out
    }

    /// Strongly connected components of the connections joined by granted
    /// edges, each as its entity list; a component of one connection without
    /// a self-edge is not a cycle. Components come in reverse topological
    /// order (a component before every component that reaches it).
    pub fn connection_components(&self) -> Vec<Vec<EntityIdx>> {
        let kinds: Vec<Kind> = self.model.entities.iter().map(|e| e.kind).collect();
        let edges = &self.model.edges;
        let filtered = petgraph::visit::EdgeFiltered::from_fn(&self.graph, |e| {
            let edge = &edges[*e.weight() as usize];
            edge.granted
                && kinds[edge.from as usize] == Kind::Connection
                && kinds[edge.to as usize] == Kind::Connection
        });
        // kosaraju_scc is iterative; petgraph's tarjan_scc recurses and would
        // overflow the stack on deep nesting.
        petgraph::algo::kosaraju_scc(&filtered)
            .into_iter()
            .filter(|c| kinds[c[0].index()] == Kind::Connection)
            .map(|c| c.into_iter().map(|n| n.index() as EntityIdx).collect())
            .collect()
    }

    /// Nesting cycles: components of more than one connection, or one
    /// connection granting itself. Each cycle's members are sorted.
    pub fn cycles(&self) -> Vec<Vec<EntityIdx>> {
        let mut cycles: Vec<Vec<EntityIdx>> = self
            .connection_components()
            .into_iter()
            .filter(|c| {
                c.len() > 1
                    || self
                        .edges_from(c[0])
                        .iter()
                        .any(|(_, e)| e.granted && e.to == c[0])
            })
            .map(|mut c| {
                c.sort_unstable();
                c
            })
            .collect();
        cycles.sort();
        cycles
    }
}
