"""Benchmark: apply 100 small generated migrations with the migrator engine on a throwaway
local PostgreSQL (started with the test harness), then re-run (no-op) and print the figures.

    python bench/migrations_bench.py [--count 100]
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "build" / "collections"), str(ROOT / "migrator")]

import migrator_engine  # noqa: E402
import pg8000.native  # noqa: E402
from ansible_collections.bluegreen.migration.plugins.module_utils import packaging  # noqa: E402
from tests.harness.postgres import PostgresServer  # noqa: E402


def generate(directory, count):
    """A table, then columns, backfills, NOT VALID checks and concurrent indexes in turn."""
    Path(directory, "V001__create_items.sql").write_text("CREATE TABLE items (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY);\n")
    for version in range(2, count + 1):
        kind = version % 4
        if kind == 0:
            sql = f"CREATE INDEX CONCURRENTLY IF NOT EXISTS items_c{version - 1}_idx ON items (c{version - 1});\n"
        elif kind == 1:
            sql = f"ALTER TABLE items ADD CONSTRAINT items_c{version - 2}_check CHECK (c{version - 2} >= 0) NOT VALID;\n"
        elif kind == 2:
            sql = f"ALTER TABLE items ADD COLUMN c{version} bigint NOT NULL DEFAULT 0;\n"
        else:
            sql = f"ALTER TABLE items ADD COLUMN c{version} bigint;\nUPDATE items SET c{version} = id;\n"
        Path(directory, f"V{version:03d}__step_{version}.sql").write_text(sql)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work, PostgresServer() as server:
        migrations = os.path.join(work, "migrations")
        os.mkdir(migrations)
        generate(migrations, args.count)
        started = time.monotonic()
        manifest = packaging.build_manifest(migrations)
        classify_s = time.monotonic() - started
        database = server.create_database("bench")
        params = server.params(database)
        engine = migrator_engine.Engine(lambda: pg8000.native.Connection(**params),
                                        migrator_engine.load_migrations(migrations, manifest))
        started = time.monotonic()
        result = engine.apply("expand")
        apply_s = time.monotonic() - started
        assert result["ok"] and len(result["applied"]) == args.count, result
        started = time.monotonic()
        again = engine.apply("expand")
        noop_s = time.monotonic() - started
        assert again["status"] == "up_to_date", again
        per = [m["duration_ms"] for m in result["applied"]]
        by_mode = {}
        for migration, record in zip(manifest["migrations"], result["applied"], strict=True):
            by_mode.setdefault("autocommit" if not migration["transactional"] else "transaction", []).append(record["duration_ms"])
        figures = {
            "migrations": args.count,
            "classify_s (squawk, package time)": round(classify_s, 2),
            "apply_wall_s": round(apply_s, 3),
            "per_migration_ms_mean": round(apply_s * 1000 / args.count, 1),
            "per_migration_ms_median": statistics.median(per),
            "per_migration_ms_max": max(per),
            "transaction_ms_median": statistics.median(by_mode.get("transaction", [0])),
            "autocommit_ms_median": statistics.median(by_mode.get("autocommit", [0])),
            "noop_rerun_ms (2 SCRAM logins)": round(noop_s * 1000, 1),
        }
        print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
