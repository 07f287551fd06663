"""Describe/Accept/RejectVpcEndpointConnections and AcceptanceRequired.

Written from the EC2 API reference (DescribeVpcEndpointConnections,
AcceptVpcEndpointConnections, RejectVpcEndpointConnections, VpcEndpointConnection,
UnsuccessfulItem, CreateVpcEndpoint) and the PrivateLink guide (endpoint
lifecycle, allowed principals, acceptance).
"""

import datetime

from botocore.config import Config

from helpers import client_error, error_code, xml_without_namespaces
from privatelink import CONSUMER, PROVIDER, STRANGER, connections, make_consumer, make_provider


def test_acceptance_required_endpoint_waits_for_the_provider(emu):
    provider = make_provider(emu)
    consumer = make_consumer(emu)
    before = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=5)
    vpce = consumer.connect(provider.service_name, tags={"Name": "to-svc"})
    assert consumer.state(vpce) == "pendingAcceptance"

    [conn] = connections(provider.ec2)
    assert conn["ServiceId"] == provider.service_id
    assert conn["VpcEndpointId"] == vpce
    assert conn["VpcEndpointOwner"] == CONSUMER
    assert conn["VpcEndpointState"] == "pendingAcceptance"
    assert conn["CreationTimestamp"] >= before
    assert conn["NetworkLoadBalancerArns"] == [provider.nlb_arn]
    assert conn["DnsEntries"] and conn["DnsEntries"][0]["DnsName"].endswith(".vpce.amazonaws.com")
    assert conn["IpAddressType"] == "ipv4"
    assert conn["VpcEndpointConnectionId"].startswith("vpce-con-")
    assert conn["Tags"] == [{"Key": "Name", "Value": "to-svc"}]

    out = provider.ec2.accept_vpc_endpoint_connections(ServiceId=provider.service_id, VpcEndpointIds=[vpce])
    assert out["Unsuccessful"] == []
    assert consumer.state(vpce) == "available"
    assert connections(provider.ec2)[0]["VpcEndpointState"] == "available"


def test_no_acceptance_required_is_available_at_once(emu):
    provider = make_provider(emu, acceptance_required=False)
    consumer = make_consumer(emu)
    vpce = consumer.connect(provider.service_name)
    assert consumer.state(vpce) == "available"
    assert connections(provider.ec2)[0]["VpcEndpointState"] == "available"


def test_reject_pending_and_disconnect_available(emu):
    provider = make_provider(emu)
    consumer = make_consumer(emu)
    pending, accepted = consumer.connect(provider.service_name), consumer.connect(provider.service_name)
    provider.ec2.accept_vpc_endpoint_connections(ServiceId=provider.service_id, VpcEndpointIds=[accepted])
    out = provider.ec2.reject_vpc_endpoint_connections(ServiceId=provider.service_id, VpcEndpointIds=[pending, accepted])
    assert out["Unsuccessful"] == []
    assert consumer.state(pending) == "rejected"
    assert consumer.state(accepted) == "rejected"
    assert {c["VpcEndpointState"] for c in connections(provider.ec2)} == {"rejected"}


def test_unsuccessful_items_for_unknown_foreign_and_wrong_state(emu):
    provider = make_provider(emu)
    other = provider.add_service(principals=[f"arn:aws:iam::{CONSUMER}:root"])
    consumer = make_consumer(emu)
    mine, theirs = consumer.connect(provider.service_name), consumer.connect(other["ServiceName"])
    provider.ec2.accept_vpc_endpoint_connections(ServiceId=provider.service_id, VpcEndpointIds=[mine])
    unknown = "vpce-0123456789abcdef0"
    out = provider.ec2.accept_vpc_endpoint_connections(
        ServiceId=provider.service_id, VpcEndpointIds=[unknown, theirs, mine]
    )
    errors = {u["ResourceId"]: u["Error"]["Code"] for u in out["Unsuccessful"]}
    assert errors == {
        unknown: "InvalidVpcEndpointId.NotFound",
        theirs: "InvalidVpcEndpointId.NotFound",
        mine: "InvalidVpcEndpointState",
    }
    assert all(u["Error"]["Message"] for u in out["Unsuccessful"])
    assert consumer.state(theirs) == "pendingAcceptance"  # untouched
    # partial success: one good id among bad ones
    out = provider.ec2.reject_vpc_endpoint_connections(ServiceId=other["ServiceId"], VpcEndpointIds=[unknown, theirs])
    assert [u["ResourceId"] for u in out["Unsuccessful"]] == [unknown]
    assert consumer.state(theirs) == "rejected"
    out = provider.ec2.reject_vpc_endpoint_connections(ServiceId=other["ServiceId"], VpcEndpointIds=[theirs])
    assert out["Unsuccessful"][0]["Error"]["Code"] == "InvalidVpcEndpointState"


def test_only_the_service_owner_may_accept_or_reject(emu):
    provider = make_provider(emu)
    consumer = make_consumer(emu)
    vpce = consumer.connect(provider.service_name)
    for call in (consumer.ec2.accept_vpc_endpoint_connections, consumer.ec2.reject_vpc_endpoint_connections):
        err = client_error(call, ServiceId=provider.service_id, VpcEndpointIds=[vpce])
        assert error_code(err) == "InvalidVpcEndpointServiceId.NotFound"
    assert consumer.ec2.describe_vpc_endpoint_connections()["VpcEndpointConnections"] == []
    assert consumer.state(vpce) == "pendingAcceptance"


def test_consumer_must_be_an_allowed_principal(emu):
    provider = make_provider(emu)  # allows CONSUMER only
    stranger = make_consumer(emu, account=STRANGER, cidr="10.2.0.0/16")
    err = client_error(stranger.connect, provider.service_name)
    assert error_code(err) == "InvalidServiceName"
    assert connections(provider.ec2) == []
    # role ARNs in the account and "*" also grant access
    provider.ec2.modify_vpc_endpoint_service_permissions(
        ServiceId=provider.service_id, AddAllowedPrincipals=[f"arn:aws:iam::{STRANGER}:role/consumer"]
    )
    stranger.connect(provider.service_name)
    open_svc = provider.add_service(principals=["*"])
    anyone = make_consumer(emu, account="444444444444", cidr="10.3.0.0/16")
    assert anyone.state(anyone.connect(open_svc["ServiceName"])) == "pendingAcceptance"
    # the owner itself needs no permission
    own = make_consumer(emu, account=PROVIDER, cidr="10.4.0.0/16")
    assert own.state(own.connect(provider.services[0]["ServiceName"])) == "pendingAcceptance"


def test_unknown_service_name_fails(emu):
    make_provider(emu)
    consumer = make_consumer(emu)
    err = client_error(consumer.connect, "com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0")
    assert error_code(err) == "InvalidServiceName"
    assert consumer.ec2.describe_vpc_endpoints()["VpcEndpoints"] == []


def test_service_resolves_only_in_its_region(emu):
    provider = make_provider(emu)
    consumer = make_consumer(emu)
    elsewhere = provider.service_name.replace("us-east-1", "eu-west-1")
    err = client_error(consumer.connect, elsewhere)
    assert error_code(err) == "InvalidServiceName"


def test_filters(emu):
    provider = make_provider(emu)
    second = provider.add_service(principals=["*"])
    consumer = make_consumer(emu)
    other = make_consumer(emu, account=STRANGER, cidr="10.2.0.0/16")
    a = consumer.connect(provider.service_name)
    b = consumer.connect(second["ServiceName"])
    c = other.connect(second["ServiceName"])
    provider.ec2.accept_vpc_endpoint_connections(ServiceId=second["ServiceId"], VpcEndpointIds=[b])

    def ids(**f):
        return sorted(x["VpcEndpointId"] for x in connections(provider.ec2, **f))

    assert ids() == sorted([a, b, c])
    assert ids(service_id=[second["ServiceId"]]) == sorted([b, c])
    assert ids(vpc_endpoint_id=[a, c]) == sorted([a, c])
    assert ids(vpc_endpoint_owner=[STRANGER]) == [c]
    assert ids(vpc_endpoint_state=["pendingAcceptance"]) == sorted([a, c])
    assert ids(vpc_endpoint_state=["available"], service_id=[second["ServiceId"]]) == [b]
    err = client_error(
        provider.ec2.describe_vpc_endpoint_connections, Filters=[{"Name": "bogus", "Values": ["x"]}]
    )
    assert error_code(err) == "InvalidParameterValue"


def test_pagination(emu):
    provider = make_provider(emu)
    consumer = make_consumer(emu)
    made = sorted(consumer.connect(provider.service_name) for _ in range(7))
    first = provider.ec2.describe_vpc_endpoint_connections(MaxResults=5)
    assert len(first["VpcEndpointConnections"]) == 5
    second = provider.ec2.describe_vpc_endpoint_connections(MaxResults=5, NextToken=first["NextToken"])
    assert len(second["VpcEndpointConnections"]) == 2 and "NextToken" not in second
    seen = [c["VpcEndpointId"] for c in first["VpcEndpointConnections"] + second["VpcEndpointConnections"]]
    assert sorted(seen) == made
    pages = provider.ec2.get_paginator("describe_vpc_endpoint_connections").paginate(PaginationConfig={"PageSize": 5})
    assert sorted(c["VpcEndpointId"] for p in pages for c in p["VpcEndpointConnections"]) == made
    unchecked = emu.client("ec2", config=Config(parameter_validation=False))
    err = client_error(unchecked.describe_vpc_endpoint_connections, MaxResults=1001)
    assert error_code(err) == "InvalidParameterValue"


def test_consumer_deleting_the_endpoint_shows_deleted(emu):
    provider = make_provider(emu)
    consumer = make_consumer(emu)
    vpce = consumer.connect(provider.service_name)
    provider.ec2.accept_vpc_endpoint_connections(ServiceId=provider.service_id, VpcEndpointIds=[vpce])
    consumer.ec2.delete_vpc_endpoints(VpcEndpointIds=[vpce])
    assert connections(provider.ec2)[0]["VpcEndpointState"] == "deleted"
    out = provider.ec2.accept_vpc_endpoint_connections(ServiceId=provider.service_id, VpcEndpointIds=[vpce])
    assert out["Unsuccessful"][0]["Error"]["Code"] == "InvalidVpcEndpointState"


def test_wire_shape(emu):
    provider = make_provider(emu)
    consumer = make_consumer(emu)
    vpce = consumer.connect(provider.service_name)
    raw = {}

    def grab(http_response, model, **_):
        raw[model.name] = http_response.content

    provider.ec2.meta.events.register("after-call.ec2.*", grab)
    provider.ec2.describe_vpc_endpoint_connections()
    provider.ec2.accept_vpc_endpoint_connections(ServiceId=provider.service_id, VpcEndpointIds=["vpce-0000"])
    root = xml_without_namespaces(raw["DescribeVpcEndpointConnections"])
    assert root.tag == "DescribeVpcEndpointConnectionsResponse"
    item = root.find("vpcEndpointConnectionSet/item")
    assert item.find("vpcEndpointId").text == vpce
    assert item.find("vpcEndpointState").text == "pendingAcceptance"
    assert item.find("networkLoadBalancerArnSet/item").text == provider.nlb_arn
    assert item.find("dnsEntrySet/item/dnsName").text
    assert item.find("creationTimestamp").text.endswith("Z")
    root = xml_without_namespaces(raw["AcceptVpcEndpointConnections"])
    assert root.find("unsuccessful/item/resourceId").text == "vpce-0000"
    assert root.find("unsuccessful/item/error/code").text == "InvalidVpcEndpointId.NotFound"


def test_consumer_sees_the_service_it_may_use(emu):
    provider = make_provider(emu)
    consumer = make_consumer(emu)
    out = consumer.ec2.describe_vpc_endpoint_services(ServiceNames=[provider.service_name])
    [detail] = out["ServiceDetails"]
    assert detail["ServiceName"] == provider.service_name
    assert detail["Owner"] == PROVIDER
    assert detail["AcceptanceRequired"] is True
    assert out["ServiceNames"] == [provider.service_name]
    stranger = make_consumer(emu, account=STRANGER, cidr="10.2.0.0/16")
    err = client_error(stranger.ec2.describe_vpc_endpoint_services, ServiceNames=[provider.service_name])
    assert error_code(err) == "InvalidServiceName"


def test_service_with_live_connections_cannot_be_deleted(emu):
    provider = make_provider(emu)
    consumer = make_consumer(emu)
    vpce = consumer.connect(provider.service_name)
    out = provider.ec2.delete_vpc_endpoint_service_configurations(ServiceIds=[provider.service_id])
    assert [(u["ResourceId"], u["Error"]["Code"]) for u in out["Unsuccessful"]] == [
        (provider.service_id, "ExistingVpcEndpointConnections")
    ]
    provider.ec2.reject_vpc_endpoint_connections(ServiceId=provider.service_id, VpcEndpointIds=[vpce])
    missing = "vpce-svc-0123456789abcdef0"
    out = provider.ec2.delete_vpc_endpoint_service_configurations(ServiceIds=[provider.service_id, missing])
    assert [(u["ResourceId"], u["Error"]["Code"]) for u in out["Unsuccessful"]] == [
        (missing, "InvalidVpcEndpointService.NotFound")
    ]
    assert provider.ec2.describe_vpc_endpoint_service_configurations()["ServiceConfigurations"] == []
    assert connections(provider.ec2) == []
    assert consumer.state(vpce) == "rejected"
