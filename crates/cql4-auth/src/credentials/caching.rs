//! [`CachingProvider`]: credentials cached until shortly before they expire, refreshed by one
//! caller at a time.

use std::fmt;
use std::future::poll_fn;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use time::OffsetDateTime;

use super::{Credentials, CredentialsProvider};
use crate::clock::{Clock, SystemClock};
use crate::error::{CredentialSource, CredentialsError, CredentialsErrorKind};
use crate::sasl::BoxFuture;

/// Caches another provider's credentials and refreshes them `refresh_before` (default 5
/// minutes) before they expire, like the AWS SDKs' lazy caching provider.
///
/// Credentials without expiry are cached for good. If a refresh fails while the cached
/// credentials are still valid, those are returned (and the failure logged); freshly loaded
/// credentials that have already expired are an [`CredentialsErrorKind::Expired`] error.
///
/// Refreshes are single-flight: while one caller runs the inner provider, callers that find
/// the cache stale wait (asynchronously, without blocking a thread) and get that refresh's
/// outcome, so many handshakes at once start one `credential_process` run or HTTP request, not
/// one each. If the refreshing caller's future is dropped before it finishes, a waiting caller
/// starts a new refresh. A caller that arrives after a refresh finished and still finds the
/// cache stale (e.g. the refresh failed) refreshes again.
pub struct CachingProvider<P> {
    inner: P,
    clock: Arc<dyn Clock>,
    refresh_before: Duration,
    state: Mutex<State>,
}

/// What callers share. The lock is only held for bookkeeping, never across an await.
#[derive(Default)]
struct State {
    cached: Option<Credentials>,
    /// Whether some caller is running the inner provider.
    refreshing: bool,
    /// How many refreshes have finished (not counting abandoned ones).
    finished: u64,
    /// The outcome of the last finished refresh, for the callers that waited for it.
    last: Option<Result<Credentials, CredentialsError>>,
    /// Waiting callers, woken when a refresh finishes or is abandoned.
    waiters: Vec<Waker>,
}

impl State {
    fn wake_all(&mut self) -> Vec<Waker> {
        std::mem::take(&mut self.waiters)
    }
}

/// What a caller does next.
enum Step {
    Done(Result<Credentials, CredentialsError>),
    Refresh(Option<Credentials>),
}

/// Held by the refreshing caller: if its future is dropped mid-refresh, waiters are woken so
/// one of them takes over instead of waiting forever.
struct RefreshGuard<'a> {
    state: &'a Mutex<State>,
    finished: bool,
}

impl RefreshGuard<'_> {
    fn finish(mut self, outcome: &Result<Credentials, CredentialsError>, cache: bool) {
        self.finished = true;
        let waiters = {
            let mut st = lock(self.state);
            if cache {
                st.cached = outcome.as_ref().ok().cloned();
            }
            st.refreshing = false;
            st.finished += 1;
            st.last = Some(outcome.clone());
            st.wake_all()
        };
        waiters.into_iter().for_each(Waker::wake);
    }
}

impl Drop for RefreshGuard<'_> {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        let waiters = {
            let mut st = lock(self.state);
            st.refreshing = false;
            st.wake_all()
        };
        waiters.into_iter().for_each(Waker::wake);
    }
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

impl<P: fmt::Debug> fmt::Debug for CachingProvider<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CachingProvider")
            .field("inner", &self.inner)
            .field("refresh_before", &self.refresh_before)
            .finish_non_exhaustive()
    }
}

impl<P: CredentialsProvider> CachingProvider<P> {
    /// The SDKs' default: refresh 5 minutes before expiry.
    pub const DEFAULT_REFRESH_BEFORE: Duration = Duration::from_secs(300);

    /// Caches `inner` with the system clock and the default refresh margin.
    pub fn new(inner: P) -> Self {
        Self {
            inner,
            clock: Arc::new(SystemClock),
            refresh_before: Self::DEFAULT_REFRESH_BEFORE,
            state: Mutex::new(State::default()),
        }
    }

    /// Uses `clock` to compare expiry times.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Refreshes this long before expiry.
    pub fn with_refresh_before(mut self, refresh_before: Duration) -> Self {
        self.refresh_before = refresh_before;
        self
    }

    fn is_fresh(&self, c: &Credentials, now: OffsetDateTime) -> bool {
        match c.expiry() {
            None => true,
            Some(e) => now + self.refresh_before < e,
        }
    }

    /// Decides, under the lock, whether this caller returns, refreshes or waits. `seen` is the
    /// number of finished refreshes when this caller started waiting: any refresh finished
    /// since then answers it.
    fn step(&self, seen: &mut Option<u64>, cx: &mut Context<'_>) -> Poll<Step> {
        let now = self.clock.now();
        let mut st = lock(&self.state);
        if let Some(c) = st.cached.as_ref().filter(|c| self.is_fresh(c, now)) {
            return Poll::Ready(Step::Done(Ok(c.clone())));
        }
        if let (Some(seen), Some(last)) = (*seen, &st.last) {
            if st.finished != seen {
                return Poll::Ready(Step::Done(last.clone()));
            }
        }
        if !st.refreshing {
            st.refreshing = true;
            return Poll::Ready(Step::Refresh(st.cached.clone()));
        }
        seen.get_or_insert(st.finished);
        if !st.waiters.iter().any(|w| w.will_wake(cx.waker())) {
            st.waiters.push(cx.waker().clone());
        }
        Poll::Pending
    }

    async fn load(&self) -> Result<Credentials, CredentialsError> {
        let mut seen = None;
        let cached = match poll_fn(|cx| self.step(&mut seen, cx)).await {
            Step::Done(r) => return r,
            Step::Refresh(cached) => cached,
        };
        let guard = RefreshGuard {
            state: &self.state,
            finished: false,
        };
        let (outcome, cache) = self.refresh(cached).await;
        guard.finish(&outcome, cache);
        outcome
    }

    /// Runs the inner provider; the flag says whether the outcome replaces the cache.
    async fn refresh(
        &self,
        cached: Option<Credentials>,
    ) -> (Result<Credentials, CredentialsError>, bool) {
        match self.inner.provide_credentials().await {
            Ok(c) => {
                let now = self.clock.now();
                if let Some(e) = c.expiry().filter(|e| *e <= now) {
                    let e = CredentialsError::new(
                        CredentialSource::Custom("cached credentials provider".to_owned()),
                        CredentialsErrorKind::Expired(e),
                    );
                    return (Err(e), false);
                }
                tracing::debug!(
                    access_key_id = c.access_key_id(),
                    expiry = ?c.expiry(),
                    "loaded AWS credentials"
                );
                (Ok(c), true)
            }
            Err(e) => match cached {
                Some(c) if !c.is_expired(self.clock.now()) => {
                    tracing::warn!(error = %e, "refreshing AWS credentials failed; using cached ones until they expire");
                    (Ok(c), false)
                }
                _ => (Err(e), false),
            },
        }
    }
}

impl<P: CredentialsProvider> CredentialsProvider for CachingProvider<P> {
    fn provide_credentials(&self) -> BoxFuture<'_, Result<Credentials, CredentialsError>> {
        Box::pin(self.load())
    }

    /// Forgets the cached credentials (a refresh under way keeps running and fills the cache
    /// again with what it loads) and passes the word on.
    fn invalidate(&self) {
        if let Ok(mut state) = self.state.lock() {
            state.cached = None;
        }
        self.inner.invalidate();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::FixedClock;
    use crate::credentials::now_or_never;
    use std::future::Future;
    use std::sync::atomic::{AtomicU32, Ordering};
    use time::macros::datetime;

    #[derive(Debug)]
    struct Counting {
        calls: AtomicU32,
        expiry: OffsetDateTime,
        fail_after: u32,
    }

    impl CredentialsProvider for Counting {
        fn provide_credentials(&self) -> BoxFuture<'_, Result<Credentials, CredentialsError>> {
            let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
            let r = if n > self.fail_after {
                Err(CredentialsError::new(
                    CredentialSource::Custom("counting".into()),
                    CredentialsErrorKind::Http("down".into()),
                ))
            } else {
                Ok(Credentials::new(
                    format!("AKID{n}"),
                    "s",
                    None,
                    Some(self.expiry),
                ))
            };
            Box::pin(std::future::ready(r))
        }
    }

    fn get<P: CredentialsProvider>(p: &P) -> Result<Credentials, CredentialsError> {
        now_or_never(p.provide_credentials()).unwrap()
    }

    #[test]
    fn caches_until_five_minutes_before_expiry() {
        let expiry = datetime!(2026-01-01 12:00 UTC);
        let inner = Arc::new(Counting {
            calls: AtomicU32::new(0),
            expiry,
            fail_after: 100,
        });
        let at = |t| CachingProvider::new(Arc::clone(&inner)).with_clock(Arc::new(FixedClock(t)));
        let p = at(datetime!(2026-01-01 11:00 UTC));
        assert_eq!(get(&p).unwrap().access_key_id(), "AKID1");
        assert_eq!(get(&p).unwrap().access_key_id(), "AKID1");
        assert_eq!(inner.calls.load(Ordering::SeqCst), 1);
        // Inside the 5-minute window: refresh.
        let p2 = at(datetime!(2026-01-01 11:55:01 UTC));
        lock(&p2.state).cached = lock(&p.state).cached.clone();
        assert_eq!(get(&p2).unwrap().access_key_id(), "AKID2");
        // Just outside it: cached.
        let p3 = at(datetime!(2026-01-01 11:54:59 UTC));
        lock(&p3.state).cached = lock(&p.state).cached.clone();
        assert_eq!(get(&p3).unwrap().access_key_id(), "AKID1");
    }

    #[test]
    fn invalidate_makes_the_next_call_load_again() {
        let inner = Arc::new(Counting {
            calls: AtomicU32::new(0),
            expiry: datetime!(2026-01-01 12:00 UTC),
            fail_after: 100,
        });
        let p = CachingProvider::new(Arc::clone(&inner))
            .with_clock(Arc::new(FixedClock(datetime!(2026-01-01 11:00 UTC))));
        assert_eq!(get(&p).unwrap().access_key_id(), "AKID1");
        assert_eq!(get(&p).unwrap().access_key_id(), "AKID1", "cached");
        // Through the AuthProvider a session holds.
        let auth = crate::SigV4AuthProvider::new(Arc::new(p), "us-east-1");
        crate::AuthProvider::invalidate(&auth);
        let again = now_or_never(auth.credentials_for_test()).unwrap().unwrap();
        assert_eq!(
            again.access_key_id(),
            "AKID2",
            "loaded again after invalidate"
        );
        assert_eq!(inner.calls.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn failed_refresh_keeps_valid_cached_credentials_but_not_expired_ones() {
        let expiry = datetime!(2026-01-01 12:00 UTC);
        let inner = Counting {
            calls: AtomicU32::new(0),
            expiry,
            fail_after: 1,
        };
        let p = CachingProvider::new(inner)
            .with_clock(Arc::new(FixedClock(datetime!(2026-01-01 11:58 UTC))));
        // First load is inside the refresh window but succeeds.
        assert_eq!(get(&p).unwrap().access_key_id(), "AKID1");
        // Second load tries to refresh, fails, falls back to the still-valid cache.
        assert_eq!(get(&p).unwrap().access_key_id(), "AKID1");
        let p = CachingProvider::new(Counting {
            calls: AtomicU32::new(0),
            expiry,
            fail_after: 0,
        })
        .with_clock(Arc::new(FixedClock(datetime!(2026-01-01 12:01 UTC))));
        assert!(get(&p).is_err());
    }

    #[test]
    fn already_expired_credentials_are_an_error() {
        let p = CachingProvider::new(Credentials::new(
            "AKID",
            "s",
            None,
            Some(datetime!(2020-01-01 0:00 UTC)),
        ))
        .with_clock(Arc::new(FixedClock(datetime!(2026-01-01 0:00 UTC))));
        let e = get(&p).unwrap_err();
        assert!(
            matches!(e.kind, CredentialsErrorKind::Expired(t) if t == datetime!(2020-01-01 0:00 UTC))
        );
        assert!(
            e.to_string().contains("expired at 2020-01-01T00:00:00Z"),
            "{e}"
        );
    }

    /// An inner provider whose loads wait until the test sets `outcome`, counting its calls.
    #[derive(Debug, Default)]
    struct Gate {
        calls: AtomicU32,
        outcome: Mutex<Option<Result<Credentials, CredentialsError>>>,
        waker: Mutex<Option<Waker>>,
    }

    impl Gate {
        fn open(&self, r: Result<Credentials, CredentialsError>) {
            let mut outcome = self.outcome.lock().unwrap();
            *outcome = Some(r);
            if let Some(w) = self.waker.lock().unwrap().take() {
                w.wake();
            }
        }
    }

    impl CredentialsProvider for Gate {
        fn provide_credentials(&self) -> BoxFuture<'_, Result<Credentials, CredentialsError>> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            Box::pin(poll_fn(|cx| {
                // The waker is stored under the outcome's lock so `open` cannot slip between.
                let outcome = self.outcome.lock().unwrap();
                match outcome.clone() {
                    Some(r) => Poll::Ready(r),
                    None => {
                        *self.waker.lock().unwrap() = Some(cx.waker().clone());
                        Poll::Pending
                    }
                }
            }))
        }
    }

    /// A waker that counts its wakes.
    #[derive(Default)]
    struct CountingWaker(AtomicU32);

    impl std::task::Wake for CountingWaker {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// A caller's future with its own waker, polled by hand.
    struct Caller<'a> {
        fut: BoxFuture<'a, Result<Credentials, CredentialsError>>,
        wakes: Arc<CountingWaker>,
    }

    impl<'a> Caller<'a> {
        fn new(p: &'a impl CredentialsProvider) -> Self {
            Self {
                fut: p.provide_credentials(),
                wakes: Arc::default(),
            }
        }

        fn poll(&mut self) -> Poll<Result<Credentials, CredentialsError>> {
            let waker = Waker::from(Arc::clone(&self.wakes));
            self.fut.as_mut().poll(&mut Context::from_waker(&waker))
        }

        fn woken(&self) -> u32 {
            self.wakes.0.load(Ordering::SeqCst)
        }
    }

    const NOW: OffsetDateTime = datetime!(2026-01-01 11:58 UTC);

    fn creds(akid: &str) -> Credentials {
        Credentials::new(akid, "s", None, Some(datetime!(2026-01-01 13:00 UTC)))
    }

    fn down() -> CredentialsError {
        CredentialsError::new(
            CredentialSource::Custom("gate".into()),
            CredentialsErrorKind::Http("down".into()),
        )
    }

    /// A cache over `gate` holding `cached`, at `NOW`.
    fn caching(gate: &Arc<Gate>, cached: Option<Credentials>) -> CachingProvider<Arc<Gate>> {
        let p = CachingProvider::new(Arc::clone(gate)).with_clock(Arc::new(FixedClock(NOW)));
        lock(&p.state).cached = cached;
        p
    }

    /// Inside the refresh window (expires 12:00, now 11:58) but not expired.
    fn stale() -> Credentials {
        Credentials::new("OLD", "s", None, Some(datetime!(2026-01-01 12:00 UTC)))
    }

    #[test]
    fn concurrent_callers_share_one_refresh() {
        let gate = Arc::new(Gate::default());
        let p = caching(&gate, Some(stale()));
        let mut callers: Vec<_> = (0..10).map(|_| Caller::new(&p)).collect();
        for c in &mut callers {
            assert!(c.poll().is_pending());
        }
        assert_eq!(gate.calls.load(Ordering::SeqCst), 1);
        // Polling again while the refresh runs neither starts another nor piles up wakers.
        assert!(callers[3].poll().is_pending());
        assert_eq!(lock(&p.state).waiters.len(), 9);
        gate.open(Ok(creds("NEW")));
        // The refreshing caller completes first; its completion wakes the nine waiters.
        assert_eq!(callers[0].poll(), Poll::Ready(Ok(creds("NEW"))));
        for c in &mut callers[1..] {
            assert_eq!(c.woken(), 1);
            assert_eq!(c.poll(), Poll::Ready(Ok(creds("NEW"))));
        }
        assert_eq!(gate.calls.load(Ordering::SeqCst), 1);
        assert_eq!(get(&p).unwrap(), creds("NEW"));
        assert_eq!(gate.calls.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn failed_refresh_reaches_every_waiter_then_the_next_call_refreshes_again() {
        // Nothing cached: every waiter gets the same error.
        let gate = Arc::new(Gate::default());
        let p = caching(&gate, None);
        let mut callers: Vec<_> = (0..4).map(|_| Caller::new(&p)).collect();
        for c in &mut callers {
            assert!(c.poll().is_pending());
        }
        gate.open(Err(down()));
        for c in &mut callers {
            assert_eq!(c.poll(), Poll::Ready(Err(down())));
        }
        assert_eq!(gate.calls.load(Ordering::SeqCst), 1);
        *gate.outcome.lock().unwrap() = None;
        let mut next = Caller::new(&p);
        assert!(next.poll().is_pending());
        assert_eq!(gate.calls.load(Ordering::SeqCst), 2);
        gate.open(Ok(creds("NEW")));
        assert_eq!(next.poll(), Poll::Ready(Ok(creds("NEW"))));

        // Still-valid credentials cached: every waiter gets them.
        let gate = Arc::new(Gate::default());
        let p = caching(&gate, Some(stale()));
        let mut callers: Vec<_> = (0..4).map(|_| Caller::new(&p)).collect();
        for c in &mut callers {
            assert!(c.poll().is_pending());
        }
        gate.open(Err(down()));
        for c in &mut callers {
            assert_eq!(c.poll(), Poll::Ready(Ok(stale())));
        }
        assert_eq!(gate.calls.load(Ordering::SeqCst), 1);
        // The cache is still stale, so the next call tries again.
        assert_eq!(get(&p), Ok(stale()));
        assert_eq!(gate.calls.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn a_waiter_takes_over_when_the_refreshing_future_is_dropped() {
        let gate = Arc::new(Gate::default());
        let p = caching(&gate, Some(stale()));
        let mut refresher = Caller::new(&p);
        let mut a = Caller::new(&p);
        let mut b = Caller::new(&p);
        assert!(refresher.poll().is_pending());
        assert!(a.poll().is_pending());
        assert!(b.poll().is_pending());
        assert_eq!(gate.calls.load(Ordering::SeqCst), 1);
        drop(refresher);
        assert_eq!((a.woken(), b.woken()), (1, 1));
        // The first one polled takes over; the other waits for it.
        assert!(b.poll().is_pending());
        assert!(a.poll().is_pending());
        assert_eq!(gate.calls.load(Ordering::SeqCst), 2);
        gate.open(Ok(creds("NEW")));
        assert_eq!(b.poll(), Poll::Ready(Ok(creds("NEW"))));
        assert_eq!(a.woken(), 2);
        assert_eq!(a.poll(), Poll::Ready(Ok(creds("NEW"))));
        assert_eq!(gate.calls.load(Ordering::SeqCst), 2);
    }

    /// Runs `fut` to completion on this thread, parking while it waits.
    fn block_on<F: Future>(fut: F) -> F::Output {
        struct Unpark(std::thread::Thread);
        impl std::task::Wake for Unpark {
            fn wake(self: Arc<Self>) {
                self.0.unpark();
            }
        }
        let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
        let mut cx = Context::from_waker(&waker);
        let mut fut = std::pin::pin!(fut);
        loop {
            if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
                return v;
            }
            std::thread::park();
        }
    }

    #[test]
    fn callers_on_threads_are_woken_by_the_refresh() {
        let gate = Arc::new(Gate::default());
        let p = caching(&gate, Some(stale()));
        let got = std::thread::scope(|s| {
            let threads: Vec<_> = (0..10)
                .map(|_| s.spawn(|| block_on(p.provide_credentials())))
                .collect();
            // Wait (bounded) until one thread refreshes and nine wait for it.
            for _ in 0..5000 {
                if lock(&p.state).waiters.len() == 9 {
                    break;
                }
                std::thread::sleep(Duration::from_millis(1));
            }
            assert_eq!(lock(&p.state).waiters.len(), 9);
            gate.open(Ok(creds("NEW")));
            threads
                .into_iter()
                .map(|t| t.join().unwrap())
                .collect::<Vec<_>>()
        });
        assert_eq!(got, vec![Ok(creds("NEW")); 10]);
        assert_eq!(gate.calls.load(Ordering::SeqCst), 1);
    }
}
