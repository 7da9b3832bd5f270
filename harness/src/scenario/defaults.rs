//! Default values, including the built-in target-app's request mix.

use std::collections::BTreeMap;

use super::RequestSpec;

pub(crate) fn postgres_url() -> String {
    "postgres://postgres@127.0.0.1:5432/test".into()
}
pub(crate) fn redis_url() -> String {
    "redis://127.0.0.1:6379".into()
}
pub(crate) fn port_env() -> String {
    "PORT".into()
}
pub(crate) fn ready_timeout() -> u64 {
    60
}
pub(crate) fn warmup() -> f64 {
    5.0
}
pub(crate) fn timeout() -> f64 {
    30.0
}
pub(crate) fn method() -> String {
    "GET".into()
}
pub(crate) fn weight() -> u32 {
    1
}
pub(crate) fn generator_cpus() -> Vec<usize> {
    vec![0]
}
pub(crate) fn target_cpus() -> Vec<usize> {
    vec![1]
}
pub(crate) fn yes() -> bool {
    true
}

/// Users in flight for the rate model when the scenario does not say.
pub const RATE_USERS: u32 = 32;

fn request(
    name: &str,
    method: &str,
    path: &str,
    body: Option<&str>,
    expect: u16,
    weight: u32,
    capture: &[(&str, &str)],
) -> RequestSpec {
    let mut headers = BTreeMap::new();
    headers.insert("Authorization".to_string(), "Bearer {token}".to_string());
    RequestSpec {
        name: name.into(),
        method: method.into(),
        path: path.into(),
        body: body.map(|b| toml::from_str::<toml::Value>(b).expect("static default body")),
        headers,
        expect: Some(expect),
        weight,
        capture: capture
            .iter()
            .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
            .collect(),
    }
}

/// Seed 002's API, which the built-in target-app and the examples under `examples/` speak.
///
/// The per-user set-up: register, log in (keeping the JWT), and create
/// one article (keeping its slug, so reads and favorites have something to hit).
pub fn builtin_setup() -> Vec<RequestSpec> {
    let mut register = request(
        "register",
        "POST",
        "/api/register",
        Some(
            r#"email = "user{user}-{run}@example.com"
name = "User {user}"
password = "correct horse battery""#,
        ),
        201,
        1,
        &[],
    );
    register.headers.clear();
    let mut login = request(
        "login",
        "POST",
        "/api/login",
        Some(
            r#"email = "user{user}-{run}@example.com"
password = "correct horse battery""#,
        ),
        200,
        1,
        &[("token", "/token/access_token")],
    );
    login.headers.clear();
    let first = request(
        "create_article",
        "POST",
        "/api/articles/",
        Some(
            r#"title = "First article of user {user}"
description = "written during set-up"
body = "Lorem ipsum dolor sit amet, consectetur adipiscing elit.""#,
        ),
        201,
        1,
        &[("slug", "/slug")],
    );
    vec![register, login, first]
}

/// The built-in target-app's mix: mostly reads, some writes that enqueue jobs.
pub fn builtin_requests() -> Vec<RequestSpec> {
    vec![
        request(
            "list_articles",
            "GET",
            "/api/articles/?per_page=20",
            None,
            200,
            50,
            &[],
        ),
        request(
            "get_article",
            "GET",
            "/api/articles/{slug}",
            None,
            200,
            30,
            &[],
        ),
        request(
            "create_article",
            "POST",
            "/api/articles/",
            Some(
                r#"title = "Article {seq} of user {user}"
description = "load test"
body = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor.""#,
            ),
            201,
            10,
            &[("slug", "/slug")],
        ),
        request(
            "favorite_article",
            "POST",
            "/api/articles/{slug}/favorite",
            None,
            200,
            10,
            &[],
        ),
    ]
}
