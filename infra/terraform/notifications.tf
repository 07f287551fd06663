# Notifications (event_bus with notification_email and/or notification_topic_arn): three rules on
# the bus turn vpcwarden's events into one readable paragraph each (input transformers), sent to
# an encrypted topic (e-mail) and, optionally, to a topic of your own (AWS Chatbot and other chat
# integrations). infra/sam/template.yaml holds the same rules (Notify*Rule); the parity tests
# compare them and tests/infra/test_notifications.py renders them in the emulator.

locals {
  notifications_on = var.event_bus != "" && (var.notification_email != "" || var.notification_topic_arn != "")

  notification_rules = {
    "approval-requested" = {
      description = "vpcwarden - an approval request waits for a person"
      pattern     = "{\"source\":[\"vpcwarden\"],\"detail-type\":[\"Approval Requested\"]}"
      paths = {
        account    = "$.detail.account"
        kind       = "$.detail.kind"
        request    = "$.detail.request"
        target     = "$.detail.target"
        region     = "$.detail.region"
        first_seen = "$.detail.first_seen"
        approve    = "$.detail.approve_command"
        deny       = "$.detail.deny_command"
      }
      template = "\"vpcwarden asks for a decision: account <account> requests a <kind> connection, <request>, into <target> in <region> (first seen <first_seen>), and no grant admits it. To approve: <approve> - or to deny: <deny>\""
    }
    "finding-opened" = {
      description = "vpcwarden - new critical or high drift"
      pattern     = "{\"source\":[\"vpcwarden\"],\"detail-type\":[\"Finding Opened\"],\"detail\":{\"severity\":[\"critical\",\"high\"]}}"
      paths = {
        severity   = "$.detail.severity"
        code       = "$.detail.code"
        resource   = "$.detail.resource"
        account    = "$.detail.account"
        region     = "$.detail.region"
        message    = "$.detail.message"
        finding    = "$.detail.finding_id"
        first_seen = "$.detail.first_seen"
      }
      template = "\"vpcwarden found new <severity> drift in account <account> (<region>): <code> on <resource>. <message> (finding <finding>, first seen <first_seen>; the nightly report says how to fix it)\""
    }
    "decision-refused" = {
      description = "vpcwarden - a request refused, or an action that failed"
      pattern     = "{\"source\":[\"vpcwarden\"],\"detail-type\":[\"Peering Decision\",\"Endpoint Connection Decision\"],\"detail\":{\"decision\":[\"ignored\",\"rejected\",\"revoked\",\"accept-failed\",\"reject-failed\",\"routes-failed\",\"route-conflict\"]}}"
      paths = {
        decision  = "$.detail.decision"
        type      = "$.detail-type"
        pcx       = "$.detail.pcx"
        endpoint  = "$.detail.endpoint"
        requester = "$.detail.requester.account"
        consumer  = "$.detail.account"
        into      = "$.detail.accepter.vpc"
        service   = "$.detail.service"
        reason    = "$.detail.reason"
        code      = "$.detail.reason_code"
      }
      template = "\"vpcwarden <decision>: <pcx><endpoint> from account <requester><consumer> into <into><service> (<type>): <reason> [<code>]. The ledger holds the details under that id.\""
    }
  }
}

resource "aws_sns_topic" "notifications" {
  count = local.notifications_on ? 1 : 0

  name_prefix       = "${var.name_prefix}-notifications-"
  kms_master_key_id = aws_kms_key.this.arn
  tags              = var.tags
}

data "aws_iam_policy_document" "notifications" {
  count = local.notifications_on ? 1 : 0

  statement {
    sid       = "EventBridgeNotifications"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.notifications[0].arn]
    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.notifications[0].arn]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_sns_topic_policy" "notifications" {
  count = local.notifications_on ? 1 : 0

  arn    = aws_sns_topic.notifications[0].arn
  policy = data.aws_iam_policy_document.notifications[0].json
}

resource "aws_sns_topic_subscription" "notification_email" {
  count = local.notifications_on && var.notification_email != "" ? 1 : 0

  topic_arn = aws_sns_topic.notifications[0].arn
  protocol  = "email"
  endpoint  = var.notification_email
}

resource "aws_cloudwatch_event_rule" "notifications" {
  for_each = local.notifications_on ? local.notification_rules : {}

  name_prefix    = "${var.name_prefix}-${each.key}-"
  description    = each.value.description
  event_bus_name = var.event_bus
  event_pattern  = each.value.pattern
  tags           = var.tags
}

resource "aws_cloudwatch_event_target" "notifications" {
  for_each = local.notifications_on ? local.notification_rules : {}

  rule           = aws_cloudwatch_event_rule.notifications[each.key].name
  event_bus_name = var.event_bus
  target_id      = "topic"
  arn            = aws_sns_topic.notifications[0].arn

  input_transformer {
    input_paths    = each.value.paths
    input_template = each.value.template
  }
}

resource "aws_cloudwatch_event_target" "notifications_chat" {
  for_each = local.notifications_on && var.notification_topic_arn != "" ? local.notification_rules : {}

  rule           = aws_cloudwatch_event_rule.notifications[each.key].name
  event_bus_name = var.event_bus
  target_id      = "chat"
  arn            = var.notification_topic_arn

  input_transformer {
    input_paths    = each.value.paths
    input_template = each.value.template
  }
}
