//! Shared measurements of one run: latency (overall and per request name), scheduling lag and
//! errors by kind, for requests whose intended send time falls in the measured window.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

/// HdrHistogram in µs from 1 µs to 60 s with 3 significant digits.
pub fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("static histogram bounds")
}

/// Per request name.
#[derive(Debug, Clone)]
pub struct NameStats {
    /// Latency, µs.
    pub latency: Histogram<u64>,
    /// Requests.
    pub requests: u64,
    /// Failed requests.
    pub errors: u64,
}

/// What a run measured.
#[derive(Debug, Clone)]
pub struct Measured {
    /// Latency of every measured request, µs (from the intended send time in the rate model).
    pub latency: Histogram<u64>,
    /// Actual minus intended send time, µs (rate model).
    pub lag: Histogram<u64>,
    /// By request name.
    pub per_name: BTreeMap<String, NameStats>,
    /// Failures by kind (`status 500 (expected 200)`, `timeout`, ...).
    pub errors_by_kind: BTreeMap<String, u64>,
    /// Requests sent in the window.
    pub requests: u64,
    /// Failed requests in the window.
    pub errors: u64,
    /// Requests sent in the whole run, warm-up and set-up included.
    pub requests_total: u64,
}

/// The window and the accumulated measurements.
#[derive(Debug)]
pub struct Recorder {
    window: (Instant, Instant),
    inner: Mutex<Measured>,
}

/// How a request ended.
pub type Outcome = Result<(), String>;

impl Recorder {
    /// A recorder for requests intended in `[from, to)`.
    pub fn new(from: Instant, to: Instant) -> Self {
        Self {
            window: (from, to),
            inner: Mutex::new(Measured {
                latency: histogram(),
                lag: histogram(),
                per_name: BTreeMap::new(),
                errors_by_kind: BTreeMap::new(),
                requests: 0,
                errors: 0,
                requests_total: 0,
            }),
        }
    }

    /// The measured window.
    pub fn window(&self) -> (Instant, Instant) {
        self.window
    }

    /// Records one request: intended and actual send time, completion, outcome.
    pub fn record(
        &self,
        name: &str,
        intended: Instant,
        sent: Instant,
        done: Instant,
        outcome: &Outcome,
    ) {
        let mut m = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        m.requests_total += 1;
        if intended < self.window.0 || intended >= self.window.1 {
            return;
        }
        let latency = micros(done.saturating_duration_since(intended));
        let lag = micros(sent.saturating_duration_since(intended));
        m.requests += 1;
        m.latency.saturating_record(latency);
        m.lag.saturating_record(lag);
        let failed = outcome.is_err();
        if let Err(kind) = outcome {
            m.errors += 1;
            *m.errors_by_kind.entry(kind.clone()).or_default() += 1;
        }
        let stats = m
            .per_name
            .entry(name.to_string())
            .or_insert_with(|| NameStats {
                latency: histogram(),
                requests: 0,
                errors: 0,
            });
        stats.requests += 1;
        stats.errors += u64::from(failed);
        stats.latency.saturating_record(latency);
    }

    /// Counts a request outside the measured mix (set-up steps).
    pub fn count_unmeasured(&self) {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .requests_total += 1;
    }

    /// Requests sent so far in the whole run (for live progress; copies nothing).
    pub fn requests_total(&self) -> u64 {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .requests_total
    }

    /// A copy of what was measured.
    pub fn snapshot(&self) -> Measured {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_window_is_measured_and_latency_starts_at_the_intended_time() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        let r = Recorder::new(t0 + ms(10), t0 + ms(20));
        r.record("a", t0 + ms(5), t0 + ms(5), t0 + ms(6), &Ok(()));
        r.record("a", t0 + ms(12), t0 + ms(15), t0 + ms(16), &Ok(()));
        r.record(
            "b",
            t0 + ms(19),
            t0 + ms(19),
            t0 + ms(40),
            &Err("status 500 (expected 200)".into()),
        );
        r.record("a", t0 + ms(20), t0 + ms(20), t0 + ms(21), &Ok(()));
        let m = r.snapshot();
        assert_eq!((m.requests, m.errors, m.requests_total), (2, 1, 4));
        // 16 - 12 = 4 ms including the 3 ms the request waited to be sent.
        assert!(
            (3_990..=4_010).contains(&m.per_name["a"].latency.max()),
            "{}",
            m.per_name["a"].latency.max()
        );
        assert!((2_990..=3_010).contains(&m.lag.max()));
        assert_eq!(m.errors_by_kind["status 500 (expected 200)"], 1);
        assert_eq!(m.per_name["b"].errors, 1);
    }
}
