#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: bluegreen.migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# ruff: noqa: E402  (Ansible module layout: imports follow DOCUMENTATION, EXAMPLES and RETURN)

DOCUMENTATION = r"""
module: metric_alarms
short_description: Create, update or delete a list of CloudWatch metric alarms in one run
version_added: 0.1.0
description:
  - Ensures each alarm of O(alarms) exists with the options given, or is absent.
  - All alarms are read with one C(DescribeAlarms) request per 100 names. C(PutMetricAlarm) is
    sent only for an alarm that is missing or differs in an option that is given; options left
    out keep what the alarm has (an update sends the alarm's current values for them).
  - With O(state=absent) the listed alarms that exist are removed with one C(DeleteAlarms)
    request per 100 names; alarm names that do not exist are not an error.
  - "Tags: a new alarm is created with its tags. The tags of an existing alarm are read and
    reconciled (C(ListTagsForResource), C(TagResource), C(UntagResource)) only when O(tags) or
    an alarm's O(alarms[].tags) is given."
  - "API requests of a run that changes nothing: one C(DescribeAlarms) per 100 alarms, plus
    one C(ListTagsForResource) per alarm when tags are given."
  - Supports check mode and diff mode (before and after of each alarm that changes).
options:
  alarms:
    description:
      - The alarms. Names must be unique within the list.
      - With O(state=absent) only O(alarms[].name) is used.
      - "To create an alarm, O(alarms[].namespace), O(alarms[].metric_name), O(alarms[].statistic),
        O(alarms[].comparison), O(alarms[].threshold), O(alarms[].period) and
        O(alarms[].evaluation_periods) are required."
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: Name of the alarm (unique in the account and region).
        type: str
        required: true
      description:
        description: Description of the alarm.
        type: str
      namespace:
        description: Namespace of the metric, for example V(AWS/RDS).
        type: str
      metric_name:
        description: Name of the metric, for example V(CPUUtilization).
        type: str
      statistic:
        description: Statistic applied to the metric over each period.
        type: str
        choices: [SampleCount, Average, Sum, Minimum, Maximum]
      comparison:
        description: How the statistic is compared with O(alarms[].threshold).
        type: str
        choices: [GreaterThanOrEqualToThreshold, GreaterThanThreshold, LessThanThreshold, LessThanOrEqualToThreshold]
      threshold:
        description: Value the statistic is compared with.
        type: float
      unit:
        description: Unit of the metric.
        type: str
        choices:
          - Seconds
          - Microseconds
          - Milliseconds
          - Bytes
          - Kilobytes
          - Megabytes
          - Gigabytes
          - Terabytes
          - Bits
          - Kilobits
          - Megabits
          - Gigabits
          - Terabits
          - Percent
          - Count
          - Bytes/Second
          - Kilobytes/Second
          - Megabytes/Second
          - Gigabytes/Second
          - Terabytes/Second
          - Bits/Second
          - Kilobits/Second
          - Megabits/Second
          - Gigabits/Second
          - Terabits/Second
          - Count/Second
          - None
      period:
        description: Length of one period in seconds (10, 30 or a multiple of 60).
        type: int
      evaluation_periods:
        description: Number of most recent periods the alarm evaluates.
        type: int
      datapoints_to_alarm:
        description:
          - Number of breaching periods among O(alarms[].evaluation_periods) that trigger the alarm.
          - When not given and O(alarms[].evaluation_periods) is, all of them (N out of N); an alarm set otherwise is
            changed back.
        type: int
      dimensions:
        description: Dimensions of the metric, name to value.
        type: dict
      treat_missing_data:
        description: How a period without data counts.
        type: str
        choices: [breaching, notBreaching, ignore, missing]
      actions_enabled:
        description:
          - Whether the actions run when the alarm changes state.
          - When not given, V(true); an alarm whose actions were switched off is switched on again.
        type: bool
      alarm_actions:
        description:
          - ARNs notified when the alarm enters the ALARM state (for example SNS topics).
          - Compared as a set; V([]) removes every action.
        type: list
        elements: str
      ok_actions:
        description: ARNs notified when the alarm returns to OK. Compared as a set.
        type: list
        elements: str
      insufficient_data_actions:
        description: ARNs notified when the alarm enters INSUFFICIENT_DATA. Compared as a set.
        type: list
        elements: str
      tags:
        description:
          - Tags of this alarm, merged over the module's O(tags) (these win on the same key).
          - When neither is given, the tags of an existing alarm are left as they are.
        type: dict
  state:
    description: Whether the alarms should exist.
    type: str
    choices: [present, absent]
    default: present
notes:
  - The module manages single-metric alarms. An existing alarm built on metric math is
    replaced by the single-metric definition, which must then be complete as on create.
author:
  - bluegreen.migration maintainers (@bluegreen)
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: CPU and freeable memory alarms of a cluster, in one run
  bluegreen.migration.metric_alarms:
    tags:
      bluegreen:environment: dev
    alarms:
      - name: aurora-cpu-dev
        description: CPU of aurora-dev above 80%
        namespace: AWS/RDS
        metric_name: CPUUtilization
        statistic: Average
        comparison: GreaterThanThreshold
        threshold: 80
        unit: Percent
        period: 300
        evaluation_periods: 3
        dimensions:
          DBClusterIdentifier: aurora-dev
        treat_missing_data: missing
        alarm_actions:
          - arn:aws:sns:us-east-1:123456789012:bluegreen-alarms-dev
        tags:
          Name: aurora-cpu-dev
      - name: aurora-memory-dev
        namespace: AWS/RDS
        metric_name: FreeableMemory
        statistic: Average
        comparison: LessThanThreshold
        threshold: 268435456
        unit: Bytes
        period: 300
        evaluation_periods: 3
        dimensions:
          DBClusterIdentifier: aurora-dev

- name: Raise one threshold (the other options of the alarm are kept)
  bluegreen.migration.metric_alarms:
    alarms:
      - name: aurora-cpu-dev
        threshold: 90

- name: Remove them
  bluegreen.migration.metric_alarms:
    state: absent
    alarms:
      - name: aurora-cpu-dev
      - name: aurora-memory-dev
"""

RETURN = r"""
alarms:
  description: The alarms, in the order of O(alarms), as they are after the run.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Name of the alarm.
      type: str
      returned: always
      sample: aurora-cpu-dev
    arn:
      description: ARN of the alarm; null when it is absent or would only be created (check mode).
      type: str
      returned: always
      sample: arn:aws:cloudwatch:us-east-1:123456789012:alarm:aurora-cpu-dev
    exists:
      description: Whether the alarm exists after the run (would exist, in check mode).
      type: bool
      returned: always
      sample: true
    changed:
      description: Whether this alarm was (or would be) created, updated, retagged or deleted.
      type: bool
      returned: always
      sample: false
    changes:
      description: What differed, one readable line per option (V(missing) for a new alarm).
      type: list
      elements: str
      returned: always
      sample: ["threshold: 80.0 -> 90.0"]
    description:
      description: Description of the alarm.
      type: str
      returned: when the alarm exists
      sample: CPU of aurora-dev above 80%
    namespace:
      description: Namespace of the metric.
      type: str
      returned: when the alarm exists
      sample: AWS/RDS
    metric_name:
      description: Name of the metric.
      type: str
      returned: when the alarm exists
      sample: CPUUtilization
    statistic:
      description: Statistic of the metric.
      type: str
      returned: when the alarm exists
      sample: Average
    comparison:
      description: Comparison operator.
      type: str
      returned: when the alarm exists
      sample: GreaterThanThreshold
    threshold:
      description: Threshold.
      type: float
      returned: when the alarm exists
      sample: 80.0
    unit:
      description: Unit of the metric, null when none is set.
      type: str
      returned: when the alarm exists
      sample: Percent
    period:
      description: Period in seconds.
      type: int
      returned: when the alarm exists
      sample: 300
    evaluation_periods:
      description: Number of periods evaluated.
      type: int
      returned: when the alarm exists
      sample: 3
    datapoints_to_alarm:
      description: Breaching periods that trigger the alarm (the evaluation periods when the alarm does not set it).
      type: int
      returned: when the alarm exists
      sample: 2
    dimensions:
      description: Dimensions of the metric.
      type: dict
      returned: when the alarm exists
      sample: {"DBClusterIdentifier": "aurora-dev"}
    treat_missing_data:
      description: How missing data counts, null when not set.
      type: str
      returned: when the alarm exists
      sample: missing
    actions_enabled:
      description: Whether the actions run.
      type: bool
      returned: when the alarm exists
      sample: true
    alarm_actions:
      description: ARNs notified on ALARM.
      type: list
      elements: str
      returned: when the alarm exists
      sample: ["arn:aws:sns:us-east-1:123456789012:bluegreen-alarms-dev"]
    ok_actions:
      description: ARNs notified on OK.
      type: list
      elements: str
      returned: when the alarm exists
      sample: []
    insufficient_data_actions:
      description: ARNs notified on INSUFFICIENT_DATA.
      type: list
      elements: str
      returned: when the alarm exists
      sample: []
    tags:
      description: Tags of the alarm.
      type: dict
      returned: when the alarm exists and tags were given (the tags are only read then)
      sample: {"bluegreen:environment": "dev", "Name": "aurora-cpu-dev"}
"""

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError

from ansible_collections.bluegreen.migration.plugins.module_utils import cloudwatch
from ansible_collections.bluegreen.migration.plugins.module_utils.core import BlueGreenModule


def desired_tags(module, alarm):
    return cloudwatch.merged_tags(module.params["tags"], alarm.get("tags"))


def ensure_present(module, client, current):
    # Every alarm is planned (and checked) before the first write.
    try:
        plans = [
            (alarm["name"],) + cloudwatch.plan_alarm(client, alarm, current.get(alarm["name"]), desired_tags(module, alarm), module.params["purge_tags"])
            for alarm in module.params["alarms"]
        ]
    except cloudwatch.AlarmDefinitionError as e:
        module.fail_json(msg=str(e))
    results, before_all, after_all, created = [], {}, {}, []
    for name, before, after, changes, put, tag_plan in plans:
        if changes:
            # A new alarm is only in `after`.
            if before:
                before_all[name] = before
            else:
                created.append(name)
            after_all[name] = after
            if not module.check_mode:
                if put is not None:
                    # Tags count on create only; an existing alarm is retagged below.
                    cloudwatch.put_metric_alarm(client, name, put, None if before else after.get("tags"))
                if tag_plan:
                    cloudwatch.update_tags(client, after["arn"], *tag_plan)
        results.append(dict(after, exists=True, changed=bool(changes), changes=changes))
    if created and not module.check_mode:
        # PutMetricAlarm returns nothing: read the new alarms' ARNs back in one request.
        arns = dict((name, alarm.get("AlarmArn")) for name, alarm in cloudwatch.describe_alarms(client, created).items())
        for result in results:
            if result["name"] in arns:
                result["arn"] = after_all[result["name"]]["arn"] = arns[result["name"]]
    module.exit_with_diff(bool(after_all), before_all, after_all, alarms=results)


def ensure_absent(module, client, current):
    results, before_all = [], {}
    for alarm in module.params["alarms"]:
        name = alarm["name"]
        exists = name in current
        if exists:
            before_all[name] = cloudwatch.from_aws(current[name])
        results.append({"name": name, "arn": None, "exists": False, "changed": exists, "changes": ["present -> absent"] if exists else []})
    if before_all and not module.check_mode:
        cloudwatch.delete_alarms(client, list(before_all))
    module.exit_with_diff(bool(before_all), before_all, {}, alarms=results)


def main():
    argument_spec = dict(
        alarms=dict(type="list", elements="dict", required=True, options=cloudwatch.ALARM_OPTIONS),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
    )
    module = BlueGreenModule(argument_spec=argument_spec, supports_check_mode=True)
    names = [alarm["name"] for alarm in module.params["alarms"]]
    repeated = sorted(set(name for name in names if names.count(name) > 1))
    if repeated:
        module.fail_json(msg="each alarm must be listed once; repeated: %s" % ", ".join(repeated))
    client = module.client("cloudwatch")
    try:
        current = cloudwatch.describe_alarms(client, names)
        if module.params["state"] == "present":
            ensure_present(module, client, current)
        else:
            ensure_absent(module, client, current)
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)


if __name__ == "__main__":
    main()
