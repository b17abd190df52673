"""The argument specs are the one definition of every input: the files `make docs` writes from
them (plugins/module_utils/inputs.py, the README tables, docs/preflight.md) must be what the
specs say, and each role's defaults/main.yml must agree with its spec."""

import copy
import importlib.util

import pytest
import yaml

from tests.harness.aws import ROOT

_SPEC = importlib.util.spec_from_file_location("bluegreen_docs", ROOT / "scripts" / "docs.py")
docs = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(docs)

RENDERED = docs.render(ROOT)


@pytest.mark.parametrize("path", sorted(RENDERED))
def test_generated_file_is_what_the_specs_say(path):
    assert (ROOT / path).read_text() == RENDERED[path], "%s differs from the argument specs: run make docs" % path


def test_every_role_readme_has_its_generated_table():
    for readme in sorted(ROOT.glob("roles/*/README.md")):
        assert str(readme.relative_to(ROOT)) in RENDERED


def test_role_defaults_agree_with_their_specs():
    assert docs.defaults_mismatches(ROOT) == []


def test_the_input_table_is_importable_and_complete():
    from ansible_collections.bluegreen.migration.plugins.module_utils.cost import ESTIMATE_INPUTS
    from ansible_collections.bluegreen.migration.plugins.module_utils.inputs import INPUT_DEFAULTS

    assert set(ESTIMATE_INPUTS) <= set(INPUT_DEFAULTS)
    assert {"rollout_steps", "environment_disposable", "budget_monthly_usd"} <= set(INPUT_DEFAULTS)
    assert not any(isinstance(v, str) and "{{" in v for v in INPUT_DEFAULTS.values())


def test_the_spec_table_covers_the_same_inputs_and_validates_their_defaults():
    from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

    from ansible_collections.bluegreen.migration.plugins.module_utils.inputs import INPUT_DEFAULTS, INPUT_SPECS

    assert list(INPUT_SPECS) == list(INPUT_DEFAULTS)
    assert INPUT_SPECS["network_nat_gateways"] == {"type": "str", "choices": ["single", "per_az"], "default": "single"}
    assert INPUT_SPECS["rollout_steps"]["elements"] == "int"
    for name, option in INPUT_SPECS.items():
        assert set(option) <= {"type", "elements", "choices", "required", "default"}, name
        if "default" in option:
            assert ArgumentSpecValidator({name: option}).validate({name: option["default"]}).error_messages == [], name


def _with(specs, scope, name, **changes):
    specs = copy.deepcopy(specs)
    for spec_scope, _dummy, spec in specs:
        if spec_scope == scope and name in (spec.get("options") or {}):
            spec["options"][name].update(changes)
    return specs


def test_a_changed_spec_default_makes_the_files_stale():
    specs = _with(docs.load_specs(ROOT), "network", "network_az_count", default=2)
    rendered = docs.render(ROOT, specs)
    assert rendered[docs.INPUTS_MODULE] != RENDERED[docs.INPUTS_MODULE]
    assert rendered["roles/network/README.md"] != RENDERED["roles/network/README.md"]
    assert any("network_az_count is 3 in defaults/main.yml but 2 in the spec" in p for p in docs.defaults_mismatches(ROOT, specs))


def test_a_changed_spec_type_or_choice_makes_the_input_table_stale():
    for scope, name, change in (("network", "network_az_count", {"type": "str"}), ("network", "network_nat_gateways", {"choices": ["single"]})):
        specs = _with(docs.load_specs(ROOT), scope, name, **change)
        assert docs.render(ROOT, specs)[docs.INPUTS_MODULE] != RENDERED[docs.INPUTS_MODULE], name


def test_a_spec_and_defaults_disagreeing_on_a_template_are_caught():
    specs = _with(docs.load_specs(ROOT), "ecs_service", "ecs_service_vpc_id", default="vpc-123")
    assert any("ecs_service_vpc_id is a template" in p for p in docs.defaults_mismatches(ROOT, specs))


def test_a_default_only_in_defaults_main_is_caught(tmp_path):
    specs = docs.load_specs(ROOT)
    for scope, _dummy, spec in specs:
        if scope == "aurora":
            spec["options"].pop("aurora_port", None)  # from every entry point that takes it
    assert any("aurora_port is in defaults/main.yml but in no entry point" in p for p in docs.defaults_mismatches(ROOT, specs))


def test_shared_inputs_must_agree_across_specs():
    specs = _with(docs.load_specs(ROOT), "aurora", "bluegreen_tags", default={"team": "x"})
    with pytest.raises(docs.SpecError, match="bluegreen_tags"):
        docs.collect(specs)


def test_every_spec_file_parses_with_options():
    for path in sorted(ROOT.glob("roles/*/meta/argument_specs.yml")):
        entries = yaml.safe_load(path.read_text())["argument_specs"]
        assert all("options" in entry for entry in entries.values()), path


# `<variable> | default(<something>)`: a default written where the variable is read.
INLINE_DEFAULT = r"\b(%s)\s*\|\s*default\(\s*(?!omit\b|none\b|''|\"\"|\)|\[\]|\{\})"


def inline_defaults(root, owners):
    """(file, variable) where a role or playbook gives an input of another role a default inline."""
    import re

    found = []
    files = sorted(root.glob("roles/*/tasks/*.yml")) + sorted(root.glob("roles/*/vars/*.yml")) + sorted(root.glob("roles/*/templates/*"))
    files += sorted(root.glob("playbooks/*.yml")) + [root / "site.yml"]
    for path in files:
        owner_of_file = path.relative_to(root).parts[1] if path.relative_to(root).parts[0] == "roles" else None
        text = path.read_text()
        for name, roles in owners.items():
            if owner_of_file in roles:
                continue
            if re.search(INLINE_DEFAULT % re.escape(name), text):
                found.append((str(path.relative_to(root)), name))
    return found


def test_no_role_or_playbook_redeclares_another_roles_default():
    owners = {name: set(scope for scope, dummy in info["where"]) for name, info in docs.collect(docs.load_specs(ROOT)).items()}
    assert inline_defaults(ROOT, owners) == []


def test_an_inline_default_of_another_roles_input_is_found(tmp_path):
    (tmp_path / "roles" / "blue_green" / "tasks").mkdir(parents=True)
    (tmp_path / "roles" / "blue_green" / "tasks" / "main.yml").write_text("count: \"{{ ecs_service_desired_count | default(2) }}\"\n")
    (tmp_path / "site.yml").write_text("---\n")
    assert inline_defaults(tmp_path, {"ecs_service_desired_count": {"ecs_service"}}) == [("roles/blue_green/tasks/main.yml", "ecs_service_desired_count")]
