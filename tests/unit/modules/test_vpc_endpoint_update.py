"""vpc_endpoint_update on the emulator: what amazon.aws.ec2_vpc_endpoint cannot change on an
endpoint it finds (its policy, its private DNS) is put back in place, in check mode only planned."""

import json

from tests.harness.aws import client, run_module


def test_endpoint_policy_and_private_dns_are_put_back(aws):
    """An interface endpoint narrowed to one bucket's objects and without private DNS by hand:
    vpc_endpoint_update puts back the full-access policy and private DNS in one ModifyVpcEndpoint
    (moto keeps PrivateDnsEnabled as created, so the request is what is checked for it)."""
    ec2 = client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.32.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.32.1.0/24")["Subnet"]["SubnetId"]
    narrowed = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::one/*"}]}
    endpoint = ec2.create_vpc_endpoint(
        VpcId=vpc, ServiceName="com.amazonaws.us-east-1.secretsmanager", VpcEndpointType="Interface", SubnetIds=[subnet],
        PrivateDnsEnabled=False, PolicyDocument=json.dumps(narrowed),
    )["VpcEndpoint"]["VpcEndpointId"]
    full_access = {"Version": "2008-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]}
    args = {"vpc_endpoint_id": endpoint, "policy": full_access, "private_dns_enabled": True}

    aws.reset_recording()
    planned = run_module("vpc_endpoint_update", args, check=True, diff=True)
    assert planned["changed"] is True and aws.mutating_requests() == []
    before, after = planned["diff"]["before"], planned["diff"]["after"]
    assert (before["policy"], after["policy"]) == (json.dumps(narrowed, sort_keys=True), "full access (AWS's default policy)")
    assert (before["private_dns_enabled"], after["private_dns_enabled"]) == (False, True)

    assert run_module("vpc_endpoint_update", args)["changed"] is True
    [modify] = aws.mutating_requests()
    assert modify["action"] == "ModifyVpcEndpoint" and modify["params"]["PrivateDnsEnabled"] in (True, "true"), modify
    assert json.loads(modify["params"]["PolicyDocument"]) == full_access
    assert json.loads(ec2.describe_vpc_endpoints(VpcEndpointIds=[endpoint])["VpcEndpoints"][0]["PolicyDocument"]) == full_access
    assert run_module("vpc_endpoint_update", {"vpc_endpoint_id": endpoint, "policy": full_access})["changed"] is False

    gateway = ec2.create_vpc_endpoint(VpcId=vpc, ServiceName="com.amazonaws.us-east-1.s3", VpcEndpointType="Gateway")["VpcEndpoint"]["VpcEndpointId"]
    wrong = run_module("vpc_endpoint_update", {"vpc_endpoint_id": gateway, "private_dns_enabled": True})
    assert wrong.get("failed") is True and "private_dns_enabled: only for Interface endpoints" in wrong["msg"], wrong
