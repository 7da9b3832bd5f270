#!/usr/bin/env bash
# The pacing benchmark (not a test): does the open model keep its schedule at 1,000 and
# 5,000 req/s against the target-app's cheapest route, and what does the generator pay per
# request, next to plain goose in a closed loop measured the same way? First measures how often
# the machine itself takes a CPU away (stalls.rs), since no generator keeps a lag p99 below that.
#
# usage: benches/pacing/run.sh [OUT]   (default target/pacing; needs a release build)
# About 4 minutes. Prints a markdown table; the runs' results.json stay under OUT.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-$root/target/pacing}
bin=$root/target/release/otelbench
if [[ ! -x $bin || ! -x $root/target/release/target-app ]]; then
    echo "pacing: no release build; fix: cargo build --release -p harness -p target-app" >&2
    exit 2
fi
mkdir -p "$out"
rustc -O --edition 2024 -o "$out/stalls" "$root/benches/pacing/stalls.rs"
# Both CPUs busy at once, as in a run (generator on CPU 0, target on CPU 1 by default).
taskset -c 0 "$out/stalls" 5 >"$out/stalls-cpu0.json" &
taskset -c 1 "$out/stalls" 5 >"$out/stalls-cpu1.json"
wait
for scenario in pacing-1000 pacing-5000 goose-closed; do
    "$bin" run "$root/benches/pacing/$scenario.toml" --out "$out/$scenario" >"$out/$scenario.log" 2>&1 ||
        echo "pacing: $scenario exited $? (see $out/$scenario.log)" >&2
done
python3 "$root/benches/pacing/summary.py" "$out"
