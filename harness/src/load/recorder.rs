//! Shared measurements of one run: latency (overall and per request name), scheduling lag and
//! errors by kind, for requests whose intended send time falls in the measured window.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

/// HdrHistogram in µs from 1 µs to 60 s with 3 significant digits (the workspace's one
/// latency histogram, shared with the built-in target's worker).
pub use otelbench_latency::histogram;

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
    /// The part of the lag that is the generator's: actual send time minus the later of the
    /// intended time and the moment the user's previous request ended, µs (rate model).
    pub generator_lag: Histogram<u64>,
    /// Requests whose user was still waiting for its previous response at the intended time
    /// (the target held it: its latency, timed from the intended time, shows the wait).
    pub held: u64,
    /// By request name.
    pub per_name: BTreeMap<String, NameStats>,
    /// Failures by kind (`status 500 (expected 200)`, `timeout`, ...).
    pub errors_by_kind: BTreeMap<String, u64>,
    /// Requests scheduled in the window (intended send time inside it).
    pub requests: u64,
    /// Requests sent and completed (answered or failed) inside the window, whatever their
    /// intended time: what the achieved rate counts.
    pub completed: u64,
    /// Failed requests in the window.
    pub errors: u64,
    /// Requests sent in the whole run, warm-up and set-up included.
    pub requests_total: u64,
    /// Every measured request's latency, µs, in arrival order, when the recorder was asked to
    /// keep them ([`Recorder::keep_raw`]): for auditing that histograms were added exactly.
    pub raw_latency_us: Option<Vec<u64>>,
}

/// The window and the accumulated measurements.
#[derive(Debug)]
pub struct Recorder {
    window: (Instant, Instant),
    inner: Mutex<Measured>,
}

/// How a request ended.
pub type Outcome = Result<(), String>;

/// The times of one request.
#[derive(Debug, Clone, Copy)]
pub struct Times {
    /// When it should have been sent (its slot; the send time in the closed model).
    pub intended: Instant,
    /// When its user was free to send it (its previous request ended).
    pub free: Instant,
    /// When it was sent.
    pub sent: Instant,
    /// When its response ended.
    pub done: Instant,
}

impl Recorder {
    /// A recorder for requests intended in `[from, to)`.
    pub fn new(from: Instant, to: Instant) -> Self {
        Self {
            window: (from, to),
            inner: Mutex::new(Measured {
                latency: histogram(),
                lag: histogram(),
                generator_lag: histogram(),
                held: 0,
                per_name: BTreeMap::new(),
                errors_by_kind: BTreeMap::new(),
                requests: 0,
                completed: 0,
                errors: 0,
                requests_total: 0,
                raw_latency_us: None,
            }),
        }
    }

    /// Also keeps every measured latency (see [`Measured::raw_latency_us`]).
    #[must_use]
    pub fn keep_raw(self) -> Self {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .raw_latency_us = Some(Vec::new());
        self
    }

    /// The measured window.
    pub fn window(&self) -> (Instant, Instant) {
        self.window
    }

    /// Records one request: intended and actual send time, completion, outcome.
    pub fn record(&self, name: &str, times: Times, outcome: &Outcome) {
        let Times {
            intended,
            free,
            sent,
            done,
        } = times;
        let mut m = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        m.requests_total += 1;
        m.completed += u64::from(sent >= self.window.0 && done <= self.window.1);
        if intended < self.window.0 || intended >= self.window.1 {
            return;
        }
        let latency = micros(done.saturating_duration_since(intended));
        let lag = micros(sent.saturating_duration_since(intended));
        let generator_lag = micros(sent.saturating_duration_since(intended.max(free)));
        m.requests += 1;
        m.latency.saturating_record(latency);
        if let Some(raw) = &mut m.raw_latency_us {
            raw.push(latency);
        }
        m.lag.saturating_record(lag);
        m.generator_lag.saturating_record(generator_lag);
        m.held += u64::from(free > intended);
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
        let t = |intended, sent, done| Times {
            intended,
            free: intended,
            sent,
            done,
        };
        r.record("a", t(t0 + ms(5), t0 + ms(5), t0 + ms(6)), &Ok(()));
        r.record("a", t(t0 + ms(12), t0 + ms(15), t0 + ms(16)), &Ok(()));
        r.record(
            "b",
            t(t0 + ms(19), t0 + ms(19), t0 + ms(40)),
            &Err("status 500 (expected 200)".into()),
        );
        r.record("a", t(t0 + ms(20), t0 + ms(20), t0 + ms(21)), &Ok(()));
        let m = r.snapshot();
        assert_eq!((m.requests, m.errors, m.requests_total), (2, 1, 4));
        // Sent at 15 ms and done at 16 ms; the one due at 19 ms ended after the window.
        assert_eq!(m.completed, 1);
        // 16 - 12 = 4 ms including the 3 ms the request waited to be sent.
        assert!(
            (3_990..=4_010).contains(&m.per_name["a"].latency.max()),
            "{}",
            m.per_name["a"].latency.max()
        );
        assert!((2_990..=3_010).contains(&m.lag.max()));
        assert_eq!(m.errors_by_kind["status 500 (expected 200)"], 1);
        assert_eq!(m.per_name["b"].errors, 1);
        assert_eq!(m.held, 0);
    }

    #[test]
    fn the_achieved_count_is_what_was_sent_and_done_inside_the_window() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        let r = Recorder::new(t0 + ms(100), t0 + ms(200));
        let t = |intended, sent, done| Times {
            intended,
            free: intended,
            sent,
            done,
        };
        // Due in the warm-up but sent late, inside the window: it happened in the window.
        r.record("a", t(t0 + ms(95), t0 + ms(101), t0 + ms(102)), &Ok(()));
        // Due and sent in the window, answered in it (a failure completes too).
        r.record(
            "a",
            t(t0 + ms(150), t0 + ms(150), t0 + ms(151)),
            &Err("timeout".into()),
        );
        // Due in the window, never sent before its end (a stalled generator).
        r.record("a", t(t0 + ms(190), t0 + ms(230), t0 + ms(231)), &Ok(()));
        // Sent before the window, answered inside it.
        r.record("a", t(t0 + ms(90), t0 + ms(90), t0 + ms(120)), &Ok(()));
        let m = r.snapshot();
        assert_eq!(m.completed, 2);
        assert_eq!(m.requests, 2, "the schedule: due at 150 and 190 ms");
    }

    #[test]
    fn a_user_held_by_the_target_is_not_the_generator_being_late() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        let r = Recorder::new(t0, t0 + ms(100));
        // Due at 10 ms, but the previous response only ended at 14 ms; sent at 14.2 ms.
        let times = Times {
            intended: t0 + ms(10),
            free: t0 + ms(14),
            sent: t0 + Duration::from_micros(14_200),
            done: t0 + ms(20),
        };
        r.record("a", times, &Ok(()));
        let m = r.snapshot();
        assert_eq!(m.held, 1);
        assert!((4_190..=4_210).contains(&m.lag.max()), "{}", m.lag.max());
        assert!(
            (195..=205).contains(&m.generator_lag.max()),
            "{}",
            m.generator_lag.max()
        );
        assert!(
            (9_990..=10_010).contains(&m.latency.max()),
            "timed from the slot"
        );
    }
}
