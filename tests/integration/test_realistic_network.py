"""The network role on the realistic emulator: a NAT gateway found still pending (a run stopped
while creating it) is waited for before any private route names it; AWS refuses a route to a
pending NAT gateway as if its id did not exist. A NAT gateway that failed stops the wait at once,
naming AWS's failure code, and the next run puts another in its place. A run stopped right after
CreateNatGateway and resumed before EC2 lists the gateway gets that gateway, not a second one,
whether EC2 lists the stopped run's address by then or not; and so does one stopped right after
CreateVpcEndpoint."""

import datetime
import json
import re
import time

import pytest

from tests.harness.aws import client, killed_playbook, lifted_when_met, run_playbook
from tests.integration.test_network_drift import INVENTORY, PLAYBOOK, SUFFIX, layout_in_aws, run

pytestmark = pytest.mark.slow(seconds=320)


def test_nat_found_pending_is_waited_for_before_the_routes_and_a_failed_one_stops_the_wait(realistic_aws):
    ec2 = client("ec2")
    run()
    nats, _private, _subnets, routes = layout_in_aws(ec2)
    assert len(nats) == 1 and set(routes.values()) == {nats[0]["NatGatewayId"]}

    # What a run stopped inside NAT creation leaves: the NAT gateway the routes use is gone,
    # and a new one, still pending, stands in its subnet.
    old = nats[0]
    ec2.delete_nat_gateway(NatGatewayId=old["NatGatewayId"])
    # Pending until the resumed run has read it so twice (its plan, then its wait), however slow
    # the machine; then available.
    realistic_aws.realism("config", {"slow_states": {"nat_seconds": 3600}})
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

    with lifted_when_met(realistic_aws, {("slow_states", "DescribeNatGateways", f"{new} pending", 2): {"slow_states": {"nat_seconds": 4}}}):
        resumed, _recap = run()
    details = [e["detail"] for e in realistic_aws.realism("events")[mark:] if e["behaviour"] == "slow_states"]
    assert f"{new} pending" in details, details
    assert "FAILED - RETRYING: [local]: bluegreen.migration.network : Wait until the NAT gateways are available" in resumed.stdout, resumed.stdout[-3000:]
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


def stopped_right_after(emulator, log, action, **extra_vars):
    """Run the network playbook and kill it as soon as it has sent `action` (its answer on the way
    back); the request."""
    emulator.reset_recording()
    extra = json.dumps(dict({"environment_suffix": SUFFIX, "network_az_count": 2, "network_nat_gateways": "single"}, **extra_vars))

    def sent(_log_text):
        return any(c["action"] == action for c in emulator.mutating_requests())

    killed_playbook(PLAYBOOK, log, sent, f"{action} was sent", inventory=INVENTORY, args=["-e", extra], timeout=300)
    [request] = [c for c in emulator.mutating_requests() if c["action"] == action]
    return request


def listed_late(emulator, listings, seconds):
    """EC2 lists the resources of `listings` (Describe actions) made in the last `seconds` late."""
    emulator.realism("config", {"eventual_consistency": {"filter_seconds": seconds, "filter_listings": list(listings)}})


def resumed_listing_late(emulator, listings, *args, seconds=lambda: 3600):
    """run(*args) while EC2 does not list the resources of `listings` made in the last `seconds()`
    (Describe actions; asked again at each look), until the run has repeated a create's client
    token; then listed again. Returns the client_tokens events of the run, and the run. No fixed
    window for a slow machine to miss."""
    mark = len(emulator.realism("events"))
    # Listed from the used token on: the resumed run's waits see it.
    listed = {("client_tokens", "", ""): {"eventual_consistency": {"filter_seconds": 0, "filter_listings": []}}}
    with lifted_when_met(emulator, listed, timeout=300, hold=lambda: listed_late(emulator, listings, seconds())):
        proc, _recap = run(*args)
    return [e["detail"] for e in emulator.realism("events")[mark:] if e["behaviour"] == "client_tokens"], proc


def test_a_run_resumed_before_ec2_lists_the_requested_nat_gateway_makes_no_second_one(realistic_aws, tmp_path):
    ec2 = client("ec2")
    # The create's client token changes with the UTC hour: start away from its turn (both parts
    # take about three minutes).
    now = datetime.datetime.now(datetime.timezone.utc)
    if now.minute >= 56:
        time.sleep((60 - now.minute) * 60 - now.second + 2)

    # A first deploy stopped right after CreateNatGateway. EC2 lists the new gateway, and the new
    # address, only after a while; here not until the resumed run has sent its create. The resumed
    # run sees neither, allocates another address, and repeats the create with the same client
    # token: EC2 refuses the token as used with other parameters.
    late = ["DescribeNatGateways", "DescribeAddresses"]
    listed_late(realistic_aws, late, 3600)
    create = stopped_right_after(realistic_aws, tmp_path / "stopped.log", "CreateNatGateway")
    refused, resumed = resumed_listing_late(realistic_aws, late)
    assert refused == [f"token {create['params']['ClientToken']} used with other parameters"], refused
    # The gateway of the stopped run's request is taken once EC2 lists it; the address the
    # resumed run allocated is named as unused, and released (EC2 bills an idle address).
    text = " ".join((resumed.stdout + resumed.stderr).split())  # warnings go to stderr
    unused = re.search(r"is the one an earlier request made \(a stopped run\); the elastic IP (eipalloc-\w+) was not used and is released", text)
    assert unused and unused.group(1) != create["params"]["AllocationId"], text[-3000:]
    nats, _private, _subnets, routes = layout_in_aws(ec2)
    assert len(nats) == 1 and set(routes.values()) == {nats[0]["NatGatewayId"]}, nats
    assert nats[0]["NatGatewayAddresses"][0]["AllocationId"] == create["params"]["AllocationId"]
    assert [a["AllocationId"] for a in ec2.describe_addresses()["Addresses"]] == [create["params"]["AllocationId"]]

    # The address listed, the gateway not: the gateway deleted by hand (its address given back, as
    # AWS does; moto keeps it associated), a run stopped right after requesting the next one, and
    # resumed. Both reuse an address of the gateway's name; the same request is answered with the
    # stopped run's gateway.
    ec2.delete_nat_gateway(NatGatewayId=nats[0]["NatGatewayId"])
    ec2.disassociate_address(AssociationId=nats[0]["NatGatewayAddresses"][0]["AssociationId"])
    # Only gateways newer than the deleted one are listed late: EC2 lists that one (deleted) by
    # now, and both runs' client tokens count it.
    created = nats[0]["CreateTime"]

    def newer():
        return int((datetime.datetime.now(datetime.timezone.utc) - created).total_seconds()) - 2

    listed_late(realistic_aws, ["DescribeNatGateways"], newer())
    create = stopped_right_after(realistic_aws, tmp_path / "stopped-again.log", "CreateNatGateway")
    repeated, _resumed = resumed_listing_late(realistic_aws, ["DescribeNatGateways"], seconds=newer)
    assert repeated == [f"token {create['params']['ClientToken']} repeated: the first answer"], repeated
    assert not [c for c in realistic_aws.mutating_requests() if c["action"] == "AllocateAddress"]
    nats, _private, _subnets, routes = layout_in_aws(ec2)
    assert len(nats) == 1 and set(routes.values()) == {nats[0]["NatGatewayId"]}, nats
    assert nats[0]["NatGatewayAddresses"][0]["AllocationId"] == create["params"]["AllocationId"]


def test_a_run_resumed_before_ec2_lists_the_requested_vpc_endpoint_makes_no_second_one(realistic_aws, tmp_path):
    # The create's client token changes with the UTC hour: start away from its turn.
    now = datetime.datetime.now(datetime.timezone.utc)
    if now.minute >= 55:
        time.sleep((60 - now.minute) * 60 - now.second + 2)
    # A first deploy with an interface endpoint (billed by the hour per AZ), stopped right after
    # CreateVpcEndpoint. EC2 lists the new endpoint only after a while: here not until the resumed
    # run has asked for it again (the other listings as usual). The resumed run plans the endpoint
    # and repeats the request: EC2 answers with the stopped run's endpoint.
    listed_late(realistic_aws, ["DescribeVpcEndpoints"], 3600)
    endpoints = {"network_vpc_endpoints": ["secretsmanager"]}
    create = stopped_right_after(realistic_aws, tmp_path / "stopped.log", "CreateVpcEndpoint", **endpoints)
    repeated, _resumed = resumed_listing_late(realistic_aws, ["DescribeVpcEndpoints"], "-e", json.dumps(endpoints))
    assert repeated == [f"token {create['params']['ClientToken']} repeated: the first answer"], repeated

    vpc = create["params"]["VpcId"]
    listed = client("ec2").describe_vpc_endpoints(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["VpcEndpoints"]
    assert [(e["ServiceName"], e["State"].lower()) for e in listed] == [(create["params"]["ServiceName"], "available")], listed
