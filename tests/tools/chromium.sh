#!/usr/bin/env bash
# Installs Debian's Chromium (headless rendering of the drift-auditor HTML report in the
# integration tests). Idempotent: does nothing when /usr/bin/chromium is already there.
set -euo pipefail
if command -v chromium >/dev/null; then
  exit 0
fi
if ! command -v apt-get >/dev/null; then
  echo "chromium.sh: chromium is missing and apt-get is not available; install Chromium by hand" >&2
  exit 1
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
chromium --version
