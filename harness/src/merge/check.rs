//! Whether the inputs are the shards of one run: every file a shard, of one scenario and one
//! start, each index once, none missing. Each problem names the file and the fix.

use crate::results::Results;

/// One input: the path as given, and what it holds.
pub type Input = (String, Results);

/// Checks `inputs` and returns them ordered by shard index.
pub fn shards(inputs: Vec<Input>) -> Result<Vec<Input>, String> {
    let Some((first_file, first)) = inputs.first() else {
        return Err("no results files given; fix: give the results.json of every instance".into());
    };
    let Some(one) = first.shard.clone() else {
        return Err(not_a_shard(first_file));
    };
    for (file, r) in &inputs {
        let Some(s) = &r.shard else {
            return Err(not_a_shard(file));
        };
        if r.scenario.hash != first.scenario.hash {
            return Err(format!(
                "{file}: it is a shard of scenario {:?} (hash {}), but {first_file} is of {:?} (hash {}); fix: merge the shards of one run only",
                r.scenario.name,
                short(&r.scenario.hash),
                first.scenario.name,
                short(&first.scenario.hash)
            ));
        }
        if r.scenario.variants != first.scenario.variants {
            return Err(format!(
                "{file}: it ran the variants {:?}, but {first_file} ran {:?}; fix: give every instance the same --variant",
                r.scenario.variants, first.scenario.variants
            ));
        }
        if s.count != one.count {
            return Err(format!(
                "{file}: it is shard {} of {}, but {first_file} is of {}; fix: merge the shards of one run only",
                s.index, s.count, one.count
            ));
        }
        if s.start_at != one.start_at || (s.slot_s - one.slot_s).abs() > 1e-9 {
            return Err(format!(
                "{file}: it started at {} ({} s per run), but {first_file} at {} ({} s per run); fix: merge the shards of one run, which were all given the same --start-at and load",
                s.start_at, s.slot_s, one.start_at, one.slot_s
            ));
        }
        if s.target_url != one.target_url {
            return Err(format!(
                "{file}: it drove {}, but {first_file} drove {}; fix: merge the shards of one run only",
                s.target_url, one.target_url
            ));
        }
    }
    let mut sorted = inputs;
    sorted.sort_by_key(|(_, r)| r.shard.as_ref().map_or(0, |s| s.index));
    for pair in sorted.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        let index = |r: &Results| r.shard.as_ref().map_or(0, |s| s.index);
        if index(&a.1) == index(&b.1) {
            return Err(format!(
                "{}: it is shard {} of {}, like {} (the same instance twice?); fix: give each instance's results once",
                b.0,
                index(&b.1),
                one.count,
                a.0
            ));
        }
    }
    let missing: Vec<String> = (0..one.count)
        .filter(|i| {
            !sorted
                .iter()
                .any(|(_, r)| r.shard.as_ref().is_some_and(|s| s.index == *i))
        })
        .map(|i| i.to_string())
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "{}: shard{} {} of {} {} missing from the inputs ({}); fix: add the results.json of every instance",
            sorted[0].0,
            if missing.len() > 1 { "s" } else { "" },
            missing.join(", "),
            one.count,
            if missing.len() > 1 { "are" } else { "is" },
            sorted
                .iter()
                .map(|(f, _)| f.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    Ok(sorted)
}

fn not_a_shard(file: &str) -> String {
    format!(
        "{file}: it is not a shard (written by `otelbench run` without --shard); fix: give the results.json of each `run --shard I/N` instance"
    )
}

fn short(hash: &str) -> &str {
    &hash[..hash.len().min(12)]
}
