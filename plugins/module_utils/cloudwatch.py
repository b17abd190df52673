# -*- coding: utf-8 -*-
# Copyright: bluegreen.migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Thin CloudWatch client layer (metric alarms and their tags): every call retried with
jittered backoff (aws_retry), "not found" turned into None, other failures raised as
CloudWatchError. Calls that take a list of alarm names are split into batches of 100,
the most CloudWatch accepts in one request."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.tagging import ansible_dict_to_boto3_tag_list
from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict

from ansible_collections.bluegreen.migration.plugins.module_utils.core import aws_retry, tag_updater

# DescribeAlarms (AlarmNames) and DeleteAlarms take at most this many names per request.
NAMES_PER_REQUEST = 100


class CloudWatchError(AnsibleAWSError):
    pass


class CloudWatchErrorHandler(AWSErrorHandler):
    _CUSTOM_EXCEPTION = CloudWatchError

    @classmethod
    def _is_missing(cls):
        # The Query protocol says ResourceNotFound, the JSON protocol ResourceNotFoundException.
        return is_boto3_error_code(["ResourceNotFound", "ResourceNotFoundException"])


def batches(names):
    names = list(names)
    for start in range(0, len(names), NAMES_PER_REQUEST):
        yield names[start : start + NAMES_PER_REQUEST]


@CloudWatchErrorHandler.list_error_handler("describe CloudWatch alarms {names}", [])
@aws_retry()
def describe_alarm_batch(client, names):
    """The metric alarms among at most 100 names (those that do not exist are left out)."""
    found = []
    # MaxRecords defaults to 50, less than a full batch of names: follow the pages.
    for page in client.get_paginator("describe_alarms").paginate(AlarmNames=list(names), AlarmTypes=["MetricAlarm"]):
        found.extend(page.get("MetricAlarms", []))
    return found


def describe_alarms(client, names):
    """{name: DescribeAlarms entry} for the names that exist, one request per 100 names."""
    found = {}
    for batch in batches(names):
        for alarm in describe_alarm_batch(client, batch):
            found[alarm["AlarmName"]] = alarm
    return found


@CloudWatchErrorHandler.common_error_handler("put CloudWatch alarm {name}")
@aws_retry()
def put_metric_alarm(client, name, definition, tags=None):
    """Create or replace one alarm. `definition` holds PutMetricAlarm's other parameters;
    `tags` only count on create (CloudWatch ignores them when the alarm exists)."""
    params = dict(definition, AlarmName=name)
    if tags:
        params["Tags"] = ansible_dict_to_boto3_tag_list(tags)
    client.put_metric_alarm(**params)
    return True


@CloudWatchErrorHandler.deletion_error_handler("delete CloudWatch alarms {names}")
@aws_retry()
def delete_alarm_batch(client, names):
    client.delete_alarms(AlarmNames=list(names))
    return True


def delete_alarms(client, names):
    for batch in batches(names):
        delete_alarm_batch(client, batch)


@CloudWatchErrorHandler.list_error_handler("list the tags of CloudWatch alarm {arn}", {})
@aws_retry()
def list_tags(client, arn):
    return boto3_tag_list_to_ansible_dict(client.list_tags_for_resource(ResourceARN=arn).get("Tags", []))


@CloudWatchErrorHandler.common_error_handler("tag CloudWatch alarm {arn}")
@aws_retry()
def tag_resource(client, arn, tags):
    client.tag_resource(ResourceARN=arn, Tags=ansible_dict_to_boto3_tag_list(tags))
    return True


@CloudWatchErrorHandler.common_error_handler("untag CloudWatch alarm {arn}")
@aws_retry()
def untag_resource(client, arn, keys):
    client.untag_resource(ResourceARN=arn, TagKeys=list(keys))
    return True


update_tags = tag_updater(tag_resource, untag_resource)
