#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: bluegreen.migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# ruff: noqa: E402  (Ansible module layout: imports follow DOCUMENTATION, EXAMPLES and RETURN)

DOCUMENTATION = r"""
module: elb_load_balancer_info
short_description: One Application Load Balancer by name, with its listeners and the tags of both
version_added: 0.1.0
description:
  - Describes one Elastic Load Balancing v2 load balancer by name, its listeners (default actions
    included), the tags of the load balancer and the tags of every listener, in three API calls
    (C(DescribeLoadBalancers), C(DescribeListeners), one C(DescribeTags) for up to 19 listeners).
  - A load balancer that does not exist is reported with RV(exists=false); it does not fail
    the module (M(amazon.aws.elb_application_lb_info) fails on a missing name).
  - Made for roles that compare the live state with the wanted one and run a writer such as
    M(amazon.aws.elb_application_lb) only when they differ; the listener tag
    C(bluegreen:live-color) set by M(bluegreen.migration.elb_listener_weights) is returned as
    RV(load_balancer.listeners[].live_color), the forward's weights and stickiness as
    RV(load_balancer.listeners[].weights) and RV(load_balancer.listeners[].stickiness).
  - Read-only; supports check mode (it does the same there).
options:
  name:
    description:
      - Name of the load balancer.
    type: str
    required: true
  attributes:
    description:
      - Also read its attributes (one more call, C(DescribeLoadBalancerAttributes)) into
        RV(load_balancer.attributes), e.g. to stop a teardown on C(deletion_protection.enabled).
    type: bool
    default: false
author:
  - bluegreen.migration maintainers (@bluegreen)
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Read the load balancer of the environment with its listeners
  bluegreen.migration.elb_load_balancer_info:
    name: app-dev
  register: app_alb

- name: Show the live color (the tag of the listener that forwards)
  ansible.builtin.debug:
    msg: >-
      {{ app_alb.load_balancer.listeners | selectattr('live_color') | map(attribute='live_color') | first | default('none') }}
  when: app_alb.exists
"""

RETURN = r"""
exists:
  description: Whether the load balancer exists.
  returned: always
  type: bool
  sample: true
load_balancer:
  description: The load balancer (empty when it does not exist).
  returned: always
  type: dict
  contains:
    load_balancer_arn:
      description: ARN of the load balancer.
      type: str
      sample: arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/app-dev/0123456789abcdef
    load_balancer_name:
      description: Name of the load balancer.
      type: str
      sample: app-dev
    dns_name:
      description: Public DNS name.
      type: str
      sample: app-dev-123456789.us-east-1.elb.amazonaws.com
    scheme:
      description: C(internet-facing) or C(internal).
      type: str
      sample: internet-facing
    type:
      description: Type of the load balancer.
      type: str
      sample: application
    vpc_id:
      description: VPC of the load balancer.
      type: str
      sample: vpc-0123456789abcdef0
    state:
      description: State as AWS reports it.
      type: dict
      sample: {"code": "active"}
    ip_address_type:
      description: C(ipv4) or C(dualstack).
      type: str
      sample: ipv4
    subnets:
      description: Ids of its subnets (one per availability zone), sorted.
      type: list
      elements: str
      sample: ["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"]
    security_groups:
      description: Ids of its security groups, sorted.
      type: list
      elements: str
      sample: ["sg-0123456789abcdef0"]
    availability_zones:
      description: Availability zones with their subnet.
      type: list
      elements: dict
      sample: [{"zone_name": "us-east-1a", "subnet_id": "subnet-0123456789abcdef0"}]
    tags:
      description: Tags of the load balancer.
      type: dict
      sample: {"Name": "app-dev", "bluegreen:environment": "dev"}
    attributes:
      description: Its attributes as AWS answers them, keys and string values (with O(attributes=true) only).
      type: dict
      returned: when O(attributes=true) and it exists
      sample: {"deletion_protection.enabled": "false", "idle_timeout.timeout_seconds": "60"}
    listeners:
      description: Its listeners, sorted by port, as AWS describes them (snake_case), with their tags.
      type: list
      elements: dict
      contains:
        listener_arn:
          description: ARN of the listener.
          type: str
        port:
          description: Port of the listener.
          type: int
          sample: 443
        protocol:
          description: Protocol of the listener.
          type: str
          sample: HTTPS
        ssl_policy:
          description: Security policy (HTTPS listeners).
          type: str
          sample: ELBSecurityPolicy-TLS13-1-2-2021-06
        certificates:
          description: Certificates (HTTPS listeners).
          type: list
          elements: dict
          sample: [{"certificate_arn": "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d"}]
        default_actions:
          description: Default actions (C(forward_config) with every weight and the stickiness, C(redirect_config) ...).
          type: list
          elements: dict
          sample: [{"type": "forward", "forward_config": {"target_groups": [{"target_group_arn": "arn:...", "weight": 100}]}}]
        tags:
          description: Tags of the listener.
          type: dict
          sample: {"bluegreen:live-color": "blue"}
        live_color:
          description: Value of the listener tag C(bluegreen:live-color), null when not set.
          type: str
          sample: blue
        weights:
          description:
            - Target groups of the default forward action and their weights, sorted by ARN, as
              M(bluegreen.migration.elb_listener_weights) takes and returns them (a plain forward
              without C(forward_config) is weight 1); empty when the listener does not forward.
          type: list
          elements: dict
          sample: [{"target_group_arn": "arn:aws:elasticloadbalancing:...:targetgroup/app-blue-dev/1", "weight": 100}]
        stickiness:
          description:
            - Target group stickiness of the default forward action, in the shape of the
              O(bluegreen.migration.elb_listener_weights#module:stickiness) option (C(duration) only when enabled).
          type: dict
          sample: {"enabled": false}
"""

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError

from ansible_collections.bluegreen.migration.plugins.module_utils import elbv2
from ansible_collections.bluegreen.migration.plugins.module_utils.core import BlueGreenModule


def main():
    module = BlueGreenModule(argument_spec=dict(name=dict(type="str", required=True), attributes=dict(type="bool", default=False)), supports_check_mode=True)
    client = module.client("elbv2")
    try:
        balancer, listeners, tags = elbv2.read_load_balancer(client, module.params["name"])
        attributes = elbv2.describe_load_balancer_attributes(client, balancer["LoadBalancerArn"]) if balancer and module.params["attributes"] else None
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)
    found = elbv2.load_balancer_result(balancer, listeners, tags) if balancer else {}
    if attributes is not None:
        found["attributes"] = attributes
    module.exit_json(changed=False, exists=balancer is not None, load_balancer=found)


if __name__ == "__main__":
    main()
