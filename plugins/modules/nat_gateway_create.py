#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: bluegreen.migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# ruff: noqa: E402  (Ansible module layout: imports follow DOCUMENTATION, EXAMPLES and RETURN)

DOCUMENTATION = r"""
module: nat_gateway_create
short_description: Create a public NAT gateway once, also when a stopped run requested it moments before
version_added: 0.1.0
description:
  - Creates a public NAT gateway (C(CreateNatGateway)) in a subnet with an elastic IP and tags, without
    waiting for it (a new gateway is V(pending) a minute or two, RV(state)). The caller decides that the
    subnet needs one (bluegreen.migration.network_plan does); this module does not look for one first.
  - The create carries a client token made from the gateway's C(Name) tag, the subnet, the gateways EC2
    listed in that subnet (O(listed_nat_gateway_ids)) and the UTC hour. A run stopped right after
    C(CreateNatGateway) leaves a gateway that EC2 lists only after a while (its listings are eventually
    consistent); the next run, planning from a listing without it, repeats the same request with the
    same token, and EC2 answers with that gateway instead of making a second one (a NAT gateway is billed
    by the hour).
  - Once that gateway is listed, in any state, the token changes, so a gateway that failed or was deleted
    is not answered again. A gateway deleted by hand drops out of the listing after about an hour, hence
    the hour in the token (EC2 documents no lifetime for these tokens). Should EC2 still answer with a
    failed or deleted gateway, the create is made again at once with a token that counts that gateway
    as listed; one answered V(deleting) still holds its address, and fails the module.
  - When EC2 refuses the token as used with other parameters (C(IdempotentParameterMismatch), as when the stopped
    run's request had another elastic IP, which a lagging listing did not show), or refuses the address as
    associated already (C(Resource.AlreadyAssociated), as when the stopped run's request had the same address
    and another token, the UTC hour having turned in between), the gateway of that request is waited for
    until EC2 lists it in the subnet (O(wait_timeout)) and returned, with a warning that the elastic IP
    O(allocation_id) was not used when it was another (released with O(release_unused_address)); one
    listed failed fails the module at once. So a second gateway is made only when a run resumed across
    the turn of the hour also gets another address.
  - amazon.aws.ec2_vpc_nat_gateway takes a client token, but with it its success path compares an aware
    and a naive time and fails (amazon.aws 11.4).
  - A subnet or elastic IP created moments before and not known to EC2 yet is retried.
  - Supports check mode and diff mode.
options:
  subnet_id:
    description: The public subnet.
    type: str
    required: true
  allocation_id:
    description:
      - The elastic IP the gateway gets.
      - Required, except in check mode (an address still to allocate has no id yet).
    type: str
  listed_nat_gateway_ids:
    description:
      - The NAT gateways EC2 listed in the subnet, in any state, when the caller decided to create one
        (C(nat.apply[].listed_nat_gateway_ids) of M(bluegreen.migration.network_plan)).
    type: list
    elements: str
    default: []
  client_token:
    description:
      - The client token, instead of the one made from the gateway's name, the subnet, O(listed_nat_gateway_ids)
        and the UTC hour. At most 64 ASCII characters.
    type: str
  tags:
    description: The gateway's tags; its C(Name) goes into the client token.
    type: dict
    aliases: [resource_tags]
  release_unused_address:
    description:
      - Release the elastic IP O(allocation_id) when the gateway of an earlier request turns out to have
        another one, so that an address allocated for this gateway is not left billed. Only when EC2
        refused the token as used with other parameters and lists the gateway with another address,
        and only an address nothing is associated with; one kept is named in a warning.
      - Needs C(ec2:DescribeAddresses) and C(ec2:ReleaseAddress).
      - Leave it V(false) for an address allocated elsewhere (one allow-listed by a partner, say), which
        must never be given back.
    type: bool
    default: false
  wait_timeout:
    description:
      - How long, in seconds, to wait for EC2 to list the gateway of an earlier request with the same token
        and other parameters (EC2's listing delay is seconds to a minute).
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
- name: The NAT gateway of the first public subnet
  bluegreen.migration.nat_gateway_create:
    subnet_id: subnet-0123456789abcdef0
    allocation_id: eipalloc-0123456789abcdef0
    listed_nat_gateway_ids: []
    tags:
      Name: nat-a-dev
      bluegreen:environment: dev
"""

RETURN = r"""
nat_gateway_id:
  description: The gateway's id; V((known after create\)) in check mode.
  returned: always
  type: str
  sample: nat-0123456789abcdef0
subnet_id:
  description: The gateway's subnet.
  returned: always
  type: str
  sample: subnet-0123456789abcdef0
state:
  description:
    - The gateway's state as EC2 answered; a new one is V(pending).
  returned: when the gateway exists
  type: str
  sample: pending
vpc_id:
  description: The gateway's VPC.
  returned: when the gateway exists
  type: str
  sample: vpc-0123456789abcdef0
allocation_id:
  description: The gateway's elastic IP.
  returned: when the gateway exists
  type: str
  sample: eipalloc-0123456789abcdef0
tags:
  description: The gateway's tags, as EC2 answered.
  returned: when the gateway exists
  type: dict
  sample: {"Name": "nat-a-dev"}
client_token:
  description: The client token the create carried.
  returned: always
  type: str
  sample: bluegreen-4f1c0e9a5b7d2c3e8f6a1b0c9d8e7f6a5b4c3d2e1f0a9b8c
released_allocation_id:
  description: The elastic IP O(allocation_id), released because the gateway of an earlier request has another.
  returned: when O(release_unused_address) released it
  type: str
  sample: eipalloc-0fedcba9876543210
"""

import datetime

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_specifications

from ansible_collections.bluegreen.migration.plugins.module_utils import network
from ansible_collections.bluegreen.migration.plugins.module_utils.core import BlueGreenModule
from ansible_collections.bluegreen.migration.plugins.module_utils.waits import poll

# A gateway answered in one of these states is one an earlier request with the token made, and
# is asked again with a token that counts it; one deleting still holds its address.
GONE = ("failed", "deleted")
POLL_SECONDS = 5
# Creates made again when EC2 answers with a gone gateway, each counting one more as listed.
AGAIN = 3


def describe_failure(gateway):
    return "%s%s" % (gateway["state"], " (%s)" % gateway["failure"] if gateway.get("failure") else "")


REFUSALS = {
    "IdempotentParameterMismatch": "the client token %s was used by a request with other parameters",
    "Resource.AlreadyAssociated": "the elastic IP is associated already (the token was %s)",
}


def gateway_of_earlier_request(module, client, token, listed, refusal):
    """The gateway a request with `token` and other parameters made, once EC2 lists it in the subnet."""
    params = module.params
    found = poll(lambda: network.new_nat_gateway_in(client, params["subnet_id"], listed), params["wait_timeout"], POLL_SECONDS)
    if found and found["state"] in GONE:
        module.fail_json(msg="The NAT gateway %s, which an earlier request with the client token %s made (a stopped run), is %s. "
                             "The next run requests another" % (found["nat_gateway_id"], token, describe_failure(found)),
                         client_token=token, **found)
    if not found:
        module.fail_json(msg="CreateNatGateway refused the NAT gateway in %s (%s: %s), and EC2 listed no new gateway in the subnet "
                             "within %d s (wait_timeout). If a stopped run requested one, run again once EC2 lists it; otherwise "
                             "the elastic IP %s is in use elsewhere" % (
                                 params["subnet_id"], refusal, REFUSALS[refusal] % token, params["wait_timeout"], params["allocation_id"]),
                         client_token=token, subnet_id=params["subnet_id"], nat_gateway_id=None)
    return found


def unused_address(module, client, gateway, refusal):
    """The warning for the elastic IP the earlier request's `gateway` did not take, released when
    asked; the result's released_allocation_id then. Only a token refused as used with other
    parameters, answered by a gateway with another address listed, says the address is unused
    (refused as associated, it is in use; a gateway with no address listed yet may have it)."""
    params = module.params
    what = "The NAT gateway %s in %s is the one an earlier request made (a stopped run); the elastic IP %s was not used" % (
        gateway["nat_gateway_id"], params["subnet_id"], params["allocation_id"])
    if not (params["release_unused_address"] and refusal == "IdempotentParameterMismatch" and gateway["allocation_id"]):
        module.warn(what + " (teardown releases it)")
        return {}
    kept = network.release_unassociated_address(client, params["allocation_id"])
    if kept:
        module.warn("%s and is kept: %s" % (what, kept))
        return {}
    module.warn(what + " and is released")
    return {"released_allocation_id": params["allocation_id"]}


def ensure(module, client):
    params = module.params
    tags = params["tags"] or {}
    listed = list(params["listed_nat_gateway_ids"])
    now = datetime.datetime.now(datetime.timezone.utc)

    def token_for(listed_ids):
        return params["client_token"] or network.nat_client_token(tags.get("Name", ""), params["subnet_id"], listed_ids, now)

    token = token_for(listed)
    wanted = {"subnet_id": params["subnet_id"], "allocation_id": params["allocation_id"], "tags": tags}
    if module.check_mode:
        module.exit_with_diff(True, {}, wanted, nat_gateway_id=network.KNOWN_AFTER_CREATE, subnet_id=params["subnet_id"], client_token=token)
    if not params["allocation_id"]:
        module.fail_json(msg="allocation_id is required to create a public NAT gateway (the elastic IP it gets)")
    request = {"SubnetId": params["subnet_id"], "AllocationId": params["allocation_id"], "ConnectivityType": "public"}
    if tags:
        request["TagSpecifications"] = boto3_tag_specifications(tags, ["natgateway"])
    for attempt in range(AGAIN + 1):
        answered = network.create_nat_gateway(client, dict(request, ClientToken=token))
        if isinstance(answered, str):
            gateway = gateway_of_earlier_request(module, client, token, listed, answered)
            released = {}
            if gateway["allocation_id"] != params["allocation_id"]:
                released = unused_address(module, client, gateway, answered)
            module.exit_with_diff(True, {}, gateway, client_token=token, **released, **gateway)
        gateway = network.nat_gateway_state(answered)
        if gateway["state"] not in GONE:
            if gateway["state"] == "deleting":
                module.fail_json(msg="CreateNatGateway answered with the NAT gateway %s, deleting: an earlier request with the client token %s "
                                     "made it. Run again once it is deleted (it holds the elastic IP %s until then)" % (
                                         gateway["nat_gateway_id"], token, params["allocation_id"]), changed=False, client_token=token, **gateway)
            module.exit_with_diff(True, {}, gateway, client_token=token, **gateway)
        # The token's earlier gateway, gone since and no longer listed: another token, as if it were.
        if params["client_token"] or attempt == AGAIN:
            break
        listed.append(gateway["nat_gateway_id"])
        token = token_for(listed)
    module.fail_json(msg="CreateNatGateway answered with the NAT gateway %s, %s: an earlier request with the client token %s made it" % (
        gateway["nat_gateway_id"], describe_failure(gateway), token), changed=False, client_token=token, **gateway)


def main():
    argument_spec = dict(
        subnet_id=dict(type="str", required=True),
        allocation_id=dict(type="str"),
        listed_nat_gateway_ids=dict(type="list", elements="str", default=[]),
        client_token=dict(type="str", no_log=False),
        tags=dict(type="dict", aliases=["resource_tags"]),
        release_unused_address=dict(type="bool", default=False),
        wait_timeout=dict(type="int", default=120),
    )
    module = BlueGreenModule(argument_spec=argument_spec, supports_check_mode=True)
    try:
        ensure(module, module.client("ec2"))
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)


if __name__ == "__main__":
    main()
