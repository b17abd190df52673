"""The status report of playbooks/status.yml (module_utils/bluegreen_state.py status_lines and
the blue_green_status filter): what each line says for each shape of the state and answers."""

import copy

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.bluegreen.migration.plugins.filter.blue_green import blue_green_status

CONTEXT = {"environment": "dev", "region": "us-east-1", "container": "app", "migrator_function": "migrator-dev"}
TD = "arn:aws:ecs:us-east-1:123456789012:task-definition/"


def service(revision, image, latest=None, latest_image=None, running=2, desired=2):
    return {
        "task_definition": TD + revision,
        "running_count": running,
        "desired_count": desired,
        "task_definition_details": {"images": {"app": image} if image else {}},
        "latest_task_definition_details": {"arn": TD + latest, "images": {"app": latest_image}} if latest else None,
    }


STATE = {
    "live_color": "blue",
    "alb_dns_name": "alb-dev.elb.example",
    "test_listener": {},
    "paused_at": 0,
    "weights": {"blue": 100, "green": 0},
    "services": {"blue": service("app-blue-dev:3", "nginx:1.27", "app-blue-dev:3", "nginx:1.27"), "green": service("app-green-dev:2", "nginx:1.26")},
    "target_health": {"blue": {"healthy": 2, "total": 2}, "green": {"healthy": 0, "total": 0}},
    "alarms": {"blue": {"firing": []}, "green": {"firing": []}},
}
STATUS = {"result": {"output": {"ok": True, "action": "status", "current_version": 3, "latest_version": 3, "pending": []}}}
FREE = {"changed": False, "line": "lock: free"}


def test_a_steady_environment_one_line_per_item():
    assert blue_green_status(STATE, CONTEXT, STATUS, FREE) == [
        "environment dev (us-east-1): live color blue, http://alb-dev.elb.example/",
        "blue (live): weight 100, 2/2 tasks running, 2/2 targets healthy, app-blue-dev:3 (nginx:1.27)",
        "green: weight 0, 2/2 tasks running, 0/0 targets healthy, app-green-dev:2 (nginx:1.26)",
        "schema: version 3 (latest 3, pending 0)",
        "alarms in ALARM: none",
        "lock: free",
    ]


def test_a_paused_rollout_with_a_test_listener_an_undeployed_revision_and_alarms_firing():
    state = copy.deepcopy(STATE)
    state.update(live_color="green", paused_at=1796385990, weights={"blue": 50, "green": 50})
    state["test_listener"] = {"url": "http://alb-dev.elb.example:8080/", "color": "blue"}
    state["services"]["green"] = service("app-green-dev:2", "nginx:1.26", "app-green-dev:4", "nginx:1.28", running=1)
    state["alarms"] = {"green": {"firing": ["app-green-cpu-dev", "app-green-5xx-dev"]}, "blue": {"firing": ["app-blue-cpu-dev"]}}
    lines = blue_green_status(state, CONTEXT, STATUS, FREE)
    assert lines[1] == "test listener: http://alb-dev.elb.example:8080/ forwards to blue"
    assert lines[2] == "rollout paused since epoch 1796385990: continue with rollout.yml -e rollout_resume=true"
    assert lines[3] == "blue: weight 50, 2/2 tasks running, 2/2 targets healthy, app-blue-dev:3 (nginx:1.27)"
    assert lines[4] == ("green (live): weight 50, 1/2 tasks running, 0/0 targets healthy, app-green-dev:2 (nginx:1.26), "
                        "latest revision app-green-dev:4 (nginx:1.28) not deployed")
    assert lines[-2] == "alarms in ALARM: app-blue-cpu-dev, app-green-5xx-dev, app-green-cpu-dev"


def test_an_image_the_container_does_not_show_is_a_question_mark():
    state = copy.deepcopy(STATE)
    state["services"]["blue"] = service("app-blue-dev:3", None, "app-blue-dev:5", None)
    assert blue_green_status(state, CONTEXT, STATUS, FREE)[1].endswith("app-blue-dev:3 (?), latest revision app-blue-dev:5 (?) not deployed")


@pytest.mark.parametrize(
    "invocation, line",
    [
        ({"result": {"output": {"ok": False, "current_version": 2, "pending": ["003.sql"], "error": "checksum mismatch of 002"}}},
         "schema: version 2 (latest ?, pending 1), checksum mismatch of 002"),
        ({"result": {"output": {"ok": False, "current_version": 2}}}, "schema: version 2 (latest ?, pending 0), not ok"),
        ({"failed": True, "msg": "Function not found"}, "schema: unknown (the migrator migrator-dev gave no status: Function not found)"),
        ({"result": {"output": None}}, "schema: unknown (the migrator migrator-dev gave no status: null)"),
        ({"result": {}}, 'schema: unknown (the migrator migrator-dev gave no status: "")'),
        ({"result": {"output": ["echo"]}}, 'schema: unknown (the migrator migrator-dev gave no status: ["echo"])'),
    ],
    ids=["not ok", "no error given", "invoke failed", "null", "no output", "not a migrator answer"],
)
def test_the_schema_line_for_each_answer(invocation, line):
    assert blue_green_status(STATE, CONTEXT, invocation, FREE)[-3] == line


def test_a_long_answer_that_is_not_the_migrators_is_shortened_at_a_word():
    line = blue_green_status(STATE, CONTEXT, {"result": {"output": "echo " + "word " * 40}}, FREE)[-3]
    shown = line.split("gave no status: ", 1)[1]
    assert shown.endswith('word...)') and len(shown) <= 121 and shown.startswith('"echo word')


@pytest.mark.parametrize("lock, line", [
    ({"line": "lock: held by run 42"}, "lock: held by run 42"),
    ({"failed": True, "msg": "AccessDenied"}, "lock: unknown (AccessDenied)"),
    ({}, "lock: unknown (no answer)"),
    (None, "lock: unknown (no answer)"),
])
def test_the_lock_line(lock, line):
    assert blue_green_status(STATE, CONTEXT, STATUS, lock)[-1] == line


def test_a_context_lacking_a_key_is_an_error_naming_it():
    with pytest.raises(AnsibleFilterError, match="blue_green_status: .*'container'"):
        blue_green_status(STATE, {k: v for k, v in CONTEXT.items() if k != "container"}, STATUS, FREE)


def test_the_rollback_line_says_where_a_rollback_would_go_or_that_it_has_nowhere():
    state = copy.deepcopy(STATE)
    state["rollback"] = {"action": "previous", "to": "green", "retired": "blue", "reason": "previous color"}
    assert "rollback: would send the traffic to green (previous color)" in blue_green_status(state, CONTEXT, STATUS, FREE)
    state["rollback"] = {"action": "none", "to": "blue", "retired": None,
                         "reason": "nothing to roll back: the last rollout did not complete (aborted or rolled back) and blue serves"}
    lines = blue_green_status(state, CONTEXT, STATUS, FREE)
    assert lines[3] == "rollback: nothing to roll back: the last rollout did not complete (aborted or rolled back) and blue serves"
