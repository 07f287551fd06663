"""`terraform apply` of infra/terraform/examples/complete against the local emulator, read back,
then `terraform destroy`.

The example is applied as users apply it, with its own provider block pointed at the emulator
(`aws_endpoint_url`; the example then skips credential, account-id, metadata and region checks and
uses path-style S3), dummy keys, and the offline provider mirror. Its inputs switch everything on:
a connection notification for a real endpoint service (created in the emulator first), grants as
code, the cross-account options and the member roles in the same account.

The function zips are stand-ins (`bootstrap.zip` holding a shell script): the real ones are
release builds for arm64 by cargo-lambda (tests/tools/sam-build.sh, `make zips`), too slow for
every test run; nothing here runs the deployed code.

Read back with boto3: tables (keys, billing, stream, TTL, PITR, SSE with the key, deletion
protection) and the grants as items; the bucket (versioning, SSE-KMS, public access block,
ownership, TLS-only policy, lifecycle, EventBridge notifications); the topics, their policies and
the approver's subscription; the connection notification; the queue; the rules, their patterns,
schedules, targets and retry policy; the KMS key and alias; the roles, their trust and their
policies - which must equal the SAM template's statements rendered with the same resource ARNs;
the member roles likewise; the functions (runtime, handler, architecture, memory, timeout,
tracing, key, environment - equal to SAM's, reserved concurrency, async failure destination,
invoke permissions); the stream mapping; the log groups; the alarms.

Not read back, because moto does not return it (both are compared in the plan by
test_parity.py): a function's `LoggingConfig` (JSON format, log group) and the bucket's
EventBridge notification setting.
"""

from __future__ import annotations

import json
import os
import subprocess
from typing import Any

import pytest

import infra_support as support
from infra_support import ACCOUNT, FUNCTIONS, REGION, SAM_FUNCTIONS, Cfn, ResourceRef

EXAMPLE = "examples/complete"


def normalise_policy(doc: Any) -> list[dict[str, Any]]:
    """A policy document's statements, with single values as sorted lists, sorted by Sid."""
    if isinstance(doc, str):
        doc = json.loads(doc)

    def as_list(v: Any) -> list[Any]:
        return sorted(v) if isinstance(v, list) else [v]

    out = []
    for s in support._as_list(doc["Statement"]):
        n: dict[str, Any] = {"Sid": s.get("Sid", ""), "Effect": s.get("Effect", "Allow")}
        for key in ("Action", "Resource", "NotAction", "NotResource"):
            if key in s:
                n[key] = as_list(s[key])
        if "Principal" in s:
            p = s["Principal"]
            n["Principal"] = {k: as_list(v) for k, v in p.items()} if isinstance(p, dict) else p
        if s.get("Condition"):
            n["Condition"] = {op: {k: as_list(v) for k, v in body.items()} for op, body in s["Condition"].items()}
        out.append(n)
    return sorted(out, key=lambda s: s["Sid"])


@pytest.fixture(scope="module")
def applied(tf_scratch: support.Terraform, tmp_path_factory: pytest.TempPathFactory):
    """The applied example: (emulator, terraform outputs, example inputs). Destroyed afterwards
    (the destroy is checked by test_destroy_removes_everything, which runs last in this module)."""
    work = tmp_path_factory.mktemp("apply")
    emu = support.EmulatorProcess(str(work / "emulator.log"))
    state: dict[str, Any] = {"emu": emu, "destroyed": False}
    try:
        # A real endpoint service for the connection notification.
        ec2, elbv2 = emu.client("ec2"), emu.client("elbv2")
        vpc = ec2.create_vpc(CidrBlock="10.50.0.0/16")["Vpc"]["VpcId"]
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.50.1.0/24", AvailabilityZone=f"{REGION}a")["Subnet"]["SubnetId"]
        nlb = elbv2.create_load_balancer(Name="svc", Subnets=[subnet], Type="network", Scheme="internal")["LoadBalancers"][0]
        service = ec2.create_vpc_endpoint_service_configuration(NetworkLoadBalancerArns=[nlb["LoadBalancerArn"]], AcceptanceRequired=True)[
            "ServiceConfiguration"
        ]["ServiceId"]

        zips = work / "zips"
        for fn in FUNCTIONS:
            support.dummy_zip(str(zips / fn / "bootstrap.zip"))
        inputs = {
            "aws_endpoint_url": emu.url,
            "artifacts_dir": str(zips),
            "endpoint_service_ids": [service],
            "audit_accounts": [ACCOUNT],
            "member_role_in_this_account": True,
            "endpoint_grants": {
                "payments": {"service_id": service, "account_id": "111122223333", "max_endpoints": 2, "note": "NET-123", "added_by": "alice", "added_at": 1767225600}
            },
            "peering_grants": {
                "shared": {
                    "accepter_vpc_id": vpc,
                    "account_id": "444455556666",
                    "allowed_cidrs": ["10.20.0.0/16"],
                    "dns_resolution": True,
                    "expires_at": 1798761600,
                    "added_by": "bob",
                    "added_at": 1767225600,
                }
            },
        }
        tfvars = tf_scratch.path(EXAMPLE) + "/emulator.auto.tfvars.json"
        with open(tfvars, "w") as f:
            json.dump(inputs, f)
        env = {"AWS_ACCESS_KEY_ID": "infra-test", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": REGION}
        state["env"] = env
        tf_scratch.init(EXAMPLE)
        tf_scratch.run(EXAMPLE, "apply", "-auto-approve", "-input=false", "-no-color", "-lock=false", env=env)
        outputs = json.loads(tf_scratch.run(EXAMPLE, "output", "-json", env=env).stdout)
        state.update(outputs={k: v["value"] for k, v in outputs.items()}, inputs=inputs, service=service, vpc=vpc)
        yield state
    finally:
        if not state["destroyed"] and "env" in state:
            # Best effort when a test failed before the destroy test ran.
            subprocess.run(
                ["terraform", "destroy", "-auto-approve", "-input=false", "-no-color", "-lock=false", "-var=deletion_protection=false"],
                cwd=tf_scratch.path(EXAMPLE),
                env={**support.terraform_env(), **state["env"]},
                capture_output=True,
                timeout=900,
            )
        emu.stop()


@pytest.fixture(scope="module")
def out(applied) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return applied["outputs"]["vpcwarden"]


@pytest.fixture(scope="module")
def emu(applied) -> support.EmulatorProcess:  # type: ignore[no-untyped-def]
    return applied["emu"]


@pytest.fixture(scope="module")
def sam(sam_template: dict, applied, emu: support.EmulatorProcess, out: dict) -> Cfn:  # type: ignore[no-untyped-def]
    """The SAM template with the example's inputs, its references resolved to what Terraform created."""
    ddb, sqs, kms = emu.client("dynamodb"), emu.client("sqs"), emu.client("kms")
    allowlist = ddb.describe_table(TableName=out["allowlist_table_name"])["Table"]
    ledger = ddb.describe_table(TableName=out["ledger_table_name"])["Table"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=out["failure_queue_url"], AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    key_arn = kms.describe_key(KeyId="alias/vpcwarden")["KeyMetadata"]["Arn"]
    bucket = out["report_bucket_name"]

    def log_group(fn: str) -> str:
        return f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/vpcwarden-{fn}:*"  # CFN's LogGroup.Arn ends in :*

    values = {
        ("AllowlistTable", None): allowlist["TableName"],
        ("AllowlistTable", "Arn"): allowlist["TableArn"],
        ("AllowlistTable", "StreamArn"): allowlist["LatestStreamArn"],
        ("LedgerTable", None): ledger["TableName"],
        ("LedgerTable", "Arn"): ledger["TableArn"],
        ("ReportBucket", None): bucket,
        ("ReportBucket", "Arn"): f"arn:aws:s3:::{bucket}",
        ("FailureQueue", "Arn"): queue_arn,
        ("FailureQueue", "QueueName"): queue_arn.rsplit(":", 1)[1],
        ("EncryptionKey", "Arn"): key_arn,
        ("EndpointNotificationTopic", None): out["endpoint_notification_topic_arn"],
        ("AlarmTopic", None): out["alarm_topic_arn"],
        ("AcceptorLogGroup", "Arn"): log_group("peering-acceptor"),
        ("ApproverLogGroup", "Arn"): log_group("endpoint-approver"),
        ("AuditorLogGroup", "Arn"): log_group("drift-auditor"),
    }
    for fn, names in SAM_FUNCTIONS.items():
        values[(names.role, "Arn")] = out["role_arns"][fn]
        values[(names.function, None)] = f"vpcwarden-{fn}"

    def resolve(lid: str, attr: str | None) -> Any:
        return values.get((lid, attr), ResourceRef(lid, attr))

    params = {
        "RequesterRoleName": "vpcwarden-requester",
        "AuditRoleName": "vpcwarden-audit",
        "AuditAccounts": [ACCOUNT],
        "EndpointServiceIds": [applied["service"]],
        "RevokeOnRemoval": "true",
        "SyncPrincipals": "true",
    }
    return Cfn(sam_template, params, resolve)


# --------------------------------------------------------------------------- state


def test_tables_exist_as_declared(emu: support.EmulatorProcess, out: dict, sam: Cfn) -> None:
    ddb = emu.client("dynamodb")
    key_arn = sam.value({"Fn::GetAtt": ["EncryptionKey", "Arn"]})
    for name, stream in ((out["allowlist_table_name"], True), (out["ledger_table_name"], False)):
        t = ddb.describe_table(TableName=name)["Table"]
        assert t["TableStatus"] == "ACTIVE"
        assert {k["AttributeName"]: k["KeyType"] for k in t["KeySchema"]} == {"pk": "HASH", "sk": "RANGE"}
        assert t["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
        assert t["SSEDescription"]["Status"] == "ENABLED" and t["SSEDescription"]["SSEType"] == "KMS"
        assert t["SSEDescription"]["KMSMasterKeyArn"] == key_arn
        assert t["DeletionProtectionEnabled"] is True
        pitr = ddb.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
        assert pitr["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"
        if stream:
            assert t["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
            ttl = ddb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
            assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at"}
        else:
            assert "StreamSpecification" not in t or not t["StreamSpecification"].get("StreamEnabled")


def test_grants_as_code_are_items_in_the_allowlist_format(emu: support.EmulatorProcess, out: dict, applied) -> None:  # type: ignore[no-untyped-def]
    ddb = emu.client("dynamodb")
    items = ddb.scan(TableName=out["allowlist_table_name"])["Items"]
    by_key = {(i["pk"]["S"], i["sk"]["S"]): i for i in items}
    assert by_key[(f"endpoint#{applied['service']}", "account#111122223333")] == {
        "pk": {"S": f"endpoint#{applied['service']}"},
        "sk": {"S": "account#111122223333"},
        "max_endpoints": {"N": "2"},
        "note": {"S": "NET-123"},
        "added_by": {"S": "alice"},
        "added_at": {"N": "1767225600"},
    }
    peering = by_key[(f"peering#{applied['vpc']}", "account#444455556666")]
    assert peering["allowed_cidrs"] == {"SS": ["10.20.0.0/16"]}
    assert peering["dns_resolution"] == {"BOOL": True}
    assert peering["expires_at"] == {"N": "1798761600"}
    assert len(items) == 2


def test_report_bucket_exists_as_declared(emu: support.EmulatorProcess, out: dict, sam: Cfn) -> None:
    s3 = emu.client("s3")
    bucket = out["report_bucket_name"]
    declared = sam.properties("ReportBucket")
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    [rule] = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rule["ApplyServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "aws:kms",
        "KMSMasterKeyID": declared["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]["KMSMasterKeyID"],
    }
    assert rule["BucketKeyEnabled"] is True
    assert s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"] == declared["PublicAccessBlockConfiguration"]
    assert s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    policy = normalise_policy(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    assert policy == normalise_policy(sam.properties("ReportBucketPolicy")["PolicyDocument"])
    rules = {r["ID"]: r for r in s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]}
    assert rules["expire-old-reports"]["Filter"]["Prefix"] == "reports/"
    assert rules["expire-old-reports"]["Expiration"]["Days"] == 400
    assert rules["expire-old-reports"]["NoncurrentVersionExpiration"]["NoncurrentDays"] == 30
    assert rules["abort-incomplete-uploads"]["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"] == 7
    # EventBridge notifications: moto keeps the setting but GetBucketNotificationConfiguration does
    # not return it; test_parity.py compares it in the plan.


def test_topics_queue_and_key_exist_as_declared(emu: support.EmulatorProcess, out: dict, sam: Cfn, applied) -> None:  # type: ignore[no-untyped-def]
    sns, sqs, kms, ec2 = emu.client("sns"), emu.client("sqs"), emu.client("kms"), emu.client("ec2")
    key_arn = sam.value({"Fn::GetAtt": ["EncryptionKey", "Arn"]})
    for topic, policy_id in ((out["endpoint_notification_topic_arn"], "EndpointNotificationTopicPolicy"), (out["alarm_topic_arn"], "AlarmTopicPolicy")):
        attrs = sns.get_topic_attributes(TopicArn=topic)["Attributes"]
        assert attrs["KmsMasterKeyId"] == key_arn
        assert normalise_policy(attrs["Policy"]) == normalise_policy(sam.properties(policy_id)["PolicyDocument"])
    subs = sns.list_subscriptions_by_topic(TopicArn=out["endpoint_notification_topic_arn"])["Subscriptions"]
    assert [(s["Protocol"], s["Endpoint"]) for s in subs] == [("lambda", out["function_arns"]["endpoint-approver"])]
    [notification] = ec2.describe_vpc_endpoint_connection_notifications()["ConnectionNotificationSet"]
    assert notification["ServiceId"] == applied["service"]
    assert notification["ConnectionNotificationArn"] == out["endpoint_notification_topic_arn"]
    assert sorted(notification["ConnectionEvents"]) == ["Accept", "Connect", "Delete", "Reject"]
    q = sqs.get_queue_attributes(QueueUrl=out["failure_queue_url"], AttributeNames=["All"])["Attributes"]
    assert q["KmsMasterKeyId"] == key_arn and q["MessageRetentionPeriod"] == "1209600"
    assert normalise_policy(q["Policy"]) == normalise_policy(sam.properties("FailureQueuePolicy")["PolicyDocument"])
    key = kms.describe_key(KeyId=key_arn)["KeyMetadata"]
    assert key["KeyState"] == "Enabled"
    assert kms.get_key_rotation_status(KeyId=key_arn)["KeyRotationEnabled"] is True
    assert normalise_policy(kms.get_key_policy(KeyId=key_arn, PolicyName="default")["Policy"]) == normalise_policy(
        sam.properties("EncryptionKey")["KeyPolicy"]
    )


# --------------------------------------------------------------------------- IAM


def test_function_roles_and_policies_equal_the_sam_template(emu: support.EmulatorProcess, out: dict, sam: Cfn) -> None:
    iam = emu.client("iam")
    for fn in FUNCTIONS:
        role_name = f"vpcwarden-{fn}"
        role = iam.get_role(RoleName=role_name)["Role"]
        assert role["Arn"] == out["role_arns"][fn]
        declared = sam.properties(SAM_FUNCTIONS[fn].role)
        assert normalise_policy(role["AssumeRolePolicyDocument"]) == normalise_policy(declared["AssumeRolePolicyDocument"])
        [name] = iam.list_role_policies(RoleName=role_name)["PolicyNames"]
        live = normalise_policy(iam.get_role_policy(RoleName=role_name, PolicyName=name)["PolicyDocument"])
        expected = normalise_policy({"Statement": sam.role_statements(SAM_FUNCTIONS[fn].role)})
        assert live == expected, f"{fn}:\nTerraform {json.dumps(live, indent=1)}\nSAM {json.dumps(expected, indent=1)}"
        assert not iam.list_attached_role_policies(RoleName=role_name)["AttachedPolicies"]


def test_member_roles_equal_the_member_template(emu: support.EmulatorProcess, out: dict, member_template: dict) -> None:
    iam = emu.client("iam")
    cfn = Cfn(member_template, {"DeploymentAccountId": ACCOUNT})
    for logical_id in ("RequesterRole", "AuditRole"):
        declared = cfn.properties(logical_id)
        role = iam.get_role(RoleName=declared["RoleName"])["Role"]
        assert normalise_policy(role["AssumeRolePolicyDocument"]) == normalise_policy(declared["AssumeRolePolicyDocument"])
        [policy] = declared["Policies"]
        live = iam.get_role_policy(RoleName=declared["RoleName"], PolicyName=policy["PolicyName"])["PolicyDocument"]
        assert normalise_policy(live) == normalise_policy(policy["PolicyDocument"]), logical_id
        assert role["MaxSessionDuration"] == 3600


# --------------------------------------------------------------------------- functions and triggers


def test_functions_exist_with_their_environment(emu: support.EmulatorProcess, out: dict, sam: Cfn) -> None:
    lam = emu.client("lambda")
    assert sorted(f["FunctionName"] for f in lam.list_functions()["Functions"]) == sorted(f"vpcwarden-{fn}" for fn in FUNCTIONS)
    for fn in FUNCTIONS:
        declared = sam.function(SAM_FUNCTIONS[fn].function)
        c = lam.get_function(FunctionName=f"vpcwarden-{fn}")["Configuration"]
        assert c["FunctionArn"] == out["function_arns"][fn]
        assert c["Role"] == out["role_arns"][fn]
        assert (c["Runtime"], c["Handler"], c["Architectures"]) == (declared["Runtime"], declared["Handler"], declared["Architectures"])
        assert (c["MemorySize"], c["Timeout"]) == (declared["MemorySize"], declared["Timeout"])
        assert c["TracingConfig"] == {"Mode": "Active"}
        assert c["KMSKeyArn"] == declared["KmsKeyArn"]
        assert c["Environment"]["Variables"] == {k: str(support._scalar(v)) for k, v in declared["Environment"]["Variables"].items()}
        assert lam.get_function_concurrency(FunctionName=f"vpcwarden-{fn}")["ReservedConcurrentExecutions"] == 1
        invoke = lam.get_function_event_invoke_config(FunctionName=f"vpcwarden-{fn}")
        assert (invoke["MaximumEventAgeInSeconds"], invoke["MaximumRetryAttempts"]) == (3600, 2)
        assert invoke["DestinationConfig"]["OnFailure"]["Destination"] == sam.value({"Fn::GetAtt": ["FailureQueue", "Arn"]})


def test_rules_schedules_and_their_permissions(emu: support.EmulatorProcess, out: dict, sam: Cfn) -> None:
    events, lam = emu.client("events"), emu.client("lambda")
    rules = events.list_rules(NamePrefix="vpcwarden-")["Rules"]
    by_target: dict[str, list[dict[str, Any]]] = {}
    for r in rules:
        [target] = events.list_targets_by_rule(Rule=r["Name"])["Targets"]
        by_target.setdefault(target["Arn"], []).append({**r, "target": target})
    acceptor = by_target[out["function_arns"]["peering-acceptor"]]
    [pattern_rule] = [r for r in acceptor if r.get("EventPattern")]
    declared = sam.function("PeeringAcceptorFunction")["Events"]["PeeringApiCalls"]["Properties"]
    assert json.loads(pattern_rule["EventPattern"]) == declared["Pattern"]
    assert pattern_rule["target"]["RetryPolicy"] == {"MaximumRetryAttempts": 4, "MaximumEventAgeInSeconds": 3600}
    schedules = {fn: sorted(r["ScheduleExpression"] for r in by_target[out["function_arns"][fn]] if r.get("ScheduleExpression")) for fn in FUNCTIONS}
    assert schedules == {"peering-acceptor": ["rate(5 minutes)"], "endpoint-approver": ["rate(5 minutes)"], "drift-auditor": ["cron(0 3 * * ? *)"]}
    assert len(rules) == 4
    rule_arns = {r["Arn"] for r in rules}
    for fn in FUNCTIONS:
        statements = json.loads(lam.get_policy(FunctionName=f"vpcwarden-{fn}")["Policy"])["Statement"]
        sources = {(s["Principal"]["Service"], s["Condition"]["ArnLike"]["AWS:SourceArn"]) for s in statements}
        expected = {("events.amazonaws.com", r["Arn"]) for r in by_target[out["function_arns"][fn]]}
        if fn == "endpoint-approver":
            expected.add(("sns.amazonaws.com", out["endpoint_notification_topic_arn"]))
        assert sources == expected, fn
        assert {arn for p, arn in sources if p == "events.amazonaws.com"} <= rule_arns


def test_allowlist_stream_mappings(emu: support.EmulatorProcess, out: dict, sam: Cfn) -> None:
    """The approver's (endpoint grants) and the acceptor's (peering grants) mappings of the
    allowlist stream, each as SAM declares it."""
    lam = emu.client("lambda")
    mappings = {m["FunctionArn"]: m for m in lam.list_event_source_mappings()["EventSourceMappings"]}
    assert len(mappings) == 2, mappings
    for fn, logical_id in (("endpoint-approver", "EndpointApproverFunction"), ("peering-acceptor", "PeeringAcceptorFunction")):
        m = mappings[out["function_arns"][fn]]
        declared = sam.function(logical_id)["Events"]["AllowlistChanges"]["Properties"]
        assert m["EventSourceArn"] == declared["Stream"]
        assert m["BatchSize"] == declared["BatchSize"]
        assert m["MaximumBatchingWindowInSeconds"] == declared["MaximumBatchingWindowInSeconds"]
        assert m["BisectBatchOnFunctionError"] is True
        assert m["FunctionResponseTypes"] == declared["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert m["MaximumRetryAttempts"] == declared["MaximumRetryAttempts"]
        assert m["MaximumRecordAgeInSeconds"] == declared["MaximumRecordAgeInSeconds"]
        assert [json.loads(f["Pattern"]) for f in m["FilterCriteria"]["Filters"]] == [json.loads(f["Pattern"]) for f in declared["FilterCriteria"]["Filters"]]
        assert m["DestinationConfig"]["OnFailure"]["Destination"] == declared["DestinationConfig"]["OnFailure"]["Destination"]


def test_log_groups_and_alarms(emu: support.EmulatorProcess, out: dict, sam: Cfn) -> None:
    logs, cw = emu.client("logs"), emu.client("cloudwatch")
    groups = {g["logGroupName"]: g for g in logs.describe_log_groups(logGroupNamePrefix="/aws/lambda/vpcwarden-")["logGroups"]}
    for fn in FUNCTIONS:
        declared = sam.properties(SAM_FUNCTIONS[fn].log_group)
        g = groups[declared["LogGroupName"]]
        assert g["retentionInDays"] == int(declared["RetentionInDays"])
        assert g["kmsKeyId"] == declared["KmsKeyId"]
    alarms = {a["AlarmName"]: a for a in cw.describe_alarms(AlarmNamePrefix="vpcwarden-")["MetricAlarms"]}
    declared_alarms = {p["AlarmName"]: p for lid, r in sam.resources().items() if r["Type"] == "AWS::CloudWatch::Alarm" for p in [sam.properties(lid)]}
    assert sorted(alarms) == sorted(declared_alarms)
    for name, p in declared_alarms.items():
        a = alarms[name]
        assert (a["Namespace"], a["MetricName"], a["Statistic"], a["Period"], a["Threshold"], a["ComparisonOperator"]) == (
            p["Namespace"], p["MetricName"], p["Statistic"], p["Period"], float(p["Threshold"]), p["ComparisonOperator"]
        ), name
        assert a["AlarmActions"] == [out["alarm_topic_arn"]]
        assert a.get("OKActions", []) == p.get("OKActions", [])
        assert [(d["Name"], d["Value"]) for d in a["Dimensions"]] == [(d["Name"], d["Value"]) for d in p["Dimensions"]], name


# --------------------------------------------------------------------------- destroy (last)


def test_destroy_removes_everything(applied, tf_scratch: support.Terraform, out: dict, sam: Cfn) -> None:  # type: ignore[no-untyped-def]
    emu, env = applied["emu"], applied["env"]
    key_arn = sam.value({"Fn::GetAtt": ["EncryptionKey", "Arn"]})
    ddb = emu.client("dynamodb")
    # Deletion protection holds (the emulator enforces it like DynamoDB) ...
    with pytest.raises(Exception, match="deletion protection|DeletionProtection|ResourceInUse|ValidationException"):
        ddb.delete_table(TableName=out["ledger_table_name"])
    # ... so it is switched off before the destroy.
    tf_scratch.run(EXAMPLE, "apply", "-auto-approve", "-input=false", "-no-color", "-lock=false", "-var=deletion_protection=false", env=env)
    tf_scratch.run(EXAMPLE, "destroy", "-auto-approve", "-input=false", "-no-color", "-lock=false", "-var=deletion_protection=false", env=env)
    applied["destroyed"] = True
    assert tf_scratch.run(EXAMPLE, "state", "list", env=env).stdout.strip() == ""
    assert ddb.list_tables()["TableNames"] == []
    assert emu.client("lambda").list_functions()["Functions"] == []
    assert [r for r in emu.client("iam").list_roles()["Roles"] if r["RoleName"].startswith("vpcwarden")] == []
    assert [b for b in emu.client("s3").list_buckets()["Buckets"] if b["Name"].startswith("vpcwarden")] == []
    assert emu.client("sns").list_topics()["Topics"] == []
    assert emu.client("sqs").list_queues().get("QueueUrls", []) == []
    assert emu.client("events").list_rules(NamePrefix="vpcwarden-")["Rules"] == []
    assert emu.client("cloudwatch").describe_alarms()["MetricAlarms"] == []
    assert emu.client("logs").describe_log_groups(logGroupNamePrefix="/aws/lambda/vpcwarden-")["logGroups"] == []
    assert emu.client("ec2").describe_vpc_endpoint_connection_notifications()["ConnectionNotificationSet"] == []
    # A KMS key is never deleted at once: it waits out its deletion window.
    assert emu.client("kms").describe_key(KeyId=key_arn)["KeyMetadata"]["KeyState"] == "PendingDeletion"
