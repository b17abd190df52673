"""elb_target_group, elb_listener_weights and elb_listener_rule on the emulator."""

import pytest

from ansible_collections.bluegreen.migration.plugins.module_utils import elbv2
from ansible_collections.bluegreen.migration.plugins.modules import elb_listener_rule
from tests.harness.aws import client, run_module
from tests.harness.clock import FakeClock
from tests.harness.module_stub import Ended, StubModule
from tests.unit.modules.four_steps import four_steps


@pytest.fixture
def vpc(aws):
    ec2 = client("ec2")
    vpc_id = ec2.create_vpc(CidrBlock="10.30.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc_id, CidrBlock=f"10.30.{i}.0/24", AvailabilityZone=f"us-east-1{az}")["Subnet"]["SubnetId"] for i, az in ((1, "a"), (2, "b"))
    ]
    return {"vpc_id": vpc_id, "subnets": subnets}


def test_elb_target_group(vpc):
    args = {
        "name": "bluegreen-blue-t1",
        "port": 80,
        "vpc_id": vpc["vpc_id"],
        "health_check": {"path": "/"},
        "deregistration_delay": 30,
        "tags": {"bluegreen:environment": "t1"},
    }
    created = four_steps("elb_target_group", args)["target_group"]
    assert created["target_type"] == "ip"
    assert created["health_check"] == {
        "path": "/",
        "protocol": "HTTP",
        "port": "traffic-port",
        "interval": 30,
        "timeout": 5,
        "healthy_threshold": 2,
        "unhealthy_threshold": 3,
        "matcher": "200",
    }
    assert created["deregistration_delay"] == 30
    elbv2 = client("elbv2")
    described = elbv2.describe_target_groups(Names=["bluegreen-blue-t1"])["TargetGroups"][0]
    assert (described["HealthyThresholdCount"], described["UnhealthyThresholdCount"]) == (2, 3)

    # Health check and deregistration delay are modified in place.
    changed = four_steps("elb_target_group", {**args, "health_check": {"path": "/health", "matcher": "200-299"}, "deregistration_delay": 10})
    assert changed["diff"]["before"]["health_check"]["path"] == "/"
    assert changed["target_group"]["target_group_arn"] == created["target_group_arn"]
    assert changed["target_group"]["health_check"]["matcher"] == "200-299"
    attributes = {a["Key"]: a["Value"] for a in elbv2.describe_target_group_attributes(TargetGroupArn=created["target_group_arn"])["Attributes"]}
    assert attributes["deregistration_delay.timeout_seconds"] == "10"

    # Immutable fields give a clear error and change nothing.
    moved = run_module("elb_target_group", {**args, "port": 8080})
    assert moved["failed"] is True
    assert "cannot be changed in place: port is 80, wanted 8080" in moved["msg"]

    four_steps("elb_target_group", {"name": "bluegreen-blue-t1", "state": "absent"})


def test_elb_listener_weights(vpc):
    elbv2 = client("elbv2")
    alb = elbv2.create_load_balancer(Name="bluegreen-t1", Subnets=vpc["subnets"])["LoadBalancers"][0]["LoadBalancerArn"]
    blue = run_module("elb_target_group", {"name": "bluegreen-blue-t1", "port": 80, "vpc_id": vpc["vpc_id"]})["target_group"]["target_group_arn"]
    green = run_module("elb_target_group", {"name": "bluegreen-green-t1", "port": 80, "vpc_id": vpc["vpc_id"]})["target_group"]["target_group_arn"]
    # A listener as a plain forward to blue (no ForwardConfig), as another tool may leave it.
    listener = elbv2.create_listener(LoadBalancerArn=alb, Protocol="HTTP", Port=80, DefaultActions=[{"Type": "forward", "TargetGroupArn": blue}])
    arn = listener["Listeners"][0]["ListenerArn"]

    live_blue = {"listener_arn": arn, "weights": [{"target_group_arn": blue, "weight": 100}, {"target_group_arn": green, "weight": 0}], "live_color": "blue"}
    first = four_steps("elb_listener_weights", live_blue)
    assert first["live_color"] == "blue"
    assert first["diff"]["before"]["weights"] == [{"target_group_arn": blue, "weight": 1}]

    # 100/0 -> 90/10, given in the other order: applied, verified, idempotent; the diff shows the weights.
    shifted = {"listener_arn": arn, "weights": [{"target_group_arn": green, "weight": 10}, {"target_group_arn": blue, "weight": 90}]}
    step = four_steps("elb_listener_weights", shifted)
    by_arn = {w["target_group_arn"]: w["weight"] for w in step["diff"]["after"]["weights"]}
    assert by_arn == {blue: 90, green: 10}
    assert {w["target_group_arn"]: w["weight"] for w in step["diff"]["before"]["weights"]} == {blue: 100, green: 0}
    assert step["live_color"] == "blue"  # no live_color given: the tag stays
    action = elbv2.describe_listeners(ListenerArns=[arn])["Listeners"][0]["DefaultActions"][0]
    assert action["ForwardConfig"]["TargetGroupStickinessConfig"] == {"Enabled": False}
    assert {tg["TargetGroupArn"]: tg["Weight"] for tg in action["ForwardConfig"]["TargetGroups"]} == {blue: 90, green: 10}

    # Tags with purge never drop the live color tag; changing the color alone is a change.
    tagged = run_module("elb_listener_weights", {**shifted, "tags": {"team": "x"}})
    assert tagged["changed"] is True and tagged["tags"] == {"team": "x", "bluegreen:live-color": "blue"}
    green_live = run_module("elb_listener_weights", {**shifted, "live_color": "green"}, check=True, diff=True)
    assert green_live["changed"] is True and green_live["diff"]["after"]["tags"]["bluegreen:live-color"] == "green"
    assert elbv2.describe_tags(ResourceArns=[arn])["TagDescriptions"][0]["Tags"] != []

    # Never both at 0.
    zeros = [{"target_group_arn": blue, "weight": 0}, {"target_group_arn": green, "weight": 0}]
    zero = run_module("elb_listener_weights", {"listener_arn": arn, "weights": zeros})
    assert zero["failed"] is True and "every weight is 0" in zero["msg"]
    missing = run_module("elb_listener_weights", {**shifted, "listener_arn": arn + "0"})
    assert missing["failed"] is True and "does not exist" in missing["msg"]


def test_elb_listener_rule(vpc):
    elbv2 = client("elbv2")
    alb = elbv2.create_load_balancer(Name="bluegreen-t2", Subnets=vpc["subnets"])["LoadBalancers"][0]["LoadBalancerArn"]
    blue = run_module("elb_target_group", {"name": "bluegreen-blue-t2", "port": 80, "vpc_id": vpc["vpc_id"]})["target_group"]["target_group_arn"]
    green = run_module("elb_target_group", {"name": "bluegreen-green-t2", "port": 80, "vpc_id": vpc["vpc_id"]})["target_group"]["target_group_arn"]
    forward = [{"Type": "forward", "ForwardConfig": {"TargetGroups": [{"TargetGroupArn": blue, "Weight": 90}, {"TargetGroupArn": green, "Weight": 10}]}}]
    arn = elbv2.create_listener(LoadBalancerArn=alb, Protocol="HTTP", Port=80, DefaultActions=forward)["Listeners"][0]["ListenerArn"]
    # Someone else's rule takes priority 1: ours takes the lowest free one.
    elbv2.create_rule(ListenerArn=arn, Priority=1, Conditions=[{"Field": "path-pattern", "Values": ["/admin/*"]}],
                      Actions=[{"Type": "forward", "TargetGroupArn": blue}])

    canary = {"listener_arn": arn, "header_name": "X-Canary", "header_values": ["1"], "target_group_arn": green, "tags": {"bluegreen:environment": "t2"}}
    created = four_steps("elb_listener_rule", canary)
    assert created["priority"] == 2 and created["target_group_arn"] == green and created["diff"]["before"] == {}
    rules = {r["RuleArn"]: r for r in elbv2.describe_rules(ListenerArn=arn)["Rules"]}
    rule = rules[created["rule_arn"]]
    assert rule["Priority"] == "2" and rule["Conditions"][0]["HttpHeaderConfig"] == {"HttpHeaderName": "X-Canary", "Values": ["1"]}
    # The default action is untouched.
    assert elbv2.describe_listeners(ListenerArns=[arn])["Listeners"][0]["DefaultActions"][0]["ForwardConfig"]["TargetGroups"][1]["Weight"] == 10

    # Found by its header name (any case): another value or target group is modified in place, priority kept.
    moved = four_steps("elb_listener_rule", {**canary, "header_name": "x-canary", "target_group_arn": blue, "header_values": ["yes"]})
    assert moved["rule_arn"] == created["rule_arn"] and moved["priority"] == 2
    assert moved["diff"]["before"]["target_group_arn"] == green and moved["diff"]["after"]["target_group_arn"] == blue

    missing = run_module("elb_listener_rule", {"listener_arn": arn, "header_name": "X-Other"})
    assert missing["failed"] is True and "header_values is required with state=present" in missing["msg"]

    gone = four_steps("elb_listener_rule", {"listener_arn": arn, "header_name": "X-Canary", "state": "absent"})
    assert gone["rule_arn"] == "" and gone["diff"]["before"]["priority"] == 2
    assert [r["Priority"] for r in elbv2.describe_rules(ListenerArn=arn)["Rules"]] == ["1", "default"]


@pytest.fixture
def listener(vpc):
    """A listener forwarding to blue, with someone else's rule at priority 1."""
    elbv2 = client("elbv2")
    alb = elbv2.create_load_balancer(Name="bluegreen-t3", Subnets=vpc["subnets"])["LoadBalancers"][0]["LoadBalancerArn"]
    groups = {color: elbv2.create_target_group(Name=f"bluegreen-{color}-t3", Protocol="HTTP", Port=80, VpcId=vpc["vpc_id"])["TargetGroups"][0]["TargetGroupArn"]
              for color in ("blue", "green")}
    arn = elbv2.create_listener(LoadBalancerArn=alb, Protocol="HTTP", Port=80, DefaultActions=[{"Type": "forward", "TargetGroupArn": groups["blue"]}])
    arn = arn["Listeners"][0]["ListenerArn"]
    elbv2.create_rule(ListenerArn=arn, Priority=1, Conditions=[{"Field": "path-pattern", "Values": ["/admin/*"]}],
                      Actions=[{"Type": "forward", "TargetGroupArn": groups["blue"]}])
    return {"arn": arn, **groups}


def canary_rule(listener, priority=None):
    return {"listener_arn": listener["arn"], "header_name": "X-Canary", "header_values": ["1"], "target_group_arn": listener["green"],
            "priority": priority, "tags": {"bluegreen:environment": "t3"}, "state": "present"}


def ensure_after(aws, listener, params, meanwhile):
    """ensure_present on the listener's rules as read before `meanwhile` added one (another
    run, or someone by hand): the module's result, and the CreateRule priorities it sent."""
    elbv2 = client("elbv2")
    current, rules = elb_listener_rule.find_rule(elbv2, listener["arn"], params["header_name"])
    meanwhile(elbv2)
    calls = len(aws.requests())
    module = StubModule(params)
    with pytest.raises(Ended):
        elb_listener_rule.ensure_present(module, elbv2, current, rules)
    return module.result, [int(c["params"]["Priority"]) for c in aws.requests()[calls:] if c["action"] == "CreateRule"]


def test_a_rule_made_since_the_read_at_the_planned_priority_moves_ours_to_the_next_free_one(aws, listener):
    def by_hand(elbv2):
        elbv2.create_rule(ListenerArn=listener["arn"], Priority=2, Conditions=[{"Field": "path-pattern", "Values": ["/ops/*"]}],
                          Actions=[{"Type": "forward", "TargetGroupArn": listener["blue"]}])

    result, sent = ensure_after(aws, listener, canary_rule(listener), by_hand)
    assert sent == [2, 3], "refused at 2 (PriorityInUse), then the next free one"
    assert result["changed"] is True and result["priority"] == 3 and result["target_group_arn"] == listener["green"]
    rules = client("elbv2").describe_rules(ListenerArn=listener["arn"])["Rules"]
    assert sorted(r["Priority"] for r in rules) == ["1", "2", "3", "default"]


@pytest.mark.parametrize("values", [["1"], ["0"]], ids=["same", "other-values"])
def test_the_same_header_rule_made_since_the_read_is_taken_not_doubled(aws, listener, values):
    """Made by another run, or by this create answered late and sent again: it was missing at
    the read, so the run reports it created; other values are put right."""
    made = {}

    def another_run(elbv2):
        made.update(elbv2.create_rule(ListenerArn=listener["arn"], Priority=2, Actions=[{"Type": "forward", "TargetGroupArn": listener["green"]}],
                                      Conditions=[{"Field": "http-header", "HttpHeaderConfig": {"HttpHeaderName": "X-Canary", "Values": values}}])["Rules"][0])

    result, sent = ensure_after(aws, listener, canary_rule(listener), another_run)
    assert sent == [2]
    assert result["changed"] is True and result["rule_arn"] == made["RuleArn"] and result["priority"] == 2 and result["header_values"] == ["1"]
    rules = client("elbv2").describe_rules(ListenerArn=listener["arn"])["Rules"]
    assert [elb_listener_rule.elbv2.header_of(r) for r in rules if elb_listener_rule.elbv2.header_of(r)[0]] == [("X-Canary", ["1"])]


def test_a_given_priority_another_rule_holds_fails_naming_it_before_any_change(aws, listener):
    held = client("elbv2").describe_rules(ListenerArn=listener["arn"])["Rules"][0]
    result, sent = ensure_after(aws, listener, canary_rule(listener, priority=1), lambda elbv2: None)
    assert sent == [] and result["failed"] is True
    named = f"priority 1 of listener {listener['arn']} is taken by rule {held['RuleArn']} (conditions ['path-pattern'])"
    assert named in result["msg"]
    checked = run_module("elb_listener_rule", {k: v for k, v in canary_rule(listener, priority=1).items() if v is not None}, check=True)
    assert checked["failed"] is True and named in checked["msg"]


def test_a_given_priority_taken_since_the_read_fails_naming_the_rule_that_took_it(aws, listener):
    made = {}

    def by_hand(elbv2):
        made.update(elbv2.create_rule(ListenerArn=listener["arn"], Priority=5, Conditions=[{"Field": "path-pattern", "Values": ["/ops/*"]}],
                                      Actions=[{"Type": "forward", "TargetGroupArn": listener["blue"]}])["Rules"][0])

    result, sent = ensure_after(aws, listener, canary_rule(listener, priority=5), by_hand)
    assert sent == [5] and result["failed"] is True
    assert f"priority 5 of listener {listener['arn']} is taken by rule {made['RuleArn']} (conditions ['path-pattern'])" in result["msg"]


def test_rules_added_before_each_create_end_in_a_clear_failure_after_three_attempts(aws, listener):
    """Someone else's rule lands at the picked priority just before every CreateRule."""
    elbv2, other = client("elbv2"), client("elbv2")

    def race(params, **kwargs):
        other.create_rule(ListenerArn=params["ListenerArn"], Priority=params["Priority"], Conditions=[{"Field": "path-pattern", "Values": ["/x/*"]}],
                          Actions=[{"Type": "forward", "TargetGroupArn": listener["blue"]}])

    elbv2.meta.events.register("provide-client-params.elastic-load-balancing-v2.CreateRule", race)
    current, rules = elb_listener_rule.find_rule(elbv2, listener["arn"], "X-Canary")
    module = StubModule(canary_rule(listener))
    with pytest.raises(Ended):
        elb_listener_rule.ensure_present(module, elbv2, current, rules)
    assert module.result["failed"] is True
    assert module.result["msg"].startswith(f"AWS refused priorities 2, 3, 4 of listener {listener['arn']} as taken"), module.result["msg"]


def test_the_healthy_targets_wait_polls_to_its_timeout_and_a_failed_read_fails_at_once():
    answers, clock = iter([{"enough_healthy": False}, {"enough_healthy": False}, {"enough_healthy": True, "n": 3}]), FakeClock()
    assert elbv2.wait_until_healthy(lambda: next(answers), 60, 5, sleep=clock.sleep, clock=clock) == {"enough_healthy": True, "n": 3}
    assert clock.slept == [5, 5]
    # Never enough: the last read once the time is up, no sleep past it.
    reads, clock = [], FakeClock()
    last = elbv2.wait_until_healthy(lambda: reads.append(1) or {"enough_healthy": False}, 12, 5, sleep=clock.sleep, clock=clock)
    assert last == {"enough_healthy": False} and clock.slept == [5, 5, 2] and len(reads) == 4

    # A read that fails (throttled past its retries) is that error, at once: not a timeout.
    def throttled():
        raise elbv2.Elbv2Error(message="Failed to describe the target health: Rate exceeded")

    clock = FakeClock()
    with pytest.raises(elbv2.Elbv2Error, match="Rate exceeded"):
        elbv2.wait_until_healthy(throttled, 300, 5, sleep=clock.sleep, clock=clock)
    assert clock.slept == []
