"""lambda_function_plan against the emulator: one run reads the role, the log group and the
function; with nothing there every one is planned as created, a log group in shape is not,
and only check mode reports the plan as changed."""

from tests.harness.aws import client, run_module

NAME = "migrator-unit"
GROUP = "/aws/lambda/migrator-unit"
ROLE = "migrator-unit-us-east-1"
TRUST = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
ARGS = {
    "function": {
        "name": NAME,
        "runtime": "python3.12",
        "handler": "index.handler",
        "role": ROLE,
        "memory_size": 512,
        "timeout": 300,
        "code_sha256": "3uTRw17t2lm4qzva29gcJR3vz7aoUvcRZ02WQCTGPLo=",
        "tags": {"Name": NAME},
    },
    "log_group": {"name": GROUP, "retention": 7, "tags": {"Name": GROUP}},
    "roles": [{"name": ROLE, "description": "unit", "trust_policy": TRUST}],
}


def test_nothing_there_is_planned_as_created_and_a_group_in_shape_is_not(aws):
    planned = run_module("lambda_function_plan", ARGS, check=True, diff=True)
    assert planned["changed"] is True, planned
    assert [(c["resource"], c["name"], c["action"]) for c in planned["changes"]] == [
        ("iam role", ROLE, "create"),
        ("log group", GROUP, "create"),
        ("lambda function", NAME, "create"),
    ]
    assert planned["apply"] == {"roles": [ROLE], "policies": [], "remove": [], "log_group": True, "function": True, "function_replace": False}
    assert planned["function"] == {} and planned["log_group"] == {}
    assert run_module("lambda_function_plan", ARGS)["changed"] is False, "only check mode reports the plan as changed"

    logs = client("logs")
    logs.create_log_group(logGroupName=GROUP, tags={"Name": GROUP})
    logs.put_retention_policy(logGroupName=GROUP, retentionInDays=7)
    aws.reset_recording()
    try:
        again = run_module("lambda_function_plan", ARGS)
        assert again["apply"]["log_group"] is False and again["log_group"]["retention"] == 7
        assert [c["resource"] for c in again["changes"]] == ["iam role", "lambda function"]
        # (Lambda's REST reads are named by method and path)
        assert [c for c in aws.mutating_requests() if not c["action"].startswith(("GET ", "HEAD "))] == [], "read-only"
    finally:
        logs.delete_log_group(logGroupName=GROUP)
