//! The JSON record every client program prints as its last stdout line (the Java, Go and
//! Python programs print the same fields), and the process measurements behind it.
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use crate::drive::Outcome;

/// One measured point: a driver, a statement, a concurrency, a pool shape.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Record {
    /// `cql4`, `scylla`, `cdrs-tokio`, `python`, `java`, `gocql`.
    pub driver: String,
    /// The driver's version (as resolved by its package manager).
    pub driver_version: String,
    /// `select` or `insert`.
    pub workload: String,
    /// Requests in flight.
    pub concurrency: u32,
    /// `one` (one connection) or `default` (the driver's default pool).
    pub pool: String,
    /// Requests completed in the measured window.
    pub requests: u64,
    /// Requests that failed in the measured window.
    pub errors: u64,
    /// Length of the measured window, seconds.
    pub seconds: f64,
    /// Requests per second.
    pub throughput: f64,
    /// Latency percentiles, microseconds.
    pub p50_us: f64,
    /// 99th percentile, microseconds.
    pub p99_us: f64,
    /// 99.9th percentile, microseconds.
    pub p999_us: f64,
    /// Client CPU (user + sys, whole process) in the window per request, microseconds.
    pub cpu_us_per_req: f64,
    /// Peak resident set of the client process, KiB (getrusage ru_maxrss).
    pub maxrss_kb: u64,
    /// Heap allocations per request in the window (Rust drivers only).
    #[serde(default)]
    pub allocs_per_req: Option<f64>,
    /// Free-form notes (e.g. how the pool was configured).
    #[serde(default)]
    pub note: String,
    /// Open loop: the scheduled rate, requests/s (absent for a closed-loop run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<f64>,
    /// Open loop: requests due in the window and not sent (too many outstanding).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dropped: Option<u64>,
    /// Open loop: requests unanswered a second after the schedule ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub late: Option<u64>,
    /// Slowest request, microseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_us: Option<f64>,
    /// Open loop: the latency distribution as (percentile, µs) pairs, for the HDR plot.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hdr: Vec<(f64, f64)>,
}

impl Record {
    /// The record of one run of a Rust client (`rate` 0 = closed loop).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        driver: &str,
        driver_version: &str,
        workload: &str,
        concurrency: u32,
        pool: &str,
        rate: f64,
        o: &Outcome,
        note: &str,
    ) -> Self {
        let us = |ns: u64| ns as f64 / 1000.0;
        let q = |p: f64| us(o.hist.value_at_quantile(p));
        let requests = o.requests.max(1) as f64;
        let open = rate > 0.0;
        Self {
            driver: driver.to_owned(),
            driver_version: driver_version.to_owned(),
            workload: workload.to_owned(),
            concurrency,
            pool: pool.to_owned(),
            requests: o.requests,
            errors: o.errors,
            seconds: o.seconds,
            throughput: o.requests as f64 / o.seconds,
            p50_us: q(0.5),
            p99_us: q(0.99),
            p999_us: q(0.999),
            cpu_us_per_req: o.cpu * 1e6 / requests,
            maxrss_kb: o.maxrss,
            allocs_per_req: Some(o.allocs as f64 / requests),
            note: note.to_owned(),
            rate: open.then_some(rate),
            dropped: open.then_some(o.dropped),
            late: open.then_some(o.late),
            max_us: Some(us(o.hist.max())),
            hdr: if open {
                hdr_points(&o.hist)
            } else {
                Vec::new()
            },
        }
    }
}

/// Percentiles on the HdrHistogram plot's axis: ten steps per decade of `1 / (1 - p)` from the
/// median to 99.999 % (as far as the sample reaches), then the maximum.
fn hdr_points(h: &Histogram<u64>) -> Vec<(f64, f64)> {
    let mut v = Vec::new();
    for i in 3..=50 {
        let p = 1.0 - 10_f64.powf(-f64::from(i) / 10.0);
        if (1.0 - p) * (h.len() as f64) < 1.0 {
            break;
        }
        v.push((p * 100.0, h.value_at_quantile(p) as f64 / 1000.0));
    }
    v.push((100.0, h.max() as f64 / 1000.0));
    v
}

/// User + system CPU seconds of this process so far, and its peak RSS in KiB.
pub fn rusage() -> (f64, u64) {
    // SAFETY: getrusage writes into the zeroed struct we pass; RUSAGE_SELF is always valid.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    (secs(ru.ru_utime) + secs(ru.ru_stime), ru.ru_maxrss as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hdr_points_climb_to_the_maximum() {
        let mut h = crate::drive::histogram();
        for v in 1..=100_000_u64 {
            h.record(v * 1000).expect("in range");
        }
        let pts = hdr_points(&h);
        assert!((pts[0].0 - 50.0).abs() < 0.2, "starts at the median");
        assert_eq!(pts.last().map(|p| p.0), Some(100.0));
        assert!(pts.windows(2).all(|w| w[0].0 < w[1].0 && w[0].1 <= w[1].1));
        // 100,000 samples reach 99.999 % but no further.
        assert!(pts[pts.len() - 2].0 > 99.99 && pts[pts.len() - 2].0 < 99.9995);
        assert!((pts.last().map_or(0.0, |p| p.1) - 100_000.0).abs() / 100_000.0 < 0.001);
    }
}
