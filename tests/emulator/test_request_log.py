"""GET/DELETE /vpcwarden-api/requests: every AWS call, identified."""

from helpers import raw_call, query_body

ACCOUNT_B = "111111111111"


def only(entries, **match):
    return [e for e in entries if all(e.get(k) == v for k, v in match.items())]


def test_ec2_call_is_recorded_with_default_account(emu):
    emu.client("ec2").describe_vpcs()
    [entry] = emu.requests()
    assert entry == {
        "service": "ec2",
        "action": "DescribeVpcs",
        "account": "123456789012",
        "region": "us-east-1",
        "status": 200,
        "fault": False,
    }


def test_assumed_role_credentials_map_to_their_account(emu):
    emu.client("ec2", account=ACCOUNT_B, region="eu-west-1").describe_vpcs()
    entries = emu.requests()
    [assume] = only(entries, action="AssumeRole")
    assert assume["service"] == "sts" and assume["account"] == "123456789012"
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
