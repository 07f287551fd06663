"""EC2's request throttling, modelled as EC2 documents it: token buckets.

Every EC2 call takes one token from the request bucket of its account, region and action; the
bucket's size (the burst) and refill rate come from the action's category. The four instance
actions also take one token per instance from a resource bucket. A call that finds a bucket
short is answered ``RequestLimitExceeded`` (HTTP 503) and never reaches moto. Buckets start full
and refill continuously on a monotonic clock: ``tokens = min(size, tokens + rate * elapsed)``.

Off until ``POST /vpcwarden-api/throttling`` switches it on (the admin API lives in
middleware.py); the numbers can be scaled, or overridden per category, action or resource bucket.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Mapping

# --------------------------------------------------------------------------- documented numbers
#
# Everything below comes from "Request throttling for the Amazon EC2 API",
# https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html
# (sections "Request token bucket sizes and refill rates" and "Resource token bucket sizes and
# refill rates"), as published on 2026-11-29. Sizes are tokens, rates tokens per second.
#
# The page is explicit that the buckets are per action, not per category: "each API is
# evaluated individually, and you are throttled on the number of requests you make on a per-API
# basis" and "Limits are applied to individual API actions, not API action categories". A
# category only says which size and rate an action's bucket has.

DOC_URL = "https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html"
NUMBERS_AS_OF = "2026-11-29"


@dataclass(frozen=True)
class Limit:
    size: float  # bucket maximum capacity (the burst)
    rate: float  # refill, tokens per second


NON_MUTATING = "non-mutating"
UNFILTERED = "unfiltered-unpaginated-non-mutating"
MUTATING = "mutating"
RESOURCE_INTENSIVE = "resource-intensive"
CONSOLE = "console-non-mutating"
UNCATEGORIZED = "uncategorized"
RESOURCE = "resource"  # the resource buckets of the instance actions

CATEGORY_LIMITS: dict[str, Limit] = {
    # Describe*, List*, Search*, Get* not in another category.
    NON_MUTATING: Limit(100, 20),
    # UNFILTERED_ACTIONS called with neither pagination nor a filter.
    UNFILTERED: Limit(50, 10),
    # Every other action not in another category.
    MUTATING: Limit(50, 5),
    RESOURCE_INTENSIVE: Limit(50, 5),
    # Non-mutating calls made by the EC2 console. The emulator cannot tell them from others, so
    # no call falls here; the numbers are kept so the table is whole and can be overridden.
    CONSOLE: Limit(100, 10),
}

UNFILTERED_ACTIONS = frozenset(
    {
        "DescribeInstances",
        "DescribeInstanceStatus",
        "DescribeNetworkInterfaces",
        "DescribeSecurityGroups",
        "DescribeSnapshots",
        "DescribeSpotInstanceRequests",
        "DescribeVolumes",
    }
)

RESOURCE_INTENSIVE_ACTIONS = frozenset(
    {
        "AcceptVpcPeeringConnection",
        "AuthorizeSecurityGroupIngress",
        "CancelSpotInstanceRequests",
        "CreateKeyPair",
        "CreateVpcPeeringConnection",
        "DeleteVpcPeeringConnection",
        "RejectVpcPeeringConnection",
        "RevokeSecurityGroupIngress",
        "RequestSpotInstances",
    }
)

# Actions with a bucket size and refill rate of their own ("Uncategorized actions").
UNCATEGORIZED_LIMITS: dict[str, Limit] = {
    "AcceptVpcEndpointConnections": Limit(10, 1),
    "AdvertiseByoipCidr": Limit(1, 0.1),
    "AssignIpv6Addresses": Limit(100, 5),
    "AssignPrivateIpAddresses": Limit(100, 5),
    "AssignPrivateNatGatewayAddress": Limit(10, 1),
    "AssociateCapacityReservationBillingOwner": Limit(1, 0.5),
    "AssociateEnclaveCertificateIamRole": Limit(10, 1),
    "AssociateIamInstanceProfile": Limit(100, 5),
    "AssociateNatGatewayAddress": Limit(10, 1),
    "AttachVerifiedAccessTrustProvider": Limit(10, 2),
    "AuthorizeClientVpnIngress": Limit(5, 2),
    "CancelDeclarativePoliciesReport": Limit(1, 1),
    "CopyImage": Limit(100, 1),
    "CreateClientVpnRoute": Limit(5, 2),
    "CreateCoipCidr": Limit(5, 1),
    "CreateCoipPool": Limit(5, 1),
    "CreateDefaultSubnet": Limit(1, 1),
    "CreateDefaultVpc": Limit(1, 1),
    "CreateLaunchTemplateVersion": Limit(100, 5),
    "CreateNatGateway": Limit(10, 1),
    "CreateNetworkInterface": Limit(100, 5),
    "CreateRestoreImageTask": Limit(50, 0.1),
    "CreateSnapshot": Limit(100, 5),
    "CreateSnapshots": Limit(100, 5),
    "CreateSpotDatafeedSubscription": Limit(50, 3),
    "CreateStoreImageTask": Limit(50, 0.1),
    "CreateSubnetCidrReservation": Limit(5, 1),
    "CreateTags": Limit(100, 10),
    "CreateVerifiedAccessEndpoint": Limit(20, 4),
    "CreateVerifiedAccessGroup": Limit(10, 2),
    "CreateVerifiedAccessInstance": Limit(10, 2),
    "CreateVerifiedAccessTrustProvider": Limit(10, 2),
    "CreateVolume": Limit(100, 5),
    "CreateVpcEndpoint": Limit(4, 0.3),
    "CreateVpcEndpointServiceConfiguration": Limit(10, 1),
    "DeleteClientVpnRoute": Limit(5, 2),
    "DeleteCoipCidr": Limit(5, 1),
    "DeleteCoipPool": Limit(5, 1),
    "DeleteCoipPoolPermission": Limit(5, 1),
    "DeleteNatGateway": Limit(10, 1),
    "DeleteNetworkInterface": Limit(100, 5),
    "DeleteSnapshot": Limit(100, 5),
    "DeleteSpotDatafeedSubscription": Limit(50, 3),
    "DeleteSubnetCidrReservation": Limit(5, 1),
    "DeleteQueuedReservedInstances": Limit(5, 5),
    "DeleteTags": Limit(100, 10),
    "DeleteVerifiedAccessEndpoint": Limit(20, 4),
    "DeleteVerifiedAccessGroup": Limit(10, 2),
    "DeleteVerifiedAccessInstance": Limit(10, 2),
    "DeleteVerifiedAccessTrustProvider": Limit(10, 2),
    "DeleteVolume": Limit(100, 5),
    "DeleteVpcEndpoints": Limit(4, 0.3),
    "DeleteVpcEndpointServiceConfigurations": Limit(10, 1),
    "DeprovisionByoipCidr": Limit(1, 0.1),
    "DeregisterImage": Limit(100, 5),
    "DescribeAggregateIdFormat": Limit(10, 10),
    "DescribeByoipCidrs": Limit(1, 0.5),
    "DescribeCapacityBlockExtensionOfferings": Limit(10, 0.15),
    "DescribeCapacityBlockOfferings": Limit(10, 0.15),
    "DescribeDeclarativePoliciesReports": Limit(5, 5),
    "DescribeHostReservations": Limit(5, 2),
    "DescribeHostReservationOfferings": Limit(5, 2),
    "DescribeIdentityIdFormat": Limit(10, 10),
    "DescribeIdFormat": Limit(10, 10),
    "DescribeInstanceTopology": Limit(1, 1),
    "DescribeMovingAddresses": Limit(1, 1),
    "DescribePrincipalIdFormat": Limit(10, 10),
    "DescribeReservedInstancesOfferings": Limit(10, 10),
    "DescribeSecurityGroupReferences": Limit(20, 5),
    "DescribeSpotDatafeedSubscription": Limit(100, 13),
    "DescribeSpotFleetInstances": Limit(100, 5),
    "DescribeSpotFleetRequestHistory": Limit(100, 5),
    "DescribeSpotFleetRequests": Limit(50, 3),
    "DescribeStaleSecurityGroups": Limit(20, 5),
    "DescribeStoreImageTasks": Limit(50, 0.5),
    "DescribeVerifiedAccessInstanceLoggingConfigurations": Limit(10, 2),
    "DetachVerifiedAccessTrustProvider": Limit(10, 2),
    "DisableFastLaunch": Limit(5, 2),
    "DisableImageBlockPublicAccess": Limit(1, 0.1),
    "DisableSnapshotBlockPublicAccess": Limit(1, 0.1),
    "DisassociateCapacityReservationBillingOwner": Limit(1, 0.5),
    "DisassociateEnclaveCertificateIamRole": Limit(10, 1),
    "DisassociateIamInstanceProfile": Limit(100, 5),
    "DisassociateNatGatewayAddress": Limit(10, 1),
    "EnableFastLaunch": Limit(5, 2),
    "EnableImageBlockPublicAccess": Limit(1, 0.1),
    "EnableSnapshotBlockPublicAccess": Limit(1, 0.1),
    "GetAssociatedEnclaveCertificateIamRoles": Limit(10, 1),
    "GetDeclarativePoliciesReportSummary": Limit(5, 5),
    "GetHostReservationPurchasePreview": Limit(5, 2),
    "ModifyImageAttribute": Limit(100, 5),
    "ModifyInstanceMetadataDefaults": Limit(2, 2),
    "ModifyInstanceMetadataOptions": Limit(100, 5),
    "ModifyLaunchTemplate": Limit(100, 5),
    "ModifyNetworkInterfaceAttribute": Limit(100, 5),
    "ModifySnapshotAttribute": Limit(100, 5),
    "ModifyVerifiedAccessEndpoint": Limit(20, 4),
    "ModifyVerifiedAccessEndpointPolicy": Limit(20, 4),
    "ModifyVerifiedAccessGroup": Limit(10, 2),
    "ModifyVerifiedAccessGroupPolicy": Limit(20, 4),
    "ModifyVerifiedAccessInstance": Limit(10, 2),
    "ModifyVerifiedAccessInstanceLoggingConfiguration": Limit(10, 2),
    "ModifyVerifiedAccessTrustProvider": Limit(10, 2),
    "ModifyVpcEndpoint": Limit(4, 0.3),
    "ModifyVpcEndpointServiceConfiguration": Limit(10, 1),
    "MoveAddressToVpc": Limit(1, 1),
    "ProvisionByoipCidr": Limit(1, 0.1),
    "PurchaseCapacityBlock": Limit(10, 0.15),
    "PurchaseCapacityBlockExtension": Limit(10, 0.15),
    "PurchaseHostReservation": Limit(5, 2),
    "PurchaseReservedInstancesOffering": Limit(5, 5),
    "RejectVpcEndpointConnections": Limit(10, 1),
    "RestoreAddressToClassic": Limit(1, 1),
    "RevokeClientVpnIngress": Limit(5, 2),
    "RunInstances": Limit(5, 2),
    "StartDeclarativePoliciesReport": Limit(1, 1),
    "StartInstances": Limit(5, 2),
    "TerminateInstances": Limit(100, 5),
    "UnassignPrivateIpAddresses": Limit(100, 5),
    "UnassignPrivateNatGatewayAddress": Limit(10, 1),
    "WithdrawByoipCidr": Limit(1, 0.1),
}

# Resource buckets: one token per instance the call acts on, on top of the request token.
RESOURCE_LIMITS: dict[str, Limit] = {
    "RunInstances": Limit(1000, 2),
    "TerminateInstances": Limit(1000, 20),
    "StartInstances": Limit(1000, 2),
    "StopInstances": Limit(1000, 20),
}

NON_MUTATING_PREFIXES = ("Describe", "List", "Search", "Get")
PAGINATION_PARAMS = ("MaxResults", "NextToken")

# --------------------------------------------------------------------------- classification

Params = Mapping[str, list[str]]


def category_of(action: str, params: Params) -> str:
    """The category whose numbers the action's request bucket has, for this call."""
    if action in UNCATEGORIZED_LIMITS:
        return UNCATEGORIZED
    if action in RESOURCE_INTENSIVE_ACTIONS:
        return RESOURCE_INTENSIVE
    if action in UNFILTERED_ACTIONS and not _filtered_or_paginated(params):
        return UNFILTERED
    if action.startswith(NON_MUTATING_PREFIXES):
        return NON_MUTATING
    return MUTATING


def _filtered_or_paginated(params: Params) -> bool:
    return any(k in PAGINATION_PARAMS or k.startswith("Filter.") for k in params)


def resources_of(action: str, params: Params) -> int:
    """How many resource tokens the call needs (0 for actions without a resource bucket)."""
    if action not in RESOURCE_LIMITS:
        return 0
    if action == "RunInstances":
        # The instances asked for: MaxCount (the API requires it; 1 if absent).
        try:
            return max(1, int(params.get("MaxCount", ["1"])[0]))
        except ValueError:
            return 1
    return max(1, sum(1 for k in params if k.startswith("InstanceId.")))


# --------------------------------------------------------------------------- settings


class SettingsError(ValueError):
    pass


SETTINGS_KEYS = {"enabled", "scale", "categories", "actions", "resources"}
LIMIT_KEYS = {"size", "rate"}


@dataclass
class Settings:
    """The numbers in force: the documented ones times ``scale``, unless overridden."""

    scale: float = 1.0
    categories: dict[str, dict[str, float]] | None = None
    actions: dict[str, dict[str, float]] | None = None
    resources: dict[str, dict[str, float]] | None = None

    @classmethod
    def from_json(cls, body: Any) -> tuple[bool, Settings]:
        if not isinstance(body, dict):
            raise SettingsError("the throttling settings must be a JSON object")
        unknown = set(body) - SETTINGS_KEYS
        if unknown:
            raise SettingsError(f"unknown keys: {sorted(unknown)}")
        enabled = body.get("enabled", True)
        if not isinstance(enabled, bool):
            raise SettingsError("enabled must be true or false")
        scale = _number(body.get("scale", 1.0), "scale")
        if scale <= 0:
            raise SettingsError("scale must be > 0")
        categories = _overrides(body.get("categories"), "categories", set(CATEGORY_LIMITS) | {UNCATEGORIZED})
        actions = _overrides(body.get("actions"), "actions", None)
        resources = _overrides(body.get("resources"), "resources", set(RESOURCE_LIMITS))
        return enabled, cls(scale, categories, actions, resources)

    def request_limit(self, action: str, category: str) -> Limit:
        if category == UNCATEGORIZED:
            documented = UNCATEGORIZED_LIMITS[action]
        else:
            documented = CATEGORY_LIMITS[category]
        base = self._scaled(documented)
        base = _apply((self.categories or {}).get(category), base)
        return _apply((self.actions or {}).get(action), base)

    def resource_limit(self, action: str) -> Limit:
        return _apply((self.resources or {}).get(action), self._scaled(RESOURCE_LIMITS[action]))

    def _scaled(self, limit: Limit) -> Limit:
        # A bucket must hold at least one token, or it would refuse every call.
        return Limit(max(1.0, limit.size * self.scale), limit.rate * self.scale)

    def to_json(self) -> dict[str, Any]:
        return {
            "scale": self.scale,
            "categories": {c: _limit_json(self.request_limit("", c)) for c in CATEGORY_LIMITS},
            "actions": {a: _limit_json(self._action_limit(a)) for a in sorted(self.actions or {})},
            "resources": {a: _limit_json(self.resource_limit(a)) for a in RESOURCE_LIMITS},
        }

    def _action_limit(self, action: str) -> Limit:
        return self.request_limit(action, category_of(action, {}))


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SettingsError(f"{what} must be a number")
    return float(value)


def _overrides(value: Any, what: str, allowed: set[str] | None) -> dict[str, dict[str, float]] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise SettingsError(f"{what} must be an object")
    out: dict[str, dict[str, float]] = {}
    for name, limit in value.items():
        if allowed is not None and name not in allowed:
            raise SettingsError(f"{what}: unknown name {name!r} (known: {sorted(allowed)})")
        if not isinstance(limit, dict) or not limit or set(limit) - LIMIT_KEYS:
            raise SettingsError(f"{what}.{name} must be an object with size and/or rate")
        parsed = {k: _number(v, f"{what}.{name}.{k}") for k, v in limit.items()}
        if parsed.get("size", 1.0) < 1:
            raise SettingsError(f"{what}.{name}.size must be >= 1 (a smaller bucket refuses every call)")
        if parsed.get("rate", 1.0) <= 0:
            raise SettingsError(f"{what}.{name}.rate must be > 0")
        out[name] = parsed
    return out


def _apply(override: dict[str, float] | None, limit: Limit) -> Limit:
    if not override:
        return limit
    return Limit(override.get("size", limit.size), override.get("rate", limit.rate))


def _limit_json(limit: Limit) -> dict[str, float]:
    return {"size": limit.size, "rate": limit.rate}


# --------------------------------------------------------------------------- buckets


class TokenBucket:
    """A bucket that starts full and refills continuously, never above its size."""

    def __init__(self, limit: Limit, now: float) -> None:
        self.limit = limit
        self.tokens = float(limit.size)
        self._stamp = now
        self.taken = 0.0
        self.throttled = 0

    def refill(self, now: float) -> None:
        elapsed = max(0.0, now - self._stamp)
        self.tokens = min(self.limit.size, self.tokens + self.limit.rate * elapsed)
        self._stamp = now

    def level(self, now: float) -> float:
        """The tokens it holds at ``now``, without changing it."""
        elapsed = max(0.0, now - self._stamp)
        return min(self.limit.size, self.tokens + self.limit.rate * elapsed)

    def has(self, n: float) -> bool:
        return self.tokens >= n

    def take(self, n: float) -> None:
        self.tokens -= n
        self.taken += n


# (account, region, action, bucket): bucket is the category whose numbers a request bucket has
# (so DescribeInstances with and without a filter are two buckets), or "resource".
BucketKey = tuple[str, str, str, str]


@dataclass
class Throttled:
    """Why a call was refused: the bucket that was short."""

    action: str
    bucket: str  # a category name, or "resource"


class Throttling:
    """Every bucket, the settings and the counters, behind one lock."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self.enabled = False
        self._settings = Settings()
        self._buckets: dict[BucketKey, TokenBucket] = {}
        self._zero_counters()

    def _zero_counters(self) -> None:
        self.admitted = 0
        self.throttled = 0
        self.throttled_by_action: dict[str, int] = {}
        self.throttled_by_category: dict[str, int] = {}

    # -- admin ------------------------------------------------------------
    def configure(self, body: Any) -> dict[str, Any]:
        """POST: new settings; every bucket starts full again and the counters start at zero."""
        enabled, settings = Settings.from_json(body)
        with self._lock:
            self.enabled = enabled
            self._settings = settings
            self._buckets = {}
            self._zero_counters()
        return self.snapshot()

    def disable(self, counters: bool = False) -> dict[str, Any]:
        """DELETE: off, buckets dropped; the counters stay unless ``counters``."""
        with self._lock:
            self.enabled = False
            self._settings = Settings()
            self._buckets = {}
            if counters:
                self._zero_counters()
        return self.snapshot()

    def reset(self) -> None:
        self.disable(counters=True)

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            now = self._clock()
            buckets = [
                {
                    "account": account,
                    "region": region,
                    "action": action,
                    "bucket": name,
                    "size": b.limit.size,
                    "rate": b.limit.rate,
                    "tokens": round(b.level(now), 3),
                    "taken": b.taken,
                    "throttled": b.throttled,
                }
                for (account, region, action, name), b in sorted(self._buckets.items())
            ]
            return {
                "enabled": self.enabled,
                "source": DOC_URL,
                "numbers_as_of": NUMBERS_AS_OF,
                **self._settings.to_json(),
                "buckets": buckets,
                "admitted": self.admitted,
                "throttled": self.throttled,
                "throttled_by_action": dict(self.throttled_by_action),
                "throttled_by_category": dict(self.throttled_by_category),
            }

    # -- calls ------------------------------------------------------------
    def admit(self, account: str, region: str, action: str | None, params: Params) -> Throttled | None:
        """Takes the call's tokens and returns None, or takes none and says which bucket was short.

        A call needs one token from its request bucket and, for the instance actions, one token
        per instance from the resource bucket; it takes from either only if both hold enough.
        """
        if not self.enabled or not action:
            return None
        category = category_of(action, params)
        cost = resources_of(action, params)
        with self._lock:
            if not self.enabled:
                return None
            now = self._clock()
            request = self._bucket((account, region, action, category), now)
            resource = self._bucket((account, region, action, RESOURCE), now) if cost else None
            short = None
            if not request.has(1):
                short, bucket = category, request
            elif resource is not None and not resource.has(cost):
                short, bucket = RESOURCE, resource
            if short is not None:
                bucket.throttled += 1
                self.throttled += 1
                self.throttled_by_action[action] = self.throttled_by_action.get(action, 0) + 1
                self.throttled_by_category[short] = self.throttled_by_category.get(short, 0) + 1
                return Throttled(action, short)
            request.take(1)
            if resource is not None:
                resource.take(cost)
            self.admitted += 1
            return None

    def _bucket(self, key: BucketKey, now: float) -> TokenBucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            _, _, action, name = key
            if name == RESOURCE:
                limit = self._settings.resource_limit(action)
            else:
                limit = self._settings.request_limit(action, name)
            bucket = self._buckets[key] = TokenBucket(limit, now)
        else:
            bucket.refill(now)
        return bucket
