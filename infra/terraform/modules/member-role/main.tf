# vpcwarden member-account roles: deploy in each account that requests peerings (requester role:
# requester-side routes) or is audited (audit role: read only). Each role trusts only the matching
# function role of the deployment (and only inside organization_id when given).
# infra/sam/member-role.yaml is the CloudFormation equivalent.

data "aws_partition" "current" {}
data "aws_caller_identity" "current" {}

locals {
  partition  = data.aws_partition.current.partition
  account_id = data.aws_caller_identity.current.account_id

  route_conditions = var.scope_routes_to_managed_tables ? [{
    test     = "StringEquals"
    variable = "ec2:ResourceTag/vpcwarden:managed"
    values   = ["true"]
  }] : []

  # Role => statements, the same shape as the root module's local.iam_statements.
  iam_statements = {
    requester = [
      {
        sid        = "Describe"
        actions    = ["ec2:DescribeRouteTables"]
        resources  = ["*"]
        conditions = []
      },
      {
        sid        = "Routes"
        actions    = ["ec2:CreateRoute", "ec2:DeleteRoute"]
        resources  = ["arn:${local.partition}:ec2:*:${local.account_id}:route-table/*"]
        conditions = local.route_conditions
      },
      {
        sid       = "RequesterDns"
        actions   = ["ec2:ModifyVpcPeeringConnectionOptions"]
        resources = ["arn:${local.partition}:ec2:*:*:vpc-peering-connection/*"]
        conditions = [{
          test     = "ArnLike"
          variable = "ec2:RequesterVpc"
          values   = ["arn:${local.partition}:ec2:*:${local.account_id}:vpc/*"]
        }]
      },
    ]
    audit = concat([
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
      ], var.security_hub ? [
      {
        sid     = "SecurityHub"
        actions = ["securityhub:BatchImportFindings", "securityhub:BatchUpdateFindings"]
        resources = [
          "arn:${local.partition}:securityhub:*:${local.account_id}:product/${local.account_id}/default",
          "arn:${local.partition}:securityhub:*:${local.account_id}:hub/default",
        ]
        conditions = []
      },
    ] : [])
  }

  roles = merge(
    var.requester_role_name == "" ? {} : {
      requester = {
        name        = var.requester_role_name
        description = "vpcwarden peering-acceptor - requester-side routes of accepted peerings"
        policy_name = "requester-side"
        trusted     = "arn:${local.partition}:iam::${var.deployment_account_id}:role/${var.deployment_name_prefix}-peering-acceptor"
      }
    },
    var.audit_role_name == "" ? {} : {
      audit = {
        name        = var.audit_role_name
        description = "vpcwarden drift-auditor - read-only view of peerings, routes and endpoint services"
        policy_name = "audit-read-only"
        trusted     = "arn:${local.partition}:iam::${var.deployment_account_id}:role/${var.deployment_name_prefix}-drift-auditor"
      }
    },
  )
}

data "aws_iam_policy_document" "trust" {
  for_each = local.roles

  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${var.deployment_account_id}:root"]
    }
    condition {
      test     = "ArnEquals"
      variable = "aws:PrincipalArn"
      values   = [each.value.trusted]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:PrincipalAccount"
      values   = [var.deployment_account_id]
    }
    dynamic "condition" {
      for_each = var.organization_id == "" ? [] : [var.organization_id]
      content {
        test     = "StringEquals"
        variable = "aws:PrincipalOrgID"
        values   = [condition.value]
      }
    }
  }
}

data "aws_iam_policy_document" "role" {
  for_each = local.roles

  dynamic "statement" {
    for_each = local.iam_statements[each.key]
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

resource "aws_iam_role" "this" {
  for_each = local.roles

  name                 = each.value.name
  description          = each.value.description
  max_session_duration = 3600
  assume_role_policy   = data.aws_iam_policy_document.trust[each.key].json
  tags                 = var.tags
}

resource "aws_iam_role_policy" "this" {
  for_each = local.roles

  name   = each.value.policy_name
  role   = aws_iam_role.this[each.key].id
  policy = data.aws_iam_policy_document.role[each.key].json
}
