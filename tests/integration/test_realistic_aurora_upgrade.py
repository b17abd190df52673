"""The aurora role on the realistic emulator while AWS applies a minor version upgrade: the
cluster is `upgrading`, reports its former version with the new one pending, and refuses any
ModifyDBCluster (InvalidDBClusterStateFault) until it is available. A run in that window has
its change retried until AWS takes it, and never sends the upgrade again (that the plan reads
the pending version is tested on recorded answers in tests/unit/aurora/test_aurora_plan.py).
Then a teardown resumed after its final snapshot: no second snapshot."""

import pytest

from tests.harness.aws import client, lifted_when_met, recap, run_playbook
from tests.integration.test_aurora_role import PLAYBOOK, network

pytestmark = pytest.mark.slow(seconds=60)

SUFFIX = "it-aurora"
CLUSTER = f"aurora-{SUFFIX}"


def play(**more):
    extra = {"environment_suffix": SUFFIX, "aurora_state": "present", "aurora_reader_count": 1, "aurora_wait_delay": 1, **more}
    proc = run_playbook(PLAYBOOK, inventory="localhost,", extra_vars=extra)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    return recap(proc.stdout)["localhost"]


def test_a_run_during_a_minor_upgrade_waits_for_the_cluster_and_does_not_upgrade_again(realistic_aws):
    realistic_aws.realism("config", {"throttling": {"enabled": False}, "eventual_consistency": {"enabled": False}, "slow_states": {"rds_seconds": 1}})
    network(client("ec2"))
    play(aurora_engine_version="15.10")

    # The upgrade someone started (the console, a maintenance window): upgrading for as long as
    # the run below needs to meet it.
    realistic_aws.realism("config", {"slow_states": {"rds_seconds": 3600}})
    client("rds").describe_db_clusters(DBClusterIdentifier=CLUSTER)
    client("rds").modify_db_cluster(DBClusterIdentifier=CLUSTER, EngineVersion="15.12", ApplyImmediately=True)
    described = client("rds").describe_db_clusters(DBClusterIdentifier=CLUSTER)["DBClusters"][0]
    assert (described["Status"], described["EngineVersion"], described["PendingModifiedValues"]) == ("upgrading", "15.10", {"EngineVersion": "15.12"})

    realistic_aws.reset_recording()
    refused = ("slow_states", "ModifyDBCluster", f"InvalidDBClusterStateFault {CLUSTER} upgrading")
    with lifted_when_met(realistic_aws, {refused: {"slow_states": {"rds_seconds": 0}}}):
        ran = play(aurora_engine_version="15.12", aurora_backup_retention_days=3)
        assert ran["changed"] > 0 and ran["failed"] == 0
    modified = [c["params"] for c in realistic_aws.requests() if c["action"] == "ModifyDBCluster"]
    assert modified and all("EngineVersion" not in params for params in modified), modified
    cluster = client("rds").describe_db_clusters(DBClusterIdentifier=CLUSTER)["DBClusters"][0]
    assert (cluster["Status"], cluster["EngineVersion"], cluster["BackupRetentionPeriod"]) == ("available", "15.12", 3)
    assert play(aurora_engine_version="15.12", aurora_backup_retention_days=3)["changed"] == 0

    # A teardown with a final snapshot, stopped after the snapshot and its instance deletes, run
    # again: that snapshot is the final one (no second), and the cluster goes.
    earlier = f"aurora-final-{SUFFIX}-20261207-000000"
    rds = client("rds")
    # A tag added to the snapshot since (a backup policy's) stays.
    rds.create_db_cluster_snapshot(DBClusterIdentifier=CLUSTER, DBClusterSnapshotIdentifier=earlier,
                                   Tags=[{"Key": "backup-policy", "Value": "keep-90d"}])
    for member in rds.describe_db_clusters(DBClusterIdentifier=CLUSTER)["DBClusters"][0]["DBClusterMembers"]:
        rds.delete_db_instance(DBInstanceIdentifier=member["DBInstanceIdentifier"], SkipFinalSnapshot=True)
    realistic_aws.reset_recording()
    assert play(aurora_state="absent", aurora_skip_final_snapshot=False)["changed"] > 0
    assert not [c for c in realistic_aws.requests() if c["action"] == "CreateDBClusterSnapshot"]
    snapshots = client("rds").describe_db_cluster_snapshots(SnapshotType="manual")["DBClusterSnapshots"]
    assert [s["DBClusterSnapshotIdentifier"] for s in snapshots] == [earlier]
    assert not [c for c in realistic_aws.requests() if c["action"] == "RemoveTagsFromResource"]
    kept = rds.list_tags_for_resource(ResourceName=snapshots[0]["DBClusterSnapshotArn"])["TagList"]
    assert {"Key": "backup-policy", "Value": "keep-90d"} in kept, kept
    assert client("rds").describe_db_clusters()["DBClusters"] == []
