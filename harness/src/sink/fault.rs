//! Collector faults the embedded sink can play, so a run measures what a slow, failing or absent
//! collector does to the *app*: `down`, `slow:<duration>`, `error:<ratio>`, `reject`,
//! `flap:<up>/<down>` and `blackhole`.
//!
//! Connection-level faults (`down`, `flap`, `blackhole`) are played by the sink's gate (see
//! `gate.rs`); request-level faults (`slow`, `error`, `reject`) by [`FaultState::admit`], which
//! every export handler of both transports calls first.

use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::{Serialize, Serializer};

/// Parts per million: error ratios are kept exactly, so a fault compares and prints as written.
const PPM: u64 = 1_000_000;

/// One collector fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// No listener: every connection is refused.
    Down,
    /// Every export is answered after this delay.
    Slow(Duration),
    /// This share of exports (parts per million, spread evenly) is answered with gRPC UNAVAILABLE
    /// / HTTP 503.
    Error {
        /// Share refused, parts per million.
        ppm: u32,
    },
    /// Every export is answered with gRPC RESOURCE_EXHAUSTED / HTTP 429.
    Reject,
    /// Alternating availability: up for `up`, then down (listener closed, live connections cut)
    /// for `down`, and so on, starting up.
    Flap {
        /// Time up.
        up: Duration,
        /// Time down.
        down: Duration,
    },
    /// Connections are accepted and read, never answered.
    Blackhole,
}

/// What an export handler must do with one export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Accept it now.
    Accept,
    /// Accept it after this delay.
    Delay(Duration),
    /// Refuse it: gRPC UNAVAILABLE / HTTP 503.
    Unavailable,
    /// Refuse it: gRPC RESOURCE_EXHAUSTED / HTTP 429.
    Exhausted,
}

/// A bad fault spec; the message says what is accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{spec:?} is not a collector fault: {reason}; use one of down, slow:<duration> (e.g. slow:500ms), error:<ratio> (e.g. error:0.5), reject, flap:<up>/<down> (e.g. flap:10s/5s), blackhole"
)]
pub struct FaultParseError {
    spec: String,
    reason: String,
}

/// Parses `500ms`, `2s`, `1.5s`, `250us`: a non-negative number and a unit.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let split = text.find(|c: char| c.is_ascii_alphabetic())?;
    let (number, unit) = text.split_at(split);
    let value: f64 = number.trim().parse().ok()?;
    if !(value.is_finite() && value >= 0.0) {
        return None;
    }
    let seconds = match unit {
        "us" | "µs" => value / 1e6,
        "ms" => value / 1e3,
        "s" => value,
        "m" | "min" => value * 60.0,
        _ => return None,
    };
    Some(Duration::from_secs_f64(seconds))
}

fn format_duration(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1e3;
    if d.subsec_nanos() == 0 && d.as_secs() > 0 {
        format!("{}s", d.as_secs())
    } else if (ms - ms.round()).abs() < 1e-9 {
        format!("{}ms", ms.round())
    } else {
        format!("{}us", d.as_micros())
    }
}

impl FromStr for Fault {
    type Err = FaultParseError;

    fn from_str(spec: &str) -> Result<Self, Self::Err> {
        let bad = |reason: &str| FaultParseError {
            spec: spec.to_string(),
            reason: reason.to_string(),
        };
        let (kind, arg) = match spec.trim().split_once(':') {
            Some((k, a)) => (k.trim(), Some(a.trim())),
            None => (spec.trim(), None),
        };
        let no_arg = |fault: Fault| match arg {
            None => Ok(fault),
            Some(_) => Err(bad(&format!("{kind} takes no argument"))),
        };
        match kind {
            "down" => no_arg(Fault::Down),
            "reject" => no_arg(Fault::Reject),
            "blackhole" => no_arg(Fault::Blackhole),
            "slow" => {
                let d = arg
                    .and_then(parse_duration)
                    .ok_or_else(|| bad("slow needs a duration such as 500ms"))?;
                Ok(Fault::Slow(d))
            }
            "error" => {
                let ratio: f64 = arg
                    .and_then(|a| a.parse().ok())
                    .ok_or_else(|| bad("error needs a ratio such as 0.5"))?;
                if !(ratio > 0.0 && ratio <= 1.0) {
                    return Err(bad("the ratio must be above 0 and at most 1"));
                }
                Ok(Fault::Error {
                    ppm: (ratio * PPM as f64).round() as u32,
                })
            }
            "flap" => {
                let (up, down) = arg
                    .and_then(|a| a.split_once('/'))
                    .and_then(|(u, d)| Some((parse_duration(u)?, parse_duration(d)?)))
                    .ok_or_else(|| bad("flap needs two durations such as 10s/5s"))?;
                if up < Duration::from_millis(10) || down < Duration::from_millis(10) {
                    return Err(bad("both phases must last at least 10ms"));
                }
                Ok(Fault::Flap { up, down })
            }
            "" => Err(bad("it is empty")),
            _ => Err(bad(&format!("unknown kind {kind:?}"))),
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::Down => f.write_str("down"),
            Fault::Reject => f.write_str("reject"),
            Fault::Blackhole => f.write_str("blackhole"),
            Fault::Slow(d) => write!(f, "slow:{}", format_duration(*d)),
            Fault::Error { ppm } => write!(f, "error:{}", f64::from(*ppm) / PPM as f64),
            Fault::Flap { up, down } => {
                write!(
                    f,
                    "flap:{}/{}",
                    format_duration(*up),
                    format_duration(*down)
                )
            }
        }
    }
}

impl Serialize for Fault {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// Whether the `n`-th export (0-based) is refused when `ppm` parts per million are: refusals are
/// spread evenly (0.5 refuses every second export), so a short run gets exactly its share.
pub fn refuses(n: u64, ppm: u32) -> bool {
    let ppm = u64::from(ppm);
    (n + 1) * ppm / PPM > n * ppm / PPM
}

/// The request-level part of a fault, shared by every export handler.
#[derive(Debug, Default)]
pub struct FaultState {
    fault: Option<Fault>,
    exports: AtomicU64,
}

impl FaultState {
    /// The state for `fault` (none: every export is accepted).
    pub fn new(fault: Option<Fault>) -> Self {
        Self {
            fault,
            exports: AtomicU64::new(0),
        }
    }

    /// What to do with the next export.
    pub fn action(&self) -> Action {
        match self.fault {
            Some(Fault::Slow(d)) => Action::Delay(d),
            Some(Fault::Reject) => Action::Exhausted,
            Some(Fault::Error { ppm }) => {
                let n = self.exports.fetch_add(1, Ordering::Relaxed);
                if refuses(n, ppm) {
                    Action::Unavailable
                } else {
                    Action::Accept
                }
            }
            _ => Action::Accept,
        }
    }
}

/// Why an export was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// gRPC UNAVAILABLE / HTTP 503 (`error`).
    Unavailable,
    /// gRPC RESOURCE_EXHAUSTED / HTTP 429 (`reject`).
    Exhausted,
}

impl FaultState {
    /// Plays the request-level fault for one export: waits for `slow`, refuses for `error` and
    /// `reject`, accepts otherwise.
    pub async fn admit(&self) -> Result<(), Refusal> {
        match self.action() {
            Action::Accept => Ok(()),
            Action::Delay(d) => {
                tokio::time::sleep(d).await;
                Ok(())
            }
            Action::Unavailable => Err(Refusal::Unavailable),
            Action::Exhausted => Err(Refusal::Exhausted),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_mode_parses_and_prints_back() {
        for spec in [
            "down",
            "reject",
            "blackhole",
            "slow:500ms",
            "slow:2s",
            "error:0.5",
            "error:1",
            "error:0.05",
            "flap:10s/5s",
            "flap:300ms/200ms",
        ] {
            let fault: Fault = spec.parse().unwrap();
            assert_eq!(fault.to_string(), spec, "{fault:?}");
        }
        assert_eq!(
            "slow:1.5s".parse::<Fault>().unwrap(),
            Fault::Slow(Duration::from_millis(1500))
        );
    }

    #[test]
    fn bad_specs_say_what_is_accepted() {
        for (spec, reason) in [
            ("slow", "needs a duration"),
            ("slow:fast", "needs a duration"),
            ("error:0", "above 0"),
            ("error:1.5", "above 0"),
            ("error:x", "needs a ratio"),
            ("flap:10s", "two durations"),
            ("flap:5ms/5s", "at least 10ms"),
            ("down:5s", "takes no argument"),
            ("crash", "unknown kind"),
            ("", "empty"),
        ] {
            let e = spec.parse::<Fault>().unwrap_err().to_string();
            assert!(e.contains(reason), "{spec}: {e}");
            assert!(e.contains("use one of down, slow:<duration>"), "{e}");
        }
    }

    #[test]
    fn refusals_are_spread_evenly_and_exact() {
        let count = |ppm: u32, n: u64| (0..n).filter(|i| refuses(*i, ppm)).count();
        assert_eq!(count(500_000, 10), 5);
        assert_eq!(count(1_000_000, 7), 7);
        assert_eq!(count(100_000, 100), 10);
        assert_eq!(count(333_333, 9), 2); // 8.99997 / 3
        // Every second export, not the first half.
        let pattern: Vec<bool> = (0..4).map(|i| refuses(i, 500_000)).collect();
        assert_eq!(pattern, [false, true, false, true]);
    }

    #[test]
    fn actions_follow_the_fault() {
        assert_eq!(FaultState::new(None).action(), Action::Accept);
        assert_eq!(
            FaultState::new(Some(Fault::Reject)).action(),
            Action::Exhausted
        );
        assert_eq!(
            FaultState::new(Some(Fault::Slow(Duration::from_millis(5)))).action(),
            Action::Delay(Duration::from_millis(5))
        );
        let half = FaultState::new(Some(Fault::Error { ppm: 500_000 }));
        let actions: Vec<Action> = (0..4).map(|_| half.action()).collect();
        assert_eq!(
            actions,
            [
                Action::Accept,
                Action::Unavailable,
                Action::Accept,
                Action::Unavailable
            ]
        );
        // Connection-level faults are the gate's: handlers accept.
        assert_eq!(FaultState::new(Some(Fault::Down)).action(), Action::Accept);
    }
}
