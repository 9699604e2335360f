//! The `whocan` binary: parse arguments, run, map the outcome to an exit code.
//!
//! The binary's own modules are its front ends: `cli` (clap types, one file
//! per subcommand, output and exit codes), `repl` (the prompt) and `memory`
//! (the global allocator). The library (`whocan::…`) holds everything they
//! call.

mod cli;
mod memory;
mod repl;

/// Large tables on huge pages where the system grants them (see `memory`).
#[global_allocator]
static ALLOC: memory::HugePageAlloc = memory::HugePageAlloc;

fn main() {
    std::process::exit(cli::run() as i32);
}
