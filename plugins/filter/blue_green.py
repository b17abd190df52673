# -*- coding: utf-8 -*-
# Copyright: bluegreen.migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.bluegreen.migration.plugins.module_utils.rollout import RolloutPlanError
from ansible_collections.bluegreen.migration.plugins.module_utils.rollout import rollout_plan as plan_rollout


def rollout_plan(state, settings, image=""):
    """The rollout's plan from the blue-green state and the resolved rollout settings."""
    try:
        return plan_rollout(state, settings, image or "")
    except (RolloutPlanError, KeyError, TypeError, ValueError) as e:
        raise AnsibleFilterError("rollout_plan: %s" % e) from e


class FilterModule(object):
    """Blue-green operation filters of bluegreen.migration."""

    def filters(self):
        return {"rollout_plan": rollout_plan}
