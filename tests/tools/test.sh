#!/usr/bin/env bash
# `make test` (what CI runs): installs what the tests need and runs every test, timing each step.
#
# Steps that do not depend on each other overlap: on this project's 2-core machines cargo keeps
# both cores busy while compiling, and the installs (pip, apt) and the Python suites spend much
# of their time waiting on I/O or on one core. Order of what depends on what:
#   venv ─┬─ emulator pytest
#         ├─ infra static checks (cfn-lint, sam validate, terraform validate, checkov)
#         └─ rustfmt → build → clippy → cargo tests (+ chromium) → infra proof (reads the IAM
#                                                                   usage the cargo tests record)
# The build compiles the SDK crates once for the bins and the tests together (`--bins --tests`:
# the tests' dev-dependency features apply to both, so `cargo test` compiles nothing again).
# Each step's output is printed when it ends; the times are printed at the end and written to
# <target>/test-times.txt.
set -uo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"

target="${CARGO_TARGET_DIR:-target}"
# A one-shot build (CI) gains nothing from incremental artifacts, which cost disk and time.
[ -n "${CI:-}" ] && export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
logs="$target/test-logs"
times="$target/test-times.txt"
mkdir -p "$logs"
: >"$times"
started=$(date +%s)
failed=()

# The debug build of the workspace and its tests takes about 8 GB; a full disk shows up as a
# compiler or linker failure far from its cause, so say up front how much room there is.
free_kb=$(df -Pk "$root" | awk 'NR==2 {print $4}')
if [ "${free_kb:-0}" -lt 12000000 ]; then
  printf 'warning: only %s GB free on %s; the build needs about 8 GB\n' "$((free_kb / 1000000))" "$root" >&2
fi

# step NAME CMD...: runs CMD, its output kept in $logs/NAME.log and printed when it ends; the
# step's time and result go to $times. Returns CMD's exit status.
step() {
  local name="$1" t0 rc=0 dt
  shift
  t0=$(date +%s)
  "$@" >"$logs/$name.log" 2>&1 || rc=$?
  dt=$(($(date +%s) - t0))
  printf '%-18s %6ds  %s\n' "$name" "$dt" "$([ "$rc" -eq 0 ] && echo ok || echo "FAILED (exit $rc)")" >>"$times"
  printf '\n===== %s (%ds, exit %d)\n%s\n' "$name" "$dt" "$rc" "$(cat "$logs/$name.log")"
  return "$rc"
}

# skipped NAME WHY: a step that could not run because one it needs failed.
skipped() {
  printf '%-18s %6s  skipped: %s\n' "$1" "-" "$2" >>"$times"
  printf '\n===== %s skipped: %s\n' "$1" "$2"
  failed+=("$1")
}

# background NAME CMD...: `step` in the background; `collect` waits for it.
declare -A jobs
background() {
  local name="$1"
  shift
  step "$name" "$@" &
  jobs[$name]=$!
}
collect() {
  wait "${jobs[$1]}" || failed+=("$1")
}

step venv tests/tools/venv.sh || failed+=(venv)
background chromium tests/tools/chromium.sh
if [ ! -x .venv/bin/python ]; then
  skipped test-emulator "no test venv"
else
  background test-emulator .venv/bin/python -m pytest tests/emulator -q -p no:cacheprovider
fi
background test-infra tests/tools/infra-check.sh

step rustfmt cargo fmt --all --check || failed+=(rustfmt)
if step build cargo build --workspace --bins --tests; then
  step clippy cargo clippy --workspace --all-targets -- -D warnings || failed+=(clippy)
  collect chromium
  if step test-rust cargo test --workspace --no-fail-fast; then
    step test-infra-proof tests/tools/infra-proof.sh || failed+=(test-infra-proof)
  else
    failed+=(test-rust)
    skipped test-infra-proof "the cargo tests failed: the IAM usage they record is incomplete"
  fi
else
  failed+=(build)
  collect chromium
  skipped clippy "the build failed"
  skipped test-rust "the build failed"
  skipped test-infra-proof "the build failed"
fi
[ -n "${jobs[test-emulator]:-}" ] && collect test-emulator
collect test-infra

total=$(($(date +%s) - started))
printf '%-18s %6ds\n' total "$total" >>"$times"
printf '\n===== make test: time per step (also in %s)\n' "$times"
cat "$times"
if [ "${#failed[@]}" -gt 0 ]; then
  # The logs are printed in full above; a CI page often shows only its last lines, so the
  # first errors of each failed step and the room left on disk and in memory come last.
  for name in "${failed[@]}"; do
    [ -f "$logs/$name.log" ] || continue
    printf '\n----- %s: first errors\n' "$name"
    grep -m 8 -E '^(error|FAILED|E  )|[Ee]rror:|No space left|Killed|signal: ' "$logs/$name.log" | cut -c1-240
  done
  printf '\n----- room left\n'
  df -h "$root" | tail -1
  free -m | sed -n 2p
  printf '\nmake test FAILED: %s\n' "${failed[*]}"
  exit 1
fi
printf '\nmake test passed\n'
