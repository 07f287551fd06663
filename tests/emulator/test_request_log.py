"""GET/DELETE /vpcwarden-api/requests: every AWS call, identified; GET /vpcwarden-api/usage."""

import time

import boto3
from botocore.config import Config

from helpers import raw_call, query_body

ACCOUNT_B = "111111111111"


def only(entries, **match):
    return [e for e in entries if all(e.get(k) == v for k, v in match.items())]


def test_ec2_call_is_recorded_with_default_account(emu):
    before = time.time()
    emu.client("ec2").describe_vpcs()
    after = time.time()
    [entry] = emu.requests()
    at, ms = entry.pop("at"), entry.pop("ms")
    assert before <= at <= after and 0 < ms <= (after - at) * 1000 + 1
    assert entry == {
        "service": "ec2",
        "action": "DescribeVpcs",
        "account": "123456789012",
        "region": "us-east-1",
        "status": 200,
        "fault": False,
        "access_key": "AKIAIOSFODNN7EXAMPLE",
        "source_key": "AKIAIOSFODNN7EXAMPLE",
        "assumed_role": None,
    }


def test_assumed_role_credentials_map_to_their_account(emu):
    emu.client("ec2", account=ACCOUNT_B, region="eu-west-1").describe_vpcs()
    entries = emu.requests()
    [assume] = only(entries, action="AssumeRole")
    assert assume["service"] == "sts" and assume["account"] == "123456789012"
    # The session asked for is recorded (what the functions' session checks read).
    assert assume["params"] == {"RoleArn": f"arn:aws:iam::{ACCOUNT_B}:role/x", "RoleSessionName": "emulator-test"}
    [describe] = only(entries, action="DescribeVpcs")
    assert describe["account"] == ACCOUNT_B
    assert describe["region"] == "eu-west-1"


def test_moto_account_header_is_honoured(emu):
    status, _, _ = raw_call(
        emu.url,
        "ec2",
        query_body("DescribeVpcs", "2016-11-15"),
        headers={"x-moto-account-id": "222222222222"},
    )
    assert status == 200
    [entry] = emu.requests()
    assert entry["account"] == "222222222222"


def test_services_and_actions_are_identified(emu):
    emu.client("sts").get_caller_identity()
    emu.client("sns").create_topic(Name="t")
    emu.client("elbv2").describe_load_balancers()
    emu.client("dynamodb").list_tables()
    s3 = emu.client("s3")
    s3.create_bucket(Bucket="bucket-1")
    s3.put_object(Bucket="bucket-1", Key="k", Body=b"x")
    s3.list_objects_v2(Bucket="bucket-1")
    got = [(e["service"], e["action"], e["status"]) for e in emu.requests()]
    assert got == [
        ("sts", "GetCallerIdentity", 200),
        ("sns", "CreateTopic", 200),
        ("elasticloadbalancing", "DescribeLoadBalancers", 200),
        ("dynamodb", "ListTables", 200),
        ("s3", "CreateBucket", 200),
        ("s3", "PutObject", 200),
        ("s3", "ListObjectsV2", 200),
    ]


def test_error_status_is_recorded(emu):
    ec2 = emu.client("ec2")
    try:
        ec2.describe_vpcs(VpcIds=["vpc-00000000000000000"])
    except Exception:
        pass
    [entry] = emu.requests()
    assert entry["action"] == "DescribeVpcs" and entry["status"] == 400


def test_admin_and_moto_api_calls_are_not_recorded_and_delete_clears(emu):
    emu.client("ec2").describe_vpcs()
    emu.call("GET", "/moto-api/data.json")
    emu.admin("GET", "/faults")
    assert len(emu.requests()) == 1
    assert emu.requests(action="DescribeVpcs")[0]["service"] == "ec2"
    assert emu.requests(action="Nope") == []
    assert emu.admin("DELETE", "/requests") == []
    assert emu.requests() == []


def keyed_client(emu, service, access_key, **creds):
    return boto3.client(
        service,
        endpoint_url=emu.url,
        region_name="us-east-1",
        aws_access_key_id=access_key,
        aws_secret_access_key="testing",
        config=Config(retries={"total_max_attempts": 1}),
        **creds,
    )


def test_any_access_key_is_recorded_and_maps_to_the_default_account(emu):
    """The test harness gives each function process its own key id (vpcwarden-<function>)."""
    keyed_client(emu, "ec2", "vpcwarden-peering-acceptor").describe_vpcs()
    keyed_client(emu, "dynamodb", "vpcwarden-endpoint-approver").list_tables()
    entries = emu.requests()
    assert [(e["access_key"], e["source_key"], e["account"], e["action"]) for e in entries] == [
        ("vpcwarden-peering-acceptor", "vpcwarden-peering-acceptor", "123456789012", "DescribeVpcs"),
        ("vpcwarden-endpoint-approver", "vpcwarden-endpoint-approver", "123456789012", "ListTables"),
    ]


def test_calls_with_assumed_role_keys_are_attributed_to_the_assumer(emu):
    sts = keyed_client(emu, "sts", "vpcwarden-peering-acceptor")
    creds = sts.assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT_B}:role/vpcwarden-requester", RoleSessionName="peering-acceptor")[
        "Credentials"
    ]
    ec2 = keyed_client(emu, "ec2", creds["AccessKeyId"], aws_session_token=creds["SessionToken"])
    ec2.describe_route_tables()
    # chained: the assumed role assumes another one; still the same source
    sts2 = keyed_client(emu, "sts", creds["AccessKeyId"], aws_session_token=creds["SessionToken"])
    creds2 = sts2.assume_role(RoleArn="arn:aws:iam::222222222222:role/other", RoleSessionName="chained")["Credentials"]
    keyed_client(emu, "ec2", creds2["AccessKeyId"], aws_session_token=creds2["SessionToken"]).describe_vpcs()

    [assume, describe, assume2, describe2] = emu.requests()
    assert (assume["action"], assume["source_key"], assume["assumed_role"]) == ("AssumeRole", "vpcwarden-peering-acceptor", None)
    assert describe["access_key"] == creds["AccessKeyId"] != "vpcwarden-peering-acceptor"
    assert describe["account"] == ACCOUNT_B
    assert describe["source_key"] == "vpcwarden-peering-acceptor"
    assert describe["assumed_role"] == f"arn:aws:iam::{ACCOUNT_B}:role/vpcwarden-requester"
    assert assume2["source_key"] == describe2["source_key"] == "vpcwarden-peering-acceptor"
    assert describe2["assumed_role"] == "arn:aws:iam::222222222222:role/other"


def test_usage_aggregates_per_source_key_and_survives_clearing_the_log(emu):
    acceptor = keyed_client(emu, "ec2", "vpcwarden-peering-acceptor")
    acceptor.describe_vpcs()
    acceptor.describe_vpcs()
    assert emu.admin("DELETE", "/requests") == []
    creds = keyed_client(emu, "sts", "vpcwarden-peering-acceptor").assume_role(
        RoleArn=f"arn:aws:iam::{ACCOUNT_B}:role/r", RoleSessionName="session"
    )["Credentials"]
    keyed_client(emu, "ec2", creds["AccessKeyId"], aws_session_token=creds["SessionToken"]).describe_vpcs()
    usage = emu.admin("GET", "/usage?source_key=vpcwarden-peering-acceptor")
    assert usage == [
        {"source_key": "vpcwarden-peering-acceptor", "assumed_role": None, "service": "ec2", "action": "DescribeVpcs", "count": 2},
        {"source_key": "vpcwarden-peering-acceptor", "assumed_role": None, "service": "sts", "action": "AssumeRole", "count": 1},
        {
            "source_key": "vpcwarden-peering-acceptor",
            "assumed_role": f"arn:aws:iam::{ACCOUNT_B}:role/r",
            "service": "ec2",
            "action": "DescribeVpcs",
            "count": 1,
        },
    ]
    emu.reset()
    assert emu.admin("GET", "/usage") == []


def test_faulted_calls_count_as_usage(emu):
    emu.add_fault(service="ec2", action="DescribeVpcs", count=1)
    try:
        keyed_client(emu, "ec2", "vpcwarden-drift-auditor").describe_vpcs()
    except Exception:
        pass
    [u] = emu.admin("GET", "/usage")
    assert (u["source_key"], u["action"]) == ("vpcwarden-drift-auditor", "DescribeVpcs")
