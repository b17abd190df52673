# -*- coding: utf-8 -*-
# Copyright: bluegreen.migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Network inputs: AZ count against the region, the VPC CIDR and its subnet layout (room for
the ALB and for a rollout's tasks), NAT layout, VPC endpoints and their cost, ingress CIDRs.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import difflib
import ipaddress

from ansible_collections.bluegreen.migration.plugins.module_utils import cost as cost_model
from ansible_collections.bluegreen.migration.plugins.module_utils.cidr import CidrError, split_subnets, subnet_prefix, usable_addresses
from ansible_collections.bluegreen.migration.plugins.module_utils.preflight.facts import (
    ALB_FREE_ADDRESSES,
    ALB_SUBNET_MAX_PREFIX,
    AZ_MAX,
    AZ_MIN,
    ENDPOINT_SERVICES,
    PRIVATE_RANGES,
    REGION_AZ_COUNT,
)
from ansible_collections.bluegreen.migration.plugins.module_utils.preflight.findings import as_int


def check_network(f):
    az_count = as_int(f.variables.get("network_az_count"))
    region = f.variables.get("aws_region")
    if az_count is None or az_count < 1 or az_count > AZ_MAX:
        f.error("network_az_count", "range", "network_az_count must be a whole number from %d to %d" % (AZ_MIN, AZ_MAX), "set network_az_count to 2 or 3")
        az_count = None
    elif az_count < AZ_MIN:
        f.error(
            "network_az_count",
            "range",
            "an Application Load Balancer and an Aurora subnet group both need subnets in at least 2 AZs",
            "set network_az_count to 2 or more",
        )
        az_count = None
    elif region in REGION_AZ_COUNT and az_count > REGION_AZ_COUNT[region]:
        f.error(
            "network_az_count",
            "region_azs",
            "%s has %d availability zones, fewer than network_az_count=%d" % (region, REGION_AZ_COUNT[region], az_count),
            "set network_az_count to at most %d" % REGION_AZ_COUNT[region],
        )
    cidr = f.variables.get("network_vpc_cidr")
    if az_count:
        try:
            split_subnets(cidr, az_count)
            network = ipaddress.ip_network(cidr)
            if not any(network.subnet_of(r) for r in PRIVATE_RANGES):
                f.warning(
                    "network_vpc_cidr",
                    "cidr",
                    "%s is not in a private range (10/8, 172.16/12, 192.168/16, 100.64/10)" % cidr,
                    "use a private range such as 10.0.0.0/16",
                )
            check_alb_subnets(f, network, az_count)
            desired = as_int(f.variables.get("ecs_service_desired_count"))
            if desired:
                capacity = usable_addresses(subnet_prefix(network.prefixlen, az_count)) * az_count
                needed = 2 * desired + 2  # both colors during a rollout, the migrator's ENIs
                if capacity < needed:
                    f.error(
                        "network_vpc_cidr",
                        "subnet_capacity",
                        "the private subnets of %s hold %d task addresses, a rollout needs %d (2 colors x %d tasks + migrator)"
                        % (cidr, capacity, needed, desired),
                        "use a larger network_vpc_cidr or lower ecs_service_desired_count",
                    )
        except CidrError as e:
            f.error("network_vpc_cidr", "cidr", str(e), "use a private IPv4 block from /16 to /24, e.g. 10.0.0.0/16")
    # network_nat_gateways (choices) and the shape of the lists: the spec rule.
    check_endpoints(f, az_count)
    ingress = f.variables.get("network_ingress_cidrs")
    if not isinstance(ingress, list):
        return
    if not ingress:
        f.warning(
            "network_ingress_cidrs", "cidr", "network_ingress_cidrs is empty: nobody can reach the load balancer", "list the client CIDRs, e.g. [0.0.0.0/0]"
        )
    else:
        for block in ingress:
            try:
                if not isinstance(block, str) or "/" not in block:
                    raise ValueError("no /prefix")
                ipaddress.ip_network(block, strict=True)
            except ValueError as e:
                f.error(
                    "network_ingress_cidrs",
                    "cidr",
                    "%r is not a valid CIDR block (%s)" % (block, e),
                    "use network addresses with a prefix, e.g. 203.0.113.0/24",
                    value=block,
                    use_value=True,
                )


def nat_gateway_count(nat_gateways, az_count):
    """NAT gateways (one Elastic IP each) of the network role's layout, or None for bad inputs."""
    if nat_gateways == "single":
        return 1
    if nat_gateways == "per_az" and az_count:
        return az_count
    return None


def check_alb_subnets(f, network, az_count):
    """The ALB lives in the public subnets: each at least a /27 with 8 free addresses."""
    public_prefix = subnet_prefix(network.prefixlen, az_count)
    # A NAT gateway takes one address of the public subnet it sits in (per_az: of each).
    nat_in_subnet = 1 if f.variables.get("network_nat_gateways") in ("single", "per_az") else 0
    free = usable_addresses(public_prefix) - nat_in_subnet
    if public_prefix <= ALB_SUBNET_MAX_PREFIX and free >= ALB_FREE_ADDRESSES:
        return
    # The same layout function the network role uses: prefix bits added by the split.
    smallest = ALB_SUBNET_MAX_PREFIX - subnet_prefix(0, az_count)
    example = ipaddress.ip_network((str(network.network_address), smallest), strict=False)
    fewer = [n for n in range(AZ_MIN, az_count) if subnet_prefix(network.prefixlen, n) <= ALB_SUBNET_MAX_PREFIX]
    f.error(
        "network_vpc_cidr",
        "alb_subnet",
        "with %d AZs the VPC %s is cut into /%d subnets (%d usable addresses, %d free after the NAT gateway); an Application Load Balancer "
        "needs public subnets of at least /%d with at least %d free addresses, so creating the load balancer would fail"
        % (az_count, network, public_prefix, usable_addresses(public_prefix), free, ALB_SUBNET_MAX_PREFIX, ALB_FREE_ADDRESSES),
        "use a /%d or larger network_vpc_cidr (e.g. %s)%s" % (smallest, example, ", or network_az_count: %d" % fewer[-1] if fewer else ""),
    )


def check_endpoints(f, az_count):
    endpoints = f.variables.get("network_vpc_endpoints")
    if not isinstance(endpoints, list):
        return  # the spec rule
    seen = set()
    for service in endpoints:
        if service not in ENDPOINT_SERVICES:
            close = difflib.get_close_matches(str(service), ENDPOINT_SERVICES, n=1)
            f.error(
                "network_vpc_endpoints",
                "endpoints",
                "%r is not an endpoint service this collection knows%s" % (service, " (did you mean %s?)" % close[0] if close else ""),
                "use the short service name (s3, ecr.api, ecr.dkr, logs, secretsmanager ...) or remove it",
                value=service,
                use_value=True,
            )
        elif service in seen:
            f.error("network_vpc_endpoints", "endpoints", "%s is listed twice" % service, "list each service once", value=service, use_value=True)
        seen.add(service)
    interface = [s for s in endpoints if s in ENDPOINT_SERVICES and s not in cost_model.GATEWAY_ENDPOINT_SERVICES]
    if interface and az_count:
        each = cost_model.endpoint_monthly(az_count)
        f.warning(
            "network_vpc_endpoints",
            "endpoint_cost",
            "%d interface endpoint(s) (%s) cost $%.2f/month ($%.2f each across %d AZs); the NAT gateway already reaches these services"
            % (len(interface), ", ".join(interface), each * len(interface), each, az_count),
            "keep them only if traffic must not leave the VPC; s3 and dynamodb are free as gateway endpoints",
        )


def check_test_listener(f):
    """The test listener (the idle color): its port is one the load balancer's security group
    opens to it, and who may reach it is a list of valid CIDRs (none by default)."""
    port = as_int(f.variables.get("ecs_service_test_listener_port"))
    certificate = f.variables.get("ecs_service_certificate_arn") or ""
    if port is None or port < 0 or port > 65535:
        f.error("ecs_service_test_listener_port", "range", "ecs_service_test_listener_port must be 0 (automatic) or a TCP port", "set it to 0, 8080 or 8443")
        return
    if port in (80, 443):
        f.error(
            "ecs_service_test_listener_port",
            "test_listener",
            "port %d is the production listener's: the test listener needs a port of its own" % port,
            "set ecs_service_test_listener_port to 0 (8080, or 8443 with a certificate)",
        )
        return
    resolved = port or (8443 if certificate else 8080)
    opened = f.variables.get("network_test_listener_ports")
    if isinstance(opened, list) and resolved not in [as_int(item) for item in opened]:
        f.error(
            "ecs_service_test_listener_port",
            "test_listener",
            "the test listener would be on port %d but network_test_listener_ports opens %s: nothing could reach it" % (resolved, opened),
            "add %d to network_test_listener_ports (or change ecs_service_test_listener_port)" % resolved,
        )
    cidrs = f.variables.get("network_test_ingress_cidrs")
    for block in cidrs if isinstance(cidrs, list) else []:
        try:
            if not isinstance(block, str) or "/" not in block:
                raise ValueError("no /prefix")
            network = ipaddress.ip_network(block, strict=True)
        except ValueError as e:
            f.error(
                "network_test_ingress_cidrs",
                "cidr",
                "%r is not a valid CIDR block (%s)" % (block, e),
                "use network addresses with a prefix, e.g. 203.0.113.0/24",
                value=block,
                use_value=True,
            )
            continue
        if network.prefixlen == 0:
            f.warning(
                "network_test_ingress_cidrs",
                "test_listener",
                "%s opens the test listener, which serves the unreleased version, to the whole internet" % block,
                "list the testers' CIDRs only (the VPC and the migrator reach it without any)",
                value=block,
                use_value=True,
            )
