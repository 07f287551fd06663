# The estate users start from for PrivateLink: a provider VPC whose internal Network Load
# Balancer (with a listener, a target group and a registered target) backs an endpoint service
# that requires acceptance, and a consumer VPC with an interface endpoint to that service.
# The connection stays pendingAcceptance until vpcwarden's endpoint-approver approves it against
# an endpoint grant (pk "endpoint#<service id>", sk "account#<consumer account>").
#
#   cd infra/terraform/examples/privatelink-provider-consumer && terraform init && terraform apply
#
# Two details that common write-ups get wrong:
# - the endpoint's security group must live in the CONSUMER VPC (AWS refuses a security group of
#   another VPC), and it is what admits the consumer's clients to the endpoint;
# - the NLB needs a listener forwarding to the target group, else the service accepts connections
#   that carry no traffic.
#
# Provider and consumer are one account here; for two accounts, give the consumer resources a
# provider for the consumer account and list its root in `allowed_principals`.

locals {
  emulated  = var.aws_endpoint_url != null
  endpoints = { for s in ["ec2", "elbv2", "sts"] : s => lookup(var.aws_endpoints, s, var.aws_endpoint_url) }
}

provider "aws" {
  region = var.region

  # Only relevant with an emulator; all false / unset against AWS.
  skip_credentials_validation = local.emulated
  skip_requesting_account_id  = local.emulated
  skip_metadata_api_check     = local.emulated
  skip_region_validation      = local.emulated

  endpoints {
    ec2   = local.endpoints.ec2
    elbv2 = local.endpoints.elbv2
    sts   = local.endpoints.sts
  }

  default_tags {
    tags = var.tags
  }
}

data "aws_caller_identity" "current" {}

locals {
  availability_zone  = coalesce(var.availability_zone, "${var.region}a")
  allowed_principals = length(var.allowed_principals) > 0 ? var.allowed_principals : ["arn:aws:iam::${data.aws_caller_identity.current.account_id}:root"]
}

# ---------------------------------------------------------------- the two VPCs

# provider: where the service and its NLB live; consumer: where the interface endpoint lives.
module "vpc" {
  source   = "../modules/private-vpc"
  for_each = { provider = var.provider_cidr, consumer = var.consumer_cidr }

  name              = "${var.name}-${each.key}"
  cidr_block        = each.value
  availability_zone = local.availability_zone
}

# ---------------------------------------------------------------- provider side

resource "aws_lb" "service" {
  #checkov:skip=CKV_AWS_91:Example estate; NLB access logs need a log bucket the estate owner chooses.
  name                             = "${var.name}-nlb"
  internal                         = true
  load_balancer_type               = "network"
  subnets                          = [module.vpc["provider"].subnet_id]
  enable_deletion_protection       = var.lb_deletion_protection
  enable_cross_zone_load_balancing = true
  tags                             = { Name = "${var.name}-nlb" }
}

resource "aws_lb_target_group" "service" {
  name        = "${var.name}-tg"
  port        = var.service_port
  protocol    = "TCP"
  target_type = "ip"
  vpc_id      = module.vpc["provider"].vpc_id

  health_check {
    enabled             = true
    protocol            = "TCP"
    port                = "traffic-port"
    healthy_threshold   = 3
    unhealthy_threshold = 3
    interval            = 30
  }
}

resource "aws_lb_target_group_attachment" "service" {
  target_group_arn = aws_lb_target_group.service.arn
  target_id        = cidrhost(module.vpc["provider"].subnet_cidr_block, 10) # the service's IP in the provider subnet
  port             = var.service_port
}

resource "aws_lb_listener" "service" {
  #checkov:skip=CKV_AWS_2:A TCP listener of a Network Load Balancer: TLS, if any, is end to end between consumer and service.
  #checkov:skip=CKV_AWS_103:A TCP listener of a Network Load Balancer has no TLS policy to set.
  load_balancer_arn = aws_lb.service.arn
  port              = var.service_port
  protocol          = "TCP"

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.service.arn
  }
}

# Who may create endpoints to the service. With vpcwarden's SYNC_PRINCIPALS=true, vpcwarden keeps
# them equal to the grants: then drop `allowed_principals` here (or ignore its changes).
resource "aws_vpc_endpoint_service" "this" {
  acceptance_required        = true
  network_load_balancer_arns = [aws_lb.service.arn]
  allowed_principals         = local.allowed_principals
  tags                       = { Name = "${var.name}-service" }

  depends_on = [aws_lb_listener.service]
}

# ---------------------------------------------------------------- consumer side

# In the consumer VPC: admits the consumer's clients to the endpoint on the service port.
resource "aws_security_group" "endpoint" {
  name        = "${var.name}-endpoint"
  description = "Clients in the consumer VPC to the ${var.name} interface endpoint"
  vpc_id      = module.vpc["consumer"].vpc_id
  tags        = { Name = "${var.name}-endpoint" }
}

resource "aws_vpc_security_group_ingress_rule" "endpoint" {
  security_group_id = aws_security_group.endpoint.id
  description       = "The service port from the consumer VPC"
  ip_protocol       = "tcp"
  from_port         = var.service_port
  to_port           = var.service_port
  cidr_ipv4         = module.vpc["consumer"].cidr_block
}

resource "aws_vpc_endpoint" "consumer" {
  vpc_id              = module.vpc["consumer"].vpc_id
  service_name        = aws_vpc_endpoint_service.this.service_name
  vpc_endpoint_type   = "Interface"
  subnet_ids          = [module.vpc["consumer"].subnet_id]
  security_group_ids  = [aws_security_group.endpoint.id]
  private_dns_enabled = false
  tags                = { Name = "${var.name}-endpoint" }

  # No auto_accept: the connection waits for vpcwarden.
}
