# -*- coding: utf-8 -*-
# Copyright: bluegreen.migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Thin Lambda client layer for one synchronous invocation that is never sent twice.

botocore retries a read timeout like any connection error, so with its defaults (60 s read
timeout, several attempts) a function that runs longer than 60 s is invoked again while the
first run goes on. The Invoke client here has a read timeout longer than the function's own
timeout and botocore's retries off; only the answers that say the function did not run
(throttling, Lambda's "not started" 5xx codes) are retried, by our jittered backoff."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json

try:
    import botocore
    from botocore.config import Config
except ImportError:
    pass  # AnsibleAWSModule reports a missing botocore

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError

from ansible_collections.bluegreen.migration.plugins.module_utils.core import aws_retry

# Added to the function's own timeout when no read timeout is given: start-up (cold start,
# VPC attachment) and the answer's way back take time the function's timeout does not count.
READ_TIMEOUT_MARGIN = 30
CONNECT_TIMEOUT = 10
# https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html#API_Invoke_Errors: answers
# that mean the function was not started, so sending the call again cannot run it twice.
# (ServiceException, a 500, is left out: it does not say whether the function ran.)
NOT_STARTED_CODES = ["TooManyRequestsException", "EC2ThrottledException", "ResourceNotReadyException"]


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
    """botocore Config of the Invoke client: the read timeout, and exactly one attempt."""
    return Config(read_timeout=read_timeout, connect_timeout=connect_timeout, retries={"total_max_attempts": 1})


def not_ready(configuration):
    """True while the function cannot be invoked yet (being created or updated)."""
    return configuration.get("State", "Active") != "Active" or configuration.get("LastUpdateStatus") == "InProgress"


@LambdaErrorHandler.list_error_handler("read the configuration of Lambda function {name}")
@aws_retry()
def get_function_configuration(client, name, qualifier=None):
    params = {"FunctionName": name}
    if qualifier:
        params["Qualifier"] = qualifier
    return client.get_function_configuration(**params)


@LambdaErrorHandler.common_error_handler("wait for Lambda function {name} to be active and updated")
def wait_until_ready(client, name, qualifier=None):
    params = {"FunctionName": name}
    if qualifier:
        params["Qualifier"] = qualifier
    client.get_waiter("function_active").wait(**params)
    client.get_waiter("function_updated").wait(**params)


class InvocationTimeout(LambdaError):
    """No answer within the read timeout: the function may still be running."""


@LambdaErrorHandler.common_error_handler("invoke Lambda function {name}")
def invoke(client, name, payload, qualifier=None, tail_log=False, dry_run=False, read_timeout=None):
    """One synchronous Invoke (DryRun: only check parameters and permission). Returns the
    answer as amazon.aws.lambda_execute returns it, {output, logs, status}, and the function's
    error (see function_error). A read timeout raises InvocationTimeout and is never retried."""
    params = {
        "FunctionName": name,
        "InvocationType": "DryRun" if dry_run else "RequestResponse",
        "LogType": "Tail" if tail_log and not dry_run else "None",
        "Payload": json.dumps(payload),
    }
    if qualifier:
        params["Qualifier"] = qualifier
    try:
        response = _invoke(client, **params)
    except botocore.exceptions.ReadTimeoutError as e:
        raise InvocationTimeout(
            message=(
                f"Lambda function {name} sent no answer within the read timeout of {read_timeout} s. The invocation was "
                "sent once and not retried: the function may still be running. Check its logs before invoking it again."
            ),
            exception=e,
        ) from e
    result = {"status": response["StatusCode"], "output": "", "logs": ""}
    if response.get("LogResult"):
        result["logs"] = base64.b64decode(response["LogResult"]).decode("utf-8", "replace")
    if not dry_run:
        text = response["Payload"].read().decode("utf-8", "replace")
        try:
            result["output"] = json.loads(text) if text else ""
        except ValueError as e:
            raise LambdaError(message=f"Lambda function {name} answered with a payload that is not JSON: {text[:200]!r}") from e
    return result, function_error(result["output"], response.get("FunctionError"))


@aws_retry(extra_codes=NOT_STARTED_CODES)
def _invoke(client, **params):
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
