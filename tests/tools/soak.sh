#!/usr/bin/env bash
# `make soak`: the longer reliability tier, whose figures RELIABILITY.md shows.
#   - every faulted scenario (tests/tests/reliability.rs) for ROUNDS rounds, each with its own
#     fault seed, compared with the fault-free run;
#   - the crash tests (tests/tests/crash.rs) CRASH_ROUNDS times;
#   - replay and 16-way races, the log scan, the session checks;
#   - the property and robustness tests of the core with CASES cases per property.
# Then prints the summed figures (from <target>/reliability/figures.jsonl) as a Markdown table.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
rounds="${ROUNDS:-10}"
crash_rounds="${CRASH_ROUNDS:-3}"
cases="${CASES:-10000}"
target="${CARGO_TARGET_DIR:-target}"
figures="$target/reliability/figures.jsonl"

tests/tools/venv.sh
cargo build -q --workspace --bins
rm -f "$figures"
started=$(date +%s)

echo "== properties and robustness: $cases cases per property"
PROPTEST_CASES="$cases" cargo test -q -p vpcwarden --lib -- properties_tests robustness_tests 2>&1 | tee "$target/reliability/proptest.log" | tail -3
echo "== faulted scenarios: $rounds rounds; replay and races; logs; sessions"
VPCWARDEN_SOAK_ROUNDS="$rounds" cargo test -q -p vpcwarden-tests --test reliability -- --test-threads=2
for i in $(seq "$crash_rounds"); do
  echo "== crash in the middle: round $i of $crash_rounds"
  cargo test -q -p vpcwarden-tests --test crash
done

.venv/bin/python - "$figures" "$target/reliability/proptest.log" "$cases" "$started" <<'PY'
import json, re, sys, time
from collections import defaultdict

path, proptest_log, cases, started = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
rows = [json.loads(l) for l in open(path) if l.strip()]
MAXIMA = {"concurrent", "replays_per_event_type"}  # per run, not summed
by = defaultdict(lambda: defaultdict(int))
for r in rows:
    s = by[r["scenario"]]
    s["runs"] += 1
    for k, v in r.items():
        if isinstance(v, (int, float)) and not isinstance(v, bool) and k != "seed":
            s[k] = max(s[k], v) if k in MAXIMA else s[k] + v
cols = ["runs", "invocations", "faults_injected", "delayed", "error_answers", "kills", "concurrent",
        "replays_per_event_type", "state_differences"]
print("| scenario | " + " | ".join(c.replace("_", " ") for c in cols) + " |")
print("|---|" + "---|" * len(cols))
total = defaultdict(int)
for name in sorted(by):
    s = by[name]
    print(f"| {name} | " + " | ".join(str(s.get(c, 0)) for c in cols) + " |")
    for c in cols:
        total[c] = max(total[c], s.get(c, 0)) if c in MAXIMA else total[c] + s.get(c, 0)
print("| **total** | " + " | ".join(f"**{total[c]}**" for c in cols) + " |")
log = open(proptest_log).read()
passed = sum(int(n) for n in re.findall(r"(\d+) passed", log))
print(f"\nproperty and robustness tests passed: {passed}, each proptest property with {cases} cases")
print(f"wall time: {int(time.time()) - started} s")
if total["state_differences"]:
    sys.exit("state differences found")
PY
