"""The realistic emulator's Lambda network interfaces: a deleted VPC function's interfaces
stay a while and hold its security group, and Lambda releases them with the function's
execution role, so taking the role away first leaves them for good (as on AWS). The migrator
teardown's order (the role last) is checked on this by tests/integration/test_realistic_cycle.py."""

import pytest

from tests.harness.aws import client
from tests.unit.modules.test_lambda_invoke import create_function

pytestmark = pytest.mark.slow(seconds=5)

VPC_ACCESS = "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"


def deleted_function_in_vpc(emulator):
    """A VPC function created and deleted; its security group id."""
    # Only the drain is looked at here: no throttling, listing lag or IAM propagation delay.
    emulator.realism("config", {name: {"enabled": False} for name in ("throttling", "eventual_consistency", "iam_propagation")})
    ec2 = client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.1.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="fn", Description="fn", VpcId=vpc)["GroupId"]
    create_function(name="fn", role_name="fn-role", policies=[VPC_ACCESS], VpcConfig={"SubnetIds": [subnet], "SecurityGroupIds": [group]})
    client("lambda").delete_function(FunctionName="fn")
    return group


def lambda_enis(group):
    filters = [{"Name": "group-id", "Values": [group]}, {"Name": "description", "Values": ["AWS Lambda VPC ENI*"]}]
    return client("ec2").describe_network_interfaces(Filters=filters)["NetworkInterfaces"]


def test_released_after_a_while_when_the_role_outlives_them(realistic_aws):
    group = deleted_function_in_vpc(realistic_aws)
    polls = realistic_aws.realism("config")["dependent_drain"]["eni_polls"]
    assert polls >= 1
    assert [len(lambda_enis(group)) for poll in range(polls)] == [1] * polls
    assert lambda_enis(group) == []
    client("iam").detach_role_policy(RoleName="fn-role", PolicyArn=VPC_ACCESS)
    client("iam").delete_role(RoleName="fn-role")
    client("ec2").delete_security_group(GroupId=group)


@pytest.mark.parametrize("take_away", ["delete the role", "detach the VPC access policy"])
def test_stranded_for_good_when_the_role_goes_first(realistic_aws, take_away):
    group = deleted_function_in_vpc(realistic_aws)
    iam = client("iam")
    iam.detach_role_policy(RoleName="fn-role", PolicyArn=VPC_ACCESS)
    if take_away == "delete the role":
        iam.delete_role(RoleName="fn-role")
    polls = realistic_aws.realism("config")["dependent_drain"]["eni_polls"]
    assert [len(lambda_enis(group)) for poll in range(polls + 3)] == [1] * (polls + 3)
    stranded = [e["detail"] for e in realistic_aws.realism("events") if "stranded" in e["detail"]]
    assert len(stranded) == 1 and "execution role fn-role" in stranded[0], stranded
    with pytest.raises(client("ec2").exceptions.ClientError, match="DependencyViolation"):
        client("ec2").delete_security_group(GroupId=group)
