"""The network role on the realistic emulator: a NAT gateway found still pending (a run stopped
while creating it) is waited for before any private route names it; AWS refuses a route to a
pending NAT gateway as if its id did not exist. A NAT gateway that failed stops the wait at once,
naming AWS's failure code, and the next run puts another in its place."""

import time

import pytest

from tests.harness.aws import client, run_playbook
from tests.integration.test_network_drift import INVENTORY, PLAYBOOK, SUFFIX, layout_in_aws, run

pytestmark = pytest.mark.slow(seconds=105)


def test_nat_found_pending_is_waited_for_before_the_routes_and_a_failed_one_stops_the_wait(realistic_aws):
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
    # A run stopped earlier, not a second ago: EC2 lists the gateway by then (a run started
    # within its listing delay would not find it, and would create another).
    in_subnet = [{"Name": "subnet-id", "Values": [old["SubnetId"]]}, {"Name": "state", "Values": ["pending", "available"]}]
    for _attempt in range(40):
        if new in [n["NatGatewayId"] for n in ec2.describe_nat_gateways(Filters=in_subnet)["NatGateways"]]:
            break
        time.sleep(0.25)
    mark = len(realistic_aws.realism("events"))

    run()
    details = [e["detail"] for e in realistic_aws.realism("events")[mark:] if e["behaviour"] == "slow_states"]
    assert f"{new} pending" in details, details
    assert not [d for d in details if d.startswith("InvalidNatGatewayID")], details
    nats, _private, _subnets, routes = layout_in_aws(ec2)
    assert [n["NatGatewayId"] for n in nats] == [new]
    assert set(routes.values()) == {new}

    # The NAT gateway gone again, and the one the next run creates fails (AWS: e.g. no free
    # address in its subnet): the wait stops on its first look, naming the failure.
    ec2.delete_nat_gateway(NatGatewayId=new)
    realistic_aws.realism("config", {"nat_failures": {"count": 1}})
    extra_vars = {"environment_suffix": SUFFIX, "network_az_count": 2, "network_nat_gateways": "single", "network_nat_wait_timeout": 60}
    failed = run_playbook(PLAYBOOK, inventory=INVENTORY, extra_vars=extra_vars)
    [event] = [e["detail"] for e in realistic_aws.realism("events") if e["behaviour"] == "nat_failures" and e["detail"].endswith(" failed")][:1]
    broken = event.split()[0]
    text = " ".join(failed.stdout.split())
    assert failed.returncode != 0, text[-3000:]
    assert f"NAT gateway(s) failed: {broken} (InsufficientFreeAddressesInSubnet: Subnet has insufficient free addresses" in text, text[-3000:]
    # (one more look is allowed: EC2 may not know the new id yet)
    assert failed.stdout.count("RETRYING: [local]: bluegreen.migration.network : Wait until the NAT gateways") <= 1, failed.stdout[-3000:]

    # The next run: the failed one is not taken for the NAT gateway (AWS deletes it after a while);
    # another is created and the routes go to it.
    run()
    nats, _private, _subnets, routes = layout_in_aws(ec2)
    assert len(nats) == 1 and nats[0]["NatGatewayId"] not in (broken, new) and set(routes.values()) == {nats[0]["NatGatewayId"]}
