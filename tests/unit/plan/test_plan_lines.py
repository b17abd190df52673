"""The plan's shared pieces (module_utils/plan.py): changes, field differences, versions, lines."""

import pytest

from ansible_collections.bluegreen.migration.plugins.module_utils import plan


def test_change_refuses_an_unknown_action():
    with pytest.raises(ValueError, match="create, update, replace, delete"):
        plan.change("aurora cluster", "x", "modify")


def test_fields_that_differ_compares_only_the_wanted_keys():
    assert plan.fields_that_differ({"a": 1, "b": 2}, {"a": 1, "b": 3, "c": 4}) == {"b": {"before": 3, "after": 2}}
    assert plan.fields_that_differ({"a": 1}, {}) == {"a": {"before": None, "after": 1}}


@pytest.mark.parametrize(("older", "newer"), [("15.8", "16.4"), ("16.4", "16.10"), ("16", "16.1"), ("9.6.22", "10.7")])
def test_versions_compare_as_numbers(older, newer):
    assert plan.version_tuple(older) < plan.version_tuple(newer)


def test_one_line_per_change():
    item = plan.change("aurora cluster", "aurora-dev", "update", {"port": plan.field(5433, 5432), "backup_retention_period": plan.field(1, 7)}, "differs")
    assert plan.line(item) == "update aurora cluster aurora-dev: backup_retention_period 1 -> 7, port 5433 -> 5432 (differs)"
    assert plan.line(plan.change("aurora instance", "aurora-3-dev", "create")) == "create aurora instance aurora-3-dev"
    long = plan.line(plan.change("x", "y", "update", {"tags": plan.field({}, {"k": "v" * 100})}))
    assert long.endswith("...") and len(long) < 200
