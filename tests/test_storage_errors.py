"""Storage errors say whose fault they are: `StorageRejected` (this statement, this row) or `StorageUnavailable`
(the database: locked past the busy timeout, a lost connection, read-only), on SQLite and PostgreSQL alike,
both `StorageError`s, classified from the driver's own error classes, never quoting a bound value.

The regressions: on PostgreSQL every database error was a bare `StorageError` (wrapped by message), and on
SQLite raw `sqlite3` errors left the store (`Store.query`, a statement in `tx()`), so no caller could tell
"this row is bad" from "the database is down".
"""

from __future__ import annotations

import sqlite3

import psycopg
import psycopg.errors as pe
import pytest
from psycopg_pool import PoolTimeout

from monitor.core.errors import MonitorError, StorageError, StorageRejected, StorageUnavailable
from monitor.store import database
from monitor.store.database import Store
from monitor.store.driver_errors import from_psycopg, from_sqlite

TEXT = "my very private complaint about acme's billing"


def test_both_classes_are_storage_errors_so_existing_handlers_keep_working():
    for cls in (StorageUnavailable, StorageRejected):
        assert issubclass(cls, StorageError) and issubclass(cls, MonitorError)
    assert not issubclass(StorageUnavailable, StorageRejected) and not issubclass(StorageRejected, StorageUnavailable)


@pytest.mark.parametrize(("exc", "unavailable"), [
    (pe.AdminShutdown("terminating connection due to administrator command"), True),      # 57P01
    (pe.QueryCanceled("canceling statement due to statement timeout"), True),             # 57014
    (pe.SerializationFailure("could not serialize access"), True),                        # 40001
    (pe.DiskFull("could not extend file"), True),                                          # 53100
    (pe.ReadOnlySqlTransaction("cannot execute UPDATE in a read-only transaction"), True),  # 25006: a standby
    (psycopg.OperationalError("consuming input failed: server closed the connection unexpectedly"), True),
    (psycopg.InterfaceError("the connection is closed"), True),
    (PoolTimeout("couldn't get a connection after 30.00 sec"), True),
    (pe.UniqueViolation("duplicate key value violates unique constraint"), False),        # 23505
    (pe.StringDataRightTruncation("value too long for type character varying(5)"), False),  # 22001
    (pe.UndefinedTable('relation "nope" does not exist'), False),                         # 42P01
    (pe.ProgramLimitExceeded("statement is too complex"), False),                         # 54000
    (psycopg.DataError("cannot adapt type"), False),
])
def test_psycopg_errors_are_classified_by_sqlstate_then_by_class(exc, unavailable):
    out = from_psycopg(exc, sql="UPDATE mentions SET x = ?")
    assert isinstance(out, StorageUnavailable if unavailable else StorageRejected)
    assert out.driver == type(exc).__name__ and str(out).startswith(f"{type(exc).__name__}: ")
    assert "[sql: UPDATE mentions SET x = ?]" in str(out)


def _sqlite_error(cls: type[sqlite3.Error], code: int, name: str, message: str) -> sqlite3.Error:
    exc = cls(message)
    exc.sqlite_errorcode = code
    exc.sqlite_errorname = name
    return exc


@pytest.mark.parametrize(("exc", "unavailable"), [
    (_sqlite_error(sqlite3.OperationalError, 5, "SQLITE_BUSY", "database is locked"), True),
    (_sqlite_error(sqlite3.OperationalError, 10 | (3 << 8), "SQLITE_IOERR_WRITE", "disk I/O error"), True),
    (_sqlite_error(sqlite3.OperationalError, 8, "SQLITE_READONLY", "attempt to write a readonly database"), True),
    (_sqlite_error(sqlite3.OperationalError, 13, "SQLITE_FULL", "database or disk is full"), True),
    (sqlite3.ProgrammingError("Cannot operate on a closed database."), True),
    (_sqlite_error(sqlite3.IntegrityError, 19 | (8 << 8), "SQLITE_CONSTRAINT_UNIQUE", "UNIQUE constraint failed"), False),
    (_sqlite_error(sqlite3.OperationalError, 1, "SQLITE_ERROR", "no such table: nope"), False),
    (sqlite3.ProgrammingError("Incorrect number of bindings supplied."), False),
])
def test_sqlite_errors_are_classified_by_result_code(exc, unavailable):
    assert isinstance(from_sqlite(exc), StorageUnavailable if unavailable else StorageRejected)


@pytest.fixture
def sqlite_store(tmp_path, monkeypatch):
    monkeypatch.setattr(database, "BUSY_TIMEOUT_S", 0.2)      # the seam: the busy timeout a Store opens with
    store = Store(tmp_path / "monitor.db")
    yield store
    store.close()


def _insert(db, external_id: str = "x1", text: str = TEXT):
    return db.execute("INSERT INTO mentions (source_id, source_kind, external_id, text, collected_at)"
                      " VALUES (?, ?, ?, ?, ?)", ("news", "rss", external_id, text, 1.0))


def test_sqlite_constraint_leaves_the_transaction_as_storage_rejected(sqlite_store):
    with sqlite_store.tx() as db:
        _insert(db)
    with pytest.raises(StorageRejected) as caught, sqlite_store.tx() as db:
        _insert(db)
    assert caught.value.driver == "IntegrityError" and "UNIQUE constraint failed" in str(caught.value)
    assert TEXT not in str(caught.value)
    with pytest.raises(StorageRejected, match="no such table: nope"):
        sqlite_store.query("SELECT * FROM nope WHERE text = ?", (TEXT,))


def test_sqlite_locked_past_the_busy_timeout_is_storage_unavailable(sqlite_store):
    blocker = sqlite3.connect(sqlite_store.path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StorageUnavailable, match="database is locked") as caught, sqlite_store.tx() as db:
            _insert(db)
        assert caught.value.driver == "OperationalError"
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    with sqlite_store.tx() as db:                 # the same store works again once the lock is gone
        _insert(db)


def test_sqlite_write_to_a_read_only_store_is_storage_unavailable(sqlite_store):
    ro = Store(sqlite_store.path, readonly=True)
    try:
        with pytest.raises(StorageUnavailable, match="readonly"), ro.tx() as db:
            _insert(db)
    finally:
        ro.close()


# -- PostgreSQL: the test session's server (tests/pgserver.py) -------------------------------------------------
@pytest.fixture
def pg_store():
    from tests.pgserver import fresh_schema_url
    store = Store(fresh_schema_url())
    yield store
    store.close()


def test_postgres_constraint_and_data_errors_are_rejected_without_the_row_values(pg_store):
    with pg_store.tx() as db:
        _insert(db)
    with pytest.raises(StorageRejected) as caught, pg_store.tx() as db:
        _insert(db)
    err = caught.value
    assert err.driver == "UniqueViolation" and err.sqlstate == "23505"
    assert "duplicate key value" in str(err) and "[sql: INSERT INTO mentions" in str(err)
    assert "x1" not in str(err) and TEXT not in str(err)                    # DETAIL: Key (...)=(news, x1)

    with pg_store.tx() as db:
        db.execute("CREATE TABLE short (id INTEGER PRIMARY KEY, v VARCHAR(5), n INTEGER)")
    with pytest.raises(StorageRejected, match="value too long") as caught, pg_store.tx() as db:
        db.execute("INSERT INTO short (id, v) VALUES (1, ?)", (TEXT,))
    assert caught.value.sqlstate == "22001" and TEXT not in str(caught.value)
    with pytest.raises(StorageRejected) as caught:                           # the primary message quotes the value
        pg_store.query("SELECT * FROM short WHERE n = ?::integer", (TEXT,))
    assert caught.value.sqlstate == "22P02" and TEXT not in str(caught.value) and "<value>" in str(caught.value)


def test_postgres_connection_killed_mid_transaction_is_unavailable_and_the_pool_recovers(pg_store):
    from tests.pgserver import base_url
    with pytest.raises(StorageUnavailable) as caught, pg_store.tx() as db:
        pid = db.execute("SELECT pg_backend_pid()").fetchone()[0]
        with psycopg.connect(base_url(), autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        _insert(db)
    assert not isinstance(caught.value, StorageRejected)
    with pg_store.tx() as db:                     # the broken connection was discarded: the next one works
        _insert(db)
    assert pg_store.one("SELECT COUNT(*) AS n FROM mentions")["n"] == 1


def test_postgres_unreachable_is_unavailable_and_the_password_stays_out(monkeypatch):
    import monitor.store.postgres as pgmod
    from tests.pgserver import _free_port

    class QuickPool(pgmod.ConnectionPool):       # the real pool, waiting 1 s instead of 15 s for the server
        def open(self, wait: bool = False, timeout: float = 30.0) -> None:
            super().open(wait=wait, timeout=1.0)

    monkeypatch.setattr(pgmod, "ConnectionPool", QuickPool)
    with pytest.raises(StorageUnavailable) as caught:
        Store(f"postgresql://monitor:s3cr3t-pw@127.0.0.1:{_free_port()}/postgres")
    assert "s3cr3t-pw" not in str(caught.value) and "cannot connect to PostgreSQL" in str(caught.value)
