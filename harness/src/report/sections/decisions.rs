//! The decisions: the recommendation under the budget, the A/A noise floor, the cost model.

use crate::report::document::{Block, Inline, Section, cell, para, table, text};
use crate::report::format;
use crate::results::Results;
use crate::stats::metrics;

/// The recommendation, when the scenario has a budget.
pub fn recommendation(results: &Results) -> Option<Section> {
    let r = results.recommendation.as_ref()?;
    let budget: Vec<String> = r
        .budget
        .iter()
        .map(|(m, f)| format!("{m} {}", format::limit(m, *f)))
        .collect();
    let lead = match &r.chosen_variant {
        Some(v) => vec![
            text("Within the budget ("),
            text(budget.join(", ")),
            text("), the highest sampling rate is "),
            Inline::Strong(v.clone()),
            text("."),
        ],
        None => vec![
            text("Within the budget ("),
            text(budget.join(", ")),
            text("): "),
            Inline::Strong("no sampling rate fits".into()),
            text("."),
        ],
    };
    Some(Section {
        title: "Recommendation".into(),
        blocks: vec![
            Block::Paragraph(lead),
            para(format!(
                "Evidence: {}. A rate is accepted only when its worst case, the bound of its \
                 confidence interval on the worse side, stays within every budget.",
                r.reason
            )),
        ],
    })
}

/// The noise floor, or how to measure it.
pub fn noise_floor(results: &Results) -> Section {
    let title = "Noise floor (A/A calibration)".to_string();
    let Some(c) = &results.calibration else {
        return Section {
            title,
            blocks: vec![Block::Paragraph(vec![
                text("Not measured in this scenario. Set "),
                Inline::Code("aa_calibration = true".into()),
                text(
                    " to run the baseline twice per block; the report then states the smallest \
                     change each metric can detect on this machine.",
                ),
            ])],
        };
    };
    let mut names: Vec<&String> = c.metrics.keys().filter(|n| !n.contains('.')).collect();
    names.sort_by_key(|n| metrics::order(n));
    let rows = names
        .into_iter()
        .map(|name| {
            let f = &c.metrics[name];
            vec![
                cell(metrics::lookup(name).map_or(name.as_str(), |d| d.label)),
                cell(format::change(f.ratio)),
                cell(format::interval(f.ci_low, f.ci_high)),
                cell(format!("±{}", format::percent(f.half_width))),
                cell(format::percent(f.mde)),
            ]
        })
        .collect();
    Section {
        title,
        blocks: vec![
            Block::Paragraph(vec![
                text("The baseline ran twice per block; its copy is "),
                Inline::Code(c.variant.clone()),
                text(
                    ". Any difference between the two is noise. The minimum detectable effect is \
                     the true change that runs like these show as significant about 4 times in \
                     5 (1.43 half-widths); to be called a regression beyond a threshold, a \
                     change must exceed the threshold plus this.",
                ),
            ]),
            table(
                &[
                    ("Metric", false),
                    ("A/A change", true),
                    ("Interval", true),
                    ("Noise (half-width)", true),
                    ("Minimum detectable effect", true),
                ],
                rows,
            ),
        ],
    }
}

/// The cost model, when variants sample at two or more ratios.
pub fn cost_model(results: &Results) -> Option<Section> {
    let m = results.cost_model.as_ref()?;
    let est = |e: &crate::results::Estimate| {
        format!("{:.1} µs [{:.1}, {:.1}]", e.value, e.ci_low, e.ci_high)
    };
    let rows = m
        .predictions
        .iter()
        .map(|p| {
            vec![
                cell(format::percent(p.sampling_ratio)),
                cell(format!("{:.1} µs", p.overhead_us_per_request)),
                cell(format!(
                    "{:+.1}%",
                    p.overhead_us_per_request / m.baseline_us_per_request * 100.0
                )),
                cell(format!("{:.4}", p.cores_per_1000_rps)),
            ]
        })
        .collect();
    Some(Section {
        title: "Cost model".into(),
        blocks: vec![
            para(format!(
                "CPU per request = {:.1} µs (baseline) + {} with the SDK on + {} x sampling \
                 ratio. Least squares over {} runs, R² = {:.2}; intervals are 95%.{}",
                m.baseline_us_per_request,
                est(&m.floor_us),
                est(&m.per_sampled_request_us),
                m.points,
                m.r_squared,
                if m.speed_adjusted {
                    " Fitted on speed-adjusted CPU (µs at the runs' mean machine speed)."
                } else {
                    ""
                }
            )),
            table(
                &[
                    ("Sampling", true),
                    ("Overhead per request", true),
                    ("vs baseline", true),
                    ("Cores per 1,000 req/s", true),
                ],
                rows,
            ),
        ],
    })
}
