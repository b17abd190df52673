"""The migrator zip: deterministic, self-contained, checked; and the migrator_package module."""

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

from ansible_collections.bluegreen.migration.plugins.module_utils import packaging
from tests.harness.aws import run_module
from tests.unit.migrator.conftest import CONTRACT_EXAMPLES, MIGRATIONS, MIGRATOR


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


def test_module_changed_then_unchanged_and_check_mode(tmp_path):
    migrations = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS, migrations)
    dest = tmp_path / "out" / "migrator.zip"
    args = {"dest": str(dest), "migrations_dir": str(migrations)}

    checked = run_module("migrator_package", args, check=True, diff=True)
    assert checked["changed"] is True and not dest.exists(), checked
    assert checked["diff"] == {"before": {}, "after": {"path": str(dest), "code_sha256": checked["code_sha256"]}}

    built = run_module("migrator_package", args)
    assert built["changed"] is True and dest.exists(), built
    assert built["code_sha256"] == checked["code_sha256"] == packaging.code_sha256(dest.read_bytes())
    assert built["size"] == dest.stat().st_size and built["handler"] == "index.handler"
    assert built["manifest"]["migrations"] == 4 and built["manifest"]["autocommit"] == ["V003__index_orders_customer.sql"]
    mtime = dest.stat().st_mtime_ns

    again = run_module("migrator_package", args)
    assert again["changed"] is False and again["code_sha256"] == built["code_sha256"]
    assert run_module("migrator_package", args, check=True)["changed"] is False
    assert dest.stat().st_mtime_ns == mtime

    # A new (contract) migration changes the zip; check mode reports it and leaves the file alone.
    shutil.copy(next(CONTRACT_EXAMPLES.glob("V*.sql")), migrations)
    pending = run_module("migrator_package", args, check=True)
    assert pending["changed"] is True and pending["manifest"]["contract"] == ["V005__drop_orders_legacy_note.sql"]
    assert packaging.code_sha256(dest.read_bytes()) == built["code_sha256"]

    wrong = run_module("migrator_package", dict(args, handler="lambda_function.lambda_handler"))
    assert wrong.get("failed") and "lambda_function.py is not in the package" in wrong["msg"]
    (migrations / "V006__broken.sql").write_text("ALTER TABLE orders ADD COLUM x int;\n")
    broken = run_module("migrator_package", args)
    assert broken.get("failed") and "V006__broken.sql: syntax error" in broken["msg"]
    assert packaging.code_sha256(dest.read_bytes()) == built["code_sha256"]
