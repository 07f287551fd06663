"""Create/Describe/Modify/DeleteVpcEndpointConnectionNotification(s) and SNS delivery.

Written from the EC2 API reference (CreateVpcEndpointConnectionNotification:
events Accept | Connect | Delete | Reject; ConnectionNotification).  The SNS
message body is not documented by AWS; its shape here is the emulator's
assumption (see README.md) and is asserted only on the fields the design uses.
"""

from helpers import client_error, error_code, xml_without_namespaces
from privatelink import CONSUMER, PROVIDER, Inbox, make_consumer, make_provider

ALL = ["Connect", "Accept", "Reject", "Delete"]


def test_service_notification_receives_the_lifecycle(emu):
    provider = make_provider(emu)
    inbox = Inbox(emu)
    created = provider.ec2.create_vpc_endpoint_connection_notification(
        ServiceId=provider.service_id, ConnectionNotificationArn=inbox.topic_arn, ConnectionEvents=ALL
    )["ConnectionNotification"]
    assert created["ConnectionNotificationId"].startswith("vpce-nfn-")
    assert created["ServiceId"] == provider.service_id
    assert created["ConnectionNotificationArn"] == inbox.topic_arn
    assert sorted(created["ConnectionEvents"]) == sorted(ALL)
    assert created["ConnectionNotificationType"] == "Topic"
    assert created["ConnectionNotificationState"] == "Enabled"

    consumer = make_consumer(emu)
    vpce = consumer.connect(provider.service_name)
    provider.ec2.accept_vpc_endpoint_connections(ServiceId=provider.service_id, VpcEndpointIds=[vpce])
    provider.ec2.reject_vpc_endpoint_connections(ServiceId=provider.service_id, VpcEndpointIds=[vpce])
    consumer.ec2.delete_vpc_endpoints(VpcEndpointIds=[vpce])

    messages = inbox.messages()
    assert [(m["eventType"], m["vpcEndpointState"]) for m in messages] == [
        ("Connect", "pendingAcceptance"),
        ("Accept", "available"),
        ("Reject", "rejected"),
        ("Delete", "deleted"),
    ]
    for m in messages:
        assert m["notificationType"] == m["eventType"]
        assert m["serviceId"] == provider.service_id
        assert m["vpcEndpointId"] == vpce
        assert m["vpcEndpointOwner"] == CONSUMER


def test_only_subscribed_events_and_matching_service_are_published(emu):
    provider = make_provider(emu)
    other = provider.add_service(principals=["*"])
    inbox = Inbox(emu)
    provider.ec2.create_vpc_endpoint_connection_notification(
        ServiceId=provider.service_id, ConnectionNotificationArn=inbox.topic_arn, ConnectionEvents=["Accept"]
    )
    consumer = make_consumer(emu)
    vpce = consumer.connect(provider.service_name)
    elsewhere = consumer.connect(other["ServiceName"])
    provider.ec2.accept_vpc_endpoint_connections(ServiceId=other["ServiceId"], VpcEndpointIds=[elsewhere])
    provider.ec2.accept_vpc_endpoint_connections(ServiceId=provider.service_id, VpcEndpointIds=[vpce])
    assert [(m["eventType"], m["vpcEndpointId"]) for m in inbox.messages()] == [("Accept", vpce)]


def test_endpoint_scoped_notification_in_the_consumer_account(emu):
    provider = make_provider(emu)
    consumer = make_consumer(emu)
    vpce = consumer.connect(provider.service_name)
    inbox = Inbox(emu, account=CONSUMER, name="my-endpoint")
    n = consumer.ec2.create_vpc_endpoint_connection_notification(
        VpcEndpointId=vpce, ConnectionNotificationArn=inbox.topic_arn, ConnectionEvents=["Accept", "Reject"]
    )["ConnectionNotification"]
    assert n["VpcEndpointId"] == vpce and "ServiceId" not in n
    provider.ec2.accept_vpc_endpoint_connections(ServiceId=provider.service_id, VpcEndpointIds=[vpce])
    provider.ec2.reject_vpc_endpoint_connections(ServiceId=provider.service_id, VpcEndpointIds=[vpce])
    assert [m["eventType"] for m in inbox.messages()] == ["Accept", "Reject"]


def test_describe_modify_delete(emu):
    provider = make_provider(emu)
    inbox, other_inbox = Inbox(emu), Inbox(emu, name="second")
    ec2 = provider.ec2
    first = ec2.create_vpc_endpoint_connection_notification(
        ServiceId=provider.service_id, ConnectionNotificationArn=inbox.topic_arn, ConnectionEvents=["Connect"]
    )["ConnectionNotification"]["ConnectionNotificationId"]
    second = ec2.create_vpc_endpoint_connection_notification(
        ServiceId=provider.service_id, ConnectionNotificationArn=other_inbox.topic_arn, ConnectionEvents=["Delete"]
    )["ConnectionNotification"]["ConnectionNotificationId"]

    listed = ec2.describe_vpc_endpoint_connection_notifications()["ConnectionNotificationSet"]
    assert sorted(n["ConnectionNotificationId"] for n in listed) == sorted([first, second])
    [one] = ec2.describe_vpc_endpoint_connection_notifications(ConnectionNotificationId=first)[
        "ConnectionNotificationSet"
    ]
    assert one["ConnectionEvents"] == ["Connect"]
    by_arn = ec2.describe_vpc_endpoint_connection_notifications(
        Filters=[{"Name": "connection-notification-arn", "Values": [other_inbox.topic_arn]}]
    )["ConnectionNotificationSet"]
    assert [n["ConnectionNotificationId"] for n in by_arn] == [second]
    by_service = ec2.describe_vpc_endpoint_connection_notifications(
        Filters=[{"Name": "service-id", "Values": [provider.service_id]}]
    )["ConnectionNotificationSet"]
    assert len(by_service) == 2

    assert ec2.modify_vpc_endpoint_connection_notification(
        ConnectionNotificationId=first, ConnectionEvents=["Connect", "Accept"], ConnectionNotificationArn=other_inbox.topic_arn
    )["ReturnValue"] is True
    [one] = ec2.describe_vpc_endpoint_connection_notifications(ConnectionNotificationId=first)[
        "ConnectionNotificationSet"
    ]
    assert sorted(one["ConnectionEvents"]) == ["Accept", "Connect"]
    assert one["ConnectionNotificationArn"] == other_inbox.topic_arn

    consumer = make_consumer(emu)
    consumer.connect(provider.service_name)
    assert inbox.messages() == []
    assert [m["eventType"] for m in other_inbox.messages()] == ["Connect"]

    missing = "vpce-nfn-0123456789abcdef0"
    out = ec2.delete_vpc_endpoint_connection_notifications(ConnectionNotificationIds=[first, missing])
    assert [u["ResourceId"] for u in out["Unsuccessful"]] == [missing]
    remaining = ec2.describe_vpc_endpoint_connection_notifications()["ConnectionNotificationSet"]
    assert [n["ConnectionNotificationId"] for n in remaining] == [second]
    err = client_error(ec2.describe_vpc_endpoint_connection_notifications, ConnectionNotificationId=first)
    assert error_code(err) == "InvalidConnectionNotification"


def test_validation(emu):
    provider = make_provider(emu)
    inbox = Inbox(emu)
    ec2 = provider.ec2
    bad_topic = f"arn:aws:sns:us-east-1:{PROVIDER}:does-not-exist"
    err = client_error(
        ec2.create_vpc_endpoint_connection_notification,
        ServiceId=provider.service_id,
        ConnectionNotificationArn=bad_topic,
        ConnectionEvents=["Connect"],
    )
    assert error_code(err) == "InvalidConnectionNotification"
    err = client_error(
        ec2.create_vpc_endpoint_connection_notification,
        ServiceId="vpce-svc-0123456789abcdef0",
        ConnectionNotificationArn=inbox.topic_arn,
        ConnectionEvents=["Connect"],
    )
    assert error_code(err) == "InvalidVpcEndpointServiceId.NotFound"
    err = client_error(
        ec2.create_vpc_endpoint_connection_notification,
        ServiceId=provider.service_id,
        ConnectionNotificationArn=inbox.topic_arn,
        ConnectionEvents=["Explode"],
    )
    assert error_code(err) == "InvalidParameterValue"
    # a consumer cannot attach notifications to someone else's service
    consumer = make_consumer(emu)
    err = client_error(
        consumer.ec2.create_vpc_endpoint_connection_notification,
        ServiceId=provider.service_id,
        ConnectionNotificationArn=inbox.topic_arn,
        ConnectionEvents=["Connect"],
    )
    assert error_code(err) == "InvalidVpcEndpointServiceId.NotFound"


def test_wire_shape(emu):
    provider = make_provider(emu)
    inbox = Inbox(emu)
    provider.ec2.create_vpc_endpoint_connection_notification(
        ServiceId=provider.service_id, ConnectionNotificationArn=inbox.topic_arn, ConnectionEvents=["Connect", "Accept"]
    )
    raw = {}
    provider.ec2.meta.events.register(
        "after-call.ec2.DescribeVpcEndpointConnectionNotifications",
        lambda http_response, **_: raw.setdefault("body", http_response.content),
    )
    provider.ec2.describe_vpc_endpoint_connection_notifications()
    root = xml_without_namespaces(raw["body"])
    item = root.find("connectionNotificationSet/item")
    assert item.find("connectionNotificationId").text.startswith("vpce-nfn-")
    assert [e.text for e in item.findall("connectionEvents/item")] == ["Connect", "Accept"]
    assert item.find("connectionNotificationArn").text == inbox.topic_arn
    assert item.find("serviceId").text == provider.service_id


def test_moto_reset_forgets_connections_and_notifications(emu):
    provider = make_provider(emu)
    inbox = Inbox(emu)
    provider.ec2.create_vpc_endpoint_connection_notification(
        ServiceId=provider.service_id, ConnectionNotificationArn=inbox.topic_arn, ConnectionEvents=["Connect"]
    )
    make_consumer(emu).connect(provider.service_name)
    emu.reset()
    ec2 = emu.client("ec2")
    assert ec2.describe_vpc_endpoint_connections()["VpcEndpointConnections"] == []
    assert ec2.describe_vpc_endpoint_connection_notifications()["ConnectionNotificationSet"] == []
