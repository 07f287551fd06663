# The three functions, their log groups, asynchronous failure handling and triggers.

locals {
  common_environment = {
    ALLOWLIST_TABLE = aws_dynamodb_table.allowlist.name
    LEDGER_TABLE    = aws_dynamodb_table.ledger.name
    DRY_RUN         = tostring(var.dry_run)
    RUST_LOG        = var.log_level
    EVENT_BUS       = var.event_bus
  }

  functions = {
    "peering-acceptor" = {
      description = "Accepts allowlisted VPC peering requests and wires their routes"
      memory_size = 128
      timeout     = 120
      environment = {
        ROUTE_TABLE_TAG     = local.route_table_tag
        REQUESTER_ROLE_NAME = var.requester_role_name
        UNLISTED_ACTION     = var.unlisted_action
      }
    }
    "endpoint-approver" = {
      description = "Approves PrivateLink endpoint connections against the allowlist"
      memory_size = 128
      timeout     = 120
      environment = {
        UNLISTED_ACTION      = var.unlisted_action
        REVOKE_ON_REMOVAL    = tostring(var.revoke_on_removal)
        SYNC_PRINCIPALS      = tostring(var.sync_principals)
        ENDPOINT_SERVICE_IDS = join(",", var.endpoint_service_ids)
      }
    }
    "drift-auditor" = {
      description = "Audits peering and endpoint drift against the allowlist"
      memory_size = 512
      timeout     = 600
      environment = {
        ROUTE_TABLE_TAG        = local.route_table_tag
        ENDPOINT_SERVICE_IDS   = join(",", var.endpoint_service_ids)
        REPORT_BUCKET          = aws_s3_bucket.reports.bucket
        REPORT_PREFIX          = var.report_prefix
        REMEDIATE              = tostring(var.remediate)
        STALE_PENDING_HOURS    = tostring(var.stale_pending_hours)
        EXPIRY_WARNING_DAYS    = tostring(var.expiry_warning_days)
        AUDIT_ACCOUNTS         = join(",", var.audit_accounts)
        AUDIT_EXCLUDE_ACCOUNTS = join(",", var.audit_exclude_accounts)
        AUDIT_ROLE_NAME        = var.audit_role_name
        AUDIT_REGIONS          = join(",", var.audit_regions)
        SECURITY_HUB           = tostring(var.security_hub)
      }
    }
  }

  package_paths = {
    for fn in local.function_names : fn => lookup(var.package_paths, fn, "${var.artifacts_dir}/${fn}/bootstrap.zip")
  }
}

resource "aws_cloudwatch_log_group" "function" {
  for_each = toset(local.function_names)

  name              = "/aws/lambda/${var.name_prefix}-${each.key}"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.this.arn
  tags              = var.tags
}

resource "aws_lambda_function" "this" {
  #checkov:skip=CKV_AWS_117:Calls only AWS control-plane APIs and reaches no private resource, so it runs outside a VPC (no NAT or interface endpoints to pay for).
  #checkov:skip=CKV_AWS_116:Async failures go to the encrypted on-failure destination (aws_lambda_function_event_invoke_config), which supersedes a dead-letter queue.
  #checkov:skip=CKV_AWS_272:Code signing is not available for the cargo-lambda build path; artifacts come from the project's own locked build.
  for_each = local.functions

  function_name    = "${var.name_prefix}-${each.key}"
  description      = each.value.description
  role             = aws_iam_role.function[each.key].arn
  runtime          = "provided.al2023"
  handler          = "bootstrap"
  architectures    = [var.architecture]
  filename         = local.package_paths[each.key]
  source_code_hash = filebase64sha256(local.package_paths[each.key])
  memory_size      = each.value.memory_size
  timeout          = each.value.timeout
  # One run at a time; with org_audit, the auditor runs as many scopes at once as the state machine.
  reserved_concurrent_executions = each.key == "drift-auditor" && var.org_audit ? var.org_audit_max_concurrency : 1
  kms_key_arn                    = aws_kms_key.this.arn

  environment {
    variables = merge(local.common_environment, each.value.environment)
  }

  tracing_config {
    mode = "Active"
  }

  logging_config {
    log_format = "JSON"
    log_group  = aws_cloudwatch_log_group.function[each.key].name
  }

  tags = var.tags

  depends_on = [aws_iam_role_policy.function]
}

resource "aws_lambda_function_event_invoke_config" "this" {
  for_each = aws_lambda_function.this

  function_name                = each.value.function_name
  maximum_event_age_in_seconds = 3600
  maximum_retry_attempts       = 2

  destination_config {
    on_failure {
      destination = aws_sqs_queue.failures.arn
    }
  }
}

# ---------------------------------------------------------------- peering-acceptor triggers

resource "aws_cloudwatch_event_rule" "peering_api_calls" {
  name_prefix = "${var.name_prefix}-peering-api-calls-"
  description = "CloudTrail: VPC peering created, deleted or rejected"
  event_pattern = jsonencode({
    source        = ["aws.ec2"]
    "detail-type" = ["AWS API Call via CloudTrail"]
    detail = {
      eventSource = ["ec2.amazonaws.com"]
      eventName   = ["CreateVpcPeeringConnection", "DeleteVpcPeeringConnection", "RejectVpcPeeringConnection"]
    }
  })
  tags = var.tags
}

resource "aws_cloudwatch_event_target" "peering_api_calls" {
  rule = aws_cloudwatch_event_rule.peering_api_calls.name
  arn  = aws_lambda_function.this["peering-acceptor"].arn

  retry_policy {
    maximum_retry_attempts       = 4
    maximum_event_age_in_seconds = 3600
  }
}

resource "aws_lambda_permission" "peering_api_calls" {
  statement_id  = "PeeringApiCalls"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.this["peering-acceptor"].function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.peering_api_calls.arn
}

# ---------------------------------------------------------------- schedules

locals {
  # With org_audit the audit schedule starts the state machine instead (org_audit.tf).
  schedules = merge(
    {
      "peering-acceptor"  = { expression = var.sweep_schedule, description = "vpcwarden peering-acceptor sweep" }
      "endpoint-approver" = { expression = var.sweep_schedule, description = "vpcwarden endpoint-approver sweep" }
    },
    var.org_audit ? {} : {
      "drift-auditor" = { expression = var.audit_schedule, description = "vpcwarden drift-auditor run" }
    },
  )
}

resource "aws_cloudwatch_event_rule" "schedule" {
  for_each = local.schedules

  name_prefix         = "${var.name_prefix}-${each.key}-"
  description         = each.value.description
  schedule_expression = each.value.expression
  tags                = var.tags
}

resource "aws_cloudwatch_event_target" "schedule" {
  for_each = local.schedules

  rule = aws_cloudwatch_event_rule.schedule[each.key].name
  arn  = aws_lambda_function.this[each.key].arn
}

resource "aws_lambda_permission" "schedule" {
  for_each = local.schedules

  statement_id  = "Schedule"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.this[each.key].function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.schedule[each.key].arn
}

# ---------------------------------------------------------------- endpoint-approver triggers

resource "aws_sns_topic_subscription" "approver" {
  topic_arn = aws_sns_topic.endpoint_notifications.arn
  protocol  = "lambda"
  endpoint  = aws_lambda_function.this["endpoint-approver"].arn
}

resource "aws_lambda_permission" "approver_notifications" {
  statement_id  = "ConnectionNotifications"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.this["endpoint-approver"].function_name
  principal     = "sns.amazonaws.com"
  source_arn    = aws_sns_topic.endpoint_notifications.arn
}

resource "aws_lambda_event_source_mapping" "allowlist_changes" {
  event_source_arn                   = aws_dynamodb_table.allowlist.stream_arn
  function_name                      = aws_lambda_function.this["endpoint-approver"].arn
  starting_position                  = "LATEST"
  batch_size                         = 25
  maximum_batching_window_in_seconds = 5
  bisect_batch_on_function_error     = true
  # The approver answers batchItemFailures: a failed unit is retried from its first record, and
  # the records before it are not processed again.
  function_response_types       = ["ReportBatchItemFailures"]
  maximum_retry_attempts        = 5
  maximum_record_age_in_seconds = 86400

  filter_criteria {
    filter {
      pattern = jsonencode({ dynamodb = { Keys = { pk = { S = [{ prefix = "endpoint#" }] } } } })
    }
  }

  destination_config {
    on_failure {
      destination_arn = aws_sqs_queue.failures.arn
    }
  }
}

# The acceptor's share of the allowlist stream: peering grants written (vpcwarden approve, or by
# hand) decide that account's pending requests at once. Same settings and answers as the
# approver's mapping above.
resource "aws_lambda_event_source_mapping" "peering_grant_changes" {
  event_source_arn                   = aws_dynamodb_table.allowlist.stream_arn
  function_name                      = aws_lambda_function.this["peering-acceptor"].arn
  starting_position                  = "LATEST"
  batch_size                         = 25
  maximum_batching_window_in_seconds = 5
  bisect_batch_on_function_error     = true
  function_response_types            = ["ReportBatchItemFailures"]
  maximum_retry_attempts             = 5
  maximum_record_age_in_seconds      = 86400

  filter_criteria {
    filter {
      pattern = jsonencode({ dynamodb = { Keys = { pk = { S = [{ prefix = "peering#" }] } } } })
    }
  }

  destination_config {
    on_failure {
      destination_arn = aws_sqs_queue.failures.arn
    }
  }
}
