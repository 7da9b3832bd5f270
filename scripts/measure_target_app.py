#!/usr/bin/env python3
"""Quick figures for the target-app, measured with wrk (until `otelbench run` replaces this).

1. GET /api/articles: requests/s and CPU µs per request of the web process, telemetry off vs
   100% sampling (OTLP gRPC to `otelbench sink`), target on CPU 1, wrk and sink on CPU 0.
2. Enqueue-to-start latency of a job per queue backend (SQLite, PostgreSQL, Redis), next to the
   job's own processing time, at a steady 50 article creations per second.

Needs release binaries (`cargo build --release -p target-app -p harness`), wrk, and PostgreSQL and
Redis on 127.0.0.1. Usage: scripts/measure_target_app.py [--seconds 15]
"""
import argparse, http.client, json, os, re, signal, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
APP = os.path.join(ROOT, "target/release/target-app")
OTELBENCH = os.path.join(ROOT, "target/release/otelbench")
TICK_US = 1_000_000 / os.sysconf("SC_CLK_TCK")


def cpu_us(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * TICK_US


def start(role, env, cpu):
    p = subprocess.Popen(["taskset", "-c", str(cpu), APP, role], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return p


def wait_port(p):
    line = p.stdout.readline()
    m = re.search(r"http://([\d.]+):(\d+)", line)
    if not m:
        raise SystemExit(f"web did not start: {line!r} {p.stderr.read()}")
    return int(m.group(2))


def request(port, method, path, body=None, token=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    c.request(method, path, json.dumps(body) if body is not None else None, headers)
    r = c.getresponse()
    data = r.read()
    return r.status, json.loads(data) if data else None


def wait_healthy(port):
    for _ in range(200):
        try:
            if request(port, "GET", "/api/health")[1]["status"] == "healthy":
                return
        except OSError:
            pass
        time.sleep(0.05)
    raise SystemExit("target-app never became healthy")


def stop(p):
    p.send_signal(signal.SIGTERM)
    _, err = p.communicate(timeout=30)
    line = next((l for l in err.splitlines() if l.startswith("OTELBENCH_TOTALS ")), None)
    return json.loads(line[len("OTELBENCH_TOTALS "):]) if line else {}


def base_env(db_url, queue_url=None):
    env = dict(os.environ, PORT="0", DATABASE_URL=db_url, PASSWORD_HASH_MEMORY_KIB="64",
               PASSWORD_HASH_ITERATIONS="1", QUEUE_NAME=f"m{os.getpid()}")
    if queue_url:
        env["QUEUE_URL"] = queue_url
    return env


def read_throughput(seconds):
    rows = []
    for name, otel in [("off", {"OTEL_SDK_DISABLED": "true"}),
                       ("100% sampling", {"OTEL_TRACES_SAMPLER": "always_on"})]:
        tmp = tempfile.mkdtemp()
        sink = subprocess.Popen(["taskset", "-c", "0", OTELBENCH, "sink", "--grpc", "127.0.0.1:14317",
                                 "--http", "127.0.0.1:14318"], stdout=subprocess.PIPE, text=True)
        sink.stdout.readline()
        env = base_env(f"sqlite://{tmp}/app.db")
        env.update(otel, OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:14317")
        web = start("web", env, 1)
        worker = start("worker", env, 1)
        port = wait_port(web)
        wait_healthy(port)
        _, reg = request(port, "POST", "/api/register",
                         {"email": "bench@example.com", "name": "b", "password": "password1"})
        for i in range(30):
            request(port, "POST", "/api/articles/", {"title": f"Article {i}", "body": "x" * 500}, reg["token"]["access_token"])
        time.sleep(1)
        before = cpu_us(web.pid)
        out = subprocess.run(["taskset", "-c", "0", "wrk", "-t1", "-c16", f"-d{seconds}s", "--latency",
                              f"http://127.0.0.1:{port}/api/articles"], capture_output=True, text=True).stdout
        used = cpu_us(web.pid) - before
        reqs = int(re.search(r"(\d+) requests in", out).group(1))
        rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
        p50 = re.search(r"50%\s+(\S+)", out).group(1)
        p99 = re.search(r"99%\s+(\S+)", out).group(1)
        stop(worker)
        totals = stop(web)
        sink.send_signal(signal.SIGINT)
        sink_out = sink.communicate(timeout=10)[0].strip().splitlines()[-1]
        spans = totals.get("telemetry", {}).get("spans", {})
        rows.append((name, rps, used / reqs, p50, p99, spans.get("exported", 0), spans.get("dropped", 0),
                     json.loads(sink_out)["spans_received"]))
    print(f"\nGET /api/articles, wrk -t1 -c16 -d{seconds}s (closed loop), web on CPU 1, wrk+sink on CPU 0")
    print("| telemetry | req/s | web CPU µs/request | p50 | p99 | spans exported | dropped | sink received |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r[0]} | {r[1]:.0f} | {r[2]:.0f} | {r[3]} | {r[4]} | {r[5]} | {r[6]} | {r[7]} |")


def queue_latency(jobs):
    rows = []
    pg = "postgres://postgres@127.0.0.1:5432/test"
    for name, db, queue in [("sqlite (inotify on WAL)", None, None), ("postgresql (LISTEN/NOTIFY)", pg, None),
                            ("redis (BLMOVE)", None, "redis://127.0.0.1:6379")]:
        tmp = tempfile.mkdtemp()
        env = base_env(db or f"sqlite://{tmp}/app.db", queue)
        env["OTEL_SDK_DISABLED"] = "true"
        web = start("web", env, 1)
        worker = start("worker", env, 1)
        port = wait_port(web)
        wait_healthy(port)
        _, reg = request(port, "POST", "/api/register",
                         {"email": f"q{time.time_ns()}@example.com", "name": "q", "password": "password1"})
        for i in range(jobs):
            t = time.monotonic()
            request(port, "POST", "/api/articles/", {"title": f"Job {i}", "body": "x"}, reg["token"]["access_token"])
            time.sleep(max(0, 0.02 - (time.monotonic() - t)))
        time.sleep(1)
        w = stop(worker)
        stop(web)
        j = w["jobs"]
        rows.append((name, j["completed"], j["queue_latency_us"], j["duration_us"]))
    print(f"\nEnqueue-to-start latency, {jobs} jobs at 50/s, web and worker on CPU 1")
    print("| queue | jobs | queue latency p50 | p90 | p99 | job duration p50 | p99 |")
    print("|---|---|---|---|---|---|---|")
    for name, n, q, d in rows:
        print(f"| {name} | {n} | {q['p50']} µs | {q['p90']} µs | {q['p99']} µs | {d['p50']} µs | {d['p99']} µs |")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=15)
    ap.add_argument("--jobs", type=int, default=300)
    a = ap.parse_args()
    read_throughput(a.seconds)
    queue_latency(a.jobs)
