"""Network load balancer ARNs are ``loadbalancer/net/...`` and stay usable everywhere.

From the ELBv2 API reference / ARN format: arn:aws:elasticloadbalancing:<region>:<account>:
loadbalancer/app|net|gwy/<name>/<id>; listener/net/<name>/<lb-id>/<listener-id>.
"""

import re

from privatelink import network

NET_ARN = re.compile(r"^arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/svc-nlb/[0-9a-f]+$")


def test_network_load_balancer_arn_and_everything_keyed_by_it(emu):
    ec2, elbv2 = emu.client("ec2"), emu.client("elbv2")
    vpc_id, subnet = network(ec2, "10.0.0.0/16")
    nlb = elbv2.create_load_balancer(Name="svc-nlb", Subnets=[subnet], Type="network", Scheme="internal")[
        "LoadBalancers"
    ][0]
    arn = nlb["LoadBalancerArn"]
    assert NET_ARN.match(arn), arn
    assert nlb["Type"] == "network"

    assert elbv2.describe_load_balancers(LoadBalancerArns=[arn])["LoadBalancers"][0]["LoadBalancerName"] == "svc-nlb"
    assert elbv2.describe_load_balancers(Names=["svc-nlb"])["LoadBalancers"][0]["LoadBalancerArn"] == arn

    tg = elbv2.create_target_group(Name="svc-tg", Protocol="TCP", Port=443, VpcId=vpc_id, TargetType="ip")[
        "TargetGroups"
    ][0]["TargetGroupArn"]
    elbv2.register_targets(TargetGroupArn=tg, Targets=[{"Id": "10.0.0.10", "Port": 443}])
    listener = elbv2.create_listener(
        LoadBalancerArn=arn, Protocol="TCP", Port=443, DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}]
    )["Listeners"][0]
    assert ":listener/net/svc-nlb/" in listener["ListenerArn"]
    assert listener["LoadBalancerArn"] == arn
    assert [l["ListenerArn"] for l in elbv2.describe_listeners(LoadBalancerArn=arn)["Listeners"]] == [
        listener["ListenerArn"]
    ]
    [group] = elbv2.describe_target_groups(LoadBalancerArn=arn)["TargetGroups"]
    assert group["TargetGroupArn"] == tg and group["LoadBalancerArns"] == [arn]
    health = elbv2.describe_target_health(TargetGroupArn=tg)["TargetHealthDescriptions"]
    assert [h["Target"]["Id"] for h in health] == ["10.0.0.10"]

    elbv2.add_tags(ResourceArns=[arn], Tags=[{"Key": "team", "Value": "net"}])
    assert elbv2.describe_tags(ResourceArns=[arn])["TagDescriptions"][0]["Tags"] == [{"Key": "team", "Value": "net"}]
    attrs = elbv2.describe_load_balancer_attributes(LoadBalancerArn=arn)["Attributes"]
    assert attrs

    svc = ec2.create_vpc_endpoint_service_configuration(NetworkLoadBalancerArns=[arn], AcceptanceRequired=False)[
        "ServiceConfiguration"
    ]
    assert svc["NetworkLoadBalancerArns"] == [arn]
    assert svc["ServiceType"] == [{"ServiceType": "Interface"}]
    [described] = ec2.describe_vpc_endpoint_service_configurations(ServiceIds=[svc["ServiceId"]])[
        "ServiceConfigurations"
    ]
    assert described["NetworkLoadBalancerArns"] == [arn]

    elbv2.delete_listener(ListenerArn=listener["ListenerArn"])
    elbv2.delete_load_balancer(LoadBalancerArn=arn)
    assert elbv2.describe_load_balancers()["LoadBalancers"] == []


def test_application_and_gateway_load_balancer_arns(emu):
    ec2, elbv2 = emu.client("ec2"), emu.client("elbv2")
    _, subnet = network(ec2, "10.0.0.0/16")
    _, subnet2 = network(ec2, "10.1.0.0/16")
    alb = elbv2.create_load_balancer(Name="web", Subnets=[subnet])["LoadBalancers"][0]["LoadBalancerArn"]
    assert ":loadbalancer/app/web/" in alb
    gwy = elbv2.create_load_balancer(Name="fw", Subnets=[subnet2], Type="gateway")["LoadBalancers"][0][
        "LoadBalancerArn"
    ]
    assert ":loadbalancer/gwy/fw/" in gwy
