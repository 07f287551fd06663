"""DescribeVpcPeeringConnections filters/pagination/expiry, VPC info, options, failures.

Written from the EC2 API reference (DescribeVpcPeeringConnections,
VpcPeeringConnection, VpcPeeringConnectionVpcInfo, ModifyVpcPeeringConnectionOptions)
and the VPC peering lifecycle in the VPC Peering Guide.
"""

import datetime
import pytest

from botocore.config import Config

from helpers import client_error, error_code, xml_without_namespaces

A = "123456789012"
B = "210987654321"
SEVEN_DAYS = 7 * 24 * 3600


def vpc(ec2, cidr, *extra, ipv6=False):
    vpc_id = ec2.create_vpc(CidrBlock=cidr, AmazonProvidedIpv6CidrBlock=ipv6)["Vpc"]["VpcId"]
    for block in extra:
        ec2.associate_vpc_cidr_block(VpcId=vpc_id, CidrBlock=block)
    return vpc_id


def peer(ec2, vpc_id, peer_vpc_id, owner=None, region=None, tags=None):
    kwargs = {"VpcId": vpc_id, "PeerVpcId": peer_vpc_id}
    if owner:
        kwargs["PeerOwnerId"] = owner
    if region:
        kwargs["PeerRegion"] = region
    if tags:
        kwargs["TagSpecifications"] = [
            {"ResourceType": "vpc-peering-connection", "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}
        ]
    return ec2.create_vpc_peering_connection(**kwargs)["VpcPeeringConnection"]["VpcPeeringConnectionId"]


def ids(ec2, *filters, **kwargs):
    flt = [{"Name": n, "Values": v} for n, v in filters]
    out = ec2.describe_vpc_peering_connections(Filters=flt, **kwargs)["VpcPeeringConnections"]
    return sorted(p["VpcPeeringConnectionId"] for p in out)


@pytest.fixture
def world(emu):
    """Account A: a1, a2, a3, a4; account B: b1.  Peerings in several states."""
    ec2 = emu.client("ec2")
    ec2_b = emu.client("ec2", account=B)
    a1, a2, a3, a4 = (vpc(ec2, f"10.{i}.0.0/16") for i in (1, 2, 3, 4))
    b1 = vpc(ec2_b, "10.50.0.0/16")
    w = {"ec2": ec2, "ec2_b": ec2_b, "a1": a1, "a2": a2, "a3": a3, "a4": a4, "b1": b1}
    w["pending"] = peer(ec2, a1, a2, tags={"Name": "one", "team": "net"})
    w["cross"] = peer(ec2, a1, b1, owner=B, tags={"Name": "two"})
    w["active"] = peer(ec2, a2, a3)
    ec2.accept_vpc_peering_connection(VpcPeeringConnectionId=w["active"])
    w["rejected"] = peer(ec2, a3, a4)
    ec2.reject_vpc_peering_connection(VpcPeeringConnectionId=w["rejected"])
    return w


def test_status_code_filter(world):
    ec2 = world["ec2"]
    assert ids(ec2, ("status-code", ["active"])) == [world["active"]]
    assert ids(ec2, ("status-code", ["pending-acceptance"])) == sorted([world["pending"], world["cross"]])
    assert ids(ec2, ("status-code", ["active", "rejected"])) == sorted([world["active"], world["rejected"]])
    assert ids(ec2, ("status-code", ["deleted"])) == []


def test_vpc_info_filters(world):
    ec2 = world["ec2"]
    assert ids(ec2, ("accepter-vpc-info.owner-id", [B])) == [world["cross"]]
    assert ids(ec2, ("requester-vpc-info.owner-id", [A])) == sorted(
        [world["pending"], world["cross"], world["active"], world["rejected"]]
    )
    assert ids(ec2, ("requester-vpc-info.vpc-id", [world["a1"]])) == sorted([world["pending"], world["cross"]])
    assert ids(ec2, ("accepter-vpc-info.vpc-id", [world["a3"]])) == [world["active"]]
    assert ids(ec2, ("accepter-vpc-info.cidr-block", ["10.4.0.0/16"])) == [world["rejected"]]
    assert ids(ec2, ("vpc-peering-connection-id", [world["cross"], world["active"]])) == sorted(
        [world["cross"], world["active"]]
    )
    # filters AND together
    assert ids(
        ec2, ("requester-vpc-info.vpc-id", [world["a1"]]), ("accepter-vpc-info.owner-id", [A])
    ) == [world["pending"]]


def test_tag_filters(world):
    ec2 = world["ec2"]
    assert ids(ec2, ("tag:Name", ["one"])) == [world["pending"]]
    assert ids(ec2, ("tag:Name", ["one", "two"])) == sorted([world["pending"], world["cross"]])
    assert ids(ec2, ("tag:Name", ["t*"])) == [world["cross"]]
    assert ids(ec2, ("tag-key", ["team"])) == [world["pending"]]
    assert ids(ec2, ("tag:team", ["nope"])) == []


def test_accepter_account_sees_cross_account_request(world):
    ec2_b = world["ec2_b"]
    assert ids(ec2_b, ("status-code", ["pending-acceptance"]), ("requester-vpc-info.owner-id", [A])) == [world["cross"]]
    ec2_b.accept_vpc_peering_connection(VpcPeeringConnectionId=world["cross"])
    assert ids(world["ec2"], ("status-code", ["active"]), ("accepter-vpc-info.owner-id", [B])) == [world["cross"]]


def test_unknown_filter_and_unknown_id_are_errors(world):
    ec2 = world["ec2"]
    err = client_error(ec2.describe_vpc_peering_connections, Filters=[{"Name": "bogus", "Values": ["x"]}])
    assert error_code(err) == "InvalidParameterValue"
    err = client_error(ec2.describe_vpc_peering_connections, VpcPeeringConnectionIds=["pcx-0123456789abcdef0"])
    assert error_code(err) == "InvalidVpcPeeringConnectionID.NotFound"
    err = client_error(ec2.accept_vpc_peering_connection, VpcPeeringConnectionId="pcx-0123456789abcdef0")
    assert error_code(err) == "InvalidVpcPeeringConnectionID.NotFound"


def test_pagination(emu):
    ec2 = emu.client("ec2")
    hub = vpc(ec2, "10.100.0.0/16")
    made = sorted(peer(ec2, hub, vpc(ec2, f"10.{i}.0.0/16")) for i in range(7))
    first = ec2.describe_vpc_peering_connections(MaxResults=5)
    assert len(first["VpcPeeringConnections"]) == 5 and first["NextToken"]
    second = ec2.describe_vpc_peering_connections(MaxResults=5, NextToken=first["NextToken"])
    assert len(second["VpcPeeringConnections"]) == 2 and "NextToken" not in second
    seen = [p["VpcPeeringConnectionId"] for p in first["VpcPeeringConnections"] + second["VpcPeeringConnections"]]
    assert sorted(seen) == made
    pages = ec2.get_paginator("describe_vpc_peering_connections").paginate(PaginationConfig={"PageSize": 5})
    assert sorted(p["VpcPeeringConnectionId"] for page in pages for p in page["VpcPeeringConnections"]) == made
    # filters apply before pagination
    flt = [{"Name": "vpc-peering-connection-id", "Values": made[:6]}]
    page = ec2.describe_vpc_peering_connections(Filters=flt, MaxResults=5)
    rest = ec2.describe_vpc_peering_connections(Filters=flt, MaxResults=5, NextToken=page["NextToken"])
    assert len(rest["VpcPeeringConnections"]) == 1
    unchecked = emu.client("ec2", config=Config(parameter_validation=False))
    for bad in (4, 1001):
        err = client_error(unchecked.describe_vpc_peering_connections, MaxResults=bad)
        assert error_code(err) == "InvalidParameterValue"
    err = client_error(ec2.describe_vpc_peering_connections, MaxResults=5, NextToken="garbage!")
    assert error_code(err) == "InvalidNextToken"


def test_expiration_time_while_pending_and_expiry(emu):
    ec2 = emu.client("ec2")
    a, b = vpc(ec2, "10.1.0.0/16"), vpc(ec2, "10.2.0.0/16")
    before = datetime.datetime.now(datetime.timezone.utc)
    pcx_id = peer(ec2, a, b)
    [pcx] = ec2.describe_vpc_peering_connections(VpcPeeringConnectionIds=[pcx_id])["VpcPeeringConnections"]
    assert pcx["Status"]["Code"] == "pending-acceptance"
    expires = pcx["ExpirationTime"]
    assert datetime.timedelta(days=7) - datetime.timedelta(minutes=1) <= expires - before <= datetime.timedelta(days=7, minutes=1)

    other = peer(ec2, a, vpc(ec2, "10.3.0.0/16"))
    ec2.accept_vpc_peering_connection(VpcPeeringConnectionId=other)
    [active] = ec2.describe_vpc_peering_connections(VpcPeeringConnectionIds=[other])["VpcPeeringConnections"]
    assert "ExpirationTime" not in active

    emu.admin("POST", "/clock", {"advance_seconds": SEVEN_DAYS + 1})
    [pcx] = ec2.describe_vpc_peering_connections(VpcPeeringConnectionIds=[pcx_id])["VpcPeeringConnections"]
    assert pcx["Status"]["Code"] == "expired"
    assert "ExpirationTime" not in pcx
    assert ids(ec2, ("status-code", ["expired"])) == [pcx_id]
    err = client_error(ec2.accept_vpc_peering_connection, VpcPeeringConnectionId=pcx_id)
    assert error_code(err) == "InvalidStateTransition"


def test_overlapping_cidrs_fail(emu):
    ec2 = emu.client("ec2")
    a = vpc(ec2, "10.1.0.0/16", "10.9.0.0/16")
    b = vpc(ec2, "10.9.128.0/17")
    pcx_id = peer(ec2, a, b)
    [pcx] = ec2.describe_vpc_peering_connections(VpcPeeringConnectionIds=[pcx_id])["VpcPeeringConnections"]
    assert pcx["Status"]["Code"] == "failed"
    err = client_error(ec2.accept_vpc_peering_connection, VpcPeeringConnectionId=pcx_id)
    assert error_code(err) == "InvalidStateTransition"


def test_vpc_info_cidr_sets_region_owner_and_options(emu):
    ec2 = emu.client("ec2")
    ec2_b = emu.client("ec2", account=B, region="eu-west-1")
    a = vpc(ec2, "10.1.0.0/16", "10.11.0.0/16", ipv6=True)
    b = vpc(ec2_b, "10.2.0.0/16")
    pcx_id = peer(ec2, a, b, owner=B, region="eu-west-1")
    [pcx] = ec2.describe_vpc_peering_connections(VpcPeeringConnectionIds=[pcx_id])["VpcPeeringConnections"]
    req, acc = pcx["RequesterVpcInfo"], pcx["AccepterVpcInfo"]
    assert [c["CidrBlock"] for c in req["CidrBlockSet"]] == ["10.1.0.0/16", "10.11.0.0/16"]
    assert len(req["Ipv6CidrBlockSet"]) == 1 and req["Ipv6CidrBlockSet"][0]["Ipv6CidrBlock"].endswith("/56")
    assert (req["OwnerId"], req["Region"], req["VpcId"]) == (A, "us-east-1", a)
    assert (acc["OwnerId"], acc["Region"], acc["VpcId"]) == (B, "eu-west-1", b)
    assert [c["CidrBlock"] for c in acc["CidrBlockSet"]] == ["10.2.0.0/16"]
    assert "Ipv6CidrBlockSet" not in acc
    assert "PeeringOptions" not in req and "PeeringOptions" not in acc

    ec2_b.accept_vpc_peering_connection(VpcPeeringConnectionId=pcx_id)
    [pcx] = ec2_b.describe_vpc_peering_connections(VpcPeeringConnectionIds=[pcx_id])["VpcPeeringConnections"]
    assert pcx["Status"]["Code"] == "active"
    assert pcx["RequesterVpcInfo"]["PeeringOptions"]["AllowDnsResolutionFromRemoteVpc"] is False
    assert pcx["AccepterVpcInfo"]["PeeringOptions"]["AllowDnsResolutionFromRemoteVpc"] is False


def test_vpc_info_wire_shape(emu):
    ec2 = emu.client("ec2")
    a = vpc(ec2, "10.1.0.0/16", "10.11.0.0/16")
    pcx_id = peer(ec2, a, vpc(ec2, "10.2.0.0/16"))
    raw = {}
    ec2.meta.events.register(
        "after-call.ec2.DescribeVpcPeeringConnections",
        lambda http_response, **_: raw.setdefault("body", http_response.content),
    )
    ec2.describe_vpc_peering_connections(VpcPeeringConnectionIds=[pcx_id])
    root = xml_without_namespaces(raw["body"])
    item = root.find("vpcPeeringConnectionSet/item")
    assert item is not None
    blocks = item.findall("requesterVpcInfo/cidrBlockSet/item/cidrBlock")
    assert [b.text for b in blocks] == ["10.1.0.0/16", "10.11.0.0/16"]
    assert item.find("expirationTime").text.endswith("Z")
    assert item.find("requesterVpcInfo/region").text == "us-east-1"
    assert item.find("status/code").text == "pending-acceptance"


def test_modify_peering_options(emu):
    ec2 = emu.client("ec2")
    ec2_b = emu.client("ec2", account=B)
    a, b = vpc(ec2, "10.1.0.0/16"), vpc(ec2_b, "10.2.0.0/16")
    pcx_id = peer(ec2, a, b, owner=B)
    on = {"AllowDnsResolutionFromRemoteVpc": True}
    err = client_error(
        ec2.modify_vpc_peering_connection_options, VpcPeeringConnectionId=pcx_id, RequesterPeeringConnectionOptions=on
    )
    assert error_code(err) == "OperationNotPermitted"
    ec2_b.accept_vpc_peering_connection(VpcPeeringConnectionId=pcx_id)

    out = ec2.modify_vpc_peering_connection_options(VpcPeeringConnectionId=pcx_id, RequesterPeeringConnectionOptions=on)
    assert out["RequesterPeeringConnectionOptions"]["AllowDnsResolutionFromRemoteVpc"] is True
    # the accepter's side belongs to the accepter
    err = client_error(
        ec2.modify_vpc_peering_connection_options, VpcPeeringConnectionId=pcx_id, AccepterPeeringConnectionOptions=on
    )
    assert error_code(err) == "OperationNotPermitted"
    [pcx] = ec2.describe_vpc_peering_connections(VpcPeeringConnectionIds=[pcx_id])["VpcPeeringConnections"]
    assert pcx["RequesterVpcInfo"]["PeeringOptions"]["AllowDnsResolutionFromRemoteVpc"] is True
    assert pcx["AccepterVpcInfo"]["PeeringOptions"]["AllowDnsResolutionFromRemoteVpc"] is False

    ec2_b.modify_vpc_peering_connection_options(VpcPeeringConnectionId=pcx_id, AccepterPeeringConnectionOptions=on)
    [pcx] = ec2_b.describe_vpc_peering_connections(VpcPeeringConnectionIds=[pcx_id])["VpcPeeringConnections"]
    assert pcx["AccepterVpcInfo"]["PeeringOptions"]["AllowDnsResolutionFromRemoteVpc"] is True
