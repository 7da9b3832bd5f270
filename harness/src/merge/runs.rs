//! One merged run from the shards' runs of one place in the plan: histograms added (never
//! percentiles averaged), counts and rates summed, validity merged with each shard named.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;

use crate::results::shard::RunWindow;
use crate::results::{Cpu, Latency, LoadResult, PerRequest, RunResult, Telemetry};

/// Windows that overlap for less than this share of their length did not measure one load.
pub const MIN_OVERLAP: f64 = 0.9;

/// A shard's run, or why it has none.
pub type ShardRun<'a> = (u32, Option<&'a RunResult>);

/// Adds the histograms of `parts`; an empty blob (a run that measured nothing) adds nothing.
pub fn add(parts: &[&Latency]) -> Result<Latency, String> {
    let mut sum: Histogram<u64> = crate::load::recorder::histogram();
    for l in parts.iter().filter(|l| !l.hdr_base64.is_empty()) {
        let h = l.histogram().map_err(|e| format!("{e:#}"))?;
        sum.add(&h)
            .map_err(|e| format!("histograms do not add: {e:?}"))?;
    }
    Ok(Latency::from_histogram(&sum))
}

/// The merged run of one (variant, repetition). `runs` holds every shard, in index order.
pub fn merge(runs: &[ShardRun<'_>]) -> Result<RunResult, String> {
    let present: Vec<(u32, &RunResult)> =
        runs.iter().filter_map(|(i, r)| Some((*i, (*r)?))).collect();
    let (_, first) = *present.first().ok_or("no shard has this run")?;
    let mut reasons: Vec<String> = runs
        .iter()
        .filter(|(_, r)| r.is_none())
        .map(|(i, _)| {
            format!("shard {i} has no run of this place (it was interrupted or ended early)")
        })
        .collect();
    let mut latency_only = true;
    for (i, r) in &present {
        if let Some(reason) = &r.invalid_reason {
            reasons.push(format!("shard {i}: {reason}"));
            latency_only &= r.latency_only;
        }
    }
    let window = window(&present);
    if let Some(problem) = window.as_ref().and_then(|(_, overlap, spread)| {
        (*overlap < MIN_OVERLAP).then(|| {
            format!(
                "the shards' windows overlap for {:.0}% of their length (starts {spread:.0} ms apart); fix: give every instance the same --start-at, far enough ahead for all to be ready",
                overlap * 100.0
            )
        })
    }) {
        reasons.push(problem);
        latency_only = false;
    }
    latency_only &= !reasons.is_empty() && runs.iter().all(|(_, r)| r.is_some());
    let all = |f: fn(&RunResult) -> &Latency| -> Result<Latency, String> {
        add(&present.iter().map(|(_, r)| f(r)).collect::<Vec<_>>())
    };
    let requests: u64 = present.iter().map(|(_, r)| r.load.requests).sum();
    Ok(RunResult {
        variant: first.variant.clone(),
        repetition: first.repetition,
        attempt: 1,
        replaced_by: None,
        transient: false,
        valid: reasons.is_empty(),
        invalid_reason: (!reasons.is_empty()).then(|| reasons.join("; ")),
        latency_only,
        env: first.env.clone(),
        load: load(
            &present,
            all(|r| &r.load.lag_us)?,
            all(|r| &r.load.generator_lag_us)?,
        ),
        latency_us: all(|r| &r.latency_us)?,
        per_request: per_request(&present)?,
        cpu: generator_cpu(&present, requests),
        // Target-side figures come from `otelbench sample` (see `samples`).
        memory_mb: BTreeMap::new(),
        telemetry: telemetry(&present),
        jobs: None,
        placement: crate::results::Placement::default(),
        collector: first.collector.clone(),
        capacity: None,
        window: window.map(|(w, _, _)| w),
    })
}

fn load(present: &[(u32, &RunResult)], lag: Latency, generator_lag: Latency) -> LoadResult {
    let first = &present[0].1.load;
    let sum = |f: fn(&LoadResult) -> u64| present.iter().map(|(_, r)| f(&r.load)).sum::<u64>();
    let sum_f = |f: fn(&LoadResult) -> f64| present.iter().map(|(_, r)| f(&r.load)).sum::<f64>();
    let mut errors_by_kind: BTreeMap<String, u64> = BTreeMap::new();
    for (_, r) in present {
        for (kind, n) in &r.load.errors_by_kind {
            *errors_by_kind.entry(kind.clone()).or_default() += n;
        }
    }
    LoadResult {
        model: first.model.clone(),
        target_rps: present
            .iter()
            .map(|(_, r)| r.load.target_rps)
            .sum::<Option<f64>>(),
        achieved_rps: sum_f(|l| l.achieved_rps),
        offered_rps: sum_f(|l| l.offered_rps),
        completed: sum(|l| l.completed),
        duration_s: first.duration_s,
        requests: sum(|l| l.requests),
        errors: sum(|l| l.errors),
        errors_by_kind,
        users: present.iter().map(|(_, r)| r.load.users).sum(),
        lag_us: lag,
        generator_lag_us: generator_lag,
        held_requests: sum(|l| l.held_requests),
        requests_total: sum(|l| l.requests_total),
    }
}

fn per_request(present: &[(u32, &RunResult)]) -> Result<BTreeMap<String, PerRequest>, String> {
    let names: std::collections::BTreeSet<&String> = present
        .iter()
        .flat_map(|(_, r)| r.per_request.keys())
        .collect();
    names
        .into_iter()
        .map(|name| {
            let parts: Vec<&PerRequest> = present
                .iter()
                .filter_map(|(_, r)| r.per_request.get(name))
                .collect();
            let latency = add(&parts.iter().map(|p| &p.latency_us).collect::<Vec<_>>())?;
            Ok((
                name.clone(),
                PerRequest {
                    requests: parts.iter().map(|p| p.requests).sum(),
                    errors: parts.iter().map(|p| p.errors).sum(),
                    latency_us: latency,
                },
            ))
        })
        .collect()
}

/// The generators' CPU: cores summed over the instances, µs per request weighted by each
/// instance's requests. The target's CPU is left for the samples to fill.
fn generator_cpu(present: &[(u32, &RunResult)], requests: u64) -> Cpu {
    let weighted = |f: fn(&Cpu) -> f64| {
        if requests == 0 {
            return 0.0;
        }
        present
            .iter()
            .map(|(_, r)| f(&r.cpu) * r.load.requests as f64)
            .sum::<f64>()
            / requests as f64
    };
    Cpu {
        generator_cores: present.iter().map(|(_, r)| r.cpu.generator_cores).sum(),
        generator_us_per_request: weighted(|c| c.generator_us_per_request),
        sink_us_per_request: weighted(|c| c.sink_us_per_request),
        ..Cpu::default()
    }
}

/// What each instance's collector counted, summed (nothing, for a service whose telemetry
/// goes to its own collector).
fn telemetry(present: &[(u32, &RunResult)]) -> Telemetry {
    let sum = |f: fn(&Telemetry) -> u64| present.iter().map(|(_, r)| f(&r.telemetry)).sum::<u64>();
    let sent: u64 = present.iter().map(|(_, r)| r.load.requests_total).sum();
    let request_traces = sum(|t| t.request_traces);
    Telemetry {
        spans_received: sum(|t| t.spans_received),
        metric_points_received: sum(|t| t.metric_points_received),
        log_records_received: sum(|t| t.log_records_received),
        export_requests: sum(|t| t.export_requests),
        bytes_received: sum(|t| t.bytes_received),
        traces_complete: sum(|t| t.traces_complete),
        request_traces,
        producer_spans: sum(|t| t.producer_spans),
        consumer_spans: sum(|t| t.consumer_spans),
        observed_sampling_ratio: if sent == 0 {
            0.0
        } else {
            request_traces as f64 / sent as f64
        },
        target_spans: None,
    }
}

/// The merged window (earliest start to latest end, with the spread of the starts), the share
/// of its length all shards measured together, and the spread in ms. `None` when a shard's
/// window is unknown.
fn window(present: &[(u32, &RunResult)]) -> Option<(RunWindow, f64, f64)> {
    let parsed: Vec<(i64, i64)> = present
        .iter()
        .map(|(_, r)| {
            let w = r.window.as_ref()?;
            Some((micros(&w.start)?, micros(&w.end)?))
        })
        .collect::<Option<_>>()?;
    let (earliest, latest_start) = (
        parsed.iter().map(|w| w.0).min()?,
        parsed.iter().map(|w| w.0).max()?,
    );
    let (earliest_end, latest) = (
        parsed.iter().map(|w| w.1).min()?,
        parsed.iter().map(|w| w.1).max()?,
    );
    let length = parsed.iter().map(|w| w.1 - w.0).max()?.max(1);
    let overlap = (earliest_end - latest_start).max(0) as f64 / length as f64;
    let spread_ms = (latest_start - earliest) as f64 / 1e3;
    let at = |us: i64| {
        crate::scenario::shard::rfc3339(
            std::time::UNIX_EPOCH
                + std::time::Duration::from_micros(u64::try_from(us).unwrap_or(0)),
        )
    };
    Some((
        RunWindow {
            start: at(earliest),
            end: at(latest),
            late_ms: None,
            start_spread_ms: Some(spread_ms),
        },
        overlap,
        spread_ms,
    ))
}

/// Unix µs of an RFC 3339 time.
pub fn micros(rfc3339: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .ok()
        .map(|t| t.timestamp_micros())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::fixture;
    use crate::results::shard::RunWindow;

    fn latency(values: impl Iterator<Item = u64>) -> Latency {
        let mut h = crate::load::recorder::histogram();
        for v in values {
            h.record(v).unwrap();
        }
        Latency::from_histogram(&h)
    }

    /// Shard `i`'s run: `n` requests of latencies spread by the shard (so the shards differ).
    fn shard_run(i: u64, n: u64, start: &str, end: &str) -> RunResult {
        let mut r = fixture::results().runs[0].clone();
        r.latency_us = latency((0..n).map(|k| 100 + k * (i + 1) * 37 % 9_000));
        r.load.requests = n;
        r.load.achieved_rps = n as f64 / 10.0;
        r.load.target_rps = Some(10.0);
        r.per_request = BTreeMap::from([(
            "get".to_string(),
            PerRequest {
                requests: n,
                errors: 0,
                latency_us: r.latency_us.clone(),
            },
        )]);
        r.window = Some(RunWindow {
            start: start.into(),
            end: end.into(),
            ..RunWindow::default()
        });
        r
    }

    #[test]
    fn histograms_add_to_the_histogram_of_every_sample_and_counts_sum() {
        let (s, e) = ("2026-12-03T10:00:01Z", "2026-12-03T10:00:11Z");
        let runs: Vec<RunResult> = (0..3).map(|i| shard_run(i, 100 + i * 50, s, e)).collect();
        let merged = merge(&[
            (0, Some(&runs[0])),
            (1, Some(&runs[1])),
            (2, Some(&runs[2])),
        ])
        .unwrap();
        let all = latency(
            (0..3).flat_map(|i| (0..100 + i * 50).map(move |k| 100 + k * (i + 1) * 37 % 9_000)),
        );
        let l = &merged.latency_us;
        assert_eq!(
            (l.p50, l.p90, l.p99, l.p999, l.max),
            (all.p50, all.p90, all.p99, all.p999, all.max)
        );
        assert_eq!(merged.load.requests, 450);
        assert_eq!(merged.per_request["get"].requests, 450);
        assert!((merged.load.achieved_rps - 45.0).abs() < 1e-9);
        assert_eq!(merged.load.target_rps, Some(30.0));
        assert!(merged.valid, "{:?}", merged.invalid_reason);
        assert_eq!(merged.window.unwrap().start_spread_ms, Some(0.0));
    }

    #[test]
    fn an_invalid_missing_or_late_shard_makes_the_run_invalid_and_is_named() {
        let (s, e) = ("2026-12-03T10:00:01Z", "2026-12-03T10:00:11Z");
        let ok = shard_run(0, 100, s, e);
        let mut lagged = shard_run(1, 100, s, e);
        lagged.valid = false;
        lagged.latency_only = true;
        lagged.invalid_reason = Some("scheduling lag p99 3039 µs exceeds 1000 µs".into());
        let m = merge(&[(0, Some(&ok)), (1, Some(&lagged))]).unwrap();
        assert!(!m.valid && m.latency_only);
        assert_eq!(
            m.invalid_reason.as_deref(),
            Some("shard 1: scheduling lag p99 3039 µs exceeds 1000 µs")
        );

        let m = merge(&[(0, Some(&ok)), (1, None)]).unwrap();
        assert!(!m.valid && !m.latency_only);
        assert!(m.invalid_reason.unwrap().starts_with("shard 1 has no run"));

        // Two seconds late in a ten-second window: 80% overlap.
        let late = shard_run(1, 100, "2026-12-03T10:00:03Z", "2026-12-03T10:00:13Z");
        let m = merge(&[(0, Some(&ok)), (1, Some(&late))]).unwrap();
        assert!(!m.valid);
        let reason = m.invalid_reason.unwrap();
        assert!(
            reason.contains("overlap for 80%") && reason.contains("2000 ms"),
            "{reason}"
        );
        assert_eq!(m.window.unwrap().start_spread_ms, Some(2000.0));
    }
}
