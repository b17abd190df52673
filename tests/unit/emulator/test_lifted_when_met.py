"""lifted_when_met, on the realistic emulator: a window opened wide is closed as soon as the
block meets it (after as many matching events as asked), and one the block never meets is
closed too and fails the block's end, naming it."""

import time

import pytest

from tests.harness.aws import client, lifted_when_met


def nat_state(ec2, nat_id):
    return ec2.describe_nat_gateways(NatGatewayIds=[nat_id])["NatGateways"][0]["State"]


@pytest.fixture
def pending_nat(realistic_aws):
    """A NAT gateway pending for an hour (eventual consistency and throttling off)."""
    realistic_aws.realism("config", {"throttling": {"enabled": False}, "eventual_consistency": {"enabled": False},
                                     "slow_states": {"nat_seconds": 3600}})
    ec2 = client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.47.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.47.1.0/24")["Subnet"]["SubnetId"]
    address = ec2.allocate_address(Domain="vpc")["AllocationId"]
    return ec2, ec2.create_nat_gateway(SubnetId=subnet, AllocationId=address)["NatGateway"]["NatGatewayId"]


def test_a_window_is_closed_once_met_as_often_as_asked(realistic_aws, pending_nat):
    ec2, nat = pending_nat
    with lifted_when_met(realistic_aws, {("slow_states", "DescribeNatGateways", f"{nat} pending", 2): {"slow_states": {"nat_seconds": 0}}}):
        assert nat_state(ec2, nat) == "pending"
        time.sleep(1)  # five looks of the watcher: one event is not two
        assert nat_state(ec2, nat) == "pending"
        # The watcher looks every 0.2 s: the window closes soon after (a loaded machine is slower).
        deadline = time.monotonic() + 30
        while nat_state(ec2, nat) == "pending" and time.monotonic() < deadline:
            time.sleep(0.1)
        assert nat_state(ec2, nat) == "available"
    assert realistic_aws.realism("config")["slow_states"]["nat_seconds"] == 0


def test_a_window_never_met_is_closed_and_fails_the_block(realistic_aws, pending_nat):
    ec2, nat = pending_nat
    key = ("slow_states", "CreateRoute", f"{nat} (pending)")
    with pytest.raises(AssertionError, match="before it met"), lifted_when_met(realistic_aws, {key: {"slow_states": {"nat_seconds": 4}}}):
        assert nat_state(ec2, nat) == "pending"
    assert realistic_aws.realism("config")["slow_states"]["nat_seconds"] == 4


def test_a_failing_block_fails_with_its_own_error_and_leaves_no_window_open(realistic_aws, pending_nat):
    _ec2, nat = pending_nat
    key = ("slow_states", "CreateRoute", f"{nat} (pending)")
    with pytest.raises(ValueError, match="the block's own"), lifted_when_met(realistic_aws, {key: {"slow_states": {"nat_seconds": 4}}}):
        raise ValueError("the block's own failure")
    assert realistic_aws.realism("config")["slow_states"]["nat_seconds"] == 4
