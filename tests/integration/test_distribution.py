"""Distribution: the tarball `ansible-galaxy collection build` makes installs into an empty
collections path and deploys as `ansible-playbook bluegreen.migration.site` from there, with
nothing of the dev tree on the way (no ansible.cfg, no build/collections); `ansible-builder
create` turns execution-environment.yml into a build context that carries the same tarball,
amazon.aws and the pinned Python requirements; and the same environment is deployed again and
read through ansible-runner, the engine AWX runs every job with.

One environment for the module (a deploy is the most expensive step of each test): the
installed collection deploys it on a fresh account and rolls it out; the AWX jobs then run
on it (their deploy is a re-run, which writes the report into the job's own project)."""

import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import ansible_runner
import jsonschema
import pytest
import yaml

from tests.harness.aws import ROOT, client_env, recap
from tests.harness.environment import register_healthy_targets

BIN = Path(sys.executable).parent
GALAXY = yaml.safe_load((ROOT / "galaxy.yml").read_text())
TARBALL = f"{GALAXY['namespace']}-{GALAXY['name']}-{GALAXY['version']}.tar.gz"
SCHEMA = json.loads((ROOT / "tests" / "schemas" / "outputs.schema.json").read_text())
SUFFIX = "local"


def pins(path):
    """name -> 'name==version' of a pinned requirements file (following -r includes)."""
    found = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("-r "):
            found |= pins(path.parent / line[3:].strip())
        elif "==" in line:
            found[re.split(r"[\[=]", line, maxsplit=1)[0].lower()] = line
    return found


def run(cmd, cwd, env=None, timeout=600):
    proc = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, check=False, timeout=timeout)
    assert proc.returncode == 0, f"{' '.join(map(str, cmd))}\n{proc.stdout[-6000:]}\n{proc.stderr[-3000:]}"
    return proc


@pytest.fixture(scope="module")
def tarball(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    run([BIN / "ansible-galaxy", "collection", "build", "--output-path", out, ROOT], cwd=ROOT)
    path = out / TARBALL
    assert path.is_file(), sorted(p.name for p in out.iterdir())
    return path


def clean_env(tmp_path, collections):
    """The environment of a user with only the installed collection: an empty ansible.cfg, the
    collections path given explicitly, amazon.aws from the ansible package of the venv."""
    empty_cfg = tmp_path / "ansible.cfg"
    empty_cfg.write_text("")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env.update(
        ANSIBLE_CONFIG=str(empty_cfg),
        ANSIBLE_COLLECTIONS_PATH=str(collections),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",
        PATH=os.pathsep.join([str(BIN), env.get("PATH", "")]),
    )
    return env


def test_tarball_contents(tarball):
    with tarfile.open(tarball) as tar:
        names = set(tar.getnames())
        manifest = json.load(tar.extractfile("MANIFEST.json"))
    assert manifest["collection_info"]["version"] == GALAXY["version"]
    assert manifest["collection_info"]["dependencies"] == GALAXY["dependencies"]
    needed = {"playbooks/site.yml", "playbooks/preflight.yml", "playbooks/teardown.yml", "meta/runtime.yml", "execution-environment.yml", "awx/configure.yml"}
    assert needed <= names, needed - names
    assert {f"roles/{r}/meta/argument_specs.yml" for r in ("network", "aurora", "ecs_service", "migrator_lambda", "outputs")} <= names
    leaked = sorted(n for n in names if re.match(r"(\.venv|\.git|\.run|\.ansible|build|outputs|tests/output)(/|$)", n) or "__pycache__" in n)
    assert leaked == []


def small_inventory(path):
    """inventories/local in a smaller shape (two AZs, no Aurora reader): every kind of resource,
    fewer of each; what is checked here (packaging, AWX's engine) does not depend on the sizes."""
    shutil.copytree(ROOT / "inventories" / "local", path)
    group_vars = path / "group_vars" / "bluegreen_envs.yml"
    text = group_vars.read_text().replace("network_az_count: 3", "network_az_count: 2").replace("aurora_reader_count: 2", "aurora_reader_count: 0")
    assert "network_az_count: 2" in text and "aurora_reader_count: 0" in text
    group_vars.write_text(text)
    return path


@pytest.fixture(scope="module")
def deployed(emulator, tarball, tmp_path_factory):
    """A fresh account, the tarball installed into an empty collections path and the environment
    deployed from there as bluegreen.migration.site, in a user's shell in the project directory
    (the outputs go to ./outputs, never inside the installed collection)."""
    emulator.reset()
    tmp_path = tmp_path_factory.mktemp("installed")
    collections = tmp_path / "collections"
    env = clean_env(tmp_path, collections)
    # --no-deps: amazon.aws comes with the ansible package; resolving it would ask Galaxy.
    run([BIN / "ansible-galaxy", "collection", "install", "--no-deps", "-p", collections, tarball], cwd=tmp_path, env=env)
    installed = collections / "ansible_collections" / "bluegreen" / "migration"
    inventory = small_inventory(tmp_path / "inventory")
    env["PWD"] = str(tmp_path)
    started = time.monotonic()
    proc = subprocess.run(
        [BIN / "ansible-playbook", "bluegreen.migration.site", "-i", inventory],
        cwd=tmp_path, env=env, capture_output=True, text=True, check=False, timeout=1200,
    )
    print(f"deploy from the installed collection: {time.monotonic() - started:.0f}s")
    return {"proc": proc, "env": env, "cwd": tmp_path, "installed": installed, "inventory": inventory, "outputs": tmp_path / "outputs",
            "emulator": emulator, "deploy_actions": {r["action"] for r in emulator.mutating_requests()}}


@pytest.mark.slow(seconds=140)
def test_installed_tarball_deploys_as_bluegreen_migration_site(deployed):
    installed, env, outputs, proc = deployed["installed"], deployed["env"], deployed["outputs"], deployed["proc"]
    assert (installed / "playbooks" / "site.yml").is_file()

    # The role resolves to the installed copy, not the dev tree.
    doc = run([BIN / "ansible-doc", "-t", "role", "bluegreen.migration.network"], cwd=deployed["cwd"], env=env).stdout
    assert f"({installed})" in doc and str(ROOT) not in doc

    assert proc.returncode == 0, proc.stdout[-8000:] + proc.stderr[-3000:]
    counts = recap(proc.stdout)[SUFFIX]
    assert counts["failed"] == 0 and counts["changed"] > 0
    assert "bluegreen.migration.migrator_lambda : " in proc.stdout
    document = json.loads((outputs / "local.json").read_text())
    jsonschema.validate(document, SCHEMA)
    assert document["vpc_id"].startswith("vpc-") and document["migrator_function_name"]
    assert document["live_color"] == "blue"
    assert not (installed / "outputs").exists()
    # The deploy really happened in the emulated account.
    assert {"CreateVpc", "CreateDBCluster", "CreateLoadBalancer", "CreateService"} <= deployed["deploy_actions"]

    # A rollout from the installed collection refreshes that same file (expand, then validate
    # at each step: the emulated migrator answers from a queue).
    register_healthy_targets("local")
    deployed["emulator"].queue_lambda_answers({"ok": True, "action": "apply", "status": "up_to_date", "applied": [], "current_version": 3}, 4)
    rollout = {"rollout_image": "nginx:1.27", "rollout_bake_seconds": 0, "rollout_drain_seconds": 0}
    proc = subprocess.run(
        [BIN / "ansible-playbook", "bluegreen.migration.rollout", "-i", deployed["inventory"], "-e", json.dumps(rollout)],
        cwd=deployed["cwd"], env=env, capture_output=True, text=True, check=False, timeout=1200,
    )
    assert proc.returncode == 0, proc.stdout[-8000:] + proc.stderr[-3000:]
    assert json.loads((outputs / "local.json").read_text())["live_color"] == "green"
    live_rows = [line for line in (outputs / "local.md").read_text().splitlines() if line.startswith("| live color |")]
    assert len(live_rows) == 1 and "green" in live_rows[0], live_rows
    assert not (installed / "outputs").exists()


def test_ansible_builder_create_lists_our_requirements(tarball, tmp_path):
    # execution-environment.yml takes the tarball from build/ee/ next to it: lay that out in tmp.
    ee_dir = tmp_path / "ee"
    (ee_dir / "build" / "ee").mkdir(parents=True)
    shutil.copy(ROOT / "execution-environment.yml", ee_dir)
    shutil.copy(tarball, ee_dir / "build" / "ee")
    context = tmp_path / "context"
    run([BIN / "ansible-builder", "create", "--file", ee_dir / "execution-environment.yml", "--context", context], cwd=tmp_path)

    build = context / "_build"
    pinned = pins(ROOT / "requirements.txt") | {"squawk-cli": pins(ROOT / "requirements-dev.txt")["squawk-cli"]}
    python = {line.strip() for line in (build / "requirements.txt").read_text().splitlines() if line.strip()}
    assert {pinned[p] for p in ("boto3", "botocore", "pg8000", "squawk-cli")} <= python

    galaxy = yaml.safe_load((build / "requirements.yml").read_text())["collections"]
    by_name = {c["name"]: c for c in galaxy}
    assert by_name["amazon.aws"]["version"] == GALAXY["dependencies"]["amazon.aws"]
    ours = [c for c in galaxy if c.get("type") == "file"]
    assert [c["name"] for c in ours] == [f"collections/{TARBALL}"], "the EE's tarball entry must carry galaxy.yml's version"
    # ansible-galaxy runs in /build, where _build/ lands: the file entry resolves to the copied tarball.
    assert (build / ours[0]["name"]).read_bytes() == tarball.read_bytes()

    containerfile = next(p for p in (context / "Containerfile", context / "Dockerfile") if p.is_file()).read_text()
    refs = re.search(r'ARG ANSIBLE_INSTALL_REFS="([^"]*)"', containerfile).group(1).split()
    assert pinned["ansible-core"] in refs and any(r.startswith("ansible-runner") for r in refs)
    assert "ansible-galaxy collection install" in containerfile
    assert "git" in (build / "bindep.txt").read_text()


# What a project checkout would not carry (or AWX would not need): local state and caches.
NOT_IN_PROJECT = {".git", ".venv", ".ansible", ".run", "build", "outputs", "tests", "molecule", "bench", ".ci", ".pytest_cache", ".ruff_cache"}
CACHES = shutil.ignore_patterns("__pycache__", "*.tar.gz")


def not_in_project(directory, names):
    top = set(names) & NOT_IN_PROJECT if Path(directory) == ROOT else set()
    return top | CACHES(directory, names)


def private_data_dir(base, port, inventory):
    """The directory tree AWX hands to ansible-runner for one job."""
    pdd = base / "pdd"
    project = pdd / "project"
    shutil.copytree(ROOT, project, ignore=not_in_project)
    # The project's collections/ on the collections path: bluegreen.migration is the project itself.
    namespace = project / "collections" / "ansible_collections" / "bluegreen"
    namespace.mkdir(parents=True)
    (namespace / "migration").symlink_to(Path("..", "..", ".."), target_is_directory=True)
    shutil.copytree(inventory, pdd / "inventory")
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


@pytest.mark.slow(seconds=60)
def test_deploy_and_status_through_ansible_runner(deployed, tmp_path):
    """Deploy and status as AWX runs them: ansible-runner in a private data dir laid out as AWX
    lays it out: project/ (a copy of the repository, with the collection on
    ANSIBLE_COLLECTIONS_PATH from the project's own collections/ directory, as AWX does after a
    project sync), inventory/ (the environment's inventory), env/extravars and env/envvars (the
    AWS credential's variables, here pointing at the emulator). Checks what AWX reads back: rc,
    status, the recap counts, and the set_stats data (bluegreen_outputs.<suffix>) that a
    workflow hands to its next node."""
    pdd = private_data_dir(tmp_path, deployed["emulator"].port, deployed["inventory"])
    # The environment is deployed (the test above): AWS has nothing to change, and the job's
    # changes are the report written into its own project (outputs/, new in every job).
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
