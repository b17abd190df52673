"""The ecs_service role's plan beside the load balancer (module_utils/app_tier.py) on answers
recorded from the emulator (DescribeTargetGroups with attributes and tags, DescribeLogGroups,
DescribeClusters, SNS topic attributes and tags, DescribeAlarms): nothing planned when a
resource matches, exactly the drifted field when it does not, a create when it is missing."""

import copy
import json
from pathlib import Path

import pytest

from ansible_collections.bluegreen.migration.plugins.module_utils import app_tier
from ansible_collections.bluegreen.migration.plugins.module_utils import cloudwatch
from ansible_collections.bluegreen.migration.plugins.module_utils import ecs
from ansible_collections.bluegreen.migration.plugins.module_utils import elbv2
from ansible_collections.bluegreen.migration.plugins.module_utils import logs

RECORDED = json.loads((Path(__file__).parent / "recorded" / "app_tier.json").read_text())
ENV_TAGS = {"bluegreen:environment": "dev", "bluegreen:component": "ecs_service"}

GROUP = RECORDED["DescribeTargetGroups"]["TargetGroups"][0]
ATTRIBUTES = {a["Key"]: a["Value"] for a in RECORDED["DescribeTargetGroupAttributes"]["Attributes"]}
GROUP_TAGS = {t["Key"]: t["Value"] for t in RECORDED["TargetGroupTags"]["TagDescriptions"][0]["Tags"]}
TARGET_GROUP = elbv2.target_group_summary(GROUP, ATTRIBUTES, GROUP_TAGS)
WANTED_GROUP = {
    "color": "blue",
    "name": "app-blue-dev",
    "protocol": "HTTP",
    "port": 80,
    "vpc_id": GROUP["VpcId"],
    "target_type": "ip",
    "health_check": {
        "path": "/", "protocol": "HTTP", "port": "traffic-port", "interval": 30, "timeout": 5,
        "healthy_threshold": 2, "unhealthy_threshold": 3, "matcher": "200",
    },
    "deregistration_delay": 30,
    "tags": dict(ENV_TAGS, Name="app-blue-dev", **{"bluegreen:color": "blue"}),
}

LOG_GROUP_ANSWER = RECORDED["DescribeLogGroups"]["logGroups"][0]
LOG_GROUP = {
    "name": "/ecs/app-dev",
    "arn": LOG_GROUP_ANSWER["arn"],
    "retention": LOG_GROUP_ANSWER["retentionInDays"],
    "kms_key_id": "",
    "tags": RECORDED["ListTagsLogGroup"]["tags"],
}
WANTED_LOG_GROUP = {"name": "/ecs/app-dev", "retention": 7, "kms_key_id": "", "tags": dict(ENV_TAGS, Name="/ecs/app-dev")}

CLUSTER = ecs.cluster_summary(RECORDED["DescribeClusters"]["clusters"][0])
WANTED_CLUSTER = {"name": "app-dev", "container_insights": "disabled", "capacity_providers": ["FARGATE"], "tags": dict(ENV_TAGS, Name="app-dev")}

TOPIC_ARN = RECORDED["GetTopicAttributes"]["Attributes"]["TopicArn"]
TOPIC = {
    "topic_arn": TOPIC_ARN,
    "name": "bluegreen-alarms-dev",
    "display_name": RECORDED["GetTopicAttributes"]["Attributes"]["DisplayName"],
    "tags": {t["Key"]: t["Value"] for t in RECORDED["ListTagsForTopic"]["Tags"]},
}
WANTED_TOPIC = {"name": "bluegreen-alarms-dev", "display_name": "bluegreen dev alarms", "tags": dict(ENV_TAGS, Name="bluegreen-alarms-dev")}

ALARM = RECORDED["DescribeAlarms"]["MetricAlarms"][0]
ALARM_TAGS = {t["Key"]: t["Value"] for t in RECORDED["ListTagsForAlarm"]["Tags"]}
SPEC = {
    "environment": "dev",
    "colors": ["blue"],
    "kinds": [
        {"key": "ecs_alarm_cpu", "what": "average CPU of the service", "namespace": "AWS/ECS", "metric": "CPUUtilization",
         "statistic": "Average", "comparison": "GreaterThanThreshold", "threshold": "80"},
    ],
    "names": {"ecs_alarm_cpu_blue": "app-blue-cpu-dev", "alb_alarm_5xx_blue": "app-blue-target-5xx-dev"},
    "cluster": "app-dev",
    "services": {"blue": "app-blue-dev"},
    "period": 60,
    "evaluation_periods": 3,
    "extra_actions": [],
}
ALB_ARN = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/app-dev/50dc6c495c0c9188"


class TagsClient:
    """Answers ListTagsForResource with the recorded tags (the one call plan_alarm makes)."""

    def __init__(self, tags):
        self.tags = tags
        self.asked = []

    def list_tags_for_resource(self, ResourceARN):
        self.asked.append(ResourceARN)
        return {"Tags": [{"Key": k, "Value": v} for k, v in self.tags.items()]}


def only(changes):
    assert len(changes) == 1, changes
    return changes[0]


# ---------------------------------------------------------------- target groups


def test_the_recorded_target_group_is_in_shape():
    assert app_tier.plan_target_group(WANTED_GROUP, TARGET_GROUP) == ([], False)


def test_a_missing_target_group_is_created():
    changes, apply = app_tier.plan_target_group(WANTED_GROUP, None)
    assert apply and only(changes)["action"] == "create"
    assert only(changes)["fields"]["health_check"]["after"]["path"] == "/"


@pytest.mark.parametrize(
    "key, value",
    [("path", "/health"), ("interval", 10), ("healthy_threshold", 5), ("matcher", "200-299")],
)
def test_a_drifted_health_check_is_an_update_of_the_health_check(key, value):
    current = copy.deepcopy(TARGET_GROUP)
    current["health_check"][key] = value
    changes, apply = app_tier.plan_target_group(WANTED_GROUP, current)
    change = only(changes)
    assert apply and change["action"] == "update" and list(change["fields"]) == ["health_check"]
    assert change["fields"]["health_check"]["before"][key] == value
    assert change["fields"]["health_check"]["after"][key] == WANTED_GROUP["health_check"][key]


def test_a_drifted_deregistration_delay_and_a_tag_added_by_hand():
    current = copy.deepcopy(TARGET_GROUP)
    current["deregistration_delay"] = 300
    current["tags"]["owner"] = "someone"
    change = only(app_tier.plan_target_group(WANTED_GROUP, current)[0])
    assert change["fields"]["deregistration_delay"] == {"before": 300, "after": 30}
    assert "owner" in change["fields"]["tags"]["before"] and "owner" not in change["fields"]["tags"]["after"]


def test_a_port_that_cannot_change_in_place_is_a_replace_with_the_reason():
    change = only(app_tier.plan_target_group(dict(WANTED_GROUP, port=8080), TARGET_GROUP)[0])
    assert change["action"] == "replace" and change["fields"] == {"port": {"before": 80, "after": 8080}}
    assert "cannot be changed in place" in change["reason"]


# ---------------------------------------------------------------- log group, cluster, topic


def test_the_recorded_log_group_cluster_and_topic_are_in_shape():
    assert logs.plan_log_group(WANTED_LOG_GROUP, LOG_GROUP) == ([], False)
    assert app_tier.plan_cluster(WANTED_CLUSTER, CLUSTER) == ([], False)
    assert app_tier.plan_topic(WANTED_TOPIC, TOPIC) == ([], False)


def test_missing_log_group_cluster_and_topic_are_created():
    for plan, wanted in ((logs.plan_log_group, WANTED_LOG_GROUP), (app_tier.plan_cluster, WANTED_CLUSTER), (app_tier.plan_topic, WANTED_TOPIC)):
        changes, apply = plan(wanted, None)
        assert apply and only(changes)["action"] == "create" and only(changes)["name"] == wanted["name"]


def test_a_shorter_retention_is_an_update_of_the_retention_only():
    change = only(logs.plan_log_group(dict(WANTED_LOG_GROUP, retention=14), LOG_GROUP)[0])
    assert change["fields"] == {"retention": {"before": 7, "after": 14}}


def test_container_insights_turned_on_by_hand_is_put_back():
    current = dict(CLUSTER, container_insights="enabled")
    change = only(app_tier.plan_cluster(WANTED_CLUSTER, current)[0])
    assert change["fields"] == {"container_insights": {"before": "enabled", "after": "disabled"}}


def test_a_topic_renamed_by_hand_is_put_back():
    current = dict(TOPIC, display_name="someone else's")
    change = only(app_tier.plan_topic(WANTED_TOPIC, current)[0])
    assert change["fields"] == {"display_name": {"before": "someone else's", "after": "bluegreen dev alarms"}}


# ---------------------------------------------------------------- alarms


def definitions(**spec):
    return app_tier.alarm_definitions(dict(SPEC, **spec), ALB_ARN, {"blue": GROUP["TargetGroupArn"]}, TOPIC_ARN)


def test_alarm_definitions_name_each_kind_per_color_with_its_dimensions():
    five_xx = {"key": "alb_alarm_5xx", "what": "target 5xx responses", "namespace": "AWS/ApplicationELB", "metric": "HTTPCode_Target_5XX_Count",
               "statistic": "Sum", "comparison": "GreaterThanThreshold", "threshold": 10}
    cpu, errors = definitions(kinds=SPEC["kinds"] + [five_xx], extra_actions=["arn:aws:sns:us-east-1:123456789012:pager"])
    assert cpu["dimensions"] == {"ClusterName": "app-dev", "ServiceName": "app-blue-dev"}
    assert errors["name"] == "app-blue-target-5xx-dev"
    group_id = GROUP["TargetGroupArn"].rsplit("/", 1)[1]
    assert errors["dimensions"] == {"LoadBalancer": "app/app-dev/50dc6c495c0c9188", "TargetGroup": "targetgroup/app-blue-dev/" + group_id}
    assert cpu["alarm_actions"] == [TOPIC_ARN, "arn:aws:sns:us-east-1:123456789012:pager"]
    assert (cpu["threshold"], cpu["period"], cpu["description"]) == (80.0, 60, "Average CPU of the service of blue in dev")


def test_the_recorded_alarm_is_in_shape_and_its_tags_are_read():
    client = TagsClient(ALARM_TAGS)
    assert cloudwatch.plan_alarm_changes(client, definitions(), {ALARM["AlarmName"]: ALARM}, ENV_TAGS) == ([], False)
    assert client.asked == [ALARM["AlarmArn"]]


def test_a_threshold_changed_by_hand_is_an_update_of_the_threshold():
    current = dict(ALARM, Threshold=95.0)
    change = only(cloudwatch.plan_alarm_changes(TagsClient(ALARM_TAGS), definitions(), {ALARM["AlarmName"]: current}, ENV_TAGS)[0])
    assert change["action"] == "update" and change["fields"] == {"threshold": {"before": 95.0, "after": 80.0}}


def test_a_missing_alarm_is_created_without_reading_tags():
    client = TagsClient(ALARM_TAGS)
    change = only(cloudwatch.plan_alarm_changes(client, definitions(), {}, ENV_TAGS)[0])
    assert change["action"] == "create" and change["fields"]["threshold"]["after"] == 80.0
    assert client.asked == []


def test_an_alarm_without_its_topic_is_an_update_of_its_actions():
    alarms = app_tier.alarm_definitions(SPEC, ALB_ARN, {"blue": GROUP["TargetGroupArn"]}, "")
    change = only(cloudwatch.plan_alarm_changes(TagsClient(ALARM_TAGS), alarms, {ALARM["AlarmName"]: ALARM}, ENV_TAGS)[0])
    assert change["fields"] == {"alarm_actions": {"before": [TOPIC_ARN], "after": []}}


def test_a_kind_without_a_threshold_and_an_alarm_without_a_metric_are_refused():
    broken = dict(SPEC, kinds=[dict(SPEC["kinds"][0], threshold=None)])
    with pytest.raises(cloudwatch.AlarmDefinitionError, match="the alarm spec lacks or mistypes"):
        app_tier.alarm_definitions(broken, ALB_ARN, {}, "")
    with pytest.raises(cloudwatch.AlarmDefinitionError, match="'period'"):
        app_tier.alarm_definitions({k: v for k, v in SPEC.items() if k != "period"}, ALB_ARN, {}, "")
    with pytest.raises(cloudwatch.AlarmDefinitionError, match="does not exist: give metric_name, statistic"):
        cloudwatch.plan_alarm(TagsClient({}), {"name": "x", "namespace": "AWS/ECS"}, None, None)


def test_the_plan_checks_a_health_check_as_the_writer_does():
    from ansible_collections.bluegreen.migration.plugins.module_utils.core import validated

    checked = validated({"path": "/ready", "interval": "10"}, elbv2.HEALTH_CHECK_SPEC, "target_groups[0].health_check")
    assert checked["interval"] == 10 and checked["matcher"] == "200" and checked["port"] == "traffic-port"
    assert app_tier.plan_target_group(dict(WANTED_GROUP, health_check=validated({}, elbv2.HEALTH_CHECK_SPEC, "hc")), TARGET_GROUP) == ([], False)
    with pytest.raises(ValueError, match=r"target_groups\[1\].health_check: .*protocol"):
        validated({"protocol": "TCP"}, elbv2.HEALTH_CHECK_SPEC, "target_groups[1].health_check")
    with pytest.raises(ValueError, match=r"alarms\[0\]: .*name"):
        validated({"threshold": 1}, cloudwatch.ALARM_OPTIONS, "alarms[0]")
