output "vpc_ids" {
  description = "VPC ids: a (requester), b (accepter)."
  value       = { for k, v in module.vpc : k => v.vpc_id }
}

output "vpc_cidrs" {
  description = "VPC CIDRs: a, b."
  value       = { for k, v in module.vpc : k => v.cidr_block }
}

output "route_table_ids" {
  description = "The route table associated with each VPC's subnet (vpcwarden adds the peering routes here)."
  value       = { for k, v in module.vpc : k => v.route_table_id }
}

output "peering_connection_id" {
  description = "The pending peering request A -> B."
  value       = aws_vpc_peering_connection.a_to_b.id
}

output "peering_grant" {
  description = "The allowlist item that lets vpcwarden accept the request (DESIGN.md format)."
  value = {
    pk            = "peering#${module.vpc["b"].vpc_id}"
    sk            = "account#${module.vpc["a"].owner_id}"
    allowed_cidrs = [module.vpc["a"].cidr_block]
  }
}
