"""The blue-green state (module_utils/bluegreen_state.py) from answers recorded from
DescribeLoadBalancers, DescribeListeners and DescribeTags (blue live at 90/10) and
DescribeServices-shaped services: weights and target groups per color, the live color, the
reasons an environment cannot be operated, the alarms of each color, target health."""

import copy
import json
from pathlib import Path

import pytest

from ansible_collections.bluegreen.migration.plugins.module_utils import bluegreen_state, elbv2, naming

RECORDED = json.loads((Path(__file__).parent.parent / "ecs_service" / "recorded" / "load_balancer_http.json").read_text())
TAGS = {d["ResourceArn"]: {t["Key"]: t["Value"] for t in d["Tags"]} for d in RECORDED["TagDescriptions"]}
NAMES = naming.resource_names("dev", "us-east-1")


def balancer(listeners=None, tags=None):
    return elbv2.load_balancer_result(RECORDED["LoadBalancers"][0], RECORDED["Listeners"] if listeners is None else listeners, tags or TAGS)


def service(color, running=2, desired=2):
    return {"service_name": "app-%s-dev" % color, "running_count": running, "desired_count": desired, "task_definition": "td-%s" % color}


SERVICES = [service("blue"), service("green", running=1, desired=1)]


def summarize(found=None, services=None, missing=()):
    return bluegreen_state.summarize(
        "dev", "us-east-1", NAMES, balancer() if found is None else found, SERVICES if services is None else services, list(missing)
    )


def test_the_recorded_environment_reads_as_blue_live_at_90_10():
    state = summarize()
    assert state["problem"] == "" and state["complete"] and state["deployed"]
    assert state["live_color"] == "blue" and state["idle_color"] == "green"
    assert state["weights"] == {"blue": 90, "green": 10}
    assert state["forwarded"] == {"app-blue-dev": 90, "app-green-dev": 10}
    assert state["target_groups"]["green"].endswith(":targetgroup/app-green-dev/bf5a49304821a369")
    assert state["listener_arn"] == RECORDED["Listeners"][0]["ListenerArn"] and state["listener_port"] == 80
    assert state["stickiness"] == {"enabled": False}
    assert state["services"]["green"]["running_count"] == 1 and state["colors_with_traffic"] == ["blue", "green"]
    assert state["busy_without_traffic"] == []


def test_a_color_without_weight_that_still_runs_tasks_is_busy():
    listeners = copy.deepcopy(RECORDED["Listeners"])
    groups = listeners[0]["DefaultActions"][0]["ForwardConfig"]["TargetGroups"]
    groups[0]["Weight"], groups[1]["Weight"] = 100, 0
    state = summarize(found=balancer(listeners))
    assert state["colors_with_traffic"] == ["blue"]
    assert state["busy_without_traffic"] == [{"service_name": "app-green-dev", "running_count": 1, "desired_count": 1}]


def test_the_live_color_is_the_listener_tag_and_blue_without_one():
    tags = copy.deepcopy(TAGS)
    listener_arn = RECORDED["Listeners"][0]["ListenerArn"]
    tags[listener_arn] = {"bluegreen:live-color": "green"}
    assert summarize(found=balancer(tags=tags))["live_color"] == "green"
    tags[listener_arn] = {}
    assert summarize(found=balancer(tags=tags))["live_color"] == "blue"


def test_a_missing_load_balancer_is_a_problem_naming_it():
    state = bluegreen_state.summarize("dev", "us-east-1", NAMES, None, [], ["app-blue-dev", "app-green-dev"])
    assert not state["deployed"] and not state["complete"]
    assert state["problem"].startswith("Load balancer app-dev not found in us-east-1: deploy the environment with site.yml first")


def test_a_load_balancer_of_another_environment_is_refused():
    tags = copy.deepcopy(TAGS)
    tags[RECORDED["LoadBalancers"][0]["LoadBalancerArn"]]["bluegreen:environment"] = "someone-else"
    state = summarize(found=balancer(tags=tags))
    assert not state["deployed"] and state["listener_arn"] == "" and state["weights"] == {"blue": 0, "green": 0}
    assert "carries bluegreen:environment=someone-else, not dev: it belongs to something else" in state["problem"]


def test_a_missing_service_or_forward_makes_the_environment_incomplete():
    state = summarize(services=[service("blue")], missing=["app-green-dev"])
    assert state["deployed"] and not state["complete"] and "services missing ['app-green-dev']" in state["problem"]
    listeners = copy.deepcopy(RECORDED["Listeners"])
    listeners[0]["DefaultActions"] = [{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "404"}}]
    assert "no listener that forwards by weight" in summarize(found=balancer(listeners))["problem"]


def test_a_service_still_draining_counts_as_missing():
    """Deleted (a teardown stopped during its wait): ECS refuses to update it, so no rollout or
    rollback may count on it; site.yml creates it again."""
    state = summarize(services=[service("blue"), dict(service("green", running=1, desired=0), status="DRAINING")])
    assert state["deployed"] and not state["complete"] and "services missing ['app-green-dev']" in state["problem"]
    assert "green" not in [color for color, found in state["services"].items() if found]


def test_the_weighted_listener_is_the_highest_port_that_forwards_to_both_colors():
    both = [{"target_group_arn": "a", "weight": 1}, {"target_group_arn": "b", "weight": 0}]
    http = {"port": 80, "weights": both}
    https = {"port": 443, "weights": both}
    redirect = {"port": 8080, "weights": []}
    # The test listener forwards to one target group: never the weighted one, whatever its port.
    test = {"port": 8443, "weights": [{"target_group_arn": "b", "weight": 1}]}
    assert bluegreen_state.weighted_listener([http, https, redirect, test]) is https
    assert bluegreen_state.weighted_listener([redirect, test]) is None


def with_test_listener(color="green", port=8080, tags=None):
    listeners = copy.deepcopy(RECORDED["Listeners"])
    groups = listeners[0]["DefaultActions"][0]["ForwardConfig"]["TargetGroups"]
    arn = [g["TargetGroupArn"] for g in groups if "app-%s-dev" % color in g["TargetGroupArn"]][0]
    test = dict(copy.deepcopy(listeners[0]), Port=port, ListenerArn=listeners[0]["ListenerArn"] + "t",
                DefaultActions=[{"Type": "forward", "TargetGroupArn": arn,
                                 "ForwardConfig": {"TargetGroups": [{"TargetGroupArn": arn, "Weight": 1}]}}])
    all_tags = dict(TAGS, **{test["ListenerArn"]: {}})
    if tags:
        all_tags[listeners[0]["ListenerArn"]] = dict(all_tags[listeners[0]["ListenerArn"]], **tags)
    return balancer(listeners + [test], all_tags)


def test_the_test_listener_is_the_one_forwarding_to_one_color():
    state = summarize(found=with_test_listener())
    assert state["listener_port"] == 80 and state["weights"] == {"blue": 90, "green": 10}
    test = state["test_listener"]
    assert (test["port"], test["color"], test["protocol"]) == (8080, "green", "HTTP")
    assert test["url"] == "http://%s:8080/" % RECORDED["LoadBalancers"][0]["DNSName"]
    assert summarize()["test_listener"] == {} and summarize()["paused_at"] == 0


def test_a_pause_mark_on_the_traffic_listener_is_read_as_paused_at():
    state = summarize(found=with_test_listener(tags={"bluegreen:paused-at": "1700000000"}))
    assert state["paused_at"] == 1700000000 and state["listener_tags"]["bluegreen:paused-at"] == "1700000000"
    assert summarize(found=with_test_listener(tags={"bluegreen:paused-at": "garbage"}))["paused_at"] == 0


def test_alarms_per_color_come_from_the_kinds_and_the_rest_is_the_environments():
    groups = bluegreen_state.alarm_names(NAMES, ["ecs_alarm_cpu", "alb_alarm_5xx"])
    assert groups["green"] == ["app-green-cpu-dev", "app-green-target-5xx-dev"]
    assert "app-blue-unhealthy-hosts-dev" in groups["environment"] and "aurora-cpu-dev" in groups["environment"]
    assert not set(groups["environment"]) & set(groups["blue"] + groups["green"])


def test_alarm_states_name_what_fires_and_what_is_missing():
    described = {"app-green-cpu-dev": {"StateValue": "ALARM", "StateReason": "CPU 95"}, "app-green-target-5xx-dev": {"StateValue": "OK"}}
    states = bluegreen_state.alarm_states({"green": ["app-green-cpu-dev", "app-green-target-5xx-dev", "app-green-gone-dev"]}, described)
    assert states["green"]["firing"] == ["app-green-cpu-dev"] and states["green"]["missing"] == ["app-green-gone-dev"]
    assert states["green"]["alarms"][0] == {"name": "app-green-cpu-dev", "state": "ALARM", "reason": "CPU 95"}


@pytest.mark.parametrize(
    "states, expected",
    [
        ([], {"healthy": 0, "unhealthy": 0, "total": 0}),
        (["healthy", "healthy", "unhealthy", "initial"], {"healthy": 2, "unhealthy": 1, "total": 4}),
    ],
)
def test_target_health_counts_by_state(states, expected):
    counted = bluegreen_state.target_health([{"TargetHealth": {"State": s}} for s in states])
    assert {k: counted[k] for k in expected} == expected


def settled(rollback_to=None):
    """The recorded environment after a rollout: blue live at 100/0, the listener's rollback tag as given."""
    listeners = copy.deepcopy(RECORDED["Listeners"])
    groups = listeners[0]["DefaultActions"][0]["ForwardConfig"]["TargetGroups"]
    groups[0]["Weight"], groups[1]["Weight"] = 100, 0
    tags = copy.deepcopy(TAGS)
    listener_tags = tags.setdefault(listeners[0]["ListenerArn"], {})
    listener_tags["bluegreen:live-color"] = "blue"
    if rollback_to is not None:
        listener_tags[bluegreen_state.ROLLBACK_TAG] = rollback_to
    return summarize(found=balancer(listeners, tags))


def test_a_rollout_in_progress_is_rolled_back_to_the_live_color():
    assert summarize()["rollback"] == {"action": "abort", "to": "blue", "retired": "green", "reason": "abort the rollout in progress"}
    # whatever the rollback tag says: the split is what AWS has
    listeners = copy.deepcopy(RECORDED["Listeners"])
    tags = copy.deepcopy(TAGS)
    tags.setdefault(listeners[0]["ListenerArn"], {})[bluegreen_state.ROLLBACK_TAG] = "none"
    assert summarize(found=balancer(listeners, tags))["rollback"]["action"] == "abort"


def test_after_a_promotion_the_rollback_returns_to_the_retired_color_while_it_runs_the_recorded_revision():
    state = settled(bluegreen_state.rollback_tag("green", "td-green"))
    assert state["rollback"] == {"action": "previous", "to": "green", "retired": "blue", "reason": "previous color"}


def test_a_rollout_started_on_the_retired_color_since_leaves_nothing_to_roll_back():
    arn = "arn:aws:ecs:us-east-1:123456789012:task-definition/app-green-dev:7"
    state = settled(bluegreen_state.rollback_tag("green", arn))
    assert state["rollback"]["action"] == "none" and state["rollback"]["to"] == "blue"
    assert "green no longer runs the release the last promotion retired (app-green-dev:7) but td-green" in state["rollback"]["reason"]


def test_after_an_abort_or_a_rollback_there_is_nothing_to_roll_back():
    state = settled("none")
    assert state["rollback"]["action"] == "none" and state["rollback"]["to"] == "blue" and state["rollback"]["retired"] is None
    assert "the last rollout did not complete (aborted or rolled back) and blue serves" in state["rollback"]["reason"]
    # a tag naming the live color (the promotion's color taken back since) returns nowhere either
    assert settled(bluegreen_state.rollback_tag("blue", "td-blue"))["rollback"]["action"] == "none"


def test_an_environment_promoted_before_the_rollback_tag_returns_to_the_idle_color():
    assert settled()["rollback"] == {"action": "previous", "to": "green", "retired": "blue", "reason": "previous color"}


def test_an_incomplete_environment_has_no_rollback_plan():
    assert summarize(services=[service("blue")], missing=["app-green-dev"])["rollback"] is None


def test_a_rollback_stopped_between_its_weights_and_its_tags_is_finished_not_undone():
    listeners = copy.deepcopy(RECORDED["Listeners"])
    groups = listeners[0]["DefaultActions"][0]["ForwardConfig"]["TargetGroups"]
    groups[0]["Weight"], groups[1]["Weight"] = 0, 100
    tags = copy.deepcopy(TAGS)
    tags.setdefault(listeners[0]["ListenerArn"], {}).update({"bluegreen:live-color": "blue", bluegreen_state.ROLLBACK_TAG: "green td-green"})
    state = summarize(found=balancer(listeners, tags))
    assert state["rollback"]["action"] == "previous" and state["rollback"]["to"] == "green" and state["rollback"]["retired"] == "blue"
    # weights set by hand (0..999 each): green has all the traffic at 0/200 as at 0/100
    groups[0]["Weight"], groups[1]["Weight"] = 0, 200
    assert summarize(found=balancer(listeners, tags))["rollback"]["action"] == "previous"
    # while blue keeps a share, the split is a rollout's, aborted
    groups[0]["Weight"], groups[1]["Weight"] = 1, 200
    assert summarize(found=balancer(listeners, tags))["rollback"]["action"] == "abort"
    groups[0]["Weight"], groups[1]["Weight"] = 0, 100
    # a rollout at its last step (another revision on green) is aborted as before
    state = summarize(found=balancer(listeners, tags), services=[service("blue"), dict(service("green"), task_definition="td-green-new")])
    assert state["rollback"]["action"] == "abort" and state["rollback"]["to"] == "blue"
