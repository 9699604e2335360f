//! The `whocan` binary: parse arguments, run, map the outcome to an exit code.

fn main() {
    std::process::exit(whocan::cli::run() as i32);
}
