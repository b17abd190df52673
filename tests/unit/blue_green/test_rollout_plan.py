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
    # Nothing to promote: the rollback tag is left as it is (after an abort green runs the failed release).
    assert plan["promote_tags"] == {}


def test_the_promotion_records_the_retired_color_and_its_revision_for_a_rollback():
    current = state()
    current["services"]["blue"]["task_definition"] = "arn:aws:ecs:us-east-1:123456789012:task-definition/app-blue-dev:4"
    plan = rollout_plan(current, SETTINGS, "nginx:3")
    assert plan["promote_tags"] == {"bluegreen:rollback-to": "blue arn:aws:ecs:us-east-1:123456789012:task-definition/app-blue-dev:4"}


def test_an_interrupted_rollout_of_the_same_image_bakes_its_step_again_then_goes_on():
    """Killed during the 50 % step's bake (or its gates): the next run does not move more traffic
    at once; it bakes and gates that step again (its weights are already there), then 100 %."""
    plan = rollout_plan(state(weights={"blue": 50, "green": 50}, running={"blue": "nginx:1", "green": "nginx:3"}), SETTINGS, "nginx:3")
    assert plan["resume"] and not plan["reset_first"] and plan["start_weight"] == 50
    assert plan["remaining_steps"] == [50, 100] and plan["run_steps"] == [50, 100] and list(plan["bakes"]) == ["50", "100"]
    assert plan["step_labels"] == {"50": "step 2/3 (50 %)", "100": "step 3/3 (100 %)"}


def test_a_resumed_split_that_is_not_a_step_bakes_and_gates_where_it_is_first():
    """The steps changed since the run stopped at 30 % (or the weights were set by hand): the bake
    that run may have cut short happens at 30 % before more traffic moves."""
    resumed = state(weights={"blue": 70, "green": 30}, running={"blue": "nginx:1", "green": "nginx:3"})
    plan = rollout_plan(resumed, SETTINGS, "nginx:3")
    assert plan["resume"] and plan["start_weight"] == 30
    assert plan["remaining_steps"] == [30, 50, 100] and plan["run_steps"] == [30, 50, 100] and list(plan["bakes"]) == ["30", "50", "100"]
    assert plan["step_labels"] == {"30": "the current split, not a step (30 %)", "50": "step 2/3 (50 %)", "100": "step 3/3 (100 %)"}
    assert "the current split, not a step: green 30 / blue 70, bake 60 s, gates healthy-targets, alarms, schema" in plan["lines"]
    assert any(line.startswith("resume: green already runs nginx:3 at weight 30; continuing from there (the bake and gates")
               for line in plan["lines"]), plan["lines"]
    assert plan["estimate"]["bake"] == 180
    # Paused after step 2 (50 %): the run goes from 30 % to the pause and stops there.
    paused = rollout_plan(resumed, dict(SETTINGS, pause_after_step=2), "nginx:3")
    assert paused["stop"] == "pause" and paused["run_steps"] == [30, 50]
    # Above the last step but one: the split, then 100 %.
    above = rollout_plan(state(weights={"blue": 20, "green": 80}, running={"blue": "nginx:1", "green": "nginx:3"}), SETTINGS, "nginx:3")
    assert above["run_steps"] == [80, 100]


@pytest.mark.parametrize("weights, start, run_steps", [
    ({"blue": 1, "green": 1}, 50, [50, 100]),
    ({"blue": 0, "green": 150}, 100, [100]),
    ({"blue": 50, "green": 150}, 75, [75, 100]),
    ({"blue": 999, "green": 1}, 1, [1, 10, 50, 100]),
    ({"blue": 1, "green": 199}, 99, [99, 100]),
])
def test_weights_set_by_hand_that_do_not_add_up_to_100_resume_at_their_share(weights, start, run_steps):
    """The listener takes weights 0..999 each: the split resumed is the new color's share."""
    plan = rollout_plan(state(weights=weights, running={"blue": "nginx:1", "green": "nginx:3"}), SETTINGS, "nginx:3")
    assert plan["resume"] and plan["start_weight"] == start and plan["run_steps"] == run_steps
    assert all(0 < weight <= 100 for weight in plan["run_steps"])
    resumed = [line for line in plan["lines"] if line.startswith("resume:")][0]
    assert resumed.startswith("resume: green already runs nginx:3 at weight %d (green %d / blue %d: %d %% of the traffic); continuing" % (
        start, weights["green"], weights["blue"], start)), resumed


def test_a_rollout_stopped_at_the_last_step_bakes_and_gates_it_again_before_the_promotion():
    """Killed during the last step's bake: AWS has the new color at 100 % and the old one still
    live. The next run does not promote at once: the last step's bake (the alarms' window) and
    its gates run again (the weights are already there)."""
    stopped = state(weights={"blue": 0, "green": 100}, running={"blue": "nginx:1", "green": "nginx:3"})
    plan = rollout_plan(stopped, dict(SETTINGS, alarm_window=180), "nginx:3")
    assert plan["resume"] and not plan["done"] and plan["start_weight"] == 100
    assert plan["remaining_steps"] == [100] and plan["run_steps"] == [100] and plan["bakes"] == {"100": 240}
    assert "step 3/3: green 100 / blue 0, bake 240 s (the alarms' window 180 s + 60 s metric delay), gates healthy-targets, alarms, schema" in plan["lines"]


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


# --- lifecycle hooks, pause, header canary

HOOKS = {
    "before_install": [{"name": "ticket", "lambda": {"function": "change-gate", "payload": {"change": 42}}}],
    "after_install": [{"name": "smoke", "http": {"url": "/health", "body_regex": "ok"}}, {"include_tasks": "/srv/checks/extra.yml"}],
    "after_allow_traffic": [{"name": "live", "http": {"url": "health", "listener": "production", "retries": 2, "delay": 1, "timeout": 3}}],
}


def with_listeners(base=None, **extra):
    result = state(**extra) if base is None else base
    result.update(alb_dns_name="app-dev.elb", listener_port=80, listener_protocol="HTTP", target_groups={"blue": "tg-blue", "green": "tg-green"},
                  test_listener={"listener_arn": "l-test", "port": 8080, "color": "green", "url": "http://app-dev.elb:8080/"})
    return result


def test_hooks_resolve_against_the_test_and_production_listeners_in_codedeploy_order():
    plan = rollout_plan(with_listeners(), dict(SETTINGS, hooks=HOOKS), "nginx:3")
    assert plan["problem"] == ""
    assert list(plan["hooks"]) == ["before_install", "after_install", "before_allow_traffic", "after_allow_traffic"]
    smoke, tasks = plan["hooks"]["after_install"]
    assert (smoke["kind"], smoke["url"], smoke["status"], smoke["body_regex"], smoke["retries"]) == ("http", "http://app-dev.elb:8080/health", 200, "ok", 3)
    assert (tasks["kind"], tasks["tasks"], tasks["name"]) == ("include_tasks", "/srv/checks/extra.yml", "include_tasks check 2")
    assert plan["hooks"]["after_allow_traffic"][0]["url"] == "http://app-dev.elb:80/health"
    assert plan["hooks"]["before_install"][0]["payload"] == {"change": 42}
    lines = plan["lines"]
    order = [next(i for i, line in enumerate(lines) if line.startswith(prefix))
             for prefix in ("hook before_install", "deploy:", "test listener port 8080 forwards to green", "hook after_install",
                            "step 1/3", "hook after_allow_traffic", "promote:")]
    assert order == sorted(order), lines
    # The estimate counts the checks; the bound every try of the HTTP checks.
    assert plan["estimate"]["hooks"] == 2 + 1 + 10 + 1
    assert plan["estimate"]["at_most"] == 3 * 60 + 30 + 900 + 2 + 3 * (10 + 5) + 10 + 2 * (3 + 1)
    assert "+ hooks ~14 s" in lines[-1]


def test_given_base_urls_win_over_the_load_balancers():
    cfg = dict(SETTINGS, hooks=HOOKS, base_urls={"test": "http://127.0.0.1:9999/app", "production": ""})
    plan = rollout_plan(with_listeners(), cfg, "nginx:3")
    assert plan["hooks"]["after_install"][0]["url"] == "http://127.0.0.1:9999/app/health"
    assert plan["hooks"]["after_allow_traffic"][0]["url"] == "http://app-dev.elb:80/health"


def test_a_resumed_rollout_skips_the_hooks_before_traffic():
    running = {"blue": "nginx:1", "green": "nginx:3"}
    plan = rollout_plan(with_listeners(weights={"blue": 50, "green": 50}, running=running), dict(SETTINGS, hooks=HOOKS), "nginx:3")
    assert plan["resume"] and [len(plan["hooks"][h]) for h in ("before_install", "after_install", "after_allow_traffic")] == [0, 0, 1]
    assert any("passed in the run that moved the weights" in line for line in plan["lines"])


def test_without_a_test_listener_an_http_check_on_it_is_a_problem():
    base = with_listeners()
    base["test_listener"] = {}
    plan = rollout_plan(base, dict(SETTINGS, hooks=HOOKS), "nginx:3")
    assert plan["problem"] == "hook after_install, check smoke: the load balancer has no test listener (re-run site.yml) and no base URL is given"


@pytest.mark.parametrize(
    "hooks, message",
    [
        ({"after_deploy": []}, "rollout_hooks has unknown hooks ['after_deploy']"),
        ({"after_install": [{"http": {"url": "/"}, "lambda": {"function": "f"}}]}, "rollout_hooks.after_install[0] must have exactly one of"),
        ({"after_install": [{"http": {"url": "http://x/health"}}]}, "rollout_hooks.after_install[0].http.url must be a path relative"),
        ({"after_install": [{"http": {"url": "/", "listener": "admin"}}]}, "http.listener must be test or production"),
        ({"after_install": [{"http": {"url": "/", "status": "ok"}}]}, "http.status must be a whole number (an HTTP status)"),
        ({"after_install": [{"http": {"url": "/", "body_regex": "("}}]}, "http.body_regex is not a regular expression"),
        ({"before_install": [{"lambda": {"payload": {}}}]}, "rollout_hooks.before_install[0].lambda.function is required"),
        ({"before_install": [{"include_tasks": ""}]}, "include_tasks must be the path of a task file"),
        ({"before_install": [{"shell": "true"}]}, "must have exactly one of http, lambda, include_tasks"),
    ],
)
def test_a_malformed_hook_is_a_problem_naming_where(hooks, message):
    plan = rollout_plan(with_listeners(), dict(SETTINGS, hooks=hooks), "nginx:3")
    assert message in plan["problem"], plan["problem"]


PAUSE = dict(SETTINGS, pause_after_step=1, pause_timeout=600, pause_timeout_action="abort", now=10000)
RUNNING = {"blue": "nginx:1", "green": "nginx:3"}


def paused_state(weights=None, paused_at=0):
    result = with_listeners(weights=weights or {"blue": 90, "green": 10}, running=RUNNING)
    result["paused_at"] = paused_at
    return result


def test_a_rollout_with_a_pause_stops_after_that_step_without_promoting():
    plan = rollout_plan(with_listeners(), dict(PAUSE, hooks=HOOKS), "nginx:3")
    assert plan["stop"] == "pause" and plan["run_steps"] == [10] and plan["remaining_steps"] == [10, 50, 100]
    assert plan["pause"]["weight"] == 10 and plan["pause"]["mark"] == "10000" and not plan["pause"]["clear_mark"]
    assert plan["hooks"]["after_allow_traffic"] == [] and len(plan["hooks"]["after_install"]) == 2
    assert ("pause after step 1/3 (10 %): the run stops with green 10 / blue 90; continue with -e rollout_resume=true (or the AWX approval); "
            "after 600 s paused the next run aborts") in plan["lines"]
    assert not any(line.startswith("promote:") for line in plan["lines"])
    assert plan["estimate"]["drain"] == 0 and plan["estimate"]["bake"] == 60 and "(then paused until approved)" in plan["lines"][-1]


def test_a_paused_rollout_waits_unless_resumed():
    plan = rollout_plan(paused_state(paused_at=9900), PAUSE, "nginx:3")
    assert plan["stop"] == "waiting" and plan["run_steps"] == [] and not plan["pause"]["clear_mark"]
    assert any(line.startswith("paused after step 1/3 (10 %) for 100 s: green 10 / blue 90; nothing is changed") for line in plan["lines"])
    resumed = rollout_plan(paused_state(paused_at=9900), dict(PAUSE, resume=True), "nginx:3")
    assert resumed["stop"] == "" and resumed["run_steps"] == [50, 100] and resumed["pause"]["clear_mark"]
    assert any(line.startswith("promote:") for line in resumed["lines"])


def test_a_paused_rollout_past_its_timeout_aborts_or_continues_as_configured():
    aborted = rollout_plan(paused_state(paused_at=9000), PAUSE, "nginx:3")
    assert aborted["stop"] == "abort" and aborted["pause"]["timed_out"] and aborted["pause"]["clear_mark"]
    assert any("timed out (1000 s paused, timeout 600 s): abort" in line for line in aborted["lines"])
    continued = rollout_plan(paused_state(paused_at=9000), dict(PAUSE, pause_timeout_action="continue"), "nginx:3")
    assert continued["stop"] == "" and continued["run_steps"] == [50, 100]


def test_a_run_killed_before_the_pause_goes_on_to_it_and_one_killed_after_the_resume_to_the_end():
    assert rollout_plan(paused_state(weights={"blue": 100, "green": 0}), PAUSE, "nginx:3")["run_steps"] == [10]
    # Killed during the 50 % step after the resume: that step's bake and gates again, then 100 %.
    after = rollout_plan(paused_state(weights={"blue": 50, "green": 50}), PAUSE, "nginx:3")
    assert after["stop"] == "" and after["run_steps"] == [50, 100]
    # At the pause's weight without the mark (killed during the step, before the mark was
    # written): the step's bake and gates run again, then it pauses there.
    unmarked = rollout_plan(paused_state(), PAUSE, "nginx:3")
    assert unmarked["stop"] == "pause" and unmarked["run_steps"] == [10]
    assert not [line for line in unmarked["lines"] if line.startswith("resume after the pause")], unmarked["lines"]
    # Resumed from the pause (the mark there): the paused step baked before it, on to the next.
    resumed = rollout_plan(paused_state(paused_at=9900), dict(PAUSE, resume=True), "nginx:3")
    assert resumed["stop"] == "" and resumed["run_steps"] == [50, 100]
    # Resumed with rollout_resume but no mark (stopped during the step): that step again first.
    unmarked_resume = rollout_plan(paused_state(), dict(PAUSE, resume=True), "nginx:3")
    assert unmarked_resume["stop"] == "" and unmarked_resume["run_steps"] == [10, 50, 100]


@pytest.mark.parametrize("after, message", [(3, "a step before the last (1..2 of [10, 50, 100])"), (-1, "rollout_pause_after_step must be 0")])
def test_a_pause_after_the_last_step_is_a_problem(after, message):
    assert message in rollout_plan(with_listeners(), dict(SETTINGS, pause_after_step=after), "nginx:3")["problem"]


def test_the_header_canary_forwards_to_the_new_color():
    plan = rollout_plan(with_listeners(), dict(SETTINGS, header_canary={"name": "X-Canary", "value": 1}), "nginx:3")
    assert plan["header_canary"] == {"name": "X-Canary", "value": "1", "target_group_arn": "tg-green"}
    assert any(line.startswith("header canary: a rule of the production listener (before its weighted default action) sends requests with X-Canary: 1 to green")
               for line in plan["lines"])
    bad = rollout_plan(with_listeners(), dict(SETTINGS, header_canary={"name": "X Canary", "value": "1"}), "nginx:3")
    assert "rollout_header_canary.name must be an HTTP header name" in bad["problem"]


def test_every_step_bakes_at_least_the_alarms_window():
    """An alarm of 3 periods of 60 s fires at the earliest 3 minutes after the errors begin, and
    CloudWatch publishes a minute's datapoint about a minute after it ends: every step bakes that
    long, so an alarm on errors that began at a step can fail its gate before the next step
    (and, at 100 %, while the old color still runs)."""
    plan = rollout_plan(state(), dict(SETTINGS, alarm_window=180), "nginx:3")
    assert plan["bakes"] == {"10": 240, "50": 240, "100": 240}
    assert plan["estimate"]["bake"] == 720 and plan["estimate"]["seconds"] == 720 + 30 + 120
    assert "step 3/3: green 100 / blue 0, bake 240 s (the alarms' window 180 s + 60 s metric delay), gates healthy-targets, alarms, schema" in plan["lines"]
    assert "step 1/3: green 10 / blue 90, bake 240 s (the alarms' window 180 s + 60 s metric delay), gates healthy-targets, alarms, schema" in plan["lines"]
    assert plan["lines"][-1].startswith("estimated duration: ~870 s (bake 3 x 240 s + drain 30 s")
    # A longer bake than the window is kept; without the window every step bakes the same.
    assert rollout_plan(state(), dict(SETTINGS, alarm_window=180, bake=300), "nginx:3")["bakes"] == {"10": 300, "50": 300, "100": 300}
    assert rollout_plan(state(), dict(SETTINGS, alarm_window=0), "nginx:3")["bakes"] == {"10": 60, "50": 60, "100": 60}
    # Nor when the new color has no alarm (ecs_service_alarm_kinds: []): nothing could fire.
    silent = state()
    silent["alarms"]["green"]["alarms"] = []
    assert rollout_plan(silent, dict(SETTINGS, alarm_window=180), "nginx:3")["bakes"] == {"10": 60, "50": 60, "100": 60}
    # A run stopping at a pause bakes the window at its steps too.
    paused = rollout_plan(state(), dict(SETTINGS, alarm_window=180, pause_after_step=1), "nginx:3")
    assert paused["bakes"] == {"10": 240} and paused["estimate"]["bake"] == 240
    # A resumed run (stopped during the 50 % step) bakes the window at that step again and the last.
    resumed = rollout_plan(state({"blue": 50, "green": 50}, running={"blue": "nginx:1", "green": "nginx:3"}), dict(SETTINGS, alarm_window=180), "nginx:3")
    assert resumed["bakes"] == {"50": 240, "100": 240}
