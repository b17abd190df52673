# -*- coding: utf-8 -*-
# Copyright: bluegreen.migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Rollout inputs: traffic steps, bake time and drain time."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.bluegreen.migration.plugins.module_utils.preflight.facts import DRAIN_MAX_SECONDS
from ansible_collections.bluegreen.migration.plugins.module_utils.preflight.findings import as_int, int_in_range


def check_rollout(f):
    steps = f.variables.get("rollout_steps")
    # Anything but a list (a comma string included) is the spec rule's.
    if isinstance(steps, list):
        check_steps(f, steps)
    int_in_range(f, "rollout_bake_seconds", 0, 86400, "seconds to watch each step")
    int_in_range(f, "rollout_drain_seconds", 0, DRAIN_MAX_SECONDS, "the ALB's deregistration delay limit")


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
