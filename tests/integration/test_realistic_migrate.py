"""migrate.yml on the realistic emulator: a migration that runs longer than botocore's 60 s
default read timeout is invoked once, and its answer passes the gate (with the SDK's default
the call was sent again, the second run answered 'locked', and the gate failed while the
first was still changing the schema), and its answer reaches the controller because the connection sends
TCP keepalive probes (a NAT gateway drops a flow quiet for 350 s)."""

import sys

import pytest

from tests.harness.aws import client
from tests.integration.test_migrator_lambda_role import deploy_function, flat, migrate

pytestmark = pytest.mark.slow(seconds=80)


def test_a_migration_longer_than_the_read_timeout_is_applied_once(realistic_aws, tmp_path):
    # The function is created straight through boto3 here: no IAM propagation to wait out.
    realistic_aws.realism("config", {"iam_propagation": {"enabled": False}, "long_invocation": {"seconds": 65}})
    deploy_function(client("lambda"))
    # The role's function runs up to migrator_lambda_timeout (300 s); a 65 s migration fits.
    client("lambda").update_function_configuration(FunctionName="migrator-it-migrate", Timeout=300)
    realistic_aws.queue_lambda_answers({"ok": True, "action": "apply", "phase": "expand", "status": "applied", "changed": True,
                                        "applied": [{"version": 1, "file": "V001__create_orders.sql"}], "current_version": 1})
    realistic_aws.queue_lambda_answers({"ok": False, "action": "apply", "status": "locked", "error": "another migration holds the lock"})

    proc, counts = migrate(tmp_path, "expand")
    assert proc.returncode == 0 and counts["changed"] == 1, flat(proc)[-3000:]
    assert "V001__create_orders.sql" in proc.stdout and "holds the lock" not in proc.stdout
    assert realistic_aws.lambda_invocations() == [{"action": "apply", "phase": "expand"}]
    held = [e for e in realistic_aws.realism("events") if e["behaviour"] == "long_invocation"]
    assert len(held) == 1, held
    # Held past a NAT gateway's idle timeout, as the emulator takes it: the answer came because the
    # invocation's connection sends TCP keepalive probes.
    if sys.platform == "linux":  # the emulator reads keepalive timers from /proc/net/tcp
        assert "TCP keepalive probes" in held[0]["detail"], held
