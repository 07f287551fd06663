#!/usr/bin/env bash
# Creates or refreshes the project venv (.venv) from tests/requirements.txt.
# Idempotent: reinstalls only when the requirements file changed since the last run.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
venv="$root/.venv"
req="$root/tests/requirements.txt"
stamp="$venv/.requirements.sha256"

py="${PYTHON:-python3}"
if ! "$py" -c 'import venv, ensurepip' >/dev/null 2>&1; then
  # Debian splits venv/ensurepip out of the interpreter package.
  if command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
  fi
fi
if [ ! -x "$venv/bin/python" ]; then
  "$py" -m venv "$venv"
fi
want="$(sha256sum "$req" | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  "$venv/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip
  "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$req"
  echo "$want" > "$stamp"
fi
