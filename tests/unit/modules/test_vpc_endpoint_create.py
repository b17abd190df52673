"""vpc_endpoint_create on the emulator: it creates an endpoint beside a deleted one of its service
(which AWS and moto still list, and amazon.aws.ec2_vpc_endpoint takes for the one asked for),
finds the one it made on a re-run, and in check mode only plans. On the realistic emulator, which
keeps EC2's client tokens (moto makes an endpoint per request): a create repeated before EC2 lists
the first endpoint answers with it, and once it is listed (deleted by hand) the token changes."""

import datetime
import json
import time

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import ANY, Stubber

from ansible_collections.bluegreen.migration.plugins.module_utils import network
from tests.harness.aws import client, run_module
from tests.harness.module_stub import Ended, StubModule

SECRETS = "com.amazonaws.us-east-1.secretsmanager"


def test_created_beside_a_deleted_endpoint_then_found(aws):
    ec2 = client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.33.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.33.1.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="t-endpoints", Description="t", VpcId=vpc)["GroupId"]
    old = ec2.create_vpc_endpoint(VpcId=vpc, ServiceName=SECRETS, VpcEndpointType="Interface", SubnetIds=[subnet])["VpcEndpoint"]["VpcEndpointId"]
    ec2.delete_vpc_endpoints(VpcEndpointIds=[old])
    assert [e["State"].lower() for e in ec2.describe_vpc_endpoints(VpcEndpointIds=[old])["VpcEndpoints"]] == ["deleted"]
    args = {"vpc_id": vpc, "service": SECRETS, "vpc_endpoint_type": "Interface", "subnet_ids": [subnet], "security_group_ids": [group],
            "private_dns_enabled": True, "tags": {"Name": "vpce-secretsmanager-t", "bluegreen:environment": "t"},
            "policy": {"Version": "2008-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": ["*"], "Resource": "*"}]}}

    aws.reset_recording()
    planned = run_module("vpc_endpoint_create", args, check=True, diff=True)
    assert planned["changed"] is True and aws.mutating_requests() == []
    assert planned["diff"]["before"] == {} and planned["vpc_endpoint"]["vpc_endpoint_id"] == "(known after create)"
    assert planned["diff"]["after"]["policy"] == "full access (AWS's default policy)" and planned["diff"]["after"]["subnet_ids"] == [subnet]

    made = run_module("vpc_endpoint_create", args)
    assert made["changed"] is True, made
    [create] = aws.mutating_requests()
    assert create["action"] == "CreateVpcEndpoint" and create["params"]["ClientToken"] and create["params"]["PrivateDnsEnabled"] in (True, "true")
    # AWS's default full access is not sent: a service that takes only the default refuses any policy.
    assert "PolicyDocument" not in create["params"] and endpoint_policy_of(made) == "full access (AWS's default policy)"
    endpoint = made["vpc_endpoint"]
    assert endpoint["vpc_endpoint_id"] != old and endpoint["security_group_ids"] == [group]
    assert endpoint["tags"] == args["tags"] and endpoint["vpc_endpoint_type"] == "Interface"

    aws.reset_recording()
    again = run_module("vpc_endpoint_create", args)
    assert again["changed"] is False and again["vpc_endpoint"]["vpc_endpoint_id"] == endpoint["vpc_endpoint_id"]
    assert aws.mutating_requests() == []
    # Another name is another endpoint (one made by hand is not taken for the role's).
    assert run_module("vpc_endpoint_create", dict(args, tags={"Name": "other"}), check=True)["changed"] is True


def endpoint_policy_of(result):
    return result["vpc_endpoint"]["policy"]


def test_a_policy_other_than_full_access_is_sent(aws):
    ec2 = client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.34.0.0/16")["Vpc"]["VpcId"]
    narrowed = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::one/*"}]}
    aws.reset_recording()
    made = run_module("vpc_endpoint_create", {"vpc_id": vpc, "service": "com.amazonaws.us-east-1.s3", "policy": narrowed, "tags": {"Name": "t"}})
    assert made["changed"] is True, made
    [create] = aws.mutating_requests()
    assert json.loads(create["params"]["PolicyDocument"]) == narrowed and "one/*" in endpoint_policy_of(made)


def test_an_option_of_the_other_type_fails_before_any_call(aws):
    aws.reset_recording()
    wrong = run_module("vpc_endpoint_create", {"vpc_id": "vpc-0abc", "service": "com.amazonaws.us-east-1.s3", "subnet_ids": ["subnet-0abc"]})
    assert wrong.get("failed") is True and wrong["msg"] == "subnet_ids: only for Interface endpoints, not Gateway ones", wrong
    assert aws.requests() == []


def s3_gateway_args(ec2, cidr):
    vpc = ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
    tables = [ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"] for _dummy in range(2)]
    return {"vpc_id": vpc, "service": "com.amazonaws.us-east-1.s3", "route_table_ids": tables, "tags": {"Name": "vpce-s3-t", "bluegreen:environment": "t"}}


def endpoints_of(vpc):
    listed = client("ec2").describe_vpc_endpoints(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["VpcEndpoints"]
    return sorted((e["VpcEndpointId"], e["State"].lower()) for e in listed)


@pytest.mark.slow(seconds=20)
def test_a_create_repeated_before_the_endpoint_is_listed_answers_with_it(realistic_aws):
    realistic_aws.realism("config", {"throttling": {"enabled": False}, "eventual_consistency": {"filter_seconds": 0}})
    args = s3_gateway_args(client("ec2"), "10.35.0.0/16")
    # EC2 lists a new endpoint only after a while: a run stopped right after the create and run
    # again sees none, and makes the same request.
    realistic_aws.realism("config", {"eventual_consistency": {"filter_seconds": 300}})
    realistic_aws.reset_recording()
    made = run_module("vpc_endpoint_create", args)
    # The same endpoint asked for with its route tables in another order is the same request.
    again = run_module("vpc_endpoint_create", dict(args, route_table_ids=args["route_table_ids"][::-1]))
    assert made["changed"] is True and made["client_token"].startswith("bluegreen-") and len(made["client_token"]) <= 64, made
    first = made["vpc_endpoint"]["vpc_endpoint_id"]
    assert again["vpc_endpoint"]["vpc_endpoint_id"] == first and again["client_token"] == made["client_token"], again
    creates = [c for c in realistic_aws.mutating_requests() if c["action"] == "CreateVpcEndpoint"]
    # The repeat is answered by the proxy, as EC2 does, and never reaches moto (which would make another).
    assert [c["params"]["ClientToken"] for c in creates] == [made["client_token"]]
    repeated = [e["detail"] for e in realistic_aws.realism("events") if e["behaviour"] == "client_tokens"]
    assert repeated == [f"token {made['client_token']} repeated: the first answer"], repeated

    realistic_aws.realism("config", {"eventual_consistency": {"filter_seconds": 0}})
    assert endpoints_of(args["vpc_id"]) == [(first, "available")]
    assert run_module("vpc_endpoint_create", args)["changed"] is False
    # Listed, even deleted, the endpoint changes the token: the next create is a new request.
    client("ec2").delete_vpc_endpoints(VpcEndpointIds=[first])
    remade = run_module("vpc_endpoint_create", args)
    assert remade["changed"] is True and remade["vpc_endpoint"]["vpc_endpoint_id"] != first, remade
    assert remade["client_token"] != made["client_token"]


@pytest.mark.slow(seconds=20)
def test_a_create_refused_for_a_route_an_unlisted_endpoint_holds_takes_that_endpoint_once_listed(realistic_aws):
    """Another token (a stopped run's request in the UTC hour before): AWS refuses a second gateway
    endpoint on the route tables; the module waits until EC2 lists the earlier one, and takes it."""
    realistic_aws.realism("config", {"throttling": {"enabled": False}, "eventual_consistency": {"filter_seconds": 0}})
    ec2 = client("ec2")
    args = s3_gateway_args(ec2, "10.36.0.0/16")
    realistic_aws.realism("config", {"eventual_consistency": {"filter_seconds": 20}})  # the module's first listing comes well within it
    earlier = ec2.create_vpc_endpoint(VpcId=args["vpc_id"], ServiceName=args["service"], VpcEndpointType="Gateway", RouteTableIds=args["route_table_ids"],
                                      TagSpecifications=[{"ResourceType": "vpc-endpoint", "Tags": [{"Key": "Name", "Value": "vpce-s3-t"}]}])
    earlier = earlier["VpcEndpoint"]["VpcEndpointId"]
    taken = run_module("vpc_endpoint_create", args)
    assert taken["changed"] is True and taken["vpc_endpoint"]["vpc_endpoint_id"] == earlier, taken
    assert [e["detail"].split()[0] for e in realistic_aws.realism("events") if e["behaviour"] == "gateway_endpoint_routes"] == ["RouteAlreadyExists"]
    assert len(endpoints_of(args["vpc_id"])) == 1

    # Held by an endpoint of another name (made outside the role): the module says so once its wait runs out.
    held = run_module("vpc_endpoint_create", dict(args, tags={"Name": "vpce-s3-other"}, wait_timeout=0))
    assert held.get("failed") is True and "listed no endpoint of the service named vpce-s3-other within 0 s" in held["msg"], held
    assert "RouteAlreadyExists" not in held["msg"] and "already has a route" in held["msg"]


def test_an_interface_endpoint_with_private_dns_is_refused_beside_another_one(realistic_aws):
    """A VPC takes one interface endpoint of a service with private DNS (its name); one without is accepted."""
    realistic_aws.realism("config", {"throttling": {"enabled": False}})
    ec2 = client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.37.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.37.1.0/24")["Subnet"]["SubnetId"]
    first = ec2.create_vpc_endpoint(VpcId=vpc, ServiceName=SECRETS, VpcEndpointType="Interface", SubnetIds=[subnet])["VpcEndpoint"]["VpcEndpointId"]
    with pytest.raises(ClientError, match="conflicting DNS domain for secretsmanager.us-east-1.amazonaws.com"):
        ec2.create_vpc_endpoint(VpcId=vpc, ServiceName=SECRETS, VpcEndpointType="Interface", SubnetIds=[subnet], PrivateDnsEnabled=True)
    ec2.create_vpc_endpoint(VpcId=vpc, ServiceName=SECRETS, VpcEndpointType="Interface", SubnetIds=[subnet], PrivateDnsEnabled=False)
    assert [e["detail"] for e in realistic_aws.realism("events") if e["behaviour"] == "private_dns_names"] == [
        f"InvalidParameter private DNS of {SECRETS} (endpoint {first})"]
    # Private DNS turned off frees the name; a deleted endpoint holds it only while it drains
    # (dependent_drain; off here).
    ec2.modify_vpc_endpoint(VpcEndpointId=first, PrivateDnsEnabled=False)
    second = ec2.create_vpc_endpoint(VpcId=vpc, ServiceName=SECRETS, VpcEndpointType="Interface", SubnetIds=[subnet])["VpcEndpoint"]["VpcEndpointId"]
    realistic_aws.realism("config", {"dependent_drain": {"enabled": False}})
    ec2.delete_vpc_endpoints(VpcEndpointIds=[second])
    ec2.create_vpc_endpoint(VpcId=vpc, ServiceName=SECRETS, VpcEndpointType="Interface", SubnetIds=[subnet])
    assert len([e for e in realistic_aws.realism("events") if e["behaviour"] == "private_dns_names"]) == 1


def stub_module(**params):
    defaults = dict.fromkeys(["route_table_ids", "subnet_ids", "security_group_ids", "policy", "private_dns_enabled"])
    defaults.update({"vpc_id": "vpc-1", "service": "com.amazonaws.us-east-1.s3", "vpc_endpoint_type": "Gateway", "tags": {"Name": "vpce-s3-t"},
                     "wait_timeout": 10})
    return StubModule(dict(defaults, **params))


def endpoint_answer(endpoint_id, state):
    return {"VpcEndpoint": {"VpcEndpointId": endpoint_id, "VpcEndpointType": "Gateway", "VpcId": "vpc-1", "ServiceName": "com.amazonaws.us-east-1.s3",
                            "State": state, "RouteTableIds": ["rtb-1"], "Tags": [{"Key": "Name", "Value": "vpce-s3-t"}]}}


def test_a_deleted_endpoint_answered_for_the_token_is_requested_again_with_a_token_that_counts_it():
    """EC2 answers a repeated token with the endpoint as it is now: one deleted since (no longer
    listed) makes the module ask again with that endpoint counted as listed."""
    from ansible_collections.bluegreen.migration.plugins.modules.vpc_endpoint_create import ensure

    ec2 = boto3.client("ec2", region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s")  # noqa: S106 (stubbed, never sent)
    tokens = []

    def record(params, **_kwargs):
        tokens.append(params["ClientToken"])

    ec2.meta.events.register("provide-client-params.ec2.CreateVpcEndpoint", record)
    request = {"VpcId": "vpc-1", "ServiceName": "com.amazonaws.us-east-1.s3", "VpcEndpointType": "Gateway", "RouteTableIds": ["rtb-1"],
               "TagSpecifications": [{"ResourceType": "vpc-endpoint", "Tags": [{"Key": "Name", "Value": "vpce-s3-t"}]}]}
    with Stubber(ec2) as stub:
        stub.add_response("describe_vpc_endpoints", {"VpcEndpoints": [endpoint_answer("vpce-0listed", "Deleted")["VpcEndpoint"]]}, {"Filters": ANY})
        stub.add_response("create_vpc_endpoint", endpoint_answer("vpce-0old", "Deleted"), dict(request, ClientToken=ANY))
        stub.add_response("create_vpc_endpoint", endpoint_answer("vpce-0new", "Available"), dict(request, ClientToken=ANY))
        module = stub_module(route_table_ids=["rtb-1"])
        hours = [datetime.datetime.now(datetime.timezone.utc)]
        with pytest.raises(Ended):
            ensure(module, ec2)
        hours.append(datetime.datetime.now(datetime.timezone.utc))
        stub.assert_no_pending_responses()
    assert module.result["vpc_endpoint"]["vpc_endpoint_id"] == "vpce-0new" and module.result["changed"] is True, module.result
    assert tokens in [[network.endpoint_client_token(request, listed, hour) for listed in (["vpce-0listed"], ["vpce-0listed", "vpce-0old"])]
                      for hour in hours]
    assert module.result["client_token"] == tokens[1]

    # Deleted again and again: the module stops, naming the endpoint and its state.
    with Stubber(ec2) as stub:
        stub.add_response("describe_vpc_endpoints", {"VpcEndpoints": []}, {"Filters": ANY})
        for number in range(4):
            stub.add_response("create_vpc_endpoint", endpoint_answer("vpce-0gone%d" % number, "Deleted"), dict(request, ClientToken=ANY))
        module = stub_module(route_table_ids=["rtb-1"])
        with pytest.raises(Ended):
            ensure(module, ec2)
    assert module.result["failed"] and "answered with the endpoint vpce-0gone3 of com.amazonaws.us-east-1.s3, deleted" in module.result["msg"], module.result
    # Still deleting, it holds the route: the module stops at once.
    with Stubber(ec2) as stub:
        stub.add_response("describe_vpc_endpoints", {"VpcEndpoints": []}, {"Filters": ANY})
        stub.add_response("create_vpc_endpoint", endpoint_answer("vpce-0going", "Deleting"), dict(request, ClientToken=ANY))
        module = stub_module(route_table_ids=["rtb-1"])
        with pytest.raises(Ended):
            ensure(module, ec2)
        stub.assert_no_pending_responses()
    assert module.result["failed"] and module.result["msg"].endswith("deleting: an earlier request with the client token %s made it. Run again "
                                                                     "once it is deleted" % module.result["client_token"]), module.result


def test_the_token_follows_the_request_the_listed_endpoints_and_the_hour():
    hour = datetime.datetime(2026, 12, 6, 10, 5, tzinfo=datetime.timezone.utc)
    request = {"VpcId": "vpc-1", "ServiceName": "s", "SubnetIds": ["subnet-1", "subnet-2"]}
    token = network.endpoint_client_token(request, ["vpce-b", "vpce-a"], hour)
    assert token.startswith("bluegreen-") and len(token) <= 64
    # The same within the hour, whatever the order of the listed ids.
    later = hour + datetime.timedelta(minutes=50)
    assert network.endpoint_client_token(dict(request), ["vpce-a", "vpce-b"], later) == token
    others = [
        network.endpoint_client_token(dict(request, SubnetIds=["subnet-1"]), ["vpce-a", "vpce-b"], hour),
        network.endpoint_client_token(dict(request, ServiceName="t"), ["vpce-a", "vpce-b"], hour),
        network.endpoint_client_token(request, ["vpce-a"], hour),
        network.endpoint_client_token(request, ["vpce-a", "vpce-b"], hour + datetime.timedelta(hours=1)),
    ]
    assert token not in others and len(set(others)) == len(others)


def test_a_private_dns_name_still_taken_after_the_retries_is_answered_as_held(monkeypatch):
    """The private DNS name refused: retried (an endpoint still deleting gives it back), then, still
    refused, AWS's message is the answer (the module then looks for an earlier request's endpoint);
    a route held is not retried."""
    monkeypatch.setattr(time, "sleep", lambda _seconds: None)
    ec2 = boto3.client("ec2", region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s")  # noqa: S106 (stubbed, never sent)
    request = {"VpcId": "vpc-1", "ServiceName": SECRETS, "VpcEndpointType": "Interface", "SubnetIds": ["subnet-1"], "ClientToken": "t"}
    taken = "private-dns-enabled cannot be set because there is already a conflicting DNS domain for secretsmanager.us-east-1.amazonaws.com"
    with Stubber(ec2) as stub:
        for _dummy in range(10):  # ten attempts in all
            stub.add_client_error("create_vpc_endpoint", "InvalidParameter", taken, 400, request)
        assert network.create_vpc_endpoint(ec2, request) == taken
        stub.assert_no_pending_responses()
    with Stubber(ec2) as stub:
        stub.add_client_error("create_vpc_endpoint", "InvalidParameter", taken, 400, request)
        stub.add_response("create_vpc_endpoint", endpoint_answer("vpce-0new", "Pending"), request)
        assert network.create_vpc_endpoint(ec2, request)["VpcEndpointId"] == "vpce-0new"
    with Stubber(ec2) as stub:
        stub.add_client_error("create_vpc_endpoint", "RouteAlreadyExists", "route table rtb-1 already has a route", 400, request)
        assert network.create_vpc_endpoint(ec2, request) == "route table rtb-1 already has a route"
        stub.assert_no_pending_responses()
