# -*- coding: utf-8 -*-
# Copyright: bluegreen.migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.bluegreen.migration.plugins.module_utils import naming, network
from ansible_collections.bluegreen.migration.plugins.module_utils.naming import NamingError
from ansible_collections.bluegreen.migration.plugins.plugin_utils.filters import filter_errors


def subnet_plan(vpc_cidr, azs, suffix):
    """Every subnet of an environment, tier-major: [{tier, az, index, cidr, name}] (module_utils.network.subnet_layout)."""
    try:
        return network.subnet_layout(vpc_cidr, azs, suffix)
    except (NamingError, ValueError) as e:
        raise AnsibleFilterError("network_vpc_cidr=%s with %d AZs: %s" % (vpc_cidr, len(azs), e)) from e


def route_table_names(azs, nat_layout, suffix):
    """The network's route table names (module_utils.naming.route_table_names)."""
    try:
        return naming.route_table_names(azs, nat_layout, suffix)
    except NamingError as e:
        raise AnsibleFilterError(str(e)) from e


class FilterModule(object):
    """Network layout filters of bluegreen.migration."""

    def filters(self):
        return {
            "subnet_plan": subnet_plan,
            "network_route_table_names": route_table_names,
            # The ids read by the plan merged with those the writers answered (module_utils.network).
            "network_subnet_ids": filter_errors("network_subnet_ids", network.subnet_ids_by_tier),
            "network_subnets_unlisted": filter_errors("network_subnets_unlisted", network.subnets_unlisted),
            "network_security_group_ids": filter_errors("network_security_group_ids", network.security_group_ids),
            "network_route_table_ids": filter_errors("network_route_table_ids", network.route_table_ids_by_tier),
            "network_nat_routes": filter_errors("network_nat_routes", network.nat_routes_with_table_ids),
            "network_nat_waited": filter_errors("network_nat_waited", network.nat_gateways_waited),
            "network_vpc_endpoints_to_wait": filter_errors("network_vpc_endpoints_to_wait", network.vpc_endpoints_to_wait),
            "network_vpc_endpoints_waited": filter_errors("network_vpc_endpoints_waited", network.vpc_endpoints_waited),
        }
