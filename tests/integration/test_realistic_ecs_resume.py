"""The ecs_service role on the realistic emulator, run again after a deploy stopped during the
live service's steady-state wait: nothing differs from the wanted state, but the deployment is
still under way. The re-run waits for it (through the service's writer, which reports no change)
instead of ending with the live color still deploying."""

import pytest

from tests.harness.aws import client, lifted_when_met
from tests.integration.test_ecs_service_role import SECRET_ARN, network, play

pytestmark = pytest.mark.slow(seconds=60)


def test_a_rerun_waits_for_the_live_services_deployment_under_way(realistic_aws, tmp_path):
    realistic_aws.realism("config", {"throttling": {"enabled": False}, "eventual_consistency": {"enabled": False},
                                     "slow_states": {"ecs_seconds": 0, "targets_seconds": 0}})
    network(client("ec2"))
    counts, fact = play(tmp_path, ecs_service_db_secret_arn=SECRET_ARN)
    assert counts["changed"] > 0 and counts["failed"] == 0
    blue = fact["services"]["blue"]["name"]

    # What the stopped run left: the live service's deployment started, not steady. It stays in
    # progress until the re-run has read it twice (its plan, then the wait), however slow the machine.
    realistic_aws.realism("config", {"slow_states": {"ecs_seconds": 3600}})
    client("ecs").update_service(cluster=fact["cluster_name"], service=blue, forceNewDeployment=True)
    realistic_aws.reset_recording()
    with lifted_when_met(realistic_aws, {("slow_states", "DescribeServices", f"{blue} deployment in progress", 2): {"slow_states": {"ecs_seconds": 0}}}):
        again = play(tmp_path, ecs_service_db_secret_arn=SECRET_ARN)[0]
        assert again["changed"] == 0 and again["failed"] == 0, again
    writes = [c["action"] for c in realistic_aws.requests() if c["service"] == "ecs" and not c["action"].startswith(("Describe", "List"))]
    assert writes == [], writes
    steady = client("ecs").describe_services(cluster=fact["cluster_name"], services=[blue])["services"][0]
    assert steady["runningCount"] == steady["desiredCount"] == 2 and len(steady["deployments"]) == 1, steady
