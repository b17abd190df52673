"""Final snapshot names: the aurora role's teardown names its snapshot after the UTC time, so a
rebuilt environment torn down again does not hit DBClusterSnapshotAlreadyExistsFault; every
name is a valid RDS snapshot identifier."""

import datetime
import re

import pytest

from ansible_collections.bluegreen.migration.plugins.module_utils.naming import NamingError, resource_name

# RDS snapshot identifiers: 1 to 255 letters, digits or hyphens, a letter first, no two
# consecutive hyphens, no hyphen last.
SNAPSHOT_IDENTIFIER = re.compile(r"^[A-Za-z](?!.*--)[A-Za-z0-9-]{0,254}(?<!-)$")
WHEN = datetime.datetime(2026, 3, 14, 12, 5, 1)


def test_the_stamp_ends_the_name_in_utc_to_the_second():
    name = resource_name("aurora-final", "dev", "rds_snapshot", stamp=WHEN)
    assert name == "aurora-final-dev-20260314-120501" and SNAPSHOT_IDENTIFIER.match(name)
    paris = datetime.timezone(datetime.timedelta(hours=1))
    assert resource_name("aurora-final", "dev", "rds_snapshot", stamp=WHEN.replace(hour=13, tzinfo=paris)) == name
    assert resource_name("aurora-final", "dev", "rds_snapshot", stamp="20260314-120501") == name


def test_two_teardowns_of_one_environment_name_two_snapshots():
    later = WHEN + datetime.timedelta(days=1)
    assert resource_name("aurora-final", "dev", "rds_snapshot", stamp=WHEN) != resource_name("aurora-final", "dev", "rds_snapshot", stamp=later)


def test_the_longest_suffix_still_makes_a_valid_identifier():
    name = resource_name("aurora-final", "a" + "-b" * 9 + "c", "rds_snapshot", stamp=WHEN)
    assert SNAPSHOT_IDENTIFIER.match(name) and len(name) <= 255


def test_a_stamp_that_breaks_the_rule_is_refused():
    with pytest.raises(NamingError, match="RDS snapshot identifier"):
        resource_name("aurora-final", "dev", "rds_snapshot", stamp="2026-03-14T12:05:01Z")
