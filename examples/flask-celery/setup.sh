#!/usr/bin/env bash
# Creates .venv next to this script and installs the pinned requirements from PyPI.
# Quick when nothing changed: a stamp holds the hash of the requirement files installed.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$here/.venv"
stamp="$venv/.requirements.sha256"
python="${PYTHON:-python3}"

want="$(cat "$here/requirements.txt" "$here/constraints.txt" | sha256sum | cut -d' ' -f1)"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  echo "setup.sh: $venv is up to date"
  exit 0
fi

[[ -x "$venv/bin/python" ]] || "$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
  --requirement "$here/requirements.txt" --constraint "$here/constraints.txt"
echo "$want" > "$stamp"
echo "setup.sh: installed the requirements into $venv"
