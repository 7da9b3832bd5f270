#!/usr/bin/env bash
# Collects the shards of a scale-out run (deploy/kubernetes/job.yaml) from their pod logs and
# merges them.
#
#   gather.sh [-n NAMESPACE] [--timeout 30m] [--sampler-pod POD] [JOB [OUT]]
#       JOB defaults to otelbench, OUT to JOB-results. Waits for the Job to finish (and
#       gathers what there is when it failed), writes OUT/shard-<i>.json for every completion
#       index i, with --sampler-pod also OUT/samples.jsonl (the sampler sidecar's log), then
#       prints `otelbench merge ...` and runs it when otelbench is on PATH (or $OTELBENCH_BIN).
#       Exit: merge's exit code when it ran; else 0 when every shard was gathered, 1 if not.
#   gather.sh --extract < POD.log > results.json
#       Decodes the results block of one saved log (the last complete one): the lines between
#       OTELBENCH-RESULTS-BEGIN and OTELBENCH-RESULTS-END, gzip + base64. Exit 1 if none.
set -euo pipefail

BEGIN_MARKER=OTELBENCH-RESULTS-BEGIN
END_MARKER=OTELBENCH-RESULTS-END

usage() {
  sed -n '2,13s/^# \{0,1\}//p' "$0" >&2
  exit "${1:-2}"
}

# stdin: a pod log; stdout: the results.json of its last complete block.
extract() {
  local b64
  b64=$(awk -v begin="$BEGIN_MARKER" -v end="$END_MARKER" '
    { sub(/\r$/, "") }
    $0 == begin { inside = 1; block = ""; next }
    $0 == end { if (inside) { last = block; found = 1 } inside = 0; next }
    inside { block = block $0 "\n" }
    END { if (!found) exit 1; printf "%s", last }
  ') || {
    echo "gather.sh: no complete $BEGIN_MARKER ... $END_MARKER block in the log" >&2
    return 1
  }
  if [ -z "$b64" ]; then
    echo "gather.sh: the results block is empty" >&2
    return 1
  fi
  printf '%s\n' "$b64" | base64 -d | gunzip -c
}

if [ "${1:-}" = --extract ]; then
  [ $# -eq 1 ] || usage
  extract
  exit
fi

namespace=()
timeout=30m
sampler_pod=""
positional=()
while [ $# -gt 0 ]; do
  case "$1" in
    -n | --namespace) [ $# -ge 2 ] || usage; namespace=(-n "$2"); shift 2 ;;
    --timeout) [ $# -ge 2 ] || usage; timeout=$2; shift 2 ;;
    --sampler-pod) [ $# -ge 2 ] || usage; sampler_pod=$2; shift 2 ;;
    -h | --help) usage 0 ;;
    -*) echo "gather.sh: unknown option $1" >&2; usage ;;
    *) positional+=("$1"); shift ;;
  esac
done
[ ${#positional[@]} -le 2 ] || usage
job=${positional[0]:-otelbench}
out=${positional[1]:-$job-results}
otelbench=${OTELBENCH_BIN:-otelbench}

k() { kubectl ${namespace[@]+"${namespace[@]}"} "$@"; }

n=$(k get job "$job" -o jsonpath='{.spec.completions}')
case "$n" in
  '' | *[!0-9]*) echo "gather.sh: job/$job has no .spec.completions ($n)" >&2; exit 2 ;;
esac
mkdir -p "$out"

# Wait for Complete, noticing Failed too (one `kubectl wait` cannot wait for either).
echo "waiting for job/$job (at most $timeout) ..." >&2
case "$timeout" in
  *h) limit=$(( ${timeout%h} * 3600 )) ;;
  *m) limit=$(( ${timeout%m} * 60 )) ;;
  *s) limit=${timeout%s} ;;
  *[!0-9]* | '') echo "gather.sh: --timeout $timeout: give Ns, Nm or Nh" >&2; exit 2 ;;
  *) limit=$timeout ;;
esac
deadline=$(( $(date +%s) + limit ))
status=""
while [ -z "$status" ]; do
  if k wait --for=condition=complete --timeout=10s "job/$job" >/dev/null 2>&1; then
    status=complete
  elif k wait --for=condition=failed --timeout=1s "job/$job" >/dev/null 2>&1; then
    status=failed
  elif [ "$(date +%s)" -ge "$deadline" ]; then
    status="still running after $timeout"
  else
    sleep 2
  fi
done
if [ "$status" = complete ]; then
  echo "job/$job complete" >&2
else
  echo "gather.sh: job/$job $status; gathering what there is" >&2
fi

missing=0
shards=()
for ((i = 0; i < n; i++)); do
  pods=$(k get pods -l "job-name=$job,batch.kubernetes.io/job-completion-index=$i" \
    --sort-by=.metadata.creationTimestamp -o jsonpath='{.items[*].metadata.name}')
  if [ -z "$pods" ]; then
    echo "shard $i: no pod (deleted, or never scheduled)" >&2
    missing=$((missing + 1))
    continue
  fi
  pod=${pods##* }   # the newest
  code=$(k get pod "$pod" -o jsonpath='{.status.containerStatuses[0].state.terminated.exitCode}')
  file="$out/shard-$i.json"
  if k logs "$pod" -c otelbench | extract > "$file.tmp"; then
    mv "$file.tmp" "$file"
    echo "shard $i: $pod, exit ${code:-?}: $file" >&2
    shards+=("$file")
  else
    rm -f "$file.tmp"
    echo "shard $i: $pod, exit ${code:-?}: no results in its log" >&2
    missing=$((missing + 1))
  fi
done

merge=("$otelbench" merge)
if [ ${#shards[@]} -gt 0 ]; then merge+=("${shards[@]}"); fi
merge+=(--out "$out/merged")
if [ -n "$sampler_pod" ]; then
  # The sidecar's log is its stdout (JSON lines) and its stderr (messages): the JSON lines
  # go to samples.jsonl, anything else to samples.messages.
  if log=$(k logs "$sampler_pod" -c otelbench-sample); then
    printf '%s\n' "$log" | grep '^{' > "$out/samples.jsonl" || true
    printf '%s\n' "$log" | grep -v -e '^{' -e '^$' > "$out/samples.messages" \
      || rm -f "$out/samples.messages"
    echo "samples: $(wc -l < "$out/samples.jsonl" | tr -d ' ') lines from $sampler_pod:" \
      "$out/samples.jsonl" >&2
    merge+=(--samples "$out/samples.jsonl")
  else
    echo "gather.sh: no log of container otelbench-sample in pod $sampler_pod; merging without samples" >&2
  fi
fi

if [ ${#shards[@]} -eq 0 ]; then
  echo "gather.sh: no shard's results gathered; nothing to merge" >&2
  exit 1
fi
[ "$missing" -eq 0 ] || echo "gather.sh: $missing of $n shards missing (merge refuses an incomplete set)" >&2
printf '%q' "${merge[0]}"
printf ' %q' "${merge[@]:1}"
echo
if command -v "$otelbench" >/dev/null 2>&1; then
  rc=0
  "${merge[@]}" || rc=$?
  exit "$rc"
fi
echo "($otelbench is not on PATH: run the command above where it is)" >&2
[ "$missing" -eq 0 ]
