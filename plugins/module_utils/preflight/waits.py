# -*- coding: utf-8 -*-
# Copyright: bluegreen.migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Waits: the seconds between two looks of each polling wait and each wait's bound.

A wait's retries are its bound divided by its delay, so a delay of 0 would stop the play with a
template error (a division by zero) in the middle of a deploy or a teardown. The teardown checks
this rule too (its waits are the longest).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.bluegreen.migration.plugins.module_utils.preflight.findings import int_in_range

RULE = "waits"
# AWS's slowest waits (a VPC Lambda's network interfaces) take up to 45 minutes: a day bounds
# any of them, an hour any delay between two looks.
MAX_WAIT = 86400
MAX_DELAY = 3600

# Seconds between two looks: at least one.
DELAYS = (
    "aurora_wait_delay",
    "ecs_service_eni_wait_delay",
    "migrator_lambda_create_delay",
    "migrator_lambda_database_wait_delay",
    "migrator_lambda_eni_wait_delay",
)
# How long a wait may last, with the smallest value each allows (0 where it means "the
# default of another input" or "one look").
TIMEOUTS = (
    ("aurora_wait_timeout", 1),
    ("ecs_service_wait_timeout", 1),
    ("ecs_service_eni_wait_timeout", 1),
    ("migrator_lambda_database_wait_timeout", 1),
    ("migrator_lambda_eni_wait_timeout", 1),
    ("network_nat_wait_timeout", 1),
    ("network_vpc_endpoint_wait_timeout", 1),
    ("network_dependency_wait", 0),
    ("rollout_steady_timeout", 0),
    ("rollout_health_timeout", 1),
)


def check_waits(f):
    for name in DELAYS:
        int_in_range(f, name, 1, MAX_DELAY, "seconds between two looks", rule=RULE)
    for name, low in TIMEOUTS:
        int_in_range(f, name, low, MAX_WAIT, "seconds to wait", rule=RULE)
