"""playbooks/plan.yml through the emulator: on an empty account it plans the whole stack as
created, writes nothing to AWS and exits 0; on the deployed environment it plans nothing; after
eight changes made by hand (a security group rule, a route, a subnet attribute, a target group's
health check path, an alarm threshold, the Aurora cluster's backup retention, a load balancer
tag, a task definition's image put on the live service) it names exactly those, in the JSON
report and on the terminal, and fails with plan_fail_on_drift; site.yml puts them back and the next plan is empty again. One deployment
for the module, six playbook runs."""

import json
import time

import pytest

from tests.harness.aws import ROOT, client, recap, run_playbook

pytestmark = pytest.mark.slow(seconds=300)

SUFFIX = "it-plan"
PLAN = "playbooks/plan.yml"
ROLES = ["network", "aurora", "ecs_service", "migrator_lambda"]
KNOWN = "(known after create)"


@pytest.fixture(scope="module")
def env(emulator, tmp_path_factory):
    """A plan of the empty account, then one deployed environment (two AZs, no reader)."""
    emulator.reset()
    tmp = tmp_path_factory.mktemp("plan")
    (tmp / "inventory" / "group_vars").mkdir(parents=True)
    (tmp / "inventory" / "hosts.yml").write_text(json.dumps({"bluegreen_envs": {"hosts": {SUFFIX: {}}}}))
    group_vars = (ROOT / "inventories" / "local" / "group_vars" / "bluegreen_envs.yml").read_text()
    group_vars = group_vars.replace("network_az_count: 3", "network_az_count: 2").replace("aurora_reader_count: 2", "aurora_reader_count: 0")
    (tmp / "inventory" / "group_vars" / "bluegreen_envs.yml").write_text(group_vars + "\noutputs_dir: " + str(tmp / "outputs") + "\n")
    result = {"inventory": tmp / "inventory", "outputs": tmp / "outputs"}
    emulator.reset_recording()
    result["empty"] = plan(result)
    result["empty_writes"] = emulator.mutating_requests()
    deploy = timed(result, "site.yml")
    assert deploy.returncode == 0, deploy.stdout[-8000:] + deploy.stderr[-3000:]
    return result


def timed(env, playbook, **extra):
    started = time.monotonic()
    proc = run_playbook(playbook, env["inventory"], extra_vars=extra or None)
    print(f"{playbook} {extra or ''}: {time.monotonic() - started:.0f}s")
    return proc


def plan(env, **extra):
    """(process, JSON report, the terminal's plan lines) of one plan.yml run."""
    proc = timed(env, PLAN, **extra)
    report_file = env["outputs"] / f"{SUFFIX}.plan.json"
    report = json.loads(report_file.read_text()) if report_file.exists() else None
    return proc, report, terminal_lines(proc.stdout)


def terminal_lines(stdout):
    """The lines the plan printed (the debug task's msg: one quoted line, or a block of them),
    whitespace squeezed."""
    text = stdout.split("Show the plan, one line per change]", 1)[1].split("\nTASK [", 1)[0]
    message = text.split("msg: ", 1)[1]
    if message.startswith("|"):
        return [" ".join(line.split()) for line in message.splitlines()[1:] if line.strip()]
    return [" ".join(message.strip().strip("'").split())]


def changes(report):
    """(role, action, resource, name, fields) of every change."""
    return sorted((role, c["action"], c["resource"], c["name"], tuple(sorted(c["fields"]))) for role in ROLES for c in report["roles"][role])


def test_an_empty_account_plans_every_role_as_created_and_writes_nothing(env):
    proc, report, lines = env["empty"]
    assert proc.returncode == 0, proc.stdout[-6000:]
    assert env["empty_writes"] == [], env["empty_writes"]
    assert report["changed"] is True and report["environment_suffix"] == SUFFIX
    assert set(report["summary"]) == {"create", "update", "replace", "delete"}
    assert report["summary"]["create"] == sum(report["summary"].values())
    for role in ROLES:
        assert report["roles"][role] and {c["action"] for c in report["roles"][role]} == {"create"}, role
    created = {(c["resource"], c["name"]) for role in ROLES for c in report["roles"][role]}
    for expected in [("vpc", f"vpc-{SUFFIX}"), ("subnet", f"isolated-b-{SUFFIX}"), ("nat gateway", f"nat-a-{SUFFIX}"),
                     ("route table", f"rt-private-{SUFFIX}"), ("security group", f"db-{SUFFIX}"), ("aurora cluster", f"aurora-{SUFFIX}"),
                     ("load balancer", f"app-{SUFFIX}"), ("target group", f"app-green-{SUFFIX}"), ("iam role", f"migrator-{SUFFIX}-us-east-1"),
                     ("credentials secret", f"aurora-credentials-{SUFFIX}"), ("log group", f"/aws/lambda/migrator-{SUFFIX}"),
                     ("lambda function", f"migrator-{SUFFIX}")]:
        assert expected in created, expected
    # What refers to a resource still to create is known after create, not a failure.
    routes = next(c for c in report["roles"]["network"] if c["name"] == f"rt-public-{SUFFIX}")["fields"]
    assert routes["routes"]["after"] == [f"0.0.0.0/0 -> {KNOWN}"] and routes["subnets"]["after"] == [KNOWN, KNOWN]
    assert lines[0] == f"{SUFFIX}: {report['summary']['create']} changes ({report['summary']['create']} to create)"
    assert [line for line in lines if not line.startswith("create ")] == [lines[0], "network:", "aurora:", "ecs_service:", "migrator_lambda:"]
    assert f"create vpc vpc-{SUFFIX} (no VPC named vpc-{SUFFIX} with CIDR 10.0.0.0/16)" in lines


def test_the_deployed_environment_plans_no_change(env):
    proc, report, lines = plan(env)
    assert proc.returncode == 0, proc.stdout[-6000:]
    assert report["changed"] is False, lines
    assert report["roles"] == {role: [] for role in ROLES}
    assert lines == [f"{SUFFIX}: no change, AWS matches the inputs"]
    counts = recap(proc.stdout)[SUFFIX]
    assert counts["failed"] == 0


def tagged(name):
    return [{"Name": "tag:Name", "Values": [name]}]


def drift_by_hand():
    """Eight changes, one per kind; returns (role, action, resource, name, fields) of each."""
    ec2, elb, cloudwatch, rds = client("ec2"), client("elbv2"), client("cloudwatch"), client("rds")
    app = ec2.describe_security_groups(Filters=tagged(f"app-{SUFFIX}"))["SecurityGroups"][0]
    ec2.authorize_security_group_ingress(GroupId=app["GroupId"], IpPermissions=[{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
                                                                                 "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    isolated = ec2.describe_route_tables(Filters=tagged(f"rt-isolated-{SUFFIX}"))["RouteTables"][0]
    igw = ec2.describe_internet_gateways(Filters=tagged(f"igw-{SUFFIX}"))["InternetGateways"][0]["InternetGatewayId"]
    ec2.create_route(RouteTableId=isolated["RouteTableId"], DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    subnet = ec2.describe_subnets(Filters=tagged(f"isolated-a-{SUFFIX}"))["Subnets"][0]
    ec2.modify_subnet_attribute(SubnetId=subnet["SubnetId"], MapPublicIpOnLaunch={"Value": True})
    blue = elb.describe_target_groups(Names=[f"app-blue-{SUFFIX}"])["TargetGroups"][0]
    elb.modify_target_group(TargetGroupArn=blue["TargetGroupArn"], HealthCheckPath="/changed-by-hand")
    alarm = cloudwatch.describe_alarms(AlarmNames=[f"app-blue-cpu-{SUFFIX}"])["MetricAlarms"][0]
    keys = ("AlarmName", "AlarmDescription", "ActionsEnabled", "OKActions", "AlarmActions", "InsufficientDataActions", "MetricName",
            "Namespace", "Statistic", "Dimensions", "Period", "EvaluationPeriods", "DatapointsToAlarm", "ComparisonOperator", "TreatMissingData",
            "Unit")
    cloudwatch.put_metric_alarm(**{k: alarm[k] for k in keys if k in alarm}, Threshold=alarm["Threshold"] + 5)
    rds.modify_db_cluster(DBClusterIdentifier=f"aurora-{SUFFIX}", BackupRetentionPeriod=9, ApplyImmediately=True)
    alb = elb.describe_load_balancers(Names=[f"app-{SUFFIX}"])["LoadBalancers"][0]["LoadBalancerArn"]
    elb.add_tags(ResourceArns=[alb], Tags=[{"Key": "owner", "Value": "changed-by-hand"}])
    image_by_hand(f"app-blue-{SUFFIX}", BY_HAND)
    return sorted([
        ("network", "update", "security group", f"app-{SUFFIX}", ("ingress",)),
        ("network", "update", "route table", f"rt-isolated-{SUFFIX}", ("routes",)),
        ("network", "update", "subnet", f"isolated-a-{SUFFIX}", ("map_public_ip_on_launch",)),
        ("ecs_service", "update", "target group", f"app-blue-{SUFFIX}", ("health_check",)),
        ("ecs_service", "update", "alarm", f"app-blue-cpu-{SUFFIX}", ("threshold",)),
        ("aurora", "update", "aurora cluster", f"aurora-{SUFFIX}", ("backup_retention_period",)),
        ("ecs_service", "update", "load balancer", f"app-{SUFFIX}", ("tags",)),
        ("ecs_service", "update", "ECS service", f"app-blue-{SUFFIX}", ("image",)),
    ])


BY_HAND = "registry.example.com/shop:by-hand"
CLUSTER = f"app-{SUFFIX}"


def image_by_hand(family, image):
    """A revision of the family's latest task definition with another image, registered by hand
    (tags and all) and put on the service of the same name, as someone would without a rollout."""
    ecs = client("ecs")
    found = ecs.describe_task_definition(taskDefinition=family, include=["TAGS"])
    latest = found["taskDefinition"]
    keys = ("family", "cpu", "memory", "networkMode", "requiresCompatibilities", "executionRoleArn", "taskRoleArn")
    containers = [dict(c, image=image) for c in latest["containerDefinitions"]]
    revision = ecs.register_task_definition(**{k: latest[k] for k in keys if k in latest}, containerDefinitions=containers, tags=found["tags"])
    ecs.update_service(cluster=CLUSTER, service=family, taskDefinition=revision["taskDefinition"]["taskDefinitionArn"])


def running_image(name):
    ecs = client("ecs")
    arn = ecs.describe_services(cluster=CLUSTER, services=[name])["services"][0]["taskDefinition"]
    return ecs.describe_task_definition(taskDefinition=arn)["taskDefinition"]["containerDefinitions"][0]["image"]


def test_drift_is_planned_exactly_fails_when_asked_and_site_puts_it_back(env):
    released = running_image(f"app-blue-{SUFFIX}")
    expected = drift_by_hand()
    proc, report, lines = plan(env, plan_fail_on_drift=True)
    assert proc.returncode != 0, proc.stdout[-6000:]
    assert changes(report) == expected, report["roles"]
    assert report["summary"] == {"create": 0, "update": 8, "replace": 0, "delete": 0}
    assert lines[0] == f"{SUFFIX}: 8 changes (8 to update)"
    assert len(lines) == 1 + 3 + 8, lines
    needles = ["update security group app-it-plan: ingress", "tcp 22-22 0.0.0.0/0", "/changed-by-hand", "changed-by-hand -> local-demo",
               "update subnet isolated-a-it-plan: map_public_ip_on_launch True -> False", "update aurora cluster aurora-it-plan: backup_retention_period 9 ->",
               f"update ECS service app-blue-it-plan: image {BY_HAND} -> {released} (not the image its bluegreen:image tag records as released)"]
    for needle in needles:
        assert any(needle in line for line in lines), (needle, lines)
    flat = " ".join(proc.stdout.split())
    assert "drifted from the inputs" in flat and all(f"update {item[2]} {item[3]}" in flat for item in expected), flat[-4000:]

    fixed = timed(env, "site.yml")
    assert fixed.returncode == 0, fixed.stdout[-8000:] + fixed.stderr[-3000:]
    # The live service is back on the released image (a new revision of it), waited for.
    assert running_image(f"app-blue-{SUFFIX}") == released
    proc, report, lines = plan(env, plan_fail_on_drift=True)
    assert proc.returncode == 0, (lines, proc.stdout[-6000:])
    assert report["changed"] is False and lines == [f"{SUFFIX}: no change, AWS matches the inputs"]
