"""Fault rules for EventBridge (JSON 1.1) and Security Hub (REST-JSON), and PutEvents entry failures."""

import json

import pytest

from helpers import client_error, error_code, http_status, raw_call

SOURCE = "vpcwarden.test"
PRODUCT = "arn:aws:securityhub:us-east-1:123456789012:product/123456789012/default"


# --------------------------------------------------------------------------- EventBridge


@pytest.fixture
def bus(emu):
    """A rule on the default bus that delivers every event of SOURCE to an SQS queue."""
    events, sqs = emu.client("events"), emu.client("sqs")
    queue = sqs.create_queue(QueueName="delivered")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="all", EventPattern=json.dumps({"source": [SOURCE]}))
    events.put_targets(Rule="all", Targets=[{"Id": "queue", "Arn": arn}])

    def delivered() -> list[dict]:
        out = []
        while True:
            got = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
            if not got:
                return out
            out += [json.loads(m["Body"]) for m in got]
            sqs.delete_message_batch(
                QueueUrl=queue, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)]
            )

    return events, delivered


def entries(n: int) -> list[dict]:
    return [{"Source": SOURCE, "DetailType": "test", "Detail": json.dumps({"n": i})} for i in range(n)]


def test_put_events_throttled_whole_in_json_1_1_shape(emu, bus):
    events, delivered = bus
    emu.add_fault(service="events", action="PutEvents", count=1)  # default: RequestLimitExceeded
    err = client_error(events.put_events, Entries=entries(2))
    assert (error_code(err), http_status(err)) == ("ThrottlingException", 400)
    assert err.response["ResponseMetadata"]["HTTPHeaders"]["x-amzn-errortype"] == "ThrottlingException"
    assert delivered() == []  # the call never reached moto
    [entry] = emu.requests(action="PutEvents")
    assert (entry["service"], entry["fault"], entry["status"]) == ("events", True, 400)
    events.put_events(Entries=entries(1))
    assert len(delivered()) == 1


def test_put_events_error_body_is_json_1_1(emu):
    emu.add_fault(service="events", error="InternalError", count=1)
    status, headers, body = raw_call(
        emu.url,
        "events",
        json.dumps({"Entries": entries(1)}),
        content_type="application/x-amz-json-1.1",
        headers={"X-Amz-Target": "AWSEvents.PutEvents"},
    )
    assert status == 500
    assert headers["Content-Type"] == "application/x-amz-json-1.1"
    assert headers["x-amzn-ErrorType"] == "InternalException"
    assert json.loads(body) == {"__type": "InternalException", "message": json.loads(body)["message"]}
    assert emu.requests()[0]["action"] == "PutEvents"


def test_entries_fraction_fails_some_entries_and_they_are_never_delivered(emu, bus):
    events, delivered = bus
    rule = emu.add_fault(service="events", action="PutEvents", entries_fraction=0.3, seed=7)
    answer = events.put_events(Entries=entries(10))
    assert http_status(answer) == 200
    failed = [i for i, e in enumerate(answer["Entries"]) if "ErrorCode" in e]
    assert 0 < len(failed) < 10, "seed 7 fails some of 10 entries at 0.3"
    assert answer["FailedEntryCount"] == len(failed)
    for i, e in enumerate(answer["Entries"]):
        if i in failed:
            assert e["ErrorCode"] == "InternalFailure" and e["ErrorMessage"] and "EventId" not in e
        else:
            assert set(e) == {"EventId"}
    got = delivered()
    # Only the entries that did not fail were delivered, with the ids the answer gave them.
    assert sorted(m["id"] for m in got) == sorted(e["EventId"] for e in answer["Entries"] if "EventId" in e)
    assert sorted(m["detail"]["n"] for m in got) == [i for i in range(10) if i not in failed]
    [logged] = emu.requests(action="PutEvents")
    assert (logged["status"], logged["fault"], logged["fault_id"], logged["failed_entries"]) == (200, False, rule, len(failed))
    state = emu.admin("GET", "/faults")
    assert state["failed_entries"] == len(failed) and state["injected"] == 0
    assert state["rules"][0]["entries_fraction"] == 0.3 and state["rules"][0]["status"] == 200


def test_entries_fraction_is_deterministic_with_a_seed(emu, bus):
    events, _ = bus

    def pattern() -> list[int]:
        emu.admin("DELETE", "/faults")
        emu.add_fault(action="PutEvents", entries_fraction=0.5, seed=42)
        answers = [events.put_events(Entries=entries(10)) for _ in range(3)]
        return [i for a in answers for i, e in enumerate(a["Entries"]) if "ErrorCode" in e]

    assert pattern() == pattern()


def test_entries_fraction_keeps_moto_failures_and_their_places(emu, bus):
    events, delivered = bus
    emu.add_fault(action="PutEvents", entries_fraction=1.0, error="ThrottlingException", count=1)
    batch = entries(3)
    answer = events.put_events(Entries=batch)
    assert answer["FailedEntryCount"] == 3
    assert {e["ErrorCode"] for e in answer["Entries"]} == {"ThrottlingException"}
    assert delivered() == []
    # The rule is used up: the next call is moto's alone, its own entry failure included.
    batch[1] = {"Source": SOURCE, "DetailType": "test", "Detail": "not json"}
    answer = events.put_events(Entries=batch)
    assert answer["FailedEntryCount"] == 1 and answer["Entries"][1]["ErrorCode"] == "MalformedDetail"
    assert len(delivered()) == 2


@pytest.mark.parametrize(
    "rule",
    [
        {"action": "PutEvents", "entries_fraction": 1.5},
        {"action": "PutRule", "entries_fraction": 0.5},
        {"service": "sqs", "action": "PutEvents", "entries_fraction": 0.5},
        {"action": "PutEvents", "entries_fraction": 0.5, "status": 500},
    ],
)
def test_invalid_entry_rules_are_refused(emu, rule):
    status, body = emu.call("POST", "/vpcwarden-api/faults", rule)
    assert status == 400 and "error" in body


# --------------------------------------------------------------------------- Security Hub


def finding(i: int) -> dict:
    return {
        "SchemaVersion": "2018-10-08",
        "Id": f"finding-{i}",
        "ProductArn": PRODUCT,
        "GeneratorId": "vpcwarden",
        "AwsAccountId": "123456789012",
        "Types": ["Software and Configuration Checks"],
        "CreatedAt": "2026-01-01T00:00:00Z",
        "UpdatedAt": "2026-01-01T00:00:00Z",
        "Severity": {"Label": "LOW"},
        "Title": "t",
        "Description": "d",
        "Resources": [{"Type": "Other", "Id": "r"}],
    }


def test_security_hub_actions_are_named_and_faulted_by_name(emu):
    hub = emu.client("securityhub")
    hub.enable_security_hub()
    emu.add_fault(service="securityhub", action="BatchImportFindings", count=1)
    err = client_error(hub.batch_import_findings, Findings=[finding(1)])
    assert (error_code(err), http_status(err)) == ("ThrottlingException", 429)
    assert hub.get_findings()["Findings"] == []  # another action: not matched
    assert hub.batch_import_findings(Findings=[finding(1)])["SuccessCount"] == 1
    emu.add_fault(service="securityhub", action="GetFindings", error="InternalError", count=1)
    err = client_error(hub.get_findings)
    assert (error_code(err), http_status(err)) == ("InternalException", 500)
    assert [(e["action"], e["status"], e["fault"]) for e in emu.requests(service="securityhub")] == [
        ("EnableSecurityHub", 200, False),
        ("BatchImportFindings", 429, True),
        ("GetFindings", 200, False),
        ("BatchImportFindings", 200, False),
        ("GetFindings", 500, True),
    ]


def test_security_hub_error_is_rest_json(emu):
    emu.add_fault(service="securityhub", count=1)
    status, headers, body = raw_call(
        emu.url, "securityhub", json.dumps({"Findings": [finding(1)]}), content_type="application/json", path="/findings/import"
    )
    assert status == 429
    assert headers["Content-Type"] == "application/json"
    assert headers["x-amzn-ErrorType"] == "ThrottlingException"
    assert json.loads(body) == {"Code": "ThrottlingException", "Message": json.loads(body)["Message"]}
    assert emu.requests()[0]["action"] == "BatchImportFindings"


@pytest.mark.parametrize(
    "service, call, signing_name, action",
    [
        ("sesv2", "list_email_identities", "ses", "ListEmailIdentities"),
        ("efs", "describe_file_systems", "elasticfilesystem", "DescribeFileSystems"),
        ("opensearch", "list_domain_names", "es", "ListDomainNames"),
    ],
)
def test_rest_actions_are_named_when_the_signing_name_is_not_the_model_name(emu, service, call, signing_name, action):
    getattr(emu.client(service), call)()
    [entry] = emu.requests()
    assert (entry["service"], entry["action"]) == (signing_name, action)
