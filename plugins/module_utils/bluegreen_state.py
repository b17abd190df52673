# -*- coding: utf-8 -*-
# Copyright: bluegreen.migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The blue-green state of one environment, read once for every operation (rollout, rollback,
status, migrate): what the listener forwards and to whom, the live color, both services with
their task definitions, target health and the alarms of each color. There is no state file:
AWS is the state."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible_collections.bluegreen.migration.plugins.module_utils import cloudwatch
from ansible_collections.bluegreen.migration.plugins.module_utils import elbv2
from ansible_collections.bluegreen.migration.plugins.module_utils import naming
from ansible_collections.bluegreen.migration.plugins.module_utils.ecs_services import name_of
from ansible_collections.bluegreen.migration.plugins.module_utils.ecs_services import read_services

COLORS = ("blue", "green")
OWNER_TAG = "bluegreen:environment"


def other_color(color):
    return "green" if color == "blue" else "blue"


PAUSED_TAG = "bluegreen:paused-at"
# Where a rollback returns, on the traffic listener: "<color> <task definition ARN>", written by a
# promotion (the retired color and the revision it runs), or "none" once the traffic went back to
# the live color without one (an aborted rollout, a rollback): nothing to return to then.
ROLLBACK_TAG = "bluegreen:rollback-to"
NOTHING_TO_ROLL_BACK = "none"


def rollback_tag(color, task_definition):
    """The rollback tag's value a promotion writes."""
    return "%s %s" % (color, task_definition)


def percent_of(weights, color):
    """`color`'s share of the traffic in percent: the listener's weights (0..999 each) need not
    add up to 100 when set by hand. 100 only when it has all the traffic (not 99.5 % rounded up:
    the last step's bake would be taken for done), at least 1 when it has any."""
    total = sum(weights.values())
    if not weights[color] or not total:
        return 0
    if weights[color] == total:
        return 100
    return min(99, max(1, int(round(100.0 * weights[color] / total))))


def rollback_plan(state):
    """Where a rollback sends the traffic, from what AWS holds: {action, to, retired, reason}.

    - abort: a rollout in progress (the idle color has weight) goes back to the live color,
      which never stopped serving;
    - previous: after a completed rollout, the color it retired, while that color still runs
      the revision the promotion recorded;
    - none: nothing to return to: the last rollout was aborted or rolled back, or a rollout has
      since put another revision on the retired color (a rollout killed before its first step).
      Returning to the idle color then would send the traffic to a release that failed or was
      never checked.
    An environment promoted before the tag existed (none on its listener) returns to the idle color.
    """
    live, idle = state["live_color"], state["idle_color"]
    recorded = (state.get("listener_tags") or {}).get(ROLLBACK_TAG)
    running = (state["services"].get(idle) or {}).get("task_definition")
    if percent_of(state["weights"], idle) == 100 and recorded == rollback_tag(idle, running):
        # A rollback stopped between its weights and its tags (the same module run, two calls):
        # the traffic is on the recorded release already; the run finishes that rollback.
        return {"action": "previous", "to": idle, "retired": live, "reason": "finish the rollback to the previous color"}
    if state["weights"].get(idle, 0) > 0:
        return {"action": "abort", "to": live, "retired": idle, "reason": "abort the rollout in progress"}
    if recorded is None:
        return {"action": "previous", "to": idle, "retired": live, "reason": "previous color"}
    nothing = {"action": "none", "to": live, "retired": None}
    if recorded == NOTHING_TO_ROLL_BACK:
        return dict(nothing, reason="nothing to roll back: the last rollout did not complete (aborted or rolled back) and %s serves" % live)
    color, dummy, task_definition = recorded.partition(" ")
    if color != idle:
        return dict(nothing, reason="nothing to roll back: %s, which the last promotion retired, is live" % color)
    if running != task_definition:
        return dict(nothing, reason="nothing to roll back: %s no longer runs the release the last promotion retired (%s) but %s: "
                    "a rollout has started on it since" % (idle, revision(task_definition), revision(running)))
    return {"action": "previous", "to": idle, "retired": live, "reason": "previous color"}


def revision(task_definition):
    """family:revision of a task definition ARN (the value itself when it is not one)."""
    return (task_definition or "none").rsplit("/", 1)[-1]


def weighted_listener(listeners):
    """The listener that forwards by weight between the colors (HTTPS 443 when there is a
    certificate, else HTTP 80: the highest port among those forwarding to two target groups or
    more; the test listener forwards to one), or None."""
    forwarding = [item for item in listeners if len(item.get("weights") or []) >= 2]
    return max(forwarding, key=lambda item: item["port"]) if forwarding else None


def test_listener(listeners, names, dns_name):
    """The test listener: the one forwarding to a single color's target group, as
    {listener_arn, port, protocol, color, url}; {} when there is none."""
    colors = dict((names["target_group_%s" % color], color) for color in COLORS)
    for item in listeners:
        weights = item.get("weights") or []
        if len(weights) == 1 and target_group_name(weights[0]["target_group_arn"]) in colors:
            scheme = "https" if item.get("protocol") == "HTTPS" else "http"
            return {
                "listener_arn": item["listener_arn"],
                "port": item["port"],
                "protocol": item.get("protocol", "HTTP"),
                "color": colors[target_group_name(weights[0]["target_group_arn"])],
                "target_group_arn": weights[0]["target_group_arn"],
                "url": "%s://%s:%s/" % (scheme, dns_name, item["port"]),
            }
    return {}


def target_group_name(arn):
    """The name in a target group ARN (...:targetgroup/<name>/<id>)."""
    return arn.split(":targetgroup/", 1)[-1].split("/", 1)[0]


def color_forwarding(listener, names):
    """({color: target group ARN or ''}, {color: weight}, {target group name: weight} of every
    group the listener forwards to)."""
    weights = (listener or {}).get("weights") or []
    by_name = dict((target_group_name(item["target_group_arn"]), item) for item in weights)
    arns, color_weights = {}, {}
    for color in COLORS:
        item = by_name.get(names["target_group_%s" % color]) or {}
        arns[color] = item.get("target_group_arn", "")
        color_weights[color] = int(item.get("weight", 0))
    return arns, color_weights, dict((name, int(item["weight"])) for name, item in sorted(by_name.items()))


def deployment_problem(suffix, region, names, balancer):
    """Why the environment cannot be operated through its load balancer, or '' when it can."""
    if not balancer:
        return "Load balancer %s not found in %s: deploy the environment with site.yml first (ansible-playbook site.yml -i <inventory>)" % (
            names["alb"],
            region,
        )
    owner = (balancer.get("tags") or {}).get(OWNER_TAG) or ""
    if owner != suffix:
        return "Load balancer %s in %s carries %s=%s, not %s: it belongs to something else; nothing is read or changed through it" % (
            names["alb"],
            region,
            OWNER_TAG,
            owner or "(no tag)",
            suffix,
        )
    return ""


def _int_or_zero(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def alarm_names(names, alarm_keys):
    """{color: [alarm names of the per-color kinds `alarm_keys`], 'environment': [every other
    alarm of the naming catalogue]} (keys as the ecs_service role's alarm kinds name them)."""
    per_color = dict((color, [names["%s_%s" % (key, color)] for key in alarm_keys]) for color in COLORS)
    taken = set(per_color["blue"] + per_color["green"])
    catalogue = sorted(names[key] for key, (dummy, kind) in naming.CATALOGUE.items() if kind == "alarm")
    per_color["environment"] = [name for name in catalogue if name not in taken]
    return per_color


def alarm_states(groups, described):
    """Each group of alarm names as [{name, state, reason}] (state 'missing' when the alarm does
    not exist), with 'firing' and 'missing' name lists per group."""
    result = {}
    for group, group_names in groups.items():
        alarms = []
        for name in group_names:
            alarm = described.get(name)
            alarms.append(
                {
                    "name": name,
                    "state": alarm["StateValue"] if alarm else "missing",
                    "reason": alarm.get("StateReason", "") if alarm else "the alarm does not exist",
                }
            )
        result[group] = {
            "alarms": alarms,
            "firing": [a["name"] for a in alarms if a["state"] == "ALARM"],
            "missing": [a["name"] for a in alarms if a["state"] == "missing"],
        }
    return result


def target_health(descriptions):
    """Counts of one target group's targets by state: healthy, unhealthy, total, states."""
    states = elbv2.target_states(descriptions)
    return {"healthy": states.get("healthy", 0), "unhealthy": states.get("unhealthy", 0), "total": len(descriptions), "states": states}


def summarize(suffix, region, names, balancer, services, missing_services):
    """The state from what was read: `balancer` as elbv2.load_balancer_result gives it (or
    None), `services` as ecs_services.read_services does. A service DRAINING (deleted, its tasks
    stopping) counts as missing: ECS refuses to update it, and site.yml creates it again."""
    missing_services = list(missing_services) + [s["service_name"] for s in services if s.get("status") == "DRAINING"]
    services = [s for s in services if s.get("status") != "DRAINING"]
    problem = deployment_problem(suffix, region, names, balancer)
    listener = weighted_listener(balancer.get("listeners") or []) if balancer and not problem else None
    arns, weights, forwarded = color_forwarding(listener, names)
    by_name = dict((service["service_name"], service) for service in services)
    state = {
        "environment": suffix,
        "deployed": not problem,
        "problem": problem,
        "names": names,
        "cluster": names["ecs_cluster"],
        "alb_dns_name": (balancer or {}).get("dns_name", ""),
        "listener_arn": (listener or {}).get("listener_arn", ""),
        "listener_port": (listener or {}).get("port"),
        "listener_protocol": (listener or {}).get("protocol", "HTTP"),
        "listener_tags": (listener or {}).get("tags") or {},
        # Epoch seconds a rollout paused at (rollout_pause_after_step), 0 when it is not paused.
        "paused_at": _int_or_zero(((listener or {}).get("tags") or {}).get(PAUSED_TAG)),
        "test_listener": test_listener(balancer.get("listeners") or [], names, balancer.get("dns_name", "")) if balancer and not problem else {},
        "stickiness": (listener or {}).get("stickiness") or {"enabled": False},
        # No tag yet means a new environment, where blue went live.
        "live_color": (listener or {}).get("live_color") or "blue",
        "target_groups": arns,
        "weights": weights,
        "forwarded": forwarded,
        "services": dict((color, by_name.get(names["ecs_service_%s" % color])) for color in COLORS),
        "missing_services": list(missing_services),
    }
    if not problem and listener is None:
        state["problem"] = "Load balancer %s has no listener that forwards by weight: re-run site.yml" % names["alb"]
    elif not problem and (missing_services or not all(arns.values())):
        state["problem"] = "Incomplete environment: services missing %s, listener %s forwards to %s: re-run site.yml" % (
            list(missing_services),
            state["listener_arn"],
            sorted(forwarded),
        )
    state["complete"] = not state["problem"]
    state["live_color"] = state["live_color"] if state["live_color"] in COLORS else "blue"
    state["idle_color"] = other_color(state["live_color"])
    state["colors_with_traffic"] = [color for color in COLORS if weights[color] > 0]
    state["rollback"] = rollback_plan(state) if state["complete"] else None
    # A color without traffic that still runs tasks (a drain not over) may still write with the old version.
    state["busy_without_traffic"] = [
        dict((key, service[key]) for key in ("service_name", "running_count", "desired_count"))
        for color, service in sorted(state["services"].items())
        if service and color not in state["colors_with_traffic"] and service["running_count"] > 0
    ]
    return state


def read_state(clients, suffix, region, alarm_keys=(), include_task_definitions=True, include_target_health=False, include_alarms=True):
    """One read of the environment's blue-green state (see summarize) with, when asked, the
    target health and the alarms of each color."""
    names = naming.resource_names(suffix, region)
    balancer, listeners, tags = elbv2.read_load_balancer(clients["elbv2"], names["alb"])
    found = elbv2.load_balancer_result(balancer, listeners, tags) if balancer else None
    services, missing = read_services(clients["ecs"], names["ecs_cluster"], [names["ecs_service_blue"], names["ecs_service_green"]], include_task_definitions)
    state = summarize(suffix, region, names, found, services, missing)
    state["target_health"] = {}
    if include_target_health:
        for color, arn in state["target_groups"].items():
            if arn:
                state["target_health"][color] = target_health(elbv2.describe_target_health(clients["elbv2"], arn))
    state["alarms"] = {}
    if include_alarms:
        groups = alarm_names(names, alarm_keys)
        described = cloudwatch.describe_alarms(clients["cloudwatch"], [name for group in groups.values() for name in group])
        state["alarms"] = alarm_states(groups, described)
    return state


# ---------------------------------------------------------------- status report


def _shortened(text, length=120, end="..."):
    """`text` cut at a word to `length` characters (a few more are let through), marked with `end`."""
    if len(text) <= length + 5:
        return text
    return text[: length - len(end)].rsplit(" ", 1)[0] + end


def _migrator_output(invocation):
    """lambda_invoke's registered result: the function's output ('' without one) and the
    migrator's answer in it ({} when the output is not a mapping)."""
    output = ((invocation or {}).get("result") or {}).get("output", "")
    return output, output if isinstance(output, dict) else {}


def migrator_verdict(invocation, function_name):
    """What the migrator answered, from lambda_invoke's registered result: {ok (the answer's ok is
    true), error (why not: the migrator's own error, or that the function did not answer like the
    migrator), answer (the answer, {} when it is not a mapping), current_version, applied and
    would_apply (the migrations' files), notes (what an applied migration found already done,
    "<file>: <note>")}."""
    output, answer = _migrator_output(invocation)
    if answer.get("ok") is True:
        error = ""
    elif "ok" in answer:
        error = answer.get("error") or "the migrator answered ok=false without an error text"
    else:
        error = "the function %s did not answer like the migrator (no ok field): %s" % (function_name, json.dumps(output))
    return {
        "ok": not error,
        "error": error,
        "answer": answer,
        "current_version": answer.get("current_version", ""),
        "applied": [m.get("file") for m in answer.get("applied") or []],
        "would_apply": [m.get("file") for m in answer.get("would_apply") or []],
        "notes": ["%s: %s" % (m.get("file"), note) for m in answer.get("applied") or [] for note in m.get("notes") or []],
    }


def _color_line(state, color, container):
    service = state["services"][color] or {}
    health = (state.get("target_health") or {}).get(color) or {}
    running = service.get("task_definition") or ""
    image = ((service.get("task_definition_details") or {}).get("images") or {}).get(container) or "?"
    line = "%s%s: weight %s, %s/%s tasks running, %s/%s targets healthy, %s (%s)" % (
        color,
        " (live)" if color == state["live_color"] else "",
        state["weights"][color],
        service.get("running_count"),
        service.get("desired_count"),
        health.get("healthy"),
        health.get("total"),
        name_of(running),
        image,
    )
    latest = service.get("latest_task_definition_details") or {}
    if (latest.get("arn") or running) != running:
        line += ", latest revision %s (%s) not deployed" % (name_of(latest["arn"]), (latest.get("images") or {}).get(container) or "?")
    return line


def _schema_line(invocation, migrator_function):
    output, answer = _migrator_output(invocation)
    if "current_version" in answer:
        line = "schema: version %s (latest %s, pending %d)" % (
            answer["current_version"], answer.get("latest_version", "?"), len(answer.get("pending") or []))
        return line if answer.get("ok") else line + ", " + str(answer.get("error", "not ok"))
    why = (invocation or {}).get("msg")
    if why is None:
        why = _shortened(json.dumps(output))
    return "schema: unknown (the migrator %s gave no status: %s)" % (migrator_function, why)


def status_lines(state, context, invocation=None, lock_info=None):
    """Where an environment stands, one line per item, from blue_green_state's `state` (with
    target health), the migrator's status answer (lambda_invoke's result, or its failure) and
    environment_lock_info's answer. `context`: {environment, region, container, migrator_function}."""
    container = context["container"]
    lines = ["environment %s (%s): live color %s, http://%s/" % (context["environment"], context["region"], state["live_color"], state["alb_dns_name"])]
    if state.get("test_listener"):
        lines.append("test listener: %s forwards to %s" % (state["test_listener"]["url"], state["test_listener"]["color"]))
    if int(state.get("paused_at") or 0) > 0:
        lines.append("rollout paused since epoch %s: continue with rollout.yml -e rollout_resume=true" % state["paused_at"])
    lines.extend(_color_line(state, color, container) for color in COLORS)
    rollback = state.get("rollback")
    if rollback:
        lines.append("rollback: %s" % (rollback["reason"] if rollback["action"] == "none" else "would send the traffic to %s (%s)" % (
            rollback["to"], rollback["reason"])))
    lines.append(_schema_line(invocation, context["migrator_function"]))
    firing = sorted(name for alarms in (state.get("alarms") or {}).values() for name in alarms.get("firing") or [])
    lines.append("alarms in ALARM: %s" % (", ".join(firing) or "none"))
    lock = lock_info or {}
    lines.append(lock["line"] if "line" in lock else "lock: unknown (%s)" % lock.get("msg", "no answer"))
    return lines
