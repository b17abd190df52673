"""The gates' verdicts (alarms, contract, the migrator's answer) and the container image swap of
a new task definition revision (module_utils/rollout.py alarm_gate, contract_gate,
migrator_verdict, containers_with_image, and their filters)."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.bluegreen.migration.plugins.filter.blue_green import alarm_gate
from ansible_collections.bluegreen.migration.plugins.filter.blue_green import contract_gate
from ansible_collections.bluegreen.migration.plugins.filter.blue_green import migrator_verdict
from ansible_collections.bluegreen.migration.plugins.filter.blue_green import with_image

WANTED = ["app-green-cpu-dev", "app-green-unhealthy-hosts-dev", "app-green-target-5xx-dev"]
AT = "at step 2/3 (50 %)"


def answer(states, reasons=None):
    """cloudwatch_metric_alarm_info's answer (the fields the gate reads): alarm name -> state."""
    reasons = reasons or {}
    return {"changed": False, "metric_alarms": [
        {"alarm_name": name, "state_value": state, "state_reason": reasons.get(name, "Threshold Crossed"), "namespace": "AWS/ECS"}
        for name, state in states.items()]}


def test_every_alarm_there_and_none_in_alarm_passes():
    gate = alarm_gate(answer({n: "OK" for n in WANTED} | {WANTED[1]: "INSUFFICIENT_DATA"}), WANTED, AT)
    assert gate == {"passed": True, "firing": [], "missing": [],
                    "message": "gate alarms passed at step 2/3 (50 %): " + ", ".join(WANTED) + " not in ALARM"}


def test_an_alarm_in_alarm_fails_naming_it_and_its_reason():
    states = {n: "OK" for n in WANTED} | {WANTED[2]: "ALARM"}
    gate = alarm_gate(answer(states, {WANTED[2]: "5xx forced by the test"}), WANTED, AT)
    assert not gate["passed"] and gate["firing"] == [WANTED[2]] and gate["missing"] == []
    assert gate["message"] == "gate alarms failed at step 2/3 (50 %): app-green-target-5xx-dev in ALARM (5xx forced by the test)"


def test_a_missing_alarm_fails_even_when_the_others_are_fine():
    gate = alarm_gate(answer({WANTED[0]: "OK", WANTED[2]: "OK"}), WANTED, AT)
    assert not gate["passed"] and gate["missing"] == [WANTED[1]]
    assert gate["message"] == "gate alarms failed at step 2/3 (50 %): alarms app-green-unhealthy-hosts-dev do not exist (re-run site.yml)"


def test_no_alarm_at_all_fails_with_every_one_missing():
    gate = alarm_gate({"changed": False, "metric_alarms": []}, WANTED, AT)
    assert not gate["passed"] and gate["missing"] == WANTED


def test_firing_is_named_before_missing():
    gate = alarm_gate(answer({WANTED[0]: "ALARM"}), WANTED, AT)
    assert gate["firing"] == [WANTED[0]] and gate["missing"] == WANTED[1:]
    assert "in ALARM" in gate["message"] and "do not exist" not in gate["message"]


def test_the_gate_wants_the_registered_answer_and_a_list():
    with pytest.raises(AnsibleFilterError, match="alarm_gate: expects"):
        alarm_gate("ALARM", WANTED)
    with pytest.raises(AnsibleFilterError, match="alarm_gate: expects"):
        alarm_gate(answer({}), "app-green-cpu-dev")


CONTAINERS = [
    {"name": "log-router", "image": "fluent-bit:2", "essential": True},
    {"name": "app", "image": "nginx:1.27", "essential": True, "port_mappings": [{"container_port": 80}]},
]


def test_only_the_named_container_changes_image_and_the_order_is_kept():
    got = with_image(CONTAINERS, "app", "nginx:1.28")
    assert got == [CONTAINERS[0], dict(CONTAINERS[1], image="nginx:1.28")]
    assert CONTAINERS[1]["image"] == "nginx:1.27"  # the input is not changed in place


def test_a_container_the_definition_lacks_is_an_error_naming_what_it_has():
    with pytest.raises(AnsibleFilterError, match="no container 'web' .*log-router, app"):
        with_image(CONTAINERS, "web", "nginx:1.28")


# ---------------------------------------------------------------- contract gate
ALB = "app-dev"
DRAINED = {
    "deployed": True,
    "problem": "",
    "forwarded": {"app-blue-dev": 0, "app-green-dev": 100},
    "colors_with_traffic": ["green"],
    "busy_without_traffic": [],
}


def test_contract_passes_when_one_color_takes_the_traffic_and_the_other_runs_nothing():
    assert contract_gate(DRAINED, ALB) == {
        "passed": True,
        "message": 'app-dev sends traffic to app-green-dev only (weights {"app-blue-dev": 0, "app-green-dev": 100}); no task runs without traffic',
    }


def test_contract_is_refused_without_the_environments_load_balancer():
    state = dict(DRAINED, deployed=False, problem="Load balancer app-dev not found", forwarded={}, colors_with_traffic=[])
    assert contract_gate(state, ALB) == {
        "passed": False, "message": "contract refused: Load balancer app-dev not found; the drain of the idle color cannot be confirmed"}


def test_contract_is_refused_while_both_colors_take_traffic():
    state = dict(DRAINED, forwarded={"app-blue-dev": 50, "app-green-dev": 50}, colors_with_traffic=["blue", "green"])
    gate = contract_gate(state, ALB)
    assert not gate["passed"]
    assert gate["message"] == ('contract refused: both colors still take traffic on app-dev (weights {"app-blue-dev": 50, "app-green-dev": 50}); '
                               "finish or roll back the switch before contracting the schema")


def test_contract_is_refused_while_the_color_without_traffic_still_runs_tasks():
    state = dict(DRAINED, busy_without_traffic=[{"service_name": "app-blue-dev", "running_count": 2, "desired_count": 0}])
    gate = contract_gate(state, ALB)
    assert not gate["passed"]
    assert gate["message"].startswith("contract refused: app-blue-dev gets no traffic but still runs 2 task(s) (desired 0); ")
    assert gate["message"].endswith("Let the rollout's drain finish (it scales the old color to 0), then contract.")


def test_contract_is_refused_after_an_aborted_or_rolled_back_rollout():
    state = dict(DRAINED, live_color="green", listener_tags={"bluegreen:rollback-to": "none"})
    gate = contract_gate(state, ALB)
    assert not gate["passed"]
    assert gate["message"].startswith("contract refused: the last rollout did not complete (it was aborted or rolled back), so green serves")
    # after a promotion (the tag names the retired color) it passes
    promoted = dict(DRAINED, live_color="green", listener_tags={"bluegreen:rollback-to": "blue arn:aws:ecs:us-east-1:1:task-definition/app-blue-dev:3"})
    assert contract_gate(promoted, ALB)["passed"]


def test_no_traffic_at_all_is_neither_color():
    state = dict(DRAINED, forwarded={"app-blue-dev": 0, "app-green-dev": 0}, colors_with_traffic=[])
    assert contract_gate(state, ALB)["message"].startswith("app-dev sends traffic to neither color only")


# ---------------------------------------------------------------- the migrator's answer


def invoked(output):
    return {"changed": False, "result": {"status_code": 200, "output": output}}


def test_an_ok_answer_with_what_it_applied():
    verdict = migrator_verdict(invoked({"ok": True, "action": "apply", "current_version": 4,
                                        "applied": [{"file": "004_add_email.sql", "version": 4}], "would_apply": []}), "migrator-dev")
    assert verdict["ok"] and verdict["error"] == ""
    assert verdict["current_version"] == 4 and verdict["applied"] == ["004_add_email.sql"] and verdict["would_apply"] == []
    assert verdict["notes"] == []


def test_notes_of_applied_migrations_name_their_file():
    applied = [{"file": "V003__index.sql", "notes": ["statement 1 (line 1) not run: index public.i is in place"]},
               {"file": "V004__more.sql"}, {"file": "V005__drop.sql", "notes": ["a", "b"]}]
    verdict = migrator_verdict(invoked({"ok": True, "applied": applied}), "migrator-dev")
    assert verdict["notes"] == ["V003__index.sql: statement 1 (line 1) not run: index public.i is in place",
                                "V005__drop.sql: a", "V005__drop.sql: b"]


def test_a_refusal_carries_the_migrators_own_error():
    verdict = migrator_verdict(invoked({"ok": False, "error": "contract migration 005 refused during expand"}), "migrator-dev")
    assert not verdict["ok"] and verdict["error"] == "contract migration 005 refused during expand"
    assert migrator_verdict(invoked({"ok": False}), "migrator-dev")["error"] == "the migrator answered ok=false without an error text"


@pytest.mark.parametrize("output, shown", [("echo", '"echo"'), ({"status": "up"}, '{"status": "up"}'), (None, "null")])
def test_an_answer_without_ok_is_not_the_migrators(output, shown):
    verdict = migrator_verdict(invoked(output), "migrator-dev")
    assert not verdict["ok"]
    assert verdict["error"] == "the function migrator-dev did not answer like the migrator (no ok field): " + shown


def test_a_failed_invocation_without_a_result_is_not_ok():
    verdict = migrator_verdict({"failed": True, "msg": "Function not found"}, "migrator-dev")
    assert not verdict["ok"] and verdict["answer"] == {} and "no ok field" in verdict["error"]
    with pytest.raises(AnsibleFilterError, match="migrator_verdict: expects"):
        migrator_verdict("ok", "migrator-dev")


def test_ok_must_be_true_not_merely_truthy():
    assert not migrator_verdict(invoked({"ok": "yes"}), "migrator-dev")["ok"]
