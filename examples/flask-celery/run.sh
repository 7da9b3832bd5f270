#!/usr/bin/env bash
# Starts one process of the example: `run.sh web` (gunicorn, 1 worker process x 8 threads on
# 127.0.0.1:$PORT) or `run.sh worker` (the Celery worker, solo pool).
#
# Telemetry is zero-code: the process runs under `opentelemetry-instrument`, which reads every
# OTEL_* variable. With OTEL_SDK_DISABLED=true it runs without it: the no-telemetry baseline.
set -euo pipefail

name=flask-celery
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$here/.venv"
if [[ ! -x "$venv/bin/opentelemetry-instrument" ]]; then
  echo "run.sh: $venv is missing or incomplete: run examples/$name/setup.sh first" >&2
  exit 1
fi
cd "$here"
export PATH="$venv/bin:$PATH"
# The shared service (../seedapp) and this example's web layer (app/).
export PYTHONPATH="$here/..:$here${PYTHONPATH:+:$PYTHONPATH}"
export SEEDAPP_EXAMPLE="$name" SEEDAPP_DIR="$here"

# Defaults only: whatever the caller set wins.
export OTEL_SERVICE_NAME="${OTEL_SERVICE_NAME:-$name-example}"
export OTEL_TRACES_EXPORTER="${OTEL_TRACES_EXPORTER:-otlp}"
export OTEL_METRICS_EXPORTER="${OTEL_METRICS_EXPORTER:-otlp}"
export OTEL_LOGS_EXPORTER="${OTEL_LOGS_EXPORTER:-otlp}"
export OTEL_PYTHON_FLASK_EXCLUDED_URLS="${OTEL_PYTHON_FLASK_EXCLUDED_URLS:-api/health}"

case "${1:-}" in
  web)
    command=(gunicorn --bind "127.0.0.1:${PORT:-8000}" --workers 1 --threads 8
             --graceful-timeout 10 --no-control-socket "app.web:create_app()") ;;
  worker)
    # solo pool: tasks run in the instrumented process itself (no fork after instrumentation).
    # The node name <queue>@<host> is what seedapp/health.py pings.
    command=(celery --app seedapp.tasks worker --pool solo --purge --hostname "$name@%h"
             --without-gossip --without-mingle --without-heartbeat --loglevel WARNING) ;;
  *)
    echo "usage: $0 web|worker" >&2
    exit 2 ;;
esac

if [[ "${OTEL_SDK_DISABLED:-false}" == [Tt][Rr][Uu][Ee] ]]; then
  exec "${command[@]}"
fi
exec opentelemetry-instrument "${command[@]}"
