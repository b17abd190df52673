# -*- coding: utf-8 -*-
# Copyright: bluegreen.migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The rollout's plan, from the blue-green state (bluegreen_state.summarize / the
blue_green_state module) and the resolved rollout settings; fixed for the whole run.

old is the color the listener tag names live, new the other one.
  done         the live color already runs the image with all the traffic: only the old
               color's scale-down is left (an interrupted drain finishes there);
  resume       the new color already runs the image and has some traffic: continue with the
               steps above its weight;
  reset_first  the new color has traffic but another image (an interrupted rollout of another
               version): the traffic goes back to the old color before deploying.

The plan also carries the lifecycle hooks this run runs (each check resolved: kind, absolute
URL, expectations), the pause (rollout_pause_after_step: where this run stops, or whether a
paused rollout continues, waits or times out) and the header canary rule."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re
import time

from ansible_collections.bluegreen.migration.plugins.module_utils.bluegreen_state import NOTHING_TO_ROLL_BACK, PAUSED_TAG, ROLLBACK_TAG
from ansible_collections.bluegreen.migration.plugins.module_utils.bluegreen_state import other_color, percent_of, rollback_tag

SETTINGS = ("steps", "bake", "drain", "desired_count", "min_healthy", "steady_timeout", "health_timeout", "container", "expand", "schema_expect")

# The lifecycle hooks in the order they run (CodeDeploy's names, in snake case).
HOOKS = ("before_install", "after_install", "before_allow_traffic", "after_allow_traffic")
HOOK_MOMENTS = {
    "before_install": "before the new color is deployed",
    "after_install": "new color steady and healthy, on the test listener, no production weight yet",
    "before_allow_traffic": "just before the first production step",
    "after_allow_traffic": "after the last step, before the promotion",
}
CHECK_KINDS = ("http", "lambda", "include_tasks")
HTTP_DEFAULTS = {"listener": "test", "method": "GET", "status": 200, "body_regex": "", "retries": 3, "delay": 5, "timeout": 10}
PAUSE_ACTIONS = ("abort", "continue")
# Rough seconds a Lambda check and a task file take, for the estimate.
LAMBDA_ESTIMATE = 2
TASKS_ESTIMATE = 10
# Seconds CloudWatch takes to publish a load balancer's or service's one-minute datapoint: an
# alarm sees a minute of errors only about this long after it ends.
METRIC_DELAY = 60


class RolloutPlanError(ValueError):
    """The settings or the state lack something the plan needs."""


def image_of(service, container, which="task_definition_details"):
    """The image of `container` in a service's running (or latest) task definition, or ''."""
    details = (service or {}).get(which) or {}
    return (details.get("images") or {}).get(container) or ""


def steps_problem(steps):
    """Why `steps` cannot be rollout steps, or ''."""
    if not steps or steps[-1] != 100 or min(steps) <= 0 or steps != sorted(set(steps)):
        return "rollout_steps must rise strictly from above 0 to 100, got %s" % (list(steps),)
    return ""


def _check_problem(hook, index, check):
    """Why one check of a hook is not a check, or ''."""
    where = "rollout_hooks.%s[%d]" % (hook, index)
    if not isinstance(check, dict):
        return "%s must be a mapping with one of %s, got %r" % (where, ", ".join(CHECK_KINDS), check)
    kinds = [kind for kind in CHECK_KINDS if kind in check]
    if len(kinds) != 1:
        return "%s must have exactly one of %s (a check of one kind), got %s" % (where, ", ".join(CHECK_KINDS), sorted(check))
    unknown = sorted(set(check) - set(CHECK_KINDS) - {"name"})
    if unknown:
        return "%s has unknown keys %s (allowed: name and one of %s)" % (where, unknown, ", ".join(CHECK_KINDS))
    kind, body = kinds[0], check[kinds[0]]
    if kind == "include_tasks":
        return "" if isinstance(body, str) and body else "%s.include_tasks must be the path of a task file" % where
    if not isinstance(body, dict):
        return "%s.%s must be a mapping" % (where, kind)
    if kind == "lambda":
        if not body.get("function"):
            return "%s.lambda.function is required (the function's name or ARN)" % where
        if not isinstance(body.get("payload", {}), dict):
            return "%s.lambda.payload must be a mapping" % where
        unknown = sorted(set(body) - {"function", "payload"})
        return "%s.lambda has unknown keys %s (allowed: function, payload)" % (where, unknown) if unknown else ""
    unknown = sorted(set(body) - set(HTTP_DEFAULTS) - {"url"})
    if unknown:
        return "%s.http has unknown keys %s (allowed: url, %s)" % (where, unknown, ", ".join(sorted(HTTP_DEFAULTS)))
    url = body.get("url")
    if not isinstance(url, str) or not url or re.match(r"^[a-z]+://", url):
        return "%s.http.url must be a path relative to the listener (e.g. /health), got %r" % (where, url)
    if body.get("listener", "test") not in ("test", "production"):
        return "%s.http.listener must be test or production, got %r" % (where, body.get("listener"))
    for key in ("status", "retries", "delay", "timeout"):
        value = body.get(key, HTTP_DEFAULTS[key])
        if isinstance(value, bool) or not isinstance(value, int) or value < (100 if key == "status" else 0) or (key == "retries" and value < 1):
            return "%s.http.%s must be a whole number%s, got %r" % (where, key, " (an HTTP status)" if key == "status" else " (retries at least 1)", value)
    try:
        re.compile(body.get("body_regex") or "")
    except re.error as e:
        return "%s.http.body_regex is not a regular expression: %s" % (where, e)
    return ""


def hooks_problem(hooks):
    """Why `hooks` (rollout_hooks) cannot be the rollout's lifecycle hooks, or ''."""
    if not hooks:
        return ""
    if not isinstance(hooks, dict):
        return "rollout_hooks must be a mapping of hook name to a list of checks, got %r" % (hooks,)
    unknown = sorted(set(hooks) - set(HOOKS))
    if unknown:
        return "rollout_hooks has unknown hooks %s (allowed, in order: %s)" % (unknown, ", ".join(HOOKS))
    for hook in HOOKS:
        checks = hooks.get(hook) or []
        if not isinstance(checks, list):
            return "rollout_hooks.%s must be a list of checks" % hook
        for index, check in enumerate(checks):
            problem = _check_problem(hook, index, check)
            if problem:
                return problem
    return ""


def pause_problem(after_step, steps, action="abort"):
    """Why rollout_pause_after_step (with rollout_steps) cannot be a pause, or ''."""
    if after_step and not 0 < int(after_step) < len(steps):
        return "rollout_pause_after_step must be 0 (no pause) or a step before the last (1..%d of %s), got %s" % (len(steps) - 1, list(steps), after_step)
    if action not in PAUSE_ACTIONS:
        return "rollout_pause_timeout_action must be one of %s, got %r" % (", ".join(PAUSE_ACTIONS), action)
    return ""


def canary_problem(canary):
    """Why rollout_header_canary cannot be a header rule, or ''."""
    if not canary:
        return ""
    if not isinstance(canary, dict) or set(canary) - {"name", "value"} or not canary.get("name") or not str(canary.get("value", "")):
        return "rollout_header_canary must be {name: <header>, value: <value>}, got %r" % (canary,)
    if not re.match(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,40}$", canary["name"]):
        return "rollout_header_canary.name must be an HTTP header name of at most 40 characters, got %r" % canary["name"]
    if len(str(canary["value"])) > 128:
        return "rollout_header_canary.value must be at most 128 characters (an ALB condition value)"
    return ""


def base_urls(state, cfg):
    """{test, production}: the given base URLs, else the load balancer's listeners."""
    given = cfg.get("base_urls") or {}
    dns = state.get("alb_dns_name", "")
    scheme = "https" if state.get("listener_protocol") == "HTTPS" else "http"
    production = "%s://%s:%s/" % (scheme, dns, state.get("listener_port")) if state.get("listener_port") else ""
    return {
        "test": given.get("test") or (state.get("test_listener") or {}).get("url", ""),
        "production": given.get("production") or production,
    }


def resolve_check(hook, index, check, urls):
    """One check as the tasks run it: hook, name, kind, about, and per kind url/method/status/
    body_regex/retries/delay/timeout, function/payload, or tasks."""
    kind = [k for k in CHECK_KINDS if k in check][0]
    body = check[kind]
    resolved = {"hook": hook, "index": index + 1, "kind": kind, "name": check.get("name") or "%s check %d" % (kind, index + 1)}
    if kind == "http":
        http = dict(HTTP_DEFAULTS, **body)
        base = urls[http["listener"]]
        http["url"] = base.rstrip("/") + "/" + body["url"].lstrip("/") if base else ""
        resolved.update(http)
        resolved["about"] = "http %s %s expects %s%s (%d tries, %d s apart)" % (
            http["method"], http["url"] or "(no %s listener)" % http["listener"], http["status"],
            " and a body matching %r" % http["body_regex"] if http["body_regex"] else "", http["retries"], http["delay"])
        resolved["seconds"] = http["retries"] * (http["timeout"] + http["delay"])
    elif kind == "lambda":
        resolved.update(function=body["function"], payload=body.get("payload") or {})
        resolved["about"] = "lambda %s %s answers ok" % (body["function"], json.dumps(resolved["payload"], sort_keys=True))
        resolved["seconds"] = LAMBDA_ESTIMATE
    else:
        resolved.update(tasks=body, about="tasks %s" % body, seconds=TASKS_ESTIMATE)
    return resolved


def hooks_of_run(plan, cfg, urls):
    """{hook: [resolved checks]} this run runs: none when done; the hooks before traffic only
    when this run deploys (not when it resumes a rollout that already moved weights);
    after_allow_traffic only when this run reaches the last step."""
    hooks = cfg.get("hooks") or {}
    fresh = not plan["done"] and not plan["resume"]
    reaches_end = not plan["done"] and plan["stop"] == ""
    run = {
        "before_install": fresh,
        "after_install": fresh,
        "before_allow_traffic": fresh,
        "after_allow_traffic": reaches_end,
    }
    return dict((hook, [resolve_check(hook, i, c, urls) for i, c in enumerate(hooks.get(hook) or [])] if run[hook] else []) for hook in HOOKS)


def pause_of_run(plan, cfg, state, now):
    """Where this run stops and why (see plan_pause's keys), from rollout_pause_after_step, the
    weights AWS has and the listener's bluegreen:paused-at tag."""
    after = int(cfg.get("pause_after_step") or 0)
    steps, start = plan["steps"], plan["start_weight"]
    remaining = plan["remaining_steps"]
    paused_at = int(state.get("paused_at") or 0)
    timeout = int(cfg.get("pause_timeout") or 0)
    pause = {"after_step": after, "weight": 0, "since": 0, "timeout": timeout, "action": cfg.get("pause_timeout_action") or "abort",
             "timed_out": False, "mark": str(int(now)), "clear_mark": False}
    stop, run_steps = "", list(remaining)
    if after and not plan["done"] and 0 < after < len(steps):
        weight = steps[after - 1]
        pause["weight"] = weight
        if start < weight:
            # Not there yet: this run goes as far as the pause.
            stop, run_steps = "pause", [step for step in remaining if step <= weight]
        elif start == weight and plan["resume"]:
            pause["since"] = int(now) - paused_at if paused_at else 0
            pause["timed_out"] = bool(paused_at and timeout and pause["since"] > timeout)
            if cfg.get("resume") or (pause["timed_out"] and pause["action"] == "continue"):
                # With the mark, the paused step baked and passed its gates before the pause;
                # without it (stopped during the step) they run again first.
                stop, run_steps = "", [step for step in remaining if step > weight] if paused_at else list(remaining)
            elif pause["timed_out"]:
                stop, run_steps = "abort", []
            elif paused_at:
                stop, run_steps = "waiting", []
            else:
                # Killed between the shift and the mark: the step's bake and gates run again, then it pauses.
                stop, run_steps = "pause", [weight]
    # A mark left by this rollout (or a stale one) goes before anything moves.
    pause["clear_mark"] = bool(paused_at) and stop not in ("waiting",) and not plan["done"]
    # The listener's tags without the mark (the module that clears it purges the others).
    pause["tags_without_mark"] = dict((k, v) for k, v in (state.get("listener_tags") or {}).items() if k != PAUSED_TAG)
    # The forwards (elb_listener_weights' shape) the mark is cleared with (the weights AWS has)
    # and written with (the pause's split).
    groups = state.get("target_groups") or {}
    pause["current_weights"] = [{"target_group_arn": groups.get(c, ""), "weight": int(state["weights"][c])} for c in (plan["new"], plan["old"])]
    pause["mark_weights"] = [{"target_group_arn": groups.get(plan["new"], ""), "weight": pause["weight"]},
                             {"target_group_arn": groups.get(plan["old"], ""), "weight": 100 - pause["weight"]}]
    pause["mark_tags"] = {PAUSED_TAG: pause["mark"]}
    return stop, run_steps, pause


def plan_problem(plan, cfg, latest):
    if not plan["image"]:
        return "no image (pass -e rollout_image=<image>)"
    problem = steps_problem(cfg["steps"])
    if problem:
        return problem
    if cfg["container"] not in (latest.get("images") or {}):
        return "the latest task definition of %s has no container %s (set rollout_container)" % (plan["new"], cfg["container"])
    if latest.get("unsupported"):
        return "the task definition of %s has fields this rollout cannot carry over: %s" % (plan["new"], ", ".join(latest["unsupported"]))
    problem = hooks_problem(cfg.get("hooks")) or pause_problem(cfg.get("pause_after_step") or 0, cfg["steps"], cfg.get("pause_timeout_action") or "abort")
    problem = problem or canary_problem(cfg.get("header_canary"))
    if problem:
        return problem
    for checks in plan.get("hooks", {}).values():
        for check in checks:
            if check["kind"] == "http" and not check["url"]:
                return "hook %s, check %s: the load balancer has no %s listener (re-run site.yml) and no base URL is given" % (
                    check["hook"], check["name"], check["listener"])
    return ""


def rollout_plan(state, cfg, image=""):
    """The plan: image, old, new, old_image, done, resume, reset_first, start_weight, steps,
    remaining_steps, run_steps, bakes and step_labels (by weight), alarms (the new color's),
    estimate {seconds, at_most}, problem ('' when the rollout can go ahead), lines (the plan as
    the terminal shows it) and promote_tags."""
    missing = [key for key in SETTINGS if key not in cfg]
    if missing:
        raise RolloutPlanError("the rollout settings lack %s" % ", ".join(missing))
    steps = [int(step) for step in cfg["steps"]]
    cfg = dict(cfg, steps=steps)
    old = state["live_color"]
    new = other_color(old)
    services = state["services"]
    weights = dict((color, int(weight)) for color, weight in state["weights"].items())
    container = cfg["container"]
    image = image or image_of(services.get(new), container, "latest_task_definition_details")
    old_image = image_of(services.get(old), container)
    done = old_image == image and weights[old] > 0 and weights[new] == 0
    resume = not done and weights[new] > 0 and image_of(services.get(new), container) == image
    start = percent_of(weights, new) if resume else 0
    now = cfg.get("now") or time.time()
    plan = {
        "image": image,
        "old": old,
        "new": new,
        "old_image": old_image,
        "done": done,
        "resume": resume,
        "reset_first": not done and weights[new] > 0 and not resume,
        "start_weight": start,
        "steps": steps,
        # A run stopped during a step (its weights set, its bake or gates not over: 100 % not
        # promoted yet, or any step before) runs that step's bake and gates again: no more
        # traffic moves, and no promotion follows, after an unfinished bake. So does a split
        # that is not one of the steps (the steps changed since, or weights set by hand).
        "remaining_steps": [] if done else sorted(set([step for step in steps if step > start] + ([start] if resume else steps[-1:]))),
        "alarms": [alarm["name"] for alarm in ((state.get("alarms") or {}).get(new) or {}).get("alarms", [])],
        "hooks": dict((hook, []) for hook in HOOKS),
        "test_listener": state.get("test_listener") or {},
        "header_canary": {},
        # The listener tags the promotion writes besides the live color: where a rollback returns
        # (the retired color and the revision it runs). None when the rollout is done already (the
        # image is live): a promotion then moves nothing, and the idle color may run a release
        # that failed or was rolled back.
        "promote_tags": {} if done else {ROLLBACK_TAG: rollback_tag(old, (services.get(old) or {}).get("task_definition"))},
    }
    latest = (services.get(new) or {}).get("latest_task_definition_details") or {}
    problem = hooks_problem(cfg.get("hooks")) or pause_problem(cfg.get("pause_after_step") or 0, steps, cfg.get("pause_timeout_action") or "abort")
    plan["stop"], plan["run_steps"], plan["pause"] = ("", plan["remaining_steps"], {}) if problem else pause_of_run(plan, cfg, state, now)
    plan["urls"] = base_urls(state, cfg)
    if not problem:
        plan["hooks"] = hooks_of_run(plan, cfg, plan["urls"])
    canary = cfg.get("header_canary") or {}
    if canary and not canary_problem(canary):
        plan["header_canary"] = {"name": canary["name"], "value": str(canary["value"]), "target_group_arn": (state.get("target_groups") or {}).get(new, "")}
    plan["problem"] = plan_problem(plan, cfg, latest)
    # Without alarms on the new color there is no window to wait for.
    window = int(cfg.get("alarm_window") or 0) if plan["alarms"] else 0
    plan["bakes"] = step_bakes(plan["run_steps"], int(cfg["bake"]), window) if plan["stop"] not in ("waiting", "abort") else {}
    plan["estimate"] = estimate(plan, cfg)
    plan["step_labels"] = dict((str(weight), "%s (%d %%)" % (step_name(steps, weight), weight)) for weight in plan["run_steps"])
    plan["lines"] = describe(plan, cfg, state)
    return plan


def step_name(steps, weight):
    """'step 2/3', or for a split that is not one of the steps (a resumed rollout whose steps
    changed, weights set by hand) 'the current split, not a step'."""
    if weight in steps:
        return "step %d/%d" % (steps.index(weight) + 1, len(steps))
    return "the current split, not a step"


def step_bakes(run_steps, bake, window):
    """{str(weight): seconds} each step of this run bakes before its gates: `bake`, and at least
    the new color's alarm `window` (period x evaluation periods; 0 when not asked) plus
    CloudWatch's metric delay: an alarm needs that long to fire on errors that begin at the
    step, so a shorter bake would let a failing release through every step's alarm gate, and
    after the promotion the old color is only kept for the drain."""
    each = max(bake, window + METRIC_DELAY) if window else bake
    return dict((str(weight), each) for weight in run_steps)


def estimate(plan, cfg):
    """Seconds the rollout should take (bake, drain, the typical waits) and at most (the wait
    timeouts instead of the typical waits)."""
    if plan.get("stop") in ("waiting", "abort"):
        return {"seconds": 0, "at_most": 0, "bake": 0, "drain": 0, "waits": 0}
    bake = sum(plan["bakes"].values())
    # A run that stops at the pause does not promote (no drain).
    drain = int(cfg["drain"]) if plan.get("stop", "") == "" else 0
    waits = 0 if plan["done"] else int(cfg.get("steady_estimate", 60)) + int(cfg.get("health_estimate", 60))
    bound = 0 if plan["done"] else int(cfg["steady_timeout"]) + int(cfg["health_timeout"])
    result = {"seconds": bake + drain + waits, "at_most": bake + drain + bound, "bake": bake, "drain": drain, "waits": waits}
    checks = [check for hook in HOOKS for check in (plan.get("hooks") or {}).get(hook, [])]
    if checks:
        # A passing HTTP check answers at once; a failing one takes every try.
        result["hooks"] = sum(LAMBDA_ESTIMATE if c["kind"] == "lambda" else TASKS_ESTIMATE if c["kind"] == "include_tasks" else 1 for c in checks)
        result["seconds"] += result["hooks"]
        result["at_most"] += sum(c["seconds"] for c in checks)
    return result


def _hook_lines(plan, hook):
    checks = (plan.get("hooks") or {}).get(hook) or []
    if not checks:
        return []
    return ["hook %s (%s): %s" % (hook, HOOK_MOMENTS[hook], "; ".join("%s: %s" % (c["name"], c["about"]) for c in checks))]


def _pause_line(plan):
    pause = plan.get("pause") or {}
    if not pause.get("weight"):
        return ""
    steps = plan["steps"]
    timeout = ""
    if pause["timeout"]:
        timeout = "; after %d s paused the next run %ss" % (pause["timeout"], "abort" if pause["action"] == "abort" else "continue")
    return "pause after step %d/%d (%d %%): the run stops with %s %d / %s %d; continue with -e rollout_resume=true (or the AWX approval)%s" % (
        pause["after_step"], len(steps), pause["weight"], plan["new"], pause["weight"], plan["old"], 100 - pause["weight"], timeout)


def describe(plan, cfg, state):
    """The plan, one line per action, hook, gate and pause."""
    new, old, steps = plan["new"], plan["old"], plan["steps"]
    names = state.get("names") or {}
    weights = state["weights"]
    target_group = names.get("target_group_%s" % new, new)
    stop = plan.get("stop", "")
    pause = plan.get("pause") or {}
    lines = [
        "rollout of %s in %s: live %s (%s), weights blue %s / green %s"
        % (plan["image"], state.get("environment", ""), old, plan["old_image"], weights["blue"], weights["green"])
    ]
    test = plan.get("test_listener") or {}
    if test:
        lines.append("test listener: %s (port %s) forwards to %s, the idle color" % (test.get("url"), test.get("port"), test.get("color")))
    if plan["done"]:
        lines.append(
            "nothing to roll out: %s already serves %s with all the traffic; %s is scaled to 0 after the drain if it still has tasks"
            % (old, plan["image"], new)
        )
    elif stop == "waiting":
        lines.append(
            "paused after step %d/%d (%d %%) for %d s: %s %d / %s %d; nothing is changed. Continue with -e rollout_resume=true (or the AWX approval)%s"
            % (pause["after_step"], len(steps), pause["weight"], pause["since"], new, pause["weight"], old, 100 - pause["weight"],
               "; the pause times out after %d s, then the next run %ss" % (pause["timeout"], pause["action"]) if pause["timeout"] else "")
        )
    elif stop == "abort":
        lines.append(
            "the pause after step %d/%d (%d %%) timed out (%d s paused, timeout %d s): abort, %s back to weight 100, %s scaled to 0, the run fails"
            % (pause["after_step"], len(steps), pause["weight"], pause["since"], pause["timeout"], old, new)
        )
    else:
        if plan["reset_first"]:
            lines.append("reset: %s has weight %s with another image; its traffic goes back to %s first" % (new, weights[new], old))
        if plan["resume"]:
            again = " (the bake and gates of that step again first: the stopped run may not have finished them)"
            share = "" if int(weights[new]) + int(weights[old]) == 100 else " (%s %s / %s %s: %d %% of the traffic)" % (
                new, weights[new], old, weights[old], plan["start_weight"])
            lines.append("resume: %s already runs %s at weight %s%s; continuing from there%s" % (
                new, plan["image"], plan["start_weight"], share, again if plan["run_steps"][:1] == [plan["start_weight"]] else ""))
            if pause.get("weight") and plan["start_weight"] == pause["weight"] and state.get("paused_at"):
                lines.append("resume after the pause at step %d/%d (%d %%)%s" % (
                    pause["after_step"], len(steps), pause["weight"], " (it timed out: continue as configured)" if pause["timed_out"] else ""))
            if any(cfg.get("hooks", {}).get(hook) for hook in HOOKS[:3]):
                lines.append("hooks before_install, after_install, before_allow_traffic: passed in the run that moved the weights, not run again")
        lines.extend(_hook_lines(plan, "before_install"))
        lines.append(
            "deploy: %s with %s, %s scaled to %s tasks, steady state (at most %s s)"
            % (names.get("task_family_%s" % new, new), plan["image"], new, cfg["desired_count"], cfg["steady_timeout"])
        )
        lines.append("gate healthy-targets before step 1: %s healthy in %s (at most %s s)" % (cfg["min_healthy"], target_group, cfg["health_timeout"]))
        if test:
            lines.append("test listener port %s forwards to %s before any production weight moves" % (test.get("port"), new))
        canary = plan.get("header_canary") or {}
        if canary:
            lines.append(
                "header canary: a rule of the production listener (before its weighted default action) sends requests with %s: %s to %s "
                "once it is healthy; removed at the promotion or an abort" % (canary["name"], canary["value"], new)
            )
        lines.extend(_hook_lines(plan, "after_install"))
        if cfg["expand"]:
            lines.append("gate schema-expand before step 1: migrator apply expand")
        lines.extend(_hook_lines(plan, "before_allow_traffic"))
        window = int(cfg.get("alarm_window") or 0)
        for weight in plan.get("run_steps", plan["remaining_steps"]):
            bake = plan["bakes"][str(weight)]
            why = " (the alarms' window %d s + %d s metric delay)" % (window, METRIC_DELAY) if bake > int(cfg["bake"]) else ""
            lines.append(
                "%s: %s %d / %s %d, bake %s s%s, gates healthy-targets, alarms, schema"
                % (step_name(steps, weight), new, weight, old, 100 - weight, bake, why)
            )
        lines.append("gate healthy-targets: at least %s healthy and none unhealthy in %s" % (cfg["min_healthy"], target_group))
        lines.append("gate alarms: %s not in ALARM" % ", ".join(plan["alarms"]))
        lines.append("gate schema: migrator validate %s answers ok" % json.dumps(cfg["schema_expect"], sort_keys=True))
        if stop == "pause":
            lines.append(_pause_line(plan))
        else:
            lines.extend(_hook_lines(plan, "after_allow_traffic"))
            lines.append("promote: live-color tag %s, drain %s s, %s scaled to 0" % (new, cfg["drain"], old))
        lines.append("on a failed gate or hook: %s back to weight 100, %s scaled to 0, the run fails naming the gate or hook and the step" % (old, new))
    times = plan["estimate"]
    hooks = " + hooks ~%d s" % times["hooks"] if times.get("hooks") else ""
    until = " (then paused until approved)" if stop == "pause" else ""
    bakes = list(plan["bakes"].values())
    if len(set(bakes)) > 1:
        bake = "%s s" % " + ".join(str(b) for b in bakes)
    else:
        bake = "%d x %s s" % (len(bakes), bakes[0] if bakes else cfg["bake"])
    lines.append(
        "estimated duration: ~%d s (bake %s + drain %d s + waits ~%d s%s)%s, at most %d s with the wait timeouts"
        % (times["seconds"], bake, times["drain"], times["waits"], hooks, until, times["at_most"])
    )
    return lines


def alarm_gate(alarms, wanted, at=""):
    """The alarm gate's verdict `at` a step: every alarm of `wanted` (the new color's, by name)
    exists and none is in ALARM. `alarms` is amazon.aws.cloudwatch_metric_alarm_info's answer
    (its `metric_alarms`). Returns {passed, firing (names), missing (names), message}."""
    found = (alarms or {}).get("metric_alarms") or []
    firing = [a for a in found if a.get("state_value") == "ALARM"]
    names = {a.get("alarm_name") for a in found}
    missing = [name for name in wanted if name not in names]
    if firing:
        message = "gate alarms failed %s: %s in ALARM (%s)" % (
            at, ", ".join(a["alarm_name"] for a in firing), "; ".join(a.get("state_reason") or "" for a in firing))
    elif missing:
        message = "gate alarms failed %s: alarms %s do not exist (re-run site.yml)" % (at, ", ".join(missing))
    else:
        message = "gate alarms passed %s: %s not in ALARM" % (at, ", ".join(wanted))
    return {"passed": not firing and not missing, "firing": [a["alarm_name"] for a in firing], "missing": missing, "message": message}


def contract_gate(state, load_balancer):
    """Whether the schema may be contracted now, from blue_green_state's `state`: the environment's
    own load balancer is there, at most one color takes traffic, the color without traffic runs
    no task (a drain not over: the old version may still write with the columns contract removes),
    and the last rollout completed (after an abort or a rollback the live color serves the release
    from before it, which still uses them). Returns {passed, message}."""
    forwarded = state.get("forwarded") or {}
    weights = json.dumps(forwarded)
    busy = state.get("busy_without_traffic") or []
    if not state.get("deployed"):
        message = "contract refused: %s; the drain of the idle color cannot be confirmed" % state.get("problem")
    elif len(state.get("colors_with_traffic") or []) > 1:
        message = "contract refused: both colors still take traffic on %s (weights %s); finish or roll back the switch before contracting the schema" % (
            load_balancer, weights)
    elif busy:
        message = (
            "contract refused: %s gets no traffic but still runs %s task(s) (desired %s); the old version may still use the columns contract removes. "
            "Let the rollout's drain finish (it scales the old color to 0), then contract."
            % tuple(", ".join(str(s[key]) for s in busy) for key in ("service_name", "running_count", "desired_count"))
        )
    elif (state.get("listener_tags") or {}).get(ROLLBACK_TAG) == NOTHING_TO_ROLL_BACK:
        message = (
            "contract refused: the last rollout did not complete (it was aborted or rolled back), so %s serves the release from before it, "
            "which may still use what contract removes. Contract after a rollout that completes." % state.get("live_color", "the live color")
        )
    else:
        taking = ", ".join(name for name, weight in forwarded.items() if weight > 0) or "neither color"
        return {"passed": True, "message": "%s sends traffic to %s only (weights %s); no task runs without traffic" % (load_balancer, taking, weights)}
    return {"passed": False, "message": message}
