"""The realistic mode of the local emulator: a small proxy on loopback between boto3 and the
moto server that adds what real AWS does and moto leaves out.

moto answers every call at once, with every resource ready and every name free. Real AWS
is eventually consistent, throttles, takes minutes to create NAT gateways and databases,
refuses deletions while dependents drain and propagates IAM changes with a delay. Each
behaviour below reproduces one of those, behind its own switch, by filtering requests and
responses (never by keeping resources of its own). Its AWS source is named beside it.

    python scripts/realistic.py --listen PORT --upstream PORT [--behaviours all|none|a,b,c]

At run time: GET/POST /realistic-api/config (switches and their figures), GET
/realistic-api/events (every answer the proxy changed, oldest first), POST
/realistic-api/reset (forget what it tracked). Anything under /moto-api/ passes untouched.
"""

import argparse
import fnmatch
import http.client
import http.server
import json
import os
import re
import selectors
import socket
import struct
import sys
import threading
import time
import urllib.parse
import uuid
import xml.etree.ElementTree as ET
import zlib

# Each behaviour's switch and figures. Windows are seconds of wall time after the event that
# starts them; they are short here (tests run the whole stack) and minutes on real AWS.
DEFAULTS = {
    # Every call takes a little time, as a call across the network does.
    "latency": {"enabled": True, "ms": 10},
    # https://docs.aws.amazon.com/AWSEC2/latest/APIReference/throttling.html
    # https://docs.aws.amazon.com/general/latest/gr/api-retries.html
    # Every n-th AWS call is refused with the service's own throttling error.
    "throttling": {"enabled": True, "every": 17},
    # https://docs.aws.amazon.com/AWSEC2/latest/APIReference/query-api-troubleshooting.html#eventual-consistency
    # A Describe naming an EC2 id created less than `seconds` ago answers <Kind>.NotFound, and so
    # does a call changing that resource (EC2_MODIFIES; the reference: "If you run a command to
    # modify or describe the resource that you just created, its ID might not have propagated").
    # ECS learns of new resources late too (terraform-provider-aws retries CreateService on both):
    # CreateService less than `seconds` after its cluster's CreateCluster answers
    # ClusterNotFoundException, and one naming a target group that a listener or listener rule
    # took up less than `listener_seconds` ago "does not have an associated load balancer".
    # A Describe that lists by filter (no id named) leaves out what was created less than
    # `filter_seconds` ago (the same reference: a command's result "might not be immediately
    # visible to all subsequent commands"; https://docs.aws.amazon.com/ec2/latest/devguide/eventual-consistency.html).
    # `filter_listings` names the listing Describes that delay (e.g. ["DescribeVpcEndpoints"]); empty: all.
    # https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RunTask.html ("The Amazon ECS
    # API follows an eventual consistency model"): for `service_seconds` after CreateService,
    # DescribeServices answers the service MISSING and UpdateService ServiceNotFoundException;
    # for `seconds` after CreateCluster, DescribeClusters answers the cluster MISSING.
    # terraform-provider-aws reads a new target group until ELB knows it (RetryWhenNotFound): for
    # `target_group_seconds` after CreateTargetGroup, DescribeTargetGroups naming the group (by
    # name or ARN) and ModifyTargetGroupAttributes on it answer TargetGroupNotFound.
    # https://docs.aws.amazon.com/secretsmanager/latest/userguide/troubleshoot.html (eventual
    # consistency; terraform-provider-aws reads a new secret until found): for `secret_seconds`
    # after CreateSecret, DescribeSecret and GetSecretValue naming it answer ResourceNotFoundException.
    "eventual_consistency": {
        "enabled": True, "seconds": 2, "listener_seconds": 6, "filter_seconds": 2, "filter_listings": [], "service_seconds": 2,
        "target_group_seconds": 1, "secret_seconds": 2,
    },
    # https://docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html and
    # https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html (ENI permissions):
    # CreateFunction soon after its role or the role's policies changed is refused, first with
    # "cannot be assumed", then (function in a VPC) with "CreateNetworkInterface", once each.
    # https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using-service-linked-roles.html:
    # an account's first CreateCluster creates ECS's service-linked role, and the first
    # `service_linked_role_refusals` calls are refused until IAM has it ("Unable to assume the
    # service linked role").
    # https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_general.html#troubleshoot_general_eventual-consistency
    # (terraform-provider-aws retries DeleteRole on DeleteConflict): DeleteRole less than
    # `detach_seconds` after a policy of the role was detached or deleted is refused
    # `delete_conflicts` times ("must detach all policies first").
    "iam_propagation": {"enabled": True, "seconds": 60, "service_linked_role_refusals": 2, "detach_seconds": 10, "delete_conflicts": 1},
    # https://docs.aws.amazon.com/vpc/latest/userguide/nat-gateway-working-with.html (pending),
    # https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/accessing-monitoring.html (creating),
    # https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-type-ecs.html (IN_PROGRESS):
    # https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_CreateTable.html (CREATING;
    # "You can perform read and write operations only on an ACTIVE table"):
    # new NAT gateways stay pending (a route to one is refused), new Aurora clusters and
    # instances creating, a new ECS deployment in progress with no task running, a new DynamoDB
    # table CREATING (its items unreachable: ResourceNotFoundException), for these many seconds.
    # A cluster still creating refuses DeleteDBCluster ("is not currently in the available
    # state", InvalidDBClusterStateFault; terraform-provider-aws retries it).
    # https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health-checks.html
    # (initial, Elb.RegistrationInProgress / Elb.InitialHealthChecking): the targets of a
    # service just scaled up from 0 (or created) are `initial`, and get no traffic, until
    # `targets_seconds` after its tasks run (AWS: health check interval x healthy threshold).
    # https://docs.aws.amazon.com/vpc/latest/privatelink/create-interface-endpoint.html and
    # terraform-provider-aws's wait for an available endpoint: a new interface endpoint is
    # `pending` (CreateVpcEndpoint's answer, then DescribeVpcEndpoints) for `endpoint_seconds`; a
    # listing whose state filter does not ask for pending leaves it out (moto has it available,
    # so a listing asking for pending only shows none). Gateway endpoints are available at once.
    # https://docs.aws.amazon.com/lambda/latest/dg/functions-states.html: a new function is
    # Pending ("Any invocations or other API actions that operate on the function will fail")
    # and an updated one's LastUpdateStatus InProgress (a second update refused: "An update is in
    # progress for resource"), both ResourceConflictException, for `lambda_seconds`.
    # https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/USER_UpgradeDBInstance.PostgreSQL.MinorUpgrade.html
    # (the cluster `upgrading`; terraform-provider-aws retries ModifyDBCluster on
    # InvalidDBClusterStateFault): for `rds_seconds` after a ModifyDBCluster that changes the
    # engine version, the cluster is described `upgrading`, with its former version and the new
    # one in PendingModifiedValues, and any further ModifyDBCluster is refused.
    # https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/USER_DeleteCluster.html ("You
    # can't delete a cluster if it's in the stopped state. In this case, start the cluster before
    # deleting it"): DeleteDBCluster, and DeleteDBInstance of a member, are refused while the
    # cluster is stopped or starting; a started cluster is `starting` for `rds_seconds` (moto:
    # available at once, and it deletes a stopped cluster).
    "slow_states": {
        "enabled": True, "nat_seconds": 4, "rds_seconds": 6, "ecs_seconds": 3, "dynamodb_seconds": 3, "targets_seconds": 20, "lambda_seconds": 3,
        "endpoint_seconds": 8,
    },
    # https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-circuit-breaker.html
    # UpdateService to a task definition whose image contains one of `images` trips the breaker:
    # ECS rolls back to the previous task definition and, for `seconds`, lists the FAILED
    # deployment next to the rollback one, and refuses DeleteService ("The service cannot be
    # stopped while deployments are active", InvalidParameterException; terraform-provider-aws
    # retries it on every service delete).
    "circuit_breaker": {"enabled": True, "images": [":broken"], "seconds": 20},
    # Deletions refused while dependents drain:
    # https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html#configuration-vpc-enis
    #   a deleted VPC function's ENIs stay listed and hold its security groups and subnets
    #   (AWS: up to 20-45 minutes), here until listed `eni_polls` times, at most `eni_seconds`.
    #   Lambda deletes them with the function's execution role: those whose role is deleted, or
    #   loses the VPC access policy, before they are released stay for good (AWS Support, "If the
    #   IAM role is deleted before Lambda can delete the ENI, ENI deletion by Lambda will not be
    #   possible");
    # https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeleteCluster.html
    #   a cluster whose services were just deleted refuses DeleteCluster while they and their
    #   tasks drain: the next `ecs_refusals` calls (at most `ecs_seconds`);
    # https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_DeleteSecret.html
    #   a force-deleted secret is removed asynchronously: its name stays taken for the next
    #   `secret_refusals` CreateSecret calls (at most `secret_seconds`), and DescribeSecret
    #   answers with a DeletedDate meanwhile;
    # https://docs.aws.amazon.com/vpc/latest/privatelink/delete-interface-endpoint.html and
    # terraform-provider-aws's wait for a deleted VPC endpoint: a deleted interface endpoint is
    #   listed `deleting` while its network interfaces go, and they hold its security groups and
    #   subnets, here until listed `endpoint_polls` times, at most `endpoint_seconds`; meanwhile it
    #   holds its service's private DNS name in the VPC, and a new interface endpoint of that service
    #   with private DNS is refused ("private-dns-enabled cannot be set because there is already a
    #   conflicting DNS domain", hashicorp/terraform-provider-aws#17535), here `private_dns_refusals` times.
    # https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_DeleteTargetGroup.html
    # and terraform-provider-aws's retry of it: a target group stays "in use by a listener or a
    #   rule" for a while after its load balancer was deleted, here for the next
    #   `target_group_refusals` DeleteTargetGroup calls (at most `target_group_seconds`).
    # https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_DeleteLoadBalancer.html
    #   and terraform-provider-aws's wait for them ("the cleanup is asynchronous and may take time"):
    #   a deleted load balancer's network interfaces ("ELB app/<name>/<id>", one per subnet) stay
    #   listed and hold its security groups and subnets, here until listed `elb_eni_polls` times,
    #   at most `elb_eni_seconds`;
    # https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-task-networking.html (each
    #   task's network interface is deleted after the task stops) and terraform-provider-aws's retry of
    #   DeleteSubnet on DependencyViolation: a deleted service's task interfaces hold its subnets and
    #   security groups for `task_eni_seconds`.
    # https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DeleteDBCluster.html (the
    #   cluster is `deleting` until gone) and API_DeleteDBSubnetGroup.html (InvalidDBSubnetGroupStateFault
    #   while a cluster uses the group); terraform-provider-aws waits up to 120 minutes for it: a
    #   deleted Aurora cluster stays listed `deleting` and holds its DB subnet group, here until
    #   described `rds_cluster_polls` times by identifier, at most `rds_cluster_seconds`.
    # https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeleteService.html
    #   a deleted service is DRAINING while its tasks stop, then INACTIVE (moto: INACTIVE at
    #   once), here for `service_seconds` (0: off, since every teardown's wait for INACTIVE would
    #   then sleep one poll); meanwhile UpdateService is refused with ServiceNotActiveException
    #   and CreateService of its name with "Unable to Start a service that is still Draining."
    #   (InvalidParameterException).
    # terraform-provider-aws's detachInternetGateway and resourceVPCDelete, which retry
    # DependencyViolation for the whole delete timeout: a NAT gateway's public address stays
    #   mapped for a while after the gateway is deleted, and DetachInternetGateway is refused
    #   ("Network vpc-... has some mapped public address(es)") for the next `public_address_refusals`
    #   calls (at most `public_address_seconds`); a VPC whose last subnets were just deleted
    #   refuses DeleteVpc ("has dependencies and cannot be deleted") for the next `vpc_refusals`
    #   calls (at most `vpc_seconds`).
    "dependent_drain": {
        "enabled": True, "service_seconds": 0,
        "eni_polls": 2, "eni_seconds": 600, "ecs_refusals": 2, "ecs_seconds": 300, "secret_refusals": 2, "secret_seconds": 600,
        "endpoint_polls": 2, "endpoint_seconds": 600, "private_dns_refusals": 1, "target_group_refusals": 2, "target_group_seconds": 120,
        "elb_eni_polls": 2, "elb_eni_seconds": 300, "task_eni_seconds": 20, "rds_cluster_polls": 2, "rds_cluster_seconds": 600,
        "public_address_refusals": 1, "public_address_seconds": 300, "vpc_refusals": 1, "vpc_seconds": 120,
    },
    # https://docs.aws.amazon.com/vpc/latest/privatelink/gateway-endpoints.html ("You can't have
    # multiple gateway endpoints to the same service in a single route table" - the route to the
    # service's prefix list exists already): CreateVpcEndpoint or ModifyVpcEndpoint giving a route
    # table a second gateway endpoint of one service is refused with RouteAlreadyExists. moto
    # accepts it.
    "gateway_endpoint_routes": {"enabled": True},
    # https://docs.aws.amazon.com/vpc/latest/privatelink/privatelink-access-aws-services.html (private
    # DNS: the endpoint's private hosted zone answers for the service's own name in the VPC, one per
    # name): CreateVpcEndpoint with private DNS (AWS's default) for a service that an interface
    # endpoint with private DNS serves in the VPC already is refused (InvalidParameter "conflicting
    # DNS domain", as for one still deleting). moto accepts it.
    "private_dns_names": {"enabled": True},
    # https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_VpcEndpoint.html (State failed,
    # LastError) and terraform-provider-aws's wait for an available endpoint, which ends on
    # `failed` and reports its LastError: an endpoint can fail after CreateVpcEndpoint answered.
    # Here the endpoints created of the listed `services` (short names: "secretsmanager") are
    # described `failed` (an interface endpoint once its `pending` time of slow_states is over, a
    # gateway endpoint in CreateVpcEndpoint's answer already),
    # and left out of a listing whose state filter does not ask for failed ones (moto filters on
    # its own state, available, so a listing asking for failed ones only shows none). None are
    # listed at start.
    "endpoint_failures": {"enabled": True, "services": [], "code": "EmulatedFailure", "message": "the endpoint failed (emulated)"},
    # https://docs.aws.amazon.com/vpc/latest/userguide/nat-gateway-troubleshooting.html: a NAT
    # gateway can fail after CreateNatGateway answered (state failed, FailureCode and
    # FailureMessage; AWS deletes it after a while). Here the next `count` NAT gateways created
    # are described `failed` with `code` and `message`, and left out of a listing whose state
    # filter does not ask for failed ones (moto keeps them available). None at start.
    "nat_failures": {"enabled": True, "count": 0, "code": "InsufficientFreeAddressesInSubnet",
                     "message": "Subnet has insufficient free addresses to create this NAT gateway"},
    # https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/accessing-monitoring.html#Overview.DBInstance.Status:
    # a DB instance can end its creation in a status that does not end by itself (failed,
    # incompatible-network when its subnet has no free address, incompatible-parameters ...).
    # Here the next `count` DB instances created are described with `status` once their
    # `creating` time (slow_states' rds_seconds) is over (moto: available). None at start.
    "db_instance_failures": {"enabled": True, "count": 0, "status": "incompatible-network"},
    # https://docs.aws.amazon.com/ram/latest/userguide/working-with-az-ids.html and
    # https://docs.aws.amazon.com/AmazonECS/latest/developerguide/AWS_Fargate-Regions.html: an
    # account lists the zones it was given, an older one some that a new one (and moto) does not,
    # among them zones where Fargate runs no task (ap-northeast-1's apne1-az3, us-west-1's usw1-az2).
    # DescribeAvailabilityZones in a region of `zones` ({region: {zone name: zone id}}) lists those too.
    "older_account_zones": {"enabled": True, "zones": {"ap-northeast-1": {"ap-northeast-1b": "apne1-az3"}, "us-west-1": {"us-west-1c": "usw1-az2"}}},
    # https://docs.aws.amazon.com/lambda/latest/dg/invocation-retries.html and botocore's
    # 60 s default read timeout: a synchronous Invoke answers only after `seconds` (0: off).
    # https://docs.aws.amazon.com/vpc/latest/userguide/nat-gateway-troubleshooting.html: a NAT
    # gateway drops a TCP flow idle for 350 s, telling neither end, and answers a later packet of
    # it with a reset. A held answer stands for an invocation longer than that (`idle_drop`): it
    # is lost unless the client's end of the connection sends a TCP keepalive probe within
    # `idle_seconds` of quiet (judged from the kernel's socket table; exact for a connection
    # opened for the call; where the table cannot tell, as off Linux, the answer is sent). A
    # client without probes waits until its own read timeout; one whose probe comes later has its
    # connection reset then (if it has not given up before).
    "long_invocation": {"enabled": True, "seconds": 0, "idle_drop": True, "idle_seconds": 350},
    # https://docs.aws.amazon.com/lambda/latest/dg/functions-states.html and API_Invoke.html
    # (ResourceNotReadyException): a VPC function idle for weeks is Inactive (Lambda reclaimed
    # its network interfaces). An Invoke fails and wakes it: Pending (Restoring) for
    # `waking_seconds`, then Active. `functions`: the names of the idle ones (none at start).
    "idle_functions": {"enabled": True, "functions": [], "waking_seconds": 3},
    # https://docs.aws.amazon.com/lambda/latest/dg/functions-states.html ("When function creation
    # fails, Lambda sets the function state to Failed"; it stays so until deleted): the next
    # `count` functions created (none unless a test sets it) are described Failed with
    # StateReasonCode `code` once their Pending time is over.
    "function_failures": {"enabled": True, "count": 0, "code": "SubnetOutOfIPAddresses",
                          "reason": "The subnet has no free IP addresses for the function's network interface (emulated)"},
    # https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-idempotency.html: an EC2 create
    # repeated with the same client token and parameters answers as the first did and makes
    # nothing (moto makes another); with other parameters it is refused with
    # IdempotentParameterMismatch. Tokens are kept until the emulator's reset.
    "client_tokens": {"enabled": True},
    # https://docs.aws.amazon.com/vpc/latest/userguide/nat-gateway-basics.html (a NAT gateway's
    # network interface) and the InterfaceType values of DescribeNetworkInterfaces: a NAT
    # gateway's interface is described with InterfaceType nat_gateway and the description
    # "Interface for NAT Gateway <id>" (moto: "interface", no description).
    "nat_interfaces": {"enabled": True},
    # https://docs.aws.amazon.com/general/latest/gr/api-retries.html and botocore's retry rules
    # (5xx, read timeouts, connection errors): a write AWS carried out may still reach the client
    # as an error (a 500, a timeout), and the SDK sends it again. Here the next `count` calls
    # named in `actions` ("<service>:<Action>", none at start) that succeed are answered 500
    # InternalServerError after they took effect.
    "lost_answers": {"enabled": True, "actions": [], "count": 0},
    # https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_TaskDefinition.html: since
    # January 2025 ECS reports enableFaultInjection (false unless registered true) on every task
    # definition it describes or registers; moto leaves the field out.
    "task_definition_defaults": {"enabled": True},
    # https://repost.aws/knowledge-center/interface-endpoint-availability-zone: not every service
    # offers its interface endpoint in every AZ (CreateVpcEndpoint refuses a subnet elsewhere);
    # DescribeVpcEndpointServices lists the zones. `zones` {full service name: [AZ names]} (none
    # at start) narrows the zones listed for those services (moto lists every zone of the region).
    "endpoint_service_zones": {"enabled": True, "zones": {}},
    # https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_DeleteLogGroup.html
    # and API_PutRetentionPolicy.html (OperationAbortedException: "Multiple concurrent requests
    # to update the same resource were in conflict"; terraform-provider-aws retries DeleteLogGroup
    # on it): a log group's first PutRetentionPolicy less than `retention_seconds` after its
    # CreateLogGroup, and its first DeleteLogGroup (the service writing to it still delivering
    # its last events), are refused once each.
    "log_group_conflicts": {"enabled": True, "retention_seconds": 5},
    # https://docs.aws.amazon.com/elasticloadbalancing/latest/application/application-load-balancers.html#deletion-protection
    # ("you can't delete the load balancer if deletion protection is enabled"): DeleteLoadBalancer
    # of a load balancer whose deletion_protection.enabled was set true is refused with
    # OperationNotPermitted (moto deletes it).
    "load_balancer_protection": {"enabled": True},
}

# EC2 creates: action -> (response tag holding the new id); the id's prefix names its kind.
EC2_CREATES = {
    "CreateVpc": "vpcId",
    "CreateSubnet": "subnetId",
    "CreateSecurityGroup": "groupId",
    "CreateRouteTable": "routeTableId",
    "CreateInternetGateway": "internetGatewayId",
    "CreateNatGateway": "natGatewayId",
    "AllocateAddress": "allocationId",
    "CreateVpcEndpoint": "vpcEndpointId",
}
# https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html
EC2_NOT_FOUND = {
    "vpc-": "InvalidVpcID.NotFound",
    "subnet-": "InvalidSubnetID.NotFound",
    "sg-": "InvalidGroup.NotFound",
    "rtb-": "InvalidRouteTableID.NotFound",
    "igw-": "InvalidInternetGatewayID.NotFound",
    "nat-": "NatGatewayNotFound",
    "eipalloc-": "InvalidAllocationID.NotFound",
    "vpce-": "InvalidVpcEndpointId.NotFound",
}
# The id element of the items each listing Describe answers with (its items name other ids too).
EC2_LISTED_IDS = {
    "DescribeVpcs": "vpcId",
    "DescribeSubnets": "subnetId",
    "DescribeSecurityGroups": "groupId",
    "DescribeRouteTables": "routeTableId",
    "DescribeInternetGateways": "internetGatewayId",
    "DescribeNatGateways": "natGatewayId",
    "DescribeAddresses": "allocationId",
    "DescribeVpcEndpoints": "vpcEndpointId",
}
# EC2 calls that change a resource named by its id (not those creating one inside a parent).
# CreateTags is left out: moto files an elastic IP's tags under another resource type than AWS,
# so amazon.aws.ec2_eip tags again what AllocateAddress tagged, a call AWS never gets.
EC2_MODIFIES = (
    "ModifyVpcAttribute", "ModifySubnetAttribute", "AttachInternetGateway",
    "AuthorizeSecurityGroupIngress", "AuthorizeSecurityGroupEgress", "RevokeSecurityGroupIngress", "RevokeSecurityGroupEgress",
    "CreateRoute", "ReplaceRoute", "AssociateRouteTable",
)
MODIFIED_ID_PARAM = re.compile(r"^(VpcId|SubnetId|GroupId|RouteTableId|InternetGatewayId)$")
ID_PARAM = re.compile(r"^(VpcId|SubnetId|GroupId|RouteTableId|InternetGatewayId|NatGatewayId|AllocationId|VpcEndpointId)(\.\d+)?$")
IAM_ROLE_CHANGES = ("CreateRole", "UpdateAssumeRolePolicy", "AttachRolePolicy", "DetachRolePolicy", "PutRolePolicy", "DeleteRolePolicy")
LAMBDA_FUNCTIONS = re.compile(r"^/2015-03-31/functions/?$")
LAMBDA_FUNCTION = re.compile(r"^/2015-03-31/functions/([^/]+)$")
LAMBDA_INVOKE = re.compile(r"^/2015-03-31/functions/([^/]+)/invocations$")
LAMBDA_CONFIGURATION = re.compile(r"^/2015-03-31/functions/([^/]+)/configuration$")
LAMBDA_CODE = re.compile(r"^/2015-03-31/functions/([^/]+)/code$")
BALANCER = re.compile(r":(?:loadbalancer|listener|listener-rule)/(app/[^/]+/[^/]+)")
LAMBDA_VPC_POLICY = "AWSLambdaVPCAccessExecutionRole"
LISTENER_CHANGES = ("CreateListener", "ModifyListener", "CreateRule", "ModifyRule")
DYNAMODB_ITEM_ACTIONS = ("GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan")
HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "content-length", "server", "date"}


def _credential_scope(headers):
    """The Authorization header's credential scope: [key id, date, region, service, "aws4_request"]."""
    auth = headers.get("Authorization") or ""
    scope = auth.split("Credential=", 1)[1].split(",", 1)[0].split("/") if "Credential=" in auth else []
    return scope if len(scope) >= 4 else [None] * 4


def _service(headers):
    """The signing name in the credential scope (ec2, iam, ecs ...)."""
    return _credential_scope(headers)[3]


def _region(headers):
    """The region in the credential scope."""
    return _credential_scope(headers)[2]


class Call:
    """One request as the proxy sees it: service, protocol, action and parameters."""

    def __init__(self, method, path, headers, body):
        self.method, self.headers, self.body = method, headers, body
        parsed = urllib.parse.urlparse(path)
        self.path = parsed.path
        self.service = _service(headers)
        self.region = _region(headers)
        target = headers.get("X-Amz-Target")
        self.params = {}
        if target:
            self.protocol = "json"
            self.action = target.rsplit(".", 1)[-1]
            self.params = _json(body)
        elif self.service == "lambda":
            self.protocol = "rest-json"
            self.action = f"{method} {self.path}"
            self.params = _json(body)
        else:
            self.protocol = "ec2" if self.service == "ec2" else "query"
            form = dict(urllib.parse.parse_qsl(parsed.query))
            if "x-www-form-urlencoded" in (headers.get("Content-Type") or ""):
                form.update(urllib.parse.parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
            self.action = form.pop("Action", None) or f"{method} {self.path}"
            self.params = form


def _members(params, name):
    """The values of an EC2 query list parameter: Name.1, Name.2 ..."""
    return [value for key, value in sorted(params.items()) if re.match(rf"^{name}\.\d+$", key)]


def _filters(params):
    """{filter name: [values]} of an EC2 query's Filter.N.Name / Filter.N.Value.M parameters."""
    names = dict((key.split(".")[1], value) for key, value in params.items() if re.match(r"^Filter\.\d+\.Name$", key))
    return dict((name, _members(params, f"Filter.{n}.Value")) for n, name in names.items())


def _service_key(params, name_param="service"):
    """(cluster name, service name) an ECS request names (either may be an ARN)."""
    return ((params.get("cluster") or "default").rsplit("/", 1)[-1], (params.get(name_param) or "").rsplit("/", 1)[-1])


def _described_service_key(service):
    """(cluster name, service name) of a service as ECS describes it."""
    return (service.get("clusterArn", "").rsplit("/", 1)[-1], service.get("serviceName"))


def _function_name(match):
    """The function a Lambda path names, without its qualifier (`name:alias`)."""
    return urllib.parse.unquote(match.group(1)).split(":")[0]


def _function_update(call):
    """The path match of an UpdateFunctionCode or UpdateFunctionConfiguration call, or None."""
    return call.method == "PUT" and (LAMBDA_CODE.match(call.path) or LAMBDA_CONFIGURATION.match(call.path)) or None


def _json(body):
    try:
        return json.loads(body) if body else {}
    except ValueError:
        return {}


class Answer:
    """A response: status, headers and body (bytes)."""

    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body


def _private_dns(params):
    """Whether CreateVpcEndpoint's or ModifyVpcEndpoint's parameters ask for private DNS (AWS's
    default for an AWS service's interface endpoint)."""
    return str(params.get("PrivateDnsEnabled", "true")).lower() == "true"


def _private_dns_conflict(call, vpc, service):
    domain = service.split(".", 3)[-1] + "." + service.split(".")[2] + ".amazonaws.com"
    return error(call, "InvalidParameter", f"private-dns-enabled cannot be set because there is already a conflicting DNS domain for {domain} in the VPC {vpc}")


def error(call, code, message, status=400):
    """An error in the format of the call's protocol, as botocore parses it."""
    request_id = str(uuid.uuid4())
    if call.protocol == "ec2":
        body = (
            "<?xml version='1.0' encoding='UTF-8'?><Response><Errors><Error>"
            f"<Code>{code}</Code><Message>{_xml(message)}</Message></Error></Errors><RequestID>{request_id}</RequestID></Response>"
        )
        return Answer(status, {"Content-Type": "text/xml"}, body.encode())
    if call.protocol == "query":
        body = (
            f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{_xml(message)}</Message></Error>"
            f"<RequestId>{request_id}</RequestId></ErrorResponse>"
        )
        return Answer(status, {"Content-Type": "text/xml", "x-amzn-RequestId": request_id}, body.encode())
    if call.protocol == "rest-json":
        body = json.dumps({"Type": "User", "message": message})
        return Answer(status, {"Content-Type": "application/json", "x-amzn-ErrorType": code, "x-amzn-RequestId": request_id}, body.encode())
    body = json.dumps({"__type": code, "message": message})
    return Answer(status, {"Content-Type": "application/x-amz-json-1.1", "x-amzn-RequestId": request_id}, body.encode())


def _xml(text):
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# Each protocol's throttling error (code, HTTP status).
THROTTLE = {
    "ec2": ("RequestLimitExceeded", 503),
    "query": ("Throttling", 400),
    "json": ("ThrottlingException", 400),
    "rest-json": ("TooManyRequestsException", 429),
}


class Realism:
    """What the proxy tracks between calls, and the behaviours that use it."""

    def __init__(self, behaviours):
        self.lock = threading.Lock()
        self.config = json.loads(json.dumps(DEFAULTS))
        self.switch(behaviours)
        self.initial = json.loads(json.dumps(self.config))
        self.reset()

    def switch(self, behaviours):
        names = set(DEFAULTS) if behaviours in (None, "all") else set() if behaviours == "none" else set(behaviours.split(","))
        unknown = names - set(DEFAULTS)
        if unknown:
            raise ValueError(f"unknown behaviours {sorted(unknown)}; known: {sorted(DEFAULTS)}")
        for name in DEFAULTS:
            self.config[name]["enabled"] = name in names

    def reset(self):
        """Forget what was tracked, and put back the switches and figures of the start."""
        with self.lock:
            self.config = json.loads(json.dumps(self.initial))
            self.calls = 0
            self.events = []
            self.created = {}  # EC2 id -> time created
            self.role_changed = {}  # role name -> [time, refusals so far]
            self.role_detached = {}  # role name -> [time a policy was detached or deleted, DeleteRole refusals so far]
            self.log_groups_created = {}  # log group name -> time created
            self.balancers_protected = set()  # load balancer ARNs with deletion protection on
            self.log_group_refused = set()  # (action, log group name) refused once already
            self.nat_created, self.rds_created, self.ecs_deployed = {}, {}, {}
            self.rds_clusters = set()  # Aurora cluster ids created (rds_created also holds instances)
            self.rds_versions = {}  # Aurora cluster id -> engine version last described (not upgrading)
            self.rds_upgrading = {}  # Aurora cluster id -> (time, former version, new version)
            self.rds_members = {}  # DB instance id -> its Aurora cluster id
            self.rds_stopped = set()  # Aurora cluster ids stopped (StopDBCluster) and not started since
            self.rds_starting = {}  # Aurora cluster id -> time StartDBCluster was answered
            self.tables_created = {}  # DynamoDB table name -> time created
            self.cluster_refusals = {}  # cluster -> DeleteCluster refused since its services were deleted
            self.task_images = {}  # task definition ARN and family:revision -> images
            self.breaker_trips = {}  # (cluster, service) -> (time, failed task definition)
            self.function_vpc = {}  # function name -> (VpcConfig, execution role name) at create
            self.functions_waking = {}  # function name -> time an Invoke woke it from Inactive
            self.functions_failed = set()  # function names described Failed (function_failures)
            self.fault_injection = {}  # task definition ARN -> enableFaultInjection as registered
            self.functions_created, self.functions_updated = {}, {}  # function name -> time of its create, of its last update
            # Lingering ENIs: dict(id, subnet, groups, description, interface_type, role, since, figures, polls, stranded, gone).
            self.enis = []
            self.balancer_placement = {}  # load balancer name -> dict(subnets, groups)
            self.service_network = {}  # (cluster, service) -> dict(subnets, groups) of its tasks
            self.service_counts = {}  # (cluster, service) -> desired count
            self.targets_starting = {}  # target group ARN -> time its service was scaled up from 0
            self.services_deleted = {}  # cluster -> time
            self.services_draining = {}  # (cluster, service) -> time deleted
            self.secrets_deleted = {}  # name and ARN -> (time, name, arn)
            self.secrets_created = {}  # name and ARN -> time
            self.endpoint_services = {}  # gateway VPC endpoint id -> service name
            self.endpoint_routes = {}  # (route table, service) -> gateway VPC endpoint id
            self.interface_endpoints = {}  # interface VPC endpoint id -> dict(vpc, service, subnets, groups)
            self.endpoints_deleting = []  # dict(id, vpc, service, subnets, groups, until, polls)
            self.endpoints_failed = set()  # VPC endpoint ids described `failed`
            self.nats_failed = set()  # NAT gateway ids described `failed`
            self.db_instances_failed = set()  # DB instance ids described in db_instance_failures' status
            self.db_failures_made = 0  # how many of the `count` were made (a deleted one is not made again)
            self.rds_deleting = {}  # Aurora cluster id -> dict(element (XML, status deleting), subnet_group, until, polls)
            self.service_linked_role_refusals = 0  # CreateCluster refused so far
            self.clusters_created = {}  # ECS cluster name -> time created
            self.services_created = {}  # (cluster, service) -> time CreateService answered
            self.groups_created = {}  # target group name and ARN -> time CreateTargetGroup answered
            self.listener_groups = {}  # target group ARN -> time a listener or rule took it up
            self.balancer_groups = {}  # "app/<name>/<id>" -> target group ARNs its listeners and rules took up
            self.groups_freed = {}  # target group ARN -> [time its balancer or listener went, refusals so far]
            self.nat_deleted = None  # time of the last DeleteNatGateway (its public address still mapped)
            self.subnet_deleted = None  # time of the last DeleteSubnet
            self.detach_refusals = {}  # internet gateway id -> DetachInternetGateway refused so far
            self.vpc_delete_refusals = {}  # VPC id -> DeleteVpc refused so far
            self.client_tokens = {}  # (region, action, ClientToken) -> (the other parameters, the answer given)
            self.nat_interfaces = {}  # network interface id -> the NAT gateway id it belongs to

    def on(self, name):
        return self.config[name]["enabled"]

    def figure(self, name, key):
        return self.config[name][key]

    def event(self, behaviour, call, detail):
        self.events.append({"behaviour": behaviour, "service": call.service, "action": call.action, "detail": detail, "at": time.time()})

    def recent(self, when, seconds):
        return when is not None and time.time() - when < seconds

    # ------------------------------------------------------------ before forwarding

    def before(self, call):
        """An Answer to give instead of forwarding, or None. May rewrite the call's body."""
        with self.lock:
            # Calls are counted while throttling is on: every n-th of them is refused.
            self.calls += self.on("throttling")
            if self.on("throttling") and self.calls % max(1, self.figure("throttling", "every")) == 0:
                code, status = THROTTLE[call.protocol]
                self.event("throttling", call, code)
                return error(call, code, "Rate exceeded", status)
            checks = (
                self._token_used,
                self._not_yet_consistent,
                self._nat_not_ready,
                self._iam_not_propagated,
                self._role_policies_still_seen,
                self._log_group_conflict,
                self._balancer_protected,
                self._dependents_draining,
                self._cluster_not_ready,
                self._stopped_cluster_delete,
                self._table_not_ready,
                self._breaker,
                self._endpoint_route_taken,
                self._private_dns_taken,
                self._service_not_active,
                self._service_deployments_active,
                self._ecs_not_ready,
                self._target_group_not_known_yet,
                self._secret_not_known_yet,
                self._function_idle,
                self._function_busy,
            )
            for check in checks:
                answer = check(call)
                if answer is not None:
                    return answer
        return None

    @staticmethod
    def _token_key(call):
        token = call.params.get("ClientToken") if call.service == "ec2" else None
        return (call.region, call.action, token) if token else None

    def _token_used(self, call):
        """An EC2 call repeating an earlier one's client token: that call's answer (the same
        parameters) or IdempotentParameterMismatch (others)."""
        key = self._token_key(call) if self.on("client_tokens") else None
        if key is None or key not in self.client_tokens:
            return None
        params, answer = self.client_tokens[key]
        if params != {k: v for k, v in call.params.items() if k != "ClientToken"}:
            self.event("client_tokens", call, f"token {key[2]} used with other parameters")
            return error(call, "IdempotentParameterMismatch", f"Client token {key[2]} was used for a request with other parameters")
        self.event("client_tokens", call, f"token {key[2]} repeated: the first answer")
        return answer

    def _remember_token(self, call, answer):
        key = self._token_key(call) if self.on("client_tokens") else None
        if key is not None:
            self.client_tokens[key] = ({k: v for k, v in call.params.items() if k != "ClientToken"}, answer)

    def _function_idle(self, call):
        """An Invoke of an idle (Inactive) function fails, and wakes it."""
        match = LAMBDA_INVOKE.match(call.path)
        if not (self.on("idle_functions") and call.service == "lambda" and match):
            return None
        name = _function_name(match)
        if name not in self.figure("idle_functions", "functions"):
            return None
        self.config["idle_functions"]["functions"].remove(name)
        self.functions_waking[name] = time.time()
        message = "The function is inactive and its VPC connection is no longer available. Wait for the VPC connection to reestablish and try again."
        self.event("idle_functions", call, f"ResourceNotReadyException {name} inactive, waking")
        return error(call, "ResourceNotReadyException", message, 502)

    def _function_busy(self, call):
        """An Invoke of a function still Pending, or an update of a function Pending or being
        updated, is refused (ResourceConflictException); an Invoke during an update runs."""
        if not (self.on("slow_states") and call.service == "lambda"):
            return None
        invoke, update = LAMBDA_INVOKE.match(call.path), _function_update(call)
        if not (invoke or update):
            return None
        name = _function_name(invoke or update)
        seconds = self.figure("slow_states", "lambda_seconds")
        if self.recent(self.functions_created.get(name), seconds):
            why, message = "Pending", "The function is currently in the following state: Pending"
        elif update and self.recent(self.functions_updated.get(name), seconds):
            why, message = "update in progress", f"An update is in progress for resource: {name}"
        else:
            return None
        self.event("slow_states", call, f"ResourceConflictException {name} {why}")
        return error(call, "ResourceConflictException", f"The operation cannot be performed at this time. {message}", 409)

    def _function_state(self, call, answer):
        """GetFunction(Configuration) of an idle function answers Inactive; of a waking one, Pending."""
        match = LAMBDA_FUNCTION.match(call.path) or LAMBDA_CONFIGURATION.match(call.path)
        if not (call.method == "GET" and match):
            return answer
        name, state, update = _function_name(match), None, None
        idle, slow = self.on("idle_functions"), self.on("slow_states")
        seconds = self.figure("slow_states", "lambda_seconds")
        if idle and name in self.figure("idle_functions", "functions"):
            state, behaviour = ("Inactive", "Idle", "The function is idle"), "idle_functions"
        elif idle and self.recent(self.functions_waking.get(name), self.figure("idle_functions", "waking_seconds")):
            state, behaviour = ("Pending", "Restoring", "The function is being restored"), "idle_functions"
        elif slow and self.recent(self.functions_created.get(name), seconds):
            state, behaviour = ("Pending", "Creating", "The function is being created."), "slow_states"
        elif name in self.functions_failed:
            failures = self.config["function_failures"]
            state, behaviour = ("Failed", failures["code"], failures["reason"]), "function_failures"
        elif slow and self.recent(self.functions_updated.get(name), seconds):
            update, behaviour = ("InProgress", "The function is being updated."), "slow_states"
        else:
            return answer
        result = _json(answer.body)
        configuration = result.get("Configuration", result)
        if state:
            configuration["State"], configuration["StateReasonCode"], configuration["StateReason"] = state
        if update:
            configuration["LastUpdateStatus"], configuration["LastUpdateStatusReason"] = update
        self.event(behaviour, call, f"{name} {(state or update)[0]}")
        return Answer(answer.status, answer.headers, json.dumps(result).encode())

    def _not_yet_consistent(self, call):
        if not (self.on("eventual_consistency") and call.service == "ec2"):
            return None
        if call.action.startswith("Describe"):
            names = ID_PARAM
        elif call.action in EC2_MODIFIES:
            names = MODIFIED_ID_PARAM
        else:
            return None
        for key, value in call.params.items():
            if names.match(key) and self.recent(self.created.get(value), self.figure("eventual_consistency", "seconds")):
                code = next(c for p, c in EC2_NOT_FOUND.items() if value.startswith(p))
                self.event("eventual_consistency", call, f"{code} {value}")
                return error(call, code, f"The ID '{value}' does not exist")
        return None

    def _nat_not_ready(self, call):
        # A route to a NAT gateway that is still pending is refused as if the id did not exist
        # (boto/boto3 issue 779: CreateRoute right after CreateNatGateway).
        if not (self.on("slow_states") and call.service == "ec2" and call.action in ("CreateRoute", "ReplaceRoute")):
            return None
        nat = call.params.get("NatGatewayId")
        if nat and self.recent(self.nat_created.get(nat), self.figure("slow_states", "nat_seconds")):
            self.event("slow_states", call, f"InvalidNatGatewayID.NotFound {nat} (pending)")
            return error(call, "InvalidNatGatewayID.NotFound", f"The natGateway ID '{nat}' does not exist")
        return None

    def _role_policies_still_seen(self, call):
        if not (self.on("iam_propagation") and call.service == "iam" and call.action == "DeleteRole"):
            return None
        role = call.params.get("RoleName")
        detached = self.role_detached.get(role)
        if not detached or detached[1] >= self.figure("iam_propagation", "delete_conflicts"):
            return None
        if not self.recent(detached[0], self.figure("iam_propagation", "detach_seconds")):
            return None
        detached[1] += 1
        self.event("iam_propagation", call, f"DeleteConflict {role}")
        return error(call, "DeleteConflict", "Cannot delete entity, must detach all policies first.", status=409)

    def _log_group_conflict(self, call):
        if not (self.on("log_group_conflicts") and call.service == "logs" and call.action in ("PutRetentionPolicy", "DeleteLogGroup")):
            return None
        group = call.params.get("logGroupName")
        if (call.action, group) in self.log_group_refused:
            return None
        if call.action == "PutRetentionPolicy" and not self.recent(self.log_groups_created.get(group), self.figure("log_group_conflicts", "retention_seconds")):
            return None
        self.log_group_refused.add((call.action, group))
        self.event("log_group_conflicts", call, f"OperationAbortedException {call.action} {group}")
        return error(call, "OperationAbortedException", "A conflicting operation is currently in progress against this resource. Please try again.")

    def _balancer_protected(self, call):
        if not (self.on("load_balancer_protection") and call.service == "elasticloadbalancing" and call.action == "DeleteLoadBalancer"):
            return None
        arn = call.params.get("LoadBalancerArn")
        if arn not in self.balancers_protected:
            return None
        self.event("load_balancer_protection", call, f"OperationNotPermitted {arn}")
        return error(call, "OperationNotPermitted", f"Load balancer '{arn}' cannot be deleted because deletion protection is enabled")

    def _iam_not_propagated(self, call):
        if not (self.on("iam_propagation") and call.service == "lambda" and call.method == "POST" and LAMBDA_FUNCTIONS.match(call.path)):
            return None
        role = (call.params.get("Role") or "").rsplit("/", 1)[-1]
        changed = self.role_changed.get(role)
        if not changed or not self.recent(changed[0], self.figure("iam_propagation", "seconds")):
            return None
        in_vpc = bool((call.params.get("VpcConfig") or {}).get("SubnetIds"))
        messages = ["The role defined for the function cannot be assumed by Lambda."]
        if in_vpc:
            messages.append("The provided execution role does not have permissions to call CreateNetworkInterface on EC2")
        if changed[1] >= len(messages):
            return None
        message = messages[changed[1]]
        changed[1] += 1
        self.event("iam_propagation", call, message)
        return error(call, "InvalidParameterValueException", message)

    def _dependents_draining(self, call):
        if not self.on("dependent_drain"):
            return None
        now = time.time()
        if call.service == "ec2" and call.action in ("DeleteSecurityGroup", "DeleteSubnet"):
            target = call.params.get("GroupId") or call.params.get("SubnetId")
            for eni in self.enis:
                if self._eni_alive(eni, now) and target in (eni["groups"] + [eni["subnet"]]):
                    self.event("dependent_drain", call, f"DependencyViolation {target} ({eni['description']} {eni['id']})")
                    return error(call, "DependencyViolation", f"resource {target} has a dependent object")
            for endpoint in self.endpoints_deleting:
                if self._endpoint_deleting(endpoint, now) and target in (endpoint["groups"] + endpoint["subnets"]):
                    self.event("dependent_drain", call, f"DependencyViolation {target} (endpoint {endpoint['id']} deleting)")
                    return error(call, "DependencyViolation", f"resource {target} has a dependent object")
        if call.service == "ec2" and call.action in ("DetachInternetGateway", "DeleteVpc"):
            return self._vpc_still_held(call)
        if call.service == "elasticloadbalancing" and call.action == "DeleteTargetGroup":
            group = call.params.get("TargetGroupArn")
            freed = self.groups_freed.get(group)
            if (
                freed
                and freed[1] < self.figure("dependent_drain", "target_group_refusals")
                and self.recent(freed[0], self.figure("dependent_drain", "target_group_seconds"))
            ):
                freed[1] += 1
                self.event("dependent_drain", call, f"ResourceInUse {group}")
                return error(call, "ResourceInUse", f"The target group '{group}' is currently in use by a listener or a rule")
        if call.service == "ecs" and call.action == "DeleteCluster":
            cluster = (call.params.get("cluster") or "").rsplit("/", 1)[-1]
            refused = self.cluster_refusals.get(cluster, 0)
            # Counted, not timed: on AWS the tasks take from seconds to the deregistration delay
            # to stop, so the first attempts are refused whatever the machine's speed.
            if self.recent(self.services_deleted.get(cluster), self.figure("dependent_drain", "ecs_seconds")) and refused < self.figure(
                "dependent_drain", "ecs_refusals"
            ):
                # Services first (DRAINING), then their tasks (stopping).
                code = "ClusterContainsTasksException" if refused else "ClusterContainsServicesException"
                self.cluster_refusals[cluster] = refused + 1
                self.event("dependent_drain", call, f"{code} {cluster}")
                message = (
                    "The Cluster cannot be deleted while Tasks are active."
                    if code.endswith("TasksException")
                    else "The Cluster cannot be deleted while Services are active."
                )
                return error(call, code, message)
        if call.service == "rds" and call.action in ("DescribeDBClusters", "DeleteDBSubnetGroup"):
            return self._rds_cluster_deleting(call, now)
        if call.service == "secretsmanager" and call.action in ("CreateSecret", "DescribeSecret", "RestoreSecret"):
            key = call.params.get("Name") or call.params.get("SecretId")
            deleted = self.secrets_deleted.get(key)
            if (
                deleted
                and deleted[3][0] < self.figure("dependent_drain", "secret_refusals")
                and self.recent(deleted[0], self.figure("dependent_drain", "secret_seconds"))
            ):
                if call.action == "CreateSecret":
                    # AWS words it both ways while the deletion runs (terraform-provider-aws
                    # retries both): "was deleted" first here, then "scheduled for deletion".
                    deleted[3][0] += 1
                    if deleted[3][0] == 1:
                        self.event("dependent_drain", call, f"InvalidRequestException {key} was deleted")
                        return error(call, "InvalidRequestException", "You can't perform this operation on the secret because it was deleted.")
                    self.event("dependent_drain", call, f"InvalidRequestException {key} scheduled for deletion")
                    return error(
                        call, "InvalidRequestException", "You can't create this secret because a secret with this name is already scheduled for deletion."
                    )
                if call.action == "RestoreSecret":
                    self.event("dependent_drain", call, f"InvalidRequestException {key} deleted without recovery")
                    return error(call, "InvalidRequestException", "You can't restore this secret because it was deleted without a recovery window.")
                self.event("dependent_drain", call, f"DescribeSecret {key} with DeletedDate")
                body = json.dumps({"ARN": deleted[2], "Name": deleted[1], "DeletedDate": deleted[0], "Tags": []})
                return Answer(200, {"Content-Type": "application/x-amz-json-1.1"}, body.encode())
        return None

    def _vpc_still_held(self, call):
        """DetachInternetGateway right after a NAT gateway's deletion, or DeleteVpc right after
        its subnets', refused with DependencyViolation a counted number of times."""
        vpc = call.params.get("VpcId")
        if call.action == "DetachInternetGateway":
            key, since, refused = call.params.get("InternetGatewayId"), self.nat_deleted, self.detach_refusals
            figures = "public_address"
            message = f"Network {vpc} has some mapped public address(es). Please unmap those public address(es) before detaching the gateway."
            detail = f"DependencyViolation {key} (public addresses mapped in {vpc})"
        else:
            key, since, refused = vpc, self.subnet_deleted, self.vpc_delete_refusals
            figures, message = "vpc", f"The vpc '{vpc}' has dependencies and cannot be deleted."
            detail = f"DependencyViolation {vpc} (has dependencies)"
        if not self.recent(since, self.figure("dependent_drain", f"{figures}_seconds")):
            return None
        if refused.get(key, 0) >= self.figure("dependent_drain", f"{figures}_refusals"):
            return None
        refused[key] = refused.get(key, 0) + 1
        self.event("dependent_drain", call, detail)
        return error(call, "DependencyViolation", message)

    def _rds_cluster_deleting(self, call, now):
        """A cluster moto deleted at once is still `deleting` when described by identifier (the
        answer DeleteDBCluster gave, status deleting), and its DB subnet group cannot be deleted."""
        alive = {
            cluster: entry for cluster, entry in self.rds_deleting.items()
            if now < entry["until"] and entry["polls"] < self.figure("dependent_drain", "rds_cluster_polls")
        }
        if call.action == "DeleteDBSubnetGroup":
            group = call.params.get("DBSubnetGroupName")
            holders = [cluster for cluster, entry in alive.items() if entry["subnet_group"] == group]
            if not holders:
                return None
            self.event("dependent_drain", call, f"InvalidDBSubnetGroupStateFault {group} (cluster {holders[0]} deleting)")
            return error(call, "InvalidDBSubnetGroupStateFault", f"DB subnet group {group} is in use by DB cluster {holders[0]}.")
        entry = alive.get(call.params.get("DBClusterIdentifier"))
        if entry is None:
            return None
        entry["polls"] += 1
        self.event("dependent_drain", call, f"DBCluster {call.params['DBClusterIdentifier']} deleting")
        body = (
            '<DescribeDBClustersResponse xmlns="http://rds.amazonaws.com/doc/2014-10-31/"><DescribeDBClustersResult><DBClusters>'
            f"{entry['element']}</DBClusters></DescribeDBClustersResult><ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId>"
            "</ResponseMetadata></DescribeDBClustersResponse>"
        )
        return Answer(200, {"Content-Type": "text/xml"}, body.encode())

    def _endpoint_route_taken(self, call):
        if not (self.on("gateway_endpoint_routes") and call.service == "ec2"):
            return None
        if call.action == "CreateVpcEndpoint" and call.params.get("VpcEndpointType") == "Gateway":
            service, tables = call.params.get("ServiceName"), _members(call.params, "RouteTableId")
        elif call.action == "ModifyVpcEndpoint":
            service, tables = self.endpoint_services.get(call.params.get("VpcEndpointId")), _members(call.params, "AddRouteTableId")
        else:
            return None
        for table in tables:
            holder = self.endpoint_routes.get((table, service))
            if holder and holder != call.params.get("VpcEndpointId"):
                self.event("gateway_endpoint_routes", call, f"RouteAlreadyExists {table} {service} ({holder})")
                return error(call, "RouteAlreadyExists", f"route table {table} already has a route to the prefix list of {service} (endpoint {holder})")
        return None

    def _private_dns_taken(self, call):
        if call.action != "CreateVpcEndpoint" or call.params.get("VpcEndpointType") != "Interface" or not _private_dns(call.params):
            return None
        wanted = (call.params.get("VpcId"), call.params.get("ServiceName"))
        if self.on("private_dns_names"):
            for endpoint_id, endpoint in self.interface_endpoints.items():
                if (endpoint["vpc"], endpoint["service"]) == wanted and endpoint.get("private_dns") and endpoint_id not in self.endpoints_failed:
                    self.event("private_dns_names", call, f"InvalidParameter private DNS of {endpoint['service']} (endpoint {endpoint_id})")
                    return _private_dns_conflict(call, *wanted)
        if not self.on("dependent_drain"):
            return None
        now, most = time.time(), self.figure("dependent_drain", "private_dns_refusals")
        for endpoint in self.endpoints_deleting:
            same = (endpoint["vpc"], endpoint["service"]) == wanted
            if same and self._endpoint_deleting(endpoint, now) and endpoint.setdefault("dns_refusals", 0) < most:
                endpoint["dns_refusals"] += 1
                self.event("dependent_drain", call, f"InvalidParameter private DNS of {endpoint['service']} (endpoint {endpoint['id']} deleting)")
                return _private_dns_conflict(call, *wanted)
        return None

    def _service_draining(self, key):
        return self.on("dependent_drain") and self.recent(self.services_draining.get(key), self.figure("dependent_drain", "service_seconds"))

    def _service_deployments_active(self, call):
        """DeleteService naming a service that still lists a tripped circuit breaker's FAILED deployment."""
        if not (self.on("circuit_breaker") and call.service == "ecs" and call.action == "DeleteService"):
            return None
        key = _service_key(call.params)
        trip = self.breaker_trips.get(key)
        if not (trip and self.recent(trip[0], self.figure("circuit_breaker", "seconds"))):
            return None
        self.event("circuit_breaker", call, f"InvalidParameterException {key[1]} deployments active")
        return error(call, "InvalidParameterException", "The service cannot be stopped while deployments are active.")

    def _service_not_active(self, call):
        """UpdateService or CreateService naming a service that is still DRAINING."""
        if call.service != "ecs" or call.action not in ("CreateService", "UpdateService"):
            return None
        key = _service_key(call.params, "serviceName" if call.action == "CreateService" else "service")
        if not self._service_draining(key):
            return None
        if call.action == "UpdateService":
            self.event("dependent_drain", call, f"ServiceNotActiveException {key[1]}")
            return error(call, "ServiceNotActiveException", "Service was not ACTIVE.")
        self.event("dependent_drain", call, f"InvalidParameterException {key[1]} still draining")
        return error(call, "InvalidParameterException", "Unable to Start a service that is still Draining.")

    def _target_group_not_known_yet(self, call):
        if not (self.on("eventual_consistency") and call.service == "elasticloadbalancing"):
            return None
        if call.action == "DescribeTargetGroups":
            named = _members(call.params, "Names.member") + _members(call.params, "TargetGroupArns.member")
        elif call.action == "ModifyTargetGroupAttributes":
            named = [call.params.get("TargetGroupArn")]
        else:
            return None
        seconds = self.figure("eventual_consistency", "target_group_seconds")
        late = [group for group in named if self.recent(self.groups_created.get(group), seconds)]
        if not late:
            return None
        self.event("eventual_consistency", call, f"TargetGroupNotFound {late[0]}")
        return error(call, "TargetGroupNotFound", f"One or more target groups not found: {late[0]}")

    def _secret_not_known_yet(self, call):
        if not (self.on("eventual_consistency") and call.service == "secretsmanager" and call.action in ("DescribeSecret", "GetSecretValue")):
            return None
        key = call.params.get("SecretId")
        if not self.recent(self.secrets_created.get(key), self.figure("eventual_consistency", "secret_seconds")):
            return None
        self.event("eventual_consistency", call, f"ResourceNotFoundException {call.action} {key}")
        return error(call, "ResourceNotFoundException", "Secrets Manager can't find the specified secret.")

    def _service_not_known_yet(self, key):
        return self.on("eventual_consistency") and self.recent(self.services_created.get(key), self.figure("eventual_consistency", "service_seconds"))

    def _ecs_not_ready(self, call):
        if call.service == "ecs" and call.action == "UpdateService":
            key = _service_key(call.params)
            if self._service_not_known_yet(key):
                self.event("eventual_consistency", call, f"ServiceNotFoundException {key[1]}")
                return error(call, "ServiceNotFoundException", "Service not found.")
        if call.service != "ecs" or call.action not in ("CreateCluster", "CreateService"):
            return None
        if call.action == "CreateCluster":
            if self.on("iam_propagation") and self.service_linked_role_refusals < self.figure("iam_propagation", "service_linked_role_refusals"):
                self.service_linked_role_refusals += 1
                message = "Unable to assume the service linked role. Please verify that the ECS service linked role exists."
                self.event("iam_propagation", call, message)
                return error(call, "InvalidParameterException", message)
            return None
        if not self.on("eventual_consistency"):
            return None
        cluster = (call.params.get("cluster") or "default").rsplit("/", 1)[-1]
        if self.recent(self.clusters_created.get(cluster), self.figure("eventual_consistency", "seconds")):
            self.event("eventual_consistency", call, f"ClusterNotFoundException {cluster}")
            return error(call, "ClusterNotFoundException", "Cluster not found.")
        for balancer in call.params.get("loadBalancers") or []:
            group = balancer.get("targetGroupArn")
            if self.recent(self.listener_groups.get(group), self.figure("eventual_consistency", "listener_seconds")):
                message = f"The target group with targetGroupArn {group} does not have an associated load balancer."
                self.event("eventual_consistency", call, f"InvalidParameterException {message}")
                return error(call, "InvalidParameterException", message)
        return None

    def _cluster_not_ready(self, call):
        # https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBInstance.html
        # (InvalidDBClusterStateFault): a member instance asked for while the cluster is
        # still being created is refused once; the cluster's own deletion, as long as it is.
        if not (self.on("slow_states") and call.service == "rds" and call.action in ("CreateDBInstance", "DeleteDBCluster", "ModifyDBCluster")):
            return None
        cluster = call.params.get("DBClusterIdentifier")
        created = self.rds_created.get(cluster)
        if call.action == "ModifyDBCluster":
            if self._cluster_upgrading(cluster):
                self.event("slow_states", call, f"InvalidDBClusterStateFault {cluster} upgrading")
                return error(call, "InvalidDBClusterStateFault", f"DB cluster {cluster} is not currently in the available state.")
            return None
        if call.action == "DeleteDBCluster":
            if created and cluster in self.rds_clusters and self.recent(created[0], self.figure("slow_states", "rds_seconds")):
                self.event("slow_states", call, f"InvalidDBClusterStateFault {cluster} creating")
                return error(call, "InvalidDBClusterStateFault", f"DB cluster {cluster} is not currently in the available state.")
            return None
        if created and not created[1] and self.recent(created[0], self.figure("slow_states", "rds_seconds")):
            created[1] = True
            self.event("slow_states", call, f"InvalidDBClusterStateFault {cluster}")
            return error(call, "InvalidDBClusterStateFault", f"DB cluster {cluster} is not in the available state.")
        return None

    def _stopped_cluster_delete(self, call):
        if not (self.on("slow_states") and call.service == "rds" and call.action in ("DeleteDBCluster", "DeleteDBInstance")):
            return None
        cluster = call.params.get("DBClusterIdentifier") or self.rds_members.get(call.params.get("DBInstanceIdentifier"))
        starting = self.recent(self.rds_starting.get(cluster), self.figure("slow_states", "rds_seconds"))
        if cluster not in self.rds_stopped and not starting:
            return None
        state = "starting" if starting else "stopped"
        self.event("slow_states", call, f"InvalidDBClusterStateFault {call.action} {cluster} {state}")
        return error(call, "InvalidDBClusterStateFault", f"DbCluster {cluster} is in {state} state but expected it to be one of available.")

    def _cluster_upgrading(self, cluster):
        upgrade = self.rds_upgrading.get(cluster)
        return upgrade is not None and self.recent(upgrade[0], self.figure("slow_states", "rds_seconds"))

    def _table_creating(self, name):
        return self.on("slow_states") and self.recent(self.tables_created.get(name), self.figure("slow_states", "dynamodb_seconds"))

    def _table_not_ready(self, call):
        # Items of a table still CREATING cannot be read or written (API_CreateTable.html).
        if not (call.service == "dynamodb" and call.action in DYNAMODB_ITEM_ACTIONS):
            return None
        table = call.params.get("TableName")
        if not self._table_creating(table):
            return None
        self.event("slow_states", call, f"ResourceNotFoundException {table} (CREATING)")
        return error(call, "ResourceNotFoundException", "Requested resource not found")

    def _breaker(self, call):
        if not (self.on("circuit_breaker") and call.service == "ecs" and call.action == "UpdateService"):
            return None
        task_definition = call.params.get("taskDefinition")
        images = self.task_images.get(task_definition) or self.task_images.get((task_definition or "").rsplit("/", 1)[-1]) or []
        if not any(marker in image for marker in self.figure("circuit_breaker", "images") for image in images):
            return None
        # The new tasks never start: ECS rolls back, so the service keeps its task definition.
        params = dict(call.params)
        params.pop("taskDefinition")
        call.body = json.dumps(params).encode()
        key = _service_key(params)
        self.breaker_trips[key] = (time.time(), task_definition)
        self.event("circuit_breaker", call, f"tripped on {task_definition}")
        return None

    # ------------------------------------------------------------ after forwarding

    def after(self, call, answer):
        """Record what later calls depend on and rewrite the answer where AWS would differ."""
        if answer.status >= 300:
            return answer
        with self.lock:
            now = time.time()
            lost = self.config["lost_answers"]
            if self.on("lost_answers") and lost["count"] > 0 and f"{call.service}:{call.action}" in lost["actions"]:
                lost["count"] -= 1
                self.event("lost_answers", call, f"{call.action} carried out, answered 500")
                return error(call, "InternalServerError", "Internal server error", status=500)
            if call.service == "ec2":
                answer = self._after_ec2(call, answer, now)
                self._remember_token(call, answer)
                return answer
            if call.service == "iam":
                if call.action in IAM_ROLE_CHANGES:
                    self.role_changed[call.params.get("RoleName")] = [now, 0]
                if call.action in ("DetachRolePolicy", "DeleteRolePolicy"):
                    self.role_detached[call.params.get("RoleName")] = [now, 0]
                if call.action == "DeleteRole" or (call.action == "DetachRolePolicy" and LAMBDA_VPC_POLICY in call.params.get("PolicyArn", "")):
                    self._strand_lambda_enis(call, call.params.get("RoleName"), now)
            elif call.service == "lambda":
                self._after_lambda(call, now)
                return self._function_state(call, answer)
            elif call.service == "rds":
                return self._after_rds(call, answer, now)
            elif call.service == "ecs":
                return self._after_ecs(call, answer, now)
            elif call.service == "elasticloadbalancing":
                if call.action == "DescribeTargetHealth" and self.on("slow_states"):
                    return self._rewrite_xml(call, answer, self._targets_starting)
                if call.action == "CreateTargetGroup":
                    arn = re.search(r"<TargetGroupArn>([^<]+)</", answer.body.decode())
                    if arn:
                        self.groups_created[arn.group(1)] = self.groups_created[call.params.get("Name")] = now
                self._after_elbv2(call, now)
            elif call.service == "logs" and call.action == "CreateLogGroup":
                self.log_groups_created[call.params.get("logGroupName")] = now
            elif call.service == "dynamodb":
                return self._after_dynamodb(call, answer, now)
            elif call.service == "secretsmanager" and call.action == "CreateSecret":
                result = _json(answer.body)
                self.secrets_created[result.get("Name")] = self.secrets_created[result.get("ARN")] = now
            elif call.service == "secretsmanager" and call.action == "DeleteSecret" and call.params.get("ForceDeleteWithoutRecovery"):
                result = _json(answer.body)
                entry = (now, result.get("Name"), result.get("ARN"), [0])  # [CreateSecret refusals so far]
                self.secrets_deleted[result.get("Name")] = self.secrets_deleted[result.get("ARN")] = entry
        return answer

    def _after_elbv2(self, call, now):
        # The balancer of a listener or rule: "app/<name>/<id>" in its own ARN or its balancer's.
        owner = next((BALANCER.search(call.params[key]) for key in ("LoadBalancerArn", "ListenerArn", "RuleArn") if call.params.get(key)), None)
        if call.action in LISTENER_CHANGES:
            for value in call.params.values():
                if ":targetgroup/" in value:
                    self.listener_groups[value] = now
                    if owner:
                        self.balancer_groups.setdefault(owner.group(1), set()).add(value)
        elif call.action == "DeleteLoadBalancer" and owner:
            for group in self.balancer_groups.pop(owner.group(1), set()):
                self.groups_freed[group] = [now, 0]
            placement = self.balancer_placement.pop(owner.group(1).split("/")[1], None) or {}
            for subnet in placement.get("subnets") or []:
                self._linger(subnet, placement.get("groups") or [], "ELB " + owner.group(1), "interface", "elb_eni", now)
        elif call.action == "ModifyLoadBalancerAttributes":
            keys = dict((k.rsplit(".", 1)[0], v) for k, v in call.params.items() if re.match(r"^Attributes\.member\.\d+\.Key$", k))
            for prefix, key in keys.items():
                if key == "deletion_protection.enabled":
                    enabled = call.params.get(f"{prefix}.Value") == "true"
                    (self.balancers_protected.add if enabled else self.balancers_protected.discard)(call.params.get("LoadBalancerArn"))
        elif call.action == "CreateLoadBalancer":
            self.balancer_placement[call.params.get("Name")] = {
                "subnets": _members(call.params, "Subnets.member"), "groups": _members(call.params, "SecurityGroups.member")}
        elif call.action in ("SetSubnets", "SetSecurityGroups") and owner:
            placement = self.balancer_placement.setdefault(owner.group(1).split("/")[1], {})
            key, member = ("subnets", "Subnets.member") if call.action == "SetSubnets" else ("groups", "SecurityGroups.member")
            placement[key] = _members(call.params, member)

    def _targets_starting(self, root, call, ns):
        """The targets of a group whose service was just scaled up are still `initial`."""
        group = call.params.get("TargetGroupArn")
        if not self.recent(self.targets_starting.get(group), self.figure("slow_states", "ecs_seconds") + self.figure("slow_states", "targets_seconds")):
            return
        healths = list(root.iter(f"{ns}TargetHealth"))
        for health in healths:
            for tag, text in (("State", "initial"), ("Reason", "Elb.RegistrationInProgress"), ("Description", "Target registration is in progress")):
                element = health.find(f"{ns}{tag}")
                if element is None:
                    element = ET.SubElement(health, f"{ns}{tag}")
                element.text = text
        if healths:
            self.event("slow_states", call, f"targets of {group.rsplit(':', 1)[-1]} initial")

    def _linger(self, subnet, groups, description, interface_type, figures, now, role=None):
        """A network interface AWS releases late, holding `subnet` and `groups` until listed
        `<figures>_polls` times (if that figure exists), at most `<figures>_seconds` after `now`
        (both read at each look, as the other windows are); `role`: the execution role its owner
        needs to release it."""
        self.enis.append({
            "id": f"eni-{uuid.uuid4().hex[:17]}", "subnet": subnet, "groups": list(groups), "description": description,
            "interface_type": interface_type, "since": now, "figures": figures, "stranded": False, "gone": False, "polls": 0, "role": role,
        })

    def _after_lambda(self, call, now):
        if call.method == "POST" and LAMBDA_FUNCTIONS.match(call.path):
            role = (call.params.get("Role") or "").rsplit("/", 1)[-1]
            self.function_vpc[call.params.get("FunctionName")] = (call.params.get("VpcConfig") or {}, role)
            self.functions_created[call.params.get("FunctionName")] = now
            if self.on("function_failures") and self.figure("function_failures", "count") > 0:
                self.config["function_failures"]["count"] -= 1
                self.functions_failed.add(call.params.get("FunctionName"))
        updated = _function_update(call)
        if updated:
            self.functions_updated[_function_name(updated)] = now
        match = LAMBDA_FUNCTION.match(call.path)
        if call.method == "DELETE" and match:
            self.functions_failed.discard(urllib.parse.unquote(match.group(1)))
            vpc, role = self.function_vpc.pop(urllib.parse.unquote(match.group(1)), None) or ({}, None)
            for subnet in vpc.get("SubnetIds") or []:
                self._linger(subnet, vpc.get("SecurityGroupIds") or [], "AWS Lambda VPC ENI-migrator", "lambda", "eni", now, role=role)

    def _strand_lambda_enis(self, call, role, now):
        """The Lambda ENIs not released yet whose execution role `call` took away stay for good."""
        if not self.on("dependent_drain"):
            return
        for eni in self.enis:
            if role and eni["role"] == role and self._eni_alive(eni, now) and not eni["stranded"]:
                eni["stranded"] = True
                self.event("dependent_drain", call, f"{eni['description']} {eni['id']} stranded: Lambda needs the execution role {role} to delete it")

    def _track_gateway_endpoints(self, call, created):
        """The route tables each gateway endpoint routes from, as the calls that succeeded set them
        (`created`: the id a CreateVpcEndpoint answered)."""
        params = call.params
        if call.action == "CreateVpcEndpoint" and params.get("VpcEndpointType") == "Gateway":
            if created:
                self.endpoint_services[created] = params.get("ServiceName")
                for table in _members(params, "RouteTableId"):
                    self.endpoint_routes[(table, params.get("ServiceName"))] = created
        elif call.action == "ModifyVpcEndpoint" and params.get("VpcEndpointId") in self.endpoint_services:
            endpoint = params["VpcEndpointId"]
            service = self.endpoint_services[endpoint]
            for table in _members(params, "RemoveRouteTableId"):
                self.endpoint_routes.pop((table, service), None)
            for table in _members(params, "AddRouteTableId"):
                self.endpoint_routes[(table, service)] = endpoint
        elif call.action in ("DeleteVpcEndpoints", "DeleteRouteTable"):
            gone = set(_members(params, "VpcEndpointId")) | {params.get("RouteTableId")}
            for key, endpoint in list(self.endpoint_routes.items()):
                if endpoint in gone or key[0] in gone:
                    del self.endpoint_routes[key]

    def _track_interface_endpoints(self, call, created, now):
        """Each interface endpoint's subnets and groups, and those deleted: they drain."""
        params = call.params
        if call.action == "CreateVpcEndpoint" and params.get("VpcEndpointType") == "Interface":
            if created:
                self.interface_endpoints[created] = {
                    "vpc": params.get("VpcId"), "service": params.get("ServiceName"),
                    "subnets": _members(params, "SubnetId"), "groups": _members(params, "SecurityGroupId"), "private_dns": _private_dns(params),
                }
        elif call.action == "ModifyVpcEndpoint" and params.get("VpcEndpointId") in self.interface_endpoints:
            endpoint = self.interface_endpoints[params["VpcEndpointId"]]
            if "PrivateDnsEnabled" in params:
                endpoint["private_dns"] = _private_dns(params)
            for key, stem in (("subnets", "SubnetId"), ("groups", "SecurityGroupId")):
                removed = set(_members(params, "Remove" + stem))
                endpoint[key] = [i for i in endpoint[key] if i not in removed] + _members(params, "Add" + stem)
        elif call.action == "DeleteVpcEndpoints":
            for endpoint_id in _members(params, "VpcEndpointId"):
                endpoint = self.interface_endpoints.pop(endpoint_id, None)
                if endpoint and self.on("dependent_drain"):
                    until = now + self.figure("dependent_drain", "endpoint_seconds")
                    self.endpoints_deleting.append(dict(endpoint, id=endpoint_id, until=until, polls=0))

    def _track_failed_endpoints(self, call, created):
        if call.action == "CreateVpcEndpoint" and created and self.on("endpoint_failures"):
            service = (call.params.get("ServiceName") or "").split(".", 3)[-1]
            if service in self.figure("endpoint_failures", "services"):
                self.endpoints_failed.add(created)
        elif call.action == "DeleteVpcEndpoints":
            self.endpoints_failed -= set(_members(call.params, "VpcEndpointId"))

    def _endpoints_failed(self, root, call, ns):
        def last_error(item, code, message):
            error = ET.SubElement(item, f"{ns}lastError")
            ET.SubElement(error, f"{ns}code").text = code
            ET.SubElement(error, f"{ns}message").text = message

        failed = {endpoint for endpoint in self.endpoints_failed if not self._endpoint_pending(endpoint)}
        # CreateVpcEndpoint answers one endpoint (vpcEndpoint): a gateway endpoint has no pending time.
        self._failed_items(root, call, ns, ("vpcEndpointSet", "vpcEndpointId", "vpc-endpoint-state"), failed,
                           "endpoint_failures", "endpoint ", last_error, answer_tag="vpcEndpoint")

    def _endpoint_pending(self, endpoint_id):
        """Whether an interface endpoint is still in its `pending` time (slow_states)."""
        return (self.on("slow_states") and endpoint_id in self.interface_endpoints
                and self.recent(self.created.get(endpoint_id), self.figure("slow_states", "endpoint_seconds")))

    def _endpoints_pending(self, root, call, ns):
        """New interface endpoints answer `pending`: CreateVpcEndpoint's answer, and a listing (left
        out of one whose state filter does not ask for pending)."""
        created = root.find(f"{ns}vpcEndpoint")
        items = [created] if created is not None else []
        holder = root.find(f"{ns}vpcEndpointSet")
        if holder is not None:
            items += holder.findall(f"{ns}item")
        states = [state.lower() for state in _filters(call.params).get("vpc-endpoint-state", ["pending"])]
        for item in items:
            endpoint_id, state = item.findtext(f"{ns}vpcEndpointId"), item.find(f"{ns}state")
            if state is None or state.text.lower() != "available" or not self._endpoint_pending(endpoint_id):
                continue
            if item is not created and "pending" not in states:
                holder.remove(item)
                self.event("slow_states", call, f"endpoint {endpoint_id} pending, not listed")
                continue
            state.text = "pending"
            self.event("slow_states", call, f"endpoint {endpoint_id} pending")

    def _failed_items(self, root, call, ns, tags, failed_ids, behaviour, label, add_error, answer_tag=None):
        """Items of `failed_ids` answer `failed` with the behaviour's code and message (added by
        `add_error`), or are left out of a listing by state that does not ask for failed ones
        (moto keeps them available). `tags`: the listing's set, the item's id, the state filter;
        `answer_tag`: the element of a create's answer, which holds the one item."""
        set_tag, id_tag, state_filter = tags
        holder = root.find(f"{ns}{set_tag}")
        answered = root.find(f"{ns}{answer_tag}") if answer_tag else None
        items = (holder.findall(f"{ns}item") if holder is not None else []) + ([answered] if answered is not None else [])
        states = [state.lower() for state in _filters(call.params).get(state_filter, ["failed"])]
        for item in items:
            item_id, state = item.findtext(f"{ns}{id_tag}"), item.find(f"{ns}state")
            if item_id not in failed_ids or state is None or state.text.lower() in ("deleting", "deleted"):
                continue
            if item is not answered and "failed" not in states:
                holder.remove(item)
                self.event(behaviour, call, f"{label}{item_id} failed, not listed")
                continue
            state.text = "failed"
            add_error(item, self.figure(behaviour, "code"), self.figure(behaviour, "message"))
            self.event(behaviour, call, f"{label}{item_id} failed")

    def _endpoint_deleting(self, endpoint, now):
        return now < endpoint["until"] and endpoint["polls"] < self.figure("dependent_drain", "endpoint_polls")

    def _endpoints_deleting(self, root, call, ns):
        """Interface endpoints still draining answer `deleting`: moto's `deleted` rewritten, or
        (moto leaves them out of a state filter) added when the filter asks for `deleting`."""
        filters, asked = _filters(call.params), _members(call.params, "VpcEndpointId")  # a listing by id shows only those
        holder = root.find(f"{ns}vpcEndpointSet")
        if holder is None:
            return
        now = time.time()
        listed = {}
        for item in holder.findall(f"{ns}item"):
            endpoint_id = item.find(f"{ns}vpcEndpointId")
            if endpoint_id is not None:
                listed[endpoint_id.text] = item
        for endpoint in self.endpoints_deleting:
            if not self._endpoint_deleting(endpoint, now):
                continue
            item = listed.get(endpoint["id"])
            if item is not None:
                state = item.find(f"{ns}state")
                if state is None or state.text.lower() != "deleted":
                    continue
                state.text = "deleting"
            elif ("deleting" in filters.get("vpc-endpoint-state", ["deleting"]) and endpoint["vpc"] in filters.get("vpc-id", [endpoint["vpc"]])
                  and endpoint["id"] in (asked or [endpoint["id"]])):
                item = ET.SubElement(holder, f"{ns}item")
                for tag, text in (("vpcEndpointId", endpoint["id"]), ("vpcEndpointType", "Interface"), ("vpcId", endpoint["vpc"]),
                                  ("serviceName", endpoint["service"]), ("state", "deleting")):
                    ET.SubElement(item, f"{ns}{tag}").text = text
            else:
                continue
            endpoint["polls"] += 1
            self.event("dependent_drain", call, f"endpoint {endpoint['id']} deleting")

    def _older_account_zones(self, root, call, ns):
        """The region's zones of `older_account_zones` added to DescribeAvailabilityZones' answer,
        unless its filters or zone names leave them out."""
        holder = root.find(f"{ns}availabilityZoneInfo")
        if holder is None:
            return
        filters, names, ids = _filters(call.params), _members(call.params, "ZoneName"), _members(call.params, "ZoneId")
        for name, zone_id in sorted(self.figure("older_account_zones", "zones").get(call.region, {}).items()):
            fields = {"region-name": call.region, "zone-name": name, "zone-id": zone_id, "state": "available", "zone-type": "availability-zone"}
            unasked = (names and name not in names) or (ids and zone_id not in ids)
            if unasked or any(key not in fields or fields[key] not in values for key, values in filters.items()):
                continue
            item = ET.SubElement(holder, f"{ns}item")
            for tag, text in (("regionName", call.region), ("zoneName", name), ("zoneId", zone_id), ("zoneType", "availability-zone"),
                              ("zoneState", "available")):
                ET.SubElement(item, f"{ns}{tag}").text = text
            self.event("older_account_zones", call, f"{name} ({zone_id}) listed")

    def _endpoint_service_zones(self, root, call, ns):
        """The zones of the services named in `endpoint_service_zones` narrowed to those listed."""
        narrowed = self.figure("endpoint_service_zones", "zones")
        for item in root.iter(f"{ns}item"):
            service, zone_set = item.findtext(f"{ns}serviceName"), item.find(f"{ns}availabilityZoneSet")
            if service not in narrowed or zone_set is None:
                continue
            for zone in list(zone_set):
                if zone.text not in narrowed[service]:
                    zone_set.remove(zone)
            self.event("endpoint_service_zones", call, f"{service} offered in {', '.join(narrowed[service])}")

    def _after_ec2(self, call, answer, now):
        if call.action == "DescribeAvailabilityZones" and self.on("older_account_zones"):
            return self._rewrite_xml(call, answer, self._older_account_zones)
        if call.action == "DescribeVpcEndpointServices" and self.on("endpoint_service_zones") and self.figure("endpoint_service_zones", "zones"):
            return self._rewrite_xml(call, answer, self._endpoint_service_zones)
        delayed = self.figure("eventual_consistency", "filter_listings") or EC2_LISTED_IDS
        if call.action in EC2_LISTED_IDS and call.action in delayed and self.on("eventual_consistency") and not any(ID_PARAM.match(key) for key in call.params):
            answer = self._rewrite_xml(call, answer, self._not_yet_listed)
        created = None
        if call.action in EC2_CREATES:
            match = re.search(rf"<{EC2_CREATES[call.action]}>([^<]+)</", answer.body.decode())
            created = match.group(1) if match else None
            if created:
                self.created[created] = now
        self._track_gateway_endpoints(call, created)
        self._track_interface_endpoints(call, created, now)
        self._track_failed_endpoints(call, created)
        if call.action in ("CreateVpcEndpoint", "DescribeVpcEndpoints") and self.on("endpoint_failures") and self.endpoints_failed:
            answer = self._rewrite_xml(call, answer, self._endpoints_failed)
        if call.action == "DescribeVpcEndpoints" and self.on("dependent_drain") and self.endpoints_deleting:
            answer = self._rewrite_xml(call, answer, self._endpoints_deleting)
        if call.action in ("CreateVpcEndpoint", "DescribeVpcEndpoints") and self.on("slow_states") and self.interface_endpoints:
            answer = self._rewrite_xml(call, answer, self._endpoints_pending)
        if call.action == "DeleteNatGateway":
            self.nat_deleted = now
        elif call.action == "DeleteSubnet":
            self.subnet_deleted = now
        if call.action in EC2_CREATES:
            if created and call.action == "CreateNatGateway":
                self.nat_created[created] = now
                interface = re.search(r"<networkInterfaceId>([^<]+)</", answer.body.decode())
                if interface:
                    self.nat_interfaces[interface.group(1)] = created
                if self.on("nat_failures") and self.figure("nat_failures", "count") > len(self.nats_failed):
                    self.nats_failed.add(created)
                if self.on("slow_states"):
                    answer = self._rewrite_xml(call, answer, self._nats_pending)
            return answer
        if call.action == "DescribeNatGateways" and self.on("nat_failures") and self.nats_failed:
            answer = self._rewrite_xml(call, answer, self._nats_failed)
        if call.action == "DescribeNatGateways" and self.on("slow_states"):
            return self._rewrite_xml(call, answer, self._nats_pending)
        if call.action == "DescribeNetworkInterfaces" and self.on("nat_interfaces") and self.nat_interfaces:
            answer = self._rewrite_xml(call, answer, self._nat_interfaces)
        if call.action == "DescribeNetworkInterfaces" and self.on("dependent_drain"):
            return self._rewrite_xml(call, answer, self._lingering_enis)
        return answer

    def _nat_interfaces(self, root, call, ns):
        for item in root.iter(f"{ns}item"):
            nat = self.nat_interfaces.get(item.findtext(f"{ns}networkInterfaceId") or "")
            if nat:
                for tag, text in (("interfaceType", "nat_gateway"), ("description", f"Interface for NAT Gateway {nat}")):
                    element = item.find(f"{ns}{tag}")
                    if element is None:
                        element = ET.SubElement(item, f"{ns}{tag}")
                    element.text = text
                self.event("nat_interfaces", call, f"{item.findtext(f'{ns}networkInterfaceId')} of {nat}")

    def _not_yet_listed(self, root, call, ns):
        """Leave out of a listing the items created less than `filter_seconds` ago."""
        seconds = self.figure("eventual_consistency", "filter_seconds")
        for listing in list(root):
            for item in listing.findall(f"{ns}item"):
                item_id = item.findtext(f"{ns}{EC2_LISTED_IDS[call.action]}")
                if item_id and self.recent(self.created.get(item_id), seconds):
                    listing.remove(item)
                    self.event("eventual_consistency", call, f"{item_id} not listed yet")

    def _nats_failed(self, root, call, ns):
        def failure(item, code, message):
            ET.SubElement(item, f"{ns}failureCode").text = code
            ET.SubElement(item, f"{ns}failureMessage").text = message

        self._failed_items(root, call, ns, ("natGatewaySet", "natGatewayId", "state"), self.nats_failed, "nat_failures", "", failure)

    def _nats_pending(self, root, call, ns):
        seconds = self.figure("slow_states", "nat_seconds")
        # DescribeNatGateways' items, and CreateNatGateway's one gateway (moto answers available).
        for item in list(root.iter(f"{ns}item")) + list(root.iter(f"{ns}natGateway")):
            nat_id, state = item.find(f"{ns}natGatewayId"), item.find(f"{ns}state")
            if nat_id is not None and state is not None and state.text == "available" and self.recent(self.nat_created.get(nat_id.text), seconds):
                state.text = "pending"
                self.event("slow_states", call, f"{nat_id.text} pending")

    @staticmethod
    def _eni_matches(eni, filters):
        """Whether a lingering ENI answers DescribeNetworkInterfaces' filters: by group, subnet
        and description (a pattern); a listing with none of those filters is not shown them."""
        checks = {
            "group-id": lambda values: bool(set(values) & set(eni["groups"])),
            "subnet-id": lambda values: eni["subnet"] in values,
            "description": lambda values: any(fnmatch.fnmatchcase(eni["description"], value) for value in values),
        }
        known = [name for name in filters if name in checks]
        return bool(known) and all(checks[name](filters[name]) for name in known)

    def _lingering_enis(self, root, call, ns):
        filters = _filters(call.params)
        holder = root.find(f"{ns}networkInterfaceSet")
        if holder is None:
            return
        now = time.time()
        for eni in self.enis:
            if self._eni_alive(eni, now) and self._eni_matches(eni, filters):
                eni["polls"] += 1
                item = ET.SubElement(holder, f"{ns}item")
                for tag, text in (
                    ("networkInterfaceId", eni["id"]),
                    ("subnetId", eni["subnet"]),
                    ("description", eni["description"]),
                    ("interfaceType", eni["interface_type"]),
                    ("requesterManaged", "true"),
                    ("status", "in-use"),
                ):
                    ET.SubElement(item, f"{ns}{tag}").text = text
                ET.SubElement(item, f"{ns}tagSet")
                groups = ET.SubElement(item, f"{ns}groupSet")
                for group in eni["groups"]:
                    ET.SubElement(ET.SubElement(groups, f"{ns}item"), f"{ns}groupId").text = group
                self.event("dependent_drain", call, f"{eni['description']} {eni['id']} still in use")

    def _eni_alive(self, eni, now):
        if eni["stranded"] or eni["gone"]:
            return eni["stranded"]
        seconds, polls = (f"{eni['figures']}_{figure}" for figure in ("seconds", "polls"))
        alive = now < eni["since"] + self.figure("dependent_drain", seconds) and eni["polls"] < self.config["dependent_drain"].get(polls, float("inf"))
        # Released for good: a window widened later does not bring it back.
        eni["gone"] = not alive
        return alive

    def _after_rds(self, call, answer, now):
        if call.action == "DeleteDBCluster" and self.on("dependent_drain"):
            return self._rewrite_xml(call, answer, self._cluster_deleted)
        if call.action == "CreateDBCluster":
            self.rds_created[call.params.get("DBClusterIdentifier")] = [now, False]
            self.rds_clusters.add(call.params.get("DBClusterIdentifier"))
            version = re.search(r"<EngineVersion>([^<]+)</", answer.body.decode())
            if version:
                self.rds_versions[call.params.get("DBClusterIdentifier")] = version.group(1)
        elif call.action == "StopDBCluster":
            self.rds_stopped.add(call.params.get("DBClusterIdentifier"))
        elif call.action == "StartDBCluster":
            self.rds_stopped.discard(call.params.get("DBClusterIdentifier"))
            self.rds_starting[call.params.get("DBClusterIdentifier")] = now
            self.event("slow_states", call, f"{call.params.get('DBClusterIdentifier')} starting")
        elif call.action == "CreateDBInstance":
            self.rds_members[call.params.get("DBInstanceIdentifier")] = call.params.get("DBClusterIdentifier")
            self.rds_created[call.params.get("DBInstanceIdentifier")] = [now, True]
            if self.on("db_instance_failures") and self.figure("db_instance_failures", "count") > self.db_failures_made:
                self.db_instances_failed.add(call.params.get("DBInstanceIdentifier"))
                self.db_failures_made += 1
        elif call.action == "DeleteDBInstance":
            # One created again under that name is a new instance.
            self.db_instances_failed.discard(call.params.get("DBInstanceIdentifier"))
        elif call.action == "ModifyDBCluster" and self.on("slow_states"):
            cluster, version = call.params.get("DBClusterIdentifier"), call.params.get("EngineVersion")
            former = self.rds_versions.get(cluster)
            if version and former and version != former:
                self.rds_upgrading[cluster] = (now, former, version)
                self.event("slow_states", call, f"{cluster} upgrading from {former} to {version}")
                answer = self._rewrite_xml(call, answer, self._clusters_upgrading)
        if call.action == "DescribeDBClusters" and self.on("slow_states"):
            answer = self._rewrite_xml(call, answer, self._clusters_upgrading)
        if call.action == "DescribeDBInstances" and self.on("db_instance_failures") and self.db_instances_failed:
            answer = self._rewrite_xml(call, answer, self._db_instances_failed)
        if call.action in ("DescribeDBClusters", "DescribeDBInstances") and self.on("slow_states"):
            return self._rewrite_xml(call, answer, self._rds_creating)
        return answer

    def _db_instances_failed(self, root, call, ns):
        """The failing DB instances, once their creating time is over, in the behaviour's status."""
        for node in root.iter(f"{ns}DBInstance"):
            name, status = node.findtext(f"{ns}DBInstanceIdentifier"), node.find(f"{ns}DBInstanceStatus")
            created = self.rds_created.get(name)
            if name not in self.db_instances_failed or status is None or status.text != "available" or not created:
                continue
            if self.on("slow_states") and self.recent(created[0], self.figure("slow_states", "rds_seconds")):
                continue
            status.text = self.figure("db_instance_failures", "status")
            self.event("db_instance_failures", call, f"{name} {status.text}")

    def _cluster_deleted(self, root, call, ns):
        """DeleteDBCluster answers the cluster `deleting` (moto: `available`); it is kept as
        answered for the Describes that follow."""
        element = root.find(f".//{ns}DBCluster")
        if element is None:
            return
        status, group = element.find(f"{ns}Status"), element.find(f"{ns}DBSubnetGroup")
        if status is not None:
            status.text = "deleting"
        cluster = call.params.get("DBClusterIdentifier")
        self.rds_deleting[cluster] = {
            "element": ET.tostring(element, encoding="unicode"), "subnet_group": group.text if group is not None else None,
            "until": time.time() + self.figure("dependent_drain", "rds_cluster_seconds"), "polls": 0,
        }
        self.event("dependent_drain", call, f"cluster {cluster} deleted, listed until gone")

    def _clusters_upgrading(self, root, call, ns):
        """A cluster whose engine version is being changed: `upgrading`, at its former version
        with the new one pending; the version of any other cluster is noted (the former one of
        a later upgrade)."""
        for node in root.iter(f"{ns}DBCluster"):
            name, status, version = (node.find(f"{ns}{tag}") for tag in ("DBClusterIdentifier", "Status", "EngineVersion"))
            if name is None or version is None:
                continue
            if not self._cluster_upgrading(name.text):
                self.rds_versions[name.text] = version.text
                continue
            former, new = self.rds_upgrading[name.text][1:]
            version.text = former
            if status is not None:
                status.text = "upgrading"
            pending = node.find(f"{ns}PendingModifiedValues")
            if pending is None:
                pending = ET.SubElement(node, f"{ns}PendingModifiedValues")
            ET.SubElement(pending, f"{ns}EngineVersion").text = new
            self.event("slow_states", call, f"{name.text} upgrading")

    def _rds_creating(self, root, call, ns):
        seconds = self.figure("slow_states", "rds_seconds")
        kind = "DBCluster" if call.action == "DescribeDBClusters" else "DBInstance"
        status_tag = "Status" if kind == "DBCluster" else "DBInstanceStatus"
        for node in root.iter(f"{ns}{kind}"):
            name, status = node.find(f"{ns}{kind}Identifier"), node.find(f"{ns}{status_tag}")
            created = self.rds_created.get(name.text if name is not None else None)
            if status is not None and status.text == "available" and created and self.recent(created[0], seconds):
                status.text = "creating"
                self.event("slow_states", call, f"{name.text} creating")
            elif kind == "DBCluster" and name is not None and status is not None and status.text == "available" and self.recent(
                self.rds_starting.get(name.text), seconds
            ):
                status.text = "starting"
                self.event("slow_states", call, f"{name.text} starting")

    def _after_ecs(self, call, answer, now):
        if call.action in ("DescribeTaskDefinition", "RegisterTaskDefinition") and self.on("task_definition_defaults"):
            result = _json(answer.body)
            definition = result.get("taskDefinition")
            if definition is not None and "enableFaultInjection" not in definition:
                arn = definition.get("taskDefinitionArn", "")
                if call.action == "RegisterTaskDefinition":
                    self.fault_injection[arn] = bool(call.params.get("enableFaultInjection", False))
                definition["enableFaultInjection"] = self.fault_injection.get(arn, False)
                self.event("task_definition_defaults", call, f"{definition.get('family')}:{definition.get('revision')} enableFaultInjection")
                answer = Answer(answer.status, answer.headers, json.dumps(result, default=str).encode())
        if call.action == "CreateCluster":
            self.clusters_created[(_json(answer.body).get("cluster") or {}).get("clusterName")] = now
        elif call.action == "RegisterTaskDefinition":
            images = [c.get("image", "") for c in call.params.get("containerDefinitions", [])]
            arn = (_json(answer.body).get("taskDefinition") or {}).get("taskDefinitionArn", "")
            self.task_images[arn] = self.task_images[arn.rsplit("/", 1)[-1]] = images
        elif call.action in ("CreateService", "UpdateService"):
            service = _json(answer.body).get("service") or {}
            key = _described_service_key(service)
            if call.action == "CreateService" and service:
                self.services_created[key] = now
            self.ecs_deployed[key] = now
            awsvpc = (service.get("networkConfiguration") or {}).get("awsvpcConfiguration") or {}
            if awsvpc:
                self.service_network[key] = {"subnets": awsvpc.get("subnets") or [], "groups": awsvpc.get("securityGroups") or []}
            count = service.get("desiredCount") or 0
            if count > 0 and not self.service_counts.get(key):
                for balancer in service.get("loadBalancers") or []:
                    if balancer.get("targetGroupArn"):
                        self.targets_starting[balancer["targetGroupArn"]] = now
            self.service_counts[key] = count
        elif call.action == "DeleteService":
            key = _service_key(call.params)
            cluster = key[0]
            self.services_deleted[cluster] = now
            self.services_draining[key] = now
            self.cluster_refusals.pop(cluster, None)
            network = self.service_network.pop(key, None) or {}
            for subnet in network.get("subnets") or []:
                attachment = f"arn:aws:ecs:us-east-1:123456789012:attachment/{uuid.uuid4()}"
                self._linger(subnet, network.get("groups") or [], attachment, "interface", "task_eni", now)
        elif call.action == "DescribeClusters" and self.on("eventual_consistency"):
            result = _json(answer.body)
            seconds = self.figure("eventual_consistency", "seconds")
            late = [c for c in result.get("clusters", []) if self.recent(self.clusters_created.get(c.get("clusterName")), seconds)]
            if not late:
                return answer
            for cluster in late:
                result["clusters"].remove(cluster)
                result.setdefault("failures", []).append({"arn": cluster.get("clusterArn"), "reason": "MISSING"})
                self.event("eventual_consistency", call, f"cluster {cluster.get('clusterName')} MISSING")
            return Answer(answer.status, answer.headers, json.dumps(result, default=str).encode())
        elif call.action == "DescribeServices":
            result = _json(answer.body)
            for service in list(result.get("services", [])):
                key = _described_service_key(service)
                if self._service_not_known_yet(key):
                    result["services"].remove(service)
                    result.setdefault("failures", []).append({"arn": service.get("serviceArn"), "reason": "MISSING"})
                    self.event("eventual_consistency", call, f"{key[1]} MISSING")
            for service in result.get("services", []):
                self._ecs_service_view(call, service, now)
            return Answer(answer.status, answer.headers, json.dumps(result, default=str).encode())
        return answer

    def _after_dynamodb(self, call, answer, now):
        # CreateTable answers CREATING and DescribeTable says so until the table is ACTIVE.
        if call.action not in ("CreateTable", "DescribeTable"):
            return answer
        table = call.params.get("TableName")
        if call.action == "CreateTable" and self.on("slow_states"):
            self.tables_created[table] = now
        if not self._table_creating(table):
            return answer
        result = _json(answer.body)
        description = result.get("TableDescription") or result.get("Table") or {}
        description["TableStatus"] = "CREATING"
        self.event("slow_states", call, f"{table} CREATING")
        body = json.dumps(result).encode()
        # botocore checks DynamoDB answers against their CRC32 header (and retries on a mismatch).
        headers = {k: v for k, v in answer.headers.items() if k.lower() != "x-amz-crc32"}
        headers["x-amz-crc32"] = str(zlib.crc32(body) & 0xFFFFFFFF)
        return Answer(answer.status, headers, body)

    def _ecs_service_view(self, call, service, now):
        key = _described_service_key(service)
        if service.get("status") == "INACTIVE" and self._service_draining(key):
            service["status"] = "DRAINING"
            self.event("dependent_drain", call, f"{key[1]} DRAINING")
            return
        deployments = service.get("deployments") or []
        primary = next((d for d in deployments if d.get("status") == "PRIMARY"), None)
        if primary is None or service.get("status") != "ACTIVE":
            return
        in_progress = self.on("slow_states") and self.recent(self.ecs_deployed.get(key), self.figure("slow_states", "ecs_seconds"))
        if in_progress and service.get("desiredCount", 0) > 0:
            primary.update(rolloutState="IN_PROGRESS", runningCount=0, pendingCount=service["desiredCount"])
            service.update(runningCount=0, pendingCount=service["desiredCount"])
            self.event("slow_states", call, f"{key[1]} deployment in progress")
        trip = self.breaker_trips.get(key)
        if self.on("circuit_breaker") and trip and self.recent(trip[0], self.figure("circuit_breaker", "seconds")):
            deployments.append(
                {
                    "id": f"ecs-svc/{abs(hash(trip)) % 10**18}",
                    "status": "ACTIVE",
                    "taskDefinition": trip[1],
                    "desiredCount": 0,
                    "runningCount": 0,
                    "pendingCount": 0,
                    "failedTasks": 3,
                    "rolloutState": "FAILED",
                    "rolloutStateReason": "ECS deployment circuit breaker: tasks failed to start.",
                    "createdAt": trip[0],
                    "updatedAt": now,
                }
            )
            self.event("circuit_breaker", call, f"{key[1]} lists the FAILED deployment")

    def _rewrite_xml(self, call, answer, rewrite):
        """Let `rewrite(root, call, ns)` change the parsed XML answer; ns is "{namespace}"."""
        try:
            root = ET.fromstring(answer.body)  # noqa: S314 (moto's own answer, on loopback)
        except ET.ParseError:
            return answer
        namespace = root.tag[1:].split("}", 1)[0] if root.tag.startswith("{") else ""
        ET.register_namespace("", namespace)
        before = len(self.events)
        rewrite(root, call, f"{{{namespace}}}" if namespace else "")
        if len(self.events) == before:
            return answer
        return Answer(answer.status, answer.headers, ET.tostring(root, encoding="utf-8", xml_declaration=True))

    def hold(self, call, connection):
        """(seconds to hold a synchronous Lambda invocation's answer, what then happens to it:
        None (sent), "silence" or ("reset", after seconds)): (0, None) for any other call."""
        if self.on("long_invocation") and call.service == "lambda" and LAMBDA_INVOKE.match(call.path):
            if (call.headers.get("X-Amz-Invocation-Type") or "RequestResponse") == "RequestResponse":
                seconds = self.figure("long_invocation", "seconds")
                if seconds:
                    lost, detail = None, f"answer held {seconds} s"
                    if self.figure("long_invocation", "idle_drop"):
                        idle = self.figure("long_invocation", "idle_seconds")
                        probe = keepalive_probe_in(connection)
                        if probe == "unknown":
                            detail += "; the connection's keepalive could not be read (no /proc/net/tcp entry): sent"
                        elif probe is None:
                            lost = "silence"
                            detail += f", then lost: the connection sends no TCP keepalive probe, and is dropped after {idle} s of quiet"
                        elif probe > idle:
                            lost = ("reset", probe)
                            detail += f", then lost: the connection's first TCP keepalive probe (in {probe:.1f} s) comes after {idle} s of quiet, and is reset"
                        else:
                            detail += f"; TCP keepalive probes (the next in {probe:.1f} s) keep the flow"
                    with self.lock:
                        self.event("long_invocation", call, detail)
                    return seconds, lost
        return 0, None


def keepalive_probe_in(connection, table="/proc/net/tcp", within=1.0):
    """Seconds until the next TCP keepalive probe of the client's end of an IPv4 loopback
    `connection` (the proxy's socket), from the kernel's socket table, where timer 2 is
    keepalive's; None when that end sends no probe; "unknown" when it is not in the table (not
    Linux, IPv6). Looked at for up to a second: the retransmit timer of the request's segments
    shows first. The timer runs from the connection's start, so a pooled connection may seem
    to probe sooner than it does."""
    def address(host, port):
        return "%08X:%04X" % (struct.unpack("=I", socket.inet_aton(host))[0], port)

    try:
        local, remote = address(*connection.getpeername()[:2]), address(*connection.getsockname()[:2])
    except (OSError, ValueError):
        return "unknown"
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            with open(table, encoding="ascii") as rows:
                # the client's end, established (state 01)
                found = [row.split() for row in rows if row.split()[1:4] == [local, remote, "01"]]
        except OSError:
            return "unknown"
        if not found:
            return "unknown"
        timer, when = found[0][5].split(":")
        if int(timer, 16) == 2:
            return int(when, 16) / os.sysconf("SC_CLK_TCK")
        time.sleep(0.05)
    return None


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "realistic-proxy"

    def log_message(self, fmt, *args):  # quiet: moto keeps the request log
        pass

    def _respond(self, answer):
        self.send_response(answer.status)
        for key, value in answer.headers.items():
            if key.lower() not in HOP_HEADERS:
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(answer.body)))
        self.end_headers()
        self.wfile.write(answer.body)

    def _forward(self, call, raw_path):
        conn = http.client.HTTPConnection("127.0.0.1", self.server.upstream, timeout=600)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_HEADERS}
        headers["Content-Length"] = str(len(call.body))
        try:
            conn.request(call.method, raw_path, body=call.body, headers=headers)
            resp = conn.getresponse()
            return Answer(resp.status, dict(resp.getheaders()), resp.read())
        finally:
            conn.close()

    def _handle(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        realism = self.server.realism
        if self.path.startswith("/realistic-api/"):
            return self._respond(self._api(self.path, body))
        call = Call(self.command, self.path, self.headers, body)
        if self.path.startswith("/moto-api/") or call.service is None:
            return self._respond(self._forward(call, self.path))
        if realism.on("latency"):
            time.sleep(realism.figure("latency", "ms") / 1000.0)
        answer = realism.before(call)
        if answer is None:
            answer = realism.after(call, self._forward(call, self.path))
        held, lost = realism.hold(call, self.connection)
        if lost == "silence":
            # Nothing reaches the client, which waits until its read timeout and closes.
            self._until_the_client_closes(None)
            return
        if lost:
            # The NAT gateway answers the client's late probe with a reset, unless it gave up first.
            if not self._until_the_client_closes(lost[1]):
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.rfile.close()  # the socket closes, with the reset, once its last file object does
                self.connection.close()
            return
        if held:
            time.sleep(held)
        try:
            self._respond(answer)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up waiting (its read timeout): the call still happened

    def _until_the_client_closes(self, seconds):
        """Waits until the client closes the connection (or writes to it), at most `seconds`
        (None: however long it takes); then this connection serves no other request. True
        when the client did close."""
        self.close_connection = True
        with selectors.DefaultSelector() as selector:
            selector.register(self.connection, selectors.EVENT_READ)
            return bool(selector.select(seconds))

    def _api(self, path, body):
        realism = self.server.realism
        if path == "/realistic-api/config" and self.command == "POST":
            update = _json(body)
            with realism.lock:
                for name, figures in update.items():
                    if name not in realism.config:
                        return Answer(400, {"Content-Type": "application/json"}, json.dumps({"error": f"unknown behaviour {name}"}).encode())
                    unknown = sorted(set(figures.get("filter_listings") or ()) - set(EC2_LISTED_IDS))
                    if unknown:
                        return Answer(400, {"Content-Type": "application/json"}, json.dumps({"error": f"not a listing: {unknown}"}).encode())
                    realism.config[name].update(figures)
        elif path == "/realistic-api/reset" and self.command == "POST":
            realism.reset()
        elif path == "/realistic-api/events":
            with realism.lock:
                return Answer(200, {"Content-Type": "application/json"}, json.dumps(realism.events).encode())
        with realism.lock:
            return Answer(200, {"Content-Type": "application/json"}, json.dumps(realism.config).encode())

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _handle


class Proxy(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, listen, upstream, behaviours="all"):
        super().__init__(("127.0.0.1", listen), Handler)
        self.upstream = upstream
        self.realism = Realism(behaviours)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listen", type=int, required=True)
    parser.add_argument("--upstream", type=int, required=True)
    parser.add_argument("--behaviours", default="all", help=f"all, none, or a comma list of: {', '.join(DEFAULTS)}")
    args = parser.parse_args(argv)
    Proxy(args.listen, args.upstream, args.behaviours).serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
