"""The application tier's desired state built from its declared settings
(module_utils/app_tier.py placement, container_secrets, color_specs, and their filters): where
the tier lives, and each color's target group, task definition and service."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.bluegreen.migration.plugins.filter.ecs_service import ecs_service_color_specs
from ansible_collections.bluegreen.migration.plugins.filter.ecs_service import ecs_service_placement
from ansible_collections.bluegreen.migration.plugins.module_utils import app_tier
from ansible_collections.bluegreen.migration.plugins.module_utils.naming import resource_names

NAMES = resource_names("dev", "us-east-1")
SG_NAMES = {"alb": NAMES["sg_alb"], "app": NAMES["sg_app"]}
NOTHING_GIVEN = {
    "vpc_id": "",
    "public_subnet_ids": [],
    "private_subnet_ids": [],
    "alb_security_group_ids": [],
    "app_security_group_ids": [],
}
# Registered answers of the three finds of roles/ecs_service/tasks/discover_find.yml (the fields it reads).
FOUND_VPCS = {"changed": False, "vpcs": [{"id": "vpc-found", "cidr_block": "10.0.0.0/16"}]}
FOUND_SUBNETS = {
    "changed": False,
    "subnets": [
        {"id": "subnet-pub-b", "tags": {"bluegreen:tier": "public"}},
        {"id": "subnet-priv-a", "tags": {"bluegreen:tier": "private"}},
        {"id": "subnet-pub-a", "tags": {"bluegreen:tier": "public"}},
        {"id": "subnet-iso-a", "tags": {"bluegreen:tier": "isolated"}},
        {"id": "subnet-untagged", "tags": {}},
    ],
}
FOUND_GROUPS = {
    "changed": False,
    "security_groups": [
        {"group_id": "sg-app", "group_name": NAMES["sg_app"]},
        {"group_id": "sg-alb", "group_name": NAMES["sg_alb"]},
        {"group_id": "sg-other", "group_name": "someone-elses"},
    ],
}
SKIPPED = {"changed": False, "skipped": True, "skip_reason": "Conditional result was False"}


def test_placement_from_what_was_found_by_tier_and_name():
    assert app_tier.placement(NOTHING_GIVEN, FOUND_VPCS, FOUND_SUBNETS, FOUND_GROUPS, SG_NAMES) == {
        "vpc_id": "vpc-found",
        "public_subnet_ids": ["subnet-pub-a", "subnet-pub-b"],
        "private_subnet_ids": ["subnet-priv-a"],
        "alb_security_group_ids": ["sg-alb"],
        "app_security_group_ids": ["sg-app"],
    }


def test_each_given_input_wins_over_what_was_found():
    given = dict(NOTHING_GIVEN, vpc_id="vpc-given", private_subnet_ids=["subnet-x"], app_security_group_ids=["sg-x"])
    got = app_tier.placement(given, FOUND_VPCS, FOUND_SUBNETS, FOUND_GROUPS, SG_NAMES)
    assert got["vpc_id"] == "vpc-given"
    assert got["private_subnet_ids"] == ["subnet-x"]
    assert got["app_security_group_ids"] == ["sg-x"]
    # the inputs not given still come from the finds
    assert got["public_subnet_ids"] == ["subnet-pub-a", "subnet-pub-b"]
    assert got["alb_security_group_ids"] == ["sg-alb"]


@pytest.mark.parametrize("found", [None, {}, SKIPPED], ids=["not registered", "empty", "skipped"])
def test_a_find_that_did_not_run_gives_nothing(found):
    assert app_tier.placement(NOTHING_GIVEN, found, found, found, SG_NAMES) == NOTHING_GIVEN


def test_groups_of_other_names_are_not_taken():
    got = app_tier.placement(NOTHING_GIVEN, None, None, FOUND_GROUPS, {"alb": "not-there", "app": NAMES["sg_app"]})
    assert got["alb_security_group_ids"] == [] and got["app_security_group_ids"] == ["sg-app"]


def test_the_placement_filter_wants_the_inputs_as_a_dict():
    with pytest.raises(AnsibleFilterError, match="expects the inputs as a dict"):
        ecs_service_placement(["vpc-1"])
    assert ecs_service_placement(NOTHING_GIVEN, FOUND_VPCS)["vpc_id"] == "vpc-found"


def test_container_secrets_name_each_key_of_the_secret():
    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf"
    assert app_tier.container_secrets(arn, {"DB_HOST": "host", "DB_PASSWORD": "password"}) == [
        {"name": "DB_HOST", "value_from": arn + ":host::"},
        {"name": "DB_PASSWORD", "value_from": arn + ":password::"},
    ]
    assert app_tier.container_secrets("", {"DB_HOST": "host"}) == []


CREDENTIALS_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf"
SPEC = {
    "colors": ["blue", "green"],
    "names": NAMES,
    "tags": {"bluegreen:environment": "dev", "bluegreen:component": "ecs_service"},
    "target_group": {"protocol": "HTTP", "port": 80, "vpc_id": "vpc-1", "target_type": "ip", "health_check": {"path": "/"}},
    "task_definition": {
        "cpu": "256",
        "memory": "512",
        "network_mode": "awsvpc",
        "requires_compatibilities": ["FARGATE"],
        "container": {
            "name": "app",
            "image": "amazon/amazon-ecs-sample",
            "port": "80",
            "environment": {"LOG_LEVEL": "info"},
            "secret_arn": CREDENTIALS_ARN,
            "secret_keys": {"DB_HOST": "host"},
            "log_group": NAMES["ecs_log_group"],
            "region": "us-east-1",
        },
    },
    "service": {"network": {"subnets": ["subnet-a"], "security_groups": ["sg-app"], "assign_public_ip": False}, "container_port": 80},
}


def test_each_color_gets_its_named_and_tagged_target_group_task_definition_and_service():
    specs = app_tier.color_specs(SPEC)
    assert [g["color"] for g in specs["target_groups"]] == ["blue", "green"]
    for kind, key, name_field in (
        ("target_groups", "target_group", "name"),
        ("services", "ecs_service", "name"),
        ("task_definitions", "task_family", "family"),
    ):
        for item in specs[kind]:
            name = NAMES["%s_%s" % (key, item["color"])]
            assert item[name_field] == name, (kind, item)
            assert item["tags"] == dict(SPEC["tags"], Name=name, **{"bluegreen:color": item["color"]}), (kind, item)
    blue_group = specs["target_groups"][0]
    assert {k: blue_group[k] for k in SPEC["target_group"]} == SPEC["target_group"]
    green_service = specs["services"][1]
    assert green_service["network"] == SPEC["service"]["network"] and green_service["container_port"] == 80
    # the names differ between the colors: two resources, not one
    assert len({g["name"] for g in specs["target_groups"]}) == 2


def test_the_container_knows_its_color_logs_under_it_and_reads_the_database_from_the_secret():
    specs = app_tier.color_specs(SPEC)
    for definition in specs["task_definitions"]:
        color = definition["color"]
        assert "container" not in definition
        assert {k: definition[k] for k in ("cpu", "memory", "network_mode", "requires_compatibilities")} == {
            "cpu": "256",
            "memory": "512",
            "network_mode": "awsvpc",
            "requires_compatibilities": ["FARGATE"],
        }
        (container,) = definition["containers"]
        assert container["environment"] == {"LOG_LEVEL": "info", "BLUEGREEN_COLOR": color}
        assert container["port_mappings"] == [{"container_port": 80}]
        assert container["essential"] is True
        assert container["secrets"] == [{"name": "DB_HOST", "value_from": CREDENTIALS_ARN + ":host::"}]
        assert container["log_configuration"] == {
            "log_driver": "awslogs",
            "options": {"awslogs-group": NAMES["ecs_log_group"], "awslogs-region": "us-east-1", "awslogs-stream-prefix": color},
        }
    # the declared settings are not changed in place (the role templates them once per use)
    assert "container" in SPEC["task_definition"] and SPEC["task_definition"]["container"]["environment"] == {"LOG_LEVEL": "info"}


@pytest.mark.parametrize("missing", ["names", "target_group", "task_definition", "service", "colors"])
def test_a_spec_lacking_a_setting_is_an_error_naming_it(missing):
    spec = {k: v for k, v in SPEC.items() if k != missing}
    with pytest.raises(AnsibleFilterError, match="ecs_service_color_specs: .*lack or mistype.*%s" % missing):
        ecs_service_color_specs(spec)
