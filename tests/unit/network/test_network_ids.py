"""The network role's ids after its writers (module_utils/network.py, filter/network.py): those the
plan read merged with those the writers answered, in the shapes the role's tasks and its fact use."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.bluegreen.migration.plugins.filter.network import FilterModule, subnet_plan

FILTERS = FilterModule().filters()
LAYOUT = subnet_plan("10.0.0.0/16", ["us-east-1a", "us-east-1b"], "dev")
CIDR = {(s["tier"], s["az"][-1]): s["cidr"] for s in LAYOUT}
NAMES = {"public": "rt-public-dev", "private": ["rt-private-a-dev", "rt-private-b-dev"], "isolated": "rt-isolated-dev"}


def job(item, **answer):
    """An async_status result of a background job started for `item`."""
    return dict({"finished": 1, "item": {"ansible_job_id": "j", "item": item}}, **answer)


def test_subnet_ids_are_those_read_then_those_created_per_tier_in_az_order():
    known = {CIDR["public", "a"]: "subnet-pa", CIDR["private", "b"]: "subnet-pb"}
    written = [
        {"item": {"cidr": CIDR["public", "b"]}, "subnet": {"id": "subnet-new-pb"}},
        {"item": {"cidr": CIDR["private", "a"]}, "subnet": {"id": "subnet-new-va"}},
        # A drifted subnet fixed by the writer keeps its id; check mode answers without one.
        {"item": {"cidr": CIDR["private", "b"]}, "subnet": {"id": "subnet-pb"}},
        {"item": {"cidr": CIDR["isolated", "a"]}, "changed": True},
    ]
    ids = FILTERS["network_subnet_ids"](LAYOUT, known, written)
    assert ids == {"public": ["subnet-pa", "subnet-new-pb"], "private": ["subnet-new-va", "subnet-pb"], "isolated": [None, None]}


def test_subnets_created_but_not_listed_yet_are_listed_again_then_indexed():
    """amazon.aws.ec2_vpc_subnet reads a new subnet back by filter: when EC2 does not list it yet
    it answers `subnet: null`. Those CIDRs are listed again (ec2_vpc_subnet_info) and indexed."""
    written = [
        {"item": {"cidr": CIDR["public", "a"]}, "changed": True, "subnet": {"id": "subnet-pa"}},
        {"item": {"cidr": CIDR["public", "b"]}, "changed": True, "subnet": None},
        {"item": {"cidr": CIDR["private", "a"]}, "changed": True, "subnet": {}},
        # a drifted subnet's fix that answered nothing is not a creation to look for
        {"item": {"cidr": CIDR["isolated", "a"]}, "changed": False, "subnet": None},
    ]
    unlisted = FILTERS["network_subnets_unlisted"](written)
    assert unlisted == [CIDR["public", "b"], CIDR["private", "a"]]
    listed = [{"cidr_block": CIDR["private", "a"], "subnet_id": "subnet-va"}, {"cidr_block": CIDR["public", "b"], "subnet_id": "subnet-pb"}]
    ids = FILTERS["network_subnet_ids"](LAYOUT, {CIDR["isolated", "a"]: "subnet-ia"}, written, listed)
    assert ids == {"public": ["subnet-pa", "subnet-pb"], "private": ["subnet-va", None], "isolated": ["subnet-ia", None]}
    assert FILTERS["network_subnets_unlisted"]([]) == []


def test_a_rerun_indexes_the_subnets_read_alone():
    known = {s["cidr"]: "subnet-" + s["name"] for s in LAYOUT}
    assert FILTERS["network_subnet_ids"](LAYOUT, known, [])["isolated"] == ["subnet-isolated-a-dev", "subnet-isolated-b-dev"]


def test_security_group_ids_are_those_read_then_those_created():
    created = [job({"key": "db", "name": "db-dev"}, group_id="sg-db"), job({"key": "app", "name": "app-dev"}, group_id="sg-app2")]
    assert FILTERS["network_security_group_ids"]({"alb": "sg-alb", "app": "sg-app"}, created) == {"alb": "sg-alb", "app": "sg-app2", "db": "sg-db"}
    assert FILTERS["network_security_group_ids"]({"alb": "sg-alb"}, []) == {"alb": "sg-alb"}


def test_route_table_ids_by_name_and_tier_pass_over_other_jobs():
    applied = [
        job({"tags": {"Name": "rt-private-b-dev"}}, route_table={"id": "rtb-pb"}),
        # A security group rules' job collected in the same loop.
        job({"key": "app", "name": "app-dev"}, group_id="sg-app"),
    ]
    ids = FILTERS["network_route_table_ids"](NAMES, {"rt-public-dev": "rtb-pub", "rt-private-dev": "rtb-single"}, applied)
    assert ids == {
        "by_name": {"rt-public-dev": "rtb-pub", "rt-private-dev": "rtb-single", "rt-private-b-dev": "rtb-pb"},
        "public": "rtb-pub",
        "private": ["rtb-pb"],
        "isolated": None,
    }


def test_an_unexpected_input_names_the_filter():
    with pytest.raises(AnsibleFilterError, match="network_security_group_ids"):
        FILTERS["network_security_group_ids"]({}, [{"group_id": "sg-1"}])


HELD = [
    {"route_table": "rt-private-a-dev", "dest": "0.0.0.0/0", "nat_gateway_id": "nat-a"},
    {"route_table": "rt-private-b-dev", "dest": "0.0.0.0/0", "nat_gateway_id": "nat-b"},
]


def test_held_nat_routes_get_their_tables_ids():
    routes = FILTERS["network_nat_routes"](HELD, {"rt-private-a-dev": "rtb-a", "rt-private-b-dev": "rtb-b", "rt-public-dev": "rtb-pub"})
    assert [(r["route_table_id"], r["route_table"], r["dest"], r["nat_gateway_id"]) for r in routes] == [
        ("rtb-a", "rt-private-a-dev", "0.0.0.0/0", "nat-a"),
        ("rtb-b", "rt-private-b-dev", "0.0.0.0/0", "nat-b"),
    ]


def test_a_held_route_whose_table_has_no_id_names_the_table_before_any_write():
    with pytest.raises(AnsibleFilterError, match=r"network_nat_routes: no id is known for route table\(s\) rt-private-b-dev:"):
        FILTERS["network_nat_routes"](HELD, {"rt-private-a-dev": "rtb-a", "rt-private-b-dev": None})


def test_in_check_mode_a_table_still_to_create_leaves_its_routes_without_id():
    routes = FILTERS["network_nat_routes"](HELD, {"rt-private-a-dev": "rtb-a"}, True)
    assert [r["route_table_id"] for r in routes] == ["rtb-a", None]


def test_held_nat_routes_of_an_unexpected_shape_name_the_filter():
    with pytest.raises(AnsibleFilterError, match="network_nat_routes: unexpected input"):
        FILTERS["network_nat_routes"]([{"dest": "0.0.0.0/0"}], {})
