//! The report's sections, each built from the analysed results. Formatting numbers is done
//! here; computing them is not (they come from `stats`).

mod capacity;
mod decisions;
mod delivery;
mod environment;
mod faults;
mod overhead;
mod profile;
mod runs;
mod shards;

use super::document::{Block, Document, Inline, Section, para, text};
use crate::results::Results;
use crate::stats::compare::{Comparison, Mismatch};
use crate::stats::delivery::Delivery;
use crate::stats::faults::FaultSummary;

/// A chart the report shows: file stem and title.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChartRef {
    /// File stem under `charts/`.
    pub name: String,
    /// Title.
    pub title: String,
}

/// The whole report for `results` (already analysed), with `delivery` and `faults` figures,
/// `charts`, and for an A/B of two builds the candidate judged against the base.
pub fn document(
    results: &Results,
    delivery: &[Delivery],
    faults: &[FaultSummary],
    charts: &[ChartRef],
    flames: &[super::flames::Flame],
    ab: Option<&Result<Comparison, Mismatch>>,
) -> Document {
    let mut sections = vec![headline(results)];
    if let (Some(plan), Some(judged)) = (&results.scenario.ab, ab) {
        sections.push(super::comparison::ab_section(plan, judged));
    }
    if let Some(s) = decisions::recommendation(results) {
        sections.push(s);
    }
    sections.extend(capacity::section(results));
    sections.push(overhead::section(results, delivery));
    sections.extend(profile::section(results, flames));
    sections.extend(faults::section(faults));
    sections.push(delivery::section(results, delivery));
    sections.push(decisions::noise_floor(results));
    if let Some(s) = decisions::cost_model(results) {
        sections.push(s);
    }
    if !charts.is_empty() {
        sections.push(Section {
            title: "Charts".into(),
            blocks: charts
                .iter()
                .map(|c| Block::Chart {
                    name: c.name.clone(),
                    title: c.title.clone(),
                })
                .collect(),
        });
    }
    sections.extend(shards::section(results));
    sections.extend(runs::invalid(results));
    sections.push(runs::all(results));
    sections.push(environment::section(results));
    Document {
        title: format!("otelbench report: {}", results.scenario.name),
        sections,
    }
}

fn headline(results: &Results) -> Section {
    let tally = crate::stats::completeness::completeness(results);
    let mut blocks = Vec::new();
    if !results.scenario.description.is_empty() {
        blocks.push(para(results.scenario.description.clone()));
    }
    blocks.push(Block::Paragraph(vec![
        text("Scenario "),
        Inline::Code(results.scenario.file.clone()),
        text(format!(
            ": {} variants, {}, from {} to {}. Baseline: ",
            results.scenario.variants.len(),
            tally.headline(),
            results.started_at,
            if results.finished_at.is_empty() {
                "(not finished)"
            } else {
                &results.finished_at
            },
        )),
        Inline::Code(results.scenario.baseline.clone()),
        text("."),
    ]));
    if results.interrupted {
        blocks.push(Block::Paragraph(vec![Inline::Strong(
            "This run was interrupted: the figures cover the runs that finished.".into(),
        )]));
    }
    if !tally.short.is_empty() && !results.finished_at.is_empty() {
        let short: Vec<String> = tally.short.iter().map(ToString::to_string).collect();
        blocks.push(Block::Paragraph(vec![
            Inline::Strong("Ended short of valid runs: ".into()),
            text(short.join(". ")),
        ]));
    }
    Section {
        title: "Summary".into(),
        blocks,
    }
}
