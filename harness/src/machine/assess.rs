//! The verdict of the machine check, in plain words. Pure: every input was measured or read.

use crate::results::{CpuProbe, MachineVerdict};
use crate::scenario::KeepAwake;

/// Steal above this share of CPU time (percent) is worth a word.
const STEAL_NOTE_PCT: f64 = 1.0;

/// Whether the generator runs on CPUs of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pinning {
    /// Pinned as the scenario asks.
    Pinned,
    /// The scenario asks for it, but the system refused.
    Refused,
    /// The scenario does not pin (`placement.pin = false`).
    Off,
}

/// What the check saw.
#[derive(Debug, Clone)]
pub struct Observed<'a> {
    /// The CPU reports a hypervisor.
    pub hypervisor: bool,
    /// CPUs online.
    pub cpus_online: usize,
    /// Pinning, as asked and as it went.
    pub pinning: Pinning,
    /// The scenario's setting.
    pub keep_awake_setting: KeepAwake,
    /// The generator's CPUs were kept awake during the timer probe.
    pub keep_awake: bool,
    /// Steal over the check, percent.
    pub steal_pct: Option<f64>,
    /// Requests/s judged for.
    pub rate: f64,
    /// The lag limit, µs.
    pub lag_limit_us: u64,
    /// One per generator CPU.
    pub probes: &'a [CpuProbe],
}

/// The verdict, what was found, and what to change.
#[derive(Debug, Clone, PartialEq)]
pub struct Assessment {
    /// Can the machine give valid latency at the rate?
    pub verdict: MachineVerdict,
    /// Plain words on what was detected.
    pub findings: Vec<String>,
    /// What to change.
    pub advice: Vec<String>,
}

/// Judges `o`: the worst CPU's timer lag p99 against the limit (good at half of it or less),
/// and the lag the machine's own gaps force, which no generator can beat.
pub fn assess(o: &Observed) -> Assessment {
    let limit = o.lag_limit_us as f64;
    let timer_p99 = o
        .probes
        .iter()
        .map(|p| p.timer_lag_p99_us)
        .max()
        .unwrap_or(0) as f64;
    let forced = o
        .probes
        .iter()
        .map(|p| p.forced_lag_p99_us)
        .fold(0.0_f64, f64::max);
    let worst = timer_p99.max(forced);
    let verdict = if worst > limit {
        MachineVerdict::Poor
    } else if worst > limit / 2.0 {
        MachineVerdict::Marginal
    } else {
        MachineVerdict::Good
    };
    let mut findings = vec![format!(
        "{}; {} CPU{} online; {}",
        if o.hypervisor {
            "a virtual machine (the CPU reports a hypervisor): an idle vCPU halts and can wake late"
        } else {
            "no hypervisor reported"
        },
        o.cpus_online,
        if o.cpus_online == 1 { "" } else { "s" },
        match o.pinning {
            Pinning::Pinned => "generator and target pinned to their own CPUs",
            Pinning::Refused => "pinning was refused",
            Pinning::Off => "not pinned (placement.pin = false)",
        }
    )];
    if let Some(steal) = o.steal_pct {
        findings.push(format!(
            "other guests took {steal:.1}% of the CPUs' time during the check (steal)"
        ));
    }
    for p in o.probes {
        findings.push(format!(
            "{}: a spinning thread lost {:.1}% of its time in gaps over 20 µs (longest {}), which alone force a lag p99 of {}; a timer due {:.0} times a second woke p50 {} µs, p99 {} µs late{}",
            p.cpu.map_or_else(|| "any CPU".to_string(), |c| format!("CPU {c}")),
            p.lost_pct,
            us(p.longest_gap_us),
            us(p.forced_lag_p99_us),
            o.rate,
            p.timer_lag_p50_us,
            p.timer_lag_p99_us,
            if o.keep_awake {
                " (kept awake)"
            } else {
                ""
            }
        ));
    }
    let mut advice = Vec::new();
    if verdict != MachineVerdict::Good {
        advice.extend(advise(o, forced, limit));
    }
    if verdict == MachineVerdict::Marginal {
        advice.push(
            "expect some runs to be invalid for their latency and replaced (max_retries, default 2 per run)".into(),
        );
    }
    Assessment {
        verdict,
        findings,
        advice,
    }
}

fn advise(o: &Observed, forced: f64, limit: f64) -> Vec<String> {
    let mut advice = Vec::new();
    if o.cpus_online < 2 {
        advice.push("this machine has one CPU: the generator and the target share it; use a machine with 2 or more".into());
    }
    if o.pinning == Pinning::Off {
        advice
            .push("pin the generator and the target to separate CPUs: placement.pin = true".into());
    }
    if o.pinning != Pinning::Off && !o.keep_awake {
        advice.push(match o.keep_awake_setting {
            KeepAwake::Off => "keep the generator's CPUs awake: placement.keep_awake = true (or \"auto\"); it is off in this scenario".into(),
            _ => "keep the generator's CPUs awake: placement.keep_awake = true (auto turns it on only under a hypervisor)".into(),
        });
    }
    if forced > limit {
        advice.push(format!(
            "the machine itself takes the CPU away for long enough to force a lag p99 of {}, over the {} limit, whatever the generator does: run on a quieter or dedicated machine (CPU per request is still measured in runs invalid for latency)",
            us(forced),
            us(limit)
        ));
    }
    if o.steal_pct.is_some_and(|s| s > STEAL_NOTE_PCT) {
        advice.push("other guests take a noticeable share of the CPUs: a dedicated or larger instance, or a quieter hour, helps".into());
    }
    if o.rate > 5_000.0 {
        advice.push("a lower rate per generator CPU, or more generator CPUs (placement.generator_cpus), leaves the generator more slack".into());
    }
    advice
}

fn us(v: f64) -> String {
    if v >= 1_000.0 {
        format!("{:.1} ms", v / 1_000.0)
    } else {
        format!("{v:.0} µs")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe(timer_p99: u64, forced: f64) -> CpuProbe {
        CpuProbe {
            cpu: Some(0),
            spin_s: 1.0,
            lost_pct: 1.0,
            longest_gap_us: 900.0,
            forced_lag_p99_us: forced,
            timer_wakeups: 400,
            timer_lag_p50_us: 30,
            timer_lag_p99_us: timer_p99,
        }
    }

    fn observed(probes: &[CpuProbe], keep_awake: bool) -> Observed<'_> {
        Observed {
            hypervisor: true,
            cpus_online: 2,
            pinning: Pinning::Pinned,
            keep_awake_setting: KeepAwake::Auto,
            keep_awake,
            steal_pct: Some(0.2),
            rate: 400.0,
            lag_limit_us: 1_000,
            probes,
        }
    }

    #[test]
    fn verdicts_follow_the_worst_lag_against_the_limit() {
        for (timer, forced, verdict) in [
            (120, 40.0, MachineVerdict::Good),
            (700, 40.0, MachineVerdict::Marginal),
            (1_500, 40.0, MachineVerdict::Poor),
            (120, 2_000.0, MachineVerdict::Poor),
        ] {
            let probes = [probe(timer, forced)];
            assert_eq!(
                assess(&observed(&probes, true)).verdict,
                verdict,
                "{timer} {forced}"
            );
        }
    }

    #[test]
    fn a_late_timer_without_keep_awake_says_to_turn_it_on() {
        let probes = [probe(1_500, 40.0)];
        let a = assess(&observed(&probes, false));
        assert_eq!(a.verdict, MachineVerdict::Poor);
        assert!(
            a.advice.iter().any(|s| s.contains("keep_awake = true")),
            "{a:?}"
        );
        assert!(a.findings[0].contains("virtual machine"), "{a:?}");
    }

    #[test]
    fn a_machine_that_forces_the_lag_is_told_so() {
        let probes = [probe(3_000, 2_500.0)];
        let a = assess(&observed(&probes, true));
        assert!(
            a.advice.iter().any(|s| s.contains("quieter or dedicated")),
            "{a:?}"
        );
        assert!(!a.advice.iter().any(|s| s.contains("keep_awake")), "{a:?}");
    }

    #[test]
    fn a_good_machine_gets_no_advice() {
        let probes = [probe(90, 30.0)];
        let a = assess(&observed(&probes, true));
        assert_eq!(a.verdict, MachineVerdict::Good);
        assert!(a.advice.is_empty(), "{a:?}");
        assert!(
            a.findings
                .iter()
                .any(|f| f.contains("p99 90 µs late (kept awake)")),
            "{a:?}"
        );
    }
}
