"""Least privilege, proven from behaviour.

The Rust end-to-end tests run each function binary with its own access key id
(``vpcwarden-<function>``, tests/src/stage.rs); the emulator attributes every AWS call to the
function that made it, including calls made with credentials from a role it assumed
(tests/emulator/vpcwarden_emulator/requestlog.py), and each ``Stage`` appends what its functions
called to ``<target>/iam-usage/<function>-<pid>-<n>.jsonl`` when dropped. This test, run after
the cargo tests, maps those calls to IAM actions and checks, for each function, in SAM and in
Terraform (with every optional statement switched on):

* its own role grants every action it used, and every action its role grants was used, or is in
  ``NOT_EXERCISED`` below with the reason the tests cannot exercise it;
* the member-account role it assumes (peering-acceptor: the requester role; drift-auditor: the
  audit role, infra/sam/member-role.yaml and modules/member-role) grants every action it used
  there, and nothing else except what ``NOT_EXERCISED`` lists.

Actions granted only with the organisation-scale options (account and region discovery, the org
audit's run data, Security Hub) are listed in ``AWAITING_PROOF`` with the end-to-end test that
will exercise them; until their usage is recorded they are allowed unused, and once it is, the
test asks for them to be moved out of that list.

The roles AWS services act as, not a function process (``ENGINE_ROLES``): the org-audit state
machine's role, which the Step Functions engine uses (the emulator's request log attributes those
calls to ``source_key`` ``stepfunctions`` with ``assumed_role`` the state machine's role), and the
role EventBridge starts the state machine with. test_org_audit_statemachine.py runs the production
definition in the emulator and checks the state machine's role against the engine's calls there
with ``check`` below; the schedule's role (EventBridge's one call, which the emulator does not
make) is proven from its policy.

Usage recorded by another build of a function (its binary's mtime differs) is ignored. What
happens when a function has no usage (its end-to-end tests are not there, did not run, or ran
with another build) depends on ``VPCWARDEN_REQUIRE_USAGE``:

* set to ``1`` (tests/tools/infra-proof.sh sets it, so in ``make test``): the test fails, naming
  the function and the folder the records were looked for in; a proof with nothing to prove from
  is no proof;
* unset (a developer running this file by hand before the end-to-end tests): it is skipped, with
  the same message.
"""

from __future__ import annotations

import glob
import json
import os
from collections import defaultdict
import pytest

import infra_support as support
from infra_support import FUNCTIONS, SAM_FUNCTIONS, Cfn

# Every optional statement on (they only add actions): the grants the functions may ever need.
ALL_OPTIONS_SAM = {
    "RequesterRoleName": "vpcwarden-requester",
    "Remediate": "true",
    "AuditRoleName": "vpcwarden-audit",
    "AuditAccounts": ["111122223333"],
    "SecurityHub": "true",
    "EventBus": "vpcwarden-events",
}
ALL_OPTIONS_TF = {
    "requester_role_name": "vpcwarden-requester",
    "remediate": True,
    "audit_role_name": "vpcwarden-audit",
    "audit_accounts": ["111122223333"],
    "security_hub": True,
    "event_bus": "vpcwarden-events",
}
# The organisation-scale options. AUDIT_ACCOUNTS holds either org (alone) or ou: entries, so they
# take two sets of inputs; the grants checked are the union of all three.
ORG_OPTIONS_SAM = [
    {**ALL_OPTIONS_SAM, "OrgAudit": "true", "AuditAccounts": ["org"], "AuditRegions": ["enabled"], "SecurityHub": "true"},
    {**ALL_OPTIONS_SAM, "OrgAudit": "true", "AuditAccounts": ["ou:ou-ab12-cdefgh34"]},
]
ORG_OPTIONS_TF = [
    {**ALL_OPTIONS_TF, "org_audit": True, "audit_accounts": ["org"], "audit_regions": ["enabled"], "security_hub": True},
    {**ALL_OPTIONS_TF, "org_audit": True, "audit_accounts": ["ou:ou-ab12-cdefgh34"]},
]

# The member-account role each function assumes (by function: the tests name the roles freely).
MEMBER_ROLE = {"peering-acceptor": ("requester", "RequesterRole"), "drift-auditor": ("audit", "AuditRole")}

# Actions granted to a role that no test can see used, each with the reason. Keep this short: an
# action that is not here and not used is an error (remove it from both flavours), and an action
# here that the tests do use is an error too (remove it from here).
_LAMBDA_SERVICE = {
    # Used by the Lambda service with the function's execution role, never by the function's code,
    # so the emulator cannot see them.
    "kms:Decrypt": "for the function's KMS-encrypted environment and on-failure queue, used by the Lambda service, never by the code",
    "kms:GenerateDataKey": "for messages to the KMS-encrypted on-failure queue, sent by the Lambda service, never by the code",
    "sqs:SendMessage": "Lambda sends failed asynchronous invocations to the on-failure destination with the execution role",
    "logs:CreateLogStream": "the Lambda runtime writes the function's logs with the execution role",
    "logs:PutLogEvents": "the Lambda runtime writes the function's logs with the execution role",
    "xray:PutTraceSegments": "Lambda active tracing sends segments with the execution role",
    "xray:PutTelemetryRecords": "Lambda active tracing sends telemetry with the execution role",
}
NOT_EXERCISED: dict[tuple[str, str], dict[str, str]] = {
    ("peering-acceptor", "function"): {
        **_LAMBDA_SERVICE,
        # The acceptor's stream event source mapping (peering grants) polls with its role too.
        "dynamodb:DescribeStream": "the DynamoDB stream event source mapping (Lambda's poller) uses the execution role",
        "dynamodb:GetRecords": "the DynamoDB stream event source mapping (Lambda's poller) uses the execution role",
        "dynamodb:GetShardIterator": "the DynamoDB stream event source mapping (Lambda's poller) uses the execution role",
        "dynamodb:ListStreams": "the DynamoDB stream event source mapping (Lambda's poller) uses the execution role",
    },
    ("endpoint-approver", "function"): {
        **_LAMBDA_SERVICE,
        # The stream event source mapping polls with the function's role; the function itself
        # only receives the records (the tests hand it stream events through the Runtime API).
        "dynamodb:DescribeStream": "the DynamoDB stream event source mapping (Lambda's poller) uses the execution role",
        "dynamodb:GetRecords": "the DynamoDB stream event source mapping (Lambda's poller) uses the execution role",
        "dynamodb:GetShardIterator": "the DynamoDB stream event source mapping (Lambda's poller) uses the execution role",
        "dynamodb:ListStreams": "the DynamoDB stream event source mapping (Lambda's poller) uses the execution role",
    },
    ("drift-auditor", "function"): dict(_LAMBDA_SERVICE),
    ("peering-acceptor", "requester"): {
        # shared/src/acceptor/mod.rs cleanup(): requester-side routes of a dead cross-account
        # peering; the end-to-end tests clean up same-account peerings only (own role).
        "ec2:DeleteRoute": "requester-side cleanup of a deleted cross-account peering (the tests clean up same-account peerings)",
    },
}

# Granted only with the organisation-scale options and not yet called by any end-to-end test:
# allowed unused until usage is recorded, each with what will prove it. Once a test uses one,
# `check` asks for it to be removed from here.
# Empty now: the org audit's steps (tests/tests/org_audit_steps.rs) and its scope discovery
# (tests/tests/org_audit.rs) use every action the organisation options grant.
AWAITING_PROOF: dict[tuple[str, str], dict[str, str]] = {}

# Roles an AWS service acts as (no function process behind them): (SAM logical id, key of
# local.org_audit_iam_statements in infra/terraform/org_audit.tf, the request log's source_key of
# the service's calls or None when the emulator does not make them).
ENGINE_ROLES = {
    "org-audit": ("OrgAuditRole", "org-audit", "stepfunctions"),
    "org-audit-schedule": ("OrgAuditScheduleRole", "org-audit-schedule", None),
}
_LOG_DELIVERY = "Step Functions sets up the delivery of the execution log with the role when the state machine is created or updated; the emulator delivers no logs"
_TRACING = "Step Functions sends the trace segments of executions with the role (Tracing enabled); the emulator has no X-Ray"
NOT_EXERCISED[("org-audit", "engine")] = {
    "states:StartExecution": "the Distributed Map starts one child execution per scope with the role; the emulator runs the children in-process (tests/emulator/README.md)",
    "states:DescribeExecution": "the Distributed Map follows its child executions with the role; the emulator runs the children in-process",
    "states:StopExecution": "the Distributed Map stops running children when the tolerated failures are exceeded; the emulator lets them finish (tests/emulator/README.md)",
    "s3:ListMultipartUploadParts": "the ResultWriter uploads result files in parts (multipart); the emulator writes each file in one PutObject",
    "s3:AbortMultipartUpload": "the ResultWriter aborts a failed multipart upload; the emulator writes each file in one PutObject",
    "kms:Decrypt": "S3 decrypts the SSE-KMS objects the ItemReader reads with the role's permission; the emulator's S3 does not call KMS",
    "kms:GenerateDataKey": "S3 encrypts the result files (SSE-KMS) with the role's permission; the emulator's S3 does not call KMS",
    **{a: _LOG_DELIVERY for a in (
        "logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery",
        "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies", "logs:DescribeLogGroups",
    )},
    **{a: _TRACING for a in ("xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets")},
}
NOT_EXERCISED[("org-audit-schedule", "engine")] = {
    "states:StartExecution": "EventBridge starts the org-audit execution with the role at the scheduled time; the emulator does not run schedules",
}

# Calls that need no IAM permission.
NO_PERMISSION = {("sts", "GetCallerIdentity")}
# Signing name -> IAM service prefix where they differ.
IAM_PREFIX = {"monitoring": "cloudwatch", "streams.dynamodb": "dynamodb"}
# Operations whose IAM action has another name.
IAM_ACTION = {
    ("s3", "ListObjectsV2"): "s3:ListBucket",
    ("s3", "HeadObject"): "s3:GetObject",
    ("s3", "HeadBucket"): "s3:ListBucket",
    ("s3", "CreateMultipartUpload"): "s3:PutObject",
    ("s3", "UploadPart"): "s3:PutObject",
    ("s3", "CompleteMultipartUpload"): "s3:PutObject",
    ("dynamodb", "TransactGetItems"): "dynamodb:GetItem",
    ("lambda", "Invoke"): "lambda:InvokeFunction",
}


def iam_action(service: str, action: str) -> str | None:
    """The IAM action a call needs (None: none)."""
    if (service, action) in NO_PERMISSION:
        return None
    if (service, action) in IAM_ACTION:
        return IAM_ACTION[(service, action)]
    if not service or not action or " " in action:
        raise ValueError(f"cannot map the call {service}:{action} to an IAM action")
    return f"{IAM_PREFIX.get(service, service)}:{action}"


# --------------------------------------------------------------------------- evidence


def usage_required() -> bool:
    """True in ``make test`` (tests/tools/infra-proof.sh): missing usage is then a failure."""
    return os.environ.get("VPCWARDEN_REQUIRE_USAGE", "") == "1"


def missing(why: str) -> None:
    """No usage to prove from: a failure when usage is required, else a skip."""
    if usage_required():
        pytest.fail(f"{why} (VPCWARDEN_REQUIRE_USAGE=1: usage must have been recorded)", pytrace=False)
    pytest.skip(why)


def usage_dir() -> str:
    target = os.environ.get("CARGO_TARGET_DIR") or "target"
    return os.path.join(support.ROOT, target, "iam-usage")


def bin_dir() -> str:
    explicit = os.environ.get("VPCWARDEN_BIN_DIR")
    if explicit:
        return explicit
    return os.path.join(os.path.dirname(usage_dir()), "debug")


class Usage:
    def __init__(self) -> None:
        self.files = sorted(glob.glob(os.path.join(usage_dir(), "*.jsonl")))
        # function -> role key ("function" or the assumed role's ARN) -> IAM action -> calls
        self.calls: dict[str, dict[str, dict[str, int]]] = defaultdict(lambda: defaultdict(lambda: defaultdict(int)))
        self.stale: dict[str, int] = defaultdict(int)
        self.unmapped: list[str] = []
        current = {fn: self._mtime(fn) for fn in FUNCTIONS}
        for path in self.files:
            with open(path) as f:
                for line in f:
                    if not line.strip():
                        continue
                    u = json.loads(line)
                    fn = u["function"]
                    if fn in current and u.get("binary_mtime") != current[fn]:
                        self.stale[fn] += 1
                        continue
                    try:
                        action = iam_action(u["service"], u["action"])
                    except ValueError as exc:
                        self.unmapped.append(f"{fn}: {exc} ({os.path.basename(path)})")
                        continue
                    if action:
                        self.calls[fn][u["role"] or "function"][action] += int(u["count"])

    @staticmethod
    def _mtime(fn: str) -> int | None:
        try:
            return int(os.stat(os.path.join(bin_dir(), fn)).st_mtime)
        except OSError:
            return None

    def of(self, fn: str) -> dict[str, dict[str, int]]:
        if fn not in self.calls:
            why = (
                f"{self.stale[fn]} usage records of {fn} in {usage_dir()} came from another build of it: "
                "rerun its end-to-end tests"
                if self.stale.get(fn)
                else f"no recorded usage for {fn} in {usage_dir()} (its end-to-end tests have not run through Stage::function)"
            )
            missing(why)
        return self.calls[fn]


@pytest.fixture(scope="module")
def usage() -> Usage:
    u = Usage()
    if not u.files:
        missing(
            f"no IAM usage recorded in {usage_dir()}: run the Rust end-to-end tests first "
            "(cargo test --workspace; each Stage writes <function>-<pid>-<n>.jsonl when dropped)"
        )
    return u


# --------------------------------------------------------------------------- grants


def granted_actions(sam_template: dict, member_template: dict, tf_scratch: support.Terraform) -> dict[str, dict[tuple[str, str], set[str]]]:
    """flavour -> (function, "function" | member role key) or (engine role, "engine") -> the IAM
    actions granted with every option on (the union over ALL_OPTIONS and ORG_OPTIONS)."""
    out: dict[str, dict[tuple[str, str], set[str]]] = {"SAM": defaultdict(set), "Terraform": defaultdict(set)}
    for sam_options, tf_options in zip([ALL_OPTIONS_SAM, *ORG_OPTIONS_SAM], [ALL_OPTIONS_TF, *ORG_OPTIONS_TF]):
        cfn = Cfn(sam_template, sam_options)
        tf = tf_scratch.console("local.iam_actions", variables=tf_options)
        for fn in FUNCTIONS:
            out["SAM"][(fn, "function")] |= support.statement_actions(cfn.role_statements(SAM_FUNCTIONS[fn].role))
            out["Terraform"][(fn, "function")] |= set(tf[fn])
        for role, (logical_id, tf_key, _) in ENGINE_ROLES.items():
            if logical_id in cfn.resources():
                out["SAM"][(role, "engine")] |= support.statement_actions(cfn.role_statements(logical_id))
            out["Terraform"][(role, "engine")] |= set(tf.get(tf_key, []))
    for member_options in ({}, {"SecurityHub": "true"}):
        member = Cfn(member_template, {"DeploymentAccountId": support.ACCOUNT, **member_options})
        tf_member = tf_scratch.console(
            "{for k, ss in local.iam_statements : k => flatten([for s in ss : s.actions])}",
            rel="modules/member-role",
            variables={"deployment_account_id": support.ACCOUNT, "security_hub": bool(member_options)},
        )
        for fn, (key, logical_id) in MEMBER_ROLE.items():
            statements = [s for p in member.properties(logical_id)["Policies"] for s in support._as_list(p["PolicyDocument"]["Statement"])]
            out["SAM"][(fn, key)] |= support.statement_actions(statements)
            out["Terraform"][(fn, key)] |= set(tf_member[key])
    return {flavour: dict(roles) for flavour, roles in out.items()}


def engine_granted(sam_template: dict, tf_scratch: support.Terraform) -> dict[str, dict[tuple[str, str], set[str]]]:
    """flavour -> (engine role, "engine") -> granted IAM actions (they do not vary with the options)."""
    cfn = Cfn(sam_template, ORG_OPTIONS_SAM[0])
    tf = tf_scratch.console("local.iam_actions", variables=ORG_OPTIONS_TF[0])
    return {
        "SAM": {(role, "engine"): support.statement_actions(cfn.role_statements(lid)) for role, (lid, _, _) in ENGINE_ROLES.items()},
        "Terraform": {(role, "engine"): set(tf[key]) for role, (_, key, _) in ENGINE_ROLES.items()},
    }


@pytest.fixture(scope="module")
def granted(sam_template: dict, member_template: dict, tf_scratch: support.Terraform) -> dict[str, dict[tuple[str, str], set[str]]]:
    return granted_actions(sam_template, member_template, tf_scratch)


def check(role: tuple[str, str], used: dict[str, int], granted: dict[str, dict[tuple[str, str], set[str]]]) -> list[str]:
    problems = []
    allow = NOT_EXERCISED.get(role, {})
    awaiting = AWAITING_PROOF.get(role, {})
    for flavour, grants in granted.items():
        have = grants[role]
        for action in sorted(set(used) - have):
            problems.append(f"{flavour}: {role[0]} ({role[1]} role) called {action} ({used[action]}x) but is not granted it")
        for action in sorted(have - set(used) - set(allow) - set(awaiting)):
            problems.append(
                f"{flavour}: {role[0]} ({role[1]} role) is granted {action} but never used it in the tests: "
                "remove it, or list it in NOT_EXERCISED with the reason the tests cannot reach it"
            )
        for action in sorted((set(allow) | set(awaiting)) - have):
            problems.append(f"{flavour}: NOT_EXERCISED or AWAITING_PROOF lists {action} for {role}, which the role does not grant")
    for action in sorted(set(allow) & set(used)):
        problems.append(f"NOT_EXERCISED lists {action} for {role}, but the tests used it: remove it from the list")
    for action in sorted(set(awaiting) & set(used)):
        problems.append(f"AWAITING_PROOF lists {action} for {role}, but the tests now use it: it is proven, remove it from the list")
    return problems


def test_usage_is_recorded_and_every_call_maps_to_an_iam_action(usage: Usage) -> None:
    assert not usage.unmapped, "\n".join(usage.unmapped)
    summary = {fn: {role: dict(actions) for role, actions in roles.items()} for fn, roles in usage.calls.items()}
    print(json.dumps(summary, indent=1, sort_keys=True))
    others = sorted(set(usage.calls) - set(FUNCTIONS))
    if others:
        print(f"usage of other binaries (not deployed, not checked): {others}")


@pytest.mark.parametrize("fn", FUNCTIONS)
def test_function_role_grants_exactly_what_the_function_uses(fn: str, usage: Usage, granted) -> None:  # type: ignore[no-untyped-def]
    calls = usage.of(fn)
    problems = check((fn, "function"), calls.get("function", {}), granted)
    unexpected = sorted(set(calls) - {"function"}) if fn not in MEMBER_ROLE else []
    problems += [f"{fn} assumed {role}, but it has no member-account role" for role in unexpected]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("fn", sorted(MEMBER_ROLE))
def test_member_role_grants_exactly_what_the_function_uses_there(fn: str, usage: Usage, granted) -> None:  # type: ignore[no-untyped-def]
    calls = usage.of(fn)
    assumed = {role: actions for role, actions in calls.items() if role != "function"}
    if not assumed:
        missing(f"{fn} made no calls through an assumed member-account role in the usage recorded in {usage_dir()}")
    used: dict[str, int] = defaultdict(int)
    for actions in assumed.values():
        for action, n in actions.items():
            used[action] += n
    key, _ = MEMBER_ROLE[fn]
    problems = check((fn, key), used, granted)
    assert not problems, "\n".join(problems)


def test_the_allowlist_only_names_known_roles() -> None:
    known = {(fn, "function") for fn in FUNCTIONS} | {(fn, key) for fn, (key, _) in MEMBER_ROLE.items()} | {(r, "engine") for r in ENGINE_ROLES}
    assert set(NOT_EXERCISED) <= known and set(AWAITING_PROOF) <= known
    for role, actions in [*NOT_EXERCISED.items(), *AWAITING_PROOF.items()]:
        for action, reason in actions.items():
            assert ":" in action and len(reason) > 20, (role, action)
        assert not set(actions) & set(NOT_EXERCISED.get(role, {})) & set(AWAITING_PROOF.get(role, {})), role


def test_awaiting_proof_is_exactly_what_the_organisation_options_add(sam_template: dict, member_template: dict, tf_scratch: support.Terraform, granted) -> None:  # type: ignore[no-untyped-def]
    """AWAITING_PROOF lists only actions the organisation-scale options add to a function's or a
    member role (over every other option on), in both flavours; whether each added action is
    used, or awaiting proof, the usage tests check."""
    cfn = Cfn(sam_template, ALL_OPTIONS_SAM)
    tf = tf_scratch.console("local.iam_actions", variables=ALL_OPTIONS_TF)
    # The member role's SecurityHub option belongs to findings export (proven by its end-to-end
    # tests), not to organisation scale: the baseline has it on, like ALL_OPTIONS for functions.
    member = Cfn(member_template, {"DeploymentAccountId": support.ACCOUNT, "SecurityHub": "true"})
    for flavour, grants in granted.items():
        for role in [(fn, "function") for fn in FUNCTIONS] + [(fn, key) for fn, (key, _) in MEMBER_ROLE.items()]:
            if role[1] == "function":
                before = support.statement_actions(cfn.role_statements(SAM_FUNCTIONS[role[0]].role)) if flavour == "SAM" else set(tf[role[0]])
            else:
                logical_id = MEMBER_ROLE[role[0]][1]
                before = support.statement_actions(
                    [s for p in member.properties(logical_id)["Policies"] for s in support._as_list(p["PolicyDocument"]["Statement"])]
                )
            assert set(AWAITING_PROOF.get(role, {})) <= grants[role] - before, (flavour, role)


def test_the_schedule_role_may_only_start_the_state_machine(sam_template: dict, tf_scratch: support.Terraform) -> None:
    """The role EventBridge starts the org audit with: the emulator runs no schedules, so its one
    call (states:StartExecution, made by EventBridge) is proven from the policy itself, in both
    flavours. The state machine's own role is proven from behaviour, by
    test_org_audit_statemachine.py::test_the_state_machine_role_grants_exactly_what_the_engine_called."""
    granted_by = engine_granted(sam_template, tf_scratch)
    for flavour, roles in granted_by.items():
        assert roles[("org-audit-schedule", "engine")] == {"states:StartExecution"}, flavour
    cfn = Cfn(sam_template, ORG_OPTIONS_SAM[0])
    [statement] = cfn.role_statements("OrgAuditScheduleRole")
    assert statement["Resource"] == support.ResourceRef("OrgAuditStateMachine"), statement



def test_the_auditor_may_list_its_report_bucket_whatever_the_options(sam_template: dict, tf_scratch: support.Terraform) -> None:
    """S3 answers a GetObject of a missing key with 404 only to a caller allowed s3:ListBucket on
    the bucket, and with 403 (AccessDenied) to any other. A scope's first run reads a
    `latest.json` that does not exist yet: without the permission it could not tell that from a
    denied read, would hold its history back, and history would never start. The emulator does
    not enforce IAM (it answers 404 to anyone), so the rule is proven from the policies: with no
    option on, and with every option on, in both flavours, unconditioned, on the report bucket."""
    for sam_options, tf_options in (({}, {}), (ALL_OPTIONS_SAM, ALL_OPTIONS_TF), (ORG_OPTIONS_SAM[0], ORG_OPTIONS_TF[0])):
        cfn = Cfn(sam_template, sam_options)
        [sam] = [s for s in cfn.role_statements(SAM_FUNCTIONS["drift-auditor"].role) if "s3:ListBucket" in support._as_list(s["Action"])]
        assert sam["Resource"] == support.ResourceRef("ReportBucket", "Arn") and "Condition" not in sam, sam
        # Resource ARNs are unknown without state; test_parity matches Terraform's to SAM's.
        expression = '[for s in local.iam_statements["drift-auditor"] : { sid = s.sid, conditions = s.conditions } if contains(s.actions, "s3:ListBucket")]'
        tf = tf_scratch.console(expression, variables=tf_options)
        assert tf == [{"sid": sam["Sid"], "conditions": []}], tf
