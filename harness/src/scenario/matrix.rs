//! Expanding `[matrix]` axes into variants (cartesian product, first axis slowest).

use std::collections::BTreeMap;

use super::{AxisSpec, Variant};

/// Why two axis values cannot be combined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    /// The variable both set.
    pub key: String,
    /// The two axes.
    pub axes: (String, String),
}

/// Every combination of one value per axis. Names join value names with ` / `; environments
/// merge. Two axes setting the same variable is a conflict.
pub fn expand(axes: &[AxisSpec]) -> Result<Vec<Variant>, Conflict> {
    let mut owner: BTreeMap<&str, &str> = BTreeMap::new();
    for axis in axes {
        for value in &axis.values {
            for key in value.env.keys() {
                match owner.get(key.as_str()) {
                    Some(other) if *other != axis.name => {
                        return Err(Conflict {
                            key: key.clone(),
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
    let mut variants = vec![Variant {
        name: String::new(),
        env: BTreeMap::new(),
    }];
    for axis in axes {
        let mut next = Vec::with_capacity(variants.len() * axis.values.len());
        for partial in &variants {
            for value in &axis.values {
                let mut env = partial.env.clone();
                env.extend(value.env.clone());
                let name = if partial.name.is_empty() {
                    value.name.clone()
                } else {
                    format!("{} / {}", partial.name, value.name)
                };
                next.push(Variant { name, env });
            }
        }
        variants = next;
    }
    if axes.is_empty() {
        variants.clear();
    }
    Ok(variants)
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
                })
                .collect(),
        }
    }

    #[test]
    fn product_names_and_envs() {
        let v = expand(&[
            axis("sampling", &[("10%", "S", "0.1"), ("100%", "S", "1")]),
            axis(
                "protocol",
                &[("grpc", "P", "grpc"), ("http", "P", "http/protobuf")],
            ),
        ])
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
        let err =
            expand(&[axis("a", &[("x", "K", "1")]), axis("b", &[("y", "K", "2")])]).unwrap_err();
        assert_eq!(err.key, "K");
        assert_eq!(err.axes, ("a".to_string(), "b".to_string()));
    }

    #[test]
    fn no_axes_no_variants() {
        assert!(expand(&[]).unwrap().is_empty());
    }
}
