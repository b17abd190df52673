"""lambda_invoke: one synchronous invocation, never sent twice, whatever its length.

The emulator tests run against the realistic emulator with only the long_invocation
behaviour on: the proxy forwards the Invoke to moto (which records it and
answers from its queue), then holds the answer for the configured seconds, as a function
that runs that long would."""

import errno
import io
import json
import socket
import sys
import time
import zipfile

import boto3
import botocore
import pytest
import urllib3
from botocore.config import Config
from botocore.response import StreamingBody
from botocore.stub import Stubber

from ansible_collections.bluegreen.migration.plugins.module_utils import awslambda
from tests.harness.aws import run_module

FUNCTION = "migrator-li"
ANSWER = {"ok": True, "action": "apply", "applied": [{"file": "0002_add_column.sql"}], "current_version": "0002"}


@pytest.fixture
def lam(realistic_aws):
    """A clean account on the realistic emulator with the function (timeout 5 s) in it, only
    the long invocation behaviour on (no hold yet; exact call counts need no throttling)."""
    behaviours = realistic_aws.realism("config")
    realistic_aws.realism("config", {name: {"enabled": name == "long_invocation"} for name in behaviours})
    create_function(timeout=5)
    return realistic_aws


def create_function(timeout=3, name=FUNCTION, role_name=None, policies=(), **options):
    """A Python function `name` with an execution role of its own (`role_name`, else `name`)
    holding the managed `policies`; `options`: more of CreateFunction's (VpcConfig ...)."""
    iam, lam = boto3.client("iam", region_name="us-east-1"), boto3.client("lambda", region_name="us-east-1")
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    role = iam.create_role(RoleName=role_name or name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    for policy in policies:
        iam.attach_role_policy(RoleName=role_name or name, PolicyArn=policy)
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as zf:
        # A fixed date: the same code makes the same zip (and CodeSha256) whenever it is made.
        zf.writestr(zipfile.ZipInfo("index.py", date_time=(2020, 1, 1, 0, 0, 0)), "def handler(event, context):\n    return {}\n")
    lam.create_function(
        FunctionName=name, Runtime="python3.12", Role=role, Handler="index.handler", Code={"ZipFile": code.getvalue()}, Timeout=timeout, **options
    )


# ---------------------------------------------------------------- without the emulator


def test_read_timeout_default_is_the_functions_timeout_plus_a_margin():
    assert awslambda.READ_TIMEOUT_MARGIN == 30
    assert awslambda.default_read_timeout({"Timeout": 900}) == 930
    assert awslambda.default_read_timeout({"Timeout": 65}) == 95
    # Lambda's own default timeout when the configuration has none
    assert awslambda.default_read_timeout({}) == 33


def test_invoke_client_config_has_one_attempt_and_the_read_timeout():
    config = awslambda.invoke_config(95)
    assert config.read_timeout == 95
    assert config.connect_timeout == awslambda.CONNECT_TIMEOUT
    assert config.retries == {"total_max_attempts": 1}
    # What aws_config sets is kept, except what the invocation relies on.
    merged = Config(read_timeout=5, retries={"mode": "standard", "total_max_attempts": 5}, max_pool_connections=3).merge(config)
    assert (merged.read_timeout, merged.retries["total_max_attempts"], merged.max_pool_connections) == (95, 1, 3)


def stubbed_lambda():
    session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1")  # noqa: S106
    api = session.client("lambda", config=awslambda.invoke_config(10))
    return api, Stubber(api)


def invoke_answer(output):
    body = json.dumps(output).encode()
    return {"StatusCode": 200, "Payload": StreamingBody(io.BytesIO(body), len(body))}


class CutOff(io.RawIOBase):
    """An answer's body whose connection breaks while it is read, as urllib3 reports it."""

    def read(self, amt=-1):
        raise urllib3.exceptions.ProtocolError("Connection broken: IncompleteRead(7 bytes read, 20 more expected)")


def test_an_answer_cut_off_says_the_function_ran_and_is_not_invoked_again():
    api, stub = stubbed_lambda()
    stub.add_response("invoke", {"StatusCode": 200, "Payload": StreamingBody(CutOff(), 27)})
    with stub, pytest.raises(awslambda.InvocationTimeout) as cut:
        awslambda.invoke(api, FUNCTION, {"action": "apply"}, read_timeout=10)
    assert cut.value.message.startswith(f"Lambda function {FUNCTION} ran (status 200), but its answer was cut off on the way.")
    stub.assert_no_pending_responses()


def test_throttling_and_not_started_answers_are_retried_others_not():
    api, stub = stubbed_lambda()
    stub.add_client_error("invoke", service_error_code="TooManyRequestsException", http_status_code=429)
    stub.add_client_error("invoke", service_error_code="ResourceNotReadyException", http_status_code=502)
    stub.add_response("invoke", invoke_answer(ANSWER))
    # ServiceException (500) does not say whether the function ran: not retried
    stub.add_client_error("invoke", service_error_code="ServiceException", service_message="internal", http_status_code=500)
    with stub:
        result, error = awslambda.invoke(api, FUNCTION, {"action": "apply"})
        assert result == {"status": 200, "output": ANSWER, "logs": ""} and error is None
        with pytest.raises(awslambda.LambdaError) as failure:
            awslambda.invoke(api, FUNCTION, {"action": "apply"})
        stub.assert_no_pending_responses()
    assert failure.value.message == f"Failed to invoke Lambda function {FUNCTION}"


class TimingOut:
    """A Lambda client whose every Invoke times out reading the answer."""

    def __init__(self):
        self.calls = 0

    def invoke(self, **params):
        self.calls += 1
        raise botocore.exceptions.ReadTimeoutError(endpoint_url="http://127.0.0.1/2015-03-31/functions/x/invocations")


def test_a_read_timeout_is_not_retried():
    api = TimingOut()
    with pytest.raises(awslambda.InvocationTimeout) as failure:
        awslambda.invoke(api, FUNCTION, {}, read_timeout=7)
    assert api.calls == 1
    assert "within the read timeout of 7 s" in failure.value.message
    assert "may still be running" in failure.value.message


def test_function_errors_are_recognised():
    assert awslambda.function_error(ANSWER) is None
    assert awslambda.function_error({"ok": False, "error": "locked"}) is None
    error = awslambda.function_error({"errorMessage": "boom", "errorType": "RuntimeError", "stackTrace": ["a", "b"]}, "Unhandled")
    assert error == {"type": "RuntimeError", "message": "boom", "trace": "a\nb"}
    assert awslambda.function_error("Task timed out", "Unhandled") == {"type": "Unhandled", "message": "Task timed out", "trace": ""}


# ---------------------------------------------------------------- on the realistic emulator


def test_answer_in_lambda_execute_shape_with_the_default_read_timeout(lam):
    lam.queue_lambda_answers(ANSWER)
    result = run_module("lambda_invoke", {"name": FUNCTION, "payload": {"action": "apply", "phase": "expand"}})
    assert result.get("failed") is not True, result
    assert result["changed"] is True
    assert result["result"] == {"output": ANSWER, "logs": "", "status": 200}
    # the function's Timeout (5 s) + 30 s
    assert result["read_timeout"] == 35
    assert lam.lambda_invocations() == [{"action": "apply", "phase": "expand"}]


def test_a_read_timeout_fails_clearly_after_exactly_one_invocation(lam):
    lam.queue_lambda_answers(ANSWER, count=3)
    lam.realism("config", {"long_invocation": {"seconds": 5}})
    result = run_module("lambda_invoke", {"name": FUNCTION, "payload": {"action": "apply"}, "read_timeout": 2})
    assert result["failed"] is True
    assert "no answer within the read timeout of 2 s" in result["msg"]
    assert "may still be running" in result["msg"]
    assert result["read_timeout"] == 2
    assert lam.lambda_invocations() == [{"action": "apply"}]
    assert [e["detail"].split(";")[0] for e in lam.realism("events")] == ["answer held 5 s"]


def test_throttled_invocation_is_retried_and_runs_once(lam):
    lam.queue_lambda_answers(ANSWER)
    # GetFunctionConfiguration is call 1, the first Invoke call 2 (throttled), the retry call 3.
    lam.realism("config", {"throttling": {"enabled": True, "every": 2}})
    try:
        result = run_module("lambda_invoke", {"name": FUNCTION, "payload": {"action": "validate"}})
    finally:
        lam.realism("config", {"throttling": {"enabled": False}})
    assert result.get("failed") is not True, result
    assert result["result"]["output"] == ANSWER
    assert [e["detail"] for e in lam.realism("events")] == ["TooManyRequestsException"]
    assert lam.lambda_invocations() == [{"action": "validate"}]


def test_a_function_error_fails_with_its_message(lam):
    lam.queue_lambda_answers({"errorMessage": "relation missing", "errorType": "ProgrammingError", "stackTrace": ["index.py line 3"]})
    result = run_module("lambda_invoke", {"name": FUNCTION, "payload": {"action": "apply"}})
    assert result["failed"] is True
    assert "Message: relation missing, Type: ProgrammingError, Stack Trace: index.py line 3" in result["msg"]
    assert result["result"]["output"]["errorMessage"] == "relation missing"


def test_check_mode_sends_a_dry_run(lam):
    result = run_module("lambda_invoke", {"name": FUNCTION, "payload": {"action": "apply"}}, check=True)
    assert result.get("failed") is not True, result
    assert result["result"] == {"output": "", "logs": "", "status": 204}


def test_an_inactive_function_is_woken_then_invoked_once(lam):
    """A VPC function idle for weeks is Inactive: no waiter leads out of it, an invocation is
    refused without running it and wakes it, and once Active it runs the payload once."""
    lam.queue_lambda_answers(ANSWER, count=2)
    lam.realism("config", {"idle_functions": {"enabled": True, "functions": [FUNCTION], "waking_seconds": 3}})
    started = time.monotonic()
    result = run_module("lambda_invoke", {"name": FUNCTION, "payload": {"action": "validate"}})
    assert result.get("failed") is not True, result
    assert result["result"]["output"] == ANSWER
    # The refused invocation never reached the function: it ran once.
    assert lam.lambda_invocations() == [{"action": "validate"}]
    details = [e["detail"] for e in lam.realism("events")]
    assert details[:2] == [f"{FUNCTION} Inactive", f"ResourceNotReadyException {FUNCTION} inactive, waking"], details
    assert f"{FUNCTION} Pending" in details
    # Woken and waited for, not polled until a waiter gives up (5 minutes).
    assert time.monotonic() - started < 60


def test_a_function_just_created_or_updated_is_waited_for_then_invoked_once(lam):
    """Lambda refuses to invoke a function still Pending (just created) and to update one whose
    last update is InProgress (ResourceConflictException): the module waits until it is Active
    and updated, then sends the payload once."""
    api = boto3.client("lambda", region_name="us-east-1")
    lam.realism("config", {"slow_states": {"enabled": True, "lambda_seconds": 8}})
    lam.queue_lambda_answers(ANSWER, count=2)
    create_function(name="migrator-li-new")
    with pytest.raises(api.exceptions.ResourceConflictException, match="following state: Pending"):
        api.invoke(FunctionName="migrator-li-new", Payload=b"{}")
    result = run_module("lambda_invoke", {"name": "migrator-li-new", "payload": {"action": "apply"}})
    assert result.get("failed") is not True, result
    assert result["result"]["output"] == ANSWER

    api.update_function_configuration(FunctionName="migrator-li-new", Timeout=6)
    with pytest.raises(api.exceptions.ResourceConflictException, match="update is in progress"):
        api.update_function_configuration(FunctionName="migrator-li-new", Timeout=7)
    result = run_module("lambda_invoke", {"name": "migrator-li-new", "payload": {"action": "validate"}})
    assert result.get("failed") is not True, result
    assert result["read_timeout"] == 36  # the updated Timeout (6 s) + 30 s
    details = [e["detail"] for e in lam.realism("events")]
    assert "migrator-li-new Pending" in details and "migrator-li-new InProgress" in details, details
    # The module's own calls were never refused: each payload ran once, after the wait.
    assert [d for d in details if d.startswith("ResourceConflictException")] == [
        "ResourceConflictException migrator-li-new Pending", "ResourceConflictException migrator-li-new update in progress"]
    assert lam.lambda_invocations() == [{"action": "apply"}, {"action": "validate"}]


def test_a_missing_function_fails_before_any_invocation(lam):
    result = run_module("lambda_invoke", {"name": "no-such-function", "payload": {}})
    assert result["failed"] is True
    assert "no-such-function does not exist" in result["msg"]
    assert lam.lambda_invocations() == []


@pytest.mark.slow(seconds=115)
def test_an_invocation_longer_than_60_s_is_sent_once(lam):
    """botocore's defaults (60 s read timeout, retried) would send this Invoke again after 60 s
    while the first one still runs; lambda_invoke waits for the one answer."""
    boto3.client("lambda", region_name="us-east-1").update_function_configuration(FunctionName=FUNCTION, Timeout=120)
    lam.queue_lambda_answers(ANSWER, count=3)
    lam.realism("config", {"long_invocation": {"seconds": 65}})
    started = time.monotonic()
    result = run_module("lambda_invoke", {"name": FUNCTION, "payload": {"action": "apply", "phase": "expand"}})
    assert result.get("failed") is not True, result
    assert time.monotonic() - started >= 65
    assert result["read_timeout"] == 150
    assert result["result"]["output"] == ANSWER
    assert lam.lambda_invocations() == [{"action": "apply", "phase": "expand"}]
    # The emulator takes the held answer for one past a NAT gateway's 350 s idle timeout: it
    # reached the client because the connection sent keepalive probes sooner (judged on Linux).
    [event] = [e["detail"] for e in lam.realism("events")]
    if sys.platform == "linux":
        assert event.startswith("answer held 65 s; TCP keepalive probes (the next in "), event
        assert float(event.split("the next in ")[1].split(" s")[0]) <= awslambda.KEEPALIVE_IDLE, event


@pytest.mark.skipif(sys.platform != "linux", reason="the emulator reads keepalive timers from Linux's /proc/net/tcp")
def test_a_long_answer_is_lost_to_a_connection_without_timely_keepalive_probes(lam):
    """The emulator's side of the test above: the answer of an invocation longer than a NAT
    gateway's idle timeout (2 s here) never reaches a client whose connection stays quiet
    (botocore's defaults: it waits until its read timeout), and one whose first probe comes
    after it (5 s) has its connection reset then. The function ran each time."""
    lam.queue_lambda_answers(ANSWER, count=3)
    lam.realism("config", {"long_invocation": {"seconds": 1, "idle_seconds": 2}})
    quiet = boto3.client("lambda", region_name="us-east-1", config=Config(read_timeout=4, retries={"total_max_attempts": 1}))
    with pytest.raises(botocore.exceptions.ReadTimeoutError):
        quiet.invoke(FunctionName=FUNCTION, Payload=json.dumps({"action": "status"}))
    late = boto3.client("lambda", region_name="us-east-1", config=awslambda.invoke_config(30))
    late._endpoint.http_session._socket_options.append((socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 5))
    started = time.monotonic()
    with pytest.raises(botocore.exceptions.ConnectionClosedError):
        late.invoke(FunctionName=FUNCTION, Payload=json.dumps({"action": "status"}))
    # Reset when the probe comes, about 5 s after the request.
    assert 3.5 < time.monotonic() - started < 15
    # Through the module's invoke (the same client): the message says the function may have run.
    with pytest.raises(awslambda.InvocationTimeout) as lost:
        awslambda.invoke(late, FUNCTION, {"action": "status"}, read_timeout=30)
    assert "closed before function migrator-li answered" in lost.value.message and "not retried" in lost.value.message
    assert lam.lambda_invocations() == [{"action": "status"}] * 3
    details = [e["detail"].split(", then lost: ")[-1] for e in lam.realism("events")]
    assert details[0] == "the connection sends no TCP keepalive probe, and is dropped after 2 s of quiet", details
    for detail in details[1:]:
        assert detail.startswith("the connection's first TCP keepalive probe (in "), details
        assert detail.endswith(" s) comes after 2 s of quiet, and is reset"), details
        assert 2 < float(detail.split("(in ")[1].split(" s)")[0]) <= 5, details


def read_timeout_error(cause):
    """botocore's ReadTimeoutError as urllib3 raises it for this socket error."""
    try:
        try:
            raise cause
        except OSError as socket_error:
            raise urllib3.exceptions.ReadTimeoutError(None, "/2015-03-31/functions/f/invocations", "Read timed out.") from socket_error
    except urllib3.exceptions.ReadTimeoutError as e:
        return botocore.exceptions.ReadTimeoutError(endpoint_url="http://127.0.0.1/", error=e)


def read_timeout_error_in_handling(cause):
    """The same as urllib3 1.26 raises it: within the handling of the socket error, not `from` it."""
    try:
        try:
            raise cause
        except OSError:
            raise urllib3.exceptions.ReadTimeoutError(None, "/2015-03-31/functions/f/invocations", "Read timed out.")  # noqa: B904
    except urllib3.exceptions.ReadTimeoutError as e:
        return botocore.exceptions.ReadTimeoutError(endpoint_url="http://127.0.0.1/", error=e)


def test_a_read_ended_by_unanswered_keepalive_probes_is_a_lost_connection():
    """The kernel ends a connection whose keepalive probes go unanswered with ETIMEDOUT, which
    urllib3 reports as a read timeout: the message says the connection was lost, not that the
    function was slow."""
    dead = TimeoutError(errno.ETIMEDOUT, "Connection timed out")
    lost = awslambda.no_answer("f", 930, 145.2, read_timeout_error(dead))
    assert awslambda.no_answer("f", 930, 145.2, read_timeout_error_in_handling(dead)) == lost
    slow = awslambda.no_answer("f", 930, 930.4, read_timeout_error(TimeoutError("timed out")))
    assert "the connection was lost within 145 s (its TCP keepalive probes went unanswered), before the read timeout of 930 s" in lost
    assert "sent no answer within the read timeout of 930 s." in slow and "lost" not in slow
    for message in (lost, slow):
        assert message.endswith("the function may still be running. Check its logs before invoking it again.")


@pytest.mark.skipif(sys.platform != "linux", reason="TCP_KEEPIDLE is Linux's name")
def test_keep_alive_times_the_probes_of_the_clients_connections():
    """botocore's tcp_keepalive sets SO_KEEPALIVE only; keep_alive adds the timing to the
    options every connection of the client is opened with (once, however often it is called)."""
    client = boto3.client("lambda", region_name="us-east-1", config=awslambda.invoke_config(10))
    assert awslambda.keep_alive(client) and awslambda.keep_alive(client)
    session = client._endpoint.http_session
    for options in (session._socket_options, session._manager.connection_pool_kw["socket_options"]):
        assert sorted(set(options)) == sorted(options)
        assert set(awslambda.keepalive_socket_options()) <= set(options)
    assert (socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, awslambda.KEEPALIVE_IDLE) in session._socket_options
    assert (socket.IPPROTO_TCP, socket.TCP_KEEPCNT, awslambda.KEEPALIVE_PROBES) in session._socket_options
    # Another botocore, whose session keeps its options elsewhere: nothing changed, False.
    assert awslambda.keep_alive(object()) is False


def test_a_function_lambda_could_not_set_up_is_reported_with_its_reason_and_planned_again(lam):
    """A function whose creation failed stays Failed (no free address in its subnets ...): the
    invocation says so with Lambda's reason, sends nothing, and the plan replaces the function."""
    lam.realism("config", {"function_failures": {"enabled": True, "count": 1}})
    create_function(name="migrator-li-failed")
    result = run_module("lambda_invoke", {"name": "migrator-li-failed", "payload": {"action": "status"}})
    assert result["failed"] is True, result
    assert "Lambda function migrator-li-failed is Failed (SubnetOutOfIPAddresses: " in result["msg"], result["msg"]
    assert "fix the cause, then create the function again (site.yml replaces the migrator's)" in result["msg"]
    assert [e["detail"] for e in lam.realism("events") if e["behaviour"] == "function_failures"]
    assert lam.lambda_invocations() == []

    configuration = boto3.client("lambda", region_name="us-east-1").get_function_configuration(FunctionName="migrator-li-failed")
    wanted = {"name": "migrator-li-failed", "runtime": "python3.12", "handler": "index.handler", "role": "migrator-li-failed",
              "memory_size": configuration["MemorySize"], "timeout": configuration["Timeout"], "code_sha256": configuration["CodeSha256"]}
    plan = run_module("lambda_function_plan", {"function": wanted})
    assert plan["apply"]["function"] is True and plan["apply"]["function_replace"] is True, plan
    assert [(c["action"], c["fields"]) for c in plan["changes"]] == [("replace", {"state": {"before": "Failed", "after": "Active"}})]
    assert "SubnetOutOfIPAddresses" in plan["changes"][0]["reason"]
    # The function in shape otherwise: Active, it plans nothing.
    boto3.client("lambda", region_name="us-east-1").delete_function(FunctionName="migrator-li-failed")
    create_function(name="migrator-li-failed", role_name="migrator-li-failed-2")
    wanted["role"] = "migrator-li-failed-2"
    again = run_module("lambda_function_plan", {"function": wanted})
    assert again["apply"]["function_replace"] is False and again["changes"] == [], again["changes"]


def test_a_failed_function_or_update_is_waited_for_so_that_its_reason_is_reported():
    from ansible_collections.bluegreen.migration.plugins.module_utils import awslambda

    assert awslambda.not_ready({"State": "Failed"}) and awslambda.not_ready({"State": "Active", "LastUpdateStatus": "Failed"})
    assert not awslambda.not_ready({"State": "Active", "LastUpdateStatus": "Successful"}) and not awslambda.not_ready({"State": "Inactive"})
    assert awslambda.failed_reason({"LastUpdateStatus": "Failed", "LastUpdateStatusReasonCode": "SubnetOutOfIPAddresses",
                                    "LastUpdateStatusReason": "no address"}, "LastUpdateStatus") == "SubnetOutOfIPAddresses: no address"
    assert awslambda.failed_reason({"State": "Active"}) == "" and awslambda.failed_reason({"State": "Failed"}) == "Failed: no reason given"
