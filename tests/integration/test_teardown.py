"""One environment's whole life on the emulator, at -vvv: deploy (site.yml), re-run (changed=0),
a rollout, the outputs, a refused teardown (no confirmation: no AWS call), a teardown held by a
Lambda network interface (a bounded, visible wait, then a clear failure), the teardown proper
(nothing tagged with the suffix remains in any service) and a second one (no-op). Throughout,
the generated database password never leaves Secrets Manager: not in any output, file, Lambda
environment, task definition or API call but those that store it.
Also: teardown finishes the job after a deploy killed halfway."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import ipaddress

import jsonschema
import pytest

from tests.harness.aws import ROOT, client, kill_playbook, recap, run_playbook

pytestmark = pytest.mark.slow(seconds=350)

INVENTORY = "inventories/local"
SUFFIX = "local"
TEARDOWN = "playbooks/teardown.yml"
ROLLOUT = "playbooks/rollout.yml"
VERBOSE = ["-vvv", "--diff"]
# What the migrator answers (moto's simple Lambda backend does not run it): all applied.
MIGRATOR_OK = {"ok": True, "action": "apply", "status": "up_to_date", "applied": [], "current_version": 4}
SCHEMA = json.loads((ROOT / "tests" / "schemas" / "outputs.schema.json").read_text())
TAG = {"Name": "tag:bluegreen:environment", "Values": [SUFFIX]}


def ok(proc):
    assert proc.returncode == 0, proc.stdout[-8000:] + proc.stderr[-3000:]
    return recap(proc.stdout)[SUFFIX]


def teardown(outputs_dir, args=(), **extra):
    return run_playbook(TEARDOWN, INVENTORY, extra_vars={"outputs_dir": str(outputs_dir), **extra}, args=args)


def logged(proc, what, logs):
    """Keep a run's whole output (for the password check) and return its recap counts."""
    logs[what] = proc.stdout + proc.stderr
    # -vvv really was verbose, so the password check means something.
    assert "ESTABLISH LOCAL CONNECTION" in logs[what], what
    return ok(proc)


def ready_for_a_rollout(emulator):
    """What the emulator cannot do by itself: healthy targets for both colours, migrator answers."""
    ec2, elb = client("ec2"), client("elbv2")
    private = ec2.describe_subnets(Filters=[TAG, {"Name": "tag:bluegreen:tier", "Values": ["private"]}])["Subnets"]
    for offset, color in enumerate(("blue", "green")):
        arn = elb.describe_target_groups(Names=[f"app-{color}-{SUFFIX}"])["TargetGroups"][0]["TargetGroupArn"]
        ips = [str(ipaddress.ip_network(s["CidrBlock"])[10 + offset]) for s in private[:2]]
        elb.register_targets(TargetGroupArn=arn, Targets=[{"Id": ip, "Port": 80} for ip in ips])
    emulator.queue_lambda_answers(MIGRATOR_OK, 12)


def the_password():
    sm = client("secretsmanager")
    secrets = sm.list_secrets()["SecretList"]
    assert len(secrets) == 1
    password = json.loads(sm.get_secret_value(SecretId=secrets[0]["ARN"])["SecretString"])["password"]
    assert len(password) >= 16
    return secrets[0]["ARN"], password


def assert_password_stays_in_secrets_manager(emulator, secret_arn, password, outputs):
    """Not in the Lambda's environment, any task definition, any API call but those that store
    it, or any file under outputs/."""
    lam = client("lambda")
    functions = lam.list_functions()["Functions"]
    assert len(functions) == 1
    assert password not in json.dumps(functions[0].get("Environment", {}).get("Variables", {}))
    assert password not in json.dumps(lam.get_function_configuration(FunctionName=functions[0]["FunctionName"]), default=str)

    # Every task definition revision (blue, green, rollout): the secret only by ARN, via valueFrom.
    ecs = client("ecs")
    arns = ecs.list_task_definitions()["taskDefinitionArns"]
    assert arns
    for arn in arns:
        definition = ecs.describe_task_definition(taskDefinition=arn)["taskDefinition"]
        assert password not in json.dumps(definition, default=str), arn
        for container in definition["containerDefinitions"]:
            assert all(e["name"] != "DB_PASSWORD" for e in container.get("environment", [])), arn
            for secret in container.get("secrets", []):
                assert secret["valueFrom"].startswith(secret_arn), (arn, secret)

    stored = {(c["service"], c["action"]) for c in emulator.requests() if password in json.dumps(c["params"])}
    assert stored <= {("secretsmanager", "CreateSecret"), ("secretsmanager", "PutSecretValue"), ("rds", "CreateDBCluster"), ("rds", "ModifyDBCluster")}, stored

    files = sorted(p for p in outputs.rglob("*") if p.is_file())
    assert files, "the deploy wrote no outputs"
    for path in files:
        assert password not in path.read_text(), path


def resource_id(arn):
    """The id at the end of an ARN (natgateway/nat-1 -> nat-1, cluster-snapshot:rds:x -> rds:x)."""
    return arn.split(":", 6)[-1].split("/")[-1]


def leftovers():
    """Everything of the environment that still exists, per service (empty when all is gone)."""
    ec2, elbv2, ecs, rds = client("ec2"), client("elbv2"), client("ecs"), client("rds")
    # moto keeps a deleted NAT gateway (state deleted, tags and all) and never deletes its network
    # interface; AWS removes both. Those are not leftovers of the teardown.
    deleted_nats = [n for n in ec2.describe_nat_gateways()["NatGateways"] if n["State"] == "deleted"]
    moto_kept = {n["NatGatewayId"] for n in deleted_nats} | {a["NetworkInterfaceId"] for n in deleted_nats for a in n.get("NatGatewayAddresses", [])}
    # moto also keeps a deleted Aurora cluster's automated snapshot (rds:<cluster>-<date>), which
    # AWS deletes with the cluster (DeleteAutomatedBackups defaults to true).
    live_db_clusters = {c["DBClusterIdentifier"] for c in rds.describe_db_clusters()["DBClusters"]}
    moto_kept |= {
        s["DBClusterSnapshotIdentifier"]
        for s in rds.describe_db_cluster_snapshots(SnapshotType="automated")["DBClusterSnapshots"]
        if s["DBClusterIdentifier"] not in live_db_clusters
    }
    clusters = ecs.describe_clusters(clusters=ecs.list_clusters()["clusterArns"] or ["none"])["clusters"]
    active = [c["clusterArn"] for c in clusters if c.get("status") == "ACTIVE"]
    active_services = [s for c in active for s in ecs.list_services(cluster=c)["serviceArns"]]
    # ACTIVE and INACTIVE: AWS keeps listing a deregistered revision until it is deleted.
    active_task_definitions = [arn for status in ("ACTIVE", "INACTIVE") for arn in ecs.list_task_definitions(status=status)["taskDefinitionArns"]]
    # moto's tagging API keeps listing ECS clusters, services and task definitions after they
    # are deleted or deregistered; the ECS API itself (checked below) is the judge for those.
    ecs_alive = set(active) | set(active_services) | set(active_task_definitions)
    tagged = client("resourcegroupstaggingapi").get_resources(TagFilters=[{"Key": "bluegreen:environment", "Values": [SUFFIX]}])
    tagged["ResourceTagMappingList"] = [
        r for r in tagged["ResourceTagMappingList"] if ":ecs:" not in r["ResourceARN"] or r["ResourceARN"] in ecs_alive
    ]
    interfaces = ec2.describe_network_interfaces()["NetworkInterfaces"]
    found = {
        "tagged (resourcegroupstaggingapi)": [r["ResourceARN"] for r in tagged["ResourceTagMappingList"] if resource_id(r["ResourceARN"]) not in moto_kept],
        "vpcs": [v["VpcId"] for v in ec2.describe_vpcs(Filters=[TAG])["Vpcs"]],
        "subnets": [s["SubnetId"] for s in ec2.describe_subnets(Filters=[TAG])["Subnets"]],
        "security_groups": [g["GroupId"] for g in ec2.describe_security_groups(Filters=[TAG])["SecurityGroups"]],
        "route_tables": [t["RouteTableId"] for t in ec2.describe_route_tables(Filters=[TAG])["RouteTables"]],
        "internet_gateways": [g["InternetGatewayId"] for g in ec2.describe_internet_gateways(Filters=[TAG])["InternetGateways"]],
        # The account is fresh: every NAT gateway, address, endpoint and interface is ours.
        "nat_gateways": [n["NatGatewayId"] for n in ec2.describe_nat_gateways()["NatGateways"] if n["State"] not in ("deleted", "deleting")],
        "elastic_ips": [a.get("AllocationId") for a in ec2.describe_addresses()["Addresses"]],
        "vpc_endpoints": [e["VpcEndpointId"] for e in ec2.describe_vpc_endpoints()["VpcEndpoints"] if e["State"].lower() not in ("deleted", "deleting")],
        "network_interfaces": [i["NetworkInterfaceId"] for i in interfaces if i["NetworkInterfaceId"] not in moto_kept],
        "load_balancers": [lb["LoadBalancerName"] for lb in elbv2.describe_load_balancers()["LoadBalancers"]],
        "target_groups": [t["TargetGroupName"] for t in elbv2.describe_target_groups()["TargetGroups"]],
        "ecs_clusters": active,
        "ecs_services": active_services,
        "task_definitions": active_task_definitions,
        "db_clusters": [c["DBClusterIdentifier"] for c in rds.describe_db_clusters()["DBClusters"]],
        "db_instances": [i["DBInstanceIdentifier"] for i in rds.describe_db_instances()["DBInstances"]],
        "db_snapshots (manual)": [s["DBClusterSnapshotIdentifier"] for s in rds.describe_db_cluster_snapshots(SnapshotType="manual")["DBClusterSnapshots"]]
        + [s["DBSnapshotIdentifier"] for s in rds.describe_db_snapshots(SnapshotType="manual")["DBSnapshots"]],
        "db_subnet_groups": [g["DBSubnetGroupName"] for g in rds.describe_db_subnet_groups()["DBSubnetGroups"] if g["DBSubnetGroupName"] != "default"],
        "secrets": [s["Name"] for s in client("secretsmanager").list_secrets()["SecretList"]],
        "lambda_functions": [f["FunctionName"] for f in client("lambda").list_functions()["Functions"]],
        "log_groups": [g["logGroupName"] for g in client("logs").describe_log_groups()["logGroups"]],
        "alarms": [a["AlarmName"] for a in client("cloudwatch").describe_alarms()["MetricAlarms"]],
        "sns_topics": [t["TopicArn"] for t in client("sns").list_topics()["Topics"]],
        "iam_roles": [r["RoleName"] for r in client("iam").list_roles()["Roles"] if f"-{SUFFIX}-" in r["RoleName"] + "-"],
        "iam_policies": [p["PolicyName"] for p in client("iam").list_policies(Scope="Local")["Policies"]],
    }
    return {what: items for what, items in found.items() if items}


def test_deploy_rerun_rollout_refused_held_teardown_and_again(aws, tmp_path):
    outputs = tmp_path / "outputs"
    base = {"outputs_dir": str(outputs)}
    logs = {}
    started = time.monotonic()
    logged(run_playbook("site.yml", INVENTORY, extra_vars=base, args=VERBOSE), "deploy", logs)
    print(f"deploy: {time.monotonic() - started:.0f}s")
    counts = logged(run_playbook("site.yml", INVENTORY, extra_vars=base, args=VERBOSE), "re-run", logs)
    assert counts["changed"] == 0, counts
    secret_arn, password = the_password()
    deployed = leftovers()
    assert deployed["vpcs"] and deployed["subnets"] and deployed["tagged (resourcegroupstaggingapi)"], deployed

    # The outputs of the real deploy
    document = json.loads((outputs / f"{SUFFIX}.json").read_text())
    jsonschema.validate(document, SCHEMA)
    assert document["vpc_id"] == deployed["vpcs"][0] and document["region"] == "us-east-1"
    assert sorted(sum(document["subnet_ids"].values(), [])) == sorted(deployed["subnets"])
    assert "```mermaid" in (outputs / f"{SUFFIX}.md").read_text()
    assert document["db_secret_arn"] == secret_arn
    # The molecule default scenario's checks (its converge, idempotence and destroy are the
    # site.yml, re-run and teardown of this test, which make test does not repeat in molecule).
    ok(run_playbook("molecule/default/verify.yml", INVENTORY, extra_vars=base))

    ready_for_a_rollout(aws)
    fast = {"rollout_image": "nginx:1.27", "rollout_bake_seconds": 0, "rollout_drain_seconds": 0, **base}
    logged(run_playbook(ROLLOUT, INVENTORY, extra_vars=fast, args=VERBOSE), "rollout", logs)
    assert_password_stays_in_secrets_manager(aws, secret_arn, password, outputs)
    deployed = leftovers()

    # Without the confirmation, or with another environment's name: refused before any AWS call
    aws.reset_recording()
    for extra in ({}, {"teardown_confirm": "prod"}):
        refused = teardown(outputs, **extra)
        assert refused.returncode != 0
        assert f"pass -e teardown_confirm={SUFFIX} to confirm" in refused.stdout, refused.stdout[-3000:]
    assert aws.mutating_requests() == [] and aws.requests() == []
    assert leftovers() == deployed and (outputs / f"{SUFFIX}.json").exists()

    # A Lambda network interface AWS has not released yet: a bounded, visible wait, then a clear failure
    ec2 = client("ec2")
    migrator_sg = ec2.describe_security_groups(Filters=[TAG, {"Name": "group-name", "Values": [f"migrator-{SUFFIX}"]}])["SecurityGroups"][0]["GroupId"]
    eni = ec2.create_network_interface(
        SubnetId=document["subnet_ids"]["private"][0], Groups=[migrator_sg], Description=f"AWS Lambda VPC ENI-migrator-{SUFFIX}-0b1c2d3e"
    )["NetworkInterface"]["NetworkInterfaceId"]
    held = teardown(outputs, args=["-vvv"], teardown_confirm=SUFFIX, teardown_eni_wait_timeout=3, teardown_eni_wait_delay=1)
    logs["held teardown"] = held.stdout + held.stderr
    assert held.returncode != 0
    assert "FAILED - RETRYING" in held.stdout and "retries left" in held.stdout
    flat = " ".join(held.stdout.split())
    assert f"still has not released 1 Lambda network interface(s) ({eni}" in flat and "Re-run this teardown later" in flat
    still = leftovers()
    assert still["vpcs"] and still["security_groups"] and not still.get("lambda_functions") and not still.get("load_balancers")
    ec2.delete_network_interface(NetworkInterfaceId=eni)

    # The teardown proper: nothing of the environment is left in any service
    started = time.monotonic()
    counts = logged(teardown(outputs, args=["-vvv"], teardown_confirm=SUFFIX), "teardown", logs)
    assert counts["changed"] > 0 and counts["failed"] == 0
    assert leftovers() == {}
    assert not (outputs / f"{SUFFIX}.json").exists() and not (outputs / f"{SUFFIX}.md").exists()
    print(f"teardown: {time.monotonic() - started:.0f}s")

    # Again: succeeds and changes nothing
    counts = ok(teardown(outputs, teardown_confirm=SUFFIX))
    assert counts["changed"] == 0 and counts["failed"] == 0, counts
    assert leftovers() == {}

    for what, text in logs.items():
        assert password not in text, f"the password is in the {what} output"


def test_teardown_after_a_deploy_killed_halfway(aws, tmp_path):
    cmd = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", INVENTORY, "site.yml"]
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    log = tmp_path / "deploy.log"
    with open(log, "w") as out:
        deploy = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        ec2 = client("ec2")
        deadline = time.monotonic() + 300
        try:
            while not ec2.describe_vpcs(Filters=[TAG])["Vpcs"]:
                assert deploy.poll() is None, "the deploy ended before its VPC existed:\n" + log.read_text()[-3000:]
                assert time.monotonic() < deadline, "no VPC after 300 s:\n" + log.read_text()[-3000:]
                time.sleep(0.2)
            # let it get a little further into the network, then pull the plug on the whole process group
            while len(ec2.describe_subnets(Filters=[TAG])["Subnets"]) < 2 and deploy.poll() is None and time.monotonic() < deadline:
                time.sleep(0.1)
        finally:
            if deploy.poll() is None:
                kill_playbook(deploy)
            deploy.wait(timeout=30)
    assert deploy.returncode == -signal.SIGKILL, "the deploy finished before it could be killed:\n" + log.read_text()[-3000:]
    partial = leftovers()
    assert partial["vpcs"], partial

    counts = ok(teardown(tmp_path / "outputs", teardown_confirm=SUFFIX))
    assert counts["failed"] == 0 and counts["changed"] > 0
    assert leftovers() == {}
