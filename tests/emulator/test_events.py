"""EventBridge: custom bus, PutEvents, event patterns, SQS and SNS targets, input transformation.

Written from the EventBridge API reference (PutEvents, PutTargets, Target,
InputTransformer), the User Guide pages "Amazon EventBridge events" (the event
envelope), "Event patterns" and "Amazon EventBridge input transformation".
What AWS answers for a bus that does not exist is not in the reference: it
answers an EventId and drops the event (aws/aws-cli#9186; LocalStack's
AWS-validated snapshot of test_put_events_nonexistent_event_bus, 2025-01).
"""

import json
import re

import pytest

from helpers import client_error, error_code

A = "123456789012"
BUS = "vpcwarden"
PATTERN = {"source": ["vpcwarden"], "detail-type": ["Finding Opened"], "detail": {"severity": ["critical", "high"]}}


def entry(severity="critical", bus=BUS, detail_type="Finding Opened", source="vpcwarden", **detail):
    e = {
        "Source": source,
        "DetailType": detail_type,
        "Detail": json.dumps({"finding_id": "f-1", "severity": severity, "account": "210987654321", **detail}),
        "Resources": ["arn:aws:ec2:us-east-1:123456789012:vpc-peering-connection/pcx-1"],
    }
    if bus:
        e["EventBusName"] = bus
    return e


class World:
    def __init__(self, emu):
        self.emu = emu
        self.events = emu.client("events")
        self.sqs = emu.client("sqs")
        self.bus_arn = self.events.create_event_bus(Name=BUS)["EventBusArn"]

    def queue(self, name):
        url = self.sqs.create_queue(QueueName=name)["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        return url, arn

    def rule(self, name, target, pattern=PATTERN, bus=BUS, **target_extra):
        self.events.put_rule(Name=name, EventBusName=bus, EventPattern=json.dumps(pattern))
        self.events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": "t", "Arn": target, **target_extra}])

    def bodies(self, url):
        out = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
        return [m["Body"] for m in out.get("Messages", [])]


@pytest.fixture
def world(emu):
    return World(emu)


def test_custom_bus_by_name_or_arn_delivers_the_whole_event_to_sqs(world):
    url, arn = world.queue("findings")
    world.rule("opened", arn)
    out = world.events.put_events(Entries=[entry(bus=BUS), entry(bus=world.bus_arn, severity="high")])
    assert out["FailedEntryCount"] == 0
    ids = [e["EventId"] for e in out["Entries"]]
    bodies = world.bodies(url)
    assert len(bodies) == 2
    event = json.loads(bodies[0])
    assert list(event) == ["version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"]
    assert event["version"] == "0"
    assert event["id"] == ids[0]
    assert (event["detail-type"], event["source"], event["account"], event["region"]) == (
        "Finding Opened", "vpcwarden", A, "us-east-1")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", event["time"])
    assert event["resources"] == ["arn:aws:ec2:us-east-1:123456789012:vpc-peering-connection/pcx-1"]
    assert event["detail"] == {"finding_id": "f-1", "severity": "critical", "account": "210987654321"}
    assert json.loads(bodies[1])["id"] == ids[1]


def test_pattern_on_source_detail_type_and_a_detail_field(world):
    url, arn = world.queue("findings")
    world.rule("opened", arn)
    world.events.put_events(
        Entries=[
            entry(severity="low"),
            entry(detail_type="Finding Resolved"),
            entry(source="somebody-else"),
            entry(severity="high"),
        ]
    )
    assert [json.loads(b)["detail"]["severity"] for b in world.bodies(url)] == ["high"]


def test_an_entry_time_is_the_event_time(world):
    import datetime

    url, arn = world.queue("findings")
    world.rule("opened", arn)
    world.events.put_events(Entries=[{**entry(), "Time": datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)}])
    assert json.loads(world.bodies(url)[0])["time"] == "2026-01-02T03:04:05Z"


def test_at_most_10_entries(world):
    out = world.events.put_events(Entries=[entry() for _ in range(10)])
    assert len(out["Entries"]) == 10 and out["FailedEntryCount"] == 0
    err = client_error(world.events.put_events, Entries=[entry() for _ in range(11)])
    assert error_code(err) == "ValidationException"


def test_invalid_entries_fail_alone(world):
    no_detail = entry()
    del no_detail["Detail"]
    out = world.events.put_events(Entries=[entry(), no_detail, {**entry(), "Detail": "{not json"}])
    assert out["FailedEntryCount"] == 2
    assert "EventId" in out["Entries"][0]
    assert out["Entries"][1]["ErrorCode"] == "InvalidArgument"
    assert out["Entries"][2]["ErrorCode"] == "MalformedDetail"


def test_a_bus_that_does_not_exist_answers_an_event_id_and_drops_the_event(world):
    url, arn = world.queue("default-bus")
    world.rule("on-default", arn, bus="default", pattern={"source": ["vpcwarden"]})
    missing_arn = world.bus_arn.replace(f"event-bus/{BUS}", "event-bus/nope")
    out = world.events.put_events(Entries=[entry(bus="nope"), entry(bus=missing_arn), entry(bus=None)])
    assert out["FailedEntryCount"] == 0
    assert all("EventId" in e for e in out["Entries"])
    # Only the entry for the default bus arrives.
    assert [json.loads(b)["id"] for b in world.bodies(url)] == [out["Entries"][2]["EventId"]]


def test_disabled_rules_receive_nothing(world):
    url, arn = world.queue("findings")
    world.rule("opened", arn)
    world.events.disable_rule(Name="opened", EventBusName=BUS)
    world.events.put_events(Entries=[entry()])
    assert world.bodies(url) == []


def test_a_target_that_does_not_exist_does_not_fail_put_events(world):
    world.rule("opened", f"arn:aws:sqs:us-east-1:{A}:no-such-queue")
    out = world.events.put_events(Entries=[entry()])
    assert out["FailedEntryCount"] == 0


# -- input ---------------------------------------------------------------------------------------------
def transformer(template, **paths):
    return {"InputTransformer": {"InputPathsMap": paths, "InputTemplate": template}}


def test_string_template_delivers_plain_text_with_its_quotes(world):
    url, arn = world.queue("text")
    world.rule(
        "text", arn,
        **transformer('"Finding <id> (<sev>) opened for <acct> in <region>"',
                      id="$.detail.finding_id", sev="$.detail.severity", acct="$.detail.account", region="$.region"),
    )
    world.events.put_events(Entries=[entry()])
    assert world.bodies(url) == ['"Finding f-1 (critical) opened for 210987654321 in us-east-1"']


def test_string_template_writes_objects_lists_and_missing_values_as_text(world):
    url, arn = world.queue("text")
    world.rule(
        "text", arn,
        **transformer('"<res> <pair> [<missing>] <flag>"',
                      res="$.resources", pair="$.detail.pair", missing="$.detail.nothing", flag="$.detail.flag"),
    )
    world.events.put_events(Entries=[entry(pair={"a": "x", "b": 2}, flag=True)])
    assert world.bodies(url) == [
        '"[arn:aws:ec2:us-east-1:123456789012:vpc-peering-connection/pcx-1] {a:x,b:2} [] true"'
    ]


def test_json_template_quotes_strings_outside_quotes_and_embeds_objects(world):
    url, arn = world.queue("json")
    world.rule(
        "json", arn,
        **transformer('{"finding": <id>, "text": "severity <sev>!", "detail": <detail>, "missing": <nope>, "n": <n>}',
                      id="$.detail.finding_id", sev="$.detail.severity", detail="$.detail", nope="$.detail.nothing",
                      n="$.detail.n"),
    )
    world.events.put_events(Entries=[entry(n=3)])
    [body] = world.bodies(url)
    assert json.loads(body) == {
        "finding": "f-1",
        "text": "severity critical!",
        "detail": {"finding_id": "f-1", "severity": "critical", "account": "210987654321", "n": 3},
        "missing": "",
        "n": 3,
    }


def test_json_template_with_an_object_inside_quotes_delivers_nothing(world):
    url, arn = world.queue("json")
    world.rule("json", arn, **transformer('{"detail": "<detail>"}', detail="$.detail"))
    out = world.events.put_events(Entries=[entry()])
    assert out["FailedEntryCount"] == 0
    assert world.bodies(url) == []


def test_predefined_variables(world):
    url, arn = world.queue("predefined")
    world.rule("opened", arn, **transformer('"<aws.events.rule-name> <aws.events.rule-arn> <aws.events.event.ingestion-time>"'))
    world.events.put_events(Entries=[entry()])
    [body] = world.bodies(url)
    name, rule_arn, ingested = body.strip('"').split(" ")
    assert name == "opened"
    assert rule_arn == f"arn:aws:events:us-east-1:{A}:rule/{BUS}/opened"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", ingested)


def test_undefined_placeholder_is_rejected_by_put_targets(world):
    world.events.put_rule(Name="r", EventBusName=BUS, EventPattern=json.dumps(PATTERN))
    err = client_error(
        world.events.put_targets, Rule="r", EventBusName=BUS,
        Targets=[{"Id": "t1", "Arn": world.queue("q")[1], **transformer('"<a> <b>"', a="$.id")}],
    )
    assert error_code(err) == "ValidationException"
    assert err.response["Error"]["Message"] == "InputTemplate for target t1 contains invalid placeholder b."


def test_input_and_input_path(world):
    url_fixed, arn_fixed = world.queue("fixed")
    url_path, arn_path = world.queue("path")
    world.rule("fixed", arn_fixed, Input='{"fixed": true}')
    world.rule("path", arn_path, InputPath="$.detail")
    world.events.put_events(Entries=[entry()])
    assert world.bodies(url_fixed) == ['{"fixed": true}']
    assert json.loads(world.bodies(url_path)[0]) == {"finding_id": "f-1", "severity": "critical", "account": "210987654321"}


# -- SNS targets ----------------------------------------------------------------------------------------------
def subscribed_queue(world, topic_arn, name, raw=False):
    url, arn = world.queue(name)
    sns = world.emu.client("sns")
    attributes = {"RawMessageDelivery": "true"} if raw else {}
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn, Attributes=attributes)
    return url


def test_sns_topic_target_publishes_the_event(world):
    topic = world.emu.client("sns").create_topic(Name="vpcwarden-events")["TopicArn"]
    url = subscribed_queue(world, topic, "via-sns")
    world.rule("opened", topic)
    out = world.events.put_events(Entries=[entry()])
    [body] = world.bodies(url)
    notification = json.loads(body)
    assert notification["Type"] == "Notification"
    assert notification["TopicArn"] == topic
    event = json.loads(notification["Message"])
    assert event["id"] == out["Entries"][0]["EventId"]
    assert event["account"] == A
    assert event["detail"]["severity"] == "critical"


def test_sns_topic_target_with_a_text_template(world):
    topic = world.emu.client("sns").create_topic(Name="vpcwarden-mail")["TopicArn"]
    url = subscribed_queue(world, topic, "raw", raw=True)
    world.rule("mail", topic, **transformer('"Finding <id> needs a person"', id="$.detail.finding_id"))
    world.events.put_events(Entries=[entry()])
    assert world.bodies(url) == ['"Finding f-1 needs a person"']
