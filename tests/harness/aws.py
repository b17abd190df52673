"""Test helpers around the local AWS emulator: run our modules and playbooks against it
and read the API requests it recorded."""

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import boto3

ROOT = Path(__file__).resolve().parents[2]
COLLECTIONS = ROOT / "build" / "collections"
MODULES = ROOT / "plugins" / "modules"
sys.path.insert(0, str(ROOT / "scripts"))

from emulator import SHELL_CREDENTIALS, Emulator, client_env, client_environ, foreign_aws_settings, free_port, isolated_environ  # noqa: E402  (scripts/ is not a package)

__all__ = [
    "SHELL_CREDENTIALS", "Emulator", "client_env", "client_environ", "foreign_aws_settings", "free_port", "isolated_environ",
    "client", "role_playbook", "run_module", "run_playbook", "kill_playbook", "lifted_when_met", "ROOT",
]


def role_playbook(role, role_vars=None, post_tasks=""):
    """A one-play playbook (YAML text) that runs the collection's `role` on localhost against the
    emulator, with `role_vars` as play vars and `post_tasks` (YAML, indented for the play) after it."""
    play_vars = "".join("    %s: %s\n" % (key, json.dumps(value)) for key, value in (role_vars or {}).items())
    return (
        "- name: %s role on the emulator\n"
        "  hosts: localhost\n"
        "  connection: local\n"
        "  gather_facts: false\n"
        "  vars:\n"
        "    ansible_python_interpreter: \"{{ ansible_playbook_python }}\"\n"
        "    aws_region: us-east-1\n%s"
        "  module_defaults:\n"
        "    group/bluegreen.migration.aws:\n"
        "      region: \"{{ aws_region }}\"\n"
        "  roles:\n"
        "    - role: bluegreen.migration.%s\n%s"
    ) % (role, play_vars, role, post_tasks)


@contextlib.contextmanager
def lifted_when_met(emulator, lifts, timeout=900, hold=None):
    """Emulated windows (opened wide by the caller) held until the code run in the block meets
    each, then closed: as soon as an event of the realistic emulator recorded after entry matches
    a key of `lifts`, that key's config is applied. A slow machine cannot miss a window, and a
    fast one does not wait out a window sized for the slow one. `lifts`: {(behaviour, action,
    text the detail contains[, how many such events]): config}; "" matches any action or detail.
    `hold`, if given, is called at each look while a window is open (one that moves, e.g. one
    measured from a resource's age). The windows never met are closed when the block ends, when `timeout` runs out, or when the
    watcher cannot reach the emulator (that error is raised at the end), and the block's end
    then fails naming them, unless the block failed first: assert on the run's outcome inside
    the block, so that its output is what a failure shows."""
    pending, mark, done, errors = dict(lifts), len(emulator.realism("events")), threading.Event(), []

    def met(key, seen):
        behaviour, action, detail, *times = key
        found = [e for e in seen if e["behaviour"] == behaviour and action in ("", e["action"]) and detail in e["detail"]]
        return len(found) >= (times[0] if times else 1)

    def lift_met():
        seen = emulator.realism("events")[mark:]
        for key in [key for key in pending if met(key, seen)]:
            emulator.realism("config", pending[key])
            del pending[key]

    def watch():
        deadline = time.monotonic() + timeout
        try:
            while pending and not done.is_set() and time.monotonic() < deadline:
                if hold:
                    hold()
                lift_met()
                done.wait(0.2)
        except Exception as error:  # noqa: BLE001 (raised again when the block ends)
            errors.append(error)
        # Out of time or out of touch: nothing is left open for the rest of the block.
        if pending and not done.is_set():
            for config in list(pending.values()):
                with contextlib.suppress(Exception):
                    emulator.realism("config", config)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        yield
    finally:
        done.set()
        watcher.join()
        if not errors:
            lift_met()  # an event of the block's last moments
        unmet = sorted(pending)
        for config in pending.values():
            emulator.realism("config", config)
    if errors:
        raise errors[0]
    assert not unmet, f"the block ended, or {timeout} s passed, before it met {unmet}"


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
    # The modules need this interpreter's boto3; discovery could find another python3 first.
    run_env.setdefault("ANSIBLE_PYTHON_INTERPRETER", sys.executable)
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


def _children():
    """{parent pid: [child pids]} of every process on the machine (from /proc)."""
    tree = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    ppid = int(stat.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            tree.setdefault(ppid, []).append(int(entry))
    return tree


def _descendants(pid):
    tree, found, todo = _children(), [], [pid]
    while todo:
        for child in tree.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def killed_playbook(playbook, log, ready, what, inventory="inventories/local", args=(), grace=0.5, timeout=600):
    """Start ansible-playbook, and kill it (kill_playbook) `grace` s after `ready(log text)` holds
    (`what` names that moment in failures); the log text."""
    cmd = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(inventory), str(playbook), *args]
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        try:
            while not ready(log.read_text()):
                assert proc.poll() is None, f"the run ended before {what}:\n" + log.read_text()[-4000:]
                assert time.monotonic() < deadline, f"no {what} within {timeout}s:\n" + log.read_text()[-3000:]
                time.sleep(0.1)
            time.sleep(grace)
        finally:
            if proc.poll() is None:
                kill_playbook(proc)
            proc.wait(timeout=30)
    text = log.read_text()
    assert proc.returncode == -signal.SIGKILL, f"the run finished before it could be killed after {what}:\n" + text[-3000:]
    return text


def kill_playbook(proc):
    """SIGKILL a running ansible-playbook (started with start_new_session=True) the way a
    crashed host would: the controller, its workers, which ansible-core starts in sessions of
    their own (a process-group kill would leave them orphaned and blocked), and the modules
    they run. Everything is frozen first, so that nothing forks past the kill."""
    try:
        os.killpg(proc.pid, signal.SIGSTOP)
    except ProcessLookupError:
        return
    for _round in range(3):
        for pid in _descendants(proc.pid):
            _signal(pid, signal.SIGSTOP)
    for pid in _descendants(proc.pid):
        _signal(pid, signal.SIGKILL)
    os.killpg(proc.pid, signal.SIGKILL)


def _signal(pid, sig):
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass
