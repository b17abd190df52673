"""The ecs_service role's plan of both colors' task definitions and services
(module_utils/app_tier.plan_application) on answers recorded from the emulator after our writer
modules made them (DescribeTaskDefinition with tags, DescribeServices with tags): nothing planned
when they match, exactly the drifted field when one does not, a create when one is missing, a
revision a rollout made not drift, a service on another image than the one released to it
moved back; and the reads (one DescribeServices, no ListTaskDefinitions)."""

import copy
import json
from pathlib import Path

import pytest

from ansible_collections.bluegreen.migration.plugins.module_utils import app_tier
from ansible_collections.bluegreen.migration.plugins.module_utils.plan import KNOWN_AFTER_CREATE
from ansible_collections.bluegreen.migration.plugins.modules import ecs_service_plan

RECORDED = json.loads((Path(__file__).parent / "recorded" / "application.json").read_text())
COLORS = ("blue", "green")
IMAGE = "public.ecr.aws/ecs-sample-image/amazon-ecs-sample:latest"
SEED = "registry.example.com/shop:seed"
ENV_TAGS = {"bluegreen:environment": "dev", "bluegreen:component": "ecs_service", "owner": "local-demo"}
DB_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:aurora-credentials-dev-AbCdEf"
SETTINGS = {"live_color": "blue", "new_environment": False, "desired_count": 2, "container": "app"}


def wanted_task_definition(color):
    """What the role gives ecs_task_definition (its options after the argument spec), as recorded."""
    return {
        "color": color,
        "family": f"app-{color}-dev",
        "cpu": "512",
        "memory": "1024",
        "network_mode": "awsvpc",
        "requires_compatibilities": ["FARGATE"],
        "execution_role_arn": "arn:aws:iam::123456789012:role/app-execution-dev-us-east-1",
        "task_role_arn": "arn:aws:iam::123456789012:role/app-task-dev-us-east-1",
        "containers": [
            {
                "name": "app",
                "image": SEED,
                "essential": True,
                "port_mappings": [{"container_port": 80, "host_port": None, "protocol": "tcp"}],
                "environment": {"BLUEGREEN_COLOR": color},
                "secrets": [{"name": "DB_HOST", "value_from": f"{DB_ARN}:host::"}, {"name": "DB_PASSWORD", "value_from": f"{DB_ARN}:password::"}],
                "log_configuration": {
                    "log_driver": "awslogs",
                    "options": {"awslogs-group": "/aws/ecs/app-dev", "awslogs-region": "us-east-1", "awslogs-stream-prefix": color},
                },
                "health_check": None,
            }
        ],
        "tags": dict(ENV_TAGS, Name=f"app-{color}-dev", **{"bluegreen:color": color}),
    }


def wanted_service(color):
    """What the role gives ecs_service, the target group bound by the plan."""
    return {
        "color": color,
        "name": f"app-{color}-dev",
        "network": {"subnets": list(RECORDED["subnets"]), "security_groups": [RECORDED["security_group"]], "assign_public_ip": False},
        "load_balancers": [{"target_group_arn": RECORDED["target_groups"][color], "container_name": "app", "container_port": 80}],
        "container_name": "app",
        "container_port": 80,
        "health_check_grace_period": 60,
        "deployment_configuration": {
            "minimum_healthy_percent": 100,
            "maximum_percent": 200,
            "deployment_circuit_breaker": {"enable": True, "rollback": True},
        },
        "tags": dict(ENV_TAGS, Name=f"app-{color}-dev", **{"bluegreen:color": color}),
    }


def definition(color):
    return copy.deepcopy(RECORDED["DescribeTaskDefinition"][color]["taskDefinition"])


def definition_tags(color):
    return dict((t["key"], t["value"]) for t in RECORDED["DescribeTaskDefinition"][color]["tags"])


def service(color):
    return copy.deepcopy(next(s for s in RECORDED["DescribeServices"]["services"] if s["serviceName"] == f"app-{color}-dev"))


def state():
    """The read as read_application returns it: both services on their family's latest revision."""
    return {
        "latest": dict((color, (definition(color), definition_tags(color))) for color in COLORS),
        "services": dict((color, service(color)) for color in COLORS),
        "running": dict((color, definition(color)) for color in COLORS),
    }


def plan(read, **settings):
    return app_tier.plan_application(
        [wanted_task_definition(color) for color in COLORS], [wanted_service(color) for color in COLORS], dict(SETTINGS, **settings), read
    )


def named(changes):
    """(resource, name, action, fields) of every change."""
    return sorted((c["resource"], c["name"], c["action"], tuple(sorted(c["fields"]))) for c in changes)


def registered(color, image, revision):
    """A revision of `color`'s family as the recorded one with another image (as a rollout or a hand registers it)."""
    found = definition(color)
    found["containerDefinitions"][0]["image"] = image
    found["revision"] = revision
    found["taskDefinitionArn"] = found["taskDefinitionArn"].rsplit(":", 1)[0] + ":%d" % revision
    return found


def on(read, color, revision, tags=None):
    """`read` with `color`'s service moved to `revision` (and its tags replaced by `tags`)."""
    read["services"][color]["taskDefinition"] = revision["taskDefinitionArn"]
    read["running"][color] = revision
    if tags is not None:
        read["services"][color]["tags"] = [{"key": k, "value": v} for k, v in tags.items()]
    return read


def service_tags(color, **extra):
    found = dict((t["key"], t["value"]) for t in service(color)["tags"])
    found.update(extra)
    return found


# ---------------------------------------------------------------- nothing to do


def test_the_recorded_task_definitions_and_services_are_in_shape():
    changes, result = plan(state())
    assert changes == []
    assert result["task_definitions"]["apply"] == [] and result["services"]["apply"] == [] and result["services"]["redeploy"] == []
    assert result["task_definitions"]["arns"] == dict((color, definition(color)["taskDefinitionArn"]) for color in COLORS)
    # The writers keep the image the families have (not the seed), and the record as it is.
    assert result["task_definitions"]["images"] == {"blue": IMAGE, "green": IMAGE}
    assert result["services"]["tags"]["blue"]["bluegreen:image"] == IMAGE
    assert result["services"]["found"]["blue"]["desired_count"] == 2


def test_the_idle_color_keeps_its_count():
    read = state()
    read["services"]["green"]["desiredCount"] = 2
    assert plan(read)[0] == []


# ---------------------------------------------------------------- task definitions: each field alone


def drifted_definition(change):
    """The plan when blue's latest revision was changed by `change(definition)`."""
    read = state()
    change(read["latest"]["blue"][0])
    read["running"]["blue"] = read["latest"]["blue"][0]
    return plan(read)


def container(found):
    return found["containerDefinitions"][0]


@pytest.mark.parametrize(
    "field, change",
    [
        ("cpu", lambda d: d.update(cpu="256")),
        ("memory", lambda d: d.update(memory="2048")),
        ("execution_role_arn", lambda d: d.update(executionRoleArn="arn:aws:iam::123456789012:role/other")),
        ("task_role_arn", lambda d: d.update(taskRoleArn="arn:aws:iam::123456789012:role/other")),
        ("app.port_mappings", lambda d: container(d).update(portMappings=[{"containerPort": 8080, "hostPort": 8080, "protocol": "tcp"}])),
        ("app.environment", lambda d: container(d).update(environment=[{"name": "BLUEGREEN_COLOR", "value": "green"}])),
        ("app.environment", lambda d: container(d)["environment"].append({"name": "DEBUG", "value": "1"})),
        ("app.secrets", lambda d: container(d).update(secrets=container(d)["secrets"][:1])),
        ("app.log_configuration", lambda d: container(d)["logConfiguration"]["options"].update({"awslogs-group": "/other"})),
        ("app.log_configuration", lambda d: container(d)["logConfiguration"].update(logDriver="splunk")),
    ],
)
def test_a_drifted_task_definition_field_is_named_alone(field, change):
    changes, result = drifted_definition(change)
    assert named(changes) == [("task definition", "app-blue-dev", "update", (field,))]
    assert result["task_definitions"]["apply"] == ["blue"]
    # A new revision is registered, not deployed: the services stay as they are.
    assert result["services"]["apply"] == [] and result["services"]["redeploy"] == []


def test_the_environment_and_the_log_options_read_as_dicts():
    changes, dummy = drifted_definition(lambda d: container(d).update(environment=[{"name": "BLUEGREEN_COLOR", "value": "green"}]))
    assert changes[0]["fields"]["app.environment"] == {"before": {"BLUEGREEN_COLOR": "green"}, "after": {"BLUEGREEN_COLOR": "blue"}}
    changes, dummy = drifted_definition(lambda d: container(d)["logConfiguration"]["options"].update({"awslogs-group": "/other"}))
    assert changes[0]["fields"]["app.log_configuration"]["before"]["awslogs-group"] == "/other"
    assert changes[0]["fields"]["app.log_configuration"]["after"]["awslogs-group"] == "/aws/ecs/app-dev"


def test_a_tag_of_the_latest_revision_changed_by_hand_is_a_tags_update():
    read = state()
    read["latest"]["green"] = (read["latest"]["green"][0], dict(definition_tags("green"), owner="by-hand"))
    changes, result = plan(read)
    assert named(changes) == [("task definition", "app-green-dev", "update", ("tags",))]
    assert changes[0]["fields"]["tags"]["before"]["owner"] == "by-hand" and result["task_definitions"]["apply"] == ["green"]


def test_a_missing_family_is_created_on_the_seed_image():
    read = state()
    read["latest"]["green"] = None
    read["running"]["green"] = None
    changes, result = plan(read)
    assert named(changes)[0][:3] == ("task definition", "app-green-dev", "create")
    assert result["task_definitions"]["apply"] == ["green"] and result["task_definitions"]["images"]["green"] == SEED
    assert changes[0]["fields"]["app.image"] == {"before": None, "after": SEED}


# ---------------------------------------------------------------- a rollout's revisions are not drift


def test_a_revision_a_rollout_made_and_recorded_is_not_drift():
    # green deployed by a rollout: a new revision with the new image, the record names it.
    released = service_tags("green", **{"bluegreen:image": "registry.example.com/shop:2.4.0"})
    read = on(state(), "green", registered("green", "registry.example.com/shop:2.4.0", 2), released)
    read["latest"]["green"] = (read["running"]["green"], definition_tags("green"))
    read["services"]["green"]["desiredCount"] = 2
    changes, result = plan(read)
    assert changes == [] and result["task_definitions"]["images"]["green"] == "registry.example.com/shop:2.4.0"


def test_the_promotion_s_revision_of_the_retired_family_is_not_drift():
    # green went live; blue's family got the new image too (registered, not deployed): blue still
    # runs revision 1 with the image released to it.
    read = state()
    read["latest"]["blue"] = (registered("blue", "registry.example.com/shop:2.4.0", 2), definition_tags("blue"))
    read["services"]["blue"]["desiredCount"] = 0
    changes, result = plan(read, live_color="green")
    # green (live now) had been idle at 0: the live color runs the desired count.
    assert named(changes) == [("ECS service", "app-green-dev", "update", ("desired_count",))]
    assert result["services"]["apply"] == ["green"] and result["services"]["redeploy"] == []


def test_a_deployment_under_way_is_not_drift():
    # A rollout is deploying green (not steady yet, nothing recorded): two deployments.
    read = on(state(), "green", registered("green", "registry.example.com/shop:2.4.0", 2))
    deployments = read["services"]["green"]["deployments"]
    deployments[0].update(rolloutState="IN_PROGRESS", taskDefinition=read["running"]["green"]["taskDefinitionArn"])
    deployments.append(dict(deployments[0], status="ACTIVE", rolloutState="COMPLETED", taskDefinition=definition("green")["taskDefinitionArn"]))
    assert plan(read)[0] == []


def test_a_live_service_in_shape_but_not_steady_is_waited_for_without_a_change():
    """A deploy stopped during the live service's steady wait: nothing differs, but the re-run
    owes that wait (its writer waits and reports no change); the idle color is not waited for."""
    read = state()
    read["services"]["blue"]["runningCount"] = 1
    changes, result = plan(read)
    assert changes == [] and result["services"]["apply"] == ["blue"] and result["services"]["unsteady"] == ["blue"]
    two = state()
    two["services"]["blue"]["deployments"].append(dict(two["services"]["blue"]["deployments"][0], status="ACTIVE", id="ecs-svc/1"))
    assert plan(two)[1]["services"]["unsteady"] == ["blue"]
    idle = state()
    idle["services"]["green"]["runningCount"] = 1
    assert plan(idle)[1]["services"]["apply"] == [] and plan(idle)[1]["services"]["unsteady"] == []
    # Steady: nothing to run (the recorded state).
    assert plan(state())[1]["services"]["unsteady"] == []


# ---------------------------------------------------------------- the image released to a service


def test_a_revision_put_on_the_live_service_by_hand_is_an_image_change_and_is_put_back():
    by_hand = registered("blue", "registry.example.com/shop:by-hand", 2)
    read = on(state(), "blue", by_hand)
    read["latest"]["blue"] = (by_hand, definition_tags("blue"))
    changes, result = plan(read)
    assert named(changes) == [("ECS service", "app-blue-dev", "update", ("image",))]
    assert changes[0]["fields"]["image"] == {"before": "registry.example.com/shop:by-hand", "after": IMAGE}
    assert changes[0]["reason"] == "not the image its bluegreen:image tag records as released"
    # A revision with the released image is registered (the latest has the other one) and the
    # service moved to it; the record stays.
    assert result["task_definitions"]["apply"] == ["blue"] and result["task_definitions"]["images"]["blue"] == IMAGE
    assert result["services"]["apply"] == ["blue"] and result["services"]["redeploy"] == ["blue"]
    assert result["services"]["tags"]["blue"]["bluegreen:image"] == IMAGE


def test_a_service_moved_by_hand_to_another_revision_goes_back_without_registering():
    # The family's latest revision still has the released image: the service goes back to it.
    read = on(state(), "green", registered("green", "registry.example.com/shop:old", 7))
    changes, result = plan(read)
    assert named(changes) == [("ECS service", "app-green-dev", "update", ("image",))]
    assert result["task_definitions"]["apply"] == [] and result["services"]["redeploy"] == ["green"]


def test_an_image_drift_and_another_field_of_the_service_are_one_change():
    by_hand = registered("blue", "registry.example.com/shop:by-hand", 2)
    read = on(state(), "blue", by_hand)
    read["services"]["blue"]["healthCheckGracePeriodSeconds"] = 5
    changes, dummy = plan(read)
    assert named(changes) == [("ECS service", "app-blue-dev", "update", ("health_check_grace_period", "image"))]


def test_a_service_deployed_before_the_record_is_tagged_with_the_image_it_runs():
    tags = service_tags("blue")
    del tags["bluegreen:image"]
    read = on(state(), "blue", registered("blue", "registry.example.com/shop:2.3.1", 1), tags)
    read["latest"]["blue"] = (read["running"]["blue"], definition_tags("blue"))
    changes, result = plan(read)
    assert named(changes) == [("ECS service", "app-blue-dev", "update", ("tags",))]
    assert changes[0]["fields"]["tags"]["after"]["bluegreen:image"] == "registry.example.com/shop:2.3.1"
    assert result["services"]["redeploy"] == []


# ---------------------------------------------------------------- services: each field alone


def drifted_service(change, color="blue"):
    read = state()
    change(read["services"][color])
    return plan(read)


def network(entry):
    return entry["networkConfiguration"]["awsvpcConfiguration"]


def breaker(entry):
    return entry["deploymentConfiguration"]["deploymentCircuitBreaker"]


@pytest.mark.parametrize(
    "field, change",
    [
        ("desired_count", lambda s: s.update(desiredCount=5)),
        ("network", lambda s: network(s).update(subnets=network(s)["subnets"][:1])),
        ("network", lambda s: network(s).update(securityGroups=["sg-0123456789abcdef0"])),
        ("network", lambda s: network(s).update(assignPublicIp="ENABLED")),
        ("load_balancers", lambda s: s["loadBalancers"][0].update(containerPort=8080)),
        ("load_balancers", lambda s: s["loadBalancers"][0].update(targetGroupArn=RECORDED["target_groups"]["green"])),
        ("health_check_grace_period", lambda s: s.update(healthCheckGracePeriodSeconds=0)),
        ("deployment_configuration", lambda s: s["deploymentConfiguration"].update(minimumHealthyPercent=50)),
        ("deployment_configuration", lambda s: s["deploymentConfiguration"].update(maximumPercent=150)),
        ("deployment_configuration", lambda s: breaker(s).update(enable=False)),
        ("deployment_configuration", lambda s: breaker(s).update(rollback=False)),
        ("tags", lambda s: s["tags"].append({"key": "extra", "value": "by-hand"})),
        ("tags", lambda s: s.update(tags=[t for t in s["tags"] if t["key"] != "owner"])),
    ],
)
def test_a_drifted_service_field_is_named_alone(field, change):
    changes, result = drifted_service(change)
    assert named(changes) == [("ECS service", "app-blue-dev", "update", (field,))]
    assert result["services"]["apply"] == ["blue"] and result["services"]["redeploy"] == [] and result["task_definitions"]["apply"] == []


def test_the_idle_service_s_fields_are_compared_too_but_not_its_count():
    changes, result = drifted_service(lambda s: s.update(healthCheckGracePeriodSeconds=0, desiredCount=3), color="green")
    assert named(changes) == [("ECS service", "app-green-dev", "update", ("health_check_grace_period",))]
    assert changes[0]["fields"]["health_check_grace_period"] == {"before": 0, "after": 60}


def test_the_writers_run_live_color_first():
    read = state()
    for color in COLORS:
        read["services"][color]["healthCheckGracePeriodSeconds"] = 0
    assert plan(read, live_color="green")[1]["services"]["apply"] == ["green", "blue"]


# ---------------------------------------------------------------- missing services, a new environment


def test_a_missing_service_is_created_on_its_family_s_latest_revision():
    read = state()
    read["services"]["green"] = None
    read["running"]["green"] = None
    changes, result = plan(read)
    assert named(changes)[0][:3] == ("ECS service", "app-green-dev", "create")
    fields = changes[0]["fields"]
    assert fields["task_definition"]["after"] == definition("green")["taskDefinitionArn"]
    assert fields["desired_count"]["after"] == 0 and fields["tags"]["after"]["bluegreen:image"] == IMAGE
    assert result["services"]["apply"] == ["green"] and result["services"]["found"]["green"] == {}


def test_a_service_found_draining_is_created_again():
    """Deleted and DRAINING (a teardown stopped during its wait): ECS refuses to update it, so it
    is planned as created, on its family's latest revision, saying why."""
    read = state()
    read["services"]["green"] = dict(read["services"]["green"], status="DRAINING", desiredCount=0, runningCount=1)
    changes, result = plan(read)
    assert named(changes)[0][:3] == ("ECS service", "app-green-dev", "create")
    assert changes[0]["reason"] == "the service of that name was deleted and is draining"
    assert changes[0]["fields"]["task_definition"]["after"] == definition("green")["taskDefinitionArn"]
    assert result["services"]["apply"] == ["green"]


def test_an_empty_account_plans_both_families_and_services_as_created():
    read = {"latest": {"blue": None, "green": None}, "services": {"blue": None, "green": None}, "running": {"blue": None, "green": None}}
    changes, result = plan(read, new_environment=True)
    assert [(c["resource"], c["action"]) for c in changes] == [("task definition", "create"), ("ECS service", "create")] * 2
    blue = next(c for c in changes if c["name"] == "app-blue-dev" and c["resource"] == "ECS service")
    assert blue["fields"]["task_definition"]["after"] == KNOWN_AFTER_CREATE and blue["fields"]["desired_count"]["after"] == 2
    assert blue["fields"]["tags"]["after"]["bluegreen:image"] == SEED
    assert result["services"]["apply"] == ["blue", "green"] and result["task_definitions"]["apply"] == ["blue", "green"]


# ---------------------------------------------------------------- the reads


# The families and the services have the same names.
NAMES = {"blue": "app-blue-dev", "green": "app-green-dev"}


class EcsClient:
    """Answers DescribeTaskDefinition and DescribeServices with the recorded answers; counts the calls."""

    def __init__(self, services):
        self.services = services
        self.calls = []

    def describe_task_definition(self, taskDefinition, include):
        self.calls.append(("DescribeTaskDefinition", taskDefinition))
        family = taskDefinition.rsplit("/", 1)[-1].split(":")[0]
        color = family.split("-")[1]
        answer = copy.deepcopy(RECORDED["DescribeTaskDefinition"][color])
        if ":" in taskDefinition.rsplit("/", 1)[-1] and taskDefinition != answer["taskDefinition"]["taskDefinitionArn"]:
            answer["taskDefinition"] = registered(color, "registry.example.com/shop:old", int(taskDefinition.rsplit(":", 1)[1]))
        return answer

    def describe_services(self, cluster, services, include):
        self.calls.append(("DescribeServices", tuple(services)))
        return {"services": [s for s in self.services if s["serviceName"] in services], "failures": []}


def test_one_describe_services_and_one_describe_task_definition_per_family():
    client = EcsClient(copy.deepcopy(RECORDED["DescribeServices"]["services"]))
    read = ecs_service_plan.read_application(client, "app-dev", NAMES, NAMES)
    assert client.calls == [
        ("DescribeTaskDefinition", "app-blue-dev"),
        ("DescribeTaskDefinition", "app-green-dev"),
        ("DescribeServices", ("app-blue-dev", "app-green-dev")),
    ]
    assert read["running"]["blue"] is read["latest"]["blue"][0]
    assert plan(read)[0] == []


def test_a_service_on_another_revision_costs_one_more_describe():
    services = copy.deepcopy(RECORDED["DescribeServices"]["services"])
    services[0]["taskDefinition"] = services[0]["taskDefinition"].rsplit(":", 1)[0] + ":7"
    client = EcsClient(services)
    read = ecs_service_plan.read_application(client, "app-dev", NAMES, NAMES)
    assert [call[0] for call in client.calls].count("DescribeTaskDefinition") == 3
    assert read["running"][services[0]["serviceName"].split("-")[1]]["revision"] == 7


# --- The role ARNs the task definitions take from the roles the same module read (roles,
# task_definition_roles), as the role gives them: names only, no ARN.
ROLE_NAMES = {"execution_role": "app-execution-dev-us-east-1", "task_role": "app-task-dev-us-east-1"}
ROLES_READ = {
    "app-execution-dev-us-east-1": {"arn": "arn:aws:iam::123456789012:role/app-execution-dev-us-east-1"},
    "app-task-dev-us-east-1": {"arn": "arn:aws:iam::123456789012:role/app-task-dev-us-east-1"},
}


def without_role_arns(color):
    spec = wanted_task_definition(color)
    del spec["execution_role_arn"], spec["task_role_arn"]
    return spec


def test_the_role_arns_come_from_the_roles_read_and_then_nothing_is_planned():
    definitions = [ecs_service_plan.with_role_arns(without_role_arns(color), ROLE_NAMES, ROLES_READ) for color in COLORS]
    assert definitions == [wanted_task_definition(color) for color in COLORS]
    changes, _result = app_tier.plan_application(definitions, [wanted_service(color) for color in COLORS], SETTINGS, state())
    assert changes == []


def test_a_role_still_to_create_is_known_after_create_and_the_family_is_planned():
    roles = {"app-execution-dev-us-east-1": None, "app-task-dev-us-east-1": ROLES_READ["app-task-dev-us-east-1"]}
    definitions = [ecs_service_plan.with_role_arns(without_role_arns(color), ROLE_NAMES, roles) for color in COLORS]
    assert {d["execution_role_arn"] for d in definitions} == {KNOWN_AFTER_CREATE}
    changes, result = app_tier.plan_application(definitions, [wanted_service(color) for color in COLORS], SETTINGS, state())
    assert result["task_definitions"]["apply"] == list(COLORS)
    role_changes = [c["fields"]["execution_role_arn"] for c in changes if "execution_role_arn" in c["fields"]]
    assert len(role_changes) == len(COLORS) and all(f["after"] == KNOWN_AFTER_CREATE for f in role_changes), changes


def test_an_arn_the_definition_gives_is_kept():
    spec = dict(without_role_arns("blue"), execution_role_arn="arn:aws:iam::123456789012:role/given")
    filled = ecs_service_plan.with_role_arns(spec, ROLE_NAMES, ROLES_READ)
    assert filled["execution_role_arn"] == "arn:aws:iam::123456789012:role/given"
    assert filled["task_role_arn"] == ROLES_READ["app-task-dev-us-east-1"]["arn"]
    assert ecs_service_plan.with_role_arns(spec, None, ROLES_READ) == spec


def test_a_task_definition_role_not_among_the_roles_is_refused_before_any_call():
    roles = [{"name": name} for name in ROLE_NAMES.values()]
    ecs_service_plan.check_task_definition_roles({"roles": roles, "task_definition_roles": ROLE_NAMES})
    ecs_service_plan.check_task_definition_roles({"roles": [], "task_definition_roles": None})
    with pytest.raises(ValueError, match="names roles that roles does not list: task_role=app-task-dev-us-east-1; roles lists: app-execution"):
        ecs_service_plan.check_task_definition_roles({"roles": roles[:1], "task_definition_roles": ROLE_NAMES})
    with pytest.raises(ValueError, match="execution_role=x, task_role=y; roles lists: none"):
        ecs_service_plan.check_task_definition_roles({"roles": [], "task_definition_roles": {"execution_role": "x", "task_role": "y"}})
