"""vpc_endpoint_create on the emulator: it creates an endpoint beside a deleted one of its service
(which AWS and moto still list, and amazon.aws.ec2_vpc_endpoint takes for the one asked for),
finds the one it made on a re-run, and in check mode only plans."""

import json

from tests.harness.aws import client, run_module

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
