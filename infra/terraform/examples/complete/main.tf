# Complete example: the vpcwarden module with its cross-account options, grants managed as code,
# and (optionally) the member-account roles in the same account.
#
#   cargo lambda build --release --arm64 --output-format zip   # from the repository root
#   cd infra/terraform/examples/complete && terraform init && terraform apply
#
# Set aws_endpoint_url to run it against a local emulator instead of AWS.

locals {
  emulated  = var.aws_endpoint_url != null
  endpoints = { for s in ["cloudwatch", "dynamodb", "ec2", "events", "iam", "kms", "lambda", "logs", "s3", "sns", "sqs", "sts"] : s => lookup(var.aws_endpoints, s, var.aws_endpoint_url) }
}

provider "aws" {
  region = var.region

  # Only relevant with an emulator; all false / unset against AWS.
  skip_credentials_validation = local.emulated
  skip_requesting_account_id  = local.emulated
  skip_metadata_api_check     = local.emulated
  skip_region_validation      = local.emulated
  s3_use_path_style           = local.emulated

  endpoints {
    cloudwatch = local.endpoints.cloudwatch
    dynamodb   = local.endpoints.dynamodb
    ec2        = local.endpoints.ec2
    events     = local.endpoints.events
    iam        = local.endpoints.iam
    kms        = local.endpoints.kms
    lambda     = local.endpoints.lambda
    logs       = local.endpoints.logs
    s3         = local.endpoints.s3
    sns        = local.endpoints.sns
    sqs        = local.endpoints.sqs
    sts        = local.endpoints.sts
  }
}

data "aws_caller_identity" "current" {}

module "vpcwarden" {
  source = "../.."

  name_prefix         = "vpcwarden"
  architecture        = "arm64"
  artifacts_dir       = coalesce(var.artifacts_dir, "${path.module}/../../../../target/lambda")
  deletion_protection = var.deletion_protection

  unlisted_action      = "ignore"
  endpoint_service_ids = var.endpoint_service_ids
  revoke_on_removal    = true
  sync_principals      = true

  # Cross-account: roles from modules/member-role (or infra/sam/member-role.yaml) in member accounts.
  requester_role_name = "vpcwarden-requester"
  audit_role_name     = "vpcwarden-audit"
  audit_accounts      = var.audit_accounts

  tags = { project = "vpcwarden" }
}

module "member_role" {
  source = "../../modules/member-role"
  count  = var.member_role_in_this_account ? 1 : 0

  deployment_account_id  = data.aws_caller_identity.current.account_id
  deployment_name_prefix = "vpcwarden"
  requester_role_name    = "vpcwarden-requester"
  audit_role_name        = "vpcwarden-audit"
}

# ---------------------------------------------------------------- the allowlist as code
# Items follow DESIGN.md's allowlist format; the approver reacts to these writes through the
# table's stream (a new grant approves pending connections at once).

resource "aws_dynamodb_table_item" "endpoint_grant" {
  for_each = var.endpoint_grants

  table_name = module.vpcwarden.allowlist_table_name
  hash_key   = "pk"
  range_key  = "sk"
  item = jsonencode(merge(
    {
      pk       = { S = "endpoint#${each.value.service_id}" }
      sk       = { S = "account#${each.value.account_id}" }
      added_by = { S = each.value.added_by }
      added_at = { N = tostring(each.value.added_at) }
    },
    each.value.max_endpoints == null ? {} : { max_endpoints = { N = tostring(each.value.max_endpoints) } },
    each.value.expires_at == null ? {} : { expires_at = { N = tostring(each.value.expires_at) } },
    each.value.note == null ? {} : { note = { S = each.value.note } },
  ))
}

resource "aws_dynamodb_table_item" "peering_grant" {
  for_each = var.peering_grants

  table_name = module.vpcwarden.allowlist_table_name
  hash_key   = "pk"
  range_key  = "sk"
  item = jsonencode(merge(
    {
      pk       = { S = "peering#${each.value.accepter_vpc_id}" }
      sk       = { S = "account#${each.value.account_id}" }
      added_by = { S = each.value.added_by }
      added_at = { N = tostring(each.value.added_at) }
    },
    each.value.allowed_cidrs == null ? {} : { allowed_cidrs = { SS = each.value.allowed_cidrs } },
    each.value.dns_resolution == null ? {} : { dns_resolution = { BOOL = each.value.dns_resolution } },
    each.value.expires_at == null ? {} : { expires_at = { N = tostring(each.value.expires_at) } },
    each.value.note == null ? {} : { note = { S = each.value.note } },
  ))
}
