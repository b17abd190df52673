#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: bluegreen.migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# ruff: noqa: E402  (Ansible module layout: imports follow DOCUMENTATION, EXAMPLES and RETURN)

DOCUMENTATION = r"""
module: vpc_endpoint_update
short_description: Bring an existing VPC endpoint to the wanted route tables, subnets, security groups, policy, private DNS and tags
version_added: 0.1.0
description:
  - Changes an existing VPC endpoint in place (C(ModifyVpcEndpoint)) - the route tables a gateway
    endpoint joins, the subnets, security groups and private DNS of an interface endpoint, the
    policy of either - and its tags.
  - What amazon.aws.ec2_vpc_endpoint leaves out - it finds a gateway endpoint only by its exact route
    tables and otherwise creates another one, which AWS refuses on a route table that already routes
    to the service; it changes nothing but the tags of one it finds.
  - Only the options given are compared, lists order-insensitively and policies as policies (statement
    order, or a single value against a one-element list, does not matter); the endpoint is modified
    only when they differ, in one C(ModifyVpcEndpoint) call.
    A route table, subnet or security group created moments before may still be unknown to the
    endpoint service; that refusal is retried with backoff, as throttling is.
  - Supports check mode and diff mode.
options:
  vpc_endpoint_id:
    description: The endpoint's id.
    type: str
    required: true
  route_table_ids:
    description:
      - The route tables of a gateway endpoint; others are removed from it.
      - Only for a gateway endpoint.
    type: list
    elements: str
  subnet_ids:
    description:
      - The subnets of an interface endpoint (one per AZ); others are removed from it.
      - Only for an interface endpoint.
    type: list
    elements: str
  security_group_ids:
    description:
      - The security groups of an interface endpoint; others are removed from it.
      - Only for an interface endpoint.
    type: list
    elements: str
  policy:
    description:
      - The endpoint's policy document; replaced when it is not equivalent.
      - AWS gives an endpoint made without a policy a full-access one; pass that document to put it back.
      - Ignored for an endpoint that has no policy (its service takes none).
    type: json
  private_dns_enabled:
    description:
      - Whether the service's own hostname resolves to the endpoint inside the VPC.
      - Only for an interface endpoint.
    type: bool
author:
  - bluegreen.migration maintainers (@bluegreen)
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: The S3 gateway endpoint joins the private route tables and the isolated one
  bluegreen.migration.vpc_endpoint_update:
    vpc_endpoint_id: vpce-0123456789abcdef0
    route_table_ids: "{{ bluegreen_network.route_tables.private + [bluegreen_network.route_tables.isolated] }}"
    tags:
      Name: vpce-s3-dev
      bluegreen:environment: dev

- name: The Secrets Manager interface endpoint back to full access and private DNS
  bluegreen.migration.vpc_endpoint_update:
    vpc_endpoint_id: vpce-0fedcba9876543210
    policy:
      Version: "2008-10-17"
      Statement:
        - Effect: Allow
          Principal: "*"
          Action: "*"
          Resource: "*"
    private_dns_enabled: true
"""

RETURN = r"""
vpc_endpoint:
  description: The endpoint after the run (as it will be, in check mode).
  returned: always
  type: dict
  contains:
    vpc_endpoint_id:
      description: The endpoint's id.
      type: str
      sample: vpce-0123456789abcdef0
    service_name:
      description: The endpoint's service.
      type: str
      sample: com.amazonaws.us-east-1.s3
    vpc_endpoint_type:
      description: V(Gateway) or V(Interface).
      type: str
      sample: Gateway
    route_table_ids:
      description: The route tables of a gateway endpoint, sorted.
      type: list
      elements: str
      sample: [rtb-0123456789abcdef0]
    subnet_ids:
      description: The subnets of an interface endpoint, sorted.
      type: list
      elements: str
      sample: [subnet-0123456789abcdef0]
    security_group_ids:
      description: The security groups of an interface endpoint, sorted.
      type: list
      elements: str
      sample: [sg-0123456789abcdef0]
    policy:
      description:
        - The endpoint's policy, V(full access (AWS's default policy)) when it is equivalent to the policy
          AWS gives an endpoint made without one, else the document as JSON with sorted keys.
        - Null for a service that takes no endpoint policy.
      type: str
      sample: full access (AWS's default policy)
    private_dns_enabled:
      description: Whether private DNS is on (interface endpoints only).
      type: bool
      returned: for an interface endpoint
      sample: true
    tags:
      description: The endpoint's tags.
      type: dict
      sample: {"Name": "vpce-s3-dev"}
    state:
      description: The endpoint's state in lower case (V(available); V(pending) for a new interface endpoint, or one a change put back there).
      type: str
      sample: available
"""

from ansible_collections.amazon.aws.plugins.module_utils.ec2 import ensure_ec2_tags
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError

from ansible_collections.bluegreen.migration.plugins.module_utils import network
from ansible_collections.bluegreen.migration.plugins.module_utils.core import BlueGreenModule
from ansible_collections.bluegreen.migration.plugins.module_utils.diff import apply_tag_plan
from ansible_collections.bluegreen.migration.plugins.module_utils.diff import plan_tags

# Option -> (the endpoint type that takes it, ModifyVpcEndpoint's Add/Remove parameter stem).
ATTACHMENTS = {
    "route_table_ids": ("Gateway", "RouteTableIds"),
    "subnet_ids": ("Interface", "SubnetIds"),
    "security_group_ids": ("Interface", "SecurityGroupIds"),
}
# Options only one endpoint type takes, with that type.
ONE_TYPE_ONLY = dict([(key, kind) for key, (kind, _stem) in ATTACHMENTS.items()] + [("private_dns_enabled", "Interface")])


def ensure(module, client):
    params = module.params
    current = network.describe_vpc_endpoint(client, params["vpc_endpoint_id"])
    if current is None:
        module.fail_json(msg="vpc_endpoint_id %s: no such endpoint (or it is being deleted)" % params["vpc_endpoint_id"])
    wrong = [key for key, kind in ONE_TYPE_ONLY.items() if params[key] is not None and kind != current["vpc_endpoint_type"]]
    if wrong:
        module.fail_json(msg="%s: only for %s endpoints; %s is a %s endpoint" % (
            ", ".join(wrong), ONE_TYPE_ONLY[wrong[0]], params["vpc_endpoint_id"], current["vpc_endpoint_type"]))

    modify, after = {}, dict(current)
    for key, (_kind, stem) in ATTACHMENTS.items():
        if params[key] is None:
            continue
        wanted = sorted(set(params[key]))
        add = [i for i in wanted if i not in current[key]]
        remove = [i for i in current[key] if i not in wanted]
        if add:
            modify["Add" + stem] = add
        if remove:
            modify["Remove" + stem] = remove
        after[key] = wanted
    if params["policy"] and network.endpoint_policy_differs(current["policy"], params["policy"]):
        modify["PolicyDocument"] = params["policy"]
        after["policy"] = network.endpoint_policy(params["policy"])
    if params["private_dns_enabled"] is not None and params["private_dns_enabled"] != current["private_dns_enabled"]:
        modify["PrivateDnsEnabled"] = params["private_dns_enabled"]
        after["private_dns_enabled"] = params["private_dns_enabled"]
    to_set, to_unset = plan_tags(current["tags"], params["tags"], params["purge_tags"])
    after["tags"] = apply_tag_plan(current["tags"], to_set, to_unset)
    changed = bool(modify or to_set or to_unset)

    if changed and not module.check_mode:
        if modify:
            network.modify_vpc_endpoint(client, params["vpc_endpoint_id"], modify)
        if to_set or to_unset:
            ensure_ec2_tags(client, module, params["vpc_endpoint_id"], resource_type="vpc-endpoint", tags=params["tags"], purge_tags=params["purge_tags"])
        after = network.describe_vpc_endpoint(client, params["vpc_endpoint_id"]) or after
    module.exit_with_diff(changed, current, after, vpc_endpoint=after)


def main():
    argument_spec = dict(
        vpc_endpoint_id=dict(type="str", required=True),
        route_table_ids=dict(type="list", elements="str"),
        subnet_ids=dict(type="list", elements="str"),
        security_group_ids=dict(type="list", elements="str"),
        policy=dict(type="json"),
        private_dns_enabled=dict(type="bool"),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
    )
    module = BlueGreenModule(argument_spec=argument_spec, supports_check_mode=True)
    try:
        ensure(module, module.client("ec2"))
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)


if __name__ == "__main__":
    main()
