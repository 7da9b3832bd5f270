#!/usr/bin/env bash
# Starts one process of the example: `run.sh web` (uvicorn, one process, on 127.0.0.1:$PORT)
# or `run.sh worker` (the Celery worker, solo pool).
#
# Telemetry is zero-code: the process runs under `opentelemetry-instrument`, which reads every
# OTEL_* variable. With OTEL_SDK_DISABLED=true it runs without it: the no-telemetry baseline.
set -euo pipefail

name=fastapi-celery
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
export OTEL_PYTHON_FASTAPI_EXCLUDED_URLS="${OTEL_PYTHON_FASTAPI_EXCLUDED_URLS:-api/health}"

case "${1:-}" in
  web)
    # app/serve.py is uvicorn's command line, made to exit normally (exporters flushed) on SIGTERM.
    command=(python -m app.serve --host 127.0.0.1 --port "${PORT:-8000}" --loop uvloop --http httptools
             --no-access-log --timeout-graceful-shutdown 10 --factory app.web:create_app) ;;
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
