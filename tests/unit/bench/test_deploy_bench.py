"""bench/deploy_bench.py: the side-by-side figures (medians over alternating rounds, ratios
ours / reference, the targets of issue 16) and their table."""

import sys

from tests.harness.aws import ROOT

sys.path.insert(0, str(ROOT / "bench"))

import deploy_bench  # noqa: E402  (bench/ is not a package)


def run(deploy_wall, noop_wall, deploy_calls=300, noop_calls=60, resources=50, noop_changed=0):
    return {
        "deploy_wall_s": deploy_wall,
        "deploy_calls": deploy_calls,
        "deploy_mutating": 80,
        "deploy_changed": 30,
        "resources": resources,
        "noop_wall_s": noop_wall,
        "noop_calls": noop_calls,
        "noop_changed": noop_changed,
    }


def test_median_and_ratio_leave_out_what_was_not_measured():
    assert deploy_bench.median([3.0, 1.0, 2.0]) == 2.0
    assert deploy_bench.median([1.0, 2.0]) == 1.5
    assert deploy_bench.median([None, 4.0]) == 4.0
    assert deploy_bench.median([]) is None
    assert deploy_bench.ratio(30.0, 100.0) == 0.3
    assert deploy_bench.ratio(2.0, 3.0) == 0.67
    assert deploy_bench.ratio(None, 3.0) is None
    assert deploy_bench.ratio(1.0, 0) is None


def test_compare_takes_medians_per_stack_then_the_ratio():
    ours = [run(60.0, 20.0), run(80.0, 24.0)]
    reference = [run(100.0, 40.0, deploy_calls=400, noop_calls=150, resources=60), run(120.0, 48.0, deploy_calls=400, noop_calls=150, resources=60)]
    comparison = deploy_bench.compare(ours, reference)
    assert comparison["ours"]["deploy_wall_s"] == 70.0
    assert comparison["reference"]["deploy_wall_s"] == 110.0
    assert comparison["ours"]["deploy_wall_s_rounds"] == [60.0, 80.0]
    assert comparison["ratios"]["deploy_wall_s"] == 0.64
    assert comparison["ratios"]["noop_wall_s"] == 0.5
    # Calls per managed resource: each stack against its own resources.
    assert comparison["ours"]["noop_calls_per_resource"] == 1.2
    assert comparison["reference"]["noop_calls_per_resource"] == 2.5
    assert comparison["ratios"]["noop_calls"] == 0.4


def test_a_noop_round_that_changed_something_is_reported():
    summary = deploy_bench.summarize([run(60.0, 20.0), run(60.0, 20.0, noop_changed=2)])
    assert summary["noop_changed"] == 2


def test_targets_met_missed_and_not_measured():
    comparison = deploy_bench.compare([run(70.0, 20.0, noop_calls=50)], [run(100.0, 40.0)])
    rows = {what: (today, met) for what, today, _limit, met in deploy_bench.target_rows(comparison, {})}
    assert rows["first deploy, ours / reference"] == (0.7, True)
    assert rows["no-op re-run, ours / reference"] == (0.5, False)
    assert rows["no-op API calls per managed resource (ours)"] == (1.0, True)
    # No plan.yml yet: not measured, neither met nor missed.
    assert rows["plan.yml, one converged environment (s)"] == (None, None)
    plan = {"one": {"wall_s": 6.5}, "four_ratio_to_one": 2.4}
    rows = {what: (today, met) for what, today, _limit, met in deploy_bench.target_rows(comparison, plan)}
    assert rows["plan.yml, one converged environment (s)"] == (6.5, True)
    assert rows["plan.yml, 4 environments / one"] == (2.4, False)
    # Without the reference (--skip-reference) the ratios are not measured.
    assert all(met is None for what, _today, _limit, met in deploy_bench.target_rows(None, {}) if "/ reference" in what)


def test_table_has_both_stacks_and_the_ratio():
    comparison = deploy_bench.compare([run(60.0, 20.0)], [run(100.0, 40.0)])
    lines = deploy_bench.comparison_lines(comparison)
    deploy = next(line for line in lines if line.startswith("first deploy, wall"))
    assert deploy.split()[-5:] == ["60.0", "s", "100.0", "s", "0.60x"]
    assert lines[-1] == "each round, in order: ours: deploy 60.0 s, no-op 20.0 s; reference: deploy 100.0 s, no-op 40.0 s"
    targets = deploy_bench.target_lines([("plan.yml, one converged environment (s)", None, 8.0, None), ("x", 0.5, 0.3, False)])
    assert targets[0].endswith("(target <= 8): not measured")
    assert targets[1].endswith("(target <= 0.3): NOT MET")


def call(action, service="ec2", **params):
    return {"action": action, "service": service, "method": "POST", "path": "/", "params": params}


def test_the_model_waits_for_a_nat_gateway_described_by_id_or_by_filter():
    """The NAT module's wait describes by id, the network role's egress step by the
    `nat-gateway-id` filter: either blocks until the gateway is modelled available."""
    create = call("CreateNatGateway", SubnetId="subnet-1")
    ready = deploy_bench.WRITE_CALL_S + deploy_bench.LATENCY_S["CreateNatGateway"]
    by_id = call("DescribeNatGateways", **{"NatGatewayId.1": "nat-1"})
    by_filter = call("DescribeNatGateways", **{"Filter.1.Name": "nat-gateway-id", "Filter.1.Value.1": "nat-1"})
    by_subnet = call("DescribeNatGateways", **{"Filter.1.Name": "subnet-id", "Filter.1.Value.1": "subnet-1"})
    assert deploy_bench.model([create, by_id]) == ready
    assert deploy_bench.model([create, by_filter]) == ready
    # A listing by subnet (the plan's read, before any create) waits for nothing.
    assert deploy_bench.model([create, by_subnet]) == deploy_bench.WRITE_CALL_S + deploy_bench.READ_CALL_S
