#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: bluegreen.migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# ruff: noqa: E402  (Ansible module layout: imports follow DOCUMENTATION, EXAMPLES and RETURN)

DOCUMENTATION = r"""
module: ecs_task_definition
short_description: Register an ECS task definition revision only when the definition changed
version_added: 0.1.0
description:
  - Compares the desired task definition with the latest C(ACTIVE) revision of the family and
    registers a new revision only when they really differ.
  - Both sides are normalised first, so values AWS fills in on its own (port mapping protocol
    C(tcp), host port equal to the container port in C(awsvpc) mode, health check defaults,
    empty lists, container C(cpu) 0) never count as a difference, and the order of
    containers, environment variables, secrets and port mappings does not matter.
  - The reason for a new revision is returned in RV(change_reason).
  - O(state=absent) deregisters every active revision of the family, then deletes every
    inactive one (C(DeleteTaskDefinitions)), so that AWS no longer lists the family.
  - Tags apply to the latest revision; a new revision carries the requested tags (or, with
    O(tags) unset, the tags of the previous revision).
  - Supports check mode and diff mode.
options:
  family:
    description:
      - Family of the task definition.
    type: str
    required: true
  cpu:
    description:
      - Task CPU units (V(256), V(512), V(1024) ...). Required for Fargate.
    type: str
  memory:
    description:
      - Task memory in MiB (V(512), V(1024) ...). Required for Fargate.
    type: str
  network_mode:
    description:
      - Docker networking mode of the containers (Fargate needs V(awsvpc)).
    type: str
    choices: [awsvpc, bridge, host, none]
    default: awsvpc
  requires_compatibilities:
    description:
      - Launch types the task definition is validated against.
    type: list
    elements: str
    choices: [FARGATE, EC2]
    default: [FARGATE]
  execution_role_arn:
    description:
      - Role ECS uses to pull the image, write logs and read the secrets.
    type: str
  task_role_arn:
    description:
      - Role the containers run with.
    type: str
  containers:
    description:
      - Container definitions (at least one).
    type: list
    elements: dict
    suboptions:
      name:
        description: Name of the container.
        type: str
        required: true
      image:
        description: Image of the container.
        type: str
        required: true
      essential:
        description: Whether the task stops when this container stops.
        type: bool
        default: true
      port_mappings:
        description: Ports the container listens on.
        type: list
        elements: dict
        default: []
        suboptions:
          container_port:
            description: Port inside the container.
            type: int
            required: true
          host_port:
            description: Host port (in V(awsvpc) mode it must equal O(containers[].port_mappings[].container_port)).
            type: int
          protocol:
            description: Protocol of the port.
            type: str
            choices: [tcp, udp]
            default: tcp
      environment:
        description: Plain environment variables (name to value). Never put secrets here.
        type: dict
        default: {}
      secrets:
        description: Environment variables read from Secrets Manager or SSM Parameter Store at start.
        type: list
        elements: dict
        default: []
        suboptions:
          name:
            description: Name of the environment variable.
            type: str
            required: true
          value_from:
            description: ARN of the secret (optionally with C(:json-key::)) or parameter.
            type: str
            required: true
      log_configuration:
        description: Log driver of the container.
        type: dict
        suboptions:
          log_driver:
            description: Log driver (V(awslogs) on Fargate).
            type: str
            required: true
          options:
            description: Options of the log driver.
            type: dict
            default: {}
      health_check:
        description: Container health check.
        type: dict
        suboptions:
          command:
            description: Command, e.g. V(["CMD-SHELL", "curl -f http://localhost/ || exit 1"]).
            type: list
            elements: str
            required: true
          interval:
            description: Seconds between checks.
            type: int
            default: 30
          timeout:
            description: Seconds before a check fails.
            type: int
            default: 5
          retries:
            description: Failures before the container is unhealthy.
            type: int
            default: 3
          start_period:
            description: Grace seconds after the start.
            type: int
            default: 0
  keep_image:
    description:
      - When the family has an active revision, each container keeps the image it has there and
        its O(containers[].image) is used only for a new family or a new container. Everything
        else is still compared and changed.
      - For a role whose images are deployed by something else (the rollout playbooks), so that a
        re-run never brings back the image it seeded the family with.
    type: bool
    default: false
  state:
    description:
      - V(present) registers a revision when needed; V(absent) deregisters all active revisions and deletes all inactive ones.
    type: str
    choices: [present, absent]
    default: present
author:
  - bluegreen.migration maintainers (@bluegreen)
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Application task definition
  bluegreen.migration.ecs_task_definition:
    family: bluegreen-app-dev
    cpu: "512"
    memory: "1024"
    execution_role_arn: "{{ execution_role.arn }}"
    task_role_arn: "{{ task_role.arn }}"
    containers:
      - name: app
        image: amazon/amazon-ecs-sample
        port_mappings:
          - container_port: 80
        secrets:
          - name: DB_PASSWORD
            value_from: "{{ db_secret_arn }}:password::"
        log_configuration:
          log_driver: awslogs
          options:
            awslogs-group: /aws/ecs/app-dev
            awslogs-region: us-east-1
            awslogs-stream-prefix: app
  register: task_definition

- name: Deregister every revision
  bluegreen.migration.ecs_task_definition:
    family: bluegreen-app-dev
    state: absent
"""

RETURN = r"""
arn:
  description: ARN of the latest active revision (null in check mode before a first registration, and once absent).
  returned: always
  type: str
  sample: arn:aws:ecs:us-east-1:123456789012:task-definition/bluegreen-app-dev:3
family:
  description: Family of the task definition.
  returned: always
  type: str
  sample: bluegreen-app-dev
revision:
  description: Revision number of the latest active revision (the one that would be registered in check mode).
  returned: when state is present
  type: int
  sample: 3
change_reason:
  description: Why a revision was registered (or would be); empty when nothing changed.
  returned: always
  type: str
  sample: "containers.app.image: 'amazon/amazon-ecs-sample:1' -> 'amazon/amazon-ecs-sample:2'"
tags:
  description: Tags of the latest revision.
  returned: when state is present
  type: dict
  sample: {"bluegreen:environment": "dev"}
deregistered:
  description: ARNs of the revisions deregistered (or that would be).
  returned: when state is absent
  type: list
  elements: str
  sample: ["arn:aws:ecs:us-east-1:123456789012:task-definition/bluegreen-app-dev:1"]
deleted:
  description: ARNs of the revisions deleted, the ones just deregistered included (or that would be).
  returned: when state is absent
  type: list
  elements: str
  sample: ["arn:aws:ecs:us-east-1:123456789012:task-definition/bluegreen-app-dev:1"]
task_definition:
  description: The latest revision as AWS describes it, in snake_case (empty in check mode before a first registration).
  returned: when state is present
  type: dict
  sample: {"family": "bluegreen-app-dev", "revision": 3, "cpu": "512", "memory": "1024", "network_mode": "awsvpc"}
"""

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict

from ansible_collections.bluegreen.migration.plugins.module_utils import ecs
from ansible_collections.bluegreen.migration.plugins.module_utils.core import BlueGreenModule
from ansible_collections.bluegreen.migration.plugins.module_utils.diff import apply_tag_plan
from ansible_collections.bluegreen.migration.plugins.module_utils.diff import plan_tags
from ansible_collections.bluegreen.migration.plugins.module_utils.ecs_services import TASK_DEFINITION_OPTIONS
from ansible_collections.bluegreen.migration.plugins.module_utils.ecs_services import normalise_task_definition
from ansible_collections.bluegreen.migration.plugins.module_utils.ecs_services import task_definition_reasons
from ansible_collections.bluegreen.migration.plugins.module_utils.ecs_services import task_definition_request
from ansible_collections.bluegreen.migration.plugins.module_utils.ecs_services import with_images_of


def find_latest(client, family):
    """(task definition, tags) of the latest ACTIVE revision, or None."""
    arns = ecs.list_task_definition_arns(client, family)
    if not arns:
        return None
    return ecs.describe_task_definition(client, arns[-1])


def _result(definition, tags, reason):
    return {
        "arn": definition.get("taskDefinitionArn"),
        "family": definition.get("family"),
        "revision": definition.get("revision"),
        "change_reason": reason,
        "tags": tags,
        "task_definition": camel_dict_to_snake_dict(definition) if definition.get("taskDefinitionArn") else {},
    }


def ensure_present(module, client, latest):
    params = module.params
    if not params["containers"]:
        module.fail_json(msg="containers is required (at least one) when state is present")
    request = task_definition_request(params)
    if params["keep_image"] and latest is not None:
        request = with_images_of(request, latest[0])
    desired = normalise_task_definition(request)

    if latest is None:
        reasons = [f"family {params['family']} has no active revision"]
        current_definition, current_tags, before = {}, {}, {}
    else:
        current_definition, current_tags = latest
        before = normalise_task_definition(current_definition)
        reasons = task_definition_reasons(desired, before)

    if reasons:
        tags = params["tags"] if params["tags"] is not None else current_tags
        reason = "; ".join(reasons)
        if module.check_mode:
            planned = dict(request, revision=(current_definition.get("revision") or 0) + 1)
            module.exit_with_diff(True, before, desired, **_result(planned, tags or {}, reason))
        if tags:
            request["tags"] = ecs.dict_to_tags(tags)
        registered = ecs.register_task_definition(client, **request)
        module.exit_with_diff(True, before, desired, **_result(registered, tags or {}, reason))

    arn = current_definition["taskDefinitionArn"]
    to_set, to_unset = plan_tags(current_tags, params["tags"], params["purge_tags"])
    if to_set or to_unset:
        after_tags = apply_tag_plan(current_tags, to_set, to_unset)
        if not module.check_mode:
            ecs.update_tags(client, arn, to_set, to_unset)
        module.exit_with_diff(
            True, dict(before, tags=current_tags), dict(desired, tags=after_tags), **_result(current_definition, after_tags, "tags of the latest revision")
        )
    module.exit_with_diff(False, before, desired, **_result(current_definition, current_tags, ""))


def ensure_absent(module, client):
    family = module.params["family"]
    arns = ecs.list_task_definition_arns(client, family)
    inactive = ecs.list_task_definition_arns(client, family, status="INACTIVE")
    # Only INACTIVE revisions can be deleted: deregister first, then delete them all.
    to_delete = sorted(set(arns + inactive), key=ecs.revision_of)
    if not module.check_mode:
        for arn in arns:
            ecs.deregister_task_definition(client, arn)
        for start in range(0, len(to_delete), 10):
            ecs.delete_task_definitions(client, family, to_delete[start : start + 10])
    before = {"active_revisions": arns, "inactive_revisions": inactive}
    reason = f"deregistered {len(arns)} active and deleted {len(to_delete)} revision(s)" if to_delete else ""
    module.exit_with_diff(
        bool(to_delete),
        before,
        {"active_revisions": [], "inactive_revisions": []},
        arn=None,
        family=family,
        deregistered=arns,
        deleted=to_delete,
        change_reason=reason,
    )


def main():
    argument_spec = dict(
        TASK_DEFINITION_OPTIONS,
        keep_image=dict(type="bool", default=False),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
    )
    module = BlueGreenModule(argument_spec=argument_spec, supports_check_mode=True)
    client = module.client("ecs")
    try:
        if module.params["state"] == "present":
            ensure_present(module, client, find_latest(client, module.params["family"]))
        else:
            ensure_absent(module, client)
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)


if __name__ == "__main__":
    main()
