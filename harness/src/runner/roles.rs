//! Which process sent a span: each role's telemetry is tagged through `OTEL_RESOURCE_ATTRIBUTES`
//! (honoured by every OpenTelemetry SDK), so the sink can tell web from worker even when both
//! share one `service.name`.

use std::collections::BTreeMap;

pub use crate::sink::stats::ROLE_ATTRIBUTE;

const VARIABLE: &str = "OTEL_RESOURCE_ATTRIBUTES";

/// `env` for the process playing `role`: `otelbench.role=<role>` added to the user's own
/// `OTEL_RESOURCE_ATTRIBUTES`, never replacing it. A value that already names a role is kept
/// as the user wrote it (they tagged the process themselves).
pub fn tagged(env: &BTreeMap<String, String>, role: &str) -> BTreeMap<String, String> {
    let mut env = env.clone();
    let ours = format!("{ROLE_ATTRIBUTE}={role}");
    let merged = match env.get(VARIABLE).map(|v| v.trim()) {
        None | Some("") => ours,
        Some(theirs) if names_a_role(theirs) => theirs.to_string(),
        Some(theirs) => format!("{},{ours}", theirs.trim_end_matches(',')),
    };
    env.insert(VARIABLE.into(), merged);
    env
}

fn names_a_role(attributes: &str) -> bool {
    attributes
        .split(',')
        .filter_map(|pair| pair.split_once('='))
        .any(|(key, _)| key.trim() == ROLE_ATTRIBUTE)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(value: Option<&str>) -> BTreeMap<String, String> {
        let mut env = BTreeMap::from([("PATH".to_string(), "/bin".to_string())]);
        if let Some(v) = value {
            env.insert(VARIABLE.into(), v.into());
        }
        env
    }

    #[test]
    fn the_role_is_added_to_the_users_attributes_never_replacing_them() {
        assert_eq!(tagged(&env(None), "web")[VARIABLE], "otelbench.role=web");
        assert_eq!(
            tagged(&env(Some("  ")), "web")[VARIABLE],
            "otelbench.role=web"
        );
        assert_eq!(
            tagged(&env(Some("deployment.environment=perf,team=a,")), "worker")[VARIABLE],
            "deployment.environment=perf,team=a,otelbench.role=worker"
        );
        assert_eq!(tagged(&env(None), "web")["PATH"], "/bin");
    }

    #[test]
    fn a_role_the_user_set_is_kept() {
        let theirs = "team=a, otelbench.role=api";
        assert_eq!(tagged(&env(Some(theirs)), "web")[VARIABLE], theirs);
        // A key that merely contains the name is not the name.
        assert_eq!(
            tagged(&env(Some("my.otelbench.role=x")), "web")[VARIABLE],
            "my.otelbench.role=x,otelbench.role=web"
        );
    }
}
