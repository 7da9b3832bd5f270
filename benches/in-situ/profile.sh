#!/usr/bin/env bash
# Where the target-app's telemetry CPU goes, measured in the running app rather than in a loop:
# for each variant, run the built-in target-app at 400 req/s under `otelbench run`, then in the
# middle of the run
#   1. count for 10 s, with uprobes, how often the app calls the tracing registry's enter, exit,
#      clone and close (polls of instrumented futures and spans per request), then
#   2. sample both processes' stacks for 20 s with `perf record --call-graph dwarf`,
# and let attribute.py charge each sample to the outermost telemetry call on its stack.
#
# Needs: root, perf (Debian: linux-perf), a release build (`cargo build --release -p harness
# -p target-app`, with the workspace's debug info), python3. Usage, from the repository root:
#   benches/in-situ/profile.sh OUT_DIR [VARIANT...]     (variants: off always_off on; default all)
# Results: OUT_DIR/summary.txt. Takes about one minute per variant.
set -euo pipefail
out=${1:?usage: benches/in-situ/profile.sh OUT_DIR [off|always_off|on ...]}
shift
variants=("$@")
[ ${#variants[@]} -gt 0 ] || variants=(off always_off on)
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=$root/target/release/target-app
otelbench=$root/target/release/otelbench
rate=400 count_s=10 profile_s=20
for tool in perf python3 readelf nm; do
  command -v $tool >/dev/null || { echo "profile.sh: $tool is missing; fix: install it (perf: apt-get install linux-perf; readelf, nm: binutils)" >&2; exit 2; }
done
[ -x "$bin" ] && [ -x "$otelbench" ] || { echo "profile.sh: no release build; fix: cargo build --release -p harness -p target-app" >&2; exit 2; }
tracefs=/sys/kernel/tracing
[ -e $tracefs/uprobe_events ] || mount -t tracefs nodev $tracefs
mkdir -p "$out"

# uprobes on the registry's enter, exit, clone_span and try_close (file offsets of their symbols)
text=$(readelf -lW "$bin" | awk '$1=="LOAD" && / E / && !t {t = $2 " " $3} END {print t}')
read -r text_off text_vaddr <<<"$text"
probe() { # NAME MANGLED-SUFFIX
  local addr
  addr=$(nm "$bin" | awk -v s="$2" 'index($3, s) && !a {a = $1} END {print a}')
  [ -n "$addr" ] || { echo "profile.sh: symbol $2 not found in $bin" >&2; exit 1; }
  printf 'p:otelbench/%s %s:0x%x\n' "$1" "$bin" $((0x$addr - text_vaddr + text_off)) >> $tracefs/uprobe_events
}
run=
cleanup() {
  # otelbench stops its target processes on SIGTERM: nothing is left behind on an early exit.
  if [ -n "$run" ]; then kill "$run" 2>/dev/null && wait "$run" 2>/dev/null || true; fi
  for p in enter exit clone close; do echo "-:otelbench/$p" >> $tracefs/uprobe_events 2>/dev/null || true; done
}
trap cleanup EXIT
cleanup
reg='Registry$u20$as$u20$tracing_core..subscriber..Subscriber$GT$'
probe enter "${reg}5enter17"
probe exit "${reg}4exit17"
probe clone "${reg}10clone_span17"
probe close "${reg}9try_close17"

for v in "${variants[@]}"; do
  case $v in
    off) env='OTEL_SDK_DISABLED = "true"' ;;
    always_off) env='OTEL_TRACES_SAMPLER = "always_off"' ;;
    on) env='OTEL_TRACES_SAMPLER = "parentbased_always_on"' ;;
    *) echo "profile.sh: unknown variant $v; fix: off, always_off or on" >&2; exit 2 ;;
  esac
  cat > "$out/$v.toml" <<TOML
name = "in-situ-$v"
repetitions = 1
baseline = "$v"
[load]
model = "rate"
rate = $rate
users = 16
warmup_s = 3
duration_s = $((count_s + profile_s + 12))
[[variants]]
name = "$v"
env = { $env }
TOML
  "$otelbench" run "$out/$v.toml" --out "$out/run-$v" > "$out/run-$v.log" 2>&1 &
  run=$!
  sleep 12
  web=$(pgrep -f "$bin web" | head -1); worker=$(pgrep -f "$bin worker" | head -1)
  # One after the other: a uprobe costs microseconds per hit, which the profile must not see.
  perf stat -x, -e 'otelbench:*' -p "$web,$worker" -o "$out/counts-$v.csv" -- sleep $count_s
  perf record -q -F 499 --call-graph dwarf,8192 -p "$web,$worker" -o "$out/perf-$v.data" -- sleep $profile_s > /dev/null 2>&1
  perf script -i "$out/perf-$v.data" -F comm,tid,ip,sym > "$out/stacks-$v.txt" 2>/dev/null
  wait "$run" || true
  run=
done
python3 "$here/attribute.py" "$out" $((rate * count_s)) $((rate * profile_s)) 499 "${variants[@]}" | tee "$out/summary.txt"
