"""A deploy killed (SIGKILL of the controller, its workers and modules) in the middle of each role, then re-run,
converges with no duplicate resource; a teardown killed halfway, then re-run, leaves nothing.
One deploy for everything: each kill lands in a later role of the re-run of the previous one.

On the realistic emulator (every behaviour on): a run killed on AWS leaves what AWS was still
doing (a NAT gateway pending, an Aurora cluster and instances creating, services whose
deployment is in progress, deleted resources still draining), and the next run finds them
late in listings, throttled and refused while they settle."""

import json
import time

import pytest

from tests.harness.aws import client, killed_playbook, recap, run_playbook

pytestmark = pytest.mark.slow(seconds=420)

INVENTORY = "inventories/local"
SUFFIX = "local"
TAG = {"Name": "tag:bluegreen:environment", "Values": [SUFFIX]}
FAST = {"aurora_wait_delay": 3, "migrator_lambda_create_delay": 3, "migrator_lambda_eni_wait_delay": 2, "migrator_lambda_eni_wait_timeout": 120,
        "ecs_service_eni_wait_delay": 2}
# Where each run is killed: `grace` seconds after this task starts (one run per kill point, in
# play order, each resuming what the previous one left).
KILL_POINTS = [
    # the NAT gateway's elastic IP is allocated, the NAT gateway not yet requested
    ("network : Create the missing NAT gateway(s)", 0.1),
    # route table and security group rule jobs running in the background
    ("network : Start creating or fixing the route tables", 0.7),
    # the cluster requested, its instances being requested
    ("aurora : Writer and reader instances", 0.7),
    ("ecs_service : Blue and green services", 0.7),
]


# Where a teardown is stopped before site.yml repairs what it left: the services deleted and
# the cluster, load balancer and the rest still there (the state site.yml could not repair).
# A teardown stopped in the network is finished by the teardown below.
TEARDOWN_STOPS = [
    "ecs_service : Delete the cluster",
]


def killed_run(playbook, tmp_path, task, extra=(), grace=0.7, timeout=600):
    """Start ansible-playbook, SIGKILL its process group `grace` s after `task` starts; return the log."""
    log = tmp_path / f"killed-{time.monotonic_ns()}.log"
    return killed_playbook(playbook, log, lambda text: task in text, f"{task!r} started", inventory=INVENTORY, args=extra, grace=grace, timeout=timeout)


def ok(proc):
    assert proc.returncode == 0, proc.stdout[-8000:] + proc.stderr[-3000:]
    return recap(proc.stdout)[SUFFIX]


def inventory_of_environment():
    """How many of each resource the environment has (duplicates show as counts above one)."""
    ec2, elbv2, ecs, rds = client("ec2"), client("elbv2"), client("ecs"), client("rds")
    vpcs = ec2.describe_vpcs(Filters=[TAG])["Vpcs"]
    vpc_filter = [{"Name": "vpc-id", "Values": [v["VpcId"] for v in vpcs] or ["none"]}]
    clusters = ecs.describe_clusters(clusters=ecs.list_clusters()["clusterArns"] or ["none"])["clusters"]
    active = [c["clusterArn"] for c in clusters if c.get("status") == "ACTIVE"]
    db_instances = rds.describe_db_instances()["DBInstances"]
    return {
        "vpcs": len(vpcs),
        "subnets": len(ec2.describe_subnets(Filters=vpc_filter)["Subnets"]),
        "route_tables (tagged)": len(ec2.describe_route_tables(Filters=[TAG])["RouteTables"]),
        "security_groups (tagged)": len(ec2.describe_security_groups(Filters=[TAG])["SecurityGroups"]),
        "internet_gateways": len(ec2.describe_internet_gateways(Filters=[TAG])["InternetGateways"]),
        "nat_gateways (available)": len([n for n in ec2.describe_nat_gateways()["NatGateways"] if n["State"] in ("pending", "available")]),
        "elastic_ips": len(ec2.describe_addresses()["Addresses"]),
        "ecs_clusters": len(active),
        "ecs_services": sum(len(ecs.list_services(cluster=c)["serviceArns"]) for c in active),
        "load_balancers": len(elbv2.describe_load_balancers()["LoadBalancers"]),
        "target_groups": len(elbv2.describe_target_groups()["TargetGroups"]),
        "db_clusters": len(rds.describe_db_clusters()["DBClusters"]),
        "db_instances": len(db_instances),
        "db_instance_names": len({i["DBInstanceIdentifier"] for i in db_instances}),
        "secrets": len(client("secretsmanager").list_secrets()["SecretList"]),
        "lambda_functions": len(client("lambda").list_functions()["Functions"]),
        "sns_topics": len(client("sns").list_topics()["Topics"]),
        "log_groups": len(client("logs").describe_log_groups()["logGroups"]),
    }


EXPECTED = {
    "vpcs": 1,
    "subnets": 9,
    "route_tables (tagged)": 3,
    "security_groups (tagged)": 4,
    "internet_gateways": 1,
    "nat_gateways (available)": 1,
    "elastic_ips": 1,
    "ecs_clusters": 1,
    "ecs_services": 2,
    "load_balancers": 1,
    "target_groups": 2,
    "db_clusters": 1,
    "db_instances": 3,
    "db_instance_names": 3,
    "secrets": 1,
    "lambda_functions": 1,
    "sns_topics": 1,
    "log_groups": 2,
}


def test_killed_deploy_and_killed_teardown_resume_without_duplicates(realistic_aws, tmp_path):
    # Every run after the first follows a killed one, which still holds the environment's lock:
    # each breaks it, as the operator of a crashed run does. Polling is shorter than the
    # defaults (sized for real AWS), nothing else changed.
    outputs = {"outputs_dir": str(tmp_path / "outputs"), "bluegreen_lock_break": True, **FAST}
    extra = ["-e", json.dumps(outputs)]
    # EC2 lists what was created a moment ago late: a count taken at once could miss a VPC the
    # killed run made, and pass where the re-run then made a second.
    settle = realistic_aws.realism("config")["eventual_consistency"]["filter_seconds"] + 1
    # Kill the deploy in each role in turn; every run resumes what the previous one left.
    for point, grace in KILL_POINTS:
        killed_run("site.yml", tmp_path, point, extra, grace=grace)
        time.sleep(settle)
        left = inventory_of_environment()
        # never a second of anything, whatever the run was doing when it died
        assert left["vpcs"] == 1 and left["elastic_ips"] <= 1 and left["nat_gateways (available)"] <= 1, (point, left)

    # The run to completion converges to exactly one of everything ...
    counts = ok(run_playbook("site.yml", INVENTORY, extra_vars=outputs))
    assert counts["failed"] == 0
    assert inventory_of_environment() == EXPECTED

    # A teardown stopped in each of its stages leaves a partial environment that site.yml
    # brings back whole (the services gone but the cluster and load balancer still there was
    # the case it could not repair: "task_definition required to create it").
    for stage in TEARDOWN_STOPS:
        killed_run("playbooks/teardown.yml", tmp_path, stage, ["-e", f"teardown_confirm={SUFFIX}", *extra], grace=0.1)
        counts = ok(run_playbook("site.yml", INVENTORY, extra_vars=outputs))
        assert counts["failed"] == 0 and counts["changed"] > 0, f"site.yml found nothing to repair after a teardown stopped in {stage!r}"
        assert inventory_of_environment() == EXPECTED, stage

    # A teardown killed halfway through the network (everything above it gone), then re-run:
    # nothing of the environment is left.
    log = killed_run(
        "playbooks/teardown.yml", tmp_path, "network : ", ["-e", f"teardown_confirm={SUFFIX}", *extra], grace=1.0
    )
    assert "aurora :" in log and "ecs_service :" in log
    time.sleep(settle)
    half = inventory_of_environment()
    assert half["vpcs"] == 1 and half["ecs_clusters"] == 0 and half["db_clusters"] == 0, half
    counts = ok(run_playbook("playbooks/teardown.yml", INVENTORY, extra_vars={"teardown_confirm": SUFFIX, **outputs}))
    assert counts["failed"] == 0
    left = {what: n for what, n in inventory_of_environment().items() if n}
    assert left == {}, left
    # The runs met what real AWS does, so a quiet proxy cannot make this pass.
    met = {event["behaviour"] for event in realistic_aws.realism("events")}
    assert {"throttling", "eventual_consistency", "slow_states", "dependent_drain"} <= met, met
