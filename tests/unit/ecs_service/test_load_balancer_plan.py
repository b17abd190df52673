"""The ecs_service role's load balancer plan (module_utils/load_balancer.py) on answers recorded
from DescribeLoadBalancers, DescribeListeners and DescribeTags (a listener at 90/10 with blue
live): nothing planned when it matches, exactly the drifted field otherwise, the forward kept
as AWS has it (never moving traffic), and all to blue for a new environment."""

import copy
import json
from pathlib import Path

from ansible_collections.bluegreen.migration.plugins.module_utils import load_balancer

RECORDED = json.loads((Path(__file__).parent / "recorded" / "load_balancer_http.json").read_text())
BALANCER = RECORDED["LoadBalancers"][0]
LISTENERS = RECORDED["Listeners"]
TAGS = {d["ResourceArn"]: {t["Key"]: t["Value"] for t in d["Tags"]} for d in RECORDED["TagDescriptions"]}
ARNS = RECORDED["TargetGroupArns"]
WANTED = {
    "subnets": sorted(z["SubnetId"] for z in BALANCER["AvailabilityZones"]),
    "security_groups": list(BALANCER["SecurityGroups"]),
    "tags": {"bluegreen:environment": "dev", "bluegreen:component": "ecs_service", "Name": "app-dev"},
    "traffic_port": 80,
    "certificate_arn": "",
    "ssl_policy": "ELBSecurityPolicy-TLS13-1-2-2021-06",
}
CERT = "arn:aws:acm:us-east-1:123456789012:certificate/abc"


def planned(wanted=None, balancer=BALANCER, listeners=LISTENERS, tags=TAGS):
    return load_balancer.plan("app-dev", wanted or WANTED, balancer, listeners, tags, ARNS)


def only(result):
    assert len(result["changes"]) == 1, result["changes"]
    return result["changes"][0]


def test_the_recorded_load_balancer_is_in_shape_and_keeps_its_weights():
    result = planned()
    assert result["changes"] == [] and result["apply"] is False
    assert result["live_color"] == "blue" and result["new_environment"] is False and result["record_forward"] is False
    forward = result["listeners"][0]["DefaultActions"][0]["ForwardConfig"]
    assert forward == LISTENERS[0]["DefaultActions"][0]["ForwardConfig"]
    assert sorted(w["weight"] for w in result["forward"]["weights"]) == [10, 90]


def test_a_new_load_balancer_forwards_all_to_blue():
    result = planned(balancer=None, listeners=[], tags={})
    change = only(result)
    assert (change["action"], change["fields"]["listeners"]["after"]["listener 80"]["protocol"]) == ("create", "HTTP")
    assert result["apply"] and result["new_environment"] and result["record_forward"] and result["live_color"] == "blue"
    groups = result["listeners"][0]["DefaultActions"][0]["ForwardConfig"]["TargetGroups"]
    assert groups == [{"TargetGroupArn": ARNS["blue"], "Weight": 100}, {"TargetGroupArn": ARNS["green"], "Weight": 0}]


def test_a_security_group_subnet_or_tag_changed_by_hand_is_the_change():
    for field, value in (("SecurityGroups", ["sg-other"]), ("AvailabilityZones", BALANCER["AvailabilityZones"][:1])):
        drifted = dict(copy.deepcopy(BALANCER), **{field: value})
        change = only(planned(balancer=drifted))
        assert list(change["fields"]) == [{"SecurityGroups": "security_groups", "AvailabilityZones": "subnets"}[field]]
    tags = dict(TAGS, **{BALANCER["LoadBalancerArn"]: {"Name": "app-dev"}})
    assert list(only(planned(tags=tags))["fields"]) == ["tags"]


def test_a_listener_added_by_hand_is_planned_away():
    extra = dict(copy.deepcopy(LISTENERS[0]), Port=8080, ListenerArn=LISTENERS[0]["ListenerArn"] + "x")
    change = only(planned(listeners=LISTENERS + [extra], tags=dict(TAGS, **{extra["ListenerArn"]: {}})))
    assert change["fields"] == {"listener 8080": {"before": {"protocol": "HTTP", "actions": ["forward"]}, "after": None}}


def test_a_certificate_moves_traffic_to_443_with_the_same_weights_and_redirects_80():
    result = planned(wanted=dict(WANTED, certificate_arn=CERT, traffic_port=443))
    change = only(result)
    assert change["fields"]["listener 443"]["before"] is None
    assert change["fields"]["listener 443"]["after"]["certificates"] == [CERT]
    assert change["fields"]["listener 80"]["after"]["actions"] == ["redirect"]
    https = result["listeners"][0]
    assert (https["Port"], https["Protocol"]) == (443, "HTTPS")
    assert https["DefaultActions"][0]["ForwardConfig"] == LISTENERS[0]["DefaultActions"][0]["ForwardConfig"]
    assert result["record_forward"] and result["live_color"] == "blue" and not result["new_environment"]
    assert sorted(w["weight"] for w in result["forward"]["weights"]) == [10, 90]
    assert result["carry_tags"] == {}
    # The rollout's tags of the listener the traffic leaves go with it (not the others).
    source = LISTENERS[0]["ListenerArn"]
    tags = dict(TAGS, **{source: dict(TAGS.get(source, {}), **{"bluegreen:rollback-to": "none", "owner": "someone"})})
    moved = planned(wanted=dict(WANTED, certificate_arn=CERT, traffic_port=443), tags=tags)
    assert moved["carry_tags"] == {"bluegreen:rollback-to": "none"}
    assert planned(tags=tags)["carry_tags"] == {}


def test_stickiness_is_kept():
    sticky = copy.deepcopy(LISTENERS)
    sticky[0]["DefaultActions"][0]["ForwardConfig"]["TargetGroupStickinessConfig"] = {"Enabled": True, "DurationSeconds": 300}
    result = planned(listeners=sticky)
    assert result["changes"] == []
    assert result["forward"]["stickiness"] == {"enabled": True, "duration": 300}
    assert result["listeners"][0]["DefaultActions"][0]["ForwardConfig"]["TargetGroupStickinessConfig"] == {"Enabled": True, "DurationSeconds": 300}


def test_a_listener_whose_live_tag_was_lost_is_recorded_as_a_new_environment():
    tags = dict(TAGS, **{LISTENERS[0]["ListenerArn"]: {}})
    result = planned(tags=tags)
    assert result["changes"] == [] and result["new_environment"] and result["record_forward"]
    # The listener keeps its weights; the recorded forward is the new environment's.
    assert result["listeners"][0]["DefaultActions"][0]["ForwardConfig"] == LISTENERS[0]["DefaultActions"][0]["ForwardConfig"]
    assert {w["weight"] for w in result["forward"]["weights"]} == {100, 0}


def test_a_redirect_listener_changed_by_hand_is_planned_back():
    https = dict(copy.deepcopy(LISTENERS[0]), Port=443, Protocol="HTTPS", SslPolicy=WANTED["ssl_policy"], Certificates=[{"CertificateArn": CERT}],
                 ListenerArn=LISTENERS[0]["ListenerArn"] + "s")
    moved = dict(load_balancer.HTTPS_REDIRECT, StatusCode="HTTP_302")
    redirect = dict(copy.deepcopy(LISTENERS[0]), DefaultActions=[{"Type": "redirect", "RedirectConfig": moved}])
    tags = dict(TAGS, **{https["ListenerArn"]: {"bluegreen:live-color": "green"}})
    result = planned(wanted=dict(WANTED, certificate_arn=CERT, traffic_port=443), listeners=[redirect, https], tags=tags)
    change = only(result)
    assert list(change["fields"]) == ["listener 80"]
    assert change["fields"]["listener 80"]["before"]["redirect"]["StatusCode"] == "HTTP_302"
    assert result["live_color"] == "green" and not result["record_forward"]


def test_the_test_listener_forwards_to_the_idle_color_and_is_planned_when_missing():
    result = planned(wanted=dict(WANTED, test_port=8080))
    change = only(result)
    assert change["fields"]["listener 8080"] == {"before": None, "after": {"protocol": "HTTP", "actions": ["forward"], "forward_to": ARNS["green"]}}
    test = result["listeners"][-1]
    assert (test["Port"], test["Protocol"], result["idle_color"], result["test_port"]) == (8080, "HTTP", "green", 8080)
    assert test["DefaultActions"][0]["ForwardConfig"]["TargetGroups"] == [{"TargetGroupArn": ARNS["green"], "Weight": 1}]
    # The traffic listener keeps its weights: the test listener is never taken for it.
    assert result["listeners"][0]["DefaultActions"][0]["ForwardConfig"] == LISTENERS[0]["DefaultActions"][0]["ForwardConfig"]


def test_a_test_listener_on_the_idle_color_is_in_shape_and_one_on_the_live_color_is_planned_back():
    def test_listener(color):
        arn = ARNS[color]
        return dict(copy.deepcopy(LISTENERS[0]), Port=8080, ListenerArn=LISTENERS[0]["ListenerArn"] + "t",
                    DefaultActions=[{"Type": "forward", "TargetGroupArn": arn, "ForwardConfig": {"TargetGroups": [{"TargetGroupArn": arn, "Weight": 1}]}}])
    for color, changes in (("green", 0), ("blue", 1)):
        listener = test_listener(color)
        result = planned(wanted=dict(WANTED, test_port=8080), listeners=LISTENERS + [listener], tags=dict(TAGS, **{listener["ListenerArn"]: {}}))
        assert len(result["changes"]) == changes, result["changes"]
        assert result["live_color"] == "blue" and not result["record_forward"]
    assert only(result)["fields"]["listener 8080"]["before"]["forward_to"] == ARNS["blue"]


def test_with_a_certificate_the_test_listener_is_https():
    result = planned(wanted=dict(WANTED, certificate_arn=CERT, traffic_port=443, test_port=8443))
    test = result["listeners"][-1]
    assert (test["Port"], test["Protocol"], test["Certificates"]) == (8443, "HTTPS", [{"CertificateArn": CERT}])
