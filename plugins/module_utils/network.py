# -*- coding: utf-8 -*-
# Copyright: bluegreen.migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The network role's read and plan: the VPC and its internet gateway, subnets, route tables and
security groups as EC2 answers DescribeVpcs (and DescribeVpcAttribute), DescribeInternetGateways,
DescribeSubnets, DescribeRouteTables and DescribeSecurityGroups, compared with what the role
wants. Each plan_* function returns (changes, to_apply): the readable plan and the wanted
entries the writers (amazon.aws.ec2_vpc_subnet, ec2_vpc_route_table, ec2_security_group) run for."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json

try:
    import botocore.exceptions
except ImportError:
    pass  # the modules that import this one report a missing botocore

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_message
from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.policy import compare_policies
from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict

from ansible_collections.bluegreen.migration.plugins.module_utils.core import aws_retry
from ansible_collections.bluegreen.migration.plugins.module_utils.cidr import TIERS, split_subnets
from ansible_collections.bluegreen.migration.plugins.module_utils.naming import endpoint_service_short_name, nat_gateway_names, vpc_endpoint_name, zonal_name
from ansible_collections.bluegreen.migration.plugins.module_utils.plan import DIFFERS
from ansible_collections.bluegreen.migration.plugins.module_utils.plan import KNOWN_AFTER_CREATE
from ansible_collections.bluegreen.migration.plugins.module_utils.plan import change
from ansible_collections.bluegreen.migration.plugins.module_utils.plan import created
from ansible_collections.bluegreen.migration.plugins.module_utils.plan import field
from ansible_collections.bluegreen.migration.plugins.module_utils.plan import fields_that_differ
from ansible_collections.bluegreen.migration.plugins.module_utils.waits import PENDING
from ansible_collections.bluegreen.migration.plugins.module_utils.waits import wait_outcome

VPC = "vpc"
INTERNET_GATEWAY = "internet gateway"
SUBNET = "subnet"
ROUTE_TABLE = "route table"
SECURITY_GROUP = "security group"
NAT_GATEWAY = "nat gateway"
ELASTIC_IP = "elastic ip"
VPC_ENDPOINT = "vpc endpoint"
WAITS_FOR_NAT = "; applied once the NAT gateway is available"
ROUTE_WAITS_FOR_NAT = "; its route through the NAT gateway is added once the gateway is available"
# The InterfaceType of a NAT gateway's network interface (the API reference spells it natGateway,
# DescribeNetworkInterfaces answers nat_gateway).
NAT_INTERFACE_TYPES = ("nat_gateway", "natGateway")
# The states of a NAT gateway that is, or is becoming, a subnet's way out.
LIVE_NAT_STATES = ("pending", "available")
# What EC2 answers for a route table it does not know (both spellings occur).
ROUTE_TABLE_NOT_FOUND = ("InvalidRouteTableID.NotFound", "InvalidRouteTableId.NotFound")


class NetworkError(AnsibleAWSError):
    pass


class NetworkErrorHandler(AWSErrorHandler):
    _CUSTOM_EXCEPTION = NetworkError

    @classmethod
    def _is_missing(cls):
        return is_boto3_error_code("InvalidVpcID.NotFound")


@NetworkErrorHandler.common_error_handler("read the {operation} answer of the VPC")
@aws_retry()
def _describe(client, operation, key, filters):
    paginator = client.get_paginator(operation)
    return paginator.paginate(Filters=filters).build_full_result()[key]


@NetworkErrorHandler.common_error_handler("read the VPC's {operation} answer")
@aws_retry()
def _vpc_attribute(client, vpc_id, attribute):
    key = attribute[0].upper() + attribute[1:]
    return bool(client.describe_vpc_attribute(VpcId=vpc_id, Attribute=attribute)[key]["Value"])


def read_vpcs(client, name, cidr):
    """The VPCs named `name` with the primary CIDR `cidr` (how amazon.aws.ec2_vpc_net finds its
    VPC), each with its DNS settings (EnableDnsSupport, EnableDnsHostnames)."""
    filters = [{"Name": "tag:Name", "Values": [name]}, {"Name": "cidr", "Values": [cidr]}]
    vpcs = _describe(client, "describe_vpcs", "Vpcs", filters)
    for vpc in vpcs:
        vpc["EnableDnsSupport"] = _vpc_attribute(client, vpc["VpcId"], "enableDnsSupport")
        vpc["EnableDnsHostnames"] = _vpc_attribute(client, vpc["VpcId"], "enableDnsHostnames")
    return vpcs


def read_internet_gateways(client, vpc_id):
    return _describe(client, "describe_internet_gateways", "InternetGateways", [{"Name": "attachment.vpc-id", "Values": [vpc_id]}])


def read_nat_gateways(client, vpc_id):
    """The VPC's NAT gateways in every state EC2 still lists (a deleted or failed one stays listed
    about an hour), each as {nat_gateway_id, subnet_id, state, allocation_ids, association_ids}
    (its elastic IPs, and their associations with it)."""
    found = _describe(client, "describe_nat_gateways", "NatGateways", [{"Name": "vpc-id", "Values": [vpc_id]}])
    return [
        {"nat_gateway_id": n["NatGatewayId"], "subnet_id": n["SubnetId"], "state": n["State"],
         "allocation_ids": sorted(a["AllocationId"] for a in n.get("NatGatewayAddresses") or [] if a.get("AllocationId")),
         "association_ids": sorted(a["AssociationId"] for a in n.get("NatGatewayAddresses") or [] if a.get("AssociationId"))}
        for n in found
    ]


def live_nat_gateways(listed):
    """read_nat_gateways' gateways that are pending or available, each as {nat_gateway_id, subnet_id, state}."""
    return [dict((k, n[k]) for k in ("nat_gateway_id", "subnet_id", "state")) for n in listed if n["state"] in LIVE_NAT_STATES]


@NetworkErrorHandler.common_error_handler("read the elastic IPs named {names}")
@aws_retry()
def _addresses_named(client, names):
    return client.describe_addresses(Filters=[{"Name": "tag:Name", "Values": list(names)}])["Addresses"]


def read_addresses(client, vpc_id, names):
    """The elastic IPs whose Name tag is one of `names` (DescribeAddresses has no pagination), each
    as {allocation_id, name, association_id, taken_elsewhere}. `taken_elsewhere`: associated with
    a network interface EC2 lists that is not a NAT gateway's in `vpc_id` (an instance, or the
    gateway of another VPC of the environment's name); one it does not list yet counts as a
    gateway's being made (the interfaces are read only for associated addresses)."""
    found = _addresses_named(client, names)
    interfaces = [a["NetworkInterfaceId"] for a in found if a.get("AssociationId") and a.get("NetworkInterfaceId")]
    listed = {}
    if interfaces:
        answer = _describe(client, "describe_network_interfaces", "NetworkInterfaces", [{"Name": "network-interface-id", "Values": interfaces}])
        listed = dict((i["NetworkInterfaceId"], i) for i in answer)

    def taken_elsewhere(address):
        interface = listed.get(address.get("NetworkInterfaceId")) if address.get("AssociationId") else None
        return bool(interface) and (interface.get("InterfaceType") not in NAT_INTERFACE_TYPES or interface.get("VpcId") != vpc_id)

    return [{"allocation_id": a["AllocationId"], "name": tags_of(a).get("Name"), "association_id": a.get("AssociationId"),
             "taken_elsewhere": taken_elsewhere(a)} for a in found]


# --- Layout --------------------------------------------------------------------------------


def subnet_layout(vpc_cidr, azs, suffix):
    """Every subnet of an environment, tier-major: [{tier, az, index, cidr, name}] (cidr.split_subnets
    cuts the VPC CIDR; CidrError or NamingError when it cannot)."""
    cidrs = split_subnets(vpc_cidr, len(azs))
    return [
        {"tier": tier, "az": az, "index": index, "cidr": cidrs[tier][index], "name": zonal_name(tier, az, index, suffix)}
        for tier in TIERS
        for index, az in enumerate(azs)
    ]


def azs_of_subnets(vpc_cidr, az_count, found_subnets):
    """The AZs the VPC's subnets already fix, in layout order: for each index of the layout, the
    AZ of a subnet AWS has with one of that index's CIDRs (the public one first). None when an
    index has no subnet yet (the AZs are then the region's, listed)."""
    cidrs = split_subnets(vpc_cidr, az_count)
    az_of = dict((s["CidrBlock"], s.get("AvailabilityZone")) for s in found_subnets)
    azs = []
    for index in range(az_count):
        az = next((az_of[cidrs[tier][index]] for tier in TIERS if az_of.get(cidrs[tier][index])), None)
        if az is None:
            return None
        azs.append(az)
    return azs


# Fargate runs tasks only in these AZs (by zone id, the same in every account) of these regions,
# and in every AZ of the others; an older account may list another zone there.
# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/AWS_Fargate-Regions.html
FARGATE_ZONE_IDS = {
    "us-west-1": ("usw1-az1", "usw1-az3"),
    "ap-northeast-1": ("apne1-az1", "apne1-az2", "apne1-az4"),
    "cn-north-1": ("cnn1-az1", "cnn1-az2"),
}


@NetworkErrorHandler.common_error_handler("list the region's availability zones")
@aws_retry()
def read_availability_zones(client):
    """The region's available AZs (not Local or Wavelength Zones): {name: zone id}, by name."""
    filters = [{"Name": "state", "Values": ["available"]}, {"Name": "zone-type", "Values": ["availability-zone"]}]
    zones = client.describe_availability_zones(Filters=filters)["AvailabilityZones"]
    return dict(sorted((z["ZoneName"], z.get("ZoneId")) for z in zones))


def without_fargate(zones, region):
    """The names of `zones` ({name: zone id}) where Fargate runs no task in `region`."""
    allowed = FARGATE_ZONE_IDS.get(region)
    return [name for name, zone_id in zones.items() if allowed and zone_id not in allowed]


def subnets_without_fargate(found_subnets, cidrs, region):
    """Of the subnets AWS has with one of `cidrs` (the private tier, where the services' tasks
    run), those in a zone where Fargate runs no task in `region`: an existing VPC keeps its
    zones, so the plan warns instead of refusing. One line each: "<cidr> in <az> (<zone id>)"."""
    allowed = FARGATE_ZONE_IDS.get(region)
    if not allowed:
        return []
    return [
        "%s in %s (%s)" % (s["CidrBlock"], s.get("AvailabilityZone"), s["AvailabilityZoneId"])
        for s in found_subnets
        if s["CidrBlock"] in cidrs and s.get("AvailabilityZoneId") and s["AvailabilityZoneId"] not in allowed
    ]


@NetworkErrorHandler.common_error_handler("read the zones the interface endpoint services are offered in")
@aws_retry()
def read_endpoint_service_zones(client, services):
    """{full service name: AZ names} of the interface endpoint `services`, one call: not every
    AWS service has its endpoint in every AZ, and CreateVpcEndpoint refuses a subnet in a zone
    its service is not offered in. A service not offered as an interface endpoint is a NetworkError
    naming it: its create would be refused after the NAT gateways."""
    if not services:
        return {}
    details = client.describe_vpc_endpoint_services(ServiceNames=sorted(services)).get("ServiceDetails") or []
    zones = {}
    for detail in details:
        if any(kind.get("ServiceType") == "Interface" for kind in detail.get("ServiceType") or []):
            zones.setdefault(detail["ServiceName"], set()).update(detail.get("AvailabilityZones") or [])
    lacking = sorted(set(services) - set(zones))
    if lacking:
        message = "network_vpc_endpoints: %s not offered as an interface endpoint here (DescribeVpcEndpointServices); drop %s"
        raise NetworkError(message=message % (", ".join(lacking) + (" is" if len(lacking) == 1 else " are"), "it" if len(lacking) == 1 else "them"))
    return zones


def endpoint_zones_missing(azs, service_zones):
    """{service: [AZs of `azs` its interface endpoint is not offered in]}, the services lacking some."""
    missing = dict((service, [az for az in azs if az not in zones]) for service, zones in sorted(service_zones.items()))
    return dict((service, left) for service, left in missing.items() if left)


def _endpoint_zones_error(setting, azs, missing, service_zones, azs_may_change=True):
    """The error of AZs (`setting`: where they come from) a listed interface endpoint lacks; an
    existing VPC's zones cannot change (azs_may_change=False), so only dropping the service helps."""
    shown = "; ".join("%s is not offered in %s (only in %s)" % (service, ", ".join(left), ", ".join(sorted(service_zones[service])))
                      for service, left in sorted(missing.items()))
    message = "%s: the private subnets' zones %s do not all take the interface endpoints listed in network_vpc_endpoints: %s;" \
        " drop those services from network_vpc_endpoints%s"
    return NetworkError(message=message % (setting, ", ".join(azs), shown, " or list other AZs" if azs_may_change else ""))


def choose_azs(wanted_azs, az_count, vpc_cidr, found_subnets, list_azs, region=None, endpoint_zones=None):
    """The layout's AZs: those given; else those the VPC's subnets fix (no call); else the first
    `az_count` of the region's (`list_azs()`, read_availability_zones) where Fargate runs tasks
    and every listed interface endpoint is offered (`endpoint_zones()`,
    read_endpoint_service_zones; called only when given). Given AZs where the VPC has no subnet
    yet are checked against that list in a region where Fargate leaves some out (one call).
    A region with too few, a given AZ without Fargate, or AZs (given or fixed) where a listed
    interface endpoint is not offered is a NetworkError that says what to change, before any write."""
    service_zones = endpoint_zones() if endpoint_zones else {}
    if wanted_azs:
        missing = endpoint_zones_missing(wanted_azs, service_zones)
        if missing:
            raise _endpoint_zones_error("network_azs", list(wanted_azs), missing, service_zones)
        # Only the AZs the subnets would be new in: those of an existing subnet are not moved
        # (the plan warns of its private ones, subnets_without_fargate).
        held = set(s.get("AvailabilityZone") for s in found_subnets or [])
        new = [az for az in wanted_azs if az not in held]
        if region in FARGATE_ZONE_IDS and new:
            zones = list_azs()
            left_out = without_fargate(zones, region)
            refused = [az for az in left_out if az in new]
            if refused:
                message = "network_azs: Fargate runs no task in %s of %s; list others of %s"
                shown = ", ".join("%s (%s)" % (az, zones[az]) for az in refused)
                raise NetworkError(message=message % (shown, region, ", ".join(az for az in zones if az not in left_out)))
        return list(wanted_azs)
    fixed = azs_of_subnets(vpc_cidr, az_count, found_subnets) if found_subnets else None
    if fixed:
        missing = endpoint_zones_missing(fixed, service_zones)
        if missing:
            raise _endpoint_zones_error("the VPC's subnets", fixed, missing, service_zones, azs_may_change=False)
        return fixed
    zones = list_azs()
    left_out = without_fargate(zones, region)
    no_endpoint = [az for az in zones if az not in left_out and endpoint_zones_missing([az], service_zones)]
    available = [az for az in zones if az not in left_out and az not in no_endpoint]
    if len(available) < az_count:
        message = "network_az_count=%d but only %d AZs are available (%s)%s; lower network_az_count or list network_azs"
        why = "; Fargate runs no task in %s" % ", ".join(left_out) if left_out else ""
        if no_endpoint:
            why += "; an interface endpoint of network_vpc_endpoints is not offered in %s" % ", ".join(no_endpoint)
        raise NetworkError(message=message % (az_count, len(available), ", ".join(available), why))
    return available[:az_count]


# --- NAT gateways --------------------------------------------------------------------------


def nat_subnets(wanted_subnets, layout):
    """The wanted public subnets that carry a NAT gateway, in AZ order: the first one
    (`single`) or one per AZ (`per_az`)."""
    public = [s for s in wanted_subnets if s["tier"] == "public"]
    return public[:1] if layout == "single" else public


def _nat_by_subnet(found_nats):
    """{subnet id: NAT gateway} of read_nat_gateways' answer; an available gateway wins over a
    pending one of the same subnet."""
    by_subnet = {}
    for nat in sorted(found_nats, key=lambda n: n["state"] == "available"):
        by_subnet[nat["subnet_id"]] = nat
    return by_subnet


def plan_nat_gateways(wanted_subnets, layout, found_subnets, listed_nats, suffix, addresses_named=None):
    """The NAT gateways of the `layout` (single or per_az) compared with read_nat_gateways'
    answer (every state). Returns (changes, plan): plan["apply"] lists the NAT subnets (wanted
    subnet entries, with their `index` in the tier, and the `nat_name` and `eip_name` the gateway
    and its elastic IP get in the environment `suffix`) without a pending or available gateway,
    plan["pending"] the ids of the wanted gateways still pending (a run stopped while creating
    them), and plan["stale"] the gateways outside the NAT subnets (the other layout's), to delete
    once no route names them.

    Each entry of plan["apply"] carries also `listed_nat_gateway_ids`, the gateways EC2 lists in
    its subnet in any state (they go into the create's client token), and `allocation_id`, the
    elastic IP of ours it gets (nat_address's choice among `addresses_named(names)`, called only
    when a gateway is missing; None: one is allocated)."""
    ids = subnet_ids(found_subnets)
    live = live_nat_gateways(listed_nats)
    by_subnet = _nat_by_subnet(live)
    changes, missing, pending, kept = [], [], [], set()
    for subnet in nat_subnets(wanted_subnets, layout):
        subnet_id = ids.get(subnet["cidr"])
        nat = by_subnet.get(subnet_id)
        if nat is None:
            nat_name, eip_name = nat_gateway_names(subnet["az"], subnet["index"], suffix)
            listed_here = sorted(n["nat_gateway_id"] for n in listed_nats if subnet_id and n["subnet_id"] == subnet_id)
            missing.append(dict(subnet, nat_name=nat_name, eip_name=eip_name, listed_nat_gateway_ids=listed_here))
            continue
        kept.add(nat["nat_gateway_id"])
        if nat["state"] != "available":
            pending.append(nat["nat_gateway_id"])
    addresses = addresses_named([m["eip_name"] for m in missing]) if missing and addresses_named else []
    for entry in missing:
        entry["allocation_id"] = nat_address(entry["eip_name"], addresses, listed_nats)
        reason = "the NAT subnet %s has no NAT gateway" % entry["name"]
        if entry["allocation_id"]:
            reason += "; its elastic IP %s (%s, left by a stopped run) is reused" % (entry["eip_name"], entry["allocation_id"])
        fields = {"subnet": field(None, entry["name"]), "elastic_ip": field(None, entry["eip_name"])}
        changes.append(change(NAT_GATEWAY, entry["nat_name"], "create", fields, reason))
        if not entry["allocation_id"]:
            fields = {"nat_gateway": field(None, entry["nat_name"])}
            changes.append(change(ELASTIC_IP, entry["eip_name"], "create", fields, "the address of " + entry["nat_name"]))
    stale = [dict(nat_gateway_id=n["nat_gateway_id"], subnet_id=n["subnet_id"]) for n in live if n["nat_gateway_id"] not in kept]
    for nat in stale:
        fields = {"subnet": field(nat["subnet_id"], None)}
        changes.append(change(NAT_GATEWAY, nat["nat_gateway_id"], "delete", fields, "not in a NAT subnet of the %s layout" % layout))
    return changes, {"apply": missing, "pending": pending, "stale": stale}


def nat_address(eip_name, addresses, listed_nats):
    """The elastic IP of ours named `eip_name` a new NAT gateway gets, among read_addresses'
    addresses: the lowest allocation id of those free; None when there is none.

    Free: not associated, or associated with no gateway EC2 lists and with nothing else
    (read_addresses' `taken_elsewhere`). Held: its association is one a listed gateway names, in
    any state, or (a listing without association ids) it is the address of a listed gateway that
    is pending, available or deleting (a failed or deleted one gives its address back, and its
    listing may still name it). An address associated with a gateway EC2 does not list yet is the one a run
    stopped right after CreateNatGateway gave its gateway; the same create repeated with the same
    client token and address answers with that gateway instead of making a second one. As the
    association does not change the order, a resumed run chooses as the stopped one did."""
    held_associations = set(a for n in listed_nats for a in n.get("association_ids") or [])
    held_addresses = set(a for n in listed_nats if n["state"] in LIVE_NAT_STATES + ("deleting",) and not n.get("association_ids")
                         for a in n.get("allocation_ids") or [])

    def free(address):
        if not address["association_id"]:
            return True
        return not (address.get("taken_elsewhere") or address["association_id"] in held_associations or address["allocation_id"] in held_addresses)

    chosen = sorted(a["allocation_id"] for a in addresses if a["name"] == eip_name and free(a))
    return chosen[0] if chosen else None


def _client_token(parts, now):
    """A client token from `parts` (strings) and the UTC hour of `now`: 64 ASCII characters at most,
    as EC2 requires."""
    basis = "|".join(list(parts) + [now.strftime("%Y-%m-%dT%H")])
    return "bluegreen-" + hashlib.sha256(basis.encode("utf-8")).hexdigest()[:48]


def nat_client_token(nat_name, subnet_id, listed_nat_gateway_ids, now):
    """CreateNatGateway's client token for the gateway `nat_name` in `subnet_id`: the same for a
    run that repeats a create a stopped run made (EC2 then answers with that run's gateway, even
    before it lists it), another once that gateway is listed in any state, or after the UTC hour
    of `now` (EC2 documents no lifetime for these tokens, and a gateway deleted by hand drops out
    of the listing after about an hour: the same token, with the same address, would then answer
    with the deleted gateway, and with another address be refused)."""
    return _client_token([nat_name, subnet_id, ",".join(sorted(listed_nat_gateway_ids))], now)


def endpoint_client_token(request, listed_endpoint_ids, now):
    """CreateVpcEndpoint's client token for `request` (without its ClientToken): the same for a run
    that repeats the create a stopped run made (EC2 then answers with that run's endpoint, even
    before it lists it), another once that endpoint is listed in any state (`listed_endpoint_ids`:
    the VPC's endpoints of the service, type and name), for any other request (so that EC2 never refuses it as
    used with other parameters), or after the UTC hour of `now` (an endpoint deleted by hand drops
    out of the listing after a while; its token would answer with it)."""
    return _client_token([json.dumps(request, sort_keys=True), ",".join(sorted(listed_endpoint_ids))], now)


# CreateNatGateway's refusals when an earlier request (a stopped run's) may have made the gateway.
EARLIER_REQUEST_CODES = ["IdempotentParameterMismatch", "Resource.AlreadyAssociated"]


# A subnet or elastic IP created moments before may not be known to CreateNatGateway yet
# (EC2's eventual consistency); AWS lifts that refusal by itself.
@NetworkErrorHandler.common_error_handler("create a NAT gateway in {request[SubnetId]}")
@aws_retry(extra_codes=("InvalidSubnetID.NotFound", "InvalidAllocationID.NotFound"))
def create_nat_gateway(client, request):
    """CreateNatGateway with `request` (its ClientToken makes a repeated create one gateway); the
    gateway as CreateNatGateway answers it, or the code of a refusal that says an earlier request
    may have made it: IdempotentParameterMismatch (the token, with other parameters) or
    Resource.AlreadyAssociated (the address, with another token)."""
    try:
        return client.create_nat_gateway(**request)["NatGateway"]
    except is_boto3_error_code(EARLIER_REQUEST_CODES) as e:
        return e.response["Error"]["Code"]


# An address allocated moments before may not be known to EC2 yet (eventual consistency).
@aws_retry(extra_codes=("InvalidAllocationID.NotFound",))
def _describe_address(client, allocation_id):
    return client.describe_addresses(AllocationIds=[allocation_id])["Addresses"]


@aws_retry()
def _release_address(client, allocation_id):
    client.release_address(AllocationId=allocation_id)


def release_unassociated_address(client, allocation_id):
    """Release the elastic IP `allocation_id` unless something holds it (an association, or a
    network interface); returns None once released (or gone already), else why it was kept (as
    text, saying when the teardown releases it)."""
    try:
        for address in _describe_address(client, allocation_id):
            holder = address.get("AssociationId") or address.get("NetworkInterfaceId")
            if holder:
                return "it is associated (%s)" % holder
            _release_address(client, allocation_id)
    except is_boto3_error_code("InvalidAllocationID.NotFound"):
        return None  # gone: released by an earlier try of the call answered late, or never known
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as e:  # pylint: disable=duplicate-except
        return "releasing it failed (teardown releases it): %s" % e
    return None


def nat_gateway_state(answer):
    """A NAT gateway as CreateNatGateway or DescribeNatGateways answers it, in the module's shape."""
    addresses = answer.get("NatGatewayAddresses") or []
    state = {
        "nat_gateway_id": answer["NatGatewayId"], "subnet_id": answer["SubnetId"], "vpc_id": answer.get("VpcId"),
        "state": answer["State"], "allocation_id": next((a["AllocationId"] for a in addresses if a.get("AllocationId")), None),
        "tags": tags_of(answer),
    }
    if answer.get("FailureCode"):
        state["failure"] = "%s: %s" % (answer["FailureCode"], answer.get("FailureMessage") or "")
    return state


def new_nat_gateway_in(client, subnet_id, known_ids):
    """The NAT gateway EC2 lists in `subnet_id`, in any state, that is not one of `known_ids`
    (a pending or available one first), in nat_gateway_state's shape; None while there is none."""
    filters = [{"Name": "subnet-id", "Values": [subnet_id]}]
    found = [n for n in _describe(client, "describe_nat_gateways", "NatGateways", filters) if n["NatGatewayId"] not in known_ids]
    found.sort(key=lambda n: n["State"] not in LIVE_NAT_STATES)
    return nat_gateway_state(found[0]) if found else None


def network_ids(base, subnet_plan, security_groups, layout):
    """The ids the network will have, as network_plan read them, each one still to create
    shown as KNOWN_AFTER_CREATE, in the shape of the bluegreen_network fact.

    `base`: network_plan's result for the VPC, internet gateway, security groups, subnets and NAT
    gateways; `subnet_plan`: the layout ([{tier, az, index, cidr}], tier-major, AZ order);
    `security_groups`: [{key}]; `layout`: single or per_az. Returns also `nat_gateways_created`:
    the NAT gateways still to create, each {nat_gateway_id: KNOWN_AFTER_CREATE, subnet_id}, in the
    shape network_plan's nat_gateways_created takes (the private tables routed through them are
    planned as waiting).
    """
    found_subnets = (base.get("subnets") or {}).get("ids") or {}
    subnets = {"public": [], "private": [], "isolated": []}
    for subnet in subnet_plan:
        subnets[subnet["tier"]].append(found_subnets.get(subnet["cidr"]) or KNOWN_AFTER_CREATE)
    group_ids = (base.get("security_groups") or {}).get("ids") or {}
    by_subnet = dict((n["subnet_id"], n["nat_gateway_id"]) for n in base.get("nat_gateways") or [])
    nat_subnet_ids = [found_subnets.get(s["cidr"]) or KNOWN_AFTER_CREATE for s in nat_subnets(subnet_plan, layout)]
    return {
        "vpc_id": (base.get("vpc") or {}).get("id") or KNOWN_AFTER_CREATE,
        "internet_gateway_id": (base.get("internet_gateway") or {}).get("id") or KNOWN_AFTER_CREATE,
        "subnets": subnets,
        "security_groups": dict((g["key"], group_ids.get(g["key"]) or KNOWN_AFTER_CREATE) for g in security_groups),
        "nat_gateway_ids": [by_subnet.get(subnet_id) or KNOWN_AFTER_CREATE for subnet_id in nat_subnet_ids],
        "nat_gateways_created": [
            {"nat_gateway_id": KNOWN_AFTER_CREATE, "subnet_id": subnet_id} for subnet_id in nat_subnet_ids if not by_subnet.get(subnet_id)
        ],
    }


def nat_gateways_now(found_nats, created):
    """read_nat_gateways' answer with the gateways created since (the results of
    bluegreen.migration.nat_gateway_create, whose id is KNOWN_AFTER_CREATE in check mode; results
    without an id or subnet, as of a skipped item, are left out). A
    created gateway counts as pending whatever its answer said: AWS refuses a route to a
    gateway that is not available yet, and a read right after the create may even miss it."""
    now = [dict(n) for n in found_nats]
    for result in created:
        if result.get("nat_gateway_id") and result.get("subnet_id"):
            now = [n for n in now if n["subnet_id"] != result["subnet_id"]]
            now.append({"nat_gateway_id": result["nat_gateway_id"], "subnet_id": result["subnet_id"], "state": "pending"})
    return now


def wanted_route_tables(names, tags, subnets, internet_gateway_id, nat_gateways):
    """Every route table of the network, in order: public (through the internet gateway),
    private (one for all private subnets when `names["private"]` has one name, else one per
    AZ, each through the NAT gateway of its AZ's NAT subnet), isolated (no way out).
    `subnets`: subnet ids per tier in AZ order; `nat_gateways`: nat_gateways_now's answer."""
    by_subnet = _nat_by_subnet(nat_gateways)

    def entry(name, tier, subnet_ids, routes):
        return {"tags": dict(tags, Name=name, **{"bluegreen:tier": tier}), "subnets": list(subnet_ids), "routes": routes}

    tables = [entry(names["public"], "public", subnets["public"], [{"dest": "0.0.0.0/0", "gateway_id": internet_gateway_id}])]
    single = len(names["private"]) == 1
    for index, name in enumerate(names["private"]):
        nat_subnet = subnets["public"][0 if single else index] if subnets["public"] else None
        nat_id = by_subnet.get(nat_subnet, {}).get("nat_gateway_id")
        private = subnets["private"] if single else subnets["private"][index:index + 1]
        tables.append(entry(name, "private", private, [{"dest": "0.0.0.0/0", "nat_gateway_id": nat_id}]))
    tables.append(entry(names["isolated"], "isolated", subnets["isolated"], []))
    return tables


def main_table_routes_out(found):
    """Whether the VPC's main route table (the one of every subnet without an association of its
    own) has a route other than the VPC's own: then such a subnet has egress through it."""
    return any(_ours(r) for t in found if any(a.get("Main") for a in t.get("Associations", [])) for r in t.get("Routes", []))


def waiting_for_nat(changes, to_apply, nat_gateways, main_routes_out=False):
    """plan_route_tables' (changes, to_apply) split by NAT gateway state: returns (ready,
    waiting, nat_ids, routes), the tables to apply now, those held back whole because their
    route names a NAT gateway that is not available (AWS refuses such a route), the ids of
    those gateways, to wait for, and the routes held back alone. A new table that takes no
    subnet from another table (a first deploy) is applied now without those routes, which
    follow once the gateway is available ({route_table, dest, nat_gateway_id}, the table by
    its Name tag): its subnets had no egress before, so none is lost meanwhile, and the table
    is ready when the gateway is. A table that exists, or takes subnets that route elsewhere
    (a NAT layout switch, or any subnet when the VPC's main table routes out:
    `main_routes_out`), waits whole, so those subnets keep their egress until then. The
    changes of the tables held back say so."""
    not_available = set(n["nat_gateway_id"] for n in nat_gateways if n["state"] != "available")
    ready, waiting, nat_ids, routes = [], [], [], []
    for table in to_apply:
        held = [r for r in table["routes"] if r.get("nat_gateway_id") in not_available]
        nat_ids += [r["nat_gateway_id"] for r in held if r["nat_gateway_id"] not in nat_ids]
        if not held:
            ready.append(table)
        elif "route_table_id" in table or table.get("subnets_moved") or main_routes_out:
            waiting.append(table)
        else:
            ready.append(dict(table, routes=[r for r in table["routes"] if r not in held]))
            routes += [dict(r, route_table=table["tags"]["Name"]) for r in held]
    suffixes = dict([(t["tags"]["Name"], WAITS_FOR_NAT) for t in waiting] + [(r["route_table"], ROUTE_WAITS_FOR_NAT) for r in routes])
    for item in changes:
        if item["resource"] == ROUTE_TABLE and item["name"] in suffixes:
            item["reason"] += suffixes[item["name"]]
    return ready, waiting, nat_ids, routes


# A route, or its route table, that does not exist.
class RouteErrorHandler(NetworkErrorHandler):
    @classmethod
    def _is_missing(cls):
        return is_boto3_error_code(["InvalidRoute.NotFound"] + list(ROUTE_TABLE_NOT_FOUND))


# A table created moments before may be unknown to Describe for a few seconds (EC2's eventual
# consistency): a few retries, then None.
@RouteErrorHandler.list_error_handler("describe route table {route_table_id}")
@aws_retry(retries=8, max_delay=4, extra_codes=ROUTE_TABLE_NOT_FOUND)
def describe_route_table(client, route_table_id):
    return client.describe_route_tables(RouteTableIds=[route_table_id])["RouteTables"][0]


def route_of(table, destination):
    """The route of `table` (as DescribeRouteTables answers it) to an IPv4 `destination`, as
    {route_table_id, destination_cidr_block, gateway_id, nat_gateway_id, state, origin}, or None."""
    for route in table.get("Routes") or []:
        if route.get("DestinationCidrBlock") == destination:
            return {
                "route_table_id": table["RouteTableId"],
                "destination_cidr_block": destination,
                "gateway_id": route.get("GatewayId"),
                "nat_gateway_id": route.get("NatGatewayId"),
                "state": route.get("State"),
                "origin": route.get("Origin"),
            }
    return None


# The table, or the NAT gateway, created moments before may not be known to CreateRoute yet
# (EC2's eventual consistency, boto3 issue 779): AWS lifts that refusal by itself.
ROUTE_TARGET_PROPAGATION = ROUTE_TABLE_NOT_FOUND + ("InvalidNatGatewayID.NotFound", "InvalidGatewayID.NotFound")


@aws_retry(retries=8, max_delay=8, extra_codes=ROUTE_TARGET_PROPAGATION)
def _write_route(client, operation, route_table_id, destination, target):
    getattr(client, operation)(RouteTableId=route_table_id, DestinationCidrBlock=destination, **target)


@NetworkErrorHandler.common_error_handler("{operation} {destination} in route table {route_table_id}")
def write_route(client, operation, route_table_id, destination, target):
    """CreateRoute or ReplaceRoute (`operation`: create_route, replace_route) to `target`
    ({GatewayId} or {NatGatewayId}). A create that finds the route there (a retried request
    that had gone through, or a route added meanwhile) replaces it."""
    try:
        _write_route(client, operation, route_table_id, destination, target)
    except is_boto3_error_code("RouteAlreadyExists"):
        if operation != "create_route":
            raise
        _write_route(client, "replace_route", route_table_id, destination, target)


# A route (or table) gone between the read and the delete is what the delete wanted.
@RouteErrorHandler.deletion_error_handler("delete route {destination} of route table {route_table_id}")
@aws_retry()
def delete_route(client, route_table_id, destination):
    client.delete_route(RouteTableId=route_table_id, DestinationCidrBlock=destination)
    return True


def route_table_ids(found):
    """{Name tag: route table id} of the route tables AWS has."""
    return dict((tags_of(t)["Name"], t["RouteTableId"]) for t in found if tags_of(t).get("Name"))


def plan_stale_route_tables(wanted, found):
    """(changes, stale): the role's route tables (they carry a bluegreen:tier tag) that are not
    wanted any more, e.g. the private tables of the other NAT layout, each as {id, name}; they
    are deleted once their subnets have moved to the wanted tables."""
    names = set(t["tags"]["Name"] for t in wanted)
    stale = [{"id": t["RouteTableId"], "name": tags_of(t).get("Name", "")} for t in found
             if tags_of(t).get("bluegreen:tier") and tags_of(t).get("Name") not in names]
    changes = [change(ROUTE_TABLE, t["name"], "delete", {"route_table_id": field(t["id"], None)}, "not a route table of this layout") for t in stale]
    return changes, stale


# The states of an endpoint that exists and is not going, as the state filter takes them (the
# answer's State may be capitalized). Of these, an endpoint that failed or was rejected serves
# nothing and is replaced; it is read so that the plan deletes it and a teardown does not leave it.
# https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_VpcEndpoint.html
ENDPOINT_LIVE_STATES = ("pendingAcceptance", "pending", "available", "partial", "failed", "rejected", "expired")
ENDPOINT_UNUSABLE_STATES = ("failed", "rejected", "expired")
ENDPOINT_GOING_STATES = ("deleting", "deleted")
# CreateVpcEndpoint's refusal of a private DNS name another endpoint of the service holds (one
# still deleting gives it back a while later).
PRIVATE_DNS_TAKEN = "conflicting DNS domain"


def failure_cause(code, message):
    """An AWS failure code and message as one phrase ("Code: message"), leaving out what is empty."""
    return ": ".join(part for part in (code, message) if part)


def read_vpc_endpoints(client, vpc_id, states=ENDPOINT_LIVE_STATES):
    """The VPC's endpoints in `states` (by default all but those deleting or deleted; None: any)."""
    filters = [{"Name": "vpc-id", "Values": [vpc_id]}]
    if states:
        filters.append({"Name": "vpc-endpoint-state", "Values": list(states)})
    return _describe(client, "describe_vpc_endpoints", "VpcEndpoints", filters)


def _state_of(endpoint):
    """An endpoint's state in lower case (the answer's State may be capitalized), "" when none."""
    return (endpoint.get("State") or "").lower()


def _state_with_cause(state, code, message):
    """A state and its failure, e.g. "failed (InsufficientIps: ...)", or the state alone."""
    cause = failure_cause(code, message)
    return "%s (%s)" % (state, cause) if cause else state


def endpoint_unusable(endpoint):
    """Why an endpoint (as DescribeVpcEndpoints answers it) serves nothing, e.g. "failed
    (InsufficientIps: ...)", or None when it is usable (pending counts: it is on its way)."""
    state = _state_of(endpoint)
    if state not in ENDPOINT_UNUSABLE_STATES:
        return None
    error = endpoint.get("LastError") or {}
    return _state_with_cause(state, error.get("Code"), error.get("Message") or endpoint.get("FailureReason"))


class VpcEndpointErrorHandler(NetworkErrorHandler):
    @classmethod
    def _is_missing(cls):
        return is_boto3_error_code("InvalidVpcEndpointId.NotFound")


# The policy AWS gives an endpoint made without one (full access), which the role's endpoints keep:
# https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-endpoints-access.html
ENDPOINT_FULL_ACCESS_POLICY = {"Version": "2008-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]}
FULL_ACCESS = "full access (AWS's default policy)"


def endpoint_policy(document):
    """An endpoint's policy as plans and diffs show and compare it: FULL_ACCESS for a policy
    equivalent to AWS's default one (statement order, single values or lists do not matter),
    else the document as sorted JSON; None when there is none (a service that takes no policy)."""
    if not document:
        return None
    try:
        parsed = json.loads(document) if isinstance(document, str) else document
    except ValueError:
        return document
    if not compare_policies(parsed, ENDPOINT_FULL_ACCESS_POLICY):
        return FULL_ACCESS
    return json.dumps(parsed, sort_keys=True)


def endpoint_policy_differs(shown, wanted):
    """Whether the policy `wanted` (a document, or its JSON) differs from the one endpoint_policy()
    showed as `shown`, as policies: statement order and a single value against a one-element list
    do not matter. An endpoint without a policy (None: its service takes none, AWS would refuse
    one) never differs, as in plan_vpc_endpoints."""
    if shown is None:
        return False
    wanted = json.loads(wanted) if isinstance(wanted, str) else wanted
    if shown == FULL_ACCESS:
        current = ENDPOINT_FULL_ACCESS_POLICY
    else:
        try:
            current = json.loads(shown)
        except ValueError:
            return True
    return compare_policies(current, wanted)


def endpoint_state(endpoint):
    """An endpoint as vpc_endpoint_create and vpc_endpoint_update return it: ids sorted, tags as a
    dict, the policy as endpoint_policy() shows it, the state in lower case."""
    return dict(
        _endpoint_now(endpoint),
        vpc_endpoint_id=endpoint["VpcEndpointId"],
        service_name=endpoint.get("ServiceName"),
        vpc_endpoint_type=endpoint.get("VpcEndpointType"),
        state=_state_of(endpoint) or None,
    )


# An endpoint created moments before may be unknown to Describe for a few seconds (EC2's
# eventual consistency): a few retries, then None.
@VpcEndpointErrorHandler.list_error_handler("describe VPC endpoint {endpoint_id}")
@aws_retry(retries=5, extra_codes=("InvalidVpcEndpointId.NotFound",))
def _describe_vpc_endpoint(client, endpoint_id):
    return client.describe_vpc_endpoints(VpcEndpointIds=[endpoint_id])["VpcEndpoints"]


def describe_vpc_endpoint(client, endpoint_id):
    """The endpoint as endpoint_state() gives it, or None when it does not exist or is being deleted."""
    found = [e for e in _describe_vpc_endpoint(client, endpoint_id) or [] if _state_of(e) not in ENDPOINT_GOING_STATES]
    return endpoint_state(found[0]) if found else None


def vpc_endpoints_of_service(client, vpc_id, service, endpoint_type, name):
    """(usable, listed_ids): the endpoint (as endpoint_state() gives it) of `service` and
    `endpoint_type` in the VPC that is usable (not going, failed, rejected or expired) and named
    `name` (any, when None), else None; and the ids of those of that service, type and name that
    EC2 lists in any state (deleted ones are listed a while)."""
    same = [e for e in read_vpc_endpoints(client, vpc_id, states=None) if e["ServiceName"] == service and e.get("VpcEndpointType") == endpoint_type
            and (name is None or tags_of(e).get("Name") == name)]
    usable = [e for e in same if _state_of(e) not in ENDPOINT_GOING_STATES and not endpoint_unusable(e)]
    return (endpoint_state(usable[0]) if usable else None), [e["VpcEndpointId"] for e in same]


# A route table, subnet or security group created moments before may not be known to the
# endpoint service yet (EC2's eventual consistency), and an interface endpoint of the service
# still deleting holds its private DNS name a while: AWS lifts both refusals by itself.
@aws_retry(extra_codes=ROUTE_TABLE_NOT_FOUND + ("InvalidSubnetID.NotFound", "InvalidGroup.NotFound", "InvalidVpcID.NotFound"),
           extra_messages={"InvalidParameter": (PRIVATE_DNS_TAKEN,)})
def _create_vpc_endpoint(client, request):
    return client.create_vpc_endpoint(**request)["VpcEndpoint"]


@NetworkErrorHandler.common_error_handler("create a VPC endpoint of {request[ServiceName]}")
def create_vpc_endpoint(client, request):
    """CreateVpcEndpoint with `request` (its ClientToken makes a repeated create one endpoint); the
    new endpoint as CreateVpcEndpoint answers it, or AWS's message (a str) when another endpoint
    holds what the new one needs, after the retries: a route of its route tables to the service
    (RouteAlreadyExists) or its private DNS name. An earlier request's endpoint (a stopped run's,
    not listed yet) may be that one."""
    try:
        return _create_vpc_endpoint(client, request)
    except is_boto3_error_code("RouteAlreadyExists") as e:
        return e.response["Error"]["Message"]
    except is_boto3_error_message(PRIVATE_DNS_TAKEN) as e:  # pylint: disable=duplicate-except
        return e.response["Error"]["Message"]


# A route table, subnet or security group created moments before may not be known to the
# endpoint service yet (EC2's eventual consistency); AWS lifts that refusal by itself.
@NetworkErrorHandler.common_error_handler("modify VPC endpoint {endpoint_id}")
@aws_retry(extra_codes=ROUTE_TABLE_NOT_FOUND + ("InvalidSubnetID.NotFound", "InvalidGroup.NotFound"))
def modify_vpc_endpoint(client, endpoint_id, changes):
    client.modify_vpc_endpoint(VpcEndpointId=endpoint_id, **changes)


def wanted_vpc_endpoints(services, gateway_services, suffix, tags):
    """The wanted endpoints of `services` (full names): each with its type (Gateway for the short
    names in `gateway_services`, else Interface), its name (the collection's naming function), its
    full tags, its policy (AWS's default full access: the security groups and the private
    subnets are what limits an endpoint here) and, for an interface endpoint, private DNS on (the
    service's own hostname resolves to the endpoint, so nothing in the VPC needs configuring)."""
    wanted = []
    for service in services:
        name = vpc_endpoint_name(service, suffix)
        kind = "Gateway" if endpoint_service_short_name(service) in gateway_services else "Interface"
        want = {"service": service, "type": kind, "name": name, "tags": dict(tags, Name=name), "policy": ENDPOINT_FULL_ACCESS_POLICY}
        if kind == "Interface":
            want["private_dns_enabled"] = True
        wanted.append(want)
    return wanted


def _endpoint_now(endpoint):
    now = {
        "route_table_ids": sorted(endpoint.get("RouteTableIds") or []),
        "subnet_ids": sorted(endpoint.get("SubnetIds") or []),
        "security_group_ids": sorted(g["GroupId"] for g in endpoint.get("Groups") or []),
        "policy": endpoint_policy(endpoint.get("PolicyDocument")),
        "tags": tags_of(endpoint),
    }
    if endpoint.get("VpcEndpointType") == "Interface":
        now["private_dns_enabled"] = bool(endpoint.get("PrivateDnsEnabled"))
    return now


def _endpoint_wanted(want, attachments):
    """What an endpoint of `want` should have: its tags, and the ids of `attachments` its type
    takes (a gateway endpoint joins route tables, an interface endpoint has subnets and security
    groups); an id still to create is KNOWN_AFTER_CREATE."""
    keys = ("route_table_ids",) if want["type"] == "Gateway" else ("subnet_ids", "security_group_ids")
    desired = dict((key, sorted(attachments[key])) for key in keys if attachments.get(key) is not None)
    desired["policy"] = endpoint_policy(want["policy"])
    if "private_dns_enabled" in want:
        desired["private_dns_enabled"] = want["private_dns_enabled"]
    desired["tags"] = want["tags"]
    return desired


def _the_one_to_keep(candidates, want):
    """Of the VPC's endpoints of a wanted service, the one to keep: usable, of the wanted type,
    the one named as the role names it first. None when no endpoint is so."""
    typed = [e for e in candidates if e.get("VpcEndpointType") == want["type"] and not endpoint_unusable(e)]
    named = [e for e in typed if tags_of(e).get("Name") == want["name"]]
    return (named or typed or [None])[0]


def plan_vpc_endpoints(wanted, found, attachments=None):
    """(changes, plan) for the VPC endpoints. `wanted`: wanted_vpc_endpoints' answer; `found`:
    read_vpc_endpoints' answer; `attachments`: {route_table_ids, subnet_ids, security_group_ids}
    the endpoints should have, as far as they are known (an id still to create is
    KNOWN_AFTER_CREATE; a key left out is not compared).

    An endpoint of a listed service is kept when it has the wanted type (one per service); its
    route tables (gateway), subnets, security groups and private DNS (interface), policy and tags
    are compared, and it is planned for update when they differ. A listed service without one is planned for
    creation. The others (unlisted service, other type, a second one, one that failed or was
    rejected) are planned for deletion: AWS refuses a second gateway endpoint of a service on a
    route table, so a layout change updates the endpoint instead of adding one.

    plan: create [{service, type, name, tags, policy, private_dns_enabled (interface)}], modify [the
    same with vpc_endpoint_id], stale
    [{vpc_endpoint_id, service_name}], ids {service: the kept endpoint's id}, pending [ids of the
    kept endpoints still pending (a run stopped before they were available), to wait for]."""
    attachments = attachments or {}
    changes, plan = [], {"create": [], "modify": [], "stale": [], "ids": {}, "pending": []}
    kept = set()
    for want in wanted:
        keep = _the_one_to_keep([e for e in found if e["ServiceName"] == want["service"]], want)
        desired = _endpoint_wanted(want, attachments)
        if keep is None:
            shown = created(dict(desired, service_name=want["service"], type=want["type"]))
            changes.append(change(VPC_ENDPOINT, want["name"], "create", shown, "no %s endpoint of that service" % want["type"].lower()))
            plan["create"].append(want)
            continue
        kept.add(keep["VpcEndpointId"])
        plan["ids"][want["service"]] = keep["VpcEndpointId"]
        if _state_of(keep) == PENDING:
            plan["pending"].append(keep["VpcEndpointId"])
        now = _endpoint_now(keep)
        if now["policy"] is None:  # a service that takes no endpoint policy
            desired.pop("policy")
        updates = fields_that_differ(desired, now)
        if updates:
            changes.append(change(VPC_ENDPOINT, want["name"], "update", updates, DIFFERS))
            plan["modify"].append(dict(want, vpc_endpoint_id=keep["VpcEndpointId"]))
    wanted_types = dict((want["service"], want["type"]) for want in wanted)
    for endpoint in found:
        if endpoint["VpcEndpointId"] in kept:
            continue
        service = endpoint["ServiceName"]
        unusable = endpoint_unusable(endpoint)
        if unusable:
            replaced = any(want["service"] == service for want in plan["create"])
            reason = "%s: AWS does not serve it%s" % (unusable, "; a new one takes its place" if replaced else "")
        elif service not in wanted_types:
            reason = "its service is not listed"
        elif endpoint.get("VpcEndpointType") != wanted_types[service]:
            reason = "a %s endpoint; the role makes %s ones of that service" % (endpoint.get("VpcEndpointType"), wanted_types[service])
        else:
            reason = "a second endpoint of that service"
        fields = {"service_name": field(service, None)}
        changes.append(change(VPC_ENDPOINT, endpoint["VpcEndpointId"], "delete", fields, reason))
        plan["stale"].append({"vpc_endpoint_id": endpoint["VpcEndpointId"], "service_name": service})
    return changes, plan


def read_subnets(client, vpc_id):
    return _describe(client, "describe_subnets", "Subnets", [{"Name": "vpc-id", "Values": [vpc_id]}])


def read_route_tables(client, vpc_id):
    return _describe(client, "describe_route_tables", "RouteTables", [{"Name": "vpc-id", "Values": [vpc_id]}])


def read_security_groups(client, vpc_id):
    return _describe(client, "describe_security_groups", "SecurityGroups", [{"Name": "vpc-id", "Values": [vpc_id]}])


def tags_of(resource):
    return boto3_tag_list_to_ansible_dict(resource.get("Tags") or [])


# --- VPC and internet gateway -------------------------------------------------------------


def plan_vpc(wanted, found):
    """`wanted`: {name, cidr, tags}; `found`: read_vpcs' answer. Returns (changes, vpc_id, apply):
    apply is True when amazon.aws.ec2_vpc_net has to create the VPC or fix it (DNS, tags)."""
    desired = {"cidr_block": wanted["cidr"], "enable_dns_support": True, "enable_dns_hostnames": True,
               "tags": dict(wanted.get("tags") or {}, Name=wanted["name"])}
    if len(found) > 1:
        ids = ", ".join(sorted(v["VpcId"] for v in found))
        message = "%d VPCs are named %s with CIDR %s (%s): delete the extra ones and run again"
        raise NetworkError(message=message % (len(found), wanted["name"], wanted["cidr"], ids))
    if not found:
        return [change(VPC, wanted["name"], "create", created(desired), "no VPC named %s with CIDR %s" % (wanted["name"], wanted["cidr"]))], None, True
    current = found[0]
    have = {"cidr_block": current.get("CidrBlock"), "enable_dns_support": current.get("EnableDnsSupport"),
            "enable_dns_hostnames": current.get("EnableDnsHostnames"), "tags": tags_of(current)}
    updates = fields_that_differ(desired, have)
    if updates:
        return [change(VPC, wanted["name"], "update", updates, "differs from the inputs")], current["VpcId"], True
    return [], current["VpcId"], False


def plan_internet_gateway(name, tags, found):
    """The VPC's internet gateway: `found` is read_internet_gateways' answer (empty for a VPC
    still to create). Returns (changes, gateway_id, apply)."""
    if not found:
        return [change(INTERNET_GATEWAY, name, "create", created({"tags": tags}), "the VPC has no internet gateway")], None, True
    current = found[0]
    updates = fields_that_differ({"tags": tags}, {"tags": tags_of(current)})
    if updates:
        return [change(INTERNET_GATEWAY, name, "update", updates, "differs from the inputs")], current["InternetGatewayId"], True
    return [], current["InternetGatewayId"], False


# --- Subnets ---------------------------------------------------------------------------


def plan_subnets(wanted, found):
    """`wanted`: [{name, cidr, az, tier, tags}], matched to what AWS has by CIDR (unique in a VPC)."""
    by_cidr = dict((s["CidrBlock"], s) for s in found)
    changes, to_apply = [], []
    for subnet in wanted:
        current = by_cidr.get(subnet["cidr"])
        desired = {"availability_zone": subnet["az"], "map_public_ip_on_launch": False, "tags": subnet["tags"]}
        if current is None:
            changes.append(change(SUBNET, subnet["name"], "create", created(desired), "no subnet with CIDR " + subnet["cidr"]))
            to_apply.append(subnet)
            continue
        have = {
            "availability_zone": current.get("AvailabilityZone"),
            "map_public_ip_on_launch": bool(current.get("MapPublicIpOnLaunch")),
            "tags": tags_of(current),
        }
        if have["availability_zone"] != subnet["az"]:
            fixed = {"availability_zone": field(have["availability_zone"], subnet["az"])}
            reason = "the AZ of a subnet is fixed at creation: delete it and run again (not done automatically)"
            changes.append(change(SUBNET, subnet["name"], "replace", fixed, reason))
            continue
        updates = fields_that_differ(desired, have)
        if updates:
            changes.append(change(SUBNET, subnet["name"], "update", updates, "differs from the inputs"))
            to_apply.append(subnet)
    return changes, to_apply


def subnet_ids(found):
    """{cidr: subnet id} of the subnets AWS has."""
    return dict((s["CidrBlock"], s["SubnetId"]) for s in found)


# --- Waits for new NAT gateways and VPC endpoints ------------------------------------------
# What the role's waits found (waits.wait_outcome): each id ready, pending or failed.


def nat_gateways_waited(found, wanted=None):
    """What a wait for the NAT gateways `wanted` (ids) still waits for (waits.wait_outcome): `found` is
    amazon.aws.ec2_vpc_nat_gateway_info's result, listed by the nat-gateway-id filter (an id EC2
    does not list yet is pending); a failed one reads "<id> (<code>: <message>)". AWS deletes a failed gateway after a while.
    https://docs.aws.amazon.com/vpc/latest/userguide/nat-gateway-troubleshooting.html"""

    def verdict(nat):
        state = nat.get("state")
        if state in ("failed", "deleting", "deleted"):
            cause = failure_cause(nat.get("failure_code"), nat.get("failure_message"))
            return "%s (%s)" % (nat["nat_gateway_id"], cause or state)
        return None if state == "available" else PENDING

    return wait_outcome(found, wanted, "nat_gateway_id", verdict)


def vpc_endpoints_to_wait(pending, created, modified=None):
    """The ids of the VPC endpoints to wait for: `pending`, the plan's kept endpoints still pending,
    and those bluegreen.migration.vpc_endpoint_create (`created`) and vpc_endpoint_update
    (`modified`) answered pending (their loop results; a modify may put one back to pending)."""
    ids = list(pending or [])
    for result in (created or []) + (modified or []):
        endpoint = result.get("vpc_endpoint") or {}
        if endpoint.get("state") == PENDING and endpoint.get("vpc_endpoint_id") not in ids:
            ids.append(endpoint["vpc_endpoint_id"])
    return ids


def vpc_endpoints_waited(found, wanted=None):
    """What a wait for the VPC endpoints `wanted` (ids) still waits for (waits.wait_outcome): `found` is
    amazon.aws.ec2_vpc_endpoint_info's vpc_endpoints (an id EC2 does not know yet is left out). A
    new interface endpoint is pending a minute or two, then available or failed (LastError); one
    that failed reads "<id> of <service> is failed (<code>: <message>)". An endpoint waiting for
    its service's acceptance (pendingAcceptance, services of other accounts) is not waited for.
    https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_VpcEndpoint.html"""

    def verdict(endpoint):
        state = (endpoint.get("state") or "").lower()
        if state == PENDING:
            return PENDING
        if state in ENDPOINT_UNUSABLE_STATES + ENDPOINT_GOING_STATES:
            error = endpoint.get("last_error") or {}
            failure = _state_with_cause(state, error.get("code"), error.get("message") or endpoint.get("failure_reason"))
            return "%s of %s is %s" % (endpoint["vpc_endpoint_id"], endpoint.get("service_name"), failure)
        return None

    return wait_outcome(found, wanted, "vpc_endpoint_id", verdict)


# --- Ids after the writers ------------------------------------------------------------------
# The plan read the ids of what exists; the writers (run for the plan's items alone) answer with
# the ids of what they created. These merge the two for the resources that refer to them.


def subnets_unlisted(written):
    """The CIDRs of the subnets amazon.aws.ec2_vpc_subnet created but answered without an id: it
    reads a new subnet back by filter, and EC2 may not list it yet (eventual consistency)."""
    return [result["item"]["cidr"] for result in written or [] if result.get("changed") and not (result.get("subnet") or {}).get("id")]


def subnet_ids_by_tier(subnet_plan, known, written, listed=None):
    """{tier: [subnet id]} in AZ order: `known` is the plan's {cidr: id}, `written` the loop results
    of amazon.aws.ec2_vpc_subnet (each with its item's cidr and the subnet), `listed` the subnets
    amazon.aws.ec2_vpc_subnet_info listed again for those answered without an id; an id not
    known yet (as in check mode) is None."""
    ids = dict(known or {})
    for result in written or []:
        subnet_id = (result.get("subnet") or {}).get("id")
        if subnet_id:
            ids[result["item"]["cidr"]] = subnet_id
    for subnet in listed or []:
        ids[subnet["cidr_block"]] = subnet["subnet_id"]
    tiers = {"public": [], "private": [], "isolated": []}
    for subnet in subnet_plan:
        tiers[subnet["tier"]].append(ids.get(subnet["cidr"]))
    return tiers


def security_group_ids(known, created):
    """{key: group id}: `known` is the plan's, `created` the async_status results of the
    amazon.aws.ec2_security_group jobs that created the missing groups (each job's item the group)."""
    ids = dict(known or {})
    for result in created or []:
        if result.get("group_id"):
            ids[result["item"]["item"]["key"]] = result["group_id"]
    return ids


def route_table_ids_by_tier(names, known, applied):
    """{by_name: {Name: id}, public, private: [ids of the private tables that exist, in order],
    isolated}: `known` is {Name: id} as read (or as indexed before), `applied` the async_status
    results of the amazon.aws.ec2_vpc_route_table jobs (each job's item the wanted table; the
    results of other jobs, without a route table, are passed over); `names` the tables' names."""
    by_name = dict(known or {})
    for result in applied or []:
        table_id = (result.get("route_table") or {}).get("id")
        if table_id:
            by_name[result["item"]["item"]["tags"]["Name"]] = table_id
    return {
        "by_name": by_name,
        "public": by_name.get(names["public"]),
        "private": [by_name[name] for name in names["private"] if name in by_name],
        "isolated": by_name.get(names["isolated"]),
    }


def nat_routes_with_table_ids(routes, table_ids, check_mode=False):
    """The NAT routes the plan held back ([{route_table (its Name), dest, nat_gateway_id}]), each
    with its table's id from `table_ids` ({Name: id}, route_table_ids_by_tier's by_name). A table
    without an id (its writer answered none) is a ValueError naming it, before any route is written;
    in check mode it is None (the table is among the changes the first pass reported, not created)."""
    missing = sorted({route["route_table"] for route in routes if not table_ids.get(route["route_table"])})
    if missing and not check_mode:
        raise ValueError(
            "no id is known for route table(s) %s: the first pass created them but neither the plan nor "
            "amazon.aws.ec2_vpc_route_table answered their id; run the deploy again" % ", ".join(missing)
        )
    return [dict(route, route_table_id=table_ids.get(route["route_table"])) for route in routes]


# --- Route tables ------------------------------------------------------------------------


def _route_key(route):
    """(destination, gateway, NAT gateway) of a route, from AWS's answer or the role's own."""
    return (
        route.get("DestinationCidrBlock", route.get("dest", "")) or "",
        route.get("GatewayId", route.get("gateway_id", "")) or "",
        route.get("NatGatewayId", route.get("nat_gateway_id", "")) or "",
    )


def _ours(route):
    """A route the role manages: not the VPC's own (local) nor one a gateway endpoint adds (vpce-)."""
    gateway = route.get("GatewayId") or ""
    return gateway != "local" and not gateway.startswith("vpce-")


def route_table_state(table):
    return {
        "tags": tags_of(table),
        "subnets": sorted(a["SubnetId"] for a in table.get("Associations", []) if not a.get("Main") and a.get("SubnetId")),
        "routes": sorted(_route_key(r) for r in table.get("Routes", []) if _ours(r)),
    }


def plan_route_tables(wanted, found, deferred_tiers=()):
    """`wanted`: [{tags, subnets, routes: [{dest, gateway_id | nat_gateway_id}]}], matched by the
    Name tag. Tables of a tier in `deferred_tiers` are planned but not applied yet (their NAT
    gateway is not available). An entry to apply that takes subnets from another table lists
    them in `subnets_moved`: amazon.aws.ec2_vpc_route_table (11.x) only disassociates such a
    subnet, so the role runs it once more for those entries."""
    changes, to_apply = [], []
    table_of_subnet = dict(
        (a["SubnetId"], t["RouteTableId"]) for t in found for a in t.get("Associations", []) if not a.get("Main") and a.get("SubnetId")
    )
    for table in wanted:
        name = table["tags"]["Name"]
        same_name = [t for t in found if tags_of(t).get("Name") == name]
        desired = {"tags": table["tags"], "subnets": sorted(table["subnets"]), "routes": sorted(_route_key(r) for r in table["routes"])}
        deferred = table["tags"].get("bluegreen:tier") in deferred_tiers
        if not same_name:
            item = change(ROUTE_TABLE, name, "create", created(dict((k, _shown(k, v)) for k, v in desired.items())), "no route table of that name")
        elif len(same_name) > 1:
            tables = sorted(t["RouteTableId"] for t in same_name)
            reason = "%d route tables carry this name: delete the extra ones (not done automatically)" % len(same_name)
            changes.append(change(ROUTE_TABLE, name, "update", {"route_tables": field(tables, "one")}, reason))
            continue
        else:
            have = route_table_state(same_name[0])
            updates = dict((k, field(_shown(k, have[k]), _shown(k, v))) for k, v in desired.items() if have[k] != v)
            if not updates:
                continue
            item = change(ROUTE_TABLE, name, "update", updates, "differs from the inputs")
            # Fixed by its id: a lookup by tags would miss a table whose tags drifted and create a second one.
            table = dict(table, route_table_id=same_name[0]["RouteTableId"])
        if deferred:
            item["reason"] += WAITS_FOR_NAT
        changes.append(item)
        if not deferred:
            moved = sorted(s for s in table["subnets"] if table_of_subnet.get(s, table.get("route_table_id")) != table.get("route_table_id"))
            to_apply.append(dict(table, subnets_moved=moved) if moved else table)
    return changes, to_apply


def _shown(key, value):
    """Routes as `destination -> target` lines in the plan."""
    if key != "routes":
        return value
    return ["%s -> %s" % (dest, nat or gateway) for dest, gateway, nat in value]


# --- Security groups -----------------------------------------------------------------------


def _permissions(permissions):
    """Each rule AWS has as (protocol, from, to, peer, description), sorted."""
    found = []
    for p in permissions or []:
        head = (p.get("IpProtocol"), p.get("FromPort"), p.get("ToPort"))
        for peer_key, id_key in (("IpRanges", "CidrIp"), ("Ipv6Ranges", "CidrIpv6"), ("UserIdGroupPairs", "GroupId"), ("PrefixListIds", "PrefixListId")):
            for peer in p.get(peer_key) or []:
                found.append(head + (peer.get(id_key), peer.get("Description") or ""))
    return sorted(found, key=str)


def _wanted_rules(rules):
    """The role's rules ({proto, ports, cidr_ip | group_id, rule_desc}) in the same shape."""
    found = []
    for rule in rules or []:
        if "cidr_ip" in rule:
            peers = [rule["cidr_ip"]] if isinstance(rule["cidr_ip"], str) else list(rule["cidr_ip"])
        else:
            peers = [rule["group_id"]]
        for port in rule["ports"]:
            for peer in peers:
                found.append((rule["proto"], int(port), int(port), peer, rule.get("rule_desc") or ""))
    return sorted(found, key=str)


def _shown_rules(rules):
    return ["%s %s-%s %s%s" % (proto, low, high, peer, " (%s)" % desc if desc else "") for proto, low, high, peer, desc in rules]


def resolve_group_refs(groups, ids):
    """The wanted groups with each rule's `group` (the key of another of the role's groups) given as
    the `group_id` it stands for in `ids` ({key: id}); None while a named group has no id (it is
    still to create, so its rules wait for a second read)."""
    resolved = []
    for group in groups:
        entry = dict(group)
        for kind in ("rules", "egress"):
            if kind not in group:
                continue
            entry[kind] = []
            for rule in group[kind] or []:
                if "group" in rule:
                    if not ids.get(rule["group"]):
                        return None
                    rule = dict(((k, v) for k, v in rule.items() if k != "group"), group_id=ids[rule["group"]])
                entry[kind].append(rule)
        resolved.append(entry)
    return resolved


def plan_security_groups(wanted, found):
    """`wanted`: [{key, name, tags, rules, egress}], matched by group name. A missing group is
    planned as create with its rules; one that differs in rules or tags as update."""
    by_name = dict((g["GroupName"], g) for g in found)
    changes, to_apply = [], []
    for group in wanted:
        desired = {"ingress": _wanted_rules(group.get("rules")), "egress": _wanted_rules(group.get("egress")), "tags": group["tags"]}
        current = by_name.get(group["name"])
        if current is None:
            shown = {"ingress": _shown_rules(desired["ingress"]), "egress": _shown_rules(desired["egress"]), "tags": group["tags"]}
            changes.append(change(SECURITY_GROUP, group["name"], "create", created(shown), "no security group of that name"))
            to_apply.append(group)
            continue
        have = {"ingress": _permissions(current.get("IpPermissions")), "egress": _permissions(current.get("IpPermissionsEgress")), "tags": tags_of(current)}
        updates = {}
        for key in ("ingress", "egress"):
            if have[key] != desired[key]:
                updates[key] = field(_shown_rules(have[key]), _shown_rules(desired[key]))
        if have["tags"] != desired["tags"]:
            updates["tags"] = field(have["tags"], desired["tags"])
        if updates:
            changes.append(change(SECURITY_GROUP, group["name"], "update", updates, "differs from the inputs"))
            to_apply.append(group)
    return changes, to_apply
