"""Fault injection on demand: throttling, server errors and delays.

A rule matches calls by service and/or action and fires either for the next
``count`` matching calls, for a deterministic ``fraction`` of them (seeded), or
(neither given) for every matching call until the rules are cleared.  When a
rule fires, the request never reaches moto: the client gets an error in the
calling service's own wire protocol (so SDK retry classifiers see exactly what
AWS would send), optionally after ``delay_ms``.  A rule with ``"error": null``
only delays the call and then lets moto answer it normally.

An ``entries_fraction`` rule (EventBridge ``PutEvents`` only) fails entries, not
the call: the call reaches moto without the failed entries, and the answer lists
them as failed (see entry_faults.py).
"""

from __future__ import annotations

import json
import random
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape

# Default HTTP status per error code, as AWS sends them.
DEFAULT_STATUS = {
    "RequestLimitExceeded": 503,  # EC2
    "Throttling": 400,  # query protocol services (STS, ELBv2, SNS, ...)
    "ThrottlingException": 400,  # JSON protocol services
    "SlowDown": 503,  # S3
    "InternalError": 500,
    "InternalFailure": 500,
    "InternalServerError": 500,
    "ServiceUnavailable": 503,
}
KNOWN_ERRORS = (
    "RequestLimitExceeded",
    "Throttling",
    "ThrottlingException",
    "InternalError",
    "ServiceUnavailable",
)
THROTTLING_ERRORS = {"RequestLimitExceeded", "Throttling", "ThrottlingException"}
# The generic server error of KNOWN_ERRORS, which each protocol or service spells its own way.
INTERNAL_ERRORS = {"InternalError"}
# Services whose own codes (and statuses) differ from their protocol's, from their botocore
# models: EventBridge (JSON 1.1) and Security Hub (REST-JSON; ThrottlingException is 429 there).
SERVICE_ERRORS = {
    ("events", "throttling"): ("ThrottlingException", 400),
    ("events", "internal"): ("InternalException", 500),
    ("securityhub", "throttling"): ("ThrottlingException", 429),
    ("securityhub", "internal"): ("InternalException", 500),
}
# REST-JSON services whose error bodies carry "Code" and "Message" (their models' exception
# members); others get {"message": …}. Either way the code is in x-amzn-ErrorType.
CODE_IN_BODY = {"securityhub"}
MESSAGES = {
    "RequestLimitExceeded": "Request limit exceeded.",
    "Throttling": "Rate exceeded",
    "ThrottlingException": "Rate of requests exceeds the allowed throughput.",
    "SlowDown": "Please reduce your request rate.",
    "InternalError": "An internal error has occurred",
    "InternalServerError": "Internal server error",
    "InternalException": "An internal error has occurred",
    "ServiceUnavailable": "Service is unable to handle request.",
}
# The admin API accepts moto's backend names as well as SigV4 signing names.
SERVICE_ALIASES = {
    "elbv2": "elasticloadbalancing",
    "elb": "elasticloadbalancing",
    "cloudwatch": "monitoring",
    "events": "events",
}
RULE_KEYS = {
    "action",
    "service",
    "count",
    "fraction",
    "seed",
    "error",
    "status",
    "delay_ms",
    "message",
    "entries_fraction",
    "params",
}
# The code a failed PutEvents entry carries unless the rule says otherwise: AWS's retryable one.
DEFAULT_ENTRY_ERROR = "InternalFailure"
ENTRY_MESSAGES = {
    "InternalFailure": "The request processing has failed because of an unknown error, exception or failure.",
    "ThrottlingException": "The request was denied due to request throttling.",
}

# Wire protocol per SigV4 signing name, for the services vpcwarden talks to and
# other common ones.  The request's content type, when it has one, wins over this
# table (see ``protocol_for``).
PROTOCOLS = {
    "ec2": "ec2",
    "s3": "rest-xml",
    "dynamodb": "json",
    "events": "json",
    "logs": "json",
    "kms": "json",
    "sqs": "json",
    "securityhub": "rest-json",
    "lambda": "rest-json",
    "apigateway": "rest-json",
    "sts": "query",
    "sns": "query",
    "iam": "query",
    "elasticloadbalancing": "query",
    "cloudformation": "query",
    "autoscaling": "query",
    "rds": "query",
    "ses": "query",
    "elasticache": "query",
    "monitoring": "query",
    "sdb": "query",
    "redshift": "query",
}


def normalise_service(name: str | None) -> str | None:
    if name is None:
        return None
    name = name.lower()
    return SERVICE_ALIASES.get(name, name)


def protocol_for(service: str | None, content_type: str) -> str:
    """ec2, query, json (JSON 1.0/1.1), rest-json or rest-xml."""
    known = PROTOCOLS.get(service or "")
    if known in ("ec2", "rest-xml"):
        return known
    if content_type.startswith("application/x-www-form-urlencoded"):
        return "query"
    if content_type.startswith("application/x-amz-json"):
        return "json"
    if content_type.startswith("application/json"):
        return "rest-json"
    # No body (e.g. a REST GET): the table, else REST-JSON, the protocol of most newer services.
    return known or "rest-json"


class RuleError(ValueError):
    pass


@dataclass
class FaultRule:
    id: str
    action: str | None = None
    service: str | None = None
    count: int | None = None
    fraction: float | None = None
    seed: int | None = None
    error: str | None = "RequestLimitExceeded"
    status: int | None = None
    delay_ms: int = 0
    message: str | None = None
    entries_fraction: float | None = None
    # Query-protocol parameters the call must carry, e.g. {"RoleArn": "arn:aws:iam::…:role/x"}:
    # one account's role failing among many, one table's CreateRoute.
    params: dict[str, str] | None = None
    matched: int = 0
    fired: int = 0
    _rng: random.Random = field(default_factory=random.Random, repr=False)

    @classmethod
    def from_json(cls, rule_id: str, body: dict[str, Any]) -> FaultRule:
        if not isinstance(body, dict):
            raise RuleError("the fault rule must be a JSON object")
        unknown = set(body) - RULE_KEYS
        if unknown:
            raise RuleError(f"unknown keys: {sorted(unknown)}")
        rule = cls(id=rule_id)
        rule.action = body.get("action")
        rule.service = normalise_service(body.get("service"))
        if body.get("count") is not None:
            rule.count = int(body["count"])
            if rule.count < 1:
                raise RuleError("count must be >= 1")
        if body.get("fraction") is not None:
            rule.fraction = float(body["fraction"])
            if not 0.0 <= rule.fraction <= 1.0:
                raise RuleError("fraction must be within [0, 1]")
        rule.seed = body.get("seed")
        rule._rng = random.Random(rule.seed)
        # "error" absent = default error; "error": null = delay only.
        rule.error = body.get("error", "RequestLimitExceeded")
        if rule.error is not None and not isinstance(rule.error, str):
            raise RuleError("error must be a string or null")
        if body.get("status") is not None:
            rule.status = int(body["status"])
            if not 400 <= rule.status <= 599:
                raise RuleError("status must be a 4xx or 5xx code")
        rule.delay_ms = int(body.get("delay_ms") or 0)
        if rule.delay_ms < 0:
            raise RuleError("delay_ms must be >= 0")
        rule.message = body.get("message")
        if body.get("params") is not None:
            params = body["params"]
            if not isinstance(params, dict) or not all(isinstance(v, str) for v in params.values()):
                raise RuleError("params must be an object of parameter names to string values")
            rule.params = dict(params)
        if body.get("entries_fraction") is not None:
            rule._entries_from_json(body)
        if rule.error is None and rule.delay_ms == 0:
            raise RuleError("a rule needs an error, a delay, or both")
        return rule

    def _entries_from_json(self, body: dict[str, Any]) -> None:
        """An entry-level rule: PutEvents only; ``error`` is the failed entries' ErrorCode."""
        self.entries_fraction = float(body["entries_fraction"])
        if not 0.0 <= self.entries_fraction <= 1.0:
            raise RuleError("entries_fraction must be within [0, 1]")
        if self.action != "PutEvents" or self.service not in (None, "events"):
            raise RuleError('entries_fraction needs "action": "PutEvents" (EventBridge)')
        self.service = "events"
        if body.get("status") is not None:
            raise RuleError("an entries_fraction rule answers 200: status does not apply")
        self.error = body.get("error") or DEFAULT_ENTRY_ERROR
        if not isinstance(self.error, str):
            raise RuleError("error must be a string")

    def to_json(self) -> dict[str, Any]:
        return {
            "params": self.params,
            "id": self.id,
            "action": self.action,
            "service": self.service,
            "count": self.count,
            "remaining": None if self.count is None else self.count - self.fired,
            "fraction": self.fraction,
            "seed": self.seed,
            "error": self.error,
            "status": self.status_code() if self.error else None,
            "delay_ms": self.delay_ms,
            "entries_fraction": self.entries_fraction,
            "matched": self.matched,
            "fired": self.fired,
        }

    def status_code(self) -> int:
        if self.status is not None:
            return self.status
        if self.entries_fraction is not None:
            return 200
        if self.service is None:  # depends on the service called; this is the code's own default
            return DEFAULT_STATUS.get(self.error or "", 400)
        return wire_error(protocol_for(self.service, ""), self.service, self.error or "")[1]

    def matches(self, service: str | None, action: str | None, query: dict[str, list[str]] | None = None) -> bool:
        if self.action is not None and self.action != action:
            return False
        if self.service is not None and self.service != normalise_service(service):
            return False
        if self.params is not None:
            query = query or {}
            return all(query.get(name, [None])[0] == value for name, value in self.params.items())
        return True

    @property
    def exhausted(self) -> bool:
        return self.count is not None and self.fired >= self.count

    def draw(self) -> float:
        return self._rng.random()

    def should_fire(self) -> bool:
        """Called once per matching call; decides and books whether it fires."""
        self.matched += 1
        if self.exhausted:
            return False
        if self.fraction is not None and not self._rng.random() < self.fraction:
            return False
        self.fired += 1
        return True


@dataclass
class Decision:
    rule: FaultRule
    error: str | None
    status: int
    delay_ms: int
    message: str | None
    entries_fraction: float | None = None

    def fails_entry(self) -> bool:
        """For an entry-level rule: one seeded draw per entry."""
        return self.entries_fraction is not None and self.rule.draw() < self.entries_fraction


class FaultRegistry:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []
        self._next_id = 1
        self.injected = 0
        self.delayed = 0
        self.injected_by_action: dict[str, int] = {}
        self.failed_entries = 0

    def add(self, body: dict[str, Any]) -> FaultRule:
        with self._lock:
            rule = FaultRule.from_json(f"fault-{self._next_id}", body)
            self._next_id += 1
            self._rules.append(rule)
            return rule

    def remove(self, rule_id: str) -> bool:
        with self._lock:
            before = len(self._rules)
            self._rules = [r for r in self._rules if r.id != rule_id]
            return len(self._rules) != before

    def clear(self, counters: bool = False) -> None:
        with self._lock:
            self._rules = []
            if counters:
                self.injected = 0
                self.delayed = 0
                self.injected_by_action = {}
                self.failed_entries = 0

    def count_failed_entries(self, n: int) -> None:
        with self._lock:
            self.failed_entries += n

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "rules": [r.to_json() for r in self._rules],
                "injected": self.injected,
                "delayed": self.delayed,
                "injected_by_action": dict(self.injected_by_action),
                "failed_entries": self.failed_entries,
            }

    def decide(
        self, service: str | None, action: str | None, query: dict[str, list[str]] | None = None
    ) -> Decision | None:
        with self._lock:
            for rule in self._rules:
                if rule.matches(service, action, query) and rule.should_fire():
                    if rule.entries_fraction is not None:
                        pass  # counted per failed entry, by count_failed_entries
                    elif rule.error is not None:
                        self.injected += 1
                        key = action or "?"
                        self.injected_by_action[key] = (
                            self.injected_by_action.get(key, 0) + 1
                        )
                    else:
                        self.delayed += 1
                    decision = Decision(
                        rule=rule,
                        error=rule.error,
                        status=rule.status_code(),
                        delay_ms=rule.delay_ms,
                        message=rule.message,
                        entries_fraction=rule.entries_fraction,
                    )
                    if rule.exhausted:
                        self._rules.remove(rule)
                    return decision
        return None


def wire_error(protocol: str, service: str | None, error: str) -> tuple[str, int]:
    """The error code, and its default HTTP status, that the service really uses."""
    kind = "throttling" if error in THROTTLING_ERRORS else "internal" if error in INTERNAL_ERRORS else None
    if kind and (service, kind) in SERVICE_ERRORS:
        return SERVICE_ERRORS[(service, kind)]
    code = error
    if protocol == "rest-xml" and error in THROTTLING_ERRORS:
        code = "SlowDown"
    elif protocol in ("json", "rest-json") and error in {"RequestLimitExceeded", "Throttling"}:
        code = "ThrottlingException"
    elif protocol in ("json", "rest-json") and error == "InternalError":
        code = "InternalServerError"
    return code, DEFAULT_STATUS.get(code, 400)


def render_error(
    protocol: str,
    service: str | None,
    error: str,
    status: int | None,
    message: str | None = None,
) -> tuple[int, list[tuple[str, str]], bytes]:
    """Build (status, headers, body) for an error in the service's protocol."""
    request_id = str(uuid.uuid4())
    code, default_status = wire_error(protocol, service, error)
    if status is None:
        status = default_status
    msg = message or MESSAGES.get(code, code)
    headers = [("x-amzn-RequestId", request_id)]
    if protocol == "ec2":
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Response><Errors><Error><Code>{escape(code)}</Code>"
            f"<Message>{escape(msg)}</Message></Error></Errors>"
            f"<RequestID>{request_id}</RequestID></Response>"
        )
        headers.append(("Content-Type", "text/xml;charset=UTF-8"))
    elif protocol == "query":
        kind = "Sender" if status < 500 else "Receiver"
        body = (
            f"<ErrorResponse><Error><Type>{kind}</Type><Code>{escape(code)}</Code>"
            f"<Message>{escape(msg)}</Message></Error>"
            f"<RequestId>{request_id}</RequestId></ErrorResponse>"
        )
        headers.append(("Content-Type", "text/xml"))
    elif protocol == "rest-xml":
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{escape(code)}</Code><Message>{escape(msg)}</Message>"
            f"<RequestId>{request_id}</RequestId><HostId>{request_id}</HostId></Error>"
        )
        headers.append(("Content-Type", "application/xml"))
        headers.append(("x-amz-request-id", request_id))
    elif protocol == "rest-json":
        fields = {"Code": code, "Message": msg} if service in CODE_IN_BODY else {"message": msg}
        body = json.dumps(fields)
        headers.append(("Content-Type", "application/json"))
        headers.append(("x-amzn-ErrorType", code))
    else:  # JSON 1.0 / 1.1
        if service == "dynamodb":
            type_ = f"com.amazonaws.dynamodb.v20120810#{code}"
            content_type = "application/x-amz-json-1.0"
        else:
            type_ = code
            content_type = "application/x-amz-json-1.1"
        body = json.dumps({"__type": type_, "message": msg})
        headers.append(("Content-Type", content_type))
        headers.append(("x-amzn-ErrorType", code))
    return status, headers, body.encode("utf-8")
