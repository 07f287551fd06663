"""The notification rules, rendered: each rule of infra/sam/template.yaml (equal to Terraform's:
test_parity.py) is created in the emulator on a bus, with its pattern and its input transformer,
targeting an SQS queue instead of the topic; sample events, each valid against its JSON Schema
(shared/schemas/events), are published, and the text delivered must read as intended. Events the
rules must not pass (a medium finding, an acceptance) deliver nothing.
"""

from __future__ import annotations

import json
import os

import jsonschema
import pytest

import infra_support as support
from infra_support import Cfn

BUS = "vpcwarden-events"
ACCOUNT = "123456789012"
RULES = ("NotifyApprovalRequestedRule", "NotifyFindingOpenedRule", "NotifyDecisionRefusedRule")
PCX = "pcx-0a1b2c3d4e5f60718"
VPCE = "vpce-0123456789abcdef0"
SERVICE = "vpce-svc-0123456789abcdef0"

SAMPLES = [
    (
        "Approval Requested",
        {
            "request": PCX,
            "kind": "peering",
            "account": "444444444444",
            "region": "us-east-1",
            "target": "vpc-0a1b2c3d",
            "requester_vpc": "vpc-0d1b2c3d",
            "cidrs": ["10.4.0.0/16"],
            "checks": [{"check": "grant", "passed": False, "detail": "no peering grant for account 444444444444 into vpc-0a1b2c3d (nor peering#*)"}],
            "first_seen": "2026-11-29T03:00:00.000000000Z",
            "approve_command": f"vpcwarden approve {PCX}",
            "deny_command": f"vpcwarden deny {PCX} --reason '<why>'",
        },
    ),
    (
        "Finding Opened",
        {
            "finding_id": "beb4c3ab5ecb945a",
            "code": "PEERING_ROUTE_MISSING",
            "severity": "high",
            "account": ACCOUNT,
            "region": "us-east-1",
            "resource": "rtb-0c1b2c3d",
            "first_seen": "2026-11-29T03:00:00Z",
            "message": "rtb-0c1b2c3d has no route 10.1.0.0/16 through pcx-0a1b2c3d4e5f60718.",
        },
    ),
    (
        "Finding Opened",
        {
            "finding_id": "0123456789abcdef",
            "code": "PEERING_PENDING_UNLISTED",
            "severity": "medium",
            "account": ACCOUNT,
            "region": "us-east-1",
            "resource": PCX,
            "first_seen": "2026-11-29T03:00:00Z",
            "message": "not notified: medium",
        },
    ),
    (
        "Peering Decision",
        {
            "decision": "ignored",
            "pcx": PCX,
            "reason_code": "cidr-not-allowed",
            "reason": "requester CIDR 10.5.0.0/16 is not within the grant's allowed CIDRs (10.9.0.0/16)",
            "requester": {"account": "555555555555", "vpc": "vpc-0e1b2c3d", "region": "us-east-1", "cidrs": ["10.5.0.0/16"]},
            "accepter": {"account": ACCOUNT, "vpc": "vpc-0a1b2c3d", "region": "us-east-1"},
            "dry_run": False,
        },
    ),
    (
        "Endpoint Connection Decision",
        {
            "decision": "accept-failed",
            "service": SERVICE,
            "endpoint": VPCE,
            "account": "210987654321",
            "reason_code": "granted",
            "reason": "StateNotReached: the call succeeded but the connection reads pendingAcceptance",
            "dry_run": False,
        },
    ),
    (
        "Peering Decision",
        {
            "decision": "accepted",
            "pcx": PCX,
            "reason": "a live grant matches and the CIDR checks pass",
            "requester": {"account": "555555555555", "vpc": "vpc-0e1b2c3d", "region": "us-east-1"},
            "accepter": {"account": ACCOUNT, "vpc": "vpc-0a1b2c3d", "region": "us-east-1"},
            "dry_run": False,
        },
    ),
]

EXPECTED = {
    "NotifyApprovalRequestedRule": [
        f"vpcwarden asks for a decision: account 444444444444 requests a peering connection, {PCX}, into vpc-0a1b2c3d in "
        "us-east-1 (first seen 2026-11-29T03:00:00.000000000Z), and no grant admits it. "
        f"To approve: vpcwarden approve {PCX} - or to deny: vpcwarden deny {PCX} --reason '<why>'"
    ],
    "NotifyFindingOpenedRule": [
        f"vpcwarden found new high drift in account {ACCOUNT} (us-east-1): PEERING_ROUTE_MISSING on rtb-0c1b2c3d. "
        "rtb-0c1b2c3d has no route 10.1.0.0/16 through pcx-0a1b2c3d4e5f60718. (finding beb4c3ab5ecb945a, first seen "
        "2026-11-29T03:00:00Z; the nightly report says how to fix it)"
    ],
    "NotifyDecisionRefusedRule": [
        f"vpcwarden ignored: {PCX} from account 555555555555 into vpc-0a1b2c3d (Peering Decision): requester CIDR "
        "10.5.0.0/16 is not within the grant's allowed CIDRs (10.9.0.0/16) [cidr-not-allowed]. The ledger holds the "
        "details under that id.",
        f"vpcwarden accept-failed: {VPCE} from account 210987654321 into {SERVICE} (Endpoint Connection Decision): "
        "StateNotReached: the call succeeded but the connection reads pendingAcceptance [granted]. The ledger holds the "
        "details under that id.",
    ],
}


def schema(detail_type: str) -> dict:
    name = detail_type.lower().replace(" ", "-") + ".schema.json"
    with open(os.path.join(support.ROOT, "shared", "schemas", "events", name)) as f:
        return json.load(f)


@pytest.fixture(scope="module")
def emu(tmp_path_factory: pytest.TempPathFactory):
    emulator = support.EmulatorProcess(str(tmp_path_factory.mktemp("notifications") / "emulator.log"))
    try:
        yield emulator
    finally:
        emulator.stop()


def test_the_samples_are_valid_events() -> None:
    for detail_type, detail in SAMPLES:
        jsonschema.validate(detail, schema(detail_type), format_checker=jsonschema.FormatChecker())


def test_each_rule_renders_its_paragraph_and_passes_nothing_else(emu, sam_template: dict) -> None:
    cfn = Cfn(sam_template, {"EventBus": BUS, "NotificationEmail": "network-team@example.com"})
    events, sqs = emu.client("events"), emu.client("sqs")
    events.create_event_bus(Name=BUS)
    queues = {}
    for lid in RULES:
        rule = cfn.properties(lid)
        assert rule["EventBusName"] == BUS
        url = sqs.create_queue(QueueName=lid)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        events.put_rule(Name=lid, EventBusName=BUS, EventPattern=rule["EventPattern"])
        (target,) = [t for t in rule["Targets"] if t["Id"] == "topic"]
        events.put_targets(Rule=lid, EventBusName=BUS, Targets=[{"Id": "q", "Arn": arn, "InputTransformer": target["InputTransformer"]}])
        queues[lid] = url
    entries = [
        {"Source": "vpcwarden", "DetailType": t, "Detail": json.dumps(d), "EventBusName": BUS, "Resources": []}
        for t, d in SAMPLES
    ]
    out = events.put_events(Entries=entries)
    assert out["FailedEntryCount"] == 0, out
    for lid, url in queues.items():
        bodies = [m["Body"] for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])]
        # A text template is delivered with its own quotes.
        assert sorted(bodies) == sorted(f'"{text}"' for text in EXPECTED[lid]), lid
