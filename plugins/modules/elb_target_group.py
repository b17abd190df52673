#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: bluegreen.migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# ruff: noqa: E402  (Ansible module layout: imports follow DOCUMENTATION, EXAMPLES and RETURN)

DOCUMENTATION = r"""
module: elb_target_group
short_description: Create, update or delete an ALB target group with full health check settings
version_added: 0.1.0
description:
  - Ensures an Elastic Load Balancing v2 target group exists with the given health check,
    deregistration delay and tags, or is absent.
  - Health check settings and the deregistration delay are compared with what AWS describes
    and changed in place (ModifyTargetGroup, ModifyTargetGroupAttributes) when they differ.
  - O(protocol), O(port), O(vpc_id) and O(target_type) cannot change on an existing target
    group; a difference fails with a message naming the field (delete the group first).
  - Supports check mode and diff mode.
options:
  name:
    description:
      - Name of the target group (at most 32 characters).
    type: str
    required: true
  protocol:
    description:
      - Protocol of the traffic to the targets.
    type: str
    choices: [HTTP, HTTPS]
    default: HTTP
  port:
    description:
      - Port the targets receive traffic on.
      - Required to create the target group.
    type: int
  vpc_id:
    description:
      - VPC of the targets.
      - Required to create the target group.
    type: str
  target_type:
    description:
      - Type of targets (V(ip) for Fargate tasks).
    type: str
    choices: [ip, instance]
    default: ip
  health_check:
    description:
      - Health check of the targets. Every sub-option has a default, so the whole health
        check is always managed.
    type: dict
    default: {}
    suboptions:
      path:
        description: Path requested on each target.
        type: str
        default: /
      protocol:
        description: Protocol of the health check.
        type: str
        choices: [HTTP, HTTPS]
        default: HTTP
      port:
        description: Port of the health check; V(traffic-port) is the port of the target.
        type: str
        default: traffic-port
      interval:
        description: Seconds between two checks of one target.
        type: int
        default: 30
      timeout:
        description: Seconds without a response after which a check fails.
        type: int
        default: 5
      healthy_threshold:
        description: Consecutive successes after which a target is healthy.
        type: int
        default: 2
      unhealthy_threshold:
        description: Consecutive failures after which a target is unhealthy.
        type: int
        default: 3
      matcher:
        description: HTTP codes meaning healthy (V(200), V(200-299), V(200,302)).
        type: str
        default: "200"
  deregistration_delay:
    description:
      - Seconds the load balancer lets in-flight requests of a deregistering target finish.
      - When not set, the attribute is left as it is (AWS default 300).
    type: int
  state:
    description:
      - Whether the target group should exist.
    type: str
    choices: [present, absent]
    default: present
author:
  - bluegreen.migration maintainers (@bluegreen)
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Target group of the blue service
  bluegreen.migration.elb_target_group:
    name: bluegreen-blue-dev
    port: 80
    vpc_id: "{{ bluegreen_network.vpc_id }}"
    health_check:
      path: /
      interval: 30
      timeout: 5
      healthy_threshold: 2
      unhealthy_threshold: 3
    deregistration_delay: 30
    tags:
      bluegreen:environment: dev

- name: Delete it
  bluegreen.migration.elb_target_group:
    name: bluegreen-blue-dev
    state: absent
"""

RETURN = r"""
target_group:
  description: The target group as AWS describes it (empty once absent).
  returned: always
  type: dict
  contains:
    target_group_arn:
      description: ARN of the target group.
      type: str
      sample: arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/bluegreen-blue-dev/0123456789abcdef
    target_group_name:
      description: Name of the target group.
      type: str
      sample: bluegreen-blue-dev
    protocol:
      description: Protocol of the traffic to the targets.
      type: str
      sample: HTTP
    port:
      description: Port of the targets.
      type: int
      sample: 80
    vpc_id:
      description: VPC of the targets.
      type: str
      sample: vpc-0123456789abcdef0
    target_type:
      description: Type of targets.
      type: str
      sample: ip
    health_check:
      description: Health check settings.
      type: dict
      sample: {"path": "/", "protocol": "HTTP", "port": "traffic-port", "interval": 30, "timeout": 5,
               "healthy_threshold": 2, "unhealthy_threshold": 3, "matcher": "200"}
    deregistration_delay:
      description: Deregistration delay in seconds.
      type: int
      sample: 30
    load_balancer_arns:
      description: Load balancers that route to this target group.
      type: list
      elements: str
      sample: []
    tags:
      description: Tags of the target group.
      type: dict
      sample: {"bluegreen:environment": "dev"}
"""

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError

from ansible_collections.bluegreen.migration.plugins.module_utils import elbv2
from ansible_collections.bluegreen.migration.plugins.module_utils.core import BlueGreenModule
from ansible_collections.bluegreen.migration.plugins.module_utils.diff import plan_tags
from ansible_collections.bluegreen.migration.plugins.module_utils.waits import poll

# How long a new target group is read again until ELB describes it (then the answer is built
# from the create's).
NEW_GROUP_READ_SECONDS = 20


def _health_check_params(health_check):
    params = {field: health_check[key] for key, field in elbv2.HEALTH_CHECK_FIELDS.items()}
    params["HealthCheckEnabled"] = True
    params["Matcher"] = {"HttpCode": health_check["matcher"]}
    return params


def ensure_present(module, client, current):
    params = module.params
    health_check = params["health_check"]

    if current is None:
        missing = [key for key in ("port", "vpc_id") if params[key] is None]
        if missing:
            module.fail_json(msg=f"target group {params['name']} does not exist; {' and '.join(missing)} required to create it")
        after = {
            "target_group_arn": None,
            "target_group_name": params["name"],
            "protocol": params["protocol"],
            "port": params["port"],
            "vpc_id": params["vpc_id"],
            "target_type": params["target_type"],
            "health_check": dict(health_check),
            "deregistration_delay": params["deregistration_delay"] if params["deregistration_delay"] is not None else 300,
            "load_balancer_arns": [],
            "tags": params["tags"] or {},
        }
        if not module.check_mode:
            request = dict(
                Name=params["name"],
                Protocol=params["protocol"],
                Port=params["port"],
                VpcId=params["vpc_id"],
                TargetType=params["target_type"],
                **_health_check_params(health_check),
            )
            if params["tags"]:
                request["Tags"] = [{"Key": k, "Value": str(v)} for k, v in params["tags"].items()]
            group = elbv2.create_target_group(client, **request)
            # ELB is eventually consistent: a group just created may be unknown for a moment.
            if params["deregistration_delay"] is not None:
                elbv2.modify_new_target_group_attributes(client, group["TargetGroupArn"], {elbv2.TARGET_GROUP_DELAY_KEY: params["deregistration_delay"]})
            found = poll(lambda: elbv2.read_target_group(client, params["name"]), NEW_GROUP_READ_SECONDS, 1)
            after = found or dict(after, target_group_arn=group["TargetGroupArn"])
        module.exit_with_diff(True, {}, after, target_group=after)

    wanted = dict(params, health_check=dict(health_check))
    wrong = elbv2.target_group_immutable_drift(wanted, current)
    if wrong:
        module.fail_json(
            msg=f"target group {params['name']} {elbv2.immutable_reason(wrong)}. Delete it (state=absent) and create it again.",
            target_group=current,
        )

    drift = elbv2.target_group_drift(wanted, current)
    after = dict(current, **{key: value["after"] for key, value in drift.items()})
    changed = bool(drift)
    if not module.check_mode:
        if "health_check" in drift:
            elbv2.modify_target_group(client, current["target_group_arn"], **_health_check_params(health_check))
        if "deregistration_delay" in drift:
            elbv2.modify_target_group_attributes(client, current["target_group_arn"], {elbv2.TARGET_GROUP_DELAY_KEY: params["deregistration_delay"]})
        if "tags" in drift:
            elbv2.update_tags(client, current["target_group_arn"], *plan_tags(current["tags"], params["tags"], params["purge_tags"]))
    if changed and not module.check_mode:
        after = elbv2.read_target_group(client, params["name"])
    module.exit_with_diff(changed, current, after, target_group=after)


def ensure_absent(module, client, current):
    if current is None:
        module.exit_with_diff(False, {}, {}, target_group={})
    if not module.check_mode:
        elbv2.delete_target_group(client, current["target_group_arn"])
    module.exit_with_diff(True, current, {}, target_group={})


def main():
    argument_spec = dict(
        name=dict(type="str", required=True),
        protocol=dict(type="str", choices=["HTTP", "HTTPS"], default="HTTP"),
        port=dict(type="int"),
        vpc_id=dict(type="str"),
        target_type=dict(type="str", choices=["ip", "instance"], default="ip"),
        health_check=dict(type="dict", default={}, options=elbv2.HEALTH_CHECK_SPEC, apply_defaults=True),
        deregistration_delay=dict(type="int"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
    )
    module = BlueGreenModule(argument_spec=argument_spec, supports_check_mode=True)
    client = module.client("elbv2")
    try:
        current = elbv2.read_target_group(client, module.params["name"])
        if module.params["state"] == "present":
            ensure_present(module, client, current)
        else:
            ensure_absent(module, client, current)
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)


if __name__ == "__main__":
    main()
