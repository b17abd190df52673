# -*- coding: utf-8 -*-
# Copyright: bluegreen.migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Thin Elastic Load Balancing v2 client layer (target groups, listeners, tags): every call
retried with jittered backoff (aws_retry), "not found" turned into None, other failures
raised as Elbv2Error for module.fail_json_aws_error()."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict
from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.tagging import ansible_dict_to_boto3_tag_list
from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict

from ansible_collections.bluegreen.migration.plugins.module_utils.core import aws_retry, tag_updater
from ansible_collections.bluegreen.migration.plugins.module_utils.diff import tag_drift
from ansible_collections.bluegreen.migration.plugins.module_utils.plan import field
from ansible_collections.bluegreen.migration.plugins.module_utils.waits import poll

TARGET_GROUP_DELAY_KEY = "deregistration_delay.timeout_seconds"
# health check option -> DescribeTargetGroups / ModifyTargetGroup key
HEALTH_CHECK_FIELDS = {
    "path": "HealthCheckPath",
    "protocol": "HealthCheckProtocol",
    "port": "HealthCheckPort",
    "interval": "HealthCheckIntervalSeconds",
    "timeout": "HealthCheckTimeoutSeconds",
    "healthy_threshold": "HealthyThresholdCount",
    "unhealthy_threshold": "UnhealthyThresholdCount",
}
# The health_check option of the target group modules (defaults as AWS's for HTTP).
HEALTH_CHECK_SPEC = dict(
    path=dict(type="str", default="/"),
    protocol=dict(type="str", choices=["HTTP", "HTTPS"], default="HTTP"),
    port=dict(type="str", default="traffic-port"),
    interval=dict(type="int", default=30),
    timeout=dict(type="int", default=5),
    healthy_threshold=dict(type="int", default=2),
    unhealthy_threshold=dict(type="int", default=3),
    matcher=dict(type="str", default="200"),
)
# Settings AWS cannot change on an existing target group.
TARGET_GROUP_IMMUTABLE = ("protocol", "port", "vpc_id", "target_type")


class Elbv2Error(AnsibleAWSError):
    pass


class Elbv2ErrorHandler(AWSErrorHandler):
    _CUSTOM_EXCEPTION = Elbv2Error

    @classmethod
    def _is_missing(cls):
        return is_boto3_error_code(["TargetGroupNotFound", "ListenerNotFound", "LoadBalancerNotFound"])


@Elbv2ErrorHandler.list_error_handler("describe target group {name}")
@aws_retry()
def describe_target_group(client, name):
    groups = client.describe_target_groups(Names=[name]).get("TargetGroups", [])
    return groups[0] if groups else None


@Elbv2ErrorHandler.common_error_handler("create target group")
@aws_retry()
def create_target_group(client, **params):
    return client.create_target_group(**params)["TargetGroups"][0]


@Elbv2ErrorHandler.common_error_handler("modify target group {arn}")
@aws_retry()
def modify_target_group(client, arn, **params):
    return client.modify_target_group(TargetGroupArn=arn, **params)["TargetGroups"][0]


@Elbv2ErrorHandler.list_error_handler("describe the attributes of target group {arn}", {})
@aws_retry()
def describe_target_group_attributes(client, arn):
    attributes = client.describe_target_group_attributes(TargetGroupArn=arn).get("Attributes", [])
    return {item["Key"]: item["Value"] for item in attributes}


def _put_target_group_attributes(client, arn, attributes):
    items = [{"Key": key, "Value": str(value)} for key, value in sorted(attributes.items())]
    client.modify_target_group_attributes(TargetGroupArn=arn, Attributes=items)
    return True


@Elbv2ErrorHandler.common_error_handler("modify the attributes of target group {arn}")
@aws_retry()
def modify_target_group_attributes(client, arn, attributes):
    return _put_target_group_attributes(client, arn, attributes)


@Elbv2ErrorHandler.common_error_handler("modify the attributes of target group {arn}")
@aws_retry(extra_codes=("TargetGroupNotFound",))
def modify_new_target_group_attributes(client, arn, attributes):
    """modify_target_group_attributes() on a group CreateTargetGroup answered a moment ago,
    which ELB may not know everywhere yet (TargetGroupNotFound until it does)."""
    return _put_target_group_attributes(client, arn, attributes)


@Elbv2ErrorHandler.deletion_error_handler("delete target group {arn}")
@aws_retry()
def delete_target_group(client, arn):
    client.delete_target_group(TargetGroupArn=arn)
    return True


@Elbv2ErrorHandler.list_error_handler("describe listener {arn}")
@aws_retry()
def describe_listener(client, arn):
    listeners = client.describe_listeners(ListenerArns=[arn]).get("Listeners", [])
    return listeners[0] if listeners else None


@Elbv2ErrorHandler.common_error_handler("modify the default actions of listener {arn}")
@aws_retry()
def modify_listener_default_actions(client, arn, actions):
    return client.modify_listener(ListenerArn=arn, DefaultActions=actions)["Listeners"][0]


def describe_tags(client, arn):
    """Tags of one resource ({} when it has none or no longer exists)."""
    return describe_tags_of(client, [arn]).get(arn, {})


@Elbv2ErrorHandler.common_error_handler("tag {arn}")
@aws_retry()
def add_tags(client, arn, tags):
    client.add_tags(ResourceArns=[arn], Tags=ansible_dict_to_boto3_tag_list(tags))
    return True


@Elbv2ErrorHandler.common_error_handler("untag {arn}")
@aws_retry()
def remove_tags(client, arn, keys):
    client.remove_tags(ResourceArns=[arn], TagKeys=list(keys))
    return True


update_tags = tag_updater(add_tags, remove_tags)


def forward_of(listener):
    """(weights, stickiness) of a listener's default forward action (boto3 shape), normalised:
    weights [{target_group_arn, weight}] sorted by ARN, stickiness {enabled[, duration]}."""
    for action in listener.get("DefaultActions") or []:
        if action.get("Type") != "forward":
            continue
        config = action.get("ForwardConfig")
        if config:
            weights = [{"target_group_arn": tg["TargetGroupArn"], "weight": int(tg.get("Weight", 1))} for tg in config.get("TargetGroups", [])]
            sticky = config.get("TargetGroupStickinessConfig") or {}
        else:
            # A plain forward to one target group (no ForwardConfig) is weight 1 of 1.
            weights = [{"target_group_arn": action["TargetGroupArn"], "weight": 1}] if action.get("TargetGroupArn") else []
            sticky = {}
        stickiness = {"enabled": bool(sticky.get("Enabled", False))}
        if stickiness["enabled"]:
            stickiness["duration"] = sticky.get("DurationSeconds")
        return sorted(weights, key=lambda w: w["target_group_arn"]), stickiness
    return [], {"enabled": False}


# ---------------------------------------------------------------- read-only lookups (info modules)


@Elbv2ErrorHandler.list_error_handler("describe load balancer {name}")
@aws_retry()
def describe_load_balancer(client, name):
    # Names= fails with LoadBalancerNotFound on a missing name: the handler makes that None.
    balancers = client.describe_load_balancers(Names=[name]).get("LoadBalancers", [])
    return balancers[0] if balancers else None


@Elbv2ErrorHandler.list_error_handler("describe the listeners of {arn}", [])
@aws_retry()
def describe_listeners(client, arn):
    paginator = client.get_paginator("describe_listeners")
    return paginator.paginate(LoadBalancerArn=arn).build_full_result().get("Listeners", [])


@Elbv2ErrorHandler.common_error_handler("describe the attributes of load balancer {arn}")
@aws_retry()
def describe_load_balancer_attributes(client, arn):
    """{key: value} of a load balancer's attributes, as AWS answers them (values are strings)."""
    answer = client.describe_load_balancer_attributes(LoadBalancerArn=arn).get("Attributes", [])
    return dict((item["Key"], item.get("Value")) for item in answer)


def read_load_balancer(client, name, other_arns=()):
    """(balancer, listeners sorted by port, {arn: tags} of both) as AWS answers; (None, [], {})
    when there is no load balancer of that name. The tags of `other_arns` (target groups read
    before) come in the same DescribeTags calls, and in the answer's tags whatever happens."""
    balancer = describe_load_balancer(client, name)
    if balancer is None:
        return None, [], describe_tags_of(client, list(other_arns)) if other_arns else {}
    arn = balancer["LoadBalancerArn"]
    listeners = sorted(describe_listeners(client, arn), key=lambda item: item["Port"])
    return balancer, listeners, describe_tags_of(client, [arn] + [item["ListenerArn"] for item in listeners] + list(other_arns))


def load_balancer_result(balancer, listeners, tags):
    """The load balancer in snake case, subnets and groups sorted, its tags, and each listener
    with its tags, live color (bluegreen:live-color tag), weights and stickiness."""
    found = camel_dict_to_snake_dict(balancer)
    found.pop("created_time", None)
    found["subnets"] = sorted(zone["SubnetId"] for zone in balancer.get("AvailabilityZones", []) if zone.get("SubnetId"))
    found["security_groups"] = sorted(balancer.get("SecurityGroups", []))
    found["tags"] = tags[balancer["LoadBalancerArn"]]
    found["listeners"] = []
    for listener in listeners:
        item = camel_dict_to_snake_dict(listener)
        item["tags"] = tags[listener["ListenerArn"]]
        item["live_color"] = item["tags"].get("bluegreen:live-color")
        item["weights"], item["stickiness"] = forward_of(listener)
        found["listeners"].append(item)
    return found


# DescribeTags takes at most 20 ARNs per call.
TAGS_PER_CALL = 20


@Elbv2ErrorHandler.list_error_handler("describe the tags of {arns}", {})
@aws_retry()
def describe_tags_of(client, arns):
    """{arn: tags} of several resources, in as few DescribeTags calls as the API allows."""
    found = {}
    for start in range(0, len(arns), TAGS_PER_CALL):
        chunk = list(arns[start:start + TAGS_PER_CALL])
        for description in client.describe_tags(ResourceArns=chunk).get("TagDescriptions", []):
            found[description["ResourceArn"]] = boto3_tag_list_to_ansible_dict(description.get("Tags", []))
    return {arn: found.get(arn, {}) for arn in arns}


@Elbv2ErrorHandler.list_error_handler("describe target group {arn}")
@aws_retry()
def describe_target_group_by_arn(client, arn):
    groups = client.describe_target_groups(TargetGroupArns=[arn]).get("TargetGroups", [])
    return groups[0] if groups else None


@Elbv2ErrorHandler.list_error_handler("describe the target health of {arn}", [])
@aws_retry()
def describe_target_health(client, arn):
    return client.describe_target_health(TargetGroupArn=arn).get("TargetHealthDescriptions", [])


def target_states(descriptions):
    """How many targets of DescribeTargetHealth's answer are in each state ({"healthy": 2, ...})."""
    states = {}
    for description in descriptions:
        state = (description.get("TargetHealth") or {}).get("State", "unknown")
        states[state] = states.get(state, 0) + 1
    return states


def wait_until_healthy(read, timeout, delay=5, sleep=time.sleep, clock=time.monotonic):
    """read() (a target group's health: a dict with `enough_healthy`) every `delay` s until it
    has enough healthy targets or `timeout` s have passed; its last answer. A target may stay
    initial or unhealthy while it starts, so only the timeout ends an unsuccessful wait. Each
    read retries throttling itself (aws_retry); a read that still fails raises its own error at
    once, so it is not reported as the timeout."""
    return poll(read, max(0, int(timeout)), max(1, int(delay)), done=lambda health: health["enough_healthy"], sleep=sleep, clock=clock)


# ---------------------------------------------------------------- target groups as the modules see them


def target_group_summary(group, attributes, tags):
    """A target group (DescribeTargetGroups entry, its attributes and tags) keyed by the options."""
    health_check = {key: group.get(name) for key, name in HEALTH_CHECK_FIELDS.items()}
    health_check["matcher"] = (group.get("Matcher") or {}).get("HttpCode")
    delay = attributes.get(TARGET_GROUP_DELAY_KEY)
    return {
        "target_group_arn": group["TargetGroupArn"],
        "target_group_name": group["TargetGroupName"],
        "protocol": group.get("Protocol"),
        "port": group.get("Port"),
        "vpc_id": group.get("VpcId"),
        "target_type": group.get("TargetType"),
        "health_check": health_check,
        "deregistration_delay": int(delay) if delay is not None else None,
        "load_balancer_arns": group.get("LoadBalancerArns") or [],
        "tags": tags,
    }


@Elbv2ErrorHandler.list_error_handler("describe target groups {names}")
@aws_retry()
def _describe_target_groups_named(client, names):
    return client.describe_target_groups(Names=list(names)).get("TargetGroups", [])


def describe_target_groups_named(client, names):
    """{name: DescribeTargetGroups entry or None}: one call when they all exist. AWS refuses the
    whole call (TargetGroupNotFound) when one is missing, then each name is asked alone."""
    groups = _describe_target_groups_named(client, names) if names else []
    if groups is None:
        return dict((name, describe_target_group(client, name)) for name in names)
    by_name = dict((group["TargetGroupName"], group) for group in groups)
    return dict((name, by_name.get(name)) for name in names)


def read_target_groups(client, names):
    """{name: the target group as target_group_summary() gives it, without tags, or None} and
    the ARNs found: the attributes are read per group, the tags are left to the caller's
    DescribeTags (read_load_balancer's other_arns) so that one call covers them all."""
    found = {}
    for name, group in describe_target_groups_named(client, names).items():
        if group is None:
            found[name] = None
            continue
        found[name] = target_group_summary(group, describe_target_group_attributes(client, group["TargetGroupArn"]), {})
    return found


def read_target_group(client, name):
    """The target group called `name` as target_group_summary() gives it, or None."""
    group = describe_target_group(client, name)
    if group is None:
        return None
    arn = group["TargetGroupArn"]
    return target_group_summary(group, describe_target_group_attributes(client, arn), describe_tags(client, arn))


def target_group_immutable_drift(wanted, current):
    """{field: {before, after}} of the settings AWS cannot change in place that differ."""
    return dict(
        (key, field(current[key], wanted[key])) for key in TARGET_GROUP_IMMUTABLE if wanted.get(key) is not None and wanted[key] != current[key]
    )


def immutable_reason(fields):
    """Why a target group must be replaced, one clause per field of target_group_immutable_drift()."""
    return "cannot be changed in place: " + "; ".join("%s is %r, wanted %r" % (key, value["before"], value["after"]) for key, value in sorted(fields.items()))


def target_group_drift(wanted, current):
    """{field: {before, after}} of an existing target group against the wanted options
    (health_check whole, deregistration_delay when given, tags with purge_tags)."""
    drift = {}
    health_check = dict(wanted["health_check"])
    if any(health_check[key] != current["health_check"].get(key) for key in health_check):
        drift["health_check"] = field(current["health_check"], health_check)
    delay = wanted.get("deregistration_delay")
    if delay is not None and delay != current["deregistration_delay"]:
        drift["deregistration_delay"] = field(current["deregistration_delay"], delay)
    tags = tag_drift(current["tags"], wanted.get("tags"), wanted.get("purge_tags", True))
    if tags:
        drift["tags"] = tags
    return drift


# ---------------------------------------------------------------- listener rules


@Elbv2ErrorHandler.list_error_handler("describe the rules of listener {arn}", [])
@aws_retry()
def describe_rules(client, arn):
    paginator = client.get_paginator("describe_rules")
    return paginator.paginate(ListenerArn=arn).build_full_result().get("Rules", [])


@aws_retry()
def _create_rule(client, params):
    return client.create_rule(**params)["Rules"][0]


@Elbv2ErrorHandler.common_error_handler("create a rule on listener {arn}")
def create_rule(client, arn, priority, conditions, actions, tags):
    """The new rule, or None when AWS refuses `priority` as taken (PriorityInUse): a rule made
    since the listener's rules were read holds it."""
    params = dict(ListenerArn=arn, Priority=priority, Conditions=conditions, Actions=actions)
    if tags:
        params["Tags"] = ansible_dict_to_boto3_tag_list(tags)
    try:
        return _create_rule(client, params)
    except is_boto3_error_code("PriorityInUse"):
        return None


@Elbv2ErrorHandler.common_error_handler("modify rule {arn}")
@aws_retry()
def modify_rule(client, arn, conditions, actions):
    return client.modify_rule(RuleArn=arn, Conditions=conditions, Actions=actions)["Rules"][0]


@Elbv2ErrorHandler.common_error_handler("delete rule {arn}")
@aws_retry()
def delete_rule(client, arn):
    client.delete_rule(RuleArn=arn)
    return True


def header_of(rule):
    """(header name, [values]) of a rule's http-header condition, or (None, [])."""
    for condition in rule.get("Conditions") or []:
        if condition.get("Field") == "http-header":
            config = condition.get("HttpHeaderConfig") or {}
            return config.get("HttpHeaderName"), list(config.get("Values") or [])
    return None, []


def rule_target(rule):
    """The one target group a rule forwards to, or None."""
    for action in rule.get("Actions") or []:
        if action.get("Type") != "forward":
            continue
        groups = (action.get("ForwardConfig") or {}).get("TargetGroups") or []
        if action.get("TargetGroupArn"):
            return action["TargetGroupArn"]
        if len(groups) == 1:
            return groups[0]["TargetGroupArn"]
    return None


def rule_at(rules, priority):
    """The rule of `rules` with `priority`, or None."""
    return next((rule for rule in rules if str(rule.get("Priority")) == str(priority)), None)


def free_priority(rules, taken=()):
    """The lowest priority no rule of the listener takes (priorities are unique per listener),
    nor any of `taken` (refused as taken by rules not listed yet)."""
    taken = set(int(rule["Priority"]) for rule in rules if str(rule.get("Priority", "")).isdigit()) | set(taken)
    priority = 1
    while priority in taken:
        priority += 1
    return priority
