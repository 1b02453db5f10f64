//! The JSON record every client program prints as its last stdout line (the Java, Go and
//! Python programs print the same fields), and the process measurements behind it.
use serde::{Deserialize, Serialize};

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
