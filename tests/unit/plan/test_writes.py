"""The `writes` (and network's `leftovers_or_endpoints`) flag each plan module returns: the roles
include their writers' task file only when it is true, so it must be true whenever any writer has
something to do, and false for a converged plan (a no-op re-run then runs no writer task)."""

import pytest

from ansible_collections.bluegreen.migration.plugins.module_utils.plan import anything_to_apply
from ansible_collections.bluegreen.migration.plugins.modules import aurora_plan, ecs_service_plan, network_plan

NETWORK_PARAMS = {"route_tables_when_ready": True}
NETWORK_CONVERGED = {
    "vpc": {"id": "vpc-1", "apply": False},
    "internet_gateway": {"id": "igw-1", "apply": False},
    "subnets": {"changes": [], "apply": [], "ids": {}},
    "nat": {"changes": [], "apply": [], "pending": [], "stale": []},
    "security_groups": {"ids": {}, "missing": [], "changes": [], "apply": []},
    "route_tables": {"changes": [], "apply": [], "stale": []},
    # An endpoint kept as it is: a converged re-run with endpoints listed runs no endpoint task.
    "vpc_endpoints": {"changes": [], "create": [], "modify": [], "stale": [], "ids": {"com.amazonaws.us-east-1.s3": "vpce-1"}},
}


def changed(result, path, value):
    kind, key = path.split(".")
    return dict(result, **{kind: dict(result[kind], **{key: value})})


def test_a_converged_network_plan_writes_nothing():
    assert network_plan.writes(NETWORK_CONVERGED, NETWORK_PARAMS) is False
    assert network_plan.leftovers_or_endpoints(NETWORK_CONVERGED, NETWORK_PARAMS) is False


@pytest.mark.parametrize("path, value", [
    ("vpc.apply", True),
    ("internet_gateway.apply", True),
    ("subnets.apply", [{"cidr": "10.0.0.0/24"}]),
    ("nat.apply", [{"nat_name": "nat-a"}]),
    ("security_groups.missing", [{"name": "app"}]),
    ("security_groups.apply", [{"name": "app"}]),
    ("route_tables.apply", [{"tags": {"Name": "public"}}]),
])
def test_each_network_writer_of_the_first_pass_makes_writes_true(path, value):
    assert network_plan.writes(changed(NETWORK_CONVERGED, path, value), NETWORK_PARAMS) is True


def test_route_tables_still_to_plan_make_both_flags_true():
    result = dict((kind, plan) for kind, plan in NETWORK_CONVERGED.items() if kind != "route_tables")
    assert network_plan.writes(result, NETWORK_PARAMS) is True
    assert network_plan.leftovers_or_endpoints(result, NETWORK_PARAMS) is True
    # Without route_tables_when_ready (the second read, the plan entry point) nothing is still to plan.
    assert network_plan.writes(result, {"route_tables_when_ready": False}) is False


@pytest.mark.parametrize("path, value", [
    ("route_tables.stale", [{"id": "rtb-1", "name": "private-a"}]),
    ("nat.stale", [{"nat_gateway_id": "nat-1"}]),
    ("vpc_endpoints.create", [{"service": "com.amazonaws.us-east-1.s3", "type": "Gateway"}]),
    ("vpc_endpoints.modify", [{"vpc_endpoint_id": "vpce-1", "type": "Gateway"}]),
    ("vpc_endpoints.stale", [{"vpc_endpoint_id": "vpce-1"}]),
    ("vpc_endpoints.pending", ["vpce-1"]),
])
def test_leftovers_and_endpoints_are_the_egress_entry_points_not_the_first_pass(path, value):
    result = changed(NETWORK_CONVERGED, path, value)
    assert network_plan.leftovers_or_endpoints(result, NETWORK_PARAMS) is True
    assert network_plan.writes(result, NETWORK_PARAMS) is False


ECS_CONVERGED = {
    "target_groups": {"found": {}, "arns": {}, "apply": []},
    "load_balancer": {"apply": False, "record_forward": False},
    "log_group": {"found": {}, "apply": False},
    "cluster": {"found": {}, "apply": False},
    "alarm_topic": {"found": {}, "apply": False},
    "alarms": {"apply": False},
    "task_definitions": {"arns": {}, "apply": [], "images": {}},
    "services": {"found": {}, "apply": [], "redeploy": [], "tags": {}},
}


@pytest.mark.parametrize("path, value", [
    ("target_groups.apply", ["blue"]),
    ("load_balancer.apply", True),
    ("load_balancer.record_forward", True),
    ("log_group.apply", True),
    ("cluster.apply", True),
    ("alarm_topic.apply", True),
    ("alarms.apply", True),
    ("task_definitions.apply", ["green"]),
    ("services.apply", ["blue"]),
])
def test_each_tier_writer_makes_writes_true(path, value):
    assert ecs_service_plan.writes(ECS_CONVERGED) is False
    assert ecs_service_plan.writes(changed(ECS_CONVERGED, path, value)) is True


def test_a_tier_plan_without_services_or_alarms_still_answers():
    assert ecs_service_plan.writes({"target_groups": {"apply": []}, "load_balancer": {"apply": False, "record_forward": False}}) is False


AURORA_APPLY = {"cluster": False, "create_cluster": False, "engine_version": None, "instances": [], "delete_instances": []}
AURORA_PARTS = {"subnet_group": {"found": {}, "apply": False}, "secret": {"found": {}, "apply": False}, "alarms": {"apply": False}}


@pytest.mark.parametrize("apply, parts", [
    (dict(AURORA_APPLY, cluster=True), AURORA_PARTS),
    (dict(AURORA_APPLY, instances=[{"id": "aurora-dev-2"}]), AURORA_PARTS),
    (dict(AURORA_APPLY, delete_instances=["aurora-dev-3"]), AURORA_PARTS),
    (AURORA_APPLY, dict(AURORA_PARTS, secret={"found": {}, "apply": True})),
    (AURORA_APPLY, dict(AURORA_PARTS, subnet_group={"found": {}, "apply": True})),
    (AURORA_APPLY, dict(AURORA_PARTS, alarms={"apply": True})),
])
def test_each_aurora_writer_makes_writes_true(apply, parts):
    assert aurora_plan.writes(AURORA_APPLY, AURORA_PARTS) is False
    assert aurora_plan.writes(apply, parts) is True


# iam_roles_plan's and lambda_function_plan's `writes` is plan.anything_to_apply of their `apply`.
@pytest.mark.parametrize("converged", [
    {"roles": [], "policies": [], "remove": []},
    {"roles": [], "policies": [], "remove": [], "log_group": False, "function": False},
], ids=["iam_roles_plan", "lambda_function_plan"])
def test_each_role_policy_log_group_or_function_makes_writes_true(converged):
    assert anything_to_apply(converged) is False
    for key in converged:
        assert anything_to_apply(dict(converged, **{key: True if converged[key] is False else [{"name": "x"}]})) is True
