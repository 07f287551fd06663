output "vpc_ids" {
  description = "VPC ids: a (requester), b (accepter)."
  value       = { a = aws_vpc.a.id, b = aws_vpc.b.id }
}

output "vpc_cidrs" {
  description = "VPC CIDRs: a, b."
  value       = { a = aws_vpc.a.cidr_block, b = aws_vpc.b.cidr_block }
}

output "route_table_ids" {
  description = "The route table associated with each VPC's subnet (vpcwarden adds the peering routes here)."
  value       = { a = aws_route_table.a.id, b = aws_route_table.b.id }
}

output "peering_connection_id" {
  description = "The pending peering request A -> B."
  value       = aws_vpc_peering_connection.a_to_b.id
}

output "peering_grant" {
  description = "The allowlist item that lets vpcwarden accept the request (DESIGN.md format)."
  value = {
    pk            = "peering#${aws_vpc.b.id}"
    sk            = "account#${aws_vpc.a.owner_id}"
    allowed_cidrs = [aws_vpc.a.cidr_block]
  }
}
