#!/usr/bin/env python3
"""The seed's overhead table beside otelbench's figures for several stacks.

Usage: seed_table.py LABEL=FIXED_RATE_DIR:CAPACITY_DIR ...

Each FIXED_RATE_DIR holds results.json of a fixed-rate run (off / always_off / 10% / 100%),
each CAPACITY_DIR one of a closed-loop (`model = "users"`) run of the same variants. Prints a
Markdown table: median p50, p99, throughput at saturation, RSS (web + worker) and CPU per
request, with the change against `off` and its interval as otelbench computed it.
"""

import json
import sys

SEED = {  # seed 001, "Tracing Overhead Metrics" (Flask)
    "off": ("8 ms", "25 ms", "12,000 rps", "180 MB"),
    "100%": ("9 ms (+12%)", "30 ms (+20%)", "11,000 rps (-8.3%)", "250 MB (+70 MB)"),
    "10%": ("8 ms (+<1%)", "26 ms (+4%)", "11,800 rps (-1.7%)", "195 MB (+15 MB)"),
}


def summary(path):
    results = json.load(open(f"{path}/results.json"))
    return {s["variant"]: s for s in results["summary"]}, results


def cell(summary, metric, unit, scale=1.0, decimals=0, delta_mb=False):
    m = summary["metrics"].get(metric)
    if not m:
        return "–"
    text = f"{m['median'] * scale:,.{decimals}f} {unit}"
    if m.get("ci_low") is not None and abs(m["ratio"] - 1) > 1e-9:
        level = round(m.get("ci_level", 0.95) * 100)
        if delta_mb:
            delta = (m["median"] - m["baseline_median"]) * scale
            text += f" ({delta:+,.0f} MB)"
        text += (
            f" ({(m['ratio'] - 1) * 100:+.1f}% [{(m['ci_low'] - 1) * 100:+.1f}, "
            f"{(m['ci_high'] - 1) * 100:+.1f}]{'' if level >= 95 else f' {level}%'})"
        )
    return text


def main(args):
    print("| stack | configuration | p50 | p99 | throughput at saturation | RSS (web + worker) | CPU per request | runs |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for variant in ["off", "10%", "100%"]:
        p50, p99, thr, rss = SEED[variant]
        print(f"| seed 001 (Flask, as published) | {variant} | {p50} | {p99} | {thr} | {rss} | – | – |")
    for arg in args:
        label, dirs = arg.split("=", 1)
        fixed, capacity = dirs.split(":")
        rate, _ = summary(fixed)
        cap, _ = summary(capacity)
        for variant in rate:
            s = rate[variant]
            c = cap.get(variant)
            print(
                f"| {label} | {variant} | {cell(s, 'p50', 'ms', 1e-3, 2)} | {cell(s, 'p99', 'ms', 1e-3, 1)} | "
                f"{cell(c, 'throughput', 'req/s') if c else '–'} | {cell(s, 'rss_mean', 'MB', 1, 0, True)} | "
                f"{cell(s, 'cpu_per_request', 'µs')} | {s['valid_runs']}{'' if not c else ' + ' + str(c['valid_runs'])} |"
            )


if __name__ == "__main__":
    main(sys.argv[1:])
