//! A global allocator that refuses any single allocation above [`MAX_ALLOCATION`]. Without a
//! sanitizer, libFuzzer's `-malloc_limit_mb` has no malloc hooks and does nothing; this
//! allocator takes its place, so an allocation sized from a hostile length field stays a
//! finding whatever the sanitizer.

use std::alloc::{GlobalAlloc, Layout, System};

/// The largest single allocation a fuzz binary allows.
pub(crate) const MAX_ALLOCATION: usize = 256 << 20;

struct Capped;

// SAFETY: every call forwards to `System` with the caller's own arguments, or returns null
// (allocation failure, which `GlobalAlloc` allows) for sizes above the cap; the Rust
// runtime then reports "memory allocation of N bytes failed" and aborts, which libFuzzer
// records as a crash with its input.
unsafe impl GlobalAlloc for Capped {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.size() > MAX_ALLOCATION {
            return std::ptr::null_mut();
        }
        // SAFETY: the caller's contract for `alloc` holds for `System.alloc`.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if layout.size() > MAX_ALLOCATION {
            return std::ptr::null_mut();
        }
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System` through this allocator with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > MAX_ALLOCATION {
            return std::ptr::null_mut();
        }
        // SAFETY: `ptr`/`layout` came from `System` through this allocator.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static CAPPED: Capped = Capped;
