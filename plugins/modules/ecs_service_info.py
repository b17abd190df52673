#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: bluegreen.migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: ecs_service_info
short_description: Running and desired counts, deployments and task definitions of ECS services
version_added: 0.1.0
description:
  - Describes ECS services of one cluster with their status, desired, running and pending counts,
    deployments, target group bindings and tags.
  - With O(include_task_definitions=true) (the default) each service also carries its task
    definition and the latest C(ACTIVE) revision of the same family, with the image of every
    container and the definition in the option shape of M(bluegreen.migration.ecs_task_definition)
    (RV(services[].task_definition_details.spec)), so a playbook can register a changed copy
    without reshaping the AWS answer.
  - A service that does not exist (or a cluster that does not exist) is listed in RV(missing),
    it does not fail the module.
  - Read-only; supports check mode (it does the same there).
options:
  cluster:
    description:
      - Name or ARN of the cluster.
    type: str
    required: true
  services:
    description:
      - Names or ARNs of the services to describe. When not set, every service of the cluster.
    type: list
    elements: str
  include_task_definitions:
    description:
      - Describe the task definition of each service and the latest revision of its family.
    type: bool
    default: true
author:
  - bluegreen.migration maintainers (@bluegreen)
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Blue and green services with their task definitions
  bluegreen.migration.ecs_service_info:
    cluster: app-dev
    services:
      - app-blue-dev
      - app-green-dev
  register: app_services

- name: Show the image and the counts of each color
  ansible.builtin.debug:
    msg: >-
      {{ item.service_name }} runs {{ item.task_definition_details.images.app }}
      ({{ item.running_count }}/{{ item.desired_count }})
  loop: "{{ app_services.services }}"

- name: Register the green family again with another image, everything else unchanged
  bluegreen.migration.ecs_task_definition:
    family: "{{ spec.family }}"
    cpu: "{{ spec.cpu }}"
    memory: "{{ spec.memory }}"
    network_mode: "{{ spec.network_mode }}"
    requires_compatibilities: "{{ spec.requires_compatibilities }}"
    execution_role_arn: "{{ spec.execution_role_arn | default(omit, true) }}"
    task_role_arn: "{{ spec.task_role_arn | default(omit, true) }}"
    containers: "{{ spec.containers | map('combine', {'image': 'registry.example.com/app:2.0'}) }}"
  vars:
    spec: "{{ (app_services.services | selectattr('service_name', 'eq', 'app-green-dev') | first).latest_task_definition_details.spec }}"
"""

RETURN = r"""
services:
  description: The services found, in the order asked (or as ECS lists them).
  returned: always
  type: list
  elements: dict
  contains:
    service_name:
      description: Name of the service.
      type: str
      sample: app-green-dev
    service_arn:
      description: ARN of the service.
      type: str
      sample: arn:aws:ecs:us-east-1:123456789012:service/app-dev/app-green-dev
    cluster_arn:
      description: ARN of the cluster.
      type: str
      sample: arn:aws:ecs:us-east-1:123456789012:cluster/app-dev
    status:
      description: Status of the service.
      type: str
      sample: ACTIVE
    desired_count:
      description: Desired number of tasks.
      type: int
      sample: 2
    running_count:
      description: Running tasks.
      type: int
      sample: 2
    pending_count:
      description: Pending tasks.
      type: int
      sample: 0
    task_definition:
      description: ARN of the task definition of the service.
      type: str
      sample: arn:aws:ecs:us-east-1:123456789012:task-definition/app-green-dev:4
    deployments:
      description: Deployments of the service, in snake_case.
      type: list
      elements: dict
      sample: [{"status": "PRIMARY", "rollout_state": "COMPLETED", "running_count": 2, "desired_count": 2}]
    load_balancers:
      description: Target group bindings.
      type: list
      elements: dict
      sample: [{"target_group_arn": "arn:aws:elasticloadbalancing:...", "container_name": "app", "container_port": 80}]
    tags:
      description: Tags of the service.
      type: dict
      sample: {"bluegreen:color": "green"}
    task_definition_details:
      description: The task definition of the service (null when O(include_task_definitions=false) or when it cannot be described).
      type: dict
      contains:
        arn:
          description: ARN of the revision.
          type: str
          sample: arn:aws:ecs:us-east-1:123456789012:task-definition/app-green-dev:4
        family:
          description: Family.
          type: str
          sample: app-green-dev
        revision:
          description: Revision number.
          type: int
          sample: 4
        status:
          description: C(ACTIVE) or C(INACTIVE).
          type: str
          sample: ACTIVE
        images:
          description: Image of each container, by container name.
          type: dict
          sample: {"app": "registry.example.com/app:2.0"}
        spec:
          description:
            - The definition as options of M(bluegreen.migration.ecs_task_definition) (family, cpu, memory,
              network_mode, requires_compatibilities, execution_role_arn, task_role_arn, containers).
          type: dict
          sample: {"family": "app-green-dev", "cpu": "512", "memory": "1024", "network_mode": "awsvpc", "containers": []}
        unsupported:
          description:
            - Fields of the definition that RV(services[].task_definition_details.spec) cannot carry (for example a container
              C(command) or task C(volumes)); registering the spec would drop them.
          type: list
          elements: str
          sample: ["containers.app.command"]
    latest_task_definition_details:
      description:
        - The latest C(ACTIVE) revision of the same family, same fields as RV(services[].task_definition_details)
          (null when the family has no active revision or O(include_task_definitions=false)).
      type: dict
missing:
  description: Requested services that do not exist (all of them when the cluster does not exist).
  returned: always
  type: list
  elements: str
  sample: ["app-green-dev"]
"""

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError

from ansible_collections.bluegreen.migration.plugins.module_utils import ecs
from ansible_collections.bluegreen.migration.plugins.module_utils.core import BlueGreenModule
from ansible_collections.bluegreen.migration.plugins.module_utils.ecs_services import read_services


def main():
    argument_spec = dict(
        cluster=dict(type="str", required=True),
        services=dict(type="list", elements="str"),
        include_task_definitions=dict(type="bool", default=True),
    )
    module = BlueGreenModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    client = module.client("ecs")
    try:
        wanted = params["services"]
        if wanted is None:
            wanted = ecs.list_service_arns(client, params["cluster"])
        services, missing = read_services(client, params["cluster"], wanted, params["include_task_definitions"])
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)
    module.exit_json(changed=False, services=services, missing=missing)


if __name__ == "__main__":
    main()
