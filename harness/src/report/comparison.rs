//! The CI gate's summary: NEW against BASE per variant and metric, as a document (printed on the
//! terminal and written as Markdown for a pull-request comment).

use super::document::{Block, Document, Inline, Section, cell, para, table, text};
use super::format;
use crate::scenario::ab::AbPlan;
use crate::stats::compare::{self, Comparison, Mismatch, Outcome, Row};
use crate::stats::metrics;

/// The document for `c`, decided with `strict`; `base` and `new` name the files.
pub fn document(c: &Comparison, strict: bool, base: &str, new: &str) -> Document {
    Document {
        title: format!("otelbench compare: {}", c.scenario),
        sections: vec![Section {
            title: "Result".into(),
            blocks: blocks(c, strict, ("BASE ", base), ("NEW ", new)),
        }],
    }
}

/// The A/B of two builds in one run (`run --baseline-target --candidate-target`): the section
/// for `judged` (the candidate against the base, or why it could not be judged).
pub fn ab_section(plan: &AbPlan, judged: &Result<Comparison, Mismatch>) -> Section {
    let blocks = match judged {
        Ok(c) => blocks(
            c,
            plan.strict,
            ("BASE: the build ", &plan.base),
            ("NEW: the build ", &plan.candidate),
        ),
        Err(e) => vec![
            Block::Paragraph(vec![Inline::Strong(format!(
                "NOT JUDGED{}: {e}",
                if plan.strict {
                    " (strict: this fails the gate)"
                } else {
                    " (not a failure; `--strict` makes it one)"
                }
            ))]),
            Block::Paragraph(vec![
                text("Base build "),
                Inline::Code(plan.base.clone()),
                text(", candidate "),
                Inline::Code(plan.candidate.clone()),
                text(". The runs of both are in the tables below."),
            ]),
        ],
    };
    Section {
        title: "A/B: the candidate build against the base build".into(),
        blocks,
    }
}

/// The verdict, the gate, the warnings and the table of `c`; `base` and `new` say what the two
/// sides are: a label and a path.
fn blocks(c: &Comparison, strict: bool, base: (&str, &str), new: (&str, &str)) -> Vec<Block> {
    let mut blocks = vec![
        Block::Paragraph(vec![verdict(c, strict)]),
        sides(c, strict, base, new),
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
    blocks.push(rows_table(c));
    blocks
}

/// PASS or FAIL, and for a regression which ones.
fn verdict(c: &Comparison, strict: bool) -> Inline {
    let regressions: Vec<String> = c
        .rows
        .iter()
        .filter(|r| r.gated && r.stats.verdict == crate::results::Verdict::Regression)
        .map(|r| format!("{} {}", r.variant, r.metric))
        .collect();
    match c.outcome(strict) {
        Outcome::Pass => {
            Inline::Strong("PASS: no gated metric regressed beyond its threshold".into())
        }
        Outcome::Fail if regressions.is_empty() => Inline::Strong(
            "FAIL (strict): a gated metric is inconclusive or has too few runs".into(),
        ),
        Outcome::Fail => Inline::Strong(format!("FAIL: regression in {}", regressions.join(", "))),
    }
}

/// The gated metrics with their thresholds, sorted, each once.
fn gated(c: &Comparison) -> Vec<String> {
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
}

/// What the two sides are, and the gate they were judged by.
fn sides(c: &Comparison, strict: bool, base: (&str, &str), new: (&str, &str)) -> Block {
    Block::Paragraph(vec![
        text(base.0),
        Inline::Code(base.1.to_string()),
        text(", "),
        text(new.0),
        Inline::Code(new.1.to_string()),
        text(format!(
            ". Gate: {}{}. A gated metric fails only when its whole confidence interval (95%, \
             or the level shown beside it) lies beyond the threshold; \"Detectable\" is the \
             smallest change that would have failed it with this interval's width.",
            gated(c).join(", "),
            if strict {
                " (strict: inconclusive fails too)"
            } else {
                ""
            }
        )),
    ])
}

/// The table of every row of `c`, or a line saying there is nothing to compare.
fn rows_table(c: &Comparison) -> Block {
    if c.rows.is_empty() {
        return para("Nothing to compare.");
    }
    table(
        &[
            ("Configuration", false),
            ("Metric", false),
            ("BASE", true),
            ("NEW", true),
            ("Change", true),
            ("Interval", true),
            ("Verdict", false),
            ("Detectable", true),
        ],
        c.rows.iter().map(row).collect(),
    )
}

/// One metric of one variant: BASE, NEW, the change, its interval, the verdict, what the gate
/// could have detected.
fn row(r: &Row) -> Vec<Vec<String>> {
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
        cell(format::or_dash(s.ratio, format::change)),
        cell(format::ci(s).unwrap_or_else(|| "–".into())),
        cell(format::mark(s.verdict)),
        cell(
            compare::detectable(r)
                .filter(|_| r.gated)
                .map_or_else(|| "–".to_string(), |d| format::limit(&r.metric, d)),
        ),
    ]
}
