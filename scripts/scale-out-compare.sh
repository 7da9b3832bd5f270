#!/usr/bin/env bash
# One generator at rate R against 3 generators at R/3 each (`run --shard I/3`, merged), against
# the same built-in target on loopback, in alternating blocks (1, 3, 1, 3, ...), each
# configuration merged with the target's samples (`otelbench sample`). The single instance runs
# as `--shard 0/1` so both go through `merge`. Prints each run's figures and, per configuration,
# the median and range over its blocks: the single instance's range is the run-to-run noise the
# sharded figures are judged against. Not a test: it takes minutes.
#
# usage: scripts/scale-out-compare.sh [BLOCKS] [RATE] [DURATION_S]   (needs a release build)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
blocks=${1:-4}
rate=${2:-300}
duration=${3:-20}
bin=$root/target/release/otelbench
app=$root/target/release/target-app
[[ -x $bin && -x $app ]] || { echo "scale-out-compare: no release build; fix: cargo build --release -p harness -p target-app" >&2; exit 2; }
work=$(mktemp -d)
echo "scale-out-compare: working in $work"
cat >"$work/scenario.toml" <<TOML
name = "scale-out-compare"
repetitions = 1
baseline = "off"
[target]
kind = "builtin"
[load]
model = "rate"
rate = $rate
users = 24
warmup_s = 3
duration_s = $duration
[[variants]]
name = "off"
env = { OTEL_SDK_DISABLED = "true" }
TOML
# The target on CPU 1 (the generators on CPU 0: the scenario's default placement).
export DATABASE_URL="sqlite://$work/target.db?mode=rwc" OTEL_SDK_DISABLED=true \
  PASSWORD_HASH_MEMORY_KIB=64 PASSWORD_HASH_ITERATIONS=1
PORT=0 taskset -c 1 "$app" web >"$work/web.log" 2>&1 &
web=$!
taskset -c 1 "$app" worker >"$work/worker.log" 2>&1 &
worker=$!
trap 'kill $web $worker 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do grep -q "listening on" "$work/web.log" && break; sleep 0.1; done
url=$(sed -n 's/.*listening on \(http[^ ]*\).*/\1/p' "$work/web.log" | head -1)
echo "scale-out-compare: target at $url"

# run_config NAME SHARDS: SHARDS instances from one start time, merged with the target's samples.
run_config() {
  local name=$1 n=$2 dir=$work/$1 start i pids=()
  mkdir -p "$dir"
  "$bin" sample --pid "web=$web" --pid "worker=$worker" --out "$dir/samples.jsonl" 2>/dev/null &
  local sampler=$!
  start=$(( $(date +%s) + 8 ))
  for i in $(seq 0 $((n - 1))); do
    "$bin" run "$work/scenario.toml" --target-url "$url" --shard "$i/$n" --start-at "$start" \
      --out "$dir/s$i" >"$dir/s$i.log" 2>&1 &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p" || true; done
  kill -INT "$sampler"; wait "$sampler" || true
  "$bin" merge "$dir"/s*/results.json --out "$dir/merged" --samples "$dir/samples.jsonl" >/dev/null 2>"$dir/merge.log" || true
}

for b in $(seq 1 "$blocks"); do
  run_config "one-$b" 1
  run_config "three-$b" 3
done

python3 - "$work" "$blocks" <<'PY'
import json, statistics, sys
work, blocks = sys.argv[1], int(sys.argv[2])
def figures(name):
    r = json.load(open(f"{work}/{name}/merged/results.json"))["runs"][0]
    l = r["latency_us"]
    return dict(valid=r["valid"], rps=r["load"]["achieved_rps"], requests=r["load"]["requests"],
                p50=l["p50"], p99=l["p99"], p999=l["p999"], cpu=r["cpu"]["target_us_per_request"],
                lag99=r["load"]["generator_lag_us"]["p99"], reason=r.get("invalid_reason") or "")
rows = {c: [figures(f"{c}-{b}") for b in range(1, blocks + 1)] for c in ("one", "three")}
print(f"{'config':8} {'block':>5} {'valid':>5} {'req/s':>7} {'p50 µs':>8} {'p99 µs':>8} {'p99.9 µs':>9} {'CPU µs/req':>10} {'gen lag p99':>11}")
for c, rs in rows.items():
    for b, f in enumerate(rs, 1):
        print(f"{c:8} {b:>5} {str(f['valid']):>5} {f['rps']:7.1f} {f['p50']:8} {f['p99']:8} {f['p999']:9} {f['cpu']:10.1f} {f['lag99']:11}")
print()
for k in ("p50", "p99", "p999", "cpu", "rps"):
    one = [f[k] for f in rows["one"]]; three = [f[k] for f in rows["three"]]
    m1, m3 = statistics.median(one), statistics.median(three)
    inside = min(one) <= m3 <= max(one)
    print(f"{k:5}: 1 instance median {m1:9.1f} (range {min(one):.1f} to {max(one):.1f}, ±{(max(one)-min(one))/2/m1*100 if m1 else 0:.1f}%); "
          f"3 instances median {m3:9.1f} ({(m3/m1-1)*100 if m1 else 0:+.1f}%): {'within' if inside else 'OUTSIDE'} the single instance's range")
for c, rs in rows.items():
    for b, f in enumerate(rs, 1):
        if f["reason"]:
            print(f"{c}-{b} invalid: {f['reason'][:200]}")
PY
