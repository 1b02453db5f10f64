//! The load loop every Rust client shares: `concurrency` tasks, each looping request → await →
//! check the answer, a warm-up, then a measured window with one latency histogram.
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

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
    let shared = Arc::new(std::sync::Mutex::new(
        Histogram::<u64>::new_with_bounds(1, 60_000_000_000, 3).expect("histogram bounds"),
    ));
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
        maxrss,
    }
}
