variable "region" {
  description = "Region of both VPCs (PrivateLink connects within a region)."
  type        = string
  default     = "us-east-1"
}

variable "aws_endpoint_url" {
  description = "Send every AWS call to this endpoint (a local emulator such as http://127.0.0.1:5000) instead of AWS. Unset = real AWS."
  type        = string
  default     = null
}

variable "aws_endpoints" {
  description = "Per-service endpoint overrides (keys: ec2, elbv2, sts); they win over aws_endpoint_url."
  type        = map(string)
  default     = {}
}

variable "availability_zone" {
  description = "Availability zone of the two subnets; empty = the region's zone \"a\"."
  type        = string
  default     = ""
}

variable "name" {
  description = "Name prefix of the estate's resources (at most 25 characters: load balancer names are short)."
  type        = string
  default     = "vpcwarden-pl"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,24}$", var.name))
    error_message = "name must be at most 25 of a-z, 0-9 and -, starting with a letter."
  }
}

variable "provider_cidr" {
  description = "CIDR of the provider VPC."
  type        = string
  default     = "10.1.0.0/16"
}

variable "consumer_cidr" {
  description = "CIDR of the consumer VPC."
  type        = string
  default     = "10.2.0.0/16"
}

variable "service_port" {
  description = "TCP port of the service (listener, target group, endpoint security group)."
  type        = number
  default     = 443
}

variable "allowed_principals" {
  description = "Principals allowed to create endpoints to the service; empty = this account's root. With SYNC_PRINCIPALS, vpcwarden keeps them equal to the grants."
  type        = list(string)
  default     = []
}

variable "lb_deletion_protection" {
  description = "Deletion protection of the NLB (set false to let terraform destroy remove it)."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = { project = "vpcwarden-example" }
}
