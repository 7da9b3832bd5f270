//! The CI gate's summary: NEW against BASE per variant and metric, as a document (printed on the
//! terminal and written as Markdown for a pull-request comment).

use super::document::{Block, Document, Inline, Section, Table, cell, para, text};
use super::format;
use crate::stats::compare::{Comparison, Outcome};
use crate::stats::metrics;

/// The document for `c`, decided with `strict`; `base` and `new` name the files.
pub fn document(c: &Comparison, strict: bool, base: &str, new: &str) -> Document {
    let outcome = c.outcome(strict);
    let gated: Vec<String> = {
        let mut g: Vec<String> = c
            .rows
            .iter()
            .filter(|r| r.gated)
            .map(|r| {
                format!(
                    "{} {}",
                    r.metric,
                    format::limit(&r.metric, r.stats.threshold)
                )
            })
            .collect();
        g.sort();
        g.dedup();
        g
    };
    let regressions: Vec<String> = c
        .rows
        .iter()
        .filter(|r| r.gated && r.stats.verdict == crate::results::Verdict::Regression)
        .map(|r| format!("{} {}", r.variant, r.metric))
        .collect();
    let verdict = match outcome {
        Outcome::Pass => {
            Inline::Strong("PASS: no gated metric regressed beyond its threshold".into())
        }
        Outcome::Fail if regressions.is_empty() => Inline::Strong(
            "FAIL (strict): a gated metric is inconclusive or has too few runs".into(),
        ),
        Outcome::Fail => Inline::Strong(format!("FAIL: regression in {}", regressions.join(", "))),
    };
    let mut blocks = vec![
        Block::Paragraph(vec![verdict]),
        Block::Paragraph(vec![
            text("BASE "),
            Inline::Code(base.to_string()),
            text(", NEW "),
            Inline::Code(new.to_string()),
            text(format!(
                ". Gate: {}{}. A gated metric fails only when its whole confidence interval (95%, \
                 or the level shown beside it) lies beyond the threshold.",
                gated.join(", "),
                if strict {
                    " (strict: inconclusive fails too)"
                } else {
                    ""
                }
            )),
        ]),
    ];
    if let Some(m) = &c.speed {
        blocks.push(para(format!(
            "Speed-adjusted CPU: elasticity {:.2} fitted within variants over {} runs of both \
             files; NEW is carried to BASE's machine speed (generator CPU {:.1} µs per request).",
            m.beta, m.runs, m.reference_us
        )));
    }
    if !c.warnings.is_empty() {
        blocks.push(Block::List(
            c.warnings
                .iter()
                .map(|w| vec![text(format!("Warning: {w}"))])
                .collect(),
        ));
    }
    let rows: Vec<Vec<Vec<String>>> = c
        .rows
        .iter()
        .map(|r| {
            let s = &r.stats;
            vec![
                cell(r.variant.clone()),
                cell(format!(
                    "{}{}",
                    metrics::lookup(&r.metric).map_or(r.metric.as_str(), |d| d.label),
                    if r.gated { " (gated)" } else { "" }
                )),
                cell(format::value(&r.metric, s.baseline_median)),
                cell(format::value(&r.metric, s.median)),
                cell(s.ratio.map_or_else(|| "–".to_string(), format::change)),
                cell(format::ci(s).unwrap_or_else(|| "–".into())),
                cell(format::mark(s.verdict)),
            ]
        })
        .collect();
    blocks.push(if rows.is_empty() {
        para("Nothing to compare.")
    } else {
        Block::Table(Table {
            header: [
                "Configuration",
                "Metric",
                "BASE",
                "NEW",
                "Change",
                "Interval",
                "Verdict",
            ]
            .map(String::from)
            .to_vec(),
            numeric: vec![false, false, true, true, true, true, false],
            rows,
        })
    });
    Document {
        title: format!("otelbench compare: {}", c.scenario),
        sections: vec![Section {
            title: "Result".into(),
            blocks,
        }],
    }
}
