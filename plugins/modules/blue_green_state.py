#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: bluegreen.migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# ruff: noqa: E402  (Ansible module layout: imports follow DOCUMENTATION, EXAMPLES and RETURN)

DOCUMENTATION = r"""
module: blue_green_state
short_description: The blue-green state of one environment, read once from AWS
version_added: 0.1.0
description:
  - Reads what every blue-green operation (rollout, rollback, status, migrate) starts from, in
    one process and with names from the collection's naming catalogue; there is no state file.
  - The environment's load balancer by name with its listeners and their tags; the listener that
    forwards by weight, its weight per color, its stickiness and its C(bluegreen:live-color) tag;
    the blue and green ECS services with their counts and task definitions (the one they run and
    the latest revision of their family); on request the target health of each color and the
    CloudWatch alarms of each color and of the environment.
  - Fails, with the reason, when the environment cannot be operated (no load balancer, one
    that belongs to another environment, a missing service or target group), unless
    O(require_complete=false), which returns the reason in RV(state.problem) instead.
  - Read-only; supports check mode (it does the same there).
options:
  environment_suffix:
    description:
      - Suffix of the environment; every name is derived from it and the region.
    type: str
    required: true
  alarm_keys:
    description:
      - Catalogue keys of the per-color alarm kinds (the names are C(<key>_blue) and C(<key>_green)
        in the naming catalogue), as the ecs_service role defines them; the environment's other alarms are
        read too, under C(environment) in RV(state.alarms).
    type: list
    elements: str
    default: []
  include_alarms:
    description:
      - Read the alarms (one C(DescribeAlarms) call per 100 names).
    type: bool
    default: true
  include_task_definitions:
    description:
      - Read the task definition of each service and the latest revision of its family.
    type: bool
    default: true
  include_target_health:
    description:
      - Read the target health of both colors' target groups.
    type: bool
    default: false
  require_complete:
    description:
      - Fail when the environment is not deployed, not its own or incomplete.
    type: bool
    default: true
author:
  - bluegreen.migration maintainers (@bluegreen)
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Read the blue-green state of the environment
  bluegreen.migration.blue_green_state:
    environment_suffix: dev
    alarm_keys: [ecs_alarm_cpu, alb_alarm_unhealthy, alb_alarm_5xx]
    include_target_health: true
  register: app_state

- name: Show the live color and the weights
  ansible.builtin.debug:
    msg: "live {{ app_state.state.live_color }}, weights {{ app_state.state.weights }}"
"""

RETURN = r"""
state:
  description: The blue-green state of the environment.
  returned: always
  type: dict
  contains:
    environment:
      description: The environment suffix.
      type: str
      sample: dev
    deployed:
      description: Whether the environment's load balancer exists and carries its C(bluegreen:environment) tag.
      type: bool
    complete:
      description: Whether it can be operated (deployed, a weighted listener, both services and target groups).
      type: bool
    problem:
      description: Why it cannot be operated; empty when it can.
      type: str
      sample: "Load balancer app-dev not found in us-east-1: deploy the environment with site.yml first"
    names:
      description: Every AWS name of the environment (the naming catalogue).
      type: dict
    cluster:
      description: Name of the ECS cluster.
      type: str
      sample: app-dev
    alb_dns_name:
      description: DNS name of the load balancer.
      type: str
    listener_arn:
      description: ARN of the listener that forwards by weight.
      type: str
    listener_port:
      description: Its port.
      type: int
      sample: 80
    listener_protocol:
      description: Its protocol (C(HTTP), or C(HTTPS) with a certificate).
      type: str
    listener_tags:
      description: Its tags.
      type: dict
    paused_at:
      description: When a rollout paused after a step (epoch seconds, the listener's C(bluegreen:paused-at) tag); 0 when not paused.
      type: int
    test_listener:
      description:
        - The test listener, which forwards to one color (the idle one) alone; empty when the load balancer has none
          (deployed before it existed; re-run site.yml).
      type: dict
      contains:
        listener_arn:
          description: Its ARN.
          type: str
        port:
          description: Its port.
          type: int
          sample: 8080
        protocol:
          description: Its protocol.
          type: str
        color:
          description: The color it forwards to.
          type: str
        target_group_arn:
          description: The target group it forwards to.
          type: str
        url:
          description: Its URL on the load balancer's DNS name.
          type: str
    stickiness:
      description: Its target group stickiness, in the shape M(bluegreen.migration.elb_listener_weights) takes.
      type: dict
      sample: {"enabled": false}
    live_color:
      description: The color the listener's C(bluegreen:live-color) tag names (blue when not tagged yet).
      type: str
      sample: blue
    idle_color:
      description: The other color.
      type: str
      sample: green
    target_groups:
      description: ARN of each color's target group among those the listener forwards to (empty when it does not).
      type: dict
    weights:
      description: Weight of each color on the listener.
      type: dict
      sample: {"blue": 100, "green": 0}
    colors_with_traffic:
      description: The colors with a weight above 0.
      type: list
      elements: str
      sample: [blue]
    rollback:
      description:
        - Where a rollback would send the traffic (null when the environment is incomplete), decided from the
          weights and the listener's C(bluegreen:rollback-to) tag, which a promotion sets to the retired color and
          its task definition and an abort or a rollback sets to C(none).
        - C(action) is C(abort) (a rollout in progress, back to the live color), C(previous) (back to the color the
          last promotion retired, while it still runs the recorded revision) or C(none) (nothing to return to).
        - C(to) and C(retired) are colors (C(retired) null with C(none)), C(reason) says why in words.
      type: dict
      sample: {"action": "previous", "to": "green", "retired": "blue", "reason": "previous color"}
    busy_without_traffic:
      description: Services of the colors without traffic that still run tasks (service_name, running_count, desired_count).
      type: list
      elements: dict
      sample: [{"service_name": "app-green-dev", "running_count": 2, "desired_count": 0}]
    forwarded:
      description: Every target group the listener forwards to, by name, with its weight.
      type: dict
      sample: {"app-blue-dev": 100, "app-green-dev": 0}
    services:
      description:
        - Each color's service as M(bluegreen.migration.ecs_service_info) returns it (null when missing).
      type: dict
    missing_services:
      description: Names of the services that do not exist.
      type: list
      elements: str
    target_health:
      description: Per color, C(healthy), C(unhealthy) and C(total) target counts and C(states) (with O(include_target_health)).
      type: dict
      sample: {"blue": {"healthy": 2, "unhealthy": 0, "total": 2, "states": {"healthy": 2}}}
    alarms:
      description:
        - Per color and for C(environment), C(alarms) (name, state, reason; state C(missing) when the
          alarm does not exist) with the C(firing) and C(missing) names (with O(include_alarms)).
      type: dict
      sample: {"green": {"alarms": [{"name": "app-green-cpu-dev", "state": "OK", "reason": ""}], "firing": [], "missing": []}}
"""

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError

from ansible_collections.bluegreen.migration.plugins.module_utils.bluegreen_state import read_state
from ansible_collections.bluegreen.migration.plugins.module_utils.core import BlueGreenModule
from ansible_collections.bluegreen.migration.plugins.module_utils.naming import NamingError
from ansible_collections.bluegreen.migration.plugins.module_utils.naming import resource_names


def main():
    argument_spec = dict(
        environment_suffix=dict(type="str", required=True),
        alarm_keys=dict(type="list", elements="str", default=[], no_log=False),
        include_alarms=dict(type="bool", default=True),
        include_task_definitions=dict(type="bool", default=True),
        include_target_health=dict(type="bool", default=False),
        require_complete=dict(type="bool", default=True),
    )
    module = BlueGreenModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    try:
        names = resource_names(params["environment_suffix"], module.region)
    except NamingError as e:
        module.fail_json(msg=str(e))
    unknown = [key for key in params["alarm_keys"] if "%s_blue" % key not in names or "%s_green" % key not in names]
    if unknown:
        module.fail_json(msg="alarm_keys: %s not per-color alarm kinds of the naming catalogue" % ", ".join(unknown))
    clients = dict((service, module.client(service)) for service in ("elbv2", "ecs", "cloudwatch"))
    try:
        state = read_state(
            clients,
            params["environment_suffix"],
            module.region,
            alarm_keys=params["alarm_keys"],
            include_task_definitions=params["include_task_definitions"],
            include_target_health=params["include_target_health"],
            include_alarms=params["include_alarms"],
        )
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)
    if params["require_complete"] and state["problem"]:
        module.fail_json(msg=state["problem"], state=state)
    module.exit_json(changed=False, state=state)


if __name__ == "__main__":
    main()
