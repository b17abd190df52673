#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: bluegreen.migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# ruff: noqa: E402  (Ansible module layout: imports follow DOCUMENTATION, EXAMPLES and RETURN)

DOCUMENTATION = r"""
module: ecs_cluster
short_description: Create, update or delete an ECS cluster (Fargate)
version_added: 0.1.0
description:
  - Ensures an Amazon ECS cluster exists with the given Container Insights setting, Fargate
    capacity providers and tags, or is absent.
  - Every option is compared with the cluster AWS describes; only what differs is changed.
  - Supports check mode and diff mode.
options:
  name:
    description:
      - Name of the cluster.
    type: str
    required: true
  container_insights:
    description:
      - CloudWatch Container Insights for the cluster.
      - When not set, the setting is left as it is (a new cluster gets the account default).
    type: str
    choices: [enabled, disabled]
  capacity_providers:
    description:
      - Capacity providers attached to the cluster.
      - When not set, the capacity providers are left as they are; V([]) detaches them all.
    type: list
    elements: str
    choices: [FARGATE, FARGATE_SPOT]
  state:
    description:
      - Whether the cluster should exist.
      - A cluster still running services cannot be deleted; delete the services first.
    type: str
    choices: [present, absent]
    default: present
notes:
  - Some AWS-compatible endpoints omit C(capacityProviders) when the list is empty; the module
    treats a missing list as empty.
  - An account's first cluster makes ECS create its service-linked role, and CreateCluster is
    refused (C(Unable to assume the service linked role)) until IAM has it; the module retries
    that refusal with jittered backoff for up to about two minutes.
author:
  - bluegreen.migration maintainers (@bluegreen)
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Cluster with Container Insights
  bluegreen.migration.ecs_cluster:
    name: bluegreen-app-dev
    container_insights: enabled
    capacity_providers: [FARGATE, FARGATE_SPOT]
    tags:
      bluegreen:environment: dev

- name: Delete it
  bluegreen.migration.ecs_cluster:
    name: bluegreen-app-dev
    state: absent
"""

RETURN = r"""
cluster:
  description: The cluster as AWS describes it (empty once absent).
  returned: always
  type: dict
  contains:
    cluster_arn:
      description: ARN of the cluster.
      type: str
      sample: arn:aws:ecs:us-east-1:123456789012:cluster/bluegreen-app-dev
    cluster_name:
      description: Name of the cluster.
      type: str
      sample: bluegreen-app-dev
    status:
      description: Status of the cluster.
      type: str
      sample: ACTIVE
    container_insights:
      description: Container Insights setting.
      type: str
      sample: enabled
    capacity_providers:
      description: Capacity providers of the cluster.
      type: list
      elements: str
      sample: [FARGATE]
    tags:
      description: Tags of the cluster.
      type: dict
      sample: {"bluegreen:environment": "dev"}
"""

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError

from ansible_collections.bluegreen.migration.plugins.module_utils import ecs
from ansible_collections.bluegreen.migration.plugins.module_utils.core import BlueGreenModule
from ansible_collections.bluegreen.migration.plugins.module_utils.diff import plan_tags


def ensure_present(module, client, current):
    params = module.params
    name = params["name"]
    providers = sorted(set(params["capacity_providers"])) if params["capacity_providers"] is not None else None

    if current is None:
        after = {
            "cluster_arn": None,
            "cluster_name": name,
            "status": "ACTIVE",
            "container_insights": params["container_insights"] or "disabled",
            "capacity_providers": providers or [],
            "tags": params["tags"] or {},
        }
        if not module.check_mode:
            request = {"clusterName": name}
            if params["container_insights"]:
                request["settings"] = [{"name": "containerInsights", "value": params["container_insights"]}]
            if providers:
                request["capacityProviders"] = providers
            if params["tags"]:
                request["tags"] = ecs.dict_to_tags(params["tags"])
            # From the create's answer: ECS is eventually consistent, and a DescribeClusters at
            # once may answer the new cluster MISSING. Fields the answer leaves out are as asked.
            created = ecs.create_cluster(client, **request)
            summary = ecs.cluster_summary(created)
            if not created.get("settings"):
                summary.pop("container_insights")
            after = dict(after, **dict((key, value) for key, value in summary.items() if value))
        module.exit_with_diff(True, {}, after, cluster=after)

    drift = ecs.cluster_drift(params, current)
    after = dict(current, **{key: value["after"] for key, value in drift.items()})
    changed = bool(drift)
    if not module.check_mode:
        if "container_insights" in drift:
            ecs.update_cluster_settings(client, name, [{"name": "containerInsights", "value": params["container_insights"]}])
        if "capacity_providers" in drift:
            ecs.put_cluster_capacity_providers(client, name, providers, [])
        if "tags" in drift:
            ecs.update_tags(client, current["cluster_arn"], *plan_tags(current["tags"], params["tags"], params["purge_tags"]))
    if changed and not module.check_mode:
        after = ecs.read_cluster(client, name)
    module.exit_with_diff(changed, current, after, cluster=after)


def ensure_absent(module, client, current):
    if current is None:
        module.exit_with_diff(False, {}, {}, cluster={})
    if not module.check_mode:
        ecs.delete_cluster(client, module.params["name"])
    module.exit_with_diff(True, current, {}, cluster={})


def main():
    argument_spec = dict(
        name=dict(type="str", required=True),
        container_insights=dict(type="str", choices=["enabled", "disabled"]),
        capacity_providers=dict(type="list", elements="str", choices=["FARGATE", "FARGATE_SPOT"]),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
    )
    module = BlueGreenModule(argument_spec=argument_spec, supports_check_mode=True)
    client = module.client("ecs")
    try:
        current = ecs.read_cluster(client, module.params["name"])
        if module.params["state"] == "present":
            ensure_present(module, client, current)
        else:
            ensure_absent(module, client, current)
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)


if __name__ == "__main__":
    main()
