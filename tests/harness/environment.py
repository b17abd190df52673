"""What a whole environment leaves in the emulated account, and where its database password
may be: shared by the lifecycle tests (rollout module's teardown, crash-resume, teardown)."""

import ipaddress
import json

from tests.harness.aws import client


def register_healthy_targets(suffix):
    """Two targets per color's target group, with IPs of the private subnets: the emulator runs
    no task, and moto reports a registered target healthy, so a rollout's target gate passes."""
    ec2, elb = client("ec2"), client("elbv2")
    private = ec2.describe_subnets(Filters=[{"Name": "tag:bluegreen:environment", "Values": [suffix]},
                                            {"Name": "tag:bluegreen:tier", "Values": ["private"]}])["Subnets"]
    for offset, color in enumerate(("blue", "green")):
        arn = elb.describe_target_groups(Names=[f"app-{color}-{suffix}"])["TargetGroups"][0]["TargetGroupArn"]
        ips = [str(ipaddress.ip_network(s["CidrBlock"])[10 + offset]) for s in private[:2]]
        elb.register_targets(TargetGroupArn=arn, Targets=[{"Id": ip, "Port": 80} for ip in ips])


def the_password():
    """The ARN of the environment's one secret and the password it holds."""
    sm = client("secretsmanager")
    secrets = sm.list_secrets()["SecretList"]
    assert len(secrets) == 1
    password = json.loads(sm.get_secret_value(SecretId=secrets[0]["ARN"])["SecretString"])["password"]
    assert len(password) >= 16
    return secrets[0]["ARN"], password


def assert_password_stays_in_secrets_manager(emulator, secret_arn, password, outputs):
    """Not in the Lambda's environment, any task definition, any API call but those that store
    it, or any file under outputs/."""
    lam = client("lambda")
    functions = lam.list_functions()["Functions"]
    assert len(functions) == 1
    assert password not in json.dumps(functions[0].get("Environment", {}).get("Variables", {}))
    assert password not in json.dumps(lam.get_function_configuration(FunctionName=functions[0]["FunctionName"]), default=str)

    # Every task definition revision (blue, green, rollout): the secret only by ARN, via valueFrom.
    ecs = client("ecs")
    arns = ecs.list_task_definitions()["taskDefinitionArns"]
    assert arns
    for arn in arns:
        definition = ecs.describe_task_definition(taskDefinition=arn)["taskDefinition"]
        assert password not in json.dumps(definition, default=str), arn
        for container in definition["containerDefinitions"]:
            assert all(e["name"] != "DB_PASSWORD" for e in container.get("environment", [])), arn
            for secret in container.get("secrets", []):
                assert secret["valueFrom"].startswith(secret_arn), (arn, secret)

    stored = {(c["service"], c["action"]) for c in emulator.requests() if password in json.dumps(c["params"])}
    assert stored <= {("secretsmanager", "CreateSecret"), ("secretsmanager", "PutSecretValue"), ("rds", "CreateDBCluster"), ("rds", "ModifyDBCluster")}, stored

    files = sorted(p for p in outputs.rglob("*") if p.is_file())
    assert files, "the deploy wrote no outputs"
    for path in files:
        assert password not in path.read_text(), path


def resource_id(arn):
    """The id at the end of an ARN (natgateway/nat-1 -> nat-1, cluster-snapshot:rds:x -> rds:x)."""
    return arn.split(":", 6)[-1].split("/")[-1]


def leftovers(suffix):
    """Everything of the environment that still exists, per service (empty when all is gone).
    The account is fresh: every NAT gateway, address, endpoint and interface in it is counted."""
    tag = {"Name": "tag:bluegreen:environment", "Values": [suffix]}
    ec2, elbv2, ecs, rds = client("ec2"), client("elbv2"), client("ecs"), client("rds")
    # moto keeps a deleted NAT gateway (state deleted, tags and all) and never deletes its network
    # interface; AWS removes both. Those are not leftovers of the teardown.
    deleted_nats = [n for n in ec2.describe_nat_gateways()["NatGateways"] if n["State"] == "deleted"]
    moto_kept = {n["NatGatewayId"] for n in deleted_nats} | {a["NetworkInterfaceId"] for n in deleted_nats for a in n.get("NatGatewayAddresses", [])}
    # moto also keeps a deleted Aurora cluster's automated snapshot (rds:<cluster>-<date>), which
    # AWS deletes with the cluster (DeleteAutomatedBackups defaults to true).
    live_db_clusters = {c["DBClusterIdentifier"] for c in rds.describe_db_clusters()["DBClusters"]}
    moto_kept |= {
        s["DBClusterSnapshotIdentifier"]
        for s in rds.describe_db_cluster_snapshots(SnapshotType="automated")["DBClusterSnapshots"]
        if s["DBClusterIdentifier"] not in live_db_clusters
    }
    clusters = ecs.describe_clusters(clusters=ecs.list_clusters()["clusterArns"] or ["none"])["clusters"]
    active = [c["clusterArn"] for c in clusters if c.get("status") == "ACTIVE"]
    active_services = [s for c in active for s in ecs.list_services(cluster=c)["serviceArns"]]
    # ACTIVE and INACTIVE: AWS keeps listing a deregistered revision until it is deleted.
    active_task_definitions = [arn for status in ("ACTIVE", "INACTIVE") for arn in ecs.list_task_definitions(status=status)["taskDefinitionArns"]]
    # moto's tagging API keeps listing ECS clusters, services and task definitions after they
    # are deleted or deregistered; the ECS API itself (checked below) is the judge for those.
    ecs_alive = set(active) | set(active_services) | set(active_task_definitions)
    tagged = client("resourcegroupstaggingapi").get_resources(TagFilters=[{"Key": "bluegreen:environment", "Values": [suffix]}])
    tagged["ResourceTagMappingList"] = [
        r for r in tagged["ResourceTagMappingList"] if ":ecs:" not in r["ResourceARN"] or r["ResourceARN"] in ecs_alive
    ]
    interfaces = ec2.describe_network_interfaces()["NetworkInterfaces"]
    found = {
        "tagged (resourcegroupstaggingapi)": [r["ResourceARN"] for r in tagged["ResourceTagMappingList"] if resource_id(r["ResourceARN"]) not in moto_kept],
        "vpcs": [v["VpcId"] for v in ec2.describe_vpcs(Filters=[tag])["Vpcs"]],
        "subnets": [s["SubnetId"] for s in ec2.describe_subnets(Filters=[tag])["Subnets"]],
        "security_groups": [g["GroupId"] for g in ec2.describe_security_groups(Filters=[tag])["SecurityGroups"]],
        "route_tables": [t["RouteTableId"] for t in ec2.describe_route_tables(Filters=[tag])["RouteTables"]],
        "internet_gateways": [g["InternetGatewayId"] for g in ec2.describe_internet_gateways(Filters=[tag])["InternetGateways"]],
        # The account is fresh: every NAT gateway, address, endpoint and interface is ours.
        "nat_gateways": [n["NatGatewayId"] for n in ec2.describe_nat_gateways()["NatGateways"] if n["State"] not in ("deleted", "deleting")],
        "elastic_ips": [a.get("AllocationId") for a in ec2.describe_addresses()["Addresses"]],
        "vpc_endpoints": [e["VpcEndpointId"] for e in ec2.describe_vpc_endpoints()["VpcEndpoints"] if e["State"].lower() not in ("deleted", "deleting")],
        "network_interfaces": [i["NetworkInterfaceId"] for i in interfaces if i["NetworkInterfaceId"] not in moto_kept],
        "load_balancers": [lb["LoadBalancerName"] for lb in elbv2.describe_load_balancers()["LoadBalancers"]],
        "target_groups": [t["TargetGroupName"] for t in elbv2.describe_target_groups()["TargetGroups"]],
        "ecs_clusters": active,
        "ecs_services": active_services,
        "task_definitions": active_task_definitions,
        "db_clusters": [c["DBClusterIdentifier"] for c in rds.describe_db_clusters()["DBClusters"]],
        "db_instances": [i["DBInstanceIdentifier"] for i in rds.describe_db_instances()["DBInstances"]],
        "db_snapshots (manual)": [s["DBClusterSnapshotIdentifier"] for s in rds.describe_db_cluster_snapshots(SnapshotType="manual")["DBClusterSnapshots"]]
        + [s["DBSnapshotIdentifier"] for s in rds.describe_db_snapshots(SnapshotType="manual")["DBSnapshots"]],
        "db_subnet_groups": [g["DBSubnetGroupName"] for g in rds.describe_db_subnet_groups()["DBSubnetGroups"] if g["DBSubnetGroupName"] != "default"],
        "secrets": [s["Name"] for s in client("secretsmanager").list_secrets()["SecretList"]],
        "lambda_functions": [f["FunctionName"] for f in client("lambda").list_functions()["Functions"]],
        "log_groups": [g["logGroupName"] for g in client("logs").describe_log_groups()["logGroups"]],
        "alarms": [a["AlarmName"] for a in client("cloudwatch").describe_alarms()["MetricAlarms"]],
        "sns_topics": [t["TopicArn"] for t in client("sns").list_topics()["Topics"]],
        "iam_roles": [r["RoleName"] for r in client("iam").list_roles()["Roles"] if f"-{suffix}-" in r["RoleName"] + "-"],
        "iam_policies": [p["PolicyName"] for p in client("iam").list_policies(Scope="Local")["Policies"]],
    }
    return {what: items for what, items in found.items() if items}
