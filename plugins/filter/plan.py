# -*- coding: utf-8 -*-
# Copyright: bluegreen.migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.bluegreen.migration.plugins.module_utils import awslambda, network, packaging, plan


def plan_report(plans, suffix):
    """The plan playbook's report of one environment (module_utils.plan.report)."""
    if not isinstance(plans, dict):
        raise AnsibleFilterError("plan_report expects {role: [plan results]}, got %s" % type(plans).__name__)
    try:
        return plan.report(plans, suffix)
    except (KeyError, ValueError) as e:
        raise AnsibleFilterError("plan_report of %s: %s" % (suffix, e)) from e


def plan_drift_message(document):
    """The failure message of a plan with changes (module_utils.plan.drift_message)."""
    return plan.drift_message(document)


def known_after_create(value):
    """The value, or KNOWN_AFTER_CREATE when it is empty (an id of a resource still to create)."""
    return value if value else plan.KNOWN_AFTER_CREATE


def ran(registered):
    """Whether a writer's registered result comes from a run (module_utils.plan.task_ran)."""
    return plan.task_ran(registered)


def refused_with(registered, code):
    """Whether an AWS call failed with the error `code` (module_utils.plan.refused_with)."""
    return plan.refused_with(registered, code)


def answer_or(registered, fallback, path=None):
    """The writer's answer when it ran, else the plan's value (module_utils.plan.answer_or)."""
    try:
        return plan.answer_or(registered, fallback, path)
    except KeyError as e:
        raise AnsibleFilterError("answer_or: %s" % e.args[0]) from e


def loop_answers(registered, key, value):
    """{key: value} of each loop item that ran (module_utils.plan.loop_answers)."""
    try:
        return plan.loop_answers(registered, key, value)
    except KeyError as e:
        raise AnsibleFilterError("loop_answers: %s" % e.args[0]) from e


def given_or_found(given, registered, items_key, attribute):
    """The input's ids, else the discovered ones (module_utils.plan.given_or_found)."""
    try:
        return plan.given_or_found(given, registered, items_key, attribute)
    except (KeyError, TypeError) as e:
        raise AnsibleFilterError("given_or_found: %s" % (e.args[0] if isinstance(e, KeyError) else e)) from e


def string_values(mapping):
    """Every value as a string (module_utils.plan.string_values)."""
    if not isinstance(mapping, dict):
        raise AnsibleFilterError("string_values expects a mapping, got %s" % type(mapping).__name__)
    return plan.string_values(mapping)


def migrator_environment(extra, secret_arn, sslmode, ca_bundle):
    """The migrator function's environment: the user's variables as strings, then the role's own
    (module_utils.packaging.migrator_environment); refused as Lambda would refuse it
    (module_utils.awslambda.environment_problems)."""
    if not isinstance(extra, dict):
        raise AnsibleFilterError("migrator_environment expects a mapping, got %s" % type(extra).__name__)
    own = packaging.migrator_environment(secret_arn, sslmode, ca_bundle)
    problems = awslambda.environment_problems(extra, own)
    if problems:
        raise AnsibleFilterError("migrator_lambda_environment is refused: %s" % "; ".join(problems))
    return dict(plan.string_values(extra), **own)


def network_plan_ids(base, subnet_plan, security_groups, nat_gateways):
    """The network's ids as read, KNOWN_AFTER_CREATE for those still to create (module_utils.network.network_ids)."""
    try:
        return network.network_ids(base, subnet_plan, security_groups, nat_gateways)
    except (KeyError, TypeError) as e:
        raise AnsibleFilterError("network_plan_ids: %s" % e) from e


class FilterModule(object):
    """Plan report filters of bluegreen.migration."""

    def filters(self):
        return {"plan_report": plan_report, "plan_drift_message": plan_drift_message, "network_plan_ids": network_plan_ids,
                "known_after_create": known_after_create, "ran": ran, "refused_with": refused_with, "answer_or": answer_or, "loop_answers": loop_answers,
                "given_or_found": given_or_found, "string_values": string_values,
                "migrator_environment": migrator_environment}
