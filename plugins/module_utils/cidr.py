# -*- coding: utf-8 -*-
# Copyright: bluegreen.migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""How an environment's VPC CIDR is cut into subnets (one place, used by preflight and
by the network role through the `subnet_plan` filter).

The VPC is split into equal subnets, tier-major: the public subnets of AZ a, b, c first,
then the private ones, then the isolated ones. The number of slices is the next power of
two at or above 3 x AZ count, so a /16 over 3 AZs gives 16 slices of /20 (9 used, 7 left
for later growth), and each slice must be at least a /28, the smallest subnet AWS allows.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress

TIERS = ("public", "private", "isolated")
VPC_MIN_PREFIX = 16  # largest VPC AWS allows
SUBNET_MAX_PREFIX = 28  # smallest subnet AWS allows
AWS_RESERVED_PER_SUBNET = 5  # network, router, DNS, future use, broadcast


class CidrError(ValueError):
    """A CIDR that cannot hold the environment's subnets; the message says why and what fits."""


def parse_network(value, strict=True):
    """An ipaddress network from a 'a.b.c.d/n' string or a CidrError that says what is wrong.

    strict: host bits set (10.0.0.1/16) is an error naming the network address to use.
    """
    if not isinstance(value, str) or "/" not in value:
        raise CidrError("%r is not a CIDR block like 10.0.0.0/16" % (value,))
    try:
        relaxed = ipaddress.ip_network(value.strip(), strict=False)
    except ValueError as e:
        raise CidrError("%r is not a valid CIDR block: %s" % (value, e)) from None
    if strict and str(relaxed.network_address) != value.strip().split("/", 1)[0]:
        try:
            ipaddress.ip_network(value.strip(), strict=True)
        except ValueError:
            raise CidrError("%r has host bits set; the network address is %s" % (value, relaxed)) from None
    return relaxed


def slice_count(az_count):
    """How many equal slices the VPC is cut into: next power of two >= 3 x az_count."""
    needed = len(TIERS) * az_count
    count = 1
    while count < needed:
        count *= 2
    return count


def subnet_prefix(vpc_prefix, az_count):
    """Prefix length of every subnet for a VPC of /vpc_prefix over az_count AZs."""
    return vpc_prefix + (slice_count(az_count) - 1).bit_length()


def largest_vpc_prefix(az_count):
    """The longest VPC prefix (smallest VPC) that still gives az_count AZs /28 subnets."""
    return SUBNET_MAX_PREFIX - (slice_count(az_count) - 1).bit_length()


def usable_addresses(prefix):
    """Addresses left for ENIs in one subnet of /prefix once AWS has taken its five."""
    return 2 ** (32 - prefix) - AWS_RESERVED_PER_SUBNET


def split_subnets(vpc_cidr, az_count):
    """{public: [cidr per AZ], private: [...], isolated: [...]} or a CidrError."""
    if isinstance(az_count, bool) or not isinstance(az_count, int) or az_count < 1:
        raise CidrError("the AZ count must be a positive integer, got %r" % (az_count,))
    network = parse_network(vpc_cidr)
    if network.version != 4:
        raise CidrError("%s is not an IPv4 block; a VPC's primary CIDR is IPv4" % network)
    if network.prefixlen < VPC_MIN_PREFIX or network.prefixlen > SUBNET_MAX_PREFIX:
        raise CidrError("%s: a VPC CIDR must be between /%d and /%d" % (network, VPC_MIN_PREFIX, SUBNET_MAX_PREFIX))
    new_prefix = subnet_prefix(network.prefixlen, az_count)
    if new_prefix > SUBNET_MAX_PREFIX:
        raise CidrError(
            "%s is too small for %d subnets (3 tiers x %d AZs): each would be a /%d, the smallest AWS allows is /%d; "
            "use a /%d or larger" % (network, len(TIERS) * az_count, az_count, new_prefix, SUBNET_MAX_PREFIX, largest_vpc_prefix(az_count))
        )
    slices = list(network.subnets(new_prefix=new_prefix))
    return dict((tier, [str(s) for s in slices[i * az_count : (i + 1) * az_count]]) for i, tier in enumerate(TIERS))
