"""ec2_vpc_route on the emulator: one route of a route table created, replaced and deleted,
only planned in check mode, and nothing written when it is already as asked."""

import time

from botocore.exceptions import ClientError

from tests.harness.aws import client, run_module


def network_with_gateways(prefix):
    """A VPC with an internet gateway, a NAT gateway and a route table of its own."""
    ec2 = client("ec2")
    vpc = ec2.create_vpc(CidrBlock=f"{prefix}.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock=f"{prefix}.1.0/24")["Subnet"]["SubnetId"]
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    # On the realistic emulator EC2 may not know the new ids for a moment (as on AWS).
    for attempt in range(20):
        try:
            ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
            break
        except ClientError as e:
            if attempt == 19 or not e.response["Error"]["Code"].endswith(".NotFound"):
                raise
            time.sleep(0.5)
    allocation = ec2.allocate_address(Domain="vpc")["AllocationId"]
    nat = ec2.create_nat_gateway(SubnetId=subnet, AllocationId=allocation)["NatGateway"]["NatGatewayId"]
    table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    return {"vpc": vpc, "igw": igw, "nat": nat, "table": table}


def routes_of(table):
    [found] = client("ec2").describe_route_tables(RouteTableIds=[table])["RouteTables"]
    return dict((r["DestinationCidrBlock"], r.get("NatGatewayId") or r.get("GatewayId")) for r in found["Routes"])


def test_a_route_is_created_replaced_and_deleted_each_once(aws):
    net = network_with_gateways("10.41")
    to_nat = {"route_table_id": net["table"], "destination_cidr_block": "0.0.0.0/0", "nat_gateway_id": net["nat"]}

    aws.reset_recording()
    planned = run_module("ec2_vpc_route", to_nat, check=True, diff=True)
    assert planned["changed"] is True and aws.mutating_requests() == []
    assert planned["diff"]["before"] == {} and planned["diff"]["after"]["nat_gateway_id"] == net["nat"]
    assert "0.0.0.0/0" not in routes_of(net["table"])

    created = run_module("ec2_vpc_route", to_nat, diff=True)
    assert created["changed"] is True, created
    assert [(c["action"], c["params"]["NatGatewayId"]) for c in aws.mutating_requests()] == [("CreateRoute", net["nat"])]
    assert created["route"]["nat_gateway_id"] == net["nat"] and created["route"]["state"] == "active"
    assert routes_of(net["table"])["0.0.0.0/0"] == net["nat"]

    aws.reset_recording()
    again = run_module("ec2_vpc_route", to_nat)
    assert again["changed"] is False and aws.mutating_requests() == [] and again["route"] == created["route"]

    to_igw = {"route_table_id": net["table"], "destination_cidr_block": "0.0.0.0/0", "gateway_id": net["igw"]}
    replaced = run_module("ec2_vpc_route", to_igw, diff=True)
    assert replaced.get("changed") is True, replaced
    assert [c["action"] for c in aws.mutating_requests()] == ["ReplaceRoute"]
    assert (replaced["diff"]["before"]["nat_gateway_id"], replaced["diff"]["after"]["gateway_id"]) == (net["nat"], net["igw"])
    assert routes_of(net["table"])["0.0.0.0/0"] == net["igw"]

    aws.reset_recording()
    gone = {"route_table_id": net["table"], "destination_cidr_block": "0.0.0.0/0", "state": "absent"}
    assert run_module("ec2_vpc_route", gone, check=True)["changed"] is True and aws.mutating_requests() == []
    deleted = run_module("ec2_vpc_route", gone)
    assert deleted["changed"] is True and deleted["route"] is None and [c["action"] for c in aws.mutating_requests()] == ["DeleteRoute"]
    assert "0.0.0.0/0" not in routes_of(net["table"])
    assert run_module("ec2_vpc_route", gone)["changed"] is False


def test_bad_input_and_the_local_route_are_refused_before_any_write(aws):
    net = network_with_gateways("10.42")
    aws.reset_recording()
    local = run_module("ec2_vpc_route", {"route_table_id": net["table"], "destination_cidr_block": "10.42.0.0/16", "gateway_id": net["igw"]})
    assert local.get("failed") is True and "the VPC's local route" in local["msg"], local
    missing = run_module("ec2_vpc_route", {"route_table_id": "rtb-00000000000000000", "destination_cidr_block": "0.0.0.0/0", "gateway_id": net["igw"]})
    assert missing.get("failed") is True and "rtb-00000000000000000: no such route table" in missing["msg"], missing
    no_target = run_module("ec2_vpc_route", {"route_table_id": net["table"], "destination_cidr_block": "0.0.0.0/0"})
    assert no_target.get("failed") is True and "nat_gateway_id, gateway_id" in no_target["msg"], no_target
    assert aws.mutating_requests() == []


def test_a_create_that_finds_the_route_replaces_it_and_a_delete_that_finds_none_is_done(aws):
    """What a retried request or a concurrent change leaves between the module's read and its
    write: CreateRoute answered RouteAlreadyExists becomes a ReplaceRoute to the wanted target,
    and a DeleteRoute answered InvalidRoute.NotFound counts as done."""
    from ansible_collections.bluegreen.migration.plugins.module_utils import network

    net = network_with_gateways("10.44")
    ec2 = client("ec2")
    ec2.create_route(RouteTableId=net["table"], DestinationCidrBlock="0.0.0.0/0", GatewayId=net["igw"])
    aws.reset_recording()
    network.write_route(ec2, "create_route", net["table"], "0.0.0.0/0", {"NatGatewayId": net["nat"]})
    assert [c["action"] for c in aws.mutating_requests()] == ["CreateRoute", "ReplaceRoute"]
    assert routes_of(net["table"])["0.0.0.0/0"] == net["nat"]

    ec2.delete_route(RouteTableId=net["table"], DestinationCidrBlock="0.0.0.0/0")
    assert network.delete_route(ec2, net["table"], "0.0.0.0/0") is False
