#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: bluegreen.migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# ruff: noqa: E402  (Ansible module layout: imports follow DOCUMENTATION, EXAMPLES and RETURN)

DOCUMENTATION = r"""
module: ecs_service_plan
short_description: Read the blue-green load balancer and its listeners, and plan what differs from the wanted state
version_added: 0.1.0
description:
  - Reads the load balancer, its listeners and the tags of both in one run
    (C(DescribeLoadBalancers), C(DescribeListeners), C(DescribeTags)) and compares them with
    the wanted subnets, security groups, tags and listeners.
  - The traffic listener (port 443 with a certificate, else 80) is wanted with the forward
    action it has now (every weight, in AWS's order, and the stickiness), so that handing
    RV(load_balancer.listeners) to M(amazon.aws.elb_application_lb) never moves traffic. A new
    load balancer forwards everything to blue. When traffic moves between ports (a certificate
    added or removed), the new traffic listener takes the weights of the old one.
  - Returns the plan (each change with the fields before and after, and why), the live color
    (the C(bluegreen:live-color) tag of the forwarding listener; C(blue) for a new environment),
    and the weights and stickiness to record on the traffic listener.
  - Read-only. In check mode it reports C(changed) when the plan has changes, so that
    C(--check --diff) shows them before and after; otherwise it never does.
options:
  load_balancer:
    description: The wanted load balancer.
    type: dict
    required: true
    suboptions:
      name:
        description: Its name.
        type: str
        required: true
      subnets:
        description: Public subnets it lives in.
        type: list
        elements: str
        required: true
      security_groups:
        description: Its security groups.
        type: list
        elements: str
        required: true
      tags:
        description: Its tags (all of them).
        type: dict
        required: true
      certificate_arn:
        description: ACM certificate of an HTTPS listener on 443 (port 80 then redirects); empty for HTTP on 80 only.
        type: str
        default: ""
      ssl_policy:
        description: TLS policy of the HTTPS listener.
        type: str
        default: ELBSecurityPolicy-TLS13-1-2-2021-06
  target_group_arns:
    description: ARNs of the C(blue) and C(green) target groups (a new listener forwards to blue).
    type: dict
    required: true
author:
  - bluegreen.migration maintainers (@bluegreen)
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Read the load balancer and plan the changes
  bluegreen.migration.ecs_service_plan:
    load_balancer:
      name: app-dev
      subnets: [subnet-0123456789abcdef0, subnet-0123456789abcdef1]
      security_groups: [sg-0123456789abcdef0]
      tags: {Name: app-dev, "bluegreen:environment": dev}
    target_group_arns:
      blue: arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/app-blue-dev/0123456789abcdef
      green: arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/app-green-dev/0123456789abcdef
  register: ecs_service_alb_plan

- name: Create or fix the load balancer only when the plan says so
  amazon.aws.elb_application_lb:
    name: app-dev
    subnets: [subnet-0123456789abcdef0, subnet-0123456789abcdef1]
    security_groups: [sg-0123456789abcdef0]
    listeners: "{{ ecs_service_alb_plan.load_balancer.listeners }}"
    purge_listeners: true
  when: ecs_service_alb_plan.load_balancer.apply
"""

RETURN = r"""
changes:
  description: The plan, one entry per resource to create or update.
  returned: always
  type: list
  elements: dict
  sample:
    - resource: load balancer
      name: app-dev
      action: update
      fields: {"security_groups": {"before": ["sg-2"], "after": ["sg-1"]}}
      reason: differs from the inputs
lines:
  description: The plan as one readable line per change.
  returned: always
  type: list
  elements: str
load_balancer:
  description: The load balancer as read, and what to do about it.
  returned: always
  type: dict
  contains:
    exists:
      description: Whether the load balancer exists.
      type: bool
    found:
      description: The load balancer as read (as M(bluegreen.migration.elb_load_balancer_info) returns it); empty when there is none.
      type: dict
    apply:
      description: Whether M(amazon.aws.elb_application_lb) has anything to do.
      type: bool
    listeners:
      description: The listeners to hand to M(amazon.aws.elb_application_lb), the traffic listener first.
      type: list
      elements: dict
    live_color:
      description: The live color (C(blue) for a new environment).
      type: str
    new_environment:
      description: Whether no listener records a live color yet.
      type: bool
    forward:
      description: The C(weights) and C(stickiness) to record on the traffic listener (M(bluegreen.migration.elb_listener_weights)).
      type: dict
    record_forward:
      description: Whether to record them (a new environment, or traffic that moved to another listener).
      type: bool
"""

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError

from ansible_collections.bluegreen.migration.plugins.module_utils import elbv2
from ansible_collections.bluegreen.migration.plugins.module_utils import load_balancer
from ansible_collections.bluegreen.migration.plugins.module_utils.core import BlueGreenModule


def main():
    argument_spec = dict(
        load_balancer=dict(
            type="dict",
            required=True,
            options=dict(
                name=dict(type="str", required=True),
                subnets=dict(type="list", elements="str", required=True),
                security_groups=dict(type="list", elements="str", required=True),
                tags=dict(type="dict", required=True),
                certificate_arn=dict(type="str", default=""),
                ssl_policy=dict(type="str", default="ELBSecurityPolicy-TLS13-1-2-2021-06"),
            ),
        ),
        target_group_arns=dict(type="dict", required=True),
    )
    module = BlueGreenModule(argument_spec=argument_spec, supports_check_mode=True)
    wanted = dict(module.params["load_balancer"])
    wanted["traffic_port"] = 443 if wanted["certificate_arn"] else 80
    try:
        balancer, listeners, tags = elbv2.read_load_balancer(module.client("elbv2"), wanted["name"])
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)
    result = load_balancer.plan(wanted["name"], wanted, balancer, listeners, tags, module.params["target_group_arns"])
    changes = result.pop("changes")
    result["exists"] = balancer is not None
    result["found"] = elbv2.load_balancer_result(balancer, listeners, tags) if balancer else {}
    module.exit_with_plan(changes, load_balancer=result)


if __name__ == "__main__":
    main()
