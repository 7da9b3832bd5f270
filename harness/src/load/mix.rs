//! Request templates: placeholders, weighted choice, JSON captures.

use std::collections::HashMap;

use serde_json::Value;

use crate::scenario::RequestSpec;

/// A user's variables: `user`, `seq`, `run` and whatever its requests captured.
pub type Vars = HashMap<String, String>;

/// Replaces every `{name}` in `template` with its variable; a missing variable is an error
/// naming it (counted as a failed request, e.g. when a capture never happened).
pub fn render(template: &str, vars: &Vars) -> Result<String, String> {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            out.push_str(&rest[open..]);
            return Ok(out);
        };
        let name = &after[..close];
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            // Not a placeholder (e.g. literal JSON braces): keep it.
            out.push('{');
            rest = after;
            continue;
        }
        match vars.get(name) {
            Some(v) => out.push_str(v),
            None => return Err(format!("no value for {{{name}}}")),
        }
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The JSON body of a template with every string rendered.
pub fn body(template: &toml::Value, vars: &Vars) -> Result<Value, String> {
    Ok(match template {
        toml::Value::String(s) => Value::String(render(s, vars)?),
        toml::Value::Integer(i) => Value::from(*i),
        toml::Value::Float(f) => Value::from(*f),
        toml::Value::Boolean(b) => Value::Bool(*b),
        toml::Value::Datetime(d) => Value::String(d.to_string()),
        toml::Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| body(v, vars))
                .collect::<Result<_, _>>()?,
        ),
        toml::Value::Table(t) => Value::Object(
            t.iter()
                .map(|(k, v)| Ok((k.clone(), body(v, vars)?)))
                .collect::<Result<_, String>>()?,
        ),
    })
}

/// Cumulative weights for [`pick`].
pub fn cumulative(requests: &[RequestSpec]) -> Vec<u64> {
    requests
        .iter()
        .scan(0_u64, |sum, r| {
            *sum += u64::from(r.weight);
            Some(*sum)
        })
        .collect()
}

/// The request index for a uniform draw `x` in `[0, total)`.
pub fn pick(cumulative: &[u64], x: u64) -> usize {
    cumulative
        .partition_point(|c| *c <= x)
        .min(cumulative.len().saturating_sub(1))
}

/// Stores the values at `spec.capture`'s JSON pointers into `vars`.
pub fn capture(spec: &RequestSpec, response: &[u8], vars: &mut Vars) -> Result<(), String> {
    if spec.capture.is_empty() {
        return Ok(());
    }
    let json: Value =
        serde_json::from_slice(response).map_err(|_| "response is not JSON".to_string())?;
    for (name, pointer) in &spec.capture {
        let value = json
            .pointer(pointer)
            .ok_or_else(|| format!("response has no {pointer}"))?;
        let text = match value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        vars.insert(name.clone(), text);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars() -> Vars {
        [("user", "7"), ("slug", "hello-1")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn placeholders_are_replaced_and_missing_ones_named() {
        assert_eq!(
            render("/api/articles/{slug}?u={user}", &vars()).unwrap(),
            "/api/articles/hello-1?u=7"
        );
        assert_eq!(render("{\"a\": 1}", &vars()).unwrap(), "{\"a\": 1}");
        assert_eq!(
            render("/x/{token}", &vars()).unwrap_err(),
            "no value for {token}"
        );
    }

    #[test]
    fn bodies_render_nested_strings() {
        let t: toml::Value =
            toml::from_str("email = \"u{user}@x.io\"\nn = 3\n[inner]\ns = \"{slug}\"").unwrap();
        let b = body(&t, &vars()).unwrap();
        assert_eq!(b["email"], "u7@x.io");
        assert_eq!(b["n"], 3);
        assert_eq!(b["inner"]["s"], "hello-1");
    }

    #[test]
    fn weighted_pick_follows_the_weights() {
        let spec = |w| RequestSpec {
            name: "r".into(),
            method: "GET".into(),
            path: "/".into(),
            body: None,
            headers: std::collections::BTreeMap::default(),
            expect: None,
            weight: w,
            capture: std::collections::BTreeMap::default(),
        };
        let c = cumulative(&[spec(50), spec(0), spec(30), spec(20)]);
        assert_eq!(c, [50, 50, 80, 100]);
        let mut counts = [0; 4];
        for x in 0..100 {
            counts[pick(&c, x)] += 1;
        }
        assert_eq!(counts, [50, 0, 30, 20]);
    }

    #[test]
    fn captures_read_json_pointers() {
        let mut spec = RequestSpec {
            name: "r".into(),
            method: "POST".into(),
            path: "/".into(),
            body: None,
            headers: std::collections::BTreeMap::default(),
            expect: None,
            weight: 1,
            capture: [("slug".to_string(), "/article/slug".to_string())].into(),
        };
        let mut v = Vars::new();
        capture(&spec, br#"{"article":{"slug":"s-1"}}"#, &mut v).unwrap();
        assert_eq!(v["slug"], "s-1");
        spec.capture.insert("id".into(), "/article/id".into());
        assert_eq!(
            capture(&spec, br#"{"article":{"slug":"s"}}"#, &mut v).unwrap_err(),
            "response has no /article/id"
        );
    }
}
