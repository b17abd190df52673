"""Names and ARNs per region: the ARN partition comes from the region, so the roles' ARNs (AWS managed
policies above all) also work in China, GovCloud and the ISO regions."""

import pytest

from ansible_collections.bluegreen.migration.plugins.module_utils.naming import NamingError, aws_partition


@pytest.mark.parametrize(
    "region, partition",
    [
        ("us-east-1", "aws"),
        ("eu-west-3", "aws"),
        ("us-gov-west-1", "aws-us-gov"),
        ("cn-northwest-1", "aws-cn"),
        ("us-iso-east-1", "aws-iso"),
        ("us-isob-east-1", "aws-iso-b"),
        ("eusc-de-east-1", "aws-eusc"),
    ],
)
def test_partition_of_region(region, partition):
    assert aws_partition(region) == partition


def test_empty_region_is_refused():
    with pytest.raises(NamingError, match="aws_region"):
        aws_partition("")


def test_iam_role_names_carry_the_region_and_nothing_else_does():
    from ansible_collections.bluegreen.migration.plugins.module_utils.naming import CATALOGUE, resource_names

    east, west = resource_names("dev", "us-east-1"), resource_names("dev", "us-west-2")
    differ = sorted(key for key in CATALOGUE if east[key] != west[key])
    assert differ == sorted(key for key, (component, kind) in CATALOGUE.items() if kind == "iam_role")
    assert east["migrator_role"] == "migrator-dev-us-east-1" and west["ecs_execution_role"] == "app-execution-dev-us-west-2"
    assert east["ecs_cluster"] == west["ecs_cluster"] == "app-dev"


@pytest.mark.parametrize("region", ["", None, "US-EAST-1", "east", "us-east"])
def test_names_refuse_a_region_that_is_not_one(region):
    from ansible_collections.bluegreen.migration.plugins.module_utils.naming import resource_names

    with pytest.raises(NamingError, match="aws_region"):
        resource_names("dev", region)
