"""The migrator's connection and session: long statements, the invocation's time, and settings
that one migration must not leave to the next (one connection runs them all)."""

import contextlib
import json
import os
import socket
import threading
import time

import pytest

HISTORY = "bluegreen_schema_history"


class Context:
    """A Lambda context whose remaining time stands still."""

    def __init__(self, left_ms):
        self.left_ms = left_ms

    def get_remaining_time_in_millis(self):
        return self.left_ms


def invoke(migrator, context, **event):
    result = migrator.index.handler(event, context)
    assert migrator.params["password"] not in json.dumps(result)
    return result


def versions(migrator):
    return [row[0] for row in migrator.query(f"SELECT version FROM public.{HISTORY} ORDER BY version")]


def test_connect_timeout_bounds_only_the_connect(migrator, monkeypatch):
    monkeypatch.setenv("MIGRATOR_CONNECT_TIMEOUT", "1")
    migrator.write("V001__slow.sql", "SELECT pg_sleep(2);\n")
    result = migrator(action="apply", phase="expand")
    assert result["ok"] and result["status"] == "applied", result

    conn = migrator.index._connector(migrator.index.connection_settings())()
    try:
        sock = conn._usock
        assert sock.gettimeout() is None
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE)
        if hasattr(socket, "TCP_KEEPIDLE"):
            assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE) == 30
        assert conn.run("SHOW application_name") == [["bluegreen-migrator"]]
    finally:
        conn.close()


def test_connect_failure_names_host_and_port(migrator, monkeypatch):
    migrator.write("V001__create_t.sql", "CREATE TABLE t (id int);\n")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nothing listens there
    settings = json.dumps(dict(json.loads(os.environ["MIGRATOR_DSN_JSON"]), port=port))
    monkeypatch.setenv("MIGRATOR_DSN_JSON", settings)
    result = migrator(action="status")
    assert result["ok"] is False
    assert f"Can't create a connection to host 127.0.0.1 and port {port}" in result["error"], result


def test_connect_timeout_bounds_a_server_that_accepts_and_never_answers(migrator, monkeypatch):
    migrator.write("V001__create_t.sql", "CREATE TABLE t (id int);\n")
    monkeypatch.setenv("MIGRATOR_CONNECT_TIMEOUT", "1")
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)  # the kernel completes the TCP handshake; nothing ever answers the TLS request
        settings = json.dumps(dict(json.loads(os.environ["MIGRATOR_DSN_JSON"]), port=silent.getsockname()[1]))
        monkeypatch.setenv("MIGRATOR_DSN_JSON", settings)
        answers = []
        # In a thread: without the bound the handler would wait for the answer for good.
        worker = threading.Thread(target=lambda: answers.append(migrator(action="status")), daemon=True)
        worker.start()
        worker.join(10)
        assert answers and answers[0]["ok"] is False, "the connect did not end within 10 s"


class Deadline(Context):
    """A Lambda context whose remaining time runs down with the clock."""

    def __init__(self, left_ms):
        super().__init__(left_ms)
        self.ends = time.monotonic() + left_ms / 1000.0

    def get_remaining_time_in_millis(self):
        return int((self.ends - time.monotonic()) * 1000)


def test_each_statement_of_a_transaction_gets_only_the_time_then_left(migrator):
    # 22 s left, 20 s kept to report: 2 s for the whole migration, not 2 s for each statement.
    migrator.write("V001__two_slow_steps.sql", "CREATE TABLE t (id int);\nSELECT pg_sleep(1.2);\nSELECT pg_sleep(1.2);\n")
    result = invoke(migrator, Deadline(22000), action="apply", phase="expand")
    assert result["ok"] is False and result["status"] == "failed", result
    assert result["error"].startswith("V001__two_slow_steps.sql: statement 3 (line 3) was cancelled"), result["error"]
    assert versions(migrator) == []


def test_statement_is_cancelled_before_the_invocation_ends(migrator):
    migrator.write("V001__create_t.sql", "CREATE TABLE t (id int);\n")
    migrator.write("V002__slow_backfill.sql", "INSERT INTO t VALUES (1);\nSELECT pg_sleep(10);\n")
    started = time.monotonic()
    # 21.5 s left, 20 s kept to report (MIGRATOR_MIN_TIME_LEFT_MS): each statement may run 1.5 s.
    result = invoke(migrator, Context(21500), action="apply", phase="expand")
    elapsed = time.monotonic() - started
    assert result["ok"] is False and result["status"] == "failed", result
    assert [m["version"] for m in result["applied"]] == [1] and result["failed"]["version"] == 2
    error = result["error"]
    assert error.startswith("V002__slow_backfill.sql: statement 2 (line 2) was cancelled: it ran out of this invocation's time")
    assert "statement_timeout 1500 ms" in error and "nothing of it was applied" in error
    assert "run apply again" in error and "raise the function's timeout" in error and "57014" in error
    # Cancelled once by the server, not retried like a lock wait, and nothing left running.
    assert elapsed < 5
    assert migrator.query("SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(10)%'") == [[0]]
    assert versions(migrator) == [1] and migrator.query("SELECT count(*) FROM t") == [[0]]

    # Short of MIGRATOR_MIN_TIME_LEFT_MS, the run stops between migrations instead.
    stopped = invoke(migrator, Context(19000), action="apply", phase="expand")
    assert stopped["status"] == "timeout" and "stopped before V002__slow_backfill.sql" in stopped["error"]


def test_statement_timeout_without_a_lambda_context(migrator, monkeypatch):
    migrator.write("V001__create_t.sql", "CREATE TABLE t (id int);\nSELECT pg_sleep(1.5);\n")
    monkeypatch.setenv("MIGRATOR_STATEMENT_TIMEOUT_MS", "1000")
    failed = migrator(action="apply", phase="expand")
    assert failed["ok"] is False and failed["status"] == "failed", failed
    assert "V001__create_t.sql: statement 2 (line 2) was cancelled: it ran longer than statement_timeout 1000 ms" in failed["error"]
    assert "raise MIGRATOR_STATEMENT_TIMEOUT_MS" in failed["error"]
    monkeypatch.setenv("MIGRATOR_STATEMENT_TIMEOUT_MS", "3000")
    assert migrator(action="apply", phase="expand")["status"] == "applied"

    # Each statement of an autocommit migration gets it too: here a wait for a lock the lock_timeout would allow.
    migrator.write("V002__index_t.sql", "SET maintenance_work_mem = '64MB';\nCREATE INDEX CONCURRENTLY IF NOT EXISTS t_id_idx ON t (id);\n")
    monkeypatch.setenv("MIGRATOR_STATEMENT_TIMEOUT_MS", "1000")
    monkeypatch.setenv("MIGRATOR_LOCK_TIMEOUT_MS", "10000")
    cancelled, elapsed = migrator.apply_while_locked("t", "SHARE UPDATE EXCLUSIVE")
    assert cancelled["status"] == "failed" and elapsed < 5, cancelled
    assert "V002__index_t.sql: statement 2 (line 2) was cancelled: it ran longer than statement_timeout 1000 ms" in cancelled["error"]
    assert "the statements before it stay applied" in cancelled["error"]
    assert versions(migrator) == [1]
    assert migrator(action="apply", phase="expand")["status"] == "applied"
    assert versions(migrator) == [1, 2]

    # The INVALID index a failed build left is dropped first: a cancel there is that drop's, not the build's.
    migrator.query("INSERT INTO t VALUES (1), (1)")
    with pytest.raises(Exception, match="23505"):
        migrator.query("CREATE UNIQUE INDEX CONCURRENTLY t_id_uniq ON t (id)")
    migrator.query("DELETE FROM t")
    migrator.write("V003__unique_t.sql", "CREATE UNIQUE INDEX CONCURRENTLY t_id_uniq ON t (id);\n")
    cancelled, elapsed = migrator.apply_while_locked("t", "SHARE UPDATE EXCLUSIVE")
    assert cancelled["status"] == "failed" and elapsed < 5, cancelled
    assert cancelled["error"].startswith("V003__unique_t.sql: the drop of public.t_id_uniq, an INVALID index a failed build left, "
                                         "before statement 1 (line 1) was cancelled: it ran longer than statement_timeout 1000 ms"), cancelled
    assert "if pg_stat_progress_create_index lists it, run apply again once that ends" in cancelled["error"]
    assert migrator(action="apply", phase="expand")["status"] == "applied"
    assert versions(migrator) == [1, 2, 3]


def test_settings_of_a_migration_do_not_reach_the_next(migrator, monkeypatch):
    monkeypatch.setenv("MIGRATOR_LOCK_TIMEOUT_MS", "1234")
    migrator.write("V001__create_seen.sql", "CREATE TABLE seen (version int, lock_timeout text, statement_timeout text, search_path text);\n")
    migrator.write("V002__careless.sql", "SET lock_timeout = 0;\nSET statement_timeout = '1h';\n"
                   "INSERT INTO seen SELECT 2, current_setting('lock_timeout'), current_setting('statement_timeout');\n")
    migrator.write("V003__record.sql", "INSERT INTO seen SELECT 3, current_setting('lock_timeout'), current_setting('statement_timeout'),"
                   " current_setting('search_path');\n")
    result = migrator(action="apply", phase="expand")
    assert result["ok"] and [m["version"] for m in result["applied"]] == [1, 2, 3], result
    default_path = migrator.query("SELECT reset_val FROM pg_settings WHERE name = 'search_path'")[0][0]
    assert migrator.query("SELECT version, lock_timeout, statement_timeout, search_path FROM seen ORDER BY version") == [
        [2, "0", "1h", None], [3, "1234ms", "0", default_path]]


def test_search_path_set_by_a_migration(migrator):
    migrator.write("V001__app_schema.sql", "CREATE SCHEMA app;\nSET search_path = app;\nCREATE TABLE t (id int);\n")
    migrator.write("V002__create_u.sql", "CREATE TABLE u (id int);\n")
    result = migrator(action="apply", phase="expand")
    assert result["ok"] and result["current_version"] == 2, result
    assert versions(migrator) == [1, 2]
    assert migrator.query("SELECT to_regclass('app.t') IS NOT NULL, to_regclass('public.u') IS NOT NULL") == [[True, True]]
    assert migrator.query("SELECT count(*) FROM pg_class WHERE relname = :h", h=HISTORY) == [[1]]

    again = migrator(action="apply", phase="expand")
    assert again["ok"] and again["status"] == "up_to_date" and again["current_version"] == 2, again
    status = migrator(action="status")
    assert status["current_version"] == 2 and status["pending"] == []


def test_a_role_set_by_a_migration_does_not_reach_the_next(migrator):
    """SET ROLE (objects owned by the application's role) is not undone by RESET ALL: the next
    migration, and the migrator's own history rows, run as the user it logged in as again."""
    login = migrator.query("SELECT current_user")[0][0]
    owner = f"app_owner_{os.getpid()}_{int(time.time() * 1000) % 100000}"  # roles are server-wide
    for statement in (f"CREATE ROLE {owner} NOLOGIN", f"GRANT {owner} TO {login}", f"GRANT CREATE ON SCHEMA public TO {owner}"):
        migrator.query(statement)
    migrator.write("V001__as_owner.sql", f"SET ROLE {owner};\nCREATE TABLE owned (version int, who text);\nINSERT INTO owned SELECT 1, current_user;\n")
    migrator.write("V002__record.sql", "INSERT INTO owned SELECT 2, current_user;\n")
    # SET ROLE is a contract-phase statement (not known to be safe while the old version is live).
    result = migrator(action="apply", phase="contract")
    assert result["ok"] and [m["version"] for m in result["applied"]] == [1, 2], result
    assert migrator.query("SELECT version, who FROM owned ORDER BY version") == [[1, owner], [2, login]]
    assert migrator.query("SELECT tableowner FROM pg_tables WHERE tablename = 'owned'") == [[owner]]
    assert versions(migrator) == [1, 2]


def table_t_applied(migrator):
    migrator.write("V001__create_t.sql", "CREATE TABLE t (id int);\n")
    assert migrator(action="apply", phase="expand")["status"] == "applied"


@contextlib.contextmanager
def holding(migrator, table, mode):
    """Another session holding `mode` on `table` until the block ends (or it rolls back itself)."""
    blocker = migrator.connect()
    try:
        blocker.run("BEGIN")
        blocker.run(f"LOCK TABLE {table} IN {mode} MODE")
        yield blocker
    finally:
        blocker.run("ROLLBACK")
        blocker.close()


def logged(caplog, event):
    """The migrator's log entries of this event."""
    entries = [json.loads(r.getMessage()) for r in caplog.records if r.name == "bluegreen.migrator" and r.getMessage().startswith("{")]
    return [e for e in entries if e.get("event") == event]


def test_a_lock_wait_while_recording_an_autocommit_migration_is_retried(migrator, monkeypatch, caplog):
    """CREATE INDEX CONCURRENTLY committed on its own; the history row then waits for a lock on
    the history table (held here for ~1.5 s): retried like a statement's lock wait, not failed,
    and under the migrator's lock_timeout even when the migration SET its own."""
    caplog.set_level("INFO", logger="bluegreen.migrator")
    table_t_applied(migrator)
    migrator.write("V002__index_t.sql", "SET lock_timeout = 0;\nCREATE INDEX CONCURRENTLY t_id_idx ON t (id);\n")
    monkeypatch.setenv("MIGRATOR_LOCK_TIMEOUT_MS", "300")
    monkeypatch.setenv("MIGRATOR_RETRY_DELAY_MS", "200")
    with holding(migrator, f"public.{HISTORY}", "SHARE") as blocker:
        release = threading.Timer(1.5, lambda: blocker.run("ROLLBACK"))
        release.start()
        applied = migrator(action="apply", phase="expand")
        release.join()
    assert applied["status"] == "applied", applied
    assert applied["applied"][0]["version"] == 2 and versions(migrator) == [1, 2]
    assert migrator.query(f"SELECT count(*) FROM public.{HISTORY}_progress") == [[0]]
    retries = logged(caplog, "retry")
    assert retries and {(r["where"], r["sqlstate"]) for r in retries} == {("recording the history row", "55P03")}, retries


def test_a_history_row_that_cannot_be_recorded_says_what_the_next_apply_does(migrator, monkeypatch):
    table_t_applied(migrator)
    migrator.write("V002__index_t.sql", "CREATE INDEX CONCURRENTLY t_id_idx ON t (id);\n")
    monkeypatch.setenv("MIGRATOR_LOCK_TIMEOUT_MS", "200")
    monkeypatch.setenv("MIGRATOR_LOCK_RETRIES", "1")
    monkeypatch.setenv("MIGRATOR_RETRY_DELAY_MS", "100")
    with holding(migrator, f"public.{HISTORY}", "SHARE"):
        failed = migrator(action="apply", phase="expand")
    assert failed["status"] == "failed", failed
    assert failed["error"].startswith("V002__index_t.sql: recording the history row could not get its lock within 200 ms after 2 attempts"), failed
    assert "(its statements ran and stay applied; the next apply accepts the index work their progress rows mark)" in failed["error"]
    assert versions(migrator) == [1]
    resumed = migrator(action="apply", phase="expand")
    assert resumed["status"] == "applied" and versions(migrator) == [1, 2], resumed
    assert resumed["applied"][0]["notes"][0].startswith("statement 1 (line 1) not run: index public.t_id_idx was built by a run"), resumed


def test_a_lock_wait_is_not_retried_past_the_invocation_s_end(migrator, monkeypatch, caplog):
    """A lock wait that runs out is retried after a back-off only while the invocation has time
    for the back-off, another wait and the time kept to report; else it says so at once."""
    caplog.set_level("INFO", logger="bluegreen.migrator")
    table_t_applied(migrator)
    migrator.write("V002__alter_t.sql", "ALTER TABLE t ADD COLUMN note text;\n")
    monkeypatch.setenv("MIGRATOR_LOCK_TIMEOUT_MS", "300")
    monkeypatch.setenv("MIGRATOR_RETRY_DELAY_MS", "1000")
    with holding(migrator, "t", "ACCESS SHARE"):
        # 20 s kept to report; 21 s left: room for one wait, not for a 1 s back-off and another.
        started = time.monotonic()
        failed = invoke(migrator, Context(21000), action="apply", phase="expand")
        elapsed = time.monotonic() - started
    assert failed["status"] == "failed" and elapsed < 3, (failed, elapsed)
    assert failed["error"].startswith("V002__alter_t.sql: statement 1 (line 1) could not get its lock within 300 ms and this "
                                      "invocation has no time left for another attempt; run apply again"), failed
    assert logged(caplog, "retry") == []
    # With the time, the same wait is retried (here until the retries run out).
    monkeypatch.setenv("MIGRATOR_LOCK_RETRIES", "1")
    monkeypatch.setenv("MIGRATOR_RETRY_DELAY_MS", "100")
    failed, elapsed = migrator.apply_while_locked("t", "ACCESS SHARE")
    assert "could not get its lock within 300 ms after 2 attempts" in failed["error"], failed
    assert len(logged(caplog, "retry")) == 1
