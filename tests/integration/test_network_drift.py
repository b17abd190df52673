"""The network role on the emulator, one network for the module (a deploy is the most expensive
step of each test): each test starts from the network the previous one left.

NAT layouts: per_az gives one NAT gateway and one private route table per AZ, and switching back
to single converges to one of each. Every NAT gateway's elastic IP carries the environment's
tags, and no address is left over. (A re-run of per_az changing nothing is checked by
test_network_endpoints.py.)

Drift: a security group rule, a route, a subnet attribute, a route table's and the internet
gateway's tags and the VPC's DNS hostnames changed by hand. `--check --diff` names exactly those
six changes (before and after) and writes nothing (so the single layout the first test left was
converged); the next run puts them back; then the plan is empty and a re-run changes nothing. A
run that fails between the role's two passes leaves none of its background writes running. A
subnet moved to a foreign route table is moved back in one run."""

import json

import pytest

from tests.harness.aws import ROOT, client, recap, run_playbook

pytestmark = pytest.mark.slow(seconds=160)

PLAYBOOK = "tests/integration/playbooks/network.yml"
FAILS_BETWEEN_PASSES = "tests/integration/playbooks/network_fails_between_passes.yml"
INVENTORY = ROOT / "inventories" / "local"
SUFFIX = "it-drift"


def run(*args, nat_gateways="single"):
    extra_vars = {"environment_suffix": SUFFIX, "network_az_count": 2, "network_nat_gateways": nat_gateways}
    proc = run_playbook(PLAYBOOK, inventory=INVENTORY, extra_vars=extra_vars, args=list(args))
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    return proc, recap(proc.stdout)["local"]


def diff_lines(stdout):
    """The +/- lines of every diff the run printed, whitespace squeezed."""
    marked = [line for line in stdout.splitlines() if line[:1] in ("+", "-") and not line.startswith(("---", "+++"))]
    return sorted(" ".join(line.split()) for line in marked)


def one(items):
    assert len(items) == 1, items
    return items[0]


def by_name(kind, name):
    ec2 = client("ec2")
    call, key = {"sg": (ec2.describe_security_groups, "SecurityGroups"), "subnet": (ec2.describe_subnets, "Subnets"),
                 "rt": (ec2.describe_route_tables, "RouteTables"), "vpc": (ec2.describe_vpcs, "Vpcs")}[kind]
    return one(call(Filters=[{"Name": "tag:Name", "Values": [name]}])[key])


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


@pytest.fixture(scope="module")
def network(emulator):
    """A fresh account with the network deployed once, a NAT gateway per AZ; yields the emulator."""
    emulator.reset()
    run(nat_gateways="per_az")
    return emulator


def test_per_az_then_back_to_single(network):
    ec2 = client("ec2")
    nats, private, subnets, routes = layout_in_aws(ec2)
    assert len(nats) == 2 and len(private) == 2
    assert len({n["SubnetId"] for n in nats}) == 2
    # every private subnet leaves through the NAT gateway of its own AZ
    nat_zone = {n["NatGatewayId"]: ec2.describe_subnets(SubnetIds=[n["SubnetId"]])["Subnets"][0]["AvailabilityZone"] for n in nats}
    assert {s["SubnetId"]: s["AvailabilityZone"] for s in subnets} == {subnet: nat_zone[nat] for subnet, nat in routes.items()}

    run()
    nats, private, subnets, routes = layout_in_aws(ec2)
    assert len(nats) == 1 and len(private) == 1
    assert set(routes) == {s["SubnetId"] for s in subnets} and set(routes.values()) == {nats[0]["NatGatewayId"]}
    # One tagged address, the NAT gateway's; per_az's other one was released with its NAT gateway.
    addresses = ec2.describe_addresses()["Addresses"]
    assert [a["AllocationId"] for a in addresses] == [nats[0]["NatGatewayAddresses"][0]["AllocationId"]]
    assert {t["Key"]: t["Value"] for t in addresses[0]["Tags"]}["bluegreen:environment"] == SUFFIX


def test_drift_is_planned_exactly_then_put_back(network):
    aws = network  # the emulator, the network deployed on it
    ec2 = client("ec2")
    app = by_name("sg", f"app-{SUFFIX}")
    ssh = {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
    ec2.authorize_security_group_ingress(GroupId=app["GroupId"], IpPermissions=[ssh])
    subnet = by_name("subnet", f"isolated-a-{SUFFIX}")
    ec2.modify_subnet_attribute(SubnetId=subnet["SubnetId"], MapPublicIpOnLaunch={"Value": True})
    isolated = by_name("rt", f"rt-isolated-{SUFFIX}")
    igw = one(ec2.describe_internet_gateways(Filters=[{"Name": "tag:bluegreen:environment", "Values": [SUFFIX]}])["InternetGateways"])["InternetGatewayId"]
    ec2.create_route(RouteTableId=isolated["RouteTableId"], DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    public = by_name("rt", f"rt-public-{SUFFIX}")
    ec2.delete_tags(Resources=[public["RouteTableId"]], Tags=[{"Key": "bluegreen:tier"}])
    vpc = by_name("vpc", f"vpc-{SUFFIX}")["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": False})
    ec2.delete_tags(Resources=[igw], Tags=[{"Key": "bluegreen:component"}])

    aws.reset_recording()
    planned, counts = run("--check", "--diff")
    assert aws.mutating_requests() == [], aws.mutating_requests()
    text = planned.stdout
    plan = text[text.index("Read the VPC, its internet gateway"):text.index("Create the VPC or fix")]
    plan += text[text.index("Read the route tables and security groups and plan what differs"):text.index("Start creating or fixing the route tables")]
    assert diff_lines(plan) == sorted([
        "- map_public_ip_on_launch: true", "+ map_public_ip_on_launch: false",
        f"- - 0.0.0.0/0 -> {igw}", "+ routes: []", "- routes:",
        "- - tcp 22-22 0.0.0.0/0",
        "+ bluegreen:tier: public",
        "- enable_dns_hostnames: false", "+ enable_dns_hostnames: true",
        "+ bluegreen:component: network",
    ]), plan
    for name in (f"subnet isolated-a-{SUFFIX}:", f"route table rt-isolated-{SUFFIX}:", f"security group app-{SUFFIX}:", f"route table rt-public-{SUFFIX}:",
                 f"vpc vpc-{SUFFIX}:", f"internet gateway igw-{SUFFIX}:"):
        assert name in plan, plan
    assert f"security group alb-{SUFFIX}" not in plan and f"subnet public-a-{SUFFIX}" not in plan, plan

    fixed, counts = run()
    assert counts["changed"] > 0
    assert not by_name("subnet", f"isolated-a-{SUFFIX}")["MapPublicIpOnLaunch"]
    assert [r for r in by_name("rt", f"rt-isolated-{SUFFIX}")["Routes"] if r.get("GatewayId") != "local"] == []
    assert all(p["FromPort"] != 22 for p in by_name("sg", f"app-{SUFFIX}")["IpPermissions"])
    assert {"Key": "bluegreen:tier", "Value": "public"} in by_name("rt", f"rt-public-{SUFFIX}")["Tags"]
    assert ec2.describe_vpc_attribute(VpcId=vpc, Attribute="enableDnsHostnames")["EnableDnsHostnames"]["Value"] is True
    igw_tags = one(ec2.describe_internet_gateways(InternetGatewayIds=[igw])["InternetGateways"])["Tags"]
    assert {"Key": "bluegreen:component", "Value": "network"} in igw_tags

    aws.reset_recording()
    again, counts = run("--check", "--diff")
    assert counts["changed"] == 0 and diff_lines(again.stdout) == [], again.stdout[-4000:]
    again, counts = run()
    assert counts["changed"] == 0 and aws.mutating_requests() == []


def test_a_run_failing_between_the_passes_leaves_no_write_running(network, tmp_path):
    """The first pass leaves its route table and rule writes running (site.yml requests Aurora
    meanwhile); a run that fails before the second pass lets them finish before it ends (and
    releases its lock), so when it exits no job is still writing and the next run has nothing
    left to do."""
    ec2 = client("ec2")
    public = by_name("rt", f"rt-public-{SUFFIX}")
    ec2.delete_route(RouteTableId=public["RouteTableId"], DestinationCidrBlock="0.0.0.0/0")
    app = by_name("sg", f"app-{SUFFIX}")
    ssh = {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
    ec2.authorize_security_group_ingress(GroupId=app["GroupId"], IpPermissions=[ssh])

    jobs = tmp_path / "async"
    extra_vars = {"environment_suffix": SUFFIX, "network_az_count": 2, "network_nat_gateways": "single"}
    proc = run_playbook(FAILS_BETWEEN_PASSES, inventory=INVENTORY, extra_vars=extra_vars, env={"ANSIBLE_ASYNC_DIR": str(jobs)})
    assert proc.returncode != 0 and "failed between the network's passes" in proc.stdout, proc.stdout[-4000:]
    # a job's file holds {"started": 1, "finished": 0} until the module has answered
    results = {path.name: json.loads(path.read_text()) for path in jobs.iterdir() if path.is_file()}
    assert len(results) >= 2, results  # the public table's and the app group's
    assert [jid for jid, result in results.items() if result.get("started") and not result.get("finished")] == [], results

    rerun, counts = run()
    assert counts["changed"] == 0, rerun.stdout[-4000:]
    assert any(r.get("GatewayId", "").startswith("igw-") for r in by_name("rt", f"rt-public-{SUFFIX}")["Routes"])
    assert all(p["FromPort"] != 22 for p in by_name("sg", f"app-{SUFFIX}")["IpPermissions"])


def test_a_subnet_moved_to_a_foreign_table_is_moved_back_in_one_run(network):
    # amazon.aws.ec2_vpc_route_table only disassociates a subnet it takes from another table:
    # the role associates it in the same run (not only after a NAT layout switch).
    ec2 = client("ec2")
    vpc = by_name("vpc", f"vpc-{SUFFIX}")["VpcId"]
    subnet = by_name("subnet", f"isolated-a-{SUFFIX}")["SubnetId"]
    isolated = by_name("rt", f"rt-isolated-{SUFFIX}")
    association = one([a for a in isolated["Associations"] if a.get("SubnetId") == subnet])["RouteTableAssociationId"]
    foreign = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.replace_route_table_association(AssociationId=association, RouteTableId=foreign)

    fixed, counts = run()
    assert counts["changed"] > 0
    assert subnet in [a.get("SubnetId") for a in by_name("rt", f"rt-isolated-{SUFFIX}")["Associations"]]
    assert ec2.describe_route_tables(RouteTableIds=[foreign])["RouteTables"][0]["Associations"] == []
    again, counts = run()
    assert counts["changed"] == 0, again.stdout[-4000:]
