#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: bluegreen.migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# ruff: noqa: E402  (Ansible module layout: imports follow DOCUMENTATION, EXAMPLES and RETURN)

DOCUMENTATION = r"""
module: iam_roles_info
short_description: Several IAM roles by name, with their trust policy, managed policies and inline policy documents
version_added: 0.1.0
description:
  - Reads IAM roles by name in one run, for each the role (trust policy, description, tags),
    the ARNs of its attached managed policies, and every inline policy with its document.
  - A role that does not exist is reported with C(exists=false) in RV(roles); it does not
    fail the module.
  - Made for roles that compare the live state with the wanted one and run the writers
    (M(amazon.aws.iam_role), M(amazon.aws.iam_policy)) only when something differs.
    M(amazon.aws.iam_role_info) reads one role per run and without the inline documents.
  - Read-only; supports check mode (it does the same there).
options:
  names:
    description:
      - Names of the roles to read.
    type: list
    elements: str
    required: true
notes:
  - API calls per existing role are C(GetRole), C(ListAttachedRolePolicies), C(ListRolePolicies)
    and one C(GetRolePolicy) per inline policy; a missing role costs one C(GetRole).
author:
  - bluegreen.migration maintainers (@bluegreen)
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Read the execution and task roles
  bluegreen.migration.iam_roles_info:
    names:
      - app-execution-dev
      - app-task-dev
  register: app_roles

- name: Show the managed policies of the execution role
  ansible.builtin.debug:
    var: app_roles.roles['app-execution-dev'].managed_policy_arns
"""

RETURN = r"""
roles:
  description: One entry per name asked, keyed by the role name.
  returned: always
  type: dict
  sample:
    app-task-dev:
      exists: true
      role_name: app-task-dev
      arn: arn:aws:iam::123456789012:role/app-task-dev
      path: /
      description: ECS task role of dev
      trust_policy: {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                     "Action": "sts:AssumeRole"}]}
      managed_policy_arns: []
      inline_policies: {}
      tags: {"Name": "app-task-dev", "bluegreen:environment": "dev"}
      max_session_duration: 3600
  contains:
    exists:
      description: Whether the role exists (the other keys are only set when it does).
      type: bool
    role_name:
      description: Name of the role.
      type: str
    arn:
      description: ARN of the role.
      type: str
    path:
      description: Path of the role.
      type: str
    description:
      description: Description of the role (empty when it has none).
      type: str
    trust_policy:
      description: The trust (assume role) policy document, as IAM holds it.
      type: dict
    managed_policy_arns:
      description: ARNs of the attached managed policies, sorted.
      type: list
      elements: str
    inline_policies:
      description: Inline policies, name to document.
      type: dict
    tags:
      description: Tags of the role.
      type: dict
    max_session_duration:
      description: Maximum session duration in seconds.
      type: int
"""

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError

from ansible_collections.bluegreen.migration.plugins.module_utils import iam
from ansible_collections.bluegreen.migration.plugins.module_utils.core import BlueGreenModule


def main():
    module = BlueGreenModule(argument_spec=dict(names=dict(type="list", elements="str", required=True)), supports_check_mode=True)
    client = module.client("iam")
    try:
        roles = {name: iam.find_role(client, name) for name in module.params["names"]}
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)
    module.exit_json(changed=False, roles=roles)


if __name__ == "__main__":
    main()
