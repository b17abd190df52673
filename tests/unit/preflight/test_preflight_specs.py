"""Preflight's spec rule: every input the host sets is validated against its argument spec
first, each problem is one error naming the variable, and the area rules say nothing more
about an input that failed it."""

import pytest

from ansible_collections.bluegreen.migration.plugins.module_utils import preflight
from ansible_collections.bluegreen.migration.plugins.module_utils.inputs import INPUT_SPECS
from tests.harness.aws import ROOT

BASE = {"environment_suffix": "dev", "migrator_lambda_source_dir": "migrator"}


def run(**overrides):
    return preflight.run_checks(dict(BASE, **overrides), search_dirs=[str(ROOT)], environ={})


def errors_of(result, variable):
    return [e for e in result["errors"] if e["variable"] == variable]


# (variable, bad value, words the message must hold, words the fix must hold)
BAD = [
    ("network_nat_gateways", "two", "must be one of: single, per_az, got: two", "one of single, per_az"),
    ("network_az_count", "three", "network_az_count' is of type str", "a whole number"),
    ("environment_disposable", "maybe", "environment_disposable' is of type str", "true or false"),
    ("aurora_skip_final_snapshot", "sometimes", "aurora_skip_final_snapshot' is of type str", "true or false"),
    ("migrator_lambda_sslmode", "verify-ca", "must be one of: require, verify-full, disable, got: verify-ca", "one of require, verify-full, disable"),
    ("rollout_steps", [10, "half", 100], "option 'rollout_steps' is of type str", "a list of whole numbers, e.g. [10, 50, 100]"),
    ("rollout_steps", "10,50,100", "rollout_steps must be a list, not the string '10,50,100'", "a list of whole numbers"),
    ("network_ingress_cidrs", "0.0.0.0/0", "network_ingress_cidrs must be a list, not the string", "a list of strings"),
    ("network_vpc_endpoints", 5, "network_vpc_endpoints must be a list, not the number 5", "a list of strings"),
    ("bluegreen_tags", "Owner=me", "bluegreen_tags must be a mapping, not the string", "a mapping"),
    ("bluegreen_tags", ["Owner=me"], "bluegreen_tags' is of type list", "a mapping"),
    ("budget_monthly_usd", "a lot", "budget_monthly_usd' is of type str", "a number"),
    ("ecs_service_log_retention_days", None, "ecs_service_log_retention_days' is of type NoneType", "a whole number"),
]


@pytest.mark.parametrize("variable, value, message, fix", BAD, ids=["%s=%r" % (b[0], b[1]) for b in BAD])
def test_a_value_its_spec_refuses_is_one_error_naming_the_variable(variable, value, message, fix):
    result = run(**{variable: value})
    errors = errors_of(result, variable)
    assert len(errors) == 1, [preflight.finding_line(e) for e in errors]
    error = errors[0]
    assert error["rule"] == "spec" and error["value"] == value
    assert variable in error["message"] and message in error["message"], error["message"]
    assert fix in error["fix"] and error["fix"].startswith("set %s to " % variable), error["fix"]
    # Nothing else is blamed, and no warning about the same input follows.
    assert {e["variable"] for e in result["errors"]} == {variable}
    assert not [w for w in result["warnings"] if w["variable"] == variable]


def test_spec_findings_come_first():
    result = run(network_nat_gateways="two", ecs_service_cpu=300)
    assert [e["rule"] for e in result["errors"]] == ["spec", "fargate_size"]


def test_what_the_validator_converts_passes_as_awx_sends_it():
    # AWX surveys send integer answers as strings; -e key=value sends booleans as words.
    answers = {
        "network_az_count": "2",
        "aurora_reader_count": "0",
        "ecs_service_cpu": "512",
        "ecs_service_memory": "1024",
        "ecs_service_desired_count": "1",
        "rollout_steps": ["10", "50", "100"],
        "rollout_bake_seconds": "60",
        "environment_disposable": "yes",
        "aurora_deletion_protection": "no",
        "budget_monthly_usd": "500",
    }
    result = run(**answers)
    assert result["errors"] == [], [preflight.finding_line(e) for e in result["errors"]]


def test_unset_inputs_are_not_validated_and_required_ones_keep_their_own_rules():
    # environment_suffix and aws_region are required by the roles; preflight's own rules say
    # what is wrong with them (the suffix comes from the inventory, the region is assumed).
    assert INPUT_SPECS["environment_suffix"]["required"] and INPUT_SPECS["aws_region"]["required"]
    result = preflight.run_checks({}, environ={})
    assert not [e for e in result["findings"] if e["rule"] == "spec"]
    assert [e["rule"] for e in errors_of(result, "environment_suffix")] == ["names"]
    assert not errors_of(result, "aws_region")
    assert [e["rule"] for e in errors_of(run(environment_suffix=None), "environment_suffix")] == ["names"]


def test_an_input_outside_the_spec_table_is_left_to_the_rules():
    result = run(not_an_input="x")
    assert result["errors"] == []


def test_templated_values_read_as_their_plain_types():
    # What the action plugin templates carries ansible-core's tagged subclasses (2.19+).
    tags = pytest.importorskip("ansible._internal._datatag._tags")
    origin = tags.Origin(description="inventory")
    result = run(rollout_steps=origin.tag("10,50,100"), network_az_count=origin.tag("three"), aurora_reader_count=origin.tag("1"))
    messages = {e["variable"]: e["message"] for e in result["errors"]}
    assert set(messages) == {"rollout_steps", "network_az_count"}
    assert "rollout_steps must be a list, not the string '10,50,100'" in messages["rollout_steps"]
    assert "is of type str " in messages["network_az_count"] and "Tagged" not in messages["network_az_count"]
