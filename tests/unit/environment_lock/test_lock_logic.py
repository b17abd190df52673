"""The environment lock's decisions (module_utils/environment_lock.py) on DynamoDB answers of
the recorded shape: items, conditions, expiry, messages, holders, and the client layer's
handling of a refused condition, a concurrent table creator and throttling."""

import botocore.exceptions
import pytest

from ansible_collections.bluegreen.migration.plugins.module_utils import environment_lock as lock
from ansible_collections.bluegreen.migration.plugins.module_utils import naming

NOW = 1796238000  # 2026-12-02T19:00:00Z
# A GetItem answer as DynamoDB returns it (typed attribute values, numbers as strings).
ITEM = {
    "pk": {"S": "dev"},
    "holder": {"S": "alice"},
    "job": {"S": "AWX job 42"},
    "host": {"S": "controller-1"},
    "playbook": {"S": "Roll out a new version (blue-green, gated)"},
    "operation": {"S": "rollout"},
    "token": {"S": "t-1"},
    "started_at": {"N": str(NOW - 600)},
    "expires_at": {"N": str(NOW + 3000)},
}


def record(**changes):
    return dict(lock.from_item(ITEM), **changes)


def client_error(code, operation="PutItem"):
    return botocore.exceptions.ClientError({"Error": {"Code": code, "Message": code}}, operation)


def test_table_name_from_the_shared_catalogue():
    assert naming.shared_resource_name("lock_table") == "bluegreen-locks"
    with pytest.raises(naming.NamingError, match="unknown shared resource"):
        naming.shared_resource_name("nope")


def test_item_round_trip():
    current = lock.from_item(ITEM)
    assert current == {
        "environment": "dev",
        "holder": "alice",
        "job": "AWX job 42",
        "host": "controller-1",
        "playbook": "Roll out a new version (blue-green, gated)",
        "operation": "rollout",
        "token": "t-1",
        "started_at": NOW - 600,
        "expires_at": NOW + 3000,
    }
    assert lock.to_item(current) == ITEM
    assert lock.from_item(None) is None
    # An item written by hand with fields missing still reads.
    assert lock.from_item({"pk": {"S": "dev"}, "expires_at": {"N": "5"}})["holder"] == ""


def test_new_record_expires_after_the_ttl():
    new = lock.new_record("dev", "bob", "", "ctl", "Deploy", "site", "t-2", NOW, 3600)
    assert new["started_at"] == NOW and new["expires_at"] == NOW + 3600
    assert "job" not in lock.to_item(new)  # empty text fields are not written


def test_expiry_is_strict_like_the_condition():
    assert not lock.is_expired(record(expires_at=NOW), NOW)
    assert lock.is_expired(record(expires_at=NOW - 1), NOW)
    assert not lock.is_expired(None, NOW)


def test_conditions():
    expression, values = lock.take_condition(NOW)
    assert expression == "attribute_not_exists(pk) OR expires_at < :now"
    assert values == {":now": {"N": str(NOW)}}
    assert lock.break_condition(None) == ("attribute_not_exists(pk)", {})
    assert lock.break_condition(record()) == ("#token = :seen", {":seen": {"S": "t-1"}})
    assert lock.owner_condition("t-9") == ("#token = :token", {":token": {"S": "t-9"}})
    assert lock.expression_names("#token = :token") == {"#token": "token"}
    assert lock.expression_names("attribute_not_exists(pk)") == {}


def test_plan_take():
    assert lock.plan_take(None, NOW, False) == "take"
    assert lock.plan_take(record(), NOW, False) == "refuse"
    assert lock.plan_take(record(), NOW, True) == "take"
    assert lock.plan_take(record(expires_at=NOW - 1), NOW, False) == "take"


def test_held_message_names_holder_playbook_since_and_how_to_break():
    message = lock.held_message(record(), NOW)
    assert "environment dev is locked by alice (AWX job 42) on controller-1" in message
    assert "since 2026-12-02T18:50:00Z (10 min ago" in message
    assert 'playbook "Roll out a new version (blue-green, gated)", rollout' in message
    assert "expires at 2026-12-02T19:50:00Z (in 50 min)" in message
    assert "-e bluegreen_lock_break=true" in message
    assert message.endswith("Nothing was changed.")


def test_taken_message_says_whose_lock_it_replaced():
    new = lock.new_record("dev", "bob", "", "ctl", "Deploy", "site", "t-2", NOW, 3600)
    assert lock.taken_message(new, None, False, NOW) == "locked environment dev for bob on ctl until 2026-12-02T20:00:00Z"
    broke = lock.taken_message(new, record(), True, NOW)
    assert "broke the lock of alice (AWX job 42) on controller-1 since 2026-12-02T18:50:00Z" in broke
    expired = lock.taken_message(new, record(expires_at=NOW - 60), False, NOW)
    assert "took over the expired lock (expired 2026-12-02T18:59:00Z) of alice" in expired
    # Breaking a lock that had expired anyway says so.
    assert "expired lock" in lock.taken_message(new, record(expires_at=NOW - 60), True, NOW)


def test_status_line():
    assert lock.status_line(None, NOW) == "lock: free"
    assert lock.status_line(record(), NOW) == (
        'lock: held by alice (AWX job 42) on controller-1 since 2026-12-02T18:50:00Z (playbook "Roll out a new version (blue-green, gated)", rollout),'
        " expires 2026-12-02T19:50:00Z"
    )
    assert lock.status_line(record(expires_at=NOW - 1), NOW).startswith("lock: free (the lock held by alice")


def test_holder_of_awx_and_controller_runs():
    assert lock.holder_of(awx_user_name="alice", awx_job_id=42) == ("alice", "AWX job 42")
    assert lock.holder_of(awx_job_id="43", awx_schedule_name="nightly") == ("schedule nightly", "AWX job 43")
    assert lock.holder_of(user="root") == ("root", "")


def test_duration():
    assert lock.duration(-5) == "0 s"
    assert lock.duration(90) == "90 s"
    assert lock.duration(600) == "10 min"
    assert lock.duration(3 * 3600 + 300) == "3 h 5 min"


def test_table_spec_is_on_demand_and_tagged():
    spec = lock.table_spec("bluegreen-locks", {"bluegreen:component": "lock"})
    assert spec["BillingMode"] == "PAY_PER_REQUEST"
    assert spec["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    assert spec["Tags"] == [{"Key": "bluegreen:component", "Value": "lock"}]
    assert "ProvisionedThroughput" not in spec


class FakeClient:
    """Answers each call from a list: an exception to raise or a value to return."""

    def __init__(self, **answers):
        self.answers = {name: list(values) for name, values in answers.items()}
        self.calls = []

    def __getattr__(self, name):
        def call(**params):
            self.calls.append((name, params))
            answer = self.answers[name].pop(0)
            if isinstance(answer, Exception):
                raise answer
            return answer

        return call


def test_refused_condition_is_lock_held_and_not_retried():
    client = FakeClient(put_item=[client_error("ConditionalCheckFailedException")])
    new = lock.new_record("dev", "bob", "", "ctl", "Deploy", "site", "t-2", NOW, 3600)
    with pytest.raises(lock.LockHeld):
        lock.put_lock(client, "bluegreen-locks", new, lock.take_condition(NOW))
    ((name, params),) = client.calls
    assert params["ConditionExpression"] == "attribute_not_exists(pk) OR expires_at < :now"
    assert params["Item"]["token"] == {"S": "t-2"}


def test_throttling_is_retried(monkeypatch):
    monkeypatch.setattr("time.sleep", lambda seconds: None)
    client = FakeClient(put_item=[client_error("ThrottlingException"), client_error("ProvisionedThroughputExceededException"), {}])
    new = lock.new_record("dev", "bob", "", "ctl", "Deploy", "site", "t-2", NOW, 3600)
    # Nothing replaced: no previous lock.
    assert lock.put_lock(client, "bluegreen-locks", new, lock.take_condition(NOW)) is None
    assert len(client.calls) == 3


def test_release_is_conditioned_on_the_token():
    client = FakeClient(delete_item=[{}])
    lock.delete_lock(client, "bluegreen-locks", "dev", lock.owner_condition("t-1"))
    ((name, params),) = client.calls
    assert params["ConditionExpression"] == "#token = :token"
    assert params["ExpressionAttributeNames"] == {"#token": "token"}
    assert params["ExpressionAttributeValues"] == {":token": {"S": "t-1"}}


def test_missing_table_reads_as_none():
    client = FakeClient(describe_table=[client_error("ResourceNotFoundException", "DescribeTable")])
    assert lock.describe_table(client, "bluegreen-locks") is None
