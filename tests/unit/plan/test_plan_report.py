"""The plan playbook's report (module_utils/plan.py report, module_utils/network.py network_ids;
filter/plan.py): the roles' changes grouped in the deploy's order, counted, one terminal line
each; the ids of a network still to create shown as known after create."""

import json
from pathlib import Path

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.bluegreen.migration.plugins.filter import plan as plan_filters
from ansible_collections.bluegreen.migration.plugins.filter.network import subnet_plan
from ansible_collections.bluegreen.migration.plugins.module_utils import network, plan

KNOWN = plan.KNOWN_AFTER_CREATE
RECORDED = Path(__file__).parent.parent / "network" / "recorded"
LAYOUT = subnet_plan("10.0.0.0/16", ["us-east-1a", "us-east-1b"], "dev")
GROUPS = [{"key": "alb"}, {"key": "app"}, {"key": "migrator"}, {"key": "db"}]


def backup_drift():
    return plan.change("aurora cluster", "aurora-dev", "update", {"backup_retention_period": plan.field(3, 1)}, plan.DIFFERS)


def rule_drift():
    fields = {"ingress": plan.field(["tcp 22-22 0.0.0.0/0", "tcp 80-80 sg-1"], ["tcp 80-80 sg-1"])}
    return plan.change("security group", "app-dev", "update", fields, plan.DIFFERS)


def test_a_converged_environment_has_no_change_and_says_so():
    document = plan.report({"network": [{"changes": []}, {"changes": []}], "aurora": [{"changes": []}]}, "dev")
    assert document["changed"] is False
    assert document["summary"] == {"create": 0, "update": 0, "replace": 0, "delete": 0}
    assert document["roles"] == {"network": [], "aurora": [], "ecs_service": [], "migrator_lambda": []}
    assert document["lines"] == ["dev: no change, AWS matches the inputs"]


def test_changes_are_grouped_by_role_in_the_deploy_order_with_before_and_after():
    created = plan.change("vpc", "vpc-dev", "create", plan.created({"cidr_block": "10.0.0.0/16"}), "no VPC")
    document = plan.report({"aurora": [{"changes": [backup_drift()]}], "network": [{"changes": [created]}, {"changes": [rule_drift()]}]}, "dev")
    assert document["changed"] is True
    assert document["summary"] == {"create": 1, "update": 2, "replace": 0, "delete": 0}
    assert document["lines"] == [
        "dev: 3 changes (1 to create, 2 to update)",
        "network:",
        "  create vpc vpc-dev (no VPC)",
        "  update security group app-dev: ingress -[tcp 22-22 0.0.0.0/0] (differs from the inputs)",
        "aurora:",
        "  update aurora cluster aurora-dev: backup_retention_period 3 -> 1 (differs from the inputs)",
    ]
    # The JSON keeps every field of a resource to create; the terminal leaves them out.
    assert document["roles"]["network"][0]["fields"] == {"cidr_block": {"before": None, "after": "10.0.0.0/16"}}
    json.dumps(document)


def test_skipped_or_missing_results_count_as_no_change_and_a_change_read_twice_is_listed_once():
    document = plan.report({"network": [{"skipped": True}, None], "ecs_service": [{"changes": [rule_drift()]}, {"changes": [rule_drift()]}]}, "dev")
    assert document["summary"]["update"] == 1 and document["roles"]["network"] == []


def test_an_unknown_role_is_refused():
    with pytest.raises(ValueError, match="unknown role"):
        plan.report({"netwrok": []}, "dev")
    with pytest.raises(AnsibleFilterError, match="plan_report of dev"):
        plan_filters.plan_report({"netwrok": []}, "dev")


def test_the_drift_message_names_every_change():
    document = plan.report({"network": [{"changes": [rule_drift()]}], "aurora": [{"changes": [backup_drift()]}]}, "dev")
    message = plan_filters.plan_drift_message(document)
    assert message.startswith("dev: 2 changes (2 to update) drifted from the inputs: update security group app-dev: ingress -[tcp 22-22 0.0.0.0/0]")
    assert "; update aurora cluster aurora-dev: backup_retention_period 3 -> 1" in message


def test_known_after_create_stands_for_an_empty_id():
    assert plan_filters.known_after_create("") == KNOWN
    assert plan_filters.known_after_create(None) == KNOWN
    assert plan_filters.known_after_create("arn:aws:secretsmanager:x") == "arn:aws:secretsmanager:x"


def test_network_ids_of_an_empty_account_are_all_known_after_create():
    base = {"vpc": {"id": None}, "internet_gateway": {"id": None}, "subnets": {"ids": {}}, "security_groups": {"ids": {}}, "nat_gateways": []}
    ids = plan_filters.network_plan_ids(base, LAYOUT, GROUPS, "per_az")
    assert ids["vpc_id"] == ids["internet_gateway_id"] == KNOWN
    assert ids["subnets"] == {"public": [KNOWN, KNOWN], "private": [KNOWN, KNOWN], "isolated": [KNOWN, KNOWN]}
    assert ids["security_groups"] == {"alb": KNOWN, "app": KNOWN, "migrator": KNOWN, "db": KNOWN}
    assert ids["nat_gateway_ids"] == [KNOWN, KNOWN]
    assert ids["nat_gateways_created"] == [{"nat_gateway_id": KNOWN, "subnet_id": KNOWN}] * 2


def test_network_ids_of_a_partly_built_network_mix_read_and_unknown_ids():
    public_a = [s["cidr"] for s in LAYOUT if s["tier"] == "public"][0]
    base = {"vpc": {"id": "vpc-1"}, "internet_gateway": {"id": "igw-1"}, "subnets": {"ids": {public_a: "subnet-a"}},
            "security_groups": {"ids": {"app": "sg-app"}}, "nat_gateways": [{"nat_gateway_id": "nat-1", "subnet_id": "subnet-a", "state": "pending"}]}
    ids = network.network_ids(base, LAYOUT, GROUPS, "single")
    assert ids["vpc_id"] == "vpc-1" and ids["internet_gateway_id"] == "igw-1"
    assert ids["subnets"]["public"] == ["subnet-a", KNOWN]
    assert ids["security_groups"] == {"alb": KNOWN, "app": "sg-app", "migrator": KNOWN, "db": KNOWN}
    assert ids["nat_gateway_ids"] == ["nat-1"]
    assert ids["nat_gateways_created"] == []


def test_network_ids_plan_the_nat_gateway_of_a_public_subnet_without_one():
    public_a = [s["cidr"] for s in LAYOUT if s["tier"] == "public"][0]
    base = {"vpc": {"id": "vpc-1"}, "internet_gateway": {"id": "igw-1"}, "subnets": {"ids": {public_a: "subnet-a"}},
            "security_groups": {"ids": {}}, "nat_gateways": []}
    ids = network.network_ids(base, LAYOUT, GROUPS, "single")
    assert ids["nat_gateway_ids"] == [KNOWN]
    assert ids["nat_gateways_created"] == [{"nat_gateway_id": KNOWN, "subnet_id": "subnet-a"}]


def test_the_terminal_shows_the_keys_of_a_dict_and_the_items_of_a_list_that_differ():
    health = plan.change("target group", "app-blue-dev", "update",
                         {"health_check": plan.field({"path": "/x", "port": "traffic-port"}, {"path": "/", "port": "traffic-port"})}, plan.DIFFERS)
    tags = plan.change("load balancer", "app-dev", "update", {"tags": plan.field({"owner": "me", "a": "1"}, {"owner": "ops", "a": "1", "b": "2"})})
    routes = plan.change("route table", "rt-dev", "update", {"routes": plan.field(["0.0.0.0/0 -> igw-1"], [])})
    moved = plan.change("route table", "rt2-dev", "update", {"subnets": plan.field(["a", "b"], ["b", "a"])})
    assert plan.terminal_line(health) == "update target group app-blue-dev: health_check.path /x -> / (differs from the inputs)"
    assert plan.terminal_line(tags) == "update load balancer app-dev: tags.b None -> 2, tags.owner me -> ops"
    assert plan.terminal_line(routes) == "update route table rt-dev: routes -[0.0.0.0/0 -> igw-1]"
    assert plan.terminal_line(moved) == "update route table rt2-dev: subnets ['a', 'b'] -> ['b', 'a']"
    assert plan.terminal_line(rule_drift()) == "update security group app-dev: ingress -[tcp 22-22 0.0.0.0/0] (differs from the inputs)"
