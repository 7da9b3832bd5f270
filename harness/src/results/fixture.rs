//! A hand-built results value for the tests of the statistics and of every renderer: three
//! variants (off, 10%, 100%) x three repetitions with fixed, plausible figures.

use std::collections::BTreeMap;

use super::{
    CollectorRun, Cpu, Environment, Jobs, Latency, LoadResult, Memory, Placement, Results,
    RunResult, ScenarioRef, SpanAccounting, Telemetry,
};

/// CPU µs per request of each variant's three repetitions.
pub const CPU: [(&str, [f64; 3]); 3] = [
    ("off", [200.0, 204.0, 198.0]),
    ("10%", [212.0, 209.0, 215.0]),
    ("100%", [262.0, 270.0, 258.0]),
];

fn env(variant: &str) -> BTreeMap<String, String> {
    let pairs: &[(&str, &str)] = match variant {
        "off" => &[("OTEL_SDK_DISABLED", "true")],
        "10%" => &[
            ("OTEL_TRACES_SAMPLER", "parentbased_traceidratio"),
            ("OTEL_TRACES_SAMPLER_ARG", "0.1"),
        ],
        _ => &[("OTEL_TRACES_SAMPLER", "parentbased_always_on")],
    };
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
        .collect()
}

fn latency(scale: f64) -> Latency {
    let mut h = crate::load::recorder::histogram();
    for i in 0..2_000_u64 {
        // A long-tailed shape: most requests near 1.5 ms, a few up to ~15 ms.
        let v = 1_000.0 + (i % 100) as f64 * 10.0 + if i % 100 == 99 { 12_000.0 } else { 0.0 };
        let _ = h.record((v * scale) as u64);
    }
    Latency::from_histogram(&h)
}

/// One run with the given figures.
pub fn run(variant: &str, repetition: u32, cpu: f64) -> RunResult {
    let sampled = match variant {
        "off" => 0.0,
        "10%" => 0.1,
        _ => 1.0,
    };
    let scale = cpu / 200.0;
    let requests = 4_000;
    RunResult {
        variant: variant.into(),
        repetition,
        attempt: 1,
        replaced_by: None,
        transient: false,
        valid: true,
        invalid_reason: None,
        latency_only: false,
        env: env(variant),
        load: load(repetition, requests),
        latency_us: latency(scale),
        per_request: BTreeMap::new(),
        cpu: cpu_figures(cpu, sampled),
        memory_mb: memory(sampled),
        telemetry: telemetry(requests, sampled),
        jobs: Some(Jobs::default()),
        placement: Placement {
            generator_cpus: vec![0],
            target_cpus: vec![1],
            keep_awake: true,
            keep_awake_setting: "auto: on (hypervisor)".into(),
        },
        collector: CollectorRun {
            kind: "embedded".into(),
            counted: true,
            ..CollectorRun::default()
        },
        capacity: None,
        window: None,
    }
}

fn load(repetition: u32, requests: u64) -> LoadResult {
    LoadResult {
        model: "rate".into(),
        target_rps: Some(400.0),
        achieved_rps: 400.0 - f64::from(repetition) * 0.1,
        offered_rps: 400.0,
        completed: requests - u64::from(repetition),
        duration_s: 10.0,
        requests,
        errors: 0,
        errors_by_kind: BTreeMap::new(),
        users: 16,
        lag_us: latency(0.05),
        generator_lag_us: latency(0.05),
        held_requests: 0,
        requests_total: requests + 1_200,
    }
}

fn cpu_figures(cpu: f64, sampled: f64) -> Cpu {
    Cpu {
        target_us_per_request: cpu,
        target_cores: cpu * 400.0 / 1e6,
        generator_cores: 0.2,
        generator_us_per_request: 60.0,
        sink_us_per_request: 10.0 * sampled,
        per_process_us_per_request: [
            ("web".to_string(), cpu * 0.8),
            ("worker".to_string(), cpu * 0.2),
        ]
        .into(),
        after_window_us_per_request: None,
        after_window_us: BTreeMap::new(),
    }
}

fn memory(sampled: f64) -> BTreeMap<String, Memory> {
    [
        (
            "web".to_string(),
            Memory {
                mean: 20.0 + sampled * 4.0,
                peak: 22.0 + sampled * 4.0,
                growth: 0.5,
            },
        ),
        (
            "worker".to_string(),
            Memory {
                mean: 15.0 + sampled,
                peak: 16.0 + sampled,
                growth: 0.1,
            },
        ),
    ]
    .into()
}

fn telemetry(requests: u64, sampled: f64) -> Telemetry {
    let spans = (requests as f64 * 5.0 * sampled) as u64;
    Telemetry {
        spans_received: spans,
        metric_points_received: if sampled > 0.0 { 120 } else { 0 },
        log_records_received: if sampled > 0.0 { 800 } else { 0 },
        export_requests: if sampled > 0.0 { 40 } else { 0 },
        bytes_received: spans * 300,
        traces_complete: (requests as f64 * 0.25 * sampled) as u64,
        request_traces: (requests as f64 * sampled) as u64,
        producer_spans: (requests as f64 * 0.25 * sampled) as u64,
        consumer_spans: (requests as f64 * 0.25 * sampled) as u64,
        observed_sampling_ratio: sampled,
        target_spans: (sampled > 0.0).then_some(SpanAccounting {
            produced: spans,
            exported: spans,
            failed: 0,
            dropped: 0,
            export_calls: 40,
            failed_calls: 0,
        }),
    }
}

/// Makes the machine's speed drift between repetitions: the generator's CPU per request and
/// the target's move together (elasticity 0.75), as they do on a shared machine.
pub fn vary_speed(results: &mut Results) {
    for run in &mut results.runs {
        let slow = [1.0, 1.2, 0.9, 1.1][(run.repetition as usize - 1) % 4];
        run.cpu.generator_us_per_request *= slow;
        run.cpu.target_us_per_request *= f64::powf(slow, 0.75);
    }
}

/// The whole file, runs interleaved, no statistics yet.
pub fn results() -> Results {
    let mut runs = Vec::new();
    for rep in 0..3 {
        for (variant, cpu) in CPU {
            runs.push(run(variant, rep as u32 + 1, cpu[rep]));
        }
    }
    let scenario = ScenarioRef {
        name: "quick".into(),
        description: "Telemetry off vs 10% vs 100% trace sampling".into(),
        hash: "ab".repeat(32),
        file: "scenarios/quick.toml".into(),
        baseline: "off".into(),
        variants: CPU.iter().map(|(v, _)| (*v).to_string()).collect(),
        repetitions: 3,
        calibration_variant: None,
        thresholds: BTreeMap::new(),
        budget: [("cpu_per_request".to_string(), 0.10)].into(),
        ab: None,
        capacity: None,
    };
    let environment = Environment {
        cpu_model: "AMD EPYC".into(),
        cores: 2,
        memory_mb: 24_000,
        kernel: "6.1.0".into(),
        rustc: "rustc 1.95.0".into(),
        git_commit: "0123456789abcdef".into(),
        otelbench_version: "0.1.0".into(),
        hostname: "bench".into(),
        hypervisor: true,
    };
    Results {
        finished_at: "2026-11-22T07:02:00Z".into(),
        runs,
        machine_check: Some(super::MachineCheck {
            hypervisor: true,
            cpus_online: 2,
            pinned: true,
            keep_awake: true,
            steal_pct: Some(0.3),
            rate: 400.0,
            lag_limit_us: 1_000,
            probes: vec![super::CpuProbe {
                cpu: Some(0),
                spin_s: 1.0,
                lost_pct: 1.2,
                longest_gap_us: 850.0,
                forced_lag_p99_us: 35.0,
                timer_wakeups: 600,
                timer_lag_p50_us: 28,
                timer_lag_p99_us: 95,
            }],
            verdict: super::MachineVerdict::Good,
            findings: vec!["a virtual machine".into()],
            advice: Vec::new(),
        }),
        ..Results::new(
            scenario,
            environment,
            "otelbench run scenarios/quick.toml".into(),
            "2026-11-22T07:00:00Z".into(),
        )
    }
}
