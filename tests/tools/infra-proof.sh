#!/usr/bin/env bash
# The behavioural proof of the infrastructure (tests/infra), run by `make test` AFTER the cargo
# tests (it reads the IAM usage they record):
#   test_parity.py          SAM and Terraform deploy the same thing (IAM, environment, triggers,
#                           schedules, settings, tables, bucket, alarms) for several input sets;
#   test_least_privilege.py each function's role (both flavours) grants exactly what the end-to-end
#                           tests saw it call, plus a commented list of what they cannot reach;
#   test_org_audit_statemachine.py  the production org-audit definition run in the emulator against
#                           a stand-in auditor (no Rust): tolerance, retries, concurrency, payloads,
#                           separate runs, and the state machine role's least privilege;
#   test_terraform_apply.py examples/complete applied to the local emulator, read back, destroyed;
#   test_examples.py        examples/peering-two-vpcs and privatelink-provider-consumer applied,
#                           converged by the real function binaries, no drift, destroyed.
# Needs terraform on the PATH (those tests skip, with a message, without it) and uses the offline
# provider mirror when the machine has one (as tests/tools/infra-check.sh does). No AWS account:
# everything runs against the emulator on 127.0.0.1. Extra arguments go to pytest.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"

tests/tools/venv.sh # the test venv, with python-hcl2 (tests/requirements.txt)

# test_examples.py runs the functions through this small harness binary; build it if the
# workspace build did not (cheap once the test crate's dependencies are built).
bin_dir="${VPCWARDEN_BIN_DIR:-${CARGO_TARGET_DIR:-target}/debug}"
if [ ! -x "$bin_dir/invoke-function" ] && command -v cargo >/dev/null; then
  cargo build -q -p vpcwarden-tests --bin invoke-function
fi

# Usage evidence older than a week is from builds long gone (newer stale records are ignored).
usage_dir="${CARGO_TARGET_DIR:-target}/iam-usage"
[ -d "$usage_dir" ] && find "$usage_dir" -name '*.jsonl' -mtime +7 -delete

# Here the least-privilege proof fails, rather than skips, for a function with no recorded usage.
export VPCWARDEN_REQUIRE_USAGE=1
exec .venv/bin/python -m pytest tests/infra -q -rs -p no:cacheprovider "$@"
