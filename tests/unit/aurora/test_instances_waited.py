"""The database wait's verdict (module_utils/aurora.instances_waited) on instances as
amazon.aws.rds_instance_info returns them: pending on the way to available, done when all serve,
stopped at once on a status that does not end by itself."""

import pytest

from ansible_collections.bluegreen.migration.plugins.module_utils import aurora

WANTED = ["aurora-1-dev", "aurora-2-dev"]


def instance(identifier, status):
    return {"db_instance_identifier": identifier, "db_instance_status": status, "db_cluster_identifier": "aurora-dev"}


@pytest.mark.parametrize("status", aurora.INSTANCE_ON_THE_WAY)
def test_an_instance_on_its_way_is_pending(status):
    found = [instance("aurora-1-dev", "available"), instance("aurora-2-dev", status)]
    assert aurora.instances_waited(found, WANTED, "aurora-dev") == {"pending": ["aurora-2-dev"], "failed": [], "done": False}


@pytest.mark.parametrize("status", aurora.SERVING)
def test_instances_that_serve_end_the_wait(status):
    found = [instance("aurora-1-dev", "available"), instance("aurora-2-dev", status)]
    assert aurora.instances_waited(found, WANTED, "aurora-dev") == {"pending": [], "failed": [], "done": True}


@pytest.mark.parametrize("status", ["failed", "incompatible-network", "incompatible-parameters", "inaccessible-encryption-credentials",
                                    "stopped", "stopping", "deleting", "restore-error", "some-status-aws-adds-later"])
def test_a_status_that_does_not_end_by_itself_stops_the_wait_at_once(status):
    # The writer still creating: the wait stops anyway, naming the reader's status.
    found = [instance("aurora-1-dev", "creating"), instance("aurora-2-dev", status)]
    assert aurora.instances_waited(found, WANTED, "aurora-dev") == {"pending": ["aurora-1-dev"], "failed": [f"aurora-2-dev is {status}"], "done": True}


def test_an_instance_not_listed_yet_is_pending_and_others_of_the_cluster_do_not_count():
    found = [instance("aurora-1-dev", "available"), instance("aurora-9-dev", "failed")]
    assert aurora.instances_waited(found, WANTED, "aurora-dev") == {"pending": ["aurora-2-dev"], "failed": [], "done": False}


def test_without_wanted_ids_every_listed_instance_counts_and_at_least_one_is_needed():
    assert aurora.instances_waited([], [], "aurora-dev") == {"pending": ["the instances of aurora-dev (none listed yet)"], "failed": [], "done": False}
    assert aurora.instances_waited(None, None, "aurora-dev")["done"] is False
    found = [instance("aurora-1-dev", "available"), instance("aurora-2-dev", "modifying")]
    assert aurora.instances_waited(found, [], "aurora-dev") == {"pending": ["aurora-2-dev"], "failed": [], "done": False}
    assert aurora.instances_waited(found[:1], [], "aurora-dev") == {"pending": [], "failed": [], "done": True}


def test_without_wanted_ids_an_instance_being_deleted_does_not_count():
    found = [instance("aurora-1-dev", "available"), instance("aurora-3-dev", "deleting")]
    assert aurora.instances_waited(found, [], "aurora-dev") == {"pending": [], "failed": [], "done": True}
    # Named in the wanted ids, it stops the wait: it will not become available.
    assert aurora.instances_waited(found, ["aurora-1-dev", "aurora-3-dev"], "aurora-dev")["failed"] == ["aurora-3-dev is deleting"]


def cluster(status):
    return {"db_cluster_identifier": "aurora-dev", "status": status}


@pytest.mark.parametrize("status", aurora.CLUSTER_ON_THE_WAY)
def test_a_cluster_on_its_way_is_pending(status):
    assert aurora.cluster_waited([cluster(status)], "aurora-dev") == {"pending": ["aurora-dev"], "failed": [], "done": False}


@pytest.mark.parametrize("status,outcome", [
    ("available", {"pending": [], "failed": [], "done": True}),
    ("storage-optimization", {"pending": [], "failed": [], "done": True}),
    ("stopped", {"pending": [], "failed": ["aurora-dev is stopped"], "done": True}),
    ("inaccessible-encryption-credentials", {"pending": [], "failed": ["aurora-dev is inaccessible-encryption-credentials"], "done": True}),
])
def test_a_cluster_that_serves_or_will_not_by_itself_ends_the_wait(status, outcome):
    assert aurora.cluster_waited([cluster(status)], "aurora-dev") == outcome


def test_a_cluster_not_listed_yet_is_pending():
    assert aurora.cluster_waited([], "aurora-dev") == {"pending": ["aurora-dev"], "failed": [], "done": False}


def test_the_filters_say_which_of_them_had_unexpected_input():
    from ansible.errors import AnsibleFilterError

    from ansible_collections.bluegreen.migration.plugins.filter.aurora import FilterModule

    filters = FilterModule().filters()
    with pytest.raises(AnsibleFilterError, match=r"aurora_instances_waited: unexpected input \(KeyError"):
        filters["aurora_instances_waited"]([{"db_instance_status": "creating"}], [], "aurora-dev")
    with pytest.raises(AnsibleFilterError, match=r"aurora_cluster_waited: unexpected input"):
        filters["aurora_cluster_waited"]([{"status": "creating"}], "aurora-dev")
    assert filters["aurora_cluster_waited"]([cluster("available")], "aurora-dev")["done"] is True
    # Options by name, as documented.
    assert filters["aurora_instances_waited"]([], cluster_id="aurora-dev")["pending"] == ["the instances of aurora-dev (none listed yet)"]
