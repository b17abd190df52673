"""Every field the network plan compares (module_utils/network.py), each drifted alone on the
answers recorded after a deploy of inventories/local: the plan has exactly one change, naming
that resource, the action and only that field with its value before (as AWS has it) and after
(as wanted). The fields the other unit tests already drift this way are listed in
tests/unit/README.md; this file covers the rest."""

import copy
import json
from pathlib import Path

import pytest

from ansible_collections.bluegreen.migration.plugins.filter.network import subnet_plan
from ansible_collections.bluegreen.migration.plugins.module_utils import network
from ansible_collections.bluegreen.migration.plugins.module_utils.naming import resource_names, resource_tags

RECORDED = Path(__file__).parent / "recorded"


def recorded(name, key):
    return json.loads((RECORDED / f"{name}.json").read_text())[key]


# What inventories/local asks for (the deploy the answers were recorded from).
SUFFIX, REGION, EXTRA = "local", "us-east-1", {"owner": "local-demo"}
NAMES = resource_names(SUFFIX, REGION)
TAGS = resource_tags("network", SUFFIX, EXTRA)

VPCS = recorded("describe_vpc_igw", "Vpcs")
GATEWAYS = recorded("describe_vpc_igw", "InternetGateways")
IGW = GATEWAYS[0]["InternetGatewayId"]
NAT = recorded("describe_nat_gateways", "NatGateways")[0]["NatGatewayId"]
SUBNETS = recorded("describe_subnets", "Subnets")
TABLES = recorded("describe_route_tables", "RouteTables")
GROUPS = recorded("describe_security_groups", "SecurityGroups")
ENDPOINTS = recorded("describe_vpc_endpoints", "VpcEndpoints")

WANTED_VPC = {"name": NAMES["vpc"], "cidr": "10.0.0.0/16", "tags": TAGS}
IGW_TAGS = resource_tags("network", SUFFIX, EXTRA, NAMES["igw"])
LAYOUT = subnet_plan("10.0.0.0/16", ["us-east-1a", "us-east-1b", "us-east-1c"], SUFFIX)
SUBNET_IDS = network.subnet_ids(SUBNETS)
TIER_IDS = {tier: [SUBNET_IDS[s["cidr"]] for s in LAYOUT if s["tier"] == tier] for tier in ("public", "private", "isolated")}
NATS = [{"nat_gateway_id": NAT, "subnet_id": TIER_IDS["public"][0], "state": "available"}]
RT_NAMES = {"public": "rt-public-local", "private": ["rt-private-local"], "isolated": "rt-isolated-local"}
WANTED_TABLES = network.wanted_route_tables(RT_NAMES, TAGS, TIER_IDS, IGW, NATS)
SG = {g["GroupName"]: g["GroupId"] for g in GROUPS}
S3, SECRETS = "com.amazonaws.us-east-1.s3", "com.amazonaws.us-east-1.secretsmanager"


def group(key, rules, egress):
    name = NAMES["sg_" + key]
    return {"key": key, "name": name, "tags": resource_tags("network", SUFFIX, EXTRA, name), "rules": rules, "egress": egress}


WANTED_GROUPS = [
    group(
        "alb",
        [{"proto": "tcp", "ports": [80, 443], "cidr_ip": ["0.0.0.0/0"], "rule_desc": "HTTP(S) from allowed CIDRs"}],
        [{"proto": "tcp", "ports": ["80"], "group_id": SG["app-local"], "rule_desc": "to application tasks"}],
    ),
    group(
        "app",
        [{"proto": "tcp", "ports": ["80"], "group_id": SG["alb-local"], "rule_desc": "from the load balancer"}],
        [
            {"proto": "tcp", "ports": [443], "cidr_ip": "0.0.0.0/0", "rule_desc": "HTTPS to AWS APIs and the image registry"},
            {"proto": "tcp", "ports": ["5432"], "group_id": SG["db-local"], "rule_desc": "to the database"},
        ],
    ),
    group(
        "migrator",
        [],
        [
            {"proto": "tcp", "ports": [443], "cidr_ip": "0.0.0.0/0", "rule_desc": "HTTPS to Secrets Manager"},
            {"proto": "tcp", "ports": ["5432"], "group_id": SG["db-local"], "rule_desc": "to the database"},
        ],
    ),
    group(
        "db",
        [
            {"proto": "tcp", "ports": ["5432"], "group_id": SG["app-local"], "rule_desc": "from application tasks"},
            {"proto": "tcp", "ports": ["5432"], "group_id": SG["migrator-local"], "rule_desc": "from the migrator"},
        ],
        [],
    ),
]


def the_one_change(changes):
    assert len(changes) == 1, changes
    item = changes[0]
    return item["resource"], item["name"], item["action"], item["fields"]


def vpc_found(**changes):
    # The DNS settings as read_vpcs adds them from DescribeVpcAttribute (both on after a deploy).
    found = dict(copy.deepcopy(VPCS[0]), EnableDnsSupport=True, EnableDnsHostnames=True)
    found.update(changes)
    return found


def with_tag(tags, key, value):
    """A Tags list (boto3 shape) with one tag set to `value` (None: removed)."""
    kept = [t for t in tags if t["Key"] != key]
    return kept + ([{"Key": key, "Value": value}] if value is not None else [])


def test_the_recorded_answers_are_converged():
    assert network.plan_vpc(WANTED_VPC, [vpc_found()]) == ([], VPCS[0]["VpcId"], False)
    assert network.plan_internet_gateway(NAMES["igw"], IGW_TAGS, GATEWAYS) == ([], IGW, False)
    assert network.plan_route_tables(WANTED_TABLES, TABLES) == ([], [])
    assert network.plan_security_groups(WANTED_GROUPS, GROUPS) == ([], [])
    wanted = network.wanted_vpc_endpoints([S3], ["s3", "dynamodb"], SUFFIX, TAGS)
    tables = network.route_table_ids(TABLES)
    assert network.plan_vpc_endpoints(wanted, ENDPOINTS, {"route_table_ids": [tables["rt-private-local"], tables["rt-isolated-local"]]})[0] == []
    assert network.plan_nat_gateways(LAYOUT, "single", SUBNETS, NATS, SUFFIX) == ([], {"apply": [], "pending": [], "stale": []})


# --- VPC and internet gateway


def test_vpc_cidr_block_drift_is_the_one_change():
    changes, vpc_id, apply = network.plan_vpc(WANTED_VPC, [vpc_found(CidrBlock="10.1.0.0/16")])
    assert the_one_change(changes) == ("vpc", "vpc-local", "update", {"cidr_block": {"before": "10.1.0.0/16", "after": "10.0.0.0/16"}})
    assert apply and vpc_id == VPCS[0]["VpcId"]


def test_vpc_tag_value_changed_by_hand_is_the_one_change():
    found = vpc_found(Tags=with_tag(VPCS[0]["Tags"], "owner", "someone"))
    changes, dummy, apply = network.plan_vpc(WANTED_VPC, [found])
    before = dict(TAGS, Name="vpc-local", owner="someone")
    assert the_one_change(changes) == ("vpc", "vpc-local", "update", {"tags": {"before": before, "after": dict(TAGS, Name="vpc-local")}})
    assert apply


def test_internet_gateway_tag_drift_is_the_one_change():
    gateways = copy.deepcopy(GATEWAYS)
    gateways[0]["Tags"] = with_tag(gateways[0]["Tags"], "owner", None)
    changes, igw_id, apply = network.plan_internet_gateway(NAMES["igw"], IGW_TAGS, gateways)
    before = dict((k, v) for k, v in IGW_TAGS.items() if k != "owner")
    assert the_one_change(changes) == ("internet gateway", NAMES["igw"], "update", {"tags": {"before": before, "after": IGW_TAGS}})
    assert apply and igw_id == IGW


# --- route tables


def table_at(name):
    return next(i for i, t in enumerate(TABLES) if network.tags_of(t).get("Name") == name)


def routes_without_ours(name):
    return [r for r in TABLES[table_at(name)]["Routes"] if r.get("GatewayId") == "local"]


ROUTE_DRIFTS = {
    # The public table's default route deleted by hand.
    "route removed by hand": ("rt-public-local", routes_without_ours("rt-public-local"), [], ["0.0.0.0/0 -> " + IGW]),
    # The private table's default route pointed at the internet gateway instead of the NAT gateway.
    "route target changed by hand": (
        "rt-private-local",
        routes_without_ours("rt-private-local") + [{"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": IGW}],
        ["0.0.0.0/0 -> " + IGW],
        ["0.0.0.0/0 -> " + NAT],
    ),
    # A route to a peering connection added by hand (its target is no gateway the plan names).
    "peering route added by hand": (
        "rt-isolated-local",
        TABLES[table_at("rt-isolated-local")]["Routes"] + [{"DestinationCidrBlock": "172.16.0.0/16", "VpcPeeringConnectionId": "pcx-0123456789abcdef0"}],
        ["172.16.0.0/16 -> "],
        [],
    ),
}


@pytest.mark.parametrize("drift", sorted(ROUTE_DRIFTS))
def test_one_route_drift_is_the_one_change(drift):
    name, routes, before, after = ROUTE_DRIFTS[drift]
    found = copy.deepcopy(TABLES)
    found[table_at(name)]["Routes"] = routes
    changes, to_apply = network.plan_route_tables(WANTED_TABLES, found)
    assert the_one_change(changes) == ("route table", name, "update", {"routes": {"before": before, "after": after}})
    assert [t["route_table_id"] for t in to_apply] == [TABLES[table_at(name)]["RouteTableId"]]


def test_a_subnet_associated_by_hand_with_the_isolated_table_is_the_one_change():
    found = copy.deepcopy(TABLES)
    at = table_at("rt-isolated-local")
    found[at]["Associations"].append({"Main": False, "RouteTableId": TABLES[at]["RouteTableId"], "SubnetId": "subnet-0byhand"})
    changes = network.plan_route_tables(WANTED_TABLES, found)[0]
    fields = {"subnets": {"before": sorted(TIER_IDS["isolated"] + ["subnet-0byhand"]), "after": sorted(TIER_IDS["isolated"])}}
    assert the_one_change(changes) == ("route table", "rt-isolated-local", "update", fields)


def test_a_route_table_tag_value_changed_by_hand_is_the_one_change():
    found = copy.deepcopy(TABLES)
    at = table_at("rt-private-local")
    found[at]["Tags"] = with_tag(found[at]["Tags"], "bluegreen:tier", "public")
    wanted = WANTED_TABLES[1]["tags"]
    fields = {"tags": {"before": dict(wanted, **{"bluegreen:tier": "public"}), "after": wanted}}
    assert the_one_change(network.plan_route_tables(WANTED_TABLES, found)[0]) == ("route table", "rt-private-local", "update", fields)


# --- security groups


def rule(proto, low, high, peer, desc=""):
    return "%s %s-%s %s%s" % (proto, low, high, peer, " (%s)" % desc if desc else "")


def drop_peer(permissions, port, group_id):
    found = copy.deepcopy(permissions)
    for permission in found:
        if permission.get("FromPort") == port:
            permission["UserIdGroupPairs"] = [p for p in permission["UserIdGroupPairs"] if p["GroupId"] != group_id]
    return [p for p in found if p["IpRanges"] or p["UserIdGroupPairs"]]


def edit_permission(permissions, port, **fields):
    found = copy.deepcopy(permissions)
    for permission in found:
        if permission.get("FromPort") == port:
            permission.update(fields)
    return found


def group_of(name):
    return next(g for g in GROUPS if g["GroupName"] == name)


APP_DB = rule("tcp", 5432, 5432, SG["app-local"], "from application tasks")
MIGRATOR_DB = rule("tcp", 5432, 5432, SG["migrator-local"], "from the migrator")
TO_DB = rule("tcp", 5432, 5432, SG["db-local"], "to the database")
SECRETS_OUT = rule("tcp", 443, 443, "0.0.0.0/0", "HTTPS to Secrets Manager")
APIS_OUT = rule("tcp", 443, 443, "0.0.0.0/0", "HTTPS to AWS APIs and the image registry")
FROM_ALB = rule("tcp", 80, 80, SG["alb-local"], "from the load balancer")
HTTPS_IN = rule("tcp", 443, 443, "0.0.0.0/0", "HTTP(S) from allowed CIDRs")
HTTP_IN = rule("tcp", 80, 80, "0.0.0.0/0", "HTTP(S) from allowed CIDRs")
OPEN_EGRESS = {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}], "Ipv6Ranges": [], "PrefixListIds": [], "UserIdGroupPairs": []}

# drift -> (group, AWS key, its drifted value, planned field, before, after)
GROUP_DRIFTS = {
    "ingress rule removed by hand": (
        "db-local",
        "IpPermissions",
        drop_peer(group_of("db-local")["IpPermissions"], 5432, SG["migrator-local"]),
        "ingress",
        [APP_DB],
        [APP_DB, MIGRATOR_DB],
    ),
    "ingress port changed by hand": (
        "app-local",
        "IpPermissions",
        edit_permission(group_of("app-local")["IpPermissions"], 80, FromPort=8080, ToPort=8080),
        "ingress",
        [rule("tcp", 8080, 8080, SG["alb-local"], "from the load balancer")],
        [FROM_ALB],
    ),
    "ingress CIDR narrowed by hand": (
        "alb-local",
        "IpPermissions",
        edit_permission(group_of("alb-local")["IpPermissions"], 443, IpRanges=[{"CidrIp": "203.0.113.0/24", "Description": "HTTP(S) from allowed CIDRs"}]),
        "ingress",
        [rule("tcp", 443, 443, "203.0.113.0/24", "HTTP(S) from allowed CIDRs"), HTTP_IN],
        [HTTPS_IN, HTTP_IN],
    ),
    "ingress protocol changed by hand": (
        "app-local",
        "IpPermissions",
        edit_permission(group_of("app-local")["IpPermissions"], 80, IpProtocol="udp"),
        "ingress",
        [rule("udp", 80, 80, SG["alb-local"], "from the load balancer")],
        [FROM_ALB],
    ),
    "egress rule removed by hand": (
        "migrator-local",
        "IpPermissionsEgress",
        [p for p in group_of("migrator-local")["IpPermissionsEgress"] if p["FromPort"] != 443],
        "egress",
        [TO_DB],
        [SECRETS_OUT, TO_DB],
    ),
    "egress rule added by hand (all traffic)": ("db-local", "IpPermissionsEgress", [OPEN_EGRESS], "egress", [rule("-1", None, None, "0.0.0.0/0")], []),
    "egress description changed by hand": (
        "app-local",
        "IpPermissionsEgress",
        edit_permission(group_of("app-local")["IpPermissionsEgress"], 443, IpRanges=[{"CidrIp": "0.0.0.0/0", "Description": "changed"}]),
        "egress",
        [rule("tcp", 443, 443, "0.0.0.0/0", "changed"), TO_DB],
        [APIS_OUT, TO_DB],
    ),
    "group tag value changed by hand": (
        "alb-local",
        "Tags",
        with_tag(group_of("alb-local")["Tags"], "owner", "someone"),
        "tags",
        dict(resource_tags("network", SUFFIX, EXTRA, "alb-local"), owner="someone"),
        resource_tags("network", SUFFIX, EXTRA, "alb-local"),
    ),
}


@pytest.mark.parametrize("drift", sorted(GROUP_DRIFTS))
def test_one_security_group_drift_is_the_one_change(drift):
    name, key, value, planned, before, after = GROUP_DRIFTS[drift]
    found = copy.deepcopy(GROUPS)
    next(g for g in found if g["GroupName"] == name)[key] = value
    changes, to_apply = network.plan_security_groups(WANTED_GROUPS, found)
    assert the_one_change(changes) == ("security group", name, "update", {planned: {"before": before, "after": after}})
    assert [g["name"] for g in to_apply] == [name]


# --- NAT gateways and VPC endpoints


def test_the_nat_gateway_deleted_by_hand_is_the_one_change():
    changes, plan = network.plan_nat_gateways(LAYOUT, "single", SUBNETS, [], SUFFIX)
    # The gateway, with the elastic IP allocated for it.
    nat, eip = changes
    fields = {"subnet": {"before": None, "after": "public-a-local"}, "elastic_ip": {"before": None, "after": "eip-nat-a-local"}}
    assert the_one_change([nat]) == ("nat gateway", "nat-a-local", "create", fields)
    assert the_one_change([eip]) == ("elastic ip", "eip-nat-a-local", "create", {"nat_gateway": {"before": None, "after": "nat-a-local"}})
    assert [s["name"] for s in plan["apply"]] == ["public-a-local"] and plan["stale"] == []


def test_a_listed_endpoint_deleted_by_hand_is_planned_for_creation():
    wanted = network.wanted_vpc_endpoints([S3], ["s3", "dynamodb"], SUFFIX, TAGS)
    changes, plan = network.plan_vpc_endpoints(wanted, [], {})
    assert plan["stale"] == [] and plan["create"] == wanted
    resource, dummy, action, fields = the_one_change(changes)
    assert (resource, action, fields) == ("vpc endpoint", "create", {
        "service_name": {"before": None, "after": S3}, "type": {"before": None, "after": "Gateway"},
        "policy": {"before": None, "after": network.FULL_ACCESS}, "tags": {"before": None, "after": wanted[0]["tags"]}})
