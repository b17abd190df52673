#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: bluegreen.migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# ruff: noqa: E402  (Ansible module layout: imports follow DOCUMENTATION, EXAMPLES and RETURN)

DOCUMENTATION = r"""
module: elb_listener_weights
short_description: Set the weighted forward of an ALB listener (blue-green traffic shifting)
version_added: 0.1.0
description:
  - Sets the default action of an Application Load Balancer listener to C(forward) with a
    complete C(ForwardConfig) (every target group with its weight, stickiness), so that
    AWS and the module agree on the exact configuration and a re-run changes nothing.
  - Weights are compared order-insensitively with what the listener has; the listener is
    only modified when they (or the stickiness) differ.
  - After a change the listener is described again and the module fails if AWS does not
    report the requested weights.
  - Optionally records the live color as the listener tag C(bluegreen:live-color).
  - Supports check mode and diff mode (the diff shows the weights before and after).
options:
  listener_arn:
    description:
      - ARN of the listener.
    type: str
    required: true
  weights:
    description:
      - Target groups to forward to and their weights (0-999). A target group of the
        listener that is not listed is removed from the forward.
      - At least one weight must be above 0, so a listener never forwards to nothing.
    type: list
    elements: dict
    required: true
    suboptions:
      target_group_arn:
        description: ARN of the target group.
        type: str
        required: true
      weight:
        description: Relative weight of the target group.
        type: int
        required: true
  stickiness:
    description:
      - Target group stickiness of the forward action.
    type: dict
    default: {}
    suboptions:
      enabled:
        description: Whether a client sticks to one target group.
        type: bool
        default: false
      duration:
        description: Seconds a client sticks to a target group (only used when enabled).
        type: int
        default: 3600
  live_color:
    description:
      - When set, the listener tag C(bluegreen:live-color) is set to this value.
      - This tag is never purged by O(purge_tags).
    type: str
author:
  - bluegreen.migration maintainers (@bluegreen)
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Shift 10 % of the traffic to green
  bluegreen.migration.elb_listener_weights:
    listener_arn: "{{ bluegreen_ecs_service.listener_arn }}"
    weights:
      - target_group_arn: "{{ bluegreen_ecs_service.target_groups.blue }}"
        weight: 90
      - target_group_arn: "{{ bluegreen_ecs_service.target_groups.green }}"
        weight: 10

- name: Green is live
  bluegreen.migration.elb_listener_weights:
    listener_arn: "{{ bluegreen_ecs_service.listener_arn }}"
    weights:
      - target_group_arn: "{{ bluegreen_ecs_service.target_groups.blue }}"
        weight: 0
      - target_group_arn: "{{ bluegreen_ecs_service.target_groups.green }}"
        weight: 100
    live_color: green
"""

RETURN = r"""
listener_arn:
  description: ARN of the listener.
  returned: always
  type: str
  sample: arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/bluegreen-dev/0123456789abcdef/0123456789abcdef
weights:
  description: Target groups of the forward action and their weights, sorted by ARN (as AWS reports them after the run).
  returned: always
  type: list
  elements: dict
  contains:
    target_group_arn:
      description: ARN of the target group.
      type: str
    weight:
      description: Weight of the target group.
      type: int
  sample: [{"target_group_arn": "arn:aws:elasticloadbalancing:...:targetgroup/blue/1", "weight": 90}]
stickiness:
  description: Stickiness of the forward action.
  returned: always
  type: dict
  sample: {"enabled": false}
live_color:
  description: Value of the listener tag C(bluegreen:live-color) (null when not set).
  returned: always
  type: str
  sample: blue
tags:
  description: Tags of the listener.
  returned: always
  type: dict
  sample: {"bluegreen:live-color": "blue"}
"""

import time

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError

from ansible_collections.bluegreen.migration.plugins.module_utils import elbv2
from ansible_collections.bluegreen.migration.plugins.module_utils.core import BlueGreenModule
from ansible_collections.bluegreen.migration.plugins.module_utils.diff import apply_tag_plan
from ansible_collections.bluegreen.migration.plugins.module_utils.diff import plan_tags

LIVE_COLOR_TAG = "bluegreen:live-color"


def find_listener(client, arn):
    listener = elbv2.describe_listener(client, arn)
    if listener is None:
        return None
    weights, stickiness = elbv2.forward_of(listener)
    tags = elbv2.describe_tags(client, arn)
    return {"listener_arn": arn, "weights": weights, "stickiness": stickiness, "live_color": tags.get(LIVE_COLOR_TAG), "tags": tags}


def _desired(params):
    weights = sorted(({"target_group_arn": w["target_group_arn"], "weight": w["weight"]} for w in params["weights"]), key=lambda w: w["target_group_arn"])
    stickiness = {"enabled": params["stickiness"]["enabled"]}
    if stickiness["enabled"]:
        stickiness["duration"] = params["stickiness"]["duration"]
    return weights, stickiness


def _action(weights, stickiness):
    sticky = {"Enabled": stickiness["enabled"]}
    if stickiness["enabled"]:
        sticky["DurationSeconds"] = stickiness["duration"]
    return [
        {
            "Type": "forward",
            "ForwardConfig": {
                "TargetGroups": [{"TargetGroupArn": w["target_group_arn"], "Weight": w["weight"]} for w in weights],
                "TargetGroupStickinessConfig": sticky,
            },
        }
    ]


def _validate(module, weights):
    arns = [w["target_group_arn"] for w in weights]
    if not weights:
        module.fail_json(msg="weights must name at least one target group")
    if len(set(arns)) != len(arns):
        module.fail_json(msg=f"weights lists a target group more than once: {arns}")
    bad = [w for w in weights if not 0 <= w["weight"] <= 999]
    if bad:
        module.fail_json(msg=f"weights must be between 0 and 999: {bad}")
    if sum(w["weight"] for w in weights) == 0:
        module.fail_json(msg="every weight is 0: the listener would forward to no target group")


def _verify(module, client, arn, weights, stickiness):
    """Describe the listener again until AWS reports what was asked (a few quick tries)."""
    seen = None
    for attempt in range(5):
        seen = find_listener(client, arn)
        if seen and seen["weights"] == weights and seen["stickiness"] == stickiness:
            return seen
        time.sleep(1 + attempt)
    module.fail_json(
        msg=f"listener {arn} was modified but AWS reports weights {seen and seen['weights']} and stickiness "
        f"{seen and seen['stickiness']}, not the requested {weights} / {stickiness}",
        listener_arn=arn,
    )


def ensure_weights(module, client, current):
    params = module.params
    arn = params["listener_arn"]
    weights, stickiness = _desired(params)
    _validate(module, weights)

    desired_tags = params["tags"]
    if params["live_color"] is not None:
        desired_tags = dict(desired_tags if desired_tags is not None else current["tags"])
        desired_tags[LIVE_COLOR_TAG] = params["live_color"]
    purge = params["purge_tags"] and params["tags"] is not None
    to_set, to_unset = plan_tags(current["tags"], desired_tags, purge, keep=(LIVE_COLOR_TAG,))

    before = {"weights": current["weights"], "stickiness": current["stickiness"], "tags": current["tags"]}
    after_tags = apply_tag_plan(current["tags"], to_set, to_unset)
    after = {"weights": weights, "stickiness": stickiness, "tags": after_tags}
    forward_changed = (weights, stickiness) != (current["weights"], current["stickiness"])
    changed = forward_changed or bool(to_set or to_unset)

    result = dict(current)
    result.update(after, live_color=after_tags.get(LIVE_COLOR_TAG))
    if changed and not module.check_mode:
        if forward_changed:
            elbv2.modify_listener_default_actions(client, arn, _action(weights, stickiness))
        elbv2.update_tags(client, arn, to_set, to_unset)
        result = _verify(module, client, arn, weights, stickiness)
    module.exit_with_diff(changed, before, after, **result)


def main():
    argument_spec = dict(
        listener_arn=dict(type="str", required=True),
        weights=dict(
            type="list",
            elements="dict",
            required=True,
            options=dict(target_group_arn=dict(type="str", required=True), weight=dict(type="int", required=True)),
        ),
        stickiness=dict(
            type="dict",
            default={},
            apply_defaults=True,
            options=dict(enabled=dict(type="bool", default=False), duration=dict(type="int", default=3600)),
        ),
        live_color=dict(type="str"),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
    )
    module = BlueGreenModule(argument_spec=argument_spec, supports_check_mode=True)
    client = module.client("elbv2")
    try:
        current = find_listener(client, module.params["listener_arn"])
        if current is None:
            module.fail_json(msg=f"listener {module.params['listener_arn']} does not exist")
        ensure_weights(module, client, current)
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)


if __name__ == "__main__":
    main()
