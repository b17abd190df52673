"""The whole life of an environment on the realistic emulator, every behaviour on (throttling,
eventual consistency by id and in listings, IAM propagation, NAT/Aurora/ECS states that take
time, a circuit breaker that trips, deletions refused while dependents drain):

site.yml -> site.yml again (changed=0) -> a rollout whose new color trips the breaker ->
a rollback, which has nothing to return to -> a rollout of a good image to that color, scaled
up from 0 (its targets start `initial`) -> teardown.yml -> site.yml again at once (its new
migrator function Failed: stopped, then replaced by the next site.yml) -> teardown.yml, with
nothing left.

Each step checks, through the proxy's events, that the real-AWS behaviour it must survive
did happen, so a quiet proxy cannot make it pass."""

import json

import pytest

from ansible_collections.bluegreen.migration.plugins.module_utils.naming import resource_names
from tests.harness.aws import ROOT, client, lifted_when_met, recap, run_playbook
from tests.harness.environment import leftovers, register_healthy_targets

pytestmark = pytest.mark.slow(seconds=760)

SUFFIX = "local"
NAMES = resource_names(SUFFIX, "us-east-1")

# Shorter polling than the defaults (which are sized for real AWS), nothing else changed.
# The network interface wait is bounded at 2 minutes: interfaces stranded for good (their
# function's role deleted first) fail the teardown then, instead of after 45 minutes.
FAST = {"aurora_wait_delay": 3, "migrator_lambda_create_delay": 3, "migrator_lambda_eni_wait_delay": 2, "migrator_lambda_eni_wait_timeout": 120,
        "ecs_service_eni_wait_delay": 2}


def events(emulator, behaviour, since=0):
    return [e for e in emulator.realism("events")[since:] if e["behaviour"] == behaviour]


def inventory(tmp_path):
    """inventories/local in a smaller shape (two AZs, no Aurora reader): every kind of
    resource, fewer of each, so the cycle fits the suite's time."""
    path = tmp_path / "inventory"
    (path / "group_vars").mkdir(parents=True)
    (path / "hosts.yml").write_text((ROOT / "inventories" / "local" / "hosts.yml").read_text())
    group_vars = (ROOT / "inventories" / "local" / "group_vars" / "bluegreen_envs.yml").read_text()
    group_vars = group_vars.replace("network_az_count: 3", "network_az_count: 2").replace("aurora_reader_count: 2", "aurora_reader_count: 0")
    assert "network_az_count: 2" in group_vars and "aurora_reader_count: 0" in group_vars
    (path / "group_vars" / "bluegreen_envs.yml").write_text(group_vars)
    return path


def run(playbook, tmp_path, **extra):
    proc = run_playbook(playbook, tmp_path / "inventory", extra_vars={"outputs_dir": str(tmp_path / "outputs"), **FAST, **extra})
    return proc, recap(proc.stdout).get(SUFFIX, {})


def ok(result):
    proc, counts = result
    assert proc.returncode == 0, proc.stdout[-8000:] + proc.stderr[-3000:]
    return counts


def traffic():
    """(live-color tag, {color: weight}) of the traffic listener, from AWS."""
    elb = client("elbv2")
    alb = elb.describe_load_balancers(Names=[f"app-{SUFFIX}"])["LoadBalancers"][0]["LoadBalancerArn"]
    listener = [item for item in elb.describe_listeners(LoadBalancerArn=alb)["Listeners"] if item["Port"] == 80][0]
    tags = {t["Key"]: t["Value"] for t in elb.describe_tags(ResourceArns=[listener["ListenerArn"]])["TagDescriptions"][0]["Tags"]}
    weights = {tg["TargetGroupArn"].split("/")[1].split("-")[1]: tg["Weight"] for tg in listener["DefaultActions"][0]["ForwardConfig"]["TargetGroups"]}
    return tags.get("bluegreen:live-color"), weights


def test_deploy_rerun_breaker_rollback_rollout_teardown_deploy_teardown(realistic_aws, tmp_path):
    emu = realistic_aws
    inventory(tmp_path)

    # 1. First deploy: IAM not yet propagated (the migrator, ECS's service-linked role), states
    #    that take time, throttling.
    ok(run("site.yml", tmp_path))
    refusals = [e["detail"] for e in events(emu, "iam_propagation")]
    assert any("cannot be assumed" in r for r in refusals) and any("CreateNetworkInterface" in r for r in refusals), refusals
    assert any("Unable to assume the service linked role" in r for r in refusals), refusals
    assert events(emu, "throttling") and events(emu, "eventual_consistency")
    # EC2 listed some new subnets late (amazon.aws.ec2_vpc_subnet then answers without them).
    assert any(e["action"] == "DescribeSubnets" and "not listed yet" in e["detail"] for e in events(emu, "eventual_consistency"))
    slow = " ".join(e["detail"] for e in events(emu, "slow_states"))
    assert "creating" in slow and "deployment in progress" in slow, slow
    # The private table's route through the new NAT gateway went to one table, and only once the
    # gateway was available: AWS refuses a route to a pending one (no refusal recorded).
    nat_routes = [c for c in emu.requests() if c["action"] == "CreateRoute" and c["params"].get("NatGatewayId")]
    assert len({c["params"]["RouteTableId"] for c in nat_routes}) == 1, nat_routes
    assert not [e for e in events(emu, "slow_states") if e["action"] in ("CreateRoute", "ReplaceRoute")]
    # Secrets Manager did not know the new secret at once, nor ECS its new cluster, and CloudWatch
    # Logs refused each new log group's retention once: the outputs carry both ARNs all the same.
    late = " ".join(e["detail"] for e in events(emu, "eventual_consistency"))
    assert f"ResourceNotFoundException DescribeSecret {NAMES['aurora_secret']}" in late, late
    conflicts = sorted(e["detail"] for e in events(emu, "log_group_conflicts"))
    assert len(conflicts) == 2 and all(c.startswith("OperationAbortedException PutRetentionPolicy ") for c in conflicts), conflicts
    document = json.loads((tmp_path / "outputs" / f"{SUFFIX}.json").read_text())
    assert document["db_secret_arn"] == client("secretsmanager").list_secrets()["SecretList"][0]["ARN"], document
    assert document["ecs_cluster_arn"] in client("ecs").list_clusters()["clusterArns"], document

    # 2. Re-run: nothing to change.
    counts = ok(run("site.yml", tmp_path))
    assert counts["changed"] == 0, counts
    # The emulator runs no task: the targets ECS would register, healthy once started.
    register_healthy_targets(SUFFIX)

    # 3. A rollout whose new color never starts: the breaker trips and rolls back; the run
    #    ends with the rollout's own message and every request on the old color.
    live, weights = traffic()
    new = "green" if live == "blue" else "blue"
    mark = len(emu.realism("events"))
    proc, _counts = run("playbooks/rollout.yml", tmp_path, rollout_image="amazon/amazon-ecs-sample:broken", rollout_bake_seconds=0, rollout_drain_seconds=0)
    output = " ".join(proc.stdout.split())
    assert proc.returncode != 0, output[-4000:]
    assert events(emu, "circuit_breaker", mark), "the breaker never tripped"
    assert f"Rollout of amazon/amazon-ecs-sample:broken to {new} aborted:" in output, output[-4000:]
    assert "ECS deployment circuit breaker" in output
    assert f"Traffic is back on {live} (weight 100), {new} is scaled to 0." in output
    assert traffic() == (live, {live: 100, new: 0})
    assert client("ecs").describe_services(cluster=f"app-{SUFFIX}", services=[f"app-{new}-{SUFFIX}"])["services"][0]["desiredCount"] == 0

    # 3a. A rollback after that abort has nothing to return to: the other color's release just
    #     failed. It says so and writes nothing to the listener or the services.
    calls = len(emu.requests())
    proc, _counts = run("playbooks/rollback.yml", tmp_path, rollout_drain_seconds=0)
    assert proc.returncode == 0, proc.stdout[-8000:] + proc.stderr[-3000:]
    assert "nothing to roll back: the last rollout did not complete (aborted or rolled back)" in " ".join(proc.stdout.split())
    writes = {c["action"] for c in emu.requests()[calls:]} & {"ModifyListener", "UpdateService", "AddTags", "RemoveTags"}
    assert not writes and traffic() == (live, {live: 100, new: 0}), writes

    # 3b. A rollout of a good image to the color at 0: scaled up, its targets `initial` for a
    #     while (the load balancer sends them nothing); the listener moves only once they are
    #     healthy. The targets `initial` until the run has seen them so (a loaded machine may
    #     take longer than the proxy's 20 s from the scale-up to its first look), then 2 s.
    emu.queue_lambda_answers({"ok": True, "action": "apply", "status": "up_to_date", "applied": [], "current_version": 3}, 2)
    emu.realism("config", {"slow_states": {"targets_seconds": 3600}})
    mark, calls = len(emu.realism("events")), len(emu.requests())
    seen_initial = ("slow_states", "DescribeTargetHealth", f"targets of targetgroup/app-{new}-{SUFFIX}/")
    with lifted_when_met(emu, {seen_initial: {"slow_states": {"targets_seconds": 2}}}):
        ok(run("playbooks/rollout.yml", tmp_path, rollout_image="amazon/amazon-ecs-sample:good", rollout_steps=[100],
               rollout_bake_seconds=0, rollout_drain_seconds=0))
    assert traffic() == (new, {new: 100, live: 0})
    initial = [e for e in events(emu, "slow_states", mark) if e["detail"].startswith(f"targets of targetgroup/app-{new}-{SUFFIX}/")]
    assert initial, events(emu, "slow_states", mark)
    later = emu.requests()[calls:]
    switch = next(i for i, c in enumerate(later) if c["action"] == "ModifyListener")
    looks = [c for c in later[:switch] if c["action"] == "DescribeTargetHealth"]
    # Every `initial` answer came before the switch, and at least one healthy one after them.
    assert len(looks) > len(initial), (len(looks), len(initial))

    # The secret's name held for an hour after its deletion (AWS: its recovery window), so step 5
    # meets it however long the teardown takes on a loaded machine (the refusals are counted).
    emu.realism("config", {"dependent_drain": {"secret_seconds": 3600}})

    # 4. Teardown: the cluster refuses while its services drain, the target groups while the
    #    load balancer lets them go, the load balancer's network interfaces hold its subnets and
    #    group for a while, the migrator's Lambda ENIs hold its security group, the Aurora
    #    cluster is deleting for a while and holds its DB subnet group.
    mark = len(emu.realism("events"))
    ok(run("playbooks/teardown.yml", tmp_path, teardown_confirm=SUFFIX))
    drained = " ".join(e["detail"] for e in events(emu, "dependent_drain", mark))
    assert "ClusterContainsServicesException" in drained and "AWS Lambda VPC ENI" in drained, drained
    assert f"ELB app/app-{SUFFIX}/" in drained, drained
    assert "ResourceInUse" in drained and f":targetgroup/app-blue-{SUFFIX}/" in drained, drained
    assert f"DBCluster aurora-{SUFFIX} deleting" in drained, drained
    # The migrator's execution role went only once Lambda had released the interfaces with it.
    assert "AWS Lambda VPC ENI" in drained and "stranded" not in drained, drained
    # IAM still saw the policies just detached from a role for a moment (the task role has none),
    # and CloudWatch Logs refused each log group's delete once: both retried.
    conflicts = [e["detail"] for e in events(emu, "iam_propagation", mark)]
    assert sorted(c for c in conflicts if c.startswith("DeleteConflict ")) == sorted(
        f"DeleteConflict {NAMES[role]}" for role in ("ecs_execution_role", "migrator_role")), conflicts
    deletes = [e["detail"] for e in events(emu, "log_group_conflicts", mark)]
    assert len(deletes) == 2 and all(d.startswith("OperationAbortedException DeleteLogGroup ") for d in deletes), deletes
    assert leftovers(SUFFIX) == {}

    # 5. Deploy again at once: the secret's name is still taken for a while. Lambda cannot set
    #    the new migrator function up (Failed, no free address): the deploy stops saying so, and
    #    the next one deletes the function and creates it again.
    mark = len(emu.realism("events"))
    emu.realism("config", {"function_failures": {"count": 1}})
    proc, counts = run("site.yml", tmp_path)
    assert proc.returncode != 0 and counts.get("failed") == 1, proc.stdout[-8000:]
    assert f"Lambda function migrator-{SUFFIX} is Failed (SubnetOutOfIPAddresses: " in proc.stdout, proc.stdout[-8000:]
    assert events(emu, "function_failures", mark)
    ok(run("site.yml", tmp_path))
    drained = " ".join(e["detail"] for e in events(emu, "dependent_drain", mark))
    assert "scheduled for deletion" in drained, drained
    assert client("lambda").get_function_configuration(FunctionName=f"migrator-{SUFFIX}")["State"] == "Active"
    document = json.loads((tmp_path / "outputs" / f"{SUFFIX}.json").read_text())
    assert document["live_color"] == "blue"

    # 6. And down again, leaving nothing.
    ok(run("playbooks/teardown.yml", tmp_path, teardown_confirm=SUFFIX))
    assert leftovers(SUFFIX) == {}
