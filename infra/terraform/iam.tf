# IAM: one role per function, least privilege.
#
# local.iam_statements is THE list of what each function may do, in one machine-readable place:
# function => statements { sid, actions, resources, conditions }. infra/sam/template.yaml carries
# the same statements (same Sid) inline in AcceptorRole / ApproverRole / AuditorRole and in the
# conditional AcceptorRequesterSidePolicy / AuditorRemediatePolicy / AuditorCrossAccountPolicy /
# AuditorOrganisationPolicy / AuditorSecurityHubPolicy. Output `iam_actions` flattens it to
# function => sorted action list (with org_audit, also the state machine's and its schedule's
# roles: org_audit.tf).

locals {
  arn_prefix = "arn:${local.partition}"

  # Peering connections: the ARN carries the owner's (requester's) account and region, so these
  # are scoped by condition to peerings whose accepter VPC is in this account and region.
  peering_arn      = "${local.arn_prefix}:ec2:*:*:vpc-peering-connection/*"
  accepter_vpc_arn = "${local.arn_prefix}:ec2:${local.region}:${local.account_id}:vpc/*"
  accepter_condition = {
    test     = "ArnLike"
    variable = "ec2:AccepterVpc"
    values   = [local.accepter_vpc_arn]
  }
  # The acceptor also writes the requester-side routes of same-account peerings, whose requester
  # VPC may be in another region: this account's route tables in any region.
  acceptor_route_table_arn = "${local.arn_prefix}:ec2:*:${local.account_id}:route-table/*"
  auditor_route_table_arn  = "${local.arn_prefix}:ec2:${local.region}:${local.account_id}:route-table/*"
  route_conditions = var.scope_routes_to_managed_tables ? [{
    test     = "StringEquals"
    variable = "ec2:ResourceTag/vpcwarden:managed"
    values   = ["true"]
  }] : []
  # The bus the functions publish on (EVENT_BUS): exactly that one, by name in this account and
  # region or by its ARN.
  event_bus_arn = startswith(var.event_bus, "arn:") ? var.event_bus : "${local.arn_prefix}:events:${local.region}:${local.account_id}:event-bus/${var.event_bus}"
  # Publish on it, and ask once per process whether it exists (EventBridge drops events sent to a
  # bus that does not).
  event_statements = var.event_bus == "" ? [] : [{
    sid        = "Events"
    actions    = ["events:PutEvents", "events:DescribeEventBus"]
    resources  = [local.event_bus_arn]
    conditions = []
  }]
  org_conditions = var.organization_id == "" ? [] : [{
    test     = "StringEquals"
    variable = "aws:ResourceOrgID"
    values   = [var.organization_id]
  }]

  # AUDIT_ACCOUNTS forms that discover the accounts at run time: org (alone) or ou:<id> entries.
  audit_whole_org       = join(",", var.audit_accounts) == "org"
  audit_ous             = strcontains(join(",", var.audit_accounts), "ou:")
  audit_discovery       = local.audit_whole_org || local.audit_ous
  audit_enabled_regions = join(",", var.audit_regions) == "enabled"
  # Listed accounts: exactly those. Discovered ones: any account of the organisation
  # (organization_id, else the auditor's own organisation).
  audit_account_conditions = concat(
    local.audit_discovery ? [] : [{ test = "StringEquals", variable = "aws:ResourceAccount", values = var.audit_accounts }],
    var.organization_id != "" ? local.org_conditions : local.audit_discovery ? [{
      test     = "StringEquals"
      variable = "aws:ResourceOrgID"
      values   = ["$${aws:PrincipalOrgID}"]
    }] : [],
  )
  # The plan, scope results and report of each org-audit run lie under <report_prefix>runs/.
  run_data_arn = "${aws_s3_bucket.reports.arn}/${var.report_prefix}runs/*"

  # What every function needs to run: its key, its failure destination, its logs, X-Ray.
  runtime_statements = {
    for fn in local.function_names : fn => [
      {
        sid        = "Kms"
        actions    = ["kms:Decrypt", "kms:GenerateDataKey"]
        resources  = [aws_kms_key.this.arn]
        conditions = []
      },
      {
        sid        = "FailureDestination"
        actions    = ["sqs:SendMessage"]
        resources  = [aws_sqs_queue.failures.arn]
        conditions = []
      },
      {
        sid        = "Logs"
        actions    = ["logs:CreateLogStream", "logs:PutLogEvents"]
        resources  = ["${aws_cloudwatch_log_group.function[fn].arn}:*"]
        conditions = []
      },
      {
        sid        = "Tracing"
        actions    = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
        resources  = ["*"]
        conditions = []
      },
    ]
  }

  iam_statements = {
    "peering-acceptor" = concat(
      [
        {
          sid        = "Describe"
          actions    = ["ec2:DescribeVpcPeeringConnections", "ec2:DescribeVpcs", "ec2:DescribeRouteTables"]
          resources  = ["*"]
          conditions = []
        },
        {
          sid        = "AcceptPeeringVpc"
          actions    = ["ec2:AcceptVpcPeeringConnection"]
          resources  = [local.accepter_vpc_arn]
          conditions = []
        },
        {
          sid        = "AcceptPeering"
          actions    = ["ec2:AcceptVpcPeeringConnection"]
          resources  = [local.peering_arn]
          conditions = [local.accepter_condition]
        },
        {
          sid        = "ManagePeering"
          actions    = ["ec2:RejectVpcPeeringConnection", "ec2:ModifyVpcPeeringConnectionOptions"]
          resources  = [local.peering_arn]
          conditions = [local.accepter_condition]
        },
        {
          sid       = "TagPeering"
          actions   = ["ec2:CreateTags"]
          resources = [local.peering_arn]
          conditions = [
            { test = "ForAllValues:StringLike", variable = "aws:TagKeys", values = ["vpcwarden:*"] },
            { test = "Null", variable = "aws:TagKeys", values = ["false"] },
          ]
        },
        {
          sid        = "Routes"
          actions    = ["ec2:CreateRoute", "ec2:DeleteRoute"]
          resources  = [local.acceptor_route_table_arn]
          conditions = local.route_conditions
        },
      ],
      var.requester_role_name == "" ? [] : [
        {
          sid        = "RequesterSide"
          actions    = ["sts:AssumeRole"]
          resources  = ["${local.arn_prefix}:iam::*:role/${var.requester_role_name}"]
          conditions = local.org_conditions
        },
      ],
      [
        {
          sid        = "AllowlistRead"
          actions    = ["dynamodb:BatchGetItem"]
          resources  = [aws_dynamodb_table.allowlist.arn]
          conditions = [{ test = "ForAllValues:StringLike", variable = "dynamodb:LeadingKeys", values = ["peering#*"] }]
        },
        {
          sid        = "AllowlistStream"
          actions    = ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"]
          resources  = [aws_dynamodb_table.allowlist.stream_arn]
          conditions = []
        },
        {
          sid        = "AllowlistStreamList"
          actions    = ["dynamodb:ListStreams"]
          resources  = ["${aws_dynamodb_table.allowlist.arn}/stream/*"]
          conditions = []
        },
        {
          sid        = "Ledger"
          actions    = ["dynamodb:PutItem", "dynamodb:Query"]
          resources  = [aws_dynamodb_table.ledger.arn]
          conditions = []
        },
      ],
      local.event_statements,
      local.runtime_statements["peering-acceptor"],
    )

    "endpoint-approver" = concat(
      [
        {
          sid = "Describe"
          actions = [
            "ec2:DescribeVpcEndpointServiceConfigurations",
            "ec2:DescribeVpcEndpointConnections",
            "ec2:DescribeVpcEndpointServicePermissions",
            "elasticloadbalancing:DescribeTargetGroups",
            "elasticloadbalancing:DescribeTargetHealth",
          ]
          resources  = ["*"]
          conditions = []
        },
        {
          sid = "EndpointConnections"
          actions = [
            "ec2:AcceptVpcEndpointConnections",
            "ec2:RejectVpcEndpointConnections",
            "ec2:ModifyVpcEndpointServicePermissions",
          ]
          resources  = ["${local.arn_prefix}:ec2:${local.region}:${local.account_id}:vpc-endpoint-service/*"]
          conditions = []
        },
        {
          sid        = "AllowlistRead"
          actions    = ["dynamodb:Query"]
          resources  = [aws_dynamodb_table.allowlist.arn]
          conditions = [{ test = "ForAllValues:StringLike", variable = "dynamodb:LeadingKeys", values = ["endpoint#*"] }]
        },
        {
          sid        = "AllowlistStream"
          actions    = ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"]
          resources  = [aws_dynamodb_table.allowlist.stream_arn]
          conditions = []
        },
        {
          sid        = "AllowlistStreamList"
          actions    = ["dynamodb:ListStreams"]
          resources  = ["${aws_dynamodb_table.allowlist.arn}/stream/*"]
          conditions = []
        },
        {
          sid        = "Ledger"
          actions    = ["dynamodb:PutItem", "dynamodb:Query"]
          resources  = [aws_dynamodb_table.ledger.arn]
          conditions = []
        },
      ],
      local.event_statements,
      local.runtime_statements["endpoint-approver"],
    )

    "drift-auditor" = concat(
      [
        {
          sid = "Describe"
          actions = [
            "ec2:DescribeVpcs",
            "ec2:DescribeVpcPeeringConnections",
            "ec2:DescribeRouteTables",
            "ec2:DescribeVpcEndpointServiceConfigurations",
            "ec2:DescribeVpcEndpointServicePermissions",
            "ec2:DescribeVpcEndpointConnections",
            "elasticloadbalancing:DescribeTargetGroups",
            "elasticloadbalancing:DescribeTargetHealth",
          ]
          resources  = ["*"]
          conditions = []
        },
      ],
      var.remediate ? [
        {
          sid        = "Remediate"
          actions    = ["ec2:CreateRoute", "ec2:DeleteRoute"]
          resources  = [local.auditor_route_table_arn]
          conditions = local.route_conditions
        },
      ] : [],
      var.audit_role_name != "" && length(var.audit_accounts) > 0 ? [
        {
          sid        = "AuditAccounts"
          actions    = ["sts:AssumeRole"]
          resources  = ["${local.arn_prefix}:iam::*:role/${var.audit_role_name}"]
          conditions = local.audit_account_conditions
        },
      ] : [],
      # Organizations' ListAccounts and EC2's DescribeRegions have no resource type; the OU
      # listings walk OUs unknown at deployment. All read-only.
      local.audit_whole_org ? [
        {
          sid        = "DiscoverAccounts"
          actions    = ["organizations:ListAccounts"]
          resources  = ["*"]
          conditions = []
        },
      ] : [],
      local.audit_ous ? [
        {
          sid        = "DiscoverOuAccounts"
          actions    = ["organizations:ListChildren", "organizations:ListAccountsForParent"]
          resources  = ["*"]
          conditions = []
        },
      ] : [],
      local.audit_enabled_regions ? [
        {
          sid        = "DiscoverRegions"
          actions    = ["ec2:DescribeRegions"]
          resources  = ["*"]
          conditions = []
        },
      ] : [],
      # The aggregate reads a run's scope results (writing is the Reports statement's, listing
      # ReportsList's).
      var.org_audit ? [
        {
          sid        = "RunData"
          actions    = ["s3:GetObject"]
          resources  = [local.run_data_arn]
          conditions = []
        },
      ] : [],
      # Import this account's findings under its default product, in any audited region; set the
      # workflow (SUPPRESSED for waived findings) of findings already imported.
      var.security_hub ? [
        {
          sid     = "SecurityHub"
          actions = ["securityhub:BatchImportFindings", "securityhub:BatchUpdateFindings"]
          resources = [
            "${local.arn_prefix}:securityhub:*:${local.account_id}:product/${local.account_id}/default",
            "${local.arn_prefix}:securityhub:*:${local.account_id}:hub/default",
          ]
          conditions = []
        },
      ] : [],
      [
        {
          sid        = "AllowlistRead"
          actions    = ["dynamodb:Scan"]
          resources  = [aws_dynamodb_table.allowlist.arn]
          conditions = []
        },
        {
          sid        = "Ledger"
          actions    = ["dynamodb:PutItem", "dynamodb:Query", "dynamodb:Scan"]
          resources  = [aws_dynamodb_table.ledger.arn]
          conditions = []
        },
        {
          sid        = "Reports"
          actions    = ["s3:PutObject", "s3:GetObject"]
          resources  = ["${aws_s3_bucket.reports.arn}/${var.report_prefix}*"]
          conditions = []
        },
        # S3 answers a GetObject of a missing key with 404 only to a caller that may list the
        # bucket, and with 403 to any other: without this, a scope's first run could not tell "no
        # latest.json yet" from "access denied", and history would never start. The org audit's
        # aggregate lists a run's scope results with it too. The bucket holds reports only.
        {
          sid        = "ReportsList"
          actions    = ["s3:ListBucket"]
          resources  = [aws_s3_bucket.reports.arn]
          conditions = []
        },
      ],
      local.event_statements,
      local.runtime_statements["drift-auditor"],
    )
  }

  iam_actions = {
    for fn, statements in merge(local.iam_statements, { for role in keys(local.org_audit_roles) : role => local.org_audit_iam_statements[role] }) :
    fn => sort(distinct(flatten([for s in statements : s.actions])))
  }
}

data "aws_iam_policy_document" "assume_lambda" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "function" {
  for_each = toset(local.function_names)

  name               = "${var.name_prefix}-${each.key}"
  description        = "vpcwarden ${each.key}"
  assume_role_policy = data.aws_iam_policy_document.assume_lambda.json
  tags               = var.tags
}

data "aws_iam_policy_document" "function" {
  for_each = local.iam_statements

  dynamic "statement" {
    for_each = each.value
    content {
      sid       = statement.value.sid
      actions   = statement.value.actions
      resources = statement.value.resources

      dynamic "condition" {
        for_each = statement.value.conditions
        content {
          test     = condition.value.test
          variable = condition.value.variable
          values   = condition.value.values
        }
      }
    }
  }
}

resource "aws_iam_role_policy" "function" {
  #checkov:skip=CKV_AWS_355:Only the auditor's discovery statements (organizations:ListAccounts, ListChildren, ListAccountsForParent, ec2:DescribeRegions) and X-Ray use Resource "*": they have no resource type or walk OUs unknown at deployment, and are read-only.
  for_each = local.iam_statements

  name   = each.key
  role   = aws_iam_role.function[each.key].id
  policy = data.aws_iam_policy_document.function[each.key].json
}
