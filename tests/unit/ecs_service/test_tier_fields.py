"""Every field the ecs_service role's plan compares beside its ECS services and task
definitions: target groups, load balancer and listeners, log group, cluster, alarm topic,
alarms (module_utils/app_tier.py, load_balancer.py, elbv2.py, logs.py, ecs.py, sns.py,
cloudwatch.py) and IAM roles (module_utils/iam.py). Each field is drifted alone on the answers
recorded from the emulator: the plan has exactly one change, naming the resource, the action
and only that field with its value before (as AWS has it) and after (as wanted). The fields the
other unit tests already drift this way are listed in tests/unit/README.md; this file covers
the rest."""

import copy
import json
from pathlib import Path

import pytest

from ansible_collections.bluegreen.migration.plugins.module_utils import app_tier
from ansible_collections.bluegreen.migration.plugins.module_utils import cloudwatch
from ansible_collections.bluegreen.migration.plugins.module_utils import ecs
from ansible_collections.bluegreen.migration.plugins.module_utils import elbv2
from ansible_collections.bluegreen.migration.plugins.module_utils import logs
from ansible_collections.bluegreen.migration.plugins.module_utils import iam
from ansible_collections.bluegreen.migration.plugins.module_utils import load_balancer

RECORDED_DIR = Path(__file__).parent / "recorded"
RECORDED = json.loads((RECORDED_DIR / "app_tier.json").read_text())
ENV_TAGS = {"bluegreen:environment": "dev", "bluegreen:component": "ecs_service"}


def the_one_change(changes):
    assert len(changes) == 1, changes
    item = changes[0]
    return item["resource"], item["name"], item["action"], item["fields"]


# ---------------------------------------------------------------- target groups

GROUP = RECORDED["DescribeTargetGroups"]["TargetGroups"][0]
ATTRIBUTES = {a["Key"]: a["Value"] for a in RECORDED["DescribeTargetGroupAttributes"]["Attributes"]}
GROUP_TAGS = {t["Key"]: t["Value"] for t in RECORDED["TargetGroupTags"]["TagDescriptions"][0]["Tags"]}
HEALTH_CHECK = {
    "path": "/",
    "protocol": "HTTP",
    "port": "traffic-port",
    "interval": 30,
    "timeout": 5,
    "healthy_threshold": 2,
    "unhealthy_threshold": 3,
    "matcher": "200",
}
WANTED_GROUP = {
    "color": "blue",
    "name": "app-blue-dev",
    "protocol": "HTTP",
    "port": 80,
    "vpc_id": GROUP["VpcId"],
    "target_type": "ip",
    "health_check": HEALTH_CHECK,
    "deregistration_delay": 30,
    "tags": dict(ENV_TAGS, Name="app-blue-dev", **{"bluegreen:color": "blue"}),
}


def target_group(group=None, attributes=None, tags=None):
    """target_group_summary of the recorded answers, with the given ones drifted."""
    return elbv2.target_group_summary(dict(GROUP, **(group or {})), dict(ATTRIBUTES, **(attributes or {})), tags or GROUP_TAGS)


def test_the_recorded_target_group_is_converged():
    assert app_tier.plan_target_group(WANTED_GROUP, target_group()) == ([], False)


# health check option -> (DescribeTargetGroups key, drifted value)
HEALTH_CHECK_DRIFTS = {
    "protocol": ("HealthCheckProtocol", "HTTPS"),
    "port": ("HealthCheckPort", "8080"),
    "timeout": ("HealthCheckTimeoutSeconds", 10),
    "unhealthy_threshold": ("UnhealthyThresholdCount", 5),
}


@pytest.mark.parametrize("option", sorted(HEALTH_CHECK_DRIFTS))
def test_one_health_check_setting_drifted_is_the_one_change(option):
    key, value = HEALTH_CHECK_DRIFTS[option]
    changes, apply = app_tier.plan_target_group(WANTED_GROUP, target_group(group={key: value}))
    fields = {"health_check": {"before": dict(HEALTH_CHECK, **{option: value}), "after": HEALTH_CHECK}}
    assert the_one_change(changes) == ("target group", "app-blue-dev", "update", fields) and apply


def test_a_deregistration_delay_changed_by_hand_is_the_one_change():
    changes, apply = app_tier.plan_target_group(WANTED_GROUP, target_group(attributes={elbv2.TARGET_GROUP_DELAY_KEY: "300"}))
    assert the_one_change(changes) == ("target group", "app-blue-dev", "update", {"deregistration_delay": {"before": 300, "after": 30}}) and apply


def test_a_target_group_tag_changed_by_hand_is_the_one_change():
    tags = dict(GROUP_TAGS, **{"bluegreen:color": "green"})
    changes, apply = app_tier.plan_target_group(WANTED_GROUP, target_group(tags=tags))
    assert the_one_change(changes) == ("target group", "app-blue-dev", "update", {"tags": {"before": tags, "after": WANTED_GROUP["tags"]}}) and apply


# option -> (DescribeTargetGroups key, drifted value)
IMMUTABLE_DRIFTS = {
    "protocol": ("Protocol", "HTTPS"),
    "port": ("Port", 8080),
    "vpc_id": ("VpcId", "vpc-0other"),
    "target_type": ("TargetType", "instance"),
}


@pytest.mark.parametrize("option", sorted(IMMUTABLE_DRIFTS))
def test_a_setting_fixed_at_creation_is_a_replace_of_that_setting(option):
    key, value = IMMUTABLE_DRIFTS[option]
    changes, apply = app_tier.plan_target_group(WANTED_GROUP, target_group(group={key: value}))
    assert the_one_change(changes) == ("target group", "app-blue-dev", "replace", {option: {"before": value, "after": WANTED_GROUP[option]}})
    assert "cannot be changed in place" in changes[0]["reason"] and apply


# ---------------------------------------------------------------- log group, cluster, topic

LOG_GROUP = {
    "name": "/ecs/app-dev",
    "arn": RECORDED["DescribeLogGroups"]["logGroups"][0]["arn"],
    "retention": RECORDED["DescribeLogGroups"]["logGroups"][0]["retentionInDays"],
    "kms_key_id": "",
    "tags": RECORDED["ListTagsLogGroup"]["tags"],
}
WANTED_LOG_GROUP = {"name": "/ecs/app-dev", "retention": 7, "kms_key_id": "", "tags": dict(ENV_TAGS, Name="/ecs/app-dev")}
CLUSTER_ANSWER = RECORDED["DescribeClusters"]["clusters"][0]
WANTED_CLUSTER = {"name": "app-dev", "container_insights": "disabled", "capacity_providers": ["FARGATE"], "tags": dict(ENV_TAGS, Name="app-dev")}
TOPIC = {
    "topic_arn": RECORDED["GetTopicAttributes"]["Attributes"]["TopicArn"],
    "name": "bluegreen-alarms-dev",
    "display_name": RECORDED["GetTopicAttributes"]["Attributes"]["DisplayName"],
    "tags": {t["Key"]: t["Value"] for t in RECORDED["ListTagsForTopic"]["Tags"]},
}
WANTED_TOPIC = {"name": "bluegreen-alarms-dev", "display_name": "bluegreen dev alarms", "tags": dict(ENV_TAGS, Name="bluegreen-alarms-dev")}


def cluster(**answer):
    """cluster_summary of the recorded DescribeClusters entry, with the given keys drifted."""
    return ecs.cluster_summary(dict(copy.deepcopy(CLUSTER_ANSWER), **answer))


def test_the_recorded_log_group_cluster_and_topic_are_converged():
    assert logs.plan_log_group(WANTED_LOG_GROUP, LOG_GROUP) == ([], False)
    assert app_tier.plan_cluster(WANTED_CLUSTER, cluster()) == ([], False)
    assert app_tier.plan_topic(WANTED_TOPIC, TOPIC) == ([], False)


OWNED = dict(ENV_TAGS, owner="someone")
# drift -> (plan, wanted, drifted current, resource, planned field, before, after)
SINGLE_DRIFTS = {
    "log group retention set to never expire": (logs.plan_log_group, WANTED_LOG_GROUP, dict(LOG_GROUP, retention=None), "log group", "retention", None, 7),
    "log group retention changed by hand": (logs.plan_log_group, WANTED_LOG_GROUP, dict(LOG_GROUP, retention=30), "log group", "retention", 30, 7),
    "log group tag added by hand": (
        logs.plan_log_group,
        WANTED_LOG_GROUP,
        dict(LOG_GROUP, tags=dict(LOG_GROUP["tags"], owner="someone")),
        "log group",
        "tags",
        dict(OWNED, Name="/ecs/app-dev"),
        WANTED_LOG_GROUP["tags"],
    ),
    "cluster capacity provider added by hand": (
        app_tier.plan_cluster,
        WANTED_CLUSTER,
        cluster(capacityProviders=["FARGATE_SPOT", "FARGATE"]),
        "ECS cluster",
        "capacity_providers",
        ["FARGATE", "FARGATE_SPOT"],
        ["FARGATE"],
    ),
    "cluster capacity providers removed by hand": (
        app_tier.plan_cluster,
        WANTED_CLUSTER,
        cluster(capacityProviders=[]),
        "ECS cluster",
        "capacity_providers",
        [],
        ["FARGATE"],
    ),
    "cluster tag added by hand": (
        app_tier.plan_cluster,
        WANTED_CLUSTER,
        cluster(tags=CLUSTER_ANSWER["tags"] + [{"key": "owner", "value": "someone"}]),
        "ECS cluster",
        "tags",
        dict(OWNED, Name="app-dev"),
        WANTED_CLUSTER["tags"],
    ),
    "topic tag removed by hand": (
        app_tier.plan_topic,
        WANTED_TOPIC,
        dict(TOPIC, tags={"Name": "bluegreen-alarms-dev"}),
        "SNS topic",
        "tags",
        {"Name": "bluegreen-alarms-dev"},
        WANTED_TOPIC["tags"],
    ),
}


@pytest.mark.parametrize("drift", sorted(SINGLE_DRIFTS))
def test_one_log_group_cluster_or_topic_drift_is_the_one_change(drift):
    plan, wanted, current, resource, planned, before, after = SINGLE_DRIFTS[drift]
    changes, apply = plan(wanted, current)
    assert the_one_change(changes) == (resource, wanted["name"], "update", {planned: {"before": before, "after": after}}) and apply


# ---------------------------------------------------------------- alarms

# As a deploy now creates it: with the unit ECS publishes CPUUtilization in (the recording predates it).
ALARM = dict(RECORDED["DescribeAlarms"]["MetricAlarms"][0], Unit="Percent")
ALARM_TAGS = {t["Key"]: t["Value"] for t in RECORDED["ListTagsForAlarm"]["Tags"]}
TOPIC_ARN = TOPIC["topic_arn"]
SPEC = {
    "environment": "dev",
    "colors": ["blue"],
    "kinds": [
        {
            "key": "ecs_alarm_cpu",
            "what": "average CPU of the service",
            "namespace": "AWS/ECS",
            "metric": "CPUUtilization",
            "statistic": "Average",
            "comparison": "GreaterThanThreshold",
            "threshold": "80",
            "unit": "Percent",
        }
    ],
    "names": {"ecs_alarm_cpu_blue": "app-blue-cpu-dev"},
    "cluster": "app-dev",
    "services": {"blue": "app-blue-dev"},
    "period": 60,
    "evaluation_periods": 3,
    "extra_actions": [],
}
ALB_ARN = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/app-dev/50dc6c495c0c9188"
DEFINITIONS = app_tier.alarm_definitions(SPEC, ALB_ARN, {"blue": GROUP["TargetGroupArn"]}, TOPIC_ARN)


class TagsClient:
    """Answers ListTagsForResource (the one call plan_alarm makes for an existing alarm)."""

    def __init__(self, tags):
        self.tags = tags

    def list_tags_for_resource(self, ResourceARN):
        return {"Tags": [{"Key": k, "Value": v} for k, v in self.tags.items()]}


def alarm_plan(found, tags=None):
    tags = ALARM_TAGS if tags is None else tags
    return cloudwatch.plan_alarm_changes(TagsClient(tags), DEFINITIONS, {ALARM["AlarmName"]: found}, ENV_TAGS)


def test_the_recorded_alarm_is_converged():
    assert alarm_plan(ALARM) == ([], False)


OTHER = "arn:aws:sns:us-east-1:123456789012:someone-else"
SERVICE = {"ClusterName": "app-dev", "ServiceName": "app-blue-dev"}
# planned field -> (DescribeAlarms key, drifted value, before, after)
ALARM_DRIFTS = {
    "description": ("AlarmDescription", "edited", "edited", "Average CPU of the service of blue in dev"),
    "namespace": ("Namespace", "AWS/EC2", "AWS/EC2", "AWS/ECS"),
    "metric_name": ("MetricName", "MemoryUtilization", "MemoryUtilization", "CPUUtilization"),
    "statistic": ("Statistic", "Maximum", "Maximum", "Average"),
    "comparison": ("ComparisonOperator", "GreaterThanOrEqualToThreshold", "GreaterThanOrEqualToThreshold", "GreaterThanThreshold"),
    "period": ("Period", 300, 300, 60),
    "evaluation_periods": ("EvaluationPeriods", 1, 1, 3),
    "treat_missing_data": ("TreatMissingData", "breaching", "breaching", "notBreaching"),
    "alarm_actions": ("AlarmActions", [TOPIC_ARN, OTHER], [TOPIC_ARN, OTHER], [TOPIC_ARN]),
    "dimensions": (
        "Dimensions",
        [{"Name": "ClusterName", "Value": "app-dev"}, {"Name": "ServiceName", "Value": "app-green-dev"}],
        dict(SERVICE, ServiceName="app-green-dev"),
        SERVICE,
    ),
}


def expected_fields(planned, before, after):
    """The fields a drift of `planned` changes: an alarm that does not set DatapointsToAlarm
    (as the recorded one) breaches on all its evaluation periods, so those two move together."""
    fields = {planned: {"before": before, "after": after}}
    if planned == "evaluation_periods":
        fields["datapoints_to_alarm"] = {"before": before, "after": after}
    return fields


@pytest.mark.parametrize("planned", sorted(ALARM_DRIFTS))
def test_one_alarm_drift_is_the_one_change(planned):
    key, value, before, after = ALARM_DRIFTS[planned]
    changes, apply = alarm_plan(dict(copy.deepcopy(ALARM), **{key: value}))
    assert the_one_change(changes) == ("alarm", "app-blue-cpu-dev", "update", expected_fields(planned, before, after)) and apply


def test_a_dimension_removed_by_hand_is_the_one_change():
    changes, dummy = alarm_plan(dict(copy.deepcopy(ALARM), Dimensions=ALARM["Dimensions"][:1]))
    assert the_one_change(changes) == ("alarm", "app-blue-cpu-dev", "update", {"dimensions": {"before": {"ClusterName": "app-dev"}, "after": SERVICE}})


def test_an_alarm_tag_changed_by_hand_is_the_one_change():
    tags = dict(ALARM_TAGS, Name="renamed")
    changes, dummy = alarm_plan(ALARM, tags=tags)
    assert the_one_change(changes) == ("alarm", "app-blue-cpu-dev", "update", {"tags": {"before": tags, "after": ALARM_TAGS}})


# DescribeAlarms key -> drifted value: settings alarm_definitions gives no option for, compared
# with the alarm defaults (actions enabled, N out of N).
DEFAULTED_ALARM_DRIFTS = {"ActionsEnabled": (False, True), "DatapointsToAlarm": (1, ALARM["EvaluationPeriods"])}


@pytest.mark.parametrize("unit", ["Seconds", None])
def test_a_unit_changed_or_removed_by_hand_is_planned_back(unit):
    answer = copy.deepcopy(ALARM)
    answer["Unit"] = unit
    changes, dummy = alarm_plan(answer)
    assert the_one_change(changes) == ("alarm", "app-blue-cpu-dev", "update", {"unit": {"before": unit, "after": "Percent"}})


@pytest.mark.parametrize("key", sorted(DEFAULTED_ALARM_DRIFTS))
def test_an_alarm_setting_the_role_does_not_give_is_planned_back(key):
    drifted, back = DEFAULTED_ALARM_DRIFTS[key]
    changes, dummy = alarm_plan(dict(copy.deepcopy(ALARM), **{key: drifted}))
    resource, name, action, fields = the_one_change(changes)
    assert (resource, name, action, len(fields)) == ("alarm", "app-blue-cpu-dev", "update", 1)
    assert [(f["before"], f["after"]) for f in fields.values()] == [(drifted, back)]


def test_an_alarm_without_datapoints_to_alarm_is_n_out_of_n():
    """AWS leaves DatapointsToAlarm out of an alarm created without it: the same as N out of N."""
    answer = copy.deepcopy(ALARM)
    answer.pop("DatapointsToAlarm", None)
    changes, dummy = alarm_plan(answer)
    assert changes == []


# ---------------------------------------------------------------- load balancer and listeners

LB = json.loads((RECORDED_DIR / "load_balancer_http.json").read_text())
BALANCER = LB["LoadBalancers"][0]
LISTENERS = LB["Listeners"]
LB_TAGS = {d["ResourceArn"]: {t["Key"]: t["Value"] for t in d["Tags"]} for d in LB["TagDescriptions"]}
ARNS = LB["TargetGroupArns"]
SUBNETS = sorted(z["SubnetId"] for z in BALANCER["AvailabilityZones"])
WANTED_LB = {
    "subnets": SUBNETS,
    "security_groups": list(BALANCER["SecurityGroups"]),
    "tags": dict(ENV_TAGS, Name="app-dev"),
    "traffic_port": 80,
    "certificate_arn": "",
    "ssl_policy": "ELBSecurityPolicy-TLS13-1-2-2021-06",
}
CERT = "arn:aws:acm:us-east-1:123456789012:certificate/abc"
WANTED_HTTPS = dict(WANTED_LB, certificate_arn=CERT, traffic_port=443)
# The HTTPS shape of the recorded load balancer: the forward on 443, 80 redirecting to it.
HTTPS = dict(copy.deepcopy(LISTENERS[0]), Port=443, Protocol="HTTPS", SslPolicy=WANTED_LB["ssl_policy"], Certificates=[{"CertificateArn": CERT}])
REDIRECT = dict(
    copy.deepcopy(LISTENERS[0]),
    ListenerArn=LISTENERS[0]["ListenerArn"] + "r",
    DefaultActions=[{"Type": "redirect", "RedirectConfig": dict(load_balancer.HTTPS_REDIRECT)}],
)
HTTP_STATE = {"protocol": "HTTP", "actions": ["forward"]}
HTTPS_STATE = {"protocol": "HTTPS", "actions": ["forward"], "ssl_policy": WANTED_LB["ssl_policy"], "certificates": [CERT]}


def lb_plan(wanted=None, balancer=None, listeners=None, tags=None):
    """The plan of the recorded load balancer, with what a test changes in place of the recorded part."""
    return load_balancer.plan(
        "app-dev",
        WANTED_LB if wanted is None else wanted,
        BALANCER if balancer is None else balancer,
        LISTENERS if listeners is None else listeners,
        LB_TAGS if tags is None else tags,
        ARNS,
    )


def test_the_recorded_load_balancer_and_its_https_shape_are_converged():
    assert lb_plan()["changes"] == []
    assert lb_plan(wanted=WANTED_HTTPS, listeners=[HTTPS, REDIRECT], tags=dict(LB_TAGS, **{REDIRECT["ListenerArn"]: {}}))["changes"] == []


# drift -> (balancer, listeners, tags, wanted, planned field, before, after)
LB_DRIFTS = {
    "subnet removed by hand": (
        dict(BALANCER, AvailabilityZones=BALANCER["AvailabilityZones"][:1]),
        LISTENERS,
        LB_TAGS,
        WANTED_LB,
        "subnets",
        [BALANCER["AvailabilityZones"][0]["SubnetId"]],
        SUBNETS,
    ),
    "security group replaced by hand": (
        dict(BALANCER, SecurityGroups=["sg-0other"]),
        LISTENERS,
        LB_TAGS,
        WANTED_LB,
        "security_groups",
        ["sg-0other"],
        BALANCER["SecurityGroups"],
    ),
    "tag changed by hand": (
        BALANCER,
        LISTENERS,
        dict(LB_TAGS, **{BALANCER["LoadBalancerArn"]: dict(ENV_TAGS, Name="renamed")}),
        WANTED_LB,
        "tags",
        dict(ENV_TAGS, Name="renamed"),
        WANTED_LB["tags"],
    ),
    "traffic listener deleted by hand": (BALANCER, [], LB_TAGS, WANTED_LB, "listener 80", None, HTTP_STATE),
    "traffic listener turned to a fixed response": (
        BALANCER,
        [dict(LISTENERS[0], DefaultActions=[{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "503"}}])],
        LB_TAGS,
        WANTED_LB,
        "listener 80",
        {"protocol": "HTTP", "actions": ["fixed-response"]},
        HTTP_STATE,
    ),
    "traffic listener protocol changed by hand": (
        BALANCER,
        [dict(LISTENERS[0], Protocol="HTTPS", Certificates=[{"CertificateArn": CERT}])],
        LB_TAGS,
        WANTED_LB,
        "listener 80",
        {"protocol": "HTTPS", "actions": ["forward"], "ssl_policy": "ELBSecurityPolicy-2016-08", "certificates": [CERT]},
        HTTP_STATE,
    ),
    "https listener policy changed by hand": (
        BALANCER,
        [dict(HTTPS, SslPolicy="ELBSecurityPolicy-2016-08"), REDIRECT],
        dict(LB_TAGS, **{REDIRECT["ListenerArn"]: {}}),
        WANTED_HTTPS,
        "listener 443",
        dict(HTTPS_STATE, ssl_policy="ELBSecurityPolicy-2016-08"),
        HTTPS_STATE,
    ),
    "https listener certificate changed by hand": (
        BALANCER,
        [dict(HTTPS, Certificates=[{"CertificateArn": CERT + "-old"}]), REDIRECT],
        dict(LB_TAGS, **{REDIRECT["ListenerArn"]: {}}),
        WANTED_HTTPS,
        "listener 443",
        dict(HTTPS_STATE, certificates=[CERT + "-old"]),
        HTTPS_STATE,
    ),
    "redirect listener deleted by hand": (
        BALANCER,
        [HTTPS],
        LB_TAGS,
        WANTED_HTTPS,
        "listener 80",
        None,
        {"protocol": "HTTP", "actions": ["redirect"], "redirect": load_balancer.HTTPS_REDIRECT},
    ),
}


@pytest.mark.parametrize("drift", sorted(LB_DRIFTS))
def test_one_load_balancer_drift_is_the_one_change(drift):
    balancer, listeners, tags, wanted, planned, before, after = LB_DRIFTS[drift]
    result = lb_plan(wanted=wanted, balancer=balancer, listeners=listeners, tags=tags)
    assert the_one_change(result["changes"]) == ("load balancer", "app-dev", "update", {planned: {"before": before, "after": after}})
    assert result["apply"]


# ---------------------------------------------------------------- IAM roles

FOUND_ROLES = json.loads((RECORDED_DIR / "iam_roles_info.json").read_text())["roles"]
EXECUTION, TASK = "app-execution-dev-us-east-1", "app-task-dev-us-east-1"
TRUST = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
SECRET = FOUND_ROLES[EXECUTION]["inline_policies"]["app-secret-read-dev"]
EXECUTION_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"


def role(name, description, managed=(), inline=None):
    return {
        "name": name,
        "description": description,
        "trust_policy": TRUST,
        "managed_policy_arns": list(managed),
        "tags": dict(ENV_TAGS, Name=name),
        "inline_policies": inline or {},
    }


WANTED_ROLES = [role(EXECUTION, "ECS task execution role of dev", [EXECUTION_POLICY], {"app-secret-read-dev": SECRET}), role(TASK, "ECS task role of dev")]


def roles_with(name, **fields):
    found = copy.deepcopy(FOUND_ROLES)
    found[name].update(fields)
    return found


def test_the_recorded_roles_are_converged():
    assert iam.plan_roles(WANTED_ROLES, FOUND_ROLES)[0] == []


def test_a_managed_policy_attached_by_hand_is_the_one_change():
    changes, apply = iam.plan_roles(WANTED_ROLES, roles_with(EXECUTION, managed_policy_arns=sorted([EXECUTION_POLICY, ADMIN])))
    fields = {"managed_policy_arns": {"before": sorted([EXECUTION_POLICY, ADMIN]), "after": [EXECUTION_POLICY]}}
    assert the_one_change(changes) == ("iam role", EXECUTION, "update", fields) and apply["roles"] == [EXECUTION]


def test_a_trust_policy_widened_by_hand_is_the_one_change():
    widened = copy.deepcopy(TRUST)
    widened["Statement"].append({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::210987654321:root"}, "Action": "sts:AssumeRole"})
    changes, apply = iam.plan_roles(WANTED_ROLES, roles_with(TASK, trust_policy=widened))
    assert the_one_change(changes) == ("iam role", TASK, "update", {"trust_policy": {"before": widened, "after": TRUST}}) and apply["roles"] == [TASK]


def test_a_role_tag_added_by_hand_is_the_one_change():
    tags = dict(ENV_TAGS, Name=TASK, owner="someone")
    changes, dummy = iam.plan_roles(WANTED_ROLES, roles_with(TASK, tags=tags))
    assert the_one_change(changes) == ("iam role", TASK, "update", {"tags": {"before": tags, "after": dict(ENV_TAGS, Name=TASK)}})


def test_an_inline_policy_deleted_by_hand_is_the_one_change():
    changes, apply = iam.plan_roles(WANTED_ROLES, roles_with(EXECUTION, inline_policies={}))
    assert the_one_change(changes) == ("iam inline policy", EXECUTION + "/app-secret-read-dev", "create", {"document": {"before": None, "after": SECRET}})
    assert apply["policies"] == [{"role": EXECUTION, "name": "app-secret-read-dev", "document": SECRET, "role_exists": True}] and apply["roles"] == []


def test_an_inline_policy_action_widened_by_hand_is_the_one_change():
    widened = copy.deepcopy(SECRET)
    widened["Statement"][0]["Action"] = "secretsmanager:*"
    changes, dummy = iam.plan_roles(WANTED_ROLES, roles_with(EXECUTION, inline_policies={"app-secret-read-dev": widened}))
    assert the_one_change(changes) == ("iam inline policy", EXECUTION + "/app-secret-read-dev", "update", {"document": {"before": widened, "after": SECRET}})
