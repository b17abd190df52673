"""Benchmark: deploy site.yml on a private AWS emulator and print where the time and the API
calls go, side by side with a plain playbook of the same stack (bench/reference/).

    python bench/deploy_bench.py [--rounds 2] [--skip-reference] [--envs 4] [--skip-multi]
                                 [--output bench/results/latest.json] [--env KEY=VALUE]

Measures (each run on a fresh moto server, started on a free port and stopped after it):
  a) full deploy of inventories/local: wall time, API calls and mutating calls (recorder);
  b) no-op re-run: wall time, API calls, calls per managed resource;
  a) and b) for site.yml and for bench/reference/site.yml alternately (ours, reference, ours,
     reference ...), --rounds times each; medians and the ratios ours / reference;
  c) N environments in one inventory (forks N) against one;
  d) playbooks/plan.yml on the converged environment of the last round, and on the N
     converged environments of c), when that playbook exists;
  e) a model of the same deploy on real AWS: the recorded call order replayed with
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
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

from emulator import Emulator, client_environ, parse_recorded  # noqa: E402  (scripts/ is not a package)

PLAYBOOK = "site.yml"
INVENTORY = ROOT / "inventories" / "local"
# The same stack as a plain amazon.aws + community.aws playbook (bench/reference/site.yml).
REFERENCE = ROOT / "bench" / "reference" / "site.yml"
# What a deploy would change; measured only once the playbook exists.
PLAN = ROOT / "playbooks" / "plan.yml"
STACKS = (("ours", PLAYBOOK), ("reference", REFERENCE))

# Targets of issue 16 (README "Figures"): (what, key in the summary, limit).
TARGETS = (
    ("first deploy, ours / reference", "deploy_ratio", 0.7),
    ("no-op re-run, ours / reference", "noop_ratio", 0.3),
    ("no-op API calls per managed resource (ours)", "noop_calls_per_resource", 1.0),
    ("plan.yml, one converged environment (s)", "plan_one_s", 8.0),
    ("plan.yml, 4 environments / one", "plan_four_ratio", 2.0),
)

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


def run_playbook(emu, inventory, forks=None, extra_args=(), playbook=PLAYBOOK):
    env = client_environ(emu.port)
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
    cmd = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(inventory), str(playbook), *EXTRA_ARGS, *extra_args]
    started = time.monotonic()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    wall = time.monotonic() - started
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-6000:] + proc.stderr[-3000:])
        raise SystemExit(f"ansible-playbook {playbook} -i {inventory} failed (rc={proc.returncode})")
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


def measure(emu, inventory, forks=None, playbook=PLAYBOOK):
    emu.reset_recording()
    wall, stdout = run_playbook(emu, inventory, forks, playbook=playbook)
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


def names_nat_gateways(params):
    """True for a DescribeNatGateways naming gateways: by id, or by the `nat-gateway-id` filter."""
    if any(key.startswith("NatGatewayId") for key in params):
        return True
    return any(key.startswith("Filter.") and key.endswith(".Name") and value == "nat-gateway-id" for key, value in params.items())


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
        # Waiting for a NAT gateway after the create: DescribeNatGateways by id (the NAT module's
        # own wait) or by a `nat-gateway-id` filter (the network role's egress step).
        if action == "DescribeNatGateways" and "CreateNatGateway" in ready and names_nat_gateways(call["params"]):
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


def median(values):
    """Median of the values that were measured (None: not measured), or None."""
    values = [v for v in values if v is not None]
    return round(statistics.median(values), 2) if values else None


def ratio(ours, reference):
    """ours / reference, or None when either is missing (or the reference is 0)."""
    if ours is None or not reference:
        return None
    return round(ours / reference, 2)


def run_record(deploy, noop):
    """The figures of one round of one stack (a first deploy and its no-op re-run)."""
    return {
        "deploy_wall_s": deploy["wall_s"],
        "deploy_calls": deploy["api_calls"],
        "deploy_mutating": deploy["mutating_calls"],
        "deploy_changed": deploy["changed"],
        "resources": deploy["created_resources"],
        "noop_wall_s": noop["wall_s"],
        "noop_calls": noop["api_calls"],
        "noop_changed": noop["changed"],
    }


def summarize(runs):
    """Medians over the rounds of one stack, with each round's wall times kept."""
    keys = ("deploy_wall_s", "deploy_calls", "deploy_mutating", "resources", "noop_wall_s", "noop_calls")
    summary = {key: median([run[key] for run in runs]) for key in keys}
    summary["rounds"] = len(runs)
    summary["deploy_wall_s_rounds"] = [run["deploy_wall_s"] for run in runs]
    summary["noop_wall_s_rounds"] = [run["noop_wall_s"] for run in runs]
    # A no-op that changed something is not a no-op: the worst round is reported.
    summary["noop_changed"] = max(run["noop_changed"] for run in runs)
    summary["noop_calls_per_resource"] = ratio(summary["noop_calls"], summary["resources"])
    summary["deploy_calls_per_resource"] = ratio(summary["deploy_calls"], summary["resources"])
    return summary


def compare(ours_runs, reference_runs):
    """Both stacks' medians and the ratios ours / reference."""
    ours, reference = summarize(ours_runs), summarize(reference_runs)
    keys = ("deploy_wall_s", "noop_wall_s", "deploy_calls", "noop_calls", "noop_calls_per_resource")
    return {"ours": ours, "reference": reference, "ratios": {key: ratio(ours[key], reference[key]) for key in keys}}


def target_rows(comparison, plan):
    """(what, today, limit, met) for each target of issue 16; today None: not measured."""
    ratios = comparison["ratios"] if comparison else {}
    today = {
        "deploy_ratio": ratios.get("deploy_wall_s"),
        "noop_ratio": ratios.get("noop_wall_s"),
        "noop_calls_per_resource": comparison["ours"]["noop_calls_per_resource"] if comparison else None,
        "plan_one_s": (plan.get("one") or {}).get("wall_s"),
        "plan_four_ratio": plan.get("four_ratio_to_one"),
    }
    return [(what, today[key], limit, None if today[key] is None else today[key] <= limit) for what, key, limit in TARGETS]


def comparison_lines(comparison):
    """The side-by-side table: ours and the reference (medians) and their ratio."""
    ours, ref, ratios = comparison["ours"], comparison["reference"], comparison["ratios"]
    rows = (
        ("first deploy, wall", "deploy_wall_s", "{:.1f} s"),
        ("no-op re-run, wall", "noop_wall_s", "{:.1f} s"),
        ("first deploy, API calls", "deploy_calls", "{:g}"),
        ("no-op re-run, API calls", "noop_calls", "{:g}"),
        ("managed resources", "resources", "{:g}"),
        ("no-op API calls per resource", "noop_calls_per_resource", "{:.2f}"),
        ("no-op re-run, changed", "noop_changed", "{:g}"),
    )
    lines = [f"{'median of ' + str(ours['rounds']) + ' rounds':<32}{'ours':>12}{'reference':>12}{'ours/ref':>10}"]
    for label, key, fmt in rows:
        share = ratios.get(key)
        lines.append(f"{label:<32}{fmt.format(ours[key]):>12}{fmt.format(ref[key]):>12}{(f'{share:.2f}x' if share is not None else ''):>10}")
    walls = "; ".join(
        f"{name}: deploy {', '.join(f'{w:.1f}' for w in s['deploy_wall_s_rounds'])} s, no-op {', '.join(f'{w:.1f}' for w in s['noop_wall_s_rounds'])} s"
        for name, s in (("ours", ours), ("reference", ref))
    )
    lines.append(f"each round, in order: {walls}")
    return lines


def target_lines(rows):
    lines = []
    for what, today, limit, met in rows:
        status = "not measured" if met is None else ("met" if met else "NOT MET")
        value = "-" if today is None else f"{today:g}"
        lines.append(f"  {what:<46} {value:>8}  (target <= {limit:g}): {status}")
    return lines


def fresh_emulator(work, name):
    return Emulator.on_free_port(Path(work) / name)


def load_now():
    return round(os.getloadavg()[0], 2)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2, help="deploys of each stack, alternating (medians are reported)")
    parser.add_argument("--skip-reference", action="store_true", help="deploy site.yml only, without the reference playbook")
    parser.add_argument("--envs", type=int, default=4, help="environments of the multi-environment run")
    parser.add_argument("--skip-multi", action="store_true", help="skip the multi-environment run")
    parser.add_argument("--output", default=str(ROOT / "bench" / "results" / "latest.json"))
    parser.add_argument("--env", action="append", default=[], metavar="KEY=VALUE", help="extra environment of ansible-playbook (e.g. ANSIBLE_PIPELINING=1)")
    args = parser.parse_args()
    EXTRA_ENV.update(item.split("=", 1) for item in args.env)

    results = {"machine": machine(), "extra_env": EXTRA_ENV, "loads": []}
    stacks = STACKS[:1] if args.skip_reference else STACKS
    rounds = {name: [] for name, _playbook in stacks}
    first, walls, plan = {}, {}, {}
    with tempfile.TemporaryDirectory(prefix="deploy-bench-") as work:
        # The outputs role writes outputs/<suffix>.json|md: keep them out of the project's outputs/.
        # The reference keeps its zip and generated password in its build directory.
        EXTRA_ARGS[:] = ["-e", f"outputs_dir={Path(work) / 'outputs'}", "-e", f"reference_build_dir={Path(work) / 'reference'}"]
        for number in range(max(args.rounds, 1)):
            for name, playbook in stacks:
                results["loads"].append({"run": f"{name} {number + 1}", "load_at_start": load_now()})
                emu = fresh_emulator(work, f"{name}-{number + 1}")
                try:
                    deploy = measure(emu, INVENTORY, playbook=playbook)
                    noop = measure(emu, INVENTORY, playbook=playbook)
                    # plan.yml on the converged environment of the last round of ours.
                    if name == "ours" and number == args.rounds - 1 and PLAN.exists():
                        plan["one"] = {k: v for k, v in measure(emu, INVENTORY, playbook=PLAN).items() if k != "calls"}
                finally:
                    emu.stop()
                rounds[name].append(run_record(deploy, noop))
                first.setdefault(name, (deploy, noop))
                walls.setdefault(name, []).append((deploy["wall_s"], noop["wall_s"]))
                print(f"round {number + 1}, {name}: deploy {deploy['wall_s']} s, no-op {noop['wall_s']} s (changed={noop['changed']})", flush=True)

        deploy, noop = first["ours"]
        results["model"] = modelled(deploy["calls"])
        results["deploy"] = {k: v for k, v in deploy.items() if k != "calls"}
        results["noop"] = {k: v for k, v in noop.items() if k != "calls"}
        # Wall times: the median of ours over the rounds; calls and tasks from the first round.
        results["deploy"]["wall_s"] = median(w[0] for w in walls["ours"])
        results["noop"]["wall_s"] = median(w[1] for w in walls["ours"])
        results["noop"]["calls_per_resource"] = round(noop["api_calls"] / max(deploy["created_resources"], 1), 2)
        results["rounds"] = rounds
        if not args.skip_reference:
            results["comparison"] = compare(rounds["ours"], rounds["reference"])
            results["reference"] = {
                "deploy_slowest_tasks": first["reference"][0]["slowest_tasks"],
                "noop_slowest_tasks": first["reference"][1]["slowest_tasks"],
            }

        if not args.skip_multi:
            results["loads"].append({"run": f"{args.envs} environments", "load_at_start": load_now()})
            emu = fresh_emulator(work, "multi")
            try:
                inventory, _suffixes = multi_inventory(work, args.envs)
                multi = measure(emu, inventory, forks=args.envs)
                multi["ratio_to_one"] = round(multi["wall_s"] / results["deploy"]["wall_s"], 2)
                multi["environments"] = args.envs
                results["multi"] = {k: v for k, v in multi.items() if k != "calls"}
                if PLAN.exists():
                    plan["four"] = {k: v for k, v in measure(emu, inventory, forks=args.envs, playbook=PLAN).items() if k != "calls"}
            finally:
                emu.stop()

    if not PLAN.exists():
        plan["skipped"] = f"{PLAN.relative_to(ROOT)} does not exist yet"
    elif "four" not in plan:
        plan["skipped"] = f"{args.envs} environments: needs the multi-environment run (without --skip-multi)"
    if plan.get("one") and plan.get("four"):
        plan["four_ratio_to_one"] = ratio(plan["four"]["wall_s"], plan["one"]["wall_s"])
    results["plan"] = plan
    results["targets"] = [
        {"what": what, "today": today, "target_max": limit, "met": met} for what, today, limit, met in target_rows(results.get("comparison"), plan)
    ]
    results["machine"]["load_average_end"] = load_now()
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(results, indent=2) + "\n")
    report(results, args.output)


def report(results, output):
    m = results["machine"]
    d, n = results["deploy"], results["noop"]
    print(f"\nDeploy benchmark - {m['date']}, {m['cpus']} CPUs (load {m['load_average']} at start, {m['load_average_end']} at the end), Python {m['python']}")
    print(f"{'run':<34}{'wall':>9}{'API calls':>11}{'mutating':>10}{'changed':>9}")
    print(f"{'full deploy (inventories/local)':<34}{d['wall_s']:>8.1f}s{d['api_calls']:>11}{d['mutating_calls']:>10}{d['changed']:>9}")
    print(f"{'no-op re-run':<34}{n['wall_s']:>8.1f}s{n['api_calls']:>11}{n['mutating_calls']:>10}{n['changed']:>9}")
    if "multi" in results:
        mu = results["multi"]
        # Counted, not derived from the resources: the environments share the lock table.
        label = f"{mu.get('environments', '?')} environments, one inventory"
        print(f"{label:<34}{mu['wall_s']:>8.1f}s{mu['api_calls']:>11}{mu['mutating_calls']:>10}{mu['changed']:>9}")
        print(f"  {mu['ratio_to_one']}x the time of one environment (target <= 2x)")
    print(f"managed resources: {d['created_resources']}; no-op calls per resource: {n['calls_per_resource']} (target <= 1.0)")
    loads = ", ".join(f"{x['run']} {x['load_at_start']}" for x in results["loads"])
    print(f"load at the start of each run: {loads}")
    if "comparison" in results:
        print("\nSide by side with the plain playbook (bench/reference/site.yml), alternating, each on a fresh emulator:")
        for line in comparison_lines(results["comparison"]):
            print(f"  {line}")
    plan = results["plan"]
    if "skipped" in plan:
        print(f"\nplan.yml: skipped ({plan['skipped']})")
    for key, label in (("one", "one converged environment"), ("four", "converged environments, forks N")):
        if plan.get(key):
            print(f"plan.yml, {label}: {plan[key]['wall_s']:.1f} s, {plan[key]['api_calls']} API calls, {plan[key]['mutating_calls']} mutating")
    print("\nTargets (issue 16):")
    for line in target_lines([(t["what"], t["today"], t["target_max"], t["met"]) for t in results["targets"]]):
        print(line)
    mo = results["model"]
    print("\nModelled real-AWS deploy (recorded call order, typical AWS latencies):")
    print(f"  ours: {minutes(mo['ours_s'])}   naive sequential: {minutes(mo['naive_sequential_s'])}   Aurora path alone: {minutes(mo['aurora_path_s'])}")
    for title, run in (("full deploy", d), ("no-op re-run", n)):
        print(f"\n10 slowest tasks, {title}:")
        for task, seconds in run["slowest_tasks"]:
            print(f"  {seconds:6.2f}s  {task}")
    if "reference" in results:
        for title, key in (("full deploy", "deploy_slowest_tasks"), ("no-op re-run", "noop_slowest_tasks")):
            print(f"\n10 slowest tasks of the reference, {title}:")
            for task, seconds in results["reference"][key]:
                print(f"  {seconds:6.2f}s  {task}")
    print(f"\nresults: {output}")


if __name__ == "__main__":
    main()
