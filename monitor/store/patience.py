"""How long a PostgreSQL connection may take in this process: the daemon is patient, a one-shot command is not.

Why its own module: the CLI sets it for every command but the daemon (`monitor.cli.parser`), and most commands on
SQLite never open PostgreSQL; keeping the setting beside the pool (`monitor.store.postgres`) imported psycopg and its
pool into every `monitor status`, ≈0.1 s. The pool reads it here when it opens.
"""

from __future__ import annotations

CONNECT_TIMEOUT_S = 5.0          # storage.connect_timeout's default: a one-shot command's bound
_fail_fast: float | None = None


def fail_fast(timeout: float | None = CONNECT_TIMEOUT_S) -> None:
    """Every PgPool opened from now on in this process belongs to a one-shot command: one connection is tried
    first within `timeout` seconds (libpq's connect_timeout), and the pool waits no longer than that either.
    The CLI calls it for every command but the daemon; None restores the daemon's patience."""
    global _fail_fast
    _fail_fast = timeout


def one_shot_timeout() -> float | None:
    """The bound set by :func:`fail_fast`, or None in a patient process (the daemon)."""
    return _fail_fast
