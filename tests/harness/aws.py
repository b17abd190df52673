"""Test helpers around the local AWS emulator: run our modules and playbooks against it
and read the API requests it recorded."""

import json
import os
import subprocess
import sys
from pathlib import Path

import boto3

ROOT = Path(__file__).resolve().parents[2]
COLLECTIONS = ROOT / "build" / "collections"
MODULES = ROOT / "plugins" / "modules"
sys.path.insert(0, str(ROOT / "scripts"))

from emulator import Emulator, client_env, free_port  # noqa: E402  (scripts/ is not a package)

__all__ = ["Emulator", "client_env", "free_port", "client", "run_module", "run_playbook", "ROOT"]


def client(service, region="us-east-1"):
    """A boto3 client for the emulator the environment points at."""
    return boto3.client(service, region_name=region)


def _module_env():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(COLLECTIONS), env.get("PYTHONPATH")]))
    return env


def run_module(name, args, check=False, diff=False):
    """Run plugins/modules/<name>.py for real (a subprocess, as Ansible would) and return its JSON result."""
    payload = dict(args)
    payload["_ansible_check_mode"] = check
    payload["_ansible_diff"] = diff
    payload.setdefault("_ansible_no_log", False)
    proc = subprocess.run(
        [sys.executable, "-m", f"ansible_collections.bluegreen.migration.plugins.modules.{name}"],
        input=json.dumps({"ANSIBLE_MODULE_ARGS": payload}),
        capture_output=True,
        text=True,
        check=False,
        env=_module_env(),
        cwd=ROOT,
        timeout=600,
    )
    try:
        result = json.loads(proc.stdout)
    except ValueError as e:
        raise AssertionError(f"module {name} printed no JSON (rc={proc.returncode}):\n{proc.stdout}\n{proc.stderr}") from e
    return result


def run_playbook(playbook, inventory="inventories/local", extra_vars=None, args=(), env=None, timeout=1200):
    """ansible-playbook from the dev tree; returns the CompletedProcess (stdout and stderr as text)."""
    cmd = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(inventory), str(playbook)]
    if extra_vars:
        cmd += ["-e", json.dumps(extra_vars)]
    cmd += list(args)
    run_env = dict(os.environ)
    run_env.setdefault("ANSIBLE_CONFIG", str(ROOT / "ansible.cfg"))
    run_env["ANSIBLE_FORCE_COLOR"] = "0"
    run_env["ANSIBLE_NOCOLOR"] = "1"
    run_env.update(env or {})
    return subprocess.run(cmd, capture_output=True, text=True, check=False, env=run_env, cwd=ROOT, timeout=timeout)


def recap(stdout):
    """Parse the PLAY RECAP lines into {host: {ok, changed, failed, ...}}."""
    result = {}
    in_recap = False
    for line in stdout.splitlines():
        if line.startswith("PLAY RECAP"):
            in_recap = True
            continue
        if in_recap and ":" in line and "=" in line:
            host, counts = line.split(":", 1)
            result[host.strip()] = {k: int(v) for k, v in (item.split("=") for item in counts.split())}
    return result
