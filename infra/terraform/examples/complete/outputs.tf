output "vpcwarden" {
  description = "Everything the module exports."
  value = {
    function_arns                   = module.vpcwarden.function_arns
    role_arns                       = module.vpcwarden.role_arns
    iam_actions                     = module.vpcwarden.iam_actions
    allowlist_table_name            = module.vpcwarden.allowlist_table_name
    ledger_table_name               = module.vpcwarden.ledger_table_name
    report_bucket_name              = module.vpcwarden.report_bucket_name
    endpoint_notification_topic_arn = module.vpcwarden.endpoint_notification_topic_arn
    alarm_topic_arn                 = module.vpcwarden.alarm_topic_arn
    failure_queue_url               = module.vpcwarden.failure_queue_url
  }
}

output "member_roles" {
  description = "Member-account roles created in this account, if any."
  value = var.member_role_in_this_account ? {
    requester = module.member_role[0].requester_role_arn
    audit     = module.member_role[0].audit_role_arn
  } : null
}
