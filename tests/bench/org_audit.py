"""Benchmark of the org audit (`make bench`): the release drift-auditor over an organisation in the
emulator, once as a single invocation and twice through the production state machine
(MaxConcurrency 10 and 40), at several sizes. Writes the figures as JSON for
`bench-org-audit`, which renders the BENCHMARKS.md section and the plot.

Measured per size: wall time of each mode; the function's AWS calls by action (the emulator's
usage counters for its process), per scope; peak RSS (VmHWM) of the largest execution
environment during the state machine run and of a fresh environment running only the aggregate
step; the largest payload between states (the plan's answer, a Map item's input and output, the
aggregate's answer = the execution's output).

    .venv/bin/python tests/bench/org_audit.py --accounts 20,100,200 --out target/bench/org-audit.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
import urllib.request
from collections import Counter
from typing import Any

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "infra"))
import infra_support as support  # noqa: E402
import test_org_audit_e2e as e2e  # noqa: E402


def usage(emu: support.EmulatorProcess) -> Counter[str]:
    """Every call the emulator has answered so far, by `service:action`, the function's own and
    those made through the roles it assumed; the Step Functions engine's apart (`engine `)."""
    with urllib.request.urlopen(emu.url + "/vpcwarden-api/usage", timeout=30) as resp:
        rows = json.loads(resp.read())
    counts: Counter[str] = Counter()
    for r in rows:
        engine = "engine " if r["source_key"] == "stepfunctions" else ""
        counts[f"{engine}{r['service']}:{r['action']}"] += r["count"]
    return counts


class RssSampler(threading.Thread):
    """The largest VmHWM (peak resident set) among the execution environments (processes) of a
    function while it runs, sampled every 50 ms (VmHWM only grows, so a sample misses nothing
    but the last 50 ms of a process)."""

    def __init__(self, function: str) -> None:
        super().__init__(daemon=True)
        self.marker = f"AWS_LAMBDA_FUNCTION_NAME={function}".encode()
        self.peak_kb = 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            self.sample()
            time.sleep(0.05)

    def sample(self) -> None:
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                with open(f"/proc/{pid}/environ", "rb") as f:
                    if self.marker not in f.read().split(b"\0"):
                        continue
                with open(f"/proc/{pid}/status") as f:
                    for line in f:
                        if line.startswith("VmHWM:"):
                            self.peak_kb = max(self.peak_kb, int(line.split()[1]))
            except OSError:
                continue

    def stop(self) -> float:
        self.done.set()
        self.join()
        self.sample()
        return round(self.peak_kb / 1024, 1)


def payload_sizes(emu: support.EmulatorProcess, output: dict[str, Any]) -> dict[str, int]:
    """Bytes of the payloads between states, the largest of each kind."""
    prefix = f"{e2e.PREFIX}runs/{output['run_id']}/"
    plan = {k: output.get(k) for k in ("run_id",)}
    sizes = {"execution output (aggregate answer)": len(json.dumps(output)), "plan answer": 0, "map item input": 0, "map item output": 0}
    for key in e2e.s3_keys(emu, prefix + "map/"):
        if key.endswith("SUCCEEDED_0.json"):
            for entry in e2e.s3_json(emu, key):
                sizes["map item input"] = max(sizes["map item input"], len(entry.get("Input", "")))
                sizes["map item output"] = max(sizes["map item output"], len(entry.get("Output", "")))
    scopes = e2e.s3_json(emu, prefix + "scopes.json")
    sizes["plan answer"] = len(json.dumps({**plan, "run_prefix": prefix, "scopes_key": prefix + "scopes.json", "scope_count": len(scopes)}))
    return sizes


def measure(members: int, path: str) -> dict[str, Any]:
    work = os.path.join(ROOT, "target", "bench", f"org-{members}")
    os.makedirs(work, exist_ok=True)
    emu = support.EmulatorProcess(os.path.join(work, "emulator.log"))
    try:
        emu.client("s3").create_bucket(Bucket=e2e.BUCKET)
        support.create_tables(emu)
        estate = e2e.Estate(emu, per_unit=members // 2)
        scopes = len(estate.planned())
        deployments = {mc: e2e.Deployment(emu, estate, name=f"b{members}-{mc}", path=path, max_concurrency=mc) for mc in (10, 40)}
        ten = deployments[10]

        before = usage(emu)
        started = time.monotonic()
        single = ten.invoke({})
        single_seconds = time.monotonic() - started
        single_calls = usage(emu) - before

        runs, rss = {}, {}
        for mc, deployment in deployments.items():
            before = usage(emu)
            sampler = RssSampler(f"{deployment.name}-drift-auditor")
            sampler.start()
            started = time.monotonic()
            described = deployment.execute({})
            seconds = time.monotonic() - started
            rss[mc] = sampler.stop()
            assert described["status"] == "SUCCEEDED", (described.get("error"), described.get("cause"))
            runs[mc] = (seconds, json.loads(described["output"]), usage(emu) - before)
        output, org_calls = runs[10][1], runs[10][2]

        aggregator = e2e.Deployment(emu, estate, name=f"b{members}-agg", path=path)
        sampler = RssSampler(f"{aggregator.name}-drift-auditor")
        sampler.start()
        aggregator.invoke({"mode": "aggregate", "run_id": output["run_id"]})
        aggregate_rss = sampler.stop()
        return {
            "accounts": members + 1,
            "scopes": scopes,
            "findings": output["summary"]["total"],
            "single_findings": single["total"],
            "seconds": {"single": round(single_seconds, 1), "mc10": round(runs[10][0], 1), "mc40": round(runs[40][0], 1)},
            "calls_single": dict(single_calls),
            "calls_org": dict(org_calls),
            "rss_mb": {"largest_environment_mc10": rss[10], "largest_environment_mc40": rss[40], "aggregate_alone": aggregate_rss},
            "payload_bytes": payload_sizes(emu, output),
        }
    finally:
        emu.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", default="20,100,200", help="member accounts, comma-separated (two OUs)")
    parser.add_argument("--binary", default=os.path.join(ROOT, os.environ.get("CARGO_TARGET_DIR") or "target", "release", "drift-auditor"))
    parser.add_argument("--out", default=os.path.join(ROOT, "target", "bench", "org-audit.json"))
    args = parser.parse_args()
    results = []
    for members in (int(n) for n in args.accounts.split(",")):
        started = time.monotonic()
        results.append(measure(members, args.binary))
        print(f"{members} members: {json.dumps(results[-1])} ({time.monotonic() - started:.0f} s)", flush=True)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump({"binary": args.binary, "sizes": results}, f, indent=1)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
