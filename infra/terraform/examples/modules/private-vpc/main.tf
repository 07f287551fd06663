# One private VPC of an example estate: the VPC (DNS on), its default security group closed, one
# private subnet and a route table associated with it. The route table declares no inline `route`
# blocks on purpose: Terraform would otherwise remove the routes vpcwarden adds.

resource "aws_vpc" "this" {
  #checkov:skip=CKV2_AWS_11:A minimal example estate for vpcwarden to manage; VPC flow logs belong to the estate owner's logging setup.
  cidr_block           = var.cidr_block
  enable_dns_support   = true
  enable_dns_hostnames = true
  tags                 = { Name = var.name }
}

# Nothing allowed through the default security group.
resource "aws_default_security_group" "this" {
  vpc_id = aws_vpc.this.id
  tags   = { Name = "${var.name}-default" }
}

resource "aws_subnet" "private" {
  vpc_id                  = aws_vpc.this.id
  cidr_block              = cidrsubnet(aws_vpc.this.cidr_block, 8, 1)
  availability_zone       = var.availability_zone
  map_public_ip_on_launch = false
  tags                    = { Name = "${var.name}-private" }
}

resource "aws_route_table" "private" {
  vpc_id = aws_vpc.this.id
  tags   = { Name = "${var.name}-private" }
}

resource "aws_route_table_association" "private" {
  subnet_id      = aws_subnet.private.id
  route_table_id = aws_route_table.private.id
}
