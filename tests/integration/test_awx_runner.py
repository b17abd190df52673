"""Deploy and status through ansible-runner, the engine AWX runs every job with, in a private
data dir laid out as AWX lays it out: project/ (a copy of the repository, with the collection on
ANSIBLE_COLLECTIONS_PATH from the project's own collections/ directory, as AWX does after a
project sync), inventory/ (the local inventory), env/extravars and env/envvars (the AWS
credential's variables, here pointing at the emulator). Checks what AWX reads back: rc, status,
the recap counts, and the set_stats data (bluegreen_outputs.<suffix>) that a workflow hands to
its next node."""

import json
import os
import shutil
import sys
import time
from pathlib import Path

import ansible_runner
import jsonschema
import pytest
import yaml

from tests.harness.aws import ROOT, client_env

pytestmark = pytest.mark.slow(seconds=110)

SUFFIX = "local"
SCHEMA = json.loads((ROOT / "tests" / "schemas" / "outputs.schema.json").read_text())
# What a project checkout would not carry (or AWX would not need): local state and caches.
NOT_IN_PROJECT = {".git", ".venv", ".ansible", ".run", "build", "outputs", "tests", "molecule", "bench", ".ci", ".pytest_cache", ".ruff_cache"}
CACHES = shutil.ignore_patterns("__pycache__", "*.tar.gz")


def not_in_project(directory, names):
    top = set(names) & NOT_IN_PROJECT if Path(directory) == ROOT else set()
    return top | CACHES(directory, names)


def private_data_dir(base, port):
    """The directory tree AWX hands to ansible-runner for one job."""
    pdd = base / "pdd"
    project = pdd / "project"
    shutil.copytree(ROOT, project, ignore=not_in_project)
    # The project's collections/ on the collections path: bluegreen.migration is the project itself.
    namespace = project / "collections" / "ansible_collections" / "bluegreen"
    namespace.mkdir(parents=True)
    (namespace / "migration").symlink_to(Path("..", "..", ".."), target_is_directory=True)
    shutil.copytree(ROOT / "inventories" / "local", pdd / "inventory")
    env = pdd / "env"
    env.mkdir()
    envvars = dict(client_env(port))
    envvars.update(
        # The controller's ansible-playbook (an EE has it on PATH).
        PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
        ANSIBLE_CONFIG=str(project / "ansible.cfg"),
        ANSIBLE_COLLECTIONS_PATH=str(project / "collections"),
        ANSIBLE_FORCE_COLOR="0",
        ANSIBLE_NOCOLOR="1",
    )
    (env / "envvars").write_text(yaml.safe_dump(envvars))
    return pdd


def run_job(pdd, playbook, ident, extravars):
    (pdd / "env" / "extravars").write_text(yaml.safe_dump(extravars))
    started = time.monotonic()
    result = ansible_runner.run(private_data_dir=str(pdd), playbook=playbook, ident=ident, quiet=True)
    print(f"{ident} ({playbook}): {result.status} rc={result.rc} in {time.monotonic() - started:.0f}s")
    return result


def stats_event(result):
    """The playbook_on_stats event, where ansible-runner keeps the set_stats data (artifact_data)."""
    events = [e for e in result.events if e.get("event") == "playbook_on_stats"]
    assert len(events) == 1, [e.get("event") for e in result.events][-20:]
    return events[0]["event_data"]


def test_deploy_and_status_through_ansible_runner(aws, tmp_path):
    pdd = private_data_dir(tmp_path, aws.port)
    deploy = run_job(pdd, "site.yml", "deploy", {})
    stdout = deploy.stdout.read()
    assert deploy.rc == 0 and deploy.status == "successful", stdout[-8000:]
    artifacts = pdd / "artifacts" / "deploy"
    assert (artifacts / "rc").read_text().strip() == "0"
    assert (artifacts / "status").read_text().strip() == "successful"
    assert deploy.stats["failures"] == {} and deploy.stats["dark"] == {}
    assert SUFFIX in deploy.stats["ok"] and deploy.stats["changed"].get(SUFFIX, 0) > 0

    # set_stats, as AWX reads it: the stats event's artifact_data, also stored on disk in the
    # job event files of the artifacts directory.
    data = stats_event(deploy)["artifact_data"]
    assert list(data) == ["bluegreen_outputs"] and list(data["bluegreen_outputs"]) == [SUFFIX]
    published = data["bluegreen_outputs"][SUFFIX]
    jsonschema.validate(published, SCHEMA)
    assert published["environment_suffix"] == SUFFIX and published["region"] == "us-east-1"
    assert published["vpc_id"].startswith("vpc-") and published["live_color"] in ("blue", "green")
    assert published["alb_dns_name"] and published["aurora_writer_endpoint"] and published["migrator_function_name"]
    on_disk = [json.loads(p.read_text()) for p in (artifacts / "job_events").glob("*.json")]
    assert [e["event_data"]["artifact_data"] for e in on_disk if e.get("event") == "playbook_on_stats"] == [data]
    # The outputs role wrote into the project of the job (AWX throws it away with the job), and
    # the file says what set_stats published.
    written = json.loads((pdd / "project" / "outputs" / f"{SUFFIX}.json").read_text())
    assert written == published

    # The next workflow node: AWX passes the artifacts on as extra vars.
    status_playbook = "playbooks/status.yml" if (pdd / "project" / "playbooks" / "status.yml").is_file() else "playbooks/preflight.yml"
    status = run_job(pdd, status_playbook, "status", data)
    assert status.rc == 0 and status.status == "successful", status.stdout.read()[-8000:]
    assert status.stats["failures"] == {} and SUFFIX in status.stats["ok"]
    assert status.stats["changed"].get(SUFFIX, 0) == 0, f"{status_playbook} changed something"
    assert (pdd / "artifacts" / "status" / "rc").read_text().strip() == "0"
