"""POST/GET/DELETE /vpcwarden-api/throttling: EC2's token buckets, with EC2's documented numbers.

The numbers the tests expect are those of "Request throttling for the Amazon EC2 API"
(https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html): mutating actions
50 tokens refilled at 5/s, non-mutating 100 at 20/s, unfiltered and unpaginated non-mutating 50
at 10/s, AcceptVpcEndpointConnections 10 at 1/s, RunInstances' resource bucket 1000 at 2/s.
Where the documented refill would make a test slow or timing-dependent, the test overrides the
numbers through the API, as a test of a client would.
"""

import time

import pytest

from helpers import client_error, error_code, http_status, query_body, raw_call
from privatelink import make_provider
from vpcwarden_emulator import throttling as t

ACCOUNT_B = "111111111111"
CIDR = "10.0.0.0/16"


def throttle(emu, **settings):
    return emu.admin("POST", "/throttling", settings)


def is_throttled(err) -> bool:
    return (error_code(err), http_status(err)) == ("RequestLimitExceeded", 503)


def calls_until_throttled(call, limit: int) -> int:
    """Makes ``call`` until EC2 throttles it; returns how many calls passed."""
    for passed in range(limit):
        try:
            call()
        except Exception as err:  # noqa: BLE001 - checked below
            assert is_throttled(err), err
            return passed
    raise AssertionError(f"{limit} calls and none was throttled")


def bucket(state, **match):
    [b] = [b for b in state["buckets"] if all(b[k] == v for k, v in match.items())]
    return b


# --------------------------------------------------------------------------- the model, on a fake clock


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_documented_categories_and_numbers():
    assert t.CATEGORY_LIMITS[t.NON_MUTATING] == t.Limit(100, 20)
    assert t.CATEGORY_LIMITS[t.UNFILTERED] == t.Limit(50, 10)
    assert t.CATEGORY_LIMITS[t.MUTATING] == t.Limit(50, 5)
    assert t.CATEGORY_LIMITS[t.RESOURCE_INTENSIVE] == t.Limit(50, 5)
    assert t.UNCATEGORIZED_LIMITS["AcceptVpcEndpointConnections"] == t.Limit(10, 1)
    assert t.UNCATEGORIZED_LIMITS["RejectVpcEndpointConnections"] == t.Limit(10, 1)
    assert t.UNCATEGORIZED_LIMITS["CreateVpcEndpoint"] == t.Limit(4, 0.3)
    assert t.RESOURCE_LIMITS == {
        "RunInstances": t.Limit(1000, 2),
        "TerminateInstances": t.Limit(1000, 20),
        "StartInstances": t.Limit(1000, 2),
        "StopInstances": t.Limit(1000, 20),
    }
    # The lists of the doc do not overlap.
    assert not (t.RESOURCE_INTENSIVE_ACTIONS & set(t.UNCATEGORIZED_LIMITS))
    assert not (t.UNFILTERED_ACTIONS & set(t.UNCATEGORIZED_LIMITS))


@pytest.mark.parametrize(
    "action, params, category",
    [
        ("CreateRoute", {}, t.MUTATING),
        ("ModifyVpcPeeringConnectionOptions", {}, t.MUTATING),
        ("DescribeRouteTables", {}, t.NON_MUTATING),
        ("GetManagedPrefixListEntries", {}, t.NON_MUTATING),
        ("DescribeInstances", {}, t.UNFILTERED),
        ("DescribeInstances", {"Filter.1.Name": ["vpc-id"]}, t.NON_MUTATING),
        ("DescribeSecurityGroups", {"MaxResults": ["5"]}, t.NON_MUTATING),
        ("DescribeVolumes", {"NextToken": ["x"]}, t.NON_MUTATING),
        ("AcceptVpcPeeringConnection", {}, t.RESOURCE_INTENSIVE),
        ("CreateVpcPeeringConnection", {}, t.RESOURCE_INTENSIVE),
        ("AcceptVpcEndpointConnections", {}, t.UNCATEGORIZED),
        ("CreateTags", {}, t.UNCATEGORIZED),
    ],
)
def test_category_of_a_call(action, params, category):
    assert t.category_of(action, params) == category


def test_resource_tokens_a_call_needs():
    assert t.resources_of("RunInstances", {"MaxCount": ["25"], "MinCount": ["1"]}) == 25
    assert t.resources_of("TerminateInstances", {"InstanceId.1": ["i-1"], "InstanceId.2": ["i-2"]}) == 2
    assert t.resources_of("CreateRoute", {}) == 0


def test_mutating_burst_then_refill_at_the_documented_rate():
    clock = FakeClock()
    th = t.Throttling(clock)
    th.configure({})
    admit = lambda: th.admit("123456789012", "us-east-1", "CreateRoute", {})  # noqa: E731
    assert all(admit() is None for _ in range(50))
    assert admit() == t.Throttled("CreateRoute", t.MUTATING)
    clock.now += 1 / 5 - 0.001  # just short of one token
    assert admit() is not None
    clock.now += 0.001
    assert admit() is None
    assert admit() is not None
    clock.now += 3600  # never more than the bucket's size
    assert sum(admit() is None for _ in range(60)) == 50
    assert th.snapshot()["throttled_by_category"] == {t.MUTATING: 13}


def test_resource_bucket_refuses_without_taking_either_token():
    clock = FakeClock()
    th = t.Throttling(clock)
    th.configure({})
    run = lambda n: th.admit("123456789012", "us-east-1", "RunInstances", {"MaxCount": [str(n)]})  # noqa: E731
    assert run(600) is None
    assert run(600) == t.Throttled("RunInstances", t.RESOURCE)
    state = th.snapshot()
    assert bucket(state, bucket=t.UNCATEGORIZED)["tokens"] == 4  # RunInstances' request bucket: 5, one taken
    assert bucket(state, bucket=t.RESOURCE)["tokens"] == 400
    clock.now += 100  # 2 instances a second
    assert run(600) is None


def test_scale_and_overrides():
    th = t.Throttling(FakeClock())
    state = th.configure({"scale": 2, "categories": {"mutating": {"rate": 1}}, "actions": {"CreateTags": {"size": 3}}})
    assert state["categories"][t.NON_MUTATING] == {"size": 200, "rate": 40}
    assert state["categories"][t.MUTATING] == {"size": 100, "rate": 1}
    assert state["actions"] == {"CreateTags": {"size": 3, "rate": 20}}
    assert state["resources"]["RunInstances"] == {"size": 2000, "rate": 4}
    # Scaled down, a bucket still holds one token.
    small = th.configure({"scale": 0.01})
    assert small["categories"][t.MUTATING] == {"size": 1, "rate": 0.05}


# --------------------------------------------------------------------------- through the emulator


def test_documented_mutating_bucket_lets_a_burst_of_50_through(emu):
    ec2 = emu.client("ec2")
    vpc = ec2.create_vpc(CidrBlock=CIDR)["Vpc"]["VpcId"]
    state = throttle(emu)
    assert state["enabled"] and state["categories"][t.MUTATING] == {"size": 50, "rate": 5}
    started = time.monotonic()
    sent_at = []  # when each call left: the throttled one is the last

    def modify():
        sent_at.append(time.monotonic())
        ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsSupport={"Value": True})

    passed = calls_until_throttled(modify, 200)
    throttled_at = sent_at[-1]  # the bucket was empty no later than this call's arrival
    elapsed = time.monotonic() - started
    # 50 at once, plus what refilled at 5 a second while the burst went on.
    assert 50 <= passed <= 50 + int(5 * elapsed) + 1, (passed, elapsed)
    b = bucket(emu.admin("GET", "/throttling"), action="ModifyVpcAttribute")
    assert (b["bucket"], b["size"], b["rate"], b["throttled"]) == (t.MUTATING, 50, 5, 1)
    # Empty when it throttled; since then it refilled at 5 a second (a busy machine is slow to ask).
    assert b["tokens"] < 1 + 5 * (time.monotonic() - throttled_at), b


def test_burst_of_exactly_the_size_passes_and_the_next_call_is_throttled(emu):
    ec2 = emu.client("ec2")
    vpc = ec2.create_vpc(CidrBlock=CIDR)["Vpc"]["VpcId"]
    throttle(emu, categories={"mutating": {"rate": 0.001}})  # documented size, (almost) no refill
    modify = lambda: ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})  # noqa: E731
    for _ in range(50):
        modify()
    err = client_error(modify)
    assert is_throttled(err)
    throttled = emu.requests(action="ModifyVpcAttribute")
    assert len(throttled) == 51
    assert not any(e["fault"] for e in throttled[:50])
    last = throttled[-1]
    assert (last["status"], last["fault"], last["throttled"], last["bucket"]) == (503, True, True, t.MUTATING)
    assert "fault_id" not in last
    state = emu.admin("GET", "/throttling")
    assert state["throttled"] == 1 and state["admitted"] == 50
    assert state["throttled_by_action"] == {"ModifyVpcAttribute": 1}
    assert state["throttled_by_category"] == {t.MUTATING: 1}


def test_one_more_call_passes_after_one_over_rate_seconds(emu):
    ec2 = emu.client("ec2")
    rate = 0.5  # slow enough that a busy machine keeps to the margins
    throttle(emu, categories={"mutating": {"size": 2, "rate": rate}})
    create = lambda: ec2.create_internet_gateway()  # noqa: E731
    create()
    create()
    assert is_throttled(client_error(create))
    time.sleep(0.4 / rate)  # not yet a whole token
    assert is_throttled(client_error(create))
    time.sleep(1 / rate)
    create()
    assert is_throttled(client_error(create))


def test_buckets_of_other_accounts_regions_actions_and_categories_are_their_own(emu):
    ec2 = emu.client("ec2")
    other_account = emu.client("ec2", account=ACCOUNT_B)  # assumes a role: STS is never throttled
    throttle(emu, categories={"mutating": {"size": 1, "rate": 0.001}})
    ec2.create_vpc(CidrBlock=CIDR)
    assert is_throttled(client_error(ec2.create_vpc, CidrBlock=CIDR))
    other_account.create_vpc(CidrBlock=CIDR)
    emu.client("ec2", region="eu-west-1").create_vpc(CidrBlock=CIDR)
    ec2.create_internet_gateway()  # another mutating action: a bucket of its own
    ec2.describe_vpcs()  # non-mutating
    state = emu.admin("GET", "/throttling")
    keys = {(b["account"], b["region"], b["action"]) for b in state["buckets"]}
    assert keys == {
        ("123456789012", "us-east-1", "CreateVpc"),
        (ACCOUNT_B, "us-east-1", "CreateVpc"),
        ("123456789012", "eu-west-1", "CreateVpc"),
        ("123456789012", "us-east-1", "CreateInternetGateway"),
        ("123456789012", "us-east-1", "DescribeVpcs"),
    }
    assert state["throttled"] == 1


def test_unfiltered_calls_use_the_smaller_bucket(emu):
    ec2 = emu.client("ec2")
    throttle(emu, categories={t.UNFILTERED: {"size": 1, "rate": 0.001}})
    ec2.describe_instances()
    assert is_throttled(client_error(ec2.describe_instances))
    ec2.describe_instances(Filters=[{"Name": "instance-state-name", "Values": ["running"]}])
    ec2.describe_instances(MaxResults=5)
    buckets = {b["bucket"] for b in emu.admin("GET", "/throttling")["buckets"]}
    assert buckets == {t.UNFILTERED, t.NON_MUTATING}


def assert_burst_of_10(call):
    """10 calls pass, the 11th is throttled: exactly, unless the burst took a second or more
    (then the bucket refilled by 1 a second meanwhile)."""
    started = time.monotonic()
    passed = calls_until_throttled(call, 20)
    elapsed = time.monotonic() - started
    assert passed == 10 or 10 < passed <= 10 + elapsed, (passed, elapsed)


def test_accept_vpc_endpoint_connections_has_its_documented_bucket_of_10(emu):
    provider = make_provider(emu)
    throttle(emu)  # documented numbers: 10 tokens, 1 a second
    accept = lambda: provider.ec2.accept_vpc_endpoint_connections(  # noqa: E731
        ServiceId=provider.service_id, VpcEndpointIds=["vpce-0123456789abcdef0"]
    )
    assert_burst_of_10(accept)
    # RejectVpcEndpointConnections has a bucket of its own, with the same numbers.
    reject = lambda: provider.ec2.reject_vpc_endpoint_connections(  # noqa: E731
        ServiceId=provider.service_id, VpcEndpointIds=["vpce-0123456789abcdef0"]
    )
    assert_burst_of_10(reject)
    state = emu.admin("GET", "/throttling")
    assert state["throttled_by_category"] == {t.UNCATEGORIZED: 2}


def test_instance_ids_take_resource_tokens(emu):
    ec2 = emu.client("ec2")
    throttle(emu, resources={"TerminateInstances": {"size": 3, "rate": 0.001}})
    ids = ["i-0123456789abcdef0", "i-0123456789abcdef1"]
    err = client_error(ec2.terminate_instances, InstanceIds=ids)
    assert not is_throttled(err)  # admitted: moto answers that the instances do not exist
    err = client_error(ec2.terminate_instances, InstanceIds=ids)
    assert is_throttled(err)
    [entry] = [e for e in emu.requests(action="TerminateInstances") if e.get("throttled")]
    assert entry["bucket"] == t.RESOURCE
    b = bucket(emu.admin("GET", "/throttling"), bucket=t.RESOURCE)
    assert (b["action"], b["size"], b["tokens"], b["throttled"]) == ("TerminateInstances", 3, 1, 1)


def test_other_services_are_never_throttled(emu):
    throttle(emu, scale=0.001)  # every EC2 bucket: one token
    for _ in range(5):
        emu.client("sts").get_caller_identity()
        emu.client("sns").list_topics()
        emu.client("dynamodb").list_tables()
        emu.client("elbv2").describe_load_balancers()
    state = emu.admin("GET", "/throttling")
    assert state["buckets"] == [] and state["throttled"] == 0
    emu.client("ec2").describe_vpcs()
    assert is_throttled(client_error(emu.client("ec2").describe_vpcs))


def test_off_nothing_is_throttled(emu):
    ec2 = emu.client("ec2")
    assert emu.admin("GET", "/throttling")["enabled"] is False
    for _ in range(3):
        ec2.create_internet_gateway()
    throttle(emu, enabled=False, categories={"mutating": {"size": 1, "rate": 0.001}})
    for _ in range(3):
        ec2.create_internet_gateway()
    throttle(emu, categories={"mutating": {"size": 1, "rate": 0.001}})
    ec2.create_internet_gateway()
    assert is_throttled(client_error(ec2.create_internet_gateway))
    off = emu.admin("DELETE", "/throttling")
    assert off["enabled"] is False and off["buckets"] == [] and off["throttled"] == 1  # counters stay
    for _ in range(3):
        ec2.create_internet_gateway()
    assert emu.admin("DELETE", "/throttling?counters=true")["throttled"] == 0
    throttle(emu, categories={"mutating": {"size": 1, "rate": 0.001}})
    emu.admin("POST", "/reset")
    assert emu.admin("GET", "/throttling")["enabled"] is False
    for _ in range(3):
        ec2.create_internet_gateway()


def test_buckets_come_before_fault_rules(emu):
    ec2 = emu.client("ec2")
    throttle(emu, categories={"mutating": {"size": 1, "rate": 0.001}})
    fault = emu.add_fault(action="CreateInternetGateway", error="InternalError", count=5)
    err = client_error(ec2.create_internet_gateway)  # admitted (takes the token), then the fault
    assert error_code(err) == "InternalError"
    assert is_throttled(client_error(ec2.create_internet_gateway))  # refused at the door
    first, second = emu.requests(action="CreateInternetGateway")
    assert first["fault_id"] == fault and "throttled" not in first
    assert second["throttled"] is True and "fault_id" not in second
    [rule] = emu.admin("GET", "/faults")["rules"]
    assert rule["matched"] == 1  # the throttled call never reached the rules


def test_raw_answer_is_ec2s_error_shape(emu):
    throttle(emu, categories={"mutating": {"size": 1, "rate": 0.001}})
    body = query_body("CreateInternetGateway", "2016-11-15")
    assert raw_call(emu.url, "ec2", body)[0] == 200
    status, headers, text = raw_call(emu.url, "ec2", body)
    assert status == 503
    assert "<Response><Errors><Error><Code>RequestLimitExceeded</Code>" in text
    assert "<RequestID>" in text


@pytest.mark.parametrize(
    "settings",
    [
        {"scale": 0},
        {"scale": "1"},
        {"enabled": "yes"},
        {"bogus": 1},
        {"categories": {"bogus": {"size": 1}}},
        {"categories": {"mutating": {"size": 0.5}}},
        {"categories": {"mutating": {"rate": 0}}},
        {"categories": {"mutating": {}}},
        {"categories": {"mutating": {"burst": 3}}},
        {"resources": {"CreateVpc": {"size": 3}}},
        {"actions": {"CreateVpc": 3}},
    ],
)
def test_invalid_settings_are_refused(emu, settings):
    status, body = emu.call("POST", "/vpcwarden-api/throttling", settings)
    assert status == 400 and "error" in body
    assert emu.admin("GET", "/throttling")["enabled"] is False
