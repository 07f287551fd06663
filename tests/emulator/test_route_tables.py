"""Routes to a VPC peering connection that is deleted/rejected/expired/failed are blackholes.

From the EC2 API reference: Route.State "blackhole" means the route's target
isn't available; DescribeRouteTables filter ``route.state`` (active | blackhole).
"""

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
