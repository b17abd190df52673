# -*- coding: utf-8 -*-
# Copyright: bluegreen.migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The inputs of an environment and their defaults, in one table.

Preflight and the cost model read undefined variables from here; the roles' own
defaults/main.yml must agree (tests/unit/preflight/test_input_defaults.py checks it).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

INPUT_DEFAULTS = {
    "environment_suffix": None,
    "aws_region": "us-east-1",
    "environment_disposable": True,
    "budget_monthly_usd": None,
    "bluegreen_tags": {},
    "network_vpc_cidr": "10.0.0.0/16",
    "network_az_count": 3,
    "network_nat_gateways": "single",
    "network_vpc_endpoints": [],
    "network_ingress_cidrs": ["0.0.0.0/0"],
    "ecs_service_image": "public.ecr.aws/ecs-sample-image/amazon-ecs-sample:latest",
    "ecs_service_container_port": 80,
    "ecs_service_health_check_path": "/",
    "ecs_service_cpu": 512,
    "ecs_service_memory": 1024,
    "ecs_service_desired_count": 2,
    "ecs_service_log_retention_days": 7,
    "ecs_service_log_kms_key_id": None,
    "ecs_service_certificate_arn": None,
    "aurora_engine_version": "15.10",
    "aurora_instance_class": "db.t3.medium",
    "aurora_reader_count": 2,
    "aurora_database_name": "appdb",
    "aurora_master_username": "dbadmin",
    "aurora_kms_key_id": None,
    "aurora_deletion_protection": False,
    "aurora_skip_final_snapshot": True,
    "migrator_lambda_runtime": "python3.12",
    "migrator_lambda_handler": "index.handler",
    # Empty: the collection's own migrator package.
    "migrator_lambda_source_dir": "",
    "migrator_lambda_ca_bundle": "",
    "migrator_lambda_log_kms_key_id": None,
    "rollout_steps": [10, 50, 100],
    "rollout_bake_seconds": 60,
    "rollout_drain_seconds": 30,
}
