# -*- coding: utf-8 -*-
# Copyright: bluegreen.migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Controller side of bluegreen.migration.controller_files: write text files on the controller
when their content or mode differs, in the play's own process. The reports of an environment
are controller files; writing them with copy/template (delegate_to: localhost) cost a module
process per file and per run, most of a converged re-run's time spent on files that did not change."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import stat
import tempfile

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.text.converters import to_bytes, to_text
from ansible.plugins.action import ActionBase

ARGUMENT_SPEC = dict(
    directory=dict(type="path", required=True),
    files=dict(
        type="list",
        elements="dict",
        required=True,
        options=dict(
            name=dict(type="str", required=True),
            content=dict(type="str", required=True),
        ),
    ),
    mode=dict(type="str", default="0644"),
    directory_mode=dict(type="str", default="0755"),
)


def file_mode(text, option):
    """An octal mode string ("0644") as an int; a clear error otherwise."""
    try:
        mode = int(str(text), 8)
    except ValueError:
        raise AnsibleActionFail("%s=%r is not an octal file mode such as 0644" % (option, text)) from None
    if not 0 <= mode <= 0o7777:
        raise AnsibleActionFail("%s=%r is not a file mode between 0000 and 7777" % (option, text))
    return mode


def current_state(path):
    """(bytes, mode) of the file, or (None, None) when there is none."""
    try:
        with open(path, "rb") as handle:
            return handle.read(), stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        return None, None


def plan_files(directory, files, mode):
    """One entry per file: path, the new bytes, and what differs (content, mode, or nothing)."""
    entries = []
    for item in files:
        name = item["name"]
        if not name or os.path.isabs(name) or os.sep in name or name in (".", ".."):
            raise AnsibleActionFail("files: name %r must be a plain file name inside directory %s" % (name, directory))
        path = os.path.join(directory, name)
        wanted = to_bytes(item["content"], errors="surrogate_or_strict")
        before, before_mode = current_state(path)
        differs = []
        if before != wanted:
            differs.append("content")
        if before_mode is not None and before_mode != mode:
            differs.append("mode")
        entries.append({"name": name, "path": path, "content": wanted, "before": before, "differs": differs})
    return entries


def write_atomically(path, content, mode):
    """Write through a temporary file in the same directory and rename it: a reader never sees
    half a report."""
    directory = os.path.dirname(path)
    handle, temporary = tempfile.mkstemp(prefix=".%s." % os.path.basename(path), dir=directory)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(content)
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(ARGUMENT_SPEC)

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        dummy, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        mode = file_mode(args["mode"], "mode")
        directory_mode = file_mode(args["directory_mode"], "directory_mode")
        directory = args["directory"]
        entries = plan_files(directory, args["files"], mode)
        changed = [entry for entry in entries if entry["differs"]]
        directory_missing = not os.path.isdir(directory)

        if changed and not self._task.check_mode:
            if directory_missing:
                os.makedirs(directory, mode=directory_mode, exist_ok=True)
            for entry in changed:
                if "content" in entry["differs"]:
                    write_atomically(entry["path"], entry["content"], mode)
                else:
                    os.chmod(entry["path"], mode)

        result.update(
            changed=bool(changed),
            directory=directory,
            paths=[entry["path"] for entry in entries],
            written=[entry["path"] for entry in changed],
        )
        if self._task.diff and changed:
            result["diff"] = [
                {
                    "before_header": entry["path"],
                    "after_header": entry["path"],
                    "before": to_text(entry["before"] or b"", errors="surrogate_or_replace"),
                    "after": to_text(entry["content"], errors="surrogate_or_replace"),
                }
                for entry in changed
            ]
        return result
