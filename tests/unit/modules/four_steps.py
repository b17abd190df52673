"""The amazon.aws four-step idempotence check, shared by the module tests."""

from tests.harness.aws import run_module


def four_steps(module, args):
    """check mode (would change) -> apply (changed) -> check mode (no change) -> apply (no change).

    Returns the result of the first real apply."""
    first_check = run_module(module, args, check=True, diff=True)
    assert not first_check.get("failed"), first_check
    assert first_check["changed"] is True, first_check
    assert "diff" in first_check, first_check
    applied = run_module(module, args, diff=True)
    assert not applied.get("failed"), applied
    assert applied["changed"] is True, applied
    assert applied["diff"]["before"] != applied["diff"]["after"], applied
    second_check = run_module(module, args, check=True, diff=True)
    assert not second_check.get("failed"), second_check
    assert second_check["changed"] is False, second_check
    again = run_module(module, args, diff=True)
    assert not again.get("failed"), again
    assert again["changed"] is False, again
    return applied
