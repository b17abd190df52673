# -*- coding: utf-8 -*-
# Copyright: bluegreen.migration contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The ecs_service role's load balancer plan: the listeners the role wants (the traffic
listener keeps the forward action it has, every weight and the stickiness, so a run never
moves traffic), the live color, and whether amazon.aws.elb_application_lb has anything to do.
Works on DescribeLoadBalancers, DescribeListeners and DescribeTags answers."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.bluegreen.migration.plugins.module_utils.elbv2 import forward_of
from ansible_collections.bluegreen.migration.plugins.module_utils.plan import change
from ansible_collections.bluegreen.migration.plugins.module_utils.plan import created
from ansible_collections.bluegreen.migration.plugins.module_utils.plan import field
from ansible_collections.bluegreen.migration.plugins.module_utils.plan import fields_that_differ

LOAD_BALANCER = "load balancer"
LIVE_COLOR_TAG = "bluegreen:live-color"
# Tags the blue_green role keeps on the traffic listener about the rollout (where a rollback
# returns, a pause): they move with the traffic when it moves to another listener.
OPERATION_TAGS = ("bluegreen:rollback-to", "bluegreen:paused-at")
HTTPS_REDIRECT = {"Protocol": "HTTPS", "Port": "443", "Host": "#{host}", "Path": "/#{path}", "Query": "#{query}", "StatusCode": "HTTP_301"}


def _forward_config(listener, minimum=2):
    """The ForwardConfig of a listener's default forward to at least `minimum` target groups
    (2: a weighted forward between the colors, not the test listener's forward to one)."""
    for action in listener.get("DefaultActions") or []:
        if action.get("Type") == "forward" and len((action.get("ForwardConfig") or {}).get("TargetGroups") or []) >= minimum:
            return action["ForwardConfig"]
    return None


def _single_target(listener):
    """The one target group a listener forwards to, or None (the test listener's shape)."""
    config = _forward_config(listener, minimum=1)
    groups = (config or {}).get("TargetGroups") or []
    if config is None:
        # A plain forward (TargetGroupArn, no ForwardConfig), as some tools leave it.
        plain = [a.get("TargetGroupArn") for a in listener.get("DefaultActions") or [] if a.get("Type") == "forward" and a.get("TargetGroupArn")]
        return plain[0] if plain else None
    return groups[0]["TargetGroupArn"] if len(groups) == 1 else None


def other_color(color):
    return "green" if color == "blue" else "blue"


def forward_source(listeners, traffic_port):
    """The listener whose forward action the traffic listener keeps: the one on the traffic port
    when it forwards, else the forwarding listener of the lowest port (traffic moved between
    ports when a certificate was added or removed); None for a new load balancer."""
    forwarding = sorted((item for item in listeners if _forward_config(item)), key=lambda item: item["Port"])
    on_port = [item for item in forwarding if item["Port"] == traffic_port]
    return (on_port + forwarding)[0] if forwarding else None


def wanted_forward(source, target_group_arns):
    """The ForwardConfig the traffic listener is given: its own (every weight, in AWS's order,
    and the stickiness), or all to blue for a new one."""
    if source is None:
        return {
            "TargetGroups": [{"TargetGroupArn": target_group_arns["blue"], "Weight": 100}, {"TargetGroupArn": target_group_arns["green"], "Weight": 0}],
            "TargetGroupStickinessConfig": {"Enabled": False},
        }
    config = _forward_config(source)
    sticky = config.get("TargetGroupStickinessConfig") or {}
    stickiness = {"Enabled": bool(sticky.get("Enabled", False))}
    if stickiness["Enabled"]:
        stickiness["DurationSeconds"] = sticky.get("DurationSeconds")
    groups = [{"TargetGroupArn": tg["TargetGroupArn"], "Weight": int(tg.get("Weight", 1))} for tg in config["TargetGroups"]]
    return {"TargetGroups": groups, "TargetGroupStickinessConfig": stickiness}


def test_forward(target_group_arn):
    """The test listener's forward: the one (idle) target group, in the shape AWS reports."""
    return {"TargetGroups": [{"TargetGroupArn": target_group_arn, "Weight": 1}], "TargetGroupStickinessConfig": {"Enabled": False}}


def wanted_listeners(forward, certificate_arn, ssl_policy, test_port=0, test_target=None):
    """HTTP on 80 forwarding; or, with a certificate, HTTPS on 443 forwarding and 80 redirecting to it.
    With `test_port`, a test listener there (HTTPS with the certificate, else HTTP) forwarding to
    `test_target` alone (the idle color's target group)."""
    action = [{"Type": "forward", "ForwardConfig": forward}]
    if not certificate_arn:
        listeners = [{"Protocol": "HTTP", "Port": 80, "DefaultActions": action}]
    else:
        listeners = [
            {"Protocol": "HTTPS", "Port": 443, "SslPolicy": ssl_policy, "Certificates": [{"CertificateArn": certificate_arn}], "DefaultActions": action},
            {"Protocol": "HTTP", "Port": 80, "DefaultActions": [{"Type": "redirect", "RedirectConfig": dict(HTTPS_REDIRECT)}]},
        ]
    if test_port:
        test = {"Protocol": "HTTPS" if certificate_arn else "HTTP", "Port": int(test_port),
                "DefaultActions": [{"Type": "forward", "ForwardConfig": test_forward(test_target)}]}
        if certificate_arn:
            test.update(SslPolicy=ssl_policy, Certificates=[{"CertificateArn": certificate_arn}])
        listeners.append(test)
    return listeners


def _listener_state(listener):
    """What the role compares on a listener (AWS's, or one of wanted_listeners()): protocol,
    actions, for HTTPS the policy and certificates, and the redirect."""
    state = {
        "protocol": listener.get("Protocol"),
        "actions": [action.get("Type") for action in listener.get("DefaultActions") or []],
    }
    if listener.get("Protocol") == "HTTPS":
        state["ssl_policy"] = listener.get("SslPolicy")
        state["certificates"] = [c["CertificateArn"] for c in listener.get("Certificates") or []]
    redirect = [a.get("RedirectConfig") for a in listener.get("DefaultActions") or [] if a.get("Type") == "redirect"]
    if redirect:
        state["redirect"] = dict((k, v) for k, v in redirect[0].items() if k in HTTPS_REDIRECT)
    # The test listener forwards to one color: which one is part of its state.
    single = _single_target(listener)
    if single:
        state["forward_to"] = single
    return state


def plan(name, wanted, balancer, listeners, tags, target_group_arns):
    """The load balancer's plan.

    `wanted`: {subnets, security_groups, tags, traffic_port, certificate_arn, ssl_policy,
    test_port (0 or absent: no test listener)}; the test listener forwards to the idle color
    (the one the live-color tag does not name; green in a new environment).
    `balancer`, `listeners`: AWS's answers (None and [] when there is no load balancer);
    `tags`: {arn: tags} of the load balancer and its listeners.
    """
    listeners = listeners or []
    traffic_port = int(wanted["traffic_port"])
    source = forward_source(listeners, traffic_port)
    forward = wanted_forward(source, target_group_arns)
    live_color = tags.get(source["ListenerArn"], {}).get(LIVE_COLOR_TAG) if source else None
    idle_color = other_color(live_color or "blue")
    test_port = int(wanted.get("test_port") or 0)
    listeners_wanted = wanted_listeners(forward, wanted.get("certificate_arn"), wanted.get("ssl_policy"), test_port, target_group_arns.get(idle_color))
    desired = {
        "subnets": sorted(wanted["subnets"]),
        "security_groups": sorted(wanted["security_groups"]),
        "tags": wanted["tags"],
        "listeners": dict((item["Port"], _listener_state(item)) for item in listeners_wanted),
    }
    changes = []
    if balancer is None:
        changes.append(change(LOAD_BALANCER, name, "create", created(dict(desired, listeners=_ports(desired["listeners"]))), "no load balancer of that name"))
    else:
        by_port = dict((item["Port"], item) for item in listeners)
        have = {
            "subnets": sorted(zone["SubnetId"] for zone in balancer.get("AvailabilityZones", []) if zone.get("SubnetId")),
            "security_groups": sorted(balancer.get("SecurityGroups", [])),
            "tags": tags.get(balancer["LoadBalancerArn"], {}),
            "listeners": dict((port, _listener_state(item)) for port, item in by_port.items()),
        }
        updates = fields_that_differ(dict((k, desired[k]) for k in ("subnets", "security_groups", "tags")), have)
        listener_fields = {}
        for port in sorted(set(have["listeners"]) | set(desired["listeners"])):
            before, after = have["listeners"].get(port), desired["listeners"].get(port)
            if before != after:
                listener_fields["listener %d" % port] = field(before, after)
        # The traffic listener must be the one whose forward it keeps (else traffic would move).
        if source is not None and source["Port"] != traffic_port and "listener %d" % traffic_port not in listener_fields:
            listener_fields["listener %d" % traffic_port] = field("does not forward", "forwards with the weights of listener %d" % source["Port"])
        updates.update(listener_fields)
        if updates:
            changes.append(change(LOAD_BALANCER, name, "update", updates, "differs from the inputs"))
    # Recorded on the traffic listener: a new environment (no live color yet) starts all on blue.
    recorded = forward if live_color is not None else wanted_forward(None, target_group_arns)
    weights, stickiness = forward_of({"DefaultActions": [{"Type": "forward", "ForwardConfig": recorded}]})
    return {
        "changes": changes,
        "apply": bool(changes),
        "listeners": listeners_wanted,
        "live_color": live_color or "blue",
        "idle_color": idle_color,
        "test_port": test_port,
        "new_environment": live_color is None,
        # The weights and stickiness to record on the traffic listener, and whether to: a new
        # environment (all to blue, blue live), or traffic that moved to another listener.
        "forward": {"weights": weights, "stickiness": stickiness},
        "record_forward": live_color is None or source is None or source["Port"] != traffic_port,
        # ... with the rollout's tags of the listener the traffic moves from.
        "carry_tags": dict((key, value) for key, value in tags.get(source["ListenerArn"], {}).items() if key in OPERATION_TAGS)
        if source is not None and source["Port"] != traffic_port else {},
    }


def _ports(listeners):
    return dict(("listener %d" % port, state) for port, state in listeners.items())
