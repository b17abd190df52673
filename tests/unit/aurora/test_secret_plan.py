"""The aurora role's plan of its credentials secret (module_utils/secretsmanager.py plan_secret)
on a DescribeSecret answer recorded from the emulator: the value is never read, its keys are
known from the bluegreen:fields tag; exactly the drifted field when one differs, a create when
the secret is missing or scheduled for deletion."""

import copy
import json
from pathlib import Path

from ansible_collections.bluegreen.migration.plugins.module_utils import aurora
from ansible_collections.bluegreen.migration.plugins.module_utils import secretsmanager as sm

FOUND = json.loads((Path(__file__).parent / "recorded" / "describe_secret.json").read_text())
FIELDS = {
    "username": "dbadmin",
    "engine": "postgres",
    "port": 5432,
    "dbname": "appdb",
    "dbClusterIdentifier": "aurora-dev",
    "host": "aurora-dev.cluster-abc.us-east-1.rds.amazonaws.com",
}
TAGS = {"bluegreen:environment": "dev", "bluegreen:component": "aurora", "Name": "aurora-credentials-dev"}
WANTED = {"name": "aurora-credentials-dev", "description": "Master credentials of aurora-dev", "kms_key_id": None, "fields": FIELDS, "tags": TAGS}


def found_with(**fields):
    found = copy.deepcopy(FOUND)
    found.update(fields)
    return found


def only_change(changes):
    assert len(changes) == 1, changes
    return changes[0]


def with_tag(found, key, value):
    found["Tags"] = [t for t in found["Tags"] if t["Key"] != key] + ([{"Key": key, "Value": value}] if value is not None else [])
    return found


def test_the_recorded_secret_is_what_the_role_wants():
    assert sm.plan_secret(WANTED, FOUND) == ([], False)
    assert sm.value_drift(FOUND, FIELDS) is None and sm.value_drift(FOUND, {}) is None


def test_the_view_shows_no_value_and_not_the_fields_tag():
    view = sm.secret_view(FOUND)
    assert view["tags"] == TAGS and view["arn"] == FOUND["ARN"] and view["deleted"] is False
    assert view["version_id"] == next(iter(FOUND["VersionIdsToStages"]))
    assert "SecretString" not in json.dumps(view) and sm.secret_view(None) == {}


def test_description_drifted_alone():
    item = only_change(sm.plan_secret(WANTED, found_with(Description="changed by hand"))[0])
    assert (item["resource"], item["action"]) == ("credentials secret", "update")
    assert item["fields"] == {"description": {"before": "changed by hand", "after": WANTED["description"]}}


def test_kms_key_is_compared_only_when_given():
    key = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    assert sm.plan_secret(WANTED, found_with(KmsKeyId=key)) == ([], False)
    item = only_change(sm.plan_secret(dict(WANTED, kms_key_id=key), FOUND)[0])
    assert item["fields"] == {"kms_key_id": {"before": None, "after": key}}


def test_tags_drifted_alone_and_the_fields_tag_is_never_purged():
    item = only_change(sm.plan_secret(WANTED, with_tag(copy.deepcopy(FOUND), "owner", "someone"))[0])
    assert list(item["fields"]) == ["tags"]
    assert item["fields"]["tags"]["after"] == TAGS and "bluegreen:fields" not in item["fields"]["tags"]["before"]


def test_other_wanted_fields_are_a_change_of_the_value_without_reading_it():
    item = only_change(sm.plan_secret(dict(WANTED, fields=dict(FIELDS, port=5433)), FOUND)[0])
    assert item["fields"] == {"fields": {"before": "(other keys or values)", "after": dict(FIELDS, port=5433)}}


def test_a_value_written_elsewhere_is_read_once():
    found = found_with(VersionIdsToStages={"0f5e5f3c-7a10-4d3f-8a51-6c2b4bd793a1": ["AWSCURRENT"], next(iter(FOUND["VersionIdsToStages"])): ["AWSPREVIOUS"]})
    item = only_change(sm.plan_secret(WANTED, found)[0])
    assert item["fields"]["fields"]["before"] == "(changed since recorded)"


def test_a_secret_without_the_fields_tag_is_read_once():
    item = only_change(sm.plan_secret(WANTED, with_tag(copy.deepcopy(FOUND), sm.FIELDS_TAG, None))[0])
    assert item["fields"]["fields"]["before"] == "(not recorded)"


def test_a_missing_secret_is_created_with_a_generated_password():
    changes, apply = sm.plan_secret(WANTED, None)
    item = only_change(changes)
    assert apply is True and item["action"] == "create" and item["reason"] == "no secret of that name"
    assert item["fields"]["fields"]["after"] == FIELDS and item["fields"]["password_set"]["after"] is True
    assert "kms_key_id" not in item["fields"], "not given: Secrets Manager's own key"


def test_a_secret_scheduled_for_deletion_is_planned_as_created_again():
    item = only_change(sm.plan_secret(WANTED, found_with(DeletedDate="2026-12-03T07:00:07+00:00"))[0])
    assert item["action"] == "create" and item["reason"] == "scheduled for deletion: restored"


def test_the_fields_tag_is_a_digest_never_a_value():
    marker = sm.fields_marker(FIELDS, "v1")
    assert marker.endswith("@v1") and len(marker) == 64 + 3
    assert sm.fields_digest(dict(reversed(list(FIELDS.items())))) == sm.fields_digest(FIELDS), "key order does not matter"


def test_the_clusters_endpoint_is_one_of_the_wanted_keys_once_it_exists():
    without_host = dict(WANTED, fields=dict((k, v) for k, v in FIELDS.items() if k != "host"))
    cluster = {"Endpoint": FIELDS["host"]}
    assert sm.plan_secret(aurora.secret_wanted(without_host, cluster), FOUND) == ([], False)
    assert aurora.secret_wanted(without_host, None)["fields"] == without_host["fields"]
    assert "host" not in without_host["fields"], "the input is not changed"


def test_the_secret_keeps_the_clusters_master_user_and_database():
    cluster = {"Endpoint": FIELDS["host"], "MasterUsername": "dbadmin", "DatabaseName": "appdb"}
    renamed = dict(WANTED, fields=dict(FIELDS, username="someone_else", dbname="otherdb"))
    assert aurora.secret_wanted(renamed, cluster)["fields"] == FIELDS
    assert sm.plan_secret(aurora.secret_wanted(renamed, cluster), FOUND) == ([], False)
    # before the cluster exists, the inputs' names
    assert aurora.secret_wanted(renamed, None)["fields"]["username"] == "someone_else"
