variable "name" {
  description = "Name tag of the VPC; its other resources are named after it."
  type        = string
}

variable "cidr_block" {
  description = "IPv4 CIDR of the VPC; the subnet is its second /+8 block."
  type        = string

  validation {
    condition     = can(cidrnetmask(var.cidr_block))
    error_message = "cidr_block must be an IPv4 CIDR block."
  }
}

variable "availability_zone" {
  description = "Availability zone of the subnet."
  type        = string
}
