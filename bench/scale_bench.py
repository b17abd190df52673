"""Scale benchmark: N environments deployed on the emulator the way AWX runs them, k slices as
separate ansible-playbook processes against one process with forks.

    python bench/scale_bench.py [--sizes 1,4,16] [--slices 4] [--output bench/results/scale.json]

For each N (environments bench-a, bench-b ... in one inventory, distinct VPC CIDRs) on a fresh
moto server:
  - one process: `ansible-playbook site.yml` over the whole inventory with forks N;
  - k slices (k = min(N, --slices)): k processes started together, slice i limited to the
    hosts AWX's job slicing gives it (hosts sorted by name, slice i takes i, i+k, i+2k ...),
    forks N/k each, as k execution nodes (or k jobs on one) would run them.
Reported per run: wall time and wall time per environment; CPU seconds of the controller
(every ansible-playbook process with its forks and module processes, from wait4's rusage) per
environment; the emulator's CPU seconds (the stand-in for AWS, not part of the controller);
and the controller's peak memory, the sum of the resident sets of the whole process tree,
sampled every 0.25 s. From them, a model of how many environments one execution node handles
per hour (printed, and written with the figures to --output).
"""

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "bench"))

from deploy_bench import machine, multi_inventory  # noqa: E402  (bench/ is not a package)
from emulator import Emulator, client_environ  # noqa: E402

PLAYBOOK = "site.yml"
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024
TICKS = os.sysconf("SC_CLK_TCK")

# The modelled real-AWS deploy (bench/deploy_bench.py, README "Figures"): most of its wall time
# is AWS working (NAT gateways, the ALB, Aurora), not the controller.
REAL_DEPLOY_S = 12.0 * 60
# Execution node sizes of the model: (vCPUs, GB of memory), and the share of the CPUs the
# controller may use (the rest: the receptor, the container runtime, headroom).
NODE_SIZES = ((2, 4), (4, 8), (8, 16))
CPU_SHARE = 0.7
NODE_OVERHEAD_MB = 1024


def awx_slices(hosts, count):
    """The hosts of each slice, as AWX's job slicing assigns them."""
    ordered = sorted(hosts)
    return [ordered[i::count] for i in range(count)]


def children_of():
    """pid -> list of child pids, from /proc."""
    tree = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        tree.setdefault(int(fields[1]), []).append(int(entry))
    return tree


def tree_rss_mb(roots):
    """Resident memory of the processes `roots` and all their descendants, in MB."""
    tree, total, todo = children_of(), 0, list(roots)
    while todo:
        pid = todo.pop()
        todo.extend(tree.get(pid, []))
        try:
            with open(f"/proc/{pid}/statm") as statm:
                total += int(statm.read().split()[1]) * PAGE_KB
        except OSError:
            continue
    return total / 1024


def process_cpu_s(pid):
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


class MemorySampler(threading.Thread):
    """Peak of the summed resident memory of the running processes' trees."""

    def __init__(self, pids):
        super().__init__(daemon=True)
        self.pids, self.peak_mb, self.done = pids, 0.0, threading.Event()

    def run(self):
        while not self.done.is_set():
            self.peak_mb = max(self.peak_mb, tree_rss_mb(self.pids))
            self.done.wait(0.25)


def start_playbook(emu, inventory, outputs, forks, limit=None):
    env = client_environ(emu.port)
    env.update({"ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"), "ANSIBLE_FORKS": str(forks), "ANSIBLE_NOCOLOR": "1"})
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    cmd = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(inventory), PLAYBOOK, "-e", f"outputs_dir={outputs}"]
    if limit:
        cmd += ["--limit", ",".join(limit)]
    log = tempfile.TemporaryFile(mode="w+")
    pid = os.posix_spawn(cmd[0], cmd, env, file_actions=[(os.POSIX_SPAWN_DUP2, log.fileno(), 1), (os.POSIX_SPAWN_DUP2, log.fileno(), 2)])
    return pid, log


def run_processes(emu, inventory, outputs, slices, forks):
    """Start one ansible-playbook per slice together; wait for all. Wall, CPU, peak memory."""
    emu_cpu = process_cpu_s(emu.pid())
    started = time.monotonic()
    running = {}
    for hosts in slices:
        pid, log = start_playbook(emu, inventory, outputs, forks, hosts if len(slices) > 1 else None)
        running[pid] = log
    sampler = MemorySampler(list(running))
    sampler.start()
    cpu, walls, failed = 0.0, [], []
    while running:
        time.sleep(0.2)
        for pid in list(running):
            # wait4 on each of ours only: the emulator is a child of this process too.
            reaped, status, usage = os.wait4(pid, os.WNOHANG)
            if reaped == 0:
                continue
            log = running.pop(pid)
            walls.append(time.monotonic() - started)
            cpu += usage.ru_utime + usage.ru_stime
            if os.waitstatus_to_exitcode(status) != 0:
                log.seek(0)
                failed.append(log.read()[-4000:])
            log.close()
    sampler.done.set()
    sampler.join()
    if failed:
        raise SystemExit("a deploy failed:\n" + "\n---\n".join(failed))
    return {
        "wall_s": round(max(walls), 1),
        "controller_cpu_s": round(cpu, 1),
        "emulator_cpu_s": round(process_cpu_s(emu.pid()) - emu_cpu, 1),
        "peak_memory_mb": round(sampler.peak_mb),
    }


def per_environment(run, count):
    return dict(
        run,
        environments=count,
        wall_s_per_env=round(run["wall_s"] / count, 1),
        cpu_s_per_env=round(run["controller_cpu_s"] / count, 1),
        memory_mb_per_env=round(run["peak_memory_mb"] / count),
    )


def node_model(cpu_s_per_env, memory_mb_per_env):
    """Environments one execution node deploys per hour: on the emulator (CPU-bound, AWS answers
    at once) and on real AWS (each deploy spends REAL_DEPLOY_S, mostly waiting, with the same
    controller CPU), limited by CPU or by memory, whichever binds first."""
    rows = []
    for vcpus, gb in NODE_SIZES:
        cpu_budget = vcpus * CPU_SHARE
        by_memory = max(int((gb * 1024 - NODE_OVERHEAD_MB) // memory_mb_per_env), 1)
        # Real AWS: an environment uses cpu_s_per_env over REAL_DEPLOY_S.
        by_cpu = int(cpu_budget * REAL_DEPLOY_S // cpu_s_per_env)
        at_once = min(by_cpu, by_memory)
        rows.append(
            {
                "node": f"{vcpus} vCPU / {gb} GB",
                "emulator_envs_per_hour": int(cpu_budget * 3600 // cpu_s_per_env),
                "real_aws_envs_at_once": at_once,
                "real_aws_bound_by": "memory" if by_memory < by_cpu else "CPU",
                "real_aws_envs_per_hour": int(at_once * 3600 // REAL_DEPLOY_S),
                "forks": at_once,
            }
        )
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,4,16", help="numbers of environments, comma-separated")
    parser.add_argument("--slices", type=int, default=4, help="slices (processes) of the sliced runs")
    parser.add_argument("--output", default=str(ROOT / "bench" / "results" / "scale.json"))
    args = parser.parse_args()
    sizes = [int(n) for n in args.sizes.split(",")]

    results = {"machine": machine(), "runs": []}
    with tempfile.TemporaryDirectory(prefix="scale-bench-") as work:
        for count in sizes:
            inventory, hosts = multi_inventory(Path(work) / f"n{count}", count)
            plans = [("one process", [hosts], count)]
            slices = min(count, args.slices)
            if slices > 1:
                plans.append((f"{slices} slices", awx_slices(hosts, slices), max(count // slices, 1)))
            for label, parts, forks in plans:
                # A fresh emulator per run: every run deploys its environments from nothing.
                emu = Emulator.on_free_port(Path(work) / f"emu-{count}-{len(parts)}")
                try:
                    print(f"N={count}: {label}, forks {forks} ...", flush=True)
                    run = run_processes(emu, inventory, Path(work) / "outputs", parts, forks)
                finally:
                    emu.stop()
                row = per_environment(run, count)
                row.update(mode=label, slices=len(parts), forks=forks)
                results["runs"].append(row)
                print(f"  {row['wall_s']} s wall, {row['cpu_s_per_env']} CPU-s/env, {row['peak_memory_mb']} MB peak", flush=True)

    one = next(r for r in results["runs"] if r["environments"] == min(sizes))
    for row in results["runs"]:
        row["cpu_per_env_vs_one"] = round(row["cpu_s_per_env"] / one["cpu_s_per_env"], 2)
    largest = [r for r in results["runs"] if r["environments"] == max(sizes)]
    worst_memory = max(r["memory_mb_per_env"] for r in largest)
    worst_cpu = max(r["cpu_s_per_env"] for r in largest)
    results["node_model"] = node_model(worst_cpu, worst_memory)
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(results, indent=2) + "\n")
    report(results, args.output)


def report(results, output):
    m = results["machine"]
    print(f"\nScale benchmark - {m['date']}, {m['cpus']} CPUs (load {m['load_average']} at start), Python {m['python']}")
    print(f"{'N':>3} {'run':<22}{'wall':>8}{'wall/env':>10}{'CPU-s/env':>11}{'vs N=1':>8}{'emulator CPU-s':>16}{'peak MB':>9}{'MB/env':>8}")
    for r in results["runs"]:
        run = f"{r['mode']}, forks {r['forks']}"
        print(
            f"{r['environments']:>3} {run:<22}{r['wall_s']:>7.1f}s{r['wall_s_per_env']:>9.1f}s{r['cpu_s_per_env']:>11.1f}"
            f"{r['cpu_per_env_vs_one']:>7.2f}x{r['emulator_cpu_s']:>16.1f}{r['peak_memory_mb']:>9}{r['memory_mb_per_env']:>8}"
        )
    print(f"\nEnvironments per execution node and hour (controller CPU share {CPU_SHARE:.0%}, {NODE_OVERHEAD_MB} MB for the node;")
    print(f"real AWS: a deploy takes {REAL_DEPLOY_S / 60:.0f} min, the modelled figure of bench/deploy_bench.py):")
    print(f"{'node':<16}{'emulator/h':>12}{'real AWS at once':>18}{'bound by':>10}{'real AWS/h':>12}")
    for row in results["node_model"]:
        print(
            f"{row['node']:<16}{row['emulator_envs_per_hour']:>12}{row['real_aws_envs_at_once']:>18}"
            f"{row['real_aws_bound_by']:>10}{row['real_aws_envs_per_hour']:>12}"
        )
    print(f"\nresults: {output}")


if __name__ == "__main__":
    main()
