# -*- coding: utf-8 -*-
# Copyright: bluegreen.migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Controller side of bluegreen.migration.migrator_package: build the migrator Lambda's
deterministic zip in the play's own process. The zip is a controller artifact; building it
through a module delegated to localhost cost a Python start and an AnsiballZ payload on every
deploy, plan and migrate run. The build itself is plugins/module_utils/packaging.py."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase

from ansible_collections.bluegreen.migration.plugins.module_utils import packaging

ARGUMENT_SPEC = dict(
    dest=dict(type="path", required=True),
    source_dir=dict(type="path"),
    migrations_dir=dict(type="path"),
    handler=dict(type="str", default="index.handler"),
    dependencies=dict(type="list", elements="str", default=["pg8000"]),
    squawk_path=dict(type="path"),
    ca_bundle=dict(type="path"),
)


def package(args, check_mode=False, diff=False):
    """The task's result for validated `args`; AnsibleActionFail with the reason when the zip
    cannot be built (no handler, a migration squawk rejects, no squawk ...) or written."""
    try:
        built = packaging.ensure_package(
            args["dest"], source_dir=args["source_dir"], migrations_dir=args["migrations_dir"], handler=args["handler"],
            dependencies=args["dependencies"], squawk_path=args["squawk_path"], ca_bundle=args["ca_bundle"],
            check_mode=check_mode,
        )
    except packaging.PackagingError as exc:
        raise AnsibleActionFail(to_text(exc)) from None
    except OSError as exc:
        raise AnsibleActionFail("cannot write %s: %s" % (args["dest"], to_text(exc))) from None
    before = built.pop("before")
    if diff:
        built["diff"] = {
            "before": {"path": built["path"], "code_sha256": before} if before else {},
            "after": {"path": built["path"], "code_sha256": built["code_sha256"]},
        }
    return built


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(ARGUMENT_SPEC)

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        dummy, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        result.update(package(args, check_mode=self._task.check_mode, diff=self._task.diff))
        return result
