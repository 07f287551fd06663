variable "region" {
  description = "Region of both VPCs."
  type        = string
  default     = "us-east-1"
}

variable "aws_endpoint_url" {
  description = "Send every AWS call to this endpoint (a local emulator such as http://127.0.0.1:5000) instead of AWS. Unset = real AWS."
  type        = string
  default     = null
}

variable "aws_endpoints" {
  description = "Per-service endpoint overrides (keys: ec2, sts); they win over aws_endpoint_url."
  type        = map(string)
  default     = {}
}

variable "availability_zone" {
  description = "Availability zone of the two subnets; empty = the region's zone \"a\"."
  type        = string
  default     = ""
}

variable "name" {
  description = "Name tag prefix of the estate's resources."
  type        = string
  default     = "vpcwarden-example"
}

variable "vpc_a_cidr" {
  description = "CIDR of VPC A (the requester)."
  type        = string
  default     = "10.0.0.0/16"
}

variable "vpc_b_cidr" {
  description = "CIDR of VPC B (the accepter); must not overlap VPC A."
  type        = string
  default     = "192.168.0.0/16"
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = { project = "vpcwarden-example" }
}
