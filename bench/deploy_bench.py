"""Benchmark: deploy site.yml on a private AWS emulator and print where the time and the API
calls go.

    python bench/deploy_bench.py [--envs 4] [--skip-multi] [--output bench/results/latest.json] [--env KEY=VALUE]

Measures (each on its own moto server, started on a free port and stopped at the end):
  a) full deploy of inventories/local: wall time, API calls and mutating calls (recorder);
  b) no-op re-run: wall time, API calls, calls per managed resource;
  c) N environments in one inventory (forks N) against one;
  d) a model of the same deploy on real AWS: the recorded call order replayed with
     typical AWS latencies (NAT ~2 min, ALB ~3 min, Aurora ~11 min, ECS healthy ~3 min),
     for our deploy (waits where the roles wait) and for a naive sequential one.
Per-task timings come from the ansible.posix.profile_tasks callback (10 slowest tasks).
"""

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

from emulator import Emulator, client_env, free_port, parse_recorded  # noqa: E402  (scripts/ is not a package)

PLAYBOOK = "site.yml"
INVENTORY = ROOT / "inventories" / "local"

# A created resource: these calls each make one resource the deploy manages (tags, routes,
# rules and associations are parts of a resource, not resources of their own).
CREATE_PREFIXES = ("Create", "Register", "Allocate")
CREATE_EXCLUDED = {"CreateTags", "CreateRoute"}
CREATE_EXTRA = {"PutMetricAlarm", "PutRolePolicy", "CreateListener", "POST /2015-03-31/functions"}

# Model of real AWS: seconds per API call, and how long a created resource takes to be usable.
READ_CALL_S = 0.1
WRITE_CALL_S = 1.0
LATENCY_S = {
    "CreateNatGateway": 120,  # NAT gateway available
    "CreateLoadBalancer": 180,  # ALB active
    "CreateDBCluster": 300,  # Aurora cluster available
    "CreateDBInstance": 660,  # Aurora instance available (10-12 min after the request)
    "CreateService": 180,  # ECS service steady with healthy targets
}
AURORA_PATH_S = LATENCY_S["CreateDBInstance"]


def is_create(call):
    action = call["action"] or ""
    if action in CREATE_EXTRA:
        return True
    return action.startswith(CREATE_PREFIXES) and action not in CREATE_EXCLUDED


def is_mutating(call):
    action = call["action"] or ""
    return call["method"] not in ("GET", "HEAD") and not action.startswith(("Describe", "List", "Get", "Lookup", "Head", "Search"))


def profile(stdout, top=10):
    """The slowest tasks from the profile_tasks summary: [(task, seconds)]."""
    tasks = []
    in_summary = False
    for line in stdout.splitlines():
        if line.startswith("TASKS RECAP"):
            in_summary = True
            continue
        match = re.match(r"^(.*\S) -+ (\d+(?:\.\d+)?)s$", line.strip()) if in_summary else None
        if match:
            tasks.append((match.group(1), float(match.group(2))))
    return sorted(tasks, key=lambda t: -t[1])[:top]


EXTRA_ENV = {}
EXTRA_ARGS = []


def run_playbook(emu, inventory, forks=None, extra_args=()):
    env = dict(os.environ)
    env.update(client_env(emu.port))
    env.update(
        {
            "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
            "ANSIBLE_CALLBACKS_ENABLED": "ansible.posix.profile_tasks",
            "PROFILE_TASKS_TASK_OUTPUT_LIMIT": "all",
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_FORCE_COLOR": "0",
        }
    )
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env.update(EXTRA_ENV)
    if forks:
        env["ANSIBLE_FORKS"] = str(forks)
    cmd = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(inventory), PLAYBOOK, *EXTRA_ARGS, *extra_args]
    started = time.monotonic()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    wall = time.monotonic() - started
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-6000:] + proc.stderr[-3000:])
        raise SystemExit(f"ansible-playbook {PLAYBOOK} -i {inventory} failed (rc={proc.returncode})")
    return wall, proc.stdout


def recorded_calls(emu):
    """Like Emulator.requests(), but tolerant: with several hosts in parallel the recorder's
    lines can run into each other, so every JSON object is decoded wherever it starts."""
    decoder = json.JSONDecoder()
    text = emu.recording.read_text() if emu.recording.exists() else ""
    calls, position = [], 0
    while True:
        start = text.find("{", position)
        if start < 0:
            break
        try:
            entry, position = decoder.raw_decode(text, start)
        except ValueError:
            position = start + 1
            continue
        call = parse_recorded(entry)
        if not call["path"].startswith("/moto-api/"):
            calls.append(call)
    return calls


def measure(emu, inventory, forks=None):
    emu.reset_recording()
    wall, stdout = run_playbook(emu, inventory, forks)
    calls = recorded_calls(emu)
    recap = re.findall(r"changed=(\d+)", stdout.split("PLAY RECAP", 1)[-1])
    return {
        "wall_s": round(wall, 1),
        "api_calls": len(calls),
        "mutating_calls": sum(1 for c in calls if is_mutating(c)),
        "created_resources": sum(1 for c in calls if is_create(c)),
        "changed": sum(int(n) for n in recap),
        "slowest_tasks": profile(stdout),
        "calls": calls,
    }


def model(calls, naive=False, waits=True):
    """Seconds the recorded deploy would take on real AWS.

    Calls run one after another (the play is sequential). A created resource becomes usable
    LATENCY_S after its create call. Ours blocks where the playbook waits: for the NAT
    gateways (DescribeNatGateways by id after the create: the network role's egress step, or
    the NAT module's own wait), for every Aurora instance (DescribeDBInstances by cluster
    filter after the creates: the migrator role's wait in site.yml), and for the first (live
    colour) ECS service's steady state (the next call after its CreateService+UpdateService
    that is not for it). Naive: every create waits for its own resource before the next call.
    """
    clock = 0.0
    ready = {}  # action -> [ready times]
    live_service = None
    waited_live = False
    for call in calls:
        action = call["action"] or ""
        clock += WRITE_CALL_S if is_mutating(call) else READ_CALL_S
        if action in LATENCY_S:
            done = clock + LATENCY_S[action]
            if action == "CreateService":
                # Targets turn healthy only once the load balancer is active.
                done = max(done, max(ready.get("CreateLoadBalancer", [0])) + 60)
                live_service = live_service or call["params"].get("serviceName")
            ready.setdefault(action, []).append(done)
            if naive:
                clock = max(clock, done)
            continue
        if not waits:
            continue
        # Waiting for a NAT gateway: DescribeNatGateways by id (the module's own wait or the
        # network role's egress step) after the create.
        if action == "DescribeNatGateways" and "CreateNatGateway" in ready and any(k.startswith("NatGatewayId") for k in call["params"]):
            clock = max([clock] + ready["CreateNatGateway"])
        if action == "DescribeDBInstances" and "DBInstanceIdentifier" not in call["params"] and "CreateDBInstance" in ready:
            clock = max([clock] + ready["CreateDBInstance"] + ready.get("CreateDBCluster", []))
        names = [call["params"].get("serviceName")] + list(call["params"].get("services") or [])
        if live_service and not waited_live and (call["service"] != "ecs" or (any(names) and live_service not in names)):
            clock = max(clock, ready["CreateService"][0])
            waited_live = True
    return clock


def modelled(calls):
    ours = model(calls)
    naive = model(calls, naive=True)
    aurora = next((i for i, c in enumerate(calls) if c["action"] == "CreateDBCluster"), None)
    # The Aurora path alone: the calls up to the cluster request (nothing waited for), then the
    # instances' 10-12 minutes.
    aurora_alone = model(calls[: aurora + 1], waits=False) + AURORA_PATH_S if aurora is not None else None
    return {"ours_s": round(ours), "naive_sequential_s": round(naive), "aurora_path_s": round(aurora_alone) if aurora_alone else None}


def multi_inventory(directory, count):
    """An inventory of `count` environments (bench-a, bench-b ...) with distinct VPC CIDRs."""
    inventory = Path(directory) / "inventory"
    shutil.copytree(INVENTORY / "group_vars", inventory / "group_vars")
    hosts = {f"bench-{chr(ord('a') + i)}": {"network_vpc_cidr": f"10.{20 + i}.0.0/16"} for i in range(count)}
    (inventory / "hosts.yml").write_text(json.dumps({"bluegreen_envs": {"hosts": hosts}}, indent=2) + "\n")
    return inventory, list(hosts)


def machine():
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        # Other work on the machine skews every wall time; the 1-minute load when the run began.
        "load_average": round(os.getloadavg()[0], 2),
    }


def minutes(seconds):
    return f"{seconds / 60:.1f} min" if seconds is not None else "-"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--envs", type=int, default=4, help="environments of the multi-environment run")
    parser.add_argument("--skip-multi", action="store_true", help="skip the multi-environment run")
    parser.add_argument("--output", default=str(ROOT / "bench" / "results" / "latest.json"))
    parser.add_argument("--env", action="append", default=[], metavar="KEY=VALUE", help="extra environment of ansible-playbook (e.g. ANSIBLE_PIPELINING=1)")
    args = parser.parse_args()
    EXTRA_ENV.update(item.split("=", 1) for item in args.env)

    results = {"machine": machine(), "extra_env": EXTRA_ENV}
    with tempfile.TemporaryDirectory(prefix="deploy-bench-") as work:
        # The outputs role writes outputs/<suffix>.json|md: keep them out of the project's outputs/.
        EXTRA_ARGS[:] = ["-e", f"outputs_dir={Path(work) / 'outputs'}"]
        emu = Emulator(port=free_port(), state_dir=work)
        emu.start()
        try:
            deploy = measure(emu, INVENTORY)
            noop = measure(emu, INVENTORY)
            noop["calls_per_resource"] = round(noop["api_calls"] / max(deploy["created_resources"], 1), 2)
            results["model"] = modelled(deploy["calls"])
            results["deploy"] = {k: v for k, v in deploy.items() if k != "calls"}
            results["noop"] = {k: v for k, v in noop.items() if k != "calls"}
            if not args.skip_multi:
                emu.reset()
                inventory, _suffixes = multi_inventory(work, args.envs)
                multi = measure(emu, inventory, forks=args.envs)
                multi["ratio_to_one"] = round(multi["wall_s"] / deploy["wall_s"], 2)
                results["multi"] = {k: v for k, v in multi.items() if k != "calls"}
        finally:
            emu.stop()

    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(results, indent=2) + "\n")
    report(results, args.output)


def report(results, output):
    m = results["machine"]
    d, n = results["deploy"], results["noop"]
    print(f"\nDeploy benchmark - {m['date']}, {m['cpus']} CPUs (load {m['load_average']} at start), Python {m['python']}")
    print(f"{'run':<34}{'wall':>9}{'API calls':>11}{'mutating':>10}{'changed':>9}")
    print(f"{'full deploy (inventories/local)':<34}{d['wall_s']:>8.1f}s{d['api_calls']:>11}{d['mutating_calls']:>10}{d['changed']:>9}")
    print(f"{'no-op re-run':<34}{n['wall_s']:>8.1f}s{n['api_calls']:>11}{n['mutating_calls']:>10}{n['changed']:>9}")
    if "multi" in results:
        mu = results["multi"]
        label = f"{mu['created_resources'] // max(d['created_resources'], 1)} environments, one inventory"
        print(f"{label:<34}{mu['wall_s']:>8.1f}s{mu['api_calls']:>11}{mu['mutating_calls']:>10}{mu['changed']:>9}")
        print(f"  {mu['ratio_to_one']}x the time of one environment (target <= 2x)")
    print(f"managed resources: {d['created_resources']}; no-op calls per resource: {n['calls_per_resource']} (target <= 1.5)")
    mo = results["model"]
    print("\nModelled real-AWS deploy (recorded call order, typical AWS latencies):")
    print(f"  ours: {minutes(mo['ours_s'])}   naive sequential: {minutes(mo['naive_sequential_s'])}   Aurora path alone: {minutes(mo['aurora_path_s'])}")
    for title, run in (("full deploy", d), ("no-op re-run", n)):
        print(f"\n10 slowest tasks, {title}:")
        for task, seconds in run["slowest_tasks"]:
            print(f"  {seconds:6.2f}s  {task}")
    print(f"\nresults: {output}")


if __name__ == "__main__":
    main()
