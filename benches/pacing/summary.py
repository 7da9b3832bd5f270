#!/usr/bin/env python3
"""Prints the pacing benchmark's table from the runs `run.sh` left in OUT.

usage: summary.py OUT
"""
import json
import pathlib
import sys

SCENARIOS = [
    ("pacing-1000", "open model, 1,000 req/s"),
    ("pacing-5000", "open model, 5,000 req/s"),
    ("goose-closed", "plain goose, closed loop, 4 users"),
]


def span(values, fmt="{:,.0f}", unit=""):
    """'a to b unit' over the runs (one value when they agree)."""
    if not values:
        return "(none)"
    lo, hi = fmt.format(min(values)), fmt.format(max(values))
    return f"{lo}{unit}" if lo == hi else f"{lo} to {hi}{unit}"


def main(out):
    out = pathlib.Path(out)
    stalls = []
    for cpu in (0, 1):
        f = out / f"stalls-cpu{cpu}.json"
        if f.exists():
            s = json.loads(f.read_text())
            stalls.append(
                f"CPU {cpu}: {s['lost_over_100us_pct']:.2f}% of the time in gaps over 100 µs "
                f"({s['gaps_over_100us']} gaps, {s['gaps_over_1ms']} over 1 ms, longest "
                f"{s['longest_us'] / 1000:.1f} ms); the lag p99 these gaps alone force: "
                f"{s['forced_lag_p99_us']:,.0f} µs"
            )
    if stalls:
        print("Machine stalls, a thread spinning alone on each CPU for 5 s, both at once:")
        for s in stalls:
            print(f"- {s}")
        print()
    print("| load | valid runs | achieved req/s | lag p50 | generator lag p99 | generator CPU / request |")
    print("|---|---|---|---|---|---|")
    for name, label in SCENARIOS:
        f = out / name / "results.json"
        if not f.exists():
            print(f"| {label} | (not run) | | | | |")
            continue
        runs = json.loads(f.read_text())["runs"]
        load = [r["load"] for r in runs]
        closed = load and load[0].get("model") == "users"
        lag50 = [l["lag_us"]["p50"] for l in load if not closed]
        lag99 = [l["generator_lag_us"]["p99"] for l in load if not closed]
        cpu = [r["cpu"]["generator_us_per_request"] for r in runs]
        valid = sum(1 for r in runs if r["valid"])
        print(
            f"| {label} | {valid} of {len(runs)} | {span([l['achieved_rps'] for l in load], '{:,.1f}')} "
            f"| {span(lag50, unit=' µs')} | {span(lag99, unit=' µs')} | {span(cpu, unit=' µs')} |"
        )
    for name, _ in SCENARIOS:
        f = out / name / "results.json"
        if f.exists():
            for r in json.loads(f.read_text())["runs"]:
                if not r["valid"]:
                    print(f"\n{name} run {r['repetition']}: {r.get('invalid_reason', '')}", end="")
    print()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
