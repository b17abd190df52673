"""Requested VPC endpoints, on the realistic emulator: an interface endpoint gets a security
group of its own that admits HTTPS from the tasks and the migrator only (with private DNS, every
call to the service from the VPC goes through it); a NAT layout change moves the gateway endpoint
to the new route tables in place (AWS refuses a second gateway endpoint of a service on a route
table); endpoint drift made by hand is planned exactly and put back; a re-run writes nothing (a
gateway endpoint's routes do not make it rewrite the route tables); the teardown waits for the
deleted interface endpoint, and a failed endpoint is replaced."""

import json

import pytest

from tests.harness.aws import ROOT, client, lifted_when_met, recap, run_playbook

pytestmark = pytest.mark.slow(seconds=420)

PLAYBOOK = "tests/integration/playbooks/network.yml"
# An endpoint policy narrowed by hand to one bucket's objects.
NARROWED = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                                                               "Resource": "arn:aws:s3:::one-bucket/*"}]})
SUFFIX = "it-vpce"


def check_interface_endpoint_reachable_from_tasks_and_migrator_only(ec2):
    env = [{"Name": "tag:bluegreen:environment", "Values": [SUFFIX]}]
    groups = {g["GroupName"]: g for g in ec2.describe_security_groups(Filters=env)["SecurityGroups"]}
    [interface] = endpoints_of(ec2, "secretsmanager")
    assert [g["GroupId"] for g in interface["Groups"]] == [groups[f"endpoints-{SUFFIX}"]["GroupId"]]
    ingress = groups[f"endpoints-{SUFFIX}"]["IpPermissions"]
    peers = sorted(pair["GroupId"] for rule in ingress for pair in rule.get("UserIdGroupPairs", []))
    assert peers == sorted([groups[f"app-{SUFFIX}"]["GroupId"], groups[f"migrator-{SUFFIX}"]["GroupId"]])
    assert {(r["IpProtocol"], r["FromPort"], r["ToPort"]) for r in ingress} == {("tcp", 443, 443)}
    assert not [r for r in ingress if r.get("IpRanges") or r.get("Ipv6Ranges")]


def endpoints_of(ec2, vpc_service):
    """The live endpoints of one service in the test environment's VPC."""
    vpc = ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": [f"vpc-{SUFFIX}"]}])["Vpcs"][0]["VpcId"]
    found = ec2.describe_vpc_endpoints(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["VpcEndpoints"]
    return [e for e in found if e["State"].lower() in ("available", "pending") and e["ServiceName"] == f"com.amazonaws.us-east-1.{vpc_service}"]


def live_endpoints(ec2, vpc_id):
    """Every endpoint of the VPC, whatever its state, but those deleting or deleted."""
    found = ec2.describe_vpc_endpoints(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["VpcEndpoints"]
    return [e for e in found if e["State"].lower() not in ("deleting", "deleted")]


def route_table_ids(ec2, tier):
    env = [{"Name": "tag:bluegreen:environment", "Values": [SUFFIX]}, {"Name": "tag:bluegreen:tier", "Values": [tier]}]
    return sorted(t["RouteTableId"] for t in ec2.describe_route_tables(Filters=env)["RouteTables"])


def deploy_layout(layout, *args):
    extra = {"environment_suffix": SUFFIX, "network_vpc_endpoints": ["secretsmanager", "s3"], "network_az_count": 2, "network_nat_gateways": layout}
    proc = run_playbook(PLAYBOOK, inventory=ROOT / "inventories" / "local", extra_vars=extra, args=list(args))
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]
    return proc, recap(proc.stdout)["local"]


def test_nat_layout_change_moves_the_gateway_endpoint_and_hand_changes_are_put_back(realistic_aws):
    """Real AWS refuses a second gateway endpoint of a service on a route table (the realistic
    emulator does too): switching to one NAT gateway per AZ moves the S3 endpoint to the new
    private route tables in place. Then endpoint drift made by hand (a route table taken off the
    gateway endpoint and its policy narrowed, another security group on the interface endpoint,
    a tag removed) is named by --check --diff, put back by the next run, and a further run
    writes nothing."""
    ec2 = client("ec2")
    deploy_layout("single")
    check_interface_endpoint_reachable_from_tasks_and_migrator_only(ec2)
    [s3] = endpoints_of(ec2, "s3")
    assert sorted(s3["RouteTableIds"]) == sorted(route_table_ids(ec2, "private") + route_table_ids(ec2, "isolated"))

    deploy_layout("per_az")
    refused = [e for e in realistic_aws.realism("events") if e["behaviour"] == "gateway_endpoint_routes"]
    assert refused == [], refused
    [moved] = endpoints_of(ec2, "s3")
    private = route_table_ids(ec2, "private")
    assert moved["VpcEndpointId"] == s3["VpcEndpointId"] and len(private) == 2
    assert sorted(moved["RouteTableIds"]) == sorted(private + route_table_ids(ec2, "isolated"))

    [interface] = endpoints_of(ec2, "secretsmanager")
    app = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": [f"app-{SUFFIX}"]}])["SecurityGroups"][0]["GroupId"]
    ec2.modify_vpc_endpoint(VpcEndpointId=moved["VpcEndpointId"], RemoveRouteTableIds=[route_table_ids(ec2, "isolated")[0]], PolicyDocument=NARROWED)
    ec2.modify_vpc_endpoint(VpcEndpointId=interface["VpcEndpointId"], AddSecurityGroupIds=[app])
    ec2.delete_tags(Resources=[interface["VpcEndpointId"]], Tags=[{"Key": "bluegreen:component"}])

    realistic_aws.reset_recording()
    planned = deploy_layout("per_az", "--check", "--diff")[0]
    assert realistic_aws.mutating_requests() == [], realistic_aws.mutating_requests()
    text = planned.stdout
    start = text.index("Read the VPC, its internet gateway")
    plan = text[start:text.index("TASK [", start)]
    # Exactly the four changes: the isolated table and the full-access policy back on the S3
    # endpoint, the application's group off the interface endpoint, its tag back.
    marked = sorted(" ".join(line.split()) for line in plan.splitlines() if line[:1] in ("+", "-") and not line.startswith(("---", "+++")))
    # (the narrowed policy is shown as its JSON, which the diff may wrap over several lines)
    policy = [line for line in marked if "policy:" in line or '"' in line]
    assert sorted(set(marked) - set(policy)) == sorted([f"+ - {route_table_ids(ec2, 'isolated')[0]}", f"- - {app}", "+ bluegreen:component: network"]), plan
    assert [line for line in policy if line.startswith("+")] == ["+ policy: full access (AWS's default policy)"], plan
    assert "one-bucket" in "".join(line for line in policy if line.startswith("-")), plan

    realistic_aws.reset_recording()
    assert deploy_layout("per_az")[1]["changed"] == 1
    assert sorted(c["action"] for c in realistic_aws.mutating_requests()) == ["CreateTags", "ModifyVpcEndpoint", "ModifyVpcEndpoint"]
    [s3], [interface] = endpoints_of(ec2, "s3"), endpoints_of(ec2, "secretsmanager")
    assert sorted(s3["RouteTableIds"]) == sorted(private + route_table_ids(ec2, "isolated"))
    assert json.loads(s3["PolicyDocument"])["Statement"] == [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]
    assert [g["GroupName"] for g in interface["Groups"]] == [f"endpoints-{SUFFIX}"]
    assert {t["Key"]: t["Value"] for t in interface["Tags"]}["bluegreen:component"] == "network"

    realistic_aws.reset_recording()
    assert deploy_layout("per_az")[1]["changed"] == 0
    assert [c["action"] for c in realistic_aws.mutating_requests()] == []


def test_a_failed_endpoint_is_replaced_and_the_teardown_waits_for_the_deleted_endpoint_and_outlasts_the_gateway_and_vpc_refusals(realistic_aws):
    """An endpoint can fail after its creation answered (the realistic emulator fails those of
    secretsmanager here, once they have been pending a while): the run waits for it and fails
    naming the error; the next run deletes it, then creates a
    new one (its private DNS name refused while the old one is deleting, and retried), and the
    teardown deletes a failed one too. The interface endpoint's network interfaces hold its subnets and group while
    it is deleting: the teardown waits for it to be gone before deleting those. The NAT gateway's
    public address stays mapped a while after its deletion, and the VPC keeps dependencies a
    while after its subnets': the refused detach of the internet gateway and the refused VPC
    delete are retried. (Not the environment above: moto does not move a gateway endpoint's
    routes with ModifyVpcEndpoint and then refuses to delete it, see docs/real-aws.md.)"""
    ec2 = client("ec2")
    # Pending until the wait has seen it so (however slow the machine), then failed.
    realistic_aws.realism("config", {"endpoint_failures": {"services": ["secretsmanager"]}, "slow_states": {"endpoint_seconds": 3600}})
    extra = {"environment_suffix": SUFFIX, "network_vpc_endpoints": ["secretsmanager"], "network_az_count": 2}
    with lifted_when_met(realistic_aws, {("slow_states", "DescribeVpcEndpoints", " pending"): {"slow_states": {"endpoint_seconds": 8}}}):
        up = run_playbook(PLAYBOOK, inventory=ROOT / "inventories" / "local", extra_vars=extra)
        assert up.returncode != 0 and "VPC endpoint(s) failed" in up.stdout, up.stdout[-4000:]
    [vpc] = ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": [f"vpc-{SUFFIX}"]}])["Vpcs"]
    [failed] = live_endpoints(ec2, vpc["VpcId"])
    assert failed["State"] == "failed" and failed["LastError"]["Code"] == "EmulatedFailure", failed
    text = " ".join(up.stdout.split())
    # AWS answered the create `pending`; the run waited, and stopped once the endpoint had failed.
    pending = [e["action"] for e in realistic_aws.realism("events") if e["detail"] == f"endpoint {failed['VpcEndpointId']} pending"]
    assert pending[:1] == ["CreateVpcEndpoint"], pending
    assert "FAILED - RETRYING: [local]: bluegreen.migration.network : Wait until the VPC endpoints are available" in up.stdout, text[-4000:]
    assert up.returncode != 0 and f"VPC endpoint(s) failed: {failed['VpcEndpointId']} of com.amazonaws.us-east-1.secretsmanager is failed " \
        "(EmulatedFailure: the endpoint failed (emulated))" in text, text[-4000:]

    # The next run: the failed endpoint goes first, then its replacement is created (and fails too,
    # pending the proxy's 8 s first).
    calls, mark = len(realistic_aws.requests()), len(realistic_aws.realism("events"))
    again = run_playbook(PLAYBOOK, inventory=ROOT / "inventories" / "local", extra_vars=extra)
    assert again.returncode != 0 and "is failed (EmulatedFailure" in again.stdout, again.stdout[-4000:]
    refused = [e["detail"] for e in realistic_aws.realism("events")[mark:] if e["behaviour"] == "dependent_drain"]
    assert f"InvalidParameter private DNS of com.amazonaws.us-east-1.secretsmanager (endpoint {failed['VpcEndpointId']} deleting)" in refused, refused
    writes = [(c["action"], c["params"].get("VpcEndpointId.1")) for c in realistic_aws.requests()[calls:] if "VpcEndpoint" in c["action"]
              and not c["action"].startswith("Describe")]
    assert writes == [("DeleteVpcEndpoints", failed["VpcEndpointId"]), ("CreateVpcEndpoint", None)], writes
    [interface] = live_endpoints(ec2, vpc["VpcId"])
    assert interface["VpcEndpointId"] != failed["VpcEndpointId"] and interface["State"] == "failed"

    # The teardown, with the replacement failed too.
    [gateway] = ec2.describe_internet_gateways(Filters=[{"Name": "attachment.vpc-id", "Values": [vpc["VpcId"]]}])["InternetGateways"]
    mark = len(realistic_aws.realism("events"))
    down = run_playbook(PLAYBOOK, inventory=ROOT / "inventories" / "local", extra_vars=dict(extra, network_state="absent"))
    assert down.returncode == 0, down.stdout[-6000:]
    drained = [e["detail"] for e in realistic_aws.realism("events")[mark:] if e["behaviour"] == "dependent_drain"]
    assert f"endpoint {interface['VpcEndpointId']} deleting" in drained, drained
    assert not [d for d in drained if d.startswith(("DependencyViolation subnet-", "DependencyViolation sg-"))], drained
    assert f"DependencyViolation {gateway['InternetGatewayId']} (public addresses mapped in {vpc['VpcId']})" in drained, drained
    assert f"DependencyViolation {vpc['VpcId']} (has dependencies)" in drained, drained
    assert live_endpoints(ec2, vpc["VpcId"]) == []
    assert ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": [f"vpc-{SUFFIX}"]}])["Vpcs"] == []
    assert ec2.describe_internet_gateways(Filters=[{"Name": "internet-gateway-id", "Values": [gateway["InternetGatewayId"]]}])["InternetGateways"] == []
