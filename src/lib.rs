//! whocan: an access-graph engine.
//!
//! Identity-governance CSV exports go in (`import`); one directed graph of
//! identities, connections and resources comes out (`model`, `graph`); every
//! identity's effective access is derived with the connection that provides
//! it (`expand`) and rendered (`report`); `query` answers questions about
//! it, `people` links identities to employees, `findings` flags what needs
//! review, `diff` compares two graphs, `snapshot` saves and loads a model,
//! `replace` applies a source's full re-upload, `atomic` writes output files,
//! `whatif` answers what edits to the graph would change.
//!
//! Data flow: CSV rows → `import` → `model` → `graph` → `expand` → `report`
//! → stdout or `-o FILE`, with `snapshot` able to stand in for `import`, and
//! `diff` comparing two graphs.
//!
//! The command line, the prompt and the allocator are not part of the
//! library: they are the `whocan` binary's own modules (`src/main.rs`).

#![warn(missing_docs)]

pub mod atomic;
pub mod diff;
pub mod expand;
pub mod export;
pub mod findings;
// Synthetic organisations for benchmarks and tests (`whocan generate`).
// Not part of the library's interface: public only so that the binary and
// the integration tests can reach it, and hidden from its documentation.
#[doc(hidden)]
pub mod generate;
pub mod graph;
pub mod import;
pub mod model;
pub mod people;
pub mod query;
pub mod replace;
pub mod report;
pub mod review;
pub mod snapshot;
mod table;
pub mod whatif;
