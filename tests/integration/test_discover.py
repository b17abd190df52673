"""The blue_green_state module (through status.yml) in a busy account: the environment's ALB
is read by its name, never by listing every load balancer of the region with a DescribeTags
each (slow and throttled on accounts with hundreds of ALBs), and a same-named ALB that carries
another environment's tag is refused.

Only what discover and status read is built, with boto3: the ALB with its weighted listener,
the two target groups, the ECS cluster with both services; and 30 unrelated ALBs beside it.
"""


import pytest

from tests.harness.aws import client, recap, run_playbook
from tests.integration.test_migrator_lambda_role import inventory

pytestmark = pytest.mark.slow(seconds=5)

SUFFIX = "it-discover"
STATUS = "playbooks/status.yml"
UNRELATED = 30


def tags(pairs):
    return [{"Key": key, "Value": value} for key, value in pairs.items()]


def environment(ec2, elb, ecs):
    """Our environment's ALB, listener (blue live), target groups and services, plus
    UNRELATED other ALBs in the same subnets. Returns (our ALB ARN, the other ALB ARNs)."""
    vpc = ec2.create_vpc(CidrBlock="10.45.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.45.{i}.0/24", AvailabilityZone=f"us-east-1{z}")["Subnet"]["SubnetId"]
               for i, z in enumerate("ab")]
    others = [elb.create_load_balancer(Name=f"other-{index:02d}", Subnets=subnets,
                                       Tags=tags({"bluegreen:environment": f"other-{index:02d}"}))["LoadBalancers"][0]["LoadBalancerArn"]
              for index in range(UNRELATED)]
    alb = elb.create_load_balancer(Name=f"app-{SUFFIX}", Subnets=subnets,
                                   Tags=tags({"bluegreen:environment": SUFFIX, "bluegreen:component": "ecs_service"}))["LoadBalancers"][0]["LoadBalancerArn"]
    groups = {color: elb.create_target_group(Name=f"app-{color}-{SUFFIX}", Protocol="HTTP", Port=80, VpcId=vpc,
                                             TargetType="ip")["TargetGroups"][0]["TargetGroupArn"] for color in ("blue", "green")}
    elb.create_listener(LoadBalancerArn=alb, Protocol="HTTP", Port=80, Tags=tags({"bluegreen:live-color": "blue"}), DefaultActions=[
        {"Type": "forward", "ForwardConfig": {"TargetGroups": [{"TargetGroupArn": groups["blue"], "Weight": 100},
                                                               {"TargetGroupArn": groups["green"], "Weight": 0}],
                                              "TargetGroupStickinessConfig": {"Enabled": False}}}])
    ecs.create_cluster(clusterName=f"app-{SUFFIX}")
    for color in ("blue", "green"):
        definition = ecs.register_task_definition(
            family=f"app-{color}-{SUFFIX}", networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256", memory="512",
            containerDefinitions=[{"name": "app", "image": f"nginx:{color}", "portMappings": [{"containerPort": 80}]}],
        )["taskDefinition"]["taskDefinitionArn"]
        ecs.create_service(cluster=f"app-{SUFFIX}", serviceName=f"app-{color}-{SUFFIX}", taskDefinition=definition,
                           desiredCount=2, launchType="FARGATE")
    return alb, others


def status(tmp_path):
    proc = run_playbook(STATUS, inventory=inventory(tmp_path, SUFFIX))
    return proc, recap(proc.stdout).get(SUFFIX, {}), " ".join(proc.stdout.split())


def members(params, name):
    """Values of a flattened query-protocol list parameter (Names.member.1, ...)."""
    prefix = f"{name}.member."
    return [value for key, value in sorted(params.items()) if key.startswith(prefix)]


def test_discover_reads_the_one_alb_by_name_among_many_and_checks_its_environment_tag(aws, tmp_path):
    ec2, elb = client("ec2"), client("elbv2")
    alb, others = environment(ec2, elb, client("ecs"))

    aws.reset_recording()
    proc, counts, text = status(tmp_path)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    assert counts["changed"] == 0 and f"live color blue, http://app-{SUFFIX}-" in text
    assert "blue (live): weight 100, 2/2 tasks running" in text and "green: weight 0" in text, text[-3000:]

    calls = [c for c in aws.requests() if c["service"] == "elasticloadbalancing"]
    lookups = [c["params"] for c in calls if c["action"] == "DescribeLoadBalancers"]
    assert lookups and all(members(p, "Names") == [f"app-{SUFFIX}"] for p in lookups), lookups
    tagged = [arn for c in calls if c["action"] == "DescribeTags" for arn in members(c["params"], "ResourceArns")]
    assert not set(tagged) & set(others), f"DescribeTags named {len(set(tagged) & set(others))} unrelated ALBs"
    # One read: the ALB by name, its listeners, the tags of both in one call.
    count = {action: sum(c["action"] == action for c in calls) for action in ("DescribeLoadBalancers", "DescribeListeners", "DescribeTags")}
    assert count == {"DescribeLoadBalancers": 1, "DescribeListeners": 1, "DescribeTags": 1}, count

    # A same-named ALB of another environment is refused, naming the tag it carries.
    elb.add_tags(ResourceArns=[alb], Tags=tags({"bluegreen:environment": "someone-else"}))
    proc, counts, text = status(tmp_path)
    assert proc.returncode != 0 and counts.get("failed") == 1
    assert (f"Load balancer app-{SUFFIX} in us-east-1 carries bluegreen:environment=someone-else, not {SUFFIX}: "
            "it belongs to something else") in text, text[-3000:]
