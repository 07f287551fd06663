# Organisation scale (org_audit): the org-audit state machine, its roles, log group, schedule and
# alarms; and the member roles as a service-managed StackSet (member_role_stack_set_ous).
#
# Both read files outside this folder, relative to it: ../statemachine/org-audit.asl.json (the
# definition SAM deploys too) and ../sam/member-role.yaml (the member roles' template). They are
# read only when the feature is on (behind a condition: Terraform evaluates even a count = 0
# resource's arguments), so a copy of this folder alone still works with both off; copy infra/ as
# a whole (terraform/, statemachine/, sam/) to use them. A module source
# "github.com/<owner>/vpcwarden//infra/terraform" fetches the whole repository, so the paths hold.

locals {
  org_audit_name = "${var.name_prefix}-org-audit"
  # Built from the name: the state machine's role must name it, and the state machine needs the role.
  org_audit_state_machine_arn = "${local.arn_prefix}:states:${local.region}:${local.account_id}:stateMachine:${local.org_audit_name}"
  org_audit_execution_arn     = "${local.arn_prefix}:states:${local.region}:${local.account_id}:execution:${local.org_audit_name}"

  org_audit_roles = var.org_audit ? {
    "org-audit" = {
      name        = local.org_audit_name
      description = "vpcwarden org-audit state machine"
      service     = "states.amazonaws.com"
    }
    "org-audit-schedule" = {
      name        = "${local.org_audit_name}-schedule"
      description = "vpcwarden org-audit schedule (EventBridge starts the state machine)"
      service     = "events.amazonaws.com"
    }
  } : {}

  # Role => statements, the same shape as local.iam_statements (and the same Sids as OrgAuditRole
  # and OrgAuditScheduleRole in infra/sam/template.yaml).
  org_audit_iam_statements = {
    "org-audit" = [
      {
        sid        = "InvokeAuditor"
        actions    = ["lambda:InvokeFunction"]
        resources  = [aws_lambda_function.this["drift-auditor"].arn]
        conditions = []
      },
      # Child executions of the Distributed Map are executions of this same state machine,
      # labelled AuditScopes (the Map's Label).
      {
        sid        = "ChildExecutions"
        actions    = ["states:StartExecution"]
        resources  = [local.org_audit_state_machine_arn]
        conditions = []
      },
      {
        sid        = "ChildExecutionStatus"
        actions    = ["states:DescribeExecution", "states:StopExecution"]
        resources  = ["${local.org_audit_execution_arn}:*", "${local.org_audit_execution_arn}/AuditScopes:*"]
        conditions = []
      },
      # ItemReader reads <report_prefix>runs/<run>/scopes.json; ResultWriter writes
      # <report_prefix>runs/<run>/map/ (multipart uploads).
      {
        sid        = "RunData"
        actions    = ["s3:GetObject", "s3:PutObject", "s3:ListMultipartUploadParts", "s3:AbortMultipartUpload"]
        resources  = [local.run_data_arn]
        conditions = []
      },
      {
        sid        = "Kms"
        actions    = ["kms:Decrypt", "kms:GenerateDataKey"]
        resources  = [aws_kms_key.this.arn]
        conditions = []
      },
      # What Step Functions needs to deliver its logs; these actions take only Resource "*".
      {
        sid = "LogDelivery"
        actions = [
          "logs:CreateLogDelivery",
          "logs:GetLogDelivery",
          "logs:UpdateLogDelivery",
          "logs:DeleteLogDelivery",
          "logs:ListLogDeliveries",
          "logs:PutResourcePolicy",
          "logs:DescribeResourcePolicies",
          "logs:DescribeLogGroups",
        ]
        resources  = ["*"]
        conditions = []
      },
      {
        sid        = "Tracing"
        actions    = ["xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets"]
        resources  = ["*"]
        conditions = []
      },
    ]
    "org-audit-schedule" = [
      {
        sid        = "StartOrgAudit"
        actions    = ["states:StartExecution"]
        resources  = [local.org_audit_state_machine_arn]
        conditions = []
      },
    ]
  }

  # The same file and variables as SAM's DefinitionUri + DefinitionSubstitutions (numbers render
  # as their decimal text in both: tests/infra/test_parity.py compares the two renderings).
  org_audit_definition = var.org_audit ? templatefile("${path.module}/../statemachine/org-audit.asl.json", {
    DriftAuditorFunctionArn    = aws_lambda_function.this["drift-auditor"].arn
    ReportBucket               = aws_s3_bucket.reports.bucket
    MaxConcurrency             = var.org_audit_max_concurrency
    ToleratedFailurePercentage = var.org_audit_tolerated_failure_percentage
  }) : null

  org_audit_alarms = var.org_audit ? {
    "failed"    = { metric = "ExecutionsFailed", description = "An org-audit execution failed (more scopes failed than tolerated, or the plan or the aggregate failed)" }
    "timed-out" = { metric = "ExecutionsTimedOut", description = "An org-audit execution ran past its 12-hour timeout" }
  } : {}
}

data "aws_iam_policy_document" "org_audit_trust" {
  for_each = local.org_audit_roles

  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = [each.value.service]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "org_audit" {
  for_each = local.org_audit_roles

  name               = each.value.name
  description        = each.value.description
  assume_role_policy = data.aws_iam_policy_document.org_audit_trust[each.key].json
  tags               = var.tags
}

data "aws_iam_policy_document" "org_audit" {
  for_each = local.org_audit_roles

  dynamic "statement" {
    for_each = local.org_audit_iam_statements[each.key]
    content {
      sid       = statement.value.sid
      actions   = statement.value.actions
      resources = statement.value.resources
    }
  }
}

resource "aws_iam_role_policy" "org_audit" {
  #checkov:skip=CKV_AWS_290:The CloudWatch Logs delivery actions Step Functions logging needs (CreateLogDelivery, PutResourcePolicy, ...) support only Resource "*" (AWS Step Functions developer guide, logging IAM policies); none reads or writes log content.
  #checkov:skip=CKV_AWS_355:Only the log delivery and X-Ray actions have Resource "*", because they support no resource type; every other statement names its resources.
  for_each = local.org_audit_roles

  name   = each.key
  role   = aws_iam_role.org_audit[each.key].id
  policy = data.aws_iam_policy_document.org_audit[each.key].json
}

# Step Functions delivers execution logs as vended logs; the /aws/vendedlogs/ prefix keeps the log
# group's resource policy small.
resource "aws_cloudwatch_log_group" "org_audit" {
  count = var.org_audit ? 1 : 0

  name              = "/aws/vendedlogs/states/${local.org_audit_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.this.arn
  tags              = var.tags
}

resource "aws_sfn_state_machine" "org_audit" {
  count = var.org_audit ? 1 : 0

  name       = local.org_audit_name
  type       = "STANDARD"
  role_arn   = aws_iam_role.org_audit["org-audit"].arn
  definition = local.org_audit_definition

  logging_configuration {
    log_destination        = "${aws_cloudwatch_log_group.org_audit[0].arn}:*"
    include_execution_data = true
    level                  = "ALL"
  }

  tracing_configuration {
    enabled = true
  }

  tags = var.tags

  # Step Functions checks at creation that the role may deliver the logs.
  depends_on = [aws_iam_role_policy.org_audit]
}

# The audit schedule starts the state machine (instead of invoking the auditor) with {}.
resource "aws_cloudwatch_event_rule" "org_audit" {
  count = var.org_audit ? 1 : 0

  name_prefix         = "${local.org_audit_name}-"
  description         = "vpcwarden org audit run"
  schedule_expression = var.audit_schedule
  tags                = var.tags
}

resource "aws_cloudwatch_event_target" "org_audit" {
  count = var.org_audit ? 1 : 0

  rule     = aws_cloudwatch_event_rule.org_audit[0].name
  arn      = aws_sfn_state_machine.org_audit[0].arn
  role_arn = aws_iam_role.org_audit["org-audit-schedule"].arn
  input    = "{}"
}

resource "aws_cloudwatch_metric_alarm" "org_audit" {
  for_each = local.org_audit_alarms

  alarm_name          = "${local.org_audit_name}-${each.key}"
  alarm_description   = each.value.description
  namespace           = "AWS/States"
  metric_name         = each.value.metric
  dimensions          = { StateMachineArn = aws_sfn_state_machine.org_audit[0].arn }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
  tags                = var.tags
}

# ---------------------------------------------------------------- member roles everywhere
# infra/sam/member-role.yaml as a service-managed StackSet: every account of the OUs, and every
# account that joins them later, gets the roles; an account that leaves loses them. IAM is global,
# so one region (this one) per account. Without StackSets, use modules/member-role per account.

locals {
  member_role_stack_set = length(var.member_role_stack_set_ous) > 0 && (var.requester_role_name != "" || var.audit_role_name != "")
  member_role_template  = local.member_role_stack_set ? file("${path.module}/../sam/member-role.yaml") : null
}

resource "aws_cloudformation_stack_set" "member_roles" {
  count = local.member_role_stack_set ? 1 : 0

  name             = "${var.name_prefix}-member-roles"
  description      = "vpcwarden member-account roles (requester, audit), trusting this deployment's function roles"
  permission_model = "SERVICE_MANAGED"
  call_as          = var.member_role_stack_set_call_as
  capabilities     = ["CAPABILITY_NAMED_IAM"]
  template_body    = local.member_role_template
  parameters = {
    DeploymentAccountId        = local.account_id
    DeploymentNamePrefix       = var.name_prefix
    RequesterRoleName          = var.requester_role_name
    AuditRoleName              = var.audit_role_name
    OrganizationId             = var.organization_id
    ScopeRoutesToManagedTables = tostring(var.scope_routes_to_managed_tables)
    SecurityHub                = tostring(var.security_hub)
  }

  auto_deployment {
    enabled                          = true
    retain_stacks_on_account_removal = false
  }

  managed_execution {
    active = true
  }

  operation_preferences {
    failure_tolerance_percentage = 10
    max_concurrent_percentage    = 25
    region_concurrency_type      = "PARALLEL"
  }

  tags = var.tags

  lifecycle {
    # With SERVICE_MANAGED, AWS reports an administration role the configuration does not set.
    ignore_changes = [administration_role_arn]
  }
}

resource "aws_cloudformation_stack_set_instance" "member_roles" {
  for_each = local.member_role_stack_set ? toset(var.member_role_stack_set_ous) : toset([])

  stack_set_name = aws_cloudformation_stack_set.member_roles[0].name
  call_as        = var.member_role_stack_set_call_as
  region         = local.region

  deployment_targets {
    organizational_unit_ids = [each.value]
  }

  operation_preferences {
    failure_tolerance_percentage = 10
    max_concurrent_percentage    = 25
    region_concurrency_type      = "PARALLEL"
  }
}
