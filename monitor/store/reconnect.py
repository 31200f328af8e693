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
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from psycopg_pool import ConnectionPool
from psycopg_pool.base import AttemptWithBackoff

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

    def _add_connection(self, attempt: AttemptWithBackoff | None, growing: bool = False) -> None:
        """psycopg_pool's own, with the capped attempt (the same object is handed to every retry)."""
        super()._add_connection(attempt or _CappedAttempt(timeout=self.reconnect_timeout), growing=growing)

    def _connect(self, timeout: float | None = None) -> Any:
        try:
            conn = super()._connect(timeout)
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
