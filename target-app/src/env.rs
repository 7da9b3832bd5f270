//! Reading configuration from environment variables through a lookup function, so that parsing
//! is testable without touching the process environment.

use std::str::FromStr;

/// A source of environment variables: the process environment, or a map in tests.
pub trait Env {
    /// The value of `name`, or `None` when it is unset or empty.
    fn get(&self, name: &str) -> Option<String>;
}

/// The real process environment.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn get(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.trim().is_empty())
    }
}

impl Env for [(&str, &str)] {
    fn get(&self, name: &str) -> Option<String> {
        self.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| (*v).to_string())
            .filter(|v| !v.trim().is_empty())
    }
}

/// An environment variable with an invalid value: names the variable, the value and the fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("environment variable {var}={value:?} is invalid: {reason}; fix: {fix}")]
pub struct EnvError {
    /// The variable's name.
    pub var: String,
    /// The offending value.
    pub value: String,
    /// What is wrong with it.
    pub reason: String,
    /// What to set instead.
    pub fix: String,
}

impl EnvError {
    /// Builds an error for `var` holding `value`.
    pub fn new(var: &str, value: &str, reason: impl Into<String>, fix: impl Into<String>) -> Self {
        Self {
            var: var.to_string(),
            value: value.to_string(),
            reason: reason.into(),
            fix: fix.into(),
        }
    }
}

/// Parses `name` as a number, or returns `default` when unset.
pub fn number<T>(
    env: &(impl Env + ?Sized),
    name: &str,
    default: T,
    fix: &str,
) -> Result<T, EnvError>
where
    T: FromStr,
{
    match env.get(name) {
        None => Ok(default),
        Some(raw) => raw
            .trim()
            .parse()
            .map_err(|_| EnvError::new(name, &raw, "not a whole number", fix)),
    }
}

/// Parses `name` as a boolean (`true`/`false`, case-insensitive), or returns `default`.
pub fn boolean(env: &(impl Env + ?Sized), name: &str, default: bool) -> Result<bool, EnvError> {
    match env.get(name) {
        None => Ok(default),
        Some(raw) => match raw.trim().to_ascii_lowercase().as_str() {
            "true" => Ok(true),
            "false" => Ok(false),
            _ => Err(EnvError::new(
                name,
                &raw,
                "not a boolean",
                "use true or false",
            )),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_values_count_as_unset() {
        let env: &[(&str, &str)] = &[("A", " "), ("B", "7")];
        assert_eq!(Env::get(env, "A"), None);
        assert_eq!(number(env, "B", 1_u32, "x").unwrap(), 7);
        assert_eq!(number(env, "C", 3_u32, "x").unwrap(), 3);
    }

    #[test]
    fn bad_number_names_the_variable_and_fix() {
        let env: &[(&str, &str)] = &[("PORT", "eighty")];
        let err = number(env, "PORT", 8000_u16, "set a port between 1 and 65535").unwrap_err();
        let text = err.to_string();
        assert!(text.contains("PORT=\"eighty\""), "{text}");
        assert!(text.contains("fix: set a port"), "{text}");
    }

    #[test]
    fn booleans_are_strict() {
        let env: &[(&str, &str)] = &[("X", "TRUE"), ("Y", "yes")];
        assert!(boolean(env, "X", false).unwrap());
        assert!(boolean(env, "Y", false).is_err());
    }
}
