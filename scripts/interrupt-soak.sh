#!/usr/bin/env bash
# Interrupts `otelbench run` at random moments, N times (default 20), and checks after each:
# the harness exited, no process it started is left (target-app, sh, python, rotel-agent), and
# results.json is valid JSON with the schema's fields. Not a test: it takes minutes and its
# moments are random. Prints one line per trial and a summary; exits 1 on any failure.
#
# usage: scripts/interrupt-soak.sh [N] [SCENARIO]   (needs a release build)
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-20}
scenario=${2:-$root/scenarios/smoke.toml}
bin=$root/target/release/otelbench
[[ -x $bin ]] || { echo "interrupt-soak: no release build; fix: cargo build --release --workspace" >&2; exit 2; }
work=$(mktemp -d)
leftovers() { pgrep -f "$root/target/release/target-app|rotel-agent|otelbench run" | grep -vx "$$" || true; }
before=$(leftovers | wc -l)
failed=0
for i in $(seq 1 "$n"); do
    out=$work/run$i
    "$bin" run "$scenario" --out "$out" >"$work/log$i" 2>&1 &
    pid=$!
    # A random moment from start-up to the last run (smoke: about 20 s in all, the machine check included).
    delay=$(python3 -c "import random; print(round(random.uniform(0.2, 20.0), 2))")
    sleep "$delay"
    signal=$([ $((RANDOM % 2)) = 0 ] && echo INT || echo TERM)
    kill -s "$signal" "$pid" 2>/dev/null
    wait "$pid"; rc=$?
    sleep 1
    left=$(leftovers | wc -l)
    valid=$(python3 - "$out/results.json" <<'PY'
import json, sys
try:
    d = json.load(open(sys.argv[1]))
    ok = d["schema_version"] == 1 and isinstance(d["runs"], list) and "environment" in d
    print(f"valid ({len(d['runs'])} runs, interrupted={d['interrupted']})" if ok else "INVALID fields")
except Exception as e:
    print(f"INVALID: {e}")
PY
)
    status=ok
    if [[ $left -gt $before || $valid == INVALID* ]]; then status=FAIL; failed=$((failed + 1)); fi
    echo "trial $i: SIG$signal after ${delay}s, exit $rc, $((left - before)) processes left, results.json $valid: $status"
done
echo "interrupt-soak: $((n - failed)) of $n trials clean (work files in $work)"
[[ $failed = 0 ]]
