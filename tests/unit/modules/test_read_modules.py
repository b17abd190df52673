"""elb_load_balancer_info and iam_roles_info on the emulator: what they return, a missing
resource reported instead of failing, and how many API calls a read costs."""

import json

from tests.harness.aws import client, run_module

TRUST = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
DATABASE_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf"
READ_SECRET = {"Version": "2012-10-17", "Statement": [{"Sid": "Read", "Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": DATABASE_ARN}]}
ECS_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"


def actions(emulator, service):
    return [c["action"] for c in emulator.requests() if c["service"] == service]


def test_elb_load_balancer_info_reads_listeners_and_tags_in_three_calls(aws):
    ec2, elb = client("ec2"), client("elbv2")
    missing = run_module("elb_load_balancer_info", {"name": "app-t1"})
    assert missing["changed"] is False and missing["exists"] is False and missing["load_balancer"] == {}

    vpc = ec2.create_vpc(CidrBlock="10.31.0.0/16")["Vpc"]["VpcId"]
    subnets = sorted(ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.31.{i}.0/24", AvailabilityZone=f"us-east-1{z}")["Subnet"]["SubnetId"]
                     for i, z in enumerate("ab"))
    group = ec2.create_security_group(GroupName="alb-t1", Description="alb", VpcId=vpc)["GroupId"]
    alb = elb.create_load_balancer(Name="app-t1", Subnets=subnets, SecurityGroups=[group],
                                   Tags=[{"Key": "Name", "Value": "app-t1"}])["LoadBalancers"][0]["LoadBalancerArn"]
    target_group = elb.create_target_group(Name="app-blue-t1", Protocol="HTTP", Port=80, VpcId=vpc, TargetType="ip")["TargetGroups"][0]["TargetGroupArn"]
    forward = {"Type": "forward", "ForwardConfig": {"TargetGroups": [{"TargetGroupArn": target_group, "Weight": 100}],
                                                    "TargetGroupStickinessConfig": {"Enabled": False}}}
    # 21 listeners: the tags need two DescribeTags calls (20 ARNs at most per call).
    for port in range(8000, 8020):
        elb.create_listener(LoadBalancerArn=alb, Protocol="HTTP", Port=port, DefaultActions=[forward])
    traffic = elb.create_listener(LoadBalancerArn=alb, Protocol="HTTP", Port=80, DefaultActions=[forward])["Listeners"][0]["ListenerArn"]
    elb.add_tags(ResourceArns=[traffic], Tags=[{"Key": "bluegreen:live-color", "Value": "green"}])

    aws.reset_recording()
    found = run_module("elb_load_balancer_info", {"name": "app-t1"}, check=True)
    assert found["changed"] is False and found["exists"] is True
    balancer = found["load_balancer"]
    assert balancer["load_balancer_arn"] == alb and balancer["subnets"] == subnets and balancer["security_groups"] == [group]
    assert balancer["tags"] == {"Name": "app-t1"}
    assert [item["port"] for item in balancer["listeners"]] == [80] + list(range(8000, 8020))
    first = balancer["listeners"][0]
    assert first["listener_arn"] == traffic and first["live_color"] == "green" and first["tags"] == {"bluegreen:live-color": "green"}
    assert first["default_actions"][0]["forward_config"]["target_groups"] == [{"target_group_arn": target_group, "weight": 100}]
    # The forward in the shape elb_listener_weights takes: weights sorted by ARN, stickiness.
    assert first["weights"] == [{"target_group_arn": target_group, "weight": 100}] and first["stickiness"] == {"enabled": False}
    assert all(item["live_color"] is None for item in balancer["listeners"][1:])
    assert sorted(actions(aws, "elasticloadbalancing")) == ["DescribeListeners", "DescribeLoadBalancers", "DescribeTags", "DescribeTags"]


def test_iam_roles_info_reads_trust_managed_and_inline_policies(aws):
    iam = client("iam")
    iam.create_role(RoleName="app-execution-t1", AssumeRolePolicyDocument=json.dumps(TRUST), Description="execution",
                    Tags=[{"Key": "Name", "Value": "app-execution-t1"}])
    iam.attach_role_policy(RoleName="app-execution-t1", PolicyArn=ECS_POLICY)
    iam.put_role_policy(RoleName="app-execution-t1", PolicyName="read-secret", PolicyDocument=json.dumps(READ_SECRET))
    iam.create_role(RoleName="app-task-t1", AssumeRolePolicyDocument=json.dumps(TRUST))

    aws.reset_recording()
    result = run_module("iam_roles_info", {"names": ["app-execution-t1", "app-task-t1", "app-missing-t1"]}, check=True)
    assert result["changed"] is False
    roles = result["roles"]
    assert roles["app-missing-t1"] == {"exists": False, "role_name": "app-missing-t1"}
    execution = roles["app-execution-t1"]
    assert execution["exists"] is True and execution["arn"] == "arn:aws:iam::123456789012:role/app-execution-t1"
    assert execution["trust_policy"] == TRUST and execution["description"] == "execution"
    assert execution["managed_policy_arns"] == [ECS_POLICY]
    assert execution["inline_policies"] == {"read-secret": READ_SECRET}
    assert execution["tags"] == {"Name": "app-execution-t1"}
    task = roles["app-task-t1"]
    assert (task["managed_policy_arns"], task["inline_policies"], task["tags"], task["description"]) == ([], {}, {}, "")
    # Per existing role: GetRole, ListAttachedRolePolicies, ListRolePolicies (+ GetRolePolicy per inline policy).
    assert sorted(actions(aws, "iam")) == sorted(["GetRole"] * 3 + ["ListAttachedRolePolicies", "ListRolePolicies"] * 2 + ["GetRolePolicy"])
