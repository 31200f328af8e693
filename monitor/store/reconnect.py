"""How the PostgreSQL pool comes back after the server was away: promptly, said once, never left dead.

psycopg_pool (3.2) reconnects in the background with a delay that starts at 1 s and doubles after each failed
attempt, and gives up after `reconnect_timeout` (its default 300 s): the connection slot is dropped and
`reconnect_failed` called. Measured on the daemon (a mention pending, `process_pending` every 0.5 s): after a 23 s
outage it routed again 8.6 s after the server was back (the next attempt was 16 s after the one before); after
an outage longer than the timeout (5 s in the test) 18.5 s after, and later still for longer outages (the delays
before the give-up reach minutes). Each failed attempt was also one WARNING of psycopg_pool's.

`ReconnectingPool` keeps psycopg_pool and changes three things:
- the delay between attempts is capped at RECONNECT_DELAY_MAX_S (2 s), so a server that is back is found within
  about that: a refused connection costs nothing, and one attempt per 2 s is nothing for a server;
- the outage is said once (WARNING at the first failed connection, INFO with its length at the first success),
  and psycopg_pool's per-attempt WARNINGs for these pools are dropped (`_QuietAttempts`);
- a pool that gave up (`reconnect_failed`) says so and hands itself to `on_gave_up`: `PgPool` puts a new pool
  in its place at once (reconnecting from its first second) and closes the old one, which fails the callers
  still waiting on it at once (their step fails and is retried on the new pool) instead of after their whole
  wait. Whatever psycopg_pool does after a give-up, the daemon is never left with a dead pool: measured, a
  caller waiting on a given-up pool (before this) sat out its 30 s wait, then the next pass connected.
`RECONNECT_TIMEOUT_S` is psycopg_pool's default, named here so a test can make it short.

The cap cannot be had through psycopg_pool's public API (3.3: `reconnect_timeout`, `reconnect_failed`, `check()`,
`get_stats()` set no delay; a short `reconnect_timeout` would give up, and fail the waiting callers, every few
seconds), so it overrides two private methods and subclasses a private class. `private_api_problems()` checks
each of them against the installed psycopg_pool; `tests/test_reconnect_private_api.py` fails naming what changed,
and at run time a mismatch is one WARNING and psycopg_pool's own doubling backoff (reconnecting later, never
not at all) instead of a pool whose reconnection crashes.
"""

from __future__ import annotations

import inspect
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from psycopg_pool import ConnectionPool

try:
    from psycopg_pool.base import AttemptWithBackoff
except ImportError:  # pragma: no cover - a psycopg_pool that moved it: private_api_problems() says so
    AttemptWithBackoff = object  # type: ignore[assignment,misc]

log = logging.getLogger("monitor.store.postgres")
POOL_NAME = "monitor"
RECONNECT_TIMEOUT_S = 300.0       # psycopg_pool's default: a reconnection this long failing gives up
RECONNECT_DELAY_MAX_S = 2.0       # the longest wait between two reconnection attempts (psycopg_pool: doubling)
_ATTEMPT_WARNINGS = ("error connecting in %r: %s", "reconnection attempt in pool %r failed after %s sec")


class _CappedAttempt(AttemptWithBackoff):
    """psycopg_pool's backoff, the delay never above RECONNECT_DELAY_MAX_S (module doc)."""

    def update_delay(self, now: float) -> None:
        super().update_delay(now)
        self.delay = min(self.delay, RECONNECT_DELAY_MAX_S)


def private_api_problems() -> list[str]:
    """What of psycopg_pool's private API `ReconnectingPool` relies on is not as it was in 3.2-3.3 (empty: all of
    it is): AttemptWithBackoff(*, timeout) with update_delay(now) setting .delay; _add_connection(attempt,
    growing) handing the same attempt to its retry after that delay; _connect(timeout) making one attempt."""
    import psycopg_pool.base as base

    problems = []

    def params(fn: Any) -> list[str]:
        return [p.name for p in inspect.signature(fn).parameters.values()]

    attempt = getattr(base, "AttemptWithBackoff", None)
    if attempt is None:
        return ["psycopg_pool.base.AttemptWithBackoff is gone"]
    if params(attempt.__init__) != ["self", "timeout"]:
        problems.append(f"AttemptWithBackoff.__init__{inspect.signature(attempt.__init__)} is not (self, *, timeout)")
    if params(getattr(attempt, "update_delay", None) or (lambda: None)) != ["self", "now"]:
        problems.append("AttemptWithBackoff.update_delay(self, now) is gone or changed")
    else:
        probe = attempt(timeout=60.0)
        probe.update_delay(0.0)
        probe.update_delay(1.0)
        if not isinstance(getattr(probe, "delay", None), float):
            problems.append("AttemptWithBackoff.update_delay no longer sets .delay")
    if params(ConnectionPool._add_connection) != ["self", "attempt", "growing"]:
        problems.append(f"ConnectionPool._add_connection{inspect.signature(ConnectionPool._add_connection)}"
                        " is not (self, attempt, growing=False)")
    else:
        src = inspect.getsource(ConnectionPool._add_connection)
        for needed in ("attempt.update_delay(", "AddConnection(self, attempt", "attempt.delay", "self._connect("):
            if needed not in src:
                problems.append(f"ConnectionPool._add_connection no longer does `{needed}`")
    if params(ConnectionPool._connect) != ["self", "timeout"]:
        problems.append(f"ConnectionPool._connect{inspect.signature(ConnectionPool._connect)} is not (self, timeout=None)")
    return problems


class _QuietAttempts(logging.Filter):
    """Drops psycopg_pool's WARNING per failed attempt for our pools: `ReconnectingPool` says the outage once."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args if isinstance(record.args, tuple) else ()
        return not (record.msg in _ATTEMPT_WARNINGS and args[:1] == (POOL_NAME,))


_quiet = _QuietAttempts()
logging.getLogger("psycopg.pool").addFilter(_quiet)      # addFilter ignores a filter already there


class ReconnectingPool(ConnectionPool[Any]):
    """`ConnectionPool` whose reconnection is capped, said once, and whose give-up is seen (module doc)."""

    def __init__(self, url: str, on_gave_up: Callable[[ReconnectingPool], None], **kwargs: Any):
        super().__init__(url, name=POOL_NAME, reconnect_failed=self._gave_up, reconnect_timeout=RECONNECT_TIMEOUT_S,
                         **kwargs)
        self.gave_up = False
        self._on_gave_up = on_gave_up
        self._down_since: float | None = None
        self._state = threading.Lock()

    def _add_connection(self, *args: Any, **kwargs: Any) -> None:
        """psycopg_pool's own, with the capped attempt (the same object is handed to every retry); its own as is
        when its private API is not the one this was written for (`private_api_problems`, said once)."""
        if not _private_api_ok():
            return super()._add_connection(*args, **kwargs)
        attempt = kwargs.pop("attempt", args[0] if args else None)         # (attempt, growing=False): checked
        growing = kwargs.pop("growing", args[1] if len(args) > 1 else False)
        super()._add_connection(attempt or _CappedAttempt(timeout=self.reconnect_timeout), growing=growing)

    def _connect(self, *args: Any, **kwargs: Any) -> Any:
        try:
            conn = super()._connect(*args, **kwargs)
        except Exception as exc:
            with self._state:
                first, self._down_since = self._down_since is None, self._down_since or time.monotonic()
            if first:
                log.warning("PostgreSQL cannot be reached (%s): reconnecting every %g s at most; steps that need the "
                            "database fail until then", " ".join(str(exc).split())[:300], RECONNECT_DELAY_MAX_S)
            raise
        with self._state:
            since, self._down_since = self._down_since, None
        if since is not None:
            log.info("PostgreSQL reachable again after %.1f s: reconnected", time.monotonic() - since)
        return conn

    def _gave_up(self, _pool: Any) -> None:
        """psycopg_pool's `reconnect_failed` (on its worker thread): replaced once, however many slots gave up."""
        with self._state:
            first, self.gave_up = not self.gave_up, True
        if first:
            log.warning("the PostgreSQL pool gave up reconnecting after %g s: a new pool takes its place",
                        self.reconnect_timeout)
            self._on_gave_up(self)


_checked: list[bool] = []


def _private_api_ok() -> bool:
    """`private_api_problems()` once per process; a mismatch is one WARNING, then psycopg_pool's own backoff."""
    if not _checked:
        problems = private_api_problems()
        if problems:
            from psycopg_pool import __version__
            log.warning("psycopg_pool %s changed what the 2 s reconnection cap relies on (%s): reconnecting with "
                        "psycopg_pool's own backoff (doubling, up to minutes); pin psycopg-pool to a 3.3 release",
                        __version__, "; ".join(problems))
        _checked.append(not problems)
    return _checked[0]
