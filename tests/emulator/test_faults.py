"""POST/GET/DELETE /vpcwarden-api/faults: throttling, errors and delays on demand."""

import json
import time
import xml.etree.ElementTree as ET

from helpers import client_error, error_code, http_status, query_body, raw_call


def test_next_n_calls_of_an_action_fail_with_ec2_request_limit_exceeded(emu):
    fault_id = emu.add_fault(action="DescribeVpcs", count=2)
    ec2 = emu.client("ec2")
    for _ in range(2):
        err = client_error(ec2.describe_vpcs)
        assert error_code(err) == "RequestLimitExceeded"
        assert http_status(err) == 503
    ec2.describe_vpcs()  # the rule is used up
    ec2.describe_subnets()
    log = emu.requests()
    assert [(e["action"], e["fault"], e["status"]) for e in log] == [
        ("DescribeVpcs", True, 503),
        ("DescribeVpcs", True, 503),
        ("DescribeVpcs", False, 200),
        ("DescribeSubnets", False, 200),
    ]
    assert log[0]["fault_id"] == fault_id
    state = emu.admin("GET", "/faults")
    assert state["rules"] == []
    assert state["injected"] == 2
    assert state["injected_by_action"] == {"DescribeVpcs": 2}


def test_sdk_retries_absorb_throttling(emu):
    emu.add_fault(action="DescribeVpcs", count=2)
    ec2 = emu.client("ec2", retries=3)
    ec2.describe_vpcs()
    assert [e["fault"] for e in emu.requests(action="DescribeVpcs")] == [True, True, False]


def test_ec2_error_body_shape(emu):
    emu.add_fault(service="ec2", count=1)
    status, headers, body = raw_call(emu.url, "ec2", query_body("DescribeVpcs", "2016-11-15"))
    assert status == 503
    root = ET.fromstring(body)
    assert root.tag == "Response"
    assert root.find("Errors/Error/Code").text == "RequestLimitExceeded"
    assert root.find("Errors/Error/Message").text
    assert root.find("RequestID").text


def test_query_protocol_error_body_shape(emu):
    emu.add_fault(service="sts", error="Throttling", count=1)
    status, _, body = raw_call(emu.url, "sts", query_body("GetCallerIdentity", "2011-06-15"))
    assert status == 400
    root = ET.fromstring(body)
    assert root.tag == "ErrorResponse"
    assert root.find("Error/Type").text == "Sender"
    assert root.find("Error/Code").text == "Throttling"
    assert root.find("Error/Message").text
    assert root.find("RequestId").text


def test_query_protocol_services_through_boto3(emu):
    emu.add_fault(service="elbv2", error="Throttling", count=1)
    emu.add_fault(service="sns", error="ServiceUnavailable", count=1)
    emu.add_fault(service="sts", error="InternalError", count=1)
    err = client_error(emu.client("elbv2").describe_load_balancers)
    assert (error_code(err), http_status(err)) == ("Throttling", 400)
    err = client_error(emu.client("sns").list_topics)
    assert (error_code(err), http_status(err)) == ("ServiceUnavailable", 503)
    err = client_error(emu.client("sts").get_caller_identity)
    assert (error_code(err), http_status(err)) == ("InternalError", 500)


def test_dynamodb_gets_json_throttling_exception(emu):
    emu.add_fault(service="dynamodb", count=2)  # default RequestLimitExceeded
    status, headers, body = raw_call(
        emu.url,
        "dynamodb",
        "{}",
        content_type="application/x-amz-json-1.0",
        headers={"X-Amz-Target": "DynamoDB_20120810.ListTables"},
    )
    assert status == 400
    assert json.loads(body) == {
        "__type": "com.amazonaws.dynamodb.v20120810#ThrottlingException",
        "message": json.loads(body)["message"],
    }
    err = client_error(emu.client("dynamodb").list_tables)
    assert error_code(err) == "ThrottlingException"
    assert emu.requests()[0]["action"] == "ListTables"


def test_s3_gets_slow_down(emu):
    s3 = emu.client("s3")
    s3.create_bucket(Bucket="bucket-1")
    emu.add_fault(service="s3", action="PutObject", error="Throttling", count=1)
    err = client_error(s3.put_object, Bucket="bucket-1", Key="k", Body=b"x")
    assert (error_code(err), http_status(err)) == ("SlowDown", 503)
    s3.put_object(Bucket="bucket-1", Key="k", Body=b"x")


def test_status_override(emu):
    emu.add_fault(action="DescribeVpcs", error="Throttling", status=400, count=1)
    err = client_error(emu.client("ec2").describe_vpcs)
    assert (error_code(err), http_status(err)) == ("Throttling", 400)


def test_service_filter_leaves_other_services_alone(emu):
    emu.add_fault(service="ec2")  # every EC2 call, until cleared
    emu.client("sts").get_caller_identity()
    ec2 = emu.client("ec2")
    for _ in range(3):
        client_error(ec2.describe_vpcs)
    emu.admin("DELETE", "/faults")
    ec2.describe_vpcs()


def _pattern(emu, seed):
    emu.admin("DELETE", "/faults")
    emu.add_fault(action="DescribeRegions", fraction=0.3, seed=seed)
    ec2 = emu.client("ec2")
    out = []
    for _ in range(40):
        try:
            ec2.describe_regions()
            out.append(0)
        except Exception:
            out.append(1)
    return out


def test_fraction_is_deterministic_with_a_seed(emu):
    first = _pattern(emu, 42)
    second = _pattern(emu, 42)
    assert first == second
    assert 4 <= sum(first) <= 24
    assert _pattern(emu, 7) != first
    # calls that do not match the rule are never failed
    emu.client("ec2").describe_vpcs()


def test_delay_without_error_answers_normally(emu):
    emu.add_fault(action="DescribeVpcs", error=None, delay_ms=300, count=1)
    ec2 = emu.client("ec2")
    start = time.monotonic()
    ec2.describe_vpcs()
    assert time.monotonic() - start >= 0.3
    entry = emu.requests()[0]
    assert entry["fault"] is False and entry["status"] == 200 and entry["delay_ms"] == 300
    assert emu.admin("GET", "/faults")["delayed"] == 1


def test_delay_with_error(emu):
    emu.add_fault(action="DescribeVpcs", delay_ms=200, count=1)
    start = time.monotonic()
    client_error(emu.client("ec2").describe_vpcs)
    assert time.monotonic() - start >= 0.2


def test_rules_listing_clearing_and_counters(emu):
    a = emu.add_fault(action="CreateRoute", count=3)
    b = emu.add_fault(fraction=0.1, seed=1, error="ThrottlingException")
    state = emu.admin("GET", "/faults")
    assert [r["id"] for r in state["rules"]] == [a, b]
    assert state["rules"][0]["remaining"] == 3 and state["rules"][0]["status"] == 503
    assert state["rules"][1]["action"] is None
    emu.admin("DELETE", f"/faults/{b}")
    assert [r["id"] for r in emu.admin("GET", "/faults")["rules"]] == [a]
    emu.add_fault(action="DescribeVpcs", count=1)
    client_error(emu.client("ec2").describe_vpcs)
    cleared = emu.admin("DELETE", "/faults")
    assert cleared["rules"] == [] and cleared["injected"] == 1  # counters remain
    assert emu.admin("DELETE", "/faults?counters=true")["injected"] == 0


def test_invalid_rules_are_refused(emu):
    for rule in ({"count": 0}, {"fraction": 2}, {"bogus": 1}, {"error": None}, {"status": 200}):
        status, body = emu.call("POST", "/vpcwarden-api/faults", rule)
        assert status == 400, rule
        assert "error" in body
    status, _ = emu.call("POST", "/vpcwarden-api/faults", "not json")
    assert status == 400


def test_a_rule_with_params_fires_only_for_calls_carrying_them(emu):
    """One account's role failing among many: the rule matches the AssumeRole of that RoleArn."""
    sts = emu.client("sts")
    denied = "arn:aws:iam::444444444444:role/vpcwarden-audit"
    emu.add_fault(service="sts", action="AssumeRole", error="AccessDenied", status=403,
                  params={"RoleArn": denied})
    ok = sts.assume_role(RoleArn="arn:aws:iam::333333333333:role/vpcwarden-audit", RoleSessionName="audit")
    assert ok["Credentials"]["AccessKeyId"]
    err = client_error(lambda: sts.assume_role(RoleArn=denied, RoleSessionName="audit"))
    assert (error_code(err), http_status(err)) == ("AccessDenied", 403)
    rule = emu.admin("GET", "/faults")["rules"][0]
    assert (rule["params"], rule["matched"], rule["fired"]) == ({"RoleArn": denied}, 1, 1)


def test_params_must_be_strings(emu):
    status, body = emu.call("POST", "/vpcwarden-api/faults", {"action": "AssumeRole", "params": {"RoleArn": 1}})
    assert status == 400 and "params" in json.dumps(body)
