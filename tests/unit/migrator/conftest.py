"""Fixtures of the migrator tests: a real PostgreSQL database per test and the Lambda handler
loaded in-process from migrator/index.py, with its manifest built by squawk as packaging does."""

import importlib.util
import json
import shutil
import sys
import time

import pytest

from ansible_collections.bluegreen.migration.plugins.module_utils import packaging
from tests.harness.aws import ROOT

MIGRATOR = ROOT / "migrator"
MIGRATIONS = MIGRATOR / "migrations"
CONTRACT_EXAMPLES = MIGRATOR / "examples" / "contract"


def load_index():
    """migrator/index.py as a module (its sibling migrator_engine importable, as in the zip)."""
    if str(MIGRATOR) not in sys.path:
        sys.path.insert(0, str(MIGRATOR))
    spec = importlib.util.spec_from_file_location("bluegreen_migrator_index", MIGRATOR / "index.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Migrator:
    """The handler wired to one test database and one migrations directory."""

    def __init__(self, tmp_path, params, monkeypatch):
        self.dir = tmp_path / "migrations"
        self.dir.mkdir()
        self.manifest = tmp_path / "manifest.json"
        self.params = params
        self.index = load_index()
        monkeypatch.delenv("DB_SECRET_ARN", raising=False)
        monkeypatch.setenv("MIGRATOR_DSN_JSON", json.dumps({
            "host": params["host"], "port": params["port"], "username": params["user"],
            "password": params["password"], "dbname": params["database"]}))
        monkeypatch.setenv("MIGRATOR_MIGRATIONS_DIR", str(self.dir))
        monkeypatch.setenv("MIGRATOR_MANIFEST", str(self.manifest))
        monkeypatch.setenv("MIGRATOR_RETRY_DELAY_MS", "100")

    def add(self, *sources):
        """Copy migration files (paths) into the migrations dir and rebuild the manifest."""
        for source in sources:
            shutil.copy(source, self.dir / source.name)
        return self.rebuild()

    def write(self, name, sql):
        (self.dir / name).write_text(sql)
        return self.rebuild()

    def rebuild(self):
        return packaging.write_manifest(str(self.dir), str(self.manifest))

    def __call__(self, **event):
        result = self.index.handler(event, None)
        # Every answer must survive the trip through Lambda's JSON serialisation.
        text = json.dumps(result)
        assert self.params["password"] not in text
        return result

    def connect(self):
        import pg8000.native

        return pg8000.native.Connection(**self.params)

    def apply_while_locked(self, table, mode):
        """An expand apply while another session holds `mode` on `table`: (its answer, seconds taken)."""
        blocker = self.connect()
        try:
            blocker.run("BEGIN")
            blocker.run(f"LOCK TABLE {table} IN {mode} MODE")
            started = time.monotonic()
            result = self(action="apply", phase="expand")
            return result, time.monotonic() - started
        finally:
            blocker.run("ROLLBACK")
            blocker.close()

    def query(self, sql, **params):
        conn = self.connect()
        try:
            return conn.run(sql, **params)
        finally:
            conn.close()


@pytest.fixture
def migrator(tmp_path, pg_database, monkeypatch):  # noqa: F811  (pg_database is the imported fixture)
    return Migrator(tmp_path, pg_database, monkeypatch)
