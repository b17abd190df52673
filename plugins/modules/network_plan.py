#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: bluegreen.migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# ruff: noqa: E402  (Ansible module layout: imports follow DOCUMENTATION, EXAMPLES and RETURN)

DOCUMENTATION = r"""
module: network_plan
short_description: Read a VPC, its internet gateway, subnets, route tables and security groups, and plan what differs
version_added: 0.1.0
description:
  - Reads, in one run, the kinds of resource it is given wanted entries for (C(DescribeVpcs) and
    C(DescribeVpcAttribute), C(DescribeInternetGateways), C(DescribeSubnets), C(DescribeNatGateways),
    C(DescribeVpcEndpoints), C(DescribeRouteTables), C(DescribeSecurityGroups), each filtered on the
    VPC and each made once) and compares them with the wanted ones. C(DescribeAddresses) is read
    only when a NAT gateway is missing from a VPC that exists (an elastic IP a stopped run left), and
    C(DescribeNetworkInterfaces) then only for such an address that is associated.
  - With O(vpc), the VPC is found by its C(Name) tag and CIDR, as M(amazon.aws.ec2_vpc_net)
    finds it. When it does not exist yet, everything in it is planned for creation (its id is
    known after the apply) and nothing more is read.
  - Returns, per kind, the plan (each change with the resource, the action, the fields before
    and after, and why) and the wanted entries the writers (M(amazon.aws.ec2_vpc_subnet),
    M(amazon.aws.ec2_vpc_route_table), M(amazon.aws.ec2_security_group)) have to run for, and
    whether M(amazon.aws.ec2_vpc_net) and M(amazon.aws.ec2_vpc_igw) have to.
  - Subnets are matched by CIDR; a subnet in another AZ is planned as C(replace) and not
    applied. Route tables are matched by their C(Name) tag; the VPC's own route and the routes
    gateway endpoints add are AWS's and not compared. Security groups are matched by name;
    rules are compared by protocol, ports, peer and description.
  - Read-only. In check mode it reports C(changed) when the plan has changes, so that
    C(--check --diff) shows them before and after; otherwise it never does.
options:
  vpc_id:
    description:
      - The VPC whose resources are read.
      - One of O(vpc_id) and O(vpc) is required.
    type: str
  vpc:
    description:
      - The wanted VPC, found by its C(Name) tag and CIDR; DNS support and DNS hostnames are on.
      - One of O(vpc_id) and O(vpc) is required.
    type: dict
    suboptions:
      name:
        description: Its C(Name) tag.
        type: str
        required: true
      cidr:
        description: Its primary IPv4 CIDR block.
        type: str
        required: true
      tags:
        description: Its other tags.
        type: dict
        default: {}
  internet_gateway:
    description:
      - The VPC's wanted internet gateway (read only when given).
    type: dict
    suboptions:
      name:
        description: Its name in the plan.
        type: str
        required: true
      tags:
        description: Its tags (C(Name) included).
        type: dict
        required: true
  tags:
    description:
      - Tags every subnet and security group carries besides its C(Name) tag (and, for a subnet,
        its C(bluegreen:tier) tag). An entry's own C(tags) replace them.
    type: dict
    default: {}
  nat_gateways:
    description: Whether to read the VPC's NAT gateways (pending or available).
    type: bool
    default: false
  nat_layout:
    description:
      - With O(subnets) or O(layout), plans the NAT gateways (the VPC's are read), one in the first public
        subnet (V(single)) or one in each public subnet (V(per_az)); gateways in other subnets
        are planned for deletion.
    type: str
    choices: [single, per_az]
  environment_suffix:
    description:
      - The environment suffix, for the names of the resources to create that the module names
        (with the collection's naming function), such as a NAT gateway and its elastic IP, and the VPC endpoints.
      - Required with O(nat_layout), O(layout) and O(vpc_endpoints).
    type: str
  vpc_endpoints:
    description:
      - The full service names of the wanted VPC endpoints (C(com.amazonaws.<region>.<service>));
        the VPC's endpoints are read only when given (all but those deleting or deleted). A listed
        service without a usable endpoint of its type is planned for creation; the endpoints of
        other services, of another type, a second one of a service and one that V(failed), was
        V(rejected) or V(expired) (it serves nothing) for deletion, which comes first.
      - An endpoint kept is compared with what it should have - its tags, AWS's default full-access policy,
        the private route tables and the isolated one (gateway endpoints), the private subnets, the C(endpoints)
        security group of O(security_groups) and private DNS on (interface endpoints) - and planned for update
        when they differ, so a NAT
        layout change moves a gateway endpoint to the new route tables instead of adding a second
        endpoint (AWS refuses two endpoints of one service on a route table).
      - Requires O(environment_suffix) (the endpoints' names).
    type: list
    elements: str
  gateway_endpoint_services:
    description:
      - The services (short names) whose endpoints are gateway endpoints; the others are interface endpoints.
    type: list
    elements: str
    default: [s3, dynamodb]
  subnets:
    description:
      - Wanted subnets, each with C(name), C(cidr), C(az), C(tier) and C(index) (in its tier).
      - Subnets are read only when given (or with O(layout)).
    type: list
    elements: dict
  layout:
    description:
      - Builds the wanted subnets instead of O(subnets), the VPC CIDR cut into equal public,
        private and isolated subnets across the AZs, named with O(environment_suffix).
      - The AZs are O(layout.azs) when listed; else those the VPC's subnets already fix (each index of
        the layout has a subnet), read with them; else the region's first O(layout.az_count)
        available ones (C(DescribeAvailabilityZones)), a failure when the region has fewer.
      - Fargate runs tasks in only some AZs (by zone id) of a few regions (us-west-1, ap-northeast-1, cn-north-1),
        where an older account may list another. There the AZs picked leave those out, and listed AZs among them
        fail the plan before any write, naming the zone ids.
      - Not every service offers its interface endpoint in every AZ. With interface endpoints in O(vpc_endpoints), the
        zones they are offered in are read (one C(DescribeVpcEndpointServices)); the AZs picked are among those every
        one is offered in, and listed AZs (or those an existing VPC's subnets fix) that one lacks fail the plan before
        any write, naming the service and its zones.
      - Returned as RV(layout), with the route tables' names.
    type: dict
    suboptions:
      cidr:
        description: The VPC's CIDR block.
        type: str
        required: true
      azs:
        description: Explicit AZs; empty picks them as said above.
        type: list
        elements: str
        default: []
      az_count:
        description: How many AZs, when O(layout.azs) is empty.
        type: int
        default: 3
  route_tables_when_ready:
    description:
      - With O(vpc), O(internet_gateway), O(layout) (or O(subnets)), O(nat_layout) and O(security_groups) with
        their rules, also reads the route tables and plans them (named as in RV(layout.route_table_names) unless
        O(route_table_names) is given) and the security group rules, in this run, when everything they name
        exists (the internet gateway, every subnet, every security group and the NAT gateway of every NAT subnet).
      - Otherwise RV(route_tables), RV(egress) and the rules' plan are not returned, and a second run with
        O(vpc_id) after the writers plans them.
    type: bool
    default: false
  route_tables:
    description:
      - Wanted route tables, each with C(tags) (the C(Name) tag identifies it), C(subnets) (ids)
        and C(routes) (each C(dest) with C(gateway_id) or C(nat_gateway_id)).
      - Route tables are read only when given.
    type: list
    elements: dict
  route_table_names:
    description:
      - Builds the wanted route tables (instead of O(route_tables)) from the subnets, the
        internet gateway and the NAT gateways; the names of the tables, with the common O(tags)
        plus C(Name) and C(bluegreen:tier).
      - One private name puts every private subnet behind the first public subnet's NAT
        gateway; one per AZ puts each private subnet behind its own AZ's.
    type: dict
    suboptions:
      public:
        description: The public table's name.
        type: str
        required: true
      private:
        description: The private tables' names, one or one per AZ.
        type: list
        elements: str
        required: true
      isolated:
        description: The isolated table's name.
        type: str
        required: true
  subnet_ids:
    description: With O(route_table_names), the subnet ids of each tier (C(public), C(private), C(isolated)) in AZ order.
    type: dict
  internet_gateway_id:
    description: With O(route_table_names), the internet gateway the public table routes through.
    type: str
  nat_gateways_found:
    description:
      - The NAT gateways as read before (this module's RV(nat_gateways)), each with C(nat_gateway_id),
        C(subnet_id) and C(state).
      - The private route tables route through them; a table whose NAT gateway is not available
        is held back (RV(egress.route_tables)), or only its route (RV(egress.routes)), with the gateway to wait for
        (RV(egress.wait_for)).
    type: list
    elements: dict
    default: []
  nat_gateways_created:
    description:
      - The results of M(bluegreen.migration.nat_gateway_create) for the gateways created since
        O(nat_gateways_found) was read; each counts as pending, whatever its state said.
    type: list
    elements: dict
    default: []
  deferred_tiers:
    description:
      - Tiers (the C(bluegreen:tier) tag) whose route tables are planned but not applied yet,
        e.g. private tables whose NAT gateway is not available.
    type: list
    elements: str
    default: []
  security_groups:
    description:
      - Wanted security groups, each with C(key) and C(name), and, to compare the rules,
        C(rules) and C(egress) (each rule C(proto), C(ports), C(cidr_ip), C(group_id) or C(group), C(rule_desc)).
      - A rule's C(group) is the C(key) of one of these groups; the module gives its id (as read,
        or from O(security_group_ids)) as C(group_id) in RV(security_groups.apply).
      - Without C(rules) and C(egress) only their existence is checked (groups to create first,
        before the rules that refer to each other).
      - Security groups are read only when given.
    type: list
    elements: dict
  security_group_ids:
    description:
      - Key to id of security groups the read may not show yet (just created), or, in a plan,
        C((known after create)) for those still to create; for the rules' C(group).
    type: dict
    default: {}
author:
  - bluegreen.migration maintainers (@bluegreen)
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Read the VPC, its internet gateway, security groups and subnets in one run
  bluegreen.migration.network_plan:
    vpc: {name: vpc-dev, cidr: 10.0.0.0/16, tags: {"bluegreen:environment": dev}}
    internet_gateway: {name: igw-dev, tags: {Name: igw-dev, "bluegreen:environment": dev}}
    security_groups:
      - {key: app, name: app-dev, description: Application tasks}
    subnets:
      - {name: public-a-dev, cidr: 10.0.0.0/24, az: us-east-1a, tier: public}
  register: network_base

- name: Create the VPC or fix it, only when the plan says so
  amazon.aws.ec2_vpc_net:
    name: vpc-dev
    cidr_block: 10.0.0.0/16
  when: network_base.vpc.apply

- name: Plan the subnets of the VPC
  bluegreen.migration.network_plan:
    vpc_id: vpc-0123456789abcdef0
    subnets:
      - {name: public-a-dev, cidr: 10.0.0.0/24, az: us-east-1a, tier: public}
    tags: {"bluegreen:environment": dev}
  register: network_subnet_plan

- name: Create or fix only the subnets the plan names
  amazon.aws.ec2_vpc_subnet:
    vpc_id: vpc-0123456789abcdef0
    cidr: "{{ item.cidr }}"
    az: "{{ item.az }}"
    tags: "{{ item.tags }}"
  loop: "{{ network_subnet_plan.subnets.apply }}"
"""

RETURN = r"""
layout:
  description: The AZs, the subnets and the route tables' names (when layout was given).
  returned: when layout is given
  type: dict
  contains:
    azs:
      description: The AZs, in the layout's order.
      type: list
      elements: str
    subnets:
      description: Every subnet, tier-major, each with C(tier), C(az), C(index), C(cidr) and C(name).
      type: list
      elements: dict
    route_table_names:
      description: C(public), C(private) (one, or one per AZ with the per_az NAT layout) and C(isolated).
      type: dict
    warnings:
      description:
        - What the layout keeps that does not work as wanted, also shown as warnings; for now, private subnets of an
          existing VPC in a zone where Fargate runs no task (us-west-1, ap-northeast-1, cn-north-1).
      type: list
      elements: str
vpc:
  description: The VPC's plan (when vpc was given).
  returned: when vpc is given
  type: dict
  contains:
    id:
      description: The VPC's id; null when it does not exist yet.
      type: str
    apply:
      description: Whether M(amazon.aws.ec2_vpc_net) has to create or fix the VPC.
      type: bool
internet_gateway:
  description: The internet gateway's plan (when internet_gateway was given).
  returned: when internet_gateway is given
  type: dict
  contains:
    id:
      description: The gateway's id; null when the VPC has none.
      type: str
    apply:
      description: Whether M(amazon.aws.ec2_vpc_igw) has to create, attach or fix it.
      type: bool
nat_gateways:
  description: The VPC's NAT gateways that are pending or available (when nat_gateways is true).
  returned: when nat_gateways is true
  type: list
  elements: dict
  sample: [{"nat_gateway_id": "nat-0123456789abcdef0", "subnet_id": "subnet-0123456789abcdef0", "state": "available"}]
nat:
  description: The NAT gateways' plan (when nat_layout was given).
  returned: when nat_layout is given
  type: dict
  contains:
    changes:
      description: The NAT gateways to create or delete.
      type: list
      elements: dict
    apply:
      description:
        - The NAT subnets (wanted subnet entries, with C(cidr), C(az), C(index) in the tier) without a NAT gateway,
          each with the C(nat_name) its gateway and the C(eip_name) the gateway's elastic IP get.
        - Each has also C(listed_nat_gateway_ids), the gateways EC2 lists in its subnet in any state (a failed or
          deleted one stays listed about an hour), which bluegreen.migration.nat_gateway_create puts into its
          client token, and C(allocation_id), the elastic IP of ours named C(eip_name) to reuse (the lowest id; null
          when there is none and one is to be allocated). One is reused when it is not associated, or associated
          with a NAT gateway interface of the VPC that no listed gateway holds (a stopped run's gateway EC2 does
          not list yet); one associated with anything else is left alone.
      type: list
      elements: dict
    pending:
      description: The ids of the NAT subnets' gateways that are still pending.
      type: list
      elements: str
    stale:
      description: The gateways outside the NAT subnets (another layout's), each with C(nat_gateway_id) and C(subnet_id).
      type: list
      elements: dict
egress:
  description:
    - The private subnets' egress (when route tables were planned) given the NAT gateways' states.
  returned: when route_tables or route_table_names is given, or route_tables_when_ready found everything they name
  type: dict
  contains:
    nat_gateway_ids:
      description: The NAT gateway each private route table routes through, in the tables' order (null when unknown, as in check mode).
      type: list
      elements: str
    wait_for:
      description: The NAT gateways that are not available yet and that a route table to apply names.
      type: list
      elements: str
    route_tables:
      description:
        - The route tables held back whole until RV(egress.wait_for) are available; the same shape as RV(route_tables.apply).
        - A table that exists, or that takes subnets from another table (a NAT layout switch), or any new table when the
          VPC's main table routes out, so that those subnets keep their egress until the new route works.
      type: list
      elements: dict
    routes:
      description:
        - The routes held back alone until RV(egress.wait_for) are available, each with C(route_table) (the table's Name tag),
          C(dest) and C(nat_gateway_id).
        - Those of a new table that takes no subnet from another table (a first deploy) while the VPC's main table routes
          nowhere; the table itself, without them, is in RV(route_tables.apply).
      type: list
      elements: dict
vpc_endpoints:
  description: The VPC endpoints' plan (when vpc_endpoints was given).
  returned: when vpc_endpoints is given
  type: dict
  contains:
    changes:
      description: The endpoints to create, update and delete.
      type: list
      elements: dict
    create:
      description:
        - The endpoints to create, each with C(service) (full name), C(type) (V(Gateway) or V(Interface)), C(name), C(tags),
          C(policy) (the document) and, an interface endpoint, C(private_dns_enabled).
      type: list
      elements: dict
    modify:
      description:
        - The endpoints whose route tables, subnets, security groups, policy, private DNS or tags differ; as RV(vpc_endpoints.create),
          with C(vpc_endpoint_id).
      type: list
      elements: dict
    stale:
      description: The endpoints to delete, each with C(vpc_endpoint_id) and C(service_name).
      type: list
      elements: dict
    ids:
      description: Full service name to the id of the endpoint kept for it (services whose endpoint is to create are not in it).
      type: dict
    pending:
      description: The ids of the endpoints kept that are still C(pending) (a run stopped before they were available), to wait for.
      type: list
      elements: str
changes:
  description: The plan of every kind read, one entry per resource to create, update or replace.
  returned: always
  type: list
  elements: dict
  sample:
    - resource: security group
      name: app-dev
      action: update
      fields: {"ingress": {"before": ["tcp 80-80 sg-1 (from the load balancer)", "tcp 22-22 0.0.0.0/0"],
                           "after": ["tcp 80-80 sg-1 (from the load balancer)"]}}
      reason: differs from the inputs
lines:
  description: The plan as one readable line per change.
  returned: always
  type: list
  elements: str
writes:
  description:
    - Whether a writer of the deploy's first pass has something to do - the VPC, the internet gateway,
      a missing security group, a subnet, a NAT gateway, a route table or the rules of a security group;
      or, with O(route_tables_when_ready), the route tables and rules are still to plan once what they name exists.
    - The role runs those writers only then, so a converged re-run runs none of them.
    - Not about the NAT gateways to wait for, the other NAT layout's leftovers or the VPC endpoints (the C(egress) entry point's).
  returned: always
  type: bool
leftovers_or_endpoints:
  description:
    - Whether the C(egress) entry point has a route table or a NAT gateway of another NAT layout to delete, or
      VPC endpoints to create, modify, delete or wait for; with O(route_tables_when_ready) also while the route tables are
      still to plan (the later read lists the stale ones).
    - The role runs those tasks only then, so a converged re-run runs none of them.
  returned: always
  type: bool
subnets:
  description: The subnets' plan (when subnets were given).
  returned: when subnets is given
  type: dict
  contains:
    changes:
      description: Changes to the subnets.
      type: list
      elements: dict
    apply:
      description: The wanted subnets to create or fix.
      type: list
      elements: dict
    ids:
      description: CIDR to subnet id of the subnets the VPC has.
      type: dict
route_tables:
  description: The route tables' plan (when route tables were given, or with route_tables_when_ready when ready).
  returned: when route_tables or route_table_names is given, or route_tables_when_ready found everything they name
  type: dict
  contains:
    changes:
      description: Changes to the route tables.
      type: list
      elements: dict
    apply:
      description:
        - The wanted route tables to create or fix now.
        - An entry that takes subnets now associated with another table lists them in C(subnets_moved).
      type: list
      elements: dict
    found:
      description: Every route table of the VPC, each with C(id), C(tags) (a dict) and the rest in snake case.
      type: list
      elements: dict
    ids:
      description: Name tag to id of the route tables the VPC has.
      type: dict
    wanted:
      description: The wanted route tables (as given, or as built from O(route_table_names)).
      type: list
      elements: dict
    stale:
      description: The role's route tables (tagged C(bluegreen:tier)) that are not wanted, each with C(id) and C(name).
      type: list
      elements: dict
security_groups:
  description: The security groups' plan (when security groups were given).
  returned: when security_groups is given
  type: dict
  contains:
    ids:
      description: Key to group id of the wanted groups that exist.
      type: dict
    missing:
      description: The wanted groups that do not exist.
      type: list
      elements: dict
    changes:
      description: Changes to the groups (rules and tags; only when rules were given).
      type: list
      elements: dict
    apply:
      description: The wanted groups whose rules or tags to apply (only when rules were given).
      type: list
      elements: dict
"""

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError

from ansible_collections.bluegreen.migration.plugins.module_utils import naming, network
from ansible_collections.bluegreen.migration.plugins.module_utils.core import BlueGreenModule
from ansible_collections.bluegreen.migration.plugins.module_utils.plan import KNOWN_AFTER_CREATE


def snake_route_table(table):
    found = camel_dict_to_snake_dict(table, ignore_list=["Tags"])
    found["tags"] = network.tags_of(table)
    found["id"] = table["RouteTableId"]
    return found


def with_tags(entries, common, tier=False):
    """Each entry with its full tags: the common ones, its Name and (subnets) its tier."""
    tagged = []
    for entry in entries:
        own = dict(common, Name=entry["name"])
        if tier:
            own["bluegreen:tier"] = entry["tier"]
        tagged.append(dict(entry, tags=entry.get("tags") or own))
    return tagged


def plan_egress(params, found, names=None, subnet_ids=None, internet_gateway_id=None, nats_found=None):
    """The route tables' plan and the private subnets' egress: a table whose NAT gateway is
    not available yet is held back, or only its route (a new table), with the gateway to wait
    for. The names, subnet ids, gateway and NAT gateways are the parameters' unless given (as
    read in this run)."""
    names = names or params["route_table_names"]
    nats = network.nat_gateways_now(params["nat_gateways_found"] if nats_found is None else nats_found, params["nat_gateways_created"])
    wanted = params["route_tables"]
    if wanted is None:
        given = subnet_ids or params["subnet_ids"] or {}
        subnets = dict((tier, given.get(tier) or []) for tier in ("public", "private", "isolated"))
        wanted = network.wanted_route_tables(names, params["tags"], subnets, internet_gateway_id or params["internet_gateway_id"], nats)
    table_changes, to_apply = network.plan_route_tables(wanted, found, params["deferred_tiers"])
    ready, waiting, wait_for, routes = network.waiting_for_nat(table_changes, to_apply, nats, network.main_table_routes_out(found))
    stale_changes, stale = network.plan_stale_route_tables(wanted, found) if names is not None else ([], [])
    tables = {
        "changes": table_changes + stale_changes,
        "apply": ready,
        "found": [snake_route_table(t) for t in found],
        "ids": network.route_table_ids(found),
        "wanted": wanted,
        "stale": stale,
    }
    private = [t for t in wanted if t["tags"].get("bluegreen:tier") == "private"]
    nat_ids = [next((r.get("nat_gateway_id") for r in t["routes"] if r.get("nat_gateway_id")), None) for t in private]
    return tables, {"nat_gateway_ids": nat_ids, "wait_for": wait_for, "route_tables": waiting, "routes": routes}


def plan_layout(client, params, found_subnets):
    """The AZs (given, fixed by the VPC's subnets, or the region's first ones where Fargate runs
    tasks) and the subnets of each tier across them, with the route tables' names."""
    layout = params["layout"]
    az_count = len(layout["azs"]) if layout["azs"] else layout["az_count"]
    region = getattr(getattr(client, "meta", None), "region_name", None)
    interface = [service for service in params["vpc_endpoints"] or []
                 if network.endpoint_service_short_name(service) not in (params["gateway_endpoint_services"] or [])]
    endpoint_zones = (lambda: network.read_endpoint_service_zones(client, interface)) if interface else None
    azs = network.choose_azs(layout["azs"], az_count, layout["cidr"], found_subnets, lambda: network.read_availability_zones(client), region,
                             endpoint_zones)
    suffix = params["environment_suffix"]
    subnets = network.subnet_layout(layout["cidr"], azs, suffix)
    private = [s["cidr"] for s in subnets if s["tier"] == "private"]
    unplaced = network.subnets_without_fargate(found_subnets, private, region)
    warnings = ["private subnet(s) %s of the existing VPC are in zones where Fargate runs no task in %s: no service task is placed there"
                " (the VPC keeps its zones; a network in other zones needs another VPC CIDR or network_azs on a new VPC)"
                % ("; ".join(unplaced), region)] if unplaced else []
    return {
        "azs": azs,
        "subnets": subnets,
        "route_table_names": naming.route_table_names(azs, params["nat_layout"] or "single", suffix),
        "warnings": warnings,
    }


def ready_for_egress(result, wanted_subnets):
    """Whether every id the route tables and the rules name was read: the VPC's internet gateway,
    every subnet, every security group and the NAT gateway of every NAT subnet."""
    if not all(key in result for key in ("internet_gateway", "subnets", "nat", "security_groups")):
        return False
    found = result["subnets"]["ids"]
    return bool(
        result["internet_gateway"]["id"]
        and all(s["cidr"] in found for s in wanted_subnets)
        and not result["security_groups"]["missing"]
        and not result["nat"]["apply"]
    )


def route_tables_planned_later(result, params):
    """Whether the route tables and rules were left to a later read (route_tables_when_ready, and
    something they name does not exist yet): both flags below are then true."""
    return bool(params["route_tables_when_ready"] and "route_tables" not in result)


def writes(result, params):
    """Whether a writer of the deploy's first pass has something to do: the VPC, the internet gateway,
    a missing security group, a subnet, a NAT gateway, a route table or a group's rules; or, with
    route_tables_when_ready, the route tables and rules could not be planned yet."""
    if route_tables_planned_later(result, params):
        return True
    return bool(
        any(result.get(kind, {}).get("apply") for kind in ("vpc", "internet_gateway", "subnets", "nat", "route_tables", "security_groups"))
        or result.get("security_groups", {}).get("missing")
    )


def leftovers_or_endpoints(result, params):
    """Whether the `egress` entry point has a route table or NAT gateway of another NAT layout to
    delete, or VPC endpoints to create, modify, delete or wait for; with route_tables_when_ready also while the
    route tables are still to plan (a later read finds the stale ones)."""
    if route_tables_planned_later(result, params):
        return True
    endpoints = result.get("vpc_endpoints", {})
    return bool(
        result.get("route_tables", {}).get("stale")
        or result.get("nat", {}).get("stale")
        or any(endpoints.get(kind) for kind in ("create", "modify", "stale", "pending"))
    )


def endpoint_attachments(params, read, result, found, wanted_subnets, names, group_ids):
    """The route tables (gateway endpoints), subnets and security group (interface endpoints) the
    endpoints `found` should have, by the ids known in this run (KNOWN_AFTER_CREATE for one to
    create). The route tables are read for this only when a gateway endpoint exists (a re-run
    reads them anyway)."""
    attachments = {}
    if names and any(e.get("VpcEndpointType") == "Gateway" for e in found):
        table_ids = network.route_table_ids(read(network.read_route_tables))
        attachments["route_table_ids"] = [table_ids.get(name) or KNOWN_AFTER_CREATE for name in names["private"] + [names["isolated"]]]
    if wanted_subnets is not None and "subnets" in result:
        ids = result["subnets"]["ids"]
        attachments["subnet_ids"] = [ids.get(s["cidr"]) or KNOWN_AFTER_CREATE for s in wanted_subnets if s["tier"] == "private"]
    if params["security_groups"] is not None:
        attachments["security_group_ids"] = [group_ids.get("endpoints") or KNOWN_AFTER_CREATE]
    return attachments


def plan_endpoints(params, read, result, wanted_subnets, names, group_ids):
    """The VPC endpoints' plan (network.plan_vpc_endpoints) with its changes."""
    wanted = network.wanted_vpc_endpoints(params["vpc_endpoints"], params["gateway_endpoint_services"], params["environment_suffix"], params["tags"])
    found = read(network.read_vpc_endpoints)
    attachments = endpoint_attachments(params, read, result, found, wanted_subnets, names, group_ids) if found else {}
    changes, endpoints = network.plan_vpc_endpoints(wanted, found, attachments)
    endpoints["changes"] = changes
    return endpoints


def plan(client, params):
    result, changes = {}, []
    vpc_id = params["vpc_id"]
    if params["vpc"] is not None:
        vpc_changes, vpc_id, apply = network.plan_vpc(params["vpc"], network.read_vpcs(client, params["vpc"]["name"], params["vpc"]["cidr"]))
        result["vpc"] = {"id": vpc_id, "apply": apply}
        changes += vpc_changes
    # Each kind is read once per run; a VPC still to create has nothing in it to read.
    answers = {}

    def read(reader):
        if not vpc_id:
            return []
        if reader not in answers:
            answers[reader] = reader(client, vpc_id)
        return answers[reader]

    if params["internet_gateway"] is not None:
        gateway = params["internet_gateway"]
        igw_changes, igw_id, apply = network.plan_internet_gateway(gateway["name"], gateway["tags"], read(network.read_internet_gateways))
        result["internet_gateway"] = {"id": igw_id, "apply": apply}
        changes += igw_changes
    if params["nat_gateways"] or params["nat_layout"]:
        listed_nats = read(network.read_nat_gateways)
        result["nat_gateways"] = network.live_nat_gateways(listed_nats)
    wanted_subnets = params["subnets"]
    if params["layout"] is not None:
        result["layout"] = plan_layout(client, params, read(network.read_subnets))
        wanted_subnets = result["layout"]["subnets"]
    if wanted_subnets is not None:
        found = read(network.read_subnets)
        subnet_changes, to_apply = network.plan_subnets(with_tags(wanted_subnets, params["tags"], tier=True), found)
        result["subnets"] = {"changes": subnet_changes, "apply": to_apply, "ids": network.subnet_ids(found)}
        changes += subnet_changes
        if params["nat_layout"]:
            # The addresses are read only when a gateway is missing from a VPC that exists.
            nat_changes, result["nat"] = network.plan_nat_gateways(
                wanted_subnets, params["nat_layout"], found, listed_nats, params["environment_suffix"],
                (lambda names: network.read_addresses(client, vpc_id, names)) if vpc_id else None,
            )
            result["nat"]["changes"] = nat_changes
            changes += nat_changes
    wanted_groups, group_ids = [], {}
    if params["security_groups"] is not None:
        by_name = dict((g["GroupName"], g["GroupId"]) for g in read(network.read_security_groups))
        wanted_groups = with_tags(params["security_groups"], params["tags"])
        result["security_groups"] = {
            "ids": dict((g["key"], by_name[g["name"]]) for g in wanted_groups if g["name"] in by_name),
            "missing": [g for g in wanted_groups if g["name"] not in by_name],
        }
        group_ids = dict(params["security_group_ids"] or {}, **result["security_groups"]["ids"])
    # The first run of a deploy (with route_tables_when_ready) goes on to the route tables and
    # the rules when everything they name exists, as on a re-run: the second run is then not needed.
    egress_now = params["route_tables"] is not None or params["route_table_names"] is not None
    names = params["route_table_names"] or result.get("layout", {}).get("route_table_names")
    if params["route_tables_when_ready"] and vpc_id and names and ready_for_egress(result, wanted_subnets or []):
        ids = result["subnets"]["ids"]
        subnet_ids = dict((tier, [ids[s["cidr"]] for s in wanted_subnets if s["tier"] == tier]) for tier in ("public", "private", "isolated"))
        result["route_tables"], result["egress"] = plan_egress(
            params, read(network.read_route_tables), names, subnet_ids, result["internet_gateway"]["id"], result["nat_gateways"]
        )
        changes += result["route_tables"]["changes"]
        plan_rules = True
    elif params["route_tables_when_ready"]:
        plan_rules = False
    else:
        if egress_now:
            result["route_tables"], result["egress"] = plan_egress(params, read(network.read_route_tables))
            changes += result["route_tables"]["changes"]
        plan_rules = True
    if plan_rules and wanted_groups and all("rules" in g or "egress" in g for g in wanted_groups):
        resolved = network.resolve_group_refs(wanted_groups, group_ids)
        if resolved is None:
            raise network.NetworkError(message="a rule names a security group without an id: pass it in security_group_ids")
        groups = result["security_groups"]
        groups["changes"], groups["apply"] = network.plan_security_groups(resolved, read(network.read_security_groups))
        changes += groups["changes"]
    # Last: an endpoint's route tables, subnets and security group are those planned above.
    if params["vpc_endpoints"] is not None:
        result["vpc_endpoints"] = plan_endpoints(params, read, result, wanted_subnets, names, group_ids)
        changes += result["vpc_endpoints"]["changes"]
    return result, changes


def main():
    argument_spec = dict(
        vpc_id=dict(type="str"),
        vpc=dict(type="dict", options=dict(name=dict(type="str", required=True), cidr=dict(type="str", required=True), tags=dict(type="dict", default={}))),
        internet_gateway=dict(type="dict", options=dict(name=dict(type="str", required=True), tags=dict(type="dict", required=True))),
        tags=dict(type="dict", default={}),
        nat_gateways=dict(type="bool", default=False),
        vpc_endpoints=dict(type="list", elements="str"),
        gateway_endpoint_services=dict(type="list", elements="str", default=["s3", "dynamodb"]),
        subnets=dict(type="list", elements="dict"),
        route_tables=dict(type="list", elements="dict"),
        nat_layout=dict(type="str", choices=["single", "per_az"]),
        environment_suffix=dict(type="str"),
        route_table_names=dict(type="dict", options=dict(
            public=dict(type="str", required=True), private=dict(type="list", elements="str", required=True), isolated=dict(type="str", required=True))),
        subnet_ids=dict(type="dict"),
        internet_gateway_id=dict(type="str"),
        nat_gateways_found=dict(type="list", elements="dict", default=[]),
        nat_gateways_created=dict(type="list", elements="dict", default=[]),
        deferred_tiers=dict(type="list", elements="str", default=[]),
        security_groups=dict(type="list", elements="dict"),
        security_group_ids=dict(type="dict", default={}),
        layout=dict(type="dict", options=dict(
            cidr=dict(type="str", required=True), azs=dict(type="list", elements="str", default=[]), az_count=dict(type="int", default=3))),
        route_tables_when_ready=dict(type="bool", default=False),
    )
    module = BlueGreenModule(argument_spec=argument_spec, supports_check_mode=True, required_one_of=[("vpc_id", "vpc")],
                             required_by={"nat_layout": ("environment_suffix",), "layout": ("environment_suffix",), "vpc_endpoints": ("environment_suffix",)},
                             mutually_exclusive=[("route_tables", "route_table_names"), ("subnets", "layout")])
    try:
        result, changes = plan(module.client("ec2"), module.params)
        for warning in result.get("layout", {}).get("warnings", []):
            module.warn(warning)
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)
    module.exit_with_plan(changes, writes=writes(result, module.params), leftovers_or_endpoints=leftovers_or_endpoints(result, module.params), **result)


if __name__ == "__main__":
    main()
