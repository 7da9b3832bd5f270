//! Expanding `[matrix]` axes into variants (cartesian product, first axis slowest).

use std::collections::BTreeMap;

use super::{AxisSpec, Variant};
use crate::sink::Fault;

/// Why two axis values cannot be combined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    /// The variable both set.
    pub key: String,
    /// The two axes.
    pub axes: (String, String),
}

/// The pseudo-variable under which an axis value's collector fault is owned.
const FAULT: &str = "fault";

/// Every combination of one value per axis. Names join value names with ` / `; environments
/// merge. Two axes setting the same variable (or both setting a fault) is a conflict. A
/// combination whose values set no fault plays `default_fault`.
pub fn expand(axes: &[AxisSpec], default_fault: Option<Fault>) -> Result<Vec<Variant>, Conflict> {
    let mut owner: BTreeMap<&str, &str> = BTreeMap::new();
    for axis in axes {
        for value in &axis.values {
            let fault_key = value.fault.as_ref().map(|_| FAULT);
            for key in value.env.keys().map(String::as_str).chain(fault_key) {
                match owner.get(key) {
                    Some(other) if *other != axis.name => {
                        return Err(Conflict {
                            key: key.to_string(),
                            axes: ((*other).to_string(), axis.name.clone()),
                        });
                    }
                    _ => {
                        owner.insert(key, &axis.name);
                    }
                }
            }
        }
    }
    // Each partial combination, and whether one of its values set the fault.
    let mut variants = vec![(
        Variant {
            name: String::new(),
            env: BTreeMap::new(),
            fault: None,
            build: None,
        },
        false,
    )];
    for axis in axes {
        let mut next = Vec::with_capacity(variants.len() * axis.values.len());
        for (partial, explicit) in &variants {
            for value in &axis.values {
                let mut env = partial.env.clone();
                env.extend(value.env.clone());
                let name = if partial.name.is_empty() {
                    value.name.clone()
                } else {
                    format!("{} / {}", partial.name, value.name)
                };
                // Fault specs are checked by validation; "none" (and a bad spec) play none.
                let (fault, explicit) = match value.fault.as_deref() {
                    Some(spec) => (spec.parse().ok(), true),
                    None => (partial.fault, *explicit),
                };
                next.push((
                    Variant {
                        name,
                        env,
                        fault,
                        build: None,
                    },
                    explicit,
                ));
            }
        }
        variants = next;
    }
    if axes.is_empty() {
        variants.clear();
    }
    Ok(variants
        .into_iter()
        .map(|(mut v, explicit)| {
            if !explicit {
                v.fault = default_fault;
            }
            v
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::VariantSpec;

    fn axis(name: &str, values: &[(&str, &str, &str)]) -> AxisSpec {
        AxisSpec {
            name: name.into(),
            values: values
                .iter()
                .map(|(n, k, v)| VariantSpec {
                    name: (*n).into(),
                    env: [((*k).to_string(), (*v).to_string())].into(),
                    fault: None,
                    binary: None,
                    command: None,
                    worker_command: None,
                    dir: None,
                })
                .collect(),
        }
    }

    #[test]
    fn product_names_and_envs() {
        let v = expand(
            &[
                axis("sampling", &[("10%", "S", "0.1"), ("100%", "S", "1")]),
                axis(
                    "protocol",
                    &[("grpc", "P", "grpc"), ("http", "P", "http/protobuf")],
                ),
            ],
            None,
        )
        .unwrap();
        let names: Vec<_> = v.iter().map(|v| v.name.as_str()).collect();
        assert_eq!(
            names,
            ["10% / grpc", "10% / http", "100% / grpc", "100% / http"]
        );
        assert_eq!(v[3].env["S"], "1");
        assert_eq!(v[3].env["P"], "http/protobuf");
    }

    #[test]
    fn two_axes_setting_one_variable_conflict() {
        let err = expand(
            &[axis("a", &[("x", "K", "1")]), axis("b", &[("y", "K", "2")])],
            None,
        )
        .unwrap_err();
        assert_eq!(err.key, "K");
        assert_eq!(err.axes, ("a".to_string(), "b".to_string()));
    }

    #[test]
    fn a_fault_axis_sets_faults_and_none_overrides_the_default() {
        let mut faults = axis("collector", &[("healthy", "X", "1"), ("down", "X", "1")]);
        faults.values[0].fault = Some("none".into());
        faults.values[1].fault = Some("down".into());
        let down = Some(Fault::Down);
        let slow = "slow:1s".parse().ok();
        let v = expand(&[axis("s", &[("a", "S", "1")]), faults.clone()], slow).unwrap();
        assert_eq!((v[0].fault, v[1].fault), (None, down));
        // Without a fault axis, every combination plays the default.
        let v = expand(&[axis("s", &[("a", "S", "1")])], slow).unwrap();
        assert_eq!(v[0].fault, slow);
        // Two axes may not both set the fault.
        let mut other = faults.clone();
        other.name = "again".into();
        for value in &mut other.values {
            value.env.clear();
        }
        let err = expand(&[faults, other], None).unwrap_err();
        assert_eq!(err.key, "fault");
    }

    #[test]
    fn no_axes_no_variants() {
        assert!(expand(&[], None).unwrap().is_empty());
    }
}
