"""Versioned SQL migrations for PostgreSQL with expand/contract phases.

Runs inside the migrator Lambda with the standard library and pg8000 only. What each
statement is (its kind, its phase, whether it can run inside a transaction) was decided at
package time by squawk and is read from manifest.json; nothing here parses SQL.
"""

import hashlib
import json
import os
import re
import time

from pg8000.exceptions import DatabaseError, InterfaceError

# File names only (V001__create_orders.sql); SQL text is never matched with patterns.
FILENAME = re.compile(r"^V(\d+)__([A-Za-z0-9_]+)\.sql$")
IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}(\.[a-z_][a-z0-9_]{0,62})?$")
PHASES = ("expand", "contract")
MANIFEST_FORMAT = 1
# lock_not_available (lock_timeout expired) and deadlock_detected: worth another attempt.
RETRYABLE_SQLSTATES = ("55P03", "40P01")
# query_canceled: the engine's statement_timeout ran out (or someone cancelled the statement).
CANCELED_SQLSTATE = "57014"
INSUFFICIENT_PRIVILEGE = "42501"
# A relation and, when partitioned, its partitions (pg_partition_tree lists none for a plain one).
RELATION_AND_PARTITIONS = "SELECT to_regclass(:name) AS relid UNION SELECT relid FROM pg_partition_tree(to_regclass(:name))"
# (table, index name) of every index of the tables `owned` lists (a query of relid), and of
# their TOAST tables.
INDEXES_WITH_TOAST = ("WITH owned AS ({owned}),"
                      " tables AS (SELECT relid FROM owned UNION SELECT c.reltoastrelid FROM owned o JOIN pg_class c"
                      " ON c.oid = o.relid WHERE c.reltoastrelid <> 0)"
                      " SELECT i.indrelid, c.relname FROM tables t JOIN pg_index i ON i.indrelid = t.relid"
                      " JOIN pg_class c ON c.oid = i.indexrelid")
DEFAULT_HISTORY_TABLE = "bluegreen_schema_history"


class MigrationError(Exception):
    """A migration cannot be planned or applied; the message is meant for the operator."""


def sqlstate(error):
    """The SQLSTATE of a pg8000 DatabaseError, or None."""
    details = error.args[0] if error.args else None
    return details.get("C") if isinstance(details, dict) else None


def error_text(error):
    """A one-line, operator-friendly text for a pg8000 error."""
    details = error.args[0] if error.args else None
    if isinstance(details, dict):
        text = details.get("M", "")
        if details.get("C"):
            text = f"{text} (SQLSTATE {details['C']})"
        if details.get("D"):
            text = f"{text}: {details['D']}"
        return text
    return str(error)


def quote_ident(name):
    return '"' + name.replace('"', '""') + '"'


def file_checksum(data):
    return hashlib.sha256(data).hexdigest()


class Migration:
    """One versioned SQL file together with what the manifest says about it."""

    def __init__(self, path, entry, data):
        self.path = path
        self.file = os.path.basename(path)
        self.version = int(entry["version"])
        self.name = entry["name"]
        self.checksum = entry["checksum"]
        self.phase = entry["phase"]
        self.transactional = bool(entry["transactional"])
        self.statements = []
        for number, stmt in enumerate(entry["statements"], start=1):
            sql = data[stmt["start"]:stmt["end"]].decode("utf-8")
            self.statements.append(dict(stmt, number=number, sql=sql))

    def describe(self):
        return {
            "version": self.version,
            "name": self.name,
            "file": self.file,
            "phase": self.phase,
            "transactional": self.transactional,
            "statements": len(self.statements),
        }

    def first_contract_statement(self):
        for stmt in self.statements:
            if stmt["phase"] == "contract":
                return stmt
        return None

    def contract_reason(self):
        """Why this migration is a contract migration: the statement and the rule."""
        stmt = self.first_contract_statement()
        if stmt is None:
            return None
        reasons = stmt.get("reasons") or [{"rule": "unknown", "message": ""}]
        first = reasons[0]
        sql = " ".join(stmt["sql"].split())
        if len(sql) > 200:
            sql = sql[:197] + "..."
        return {
            "file": self.file,
            "statement": stmt["number"],
            "line": stmt.get("line"),
            "sql": sql,
            "rule": first["rule"],
            "rule_message": first.get("message", ""),
            "rules": [r["rule"] for r in reasons],
        }


def load_manifest(path):
    try:
        with open(path, "rb") as handle:
            manifest = json.loads(handle.read().decode("utf-8"))
    except FileNotFoundError:
        raise MigrationError(f"manifest not found: {path} (build the package with bluegreen.migration.migrator_package)") from None
    if manifest.get("format") != MANIFEST_FORMAT:
        raise MigrationError(f"unsupported manifest format {manifest.get('format')!r} in {path}")
    return manifest


def load_migrations(migrations_dir, manifest):
    """The migrations in the directory, ordered by version, checked against the manifest."""
    entries = {m["file"]: m for m in manifest.get("migrations", [])}
    found = {}
    for fname in sorted(os.listdir(migrations_dir)):
        if not fname.endswith(".sql"):
            continue
        match = FILENAME.match(fname)
        if not match:
            raise MigrationError(f"{fname}: migration files are named V<number>__<name>.sql")
        version = int(match.group(1))
        if version in found:
            raise MigrationError(f"{fname}: version {version} is also used by {found[version].file}")
        path = os.path.join(migrations_dir, fname)
        with open(path, "rb") as handle:
            data = handle.read()
        entry = entries.get(fname)
        if entry is None:
            raise MigrationError(f"{fname} is not in manifest.json; rebuild the package")
        if entry["checksum"] != file_checksum(data):
            raise MigrationError(f"{fname} differs from the copy manifest.json was built from; rebuild the package")
        found[version] = Migration(path, entry, data)
    missing = sorted(set(entries) - {m.file for m in found.values()})
    if missing:
        raise MigrationError(f"manifest.json lists files that are missing: {', '.join(missing)}")
    return [found[v] for v in sorted(found)]


def progress_table_name(history_table):
    """The table beside the history that marks the index statements a run started (at most 63
    characters, as PostgreSQL would cut a longer name)."""
    name = f"{history_table}_progress"
    if len(name) <= 63:
        return name
    return f"{history_table[:45]}_progress_{hashlib.sha256(history_table.encode()).hexdigest()[:8]}"


def leftover_of(copy, stem, index):
    """Whether the copy `copy` (stem: its name without _ccnew/_ccold[N]) is one a concurrent
    rebuild of `index` made. PostgreSQL cuts the index's name so that the suffix fits in 63
    bytes: a copy of 60 bytes or more may carry only the start of it."""
    if stem is None:
        return False
    return stem == index or (len(copy.encode()) >= 60 and index.encode().startswith(stem.encode()))


def advisory_lock_key(history_table):
    digest = hashlib.sha256(f"bluegreen.migration:{history_table}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class Engine:
    """Plans and applies migrations through connections made by `connect()`."""

    def __init__(self, connect, migrations, history_table=DEFAULT_HISTORY_TABLE, lock_timeout_ms=3000,
                 lock_retries=5, retry_delay=1.0, time_left_ms=None, min_time_left_ms=20000, statement_timeout_ms=0, log=None):
        if not IDENTIFIER.match(history_table):
            raise MigrationError(f"history table name {history_table!r} is not a plain lower-case identifier")
        self.connect = connect
        self.migrations = migrations
        self.history_table = history_table
        self.lock_timeout_ms = int(lock_timeout_ms)
        self.lock_retries = int(lock_retries)
        self.retry_delay = float(retry_delay)
        self.time_left_ms = time_left_ms
        self.min_time_left_ms = min_time_left_ms
        self.statement_timeout_ms = int(statement_timeout_ms)
        self.statement_timeout_set = None
        self.statement_timeout_by_time = False
        # Schema-qualified and quoted at open, so that a migration's SET search_path cannot move it.
        self.history = None
        self.progress = None
        self.log = log or (lambda event, **fields: None)

    # -- reading state -------------------------------------------------------------
    def _history_exists(self, conn):
        rows = conn.run("SELECT to_regclass(:name) IS NOT NULL", name=self.history)
        return bool(rows[0][0])

    def _applied(self, conn):
        if not self._history_exists(conn):
            return {}
        rows = conn.run(
            f"SELECT version, name, checksum, phase, applied_at, duration_ms, execution FROM {self.history} ORDER BY version"
        )
        return {
            row[0]: {
                "version": row[0],
                "name": row[1],
                "checksum": row[2],
                "phase": row[3],
                "applied_at": row[4].isoformat() if row[4] is not None else None,
                "duration_ms": row[5],
                "execution": row[6],
            }
            for row in rows
        }

    def _drift(self, applied):
        drift = []
        for migration in self.migrations:
            row = applied.get(migration.version)
            if row is not None and row["checksum"] != migration.checksum:
                drift.append({"version": migration.version, "file": migration.file, "applied_checksum": row["checksum"],
                              "file_checksum": migration.checksum})
        return drift

    @staticmethod
    def _drift_error(drift):
        files = ", ".join(d["file"] for d in drift)
        return (f"checksum mismatch: {files} changed after being applied; applied migrations are immutable, "
                "restore the original file and add a new migration instead")

    def _pending(self, applied):
        return [m for m in self.migrations if m.version not in applied]

    @staticmethod
    def _select(pending, phase):
        """What a run of `phase` applies: everything in order for contract; for expand the
        pending migrations up to the first contract one, which blocks the rest."""
        if phase == "contract":
            return list(pending), None
        selected = []
        for migration in pending:
            if migration.phase == "contract":
                return selected, migration
            selected.append(migration)
        return selected, None

    @staticmethod
    def _refusal(migration):
        reason = migration.contract_reason()
        text = (f"{reason['file']} is a contract migration and phase 'expand' cannot apply it: statement {reason['statement']} "
                f"(line {reason['line']}) `{reason['sql']}` is flagged by rule {reason['rule']}")
        if reason["rule_message"]:
            text += f" ({reason['rule_message']})"
        text += "; run phase 'contract' once the old color is drained"
        return text, reason

    def _current_version(self, applied):
        return max(applied) if applied else 0

    def _open(self):
        conn = self.connect()
        try:
            self._settings(conn)
            self._resolve_history(conn)
        except BaseException:
            conn.close()
            raise
        return conn

    def _resolve_history(self, conn):
        """The history table in the schema where search_path finds it now, or where it would be created."""
        schema, _dot, table = self.history_table.rpartition(".")
        if not schema:
            schema = conn.run(
                "SELECT coalesce((SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE c.oid = to_regclass(:name)), current_schema())", name=table)[0][0]
            if schema is None:
                raise MigrationError(f"no schema of the search_path exists to hold {table}; "
                                     "name the history table as schema.table")
        self.history = f"{quote_ident(schema)}.{quote_ident(table)}"
        self.progress = f"{quote_ident(schema)}.{quote_ident(progress_table_name(table))}"

    def _set_statement_timeout(self, conn):
        """statement_timeout = the invocation's time left minus min_time_left_ms, so that the server cancels a
        statement (releasing its locks) before Lambda kills the run; the configured one when shorter or alone."""
        timeout, by_time = (self.statement_timeout_ms if self.statement_timeout_ms > 0 else None), False
        if self.time_left_ms is not None:
            left = max(int(self.time_left_ms()) - self.min_time_left_ms, 1000)
            if timeout is None or left < timeout:
                timeout, by_time = left, True
        if timeout is not None:
            conn.run(f"SET statement_timeout = {timeout}")
        self.statement_timeout_set, self.statement_timeout_by_time = timeout, by_time

    def _settings(self, conn):
        conn.run(f"SET lock_timeout = {self.lock_timeout_ms}")
        self._set_statement_timeout(conn)

    def _reset(self, conn):
        """One connection runs every migration: drop what the last one SET (lock_timeout = 0,
        search_path ...; RESET ALL leaves a SET ROLE in place, _record() has undone it)."""
        conn.run("RESET ALL")
        self._settings(conn)

    # -- actions -------------------------------------------------------------------
    def status(self):
        conn = self._open()
        try:
            applied = self._applied(conn)
        finally:
            conn.close()
        drift = self._drift(applied)
        known = {m.version for m in self.migrations}
        result = {
            "ok": not drift,
            "action": "status",
            "current_version": self._current_version(applied),
            "latest_version": self.migrations[-1].version if self.migrations else 0,
            "applied": [applied[v] for v in sorted(applied)],
            "pending": [m.describe() for m in self._pending(applied)],
            "drift": drift,
            "unknown_applied": sorted(v for v in applied if v not in known),
        }
        if drift:
            result["error"] = self._drift_error(drift)
        return result

    def plan(self, phase):
        """Dry run: what `apply` with this phase would do. Creates and changes nothing."""
        conn = self._open()
        try:
            applied = self._applied(conn)
        finally:
            conn.close()
        result = {"ok": True, "action": "plan", "phase": phase, "changed": False,
                  "current_version": self._current_version(applied)}
        drift = self._drift(applied)
        if drift:
            result.update(ok=False, drift=drift, error=self._drift_error(drift))
            return result
        pending = self._pending(applied)
        selected, blocker = self._select(pending, phase)
        result["pending"] = [m.describe() for m in pending]
        result["would_apply"] = [m.describe() for m in selected]
        result["blocked_by"] = None
        if blocker is not None:
            text, reason = self._refusal(blocker)
            result["blocked_by"] = reason
            result["blocked_message"] = text
        return result

    def apply(self, phase):
        lock_conn = self.connect()
        try:
            key = advisory_lock_key(self.history_table)
            if not lock_conn.run("SELECT pg_try_advisory_lock(:key)", key=key)[0][0]:
                self.log("locked", key=key)
                return {"ok": False, "action": "apply", "phase": phase, "status": "locked", "changed": False, "applied": [],
                        "error": "another migrator run holds the migration lock; nothing was applied"}
            try:
                return self._apply_locked(phase)
            finally:
                lock_conn.run("SELECT pg_advisory_unlock(:key)", key=key)
        finally:
            lock_conn.close()

    def _apply_locked(self, phase):
        conn = self._open()
        try:
            conn.run(
                f"CREATE TABLE IF NOT EXISTS {self.history} ("
                " version integer PRIMARY KEY,"
                " name text NOT NULL,"
                " checksum text NOT NULL,"
                " phase text NOT NULL,"
                " execution text NOT NULL,"
                " applied_at timestamptz NOT NULL DEFAULT clock_timestamp(),"
                " duration_ms integer NOT NULL)"
            )
            # CREATE/DROP INDEX CONCURRENTLY commit on their own: a row here says a run started one
            # (removed once the migration is recorded), so the next run can tell its work from
            # an index that was there before.
            conn.run(
                f"CREATE TABLE IF NOT EXISTS {self.progress} ("
                " version integer NOT NULL,"
                " statement integer NOT NULL,"
                " checksum text NOT NULL,"
                " started_at timestamptz NOT NULL DEFAULT clock_timestamp(),"
                " PRIMARY KEY (version, statement))"
            )
            applied = self._applied(conn)
            result = {"ok": True, "action": "apply", "phase": phase, "applied": [], "changed": False}
            drift = self._drift(applied)
            if drift:
                result.update(ok=False, status="drift", drift=drift, error=self._drift_error(drift),
                              current_version=self._current_version(applied))
                return result
            selected, blocker = self._select(self._pending(applied), phase)
            for migration in selected:
                if self.time_left_ms is not None and self.time_left_ms() < self.min_time_left_ms:
                    result.update(ok=False, status="timeout",
                                  error=f"stopped before {migration.file}: not enough time left in this invocation; run apply again")
                    break
                try:
                    record = self._run_migration(conn, migration)
                except MigrationError as exc:
                    result.update(ok=False, status="failed", failed=migration.describe(), error=str(exc))
                    break
                self._reset(conn)
                result["applied"].append(record)
                result["changed"] = True
            else:
                if blocker is not None:
                    text, reason = self._refusal(blocker)
                    result.update(ok=False, status="refused", refused=reason, error=text)
                else:
                    result["status"] = "applied" if result["applied"] else "up_to_date"
            result["current_version"] = self._current_version(self._applied(conn))
            return result
        finally:
            conn.close()

    # -- running one migration -----------------------------------------------------
    def _backoff_delay(self, attempt):
        return min(self.retry_delay * (2 ** (attempt - 1)), 30.0)

    def _time_for_retry(self, attempt):
        """Whether the invocation has time left for the wait before another attempt and the
        attempt's lock wait, keeping min_time_left_ms to report (always, outside Lambda)."""
        if self.time_left_ms is None:
            return True
        needed_ms = self._backoff_delay(attempt) * 1000 + self.lock_timeout_ms + self.min_time_left_ms
        return self.time_left_ms() >= needed_ms

    def _record(self, conn, migration, duration_ms):
        # The history row is the migrator's, whatever role the migration took for its objects
        # (SET ROLE app_owner); the next migration starts as the login user too.
        conn.run("RESET ROLE")
        conn.run(
            f"INSERT INTO {self.history} (version, name, checksum, phase, execution, duration_ms)"
            " VALUES (:version, :name, :checksum, :phase, :execution, :duration)",
            version=migration.version, name=migration.name, checksum=migration.checksum, phase=migration.phase,
            execution="transaction" if migration.transactional else "autocommit", duration=duration_ms,
        )

    def _record_autocommit(self, conn, migration, duration_ms):
        """The history row and the end of the migration's progress rows, in one transaction; a
        lock wait that runs out (or a deadlock) is retried as a statement's would be."""
        # The statements stay applied whatever happens here: what the next apply does about them.
        if any(s.get("index_name") or s.get("drop_index") for s in migration.statements):
            after = "its statements ran and stay applied; the next apply accepts the index work their progress rows mark"
        else:
            after = "its statements ran and stay applied; the next apply runs them again"
        lost = f"{migration.file}: connection lost while recording the history row ({after})"
        attempt = 0
        while True:
            attempt += 1
            try:
                # Outside the transaction: a ROLLBACK must not give the session back a migration's role.
                conn.run("RESET ROLE")
                # The migrator's lock_timeout and the time left, whatever the migration SET.
                self._settings(conn)
                conn.run("BEGIN")
                self._record(conn, migration, duration_ms)
                conn.run(f"DELETE FROM {self.progress} WHERE version = :version", version=migration.version)
                conn.run("COMMIT")
                return
            except DatabaseError as exc:
                try:
                    conn.run("ROLLBACK")
                    self._retry_or_raise(exc, migration, None, attempt)
                except MigrationError as failed:
                    raise MigrationError(f"{failed} ({after})") from exc
                except InterfaceError as gone:
                    raise MigrationError(f"{lost}: {gone}") from gone
            except InterfaceError as exc:
                raise MigrationError(f"{lost}: {exc}") from exc

    def _run_migration(self, conn, migration):
        started = time.monotonic()
        self.log("migration_start", version=migration.version, file=migration.file, phase=migration.phase,
                 transactional=migration.transactional)
        notes = []
        if migration.transactional:
            attempts = self._run_in_transaction(conn, migration, started)
        else:
            attempts = self._run_autocommit(conn, migration, notes)
            self._record_autocommit(conn, migration, int((time.monotonic() - started) * 1000))
        duration_ms = round((time.monotonic() - started) * 1000, 1)
        self.log("migration_done", version=migration.version, file=migration.file, duration_ms=duration_ms, attempts=attempts)
        record = dict(migration.describe(), duration_ms=duration_ms, attempts=attempts)
        if notes:
            record["notes"] = notes
        return record

    def _run_in_transaction(self, conn, migration, started):
        attempt = 0
        while True:
            attempt += 1
            stmt = None
            try:
                conn.run("BEGIN")
                for stmt in migration.statements:
                    # Each statement gets what is left of the invocation now (SET in a transaction holds until it ends).
                    self._set_statement_timeout(conn)
                    conn.run(stmt["sql"])
                stmt = None
                self._record(conn, migration, int((time.monotonic() - started) * 1000))
                conn.run("COMMIT")
                return attempt
            except DatabaseError as exc:
                conn.run("ROLLBACK")
                self._retry_or_raise(exc, migration, stmt, attempt)
            except InterfaceError as exc:
                raise MigrationError(f"{migration.file}: connection lost: {exc}") from exc

    def _run_autocommit(self, conn, migration, notes):
        attempts = 1
        for stmt in migration.statements:
            attempt = 0
            while True:
                attempt += 1
                try:
                    self._set_statement_timeout(conn)
                    self._drop_reindex_leftovers(conn, stmt)
                    done = self._index_statement_done(conn, migration, stmt)
                    if done:
                        self.log("statement_already_done", file=migration.file, statement=stmt["number"], why=done)
                        notes.append(f"statement {stmt['number']} (line {stmt.get('line')}) not run: {done}")
                    else:
                        # What is left of the invocation now, after the leftovers' drops.
                        self._set_statement_timeout(conn)
                        conn.run(stmt["sql"])
                    break
                except DatabaseError as exc:
                    self._explain_index_error(conn, exc, stmt)
                    self._retry_or_raise(exc, migration, stmt, attempt)
                except InterfaceError as exc:
                    raise MigrationError(f"{migration.file}: connection lost: {exc}") from exc
            attempts = max(attempts, attempt)
        return attempts

    # Statements outside a transaction are not undone when a run stops between one of them and
    # the history row (the connection lost, Lambda's end). Before an index statement does its
    # work, a progress row says so (with the statement's checksum: an unapplied migration may be
    # edited); the next run finds that row and the work in place.
    def _index_statement_done(self, conn, migration, stmt):
        """Why a concurrent index statement has nothing left to do (a stopped run built its index,
        or dropped it), or None. An INVALID index that a failed build left behind is dropped so
        that it is built again. A statement about to do work is marked as started first."""
        if not (stmt.get("drop_index") or stmt.get("index_name")):
            return None
        checksum = file_checksum(stmt["sql"].encode("utf-8"))
        rows = conn.run(f"SELECT checksum FROM {self.progress} WHERE version = :version AND statement = :number",
                        version=migration.version, number=stmt["number"])
        # A row of another text of this statement (the file edited since) is not this one's work.
        started = bool(rows) and rows[0][0] == checksum
        if stmt.get("drop_index"):
            if conn.run("SELECT to_regclass(:name) IS NULL", name=stmt["drop_index"])[0][0]:
                return f"index {stmt['drop_index']} was dropped by a run that stopped before recording the migration" if started else None
        else:
            for schema, name, valid, definition in self._indexes_named(conn, stmt["index_name"], stmt.get("index_table")):
                if not valid:
                    self.log("drop_invalid_index", index=f"{schema}.{name}")
                    self._drop_index(conn, schema, name, "a failed build")
                elif started:
                    return f"index {schema}.{name} was built by a run that stopped before recording the migration: {definition}"
                else:
                    # There before this statement ran: PostgreSQL decides (42P07, or IF NOT EXISTS).
                    return None
        if not started:
            conn.run(f"INSERT INTO {self.progress} (version, statement, checksum) VALUES (:version, :number, :checksum)"
                     " ON CONFLICT (version, statement) DO UPDATE SET checksum = excluded.checksum, started_at = clock_timestamp()",
                     version=migration.version, number=stmt["number"], checksum=checksum)
        return None

    @staticmethod
    def _drop_index(conn, schema, name, left_by):
        """Drop an INVALID index that `left_by` left behind; an error says it was this drop (a
        lock wait or the statement timeout here is not the statement's own)."""
        try:
            conn.run(f"DROP INDEX CONCURRENTLY IF EXISTS {quote_ident(schema)}.{quote_ident(name)}")
        except DatabaseError as exc:
            exc.dropping = f"{schema}.{name}, an INVALID index {left_by} left,"
            raise

    def _drop_reindex_leftovers(self, conn, stmt):
        """A failed REINDEX CONCURRENTLY leaves INVALID copies named <index>_ccnew (or _ccold for
        an old definition it could not drop), which writes keep updating; a retry would add
        _ccnew1 beside them. Those of the statement's index, table, schema or database are dropped
        first: on the partitions of a partitioned one too, and (a table's) on its TOAST table."""
        if stmt.get("reindex_index"):
            rows = conn.run(f"SELECT i.indrelid, c.relname FROM ({RELATION_AND_PARTITIONS}) t"
                            " JOIN pg_index i ON i.indexrelid = t.relid JOIN pg_class c ON c.oid = i.indexrelid",
                            name=stmt["reindex_index"])
        elif stmt.get("reindex_table"):
            rows = conn.run(INDEXES_WITH_TOAST.format(owned=RELATION_AND_PARTITIONS), name=stmt["reindex_table"])
        elif stmt.get("reindex_schema") or stmt.get("reindex_database"):
            # Every table's indexes, and its TOAST table's; PostgreSQL skips the system catalogs
            # (pg_catalog; information_schema's tables are rebuilt) and other sessions' temp tables.
            if stmt.get("reindex_schema"):
                where, params = "c.relnamespace = to_regnamespace(:name)", {"name": stmt["reindex_schema"]}
            else:
                where, params = "n.nspname <> 'pg_catalog' AND n.nspname !~ '^pg_temp_'", {}
            owned = f"SELECT c.oid AS relid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'm', 'p') AND {where}"
            rows = conn.run(INDEXES_WITH_TOAST.format(owned=owned), **params)
        else:
            return
        tables = sorted({table for table, _name in rows})
        if not tables:
            return
        bases = {name for _table, name in rows}
        leftovers = conn.run(
            "SELECT n.nspname, c.relname, substring(c.relname from '^(.*)_cc(?:new|old)[0-9]*$') FROM pg_index i"
            " JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE i.indrelid = ANY(:tables) AND NOT i.indisvalid AND c.relname ~ '_cc(new|old)[0-9]*$'", tables=tables)
        for schema, name, stem in leftovers:
            if not any(leftover_of(name, stem, base) for base in bases):
                continue
            self.log("drop_reindex_leftover", index=f"{schema}.{name}")
            self._set_statement_timeout(conn)
            try:
                self._drop_index(conn, schema, name, "a failed REINDEX CONCURRENTLY")
            except DatabaseError as exc:
                if sqlstate(exc) != INSUFFICIENT_PRIVILEGE:
                    raise
                # Not this login's to drop (a TOAST copy on a managed database): the rebuild goes on.
                self.log("reindex_leftover_kept", index=f"{schema}.{name}", error=error_text(exc))

    def _explain_index_error(self, conn, exc, stmt):
        """What to do about an index statement PostgreSQL refused because the index exists (42P07)
        or does not (42704), e.g. after a run stopped before the progress rows existed. Only a
        hint: a failure to look is ignored, the statement's own error is what is reported."""
        code = sqlstate(exc)
        if code not in ("42P07", "42704") or not isinstance(exc.args[0] if exc.args else None, dict):
            return
        hint = None
        try:
            if code == "42P07" and stmt.get("index_name"):
                for schema, name, valid, definition in self._indexes_named(conn, stmt["index_name"], stmt.get("index_table")):
                    if valid:
                        hint = (f"{schema}.{name} exists ({definition}); if an earlier run of this migration built it, add IF NOT "
                                "EXISTS to the statement (the migration is not applied, so its file may change) or drop the index "
                                "and apply again; otherwise give the new index another name")
            elif code == "42704" and stmt.get("drop_index"):
                hint = ("if an earlier run of this migration dropped it, add IF EXISTS to the statement (the migration is not "
                        "applied, so its file may change)")
        except (DatabaseError, InterfaceError):
            return
        if hint:
            exc.args[0]["D"] = hint

    @staticmethod
    def _indexes_named(conn, index_name, table):
        """The index of this name on `table` (created in the table's schema, whatever the
        search_path), or by the name alone for a manifest without the table."""
        columns = ("SELECT n.nspname, c.relname, i.indisvalid, pg_get_indexdef(i.indexrelid) FROM pg_index i"
                   " JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace")
        if table:
            return conn.run(columns + " WHERE i.indrelid = to_regclass(:table)"
                            " AND i.indexrelid = to_regclass(quote_ident(n.nspname) || '.' || :name)",
                            table=table, name=index_name)
        return conn.run(columns + " WHERE i.indexrelid = to_regclass(:name)", name=index_name)

    def _retry_or_raise(self, exc, migration, stmt, attempt):
        code = sqlstate(exc)
        where = f"statement {stmt['number']} (line {stmt.get('line')})" if stmt else "recording the history row"
        hint = ""
        if getattr(exc, "dropping", None):
            where = f"the drop of {exc.dropping} before {where}"
            # The drop waits for the table's lock, which a build running in another session holds.
            hint = (" (an INVALID index is also one another session is building or rebuilding now: if"
                    " pg_stat_progress_create_index lists it, run apply again once that ends)")
        if code in RETRYABLE_SQLSTATES:
            if attempt <= self.lock_retries and self._time_for_retry(attempt):
                self.log("retry", file=migration.file, attempt=attempt, sqlstate=code, where=where)
                time.sleep(self._backoff_delay(attempt))
                return
            why = "and this invocation has no time left for another attempt; run apply again" if attempt <= self.lock_retries else f"after {attempt} attempts"
            raise MigrationError(f"{migration.file}: {where} could not get its lock within {self.lock_timeout_ms} ms {why}{hint}: {error_text(exc)}")
        if code == CANCELED_SQLSTATE and self.statement_timeout_set is not None:
            # Not retried like a lock wait: the time is spent.
            timeout = self.statement_timeout_set
            if self.statement_timeout_by_time:
                why = (f"ran out of this invocation's time (statement_timeout {timeout} ms: the time left less "
                       f"{self.min_time_left_ms} ms kept to report)")
                how = ("run apply again, which gives it a whole invocation; if it still does not fit, "
                       "raise the function's timeout (at most 900 s)")
            else:
                why = f"ran longer than statement_timeout {timeout} ms (MIGRATOR_STATEMENT_TIMEOUT_MS)"
                how = "raise MIGRATOR_STATEMENT_TIMEOUT_MS and run apply again"
            done = "nothing of it was applied" if migration.transactional else "the statements before it stay applied"
            raise MigrationError(f"{migration.file}: {where} was cancelled: it {why}; {done}; {how}{hint}: {error_text(exc)}")
        raise MigrationError(f"{migration.file}: {where} failed: {error_text(exc)}")

    # -- validation ----------------------------------------------------------------
    def validate(self, expect):
        """Check the live schema against expectations: {version, tables, columns, absent_columns,
        no_pending}; every failed check is listed."""
        checks = []
        conn = self._open()
        try:
            applied = self._applied(conn)
            current = self._current_version(applied)
            if "version" in expect:
                wanted = int(expect["version"])
                checks.append({"check": f"version >= {wanted}", "ok": current >= wanted, "detail": f"current version {current}"})
            for table in expect.get("tables", []):
                exists = conn.run("SELECT to_regclass(:t) IS NOT NULL", t=table)[0][0]
                checks.append({"check": f"table {table} exists", "ok": bool(exists)})
            for key, want_present in (("columns", True), ("absent_columns", False)):
                for table, columns in sorted(expect.get(key, {}).items()):
                    have = {row[0] for row in conn.run(
                        "SELECT attname FROM pg_attribute WHERE attrelid = to_regclass(:t) AND attnum > 0 AND NOT attisdropped", t=table)}
                    for column in columns:
                        present = column in have
                        label = "exists" if want_present else "is absent"
                        checks.append({"check": f"column {table}.{column} {label}", "ok": present == want_present})
            if expect.get("no_pending"):
                phase = expect["no_pending"]
                selected, _blocker = self._select(self._pending(applied), phase)
                checks.append({"check": f"nothing pending for phase {phase}", "ok": not selected,
                               "detail": ", ".join(m.file for m in selected)})
        finally:
            conn.close()
        drift = self._drift(applied)
        checks.append({"check": "no checksum drift", "ok": not drift, "detail": ", ".join(d["file"] for d in drift)})
        failures = [c["check"] for c in checks if not c["ok"]]
        result = {"ok": not failures, "action": "validate", "current_version": current, "checks": checks, "failures": failures}
        if failures:
            result["error"] = "schema validation failed: " + "; ".join(failures)
        return result
