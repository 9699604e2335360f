//! whocan: an access-graph engine.
//!
//! Identity-governance CSV exports go in (`import`); one directed graph of
//! identities, connections and resources comes out (`model`, `graph`); every
//! identity's effective access is derived with the connection that provides
//! it (`expand`) and rendered (`report`). The `whocan` binary (`cli`) wraps it.
//! `generate` writes synthetic organisations for benchmarks.
//!
//! Data flow: CSV rows → `import` → `model` → `graph` → `expand` → `report`
//! → stdout or `-o FILE`, with `snapshot` able to stand in for `import`, and
//! `diff` comparing two graphs.

#![warn(missing_docs)]

pub mod atomic;
pub mod cli;
pub mod diff;
pub mod expand;
pub mod findings;
pub mod generate;
pub mod graph;
pub mod import;
pub mod memory;
pub mod model;
pub mod people;
pub mod query;
pub mod repl;
pub mod replace;
pub mod report;
pub mod snapshot;
mod table;
