"""A throwaway PostgreSQL server for tests and benchmarks.

Debian's server binaries (PG_BIN, default /usr/lib/postgresql/15/bin) run a fresh cluster in a
temporary directory on a free loopback port, with password (SCRAM) authentication. initdb
refuses to run as root, so as root the cluster belongs to the `postgres` user and every server
command goes through `runuser`.

Fixtures: `postgres` (session: the running server) and `pg_database` (a fresh, empty database
per test, dropped afterwards). Register with `pytest_plugins = ["tests.harness.postgres"]`.
"""

import os
import secrets
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

import pg8000.native
import pytest

from tests.harness.aws import free_port

PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
SERVER_USER = "postgres"


class PostgresServer:
    """start() / stop() a private cluster; `params` are pg8000 connection keyword arguments."""

    def __init__(self, port=None, user="bluegreen_admin", tls=None):
        # A port picked here may be bound by a parallel worker before the server binds it.
        self.port_is_ours_to_pick = port is None
        self.port = port or free_port()
        self.user = user
        # (certificate PEM, key PEM) of the server: TLS on, as Aurora has it.
        self.tls = tls
        self.password = secrets.token_urlsafe(18)
        self.base = None
        self.as_root = os.geteuid() == 0

    def _run(self, *args):
        cmd = [str(PG_BIN / args[0])] + [str(a) for a in args[1:]]
        if self.as_root:
            cmd = ["runuser", "-u", SERVER_USER, "--"] + cmd
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
        if proc.returncode != 0:
            log = Path(self.base, "server.log")
            tail = log.read_text()[-2000:] if log.exists() else ""
            raise RuntimeError(f"{args[0]} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}\n{tail}")
        return proc

    @property
    def data_dir(self):
        return Path(self.base, "data")

    def start(self):
        if not (PG_BIN / "initdb").exists():
            raise RuntimeError(f"PostgreSQL server binaries not found in {PG_BIN} (apt-get install postgresql)")
        self.base = tempfile.mkdtemp(prefix="bluegreen-pg-")
        pwfile = Path(self.base, "pwfile")
        pwfile.write_text(self.password + "\n")
        socket_dir = Path(self.base, "socket")
        socket_dir.mkdir()
        if self.as_root:
            shutil.chown(self.base, SERVER_USER)
            for path in (pwfile, socket_dir):
                shutil.chown(path, SERVER_USER)
        self._run("initdb", "-D", self.data_dir, "-U", self.user, f"--pwfile={pwfile}", "--auth=scram-sha-256",
                  "-E", "UTF8", "--locale=C.UTF-8", "--no-sync")
        pwfile.unlink()
        options = (f"-k {socket_dir} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off -c max_connections=60")
        if self.tls:
            for name, data in zip(("server.crt", "server.key"), self.tls, strict=True):
                path = self.data_dir / name
                path.write_bytes(data)
                path.chmod(0o600)
                if self.as_root:
                    shutil.chown(path, SERVER_USER)
            options += " -c ssl=on"
        log = Path(self.base, "server.log")
        for attempt in range(5):
            # Only this attempt's lines tell whether the port was the cause.
            log.unlink(missing_ok=True)
            try:
                self._run("pg_ctl", "-D", self.data_dir, "-o", f"-p {self.port} {options}", "-l", log, "-w", "-t", "60", "start")
                return self
            except RuntimeError as err:
                if not (self.port_is_ours_to_pick and "Address already in use" in str(err)) or attempt == 4:
                    raise
                self.port = free_port()
        raise AssertionError("unreachable")

    def stop(self):
        if self.base is None:
            return
        try:
            if (self.data_dir / "postmaster.pid").exists():
                self._run("pg_ctl", "-D", self.data_dir, "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.base, ignore_errors=True)
            self.base = None

    def params(self, database="postgres"):
        return {"host": "127.0.0.1", "port": self.port, "user": self.user, "password": self.password, "database": database}

    def secret(self, database="postgres"):
        """The same settings in the shape of an RDS-managed Secrets Manager secret."""
        return {"engine": "postgres", "host": "127.0.0.1", "port": self.port, "username": self.user,
                "password": self.password, "dbname": database}

    def connect(self, database="postgres"):
        return pg8000.native.Connection(**self.params(database))

    def create_database(self, name=None):
        name = name or f"test_{uuid.uuid4().hex[:12]}"
        conn = self.connect()
        try:
            conn.run(f'CREATE DATABASE "{name}"')
        finally:
            conn.close()
        return name

    def drop_database(self, name):
        conn = self.connect()
        try:
            conn.run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            conn.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


@pytest.fixture(scope="session")
def postgres():
    """One PostgreSQL server for the whole session."""
    server = PostgresServer().start()
    yield server
    server.stop()


@pytest.fixture
def pg_database(postgres):
    """A fresh empty database: yields its pg8000 connection parameters."""
    name = postgres.create_database()
    yield postgres.params(name)
    postgres.drop_database(name)
