//! The `whocan` binary: parse arguments, run, map the outcome to an exit code.

/// Large tables on huge pages where the system grants them (see `memory`).
#[global_allocator]
static ALLOC: whocan::memory::HugePageAlloc = whocan::memory::HugePageAlloc;

fn main() {
    std::process::exit(whocan::cli::run() as i32);
}
