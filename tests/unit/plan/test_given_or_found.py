"""The roles' placement (the ids an input gives, else those a discovery task found) and the
migrator's environment as Lambda reports it (every value a string): given_or_found and
string_values, with the shapes ansible-playbook registers for a discovery task that ran, was
skipped or was never included."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.bluegreen.migration.plugins.filter.plan import FilterModule
from ansible_collections.bluegreen.migration.plugins.module_utils.plan import given_or_found, string_values

FOUND_SUBNETS = {
    "changed": False,
    "subnets": [{"subnet_id": "subnet-a", "cidr_block": "10.0.32.0/20"}, {"subnet_id": "subnet-b", "cidr_block": "10.0.48.0/20"}],
}
SKIPPED = {"changed": False, "skipped": True, "skip_reason": "Conditional result was False", "false_condition": "aurora_subnet_ids | length == 0"}
FILTERS = FilterModule().filters()


def test_the_input_wins_over_what_was_found():
    assert given_or_found(["subnet-given"], FOUND_SUBNETS, "subnets", "subnet_id") == ["subnet-given"]


def test_without_an_input_the_found_ids_in_their_order():
    assert given_or_found([], FOUND_SUBNETS, "subnets", "subnet_id") == ["subnet-a", "subnet-b"]


@pytest.mark.parametrize("registered", [SKIPPED, None], ids=["discovery skipped", "discovery never included"])
def test_nothing_given_and_nothing_looked_up_is_an_empty_list(registered):
    assert given_or_found([], registered, "subnets", "subnet_id") == []


def test_a_discovery_that_found_nothing_is_an_empty_list():
    assert given_or_found([], {"changed": False, "security_groups": []}, "security_groups", "group_id") == []


def test_an_answer_of_another_shape_is_an_error_naming_the_key():
    with pytest.raises(KeyError, match="subnets"):
        given_or_found([], {"changed": False, "security_groups": []}, "subnets", "subnet_id")
    with pytest.raises(AnsibleFilterError, match="given_or_found: .*group_id"):
        FILTERS["given_or_found"]([], FOUND_SUBNETS, "subnets", "group_id")


def test_every_value_becomes_a_string_and_strings_stay_as_they_are():
    assert string_values({"BATCH": 5, "DRY_RUN": True, "RATIO": 0.5, "NAME": "app", "EMPTY": ""}) == {
        "BATCH": "5", "DRY_RUN": "True", "RATIO": "0.5", "NAME": "app", "EMPTY": "",
    }
    assert string_values({}) == {} and string_values(None) == {}


def test_string_values_refuses_what_is_not_a_mapping():
    with pytest.raises(AnsibleFilterError, match="expects a mapping, got list"):
        FILTERS["string_values"](["A=1"])
