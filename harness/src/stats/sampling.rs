//! The sampling ratio a variant asks for, read from its standard `OTEL_*` variables.

use std::collections::BTreeMap;

/// The ratio of traces sampled (0..=1) under `env`; `None` when the SDK is disabled, tracing is
/// not exported, or the sampler is not a standard one (e.g. `jaeger_remote`).
pub fn nominal_ratio(env: &BTreeMap<String, String>) -> Option<f64> {
    let get = |k: &str| env.get(k).map(|v| v.trim().to_ascii_lowercase());
    if get("OTEL_SDK_DISABLED").as_deref() == Some("true")
        || get("OTEL_TRACES_EXPORTER").as_deref() == Some("none")
    {
        return None;
    }
    let arg = || {
        get("OTEL_TRACES_SAMPLER_ARG")
            .and_then(|a| a.parse::<f64>().ok())
            .filter(|r| (0.0..=1.0).contains(r))
            .unwrap_or(1.0)
    };
    // The specification's default sampler is parentbased_always_on.
    match get("OTEL_TRACES_SAMPLER").as_deref() {
        None | Some("always_on" | "parentbased_always_on") => Some(1.0),
        Some("always_off" | "parentbased_always_off") => Some(0.0),
        Some("traceidratio" | "parentbased_traceidratio") => Some(arg()),
        Some(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
            .collect()
    }

    #[test]
    fn standard_samplers() {
        assert_eq!(nominal_ratio(&env(&[])), Some(1.0));
        assert_eq!(nominal_ratio(&env(&[("OTEL_SDK_DISABLED", "true")])), None);
        assert_eq!(
            nominal_ratio(&env(&[("OTEL_TRACES_SAMPLER", "always_off")])),
            Some(0.0)
        );
        assert_eq!(
            nominal_ratio(&env(&[
                ("OTEL_TRACES_SAMPLER", "parentbased_traceidratio"),
                ("OTEL_TRACES_SAMPLER_ARG", "0.25")
            ])),
            Some(0.25)
        );
        assert_eq!(
            nominal_ratio(&env(&[("OTEL_TRACES_SAMPLER", "traceidratio")])),
            Some(1.0)
        );
        assert_eq!(
            nominal_ratio(&env(&[("OTEL_TRACES_SAMPLER", "jaeger_remote")])),
            None
        );
        assert_eq!(
            nominal_ratio(&env(&[("OTEL_TRACES_EXPORTER", "none")])),
            None
        );
    }
}
