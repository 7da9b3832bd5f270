#!/usr/bin/env python3
"""Charges each stack sample of profile.sh to the outermost telemetry call on it, per request.

usage: attribute.py OUT_DIR COUNT_REQUESTS PROFILE_REQUESTS HZ VARIANT...

A sample's stack is read from the root down; the first frame that belongs to the telemetry
libraries (tracing-core, tracing-subscriber, tracing-opentelemetry, opentelemetry*, sharded-slab,
`tracing::span`, the app's propagation, metrics and masking) decides its category, so the work a
telemetry call does inside the allocator, the clock or the kernel is charged to that call. Frames
of futures (`poll`, async blocks) are containers, not calls, and are skipped. Samples of the
SDK's own threads (batch span and log processors) and of the gRPC exporter's connection (tonic,
h2) are export work whatever their stack.
"""

import json
import re
import sys
from collections import Counter
from pathlib import Path

TELEMETRY = re.compile(
    r"^<?(tracing_core|tracing_subscriber|tracing_opentelemetry|opentelemetry|sharded_slab"
    r"|tracing::span|tracing::dispatcher|target_app::telemetry::(propagation|metrics|mask))"
)
# Inlined frames are printed by their bare function name.
BARE = re.compile(
    r"^(enter|exit|do_enter|do_exit|new_span|try_close|event|record|clone_span|get_default"
    r"|with_subscriber|span_data)\b"
)
CATEGORIES = [
    ("export (OTLP, batch processors)", re.compile(r"otlp|batch_span|batch_log|BatchSpan|BatchLog|export")),
    ("context propagation", re.compile(r"propagat|inject|extract")),
    ("metrics", re.compile(r"metrics|observe|Histogram|Counter")),
    ("span enter (each poll)", re.compile(r"(^|::)(do_)?enter\b|^enter")),
    ("span exit and close (guard and span drops)", re.compile(r"drop_in_place|(^|::)(do_)?exit\b|try_close")),
    ("span creation", re.compile(r"Span::new|new_span|child_of|new_root")),
    ("span fields (record)", re.compile(r"(^|::)record")),
    ("events and log records", re.compile(r"event|Event|appender|logs")),
]
OTHER = "other telemetry"
NONE = "(no telemetry call on the stack)"


def samples(path):
    """Yields (comm, frames leaf-first) from `perf script -F comm,tid,ip,sym` output."""
    comm, frames = None, []
    with open(path, errors="replace") as f:
        for line in f:
            if not line.strip():
                if comm is not None:
                    yield comm, frames
                comm, frames = None, []
            elif not line[0].isspace():
                comm, frames = line.split()[0], []
            else:
                parts = line.strip().split(None, 1)
                frames.append(parts[1] if len(parts) > 1 else "?")
    if comm is not None:
        yield comm, frames


def telemetry_call(frames):
    """The outermost telemetry frame of a stack (frames are leaf-first), or None."""
    for frame in reversed(frames):
        if "async_fn_env" in frame or "::poll" in frame or "async_block" in frame:
            continue
        if TELEMETRY.search(frame) or BARE.match(frame):
            return frame
    return None


def category(comm, frames):
    # The SDK's batch threads, and the gRPC exporter's connection tasks on the app's runtime
    # (tonic and h2 serve nothing else in the target-app, whose HTTP is HTTP/1.1).
    if comm.startswith("OpenTelemetry") or any(f.startswith(("tonic::", "<tonic::", "h2::", "<h2::")) for f in frames):
        return CATEGORIES[0][0]
    call = telemetry_call(frames)
    if call is None:
        return NONE
    for name, pattern in CATEGORIES:
        if pattern.search(call):
            return name
    return OTHER


def counts(path):
    """Registry calls counted by `perf stat -x,` on the uprobes."""
    out = {}
    for line in Path(path).read_text().splitlines():
        fields = line.split(",")
        if len(fields) > 2 and fields[2].startswith("otelbench:"):
            out[fields[2].split(":")[1]] = float(fields[0]) if fields[0][0].isdigit() else 0.0
    return out


def main():
    out_dir, count_requests, profile_requests, hz = (
        Path(sys.argv[1]),
        int(sys.argv[2]),
        int(sys.argv[3]),
        float(sys.argv[4]),
    )
    variants = sys.argv[5:]
    us_per_sample = 1e6 / hz / profile_requests
    table = {}
    for v in variants:
        c = Counter(category(comm, frames) for comm, frames in samples(out_dir / f"stacks-{v}.txt"))
        run = json.loads((out_dir / f"run-{v}" / "results.json").read_text())["runs"][0]
        calls = counts(out_dir / f"counts-{v}.csv")
        table[v] = {
            "cpu": run["cpu"]["target_us_per_request"],
            "calls": {k: n / count_requests for k, n in calls.items()},
            "us": {k: n * us_per_sample for k, n in c.items()},
        }
    first = variants[0]
    print(f"Per request ({profile_requests} requests profiled, {count_requests} counted per variant)")
    print()
    print("| | " + " | ".join(variants) + " |")
    print("|---|" + "---:|" * len(variants))
    print("| target CPU (otelbench), µs | " + " | ".join(f"{table[v]['cpu']:.0f}" for v in variants) + " |")
    for k in ["enter", "exit", "clone", "close"]:
        print(f"| registry {k} calls | " + " | ".join(f"{table[v]['calls'].get(k, 0):.1f}" for v in variants) + " |")
    names = [n for n, _ in CATEGORIES] + [OTHER, NONE]
    for n in names:
        print(f"| {n}, µs | " + " | ".join(f"{table[v]['us'].get(n, 0):.1f}" for v in variants) + " |")
    total = {v: sum(table[v]["us"].values()) for v in variants}
    tele = {v: total[v] - table[v]["us"].get(NONE, 0) for v in variants}
    print("| all telemetry calls, µs | " + " | ".join(f"{tele[v]:.1f}" for v in variants) + " |")
    print("| everything sampled, µs | " + " | ".join(f"{total[v]:.1f}" for v in variants) + " |")
    print()
    for v in variants[1:]:
        print(
            f"{v} - {first}: target CPU {table[v]['cpu'] - table[first]['cpu']:+.0f} µs (otelbench), "
            f"sampled {total[v] - total[first]:+.1f} µs, in telemetry calls {tele[v] - tele[first]:+.1f} µs"
        )


if __name__ == "__main__":
    main()
