# -*- coding: utf-8 -*-
# Copyright: bluegreen.migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""KMS keys (rule 3): key ids, ARNs and aliases in the environment's region, and the key policy
of a log group's custom key read for what CloudWatch Logs needs.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fnmatch
import json

from ansible_collections.bluegreen.migration.plugins.module_utils.preflight.facts import (
    KMS_ALIAS,
    KMS_ALIAS_ARN,
    KMS_KEY_ARN,
    KMS_KEY_ID,
    LOG_KMS_VARIABLES,
    LOGS_KMS_ACTIONS,
)


def kms_keys_to_check(variables):
    """{variable: key ARN} of the custom log-group keys whose key policy preflight must read."""
    keys = {}
    for name in LOG_KMS_VARIABLES:
        value = variables.get(name)
        if isinstance(value, str) and KMS_KEY_ARN.match(value):
            keys[name] = value
    return keys


def logs_statement(region, account):
    """The key policy statement CloudWatch Logs needs to use a key in region."""
    return {
        "Sid": "AllowCloudWatchLogs",
        "Effect": "Allow",
        "Principal": {"Service": "logs.%s.amazonaws.com" % region},
        "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
        "Resource": "*",
        "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": "arn:aws:logs:%s:%s:log-group:*" % (region, account)}},
    }


def _listify(value):
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _statement_principal_matches(statement, service):
    principal = statement.get("Principal")
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    return service in _listify(principal.get("Service")) or "*" in _listify(principal.get("AWS"))


def _statement_condition_allows(statement, log_group_arn):
    """False only when a logs:arn encryption-context condition excludes our log group."""
    for operator, clauses in (statement.get("Condition") or {}).items():
        if not isinstance(clauses, dict):
            continue
        for key, patterns in clauses.items():
            if key.lower() != "kms:encryptioncontext:aws:logs:arn":
                continue
            if operator.lower().startswith(("arnlike", "stringlike")):
                if not any(fnmatch.fnmatchcase(log_group_arn, p) for p in _listify(patterns)):
                    return False
            elif operator.lower().startswith(("arnequals", "stringequals")):
                if log_group_arn not in _listify(patterns):
                    return False
    return True


def logs_actions_missing(policy, region, log_group_arn):
    """Which of LOGS_KMS_ACTIONS the key policy does not allow the region's Logs service."""
    if isinstance(policy, str):
        policy = json.loads(policy)
    service = "logs.%s.amazonaws.com" % region
    allowed, denied = set(), set()
    for statement in _listify((policy or {}).get("Statement")):
        if not isinstance(statement, dict) or not _statement_principal_matches(statement, service):
            continue
        if not _statement_condition_allows(statement, log_group_arn):
            continue
        patterns = [a.lower() for a in _listify(statement.get("Action"))]
        hits = set(a for a in LOGS_KMS_ACTIONS if any(fnmatch.fnmatchcase(a.lower(), p) for p in patterns))
        (denied if statement.get("Effect") == "Deny" else allowed).update(hits)
    return [a for a in LOGS_KMS_ACTIONS if a not in allowed or a in denied]


def check_kms(f, names, key_policies):
    region = f.variables.get("aws_region")
    for name in ("aurora_kms_key_id", "ecs_service_log_kms_key_id", "migrator_lambda_log_kms_key_id"):
        value = f.variables.get(name)
        if value in (None, ""):
            continue
        text = str(value)
        arn = KMS_KEY_ARN.match(text) or KMS_ALIAS_ARN.match(text)
        if name in LOG_KMS_VARIABLES:
            if not KMS_KEY_ARN.match(text):
                f.error(
                    name,
                    "kms_key",
                    "CloudWatch Logs needs the full key ARN; key ids and aliases are rejected",
                    "use arn:aws:kms:%s:<account>:key/<key-id>, or null for the service-owned key" % region,
                )
                continue
        elif not (arn or KMS_KEY_ID.match(text) or KMS_ALIAS.match(text)):
            f.error(name, "kms_key", "not a KMS key id, key ARN, alias or alias ARN", "use the key ARN, or null for the AWS managed key")
            continue
        if arn and arn.group("region") != region:
            f.error(
                name,
                "kms_key",
                "the key is in %s but the environment is in %s; KMS keys are regional" % (arn.group("region"), region),
                "use a key of %s" % region,
            )
            continue
        if name not in LOG_KMS_VARIABLES:
            continue
        key = KMS_KEY_ARN.match(text)
        log_group = names.get(LOG_KMS_VARIABLES[name], "*")
        log_group_arn = "arn:aws:logs:%s:%s:log-group:%s" % (region, key.group("account"), log_group)
        statement = json.dumps(logs_statement(region, key.group("account")), sort_keys=True)
        fetched = (key_policies or {}).get(text)
        if fetched is None:
            f.warning(
                name,
                "kms_key_policy",
                "the key policy was not read, so it is not known whether CloudWatch Logs may use the key",
                "run preflight with kms:GetKeyPolicy permission",
            )
        elif fetched.get("error"):
            f.error(
                name,
                "kms_key_policy",
                "cannot read the key policy (%s), so the log group %s may fail to be created" % (fetched["error"], log_group),
                "allow kms:GetKeyPolicy on the key to the deploying identity, or set %s to null" % name,
            )
        else:
            try:
                missing = logs_actions_missing(fetched.get("policy"), region, log_group_arn)
            except (TypeError, ValueError, AttributeError) as e:
                f.error(name, "kms_key_policy", "the key policy is not valid JSON (%s)" % e, "fix the key policy")
                continue
            if missing:
                f.error(
                    name,
                    "kms_key_policy",
                    "the key policy does not let logs.%s.amazonaws.com use the key for %s (missing %s); creating the log group would fail with AccessDenied"
                    % (region, log_group, ", ".join(missing)),
                    "add this statement to the key policy: %s" % statement,
                )
