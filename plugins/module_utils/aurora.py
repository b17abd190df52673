# -*- coding: utf-8 -*-
# Copyright: bluegreen.migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The aurora role's read and plan: the cluster and its instances as AWS has them, compared
with what the role wants. The comparison follows what amazon.aws.rds_cluster and rds_instance
would change (security groups are never purged, the engine version only ever upgraded), so a
planned item is exactly one those modules act on."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import re

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict

from ansible_collections.bluegreen.migration.plugins.module_utils.core import aws_retry
from ansible_collections.bluegreen.migration.plugins.module_utils.plan import change
from ansible_collections.bluegreen.migration.plugins.module_utils.plan import created
from ansible_collections.bluegreen.migration.plugins.module_utils.plan import field
from ansible_collections.bluegreen.migration.plugins.module_utils.plan import fields_that_differ
from ansible_collections.bluegreen.migration.plugins.module_utils.plan import update_or_nothing
from ansible_collections.bluegreen.migration.plugins.module_utils.plan import version_tuple
from ansible_collections.bluegreen.migration.plugins.module_utils.waits import PENDING
from ansible_collections.bluegreen.migration.plugins.module_utils.waits import wait_outcome

CLUSTER = "aurora cluster"
INSTANCE = "aurora instance"
SUBNET_GROUP = "DB subnet group"


class AuroraError(AnsibleAWSError):
    pass


class AuroraErrorHandler(AWSErrorHandler):
    _CUSTOM_EXCEPTION = AuroraError

    @classmethod
    def _is_missing(cls):
        return is_boto3_error_code("DBClusterNotFoundFault")


@AuroraErrorHandler.list_error_handler("describe DB cluster {identifier}", [])
@aws_retry()
def _describe_cluster(client, identifier):
    return client.describe_db_clusters(DBClusterIdentifier=identifier)["DBClusters"]


@AuroraErrorHandler.list_error_handler("describe the instances of DB cluster {identifier}", [])
@aws_retry()
def _describe_instances(client, identifier):
    paginator = client.get_paginator("describe_db_instances")
    return paginator.paginate(Filters=[{"Name": "db-cluster-id", "Values": [identifier]}]).build_full_result()["DBInstances"]


@AuroraErrorHandler.list_error_handler("describe DB subnet group {name}", [])
@aws_retry()
def _describe_subnet_groups(client, name):
    try:
        return client.describe_db_subnet_groups(DBSubnetGroupName=name)["DBSubnetGroups"]
    except is_boto3_error_code("DBSubnetGroupNotFoundFault"):
        return []


@AuroraErrorHandler.list_error_handler("list the tags of {arn}", [])
@aws_retry()
def _list_tags(client, arn):
    return client.list_tags_for_resource(ResourceName=arn).get("TagList", [])


def read_subnet_group(client, name):
    """{name, description, subnet_ids, tags} of the DB subnet group, or None."""
    groups = _describe_subnet_groups(client, name)
    if not groups:
        return None
    group = groups[0]
    return {
        "name": group["DBSubnetGroupName"],
        "description": group.get("DBSubnetGroupDescription", ""),
        "subnet_ids": sorted(s["SubnetIdentifier"] for s in group.get("Subnets", [])),
        "tags": boto3_tag_list_to_ansible_dict(_list_tags(client, group["DBSubnetGroupArn"])),
    }


def plan_subnet_group(wanted, current):
    """(changes, apply) of the DB subnet group: `wanted` {name, description, subnet_ids, tags}
    as amazon.aws.rds_subnet_group is given them (tags purged)."""
    desired = {"description": wanted["description"], "subnet_ids": sorted(wanted["subnet_ids"]), "tags": wanted["tags"]}
    if current is None:
        return [change(SUBNET_GROUP, wanted["name"], "create", created(desired), "no subnet group of that name")], True
    return update_or_nothing(SUBNET_GROUP, wanted["name"], fields_that_differ(desired, current))


def read(client, identifier):
    """(cluster, instances) as DescribeDBClusters and DescribeDBInstances answer; (None, [])
    when the cluster does not exist."""
    clusters = _describe_cluster(client, identifier)
    if not clusters:
        return None, []
    return clusters[0], _describe_instances(client, identifier)


def instance_plan(instance_ids, tags):
    """What the role sets on each instance: the first is the writer (promotion tier 0), the
    others readers (tier 1), each tagged with its name and role."""
    plan = []
    for index, identifier in enumerate(instance_ids):
        role = "writer" if index == 0 else "reader"
        plan.append({"id": identifier, "promotion_tier": 0 if index == 0 else 1, "tags": dict(tags, **{"Name": identifier, "bluegreen:db-role": role})})
    return plan


# A cluster in these statuses is applying a change now; its PendingModifiedValues are under way.
APPLYING = ("modifying", "upgrading")


def cluster_state(cluster):
    """The compared fields of a cluster as AWS reports them. A change AWS is applying now (a minor
    version upgrade, the cluster `upgrading`) counts as made: planned again, it would be sent to a
    cluster that refuses any change until it is available. A value only queued for the
    maintenance window is not: the role applies its changes immediately."""
    pending = (cluster.get("PendingModifiedValues") or {}) if cluster.get("Status") in APPLYING else {}
    return {
        "engine": cluster.get("Engine"),
        "engine_version": pending.get("EngineVersion") or cluster.get("EngineVersion"),
        "port": cluster.get("Port"),
        "db_subnet_group": cluster.get("DBSubnetGroup"),
        "security_group_ids": sorted(g["VpcSecurityGroupId"] for g in cluster.get("VpcSecurityGroups", [])),
        "storage_encrypted": bool(cluster.get("StorageEncrypted")),
        "backup_retention_period": pending.get("BackupRetentionPeriod", cluster.get("BackupRetentionPeriod")),
        "deletion_protection": bool(cluster.get("DeletionProtection")),
        "copy_tags_to_snapshot": bool(cluster.get("CopyTagsToSnapshot")),
        "tags": boto3_tag_list_to_ansible_dict(cluster.get("TagList", [])),
        "master_username": cluster.get("MasterUsername"),
        "database_name": cluster.get("DatabaseName"),
        "kms_key_id": cluster.get("KmsKeyId"),
    }


# A KMS key's ARN; its id is the last part.
KEY_ARN = re.compile(r"^arn:aws[a-z-]*:kms:[^:]+:[0-9]+:key/(?P<id>[^/]+)$")


def key_id_of(key):
    """The key id of a KMS key given by id or key ARN; None for an alias (alias/name or its ARN),
    which only KMS can resolve: such an input is not compared."""
    key = key or ""
    found = KEY_ARN.match(key)
    if found:
        return found.group("id")
    return key if key and "alias/" not in key and ":" not in key else None


def major_version(version):
    """(15,) of '15.10'; (9, 6) of '9.6.22' (before 10, a PostgreSQL major had two numbers)."""
    parts = version_tuple(version)
    return parts[:1] if parts[0] >= 10 else parts[:2]


# Fixed once the cluster exists: the master user and the database created with it.
FIXED_NAMES = ("master_username", "database_name")
# What the role stops on before any write, as (field, input, why). rds_cluster cannot send
# AllowMajorVersionUpgrade, without which ModifyDBCluster refuses another major
# (InvalidParameterCombination) after the other writes; another user or database name would be
# written into the credentials secret, which the cluster does not know.
REFUSED = (
    ("engine_version", "aurora_engine_version", "a major version upgrade is an explicit operation, not done by the role: snapshot the cluster, "
     "upgrade it by hand or with an RDS blue/green deployment, then set aurora_engine_version to the version it runs"),
    ("master_username", "aurora_master_username", "the master user is fixed at creation: set aurora_master_username back to the cluster's"),
    ("database_name", "aurora_database_name", "the database name is fixed at creation: set aurora_database_name back to the cluster's"),
    ("kms_key_id", "aurora_kms_key_id", "the storage encryption key is fixed at creation: restore a snapshot of the cluster with the new key"
     " (aws rds restore-db-cluster-from-snapshot --kms-key-id ...), or set aurora_kms_key_id back to the cluster's key"),
)


def plan_cluster(desired, cluster):
    """Changes to the cluster. `desired` has the keys of cluster_state() plus `identifier`
    (`master_username` and `database_name` are compared only when given)."""
    name = desired["identifier"]
    wanted = dict((k, v) for k, v in desired.items() if k != "identifier")
    wanted["security_group_ids"] = sorted(wanted["security_group_ids"])
    if cluster is None:
        return [change(CLUSTER, name, "create", created(wanted), "no cluster of that name")]
    current = cluster_state(cluster)
    changes, fixed, why = [], {}, []
    if current["engine"] != wanted["engine"] or not current["storage_encrypted"] and wanted["storage_encrypted"]:
        fixed.update((k, field(current[k], wanted[k])) for k in ("engine", "storage_encrypted") if current[k] != wanted[k])
        why.append("fixed at creation: snapshot the cluster and restore it as wanted")
    names = dict((k, field(current[k], wanted[k])) for k in FIXED_NAMES if k in wanted and current[k] != wanted[k])
    if names:
        fixed.update(names)
        why.append("fixed at creation: set back to the cluster's")
    # Compared only when both name a key by id or ARN (an alias needs KMS to resolve).
    wanted_key, current_key = key_id_of(wanted.get("kms_key_id")), key_id_of(current["kms_key_id"])
    if wanted_key and current_key and wanted_key != current_key:
        fixed["kms_key_id"] = field(current["kms_key_id"], wanted["kms_key_id"])
        why.append("the storage key is fixed at creation: restored from a snapshot with the new key")
    settable = ("port", "db_subnet_group", "backup_retention_period", "deletion_protection", "copy_tags_to_snapshot", "tags")
    updates = fields_that_differ(dict((k, wanted[k]) for k in settable), current)
    if major_version(wanted["engine_version"]) != major_version(current["engine_version"]):
        fixed["engine_version"] = field(current["engine_version"], wanted["engine_version"])
        why.append("another major version: upgraded by hand or with an RDS blue/green deployment")
    # Only ever upgraded: after an automatic minor upgrade the older version asked for is no change.
    elif version_tuple(wanted["engine_version"]) > version_tuple(current["engine_version"]):
        updates["engine_version"] = field(current["engine_version"], wanted["engine_version"])
    if fixed:
        changes.append(change(CLUSTER, name, "replace", fixed, "; ".join(why) + " (not done automatically)"))
    # Never purged (a group added by hand stays): only a missing one is a change.
    missing = sorted(set(wanted["security_group_ids"]) - set(current["security_group_ids"]))
    if missing:
        updates["security_group_ids"] = field(current["security_group_ids"], sorted(set(current["security_group_ids"]) | set(missing)))
    if updates:
        changes.append(change(CLUSTER, name, "update", updates, "differs from the inputs"))
    return changes


def refused(changes):
    """Why the role stops before any write: one sentence per field of REFUSED that a replace of
    the cluster names, with the cluster's value and the wanted one."""
    fixed = {}
    for item in changes:
        if item["resource"] == CLUSTER and item["action"] == "replace":
            fixed.update(item["fields"])
    return [
        "%s: the cluster has %s, %s is %s; %s" % (key, fixed[key]["before"], variable, fixed[key]["after"], why)
        for key, variable, why in REFUSED if key in fixed
    ]


def instance_state(instance):
    """The compared fields of an instance; a class change under way counts as done."""
    pending = instance.get("PendingModifiedValues") or {}
    return {
        "db_instance_class": pending.get("DBInstanceClass", instance.get("DBInstanceClass")),
        "promotion_tier": instance.get("PromotionTier"),
        "publicly_accessible": bool(instance.get("PubliclyAccessible")),
        "db_subnet_group": (instance.get("DBSubnetGroup") or {}).get("DBSubnetGroupName", ""),
        "tags": boto3_tag_list_to_ansible_dict(instance.get("TagList", [])),
    }


def plan_instances(wanted_instances, instance_class, subnet_group, instances):
    """Changes to the instances: one per instance of the plan that is missing or differs."""
    by_id = dict((i["DBInstanceIdentifier"], i) for i in instances)
    changes = []
    for wanted in wanted_instances:
        desired = {
            "db_instance_class": instance_class,
            "promotion_tier": wanted["promotion_tier"],
            "publicly_accessible": False,
            "db_subnet_group": subnet_group,
            "tags": wanted["tags"],
        }
        current = by_id.get(wanted["id"])
        if current is None or current.get("DBInstanceStatus") == "deleting":
            reason = "no instance of that name" if current is None else "the instance is being deleted"
            changes.append(change(INSTANCE, wanted["id"], "create", created(desired), reason))
            continue
        updates = fields_that_differ(desired, instance_state(current))
        if updates:
            changes.append(change(INSTANCE, wanted["id"], "update", updates, "differs from the inputs"))
    return changes + [
        change(INSTANCE, instance["DBInstanceIdentifier"], "delete", {"db_instance_class": field(instance.get("DBInstanceClass"), None)},
               "an instance of the role beyond aurora_reader_count (it would keep running, and billed)")
        for instance in extra_instances(wanted_instances, instances)
    ]


def extra_instances(wanted_instances, instances):
    """The role's instances (tagged with a bluegreen:db-role) that the plan no longer names,
    e.g. after aurora_reader_count was lowered, and are not already being deleted. An instance
    someone added to the cluster by hand is not the role's to delete."""
    wanted = set(w["id"] for w in wanted_instances)
    return [
        i for i in instances
        if i["DBInstanceIdentifier"] not in wanted and i.get("DBInstanceStatus") != "deleting"
        and "bluegreen:db-role" in boto3_tag_list_to_ansible_dict(i.get("TagList", []))
    ]


def writer_among(cluster, instance_ids):
    """Refusals for the instances to delete when one is the cluster's writer (after a failover):
    deleting it would fail the cluster over again, which is a decision of its own."""
    writers = set(m["DBInstanceIdentifier"] for m in (cluster or {}).get("DBClusterMembers", []) if m.get("IsClusterWriter"))
    return [
        "%s is the cluster's writer now (after a failover) and is beyond aurora_reader_count: fail the cluster over to one of the "
        "instances kept first (aws rds failover-db-cluster --target-db-instance-identifier ...), or keep aurora_reader_count as it was"
        % identifier
        for identifier in instance_ids if identifier in writers
    ]


# Cluster statuses a deploy cannot go on from: AWS refuses every change to the cluster and its
# instances until they end, and a stopped cluster ends it only when started (or after 7 days).
CLUSTER_STATES_REFUSED = {
    "deleting": "is being deleted (by a teardown that stopped before it was gone): deploy again once DescribeDBClusters no longer lists it"
                " (minutes), or run the teardown again to wait for it",
    "stopping": "is stopping: once it is stopped, start it (aws rds start-db-cluster --db-cluster-identifier {cluster}), then deploy again",
    "stopped": "is stopped: start it (aws rds start-db-cluster --db-cluster-identifier {cluster}) and deploy again (AWS also starts it by itself"
               " after 7 days)",
}


def state_refusals(cluster, instances, instance_ids):
    """Why a deploy cannot go on from the state AWS reports: a cluster deleting, stopping or
    stopped, or a wanted instance still being deleted (AWS refuses to create it again while it is,
    and amazon.aws.rds_instance would try to modify it)."""
    found = []
    status = (cluster or {}).get("Status")
    if status in CLUSTER_STATES_REFUSED:
        identifier = cluster["DBClusterIdentifier"]
        found.append("status %s: the cluster %s %s" % (status, identifier, CLUSTER_STATES_REFUSED[status].format(cluster=identifier)))
    deleting = sorted(i["DBInstanceIdentifier"] for i in instances if i["DBInstanceIdentifier"] in instance_ids and i.get("DBInstanceStatus") == "deleting")
    if deleting and status != "deleting":
        found.append("status deleting: the instance(s) %s are being deleted (a teardown, or aurora_reader_count lowered then raised);"
                     " deploy again once DescribeDBInstances no longer lists them (minutes)" % ", ".join(deleting))
    return found


# The statuses a DB instance passes through on its way to available, and those where it serves
# (terraform-provider-aws's wait for an available instance polls through the same). Any other
# (failed, incompatible-network, incompatible-parameters, inaccessible-encryption-credentials,
# stopped, deleting ...) does not end by itself: a wait stops on it at once.
# https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/accessing-monitoring.html#Overview.DBInstance.Status
INSTANCE_ON_THE_WAY = (
    "backing-up", "configuring-activity-stream", "configuring-enhanced-monitoring", "configuring-iam-database-auth", "configuring-log-exports",
    "converting-to-vpc", "creating", "maintenance", "modifying", "moving-to-vpc", "rebooting", "renaming", "resetting-master-credentials",
    "starting", "upgrading",
)
SERVING = ("available", "storage-optimization")
# The same for the cluster (its own statuses; cloning-failed, migration-failed, stopped, deleting
# and inaccessible-encryption-credentials do not end by themselves).
# https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/accessing-monitoring.html#Aurora.Status
CLUSTER_ON_THE_WAY = (
    "backing-up", "backtracking", "creating", "failing-over", "maintenance", "migrating", "modifying", "preparing-data-migration", "promoting",
    "rebooting", "renaming", "resetting-master-credentials", "starting", "update-iam-db-auth", "upgrading",
)


def _verdict(identifier_key, status_key, on_the_way):
    """A wait_outcome verdict: serving, on the way (or no status yet), or "<id> is <status>"."""

    def verdict(item):
        status = item.get(status_key)
        if status in SERVING:
            return None
        if status in on_the_way or not status:
            return PENDING
        return "%s is %s" % (item[identifier_key], status)

    return verdict


def instances_waited(found, wanted=None, cluster_id=None):
    """What a wait for the Aurora instances `wanted` (ids; none: every instance of the cluster
    not being deleted, at least one) still waits for (waits.wait_outcome): `found` is
    amazon.aws.rds_instance_info's instances. One in a status that does not end by itself reads
    "<id> is <status>"."""
    if not wanted:
        found = [i for i in found or [] if i.get("db_instance_status") != "deleting"]
    outcome = wait_outcome(found, wanted, "db_instance_identifier", _verdict("db_instance_identifier", "db_instance_status", INSTANCE_ON_THE_WAY))
    if not wanted and not found:
        outcome.update(pending=["the instances of %s (none listed yet)" % cluster_id], done=False)
    return outcome


def cluster_waited(found, cluster_id):
    """What a wait for the cluster `cluster_id` to be available still waits for (waits.wait_outcome):
    `found` is amazon.aws.rds_cluster_info's clusters."""
    return wait_outcome(found, [cluster_id], "db_cluster_identifier", _verdict("db_cluster_identifier", "status", CLUSTER_ON_THE_WAY))


def ready(cluster, instances, instance_ids):
    """Whether the cluster and every wanted instance are available as read: then a run that
    writes nothing has nothing to wait for."""
    if cluster is None or cluster.get("Status") != "available":
        return False
    status = dict((i["DBInstanceIdentifier"], i.get("DBInstanceStatus")) for i in instances)
    return all(status.get(identifier) == "available" for identifier in instance_ids)


def upgrade_without_writer(cluster, instances, upgrade):
    """A refusal when `upgrade` (a field: the cluster's version and the wanted one) is planned
    while the cluster has no available writer instance (a deploy stopped before its instances):
    AWS refuses the new version ("without a healthy primary instance"), and the role's retry
    would wait out aurora_wait_timeout."""
    if not (cluster and upgrade) or cluster.get("Status") in CLUSTER_STATES_REFUSED:
        return []  # a cluster stopped or deleting is refused for that
    writers = set(m["DBInstanceIdentifier"] for m in cluster.get("DBClusterMembers", []) if m.get("IsClusterWriter"))
    status = dict((i["DBInstanceIdentifier"], i.get("DBInstanceStatus")) for i in instances if i["DBInstanceIdentifier"] in writers)
    # A writer busy for a while (modifying, backing-up ...) is waited for by the writer's retry.
    if status and not any(state == "creating" for state in status.values()):
        return []
    what = "its writer instance is still creating" if status else "no writer instance yet"
    return ["engine_version: the cluster has %s and %s (a deploy stopped before its instances were up), and AWS upgrades no cluster"
            " without a healthy primary instance; set aurora_engine_version back to %s, deploy, then raise it to %s"
            % (upgrade["before"], what, upgrade["before"], upgrade["after"])]


def plan(desired_cluster, wanted_instances, instance_class, cluster, instances):
    """The whole plan of the role's database, and what the writers have to do about it."""
    cluster_changes = plan_cluster(desired_cluster, cluster)
    instance_changes = plan_instances(wanted_instances, instance_class, desired_cluster["db_subnet_group"], instances)
    to_apply = set(c["name"] for c in instance_changes)
    cluster_writes = [c for c in cluster_changes if c["action"] in ("create", "update")]
    upgrade = (cluster_writes[0]["fields"] if cluster_writes else {}).get("engine_version")
    send_version = cluster is None or upgrade is not None
    deleted = [c["name"] for c in instance_changes if c["action"] == "delete"]
    wanted_ids = [w["id"] for w in wanted_instances]
    return {
        "changes": cluster_changes + instance_changes,
        "refused": state_refusals(cluster, instances or [], wanted_ids) + refused(cluster_changes) + writer_among(cluster, deleted)
        + upgrade_without_writer(cluster, instances or [], upgrade),
        "ready": ready(cluster, instances, wanted_ids),
        "apply": {
            "cluster": bool(cluster_writes),
            "create_cluster": cluster is None,
            # rds_cluster gets the version only to create or upgrade (never to go back).
            "engine_version": desired_cluster["engine_version"] if send_version else None,
            "instances": [w for w in wanted_instances if w["id"] in to_apply],
            "delete_instances": deleted,
        },
    }


def secret_wanted(secret, cluster):
    """The credentials secret as the role writes it: its keys and, once the cluster exists, the
    cluster's writer endpoint as `host`, and its master user and database as `username` and
    `dbname` (they cannot change on the cluster: the secret never names others)."""
    wanted = dict(secret, fields=dict(secret.get("fields") or {}))
    if cluster and cluster.get("Endpoint"):
        wanted["fields"]["host"] = cluster["Endpoint"]
    for key, found in (("username", "MasterUsername"), ("dbname", "DatabaseName")):
        if cluster and cluster.get(found) and key in wanted["fields"]:
            wanted["fields"][key] = cluster[found]
    return wanted


# What a final snapshot's name adds to its prefix: naming.utc_stamp(), YYYYMMDD-HHMMSS.
FINAL_SNAPSHOT_STAMP = re.compile(r"^-[0-9]{8}-[0-9]{6}$")


def _instant(value):
    """An RDS time as amazon.aws's info modules return it (ISO 8601 text, or a datetime)."""
    if isinstance(value, datetime.datetime):
        return value
    return datetime.datetime.fromisoformat(str(value).replace("Z", "+00:00")) if value else None


def final_snapshot_taken(cluster_snapshots, cluster, prefix):
    """The identifier of the final snapshot a teardown of this cluster already took, or None: a
    teardown stopped after its snapshot and run again takes no second one. One of the
    amazon.aws.rds_snapshot_info `cluster_snapshots` of the cluster (`cluster`, one of
    rds_cluster_info's `clusters`), named `prefix`-<UTC time>, taken after the cluster was created
    (a snapshot of an earlier cluster of the same name is not), and either still being created or
    of a cluster with no instance left (the stopped teardown deleted them: nothing was written
    since). An available snapshot of a cluster that still has instances may be old (a teardown
    given up, the environment deployed again and used): a new one is taken then."""
    usable = ("creating",) if cluster.get("db_cluster_members") else ("available", "creating")
    born = _instant(cluster.get("cluster_create_time"))
    found = []
    for snapshot in cluster_snapshots or []:
        name = snapshot.get("db_cluster_snapshot_identifier") or ""
        taken = _instant(snapshot.get("snapshot_create_time"))
        if not (name.startswith(prefix) and FINAL_SNAPSHOT_STAMP.match(name[len(prefix):])):
            continue
        if snapshot.get("db_cluster_identifier") not in (None, cluster.get("db_cluster_identifier")):
            continue
        if snapshot.get("status") not in usable or (born and taken and taken < born):
            continue
        found.append(name)
    return max(found) if found else None  # the latest (the stamp sorts by time)
