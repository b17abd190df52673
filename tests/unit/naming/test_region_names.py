"""aws_partition: the ARN partition comes from the region, so the roles' ARNs (AWS managed
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
