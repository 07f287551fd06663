output "requester_role_arn" {
  description = "ARN of the requester role (null when not created)."
  value       = try(aws_iam_role.this["requester"].arn, null)
}

output "audit_role_arn" {
  description = "ARN of the read-only audit role (null when not created)."
  value       = try(aws_iam_role.this["audit"].arn, null)
}

output "iam_actions" {
  description = "IAM actions each created role allows (sorted)."
  value = {
    for role in keys(local.roles) : role => sort(distinct(flatten([for s in local.iam_statements[role] : s.actions])))
  }
}
