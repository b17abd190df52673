# -*- coding: utf-8 -*-
# Copyright: bluegreen.migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Controller side of bluegreen.migration.preflight: gather the host's variables, run the
rules engine (plugins/module_utils/preflight.py), print the report, fail on errors."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible.errors import AnsibleError
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.bluegreen.migration.plugins.module_utils import preflight

display = Display()

# plugins/action/preflight.py -> the collection root, where migrator/ lives.
COLLECTION_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

ARGUMENT_SPEC = dict(
    fail_on_error=dict(type="bool", default=True),
    check_key_policies=dict(type="bool", default=True),
)


def read_key_policies(key_arns, region):
    """{key ARN: {"policy": text} | {"error": message}} with kms:GetKeyPolicy (read-only)."""
    try:
        import boto3
        from botocore.config import Config
        from botocore.exceptions import BotoCoreError, ClientError
    except ImportError as e:
        return dict((arn, {"error": "boto3 is not installed on the controller (%s)" % e}) for arn in key_arns)
    config = Config(connect_timeout=5, read_timeout=10, retries={"max_attempts": 2, "mode": "standard"})
    policies = {}
    try:
        client = boto3.session.Session().client("kms", region_name=region, config=config)
    except (BotoCoreError, ValueError) as e:
        return dict((arn, {"error": to_text(e)}) for arn in key_arns)
    for arn in key_arns:
        try:
            policies[arn] = {"policy": client.get_key_policy(KeyId=arn, PolicyName="default")["Policy"]}
        except (BotoCoreError, ClientError) as e:
            policies[arn] = {"error": to_text(e)}
    return policies


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(ARGUMENT_SPEC)
    _requires_connection = False
    _supports_check_mode = True

    def _variables(self, task_vars):
        """Every variable preflight reads, templated; (values, findings for untemplatable ones)."""
        values, broken = {}, []
        for name in list(preflight.DEFAULTS) + list(preflight.OPTIONAL):
            if name not in task_vars:
                continue
            try:
                values[name] = self._templar.template(task_vars[name])
            except AnsibleError as e:
                broken.append(
                    {
                        "severity": preflight.ERROR,
                        "variable": name,
                        "value": to_text(task_vars[name]),
                        "rule": "template",
                        "message": "cannot be templated: %s" % to_text(e).splitlines()[0],
                        "fix": "define the variables it refers to",
                    }
                )
        return values, broken

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        dummy, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)

        variables, broken = self._variables(task_vars)
        resolved = preflight.resolve(variables)
        key_policies = {}
        keys = preflight.kms_keys_to_check(resolved)
        guard_ok = not preflight.as_bool(resolved.get("bluegreen_emulator") or False) or preflight.loopback_endpoint(os.environ.get("AWS_ENDPOINT_URL"))
        if keys and args["check_key_policies"] and guard_ok:
            key_policies = read_key_policies(sorted(set(keys.values())), resolved.get("aws_region"))

        search_dirs = [task_vars.get("playbook_dir"), COLLECTION_ROOT]
        checked = preflight.run_checks(variables, key_policies=key_policies, search_dirs=search_dirs, environ=os.environ)
        if broken:
            # A variable that cannot be templated is reported once, not again by the rules.
            unusable = set(f["variable"] for f in broken)
            checked["findings"] = broken + [f for f in checked["findings"] if f["variable"] not in unusable]
            checked["errors"] = [f for f in checked["findings"] if f["severity"] == preflight.ERROR]
            checked["warnings"] = [f for f in checked["findings"] if f["severity"] == preflight.WARNING]

        title = "preflight of %s (environment_suffix=%s, %s)" % (
            task_vars.get("inventory_hostname", "?"),
            resolved.get("environment_suffix"),
            resolved.get("aws_region"),
        )
        display.display(preflight.format_report(checked, title=title))

        result.update(checked)
        # Ansible prints the `warnings` of a result as [WARNING] lines: one line per warning finding
        # (the structured ones are in `findings`).
        result["warnings"] = [preflight.finding_line(f) for f in checked["warnings"]]
        result["changed"] = False
        errors = checked["errors"]
        if errors and args["fail_on_error"]:
            result["failed"] = True
            result["msg"] = "preflight found %d error(s):\n%s" % (len(errors), "\n".join("- " + preflight.finding_line(f) for f in errors))
        else:
            result["msg"] = "preflight: %d error(s), %d warning(s); estimate $%.2f/month" % (
                len(errors),
                len(checked["warnings"]),
                checked["cost"]["total_monthly_usd"],
            )
        return result
