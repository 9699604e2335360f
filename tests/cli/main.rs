//! Golden CLI tests: each case runs the real `whocan` binary on files from
//! `fixtures/` and compares stdout, stderr and the exit code with
//! `tests/golden/<subcommand>/<case>.{out,err,code}`.
//!
//! `WHOCAN_BLESS=1 cargo test --test cli` rewrites the goldens; read the diff
//! before committing it.

mod harness;

mod completions;
mod diff;
mod documents;
mod export;
mod generate;
mod import;
mod mapped;
mod named;
mod people;
mod query;
mod render;
mod report;
mod review;
mod snapshots;
mod stats;
mod stdin_snapshot;
mod usage;
mod whatif;
