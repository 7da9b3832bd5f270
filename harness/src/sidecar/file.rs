//! The samples file of `otelbench sample`: JSON lines, a header then one line per reading, each
//! flushed as it is taken (a sampler stopped any way leaves every line before it intact).
//!
//! ```text
//! {"otelbench_samples":1,"hostname":"node-a","interval_ms":100,"processes":{"web":4242}}
//! {"t_us":1796292000123456,"cpu_us":{"web":0.0},"rss_mb":{"web":51.2}}
//! ```
//!
//! `t_us` is the reading's wall-clock time (unix µs); `cpu_us` each process tree's CPU since
//! the first reading (nanosecond per-thread readings, like a run's own sampler); `rss_mb` the
//! tree's RSS at the reading.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The first line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Header {
    /// Format version (1).
    pub otelbench_samples: u32,
    /// The machine the sampler ran on.
    pub hostname: String,
    /// Time between readings, ms.
    pub interval_ms: u64,
    /// The sampled process trees: name -> root pid.
    pub processes: BTreeMap<String, u32>,
}

/// One reading.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    /// Wall-clock time, unix µs.
    pub t_us: i64,
    /// CPU per tree since the first reading, µs.
    pub cpu_us: BTreeMap<String, f64>,
    /// RSS per tree, MB.
    pub rss_mb: BTreeMap<String, f64>,
}

/// A whole file.
#[derive(Debug, Clone, PartialEq)]
pub struct Samples {
    /// Its header.
    pub header: Header,
    /// Its readings, in time order.
    pub samples: Vec<Sample>,
}

/// Parses a samples file; the error names the line and what is wrong with it. A last line
/// cut short (the sampler killed mid-write) is dropped.
pub fn parse(text: &str) -> Result<Samples, String> {
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let (_, first) = lines
        .next()
        .ok_or("is empty; fix: give the output of `otelbench sample`")?;
    let header: Header = serde_json::from_str(first).map_err(|e| {
        format!("line 1 is not an `otelbench sample` header ({e}); fix: give the output of `otelbench sample`")
    })?;
    if header.otelbench_samples != 1 {
        return Err(format!(
            "line 1: format version {} is not 1; fix: use the otelbench that wrote it",
            header.otelbench_samples
        ));
    }
    let lines: Vec<(usize, &str)> = lines.collect();
    let mut samples = Vec::with_capacity(lines.len());
    for (k, (i, line)) in lines.iter().enumerate() {
        match serde_json::from_str::<Sample>(line) {
            Ok(s) => samples.push(s),
            Err(_) if k + 1 == lines.len() => {}
            Err(e) => return Err(format!("line {} is not a reading: {e}", i + 1)),
        }
    }
    if samples.windows(2).any(|w| w[1].t_us < w[0].t_us) {
        return Err(
            "its readings are not in time order; fix: give one sampler's output unchanged".into(),
        );
    }
    Ok(Samples { header, samples })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cut_last_line_is_dropped_and_a_bad_middle_line_is_named() {
        let text = r#"{"otelbench_samples":1,"hostname":"h","interval_ms":100,"processes":{"web":1}}
{"t_us":1,"cpu_us":{"web":0.0},"rss_mb":{"web":5.0}}
{"t_us":2,"cpu_us":{"web":1.0},"rss_mb":{"web":5.0}}
{"t_us":3,"cpu_"#;
        let s = parse(text).unwrap();
        assert_eq!(s.samples.len(), 2);
        let bad = text.replace(r#"{"t_us":2"#, "{nope");
        assert!(parse(&bad).unwrap_err().starts_with("line 3"), "{bad}");
        assert!(parse("").unwrap_err().contains("empty"));
        assert!(parse("{}").unwrap_err().contains("header"));
    }
}
