# -*- coding: utf-8 -*-
# Copyright: bluegreen.migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""IAM role reads beyond amazon.aws module_utils.iam (which has the role, its attached and
its inline policy names, but not an inline policy's document): retried with jittered
backoff, "not found" turned into None. And the plan of the roles the collection's roles want."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
from urllib.parse import unquote

from ansible_collections.amazon.aws.plugins.module_utils.iam import IAMErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.iam import get_iam_role
from ansible_collections.amazon.aws.plugins.module_utils.iam import list_iam_role_attached_policies
from ansible_collections.amazon.aws.plugins.module_utils.iam import list_iam_role_policies
from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict

from ansible_collections.bluegreen.migration.plugins.module_utils.core import aws_retry
from ansible_collections.bluegreen.migration.plugins.module_utils.plan import change
from ansible_collections.bluegreen.migration.plugins.module_utils.plan import created
from ansible_collections.bluegreen.migration.plugins.module_utils.plan import field
from ansible_collections.bluegreen.migration.plugins.module_utils.plan import fields_that_differ


def policy_document(value):
    """A policy document as a dict: boto3 decodes IAM's URL-encoded JSON, older botocore did not."""
    if isinstance(value, str):
        return json.loads(unquote(value))
    return value


@IAMErrorHandler.list_error_handler("get the inline policy {policy_name} of role {role_name}")
@aws_retry()
def get_role_policy_document(client, role_name, policy_name):
    return policy_document(client.get_role_policy(RoleName=role_name, PolicyName=policy_name)["PolicyDocument"])


def find_role(client, name):
    """A role with its trust policy, managed policy ARNs and inline policy documents, in the
    shape bluegreen.migration.iam_roles_info returns; {exists: false} when there is none."""
    role = get_iam_role(client, name)
    if role is None:
        return {"exists": False, "role_name": name}
    inline = {}
    for policy_name in sorted(list_iam_role_policies(client, name)):
        document = get_role_policy_document(client, name, policy_name)
        # Deleted between the list and the read: it is gone, so it is not reported.
        if document is not None:
            inline[policy_name] = document
    return {
        "exists": True,
        "role_name": role["RoleName"],
        "arn": role["Arn"],
        "path": role.get("Path", "/"),
        "description": role.get("Description", ""),
        "trust_policy": policy_document(role.get("AssumeRolePolicyDocument") or {}),
        "managed_policy_arns": sorted(policy["PolicyArn"] for policy in list_iam_role_attached_policies(client, name)),
        "inline_policies": inline,
        "tags": boto3_tag_list_to_ansible_dict(role.get("Tags", [])),
        "max_session_duration": role.get("MaxSessionDuration"),
    }


ROLE = "iam role"
POLICY = "iam inline policy"
ROLE_FIELDS = ("description", "trust_policy", "managed_policy_arns", "tags")

# The options of one wanted role (iam_roles_plan's roles, lambda_function_plan's roles).
ROLE_OPTIONS = dict(
    name=dict(type="str", required=True),
    description=dict(type="str", required=True),
    trust_policy=dict(type="dict", required=True),
    managed_policy_arns=dict(type="list", elements="str", default=[]),
    tags=dict(type="dict", default={}),
    inline_policies=dict(type="dict", default={}),
)


def read_roles(client, wanted):
    """{name: find_role()} of each wanted role."""
    return dict((role["name"], find_role(client, role["name"])) for role in wanted)


def plan_roles(wanted, found):
    """Changes to roles and their inline policies, and what the writers do about them.

    `wanted`: [{name, description, trust_policy, managed_policy_arns, tags, inline_policies:
    {policy name: document}}]; every other inline policy a role has is removed. `found`:
    {name: find_role()}.
    """
    changes = []
    apply = {"roles": [], "policies": [], "remove": []}
    for role in wanted:
        name = role["name"]
        have = found.get(name) or {"exists": False}
        desired = dict((key, role[key]) for key in ROLE_FIELDS)
        desired["managed_policy_arns"] = sorted(desired["managed_policy_arns"])
        if not have.get("exists"):
            changes.append(change(ROLE, name, "create", created(desired), "no role of that name"))
            apply["roles"].append(name)
        else:
            updates = fields_that_differ(desired, have)
            if updates:
                changes.append(change(ROLE, name, "update", updates, "differs from the inputs"))
                apply["roles"].append(name)
        policies = have.get("inline_policies") or {}
        for policy_name, document in sorted(role.get("inline_policies", {}).items()):
            if policies.get(policy_name) != document:
                action = "update" if policy_name in policies else "create"
                fields = {"document": field(policies.get(policy_name), document)}
                reason = "differs from the inputs" if policy_name in policies else "the role has no inline policy of that name"
                changes.append(change(POLICY, "%s/%s" % (name, policy_name), action, fields, reason))
                apply["policies"].append({"role": name, "name": policy_name, "document": document, "role_exists": bool(have.get("exists"))})
        for policy_name in sorted(set(policies) - set(role.get("inline_policies", {}))):
            changes.append(change(POLICY, "%s/%s" % (name, policy_name), "delete", {"document": field(policies[policy_name], None)}, "not granted by the role"))
            apply["remove"].append({"role": name, "name": policy_name})
    return changes, apply
