//! What the fuzz-style tests share: the memory bound every run stays under.
//!
//! The bound is checked on the test process's own peak resident memory
//! (`VmHWM`), so one case that allocates beyond it fails the run, and a
//! failed allocation aborts the process, which fails it too.

/// Peak resident memory a fuzz run may reach: 2 GiB, far above what the
/// small inputs need and far below what an unbounded allocation takes.
pub const PEAK_LIMIT: u64 = 2 << 30;

/// Peak resident memory of this process so far, in bytes. Linux only; CI
/// runs on Linux, so an unreadable figure fails rather than skips.
pub fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let line = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .expect("a VmHWM line in /proc/self/status");
    let kb: u64 = line
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .expect("VmHWM in kB");
    kb * 1024
}

/// Whether this process has stayed under [`PEAK_LIMIT`]; the message says
/// how far it went.
pub fn within_peak_limit() -> Result<(), String> {
    let peak = peak_rss();
    if peak < PEAK_LIMIT {
        Ok(())
    } else {
        Err(format!(
            "peak resident memory {peak} bytes, over {PEAK_LIMIT}"
        ))
    }
}
