"""split_subnets: the one CIDR layout shared by preflight and the network role."""

import ipaddress

import pytest

from ansible_collections.bluegreen.migration.plugins.module_utils.cidr import (
    CidrError,
    largest_vpc_prefix,
    slice_count,
    split_subnets,
)


@pytest.mark.parametrize(
    "vpc, azs, public, private, isolated",
    [
        (
            "10.0.0.0/16",
            3,
            ["10.0.0.0/20", "10.0.16.0/20", "10.0.32.0/20"],
            ["10.0.48.0/20", "10.0.64.0/20", "10.0.80.0/20"],
            ["10.0.96.0/20", "10.0.112.0/20", "10.0.128.0/20"],
        ),
        # 6 subnets -> 8 slices of /19
        ("10.1.0.0/16", 2, ["10.1.0.0/19", "10.1.32.0/19"], ["10.1.64.0/19", "10.1.96.0/19"], ["10.1.128.0/19", "10.1.160.0/19"]),
        # 18 subnets -> 32 slices; a /23 gives the smallest allowed subnets, /28
        ("192.168.4.0/23", 6, None, None, None),
        # 3 subnets -> 4 slices of /26 (one AZ: the layout itself allows it; preflight asks for 2)
        ("172.16.0.0/24", 1, ["172.16.0.0/26"], ["172.16.0.64/26"], ["172.16.0.128/26"]),
    ],
)
def test_tier_major_layout(vpc, azs, public, private, isolated):
    plan = split_subnets(vpc, azs)
    assert set(plan) == {"public", "private", "isolated"}
    if public is not None:
        assert (plan["public"], plan["private"], plan["isolated"]) == (public, private, isolated)
    every = [ipaddress.ip_network(c) for tier in ("public", "private", "isolated") for c in plan[tier]]
    assert len(every) == 3 * azs
    # equal, disjoint, inside the VPC, in address order (tier-major)
    assert len({n.prefixlen for n in every}) == 1
    assert all(n.subnet_of(ipaddress.ip_network(vpc)) for n in every)
    assert every == sorted(every)
    assert all(not a.overlaps(b) for i, a in enumerate(every) for b in every[i + 1 :])
    assert every[0].prefixlen <= 28


def test_slice_counts_and_largest_prefix():
    assert [slice_count(n) for n in range(1, 7)] == [4, 8, 16, 16, 16, 32]
    assert largest_vpc_prefix(3) == 24 and largest_vpc_prefix(6) == 23 and largest_vpc_prefix(2) == 25


@pytest.mark.parametrize(
    "vpc, azs, words",
    [
        ("10.0.0.0/24", 6, ["too small", "/23"]),
        ("10.0.0.0/25", 3, ["too small", "/24"]),
        ("10.0.0.1/16", 3, ["host bits", "10.0.0.0/16"]),
        ("10.0.0.0/8", 3, ["between /16 and /28"]),
        ("10.0.0.0", 3, ["not a CIDR"]),
        ("10.0.0.0/33", 3, ["not a valid CIDR"]),
        ("fd00::/56", 3, ["IPv4"]),
        ("10.0.0.0/16", 0, ["positive integer"]),
        ("10.0.0.0/16", True, ["positive integer"]),
        (None, 3, ["not a CIDR"]),
    ],
)
def test_rejects_with_reason(vpc, azs, words):
    with pytest.raises(CidrError) as err:
        split_subnets(vpc, azs)
    assert isinstance(err.value, ValueError)  # the subnet_plan filter catches ValueError
    for word in words:
        assert word in str(err.value)
