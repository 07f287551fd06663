# Inputs of the vpcwarden module. Each one matches a parameter of infra/sam/template.yaml
# (same meaning, same default); infra/README.md has the table.

variable "name_prefix" {
  description = "Prefix of function, role, log group and alarm names (lower case, at most 28 characters). SAM: NamePrefix."
  type        = string
  default     = "vpcwarden"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,27}$", var.name_prefix))
    error_message = "name_prefix must start with a letter and use at most 28 of a-z, 0-9 and -."
  }
}

variable "architecture" {
  description = "Lambda architecture; must match the cargo-lambda build (--arm64 or --x86-64). SAM: Architecture."
  type        = string
  default     = "arm64"

  validation {
    condition     = contains(["arm64", "x86_64"], var.architecture)
    error_message = "architecture must be arm64 or x86_64."
  }
}

variable "artifacts_dir" {
  description = "Folder holding <function>/bootstrap.zip as written by `cargo lambda build --release --arm64 --output-format zip` (relative paths are taken from the directory terraform runs in)."
  type        = string
  default     = "target/lambda"
}

variable "package_paths" {
  description = "Optional per-function zip paths overriding artifacts_dir, keyed by peering-acceptor, endpoint-approver or drift-auditor."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k in keys(var.package_paths) : contains(["peering-acceptor", "endpoint-approver", "drift-auditor"], k)])
    error_message = "package_paths keys must be peering-acceptor, endpoint-approver or drift-auditor."
  }
}

variable "dry_run" {
  description = "DRY_RUN for all functions: decide and record, change nothing. SAM: DryRun."
  type        = bool
  default     = false
}

variable "log_level" {
  description = "RUST_LOG for all functions. SAM: LogLevel."
  type        = string
  default     = "info"

  validation {
    condition     = contains(["error", "warn", "info", "debug", "trace"], var.log_level)
    error_message = "log_level must be error, warn, info, debug or trace."
  }
}

variable "log_retention_days" {
  description = "Retention of the functions' log groups, in days. SAM: LogRetentionDays."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a value CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, ... 365, 400, 545, 731, ... 3653)."
  }
}

variable "deletion_protection" {
  description = "DynamoDB deletion protection on the allowlist and ledger tables. SAM: DeletionProtection."
  type        = bool
  default     = true
}

variable "alarm_email" {
  description = "Optional e-mail address subscribed to the alarm topic. SAM: AlarmEmail."
  type        = string
  default     = ""

  validation {
    condition     = var.alarm_email == "" || can(regex("^[^@\\s]+@[^@\\s]+$", var.alarm_email))
    error_message = "alarm_email must be empty or an e-mail address."
  }
}

variable "organization_id" {
  description = "Optional AWS Organizations id; when set, cross-account roles may only be assumed inside it (aws:ResourceOrgID). SAM: OrganizationId."
  type        = string
  default     = ""

  validation {
    condition     = var.organization_id == "" || can(regex("^o-[a-z0-9]{10,32}$", var.organization_id))
    error_message = "organization_id must be empty or an id like o-abcd123456."
  }
}

variable "unlisted_action" {
  description = "UNLISTED_ACTION for the acceptor and the approver: leave unlisted requests pending (ignore), reject them, or leave them pending and ask a person (ask: an approval request and its event; vpcwarden approve / deny). SAM: UnlistedAction."
  type        = string
  default     = "ignore"

  validation {
    condition     = contains(["ignore", "reject", "ask"], var.unlisted_action)
    error_message = "unlisted_action must be ignore, reject or ask."
  }
}

variable "route_table_tag" {
  description = "ROUTE_TABLE_TAG (key=value): only route tables with this tag get peering routes; empty = every route table of the VPC. Ignored when scope_routes_to_managed_tables is true. SAM: RouteTableTag."
  type        = string
  default     = ""

  validation {
    condition     = var.route_table_tag == "" || can(regex("^[^=]+=.*$", var.route_table_tag))
    error_message = "route_table_tag must be empty or key=value."
  }
}

variable "scope_routes_to_managed_tables" {
  description = "When true, ROUTE_TABLE_TAG is vpcwarden:managed=true and IAM only lets the functions create or delete routes in route tables carrying that tag. SAM: ScopeRoutesToManagedTables."
  type        = bool
  default     = false
}

variable "requester_role_name" {
  description = "REQUESTER_ROLE_NAME: role (modules/member-role) the acceptor assumes in requester accounts to wire requester-side routes; empty = same-account only. SAM: RequesterRoleName."
  type        = string
  default     = ""

  validation {
    condition     = var.requester_role_name == "" || can(regex("^[A-Za-z0-9+=,.@_-]{1,64}$", var.requester_role_name))
    error_message = "requester_role_name must be empty or an IAM role name."
  }
}

variable "sweep_schedule" {
  description = "Schedule of the acceptor and approver sweeps (EventBridge rate or cron expression). SAM: SweepSchedule."
  type        = string
  default     = "rate(5 minutes)"

  validation {
    condition     = can(regex("^(rate|cron)\\(.+\\)$", var.sweep_schedule))
    error_message = "sweep_schedule must be a rate(...) or cron(...) expression."
  }
}

variable "endpoint_service_ids" {
  description = "ENDPOINT_SERVICE_IDS: endpoint services handled and audited; each gets a connection notification to the approver. Empty = every service of the account, found by the sweep only. SAM: EndpointServiceIds (notifications for the first five there)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for id in var.endpoint_service_ids : can(regex("^vpce-svc-[0-9a-f]{8,17}$", id))])
    error_message = "endpoint_service_ids must be ids like vpce-svc-0123456789abcdef0."
  }
}

variable "revoke_on_removal" {
  description = "REVOKE_ON_REMOVAL: reject an account's endpoint connections when its grant is removed or expires. SAM: RevokeOnRemoval."
  type        = bool
  default     = false
}

variable "sync_principals" {
  description = "SYNC_PRINCIPALS: keep each service's allowed principals equal to its grants. SAM: SyncPrincipals."
  type        = bool
  default     = false
}

variable "audit_schedule" {
  description = "Schedule of the drift audit (EventBridge rate or cron expression, UTC). SAM: AuditSchedule."
  type        = string
  default     = "cron(0 3 * * ? *)"

  validation {
    condition     = can(regex("^(rate|cron)\\(.+\\)$", var.audit_schedule))
    error_message = "audit_schedule must be a rate(...) or cron(...) expression."
  }
}

variable "remediate" {
  description = "REMEDIATE: the auditor recreates missing routes and deletes routes to dead peering connections. SAM: Remediate."
  type        = bool
  default     = false
}

variable "event_bus" {
  description = "EVENT_BUS: the EventBridge bus (name or ARN) the three functions publish their decisions, findings and approval requests on; empty = no events. SAM: EventBus."
  type        = string
  default     = ""

  validation {
    condition     = can(regex("^$|^arn:aws[a-z-]*:events:[a-z0-9-]+:[0-9]{12}:event-bus/[A-Za-z0-9._/-]{1,256}$|^[A-Za-z0-9._/-]{1,256}$", var.event_bus))
    error_message = "event_bus must be empty, an event bus name, or an event bus ARN."
  }
}

variable "notification_email" {
  description = "Optional e-mail address subscribed to the notification topic (approval requests, new critical or high findings, refused or failed decisions, as readable paragraphs); needs event_bus. Confirm the subscription mail. SAM: NotificationEmail."
  type        = string
  default     = ""

  validation {
    condition     = var.notification_email == "" || can(regex("^[^@\\s]+@[^@\\s]+$", var.notification_email))
    error_message = "notification_email must be empty or an e-mail address."
  }
}

variable "notification_topic_arn" {
  description = "Optional SNS topic (for AWS Chatbot and other chat integrations) that also receives the notifications; needs event_bus. Its policy must let events.amazonaws.com publish (and its key, if encrypted). SAM: NotificationTopicArn."
  type        = string
  default     = ""

  validation {
    condition     = can(regex("^$|^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}$", var.notification_topic_arn))
    error_message = "notification_topic_arn must be empty or an SNS topic ARN."
  }
}

variable "security_hub" {
  description = "SECURITY_HUB: import each audited scope's findings into AWS Security Hub in that account and region (enable Security Hub there; the member audit role, also through the StackSet, then grants BatchImportFindings and BatchUpdateFindings). SAM: SecurityHub."
  type        = bool
  default     = false
}

variable "report_prefix" {
  description = "REPORT_PREFIX: key prefix of the audit reports in the report bucket. SAM: ReportPrefix."
  type        = string
  default     = "reports/"

  validation {
    condition     = can(regex("^[A-Za-z0-9!_.*'()/-]*$", var.report_prefix))
    error_message = "report_prefix may only use S3-safe characters."
  }
}

variable "report_retention_days" {
  description = "Audit reports older than this are expired from the report bucket. SAM: ReportRetentionDays."
  type        = number
  default     = 400

  validation {
    condition     = var.report_retention_days >= 1
    error_message = "report_retention_days must be at least 1."
  }
}

variable "stale_pending_hours" {
  description = "STALE_PENDING_HOURS: a pending peering request older than this is reported. SAM: StalePendingHours."
  type        = number
  default     = 24

  validation {
    condition     = var.stale_pending_hours >= 1
    error_message = "stale_pending_hours must be at least 1."
  }
}

variable "expiry_warning_days" {
  description = "EXPIRY_WARNING_DAYS: grants expiring within this many days are reported. SAM: ExpiryWarningDays."
  type        = number
  default     = 14

  validation {
    condition     = var.expiry_warning_days >= 0
    error_message = "expiry_warning_days must not be negative."
  }
}

variable "audit_accounts" {
  description = "AUDIT_ACCOUNTS: 12-digit account ids to audit through audit_role_name, or [\"org\"] (every active account of the organisation), or ou:<ou-id> entries (the accounts under those OUs, recursively); empty = this account only. org and ou: need this account to be the management account or a delegated administrator. SAM: AuditAccounts."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.audit_accounts : can(regex("^([0-9]{12}|org|ou:ou-[0-9a-z]{4,32}-[a-z0-9]{8,32})$", a))])
    error_message = "audit_accounts entries must be 12-digit account ids, org, or ou:<ou-id>."
  }

  validation {
    condition     = !contains(var.audit_accounts, "org") || length(var.audit_accounts) == 1
    error_message = "org already covers every account: give it alone (and leave accounts out with audit_exclude_accounts)."
  }
}

variable "audit_exclude_accounts" {
  description = "AUDIT_EXCLUDE_ACCOUNTS: 12-digit account ids never audited (taken out of the listed or discovered accounts). SAM: AuditExcludeAccounts."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.audit_exclude_accounts : can(regex("^[0-9]{12}$", a))])
    error_message = "audit_exclude_accounts must be 12-digit account ids."
  }
}

variable "audit_role_name" {
  description = "AUDIT_ROLE_NAME: read-only role (modules/member-role) the auditor assumes in audit_accounts. SAM: AuditRoleName."
  type        = string
  default     = ""

  validation {
    condition     = var.audit_role_name == "" || can(regex("^[A-Za-z0-9+=,.@_-]{1,64}$", var.audit_role_name))
    error_message = "audit_role_name must be empty or an IAM role name."
  }
}

variable "audit_regions" {
  description = "AUDIT_REGIONS: regions to audit, or [\"enabled\"] (every region enabled in the account, from ec2:DescribeRegions); empty = this region. SAM: AuditRegions."
  type        = list(string)
  default     = []

  validation {
    condition     = join(",", var.audit_regions) == "enabled" || alltrue([for r in var.audit_regions : can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", r))])
    error_message = "audit_regions must be region names like eu-west-1, or enabled alone."
  }
}

variable "org_audit" {
  description = "Audit at organisation scale: the audit schedule starts the org-audit state machine (plan, one child execution per account and region, aggregate) instead of invoking the auditor once. SAM: OrgAudit."
  type        = bool
  default     = false
}

variable "org_audit_max_concurrency" {
  description = "Scopes (account and region) audited at once by the org-audit state machine; also the auditor's reserved concurrency when org_audit is true. SAM: OrgAuditMaxConcurrency."
  type        = number
  default     = 10

  validation {
    condition     = var.org_audit_max_concurrency >= 1 && var.org_audit_max_concurrency <= 1000 && floor(var.org_audit_max_concurrency) == var.org_audit_max_concurrency
    error_message = "org_audit_max_concurrency must be a whole number from 1 to 1000."
  }
}

variable "org_audit_tolerated_failure_percentage" {
  description = "Whole percentage (0-100) of scopes that may fail before the org-audit execution fails. SAM: OrgAuditToleratedFailurePercentage."
  type        = number
  default     = 10

  validation {
    condition     = var.org_audit_tolerated_failure_percentage >= 0 && var.org_audit_tolerated_failure_percentage <= 100 && floor(var.org_audit_tolerated_failure_percentage) == var.org_audit_tolerated_failure_percentage
    error_message = "org_audit_tolerated_failure_percentage must be a whole number from 0 to 100."
  }
}

variable "member_role_stack_set_ous" {
  description = "Organizational units (ou-...) whose accounts, present and future, get the member roles (infra/sam/member-role.yaml) through a service-managed StackSet; empty = no StackSet (use modules/member-role per account instead). SAM: MemberRoleStackSetOUs."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for ou in var.member_role_stack_set_ous : can(regex("^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$", ou))])
    error_message = "member_role_stack_set_ous must be OU ids like ou-ab12-cdefgh34."
  }
}

variable "member_role_stack_set_call_as" {
  description = "SELF in the management account, DELEGATED_ADMIN in a CloudFormation StackSets delegated administrator account. SAM: MemberRoleStackSetCallAs."
  type        = string
  default     = "SELF"

  validation {
    condition     = contains(["SELF", "DELEGATED_ADMIN"], var.member_role_stack_set_call_as)
    error_message = "member_role_stack_set_call_as must be SELF or DELEGATED_ADMIN."
  }
}

variable "tags" {
  description = "Tags added to every resource that takes tags."
  type        = map(string)
  default     = {}
}
