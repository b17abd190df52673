"""The tier plan's reads on the emulator: both target groups in one DescribeTargetGroups (each
asked alone when one is missing, as AWS refuses the whole call then), their tags in the load
balancer's DescribeTags, and the alarm topic found by its ARN without listing every topic."""

import pytest

from ansible_collections.bluegreen.migration.plugins.module_utils import elbv2, sns
from tests.harness.aws import client

TAGS = [{"Key": "bluegreen:environment", "Value": "t1"}]


@pytest.fixture
def tier(aws):
    ec2 = client("ec2")
    vpc_id = ec2.create_vpc(CidrBlock="10.40.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc_id, CidrBlock=f"10.40.{i}.0/24", AvailabilityZone=f"us-east-1{az}")["Subnet"]["SubnetId"] for i, az in ((1, "a"), (2, "b"))
    ]
    elb = client("elbv2")
    groups = {}
    for color in ("blue", "green"):
        group = elb.create_target_group(Name=f"app-{color}-t1", Protocol="HTTP", Port=80, VpcId=vpc_id, TargetType="ip", Tags=TAGS)["TargetGroups"][0]
        groups[color] = group["TargetGroupArn"]
    balancer = elb.create_load_balancer(Name="app-t1", Subnets=subnets, Tags=TAGS)["LoadBalancers"][0]
    return {"elb": elb, "groups": groups, "balancer": balancer["LoadBalancerArn"]}


def calls(emulator, since, service):
    return [c["action"] for c in emulator.requests()[since:] if c["service"] == service]


def test_both_target_groups_in_one_call_and_their_tags_with_the_balancer(aws, tier):
    start = len(aws.requests())
    found = elbv2.read_target_groups(tier["elb"], ["app-blue-t1", "app-green-t1"])
    assert {name: group["target_group_arn"] for name, group in found.items()} == {
        "app-blue-t1": tier["groups"]["blue"],
        "app-green-t1": tier["groups"]["green"],
    }
    balancer, listeners, tags = elbv2.read_load_balancer(tier["elb"], "app-t1", list(tier["groups"].values()))
    assert balancer["LoadBalancerArn"] == tier["balancer"] and listeners == []
    assert tags[tier["groups"]["green"]] == {"bluegreen:environment": "t1"} and tags[tier["balancer"]] == {"bluegreen:environment": "t1"}
    assert calls(aws, start, "elasticloadbalancing") == [
        "DescribeTargetGroups",
        "DescribeTargetGroupAttributes",
        "DescribeTargetGroupAttributes",
        "DescribeLoadBalancers",
        "DescribeListeners",
        "DescribeTags",
    ]


def test_a_missing_target_group_is_none_and_the_other_still_read(aws, tier):
    tier["elb"].delete_target_group(TargetGroupArn=tier["groups"]["green"])
    found = elbv2.read_target_groups(tier["elb"], ["app-blue-t1", "app-green-t1"])
    assert found["app-green-t1"] is None and found["app-blue-t1"]["target_group_arn"] == tier["groups"]["blue"]
    # No load balancer either: the groups' tags are still read.
    tags = elbv2.read_load_balancer(tier["elb"], "app-none", [tier["groups"]["blue"]])[2]
    assert tags == {tier["groups"]["blue"]: {"bluegreen:environment": "t1"}}


@pytest.mark.parametrize(
    "arn, expected",
    [
        ("arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/app-t1/1", "arn:aws:sns:us-east-1:123456789012:alarms-t1"),
        ("arn:aws-us-gov:elasticloadbalancing:us-gov-west-1:123456789012:targetgroup/x/1", "arn:aws-us-gov:sns:us-gov-west-1:123456789012:alarms-t1"),
        ("arn:aws:iam::123456789012:role/x", None),  # IAM ARNs have no region
        ("", None),
        (None, None),
    ],
)
def test_topic_arn_beside(arn, expected):
    assert sns.topic_arn_beside("alarms-t1", arn) == expected


def test_topic_read_by_its_arn_without_listing_topics(aws, tier):
    topics = client("sns")
    arn = topics.create_topic(Name="alarms-t1", Attributes={"DisplayName": "alarms"}, Tags=[{"Key": "Name", "Value": "alarms-t1"}])["TopicArn"]
    start = len(aws.requests())
    found = sns.read_topic(topics, "alarms-t1", tier["balancer"])
    assert found == {"topic_arn": arn, "name": "alarms-t1", "display_name": "alarms", "tags": {"Name": "alarms-t1"}}
    assert calls(aws, start, "sns") == ["GetTopicAttributes", "ListTagsForResource"]
    start = len(aws.requests())
    assert sns.read_topic(topics, "alarms-none", tier["balancer"]) is None
    assert calls(aws, start, "sns") == ["GetTopicAttributes"]
    # Without another ARN the topic is found by listing.
    assert sns.read_topic(topics, "alarms-t1")["topic_arn"] == arn
