"""Storage: migrations, idempotent ingestion, and the run lock."""

from __future__ import annotations

import pytest

from monitor.core.errors import LockHeld
from monitor.store.database import MIGRATIONS, RunLock, Store


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
