"""The rollout's alarm gate verdict and the container image swap of a new task definition
revision (module_utils/rollout.py alarm_gate, containers_with_image, and their filters)."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.bluegreen.migration.plugins.filter.blue_green import alarm_gate
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
