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
               version): the traffic goes back to the old color before deploying."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible_collections.bluegreen.migration.plugins.module_utils.bluegreen_state import other_color

SETTINGS = ("steps", "bake", "drain", "desired_count", "min_healthy", "steady_timeout", "health_timeout", "container", "expand", "schema_expect")


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
    return ""


def rollout_plan(state, cfg, image=""):
    """The plan: image, old, new, old_image, done, resume, reset_first, start_weight, steps,
    remaining_steps, alarms (the new color's), estimate {seconds, at_most}, problem ('' when
    the rollout can go ahead) and lines (the plan as the terminal shows it)."""
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
    start = weights[new] if resume else 0
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
        "remaining_steps": [] if done else [step for step in steps if step > start],
        "alarms": [alarm["name"] for alarm in ((state.get("alarms") or {}).get(new) or {}).get("alarms", [])],
    }
    latest = (services.get(new) or {}).get("latest_task_definition_details") or {}
    plan["problem"] = plan_problem(plan, cfg, latest)
    plan["estimate"] = estimate(plan, cfg)
    plan["lines"] = describe(plan, cfg, state)
    return plan


def estimate(plan, cfg):
    """Seconds the rollout should take (bake, drain, the typical waits) and at most (the wait
    timeouts instead of the typical waits)."""
    bake = int(cfg["bake"]) * len(plan["remaining_steps"])
    drain = int(cfg["drain"])
    waits = 0 if plan["done"] else int(cfg.get("steady_estimate", 60)) + int(cfg.get("health_estimate", 60))
    bound = 0 if plan["done"] else int(cfg["steady_timeout"]) + int(cfg["health_timeout"])
    return {"seconds": bake + drain + waits, "at_most": bake + drain + bound, "bake": bake, "drain": drain, "waits": waits}


def describe(plan, cfg, state):
    """The plan, one line per action and gate."""
    new, old, steps = plan["new"], plan["old"], plan["steps"]
    names = state.get("names") or {}
    weights = state["weights"]
    target_group = names.get("target_group_%s" % new, new)
    lines = [
        "rollout of %s in %s: live %s (%s), weights blue %s / green %s"
        % (plan["image"], state.get("environment", ""), old, plan["old_image"], weights["blue"], weights["green"])
    ]
    if plan["done"]:
        lines.append(
            "nothing to roll out: %s already serves %s with all the traffic; %s is scaled to 0 after the drain if it still has tasks"
            % (old, plan["image"], new)
        )
    else:
        if plan["reset_first"]:
            lines.append("reset: %s has weight %s with another image; its traffic goes back to %s first" % (new, weights[new], old))
        if plan["resume"]:
            lines.append("resume: %s already runs %s at weight %s; continuing from there" % (new, plan["image"], plan["start_weight"]))
        lines.append(
            "deploy: %s with %s, %s scaled to %s tasks, steady state (at most %s s)"
            % (names.get("task_family_%s" % new, new), plan["image"], new, cfg["desired_count"], cfg["steady_timeout"])
        )
        lines.append("gate healthy-targets before step 1: %s healthy in %s (at most %s s)" % (cfg["min_healthy"], target_group, cfg["health_timeout"]))
        if cfg["expand"]:
            lines.append("gate schema-expand before step 1: migrator apply expand")
        for weight in plan["remaining_steps"]:
            lines.append(
                "step %d/%d: %s %d / %s %d, bake %s s, gates healthy-targets, alarms, schema"
                % (steps.index(weight) + 1, len(steps), new, weight, old, 100 - weight, cfg["bake"])
            )
        lines.append("gate healthy-targets: at least %s healthy and none unhealthy in %s" % (cfg["min_healthy"], target_group))
        lines.append("gate alarms: %s not in ALARM" % ", ".join(plan["alarms"]))
        lines.append("gate schema: migrator validate %s answers ok" % json.dumps(cfg["schema_expect"], sort_keys=True))
        lines.append("promote: live-color tag %s, drain %s s, %s scaled to 0" % (new, cfg["drain"], old))
        lines.append("on a failed gate: %s back to weight 100, %s scaled to 0, the run fails naming the gate and the step" % (old, new))
    times = plan["estimate"]
    lines.append(
        "estimated duration: ~%d s (bake %d x %s s + drain %d s + waits ~%d s), at most %d s with the wait timeouts"
        % (times["seconds"], len(plan["remaining_steps"]), cfg["bake"], times["drain"], times["waits"], times["at_most"])
    )
    return lines
