output "vpc_ids" {
  description = "VPC ids: provider, consumer."
  value       = { for k, v in module.vpc : k => v.vpc_id }
}

output "load_balancer_arn" {
  description = "The internal NLB behind the service."
  value       = aws_lb.service.arn
}

output "target_group_arn" {
  description = "Its target group."
  value       = aws_lb_target_group.service.arn
}

output "endpoint_service_id" {
  description = "The endpoint service (acceptance required): give it to vpcwarden's endpoint_service_ids."
  value       = aws_vpc_endpoint_service.this.id
}

output "endpoint_service_name" {
  description = "Its service name, for consumers."
  value       = aws_vpc_endpoint_service.this.service_name
}

output "endpoint_id" {
  description = "The consumer's interface endpoint (pendingAcceptance until vpcwarden approves it)."
  value       = aws_vpc_endpoint.consumer.id
}

output "endpoint_security_group_id" {
  description = "The endpoint's security group, in the consumer VPC."
  value       = aws_security_group.endpoint.id
}

output "endpoint_grant" {
  description = "The allowlist item that lets vpcwarden approve the connection (DESIGN.md format)."
  value = {
    pk = "endpoint#${aws_vpc_endpoint_service.this.id}"
    sk = "account#${aws_vpc_endpoint.consumer.owner_id}"
  }
}
