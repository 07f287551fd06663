# The estate users start from for VPC peering: two VPCs, each with a subnet and a route table
# associated with it, and a peering request from VPC A to VPC B that is deliberately NOT
# auto-accepted. vpcwarden's peering-acceptor accepts it when a peering grant allows it (here:
# pk "peering#<vpc B id>", sk "account#<this account>") and wires the routes in both route tables.
#
#   cd infra/terraform/examples/peering-two-vpcs && terraform init && terraform apply
#
# Two rules keep Terraform and vpcwarden from fighting over the same things:
# - the route tables declare no inline `route` blocks (Terraform would otherwise remove the routes
#   vpcwarden adds); declare your own routes as `aws_route` resources;
# - the peering connection ignores the tags vpcwarden sets on it (`vpcwarden:*`).
#
# Cross-account: give the peering connection `peer_owner_id` (and `peer_region`), and create VPC B
# with a provider for that account; the sweep finds the request there (no event reaches it).

locals {
  emulated  = var.aws_endpoint_url != null
  endpoints = { for s in ["ec2", "sts"] : s => lookup(var.aws_endpoints, s, var.aws_endpoint_url) }
}

provider "aws" {
  region = var.region

  # Only relevant with an emulator; all false / unset against AWS.
  skip_credentials_validation = local.emulated
  skip_requesting_account_id  = local.emulated
  skip_metadata_api_check     = local.emulated
  skip_region_validation      = local.emulated

  endpoints {
    ec2 = local.endpoints.ec2
    sts = local.endpoints.sts
  }

  default_tags {
    tags = var.tags
  }
}

locals {
  availability_zone = coalesce(var.availability_zone, "${var.region}a")
}

# ---------------------------------------------------------------- the two VPCs

# a: the requester, b: the accepter; each with a private subnet and its route table.
module "vpc" {
  source   = "../modules/private-vpc"
  for_each = { a = var.vpc_a_cidr, b = var.vpc_b_cidr }

  name              = "${var.name}-${each.key}"
  cidr_block        = each.value
  availability_zone = local.availability_zone
}

# ---------------------------------------------------------------- the peering request

# The request A -> B, left pending for vpcwarden (no auto_accept, no accepter resource).
resource "aws_vpc_peering_connection" "a_to_b" {
  vpc_id      = module.vpc["a"].vpc_id
  peer_vpc_id = module.vpc["b"].vpc_id
  auto_accept = false
  tags        = { Name = "${var.name}-a-to-b" }

  lifecycle {
    # vpcwarden tags the connections it accepts.
    ignore_changes = [tags["vpcwarden:managed"], tags["vpcwarden:accepted-at"], tags_all["vpcwarden:managed"], tags_all["vpcwarden:accepted-at"]]
  }
}
