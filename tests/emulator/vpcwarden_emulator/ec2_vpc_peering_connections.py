"""VPC peering: filters, pagination, expiry, failure on overlap, VPC info, options.

Against moto.ec2.models.vpc_peering_connections / responses.vpc_peering_connections:

* DescribeVpcPeeringConnections honours ``Filters`` (status-code, status-message,
  {accepter,requester}-vpc-info.{owner-id,vpc-id,cidr-block}, expiration-time,
  vpc-peering-connection-id, tag:<k>, tag-key, tag-value), ``MaxResults`` (5-1000)
  / ``NextToken``, and fails for unknown ids.
* A request that is not accepted within 7 days expires (``expirationTime`` is
  shown while it is pending); a request between VPCs with overlapping CIDR
  blocks fails.
* ``requesterVpcInfo``/``accepterVpcInfo`` carry ``cidrBlockSet`` (every
  associated IPv4 block), ``ipv6CidrBlockSet`` (if any) and ``peeringOptions``
  (only once active, as AWS does).
* ModifyVpcPeeringConnectionOptions requires an active connection and that
  each side's options are changed by that side's account, in that side's region.
* The not-found error code is AWS's ``InvalidVpcPeeringConnectionID.NotFound``.
"""

from __future__ import annotations

import datetime
import ipaddress
from typing import Any

from moto.core.responses import ActionResult
from moto.ec2 import exceptions as ec2_exceptions
from moto.ec2.exceptions import EC2ClientError
from moto.ec2.models.core import TaggedEC2Resource
from moto.ec2.models.vpc_peering_connections import (
    VPCPeeringConnection,
    VPCPeeringConnectionBackend,
)
from moto.ec2.responses.vpc_peering_connections import VPCPeeringConnections

from . import clock
from .utils import filter_objects, invalid_filter, paginate

PENDING_STATES = ("initiating-request", "pending-acceptance", "provisioning")
# Routes whose target connection is in one of these states are blackholes.
DEAD_STATES = ("deleted", "deleting", "rejected", "expired", "failed")
EXPIRY = datetime.timedelta(days=7)


# -- model -------------------------------------------------------------------
def _refresh(pcx: VPCPeeringConnection) -> None:
    """Apply time-based transitions (expiry of unanswered requests)."""
    expires = getattr(pcx, "expires_at", None)
    if pcx._status.code in PENDING_STATES and expires and clock.now() >= expires:
        pcx._status.code = "expired"
        pcx._status.message = "Expired"


def _cidrs(vpc: Any, ipv6: bool) -> list[str]:
    return [
        c["cidr_block"]
        for c in vpc.get_cidr_block_association_set(ipv6=ipv6)
        if c.get("cidr_block_state", {}).get("state") == "associated"
    ]


def _vpc_info(pcx: VPCPeeringConnection, vpc: Any, options: dict[str, Any]) -> dict[str, Any]:
    _refresh(pcx)
    info: dict[str, Any] = {
        "OwnerId": vpc.owner_id,
        "Region": vpc.region,
        "VpcId": vpc.id,
        "CidrBlock": vpc.cidr_block,
        "CidrBlockSet": [{"CidrBlock": c} for c in _cidrs(vpc, ipv6=False)],
    }
    ipv6 = _cidrs(vpc, ipv6=True)
    if ipv6:
        info["Ipv6CidrBlockSet"] = [{"Ipv6CidrBlock": c} for c in ipv6]
    if pcx._status.code == "active":
        info["PeeringOptions"] = options
    return info


def requester_vpc_info(self: VPCPeeringConnection) -> dict[str, Any]:
    return _vpc_info(self, self.vpc, self.requester_options)


def accepter_vpc_info(self: VPCPeeringConnection) -> dict[str, Any]:
    return _vpc_info(self, self.peer_vpc, self.accepter_options)


def status(self: VPCPeeringConnection) -> dict[str, str]:
    _refresh(self)
    return {"Code": self._status.code, "Message": self._status.message}


def expiration_time(self: VPCPeeringConnection) -> datetime.datetime | None:
    _refresh(self)
    if self._status.code in PENDING_STATES:
        return getattr(self, "expires_at", None)
    return None


def get_filter_value(self: VPCPeeringConnection, filter_name: str, method_name: str | None = None) -> Any:
    _refresh(self)
    sides = {"accepter-vpc-info": self.peer_vpc, "requester-vpc-info": self.vpc}
    side, _, attr = filter_name.partition(".")
    if side in sides and attr:
        vpc = sides[side]
        if attr == "owner-id":
            return vpc.owner_id
        if attr == "vpc-id":
            return vpc.id
        if attr == "cidr-block":
            return _cidrs(vpc, ipv6=False)
        raise invalid_filter(filter_name)
    if filter_name == "status-code":
        return self._status.code
    if filter_name == "status-message":
        return self._status.message
    if filter_name == "expiration-time":
        return expiration_time(self)
    if filter_name == "vpc-peering-connection-id":
        return self.id
    if filter_name.startswith("tag:") or filter_name in ("tag-key", "tag-value"):
        return TaggedEC2Resource.get_filter_value(self, filter_name, method_name)
    raise invalid_filter(filter_name)


_original_init = VPCPeeringConnection.__init__


def __init__(self: VPCPeeringConnection, *args: Any, **kwargs: Any) -> None:
    _original_init(self, *args, **kwargs)
    self.created_at = clock.now()
    self.expires_at = self.created_at + EXPIRY


# -- backend -----------------------------------------------------------------
def _overlap(vpc: Any, peer_vpc: Any) -> bool:
    for ipv6 in (False, True):
        for a in _cidrs(vpc, ipv6):
            for b in _cidrs(peer_vpc, ipv6):
                if ipaddress.ip_network(a).overlaps(ipaddress.ip_network(b)):
                    return True
    return False


_original_create = VPCPeeringConnectionBackend.create_vpc_peering_connection


def create_vpc_peering_connection(self: Any, vpc: Any, peer_vpc: Any, tags: Any = None) -> VPCPeeringConnection:
    pcx = _original_create(self, vpc, peer_vpc, tags)
    if vpc.id == peer_vpc.id or _overlap(vpc, peer_vpc):
        # AWS: "initiating-request" -> "failed", visible to the requester.
        pcx._status.code = "failed"
        pcx._status.message = "Overlapping CIDR range"
    return pcx


def describe_vpc_peering_connections(
    self: Any,
    vpc_peering_ids: list[str] | None = None,
    filters: dict[str, list[str]] | None = None,
) -> list[VPCPeeringConnection]:
    pcxs = list(self.vpc_pcxs.values())
    if vpc_peering_ids:
        known = {p.id for p in pcxs}
        for pcx_id in vpc_peering_ids:
            if pcx_id not in known:
                raise ec2_exceptions.InvalidVPCPeeringConnectionIdError(pcx_id)
        pcxs = [p for p in pcxs if p.id in vpc_peering_ids]
    return filter_objects(pcxs, filters, lambda p, name: p.get_filter_value(name))


def _refreshing(method: Any) -> Any:
    def wrapper(self: Any, vpc_pcx_id: str, *args: Any, **kwargs: Any) -> Any:
        _refresh(self.get_vpc_peering_connection(vpc_pcx_id))
        return method(self, vpc_pcx_id, *args, **kwargs)

    wrapper.__name__ = method.__name__
    wrapper.__doc__ = method.__doc__
    return wrapper


def modify_vpc_peering_connection_options(
    self: Any,
    vpc_pcx_id: str,
    accepter_options: dict[str, Any] | None = None,
    requester_options: dict[str, Any] | None = None,
) -> VPCPeeringConnection:
    pcx = self.get_vpc_peering_connection(vpc_pcx_id)
    _refresh(pcx)
    if pcx._status.code != "active":
        raise EC2ClientError(
            "OperationNotPermitted",
            f"Peering {vpc_pcx_id} is not active. Peering options can be added only to active peerings.",
        )
    for options, vpc, side in (
        (requester_options, pcx.vpc, "Requester"),
        (accepter_options, pcx.peer_vpc, "Accepter"),
    ):
        if options and (self.account_id != vpc.owner_id or self.region_name != vpc.region):
            raise EC2ClientError(
                "OperationNotPermitted",
                f"{side}'s VPC Peering connection options can only be modified by "
                f"account {vpc.owner_id} in region {vpc.region}",
            )
    for options, target in (
        (accepter_options, pcx.accepter_options),
        (requester_options, pcx.requester_options),
    ):
        for key, value in (options or {}).items():
            if key in target:
                target[key] = str(value).lower() == "true" if isinstance(value, str) else bool(value)
    return pcx


class InvalidVPCPeeringConnectionIdError(EC2ClientError):
    """AWS spells the code ``InvalidVpcPeeringConnectionID.NotFound``."""

    def __init__(self, vpc_peering_connection_id: str):
        super().__init__(
            "InvalidVpcPeeringConnectionID.NotFound",
            f"The vpcPeeringConnection ID '{vpc_peering_connection_id}' does not exist",
        )


# -- responses ---------------------------------------------------------------
def describe_vpc_peering_connections_response(self: Any) -> ActionResult:
    ids = self._get_param("VpcPeeringConnectionIds", [])
    filters = self._filters_from_querystring()
    pcxs = self.ec2_backend.describe_vpc_peering_connections(vpc_peering_ids=ids, filters=filters)
    page, next_token = paginate(pcxs, self._get_param("MaxResults"), self._get_param("NextToken"))
    return ActionResult({"VpcPeeringConnections": page, "NextToken": next_token})


describe_vpc_peering_connections_response.__name__ = "describe_vpc_peering_connections"


def apply() -> None:
    import moto.ec2.models.vpc_peering_connections as models_module

    VPCPeeringConnection.__init__ = __init__  # type: ignore[method-assign]
    VPCPeeringConnection.requester_vpc_info = property(requester_vpc_info)  # type: ignore[assignment]
    VPCPeeringConnection.accepter_vpc_info = property(accepter_vpc_info)  # type: ignore[assignment]
    VPCPeeringConnection.status = property(status)  # type: ignore[assignment]
    VPCPeeringConnection.expiration_time = property(expiration_time)  # type: ignore[attr-defined]
    VPCPeeringConnection.get_filter_value = get_filter_value  # type: ignore[method-assign]

    B = VPCPeeringConnectionBackend
    B.create_vpc_peering_connection = create_vpc_peering_connection  # type: ignore[method-assign]
    B.describe_vpc_peering_connections = describe_vpc_peering_connections  # type: ignore[method-assign]
    B.accept_vpc_peering_connection = _refreshing(B.accept_vpc_peering_connection)  # type: ignore[method-assign]
    B.reject_vpc_peering_connection = _refreshing(B.reject_vpc_peering_connection)  # type: ignore[method-assign]
    B.delete_vpc_peering_connection = _refreshing(B.delete_vpc_peering_connection)  # type: ignore[method-assign]
    B.modify_vpc_peering_connection_options = modify_vpc_peering_connection_options  # type: ignore[method-assign]

    # Every module that imported the old error class by name raises the new one.
    ec2_exceptions.InvalidVPCPeeringConnectionIdError = InvalidVPCPeeringConnectionIdError  # type: ignore[misc]
    models_module.InvalidVPCPeeringConnectionIdError = InvalidVPCPeeringConnectionIdError  # type: ignore[attr-defined]

    VPCPeeringConnections.describe_vpc_peering_connections = describe_vpc_peering_connections_response  # type: ignore[method-assign]
