output "function_arns" {
  description = "Function ARNs by function name (peering-acceptor, endpoint-approver, drift-auditor)."
  value       = { for fn, f in aws_lambda_function.this : fn => f.arn }
}

output "function_names" {
  description = "Deployed Lambda function names by function name."
  value       = { for fn, f in aws_lambda_function.this : fn => f.function_name }
}

output "role_arns" {
  description = "Execution role ARNs by function name; the member-role module trusts the acceptor's and the auditor's."
  value       = { for fn, r in aws_iam_role.function : fn => r.arn }
}

output "iam_actions" {
  description = "IAM actions each function's role allows (sorted), from local.iam_statements; with org_audit also the org-audit and org-audit-schedule roles."
  value       = local.iam_actions
}

output "allowlist_table_name" {
  description = "Allowlist table (grants as code: aws_dynamodb_table_item, see infra/README.md)."
  value       = aws_dynamodb_table.allowlist.name
}

output "allowlist_table_arn" {
  description = "Allowlist table ARN."
  value       = aws_dynamodb_table.allowlist.arn
}

output "allowlist_stream_arn" {
  description = "Allowlist table stream ARN (NEW_AND_OLD_IMAGES), consumed by the approver."
  value       = aws_dynamodb_table.allowlist.stream_arn
}

output "ledger_table_name" {
  description = "Ledger table."
  value       = aws_dynamodb_table.ledger.name
}

output "report_bucket_name" {
  description = "Bucket holding the audit reports under report_prefix."
  value       = aws_s3_bucket.reports.bucket
}

output "endpoint_notification_topic_arn" {
  description = "SNS topic the approver subscribes to; point further endpoint services' connection notifications at it."
  value       = aws_sns_topic.endpoint_notifications.arn
}

output "alarm_topic_arn" {
  description = "SNS topic all alarms notify."
  value       = aws_sns_topic.alarms.arn
}

output "failure_queue_url" {
  description = "Encrypted SQS queue receiving events that failed asynchronous invocation or stream processing."
  value       = aws_sqs_queue.failures.id
}

output "kms_key_arn" {
  description = "Customer managed key encrypting tables, bucket, topics, queue, logs and function environment."
  value       = aws_kms_key.this.arn
}

output "org_audit_state_machine_arn" {
  description = "The org-audit state machine (null unless org_audit); start it with {} or {\"dry_run\": true}."
  value       = one(aws_sfn_state_machine.org_audit[*].arn)
}

output "member_role_stack_set_id" {
  description = "The member roles' service-managed StackSet (null unless member_role_stack_set_ous)."
  value       = one(aws_cloudformation_stack_set.member_roles[*].stack_set_id)
}
