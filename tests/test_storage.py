"""Storage: migrations, idempotent ingestion, and the run lock."""

from __future__ import annotations

import pytest

from monitor.core.errors import LockHeld
from monitor.store.database import Store
from monitor.store.migrations import MIGRATIONS
from monitor.store.runlock import RunLock


def test_migrations_apply_once(tmp_path):
    path = tmp_path / "m.db"
    Store(path).close()
    store = Store(path)
    assert store.db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert {"mentions", "alerts", "deliveries", "sources", "alert_events", "feedback"} <= set(store.db.table_names())


def test_mentions_unique_per_source_and_external_id(fresh_db):
    row = ("s", "rss", "x1", "t", 0.0)
    sql = "INSERT OR IGNORE INTO mentions (source_id, source_kind, external_id, text, collected_at) VALUES (?,?,?,?,?)"
    with fresh_db.tx() as db:
        assert db.execute(sql, row).rowcount == 1
        assert db.execute(sql, row).rowcount == 0


def test_tx_rolls_back_on_error(fresh_db):
    with pytest.raises(RuntimeError), fresh_db.tx() as db:
        db.execute("INSERT INTO sources (id, kind) VALUES ('a', 'rss')")
        raise RuntimeError("boom")
    assert fresh_db.query("SELECT * FROM sources") == []


def test_run_lock_is_exclusive(tmp_path):
    db = str(tmp_path / "m.db")
    with RunLock(db), pytest.raises(LockHeld, match="another `monitor run`"):
        RunLock(db).acquire()
    with RunLock(db):
        pass            # released on exit


def test_concurrent_first_open_migrates_once(tmp_path):
    """Regression: two processes opening a fresh database at once failed with "table sources already exists"."""
    import subprocess
    import sys
    path = tmp_path / "race.db"
    code = f"from monitor.store.database import Store; Store({str(path)!r}).close()"
    procs = [subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE, text=True) for _ in range(6)]
    errors = [p.communicate(timeout=60)[1] for p in procs]
    assert all(p.returncode == 0 for p in procs), errors
    store = Store(path)
    assert store.db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)


def test_sqlite_sql_is_translated_for_postgresql_by_explicit_hooks():
    from monitor.store.dialect import to_postgres
    assert to_postgres("INSERT OR IGNORE INTO alert_stories (alert_id, key) VALUES (?, ?)") == \
        "INSERT INTO alert_stories (alert_id, key) VALUES (%s, %s) ON CONFLICT DO NOTHING"
    assert to_postgres("INSERT INTO alert_events (alert_id, at) VALUES (?, ?)").endswith("RETURNING id")  # lastrowid
    assert "IS DISTINCT FROM 'stale'" in to_postgres("SELECT 1 FROM mentions WHERE status IS NOT 'stale'")
    assert "IS NULL" in to_postgres("SELECT 1 FROM mentions WHERE status IS NULL")
    assert to_postgres("SELECT SUM(created_at < ?) FROM deliveries") == \
        "SELECT SUM(CASE WHEN created_at < %s THEN 1 ELSE 0 END) FROM deliveries"
    assert "(%s::bigint <> 0) AND" in to_postgres("SELECT id FROM alerts WHERE (? AND notified_at IS NULL)")
    assert to_postgres("SELECT 1 FROM d WHERE k LIKE 'halted:%' AND c = '?'") == \
        "SELECT 1 FROM d WHERE k ILIKE 'halted:%%' AND c = '?'"          # literals untouched (but % escaped)
    assert "json_array_elements_text" in to_postgres("SELECT 1 FROM json_each(mentions.brands) WHERE value = ?")


def test_a_new_sqlite_flavoured_migration_runs_on_postgresql_untouched(monkeypatch):
    """Engineers append SQLite syntax to MIGRATIONS; the translator carries it to PostgreSQL (no second text)."""
    from monitor.store import migrations
    from tests.pgserver import fresh_schema_url
    extra = """
    CREATE TABLE notes (id INTEGER PRIMARY KEY, alert_id INTEGER REFERENCES alerts (id), body TEXT NOT NULL,
        weight REAL, done INTEGER NOT NULL DEFAULT 0);   -- a comment with a ? in it
    CREATE INDEX notes_open ON notes (alert_id) WHERE done = 0;
    ALTER TABLE alerts ADD COLUMN note_count INTEGER NOT NULL DEFAULT 0;
    """
    monkeypatch.setattr(migrations, "MIGRATIONS", [*migrations.MIGRATIONS, extra])
    migrations.dialect.register_id_tables(migrations.MIGRATIONS)
    store = Store(fresh_schema_url())
    try:
        with store.tx() as db:
            first = db.execute("INSERT INTO notes (body, weight) VALUES (?, ?)", ("x", 0.5)).lastrowid
            second = db.execute("INSERT INTO notes (body) VALUES (?)", ("y",)).lastrowid
        assert (first, second) == (1, 2)
        assert store.one("SELECT COUNT(*) AS n FROM notes WHERE done = 0")["n"] == 2
        assert store.one("SELECT version FROM monitor_schema")["version"] == len(migrations.MIGRATIONS)
    finally:
        store.close()
