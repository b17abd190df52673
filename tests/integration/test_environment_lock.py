"""The environment lock through playbooks on the emulator (the blue_green role's lock and
unlock entry points, as site.yml, teardown.yml and the operations use them): two runs at
once, an expired lock, bluegreen_lock_break, release on failure and only by the holder."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.harness.aws import ROOT, client, run_playbook

pytestmark = pytest.mark.slow(seconds=30)

PLAYBOOK = "tests/integration/playbooks/environment_lock.yml"
INVENTORY = "localhost,"
TABLE = "bluegreen-locks"


def start(suffix, **extra):
    cmd = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", INVENTORY, PLAYBOOK, "-e", json.dumps({"environment_suffix": suffix, **extra})]
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)


def run(suffix, **extra):
    return run_playbook(PLAYBOOK, INVENTORY, extra_vars={"environment_suffix": suffix, **extra})


def flat(text):
    return " ".join(text.split())


def item(suffix):
    return client("dynamodb").get_item(TableName=TABLE, Key={"pk": {"S": suffix}}, ConsistentRead=True).get("Item")


def put(suffix, holder, expires_in):
    now = int(time.time())
    client("dynamodb").put_item(
        TableName=TABLE,
        Item={
            "pk": {"S": suffix},
            "holder": {"S": holder},
            "host": {"S": "gone-host"},
            "playbook": {"S": "Roll out a new version (blue-green, gated)"},
            "operation": {"S": "rollout"},
            "token": {"S": f"token-of-{holder}"},
            "started_at": {"N": str(now - 7200)},
            "expires_at": {"N": str(now + expires_in)},
        },
    )


def test_two_runs_at_once_exactly_one_wins(aws):
    # Two AWX jobs launched at once on one environment (the table does not exist yet either).
    first = start("lk1", lock_test_hold=6, awx_job_id=101, awx_user_name="alice")
    second = start("lk1", lock_test_hold=6, awx_job_id=102, awx_user_name="bob")
    loser = None
    deadline = time.monotonic() + 120
    while loser is None:
        assert time.monotonic() < deadline, "neither run ended"
        for proc in (first, second):
            if proc.poll() is not None:
                loser = proc
                break
        time.sleep(0.2)
    winner = second if loser is first else first
    loser_out = flat(loser.stdout.read())
    assert loser.returncode != 0, loser_out[-3000:]
    holder, job = ("alice", "101") if winner is first else ("bob", "102")
    # The loser names the winner, then leaves its lock alone (no token: nothing to release).
    assert f"environment lk1 is locked by {holder} (AWX job {job})" in loser_out, loser_out[-3000:]
    assert 'playbook "Hold the lock of an environment on the emulator", lock-test' in loser_out
    assert "-e bluegreen_lock_break=true" in loser_out and "Nothing was changed." in loser_out
    assert "Release the lock of the environment" in loser_out
    held = item("lk1")
    assert held is not None and held["holder"] == {"S": holder} and held["job"] == {"S": f"AWX job {job}"}, held
    assert winner.poll() is None, "the winner should still hold the lock"
    winner_out = winner.communicate(timeout=120)[0]
    assert winner.returncode == 0, winner_out[-3000:]
    assert item("lk1") is None  # released at the end


def test_expired_lock_is_taken_by_the_next_run(aws):
    assert run("lk2").returncode == 0  # creates the table
    put("lk2", "carol", expires_in=-60)
    proc = run("lk2")
    text = flat(proc.stdout)
    assert proc.returncode == 0, text[-3000:]
    assert "took over the expired lock" in text and "of carol on gone-host" in text, text[-3000:]
    assert item("lk2") is None


def test_break_takes_over_a_live_lock_and_says_whose(aws):
    assert run("lk3").returncode == 0
    put("lk3", "dave", expires_in=1800)
    refused = run("lk3")
    text = flat(refused.stdout)
    assert refused.returncode != 0 and "environment lk3 is locked by dave on gone-host" in text, text[-3000:]
    assert item("lk3")["holder"] == {"S": "dave"}  # not released by the refused run

    broken = run("lk3", bluegreen_lock_break=True)
    text = flat(broken.stdout)
    assert broken.returncode == 0, text[-3000:]
    assert "broke the lock of dave on gone-host" in text, text[-3000:]
    assert item("lk3") is None


def test_failed_run_releases_its_lock(aws):
    proc = run("lk4", lock_test_fail=True)
    assert proc.returncode != 0 and "the work failed" in proc.stdout
    assert item("lk4") is None
    # and the next run takes it at once
    assert run("lk4").returncode == 0
