"""Teardown finishes the job after a deploy killed halfway: nothing of the environment is left.
(An environment's whole life, with the refused, held and complete teardowns, is the last test
of tests/integration/test_rollout.py.)"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.harness.aws import ROOT, client, kill_playbook, recap, run_playbook
from tests.harness.environment import leftovers

pytestmark = pytest.mark.slow(seconds=90)

INVENTORY = "inventories/local"
SUFFIX = "local"
TEARDOWN = "playbooks/teardown.yml"
TAG = {"Name": "tag:bluegreen:environment", "Values": [SUFFIX]}


def ok(proc):
    assert proc.returncode == 0, proc.stdout[-8000:] + proc.stderr[-3000:]
    return recap(proc.stdout)[SUFFIX]


def teardown(outputs_dir, args=(), **extra):
    return run_playbook(TEARDOWN, INVENTORY, extra_vars={"outputs_dir": str(outputs_dir), **extra}, args=args)


def test_teardown_after_a_deploy_killed_halfway(aws, tmp_path):
    cmd = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", INVENTORY, "site.yml"]
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    log = tmp_path / "deploy.log"
    with open(log, "w") as out:
        deploy = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        ec2 = client("ec2")
        deadline = time.monotonic() + 300
        try:
            while not ec2.describe_vpcs(Filters=[TAG])["Vpcs"]:
                assert deploy.poll() is None, "the deploy ended before its VPC existed:\n" + log.read_text()[-3000:]
                assert time.monotonic() < deadline, "no VPC after 300 s:\n" + log.read_text()[-3000:]
                time.sleep(0.2)
            # let it get a little further into the network, then pull the plug on the whole process group
            while len(ec2.describe_subnets(Filters=[TAG])["Subnets"]) < 2 and deploy.poll() is None and time.monotonic() < deadline:
                time.sleep(0.1)
        finally:
            if deploy.poll() is None:
                kill_playbook(deploy)
            deploy.wait(timeout=30)
    assert deploy.returncode == -signal.SIGKILL, "the deploy finished before it could be killed:\n" + log.read_text()[-3000:]
    partial = leftovers(SUFFIX)
    assert partial["vpcs"], partial

    # The killed deploy still holds the environment's lock: teardown is refused, naming it,
    # before any write; the operator breaks the lock of the run that is gone.
    refused = teardown(tmp_path / "outputs", teardown_confirm=SUFFIX)
    assert refused.returncode != 0
    assert f"environment {SUFFIX} is locked by" in " ".join(refused.stdout.split()), refused.stdout[-3000:]
    assert leftovers(SUFFIX) == partial

    broke = teardown(tmp_path / "outputs", teardown_confirm=SUFFIX, bluegreen_lock_break=True)
    counts = ok(broke)
    assert "broke the lock of" in " ".join(broke.stdout.split())
    assert counts["failed"] == 0 and counts["changed"] > 0
    assert leftovers(SUFFIX) == {}
