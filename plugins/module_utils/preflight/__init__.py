# -*- coding: utf-8 -*-
# Copyright: bluegreen.migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Preflight rules engine: every input of an environment checked before any AWS call.

`run_checks(variables)` takes the environment's variables (missing ones take DEFAULTS) and
returns findings, each a dict {severity, variable, value, rule, message, fix}, severity
"error" (the deploy would fail or leave something that cannot be torn down) or "warning"
(it works, but probably not as intended). Pure Python: no AWS call, no import of the code
it checks. The only outside facts it needs are passed in: the key policies of custom KMS
keys (read by the action plugin with kms:GetKeyPolicy), the account's quotas and Aurora
engine catalogue (rule 8, read by the action plugin when the run is against AWS), the
directories where the migrator source may live, and the controller environment (for the
emulator guard).

The package: `facts` (AWS's sizes, accepted values, patterns and quota codes), `findings`
(the findings collector and value helpers), `specs` (every set input against its argument
spec, first: an input that fails it is reported once, by that rule alone), one module of
rules per area (`environment`,
`network`, `ecs`, `kms`, `aurora`, `migrator`, `rollout`, `budget`, `aws_limits` with what
it reads in `aws_limits_plan`) and `report` (the text). This module runs them in order and
keeps the names the action plugin and the tests use.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.bluegreen.migration.plugins.module_utils import cost as cost_model
from ansible_collections.bluegreen.migration.plugins.module_utils.naming import resource_names
from ansible_collections.bluegreen.migration.plugins.module_utils.preflight.aurora import check_aurora
from ansible_collections.bluegreen.migration.plugins.module_utils.preflight.aws_limits import check_aws_limits
from ansible_collections.bluegreen.migration.plugins.module_utils.preflight.aws_limits_plan import against_aws, aws_limits_plan, needs_vpc, new_addresses
from ansible_collections.bluegreen.migration.plugins.module_utils.preflight.budget import check_budget
from ansible_collections.bluegreen.migration.plugins.module_utils.preflight.ecs import check_ecs, image_tag, normalize_image
from ansible_collections.bluegreen.migration.plugins.module_utils.preflight.environment import check_emulator_guard, check_environment, loopback_endpoint
from ansible_collections.bluegreen.migration.plugins.module_utils.preflight.facts import (
    ALB_SUBNET_MAX_PREFIX,
    AURORA_ENGINE,
    EIP_QUOTA,
    LOGS_KMS_ACTIONS,
    VPC_QUOTA,
)
from ansible_collections.bluegreen.migration.plugins.module_utils.preflight.findings import DEFAULTS, ERROR, OPTIONAL, WARNING, Findings, as_bool, resolve
from ansible_collections.bluegreen.migration.plugins.module_utils.preflight.kms import check_kms, kms_keys_to_check, logs_actions_missing, logs_statement
from ansible_collections.bluegreen.migration.plugins.module_utils.preflight.migrator import (
    check_ca_bundle,
    check_function_environment,
    check_migrator,
    find_handler,
)
from ansible_collections.bluegreen.migration.plugins.module_utils.preflight.network import check_network, check_test_listener
from ansible_collections.bluegreen.migration.plugins.module_utils.preflight.report import finding_line, format_report
from ansible_collections.bluegreen.migration.plugins.module_utils.preflight.rollout import check_rollout
from ansible_collections.bluegreen.migration.plugins.module_utils.preflight.specs import check_specs
from ansible_collections.bluegreen.migration.plugins.module_utils.preflight.waits import check_waits

# What callers use as preflight.<name>: plugins/action/preflight.py and tests/unit/preflight.
__all__ = [
    "ALB_SUBNET_MAX_PREFIX",
    "AURORA_ENGINE",
    "DEFAULTS",
    "EIP_QUOTA",
    "ERROR",
    "LOGS_KMS_ACTIONS",
    "OPTIONAL",
    "VPC_QUOTA",
    "WARNING",
    "against_aws",
    "as_bool",
    "aws_limits_plan",
    "find_handler",
    "finding_line",
    "format_report",
    "image_tag",
    "kms_keys_to_check",
    "logs_actions_missing",
    "logs_statement",
    "loopback_endpoint",
    "needs_vpc",
    "new_addresses",
    "normalize_image",
    "resolve",
    "resource_names",
    "run_checks",
]


def run_checks(variables, key_policies=None, search_dirs=(), environ=None, aws_limits=None, peers=()):
    """Check every input; returns {findings, errors, warnings, names, cost, variables}.

    variables: the ones the host sets (each validated against its argument spec first); the
    others take DEFAULTS.

    key_policies: {key ARN: {"policy": document} | {"error": message}} for kms_keys_to_check().
    search_dirs: where a relative migrator_lambda_source_dir is looked up, in order.
    environ: the controller environment (AWS_ENDPOINT_URL for the emulator guard).
    aws_limits: the facts read for aws_limits_plan(variables, peers) (rule 8), None when not read.
    peers: the variables of the other environments of the play batch (see aws_limits_plan).
    """
    values = resolve(variables)
    f = Findings(values)
    failed = check_specs(f, variables)
    check_emulator_guard(f, environ if environ is not None else os.environ)
    names = check_environment(f)
    check_network(f)
    check_test_listener(f)
    check_ecs(f)
    check_kms(f, names, key_policies)
    check_aurora(f)
    check_migrator(f, search_dirs)
    check_ca_bundle(f, search_dirs)
    check_function_environment(f, names)
    check_rollout(f)
    check_waits(f)
    check_aws_limits(f, aws_limits_plan(values, peers) if aws_limits else None, aws_limits)
    estimate = cost_model.estimate(values)
    check_budget(f, estimate)
    # An input that failed its spec is reported by that finding alone, not again by the rules.
    f.items = [x for x in f.items if x["rule"] == "spec" or x["variable"] not in failed]
    return {
        "findings": f.items,
        "errors": [x for x in f.items if x["severity"] == ERROR],
        "warnings": [x for x in f.items if x["severity"] == WARNING],
        "names": names,
        "cost": estimate,
    }
