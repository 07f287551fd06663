"""EC2 query API for endpoint connections and connection notifications.

A response mixin in the style of moto.ec2.responses.*; ``apply`` adds it to
``EC2Response``'s bases, which is how moto itself composes EC2Response.
"""

from __future__ import annotations

from moto.core.responses import ActionResult
from moto.ec2.responses._base_response import EC2BaseResponse

from .utils import paginate


class VPCEndpointConnections(EC2BaseResponse):
    def describe_vpc_endpoint_connections(self) -> ActionResult:
        self.error_on_dryrun()
        connections = self.ec2_backend.describe_vpc_endpoint_connections(filters=self._filters_from_querystring())
        page, next_token = paginate(
            connections, self._get_param("MaxResults"), self._get_param("NextToken"), minimum=5, maximum=1000
        )
        return ActionResult({"VpcEndpointConnections": page, "NextToken": next_token})

    def accept_vpc_endpoint_connections(self) -> ActionResult:
        self.error_on_dryrun()
        unsuccessful = self.ec2_backend.accept_vpc_endpoint_connections(
            service_id=self._get_param("ServiceId"),
            vpce_ids=self._get_param("VpcEndpointIds", []),
        )
        return ActionResult({"Unsuccessful": unsuccessful})

    def reject_vpc_endpoint_connections(self) -> ActionResult:
        self.error_on_dryrun()
        unsuccessful = self.ec2_backend.reject_vpc_endpoint_connections(
            service_id=self._get_param("ServiceId"),
            vpce_ids=self._get_param("VpcEndpointIds", []),
        )
        return ActionResult({"Unsuccessful": unsuccessful})

    def create_vpc_endpoint_connection_notification(self) -> ActionResult:
        self.error_on_dryrun()
        notification = self.ec2_backend.create_vpc_endpoint_connection_notification(
            topic_arn=self._get_param("ConnectionNotificationArn"),
            events=self._get_param("ConnectionEvents", []),
            service_id=self._get_param("ServiceId"),
            vpc_endpoint_id=self._get_param("VpcEndpointId"),
        )
        result = {"ConnectionNotification": notification}
        if self._get_param("ClientToken"):
            result["ClientToken"] = self._get_param("ClientToken")
        return ActionResult(result)

    def describe_vpc_endpoint_connection_notifications(self) -> ActionResult:
        self.error_on_dryrun()
        notifications = self.ec2_backend.describe_vpc_endpoint_connection_notifications(
            notification_id=self._get_param("ConnectionNotificationId"),
            filters=self._filters_from_querystring(),
        )
        page, next_token = paginate(notifications, self._get_param("MaxResults"), self._get_param("NextToken"))
        return ActionResult({"ConnectionNotificationSet": page, "NextToken": next_token})

    def modify_vpc_endpoint_connection_notification(self) -> ActionResult:
        self.error_on_dryrun()
        self.ec2_backend.modify_vpc_endpoint_connection_notification(
            notification_id=self._get_param("ConnectionNotificationId"),
            topic_arn=self._get_param("ConnectionNotificationArn"),
            events=self._get_param("ConnectionEvents"),
        )
        return ActionResult({"ReturnValue": True})

    def delete_vpc_endpoint_connection_notifications(self) -> ActionResult:
        self.error_on_dryrun()
        unsuccessful = self.ec2_backend.delete_vpc_endpoint_connection_notifications(
            self._get_param("ConnectionNotificationIds", [])
        )
        return ActionResult({"Unsuccessful": unsuccessful})


def apply() -> None:
    from moto.ec2.responses import EC2Response

    if VPCEndpointConnections not in EC2Response.__mro__:
        EC2Response.__bases__ = EC2Response.__bases__ + (VPCEndpointConnections,)
