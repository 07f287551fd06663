#!/usr/bin/env bash
# Creates ./.venv-c7n with Cloud Custodian (tests/requirements-c7n.txt) for the audit bench, and
# fixes the one typo that stops its `missing-route` filter: in c7n 0.9.53
# (c7n/resources/vpc.py, MissingRoute) a routed peering whose VPC info carries `Region` raises
# `KeyError: 'k'` because the code reads `r['k']` where it means `r[k]`. Without the fix every
# peering policy with `missing-route` fails on any estate with routes, so no comparison is possible.
# Idempotent; prints what it patched.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
venv="$root/.venv-c7n"
req="$root/tests/requirements-c7n.txt"
stamp="$venv/.requirements.sha256"

py="${PYTHON:-python3}"
if [ ! -x "$venv/bin/python" ]; then
  "$py" -m venv "$venv"
fi
want="$(sha256sum "$req" "$0" | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$req"
  echo "$want" > "$stamp"
fi
"$venv/bin/python" - <<'PY'
import pathlib, c7n.resources.vpc as vpc
path = pathlib.Path(vpc.__file__)
text = path.read_text()
if "r['k']" in text:
    path.write_text(text.replace("r['k']", "r[k]"))
    print(f"c7n.sh: patched {path}: r['k'] -> r[k] (missing-route KeyError: 'k', c7n 0.9.53)")
else:
    print(f"c7n.sh: {path} already carries r[k] (missing-route typo fixed)")
PY
