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
from ansible_collections.bluegreen.migration.plugins.module_utils.diff import apply_tag_plan
from ansible_collections.bluegreen.migration.plugins.module_utils.diff import differences
from ansible_collections.bluegreen.migration.plugins.module_utils.diff import plan_tags
from ansible_collections.bluegreen.migration.plugins.module_utils.plan import DIFFERS
from ansible_collections.bluegreen.migration.plugins.module_utils.plan import change
from ansible_collections.bluegreen.migration.plugins.module_utils.plan import created
from ansible_collections.bluegreen.migration.plugins.module_utils.plan import field

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


class AlarmDefinitionError(ValueError):
    """An alarm that cannot be created from the options given."""


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


# ---------------------------------------------------------------- alarms as the modules see them

# The options of one alarm (metric_alarms' alarms, and the plan modules' alarms).
ALARM_OPTIONS = dict(
    name=dict(type="str", required=True),
    description=dict(type="str"),
    namespace=dict(type="str"),
    metric_name=dict(type="str"),
    statistic=dict(type="str", choices=["SampleCount", "Average", "Sum", "Minimum", "Maximum"]),
    comparison=dict(
        type="str", choices=["GreaterThanOrEqualToThreshold", "GreaterThanThreshold", "LessThanThreshold", "LessThanOrEqualToThreshold"]
    ),
    threshold=dict(type="float"),
    unit=dict(
        type="str",
        choices=[
            "Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes", "Terabytes",
            "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count",
            "Bytes/Second", "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second",
            "Bits/Second", "Kilobits/Second", "Megabits/Second", "Gigabits/Second", "Terabits/Second",
            "Count/Second", "None",
        ],
    ),
    period=dict(type="int"),
    evaluation_periods=dict(type="int"),
    datapoints_to_alarm=dict(type="int"),
    dimensions=dict(type="dict"),
    treat_missing_data=dict(type="str", choices=["breaching", "notBreaching", "ignore", "missing"]),
    actions_enabled=dict(type="bool"),
    alarm_actions=dict(type="list", elements="str"),
    ok_actions=dict(type="list", elements="str"),
    insufficient_data_actions=dict(type="list", elements="str"),
    tags=dict(type="dict"),
)

# Option -> PutMetricAlarm / DescribeAlarms key.
API_KEYS = {
    "description": "AlarmDescription",
    "namespace": "Namespace",
    "metric_name": "MetricName",
    "statistic": "Statistic",
    "comparison": "ComparisonOperator",
    "threshold": "Threshold",
    "unit": "Unit",
    "period": "Period",
    "evaluation_periods": "EvaluationPeriods",
    "datapoints_to_alarm": "DatapointsToAlarm",
    "dimensions": "Dimensions",
    "treat_missing_data": "TreatMissingData",
    "actions_enabled": "ActionsEnabled",
    "alarm_actions": "AlarmActions",
    "ok_actions": "OKActions",
    "insufficient_data_actions": "InsufficientDataActions",
}
ACTION_OPTIONS = ("alarm_actions", "ok_actions", "insufficient_data_actions")
REQUIRED_ON_CREATE = ("namespace", "metric_name", "statistic", "comparison", "threshold", "period", "evaluation_periods")
# Settings that have no option here but that an update must not drop.
CARRIED_OVER = ("ExtendedStatistic", "EvaluateLowSampleCountPercentile")


def from_aws(alarm):
    """An alarm as DescribeAlarms returns it, keyed by the metric_alarms options."""
    view = {"name": alarm["AlarmName"], "arn": alarm.get("AlarmArn")}
    for option, key in API_KEYS.items():
        view[option] = alarm.get(key)
    view["description"] = view["description"] or ""
    view["dimensions"] = dict((d["Name"], d["Value"]) for d in alarm.get("Dimensions") or [])
    for option in ACTION_OPTIONS:
        view[option] = sorted(view[option] or [])
    if view["actions_enabled"] is None:
        view["actions_enabled"] = True
    # No DatapointsToAlarm means N out of N, the same alarm as one that gives it equal to N.
    if view["datapoints_to_alarm"] is None:
        view["datapoints_to_alarm"] = view["evaluation_periods"]
    return view


def wanted(alarm):
    """The options given for one alarm, normalised like from_aws (sets sorted, dimension values as
    text), with the two defaults: actions enabled, and N out of N breaching periods."""
    found = {}
    for option in API_KEYS:
        value = alarm.get(option)
        if value is None:
            continue
        if option in ACTION_OPTIONS:
            value = sorted(value)
        elif option == "dimensions":
            value = dict((k, str(v)) for k, v in value.items())
        found[option] = value
    # What an alarm of ours always is unless told otherwise, so that actions switched off or an
    # "M out of N" rule set by hand are drift, not kept as found.
    found.setdefault("actions_enabled", True)
    if "evaluation_periods" in found:
        found.setdefault("datapoints_to_alarm", found["evaluation_periods"])
    return found


def put_definition(settings, current_alarm):
    """PutMetricAlarm's parameters (AlarmName aside) for the merged option values."""
    definition = {}
    for option, key in API_KEYS.items():
        value = settings.get(option)
        if value is None:
            continue
        if option == "dimensions":
            value = [{"Name": k, "Value": v} for k, v in sorted(value.items())]
        definition[key] = value
    if current_alarm and settings.get("statistic") is None:
        # A percentile alarm keeps its extended statistic when no plain statistic is given.
        definition.update((k, current_alarm[k]) for k in CARRIED_OVER if current_alarm.get(k) is not None)
    return definition


def merged_tags(common, own):
    """The tags of one alarm: the common ones, then its own (None when neither is given)."""
    if common is None and own is None:
        return None
    merged = dict(common or {})
    merged.update(own or {})
    return merged


def is_metric_math(current_alarm):
    return bool(current_alarm.get("Metrics"))


def plan_alarm(client, alarm, current_alarm, tags, purge_tags=True):
    """(before, after, changes, put, tag_plan) for one alarm of state=present; `tags` as
    merged_tags() gives them. Reads the alarm's tags when it exists and tags are given."""
    settings = wanted(alarm)
    if current_alarm is None or is_metric_math(current_alarm):
        missing = [option for option in REQUIRED_ON_CREATE if option not in settings]
        if missing:
            reason = "does not exist" if current_alarm is None else "is built on metric math and must be replaced"
            raise AlarmDefinitionError("alarm %s %s: give %s to create it" % (alarm["name"], reason, ", ".join(missing)))
    if current_alarm is None:
        after = dict(from_aws({"AlarmName": alarm["name"]}), **settings)
        if tags is not None:
            after["tags"] = tags
        return {}, after, ["missing"], put_definition(settings, None), None

    before = from_aws(current_alarm)
    # Dimensions must match exactly; the other options only where given.
    changes = differences(dict((k, v) for k, v in settings.items() if k != "dimensions"), before)
    if "dimensions" in settings:
        changes.extend(differences(settings["dimensions"], before["dimensions"], "dimensions", symmetric=True))
    if is_metric_math(current_alarm):
        changes.append("metrics: metric math -> a single metric")
    merged = dict(before, **settings)
    put = put_definition(merged, current_alarm) if changes else None
    after = dict(merged)
    tag_plan = None
    if tags is not None:
        before["tags"] = list_tags(client, before["arn"])
        to_set, to_unset = plan_tags(before["tags"], tags, purge_tags)
        after["tags"] = apply_tag_plan(before["tags"], to_set, to_unset)
        if to_set or to_unset:
            tag_plan = (to_set, to_unset)
            changes.extend("tags.%s: %r -> %r" % (k, before["tags"].get(k), to_set.get(k)) for k in sorted(set(to_set) | set(to_unset)))
    return before, after, changes, put, tag_plan


def plan_alarm_changes(client, definitions, current, common_tags):
    """(changes, apply) of alarms for a plan module: `definitions` hold the metric_alarms options
    of each alarm, `current` the DescribeAlarms entries by name. Reads the tags of the alarms
    that exist."""
    changes = []
    for alarm in definitions:
        tags = merged_tags(common_tags, alarm.get("tags"))
        before, after, differing, _put, _tags = plan_alarm(client, alarm, current.get(alarm["name"]), tags)
        if not differing:
            continue
        if not before:
            desired = dict((key, value) for key, value in after.items() if key not in ("name", "arn"))
            changes.append(change("alarm", alarm["name"], "create", created(desired), "no alarm of that name"))
        else:
            fields = dict((key, field(before.get(key), after.get(key))) for key in sorted(after) if before.get(key) != after.get(key))
            changes.append(change("alarm", alarm["name"], "update", fields, DIFFERS))
    return changes, bool(changes)
