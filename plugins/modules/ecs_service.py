#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: bluegreen.migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# ruff: noqa: E402  (Ansible module layout: imports follow DOCUMENTATION, EXAMPLES and RETURN)

DOCUMENTATION = r"""
module: ecs_service
short_description: Create, update or delete a Fargate ECS service and wait for its steady state
version_added: 0.1.0
description:
  - Ensures an Amazon ECS service on Fargate exists with the given task definition, desired
    count, network, load balancer binding, health check grace period, deployment
    configuration (including the deployment circuit breaker) and tags, or is absent.
  - Every option is compared with what AWS describes; what differs is sent in one
    UpdateService call. An option that is not set is left as it is.
  - With O(wait=true) the module waits for the steady state (one deployment, whose rollout is
    not C(IN_PROGRESS), running count equal to the desired count). When the wait fails or times out, the message says why, naming
    a deployment the circuit breaker failed or rolled back, stopped tasks with their
    stopped reason, fewer running tasks than desired, and the latest service events.
  - A service found C(DRAINING) (deleted, its tasks still stopping) is one to create; ECS
    refuses to update it or to create its name again until it is C(INACTIVE), so the module
    waits for that first (up to O(wait_timeout)). With O(state=absent) and O(wait=true) it only
    waits, and reports no change.
  - Supports check mode and diff mode.
options:
  cluster:
    description:
      - Name or ARN of the cluster.
    type: str
    required: true
  name:
    description:
      - Name of the service.
    type: str
    required: true
  task_definition:
    description:
      - Task definition to run, as V(family:revision), a full ARN or a family (its latest revision).
      - Required to create the service; when not set, an existing service keeps its task definition.
    type: str
  desired_count:
    description:
      - Number of tasks to keep running.
      - When not set, an existing service keeps its count and a new one starts with O(initial_desired_count).
    type: int
  initial_task_definition:
    description:
      - Task definition of the service when this run creates it and O(task_definition) is not set.
      - An existing service is never moved to it, so a role can pass it on every run and still
        recreate a service deleted by hand or by a teardown that stopped midway.
    type: str
  initial_desired_count:
    description:
      - Number of tasks of the service when this run creates it and O(desired_count) is not set.
    type: int
    default: 1
  launch_type:
    description:
      - Launch type (only Fargate is supported). Cannot change on an existing service.
    type: str
    choices: [FARGATE]
    default: FARGATE
  network:
    description:
      - awsvpc network of the tasks. Required to create the service.
    type: dict
    suboptions:
      subnets:
        description: Subnets of the tasks (private subnets).
        type: list
        elements: str
        required: true
      security_groups:
        description: Security groups of the tasks.
        type: list
        elements: str
        default: []
      assign_public_ip:
        description: Whether the tasks get a public IP.
        type: bool
        default: false
  load_balancers:
    description:
      - Target groups the tasks are registered with. V([]) removes every binding.
    type: list
    elements: dict
    suboptions:
      target_group_arn:
        description: ARN of the target group.
        type: str
        required: true
      container_name:
        description: Container that receives the traffic.
        type: str
        required: true
      container_port:
        description: Port of that container.
        type: int
        required: true
  health_check_grace_period:
    description:
      - Seconds during which ECS ignores failing load balancer health checks of a new task.
    type: int
  deployment_configuration:
    description:
      - Rolling deployment settings, compared and updated like any other option.
    type: dict
    suboptions:
      minimum_healthy_percent:
        description: Lower limit of running tasks during a deployment, in percent of the desired count.
        type: int
        default: 100
      maximum_percent:
        description: Upper limit of running tasks during a deployment, in percent of the desired count.
        type: int
        default: 200
      deployment_circuit_breaker:
        description: Deployment circuit breaker (stops a deployment whose tasks keep failing).
        type: dict
        default: {}
        suboptions:
          enable:
            description: Whether the circuit breaker is on.
            type: bool
            default: true
          rollback:
            description: Whether a failed deployment rolls back to the last completed one.
            type: bool
            default: true
  force_new_deployment:
    description:
      - Start a new deployment even when nothing changed (new image behind the same tag).
      - Always reports a change.
    type: bool
    default: false
  wait:
    description:
      - Wait for the steady state after a change (or for V(INACTIVE) after a deletion).
      - With nothing to change, wait too when the service is not steady (a deployment still under way, e.g. after a run stopped during its
        wait); a steady service costs no further call.
    type: bool
    default: false
  wait_timeout:
    description:
      - Seconds to wait.
    type: int
    default: 600
  state:
    description:
      - Whether the service should exist. Deleting scales it to 0 first, then deletes it.
    type: str
    choices: [present, absent]
    default: present
notes:
  - AWS reports C(deploymentConfiguration) and C(healthCheckGracePeriodSeconds) on every
    service. When the service returned right after creation does not show the values that
    were requested (some AWS-compatible endpoints drop them on CreateService), the module
    sends them again with UpdateService in the same run, so that the next run compares the
    values the endpoint really holds. When AWS does not report a deployment configuration
    at all, the module treats it as unknown and applies the requested one.
  - ECS learns late of what was just created. CreateService right after the cluster's creation
    (C(ClusterNotFoundException)), right after a listener took up the target group (C(does not have
    an associated load balancer)) or in an account whose ECS service-linked role is still
    propagating is retried with jittered backoff for up to about two minutes; any other
    C(InvalidParameterException) fails at once.
author:
  - bluegreen.migration maintainers (@bluegreen)
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Blue service behind its target group, circuit breaker with rollback
  bluegreen.migration.ecs_service:
    cluster: bluegreen-app-dev
    name: bluegreen-blue-dev
    task_definition: "{{ task_definition.arn }}"
    desired_count: 2
    network:
      subnets: "{{ bluegreen_network.subnets.private }}"
      security_groups: ["{{ bluegreen_network.security_groups.app }}"]
    load_balancers:
      - target_group_arn: "{{ blue_target_group.target_group.target_group_arn }}"
        container_name: app
        container_port: 80
    health_check_grace_period: 60
    deployment_configuration:
      minimum_healthy_percent: 100
      maximum_percent: 200
      deployment_circuit_breaker:
        enable: true
        rollback: true
    wait: true
    wait_timeout: 900

- name: Remove the service
  bluegreen.migration.ecs_service:
    cluster: bluegreen-app-dev
    name: bluegreen-blue-dev
    state: absent
    wait: true
"""

RETURN = r"""
service:
  description: The service as AWS describes it after the run (empty once absent).
  returned: always
  type: dict
  contains:
    service_arn:
      description: ARN of the service.
      type: str
      sample: arn:aws:ecs:us-east-1:123456789012:service/bluegreen-app-dev/bluegreen-blue-dev
    service_name:
      description: Name of the service.
      type: str
      sample: bluegreen-blue-dev
    cluster_arn:
      description: ARN of the cluster.
      type: str
      sample: arn:aws:ecs:us-east-1:123456789012:cluster/bluegreen-app-dev
    status:
      description: Status of the service.
      type: str
      sample: ACTIVE
    task_definition:
      description: ARN of the task definition of the service.
      type: str
      sample: arn:aws:ecs:us-east-1:123456789012:task-definition/bluegreen-app-dev:3
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
    launch_type:
      description: Launch type.
      type: str
      sample: FARGATE
    network:
      description: awsvpc network of the tasks.
      type: dict
      sample: {"subnets": ["subnet-1"], "security_groups": ["sg-1"], "assign_public_ip": false}
    load_balancers:
      description: Target group bindings.
      type: list
      elements: dict
      sample: [{"target_group_arn": "arn:aws:elasticloadbalancing:...", "container_name": "app", "container_port": 80}]
    health_check_grace_period:
      description: Health check grace period in seconds (null when AWS does not report it).
      type: int
      sample: 60
    deployment_configuration:
      description: Deployment configuration (null when AWS does not report it).
      type: dict
      sample: {"minimum_healthy_percent": 100, "maximum_percent": 200,
               "deployment_circuit_breaker": {"enable": true, "rollback": true}}
    deployments:
      description: Active deployments, in snake_case.
      type: list
      elements: dict
      sample: [{"id": "ecs-svc/1234", "status": "PRIMARY", "rollout_state": "COMPLETED", "running_count": 2}]
    tags:
      description: Tags of the service.
      type: dict
      sample: {"bluegreen:environment": "dev"}
changes:
  description: What differed between the desired and the current service (empty when nothing did).
  returned: always
  type: list
  elements: str
  sample: ["deployment_configuration.deployment_circuit_breaker.enable: False -> True"]
"""

import re

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError

from ansible_collections.bluegreen.migration.plugins.module_utils import ecs
from ansible_collections.bluegreen.migration.plugins.module_utils.core import BlueGreenModule
from ansible_collections.bluegreen.migration.plugins.module_utils.diff import apply_tag_plan
from ansible_collections.bluegreen.migration.plugins.module_utils.diff import plan_tags
from ansible_collections.bluegreen.migration.plugins.module_utils.ecs_services import DEPLOYMENT_CONFIGURATION_OPTIONS
from ansible_collections.bluegreen.migration.plugins.module_utils.ecs_services import NETWORK_OPTIONS
from ansible_collections.bluegreen.migration.plugins.module_utils.ecs_services import SERVICE_OPTIONS
from ansible_collections.bluegreen.migration.plugins.module_utils.ecs_services import deployment_configuration_to_aws
from ansible_collections.bluegreen.migration.plugins.module_utils.ecs_services import load_balancers_to_aws
from ansible_collections.bluegreen.migration.plugins.module_utils.ecs_services import network_to_aws
from ansible_collections.bluegreen.migration.plugins.module_utils.ecs_services import service_changes
from ansible_collections.bluegreen.migration.plugins.module_utils.ecs_services import service_options
from ansible_collections.bluegreen.migration.plugins.module_utils.ecs_services import service_summary

# arn:<partition>:ecs:<region>:<account>:task-definition/<family>:<revision>
TASK_DEFINITION_ARN = re.compile(r"^arn:[a-z-]+:ecs:[a-z0-9-]+:\d{12}:task-definition/[A-Za-z0-9_-]+:\d+$")


def _managed(summary):
    return {key: summary.get(key) for key in SERVICE_OPTIONS}


def find_service(client, cluster, name):
    service = ecs.describe_service(client, cluster, name)
    return service_summary(service) if service else None


# ---------------------------------------------------------------- desired state


def resolve_task_definition(module, client, name):
    """The full ARN of a task definition given as family, family:revision or ARN. A revision's ARN
    is taken as given: ECS may not describe a revision registered a moment ago yet (eventual
    consistency), and the roles pass the ARN RegisterTaskDefinition answered."""
    if TASK_DEFINITION_ARN.match(name):
        return name
    found = ecs.describe_task_definition(client, name)
    if found is None:
        module.fail_json(msg=f"task definition {name} does not exist")
    return found[0]["taskDefinitionArn"]


def desired_state(module, client):
    """The managed options the user set, in the shape service_summary() produces."""
    params = dict(module.params)
    if params["task_definition"]:
        params["task_definition"] = resolve_task_definition(module, client, params["task_definition"])
    return service_options(params)


def changed_options(desired, current):
    """{option: [reasons]} for every managed option whose desired value differs."""
    return service_changes(desired, current)


def update_params(desired, keys):
    params = {}
    for key in keys:
        value = desired[key]
        if key == "task_definition":
            params["taskDefinition"] = value
        elif key == "desired_count":
            params["desiredCount"] = value
        elif key == "network":
            params["networkConfiguration"] = network_to_aws(value)
        elif key == "load_balancers":
            params["loadBalancers"] = load_balancers_to_aws(value)
        elif key == "health_check_grace_period":
            params["healthCheckGracePeriodSeconds"] = value
        elif key == "deployment_configuration":
            params["deploymentConfiguration"] = deployment_configuration_to_aws(value)
    return params


# ---------------------------------------------------------------- waiting


def explain_wait_failure(client, cluster, name, wanted_task_definition, timeout, just_created=False):
    """A readable account of why a service is not steady."""
    service = ecs.describe_service(client, cluster, name)
    if service is None and just_created:
        # ECS is eventually consistent: a service just created may not be described yet.
        return (f"service {name} was created but ECS still did not describe it after {timeout}s (eventual consistency); "
                "run again to wait for it, or raise wait_timeout")
    if service is None:
        return f"service {name} disappeared while waiting for its steady state"
    reasons = []
    deployments = service.get("deployments") or []
    primary = next((d for d in deployments if d.get("status") == "PRIMARY"), None)
    for deployment in deployments:
        if deployment.get("rolloutState") == "FAILED":
            reasons.append(
                f"deployment {deployment.get('id')} of {deployment.get('taskDefinition')} FAILED: {deployment.get('rolloutStateReason') or 'no reason given'}"
            )
    if wanted_task_definition and primary and primary.get("taskDefinition") != wanted_task_definition:
        reasons.append(f"the deployment circuit breaker rolled the service back to {primary.get('taskDefinition')} (wanted {wanted_task_definition})")
    failed_tasks = sum(d.get("failedTasks") or 0 for d in deployments)
    stopped = ecs.describe_stopped_tasks(client, cluster, name) if failed_tasks else []
    if failed_tasks:
        details = [
            f"{task.get('taskArn', '').rsplit('/', 1)[-1]}: {task.get('stoppedReason') or 'no stopped reason'}"
            + "".join(f" [{c.get('name')}: {c.get('reason')}]" for c in task.get("containers") or [] if c.get("reason"))
            for task in stopped
        ]
        reasons.append(f"{failed_tasks} task(s) failed to start" + (f" ({'; '.join(details)})" if details else ""))
    running, desired, pending = service.get("runningCount", 0), service.get("desiredCount", 0), service.get("pendingCount", 0)
    if running < desired:
        reasons.append(f"only {running} of {desired} desired tasks are running ({pending} pending)")
    if len(deployments) > 1:
        reasons.append(f"{len(deployments)} deployments are still active: " + ", ".join(f"{d.get('status')} {d.get('rolloutState')}" for d in deployments))
    if primary and primary.get("rolloutState") not in (None, "COMPLETED", "FAILED"):
        reasons.append(f"primary deployment {primary.get('id')} is {primary.get('rolloutState')}: {primary.get('rolloutStateReason')}")
    events = [e.get("message") for e in (service.get("events") or [])[:3] if e.get("message")]
    if events:
        reasons.append("latest events: " + " | ".join(events))
    if not reasons:
        reasons.append("no failure reported; the service was still converging")
    return f"service {name} did not reach a steady state within {timeout}s: " + "; ".join(reasons)


def wait_steady(module, client, wanted_task_definition, just_created=False):
    params = module.params
    failure = ecs.wait_for_service(
        client, params["cluster"], params["name"], params["wait_timeout"], task_definition=wanted_task_definition, just_created=just_created
    )
    message = None
    if failure is not None:
        message = explain_wait_failure(client, params["cluster"], params["name"], wanted_task_definition, params["wait_timeout"], just_created)
    else:
        service = ecs.describe_service(client, params["cluster"], params["name"])
        if wanted_task_definition and service and service.get("taskDefinition") != wanted_task_definition:
            message = (
                f"service {params['name']} is steady but runs {service.get('taskDefinition')}, not {wanted_task_definition}: "
                "the deployment circuit breaker rolled the deployment back"
            )
    if message:
        module.fail_json(msg=message, service=find_service(client, params["cluster"], params["name"]) or {})


# ---------------------------------------------------------------- present / absent


def create(module, client, desired):
    params = module.params
    if "task_definition" not in desired and params["initial_task_definition"]:
        desired["task_definition"] = resolve_task_definition(module, client, params["initial_task_definition"])
    missing = [key for key in ("task_definition", "network") if key not in desired]
    if missing:
        wanted = " and ".join(m if m != "task_definition" else "task_definition (or initial_task_definition)" for m in missing)
        module.fail_json(msg=f"service {params['name']} does not exist; {wanted} required to create it")
    desired.setdefault("desired_count", params["initial_desired_count"])
    after = dict(desired, load_balancers=desired.get("load_balancers", []), tags=params["tags"] or {})
    if module.check_mode:
        module.exit_with_diff(True, {}, after, service=after, changes=["service does not exist"])
    request = dict(cluster=params["cluster"], serviceName=params["name"], launchType=params["launch_type"], **update_params(desired, desired))
    if params["tags"]:
        request["tags"] = ecs.dict_to_tags(params["tags"])
    # The create's own answer describes the service: ECS is eventually consistent, and a
    # DescribeServices right after CreateService may answer MISSING.
    created = service_summary(ecs.create_service(client, **request))
    # An option the endpoint did not keep on create is applied again with UpdateService.
    # On AWS nothing is dropped (emulator difference: see docs/real-aws.md#emulator-differences).
    dropped = [key for key in ("deployment_configuration", "health_check_grace_period") if key in changed_options(desired, created)]
    if dropped:
        created = service_summary(ecs.update_created_service(client, params["cluster"], params["name"], **update_params(desired, dropped)))
    if params["wait"]:
        wait_steady(module, client, desired["task_definition"], just_created=True)
    service = find_service(client, params["cluster"], params["name"]) or created
    module.exit_with_diff(True, {}, dict(_managed(service), tags=service["tags"]), service=service, changes=["service does not exist"])


def update(module, client, current, desired, settled=True):
    """`settled`: whether the service read was steady (a wait asked for is owed otherwise)."""
    params = module.params
    if current["launch_type"] and current["launch_type"] != params["launch_type"]:
        module.fail_json(msg=f"service {params['name']} runs on {current['launch_type']}; the launch type cannot change in place", service=current)
    changes = changed_options(desired, current)
    to_set, to_unset = plan_tags(current["tags"], params["tags"], params["purge_tags"])
    reasons = [reason for key in changes for reason in changes[key]]
    if to_set or to_unset:
        reasons.append(f"tags: set {sorted(to_set)}, remove {sorted(to_unset)}")
    if params["force_new_deployment"]:
        reasons.append("force_new_deployment requested")
    changed = bool(reasons)

    before = dict(_managed(current), tags=current["tags"])
    after = dict(before, **{key: desired[key] for key in changes})
    after["tags"] = apply_tag_plan(current["tags"], to_set, to_unset)
    if not changed and params["wait"] and not settled and not module.check_mode:
        # Nothing to change, but the service is still converging (a run stopped during its wait,
        # a deployment started elsewhere): the steady state asked for is still owed.
        wait_steady(module, client, current["task_definition"])
        current = find_service(client, params["cluster"], params["name"]) or current
    if module.check_mode or not changed:
        module.exit_with_diff(changed, before, after, service=dict(current, **after), changes=reasons)

    request = update_params(desired, changes)
    if params["force_new_deployment"]:
        request["forceNewDeployment"] = True
    if request:
        ecs.update_service(client, params["cluster"], params["name"], **request)
    ecs.update_tags(client, current["service_arn"], to_set, to_unset)
    if params["wait"] and (request or not settled):
        wait_steady(module, client, desired.get("task_definition") or current["task_definition"])
    service = find_service(client, params["cluster"], params["name"])
    module.exit_with_diff(True, before, dict(_managed(service), tags=service["tags"]), service=service, changes=reasons)


def wait_until_drained(module, client):
    """A service deleted and still DRAINING (its tasks stopping) cannot be updated
    (ServiceNotActiveException) nor created again ("still Draining") until it is INACTIVE."""
    params = module.params
    failure = ecs.wait_for_service(client, params["cluster"], params["name"], params["wait_timeout"], state="inactive")
    if failure is not None:
        module.fail_json(
            msg=f"service {params['name']} was deleted and is still DRAINING after {params['wait_timeout']}s; ECS refuses to create it "
            "again until its tasks have stopped. Run again later, or wait longer with wait_timeout."
        )


def ensure_present(module, client, current, settled=True):
    desired = desired_state(module, client)
    if current is not None and current["status"] == "DRAINING":
        if not module.check_mode:
            wait_until_drained(module, client)
        current = None
    if current is None:
        create(module, client, desired)
    update(module, client, current, desired, settled)


def ensure_absent(module, client, current):
    params = module.params
    if current is None:
        module.exit_with_diff(False, {}, {}, service={}, changes=[])
    if current["status"] == "DRAINING":
        # Deleted already (a run stopped during its wait): only the wait is left.
        if not module.check_mode and params["wait"]:
            wait_until_drained(module, client)
        module.exit_with_diff(False, {}, {}, service={}, changes=[])
    before = dict(_managed(current), tags=current["tags"])
    if not module.check_mode:
        if current["desired_count"]:
            ecs.update_service(client, params["cluster"], params["name"], desiredCount=0)
        ecs.delete_service(client, params["cluster"], params["name"])
        if params["wait"]:
            failure = ecs.wait_for_service(client, params["cluster"], params["name"], params["wait_timeout"], state="inactive")
            if failure is not None:
                left = ecs.describe_service(client, params["cluster"], params["name"]) or {}
                module.fail_json(
                    msg=f"service {params['name']} was deleted but is still {left.get('status', 'present')} after {params['wait_timeout']}s "
                    f"({left.get('runningCount', 0)} task(s) running)"
                )
    module.exit_with_diff(True, before, {}, service={}, changes=["service exists"])


def main():
    argument_spec = dict(
        cluster=dict(type="str", required=True),
        name=dict(type="str", required=True),
        task_definition=dict(type="str"),
        desired_count=dict(type="int"),
        initial_task_definition=dict(type="str"),
        initial_desired_count=dict(type="int", default=1),
        launch_type=dict(type="str", choices=["FARGATE"], default="FARGATE"),
        network=dict(type="dict", options=NETWORK_OPTIONS),
        load_balancers=dict(
            type="list",
            elements="dict",
            options=dict(
                target_group_arn=dict(type="str", required=True),
                container_name=dict(type="str", required=True),
                container_port=dict(type="int", required=True),
            ),
        ),
        health_check_grace_period=dict(type="int"),
        deployment_configuration=dict(type="dict", options=DEPLOYMENT_CONFIGURATION_OPTIONS),
        force_new_deployment=dict(type="bool", default=False),
        wait=dict(type="bool", default=False),
        wait_timeout=dict(type="int", default=600),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
    )
    module = BlueGreenModule(argument_spec=argument_spec, supports_check_mode=True)
    client = module.client("ecs")
    try:
        found = ecs.describe_service(client, module.params["cluster"], module.params["name"])
        current = service_summary(found) if found else None
        if module.params["state"] == "present":
            # Read only when a wait is asked for: an ACTIVE service not steady still owes it.
            owed = module.params["wait"] and found is not None and found.get("status") == "ACTIVE" and not ecs.is_steady(found)
            ensure_present(module, client, current, settled=not owed)
        else:
            ensure_absent(module, client, current)
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)


if __name__ == "__main__":
    main()
