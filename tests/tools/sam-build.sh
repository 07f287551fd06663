#!/usr/bin/env bash
# `sam build` from the repository root, as users run it before `sam deploy --guided`:
# samconfig.toml points it at infra/sam/template.yaml and enables the rust-cargolambda build method
# (a SAM CLI beta feature); cargo-lambda compiles each function as a release build for the
# template's Architecture (arm64 by default) with Zig as the cross-linker, and SAM writes
# .aws-sam/build/<Function>/bootstrap and .aws-sam/build/template.yaml.
#
#   tests/tools/sam-build.sh              # arm64 (the template's default)
#   ARCH=x86_64 tests/tools/sam-build.sh  # Architecture=x86_64
#
# Slow (three release builds with LTO: tens of minutes on 2 cores), so it is not part of
# `make test`. Installs SAM CLI, cargo-lambda and Zig into ./.venv-sam (tests/requirements-sam.txt)
# and, through rustup, the Rust standard library of the target (aarch64-unknown-linux-gnu for arm64)
# when it is missing. Checks at the end that every bootstrap is an ELF binary for that architecture.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"

arch="${ARCH:-arm64}"
case "$arch" in
  arm64) triple=aarch64-unknown-linux-gnu; machine=AArch64 ;;
  x86_64) triple=x86_64-unknown-linux-gnu; machine=X86-64 ;;
  *) echo "ARCH must be arm64 or x86_64, not $arch" >&2; exit 2 ;;
esac

# ./.venv-sam, built like tests/tools/infra-check.sh builds it.
venv="$root/.venv-sam"
req=tests/requirements-sam.txt
stamp="$venv/.requirements.sha256"
[ -x "$venv/bin/python" ] || "${PYTHON:-python3}" -m venv "$venv"
[ -f "$venv/.gitignore" ] || echo '*' >"$venv/.gitignore"
want="$(sha256sum "$req" | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  "$venv/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip
  "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$req"
  echo "$want" >"$stamp"
fi
# cargo-lambda finds Zig through `python3 -m ziglang` of this venv.
export PATH="$venv/bin:$PATH"
export SAM_CLI_TELEMETRY=0
export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-${AWS_REGION:-us-east-1}}"

if command -v rustup >/dev/null && ! rustup target list --installed | grep -qx "$triple"; then
  echo "installing the Rust standard library for $triple (rustup target add)"
  rustup target add "$triple"
fi

echo "sam $(sam --version | awk '{print $NF}'), $(cargo lambda --version), zig $(python3 -m ziglang version), target $triple"
started=$(date +%s)
sam build --parameter-overrides "Architecture=$arch" "$@"
echo "sam build took $(($(date +%s) - started)) s"

status=0
for fn in PeeringAcceptorFunction EndpointApproverFunction DriftAuditorFunction; do
  bin=".aws-sam/build/$fn/bootstrap"
  if [ ! -x "$bin" ]; then
    echo "missing $bin" >&2
    status=1
    continue
  fi
  got="$(readelf -h "$bin" | awk -F: '/Machine:/ {gsub(/^ +/, "", $2); print $2}')"
  size="$(du -h "$bin" | cut -f1)"
  if [[ "$got" == *"$machine"* ]]; then
    echo "ok: $bin ($got, $size)"
  else
    echo "wrong architecture for $bin: $got (want $machine)" >&2
    status=1
  fi
done
[ -f .aws-sam/build/template.yaml ] || { echo "missing .aws-sam/build/template.yaml" >&2; status=1; }
exit "$status"
