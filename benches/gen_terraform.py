#!/usr/bin/env python3
"""A generated Terraform tree for the `baseline` benchmark (issue 20), python3 standard library
only, deterministic: FILES files of RESOURCES resources in all (default 200 and 2,000), spread over
a root and MODULES local modules called from it, with the shapes the rules and flows read
(VPC/subnets/route tables, security groups with ingress rules, load balancers and listeners,
instances, databases, buckets and their configurations, IAM policies, queues, Lambda functions).

    benches/gen_terraform.py OUT_DIR [FILES] [RESOURCES] [MODULES]
    threat-analyzer baseline OUT_DIR --format json > /dev/null
"""

import os
import sys


def resource(i, module):
    """One resource block (or a small group counting as one per block) by index."""
    kind = i % 10
    n = f"r{i}"
    if kind == 0:
        return f'resource "aws_vpc" "{n}" {{\n  cidr_block = var.cidr\n}}\n'
    if kind == 1:
        return (
            f'resource "aws_security_group" "{n}" {{\n  vpc_id = aws_vpc.r{i - 1}.id\n'
            f'  ingress {{\n    from_port   = {22 if i % 3 == 0 else 443}\n    to_port     = {22 if i % 3 == 0 else 443}\n'
            f'    protocol    = "tcp"\n    cidr_blocks = ["0.0.0.0/0"]\n  }}\n}}\n'
        )
    if kind == 2:
        return (
            f'resource "aws_subnet" "{n}" {{\n  vpc_id                  = aws_vpc.r{i - 2}.id\n'
            f'  map_public_ip_on_launch = {"true" if i % 4 == 0 else "false"}\n}}\n'
        )
    if kind == 3:
        return (
            f'resource "aws_instance" "{n}" {{\n  ami                    = "ami-{i:08x}"\n'
            f'  subnet_id              = aws_subnet.r{i - 1}.id\n'
            f'  vpc_security_group_ids = [aws_security_group.r{i - 2}.id]\n'
            f'  metadata_options {{\n    http_tokens = "{"required" if i % 2 else "optional"}"\n  }}\n}}\n'
        )
    if kind == 4:
        return (
            f'resource "aws_db_instance" "{n}" {{\n  engine                 = "postgres"\n'
            f'  instance_class         = local.db_class\n  storage_encrypted      = {"true" if i % 3 else "false"}\n'
            f'  publicly_accessible    = {"true" if i % 7 == 0 else "false"}\n'
            f'  vpc_security_group_ids = [aws_security_group.r{i - 3}.id]\n}}\n'
        )
    if kind == 5:
        return f'resource "aws_s3_bucket" "{n}" {{\n  bucket = "{module}-bucket-{i}"\n}}\n'
    if kind == 6:
        return (
            f'resource "aws_s3_bucket_public_access_block" "{n}" {{\n  bucket                  = aws_s3_bucket.r{i - 1}.id\n'
            f'  block_public_acls       = true\n  block_public_policy     = true\n'
            f'  ignore_public_acls      = true\n  restrict_public_buckets = {"true" if i % 2 else "false"}\n}}\n'
        )
    if kind == 7:
        return (
            f'resource "aws_iam_policy" "{n}" {{\n  policy = jsonencode({{\n    Statement = [{{\n'
            f'      Effect   = "Allow"\n      Action   = "{"*" if i % 5 == 0 else "s3:GetObject"}"\n'
            f'      Resource = "arn:aws:s3:::{module}-bucket-{i - 2}/*"\n    }}]\n  }})\n}}\n'
        )
    if kind == 8:
        return (
            f'resource "aws_lambda_function" "{n}" {{\n  function_name = "{module}-fn-{i}"\n'
            f'  environment {{\n    variables = {{ BUCKET = aws_s3_bucket.r{i - 3}.id }}\n  }}\n}}\n'
        )
    return (
        f'resource "aws_sqs_queue" "{n}" {{\n  name = "{module}-q-{i}"\n}}\n'
        f'resource "aws_lambda_event_source_mapping" "{n}" {{\n  event_source_arn = aws_sqs_queue.{n}.arn\n'
        f'  function_name    = aws_lambda_function.r{i - 1}.arn\n}}\n'
    )


def main():
    out = sys.argv[1]
    files = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    resources = int(sys.argv[3]) if len(sys.argv) > 3 else 2000
    modules = int(sys.argv[4]) if len(sys.argv) > 4 else 10
    per_file = resources // files
    dirs = [""] + [f"modules/m{m}" for m in range(modules)]
    header = 'variable "cidr" {\n  default = "10.0.0.0/16"\n}\nlocals {\n  db_class = "db.t3.micro"\n}\n'
    index = 0
    for f in range(files):
        d = dirs[f % len(dirs)]
        module = d.replace("/", "-") or "root"
        path = os.path.join(out, d, f"main{f}.tf")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        # Each block group starts on a multiple of 10 so that references stay in the file.
        blocks = [resource(index + k, module) for k in range(per_file)]
        text = "".join(blocks)
        if f < len(dirs):
            text = header + text
        if f == 0:
            text += "".join(f'module "m{m}" {{\n  source = "./modules/m{m}"\n  cidr   = "10.{m}.0.0/16"\n}}\n' for m in range(modules))
        with open(path, "w") as fh:
            fh.write(text)
        index += per_file


if __name__ == "__main__":
    main()
