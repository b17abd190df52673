"""After a deploy (site.yml on the emulator), the security groups have exactly the
least-privilege rules, and the IAM roles exactly the trust and permissions they need: no
wildcard action on every resource, the secret readable by its one ARN only."""

import json
import urllib.parse

import pytest

from tests.harness.aws import client, recap, run_playbook

pytestmark = pytest.mark.slow

INVENTORY = "inventories/local"
SUFFIX = "local"
TAG = {"Name": "tag:bluegreen:environment", "Values": [SUFFIX]}
APP_PORT, DB_PORT = 80, 5432


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


@pytest.fixture(scope="module")
def deployed(emulator, tmp_path_factory):
    emulator.reset()
    outputs = tmp_path_factory.mktemp("outputs")
    proc = run_playbook("site.yml", INVENTORY, extra_vars={"outputs_dir": str(outputs)})
    assert proc.returncode == 0, proc.stdout[-8000:] + proc.stderr[-3000:]
    assert recap(proc.stdout)[SUFFIX]["failed"] == 0
    return emulator


def test_security_groups_allow_exactly_the_needed_flows(deployed):
    groups = client("ec2").describe_security_groups(Filters=[TAG])["SecurityGroups"]
    by_name = {g["GroupName"]: g for g in groups}
    assert sorted(by_name) == sorted(f"{k}-{SUFFIX}" for k in ("alb", "app", "migrator", "db"))
    alb, app, migrator, db = (by_name[f"{k}-{SUFFIX}"] for k in ("alb", "app", "migrator", "db"))
    ids = {"alb": alb["GroupId"], "app": app["GroupId"], "migrator": migrator["GroupId"], "db": db["GroupId"]}

    assert rules(alb["IpPermissions"]) == {("tcp", 80, 80, "0.0.0.0/0"), ("tcp", 443, 443, "0.0.0.0/0")}
    assert rules(alb["IpPermissionsEgress"]) == {("tcp", APP_PORT, APP_PORT, ids["app"])}
    assert rules(app["IpPermissions"]) == {("tcp", APP_PORT, APP_PORT, ids["alb"])}
    assert rules(app["IpPermissionsEgress"]) == {("tcp", 443, 443, "0.0.0.0/0"), ("tcp", DB_PORT, DB_PORT, ids["db"])}
    assert rules(migrator["IpPermissions"]) == set()
    assert rules(migrator["IpPermissionsEgress"]) == {("tcp", 443, 443, "0.0.0.0/0"), ("tcp", DB_PORT, DB_PORT, ids["db"])}
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


def test_iam_roles_have_exact_trust_and_no_wildcards(deployed):
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
