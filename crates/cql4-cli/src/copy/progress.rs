//! The progress line on stderr, when stderr is a terminal, every REPORTFREQUENCY:
//! `Processed: N rows; Rate: R rows/s; Avg. rate: A rows/s` as cqlsh shows it.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

pub(crate) struct Progress {
    enabled: bool,
    every: Duration,
    start: Instant,
    last: Instant,
    last_rows: u64,
    shown: bool,
}

impl Progress {
    pub(crate) fn new(every: Duration) -> Self {
        let now = Instant::now();
        Self {
            enabled: std::io::stderr().is_terminal(),
            every,
            start: now,
            last: now,
            last_rows: 0,
            shown: false,
        }
    }

    pub(crate) fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }

    /// Shows the line if it is time to.
    pub(crate) fn tick(&mut self, rows: u64) {
        if !self.enabled {
            return;
        }
        let now = Instant::now();
        let since = now.duration_since(self.last);
        if since < self.every {
            return;
        }
        let rate = (rows - self.last_rows.min(rows)) as f64 / since.as_secs_f64();
        let avg = rows as f64 / now.duration_since(self.start).as_secs_f64().max(1e-9);
        eprint!("\rProcessed: {rows} rows; Rate: {rate:7.0} rows/s; Avg. rate: {avg:7.0} rows/s");
        let _ = std::io::stderr().flush();
        self.last = now;
        self.last_rows = rows;
        self.shown = true;
    }

    /// Ends the progress line so the summary starts on its own.
    pub(crate) fn finish(&mut self) {
        if self.shown {
            eprintln!();
            self.shown = false;
        }
    }
}

/// `12.345 seconds` for the summaries.
pub(crate) fn seconds(d: Duration) -> String {
    format!("{:.3} seconds", d.as_secs_f64())
}

/// Rows per second over `d`, rounded.
pub(crate) fn rate(rows: u64, d: Duration) -> u64 {
    (rows as f64 / d.as_secs_f64().max(1e-9)).round() as u64
}
