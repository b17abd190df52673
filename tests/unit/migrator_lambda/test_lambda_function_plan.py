"""The migrator_lambda role's plan of its function and log group (module_utils/awslambda.py
plan_function, module_utils/logs.py plan_log_group) on answers recorded from GetFunction,
DescribeLogGroups and ListTagsLogGroup: nothing planned when they match, exactly the drifted
field when one differs, a create when the function or the log group is missing."""

import copy
import json
from pathlib import Path

import pytest

from ansible_collections.bluegreen.migration.plugins.module_utils import awslambda
from ansible_collections.bluegreen.migration.plugins.module_utils import logs

RECORDED = Path(__file__).parent / "recorded"
FUNCTION = json.loads((RECORDED / "get_function.json").read_text())
GROUP = json.loads((RECORDED / "describe_log_groups.json").read_text())["logGroups"][0]
GROUP_TAGS = json.loads((RECORDED / "list_tags_log_group.json").read_text())["tags"]
CONFIGURATION = FUNCTION["Configuration"]
TAGS = {"bluegreen:environment": "dev", "bluegreen:component": "migrator_lambda"}
WANTED = {
    "name": "migrator-dev",
    "description": "Schema migrator (expand/contract) of dev",
    "runtime": "python3.12",
    "handler": "index.handler",
    # The role as function.yml passes it before the role is read: by name.
    "role": "migrator-dev-us-east-1",
    "memory_size": 512,
    "timeout": 300,
    # In another order than Lambda reports them: compared as sets.
    "vpc_subnet_ids": list(reversed(CONFIGURATION["VpcConfig"]["SubnetIds"])),
    "vpc_security_group_ids": CONFIGURATION["VpcConfig"]["SecurityGroupIds"],
    "environment": dict(CONFIGURATION["Environment"]["Variables"]),
    "code_sha256": CONFIGURATION["CodeSha256"],
    "tags": dict(TAGS, Name="migrator-dev"),
}
WANTED_GROUP = {"name": "/aws/lambda/migrator-dev", "retention": 7, "kms_key_id": "", "tags": dict(TAGS, Name="/aws/lambda/migrator-dev")}


def wanted(**fields):
    return dict(copy.deepcopy(WANTED), **fields)


def only_change(changes):
    assert len(changes) == 1, changes
    return changes[0]


def read_group(group=GROUP, tags=GROUP_TAGS):
    """logs.read_log_group on the recorded answers (a paginator and one ListTagsLogGroup)."""

    class Pages:
        def paginate(self, logGroupNamePrefix):  # noqa: N803 (boto3's parameter name)
            return [{"logGroups": [group] if group else []}]

    class Client:
        def get_paginator(self, name):
            assert name == "describe_log_groups"
            return Pages()

        def list_tags_log_group(self, logGroupName):  # noqa: N803 (boto3's parameter name)
            return {"tags": dict(tags)}

    return logs.read_log_group(Client(), WANTED_GROUP["name"])


def test_the_recorded_function_is_what_the_role_wants():
    assert awslambda.plan_function(WANTED, FUNCTION) == ([], False)


def test_the_role_given_as_an_arn_is_the_same_role():
    assert awslambda.plan_function(wanted(role=CONFIGURATION["Role"]), FUNCTION) == ([], False)


def test_environment_values_are_compared_as_the_strings_lambda_stores():
    found = copy.deepcopy(FUNCTION)
    found["Configuration"]["Environment"]["Variables"]["MIGRATOR_LOCK_RETRIES"] = "3"
    environment = dict(WANTED["environment"], MIGRATOR_LOCK_RETRIES=3)
    assert awslambda.plan_function(wanted(environment=environment), found) == ([], False)


# Each field drifted alone (as Lambda would report it) -> exactly that field, before and after.
DRIFTS = [
    ("description", {"Description": "changed by hand"}, "changed by hand", WANTED["description"]),
    ("runtime", {"Runtime": "python3.11"}, "python3.11", "python3.12"),
    ("handler", {"Handler": "other.handler"}, "other.handler", "index.handler"),
    ("role", {"Role": "arn:aws:iam::123456789012:role/someone-else"}, "someone-else", "migrator-dev-us-east-1"),
    ("memory_size", {"MemorySize": 128}, 128, 512),
    ("timeout", {"Timeout": 3}, 3, 300),
    (
        "vpc_subnet_ids",
        {"VpcConfig": dict(CONFIGURATION["VpcConfig"], SubnetIds=CONFIGURATION["VpcConfig"]["SubnetIds"][:1])},
        CONFIGURATION["VpcConfig"]["SubnetIds"][:1],
        sorted(CONFIGURATION["VpcConfig"]["SubnetIds"]),
    ),
    (
        "vpc_security_group_ids",
        {"VpcConfig": dict(CONFIGURATION["VpcConfig"], SecurityGroupIds=["sg-0added0by0hand00"])},
        ["sg-0added0by0hand00"],
        CONFIGURATION["VpcConfig"]["SecurityGroupIds"],
    ),
    ("environment", {"Environment": {"Variables": {"MIGRATOR_SSLMODE": "disable"}}}, {"MIGRATOR_SSLMODE": "disable"}, WANTED["environment"]),
    ("code_sha256", {"CodeSha256": "b2xkZXIgY29kZQ=="}, "b2xkZXIgY29kZQ==", CONFIGURATION["CodeSha256"]),
]


@pytest.mark.parametrize(("name", "reported", "before", "after"), DRIFTS, ids=[d[0] for d in DRIFTS])
def test_a_function_field_drifted_alone_is_the_only_one_named(name, reported, before, after):
    found = copy.deepcopy(FUNCTION)
    found["Configuration"].update(reported)
    changes, apply = awslambda.plan_function(WANTED, found)
    item = only_change(changes)
    assert apply is True
    assert (item["resource"], item["name"], item["action"]) == ("lambda function", "migrator-dev", "update")
    assert item["fields"] == {name: {"before": before, "after": after}}


def test_a_function_outside_a_vpc_is_planned_into_it():
    found = copy.deepcopy(FUNCTION)
    del found["Configuration"]["VpcConfig"]
    item = only_change(awslambda.plan_function(WANTED, found)[0])
    assert set(item["fields"]) == {"vpc_subnet_ids", "vpc_security_group_ids"}
    assert item["fields"]["vpc_subnet_ids"]["before"] == []


def test_function_tags_are_purged_and_set_as_amazon_aws_lambda_does():
    found = copy.deepcopy(FUNCTION)
    found["Tags"] = dict(found["Tags"], owner="someone", Name="renamed")
    item = only_change(awslambda.plan_function(WANTED, found)[0])
    assert list(item["fields"]) == ["tags"]
    assert item["fields"]["tags"]["before"] == found["Tags"] and item["fields"]["tags"]["after"] == WANTED["tags"]


def test_a_missing_function_is_created_with_every_field():
    changes, apply = awslambda.plan_function(WANTED, None)
    item = only_change(changes)
    assert apply is True and item["action"] == "create" and item["reason"] == "no function of that name"
    assert item["fields"]["code_sha256"] == {"before": None, "after": CONFIGURATION["CodeSha256"]}
    assert item["fields"]["vpc_subnet_ids"]["after"] == sorted(WANTED["vpc_subnet_ids"])


def test_the_recorded_log_group_is_what_the_role_wants():
    current = read_group()
    assert current["retention"] == 7 and current["tags"] == GROUP_TAGS
    assert logs.plan_log_group(WANTED_GROUP, current) == ([], False)


def test_log_group_retention_drifted_alone():
    changes, apply = logs.plan_log_group(WANTED_GROUP, read_group(group=dict(GROUP, retentionInDays=30)))
    item = only_change(changes)
    assert apply is True and (item["resource"], item["action"]) == ("log group", "update")
    assert item["fields"] == {"retention": {"before": 30, "after": 7}}


def test_log_group_without_retention_gets_it():
    group = dict(GROUP)
    del group["retentionInDays"]
    item = only_change(logs.plan_log_group(WANTED_GROUP, read_group(group=group))[0])
    assert item["fields"] == {"retention": {"before": None, "after": 7}}


def test_log_group_tags_drifted_alone():
    item = only_change(logs.plan_log_group(WANTED_GROUP, read_group(tags=dict(GROUP_TAGS, owner="someone")))[0])
    assert list(item["fields"]) == ["tags"] and item["fields"]["tags"]["after"] == WANTED_GROUP["tags"]


def test_log_group_kms_key_is_set_on_create_only():
    key = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    assert logs.plan_log_group(dict(WANTED_GROUP, kms_key_id=key), read_group()) == ([], False)
    item = only_change(logs.plan_log_group(dict(WANTED_GROUP, kms_key_id=key), None)[0])
    assert item["action"] == "create" and item["fields"]["kms_key_id"]["after"] == key


def test_a_missing_log_group_is_created():
    assert read_group(group=None) is None
    changes, apply = logs.plan_log_group(WANTED_GROUP, None)
    item = only_change(changes)
    assert apply is True and item["action"] == "create" and item["reason"] == "no log group of that name"
    assert item["fields"]["retention"] == {"before": None, "after": 7}
