"""PrivateLink endpoint connections and connection notifications (models).

Adds to moto.ec2 (models/vpcs.py, models/vpc_service_configuration.py):

* ``VpcEndpointConnection``: the service owner's view of an interface /
  Gateway Load Balancer endpoint that connects to one of its endpoint
  services.  Its state *is* the consumer endpoint's state, so both sides
  always agree (pendingAcceptance -> available | rejected -> deleted).
* ``ConnectionNotification``: an SNS topic that gets a message on Connect,
  Accept, Reject and Delete events (service- or endpoint-scoped).
* ``VPCEndpointConnectionBackend``: a mixin for ``EC2Backend`` with
  Describe/Accept/RejectVpcEndpointConnections and the
  Create/Describe/Modify/DeleteVpcEndpointConnectionNotification(s) models.
* ``create_vpc_endpoint``/``delete_vpc_endpoints`` wrappers: an endpoint to a
  ``com.amazonaws.vpce.<region>.vpce-svc-...`` service is resolved across
  accounts, refused unless the caller is the owner or an allowed principal,
  starts ``pendingAcceptance`` when the service requires acceptance, and
  raises the notifications.

The SNS message body AWS sends is not documented; the one published here is
an assumption (see README.md).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from moto.core.common_models import BaseModel
from moto.core.utils import utcnow
from moto.ec2.exceptions import (
    EC2ClientError,
    InvalidServiceName,
    UnknownVpcEndpointService,
)
from moto.ec2.models.vpc_service_configuration import VPCServiceConfiguration
from moto.ec2.models.vpcs import VPCBackend, VPCEndPoint
from moto.ec2.utils import random_id, random_resource_id

from .utils import filter_objects, invalid_filter

PRIVATE_SERVICE_NAME = re.compile(r"^com\.amazonaws\.vpce\.(?P<region>[a-z0-9-]+)\.(?P<id>vpce-svc-[0-9a-f]+)$")
CONNECTION_EVENTS = ("Accept", "Connect", "Delete", "Reject")
ACCOUNT_IN_ARN = re.compile(r"^arn:[^:]+:iam::(?P<account>\d{12}):")


# -- models ------------------------------------------------------------------
class VpcEndpointConnection(BaseModel):
    """DescribeVpcEndpointConnections item, kept by the service owner's backend."""

    def __init__(self, service: VPCServiceConfiguration, endpoint: VPCEndPoint):
        self.id = random_id(prefix="vpce-con", size=17)
        self.service = service
        self.endpoint = endpoint
        self.creation_timestamp = endpoint.creation_timestamp

    vpc_endpoint_connection_id = property(lambda self: self.id)
    service_id = property(lambda self: self.service.id)
    vpc_endpoint_id = property(lambda self: self.endpoint.id)
    vpc_endpoint_owner = property(lambda self: self.endpoint.owner_id)
    vpc_endpoint_state = property(lambda self: self.endpoint.state)
    vpc_endpoint_region = property(lambda self: self.endpoint.ec2_backend.region_name)
    network_load_balancer_arns = property(lambda self: list(self.service.network_load_balancer_arns))
    gateway_load_balancer_arns = property(lambda self: list(self.service.gateway_load_balancer_arns))
    dns_entries = property(lambda self: self.endpoint.dns_entries or [])
    ip_address_type = property(lambda self: getattr(self.endpoint, "ip_address_type", None) or "ipv4")
    tag_set = property(lambda self: self.endpoint.get_tags())

    def get_filter_value(self, filter_name: str) -> Any:
        if filter_name == "service-id":
            return self.service_id
        if filter_name == "vpc-endpoint-id":
            return self.vpc_endpoint_id
        if filter_name == "vpc-endpoint-owner":
            return self.vpc_endpoint_owner
        if filter_name == "vpc-endpoint-state":
            return self.vpc_endpoint_state
        if filter_name == "ip-address-type":
            return self.ip_address_type
        raise invalid_filter(filter_name)


class ConnectionNotification(BaseModel):
    def __init__(
        self,
        ec2_backend: Any,
        topic_arn: str,
        events: list[str],
        service_id: str | None,
        vpc_endpoint_id: str | None,
    ):
        self.id = random_id(prefix="vpce-nfn", size=17)
        self.ec2_backend = ec2_backend
        self.connection_notification_arn = topic_arn
        self.connection_events = list(events)
        self.service_id = service_id
        self.vpc_endpoint_id = vpc_endpoint_id
        self.connection_notification_type = "Topic"
        self.connection_notification_state = "Enabled"

    connection_notification_id = property(lambda self: self.id)

    def get_filter_value(self, filter_name: str) -> Any:
        values = {
            "connection-notification-arn": self.connection_notification_arn,
            "connection-notification-id": self.id,
            "connection-notification-state": self.connection_notification_state,
            "connection-notification-type": self.connection_notification_type,
            "service-id": self.service_id,
            "vpc-endpoint-id": self.vpc_endpoint_id,
        }
        if filter_name not in values:
            raise invalid_filter(filter_name)
        return values[filter_name]


# -- helpers -----------------------------------------------------------------
def _ec2_backends_in(region: str) -> Iterator[Any]:
    """Every existing EC2 backend (any account) for ``region``."""
    from moto.ec2.models import ec2_backends

    for account_backends in list(ec2_backends.values()):
        backend = dict.get(account_backends, region)
        if backend is not None:
            yield backend


def find_service_by_name(service_name: str) -> tuple[Any, VPCServiceConfiguration] | None:
    match = PRIVATE_SERVICE_NAME.match(service_name or "")
    if not match:
        return None
    for backend in _ec2_backends_in(match.group("region")):
        config = backend.configurations.get(match.group("id"))
        if config is not None and config.service_name == service_name:
            return backend, config
    return None


def principal_allowed(config: VPCServiceConfiguration, owner: str, account_id: str) -> bool:
    if account_id == owner:
        return True
    for principal in config.principals:
        if principal == "*" or principal == account_id:
            return True
        m = ACCOUNT_IN_ARN.match(principal)
        if m and m.group("account") == account_id:
            return True
    return False


def _topic_exists(topic_arn: str) -> bool:
    from moto.sns.models import sns_backends

    parts = topic_arn.split(":")
    if len(parts) != 6 or parts[2] != "sns":
        return False
    region, account = parts[3], parts[4]
    backend = dict.get(sns_backends.get(account) or {}, region)
    return backend is not None and topic_arn in backend.topics


def notification_message(event: str, connection: VpcEndpointConnection) -> dict[str, Any]:
    """The (assumed) JSON body published for a connection event."""
    return {
        "eventType": event,
        "notificationType": event,
        "serviceId": connection.service_id,
        "vpcEndpointId": connection.vpc_endpoint_id,
        "vpcEndpointOwner": connection.vpc_endpoint_owner,
        "vpcEndpointState": connection.vpc_endpoint_state,
        "vpcEndpointConnectionId": connection.id,
        "region": connection.service.ec2_backend.region_name,
        "timestamp": utcnow().strftime("%Y-%m-%dT%H:%M:%S.000Z"),
    }


def _publish(notification: ConnectionNotification, event: str, connection: VpcEndpointConnection) -> None:
    from moto.sns.models import sns_backends

    arn = notification.connection_notification_arn
    region, account = arn.split(":")[3], arn.split(":")[4]
    body = notification_message(event, connection)
    body["connectionNotificationId"] = notification.id
    try:
        sns_backends[account][region].publish(
            json.dumps(body), arn=arn, subject="VPC Endpoint Connection Notification"
        )
    except Exception:  # noqa: BLE001 - a deleted topic must not break the EC2 call
        pass


def notify(event: str, connection: VpcEndpointConnection) -> None:
    """Publish ``event`` to the service's and the endpoint's notifications."""
    targets = list(connection.service.ec2_backend.connection_notifications.values())
    consumer = connection.endpoint.ec2_backend
    if consumer is not connection.service.ec2_backend:
        targets += list(consumer.connection_notifications.values())
    for n in targets:
        if event not in n.connection_events:
            continue
        if n.service_id == connection.service_id or n.vpc_endpoint_id == connection.vpc_endpoint_id:
            _publish(n, event, connection)


# -- backend mixin -------------------------------------------------------------
class VPCEndpointConnectionBackend:
    def __init__(self) -> None:
        # In the service owner's backend, keyed by VPC endpoint id.
        self.vpc_endpoint_connections: dict[str, VpcEndpointConnection] = {}
        self.connection_notifications: dict[str, ConnectionNotification] = {}

    def _owned_service(self, service_id: str) -> VPCServiceConfiguration:
        config = self.configurations.get(service_id)  # type: ignore[attr-defined]
        if config is None:
            raise UnknownVpcEndpointService(service_id)
        return config

    def describe_vpc_endpoint_connections(self, filters: dict[str, list[str]] | None) -> list[VpcEndpointConnection]:
        connections = sorted(self.vpc_endpoint_connections.values(), key=lambda c: c.creation_timestamp)
        return filter_objects(connections, filters, lambda c, name: c.get_filter_value(name))

    def _decide_connections(
        self, service_id: str, vpce_ids: list[str], verb: str, allowed: tuple[str, ...], new_state: str, event: str
    ) -> list[dict[str, Any]]:
        self._owned_service(service_id)
        unsuccessful = []
        for vpce_id in vpce_ids:
            connection = self.vpc_endpoint_connections.get(vpce_id)
            if connection is None or connection.service_id != service_id:
                unsuccessful.append(
                    _unsuccessful(vpce_id, "InvalidVpcEndpointId.NotFound", f"The Vpc Endpoint Id '{vpce_id}' does not exist")
                )
                continue
            state = connection.vpc_endpoint_state
            if state not in allowed:
                unsuccessful.append(
                    _unsuccessful(
                        vpce_id,
                        "InvalidVpcEndpointState",
                        f"Vpc Endpoint '{vpce_id}' is in state '{state}' and cannot be {verb}",
                    )
                )
                continue
            connection.endpoint.state = new_state
            notify(event, connection)
        return unsuccessful

    def accept_vpc_endpoint_connections(self, service_id: str, vpce_ids: list[str]) -> list[dict[str, Any]]:
        return self._decide_connections(service_id, vpce_ids, "accepted", ("pendingAcceptance",), "available", "Accept")

    def reject_vpc_endpoint_connections(self, service_id: str, vpce_ids: list[str]) -> list[dict[str, Any]]:
        # A connection can be rejected after it was accepted, which disconnects it.
        return self._decide_connections(
            service_id, vpce_ids, "rejected", ("pendingAcceptance", "pending", "available"), "rejected", "Reject"
        )

    # -- connection notifications ----------------------------------------
    def create_vpc_endpoint_connection_notification(
        self,
        topic_arn: str,
        events: list[str],
        service_id: str | None,
        vpc_endpoint_id: str | None,
    ) -> ConnectionNotification:
        if bool(service_id) == bool(vpc_endpoint_id):
            raise EC2ClientError(
                "InvalidParameterCombination", "Exactly one of ServiceId and VpcEndpointId must be specified"
            )
        if service_id:
            self._owned_service(service_id)
        else:
            self.get_vpc_end_point(vpc_endpoint_id)  # type: ignore[attr-defined]
        self._validate_notification(topic_arn, events)
        notification = ConnectionNotification(self, topic_arn, events, service_id, vpc_endpoint_id)
        self.connection_notifications[notification.id] = notification
        return notification

    @staticmethod
    def _validate_notification(topic_arn: str | None, events: list[str] | None) -> None:
        if topic_arn is not None and not _topic_exists(topic_arn):
            raise EC2ClientError("InvalidConnectionNotification", f"Invalid SNS topic ARN '{topic_arn}'")
        if events is not None:
            if not events:
                raise EC2ClientError("InvalidParameterValue", "ConnectionEvents must not be empty")
            for event in events:
                if event not in CONNECTION_EVENTS:
                    raise EC2ClientError(
                        "InvalidParameterValue",
                        f"Value ({event}) for parameter connectionEvents is invalid. "
                        f"Valid values are {', '.join(CONNECTION_EVENTS)}",
                    )

    def _get_notification(self, notification_id: str) -> ConnectionNotification:
        notification = self.connection_notifications.get(notification_id)
        if notification is None:
            raise EC2ClientError(
                "InvalidConnectionNotification",
                f"The connection notification '{notification_id}' does not exist",
            )
        return notification

    def describe_vpc_endpoint_connection_notifications(
        self, notification_id: str | None, filters: dict[str, list[str]] | None
    ) -> list[ConnectionNotification]:
        if notification_id:
            notifications = [self._get_notification(notification_id)]
        else:
            notifications = list(self.connection_notifications.values())
        return filter_objects(notifications, filters, lambda n, name: n.get_filter_value(name))

    def modify_vpc_endpoint_connection_notification(
        self, notification_id: str, topic_arn: str | None, events: list[str] | None
    ) -> None:
        notification = self._get_notification(notification_id)
        self._validate_notification(topic_arn, events)
        if topic_arn:
            notification.connection_notification_arn = topic_arn
        if events:
            notification.connection_events = list(events)

    def delete_vpc_endpoint_connection_notifications(self, notification_ids: list[str]) -> list[dict[str, Any]]:
        unsuccessful = []
        for notification_id in notification_ids:
            if self.connection_notifications.pop(notification_id, None) is None:
                unsuccessful.append(
                    _unsuccessful(
                        notification_id,
                        "InvalidConnectionNotification",
                        f"The connection notification '{notification_id}' does not exist",
                    )
                )
        return unsuccessful


def _unsuccessful(resource_id: str, code: str, message: str) -> dict[str, Any]:
    return {"ResourceId": resource_id, "Error": {"Code": code, "Message": message}}


# -- wrappers around moto's VPC endpoint model ---------------------------------
_original_create_vpc_endpoint = VPCBackend.create_vpc_endpoint
_original_delete_vpc_endpoints = VPCBackend.delete_vpc_endpoints


def create_vpc_endpoint(self: Any, vpc_id: str, service_name: str, endpoint_type: str | None, *args: Any, **kwargs: Any) -> VPCEndPoint:
    kind = (endpoint_type or "Gateway").lower()
    found = None
    if PRIVATE_SERVICE_NAME.match(service_name or ""):
        found = find_service_by_name(service_name)
        # AWS hides a service from accounts that are not allowed to use it.
        if found is None or not principal_allowed(found[1], found[0].account_id, self.account_id):
            raise InvalidServiceName(service_name)
        if kind not in ("interface", "gatewayloadbalancer"):
            raise EC2ClientError(
                "InvalidParameter",
                f"The Vpc Endpoint Service '{service_name}' does not support endpoint type '{endpoint_type}'",
            )
    endpoint = _original_create_vpc_endpoint(self, vpc_id, service_name, endpoint_type, *args, **kwargs)
    if found is None:
        return endpoint
    owner, config = found
    endpoint.dns_entries = [
        {
            "dns_name": f"{endpoint.id}-{random_resource_id(8)}.{config.id}.{owner.region_name}.vpce.amazonaws.com",
            "hosted_zone_id": random_resource_id(13).upper(),
        }
    ]
    endpoint.state = "pendingAcceptance" if _truthy(config.acceptance_required) else "available"
    connection = VpcEndpointConnection(config, endpoint)
    owner.vpc_endpoint_connections[endpoint.id] = connection
    endpoint.vpc_endpoint_connection = connection
    notify("Connect", connection)
    return endpoint


def delete_vpc_endpoints(self: Any, vpce_ids: list[str] | None = None) -> None:
    before = {i: self.vpc_end_points[i].state for i in vpce_ids or [] if i in self.vpc_end_points}
    _original_delete_vpc_endpoints(self, vpce_ids)
    for vpce_id, state in before.items():
        endpoint = self.vpc_end_points[vpce_id]
        connection = getattr(endpoint, "vpc_endpoint_connection", None)
        if connection is not None and state != endpoint.state:
            notify("Delete", connection)


# States in which a connection keeps its service from being deleted.
LIVE_STATES = ("pendingAcceptance", "pending", "available")
_original_describe_services = VPCBackend.describe_vpc_endpoint_services


class _WithVisibleServices:
    """The backend as seen by DescribeVpcEndpointServices: its own endpoint
    services plus other accounts' services (same region) it may connect to."""

    def __init__(self, backend: Any, region: str) -> None:
        self._backend = backend
        self.configurations = dict(backend.configurations)
        for other in _ec2_backends_in(region):
            if other is backend:
                continue
            for config in other.configurations.values():
                if principal_allowed(config, other.account_id, backend.account_id):
                    self.configurations.setdefault(config.id, config)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._backend, name)


def describe_vpc_endpoint_services(self: Any, service_names: list[str], filters: Any, max_results: int, next_token: str | None, region: str) -> dict[str, Any]:
    return _original_describe_services(
        _WithVisibleServices(self, region), service_names, filters, max_results, next_token, region
    )


def services_with_connections(self: Any, service_ids: list[str]) -> list[str]:
    live = {
        c.service_id
        for c in getattr(self, "vpc_endpoint_connections", {}).values()
        if c.vpc_endpoint_state in LIVE_STATES
    }
    return [s for s in service_ids if s in live and s in self.configurations]


def delete_vpc_endpoint_service_configurations_response(self: Any) -> Any:
    """AWS refuses to delete a service that still has live endpoint connections."""
    from moto.core.responses import ActionResult

    service_ids = self._get_param("ServiceIds", [])
    busy = services_with_connections(self.ec2_backend, service_ids)
    missing = self.ec2_backend.delete_vpc_endpoint_service_configurations([s for s in service_ids if s not in busy])
    connections = self.ec2_backend.vpc_endpoint_connections
    for vpce_id, connection in list(connections.items()):
        if connection.service_id in service_ids and connection.service_id not in busy and connection.service_id not in missing:
            del connections[vpce_id]
    unsuccessful = [
        _unsuccessful(m, "InvalidVpcEndpointService.NotFound", f"The VpcEndpointService Id '{m}' does not exist")
        for m in missing
    ] + [
        _unsuccessful(b, "ExistingVpcEndpointConnections", "Service has existing active VPC Endpoint connections!")
        for b in busy
    ]
    return ActionResult({"Unsuccessful": unsuccessful})


delete_vpc_endpoint_service_configurations_response.__name__ = "delete_vpc_endpoint_service_configurations"


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.lower() == "true"
    return bool(value)


def apply() -> None:
    from moto.ec2.models import EC2Backend
    from moto.ec2.responses.vpc_service_configuration import VPCEndpointServiceConfiguration

    if VPCEndpointConnectionBackend not in EC2Backend.__mro__:
        # moto's EC2Backend.__init__ initialises every class in its MRO.
        EC2Backend.__bases__ = EC2Backend.__bases__ + (VPCEndpointConnectionBackend,)
    VPCBackend.create_vpc_endpoint = create_vpc_endpoint  # type: ignore[method-assign]
    VPCBackend.delete_vpc_endpoints = delete_vpc_endpoints  # type: ignore[method-assign]
    VPCBackend.describe_vpc_endpoint_services = describe_vpc_endpoint_services  # type: ignore[method-assign]
    VPCEndpointServiceConfiguration.delete_vpc_endpoint_service_configurations = (  # type: ignore[method-assign]
        delete_vpc_endpoint_service_configurations_response
    )
