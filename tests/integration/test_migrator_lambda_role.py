"""The migrator_lambda role and playbooks/migrate.yml on the emulator.

Role: converge with the network and the secret found by tag and name, an idempotent second
run fed from the bluegreen_network / bluegreen_aurora facts instead (no code re-upload), the
function's shape and code, least-privilege IAM, the log group created before the function,
the password kept out of the function and of -vvv output, and a teardown that leaves nothing.

Playbook: migrate_phase validated before any AWS call, the contract gate on the ALB weights,
the payload sent, and the play failing with the function's own error. moto's simple Lambda
backend does not run the code: an invocation echoes the payload back, or returns the next
answer queued through /moto-api/static/lambda-simple/response. The tests queue real migrator
answers (shaped like migrator/migrator_engine.py's) to drive the playbook; the code itself is
tested against PostgreSQL in tests/unit/migrator.
"""

import ast
import base64
import hashlib
import io
import json
import sys
import zipfile

import pytest

from tests.harness.aws import client, recap, run_playbook
from tests.unit.modules.test_lambda_invoke import create_function

pytestmark = pytest.mark.slow(seconds=145)

ROLE_PLAYBOOK = "tests/integration/playbooks/migrator_lambda.yml"
MIGRATE_PLAYBOOK = "playbooks/migrate.yml"
SUFFIX = "it-migrator"
# The database password planted in the secret: it must show up nowhere else.
CANARY = "Zq7migratorCanary42"
VPC_ACCESS = "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"


def network_and_secret(ec2, sm, suffix=SUFFIX):
    """What the network and aurora roles leave behind, tagged and named as they do."""

    def tags(kind, name, tier=None):
        found = [{"Key": "bluegreen:environment", "Value": suffix}, {"Key": "bluegreen:component", "Value": "network"},
                 {"Key": "Name", "Value": name}]
        if tier:
            found.append({"Key": "bluegreen:tier", "Value": tier})
        return [{"ResourceType": kind, "Tags": found}]

    vpc = ec2.create_vpc(CidrBlock="10.43.0.0/16")["Vpc"]["VpcId"]
    subnets = {"private": [], "public": []}
    for index, zone in enumerate("ab"):
        for tier, base in (("private", 10), ("public", 0)):
            subnets[tier].append(ec2.create_subnet(
                VpcId=vpc, CidrBlock=f"10.43.{base + index}.0/24", AvailabilityZone=f"us-east-1{zone}",
                TagSpecifications=tags("subnet", f"{tier}-{zone}-{suffix}", tier),
            )["Subnet"]["SubnetId"])
    # a migrator group of another environment in the same account must not be picked
    ec2.create_security_group(GroupName="migrator-other", Description="other", VpcId=vpc)
    group = ec2.create_security_group(GroupName=f"migrator-{suffix}", Description="migrator", VpcId=vpc,
                                      TagSpecifications=tags("security-group", f"migrator-{suffix}"))["GroupId"]
    secret = sm.create_secret(
        Name=f"aurora-credentials-{suffix}",
        SecretString=json.dumps({"username": "dbadmin", "password": CANARY, "host": "db.internal", "port": 5432, "dbname": "appdb"}),
    )["ARN"]
    return vpc, subnets, group, secret


def play_role(tmp_path, state="present", extra=None, args=()):
    extra_vars = {"environment_suffix": SUFFIX, "migrator_lambda_state": state, "migrator_lambda_build_dir": str(tmp_path / "build")}
    extra_vars.update(extra or {})
    proc = run_playbook(ROLE_PLAYBOOK, inventory="localhost,", extra_vars=extra_vars, args=list(args))
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    return proc, recap(proc.stdout)["localhost"]


def test_migrator_role_converges_idempotently_least_privilege_and_tears_down(aws, tmp_path):
    ec2, sm, lam, iam, logs = client("ec2"), client("secretsmanager"), client("lambda"), client("iam"), client("logs")
    vpc, subnets, group, secret_arn = network_and_secret(ec2, sm)

    # 1. Nothing passed in: subnets, security group and secret are found by tag and name.
    first, counts = play_role(tmp_path, args=["-vvv"])
    assert counts["changed"] > 0 and counts["failed"] == 0
    calls = aws.requests()
    assert CANARY not in first.stdout + first.stderr, "the password leaked into the -vvv output"

    # 2. Fed from the other roles' facts instead: same configuration, same code, nothing sent.
    aws.reset_recording()
    facts = {"bluegreen_network": {"vpc_id": vpc, "subnets": {"private": subnets["private"], "public": subnets["public"]},
                                   "security_groups": {"migrator": group}},
             "bluegreen_aurora": {"secret_arn": secret_arn}}
    second, counts = play_role(tmp_path, extra=facts)
    assert counts["changed"] == 0, second.stdout[-6000:]
    # (REST reads such as Lambda's GET /functions/<name> are named by method and path)
    writes = [c for c in aws.mutating_requests() if not c["action"].startswith(("GET ", "HEAD "))]
    assert writes == [], "a re-run must not re-upload the code or touch the configuration"
    discovery = {"DescribeSubnets", "DescribeSecurityGroups", "DescribeSecret", "GetSecretValue"}
    assert not discovery & {c["action"] for c in aws.requests()}, "the facts' values must be used, not discovery"
    # One module run read the role, the log group and the function (one GetFunction: no
    # ListTags, no second GET); neither the log group's nor the function's writer ran.
    reads = sorted(c["action"] for c in aws.requests() if c["service"] in ("lambda", "logs"))
    assert len([c for c in aws.requests() if c["service"] == "lambda"]) == 1, reads
    assert [a for a in reads if not a.startswith("GET ")] == ["DescribeLogGroups", "ListTagsLogGroup"], reads
    # The plan names nothing for the writers: their task file is skipped, none of them starts.
    after = second.stdout[second.stdout.index("Execution role, log group and function the plan names"):]
    assert after.split("TASK [")[0].count("skipping: [localhost]") == 1, after[:600]
    for task in ("Migrator function in the private subnets", "Log group of the function with its retention"):
        assert task not in second.stdout, task
    assert discovery <= {c["action"] for c in calls}
    dummy, counts = play_role(tmp_path, extra=facts, args=["--check"])
    assert counts["changed"] == 0

    # The function: handler, runtime, sizes, VPC placement, the secret's ARN and never the password.
    config = lam.get_function(FunctionName=f"migrator-{SUFFIX}")["Configuration"]
    assert config["Handler"] == "index.handler" and config["Runtime"] == "python3.12"
    assert config["Timeout"] == 300 and config["MemorySize"] == 512
    assert sorted(config["VpcConfig"]["SubnetIds"]) == sorted(subnets["private"])
    assert config["VpcConfig"]["SecurityGroupIds"] == [group]
    assert config["Environment"]["Variables"] == {"DB_SECRET_ARN": secret_arn, "MIGRATOR_SSLMODE": "require"}
    assert config["Role"] == f"arn:aws:iam::123456789012:role/migrator-{SUFFIX}-us-east-1"
    assert CANARY not in json.dumps(config, default=str)
    tags = lam.list_tags(Resource=config["FunctionArn"])["Tags"]
    assert tags["bluegreen:environment"] == SUFFIX and tags["bluegreen:component"] == "migrator_lambda"
    assert tags["bluegreen:owner"] == "integration-test"

    # The uploaded code (moto has no download URL for zip functions: read the recorded upload).
    creates = [c for c in calls if c["service"] == "lambda" and c["method"] == "POST" and c["path"].endswith("/functions")]
    assert len(creates) == 1
    upload = base64.b64decode(creates[0]["params"]["Code"]["ZipFile"])
    assert base64.b64encode(hashlib.sha256(upload).digest()).decode() == config["CodeSha256"]
    assert CANARY.encode() not in upload and CANARY not in json.dumps(creates[0]["params"]["Environment"])
    with zipfile.ZipFile(io.BytesIO(upload)) as zf:
        names = zf.namelist()
        tree = ast.parse(zf.read("index.py"))
        manifest = json.loads(zf.read("manifest.json"))
    assert "handler" in [n.name for n in tree.body if isinstance(n, ast.FunctionDef)]
    assert "migrator_engine.py" in names and "pg8000/native.py" in names
    assert [m["file"] for m in manifest["migrations"]] == [n.split("/", 1)[1] for n in sorted(names) if n.startswith("migrations/")]
    assert (tmp_path / "build" / f"migrator-{SUFFIX}.zip").read_bytes() == upload

    # IAM: assumable by Lambda only; VPC access; GetSecretValue on this one secret only.
    role = iam.get_role(RoleName=f"migrator-{SUFFIX}-us-east-1")["Role"]
    trust = role["AssumeRolePolicyDocument"]
    trust = json.loads(trust) if isinstance(trust, str) else trust
    assert [(s["Effect"], s["Principal"], s["Action"]) for s in trust["Statement"]] == [
        ("Allow", {"Service": "lambda.amazonaws.com"}, "sts:AssumeRole")]
    attached = iam.list_attached_role_policies(RoleName=role["RoleName"])["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == [VPC_ACCESS]
    assert iam.list_role_policies(RoleName=role["RoleName"])["PolicyNames"] == [f"migrator-db-secret-{SUFFIX}"]
    inline = iam.get_role_policy(RoleName=role["RoleName"], PolicyName=f"migrator-db-secret-{SUFFIX}")["PolicyDocument"]
    inline = json.loads(inline) if isinstance(inline, str) else inline
    assert [(s["Effect"], s["Action"], s["Resource"]) for s in inline["Statement"]] == [
        ("Allow", "secretsmanager:GetSecretValue", secret_arn)]

    # Log group: 7 days, no custom key, created before the function.
    groups = logs.describe_log_groups(logGroupNamePrefix=f"/aws/lambda/migrator-{SUFFIX}")["logGroups"]
    assert len(groups) == 1 and groups[0]["retentionInDays"] == 7 and "kmsKeyId" not in groups[0]
    order = [c["action"] for c in calls]
    assert order.index("CreateLogGroup") < calls.index(creates[0])

    published = first.stdout[first.stdout.index("bluegreen_migrator_lambda:"):]
    for value in (f"function_name: migrator-{SUFFIX}", f"function_arn: {config['FunctionArn'].split(':$')[0]}",
                  f"role_arn: {role['Arn']}", f"log_group: /aws/lambda/migrator-{SUFFIX}",
                  f"code_sha256: {config['CodeSha256']}", "handler: index.handler"):
        assert value in published, value

    # Teardown leaves nothing, and a second teardown has nothing to do.
    dummy, counts = play_role(tmp_path, "absent")
    assert counts["changed"] > 0
    assert lam.list_functions()["Functions"] == []
    assert logs.describe_log_groups(logGroupNamePrefix="/aws/lambda/")["logGroups"] == []
    assert [r["RoleName"] for r in iam.list_roles()["Roles"] if r["RoleName"].startswith("migrator-")] == []
    dummy, counts = play_role(tmp_path, "absent")
    assert counts["changed"] == 0


def test_an_environment_lambda_would_refuse_fails_naming_its_keys_before_any_write(aws, tmp_path):
    """moto accepts a reserved key such as AWS_REGION; Lambda answers InvalidParameterValueException
    once the role and the log group are written. The role refuses it before writing anything."""
    network_and_secret(client("ec2"), client("secretsmanager"))
    aws.reset_recording()
    extra_vars = {"environment_suffix": SUFFIX, "migrator_lambda_build_dir": str(tmp_path / "build"),
                  "migrator_lambda_environment": {"AWS_REGION": "eu-west-1", "DB_PASSWORD": CANARY, "LOG_LEVEL": "info"}}
    proc = run_playbook(ROLE_PLAYBOOK, inventory="localhost,", extra_vars=extra_vars)
    assert proc.returncode != 0, proc.stdout[-3000:]
    assert "migrator_lambda_environment is refused: AWS_REGION: set by the Lambda runtime" in proc.stdout, proc.stdout[-3000:]
    assert "DB_PASSWORD: looks like a password" in proc.stdout
    assert CANARY not in proc.stdout + proc.stderr, "the refused value must not be printed"
    writes = [c["action"] for c in aws.mutating_requests() if not c["action"].startswith(("GET ", "HEAD "))]
    assert writes == [], writes
    assert client("lambda").list_functions()["Functions"] == []


def test_migrator_role_drift_is_corrected_and_a_rerun_only_reads_the_role(aws, tmp_path):
    ec2, sm, iam = client("ec2"), client("secretsmanager"), client("iam")
    dummy, dummy, dummy, secret_arn = network_and_secret(ec2, sm)
    dummy, counts = play_role(tmp_path)
    assert counts["changed"] > 0 and counts["failed"] == 0
    role, policy = f"migrator-{SUFFIX}-us-east-1", f"migrator-db-secret-{SUFFIX}"

    # Changed by hand: trust, an extra managed policy, a wider and an extra inline policy, tags, description.
    iam.update_assume_role_policy(RoleName=role, PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}))
    iam.attach_role_policy(RoleName=role, PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    iam.put_role_policy(RoleName=role, PolicyName=policy, PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": "*"}]}))
    iam.put_role_policy(RoleName=role, PolicyName="by-hand", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}))
    iam.untag_role(RoleName=role, TagKeys=["bluegreen:owner"])
    iam.update_role(RoleName=role, Description="edited by hand")
    # ... and the function's memory and the log group's retention.
    client("lambda").update_function_configuration(FunctionName=f"migrator-{SUFFIX}", MemorySize=128)
    client("logs").put_retention_policy(logGroupName=f"/aws/lambda/migrator-{SUFFIX}", retentionInDays=30)

    dummy, counts = play_role(tmp_path)
    assert counts["changed"] > 0 and counts["failed"] == 0
    assert client("lambda").get_function(FunctionName=f"migrator-{SUFFIX}")["Configuration"]["MemorySize"] == 512
    group = client("logs").describe_log_groups(logGroupNamePrefix=f"/aws/lambda/migrator-{SUFFIX}")["logGroups"][0]
    assert group["retentionInDays"] == 7
    found = iam.get_role(RoleName=role)["Role"]
    trust = found["AssumeRolePolicyDocument"]
    trust = json.loads(trust) if isinstance(trust, str) else trust
    assert [s["Principal"] for s in trust["Statement"]] == [{"Service": "lambda.amazonaws.com"}]
    assert found["Description"] == f"Schema migrator Lambda of {SUFFIX}"
    assert {t["Key"]: t["Value"] for t in found["Tags"]}["bluegreen:owner"] == "integration-test"
    assert [p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]] == [VPC_ACCESS]
    assert iam.list_role_policies(RoleName=role)["PolicyNames"] == [policy]
    inline = iam.get_role_policy(RoleName=role, PolicyName=policy)["PolicyDocument"]
    assert [s["Resource"] for s in inline["Statement"]] == [secret_arn]

    # In shape: one read of the role, no IAM write.
    aws.reset_recording()
    dummy, counts = play_role(tmp_path)
    assert counts["changed"] == 0
    assert sorted(c["action"] for c in aws.requests() if c["service"] == "iam") == sorted(
        ["GetRole", "ListAttachedRolePolicies", "ListRolePolicies", "GetRolePolicy"])


# -- playbooks/migrate.yml ------------------------------------------------------------------
MIGRATE_SUFFIX = "it-migrate"


def inventory(tmp_path, suffix=MIGRATE_SUFFIX):
    """A one-environment inventory (host = suffix, us-east-1) for the operation playbooks."""
    path = tmp_path / "hosts.yml"
    path.write_text(json.dumps({"bluegreen_envs": {"hosts": {suffix: {
        "ansible_connection": "local", "ansible_python_interpreter": sys.executable,
        "environment_suffix": suffix, "aws_region": "us-east-1"}}}}))
    return path


def migrate(tmp_path, phase=None, args=()):
    extra = {"migrate_phase": phase} if phase is not None else None
    proc = run_playbook(MIGRATE_PLAYBOOK, inventory=inventory(tmp_path), extra_vars=extra, args=list(args))
    return proc, recap(proc.stdout).get(MIGRATE_SUFFIX, {})


def flat(proc):
    """stdout with the callback's line wrapping undone."""
    return " ".join(proc.stdout.split())


def deploy_function(lam):
    """A stand-in migrator function (a handler answering {}), once Lambda has it Active."""
    create_function(name=f"migrator-{MIGRATE_SUFFIX}")
    # Lambda refuses to change a function still Pending (the realistic emulator too).
    lam.get_waiter("function_active_v2").wait(FunctionName=f"migrator-{MIGRATE_SUFFIX}", WaiterConfig={"Delay": 1})


def alb_with_weights(ec2, elb, blue, green):
    vpc = ec2.create_vpc(CidrBlock="10.44.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.44.{i}.0/24", AvailabilityZone=f"us-east-1{z}")["Subnet"]["SubnetId"]
               for i, z in enumerate("ab")]
    alb = elb.create_load_balancer(Name=f"app-{MIGRATE_SUFFIX}", Subnets=subnets,
                                   Tags=[{"Key": "bluegreen:environment", "Value": MIGRATE_SUFFIX}])["LoadBalancers"][0]["LoadBalancerArn"]
    groups = [elb.create_target_group(Name=f"app-{color}-{MIGRATE_SUFFIX}", Protocol="HTTP", Port=80, VpcId=vpc,
                                      TargetType="ip")["TargetGroups"][0]["TargetGroupArn"] for color in ("blue", "green")]

    def forward(weights):
        return [{"Type": "forward", "ForwardConfig": {"TargetGroups": [
            {"TargetGroupArn": arn, "Weight": weight} for arn, weight in zip(groups, weights, strict=True)]}}]

    listener = elb.create_listener(LoadBalancerArn=alb, Protocol="HTTP", Port=80,
                                   DefaultActions=forward((blue, green)))["Listeners"][0]["ListenerArn"]
    return alb, lambda b, g: elb.modify_listener(ListenerArn=listener, DefaultActions=forward((b, g)))


def test_migrate_playbook_validates_gates_and_reports_the_functions_answer(aws, tmp_path):
    lam, ec2, elb = client("lambda"), client("ec2"), client("elbv2")

    # A wrong or missing phase fails before any AWS call, naming the variable and the choices.
    for phase in ("sideways", None):
        proc, counts = migrate(tmp_path, phase)
        assert proc.returncode != 0 and counts.get("failed") == 1
        assert ("value of migrate_phase must be one of: expand, contract, got: sideways" if phase
                else "missing required arguments: migrate_phase") in flat(proc)
    assert aws.requests() == [], "migrate.yml called AWS before validating migrate_phase"

    deploy_function(lam)

    # moto's simple backend echoes the payload: not a migrator answer, and the play says so.
    proc, counts = migrate(tmp_path, "expand")
    assert proc.returncode != 0 and "did not answer like the migrator (no ok field)" in flat(proc)
    assert aws.lambda_invocations()[-1] == {"action": "apply", "phase": "expand"}

    # The function's own refusal is the play's failure message.
    refusal = ("V005__drop_orders_legacy_note.sql is a contract migration (line 1: ALTER TABLE orders DROP COLUMN "
               "legacy_note; ban-drop-column); run it with phase contract once the old color is drained")
    aws.queue_lambda_answers({"ok": False, "action": "apply", "phase": "expand", "status": "refused", "applied": [],
                             "refused": {"file": "V005__drop_orders_legacy_note.sql"}, "error": refusal, "current_version": 4})
    proc, counts = migrate(tmp_path, "expand")
    assert proc.returncode != 0 and counts["failed"] == 1
    assert " ".join(refusal.split()) in flat(proc)

    # Success: the summary is printed and the run reports a change only when something was applied.
    aws.queue_lambda_answers({"ok": True, "action": "apply", "phase": "expand", "status": "applied", "changed": True,
                             "applied": [{"version": 1, "file": "V001__create_orders.sql"}], "current_version": 1})
    proc, counts = migrate(tmp_path, "expand")
    assert proc.returncode == 0 and counts["changed"] == 1, proc.stdout[-4000:]
    assert "V001__create_orders.sql" in proc.stdout and "status: applied" in proc.stdout
    aws.queue_lambda_answers({"ok": True, "action": "apply", "phase": "expand", "status": "up_to_date", "applied": [], "current_version": 1})
    proc, counts = migrate(tmp_path, "expand")
    assert proc.returncode == 0 and counts["changed"] == 0

    # --check asks for a plan (a dry run) instead of an apply.
    aws.queue_lambda_answers({"ok": True, "action": "plan", "phase": "expand", "would_apply": [], "current_version": 1})
    proc, counts = migrate(tmp_path, "expand", args=["--check"])
    assert proc.returncode == 0 and aws.lambda_invocations()[-1] == {"action": "plan", "phase": "expand"}

    # Contract: refused without an ALB to confirm the drain, and while both colors have weight.
    sent = len(aws.lambda_invocations())
    proc, dummy = migrate(tmp_path, "contract")
    assert proc.returncode != 0 and f"contract refused: Load balancer app-{MIGRATE_SUFFIX} not found" in flat(proc)
    alb, set_weights = alb_with_weights(ec2, elb, 90, 10)
    # A same-named ALB of another environment does not confirm anything.
    elb.add_tags(ResourceArns=[alb], Tags=[{"Key": "bluegreen:environment", "Value": "someone-else"}])
    proc, dummy = migrate(tmp_path, "contract")
    assert proc.returncode != 0 and (f"contract refused: Load balancer app-{MIGRATE_SUFFIX} in us-east-1 carries bluegreen:environment=someone-else, "
                                     f"not {MIGRATE_SUFFIX}: it belongs to something else") in flat(proc)
    elb.add_tags(ResourceArns=[alb], Tags=[{"Key": "bluegreen:environment", "Value": MIGRATE_SUFFIX}])
    proc, dummy = migrate(tmp_path, "contract")
    assert proc.returncode != 0 and "both colors still take traffic" in flat(proc)
    assert f'"app-blue-{MIGRATE_SUFFIX}": 90' in flat(proc) and f'"app-green-{MIGRATE_SUFFIX}": 10' in flat(proc)
    assert len(aws.lambda_invocations()) == sent, "the function was invoked although the gate refused"

    # Drained: contract runs.
    set_weights(100, 0)
    aws.queue_lambda_answers({"ok": True, "action": "apply", "phase": "contract", "status": "applied",
                             "applied": [{"version": 5, "file": "V005__drop_orders_legacy_note.sql"}], "current_version": 5})
    proc, counts = migrate(tmp_path, "contract")
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert aws.lambda_invocations()[-1] == {"action": "apply", "phase": "contract"}
    assert f"sends traffic to app-blue-{MIGRATE_SUFFIX} only" in flat(proc)
