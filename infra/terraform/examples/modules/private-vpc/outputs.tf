output "vpc_id" {
  description = "The VPC."
  value       = aws_vpc.this.id
}

output "owner_id" {
  description = "The account that owns the VPC."
  value       = aws_vpc.this.owner_id
}

output "cidr_block" {
  description = "Its CIDR."
  value       = aws_vpc.this.cidr_block
}

output "subnet_id" {
  description = "The private subnet."
  value       = aws_subnet.private.id
}

output "subnet_cidr_block" {
  description = "The private subnet's CIDR."
  value       = aws_subnet.private.cidr_block
}

output "route_table_id" {
  description = "The route table associated with the subnet (vpcwarden adds peering routes here)."
  value       = aws_route_table.private.id
}
