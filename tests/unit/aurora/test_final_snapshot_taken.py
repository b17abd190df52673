"""A teardown stopped after its final snapshot and run again takes no second one: which of the
cluster's manual snapshots counts as that final snapshot (aurora.final_snapshot_taken, the
aurora_final_snapshot_taken filter), on answers shaped as amazon.aws's info modules return them."""

import datetime

from ansible_collections.bluegreen.migration.plugins.module_utils import aurora
from ansible_collections.bluegreen.migration.plugins.module_utils.naming import resource_name

PREFIX = resource_name("aurora-final", "dev", "rds_snapshot")
# The stopped teardown deleted the instances: no member left.
CLUSTER = {"db_cluster_identifier": "aurora-dev", "cluster_create_time": "2026-12-07T10:00:00.123000+00:00", "db_cluster_members": []}


def snapshot(name, taken="2026-12-07T12:00:00+00:00", status="available", cluster="aurora-dev"):
    return {"db_cluster_snapshot_identifier": name, "snapshot_create_time": taken, "status": status, "db_cluster_identifier": cluster}


def test_the_snapshot_of_a_stopped_teardown_is_taken_again():
    earlier = resource_name("aurora-final", "dev", "rds_snapshot", stamp=datetime.datetime(2026, 12, 7, 12, 0, 0))
    assert aurora.final_snapshot_taken([snapshot(earlier)], CLUSTER, PREFIX) == earlier
    # Still being created counts too (the stopped run did not wait for it).
    assert aurora.final_snapshot_taken([snapshot(earlier, status="creating")], CLUSTER, PREFIX) == earlier


def test_the_latest_of_two_is_taken():
    first, second = f"{PREFIX}-20261207-110000", f"{PREFIX}-20261207-120000"
    assert aurora.final_snapshot_taken([snapshot(second), snapshot(first, taken="2026-12-07T11:00:00+00:00")], CLUSTER, PREFIX) == second


def test_what_does_not_count():
    assert aurora.final_snapshot_taken([], CLUSTER, PREFIX) is None
    assert aurora.final_snapshot_taken(None, CLUSTER, PREFIX) is None
    others = [
        # An earlier cluster of the same name, torn down before this one was created.
        snapshot(f"{PREFIX}-20261201-090000", taken="2026-12-01T09:00:00+00:00"),
        # Taken by hand, or by another tool: not named as a final snapshot.
        snapshot("aurora-dev-before-upgrade"),
        snapshot(f"{PREFIX}-manual"),
        snapshot(f"{PREFIX}-dev-20261207-120000"),
        # Failed, or deleted meanwhile.
        snapshot(f"{PREFIX}-20261207-120000", status="failed"),
        snapshot(f"{PREFIX}-20261207-120100", status="deleting"),
        # Of another cluster.
        snapshot(f"{PREFIX}-20261207-120200", cluster="aurora-other"),
    ]
    assert aurora.final_snapshot_taken(others, CLUSTER, PREFIX) is None


def test_times_as_datetimes_or_z_text():
    taken = datetime.datetime(2026, 12, 7, 12, 0, tzinfo=datetime.timezone.utc)
    cluster = dict(CLUSTER, cluster_create_time="2026-12-07T10:00:00Z")
    assert aurora.final_snapshot_taken([snapshot(f"{PREFIX}-20261207-120000", taken=taken)], cluster, PREFIX) == f"{PREFIX}-20261207-120000"
    # A cluster whose creation time is not reported: any final snapshot of it counts.
    assert aurora.final_snapshot_taken([snapshot(f"{PREFIX}-20261201-090000")], {"db_cluster_identifier": "aurora-dev"}, PREFIX)


def test_an_available_snapshot_of_a_cluster_with_instances_may_be_old():
    """A teardown stopped after its snapshot, given up, the environment deployed again (the same
    cluster, its instances back) and used for weeks: that snapshot is not a final one of the
    data now. Only one still being created is (the stopped run's)."""
    used = dict(CLUSTER, db_cluster_members=[{"db_instance_identifier": "aurora-1-dev", "is_cluster_writer": True}])
    name = f"{PREFIX}-20261207-120000"
    assert aurora.final_snapshot_taken([snapshot(name)], used, PREFIX) is None
    assert aurora.final_snapshot_taken([snapshot(name, status="creating")], used, PREFIX) == name
