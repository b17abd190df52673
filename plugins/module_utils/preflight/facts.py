# -*- coding: utf-8 -*-
# Copyright: bluegreen.migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""AWS facts preflight checks inputs against: what known images serve, the VPC endpoint
services, AZs per region, Fargate sizes, log retention periods, Lambda runtimes, Aurora
majors, name and ARN patterns, and the quota codes of rule 8. Tables only, no logic.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import re


# --- Rule 1: what known images serve --------------------------------------------------
# paths: the paths that answer 200 in the stock image ("*": any path); port: where it listens.
KNOWN_IMAGES = {
    "amazon/amazon-ecs-sample": {"paths": ["/"], "port": 80, "what": "the ECS sample PHP page"},
    "nginx": {"paths": ["/", "/index.html", "/50x.html"], "port": 80, "what": "the nginx welcome page"},
    "nginxinc/nginx-unprivileged": {"paths": ["/", "/index.html", "/50x.html"], "port": 8080, "what": "the nginx welcome page (non-root)"},
    "httpd": {"paths": ["/", "/index.html"], "port": 80, "what": "Apache's 'It works!' page"},
    "traefik/whoami": {"paths": "*", "port": 80, "what": "an echo of the request on every path"},
    "hashicorp/http-echo": {"paths": "*", "port": 5678, "what": "its -text on every path"},
}
IMAGE_ALIASES = {
    "public.ecr.aws/ecs-sample-image/amazon-ecs-sample": "amazon/amazon-ecs-sample",
    "public.ecr.aws/nginx/nginx": "nginx",
    "public.ecr.aws/docker/library/nginx": "nginx",
    "public.ecr.aws/docker/library/httpd": "httpd",
    "public.ecr.aws/nginx/nginx-unprivileged": "nginxinc/nginx-unprivileged",
}
DOCKER_HUB_PREFIXES = ("docker.io/", "index.docker.io/", "registry-1.docker.io/")
IMAGE_PATTERN = re.compile(r"^[a-z0-9]([a-z0-9._/:-]*[a-z0-9])?(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[a-f0-9]{64})?$")

# --- Rule 2: VPC endpoint services this collection knows how to use --------------------
ENDPOINT_SERVICES = (
    "s3",
    "dynamodb",
    "ecr.api",
    "ecr.dkr",
    "logs",
    "secretsmanager",
    "kms",
    "sts",
    "ssm",
    "ssmmessages",
    "ec2messages",
    "ecs",
    "ecs-agent",
    "ecs-telemetry",
    "monitoring",
    "sns",
    "sqs",
    "lambda",
    "rds",
    "rds-data",
    "elasticloadbalancing",
    "ec2",
    "xray",
)

# --- Other input tables --------------------------------------------------------------------
# Availability zones a new account can use, for the regions we know; others are not checked.
REGION_AZ_COUNT = {
    "us-east-1": 6,
    "us-east-2": 3,
    "us-west-1": 2,
    "us-west-2": 4,
    "ca-central-1": 3,
    "sa-east-1": 3,
    "eu-west-1": 3,
    "eu-west-2": 3,
    "eu-west-3": 3,
    "eu-central-1": 3,
    "eu-north-1": 3,
    "eu-south-1": 3,
    "ap-south-1": 3,
    "ap-southeast-1": 3,
    "ap-southeast-2": 3,
    "ap-northeast-1": 3,
    "ap-northeast-2": 4,
}
AZ_MIN, AZ_MAX = 2, 6
# Fargate task sizes: cpu units -> (min MiB, max MiB, step MiB) (512 MiB is the one odd value).
FARGATE_MEMORY = {
    256: [512, 1024, 2048],
    512: list(range(1024, 4096 + 1, 1024)),
    1024: list(range(2048, 8192 + 1, 1024)),
    2048: list(range(4096, 16384 + 1, 1024)),
    4096: list(range(8192, 30720 + 1, 1024)),
    8192: list(range(16384, 61440 + 1, 4096)),
    16384: list(range(32768, 122880 + 1, 8192)),
}
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)
LAMBDA_PYTHON_RUNTIMES = ("python3.10", "python3.11", "python3.12", "python3.13")
LAMBDA_DEPRECATED = ("python2.7", "python3.6", "python3.7", "python3.8", "python3.9")
AURORA_MAJOR_SUPPORTED = (13, 14, 15, 16, 17)
INSTANCE_CLASS_PATTERN = re.compile(r"^db\.(serverless|[a-z0-9]+\.[a-z0-9]+)$")
IDENTIFIER_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,62}$")
# PostgreSQL reserved key words, plus names RDS keeps for itself or that are the first guess
# of anyone trying passwords (postgres, admin, root).
SQL_RESERVED = frozenset(
    "all analyse analyze and any array as asc asymmetric both case cast check collate column constraint create "
    "current_catalog current_date current_role current_time current_timestamp current_user default deferrable desc "
    "distinct do else end except false fetch for foreign from grant group having in initially intersect into lateral "
    "leading limit localtime localtimestamp not null offset on only or order placing primary references returning "
    "select session_user some symmetric system_user table then to trailing true union unique user using variadic "
    "when where window with".split()
)
RESERVED_USERNAMES = frozenset(["postgres", "admin", "root", "rdsadmin", "rdsrepladmin", "rds_superuser", "public", "template0", "template1"])
RESERVED_DATABASES = frozenset(["template0", "template1", "rdsadmin"])
ACM_ARN = re.compile(r"^arn:aws[a-z-]*:acm:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):certificate/[A-Za-z0-9-]+$")
KMS_KEY_ARN = re.compile(r"^arn:aws[a-z-]*:kms:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):key/(?P<id>[A-Za-z0-9-]+)$")
KMS_ALIAS_ARN = re.compile(r"^arn:aws[a-z-]*:kms:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):alias/[A-Za-z0-9/_-]+$")
KMS_KEY_ID = re.compile(r"^(mrk-[a-f0-9]{32}|[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12})$")
KMS_ALIAS = re.compile(r"^alias/[A-Za-z0-9/_-]+$")
LOG_KMS_VARIABLES = {"ecs_service_log_kms_key_id": "ecs_log_group", "migrator_lambda_log_kms_key_id": "migrator_log_group"}
# What CloudWatch Logs does with the key of an encrypted log group.
LOGS_KMS_ACTIONS = ("kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom", "kms:GenerateDataKey", "kms:DescribeKey")
PRIVATE_RANGES = [ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10")]
DRAIN_MAX_SECONDS = 3600  # the ALB's deregistration delay limit
# https://docs.aws.amazon.com/elasticloadbalancing/latest/application/application-load-balancers.html#subnets-load-balancer
# Each subnet of an ALB must be at least a /27 and have at least 8 free addresses.
ALB_SUBNET_MAX_PREFIX = 27
ALB_FREE_ADDRESSES = 8
TAG_LIMIT = 50
RESERVED_TAG_PREFIXES = ("aws:", "bluegreen:")

# --- AWS limits (rule 8) ---------------------------------------------------------------------

AURORA_ENGINE = "aurora-postgresql"
# Service Quotas codes (AWS's default for both is 5 per region; an account's may be higher).
EIP_QUOTA = {"service": "ec2", "code": "L-0263D0A3", "name": "EC2-VPC Elastic IPs"}
VPC_QUOTA = {"service": "vpc", "code": "L-F678F1CE", "name": "VPCs per Region"}
# The identity running preflight needs these for rule 8 (read-only).
LIMIT_ACTIONS = {
    "eip": "ec2:DescribeAddresses, ec2:DescribeAccountAttributes (or servicequotas:GetServiceQuota)",
    "vpc": "ec2:DescribeVpcs (and servicequotas:GetServiceQuota)",
    "aurora": "rds:DescribeDBClusters, rds:DescribeDBEngineVersions, rds:DescribeOrderableDBInstanceOptions",
}
