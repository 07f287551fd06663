"""SAM and Terraform deploy the same thing.

Both flavours are read the way their tools read them and compared for several sets of inputs
(the defaults, and inputs that switch every optional part on):

* SAM: infra/sam/template.yaml loaded with cfn-lint's YAML loader (intrinsic-function tags), its
  conditions and intrinsic functions evaluated by ``infra_support.Cfn`` for the parameter values;
* Terraform: ``terraform plan`` of the module with the same inputs (``terraform show -json``; the
  provider talks to a local emulator, for ``aws_caller_identity`` only) for resources and their
  attributes, ``terraform console`` for ``local.iam_statements`` and the function environments
  (whose resource-derived values a plan does not know yet), python-hcl2 for the variables.

Compared: each function's IAM statements (Sid, actions, condition operators and keys), the
member-account roles' statements, environment variable names and (input-derived) values,
function settings (runtime, architecture, memory, timeout, tracing, reserved concurrency, log
format and group, key, async failure handling), triggers (the CloudTrail rule's pattern and retry
policy, schedules, the SNS subscription, the allowlist stream mapping and its filter), the tables,
the report bucket, the alarms, and every parameter's default against its variable's default.
With the org audit: the state machine (name, type, role, logging, tracing, the definition file
and its substitutions, and the definition as each tool renders it, compared text for text), its
role and its schedule's role (statements and trust), its log group, the audit schedule's target
switched from the auditor to the state machine, and the member roles' StackSet and instances.
Resource ARNs in the policies are compared after a real apply, in test_terraform_apply.py.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

import pytest

import infra_support as support
from infra_support import FUNCTIONS, SAM_FUNCTIONS, SAM_TO_TF, Cfn, ResourceRef, Scenario

# The same inputs for both flavours. Terraform variable names come from the "SAM: <Parameter>"
# note of each variable's description (and infra/README.md's table, checked below).
SCENARIOS = [
    Scenario("defaults"),
    Scenario(
        "options",
        sam={
            "NamePrefix": "vw-options",
            "DryRun": "true",
            "LogLevel": "debug",
            "UnlistedAction": "reject",
            "RouteTableTag": "team=network",
            "RequesterRoleName": "vpcwarden-requester",
            "SweepSchedule": "rate(10 minutes)",
            "EndpointServiceIds": ["vpce-svc-0123456789abcdef0", "vpce-svc-0fedcba9876543210"],
            "RevokeOnRemoval": "true",
            "SyncPrincipals": "true",
            "AuditSchedule": "cron(30 2 * * ? *)",
            "Remediate": "true",
            "ReportPrefix": "audit/",
            "AuditRoleName": "vpcwarden-audit",  # without AuditAccounts: no cross-account statement
            "AuditRegions": ["eu-west-1", "us-east-1"],
            "SecurityHub": "true",
            "EventBus": "vpcwarden-events",
            "NotificationEmail": "network-team@example.com",
            "NotificationTopicArn": "arn:aws:sns:us-east-1:111122223333:chatbot",
        },
    ),
    Scenario(
        "locked-down",
        sam={
            "Architecture": "x86_64",
            "LogRetentionDays": "30",
            "DeletionProtection": "false",
            "AlarmEmail": "network-team@example.com",
            "OrganizationId": "o-abcdefghij",
            "RouteTableTag": "ignored=when-scoped",
            "ScopeRoutesToManagedTables": "true",
            "RequesterRoleName": "vpcwarden-requester",
            "EndpointServiceIds": ["vpce-svc-0123456789abcdef0"],
            "Remediate": "true",
            "ReportRetentionDays": "90",
            "StalePendingHours": "48",
            "ExpiryWarningDays": "7",
            "AuditAccounts": ["111122223333", "444455556666"],
            "AuditRoleName": "vpcwarden-audit",
            "EventBus": "arn:aws:events:us-east-1:111122223333:event-bus/central",
        },
    ),
    # Organisation scale: the whole organisation, enabled regions, Security Hub, the StackSet.
    Scenario(
        "org-audit",
        sam={
            "NamePrefix": "vw-org",
            "OrgAudit": "true",
            "OrgAuditMaxConcurrency": "25",
            "OrgAuditToleratedFailurePercentage": "5",
            "AuditSchedule": "cron(15 1 * * ? *)",
            "AuditAccounts": ["org"],
            "AuditExcludeAccounts": ["111122223333", "444455556666"],
            "AuditRoleName": "vpcwarden-audit",
            "AuditRegions": ["enabled"],
            "SecurityHub": "true",
            "RequesterRoleName": "vpcwarden-requester",
            "ReportPrefix": "audit/",
            "MemberRoleStackSetOUs": ["ou-ab12-cdefgh34", "ou-ab12-ijklmn56"],
            "MemberRoleStackSetCallAs": "DELEGATED_ADMIN",
        },
    ),
    # OUs (with the organisation id), listed regions, the defaults of the org-audit numbers.
    Scenario(
        "org-ous",
        sam={
            "OrgAudit": "true",
            "OrganizationId": "o-abcdefghij",
            "AuditAccounts": ["ou:ou-ab12-cdefgh34", "ou:ou-cd34-efghij78"],
            "AuditRoleName": "vpcwarden-audit",
            "AuditRegions": ["eu-west-1", "eu-central-1"],
            "Remediate": "true",
            "UnlistedAction": "ask",
            "MemberRoleStackSetOUs": ["ou-ab12-cdefgh34"],
        },
    ),
]
ORG_SCENARIOS = [s for s in SCENARIOS if s.sam.get("OrgAudit") == "true"]
SCENARIO_IDS = [s.name for s in SCENARIOS]

# Environment variables whose value is a created resource: SAM reference -> Terraform attribute.
RESOURCE_ENV = {
    "ALLOWLIST_TABLE": ("AllowlistTable", "aws_dynamodb_table.allowlist.name"),
    "LEDGER_TABLE": ("LedgerTable", "aws_dynamodb_table.ledger.name"),
    "REPORT_BUCKET": ("ReportBucket", "aws_s3_bucket.reports.bucket"),
}


# --------------------------------------------------------------------------- inputs


def sam_to_tf_names(tf_hcl: dict[str, Any]) -> dict[str, str]:
    names = {}
    for var, spec in tf_hcl["variable"].items():
        m = re.search(r"SAM: (\w+)", spec.get("description", ""))
        if m:
            names[m.group(1)] = var
    return names


def tf_value(spec: dict[str, Any], sam_value: Any) -> Any:
    """A SAM parameter value as the Terraform variable's type."""
    kind = str(spec.get("type", "string")).strip("${}")
    if kind == "bool":
        return str(sam_value) == "true"
    if kind == "number":
        return int(sam_value)
    if kind.startswith("list"):
        return list(sam_value)
    return str(sam_value)


def tf_inputs(scenario: Scenario, tf_hcl: dict[str, Any]) -> dict[str, Any]:
    names = sam_to_tf_names(tf_hcl)
    out = {}
    for param, value in scenario.sam.items():
        var = names[param]
        out[var] = tf_value(tf_hcl["variable"][var], value)
    return out


def test_every_parameter_is_a_variable_with_the_same_default(sam_template: dict, tf_hcl: dict) -> None:
    names = sam_to_tf_names(tf_hcl)
    params = sam_template["Parameters"]
    assert sorted(names) == sorted(params), "each Terraform variable notes its SAM parameter ('SAM: Name')"
    for param, var in names.items():
        sam_default = params[param].get("Default")
        tf_default = tf_hcl["variable"][var].get("default")
        if params[param]["Type"] == "CommaDelimitedList":
            sam_default = [] if sam_default == "" else str(sam_default).split(",")
        assert support._scalar(tf_value(tf_hcl["variable"][var], sam_default)) == support._scalar(tf_default), (
            param,
            var,
        )


def test_readme_parameter_table_matches_the_variables(tf_hcl: dict) -> None:
    readme = open(os.path.join(support.INFRA, "README.md")).read()
    rows = re.findall(r"^\| `(\w+)` \| `(\w+)` \|", readme, flags=re.M)
    assert rows, "infra/README.md has the parameter table"
    assert dict(rows) == sam_to_tf_names(tf_hcl)


# --------------------------------------------------------------------------- Terraform evaluation


class Plan:
    """`terraform show -json` of a plan of the module (addresses relative to the module)."""

    def __init__(self, doc: dict[str, Any]) -> None:
        self.values: dict[str, dict[str, Any]] = {}
        prefix = "module.vpcwarden."

        def walk(module: dict[str, Any]) -> None:
            for r in module.get("resources", []):
                if r.get("mode") == "managed":
                    self.values[r["address"].removeprefix(prefix)] = r.get("values", {})
            for child in module.get("child_modules", []):
                walk(child)

        walk(doc["planned_values"]["root_module"])
        self.config = {
            r["address"]: r.get("expressions", {})
            for r in doc["configuration"]["root_module"]["module_calls"]["vpcwarden"]["module"]["resources"]
        }

    def of_type(self, rtype: str) -> dict[str, dict[str, Any]]:
        return {a: v for a, v in self.values.items() if a.startswith(rtype + ".") or a.startswith(rtype + "[")}

    def refs(self, address: str, *path: str) -> list[str]:
        """References of an attribute in the configuration ([] when it is not set)."""
        node: Any = self.config[address]
        for p in path:
            node = (node[0] if isinstance(node, list) and node else node or {}).get(p, {})
        return node.get("references", []) if isinstance(node, dict) else []


CONSOLE = """{
  iam = {for fn, ss in local.iam_statements : fn => [for s in ss : {
    sid = s.sid, actions = s.actions,
    conditions = [for c in s.conditions : {test = c.test, variable = c.variable}]
  }]},
  engine = {for role in keys(local.org_audit_roles) : role => [for s in local.org_audit_iam_statements[role] : {
    sid = s.sid, actions = s.actions,
    conditions = [for c in s.conditions : {test = c.test, variable = c.variable}]
  }]},
  engine_roles = {for role, r in local.org_audit_roles : role => r.name},
  env_names = {for fn, f in local.functions : fn => keys(merge(local.common_environment, f.environment))},
  env = {for fn, f in local.functions : fn => {
    for k, v in merge(local.common_environment, f.environment) : k => v if !contains(%s, k)
  }}
}""" % json.dumps(sorted(RESOURCE_ENV))


@pytest.fixture(scope="module")
def tf_eval(tf_scratch: support.Terraform, tf_hcl: dict, tmp_path_factory: pytest.TempPathFactory):
    """scenario name -> (Plan, console answer) for the module with that scenario's inputs."""
    log = tmp_path_factory.mktemp("emu") / "emulator.log"
    emu = support.EmulatorProcess(str(log))
    zips = os.path.join(tf_scratch.scratch, "zips")
    for fn in FUNCTIONS:
        support.dummy_zip(os.path.join(zips, fn, "bootstrap.zip"))
    cache: dict[str, tuple[Plan, dict[str, Any]]] = {}
    failed: dict[str, str] = {}

    def evaluate(scenario: Scenario) -> tuple[Plan, dict[str, Any]]:
        if scenario.name in cache:
            return cache[scenario.name]
        if scenario.name in failed:  # evaluated once: later tests fail fast with the same reason
            pytest.fail(failed[scenario.name])
        try:
            cache[scenario.name] = _evaluate(scenario)
        except Exception as exc:
            failed[scenario.name] = f"Terraform evaluation of scenario {scenario.name} failed: {exc}"
            raise
        return cache[scenario.name]

    def _evaluate(scenario: Scenario) -> tuple[Plan, dict[str, Any]]:
        inputs = tf_inputs(scenario, tf_hcl)
        rel = f"../plan-{scenario.name}"
        root = tf_scratch.path(rel)
        os.makedirs(root, exist_ok=True)
        args = "\n".join(f"  {k} = {json.dumps(v)}" for k, v in inputs.items())
        with open(os.path.join(root, "main.tf"), "w") as f:
            f.write(support.provider_override(emu.url))
            f.write(
                'terraform {\n  required_providers {\n    aws = { source = "hashicorp/aws" }\n  }\n}\n\n'
                f'module "vpcwarden" {{\n  source        = "../terraform"\n  artifacts_dir = "{zips}"\n{args}\n}}\n'
            )
        tf_scratch.init(rel)
        tf_scratch.run(rel, "plan", "-input=false", "-no-color", "-lock=false", "-refresh=false", "-out=plan.out")
        plan = Plan(json.loads(tf_scratch.run(rel, "show", "-json", "plan.out").stdout))
        console = tf_scratch.console(CONSOLE, variables=inputs)
        return plan, console

    yield evaluate
    emu.stop()


# --------------------------------------------------------------------------- IAM


def conditions_of(statement: dict[str, Any]) -> list[tuple[str, str]]:
    return sorted((op, key) for op, body in statement.get("Condition", {}).items() for key in body)


def sam_iam(cfn: Cfn, role: str) -> dict[str, dict[str, Any]]:
    out = {}
    for s in cfn.role_statements(role):
        assert s["Sid"] not in out, f"duplicate Sid {s['Sid']} in {role}"
        assert s.get("Effect") == "Allow"
        out[s["Sid"]] = {"actions": sorted(support._as_list(s["Action"])), "conditions": conditions_of(s)}
    return out


def tf_iam(statements: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    out = {}
    for s in statements:
        assert s["sid"] not in out, f"duplicate sid {s['sid']}"
        out[s["sid"]] = {
            "actions": sorted(s["actions"]),
            "conditions": sorted((c["test"], c["variable"]) for c in s["conditions"]),
        }
    return out


@pytest.mark.parametrize("scenario", SCENARIOS, ids=SCENARIO_IDS)
def test_iam_statements_match(scenario: Scenario, sam_template: dict, tf_eval) -> None:
    cfn = Cfn(sam_template, scenario.sam)
    _, console = tf_eval(scenario)
    assert sorted(console["iam"]) == sorted(FUNCTIONS)
    for fn in FUNCTIONS:
        sam = sam_iam(cfn, SAM_FUNCTIONS[fn].role)
        tf = tf_iam(console["iam"][fn])
        assert sam == tf, f"{fn}: SAM {json.dumps(sam, indent=1)}\nTerraform {json.dumps(tf, indent=1)}"


@pytest.mark.parametrize("scenario", SCENARIOS, ids=SCENARIO_IDS)
def test_iam_action_sets_match_the_iam_actions_output(scenario: Scenario, sam_template: dict, tf_eval) -> None:
    """`iam_actions` (the module output users read) is what both flavours grant."""
    cfn = Cfn(sam_template, scenario.sam)
    _, console = tf_eval(scenario)
    for fn in FUNCTIONS:
        sam_actions = support.statement_actions(cfn.role_statements(SAM_FUNCTIONS[fn].role))
        tf_actions = {a for s in console["iam"][fn] for a in s["actions"]}
        assert sam_actions == tf_actions, fn


@pytest.mark.parametrize(
    "names",
    [
        {"RequesterRoleName": "vpcwarden-requester", "AuditRoleName": "vpcwarden-audit"},
        {"RequesterRoleName": "", "AuditRoleName": "vpcwarden-audit", "ScopeRoutesToManagedTables": "true", "OrganizationId": "o-abcdefghij"},
        {"RequesterRoleName": "req", "AuditRoleName": ""},
        {"RequesterRoleName": "vpcwarden-requester", "AuditRoleName": "vpcwarden-audit", "SecurityHub": "true"},
    ],
    ids=["both-roles", "audit-only-scoped", "requester-only", "security-hub"],
)
def test_member_roles_match(names: dict[str, str], member_template: dict, tf_scratch: support.Terraform) -> None:
    cfn = Cfn(member_template, {"DeploymentAccountId": support.ACCOUNT, **names})
    tf_vars = {
        "deployment_account_id": support.ACCOUNT,
        "requester_role_name": names["RequesterRoleName"],
        "audit_role_name": names["AuditRoleName"],
        "scope_routes_to_managed_tables": names.get("ScopeRoutesToManagedTables") == "true",
        "organization_id": names.get("OrganizationId", ""),
        "security_hub": names.get("SecurityHub") == "true",
    }
    console = tf_scratch.console(
        "{roles = {for k, r in local.roles : k => r.name}, iam = {for k, ss in local.iam_statements : k => [for s in ss : "
        "{sid = s.sid, actions = s.actions, conditions = [for c in s.conditions : {test = c.test, variable = c.variable}]}]}}",
        rel="modules/member-role",
        variables=tf_vars,
    )
    sam_roles = {"requester": "RequesterRole", "audit": "AuditRole"}
    present = {k for k, lid in sam_roles.items() if lid in cfn.resources()}
    assert present == set(console["roles"])
    for key in present:
        assert cfn.properties(sam_roles[key])["RoleName"] == console["roles"][key]
        [policy] = cfn.properties(sam_roles[key])["Policies"]
        sam = {s["Sid"]: {"actions": sorted(support._as_list(s["Action"])), "conditions": conditions_of(s)} for s in policy["PolicyDocument"]["Statement"]}
        assert sam == tf_iam(console["iam"][key]), key


# --------------------------------------------------------------------------- functions


@pytest.mark.parametrize("scenario", SCENARIOS, ids=SCENARIO_IDS)
def test_environment_matches(scenario: Scenario, sam_template: dict, tf_eval, tf_hcl: dict) -> None:
    cfn = Cfn(sam_template, scenario.sam)
    plan, console = tf_eval(scenario)
    for fn in FUNCTIONS:
        env = cfn.function(SAM_FUNCTIONS[fn].function)["Environment"]["Variables"]
        assert sorted(env) == sorted(console["env_names"][fn]), fn
        for name, value in env.items():
            if name in RESOURCE_ENV:
                sam_ref, tf_attr = RESOURCE_ENV[name]
                assert value == ResourceRef(sam_ref), (fn, name, value)
                continue
            assert str(support._scalar(value)) == console["env"][fn][name], (fn, name)
    # The resource-derived values point at the same resources in Terraform.
    common = tf_hcl["locals"]["common_environment"]
    auditor = tf_hcl["locals"]["functions"]["drift-auditor"]["environment"]
    for name, (_, tf_attr) in RESOURCE_ENV.items():
        assert support.hcl_expr(common.get(name) or auditor.get(name)) == tf_attr, name
    # ... and Terraform names the tables after the prefix (SAM lets CloudFormation name them).
    tables = {v["name"] for v in plan.of_type("aws_dynamodb_table").values()}
    prefix = cfn.params["NamePrefix"]
    assert tables == {f"{prefix}-allowlist", f"{prefix}-ledger"}


def sam_function_settings(cfn: Cfn, fn: str) -> dict[str, Any]:
    f = cfn.function(SAM_FUNCTIONS[fn].function)
    log_group = cfn.properties(SAM_FUNCTIONS[fn].log_group)
    invoke = f["EventInvokeConfig"]
    assert f["LoggingConfig"]["LogGroup"] == ResourceRef(SAM_FUNCTIONS[fn].log_group)
    assert f["Role"] == ResourceRef(SAM_FUNCTIONS[fn].role, "Arn")
    assert f["KmsKeyArn"] == ResourceRef("EncryptionKey", "Arn")
    assert invoke["DestinationConfig"]["OnFailure"] == {"Type": "SQS", "Destination": ResourceRef("FailureQueue", "Arn")}
    role = cfn.properties(SAM_FUNCTIONS[fn].role)
    return {
        "function_name": f["FunctionName"],
        "role_name": role["RoleName"],
        "runtime": f["Runtime"],
        "handler": f["Handler"],
        "architectures": f["Architectures"],
        "memory_size": int(f["MemorySize"]),
        "timeout": int(f["Timeout"]),
        "tracing": f["Tracing"],
        "reserved_concurrency": int(f["ReservedConcurrentExecutions"]),
        "log_format": f["LoggingConfig"]["LogFormat"],
        "log_group": log_group["LogGroupName"],
        "log_retention": int(log_group["RetentionInDays"]),
        "max_event_age": int(invoke["MaximumEventAgeInSeconds"]),
        "max_retries": int(invoke["MaximumRetryAttempts"]),
    }


def tf_function_settings(plan: Plan, fn: str) -> dict[str, Any]:
    f = plan.values[f'aws_lambda_function.this["{fn}"]']
    log_group = plan.values[f'aws_cloudwatch_log_group.function["{fn}"]']
    invoke = plan.values[f'aws_lambda_function_event_invoke_config.this["{fn}"]']
    role = plan.values[f'aws_iam_role.function["{fn}"]']
    assert plan.refs("aws_lambda_function.this", "kms_key_arn")[0] == "aws_kms_key.this.arn"
    assert plan.refs("aws_lambda_function.this", "role")[0] == "aws_iam_role.function"
    assert plan.refs("aws_lambda_function.this", "logging_config", "log_group")[0] == "aws_cloudwatch_log_group.function"
    assert plan.refs("aws_lambda_function_event_invoke_config.this", "destination_config", "on_failure", "destination")[0] == "aws_sqs_queue.failures.arn"
    return {
        "function_name": f["function_name"],
        "role_name": role["name"],
        "runtime": f["runtime"],
        "handler": f["handler"],
        "architectures": f["architectures"],
        "memory_size": f["memory_size"],
        "timeout": f["timeout"],
        "tracing": f["tracing_config"][0]["mode"],
        "reserved_concurrency": f["reserved_concurrent_executions"],
        "log_format": f["logging_config"][0]["log_format"],
        "log_group": f["logging_config"][0]["log_group"],
        "log_retention": log_group["retention_in_days"],
        "max_event_age": invoke["maximum_event_age_in_seconds"],
        "max_retries": invoke["maximum_retry_attempts"],
    }


@pytest.mark.parametrize("scenario", SCENARIOS, ids=SCENARIO_IDS)
def test_function_settings_match(scenario: Scenario, sam_template: dict, tf_eval) -> None:
    cfn = Cfn(sam_template, scenario.sam)
    plan, _ = tf_eval(scenario)
    assert sorted(plan.of_type("aws_lambda_function")) == sorted(f'aws_lambda_function.this["{fn}"]' for fn in FUNCTIONS)
    for fn in FUNCTIONS:
        sam = sam_function_settings(cfn, fn)
        tf = tf_function_settings(plan, fn)
        assert sam == tf, fn


def test_defaults_are_the_documented_ones(sam_template: dict, tf_eval) -> None:
    """arm64, 128 MB / 120 s for the acceptor and the approver, 512 MB / 600 s for the auditor."""
    plan, _ = tf_eval(SCENARIOS[0])
    cfn = Cfn(sam_template)
    expected = {"peering-acceptor": (128, 120), "endpoint-approver": (128, 120), "drift-auditor": (512, 600)}
    for fn, (memory, timeout) in expected.items():
        for settings in (sam_function_settings(cfn, fn), tf_function_settings(plan, fn)):
            assert (settings["memory_size"], settings["timeout"]) == (memory, timeout), fn
            assert settings["architectures"] == ["arm64"]
            assert settings["runtime"] == "provided.al2023"
            assert settings["reserved_concurrency"] == 1


# --------------------------------------------------------------------------- triggers


def sam_triggers(cfn: Cfn) -> dict[str, dict[str, list[Any]]]:
    out: dict[str, dict[str, list[Any]]] = {}
    for fn in FUNCTIONS:
        events = cfn.function(SAM_FUNCTIONS[fn].function).get("Events", {})
        t: dict[str, list[Any]] = {"eventbridge": [], "schedule": [], "sns": [], "dynamodb": []}
        for ev in events.values():
            p = ev["Properties"]
            if ev["Type"] == "EventBridgeRule":
                retry = p.get("RetryPolicy", {})
                t["eventbridge"].append(
                    {
                        "pattern": p["Pattern"],
                        "max_retries": retry.get("MaximumRetryAttempts"),
                        "max_age": retry.get("MaximumEventAgeInSeconds"),
                    }
                )
            elif ev["Type"] == "Schedule":
                t["schedule"].append({"expression": p["Schedule"], "description": p.get("Description")})
            elif ev["Type"] == "SNS":
                t["sns"].append(p["Topic"].logical_id)
            elif ev["Type"] == "DynamoDB":
                t["dynamodb"].append(
                    {
                        "stream": str(p["Stream"]),
                        "starting_position": p["StartingPosition"],
                        "batch_size": p["BatchSize"],
                        "window": p["MaximumBatchingWindowInSeconds"],
                        "bisect": p["BisectBatchOnFunctionError"],
                        "response_types": p.get("FunctionResponseTypes", []),
                        "retries": p["MaximumRetryAttempts"],
                        "max_age": p["MaximumRecordAgeInSeconds"],
                        "filters": [json.loads(flt["Pattern"]) for flt in p["FilterCriteria"]["Filters"]],
                        "on_failure": str(p["DestinationConfig"]["OnFailure"]["Destination"]),
                    }
                )
            else:
                raise AssertionError(f"{fn}: unexpected event type {ev['Type']}")
        out[fn] = t
    # Schedules declared as rules (the auditor's: conditional on OrgAudit, which a SAM event cannot be).
    for lid, res in cfn.resources().items():
        if res["Type"] != "AWS::Events::Rule" or "ScheduleExpression" not in res["Properties"]:
            continue
        rule = cfn.properties(lid)
        [target] = rule["Targets"]
        functions = [fn for fn in FUNCTIONS if target["Arn"] == ResourceRef(SAM_FUNCTIONS[fn].function, "Arn")]
        if not functions:
            continue  # the org-audit schedule: test_audit_schedule_starts_the_state_machine_with_org_audit
        [fn] = functions
        permissions = [
            cfn.properties(p)
            for p, r in cfn.resources().items()
            if r["Type"] == "AWS::Lambda::Permission" and cfn.properties(p).get("SourceArn") == ResourceRef(lid, "Arn")
        ]
        assert [(x["Principal"], x["FunctionName"]) for x in permissions] == [("events.amazonaws.com", ResourceRef(SAM_FUNCTIONS[fn].function))], lid
        out[fn]["schedule"].append({"expression": rule["ScheduleExpression"], "description": rule.get("Description")})
    return out


def function_of(refs: list[str]) -> str:
    m = re.match(r'aws_lambda_function\.this\["([a-z-]+)"\]', refs[0])
    assert m, refs
    return m.group(1)


def tf_triggers(plan: Plan) -> dict[str, dict[str, list[Any]]]:
    out = {fn: {"eventbridge": [], "schedule": [], "sns": [], "dynamodb": []} for fn in FUNCTIONS}
    tf_to_sam = {v: k for k, v in SAM_TO_TF.items()}
    rule = plan.values["aws_cloudwatch_event_rule.peering_api_calls"]
    target = plan.values["aws_cloudwatch_event_target.peering_api_calls"]
    fn = function_of(plan.refs("aws_cloudwatch_event_target.peering_api_calls", "arn"))
    out[fn]["eventbridge"].append(
        {
            "pattern": json.loads(rule["event_pattern"]),
            "max_retries": target["retry_policy"][0]["maximum_retry_attempts"],
            "max_age": target["retry_policy"][0]["maximum_event_age_in_seconds"],
        }
    )
    assert plan.refs("aws_cloudwatch_event_target.schedule", "arn") == ["aws_lambda_function.this", "each.key"]
    for address, r in plan.of_type("aws_cloudwatch_event_rule").items():
        m = re.match(r'aws_cloudwatch_event_rule\.schedule\["([a-z-]+)"\]', address)
        if m:
            out[m.group(1)]["schedule"].append({"expression": r["schedule_expression"], "description": r["description"]})
    for address in plan.of_type("aws_sns_topic_subscription"):
        if address.startswith(("aws_sns_topic_subscription.alarm_email", "aws_sns_topic_subscription.notification_email")):
            continue
        sub = plan.values[address]
        assert sub["protocol"] == "lambda"
        fn = function_of(plan.refs(address, "endpoint"))
        topic = plan.refs(address, "topic_arn")[1]
        out[fn]["sns"].append(tf_to_sam[topic])
    for address, m in plan.of_type("aws_lambda_event_source_mapping").items():
        fn = function_of(plan.refs(address, "function_name"))
        stream = plan.refs(address, "event_source_arn")[0]
        dest = plan.refs(address, "destination_config", "on_failure", "destination_arn")[0]
        assert stream == "aws_dynamodb_table.allowlist.stream_arn" and dest == "aws_sqs_queue.failures.arn"
        out[fn]["dynamodb"].append(
            {
                "stream": str(ResourceRef("AllowlistTable", "StreamArn")),
                "starting_position": m["starting_position"],
                "batch_size": m["batch_size"],
                "window": m["maximum_batching_window_in_seconds"],
                "bisect": m["bisect_batch_on_function_error"],
                "response_types": m.get("function_response_types") or [],
                "retries": m["maximum_retry_attempts"],
                "max_age": m["maximum_record_age_in_seconds"],
                "filters": [json.loads(f["pattern"]) for f in m["filter_criteria"][0]["filter"]],
                "on_failure": str(ResourceRef("FailureQueue", "Arn")),
            }
        )
    return out


@pytest.mark.parametrize("scenario", SCENARIOS, ids=SCENARIO_IDS)
def test_triggers_and_schedules_match(scenario: Scenario, sam_template: dict, tf_eval) -> None:
    cfn = Cfn(sam_template, scenario.sam)
    plan, _ = tf_eval(scenario)
    sam, tf = sam_triggers(cfn), tf_triggers(plan)
    assert sam == tf
    # The allowlist stream's answers name the record to retry from (partial batch responses).
    assert [d["response_types"] for d in sam["endpoint-approver"]["dynamodb"]] == [["ReportBatchItemFailures"]]
    assert [d["response_types"] for d in sam["peering-acceptor"]["dynamodb"]] == [["ReportBatchItemFailures"]]
    assert [d["filters"] for d in sam["peering-acceptor"]["dynamodb"]] == [
        [{"dynamodb": {"Keys": {"pk": {"S": [{"prefix": "peering#"}]}}}}]
    ]
    # Every trigger may invoke its function, and only from its own source.
    permissions = plan.of_type("aws_lambda_permission")
    principals = sorted(p["principal"] for p in permissions.values())
    expected = sorted(
        ["events.amazonaws.com"] * sum(len(t["eventbridge"]) + len(t["schedule"]) for t in tf.values())
        + ["sns.amazonaws.com"] * sum(len(t["sns"]) for t in tf.values())
    )
    assert principals == expected
    for address in permissions:
        assert plan.refs(address.split("[")[0], "source_arn"), f"{address} is limited by SourceArn"


# The notification rules: Terraform key -> SAM logical id.
NOTIFICATION_RULES = {
    "approval-requested": "NotifyApprovalRequestedRule",
    "finding-opened": "NotifyFindingOpenedRule",
    "decision-refused": "NotifyDecisionRefusedRule",
}


def _target(target_id: str, paths: dict[str, str], template: str) -> tuple[str, str, str]:
    return (target_id, json.dumps(paths, sort_keys=True), template)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=SCENARIO_IDS)
def test_notifications_match(scenario: Scenario, sam_template: dict, tf_eval) -> None:
    cfn = Cfn(sam_template, scenario.sam)
    plan, _ = tf_eval(scenario)
    sam: dict[str, Any] = {}
    for key, lid in NOTIFICATION_RULES.items():
        if lid not in cfn.resources():
            continue
        p = cfn.properties(lid)
        targets = sorted(
            _target(t["Id"], t["InputTransformer"]["InputPathsMap"], t["InputTransformer"]["InputTemplate"])
            for t in p["Targets"]
        )
        sam[key] = {"bus": p["EventBusName"], "pattern": json.loads(p["EventPattern"]), "description": p["Description"], "targets": targets}
    tf: dict[str, Any] = {}
    for address, r in plan.of_type("aws_cloudwatch_event_rule").items():
        m = re.match(r'aws_cloudwatch_event_rule\.notifications\["([a-z-]+)"\]', address)
        if not m:
            continue
        targets = []
        for kind in ("notifications", "notifications_chat"):
            t = plan.values.get(f'aws_cloudwatch_event_target.{kind}["{m.group(1)}"]')
            if t:
                it = t["input_transformer"][0]
                targets.append(_target(t["target_id"], it["input_paths"], it["input_template"]))
        tf[m.group(1)] = {"bus": r["event_bus_name"], "pattern": json.loads(r["event_pattern"]), "description": r["description"], "targets": sorted(targets)}
    assert sam == tf
    on = bool(scenario.sam.get("EventBus")) and bool(scenario.sam.get("NotificationEmail") or scenario.sam.get("NotificationTopicArn"))
    assert set(sam) == (set(NOTIFICATION_RULES) if on else set())
    topics = [a for a in plan.values if a.startswith("aws_sns_topic.notifications")]
    assert (len(topics) == 1) == on and (("NotificationTopic" in cfn.resources()) == on)
    if on:
        assert plan.refs("aws_sns_topic.notifications", "kms_master_key_id")[0] == "aws_kms_key.this.arn"
        assert cfn.properties("NotificationTopic")["KmsMasterKeyId"] == ResourceRef("EncryptionKey")


def test_schedules_are_rate_or_cron_expressions(sam_template: dict) -> None:
    cfn = Cfn(sam_template)
    for fn, t in sam_triggers(cfn).items():
        for s in t["schedule"]:
            assert re.fullmatch(r"rate\(\d+ (minute|minutes|hour|hours|day|days)\)|cron\(\S+ \S+ \S+ \S+ \S+ \S+\)", s["expression"]), (fn, s)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=SCENARIO_IDS)
def test_connection_notifications_match(scenario: Scenario, sam_template: dict, tf_eval) -> None:
    cfn = Cfn(sam_template, scenario.sam)
    plan, _ = tf_eval(scenario)
    sam = sorted(
        cfn.properties(lid)["ServiceId"]
        for lid, r in cfn.resources().items()
        if r["Type"] == "AWS::EC2::VPCEndpointConnectionNotification"
    )
    tf = sorted(n["vpc_endpoint_service_id"] for n in plan.of_type("aws_vpc_endpoint_connection_notification").values())
    assert sam == tf == sorted(cfn.params["EndpointServiceIds"])
    for n in plan.of_type("aws_vpc_endpoint_connection_notification").values():
        assert sorted(n["connection_events"]) == ["Accept", "Connect", "Delete", "Reject"]


# --------------------------------------------------------------------------- state and alarms


@pytest.mark.parametrize("scenario", SCENARIOS, ids=SCENARIO_IDS)
def test_tables_match(scenario: Scenario, sam_template: dict, tf_eval) -> None:
    cfn = Cfn(sam_template, scenario.sam)
    plan, _ = tf_eval(scenario)
    for sam_id, tf_addr in (("AllowlistTable", "aws_dynamodb_table.allowlist"), ("LedgerTable", "aws_dynamodb_table.ledger")):
        s, t = cfn.properties(sam_id), plan.values[tf_addr]
        keys = {k["KeyType"]: k["AttributeName"] for k in s["KeySchema"]}
        assert (keys["HASH"], keys.get("RANGE")) == (t["hash_key"], t["range_key"]) == ("pk", "sk")
        assert sorted((a["AttributeName"], a["AttributeType"]) for a in s["AttributeDefinitions"]) == sorted(
            (a["name"], a["type"]) for a in t["attribute"]
        )
        assert s["BillingMode"] == t["billing_mode"] == "PAY_PER_REQUEST"
        assert s["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is t["point_in_time_recovery"][0]["enabled"] is True
        assert s["SSESpecification"]["SSEEnabled"] is t["server_side_encryption"][0]["enabled"] is True
        assert s["DeletionProtectionEnabled"] == t["deletion_protection_enabled"]
        ttl = s.get("TimeToLiveSpecification")
        tf_ttl = [x for x in t.get("ttl", []) if x.get("enabled")]
        assert (ttl["AttributeName"] if ttl else None) == (tf_ttl[0]["attribute_name"] if tf_ttl else None)
        stream = s.get("StreamSpecification", {}).get("StreamViewType")
        assert stream == (t["stream_view_type"] if t.get("stream_enabled") else None)
    assert cfn.properties("AllowlistTable")["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert cfn.properties("AllowlistTable")["TimeToLiveSpecification"]["AttributeName"] == "expires_at"


@pytest.mark.parametrize("scenario", SCENARIOS, ids=SCENARIO_IDS)
def test_report_bucket_matches(scenario: Scenario, sam_template: dict, tf_eval) -> None:
    cfn = Cfn(sam_template, scenario.sam)
    plan, _ = tf_eval(scenario)
    s = cfn.properties("ReportBucket")
    block = plan.values["aws_s3_bucket_public_access_block.reports"]
    assert all(s["PublicAccessBlockConfiguration"].values())
    assert all(block[k] for k in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"))
    assert s["VersioningConfiguration"]["Status"] == plan.values["aws_s3_bucket_versioning.reports"]["versioning_configuration"][0]["status"] == "Enabled"
    assert s["OwnershipControls"]["Rules"][0]["ObjectOwnership"] == plan.values["aws_s3_bucket_ownership_controls.reports"]["rule"][0]["object_ownership"]
    sse = plan.values["aws_s3_bucket_server_side_encryption_configuration.reports"]["rule"][0]
    assert sse["apply_server_side_encryption_by_default"][0]["sse_algorithm"] == "aws:kms"
    assert s["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    sam_rules = {r["Id"]: r for r in s["LifecycleConfiguration"]["Rules"]}
    tf_rules = {r["id"]: r for r in plan.values["aws_s3_bucket_lifecycle_configuration.reports"]["rule"]}
    assert sorted(sam_rules) == sorted(tf_rules)
    expire_sam, expire_tf = sam_rules["expire-old-reports"], tf_rules["expire-old-reports"]
    assert expire_sam["Prefix"] == expire_tf["filter"][0]["prefix"] == cfn.params["ReportPrefix"]
    assert int(expire_sam["ExpirationInDays"]) == expire_tf["expiration"][0]["days"]
    assert expire_sam["NoncurrentVersionExpiration"]["NoncurrentDays"] == expire_tf["noncurrent_version_expiration"][0]["noncurrent_days"]
    assert s["NotificationConfiguration"]["EventBridgeConfiguration"]["EventBridgeEnabled"] is True
    assert plan.values["aws_s3_bucket_notification.reports"]["eventbridge"] is True
    policy = cfn.properties("ReportBucketPolicy")["PolicyDocument"]["Statement"]
    assert [(p["Sid"], p["Effect"], p["Condition"]) for p in policy] == [
        ("DenyInsecureTransport", "Deny", {"Bool": {"aws:SecureTransport": "false"}})
    ]
    abort_sam, abort_tf = sam_rules["abort-incomplete-uploads"], tf_rules["abort-incomplete-uploads"]
    assert abort_sam["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"] == abort_tf["abort_incomplete_multipart_upload"][0]["days_after_initiation"]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=SCENARIO_IDS)
def test_alarms_match(scenario: Scenario, sam_template: dict, tf_eval) -> None:
    cfn = Cfn(sam_template, scenario.sam)
    plan, _ = tf_eval(scenario)

    def shape(name, namespace, metric, stat, period, threshold, op, ok):  # type: ignore[no-untyped-def]
        return (name, namespace, metric, stat, int(period), float(threshold), op, ok)

    sam = sorted(
        shape(p["AlarmName"], p["Namespace"], p["MetricName"], p["Statistic"], p["Period"], p["Threshold"], p["ComparisonOperator"], bool(p.get("OKActions")))
        for lid, r in cfn.resources().items()
        if r["Type"] == "AWS::CloudWatch::Alarm"
        for p in [cfn.properties(lid)]
    )
    # Topic ARNs are unknown in a plan: whether OK actions are set is read from the configuration.
    tf = sorted(
        shape(a["alarm_name"], a["namespace"], a["metric_name"], a["statistic"], a["period"], a["threshold"], a["comparison_operator"], bool(plan.refs(addr.split("[")[0], "ok_actions")))
        for addr, a in plan.of_type("aws_cloudwatch_metric_alarm").items()
    )
    assert sam == tf
    for addr in plan.of_type("aws_cloudwatch_metric_alarm"):
        assert "aws_sns_topic.alarms.arn" in plan.refs(addr.split("[")[0], "alarm_actions"), addr
    for lid, r in cfn.resources().items():
        if r["Type"] == "AWS::CloudWatch::Alarm":
            assert cfn.properties(lid)["AlarmActions"] == [ResourceRef("AlarmTopic")], lid
    email_sam = "AlarmEmailSubscription" in cfn.resources()
    assert email_sam == ("aws_sns_topic_subscription.alarm_email[0]" in plan.values) == bool(cfn.params["AlarmEmail"])


# --------------------------------------------------------------------------- organisation scale

ORG_AUDIT_SAM = {
    "OrgAuditStateMachine": "aws_sfn_state_machine.org_audit[0]",
    "OrgAuditRole": 'aws_iam_role.org_audit["org-audit"]',
    "OrgAuditScheduleRole": 'aws_iam_role.org_audit["org-audit-schedule"]',
    "OrgAuditLogGroup": "aws_cloudwatch_log_group.org_audit[0]",
    "OrgAuditSchedule": "aws_cloudwatch_event_rule.org_audit[0]",
    "OrgAuditFailedAlarm": 'aws_cloudwatch_metric_alarm.org_audit["failed"]',
    "OrgAuditTimedOutAlarm": 'aws_cloudwatch_metric_alarm.org_audit["timed-out"]',
}
ORG_SCENARIO_IDS = [s.name for s in ORG_SCENARIOS]


def tf_number(scenario: Scenario, tf_hcl: dict[str, Any], var: str) -> Any:
    return tf_inputs(scenario, tf_hcl).get(var, tf_hcl["variable"][var]["default"])


@pytest.mark.parametrize("scenario", SCENARIOS, ids=SCENARIO_IDS)
def test_org_audit_resources_exist_in_both_or_neither(scenario: Scenario, sam_template: dict, tf_eval) -> None:
    cfn = Cfn(sam_template, scenario.sam)
    plan, console = tf_eval(scenario)
    on = cfn.params["OrgAudit"] == "true"
    sam = {lid for lid in ORG_AUDIT_SAM if lid in cfn.resources()}
    tf = {addr for addr in ORG_AUDIT_SAM.values() if addr in plan.values}
    assert sam == (set(ORG_AUDIT_SAM) if on else set())
    assert tf == (set(ORG_AUDIT_SAM.values()) if on else set())
    assert sorted(console["engine_roles"]) == (["org-audit", "org-audit-schedule"] if on else [])
    assert cfn.template["Outputs"]["OrgAuditStateMachineArn"]["Condition"] == "OrgAuditOn"


@pytest.mark.parametrize("scenario", ORG_SCENARIOS, ids=ORG_SCENARIO_IDS)
def test_state_machine_matches(scenario: Scenario, sam_template: dict, tf_eval) -> None:
    cfn = Cfn(sam_template, scenario.sam)
    plan, console = tf_eval(scenario)
    prefix = cfn.params["NamePrefix"]
    sm, t = cfn.properties("OrgAuditStateMachine"), plan.values["aws_sfn_state_machine.org_audit[0]"]
    assert sm["Name"] == t["name"] == f"{prefix}-org-audit"
    assert sm["Type"] == t["type"] == "STANDARD"
    assert sm["Role"] == ResourceRef("OrgAuditRole", "Arn")
    assert plan.refs("aws_sfn_state_machine.org_audit", "role_arn")[0] == 'aws_iam_role.org_audit["org-audit"].arn'
    [log] = t["logging_configuration"]
    assert (sm["Logging"]["Level"], sm["Logging"]["IncludeExecutionData"]) == (log["level"], log["include_execution_data"]) == ("ALL", True)
    [destination] = sm["Logging"]["Destinations"]
    assert destination == {"CloudWatchLogsLogGroup": {"LogGroupArn": ResourceRef("OrgAuditLogGroup", "Arn")}}
    assert plan.refs("aws_sfn_state_machine.org_audit", "logging_configuration", "log_destination")[0] == "aws_cloudwatch_log_group.org_audit[0].arn"
    assert sm["Tracing"] == {"Enabled": True} and t["tracing_configuration"] == [{"enabled": True}]
    # Its log group: encrypted with the key, the functions' retention, the vended-logs prefix the
    # key policy admits.
    lg, tlg = cfn.properties("OrgAuditLogGroup"), plan.values["aws_cloudwatch_log_group.org_audit[0]"]
    assert lg["LogGroupName"] == tlg["name"] == f"/aws/vendedlogs/states/{prefix}-org-audit"
    assert int(lg["RetentionInDays"]) == tlg["retention_in_days"] == int(cfn.params["LogRetentionDays"])
    assert lg["KmsKeyId"] == ResourceRef("EncryptionKey", "Arn")
    assert plan.refs("aws_cloudwatch_log_group.org_audit", "kms_key_id")[0] == "aws_kms_key.this.arn"
    key_policy = cfn.properties("EncryptionKey")["KeyPolicy"]["Statement"]
    [logs] = [st for st in key_policy if st["Sid"] == "CloudWatchLogs"]
    patterns = logs["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"]
    assert any(p.endswith(f":log-group:/aws/vendedlogs/states/{prefix}-*") for p in patterns)
    # The auditor may run as many scopes at once as the Map starts.
    assert int(cfn.function("DriftAuditorFunction")["ReservedConcurrentExecutions"]) == int(cfn.params["OrgAuditMaxConcurrency"])
    assert plan.values['aws_lambda_function.this["drift-auditor"]']["reserved_concurrent_executions"] == int(cfn.params["OrgAuditMaxConcurrency"])


@pytest.mark.parametrize("scenario", ORG_SCENARIOS, ids=ORG_SCENARIO_IDS)
def test_the_definition_is_the_same_file_rendered_to_the_same_text(scenario: Scenario, sam_template: dict, tf_hcl: dict, terraform_bin: str) -> None:
    """SAM's DefinitionUri and Terraform's templatefile name the same file; both give it the four
    variables from the same things; rendered with this scenario's numbers (SAM passes them as
    text, Terraform as numbers) and the same function ARN and bucket, the texts are identical."""
    cfn = Cfn(sam_template, scenario.sam)
    sm = cfn.properties("OrgAuditStateMachine")
    assert os.path.normpath(os.path.join(os.path.dirname(support.SAM_TEMPLATE), sm["DefinitionUri"])) == support.ASL_FILE
    subs = sm["DefinitionSubstitutions"]
    assert sorted(subs) == sorted(support.ASL_VARIABLES)
    assert subs["DriftAuditorFunctionArn"] == ResourceRef("DriftAuditorFunction", "Arn")
    assert subs["ReportBucket"] == ResourceRef("ReportBucket")

    assert tf_hcl["resource"]["aws_sfn_state_machine"]["org_audit"]["definition"] == "${local.org_audit_definition}"
    expression = tf_hcl["locals"]["org_audit_definition"]
    m = re.fullmatch(r'\$\{var\.org_audit \? templatefile\("\$\{path\.module\}/([^"]+)", \{(.*)\}\) : null\}', expression)
    assert m, expression
    assert os.path.normpath(os.path.join(support.TF_DIR, m.group(1))) == support.ASL_FILE
    assert dict(re.findall(r"(\w+) = ([^,]+)", m.group(2))) == {
        "DriftAuditorFunctionArn": 'aws_lambda_function.this["drift-auditor"].arn',
        "ReportBucket": "aws_s3_bucket.reports.bucket",
        "MaxConcurrency": "var.org_audit_max_concurrency",
        "ToleratedFailurePercentage": "var.org_audit_tolerated_failure_percentage",
    }

    sample = {
        "DriftAuditorFunctionArn": f"arn:aws:lambda:{support.REGION}:{support.ACCOUNT}:function:{cfn.params['NamePrefix']}-drift-auditor",
        "ReportBucket": "vpcwarden-reports-20260101000000000000000001",
    }
    sam_text = support.render_asl({**sample, "MaxConcurrency": subs["MaxConcurrency"], "ToleratedFailurePercentage": subs["ToleratedFailurePercentage"]})
    tf_text = support.render_asl_with_terraform(
        {
            **sample,
            "MaxConcurrency": tf_number(scenario, tf_hcl, "org_audit_max_concurrency"),
            "ToleratedFailurePercentage": tf_number(scenario, tf_hcl, "org_audit_tolerated_failure_percentage"),
        }
    )
    assert sam_text == tf_text
    audit_scopes = json.loads(sam_text)["States"]["AuditScopes"]
    assert audit_scopes["MaxConcurrency"] == int(cfn.params["OrgAuditMaxConcurrency"])
    assert audit_scopes["ToleratedFailurePercentage"] == int(cfn.params["OrgAuditToleratedFailurePercentage"])


@pytest.mark.parametrize("scenario", ORG_SCENARIOS, ids=ORG_SCENARIO_IDS)
def test_org_audit_roles_match(scenario: Scenario, sam_template: dict, tf_eval) -> None:
    cfn = Cfn(sam_template, scenario.sam)
    plan, console = tf_eval(scenario)
    prefix = cfn.params["NamePrefix"]
    for sam_role, tf_role, name, service in (
        ("OrgAuditRole", "org-audit", f"{prefix}-org-audit", "states.amazonaws.com"),
        ("OrgAuditScheduleRole", "org-audit-schedule", f"{prefix}-org-audit-schedule", "events.amazonaws.com"),
    ):
        sam, tf = sam_iam(cfn, sam_role), tf_iam(console["engine"][tf_role])
        assert sam == tf, f"{tf_role}: SAM {json.dumps(sam, indent=1)}\nTerraform {json.dumps(tf, indent=1)}"
        assert cfn.properties(sam_role)["RoleName"] == console["engine_roles"][tf_role] == name
        [sam_trust] = cfn.properties(sam_role)["AssumeRolePolicyDocument"]["Statement"]
        [tf_trust] = json.loads(plan.values[f'aws_iam_role.org_audit["{tf_role}"]']["assume_role_policy"])["Statement"]
        for trust in (sam_trust, tf_trust):
            assert trust["Principal"] == {"Service": service} and trust["Action"] == "sts:AssumeRole"
            assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": support.ACCOUNT}}
    # The state machine role invokes exactly the auditor and reaches only the run prefix.
    statements = {st["Sid"]: st for st in cfn.role_statements("OrgAuditRole")}
    assert statements["InvokeAuditor"]["Resource"] == ResourceRef("DriftAuditorFunction", "Arn")
    assert statements["RunData"]["Resource"] == f"{{ReportBucket.Arn}}/{cfn.params['ReportPrefix']}runs/*"
    assert statements["ChildExecutions"]["Resource"].endswith(f":stateMachine:{prefix}-org-audit")
    assert sorted(statements["ChildExecutionStatus"]["Resource"]) == sorted(
        [f"arn:aws:states:{support.REGION}:{support.ACCOUNT}:execution:{prefix}-org-audit:*", f"arn:aws:states:{support.REGION}:{support.ACCOUNT}:execution:{prefix}-org-audit/AuditScopes:*"]
    )
    assert cfn.role_statements("OrgAuditScheduleRole")[0]["Resource"] == ResourceRef("OrgAuditStateMachine")
    assert "AuditScopes" == json.loads(support.render_asl({v: 1 for v in support.ASL_VARIABLES}))["States"]["AuditScopes"]["Label"]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=SCENARIO_IDS)
def test_audit_schedule_starts_the_state_machine_with_org_audit(scenario: Scenario, sam_template: dict, tf_eval) -> None:
    """With the org audit the schedule starts the state machine ({}), through its own role, and the
    auditor has no schedule of its own; without it, the reverse."""
    cfn = Cfn(sam_template, scenario.sam)
    plan, _ = tf_eval(scenario)
    on = cfn.params["OrgAudit"] == "true"
    resources = cfn.resources()
    assert ("DriftAuditorFunctionNightly" in resources) == ('aws_cloudwatch_event_rule.schedule["drift-auditor"]' in plan.values) == (not on)
    assert ("DriftAuditorFunctionNightlyPermission" in resources) == ('aws_lambda_permission.schedule["drift-auditor"]' in plan.values) == (not on)
    if not on:
        return
    rule = cfn.properties("OrgAuditSchedule")
    [target] = rule["Targets"]
    assert target["Arn"] == ResourceRef("OrgAuditStateMachine")
    assert target["RoleArn"] == ResourceRef("OrgAuditScheduleRole", "Arn")
    tf_rule, tf_target = plan.values["aws_cloudwatch_event_rule.org_audit[0]"], plan.values["aws_cloudwatch_event_target.org_audit[0]"]
    assert rule["ScheduleExpression"] == tf_rule["schedule_expression"] == cfn.params["AuditSchedule"]
    assert rule["Description"] == tf_rule["description"]
    assert json.loads(target["Input"]) == json.loads(tf_target["input"]) == {}
    assert plan.refs("aws_cloudwatch_event_target.org_audit", "arn")[0] == "aws_sfn_state_machine.org_audit[0].arn"
    assert plan.refs("aws_cloudwatch_event_target.org_audit", "role_arn")[0] == 'aws_iam_role.org_audit["org-audit-schedule"].arn'
    for alarm in ("OrgAuditFailedAlarm", "OrgAuditTimedOutAlarm"):
        assert cfn.properties(alarm)["Dimensions"] == [{"Name": "StateMachineArn", "Value": ResourceRef("OrgAuditStateMachine")}]
    assert plan.refs("aws_cloudwatch_metric_alarm.org_audit", "dimensions")[0] == "aws_sfn_state_machine.org_audit[0].arn"


@pytest.mark.parametrize("scenario", SCENARIOS, ids=SCENARIO_IDS)
def test_member_role_stack_set_matches(scenario: Scenario, sam_template: dict, member_template: dict, tf_eval) -> None:
    cfn = Cfn(sam_template, scenario.sam)
    plan, _ = tf_eval(scenario)
    sam_on = "MemberRoleStackSet" in cfn.resources()
    tf_on = "aws_cloudformation_stack_set.member_roles[0]" in plan.values
    assert sam_on == tf_on == bool(cfn.params["MemberRoleStackSetOUs"])
    if not sam_on:
        assert not plan.of_type("aws_cloudformation_stack_set_instance")
        return
    s, t = cfn.properties("MemberRoleStackSet"), plan.values["aws_cloudformation_stack_set.member_roles[0]"]
    assert s["StackSetName"] == t["name"] == f"{cfn.params['NamePrefix']}-member-roles"
    assert s["PermissionModel"] == t["permission_model"] == "SERVICE_MANAGED"
    assert s["CallAs"] == t["call_as"] == cfn.params["MemberRoleStackSetCallAs"]
    assert s["Capabilities"] == sorted(t["capabilities"]) == ["CAPABILITY_NAMED_IAM"]
    assert s["AutoDeployment"] == {"Enabled": True, "RetainStacksOnAccountRemoval": False}
    assert t["auto_deployment"] == [{"enabled": True, "retain_stacks_on_account_removal": False}]
    assert s["ManagedExecution"] == {"Active": True} and t["managed_execution"] == [{"active": True}]
    prefs = {"FailureTolerancePercentage": 10, "MaxConcurrentPercentage": 25, "RegionConcurrencyType": "PARALLEL"}
    assert s["OperationPreferences"] == prefs
    tf_prefs = t["operation_preferences"][0]
    assert (tf_prefs["failure_tolerance_percentage"], tf_prefs["max_concurrent_percentage"], tf_prefs["region_concurrency_type"]) == tuple(prefs.values())
    # The template: member-role.yaml in both (SAM packages the local TemplateURL; Terraform reads the file).
    assert os.path.normpath(os.path.join(os.path.dirname(support.SAM_TEMPLATE), s["TemplateURL"])) == support.SAM_MEMBER_TEMPLATE
    with open(support.SAM_MEMBER_TEMPLATE) as f:
        assert t["template_body"] == f.read()
    # The same parameter values, each a parameter of the member template.
    sam_params = {p["ParameterKey"]: str(p["ParameterValue"]) for p in s["Parameters"]}
    assert sam_params == t["parameters"]
    assert set(sam_params) <= set(member_template["Parameters"])
    assert sam_params["DeploymentAccountId"] == support.ACCOUNT
    assert sam_params["DeploymentNamePrefix"] == cfn.params["NamePrefix"]
    # One instance per OU, in this region only (IAM is global).
    [group] = s["StackInstancesGroup"]
    sam_instances = {(ou, r) for ou in group["DeploymentTargets"]["OrganizationalUnitIds"] for r in group["Regions"]}
    tf_instances = {
        (ou, i["region"]) for i in plan.of_type("aws_cloudformation_stack_set_instance").values() for ou in i["deployment_targets"][0]["organizational_unit_ids"]
    }
    assert sam_instances == tf_instances == {(ou, support.REGION) for ou in cfn.params["MemberRoleStackSetOUs"]}
    for i in plan.of_type("aws_cloudformation_stack_set_instance").values():
        assert i["call_as"] == cfn.params["MemberRoleStackSetCallAs"]
