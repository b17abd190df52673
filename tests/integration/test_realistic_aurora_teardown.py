"""The aurora role's teardown on the realistic emulator, right after a deploy stopped while
the cluster was still creating: AWS refuses to delete a cluster that is not available yet
(InvalidDBClusterStateFault, which amazon.aws.rds_cluster does not retry); the role retries
that refusal, then waits for the cluster to be gone, and leaves nothing."""

import pytest

from tests.harness.aws import client, lifted_when_met, recap, run_playbook

pytestmark = pytest.mark.slow(seconds=30)

SUFFIX = "it-aurora-td"
CLUSTER = f"aurora-{SUFFIX}"


def test_a_cluster_still_creating_is_deleted_once_aws_accepts_it(realistic_aws):
    # Only the states that take time and the drain: no throttling or listing lag in the way. The
    # cluster creating until DeleteDBCluster has been refused (however slow the machine), then 6 s.
    realistic_aws.realism("config", {"throttling": {"enabled": False}, "eventual_consistency": {"enabled": False}, "slow_states": {"rds_seconds": 3600}})
    # What a deploy stopped right after CreateDBCluster leaves: the cluster, creating.
    client("rds").create_db_cluster(
        DBClusterIdentifier=CLUSTER, Engine="aurora-postgresql", MasterUsername="app", MasterUserPassword="not-a-secret-1",
        Tags=[{"Key": "bluegreen:environment", "Value": SUFFIX}],
    )
    with lifted_when_met(realistic_aws, {("slow_states", "DeleteDBCluster", "InvalidDBClusterStateFault"): {"slow_states": {"rds_seconds": 6}}}):
        proc = run_playbook(
            "tests/integration/playbooks/aurora.yml", inventory="localhost,",
            extra_vars={"environment_suffix": SUFFIX, "aurora_state": "absent", "aurora_wait_delay": 2},
        )
        assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    assert recap(proc.stdout)["localhost"]["changed"] > 0
    events = realistic_aws.realism("events")
    refused = [e for e in events if e["action"] == "DeleteDBCluster" and e["behaviour"] == "slow_states"]
    assert refused and all(f"InvalidDBClusterStateFault {CLUSTER} creating" == e["detail"] for e in refused), refused
    assert any(e["detail"] == f"cluster {CLUSTER} deleted, listed until gone" for e in events)
    assert [c["DBClusterIdentifier"] for c in client("rds").describe_db_clusters()["DBClusters"]] == []
