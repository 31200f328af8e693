"""The store: mentions, alerts, deliveries, per-source cursors and HTTP validators, in SQLite or PostgreSQL.

The store is what makes "nothing lost, nothing twice" true. Ingestion is idempotent through
UNIQUE(source_id, external_id); a mention is committed before it is routed, an alert and its deliveries are
committed before anything is sent, and a delivery is marked sent only after Slack said ok. One connection
guarded by a lock serves every thread: writes are tiny, and WAL lets `monitor status` read meanwhile.

Two backends behind this one API: a file path opens SQLite (the embedded default); a `postgresql://` URL
(`storage.url` or `$MONITOR_DATABASE_URL`) opens PostgreSQL through a psycopg pool (`monitor.store.postgres`)
so several replicas can share the state. The SQL stays SQLite-flavoured everywhere; `monitor.store.dialect`
translates it, migrations included.

Errors: both backends raise `StorageError`s only, never a driver's own: `StorageUnavailable` when the database
cannot be used (locked past the busy timeout, disk I/O, read-only, a lost connection) and `StorageRejected` when
it refused the statement (a constraint, a data error), classified by `monitor.store.driver_errors`. On SQLite a
statement run inside `tx()` raises sqlite3's error to the code in the block (which may handle it); what leaves
the block is converted.

Migrations run when a writable Store opens (the daemon, `monitor run --once`), or deliberately with
`monitor migrate` (`Store(..., migrate=False)`, `schema_version`, `pending_migrations`, `migrate`). What they
are, and the rule they keep (additive only, so replicas of the previous release keep running on the new schema),
is `monitor.store.migrations`; this module applies them, one version at a time, under a lock.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlite_utils

from monitor.core.clock import Clock, SystemClock
from monitor.core.errors import StorageError, StorageUnavailable
from monitor.store import migrations
from monitor.store.driver_errors import from_sqlite

log = logging.getLogger(__name__)

BUSY_TIMEOUT_S = 10.0
PG_SCHEMA_LOCK = 7_216_001       # advisory lock id: replicas starting together migrate one at a time


def is_url(target: str | os.PathLike[str]) -> bool:
    return str(target).startswith(("postgresql://", "postgres://"))


class Store:
    """The one gateway to the database; every method is safe to call from any thread."""

    def __init__(self, path: str | os.PathLike[str], clock: Clock | None = None, *, readonly: bool = False,
                 idle_in_transaction: float | None = None, migrate: bool = True,
                 connect_timeout: float | None = None):
        """`readonly`: for commands that only look (`monitor status`): never creates, migrates or writes the file,
        so running one as another user (root, say) cannot leave anything the service user cannot open.

        `idle_in_transaction` (PostgreSQL; a replica passes its lease TTL): the server ends a session left idle
        inside a transaction that long. A replica paused mid-transaction (SIGSTOP, GC, a frozen VM) otherwise
        keeps its share lock on the lease row, so no one could take the lease over until it woke, and its
        commit would then go through long after its lease had lapsed; now it is cut off and commits nothing.

        `migrate=False` (`monitor migrate`): open without bringing the schema up to date nor checking its
        version; the caller reads `schema_version()` and calls `migrate()` itself.

        `connect_timeout` (PostgreSQL): fail within this many seconds, in one line, when the server cannot be
        reached (a one-shot command); None: the process's default (`monitor.store.patience.fail_fast`)."""
        self.auto_migrate = migrate
        self.path = str(path)
        self.idle_in_transaction = idle_in_transaction
        self.connect_timeout = connect_timeout
        self.clock = clock or SystemClock()
        self.readonly = readonly
        self._lock = threading.RLock()
        self._fences = threading.local()
        self.pg: Any = None
        self.dialect = "sqlite"
        self.display = self.path              # for messages: the URL without its password on PostgreSQL
        if is_url(self.path):
            self._open_postgres()
            return
        if readonly and not Path(self.path).exists():
            raise StorageError(f"no database at {self.path} yet: start the daemon (or run `monitor run --once`) first")
        if self.path != ":memory:" and not readonly:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            if readonly:
                uri = f"{Path(self.path).resolve().as_uri()}?mode=ro"
                conn = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_S, check_same_thread=False)
            else:
                conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, check_same_thread=False)
            self.db = sqlite_utils.Database(conn)
            if not readonly:
                self.db.execute("PRAGMA journal_mode=WAL")
                self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.execute("PRAGMA foreign_keys=ON")
            self.db.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
            # the database clock of leases (`db_now()` in SQL); PostgreSQL's is clock_timestamp()
            conn.create_function("db_now", 0, self.clock.now)
        except sqlite3.Error as exc:
            raise from_sqlite(exc, f"cannot open database {self.path}") from exc
        try:
            self._open(readonly)
        except sqlite3.OperationalError as exc:          # locked, read-only file system...: not corruption
            self.db.conn.close()
            raise from_sqlite(exc, f"cannot open database {self.path}") from None
        except sqlite3.DatabaseError as exc:
            self.db.conn.close()
            raise StorageUnavailable(corrupted(self.path, str(exc)), driver=type(exc).__name__) from None
        except StorageError:
            self.db.conn.close()
            raise

    def _open(self, readonly: bool) -> None:
        if not self.auto_migrate:
            return
        if readonly:
            version = self.db.execute("PRAGMA user_version").fetchone()[0]
            if version != self.target_version:
                raise StorageError(f"database {self.path} has schema v{version}, this version of mention-monitor "
                                   f"uses v{self.target_version}: run `monitor migrate` (or start the daemon once to "
                                   f"migrate it), then look again")
            return
        self._migrate()

    # -- schema version (`monitor migrate`) -------------------------------------------------------------
    @property
    def target_version(self) -> int:
        return len(migrations.MIGRATIONS)

    def schema_version(self) -> int:
        """The schema version the database is at now (0: empty)."""
        if self.pg is not None:
            return self._pg_version()
        try:
            with self._lock:
                return int(self.db.conn.execute("PRAGMA user_version").fetchone()[0])
        except sqlite3.Error as exc:
            raise from_sqlite(exc, f"cannot read the schema version of {self.path}") from exc

    def pending_migrations(self) -> list[tuple[int, list[str]]]:
        """(version it brings the schema to, its statements in this database's dialect) for each step to run."""
        version = self.schema_version()
        if version > self.target_version:
            raise StorageError(f"database {self.display} has schema v{version}, newer than this version of "
                               f"mention-monitor understands (v{self.target_version}); upgrade first")
        return [(step + 1, migrations.migration_statements(step, postgres=self.pg is not None))
                for step in range(version, self.target_version)]

    def migrate(self) -> tuple[int, int]:
        """Apply the pending migrations (safe beside a running daemon or replicas: SQLite's write lock, the
        PostgreSQL advisory lock); returns (version found under the lock, version now)."""
        if self.readonly:
            raise StorageError(f"database {self.display} was opened read-only: it cannot be migrated")
        if self.pg is not None:
            return self._migrate_postgres()
        return self._migrate()

    # -- plumbing ---------------------------------------------------------------------------------------
    def _migrate(self) -> tuple[int, int]:
        """Bring the schema up to date; safe when two processes open a fresh database at the same moment.

        Each step takes the write lock first (BEGIN IMMEDIATE) and re-reads the version inside it, so the
        second process waits, then sees the work already done (regression: "table sources already exists"
        when `monitor status` ran during the daemon's first start). Returns (version found, version now).
        """
        found: int | None = None
        with self._lock:
            while True:
                version: int | None = None
                try:
                    self.db.conn.execute("BEGIN IMMEDIATE")
                    version = int(self.db.conn.execute("PRAGMA user_version").fetchone()[0])
                    found = version if found is None else found
                    if version > self.target_version:
                        self.db.conn.rollback()
                        raise StorageError(f"database {self.path} has schema v{version}, newer than this version "
                                           f"of mention-monitor understands (v{self.target_version}); upgrade first")
                    if version == self.target_version:
                        self.db.conn.rollback()
                        return found, version
                    # executescript would COMMIT first; run the statements one by one inside our transaction
                    for statement in migrations.migration_statements(version):
                        self.db.conn.execute(statement)
                    self.db.conn.execute(f"PRAGMA user_version={version + 1}")
                    self.db.conn.commit()
                except sqlite3.Error as exc:
                    if self.db.conn.in_transaction:
                        self.db.conn.rollback()
                    doing = ("cannot start the migration" if version is None
                             else f"migration to schema v{version + 1} failed")
                    raise from_sqlite(exc, doing) from exc

    def _open_postgres(self) -> None:
        from monitor.store.postgres import PgPool, redact
        self.dialect = "postgres"
        offset = None if isinstance(self.clock, SystemClock) else (lambda: self.clock.now() - time.time())
        self.pg = PgPool(self.path, readonly=self.readonly, clock_offset=offset,
                         idle_in_transaction=self.idle_in_transaction, connect_timeout=self.connect_timeout)
        self.db = _AutoDb(self)  # type: ignore[assignment]   # the execute/query subset callers use
        self.display = redact(self.path)
        if self.readonly:
            version = self._pg_version()
            if version != self.target_version and self.auto_migrate:
                self.pg.close()
                raise StorageError(f"database {self.display} has schema v{version}, this version of "
                                   f"mention-monitor uses v{self.target_version}: run `monitor migrate` (or start a "
                                   f"replica once to migrate it)")
            return
        if self.auto_migrate:
            try:
                self._migrate_postgres()
            except BaseException:
                self.pg.close()
                raise

    def _pg_version(self) -> int:
        rows = self.pg.query("SELECT to_regclass('monitor_schema') IS NOT NULL AS present")
        if not rows or not rows[0]["present"]:
            return 0
        row = self.pg.query("SELECT version FROM monitor_schema")
        return int(row[0]["version"]) if row else 0

    def _migrate_postgres(self) -> tuple[int, int]:
        """As `_migrate`, for PostgreSQL: one replica at a time (the schema's advisory lock, held as a session
        lock for the whole run: `pg_online.lock_schema`), each step in one transaction, but the steps that build
        an index CONCURRENTLY (`pg_online.NON_TRANSACTIONAL`), run statement by statement, each idempotent, and
        marked done after their last. Returns (version found under the lock, version now)."""
        from monitor.store import pg_online
        try:
            with self.pg.pool.connection(timeout=self.pg.wait) as conn:   # autocommit: the lock and the builds
                pg_online.lock_schema(conn, PG_SCHEMA_LOCK)
                try:
                    return self._migrate_postgres_locked(conn)
                finally:
                    pg_online.unlock_schema(conn, PG_SCHEMA_LOCK)
        except StorageError:
            raise
        except Exception as exc:                  # psycopg's (the lock's connection), the pool's timeout
            from monitor.store.driver_errors import from_psycopg
            raise from_psycopg(exc, "cannot migrate the schema") from exc

    def _migrate_postgres_locked(self, conn: Any) -> tuple[int, int]:
        from monitor.store import pg_online
        with self.tx() as db:
            db.execute("CREATE TABLE IF NOT EXISTS monitor_schema (version INTEGER NOT NULL)")
            row = db.execute("SELECT version FROM monitor_schema").fetchone()
            if row is None:
                db.execute("INSERT INTO monitor_schema (version) VALUES (0)")
        version = int(row[0]) if row else 0
        if version > self.target_version:
            raise StorageError(f"database {self.display} has schema v{version}, newer than this version "
                               f"of mention-monitor understands (v{self.target_version}); upgrade first")
        for step in range(version, self.target_version):
            statements = migrations.postgres_statements(step)
            if step in pg_online.NON_TRANSACTIONAL:
                try:
                    pg_online.run_step(conn, step, statements)
                except Exception as exc:
                    raise pg_online.failed(exc, step, " ".join(statements)[:200]) from exc
                with self.tx() as db:
                    db.execute("UPDATE monitor_schema SET version = ?", (step + 1,))
                continue
            with self.tx() as db:                                     # the step is whole or absent
                for statement in statements:
                    try:
                        db.conn.execute(statement)
                    except Exception as exc:
                        from monitor.store.driver_errors import from_psycopg
                        raise from_psycopg(exc, f"migration to schema v{step + 1} failed", sql=statement) from exc
                db.execute("UPDATE monitor_schema SET version = ?", (step + 1,))
        if version == self.target_version:
            pg_online.refold(conn)                # a degraded v17 whose extension has since become available
        return version, max(version, self.target_version)

    @property
    def is_postgres(self) -> bool:
        return self.pg is not None

    @property
    def shared(self) -> bool:
        """True when other replicas may use the same database (leases can be refused)."""
        return self.pg is not None

    @contextmanager
    def fence(self, *leases: Any) -> Iterator[None]:
        """Every transaction this thread opens meanwhile commits only while these leases are still held.

        Checked (and the lease rows share-locked, so a takeover waits for this commit) at the start of each
        outermost transaction: a replica paused past its lease (GC, SIGSTOP, a VM migration) commits nothing.
        """
        stack: list[Any] = self._fences.__dict__.setdefault("stack", [])
        stack.extend(leases)
        try:
            yield
        finally:
            del stack[len(stack) - len(leases):]

    def _check_fences(self, db: Any) -> None:
        stack = getattr(self._fences, "stack", None)
        if stack:
            for lease in stack:
                lease.check(db)

    @contextmanager
    def tx(self) -> Iterator[sqlite_utils.Database]:
        """One atomic unit of work: all of it is committed, or none of it."""
        if self.pg is not None:
            with self._lock:
                outermost = self.pg.current is None
                with self.pg.transaction() as pdb:
                    if outermost:
                        self._check_fences(pdb)
                    yield pdb
            return
        with self._lock:
            if self.db.conn.in_transaction:      # nested: a savepoint inside the caller's transaction
                try:
                    with self.db.atomic():
                        yield self.db
                except sqlite3.Error as exc:     # leaves the block as a StorageError (see the module doc)
                    raise from_sqlite(exc) from exc
                return
            try:
                # IMMEDIATE takes the write lock up front: a deferred read-then-write transaction can fail
                # with SQLITE_BUSY_SNAPSHOT under WAL when another process (`monitor ack`) wrote meanwhile.
                self.db.conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:          # busy past the timeout: StorageUnavailable
                raise from_sqlite(exc, "cannot start a transaction") from exc
            try:
                self._check_fences(self.db)
                yield self.db
            except BaseException as exc:
                if self.db.conn.in_transaction:
                    try:
                        self.db.conn.execute("ROLLBACK")
                    except sqlite3.Error:        # SQLite rolled back itself (I/O error...): the cause is raised
                        pass
                if isinstance(exc, sqlite3.Error):
                    raise from_sqlite(exc) from exc
                raise
            try:
                self.db.conn.execute("COMMIT")
            except sqlite3.Error as exc:
                if self.db.conn.in_transaction:
                    self.db.conn.execute("ROLLBACK")
                raise from_sqlite(exc, "commit failed") from exc

    def query(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> list[dict[str, Any]]:
        if self.pg is not None:
            return self.pg.query(sql, params)      # outside a transaction: any pooled connection, no lock
        with self._lock:
            try:
                return list(self.db.query(sql, params))
            except sqlite3.Error as exc:
                raise from_sqlite(exc, sql=sql, params=params) from exc

    def one(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> dict[str, Any] | None:
        rows = self.query(sql, params)
        return rows[0] if rows else None

    def probe(self) -> StorageUnavailable | None:
        """Does the server answer a routing-shaped write in time? A stand-in mention inserted and marked routed,
        rolled back (`monitor.store.probe`). None: it answered; else the error (57014: slow; else an outage)."""
        from monitor.store.probe import probe
        return probe(self)

    def close(self, timeout: float = 5.0) -> None:
        """Close within `timeout` (the daemon passes what its stop bound leaves); what could not end in time
        is said in one WARNING (its uncommitted work is lost with the connection, never half-written)."""
        deadline = time.monotonic() + timeout
        coord = getattr(self, "_coordinator", None)
        if coord is not None and not coord.halt(timeout):   # no renewals on a closed store (drain released the leases)
            log.warning("stop bound reached: the lease renewal thread is still in a database call; closing anyway",
                        extra={"timeout_s": round(timeout, 2)})
        if self.pg is not None:
            self.pg.close(max(0.0, deadline - time.monotonic()))
            return
        with self._lock:
            self.db.conn.close()

    def quick_check(self) -> str | None:
        """None when SQLite's `PRAGMA quick_check` finds the file sound, else one line saying what is wrong.

        Run at start (daemon and `run --once`): a corrupted database must stop the start with one line and
        an ops alert, not fail every poll with "database disk image is malformed" and tell nobody. PostgreSQL
        checks its own pages (and a replica's connection errors are reported as they happen): nothing to do."""
        if self.dialect != "sqlite":
            return None
        try:
            with self._lock:
                rows = [str(r[0]) for r in self.db.execute("PRAGMA quick_check(5)").fetchall()]
        except sqlite3.DatabaseError as exc:
            rows = [str(exc)]
        if rows == ["ok"]:
            return None
        return corrupted(self.path, "; ".join(rows)[:300])

    def now(self) -> float:
        return self.clock.now()


def corrupted(path: str, detail: str) -> str:
    return (f"database {path} is corrupted ({detail}): stop the monitor, keep a copy, then restore a backup or "
            f"rebuild it with `sqlite3 {path} .recover | sqlite3 recovered.db`")


class _AutoDb:
    """`store.db` on PostgreSQL: each `execute` is its own short transaction (SQLite's autocommit reads)."""

    dialect = "postgres"

    def __init__(self, store: Store):
        self.store = store

    def execute(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> Any:
        with self.store.tx() as db:
            return db.execute(sql, params)

    def query(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> Iterator[dict[str, Any]]:
        return iter(self.store.query(sql, params))


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def loads(value: str | None, default: Any = None) -> Any:
    return json.loads(value) if value else default
