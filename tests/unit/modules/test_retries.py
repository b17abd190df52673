"""Every custom module's client-layer calls retry throttling and server errors with jittered
exponential backoff, then fail with a clear message once the retries run out.
botocore's Stubber answers the calls (no network); the backoff sleeps are recorded, not slept."""

import boto3
import pytest
from botocore.config import Config
from botocore.stub import Stubber

from ansible_collections.amazon.aws.plugins.module_utils import cloud
from ansible_collections.bluegreen.migration.plugins.module_utils import cloudwatch, ecs, elbv2, secretsmanager, sns

ACCOUNT = "123456789012"
CLUSTER = {"clusterArn": f"arn:aws:ecs:us-east-1:{ACCOUNT}:cluster/demo", "clusterName": "demo", "status": "ACTIVE"}
TASK_DEF = {"taskDefinitionArn": f"arn:aws:ecs:us-east-1:{ACCOUNT}:task-definition/app-blue:3", "family": "app-blue", "revision": 3}
SERVICE = {"serviceName": "app-blue", "status": "ACTIVE"}
TG_ARN = f"arn:aws:elasticloadbalancing:us-east-1:{ACCOUNT}:targetgroup/app-blue/0123456789abcdef"
TG = {"TargetGroupName": "app-blue", "TargetGroupArn": TG_ARN}
LISTENER_ARN = f"arn:aws:elasticloadbalancing:us-east-1:{ACCOUNT}:listener/app/app/0123456789abcdef/0123456789abcdef"
TOPIC_ARN = f"arn:aws:sns:us-east-1:{ACCOUNT}:alarms-demo"
SECRET_ARN = f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:aurora-credentials-demo-AbCdEf"
ALARM_ARN = f"arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:cpu-demo"
ALARM_DEFINITION = {"Namespace": "AWS/ECS", "MetricName": "CPUUtilization", "Statistic": "Average", "ComparisonOperator": "GreaterThanThreshold",
                    "Threshold": 80.0, "Period": 60, "EvaluationPeriods": 3}
FORWARD = [{"Type": "forward", "ForwardConfig": {"TargetGroups": [{"TargetGroupArn": TG_ARN, "Weight": 100}]}}]

# (module, service, call of the client layer, boto3 operation, answer, error class, failure message,
#  the service's own 5xx error code)
CALLS = [
    ("ecs_cluster", "ecs", lambda c: ecs.describe_cluster(c, "demo"), "describe_clusters", {"clusters": [CLUSTER], "failures": []},
     ecs.EcsError, "Failed to describe ECS cluster demo", "ServerException"),
    ("ecs_cluster", "ecs", lambda c: ecs.create_cluster(c, clusterName="demo"), "create_cluster", {"cluster": CLUSTER},
     ecs.EcsError, "Failed to create ECS cluster", "ServerException"),
    ("ecs_task_definition", "ecs", lambda c: ecs.describe_task_definition(c, "app-blue:3"), "describe_task_definition",
     {"taskDefinition": TASK_DEF, "tags": []}, ecs.EcsError, "Failed to describe task definition app-blue:3", "ServerException"),
    ("ecs_task_definition", "ecs", lambda c: ecs.register_task_definition(c, family="app-blue", containerDefinitions=[{"name": "app", "image": "nginx"}]),
     "register_task_definition", {"taskDefinition": TASK_DEF}, ecs.EcsError, "Failed to register a task definition", "ServerException"),
    ("ecs_task_definition", "ecs", lambda c: ecs.delete_task_definitions(c, "app-blue", [TASK_DEF["taskDefinitionArn"]]),
     "delete_task_definitions", {"taskDefinitions": [TASK_DEF], "failures": []}, ecs.EcsError,
     "Failed to delete revisions of task definition family app-blue", "ServerException"),
    ("ecs_service", "ecs", lambda c: ecs.describe_service(c, "demo", "app-blue"), "describe_services", {"services": [SERVICE], "failures": []},
     ecs.EcsError, "Failed to describe ECS service app-blue in cluster demo", "ServerException"),
    ("ecs_service", "ecs", lambda c: ecs.update_service(c, "demo", "app-blue", desiredCount=0), "update_service", {"service": SERVICE},
     ecs.EcsError, "Failed to update ECS service app-blue in cluster demo", "ServerException"),
    ("elb_target_group", "elbv2", lambda c: elbv2.describe_target_group(c, "app-blue"), "describe_target_groups", {"TargetGroups": [TG]},
     elbv2.Elbv2Error, "Failed to describe target group app-blue", "InternalFailure"),
    ("elb_target_group", "elbv2", lambda c: elbv2.create_target_group(c, Name="app-blue", TargetType="ip"), "create_target_group",
     {"TargetGroups": [TG]}, elbv2.Elbv2Error, "Failed to create target group", "InternalFailure"),
    ("elb_listener_weights", "elbv2", lambda c: elbv2.describe_listener(c, LISTENER_ARN), "describe_listeners",
     {"Listeners": [{"ListenerArn": LISTENER_ARN}]}, elbv2.Elbv2Error, f"Failed to describe listener {LISTENER_ARN}", "InternalFailure"),
    ("elb_listener_weights", "elbv2", lambda c: elbv2.modify_listener_default_actions(c, LISTENER_ARN, FORWARD), "modify_listener",
     {"Listeners": [{"ListenerArn": LISTENER_ARN}]}, elbv2.Elbv2Error, f"Failed to modify the default actions of listener {LISTENER_ARN}",
     "InternalFailure"),
    ("sns_topic", "sns", lambda c: sns.find_topic_arn(c, "alarms-demo"), "list_topics", {"Topics": [{"TopicArn": TOPIC_ARN}]},
     sns.SnsError, "Failed to find SNS topic alarms-demo", "InternalError"),
    ("sns_topic", "sns", lambda c: sns.create_topic(c, "alarms-demo", {}, {}), "create_topic", {"TopicArn": TOPIC_ARN},
     sns.SnsError, "Failed to create SNS topic alarms-demo", "InternalError"),
    ("secretsmanager_secret", "secretsmanager", lambda c: secretsmanager.describe_secret(c, "aurora-credentials-demo"), "describe_secret",
     {"ARN": SECRET_ARN, "Name": "aurora-credentials-demo"}, secretsmanager.SecretsManagerError,
     "Failed to describe secret aurora-credentials-demo", "InternalServiceError"),
    ("secretsmanager_secret", "secretsmanager", lambda c: secretsmanager.create_secret(c, "aurora-credentials-demo", "{}"), "create_secret",
     {"ARN": SECRET_ARN, "Name": "aurora-credentials-demo"}, secretsmanager.SecretsManagerError,
     "Failed to create secret aurora-credentials-demo", "InternalServiceError"),
    ("metric_alarms", "cloudwatch", lambda c: cloudwatch.describe_alarm_batch(c, ["cpu-demo"]), "describe_alarms",
     {"MetricAlarms": [{"AlarmName": "cpu-demo", "AlarmArn": ALARM_ARN}]}, cloudwatch.CloudWatchError,
     "Failed to describe CloudWatch alarms ['cpu-demo']", "InternalServiceError"),
    ("metric_alarms", "cloudwatch", lambda c: cloudwatch.put_metric_alarm(c, "cpu-demo", ALARM_DEFINITION, {"team": "x"}), "put_metric_alarm", {},
     cloudwatch.CloudWatchError, "Failed to put CloudWatch alarm cpu-demo", "InternalServiceError"),
    ("metric_alarms", "cloudwatch", lambda c: cloudwatch.delete_alarm_batch(c, ["cpu-demo"]), "delete_alarms", {},
     cloudwatch.CloudWatchError, "Failed to delete CloudWatch alarms ['cpu-demo']", "InternalServiceError"),
    ("metric_alarms", "cloudwatch", lambda c: cloudwatch.list_tags(c, ALARM_ARN), "list_tags_for_resource", {"Tags": [{"Key": "team", "Value": "x"}]},
     cloudwatch.CloudWatchError, f"Failed to list the tags of CloudWatch alarm {ALARM_ARN}", "InternalServiceError"),
    ("metric_alarms", "cloudwatch", lambda c: cloudwatch.tag_resource(c, ALARM_ARN, {"team": "x"}), "tag_resource", {},
     cloudwatch.CloudWatchError, f"Failed to tag CloudWatch alarm {ALARM_ARN}", "InternalServiceError"),
    ("metric_alarms", "cloudwatch", lambda c: cloudwatch.untag_resource(c, ALARM_ARN, ["team"]), "untag_resource", {},
     cloudwatch.CloudWatchError, f"Failed to untag CloudWatch alarm {ALARM_ARN}", "InternalServiceError"),
]
IDS = [f"{c[0]}-{c[3]}" for c in CALLS]
TRANSIENT = [("Throttling", 400), ("ThrottlingException", 400), ("RequestLimitExceeded", 503), ("ServiceUnavailable", 503)]
RETRIES = 10  # core.aws_retry(): 10 attempts, delay 1 s doubling, at most 30 s


def stubbed(service):
    # botocore's own retries off, so every stubbed answer reaches our layer; dummy credentials
    session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1")  # noqa: S106
    api = session.client(service, config=Config(retries={"total_max_attempts": 1}))
    return api, Stubber(api)


@pytest.fixture
def sleeps(monkeypatch):
    """Backoff sleeps, recorded instead of slept; jitter draws its largest value so the bounds show."""
    recorded, draws = [], []

    def uniform(low, high):
        draws.append((low, high))
        return high

    monkeypatch.setattr(cloud.time, "sleep", recorded.append)
    monkeypatch.setattr(cloud.random, "uniform", uniform)
    return recorded, draws


@pytest.mark.parametrize("module, service, call, operation, answer, error, message, server_error", CALLS, ids=IDS)
def test_transient_errors_are_retried_with_jittered_backoff(sleeps, module, service, call, operation, answer, error, message, server_error):
    recorded, draws = sleeps
    api, stub = stubbed(service)
    for code, status in TRANSIENT:
        stub.add_client_error(operation, service_error_code=code, http_status_code=status)
    stub.add_response(operation, answer)
    with stub:
        assert call(api) is not None
        stub.assert_no_pending_responses()
    # One sleep per failed attempt, each a uniform draw from [0, 1 s * 2^n].
    assert recorded == [1, 2, 4, 8]
    assert draws[:4] == [(0.0, 1), (0.0, 2), (0.0, 4), (0.0, 8)]


@pytest.mark.parametrize("module, service, call, operation, answer, error, message, server_error", CALLS, ids=IDS)
def test_the_services_own_server_error_is_retried(sleeps, module, service, call, operation, answer, error, message, server_error):
    api, stub = stubbed(service)
    stub.add_client_error(operation, service_error_code=server_error, http_status_code=500)
    stub.add_response(operation, answer)
    with stub:
        assert call(api) is not None
        stub.assert_no_pending_responses()
    assert sleeps[0] == [1]


@pytest.mark.parametrize("module, service, call, operation, answer, error, message, server_error", CALLS, ids=IDS)
def test_after_the_last_retry_a_clear_error(sleeps, module, service, call, operation, answer, error, message, server_error):
    recorded, draws = sleeps
    api, stub = stubbed(service)
    for _attempt in range(RETRIES):
        stub.add_client_error(operation, service_error_code="Throttling", service_message="Rate exceeded", http_status_code=400)
    with stub:
        with pytest.raises(error) as failure:
            call(api)
        stub.assert_no_pending_responses()
    # The message names what failed; the botocore error (kept for fail_json_aws) says why.
    assert failure.value.message == message
    assert "Throttling" in str(failure.value.exception) and "Rate exceeded" in str(failure.value.exception)
    # Nine waits between ten attempts, the bound doubling up to the 30 s ceiling.
    assert recorded == [1, 2, 4, 8, 16, 30, 30, 30, 30]
    assert all(low == 0.0 for low, _high in draws)
