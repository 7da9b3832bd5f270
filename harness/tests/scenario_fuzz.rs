//! The scenario parser on mangled and arbitrary input (issue 19): every input is either a
//! scenario or a list of problems, never a panic; and every scenario it accepts can be planned
//! and scheduled (its numbers fit a `Duration` and `Instant` arithmetic).

use std::path::Path;
use std::time::{Duration, Instant};

use harness::load::{LoadPlan, pacing::slot_offset, setup_allowance};
use proptest::prelude::*;

mod common;

/// The shipped scenarios, the material to mangle.
fn shipped() -> Vec<String> {
    let dir = common::root().join("scenarios");
    let mut texts: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "toml"))
        .map(|e| std::fs::read_to_string(e.path()).unwrap())
        .collect();
    texts.sort();
    texts
}

/// One edit: at a share of the text's length, delete some bytes and insert a string.
#[derive(Debug, Clone)]
struct Edit {
    at: f64,
    delete: usize,
    insert: String,
}

fn edit() -> impl Strategy<Value = Edit> {
    let pieces = prop::sample::select(vec![
        "1e300",
        "-1",
        "0",
        "nan",
        "inf",
        "-0.0",
        "1e-300",
        "18446744073709551616",
        "\"\"",
        "[",
        "]",
        "{",
        "}",
        "=",
        "\n",
        "\"",
        "'",
        "#",
        ".",
        ",",
        "[[variants]]",
        "[load]",
        "rate = ",
        "duration_s = ",
        "keep_awake = \"auto\"",
        "model = \"users\"",
        "{user}",
        "\u{0}",
        "é",
        "𝄞",
    ]);
    (
        0.0..1.0_f64,
        0_usize..12,
        prop::collection::vec(pieces, 0..3),
    )
        .prop_map(|(at, delete, pieces)| Edit {
            at,
            delete,
            insert: pieces.concat(),
        })
}

fn apply(text: &str, edits: &[Edit]) -> String {
    let mut t = text.to_string();
    for e in edits {
        let mut i = (e.at * t.len() as f64) as usize;
        while !t.is_char_boundary(i) {
            i -= 1;
        }
        let mut j = (i + e.delete).min(t.len());
        while !t.is_char_boundary(j) {
            j += 1;
        }
        t.replace_range(i..j, &e.insert);
    }
    t
}

/// Plans and schedules an accepted scenario the way a run does, without sending anything.
fn schedule(s: &harness::scenario::Scenario) {
    let plan = LoadPlan {
        base_url: "http://127.0.0.1:9".into(),
        load: s.load.clone(),
        run_id: "x".into(),
        start: Instant::now() + setup_allowance(s.load.users),
        first_user: 0,
        phase: Duration::ZERO,
    };
    let (from, to) = plan.window();
    assert!(to >= from);
    if let Some(rate) = s.load.rate {
        let slots = ((s.load.warmup_s + s.load.duration_s) * rate).ceil() as u64;
        let last = plan.start + slot_offset(slots, rate);
        assert!(last >= plan.start);
    }
    let _ = Duration::from_secs_f64(s.load.timeout_s);
    let _ = harness::plan::plan(s.variants.len(), s.repetitions.min(1_000), s.order, s.seed);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn a_mangled_scenario_is_accepted_or_refused_never_a_panic(
        which in 0_usize..64,
        edits in prop::collection::vec(edit(), 1..6),
    ) {
        let texts = shipped();
        let text = apply(&texts[which % texts.len()], &edits);
        if let Ok(s) = harness::scenario::parse(Path::new("mangled.toml"), &text) {
            schedule(&s);
        }
    }

    #[test]
    fn arbitrary_text_is_accepted_or_refused_never_a_panic(text in "(?s).{0,400}") {
        if let Ok(s) = harness::scenario::parse(Path::new("arbitrary.toml"), &text) {
            schedule(&s);
        }
    }
}
