//! Checks of the collector and of collector faults (no I/O: whether rotel-agent is installed is
//! found when the run is resolved against the machine).

use super::CollectorSpec;
use crate::sink::Fault;

/// One problem: field, message, fix.
pub type Problem = (String, String, String);

/// The fault `spec` asks for at `field`: `"none"` is a healthy collector. Faults are played by
/// the embedded sink, so any other collector cannot have one.
pub fn fault(field: &str, spec: &str, collector: &CollectorSpec) -> Result<Option<Fault>, Problem> {
    if spec.trim() == "none" {
        return Ok(None);
    }
    let fault: Fault = spec
        .parse()
        .map_err(|e: crate::sink::fault::FaultParseError| {
            (
                field.to_string(),
                e.to_string(),
                "write the fault as shown".to_string(),
            )
        })?;
    if !matches!(collector, CollectorSpec::Embedded { .. }) {
        return Err((
            field.to_string(),
            format!("the fault {fault} needs the embedded collector, which plays it"),
            "set collector = { kind = \"embedded\" }, or remove the fault".to_string(),
        ));
    }
    Ok(Some(fault))
}

/// Problems of the collector itself, and the fault it plays for every variant.
pub fn check(collector: &CollectorSpec) -> (Option<Fault>, Vec<Problem>) {
    let mut problems = Vec::new();
    let mut default_fault = None;
    match collector {
        CollectorSpec::Embedded { fault: Some(spec) } => {
            match fault("collector.fault", spec, collector) {
                Ok(f) => default_fault = f,
                Err(p) => problems.push(p),
            }
        }
        CollectorSpec::External { endpoint }
            if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) =>
        {
            problems.push((
                "collector.endpoint".into(),
                format!("{endpoint:?} is not an http(s) URL"),
                "use e.g. http://127.0.0.1:4317".into(),
            ));
        }
        CollectorSpec::Rotel {
            binary: Some(path), ..
        } if path.as_os_str().is_empty() => problems.push((
            "collector.binary".into(),
            "is empty".into(),
            "give the path of rotel-agent, or remove the field to find it".into(),
        )),
        _ => {}
    }
    (default_fault, problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_need_the_embedded_collector() {
        let embedded = CollectorSpec::default();
        assert_eq!(fault("f", "down", &embedded), Ok(Some(Fault::Down)));
        assert_eq!(fault("f", "none", &embedded), Ok(None));
        let rotel = CollectorSpec::Rotel {
            binary: None,
            forward: false,
        };
        let (field, message, fix) = fault("variants[2].fault", "down", &rotel).unwrap_err();
        assert_eq!(field, "variants[2].fault");
        assert!(message.contains("embedded collector"), "{message}");
        assert!(fix.contains("kind = \"embedded\""), "{fix}");
        let (_, message, _) = fault("f", "slow", &embedded).unwrap_err();
        assert!(message.contains("needs a duration"), "{message}");
    }

    #[test]
    fn the_collector_fault_is_every_variant_default() {
        let c = CollectorSpec::Embedded {
            fault: Some("error:0.5".into()),
        };
        assert_eq!(check(&c), (Some(Fault::Error { ppm: 500_000 }), vec![]));
        let bad = CollectorSpec::External {
            endpoint: "127.0.0.1:4317".into(),
        };
        assert_eq!(check(&bad).1[0].0, "collector.endpoint");
    }
}
