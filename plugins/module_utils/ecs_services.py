# -*- coding: utf-8 -*-
# Copyright: bluegreen.migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""ECS services as the info and state modules return them: counts, deployments and their task
definitions in the option shape of bluegreen.migration.ecs_task_definition."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict

from ansible_collections.bluegreen.migration.plugins.module_utils import ecs

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


def _unsupported(definition):
    """Non-empty fields the spec drops (AWS fills some with empty values or container cpu 0)."""
    dropped = ["%s" % key for key, value in sorted(definition.items()) if key not in TASK_FIELDS and value not in (None, [], {}, "")]
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
