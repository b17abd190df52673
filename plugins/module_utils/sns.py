# -*- coding: utf-8 -*-
# Copyright: bluegreen.migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Thin SNS client layer (topics and their tags): every call retried with jittered backoff
(aws_retry), "not found" turned into None, other failures raised as SnsError."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.tagging import ansible_dict_to_boto3_tag_list
from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict

from ansible_collections.bluegreen.migration.plugins.module_utils.core import aws_retry, tag_updater
from ansible_collections.bluegreen.migration.plugins.module_utils.diff import tag_drift
from ansible_collections.bluegreen.migration.plugins.module_utils.plan import field


class SnsError(AnsibleAWSError):
    pass


class SnsErrorHandler(AWSErrorHandler):
    _CUSTOM_EXCEPTION = SnsError

    @classmethod
    def _is_missing(cls):
        return is_boto3_error_code(["NotFound", "NotFoundException"])


@SnsErrorHandler.list_error_handler("find SNS topic {name}")
@aws_retry()
def find_topic_arn(client, name):
    """The ARN of the topic called `name` in this account and region, or None."""
    paginator = client.get_paginator("list_topics")
    for page in paginator.paginate():
        for topic in page.get("Topics", []):
            if topic["TopicArn"].rsplit(":", 1)[-1] == name:
                return topic["TopicArn"]
    return None


@SnsErrorHandler.list_error_handler("read the attributes of SNS topic {arn}")
@aws_retry()
def get_topic_attributes(client, arn):
    return client.get_topic_attributes(TopicArn=arn)["Attributes"]


@SnsErrorHandler.common_error_handler("create SNS topic {name}")
@aws_retry()
def create_topic(client, name, attributes, tags):
    params = {"Name": name, "Attributes": attributes}
    if tags:
        params["Tags"] = ansible_dict_to_boto3_tag_list(tags)
    return client.create_topic(**params)["TopicArn"]


@SnsErrorHandler.common_error_handler("set attribute {attribute} of SNS topic {arn}")
@aws_retry()
def set_topic_attribute(client, arn, attribute, value):
    client.set_topic_attributes(TopicArn=arn, AttributeName=attribute, AttributeValue=value)
    return True


@SnsErrorHandler.deletion_error_handler("delete SNS topic {arn}")
@aws_retry()
def delete_topic(client, arn):
    client.delete_topic(TopicArn=arn)
    return True


@SnsErrorHandler.list_error_handler("list the tags of SNS topic {arn}", {})
@aws_retry()
def list_tags(client, arn):
    return boto3_tag_list_to_ansible_dict(client.list_tags_for_resource(ResourceArn=arn).get("Tags", []))


@SnsErrorHandler.common_error_handler("tag SNS topic {arn}")
@aws_retry()
def tag_resource(client, arn, tags):
    client.tag_resource(ResourceArn=arn, Tags=ansible_dict_to_boto3_tag_list(tags))
    return True


@SnsErrorHandler.common_error_handler("untag SNS topic {arn}")
@aws_retry()
def untag_resource(client, arn, keys):
    client.untag_resource(ResourceArn=arn, TagKeys=list(keys))
    return True


update_tags = tag_updater(tag_resource, untag_resource)


def topic_arn_beside(name, arn):
    """The ARN the topic called `name` has in the partition, region and account of `arn` (any
    ARN of the same account and region), or None when `arn` is not one."""
    parts = (arn or "").split(":")
    if len(parts) < 6 or parts[0] != "arn" or not (parts[1] and parts[3] and parts[4]):
        return None
    return "arn:%s:sns:%s:%s:%s" % (parts[1], parts[3], parts[4], name)


def read_topic(client, name, arn_beside=None):
    """The topic called `name` ({topic_arn, name, display_name, tags}), or None. With the ARN
    of another resource of the account and region the topic's ARN is known without listing
    every topic: GetTopicAttributes answers NotFound when there is no such topic."""
    arn = topic_arn_beside(name, arn_beside) or find_topic_arn(client, name)
    if not arn:
        return None
    attributes = get_topic_attributes(client, arn)
    if attributes is None:
        return None
    return {"topic_arn": arn, "name": name, "display_name": attributes.get("DisplayName", ""), "tags": list_tags(client, arn)}


def topic_drift(wanted, current):
    """{field: {before, after}} of an existing topic: display name when given, tags with purge_tags."""
    drift = {}
    if wanted.get("display_name") is not None and wanted["display_name"] != current["display_name"]:
        drift["display_name"] = field(current["display_name"], wanted["display_name"])
    tags = tag_drift(current["tags"], wanted.get("tags"), wanted.get("purge_tags", True))
    if tags:
        drift["tags"] = tags
    return drift
