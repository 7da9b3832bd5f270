//! The capacity section (`load.model = "capacity"`): each configuration's throughput at the
//! SLO with its interval and verdict, the cores it needs per 1,000 req/s there, the fleet it
//! needs against the baseline's, how each search ended, the generator's own limit, and every
//! step.

use crate::report::document::{Block, Inline, Section, Table, cell, para, text};
use crate::report::format;
use crate::results::Results;
use crate::stats::capacity::{self as cap, ms};

/// The section, when the scenario searched for capacity.
pub fn section(results: &Results) -> Option<Section> {
    let plan = results.scenario.capacity?;
    let (s, slo) = (plan.search, plan.slo);
    let mut blocks = vec![Block::Paragraph(vec![
        text(format!(
            "Capacity is the highest offered rate whose measured window held the SLO: p99 at \
             most {}, at most {} of requests failed, at least {} of the offered rate achieved. \
             Each search ramps from {:.0} req/s by x{} until a step fails, then bisects until \
             the failing rate is within {} of the passing one; a later repetition starts at \
             the median of the earlier ones. Every step is an ordinary run (target started \
             afresh, warm-up, window); a step the generator could not pace is measured again, \
             and never taken as the target's limit. ",
            ms(slo.p99_us),
            format::percent(slo.max_error_rate),
            format::percent(slo.min_achieved),
            s.start,
            s.growth,
            format::percent(s.precision),
        )),
        Inline::Strong("Instances".into()),
        text(
            ": how many more (or fewer) instances the configuration needs to serve what the \
             baseline's fleet serves at its capacity.",
        ),
    ])];
    blocks.push(Block::Table(table(results)));
    blocks.extend(ended(results));
    blocks.push(generator(results));
    blocks.push(Block::Details {
        summary: "Every step".into(),
        blocks: vec![Block::Table(steps(results))],
    });
    Some(Section {
        title: "Capacity: throughput at the SLO".into(),
        blocks,
    })
}

fn table(results: &Results) -> Table {
    let rows = results
        .summary
        .iter()
        .map(|s| {
            let capacity = s.metrics.get("capacity");
            let searches: Vec<_> = results
                .kept_runs()
                .filter(|r| r.variant == s.variant)
                .filter_map(|r| r.capacity.as_ref())
                .collect();
            let found = searches.iter().filter(|c| c.capacity_rps.is_some()).count();
            let steps: usize = searches.iter().map(|c| c.steps.len()).sum();
            vec![
                cell(s.variant.clone()),
                capacity.map_or_else(|| cell("– none found"), |m| format::cell("capacity", m)),
                capacity
                    .and_then(|m| m.median_ci)
                    .map_or_else(|| cell("–"), |[lo, hi]| cell(format!("{lo:.0} – {hi:.0}"))),
                s.metrics.get("cpu_per_request").map_or_else(
                    || cell("–"),
                    |m| cell(format!("{:.3}", cap::cores_per_thousand(m.median))),
                ),
                capacity
                    .and_then(|m| m.ratio)
                    .and_then(cap::extra_instances)
                    .filter(|_| s.variant != results.scenario.baseline)
                    .map_or_else(|| cell("–"), |x| cell(format!("{:+.1}%", x * 100.0))),
                cell(format!("{found} of {}", searches.len())),
                cell(steps.to_string()),
            ]
        })
        .collect();
    Table {
        header: [
            "Configuration",
            "Capacity (median; change, interval, verdict)",
            "Interval of the median (req/s)",
            "Cores per 1,000 req/s at capacity",
            "Instances",
            "Searches that found it",
            "Steps",
        ]
        .map(String::from)
        .to_vec(),
        numeric: vec![false, true, true, true, true, true, true],
        rows,
    }
}

/// How every search that found no capacity ended.
fn ended(results: &Results) -> Option<Block> {
    let lines: Vec<String> = results
        .kept_runs()
        .filter_map(|r| Some((r, r.capacity.as_ref()?)))
        .filter(|(_, c)| c.capacity_rps.is_none())
        .map(|(r, c)| format!("{}, repetition {}: {}", r.variant, r.repetition, c.summary))
        .collect();
    (!lines.is_empty()).then(|| Block::List(lines.into_iter().map(|l| vec![text(l)]).collect()))
}

fn generator(results: &Results) -> Block {
    let Some(g) = cap::generator_limit(results) else {
        return para("No step measured the generator's CPU.");
    };
    let cpus = results
        .runs
        .iter()
        .find(|r| !r.placement.generator_cpus.is_empty())
        .map_or_else(
            || "the machine's CPUs (not pinned)".to_string(),
            |r| format!("{} pinned CPU(s)", r.placement.generator_cpus.len()),
        );
    para(format!(
        "The load generator's own limit: it spent a median {:.1} µs of CPU per request over \
         every step, so by CPU alone one generator CPU could send about {:.0} req/s of this \
         mix (where its pacing gives out is measured by \
         benches/pacing/generator-capacity.toml). The highest step offered {:.0} req/s ({:.0}% \
         of that), and the busiest step used {:.2} cores of {cpus}; a step whose pacing broke \
         would have ended its search as generator-bound.",
        g.us_per_request,
        g.rps_per_cpu,
        g.highest_step,
        g.highest_step / g.rps_per_cpu * 100.0,
        g.peak_cores,
    ))
}

fn steps(results: &Results) -> Table {
    let mut rows = Vec::new();
    for r in results.kept_runs() {
        let Some(c) = &r.capacity else { continue };
        for (k, st) in c.steps.iter().enumerate() {
            rows.push(vec![
                cell(r.variant.clone()),
                cell(r.repetition.to_string()),
                cell((k + 1).to_string()),
                cell(format!("{:.0}", st.rate)),
                cell(format!("{:.0}", st.achieved_rps)),
                cell(ms(st.p50_us)),
                cell(ms(st.p99_us)),
                cell(format!("{} of {}", st.errors, st.requests)),
                cell(format!("{:.0} µs", st.cpu_us_per_request)),
                cell(match (&st.reason, st.pass) {
                    (_, true) => "✓ holds".to_string(),
                    (Some(why), false) => format!("✗ {why}"),
                    (None, false) => "✗".to_string(),
                }),
            ]);
        }
    }
    Table {
        header: [
            "Configuration",
            "Repetition",
            "Step",
            "Offered (req/s)",
            "Achieved (req/s)",
            "p50",
            "p99",
            "Failed",
            "Target CPU per request",
            "SLO",
        ]
        .map(String::from)
        .to_vec(),
        numeric: vec![false, true, true, true, true, true, true, true, true, false],
        rows,
    }
}
