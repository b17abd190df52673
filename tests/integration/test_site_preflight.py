"""Bad input stops site.yml before any AWS call: a sample of the preflight corpus run as
`ansible-playbook site.yml -i inventories/local -e ...`, each failing and naming its variable,
with no mutating request recorded by the emulator."""

import pytest

from tests.harness.aws import ROOT, run_playbook
from tests.unit.preflight.test_preflight_playbook import BAD_SAMPLE

# BAD_SAMPLE's environments are named after the case; here the inventory's own host is used,
# so a bad suffix is given as the suffix itself.
CASES = {name: overrides for name, (overrides, _variable) in BAD_SAMPLE.items()}


def test_the_sample_has_ten_cases():
    assert len(BAD_SAMPLE) >= 10


@pytest.mark.parametrize("case", sorted(CASES))
def test_site_refuses_bad_input_before_any_aws_call(aws, case):
    overrides = CASES[case]
    variable = BAD_SAMPLE[case][1]
    aws.reset_recording()

    proc = run_playbook("site.yml", inventory=ROOT / "inventories" / "local", extra_vars=overrides)

    assert proc.returncode != 0, proc.stdout[-3000:]
    assert "preflight found" in proc.stdout and f"- {variable}=" in proc.stdout, proc.stdout[-3000:]
    assert aws.mutating_requests() == []
    # Nothing of the network role ran at all.
    assert "bluegreen.migration.network" not in proc.stdout
