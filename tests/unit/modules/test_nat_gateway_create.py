"""nat_gateway_create on the realistic emulator, which keeps EC2's client tokens (moto makes a
gateway per request): a create repeated by a resumed run answers with the gateway the stopped run
requested, a token used with another address waits for that gateway to be listed, and check
mode and a missing address make no call."""

import datetime

import boto3
import pytest
from botocore.stub import ANY, Stubber

from ansible_collections.bluegreen.migration.plugins.module_utils import network
from tests.harness.aws import client, run_module
from tests.harness.module_stub import Ended, StubModule

pytestmark = pytest.mark.slow(seconds=30)


def events(emulator, behaviour):
    return [e["detail"] for e in emulator.realism("events") if e["behaviour"] == behaviour]


@pytest.fixture
def vpc_and_subnet(realistic_aws):
    realistic_aws.realism("config", {"throttling": {"enabled": False}})
    ec2 = client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.41.0.0/16")["Vpc"]["VpcId"]
    return vpc, ec2.create_subnet(VpcId=vpc, CidrBlock="10.41.1.0/24")["Subnet"]["SubnetId"]


@pytest.fixture
def subnet(vpc_and_subnet):
    return vpc_and_subnet[1]


def live_gateways(emulator, subnet_id):
    """The subnet's pending or available gateways, the listing delay over (a second one would show)."""
    emulator.realism("config", {"eventual_consistency": {"filter_seconds": 0}})
    answer = client("ec2").describe_nat_gateways(Filters=[{"Name": "subnet-id", "Values": [subnet_id]}])["NatGateways"]
    return sorted(n["NatGatewayId"] for n in answer if n["SubnetId"] == subnet_id and n["State"] in ("pending", "available"))


def test_a_repeated_create_answers_with_the_first_gateway(realistic_aws, subnet):
    ec2 = client("ec2")
    address = ec2.allocate_address(Domain="vpc")["AllocationId"]
    args = {"subnet_id": subnet, "allocation_id": address, "listed_nat_gateway_ids": [], "tags": {"Name": "nat-a-t", "bluegreen:environment": "t"}}

    realistic_aws.reset_recording()
    planned = run_module("nat_gateway_create", args, check=True, diff=True)
    assert planned["changed"] is True and planned["nat_gateway_id"] == "(known after create)" and realistic_aws.mutating_requests() == []
    assert planned["diff"]["after"] == {"subnet_id": subnet, "allocation_id": address, "tags": args["tags"]}

    made = run_module("nat_gateway_create", args)
    assert made["changed"] is True and made["state"] == "pending" and made["allocation_id"] == address, made
    [create] = realistic_aws.mutating_requests()
    assert create["action"] == "CreateNatGateway" and create["params"]["ClientToken"] == made["client_token"]
    assert made["client_token"].startswith("bluegreen-") and len(made["client_token"]) <= 64 and made["tags"]["Name"] == "nat-a-t"

    # A resumed run makes the same request: the proxy answers as EC2 does, with the first gateway.
    again = run_module("nat_gateway_create", args)
    assert again["nat_gateway_id"] == made["nat_gateway_id"] and again["client_token"] == made["client_token"], again
    assert events(realistic_aws, "client_tokens") == [f"token {made['client_token']} repeated: the first answer"]
    assert live_gateways(realistic_aws, subnet) == [made["nat_gateway_id"]]

    # Once that gateway is listed (here as if it had failed), the token is another: a new gateway.
    fresh = ec2.allocate_address(Domain="vpc")["AllocationId"]
    other = run_module("nat_gateway_create", dict(args, allocation_id=fresh, listed_nat_gateway_ids=[made["nat_gateway_id"]]))
    assert other["client_token"] != made["client_token"] and other["nat_gateway_id"] != made["nat_gateway_id"], other


def test_the_token_used_with_another_address_gets_the_earlier_gateway_once_listed(realistic_aws, subnet):
    ec2 = client("ec2")
    first, second = (ec2.allocate_address(Domain="vpc")["AllocationId"] for _address in range(2))
    args = {"subnet_id": subnet, "allocation_id": first, "tags": {"Name": "nat-a-t"}}
    made = run_module("nat_gateway_create", args)
    # The resumed run did not see the stopped run's address (a lagging listing) and allocated another.
    got = run_module("nat_gateway_create", dict(args, allocation_id=second))
    assert got["nat_gateway_id"] == made["nat_gateway_id"] and got["allocation_id"] == first, got
    assert events(realistic_aws, "client_tokens") == [f"token {made['client_token']} used with other parameters"]
    assert [w for w in got.get("warnings", []) if f"the elastic IP {second} was not used (teardown releases it)" in str(w)], got
    assert "released_allocation_id" not in got
    assert live_gateways(realistic_aws, subnet) == [made["nat_gateway_id"]]
    # Not asked to release it (an address allocated elsewhere may be allow-listed): it stays.
    assert [a["AllocationId"] for a in ec2.describe_addresses(AllocationIds=[second])["Addresses"]] == [second]

    # Asked to (the role allocated it for this gateway): given back, and nothing else is.
    third = ec2.allocate_address(Domain="vpc")["AllocationId"]
    realistic_aws.reset_recording()
    got = run_module("nat_gateway_create", dict(args, allocation_id=third, release_unused_address=True))
    assert got["nat_gateway_id"] == made["nat_gateway_id"] and got["released_allocation_id"] == third, got
    assert [w for w in got.get("warnings", []) if f"the elastic IP {third} was not used and is released" in str(w)], got
    released = [c["params"].get("AllocationId") for c in realistic_aws.mutating_requests() if c["action"] == "ReleaseAddress"]
    assert released == [third], released
    left = {a["AllocationId"] for a in ec2.describe_addresses()["Addresses"]}
    assert third not in left and {first, second} <= left, left


def test_an_unused_address_is_released_only_when_nothing_holds_it():
    """release_unassociated_address gives back an address with no association; one associated
    (with anything) is kept, and a refused release is reported, not raised."""
    ec2 = boto3.client("ec2", region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s")  # noqa: S106 (stubbed, never sent)
    by_id = {"AllocationIds": ["eipalloc-1"]}
    with Stubber(ec2) as stub:
        stub.add_response("describe_addresses", {"Addresses": [{"AllocationId": "eipalloc-1", "PublicIp": "203.0.113.7"}]}, by_id)
        stub.add_response("release_address", {}, {"AllocationId": "eipalloc-1"})
        assert network.release_unassociated_address(ec2, "eipalloc-1") is None
        stub.assert_no_pending_responses()
    with Stubber(ec2) as stub:
        held = {"AllocationId": "eipalloc-1", "AssociationId": "eipassoc-9", "NetworkInterfaceId": "eni-9"}
        stub.add_response("describe_addresses", {"Addresses": [held]}, by_id)
        assert network.release_unassociated_address(ec2, "eipalloc-1") == "it is associated (eipassoc-9)"
        stub.assert_no_pending_responses()
    with Stubber(ec2) as stub:
        stub.add_response("describe_addresses", {"Addresses": [{"AllocationId": "eipalloc-1"}]}, by_id)
        stub.add_client_error("release_address", "AuthFailure", "You do not have permission to access the specified resource.", 400)
        kept = network.release_unassociated_address(ec2, "eipalloc-1")
        assert kept.startswith("releasing it failed (teardown releases it):") and "AuthFailure" in kept, kept
    # Gone already: not listed, or released by a try answered late (its retry finds no address).
    with Stubber(ec2) as stub:
        stub.add_response("describe_addresses", {"Addresses": []}, by_id)
        assert network.release_unassociated_address(ec2, "eipalloc-1") is None
        stub.add_response("describe_addresses", {"Addresses": [{"AllocationId": "eipalloc-1"}]}, by_id)
        stub.add_client_error("release_address", "InvalidAllocationID.NotFound", "The allocation ID 'eipalloc-1' does not exist", 400)
        assert network.release_unassociated_address(ec2, "eipalloc-1") is None
        stub.assert_no_pending_responses()


def test_an_address_is_required_outside_check_mode(realistic_aws, subnet):
    realistic_aws.reset_recording()
    failed = run_module("nat_gateway_create", {"subnet_id": subnet})
    assert failed["failed"] and "allocation_id is required" in failed["msg"] and realistic_aws.mutating_requests() == []


def stub_module(**params):
    return StubModule(dict({"listed_nat_gateway_ids": [], "client_token": None, "tags": {"Name": "nat-a-t"}, "wait_timeout": 10}, **params))


def nat_answer(nat_id, state):
    return {"NatGateway": {"NatGatewayId": nat_id, "SubnetId": "subnet-1", "VpcId": "vpc-1", "State": state,
                           "NatGatewayAddresses": [{"AllocationId": "eipalloc-1"}], "Tags": [{"Key": "Name", "Value": "nat-a-t"}]}}


def test_a_gone_gateway_answered_for_the_token_is_requested_again_with_a_token_that_counts_it():
    """EC2 answers a repeated token with the gateway as it is now: one deleted since (dropped out of
    the listing the plan read) makes the module ask again with that gateway counted as listed."""
    from ansible_collections.bluegreen.migration.plugins.modules.nat_gateway_create import ensure

    ec2 = boto3.client("ec2", region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s")  # noqa: S106 (stubbed, never sent)
    tokens = []

    def record(params, **_kwargs):
        tokens.append(params["ClientToken"])

    ec2.meta.events.register("provide-client-params.ec2.CreateNatGateway", record)
    expected = {"SubnetId": "subnet-1", "AllocationId": "eipalloc-1", "ConnectivityType": "public", "ClientToken": ANY, "TagSpecifications": ANY}
    with Stubber(ec2) as stub:
        stub.add_response("create_nat_gateway", nat_answer("nat-0old", "deleted"), expected)
        stub.add_response("create_nat_gateway", nat_answer("nat-0new", "pending"), expected)
        module = stub_module(subnet_id="subnet-1", allocation_id="eipalloc-1")
        hours = [datetime.datetime.now(datetime.timezone.utc)]
        with pytest.raises(Ended):
            ensure(module, ec2)
        hours.append(datetime.datetime.now(datetime.timezone.utc))
        stub.assert_no_pending_responses()
    assert module.result["nat_gateway_id"] == "nat-0new" and module.result["changed"] is True, module.result
    assert tokens in [[network.nat_client_token("nat-a-t", "subnet-1", listed, hour) for listed in ([], ["nat-0old"])] for hour in hours]
    assert module.result["client_token"] == tokens[1]

    # Gone again and again: the module stops, naming the gateway and its state.
    with Stubber(ec2) as stub:
        for number in range(4):
            stub.add_response("create_nat_gateway", nat_answer("nat-0gone%d" % number, "failed"), expected)
        module = stub_module(subnet_id="subnet-1", allocation_id="eipalloc-1")
        with pytest.raises(Ended):
            ensure(module, ec2)
    assert module.result["failed"] and "answered with the NAT gateway nat-0gone3, failed" in module.result["msg"], module.result


def test_an_address_associated_with_anything_but_a_gateway_of_the_vpc_is_not_reused(realistic_aws, vpc_and_subnet):
    """The plan's read: an address of the gateway's name associated with a NAT gateway's interface
    in the VPC (one EC2 does not list as a gateway yet) may be reused, one on a plain interface not."""
    ec2 = client("ec2")
    vpc, subnet = vpc_and_subnet
    realistic_aws.realism("config", {"eventual_consistency": {"filter_seconds": 0}})  # the reads below list what was just made
    named = [{"ResourceType": "elastic-ip", "Tags": [{"Key": "Name", "Value": "eip-nat-a-t"}]}]
    on_gateway, on_interface = (ec2.allocate_address(Domain="vpc", TagSpecifications=named)["AllocationId"] for _address in range(2))
    run_module("nat_gateway_create", {"subnet_id": subnet, "allocation_id": on_gateway, "tags": {"Name": "nat-a-t"}})
    interface = ec2.create_network_interface(SubnetId=subnet)["NetworkInterface"]["NetworkInterfaceId"]
    ec2.associate_address(AllocationId=on_interface, NetworkInterfaceId=interface)

    found = dict((a["allocation_id"], a) for a in network.read_addresses(ec2, vpc, ["eip-nat-a-t"]))
    assert (found[on_gateway]["taken_elsewhere"], found[on_interface]["taken_elsewhere"]) == (False, True), found
    assert [e for e in events(realistic_aws, "nat_interfaces") if e.endswith("of " + live_gateways(realistic_aws, subnet)[0])]
    # The gateway not listed yet (no listed gateway holds the address): its address is the one reused.
    assert network.nat_address("eip-nat-a-t", list(found.values()), []) == on_gateway
    # Another VPC's gateway: taken elsewhere.
    assert not [a for a in network.read_addresses(ec2, "vpc-other", ["eip-nat-a-t"]) if not a["taken_elsewhere"]]


def test_the_address_refused_as_associated_gets_the_gateway_of_the_earlier_request(monkeypatch):
    """A run resumed across the turn of the UTC hour makes another token; with the stopped run's
    address EC2 refuses the create (Resource.AlreadyAssociated), and the module takes the gateway
    of the earlier request once EC2 lists it. One answered deleting fails, holding the address."""
    from ansible_collections.bluegreen.migration.plugins.modules import nat_gateway_create

    ec2 = boto3.client("ec2", region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s")  # noqa: S106 (stubbed, never sent)
    expected = {"SubnetId": "subnet-1", "AllocationId": "eipalloc-1", "ConnectivityType": "public", "ClientToken": ANY, "TagSpecifications": ANY}
    listing = {"Filters": [{"Name": "subnet-id", "Values": ["subnet-1"]}]}
    with Stubber(ec2) as stub:
        stub.add_client_error("create_nat_gateway", "Resource.AlreadyAssociated", "Resource 203.0.113.7 is already associated.", 400, expected)
        stub.add_response("describe_nat_gateways", {"NatGateways": []}, listing)
        stub.add_response("describe_nat_gateways", {"NatGateways": [nat_answer("nat-0earlier", "pending")["NatGateway"]]}, listing)
        module = stub_module(subnet_id="subnet-1", allocation_id="eipalloc-1")
        monkeypatch.setattr(nat_gateway_create, "POLL_SECONDS", 0)
        with pytest.raises(Ended):
            nat_gateway_create.ensure(module, ec2)
        stub.assert_no_pending_responses()
    # Its address is the one given: no address goes unused, so no warning.
    assert module.result["nat_gateway_id"] == "nat-0earlier" and module.warnings == [], module.result

    with Stubber(ec2) as stub:
        stub.add_response("create_nat_gateway", nat_answer("nat-0going", "deleting"), expected)
        module = stub_module(subnet_id="subnet-1", allocation_id="eipalloc-1")
        with pytest.raises(Ended):
            nat_gateway_create.ensure(module, ec2)
    assert module.result["failed"] and "nat-0going, deleting" in module.result["msg"] and "holds the elastic IP eipalloc-1" in module.result["msg"]
