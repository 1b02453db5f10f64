//! Request frame buffers, reused: a caller encodes its frame into a buffer taken from the
//! connection's pool, and the I/O task gives the buffer back once it has copied the frame
//! into its write buffer, so a steady stream of requests allocates no frame buffer.

use std::sync::{Mutex, MutexGuard, PoisonError};

/// Buffers kept per connection (at most 512 KiB with the capacity cap below): a buffer comes
/// back within one pass of the I/O loop, so the pool only needs the frames queued between two
/// passes, not one per request in flight.
const MAX_POOLED: usize = 64;
/// Larger buffers are freed rather than kept (a pooled buffer keeps its capacity: one large
/// BATCH must not pin megabytes for the connection's lifetime).
const MAX_POOLED_CAPACITY: usize = 8 * 1024;

/// The connection's free frame buffers, shared by every handle and the I/O task.
#[derive(Default)]
pub(crate) struct FramePool(Mutex<Vec<Vec<u8>>>);

impl std::fmt::Debug for FramePool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FramePool").finish_non_exhaustive()
    }
}

impl FramePool {
    fn free(&self) -> MutexGuard<'_, Vec<Vec<u8>>> {
        // Plain data: a panic elsewhere while the lock was held leaves it consistent.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// An empty buffer with room for at least `capacity` bytes.
    pub(crate) fn take(&self, capacity: usize) -> Vec<u8> {
        let mut buf = self.free().pop().unwrap_or_default();
        buf.reserve(capacity);
        buf
    }

    /// Keeps `buf` for a later request, unless the pool is full or `buf` is large.
    pub(crate) fn give_back(&self, mut buf: Vec<u8>) {
        if buf.capacity() > MAX_POOLED_CAPACITY || buf.capacity() == 0 {
            return;
        }
        buf.clear();
        let mut free = self.free();
        if free.len() < MAX_POOLED {
            free.push(buf);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_buffer_given_back_is_reused_empty_and_a_large_one_is_not_kept() {
        let pool = FramePool::default();
        let mut buf = pool.take(100);
        assert!(buf.capacity() >= 100);
        buf.extend_from_slice(b"frame");
        let ptr = buf.as_ptr();
        pool.give_back(buf);
        let again = pool.take(10);
        assert_eq!(again.as_ptr(), ptr);
        assert!(again.is_empty());
        pool.give_back(Vec::with_capacity(MAX_POOLED_CAPACITY + 1));
        assert!(pool.free().is_empty());
    }

    #[test]
    fn the_pool_keeps_at_most_max_pooled_buffers() {
        let pool = FramePool::default();
        for _ in 0..MAX_POOLED + 10 {
            pool.give_back(Vec::with_capacity(64));
        }
        assert_eq!(pool.free().len(), MAX_POOLED);
    }
}
