//! The answer to one request, handed from the I/O task to its caller through a reply slot
//! that is reused: a `oneshot` channel costs a heap allocation per request, a slot taken from
//! the connection's pool costs none once the pool holds as many slots as requests in flight.
//!
//! A slot goes back to the pool only when its caller holds the last reference to it: once the
//! I/O task has answered (or given up on) the request and dropped its half. A caller that gives
//! up first leaves the slot to the I/O task, which frees it with its half.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

use crate::driver::Reply;

/// Slots kept for reuse per connection: four times the 1,024 requests in flight of the
/// benchmarks, while a burst beyond it does not pin its slots for the connection's lifetime.
const MAX_POOLED: usize = 4096;

/// One request's answer and the waker of the caller awaiting it.
#[derive(Default)]
pub(crate) struct Slot {
    state: Mutex<State>,
    /// The caller stopped waiting: the I/O task drops its request instead of sending it.
    abandoned: AtomicBool,
}

#[derive(Default)]
struct State {
    answer: Option<Reply>,
    waker: Option<Waker>,
    /// The I/O task has answered or dropped its half: no answer will come after this.
    done: bool,
}

impl Slot {
    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding this short lock leaves a consistent state (plain fields).
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The connection's free slots, shared by every handle.
#[derive(Default)]
pub(crate) struct SlotPool(Mutex<Vec<Arc<Slot>>>);

impl std::fmt::Debug for SlotPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SlotPool").finish_non_exhaustive()
    }
}

impl SlotPool {
    fn free(&self) -> MutexGuard<'_, Vec<Arc<Slot>>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A slot for a new request: the I/O task answers on the sender, the caller awaits the
    /// receiver.
    pub(crate) fn channel(&self) -> (ReplySender, ReplyReceiver<'_>) {
        let slot = self.free().pop().unwrap_or_default();
        (
            ReplySender(Some(slot.clone())),
            ReplyReceiver {
                slot: Some(slot),
                pool: self,
            },
        )
    }

    /// Takes `slot` back if nobody else holds it, emptied.
    fn recycle(&self, mut slot: Arc<Slot>) {
        // `get_mut` succeeds only for the last reference: the sender is gone, so nothing can
        // write into the slot once it is reused.
        if let Some(s) = Arc::get_mut(&mut slot) {
            let state = s.state.get_mut().unwrap_or_else(PoisonError::into_inner);
            *state = State::default();
            *s.abandoned.get_mut() = false;
            let mut free = self.free();
            if free.len() < MAX_POOLED {
                free.push(slot);
            }
        }
    }
}

/// The I/O task's half: answers once, or tells the caller that no answer will come when
/// dropped unanswered.
pub(crate) struct ReplySender(Option<Arc<Slot>>);

impl ReplySender {
    /// Hands `answer` to the caller (dropped if the caller gave up).
    pub(crate) fn send(mut self, answer: Reply) {
        if let Some(slot) = self.0.take() {
            finish(slot, Some(answer));
        }
    }

    /// True once the caller stopped waiting.
    pub(crate) fn is_closed(&self) -> bool {
        self.0
            .as_ref()
            .is_none_or(|s| s.abandoned.load(Ordering::Relaxed))
    }
}

impl Drop for ReplySender {
    fn drop(&mut self) {
        if let Some(slot) = self.0.take() {
            finish(slot, None);
        }
    }
}

/// Takes the sender's reference so that it is gone before the caller is woken: on a
/// multi-threaded runtime the caller may run at once, and a slot still held here when it
/// finishes is thrown away instead of pooled.
fn finish(slot: Arc<Slot>, answer: Option<Reply>) {
    let waker = {
        let mut state = slot.state();
        state.answer = answer;
        state.done = true;
        state.waker.take()
    };
    drop(slot);
    if let Some(waker) = waker {
        waker.wake();
    }
}

/// The caller's half: resolves to the answer, or `None` when the I/O task dropped the request
/// without one (it was dropped itself).
pub(crate) struct ReplyReceiver<'a> {
    slot: Option<Arc<Slot>>,
    pool: &'a SlotPool,
}

impl Future for ReplyReceiver<'_> {
    type Output = Option<Reply>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let Some(slot) = self.slot.as_ref() else {
            return Poll::Ready(None);
        };
        let answer = {
            let mut state = slot.state();
            if !state.done {
                match &state.waker {
                    Some(w) if w.will_wake(cx.waker()) => {}
                    _ => state.waker = Some(cx.waker().clone()),
                }
                return Poll::Pending;
            }
            state.answer.take()
        };
        if let Some(slot) = self.slot.take() {
            self.pool.recycle(slot);
        }
        Poll::Ready(answer)
    }
}

impl Drop for ReplyReceiver<'_> {
    fn drop(&mut self) {
        if let Some(slot) = self.slot.take() {
            slot.abandoned.store(true, Ordering::Relaxed);
            self.pool.recycle(slot);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;
    use std::sync::atomic::AtomicUsize;
    use std::sync::Weak;
    use std::task::Wake;
    use std::time::Duration;

    fn timeout() -> Reply {
        Err(Error::Timeout {
            timeout: Duration::ZERO,
        })
    }

    /// Records how many references to the slot exist when the caller is woken, then lets go
    /// of its own weak one (any weak reference makes the slot unpoolable).
    struct CountAtWake(Mutex<Option<Weak<Slot>>>, AtomicUsize);

    impl Wake for CountAtWake {
        fn wake(self: Arc<Self>) {
            let slot = self.0.lock().unwrap().take();
            let count = slot.map_or(usize::MAX, |s| s.strong_count());
            self.1.store(count, Ordering::SeqCst);
        }
    }

    #[test]
    fn the_caller_is_woken_only_after_the_sender_let_go_of_the_slot() {
        let pool = SlotPool::default();
        let (tx, mut rx) = pool.channel();
        let slot = Arc::downgrade(rx.slot.as_ref().expect("slot"));
        let probe = Arc::new(CountAtWake(Mutex::new(Some(slot)), AtomicUsize::new(0)));
        let waker = Waker::from(Arc::clone(&probe));
        let mut cx = Context::from_waker(&waker);
        assert!(Pin::new(&mut rx).poll(&mut cx).is_pending());
        tx.send(timeout());
        // Were the sender's reference alive here, a caller on another thread could finish
        // before it is dropped and lose the slot.
        assert_eq!(
            probe.1.load(Ordering::SeqCst),
            1,
            "only the caller holds it"
        );
        assert!(matches!(
            Pin::new(&mut rx).poll(&mut cx),
            Poll::Ready(Some(Err(Error::Timeout { .. })))
        ));
        assert_eq!(pool.free().len(), 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_answer_reaches_the_receiver_and_the_slot_is_reused() {
        let pool = SlotPool::default();
        let (tx, rx) = pool.channel();
        let first = Arc::as_ptr(tx.0.as_ref().unwrap());
        // Answered before it is awaited: the outcome does not depend on which thread runs
        // first (the wake-up order is pinned by the test above).
        tx.send(timeout());
        let answer = rx.await.expect("answered");
        assert!(matches!(answer, Err(Error::Timeout { .. })));
        assert_eq!(pool.free().len(), 1);
        let (tx, rx) = pool.channel();
        assert_eq!(Arc::as_ptr(tx.0.as_ref().unwrap()), first);
        assert!(!tx.is_closed(), "a reused slot starts live");
        drop(tx);
        assert!(rx.await.is_none(), "a dropped sender means no answer");
    }

    #[test]
    fn a_receiver_that_gives_up_closes_the_sender_and_leaves_the_slot_to_it() {
        let pool = SlotPool::default();
        let (tx, rx) = pool.channel();
        assert!(!tx.is_closed());
        drop(rx);
        assert!(tx.is_closed());
        // Still held by the sender: not pooled, so no new request can share it.
        assert_eq!(pool.free().len(), 0);
        tx.send(timeout());
        assert_eq!(pool.free().len(), 0);
    }
}
