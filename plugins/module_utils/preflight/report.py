# -*- coding: utf-8 -*-
# Copyright: bluegreen.migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The findings as text: one line per finding, and the report printed by the action plugin."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json


def show(value):
    """A value as it appears in a report line."""
    if isinstance(value, str):
        return value if value else "''"
    try:
        return json.dumps(value, sort_keys=True, default=str)
    except (TypeError, ValueError):
        return repr(value)


def finding_line(finding):
    """One finding as `variable=value: message -> fix`."""
    return "%s=%s: %s -> %s" % (finding["variable"], show(finding["value"]), finding["message"], finding["fix"])


def format_report(result, title="preflight"):
    """Human-readable report: findings by severity, then the cost table."""
    lines = ["%s: %d error(s), %d warning(s)" % (title, len(result["errors"]), len(result["warnings"]))]
    for finding in result["errors"] + result["warnings"]:
        lines.append("  %-7s [%s] %s" % (finding["severity"].upper(), finding["rule"], finding_line(finding)))
    estimate = result["cost"]
    lines.append(
        "  cost estimate: $%.2f/month (%s list prices, %s)%s"
        % (estimate["total_monthly_usd"], estimate["price_region"], estimate["price_date"], "; " + estimate["note"] if estimate["note"] else "")
    )
    for line in estimate["components"]:
        lines.append("    %-28s %9.2f  %s" % (line["component"], line["monthly_usd"], line["detail"]))
    for reason in estimate["unpriced"]:
        lines.append("    not priced: %s" % reason)
    return "\n".join(lines)
