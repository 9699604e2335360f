//! The global allocator: the system's, asking Linux for transparent huge
//! pages on large blocks.
//!
//! whocan's big tables (entities, edges, the string table and its index, the
//! import's pending edges, the report's fragment slots and batch buffers) are
//! tens to hundreds of megabytes each and are read at random. With 4 KiB
//! pages every touch of a new page is a fault and most lookups also miss the
//! TLB; on this kind of machine the kernel grants huge pages only to memory
//! that asks for them (`transparent_hugepage` = `madvise`). Blocks of 4 MiB
//! or more are advised `MADV_HUGEPAGE` once allocated; small blocks, and
//! other systems, are left exactly as the system allocator makes them. The
//! advice is a hint: it never changes what memory holds, and a refusal is
//! ignored.

use std::alloc::{GlobalAlloc, Layout, System};

/// Blocks this large or larger are advised to use huge pages.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
const LARGE: usize = 4 << 20;

/// The system allocator plus huge-page advice for large blocks; installed
/// as the binary's `#[global_allocator]`.
pub struct HugePageAlloc;

// SAFETY: every method forwards to `System` with the same arguments and
// returns its result; `advise` only passes the kernel a hint about pages
// inside the block just allocated.
unsafe impl GlobalAlloc for HugePageAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        let block = unsafe { System.alloc(layout) };
        advise(block, layout.size());
        block
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        let block = unsafe { System.alloc_zeroed(layout) };
        advise(block, layout.size());
        block
    }

    unsafe fn dealloc(&self, block: *mut u8, layout: Layout) {
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.dealloc(block, layout) }
    }

    unsafe fn realloc(&self, block: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        let block = unsafe { System.realloc(block, layout, new_size) };
        if new_size > layout.size() {
            advise(block, new_size);
        }
        block
    }
}

/// Advises the whole 2 MiB pages inside `[block, block + len)` to be huge.
fn advise(block: *mut u8, len: usize) {
    #[cfg(target_os = "linux")]
    if !block.is_null() && len >= LARGE {
        const HUGE_PAGE: usize = 2 << 20;
        let start = (block as usize).next_multiple_of(HUGE_PAGE);
        let end = (block as usize + len) & !(HUGE_PAGE - 1);
        if end > start {
            // SAFETY: the range lies inside a block the allocator just
            // handed out; MADV_HUGEPAGE changes how it is backed, never its
            // contents.
            let _ = unsafe {
                rustix::mm::madvise(
                    block.wrapping_add(start - block as usize).cast(),
                    end - start,
                    rustix::mm::Advice::LinuxHugepage,
                )
            };
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (block, len);
}
