//! A shard's timing: when each run of its plan starts (from the start time every instance was
//! given), its user ids and slot phase, and the measured window on the wall clock.

use std::time::{Duration, Instant, SystemTime};

use crate::load::pacing::slot_offset;
use crate::results::shard::RunWindow;
use crate::scenario::shard::rfc3339;
use crate::scenario::{Model, Scenario};

/// The environment variable naming a directory where each run also writes every measured
/// latency (µs, one per line), to audit that `merge` adds histograms exactly.
pub const RAW_LATENCY_ENV: &str = "OTELBENCH_RAW_LATENCY";

/// When a run's schedules start, and for a shard when they were asked to.
#[derive(Debug, Clone, Copy)]
pub(super) struct Start {
    /// When the schedules start.
    pub at: Instant,
    /// A shard's asked start of this run (its window opens `warmup_s` later).
    pub asked: Option<SystemTime>,
    /// The first user's id.
    pub first_user: u32,
    /// This instance's slot phase.
    pub phase: Duration,
}

/// The start of repetition `repetition` (1-based; a scaled-out plan has one variant): in a
/// shard, the given start time plus one slot per earlier run, or as soon as the users can have
/// run their set-up if that is later; otherwise as soon as they can.
pub(super) fn start(scenario: &Scenario, repetition: u32) -> Start {
    let earliest = Instant::now() + crate::load::setup_allowance(scenario.load.users);
    let Some(s) = &scenario.shard else {
        return Start {
            at: earliest,
            asked: None,
            first_user: 0,
            phase: Duration::ZERO,
        };
    };
    let asked = s.start_at + Duration::from_secs_f64(s.record.slot_s) * (repetition - 1);
    let due = instant_of(asked);
    let at = due.max(earliest);
    if at > due + Duration::from_millis(100) {
        eprintln!(
            "otelbench: shard {}/{}: repetition {repetition} starts {:.1} s after its time ({}): its window will not meet the other instances'; give a --start-at further ahead",
            s.shard.index,
            s.shard.count,
            (at - due).as_secs_f64(),
            rfc3339(asked)
        );
    }
    // Instance i's slot j is due at (j * count + i) / total rate: together, the instances send
    // the single-instance schedule.
    let phase = match (scenario.load.model, scenario.load.rate) {
        (Model::Rate, Some(rate)) => {
            slot_offset(u64::from(s.shard.index), rate * f64::from(s.shard.count))
        }
        _ => Duration::ZERO,
    };
    Start {
        at,
        asked: Some(asked),
        first_user: s.first_user,
        phase,
    }
}

/// The wall-clock time of `t`.
pub fn wall(t: Instant) -> SystemTime {
    let (now, wall_now) = (Instant::now(), SystemTime::now());
    if t >= now {
        wall_now + (t - now)
    } else {
        wall_now - (now - t)
    }
}

/// The monotonic instant of wall-clock time `t`.
fn instant_of(t: SystemTime) -> Instant {
    let (now, wall_now) = (Instant::now(), SystemTime::now());
    match t.duration_since(wall_now) {
        Ok(ahead) => now + ahead,
        Err(e) => now.checked_sub(e.duration()).unwrap_or(now),
    }
}

/// The measured window `[from, to)` on the wall clock; for a shard, how late it opened
/// against the asked start plus `warmup_s`.
pub(super) fn window(from: Instant, to: Instant, start: &Start, warmup_s: f64) -> RunWindow {
    let (from_wall, to_wall) = (wall(from), wall(to));
    let late_ms = start.asked.map(|asked| {
        let due = asked + Duration::from_secs_f64(warmup_s);
        match from_wall.duration_since(due) {
            Ok(late) => late.as_secs_f64() * 1e3,
            Err(early) => -early.duration().as_secs_f64() * 1e3,
        }
    });
    RunWindow {
        start: rfc3339(from_wall),
        end: rfc3339(to_wall),
        late_ms,
        start_spread_ms: None,
    }
}

/// Writes `latencies` to `$OTELBENCH_RAW_LATENCY/<variant>.r<repetition>.<run id>.txt`.
pub(super) fn write_raw(variant: &str, repetition: u32, run_id: &str, latencies: &[u64]) {
    let Some(dir) = std::env::var_os(RAW_LATENCY_ENV) else {
        return;
    };
    let name: String = variant
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let path = std::path::Path::new(&dir).join(format!("{name}.r{repetition}.{run_id}.txt"));
    let text = latencies.iter().fold(String::new(), |mut t, us| {
        use std::fmt::Write as _;
        let _ = writeln!(t, "{us}");
        t
    });
    if let Err(e) = std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&path, text)) {
        eprintln!(
            "otelbench: {RAW_LATENCY_ENV}: cannot write {}: {e}",
            path.display()
        );
    }
}

/// Whether runs keep every latency for [`write_raw`].
pub(super) fn keep_raw() -> bool {
    std::env::var_os(RAW_LATENCY_ENV).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wall_and_instant_agree() {
        let t = Instant::now() + Duration::from_secs(5);
        let back = instant_of(wall(t));
        let diff = if back > t { back - t } else { t - back };
        assert!(diff < Duration::from_millis(5), "{diff:?}");
    }

    #[test]
    fn a_window_records_how_late_it_opened() {
        let now = Instant::now();
        let start = Start {
            at: now,
            asked: Some(wall(now) - Duration::from_millis(250)),
            first_user: 0,
            phase: Duration::ZERO,
        };
        let w = window(
            now + Duration::from_secs(1),
            now + Duration::from_secs(2),
            &start,
            1.0,
        );
        let late = w.late_ms.unwrap();
        assert!((245.0..255.0).contains(&late), "{late}");
        assert!(w.start < w.end, "{w:?}");
    }
}
