#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: bluegreen.migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# ruff: noqa: E402  (Ansible module layout: imports follow DOCUMENTATION, EXAMPLES and RETURN)

DOCUMENTATION = r"""
module: ecs_service_plan
short_description: Read the blue-green application tier (load balancer, target groups, cluster, logs, alarms, services) and plan what differs
version_added: 0.1.0
description:
  - Reads the load balancer, its listeners and the tags of both in one run
    (C(DescribeLoadBalancers), C(DescribeListeners), C(DescribeTags)) and compares them with
    the wanted subnets, security groups, tags and listeners.
  - The traffic listener (port 443 with a certificate, else 80) is wanted with the forward
    action it has now (every weight, in AWS's order, and the stickiness), so that handing
    RV(load_balancer.listeners) to M(amazon.aws.elb_application_lb) never moves traffic. A new
    load balancer forwards everything to blue. When traffic moves between ports (a certificate
    added or removed), the new traffic listener takes the weights of the old one.
  - Also reads, when given, the target groups, the log group, the cluster, the alarm topic and
    the alarms, and compares them with the same functions their writers use
    (M(bluegreen.migration.elb_target_group), M(amazon.aws.cloudwatchlogs_log_group),
    M(bluegreen.migration.ecs_cluster), M(bluegreen.migration.sns_topic),
    M(bluegreen.migration.metric_alarms)). A writer runs only for what the plan names, so a
    re-run reads the tier in one process.
  - Also reads, when given, both colors' services (one C(DescribeServices)) and task definitions
    (C(DescribeTaskDefinition) of each family's latest revision, and of the revision a service
    runs when it is another one; no C(ListTaskDefinitions)), and compares them with the same
    functions M(bluegreen.migration.ecs_task_definition) (with O(bluegreen.migration.ecs_task_definition#module:keep_image))
    and M(bluegreen.migration.ecs_service) use, with the rules of the role (the live color runs
    O(desired_count), the idle one keeps its count, an existing service keeps its task definition).
  - Also reads, when given, the IAM roles of O(roles) (trust, managed and inline policies, tags)
    and plans them as M(bluegreen.migration.iam_roles_plan) does (RV(iam)); the task
    definitions take the ARNs of the roles O(task_definition_roles) names, C((known after create))
    for a role still to create. The roles' writers run before the tier's.
  - A service whose image is not the one released to it (its C(bluegreen:image) tag, set when
    the service is created and by a rollout once the service it deployed is steady) is planned
    back to that image (the change names C(image)), unless a deployment is under way.
  - Returns the plan (each change with the fields before and after, and why), the live color
    (the C(bluegreen:live-color) tag of the forwarding listener; C(blue) for a new environment),
    and the weights and stickiness to record on the traffic listener.
  - Read-only. In check mode it reports C(changed) when the plan has changes, so that
    C(--check --diff) shows them before and after; otherwise it never does.
options:
  load_balancer:
    description: The wanted load balancer.
    type: dict
    required: true
    suboptions:
      name:
        description: Its name.
        type: str
        required: true
      subnets:
        description: Public subnets it lives in.
        type: list
        elements: str
        required: true
      security_groups:
        description: Its security groups.
        type: list
        elements: str
        required: true
      tags:
        description: Its tags (all of them).
        type: dict
        required: true
      certificate_arn:
        description: ACM certificate of an HTTPS listener on 443 (port 80 then redirects); empty for HTTP on 80 only.
        type: str
        default: ""
      ssl_policy:
        description: TLS policy of the HTTPS listener.
        type: str
        default: ELBSecurityPolicy-TLS13-1-2-2021-06
      test_listener_port:
        description:
          - Port of the test listener, which forwards to the idle color alone (HTTPS with O(load_balancer.certificate_arn),
            else HTTP); 0 for none.
        type: int
        default: 0
  target_group_arns:
    description:
      - ARNs of the C(blue) and C(green) target groups (a new listener forwards to blue).
      - Without it, the ARNs of the target groups read from O(target_groups).
    type: dict
  target_groups:
    description:
      - The wanted target groups, one per color, with the options of M(bluegreen.migration.elb_target_group).
    type: list
    elements: dict
    default: []
    suboptions:
      color:
        description: The color it serves (C(blue) or C(green)).
        type: str
        required: true
      name:
        description: Its name.
        type: str
        required: true
      protocol:
        description: Protocol to the targets.
        type: str
        default: HTTP
      port:
        description: Port of the targets.
        type: int
        required: true
      vpc_id:
        description: Its VPC.
        type: str
        required: true
      target_type:
        description: Kind of targets.
        type: str
        default: ip
      health_check:
        description:
          - The health check, with the suboptions and defaults of O(bluegreen.migration.elb_target_group#module:health_check)
            (checked and converted the same way).
        type: dict
        default: {}
      deregistration_delay:
        description: Seconds a draining target keeps its connections.
        type: int
      tags:
        description: Its tags (all of them).
        type: dict
        default: {}
  log_group:
    description: The wanted log group of the containers (retention in days, KMS key, tags).
    type: dict
  cluster:
    description: The wanted ECS cluster (C(name), C(container_insights), C(capacity_providers), C(tags)).
    type: dict
  alarm_topic:
    description: The wanted SNS topic of the alarms (C(name), C(display_name), C(tags)).
    type: dict
  alarms:
    description:
      - The alarms, as the C(bluegreen.migration.ecs_service_alarms) filter takes them (kinds,
        names, colors, cluster and services, period, evaluation periods, extra actions).
      - Compared once the load balancer, the target groups and the topic exist; until then they
        are planned with them.
    type: dict
  alarm_tags:
    description: Tags every alarm carries besides its C(Name).
    type: dict
    default: {}
  task_definitions:
    description:
      - The wanted task definition of each color, with the options of M(bluegreen.migration.ecs_task_definition)
        (checked and converted the same way) and C(color). The image only seeds a new family.
      - Given with O(services) and O(cluster).
    type: list
    elements: dict
    default: []
  services:
    description:
      - The wanted service of each color, in O(cluster) (C(color), C(name), C(network), C(container_name),
        C(container_port), C(health_check_grace_period), C(deployment_configuration), C(tags)), as
        M(bluegreen.migration.ecs_service) takes them; each is bound to its color's target group.
    type: list
    elements: dict
    default: []
  desired_count:
    description: Tasks the live color runs.
    type: int
    default: 1
  task_definition_roles:
    description:
      - Roles of O(roles) whose ARNs every task definition of O(task_definitions) takes, when
        the definition does not give the ARN itself.
      - A role that O(roles) does not list fails the module before any AWS call.
    type: dict
    suboptions:
      execution_role:
        description: Name of the execution role (C(execution_role_arn)).
        type: str
      task_role:
        description: Name of the task role (C(task_role_arn)).
        type: str
author:
  - bluegreen.migration maintainers (@bluegreen)
extends_documentation_fragment:
  - bluegreen.migration.iam_roles
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Read the load balancer and plan the changes
  bluegreen.migration.ecs_service_plan:
    load_balancer:
      name: app-dev
      subnets: [subnet-0123456789abcdef0, subnet-0123456789abcdef1]
      security_groups: [sg-0123456789abcdef0]
      tags: {Name: app-dev, "bluegreen:environment": dev}
    target_group_arns:
      blue: arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/app-blue-dev/0123456789abcdef
      green: arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/app-green-dev/0123456789abcdef
  register: ecs_service_alb_plan

- name: Create or fix the load balancer only when the plan says so
  amazon.aws.elb_application_lb:
    name: app-dev
    subnets: [subnet-0123456789abcdef0, subnet-0123456789abcdef1]
    security_groups: [sg-0123456789abcdef0]
    listeners: "{{ ecs_service_alb_plan.load_balancer.listeners }}"
    purge_listeners: true
  when: ecs_service_alb_plan.load_balancer.apply
"""

RETURN = r"""
changes:
  description: The plan, one entry per resource to create or update.
  returned: always
  type: list
  elements: dict
  sample:
    - resource: load balancer
      name: app-dev
      action: update
      fields: {"security_groups": {"before": ["sg-2"], "after": ["sg-1"]}}
      reason: differs from the inputs
lines:
  description: The plan as one readable line per change.
  returned: always
  type: list
  elements: str
writes:
  description:
    - Whether any writer has something to do - a target group, the load balancer, the live color to record,
      the log group, the cluster, the topic, the alarms, a task definition or a service.
    - The role runs its writers only then, so a converged re-run runs none of them.
  returned: always
  type: bool
target_groups:
  description: The target groups as read, and the colors whose writer has something to do.
  returned: always
  type: dict
  contains:
    found:
      description: Per color, the target group as M(bluegreen.migration.elb_target_group) returns it (empty when missing).
      type: dict
    arns:
      description: Per color, the ARN of the target group (empty when missing).
      type: dict
    apply:
      description: The colors whose target group is to create or fix.
      type: list
      elements: str
log_group:
  description: The log group as read (C(found)) and whether its writer has something to do (C(apply)).
  returned: when O(log_group) is given
  type: dict
cluster:
  description: The cluster as read (C(found), as M(bluegreen.migration.ecs_cluster) returns it) and C(apply).
  returned: when O(cluster) is given
  type: dict
alarm_topic:
  description: The topic as read (C(found), with C(topic_arn)) and C(apply).
  returned: when O(alarm_topic) is given
  type: dict
alarms:
  description: Whether M(bluegreen.migration.metric_alarms) has something to do (C(apply)).
  returned: when O(alarms) is given
  type: dict
roles:
  description: Each role of O(roles) as read, keyed by name (null when it does not exist).
  returned: always
  type: dict
iam:
  description: What the roles' writers (M(amazon.aws.iam_role), M(amazon.aws.iam_policy)) have to do.
  returned: always
  type: dict
  contains:
    writes:
      description: Whether any of them has something to do (the role runs them only then).
      type: bool
    apply:
      description: As M(bluegreen.migration.iam_roles_plan) returns it - C(roles) to create or fix, inline C(policies) to put, C(remove).
      type: dict
task_definitions:
  description: The families' latest revisions and what their writer has to do.
  returned: when O(services) is given
  type: dict
  contains:
    arns:
      description: Per color, the ARN of the family's latest active revision (empty when none).
      type: dict
    apply:
      description: The colors whose M(bluegreen.migration.ecs_task_definition) has something to do.
      type: list
      elements: str
    images:
      description: Per color, the image the writer is given (the latest revision's, the seed of a new family, or the image released to the service).
      type: dict
services:
  description: The services as read and what their writer has to do.
  returned: when O(services) is given
  type: dict
  contains:
    found:
      description: Per color, the service in the shape M(bluegreen.migration.ecs_service) returns (empty when missing).
      type: dict
    apply:
      description: The colors whose M(bluegreen.migration.ecs_service) has something to do, the live one first.
      type: list
      elements: str
    redeploy:
      description: The colors to move back to the image released to them (a new revision when needed), and wait for.
      type: list
      elements: str
    unsteady:
      description:
        - The live color when its service has nothing to change but is not steady (a deployment under way, left by a run
          stopped during its wait). It is in RV(services.apply) too, so its writer waits for it and reports no change.
      type: list
      elements: str
    tags:
      description: Per color, the tags the writer gives the service (the C(bluegreen:image) record included).
      type: dict
load_balancer:
  description: The load balancer as read, and what to do about it.
  returned: always
  type: dict
  contains:
    exists:
      description: Whether the load balancer exists.
      type: bool
    found:
      description: The load balancer as read (as M(bluegreen.migration.elb_load_balancer_info) returns it); empty when there is none.
      type: dict
    apply:
      description: Whether M(amazon.aws.elb_application_lb) has anything to do.
      type: bool
    listeners:
      description: The listeners to hand to M(amazon.aws.elb_application_lb), the traffic listener first.
      type: list
      elements: dict
    live_color:
      description: The live color (C(blue) for a new environment).
      type: str
    idle_color:
      description: The other color, the one the test listener forwards to.
      type: str
    test_port:
      description: Port of the test listener (0 when there is none).
      type: int
    new_environment:
      description: Whether no listener records a live color yet.
      type: bool
    forward:
      description: The C(weights) and C(stickiness) to record on the traffic listener (M(bluegreen.migration.elb_listener_weights)).
      type: dict
    record_forward:
      description: Whether to record them (a new environment, or traffic that moved to another listener).
      type: bool
    carry_tags:
      description:
        - When the traffic moves to another listener, the rollout's tags of the one it leaves (C(bluegreen:rollback-to),
          C(bluegreen:paused-at)), to write on the new one with the weights; empty otherwise.
      type: dict
"""

import functools

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError

from ansible_collections.bluegreen.migration.plugins.module_utils import app_tier
from ansible_collections.bluegreen.migration.plugins.module_utils import cloudwatch
from ansible_collections.bluegreen.migration.plugins.module_utils import ecs
from ansible_collections.bluegreen.migration.plugins.module_utils import ecs_services
from ansible_collections.bluegreen.migration.plugins.module_utils import elbv2
from ansible_collections.bluegreen.migration.plugins.module_utils import iam
from ansible_collections.bluegreen.migration.plugins.module_utils import load_balancer
from ansible_collections.bluegreen.migration.plugins.module_utils import logs
from ansible_collections.bluegreen.migration.plugins.module_utils import sns
from ansible_collections.bluegreen.migration.plugins.module_utils.core import BlueGreenModule
from ansible_collections.bluegreen.migration.plugins.module_utils.core import validated
from ansible_collections.bluegreen.migration.plugins.module_utils.plan import KNOWN_AFTER_CREATE
from ansible_collections.bluegreen.migration.plugins.module_utils.plan import anything_to_apply

# What the plan is given of each color's task definition (ecs_task_definition's options) and
# service (ecs_service's options; the target group is the color's).
TASK_DEFINITION_SPEC = dict(ecs_services.TASK_DEFINITION_OPTIONS, color=dict(type="str", required=True), tags=dict(type="dict", default={}))
SERVICE_SPEC = dict(
    color=dict(type="str", required=True),
    name=dict(type="str", required=True),
    network=dict(type="dict", required=True, options=ecs_services.NETWORK_OPTIONS),
    container_name=dict(type="str", required=True),
    container_port=dict(type="int", required=True),
    health_check_grace_period=dict(type="int"),
    deployment_configuration=dict(type="dict", options=ecs_services.DEPLOYMENT_CONFIGURATION_OPTIONS),
    tags=dict(type="dict", default={}),
)


def writes(result):
    """Whether any writer of the tier has something to do (the role runs its writers only then)."""
    load_balancer = result.get("load_balancer", {})
    return bool(
        result["target_groups"]["apply"]
        or load_balancer.get("apply")
        or load_balancer.get("record_forward")
        or any(result.get(option, {}).get("apply") for option in ("log_group", "cluster", "alarm_topic", "alarms", "task_definitions", "services"))
    )


def read_and_plan(module):
    """(changes, result) of the whole tier, in dependency order: target groups, load balancer,
    log group, cluster, topic, alarms. The health checks are checked before any AWS call."""
    params = module.params
    check_task_definition_roles(params)
    groups = [
        dict(group, health_check=validated(group["health_check"], elbv2.HEALTH_CHECK_SPEC, "target_groups[%d].health_check" % index))
        for index, group in enumerate(params["target_groups"])
    ]
    elb = module.client("elbv2")
    changes, result = [], {}

    # The roles first: the task definitions below take their ARNs.
    result["roles"] = iam.read_roles(module.client("iam"), params["roles"]) if params["roles"] else {}
    planned, apply = iam.plan_roles(params["roles"], result["roles"])
    changes.extend(planned)
    result["iam"] = {"apply": apply, "writes": anything_to_apply(apply)}

    # One DescribeTargetGroups for both colors; their tags come with the load balancer's below.
    current_groups = elbv2.read_target_groups(elb, [wanted["name"] for wanted in groups])
    group_arns = [group["target_group_arn"] for group in current_groups.values() if group]
    wanted = dict(params["load_balancer"])
    wanted["traffic_port"] = 443 if wanted["certificate_arn"] else 80
    wanted["test_port"] = wanted.pop("test_listener_port")
    balancer, listeners, tags = elbv2.read_load_balancer(elb, wanted["name"], group_arns)

    found, arns, apply = {}, {}, []
    for group in groups:
        current = current_groups[group["name"]]
        if current:
            current = dict(current, tags=tags.get(current["target_group_arn"], {}))
        found[group["color"]] = current or {}
        arns[group["color"]] = current["target_group_arn"] if current else ""
        planned, needed = app_tier.plan_target_group(group, current)
        changes.extend(planned)
        if needed:
            apply.append(group["color"])
    result["target_groups"] = {"found": found, "arns": arns, "apply": apply}

    planned = load_balancer.plan(wanted["name"], wanted, balancer, listeners, tags, params["target_group_arns"] or arns)
    changes.extend(planned.pop("changes"))
    planned["exists"] = balancer is not None
    planned["found"] = elbv2.load_balancer_result(balancer, listeners, tags) if balancer else {}
    result["load_balancer"] = planned

    # Any ARN read so far places the topic's ARN in the account and region (no ListTopics).
    arn_beside = (balancer or {}).get("LoadBalancerArn") or (group_arns[0] if group_arns else None)
    singles = (
        ("log_group", "logs", logs.read_log_group, logs.plan_log_group),
        ("cluster", "ecs", ecs.read_cluster, app_tier.plan_cluster),
        ("alarm_topic", "sns", functools.partial(sns.read_topic, arn_beside=arn_beside), app_tier.plan_topic),
    )
    for option, service, read, plan in singles:
        if params[option]:
            current = read(module.client(service), params[option]["name"])
            planned, needed = plan(params[option], current)
            changes.extend(planned)
            result[option] = {"found": current or {}, "apply": needed}

    if params["alarms"]:
        topic_arn = result.get("alarm_topic", {}).get("found", {}).get("topic_arn", "")
        alb_arn = (balancer or {}).get("LoadBalancerArn", "")
        definitions = app_tier.alarm_definitions(params["alarms"], alb_arn, arns, topic_arn)
        watch = module.client("cloudwatch")
        current = cloudwatch.describe_alarms(watch, [alarm["name"] for alarm in definitions])
        planned, needed = cloudwatch.plan_alarm_changes(watch, definitions, current, params["alarm_tags"])
        changes.extend(planned)
        result["alarms"] = {"apply": needed}

    if params["services"]:
        planned, planned_result = plan_application(module, arns, result["load_balancer"], result["roles"])
        changes.extend(planned)
        result.update(planned_result)
    return changes, result


def read_application(client, cluster, families, names):
    """{latest, services, running} as app_tier.plan_application reads them: per color the
    family's latest revision (DescribeTaskDefinition of the family), the service (one
    DescribeServices for both) and the revision it runs (described only when not the latest)."""
    latest = dict((color, ecs.describe_task_definition(client, family)) for color, family in families.items())
    found = dict((service["serviceName"], service) for service in ecs.describe_services(client, cluster, list(names.values())))
    services, running = {}, {}
    for color, name in names.items():
        services[color] = found.get(name)
        arn = (services[color] or {}).get("taskDefinition")
        if not arn:
            running[color] = None
        elif latest[color] and latest[color][0]["taskDefinitionArn"] == arn:
            running[color] = latest[color][0]
        else:
            described = ecs.describe_task_definition(client, arn)
            running[color] = described[0] if described else None
    return {"latest": latest, "services": services, "running": running}


def with_role_arns(definition, role_names, roles):
    """The task definition with the ARN of each role `role_names` names ({"execution_role": name,
    "task_role": name}) where it gives none; KNOWN_AFTER_CREATE for a role still to create."""
    definition = dict(definition)
    for key, name in (role_names or {}).items():
        field = key + "_arn"
        if name and not definition.get(field):
            definition[field] = (roles.get(name) or {}).get("arn") or KNOWN_AFTER_CREATE
    return definition


def check_task_definition_roles(params):
    """task_definition_roles may name only roles of `roles` (their ARNs come from that read):
    a ValueError naming the unknown ones and the roles given, before any AWS call."""
    given = sorted(role["name"] for role in params["roles"])
    unknown = ["%s=%s" % (key, name) for key, name in sorted((params["task_definition_roles"] or {}).items()) if name and name not in given]
    if unknown:
        raise ValueError("task_definition_roles names roles that roles does not list: %s; roles lists: %s" % (", ".join(unknown), ", ".join(given) or "none"))


def plan_application(module, target_group_arns, balancer, roles):
    """The task definitions and services of both colors (app_tier.plan_application)."""
    params = module.params
    if not params["cluster"] or sorted(item.get("color") for item in params["task_definitions"]) != sorted(item.get("color") for item in params["services"]):
        raise ValueError("services need cluster and task_definitions of the same colors")
    definitions = [
        validated(with_role_arns(item, params["task_definition_roles"], roles), TASK_DEFINITION_SPEC, "task_definitions[%d]" % index)
        for index, item in enumerate(params["task_definitions"])
    ]
    services = [validated(item, SERVICE_SPEC, "services[%d]" % index) for index, item in enumerate(params["services"])]
    for service in services:
        arn = (params["target_group_arns"] or target_group_arns).get(service["color"]) or KNOWN_AFTER_CREATE
        service["load_balancers"] = [{"target_group_arn": arn, "container_name": service["container_name"], "container_port": service["container_port"]}]
    families = dict((item["color"], item["family"]) for item in definitions)
    names = dict((item["color"], item["name"]) for item in services)
    read = read_application(module.client("ecs"), params["cluster"]["name"], families, names)
    settings = {
        "live_color": balancer["live_color"],
        "new_environment": balancer["new_environment"],
        "desired_count": params["desired_count"],
        "container": services[0]["container_name"],
    }
    return app_tier.plan_application(definitions, services, settings, read)


def main():
    argument_spec = dict(
        load_balancer=dict(
            type="dict",
            required=True,
            options=dict(
                name=dict(type="str", required=True),
                subnets=dict(type="list", elements="str", required=True),
                security_groups=dict(type="list", elements="str", required=True),
                tags=dict(type="dict", required=True),
                certificate_arn=dict(type="str", default=""),
                ssl_policy=dict(type="str", default="ELBSecurityPolicy-TLS13-1-2-2021-06"),
                test_listener_port=dict(type="int", default=0),
            ),
        ),
        target_group_arns=dict(type="dict"),
        target_groups=dict(
            type="list",
            elements="dict",
            default=[],
            options=dict(
                color=dict(type="str", required=True),
                name=dict(type="str", required=True),
                protocol=dict(type="str", default="HTTP"),
                port=dict(type="int", required=True),
                vpc_id=dict(type="str", required=True),
                target_type=dict(type="str", default="ip"),
                health_check=dict(type="dict", default={}),
                deregistration_delay=dict(type="int"),
                tags=dict(type="dict", default={}),
            ),
        ),
        log_group=dict(type="dict"),
        cluster=dict(type="dict"),
        alarm_topic=dict(type="dict"),
        alarms=dict(type="dict"),
        alarm_tags=dict(type="dict", default={}),
        task_definitions=dict(type="list", elements="dict", default=[]),
        services=dict(type="list", elements="dict", default=[]),
        desired_count=dict(type="int", default=1),
        roles=dict(type="list", elements="dict", default=[], options=iam.ROLE_OPTIONS),
        task_definition_roles=dict(type="dict", options=dict(execution_role=dict(type="str"), task_role=dict(type="str"))),
    )
    module = BlueGreenModule(argument_spec=argument_spec, supports_check_mode=True)
    try:
        changes, result = read_and_plan(module)
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)
    except (cloudwatch.AlarmDefinitionError, ValueError) as e:
        module.fail_json(msg=str(e))
    module.exit_with_plan(changes, writes=writes(result), **result)


if __name__ == "__main__":
    main()
