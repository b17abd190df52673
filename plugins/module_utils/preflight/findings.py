# -*- coding: utf-8 -*-
# Copyright: bluegreen.migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Findings and the value helpers every rule uses: severities, the inputs' defaults, the
collector a rule adds findings to, lenient readers of numbers and booleans (what -e
key=value gives), and the range check shared by several rules.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.bluegreen.migration.plugins.module_utils.inputs import INPUT_DEFAULTS


ERROR = "error"
WARNING = "warning"

# Every input with the collection's defaults (one table, shared with the cost model).
DEFAULTS = INPUT_DEFAULTS

# Read when the inventory sets them (other roles own their defaults).
OPTIONAL = ("bluegreen_emulator", "network_app_port")


class Findings(object):
    """Collects findings; `variables` is the resolved input, so each finding carries its value."""

    def __init__(self, variables):
        self.variables = variables
        self.items = []

    def add(self, severity, variable, rule, message, fix, value=None, use_value=False):
        self.items.append(
            {
                "severity": severity,
                "variable": variable,
                "value": value if use_value else self.variables.get(variable),
                "rule": rule,
                "message": message,
                "fix": fix,
            }
        )

    def error(self, variable, rule, message, fix, **kwargs):
        self.add(ERROR, variable, rule, message, fix, **kwargs)

    def warning(self, variable, rule, message, fix, **kwargs):
        self.add(WARNING, variable, rule, message, fix, **kwargs)

    def has_error(self, *variables):
        return any(f["severity"] == ERROR and f["variable"] in variables for f in self.items)


# --- Value helpers -------------------------------------------------------------------------


def as_int(value):
    """An int from an int or a string of digits (what -e key=value gives), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.match(r"^-?[0-9]+$", value.strip()):
        return int(value.strip())
    return None


def as_bool(value):
    """True/False from a bool or Ansible's boolean strings, else None."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("yes", "on", "1", "true", "y", "t"):
        return True
    if text in ("no", "off", "0", "false", "n", "f"):
        return False
    return None


def as_number(value):
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return value
    try:
        return float(str(value).strip())
    except ValueError:
        return None


def int_in_range(f, name, low, high, why, rule="range"):
    value = as_int(f.variables.get(name))
    if value is None or value < low or value > high:
        f.error(name, rule, "%s must be a whole number from %d to %d (%s)" % (name, low, high, why), "set %s to a value in %d..%d" % (name, low, high))
        return None
    return value


def resolve(variables):
    """DEFAULTS overlaid with the given variables (a variable set to null stays null)."""
    values = dict(DEFAULTS)
    for key, value in (variables or {}).items():
        values[key] = value
    return values
