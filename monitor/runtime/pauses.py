"""Routing paused: the store unavailable to the routing pass, or the slow-server breaker tripped, said durably.

A pass that stops uncounted (`failures` module doc) used to say so in one WARNING only, and the pending count
rose with no line in `monitor status` or the dashboard saying why. `RoutingOutage` keeps saying it once in the
log, and records it in `routing_pauses` (one row per replica: this module is the table's one writer, through the
typed `RoutingPause`), which `monitor status` (`checks.routing_health`: kind `routing_paused`), `--json` and the
dashboard's strip read; the row is deleted when a pass of that replica routes again.

Durable where it can be: while the store is down even this write fails (logged at DEBUG), so each paused pass
tries again; a reader that cannot reach the store either says so itself. A row is refreshed at most every
PAUSE_REFRESH_S, so a slow server is not asked for one more write per pass. The replica is the Coordinator's
holder on PostgreSQL (`replica_key`) and `local` on SQLite (one process at a time: a cron run clears what the
last one left).
"""

from __future__ import annotations

import logging
import socket
import time
from dataclasses import dataclass

from monitor.core.errors import StorageError
from monitor.core.scrub import inert, scrub_urls
from monitor.store.database import Store
from monitor.store.leases import Coordinator

log = logging.getLogger("monitor.runtime.pipeline.pauses")     # the pipeline's child: its logging config covers it
PAUSE_REFRESH_S = 60.0
REASON_CHARS = 400
CAUSES = ("outage", "slow_server")


@dataclass(frozen=True)
class RoutingPause:
    """One replica's routing paused: `cause` (outage: the store unavailable; slow_server: the breaker tripped and
    the probe failed too), `reason` in words (the WARNING's, secrets out of URLs, capped) and how many mentions
    the stopped pass left (`waiting`, None: not known)."""

    cause: str
    reason: str
    waiting: int | None = None

    def __post_init__(self) -> None:
        assert self.cause in CAUSES, self.cause


def replica_key(store: Store) -> str:
    """Whose pause a row is: a registered replica's identity (its `replicas` row says when it is gone); `local`
    with SQLite (one process at a time); `once:HOST` for a process without a heartbeat on PostgreSQL
    (`monitor run --once`: the next run on that host clears what the last one left)."""
    if not store.shared:
        return "local"
    coord = Coordinator.of(store)
    return coord.holder if coord.config_hash is not None else f"once:{socket.gethostname()}"


def record_pause(store: Store, pause: RoutingPause) -> None:
    """Write (or refresh) this replica's pause; `since` stays the first pass's. Raises the store's error."""
    with store.tx() as db:
        db.execute("INSERT INTO routing_pauses (replica, since, seen_at, cause, reason, waiting) VALUES"
                   " (?, db_now(), db_now(), ?, ?, ?) ON CONFLICT (replica) DO UPDATE SET seen_at = excluded.seen_at,"
                   " cause = excluded.cause, reason = excluded.reason, waiting = excluded.waiting",
                   (replica_key(store), pause.cause, inert(scrub_urls(pause.reason))[:REASON_CHARS], pause.waiting))


def clear_pause(store: Store) -> None:
    """This replica routes again: its pause is gone. Raises the store's error."""
    with store.tx() as db:
        db.execute("DELETE FROM routing_pauses WHERE replica = ?", (replica_key(store),))


class RoutingOutage:
    """The pipeline's "routing stopped uncounted" state: a WARNING once per outage (DEBUG after), the pause
    recorded for `monitor status`, and both cleared by the next pass that routes (`available`)."""

    def __init__(self, store: Store):
        self.store = store
        self.down = False                    # a WARNING was logged for the current outage of the store
        self._recorded_at: float | None = None
        self._maybe_row = True               # a row left by an earlier run of this replica is cleared too

    def unavailable(self, exc: Exception, waiting: int | None, *, why: str | None = None,
                    cause: str = "outage") -> None:
        """The store cannot be used (or the server is slow): said once at WARNING, recorded, nothing counted."""
        extra = {"error": str(exc)[:300], "waiting": waiting}
        reason = f"{why}; last error: {str(exc)[:300]}" if why else str(exc)[:300]
        if self.down:
            log.debug("store still unavailable; pending mentions wait: %s", reason, extra=extra)
        else:
            self.down = True
            log.warning("the store is unavailable (%s): routing stops for this pass; the pending mentions wait for "
                        "the next pass and no attempt is counted against them", reason, extra=extra)
        if self._recorded_at is not None and time.monotonic() - self._recorded_at < PAUSE_REFRESH_S:
            return
        try:
            record_pause(self.store, RoutingPause(cause, reason, waiting))
        except StorageError as err:
            log.debug("routing pause not recorded (the store is unavailable; tried again next pass): %s", err)
            return
        self._recorded_at, self._maybe_row = time.monotonic(), True

    def available(self) -> None:
        """A pass routed (or had nothing to do): the outage is over, said once, and its record deleted."""
        if self.down:
            self.down = False
            log.info("the store is available again: pending mentions are being routed")
        if not self._maybe_row:
            return
        try:
            clear_pause(self.store)
        except StorageError as err:
            log.debug("routing pause not cleared yet (tried again next pass): %s", err)
            return
        self._recorded_at, self._maybe_row = None, False
