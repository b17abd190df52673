# -*- coding: utf-8 -*-
# Copyright: bluegreen.migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Thin ECS client layer: every call retried with jittered backoff (aws_retry), "not found"
turned into None, any other failure raised as EcsError for module.fail_json_aws_error()."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

try:
    import botocore.exceptions
    import botocore.waiter
    import jmespath
except ImportError:
    pass  # AnsibleAWSModule reports the missing dependency

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.tagging import ansible_dict_to_boto3_tag_list
from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict

from ansible_collections.bluegreen.migration.plugins.module_utils.core import aws_retry, tag_updater
from ansible_collections.bluegreen.migration.plugins.module_utils.diff import tag_drift
from ansible_collections.bluegreen.migration.plugins.module_utils.plan import field


class EcsError(AnsibleAWSError):
    pass


class EcsErrorHandler(AWSErrorHandler):
    _CUSTOM_EXCEPTION = EcsError

    @classmethod
    def _is_missing(cls):
        return is_boto3_error_code(["ClusterNotFoundException", "ServiceNotFoundException"])


class EcsTaskDefinitionErrorHandler(AWSErrorHandler):
    _CUSTOM_EXCEPTION = EcsError

    @classmethod
    def _is_missing(cls):
        # DescribeTaskDefinition answers an unknown family or revision with ClientException.
        return is_boto3_error_code("ClientException")


def tags_to_dict(tags):
    return boto3_tag_list_to_ansible_dict(tags or [], "key", "value")


def dict_to_tags(tags):
    return ansible_dict_to_boto3_tag_list(tags or {}, "key", "value")


# ---------------------------------------------------------------- clusters


@EcsErrorHandler.list_error_handler("describe ECS cluster {name}")
@aws_retry()
def describe_cluster(client, name):
    result = client.describe_clusters(clusters=[name], include=["SETTINGS", "TAGS"])
    for cluster in result.get("clusters", []):
        if cluster.get("status") != "INACTIVE":
            return cluster
    return None


def cluster_summary(cluster):
    """A DescribeClusters entry keyed by the ecs_cluster module's options."""
    settings = {item["name"]: item["value"] for item in cluster.get("settings") or []}
    return {
        "cluster_arn": cluster.get("clusterArn"),
        "cluster_name": cluster.get("clusterName"),
        "status": cluster.get("status"),
        "container_insights": settings.get("containerInsights", "disabled"),
        # an empty list may be left out of the answer
        "capacity_providers": sorted(cluster.get("capacityProviders") or []),
        "tags": tags_to_dict(cluster.get("tags")),
    }


def read_cluster(client, name):
    """The active cluster called `name` as cluster_summary() gives it, or None."""
    cluster = describe_cluster(client, name)
    return cluster_summary(cluster) if cluster else None


def cluster_drift(wanted, current):
    """{field: {before, after}} of an existing cluster against the wanted options (container
    insights and capacity providers when given, tags with purge_tags)."""
    drift = {}
    if wanted.get("container_insights") and wanted["container_insights"] != current["container_insights"]:
        drift["container_insights"] = field(current["container_insights"], wanted["container_insights"])
    if wanted.get("capacity_providers") is not None:
        providers = sorted(set(wanted["capacity_providers"]))
        if providers != current["capacity_providers"]:
            drift["capacity_providers"] = field(current["capacity_providers"], providers)
    tags = tag_drift(current["tags"], wanted.get("tags"), wanted.get("purge_tags", True))
    if tags:
        drift["tags"] = tags
    return drift


# ECS learns late what was just made: an account's first cluster is refused until IAM has the
# service-linked role ECS creates for it; a new service until ECS knows its new cluster and that
# its target group is behind a load balancer. The same messages also mean a real error, so the
# refusals are retried for up to about two minutes and then reported as they are.
SERVICE_LINKED_ROLE = "Unable to assume the service linked role"
LATE_FOR_A_SERVICE = {
    "InvalidParameterException": (
        SERVICE_LINKED_ROLE,
        "does not have an associated load balancer",
        "verify that the ECS service role being passed has the proper permissions",
    ),
}


@EcsErrorHandler.common_error_handler("create ECS cluster")
@aws_retry(extra_messages={"InvalidParameterException": (SERVICE_LINKED_ROLE,)})
def create_cluster(client, **params):
    return client.create_cluster(**params)["cluster"]


@EcsErrorHandler.common_error_handler("update the settings of ECS cluster {name}")
@aws_retry()
def update_cluster_settings(client, name, settings):
    # UpdateCluster carries the settings too, under the ecs:UpdateCluster action the role needs anyway
    # (emulator difference: see docs/real-aws.md#emulator-differences)
    return client.update_cluster(cluster=name, settings=settings)["cluster"]


# While a cluster's capacity providers are being updated, ECS refuses another update or the
# cluster's deletion with UpdateInProgressException (API_PutClusterCapacityProviders,
# API_DeleteCluster: "wait for the update to complete"), as terraform-provider-aws retries.
CLUSTER_UPDATE_IN_PROGRESS = "UpdateInProgressException"


@EcsErrorHandler.common_error_handler("set the capacity providers of ECS cluster {name}")
@aws_retry(extra_codes=(CLUSTER_UPDATE_IN_PROGRESS,))
def put_cluster_capacity_providers(client, name, providers, strategy):
    return client.put_cluster_capacity_providers(cluster=name, capacityProviders=providers, defaultCapacityProviderStrategy=strategy)["cluster"]


# A cluster refuses deletion while its just-deleted services drain (DRAINING, then their tasks
# stopping), or its capacity providers are being updated: these refusals lift by themselves, so
# they are retried for up to about 10 minutes.
@EcsErrorHandler.deletion_error_handler("delete ECS cluster {name}")
@aws_retry(retries=25, extra_codes=("ClusterContainsServicesException", "ClusterContainsTasksException", CLUSTER_UPDATE_IN_PROGRESS))
def delete_cluster(client, name):
    client.delete_cluster(cluster=name)
    return True


# ---------------------------------------------------------------- tags


@EcsErrorHandler.list_error_handler("list the tags of {arn}", {})
@aws_retry()
def list_tags(client, arn):
    return tags_to_dict(client.list_tags_for_resource(resourceArn=arn).get("tags"))


@EcsErrorHandler.common_error_handler("tag {arn}")
@aws_retry()
def tag_resource(client, arn, tags):
    client.tag_resource(resourceArn=arn, tags=dict_to_tags(tags))
    return True


@EcsErrorHandler.common_error_handler("untag {arn}")
@aws_retry()
def untag_resource(client, arn, keys):
    client.untag_resource(resourceArn=arn, tagKeys=list(keys))
    return True


update_tags = tag_updater(tag_resource, untag_resource)


# ---------------------------------------------------------------- task definitions


def revision_of(arn):
    return int(arn.rsplit(":", 1)[1])


@EcsErrorHandler.list_error_handler("list the task definitions of family {family}", [])
@aws_retry()
def list_task_definition_arns(client, family, status="ACTIVE"):
    """ARNs of one family (exact family, not prefix), oldest revision first."""
    arns = []
    paginator = client.get_paginator("list_task_definitions")
    for page in paginator.paginate(familyPrefix=family, status=status):
        arns.extend(page.get("taskDefinitionArns", []))
    own = [arn for arn in arns if arn.rsplit("/", 1)[-1].rsplit(":", 1)[0] == family]
    return sorted(own, key=revision_of)


@EcsTaskDefinitionErrorHandler.list_error_handler("describe task definition {task_definition}")
@aws_retry()
def describe_task_definition(client, task_definition):
    """(task definition, tags dict) or None when the family or revision does not exist."""
    result = client.describe_task_definition(taskDefinition=task_definition, include=["TAGS"])
    return result["taskDefinition"], tags_to_dict(result.get("tags"))


@EcsErrorHandler.common_error_handler("register a task definition")
@aws_retry()
def register_task_definition(client, **params):
    return client.register_task_definition(**params)["taskDefinition"]


@EcsErrorHandler.common_error_handler("deregister task definition {arn}")
@aws_retry()
def deregister_task_definition(client, arn):
    return client.deregister_task_definition(taskDefinition=arn)["taskDefinition"]


@EcsErrorHandler.common_error_handler("delete revisions of task definition family {family}")
@aws_retry()
def delete_task_definitions(client, family, arns):
    """Delete up to 10 INACTIVE revisions (the API's limit per call); a failure is an error."""
    result = client.delete_task_definitions(taskDefinitions=list(arns))
    failures = result.get("failures") or []
    if failures:
        reasons = "; ".join(f"{f.get('arn')}: {f.get('reason')} {f.get('detail') or ''}".strip() for f in failures)
        raise EcsError(f"Failed to delete revisions of task definition family {family}: {reasons}")
    return result.get("taskDefinitions", [])


# ---------------------------------------------------------------- services


@EcsErrorHandler.list_error_handler("describe ECS service {name} in cluster {cluster}")
@aws_retry()
def describe_service(client, cluster, name):
    result = client.describe_services(cluster=cluster, services=[name], include=["TAGS"])
    for service in result.get("services", []):
        if service.get("status") != "INACTIVE":
            return service
    return None


@EcsErrorHandler.common_error_handler("create ECS service")
@aws_retry(extra_codes=("ClusterNotFoundException",), extra_messages=LATE_FOR_A_SERVICE)
def create_service(client, **params):
    return client.create_service(**params)["service"]


@EcsErrorHandler.common_error_handler("update ECS service {service} in cluster {cluster}")
@aws_retry()
def update_service(client, cluster, service, **params):
    return client.update_service(cluster=cluster, service=service, **params)["service"]


@EcsErrorHandler.common_error_handler("update ECS service {service} in cluster {cluster}")
@aws_retry(extra_codes=("ServiceNotFoundException",))
def update_created_service(client, cluster, service, **params):
    """UpdateService on a service CreateService answered a moment ago, which ECS may not know
    everywhere yet (ServiceNotFoundException until it does)."""
    return client.update_service(cluster=cluster, service=service, **params)["service"]


# ECS refuses to delete a service while a deployment is still settling (a circuit breaker's
# rollback, a scale just asked for), with a code that also means real errors: retried on its
# message, 25 times with full-jitter backoff capped at 30 s (about five minutes on average,
# ten at most; a rollback's tasks start and drain within that).
DEPLOYMENTS_ACTIVE = {"InvalidParameterException": ("cannot be stopped while deployments are active",)}


@EcsErrorHandler.deletion_error_handler("delete ECS service {name} in cluster {cluster}")
@aws_retry(retries=25, extra_messages=DEPLOYMENTS_ACTIVE)
def delete_service(client, cluster, name):
    client.delete_service(cluster=cluster, service=name, force=True)
    return True


@EcsErrorHandler.list_error_handler("list the stopped tasks of service {service}", [])
@aws_retry()
def describe_stopped_tasks(client, cluster, service, limit=5):
    arns = client.list_tasks(cluster=cluster, serviceName=service, desiredStatus="STOPPED").get("taskArns", [])[:limit]
    if not arns:
        return []
    return client.describe_tasks(cluster=cluster, tasks=arns).get("tasks", [])


# ---------------------------------------------------------------- waiters

# Steady: running == desired, the PRIMARY deployment's rollout not IN_PROGRESS, and no
# deployment left but the PRIMARY one, save FAILED ones a circuit breaker left behind. ECS
# marks a rollout COMPLETED only once the service is steady (its tasks passed the load
# balancer's health checks); until then the breaker may still trip, after the tasks run.
# Right after the breaker trips with rollback, ECS lists the FAILED deployment next to the
# rollback one until its tasks are gone; a later wait (an abort's scale to 0) must not fail on
# that leftover. The early failure is therefore the FAILED rollout of the task definition being
# deployed (or, with none given, of the PRIMARY deployment: a breaker without rollback).
# A service scaled to 0 (an abort's new color) is steady once no task runs, whatever its
# rollout says.
STEADY = (
    "length(services[?!(length(deployments[?status != 'PRIMARY' && rolloutState != 'FAILED']) == `0`"
    " && (desiredCount == `0` || length(deployments[?status == 'PRIMARY' && rolloutState == 'IN_PROGRESS']) == `0`)"
    " && runningCount == desiredCount)]) == `0`"
)


def is_steady(service):
    """Whether a DescribeServices entry is steady, as the ServiceSteady wait counts it."""
    return bool(jmespath.search(STEADY, {"services": [dict(service, deployments=service.get("deployments") or [])]}))


def _waiters(task_definition=None, just_created=False):
    """The waiter model; `task_definition` is the one whose FAILED rollout ends the wait. A
    service `just_created` may still read MISSING (eventual consistency): polled again, not failed."""
    if task_definition:
        failed = f"services[].deployments[] | [?taskDefinition == '{task_definition}'].rolloutState"
    else:
        failed = "services[].deployments[] | [?status == 'PRIMARY'].rolloutState"
    return {
        "version": 2,
        "waiters": {
            "ServiceSteady": {
                "operation": "DescribeServices",
                "delay": 15,
                "maxAttempts": 40,
                "acceptors": [
                    {
                        "matcher": "path",
                        "argument": "length(failures[?reason == 'MISSING']) > `0`",
                        "expected": True,
                        "state": "retry" if just_created else "failure",
                    },
                    {"matcher": "pathAny", "argument": "services[].status", "expected": "INACTIVE", "state": "failure"},
                    {"matcher": "pathAny", "argument": failed, "expected": "FAILED", "state": "failure"},
                    {"matcher": "path", "argument": STEADY, "expected": True, "state": "success"},
                ],
            },
            "ServiceInactive": {
                "operation": "DescribeServices",
                "delay": 15,
                "maxAttempts": 40,
                "acceptors": [
                    {"matcher": "path", "argument": "length(failures[?reason == 'MISSING']) > `0`", "expected": True, "state": "success"},
                    {"matcher": "pathAll", "argument": "services[].status", "expected": "INACTIVE", "state": "success"},
                ],
            },
        },
    }


def _timing(timeout):
    delay = max(1, min(15, int(timeout) // 4))
    return delay, max(1, int(timeout) // delay)


def wait_for_service(client, cluster, name, timeout, state="steady", task_definition=None, just_created=False):
    """Wait for a service to be steady (or inactive). Returns None on success, the
    botocore WaiterError when it timed out or failed (the module explains why).
    `task_definition`: the one being deployed, whose FAILED rollout fails the wait;
    `just_created`: CreateService answered a moment ago (MISSING is read as not yet)."""
    waiter_name = "ServiceSteady" if state == "steady" else "ServiceInactive"
    model = botocore.waiter.WaiterModel(_waiters(task_definition, just_created))
    waiter = botocore.waiter.create_waiter_with_client(waiter_name, model, client)
    delay, attempts = _timing(timeout)
    try:
        aws_retry()(waiter.wait)(cluster=cluster, services=[name], WaiterConfig={"Delay": delay, "MaxAttempts": attempts})
    except botocore.exceptions.WaiterError as e:
        return e
    return None


# ---------------------------------------------------------------- read-only lookups (info modules)


@EcsErrorHandler.list_error_handler("list the services of cluster {cluster}", [])
@aws_retry()
def list_service_arns(client, cluster):
    arns = []
    paginator = client.get_paginator("list_services")
    for page in paginator.paginate(cluster=cluster):
        arns.extend(page.get("serviceArns", []))
    return arns


@EcsErrorHandler.list_error_handler("describe the ECS services {names} in cluster {cluster}", [])
@aws_retry()
def describe_services(client, cluster, names):
    """Services of `names` that exist (not INACTIVE); at most 10 names per call, so batched."""
    found = []
    for start in range(0, len(names), 10):
        result = client.describe_services(cluster=cluster, services=list(names[start:start + 10]), include=["TAGS"])
        found.extend(s for s in result.get("services", []) if s.get("status") != "INACTIVE")
    return found
