"""The drivers' errors (sqlite3, psycopg) as `StorageUnavailable` or `StorageRejected`, for both dialects.

The question a caller asks of a failed statement is "is it this statement (this row), or the database?": the
pipeline counts a poison mention only for the former, and waits for the next pass on the latter. The answer
comes from the driver's own classification, never from the wording of a message:

- SQLite: the primary result code (`sqlite_errorcode`): BUSY/LOCKED (the busy timeout ran out), IOERR, FULL,
  READONLY, CANTOPEN, NOMEM, PROTOCOL, CORRUPT/NOTADB, and a closed connection are unavailable; a constraint,
  a datatype mismatch, SQL that does not parse or names no such table are rejected.
- PostgreSQL: the SQLSTATE class: 08 connection, 40 transaction rollback (serialization, deadlock: retry),
  53 insufficient resources, 57 operator intervention (admin shutdown, statement timeout), 58 system (I/O),
  XX internal, plus 25006 read-only (a standby after a failover), 25P03 idle-in-transaction timeout and
  55P03 lock not available are unavailable; every other SQLSTATE (22 data, 23 integrity, 42 syntax/access,
  54 program limit…) is the statement's. A client-side error without SQLSTATE goes by the driver's class:
  OperationalError (connection lost, pool timeout) and InterfaceError (connection closed) are unavailable.

Messages name the driver's error class, its primary message and the SQL text (capped), never a bound value:
PostgreSQL's DETAIL ("Key (...)=(...)", "Failing row contains (...)") is dropped, and any bound string that a
primary message quotes is replaced by `<value>`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from monitor.core.errors import StorageRejected, StorageUnavailable

SQL_CHARS = 200
MESSAGE_CHARS = 300

# SQLite primary result codes (sqlite3.h) that say the database, not the statement, failed
_SQLITE_UNAVAILABLE = {
    5,    # SQLITE_BUSY: the busy timeout ran out ("database is locked")
    6,    # SQLITE_LOCKED
    7,    # SQLITE_NOMEM
    8,    # SQLITE_READONLY
    10,   # SQLITE_IOERR ("disk I/O error")
    11,   # SQLITE_CORRUPT
    13,   # SQLITE_FULL
    14,   # SQLITE_CANTOPEN
    15,   # SQLITE_PROTOCOL
    26,   # SQLITE_NOTADB
}
_SQLITE_UNAVAILABLE_WORDS = ("locked", "busy", "disk i/o", "readonly", "read-only", "unable to open",
                             "disk is full", "closed database", "not a database", "malformed")

_PG_UNAVAILABLE_CLASSES = {"08", "40", "53", "57", "58", "XX"}
_PG_UNAVAILABLE_CODES = {"25006", "25P03", "55P03", "55006"}

StorageFailure = StorageUnavailable | StorageRejected


def sqlite_unavailable(exc: BaseException) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int):
        return (code & 0xFF) in _SQLITE_UNAVAILABLE
    if isinstance(exc, sqlite3.IntegrityError | sqlite3.DataError):
        return False
    text = str(exc).lower()
    return any(w in text for w in _SQLITE_UNAVAILABLE_WORDS)


def from_sqlite(exc: sqlite3.Error, doing: str | None = None, sql: str | None = None,
                params: Sequence[Any] | dict[str, Any] = ()) -> StorageFailure:
    """The sqlite3 error as StorageUnavailable or StorageRejected (raise it `from exc`)."""
    cls = StorageUnavailable if sqlite_unavailable(exc) else StorageRejected
    name = getattr(exc, "sqlite_errorname", None)
    return cls(_message(type(exc).__name__, str(exc), doing, sql, params), driver=type(exc).__name__,
               sqlstate=name if isinstance(name, str) else None)


def pg_unavailable(exc: BaseException) -> bool:
    state = getattr(exc, "sqlstate", None)
    if state:
        return state[:2] in _PG_UNAVAILABLE_CLASSES or state in _PG_UNAVAILABLE_CODES
    import psycopg
    return isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError)


def from_psycopg(exc: BaseException, doing: str | None = None, sql: str | None = None,
                 params: Sequence[Any] | dict[str, Any] = ()) -> StorageFailure:
    """The psycopg error (or the pool's timeout) as StorageUnavailable or StorageRejected."""
    cls = StorageUnavailable if pg_unavailable(exc) else StorageRejected
    diag = getattr(exc, "diag", None)
    primary = getattr(diag, "message_primary", None) if diag is not None else None
    text = primary or str(exc)
    state = getattr(exc, "sqlstate", None)
    return cls(_message(type(exc).__name__, text, doing, sql, params), driver=type(exc).__name__, sqlstate=state)


def withhold(message: str, params: Sequence[Any] | dict[str, Any] = ()) -> str:
    """The message with every bound string it quotes replaced (an error must not echo a mention's text)."""
    values = params.values() if isinstance(params, dict) else params
    for value in sorted((v for v in values if isinstance(v, str) and len(v) >= 3), key=len, reverse=True):
        message = message.replace(value, "<value>")
    return message


def _message(driver: str, text: str, doing: str | None, sql: str | None,
             params: Sequence[Any] | dict[str, Any]) -> str:
    text = withhold(" ".join(text.split()), params)[:MESSAGE_CHARS]
    out = f"{driver}: {text}" if text else driver
    if doing:
        out = f"{doing}: {out}"
    if sql:
        out += f" [sql: {' '.join(sql.split())[:SQL_CHARS]}]"
    return out
