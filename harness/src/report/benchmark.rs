//! benchmark.json: the variants' medians in github-action-benchmark's `customSmallerIsBetter`
//! format, so teams can chart trends with existing tooling. Only smaller-is-better metrics are
//! included (throughput is not).

use serde::Serialize;

use super::format;
use crate::results::Results;
use crate::stats::metrics::{self, Worse};

/// One entry of the format.
#[derive(Debug, Serialize, PartialEq)]
pub struct Entry {
    /// `<scenario>/<variant>/<metric>`.
    pub name: String,
    /// Unit.
    pub unit: String,
    /// The median over valid runs.
    pub value: f64,
    /// The confidence interval of the median (`median_ci`), when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub range: Option<String>,
    /// Change against the baseline and verdict.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extra: Option<String>,
}

/// The entries, variants in scenario order, metric families in report order.
pub fn entries(results: &Results) -> Vec<Entry> {
    let mut out = Vec::new();
    for s in &results.summary {
        for d in metrics::METRICS.iter().filter(|d| d.worse == Worse::Higher) {
            let Some(m) = s.metrics.get(d.name) else {
                continue;
            };
            out.push(Entry {
                name: format!("{}/{}/{}", results.scenario.name, s.variant, d.name),
                unit: d.unit.to_string(),
                value: m.median,
                range: m.median_ci.map(|[lo, hi]| {
                    if hi < 10.0 {
                        format!("{lo:.3} .. {hi:.3}")
                    } else {
                        format!("{lo:.1} .. {hi:.1}")
                    }
                }),
                extra: (s.variant != s.baseline).then(|| {
                    format!(
                        "{} vs {}: {}",
                        m.ratio.map_or_else(|| "–".to_string(), format::change),
                        s.baseline,
                        m.verdict.label()
                    )
                }),
            });
        }
    }
    out
}

/// The JSON text.
pub fn render(results: &Results) -> anyhow::Result<String> {
    Ok(serde_json::to_string_pretty(&entries(results))?)
}
