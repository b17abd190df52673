"""One table of input defaults: the roles' defaults/main.yml must agree with it, and every
shipped inventory must pass preflight with no error."""

import pytest
import yaml

from ansible_collections.bluegreen.migration.plugins.module_utils import preflight
from ansible_collections.bluegreen.migration.plugins.module_utils.inputs import INPUT_DEFAULTS
from tests.harness.aws import ROOT

ROLE_DEFAULTS = sorted((ROOT / "roles").glob("*/defaults/main.yml"))
INVENTORIES = ["local", "dev", "staging", "prod"]


@pytest.mark.parametrize("path", ROLE_DEFAULTS, ids=lambda p: p.parent.parent.name)
def test_role_defaults_agree_with_the_input_table(path):
    defaults = yaml.safe_load(path.read_text()) or {}
    shared = {name: value for name, value in defaults.items() if name in INPUT_DEFAULTS and not (isinstance(value, str) and "{{" in value)}
    # '' and None both mean "not set" (no key, no certificate).
    differing = {name: (value, INPUT_DEFAULTS[name]) for name, value in shared.items() if (value or None) != (INPUT_DEFAULTS[name] or None)}
    assert differing == {}, "role default vs plugins/module_utils/inputs.py: %s" % differing


def test_the_roles_define_defaults_at_all():
    # The agreement test above must have something to compare.
    assert any(
        name in INPUT_DEFAULTS for path in ROLE_DEFAULTS for name in (yaml.safe_load(path.read_text()) or {})
    )


@pytest.mark.parametrize("inventory", INVENTORIES)
def test_shipped_inventories_pass_preflight(inventory, monkeypatch):
    variables = yaml.safe_load((ROOT / "inventories" / inventory / "group_vars" / "bluegreen_envs.yml").read_text())
    hosts = yaml.safe_load((ROOT / "inventories" / inventory / "hosts.yml").read_text())["bluegreen_envs"]["hosts"]
    for host in hosts:
        host_vars = {k: v for k, v in variables.items() if not (isinstance(v, str) and "{{" in v)}
        host_vars["environment_suffix"] = host
        host_vars["migrator_lambda_source_dir"] = str(ROOT / "migrator")
        environ = {"AWS_ENDPOINT_URL": "http://127.0.0.1:5005"} if host_vars.get("bluegreen_emulator") else {}
        result = preflight.run_checks(host_vars, environ=environ)
        assert result["errors"] == [], [preflight.finding_line(f) for f in result["errors"]]
