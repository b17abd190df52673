# -*- coding: utf-8 -*-
# Copyright: bluegreen.migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Thin CloudWatch Logs read layer for the plan modules (log groups and their tags): every call
retried with jittered backoff (aws_retry), failures raised as LogsError. The writes stay with
amazon.aws.cloudwatchlogs_log_group."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError

from ansible_collections.bluegreen.migration.plugins.module_utils.core import aws_retry
from ansible_collections.bluegreen.migration.plugins.module_utils.diff import tag_drift
from ansible_collections.bluegreen.migration.plugins.module_utils.plan import change
from ansible_collections.bluegreen.migration.plugins.module_utils.plan import created
from ansible_collections.bluegreen.migration.plugins.module_utils.plan import field
from ansible_collections.bluegreen.migration.plugins.module_utils.plan import update_or_nothing

LOG_GROUP = "log group"


class LogsError(AnsibleAWSError):
    pass


class LogsErrorHandler(AWSErrorHandler):
    _CUSTOM_EXCEPTION = LogsError

    @classmethod
    def _is_missing(cls):
        return is_boto3_error_code("ResourceNotFoundException")


@LogsErrorHandler.list_error_handler("describe log group {name}")
@aws_retry()
def describe_log_group(client, name):
    """The log group called exactly `name` (DescribeLogGroups entry), or None."""
    for page in client.get_paginator("describe_log_groups").paginate(logGroupNamePrefix=name):
        for group in page.get("logGroups", []):
            if group["logGroupName"] == name:
                return group
    return None


@LogsErrorHandler.list_error_handler("list the tags of log group {name}", {})
@aws_retry()
def list_log_group_tags(client, name):
    # The call amazon.aws.cloudwatchlogs_log_group compares with, so both see the same tags.
    return client.list_tags_log_group(logGroupName=name).get("tags", {})


def read_log_group(client, name):
    """{name, arn, retention, kms_key_id, tags} of the log group, or None."""
    group = describe_log_group(client, name)
    if group is None:
        return None
    return {
        "name": name,
        "arn": group.get("arn"),
        "retention": group.get("retentionInDays"),
        "kms_key_id": group.get("kmsKeyId") or "",
        "tags": list_log_group_tags(client, name),
    }


def log_group_drift(wanted, current):
    """{field: {before, after}} of an existing log group that amazon.aws.cloudwatchlogs_log_group
    corrects in place: the retention when given, the tags (purged). It does not change the KMS
    key of an existing group, so that is not compared."""
    drift = {}
    if wanted.get("retention") is not None and wanted["retention"] != current["retention"]:
        drift["retention"] = field(current["retention"], wanted["retention"])
    tags = tag_drift(current["tags"], wanted.get("tags"))
    if tags:
        drift["tags"] = tags
    return drift


def plan_log_group(wanted, current):
    """(changes, apply) of a log group `wanted` {name, retention, kms_key_id, tags} as
    amazon.aws.cloudwatchlogs_log_group is given them: create when missing, else the drift."""
    if current is None:
        desired = {"retention": wanted.get("retention"), "kms_key_id": wanted.get("kms_key_id") or "", "tags": wanted.get("tags")}
        return [change(LOG_GROUP, wanted["name"], "create", created(desired), "no log group of that name")], True
    return update_or_nothing(LOG_GROUP, wanted["name"], log_group_drift(wanted, current))
