# -*- coding: utf-8 -*-
# Copyright: bluegreen.migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""IAM role reads beyond amazon.aws module_utils.iam (which has the role, its attached and
its inline policy names, but not an inline policy's document): retried with jittered
backoff, "not found" turned into None."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
from urllib.parse import unquote

from ansible_collections.amazon.aws.plugins.module_utils.iam import IAMErrorHandler

from ansible_collections.bluegreen.migration.plugins.module_utils.core import aws_retry


def policy_document(value):
    """A policy document as a dict: boto3 decodes IAM's URL-encoded JSON, older botocore did not."""
    if isinstance(value, str):
        return json.loads(unquote(value))
    return value


@IAMErrorHandler.list_error_handler("get the inline policy {policy_name} of role {role_name}")
@aws_retry()
def get_role_policy_document(client, role_name, policy_name):
    return policy_document(client.get_role_policy(RoleName=role_name, PolicyName=policy_name)["PolicyDocument"])
