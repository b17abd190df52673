"""When the ECS steady-state wait (ecs_service, rollout, rollback) counts a service steady,
on DescribeServices answers shaped as ECS returns them."""

import jmespath
import pytest

from ansible_collections.bluegreen.migration.plugins.module_utils import ecs


def service(running=2, desired=2, deployments=None):
    if deployments is None:
        deployments = [deployment()]
    return {"serviceName": "app-blue-dev", "status": "ACTIVE", "runningCount": running, "desiredCount": desired, "deployments": deployments}


def deployment(status="PRIMARY", rollout="COMPLETED", **more):
    found = {"id": f"ecs-svc/{status}{rollout}", "status": status, "taskDefinition": "arn:aws:ecs:us-east-1:1:task-definition/app-blue-dev:2"}
    if rollout is not None:
        found["rolloutState"] = rollout
    return dict(found, **more)


@pytest.mark.parametrize(
    "answer, steady",
    [
        pytest.param(service(), True, id="completed rollout, all tasks running"),
        # The tasks run but ECS has not seen the service steady yet: the breaker may still trip.
        pytest.param(service(deployments=[deployment(rollout="IN_PROGRESS")]), False, id="rollout in progress though all tasks run"),
        pytest.param(service(running=1), False, id="a task missing"),
        pytest.param(service(deployments=[deployment(), deployment(status="ACTIVE")]), False, id="the previous deployment still draining"),
        pytest.param(service(deployments=[deployment(), deployment(status="ACTIVE", rollout="FAILED")]), True, id="a FAILED leftover of the breaker"),
        pytest.param(service(deployments=[deployment(rollout=None)]), True, id="no rollout state (not an ECS-controller rollout)"),
        pytest.param(service(running=0, desired=0), True, id="scaled to 0"),
        pytest.param(service(running=0, desired=0, deployments=[deployment(rollout="IN_PROGRESS")]), True, id="scaled to 0 during a rollout"),
        pytest.param(service(running=1, desired=0, deployments=[deployment(rollout="IN_PROGRESS")]), False, id="scaling to 0, a task left"),
    ],
)
def test_steady(answer, steady):
    assert jmespath.search(ecs.STEADY, {"services": [answer]}) is steady
    # ecs_service's check before a wait it may owe, on the service it read, says the same.
    assert ecs.is_steady(answer) is steady


def test_a_service_without_deployments_listed_is_judged_without_error():
    bare = {k: v for k, v in service().items() if k != "deployments"}
    assert ecs.is_steady(bare) is True
    assert ecs.is_steady(dict(bare, runningCount=1)) is False


def test_every_service_of_the_answer_must_be_steady():
    answer = {"services": [service(), service(deployments=[deployment(rollout="IN_PROGRESS")])]}
    assert jmespath.search(ecs.STEADY, answer) is False
