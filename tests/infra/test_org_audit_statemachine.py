"""The production org-audit state machine (infra/statemachine/org-audit.asl.json), run in the
emulator against a stand-in auditor; no Rust build needed.

The definition is rendered exactly as Terraform's ``templatefile`` renders it (``terraform
console``; without terraform, by the CloudFormation-style substitution that test_parity.py proves
identical) and created with ``states:CreateStateMachine``. The drift-auditor is a Python
``bootstrap`` run through the Lambda Runtime API by the emulator, implementing the auditor's side
of the payload contract (infra/README.md, "The org audit"):

* ``{"mode": "plan", "dry_run", "remediate"}``: writes N scopes ``[{"account", "region", "holds_allowlist"}]`` to
  ``<prefix>runs/<run_id>/scopes.json`` (a fresh run id per execution) and answers
  ``{"run_id", "run_prefix", "scopes_key", "scope_count"}``; the first plan may fail once with
  ``Retryable.Aws``;
* ``{"mode": "scope", "run_id", "account", "region", "holds_allowlist", "dry_run", "remediate"}``: writes
  ``<prefix>runs/<run_id>/scopes/<account>/<region>.json`` and answers a small summary; one scope
  fails once with ``Retryable.Aws`` (the Retry takes it), chosen scopes always fail with
  ``NonRetryable.Unexpected``;
* ``{"mode": "aggregate", "run_id"}``: lists the run's scope results, reads them, writes the
  report, and answers ``{"run_id", "summary", "scopes_audited", "scopes_failed", "reports"}``,
  planned scopes without a result counted as failed.

Each invocation's event and start/end time are appended to a file in a scratch folder, so the
tests see exactly what the state machine sent, and how many scopes ran at once.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from typing import Any

import pytest

import infra_support as support

sys.path.insert(0, support.EMULATOR_DIR)
from lambda_helpers import TRUST_POLICY, package  # noqa: E402
from sfn_helpers import SFN_TRUST, history, wait  # noqa: E402

BUCKET = "vpcwarden-reports-org-audit-test"
PREFIX = "reports/"
SCOPES = 20
MAX_CONCURRENCY = 4
TOLERATED_FAILURE_PERCENTAGE = 10
SCOPE_SECONDS = 0.4
NAME_PREFIX = "vpcwarden"

# The stand-in auditor. Configuration (environment): REPORT_BUCKET, REPORT_PREFIX, SCOPES (how many
# the plan finds), FLAKY (account/region failing its first attempt with Retryable.Aws), FAILING
# (comma-separated account/region failing every attempt with NonRetryable.Unexpected), FLAKY_PLAN
# (the first plan of this function fails with Retryable.Aws),
# SCOPE_SECONDS (how long a scope takes), STATE_DIR (events and attempt counters).
AUDITOR = r'''
import json, os, time, urllib.request, uuid
import boto3
from botocore.config import Config

API = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime"
BUCKET = os.environ["REPORT_BUCKET"]
PREFIX = os.environ["REPORT_PREFIX"]
STATE = os.environ["STATE_DIR"]
REGIONS = ["us-east-1", "eu-west-1"]
s3 = boto3.client("s3", config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 2}))


class Failure(Exception):
    def __init__(self, error_type, message):
        super().__init__(message)
        self.error_type = error_type


def note(record):
    with open(os.path.join(STATE, "events.jsonl"), "a") as f:
        f.write(json.dumps(record) + "\n")


def attempt(key):
    path = os.path.join(STATE, "attempts-" + key.replace("/", "_"))
    with open(path, "a") as f:
        f.write("x")
    with open(path) as f:
        return len(f.read())


def put(key, document, content_type="application/json"):
    body = document if isinstance(document, str) else json.dumps(document)
    s3.put_object(Bucket=BUCKET, Key=key, Body=body.encode(), ContentType=content_type)


def get(key):
    return json.loads(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())


def plan(event):
    if os.environ.get("FLAKY_PLAN") and attempt("plan") == 1:
        raise Failure("Retryable.Aws", "plan: throttled (attempt 1)")
    run_id = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()) + "-" + uuid.uuid4().hex[:8]
    run_prefix = f"{PREFIX}runs/{run_id}/"
    scopes = [{"account": str(100000000000 + i), "region": REGIONS[i % 2], "holds_allowlist": i == 0} for i in range(int(os.environ["SCOPES"]))]
    put(run_prefix + "scopes.json", scopes)
    return {"run_id": run_id, "run_prefix": run_prefix, "scopes_key": run_prefix + "scopes.json", "scope_count": len(scopes)}


def scope(event):
    scope_id = f"{event['account']}/{event['region']}"
    n = attempt(event["run_id"] + "-" + scope_id)
    if scope_id in os.environ.get("FAILING", "").split(","):
        raise Failure("NonRetryable.Unexpected", f"{scope_id}: unexpected")
    if scope_id == os.environ.get("FLAKY") and n == 1:
        raise Failure("Retryable.Aws", f"{scope_id}: throttled (attempt {n})")
    time.sleep(float(os.environ["SCOPE_SECONDS"]))
    summary = {"account": event["account"], "region": event["region"], "status": "audited", "findings": {"high": n}}
    key = f"{PREFIX}runs/{event['run_id']}/scopes/{scope_id}.json"
    put(key, {**summary, "dry_run": event["dry_run"], "remediate": event["remediate"], "findings_list": []})
    return summary


def aggregate(event):
    run_prefix = f"{PREFIX}runs/{event['run_id']}/"
    planned = get(run_prefix + "scopes.json")
    listed = set()
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=run_prefix + "scopes/"):
        listed |= {o["Key"] for o in page.get("Contents", [])}
    audited, failed = [], []
    for p in planned:
        key = f"{run_prefix}scopes/{p['account']}/{p['region']}.json"
        if key in listed:
            audited.append(get(key))
        else:
            failed.append({**p, "status": "failed", "why": "no result"})
    report = {"schema_version": 1, "run_id": event["run_id"], "scopes": audited + failed}
    reports = {}
    for ext, body in (("json", json.dumps(report)), ("md", "# vpcwarden org audit\n"), ("html", "<html></html>")):
        put(f"{run_prefix}report.{ext}", body, "text/plain")
        reports[ext] = f"s3://{BUCKET}/{run_prefix}report.{ext}"
    return {
        "run_id": event["run_id"],
        "summary": {"high": sum(a["findings"]["high"] for a in audited)},
        "scopes_audited": len(audited),
        "scopes_failed": len(failed),
        "failed": [f"{f['account']}/{f['region']}" for f in failed],
        "reports": reports,
    }


def post(path, body, headers=None):
    req = urllib.request.Request(API + path, data=json.dumps(body).encode(), method="POST", headers=headers or {})
    urllib.request.urlopen(req).close()


while True:
    with urllib.request.urlopen(API + "/invocation/next") as resp:
        request_id = resp.headers["Lambda-Runtime-Aws-Request-Id"]
        event = json.loads(resp.read())
    started = time.time()
    try:
        answer = {"plan": plan, "scope": scope, "aggregate": aggregate}[event["mode"]](event)
    except Failure as exc:
        note({"event": event, "start": started, "end": time.time(), "error": exc.error_type})
        doc = {"errorType": exc.error_type, "errorMessage": str(exc)}
        post(f"/invocation/{request_id}/error", doc, {"Lambda-Runtime-Function-Error-Type": exc.error_type})
        continue
    note({"event": event, "start": started, "end": time.time(), "answer": answer})
    post(f"/invocation/{request_id}/response", answer)
'''


def definition(function_arn: str) -> tuple[str, str]:
    """(rendered definition, which tool rendered it)."""
    values = {
        "DriftAuditorFunctionArn": function_arn,
        "ReportBucket": BUCKET,
        "MaxConcurrency": MAX_CONCURRENCY,
        "ToleratedFailurePercentage": TOLERATED_FAILURE_PERCENTAGE,
    }
    if shutil.which("terraform"):
        return support.render_asl_with_terraform(values), "terraform templatefile"
    return support.render_asl(values), "CloudFormation-style substitution (terraform absent)"


class Deployment:
    """One stand-in auditor and one state machine of the production definition."""

    def __init__(self, emu: support.EmulatorProcess, name: str, state_dir: str, **config: str) -> None:
        self.emu, self.state_dir = emu, state_dir
        os.makedirs(state_dir, exist_ok=True)
        lam, iam, sfn = emu.client("lambda"), emu.client("iam"), emu.client("stepfunctions")
        role = iam.create_role(RoleName=f"{name}-drift-auditor", AssumeRolePolicyDocument=TRUST_POLICY)["Role"]["Arn"]
        variables = {
            "REPORT_BUCKET": BUCKET,
            "REPORT_PREFIX": PREFIX,
            "SCOPES": str(SCOPES),
            "SCOPE_SECONDS": str(SCOPE_SECONDS),
            "STATE_DIR": state_dir,
            **config,
        }
        self.function_arn = lam.create_function(
            FunctionName=f"{name}-drift-auditor",
            Runtime="provided.al2023",
            Handler="bootstrap",
            Role=role,
            Code={"ZipFile": package(AUDITOR)},
            Timeout=60,
            MemorySize=512,
            Environment={"Variables": variables},
        )["FunctionArn"]
        # As deployed with OrgAudit on: the auditor's reserved concurrency is the Map's concurrency.
        lam.put_function_concurrency(FunctionName=f"{name}-drift-auditor", ReservedConcurrentExecutions=MAX_CONCURRENCY)
        sm_role = iam.create_role(RoleName=f"{name}-org-audit", AssumeRolePolicyDocument=SFN_TRUST)["Role"]["Arn"]
        self.definition, self.rendered_by = definition(self.function_arn)
        self.arn = sfn.create_state_machine(name=f"{name}-org-audit", definition=self.definition, roleArn=sm_role, type="STANDARD")[
            "stateMachineArn"
        ]

    def start(self, execution_input: Any) -> str:
        return str(self.emu.client("stepfunctions").start_execution(stateMachineArn=self.arn, input=json.dumps(execution_input))["executionArn"])

    def events(self) -> list[dict[str, Any]]:
        path = os.path.join(self.state_dir, "events.jsonl")
        if not os.path.exists(path):
            return []
        with open(path) as f:
            return [json.loads(line) for line in f if line.strip()]

    def run_events(self, run_id: str) -> list[dict[str, Any]]:
        return [e for e in self.events() if e["event"].get("run_id") == run_id or e.get("answer", {}).get("run_id") == run_id]


def s3_json(emu: support.EmulatorProcess, key: str) -> Any:
    return json.loads(emu.client("s3").get_object(Bucket=BUCKET, Key=key)["Body"].read())


def s3_keys(emu: support.EmulatorProcess, prefix: str) -> list[str]:
    pages = emu.client("s3").get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix)
    return sorted(o["Key"] for page in pages for o in page.get("Contents", []))


def peak_concurrency(records: list[dict[str, Any]]) -> int:
    edges = sorted([(r["start"], 1) for r in records] + [(r["end"], -1) for r in records], key=lambda e: (e[0], e[1]))
    peak = running = 0
    for _, delta in edges:
        running += delta
        peak = max(peak, running)
    return peak


@pytest.fixture(scope="module")
def emu(tmp_path_factory: pytest.TempPathFactory):
    work = tmp_path_factory.mktemp("org-audit")
    emulator = support.EmulatorProcess(str(work / "emulator.log"))
    try:
        emulator.client("s3").create_bucket(Bucket=BUCKET)
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture(scope="module")
def tolerant(emu, tmp_path_factory):  # type: ignore[no-untyped-def]
    """20 scopes: 100000000003/eu-west-1 fails once (Retryable.Aws), 100000000007/eu-west-1
    always (NonRetryable.Unexpected): 1 of 20 failed is 5 %, within the 10 % tolerated. Its first
    plan fails once (Retryable.Aws)."""
    return Deployment(
        emu,
        "tolerant",
        str(tmp_path_factory.mktemp("tolerant")),
        FLAKY="100000000003/eu-west-1",
        FAILING="100000000007/eu-west-1",
        FLAKY_PLAN="1",
    )


@pytest.fixture(scope="module")
def tolerant_run(emu, tolerant):  # type: ignore[no-untyped-def]
    """One execution of the tolerant deployment with both options given (and a field the
    auditor must never see): (execution ARN, DescribeExecution, elapsed seconds)."""
    started = time.monotonic()
    execution = tolerant.start({"dry_run": True, "remediate": False, "mode": "not for the auditor"})
    described = wait(emu, execution, timeout=240)
    return execution, described, time.monotonic() - started


def test_the_definition_is_rendered_as_terraform_renders_it(tolerant) -> None:  # type: ignore[no-untyped-def]
    print(f"rendered by {tolerant.rendered_by}")
    assert "${" not in tolerant.definition
    parsed = json.loads(tolerant.definition)
    assert parsed["States"]["AuditScopes"]["MaxConcurrency"] == MAX_CONCURRENCY
    assert parsed["States"]["AuditScopes"]["ToleratedFailurePercentage"] == TOLERATED_FAILURE_PERCENTAGE


def test_one_failing_scope_of_twenty_is_tolerated_and_the_aggregate_answer_is_the_output(emu, tolerant, tolerant_run) -> None:  # type: ignore[no-untyped-def]
    execution, described, elapsed = tolerant_run
    print(f"execution took {elapsed:.1f} s")
    assert described["status"] == "SUCCEEDED", (described.get("error"), described.get("cause"))
    output = json.loads(described["output"])
    [aggregate] = [e for e in tolerant.events() if e["event"]["mode"] == "aggregate" and e["event"]["run_id"] == output["run_id"]]
    assert output == aggregate["answer"], "the execution's output is the aggregate's answer, unwrapped"
    assert (output["scopes_audited"], output["scopes_failed"]) == (19, 1)
    assert output["failed"] == ["100000000007/eu-west-1"]
    prefix = f"{PREFIX}runs/{output['run_id']}/"
    assert output["reports"] == {ext: f"s3://{BUCKET}/{prefix}report.{ext}" for ext in ("json", "md", "html")}
    types = [e["type"] for e in history(emu, execution)]
    assert {"MapRunStarted", "MapRunSucceeded", "MapStateSucceeded"} <= set(types)
    assert types[-1] == "ExecutionSucceeded"


def test_the_payloads_follow_the_contract(tolerant, tolerant_run) -> None:  # type: ignore[no-untyped-def]
    """Plan and scopes get mode, the run and exactly the two options; other input never passes."""
    _, described, _ = tolerant_run
    run_id = json.loads(described["output"])["run_id"]
    events = tolerant.run_events(run_id)
    [plan] = [e for e in events if e["event"]["mode"] == "plan"]
    assert plan["event"] == {"mode": "plan", "dry_run": True, "remediate": False}
    scopes = [e["event"] for e in events if e["event"]["mode"] == "scope"]
    assert {json.dumps(s, sort_keys=True) for s in scopes} == {
        json.dumps({"mode": "scope", "run_id": run_id, "account": str(100000000000 + i), "region": ["us-east-1", "eu-west-1"][i % 2], "holds_allowlist": i == 0, "dry_run": True, "remediate": False}, sort_keys=True)
        for i in range(SCOPES)
    }
    [aggregate] = [e for e in events if e["event"]["mode"] == "aggregate"]
    assert aggregate["event"] == {"mode": "aggregate", "run_id": run_id}


def test_options_not_given_reach_the_auditor_as_null(emu, tolerant) -> None:  # type: ignore[no-untyped-def]
    """``{}`` (the schedule's input): the options are null, which the auditor reads as not given."""
    described = wait(emu, tolerant.start({}), timeout=240)
    assert described["status"] == "SUCCEEDED", (described.get("error"), described.get("cause"))
    run_id = json.loads(described["output"])["run_id"]
    events = tolerant.run_events(run_id)
    [plan] = [e for e in events if e["event"]["mode"] == "plan"]
    assert plan["event"] == {"mode": "plan", "dry_run": None, "remediate": None}
    assert {(e["event"]["dry_run"], e["event"]["remediate"]) for e in events if e["event"]["mode"] == "scope"} == {(None, None)}


def test_retryable_errors_are_retried_and_the_retry_is_in_the_history(emu, tolerant, tolerant_run) -> None:  # type: ignore[no-untyped-def]
    """The same Retry on every task: the plan's retry is in the execution's history (TaskFailed
    Retryable.Aws, then the task scheduled again after a jittered backoff of at most 5 s); a
    scope's retry is in its child execution's history on AWS, which the emulator does not keep
    (tests/emulator/README.md), so it is seen in the auditor's invocations and the Map Run's
    counts instead."""
    execution, described, _ = tolerant_run
    run_id = json.loads(described["output"])["run_id"]
    events = history(emu, execution)
    failed = [e["taskFailedEventDetails"] for e in events if e["type"] == "TaskFailed"]
    assert [(f["resourceType"], f["error"]) for f in failed] == [("lambda", "Retryable.Aws")], failed
    scheduled = [e for e in events if e["type"] == "TaskScheduled"]
    payloads = [json.loads(e["taskScheduledEventDetails"]["parameters"])["Payload"] for e in scheduled]
    assert [p["mode"] for p in payloads] == ["plan", "plan", "aggregate"], "the plan ran twice: failed, then retried"
    backoff = (scheduled[1]["timestamp"] - scheduled[0]["timestamp"]).total_seconds()
    assert 0 <= backoff <= 5 + 2, backoff  # IntervalSeconds 5, FULL jitter
    plans = [e for e in tolerant.events() if e["event"]["mode"] == "plan"]
    assert [e.get("error") for e in plans[:2]] == ["Retryable.Aws", None]

    flaky = [e for e in tolerant.run_events(run_id) if e["event"].get("account") == "100000000003"]
    assert [e.get("error") for e in flaky] == ["Retryable.Aws", None], "the scope failed once, then succeeded on the retry"
    failing = [e for e in tolerant.run_events(run_id) if e["event"].get("account") == "100000000007"]
    assert [e.get("error") for e in failing] == ["NonRetryable.Unexpected"], "an error the Retry does not name is not retried"
    [map_run] = emu.client("stepfunctions").list_map_runs(executionArn=execution)["mapRuns"]
    counts = emu.client("stepfunctions").describe_map_run(mapRunArn=map_run["mapRunArn"])["itemCounts"]
    assert (counts["succeeded"], counts["failed"]) == (SCOPES - 1, 1), "the retried scope counts as succeeded"


def test_max_concurrency_is_respected(tolerant, tolerant_run) -> None:  # type: ignore[no-untyped-def]
    _, described, _ = tolerant_run
    run_id = json.loads(described["output"])["run_id"]
    scopes = [e for e in tolerant.run_events(run_id) if e["event"]["mode"] == "scope"]
    peak = peak_concurrency(scopes)
    print(f"peak concurrency {peak} (MaxConcurrency {MAX_CONCURRENCY})")
    assert 2 <= peak <= MAX_CONCURRENCY


def test_the_map_output_is_only_the_map_run_and_its_manifest(emu, tolerant, tolerant_run) -> None:  # type: ignore[no-untyped-def]
    """With the ResultWriter, the Map's result is {MapRunArn, ResultWriterDetails}: the child
    results lie in S3 under the run's prefix, never in the state data."""
    execution, described, _ = tolerant_run
    run_id = json.loads(described["output"])["run_id"]
    exited = [
        json.loads(e["stateExitedEventDetails"]["output"])
        for e in history(emu, execution)
        if e["type"] == "MapStateExited"
    ]
    [state] = exited
    assert sorted(state) == ["map", "options", "plan"]
    sfn = emu.client("stepfunctions")
    [map_run] = sfn.list_map_runs(executionArn=execution)["mapRuns"]
    assert ":mapRun:tolerant-org-audit/AuditScopes:" in map_run["mapRunArn"], "the Label names the Map Run (IAM scopes child executions by it)"
    map_prefix = f"{PREFIX}runs/{run_id}/map/{map_run['mapRunArn'].split(':')[-1]}/"
    assert state["map"] == {"MapRunArn": map_run["mapRunArn"], "ResultWriterDetails": {"Bucket": BUCKET, "Key": map_prefix + "manifest.json"}}
    assert len(json.dumps(state)) < 4096
    manifest = s3_json(emu, map_prefix + "manifest.json")
    assert [f["Key"] for f in manifest["ResultFiles"]["FAILED"]] == [map_prefix + "FAILED_0.json"]
    succeeded = s3_json(emu, manifest["ResultFiles"]["SUCCEEDED"][0]["Key"])
    assert len(succeeded) == SCOPES - 1
    described_run = sfn.describe_map_run(mapRunArn=map_run["mapRunArn"])
    assert (described_run["maxConcurrency"], described_run["toleratedFailurePercentage"]) == (MAX_CONCURRENCY, TOLERATED_FAILURE_PERCENTAGE)
    assert (described_run["itemCounts"]["succeeded"], described_run["itemCounts"]["failed"]) == (SCOPES - 1, 1)


def test_failures_beyond_the_tolerance_fail_the_execution(emu, tmp_path_factory) -> None:  # type: ignore[no-untyped-def]
    """3 of 20 scopes fail: 15 % > 10 %. No report is aggregated; the alarm on ExecutionsFailed fires."""
    failing = ",".join(f"{100000000000 + i}/{['us-east-1', 'eu-west-1'][i % 2]}" for i in (2, 9, 15))
    deployment = Deployment(emu, "intolerant", str(tmp_path_factory.mktemp("intolerant")), FAILING=failing)
    execution = deployment.start({})
    described = wait(emu, execution, timeout=240)
    assert described["status"] == "FAILED"
    assert described["error"] == "States.ExceedToleratedFailureThreshold"
    types = [e["type"] for e in history(emu, execution)]
    assert "MapRunFailed" in types and types[-1] == "ExecutionFailed"
    assert not [e for e in deployment.events() if e["event"]["mode"] == "aggregate"]


def test_two_executions_with_the_same_input_keep_separate_run_data(emu, tolerant) -> None:  # type: ignore[no-untyped-def]
    executions = [tolerant.start({"dry_run": True}) for _ in range(2)]
    outputs = []
    for execution in executions:
        described = wait(emu, execution, timeout=300)
        assert described["status"] == "SUCCEEDED", (described.get("error"), described.get("cause"))
        outputs.append(json.loads(described["output"]))
    first, second = (o["run_id"] for o in outputs)
    assert first != second
    for output in outputs:
        prefix = f"{PREFIX}runs/{output['run_id']}/"
        keys = s3_keys(emu, prefix)
        assert prefix + "scopes.json" in keys
        assert len([k for k in keys if k.startswith(prefix + "scopes/")]) == SCOPES - 1
        assert [k for k in keys if k.endswith("/manifest.json")] and all(k.startswith(prefix) for k in keys)
        assert output["reports"]["json"] == f"s3://{BUCKET}/{prefix}report.json"
        assert s3_json(emu, prefix + "report.json")["run_id"] == output["run_id"]
        assert len(s3_json(emu, prefix + "scopes.json")) == SCOPES


def test_the_engine_acts_as_the_state_machine_role(emu, tolerant, tolerant_run) -> None:  # type: ignore[no-untyped-def]
    """Every call the Step Functions engine made (Lambda for the tasks, S3 for the ItemReader and
    the ResultWriter) is signed as the state machine's role: the evidence the next test checks the
    role against."""
    usage = [u for u in emu.admin("GET", "/usage") if u["source_key"] == "stepfunctions"]
    roles = {u["assumed_role"] for u in usage}
    assert f"arn:aws:iam::{support.ACCOUNT}:role/tolerant-org-audit" in roles
    calls = {(u["service"], u["action"]) for u in usage}
    assert {("lambda", "Invoke"), ("s3", "GetObject"), ("s3", "PutObject")} <= calls, calls


def test_the_state_machine_role_grants_exactly_what_the_engine_called(emu, tolerant_run, sam_template, tf_scratch) -> None:  # type: ignore[no-untyped-def]
    """Least privilege of the org-audit state machine's role (OrgAuditRole / aws_iam_role.org_audit
    ["org-audit"]), proven from behaviour: every call the engine made while running the production
    definition here is granted in both flavours, and every granted action was called, or is in
    test_least_privilege.NOT_EXERCISED with the reason the emulator cannot show it."""
    import test_least_privilege as lp

    used: dict[str, int] = {}
    for u in emu.admin("GET", "/usage"):
        if u["source_key"] == "stepfunctions":
            action = lp.iam_action(u["service"], u["action"])
            if action:
                used[action] = used.get(action, 0) + int(u["count"])
    print(f"the engine called {used}")
    assert {"lambda:InvokeFunction", "s3:GetObject", "s3:PutObject"} <= set(used)
    problems = lp.check(("org-audit", "engine"), used, lp.engine_granted(sam_template, tf_scratch))
    assert not problems, "\n".join(problems)
