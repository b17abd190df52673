#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: bluegreen.migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# ruff: noqa: E402  (Ansible module layout: imports follow DOCUMENTATION, EXAMPLES and RETURN)

DOCUMENTATION = r"""
module: vpc_endpoint_create
short_description: Create a VPC endpoint, also where a failed or deleted one of its service is still listed
version_added: 0.1.0
description:
  - Creates a VPC endpoint (C(CreateVpcEndpoint)) of a service in a VPC, with its tags, unless a usable
    endpoint of that service and type with the same C(Name) tag is there already.
  - What amazon.aws.ec2_vpc_endpoint leaves out - it takes any endpoint of the service it finds in the VPC
    with the same route tables (any interface endpoint, which has none) for the one asked for, whatever
    its state, so it creates nothing while a deleted endpoint is still listed (AWS lists them a while)
    or one that failed is there.
  - Usable means in none of the states C(deleting), C(deleted), C(failed), C(rejected), C(expired).
  - An endpoint found is returned as it is (its subnets, route tables, policy and tags are not changed;
    bluegreen.migration.vpc_endpoint_update does that).
  - The policy is sent only when it is not equivalent to AWS's default full access (a service that takes
    only the default refuses any policy).
  - A private DNS name refused while an endpoint of the service is still deleting (C(conflicting DNS domain))
    is retried.
  - The create carries a client token made from the request, the ids of the endpoints of that service, type
    and C(Name) tag that EC2 lists in the VPC in any state, and the UTC hour. A run stopped right after the create and run again
    before EC2 lists the new endpoint (EC2 lists a new resource only after a while) repeats the same request,
    and EC2 answers with the endpoint the stopped run requested instead of making a second one. Once that
    endpoint is listed, in any state, the token changes. A create that botocore sends again after a lost
    answer makes one endpoint too.
  - EC2 answering the token with an endpoint deleted since (no longer listed), the create is made again
    with a token that counts it as listed (three times at most); one still deleting fails the module (it holds
    the route or private DNS name a while).
  - When the token cannot be the same (the UTC hour turned between the stopped run and this one), AWS
    refuses the second endpoint - a gateway endpoint's route to the service is there already
    (C(RouteAlreadyExists)), an interface endpoint's private DNS name is taken (retried first, as one still
    deleting gives it back) - and the module waits until EC2 lists a usable endpoint of the service with
    this C(Name) tag (O(wait_timeout)) and takes it.
  - The new endpoint is returned as C(CreateVpcEndpoint) answers it, not waited for - a new interface endpoint
    is V(pending) a minute or two (RV(vpc_endpoint.state)), then available or failed - so that a loop of them
    is waited for once (the network role does). One answered failed (or rejected) already fails the module,
    naming its state and last error.
  - Supports check mode and diff mode.
options:
  vpc_id:
    description: The VPC.
    type: str
    required: true
  service:
    description: The full service name, C(com.amazonaws.<region>.<service>).
    type: str
    required: true
  vpc_endpoint_type:
    description: The endpoint type.
    type: str
    choices: [Gateway, Interface]
    default: Gateway
  route_table_ids:
    description: The route tables of a gateway endpoint.
    type: list
    elements: str
  subnet_ids:
    description: The subnets of an interface endpoint (one per AZ).
    type: list
    elements: str
  security_group_ids:
    description: The security groups of an interface endpoint.
    type: list
    elements: str
  policy:
    description: The endpoint's policy document; AWS gives an endpoint made without one full access.
    type: json
  private_dns_enabled:
    description:
      - Whether the service's own hostname resolves to the endpoint inside the VPC (interface endpoints).
      - Left out, AWS turns it on.
    type: bool
  tags:
    description:
      - The new endpoint's tags. Its C(Name) tells an endpoint of the role apart from one made by hand.
      - The tags of an endpoint found are left as they are (bluegreen.migration.vpc_endpoint_update changes them).
    type: dict
    aliases: [resource_tags]
  wait_timeout:
    description:
      - Seconds to wait for EC2 to list the endpoint of an earlier request when AWS refuses the create because
        an endpoint holds its route or private DNS name.
    type: int
    default: 120
author:
  - bluegreen.migration maintainers (@bluegreen)
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: A Secrets Manager interface endpoint in the private subnets, behind its own security group
  bluegreen.migration.vpc_endpoint_create:
    vpc_id: vpc-0123456789abcdef0
    service: com.amazonaws.us-east-1.secretsmanager
    vpc_endpoint_type: Interface
    subnet_ids: "{{ bluegreen_network.subnets.private }}"
    security_group_ids: ["{{ bluegreen_network.security_groups.endpoints }}"]
    private_dns_enabled: true
    tags:
      Name: vpce-secretsmanager-dev
      bluegreen:environment: dev
"""

RETURN = r"""
vpc_endpoint:
  description:
    - The endpoint, as bluegreen.migration.vpc_endpoint_update returns it (the one found, or the one
      created).
    - In check mode, when it would be created, what was asked for, with C(vpc_endpoint_id) V((known after create\)).
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
      sample: com.amazonaws.us-east-1.secretsmanager
    vpc_endpoint_type:
      description: V(Gateway) or V(Interface).
      type: str
      sample: Interface
    route_table_ids:
      description: The route tables of a gateway endpoint, sorted.
      type: list
      elements: str
      sample: []
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
      description: The endpoint's policy, as bluegreen.migration.vpc_endpoint_update returns it.
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
      sample: {"Name": "vpce-secretsmanager-dev"}
    state:
      description:
        - The endpoint's state in lower case; a new interface endpoint is V(pending) a minute or two, then V(available).
        - Not returned in check mode for an endpoint still to create.
      type: str
      returned: when the endpoint exists
      sample: pending
client_token:
  description: The client token the create carried.
  returned: when a create was sent (or would be, in check mode)
  type: str
  sample: bluegreen-4f1c0e9a5b7d2c3e8f6a1b0c9d8e7f6a5b4c3d2e1f0a9b8c
"""

import datetime

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_specifications

from ansible_collections.bluegreen.migration.plugins.module_utils import network
from ansible_collections.bluegreen.migration.plugins.module_utils.core import BlueGreenModule
from ansible_collections.bluegreen.migration.plugins.module_utils.waits import poll

# Option -> CreateVpcEndpoint's parameter, and the endpoint type that takes it.
CREATE_PARAMS = {
    "route_table_ids": ("RouteTableIds", "Gateway"),
    "subnet_ids": ("SubnetIds", "Interface"),
    "security_group_ids": ("SecurityGroupIds", "Interface"),
    "private_dns_enabled": ("PrivateDnsEnabled", "Interface"),
    "policy": ("PolicyDocument", None),
}
# Creates made again when EC2 answers the token with an endpoint deleted since, each counting one
# more as listed.
AGAIN = 3
POLL_SECONDS = 5


def endpoint_of_earlier_request(module, client, token, refusal):
    """The usable endpoint of the service with this name, once EC2 lists it: an earlier request's
    (a stopped run's), which holds what AWS refused (`refusal`, its message)."""
    params = module.params
    name = (params["tags"] or {}).get("Name")
    found = poll(lambda: network.vpc_endpoints_of_service(client, params["vpc_id"], params["service"], params["vpc_endpoint_type"], name)[0],
                 params["wait_timeout"], POLL_SECONDS)
    if not found:
        module.fail_json(msg="CreateVpcEndpoint refused the %s endpoint of %s (%s), and EC2 listed no endpoint of the service named %s "
                             "within %d s (wait_timeout). If a stopped run requested one, run again once EC2 lists it; otherwise an "
                             "endpoint still deleting, one made outside this role or a private hosted zone of the service's name holds "
                             "the route or private DNS name" % (
                                 params["vpc_endpoint_type"], params["service"], refusal, name, params["wait_timeout"]),
                         client_token=token, vpc_endpoint={})
    return found


def ensure(module, client):
    params = module.params
    wrong = [key for key, (_name, kind) in CREATE_PARAMS.items() if kind and params[key] is not None and kind != params["vpc_endpoint_type"]]
    if wrong:
        module.fail_json(msg="%s: only for %s endpoints, not %s ones" % (", ".join(wrong), CREATE_PARAMS[wrong[0]][1], params["vpc_endpoint_type"]))
    tags = params["tags"] or {}
    existing, listed = network.vpc_endpoints_of_service(client, params["vpc_id"], params["service"], params["vpc_endpoint_type"], tags.get("Name"))
    if existing:
        module.exit_with_diff(False, existing, existing, vpc_endpoint=existing)

    request = {"VpcId": params["vpc_id"], "ServiceName": params["service"], "VpcEndpointType": params["vpc_endpoint_type"]}
    for key, (name, _kind) in CREATE_PARAMS.items():
        if params[key] is not None:
            # Ids sorted: the same endpoint asked for twice is the same request (its client token).
            request[name] = sorted(params[key]) if isinstance(params[key], list) else params[key]
    # AWS gives full access to an endpoint made without a policy, and refuses any policy, even
    # that one, for a service that takes only the default.
    if params["policy"] and network.endpoint_policy(params["policy"]) == network.FULL_ACCESS:
        del request["PolicyDocument"]
    if tags:
        request["TagSpecifications"] = boto3_tag_specifications(tags, ["vpc-endpoint"])
    now = datetime.datetime.now(datetime.timezone.utc)
    token = network.endpoint_client_token(request, listed, now)
    wanted = {
        "service_name": params["service"], "vpc_endpoint_type": params["vpc_endpoint_type"],
        "route_table_ids": sorted(params["route_table_ids"] or []), "subnet_ids": sorted(params["subnet_ids"] or []),
        "security_group_ids": sorted(params["security_group_ids"] or []), "tags": tags,
        "policy": network.endpoint_policy(params["policy"] or network.ENDPOINT_FULL_ACCESS_POLICY),
    }
    if params["vpc_endpoint_type"] == "Interface":
        wanted["private_dns_enabled"] = params["private_dns_enabled"] is not False  # AWS's default: on
    if module.check_mode:
        module.exit_with_diff(True, {}, wanted, vpc_endpoint=dict(wanted, vpc_endpoint_id=network.KNOWN_AFTER_CREATE), client_token=token)
    for attempt in range(AGAIN + 1):
        answered = network.create_vpc_endpoint(client, dict(request, ClientToken=token))
        if isinstance(answered, str):
            after = endpoint_of_earlier_request(module, client, token, answered)
            module.exit_with_diff(True, {}, after, vpc_endpoint=after, client_token=token)
        after = network.endpoint_state(answered)
        # The token's earlier endpoint, deleted since and no longer listed: another token, as if it
        # were. One still deleting holds its route or private DNS name a while.
        if after["state"] != "deleted" or attempt == AGAIN:
            break
        listed.append(after["vpc_endpoint_id"])
        token = network.endpoint_client_token(request, listed, now)
    created = after["vpc_endpoint_id"]
    if after["state"] in network.ENDPOINT_GOING_STATES:
        module.fail_json(msg="CreateVpcEndpoint answered with the endpoint %s of %s, %s: an earlier request with the client token %s made it.%s" % (
            created, params["service"], after["state"], token, " Run again once it is deleted" if after["state"] == "deleting" else ""),
            changed=False, vpc_endpoint=after, client_token=token)
    unusable = network.endpoint_unusable(answered)
    if unusable:
        module.fail_json(msg="The %s endpoint %s of %s is %s: the next run deletes it and creates another; if it fails again, the cause "
                             "stays (see the error)" % (params["vpc_endpoint_type"], created, params["service"], unusable),
                         changed=True, vpc_endpoint=after, client_token=token)
    module.exit_with_diff(True, {}, after, vpc_endpoint=after, client_token=token)


def main():
    argument_spec = dict(
        vpc_id=dict(type="str", required=True),
        service=dict(type="str", required=True),
        vpc_endpoint_type=dict(type="str", choices=["Gateway", "Interface"], default="Gateway"),
        route_table_ids=dict(type="list", elements="str"),
        subnet_ids=dict(type="list", elements="str"),
        security_group_ids=dict(type="list", elements="str"),
        policy=dict(type="json"),
        private_dns_enabled=dict(type="bool"),
        tags=dict(type="dict", aliases=["resource_tags"]),
        wait_timeout=dict(type="int", default=120),
    )
    module = BlueGreenModule(argument_spec=argument_spec, supports_check_mode=True)
    try:
        ensure(module, module.client("ec2"))
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)


if __name__ == "__main__":
    main()
