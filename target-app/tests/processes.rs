//! Real `target-app web` and `target-app worker` processes exporting real OTLP to the harness's
//! sink: the worker's spans continue the request's trace across processes, nothing is dropped,
//! and SIGTERM flushes everything and exits 0. Run per storage/queue/protocol combination.

mod common;

use std::collections::HashMap;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{Storage, eventually, unique};
use harness::sink::{Sink, SinkOptions, SpanRecord};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::{Child, Command};

const BIN: &str = env!("CARGO_BIN_EXE_target-app");

/// A running role; killed (SIGKILL) if the test fails before stopping it.
struct Role {
    child: Child,
    stdout: Arc<Mutex<Vec<String>>>,
    stderr: Arc<Mutex<Vec<String>>>,
}

impl Role {
    fn start(role: &str, env: &HashMap<String, String>) -> Self {
        let mut child = Command::new(BIN)
            .arg(role)
            .envs(env)
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("start target-app");
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let mut out = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut err = BufReader::new(child.stderr.take().unwrap()).lines();
        let (o, e) = (stdout.clone(), stderr.clone());
        tokio::spawn(async move {
            while let Ok(Some(line)) = out.next_line().await {
                o.lock().unwrap().push(line);
            }
        });
        tokio::spawn(async move {
            while let Ok(Some(line)) = err.next_line().await {
                e.lock().unwrap().push(line);
            }
        });
        Self {
            child,
            stdout,
            stderr,
        }
    }

    fn stdout_line(&self, prefix: &str) -> Option<String> {
        self.stdout
            .lock()
            .unwrap()
            .iter()
            .find(|l| l.starts_with(prefix))
            .cloned()
    }

    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().join("\n")
    }

    /// SIGTERM, wait for a clean exit, and return the totals line.
    async fn stop(mut self) -> Value {
        let pid = self.child.id().expect("still running");
        let status = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let exit = tokio::time::timeout(Duration::from_secs(20), self.child.wait())
            .await
            .expect("target-app did not exit within 20 s of SIGTERM")
            .unwrap();
        // Let the reader drain the last lines.
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(exit.success(), "exit {exit:?}; stderr:\n{}", self.stderr());
        let stderr = self.stderr();
        let line = stderr
            .lines()
            .find_map(|l| l.strip_prefix(target_app::lifecycle::TOTALS_PREFIX))
            .unwrap_or_else(|| panic!("no totals line on stderr:\n{stderr}"));
        serde_json::from_str(line).unwrap()
    }
}

async fn json_request(
    client: &reqwest_like::Client,
    method: &str,
    url: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    client.send(method, url, token, body).await
}

/// A tiny HTTP/1.1 JSON client over hyper-less TCP, so the test needs no extra HTTP crate.
mod reqwest_like {
    use serde_json::Value;
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    pub struct Client {
        pub addr: String,
    }

    impl Client {
        pub async fn send(
            &self,
            method: &str,
            path: &str,
            token: Option<&str>,
            body: Option<Value>,
        ) -> (u16, Value) {
            let body = body.map(|b| b.to_string()).unwrap_or_default();
            let mut request = format!(
                "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
                self.addr,
                body.len()
            );
            if let Some(t) = token {
                use std::fmt::Write as _;
                let _ = write!(request, "Authorization: Bearer {t}\r\n");
            }
            request.push_str("\r\n");
            request.push_str(&body);
            let mut stream = tokio::net::TcpStream::connect(&self.addr).await.unwrap();
            stream.write_all(request.as_bytes()).await.unwrap();
            let mut response = Vec::new();
            stream.read_to_end(&mut response).await.unwrap();
            let text = String::from_utf8_lossy(&response);
            let status: u16 = text[9..12].parse().unwrap();
            let (head, body) = text.split_once("\r\n\r\n").unwrap();
            let body = if head
                .to_ascii_lowercase()
                .contains("transfer-encoding: chunked")
            {
                dechunk(body)
            } else {
                body.to_string()
            };
            (status, serde_json::from_str(&body).unwrap_or(Value::Null))
        }
    }

    fn dechunk(mut body: &str) -> String {
        let mut out = String::new();
        while let Some((size, rest)) = body.split_once("\r\n") {
            let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
            if n == 0 {
                break;
            }
            out.push_str(&rest[..n]);
            body = &rest[n + 2..];
        }
        out
    }
}

struct Case {
    storage: Storage,
    queue_url: Option<String>,
    protocol: &'static str,
    processor: &'static str,
    gzip: bool,
}

/// The two roles of one case exporting to one sink: the web's request continues into the
/// worker's job as one trace, nothing is lost, and both exit cleanly on SIGTERM.
async fn trace_continues_across_processes(case: Case) {
    let sink = Sink::start(SinkOptions {
        keep_spans: true,
        ..SinkOptions::default()
    })
    .unwrap();
    let endpoint = match case.protocol {
        "grpc" => sink.grpc_endpoint(),
        _ => sink.http_endpoint(),
    };
    let queue_name = unique("q");
    let env = role_env(&case, &endpoint, &queue_name);
    let web = Role::start("web", &env);
    let worker = Role::start("worker", &env);
    let client = until_both_serve(&web, &worker).await;
    let email = register_and_create_an_article(&client).await;

    // Wait for the worker's consumer span to arrive at the sink.
    let stats = sink.stats().clone();
    assert!(
        eventually(Duration::from_secs(20), || async {
            stats.spans().iter().any(|s| s.kind == 5)
        })
        .await,
        "no consumer span arrived; worker stderr:\n{}",
        worker.stderr()
    );
    let web_totals = web.stop().await;
    let worker_totals = worker.stop().await;

    the_job_continues_the_request_trace(&stats.spans());
    let counts = stats.counts();
    assert!(counts.traces_complete >= 1, "{counts:?}");
    assert!(counts.metric_points_received > 0, "{counts:?}");
    assert_eq!(counts.malformed_requests, 0);
    the_registration_log_is_masked(&stats.logs(), &email);
    every_span_is_delivered(&web_totals, &worker_totals, counts.spans_received);
    assert_eq!(web_totals["jobs"]["enqueued"], 1);
    assert_eq!(worker_totals["jobs"]["completed"], 1);
    assert!(
        worker_totals["jobs"]["queue_latency_us"]["p50"]
            .as_u64()
            .unwrap()
            > 0
    );

    sink.stop().await.unwrap();
    if let Some(url) = case.queue_url.as_ref().filter(|u| u.starts_with("redis:")) {
        remove_redis_queue(url, &queue_name).await;
    }
    case.storage.remove().await;
}

/// Both roles' environment: the case's storage, queue and OTLP settings, short export delays.
fn role_env(case: &Case, endpoint: &str, queue_name: &str) -> HashMap<String, String> {
    let mut env: HashMap<String, String> = [
        ("PORT", "0"),
        ("DATABASE_URL", case.storage.url().as_str()),
        ("QUEUE_NAME", queue_name),
        ("PASSWORD_HASH_MEMORY_KIB", "64"),
        ("PASSWORD_HASH_ITERATIONS", "1"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", case.protocol),
        ("OTEL_TRACES_SAMPLER", "parentbased_always_on"),
        ("OTEL_BSP_SCHEDULE_DELAY", "100"),
        ("OTEL_METRIC_EXPORT_INTERVAL", "500"),
        ("TARGET_APP_SPAN_PROCESSOR", case.processor),
        (
            "OTEL_EXPORTER_OTLP_COMPRESSION",
            if case.gzip { "gzip" } else { "none" },
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    if let Some(q) = &case.queue_url {
        env.insert("QUEUE_URL".into(), q.clone());
    }
    env
}

/// Waits for the web role to listen and for health to see the worker; returns a client of the
/// web role.
async fn until_both_serve(web: &Role, worker: &Role) -> reqwest_like::Client {
    assert!(
        eventually(Duration::from_secs(30), || async {
            web.stdout_line("target-app web listening on").is_some()
        })
        .await,
        "web never listened; stderr:\n{}",
        web.stderr()
    );
    let line = web.stdout_line("target-app web listening on").unwrap();
    let addr = line.rsplit("http://").next().unwrap().to_string();
    let client = reqwest_like::Client { addr };
    assert!(
        eventually(Duration::from_secs(30), || async {
            json_request(&client, "GET", "/api/health", None, None)
                .await
                .1["status"]
                == "healthy"
        })
        .await,
        "health never became healthy; worker stderr:\n{}",
        worker.stderr()
    );
    client
}

/// Registers a user and creates an article (which enqueues a job); returns the user's email.
async fn register_and_create_an_article(client: &reqwest_like::Client) -> String {
    let email = format!("{}@example.com", unique("dora"));
    let (status, json) = json_request(
        client,
        "POST",
        "/api/register",
        None,
        Some(serde_json::json!({"email": email, "name": "dora", "password": "correct horse"})),
    )
    .await;
    assert_eq!(status, 201, "{json}");
    let token = json["token"]["access_token"].as_str().unwrap().to_string();
    let (status, json) = json_request(
        client,
        "POST",
        "/api/articles",
        Some(&token),
        Some(serde_json::json!({"title": "Across processes", "body": "b"})),
    )
    .await;
    assert_eq!(status, 201, "{json}");
    email
}

/// The create request's trace holds the worker's consumer span, child of the web's producer
/// span, and the worker's database spans as the consumer's children.
fn the_job_continues_the_request_trace(spans: &[SpanRecord]) {
    let server: &SpanRecord = spans
        .iter()
        .find(|s| s.kind == 2 && s.name == "POST /api/articles")
        .expect("server span of the create request");
    assert_eq!(server.service, "target-app-web");
    let in_trace: Vec<&SpanRecord> = spans
        .iter()
        .filter(|s| s.trace_id == server.trace_id)
        .collect();
    let consumer = in_trace
        .iter()
        .find(|s| s.kind == 5)
        .expect("the worker's consumer span is in the request's trace");
    assert_eq!(consumer.service, "target-app-worker");
    let parent = in_trace
        .iter()
        .find(|s| s.span_id == consumer.parent_span_id)
        .expect("the consumer span's parent is in the same trace");
    assert_eq!(parent.kind, 4, "its parent is the web's producer span");
    assert_eq!(parent.service, "target-app-web");
    assert!(
        in_trace.iter().any(|s| s.service == "target-app-worker"
            && s.kind == 3
            && s.parent_span_id == consumer.span_id),
        "the worker's database spans are children of the consumer span"
    );
}

/// The registration's log record arrived with the email masked, and no log holds it unmasked.
fn the_registration_log_is_masked(logs: &[(String, String)], email: &str) {
    let masked = logs
        .iter()
        .find(|(service, text)| service == "target-app-web" && text.starts_with("registered "))
        .expect("the registration log record arrived");
    assert!(
        masked.1.starts_with("registered do***@example.com"),
        "{masked:?}"
    );
    assert!(
        !logs.iter().any(|(_, t)| t.contains(email)),
        "an unmasked email was exported"
    );
}

/// Delivery accounting: every span produced was exported and received, none dropped.
fn every_span_is_delivered(web_totals: &Value, worker_totals: &Value, spans_received: u64) {
    let web_spans = &web_totals["telemetry"]["spans"];
    let worker_spans = &worker_totals["telemetry"]["spans"];
    for totals in [web_spans, worker_spans] {
        assert_eq!(totals["dropped"], 0, "{totals}");
        assert_eq!(totals["failed"], 0, "{totals}");
        assert_eq!(totals["produced"], totals["exported"], "{totals}");
    }
    let exported =
        web_spans["exported"].as_u64().unwrap() + worker_spans["exported"].as_u64().unwrap();
    assert_eq!(
        spans_received, exported,
        "sink received what the processes exported"
    );
}

/// Deletes the Redis keys of `queue_name`.
async fn remove_redis_queue(url: &str, queue_name: &str) {
    let client = redis::Client::open(url).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let _: i64 = redis::cmd("DEL")
        .arg(format!("otelbench:queue:{queue_name}"))
        .arg(format!("otelbench:queue:{queue_name}:processing"))
        .arg(format!("otelbench:queue:{queue_name}:failed"))
        .query_async(&mut conn)
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_grpc_batch() {
    trace_continues_across_processes(Case {
        storage: Storage::sqlite(),
        queue_url: None,
        protocol: "grpc",
        processor: "batch",
        gzip: false,
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_http_gzip_batch() {
    trace_continues_across_processes(Case {
        storage: Storage::postgres().await,
        queue_url: None,
        protocol: "http/protobuf",
        processor: "batch",
        gzip: true,
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_redis_queue_grpc_simple() {
    trace_continues_across_processes(Case {
        storage: Storage::postgres().await,
        queue_url: Some(common::redis_url()),
        protocol: "grpc",
        processor: "simple",
        gzip: true,
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_http_simple() {
    trace_continues_across_processes(Case {
        storage: Storage::sqlite(),
        queue_url: None,
        protocol: "http/protobuf",
        processor: "simple",
        gzip: false,
    })
    .await;
}

#[tokio::test]
async fn an_invalid_otel_setting_stops_start_up_with_exit_code_2() {
    let output = Command::new(BIN)
        .arg("web")
        .env("OTEL_TRACES_SAMPLER", "sometimes")
        .env("DATABASE_URL", "sqlite://unused-never-created.db")
        .output()
        .await
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("OTEL_TRACES_SAMPLER=\"sometimes\""),
        "{stderr}"
    );
    assert!(stderr.contains("fix: use always_on"), "{stderr}");
}
