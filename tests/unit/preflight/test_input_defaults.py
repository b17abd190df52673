"""Every shipped inventory passes preflight with no error (the input table itself is checked
against the argument specs by tests/unit/test_inputs_generated.py)."""

import pytest
import yaml

from ansible_collections.bluegreen.migration.plugins.module_utils import preflight
from tests.harness.aws import ROOT

INVENTORIES = ["local", "dev", "staging", "prod"]


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
