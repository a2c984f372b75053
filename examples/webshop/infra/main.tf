# Production infrastructure of the webshop (eu-central-1).
#
# @asset Shop.Db (#db) -- "PostgreSQL 16 on RDS: customers, orders, payments"
# @asset Shop.Queue (#queue) -- "Amazon MQ for RabbitMQ, carries order.created events"
# @boundary between Shop.Web and Shop.Api (#internet-edge)
// @boundary Shop.Api | Shop.Db (#data-tier)
# @owns team-platform for Shop.Db
# @handles pii on Shop.Db
# @assumes Shop.Api -- "TLS terminates at the ALB; ALB to task traffic stays inside the VPC"

terraform {
  required_version = ">= 1.6"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.40"
    }
  }
}

variable "vpc_id" {
  type = string
}

variable "private_subnet_ids" {
  type = list(string)
}

variable "public_subnet_ids" {
  type = list(string)
}

resource "aws_lb" "api" {
  name               = "webshop-api"
  load_balancer_type = "application"
  subnets            = var.public_subnet_ids
  security_groups    = [aws_security_group.alb.id]
  drop_invalid_header_fields = true
}

resource "aws_security_group" "alb" {
  name   = "webshop-alb"
  vpc_id = var.vpc_id
  ingress {
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

// Only the API tasks may reach the database; nothing else in the VPC can.
resource "aws_security_group" "db" {
  name   = "webshop-db"
  vpc_id = var.vpc_id
  ingress {
    from_port       = 5432
    to_port         = 5432
    protocol        = "tcp"
    security_groups = [aws_security_group.api_tasks.id]
  }
}

resource "aws_security_group" "api_tasks" {
  name   = "webshop-api-tasks"
  vpc_id = var.vpc_id
}

resource "aws_kms_key" "db" {
  description         = "webshop RDS storage and snapshots"
  enable_key_rotation = true
}

# @exposes Shop.Db to #snapshot-leak [P1] -- "automated snapshots are kept for 14 days"
# @mitigates Shop.Db against #snapshot-leak using #kms-encryption
resource "aws_db_instance" "main" {
  identifier                = "webshop"
  engine                    = "postgres"
  engine_version            = "16.3"
  instance_class            = "db.t4g.medium"
  allocated_storage         = 50
  storage_encrypted         = true
  kms_key_id                = aws_kms_key.db.arn
  backup_retention_period   = 14
  db_subnet_group_name      = "webshop-private"
  vpc_security_group_ids    = [aws_security_group.db.id]
  publicly_accessible       = false
  deletion_protection       = true
  manage_master_user_password = true
}

/*
 * @audit Shop.Queue -- "broker is private today; re-check after the Amazon MQ engine upgrade"
 */
resource "aws_mq_broker" "orders" {
  broker_name         = "webshop-orders"
  engine_type         = "RabbitMQ"
  engine_version      = "3.13"
  host_instance_type  = "mq.m5.large"
  publicly_accessible = false
  subnet_ids          = [var.private_subnet_ids[0]]

  user {
    username = "webshop"
    password = random_password.mq.result
  }
}

resource "random_password" "mq" {
  length  = 32
  special = false
}
