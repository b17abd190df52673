# -*- coding: utf-8 -*-
# Copyright: bluegreen.migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Thin Lambda client layer: one synchronous invocation that is never sent twice, and the read
and plan of a function (GetFunction compared with what amazon.aws.lambda would set).

botocore retries a read timeout like any connection error, so with its defaults (60 s read
timeout, several attempts) a function that runs longer than 60 s is invoked again while the
first run goes on. The Invoke client here has a read timeout longer than the function's own
timeout and botocore's retries off; only the answers that say the function did not run
(throttling, Lambda's "not started" 5xx codes) are retried, by our jittered backoff."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import errno
import json
import re
import socket
import time

try:
    import botocore
    from botocore.config import Config
except ImportError:
    pass  # AnsibleAWSModule reports a missing botocore

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError

from ansible_collections.bluegreen.migration.plugins.module_utils.core import aws_retry
from ansible_collections.bluegreen.migration.plugins.module_utils.diff import tag_drift
from ansible_collections.bluegreen.migration.plugins.module_utils.plan import change
from ansible_collections.bluegreen.migration.plugins.module_utils.plan import created
from ansible_collections.bluegreen.migration.plugins.module_utils.plan import fields_that_differ
from ansible_collections.bluegreen.migration.plugins.module_utils.plan import string_values
from ansible_collections.bluegreen.migration.plugins.module_utils.plan import update_or_nothing

# Added to the function's own timeout when no read timeout is given: start-up (cold start,
# VPC attachment) and the answer's way back take time the function's timeout does not count.
READ_TIMEOUT_MARGIN = 30
CONNECT_TIMEOUT = 10
# A NAT gateway drops a TCP flow idle for 350 s (a Network Load Balancer or Network Firewall by
# default; their minimum is 60 s) and tells neither end until a later packet meets a reset
# (https://docs.aws.amazon.com/vpc/latest/userguide/nat-gateway-troubleshooting.html): a
# controller behind one would wait for an answer that never comes. TCP keepalive probes keep the
# flow; botocore's tcp_keepalive turns them on but leaves their timing to the OS (Linux: the first
# after 7200 s). Here: a probe after 45 s of quiet; unanswered ones every 20 s, and after 5 of them
# (about 145 s) the connection counts as lost.
KEEPALIVE_IDLE = 45
KEEPALIVE_INTERVAL = 20
KEEPALIVE_PROBES = 5
# https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html#API_Invoke_Errors: answers
# that mean the function was not started, so sending the call again cannot run it twice.
# (ServiceException, a 500, is left out: it does not say whether the function ran.)
NOT_STARTED_CODES = ["TooManyRequestsException", "EC2ThrottledException", "ResourceNotReadyException"]

# A function's own environment variables, as Lambda's CreateFunction and
# UpdateFunctionConfiguration accept them (InvalidParameterValueException otherwise): keys the
# runtime sets itself are refused, a key is a letter then letters, digits or `_`, and the whole
# set, measured as the compact JSON of its string values, fits in 4 KB.
# https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html (TZ, LANG, PATH and
# AWS_LAMBDA_EXEC_WRAPPER are not reserved: a function may set them).
RESERVED_ENVIRONMENT_KEYS = frozenset((
    "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR",
))
ENVIRONMENT_KEY_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9_]+")
ENVIRONMENT_MAX_BYTES = 4096
# Credentials reach the function through Secrets Manager, never its configuration (which
# GetFunctionConfiguration shows to anyone allowed to read it).
PASSWORD_LIKE_KEY = re.compile(r"(?i)pass(word)?|pwd")


def environment_problems(extra, own):
    """Why a function's environment would be refused: [message], empty when none. `extra` is
    the user's variables, `own` those the role sets itself (which `extra` must not name); the
    size is measured on both together, as strings, as Lambda measures what it is sent."""
    problems = []
    reserved = sorted(set(extra) & RESERVED_ENVIRONMENT_KEYS)
    if reserved:
        problems.append("%s: set by the Lambda runtime itself, which refuses them in a function's configuration" % ", ".join(reserved))
    malformed = sorted(repr(key) if not isinstance(key, str) or not key.isprintable() else key
                       for key in extra if not ENVIRONMENT_KEY_PATTERN.fullmatch(str(key)))
    if malformed:
        problems.append("%s: a key must be a letter then letters, digits or _ (at least 2 characters)" % ", ".join(malformed))
    secret = sorted(str(key) for key in extra if PASSWORD_LIKE_KEY.search(str(key)))
    if secret:
        problems.append("%s: looks like a password; the function reads the database password from its secret" % ", ".join(secret))
    taken = sorted(set(extra) & set(own))
    if taken:
        problems.append("%s: set by the role (the secret's ARN and the TLS settings), not an input" % ", ".join(taken))
    sent = dict(string_values(extra), **string_values(own))
    size = len(json.dumps(sent, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
    if size > ENVIRONMENT_MAX_BYTES:
        problems.append("%d bytes in all (as JSON) where Lambda takes at most %d" % (size, ENVIRONMENT_MAX_BYTES))
    return problems


class LambdaError(AnsibleAWSError):
    pass


class LambdaErrorHandler(AWSErrorHandler):
    _CUSTOM_EXCEPTION = LambdaError

    @classmethod
    def _is_missing(cls):
        return is_boto3_error_code("ResourceNotFoundException")


def default_read_timeout(configuration):
    """The function's configured timeout (Lambda's default, 3 s, when unset) plus the margin."""
    return int(configuration.get("Timeout") or 3) + READ_TIMEOUT_MARGIN


def invoke_config(read_timeout, connect_timeout=CONNECT_TIMEOUT):
    """botocore Config of the Invoke client: the read timeout, exactly one attempt, and TCP
    keepalive (timed by keep_alive)."""
    return Config(read_timeout=read_timeout, connect_timeout=connect_timeout, retries={"total_max_attempts": 1}, tcp_keepalive=True)


def keepalive_socket_options():
    """Socket options for keepalive probes after KEEPALIVE_IDLE s of quiet, as far as the
    platform has them (macOS calls the idle time TCP_KEEPALIVE) and its sockets take them (an
    option refused would fail every connection); None without a way to set the idle time."""
    idle = getattr(socket, "TCP_KEEPIDLE", None) or getattr(socket, "TCP_KEEPALIVE", None)
    if idle is None:
        return None
    wanted = [(socket.IPPROTO_TCP, idle, KEEPALIVE_IDLE)]
    for option, value in ((getattr(socket, "TCP_KEEPINTVL", None), KEEPALIVE_INTERVAL), (getattr(socket, "TCP_KEEPCNT", None), KEEPALIVE_PROBES)):
        if option is not None:
            wanted.append((socket.IPPROTO_TCP, option, value))
    options = [(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)]
    try:
        with socket.socket() as probe:
            for option in wanted:
                try:
                    probe.setsockopt(*option)
                except OSError:
                    if option is wanted[0]:
                        return None
                    continue  # the OS's interval or count applies
                options.append(option)
    except OSError:
        return None  # no socket to try them on (no descriptor left, a sandbox)
    return options


def keep_alive(client):
    """Times the keepalive probes of a new client's connections (keepalive_socket_options).
    botocore has no setting for it, so the options go into the socket options its HTTP session
    opens connections with (before its first request: urllib3 keys its pools on them). Returns
    False, changing nothing, when that session is not found (another botocore) or the platform
    cannot set the idle time: the OS's timing applies then."""
    wanted = keepalive_socket_options()
    session = getattr(getattr(client, "_endpoint", None), "http_session", None)
    lists = [getattr(session, "_socket_options", None)]
    lists.append(getattr(getattr(session, "_manager", None), "connection_pool_kw", {}).get("socket_options"))
    if wanted is None or not all(isinstance(options, list) for options in lists):
        return False
    for options in {id(options): options for options in lists}.values():
        options.extend(option for option in wanted if option not in options)
    return True


def not_ready(configuration):
    """True while the function cannot be invoked yet (being created, restored or updated). An
    Inactive function is not waited for: it stays Inactive until an invocation wakes it."""
    # Failed (creation or last update) too: the wait then stops at once with Lambda's reason.
    return configuration.get("State", "Active") not in ("Active", "Inactive") or configuration.get("LastUpdateStatus") in ("InProgress", "Failed")


def inactive(configuration):
    """True when Lambda has reclaimed the network interfaces of a VPC function idle for weeks
    (https://docs.aws.amazon.com/lambda/latest/dg/functions-states.html): an invocation then
    fails with ResourceNotReadyException and sets the function Pending until they are back."""
    return configuration.get("State") == "Inactive"


class FunctionInactive(LambdaError):
    """The invocation of an Inactive function was refused (it was not run); the function wakes."""


@LambdaErrorHandler.list_error_handler("read the configuration of Lambda function {name}")
@aws_retry()
def get_function_configuration(client, name, qualifier=None):
    params = {"FunctionName": name}
    if qualifier:
        params["Qualifier"] = qualifier
    return client.get_function_configuration(**params)


def failed_reason(configuration, status="State"):
    """Why Lambda could not set the function up ('code: reason'), or '' unless it is Failed
    (https://docs.aws.amazon.com/lambda/latest/dg/functions-states.html: a function whose
    creation failed stays Failed and has to be deleted and created again). With
    status="LastUpdateStatus": why its last update failed. Lambda names the reason fields after
    the status field (StateReasonCode, LastUpdateStatusReason ...)."""
    configuration = configuration or {}
    if configuration.get(status) != "Failed":
        return ""
    return "%s: %s" % (configuration.get(status + "ReasonCode") or "Failed", configuration.get(status + "Reason") or "no reason given")


@LambdaErrorHandler.common_error_handler("wait for Lambda function {name} to be active and updated")
def wait_until_ready(client, name, qualifier=None):
    """Wait until the function is Active and its last update done; a function that ended Failed
    (or whose update failed) is reported with Lambda's reason, not as a timeout."""
    params = {"FunctionName": name}
    if qualifier:
        params["Qualifier"] = qualifier
    for waiter in ("function_active", "function_updated"):
        try:
            client.get_waiter(waiter).wait(**params)
        except botocore.exceptions.WaiterError as e:
            configuration = e.last_response or {}
            failed, update_failed = failed_reason(configuration), failed_reason(configuration, "LastUpdateStatus")
            if failed:
                raise LambdaError(message="Lambda function %s is Failed (%s): Lambda does not set it up again by itself; fix the cause, then "
                                  "create the function again (site.yml replaces the migrator's)" % (name, failed), exception=e) from e
            if update_failed:
                raise LambdaError(message="The last update of Lambda function %s failed (%s): fix the cause and run site.yml again"
                                  % (name, update_failed), exception=e) from e
            raise


class InvocationTimeout(LambdaError):
    """No whole answer came (none within the read timeout, the connection lost or closed before
    it, or the answer cut off): the function may have run, or still be running."""


@LambdaErrorHandler.common_error_handler("invoke Lambda function {name}")
def invoke(client, name, payload, qualifier=None, tail_log=False, dry_run=False, read_timeout=None, waking=False):
    """One synchronous Invoke (DryRun: only check parameters and permission). Returns the
    answer as amazon.aws.lambda_execute returns it, {output, logs, status}, and the function's
    error (see function_error). A read timeout, a connection lost or closed before the answer, or
    an answer cut off raises InvocationTimeout; nothing is ever sent again.
    `waking` (the function is Inactive): one attempt, and the refusal that wakes the function
    raises FunctionInactive; the caller waits until it is Active and invokes it again."""
    params = {
        "FunctionName": name,
        "InvocationType": "DryRun" if dry_run else "RequestResponse",
        "LogType": "Tail" if tail_log and not dry_run else "None",
        "Payload": json.dumps(payload),
    }
    if qualifier:
        params["Qualifier"] = qualifier
    started = time.monotonic()
    try:
        response = (_invoke_waking if waking else _invoke)(client, **params)
    except botocore.exceptions.ClientError as e:
        if waking and e.response.get("Error", {}).get("Code") == "ResourceNotReadyException":
            raise FunctionInactive(message=f"Lambda function {name} is inactive (idle): the invocation woke it and was not run", exception=e) from e
        raise
    except botocore.exceptions.ReadTimeoutError as e:
        raise InvocationTimeout(message=no_answer(name, read_timeout, time.monotonic() - started, e), exception=e) from e
    except botocore.exceptions.ConnectionClosedError as e:
        raise InvocationTimeout(
            message=(
                f"The connection to Lambda was closed before function {name} answered (a NAT gateway or load balancer on the way "
                "may have dropped it). The invocation was not retried: the function may have run or still be running. "
                "Check its logs before invoking it again."
            ),
            exception=e,
        ) from e
    result = {"status": response["StatusCode"], "output": "", "logs": ""}
    if response.get("LogResult"):
        result["logs"] = base64.b64decode(response["LogResult"]).decode("utf-8", "replace")
    if not dry_run:
        try:
            text = response["Payload"].read().decode("utf-8", "replace")
        except (botocore.exceptions.ReadTimeoutError, botocore.exceptions.ResponseStreamingError, botocore.exceptions.IncompleteReadError) as e:
            raise InvocationTimeout(
                message=f"Lambda function {name} ran (status {result['status']}), but its answer was cut off on the way. "
                "Check its logs: it was not invoked again.",
                exception=e,
            ) from e
        try:
            result["output"] = json.loads(text) if text else ""
        except ValueError as e:
            raise LambdaError(message=f"Lambda function {name} answered with a payload that is not JSON: {text[:200]!r}") from e
    return result, function_error(result["output"], response.get("FunctionError"))


def no_answer(name, read_timeout, waited, error=None):
    """The message of a read that ended without an answer: the read timeout ran out, or the
    connection was found dead (its keepalive probes went unanswered: the kernel's ETIMEDOUT,
    which urllib3 also reports as a read timeout). `error`: botocore's ReadTimeoutError."""
    read_error = (getattr(error, "kwargs", None) or {}).get("error")
    # urllib3 2 raises its ReadTimeoutError `from` the socket's error, urllib3 1.26 within its handling.
    cause = getattr(read_error, "__cause__", None) or getattr(read_error, "__context__", None)
    if getattr(cause, "errno", None) == errno.ETIMEDOUT:
        what = (f"Lambda function {name} sent no answer: the connection was lost within {waited:.0f} s (its TCP keepalive probes went "
                f"unanswered), before the read timeout of {read_timeout} s.")
    else:
        what = f"Lambda function {name} sent no answer within the read timeout of {read_timeout} s."
    return what + " The invocation was sent once and not retried: the function may still be running. Check its logs before invoking it again."


@aws_retry(extra_codes=NOT_STARTED_CODES)
def _invoke(client, **params):
    return client.invoke(**params)


# The same, but the refusal that wakes an Inactive function comes back at once.
@aws_retry(extra_codes=[code for code in NOT_STARTED_CODES if code != "ResourceNotReadyException"])
def _invoke_waking(client, **params):
    return client.invoke(**params)


def function_error(output, header=None):
    """The error a function reported (its x-amz-function-error header, or a payload with
    errorMessage or stackTrace as lambda_execute checks) as {type, message, trace}, or None."""
    if not header and not (isinstance(output, dict) and (output.get("errorMessage") or output.get("stackTrace"))):
        return None
    output = output if isinstance(output, dict) else {"errorMessage": output}
    trace = output.get("stackTrace") or []
    return {
        "type": output.get("errorType") or header,
        "message": output.get("errorMessage"),
        "trace": "\n".join(trace) if isinstance(trace, list) else str(trace),
    }


# --- The read and plan of a function (lambda_function_plan) --------------------------------

FUNCTION = "lambda function"


@LambdaErrorHandler.list_error_handler("read Lambda function {name}")
@aws_retry()
def get_function(client, name):
    """GetFunction's answer (Configuration, Code, Tags), or None when there is no such function."""
    return client.get_function(FunctionName=name)


def role_name(role):
    """The role's name from its ARN (arn:aws:iam::123456789012:role/path/name), or the name itself."""
    return (role or "").rsplit("/", 1)[-1]


def function_state(answer):
    """The fields amazon.aws.lambda sets, as GetFunction reports them (one call: the
    configuration, the code's SHA-256 and the tags)."""
    configuration = answer.get("Configuration") or {}
    vpc = configuration.get("VpcConfig") or {}
    return {
        "description": configuration.get("Description", ""),
        "runtime": configuration.get("Runtime"),
        "handler": configuration.get("Handler"),
        "role": role_name(configuration.get("Role")),
        "memory_size": configuration.get("MemorySize"),
        "timeout": configuration.get("Timeout"),
        "vpc_subnet_ids": sorted(vpc.get("SubnetIds") or []),
        "vpc_security_group_ids": sorted(vpc.get("SecurityGroupIds") or []),
        "environment": (configuration.get("Environment") or {}).get("Variables") or {},
        "code_sha256": configuration.get("CodeSha256"),
        "tags": answer.get("Tags") or {},
    }


def function_desired(wanted):
    """`wanted` (the options of amazon.aws.lambda the role passes) in function_state()'s shape:
    lists sorted, environment values as strings (Lambda stores strings), the role by name."""
    return {
        "description": wanted.get("description") or "",
        "runtime": wanted["runtime"],
        "handler": wanted["handler"],
        "role": role_name(wanted["role"]),
        "memory_size": wanted["memory_size"],
        "timeout": wanted["timeout"],
        "vpc_subnet_ids": sorted(wanted.get("vpc_subnet_ids") or []),
        "vpc_security_group_ids": sorted(wanted.get("vpc_security_group_ids") or []),
        "environment": dict((key, str(value)) for key, value in (wanted.get("environment") or {}).items()),
        "code_sha256": wanted["code_sha256"],
        "tags": wanted.get("tags"),
    }


def plan_function(wanted, answer):
    """(changes, apply) of the function: create when GetFunction found none, replace when Lambda
    could not set it up (Failed: no update repairs it), else one update naming each field
    amazon.aws.lambda would change (tags purged, as it does)."""
    desired = function_desired(wanted)
    if answer is None:
        return [change(FUNCTION, wanted["name"], "create", created(desired), "no function of that name")], True
    failed = failed_reason(answer.get("Configuration"))
    if failed:
        reason = "Lambda could not set the function up (%s) and does not try again: it is deleted and created again" % failed
        return [change(FUNCTION, wanted["name"], "replace", {"state": {"before": "Failed", "after": "Active"}}, reason)], True
    current = function_state(answer)
    drift = fields_that_differ(dict((key, value) for key, value in desired.items() if key != "tags"), current)
    tags = tag_drift(current["tags"], desired["tags"])
    if tags:
        drift["tags"] = tags
    return update_or_nothing(FUNCTION, wanted["name"], drift)
