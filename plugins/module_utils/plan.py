# -*- coding: utf-8 -*-
# Copyright: bluegreen.migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The plan every role's read-and-plan module returns: a list of changes, each naming the
resource, the action (create, update, replace, delete), the fields that differ (before and
after) and why. Shared by the plan modules and the plan playbook's report."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

ACTIONS = ("create", "update", "replace", "delete")


def change(resource, name, action, fields=None, reason=""):
    """One planned change. `fields` maps a field to {"before": ..., "after": ...}."""
    if action not in ACTIONS:
        raise ValueError("action must be one of %s, not %r" % (", ".join(ACTIONS), action))
    return {"resource": resource, "name": name, "action": action, "fields": fields or {}, "reason": reason}


DIFFERS = "differs from the inputs"


def update_or_nothing(resource, name, fields):
    """(changes, apply) of an existing resource: one update when any field drifted, else nothing."""
    if fields:
        return [change(resource, name, "update", fields, DIFFERS)], True
    return [], False


def field(before, after):
    return {"before": before, "after": after}


def created(desired):
    """The fields of a resource to create: each from nothing to its wanted value."""
    return dict((key, field(None, value)) for key, value in sorted(desired.items()))


def fields_that_differ(desired, current):
    """{field: {before, after}} for each key of `desired` whose value `current` does not have."""
    return {key: field(current.get(key), want) for key, want in desired.items() if current.get(key) != want}


def version_tuple(version):
    """'16.4' -> (16, 4); a part that is not a number sorts as 0 (AWS versions are dotted numbers)."""
    parts = []
    for part in str(version or "").split("."):
        digits = "".join(ch for ch in part if ch.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts)


def diff_of(changes):
    """(before, after) of a plan for --diff: per resource, each differing field's value."""
    before, after = {}, {}
    for item in changes:
        key = item["resource"] + " " + item["name"]
        before[key] = dict((name, value["before"]) for name, value in item["fields"].items())
        after[key] = dict((name, value["after"]) for name, value in item["fields"].items())
    return before, after


def line(item):
    """One readable line per change: `update aurora cluster aurora-dev: backup_retention_period 1 -> 7`."""
    fields = ", ".join("%s %s -> %s" % (key, _short(value["before"]), _short(value["after"])) for key, value in sorted(item["fields"].items()))
    text = "%s %s %s" % (item["action"], item["resource"], item["name"])
    if fields:
        text += ": " + fields
    if item.get("reason"):
        text += " (%s)" % item["reason"]
    return text


def _short(value):
    text = repr(value) if not isinstance(value, str) else value or "''"
    return text if len(text) <= 80 else text[:77] + "..."
