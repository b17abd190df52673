"""sns_topic on the emulator."""

from tests.harness.aws import client, run_module
from tests.unit.modules.four_steps import four_steps


def test_sns_topic_lifecycle(aws):
    args = {"name": "bluegreen-alarms-t1", "display_name": "alarms", "tags": {"bluegreen:environment": "t1"}}
    created = four_steps("sns_topic", args)
    arn = created["topic_arn"]
    assert arn.endswith(":bluegreen-alarms-t1")
    sns = client("sns")
    assert sns.get_topic_attributes(TopicArn=arn)["Attributes"]["DisplayName"] == "alarms"

    # A changed display name and tag are updated in place; tags=None leaves tags alone.
    updated = four_steps("sns_topic", {**args, "display_name": "alarms 2", "tags": {"team": "x"}})
    assert updated["topic_arn"] == arn
    assert updated["diff"]["before"]["tags"] == {"bluegreen:environment": "t1"}
    assert updated["tags"] == {"team": "x"}
    untouched = run_module("sns_topic", {"name": "bluegreen-alarms-t1"})
    assert untouched["changed"] is False and untouched["tags"] == {"team": "x"}

    four_steps("sns_topic", {"name": "bluegreen-alarms-t1", "state": "absent"})
    assert sns.list_topics()["Topics"] == []
