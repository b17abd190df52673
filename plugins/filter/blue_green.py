# -*- coding: utf-8 -*-
# Copyright: bluegreen.migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.bluegreen.migration.plugins.module_utils.app_tier import TierSpecError
from ansible_collections.bluegreen.migration.plugins.module_utils.app_tier import containers_with_image
from ansible_collections.bluegreen.migration.plugins.module_utils.bluegreen_state import migrator_verdict as verdict_of_migrator
from ansible_collections.bluegreen.migration.plugins.module_utils.bluegreen_state import status_lines
from ansible_collections.bluegreen.migration.plugins.module_utils.rollout import RolloutPlanError
from ansible_collections.bluegreen.migration.plugins.module_utils.rollout import alarm_gate as gate_alarms
from ansible_collections.bluegreen.migration.plugins.module_utils.rollout import contract_gate as gate_contract
from ansible_collections.bluegreen.migration.plugins.module_utils.rollout import rollout_plan as plan_rollout


def rollout_plan(state, settings, image=""):
    """The rollout's plan from the blue-green state and the resolved rollout settings."""
    try:
        return plan_rollout(state, settings, image or "")
    except (RolloutPlanError, KeyError, TypeError, ValueError) as e:
        raise AnsibleFilterError("rollout_plan: %s" % e) from e


def alarm_gate(alarms, wanted, at=""):
    """The alarm gate's verdict from cloudwatch_metric_alarm_info's answer."""
    if not isinstance(alarms, dict) or not isinstance(wanted, list):
        raise AnsibleFilterError("alarm_gate: expects cloudwatch_metric_alarm_info's answer and a list of alarm names")
    return gate_alarms(alarms, wanted, at)


def with_image(containers, container, image):
    """The containers with `container` on `image`."""
    try:
        return containers_with_image(containers, container, image)
    except (TierSpecError, AttributeError, TypeError, KeyError) as e:
        raise AnsibleFilterError("with_image: %s" % e) from e


def blue_green_status(state, context, invocation=None, lock_info=None):
    """Where an environment stands, one line per item."""
    try:
        return status_lines(state, context, invocation, lock_info)
    except (KeyError, TypeError, AttributeError) as e:
        raise AnsibleFilterError("blue_green_status: the state or the context lacks or mistypes %s" % e) from e


def contract_gate(state, load_balancer):
    """Whether the schema may be contracted now."""
    if not isinstance(state, dict):
        raise AnsibleFilterError("contract_gate: expects the state of blue_green_state, got %s" % type(state).__name__)
    return gate_contract(state, load_balancer)


def migrator_verdict(invocation, function_name):
    """What the migrator answered, from lambda_invoke's registered result."""
    if not isinstance(invocation, dict):
        raise AnsibleFilterError("migrator_verdict: expects the registered result of lambda_invoke, got %s" % type(invocation).__name__)
    return verdict_of_migrator(invocation, function_name)


class FilterModule(object):
    """Blue-green operation filters of bluegreen.migration."""

    def filters(self):
        return {
            "alarm_gate": alarm_gate,
            "blue_green_status": blue_green_status,
            "contract_gate": contract_gate,
            "migrator_verdict": migrator_verdict,
            "rollout_plan": rollout_plan,
            "with_image": with_image,
        }
