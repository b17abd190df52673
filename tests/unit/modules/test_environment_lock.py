"""environment_lock and environment_lock_info on the emulator: take, refuse, expiry, break,
release only by the holder, renew, check mode; each result confirmed with boto3."""

import time

from tests.harness.aws import client, run_module

TABLE = "bluegreen-locks"


def item(suffix):
    return client("dynamodb").get_item(TableName=TABLE, Key={"pk": {"S": suffix}}, ConsistentRead=True).get("Item")


def take(suffix="t1", **args):
    return run_module("environment_lock", {"environment_suffix": suffix, "holder": "alice", "playbook": "Roll out", "operation": "rollout", **args})


def test_take_refuse_release(aws):
    # Check mode on a new account: would create the table and take the lock, writes nothing.
    checked = run_module("environment_lock", {"environment_suffix": "t1"}, check=True, diff=True)
    assert checked["changed"] is True and checked["acquired"] is False and checked["token"] is None, checked
    assert checked["msg"].startswith("would have locked environment t1")
    assert TABLE not in client("dynamodb").list_tables()["TableNames"]

    taken = run_module("environment_lock", {"environment_suffix": "t1", "holder": "alice", "tags": {"bluegreen:component": "lock"}}, diff=True)
    assert taken["changed"] is True and taken["acquired"] is True and taken["token"], taken
    assert taken["diff"]["before"] == {} and taken["diff"]["after"]["holder"] == "alice"
    table = client("dynamodb").describe_table(TableName=TABLE)["Table"]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    tags = client("dynamodb").list_tags_of_resource(ResourceArn=table["TableArn"])["Tags"]
    assert {"Key": "bluegreen:component", "Value": "lock"} in tags
    assert item("t1")["token"] == {"S": taken["token"]}
    assert int(item("t1")["expires_at"]["N"]) - int(item("t1")["started_at"]["N"]) == 3600

    # A second run is refused, naming the holder; check mode reports it without failing.
    refused = take(holder="bob")
    assert refused["failed"] is True
    assert "environment t1 is locked by alice" in refused["msg"] and "-e bluegreen_lock_break=true" in refused["msg"], refused
    assert item("t1")["token"] == {"S": taken["token"]}
    checked = run_module("environment_lock", {"environment_suffix": "t1"}, check=True)
    assert not checked.get("failed") and checked["changed"] is False and "locked by alice" in checked["msg"], checked

    # Another environment has its own lock.
    assert take("t2")["acquired"] is True

    info = run_module("environment_lock_info", {"environment_suffix": "t1"})
    assert info["held"] is True and info["line"].startswith("lock: held by alice"), info

    # Release only by the holder: another token leaves it, no token fails, the holder's releases.
    other = run_module("environment_lock", {"environment_suffix": "t1", "state": "absent", "token": "not-mine"})
    assert other["changed"] is False and "not this run's" in other["msg"] and item("t1"), other
    assert run_module("environment_lock", {"environment_suffix": "t1", "state": "absent"})["failed"] is True
    checked = run_module("environment_lock", {"environment_suffix": "t1", "state": "absent", "token": taken["token"]}, check=True)
    assert checked["changed"] is True and item("t1"), checked
    released = run_module("environment_lock", {"environment_suffix": "t1", "state": "absent", "token": taken["token"]})
    assert released["changed"] is True and item("t1") is None, released
    again = run_module("environment_lock", {"environment_suffix": "t1", "state": "absent", "token": taken["token"]})
    assert again["changed"] is False, again
    assert run_module("environment_lock_info", {"environment_suffix": "t1"})["line"] == "lock: free"
    assert item("t2") is not None


def test_expired_lock_break_renew_force(aws):
    first = take(ttl_seconds=60)
    assert first["acquired"] is True
    # Pretend it expired (the run that holds it was killed an hour ago).
    client("dynamodb").update_item(
        TableName=TABLE,
        Key={"pk": {"S": "t1"}},
        UpdateExpression="SET expires_at = :past",
        ExpressionAttributeValues={":past": {"N": str(int(time.time()) - 5)}},
    )
    assert run_module("environment_lock_info", {"environment_suffix": "t1"})["held"] is False
    second = take(holder="bob")
    assert second["acquired"] is True and "took over the expired lock" in second["msg"] and "of alice" in second["msg"], second
    assert second["previous"]["holder"] == "alice"

    # The first run's late release does not release bob's lock.
    late = run_module("environment_lock", {"environment_suffix": "t1", "state": "absent", "token": first["token"]})
    assert late["changed"] is False and item("t1")["holder"] == {"S": "bob"}

    # Break: carol takes over bob's live lock, and the result says whose it was.
    broken = take(holder="carol", **{"break": True})
    assert broken["acquired"] is True and "broke the lock of bob" in broken["msg"], broken
    assert item("t1")["holder"] == {"S": "carol"}

    # Renew: only the holder; it moves the expiry.
    assert run_module("environment_lock", {"environment_suffix": "t1", "state": "renewed", "token": second["token"]})["failed"] is True
    renewed = run_module("environment_lock", {"environment_suffix": "t1", "state": "renewed", "token": broken["token"], "ttl_seconds": 7200})
    assert renewed["changed"] is True, renewed
    assert int(item("t1")["expires_at"]["N"]) >= int(time.time()) + 7100

    forced = run_module("environment_lock", {"environment_suffix": "t1", "state": "absent", "force": True})
    assert forced["changed"] is True and item("t1") is None


def test_first_take_waits_for_the_new_table(realistic_aws):
    """Realistic mode: the new table is CREATING for a few seconds and its items unreachable;
    the first take waits for ACTIVE with the waiter, then writes (throttling retried)."""
    taken = take("t3")
    assert taken.get("failed") is not True and taken["acquired"] is True, taken
    events = [e for e in realistic_aws.realism("events") if e["behaviour"] == "slow_states" and e["service"] == "dynamodb"]
    assert any(e["action"] == "CreateTable" and "CREATING" in e["detail"] for e in events), events
    assert any(e["action"] == "DescribeTable" and "CREATING" in e["detail"] for e in events), events
    assert item("t3")["token"] == {"S": taken["token"]}
    # Reading the items of a table still CREATING is refused the way AWS refuses it.
    client("dynamodb").create_table(
        TableName="bluegreen-locks-new",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    info = run_module("environment_lock_info", {"environment_suffix": "t3", "table_name": "bluegreen-locks-new"})
    assert info.get("failed") is not True and info["line"] == "lock: free", info

    # A take whose answer is lost after DynamoDB wrote it (a 500, a timeout) is sent again and
    # refused by its own first send: the lock is this run's, not "held by alice".
    realistic_aws.realism("config", {"lost_answers": {"actions": ["dynamodb:PutItem"], "count": 1}})
    again = take("t4")
    assert again.get("failed") is not True and again["acquired"] is True, again
    assert [e for e in realistic_aws.realism("events") if e["behaviour"] == "lost_answers"], "no answer was lost"
    assert item("t4")["token"] == {"S": again["token"]}


def dynamodb_actions(emulator, since):
    return [c["action"] for c in emulator.requests()[since:] if c["service"] == "dynamodb"]


def test_a_held_lock_costs_one_call_to_renew_and_one_to_release(aws):
    """The writes go first, conditioned on the token or on "no lock or an expired one"; their
    answers carry the lock replaced or refused, and a read only explains a refusal."""
    take("t5")  # creates the table
    run_module("environment_lock", {"environment_suffix": "t5", "state": "absent", "force": True})
    start = len(aws.requests())
    taken = take("t5")
    assert dynamodb_actions(aws, start) == ["PutItem"], dynamodb_actions(aws, start)
    # Refused: the answer names the holder, no read.
    start = len(aws.requests())
    refused = take("t5", holder="bob")
    assert refused["failed"] is True and "locked by alice" in refused["msg"], refused
    assert dynamodb_actions(aws, start) == ["PutItem"]
    start = len(aws.requests())
    renewed = run_module("environment_lock", {"environment_suffix": "t5", "state": "renewed", "token": taken["token"]}, diff=True)
    assert renewed["changed"] is True and renewed["diff"]["before"]["holder"] == "alice", renewed
    assert dynamodb_actions(aws, start) == ["UpdateItem"]
    start = len(aws.requests())
    released = run_module("environment_lock", {"environment_suffix": "t5", "state": "absent", "token": taken["token"]})
    assert dynamodb_actions(aws, start) == ["DeleteItem"]
    assert released["changed"] is True and "(alice" in released["msg"] and item("t5") is None, released
    # A refused renewal reads the record to say why.
    start = len(aws.requests())
    refused = run_module("environment_lock", {"environment_suffix": "t5", "state": "renewed", "token": taken["token"]})
    assert refused["failed"] is True and "does not hold it (lock: free)" in refused["msg"], refused
    assert dynamodb_actions(aws, start) == ["UpdateItem", "GetItem"]


def test_no_table_yet_release_and_renew(aws):
    """Before the account's first lock there is no table: a release finds nothing to release,
    a renewal fails saying the run holds no lock; neither creates the table."""
    released = run_module("environment_lock", {"environment_suffix": "t6", "state": "absent", "token": "x"})
    assert released["changed"] is False and released["msg"] == "environment t6 is not locked", released
    renewed = run_module("environment_lock", {"environment_suffix": "t6", "state": "renewed", "token": "x"})
    assert renewed["failed"] is True and "does not hold it" in renewed["msg"], renewed
    assert TABLE not in client("dynamodb").list_tables()["TableNames"]
