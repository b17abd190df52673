"""metric_alarms on the emulator: several alarms in one run, the API requests of a no-op,
one changed option, tags, state=absent."""

from tests.harness.aws import client, free_port, run_module
from tests.unit.modules.four_steps import four_steps

SUFFIX = "t1"
TOPIC = "arn:aws:sns:us-east-1:123456789012:bluegreen-alarms-t1"


def alarm(name, metric, comparison, threshold, unit):
    return {
        "name": name,
        "description": f"{metric} of aurora-{SUFFIX}",
        "namespace": "AWS/RDS",
        "metric_name": metric,
        "statistic": "Average",
        "comparison": comparison,
        "threshold": threshold,
        "unit": unit,
        "period": 300,
        "evaluation_periods": 3,
        "dimensions": {"DBClusterIdentifier": f"aurora-{SUFFIX}"},
        "treat_missing_data": "missing",
        "alarm_actions": [TOPIC],
        "tags": {"Name": name},
    }


ALARMS = [
    alarm(f"aurora-cpu-{SUFFIX}", "CPUUtilization", "GreaterThanThreshold", 80, "Percent"),
    alarm(f"aurora-memory-{SUFFIX}", "FreeableMemory", "LessThanThreshold", 268435456, "Bytes"),
]
TAGS = {"bluegreen:environment": SUFFIX, "bluegreen:component": "aurora"}
NAMES = [a["name"] for a in ALARMS]


def calls(aws, service="monitoring"):
    return [c["action"] for c in aws.requests() if c["service"] == service]


def described(names=NAMES):
    return {a["AlarmName"]: a for a in client("cloudwatch").describe_alarms(AlarmNames=names)["MetricAlarms"]}


def tags_of(arn):
    return {t["Key"]: t["Value"] for t in client("cloudwatch").list_tags_for_resource(ResourceARN=arn)["Tags"]}


def test_metric_alarms_lifecycle(aws):
    args = {"alarms": ALARMS, "tags": TAGS}
    created = four_steps("metric_alarms", args)
    assert [a["name"] for a in created["alarms"]] == NAMES
    assert all(a["changed"] and a["changes"] == ["missing"] for a in created["alarms"])
    assert set(created["diff"]["after"]) == set(NAMES) and created["diff"]["before"] == {}
    found = described()
    cpu = found[NAMES[0]]
    assert cpu["Threshold"] == 80.0 and cpu["Unit"] == "Percent" and cpu["TreatMissingData"] == "missing"
    assert cpu["Dimensions"] == [{"Name": "DBClusterIdentifier", "Value": f"aurora-{SUFFIX}"}]
    assert cpu["AlarmActions"] == [TOPIC] and cpu["EvaluationPeriods"] == 3 and cpu["Period"] == 300
    assert created["alarms"][0]["arn"] == cpu["AlarmArn"]
    # Tags on create: the module's tags and the alarm's own.
    assert tags_of(cpu["AlarmArn"]) == dict(TAGS, Name=NAMES[0])

    # A no-op: one DescribeAlarms for both, one ListTagsForResource each (tags are given), nothing else.
    aws.reset_recording()
    again = run_module("metric_alarms", args)
    assert again["changed"] is False and all(a["changes"] == [] for a in again["alarms"])
    assert sorted(calls(aws)) == ["DescribeAlarms", "ListTagsForResource", "ListTagsForResource"]
    assert [c["params"].get("AlarmNames") for c in aws.requests() if c["action"] == "DescribeAlarms"] == [NAMES]
    # Without tags the tags are not even read.
    aws.reset_recording()
    untagged = run_module("metric_alarms", {"alarms": [{k: v for k, v in a.items() if k != "tags"} for a in ALARMS]})
    assert untagged["changed"] is False and calls(aws) == ["DescribeAlarms"]
    assert "tags" not in untagged["alarms"][0]


def test_one_changed_option_updates_that_alarm_only_and_keeps_the_rest(aws):
    run_module("metric_alarms", {"alarms": ALARMS, "tags": TAGS})
    changed = [dict(ALARMS[0], threshold=90), ALARMS[1]]
    aws.reset_recording()
    updated = four_steps("metric_alarms", {"alarms": changed, "tags": TAGS})
    assert [a["changed"] for a in updated["alarms"]] == [True, False]
    assert updated["alarms"][0]["changes"] == ["threshold: 80.0 -> 90.0"]
    assert updated["diff"]["before"][NAMES[0]]["threshold"] == 80.0 and updated["diff"]["after"][NAMES[0]]["threshold"] == 90.0
    assert set(updated["diff"]["after"]) == {NAMES[0]}
    puts = [c for c in aws.requests() if c["action"] == "PutMetricAlarm"]
    assert [p["params"]["AlarmName"] for p in puts] == [NAMES[0]]
    cpu = described()[NAMES[0]]
    assert cpu["Threshold"] == 90.0 and cpu["Unit"] == "Percent" and cpu["AlarmActions"] == [TOPIC]

    # Options left out keep what the alarm has; dimensions are compared exactly.
    partial = run_module("metric_alarms", {"alarms": [{"name": NAMES[0], "evaluation_periods": 5}]})
    assert partial["changed"] is True
    cpu = described()[NAMES[0]]
    assert cpu["EvaluationPeriods"] == 5 and cpu["Threshold"] == 90.0 and cpu["TreatMissingData"] == "missing"
    assert cpu["AlarmDescription"] == ALARMS[0]["description"] and cpu["Statistic"] == "Average"
    dims = run_module("metric_alarms", {"alarms": [{"name": NAMES[0], "dimensions": {"DBClusterIdentifier": f"aurora-{SUFFIX}", "Role": "WRITER"}}]})
    assert dims["changed"] is True and dims["alarms"][0]["changes"] == ["dimensions.Role: None -> 'WRITER'"]
    # Actions are a set: another order is no change.
    two = [TOPIC, TOPIC + "-2"]
    run_module("metric_alarms", {"alarms": [{"name": NAMES[0], "alarm_actions": two}]})
    assert run_module("metric_alarms", {"alarms": [{"name": NAMES[0], "alarm_actions": two[::-1]}]})["changed"] is False


def test_tags_are_reconciled_on_existing_alarms(aws):
    run_module("metric_alarms", {"alarms": ALARMS, "tags": TAGS})
    arn = described()[NAMES[0]]["AlarmArn"]
    retag = four_steps("metric_alarms", {"alarms": ALARMS, "tags": {"bluegreen:environment": SUFFIX, "team": "db"}})
    assert retag["alarms"][0]["tags"] == {"bluegreen:environment": SUFFIX, "team": "db", "Name": NAMES[0]}
    assert retag["diff"]["before"][NAMES[0]]["tags"]["bluegreen:component"] == "aurora"
    assert tags_of(arn) == {"bluegreen:environment": SUFFIX, "team": "db", "Name": NAMES[0]}
    # Retagging never re-puts the alarm definition.
    aws.reset_recording()
    run_module("metric_alarms", {"alarms": ALARMS, "tags": {"extra": "1"}, "purge_tags": False})
    assert "PutMetricAlarm" not in calls(aws) and "TagResource" in calls(aws) and "UntagResource" not in calls(aws)
    assert tags_of(arn)["extra"] == "1" and tags_of(arn)["team"] == "db"


def test_absent_deletes_the_existing_ones_in_one_request(aws):
    run_module("metric_alarms", {"alarms": ALARMS})
    other = "someone-elses-alarm"
    run_module("metric_alarms", {"alarms": [dict(ALARMS[0], name=other)]})
    aws.reset_recording()
    gone = four_steps("metric_alarms", {"state": "absent", "alarms": [{"name": n} for n in NAMES + ["never-created"]]})
    assert [a["changed"] for a in gone["alarms"]] == [True, True, False]
    assert set(gone["diff"]["before"]) == set(NAMES) and gone["diff"]["after"] == {}
    deletes = [c for c in aws.requests() if c["action"] == "DeleteAlarms"]
    assert len(deletes) == 1 and sorted(deletes[0]["params"]["AlarmNames"]) == sorted(NAMES)
    assert described(NAMES + [other]).keys() == {other}


def test_clear_errors(aws, monkeypatch):
    missing = run_module("metric_alarms", {"alarms": [{"name": "new-one", "threshold": 1}]}, check=True)
    assert missing["failed"] and "alarm new-one does not exist" in missing["msg"] and "metric_name" in missing["msg"]
    twice = run_module("metric_alarms", {"alarms": [ALARMS[0], ALARMS[0]]})
    assert twice["failed"] and f"repeated: {NAMES[0]}" in twice["msg"]
    # An AWS failure names what failed (nothing listens on this port).
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    unreachable = run_module("metric_alarms", {"alarms": ALARMS})
    assert unreachable["failed"] and unreachable["msg"].startswith(f"Failed to describe CloudWatch alarms {NAMES!r}"), unreachable["msg"]


def test_more_than_100_alarms_are_read_and_deleted_in_batches(aws):
    many = [dict(ALARMS[0], name=f"cpu-{index:03d}", tags=None) for index in range(130)]
    assert run_module("metric_alarms", {"alarms": many})["changed"] is True
    aws.reset_recording()
    again = run_module("metric_alarms", {"alarms": many})
    assert again["changed"] is False and len(again["alarms"]) == 130 and all(a["arn"] for a in again["alarms"])
    assert [len(c["params"]["AlarmNames"]) for c in aws.requests() if c["action"] == "DescribeAlarms"] == [100, 30]
    aws.reset_recording()
    assert run_module("metric_alarms", {"alarms": [{"name": a["name"]} for a in many], "state": "absent"})["changed"] is True
    assert [len(c["params"]["AlarmNames"]) for c in aws.requests() if c["action"] == "DeleteAlarms"] == [100, 30]
    assert client("cloudwatch").describe_alarms()["MetricAlarms"] == []
