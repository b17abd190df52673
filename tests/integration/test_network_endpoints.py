"""Requested VPC endpoints on the emulator: an interface endpoint gets a security group of its
own that admits HTTPS from the tasks and the migrator only (with private DNS, every call to the
service from the VPC goes through it), a gateway endpoint's routes do not make the next run
rewrite the route tables, and a re-run changes nothing."""

import pytest

from tests.harness.aws import ROOT, client, recap, run_playbook

pytestmark = pytest.mark.slow(seconds=40)

PLAYBOOK = "tests/integration/playbooks/network.yml"
SUFFIX = "it-vpce"


def deploy():
    proc = run_playbook(
        PLAYBOOK,
        inventory=ROOT / "inventories" / "local",
        extra_vars={"environment_suffix": SUFFIX, "network_vpc_endpoints": ["secretsmanager", "s3"], "network_az_count": 2},
    )
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]
    return recap(proc.stdout)["local"]


def test_interface_endpoint_reachable_from_tasks_and_migrator_only(aws):
    deploy()
    ec2 = client("ec2")
    env = [{"Name": "tag:bluegreen:environment", "Values": [SUFFIX]}]
    groups = {g["GroupName"]: g for g in ec2.describe_security_groups(Filters=env)["SecurityGroups"]}
    endpoints = [e for e in ec2.describe_vpc_endpoints()["VpcEndpoints"] if e["State"].lower() in ("available", "pending")]
    interface = [e for e in endpoints if e["VpcEndpointType"] == "Interface"]
    assert [e["ServiceName"] for e in interface] == ["com.amazonaws.us-east-1.secretsmanager"]
    assert [g["GroupId"] for g in interface[0]["Groups"]] == [groups[f"endpoints-{SUFFIX}"]["GroupId"]]

    ingress = groups[f"endpoints-{SUFFIX}"]["IpPermissions"]
    peers = sorted(pair["GroupId"] for rule in ingress for pair in rule.get("UserIdGroupPairs", []))
    assert peers == sorted([groups[f"app-{SUFFIX}"]["GroupId"], groups[f"migrator-{SUFFIX}"]["GroupId"]])
    assert {(r["IpProtocol"], r["FromPort"], r["ToPort"]) for r in ingress} == {("tcp", 443, 443)}
    assert not [r for r in ingress if r.get("IpRanges") or r.get("Ipv6Ranges")]
    # The application's own group no longer stands in for the endpoint's.
    assert groups[f"app-{SUFFIX}"]["GroupId"] not in [g["GroupId"] for g in interface[0]["Groups"]]

    aws.reset_recording()
    assert deploy()["changed"] == 0
    writes = [c["action"] for c in aws.mutating_requests()]
    assert writes == [], writes
