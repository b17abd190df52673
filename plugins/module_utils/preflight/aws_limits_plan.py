# -*- coding: utf-8 -*-
# Copyright: bluegreen.migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""What rule 8 reads for an environment (the action plugin makes the read-only calls): whether
the run is against AWS, the environments of the batch sharing a region's quotas, and what
each would create (Elastic IPs, a VPC, an Aurora cluster).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.bluegreen.migration.plugins.module_utils.cidr import CidrError, parse_network, split_subnets
from ansible_collections.bluegreen.migration.plugins.module_utils.naming import REGION_PATTERN, NamingError, resource_names, validate_suffix
from ansible_collections.bluegreen.migration.plugins.module_utils.preflight.environment import loopback_endpoint
from ansible_collections.bluegreen.migration.plugins.module_utils.preflight.facts import AZ_MAX, AZ_MIN, INSTANCE_CLASS_PATTERN
from ansible_collections.bluegreen.migration.plugins.module_utils.preflight.findings import as_bool, as_int, resolve
from ansible_collections.bluegreen.migration.plugins.module_utils.preflight.network import nat_gateway_count


def against_aws(variables, environ):
    """True when the run reaches AWS itself: not the local inventory (bluegreen_emulator) and no
    loopback AWS_ENDPOINT_URL. An emulator's quotas and engine catalogue are not AWS's."""
    if as_bool(variables.get("bluegreen_emulator") or False):
        return False
    return not loopback_endpoint((environ or {}).get("AWS_ENDPOINT_URL"))


def limits_environment(variables, host=None):
    """One environment as the quota rules see it, or None when its inputs cannot be used (their
    own rules report them): suffix, region, NAT gateway count and the VPC's name and CIDR."""
    suffix = variables.get("environment_suffix")
    region = variables.get("aws_region")
    if not isinstance(region, str) or not REGION_PATTERN.match(region):
        return None
    try:
        validate_suffix(suffix)
        names = resource_names(suffix, region)
    except NamingError:
        return None
    az_count = as_int(variables.get("network_az_count"))
    az_count = az_count if az_count and AZ_MIN <= az_count <= AZ_MAX else None
    cidr = variables.get("network_vpc_cidr")
    try:
        split_subnets(cidr, az_count or AZ_MIN)
        cidr = str(parse_network(cidr))
    except CidrError:
        cidr = None
    return {
        "host": host or suffix,
        "suffix": suffix,
        "region": region,
        "nat_gateways": nat_gateway_count(variables.get("network_nat_gateways"), az_count),
        "vpc_name": names["vpc"],
        "vpc_cidr": cidr,
        "aurora_cluster": names["aurora_cluster"],
    }


def aws_limits_plan(variables, peers=()):
    """What rule 8 reads for this environment, or None when it reads nothing.

    peers: the variables of the other environments of the same play batch (forks deploy them
    at the same time); those in the same region share its quotas.
    """
    values = resolve(variables)
    this = limits_environment(values)
    if this is None:
        return None
    together = [this]
    for peer in peers or ():
        other = limits_environment(resolve(peer), host=peer.get("inventory_hostname"))
        if other and other["region"] == this["region"] and other["suffix"] != this["suffix"] and not as_bool(peer.get("bluegreen_emulator") or False):
            together.append(other)
    aurora = None
    version = values.get("aurora_engine_version")
    instance_class = values.get("aurora_instance_class")
    if (
        isinstance(version, str)
        and re.match(r"^[0-9]+(\.[0-9]+)?$", version)
        and isinstance(instance_class, str)
        and INSTANCE_CLASS_PATTERN.match(instance_class)
    ):
        aurora = {"cluster": this["aurora_cluster"], "engine_version": version, "major": version.split(".")[0], "instance_class": instance_class}
    return {"region": this["region"], "suffix": this["suffix"], "environments": together, "aurora": aurora}


def new_addresses(environment, owned):
    """Elastic IPs an environment's NAT gateways still need: its NAT count minus those it owns."""
    if environment["nat_gateways"] is None:
        return 0
    return max(0, environment["nat_gateways"] - owned.get(environment["suffix"], 0))


def needs_vpc(environment, existing):
    """True when the network role would create a VPC: none with its Name tag and CIDR exists."""
    if environment["vpc_cidr"] is None:
        return False
    return not any(vpc.get("name") == environment["vpc_name"] and vpc.get("cidr") == environment["vpc_cidr"] for vpc in existing)
