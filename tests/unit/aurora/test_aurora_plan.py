"""The aurora role's plan (module_utils/aurora.py) on answers recorded from DescribeDBClusters
and DescribeDBInstances: nothing planned when everything matches, exactly the drifted field
when one differs, and what the writers are asked to do."""

import copy
import json
from pathlib import Path

import botocore.exceptions
import pytest

from ansible_collections.bluegreen.migration.plugins.module_utils import aurora

RECORDED = Path(__file__).parent / "recorded"
CLUSTER = json.loads((RECORDED / "describe_db_clusters.json").read_text())["DBClusters"][0]
INSTANCES = json.loads((RECORDED / "describe_db_instances.json").read_text())["DBInstances"]
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
    "master_username": "app_admin",
    "database_name": "app",
}
WANTED_INSTANCES = aurora.instance_plan(["aurora-1-dev", "aurora-2-dev"], BASE_TAGS)
CLASS = "db.r6g.large"


def planned(cluster=CLUSTER, instances=INSTANCES, wanted=None):
    return aurora.plan(DESIRED, wanted or WANTED_INSTANCES, CLASS, cluster, instances)


def cluster_with(**fields):
    found = copy.deepcopy(CLUSTER)
    found.update(fields)
    return found


def instances_with(index, **fields):
    found = copy.deepcopy(INSTANCES)
    found[index].update(fields)
    return found


def only_change(result):
    assert len(result["changes"]) == 1, result["changes"]
    return result["changes"][0]


def test_the_recorded_state_is_what_the_role_wants():
    result = planned()
    assert result["changes"] == [] and result["refused"] == []
    assert result["apply"] == {"cluster": False, "create_cluster": False, "engine_version": None, "instances": [], "delete_instances": []}


def test_a_reader_beyond_the_count_is_deleted_and_only_the_roles():
    """aurora_reader_count lowered from 1 to 0: the role's reader goes (it would keep running and
    billed); an instance added to the cluster by hand, and one already being deleted, stay out."""
    writer_only = aurora.instance_plan(["aurora-1-dev"], BASE_TAGS)
    result = planned(wanted=writer_only)
    change = only_change(result)
    assert (change["resource"], change["name"], change["action"]) == (aurora.INSTANCE, "aurora-2-dev", "delete")
    assert change["fields"] == {"db_instance_class": {"before": INSTANCES[1]["DBInstanceClass"], "after": None}}
    assert result["apply"]["delete_instances"] == ["aurora-2-dev"] and result["refused"] == []

    by_hand = instances_with(1, TagList=[{"Key": "Name", "Value": "aurora-2-dev"}])
    assert planned(instances=by_hand, wanted=writer_only)["apply"]["delete_instances"] == []
    going = instances_with(1, DBInstanceStatus="deleting")
    assert planned(instances=going, wanted=writer_only)["changes"] == []


def test_the_writer_beyond_the_count_is_refused():
    """After a failover the instance to remove may be the cluster's writer: deleting it would
    fail the cluster over again, so the role stops before any write and says what to do."""
    failed_over = cluster_with(DBClusterMembers=[
        {"DBInstanceIdentifier": "aurora-1-dev", "IsClusterWriter": False, "PromotionTier": 0},
        {"DBInstanceIdentifier": "aurora-2-dev", "IsClusterWriter": True, "PromotionTier": 1},
    ])
    result = planned(cluster=failed_over, wanted=aurora.instance_plan(["aurora-1-dev"], BASE_TAGS))
    assert len(result["refused"]) == 1
    for word in ("aurora-2-dev", "writer", "aurora_reader_count", "failover-db-cluster"):
        assert word in result["refused"][0], result["refused"]


def test_instance_plan_puts_the_writer_first():
    assert [(w["id"], w["promotion_tier"], w["tags"]["bluegreen:db-role"], w["tags"]["Name"]) for w in WANTED_INSTANCES] == [
        ("aurora-1-dev", 0, "writer", "aurora-1-dev"),
        ("aurora-2-dev", 1, "reader", "aurora-2-dev"),
    ]


def test_no_cluster_plans_the_cluster_and_every_instance_and_sends_the_version():
    result = planned(cluster=None, instances=[])
    assert [(c["resource"], c["name"], c["action"]) for c in result["changes"]] == [
        ("aurora cluster", "aurora-dev", "create"),
        ("aurora instance", "aurora-1-dev", "create"),
        ("aurora instance", "aurora-2-dev", "create"),
    ]
    assert result["changes"][0]["fields"]["backup_retention_period"] == {"before": None, "after": 7}
    assert result["apply"]["cluster"] and result["apply"]["create_cluster"]
    assert result["apply"]["engine_version"] == "16.4"
    assert result["apply"]["instances"] == WANTED_INSTANCES


@pytest.mark.parametrize(
    ("aws_field", "value", "planned_field", "before", "after"),
    [
        ("BackupRetentionPeriod", 1, "backup_retention_period", 1, 7),
        ("Port", 5433, "port", 5433, 5432),
        ("DBSubnetGroup", "other", "db_subnet_group", "other", "aurora-dev"),
        ("DeletionProtection", True, "deletion_protection", True, False),
        ("CopyTagsToSnapshot", False, "copy_tags_to_snapshot", False, True),
        ("EngineVersion", "16.1", "engine_version", "16.1", "16.4"),
    ],
)
def test_one_drifted_cluster_field_is_exactly_the_change(aws_field, value, planned_field, before, after):
    result = planned(cluster=cluster_with(**{aws_field: value}))
    change = only_change(result)
    assert (change["resource"], change["name"], change["action"]) == ("aurora cluster", "aurora-dev", "update")
    assert change["fields"] == {planned_field: {"before": before, "after": after}}
    assert result["apply"]["cluster"] and not result["apply"]["create_cluster"] and result["apply"]["instances"] == []
    assert result["apply"]["engine_version"] == ("16.4" if planned_field == "engine_version" else None)


def test_a_newer_engine_version_than_asked_is_no_change():
    assert planned(cluster=cluster_with(EngineVersion="16.6"))["changes"] == []
    upgrade = aurora.plan(dict(DESIRED, engine_version="16.10"), WANTED_INSTANCES, CLASS, cluster_with(EngineVersion="16.9"), INSTANCES)
    assert upgrade["apply"]["engine_version"] == "16.10"


def test_an_upgrade_or_retention_change_still_being_applied_is_not_planned_again():
    """While AWS applies a change (the cluster `upgrading` or `modifying`) it reports the former
    value, the new one in PendingModifiedValues, and refuses another ModifyDBCluster."""
    upgrading = cluster_with(EngineVersion="16.1", Status="upgrading", PendingModifiedValues={"EngineVersion": "16.4"})
    assert planned(cluster=upgrading)["changes"] == []
    retention = cluster_with(BackupRetentionPeriod=1, Status="modifying", PendingModifiedValues={"BackupRetentionPeriod": 7})
    assert planned(cluster=retention)["changes"] == []
    # A pending value other than the wanted one is still a change, from the pending value.
    other = planned(cluster=cluster_with(Status="modifying", PendingModifiedValues={"BackupRetentionPeriod": 3}))
    assert only_change(other)["fields"] == {"backup_retention_period": {"before": 3, "after": 7}}
    # Only queued for the maintenance window (the cluster available): the role applies it now.
    queued = planned(cluster=cluster_with(EngineVersion="16.1", PendingModifiedValues={"EngineVersion": "16.4"}))
    assert only_change(queued)["fields"] == {"engine_version": {"before": "16.1", "after": "16.4"}}


@pytest.mark.parametrize(("found", "wanted"), [("15.10", "16.4"), ("16.4", "15.10"), ("9.6.22", "10.21")])
def test_another_major_version_is_refused_before_any_write(found, wanted):
    result = aurora.plan(dict(DESIRED, engine_version=wanted), WANTED_INSTANCES, CLASS, cluster_with(EngineVersion=found), INSTANCES)
    change = only_change(result)
    assert change["action"] == "replace" and change["fields"] == {"engine_version": {"before": found, "after": wanted}}
    assert result["apply"] == {"cluster": False, "create_cluster": False, "engine_version": None, "instances": [], "delete_instances": []}
    assert len(result["refused"]) == 1
    refused = result["refused"][0]
    for word in (found, wanted, "aurora_engine_version", "major version upgrade is an explicit operation", "snapshot", "blue/green"):
        assert word in refused, refused


def test_a_major_version_refused_with_other_drift_still_plans_the_rest():
    result = aurora.plan(dict(DESIRED, engine_version="17.2"), WANTED_INSTANCES, CLASS, cluster_with(BackupRetentionPeriod=1), INSTANCES)
    assert [(c["action"], sorted(c["fields"])) for c in result["changes"]] == [("replace", ["engine_version"]), ("update", ["backup_retention_period"])]
    assert result["apply"]["engine_version"] is None and result["refused"]


@pytest.mark.parametrize(
    ("aws_field", "value", "planned_field", "variable"),
    [("MasterUsername", "dbadmin", "master_username", "aurora_master_username"), ("DatabaseName", "appdb", "database_name", "aurora_database_name")],
)
def test_a_master_user_or_database_name_is_fixed_at_creation(aws_field, value, planned_field, variable):
    result = planned(cluster=cluster_with(**{aws_field: value}))
    change = only_change(result)
    assert change["action"] == "replace" and change["fields"] == {planned_field: {"before": value, "after": DESIRED[planned_field]}}
    assert "fixed at creation" in change["reason"] and result["apply"]["cluster"] is False
    assert len(result["refused"]) == 1
    assert all(word in result["refused"][0] for word in (planned_field, value, DESIRED[planned_field], variable)), result["refused"]


def test_names_not_given_are_not_compared():
    desired = dict((k, v) for k, v in DESIRED.items() if k not in ("master_username", "database_name"))
    result = aurora.plan(desired, WANTED_INSTANCES, CLASS, cluster_with(MasterUsername="other", DatabaseName="other"), INSTANCES)
    assert result["changes"] == [] and result["refused"] == []


def test_a_tag_changed_by_hand_is_planned_back():
    tags = [t for t in CLUSTER["TagList"] if t["Key"] != "bluegreen:component"] + [{"Key": "owner", "Value": "someone"}]
    change = only_change(planned(cluster=cluster_with(TagList=tags)))
    assert change["fields"]["tags"]["after"] == DESIRED["tags"]
    assert change["fields"]["tags"]["before"] == {"bluegreen:environment": "dev", "Name": "aurora-dev", "owner": "someone"}


def test_a_missing_security_group_is_added_and_one_added_by_hand_is_kept():
    extra = {"VpcSecurityGroupId": "sg-0000000000000000a", "Status": "active"}
    assert planned(cluster=cluster_with(VpcSecurityGroups=CLUSTER["VpcSecurityGroups"] + [extra]))["changes"] == []
    change = only_change(planned(cluster=cluster_with(VpcSecurityGroups=[extra])))
    assert change["fields"] == {"security_group_ids": {"before": ["sg-0000000000000000a"], "after": sorted(["sg-0000000000000000a", SG])}}


def test_an_unencrypted_cluster_is_a_replace_the_role_does_not_apply():
    result = planned(cluster=cluster_with(StorageEncrypted=False))
    change = only_change(result)
    assert change["action"] == "replace" and change["fields"] == {"storage_encrypted": {"before": False, "after": True}}
    assert "fixed at creation" in change["reason"]
    assert result["apply"]["cluster"] is False and result["refused"] == []


@pytest.mark.parametrize(
    ("index", "aws_fields", "planned_field", "before", "after"),
    [
        (0, {"DBInstanceClass": "db.t4g.medium"}, "db_instance_class", "db.t4g.medium", CLASS),
        (1, {"PromotionTier": 0}, "promotion_tier", 0, 1),
        (1, {"PubliclyAccessible": True}, "publicly_accessible", True, False),
        (0, {"DBSubnetGroup": {"DBSubnetGroupName": "default"}}, "db_subnet_group", "default", "aurora-dev"),
    ],
)
def test_one_drifted_instance_field_is_exactly_the_change(index, aws_fields, planned_field, before, after):
    result = planned(instances=instances_with(index, **aws_fields))
    change = only_change(result)
    assert (change["resource"], change["name"], change["action"]) == ("aurora instance", WANTED_INSTANCES[index]["id"], "update")
    assert change["fields"] == {planned_field: {"before": before, "after": after}}
    assert result["apply"]["instances"] == [WANTED_INSTANCES[index]] and result["apply"]["cluster"] is False


def test_an_instance_tag_changed_by_hand_is_planned_back():
    tags = [t if t["Key"] != "bluegreen:db-role" else {"Key": "bluegreen:db-role", "Value": "writer"} for t in INSTANCES[1]["TagList"]]
    change = only_change(planned(instances=instances_with(1, TagList=tags)))
    assert change["name"] == "aurora-2-dev"
    assert change["fields"]["tags"]["before"]["bluegreen:db-role"] == "writer"
    assert change["fields"]["tags"]["after"]["bluegreen:db-role"] == "reader"


def test_a_class_change_under_way_counts_as_done():
    pending = instances_with(0, DBInstanceClass="db.t4g.medium", PendingModifiedValues={"DBInstanceClass": CLASS})
    assert planned(instances=pending)["changes"] == []


def test_a_missing_or_deleting_instance_is_created():
    result = planned(instances=[INSTANCES[0]])
    change = only_change(result)
    assert (change["name"], change["action"], change["reason"]) == ("aurora-2-dev", "create", "no instance of that name")
    result = planned(instances=instances_with(1, DBInstanceStatus="deleting"))
    change = only_change(result)
    assert (change["name"], change["action"], change["reason"]) == ("aurora-2-dev", "create", "the instance is being deleted")
    # AWS refuses to create it again while it is being deleted (and amazon.aws.rds_instance would
    # modify it): the role stops before any write, saying so.
    assert result["refused"] == ["status deleting: the instance(s) aurora-2-dev are being deleted (a teardown, or aurora_reader_count lowered "
                                 "then raised); deploy again once DescribeDBInstances no longer lists them (minutes)"]


@pytest.mark.parametrize("status, words", [
    ("deleting", "is being deleted (by a teardown that stopped before it was gone)"),
    ("stopped", "is stopped: start it (aws rds start-db-cluster --db-cluster-identifier aurora-dev)"),
    ("stopping", "is stopping: once it is stopped, start it (aws rds start-db-cluster --db-cluster-identifier aurora-dev)"),
])
def test_a_cluster_deleting_or_stopped_stops_the_deploy_before_any_write(status, words):
    result = planned(cluster=dict(CLUSTER, Status=status), instances=instances_with(1, DBInstanceStatus="deleting" if status == "deleting" else "stopped"))
    assert len(result["refused"]) == 1 and result["refused"][0].startswith("status %s: the cluster aurora-dev %s" % (status, words)), result["refused"]
    assert result["ready"] is False
    for other in ("available", "starting", "backing-up", "modifying"):
        assert planned(cluster=dict(CLUSTER, Status=other))["refused"] == []


def test_a_reader_added_to_the_inputs_is_the_one_change():
    wanted = aurora.instance_plan(["aurora-1-dev", "aurora-2-dev", "aurora-3-dev"], BASE_TAGS)
    result = planned(wanted=wanted)
    change = only_change(result)
    assert (change["name"], change["action"]) == ("aurora-3-dev", "create")
    assert result["apply"]["instances"] == [wanted[2]]


def test_ready_only_when_the_cluster_and_every_wanted_instance_are_available():
    assert planned()["ready"] is True
    assert planned(cluster=cluster_with(Status="modifying"))["ready"] is False
    backing_up = copy.deepcopy(INSTANCES)
    backing_up[1]["DBInstanceStatus"] = "backing-up"
    assert planned(instances=backing_up)["ready"] is False
    third = aurora.instance_plan(["aurora-1-dev", "aurora-2-dev", "aurora-3-dev"], BASE_TAGS)
    assert planned(wanted=third)["ready"] is False
    assert planned(cluster=None, instances=[])["ready"] is False


SUBNET_GROUP = json.loads((RECORDED / "describe_db_subnet_groups.json").read_text())


class SubnetGroupClient:
    """Answers the two calls read_subnet_group makes with the recorded answers, or DBSubnetGroupNotFoundFault."""

    def __init__(self, exists=True):
        self.exists = exists

    def describe_db_subnet_groups(self, DBSubnetGroupName):
        if not self.exists:
            error = {"Error": {"Code": "DBSubnetGroupNotFoundFault", "Message": f"{DBSubnetGroupName} not found"}}
            raise botocore.exceptions.ClientError(error, "DescribeDBSubnetGroups")
        return SUBNET_GROUP["DescribeDBSubnetGroups"]

    def list_tags_for_resource(self, ResourceName):
        return SUBNET_GROUP["ListTagsForResource"]


def wanted_subnet_group(**fields):
    subnets = [s["SubnetIdentifier"] for s in SUBNET_GROUP["DescribeDBSubnetGroups"]["DBSubnetGroups"][0]["Subnets"]]
    wanted = {"name": "aurora-dev", "description": "Isolated subnets of dev", "subnet_ids": subnets, "tags": dict(BASE_TAGS, Name="aurora-dev")}
    return dict(wanted, **fields)


def test_the_recorded_subnet_group_is_in_shape_and_a_missing_one_is_created():
    current = aurora.read_subnet_group(SubnetGroupClient(), "aurora-dev")
    assert aurora.plan_subnet_group(wanted_subnet_group(), current) == ([], False)
    assert aurora.read_subnet_group(SubnetGroupClient(exists=False), "aurora-dev") is None
    changes, apply = aurora.plan_subnet_group(wanted_subnet_group(), None)
    assert apply and [c["action"] for c in changes] == ["create"]


def test_a_subnet_group_with_another_subnet_or_a_tag_added_by_hand_is_updated():
    current = aurora.read_subnet_group(SubnetGroupClient(), "aurora-dev")
    changes, apply = aurora.plan_subnet_group(wanted_subnet_group(subnet_ids=current["subnet_ids"][:1] + ["subnet-0new"]), current)
    assert apply and list(changes[0]["fields"]) == ["subnet_ids"]
    changes, apply = aurora.plan_subnet_group(wanted_subnet_group(), dict(current, tags=dict(current["tags"], owner="by-hand")))
    assert apply and changes[0]["fields"]["tags"]["before"]["owner"] == "by-hand" and "owner" not in changes[0]["fields"]["tags"]["after"]


KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/1111aaaa-2222-bbbb-3333-cccc4444dddd"


@pytest.mark.parametrize("wanted_key, refused", [
    ("5555eeee-6666-ffff-7777-000011112222", True),
    ("arn:aws:kms:us-east-1:123456789012:key/5555eeee-6666-ffff-7777-000011112222", True),
    ("1111aaaa-2222-bbbb-3333-cccc4444dddd", False),
    (KEY_ARN, False),
    ("alias/app-db", False),  # only KMS resolves an alias: not compared
    ("arn:aws:kms:us-east-1:123456789012:alias/app-db", False),
])
def test_another_storage_key_is_refused_before_any_write(wanted_key, refused):
    result = aurora.plan(dict(DESIRED, kms_key_id=wanted_key), WANTED_INSTANCES, CLASS, cluster_with(KmsKeyId=KEY_ARN), INSTANCES)
    if not refused:
        assert result["changes"] == [] and result["refused"] == [], result
        return
    change = only_change(result)
    assert change["action"] == "replace" and change["fields"] == {"kms_key_id": {"before": KEY_ARN, "after": wanted_key}}, change
    assert result["refused"] == [f"kms_key_id: the cluster has {KEY_ARN}, aurora_kms_key_id is {wanted_key}; the storage encryption key is "
                                 "fixed at creation: restore a snapshot of the cluster with the new key (aws rds restore-db-cluster-from-snapshot"
                                 " --kms-key-id ...), or set aurora_kms_key_id back to the cluster's key"]


def test_no_storage_key_asked_is_never_a_change():
    assert planned(cluster=cluster_with(KmsKeyId=KEY_ARN))["changes"] == []


def test_a_minor_upgrade_without_an_available_writer_is_refused_before_any_write():
    """AWS upgrades no cluster without a healthy primary instance: a deploy stopped before the
    instances, then another minor version, would wait out aurora_wait_timeout on the refusals."""
    older = cluster_with(EngineVersion="16.1")
    assert aurora.plan(DESIRED, WANTED_INSTANCES, CLASS, older, INSTANCES)["refused"] == []
    for instances, what in (([], "no writer instance yet"), (instances_with(0, DBInstanceStatus="creating"), "its writer instance is still creating")):
        result = aurora.plan(DESIRED, WANTED_INSTANCES, CLASS, older, instances)
        assert result["refused"] == [f"engine_version: the cluster has 16.1 and {what} (a deploy stopped before its instances were up), and AWS "
                                     "upgrades no cluster without a healthy primary instance; set aurora_engine_version back to 16.1, deploy, "
                                     "then raise it to 16.4"], result["refused"]
    # A writer busy for a while is waited for by the writer's retry, not refused.
    for busy in ("modifying", "backing-up", "storage-optimization", "starting"):
        assert aurora.plan(DESIRED, WANTED_INSTANCES, CLASS, older, instances_with(0, DBInstanceStatus=busy))["refused"] == [], busy
    # A stopped cluster is refused for that alone.
    stopped = aurora.plan(DESIRED, WANTED_INSTANCES, CLASS, cluster_with(EngineVersion="16.1", Status="stopped"), instances_with(0, DBInstanceStatus="stopped"))
    assert len(stopped["refused"]) == 1 and stopped["refused"][0].startswith("status stopped: "), stopped["refused"]
    # Without an upgrade, missing instances are only created.
    assert aurora.plan(DESIRED, WANTED_INSTANCES, CLASS, CLUSTER, [])["refused"] == []
