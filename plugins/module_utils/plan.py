# -*- coding: utf-8 -*-
# Copyright: bluegreen.migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The plan every role's read-and-plan module returns: a list of changes, each naming the
resource, the action (create, update, replace, delete), the fields that differ (before and
after) and why. Shared by the plan modules and the plan playbook's report."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

ACTIONS = ("create", "update", "replace", "delete")

# The value a plan shows for an id AWS gives only once the resource is created (a subnet of a
# VPC still to create): downstream resources that refer to it are planned as create.
KNOWN_AFTER_CREATE = "(known after create)"


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


def anything_to_apply(apply):
    """Whether any writer has something to do: `apply` maps each writer to its list of items or
    its flag (the `writes` of the plan modules whose `apply` is only that)."""
    return any(bool(what) for what in apply.values())


def task_ran(registered):
    """Whether a registered task result comes from a writer that ran: None (the task file was
    not included, so the variable was undefined) and skipped results did not; a loop ran when
    any of its items did (an empty loop registers as skipped)."""
    if not isinstance(registered, dict) or registered.get("skipped"):
        return False
    items = registered.get("results")
    if isinstance(items, list) and all(isinstance(item, dict) and "ansible_loop_var" in item for item in items):
        return any(task_ran(item) for item in items)
    return True


def refused_with(registered, code):
    """True when a registered AWS call failed with the error `code` (its error code, or its
    message when the module gave no code): the refusals a task retries (`until`) while AWS
    finishes something, such as releasing a dependent (DependencyViolation) or a cluster
    leaving a transitional state (InvalidDBClusterStateFault); any other failure fails at once."""
    if not isinstance(registered, dict) or not registered.get("failed"):
        return False
    found = (registered.get("error") or {}).get("code")
    return found == code if found else code in str(registered.get("msg") or "")


def dig(value, path, what="value"):
    """value["a"]["b"] for path "a.b"; a clear KeyError naming `what` and the path otherwise."""
    for key in path.split(".") if path else []:
        if not isinstance(value, dict) or key not in value:
            raise KeyError("%s has no %s" % (what, path))
        value = value[key]
    return value


def answer_or(registered, fallback, path=None):
    """A writer's answer when it ran (its value at `path`, e.g. "cluster"), else `fallback`: what
    the plan read. The roles' "the resource as it is now" after an apply that wrote only part."""
    return dig(registered, path, "the writer's answer") if task_ran(registered) else fallback


def loop_answers(registered, key, value):
    """{item's key: answer's value} for each item of a writer's loop that ran (dotted paths into
    each loop result, e.g. "item.color" and "target_group.target_group_arn"); {} when none ran."""
    if not task_ran(registered):
        return {}
    return dict((dig(item, key, "a loop result"), dig(item, value, "a loop result")) for item in registered["results"] if task_ran(item))


def given_or_found(given, registered, items_key, attribute):
    """The ids an input gives when it gives any, else those a discovery task found: each item's
    `attribute` in the task's registered `items_key` list (e.g. "subnets", "subnet_id"); [] when
    that task did not run (skipped, or its variable undefined and passed as None)."""
    if given:
        return list(given)
    if not task_ran(registered):
        return []
    return [dig(item, attribute, "a found item") for item in dig(registered, items_key, "the discovery's answer")]


def string_values(mapping):
    """The mapping with every value as a string, as Lambda (and ECS) report environment
    variables: comparing and writing strings keeps a re-run from seeing 5 and "5" as a change."""
    return dict((key, str(value)) for key, value in (mapping or {}).items())


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


# --- The plan playbook's report ------------------------------------------------------------

# The roles in the order a deploy runs them: the report groups the changes in that order.
ROLE_ORDER = ("network", "aurora", "ecs_service", "migrator_lambda")


def report(plans, suffix):
    """The plan of one environment from each role's read-and-plan results.

    `plans` maps a role to the results of its plan modules (a skipped or missing result counts
    as no change). Returns {format_version, environment_suffix, changed, summary (count per
    action), roles ({role: [change]}, every role listed), lines (one per change, grouped by role)}.
    """
    unknown = sorted(set(plans) - set(ROLE_ORDER))
    if unknown:
        raise ValueError("unknown role(s) in the plan: %s (expected %s)" % (", ".join(unknown), ", ".join(ROLE_ORDER)))
    roles, seen = {}, set()
    for role in ROLE_ORDER:
        roles[role] = []
        for result in plans.get(role) or []:
            for item in (result or {}).get("changes") or []:
                # A resource read by two modules of a role is listed once.
                key = (item["resource"], item["name"], item["action"])
                if key not in seen:
                    seen.add(key)
                    roles[role].append(item)
    summary = dict((action, sum(1 for items in roles.values() for item in items if item["action"] == action)) for action in ACTIONS)
    total = sum(summary.values())
    return {
        "format_version": 1,
        "environment_suffix": suffix,
        "changed": total > 0,
        "summary": summary,
        "roles": roles,
        "lines": report_lines(roles, summary, suffix),
    }


def report_lines(roles, summary, suffix):
    """The terminal's view: a headline, then per role with changes its name and one line per change."""
    total = sum(summary.values())
    if not total:
        return ["%s: no change, AWS matches the inputs" % suffix]
    counts = ", ".join("%d to %s" % (summary[action], action) for action in ACTIONS if summary[action])
    lines = ["%s: %d change%s (%s)" % (suffix, total, "" if total == 1 else "s", counts)]
    for role in ROLE_ORDER:
        if roles[role]:
            lines.append("%s:" % role)
            lines.extend("  " + terminal_line(item) for item in roles[role])
    return lines


def terminal_line(item):
    """line() for the terminal: a resource to create without its fields (every one of them is
    new; the JSON report has them); of a dict that differs, only its keys that differ
    (`tags.owner a -> b`); of a list, what goes and what comes (`ingress -[x] +[y]`)."""
    if item["action"] == "create":
        return line(dict(item, fields={}))
    parts = []
    for key, value in sorted(item["fields"].items()):
        before, after = value["before"], value["after"]
        if isinstance(before, dict) and isinstance(after, dict):
            parts += ["%s.%s %s -> %s" % (key, sub, _short(before.get(sub)), _short(after.get(sub)))
                      for sub in sorted(set(before) | set(after), key=str) if before.get(sub) != after.get(sub)]
            continue
        if isinstance(before, list) and isinstance(after, list):
            gone, new = [x for x in before if x not in after], [x for x in after if x not in before]
            if gone or new:
                shown = ["-[%s]" % ", ".join(_short(x) for x in gone)] if gone else []
                parts.append(" ".join([key] + shown + (["+[%s]" % ", ".join(_short(x) for x in new)] if new else [])))
                continue
        parts.append("%s %s -> %s" % (key, _short(before), _short(after)))
    text = "%s %s %s" % (item["action"], item["resource"], item["name"])
    if parts:
        text += ": " + ", ".join(parts)
    if item.get("reason"):
        text += " (%s)" % item["reason"]
    return text


def drift_message(document):
    """Why a plan run with plan_fail_on_drift fails: the environment and every change."""
    lines = [text.strip() for text in document["lines"][1:] if not text.endswith(":")]
    return "%s drifted from the inputs: %s" % (document["lines"][0], "; ".join(lines))
