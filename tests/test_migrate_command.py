"""`monitor migrate`: ops bring the schema up to date deliberately (a deploy script, before restarting the
replicas) instead of at the daemon's next start; the read-only commands that find an old schema say so.

It prints the version found and the target, applies the pending migrations with the daemon's own steps (SQLite's
write lock, PostgreSQL's advisory lock: safe beside running replicas), is idempotent, `--dry-run` lists what
would run and writes nothing; an error is one line and exit 1, a bad argument exit 2.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path

import pytest

from monitor.store.database import Store
from monitor.store.migrations import MIGRATIONS, migration_statements
from tests.conftest import cli, write_config
from tests.pgserver import schema_at

OLD = len(MIGRATIONS) - 1           # one release behind


def _old_sqlite(path: Path, version: int = OLD) -> None:
    """A database left by the previous release: the first `version` migrations, and its user_version."""
    with sqlite3.connect(path) as conn:
        for step in range(version):
            for statement in migration_statements(step):
                conn.execute(statement)
        conn.execute(f"PRAGMA user_version={version}")


def _old_postgres(url: str, version: int = OLD) -> None:
    schema_at(url, version)


@pytest.fixture
def target(tmp_path, backend) -> str:
    """An old database on each backend; returns what `--db` takes."""
    if backend == "sqlite":
        path = tmp_path / "monitor.db"
        _old_sqlite(path)
        return str(path)
    _old_postgres(backend)
    return backend


def _version(target: str) -> int:
    store = Store(target, readonly=True, migrate=False)
    try:
        return store.schema_version()
    finally:
        store.close()


def test_read_only_commands_name_monitor_migrate_then_migrate_is_idempotent(target, tmp_path, capsys):
    cfg, rules = write_config(tmp_path, sources="[]\n")
    assert cli("status", "--config", str(cfg), "--db", target) == 1
    err = capsys.readouterr().err
    assert f"schema v{OLD}" in err and "run `monitor migrate`" in err and len(err.strip().splitlines()) == 1

    assert cli("migrate", "--db", target, "--dry-run") == 0
    out = capsys.readouterr().out
    assert f"schema v{OLD}, this version of mention-monitor uses v{len(MIGRATIONS)}" in out
    assert "would apply 1 migration(s) (dry run: nothing was written)" in out
    latest = migration_statements(OLD, postgres=target.startswith("postgresql"))
    assert (f"  v{len(MIGRATIONS)}: {' '.join(latest[0].split())[:60]}" if latest else
            f"  v{len(MIGRATIONS)}: no statement on sqlite; only the version number changes") in out
    assert _version(target) == OLD                                      # the dry run wrote nothing

    assert cli("migrate", "--db", target) == 0
    assert f"migrated v{OLD} -> v{len(MIGRATIONS)} (1 migration(s) applied)" in capsys.readouterr().out
    assert _version(target) == len(MIGRATIONS)
    assert cli("migrate", "--db", target) == 0                         # idempotent
    assert f"already at v{len(MIGRATIONS)}: nothing to do" in capsys.readouterr().out
    assert cli("status", "--config", str(cfg), "--db", target, "--json") in (0, 1)   # readable now
    assert "schema v" not in capsys.readouterr().err


def test_json_and_the_config_s_database(target, tmp_path, capsys, monkeypatch):
    cfg, _ = write_config(tmp_path, sources="[]\n")
    if not target.startswith("postgresql"):
        monkeypatch.delenv("MONITOR_DATABASE_URL", raising=False)    # storage.path of the config is the file
    assert cli("migrate", "--config", str(cfg), "--json", "--dry-run") == 0
    dry = json.loads(capsys.readouterr().out)
    assert (dry["found"], dry["target"], dry["version"], dry["applied"], dry["dry_run"]) == (
        OLD, len(MIGRATIONS), OLD, [], True)
    assert [p["version"] for p in dry["pending"]] == [len(MIGRATIONS)]
    assert dry["pending"][0]["statements"] == migration_statements(OLD, postgres=target.startswith("postgresql"))
    assert cli("migrate", "--config", str(cfg), "--json") == 0
    done = json.loads(capsys.readouterr().out)
    assert (done["found"], done["version"], done["applied"]) == (OLD, len(MIGRATIONS), [len(MIGRATIONS)])
    assert done["dialect"] == ("postgres" if target.startswith("postgresql") else "sqlite")


def test_a_fresh_sqlite_database_is_created_and_a_dry_run_creates_nothing(tmp_path, capsys):
    db = tmp_path / "new" / "monitor.db"
    assert cli("migrate", "--db", str(db), "--dry-run") == 0
    assert f"would apply {len(MIGRATIONS)} migration(s)" in capsys.readouterr().out and not db.exists()
    assert cli("migrate", "--db", str(db)) == 0
    assert f"migrated v0 -> v{len(MIGRATIONS)}" in capsys.readouterr().out and _version(str(db)) == len(MIGRATIONS)


def test_errors_are_one_line_and_a_bad_argument_exits_2(tmp_path, capsys):
    db = tmp_path / "monitor.db"
    _old_sqlite(db, 0)
    with sqlite3.connect(db) as conn:
        conn.execute(f"PRAGMA user_version={len(MIGRATIONS) + 2}")   # left by a newer release
    for extra in ((), ("--dry-run",)):
        assert cli("migrate", "--db", str(db), *extra) == 1
        err = capsys.readouterr().err.strip().splitlines()
        assert err == [f"monitor: database {db} has schema v{len(MIGRATIONS) + 2}, newer than this version of "
                       f"mention-monitor understands (v{len(MIGRATIONS)}); upgrade first"]
    assert cli("migrate", "--db", str(db), "--dry-run=yes") == 2
    assert cli("migrate", "--bogus") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all(line.startswith("monitor") and "Traceback" not in line for line in err)


def test_unreachable_postgres_is_one_line_without_the_password(capsys, monkeypatch):
    import monitor.store.postgres as pgmod
    from tests.pgserver import _free_port

    class QuickPool(pgmod.ConnectionPool):       # the real pool, waiting 1 s instead of 15 s for the server
        def open(self, wait: bool = False, timeout: float = 30.0) -> None:
            super().open(wait=wait, timeout=1.0)

    monkeypatch.setattr(pgmod, "ConnectionPool", QuickPool)
    assert cli("migrate", "--db", f"postgresql://monitor:s3cr3t@127.0.0.1:{_free_port()}/postgres") == 1
    err = capsys.readouterr().err
    said = [line for line in err.splitlines() if line.startswith("monitor")]   # besides psycopg.pool's log lines
    assert len(said) == 1 and said[0].startswith("monitor: cannot connect to PostgreSQL")
    assert "s3cr3t" not in err and "Traceback" not in err


def test_postgres_migrations_beside_each_other_run_once_under_the_advisory_lock():
    """Two deploy scripts (or a script and a starting replica) at once: one migrates, the other finds it done."""
    from tests.pgserver import fresh_schema_url
    url = fresh_schema_url()
    _old_postgres(url)
    stores = [Store(url, migrate=False) for _ in range(2)]
    results: list[tuple[int, int]] = []
    barrier = threading.Barrier(2)

    def run(store: Store) -> None:
        barrier.wait()
        results.append(store.migrate())

    threads = [threading.Thread(target=run, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    for s in stores:
        s.close()
    assert sorted(results) == [(OLD, len(MIGRATIONS)), (len(MIGRATIONS), len(MIGRATIONS))]
    assert _version(url) == len(MIGRATIONS)


def test_the_password_of_a_postgres_url_is_not_printed(capsys):
    from tests.pgserver import fresh_schema_url
    url = fresh_schema_url().replace("://monitor@", "://monitor:s3cr3t@")     # trust auth: any password
    _old_postgres(url)
    assert cli("migrate", "--db", url, "--json") == 0
    out = capsys.readouterr().out
    assert "s3cr3t" not in out and json.loads(out)["applied"] == [len(MIGRATIONS)]
