"""The client layer retries throttling with jittered backoff, then fails with a clear error.
botocore's Stubber answers the calls (no network, no emulator)."""

import boto3
import pytest
from botocore.config import Config
from botocore.stub import Stubber

from ansible_collections.amazon.aws.plugins.module_utils import cloud
from ansible_collections.bluegreen.migration.plugins.module_utils import ecs, elbv2

CLUSTER = {"clusterArn": "arn:aws:ecs:us-east-1:123456789012:cluster/demo", "clusterName": "demo", "status": "ACTIVE"}


def stubbed(service):
    # botocore's own retries off, so every stubbed answer reaches our layer; dummy credentials
    session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1")  # noqa: S106
    api = session.client(service, config=Config(retries={"total_max_attempts": 1}))
    return api, Stubber(api)


def test_throttling_is_retried_then_a_clear_error():
    api, stub = stubbed("ecs")
    params = {"clusters": ["demo"], "include": ["SETTINGS", "TAGS"]}
    stub.add_client_error("describe_clusters", service_error_code="Throttling", http_status_code=400, expected_params=params)
    stub.add_client_error("describe_clusters", service_error_code="Throttling", http_status_code=400, expected_params=params)
    stub.add_response("describe_clusters", {"clusters": [CLUSTER], "failures": []}, params)
    stub.add_client_error("describe_clusters", service_error_code="Throttling", http_status_code=400, expected_params=params)
    stub.add_client_error(
        "describe_clusters", service_error_code="AccessDeniedException", service_message="not allowed", http_status_code=400, expected_params=params
    )
    with stub:
        # two throttles, then the answer
        assert ecs.describe_cluster(api, "demo")["clusterName"] == "demo"
        # a throttle, then an error that is not transient: no more retries, a clear message
        with pytest.raises(ecs.EcsError) as failure:
            ecs.describe_cluster(api, "demo")
        stub.assert_no_pending_responses()
    assert failure.value.message == "Failed to describe ECS cluster demo"
    assert "AccessDeniedException" in str(failure.value.exception)


def test_not_found_is_none():
    api, stub = stubbed("elbv2")
    stub.add_client_error("describe_target_groups", service_error_code="TargetGroupNotFound", http_status_code=400)
    with stub:
        assert elbv2.describe_target_group(api, "nope") is None
        stub.assert_no_pending_responses()


@pytest.fixture
def no_sleep(monkeypatch):
    """The backoff's sleeps, recorded instead of slept."""
    slept = []
    monkeypatch.setattr(cloud.time, "sleep", slept.append)
    return slept


SERVICE = {"serviceName": "blue", "serviceArn": "arn:aws:ecs:us-east-1:123456789012:service/demo/blue", "status": "ACTIVE"}
SLR = "Unable to assume the service linked role. Please verify that the ECS service linked role exists."
GROUP = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/b/1"
NO_BALANCER = f"The target group with targetGroupArn {GROUP} does not have an associated load balancer."


def test_ecs_refusals_that_lift_by_themselves_are_retried(no_sleep):
    api, stub = stubbed("ecs")
    stub.add_client_error("create_cluster", service_error_code="InvalidParameterException", service_message=SLR, http_status_code=400)
    stub.add_response("create_cluster", {"cluster": CLUSTER}, {"clusterName": "demo"})
    stub.add_client_error("create_service", service_error_code="ClusterNotFoundException", service_message="Cluster not found.", http_status_code=400)
    stub.add_client_error("create_service", service_error_code="InvalidParameterException", service_message=NO_BALANCER, http_status_code=400)
    stub.add_response("create_service", {"service": SERVICE}, {"cluster": "demo", "serviceName": "blue"})
    with stub:
        assert ecs.create_cluster(api, clusterName="demo")["clusterName"] == "demo"
        assert ecs.create_service(api, cluster="demo", serviceName="blue")["serviceName"] == "blue"
        stub.assert_no_pending_responses()
    assert len(no_sleep) == 3


def test_the_same_code_with_another_message_is_not_retried(no_sleep):
    api, stub = stubbed("ecs")
    wrong = "Task definition does not support launch_type FARGATE."
    stub.add_client_error("create_service", service_error_code="InvalidParameterException", service_message=wrong, http_status_code=400)
    with stub:
        with pytest.raises(ecs.EcsError) as failure:
            ecs.create_service(api, cluster="demo", serviceName="blue")
        stub.assert_no_pending_responses()
    assert no_sleep == [] and wrong in str(failure.value.exception)
    # create_cluster retries only the service-linked role's message, not the service's others
    api, stub = stubbed("ecs")
    stub.add_client_error("create_cluster", service_error_code="InvalidParameterException", service_message=NO_BALANCER, http_status_code=400)
    with stub:
        with pytest.raises(ecs.EcsError):
            ecs.create_cluster(api, clusterName="demo")
        stub.assert_no_pending_responses()
    assert no_sleep == []


def test_a_refusal_that_never_lifts_is_reported_after_the_retries(no_sleep):
    api, stub = stubbed("ecs")
    for _dummy in range(10):
        stub.add_client_error("create_cluster", service_error_code="InvalidParameterException", service_message=SLR, http_status_code=400)
    with stub:
        with pytest.raises(ecs.EcsError) as failure:
            ecs.create_cluster(api, clusterName="demo")
        stub.assert_no_pending_responses()
    assert SLR in str(failure.value.exception)
    # 9 jittered sleeps, each below its doubling ceiling (1, 2, 4 ... at most 30 s)
    assert len(no_sleep) == 9 and all(0 <= slept <= min(2**n, 30) for n, slept in enumerate(no_sleep))


def test_a_cluster_whose_capacity_providers_are_being_updated_is_deleted_once_the_update_ends(no_sleep):
    api, stub = stubbed("ecs")
    refusal = "There's already a current update in progress for the cluster. Wait for the update to complete."
    stub.add_client_error("delete_cluster", service_error_code="UpdateInProgressException", service_message=refusal, expected_params={"cluster": "demo"})
    stub.add_response("delete_cluster", {"cluster": dict(CLUSTER, status="INACTIVE")}, {"cluster": "demo"})
    stub.add_client_error("put_cluster_capacity_providers", service_error_code="UpdateInProgressException", service_message=refusal)
    stub.add_response("put_cluster_capacity_providers", {"cluster": CLUSTER})
    with stub:
        assert ecs.delete_cluster(api, "demo") is True
        assert ecs.put_cluster_capacity_providers(api, "demo", ["FARGATE"], [])["clusterName"] == "demo"
        stub.assert_no_pending_responses()
    assert len(no_sleep) == 2
