# -*- coding: utf-8 -*-
# Copyright: bluegreen.migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Rollout inputs: traffic steps, bake time and drain time, lifecycle hooks, pause and header canary."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.bluegreen.migration.plugins.module_utils.preflight.facts import DRAIN_MAX_SECONDS
from ansible_collections.bluegreen.migration.plugins.module_utils.preflight.findings import as_int, int_in_range
from ansible_collections.bluegreen.migration.plugins.module_utils.rollout import PAUSE_ACTIONS, canary_problem, hooks_problem, pause_problem


def check_rollout(f):
    steps = f.variables.get("rollout_steps")
    # Anything but a list (a comma string included) is the spec rule's.
    if isinstance(steps, list):
        check_steps(f, steps)
    int_in_range(f, "rollout_bake_seconds", 0, 86400, "seconds to watch each step")
    int_in_range(f, "rollout_drain_seconds", 0, DRAIN_MAX_SECONDS, "the ALB's deregistration delay limit")
    check_hooks_pause_canary(f, steps)


def check_hooks_pause_canary(f, steps):
    """The same rules the rollout's plan applies, before any AWS call."""
    problem = hooks_problem(f.variables.get("rollout_hooks"))
    if problem:
        f.error("rollout_hooks", "rollout_hooks", problem, "see docs/rollout.md (lifecycle hooks) for the shape of a check")
    after = as_int(f.variables.get("rollout_pause_after_step") or 0)
    values = [as_int(s) for s in steps] if isinstance(steps, list) else []
    if after is None or (values and None not in values and pause_problem(after, values, "abort")):
        f.error(
            "rollout_pause_after_step",
            "pause",
            pause_problem(after, values, "abort") if after is not None else "rollout_pause_after_step must be a whole number",
            "set it to 0 (no pause) or to a step before the last",
        )
    int_in_range(f, "rollout_pause_timeout", 0, 7 * 86400, "seconds a pause may last, 0 for no limit")
    action = f.variables.get("rollout_pause_timeout_action")
    if action not in PAUSE_ACTIONS:
        f.error("rollout_pause_timeout_action", "pause", pause_problem(0, [], action), "set it to abort or continue")
    problem = canary_problem(f.variables.get("rollout_header_canary"))
    if problem:
        f.error("rollout_header_canary", "header_canary", problem, "use e.g. {name: X-Canary, value: '1'}, or {} for none")


def check_steps(f, steps):
    fix = "use increasing percentages ending at 100, e.g. [10, 50, 100]"
    if not steps:
        f.error("rollout_steps", "rollout_steps", "rollout_steps must be a non-empty list of percentages", fix)
        return
    values = [as_int(s) for s in steps]
    if any(v is None or v < 1 or v > 100 for v in values):
        f.error("rollout_steps", "rollout_steps", "every step must be a whole percentage from 1 to 100", fix)
    elif any(values[i + 1] <= values[i] for i in range(len(values) - 1)):
        f.error("rollout_steps", "rollout_steps", "steps must be strictly increasing", fix)
    elif values[-1] != 100:
        f.error("rollout_steps", "rollout_steps", "the last step must be 100, or the new color never takes all traffic", fix)
