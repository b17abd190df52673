# -*- coding: utf-8 -*-
# Copyright: bluegreen.migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The monthly budget against the cost estimate."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.bluegreen.migration.plugins.module_utils.preflight.findings import as_number


def check_budget(f, estimate):
    budget = f.variables.get("budget_monthly_usd")
    if budget in (None, ""):
        return
    amount = as_number(budget)
    if amount is None or amount <= 0:
        f.error(
            "budget_monthly_usd", "budget", "budget_monthly_usd must be a positive number of US dollars", "set e.g. budget_monthly_usd: 250, or leave it unset"
        )
        return
    if estimate["unpriced"]:
        f.warning(
            "budget_monthly_usd", "budget", "the estimate leaves out %s" % "; ".join(estimate["unpriced"]), "fix those inputs so the budget check is complete"
        )
    total = estimate["total_monthly_usd"]
    if total > amount:
        top = sorted(estimate["components"], key=lambda line: -line["monthly_usd"])[:3]
        f.error(
            "budget_monthly_usd",
            "budget",
            "the estimate is $%.2f/month, over the budget of $%.2f (largest: %s)"
            % (total, amount, ", ".join("%s $%.2f" % (t["component"], t["monthly_usd"]) for t in top)),
            "raise budget_monthly_usd to at least %d, or shrink the largest components (fewer readers, single NAT, no endpoints)" % (int(total) + 1),
        )
