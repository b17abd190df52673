"""The ecs_service role on the emulator, for what the molecule scenario cannot show, in one
environment's life: a re-run during a rollout (traffic split, idle color on a new revision, new
image in the inventory) moves no traffic and changes neither service's task definition; once
green is live (listener tag) a re-run scales green, not blue; changes made by hand to the load
balancer, its listeners and the IAM roles are put back without moving traffic, and the re-run
after that only reads; a certificate moves the traffic to HTTPS with the same weights; teardown
leaves nothing and a second teardown is a no-op. The network inputs are found by tag and name
(no bluegreen_network in the play)."""

import json

import pytest

from tests.harness.aws import client, recap, role_playbook, run_playbook

pytestmark = pytest.mark.slow(seconds=140)

SUFFIX = "it-ecs"
PLAYBOOK = role_playbook("ecs_service", post_tasks="""\
  post_tasks:
    - name: Save the published fact
      ansible.builtin.copy:
        content: "{{ bluegreen_ecs_service | to_json }}"
        dest: "{{ fact_file }}"
        mode: "0600"
""")


def network(ec2):
    """What the network role leaves behind for this role: VPC, public and private subnets, alb and app groups."""

    def tags(kind, name, extra=()):
        found = [{"Key": "bluegreen:environment", "Value": SUFFIX}, {"Key": "bluegreen:component", "Value": "network"}, {"Key": "Name", "Value": name}]
        return [{"ResourceType": kind, "Tags": found + list(extra)}]

    vpc = ec2.create_vpc(CidrBlock="10.43.0.0/16", TagSpecifications=tags("vpc", f"vpc-{SUFFIX}"))["Vpc"]["VpcId"]
    subnets = {"public": [], "private": []}
    for index, zone in enumerate("ab"):
        for tier, base in (("public", 0), ("private", 10)):
            subnet = ec2.create_subnet(
                VpcId=vpc, CidrBlock=f"10.43.{base + index}.0/24", AvailabilityZone=f"us-east-1{zone}",
                TagSpecifications=tags("subnet", f"{tier}-{zone}-{SUFFIX}", [{"Key": "bluegreen:tier", "Value": tier}]),
            )["Subnet"]["SubnetId"]
            subnets[tier].append(subnet)
    groups = {role: ec2.create_security_group(GroupName=f"{role}-{SUFFIX}", Description=role, VpcId=vpc,
                                              TagSpecifications=tags("security-group", f"{role}-{SUFFIX}"))["GroupId"] for role in ("alb", "app")}
    return subnets, groups


def play(tmp_path, state="present", **extra):
    fact_file = tmp_path / "bluegreen_ecs_service.json"
    playbook = tmp_path / "ecs_service.yml"
    playbook.write_text(PLAYBOOK)
    extra_vars = {"environment_suffix": SUFFIX, "ecs_service_state": state, "fact_file": str(fact_file), **extra}
    proc = run_playbook(playbook, inventory="localhost,", extra_vars=extra_vars)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    return recap(proc.stdout)["localhost"], json.loads(fact_file.read_text())


def forward(elb, listener_arn):
    listener = elb.describe_listeners(ListenerArns=[listener_arn])["Listeners"][0]
    return {tg["TargetGroupArn"]: tg["Weight"] for tg in listener["DefaultActions"][0]["ForwardConfig"]["TargetGroups"]}


def set_weights(elb, listener_arn, weights, live_color=None):
    groups = [{"TargetGroupArn": arn, "Weight": weight} for arn, weight in weights.items()]
    elb.modify_listener(ListenerArn=listener_arn, DefaultActions=[
        {"Type": "forward", "ForwardConfig": {"TargetGroups": groups, "TargetGroupStickinessConfig": {"Enabled": False}}}])
    if live_color:
        elb.add_tags(ResourceArns=[listener_arn], Tags=[{"Key": "bluegreen:live-color", "Value": live_color}])


def services(ecs, fact):
    names = [fact["services"][color]["name"] for color in ("blue", "green")]
    found = {s["serviceName"]: s for s in ecs.describe_services(cluster=fact["cluster_name"], services=names)["services"]}
    return {color: found[fact["services"][color]["name"]] for color in ("blue", "green")}


SECRET_ARN = f"arn:aws:secretsmanager:us-east-1:123456789012:secret:aurora-credentials-{SUFFIX}-AbCdEf"
ECS_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"


def trust_services(iam, role_name):
    trust = iam.get_role(RoleName=role_name)["Role"]["AssumeRolePolicyDocument"]
    trust = json.loads(trust) if isinstance(trust, str) else trust
    return [s["Principal"]["Service"] for s in trust["Statement"]]


def listeners(elb, alb_arn):
    return {item["Port"]: item for item in elb.describe_listeners(LoadBalancerArn=alb_arn)["Listeners"]}


def outcome(stdout, task):
    """How the first task whose name starts with `task` ended: ok, changed, skipping or failed."""
    lines = stdout.splitlines()
    for index, line in enumerate(lines):
        if line.startswith("TASK [") and "ecs_service : " + task in line:
            following = [item for item in lines[index + 1:] if item.strip()]
            return following[0].split(":", 1)[0] if following else None
    return None


def calls(emulator, service, prefixes=("",)):
    return [c["action"] for c in emulator.requests() if c["service"] == service and c["action"].startswith(prefixes)]


def test_reruns_keep_the_rollout_drift_is_corrected_and_teardown_is_complete(aws, tmp_path):
    ec2, ecs, elb, iam, acm = client("ec2"), client("ecs"), client("elbv2"), client("iam"), client("acm")
    subnets, groups = network(ec2)
    base = {"ecs_service_db_secret_arn": SECRET_ARN}

    # A new environment: blue live with 100/0, green idle at 0, both on their first revision.
    # (The idempotent second run is the molecule scenario's job.)
    counts, fact = play(tmp_path, **base)
    assert counts["changed"] > 0 and counts["failed"] == 0
    blue_tg, green_tg = fact["target_groups"]["blue"], fact["target_groups"]["green"]
    listener = fact["listener_arn"]
    assert fact["live_color"] == "blue" and forward(elb, listener) == {blue_tg: 100, green_tg: 0}
    assert fact["services"]["blue"]["desired_count"] == 2 and fact["services"]["green"]["desired_count"] == 0
    current = services(ecs, fact)
    first_blue = current["blue"]["taskDefinition"]
    assert first_blue.endswith(f"app-blue-{SUFFIX}:1")
    network_config = current["blue"]["networkConfiguration"]["awsvpcConfiguration"]
    assert sorted(network_config["subnets"]) == sorted(subnets["private"]) and network_config["securityGroups"] == [groups["app"]]
    assert network_config["assignPublicIp"] == "DISABLED"
    alb = elb.describe_load_balancers(LoadBalancerArns=[fact["alb_arn"]])["LoadBalancers"][0]
    assert alb["Scheme"] == "internet-facing" and alb["SecurityGroups"] == [groups["alb"]]
    assert sorted(z["SubnetId"] for z in alb["AvailabilityZones"]) == sorted(subnets["public"])

    # A rollout in progress: green on a new revision with 2 tasks, traffic split 50/50.
    rollout = ecs.register_task_definition(
        family=f"app-green-{SUFFIX}", networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="512", memory="1024",
        containerDefinitions=[{"name": "app", "image": "amazon/amazon-ecs-sample:rollout", "portMappings": [{"containerPort": 80}]}],
    )["taskDefinition"]["taskDefinitionArn"]
    green_service = ecs.update_service(cluster=fact["cluster_name"], service=fact["services"]["green"]["name"], taskDefinition=rollout, desiredCount=2)
    # ... recorded as the rollout records the image it released, once the service is steady.
    ecs.tag_resource(resourceArn=green_service["service"]["serviceArn"], tags=[{"key": "bluegreen:image", "value": "amazon/amazon-ecs-sample:rollout"}])
    set_weights(elb, listener, {blue_tg: 50, green_tg: 50})

    # The inventory meanwhile names a new image: it only seeds new families, so no revision is
    # registered (the image is the rollout's) and nothing is deployed.
    counts, fact = play(tmp_path, **base, ecs_service_image="amazon/amazon-ecs-sample:next")
    assert counts["failed"] == 0
    assert forward(elb, listener) == {blue_tg: 50, green_tg: 50}, "a re-run moved traffic"
    current = services(ecs, fact)
    assert current["blue"]["taskDefinition"] == first_blue, "a re-run changed the live service's task definition"
    assert current["green"]["taskDefinition"] == rollout and current["green"]["desiredCount"] == 2, "a re-run undid the rollout"
    assert ecs.describe_task_definition(taskDefinition=f"app-blue-{SUFFIX}")["taskDefinition"]["revision"] == 1
    # green's family, registered by hand with fewer settings, gets them back on the image it has.
    green_latest = ecs.describe_task_definition(taskDefinition=f"app-green-{SUFFIX}")["taskDefinition"]
    assert green_latest["containerDefinitions"][0]["image"] == "amazon/amazon-ecs-sample:rollout"
    assert fact["live_color"] == "blue"

    # The rollout completed: green live (tag), blue drained. A re-run scales green, not blue.
    set_weights(elb, listener, {blue_tg: 0, green_tg: 100}, live_color="green")
    ecs.update_service(cluster=fact["cluster_name"], service=fact["services"]["blue"]["name"], desiredCount=0)
    base |= {"ecs_service_image": "amazon/amazon-ecs-sample:next", "ecs_service_desired_count": 3}
    counts, fact = play(tmp_path, **base)
    assert counts["failed"] == 0
    current = services(ecs, fact)
    assert fact["live_color"] == "green" and forward(elb, listener) == {blue_tg: 0, green_tg: 100}
    assert current["green"]["desiredCount"] == 3 and current["green"]["taskDefinition"] == rollout
    assert current["blue"]["desiredCount"] == 0 and current["blue"]["taskDefinition"] == first_blue

    # Drift by hand while a rollout back to blue is under way (30/70).
    alb_arn = fact["alb_arn"]
    execution, task = f"app-execution-{SUFFIX}-us-east-1", f"app-task-{SUFFIX}-us-east-1"
    alb_tags = {t["Key"]: t["Value"] for t in elb.describe_tags(ResourceArns=[alb_arn])["TagDescriptions"][0]["Tags"]}
    set_weights(elb, listener, {blue_tg: 30, green_tg: 70})
    elb.add_tags(ResourceArns=[alb_arn], Tags=[{"Key": "Name", "Value": "renamed"}, {"Key": "extra", "Value": "by-hand"}])
    elb.set_security_groups(LoadBalancerArn=alb_arn, SecurityGroups=[groups["app"]])
    elb.create_listener(LoadBalancerArn=alb_arn, Protocol="HTTP", Port=8080, DefaultActions=[
        {"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "200", "ContentType": "text/plain"}}])
    iam.attach_role_policy(RoleName=execution, PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    iam.update_role(RoleName=execution, Description="edited by hand")
    iam.put_role_policy(RoleName=execution, PolicyName=f"app-db-secret-{SUFFIX}", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": "*"}]}))
    iam.update_assume_role_policy(RoleName=task, PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}))
    iam.put_role_policy(RoleName=task, PolicyName="by-hand", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}))
    iam.tag_role(RoleName=task, Tags=[{"Key": "bluegreen:environment", "Value": "other"}])
    # ... and to the target groups, the log group, the cluster, the alarm topic and an alarm.
    elb.modify_target_group(TargetGroupArn=green_tg, HealthCheckPath="/by-hand", HealthyThresholdCount=7)
    log_group = f"/aws/ecs/app-{SUFFIX}"
    logs, watch, sns = client("logs"), client("cloudwatch"), client("sns")
    logs.put_retention_policy(logGroupName=log_group, retentionInDays=1)
    # (the emulator has no UpdateClusterSettings: a tag stands for the cluster's drift)
    ecs.tag_resource(resourceArn=fact["cluster_arn"], tags=[{"key": "owner", "value": "by-hand"}])
    sns.set_topic_attributes(TopicArn=fact["alarm_topic_arn"], AttributeName="DisplayName", AttributeValue="by hand")
    cpu_alarm = watch.describe_alarms(AlarmNames=[f"app-blue-cpu-{SUFFIX}"])["MetricAlarms"][0]
    watch.put_metric_alarm(**{key: cpu_alarm[key] for key in (
        "AlarmName", "AlarmDescription", "Namespace", "MetricName", "Statistic", "ComparisonOperator", "Period",
        "EvaluationPeriods", "Dimensions", "TreatMissingData", "AlarmActions")}, Threshold=99.0)
    health_checks = {arn: elb.describe_target_groups(TargetGroupArns=[arn])["TargetGroups"][0]["HealthCheckPath"] for arn in (blue_tg, green_tg)}
    assert health_checks == {blue_tg: "/", green_tg: "/by-hand"}

    # The next run puts everything back, and the traffic stays where the rollout put it.
    counts, fact = play(tmp_path, **base)
    assert counts["changed"] > 0 and counts["failed"] == 0
    assert {t["Key"]: t["Value"] for t in elb.describe_tags(ResourceArns=[alb_arn])["TagDescriptions"][0]["Tags"]} == alb_tags
    assert elb.describe_load_balancers(LoadBalancerArns=[alb_arn])["LoadBalancers"][0]["SecurityGroups"] == [groups["alb"]]
    assert sorted(listeners(elb, alb_arn)) == [80, 8080]
    assert forward(elb, listener) == {blue_tg: 30, green_tg: 70}, "correcting the load balancer moved traffic"
    assert fact["live_color"] == "green" and fact["listener_arn"] == listener
    attached = iam.list_attached_role_policies(RoleName=execution)["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == [ECS_POLICY]
    assert iam.get_role(RoleName=execution)["Role"]["Description"] == f"ECS task execution role of {SUFFIX}"
    secret_policy = iam.get_role_policy(RoleName=execution, PolicyName=f"app-db-secret-{SUFFIX}")["PolicyDocument"]
    assert [s["Resource"] for s in secret_policy["Statement"]] == [SECRET_ARN]
    assert trust_services(iam, task) == ["ecs-tasks.amazonaws.com"]
    assert iam.list_role_policies(RoleName=task)["PolicyNames"] == []
    task_tags = {t["Key"]: t["Value"] for t in iam.get_role(RoleName=task)["Role"]["Tags"]}
    assert task_tags["bluegreen:environment"] == SUFFIX
    green_group = elb.describe_target_groups(TargetGroupArns=[green_tg])["TargetGroups"][0]
    assert (green_group["HealthCheckPath"], green_group["HealthyThresholdCount"]) == ("/", 2)
    assert logs.describe_log_groups(logGroupNamePrefix=log_group)["logGroups"][0]["retentionInDays"] == 7
    assert "owner" not in {t["key"] for t in ecs.list_tags_for_resource(resourceArn=fact["cluster_arn"])["tags"]}
    assert sns.get_topic_attributes(TopicArn=fact["alarm_topic_arn"])["Attributes"]["DisplayName"] == f"bluegreen {SUFFIX} alarms"
    assert watch.describe_alarms(AlarmNames=[f"app-blue-cpu-{SUFFIX}"])["MetricAlarms"][0]["Threshold"] == 80.0

    # In shape: the tier, the task definitions, the services and the roles are read once and
    # nothing is written; no writer runs. green runs a revision older than its family's latest
    # (the one put back above): described too, by its ARN.
    aws.reset_recording()
    proc = run_playbook(tmp_path / "ecs_service.yml", inventory="localhost,", extra_vars={
        "environment_suffix": SUFFIX, "ecs_service_state": "present", "fact_file": str(tmp_path / "bluegreen_ecs_service.json"), **base})
    counts = recap(proc.stdout)["localhost"]
    assert counts["changed"] == 0
    assert calls(aws, "elasticloadbalancing", ("DescribeLoadBalancers", "DescribeListeners")) == ["DescribeLoadBalancers", "DescribeListeners"]
    # Both colors' target groups in one call.
    assert calls(aws, "elasticloadbalancing", ("DescribeTargetGroups",)) == ["DescribeTargetGroups"]
    assert calls(aws, "monitoring", ("DescribeAlarms",)) == ["DescribeAlarms"]
    assert calls(aws, "ecs", ("DescribeClusters",)) == ["DescribeClusters"]
    assert calls(aws, "ecs", ("DescribeServices",)) == ["DescribeServices"]
    assert calls(aws, "ecs", ("DescribeTaskDefinition",)) == ["DescribeTaskDefinition"] * 3
    assert calls(aws, "ecs", ("ListTaskDefinitions",)) == []
    writers = ("Log group of the containers", "Target groups the plan", "Cluster", "SNS topic of", "CPU, unhealthy host", "Internet-facing load balancer",
               "Task definitions of the blue and green", "Blue and green services the plan")
    # The plan names nothing for them: their task file is not included, so none of them even starts.
    assert outcome(proc.stdout, "Log group, target groups, load balancer") == "skipping"
    assert {name: outcome(proc.stdout, name) for name in writers} == dict.fromkeys(writers)
    assert sorted(calls(aws, "iam")) == sorted(["GetRole", "ListAttachedRolePolicies", "ListRolePolicies", "GetRolePolicy"]
                                               + ["GetRole", "ListAttachedRolePolicies", "ListRolePolicies"])
    assert [c["action"] for c in aws.mutating_requests()] == []

    # A certificate: HTTPS 443 takes the traffic with the same weights, 80 redirects; a re-run
    # of that shape changes nothing either.
    certificate = acm.request_certificate(DomainName="app.example.com")["CertificateArn"]
    counts, fact = play(tmp_path, **base, ecs_service_certificate_arn=certificate)
    assert counts["changed"] > 0
    found = listeners(elb, alb_arn)
    assert sorted(found) == [80, 443, 8443] and found[443]["Certificates"][0]["CertificateArn"] == certificate
    # The test listener moved to HTTPS 8443 and still forwards to the idle color (blue: green is live).
    test_action = found[8443]["DefaultActions"][0]
    test_targets = [g["TargetGroupArn"] for g in (test_action.get("ForwardConfig") or {}).get("TargetGroups", [])] or [test_action["TargetGroupArn"]]
    assert found[8443]["Protocol"] == "HTTPS" and test_targets == [blue_tg]
    assert found[80]["DefaultActions"][0]["Type"] == "redirect"
    assert fact["listener_arn"] == found[443]["ListenerArn"] and forward(elb, fact["listener_arn"]) == {blue_tg: 30, green_tg: 70}
    aws.reset_recording()
    counts, dummy = play(tmp_path, **base, ecs_service_certificate_arn=certificate)
    assert counts["changed"] == 0
    assert calls(aws, "elasticloadbalancing", ("DescribeLoadBalancers", "DescribeListeners")) == ["DescribeLoadBalancers", "DescribeListeners"]

    # Teardown: nothing of the environment is left, and a second teardown changes nothing.
    counts, fact = play(tmp_path, state="absent")
    assert counts["changed"] > 0 and fact == {}
    counts, dummy = play(tmp_path, state="absent")
    assert counts["changed"] == 0
    assert [lb["LoadBalancerName"] for lb in elb.describe_load_balancers()["LoadBalancers"]] == []
    assert [tg["TargetGroupName"] for tg in elb.describe_target_groups()["TargetGroups"]] == []
    assert all(c["status"] == "INACTIVE" for c in ecs.describe_clusters(clusters=[f"app-{SUFFIX}"])["clusters"])
    for color in ("blue", "green"):
        assert ecs.list_task_definitions(familyPrefix=f"app-{color}-{SUFFIX}", status="ACTIVE")["taskDefinitionArns"] == []
    roles = [r["RoleName"] for r in client("iam").list_roles()["Roles"]]
    assert not [r for r in roles if f"-{SUFFIX}-" in r]
    assert client("logs").describe_log_groups(logGroupNamePrefix=f"/aws/ecs/app-{SUFFIX}")["logGroups"] == []
    assert client("cloudwatch").describe_alarms(AlarmNamePrefix="app-")["MetricAlarms"] == []
    assert not [t for t in client("sns").list_topics()["Topics"] if t["TopicArn"].endswith(f"alarms-{SUFFIX}")]
