"""playbooks/plan.yml, rollout.yml, rollback.yml and status.yml on the emulator, against one
environment deployed once with site.yml for the whole module (a deploy takes a minute and a half).

Before the deploy, plan.yml on the empty account plans every role's resources as created, writes
nothing and exits 0. On the deployed environment it plans nothing; after eight changes made by
hand (a security group rule, a route, a subnet attribute, a target group's health check path, an
alarm threshold, the Aurora cluster's backup retention, a load balancer tag, a task definition's
image put on the live service) it names exactly those, in the JSON report and on the terminal,
and fails with plan_fail_on_drift; site.yml puts them back and the next plan is empty again.

The emulator does not start ECS tasks, so nothing registers them in the target groups: the
fixture registers two IP targets per color in the private subnets (moto reports every
registered target healthy). moto's simple Lambda backend does not run the migrator: every
invocation returns the next answer queued through /moto-api/static/lambda-simple/response
(or echoes the payload when none is queued, which the gates reject), so each test queues
exactly the answers its run consumes and checks the invocations it recorded.

The tests share the environment and follow each other (the deployed environment is least
privilege: security groups with exactly the needed flows, IAM roles with exactly the trust and
permissions they need; then check mode, rollout, rollback, a gate failure at step 2, a killed
and resumed rollout); each reads the state it starts from from AWS. The deploy, its re-run
(changed=0) and the first rollout run at -vvv, and the last test ends the environment's life: a
refused teardown (no confirmation: no AWS call), one held by a Lambda network interface (a
bounded, visible wait, then a clear failure), the teardown proper (nothing tagged with the
suffix remains in any service) and a second one (no-op). Throughout, the generated database
password never leaves Secrets Manager: not in any output, file, Lambda environment, task
definition or API call but those that store it.
"""

import http.server
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

import jsonschema
import pytest

from tests.harness.aws import ROOT, client, kill_playbook, recap, run_playbook
from tests.harness.environment import assert_password_stays_in_secrets_manager, leftovers, register_healthy_targets, the_password

pytestmark = pytest.mark.slow(seconds=800)

SUFFIX = "it-rollout"
ROLLOUT, ROLLBACK, STATUS = "playbooks/rollout.yml", "playbooks/rollback.yml", "playbooks/status.yml"
OK = {"ok": True, "action": "apply", "status": "up_to_date", "applied": [], "current_version": 3}
FAST = {"rollout_bake_seconds": 0, "rollout_drain_seconds": 0}
OTHER = {"blue": "green", "green": "blue"}
TAG = {"Name": "tag:bluegreen:environment", "Values": [SUFFIX]}
APP_PORT, DB_PORT = 80, 5432
TEST_PORTS = (8080, 8443)
VERBOSE = ["-vvv", "--diff"]
TEARDOWN = "playbooks/teardown.yml"
SCHEMA = json.loads((ROOT / "tests" / "schemas" / "outputs.schema.json").read_text())


@pytest.fixture(scope="module")
def env(emulator, tmp_path_factory):
    """A fresh account with one deployed environment; yields its inventory and outputs dir."""
    emulator.reset()
    tmp = tmp_path_factory.mktemp("rollout")
    (tmp / "inventory" / "group_vars").mkdir(parents=True)
    (tmp / "inventory" / "hosts.yml").write_text(json.dumps({"bluegreen_envs": {"hosts": {SUFFIX: {}}}}))
    group_vars = (ROOT / "inventories" / "local" / "group_vars" / "bluegreen_envs.yml").read_text()
    # Fewer pieces to create than the demo, the same shape: two AZs, no Aurora reader.
    group_vars = group_vars.replace("network_az_count: 3", "network_az_count: 2").replace("aurora_reader_count: 2", "aurora_reader_count: 0")
    (tmp / "inventory" / "group_vars" / "bluegreen_envs.yml").write_text(group_vars + "\noutputs_dir: " + str(tmp / "outputs") + "\n")
    logs = {}
    result = {"inventory": tmp / "inventory", "outputs": tmp / "outputs", "emulator": emulator, "logs": logs}
    # plan.yml on the empty account first: the whole stack to create, nothing written.
    emulator.reset_recording()
    result["empty"] = plan(result)
    result["empty_writes"] = emulator.mutating_requests()
    started = time.monotonic()
    logged(run_playbook("site.yml", tmp / "inventory", args=VERBOSE), "deploy", logs)
    print(f"deploy: {time.monotonic() - started:.0f}s")
    counts = logged(run_playbook("site.yml", tmp / "inventory", args=VERBOSE), "re-run", logs)
    assert counts["changed"] == 0, (counts, [line for line in logs["re-run"].splitlines() if line.startswith(("TASK", "changed"))][-80:])
    # The checks of the molecule scenarios default, ecs_service and network (their converge,
    # idempotence and destroy are this deploy, its re-run and the teardown of the last test;
    # make test does not repeat them). ecs_service's checks the secret ARN this deploy made.
    secret_arn = json.loads((tmp / "outputs" / f"{SUFFIX}.json").read_text())["db_secret_arn"]
    for scenario, extra in (("default", None), ("ecs_service", {"ecs_service_db_secret_arn": secret_arn})):
        verify = run_playbook(f"molecule/{scenario}/verify.yml", tmp / "inventory", extra_vars=extra)
        assert verify.returncode == 0, (scenario, verify.stdout[-8000:])

    register_healthy_targets(SUFFIX)
    return result


def logged(proc, what, logs):
    """Keep a run's whole output (for the password check) and return its recap counts."""
    logs[what] = proc.stdout + proc.stderr
    assert proc.returncode == 0, proc.stdout[-8000:] + proc.stderr[-3000:]
    # -vvv really was verbose, so the password check means something.
    assert "ESTABLISH LOCAL CONNECTION" in logs[what], what
    return recap(proc.stdout)[SUFFIX]


def state():
    """Live-color tag, weights, desired/running counts and images per color, from AWS."""
    elb, ecs = client("elbv2"), client("ecs")
    alb = elb.describe_load_balancers(Names=[f"app-{SUFFIX}"])["LoadBalancers"][0]["LoadBalancerArn"]
    listener = [item for item in elb.describe_listeners(LoadBalancerArn=alb)["Listeners"] if item["Port"] == 80][0]
    tags = {t["Key"]: t["Value"] for t in elb.describe_tags(ResourceArns=[listener["ListenerArn"]])["TagDescriptions"][0]["Tags"]}
    weights = {tg["TargetGroupArn"].split("/")[1].split("-")[1]: tg["Weight"] for tg in listener["DefaultActions"][0]["ForwardConfig"]["TargetGroups"]}
    services = ecs.describe_services(cluster=f"app-{SUFFIX}", services=[f"app-blue-{SUFFIX}", f"app-green-{SUFFIX}"])["services"]
    test = [item for item in elb.describe_listeners(LoadBalancerArn=alb)["Listeners"] if item["Port"] == 8080][0]
    action = test["DefaultActions"][0]
    test_arn = action["ForwardConfig"]["TargetGroups"][0]["TargetGroupArn"] if action.get("ForwardConfig") else action["TargetGroupArn"]
    test_color = test_arn.split("/")[1].split("-")[1]
    result = {"live": tags.get("bluegreen:live-color"), "weights": weights, "desired": {}, "running": {}, "image": {}, "test": test_color,
              "paused": "bluegreen:paused-at" in tags, "rollback_to": tags.get("bluegreen:rollback-to")}
    for service in services:
        color = service["serviceName"].split("-")[1]
        result["desired"][color] = service["desiredCount"]
        result["running"][color] = service["runningCount"]
        definition = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])["taskDefinition"]
        result["image"][color] = definition["containerDefinitions"][0]["image"]
    return result


def queue(emulator, count, answer=None):
    """The next `count` migrator invocations answer `answer` (default OK)."""
    emulator.queue_lambda_answers(OK if answer is None else answer, count)


def forward_weights(params):
    """color -> weight of a recorded ModifyListener (query protocol: flattened member keys)."""
    groups = {}
    for key, value in params.items():
        found = re.match(r"DefaultActions\.member\.1\.ForwardConfig\.TargetGroups\.member\.(\d+)\.(TargetGroupArn|Weight)$", key)
        if found:
            groups.setdefault(found[1], {})[found[2]] = value
    return {g["TargetGroupArn"].split("/")[1].split("-")[1]: int(g["Weight"]) for g in groups.values()}


def flat(proc):
    """stdout with the callback's line wrapping undone."""
    return " ".join(proc.stdout.split())


def play(env, playbook, args=(), **extra):
    started = time.monotonic()
    proc = run_playbook(playbook, env["inventory"], extra_vars=extra or None, args=list(args))
    print(f"{playbook} {' '.join(args)}: {time.monotonic() - started:.0f}s")
    return proc, recap(proc.stdout).get(SUFFIX, {})


def ok(result):
    proc, counts = result
    assert proc.returncode == 0, proc.stdout[-8000:] + proc.stderr[-3000:]
    return proc, counts


def popen_rollout(env, **extra):
    cmd = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(env["inventory"]), ROLLOUT, "-e", json.dumps(extra)]
    run_env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    return subprocess.Popen(cmd, cwd=ROOT, env=run_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)


def read_until(proc, log, marker=None, timeout=240):
    """Copy the playbook's output to `log` until a line contains `marker` (True) or it ends (False)."""
    deadline = time.monotonic() + timeout
    for line in proc.stdout:
        log.write(line)
        log.flush()
        if marker is not None and marker in line:
            return True
        assert time.monotonic() < deadline, f"no {marker!r} within {timeout}s"
    return False


def rules(permissions):
    """Each rule as (protocol, from, to, peer): a CIDR or a security group id."""
    found = set()
    for p in permissions:
        for r in p.get("IpRanges", []):
            found.add((p["IpProtocol"], p.get("FromPort"), p.get("ToPort"), r["CidrIp"]))
        for r in p.get("Ipv6Ranges", []):
            found.add((p["IpProtocol"], p.get("FromPort"), p.get("ToPort"), r["CidrIpv6"]))
        for r in p.get("UserIdGroupPairs", []):
            found.add((p["IpProtocol"], p.get("FromPort"), p.get("ToPort"), r["GroupId"]))
        for r in p.get("PrefixListIds", []):
            found.add((p["IpProtocol"], p.get("FromPort"), p.get("ToPort"), r["PrefixListId"]))
    return found


def document(value):
    """A policy document as IAM returns it (URL-encoded JSON, or already parsed)."""
    if isinstance(value, str):
        value = json.loads(urllib.parse.unquote(value))
    return value


def listed(value):
    return value if isinstance(value, list) else [value]


def test_security_groups_allow_exactly_the_needed_flows(env):
    groups = client("ec2").describe_security_groups(Filters=[TAG])["SecurityGroups"]
    by_name = {g["GroupName"]: g for g in groups}
    assert sorted(by_name) == sorted(f"{k}-{SUFFIX}" for k in ("alb", "app", "migrator", "db"))
    alb, app, migrator, db = (by_name[f"{k}-{SUFFIX}"] for k in ("alb", "app", "migrator", "db"))
    ids = {"alb": alb["GroupId"], "app": app["GroupId"], "migrator": migrator["GroupId"], "db": db["GroupId"]}

    vpc_cidr = client("ec2").describe_vpcs(Filters=[TAG])["Vpcs"][0]["CidrBlock"]
    # The test listener's ports (the idle color): from the VPC and the migrator only, as
    # network_test_ingress_cidrs is empty by default; never from 0.0.0.0/0.
    test_flows = {("tcp", port, port, peer) for port in TEST_PORTS for peer in (vpc_cidr, ids["migrator"])}
    assert rules(alb["IpPermissions"]) == {("tcp", 80, 80, "0.0.0.0/0"), ("tcp", 443, 443, "0.0.0.0/0")} | test_flows
    assert not [r for r in rules(alb["IpPermissions"]) if r[1] in TEST_PORTS and r[3] in ("0.0.0.0/0", "::/0")]
    assert rules(alb["IpPermissionsEgress"]) == {("tcp", APP_PORT, APP_PORT, ids["app"])}
    assert rules(app["IpPermissions"]) == {("tcp", APP_PORT, APP_PORT, ids["alb"])}
    assert rules(app["IpPermissionsEgress"]) == {("tcp", 443, 443, "0.0.0.0/0"), ("tcp", DB_PORT, DB_PORT, ids["db"])}
    assert rules(migrator["IpPermissions"]) == set()
    assert rules(migrator["IpPermissionsEgress"]) == {("tcp", 443, 443, "0.0.0.0/0"), ("tcp", DB_PORT, DB_PORT, ids["db"])} | {
        ("tcp", port, port, ids["alb"]) for port in TEST_PORTS}
    assert rules(db["IpPermissions"]) == {("tcp", DB_PORT, DB_PORT, ids["app"]), ("tcp", DB_PORT, DB_PORT, ids["migrator"])}
    assert rules(db["IpPermissionsEgress"]) == set()

    # Each group is where it belongs: the ALB, the services, the cluster, the function.
    lb = client("elbv2").describe_load_balancers()["LoadBalancers"]
    assert [x["SecurityGroups"] for x in lb] == [[ids["alb"]]]
    ecs = client("ecs")
    cluster = ecs.list_clusters()["clusterArns"][0]
    services = ecs.describe_services(cluster=cluster, services=ecs.list_services(cluster=cluster)["serviceArns"])["services"]
    assert len(services) == 2
    for service in services:
        assert service["networkConfiguration"]["awsvpcConfiguration"]["securityGroups"] == [ids["app"]]
        assert service["networkConfiguration"]["awsvpcConfiguration"].get("assignPublicIp", "DISABLED") == "DISABLED"
    db_cluster = client("rds").describe_db_clusters()["DBClusters"][0]
    assert [g["VpcSecurityGroupId"] for g in db_cluster["VpcSecurityGroups"]] == [ids["db"]]
    assert not db_cluster.get("PubliclyAccessible", False)
    function = client("lambda").list_functions()["Functions"][0]
    assert function["VpcConfig"]["SecurityGroupIds"] == [ids["migrator"]]


def test_iam_roles_have_exact_trust_and_no_wildcards(env):
    iam = client("iam")
    secret_arn = client("secretsmanager").list_secrets()["SecretList"][0]["ARN"]
    expected = {
        # role: (trusted service, managed policies, inline statements' (actions, resources))
        f"app-execution-{SUFFIX}-us-east-1": (
            "ecs-tasks.amazonaws.com",
            ["arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"],
            [(["secretsmanager:GetSecretValue"], [secret_arn])],
        ),
        f"app-task-{SUFFIX}-us-east-1": ("ecs-tasks.amazonaws.com", [], []),
        f"migrator-{SUFFIX}-us-east-1": (
            "lambda.amazonaws.com",
            ["arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"],
            [(["secretsmanager:GetSecretValue"], [secret_arn])],
        ),
    }
    ours = sorted(r["RoleName"] for r in iam.list_roles()["Roles"] if r["RoleName"].endswith(f"-{SUFFIX}-us-east-1"))
    assert ours == sorted(expected)
    assert iam.list_policies(Scope="Local")["Policies"] == []

    for name, (service, managed, statements) in expected.items():
        role = iam.get_role(RoleName=name)["Role"]
        trust = document(role["AssumeRolePolicyDocument"])
        assert [(s["Effect"], s["Principal"], listed(s["Action"])) for s in trust["Statement"]] == [
            ("Allow", {"Service": service}, ["sts:AssumeRole"])
        ], name
        attached = [p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]]
        assert attached == managed, name

        found = []
        for policy_name in iam.list_role_policies(RoleName=name)["PolicyNames"]:
            policy = document(iam.get_role_policy(RoleName=name, PolicyName=policy_name)["PolicyDocument"])
            for statement in listed(policy["Statement"]):
                actions, resources = listed(statement.get("Action", [])), listed(statement.get("Resource", []))
                assert statement["Effect"] == "Allow" and "NotAction" not in statement and "NotResource" not in statement, (name, statement)
                # No wildcard action (`*` or `service:*`) on every resource.
                for action in actions:
                    assert not (action == "*" or action.endswith(":*")), (name, statement)
                assert "*" not in resources, (name, statement)
                found.append((actions, resources))
        assert found == statements, name

    # The roles are the ones the task definitions and the function run with.
    ecs = client("ecs")
    for arn in ecs.list_task_definitions()["taskDefinitionArns"]:
        definition = ecs.describe_task_definition(taskDefinition=arn)["taskDefinition"]
        assert definition["executionRoleArn"].endswith(f":role/app-execution-{SUFFIX}-us-east-1"), arn
        assert definition["taskRoleArn"].endswith(f":role/app-task-{SUFFIX}-us-east-1"), arn
    function = client("lambda").list_functions()["Functions"][0]
    assert function["Role"].endswith(f":role/migrator-{SUFFIX}-us-east-1")


# plan.yml on the same environment: before the deploy (the whole stack to create, nothing
# written), once deployed (no change), then after eight changes made by hand (exactly those,
# failing with plan_fail_on_drift), which site.yml puts back before the rollouts below.
PLAN = "playbooks/plan.yml"
PLAN_ROLES = ["network", "aurora", "ecs_service", "migrator_lambda"]
KNOWN = "(known after create)"
BY_HAND = "registry.example.com/shop:by-hand"
CLUSTER = f"app-{SUFFIX}"


def plan(env, **extra):
    """(process, JSON report, the terminal's plan lines) of one plan.yml run."""
    proc, dummy = play(env, PLAN, **extra)
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
    return sorted((role, c["action"], c["resource"], c["name"], tuple(sorted(c["fields"]))) for role in PLAN_ROLES for c in report["roles"][role])


def test_an_empty_account_plans_every_role_as_created_and_writes_nothing(env):
    proc, report, lines = env["empty"]
    assert proc.returncode == 0, proc.stdout[-6000:]
    assert env["empty_writes"] == [], env["empty_writes"]
    assert report["changed"] is True and report["environment_suffix"] == SUFFIX
    assert set(report["summary"]) == {"create", "update", "replace", "delete"}
    assert report["summary"]["create"] == sum(report["summary"].values())
    for role in PLAN_ROLES:
        assert report["roles"][role] and {c["action"] for c in report["roles"][role]} == {"create"}, role
    created = {(c["resource"], c["name"]) for role in PLAN_ROLES for c in report["roles"][role]}
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
    assert report["roles"] == {role: [] for role in PLAN_ROLES}
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


def test_drift_is_planned_exactly_fails_when_asked_and_site_puts_it_back(env):
    released = state()["image"]["blue"]
    expected = drift_by_hand()
    proc, report, lines = plan(env, plan_fail_on_drift=True)
    assert proc.returncode != 0, proc.stdout[-6000:]
    assert changes(report) == expected, report["roles"]
    assert report["summary"] == {"create": 0, "update": 8, "replace": 0, "delete": 0}
    assert lines[0] == f"{SUFFIX}: 8 changes (8 to update)"
    assert len(lines) == 1 + 3 + 8, lines
    needles = [f"update security group app-{SUFFIX}: ingress", "tcp 22-22 0.0.0.0/0", "/changed-by-hand", "changed-by-hand -> local-demo",
               f"update subnet isolated-a-{SUFFIX}: map_public_ip_on_launch True -> False",
               f"update aurora cluster aurora-{SUFFIX}: backup_retention_period 9 ->",
               f"update ECS service app-blue-{SUFFIX}: image {BY_HAND} -> {released} (not the image its bluegreen:image tag records as released)"]
    for needle in needles:
        assert any(needle in line for line in lines), (needle, lines)
    text = flat(proc)
    assert "drifted from the inputs" in text and all(f"update {item[2]} {item[3]}" in text for item in expected), text[-4000:]

    ok(play(env, "site.yml"))
    # The live service is back on the released image (a new revision of it), waited for.
    assert state()["image"]["blue"] == released
    proc, report, lines = plan(env, plan_fail_on_drift=True)
    assert proc.returncode == 0, (lines, proc.stdout[-6000:])
    assert report["changed"] is False and lines == [f"{SUFFIX}: no change, AWS matches the inputs"]


def test_check_mode_prints_the_plan_and_changes_nothing(env):
    emulator = env["emulator"]
    before = state()
    emulator.reset_recording()
    proc, counts = ok(play(env, ROLLOUT, ["--check"], rollout_image="nginx:1.27", rollout_bake_seconds=60, rollout_drain_seconds=30,
                           rollout_bake_alarm_window=True))
    assert emulator.mutating_requests() == [] and emulator.lambda_invocations() == []
    assert counts["changed"] == 0 and state() == before
    live, new = before["live"], OTHER[before["live"]]
    text = flat(proc)
    for line in (f"deploy: app-{new}-{SUFFIX} with nginx:1.27, {new} scaled to 2 tasks",
                 "gate healthy-targets before step 1", "gate schema-expand before step 1: migrator apply expand",
                 # every step bakes the alarms' window: 3 periods of 60 s, + 60 s until CloudWatch has the metrics
                 # (the YAML callback doubles the quote)
                 f"step 1/3: {new} 10 / {live} 90, bake 240 s (the alarms'' window 180 s + 60 s metric delay)",
                 f"step 2/3: {new} 50 / {live} 50, bake 240 s",
                 f"step 3/3: {new} 100 / {live} 0, bake 240 s (the alarms'' window 180 s + 60 s metric delay)",
                 f"gate alarms: app-{new}-cpu-{SUFFIX}, app-{new}-unhealthy-hosts-{SUFFIX}, app-{new}-target-5xx-{SUFFIX} not in ALARM",
                 f"promote: live-color tag {new}, drain 30 s, {live} scaled to 0",
                 # 3 x 240 s bake + 30 s drain + ~60 s task start + 2 x 30 s health checks
                 "estimated duration: ~870 s (bake 3 x 240 s + drain 30 s + waits ~120 s)"):
        assert line in text, line
    # The deploy tasks never ran
    assert "Deploy |" not in proc.stdout and "Step |" not in proc.stdout


def test_rollout_moves_the_traffic_and_site_then_changes_nothing(env):
    emulator = env["emulator"]
    before = state()
    live, new = before["live"], OTHER[before["live"]]
    assert before["weights"] == {live: 100, new: 0}
    emulator.reset_recording()
    queue(emulator, 4)  # expand + validate at each of the 3 steps
    proc, counts = ok(play(env, ROLLOUT, VERBOSE, rollout_image="nginx:1.27", **FAST))
    logged(proc, "rollout", env["logs"])
    after = state()
    assert after["live"] == new and after["weights"] == {new: 100, live: 0}
    assert after["image"][new] == "nginx:1.27" and after["desired"] == {new: 2, live: 0} and after["running"][live] == 0
    # A rollback returns to the retired color while it runs the revision it ran at the promotion.
    retired = client("ecs").describe_services(cluster=f"app-{SUFFIX}", services=[f"app-{live}-{SUFFIX}"])["services"][0]["taskDefinition"]
    assert after["rollback_to"] == f"{live} {retired}"
    assert emulator.lambda_invocations() == [{"action": "apply", "phase": "expand"}] + [{"action": "validate", "expect": {"no_pending": "expand"}}] * 3
    # The weights went through every step, in order (ModifyListener requests)
    # (the production listener's; the test listener moves to the retired color at the promotion)
    assert traffic_listener_shifts(emulator, new) == [10, 50, 100]
    text = flat(proc)
    for gate in ("gate healthy-targets passed before step 1", "gate schema-expand passed before step 1",
                 "gate alarms passed at step 2/3 (50 %)", "gate schema passed at step 3/3 (100 %)"):
        assert gate in text, gate
    assert json.loads((env["outputs"] / f"{SUFFIX}.json").read_text())["live_color"] == new

    # The same rollout again: nothing to do.
    dummy, counts = ok(play(env, ROLLOUT, rollout_image="nginx:1.27", **FAST))
    assert counts["changed"] == 0 and state() == after

    # status.yml: what AWS has, the schema version from the migrator, alarms
    queue(emulator, 1, {"ok": True, "action": "status", "current_version": 3, "latest_version": 3, "pending": []})
    proc, counts = ok(play(env, STATUS))
    text = flat(proc)
    assert counts["changed"] == 0
    assert f"live color {new}" in text and f"{new} (live): weight 100, 2/2 tasks running, 2/2 targets healthy" in text
    assert f"{live}: weight 0, 0/0 tasks running" in text and "(nginx:1.27)" in text
    assert "schema: version 3 (latest 3, pending 0)" in text and "alarms in ALARM: none" in text and "lock: free" in text
    assert f"rollback: would send the traffic to {live} (previous color)" in text
    # ... and without a migrator answer (moto echoes the payload) the version is unknown, not an error
    proc, dummy = ok(play(env, STATUS))
    assert "schema: unknown" in flat(proc)

    # site.yml with the inventory's image (the seed, not the rolled-out one) keeps green live
    # on nginx:1.27 and changes nothing: after the first deploy the image is the rollout's.
    proc, counts = ok(play(env, "site.yml"))
    assert counts["changed"] == 0, [line for line in proc.stdout.splitlines() if line.startswith(("changed", "TASK"))][-60:]
    assert state() == after
    # ... so a rollout without an image has nothing to roll out: the new image stays.
    proc, counts = ok(play(env, ROLLOUT, **FAST))
    assert counts["changed"] == 0 and state() == after
    assert "nothing to roll out" in flat(proc)


def test_rollback_restores_the_previous_color(env):
    before = state()
    live, previous = before["live"], OTHER[before["live"]]
    proc, counts = ok(play(env, ROLLBACK, ["--check"]))
    assert counts["changed"] == 0 and state() == before
    assert f"traffic to {previous}" in flat(proc)

    ok(play(env, ROLLBACK, rollout_drain_seconds=0))
    after = state()
    # The previous color (scaled to 0 after the rollout) was scaled up first and runs its old definition.
    assert after["live"] == previous and after["weights"] == {previous: 100, live: 0}
    assert after["desired"] == {previous: 2, live: 0} and after["image"][previous] == before["image"][previous]
    assert json.loads((env["outputs"] / f"{SUFFIX}.json").read_text())["live_color"] == previous
    # A second rollback would undo this one: the listener says there is nothing to return to.
    assert after["rollback_to"] == "none"


def test_alarm_at_step_2_rolls_back_and_fails_naming_the_gate_and_step(env, tmp_path):
    emulator = env["emulator"]
    cloudwatch = client("cloudwatch")
    before = state()
    live, new = before["live"], OTHER[before["live"]]
    alarm = f"app-{new}-target-5xx-{SUFFIX}"
    emulator.reset_recording()
    queue(emulator, 2)  # expand + validate at step 1; step 2 stops at the alarm gate
    with open(tmp_path / "rollout.log", "w") as log:
        proc = popen_rollout(env, rollout_image="nginx:1.28", rollout_bake_seconds=2, rollout_drain_seconds=0)
        try:
            # Step 1's gates passed; set the alarm while step 2 bakes.
            assert read_until(proc, log, "blue_green : Step | shift the weights at step 2/3"), (tmp_path / "rollout.log").read_text()[-4000:]
            cloudwatch.set_alarm_state(AlarmName=alarm, StateValue="ALARM", StateReason="5xx forced by the test")
            read_until(proc, log)  # to the end
        finally:
            proc.wait(timeout=120)
            cloudwatch.set_alarm_state(AlarmName=alarm, StateValue="OK", StateReason="reset by the test")
    output = " ".join((tmp_path / "rollout.log").read_text().split())
    assert proc.returncode != 0, output[-4000:]
    assert (f"Rollout of nginx:1.28 to {new} aborted: gate alarms failed at step 2/3 (50 %): {alarm} in ALARM "
            f"(5xx forced by the test). Traffic is back on {live} (weight 100), {new} is scaled to 0.") in output
    assert "gate alarms passed at step 1/3 (10 %)" in output
    after = state()
    assert after["live"] == live and after["weights"] == {live: 100, new: 0}
    assert after["desired"] == {live: 2, new: 0} and after["image"][live] == before["image"][live]
    assert len(emulator.lambda_invocations()) == 2

    # The rollback a release workflow runs after a failed rollout: the other color runs the
    # release that just failed, so it returns nowhere and writes nothing but its lock.
    emulator.reset_recording()
    proc, counts = ok(play(env, ROLLBACK))
    assert "nothing to roll back: the last rollout did not complete (aborted or rolled back) and " + live in flat(proc)
    assert {c["service"] for c in emulator.mutating_requests()} <= {"dynamodb"}, emulator.mutating_requests()
    assert state() == after
    # ... and a rollout of the image already live moves nothing and leaves that so (it only
    # registers that image in the idle family again, whose latest revision is the failed one).
    ok(play(env, ROLLOUT, rollout_image=after["image"][live], **FAST))
    assert state() == after and after["rollback_to"] == "none"


def test_killed_rollout_resumes_from_the_weights_aws_has(env, tmp_path):
    emulator = env["emulator"]
    before = state()
    live, new = before["live"], OTHER[before["live"]]
    emulator.reset_recording()
    queue(emulator, 1)  # the killed run gets as far as expand
    with open(tmp_path / "killed.log", "w") as log:
        proc = popen_rollout(env, rollout_image="nginx:1.29", rollout_bake_seconds=30, rollout_drain_seconds=0)
        try:
            assert read_until(proc, log, "blue_green : Step | bake, at step 1/3"), (tmp_path / "killed.log").read_text()[-4000:]
        finally:
            if proc.poll() is None:
                kill_playbook(proc)
            proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    halfway = state()
    assert halfway["live"] == live and halfway["weights"] == {live: 90, new: 10} and halfway["image"][new] == "nginx:1.29"

    # The killed run still holds the lock: the next rollout is refused before any write, naming
    # it; breaking the lock of the run that is gone lets it continue. Its one request that is not
    # a read is the take itself, a PutItem that DynamoDB refuses on its condition (the status
    # below shows the killed run still holding the lock).
    writes = len(emulator.mutating_requests())
    refused, dummy = play(env, ROLLOUT, rollout_image="nginx:1.29", **FAST)
    assert refused.returncode != 0 and f"environment {SUFFIX} is locked by" in flat(refused), flat(refused)[-3000:]
    attempted = [(c["service"], c["action"], c["params"].get("ConditionExpression") is not None) for c in emulator.mutating_requests()[writes:]]
    assert "-e bluegreen_lock_break=true" in flat(refused) and attempted == [("dynamodb", "PutItem", True)], attempted
    queue(emulator, 1, {"ok": True, "action": "status", "current_version": 3, "latest_version": 3, "pending": []})
    status, dummy = ok(play(env, STATUS))
    assert "lock: held by" in flat(status) and '(playbook "Roll out a new version (blue-green, gated)", rollout)' in flat(status)

    queue(emulator, 4)  # expand again (a no-op for the migrator), validate at steps 1 (again), 2 and 3
    proc, counts = ok(play(env, ROLLOUT, rollout_image="nginx:1.29", bluegreen_lock_break=True, **FAST))
    text = flat(proc)
    assert "broke the lock of" in text
    assert f"resume: {new} already runs nginx:1.29 at weight 10; continuing from there (the bake and gates of that step again first" in text
    # The killed run never finished step 1's bake: its bake and gates run before more traffic moves.
    assert "gate schema passed at step 1/3 (10 %)" in text and "gate schema passed at step 3/3 (100 %)" in text
    assert text.index("gate schema passed at step 1/3") < text.index("at step 2/3")
    after = state()
    assert after["live"] == new and after["weights"] == {new: 100, live: 0}
    assert after["desired"] == {new: 2, live: 0} and after["image"][new] == "nginx:1.29"
    assert len(emulator.lambda_invocations()) == 6  # 5 of the two rollouts, 1 of the status


def test_rollout_whose_lock_was_broken_stops_without_writing(env, tmp_path):
    """Another run broke this rollout's lock during a bake: at the next step's renewal it stops,
    moves nothing back (the environment is the other run's now) and leaves that run's lock."""
    emulator = env["emulator"]
    dynamodb = client("dynamodb")
    before = state()
    live, new = before["live"], OTHER[before["live"]]
    queue(emulator, 2)  # expand + validate at step 1
    with open(tmp_path / "broken.log", "w") as log:
        proc = popen_rollout(env, rollout_image="nginx:1.30", rollout_bake_seconds=8, rollout_drain_seconds=0)
        try:
            assert read_until(proc, log, "blue_green : Step | bake, at step 1/3"), (tmp_path / "broken.log").read_text()[-4000:]
            item = dynamodb.get_item(TableName="bluegreen-locks", Key={"pk": {"S": SUFFIX}}, ConsistentRead=True)["Item"]
            # What a run started with -e bluegreen_lock_break=true writes: the same key, its own token.
            dynamodb.put_item(TableName="bluegreen-locks", Item=dict(item, holder={"S": "erin"}, token={"S": "token-of-erin"}))
            emulator.reset_recording()
            read_until(proc, log)
        finally:
            proc.wait(timeout=120)
    output = " ".join((tmp_path / "broken.log").read_text().split())
    assert proc.returncode != 0, output[-4000:]
    assert f"Rollout of nginx:1.30 to {new} stopped: cannot renew the lock of {SUFFIX}: this run does not hold it" in output, output[-4000:]
    assert "(lock: held by erin" in output and "Nothing was moved back" in output
    # No write to the environment after the lock was lost, and the breaker's lock stays.
    # (the step's schema gate may still run between the break and the next renewal: a read)
    writes = [r for r in emulator.mutating_requests()
              if r["service"] != "dynamodb" and not (r["service"] == "lambda" and r["params"].get("action") == "validate")]
    assert writes == [], writes
    halfway = state()
    assert halfway["weights"] == {live: 90, new: 10} and halfway["image"][new] == "nginx:1.30"
    held = dynamodb.get_item(TableName="bluegreen-locks", Key={"pk": {"S": SUFFIX}}, ConsistentRead=True)["Item"]
    assert held["holder"] == {"S": "erin"}

    # The breaker's run, here a resumed rollout that breaks erin's lock, finishes the job.
    queue(emulator, 4)  # expand again, validate at steps 1 (again: its bake was cut short), 2 and 3
    proc, dummy = ok(play(env, ROLLOUT, rollout_image="nginx:1.30", bluegreen_lock_break=True, **FAST))
    assert f"resume: {new} already runs nginx:1.30 at weight 10; continuing from there" in flat(proc)
    assert state()["weights"] == {new: 100, live: 0}


class Smoke(http.server.BaseHTTPRequestHandler):
    """What the HTTP checks reach: /health answers 200 "status: ok", /broken 503; every path asked is kept."""

    paths = []

    def do_GET(self):  # noqa: N802 (the http.server interface)
        Smoke.paths.append(self.path)
        status, body = (200, b"status: ok") if self.path.startswith("/app/health") else (503, b"down for the test")
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def smoke_server():
    """A real HTTP server on a free loopback port (the emulator's ALB DNS name resolves nowhere);
    the checks reach it through rollout_test_base_url / rollout_production_base_url."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Smoke)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    Smoke.paths = []
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/app"
    finally:
        server.shutdown()
        server.server_close()


def traffic_listener_shifts(emulator, new):
    """The new color's weight in every ModifyListener of the production listener (not the test one)."""
    listener = client("elbv2").describe_listeners(LoadBalancerArn=client("elbv2").describe_load_balancers(Names=[f"app-{SUFFIX}"])[
        "LoadBalancers"][0]["LoadBalancerArn"])["Listeners"]
    production = [item["ListenerArn"] for item in listener if item["Port"] == 80][0]
    return [forward_weights(c["params"]).get(new) for c in emulator.requests()
            if c["action"] == "ModifyListener" and c["params"].get("ListenerArn") == production]


def canary_rules():
    """(header name, values, target color) of every rule but the default one on the production listener."""
    elb = client("elbv2")
    alb = elb.describe_load_balancers(Names=[f"app-{SUFFIX}"])["LoadBalancers"][0]["LoadBalancerArn"]
    production = [item["ListenerArn"] for item in elb.describe_listeners(LoadBalancerArn=alb)["Listeners"] if item["Port"] == 80][0]
    found = []
    for rule in elb.describe_rules(ListenerArn=production)["Rules"]:
        if rule.get("IsDefault"):
            continue
        header = rule["Conditions"][0]["HttpHeaderConfig"]
        target = rule["Actions"][0]["TargetGroupArn"].split("/")[1].split("-")[1]
        found.append((header["HttpHeaderName"], header["Values"], target))
    return found


def test_hooks_of_all_three_kinds_pass_around_the_steps(env, smoke_server, tmp_path):
    emulator = env["emulator"]
    before = state()
    live, new = before["live"], OTHER[before["live"]]
    assert before["test"] == new, "the test listener serves the idle color"
    function = client("lambda").list_functions()["Functions"][0]["FunctionName"]
    custom = tmp_path / "custom_check.yml"
    custom.write_text(
        "- name: Custom check | the new color is the one the test listener serves\n"
        "  ansible.builtin.assert:\n"
        "    that: blue_green_plan.test_listener.color == blue_green_plan.new\n"
        "    success_msg: custom check saw {{ blue_green_plan.new }} on the test listener\n"
    )
    hooks = {
        "before_install": [{"name": "ticket", "lambda": {"function": function, "payload": {"check": "change-ticket"}}}],
        "after_install": [{"name": "smoke", "http": {"url": "/health", "body_regex": "status: ok"}},
                          {"name": "custom", "include_tasks": str(custom)}],
        "before_allow_traffic": [{"name": "production-still-up", "http": {"url": "health", "listener": "production"}}],
        "after_allow_traffic": [{"name": "after", "lambda": {"function": function, "payload": {"check": "after-traffic"}}}],
    }
    emulator.reset_recording()
    queue(emulator, 6)  # the two hook invocations, expand, validate at each of the 3 steps
    proc, counts = ok(play(env, ROLLOUT, rollout_image="nginx:1.31", rollout_hooks=hooks, rollout_test_base_url=smoke_server,
                           rollout_production_base_url=smoke_server, **FAST))
    text = flat(proc)
    assert emulator.lambda_invocations() == (
        [{"check": "change-ticket"}, {"action": "apply", "phase": "expand"}] + [{"action": "validate", "expect": {"no_pending": "expand"}}] * 3
        + [{"check": "after-traffic"}])
    assert Smoke.paths == ["/app/health", "/app/health"]
    for line in ("hook before_install, check ticket passed", "hook after_install, check smoke passed", f"custom check saw {new} on the test listener",
                 "hook before_allow_traffic, check production-still-up passed", "hook after_allow_traffic, check after passed"):
        assert line in text, line
    # In CodeDeploy's order: before the deploy, after it (before any weight), before the first step, after the last.
    order = [text.index(mark) for mark in ("check ticket passed", "Deploy | run it", "check smoke passed", "check production-still-up passed",
                                           "Step | shift the weights at step 1/3", "Step | shift the weights at step 3/3", "check after passed",
                                           "Promote | all traffic")]
    assert order == sorted(order)
    after = state()
    # Promoted: the test listener follows the idle color, now the old one.
    assert after["live"] == new and after["weights"] == {new: 100, live: 0} and after["test"] == live and not after["paused"]


def test_a_failing_after_install_check_leaves_production_untouched_and_names_the_hook(env, smoke_server):
    emulator = env["emulator"]
    before = state()
    live, new = before["live"], OTHER[before["live"]]
    hooks = {"after_install": [{"name": "smoke", "http": {"url": "/broken", "retries": 2, "delay": 1, "timeout": 5}}]}
    emulator.reset_recording()
    proc, dummy = play(env, ROLLOUT, rollout_image="nginx:1.32", rollout_hooks=hooks, rollout_test_base_url=smoke_server, **FAST)
    text = flat(proc)
    assert proc.returncode != 0
    assert (f"Rollout of nginx:1.32 to {new} aborted: hook after_install failed: check smoke (http GET {smoke_server}/broken expects 200 "
            f"(2 tries, 1 s apart)): {smoke_server}/broken answered 503 after 2 tries, expected 200. Traffic is back on {live} (weight 100), "
            f"{new} is scaled to 0.") in text, text[-3000:]
    assert Smoke.paths == ["/app/broken", "/app/broken"]
    after = state()
    assert after["live"] == live and after["weights"] == {live: 100, new: 0} and after["desired"] == {live: 2, new: 0}
    # Production never gave the new color any weight; the migrator was never asked (expand comes after the hook).
    assert set(traffic_listener_shifts(emulator, new)) <= {0}
    assert emulator.lambda_invocations() == []


def test_a_paused_rollout_stops_with_the_split_and_resumes_with_the_header_rule_only_meanwhile(env):
    emulator = env["emulator"]
    before = state()
    live, new = before["live"], OTHER[before["live"]]
    settings = {"rollout_image": "nginx:1.33", "rollout_pause_after_step": 1, "rollout_pause_timeout": 3600,
                "rollout_header_canary": {"name": "X-Canary", "value": "1"}, **FAST}

    # The plan shows the hooks' place, the pause and the rule, with the estimate.
    emulator.reset_recording()
    proc, counts = ok(play(env, ROLLOUT, ["--check"], **settings))
    assert emulator.mutating_requests() == [] and counts["changed"] == 0
    text = flat(proc)
    for line in (f"test listener port 8080 forwards to {new} before any production weight moves",
                 f"header canary: a rule of the production listener (before its weighted default action) sends requests with X-Canary: 1 to {new}",
                 f"pause after step 1/3 (10 %): the run stops with {new} 10 / {live} 90; continue with -e rollout_resume=true",
                 "(then paused until approved)"):
        assert line in text, line
    assert f"step 2/3: {new} 50" not in text and "promote:" not in text

    queue(emulator, 2)  # expand + validate at step 1
    proc, counts = ok(play(env, ROLLOUT, **settings))
    assert "Continue: ansible-playbook playbooks/rollout.yml -i <inventory> -e rollout_resume=true" in flat(proc)
    paused = state()
    assert paused["live"] == live and paused["weights"] == {new: 10, live: 90} and paused["paused"] and paused["image"][new] == "nginx:1.33"
    assert canary_rules() == [("X-Canary", ["1"], new)]

    # Without rollout_resume it stays paused and changes nothing.
    proc, counts = ok(play(env, ROLLOUT, **settings))
    assert counts["changed"] == 0 and state() == paused
    assert "paused after step 1/3 (10 %) for" in flat(proc) and "nothing is changed" in flat(proc)

    queue(emulator, 3)  # expand again, validate at steps 2 and 3
    proc, counts = ok(play(env, ROLLOUT, rollout_resume=True, **settings))
    assert f"resume: {new} already runs nginx:1.33 at weight 10" in flat(proc)
    after = state()
    assert after["live"] == new and after["weights"] == {new: 100, live: 0} and not after["paused"] and after["test"] == live
    assert canary_rules() == []

    # Converged: the same rollout again has nothing to do.
    dummy, counts = ok(play(env, ROLLOUT, **settings))
    assert counts["changed"] == 0 and state() == after


def test_two_rollouts_started_together_exactly_one_proceeds(env):
    """Two rollout.yml launched at once on one environment (two AWX jobs): one takes the lock
    and rolls out; the other fails at the lock, before any write, naming the winner."""
    emulator = env["emulator"]
    before = state()
    live, new = before["live"], OTHER[before["live"]]
    emulator.reset_recording()
    queue(emulator, 4)  # the winner's expand and three validates; the loser invokes nothing
    runs = {
        "alice": popen_rollout(env, rollout_image="nginx:1.31", awx_user_name="alice", awx_job_id=201, **FAST),
        "bob": popen_rollout(env, rollout_image="nginx:1.32", awx_user_name="bob", awx_job_id=202, **FAST),
    }
    outputs = {who: " ".join(proc.communicate(timeout=600)[0].split()) for who, proc in runs.items()}
    codes = {who: proc.returncode for who, proc in runs.items()}
    assert sorted(codes.values())[0] == 0 and sorted(codes.values())[1] != 0, codes
    winner = next(who for who, code in codes.items() if code == 0)
    loser = "bob" if winner == "alice" else "alice"
    text = outputs[loser]
    job = {"alice": 201, "bob": 202}[winner]
    assert f"environment {SUFFIX} is locked by {winner} (AWX job {job})" in text, text[-3000:]
    assert "Nothing was changed." in text and "changed=0" in text, text[-3000:]
    # The loser stopped at the lock: nothing after it ran (no state read, no deploy, no step).
    assert "Read the settings and the blue-green state" not in text and "Step |" not in text, text[-3000:]
    image = {"alice": "nginx:1.31", "bob": "nginx:1.32"}[winner]
    after = state()
    assert after["live"] == new and after["weights"] == {new: 100, live: 0} and after["image"][new] == image
    assert len(emulator.lambda_invocations()) == 4


def test_teardown_refused_held_then_complete_and_again(env):
    """The environment's end (the last test of the module)."""
    emulator, outputs, logs = env["emulator"], env["outputs"], env["logs"]
    secret_arn, password = the_password()
    assert_password_stays_in_secrets_manager(emulator, secret_arn, password, outputs)
    document = json.loads((outputs / f"{SUFFIX}.json").read_text())
    jsonschema.validate(document, SCHEMA)
    deployed = leftovers(SUFFIX)
    assert document["vpc_id"] == deployed["vpcs"][0] and document["region"] == "us-east-1"
    assert sorted(sum(document["subnet_ids"].values(), [])) == sorted(deployed["subnets"])
    assert "```mermaid" in (outputs / f"{SUFFIX}.md").read_text()
    assert document["db_secret_arn"] == secret_arn

    def teardown(args=(), **extra):
        return run_playbook(TEARDOWN, env["inventory"], extra_vars=extra or None, args=list(args))

    # Without the confirmation, or with another environment's name: refused before any AWS call
    emulator.reset_recording()
    for extra in ({}, {"teardown_confirm": "prod"}, {"teardown_confirm": f"prod, {SUFFIX}-2"}):
        refused = teardown(**extra)
        assert refused.returncode != 0
        assert f"pass -e teardown_confirm={SUFFIX} to confirm" in refused.stdout, refused.stdout[-3000:]
    # Confirmed, but a wait that cannot run (its retries are its bound over its delay): refused too.
    refused = teardown(teardown_confirm=SUFFIX, ecs_service_eni_wait_delay=0)
    assert refused.returncode != 0
    assert "ecs_service_eni_wait_delay must be a whole number from 1 to 3600" in " ".join(refused.stdout.split()), refused.stdout[-3000:]
    assert emulator.mutating_requests() == [] and emulator.requests() == []
    assert leftovers(SUFFIX) == deployed and (outputs / f"{SUFFIX}.json").exists()

    # The database's deletion protection on: refused before anything of the environment is deleted
    rds = client("rds")
    rds.modify_db_cluster(DBClusterIdentifier=f"aurora-{SUFFIX}", DeletionProtection=True, ApplyImmediately=True)
    protected = teardown(teardown_confirm=SUFFIX)
    assert protected.returncode != 0 and "has deletion protection on" in " ".join(protected.stdout.split()), protected.stdout[-3000:]
    assert leftovers(SUFFIX) == deployed
    rds.modify_db_cluster(DBClusterIdentifier=f"aurora-{SUFFIX}", DeletionProtection=False, ApplyImmediately=True)

    # A Lambda network interface AWS has not released yet: a bounded, visible wait, then a clear failure
    ec2 = client("ec2")
    migrator_sg = ec2.describe_security_groups(Filters=[TAG, {"Name": "group-name", "Values": [f"migrator-{SUFFIX}"]}])["SecurityGroups"][0]["GroupId"]
    eni = ec2.create_network_interface(
        SubnetId=document["subnet_ids"]["private"][0], Groups=[migrator_sg], Description=f"AWS Lambda VPC ENI-migrator-{SUFFIX}-0b1c2d3e"
    )["NetworkInterface"]["NetworkInterfaceId"]
    held = teardown(["-vvv"], teardown_confirm=SUFFIX, migrator_lambda_eni_wait_timeout=3, migrator_lambda_eni_wait_delay=1)
    logs["held teardown"] = held.stdout + held.stderr
    assert held.returncode != 0
    assert "FAILED - RETRYING" in held.stdout and "retries left" in held.stdout
    text = " ".join(held.stdout.split())
    assert f"still has not released 1 Lambda network interface(s) ({eni}" in text and "Run the teardown again later" in text
    assert f"its execution role migrator-{SUFFIX}-us-east-1 is kept, since Lambda needs it to release them" in text
    still = leftovers(SUFFIX)
    assert still["vpcs"] and still["security_groups"] and not still.get("lambda_functions") and not still.get("load_balancers")
    # Lambda releases the interfaces with the function's execution role: it outlives them.
    assert f"migrator-{SUFFIX}-us-east-1" in still["iam_roles"], still
    ec2.delete_network_interface(NetworkInterfaceId=eni)

    # The teardown proper, confirmed the way a sliced AWX teardown over several environments is
    # (a list of suffixes): nothing of the environment is left in any service
    started = time.monotonic()
    counts = logged(teardown(["-vvv"], teardown_confirm=f"pr-7, {SUFFIX}"), "teardown", logs)
    assert counts["changed"] > 0 and counts["failed"] == 0
    assert leftovers(SUFFIX) == {}
    assert not (outputs / f"{SUFFIX}.json").exists() and not (outputs / f"{SUFFIX}.md").exists()
    print(f"teardown: {time.monotonic() - started:.0f}s")

    # Again: succeeds and changes nothing
    proc, counts = ok(play(env, TEARDOWN, teardown_confirm=SUFFIX))
    assert counts["changed"] == 0 and counts["failed"] == 0, counts
    assert leftovers(SUFFIX) == {}

    assert set(logs) >= {"deploy", "re-run", "rollout", "held teardown", "teardown"}
    for what, log in logs.items():
        assert password not in log, f"the password is in the {what} output"
