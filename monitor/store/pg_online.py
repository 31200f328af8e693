"""PostgreSQL migration steps that run outside a transaction: indexes built with CREATE INDEX CONCURRENTLY.

Why: a plain CREATE INDEX on `mentions` holds a lock that blocks every writer (collection, routing) for the whole
build, seconds to minutes on a large table, on every replica at once. CONCURRENTLY lets writers go on, but cannot
run inside a transaction, so these steps (`NON_TRANSACTIONAL`) are not "whole or absent" as the others are; each
statement is made idempotent instead, and the step is marked done (`monitor_schema.version`) only after its last
statement, so a step cut short (a kill, a lost connection, a cancelled build) is simply run again:

- `CREATE INDEX CONCURRENTLY IF NOT EXISTS name`: a build cut short leaves an INVALID index behind (PostgreSQL
  keeps it, maintains it on every write and never reads it), which IF NOT EXISTS would keep for good; so an
  index of that name with `pg_index.indisvalid` false is dropped (CONCURRENTLY) and built again, said at WARNING.
- `DROP INDEX CONCURRENTLY IF EXISTS`, `CREATE OR REPLACE FUNCTION`: idempotent as written.
- `CREATE EXTENSION IF NOT EXISTS unaccent` and the `monitor_unaccent` function (v17: accent-folding search, see
  `fold_function_sql`): a role that may not create the extension degrades to an identity function, said at
  WARNING (INFO under `storage.unaccent: optional`: `unaccent_policy`), on the dashboard's feed and by `monitor status` (`accents_folded`; problem `search_accents`), never a
  failed migration.

Two replicas migrating at once stay serialised: the runner (`Store._migrate_postgres`) holds the schema's advisory
lock for the whole run as a *session* lock on the connection that builds (`lock_schema`), taken by polling
`pg_try_advisory_lock`. Not by waiting in `pg_advisory_lock`, nor in a transaction: CONCURRENTLY waits for every
transaction with an older snapshot, and a replica blocked in a statement waiting for the lock would be one (a
deadlock the server breaks by cancelling one of the two). The build runs without `statement_timeout`.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from monitor.core.errors import StorageError

log = logging.getLogger("monitor.store.migrate")

NON_TRANSACTIONAL = {15, 16, 17}  # to v16, v17, v18 (index builds): statement by statement, no transaction
LOCK_POLL_S = 0.2
FOLD_FUNCTION = "monitor_unaccent"
_CIC = re.compile(r"^\s*CREATE\s+INDEX\s+CONCURRENTLY\s+IF\s+NOT\s+EXISTS\s+(\w+)", re.I)
_EXTENSION = re.compile(r"^\s*CREATE\s+EXTENSION\s+IF\s+NOT\s+EXISTS\s+unaccent\b", re.I)
_FUNCTION = re.compile(rf"^\s*CREATE\s+OR\s+REPLACE\s+FUNCTION\s+{FOLD_FUNCTION}\b", re.I)
_NOT_ALLOWED = {"42501", "0A000", "58P01", "22023"}   # no privilege, not available/not trusted, not installed
#: `storage.unaccent` of whoever opens the store (the store itself is not given the config): with `optional`
#: the missing extension is a configured choice, said at INFO on each start rather than a WARNING every time.
_UNACCENT: ContextVar[str] = ContextVar("unaccent", default="required")


@contextmanager
def unaccent_policy(value: str) -> Iterator[None]:
    """Open (and so migrate) a store inside this block to have its missing `unaccent` said per `value`."""
    token = _UNACCENT.set(value)
    try:
        yield
    finally:
        _UNACCENT.reset(token)


def lock_schema(conn: Any, lock_id: int) -> None:
    """Take the schema's advisory lock as a session lock on `conn` (autocommit), polling (module doc)."""
    said = False
    while not conn.execute("SELECT pg_try_advisory_lock(%s)", (lock_id,)).fetchone()[0]:
        if not said:
            log.info("another replica is migrating the schema: waiting for it")
            said = True
        time.sleep(LOCK_POLL_S)


def unlock_schema(conn: Any, lock_id: int) -> None:
    conn.execute("SELECT pg_advisory_unlock(%s)", (lock_id,))


def run_step(conn: Any, step: int, statements: list[str]) -> None:
    """Run the statements of non-transactional migration `step` on `conn` (autocommit), each idempotent."""
    conn.execute("SET statement_timeout = 0")
    try:
        for statement in statements:
            if _EXTENSION.match(statement):
                continue                          # done with the function below, which needs its outcome
            if _FUNCTION.match(statement):
                conn.execute(fold_function_sql(install_unaccent(conn)))
                continue
            found = _CIC.match(statement)
            if found and index_valid(conn, found.group(1)) is False:
                log.warning("index %s was left INVALID by an interrupted build (migration to schema v%s): dropping "
                            "and building it again", found.group(1), step + 1)
                conn.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {found.group(1)}")
            conn.execute(statement)
    finally:
        conn.execute("RESET statement_timeout")


def index_valid(conn: Any, name: str) -> bool | None:
    """`pg_index.indisvalid` of the index `name` in this session's schema; None: there is none."""
    row = conn.execute("SELECT i.indisvalid FROM pg_index i WHERE i.indexrelid = to_regclass(%s)", (name,)).fetchone()
    return None if row is None else bool(row[0])


def install_unaccent(conn: Any) -> str | None:
    """The schema of the `unaccent` extension, created here if missing; None when this role may not create it
    (said at WARNING: search stays accent-sensitive; at INFO under `storage.unaccent: optional`)."""
    found = conn.execute("SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'unaccent'"
                         ).fetchone()
    if found:
        return str(found[0])
    try:
        conn.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
    except Exception as exc:  # noqa: BLE001 - psycopg's error, classified by SQLSTATE below
        if getattr(exc, "sqlstate", None) not in _NOT_ALLOWED:
            raise
        optional = _UNACCENT.get() == "optional"
        log.log(logging.INFO if optional else logging.WARNING,
                "PostgreSQL's unaccent extension cannot be created by this role (%s): the dashboard's search "
                "does not fold accents (\"cafe\" does not find \"café\"). %s", " ".join(str(exc).split())[:200],
                "storage.unaccent: optional accepts that" if optional else "A database owner can run `CREATE "
                "EXTENSION unaccent` in this database; the next start or `monitor migrate` then folds them")
        return None
    return install_unaccent(conn)


def fold_function_sql(schema: str | None) -> str:
    """`monitor_unaccent(text)`: IMMUTABLE, as an index expression must be (unaccent itself is only STABLE: its
    dictionary could change), with the extension's schema named so no session's search_path changes what the
    index holds. Without the extension: the identity, so the index and the query keep one expression."""
    body = (f"SELECT {schema}.unaccent('{schema}.unaccent'::regdictionary, value)" if schema else "SELECT value")
    return (f"CREATE OR REPLACE FUNCTION {FOLD_FUNCTION}(value text) RETURNS text LANGUAGE sql IMMUTABLE "
            f"PARALLEL SAFE STRICT AS $fold$ {body} $fold$")


def accents_folded(db: Any) -> bool | None:
    """Whether the search folds accents on this PostgreSQL schema: None before v17 (no fold function)."""
    rows = list(db.query(f"SELECT prosrc FROM pg_proc WHERE oid = to_regprocedure('{FOLD_FUNCTION}(text)')"))
    return None if not rows else "unaccent" in str(rows[0]["prosrc"])


def refold(conn: Any) -> bool:
    """After a degraded v17: once the extension can be created (a database owner ran it, or granted the right),
    the function folds and the index is rebuilt CONCURRENTLY to match. True when it did so now."""
    if accents_folded(_Rows(conn)) is not False:
        return False
    schema = install_unaccent(conn)
    if schema is None:
        return False
    conn.execute("SET statement_timeout = 0")
    try:
        conn.execute(fold_function_sql(schema))
        conn.execute("REINDEX INDEX CONCURRENTLY mentions_search_folded")
    finally:
        conn.execute("RESET statement_timeout")
    log.warning("PostgreSQL's unaccent extension is now available: the dashboard's search folds accents")
    return True


class _Rows:
    """A raw psycopg connection seen as `query()` returning dicts, for `accents_folded`."""

    def __init__(self, conn: Any):
        self.conn = conn

    def query(self, sql: str) -> list[dict[str, Any]]:
        cur = self.conn.execute(sql)
        cols = [c[0] for c in cur.description or ()]
        return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


def failed(exc: BaseException, step: int, sql: str) -> StorageError:
    from monitor.store.driver_errors import from_psycopg
    return from_psycopg(exc, f"migration to schema v{step + 1} failed", sql=sql)
