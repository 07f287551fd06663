# Same parameters as infra/sam/member-role.yaml.

variable "deployment_account_id" {
  description = "Account id where vpcwarden (the root module or infra/sam/template.yaml) is deployed."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.deployment_account_id))
    error_message = "deployment_account_id must be a 12-digit account id."
  }
}

variable "deployment_name_prefix" {
  description = "name_prefix (NamePrefix) of that deployment; its function roles are <prefix>-peering-acceptor and <prefix>-drift-auditor."
  type        = string
  default     = "vpcwarden"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,27}$", var.deployment_name_prefix))
    error_message = "deployment_name_prefix must start with a letter and use at most 28 of a-z, 0-9 and -."
  }
}

variable "requester_role_name" {
  description = "Name of the role the acceptor assumes here (its REQUESTER_ROLE_NAME); empty = do not create it."
  type        = string
  default     = "vpcwarden-requester"

  validation {
    condition     = var.requester_role_name == "" || can(regex("^[A-Za-z0-9+=,.@_-]{1,64}$", var.requester_role_name))
    error_message = "requester_role_name must be empty or an IAM role name."
  }
}

variable "audit_role_name" {
  description = "Name of the read-only role the auditor assumes here (its AUDIT_ROLE_NAME); empty = do not create it."
  type        = string
  default     = "vpcwarden-audit"

  validation {
    condition     = var.audit_role_name == "" || can(regex("^[A-Za-z0-9+=,.@_-]{1,64}$", var.audit_role_name))
    error_message = "audit_role_name must be empty or an IAM role name."
  }
}

variable "organization_id" {
  description = "Optional AWS Organizations id; when set, the caller must also belong to it (aws:PrincipalOrgID)."
  type        = string
  default     = ""

  validation {
    condition     = var.organization_id == "" || can(regex("^o-[a-z0-9]{10,32}$", var.organization_id))
    error_message = "organization_id must be empty or an id like o-abcd123456."
  }
}

variable "scope_routes_to_managed_tables" {
  description = "When true, the requester role may only change routes in route tables tagged vpcwarden:managed=true."
  type        = bool
  default     = false
}

variable "security_hub" {
  description = "When true (the deployment's security_hub), the audit role may also import this account's findings into AWS Security Hub and set their workflow."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags added to the roles."
  type        = map(string)
  default     = {}
}
