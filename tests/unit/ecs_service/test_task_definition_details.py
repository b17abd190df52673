"""What a rollout can carry over of a live task definition (ecs_services.task_definition_details):
DescribeTaskDefinition as recorded from the emulator, with the fields real ECS adds to every
answer (moto leaves them out): registeredAt/registeredBy, requiresAttributes and, since
January 2025, enableFaultInjection false on every task definition, set or not."""

import copy
import json
from pathlib import Path

from ansible_collections.bluegreen.migration.plugins.module_utils import ecs_services

RECORDED = json.loads((Path(__file__).parent / "recorded" / "application.json").read_text())


def as_ecs_answers(**extra):
    """The recorded blue task definition with what ECS adds to its answer, and `extra`."""
    definition = copy.deepcopy(RECORDED["DescribeTaskDefinition"]["blue"]["taskDefinition"])
    definition.update(
        registeredAt="2026-12-07T10:00:00Z",
        registeredBy="arn:aws:sts::123456789012:assumed-role/deployer/session",
        requiresAttributes=[{"name": "ecs.capability.execution-role-awslogs"}],
        enableFaultInjection=False,
    )
    definition.update(extra)
    return definition


def test_the_fields_ecs_adds_with_their_defaults_are_carried_over():
    details = ecs_services.task_definition_details(as_ecs_answers())
    assert details["unsupported"] == []
    assert details["spec"]["family"] == RECORDED["DescribeTaskDefinition"]["blue"]["taskDefinition"]["family"]


def test_a_value_other_than_aws_s_default_is_not_lost_silently():
    assert ecs_services.task_definition_details(as_ecs_answers(enableFaultInjection=True))["unsupported"] == ["enableFaultInjection"]
    assert ecs_services.task_definition_details(as_ecs_answers(pidMode="task"))["unsupported"] == ["pidMode"]


def test_a_container_field_the_spec_does_not_carry_is_named():
    definition = as_ecs_answers()
    container = definition["containerDefinitions"][0]
    container["command"] = ["serve", "--port", "80"]
    assert ecs_services.task_definition_details(definition)["unsupported"] == ["containers.%s.command" % container["name"]]
