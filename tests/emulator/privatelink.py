"""Test scaffolding for PrivateLink: a provider with an NLB-backed service, consumers."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

PROVIDER = "123456789012"
CONSUMER = "210987654321"
STRANGER = "333333333333"


def network(ec2: Any, cidr: str) -> tuple[str, str]:
    vpc_id = ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc_id, CidrBlock=cidr.replace("/16", "/24"), AvailabilityZone="us-east-1a")
    return vpc_id, subnet["Subnet"]["SubnetId"]


@dataclass
class Provider:
    ec2: Any
    elbv2: Any
    nlb_arn: str
    service_id: str = ""
    service_name: str = ""
    services: list[dict[str, Any]] = field(default_factory=list)

    def add_service(self, acceptance_required: bool = True, principals: list[str] | None = None) -> dict[str, Any]:
        svc = self.ec2.create_vpc_endpoint_service_configuration(
            NetworkLoadBalancerArns=[self.nlb_arn], AcceptanceRequired=acceptance_required
        )["ServiceConfiguration"]
        if principals:
            self.ec2.modify_vpc_endpoint_service_permissions(ServiceId=svc["ServiceId"], AddAllowedPrincipals=principals)
        self.services.append(svc)
        return svc


def make_provider(emu: Any, acceptance_required: bool = True, principals: list[str] | None = None) -> Provider:
    ec2 = emu.client("ec2")
    elbv2 = emu.client("elbv2")
    _, subnet = network(ec2, "10.0.0.0/16")
    nlb = elbv2.create_load_balancer(Name="svc-nlb", Subnets=[subnet], Type="network", Scheme="internal")
    provider = Provider(ec2=ec2, elbv2=elbv2, nlb_arn=nlb["LoadBalancers"][0]["LoadBalancerArn"])
    svc = provider.add_service(
        acceptance_required,
        principals if principals is not None else [f"arn:aws:iam::{CONSUMER}:root"],
    )
    provider.service_id, provider.service_name = svc["ServiceId"], svc["ServiceName"]
    return provider


@dataclass
class Consumer:
    ec2: Any
    vpc_id: str
    subnet_id: str

    def connect(self, service_name: str, tags: dict[str, str] | None = None) -> str:
        kwargs: dict[str, Any] = {
            "VpcEndpointType": "Interface",
            "VpcId": self.vpc_id,
            "ServiceName": service_name,
            "SubnetIds": [self.subnet_id],
        }
        if tags:
            kwargs["TagSpecifications"] = [
                {"ResourceType": "vpc-endpoint", "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}
            ]
        return self.ec2.create_vpc_endpoint(**kwargs)["VpcEndpoint"]["VpcEndpointId"]

    def state(self, vpce_id: str) -> str:
        [ep] = self.ec2.describe_vpc_endpoints(VpcEndpointIds=[vpce_id])["VpcEndpoints"]
        return ep["State"]


def make_consumer(emu: Any, account: str = CONSUMER, cidr: str = "10.1.0.0/16") -> Consumer:
    ec2 = emu.client("ec2", account=account)
    vpc_id, subnet = network(ec2, cidr)
    return Consumer(ec2=ec2, vpc_id=vpc_id, subnet_id=subnet)


def connections(ec2: Any, **filters: list[str]) -> list[dict[str, Any]]:
    flt = [{"Name": k.replace("_", "-"), "Values": v} for k, v in filters.items()]
    return ec2.describe_vpc_endpoint_connections(Filters=flt)["VpcEndpointConnections"]


class Inbox:
    """An SQS queue subscribed (raw delivery) to a new SNS topic."""

    def __init__(self, emu: Any, account: str = PROVIDER, name: str = "vpce-events") -> None:
        self.sns = emu.client("sns", account=account)
        self.sqs = emu.client("sqs", account=account)
        self.topic_arn = self.sns.create_topic(Name=name)["TopicArn"]
        self.queue_url = self.sqs.create_queue(QueueName=name)["QueueUrl"]
        queue_arn = self.sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        self.sns.subscribe(
            TopicArn=self.topic_arn,
            Protocol="sqs",
            Endpoint=queue_arn,
            Attributes={"RawMessageDelivery": "true"},
        )

    def messages(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        while True:
            got = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
            batch = got.get("Messages", [])
            if not batch:
                return out
            for m in batch:
                out.append(json.loads(m["Body"]))
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=m["ReceiptHandle"])
