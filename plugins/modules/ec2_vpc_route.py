#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: bluegreen.migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# ruff: noqa: E402  (Ansible module layout: imports follow DOCUMENTATION, EXAMPLES and RETURN)

DOCUMENTATION = r"""
module: ec2_vpc_route
short_description: One IPv4 route of an existing route table, through a NAT gateway or a gateway
version_added: 0.1.0
description:
  - Creates, replaces or deletes one route (C(CreateRoute), C(ReplaceRoute), C(DeleteRoute)) of a route
    table that exists, and leaves the table's other routes, subnets and tags alone.
  - What amazon.aws.ec2_vpc_route_table does not offer - it manages a whole table and pauses 5 s after
    any change. Here the run ends when DescribeRouteTables shows the route as asked (up to O(wait_timeout)).
  - A table or NAT gateway created moments before may still be unknown to EC2 (eventual consistency);
    that refusal is retried with jittered backoff, as throttling is.
  - The route is compared by its destination and its target; the VPC's local route cannot be changed.
    A create that finds the route already there (a retried request that had gone through) replaces it.
  - Supports check mode and diff mode.
options:
  route_table_id:
    description: The route table's id.
    type: str
    required: true
  destination_cidr_block:
    description: The IPv4 destination of the route, for example V(0.0.0.0/0).
    type: str
    required: true
  nat_gateway_id:
    description:
      - The NAT gateway the route goes through; it should be available (AWS refuses a route to a pending one).
      - Exactly one of O(nat_gateway_id) and O(gateway_id) with O(state=present).
    type: str
  gateway_id:
    description:
      - The internet or virtual private gateway the route goes through.
      - Exactly one of O(nat_gateway_id) and O(gateway_id) with O(state=present).
    type: str
  state:
    description: Whether the route exists (with that target) or not.
    type: str
    choices: [present, absent]
    default: present
  wait_timeout:
    description: How many seconds to wait, after a change, for DescribeRouteTables to show it.
    type: int
    default: 60
author:
  - bluegreen.migration maintainers (@bluegreen)
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: The private subnets' egress through the NAT gateway, once it is available
  bluegreen.migration.ec2_vpc_route:
    route_table_id: rtb-0123456789abcdef0
    destination_cidr_block: 0.0.0.0/0
    nat_gateway_id: nat-0123456789abcdef0

- name: No default route any more
  bluegreen.migration.ec2_vpc_route:
    route_table_id: rtb-0123456789abcdef0
    destination_cidr_block: 0.0.0.0/0
    state: absent
"""

RETURN = r"""
route:
  description: The route after the run (as it will be, in check mode); null when there is none.
  returned: always
  type: dict
  contains:
    route_table_id:
      description: The route table's id.
      type: str
      sample: rtb-0123456789abcdef0
    destination_cidr_block:
      description: The route's destination.
      type: str
      sample: 0.0.0.0/0
    nat_gateway_id:
      description: The NAT gateway it goes through, if any.
      type: str
      sample: nat-0123456789abcdef0
    gateway_id:
      description: The gateway it goes through, if any.
      type: str
      sample: igw-0123456789abcdef0
    state:
      description: V(active), or V(blackhole) when its target is gone; null in check mode for a route to create or replace.
      type: str
      sample: active
    origin:
      description: How the route was made (V(CreateRoute) for this module's).
      type: str
      sample: CreateRoute
"""

import time

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError

from ansible_collections.bluegreen.migration.plugins.module_utils import network
from ansible_collections.bluegreen.migration.plugins.module_utils.core import BlueGreenModule

TARGETS = (("nat_gateway_id", "NatGatewayId"), ("gateway_id", "GatewayId"))


def wanted_route(params):
    """The route as it should be after the run, or None (state absent)."""
    if params["state"] == "absent":
        return None
    return {
        "route_table_id": params["route_table_id"],
        "destination_cidr_block": params["destination_cidr_block"],
        "gateway_id": params["gateway_id"],
        "nat_gateway_id": params["nat_gateway_id"],
        "state": None,
        "origin": "CreateRoute",
    }


def same_target(route, wanted):
    return all(route.get(key) == wanted.get(key) for key, _param in TARGETS)


def shown(client, module, wanted):
    """DescribeRouteTables until it shows `wanted` (None: no route), for up to wait_timeout s:
    a route just written may take a moment to appear in EC2's answers."""
    params = module.params
    deadline = time.monotonic() + params["wait_timeout"]
    while True:
        table = network.describe_route_table(client, params["route_table_id"])
        route = network.route_of(table or {}, params["destination_cidr_block"])
        if (route is None) if wanted is None else (route is not None and same_target(route, wanted)):
            return route
        if time.monotonic() >= deadline:
            module.fail_json(msg="route %s of %s: DescribeRouteTables still shows %s after %d s" % (
                params["destination_cidr_block"], params["route_table_id"], route, params["wait_timeout"]))
        time.sleep(1)


def ensure(module, client):
    params = module.params
    table = network.describe_route_table(client, params["route_table_id"])
    if table is None:
        module.fail_json(msg="route_table_id %s: no such route table" % params["route_table_id"])
    current = network.route_of(table, params["destination_cidr_block"])
    if current and current["gateway_id"] == "local":
        module.fail_json(msg="destination_cidr_block %s: the VPC's local route of %s cannot be changed" % (
            params["destination_cidr_block"], params["route_table_id"]))
    wanted = wanted_route(params)
    if wanted is None:
        operation = "delete_route" if current else None
    elif current is None:
        operation = "create_route"
    else:
        operation = None if same_target(current, wanted) else "replace_route"

    after = current if operation is None else wanted
    if operation and not module.check_mode:
        if operation == "delete_route":
            network.delete_route(client, params["route_table_id"], params["destination_cidr_block"])
        else:
            target = dict((name, params[key]) for key, name in TARGETS if params[key])
            network.write_route(client, operation, params["route_table_id"], params["destination_cidr_block"], target)
        after = shown(client, module, wanted)
    module.exit_with_diff(bool(operation), current, after, route=after)


def main():
    argument_spec = dict(
        route_table_id=dict(type="str", required=True),
        destination_cidr_block=dict(type="str", required=True),
        nat_gateway_id=dict(type="str"),
        gateway_id=dict(type="str"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        wait_timeout=dict(type="int", default=60),
    )
    module = BlueGreenModule(
        argument_spec=argument_spec,
        mutually_exclusive=[("nat_gateway_id", "gateway_id")],
        required_if=[("state", "present", ("nat_gateway_id", "gateway_id"), True)],
        supports_check_mode=True,
    )
    try:
        ensure(module, module.client("ec2"))
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)


if __name__ == "__main__":
    main()
