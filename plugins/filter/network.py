# -*- coding: utf-8 -*-
# Copyright: bluegreen.migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.bluegreen.migration.plugins.module_utils import network
from ansible_collections.bluegreen.migration.plugins.module_utils.cidr import TIERS, split_subnets
from ansible_collections.bluegreen.migration.plugins.module_utils.naming import NamingError, zonal_name


def subnet_plan(vpc_cidr, azs, suffix):
    """Every subnet of an environment, tier-major: [{tier, az, index, cidr, name}]."""
    try:
        cidrs = split_subnets(vpc_cidr, len(azs))
        plan = []
        for tier in TIERS:
            for index, az in enumerate(azs):
                plan.append(
                    {
                        "tier": tier,
                        "az": az,
                        "index": index,
                        "cidr": cidrs[tier][index],
                        "name": zonal_name(tier, az, index, suffix),
                    }
                )
        return plan
    except (NamingError, ValueError) as e:
        raise AnsibleFilterError("network_vpc_cidr=%s with %d AZs: %s" % (vpc_cidr, len(azs), e)) from e


def _ids(name, func):
    def run(*args):
        try:
            return func(*args)
        except (AttributeError, KeyError, TypeError) as e:
            raise AnsibleFilterError("%s: unexpected input (%s: %s)" % (name, type(e).__name__, e)) from e

    run.__name__ = name
    return run


class FilterModule(object):
    """Network layout filters of bluegreen.migration."""

    def filters(self):
        return {
            "subnet_plan": subnet_plan,
            # The ids read by the plan merged with those the writers answered (module_utils.network).
            "network_subnet_ids": _ids("network_subnet_ids", network.subnet_ids_by_tier),
            "network_security_group_ids": _ids("network_security_group_ids", network.security_group_ids),
            "network_route_table_ids": _ids("network_route_table_ids", network.route_table_ids_by_tier),
        }
