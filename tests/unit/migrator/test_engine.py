"""The migrator handler, in-process, against a real PostgreSQL database."""

import json
import threading
import time

import pytest
from pg8000.exceptions import InterfaceError

from ansible_collections.bluegreen.migration.plugins.module_utils import packaging
from tests.unit.migrator.conftest import CONTRACT_EXAMPLES, MIGRATIONS, load_index

DEFAULT_SET = sorted(MIGRATIONS.glob("V*.sql"))
HISTORY = "bluegreen_schema_history"


def history(migrator):
    if not migrator.query("SELECT to_regclass(:t) IS NOT NULL", t=HISTORY)[0][0]:
        return []
    return migrator.query(f"SELECT version, name, phase, execution, duration_ms >= 0 FROM {HISTORY} ORDER BY version")


def test_lifecycle_status_plan_apply_validate(migrator):
    migrator.add(*DEFAULT_SET)

    status = migrator(action="status")
    assert status["ok"] and status["current_version"] == 0 and status["applied"] == []
    assert [m["version"] for m in status["pending"]] == [1, 2, 3, 4]

    plan = migrator(action="plan", phase="expand")
    assert plan["ok"] and plan["changed"] is False and plan["blocked_by"] is None
    assert [m["file"] for m in plan["would_apply"]] == [p.name for p in DEFAULT_SET]
    # A dry run creates nothing, not even the history table.
    assert migrator.query("SELECT count(*) FROM pg_class WHERE relname IN ('orders', :h)", h=HISTORY) == [[0]]

    applied = migrator(action="apply", phase="expand")
    assert applied["ok"], applied
    assert applied["status"] == "applied" and applied["changed"] is True and applied["current_version"] == 4
    assert [m["version"] for m in applied["applied"]] == [1, 2, 3, 4]
    assert history(migrator) == [
        [1, "create_orders", "expand", "transaction", True],
        [2, "add_orders_status", "expand", "transaction", True],
        [3, "index_orders_customer", "expand", "autocommit", True],
        [4, "validate_orders_status", "expand", "transaction", True],
    ]
    # CREATE INDEX CONCURRENTLY ran (outside a transaction) and left a valid index.
    assert migrator.query(
        "SELECT i.indisvalid FROM pg_index i WHERE i.indexrelid = to_regclass('orders_customer_email_idx')") == [[True]]
    assert migrator.query("SELECT convalidated FROM pg_constraint WHERE conname = 'orders_status_known'") == [[True]]

    again = migrator(action="apply", phase="expand")
    assert again["ok"] and again["status"] == "up_to_date" and again["applied"] == [] and again["changed"] is False
    assert len(history(migrator)) == 4

    status = migrator(action="status")
    assert status["current_version"] == 4 and status["latest_version"] == 4 and status["pending"] == []
    assert [(a["version"], a["phase"], a["execution"]) for a in status["applied"]] == [
        (1, "expand", "transaction"), (2, "expand", "transaction"), (3, "expand", "autocommit"), (4, "expand", "transaction")]
    assert all(a["applied_at"] and a["checksum"] for a in status["applied"])

    good = migrator(action="validate", expect={"version": 4, "tables": ["orders"], "no_pending": "contract",
                                               "columns": {"orders": ["id", "status", "shipped_at"]}})
    assert good["ok"], good
    bad = migrator(action="validate", expect={"version": 9, "tables": ["orders", "invoices"],
                                              "columns": {"orders": ["status", "discount"]}, "absent_columns": {"orders": ["legacy_note"]}})
    assert not bad["ok"]
    assert bad["failures"] == ["version >= 9", "table invoices exists", "column orders.discount exists",
                               "column orders.legacy_note is absent"]
    assert "schema validation failed" in bad["error"]

    # Bad events are answered, not raised.
    assert "needs phase" in migrator(action="apply")["error"]
    assert "unknown action" in migrator(action="drop_everything")["error"]


def test_expand_refuses_contract_then_contract_applies(migrator):
    migrator.add(*DEFAULT_SET)
    assert migrator(action="apply", phase="expand")["ok"]
    migrator.add(*sorted(CONTRACT_EXAMPLES.glob("V*.sql")))
    migrator.write("V006__add_orders_currency.sql", "ALTER TABLE orders ADD COLUMN currency text NOT NULL DEFAULT 'EUR';\n")

    plan = migrator(action="plan", phase="expand")
    assert plan["would_apply"] == [] and plan["blocked_by"]["rule"] == "ban-drop-column"
    assert [m["version"] for m in migrator(action="plan", phase="contract")["would_apply"]] == [5, 6]

    refused = migrator(action="apply", phase="expand")
    assert refused["ok"] is False and refused["status"] == "refused" and refused["applied"] == []
    error = refused["error"]
    assert "V005__drop_orders_legacy_note.sql" in error
    assert "`ALTER TABLE orders DROP COLUMN IF EXISTS legacy_note;`" in error
    assert "rule ban-drop-column" in error
    assert refused["refused"]["statement"] == 1 and refused["refused"]["line"] == 3
    # Nothing happened: the column is still there, V005 and V006 are not recorded.
    assert migrator.query("SELECT count(*) FROM information_schema.columns WHERE column_name = 'legacy_note'") == [[1]]
    assert [row[0] for row in history(migrator)] == [1, 2, 3, 4]

    contract = migrator(action="apply", phase="contract")
    assert contract["ok"] and [m["version"] for m in contract["applied"]] == [5, 6]
    assert [(row[0], row[2]) for row in history(migrator)][-2:] == [(5, "contract"), (6, "expand")]
    assert migrator.query("SELECT count(*) FROM information_schema.columns WHERE column_name = 'legacy_note'") == [[0]]


def test_checksum_drift_is_refused(migrator):
    migrator.add(*DEFAULT_SET)
    assert migrator(action="apply", phase="expand")["ok"]
    changed = migrator.dir / "V002__add_orders_status.sql"
    changed.write_text(changed.read_text() + "ALTER TABLE orders ADD COLUMN IF NOT EXISTS coupon text;\n")
    migrator.write("V005__add_orders_region.sql", "ALTER TABLE orders ADD COLUMN region text;\n")

    for event in ({"action": "apply", "phase": "expand"}, {"action": "plan", "phase": "contract"}, {"action": "status"}):
        result = migrator(**event)
        assert result["ok"] is False, event
        assert "checksum mismatch: V002__add_orders_status.sql changed after being applied" in result["error"]
        assert [d["version"] for d in result["drift"]] == [2]
    assert [row[0] for row in history(migrator)] == [1, 2, 3, 4]
    assert migrator.query("SELECT count(*) FROM information_schema.columns WHERE column_name IN ('coupon', 'region')") == [[0]]

    # A migrations dir that no longer matches the manifest is refused before touching the database.
    changed.write_text("SELECT 1;\n")
    stale = migrator(action="status")
    assert stale["ok"] is False and "differs from the copy manifest.json was built from" in stale["error"]


def test_two_concurrent_applies_exactly_one_applies(migrator):
    migrator.add(*DEFAULT_SET)
    migrator.write("V005__slow_backfill.sql", "UPDATE orders SET status = 'placed' WHERE status IS NULL;\nSELECT pg_sleep(1.5);\n")
    barrier = threading.Barrier(2)
    results = []

    def run():
        barrier.wait()
        results.append(migrator(action="apply", phase="expand"))

    threads = [threading.Thread(target=run) for dummy in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    statuses = sorted(r["status"] for r in results)
    assert statuses == ["applied", "locked"], results
    winner = next(r for r in results if r["status"] == "applied")
    loser = next(r for r in results if r["status"] == "locked")
    assert [m["version"] for m in winner["applied"]] == [1, 2, 3, 4, 5]
    assert loser["ok"] is False and loser["applied"] == [] and "holds the migration lock" in loser["error"]
    assert [row[0] for row in history(migrator)] == [1, 2, 3, 4, 5]


def release_after_a_refused_wait(migrator, blocker, timeout=60):
    """COMMIT `blocker` once another session has waited for a lock and stopped waiting."""
    seen = False
    watch = migrator.connect()
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            waiting = watch.run("SELECT count(*) FROM pg_locks WHERE NOT granted")[0][0]
            if waiting:
                seen = True
            elif seen:
                break
            time.sleep(0.01)
    finally:
        watch.close()
        blocker.run("COMMIT")


def test_lock_timeout_is_retried_then_gives_up(migrator, monkeypatch):
    migrator.add(*DEFAULT_SET[:1])
    assert migrator(action="apply", phase="expand")["ok"]
    migrator.write("V002__add_orders_flag.sql", "ALTER TABLE orders ADD COLUMN flagged boolean;\n")
    monkeypatch.setenv("MIGRATOR_LOCK_TIMEOUT_MS", "200")

    blocker = migrator.connect()
    blocker.run("BEGIN")
    blocker.run("LOCK TABLE orders IN ACCESS SHARE MODE")  # like a long read of the old version
    # Released once the migrator's first attempt has waited for the lock and given up (seen in
    # pg_locks), however long the run takes to get there: a later attempt gets through.
    watcher = threading.Thread(target=release_after_a_refused_wait, args=(migrator, blocker))
    watcher.start()
    try:
        monkeypatch.setenv("MIGRATOR_LOCK_RETRIES", "6")
        result = migrator(action="apply", phase="expand")
    finally:
        watcher.join()
    assert result["ok"], result
    assert result["applied"][0]["attempts"] > 1

    blocker.close()
    migrator.write("V003__add_orders_flag_note.sql", "ALTER TABLE orders ADD COLUMN flag_note text;\n")
    monkeypatch.setenv("MIGRATOR_LOCK_RETRIES", "2")
    failed, elapsed = migrator.apply_while_locked("orders", "ACCESS SHARE")
    assert failed["ok"] is False and failed["status"] == "failed"
    assert "V003__add_orders_flag_note.sql: statement 1 (line 1) could not get its lock within 200 ms after 3 attempts" in failed["error"]
    assert "55P03" in failed["error"]
    assert elapsed < 5
    assert [row[0] for row in history(migrator)] == [1, 2]


def test_failed_concurrent_index_is_dropped_before_retry(migrator):
    migrator.add(*DEFAULT_SET[:2])
    assert migrator(action="apply", phase="expand")["ok"]
    migrator.query("INSERT INTO orders (customer_email) VALUES ('a@example.com'), ('a@example.com'), ('b@example.com')")
    migrator.write("V003__unique_customer_email.sql",
                   "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS orders_email_uniq ON orders (customer_email);\n")

    failed = migrator(action="apply", phase="expand")
    assert failed["ok"] is False
    assert "V003__unique_customer_email.sql: statement 1 (line 1) failed" in failed["error"] and "23505" in failed["error"]
    # PostgreSQL leaves the half-built index behind, INVALID; IF NOT EXISTS alone would keep it.
    invalid = "SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass('orders_email_uniq')"
    assert migrator.query(invalid) == [[False]]
    assert [row[0] for row in history(migrator)] == [1, 2]

    migrator.query("DELETE FROM orders WHERE id = (SELECT max(id) FROM orders WHERE customer_email = 'a@example.com')")
    retried = migrator(action="apply", phase="expand")
    assert retried["ok"], retried
    assert migrator.query(invalid) == [[True]]
    assert [row[0] for row in history(migrator)] == [1, 2, 3]


def test_invalid_index_outside_the_search_path_is_dropped_before_retry(migrator):
    """The leftover is found in its table's schema: IF NOT EXISTS would otherwise keep it, INVALID."""
    migrator.query("CREATE SCHEMA sales")
    migrator.query("CREATE TABLE sales.refunds (id bigint PRIMARY KEY, ref text)")
    migrator.query("INSERT INTO sales.refunds VALUES (1, 'r1'), (2, 'r1')")
    migrator.write("V001__unique_refund_ref.sql",
                   "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS refunds_ref_uniq ON sales.refunds (ref);\n")
    failed = migrator(action="apply", phase="expand")
    assert failed["ok"] is False and "23505" in failed["error"]
    valid = "SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass('sales.refunds_ref_uniq')"
    assert migrator.query(valid) == [[False]]

    migrator.query("UPDATE sales.refunds SET ref = 'r2' WHERE id = 2")
    retried = migrator(action="apply", phase="expand")
    assert retried["ok"], retried
    assert migrator.query(valid) == [[True]]
    assert "notes" not in retried["applied"][0]
    assert [row[0] for row in history(migrator)] == [1]


def stop_before_the_history_row(monkeypatch):
    """The next migration's run stops right after its statements, before its history row (the
    connection lost), as a Lambda ended or a network cut would leave it."""
    engine = load_index().migrator_engine.Engine
    record = engine._record

    def lost(self, conn, migration, duration_ms):
        monkeypatch.setattr(engine, "_record", record)
        raise InterfaceError("network error")

    monkeypatch.setattr(engine, "_record", lost)


def test_index_work_of_a_run_stopped_before_its_history_row_is_not_redone(migrator, monkeypatch):
    """CREATE/DROP INDEX CONCURRENTLY commit on their own: a run that stopped after one left the
    index built (or dropped) and no history row. Its progress row tells the next run that this
    work is its own: accepted with a note. An index that was there before is still refused."""
    migrator.add(*DEFAULT_SET[:2])
    assert migrator(action="apply", phase="expand")["ok"]
    migrator.write("V003__index_orders_email.sql", "CREATE INDEX CONCURRENTLY orders_email_idx ON orders (customer_email);\n")
    stop_before_the_history_row(monkeypatch)
    stopped = migrator(action="apply", phase="expand")
    assert stopped["ok"] is False and "network error" in stopped["error"], stopped
    assert migrator.query("SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass('orders_email_idx')") == [[True]]
    assert [row[0] for row in history(migrator)] == [1, 2]

    resumed = migrator(action="apply", phase="expand")
    assert resumed["ok"], resumed
    (record,) = resumed["applied"]
    assert record["notes"] == ["statement 1 (line 1) not run: index public.orders_email_idx was built by a run that stopped "
                               "before recording the migration: CREATE INDEX orders_email_idx ON public.orders USING btree (customer_email)"]
    assert [row[0] for row in history(migrator)] == [1, 2, 3]
    assert migrator.query(f"SELECT count(*) FROM {HISTORY}_progress") == [[0]]

    # An index of that name made by hand, not by this migration: refused as PostgreSQL refuses
    # it, saying what to do, and with no progress row to be mistaken for this run's work.
    migrator.query("CREATE INDEX orders_total_idx ON orders (created_at)")
    migrator.write("V004__index_orders_total.sql", "CREATE INDEX CONCURRENTLY orders_total_idx ON orders (total_cents);\n")
    for _attempt in range(2):
        clash = migrator(action="apply", phase="expand")
        assert clash["ok"] is False and "42P07" in clash["error"], clash
        assert "public.orders_total_idx exists (CREATE INDEX orders_total_idx ON public.orders USING btree (created_at)); " in clash["error"]
        assert migrator.query(f"SELECT count(*) FROM {HISTORY}_progress") == [[0]]
    assert [row[0] for row in history(migrator)] == [1, 2, 3]
    (migrator.dir / "V004__index_orders_total.sql").unlink()

    # The unapplied migration edited after its run stopped: the progress row is another text's,
    # so the index that run built is not taken for the edited statement's (UNIQUE) one.
    migrator.write("V004__index_orders_status.sql", "CREATE INDEX CONCURRENTLY orders_status_idx ON orders (status);\n")
    stop_before_the_history_row(monkeypatch)
    assert migrator(action="apply", phase="expand")["ok"] is False
    migrator.write("V004__index_orders_status.sql", "CREATE UNIQUE INDEX CONCURRENTLY orders_status_idx ON orders (status);\n")
    edited = migrator(action="apply", phase="expand")
    assert edited["ok"] is False and "42P07" in edited["error"] and "add IF NOT EXISTS" in edited["error"], edited
    assert [row[0] for row in history(migrator)] == [1, 2, 3]
    (migrator.dir / "V004__index_orders_status.sql").unlink()

    migrator.write("V004__drop_orders_email_idx.sql", "DROP INDEX CONCURRENTLY orders_email_idx;\n")
    stop_before_the_history_row(monkeypatch)
    assert migrator(action="apply", phase="contract")["ok"] is False
    assert migrator.query("SELECT to_regclass('orders_email_idx') IS NULL") == [[True]]
    dropped = migrator(action="apply", phase="contract")
    assert dropped["ok"], dropped
    assert dropped["applied"][0]["notes"] == [
        "statement 1 (line 1) not run: index orders_email_idx was dropped by a run that stopped before recording the migration"]
    assert [row[0] for row in history(migrator)] == [1, 2, 3, 4]

    # A DROP of an index that never was (a typo) still fails, as PostgreSQL fails it.
    migrator.write("V005__drop_a_typo.sql", "DROP INDEX CONCURRENTLY orders_emial_idx;\n")
    typo = migrator(action="apply", phase="contract")
    assert typo["ok"] is False and "42704" in typo["error"] and "add IF EXISTS" in typo["error"], typo
    assert migrator.query(f"SELECT count(*) FROM {HISTORY}_progress") == [[0]]
    assert [row[0] for row in history(migrator)] == [1, 2, 3, 4]


def test_credentials_from_secrets_manager(migrator, aws, monkeypatch):
    """In the function: settings from the secret named by DB_SECRET_ARN, never echoed."""
    migrator.add(*DEFAULT_SET)
    secret = {"engine": "postgres", "host": migrator.params["host"], "port": migrator.params["port"],
              "username": migrator.params["user"], "password": migrator.params["password"],
              "dbname": migrator.params["database"]}
    from tests.harness.aws import client

    arn = client("secretsmanager").create_secret(Name="bluegreen/test/db", SecretString=json.dumps(secret))["ARN"]
    monkeypatch.delenv("MIGRATOR_DSN_JSON")
    monkeypatch.setenv("DB_SECRET_ARN", arn)
    monkeypatch.setenv("MIGRATOR_SSLMODE", "disable")  # the test server has no certificate
    result = migrator(action="apply", phase="expand")
    assert result["ok"] and result["current_version"] == 4
    reads = [r for r in aws.requests() if r["service"] == "secretsmanager" and r["action"] == "GetSecretValue"]
    assert len(reads) == 1

    # A wrong password: the error says so without echoing any secret.
    wrong = dict(secret, password="not-the-" + secret["password"])
    client("secretsmanager").put_secret_value(SecretId=arn, SecretString=json.dumps(wrong))
    denied = migrator(action="status")
    assert denied["ok"] is False and "password authentication failed" in denied["error"]
    assert wrong["password"] not in json.dumps(denied)

    monkeypatch.setenv("DB_SECRET_ARN", arn.replace("bluegreen/test/db", "bluegreen/test/none"))
    missing = migrator(action="status")
    assert missing["ok"] is False and "cannot read the database secret" in missing["error"]


@pytest.mark.parametrize("sql, phase, rule", [
    ("CREATE TABLE invoices (id bigint PRIMARY KEY, total bigint NOT NULL);", "expand", None),
    ("ALTER TABLE orders ADD COLUMN note text;", "expand", None),
    ("ALTER TABLE orders ADD COLUMN tier text NOT NULL DEFAULT 'basic';", "expand", None),
    ("ALTER TABLE orders ADD CONSTRAINT orders_total_positive CHECK (total_cents >= 0) NOT VALID;", "expand", None),
    ("CREATE INDEX CONCURRENTLY orders_status_idx ON orders (status);", "expand", None),
    ("ALTER TABLE orders ADD COLUMN token uuid DEFAULT gen_random_uuid();", "contract", "adding-field-with-default"),
    ("ALTER TABLE orders ADD COLUMN tier text NOT NULL;", "contract", "adding-required-field"),
    ("ALTER TABLE orders DROP COLUMN legacy_note;", "contract", "ban-drop-column"),
    ("ALTER TABLE orders RENAME COLUMN status TO state;", "contract", "renaming-column"),
    ("ALTER TABLE orders RENAME TO purchases;", "contract", "renaming-table"),
    ("ALTER TABLE orders ALTER COLUMN total_cents TYPE numeric;", "contract", "changing-column-type"),
    ("ALTER TABLE orders ALTER COLUMN shipped_at SET NOT NULL;", "contract", "adding-not-nullable-field"),
    ("ALTER TABLE orders ALTER COLUMN status DROP NOT NULL;", "contract", "ban-drop-not-null"),
    ("DROP TABLE orders;", "contract", "ban-drop-table"),
    ("CREATE INDEX orders_total_idx ON orders (total_cents);", "contract", "require-concurrent-index-creation"),
    ("ALTER TABLE orders ADD CONSTRAINT orders_total_positive CHECK (total_cents >= 0);", "contract",
     "constraint-missing-not-valid"),
    ("TRUNCATE orders;", "contract", "statement-kind:TRUNCATE"),
])
def test_statement_classification(tmp_path, sql, phase, rule):
    path = tmp_path / "V001__x.sql"
    path.write_text("-- one statement\n" + sql + "\n")
    result = packaging.classify_file(str(path), packaging.find_squawk())
    (stmt,) = result["statements"]
    assert (stmt["phase"], result["phase"]) == (phase, phase)
    assert stmt["line"] == 2 and path.read_bytes()[stmt["start"]:stmt["end"]].decode() == sql
    if rule is None:
        assert stmt["reasons"] == []
    else:
        assert stmt["reasons"][0]["rule"] == rule


def test_a_resumed_migration_builds_the_index_its_stopped_run_did_not_get_to(migrator):
    """Two index statements: the first built, the second failed (duplicates). Once the data is
    mended, the next run accepts the first (its progress row) and builds the second."""
    migrator.add(*DEFAULT_SET[:2])
    assert migrator(action="apply", phase="expand")["ok"]
    migrator.query("INSERT INTO orders (customer_email) VALUES ('a@example.com'), ('a@example.com')")
    migrator.write("V003__two_indexes.sql", "CREATE INDEX CONCURRENTLY orders_total_idx ON orders (total_cents);\n"
                   "CREATE UNIQUE INDEX CONCURRENTLY orders_email_uniq ON orders (customer_email);\n")
    failed = migrator(action="apply", phase="expand")
    assert failed["ok"] is False and "statement 2 (line 2) failed" in failed["error"] and "23505" in failed["error"]
    migrator.query("DELETE FROM orders WHERE id = (SELECT max(id) FROM orders)")
    resumed = migrator(action="apply", phase="expand")
    assert resumed["ok"], resumed
    assert resumed["applied"][0]["notes"] == [
        "statement 1 (line 1) not run: index public.orders_total_idx was built by a run that stopped before recording the migration: "
        "CREATE INDEX orders_total_idx ON public.orders USING btree (total_cents)"]
    valid = migrator.query("SELECT c.relname, i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                           "WHERE c.relname IN ('orders_total_idx', 'orders_email_uniq') ORDER BY 1")
    assert valid == [["orders_email_uniq", True], ["orders_total_idx", True]]
    assert migrator.query(f"SELECT count(*) FROM {HISTORY}_progress") == [[0]]


@pytest.mark.parametrize("rebuild", ["REINDEX INDEX CONCURRENTLY orders_email_idx;", "REINDEX TABLE CONCURRENTLY public.orders;",
                                     "REINDEX SCHEMA CONCURRENTLY public;", "REINDEX DATABASE CONCURRENTLY {database};"])
def test_a_failed_concurrent_rebuild_s_leftover_is_dropped_before_the_rebuild(migrator, rebuild):
    """REINDEX CONCURRENTLY that failed left an INVALID orders_email_idx_ccnew, which writes keep
    updating; the next rebuild drops it first instead of adding _ccnew1 beside it. A leftover in
    another schema is the database's rebuild's to drop, not the others'."""
    migrator.add(*DEFAULT_SET[:2])
    assert migrator(action="apply", phase="expand")["ok"]
    migrator.query("CREATE INDEX orders_email_idx ON orders (customer_email)")
    migrator.query("INSERT INTO orders (customer_email) VALUES ('a@example.com'), ('a@example.com')")
    # The leftover as PostgreSQL leaves it: an INVALID index of that name (a failed unique build).
    with pytest.raises(Exception, match="23505"):
        migrator.query("CREATE UNIQUE INDEX CONCURRENTLY orders_email_idx_ccnew ON orders (customer_email)")
    # Not a leftover: an INVALID index that is no concurrent rebuild's copy stays.
    with pytest.raises(Exception, match="23505"):
        migrator.query("CREATE UNIQUE INDEX CONCURRENTLY orders_email_uniq ON orders (customer_email)")
    migrator.query("CREATE SCHEMA archive")
    migrator.query("CREATE TABLE archive.orders AS SELECT * FROM orders")
    migrator.query("CREATE INDEX orders_email_idx ON archive.orders (customer_email)")
    with pytest.raises(Exception, match="23505"):
        migrator.query("CREATE UNIQUE INDEX CONCURRENTLY orders_email_idx_ccold ON archive.orders (customer_email)")
    database = migrator.query("SELECT current_database()")[0][0]
    migrator.write("V003__rebuild.sql", rebuild.format(database=database) + "\n")
    assert migrator(action="apply", phase="expand")["ok"]
    left = migrator.query("SELECT n.nspname, c.relname, i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
                          " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relname LIKE 'orders%' ORDER BY 1, 2")
    assert not [row for row in left if row[0] == "public" and row[1].startswith("orders_email_idx_cc")], left
    assert ["public", "orders_email_idx", True] in left
    assert ["public", "orders_email_uniq", False] in left, left
    archived = ["archive", "orders_email_idx_ccold", False] in left
    assert archived is not rebuild.startswith("REINDEX DATABASE"), left


def test_the_copies_a_real_failed_table_rebuild_left_are_dropped_long_names_and_toast_included(migrator):
    """REINDEX TABLE CONCURRENTLY makes every copy first (the TOAST table's too), then fails on
    the expression index whose function now raises: copies of all of them stay INVALID, the long
    name's cut short. The migration's rebuild drops them all first, and leaves no INVALID index."""
    long_name = "docs_lower_body_expression_index_with_a_rather_long_name_x"
    migrator.query("CREATE FUNCTION doc_key(t text) RETURNS text IMMUTABLE LANGUAGE sql AS $$ SELECT lower(t) $$")
    migrator.query("CREATE TABLE docs (id integer PRIMARY KEY, body text)")
    migrator.query(f"CREATE INDEX {long_name} ON docs (doc_key(body))")
    migrator.query("INSERT INTO docs VALUES (1, 'fine'), (2, 'boom')")
    migrator.query("CREATE OR REPLACE FUNCTION doc_key(t text) RETURNS text IMMUTABLE LANGUAGE plpgsql AS "
                   "$$ BEGIN IF t = 'boom' THEN RAISE EXCEPTION 'boom'; END IF; RETURN lower(t); END $$")
    with pytest.raises(Exception, match="boom"):
        migrator.query("REINDEX TABLE CONCURRENTLY docs")
    invalid = ("SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE NOT i.indisvalid AND i.indrelid IN"
               " (SELECT oid FROM pg_class WHERE relname = 'docs' UNION SELECT reltoastrelid FROM pg_class WHERE relname = 'docs')"
               " ORDER BY 1")
    copies = [row[0] for row in migrator.query(invalid)]
    assert "docs_pkey_ccnew" in copies and any(c.startswith("pg_toast_") for c in copies), copies
    assert any(c.startswith(long_name[:50]) and c != long_name + "_ccnew" for c in copies), copies

    migrator.query("CREATE OR REPLACE FUNCTION doc_key(t text) RETURNS text IMMUTABLE LANGUAGE sql AS $$ SELECT lower(t) $$")
    migrator.write("V001__rebuild_docs.sql", "REINDEX TABLE CONCURRENTLY docs;\n")
    assert migrator(action="apply", phase="expand")["ok"]
    assert migrator.query(invalid) == []


def test_the_progress_table_name_fits_postgresql_s_limit():
    engine = load_index().migrator_engine
    assert engine.progress_table_name("bluegreen_schema_history") == "bluegreen_schema_history_progress"
    long_name = "h" * 63
    name = engine.progress_table_name(long_name)
    assert len(name) == 63 and name != long_name and name.startswith("h" * 45 + "_progress_")
    assert engine.progress_table_name("g" * 63) != name


def test_concurrent_index_statements_name_their_index_and_table(tmp_path):
    path = tmp_path / "V001__indexes.sql"
    path.write_text('CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS "Refund_Ref" ON ONLY sales.refunds USING btree (lower(ref));\n'
                    "DROP INDEX CONCURRENTLY IF EXISTS sales.refunds_old_idx;\n"
                    "CREATE INDEX CONCURRENTLY orders_total_idx ON orders (total_cents);\n")
    created, dropped, plain = packaging.classify_file(str(path), packaging.find_squawk())["statements"]
    assert (created["index_name"], created["index_table"]) == ('"Refund_Ref"', "sales.refunds")
    assert dropped["drop_index"] == "sales.refunds_old_idx" and "index_name" not in dropped
    assert (plain["index_name"], plain["index_table"]) == ("orders_total_idx", "orders")
    assert "drop_index" not in created and "drop_index" not in plain
    rebuilds = tmp_path / "V002__rebuilds.sql"
    rebuilds.write_text('REINDEX (VERBOSE) INDEX CONCURRENTLY sales."Refund_Ref";\nREINDEX TABLE CONCURRENTLY orders;\n')
    index, table = packaging.classify_file(str(rebuilds), packaging.find_squawk())["statements"]
    assert (index.get("reindex_index"), index.get("reindex_table")) == ('sales."Refund_Ref"', None)
    assert (table.get("reindex_index"), table.get("reindex_table")) == (None, "orders")
    wider = tmp_path / "V003__wider.sql"
    wider.write_text('REINDEX SCHEMA CONCURRENTLY "Sales";\nREINDEX (VERBOSE) DATABASE CONCURRENTLY app;\n')
    schema, database = packaging.classify_file(str(wider), packaging.find_squawk())["statements"]
    assert (schema.get("reindex_schema"), schema.get("reindex_database")) == ('"Sales"', None)
    assert (database.get("reindex_schema"), database.get("reindex_database")) == (None, True)


def test_packaging_rejects_unsafe_layouts(tmp_path):
    squawk = packaging.find_squawk()
    mixed = tmp_path / "V001__mixed.sql"
    mixed.write_text("SET lock_timeout = '2s';\nCREATE TABLE t (id bigint);\nCREATE INDEX CONCURRENTLY t_idx ON t (id);\n")
    with pytest.raises(packaging.PackagingError, match="line 2: CREATE_TABLE cannot share a migration"):
        packaging.classify_file(str(mixed), squawk)
    unnamed = tmp_path / "V002__unnamed.sql"
    unnamed.write_text("CREATE INDEX CONCURRENTLY ON orders (id);\n")
    with pytest.raises(packaging.PackagingError, match="name the concurrently created index"):
        packaging.classify_file(str(unnamed), squawk)
    broken = tmp_path / "V003__broken.sql"
    broken.write_text("CREATE TABLE ok (id bigint);\nALTER TABLE orders ADD COLUM x int;\n")
    with pytest.raises(packaging.PackagingError, match="V003__broken.sql: syntax error at line 2"):
        packaging.classify_file(str(broken), squawk)
