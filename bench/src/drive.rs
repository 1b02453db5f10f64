//! The load loops every Rust client shares. Closed loop ([`drive`]): `concurrency` tasks, each
//! looping request → await → check the answer, a warm-up, then a measured window with one
//! latency histogram. Open loop ([`drive_open`]): requests due on a fixed schedule, latency
//! counted from when each was due (so a stall delays every request behind it and shows in the
//! tail: no coordinated omission), a bound on the outstanding ones.
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::stream::{FuturesUnordered, StreamExt};
use hdrhistogram::Histogram;

use crate::alloc;
use crate::record::rusage;

/// The error type of a request in the load loop.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The shared measurement state of one run.
struct Meter {
    measuring: AtomicBool,
    stop: AtomicBool,
    errors: AtomicU64,
}

/// What one run measured.
pub struct Outcome {
    /// Latency of every successful request in the window, nanoseconds.
    pub hist: Histogram<u64>,
    /// Requests completed in the window.
    pub requests: u64,
    /// Requests that failed (in the window, or during the warm-up).
    pub errors: u64,
    /// Length of the window, seconds.
    pub seconds: f64,
    /// Process CPU (user + sys) in the window, seconds.
    pub cpu: f64,
    /// Heap allocations in the window.
    pub allocs: u64,
    /// Open loop: requests due in the window that were not sent because `concurrency` were
    /// already outstanding.
    pub dropped: u64,
    /// Open loop: requests still unanswered a second after the schedule ended.
    pub late: u64,
    /// Peak RSS of the process, KiB.
    pub maxrss: u64,
}

/// Runs `concurrency` workers calling `op(session, i)` until the window closes.
pub async fn drive<S, F, Fut>(
    session: Arc<S>,
    op: F,
    concurrency: u32,
    warmup: f64,
    duration: f64,
) -> Outcome
where
    S: Send + Sync + 'static,
    F: Fn(Arc<S>, u64) -> Fut + Send + Sync + Copy + 'static,
    Fut: Future<Output = Result<(), BoxError>> + Send,
{
    let meter = Arc::new(Meter {
        measuring: AtomicBool::new(false),
        stop: AtomicBool::new(false),
        errors: AtomicU64::new(0),
    });
    // One histogram for all workers (a per-worker HDR histogram is ~200 KiB: at 1,024 workers
    // it would dominate the peak RSS being measured). The lock is uncontended: one thread.
    let shared = Arc::new(std::sync::Mutex::new(histogram()));
    let mut handles = Vec::new();
    for w in 0..concurrency {
        let session = Arc::clone(&session);
        let meter = Arc::clone(&meter);
        let hist = Arc::clone(&shared);
        handles.push(tokio::spawn(async move {
            let mut n = 0_u64;
            let mut i = u64::from(w);
            let mut first_error = None;
            while !meter.stop.load(Ordering::Relaxed) {
                let t = Instant::now();
                let r = op(Arc::clone(&session), i).await;
                let ns = t.elapsed().as_nanos() as u64;
                i = i.wrapping_add(u64::from(concurrency));
                if meter.measuring.load(Ordering::Relaxed) && !meter.stop.load(Ordering::Relaxed) {
                    match r {
                        Ok(()) => {
                            if let Ok(mut h) = hist.lock() {
                                h.saturating_record(ns.max(1));
                            }
                            n += 1;
                        }
                        Err(e) => {
                            meter.errors.fetch_add(1, Ordering::Relaxed);
                            first_error.get_or_insert(e.to_string());
                        }
                    }
                } else if let Err(e) = r {
                    first_error.get_or_insert(e.to_string());
                    meter.errors.fetch_add(1, Ordering::Relaxed);
                    if !meter.measuring.load(Ordering::Relaxed) {
                        // Failing during warm-up: stop early, the run is invalid.
                        eprintln!("warm-up request failed: {e}");
                        meter.stop.store(true, Ordering::Relaxed);
                    }
                }
            }
            if let Some(e) = first_error {
                eprintln!("worker {w}: first error: {e}");
            }
            n
        }));
    }
    tokio::time::sleep(Duration::from_secs_f64(warmup)).await;
    let (cpu0, _) = rusage();
    let alloc0 = alloc::allocations();
    let t0 = Instant::now();
    meter.measuring.store(true, Ordering::Relaxed);
    tokio::time::sleep(Duration::from_secs_f64(duration)).await;
    meter.stop.store(true, Ordering::Relaxed);
    let seconds = t0.elapsed().as_secs_f64();
    let alloc1 = alloc::allocations();
    let (cpu1, _) = rusage();
    let mut requests = 0;
    for h in handles {
        if let Ok(n) = h.await {
            requests += n;
        }
    }
    let hist = shared
        .lock()
        .map(|h| h.clone())
        .unwrap_or_else(|e| e.into_inner().clone());
    let (_, maxrss) = rusage();
    Outcome {
        hist,
        requests,
        errors: meter.errors.load(Ordering::Relaxed),
        seconds,
        cpu: cpu1 - cpu0,
        allocs: alloc1 - alloc0,
        dropped: 0,
        late: 0,
        maxrss,
    }
}

/// The latency histogram of a run: 1 ns to 60 s, 3 significant digits.
pub fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000_000, 3).expect("histogram bounds")
}

/// The schedule of an open-loop run: request `k` is due `k / rate` seconds after the start; the
/// window holds the requests due between `warmup` and `warmup + duration`.
pub struct Schedule {
    start: Instant,
    rate: f64,
    total: u64,
    /// When the first measured request is due.
    pub window_start: Instant,
    /// When the first request after the window would be due.
    pub window_end: Instant,
    /// How long outstanding requests are waited for after the last one was due.
    pub drain_deadline: Instant,
}

/// tokio's timer has millisecond resolution: closer than this to the next due time the loop
/// yields to the runtime instead of sleeping, so requests leave within microseconds of their
/// slot (the wait costs CPU, which is why open-loop runs report no CPU per request).
const SPIN: Duration = Duration::from_micros(1500);

impl Schedule {
    /// A schedule starting now.
    pub fn new(rate: f64, warmup: f64, duration: f64) -> Self {
        let start = Instant::now();
        let window_start = start + Duration::from_secs_f64(warmup);
        let window_end = window_start + Duration::from_secs_f64(duration);
        Self {
            start,
            rate,
            total: ((warmup + duration) * rate).ceil() as u64,
            window_start,
            window_end,
            drain_deadline: window_end + Duration::from_secs(1),
        }
    }

    fn at(&self, k: u64) -> Instant {
        self.start + Duration::from_secs_f64(k as f64 / self.rate)
    }

    /// When request `k` is due, if it exists and is due by `now`.
    pub fn due(&self, k: u64, now: Instant) -> Option<Instant> {
        if k >= self.total {
            return None;
        }
        let t = self.at(k);
        (t <= now).then_some(t)
    }

    /// Whether every request has been issued (or dropped) once `k` is next.
    pub fn finished(&self, k: u64) -> bool {
        k >= self.total
    }

    /// Whether a request due at `due` is measured.
    pub fn in_window(&self, due: Instant) -> bool {
        due >= self.window_start && due < self.window_end
    }

    /// Waits until request `k` is nearly due (or, when none is left, until the drain deadline).
    pub async fn wait(&self, k: u64) {
        if self.finished(k) {
            tokio::time::sleep_until(self.drain_deadline.into()).await;
            return;
        }
        let next = self.at(k);
        if next > Instant::now() + SPIN {
            tokio::time::sleep_until((next - Duration::from_millis(1)).into()).await;
        } else {
            tokio::task::yield_now().await;
        }
    }
}

/// Runs `op(session, i)` at `rate` requests per second, at most `max_outstanding` at a time
/// (a request due with that many outstanding is dropped and counted), measuring the requests
/// due in the window from when they were due.
pub async fn drive_open<S, F, Fut>(
    session: Arc<S>,
    op: F,
    rate: f64,
    max_outstanding: u32,
    warmup: f64,
    duration: f64,
) -> Outcome
where
    S: Send + Sync + 'static,
    F: Fn(Arc<S>, u64) -> Fut + Send + Sync + Copy + 'static,
    Fut: Future<Output = Result<(), BoxError>> + Send,
{
    let schedule = Schedule::new(rate, warmup, duration);
    let mut hist = histogram();
    let mut outstanding = FuturesUnordered::new();
    let (mut requests, mut errors, mut dropped) = (0_u64, 0_u64, 0_u64);
    let mut first_error = None;
    let mut k = 0_u64;
    let mut window: Option<(Instant, f64, u64)> = None;
    loop {
        let now = Instant::now();
        if window.is_none() && now >= schedule.window_start {
            window = Some((now, rusage().0, alloc::allocations()));
        }
        while let Some(due) = schedule.due(k, now) {
            if outstanding.len() < max_outstanding as usize {
                let s = Arc::clone(&session);
                let i = k;
                outstanding.push(async move { (due, op(s, i).await) });
            } else if schedule.in_window(due) {
                dropped += 1;
            }
            k += 1;
        }
        if schedule.finished(k) && (outstanding.is_empty() || now >= schedule.drain_deadline) {
            break;
        }
        tokio::select! {
            biased;
            Some((due, r)) = outstanding.next(), if !outstanding.is_empty() => {
                let ns = due.elapsed().as_nanos() as u64;
                match r {
                    Ok(()) if schedule.in_window(due) => {
                        hist.saturating_record(ns.max(1));
                        requests += 1;
                    }
                    Ok(()) => {}
                    Err(e) => {
                        errors += 1;
                        first_error.get_or_insert(e.to_string());
                    }
                }
            }
            () = schedule.wait(k) => {}
        }
    }
    if let Some(e) = first_error {
        eprintln!("first error: {e}");
    }
    let late = outstanding.len() as u64;
    drop(outstanding);
    let (_, cpu0, alloc0) = window.unwrap_or((schedule.window_start, rusage().0, 0));
    let allocs = alloc::allocations() - alloc0;
    let (cpu1, maxrss) = rusage();
    Outcome {
        hist,
        requests,
        errors,
        // The achieved rate is the requests due in the window that were answered, over its length.
        seconds: (schedule.window_end - schedule.window_start).as_secs_f64(),
        cpu: cpu1 - cpu0,
        allocs,
        dropped,
        late,
        maxrss,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schedule_spaces_requests_evenly_and_windows_them() {
        let s = Schedule::new(1000.0, 1.0, 2.0);
        assert!(!s.finished(2999));
        assert!(s.finished(3000));
        // Request 1500 is due 1.5 s in: inside the window, not due yet at the start.
        let now = s.start;
        assert_eq!(s.due(0, now), Some(s.start));
        assert_eq!(s.due(1500, now), None);
        let later = s.start + Duration::from_secs(2);
        let due = s.due(1500, later).expect("due by then");
        assert_eq!(due - s.start, Duration::from_millis(1500));
        assert!(s.in_window(due));
        assert!(!s.in_window(s.due(999, later).expect("due")));
        assert!(s.due(3000, later + Duration::from_secs(5)).is_none());
    }

    #[tokio::test(flavor = "current_thread")]
    async fn the_open_loop_counts_latency_from_the_due_time_and_drops_beyond_the_bound() {
        // Each request takes 20 ms; at 1,000/s with 5 outstanding at most, nearly every due
        // request finds 5 outstanding and is dropped, and those sent wait at least 20 ms.
        async fn slow(_: Arc<()>, _: u64) -> Result<(), BoxError> {
            tokio::time::sleep(Duration::from_millis(20)).await;
            Ok(())
        }
        let o = drive_open(Arc::new(()), slow, 1000.0, 5, 0.1, 0.3).await;
        assert!(o.requests > 0);
        assert!(o.dropped > 150, "dropped {}", o.dropped);
        assert!(o.hist.min() >= 20_000_000, "min {} ns", o.hist.min());
        assert_eq!(o.late, 0);
        assert_eq!(o.errors, 0);
    }
}
