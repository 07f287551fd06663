"""Routes to a VPC peering connection that is deleted/rejected/expired/failed are blackholes.

From the EC2 API reference: Route.State "blackhole" means the route's target
isn't available; DescribeRouteTables filter ``route.state`` (active | blackhole).
"""

from botocore.config import Config

from helpers import client_error, error_code

SEVEN_DAYS = 7 * 24 * 3600


def setup_route(ec2, peer_cidr="10.2.0.0/16", dest="10.2.0.0/16"):
    a = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    b = ec2.create_vpc(CidrBlock=peer_cidr)["Vpc"]["VpcId"]
    pcx = ec2.create_vpc_peering_connection(VpcId=a, PeerVpcId=b)["VpcPeeringConnection"]["VpcPeeringConnectionId"]
    rtb = ec2.create_route_table(VpcId=a)["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=rtb, DestinationCidrBlock=dest, VpcPeeringConnectionId=pcx)
    return pcx, rtb


def route_state(ec2, rtb, pcx):
    [table] = ec2.describe_route_tables(RouteTableIds=[rtb])["RouteTables"]
    [route] = [r for r in table["Routes"] if r.get("VpcPeeringConnectionId") == pcx]
    return route["State"]


def blackholed_tables(ec2):
    tables = ec2.describe_route_tables(Filters=[{"Name": "route.state", "Values": ["blackhole"]}])["RouteTables"]
    return [t["RouteTableId"] for t in tables]


def test_route_is_active_while_peering_is_active_then_blackhole_when_deleted(emu):
    ec2 = emu.client("ec2")
    pcx, rtb = setup_route(ec2)
    assert route_state(ec2, rtb, pcx) == "active"
    ec2.accept_vpc_peering_connection(VpcPeeringConnectionId=pcx)
    assert route_state(ec2, rtb, pcx) == "active"
    assert blackholed_tables(ec2) == []
    ec2.delete_vpc_peering_connection(VpcPeeringConnectionId=pcx)
    assert route_state(ec2, rtb, pcx) == "blackhole"
    assert blackholed_tables(ec2) == [rtb]
    active = ec2.describe_route_tables(Filters=[{"Name": "route.state", "Values": ["active"]}])["RouteTables"]
    assert rtb in [t["RouteTableId"] for t in active]  # its local route is still active


def test_rejected_peering_blackholes(emu):
    ec2 = emu.client("ec2")
    pcx, rtb = setup_route(ec2)
    ec2.reject_vpc_peering_connection(VpcPeeringConnectionId=pcx)
    assert route_state(ec2, rtb, pcx) == "blackhole"


def test_expired_peering_blackholes(emu):
    ec2 = emu.client("ec2")
    pcx, rtb = setup_route(ec2)
    emu.admin("POST", "/clock", {"advance_seconds": SEVEN_DAYS + 60})
    assert route_state(ec2, rtb, pcx) == "blackhole"
    assert blackholed_tables(ec2) == [rtb]


def test_failed_peering_blackholes(emu):
    ec2 = emu.client("ec2")
    pcx, rtb = setup_route(ec2, peer_cidr="10.1.0.0/24", dest="10.200.0.0/16")
    assert route_state(ec2, rtb, pcx) == "blackhole"


def test_route_tables_page_with_max_results_and_filters_apply_first(emu):
    ec2 = emu.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    made = []
    for i in range(7):
        rtb = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
        ec2.create_tags(Resources=[rtb], Tags=[{"Key": "peering", "Value": "yes" if i < 6 else "no"}])
        made.append(rtb)
    tagged = [{"Name": "tag:peering", "Values": ["yes"]}]
    first = ec2.describe_route_tables(Filters=tagged, MaxResults=5)
    assert len(first["RouteTables"]) == 5 and first["NextToken"]
    rest = ec2.describe_route_tables(Filters=tagged, MaxResults=5, NextToken=first["NextToken"])
    assert len(rest["RouteTables"]) == 1 and "NextToken" not in rest
    seen = [t["RouteTableId"] for t in first["RouteTables"] + rest["RouteTables"]]
    assert sorted(seen) == sorted(made[:6])
    assert all(t["Tags"] == [{"Key": "peering", "Value": "yes"}] for t in first["RouteTables"])
    # without MaxResults every table (the main one too) comes in one answer
    in_vpc = [{"Name": "vpc-id", "Values": [vpc]}]
    assert len(ec2.describe_route_tables(Filters=in_vpc)["RouteTables"]) == 8
    pages = ec2.get_paginator("describe_route_tables").paginate(PaginationConfig={"PageSize": 5})
    assert sorted(t["RouteTableId"] for page in pages for t in page["RouteTables"] if t["RouteTableId"] in made) == sorted(made)


def test_route_tables_page_bounds_are_awss(emu):
    unchecked = emu.client("ec2", config=Config(parameter_validation=False))
    for bad in (4, 101):
        err = client_error(unchecked.describe_route_tables, MaxResults=bad)
        assert error_code(err) == "InvalidParameterValue"
    ec2 = emu.client("ec2")
    assert ec2.describe_route_tables(MaxResults=100)["RouteTables"] is not None
    err = client_error(ec2.describe_route_tables, MaxResults=5, NextToken="garbage!")
    assert error_code(err) == "InvalidNextToken"


def test_tags_follow_create_and_delete(emu):
    ec2 = emu.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    rtb = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    other = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.create_tags(Resources=[rtb, other], Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}])
    ec2.delete_tags(Resources=[other], Tags=[{"Key": "a"}])
    [t] = ec2.describe_route_tables(RouteTableIds=[rtb])["RouteTables"]
    assert sorted((x["Key"], x["Value"]) for x in t["Tags"]) == [("a", "1"), ("b", "2")]
    [o] = ec2.describe_route_tables(RouteTableIds=[other])["RouteTables"]
    assert o["Tags"] == [{"Key": "b", "Value": "2"}]
    found = ec2.describe_route_tables(Filters=[{"Name": "tag:a", "Values": ["1"]}])["RouteTables"]
    assert [x["RouteTableId"] for x in found] == [rtb]
    assert [x["VpcId"] for x in ec2.describe_vpcs(VpcIds=[vpc])["Vpcs"]] == [vpc]
