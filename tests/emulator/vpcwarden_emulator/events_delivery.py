"""EventBridge: PutEvents and what SQS and SNS targets receive.

Against moto.events.models (EventsBackend.put_events / put_targets, Rule.send_to_targets):

* PutEvents to a bus that does not exist answers an EventId for the entry and
  drops the event, as AWS does (moto failed the whole call with
  ResourceNotFoundException).  More than 10 entries is still a ValidationException.
  A bus may be named by name or ARN.  Disabled rules and rules without an event
  pattern (scheduled rules) receive nothing.
* SQS and SNS targets (SNS raised NotImplementedError in moto) receive:
  - without Input, InputPath or InputTransformer, the whole event:
    ``version, id, detail-type, source, account, time, region, resources, detail``
    (moto left out ``account``);
  - ``Input``: that text; ``InputPath``: the JSON the path selects;
  - ``InputTransformer``: the template with its placeholders replaced, as the
    EventBridge User Guide ("Amazon EventBridge input transformation") describes:
    a template that is not a JSON object is delivered as text, surrounding quotes
    included (moto could only deliver JSON).  See ``render_template``.
  A target that cannot be reached (no such queue or topic) loses the event
  without failing PutEvents.  Other targets are delivered by moto as before.
* PutTargets rejects an InputTemplate placeholder that InputPathsMap does not
  define (ValidationException).
"""

from __future__ import annotations

import copy
import datetime
import json
import re
import sys
from typing import Any

from moto.events.exceptions import ValidationException
from moto.events.models import EventsBackend, Rule, events_backends
from moto.moto_api._internal import mock_random as random
from moto.utilities.arns import parse_arn

MAX_ENTRIES = 10
PREDEFINED = ("aws.events.rule-arn", "aws.events.rule-name", "aws.events.event.ingestion-time",
              "aws.events.event", "aws.events.event.json")
_PLACEHOLDER = re.compile(r"<([^<>\s]+)>")
# A placeholder that could not be rendered where it stands: the target receives nothing.
_DROP = object()


# -- the event as targets see it ------------------------------------------------------
def iso_time(value: Any) -> str:
    if isinstance(value, (int, float)):
        moment = datetime.datetime.fromtimestamp(float(value), tz=datetime.timezone.utc)
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(value)


def envelope(event: dict[str, Any]) -> dict[str, Any]:
    """The event in AWS's field order, from moto's internal form (``time`` as epoch seconds)."""
    result = {
        "version": event.get("version", "0"),
        "id": event["id"],
        "detail-type": event["detail-type"],
        "source": event["source"],
        "account": event["account"],
        "time": iso_time(event["time"]),
        "region": event["region"],
        "resources": list(event.get("resources") or []),
        "detail": event.get("detail", {}),
    }
    if "replay-name" in event:
        result["replay-name"] = event["replay-name"]
    return result


def predefined_values(rule: Rule, event: dict[str, Any], ingested: Any) -> dict[str, Any]:
    without_detail = {
        "id": event["id"], "account": event["account"], "detailType": event["detail-type"], "time": event["time"],
        "source": event["source"], "region": event["region"], "resources": event["resources"],
        "version": event["version"],
    }
    return {
        "aws.events.rule-arn": rule.arn,
        "aws.events.rule-name": rule.name,
        "aws.events.event.ingestion-time": iso_time(ingested),
        "aws.events.event": without_detail,
        "aws.events.event.json": event,
    }


def extract(path: str, event: dict[str, Any]) -> Any:
    from jsonpath_ng.ext import parse

    found = parse(path).find(event)  # type: ignore[no-untyped-call]
    return found[0].value if found else None


# -- input transformation ------------------------------------------------------------------
def as_text(value: Any) -> str:
    """A value written into text: strings as they are, objects and lists without quotes."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "{" + ",".join(f"{k}:{as_text(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(as_text(v) for v in value) + "]"
    return json.dumps(value)


def _in_json_value(value: Any, quoted: bool) -> Any:
    """A value written into a JSON template, inside a string literal or as a value of its own."""
    if quoted:
        if isinstance(value, (dict, list)):
            return _DROP  # an object cannot stand inside a string: AWS delivers nothing
        return json.dumps(as_text(value), ensure_ascii=False)[1:-1]
    return json.dumps("" if value is None else value, ensure_ascii=False)


def render_template(template: str, values: dict[str, Any]) -> str | None:
    """Replace ``<name>`` placeholders; None when the result is not deliverable.

    A template that is a JSON object gets JSON values: a string placeholder
    outside quotes becomes a quoted string, inside quotes its plain text.  Any
    other template is text: every value is written as plain text and the
    template's own quotes stay.  A missing value is an empty string.
    """
    is_json = template.lstrip().startswith("{")
    out: list[str] = []
    in_string, i = False, 0
    while i < len(template):
        char = template[i]
        match = _PLACEHOLDER.match(template, i) if char == "<" else None
        if match and match.group(1) in values:
            value = values[match.group(1)]
            piece = _in_json_value(value, in_string) if is_json else as_text(value)
            if piece is _DROP:
                return None
            out.append(piece)  # type: ignore[arg-type]
            i = match.end()
            continue
        if char == '"' and (i == 0 or template[i - 1] != "\\"):
            in_string = not in_string
        out.append(char)
        i += 1
    text = "".join(out)
    if is_json:
        try:
            json.loads(text)
        except ValueError:
            return None
    return text


def target_input(target: dict[str, Any], rule: Rule, event: dict[str, Any], ingested: Any) -> str | None:
    """What the target receives for ``event``, or None if nothing."""
    if target.get("Input") is not None:
        return target["Input"]
    if target.get("InputPath"):
        selected = extract(target["InputPath"], event)
        return None if selected is None else compact(selected)
    transformer = target.get("InputTransformer")
    if transformer:
        values = {name: extract(path, event) for name, path in (transformer.get("InputPathsMap") or {}).items()}
        values.update(predefined_values(rule, event, ingested))
        return render_template(transformer["InputTemplate"], values)
    return compact(event)


def compact(value: Any) -> str:
    """JSON as EventBridge writes it: no spaces."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


# -- delivery ---------------------------------------------------------------------------------
def send_to_sqs(target: dict[str, Any], body: str) -> None:
    from moto.sqs import sqs_backends

    arn = parse_arn(target["Arn"])
    group_id = (target.get("SqsParameters") or {}).get("MessageGroupId")
    sqs = sqs_backends[arn.account][arn.region]
    if group_id and sqs.get_queue(arn.resource_id).attributes.get("ContentBasedDeduplication") != "true":
        return  # EventBridge needs content-based deduplication on a FIFO queue.
    sqs.send_message(queue_name=arn.resource_id, message_body=body, group_id=group_id)


def send_to_sns(target: dict[str, Any], body: str) -> None:
    from moto.sns.models import sns_backends

    arn = parse_arn(target["Arn"])
    sns_backends[arn.account][arn.region].publish(message=body, arn=target["Arn"])


SENDERS = {"sqs": send_to_sqs, "sns": send_to_sns}
_original_send_to_targets = Rule.send_to_targets


def send_to_targets(self: Rule, original_event: dict[str, Any], transform_input: bool = True) -> None:
    if self.state != "ENABLED" or not self.event_pattern.get_pattern():
        return
    if not self.event_pattern.matches_event(original_event):  # type: ignore[arg-type]
        return
    event = envelope(original_event)
    others = []
    for target in self.targets:
        sender = SENDERS.get(parse_arn(target["Arn"]).service)
        if sender is None:
            others.append(target)
            continue
        if transform_input:
            body = target_input(target, self, event, original_event.get("ingestion-time", original_event["time"]))
        else:
            body = compact(event)  # a replayed event is delivered as it was archived
        if body is not None:
            _deliver(sender, target, body)
    if others:
        rest = copy.copy(self)
        rest.targets = others
        _original_send_to_targets(rest, original_event, transform_input)  # type: ignore[arg-type]


def _deliver(sender: Any, target: dict[str, Any], body: str) -> None:
    try:
        sender(target, body)
    except Exception as exc:  # noqa: BLE001 - AWS loses the event, PutEvents still succeeds
        print(f"events: delivery to {target['Arn']} failed: {exc!r}", file=sys.stderr)


# -- backend -------------------------------------------------------------------------------------
def entry_error(entry: dict[str, Any]) -> dict[str, str] | None:
    for name in ("Source", "DetailType", "Detail"):
        if not entry.get(name):
            return {
                "ErrorCode": "InvalidArgument",
                "ErrorMessage": f"Parameter {name} is not valid. Reason: {name} is a required argument.",
            }
    try:
        json.loads(entry["Detail"])
    except ValueError:
        return {"ErrorCode": "MalformedDetail", "ErrorMessage": "Detail is malformed."}
    return None


def bus_backend(self: EventsBackend, name_or_arn: str | None) -> tuple[EventsBackend, str]:
    """The backend and name of the bus an entry is for (an ARN may name another account's bus)."""
    if not name_or_arn:
        return self, "default"
    if name_or_arn.startswith("arn:"):
        arn = parse_arn(name_or_arn)
        return events_backends[arn.account][arn.region], arn.resource_id
    return self, name_or_arn


def put_events(self: EventsBackend, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if len(events) > MAX_ENTRIES:
        raise ValidationException(
            "1 validation error detected: Value '[PutEventsRequestEntry]' at 'entries' failed to satisfy "
            f"constraint: Member must have length less than or equal to {MAX_ENTRIES}"
        )
    results = []
    for entry in events:
        error = entry_error(entry)
        if error:
            results.append(error)
            continue
        event_id = str(random.uuid4())
        results.append({"EventId": event_id})
        backend, name = bus_backend(self, entry.get("EventBusName"))
        bus = backend.event_buses.get(name)
        if bus is None:
            continue  # AWS answers an EventId and the event goes nowhere.
        event = internal_event(self, entry, event_id)
        for rule in list(bus.rules.values()):
            rule.send_to_targets(event)
    return results


def internal_event(self: EventsBackend, entry: dict[str, Any], event_id: str) -> dict[str, Any]:
    """The event in moto's internal form, which moto's own targets expect."""
    from moto.core.utils import unix_time

    now = unix_time()
    return {
        "version": "0",
        "id": event_id,
        "detail-type": entry["DetailType"],
        "source": entry["Source"],
        "account": self.account_id,
        "time": entry.get("Time", now),
        "region": self.region_name,
        "resources": entry.get("Resources", []),
        "detail": json.loads(entry["Detail"]),
        "ingestion-time": now,
    }


_original_put_targets = EventsBackend.put_targets


def put_targets(self: EventsBackend, name: str, event_bus_arn: str | None, targets: list[dict[str, Any]]) -> None:
    for target in targets:
        check_input_transformer(target)
    _original_put_targets(self, name, event_bus_arn, targets)


def check_input_transformer(target: dict[str, Any]) -> None:
    transformer = target.get("InputTransformer")
    if not transformer:
        return
    defined = set((transformer.get("InputPathsMap") or {}).keys())
    reserved = defined & set(PREDEFINED)
    if reserved:
        raise ValidationException(f"InputPathsMap for target {target['Id']} uses the reserved variable {sorted(reserved)[0]}.")
    for placeholder in _PLACEHOLDER.findall(transformer.get("InputTemplate", "")):
        if placeholder not in defined and placeholder not in PREDEFINED:
            raise ValidationException(f"InputTemplate for target {target['Id']} contains invalid placeholder {placeholder}.")


def apply() -> None:
    EventsBackend.put_events = put_events  # type: ignore[method-assign]
    EventsBackend.put_targets = put_targets  # type: ignore[method-assign]
    Rule.send_to_targets = send_to_targets  # type: ignore[method-assign]
