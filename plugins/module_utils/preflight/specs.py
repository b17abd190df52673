# -*- coding: utf-8 -*-
# Copyright: bluegreen.migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The argument specs, first: every input the host sets, validated against its spec option
(INPUT_SPECS, generated from roles/*/meta/argument_specs.yml and meta/environment_specs.yml)
with the validator Ansible runs when a role starts. What it refuses (a type, a choice, a list
element) is one finding of rule `spec`; the area rules then check only what a spec cannot say
(ranges, AWS's sizes and facts, CIDR maths, fields against each other).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.bluegreen.migration.plugins.module_utils.inputs import INPUT_SPECS

RULE = "spec"

# The validator turns "a,b" into a list and "k=v" into a mapping, but a role receives the value
# as written and its tasks loop over it: a list or mapping input must be one.
CONTAINERS = {"list": (list, "a list"), "dict": (dict, "a mapping")}
KINDS = {
    "bool": "true or false",
    "int": "a whole number",
    "float": "a number",
    "str": "a string",
    "path": "a path",
    "raw": "any value",
}
ELEMENTS = {"bool": "booleans", "int": "whole numbers", "float": "numbers", "str": "strings", "path": "paths", "dict": "mappings"}


def allowed(option):
    """What the spec allows, in words."""
    if option.get("choices"):
        return "one of %s" % ", ".join(str(c) for c in option["choices"])
    kind = option.get("type", "str")
    if kind in CONTAINERS:
        what = CONTAINERS[kind][1]
        return "%s of %s" % (what, ELEMENTS.get(option["elements"], option["elements"])) if option.get("elements") else what
    return KINDS.get(kind, kind)


def example(option):
    default = option.get("default")
    if isinstance(default, list) and default:
        return ", e.g. [%s]" % ", ".join(str(v) for v in default)
    return ", e.g. {Key: value}" if option.get("type") == "dict" else ""


def plain(value):
    """value with Python's own types (a templated value carries Ansible's tagged subclasses,
    whose class names would otherwise show in the validator's messages)."""
    if isinstance(value, bool):
        return bool(value)
    for kind in (str, int, float):
        if isinstance(value, kind):
            return kind(value)
    if isinstance(value, dict):
        return dict((plain(k), plain(v)) for k, v in value.items())
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, tuple):
        return tuple(plain(v) for v in value)
    return value


def written(value):
    for kind, word in ((bool, "boolean"), (str, "string"), (int, "number"), (float, "number"), (list, "list"), (dict, "mapping")):
        if isinstance(value, kind):
            return word
    return type(value).__name__


def spec_problems(name, value, option):
    """Why value does not satisfy the spec option of name (sentences naming it), or []."""
    value = plain(value)
    # Only set inputs are validated, so `required` has nothing to add: an unset one takes its
    # default, and one the play supplies otherwise (environment_suffix from the inventory host,
    # aws_region assumed by preflight) is checked by its own rule.
    option = dict((k, v) for k, v in option.items() if k != "required")
    problems = list(ArgumentSpecValidator({name: option}).validate({name: value}).error_messages)
    container = CONTAINERS.get(option.get("type"))
    if not problems and container and not isinstance(value, container[0]):
        problems.append(
            "%s must be %s, not the %s %r: the roles' tasks read the value as written, not as Ansible's argument validation would convert it"
            % (name, container[1], written(value), value)
        )
    return problems


def check_specs(f, given):
    """One error per spec problem of each input in given (the variables the host sets);
    returns the names that failed, whose later findings run_checks drops."""
    failed = set()
    for name, value in (given or {}).items():
        option = INPUT_SPECS.get(name)
        if option is None:
            continue
        for problem in spec_problems(name, value, option):
            fix = "set %s to %s%s (its argument spec: %s)" % (name, allowed(option), example(option), describe(option))
            f.error(name, RULE, problem, fix, value=value, use_value=True)
            failed.add(name)
    return failed


def describe(option):
    kind = option.get("type", "str")
    return "%s of %s" % (kind, option["elements"]) if option.get("elements") else kind
