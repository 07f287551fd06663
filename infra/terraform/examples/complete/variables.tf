variable "region" {
  description = "Region to deploy into."
  type        = string
  default     = "us-east-1"
}

variable "aws_endpoint_url" {
  description = "Send every AWS call to this endpoint (a local emulator such as http://127.0.0.1:5000) instead of AWS. Unset = real AWS."
  type        = string
  default     = null
}

variable "aws_endpoints" {
  description = "Per-service endpoint overrides (keys: cloudwatch, dynamodb, ec2, events, iam, kms, lambda, logs, s3, sns, sqs, sts); they win over aws_endpoint_url."
  type        = map(string)
  default     = {}
}

variable "deletion_protection" {
  description = "DynamoDB deletion protection on the allowlist and ledger tables (keep true; false lets `terraform destroy` remove them)."
  type        = bool
  default     = true
}

variable "artifacts_dir" {
  description = "Folder with <function>/bootstrap.zip from `cargo lambda build --release --arm64 --output-format zip`; default: the repository's target/lambda."
  type        = string
  default     = null
}

variable "endpoint_service_ids" {
  description = "Endpoint services the approver handles (each gets a connection notification)."
  type        = list(string)
  default     = []
}

variable "endpoint_grants" {
  description = "Endpoint grants as code, keyed by any stable name: which account may connect to which endpoint service."
  type = map(object({
    service_id    = string
    account_id    = string
    added_by      = string
    added_at      = number
    max_endpoints = optional(number)
    expires_at    = optional(number)
    note          = optional(string)
  }))
  default = {}
}

variable "peering_grants" {
  description = "Peering grants as code, keyed by any stable name: which requester account may peer with which accepter VPC (\"*\" = any VPC of this account)."
  type = map(object({
    accepter_vpc_id = string
    account_id      = string
    added_by        = string
    added_at        = number
    allowed_cidrs   = optional(list(string))
    dns_resolution  = optional(bool)
    expires_at      = optional(number)
    note            = optional(string)
  }))
  default = {}
}

variable "audit_accounts" {
  description = "Accounts the auditor audits through their vpcwarden-audit role (include this account's id together with member_role_in_this_account to audit it the same way); empty = this account only, directly."
  type        = list(string)
  default     = []
}

variable "member_role_in_this_account" {
  description = "Also create the member-account roles in this account (so the auditor and acceptor can use AUDIT_ROLE_NAME / REQUESTER_ROLE_NAME here too)."
  type        = bool
  default     = false
}
