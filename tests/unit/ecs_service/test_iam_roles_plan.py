"""The IAM plan of the ecs_service and migrator_lambda roles (module_utils/iam.py plan_roles) on
roles recorded from the emulator through iam_roles_info: nothing planned when they match,
exactly the drifted field otherwise, inline policies put or removed by name."""

import copy
import json
from pathlib import Path

from ansible_collections.bluegreen.migration.plugins.module_utils import iam

FOUND = json.loads((Path(__file__).parent / "recorded" / "iam_roles_info.json").read_text())["roles"]
EXECUTION, TASK, MISSING = "app-execution-dev-us-east-1", "app-task-dev-us-east-1", "app-missing-dev-us-east-1"
TRUST = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
SECRET = {
    "Version": "2012-10-17",
    "Statement": [{"Sid": "ReadTheDatabaseSecret", "Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
                   "Resource": "arn:aws:secretsmanager:us-east-1:123456789012:secret:aurora-credentials-dev-AbCdEf"}],
}
TAGS = {"bluegreen:environment": "dev", "bluegreen:component": "ecs_service"}
EXECUTION_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"


def role(name, description, managed=(), inline=None):
    return {"name": name, "description": description, "trust_policy": TRUST, "managed_policy_arns": list(managed),
            "tags": dict(TAGS, Name=name), "inline_policies": inline or {}}


WANTED = [
    role(EXECUTION, "ECS task execution role of dev", [EXECUTION_POLICY], {"app-secret-read-dev": SECRET}),
    role(TASK, "ECS task role of dev"),
]
NOTHING = {"roles": [], "policies": [], "remove": []}


def found_with(name, **fields):
    found = copy.deepcopy(FOUND)
    found[name].update(fields)
    return found


def only(changes):
    assert len(changes) == 1, changes
    return changes[0]


def test_the_recorded_roles_are_what_the_role_wants():
    assert iam.plan_roles(WANTED, FOUND) == ([], NOTHING)


def test_a_missing_role_is_created_with_its_policy_put_after_it():
    changes, apply = iam.plan_roles([role(MISSING, "x", inline={"p": SECRET})], FOUND)
    assert [(c["resource"], c["action"]) for c in changes] == [("iam role", "create"), ("iam inline policy", "create")]
    assert apply["roles"] == [MISSING] and apply["policies"] == [{"role": MISSING, "name": "p", "document": SECRET, "role_exists": False}]


def test_each_drifted_role_field_is_the_change():
    other_trust = {"Version": "2012-10-17", "Statement": [dict(TRUST["Statement"][0], Principal={"Service": "lambda.amazonaws.com"})]}
    for field, value in (("description", "changed"), ("trust_policy", other_trust), ("managed_policy_arns", []), ("tags", {"Name": TASK})):
        name = EXECUTION if field == "managed_policy_arns" else TASK
        changes, apply = iam.plan_roles(WANTED, found_with(name, **{field: value}))
        change = only(changes)
        assert (change["name"], change["action"], list(change["fields"])) == (name, "update", [field])
        assert change["fields"][field]["before"] == value and apply == dict(NOTHING, roles=[name])


def test_a_changed_inline_policy_is_put_back():
    widened = copy.deepcopy(SECRET)
    widened["Statement"][0]["Resource"] = "*"
    changes, apply = iam.plan_roles(WANTED, found_with(EXECUTION, inline_policies={"app-secret-read-dev": widened}))
    assert only(changes)["fields"]["document"]["before"]["Statement"][0]["Resource"] == "*"
    assert apply["policies"] == [{"role": EXECUTION, "name": "app-secret-read-dev", "document": SECRET, "role_exists": True}] and apply["roles"] == []


def test_an_inline_policy_added_by_hand_is_removed_and_one_no_longer_given_too():
    changes, apply = iam.plan_roles(WANTED, found_with(TASK, inline_policies={"added-by-hand": SECRET}))
    assert (only(changes)["action"], only(changes)["name"]) == ("delete", TASK + "/added-by-hand")
    assert apply == dict(NOTHING, remove=[{"role": TASK, "name": "added-by-hand"}])
    # No secret ARN any more: the execution role is given no inline policy, so its old one goes.
    no_secret = [dict(WANTED[0], inline_policies={}), WANTED[1]]
    assert iam.plan_roles(no_secret, FOUND)[1] == dict(NOTHING, remove=[{"role": EXECUTION, "name": "app-secret-read-dev"}])
