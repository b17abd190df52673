"""The generated database password never leaves Secrets Manager: not in the output of a deploy,
a re-run, a rollout or a teardown at -vvv, not in any file under outputs/, not in the Lambda
environment, not in any task definition (the containers get the secret's ARN via valueFrom)."""

import ipaddress
import json

import pytest

from tests.harness.aws import ROOT, client, recap, run_playbook

pytestmark = pytest.mark.slow

INVENTORY = "inventories/local"
SUFFIX = "local"
ROLLOUT = ROOT / "playbooks" / "rollout.yml"
# What the migrator answers (moto's simple Lambda backend does not run it): all applied.
MIGRATOR_OK = {"ok": True, "action": "apply", "status": "up_to_date", "applied": [], "current_version": 4}


def ready_for_a_rollout(emulator):
    """What the emulator cannot do by itself: healthy targets for both colours, migrator answers."""
    ec2, elb = client("ec2"), client("elbv2")
    private = ec2.describe_subnets(
        Filters=[{"Name": "tag:bluegreen:environment", "Values": [SUFFIX]}, {"Name": "tag:bluegreen:tier", "Values": ["private"]}]
    )["Subnets"]
    for offset, color in enumerate(("blue", "green")):
        arn = elb.describe_target_groups(Names=[f"app-{color}-{SUFFIX}"])["TargetGroups"][0]["TargetGroupArn"]
        ips = [str(ipaddress.ip_network(s["CidrBlock"])[10 + offset]) for s in private[:2]]
        elb.register_targets(TargetGroupArn=arn, Targets=[{"Id": ip, "Port": 80} for ip in ips])
    emulator.queue_lambda_answers(MIGRATOR_OK, 12)


def ok(proc, what):
    assert proc.returncode == 0, f"{what} failed:\n" + proc.stdout[-8000:] + proc.stderr[-3000:]
    assert recap(proc.stdout)[SUFFIX]["failed"] == 0
    return proc.stdout + proc.stderr


def test_the_password_appears_nowhere(aws, tmp_path):
    outputs = tmp_path / "outputs"
    base = {"outputs_dir": str(outputs)}
    logs = {"deploy": ok(run_playbook("site.yml", INVENTORY, extra_vars=base, args=["-vvv", "--diff"]), "deploy")}
    logs["re-run"] = ok(run_playbook("site.yml", INVENTORY, extra_vars=base, args=["-vvv", "--diff"]), "re-run")

    sm = client("secretsmanager")
    secrets = sm.list_secrets()["SecretList"]
    assert len(secrets) == 1
    secret_arn = secrets[0]["ARN"]
    password = json.loads(sm.get_secret_value(SecretId=secret_arn)["SecretString"])["password"]
    assert len(password) >= 16

    if ROLLOUT.exists():
        ready_for_a_rollout(aws)
        fast = {"rollout_image": "nginx:1.27", "rollout_bake_seconds": 0, "rollout_drain_seconds": 0, **base}
        logs["rollout"] = ok(run_playbook(str(ROLLOUT), INVENTORY, extra_vars=fast, args=["-vvv", "--diff"]), "rollout")

    # The Lambda function: its environment names the secret, never the value.
    lam = client("lambda")
    functions = lam.list_functions()["Functions"]
    assert len(functions) == 1
    environment = functions[0].get("Environment", {}).get("Variables", {})
    assert password not in json.dumps(environment)
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

    # No API call carries it but those that store it: the secret and the cluster's master password.
    stored = {(c["service"], c["action"]) for c in aws.requests() if password in json.dumps(c["params"])}
    assert stored <= {("secretsmanager", "CreateSecret"), ("secretsmanager", "PutSecretValue"), ("rds", "CreateDBCluster"), ("rds", "ModifyDBCluster")}, stored

    files = sorted(p for p in outputs.rglob("*") if p.is_file())
    assert files, "the deploy wrote no outputs"
    for path in files:
        assert password not in path.read_text(), path

    logs["teardown"] = ok(run_playbook("playbooks/teardown.yml", INVENTORY, extra_vars={"teardown_confirm": SUFFIX, **base}, args=["-vvv"]), "teardown")
    for what, text in logs.items():
        assert password not in text, f"the password is in the {what} output"
        # -vvv really was verbose, so the check means something.
        assert "ESTABLISH LOCAL CONNECTION" in text, what
