"""ecs_cluster, ecs_task_definition and ecs_service on the emulator."""

import pytest

from tests.harness.aws import client, run_module
from tests.unit.modules.four_steps import four_steps

ROLE = "arn:aws:iam::123456789012:role/bluegreen-exec"
DB_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf"


def task_definition_args(image="amazon/amazon-ecs-sample", **extra):
    args = {
        "family": "bluegreen-app-t1",
        "cpu": "512",
        "memory": "1024",
        "execution_role_arn": ROLE,
        "containers": [
            {
                "name": "app",
                "image": image,
                "port_mappings": [{"container_port": 80}],
                "environment": {"APP_COLOR": "blue", "APP_ENV": "t1"},
                "secrets": [{"name": "DB_PASSWORD", "value_from": DB_ARN + ":password::"}, {"name": "DB_HOST", "value_from": DB_ARN + ":host::"}],
                "log_configuration": {"log_driver": "awslogs", "options": {"awslogs-group": "/aws/ecs/app-t1", "awslogs-region": "us-east-1"}},
                "health_check": {"command": ["CMD-SHELL", "curl -f http://localhost/ || exit 1"]},
            }
        ],
        "tags": {"bluegreen:environment": "t1"},
    }
    args.update(extra)
    return args


def active_revisions(family="bluegreen-app-t1"):
    return client("ecs").list_task_definitions(familyPrefix=family, status="ACTIVE")["taskDefinitionArns"]


def test_ecs_task_definition_keep_image_seeds_a_new_family_only(aws):
    # A new family takes the image given ...
    seeded = run_module("ecs_task_definition", task_definition_args(image="amazon/amazon-ecs-sample:v1", keep_image=True))
    assert seeded["changed"] is True and seeded["revision"] == 1
    # ... which something else moves on (a rollout registers v2) ...
    assert run_module("ecs_task_definition", task_definition_args(image="amazon/amazon-ecs-sample:v2"))["revision"] == 2
    # ... and a re-run with the seed image keeps v2: no new revision.
    kept = run_module("ecs_task_definition", task_definition_args(image="amazon/amazon-ecs-sample:v1", keep_image=True), diff=True)
    assert kept["changed"] is False and kept["revision"] == 2
    # Any other change still registers a revision, with the image the family has.
    more = task_definition_args(image="amazon/amazon-ecs-sample:v1", keep_image=True, memory="2048")
    changed = run_module("ecs_task_definition", more)
    assert changed["changed"] is True and changed["revision"] == 3 and "memory" in changed["change_reason"]
    assert "image" not in changed["change_reason"]
    image = client("ecs").describe_task_definition(taskDefinition=changed["arn"])["taskDefinition"]["containerDefinitions"][0]["image"]
    assert image == "amazon/amazon-ecs-sample:v2"


def make_network(prefix):
    """A VPC (<prefix>.0.0/16) with two subnets and an app security group, for the services."""
    ec2 = client("ec2")
    vpc = ec2.create_vpc(CidrBlock=f"{prefix}.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"{prefix}.{i}.0/24", AvailabilityZone=f"us-east-1{az}")["Subnet"]["SubnetId"] for i, az in ((1, "a"), (2, "b"))
    ]
    sg = ec2.create_security_group(GroupName="app", Description="app", VpcId=vpc)["GroupId"]
    return {"vpc": vpc, "subnets": subnets, "sg": sg}


@pytest.fixture
def network(aws):
    return make_network("10.20")


def test_ecs_cluster(aws):
    args = {"name": "bluegreen-app-t1", "container_insights": "enabled", "tags": {"bluegreen:environment": "t1"}}
    created = four_steps("ecs_cluster", args)
    assert created["cluster"]["container_insights"] == "enabled"
    assert created["cluster"]["capacity_providers"] == []  # moto omits the key when empty

    changed = four_steps("ecs_cluster", {**args, "container_insights": "disabled", "capacity_providers": ["FARGATE_SPOT", "FARGATE"]})
    assert changed["diff"]["before"]["container_insights"] == "enabled"
    assert changed["cluster"]["capacity_providers"] == ["FARGATE", "FARGATE_SPOT"]
    described = client("ecs").describe_clusters(clusters=["bluegreen-app-t1"], include=["SETTINGS"])["clusters"][0]
    assert described["settings"] == [{"name": "containerInsights", "value": "disabled"}]

    # tags=None leaves the tags alone; the order of the providers does not matter
    same = run_module("ecs_cluster", {"name": "bluegreen-app-t1", "capacity_providers": ["FARGATE", "FARGATE_SPOT"]})
    assert same["changed"] is False and same["cluster"]["tags"] == {"bluegreen:environment": "t1"}

    four_steps("ecs_cluster", {"name": "bluegreen-app-t1", "state": "absent"})


def test_ecs_task_definition_revisions(aws):
    created = four_steps("ecs_task_definition", task_definition_args())
    assert created["revision"] == 1 and created["change_reason"] == "family bluegreen-app-t1 has no active revision"
    assert len(active_revisions()) == 1
    registered = client("ecs").describe_task_definition(taskDefinition=created["arn"])["taskDefinition"]["containerDefinitions"][0]
    assert {s["name"] for s in registered["secrets"]} == {"DB_PASSWORD", "DB_HOST"}
    assert "DB_PASSWORD" not in {e["name"] for e in registered["environment"]}

    # Same definition written differently (order, explicit AWS defaults): no new revision.
    reordered = task_definition_args()
    container = reordered["containers"][0]
    container["secrets"].reverse()
    container["port_mappings"] = [{"container_port": 80, "host_port": 80, "protocol": "tcp"}]
    container["health_check"].update({"interval": 30, "timeout": 5, "retries": 3})
    same = run_module("ecs_task_definition", reordered)
    assert same["changed"] is False and same["revision"] == 1 and same["change_reason"] == ""
    assert len(active_revisions()) == 1

    # A changed image registers exactly one new revision, and says why.
    new_image = task_definition_args(image="amazon/amazon-ecs-sample:v2")
    check = run_module("ecs_task_definition", new_image, check=True)
    assert check["changed"] is True and check["revision"] == 2 and len(active_revisions()) == 1
    updated = run_module("ecs_task_definition", new_image, diff=True)
    assert updated["changed"] is True and updated["revision"] == 2
    assert "containers.app.image" in updated["change_reason"] and "amazon/amazon-ecs-sample:v2" in updated["change_reason"]
    assert updated["diff"]["before"]["containers"]["app"]["image"] == "amazon/amazon-ecs-sample"
    assert updated["tags"] == {"bluegreen:environment": "t1"}
    assert run_module("ecs_task_definition", new_image)["changed"] is False
    assert len(active_revisions()) == 2

    # Removing an option (the task role appears, then goes) is a difference too.
    with_role = run_module("ecs_task_definition", task_definition_args(image="amazon/amazon-ecs-sample:v2", task_role_arn=ROLE))
    assert with_role["revision"] == 3 and "taskRoleArn" in with_role["change_reason"]

    # Absent: one revision is already inactive (deregistered by hand); all three are deleted,
    # so AWS lists the family in no status any more.
    ecs = client("ecs")
    ecs.deregister_task_definition(taskDefinition=active_revisions()[0])
    removed = four_steps("ecs_task_definition", {"family": "bluegreen-app-t1", "state": "absent"})
    assert len(removed["deregistered"]) == 2 and len(removed["deleted"]) == 3
    assert active_revisions() == []
    assert ecs.list_task_definitions(familyPrefix="bluegreen-app-t1", status="INACTIVE")["taskDefinitionArns"] == []


def service_args(network, task_definition, **extra):
    args = {
        "cluster": "bluegreen-app-t1",
        "name": "bluegreen-blue-t1",
        "task_definition": task_definition,
        "desired_count": 2,
        "network": {"subnets": network["subnets"], "security_groups": [network["sg"]]},
        "health_check_grace_period": 60,
        "deployment_configuration": {
            "minimum_healthy_percent": 100,
            "maximum_percent": 200,
            "deployment_circuit_breaker": {"enable": True, "rollback": True},
        },
        "tags": {"bluegreen:environment": "t1"},
    }
    args.update(extra)
    return args


def calls(emulator, action):
    return [c for c in emulator.requests() if c["service"] == "ecs" and c["action"] == action]


def test_ecs_service_circuit_breaker_and_wait(aws, network):
    assert run_module("ecs_cluster", {"name": "bluegreen-app-t1"})["changed"] is True
    td = run_module("ecs_task_definition", task_definition_args())["arn"]
    family_rev = "bluegreen-app-t1:1"

    args = service_args(network, family_rev, wait=True, wait_timeout=30)
    created = four_steps("ecs_service", args)
    service = created["service"]
    assert service["task_definition"] == td
    assert service["network"] == {"subnets": sorted(network["subnets"]), "security_groups": [network["sg"]], "assign_public_ip": False}
    assert service["deployment_configuration"]["deployment_circuit_breaker"] == {"enable": True, "rollback": True}

    # What was sent: moto drops deploymentConfiguration on CreateService, so look at the request.
    create_call = calls(aws, "CreateService")[0]["params"]
    assert create_call["deploymentConfiguration"]["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
    assert create_call["networkConfiguration"]["awsvpcConfiguration"]["assignPublicIp"] == "DISABLED"
    assert create_call["launchType"] == "FARGATE"

    # Only the circuit breaker changes: detected, applied, then idempotent.
    aws.reset_recording()
    no_rollback = service_args(network, family_rev)
    no_rollback["deployment_configuration"]["deployment_circuit_breaker"]["rollback"] = False
    changed = four_steps("ecs_service", no_rollback)
    assert changed["changes"] == ["deployment_configuration.deployment_circuit_breaker.rollback: True -> False"]
    updates = calls(aws, "UpdateService")
    assert len(updates) == 1
    assert updates[0]["params"]["deploymentConfiguration"]["deploymentCircuitBreaker"] == {"enable": True, "rollback": False}
    assert "desiredCount" not in updates[0]["params"] and "taskDefinition" not in updates[0]["params"]
    # ... and back on
    back = run_module("ecs_service", service_args(network, family_rev))
    assert back["changed"] is True
    assert calls(aws, "UpdateService")[-1]["params"]["deploymentConfiguration"]["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}

    # Any other option is compared too: scaling and a new revision in one UpdateService.
    td2 = run_module("ecs_task_definition", task_definition_args(image="amazon/amazon-ecs-sample:v2"))["arn"]
    aws.reset_recording()
    scaled = run_module("ecs_service", service_args(network, td2, desired_count=1), diff=True)
    assert scaled["changed"] is True and scaled["service"]["task_definition"] == td2 and scaled["service"]["desired_count"] == 1
    # A revision's ARN is taken as given: ECS may not describe one registered a moment ago yet.
    assert calls(aws, "DescribeTaskDefinition") == [] and calls(aws, "UpdateService")[0]["params"]["taskDefinition"] == td2
    assert scaled["diff"]["before"]["task_definition"] == td
    assert run_module("ecs_service", service_args(network, td2, desired_count=1))["changed"] is False

    # Options not given are left alone.
    minimal = run_module("ecs_service", {"cluster": "bluegreen-app-t1", "name": "bluegreen-blue-t1"})
    assert minimal["changed"] is False and minimal["service"]["desired_count"] == 1

    # Deleting: scaled to 0 first, then deleted.
    aws.reset_recording()
    four_steps("ecs_service", {"cluster": "bluegreen-app-t1", "name": "bluegreen-blue-t1", "state": "absent", "wait": True})
    actions = [c["action"] for c in aws.mutating_requests() if c["service"] == "ecs"]
    assert actions == ["UpdateService", "DeleteService"]
    assert calls(aws, "UpdateService")[0]["params"]["desiredCount"] == 0


def test_ecs_service_wait_timeout_explains(aws, network):
    # The emulator runs MOTO_ECS_SERVICE_RUNNING=2 tasks per service: ask for 3 and wait.
    run_module("ecs_cluster", {"name": "bluegreen-app-t1"})
    td = run_module("ecs_task_definition", task_definition_args())["arn"]
    result = run_module("ecs_service", service_args(network, td, desired_count=3, wait=True, wait_timeout=3))
    assert result.get("failed") is True, result
    assert "did not reach a steady state within 3s" in result["msg"]
    assert "only 2 of 3 desired tasks are running (1 pending)" in result["msg"]
    assert "IN_PROGRESS" in result["msg"]
    assert result["service"]["running_count"] == 2


def test_ecs_service_errors_are_clear(aws, network):
    run_module("ecs_cluster", {"name": "bluegreen-app-t1"})
    missing_td = run_module("ecs_service", service_args(network, "bluegreen-app-t1:7"))
    assert missing_td["failed"] is True and missing_td["msg"] == "task definition bluegreen-app-t1:7 does not exist"
    td = run_module("ecs_task_definition", task_definition_args())["arn"]
    no_network = run_module("ecs_service", {"cluster": "bluegreen-app-t1", "name": "svc", "task_definition": td})
    assert no_network["failed"] is True and "network required to create it" in no_network["msg"]
    bad_subnet = run_module("ecs_service", {**service_args(network, td), "network": {"subnets": ["subnet-00000000"]}})
    assert bad_subnet["failed"] is True and bad_subnet["msg"].startswith("Failed to create ECS service")
