#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: bluegreen.migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: elb_target_health_info
short_description: Health of the targets of ALB target groups, optionally waiting for enough healthy ones
version_added: 0.1.0
description:
  - Describes the targets of one or more Elastic Load Balancing v2 target groups (by name or ARN)
    with their health state, and counts them per state.
  - With O(wait=true) waits, per target group, until at least O(min_healthy) targets are
    C(healthy), reading C(DescribeTargetHealth) every O(wait_delay) seconds; when O(wait_timeout) passes first
    the module fails and the message lists every target with its state and reason. A read that fails (throttling
    past its retries included) fails the module at once with its own error, not as a timeout.
  - Read-only; supports check mode (it does the same there).
options:
  target_groups:
    description:
      - Target groups to describe, each a name or an ARN.
    type: list
    elements: str
    required: true
  min_healthy:
    description:
      - Healthy targets each target group needs for RV(target_groups[].enough_healthy) and for O(wait).
    type: int
    default: 1
  wait:
    description:
      - Wait until every target group has at least O(min_healthy) healthy targets.
    type: bool
    default: false
  wait_timeout:
    description:
      - Seconds to wait per target group.
    type: int
    default: 300
  wait_delay:
    description:
      - Seconds between two looks at the target health while waiting.
    type: int
    default: 5
notes:
  - A target group that does not exist fails the module, naming it.
author:
  - bluegreen.migration maintainers (@bluegreen)
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Health of the green targets
  bluegreen.migration.elb_target_health_info:
    target_groups:
      - app-green-dev
  register: green_health

- name: Wait (at most 5 minutes) for 2 healthy green targets
  bluegreen.migration.elb_target_health_info:
    target_groups:
      - app-green-dev
    min_healthy: 2
    wait: true
    wait_timeout: 300
"""

RETURN = r"""
target_groups:
  description: One entry per requested target group, in the order asked.
  returned: always
  type: list
  elements: dict
  contains:
    target_group_name:
      description: Name of the target group.
      type: str
      sample: app-green-dev
    target_group_arn:
      description: ARN of the target group.
      type: str
      sample: arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/app-green-dev/0123456789abcdef
    healthy_count:
      description: Targets in state C(healthy).
      type: int
      sample: 2
    unhealthy_count:
      description: Targets in state C(unhealthy).
      type: int
      sample: 0
    total_count:
      description: Every registered target, whatever its state.
      type: int
      sample: 2
    states:
      description: Number of targets per state (C(initial), C(healthy), C(unhealthy), C(draining), C(unused) ...).
      type: dict
      sample: {"healthy": 2}
    enough_healthy:
      description: Whether at least O(min_healthy) targets are healthy.
      type: bool
      sample: true
    targets:
      description: The targets with their health.
      type: list
      elements: dict
      contains:
        id:
          description: IP address or instance id of the target.
          type: str
          sample: 10.0.10.25
        port:
          description: Port of the target.
          type: int
          sample: 80
        availability_zone:
          description: Availability zone of the target, when AWS reports it.
          type: str
          sample: us-east-1a
        state:
          description: Health state.
          type: str
          sample: healthy
        reason:
          description: Reason code of a state other than healthy.
          type: str
          sample: Target.FailedHealthChecks
        description:
          description: Description of that reason.
          type: str
          sample: Health checks failed
waited:
  description: Whether the module waited (O(wait=true)).
  returned: always
  type: bool
  sample: true
"""

import functools

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError

from ansible_collections.bluegreen.migration.plugins.module_utils import elbv2
from ansible_collections.bluegreen.migration.plugins.module_utils.core import BlueGreenModule


def find_target_group(client, name_or_arn):
    if name_or_arn.startswith("arn:"):
        return elbv2.describe_target_group_by_arn(client, name_or_arn)
    return elbv2.describe_target_group(client, name_or_arn)


def _target(description):
    target = description.get("Target", {})
    health = description.get("TargetHealth", {})
    return {
        "id": target.get("Id"),
        "port": target.get("Port"),
        "availability_zone": target.get("AvailabilityZone"),
        "state": health.get("State"),
        "reason": health.get("Reason"),
        "description": health.get("Description"),
    }


def describe_health(client, group, min_healthy):
    descriptions = elbv2.describe_target_health(client, group["TargetGroupArn"])
    targets = [_target(d) for d in descriptions]
    states = elbv2.target_states(descriptions)
    healthy = states.get("healthy", 0)
    return {
        "target_group_name": group["TargetGroupName"],
        "target_group_arn": group["TargetGroupArn"],
        "healthy_count": healthy,
        "unhealthy_count": states.get("unhealthy", 0),
        "total_count": len(targets),
        "states": states,
        "enough_healthy": healthy >= min_healthy,
        "targets": targets,
    }


def _explain(health, min_healthy, timeout):
    targets = ", ".join(
        "%s:%s %s%s" % (t["id"], t["port"], t["state"], " (%s)" % (t["reason"] or t["description"]) if t["reason"] or t["description"] else "")
        for t in health["targets"]
    )
    return "target group %s has %d healthy target(s) of %d after %d s; %d needed. Targets: %s" % (
        health["target_group_name"],
        health["healthy_count"],
        health["total_count"],
        timeout,
        min_healthy,
        targets or "none registered",
    )


def main():
    argument_spec = dict(
        target_groups=dict(type="list", elements="str", required=True),
        min_healthy=dict(type="int", default=1),
        wait=dict(type="bool", default=False),
        wait_timeout=dict(type="int", default=300),
        wait_delay=dict(type="int", default=5),
    )
    module = BlueGreenModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    if params["min_healthy"] < 0 or params["wait_timeout"] < 0 or params["wait_delay"] < 1:
        module.fail_json(msg="min_healthy and wait_timeout must be 0 or more, wait_delay 1 or more")
    client = module.client("elbv2")
    try:
        groups = []
        for name in params["target_groups"]:
            group = find_target_group(client, name)
            if group is None:
                module.fail_json(msg="target group %s does not exist" % name)
            groups.append(group)
        results = []
        for group in groups:
            read = functools.partial(describe_health, client, group, params["min_healthy"])
            # The wait reads first, so a group already healthy enough costs one read either way.
            health = elbv2.wait_until_healthy(read, params["wait_timeout"], params["wait_delay"]) if params["wait"] else read()
            if params["wait"] and not health["enough_healthy"]:
                module.fail_json(msg=_explain(health, params["min_healthy"], params["wait_timeout"]), target_groups=results + [health], waited=True)
            results.append(health)
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)
    module.exit_json(changed=False, target_groups=results, waited=params["wait"])


if __name__ == "__main__":
    main()
