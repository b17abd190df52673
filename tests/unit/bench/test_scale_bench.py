"""bench/scale_bench.py: the --limit split is the one AWX's job slicing makes (awx/README.md),
and the node model says which resource binds."""

import sys

from tests.harness.aws import ROOT

sys.path.insert(0, str(ROOT / "bench"))

import scale_bench  # noqa: E402  (bench/ is not a package)


def test_slices_take_every_kth_host_in_name_order():
    # awx/README.md: 9 environments a..i, 3 slices -> "a d g", "b e h", "c f i".
    hosts = list("ihgfedcba")
    assert scale_bench.awx_slices(hosts, 3) == [list("adg"), list("beh"), list("cfi")]
    # Uneven: the first slices get one more.
    assert [len(s) for s in scale_bench.awx_slices([f"e{i:02d}" for i in range(10)], 4)] == [3, 3, 2, 2]
    assert sorted(sum(scale_bench.awx_slices(hosts, 4), [])) == sorted(hosts)


def test_node_model_binds_on_memory_or_cpu():
    cpu_bound = {row["node"]: row for row in scale_bench.node_model(cpu_s_per_env=100, memory_mb_per_env=100)}
    small = cpu_bound["2 vCPU / 4 GB"]
    # 2 x 0.7 cores over a 12-minute deploy: 1008 CPU-s, 10 deploys of 100 CPU-s at once.
    assert small["real_aws_bound_by"] == "CPU" and small["real_aws_envs_at_once"] == 10
    assert small["real_aws_envs_per_hour"] == 50 and small["emulator_envs_per_hour"] == 50
    memory_bound = {row["node"]: row for row in scale_bench.node_model(cpu_s_per_env=10, memory_mb_per_env=500)}
    # (4096 - 1024) MB / 500 MB: 6 at once, though CPU would allow 100.
    assert memory_bound["2 vCPU / 4 GB"]["real_aws_bound_by"] == "memory"
    assert memory_bound["2 vCPU / 4 GB"]["real_aws_envs_at_once"] == 6
