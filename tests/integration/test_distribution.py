"""Distribution: the tarball `ansible-galaxy collection build` makes installs into an empty
collections path and deploys as `ansible-playbook bluegreen.migration.site` from there, with
nothing of the dev tree on the way (no ansible.cfg, no build/collections); and
`ansible-builder create` turns execution-environment.yml into a build context that carries the
same tarball, amazon.aws and the pinned Python requirements."""

import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import jsonschema
import pytest
import yaml

from tests.harness.aws import ROOT, recap
from tests.harness.environment import register_healthy_targets

BIN = Path(sys.executable).parent
GALAXY = yaml.safe_load((ROOT / "galaxy.yml").read_text())
TARBALL = f"{GALAXY['namespace']}-{GALAXY['name']}-{GALAXY['version']}.tar.gz"
SCHEMA = json.loads((ROOT / "tests" / "schemas" / "outputs.schema.json").read_text())


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


@pytest.mark.slow(seconds=100)
def test_installed_tarball_deploys_as_bluegreen_migration_site(aws, tarball, tmp_path):
    collections = tmp_path / "collections"
    env = clean_env(tmp_path, collections)
    # --no-deps: amazon.aws comes with the ansible package; resolving it would ask Galaxy.
    run([BIN / "ansible-galaxy", "collection", "install", "--no-deps", "-p", collections, tarball], cwd=tmp_path, env=env)
    installed = collections / "ansible_collections" / "bluegreen" / "migration"
    assert (installed / "playbooks" / "site.yml").is_file()

    # The role resolves to the installed copy, not the dev tree.
    doc = run([BIN / "ansible-doc", "-t", "role", "bluegreen.migration.network"], cwd=tmp_path, env=env).stdout
    assert f"({installed})" in doc and str(ROOT) not in doc

    inventory = tmp_path / "inventory"
    shutil.copytree(ROOT / "inventories" / "local", inventory)
    # A user's shell in the project directory: the outputs go to ./outputs, never inside the
    # installed collection, for site.yml and for the rollout after it alike.
    env["PWD"] = str(tmp_path)
    outputs = tmp_path / "outputs"
    started = time.monotonic()
    proc = subprocess.run(
        [BIN / "ansible-playbook", "bluegreen.migration.site", "-i", inventory],
        cwd=tmp_path, env=env, capture_output=True, text=True, check=False, timeout=1200,
    )
    print(f"deploy from the installed collection: {time.monotonic() - started:.0f}s")
    assert proc.returncode == 0, proc.stdout[-8000:] + proc.stderr[-3000:]
    counts = recap(proc.stdout)["local"]
    assert counts["failed"] == 0 and counts["changed"] > 0
    assert "bluegreen.migration.migrator_lambda : " in proc.stdout
    document = json.loads((outputs / "local.json").read_text())
    jsonschema.validate(document, SCHEMA)
    assert document["vpc_id"].startswith("vpc-") and document["migrator_function_name"]
    assert document["live_color"] == "blue"
    assert not (installed / "outputs").exists()
    # The deploy really happened in the emulated account.
    assert {"CreateVpc", "CreateDBCluster", "CreateLoadBalancer", "CreateService"} <= {r["action"] for r in aws.mutating_requests()}

    # A rollout from the installed collection refreshes that same file (expand, then validate
    # at each step: the emulated migrator answers from a queue).
    register_healthy_targets("local")
    aws.queue_lambda_answers({"ok": True, "action": "apply", "status": "up_to_date", "applied": [], "current_version": 3}, 4)
    rollout = {"rollout_image": "nginx:1.27", "rollout_bake_seconds": 0, "rollout_drain_seconds": 0}
    proc = subprocess.run(
        [BIN / "ansible-playbook", "bluegreen.migration.rollout", "-i", inventory, "-e", json.dumps(rollout)],
        cwd=tmp_path, env=env, capture_output=True, text=True, check=False, timeout=1200,
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
