#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: bluegreen.migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# ruff: noqa: E402  (Ansible module layout: imports follow DOCUMENTATION, EXAMPLES and RETURN)

DOCUMENTATION = r"""
module: aurora_plan
short_description: Read an Aurora cluster and its instances, and plan what differs from the wanted state
version_added: 0.1.0
description:
  - Reads the cluster (C(DescribeDBClusters)) and its instances (C(DescribeDBInstances)) in one
    run and compares them with the wanted settings; with O(subnet_group_subnets), O(alarms) and
    O(secret), the DB subnet group, the alarms and the credentials secret too.
  - Returns the state as read and a plan, a list of changes, each with the resource, the action
    (C(create), C(update), C(replace)), the fields that differ (before and after) and why, and
    what the writers (M(amazon.aws.rds_cluster), M(amazon.aws.rds_instance)) have to do.
  - The comparison is the writers' own. Security groups are never purged, so only a missing
    one is a change. The engine version is only ever upgraded, so a cluster AWS has upgraded
    on its own is no change. A class change under way (pending) counts as done. An instance
    being deleted is created again.
  - The engine and storage encryption are fixed at creation; a difference there is planned as
    C(replace) and is not applied by the role (snapshot and restore).
  - So are the master user and the database name, and another major version of the engine is not
    an upgrade M(amazon.aws.rds_cluster) can make (it cannot allow one). A difference there is
    planned as C(replace) too and listed in RV(refused), on which the role stops before any write.
  - Read-only. In check mode it reports C(changed) when the plan has changes, so that
    C(--check --diff) shows the differing fields before and after; otherwise it never does.
options:
  identifier:
    description: The cluster identifier.
    type: str
    required: true
  engine_version:
    description: The wanted Aurora PostgreSQL version (the lowest the cluster may run).
    type: str
    required: true
  port:
    description: The port the cluster listens on.
    type: int
    required: true
  subnet_group:
    description: Name of the DB subnet group of the cluster and its instances.
    type: str
    required: true
  security_group_ids:
    description: Security groups the cluster must have (others it has are kept).
    type: list
    elements: str
    required: true
  backup_retention_period:
    description: Days of automated backups.
    type: int
    required: true
  deletion_protection:
    description: Whether the cluster refuses deletion.
    type: bool
    required: true
  tags:
    description: Tags of the cluster; the instances get them too, with their own C(Name) and C(bluegreen:db-role).
    type: dict
    required: true
  master_username:
    description: The master user name the cluster must have (fixed at creation; not compared when not given).
    type: str
  database_name:
    description: The database name the cluster must have (fixed at creation; not compared when not given).
    type: str
  kms_key_id:
    description:
      - The KMS key the cluster's storage must be encrypted with, by key id or key ARN (fixed at creation).
      - Another key than the cluster's is a replace that RV(refused) names. An alias is not compared (only KMS resolves it);
        empty means the AWS managed key and is not compared.
    type: str
    default: ""
  instance_ids:
    description: Identifiers of the instances, the writer first, then the readers.
    type: list
    elements: str
    required: true
  instance_class:
    description: Instance class of every instance.
    type: str
    required: true
  instance_tags:
    description: Tags every instance carries besides its C(Name) and C(bluegreen:db-role).
    type: dict
    default: {}
  subnet_group_subnets:
    description:
      - Subnets of the DB subnet group O(subnet_group). When given, the subnet group is read and
        compared too (description, subnets, tags), as M(amazon.aws.rds_subnet_group) would.
    type: list
    elements: str
  subnet_group_description:
    description: Description of the DB subnet group.
    type: str
    default: ""
  subnet_group_tags:
    description: Tags of the DB subnet group (all of them).
    type: dict
    default: {}
  alarms:
    description:
      - The cluster's alarms, each with the options of an alarm of M(bluegreen.migration.metric_alarms)
        (checked and converted the same way); read and compared as that module would.
    type: list
    elements: dict
    default: []
  alarm_tags:
    description: Tags every alarm carries besides its own.
    type: dict
    default: {}
  secret:
    description:
      - The credentials secret, as M(bluegreen.migration.secretsmanager_secret) is given it; read
        with C(DescribeSecret) only and compared when given (its value is never read; see
        M(bluegreen.migration.secretsmanager_secret) for the C(bluegreen:fields) tag that tells
        whether the value holds O(secret.fields)).
    type: dict
    suboptions:
      name:
        description: Name of the secret.
        type: str
        required: true
      description:
        description: Its description (not compared when not given).
        type: str
      kms_key_id:
        description: Its KMS key (not compared when not given).
        type: str
      fields:
        description:
          - The non-secret keys its value holds. Once the cluster exists, its writer endpoint is one
            of them as C(host) (the role records it there), and C(username) and C(dbname), when
            given, are the cluster's own.
        type: dict
        default: {}
      tags:
        description: Its tags (all of them; not compared when not given).
        type: dict
author:
  - bluegreen.migration maintainers (@bluegreen)
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Read the database and plan the changes
  bluegreen.migration.aurora_plan:
    identifier: aurora-dev
    engine_version: "16.4"
    port: 5432
    subnet_group: aurora-dev
    security_group_ids: [sg-0123456789abcdef0]
    backup_retention_period: 7
    deletion_protection: false
    master_username: dbadmin
    database_name: appdb
    tags: {Name: aurora-dev, "bluegreen:environment": dev}
    instance_ids: [aurora-1-dev, aurora-2-dev]
    instance_class: db.r6g.large
    instance_tags: {"bluegreen:environment": dev}
  register: aurora_plan

- name: Create or fix the cluster only when the plan says so
  amazon.aws.rds_cluster:
    db_cluster_identifier: aurora-dev
    engine: aurora-postgresql
    backup_retention_period: 7
  when: aurora_plan.apply.cluster
"""

RETURN = r"""
cluster:
  description: The cluster as read, in snake case with its tags as a dict (as M(amazon.aws.rds_cluster_info) returns it); empty when there is none.
  returned: always
  type: dict
  sample: {"db_cluster_identifier": "aurora-dev", "endpoint": "aurora-dev.cluster-x.us-east-1.rds.amazonaws.com", "status": "available"}
instances:
  description: The instances of the cluster as read, in snake case with their tags as a dict.
  returned: always
  type: list
  elements: dict
changes:
  description: The plan, one entry per resource to create, update or replace.
  returned: always
  type: list
  elements: dict
  sample:
    - resource: aurora cluster
      name: aurora-dev
      action: update
      fields: {"backup_retention_period": {"before": 1, "after": 7}}
      reason: differs from the inputs
  contains:
    resource:
      description: Kind of resource (C(aurora cluster), C(aurora instance)).
      type: str
    name:
      description: Its identifier.
      type: str
    action:
      description: C(create), C(update) or C(replace).
      type: str
    fields:
      description: Each differing field with its value C(before) (as AWS has it) and C(after) (as wanted).
      type: dict
    reason:
      description: Why the change is planned.
      type: str
lines:
  description: The plan as one readable line per change.
  returned: always
  type: list
  elements: str
  sample: ["update aurora cluster aurora-dev: backup_retention_period 1 -> 7 (differs from the inputs)"]
subnet_group:
  description: The DB subnet group as read (C(found)) and whether M(amazon.aws.rds_subnet_group) has something to do (C(apply)).
  returned: when O(subnet_group_subnets) is given
  type: dict
alarms:
  description: Whether M(bluegreen.migration.metric_alarms) has something to do (C(apply)).
  returned: when O(alarms) is given
  type: dict
secret:
  description:
    - The credentials secret as read (C(found) - C(arn), C(name), C(description), C(kms_key_id),
      C(tags), C(version_id), C(deleted), never its value), whether
      M(bluegreen.migration.secretsmanager_secret) has something to do (C(apply)), and the
      non-secret keys to give it (C(fields), as compared).
  returned: when O(secret) is given
  type: dict
writes:
  description:
    - Whether any writer has something to do - the secret, the subnet group, the cluster, an instance or the alarms.
    - The role runs its writers only then, so a converged re-run runs none of them.
  returned: always
  type: bool
refused:
  description:
    - What cannot be brought to the wanted state in place, one sentence per field with the cluster's value
      and the wanted one - another major version, master user, database name or storage key. The role stops on it before any write.
    - Also a state AWS refuses changes in, with what to do - a cluster C(deleting), C(stopping) or C(stopped), or a wanted
      instance still C(deleting).
  returned: always
  type: list
  elements: str
  sample: ["engine_version: the cluster has 15.10, aurora_engine_version is 16.4; a major version upgrade is an explicit operation ..."]
ready:
  description: Whether the cluster and every instance of O(instance_ids) are C(available) as read (a run that writes nothing has nothing to wait for).
  returned: always
  type: bool
apply:
  description: What the writers have to do.
  returned: always
  type: dict
  contains:
    cluster:
      description: Whether the cluster has to be created or updated.
      type: bool
    create_cluster:
      description: Whether the cluster does not exist yet (its password is only ever set then).
      type: bool
    engine_version:
      description: The version to send to the writer (only to create or upgrade), else null.
      type: str
    instances:
      description: The instances to create or update, each with C(id), C(promotion_tier) and C(tags).
      type: list
      elements: dict
    delete_instances:
      description:
        - Identifiers of the role's instances (tagged C(bluegreen:db-role)) beyond the ones wanted, e.g. after O(instance_ids) lost a reader.
        - Not the cluster's writer (that is refused) nor an instance added by hand.
      type: list
      elements: str
"""

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict

from ansible_collections.bluegreen.migration.plugins.module_utils import aurora
from ansible_collections.bluegreen.migration.plugins.module_utils import cloudwatch
from ansible_collections.bluegreen.migration.plugins.module_utils import secretsmanager
from ansible_collections.bluegreen.migration.plugins.module_utils.core import BlueGreenModule
from ansible_collections.bluegreen.migration.plugins.module_utils.core import validated


def snake(resource):
    if resource is None:
        return {}
    found = camel_dict_to_snake_dict(resource, ignore_list=["TagList"])
    found["tags"] = boto3_tag_list_to_ansible_dict(found.pop("tag_list", []))
    return found


SECRET_OPTIONS = dict(
    name=dict(type="str", required=True),
    description=dict(type="str"),
    kms_key_id=dict(type="str"),
    fields=dict(type="dict", default={}),
    tags=dict(type="dict"),
)


def writes(apply, parts):
    """Whether any writer has something to do: the cluster, an instance, or one of `parts` (the
    subnet group, the secret, the alarms: each a dict with its own "apply")."""
    return bool(apply["cluster"] or apply["instances"] or apply["delete_instances"] or any(part["apply"] for part in parts.values()))


def main():
    argument_spec = dict(
        identifier=dict(type="str", required=True),
        engine_version=dict(type="str", required=True),
        port=dict(type="int", required=True),
        subnet_group=dict(type="str", required=True),
        security_group_ids=dict(type="list", elements="str", required=True),
        backup_retention_period=dict(type="int", required=True),
        deletion_protection=dict(type="bool", required=True),
        master_username=dict(type="str"),
        database_name=dict(type="str"),
        kms_key_id=dict(type="str", default="", no_log=False),
        tags=dict(type="dict", required=True),
        instance_ids=dict(type="list", elements="str", required=True),
        instance_class=dict(type="str", required=True),
        instance_tags=dict(type="dict", default={}),
        subnet_group_subnets=dict(type="list", elements="str"),
        subnet_group_description=dict(type="str", default=""),
        subnet_group_tags=dict(type="dict", default={}),
        alarms=dict(type="list", elements="dict", default=[]),
        alarm_tags=dict(type="dict", default={}),
        # The secret's name and non-secret keys (its value is never passed or read).
        secret=dict(type="dict", options=SECRET_OPTIONS, no_log=False),
    )
    module = BlueGreenModule(argument_spec=argument_spec, supports_check_mode=True)
    p = module.params
    desired = {
        "identifier": p["identifier"],
        "engine": "aurora-postgresql",
        "engine_version": p["engine_version"],
        "port": p["port"],
        "db_subnet_group": p["subnet_group"],
        "security_group_ids": p["security_group_ids"],
        "storage_encrypted": True,
        "backup_retention_period": p["backup_retention_period"],
        "deletion_protection": p["deletion_protection"],
        "copy_tags_to_snapshot": True,
        "tags": p["tags"],
    }
    desired.update((key, p[key]) for key in aurora.FIXED_NAMES if p[key] is not None)
    if p["kms_key_id"]:
        desired["kms_key_id"] = p["kms_key_id"]
    try:
        alarms = [validated(alarm, cloudwatch.ALARM_OPTIONS, "alarms[%d]" % index) for index, alarm in enumerate(p["alarms"])]
    except ValueError as e:
        module.fail_json(msg=str(e))
    subnet_group_changes, alarm_changes, secret_changes, more = [], [], [], {}
    try:
        rds = module.client("rds")
        if p["subnet_group_subnets"] is not None:
            wanted = {
                "name": p["subnet_group"],
                "description": p["subnet_group_description"],
                "subnet_ids": p["subnet_group_subnets"],
                "tags": p["subnet_group_tags"],
            }
            current = aurora.read_subnet_group(rds, p["subnet_group"])
            subnet_group_changes, needed = aurora.plan_subnet_group(wanted, current)
            more["subnet_group"] = {"found": current or {}, "apply": needed}
        cluster, instances = aurora.read(rds, p["identifier"])
        if p["secret"]:
            wanted = aurora.secret_wanted(p["secret"], cluster)
            found = secretsmanager.describe_secret(module.client("secretsmanager"), wanted["name"])
            secret_changes, needed = secretsmanager.plan_secret(wanted, found)
            more["secret"] = {"found": secretsmanager.secret_view(found), "apply": needed, "fields": wanted["fields"]}
        if alarms:
            watch = module.client("cloudwatch")
            current = cloudwatch.describe_alarms(watch, [alarm["name"] for alarm in alarms])
            alarm_changes, needed = cloudwatch.plan_alarm_changes(watch, alarms, current, p["alarm_tags"])
            more["alarms"] = {"apply": needed}
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)
    except cloudwatch.AlarmDefinitionError as e:
        module.fail_json(msg=str(e))
    result = aurora.plan(desired, aurora.instance_plan(p["instance_ids"], p["instance_tags"]), p["instance_class"], cluster, instances)
    changes = secret_changes + subnet_group_changes + result.pop("changes") + alarm_changes
    module.exit_with_plan(
        changes, cluster=snake(cluster), instances=[snake(i) for i in instances], refused=result["refused"], ready=result["ready"], apply=result["apply"],
        writes=writes(result["apply"], more), **more
    )


if __name__ == "__main__":
    main()
