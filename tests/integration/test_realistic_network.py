"""The network role on the realistic emulator: a NAT gateway found still pending (a run stopped
while creating it) is waited for before any private route names it; AWS refuses a route to a
pending NAT gateway as if its id did not exist."""

import pytest

from tests.harness.aws import client
from tests.integration.test_network_drift import layout_in_aws, run

pytestmark = pytest.mark.slow(seconds=105)


def test_nat_found_pending_is_waited_for_before_the_routes(realistic_aws):
    ec2 = client("ec2")
    run()
    nats, _private, _subnets, routes = layout_in_aws(ec2)
    assert len(nats) == 1 and set(routes.values()) == {nats[0]["NatGatewayId"]}

    # What a run stopped inside NAT creation leaves: the NAT gateway the routes use is gone,
    # and a new one, still pending, stands in its subnet.
    old = nats[0]
    ec2.delete_nat_gateway(NatGatewayId=old["NatGatewayId"])
    realistic_aws.realism("config", {"slow_states": {"nat_seconds": 25}})
    new = ec2.create_nat_gateway(
        SubnetId=old["SubnetId"],
        AllocationId=ec2.allocate_address(Domain="vpc")["AllocationId"],
        TagSpecifications=[{"ResourceType": "natgateway", "Tags": [{"Key": k, "Value": v} for k, v in ((t["Key"], t["Value"]) for t in old["Tags"])]}],
    )["NatGateway"]["NatGatewayId"]
    mark = len(realistic_aws.realism("events"))

    run()
    details = [e["detail"] for e in realistic_aws.realism("events")[mark:] if e["behaviour"] == "slow_states"]
    assert f"{new} pending" in details, details
    assert not [d for d in details if d.startswith("InvalidNatGatewayID")], details
    nats, _private, _subnets, routes = layout_in_aws(ec2)
    assert [n["NatGatewayId"] for n in nats] == [new]
    assert set(routes.values()) == {new}
