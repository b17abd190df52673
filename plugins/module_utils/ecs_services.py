# -*- coding: utf-8 -*-
# Copyright: bluegreen.migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""ECS services as the info and state modules return them: counts, deployments and their task
definitions in the option shape of bluegreen.migration.ecs_task_definition. Also the
comparisons of the two writers (ecs_task_definition, ecs_service), which the ecs_service
role's plan makes with the same functions."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict

from ansible_collections.bluegreen.migration.plugins.module_utils import ecs
from ansible_collections.bluegreen.migration.plugins.module_utils.diff import differences
from ansible_collections.bluegreen.migration.plugins.module_utils.diff import sorted_by
from ansible_collections.bluegreen.migration.plugins.module_utils.diff import strip_empty

# The image a service was released with: set by the deploy that creates the service and by the
# rollout once the service it deployed is steady; the ecs_service role's plan compares the image
# the service runs with it.
RELEASED_IMAGE_TAG = "bluegreen:image"

# What bluegreen.migration.ecs_task_definition can express; any other non-empty field is reported.
CONTAINER_FIELDS = {"name", "image", "essential", "portMappings", "environment", "secrets", "logConfiguration", "healthCheck"}
TASK_FIELDS = {
    "taskDefinitionArn",
    "family",
    "revision",
    "status",
    "cpu",
    "memory",
    "networkMode",
    "requiresCompatibilities",
    "executionRoleArn",
    "taskRoleArn",
    "containerDefinitions",
    # Set by AWS, not part of a registration
    "compatibilities",
    "requiresAttributes",
    "registeredAt",
    "registeredBy",
    "deregisteredAt",
}


def name_of(name_or_arn):
    return name_or_arn.rsplit("/", 1)[-1]


def _container_spec(container):
    health = container.get("healthCheck")
    log = container.get("logConfiguration")
    return {
        "name": container["name"],
        "image": container.get("image"),
        "essential": container.get("essential", True),
        "port_mappings": [
            {"container_port": p["containerPort"], "host_port": p.get("hostPort"), "protocol": p.get("protocol") or "tcp"}
            for p in container.get("portMappings") or []
        ],
        "environment": {e["name"]: e.get("value", "") for e in container.get("environment") or []},
        "secrets": [{"name": s["name"], "value_from": s["valueFrom"]} for s in container.get("secrets") or []],
        "log_configuration": {"log_driver": log["logDriver"], "options": log.get("options") or {}} if log else None,
        "health_check": (
            {
                "command": health["command"],
                "interval": health.get("interval", 30),
                "timeout": health.get("timeout", 5),
                "retries": health.get("retries", 3),
                "start_period": health.get("startPeriod", 0),
            }
            if health
            else None
        ),
    }


# Fields DescribeTaskDefinition reports with AWS's default although the registration left them
# out (enableFaultInjection false on every task definition since January 2025): a copy without
# them registers the same definition. Another value is the user's, and the copy would lose it.
AWS_DEFAULTS = {"enableFaultInjection": False}


def _unsupported(definition):
    """Non-empty fields the spec drops (AWS fills some with empty values, its defaults or
    container cpu 0)."""
    dropped = [
        "%s" % key
        for key, value in sorted(definition.items())
        if key not in TASK_FIELDS and value not in (None, [], {}, "") and not (key in AWS_DEFAULTS and value == AWS_DEFAULTS[key])
    ]
    for container in definition.get("containerDefinitions") or []:
        for key, value in sorted(container.items()):
            if key in CONTAINER_FIELDS or value in (None, [], {}, "") or (key == "cpu" and not value):
                continue
            dropped.append("containers.%s.%s" % (container.get("name"), key))
    return dropped


def task_definition_details(definition):
    containers = definition.get("containerDefinitions") or []
    return {
        "arn": definition.get("taskDefinitionArn"),
        "family": definition.get("family"),
        "revision": definition.get("revision"),
        "status": definition.get("status"),
        "images": {c["name"]: c.get("image") for c in containers},
        "spec": {
            "family": definition.get("family"),
            "cpu": str(definition["cpu"]) if definition.get("cpu") is not None else None,
            "memory": str(definition["memory"]) if definition.get("memory") is not None else None,
            "network_mode": definition.get("networkMode") or "bridge",
            "requires_compatibilities": definition.get("requiresCompatibilities") or [],
            "execution_role_arn": definition.get("executionRoleArn"),
            "task_role_arn": definition.get("taskRoleArn"),
            "containers": [_container_spec(c) for c in containers],
        },
        "unsupported": _unsupported(definition),
    }


def find_task_definitions(client, arn):
    """(details of `arn`, details of the latest active revision of its family)."""
    described = ecs.describe_task_definition(client, arn)
    current = task_definition_details(described[0]) if described else None
    family = current["family"] if current else arn.rsplit("/", 1)[-1].rsplit(":", 1)[0]
    arns = ecs.list_task_definition_arns(client, family)
    if not arns:
        return current, None
    if current and arns[-1] == current["arn"]:
        return current, current
    latest = ecs.describe_task_definition(client, arns[-1])
    return current, task_definition_details(latest[0]) if latest else None


def service_info(client, service, include_task_definitions):
    info = {
        "service_name": service["serviceName"],
        "service_arn": service["serviceArn"],
        "cluster_arn": service.get("clusterArn"),
        "status": service.get("status"),
        "desired_count": service.get("desiredCount", 0),
        "running_count": service.get("runningCount", 0),
        "pending_count": service.get("pendingCount", 0),
        "task_definition": service.get("taskDefinition"),
        "deployments": [camel_dict_to_snake_dict(d) for d in service.get("deployments") or []],
        "load_balancers": [camel_dict_to_snake_dict(lb) for lb in service.get("loadBalancers") or []],
        "tags": ecs.tags_to_dict(service.get("tags")),
        "task_definition_details": None,
        "latest_task_definition_details": None,
    }
    if include_task_definitions and info["task_definition"]:
        info["task_definition_details"], info["latest_task_definition_details"] = find_task_definitions(client, info["task_definition"])
    return info


def read_services(client, cluster, names, include_task_definitions=True):
    """(services found, in the order asked, names not found) of `names` in `cluster`; every
    name is missing when the cluster does not exist."""
    found = ecs.describe_services(client, cluster, names) if names else []
    by_name = {s["serviceName"]: s for s in found}
    services = [service_info(client, by_name[name_of(n)], include_task_definitions) for n in names if name_of(n) in by_name]
    return services, [n for n in names if name_of(n) not in by_name]


# ---------------------------------------------------------------- task definitions: the writer's comparison
# bluegreen.migration.ecs_task_definition registers a revision when normalise_task_definition()
# of its request differs from that of the family's latest revision; the ecs_service role's plan
# compares the same two documents.

# The options of ecs_task_definition that describe a revision (the module and the plan check them alike).
CONTAINER_OPTIONS = dict(
    name=dict(type="str", required=True),
    image=dict(type="str", required=True),
    essential=dict(type="bool", default=True),
    port_mappings=dict(
        type="list",
        elements="dict",
        default=[],
        options=dict(
            container_port=dict(type="int", required=True),
            host_port=dict(type="int"),
            protocol=dict(type="str", choices=["tcp", "udp"], default="tcp"),
        ),
    ),
    environment=dict(type="dict", default={}),
    secrets=dict(
        type="list",
        elements="dict",
        default=[],
        no_log=False,
        options=dict(name=dict(type="str", required=True), value_from=dict(type="str", required=True)),
    ),
    log_configuration=dict(
        type="dict",
        options=dict(log_driver=dict(type="str", required=True), options=dict(type="dict", default={})),
    ),
    health_check=dict(
        type="dict",
        options=dict(
            command=dict(type="list", elements="str", required=True),
            interval=dict(type="int", default=30),
            timeout=dict(type="int", default=5),
            retries=dict(type="int", default=3),
            start_period=dict(type="int", default=0),
        ),
    ),
)
TASK_DEFINITION_OPTIONS = dict(
    family=dict(type="str", required=True),
    cpu=dict(type="str"),
    memory=dict(type="str"),
    network_mode=dict(type="str", choices=["awsvpc", "bridge", "host", "none"], default="awsvpc"),
    requires_compatibilities=dict(type="list", elements="str", choices=["FARGATE", "EC2"], default=["FARGATE"]),
    execution_role_arn=dict(type="str"),
    task_role_arn=dict(type="str"),
    containers=dict(type="list", elements="dict", options=CONTAINER_OPTIONS),
)

HEALTH_CHECK_DEFAULTS = {"interval": 30, "timeout": 5, "retries": 3, "startPeriod": 0}


def task_definition_request(params):
    """RegisterTaskDefinition parameters from the options of ecs_task_definition."""
    containers = []
    for c in params["containers"]:
        container = {
            "name": c["name"],
            "image": c["image"],
            "essential": c.get("essential", True),
            "portMappings": [
                strip_empty({"containerPort": p["container_port"], "hostPort": p.get("host_port"), "protocol": p.get("protocol") or "tcp"})
                for p in c.get("port_mappings") or []
            ],
            "environment": [{"name": k, "value": str(v)} for k, v in sorted((c.get("environment") or {}).items())],
            "secrets": [{"name": s["name"], "valueFrom": s["value_from"]} for s in c.get("secrets") or []],
        }
        if c.get("log_configuration"):
            log = c["log_configuration"]
            container["logConfiguration"] = {"logDriver": log["log_driver"], "options": log.get("options") or {}}
        if c.get("health_check"):
            hc = dict({"interval": 30, "timeout": 5, "retries": 3, "start_period": 0}, **c["health_check"])
            container["healthCheck"] = {
                "command": hc["command"],
                "interval": hc["interval"],
                "timeout": hc["timeout"],
                "retries": hc["retries"],
                "startPeriod": hc["start_period"],
            }
        containers.append(container)
    request = {
        "family": params["family"],
        "cpu": params.get("cpu"),
        "memory": params.get("memory"),
        "networkMode": params.get("network_mode") or "awsvpc",
        "requiresCompatibilities": params.get("requires_compatibilities") or ["FARGATE"],
        "executionRoleArn": params.get("execution_role_arn"),
        "taskRoleArn": params.get("task_role_arn"),
        "containerDefinitions": containers,
    }
    return strip_empty(request)


def _normalise_container(container, network_mode):
    ports = []
    for mapping in container.get("portMappings") or []:
        port = {"containerPort": mapping["containerPort"], "protocol": mapping.get("protocol") or "tcp"}
        host = mapping.get("hostPort")
        if host is None and network_mode == "awsvpc":
            host = mapping["containerPort"]
        if host is not None:
            port["hostPort"] = host
        ports.append(port)
    normal = {
        "image": container.get("image"),
        "essential": container.get("essential", True),
        "portMappings": sorted_by(ports, "containerPort", "protocol"),
        "environment": sorted_by(container.get("environment"), "name"),
        "secrets": sorted_by(container.get("secrets"), "name"),
        "logConfiguration": container.get("logConfiguration"),
        # ECS stores container cpu 0 when it is not given: 0 means "no reservation"
        "cpu": container.get("cpu") or None,
    }
    if container.get("healthCheck"):
        normal["healthCheck"] = dict(HEALTH_CHECK_DEFAULTS, **container["healthCheck"])
    return strip_empty(normal)


def normalise_task_definition(definition):
    """The comparable form of a task definition (request or DescribeTaskDefinition output)."""
    mode = definition.get("networkMode") or "bridge"
    return strip_empty(
        {
            "cpu": str(definition["cpu"]) if definition.get("cpu") is not None else None,
            "memory": str(definition["memory"]) if definition.get("memory") is not None else None,
            "networkMode": mode,
            "requiresCompatibilities": sorted(definition.get("requiresCompatibilities") or []),
            "executionRoleArn": definition.get("executionRoleArn"),
            "taskRoleArn": definition.get("taskRoleArn"),
            "containers": {c["name"]: _normalise_container(c, mode) for c in definition.get("containerDefinitions") or []},
        }
    )


def with_images_of(request, definition):
    """The request with each container's image as `definition` (the latest revision) has it."""
    images = dict((c["name"], c.get("image")) for c in definition.get("containerDefinitions") or [])
    containers = [dict(c, image=images[c["name"]]) if images.get(c["name"]) else c for c in request["containerDefinitions"]]
    return dict(request, containerDefinitions=containers)


def task_definition_reasons(desired, current):
    """Why a revision is registered: the differences of the two normalised documents (empty: none)."""
    return differences(desired, current, symmetric=True)


# The plan's names of the normalised task definition's fields, and how each container field reads.
_TASK_FIELDS = (
    ("cpu", "cpu"),
    ("memory", "memory"),
    ("networkMode", "network_mode"),
    ("requiresCompatibilities", "requires_compatibilities"),
    ("executionRoleArn", "execution_role_arn"),
    ("taskRoleArn", "task_role_arn"),
)
_CONTAINER_FIELDS = (
    ("image", "image", lambda value: value),
    ("essential", "essential", lambda value: value),
    ("cpu", "cpu", lambda value: value),
    ("portMappings", "port_mappings", lambda value: ["%s/%s" % (p["containerPort"], p["protocol"]) for p in value or []] or None),
    ("environment", "environment", lambda value: dict((e["name"], e.get("value", "")) for e in value or []) or None),
    ("secrets", "secrets", lambda value: dict((s["name"], s.get("valueFrom")) for s in value or []) or None),
    ("logConfiguration", "log_configuration", lambda value: dict(value.get("options") or {}, driver=value.get("logDriver")) if value else None),
    ("healthCheck", "health_check", lambda value: value),
)


def task_definition_fields(desired, current):
    """{field: {before, after}} of two normalised task definitions, in the plan's names
    (`app.environment`: {name: value}); exactly the fields task_definition_reasons() finds."""
    fields = {}
    for key, name in _TASK_FIELDS:
        if desired.get(key) != current.get(key):
            fields[name] = {"before": current.get(key), "after": desired.get(key)}
    wanted, found = desired.get("containers") or {}, current.get("containers") or {}
    for container in sorted(set(wanted) | set(found)):
        if container not in found or container not in wanted:
            fields["containers.%s" % container] = {"before": container in found or None, "after": container in wanted or None}
            continue
        for key, name, shown in _CONTAINER_FIELDS:
            want, have = wanted[container].get(key), found[container].get(key)
            if want != have:
                fields["%s.%s" % (container, name)] = {"before": shown(have), "after": shown(want)}
    return fields


# ---------------------------------------------------------------- services: the writer's comparison
# bluegreen.migration.ecs_service compares the options it is given, in the shape
# service_summary() reads from AWS, with service_changes(); the plan compares the same.

# The options of ecs_service for the network and the deployment configuration (the module and the plan check them alike).
NETWORK_OPTIONS = dict(
    subnets=dict(type="list", elements="str", required=True),
    security_groups=dict(type="list", elements="str", default=[]),
    assign_public_ip=dict(type="bool", default=False),
)
DEPLOYMENT_CONFIGURATION_OPTIONS = dict(
    minimum_healthy_percent=dict(type="int", default=100),
    maximum_percent=dict(type="int", default=200),
    deployment_circuit_breaker=dict(
        type="dict",
        default={},
        apply_defaults=True,
        options=dict(enable=dict(type="bool", default=True), rollback=dict(type="bool", default=True)),
    ),
)

# Options compared with the service; each maps to one UpdateService parameter.
SERVICE_OPTIONS = ("task_definition", "desired_count", "network", "load_balancers", "health_check_grace_period", "deployment_configuration")


def _network_from_aws(config):
    vpc = (config or {}).get("awsvpcConfiguration")
    if not vpc:
        return None
    return {
        "subnets": sorted(vpc.get("subnets") or []),
        "security_groups": sorted(vpc.get("securityGroups") or []),
        "assign_public_ip": vpc.get("assignPublicIp") == "ENABLED",
    }


def network_to_aws(network):
    return {
        "awsvpcConfiguration": {
            "subnets": network["subnets"],
            "securityGroups": network["security_groups"],
            "assignPublicIp": "ENABLED" if network["assign_public_ip"] else "DISABLED",
        }
    }


def _load_balancers_from_aws(items):
    bindings = [
        {"target_group_arn": lb.get("targetGroupArn"), "container_name": lb.get("containerName"), "container_port": lb.get("containerPort")}
        for lb in items or []
    ]
    return sorted_by(bindings, "target_group_arn", "container_name", "container_port")


def load_balancers_to_aws(bindings):
    return [{"targetGroupArn": b["target_group_arn"], "containerName": b["container_name"], "containerPort": b["container_port"]} for b in bindings]


def _deployment_configuration_from_aws(config):
    if not config:
        return None  # not reported: unknown
    breaker = config.get("deploymentCircuitBreaker") or {}
    return {
        "minimum_healthy_percent": config.get("minimumHealthyPercent"),
        "maximum_percent": config.get("maximumPercent"),
        # AWS's default when the breaker was never configured is off
        "deployment_circuit_breaker": {"enable": bool(breaker.get("enable", False)), "rollback": bool(breaker.get("rollback", False))},
    }


def deployment_configuration_to_aws(config):
    breaker = config["deployment_circuit_breaker"]
    return {
        "minimumHealthyPercent": config["minimum_healthy_percent"],
        "maximumPercent": config["maximum_percent"],
        "deploymentCircuitBreaker": {"enable": breaker["enable"], "rollback": breaker["rollback"]},
    }


def service_summary(service):
    """A DescribeServices entry keyed by the ecs_service module's options."""
    return {
        "service_arn": service.get("serviceArn"),
        "service_name": service.get("serviceName"),
        "cluster_arn": service.get("clusterArn"),
        "status": service.get("status"),
        "task_definition": service.get("taskDefinition"),
        "desired_count": service.get("desiredCount"),
        "running_count": service.get("runningCount"),
        "pending_count": service.get("pendingCount"),
        "launch_type": service.get("launchType"),
        "network": _network_from_aws(service.get("networkConfiguration")),
        "load_balancers": _load_balancers_from_aws(service.get("loadBalancers")),
        "health_check_grace_period": service.get("healthCheckGracePeriodSeconds"),
        "deployment_configuration": _deployment_configuration_from_aws(service.get("deploymentConfiguration")),
        "deployments": [camel_dict_to_snake_dict(d) for d in service.get("deployments") or []],
        "tags": ecs.tags_to_dict(service.get("tags")),
    }


def service_options(params):
    """The managed options set in `params` (the ecs_service options; task_definition as an
    ARN), in the shape service_summary() produces."""
    desired = {}
    if params.get("task_definition"):
        desired["task_definition"] = params["task_definition"]
    if params.get("desired_count") is not None:
        desired["desired_count"] = params["desired_count"]
    if params.get("network"):
        network = params["network"]
        desired["network"] = {
            "subnets": sorted(network["subnets"]),
            "security_groups": sorted(network.get("security_groups") or []),
            "assign_public_ip": bool(network.get("assign_public_ip", False)),
        }
    if params.get("load_balancers") is not None:
        desired["load_balancers"] = sorted_by([dict(b) for b in params["load_balancers"]], "target_group_arn", "container_name", "container_port")
    if params.get("health_check_grace_period") is not None:
        desired["health_check_grace_period"] = params["health_check_grace_period"]
    if params.get("deployment_configuration"):
        config = params["deployment_configuration"]
        breaker = dict({"enable": True, "rollback": True}, **(config.get("deployment_circuit_breaker") or {}))
        desired["deployment_configuration"] = {
            "minimum_healthy_percent": config.get("minimum_healthy_percent", 100),
            "maximum_percent": config.get("maximum_percent", 200),
            "deployment_circuit_breaker": {"enable": breaker["enable"], "rollback": breaker["rollback"]},
        }
    return desired


def service_changes(desired, current):
    """{option: [reasons]} for every managed option whose desired value differs."""
    changes = {}
    for key, want in desired.items():
        have = current.get(key)
        if key == "health_check_grace_period" and have is None:
            have = 0  # AWS default
        reasons = differences(want, have, key)
        if reasons:
            changes[key] = reasons
    return changes


def deployment_in_progress(summary):
    """Whether a deployment of the service is still under way (a rollout's, or any other):
    more than one deployment that did not fail, or a primary one still in progress."""
    deployments = [d for d in summary.get("deployments") or [] if d.get("rollout_state") != "FAILED"]
    if len([d for d in deployments if d.get("status") != "PRIMARY"]) > 0:
        return True
    return any(d.get("status") == "PRIMARY" and d.get("rollout_state") == "IN_PROGRESS" for d in deployments)
