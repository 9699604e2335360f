//! [`AccessGraph`]: the imported [`Model`] indexed as a directed graph.
//!
//! Node `i` is entity `i`, edge weights are indices into `Model::edges`, so
//! the graph is a pure index over the model and can be rebuilt from it (a
//! snapshot stores the model, never petgraph types). petgraph types do not
//! leave this module.

use petgraph::Direction;
use petgraph::graph::{DiGraph, NodeIndex};

use std::sync::OnceLock;

use rustc_hash::FxHashMap;

use crate::model::{Edge, EdgeIdx, EntityIdx, Kind, Model, Sym};

/// The model plus a graph index and a key index, each built on first use:
/// a report needs neither (expansion keeps its own adjacency), a query
/// session both.
pub struct AccessGraph {
    model: Model,
    graph: OnceLock<DiGraph<EntityIdx, EdgeIdx, u32>>,
    keys: OnceLock<FxHashMap<(Sym, Sym), EntityIdx>>,
}

impl AccessGraph {
    /// Indexes a model.
    pub fn new(model: Model) -> AccessGraph {
        AccessGraph {
            model,
            graph: OnceLock::new(),
            keys: OnceLock::new(),
        }
    }

    fn graph(&self) -> &DiGraph<EntityIdx, EdgeIdx, u32> {
        self.graph.get_or_init(|| {
            let model = &self.model;
            let mut graph = DiGraph::with_capacity(model.entities.len(), model.edges.len());
            for i in 0..model.entities.len() {
                graph.add_node(i as EntityIdx);
            }
            for (i, e) in model.edges.iter().enumerate() {
                graph.add_edge(
                    NodeIndex::new(e.from as usize),
                    NodeIndex::new(e.to as usize),
                    i as EdgeIdx,
                );
            }
            graph
        })
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
        let keys = self.keys.get_or_init(|| {
            let mut keys = FxHashMap::default();
            keys.reserve(self.model.entities.len());
            for (i, e) in self.model.entities.iter().enumerate() {
                keys.insert((e.source, e.id), i as EntityIdx);
            }
            keys
        });
        keys.get(&(s, i)).copied()
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
            .graph()
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
