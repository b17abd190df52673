#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: bluegreen.migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# ruff: noqa: E402  (Ansible module layout: imports follow DOCUMENTATION, EXAMPLES and RETURN)

DOCUMENTATION = r"""
module: lambda_invoke
short_description: Invoke a Lambda function synchronously, exactly once, however long it runs
version_added: 0.1.0
description:
  - Sends one synchronous (C(RequestResponse)) C(Invoke) to a Lambda function and returns its
    answer in the shape M(amazon.aws.lambda_execute) returns it (RV(result.output),
    RV(result.logs), RV(result.status)).
  - Unlike M(amazon.aws.lambda_execute), a function that runs longer than botocore's default read
    timeout (60 s) is not invoked a second time. The client waits up to O(read_timeout) for the
    answer and botocore's own retries are off, so a slow answer is never re-sent.
  - Only answers which say that the function was not run are retried, with jittered backoff
    (throttling C(TooManyRequestsException), C(EC2ThrottledException),
    C(ResourceNotReadyException)). No answer within O(read_timeout) fails the module with a
    message that the function may still be running; the call is not retried.
  - The function's configuration is read first (C(GetFunctionConfiguration)); a function that is
    still being created or updated is waited for, as M(amazon.aws.lambda_execute) does.
  - A VPC function idle for weeks is C(Inactive) (Lambda has reclaimed its network interfaces)
    and stays so until invoked. It is invoked once; Lambda refuses without running it
    (C(ResourceNotReadyException)) and restores it, and once it is C(Active) again it is invoked
    as any other. So it runs once.
  - Fails when the function reports an error (C(FunctionError)), with its type, message and
    stack trace.
  - The connection sends a TCP keepalive probe after 45 seconds of quiet. A NAT gateway drops a
    TCP flow idle for 350 seconds (a Network Load Balancer or Network Firewall by default) without
    telling either end, so a controller behind one would otherwise wait out O(read_timeout) for
    the answer of an invocation longer than that. botocore's C(tcp_keepalive) alone leaves the
    timing to the operating system (on Linux, the first probe after two hours). When 5 probes,
    20 seconds apart, go unanswered (about 145 seconds of silence), the connection counts as lost
    and the module fails as for a read timeout. Where the platform refuses the interval or the
    count, its own apply; where it cannot set the idle time, the module warns.
  - Through a proxy, the probes keep only the connection to the proxy alive; the proxy's own
    connection to Lambda needs keepalive of its own.
options:
  name:
    description:
      - Name or ARN of the function (a partial ARN or C(name:alias) is accepted too).
    type: str
    required: true
  payload:
    description:
      - The event sent to the function, as JSON.
    type: dict
    default: {}
  read_timeout:
    description:
      - Seconds to wait for the answer.
      - When not set, the function's configured timeout (C(Timeout) of
        C(GetFunctionConfiguration), for O(qualifier) when set) plus a margin of 30 seconds for
        start-up and the answer's way back.
      - This value takes precedence over a C(read_timeout) in O(aws_config), and botocore's
        retries are off for the C(Invoke) call whatever O(aws_config) says.
    type: int
  qualifier:
    description:
      - Version or alias of the function to invoke.
    type: str
  tail_log:
    description:
      - Return the last 4 KB of the invocation's log in RV(result.logs).
    type: bool
    default: false
notes:
  - Supports check mode. In check mode the module sends a C(DryRun) invocation, which only checks
    the parameters and the permission to invoke and does not run the function; RV(result.output)
    is then empty. The caller decides whether a task runs the function in check mode too, with
    C(check_mode=false) on the task (for a function call that only reads, for example).
  - Always reports C(changed=true) after a real invocation (the module cannot know what the
    function did); set C(changed_when) from RV(result.output).
  - Required IAM actions are C(lambda:GetFunctionConfiguration) and C(lambda:InvokeFunction).
author:
  - bluegreen.migration maintainers (@bluegreen)
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Apply the expand migrations (waits as long as the function may run)
  bluegreen.migration.lambda_invoke:
    name: migrator-dev
    payload:
      action: apply
      phase: expand
  register: migration
  changed_when: migration.result.output.applied | default([]) | length > 0

- name: Ask for the schema version, in check mode too
  bluegreen.migration.lambda_invoke:
    name: migrator-dev
    payload:
      action: status
    read_timeout: 120
  check_mode: false
  changed_when: false
  register: schema
"""

RETURN = r"""
result:
  description: The function's answer, as M(amazon.aws.lambda_execute) returns it.
  returned: success, and on failure once the function answered
  type: dict
  contains:
    output:
      description:
        - The function's return value, parsed from JSON.
        - An empty string in check mode (C(DryRun)).
      returned: always
      type: raw
      sample: {"ok": true, "current_version": "0003"}
    logs:
      description: The end of the invocation's log when O(tail_log=true), an empty string otherwise.
      returned: always
      type: str
      sample: ""
    status:
      description: HTTP status of the invocation (200, or 204 for C(DryRun)).
      returned: always
      type: int
      sample: 200
read_timeout:
  description: Seconds the module waited at most for the answer.
  returned: always
  type: int
  sample: 930
"""

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError

from ansible_collections.bluegreen.migration.plugins.module_utils import awslambda
from ansible_collections.bluegreen.migration.plugins.module_utils.core import BlueGreenModule

try:
    from botocore.config import Config
except ImportError:
    pass  # BlueGreenModule reports a missing botocore


def find_function(module, client):
    """The function's configuration, once it can be invoked (waited for when being created or
    updated); fails when there is no such function."""
    name, qualifier = module.params["name"], module.params["qualifier"]
    configuration = awslambda.get_function_configuration(client, name, qualifier)
    if configuration is None:
        module.fail_json(msg=f"Lambda function {name}{':' + qualifier if qualifier else ''} does not exist (or is not visible to these credentials)")
    if awslambda.not_ready(configuration):
        awslambda.wait_until_ready(client, name, qualifier)
    return configuration


def invoke_waking_it(module, client, configuration, read_timeout):
    """The invocation's (result, error). An Inactive function (idle for weeks) is invoked once:
    Lambda refuses without running it and restores its network interfaces; once it is Active
    again it is invoked as any other. No waiter leads out of Inactive, so it is not waited for
    before. Check mode sends only the DryRun."""
    params = module.params
    invoker = invoke_client(module, read_timeout)
    call = dict(qualifier=params["qualifier"], tail_log=params["tail_log"], dry_run=module.check_mode, read_timeout=read_timeout)
    if awslambda.inactive(configuration) and not module.check_mode:
        try:
            return awslambda.invoke(invoker, params["name"], params["payload"], waking=True, **call)
        except awslambda.FunctionInactive:
            awslambda.wait_until_ready(client, params["name"], params["qualifier"])
    return awslambda.invoke(invoker, params["name"], params["payload"], **call)


def invoke_client(module, read_timeout):
    """A Lambda client that waits read_timeout seconds for an answer and never retries by
    itself; aws_config applies, except for what the invocation relies on."""
    config = awslambda.invoke_config(read_timeout)
    if module.params.get("aws_config"):
        config = Config(**module.params["aws_config"]).merge(config)
    client = module.client("lambda", aws_config=config)
    if not awslambda.keep_alive(client):
        module.warn(
            "TCP keepalive probes are on with the operating system's timing (this botocore or platform does not let the module set it): "
            "an invocation longer than 350 s may lose its answer behind a NAT gateway"
        )
    return client


def main():
    argument_spec = dict(
        name=dict(type="str", required=True),
        payload=dict(type="dict", default={}),
        read_timeout=dict(type="int"),
        qualifier=dict(type="str"),
        tail_log=dict(type="bool", default=False),
    )
    module = BlueGreenModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    if params["read_timeout"] is not None and params["read_timeout"] < 1:
        module.fail_json(msg="read_timeout must be 1 or more seconds")
    try:
        client = module.client("lambda")
        configuration = find_function(module, client)
        read_timeout = params["read_timeout"] or awslambda.default_read_timeout(configuration)
        result, error = invoke_waking_it(module, client, configuration, read_timeout)
    except awslambda.InvocationTimeout as e:
        module.fail_json(msg=e.message, read_timeout=read_timeout)
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)
    if error:
        module.fail_json(
            msg=(
                "Function executed, but there was an error in the Lambda function. "
                f"Message: {error['message']}, Type: {error['type']}, Stack Trace: {error['trace']}"
            ),
            result=result,
            read_timeout=read_timeout,
        )
    module.exit_json(changed=True, result=result, read_timeout=read_timeout)


if __name__ == "__main__":
    main()
