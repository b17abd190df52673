"""Every field the aurora plan compares (module_utils/aurora.py and, for the role's alarms,
module_utils/cloudwatch.py), each drifted alone on the recorded answers: the plan has exactly
one change, naming the resource, the action and only that field with its value before (as AWS
has it) and after (as wanted). The fields test_aurora_plan.py already drifts this way are
listed in tests/unit/README.md; this file covers the rest."""

import copy
import json
from pathlib import Path

import pytest

from ansible_collections.bluegreen.migration.plugins.module_utils import aurora
from ansible_collections.bluegreen.migration.plugins.module_utils import cloudwatch

RECORDED = Path(__file__).parent / "recorded"
CLUSTER = json.loads((RECORDED / "describe_db_clusters.json").read_text())["DBClusters"][0]
INSTANCES = json.loads((RECORDED / "describe_db_instances.json").read_text())["DBInstances"]
SUBNET_GROUP = json.loads((RECORDED / "describe_db_subnet_groups.json").read_text())
SG = CLUSTER["VpcSecurityGroups"][0]["VpcSecurityGroupId"]
BASE_TAGS = {"bluegreen:environment": "dev", "bluegreen:component": "aurora"}
DESIRED = {
    "identifier": "aurora-dev",
    "engine": "aurora-postgresql",
    "engine_version": "16.4",
    "port": 5432,
    "db_subnet_group": "aurora-dev",
    "security_group_ids": [SG],
    "storage_encrypted": True,
    "backup_retention_period": 7,
    "deletion_protection": False,
    "copy_tags_to_snapshot": True,
    "tags": dict(BASE_TAGS, Name="aurora-dev"),
}
WANTED_INSTANCES = aurora.instance_plan(["aurora-1-dev", "aurora-2-dev"], BASE_TAGS)
CLASS = "db.r6g.large"


def the_one_change(changes):
    assert len(changes) == 1, changes
    item = changes[0]
    return item["resource"], item["name"], item["action"], item["fields"]


def test_the_recorded_cluster_and_instances_are_converged():
    assert aurora.plan(DESIRED, WANTED_INSTANCES, CLASS, CLUSTER, INSTANCES)["changes"] == []


def test_an_engine_changed_under_the_name_is_a_replace_of_the_engine_only():
    result = aurora.plan(DESIRED, WANTED_INSTANCES, CLASS, dict(copy.deepcopy(CLUSTER), Engine="aurora-mysql"), INSTANCES)
    resource, name, action, fields = the_one_change(result["changes"])
    assert (resource, name, action, fields) == ("aurora cluster", "aurora-dev", "replace", {"engine": {"before": "aurora-mysql", "after": "aurora-postgresql"}})
    assert result["apply"]["cluster"] is False


def test_a_security_group_removed_by_hand_is_the_one_change():
    result = aurora.plan(DESIRED, WANTED_INSTANCES, CLASS, dict(copy.deepcopy(CLUSTER), VpcSecurityGroups=[]), INSTANCES)
    assert the_one_change(result["changes"]) == ("aurora cluster", "aurora-dev", "update", {"security_group_ids": {"before": [], "after": [SG]}})


# --- DB subnet group (DescribeDBSubnetGroups and ListTagsForResource as recorded)


class SubnetGroupClient:
    """Answers read_subnet_group's two calls with the recorded answers, drifted as given."""

    def __init__(self, group=None, tags=None):
        self.group = group or SUBNET_GROUP["DescribeDBSubnetGroups"]["DBSubnetGroups"][0]
        self.tags = tags if tags is not None else SUBNET_GROUP["ListTagsForResource"]["TagList"]

    def describe_db_subnet_groups(self, DBSubnetGroupName):
        return {"DBSubnetGroups": [self.group]}

    def list_tags_for_resource(self, ResourceName):
        return {"TagList": self.tags}


RECORDED_GROUP = SUBNET_GROUP["DescribeDBSubnetGroups"]["DBSubnetGroups"][0]
GROUP_SUBNETS = sorted(s["SubnetIdentifier"] for s in RECORDED_GROUP["Subnets"])
WANTED_SUBNET_GROUP = {"name": "aurora-dev", "description": "Isolated subnets of dev", "subnet_ids": GROUP_SUBNETS, "tags": dict(BASE_TAGS, Name="aurora-dev")}
EXTRA_SUBNET = {"SubnetIdentifier": "subnet-0byhand", "SubnetAvailabilityZone": {"Name": "us-east-1c"}, "SubnetStatus": "Active"}

SUBNET_GROUP_DRIFTS = {
    "description": (SubnetGroupClient(group=dict(RECORDED_GROUP, DBSubnetGroupDescription="changed by hand")), "changed by hand", "Isolated subnets of dev"),
    "subnet_ids": (
        SubnetGroupClient(group=dict(RECORDED_GROUP, Subnets=RECORDED_GROUP["Subnets"] + [EXTRA_SUBNET])),
        sorted(GROUP_SUBNETS + ["subnet-0byhand"]),
        GROUP_SUBNETS,
    ),
    "tags": (
        SubnetGroupClient(tags=[t for t in SUBNET_GROUP["ListTagsForResource"]["TagList"] if t["Key"] != "Name"] + [{"Key": "Name", "Value": "x"}]),
        dict(BASE_TAGS, Name="x"),
        dict(BASE_TAGS, Name="aurora-dev"),
    ),
}


def test_the_recorded_subnet_group_is_converged():
    assert aurora.plan_subnet_group(WANTED_SUBNET_GROUP, aurora.read_subnet_group(SubnetGroupClient(), "aurora-dev")) == ([], False)


@pytest.mark.parametrize("planned", sorted(SUBNET_GROUP_DRIFTS))
def test_one_subnet_group_drift_is_the_one_change(planned):
    client, before, after = SUBNET_GROUP_DRIFTS[planned]
    changes, apply = aurora.plan_subnet_group(WANTED_SUBNET_GROUP, aurora.read_subnet_group(client, "aurora-dev"))
    assert the_one_change(changes) == ("DB subnet group", "aurora-dev", "update", {planned: {"before": before, "after": after}})
    assert apply


# --- the role's alarms (roles/aurora/vars/main.yml aurora_alarm_list: the CPU alarm), compared
# with DescribeAlarms' answer as recorded (tests/unit/ecs_service/recorded/app_tier.json) for the
# alarm the role writes: the same shape, with the aurora alarm's settings.

APP_TIER = json.loads((Path(__file__).parents[1] / "ecs_service" / "recorded" / "app_tier.json").read_text())
TOPIC = "arn:aws:sns:us-east-1:123456789012:bluegreen-alarms-dev"
ALARM_NAME = "aurora-cpu-dev"
ALARM_DEFINITION = {
    "name": ALARM_NAME,
    "description": "CPU of aurora-dev above 80.0%",
    "metric_name": "CPUUtilization",
    "comparison": "GreaterThanThreshold",
    "threshold": 80.0,
    "unit": "Percent",
    "namespace": "AWS/RDS",
    "statistic": "Average",
    "period": 300,
    "evaluation_periods": 3,
    "dimensions": {"DBClusterIdentifier": "aurora-dev"},
    "treat_missing_data": "missing",
    "alarm_actions": [TOPIC],
    "tags": {"Name": ALARM_NAME},
}
ALARM = dict(
    copy.deepcopy(APP_TIER["DescribeAlarms"]["MetricAlarms"][0]),
    AlarmName=ALARM_NAME,
    AlarmArn="arn:aws:cloudwatch:us-east-1:123456789012:alarm:" + ALARM_NAME,
    AlarmDescription=ALARM_DEFINITION["description"],
    Namespace="AWS/RDS",
    Unit="Percent",
    Period=300,
    Dimensions=[{"Name": "DBClusterIdentifier", "Value": "aurora-dev"}],
    TreatMissingData="missing",
    AlarmActions=[TOPIC],
)
ALARM_TAGS = dict(BASE_TAGS, Name=ALARM_NAME)


class TagsClient:
    """Answers ListTagsForResource (the one call plan_alarm makes for an existing alarm)."""

    def __init__(self, tags):
        self.tags = tags

    def list_tags_for_resource(self, ResourceARN):
        return {"Tags": [{"Key": k, "Value": v} for k, v in self.tags.items()]}


def alarm_plan(found, tags=None):
    tags = ALARM_TAGS if tags is None else tags
    return cloudwatch.plan_alarm_changes(TagsClient(tags), [ALARM_DEFINITION], {ALARM_NAME: found}, BASE_TAGS)


OTHER = "arn:aws:sns:us-east-1:123456789012:someone-else"
# planned field -> (DescribeAlarms key, drifted value, before, after)
ALARM_DRIFTS = {
    "description": ("AlarmDescription", "edited", "edited", ALARM_DEFINITION["description"]),
    "namespace": ("Namespace", "AWS/EC2", "AWS/EC2", "AWS/RDS"),
    "metric_name": ("MetricName", "ReadLatency", "ReadLatency", "CPUUtilization"),
    "statistic": ("Statistic", "Maximum", "Maximum", "Average"),
    "comparison": ("ComparisonOperator", "GreaterThanOrEqualToThreshold", "GreaterThanOrEqualToThreshold", "GreaterThanThreshold"),
    "threshold": ("Threshold", 95.0, 95.0, 80.0),
    "unit": ("Unit", "Seconds", "Seconds", "Percent"),
    "period": ("Period", 60, 60, 300),
    "evaluation_periods": ("EvaluationPeriods", 1, 1, 3),
    "treat_missing_data": ("TreatMissingData", "breaching", "breaching", "missing"),
    "alarm_actions": ("AlarmActions", [TOPIC, OTHER], [TOPIC, OTHER], [TOPIC]),
    "dimensions": (
        "Dimensions",
        [{"Name": "DBClusterIdentifier", "Value": "aurora-old"}],
        {"DBClusterIdentifier": "aurora-old"},
        {"DBClusterIdentifier": "aurora-dev"},
    ),
}


def test_the_converged_alarm_plans_nothing():
    assert alarm_plan(ALARM) == ([], False)


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
    assert the_one_change(changes) == ("alarm", ALARM_NAME, "update", expected_fields(planned, before, after))
    assert apply


def test_a_dimension_added_by_hand_is_the_one_change():
    extra = ALARM["Dimensions"] + [{"Name": "Role", "Value": "WRITER"}]
    changes, dummy = alarm_plan(dict(copy.deepcopy(ALARM), Dimensions=extra))
    fields = {"dimensions": {"before": {"DBClusterIdentifier": "aurora-dev", "Role": "WRITER"}, "after": {"DBClusterIdentifier": "aurora-dev"}}}
    assert the_one_change(changes) == ("alarm", ALARM_NAME, "update", fields)


def test_an_alarm_tag_removed_by_hand_is_the_one_change():
    tags = dict((k, v) for k, v in ALARM_TAGS.items() if k != "bluegreen:component")
    changes, dummy = alarm_plan(ALARM, tags=tags)
    assert the_one_change(changes) == ("alarm", ALARM_NAME, "update", {"tags": {"before": tags, "after": ALARM_TAGS}})


def test_alarm_actions_disabled_by_hand_are_planned_back():
    changes, dummy = alarm_plan(dict(copy.deepcopy(ALARM), ActionsEnabled=False))
    assert the_one_change(changes) == ("alarm", ALARM_NAME, "update", {"actions_enabled": {"before": False, "after": True}})


def test_datapoints_to_alarm_set_by_hand_is_planned_back():
    changes, dummy = alarm_plan(dict(copy.deepcopy(ALARM), DatapointsToAlarm=1))
    resource, name, action, fields = the_one_change(changes)
    assert (resource, name, action, list(fields)) == ("alarm", ALARM_NAME, "update", ["datapoints_to_alarm"])
    assert fields["datapoints_to_alarm"] == {"before": 1, "after": ALARM["EvaluationPeriods"]}
