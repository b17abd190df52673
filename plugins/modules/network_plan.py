#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: bluegreen.migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# ruff: noqa: E402  (Ansible module layout: imports follow DOCUMENTATION, EXAMPLES and RETURN)

DOCUMENTATION = r"""
module: network_plan
short_description: Read a VPC's subnets, route tables and security groups, and plan what differs from the wanted state
version_added: 0.1.0
description:
  - Reads, in one run, the kinds of resource it is given wanted entries for (C(DescribeSubnets),
    C(DescribeRouteTables), C(DescribeSecurityGroups), each filtered on the VPC) and compares
    them with the wanted ones.
  - Returns, per kind, the plan (each change with the resource, the action, the fields before
    and after, and why) and the wanted entries the writers (M(amazon.aws.ec2_vpc_subnet),
    M(amazon.aws.ec2_vpc_route_table), M(amazon.aws.ec2_security_group)) have to run for.
  - Subnets are matched by CIDR; a subnet in another AZ is planned as C(replace) and not
    applied. Route tables are matched by their C(Name) tag; the VPC's own route and the routes
    gateway endpoints add are AWS's and not compared. Security groups are matched by name;
    rules are compared by protocol, ports, peer and description.
  - Read-only. In check mode it reports C(changed) when the plan has changes, so that
    C(--check --diff) shows them before and after; otherwise it never does.
options:
  vpc_id:
    description: The VPC whose resources are read.
    type: str
    required: true
  tags:
    description:
      - Tags every subnet and security group carries besides its C(Name) tag (and, for a subnet,
        its C(bluegreen:tier) tag). An entry's own C(tags) replace them.
    type: dict
    default: {}
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
      description: The wanted route tables to create or fix now.
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
    if params["subnets"] is not None:
        found = network.read_subnets(client, vpc_id)
        subnet_changes, to_apply = network.plan_subnets(with_tags(params["subnets"], params["tags"], tier=True), found)
        result["subnets"] = {"changes": subnet_changes, "apply": to_apply, "ids": network.subnet_ids(found)}
        changes += subnet_changes
    if params["route_tables"] is not None:
        found = network.read_route_tables(client, vpc_id)
        table_changes, to_apply = network.plan_route_tables(params["route_tables"], found, params["deferred_tiers"])
        result["route_tables"] = {"changes": table_changes, "apply": to_apply, "found": [snake_route_table(t) for t in found]}
        changes += table_changes
    if params["security_groups"] is not None:
        found = network.read_security_groups(client, vpc_id)
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
        vpc_id=dict(type="str", required=True),
        tags=dict(type="dict", default={}),
        subnets=dict(type="list", elements="dict"),
        route_tables=dict(type="list", elements="dict"),
        deferred_tiers=dict(type="list", elements="str", default=[]),
        security_groups=dict(type="list", elements="dict"),
    )
    module = BlueGreenModule(argument_spec=argument_spec, supports_check_mode=True)
    try:
        result, changes = plan(module.client("ec2"), module.params)
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)
    module.exit_with_plan(changes, **result)


if __name__ == "__main__":
    main()
