"""The migrator zip: deterministic, self-contained, checked; and the migrator_package action
(the same bytes as the module it replaced, check and diff modes, clear failures)."""

import ast
import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import zipfile

import pytest
from ansible.errors import AnsibleActionFail

from ansible_collections.bluegreen.migration.plugins.action import migrator_package as action
from ansible_collections.bluegreen.migration.plugins.module_utils import packaging
from tests.harness.aws import run_playbook
from tests.unit.migrator.conftest import CONTRACT_EXAMPLES, MIGRATIONS, MIGRATOR

# The action's arguments as validate_argument_spec hands them over (defaults filled in).
ARGS = {"source_dir": None, "migrations_dir": None, "handler": "index.handler", "dependencies": ["pg8000"],
        "squawk_path": None, "ca_bundle": None}


def test_zip_is_deterministic_and_self_contained(tmp_path, pg_database):
    source = tmp_path / "src"
    shutil.copytree(MIGRATOR, source, ignore=shutil.ignore_patterns("__pycache__"))
    first, manifest, names = packaging.build_package(str(source), str(source / "migrations"))
    # Same inputs with other timestamps and modes, plus byte-code lying around: same bytes.
    for path in source.rglob("*"):
        os.utime(path, (1_700_000_000, 1_700_000_000))
    os.chmod(source / "index.py", 0o700)
    (source / "__pycache__").mkdir()
    (source / "__pycache__" / "index.cpython-312.pyc").write_bytes(b"stale")
    second, _manifest, _names = packaging.build_package(str(source), str(source / "migrations"))
    assert first == second
    assert packaging.code_sha256(first) == base64.b64encode(hashlib.sha256(first).digest()).decode()

    archive = tmp_path / "migrator.zip"
    archive.write_bytes(first)
    with zipfile.ZipFile(archive) as zf:
        infos = zf.infolist()
        listed = [i.filename for i in infos]
        assert listed == sorted(listed) == names
        assert all(i.date_time == (1980, 1, 1, 0, 0, 0) and (i.external_attr >> 16) == 0o100644 for i in infos)
        assert not [n for n in listed if "__pycache__" in n or n.endswith(".pyc") or n.endswith("RECORD")]
        for required in ("index.py", "migrator_engine.py", "manifest.json", "pg8000/native.py", "scramp/core.py",
                         "asn1crypto/core.py", "dateutil/parser/_parser.py", "six.py",
                         "migrations/V001__create_orders.sql", "migrations/V003__index_orders_customer.sql"):
            assert required in listed, required
        tree = ast.parse(zf.read("index.py"))
        assert "handler" in [n.name for n in tree.body if isinstance(n, ast.FunctionDef)]
        stored = json.loads(zf.read("manifest.json"))
        assert stored == manifest
        assert [m["phase"] for m in stored["migrations"]] == ["expand"] * 4
        zf.extractall(tmp_path / "unzipped")

    # The unzipped package runs with the standard library alone (-S: no site-packages), as in Lambda.
    env = {"MIGRATOR_DSN_JSON": json.dumps(pg_database | {"username": pg_database["user"], "dbname": pg_database["database"]}),
           "PATH": os.environ["PATH"]}
    probe = ("import json, index; print(json.dumps([index.handler({'action': 'apply', 'phase': 'expand'}, None), "
             "index.handler({'action': 'status'}, None)]))")
    proc = subprocess.run([sys.executable, "-S", "-c", probe], cwd=tmp_path / "unzipped", env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    applied, status = json.loads(proc.stdout.splitlines()[-1])
    assert applied["ok"] and applied["current_version"] == 4
    assert status["ok"] and status["pending"] == []
    assert pg_database["password"] not in proc.stdout + proc.stderr


def test_handler_check_needs_module_and_function(tmp_path):
    files = {"index.py": b"def handler(event, context):\n    return {}\n", "other.py": b"handler = None\n"}
    assert packaging.check_handler(files, "index.handler") == "index.py"
    for handler, message in (("lambda_function.lambda_handler", "lambda_function.py is not in the package"),
                             ("other.handler", "binds handler to a constant"),
                             ("index.missing", "defines no top-level missing"),
                             ("index", "is not <module>.<function>")):
        with pytest.raises(packaging.PackagingError, match=message):
            packaging.check_handler(files, handler)


def test_ensure_package_changed_then_unchanged_and_check_mode(tmp_path):
    migrations = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS, migrations)
    dest = tmp_path / "out" / "migrator.zip"
    args = dict(ARGS, dest=str(dest), migrations_dir=str(migrations))

    checked = action.package(args, check_mode=True, diff=True)
    assert checked["changed"] is True and not dest.exists(), checked
    assert checked["diff"] == {"before": {}, "after": {"path": str(dest), "code_sha256": checked["code_sha256"]}}

    built = action.package(args)
    assert built["changed"] is True and dest.exists(), built
    assert built["code_sha256"] == checked["code_sha256"] == packaging.code_sha256(dest.read_bytes())
    assert built["size"] == dest.stat().st_size and built["handler"] == "index.handler" and built["files"] > 4
    assert built["manifest"]["migrations"] == 4 and built["manifest"]["autocommit"] == ["V003__index_orders_customer.sql"]
    assert built["msg"] == f"index.handler found in index.py; 4 migrations (expand 4, contract 0), CodeSha256 {built['code_sha256']}"
    assert "before" not in built and "diff" not in built
    mtime = dest.stat().st_mtime_ns

    again = action.package(args, diff=True)
    assert again["changed"] is False and again["code_sha256"] == built["code_sha256"]
    assert again["diff"]["before"] == again["diff"]["after"]
    assert action.package(args, check_mode=True)["changed"] is False
    assert dest.stat().st_mtime_ns == mtime

    # A new (contract) migration changes the zip; check mode reports it and leaves the file alone.
    shutil.copy(next(CONTRACT_EXAMPLES.glob("V*.sql")), migrations)
    pending = action.package(args, check_mode=True)
    assert pending["changed"] is True and pending["manifest"]["contract"] == ["V005__drop_orders_legacy_note.sql"]
    assert "contract 1" in pending["msg"]
    assert packaging.code_sha256(dest.read_bytes()) == built["code_sha256"]

    with pytest.raises(AnsibleActionFail, match="lambda_function.py is not in the package"):
        action.package(dict(args, handler="lambda_function.lambda_handler"))
    (migrations / "V006__broken.sql").write_text("ALTER TABLE orders ADD COLUM x int;\n")
    with pytest.raises(AnsibleActionFail, match="V006__broken.sql: syntax error"):
        action.package(args)
    assert packaging.code_sha256(dest.read_bytes()) == built["code_sha256"]


def test_missing_squawk_or_unwritable_dest_fail_clearly(tmp_path):
    args = dict(ARGS, dest=str(tmp_path / "migrator.zip"), squawk_path=str(tmp_path / "no-squawk"))
    with pytest.raises(AnsibleActionFail, match="squawk not found"):
        action.package(args)
    (tmp_path / "file").write_text("")
    with pytest.raises(AnsibleActionFail, match="cannot write .*/file/migrator.zip"):
        action.package(dict(ARGS, dest=str(tmp_path / "file" / "migrator.zip")))


# CodeSha256 of the zip of GOLDEN_FILES, as built by the migrator_package module before it became
# an action plugin: the function's CodeSha256 compare (a re-run changes nothing) needs the same
# inputs to give the same bytes whatever runs the build. No dependency and a stand-in squawk keep
# it independent of the installed pg8000 and squawk versions.
GOLDEN_SHA256 = "/9zTbSAFpTV8uXsx1AaItRKN5YiUGgDrEp6E8R4OFPg="
GOLDEN_FILES = {
    "src/index.py": "import helper\n\n\ndef handler(event, context):\n    return helper.answer(event)\n",
    "src/helper.py": 'def answer(event):\n    return {"ok": True, "event": event}\n',
    "ca.pem": "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n",
    "squawk": '#!/bin/sh\necho "squawk 0.0.0-test"\n',
}


def test_same_inputs_same_bytes_as_before(tmp_path):
    for name, text in GOLDEN_FILES.items():
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text(text)
    os.chmod(tmp_path / "squawk", 0o700)
    (tmp_path / "migrations").mkdir()
    args = dict(ARGS, dest=str(tmp_path / "out.zip"), source_dir=str(tmp_path / "src"), migrations_dir=str(tmp_path / "migrations"),
                dependencies=[], squawk_path=str(tmp_path / "squawk"), ca_bundle=str(tmp_path / "ca.pem"))
    built = action.package(args)
    assert built["code_sha256"] == GOLDEN_SHA256 == packaging.code_sha256((tmp_path / "out.zip").read_bytes())
    assert built["files"] == 4 and built["manifest"]["linter_version"] == "0.0.0-test"


PLAY = """
- name: Build the migrator zip
  hosts: localhost
  gather_facts: false
  connection: local
  tasks:
    - name: Build it
      bluegreen.migration.migrator_package:
        dest: "{{ dest }}"
        handler: "{{ handler }}"
      register: package
    - name: Keep the result
      ansible.builtin.copy:
        content: "{{ package | ansible.builtin.to_json }}"
        dest: "{{ result_file }}"
        mode: "0644"
      check_mode: false
"""


def play(tmp_path, handler, *args):
    (tmp_path / "play.yml").write_text(PLAY)
    extra = {"dest": str(tmp_path / "out" / "migrator.zip"), "handler": handler, "result_file": str(tmp_path / "result.json")}
    return run_playbook(tmp_path / "play.yml", inventory="localhost,", extra_vars=extra, args=args)


def test_the_action_in_a_play_check_mode_then_build(tmp_path):
    """Through ansible-playbook, with the role's defaults (the collection's migrator, pg8000):
    check mode writes nothing and shows the CodeSha256 diff; the zip written is the one
    packaging.build_package makes of the same inputs."""
    proc = play(tmp_path, "index.handler", "--check", "--diff")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    checked = json.loads((tmp_path / "result.json").read_text())
    assert checked["changed"] is True and not (tmp_path / "out" / "migrator.zip").exists()
    assert f"+    code_sha256: {checked['code_sha256']}" in proc.stdout

    proc = play(tmp_path, "index.handler")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    result = json.loads((tmp_path / "result.json").read_text())
    data, manifest, names = packaging.build_package(str(MIGRATOR), str(MIGRATIONS))
    assert (tmp_path / "out" / "migrator.zip").read_bytes() == data
    assert result["changed"] is True and result["code_sha256"] == checked["code_sha256"] == packaging.code_sha256(data)
    assert result["files"] == len(names) and result["size"] == len(data)
    assert result["manifest"] == packaging.manifest_summary(manifest) and result["msg"].startswith("index.handler found in index.py;")


def test_the_action_in_a_play_fails_on_a_missing_handler(tmp_path):
    proc = play(tmp_path, "index.missing")
    assert proc.returncode != 0
    assert "handler index.missing: index.py defines no top-level missing" in proc.stdout
    assert not (tmp_path / "out" / "migrator.zip").exists()
