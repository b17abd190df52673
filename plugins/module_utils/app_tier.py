# -*- coding: utf-8 -*-
# Copyright: bluegreen.migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The ecs_service role's plan beside the load balancer (module_utils/load_balancer.py): its
target groups, log group, cluster, alarm topic and alarms, each compared with the wanted state
by the same functions the writing modules use, so the role runs a writer only for what differs.
Also builds the alarm definitions (three kinds per color), for the plan and for the writer."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.bluegreen.migration.plugins.module_utils import ecs
from ansible_collections.bluegreen.migration.plugins.module_utils.cloudwatch import AlarmDefinitionError
from ansible_collections.bluegreen.migration.plugins.module_utils import elbv2
from ansible_collections.bluegreen.migration.plugins.module_utils import logs
from ansible_collections.bluegreen.migration.plugins.module_utils import sns
from ansible_collections.bluegreen.migration.plugins.module_utils.plan import change
from ansible_collections.bluegreen.migration.plugins.module_utils.plan import created
from ansible_collections.bluegreen.migration.plugins.module_utils.plan import update_or_nothing

# ---------------------------------------------------------------- target groups


def plan_target_group(wanted, current):
    """(changes, apply) of one target group: `wanted` holds the elb_target_group options,
    `current` elbv2.read_target_group()'s answer (None when missing). A setting AWS cannot
    change in place is a replace, which the writer refuses with the reason."""
    if current is None:
        desired = dict((key, wanted.get(key)) for key in ("protocol", "port", "vpc_id", "target_type", "health_check", "deregistration_delay", "tags"))
        return [change("target group", wanted["name"], "create", created(desired), "no target group of that name")], True
    wrong = elbv2.target_group_immutable_drift(wanted, current)
    if wrong:
        return [change("target group", wanted["name"], "replace", wrong, elbv2.immutable_reason(wrong))], True
    return update_or_nothing("target group", wanted["name"], elbv2.target_group_drift(wanted, current))


# ---------------------------------------------------------------- log group, cluster, topic


def plan_log_group(wanted, current):
    if current is None:
        desired = {"retention": wanted.get("retention"), "kms_key_id": wanted.get("kms_key_id") or "", "tags": wanted.get("tags")}
        return [change("log group", wanted["name"], "create", created(desired), "no log group of that name")], True
    return update_or_nothing("log group", wanted["name"], logs.log_group_drift(wanted, current))


def plan_cluster(wanted, current):
    if current is None:
        desired = dict((key, wanted.get(key)) for key in ("container_insights", "capacity_providers", "tags"))
        return [change("ECS cluster", wanted["name"], "create", created(desired), "no active cluster of that name")], True
    return update_or_nothing("ECS cluster", wanted["name"], ecs.cluster_drift(wanted, current))


def plan_topic(wanted, current):
    if current is None:
        desired = {"display_name": wanted.get("display_name"), "tags": wanted.get("tags")}
        return [change("SNS topic", wanted["name"], "create", created(desired), "no topic of that name")], True
    return update_or_nothing("SNS topic", wanted["name"], sns.topic_drift(wanted, current))


# ---------------------------------------------------------------- alarms


def _load_balancer_dimension(arn):
    """CloudWatch names a load balancer by its ARN after ':loadbalancer/' (app/<name>/<id>)."""
    return arn.split(":loadbalancer/", 1)[-1]


def _target_group_dimension(arn):
    """... and a target group by its ARN after the last colon (targetgroup/<name>/<id>)."""
    return arn.rsplit(":", 1)[-1]


def alarm_definitions(spec, alb_arn, target_group_arns, topic_arn):
    """The metric_alarms options of every alarm: each kind of `spec` once per color.

    `spec`: {environment, colors, kinds: [{key, what, namespace, metric, statistic, comparison,
    threshold}], names: {<key>_<color>: alarm name}, cluster, services: {color: name}, period,
    evaluation_periods, extra_actions}. ECS kinds watch the color's service, load balancer kinds
    its target group. `topic_arn` may be empty (check mode before the first deploy). A spec that
    lacks or mistypes a key raises AlarmDefinitionError naming it."""
    try:
        return _alarm_definitions(spec, alb_arn, target_group_arns, topic_arn)
    except (KeyError, TypeError, ValueError) as e:
        raise AlarmDefinitionError("the alarm spec lacks or mistypes %s" % e) from e


def _alarm_definitions(spec, alb_arn, target_group_arns, topic_arn):
    actions = ([topic_arn] if topic_arn else []) + list(spec.get("extra_actions") or [])
    alarms = []
    for kind in spec["kinds"]:
        for color in spec["colors"]:
            name = spec["names"]["%s_%s" % (kind["key"], color)]
            if kind["namespace"] == "AWS/ECS":
                dimensions = {"ClusterName": spec["cluster"], "ServiceName": spec["services"][color]}
            else:
                dimensions = {
                    "LoadBalancer": _load_balancer_dimension(alb_arn or ""),
                    "TargetGroup": _target_group_dimension(target_group_arns.get(color) or ""),
                }
            what = kind["what"]
            alarms.append(
                {
                    "name": name,
                    "description": "%s%s of %s in %s" % (what[:1].upper(), what[1:], color, spec["environment"]),
                    "namespace": kind["namespace"],
                    "metric_name": kind["metric"],
                    "statistic": kind["statistic"],
                    "comparison": kind["comparison"],
                    "threshold": float(kind["threshold"]),
                    "period": int(spec["period"]),
                    "evaluation_periods": int(spec["evaluation_periods"]),
                    "dimensions": dimensions,
                    "treat_missing_data": "notBreaching",
                    "alarm_actions": actions,
                    "tags": {"Name": name},
                }
            )
    return alarms
