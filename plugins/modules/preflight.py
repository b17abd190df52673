#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: bluegreen.migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: preflight
short_description: Check every input of a blue-green environment before any AWS call
version_added: 0.1.0
description:
  - Runs on the controller (an action plugin; nothing is sent to the managed host) and checks the
    variables of the current inventory host, which is one environment, against the rules of the
    collection and of the AWS services it uses.
  - "Rules: the container image serves the health check path on the container port; VPC endpoints
    only when listed, with their monthly cost; a custom KMS key on a log group lets the region's
    CloudWatch Logs principal use it; the
    suffix makes every resource name valid; no deletion protection or final snapshot on a disposable
    environment; the migrator's Lambda handler exists in its source (parsed, never imported)."
  - Plus every other input, alone and across variables - CIDR and subnet capacity (public
    subnets big enough for an Application Load Balancer), AZ count,
    Fargate CPU and memory, Aurora version, class, readers, identifiers, Lambda runtime, rollout
    steps, bake and drain times, ingress CIDRs, tags, and the monthly cost estimate against
    C(budget_monthly_usd).
  - Variables not set take the collection's defaults. Each finding names the variable, its value,
    the rule and the fix. Errors fail the task; warnings are printed.
  - AWS calls are read-only. C(kms:GetKeyPolicy) is made only when
    C(ecs_service_log_kms_key_id) or C(migrator_lambda_log_kms_key_id) is set. When the run is
    against AWS (see O(check_aws_limits)) the AWS limits are read too - Elastic IP and VPC quotas
    against the NAT gateways and VPC the environment would create, and whether
    C(aurora_engine_version) and C(aurora_instance_class) can be ordered for a new cluster. The
    calls use the default boto3 credential chain, the region in C(aws_region) and
    C(AWS_ENDPOINT_URL).
  - When the host sets C(bluegreen_emulator=true) (the local inventory), the task refuses to run
    unless C(AWS_ENDPOINT_URL) is a loopback http URL, so the local inventory never reaches real AWS.
author:
  - bluegreen.migration maintainers (@bluegreen)
options:
  fail_on_error:
    description:
      - Fail the task when any finding is an error. With V(false) the findings are only returned.
    type: bool
    default: true
  check_key_policies:
    description:
      - Read the key policy of custom log-group KMS keys with C(kms:GetKeyPolicy).
      - With V(false) such keys get a warning that their policy was not checked.
    type: bool
    default: true
  check_aws_limits:
    description:
      - Read the AWS limits with read-only calls - C(ec2:DescribeAddresses),
        C(ec2:DescribeAccountAttributes), C(ec2:DescribeVpcs), C(servicequotas:GetServiceQuota),
        C(rds:DescribeDBClusters), C(rds:DescribeDBEngineVersions) and
        C(rds:DescribeOrderableDBInstanceOptions).
      - Unset, they are read when O(check_key_policies) is on and the run is against AWS itself,
        that is the host does not set C(bluegreen_emulator=true) and C(AWS_ENDPOINT_URL) is unset
        or not a loopback URL. An emulator's quotas and engine catalogue are not AWS's.
      - V(true) reads them wherever C(AWS_ENDPOINT_URL) points (the tests use it on the emulator);
        V(false) never reads them. Never when the emulator guard fails.
      - A limit that cannot be read is a warning, not an error.
    type: bool
attributes:
  check_mode:
    support: full
    description: Nothing is changed in either mode.
  diff_mode:
    support: none
    description: Findings are reported, never applied, so there is nothing to diff.
  platform:
    support: full
    platforms: all
    description: Runs on the controller.
notes:
  - The variables read are listed in docs/preflight.md with their defaults and rules.
seealso:
  - name: Preflight rules
    description: The rules, the image table and the price table.
    link: https://github.com/bluegreen/migration/blob/main/docs/preflight.md
"""

EXAMPLES = r"""
- name: Check the environment before deploying it
  bluegreen.migration.preflight:

- name: Only report, for a dashboard
  bluegreen.migration.preflight:
    fail_on_error: false
  register: preflight

- name: Show the estimate
  ansible.builtin.debug:
    msg: "{{ preflight.cost.total_monthly_usd }} USD/month"
"""

RETURN = r"""
findings:
  description: Every finding, errors first in the order the rules ran.
  returned: always
  type: list
  elements: dict
  contains:
    severity:
      description: V(error) stops the run, V(warning) is printed.
      type: str
      sample: error
    variable:
      description: The variable the finding is about.
      type: str
      sample: ecs_service_health_check_path
    value:
      description: Its value (or the offending element of a list).
      type: raw
      sample: /health
    rule:
      description: Short id of the rule.
      type: str
      sample: health_check
    message:
      description: What is wrong and what would happen.
      type: str
      sample: nginx serves the nginx welcome page on /, /index.html, /50x.html; /health would answer 404
    fix:
      description: What to change.
      type: str
      sample: set ecs_service_health_check_path to /
errors:
  description: The findings of severity error.
  returned: always
  type: list
  elements: dict
warnings:
  description: The findings of severity warning.
  returned: always
  type: list
  elements: dict
names:
  description: Every resource name of the environment (the naming catalogue); empty when the suffix is invalid.
  returned: always
  type: dict
  sample: {"alb": "app-dev", "aurora_cluster": "aurora-dev", "ecs_cluster": "app-dev"}
cost:
  description: Monthly cost estimate of the environment from list prices.
  returned: always
  type: dict
  contains:
    total_monthly_usd:
      description: Sum of the component lines, in US dollars.
      type: float
      sample: 209.89
    components:
      description: One line per priced component (component, quantity, unit, unit_price_usd, monthly_usd, detail).
      type: list
      elements: dict
    unpriced:
      description: Components left out because their inputs are invalid or have no known price.
      type: list
      elements: str
    price_region:
      description: Region of the price table.
      type: str
      sample: us-east-1
    price_date:
      description: When the price table was taken.
      type: str
      sample: 2025-06
    assumptions:
      description: Usage figures the estimate assumes (LCUs, storage, log volume, alarm count).
      type: dict
"""
