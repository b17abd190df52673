#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: bluegreen.migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# ruff: noqa: E402  (Ansible module layout: imports follow DOCUMENTATION, EXAMPLES and RETURN)

DOCUMENTATION = r"""
module: iam_roles_plan
short_description: Read IAM roles with their policies, and plan what differs from the wanted roles
version_added: 0.1.0
description:
  - Reads the roles by name in one run, as M(bluegreen.migration.iam_roles_info) does (trust
    policy, description, tags, attached managed policies, inline policy documents), and
    compares them with the wanted ones.
  - Returns the plan (each change with the fields before and after, and why) and what the
    writers have to do, in RV(apply) - the roles M(amazon.aws.iam_role) has to create or fix,
    the inline policies M(amazon.aws.iam_policy) has to put, and the inline policies to remove
    (every one a role has that it is not given here).
  - Read-only. In check mode it reports C(changed) when the plan has changes, so that
    C(--check --diff) shows them before and after; otherwise it never does.
author:
  - bluegreen.migration maintainers (@bluegreen)
extends_documentation_fragment:
  - bluegreen.migration.iam_roles
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Read the task role and plan the changes
  bluegreen.migration.iam_roles_plan:
    roles:
      - name: app-task-dev-us-east-1
        description: ECS task role of dev
        trust_policy:
          Version: "2012-10-17"
          Statement:
            - {Effect: Allow, Principal: {Service: ecs-tasks.amazonaws.com}, Action: "sts:AssumeRole"}
        tags: {Name: app-task-dev-us-east-1}
  register: app_roles

- name: Create or fix the role only when the plan says so
  amazon.aws.iam_role:
    name: app-task-dev-us-east-1
    assume_role_policy_document: "{{ app_roles.roles['app-task-dev-us-east-1'].trust_policy | to_json }}"
  when: "'app-task-dev-us-east-1' in app_roles.apply.roles"
"""

RETURN = r"""
roles:
  description: Each role as read, keyed by name (as M(bluegreen.migration.iam_roles_info) returns it).
  returned: always
  type: dict
changes:
  description: The plan, one entry per role or inline policy to create, update or delete.
  returned: always
  type: list
  elements: dict
  sample:
    - resource: iam inline policy
      name: app-task-dev-us-east-1/added-by-hand
      action: delete
      fields: {"document": {"before": {"Version": "2012-10-17", "Statement": []}, "after": null}}
      reason: not granted by the role
lines:
  description: The plan as one readable line per change.
  returned: always
  type: list
  elements: str
writes:
  description:
    - Whether any writer has something to do - a role, an inline policy to put or remove.
    - The role runs its writers only then, so a converged re-run runs none of them.
  returned: always
  type: bool
apply:
  description: What the writers have to do.
  returned: always
  type: dict
  contains:
    roles:
      description: Names of the roles to create or fix.
      type: list
      elements: str
    policies:
      description: Inline policies to put, each with C(role), C(name), C(document) and C(role_exists).
      type: list
      elements: dict
    remove:
      description: Inline policies to remove, each with C(role) and C(name).
      type: list
      elements: dict
"""

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError

from ansible_collections.bluegreen.migration.plugins.module_utils import iam
from ansible_collections.bluegreen.migration.plugins.module_utils.core import BlueGreenModule
from ansible_collections.bluegreen.migration.plugins.module_utils.plan import anything_to_apply


def main():
    module = BlueGreenModule(argument_spec=dict(roles=dict(type="list", elements="dict", default=[], options=iam.ROLE_OPTIONS)), supports_check_mode=True)
    client = module.client("iam")
    wanted = module.params["roles"]
    try:
        found = iam.read_roles(client, wanted)
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)
    changes, apply = iam.plan_roles(wanted, found)
    module.exit_with_plan(changes, roles=found, apply=apply, writes=anything_to_apply(apply))


if __name__ == "__main__":
    main()
