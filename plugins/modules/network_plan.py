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
    C(DescribeVpcAttribute), C(DescribeInternetGateways), C(DescribeSubnets),
    C(DescribeRouteTables), C(DescribeSecurityGroups), each filtered on the VPC) and compares
    them with the wanted ones.
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
      - An empty string stands for a VPC still to create (the plan playbook on an empty account);
        nothing is read then, and every wanted resource is planned for creation.
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
  nat_gateway_subnets:
    description:
      - The NAT gateways the VPC should have, each with C(name) and C(subnet_id) (its public subnet);
        one whose subnet has no pending or available NAT gateway is planned for creation.
      - The NAT gateways are read only when given (or with O(nat_gateways)).
    type: list
    elements: dict
  vpc_endpoints:
    description:
      - The full service names of the wanted VPC endpoints (C(com.amazonaws.<region>.<service>));
        the VPC's endpoints are read only when given, and those of other services are planned
        for deletion.
    type: list
    elements: str
  subnets:
    description:
      - Wanted subnets, each with C(name), C(cidr), C(az) and C(tier).
      - Subnets are read only when given.
    type: list
    elements: dict
  route_tables:
    description:
      - Wanted route tables, each with C(tags) (the C(Name) tag identifies it), C(subnets) (ids)
        and C(routes) (each C(dest) with C(gateway_id) or C(nat_gateway_id)).
      - Route tables are read only when given.
    type: list
    elements: dict
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
        C(rules) and C(egress) (each rule C(proto), C(ports), C(cidr_ip) or C(group_id), C(rule_desc)).
      - Without C(rules) and C(egress) only their existence is checked (groups to create first,
        before the rules that refer to each other).
      - Security groups are read only when given.
    type: list
    elements: dict
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
  description: The VPC's NAT gateways that are pending or available (when nat_gateways is true or nat_gateway_subnets given).
  returned: when nat_gateways is true or nat_gateway_subnets is given
  type: list
  elements: dict
  sample: [{"nat_gateway_id": "nat-0123456789abcdef0", "subnet_id": "subnet-0123456789abcdef0", "state": "available"}]
nat_gateway_subnets:
  description: The NAT gateways' plan (when nat_gateway_subnets was given).
  returned: when nat_gateway_subnets is given
  type: dict
  contains:
    changes:
      description: The NAT gateways to create.
      type: list
      elements: dict
vpc_endpoints:
  description: The VPC endpoints' plan (when vpc_endpoints was given).
  returned: when vpc_endpoints is given
  type: dict
  contains:
    changes:
      description: The endpoints to delete.
      type: list
      elements: dict
    stale:
      description: The endpoints of services not listed, each with C(vpc_endpoint_id) and C(service_name).
      type: list
      elements: dict
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
  description: The route tables' plan (when route tables were given).
  returned: when route_tables is given
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

from ansible_collections.bluegreen.migration.plugins.module_utils import network
from ansible_collections.bluegreen.migration.plugins.module_utils.core import BlueGreenModule


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


def plan(client, params):
    result, changes = {}, []
    vpc_id = params["vpc_id"]
    if params["vpc"] is not None:
        vpc_changes, vpc_id, apply = network.plan_vpc(params["vpc"], network.read_vpcs(client, params["vpc"]["name"], params["vpc"]["cidr"]))
        result["vpc"] = {"id": vpc_id, "apply": apply}
        changes += vpc_changes
    # A VPC still to create has nothing in it: the reads below would find nothing.
    read = (lambda reader: reader(client, vpc_id)) if vpc_id else (lambda reader: [])
    if params["internet_gateway"] is not None:
        gateway = params["internet_gateway"]
        igw_changes, igw_id, apply = network.plan_internet_gateway(gateway["name"], gateway["tags"], read(network.read_internet_gateways))
        result["internet_gateway"] = {"id": igw_id, "apply": apply}
        changes += igw_changes
    if params["nat_gateways"] or params["nat_gateway_subnets"] is not None:
        result["nat_gateways"] = read(network.read_nat_gateways)
    if params["nat_gateway_subnets"] is not None:
        nat_changes = network.plan_nat_gateways(params["nat_gateway_subnets"], result["nat_gateways"])
        result["nat_gateway_subnets"] = {"changes": nat_changes}
        changes += nat_changes
    if params["vpc_endpoints"] is not None:
        endpoint_changes, stale = network.plan_vpc_endpoints(params["vpc_endpoints"], read(network.read_vpc_endpoints))
        result["vpc_endpoints"] = {"changes": endpoint_changes, "stale": stale}
        changes += endpoint_changes
    if params["subnets"] is not None:
        found = read(network.read_subnets)
        subnet_changes, to_apply = network.plan_subnets(with_tags(params["subnets"], params["tags"], tier=True), found)
        result["subnets"] = {"changes": subnet_changes, "apply": to_apply, "ids": network.subnet_ids(found)}
        changes += subnet_changes
    if params["route_tables"] is not None:
        found = read(network.read_route_tables)
        table_changes, to_apply = network.plan_route_tables(params["route_tables"], found, params["deferred_tiers"])
        result["route_tables"] = {"changes": table_changes, "apply": to_apply, "found": [snake_route_table(t) for t in found]}
        changes += table_changes
    if params["security_groups"] is not None:
        found = read(network.read_security_groups)
        by_name = dict((g["GroupName"], g["GroupId"]) for g in found)
        wanted = with_tags(params["security_groups"], params["tags"])
        groups = {
            "ids": dict((g["key"], by_name[g["name"]]) for g in wanted if g["name"] in by_name),
            "missing": [g for g in wanted if g["name"] not in by_name],
        }
        if all("rules" in g or "egress" in g for g in wanted):
            groups["changes"], groups["apply"] = network.plan_security_groups(wanted, found)
            changes += groups["changes"]
        result["security_groups"] = groups
    return result, changes


def main():
    argument_spec = dict(
        vpc_id=dict(type="str"),
        vpc=dict(type="dict", options=dict(name=dict(type="str", required=True), cidr=dict(type="str", required=True), tags=dict(type="dict", default={}))),
        internet_gateway=dict(type="dict", options=dict(name=dict(type="str", required=True), tags=dict(type="dict", required=True))),
        tags=dict(type="dict", default={}),
        nat_gateways=dict(type="bool", default=False),
        nat_gateway_subnets=dict(type="list", elements="dict"),
        vpc_endpoints=dict(type="list", elements="str"),
        subnets=dict(type="list", elements="dict"),
        route_tables=dict(type="list", elements="dict"),
        deferred_tiers=dict(type="list", elements="str", default=[]),
        security_groups=dict(type="list", elements="dict"),
    )
    module = BlueGreenModule(argument_spec=argument_spec, supports_check_mode=True, required_one_of=[("vpc_id", "vpc")])
    try:
        result, changes = plan(module.client("ec2"), module.params)
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)
    module.exit_with_plan(changes, **result)


if __name__ == "__main__":
    main()
