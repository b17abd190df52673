#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: bluegreen.migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# ruff: noqa: E402  (Ansible module layout: imports follow DOCUMENTATION, EXAMPLES and RETURN)

DOCUMENTATION = r"""
module: elb_listener_rule
short_description: A header rule of an ALB listener that forwards to one target group (a header canary)
version_added: 0.2.0
description:
  - Manages the one rule of an Application Load Balancer listener whose condition is the HTTP
    header O(header_name); requests carrying it with one of O(header_values) are forwarded to
    O(target_group_arn), before the listener's default action (a rule always is).
  - The rule is found by its header name (case-insensitive, as ALB compares header names), so a
    re-run changes nothing and O(state=absent) needs the name alone.
  - A new rule takes O(priority), else the lowest priority no rule of the listener has (AWS
    refuses two rules with one priority on a listener). An existing rule keeps its priority.
  - A priority taken by a rule made after the listener's rules were read (AWS answers
    C(PriorityInUse)) - the rules are read again - when a rule of O(header_name) is there now
    (another run's, or this one's create answered late and sent again), it is the one managed
    and reported as created; else the next free priority is tried, skipping those refused,
    three times at most. A given O(priority) that another rule holds fails naming that rule,
    before any change (in check mode too).
  - The target group must be one the listener's load balancer already forwards to (AWS refuses
    a target group of another load balancer).
  - Supports check mode and diff mode.
options:
  listener_arn:
    description: ARN of the listener.
    type: str
    required: true
  header_name:
    description: The HTTP header the rule matches (at most 40 characters).
    type: str
    required: true
  header_values:
    description: Values of the header that match (exact, case-insensitive as ALB compares them). Required with O(state=present).
    type: list
    elements: str
  target_group_arn:
    description: Target group the matching requests go to. Required with O(state=present).
    type: str
  priority:
    description: Priority of a new rule (1-50000); the lowest free one when not given.
    type: int
  tags:
    description: Tags of a new rule (the rule lives only as long as a rollout; an existing rule's tags are left as they are).
    type: dict
    aliases: [resource_tags]
  state:
    description: Whether the rule exists.
    type: str
    choices: [present, absent]
    default: present
author:
  - bluegreen.migration maintainers (@bluegreen)
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Requests with X-Canary 1 go to green
  bluegreen.migration.elb_listener_rule:
    listener_arn: "{{ bluegreen_ecs_service.listener_arn }}"
    header_name: X-Canary
    header_values: ["1"]
    target_group_arn: "{{ bluegreen_ecs_service.target_groups.green }}"
    tags:
      bluegreen:environment: dev

- name: No header canary any more
  bluegreen.migration.elb_listener_rule:
    listener_arn: "{{ bluegreen_ecs_service.listener_arn }}"
    header_name: X-Canary
    state: absent
"""

RETURN = r"""
rule_arn:
  description: ARN of the rule (empty when there is none).
  returned: always
  type: str
  sample: arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/app-dev/0123456789abcdef/0123456789abcdef/0123456789abcdef
priority:
  description: Its priority (0 when there is no rule).
  returned: always
  type: int
  sample: 1
header_values:
  description: The header values it matches.
  returned: always
  type: list
  elements: str
  sample: ["1"]
target_group_arn:
  description: The target group it forwards to (empty when there is no rule).
  returned: always
  type: str
"""

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError

from ansible_collections.bluegreen.migration.plugins.module_utils import elbv2
from ansible_collections.bluegreen.migration.plugins.module_utils.core import BlueGreenModule


def find_rule(client, listener_arn, header_name):
    """(the listener's rule matching on `header_name`, every rule of the listener)."""
    rules = elbv2.describe_rules(client, listener_arn)
    for rule in rules:
        name, dummy = elbv2.header_of(rule)
        if name is not None and name.lower() == header_name.lower() and not rule.get("IsDefault"):
            return rule, rules
    return None, rules


def shown(rule):
    if rule is None:
        return {}
    name, values = elbv2.header_of(rule)
    return {"priority": int(rule["Priority"]), "header_name": name, "header_values": values, "target_group_arn": elbv2.rule_target(rule) or ""}


def result_of(rule):
    found = shown(rule)
    return {
        "rule_arn": rule["RuleArn"] if rule else "",
        "priority": found.get("priority", 0),
        "header_values": found.get("header_values", []),
        "target_group_arn": found.get("target_group_arn", ""),
    }


def _conditions(params):
    return [{"Field": "http-header", "HttpHeaderConfig": {"HttpHeaderName": params["header_name"], "Values": list(params["header_values"])}}]


def wanted_of(params):
    """The rule as the parameters ask for it, in the shape shown() gives."""
    return {"header_name": params["header_name"], "header_values": list(params["header_values"]), "target_group_arn": params["target_group_arn"]}


def _actions(params):
    return [{"Type": "forward", "TargetGroupArn": params["target_group_arn"]}]


# Creates tried when AWS answers that a rule made since the read took the priority.
CREATE_ATTEMPTS = 3


def refuse_taken_priority(module, rules, priority):
    """Fail when the given `priority` is held by another rule of the listener."""
    holder = elbv2.rule_at(rules, priority)
    if holder is not None:
        name, values = elbv2.header_of(holder)
        condition = ("header %s %s" % (name, values)) if name else "conditions %s" % [c.get("Field") for c in holder.get("Conditions") or []]
        module.fail_json(msg="priority %s of listener %s is taken by rule %s (%s): give another priority, or none for the lowest free one"
                         % (priority, module.params["listener_arn"], holder["RuleArn"], condition))


def create(module, client, rules):
    """The new rule (created, or found made meanwhile), and whether it was found."""
    params = module.params
    refused = []
    while len(refused) < CREATE_ATTEMPTS:
        # A listing that does not show the rule holding a refused priority yet: not that one again.
        priority = params["priority"] or elbv2.free_priority(rules, taken=refused)
        rule = elbv2.create_rule(client, params["listener_arn"], priority, _conditions(params), _actions(params), params["tags"])
        if rule is not None:
            return rule, False
        refused.append(priority)
        current, rules = find_rule(client, params["listener_arn"], params["header_name"])
        if current is not None:
            return current, True
        if params["priority"]:
            refuse_taken_priority(module, rules, priority)
            module.fail_json(msg="priority %s of listener %s was taken since its rules were read (AWS: PriorityInUse): give another priority, "
                             "or none for the lowest free one" % (priority, params["listener_arn"]))
    module.fail_json(msg="AWS refused priorities %s of listener %s as taken: rules are being added to it meanwhile; run again"
                     % (", ".join(str(p) for p in refused), params["listener_arn"]))
    return None, False


def ensure_present(module, client, current, rules):
    params = module.params
    for key in ("header_values", "target_group_arn"):
        if not params[key]:
            module.fail_json(msg="%s is required with state=present" % key)
    before = shown(current)
    wanted = wanted_of(params)
    if current is None:
        if params["priority"]:
            refuse_taken_priority(module, rules, params["priority"])
        priority = params["priority"] or elbv2.free_priority(rules)
        after = dict(wanted, priority=priority)
        if module.check_mode:
            module.exit_with_diff(True, before, after, rule_arn="", priority=priority, header_values=wanted["header_values"],
                                  target_group_arn=wanted["target_group_arn"])
        rule, found = create(module, client, rules)
        if not found:
            module.exit_with_diff(True, before, shown(rule), **result_of(rule))
        # A rule of the header made since the read (another run's, or this create's answered
        # late and sent again): it was missing, so the run reports it created, and fixes it.
        ensure_found(module, client, rule, changed=True, diff_before={})
    ensure_found(module, client, current)


def ensure_found(module, client, current, changed=False, diff_before=None):
    """The rule of the header exists: modified when its values or target group differ."""
    params = module.params
    before = shown(current)
    diff_before = before if diff_before is None else diff_before
    wanted = wanted_of(params)
    have = dict((k, before[k]) for k in ("header_values", "target_group_arn"))
    have["header_name"] = params["header_name"] if before["header_name"].lower() == params["header_name"].lower() else before["header_name"]
    if have == wanted:
        module.exit_with_diff(changed, diff_before, before, **result_of(current))
    after = dict(wanted, priority=before["priority"])
    if module.check_mode:
        planned = dict(result_of(current), header_values=wanted["header_values"], target_group_arn=wanted["target_group_arn"])
        module.exit_with_diff(True, diff_before, after, **planned)
    rule = elbv2.modify_rule(client, current["RuleArn"], _conditions(params), _actions(params))
    module.exit_with_diff(True, diff_before, shown(rule), **result_of(rule))


def ensure_absent(module, client, current):
    if current is None:
        module.exit_with_diff(False, {}, {}, **result_of(None))
    if not module.check_mode:
        elbv2.delete_rule(client, current["RuleArn"])
    module.exit_with_diff(True, shown(current), {}, **result_of(None))


def main():
    argument_spec = dict(
        listener_arn=dict(type="str", required=True),
        header_name=dict(type="str", required=True),
        header_values=dict(type="list", elements="str"),
        target_group_arn=dict(type="str"),
        priority=dict(type="int"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        tags=dict(type="dict", aliases=["resource_tags"]),
    )
    module = BlueGreenModule(argument_spec=argument_spec, supports_check_mode=True)
    client = module.client("elbv2")
    try:
        current, rules = find_rule(client, module.params["listener_arn"], module.params["header_name"])
        if module.params["state"] == "absent":
            ensure_absent(module, client, current)
        else:
            ensure_present(module, client, current, rules)
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)


if __name__ == "__main__":
    main()
