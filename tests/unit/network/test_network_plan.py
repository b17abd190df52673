"""The network role's plan (module_utils/network.py) on answers recorded from DescribeSubnets,
DescribeRouteTables and DescribeSecurityGroups after a deploy of inventories/local: nothing
planned for the deployed state, exactly the drifted field when one thing differs, and the
entries the writers are asked to run for."""

import copy
import datetime
import json
from pathlib import Path

import pytest

from ansible_collections.bluegreen.migration.plugins.filter.network import subnet_plan
from ansible_collections.bluegreen.migration.plugins.module_utils import naming, network
from ansible_collections.bluegreen.migration.plugins.module_utils.naming import resource_names, resource_tags

RECORDED = Path(__file__).parent / "recorded"


def recorded(name, key):
    return json.loads((RECORDED / f"{name}.json").read_text())[key]


SUBNETS = recorded("describe_subnets", "Subnets")
TABLES = recorded("describe_route_tables", "RouteTables")
GROUPS = recorded("describe_security_groups", "SecurityGroups")
NAT = recorded("describe_nat_gateways", "NatGateways")[0]["NatGatewayId"]
IGW = recorded("describe_vpc_igw", "InternetGateways")[0]["InternetGatewayId"]

# What inventories/local asks for (the deploy these answers were recorded from).
SUFFIX, REGION, EXTRA = "local", "us-east-1", {"owner": "local-demo"}
NAMES = resource_names(SUFFIX, REGION)
TAGS = resource_tags("network", SUFFIX, EXTRA)
LAYOUT = subnet_plan("10.0.0.0/16", ["us-east-1a", "us-east-1b", "us-east-1c"], SUFFIX)
WANTED_SUBNETS = [dict(s, tags=dict(TAGS, Name=s["name"], **{"bluegreen:tier": s["tier"]})) for s in LAYOUT]
SUBNET_IDS = network.subnet_ids(SUBNETS)


def tier_ids(tier):
    return [SUBNET_IDS[s["cidr"]] for s in LAYOUT if s["tier"] == tier]


def table(name, tier, subnets, routes):
    return {"tags": dict(TAGS, Name=name, **{"bluegreen:tier": tier}), "subnets": subnets, "routes": routes}


WANTED_TABLES = [
    table("rt-public-local", "public", tier_ids("public"), [{"dest": "0.0.0.0/0", "gateway_id": IGW}]),
    table("rt-private-local", "private", tier_ids("private"), [{"dest": "0.0.0.0/0", "nat_gateway_id": NAT}]),
    table("rt-isolated-local", "isolated", tier_ids("isolated"), []),
]
SG = {g["GroupName"]: g["GroupId"] for g in GROUPS}


def group(key, rules, egress):
    name = NAMES["sg_" + key]
    return {"key": key, "name": name, "tags": resource_tags("network", SUFFIX, EXTRA, name), "rules": rules, "egress": egress}


WANTED_GROUPS = [
    group("alb", [{"proto": "tcp", "ports": [80, 443], "cidr_ip": ["0.0.0.0/0"], "rule_desc": "HTTP(S) from allowed CIDRs"}],
          [{"proto": "tcp", "ports": ["80"], "group_id": SG["app-local"], "rule_desc": "to application tasks"}]),
    group("app", [{"proto": "tcp", "ports": ["80"], "group_id": SG["alb-local"], "rule_desc": "from the load balancer"}],
          [{"proto": "tcp", "ports": [443], "cidr_ip": "0.0.0.0/0", "rule_desc": "HTTPS to AWS APIs and the image registry"},
           {"proto": "tcp", "ports": ["5432"], "group_id": SG["db-local"], "rule_desc": "to the database"}]),
    group("migrator", [],
          [{"proto": "tcp", "ports": [443], "cidr_ip": "0.0.0.0/0", "rule_desc": "HTTPS to Secrets Manager"},
           {"proto": "tcp", "ports": ["5432"], "group_id": SG["db-local"], "rule_desc": "to the database"}]),
    group("db", [{"proto": "tcp", "ports": ["5432"], "group_id": SG["app-local"], "rule_desc": "from application tasks"},
                 {"proto": "tcp", "ports": ["5432"], "group_id": SG["migrator-local"], "rule_desc": "from the migrator"}], []),
]


def only(changes):
    assert len(changes) == 1, changes
    return changes[0]


def edited(items, index, **fields):
    found = copy.deepcopy(items)
    found[index].update(fields)
    return found


def index_of(items, key, value):
    return next(i for i, item in enumerate(items) if item[key] == value)


# --- subnets


def test_the_deployed_subnets_are_what_the_role_wants():
    assert network.plan_subnets(WANTED_SUBNETS, SUBNETS) == ([], [])
    assert sorted(SUBNET_IDS) == sorted(s["cidr"] for s in LAYOUT)


def test_no_subnets_plans_every_one():
    changes, to_apply = network.plan_subnets(WANTED_SUBNETS, [])
    assert [c["action"] for c in changes] == ["create"] * 9 and to_apply == WANTED_SUBNETS


def test_public_ip_mapping_turned_on_by_hand_is_planned_back():
    at = index_of(SUBNETS, "CidrBlock", LAYOUT[0]["cidr"])
    change = only(network.plan_subnets(WANTED_SUBNETS, edited(SUBNETS, at, MapPublicIpOnLaunch=True))[0])
    assert (change["name"], change["action"], change["fields"]) == ("public-a-local", "update", {"map_public_ip_on_launch": {"before": True, "after": False}})
    assert network.plan_subnets(WANTED_SUBNETS, edited(SUBNETS, at, MapPublicIpOnLaunch=True))[1] == [WANTED_SUBNETS[0]]


def test_a_subnet_tag_changed_by_hand_is_planned_back():
    at = index_of(SUBNETS, "CidrBlock", LAYOUT[4]["cidr"])
    tags = [t for t in SUBNETS[at]["Tags"] if t["Key"] != "bluegreen:tier"] + [{"Key": "bluegreen:tier", "Value": "public"}]
    change = only(network.plan_subnets(WANTED_SUBNETS, edited(SUBNETS, at, Tags=tags))[0])
    assert change["name"] == LAYOUT[4]["name"] and change["fields"]["tags"]["before"]["bluegreen:tier"] == "public"
    assert change["fields"]["tags"]["after"]["bluegreen:tier"] == LAYOUT[4]["tier"]


def test_a_subnet_in_another_az_is_a_replace_not_applied():
    at = index_of(SUBNETS, "CidrBlock", LAYOUT[1]["cidr"])
    changes, to_apply = network.plan_subnets(WANTED_SUBNETS, edited(SUBNETS, at, AvailabilityZone="us-east-1d"))
    assert only(changes)["action"] == "replace" and only(changes)["fields"] == {"availability_zone": {"before": "us-east-1d", "after": "us-east-1b"}}
    assert to_apply == []


# --- route tables


def test_the_deployed_route_tables_are_what_the_role_wants():
    assert network.plan_route_tables(WANTED_TABLES, TABLES) == ([], [])


def test_a_route_added_by_hand_is_planned_away():
    at = next(i for i, t in enumerate(TABLES) if network.tags_of(t).get("Name") == "rt-isolated-local")
    routes = TABLES[at]["Routes"] + [{"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": IGW, "State": "active"}]
    changes, to_apply = network.plan_route_tables(WANTED_TABLES, edited(TABLES, at, Routes=routes))
    assert only(changes)["fields"] == {"routes": {"before": ["0.0.0.0/0 -> " + IGW], "after": []}}
    # fixed by its id, whatever its tags
    assert to_apply == [dict(WANTED_TABLES[2], route_table_id=TABLES[at]["RouteTableId"])]


def test_a_subnet_moved_to_another_table_is_planned_back():
    public = next(i for i, t in enumerate(TABLES) if network.tags_of(t).get("Name") == "rt-public-local")
    kept = TABLES[public]["Associations"][1:]
    change = only(network.plan_route_tables(WANTED_TABLES, edited(TABLES, public, Associations=kept))[0])
    assert change["name"] == "rt-public-local" and change["fields"]["subnets"]["after"] == sorted(tier_ids("public"))
    assert len(change["fields"]["subnets"]["before"]) == 2


def test_a_subnet_taken_from_another_table_is_listed_as_moved():
    # A private subnet associated by hand with the public table: the private table's entry
    # names it (amazon.aws only disassociates such a subnet, the role then runs it again).
    public = next(i for i, t in enumerate(TABLES) if network.tags_of(t).get("Name") == "rt-public-local")
    private = next(i for i, t in enumerate(TABLES) if network.tags_of(t).get("Name") == "rt-private-local")
    taken = TABLES[private]["Associations"][0]
    found = edited(TABLES, private, Associations=TABLES[private]["Associations"][1:])
    found = edited(found, public, Associations=TABLES[public]["Associations"] + [dict(taken, RouteTableId=TABLES[public]["RouteTableId"])])
    to_apply = dict((t["tags"]["Name"], t) for t in network.plan_route_tables(WANTED_TABLES, found)[1])
    assert to_apply["rt-private-local"]["subnets_moved"] == [taken["SubnetId"]]
    # the table the subnet leaves only drops it
    assert "subnets_moved" not in to_apply["rt-public-local"]


def test_a_new_table_taking_associated_subnets_lists_them_as_moved():
    # per_az after single: each new per-AZ table takes its subnet from rt-private-local.
    per_az = [table("rt-private-%s-local" % zone, "private", [subnet], [{"dest": "0.0.0.0/0", "nat_gateway_id": NAT}])
              for zone, subnet in zip("abc", tier_ids("private"), strict=True)]
    to_apply = network.plan_route_tables(per_az, TABLES)[1]
    assert [t["subnets_moved"] for t in to_apply] == [[s] for s in tier_ids("private")]
    # a new table whose subnets are on no table (a first deploy) moves nothing
    bare = [t for t in TABLES if network.tags_of(t).get("Name") != "rt-private-local"]
    assert all("subnets_moved" not in t for t in network.plan_route_tables(per_az, bare)[1])


def test_the_local_and_endpoint_routes_are_aws_own():
    private = next(i for i, t in enumerate(TABLES) if network.tags_of(t).get("Name") == "rt-private-local")
    routes = TABLES[private]["Routes"] + [{"DestinationPrefixListId": "pl-63a5400a", "GatewayId": "vpce-0123456789abcdef0"}]
    assert network.plan_route_tables(WANTED_TABLES, edited(TABLES, private, Routes=routes)) == ([], [])


def test_a_missing_table_is_created_and_a_deferred_tier_waits():
    others = [t for t in TABLES if network.tags_of(t).get("Name") != "rt-private-local"]
    changes, to_apply = network.plan_route_tables(WANTED_TABLES, others, deferred_tiers=["private"])
    change = only(changes)
    assert (change["name"], change["action"]) == ("rt-private-local", "create")
    assert change["fields"]["routes"] == {"before": None, "after": ["0.0.0.0/0 -> " + NAT]}
    assert "once the NAT gateway is available" in change["reason"] and to_apply == []
    assert network.plan_route_tables(WANTED_TABLES, others)[1] == [WANTED_TABLES[1]]


def test_two_tables_of_one_name_are_a_change():
    public = next(t for t in TABLES if network.tags_of(t).get("Name") == "rt-public-local")
    change = only(network.plan_route_tables(WANTED_TABLES, TABLES + [dict(public, RouteTableId="rtb-0000000000000000a")])[0])
    assert change["reason"].startswith("2 route tables carry this name")
    assert network.plan_route_tables(WANTED_TABLES, TABLES + [dict(public, RouteTableId="rtb-0000000000000000a")])[1] == []


def test_a_route_table_tag_removed_by_hand_is_planned_back():
    at = next(i for i, t in enumerate(TABLES) if network.tags_of(t).get("Name") == "rt-public-local")
    tags = [t for t in TABLES[at]["Tags"] if t["Key"] != "owner"]
    change = only(network.plan_route_tables(WANTED_TABLES, edited(TABLES, at, Tags=tags))[0])
    assert change["fields"]["tags"]["after"]["owner"] == "local-demo" and "owner" not in change["fields"]["tags"]["before"]


# --- security groups


def test_the_deployed_groups_have_exactly_the_wanted_rules():
    assert network.plan_security_groups(WANTED_GROUPS, GROUPS) == ([], [])


def test_an_ingress_rule_added_by_hand_is_planned_away():
    at = index_of(GROUPS, "GroupName", "app-local")
    ssh = {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
    changes, to_apply = network.plan_security_groups(WANTED_GROUPS, edited(GROUPS, at, IpPermissions=GROUPS[at]["IpPermissions"] + [ssh]))
    change = only(changes)
    assert change["name"] == "app-local" and set(change["fields"]) == {"ingress"}
    assert "tcp 22-22 0.0.0.0/0" in change["fields"]["ingress"]["before"] and "tcp 22-22 0.0.0.0/0" not in change["fields"]["ingress"]["after"]
    assert to_apply == [WANTED_GROUPS[1]]


def test_a_removed_egress_rule_and_a_changed_description_are_planned_back():
    at = index_of(GROUPS, "GroupName", "migrator-local")
    egress = [p for p in GROUPS[at]["IpPermissionsEgress"] if p["FromPort"] != 5432]
    assert only(network.plan_security_groups(WANTED_GROUPS, edited(GROUPS, at, IpPermissionsEgress=egress))[0])["fields"].keys() == {"egress"}
    described = copy.deepcopy(GROUPS[at]["IpPermissionsEgress"])
    for permission in described:
        for peer in permission["IpRanges"]:
            peer["Description"] = "changed"
    change = only(network.plan_security_groups(WANTED_GROUPS, edited(GROUPS, at, IpPermissionsEgress=described))[0])
    assert "tcp 443-443 0.0.0.0/0 (changed)" in change["fields"]["egress"]["before"]


def test_a_port_changed_by_hand_and_a_group_tag_are_planned_back():
    at = index_of(GROUPS, "GroupName", "db-local")
    moved = copy.deepcopy(GROUPS[at]["IpPermissions"])
    moved[0]["FromPort"] = moved[0]["ToPort"] = 5433
    assert only(network.plan_security_groups(WANTED_GROUPS, edited(GROUPS, at, IpPermissions=moved))[0])["name"] == "db-local"
    tags = GROUPS[at]["Tags"] + [{"Key": "extra", "Value": "x"}]
    change = only(network.plan_security_groups(WANTED_GROUPS, edited(GROUPS, at, Tags=tags))[0])
    assert set(change["fields"]) == {"tags"} and change["fields"]["tags"]["before"]["extra"] == "x"


def test_a_missing_group_is_created_with_its_rules():
    others = [g for g in GROUPS if g["GroupName"] != "alb-local"]
    change = only(network.plan_security_groups(WANTED_GROUPS, others)[0])
    assert (change["name"], change["action"]) == ("alb-local", "create")
    assert change["fields"]["ingress"]["after"] == ["tcp 443-443 0.0.0.0/0 (HTTP(S) from allowed CIDRs)", "tcp 80-80 0.0.0.0/0 (HTTP(S) from allowed CIDRs)"]


@pytest.mark.parametrize("peer_key", ["Ipv6Ranges", "PrefixListIds"])
def test_ipv6_and_prefix_list_peers_are_rules_too(peer_key):
    at = index_of(GROUPS, "GroupName", "db-local")
    peer = {"Ipv6Ranges": {"CidrIpv6": "::/0"}, "PrefixListIds": {"PrefixListId": "pl-1"}}[peer_key]
    extra = {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, peer_key: [peer]}
    change = only(network.plan_security_groups(WANTED_GROUPS, edited(GROUPS, at, IpPermissions=GROUPS[at]["IpPermissions"] + [extra]))[0])
    assert change["fields"]["ingress"]["before"] != change["fields"]["ingress"]["after"]


# --- VPC and internet gateway (DescribeVpcs and DescribeInternetGateways as recorded; the DNS
# settings as read_vpcs adds them from DescribeVpcAttribute) ---

VPCS = recorded("describe_vpc_igw", "Vpcs")
GATEWAYS = recorded("describe_vpc_igw", "InternetGateways")
WANTED_VPC = {"name": NAMES["vpc"], "cidr": "10.0.0.0/16", "tags": TAGS}
IGW_TAGS = resource_tags("network", SUFFIX, EXTRA, NAMES["igw"])


def vpc_with_dns(support=True, hostnames=True, **changes):
    found = dict(copy.deepcopy(VPCS[0]), EnableDnsSupport=support, EnableDnsHostnames=hostnames)
    found.update(changes)
    return found


def test_the_deployed_vpc_and_gateway_plan_nothing():
    assert network.plan_vpc(WANTED_VPC, [vpc_with_dns()]) == ([], VPCS[0]["VpcId"], False)
    assert network.plan_internet_gateway(NAMES["igw"], IGW_TAGS, GATEWAYS) == ([], IGW, False)


def test_a_missing_vpc_and_gateway_are_created():
    changes, vpc_id, apply = network.plan_vpc(WANTED_VPC, [])
    assert vpc_id is None and apply
    assert [(c["action"], c["name"]) for c in changes] == [("create", NAMES["vpc"])]
    assert changes[0]["fields"]["enable_dns_hostnames"] == {"before": None, "after": True}
    changes, igw_id, apply = network.plan_internet_gateway(NAMES["igw"], IGW_TAGS, [])
    assert igw_id is None and apply and [c["action"] for c in changes] == ["create"]


@pytest.mark.parametrize("drift, fields", [
    ({"hostnames": False}, {"enable_dns_hostnames": {"before": False, "after": True}}),
    ({"support": False}, {"enable_dns_support": {"before": False, "after": True}}),
])
def test_vpc_dns_drift_is_the_one_change(drift, fields):
    changes, vpc_id, apply = network.plan_vpc(WANTED_VPC, [vpc_with_dns(**drift)])
    assert apply and vpc_id == VPCS[0]["VpcId"]
    assert [(c["action"], c["fields"]) for c in changes] == [("update", fields)]


def test_vpc_and_gateway_tag_drift():
    retagged = vpc_with_dns(Tags=[t for t in VPCS[0]["Tags"] if t["Key"] != "owner"])
    changes, dummy, apply = network.plan_vpc(WANTED_VPC, [retagged])
    assert apply and list(changes[0]["fields"]) == ["tags"]
    assert "owner" not in changes[0]["fields"]["tags"]["before"] and changes[0]["fields"]["tags"]["after"]["owner"] == "local-demo"
    gateway = copy.deepcopy(GATEWAYS)
    gateway[0]["Tags"].append({"Key": "by", "Value": "hand"})
    changes, igw_id, apply = network.plan_internet_gateway(NAMES["igw"], IGW_TAGS, gateway)
    assert apply and igw_id == IGW and changes[0]["fields"]["tags"]["before"]["by"] == "hand"


def test_two_vpcs_with_the_name_and_cidr_fail_naming_both():
    twin = vpc_with_dns(VpcId="vpc-0twin")
    with pytest.raises(network.NetworkError, match="2 VPCs are named vpc-local with CIDR 10.0.0.0/16 .*vpc-0twin"):
        network.plan_vpc(WANTED_VPC, [vpc_with_dns(), twin])


# --- VPC endpoints. DescribeVpcEndpoints as recorded with the route tables and subnets above:
# the s3 gateway endpoint of network_vpc_endpoints [s3]. The secretsmanager interface endpoint
# comes from a deploy of [s3, secretsmanager] (its own subnet and group ids). ---

ENDPOINTS = recorded("describe_vpc_endpoints", "VpcEndpoints")
INTERFACE = recorded("describe_vpc_endpoints_interface", "VpcEndpoints")
S3, SECRETS = "com.amazonaws.us-east-1.s3", "com.amazonaws.us-east-1.secretsmanager"
GATEWAY_SERVICES = ["s3", "dynamodb"]
TABLE_IDS = network.route_table_ids(TABLES)
# What the endpoints should have: the private route tables and the isolated one (gateway); the
# private subnets and the endpoints group (interface), as the interface endpoint's deploy had them.
ATTACHED = {
    "route_table_ids": [TABLE_IDS["rt-private-local"], TABLE_IDS["rt-isolated-local"]],
    "subnet_ids": INTERFACE[0]["SubnetIds"],
    "security_group_ids": [g["GroupId"] for g in INTERFACE[0]["Groups"]],
}


# A policy narrowed by hand to one bucket.
ONE_BUCKET = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::one-bucket/*"}]}


def endpoints(*services):
    return network.wanted_vpc_endpoints(list(services), GATEWAY_SERVICES, SUFFIX, TAGS)


def with_endpoint(endpoint, **changed):
    return [dict(copy.deepcopy(endpoint), **changed)]


def test_the_recorded_endpoints_plan_nothing():
    found = ENDPOINTS + INTERFACE
    changes, plan = network.plan_vpc_endpoints(endpoints(S3, SECRETS), found, ATTACHED)
    assert changes == [] and plan["create"] == plan["modify"] == plan["stale"] == []
    assert plan["ids"] == {S3: ENDPOINTS[0]["VpcEndpointId"], SECRETS: INTERFACE[0]["VpcEndpointId"]}


def test_the_type_comes_from_the_gateway_services_and_the_name_from_the_naming_function():
    wanted = endpoints(S3, SECRETS, "com.amazonaws.us-east-1.ecr.api")
    assert [(w["type"], w["name"]) for w in wanted] == [("Gateway", "vpce-s3-local"), ("Interface", "vpce-secretsmanager-local"),
                                                        ("Interface", "vpce-ecr-api-local")]
    assert wanted[0]["tags"] == dict(TAGS, Name="vpce-s3-local") and naming.vpc_endpoint_name("ecr.api", SUFFIX) == "vpce-ecr-api-local"


def test_an_endpoint_no_longer_listed_is_deleted():
    changes, plan = network.plan_vpc_endpoints(endpoints(S3), ENDPOINTS + INTERFACE, ATTACHED)
    interface = INTERFACE[0]["VpcEndpointId"]
    assert plan["stale"] == [{"vpc_endpoint_id": interface, "service_name": SECRETS}] and plan["ids"] == {S3: ENDPOINTS[0]["VpcEndpointId"]}
    assert [(c["action"], c["name"], c["fields"], c["reason"]) for c in changes] == [
        ("delete", interface, {"service_name": {"before": SECRETS, "after": None}}, "its service is not listed")]
    assert len(network.plan_vpc_endpoints([], ENDPOINTS + INTERFACE)[1]["stale"]) == 2


def test_an_endpoint_listed_and_missing_is_created_with_its_type_name_and_tags():
    ecr = "com.amazonaws.us-east-1.ecr.api"
    changes, plan = network.plan_vpc_endpoints(endpoints(S3, ecr), ENDPOINTS, ATTACHED)
    created = only(changes)
    assert (created["resource"], created["action"], created["name"]) == ("vpc endpoint", "create", "vpce-ecr-api-local")
    assert created["fields"]["service_name"] == {"before": None, "after": ecr} and created["fields"]["type"]["after"] == "Interface"
    assert created["fields"]["security_group_ids"]["after"] == ATTACHED["security_group_ids"]
    assert plan["create"] == endpoints(ecr) and plan["modify"] == []


def test_a_nat_layout_change_moves_the_gateway_endpoint_to_the_new_tables():
    # per_az after single: the new private tables are still to create.
    after = ["(known after create)", "(known after create)", "(known after create)", TABLE_IDS["rt-isolated-local"]]
    changes, plan = network.plan_vpc_endpoints(endpoints(S3), ENDPOINTS, dict(ATTACHED, route_table_ids=after))
    change = only(changes)
    assert (change["action"], change["name"]) == ("update", "vpce-s3-local")
    assert change["fields"] == {"route_table_ids": {"before": sorted(ENDPOINTS[0]["RouteTableIds"]), "after": sorted(after)}}
    assert [(m["vpc_endpoint_id"], m["type"]) for m in plan["modify"]] == [(ENDPOINTS[0]["VpcEndpointId"], "Gateway")]
    assert plan["create"] == [] and plan["stale"] == []


ENDPOINT_DRIFTS = {
    "gateway endpoint taken off the isolated route table": (
        ENDPOINTS, dict(RouteTableIds=[TABLE_IDS["rt-private-local"]]), "route_table_ids",
        [TABLE_IDS["rt-private-local"]], sorted(ATTACHED["route_table_ids"])),
    "gateway endpoint on a foreign route table too": (
        ENDPOINTS, dict(RouteTableIds=ATTACHED["route_table_ids"] + [TABLE_IDS["rt-public-local"]]), "route_table_ids",
        sorted(ATTACHED["route_table_ids"] + [TABLE_IDS["rt-public-local"]]), sorted(ATTACHED["route_table_ids"])),
    "interface endpoint out of one private subnet": (
        INTERFACE, dict(SubnetIds=INTERFACE[0]["SubnetIds"][:2]), "subnet_ids",
        sorted(INTERFACE[0]["SubnetIds"][:2]), sorted(ATTACHED["subnet_ids"])),
    "interface endpoint given another security group": (
        INTERFACE, dict(Groups=INTERFACE[0]["Groups"] + [{"GroupId": "sg-0byhand", "GroupName": "by-hand"}]), "security_group_ids",
        sorted(ATTACHED["security_group_ids"] + ["sg-0byhand"]), ATTACHED["security_group_ids"]),
    "endpoint tag removed": (
        ENDPOINTS, dict(Tags=[t for t in ENDPOINTS[0]["Tags"] if t["Key"] != "bluegreen:component"]), "tags",
        dict((k, v) for k, v in dict(TAGS, Name="vpce-s3-local").items() if k != "bluegreen:component"), dict(TAGS, Name="vpce-s3-local")),
    "gateway endpoint policy narrowed by hand": (
        ENDPOINTS, dict(PolicyDocument=json.dumps(ONE_BUCKET)), "policy", json.dumps(ONE_BUCKET, sort_keys=True), network.FULL_ACCESS),
    "interface endpoint policy narrowed by hand": (
        INTERFACE, dict(PolicyDocument=json.dumps(ONE_BUCKET)), "policy", json.dumps(ONE_BUCKET, sort_keys=True), network.FULL_ACCESS),
    "interface endpoint's private DNS turned off": (
        INTERFACE, dict(PrivateDnsEnabled=False), "private_dns_enabled", False, True),
}


@pytest.mark.parametrize("drift", sorted(ENDPOINT_DRIFTS))
def test_one_endpoint_drift_is_the_one_change(drift):
    recorded_endpoints, changed, field, before, after = ENDPOINT_DRIFTS[drift]
    wanted = endpoints(recorded_endpoints[0]["ServiceName"])
    changes, plan = network.plan_vpc_endpoints(wanted, with_endpoint(recorded_endpoints[0], **changed), ATTACHED)
    change = only(changes)
    assert (change["resource"], change["name"], change["action"]) == ("vpc endpoint", wanted[0]["name"], "update")
    assert change["fields"] == {field: {"before": before, "after": after}}
    assert [m["vpc_endpoint_id"] for m in plan["modify"]] == [recorded_endpoints[0]["VpcEndpointId"]]


def test_an_endpoint_of_another_type_is_replaced_and_a_second_one_deleted():
    # An s3 interface endpoint made by hand: the role's gateway endpoint is created beside it and it goes.
    by_hand = with_endpoint(INTERFACE[0], ServiceName=S3, VpcEndpointId="vpce-0byhand")
    changes, plan = network.plan_vpc_endpoints(endpoints(S3), by_hand, ATTACHED)
    assert [(c["action"], c["name"]) for c in changes] == [("create", "vpce-s3-local"), ("delete", "vpce-0byhand")]
    assert changes[1]["reason"] == "a Interface endpoint; the role makes Gateway ones of that service"
    # Two gateway endpoints of s3 (what amazon.aws.ec2_vpc_endpoint leaves on moto after a layout change):
    # the one named as the role names it stays.
    second = with_endpoint(ENDPOINTS[0], VpcEndpointId="vpce-0second", Tags=[])
    changes, plan = network.plan_vpc_endpoints(endpoints(S3), second + ENDPOINTS, ATTACHED)
    assert [(c["action"], c["name"], c["reason"]) for c in changes] == [("delete", "vpce-0second", "a second endpoint of that service")]
    assert plan["ids"] == {S3: ENDPOINTS[0]["VpcEndpointId"]}


def test_a_failed_endpoint_is_deleted_and_a_new_one_created_naming_its_error():
    failed = with_endpoint(INTERFACE[0], State="failed", LastError={"Code": "SomeCode", "Message": "no free address"})
    changes, plan = network.plan_vpc_endpoints(endpoints(SECRETS), failed, ATTACHED)
    assert [(c["action"], c["name"]) for c in changes] == [("create", "vpce-secretsmanager-local"), ("delete", INTERFACE[0]["VpcEndpointId"])]
    assert changes[1]["reason"] == "failed (SomeCode: no free address): AWS does not serve it; a new one takes its place"
    assert plan["create"] == endpoints(SECRETS) and plan["ids"] == {}
    assert plan["stale"] == [{"vpc_endpoint_id": INTERFACE[0]["VpcEndpointId"], "service_name": SECRETS}]


@pytest.mark.parametrize("state", ["Rejected", "expired"])
def test_a_rejected_or_expired_endpoint_beside_a_usable_one_is_deleted_and_the_usable_one_kept(state):
    # The one named as the role names it is the unusable one: still not kept.
    unusable = with_endpoint(ENDPOINTS[0], VpcEndpointId="vpce-0unusable", State=state)
    renamed = with_endpoint(ENDPOINTS[0], Tags=[t for t in ENDPOINTS[0]["Tags"] if t["Key"] != "Name"])
    changes, plan = network.plan_vpc_endpoints(endpoints(S3), unusable + renamed, ATTACHED)
    assert [(c["action"], c["name"]) for c in changes] == [("update", "vpce-s3-local"), ("delete", "vpce-0unusable")]
    assert changes[1]["reason"] == "%s: AWS does not serve it" % state.lower()
    assert plan["ids"] == {S3: ENDPOINTS[0]["VpcEndpointId"]} and plan["create"] == []


@pytest.mark.parametrize("state", ["pending", "Available", "pendingAcceptance"])
def test_an_endpoint_on_its_way_or_available_is_kept(state):
    changes, plan = network.plan_vpc_endpoints(endpoints(S3), with_endpoint(ENDPOINTS[0], State=state), ATTACHED)
    assert changes == [] and plan["ids"] == {S3: ENDPOINTS[0]["VpcEndpointId"]}
    # A pending one (a run stopped before it was available) is waited for; one awaiting acceptance is not.
    assert plan["pending"] == ([ENDPOINTS[0]["VpcEndpointId"]] if state == "pending" else [])


def endpoint_info(endpoint_id, state, **extra):
    """An endpoint as amazon.aws.ec2_vpc_endpoint_info lists it (snake_case keys)."""
    return dict(vpc_endpoint_id=endpoint_id, state=state, service_name=SECRETS, **extra)


def test_the_endpoints_to_wait_for_are_those_found_pending_and_those_created_or_modified_pending():
    created = [{"item": {"service": SECRETS}, "vpc_endpoint": {"vpc_endpoint_id": "vpce-0new", "state": "pending"}},
               {"item": {"service": S3}, "vpc_endpoint": {"vpc_endpoint_id": "vpce-0gw", "state": "available"}},
               {"item": {"service": S3}, "skipped": True}]
    assert network.vpc_endpoints_to_wait(["vpce-0kept"], created) == ["vpce-0kept", "vpce-0new"]
    # A modify may put an interface endpoint back to pending.
    modified = [{"item": {"service": SECRETS}, "vpc_endpoint": {"vpc_endpoint_id": "vpce-0kept", "state": "pending"}},
                {"item": {"service": SECRETS}, "vpc_endpoint": {"vpc_endpoint_id": "vpce-0moved", "state": "pending"}}]
    assert network.vpc_endpoints_to_wait(["vpce-0kept"], created, modified) == ["vpce-0kept", "vpce-0new", "vpce-0moved"]
    assert network.vpc_endpoints_to_wait([], []) == [] and network.vpc_endpoints_to_wait(None, None) == []


def test_the_endpoint_wait_waits_for_pending_and_undescribed_endpoints_only():
    found = [endpoint_info("vpce-0a", "available"), endpoint_info("vpce-0b", "pending"), endpoint_info("vpce-0c", "pendingAcceptance")]
    assert network.vpc_endpoints_waited(found, ["vpce-0a", "vpce-0b", "vpce-0c", "vpce-0d"]) == {
        "pending": ["vpce-0d", "vpce-0b"], "failed": [], "done": False}
    assert network.vpc_endpoints_waited([found[0], found[2]], ["vpce-0a", "vpce-0c"]) == {"pending": [], "failed": [], "done": True}
    # EC2 did not know the ids yet: the info module lists none.
    assert network.vpc_endpoints_waited([], ["vpce-0a"]) == {"pending": ["vpce-0a"], "failed": [], "done": False}
    # Only the endpoints waited for count (an old one of the service still deleting is not this run's).
    assert network.vpc_endpoints_waited([endpoint_info("vpce-0old", "deleting"), found[0]], ["vpce-0a"]) == {"pending": [], "failed": [], "done": True}


def test_a_failed_endpoint_stops_the_wait_naming_its_error():
    found = [endpoint_info("vpce-0a", "failed", last_error={"code": "InsufficientIps", "message": "no free address"}),
             endpoint_info("vpce-0b", "Rejected"), endpoint_info("vpce-0c", "pending")]
    assert network.vpc_endpoints_waited(found, ["vpce-0a", "vpce-0b", "vpce-0c"]) == {
        "pending": ["vpce-0c"], "failed": ["vpce-0a of %s is failed (InsufficientIps: no free address)" % SECRETS, "vpce-0b of %s is rejected" % SECRETS],
        "done": True}


def test_an_attachment_not_known_is_not_compared():
    assert network.plan_vpc_endpoints(endpoints(S3), ENDPOINTS, {})[0] == []


@pytest.mark.parametrize("document", [
    {"Version": "2008-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": ["*"], "Resource": ["*"]}]},
    {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]},
    None,
], ids=["lists of one", "no version", "a service that takes no policy"])
def test_a_policy_equivalent_to_the_default_or_none_is_in_shape(document):
    found = with_endpoint(ENDPOINTS[0], PolicyDocument=json.dumps(document) if document else None)
    assert network.plan_vpc_endpoints(endpoints(S3), found, ATTACHED)[0] == []


def test_the_gateway_endpoints_private_dns_is_not_compared():
    # AWS answers false for a gateway endpoint (moto true); only interface endpoints have it.
    assert network.plan_vpc_endpoints(endpoints(S3), with_endpoint(ENDPOINTS[0], PrivateDnsEnabled=False), ATTACHED)[0] == []
    assert "private_dns_enabled" not in endpoints(S3)[0] and endpoints(SECRETS)[0]["private_dns_enabled"] is True


def test_policies_are_compared_as_policies():
    two = {"Version": "2012-10-17", "Statement": [dict(ONE_BUCKET["Statement"][0], Sid="a"), dict(ONE_BUCKET["Statement"][0], Sid="b")]}
    reordered = dict(two, Statement=list(reversed(two["Statement"])))
    assert not network.endpoint_policy_differs(network.endpoint_policy(json.dumps(two)), json.dumps(reordered))
    assert network.endpoint_policy_differs(network.endpoint_policy(json.dumps(two)), ONE_BUCKET)
    assert not network.endpoint_policy_differs(network.FULL_ACCESS, network.ENDPOINT_FULL_ACCESS_POLICY)
    assert network.endpoint_policy_differs(network.FULL_ACCESS, ONE_BUCKET)
    assert network.endpoint_policy_differs("{not json", ONE_BUCKET)
    # A service that takes no endpoint policy: nothing to send (AWS would refuse it).
    assert not network.endpoint_policy_differs(None, ONE_BUCKET)


def test_the_writer_gets_the_default_policy_and_an_unparsable_one_is_shown_as_it_is():
    assert endpoints(S3)[0]["policy"] == network.ENDPOINT_FULL_ACCESS_POLICY
    assert network.endpoint_policy(json.dumps(network.ENDPOINT_FULL_ACCESS_POLICY)) == network.FULL_ACCESS
    assert network.endpoint_policy("{not json") == "{not json"


# --- NAT gateways and the private subnets' egress (DescribeNatGateways as recorded: the single
# layout's one gateway, in the first public subnet) ---

NATS = [{"nat_gateway_id": n["NatGatewayId"], "subnet_id": n["SubnetId"], "state": n["State"]}
        for n in recorded("describe_nat_gateways", "NatGateways")]
RT_NAMES = {"public": "rt-public-local", "private": ["rt-private-local"], "isolated": "rt-isolated-local"}
PER_AZ_NAMES = dict(RT_NAMES, private=["rt-private-%s-local" % zone for zone in "abc"])
TIER_IDS = {tier: tier_ids(tier) for tier in ("public", "private", "isolated")}


def test_the_deployed_nat_gateway_plans_nothing():
    assert network.plan_nat_gateways(LAYOUT, "single", SUBNETS, NATS, SUFFIX) == ([], {"apply": [], "pending": [], "stale": []})


def test_no_nat_gateway_plans_one_per_nat_subnet():
    changes, plan = network.plan_nat_gateways(LAYOUT, "per_az", SUBNETS, NATS, SUFFIX)
    # Each named by the collection's naming function (nat-<AZ letter>-<suffix>), its address too.
    assert [(s["name"], s["nat_name"], s["eip_name"]) for s in plan["apply"]] == [
        ("public-b-local", "nat-b-local", "eip-nat-b-local"), ("public-c-local", "nat-c-local", "eip-nat-c-local")]
    # The plan names the elastic IP each gateway gets too.
    assert [(c["resource"], c["action"], c["name"]) for c in changes] == [
        ("nat gateway", "create", "nat-b-local"), ("elastic ip", "create", "eip-nat-b-local"),
        ("nat gateway", "create", "nat-c-local"), ("elastic ip", "create", "eip-nat-c-local")]
    assert changes[0]["fields"] == {"subnet": {"before": None, "after": "public-b-local"}, "elastic_ip": {"before": None, "after": "eip-nat-b-local"}}
    # A VPC still to create: every NAT subnet, with its index in the tier (its subnet id is the subnet writer's answer).
    assert [(s["name"], s["index"]) for s in network.plan_nat_gateways(LAYOUT, "per_az", [], [], SUFFIX)[1]["apply"]] == [
        ("public-a-local", 0), ("public-b-local", 1), ("public-c-local", 2)]


def test_names_of_an_az_carry_its_letter_or_else_its_index():
    assert naming.nat_gateway_names("us-east-1b", 1, "dev") == ("nat-b-dev", "eip-nat-b-dev")
    assert naming.zonal_name("public", "us-east-1-wl1-bos-wlz-1", 2, "dev") == "public-2-dev"
    assert [s["name"] for s in LAYOUT if s["tier"] == "private"] == ["private-a-local", "private-b-local", "private-c-local"]


def test_a_pending_nat_gateway_is_listed_not_created_again():
    pending = [dict(NATS[0], state="pending")]
    changes, plan = network.plan_nat_gateways(LAYOUT, "single", SUBNETS, pending, SUFFIX)
    assert changes == [] and plan == {"apply": [], "pending": [NATS[0]["nat_gateway_id"]], "stale": []}


def test_nat_gateways_of_the_other_layout_are_stale():
    # per_az's gateways in the second and third public subnets, back to single.
    others = [{"nat_gateway_id": "nat-0b", "subnet_id": TIER_IDS["public"][1], "state": "available"},
              {"nat_gateway_id": "nat-0c", "subnet_id": TIER_IDS["public"][2], "state": "pending"}]
    changes, plan = network.plan_nat_gateways(LAYOUT, "single", SUBNETS, NATS + others, SUFFIX)
    assert plan["stale"] == [{"nat_gateway_id": "nat-0b", "subnet_id": TIER_IDS["public"][1]}, {"nat_gateway_id": "nat-0c", "subnet_id": TIER_IDS["public"][2]}]
    assert [(c["action"], c["name"]) for c in changes] == [("delete", "nat-0b"), ("delete", "nat-0c")] and plan["apply"] == []


def test_an_available_gateway_wins_over_a_pending_one_in_the_same_subnet():
    twin = dict(NATS[0], nat_gateway_id="nat-0twin", state="pending")
    changes, plan = network.plan_nat_gateways(LAYOUT, "single", SUBNETS, [twin] + NATS, SUFFIX)
    assert plan["pending"] == [] and plan["stale"] == [{"nat_gateway_id": "nat-0twin", "subnet_id": NATS[0]["subnet_id"]}]


def test_a_created_gateway_counts_as_pending_whatever_its_answer():
    created = [{"nat_gateway_id": "nat-0new", "subnet_id": TIER_IDS["public"][1], "state": "available", "item": ["..."]},
               {"changed": True, "item": ["check mode: no id"]}]
    now = network.nat_gateways_now(NATS, created)
    assert now == NATS + [{"nat_gateway_id": "nat-0new", "subnet_id": TIER_IDS["public"][1], "state": "pending"}]


def test_the_wanted_route_tables_are_built_from_names_subnets_and_gateways():
    assert network.wanted_route_tables(RT_NAMES, TAGS, TIER_IDS, IGW, NATS) == WANTED_TABLES
    nats = NATS + [{"nat_gateway_id": "nat-0%s" % z, "subnet_id": s, "state": "available"} for z, s in zip("bc", TIER_IDS["public"][1:], strict=True)]
    per_az = network.wanted_route_tables(PER_AZ_NAMES, TAGS, TIER_IDS, IGW, nats)
    assert [(t["tags"]["Name"], t["subnets"], t["routes"]) for t in per_az[1:4]] == [
        ("rt-private-%s-local" % z, [s], [{"dest": "0.0.0.0/0", "nat_gateway_id": n}])
        for z, s, n in zip("abc", TIER_IDS["private"], [NATS[0]["nat_gateway_id"], "nat-0b", "nat-0c"], strict=True)]
    assert [t["tags"]["bluegreen:tier"] for t in per_az] == ["public", "private", "private", "private", "isolated"]


def test_a_nat_gateway_not_known_yet_leaves_the_route_without_a_target():
    # Check mode on a new VPC: the NAT module returns no id.
    tables = network.wanted_route_tables(RT_NAMES, TAGS, TIER_IDS, IGW, [])
    assert tables[1]["routes"] == [{"dest": "0.0.0.0/0", "nat_gateway_id": None}]


def test_the_deployed_egress_holds_nothing_back():
    changes, to_apply = network.plan_route_tables(WANTED_TABLES, TABLES)
    assert network.waiting_for_nat(changes, to_apply, NATS) == ([], [], [], [])


def test_a_new_private_table_is_created_now_and_only_its_route_waits_for_the_new_gateway():
    # A first deploy: no table yet, the NAT gateway just requested.
    now = network.nat_gateways_now([], [{"nat_gateway_id": NATS[0]["nat_gateway_id"], "subnet_id": NATS[0]["subnet_id"]}])
    wanted = network.wanted_route_tables(RT_NAMES, TAGS, TIER_IDS, IGW, now)
    changes, to_apply = network.plan_route_tables(wanted, [])
    ready, waiting, nat_ids, routes = network.waiting_for_nat(changes, to_apply, now)
    assert [t["tags"]["Name"] for t in ready] == ["rt-public-local", "rt-private-local", "rt-isolated-local"]
    assert ready[1] == dict(WANTED_TABLES[1], routes=[]) and ready[0] == WANTED_TABLES[0]
    assert waiting == [] and nat_ids == [NATS[0]["nat_gateway_id"]]
    assert routes == [{"route_table": "rt-private-local", "dest": "0.0.0.0/0", "nat_gateway_id": NATS[0]["nat_gateway_id"]}]
    reasons = dict((c["name"], c["reason"]) for c in changes)
    assert reasons["rt-private-local"].endswith(network.ROUTE_WAITS_FOR_NAT)
    assert not reasons["rt-public-local"].endswith((network.WAITS_FOR_NAT, network.ROUTE_WAITS_FOR_NAT))
    # The plan still shows the whole table to create, its route through the gateway included.
    private = next(c for c in changes if c["name"] == "rt-private-local")
    assert private["action"] == "create" and private["fields"]["routes"]["after"] == ["0.0.0.0/0 -> %s" % NATS[0]["nat_gateway_id"]]


def test_a_new_table_waits_whole_when_the_main_table_routes_out():
    # A VPC whose main table routes out (changed by hand, or made so elsewhere): the private
    # subnets without a table of their own have egress through it until their table is complete.
    main = copy.deepcopy(next(t for t in TABLES if any(a.get("Main") for a in t.get("Associations", []))))
    assert not network.main_table_routes_out([main])
    main["Routes"].append({"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": IGW, "Origin": "CreateRoute", "State": "active"})
    assert network.main_table_routes_out([main])
    now = network.nat_gateways_now([], [{"nat_gateway_id": NATS[0]["nat_gateway_id"], "subnet_id": NATS[0]["subnet_id"]}])
    wanted = network.wanted_route_tables(RT_NAMES, TAGS, TIER_IDS, IGW, now)
    changes, to_apply = network.plan_route_tables(wanted, [main])
    ready, waiting, nat_ids, routes = network.waiting_for_nat(changes, to_apply, now, network.main_table_routes_out([main]))
    assert waiting == [WANTED_TABLES[1]] and routes == [] and nat_ids == [NATS[0]["nat_gateway_id"]]
    assert [t["tags"]["Name"] for t in ready] == ["rt-public-local", "rt-isolated-local"]
    assert next(c for c in changes if c["name"] == "rt-private-local")["reason"].endswith(network.WAITS_FOR_NAT)


def test_a_new_table_taking_subnets_that_route_elsewhere_waits_whole():
    # single -> per_az: the new tables take the private subnets from the single table, whose
    # route works; they move only once their own gateways are available.
    created = [{"nat_gateway_id": "nat-0%s" % z, "subnet_id": s} for z, s in zip("abc", TIER_IDS["public"], strict=True)]
    now = network.nat_gateways_now(NATS, created[1:])
    wanted = network.wanted_route_tables(PER_AZ_NAMES, TAGS, TIER_IDS, IGW, now)
    changes, to_apply = network.plan_route_tables(wanted, TABLES)
    ready, waiting, nat_ids, routes = network.waiting_for_nat(changes, to_apply, now)
    assert [t["tags"]["Name"] for t in waiting] == ["rt-private-b-local", "rt-private-c-local"] and routes == []
    assert all(t["subnets_moved"] for t in waiting) and nat_ids == ["nat-0b", "nat-0c"]
    assert [t["tags"]["Name"] for t in ready] == ["rt-private-a-local"]


def test_a_table_routed_to_a_gateway_found_pending_waits():
    # A run stopped while creating the gateway: the table still names the old one.
    pending = [{"nat_gateway_id": "nat-0pending", "subnet_id": NATS[0]["subnet_id"], "state": "pending"}]
    wanted = network.wanted_route_tables(RT_NAMES, TAGS, TIER_IDS, IGW, pending)
    changes, to_apply = network.plan_route_tables(wanted, TABLES)
    ready, waiting, nat_ids, routes = network.waiting_for_nat(changes, to_apply, pending)
    assert ready == [] and [t["tags"]["Name"] for t in waiting] == ["rt-private-local"] and nat_ids == ["nat-0pending"]
    assert routes == [] and only(changes)["reason"].endswith(network.WAITS_FOR_NAT)
    assert only(changes)["fields"]["routes"]["after"] == ["0.0.0.0/0 -> nat-0pending"]


def test_the_single_table_is_stale_under_per_az_and_the_deployed_ones_are_not():
    assert network.plan_stale_route_tables(WANTED_TABLES, TABLES) == ([], [])
    per_az = network.wanted_route_tables(PER_AZ_NAMES, TAGS, TIER_IDS, IGW, NATS)
    changes, stale = network.plan_stale_route_tables(per_az, TABLES)
    single = next(t for t in TABLES if network.tags_of(t).get("Name") == "rt-private-local")
    assert stale == [{"id": single["RouteTableId"], "name": "rt-private-local"}]
    assert [(c["resource"], c["action"], c["name"]) for c in changes] == [("route table", "delete", "rt-private-local")]
    # The VPC's main table carries no tier tag: never stale.
    assert all(network.tags_of(t).get("bluegreen:tier") for t in TABLES if t["RouteTableId"] in [s["id"] for s in stale])


def test_route_table_ids_by_name():
    ids = network.route_table_ids(TABLES)
    assert set(ids) >= {"rt-public-local", "rt-private-local", "rt-isolated-local"}


def egress_params(**params):
    base = {"route_tables": None, "route_table_names": RT_NAMES, "subnet_ids": TIER_IDS, "internet_gateway_id": IGW, "tags": TAGS,
            "nat_gateways_found": NATS, "nat_gateways_created": [], "deferred_tiers": []}
    return dict(base, **params)


def test_the_module_holds_back_the_tables_of_a_new_gateway_and_names_it():
    from ansible_collections.bluegreen.migration.plugins.modules.network_plan import plan_egress

    tables, egress = plan_egress(egress_params(), TABLES)
    assert (tables["changes"], tables["apply"], tables["stale"]) == ([], [], [])
    assert egress == {"nat_gateway_ids": [NATS[0]["nat_gateway_id"]], "wait_for": [], "route_tables": [], "routes": []}
    assert tables["wanted"] == WANTED_TABLES and tables["ids"]["rt-public-local"].startswith("rtb-")
    # per_az after single: table a routes through the available gateway now, b and c wait for theirs.
    created = [{"nat_gateway_id": "nat-0%s" % z, "subnet_id": s} for z, s in zip("bc", TIER_IDS["public"][1:], strict=True)]
    tables, egress = plan_egress(egress_params(route_table_names=PER_AZ_NAMES, nat_gateways_created=created), TABLES)
    assert [t["tags"]["Name"] for t in tables["apply"]] == ["rt-private-a-local"]
    assert [t["tags"]["Name"] for t in egress["route_tables"]] == ["rt-private-b-local", "rt-private-c-local"]
    assert egress["wait_for"] == ["nat-0b", "nat-0c"] and egress["nat_gateway_ids"] == [NATS[0]["nat_gateway_id"], "nat-0b", "nat-0c"]
    assert [t["name"] for t in tables["stale"]] == ["rt-private-local"]


# --- One run of network_plan, as the role's first read makes it (a stub EC2 client answering as recorded) ---

ANSWERS = {
    "describe_vpcs": ("Vpcs", lambda: [dict(VPCS[0], CidrBlock="10.0.0.0/16")]),
    "describe_internet_gateways": ("InternetGateways", lambda: GATEWAYS),
    "describe_nat_gateways": ("NatGateways", lambda: recorded("describe_nat_gateways", "NatGateways")),
    "describe_vpc_endpoints": ("VpcEndpoints", lambda: ENDPOINTS),
    "describe_subnets": ("Subnets", lambda: SUBNETS),
    "describe_security_groups": ("SecurityGroups", lambda: GROUPS),
    "describe_route_tables": ("RouteTables", lambda: TABLES),
}


class StubEC2:
    """Answers the describe calls of network_plan as recorded, and counts them."""

    def __init__(self, **answers):
        self.calls, self.answers = [], dict((op, getter()) for op, (key, getter) in ANSWERS.items())
        self.answers.update(answers)

    def get_paginator(self, operation):
        stub = self

        class Pages:
            def paginate(self, Filters):
                stub.calls.append(operation)
                return type("Result", (), {"build_full_result": lambda _self: {ANSWERS[operation][0]: stub.answers[operation]}})()

        return Pages()

    def describe_vpc_attribute(self, VpcId, Attribute):
        self.calls.append("describe_vpc_attribute")
        return {Attribute[0].upper() + Attribute[1:]: {"Value": True}}

    def describe_addresses(self, Filters):
        self.calls.append("describe_addresses")
        return {"Addresses": self.answers.get("describe_addresses", [])}

    def describe_availability_zones(self, Filters):
        self.calls.append("describe_availability_zones")
        return {"AvailabilityZones": [{"ZoneName": z} for z in ("us-east-1d", "us-east-1b", "us-east-1a", "us-east-1c")]}


def by_key(rule):
    """A rule of WANTED_GROUPS with its peer group named by key, as the role's vars name it."""
    keys = dict((group_id, name.split("-")[0]) for name, group_id in SG.items())
    if "group_id" not in rule:
        return rule
    return dict(((k, v) for k, v in rule.items() if k != "group_id"), group=keys[rule["group_id"]])


def first_read(**params):
    """The parameters of the role's first read (read.yml) for inventories/local."""
    groups = [dict(g, rules=[by_key(r) for r in g["rules"]], egress=[by_key(r) for r in g["egress"]]) for g in WANTED_GROUPS]
    base = {
        "vpc_id": None, "vpc": WANTED_VPC, "internet_gateway": {"name": NAMES["igw"], "tags": IGW_TAGS},
        "security_groups": [dict((k, v) for k, v in g.items() if k != "tags") for g in groups], "security_group_ids": {},
        "layout": {"cidr": "10.0.0.0/16", "azs": [], "az_count": 3}, "subnets": None, "tags": TAGS, "nat_layout": "single",
        "environment_suffix": SUFFIX, "vpc_endpoints": [S3], "gateway_endpoint_services": GATEWAY_SERVICES,
        "route_tables_when_ready": True, "nat_gateways": False,
        "route_tables": None, "route_table_names": None, "subnet_ids": None, "internet_gateway_id": None,
        "nat_gateways_found": [], "nat_gateways_created": [], "deferred_tiers": [],
    }
    return dict(base, **params)


def test_a_rerun_reads_each_kind_once_and_plans_everything_in_one_run():
    from ansible_collections.bluegreen.migration.plugins.modules.network_plan import plan

    ec2 = StubEC2()
    result, changes = plan(ec2, first_read())
    assert changes == []
    # The AZs are those the subnets fix: no DescribeAvailabilityZones, and no kind read twice.
    assert sorted(ec2.calls) == sorted(["describe_vpcs", "describe_vpc_attribute", "describe_vpc_attribute", "describe_internet_gateways",
                                        "describe_nat_gateways", "describe_vpc_endpoints", "describe_subnets", "describe_security_groups",
                                        "describe_route_tables"])
    assert result["layout"]["azs"] == ["us-east-1a", "us-east-1b", "us-east-1c"] and result["layout"]["subnets"] == LAYOUT
    assert result["layout"]["route_table_names"] == RT_NAMES
    assert result["route_tables"]["wanted"] == WANTED_TABLES and result["route_tables"]["apply"] == []
    assert result["egress"] == {"nat_gateway_ids": [NAT], "wait_for": [], "route_tables": [], "routes": []}
    assert result["security_groups"]["apply"] == [] and result["security_groups"]["changes"] == []


def test_a_rule_drift_is_planned_with_the_peer_groups_ids():
    from ansible_collections.bluegreen.migration.plugins.modules.network_plan import plan

    groups = copy.deepcopy(GROUPS)
    app = index_of(groups, "GroupName", "app-local")
    groups[app]["IpPermissions"].append({"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]})
    result, changes = plan(StubEC2(describe_security_groups=groups), first_read())
    assert [(c["resource"], c["name"]) for c in changes] == [("security group", "app-local")]
    applied = only(result["security_groups"]["apply"])
    assert applied["rules"] == [{"proto": "tcp", "ports": ["80"], "group_id": SG["alb-local"], "rule_desc": "from the load balancer"}]


def test_a_missing_nat_gateway_leaves_the_route_tables_and_rules_to_the_second_read():
    from ansible_collections.bluegreen.migration.plugins.modules.network_plan import plan

    ec2 = StubEC2(describe_nat_gateways=[], describe_vpc_endpoints=[])
    result, changes = plan(ec2, first_read(nat_layout="per_az"))
    assert "describe_route_tables" not in ec2.calls and "route_tables" not in result and "changes" not in result["security_groups"]
    # With a gateway endpoint the route tables are read for it alone: it moves to the new ones.
    ec2 = StubEC2(describe_nat_gateways=[])
    result, changes = plan(ec2, first_read(nat_layout="per_az"))
    assert ec2.calls.count("describe_route_tables") == 1 and "route_tables" not in result
    assert [m["name"] for m in result["vpc_endpoints"]["modify"]] == ["vpce-s3-local"]
    assert [c["name"] for c in changes if c["resource"] == "nat gateway"] == ["nat-a-local", "nat-b-local", "nat-c-local"]
    # The addresses a stopped run may have left are read once, for the three gateways to create.
    assert ec2.calls.count("describe_addresses") == 1 and [n["allocation_id"] for n in result["nat"]["apply"]] == [None] * 3
    # The second read names the groups by key too: their ids as read, or as just created.
    second = first_read(vpc=None, vpc_id=VPCS[0]["VpcId"], internet_gateway=None, layout=None, nat_layout=None, vpc_endpoints=None,
                        route_tables_when_ready=False, route_table_names=RT_NAMES, subnet_ids=TIER_IDS, internet_gateway_id=IGW,
                        nat_gateways_found=NATS, security_group_ids={"db": "sg-just-created"})
    result, changes = plan(StubEC2(describe_security_groups=[g for g in GROUPS if g["GroupName"] != "db-local"]), second)
    app = next(g for g in result["security_groups"]["apply"] if g["key"] == "app")
    assert {"proto": "tcp", "ports": ["5432"], "group_id": "sg-just-created", "rule_desc": "to the database"} in app["egress"]


def test_a_new_vpc_takes_the_first_available_azs_and_reads_nothing_else():
    from ansible_collections.bluegreen.migration.plugins.modules.network_plan import plan

    ec2 = StubEC2(describe_vpcs=[])
    result, changes = plan(ec2, first_read(layout={"cidr": "10.0.0.0/16", "azs": [], "az_count": 2}))
    assert ec2.calls == ["describe_vpcs", "describe_availability_zones"]
    assert result["layout"]["azs"] == ["us-east-1a", "us-east-1b"] and "route_tables" not in result
    with pytest.raises(network.NetworkError, match="network_az_count=5 but only 4 AZs are available"):
        plan(StubEC2(describe_vpcs=[]), first_read(layout={"cidr": "10.0.0.0/16", "azs": [], "az_count": 5}))


# ap-northeast-1 as an older account lists it: ap-northeast-1b is apne1-az3, where Fargate runs no task.
TOKYO = {"ap-northeast-1a": "apne1-az4", "ap-northeast-1b": "apne1-az3", "ap-northeast-1c": "apne1-az1", "ap-northeast-1d": "apne1-az2"}


def test_the_azs_picked_leave_out_those_where_fargate_runs_no_task():
    assert network.choose_azs([], 3, "10.0.0.0/16", [], lambda: TOKYO, "ap-northeast-1") == ["ap-northeast-1a", "ap-northeast-1c", "ap-northeast-1d"]
    # Elsewhere every zone is taken (a zone id of another region's list means nothing there).
    assert network.choose_azs([], 2, "10.0.0.0/16", [], lambda: TOKYO, "us-east-1") == ["ap-northeast-1a", "ap-northeast-1b"]
    with pytest.raises(network.NetworkError, match=r"network_az_count=4 but only 3 AZs are available \(ap-northeast-1a, ap-northeast-1c, "
                       r"ap-northeast-1d\); Fargate runs no task in ap-northeast-1b; lower network_az_count"):
        network.choose_azs([], 4, "10.0.0.0/16", [], lambda: TOKYO, "ap-northeast-1")


def test_a_listed_az_where_fargate_runs_no_task_fails_naming_its_zone_id():
    with pytest.raises(network.NetworkError, match=r"network_azs: Fargate runs no task in ap-northeast-1b \(apne1-az3\) of ap-northeast-1; "
                       r"list others of ap-northeast-1a, ap-northeast-1c, ap-northeast-1d"):
        network.choose_azs(["ap-northeast-1a", "ap-northeast-1b"], 2, "10.0.0.0/16", [], lambda: TOKYO, "ap-northeast-1")
    assert network.choose_azs(["ap-northeast-1c", "ap-northeast-1d"], 2, "10.0.0.0/16", [], lambda: TOKYO, "ap-northeast-1") == [
        "ap-northeast-1c", "ap-northeast-1d"]
    # An existing VPC's subnets fix the AZs, listed or not: they are not moved, and a run keeps working.
    assert network.choose_azs([], 3, "10.0.0.0/16", SUBNETS, lambda: pytest.fail("listed"), "ap-northeast-1") == ["us-east-1a", "us-east-1b", "us-east-1c"]
    tokyo = in_tokyo(SUBNETS)
    assert network.choose_azs(["ap-northeast-1a", "ap-northeast-1b"], 2, "10.0.0.0/16", tokyo, lambda: pytest.fail("listed"), "ap-northeast-1") == [
        "ap-northeast-1a", "ap-northeast-1b"]
    # A VPC built in part (a run stopped after AZ a's subnets): the subnets still to make in AZ b
    # would hold no task, refused before any write as for a new VPC.
    only_a = [s for s in tokyo if s["AvailabilityZone"] == "ap-northeast-1a"]
    with pytest.raises(network.NetworkError, match=r"network_azs: Fargate runs no task in ap-northeast-1b \(apne1-az3\)"):
        network.choose_azs(["ap-northeast-1a", "ap-northeast-1b"], 2, "10.0.0.0/16", only_a, lambda: TOKYO, "ap-northeast-1")


# Interface endpoint services offered in some zones only (as DescribeVpcEndpointServices lists them).
SOME_ZONES = {"com.amazonaws.ap-northeast-1.lambda": {"ap-northeast-1a", "ap-northeast-1c"},
              "com.amazonaws.ap-northeast-1.logs": {"ap-northeast-1a", "ap-northeast-1b", "ap-northeast-1c", "ap-northeast-1d"}}


def test_the_azs_picked_take_every_listed_interface_endpoint():
    """CreateVpcEndpoint refuses a subnet in a zone its service is not offered in: a new VPC's
    AZs are picked among those every listed interface service is offered in; given AZs, or
    those an existing VPC's subnets fix, that a service lacks fail before any write."""
    picked = network.choose_azs([], 2, "10.0.0.0/16", [], lambda: TOKYO, "ap-northeast-1", lambda: SOME_ZONES)
    assert picked == ["ap-northeast-1a", "ap-northeast-1c"]
    with pytest.raises(network.NetworkError, match=r"only 2 AZs are available \(ap-northeast-1a, ap-northeast-1c\); Fargate runs no task in "
                       r"ap-northeast-1b; an interface endpoint of network_vpc_endpoints is not offered in ap-northeast-1d"):
        network.choose_azs([], 3, "10.0.0.0/16", [], lambda: TOKYO, "ap-northeast-1", lambda: SOME_ZONES)
    with pytest.raises(network.NetworkError, match=r"network_azs: the private subnets' zones ap-northeast-1c, ap-northeast-1d do not all take "
                       r"the interface endpoints listed in network_vpc_endpoints: com.amazonaws.ap-northeast-1.lambda is not offered in "
                       r"ap-northeast-1d \(only in ap-northeast-1a, ap-northeast-1c\); drop those services from network_vpc_endpoints or list other AZs"):
        network.choose_azs(["ap-northeast-1c", "ap-northeast-1d"], 2, "10.0.0.0/16", [], lambda: TOKYO, "ap-northeast-1", lambda: SOME_ZONES)
    tokyo = in_tokyo(SUBNETS)
    with pytest.raises(network.NetworkError, match=r"the VPC's subnets: the private subnets' zones ap-northeast-1a, ap-northeast-1b, "
                       r"ap-northeast-1c .*\.lambda is not offered in ap-northeast-1b .*; drop those services from network_vpc_endpoints"):
        network.choose_azs([], 3, "10.0.0.0/16", tokyo, lambda: pytest.fail("listed"), "ap-northeast-1", lambda: SOME_ZONES)
    # Without interface endpoints nothing is read about them.
    assert network.choose_azs([], 3, "10.0.0.0/16", tokyo, lambda: pytest.fail("listed"), "ap-northeast-1") == [
        "ap-northeast-1a", "ap-northeast-1b", "ap-northeast-1c"]


def test_the_zones_of_the_interface_endpoint_services_are_read_in_one_call():
    class Answers:
        calls = []

        def describe_vpc_endpoint_services(self, **params):
            self.calls.append(params)
            return {"ServiceDetails": [
                {"ServiceName": "com.amazonaws.us-east-1.s3", "ServiceType": [{"ServiceType": "Gateway"}], "AvailabilityZones": ["us-east-1a"]},
                {"ServiceName": "com.amazonaws.us-east-1.s3", "ServiceType": [{"ServiceType": "Interface"}], "AvailabilityZones": ["us-east-1b"]},
                {"ServiceName": "com.amazonaws.us-east-1.lambda", "ServiceType": [{"ServiceType": "Interface"}],
                 "AvailabilityZones": ["us-east-1a", "us-east-1c"]},
            ]}

    client = Answers()
    zones = network.read_endpoint_service_zones(client, ["com.amazonaws.us-east-1.lambda", "com.amazonaws.us-east-1.s3"])
    assert zones == {"com.amazonaws.us-east-1.s3": {"us-east-1b"}, "com.amazonaws.us-east-1.lambda": {"us-east-1a", "us-east-1c"}}
    assert client.calls == [{"ServiceNames": ["com.amazonaws.us-east-1.lambda", "com.amazonaws.us-east-1.s3"]}]
    assert network.read_endpoint_service_zones(client, []) == {} and len(client.calls) == 1
    # A service listed only as a Gateway has no interface endpoint to create (a name AWS does not
    # know at all is refused by the call itself, InvalidServiceName).
    client.describe_vpc_endpoint_services = lambda **params: {"ServiceDetails": [
        {"ServiceName": "com.amazonaws.us-east-1.s3", "ServiceType": [{"ServiceType": "Gateway"}], "AvailabilityZones": ["us-east-1a"]},
        {"ServiceName": "com.amazonaws.us-east-1.lambda", "ServiceType": [{"ServiceType": "Interface"}], "AvailabilityZones": ["us-east-1a"]},
    ]}
    with pytest.raises(network.NetworkError, match=r"^network_vpc_endpoints: com.amazonaws.us-east-1.s3 is not "
                       r"offered as an interface endpoint here \(DescribeVpcEndpointServices\); drop it$"):
        network.read_endpoint_service_zones(client, ["com.amazonaws.us-east-1.lambda", "com.amazonaws.us-east-1.s3"])


def in_tokyo(subnets):
    """The recorded subnets as an older account of ap-northeast-1 has them: AZ b is apne1-az3."""
    zones = {"us-east-1a": "ap-northeast-1a", "us-east-1b": "ap-northeast-1b", "us-east-1c": "ap-northeast-1c"}
    return [dict(s, AvailabilityZone=zones[s["AvailabilityZone"]], AvailabilityZoneId=TOKYO[zones[s["AvailabilityZone"]]]) for s in subnets]


def test_private_subnets_of_an_existing_vpc_where_fargate_runs_no_task_are_warned_of():
    private = [s["cidr"] for s in LAYOUT if s["tier"] == "private"]
    # Only the private one of AZ b: the public and isolated subnets there hold no task.
    assert network.subnets_without_fargate(in_tokyo(SUBNETS), private, "ap-northeast-1") == ["10.0.64.0/20 in ap-northeast-1b (apne1-az3)"]
    # Other regions run Fargate in every zone.
    assert network.subnets_without_fargate(SUBNETS, private, "us-east-1") == []


def test_the_plan_of_an_existing_vpc_in_such_zones_keeps_them_and_warns():
    from ansible_collections.bluegreen.migration.plugins.modules.network_plan import plan

    class TokyoEC2(StubEC2):
        meta = type("Meta", (), {"region_name": "ap-northeast-1"})()

    result, changes = plan(TokyoEC2(describe_subnets=in_tokyo(SUBNETS)), first_read(layout={"cidr": "10.0.0.0/16", "azs": [], "az_count": 3}))
    assert result["layout"]["azs"] == ["ap-northeast-1a", "ap-northeast-1b", "ap-northeast-1c"]
    assert result["layout"]["warnings"] == [
        "private subnet(s) 10.0.64.0/20 in ap-northeast-1b (apne1-az3) of the existing VPC are in zones where Fargate runs no task in ap-northeast-1:"
        " no service task is placed there (the VPC keeps its zones; a network in other zones needs another VPC CIDR or network_azs on a new VPC)"]
    assert not [c for c in changes if c["resource"] == "subnet"]
    result, _changes = plan(StubEC2(), first_read(layout={"cidr": "10.0.0.0/16", "azs": [], "az_count": 3}))
    assert result["layout"]["warnings"] == []


def test_the_azs_are_listed_unless_every_index_of_the_layout_has_a_subnet():
    listed = []
    assert network.choose_azs(["us-east-1f"], 1, "10.0.0.0/16", [], lambda: listed.append(1)) == ["us-east-1f"]
    # Only the public subnet of AZ b is left: it fixes index 1, but index 0 and 2 have none.
    public_b = [s for s in SUBNETS if s["CidrBlock"] == LAYOUT[1]["cidr"]]
    assert network.azs_of_subnets("10.0.0.0/16", 3, public_b) is None
    # Any tier's subnet fixes its index.
    some = [s for s in SUBNETS if s["CidrBlock"] in (LAYOUT[0]["cidr"], LAYOUT[4]["cidr"], LAYOUT[8]["cidr"])]
    assert network.azs_of_subnets("10.0.0.0/16", 3, some) == ["us-east-1a", "us-east-1b", "us-east-1c"]
    assert listed == []


def test_route_table_names_come_from_the_naming_function():
    assert naming.route_table_names(["us-east-1a", "us-east-1b", "us-east-1c"], "single", SUFFIX) == RT_NAMES
    assert naming.route_table_names(["us-east-1a", "us-east-1b", "us-east-1c"], "per_az", SUFFIX) == PER_AZ_NAMES


# --- The wait for NAT gateways before their routes (amazon.aws.ec2_vpc_nat_gateway_info's result). ---


def nat_info(nat_id, state, **failure):
    return dict({"nat_gateway_id": nat_id, "state": state, "subnet_id": "subnet-0a"}, **failure)


def test_the_nat_wait_waits_for_pending_and_undescribed_gateways_only():
    found = [nat_info("nat-0a", "available"), nat_info("nat-0b", "pending")]
    assert network.nat_gateways_waited(found, ["nat-0a", "nat-0b", "nat-0c"]) == {"pending": ["nat-0c", "nat-0b"], "failed": [], "done": False}
    assert network.nat_gateways_waited(found[:1], ["nat-0a"]) == {"pending": [], "failed": [], "done": True}
    # EC2 did not know an id yet (the info module's result is then missing)
    assert network.nat_gateways_waited(None, ["nat-0a"]) == {"pending": ["nat-0a"], "failed": [], "done": False}


def test_a_failed_or_going_nat_gateway_stops_the_wait_naming_its_failure():
    found = [nat_info("nat-0a", "failed", failure_code="InsufficientFreeAddressesInSubnet", failure_message="Subnet has insufficient free addresses"),
             nat_info("nat-0b", "deleted"), nat_info("nat-0c", "pending")]
    # Done at once, though nat-0c is still pending (a per-AZ layout): the run fails naming the failures.
    assert network.nat_gateways_waited(found, ["nat-0a", "nat-0b", "nat-0c"]) == {
        "pending": ["nat-0c"], "failed": ["nat-0a (InsufficientFreeAddressesInSubnet: Subnet has insufficient free addresses)", "nat-0b (deleted)"],
        "done": True}


# --- A NAT gateway requested again: the address a stopped run left, the create's client token ---

def test_the_gateways_listed_in_a_nat_subnet_in_any_state_go_with_its_entry():
    failed = {"nat_gateway_id": "nat-0failed", "subnet_id": TIER_IDS["public"][0], "state": "failed", "allocation_ids": ["eipalloc-0f"]}
    other = {"nat_gateway_id": "nat-0gone", "subnet_id": TIER_IDS["public"][1], "state": "deleted", "allocation_ids": []}
    _changes, plan = network.plan_nat_gateways(LAYOUT, "single", SUBNETS, [failed, other], SUFFIX)
    [entry] = plan["apply"]
    # Only the first public subnet's; a failed or deleted one is neither kept, pending nor stale.
    assert entry["listed_nat_gateway_ids"] == ["nat-0failed"] and plan["pending"] == [] and plan["stale"] == []
    # A subnet still to create has none.
    assert network.plan_nat_gateways(LAYOUT, "single", [], [], SUFFIX)[1]["apply"][0]["listed_nat_gateway_ids"] == []
    assert network.live_nat_gateways([failed, other] + NATS) == NATS


def test_the_address_a_stopped_run_left_is_reused_and_none_is_allocated():
    asked = []

    def addresses(names):
        asked.append(names)
        return [{"allocation_id": "eipalloc-0b", "name": "eip-nat-a-local", "association_id": "eipassoc-1"},
                {"allocation_id": "eipalloc-0a", "name": "eip-nat-a-local", "association_id": None},
                {"allocation_id": "eipalloc-00", "name": "eip-nat-b-local", "association_id": None}]

    changes, plan = network.plan_nat_gateways(LAYOUT, "single", SUBNETS, [], SUFFIX, addresses)
    assert asked == [["eip-nat-a-local"]] and plan["apply"][0]["allocation_id"] == "eipalloc-0a"
    # No elastic IP to create; the gateway's reason names the one reused.
    assert [(c["resource"], c["action"]) for c in changes] == [("nat gateway", "create")]
    assert "its elastic IP eip-nat-a-local (eipalloc-0a, left by a stopped run) is reused" in changes[0]["reason"]
    # Nothing missing: the addresses are not read.
    network.plan_nat_gateways(LAYOUT, "single", SUBNETS, NATS, SUFFIX, addresses)
    assert len(asked) == 1
    # None of ours: one is allocated, and the plan says so.
    changes, plan = network.plan_nat_gateways(LAYOUT, "single", SUBNETS, [], SUFFIX, lambda names: [])
    assert plan["apply"][0]["allocation_id"] is None and [c["resource"] for c in changes] == ["nat gateway", "elastic ip"]


def test_an_address_is_free_unless_a_listed_gateway_holds_it():
    listed = [{"nat_gateway_id": "nat-0a", "subnet_id": "subnet-1", "state": "available", "allocation_ids": ["eipalloc-1"], "association_ids": ["eipassoc-1"]},
              {"nat_gateway_id": "nat-0f", "subnet_id": "subnet-2", "state": "failed", "allocation_ids": ["eipalloc-2"], "association_ids": ["eipassoc-2"]},
              {"nat_gateway_id": "nat-0d", "subnet_id": "subnet-3", "state": "deleted", "allocation_ids": ["eipalloc-3"], "association_ids": ["eipassoc-3"]},
              # a listing without association ids
              {"nat_gateway_id": "nat-0p", "subnet_id": "subnet-4", "state": "pending", "allocation_ids": ["eipalloc-4"], "association_ids": []},
              {"nat_gateway_id": "nat-0x", "subnet_id": "subnet-5", "state": "deleted", "allocation_ids": ["eipalloc-5"], "association_ids": []},
              {"nat_gateway_id": "nat-0y", "subnet_id": "subnet-6", "state": "failed", "allocation_ids": ["eipalloc-6"], "association_ids": []}]

    def address(allocation_id, association_id):
        return {"allocation_id": allocation_id, "name": "eip", "association_id": association_id}

    # Still associated with a listed gateway, whatever its state (moto keeps a deleted one's): not free.
    for number in "1234":
        held = address("eipalloc-" + number, "eipassoc-" + number)
        assert network.nat_address("eip", [held], listed) is None, held
    # Given back (not associated), or associated anew since a deleted gateway's listing named it: free.
    assert network.nat_address("eip", [address("eipalloc-2", None)], listed) == "eipalloc-2"
    assert network.nat_address("eip", [address("eipalloc-3", "eipassoc-new")], listed) == "eipalloc-3"
    assert network.nat_address("eip", [address("eipalloc-5", "eipassoc-new")], listed) == "eipalloc-5"
    assert network.nat_address("eip", [address("eipalloc-6", "eipassoc-new")], listed) == "eipalloc-6"
    # Associated with an instance, or another VPC's gateway: not free either.
    assert network.nat_address("eip", [dict(address("eipalloc-7", "eipassoc-7"), taken_elsewhere=True)], listed) is None
    # Associated with a gateway EC2 does not list yet (a stopped run's): chosen, as the stopped run chose it.
    assert network.nat_address("eip", [address("eipalloc-9", "eipassoc-9"), address("eipalloc-8", None)], listed) == "eipalloc-8"
    assert network.nat_address("eip", [address("eipalloc-8", "eipassoc-8"), address("eipalloc-9", None)], listed) == "eipalloc-8"
    # Another name is another gateway's.
    assert network.nat_address("other", [address("eipalloc-8", None)], listed) is None


def test_the_client_token_repeats_for_the_same_request_only():
    hour = datetime.datetime(2026, 12, 6, 20, 5, tzinfo=datetime.timezone.utc)
    token = network.nat_client_token("nat-a-dev", "subnet-1", ["nat-0b", "nat-0a"], hour)
    assert len(token) <= 64 and token.isascii() and token.startswith("bluegreen-")
    assert network.nat_client_token("nat-a-dev", "subnet-1", ["nat-0a", "nat-0b"], hour + datetime.timedelta(minutes=50)) == token
    others = [
        network.nat_client_token("nat-b-dev", "subnet-1", ["nat-0a", "nat-0b"], hour),
        network.nat_client_token("nat-a-dev", "subnet-2", ["nat-0a", "nat-0b"], hour),
        network.nat_client_token("nat-a-dev", "subnet-1", ["nat-0a", "nat-0b", "nat-0c"], hour),
        network.nat_client_token("nat-a-dev", "subnet-1", ["nat-0a", "nat-0b"], hour + datetime.timedelta(hours=1)),
    ]
    assert token not in others and len(set(others)) == len(others)
