//! API behaviour and the job flow through `app().oneshot(...)`, on every storage and queue
//! backend: SQLite (file), PostgreSQL and Redis, all real.

mod common;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use common::{
    Storage, access_token, assert_error, call, config, eventually, post_article, register, unique,
};
use serde_json::json;
use target_app::config::Config;
use target_app::state::AppState;
use target_app::telemetry::config::OtelConfig;
use target_app::telemetry::{Telemetry, TestExporters};
use target_app::worker::{JobStats, consume};

fn disabled_telemetry() -> Telemetry {
    let otel = OtelConfig::from_env(&[("OTEL_SDK_DISABLED", "true")][..], "test").unwrap();
    Telemetry::build(otel, &TestExporters::default()).unwrap()
}

/// The state and the app of `cfg`, with telemetry disabled.
async fn app_without_telemetry(cfg: &Config) -> (AppState, Router) {
    let telemetry = disabled_telemetry();
    let state = target_app::build_state(cfg, &telemetry).await.unwrap();
    let app = target_app::app(state.clone());
    (state, app)
}

async fn notifications(state: &AppState) -> i64 {
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM notifications")
        .fetch_one(state.db.pool())
        .await
        .unwrap();
    n
}

/// A registered user.
struct User {
    id: i64,
    email: String,
    token: String,
}

/// A worker in the same process, consuming the same queue as a separate process would.
struct Worker {
    stop: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
    stats: Arc<JobStats>,
}

/// The whole API, its error cases, and the worker's processing of the jobs it enqueues. One
/// story: the parts run in this order on one database, each using what the earlier ones made.
async fn api_suite(database_url: &str, queue_url: Option<&str>) {
    let queue_name = unique("q");
    let cfg = config(database_url, queue_url, &queue_name);
    let (state, app) = app_without_telemetry(&cfg).await;

    health_is_degraded_without_a_worker(&app).await;
    let worker = start_worker(&state, &app).await;
    let alice = register_and_its_errors(&app).await;
    let login_token = login_and_its_errors(&app, &alice.email).await;
    current_user_and_token_errors(&app, &cfg, &alice).await;
    logout_revokes_exactly_that_token(&app, &login_token, &alice.token).await;
    let slug = create_articles_and_errors(&app, &alice).await;
    list_and_get_articles(&app, &slug).await;
    seed_article_shapes(&app, &alice).await;
    let (bob_token, uri) = only_the_author_changes_an_article(&app, &alice, &slug).await;
    let fav = favorites(&app, &slug, &uri, &bob_token, &alice.token).await;
    jobs_are_processed_then_deletes(&app, &state, &fav, &uri, &bob_token, &alice.token).await;
    unknown_routes_and_methods(&app).await;
    stop_worker(worker).await;
    state.queue.purge().await.unwrap();
    state.db.close().await;
}

/// Health before any worker: serving, but degraded.
async fn health_is_degraded_without_a_worker(app: &Router) {
    let (status, health) = call(app, "GET", "/api/health", None, None).await;
    assert_eq!(status, StatusCode::OK, "{health}");
    assert_eq!(health["status"], "degraded");
    assert_eq!(health["components"]["database"], "healthy");
    assert_eq!(health["components"]["redis"], "healthy");
    assert_eq!(
        health["components"]["celery"], "unhealthy: no worker has reported",
        "{health}"
    );
    assert_eq!(health["service"]["name"], "test");
}

/// Starts a [`Worker`] and waits for its heartbeat to make health ok.
async fn start_worker(state: &AppState, app: &Router) -> Worker {
    let (stop, stop_rx) = tokio::sync::watch::channel(false);
    let stats = Arc::new(JobStats::default());
    let task = tokio::spawn(consume(
        state.clone(),
        2,
        Duration::from_secs(5),
        stats.clone(),
        stop_rx,
    ));
    assert!(
        eventually(Duration::from_secs(5), || async {
            call(app, "GET", "/api/health", None, None).await.1["status"] == "healthy"
        })
        .await,
        "worker heartbeat never made health ok"
    );
    Worker { stop, task, stats }
}

/// Register and its errors; returns the first user registered (alice).
async fn register_and_its_errors(app: &Router) -> User {
    let email = format!("{}@example.com", unique("alice"));
    let (id, token) = register(app, &email).await;
    // Seed 002's register example, and the earlier `username` field still accepted.
    let seed = format!(
        r#"{{"email": "{}@example.com", "name": "Alice", "password": "password123"}}"#,
        unique("seed")
    );
    let (s, b) = call(app, "POST", "/api/register", None, Some(&seed)).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    assert_eq!(b["user"]["name"], "Alice");
    assert_eq!(
        (&b["user"]["bio"], &b["user"]["image"]),
        (&json!(""), &json!(""))
    );
    assert_eq!(b["token"]["token_type"], "Bearer");
    assert!(
        b["token"]["access_token"].as_str().unwrap().len() > 20,
        "{b}"
    );
    let old = format!(
        r#"{{"email":"{}@example.com","username":"Old","password":"password123"}}"#,
        unique("old")
    );
    let (s, b) = call(app, "POST", "/api/register", None, Some(&old)).await;
    assert_eq!(
        (s, &b["user"]["name"]),
        (StatusCode::CREATED, &json!("Old")),
        "{b}"
    );
    let dup = format!(r#"{{"email":"{email}","name":"a","password":"correct horse"}}"#);
    let (s, b) = call(app, "POST", "/api/register", None, Some(&dup)).await;
    assert_error(s, &b, StatusCode::CONFLICT);
    invalid_registrations(app).await;
    User { id, email, token }
}

/// Invalid register bodies, and a body without a JSON content type.
async fn invalid_registrations(app: &Router) {
    for (body, expected) in [
        (
            r#"{"email":"not-an-email","name":"a","password":"correct horse"}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            r#"{"email":"x@example.com","name":"","password":"correct horse"}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            r#"{"email":"x@example.com","name":"a","password":"short"}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            r#"{"email":"x@example.com","name":"a"}"#,
            StatusCode::BAD_REQUEST,
        ),
        (r#"{"email":"x@example.com","#, StatusCode::BAD_REQUEST),
        (
            r#"{"email":1,"name":"a","password":"correct horse"}"#,
            StatusCode::BAD_REQUEST,
        ),
        ("[]", StatusCode::BAD_REQUEST),
        ("null", StatusCode::BAD_REQUEST),
    ] {
        let (s, b) = call(app, "POST", "/api/register", None, Some(body)).await;
        assert_error(s, &b, expected);
    }
    // A body without a JSON content type.
    let request = axum::http::Request::post("/api/register")
        .body(axum::body::Body::from("{}"))
        .unwrap();
    let response = tower::ServiceExt::oneshot(app.clone(), request)
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}

/// Login (the email in another case) and its errors; returns the new login's token.
async fn login_and_its_errors(app: &Router, email: &str) -> String {
    let login = format!(
        r#"{{"email":"{}","password":"correct horse"}}"#,
        email.to_uppercase()
    );
    let (s, b) = call(app, "POST", "/api/login", None, Some(&login)).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let login_token = access_token(&b);
    let wrong = format!(r#"{{"email":"{email}","password":"wrong password"}}"#);
    let (s, b) = call(app, "POST", "/api/login", None, Some(&wrong)).await;
    assert_error(s, &b, StatusCode::UNAUTHORIZED);
    let (s, b) = call(
        app,
        "POST",
        "/api/login",
        None,
        Some(r#"{"email":"nobody@example.com","password":"whatever1"}"#),
    )
    .await;
    assert_error(s, &b, StatusCode::UNAUTHORIZED);
    login_token
}

/// A token for user `sub` with id `jti`, expiring at `exp` (s), signed with `secret`.
fn signed_token(sub: i64, jti: &str, exp: u64, secret: &[u8]) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &target_app::auth::Claims {
            sub,
            jti: jti.into(),
            iat: 1,
            exp,
        },
        &jsonwebtoken::EncodingKey::from_secret(secret),
    )
    .unwrap()
}

/// Current user and token errors: missing, malformed, expired and forged tokens.
async fn current_user_and_token_errors(app: &Router, cfg: &Config, alice: &User) {
    let (s, b) = call(app, "GET", "/api/user", Some(&alice.token), None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(b["user"]["id"], alice.id);
    assert_eq!(b["user"]["email"], alice.email);
    let (s, b) = call(app, "GET", "/api/user", None, None).await;
    assert_error(s, &b, StatusCode::UNAUTHORIZED);
    let (s, b) = call(app, "GET", "/api/user", Some("not.a.jwt"), None).await;
    assert_error(s, &b, StatusCode::UNAUTHORIZED);
    let expired = signed_token(alice.id, "x", 2, cfg.jwt_secret.as_bytes());
    let (s, b) = call(app, "GET", "/api/user", Some(&expired), None).await;
    let message = assert_error(s, &b, StatusCode::UNAUTHORIZED);
    assert!(message.contains("expired"), "{message}");
    let forged = signed_token(alice.id, "y", 4_000_000_000, b"another secret");
    let (s, b) = call(app, "GET", "/api/user", Some(&forged), None).await;
    assert_error(s, &b, StatusCode::UNAUTHORIZED);
}

/// Logout revokes exactly that token.
async fn logout_revokes_exactly_that_token(app: &Router, login_token: &str, other_token: &str) {
    let (s, _) = call(app, "POST", "/api/logout", Some(login_token), None).await;
    assert_eq!(s, StatusCode::OK);
    let (s, b) = call(app, "GET", "/api/user", Some(login_token), None).await;
    assert_error(s, &b, StatusCode::UNAUTHORIZED);
    let (s, _) = call(app, "GET", "/api/user", Some(other_token), None).await;
    assert_eq!(s, StatusCode::OK);
}

/// Creating articles and its errors; returns the slug of the first of the two created.
async fn create_articles_and_errors(app: &Router, alice: &User) -> String {
    let token = Some(alice.token.as_str());
    let (s, b) = post_article(app, None, r#"{"title":"t","body":"b"}"#).await;
    assert_error(s, &b, StatusCode::UNAUTHORIZED);
    let (s, b) = post_article(app, token, r#"{"title":" ","body":"b"}"#).await;
    assert_error(s, &b, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, b) = post_article(app, token, r#"{"title":"t"}"#).await;
    assert_error(s, &b, StatusCode::BAD_REQUEST);
    let (s, b) = post_article(
        app,
        token,
        r#"{"title":"First Post!","description":"d","body":"hello"}"#,
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let slug = b["slug"].as_str().unwrap().to_string();
    assert!(slug.starts_with("first-post-"), "{slug}");
    assert_eq!(b["author"]["id"], alice.id);
    let (s, _) = post_article(app, token, r#"{"title":"Second","body":"x"}"#).await;
    assert_eq!(s, StatusCode::CREATED);
    slug
}

/// Listing (newest first, paged) and getting one article, with their errors.
async fn list_and_get_articles(app: &Router, slug: &str) {
    let (s, b) = call(app, "GET", "/api/articles?page=1&per_page=1", None, None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(b["articles"].as_array().unwrap().len(), 1);
    assert_eq!(b["total"], 2);
    assert_eq!(b["articles"][0]["title"], "Second", "newest first");
    let (s, b) = call(app, "GET", "/api/articles?page=2&per_page=1", None, None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(b["articles"][0]["slug"], slug);
    let (s, b) = call(app, "GET", "/api/articles?page=0", None, None).await;
    assert_error(s, &b, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, b) = call(app, "GET", "/api/articles?per_page=1000", None, None).await;
    assert_error(s, &b, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, b) = call(app, "GET", "/api/articles?per_page=abc", None, None).await;
    assert_error(s, &b, StatusCode::BAD_REQUEST);

    let (s, b) = call(app, "GET", &format!("/api/articles/{slug}"), None, None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(b["body"], "hello");
    let (s, b) = call(app, "GET", "/api/articles/no-such-slug", None, None).await;
    assert_error(s, &b, StatusCode::NOT_FOUND);
}

/// Seed 002's shapes: the collection with its trailing slash, an article at the top level
/// with its author, favorites and an ISO 8601 time.
async fn seed_article_shapes(app: &Router, alice: &User) {
    let (s, b) = call(
        app,
        "POST",
        "/api/articles/",
        Some(&alice.token),
        Some(r#"{"title": "My Article", "body": "Article content here", "description": "A brief description"}"#),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    assert!(
        b["slug"].as_str().unwrap().starts_with("my-article-"),
        "{b}"
    );
    assert_eq!(b["description"], "A brief description");
    assert_eq!(b["author"]["email"], alice.email.as_str());
    assert_eq!(b["author"]["name"], "user");
    assert_eq!(b["favorites_count"], 0);
    assert_eq!(b["favorited"], false);
    let created = b["created_at"].as_str().unwrap();
    assert!(
        created.len() == 20 && created.ends_with('Z') && created.as_bytes()[10] == b'T',
        "{created}"
    );
    let (s, b) = call(app, "GET", "/api/articles/?per_page=1", None, None).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["total"], 3, "both slash forms are the same collection");
    let (s, b) = call(app, "GET", "/api/articles/no-such", Some("broken"), None).await;
    assert_error(s, &b, StatusCode::UNAUTHORIZED);
}

/// Ownership: another user (bob, registered here) may neither change nor delete alice's
/// article, she may. Returns bob's token and the article's URI.
async fn only_the_author_changes_an_article(
    app: &Router,
    alice: &User,
    slug: &str,
) -> (String, String) {
    let (bob, bob_token) = register(app, &format!("{}@example.com", unique("bob"))).await;
    assert_ne!(bob, alice.id);
    let uri = format!("/api/articles/{slug}");
    let (s, b) = call(
        app,
        "PUT",
        &uri,
        Some(&bob_token),
        Some(r#"{"title":"mine now"}"#),
    )
    .await;
    assert_error(s, &b, StatusCode::FORBIDDEN);
    let (s, b) = call(app, "DELETE", &uri, Some(&bob_token), None).await;
    assert_error(s, &b, StatusCode::FORBIDDEN);
    let (s, b) = call(
        app,
        "PUT",
        &uri,
        Some(&alice.token),
        Some(r#"{"title":"Edited"}"#),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["title"], "Edited");
    assert_eq!(b["body"], "hello", "unchanged fields are kept");
    let (s, b) = call(
        app,
        "PUT",
        &uri,
        Some(&alice.token),
        Some(r#"{"title":""}"#),
    )
    .await;
    assert_error(s, &b, StatusCode::UNPROCESSABLE_ENTITY);
    (bob_token, uri)
}

/// Favorites: idempotent, counted, and each new favorite enqueues a job. Returns the
/// article's favorite URI.
async fn favorites(
    app: &Router,
    slug: &str,
    uri: &str,
    bob_token: &str,
    alice_token: &str,
) -> String {
    let fav = format!("/api/articles/{slug}/favorite");
    let (s, b) = call(app, "POST", &fav, Some(bob_token), None).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["favorites_count"], 1);
    assert_eq!(b["favorited"], true);
    // `favorited` is the viewer's: true for bob, false for alice and for no one.
    for (token, expected) in [
        (Some(bob_token), true),
        (Some(alice_token), false),
        (None, false),
    ] {
        let (_, b) = call(app, "GET", uri, token, None).await;
        assert_eq!(b["favorited"], expected, "{b}");
        let (_, b) = call(app, "GET", "/api/articles", token, None).await;
        let listed = b["articles"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["slug"] == slug);
        assert_eq!(listed.unwrap()["favorited"], expected, "{b}");
    }
    let (_, b) = call(app, "POST", &fav, Some(bob_token), None).await;
    assert_eq!(b["favorites_count"], 1);
    let (s, b) = call(
        app,
        "POST",
        "/api/articles/nope/favorite",
        Some(bob_token),
        None,
    )
    .await;
    assert_error(s, &b, StatusCode::NOT_FOUND);
    fav
}

/// The worker processed three article_created jobs and one article_favorited job; then
/// unfavoriting and deleting.
async fn jobs_are_processed_then_deletes(
    app: &Router,
    state: &AppState,
    fav: &str,
    uri: &str,
    bob_token: &str,
    alice_token: &str,
) {
    assert!(
        eventually(Duration::from_secs(10), || async {
            notifications(state).await == 4
        })
        .await,
        "expected 4 notifications, found {}",
        notifications(state).await
    );
    let (s, b) = call(app, "DELETE", fav, Some(bob_token), None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(b["favorites_count"], 0);
    let (s, _) = call(app, "DELETE", uri, Some(alice_token), None).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, b) = call(app, "GET", uri, None, None).await;
    assert_error(s, &b, StatusCode::NOT_FOUND);
}

/// Unknown routes and methods answer in the same format.
async fn unknown_routes_and_methods(app: &Router) {
    let (s, b) = call(app, "GET", "/api/nothing-here", None, None).await;
    assert_error(s, &b, StatusCode::NOT_FOUND);
    let (s, b) = call(app, "PATCH", "/api/articles", None, None).await;
    assert_error(s, &b, StatusCode::METHOD_NOT_ALLOWED);
}

/// Stops the worker: it completed the four jobs, none failed, each with a queue latency.
async fn stop_worker(worker: Worker) {
    worker.stop.send(true).unwrap();
    worker.task.await.unwrap().unwrap();
    let totals = worker.stats.totals();
    assert_eq!((totals.completed, totals.failed), (4, 0), "{totals:?}");
    assert_eq!(totals.queue_latency_us.count, 4);
    assert!(totals.queue_latency_us.p50 > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_on_sqlite_with_sqlite_queue() {
    let storage = Storage::sqlite();
    api_suite(&storage.url(), None).await;
    storage.remove().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_on_postgres_with_postgres_queue() {
    let storage = Storage::postgres().await;
    api_suite(&storage.url(), None).await;
    storage.remove().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_on_postgres_with_redis_queue() {
    let storage = Storage::postgres().await;
    api_suite(&storage.url(), Some(&common::redis_url())).await;
    storage.remove().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_calibration_knob_spends_its_cpu_on_every_api_request() {
    let storage = Storage::sqlite();
    let mut cfg = config(&storage.url(), None, &unique("q"));
    cfg.calibration_cpu = Duration::from_millis(30);
    let (state, app) = app_without_telemetry(&cfg).await;
    let process_cpu = || {
        let t = nix::time::clock_gettime(nix::time::ClockId::CLOCK_PROCESS_CPUTIME_ID).unwrap();
        Duration::from(t)
    };
    for _ in 0..3 {
        let before = process_cpu();
        let (status, body) = call(&app, "GET", "/api/articles/", None, None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let used = process_cpu().saturating_sub(before);
        // A lower bound only: other tests of this binary run on the same clock.
        assert!(used >= cfg.calibration_cpu, "a request used {used:?}");
    }
    state.db.close().await;
    storage.remove().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_input_never_causes_a_server_error() {
    let storage = Storage::sqlite();
    let cfg = config(&storage.url(), None, &unique("q"));
    let (state, app) = app_without_telemetry(&cfg).await;
    let (_, token) = register(&app, &format!("{}@example.com", unique("m"))).await;
    let bodies = [
        "",
        "{",
        "}",
        "[]",
        "null",
        "0",
        "\"s\"",
        "{\"title\":null,\"body\":null}",
        "{\"title\":[1,2],\"body\":{}}",
        "{\"email\":\"\\u0000@x.io\",\"name\":\"\\ud800\",\"password\":\"12345678\"}",
        "{\"title\":\"ünïcödé 🎉\",\"body\":\"ok\"}",
        &"x".repeat(100_000),
    ];
    // A real article, so the routes on one reach their handlers' full paths.
    let (s, created) = post_article(
        &app,
        Some(&token),
        r#"{"title":"malformed input","body":"b"}"#,
    )
    .await;
    assert!(s.is_success(), "{s} {created}");
    let slug = created["slug"].as_str().unwrap().to_string();
    // Every route and method of routes::app (issue 19: 7 pairs were covered), on the real
    // article and on odd slugs, then a wrong method and an unknown path. Deleting comes last.
    let mut targets: Vec<(&str, String)> = vec![
        ("POST", "/api/register".into()),
        ("POST", "/api/login".into()),
        ("POST", "/api/logout".into()),
        ("GET", "/api/user".into()),
        ("GET", "/api/health".into()),
        ("GET", "/api/articles?page=-5&per_page=%ZZ".into()),
        (
            "GET",
            "/api/articles?page=99999999999999999999&per_page=0".into(),
        ),
        ("POST", "/api/articles".into()),
        ("PATCH", "/api/articles".into()),
        ("GET", "/api/no-such-route".into()),
    ];
    for s in [
        slug.as_str(),
        "x",
        "%FF%FE",
        "..%2F..%2Fetc",
        &"s".repeat(5_000),
    ] {
        targets.extend([
            ("GET", format!("/api/articles/{s}")),
            ("PUT", format!("/api/articles/{s}")),
            ("POST", format!("/api/articles/{s}/favorite")),
            ("DELETE", format!("/api/articles/{s}/favorite")),
        ]);
    }
    targets.push(("DELETE", "/api/articles/..%2F..%2Fetc".into()));
    targets.push(("DELETE", format!("/api/articles/{slug}")));
    let mut tried = 0;
    for (method, uri) in &targets {
        for auth in [Some(token.as_str()), Some("not.a.jwt"), None] {
            for body in bodies {
                let mut request = axum::http::Request::builder()
                    .method(*method)
                    .uri(uri.as_str())
                    .header("content-type", "application/json");
                if let Some(t) = auth {
                    request = request.header("authorization", format!("Bearer {t}"));
                }
                let request = request
                    .body(axum::body::Body::from(body.to_string()))
                    .unwrap();
                let response = tower::ServiceExt::oneshot(app.clone(), request)
                    .await
                    .unwrap();
                tried += 1;
                assert!(
                    !response.status().is_server_error(),
                    "{method} {uri} ({auth:?}) with {:?} gave {}",
                    &body[..body.len().min(40)],
                    response.status()
                );
            }
        }
    }
    assert_eq!(tried, targets.len() * 3 * bodies.len());
    state.db.close().await;
    storage.remove().await;
}

/// Generated requests (issue 19): any method, a path made of the API's segments and arbitrary
/// ones (percent-encoded bytes included), any body, a valid, a bad or no token. The app answers
/// every one without a 5xx and without panicking.
#[test]
fn generated_requests_never_cause_a_server_error() {
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let storage = Storage::sqlite();
    let cfg = config(&storage.url(), None, &unique("q"));
    let (state, app, token) = runtime.block_on(async {
        let (state, app) = app_without_telemetry(&cfg).await;
        let (_, token) = register(&app, &format!("{}@example.com", unique("p"))).await;
        (state, app, token)
    });
    let segment = prop_oneof![
        Just("api".to_string()),
        Just("articles".to_string()),
        Just("favorite".to_string()),
        Just("register".to_string()),
        Just("login".to_string()),
        Just("user".to_string()),
        Just("health".to_string()),
        "[a-z0-9-]{0,12}",
        prop::collection::vec(any::<u8>(), 0..8).prop_map(|b| {
            use std::fmt::Write as _;
            b.iter().fold(String::new(), |mut s, x| {
                let _ = write!(s, "%{x:02X}");
                s
            })
        }),
    ];
    let strategy = (
        prop::sample::select(vec!["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]),
        prop::collection::vec(segment, 0..5),
        prop::option::of("[a-z=&%0-9-]{0,30}"),
        prop::collection::vec(any::<u8>(), 0..512),
        0_u8..3,
    );
    let mut runner = TestRunner::new(Config::with_cases(600));
    let sent = std::cell::Cell::new(0_u32);
    let outcome = runner.run(&strategy, |(method, segments, query, body, auth)| {
        let mut uri = format!("/{}", segments.join("/"));
        if let Some(q) = query {
            uri = format!("{uri}?{q}");
        }
        let Ok(uri) = uri.parse::<axum::http::Uri>() else {
            return Ok(()); // not a URI a client could send
        };
        let mut request = axum::http::Request::builder()
            .method(method)
            .uri(uri.clone())
            .header("content-type", "application/json");
        match auth {
            0 => request = request.header("authorization", format!("Bearer {token}")),
            1 => request = request.header("authorization", "Bearer x.y.z"),
            _ => {}
        }
        let request = request.body(axum::body::Body::from(body)).unwrap();
        let response = runtime
            .block_on(tower::ServiceExt::oneshot(app.clone(), request))
            .unwrap();
        sent.set(sent.get() + 1);
        prop_assert!(
            !response.status().is_server_error(),
            "{method} {uri} gave {}",
            response.status()
        );
        Ok(())
    });
    runtime.block_on(async {
        state.db.close().await;
        storage.remove().await;
    });
    outcome.unwrap();
    assert!(
        sent.get() >= 500,
        "only {} requests reached the app",
        sent.get()
    );
}
