"""The PostgreSQL backend of `Store`: psycopg 3 with a connection pool, the same API as the SQLite one.

Why it looks like SQLite from above: every caller writes SQLite-flavoured SQL and uses `tx()`, `query()`,
`one()`, `cursor.lastrowid` and `cursor.rowcount`; `dialect.to_postgres` translates the text, `PgCursor`
reproduces the cursor (rows buffered, `lastrowid` from the `RETURNING id` the translator appended).

Transactions: within one process they are serialised by the store's lock, exactly as with SQLite, so a
replica never races itself; between replicas, coordination is explicit (`monitor.store.leases`: row leases
on the database clock, fencing, `FOR UPDATE SKIP LOCKED`, advisory locks). A nested `tx()` is a savepoint.

Failover: a connection that breaks (the server restarted, Patroni promoted a standby) is discarded by the
pool and the operation raises `StorageUnavailable`; the daemon's loops already retry a failed step, and the pool's
next connection goes to whatever the URL now points at. Reads outside a transaction retry once at once. How the
pool reconnects (every 2 s at most, the outage said once, a pool that gave up replaced): `monitor.store.reconnect`.

Connecting: the daemon is patient (it waits up to DAEMON_OPEN_WAIT_S for its first connection at start, exits 1
if none came, and systemd starts it again; once running, a lost server makes each step raise StorageUnavailable
and the loops retry while the pool reconnects in the background). A one-shot command (`monitor status`,
`migrate`, `alerts`, `run --once`... : every command but the daemon, see `fail_fast`) is run when things are
broken: it tries one connection first, bounded by `storage.connect_timeout` (5 s), and fails with ONE line
naming the server (URL redacted) and libpq's reason, instead of waiting for the pool while psycopg_pool logs
a WARNING per attempt.

Errors: every psycopg error is raised as `StorageUnavailable` (the database: connection, shutdown, pool timeout,
read-only standby…) or `StorageRejected` (the statement: constraint, data, SQL), both `StorageError`s, by its
SQLSTATE (`monitor.store.driver_errors`); messages carry the SQL text, never a bound value or the password.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from monitor.core.errors import StorageError, StorageUnavailable
from monitor.store import dialect
from monitor.store.driver_errors import from_psycopg
from monitor.store.patience import CONNECT_TIMEOUT_S, fail_fast, one_shot_timeout  # noqa: F401 - fail_fast re-exported

log = logging.getLogger(__name__)

try:  # the [postgres] extra
    import psycopg
    from psycopg.rows import dict_row
    from psycopg_pool import ConnectionPool, PoolTimeout

    from monitor.store.reconnect import ReconnectingPool
except ImportError:  # pragma: no cover - reported when a postgresql:// URL is used without the extra
    psycopg = None  # type: ignore[assignment]

    class PoolTimeout(Exception):  # type: ignore[no-redef]
        """Stands in for psycopg_pool's, so the except clauses read the same without the extra."""


DAEMON_OPEN_WAIT_S = 15.0        # the daemon's wait for its first connection at start
POOL_WAIT_S = 30.0               # the daemon's wait for a pooled connection


def _params(params: Sequence[Any] | dict[str, Any]) -> Sequence[Any] | dict[str, Any]:
    """SQLite stores a bool as 0/1; PostgreSQL would refuse a boolean for an integer column."""
    if isinstance(params, dict):
        return {k: int(v) if isinstance(v, bool) else v for k, v in params.items()}
    return tuple(int(v) if isinstance(v, bool) else v for v in params)


class PgCursor:
    """What a sqlite3 cursor offers the callers: rows, description, rowcount, lastrowid."""

    def __init__(self, cur: Any, sql: str, translated: str):
        self.rowcount = cur.rowcount
        self.description = cur.description
        self.lastrowid: int | None = None
        rows: list[Any] = cur.fetchall() if cur.description is not None else []
        if translated.endswith(" RETURNING id") and not sql.rstrip().rstrip(";").upper().endswith("RETURNING ID"):
            self.lastrowid = int(rows[0][0]) if rows else None     # appended by the translator: not a result
            rows, self.description = [], None
        self._rows = rows
        self._pos = 0

    def fetchone(self) -> Any:
        if self._pos >= len(self._rows):
            return None
        self._pos += 1
        return self._rows[self._pos - 1]

    def fetchall(self) -> list[Any]:
        rest, self._pos = self._rows[self._pos:], len(self._rows)
        return rest

    def __iter__(self) -> Iterator[Any]:
        return iter(self.fetchall())


class PgConnection:
    """The `db` a transaction hands out: `execute` and `query` like sqlite_utils.Database, on one connection."""

    dialect = "postgres"

    def __init__(self, conn: Any):
        self.conn = conn

    def execute(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> PgCursor:
        translated = dialect.to_postgres(sql)
        try:
            with self.conn.cursor() as cur:
                cur.execute(translated, _params(params))
                return PgCursor(cur, sql, translated)
        except psycopg.Error as exc:
            raise from_psycopg(exc, sql=sql, params=params) from exc

    def query(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> Iterator[dict[str, Any]]:
        cur = self.execute(sql, params)
        cols = [c[0] for c in cur.description or ()]
        for row in cur.fetchall():
            yield dict(zip(cols, row, strict=True))


class PgPool:
    """The pool plus the thread's open transaction (so a read inside a tx sees its own writes, as in SQLite)."""

    def __init__(self, url: str, *, readonly: bool = False, min_size: int = 1, max_size: int = 8,
                 clock_offset: Callable[[], float] | None = None, idle_in_transaction: float | None = None,
                 connect_timeout: float | None = None):
        """`connect_timeout`: fail fast (a one-shot command); None: the process's default (`fail_fast`)."""
        if psycopg is None:
            raise StorageError("storage.url is a PostgreSQL URL but psycopg is not installed: "
                               "pip install 'mention-monitor[postgres]'")
        self.url = url
        self.clock_offset = clock_offset       # tests on a fake clock: db_now() follows it
        quick = connect_timeout if connect_timeout is not None else one_shot_timeout()
        self.wait = quick if quick is not None else POOL_WAIT_S
        kwargs: dict[str, Any] = {"autocommit": True}
        if quick is not None:
            kwargs["connect_timeout"] = _libpq_timeout(quick)
            probe(url, quick)                  # down: one line with the reason, within the timeout

        def configure(conn: Any) -> None:        # not `options=`: that would replace the URL's own options
            if readonly:
                conn.execute("SET default_transaction_read_only = on")
            if idle_in_transaction:          # a paused process's locks are let go (see Store.__init__)
                conn.execute(f"SET idle_in_transaction_session_timeout = {max(1, int(idle_in_transaction * 1000))}")

        self._new_pool = lambda: ReconnectingPool(url, self._replace, min_size=min_size, max_size=max_size,
                                                  kwargs=kwargs, open=False, configure=configure,
                                                  check=ConnectionPool.check_connection)
        self._swap = threading.Lock()
        try:
            self.pool = self._new_pool()
            self.pool.open(wait=True, timeout=quick if quick is not None else DAEMON_OPEN_WAIT_S)
        except Exception as exc:  # noqa: BLE001 - PoolTimeout, OperationalError: one clear message
            try:
                self.pool.close()
            except Exception:  # noqa: BLE001 - never opened
                pass
            probe(url, quick or CONNECT_TIMEOUT_S)   # the pool's timeout does not say why: libpq's reason does
            raise StorageUnavailable(f"cannot connect to PostgreSQL at {redact(url)}: "
                                     f"{_reason(exc, url)}", driver=type(exc).__name__) from exc
        self.local = threading.local()

    def _replace(self, pool: ReconnectingPool) -> None:
        """`pool` gave up reconnecting (`monitor.store.reconnect`): a new one, opened without waiting, takes its
        place, and the old one is closed on a thread of its own (this runs on one of its workers), which fails
        the callers still waiting on it at once."""
        with self._swap:
            if self.pool is not pool:
                return
            self.pool = self._new_pool()
            self.pool.open(wait=False)
        threading.Thread(target=pool.close, name="pool-close", daemon=True).start()

    @property
    def current(self) -> PgConnection | None:
        return getattr(self.local, "conn", None)

    @contextmanager
    def transaction(self) -> Iterator[PgConnection]:
        cur = self.current
        if cur is not None:                        # nested: a savepoint in the thread's transaction
            try:
                with cur.conn.transaction():
                    yield cur
            except psycopg.Error as exc:           # the savepoint itself (a broken connection)
                raise from_psycopg(exc, "database error") from exc
            return
        try:
            with self.pool.connection(timeout=self.wait) as conn:
                wrapped = PgConnection(conn)
                self._offset(conn)
                self.local.conn = wrapped
                try:
                    with conn.transaction():
                        yield wrapped
                finally:
                    self.local.conn = None
        except PoolTimeout as exc:             # a psycopg.OperationalError too: said with the URL (redacted)
            raise StorageUnavailable(f"no database connection within {self.wait:g}s ({redact(self.url)}): {exc}",
                                     driver=type(exc).__name__) from exc
        except psycopg.Error as exc:
            raise from_psycopg(exc, "database error") from exc

    def query(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[dict[str, Any]]:
        cur = self.current
        if cur is not None:
            return list(cur.query(sql, params))
        for attempt in (1, 2):                     # a connection broken by a failover: the pool replaces it
            try:
                with self.pool.connection(timeout=self.wait) as conn:
                    self._offset(conn)
                    conn.row_factory = dict_row
                    try:
                        with conn.cursor() as c:
                            c.execute(dialect.to_postgres(sql), _params(params))
                            return list(c.fetchall()) if c.description is not None else []
                    finally:
                        conn.row_factory = psycopg.rows.tuple_row
            except PoolTimeout as exc:
                raise StorageUnavailable(f"no database connection within {self.wait:g}s ({redact(self.url)}): {exc}",
                                         driver=type(exc).__name__) from exc
            except psycopg.Error as exc:
                failure = from_psycopg(exc, sql=sql, params=params)
                if attempt == 2 or not isinstance(failure, StorageUnavailable):
                    raise failure from exc
        return []

    def _offset(self, conn: Any) -> None:
        if self.clock_offset is not None:
            conn.execute("SELECT set_config('monitor.clock_offset', %s, false)", (repr(self.clock_offset()),))

    def close(self, timeout: float = 5.0) -> None:
        """psycopg_pool waits up to `timeout` for its workers, then says itself which it left behind."""
        self.pool.close(timeout=timeout)


def probe(url: str, timeout: float) -> None:
    """One connection, closed at once, within `timeout`; raises StorageUnavailable naming the server (password
    withheld) and libpq's reason (connection refused, no such host, authentication failed, timeout...)."""
    try:
        psycopg.connect(url, autocommit=True, connect_timeout=_libpq_timeout(timeout)).close()
    except psycopg.Error as exc:
        raise StorageUnavailable(f"cannot connect to PostgreSQL at {redact(url)}: {_reason(exc, url)}",
                                 driver=type(exc).__name__, sqlstate=getattr(exc, "sqlstate", None)) from exc


def _libpq_timeout(timeout: float) -> int:
    return max(2, math.ceil(timeout))      # libpq's connect_timeout: whole seconds, 1 is taken as 2


def _reason(exc: BaseException, url: str) -> str:
    """The driver's message on one line, capped, without the password even if a message quoted it."""
    text = " ".join(str(exc).split())
    try:
        from psycopg.conninfo import conninfo_to_dict
        password = conninfo_to_dict(url).get("password")
    except Exception:  # noqa: BLE001 - not a URL psycopg reads: nothing more to withhold
        password = None
    if password:
        text = text.replace(str(password), "[REDACTED]")
    return text[:300] or type(exc).__name__


def redact(url: str) -> str:
    """The URL without its password, for messages and logs."""
    try:
        from psycopg.conninfo import conninfo_to_dict
        parts = conninfo_to_dict(url)
    except Exception:  # noqa: BLE001
        return url.split("@")[-1]
    return f"postgresql://{parts.get('user', '')}@{parts.get('host', '')}:{parts.get('port', 5432)}/{parts.get('dbname', '')}"
