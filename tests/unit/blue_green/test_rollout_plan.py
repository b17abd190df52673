"""The rollout's plan (module_utils/rollout.py) from a blue-green state: a fresh rollout, one
already done, a resume at the weight AWS has, a reset of another image's interrupted rollout,
and each reason it cannot go ahead; the estimate and the lines the terminal shows."""

import copy

import pytest

from ansible_collections.bluegreen.migration.plugins.module_utils import naming
from ansible_collections.bluegreen.migration.plugins.module_utils.rollout import RolloutPlanError, rollout_plan

SETTINGS = {
    "steps": [10, 50, 100],
    "bake": 60,
    "drain": 30,
    "desired_count": 2,
    "min_healthy": 2,
    "steady_timeout": 600,
    "health_timeout": 300,
    "container": "app",
    "expand": True,
    "schema_expect": {"no_pending": "expand"},
    "steady_estimate": 60,
    "health_estimate": 60,
}


def details(image, unsupported=()):
    return {"images": {"app": image}, "unsupported": list(unsupported)}


def state(weights=None, live="blue", running=None, latest_green="nginx:2"):
    running = running or {"blue": "nginx:1", "green": "nginx:1"}
    return {
        "environment": "dev",
        "names": naming.resource_names("dev", "us-east-1"),
        "live_color": live,
        "weights": weights or {"blue": 100, "green": 0},
        "services": {
            "blue": {"task_definition_details": details(running["blue"]), "latest_task_definition_details": details(running["blue"])},
            "green": {"task_definition_details": details(running["green"]), "latest_task_definition_details": details(latest_green)},
        },
        "alarms": {"green": {"alarms": [{"name": "app-green-cpu-dev"}, {"name": "app-green-target-5xx-dev"}]}, "blue": {"alarms": []}},
    }


def test_a_fresh_rollout_goes_to_the_idle_color_through_every_step():
    plan = rollout_plan(state(), SETTINGS, "nginx:3")
    assert (plan["old"], plan["new"], plan["image"], plan["old_image"]) == ("blue", "green", "nginx:3", "nginx:1")
    assert not plan["done"] and not plan["resume"] and not plan["reset_first"] and plan["problem"] == ""
    assert plan["remaining_steps"] == [10, 50, 100] and plan["alarms"] == ["app-green-cpu-dev", "app-green-target-5xx-dev"]
    assert plan["estimate"] == {"seconds": 3 * 60 + 30 + 120, "at_most": 3 * 60 + 30 + 900, "bake": 180, "drain": 30, "waits": 120}
    assert "step 2/3: green 50 / blue 50, bake 60 s, gates healthy-targets, alarms, schema" in plan["lines"]
    assert "gate alarms: app-green-cpu-dev, app-green-target-5xx-dev not in ALARM" in plan["lines"]
    assert plan["lines"][0] == "rollout of nginx:3 in dev: live blue (nginx:1), weights blue 100 / green 0"


def test_without_an_image_the_idle_familys_latest_revision_is_rolled_out():
    assert rollout_plan(state(), SETTINGS)["image"] == "nginx:2"


def test_the_live_color_with_the_image_and_all_the_traffic_is_done():
    plan = rollout_plan(state(running={"blue": "nginx:3", "green": "nginx:1"}), SETTINGS, "nginx:3")
    assert plan["done"] and plan["remaining_steps"] == [] and plan["estimate"]["seconds"] == 30
    assert any(line.startswith("nothing to roll out: blue already serves nginx:3") for line in plan["lines"])


def test_an_interrupted_rollout_of_the_same_image_resumes_above_its_weight():
    plan = rollout_plan(state(weights={"blue": 50, "green": 50}, running={"blue": "nginx:1", "green": "nginx:3"}), SETTINGS, "nginx:3")
    assert plan["resume"] and not plan["reset_first"] and plan["start_weight"] == 50 and plan["remaining_steps"] == [100]


def test_an_interrupted_rollout_of_another_image_is_reset_first():
    plan = rollout_plan(state(weights={"blue": 90, "green": 10}, running={"blue": "nginx:1", "green": "nginx:2"}), SETTINGS, "nginx:3")
    assert plan["reset_first"] and not plan["resume"] and plan["remaining_steps"] == [10, 50, 100]
    assert "reset: green has weight 10 with another image; its traffic goes back to blue first" in plan["lines"]


def test_green_live_rolls_out_to_blue():
    plan = rollout_plan(state(weights={"blue": 0, "green": 100}, live="green"), SETTINGS, "nginx:3")
    assert (plan["old"], plan["new"]) == ("green", "blue") and plan["alarms"] == []


@pytest.mark.parametrize("steps", [[], [10, 50], [50, 10, 100], [0, 100], [10, 10, 100]])
def test_steps_that_do_not_rise_to_100_are_refused(steps):
    plan = rollout_plan(state(), dict(SETTINGS, steps=steps), "nginx:3")
    assert plan["problem"].startswith("rollout_steps must rise strictly from above 0 to 100")


def test_no_image_anywhere_is_refused():
    assert rollout_plan(state(latest_green=""), SETTINGS)["problem"] == "no image (pass -e rollout_image=<image>)"


def test_a_container_the_task_definition_lacks_is_refused():
    plan = rollout_plan(state(), dict(SETTINGS, container="web"), "nginx:3")
    assert plan["problem"] == "the latest task definition of green has no container web (set rollout_container)"


def test_fields_the_rollout_cannot_carry_are_refused():
    current = state()
    current["services"]["green"]["latest_task_definition_details"] = details("nginx:2", ["containers.app.command"])
    assert "cannot carry over: containers.app.command" in rollout_plan(current, SETTINGS, "nginx:3")["problem"]


def test_settings_that_lack_a_key_raise():
    settings = copy.deepcopy(SETTINGS)
    del settings["drain"]
    with pytest.raises(RolloutPlanError, match="drain"):
        rollout_plan(state(), settings, "nginx:3")
