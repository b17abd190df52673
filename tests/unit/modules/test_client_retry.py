"""The client layer retries throttling with jittered backoff, then fails with a clear error.
botocore's Stubber answers the calls (no network, no emulator)."""

import boto3
import pytest
from botocore.config import Config
from botocore.stub import Stubber

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
