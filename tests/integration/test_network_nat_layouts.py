"""The network role's NAT layouts on the emulator: per_az gives one NAT gateway and one
private route table per AZ, and switching back to single converges to one of each. Every
NAT gateway's elastic IP carries the environment's tags, and no address is left over.

(A re-run of per_az changing nothing is checked by test_network_endpoints.py, drift made by
hand to the VPC and its internet gateway by test_network_drift.py.)"""

import pytest

from tests.harness.aws import ROOT, client, recap, run_playbook

pytestmark = pytest.mark.slow(seconds=80)

PLAYBOOK = "tests/integration/playbooks/network.yml"
INVENTORY = ROOT / "inventories" / "local"
SUFFIX = "it-nat"


def deploy(layout):
    proc = run_playbook(PLAYBOOK, inventory=INVENTORY, extra_vars={"environment_suffix": SUFFIX, "network_nat_gateways": layout})
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    return recap(proc.stdout)["local"]


def layout_in_aws(ec2):
    env = [{"Name": "tag:bluegreen:environment", "Values": [SUFFIX]}]
    nats = [n for n in ec2.describe_nat_gateways(Filters=env)["NatGateways"] if n["State"] in ("pending", "available")]
    private = ec2.describe_route_tables(Filters=env + [{"Name": "tag:bluegreen:tier", "Values": ["private"]}])["RouteTables"]
    subnets = ec2.describe_subnets(Filters=env + [{"Name": "tag:bluegreen:tier", "Values": ["private"]}])["Subnets"]
    routes = {
        assoc["SubnetId"]: next(r.get("NatGatewayId") for r in table["Routes"] if r.get("DestinationCidrBlock") == "0.0.0.0/0")
        for table in private
        for assoc in table["Associations"]
        if assoc.get("SubnetId")
    }
    return nats, private, subnets, routes


def test_per_az_then_back_to_single(aws):
    ec2 = client("ec2")

    deploy("per_az")
    nats, private, subnets, routes = layout_in_aws(ec2)
    assert len(nats) == 3 and len(private) == 3
    assert len({n["SubnetId"] for n in nats}) == 3
    # every private subnet leaves through the NAT gateway of its own AZ
    nat_zone = {n["NatGatewayId"]: ec2.describe_subnets(SubnetIds=[n["SubnetId"]])["Subnets"][0]["AvailabilityZone"] for n in nats}
    assert {s["SubnetId"]: s["AvailabilityZone"] for s in subnets} == {subnet: nat_zone[nat] for subnet, nat in routes.items()}

    deploy("single")
    nats, private, subnets, routes = layout_in_aws(ec2)
    assert len(nats) == 1 and len(private) == 1
    assert set(routes) == {s["SubnetId"] for s in subnets} and set(routes.values()) == {nats[0]["NatGatewayId"]}
    # Converged: a further run changes nothing.
    assert deploy("single")["changed"] == 0
    # One tagged address, the NAT gateway's; per_az's other two were released with their NATs.
    addresses = ec2.describe_addresses()["Addresses"]
    assert [a["AllocationId"] for a in addresses] == [nats[0]["NatGatewayAddresses"][0]["AllocationId"]]
    assert {t["Key"]: t["Value"] for t in addresses[0]["Tags"]}["bluegreen:environment"] == SUFFIX
