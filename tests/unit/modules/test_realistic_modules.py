"""Our modules against the realistic emulator (scripts/realistic.py): the refusals and slow
states of real AWS that moto leaves out. Each test first checks that the behaviour it relies
on really happened (the proxy's events), so none can pass because the proxy stayed quiet."""

import time
import urllib.error

import pytest
from botocore.exceptions import ClientError

from ansible_collections.bluegreen.migration.plugins.module_utils.naming import resource_names
from tests.harness.aws import client, lifted_when_met, recap, role_playbook, run_module, run_playbook
from tests.unit.modules.test_ec2_vpc_route import network_with_gateways
from tests.unit.modules.test_ecs_modules import make_network, service_args, task_definition_args

# Mostly waiting on the emulated delays: scheduled early, beside the CPU-bound flows, instead of
# running last and alone.
pytestmark = pytest.mark.slow(seconds=260)


def events(emulator, behaviour, action=None):
    return [e for e in emulator.realism("events") if e["behaviour"] == behaviour and (action is None or e["action"] == action)]


@pytest.fixture
def network(realistic_aws):
    return make_network("10.21")


def test_a_listing_by_filter_leaves_out_what_was_just_created(realistic_aws):
    """Describe by filter right after a create may not list it yet (EC2 eventual consistency);
    once the proxy's window has passed, the same listing has it."""
    ec2 = client("ec2")
    # A window of 5 s: the listings below come well within it even on a loaded machine.
    realistic_aws.realism("config", {"eventual_consistency": {"filter_seconds": 5, "seconds": 1}, "throttling": {"enabled": False}})
    vpc = ec2.create_vpc(CidrBlock="10.31.0.0/16", TagSpecifications=[{"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": "lag-t1"}]}])["Vpc"]["VpcId"]
    by_tag = [{"Name": "tag:Name", "Values": ["lag-t1"]}]
    assert ec2.describe_vpcs(Filters=by_tag)["Vpcs"] == []
    assert [e["detail"] for e in events(realistic_aws, "eventual_consistency", "DescribeVpcs")] == [f"{vpc} not listed yet"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.31.0.0/24")["Subnet"]["SubnetId"]
    assert ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"] == []
    # Delayed for the listings named only (a window both are well within): the VPC listed at once, the subnet not.
    realistic_aws.realism("config", {"eventual_consistency": {"filter_seconds": 120, "filter_listings": ["DescribeSubnets"]}})
    assert [v["VpcId"] for v in ec2.describe_vpcs(Filters=by_tag)["Vpcs"]] == [vpc]
    assert ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"] == []
    realistic_aws.realism("config", {"eventual_consistency": {"filter_seconds": 5, "filter_listings": []}})
    with pytest.raises(urllib.error.HTTPError, match="400"):  # a misspelt listing would delay none
        realistic_aws.realism("config", {"eventual_consistency": {"filter_listings": ["DescribeSubnet"]}})
    time.sleep(5.2)
    assert [v["VpcId"] for v in ec2.describe_vpcs(Filters=by_tag)["Vpcs"]] == [vpc]
    assert [s["SubnetId"] for s in ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]] == [subnet]


def test_breaker_trip_fails_the_deploy_and_the_scale_down_still_settles(realistic_aws, network):
    """A tripped circuit breaker (rollback on) fails the deploy's wait and says so; the abort's
    scale to 0 that follows waits through the FAILED deployment ECS still lists."""
    run_module("ecs_cluster", {"name": "bluegreen-app-t1"})
    good = run_module("ecs_task_definition", task_definition_args())["arn"]
    assert run_module("ecs_service", service_args(network, good, wait=True, wait_timeout=60)).get("failed") is not True
    broken = run_module("ecs_task_definition", task_definition_args(image="amazon/amazon-ecs-sample:broken"))["arn"]

    deploy = run_module("ecs_service", service_args(network, broken, wait=True, wait_timeout=60))
    assert deploy.get("failed") is True, deploy
    assert events(realistic_aws, "circuit_breaker", "UpdateService")
    assert f"of {broken} FAILED: ECS deployment circuit breaker" in deploy["msg"]
    assert f"rolled the service back to {good}" in deploy["msg"]

    # The FAILED deployment is still listed (the proxy lists it for 20 s after the trip).
    listed = client("ecs").describe_services(cluster="bluegreen-app-t1", services=["bluegreen-blue-t1"])["services"][0]["deployments"]
    assert [d["rolloutState"] for d in listed if d["taskDefinition"] == broken] == ["FAILED"]
    scaled = run_module("ecs_service", {"cluster": "bluegreen-app-t1", "name": "bluegreen-blue-t1", "desired_count": 0, "wait": True, "wait_timeout": 30})
    assert scaled.get("failed") is not True, scaled
    assert scaled["service"]["desired_count"] == 0 and scaled["service"]["task_definition"] == good
    # Deleted while ECS still refuses (the FAILED deployment is active): retried until it lets go.
    deleted = run_module("ecs_service", {"cluster": "bluegreen-app-t1", "name": "bluegreen-blue-t1", "state": "absent"})
    assert deleted.get("failed") is not True and deleted["changed"] is True, deleted
    refusals = [e["detail"] for e in events(realistic_aws, "circuit_breaker", "DeleteService")]
    assert refusals[:1] == ["InvalidParameterException bluegreen-blue-t1 deployments active"], refusals


def test_cluster_delete_waits_for_the_services_to_drain(realistic_aws, network):
    run_module("ecs_cluster", {"name": "bluegreen-app-t1"})
    td = run_module("ecs_task_definition", task_definition_args())["arn"]
    run_module("ecs_service", service_args(network, td))
    run_module("ecs_service", {"cluster": "bluegreen-app-t1", "name": "bluegreen-blue-t1", "state": "absent", "wait": True})

    deleted = run_module("ecs_cluster", {"name": "bluegreen-app-t1", "state": "absent"})
    assert deleted.get("failed") is not True, deleted
    refusals = [e["detail"].split()[0] for e in events(realistic_aws, "dependent_drain", "DeleteCluster")]
    assert refusals[:2] == ["ClusterContainsServicesException", "ClusterContainsTasksException"]
    assert client("ecs").describe_clusters(clusters=["bluegreen-app-t1"])["clusters"][0]["status"] == "INACTIVE"


def test_a_service_still_draining_is_created_again_once_inactive(realistic_aws, network):
    """A teardown stopped while a deleted service drained, then a deploy: ECS refuses to update a
    DRAINING service and to create its name again; ecs_service waits until it is INACTIVE."""
    run_module("ecs_cluster", {"name": "bluegreen-app-t1"})
    td = run_module("ecs_task_definition", task_definition_args())["arn"]
    run_module("ecs_service", service_args(network, td))
    realistic_aws.realism("config", {"dependent_drain": {"service_seconds": 15}})
    client("ecs").delete_service(cluster="bluegreen-app-t1", service="bluegreen-blue-t1", force=True)

    planned = run_module("ecs_service", dict(service_args(network, td), wait_timeout=40), check=True)
    assert planned.get("changed") is True and planned["changes"] == ["service does not exist"], planned
    mark = len(realistic_aws.realism("events"))
    created = run_module("ecs_service", dict(service_args(network, td), wait_timeout=40))
    assert created.get("failed") is not True, created
    assert created["changed"] is True
    # The run itself found the service draining, and waited instead of being refused.
    details = [e["detail"] for e in realistic_aws.realism("events")[mark:] if e["behaviour"] == "dependent_drain"]
    assert "bluegreen-blue-t1 DRAINING" in details, details
    assert not [d for d in details if "still draining" in d or "ServiceNotActiveException" in d], details
    service = client("ecs").describe_services(cluster="bluegreen-app-t1", services=["bluegreen-blue-t1"])["services"][0]
    assert service["status"] == "ACTIVE"


def test_secret_created_again_right_after_a_force_delete(realistic_aws):
    """Teardown then deploy at once: the name of a secret deleted without recovery stays taken
    for a while (CreateSecret refused in both of AWS's wordings) and DescribeSecret still
    answers, with a DeletedDate. A secret just created is not described at once: the module
    reads it back once it is (its ARN is what the services are granted)."""
    args = {"name": "db-t1", "fields": {"username": "app"}, "tags": {"bluegreen:environment": "t1"}}
    first = run_module("secretsmanager_secret", args)
    assert first["changed"] is True
    assert first["secret"]["arn"] == client("secretsmanager").describe_secret(SecretId="db-t1")["ARN"], first
    assert first["secret"]["password_set"] is True and first["secret"]["fields"] == {"username": "app"}
    assert "ResourceNotFoundException DescribeSecret db-t1" in [e["detail"] for e in events(realistic_aws, "eventual_consistency")]
    assert run_module("secretsmanager_secret", {"name": "db-t1", "state": "absent", "recovery_window_days": 0})["changed"] is True

    again = run_module("secretsmanager_secret", args)
    assert again.get("failed") is not True, again
    assert again["changed"] is True and again["secret"]["password_set"] is True
    details = [e["detail"] for e in events(realistic_aws, "dependent_drain")]
    assert any(d.startswith("DescribeSecret db-t1 with DeletedDate") for d in details)
    assert [d for d in details if d.startswith("InvalidRequestException db-t1") and "recovery" not in d] == [
        "InvalidRequestException db-t1 was deleted", "InvalidRequestException db-t1 scheduled for deletion"]
    assert client("secretsmanager").describe_secret(SecretId="db-t1").get("DeletedDate") is None
    assert run_module("secretsmanager_secret", args)["changed"] is False


def test_a_new_interface_endpoint_is_pending_then_available_or_failed(realistic_aws):
    """AWS answers a new interface endpoint `pending` and makes it available (or failed) a minute
    or two later; a listing by the available state leaves it out meanwhile. vpc_endpoint_create
    returns the state (a loop of them is waited for once); one whose service fails turns failed
    only after its pending time, and a gateway endpoint that fails fails the module at once."""
    ec2 = client("ec2")
    # Pending until closed below: the calls between come within it however slow the machine.
    realistic_aws.realism("config", {"slow_states": {"endpoint_seconds": 3600}, "throttling": {"enabled": False},
                                     "endpoint_failures": {"services": ["logs", "s3"]}})
    vpc = ec2.create_vpc(CidrBlock="10.35.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.35.1.0/24")["Subnet"]["SubnetId"]
    made = run_module("vpc_endpoint_create", {"vpc_id": vpc, "service": "com.amazonaws.us-east-1.secretsmanager", "vpc_endpoint_type": "Interface",
                                              "subnet_ids": [subnet], "tags": {"Name": "vpce-secretsmanager-t"}})
    assert made["changed"] is True and made["vpc_endpoint"]["state"] == "pending", made
    failing = run_module("vpc_endpoint_create", {"vpc_id": vpc, "service": "com.amazonaws.us-east-1.logs", "vpc_endpoint_type": "Interface",
                                                 "subnet_ids": [subnet], "tags": {"Name": "vpce-logs-t"}})
    assert failing.get("failed") is not True and failing["vpc_endpoint"]["state"] == "pending", failing
    ids = [made["vpc_endpoint"]["vpc_endpoint_id"], failing["vpc_endpoint"]["vpc_endpoint_id"]]
    available = [{"Name": "vpc-id", "Values": [vpc]}, {"Name": "vpc-endpoint-state", "Values": ["available"]}]
    assert ec2.describe_vpc_endpoints(Filters=available)["VpcEndpoints"] == []
    assert f"endpoint {ids[0]} pending" in [e["detail"] for e in events(realistic_aws, "slow_states", "CreateVpcEndpoint")]
    # A gateway endpoint has no pending time: one that fails is answered failed at once.
    gateway = run_module("vpc_endpoint_create", {"vpc_id": vpc, "service": "com.amazonaws.us-east-1.s3", "tags": {"Name": "vpce-s3-t"}})
    assert gateway.get("failed") is True and gateway["vpc_endpoint"]["state"] == "failed", gateway
    assert "is failed (EmulatedFailure: the endpoint failed (emulated))" in gateway["msg"], gateway
    # Their pending time over (closed here rather than waited out), and EC2 knowing their ids by
    # now: one available, one failed.
    realistic_aws.realism("config", {"slow_states": {"endpoint_seconds": 0}, "eventual_consistency": {"enabled": False}})
    states = {e["VpcEndpointId"]: (e["State"], e.get("LastError", {}).get("Code")) for e in ec2.describe_vpc_endpoints(VpcEndpointIds=ids)["VpcEndpoints"]}
    assert states == {ids[0]: ("available", None), ids[1]: ("failed", "EmulatedFailure")}, states
    assert [e["VpcEndpointId"] for e in ec2.describe_vpc_endpoints(Filters=available)["VpcEndpoints"]] == ids[:1]


def test_the_azs_picked_in_an_older_account_leave_out_a_zone_where_fargate_runs_no_task(realistic_aws):
    """An older account lists ap-northeast-1b (apne1-az3), where Fargate runs no task: the
    network plan of a new VPC takes the next zone instead, and a listed one fails the plan
    before any write, naming the zone id."""
    args = {"vpc": {"name": "vpc-t1", "cidr": "10.0.0.0/16"}, "layout": {"cidr": "10.0.0.0/16", "az_count": 3},
            "environment_suffix": "t1", "region": "ap-northeast-1"}
    realistic_aws.reset_recording()
    planned = run_module("network_plan", args, check=True)
    assert [e["detail"] for e in events(realistic_aws, "older_account_zones")] == ["ap-northeast-1b (apne1-az3) listed"]
    assert planned["layout"]["azs"] == ["ap-northeast-1a", "ap-northeast-1c", "ap-northeast-1d"], planned
    listed = run_module("network_plan", dict(args, layout={"cidr": "10.0.0.0/16", "azs": ["ap-northeast-1a", "ap-northeast-1b"]}), check=True)
    assert listed.get("failed") is True and "network_azs: Fargate runs no task in ap-northeast-1b (apne1-az3) of ap-northeast-1" in listed["msg"], listed
    assert realistic_aws.mutating_requests() == []


def test_the_azs_picked_take_the_interface_endpoints_listed(realistic_aws):
    """An interface endpoint service offered in some zones only: a new VPC's plan picks zones
    it is offered in; listed zones it lacks fail the plan before any write, naming the service."""
    lam = "com.amazonaws.us-east-1.lambda"
    realistic_aws.realism("config", {"endpoint_service_zones": {"zones": {lam: ["us-east-1b", "us-east-1d", "us-east-1e"]}}})
    args = {"vpc": {"name": "vpc-t1", "cidr": "10.0.0.0/16"}, "layout": {"cidr": "10.0.0.0/16", "az_count": 3},
            "environment_suffix": "t1", "region": "us-east-1", "vpc_endpoints": [lam, "com.amazonaws.us-east-1.s3"],
            "gateway_endpoint_services": ["s3"]}
    realistic_aws.reset_recording()
    planned = run_module("network_plan", args, check=True)
    assert planned.get("failed") is not True, planned
    assert [e["detail"] for e in events(realistic_aws, "endpoint_service_zones")][:1] == [f"{lam} offered in us-east-1b, us-east-1d, us-east-1e"]
    assert planned["layout"]["azs"] == ["us-east-1b", "us-east-1d", "us-east-1e"], planned["layout"]["azs"]
    listed = run_module("network_plan", dict(args, layout={"cidr": "10.0.0.0/16", "azs": ["us-east-1a", "us-east-1b"]}), check=True)
    assert listed.get("failed") is True and f"{lam} is not offered in us-east-1a (only in us-east-1b, us-east-1d, us-east-1e)" in listed["msg"], listed
    assert realistic_aws.mutating_requests() == []


def test_gateway_endpoint_moves_between_route_tables_in_place(realistic_aws):
    """AWS refuses a second gateway endpoint of a service on a route table (RouteAlreadyExists);
    vpc_endpoint_update moves the one endpoint instead, in check mode only planned, and a re-run
    changes nothing."""
    ec2 = client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.31.0.0/16")["Vpc"]["VpcId"]
    first, second = (ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"] for _dummy in range(2))
    s3 = "com.amazonaws.us-east-1.s3"
    endpoint = ec2.create_vpc_endpoint(VpcId=vpc, ServiceName=s3, VpcEndpointType="Gateway", RouteTableIds=[first])["VpcEndpoint"]["VpcEndpointId"]
    with pytest.raises(ClientError, match="RouteAlreadyExists"):
        ec2.create_vpc_endpoint(VpcId=vpc, ServiceName=s3, VpcEndpointType="Gateway", RouteTableIds=[second, first])
    assert [e["detail"].split()[:2] for e in events(realistic_aws, "gateway_endpoint_routes")] == [["RouteAlreadyExists", first]]

    args = {"vpc_endpoint_id": endpoint, "route_table_ids": [second], "tags": {"Name": "vpce-s3-t1"}}
    realistic_aws.reset_recording()
    planned = run_module("vpc_endpoint_update", args, check=True, diff=True)
    assert planned.get("changed") is True and realistic_aws.mutating_requests() == [], planned
    assert planned["diff"]["before"]["route_table_ids"] == [first] and planned["diff"]["after"]["route_table_ids"] == [second]
    moved = run_module("vpc_endpoint_update", args)
    assert moved["changed"] is True, moved
    assert moved["vpc_endpoint"]["route_table_ids"] == [second] and moved["vpc_endpoint"]["tags"] == {"Name": "vpce-s3-t1"}
    assert ec2.describe_vpc_endpoints(VpcEndpointIds=[endpoint])["VpcEndpoints"][0]["RouteTableIds"] == [second]
    assert run_module("vpc_endpoint_update", args)["changed"] is False
    # The first table is free again: an endpoint of the service may use it.
    ec2.create_vpc_endpoint(VpcId=vpc, ServiceName=s3, VpcEndpointType="Gateway", RouteTableIds=[first])

    wrong = run_module("vpc_endpoint_update", {"vpc_endpoint_id": endpoint, "subnet_ids": ["subnet-1"]})
    assert wrong.get("failed") is True and "subnet_ids: only for Interface endpoints" in wrong["msg"], wrong
    missing = run_module("vpc_endpoint_update", {"vpc_endpoint_id": "vpce-0123456789abcdef0", "route_table_ids": [first]})
    assert missing.get("failed") is True and "no such endpoint" in missing["msg"], missing


def test_a_change_right_after_the_create_is_refused_until_the_id_has_propagated(realistic_aws):
    """EC2 may not know a new id yet when a call changes that resource (a VPC's DNS attributes,
    a group's rules): NotFound, as a Describe by id answers; once the window has passed, the same
    call goes through. Creating inside a parent just created is not refused."""
    ec2 = client("ec2")
    # A window of 5 s: the calls below come well within it even on a loaded machine.
    realistic_aws.realism("config", {"eventual_consistency": {"seconds": 5}, "throttling": {"enabled": False}})
    vpc = ec2.create_vpc(CidrBlock="10.32.0.0/16")["Vpc"]["VpcId"]
    group = ec2.create_security_group(GroupName="lag-t2", Description="lag", VpcId=vpc)["GroupId"]
    rule = {"GroupId": group, "IpPermissions": [{"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "IpRanges": [{"CidrIp": "10.32.0.0/16"}]}]}
    with pytest.raises(ClientError, match="InvalidVpcID.NotFound"):
        ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    with pytest.raises(ClientError, match="InvalidGroup.NotFound"):
        ec2.authorize_security_group_ingress(**rule)
    assert [e["detail"] for e in events(realistic_aws, "eventual_consistency") if not e["action"].startswith("Describe")] == [
        f"InvalidVpcID.NotFound {vpc}", f"InvalidGroup.NotFound {group}"]
    time.sleep(5.2)
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    ec2.authorize_security_group_ingress(**rule)
    assert ec2.describe_vpc_attribute(VpcId=vpc, Attribute="enableDnsHostnames")["EnableDnsHostnames"]["Value"] is True


def test_a_route_to_a_gateway_just_requested_waits_until_aws_knows_both(realistic_aws):
    """Right after CreateRouteTable and CreateNatGateway, AWS does not know the table by id yet
    and refuses a route to the pending gateway as if it did not exist: ec2_vpc_route retries
    both until they lift, and a re-run changes nothing."""
    realistic_aws.realism("config", {"throttling": {"enabled": False}})
    net = network_with_gateways("10.43")
    # Both windows open until the module has met them, then lifted (as AWS does, a while later).
    realistic_aws.realism("config", {"eventual_consistency": {"seconds": 600}, "slow_states": {"nat_seconds": 600}})
    args = {"route_table_id": net["table"], "destination_cidr_block": "0.0.0.0/0", "nat_gateway_id": net["nat"]}
    lifts = {("eventual_consistency", "DescribeRouteTables", ""): {"eventual_consistency": {"seconds": 2}},
             ("slow_states", "CreateRoute", ""): {"slow_states": {"nat_seconds": 4}}}
    with lifted_when_met(realistic_aws, lifts):
        created = run_module("ec2_vpc_route", args)
        assert created.get("changed") is True and created["route"]["nat_gateway_id"] == net["nat"], created
    assert [e["detail"] for e in events(realistic_aws, "eventual_consistency", "DescribeRouteTables")][:1] == [
        f"InvalidRouteTableID.NotFound {net['table']}"]
    assert [e["detail"] for e in events(realistic_aws, "slow_states", "CreateRoute")][:1] == [f"InvalidNatGatewayID.NotFound {net['nat']} (pending)"]
    assert run_module("ec2_vpc_route", args)["changed"] is False


def test_ecs_learns_late_of_its_role_cluster_and_listener(realistic_aws, network):
    """An account's first cluster is refused until IAM has ECS's service-linked role; a service
    is refused while ECS does not know its new cluster, or that its target group is behind the
    listener just made. ecs_cluster and ecs_service retry those refusals and succeed."""
    created = run_module("ecs_cluster", {"name": "bluegreen-app-t1"})
    assert created.get("failed") is not True, created
    # Described from the create's answer: DescribeClusters at once answers it MISSING.
    assert created["cluster"]["cluster_arn"] in client("ecs").list_clusters()["clusterArns"], created
    assert created["cluster"]["status"] == "ACTIVE" and created["cluster"]["cluster_name"] == "bluegreen-app-t1", created
    refusals = [e["detail"] for e in events(realistic_aws, "iam_propagation", "CreateCluster")]
    assert len(refusals) == 2 and all("Unable to assume the service linked role" in r for r in refusals), refusals

    td = client("ecs").register_task_definition(
        family="bluegreen-app-t1", requiresCompatibilities=["FARGATE"], networkMode="awsvpc", cpu="256", memory="512",
        containerDefinitions=[{"name": "app", "image": "amazon/amazon-ecs-sample", "portMappings": [{"containerPort": 80}]}],
    )["taskDefinition"]["taskDefinitionArn"]
    # Windows long enough for a module started on a busy machine to meet them (the services
    # themselves readable at once: the last line reads one).
    realistic_aws.realism("config", {"eventual_consistency": {"seconds": 8, "listener_seconds": 10, "service_seconds": 0}})

    client("ecs").create_cluster(clusterName="bluegreen-app2-t1")
    started = run_module("ecs_service", service_args(network, td, cluster="bluegreen-app2-t1"))
    assert started.get("failed") is not True, started
    late = [e["detail"] for e in events(realistic_aws, "eventual_consistency", "CreateService")]
    assert late and all(d == "ClusterNotFoundException bluegreen-app2-t1" for d in late), late

    elb = client("elbv2")
    group = elb.create_target_group(Name="app-green-t1", Protocol="HTTP", Port=80, VpcId=network["vpc"], TargetType="ip")["TargetGroups"][0]["TargetGroupArn"]
    balancer = elb.create_load_balancer(Name="app-t1", Subnets=network["subnets"], SecurityGroups=[network["sg"]])["LoadBalancers"][0]["LoadBalancerArn"]
    elb.create_listener(LoadBalancerArn=balancer, Protocol="HTTP", Port=80, DefaultActions=[{"Type": "forward", "TargetGroupArn": group}])
    balanced = {"name": "bluegreen-green-t1", "load_balancers": [{"target_group_arn": group, "container_name": "app", "container_port": 80}]}
    started = run_module("ecs_service", service_args(network, td, **balanced))
    assert started.get("failed") is not True, started
    late = [e["detail"] for e in events(realistic_aws, "eventual_consistency", "CreateService")][len(late):]
    assert late and all(group in d and "does not have an associated load balancer" in d for d in late), late
    assert client("ecs").describe_services(cluster="bluegreen-app-t1", services=["bluegreen-green-t1"])["services"][0]["status"] == "ACTIVE"


def test_a_service_just_created_reads_missing_for_a_while(realistic_aws, network):
    """ECS is eventually consistent: right after CreateService, DescribeServices may answer the
    service MISSING and UpdateService ServiceNotFoundException. ecs_service creates, waits for
    (or does not wait for) and returns the new service all the same, and a re-run is a no-op."""
    run_module("ecs_cluster", {"name": "bluegreen-app-t1"})
    td = run_module("ecs_task_definition", task_definition_args())["arn"]
    realistic_aws.realism("config", {"eventual_consistency": {"service_seconds": 6}, "throttling": {"enabled": False}})

    def missing():
        return [e["detail"] for e in events(realistic_aws, "eventual_consistency", "DescribeServices")]

    # Options the emulator keeps on create: no UpdateService follows, the wait reads MISSING first.
    plain = {k: v for k, v in service_args(network, td).items() if k not in ("deployment_configuration", "health_check_grace_period")}
    waited = run_module("ecs_service", dict(plain, wait=True, wait_timeout=60))
    assert waited.get("failed") is not True, waited
    assert "bluegreen-blue-t1 MISSING" in missing(), missing()
    assert waited["changed"] is True and waited["service"]["running_count"] == 2

    # Not waited for: the service returned is the create's answer (ECS still says MISSING).
    unwaited = run_module("ecs_service", dict(plain, name="bluegreen-green-t1", desired_count=0))
    assert unwaited.get("failed") is not True, unwaited
    assert "bluegreen-green-t1 MISSING" in missing(), missing()
    assert unwaited["service"]["service_name"] == "bluegreen-green-t1" and unwaited["service"]["task_definition"] == td

    # The emulator keeps no deployment configuration on create: sent again, through the window.
    full = run_module("ecs_service", service_args(network, td, name="bluegreen-canary-t1", desired_count=0))
    assert full.get("failed") is not True, full
    assert "ServiceNotFoundException bluegreen-canary-t1" in [e["detail"] for e in events(realistic_aws, "eventual_consistency", "UpdateService")]
    assert full["service"]["deployment_configuration"]["deployment_circuit_breaker"] == {"enable": True, "rollback": True}

    # Still not described when the wait runs out: said so, not "disappeared".
    late = run_module("ecs_service", dict(plain, name="bluegreen-late-t1", desired_count=0, wait=True, wait_timeout=2))
    assert late.get("failed") is True
    assert "service bluegreen-late-t1 was created but ECS still did not describe it after 2s" in late["msg"], late["msg"]

    time.sleep(6)
    assert run_module("ecs_service", dict(plain, name="bluegreen-green-t1", desired_count=0))["changed"] is False


def test_a_run_with_nothing_to_change_still_waits_for_a_deployment_under_way(realistic_aws, network):
    """A deploy stopped during its steady-state wait leaves the deployment running; the re-run
    has nothing to change but owes the wait: it returns once the service is steady."""
    run_module("ecs_cluster", {"name": "bluegreen-app-t1"})
    td = run_module("ecs_task_definition", task_definition_args())["arn"]
    realistic_aws.realism("config", {"slow_states": {"ecs_seconds": 8}, "eventual_consistency": {"service_seconds": 0}, "throttling": {"enabled": False}})
    # What the stopped run left: the service created, its deployment in progress.
    started = run_module("ecs_service", service_args(network, td))
    assert started["changed"] is True and started["service"]["running_count"] == 0

    again = run_module("ecs_service", service_args(network, td, wait=True, wait_timeout=60))
    assert again.get("failed") is not True and again["changed"] is False, again
    assert again["service"]["running_count"] == 2, again["service"]
    assert [d["rollout_state"] for d in again["service"]["deployments"]] == ["COMPLETED"], again["service"]
    assert events(realistic_aws, "slow_states", "DescribeServices"), "the deployment was never seen in progress"


def test_the_fields_ecs_reports_with_their_defaults_leave_a_task_definition_in_shape(realistic_aws, network):
    """ECS describes every task definition with enableFaultInjection false (moto: not at all):
    a re-registration finds nothing to change, and a rollout can carry the definition over."""
    run_module("ecs_cluster", {"name": "bluegreen-app-t1"})
    td = run_module("ecs_task_definition", task_definition_args())["arn"]
    run_module("ecs_service", service_args(network, td, desired_count=0))
    assert run_module("ecs_task_definition", task_definition_args())["changed"] is False
    info = run_module("ecs_service_info", {"cluster": "bluegreen-app-t1", "services": ["bluegreen-blue-t1"], "include_task_definitions": True})
    assert events(realistic_aws, "task_definition_defaults", "DescribeTaskDefinition"), "ECS's defaults were never added"
    details = info["services"][0]["task_definition_details"]
    assert details["arn"] == td and details["unsupported"] == [], details


def test_a_target_group_just_created_is_unknown_for_a_moment(realistic_aws, network):
    """Right after CreateTargetGroup, ELB may not describe the group nor take its attributes
    (TargetGroupNotFound). elb_target_group sets the delay and returns the group all the same."""
    realistic_aws.realism("config", {"eventual_consistency": {"target_group_seconds": 4}, "throttling": {"enabled": False}})
    args = {"name": "app-blue-t1", "port": 80, "vpc_id": network["vpc"], "deregistration_delay": 15}
    created = run_module("elb_target_group", args)
    assert created.get("failed") is not True, created
    late = [(e["action"], e["detail"].split(" ")[0]) for e in events(realistic_aws, "eventual_consistency")]
    assert ("ModifyTargetGroupAttributes", "TargetGroupNotFound") in late, late
    group = created["target_group"]
    assert group["target_group_arn"].startswith("arn:aws:elasticloadbalancing:") and ":targetgroup/app-blue-t1/" in group["target_group_arn"]
    assert group["target_group_name"] == "app-blue-t1" and group["deregistration_delay"] == 15
    attributes = client("elbv2").describe_target_group_attributes(TargetGroupArn=group["target_group_arn"])["Attributes"]
    assert {a["Key"]: a["Value"] for a in attributes}["deregistration_delay.timeout_seconds"] == "15"
    assert run_module("elb_target_group", args)["changed"] is False

    # Without a delay to set, the read right after the create meets the window and is polled.
    plain = run_module("elb_target_group", {"name": "app-green-t1", "port": 80, "vpc_id": network["vpc"]})
    assert plain.get("failed") is not True and plain["target_group"]["target_group_name"] == "app-green-t1", plain
    late = [e["detail"] for e in events(realistic_aws, "eventual_consistency", "DescribeTargetGroups")]
    assert any(d.startswith("TargetGroupNotFound") and "app-green-t1" in d for d in late), late
    assert plain["target_group"]["deregistration_delay"] == 300 and plain["target_group"]["target_group_arn"]


def test_target_group_deleted_once_its_balancer_has_let_it_go(realistic_aws, network):
    """Right after its load balancer is deleted a target group is still "in use by a listener
    or a rule" for a while; elb_target_group's delete waits that out."""
    # The group is created here, not by the module: readable at once.
    realistic_aws.realism("config", {"eventual_consistency": {"target_group_seconds": 0}})
    elb = client("elbv2")
    group = elb.create_target_group(Name="app-blue-t1", Protocol="HTTP", Port=80, VpcId=network["vpc"], TargetType="ip")["TargetGroups"][0]["TargetGroupArn"]
    balancer = elb.create_load_balancer(Name="app-t1", Subnets=network["subnets"], SecurityGroups=[network["sg"]])["LoadBalancers"][0]["LoadBalancerArn"]
    elb.create_listener(LoadBalancerArn=balancer, Protocol="HTTP", Port=80, DefaultActions=[{"Type": "forward", "TargetGroupArn": group}])
    elb.delete_load_balancer(LoadBalancerArn=balancer)

    deleted = run_module("elb_target_group", {"name": "app-blue-t1", "state": "absent"})
    assert deleted.get("failed") is not True and deleted["changed"] is True, deleted
    assert [e["detail"] for e in events(realistic_aws, "dependent_drain", "DeleteTargetGroup")] == [f"ResourceInUse {group}"] * 2
    assert elb.describe_target_groups()["TargetGroups"] == []


ECS_SERVICE_TEARDOWN = role_playbook("ecs_service", {"ecs_service_state": "absent"})


def test_teardown_waits_for_the_load_balancers_network_interfaces(realistic_aws, network, tmp_path):
    """A deleted load balancer's network interfaces stay a while and hold its subnets and
    security group. The ecs_service role's teardown waits for them, so that the network's
    deletes after it are not refused."""
    ec2, elb = client("ec2"), client("elbv2")
    # The behaviour: the group of a load balancer just deleted cannot be deleted yet.
    other = ec2.create_security_group(GroupName="other-t1", Description="other", VpcId=network["vpc"])["GroupId"]
    gone = elb.create_load_balancer(Name="other-t1", Subnets=network["subnets"], SecurityGroups=[other])["LoadBalancers"][0]["LoadBalancerArn"]
    elb.delete_load_balancer(LoadBalancerArn=gone)
    with pytest.raises(ClientError, match="DependencyViolation"):
        ec2.delete_security_group(GroupId=other)

    elb.create_load_balancer(Name="app-t1", Subnets=network["subnets"], SecurityGroups=[network["sg"]])
    playbook = tmp_path / "teardown.yml"
    playbook.write_text(ECS_SERVICE_TEARDOWN)
    proc = run_playbook(playbook, inventory="localhost,", extra_vars={"environment_suffix": "t1", "ecs_service_eni_wait_delay": 1})
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    listed = [e["detail"] for e in events(realistic_aws, "dependent_drain", "DescribeNetworkInterfaces") if "ELB app/app-t1/" in e["detail"]]
    assert len(listed) == 2 * len(network["subnets"]), listed  # each interface listed until AWS lets it go
    assert elb.describe_load_balancers()["LoadBalancers"] == []
    ec2.delete_security_group(GroupId=network["sg"])
    # The other balancer's interfaces still hold the subnets, until listed as the role lists them.
    with pytest.raises(ClientError, match="DependencyViolation"):
        ec2.delete_subnet(SubnetId=network["subnets"][0])
    for _dummy in range(2):
        ec2.describe_network_interfaces(Filters=[{"Name": "description", "Values": ["ELB app/other-t1/*"]}])
    for subnet in network["subnets"]:
        ec2.delete_subnet(SubnetId=subnet)


def test_teardown_stops_before_any_delete_on_a_protected_load_balancer(realistic_aws, network, tmp_path):
    """AWS refuses to delete a load balancer with deletion protection on (an account's policy may
    turn it on); moto deletes it. The ecs_service teardown stops before its first delete, saying
    how to turn it off, and goes through once it is off."""
    elb = client("elbv2")
    arn = elb.create_load_balancer(Name="app-t1", Subnets=network["subnets"], SecurityGroups=[network["sg"]])["LoadBalancers"][0]["LoadBalancerArn"]
    run_module("ecs_cluster", {"name": "app-t1"})
    elb.modify_load_balancer_attributes(LoadBalancerArn=arn, Attributes=[{"Key": "deletion_protection.enabled", "Value": "true"}])
    # The behaviour: the delete is refused.
    with pytest.raises(ClientError, match="OperationNotPermitted"):
        elb.delete_load_balancer(LoadBalancerArn=arn)
    playbook = tmp_path / "teardown.yml"
    playbook.write_text(ECS_SERVICE_TEARDOWN)
    proc = run_playbook(playbook, inventory="localhost,", extra_vars={"environment_suffix": "t1", "ecs_service_eni_wait_delay": 1})
    assert proc.returncode != 0
    text = " ".join(proc.stdout.split())
    assert "The load balancer app-t1 has deletion protection on, so AWS refuses to delete it; nothing was deleted." in text, text[-3000:]
    assert f"--load-balancer-arn {arn} --attributes Key=deletion_protection.enabled,Value=false" in text
    # Nothing was deleted: the cluster is still there.
    assert [c["status"] for c in client("ecs").describe_clusters(clusters=["app-t1"])["clusters"]] == ["ACTIVE"]

    elb.modify_load_balancer_attributes(LoadBalancerArn=arn, Attributes=[{"Key": "deletion_protection.enabled", "Value": "false"}])
    done = run_playbook(playbook, inventory="localhost,", extra_vars={"environment_suffix": "t1", "ecs_service_eni_wait_delay": 1})
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-3000:]
    assert elb.describe_load_balancers()["LoadBalancers"] == []
    # And again, with no load balancer left to look at: nothing to do.
    again = run_playbook(playbook, inventory="localhost,", extra_vars={"environment_suffix": "t1", "ecs_service_eni_wait_delay": 1})
    assert again.returncode == 0 and recap(again.stdout)["localhost"]["changed"] == 0, again.stdout[-6000:] + again.stderr[-3000:]


NETWORK_TEARDOWN = role_playbook("network", {"network_state": "absent"})


def test_network_teardown_outlasts_a_deleted_services_task_interfaces(realistic_aws, tmp_path):
    """The interfaces of a just-deleted service's tasks hold its subnets and security group for
    a while (DependencyViolation); the network's teardown retries those deletes until AWS has
    let them go, and leaves nothing: not even an internet gateway a stopped run detached but
    did not delete (found by its tags)."""
    ec2 = client("ec2")
    # Held until the teardown has been refused by it (a loaded machine may take longer than the
    # proxy's 20 s to reach its first delete), then let go.
    realistic_aws.realism("config", {"dependent_drain": {"task_eni_seconds": 3600}})

    def tagged(kind, name):
        tags = [{"Key": "bluegreen:environment", "Value": "t3"}, {"Key": "bluegreen:component", "Value": "network"}, {"Key": "Name", "Value": name}]
        return [{"ResourceType": kind, "Tags": tags}]

    vpc = ec2.create_vpc(CidrBlock="10.22.0.0/16", TagSpecifications=tagged("vpc", "vpc-t3"))["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.22.{i}.0/24", AvailabilityZone=f"us-east-1{az}")["Subnet"]["SubnetId"]
               for i, az in ((1, "a"), (2, "b"))]
    group = ec2.create_security_group(GroupName="app-t3", Description="app", VpcId=vpc, TagSpecifications=tagged("security-group", "app-t3"))["GroupId"]
    detached = ec2.create_internet_gateway(TagSpecifications=tagged("internet-gateway", "igw-t3"))["InternetGateway"]["InternetGatewayId"]
    assert run_module("ecs_cluster", {"name": "app-t3"}).get("failed") is not True
    td = run_module("ecs_task_definition", task_definition_args())["arn"]
    network = {"vpc": vpc, "subnets": subnets, "sg": group}
    started = run_module("ecs_service", service_args(network, td, cluster="app-t3", name="app-blue-t3", wait=False))
    assert started.get("failed") is not True, started
    client("ecs").delete_service(cluster="app-t3", service="app-blue-t3", force=True)

    playbook = tmp_path / "teardown.yml"
    playbook.write_text(NETWORK_TEARDOWN)
    with lifted_when_met(realistic_aws, {("dependent_drain", "DeleteSecurityGroup", ":attachment/"): {"dependent_drain": {"task_eni_seconds": 1}}}):
        proc = run_playbook(playbook, inventory="localhost,", extra_vars={"environment_suffix": "t3"})
        assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    held = [e["detail"] for e in events(realistic_aws, "dependent_drain", "DeleteSecurityGroup") + events(realistic_aws, "dependent_drain", "DeleteSubnet")]
    assert held and all(":attachment/" in detail for detail in held), held
    assert ec2.describe_vpcs(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Vpcs"] == []
    assert ec2.describe_internet_gateways(Filters=[{"Name": "internet-gateway-id", "Values": [detached]}])["InternetGateways"] == []


AURORA_TEARDOWN = role_playbook("aurora", {"aurora_state": "absent", "aurora_wait_delay": 1})


def aurora_cluster_of(suffix, octet):
    """The Aurora cluster of environment `suffix` (no instance), in a DB subnet group over two
    subnets of a new VPC 10.<octet>.0.0/16, created by hand; the environment's names."""
    ec2, rds = client("ec2"), client("rds")
    names = resource_names(suffix, "us-east-1")
    vpc = ec2.create_vpc(CidrBlock=f"10.{octet}.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.{octet}.{i}.0/24", AvailabilityZone=f"us-east-1{az}")["Subnet"]["SubnetId"]
               for i, az in ((1, "a"), (2, "b"))]
    rds.create_db_subnet_group(DBSubnetGroupName=names["aurora_subnet_group"], DBSubnetGroupDescription=suffix, SubnetIds=subnets)
    rds.create_db_cluster(DBClusterIdentifier=names["aurora_cluster"], Engine="aurora-postgresql", MasterUsername="dbadmin",
                          MasterUserPassword=f"not-a-real-one-{octet}", DBSubnetGroupName=names["aurora_subnet_group"])
    return names


def test_aurora_teardown_waits_for_a_cluster_still_deleting(realistic_aws, tmp_path):
    """A deleted Aurora cluster stays `deleting` a while and holds its DB subnet group. A teardown
    that finds it so (the run before stopped or ran out of time while it was going) waits for it
    to be gone before deleting the group; a wait that runs out says what is left and how to
    finish, and the next run does finish."""
    rds, names = client("rds"), aurora_cluster_of("t4", 24)
    playbook = tmp_path / "teardown.yml"
    playbook.write_text(AURORA_TEARDOWN)
    # Check mode deletes nothing, so it has nothing to wait for.
    checked = run_playbook(playbook, inventory="localhost,", extra_vars={"environment_suffix": "t4", "aurora_wait_timeout": 3}, args=["--check"])
    assert checked.returncode == 0, checked.stdout[-4000:]
    # (still `creating` when the run took less than the emulated creation time)
    assert rds.describe_db_clusters(DBClusterIdentifier=names["aurora_cluster"])["DBClusters"][0]["Status"] in ("creating", "available")

    # The behaviour: once deleted, the cluster is listed deleting and its subnet group is in use.
    # (A cluster still creating refuses its deletion, on AWS as in the emulator.)
    rds.get_waiter("db_cluster_available").wait(DBClusterIdentifier=names["aurora_cluster"], WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    rds.delete_db_cluster(DBClusterIdentifier=names["aurora_cluster"], SkipFinalSnapshot=True)
    assert rds.describe_db_clusters(DBClusterIdentifier=names["aurora_cluster"])["DBClusters"][0]["Status"] == "deleting"
    with pytest.raises(ClientError, match="InvalidDBSubnetGroupStateFault"):
        rds.delete_db_subnet_group(DBSubnetGroupName=names["aurora_subnet_group"])

    # Longer than the wait: the run fails saying so, and keeps the subnet group.
    realistic_aws.realism("config", {"dependent_drain": {"rds_cluster_polls": 50}})
    short = run_playbook(playbook, inventory="localhost,", extra_vars={"environment_suffix": "t4", "aurora_wait_timeout": 3})
    assert short.returncode != 0
    text = " ".join(short.stdout.split())
    assert f"After 3 s the Aurora cluster {names['aurora_cluster']} is still deleting" in text, text[-3000:]
    assert "Re-run this teardown later" in text
    assert [g["DBSubnetGroupName"] for g in rds.describe_db_subnet_groups()["DBSubnetGroups"]] == [names["aurora_subnet_group"]]

    # Gone after eight more looks (each look is one event): the next run finds it deleting,
    # waits for it, then deletes the group.
    looks = len(events(realistic_aws, "dependent_drain", "DescribeDBClusters"))
    realistic_aws.realism("config", {"dependent_drain": {"rds_cluster_polls": looks + 8}})
    done = run_playbook(playbook, inventory="localhost,", extra_vars={"environment_suffix": "t4"})
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-3000:]
    assert "FAILED - RETRYING: [localhost]: bluegreen.migration.aurora : Wait until the cluster is gone" in done.stdout, done.stdout[-4000:]
    assert len(events(realistic_aws, "dependent_drain", "DeleteDBSubnetGroup")) == 1, "the group was deleted while the cluster held it"
    assert rds.describe_db_subnet_groups()["DBSubnetGroups"] == []


def test_aurora_teardown_starts_a_stopped_cluster_then_deletes_it(realistic_aws, tmp_path):
    """AWS deletes no stopped Aurora cluster, nor its instances: the teardown starts it, waits
    while it is `starting`, then deletes it whole."""
    rds, names = client("rds"), aurora_cluster_of("t6", 26)
    rds.get_waiter("db_cluster_available").wait(DBClusterIdentifier=names["aurora_cluster"], WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    rds.create_db_instance(DBInstanceIdentifier="aurora-1-t6", DBClusterIdentifier=names["aurora_cluster"], Engine="aurora-postgresql",
                           DBInstanceClass="db.t4g.medium")
    rds.stop_db_cluster(DBClusterIdentifier=names["aurora_cluster"])
    # The behaviour: a stopped cluster's member and the cluster itself refuse their deletion.
    with pytest.raises(ClientError, match="InvalidDBClusterStateFault"):
        rds.delete_db_instance(DBInstanceIdentifier="aurora-1-t6", SkipFinalSnapshot=True)
    playbook = tmp_path / "teardown.yml"
    playbook.write_text(AURORA_TEARDOWN)

    mark = len(realistic_aws.realism("events"))
    done = run_playbook(playbook, inventory="localhost,", extra_vars={"environment_suffix": "t6"})
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-3000:]
    seen = [e["detail"] for e in realistic_aws.realism("events")[mark:] if e["behaviour"] == "slow_states"]
    assert f"{names['aurora_cluster']} starting" in seen, seen
    assert not [d for d in seen if d.startswith("InvalidDBClusterStateFault DeleteDBInstance")], seen
    assert rds.describe_db_instances()["DBInstances"] == []
    assert [c["Status"] for c in rds.describe_db_clusters()["DBClusters"]] in ([], ["deleting"])
