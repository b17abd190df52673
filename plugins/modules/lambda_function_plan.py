#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: bluegreen.migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# ruff: noqa: E402  (Ansible module layout: imports follow DOCUMENTATION, EXAMPLES and RETURN)

DOCUMENTATION = r"""
module: lambda_function_plan
short_description: Read a Lambda function, its log group and its execution roles, and plan what differs
version_added: 0.1.0
description:
  - Reads, in one run, the function (one C(GetFunction) - its configuration, the SHA-256 of its
    code and its tags), its log group (C(DescribeLogGroups), C(ListTagsLogGroup)) and, when
    O(roles) is given, the roles as M(bluegreen.migration.iam_roles_plan) reads them.
  - Compares them with what M(amazon.aws.lambda), M(amazon.aws.cloudwatchlogs_log_group),
    M(amazon.aws.iam_role) and M(amazon.aws.iam_policy) would set, and returns the plan (each
    change with the fields before and after, and why) and what those writers have to do, in
    RV(apply).
  - The function's role is compared by name (its ARN follows from the name). The log group's KMS
    key is set on create only, as M(amazon.aws.cloudwatchlogs_log_group) does.
  - Read-only. In check mode it reports C(changed) when the plan has changes, so that
    C(--check --diff) shows them before and after; otherwise it never does.
options:
  function:
    description: The wanted function.
    type: dict
    required: true
    suboptions:
      name:
        description: Name of the function.
        type: str
        required: true
      description:
        description: Its description.
        type: str
        default: ""
      runtime:
        description: Its runtime.
        type: str
        required: true
      handler:
        description: Its handler (C(<module>.<function>)).
        type: str
        required: true
      role:
        description: Its execution role, by name or ARN.
        type: str
        required: true
      memory_size:
        description: Memory in MB.
        type: int
        required: true
      timeout:
        description: Seconds an invocation may run.
        type: int
        required: true
      vpc_subnet_ids:
        description: Subnets of the function in a VPC.
        type: list
        elements: str
        default: []
      vpc_security_group_ids:
        description: Security groups of the function in a VPC.
        type: list
        elements: str
        default: []
      environment:
        description: Its environment variables (compared as strings, as Lambda stores them).
        type: dict
        default: {}
      code_sha256:
        description: Base64 SHA-256 of the deployment package, as Lambda reports C(CodeSha256).
        type: str
        required: true
      tags:
        description: Its tags (all of them).
        type: dict
        default: {}
  log_group:
    description: The function's log group, compared when given.
    type: dict
    suboptions:
      name:
        description: Name of the log group.
        type: str
        required: true
      retention:
        description: Days the logs are kept.
        type: int
      kms_key_id:
        description: KMS key of the log group (on create only).
        type: str
        default: ""
      tags:
        description: Its tags (all of them).
        type: dict
        default: {}
author:
  - bluegreen.migration maintainers (@bluegreen)
extends_documentation_fragment:
  - bluegreen.migration.iam_roles
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Read the function and its log group, and plan the changes
  bluegreen.migration.lambda_function_plan:
    function:
      name: migrator-dev
      runtime: python3.12
      handler: index.handler
      role: migrator-dev-us-east-1
      memory_size: 512
      timeout: 300
      code_sha256: "{{ package.code_sha256 }}"
      tags: {Name: migrator-dev}
    log_group:
      name: /aws/lambda/migrator-dev
      retention: 7
  register: migrator_plan

- name: Write the function only when the plan says so
  amazon.aws.lambda:
    name: migrator-dev
    zip_file: "{{ package.path }}"
  when: migrator_plan.apply.function
"""

RETURN = r"""
function:
  description: The function as read (C(configuration) in snake case, as M(amazon.aws.lambda) returns it, and C(tags)); empty when there is none.
  returned: always
  type: dict
  sample: {"configuration": {"function_arn": "arn:aws:lambda:us-east-1:123456789012:function:migrator-dev", "code_sha256": "q1w2..."}, "tags": {}}
log_group:
  description: The log group as read (C(name), C(arn), C(retention), C(kms_key_id), C(tags)); empty when there is none or O(log_group) is not given.
  returned: always
  type: dict
roles:
  description: Each role of O(roles) as read, keyed by name (as M(bluegreen.migration.iam_roles_info) returns it).
  returned: always
  type: dict
changes:
  description: The plan, one entry per resource to create or update.
  returned: always
  type: list
  elements: dict
  sample:
    - resource: lambda function
      name: migrator-dev
      action: update
      fields: {"memory_size": {"before": 256, "after": 512}}
      reason: differs from the inputs
lines:
  description: The plan as one readable line per change.
  returned: always
  type: list
  elements: str
writes:
  description:
    - Whether any writer has something to do - a role, an inline policy to put or remove, the log group or the function.
    - The role runs its writers only then, so a converged re-run runs none of them.
  returned: always
  type: bool
apply:
  description: What the writers have to do.
  returned: always
  type: dict
  contains:
    function:
      description: Whether the function has to be created or updated.
      type: bool
    function_replace:
      description:
        - Whether the function has to be deleted first - Lambda could not set it up (C(State) C(Failed), for example no free
          address in its subnets) and no update repairs it; the plan's change names C(StateReasonCode) and C(StateReason).
      type: bool
    log_group:
      description: Whether the log group has to be created or updated.
      type: bool
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

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError

from ansible_collections.bluegreen.migration.plugins.module_utils import awslambda
from ansible_collections.bluegreen.migration.plugins.module_utils import iam
from ansible_collections.bluegreen.migration.plugins.module_utils import logs
from ansible_collections.bluegreen.migration.plugins.module_utils.core import BlueGreenModule
from ansible_collections.bluegreen.migration.plugins.module_utils.plan import anything_to_apply

FUNCTION_OPTIONS = dict(
    name=dict(type="str", required=True),
    description=dict(type="str", default=""),
    runtime=dict(type="str", required=True),
    handler=dict(type="str", required=True),
    role=dict(type="str", required=True),
    memory_size=dict(type="int", required=True),
    timeout=dict(type="int", required=True),
    vpc_subnet_ids=dict(type="list", elements="str", default=[]),
    vpc_security_group_ids=dict(type="list", elements="str", default=[]),
    environment=dict(type="dict", default={}),
    code_sha256=dict(type="str", required=True),
    tags=dict(type="dict", default={}),
)
LOG_GROUP_OPTIONS = dict(
    name=dict(type="str", required=True),
    retention=dict(type="int"),
    kms_key_id=dict(type="str", default=""),
    tags=dict(type="dict", default={}),
)


def function_view(answer):
    """GetFunction's answer as amazon.aws.lambda returns a function (no code location)."""
    if answer is None:
        return {}
    return {"configuration": camel_dict_to_snake_dict(answer.get("Configuration") or {}), "tags": answer.get("Tags") or {}}


def main():
    argument_spec = dict(
        function=dict(type="dict", required=True, options=FUNCTION_OPTIONS),
        log_group=dict(type="dict", options=LOG_GROUP_OPTIONS),
        roles=dict(type="list", elements="dict", default=[], options=iam.ROLE_OPTIONS),
    )
    module = BlueGreenModule(argument_spec=argument_spec, supports_check_mode=True)
    p = module.params
    try:
        roles = iam.read_roles(module.client("iam"), p["roles"]) if p["roles"] else {}
        group = logs.read_log_group(module.client("logs"), p["log_group"]["name"]) if p["log_group"] else None
        answer = awslambda.get_function(module.client("lambda"), p["function"]["name"])
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)
    changes, apply = iam.plan_roles(p["roles"], roles)
    apply["log_group"] = False
    if p["log_group"]:
        group_changes, apply["log_group"] = logs.plan_log_group(p["log_group"], group)
        changes += group_changes
    function_changes, apply["function"] = awslambda.plan_function(p["function"], answer)
    apply["function_replace"] = any(item["action"] == "replace" for item in function_changes)
    changes += function_changes
    module.exit_with_plan(changes, function=function_view(answer), log_group=group or {}, roles=roles, apply=apply, writes=anything_to_apply(apply))


if __name__ == "__main__":
    main()
