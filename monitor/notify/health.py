"""What the outbox says about the deliveries it holds: in `monitor status`, and in the log while it waits.

Why a module of its own: `health()` is read by another process (`monitor status`, the checks of
`monitor.ops.checks`) from the `deliveries` table alone, while the daemon runs; it needs no Outbox. A row
pending longer than `stuck_after` (STUCK_AFTER_S) is logged at ERROR, once per row (`StuckRows`, a part of the
Outbox), and counted as stuck; a halt (`outcomes.py`), posts in flight for over a minute (`inflight.py`) and the
failures of the last day are shown with it, each with the reason stored in its row. Nothing here writes.
"""

from __future__ import annotations

import logging
from typing import Any

from monitor.core.clock import Clock
from monitor.notify.settings import STUCK_AFTER_S, OutboxSettings
from monitor.store.database import Store

log = logging.getLogger("monitor.notify.outbox")


class StuckRows:
    """Says, once per row, that a delivery has waited too long; the rows it has named are all it holds."""

    def __init__(self, store: Store, clock: Clock, settings: OutboxSettings):
        self.store = store
        self.clock = clock
        self.settings = settings
        self._seen: set[int] = set()
        self._checked = float("-inf")

    def report(self) -> None:
        """Log each row pending longer than `stuck_after` at ERROR, once (looked at every 30 s at most)."""
        if self.clock.now() - self._checked < 30:
            return
        self._checked = self.clock.now()
        cutoff = self.clock.now() - self.settings.stuck_after
        for r in self.store.query("SELECT id, alert_id, channel, attempts, last_error, created_at FROM deliveries"
                                  " WHERE state = 'pending' AND created_at < ? ORDER BY id LIMIT 20", (cutoff,)):
            if r["id"] not in self._seen:
                self._seen.add(r["id"])
                log.error("delivery stuck", extra={"delivery_id": r["id"], "alert_id": r["alert_id"],
                                                   "channel": r["channel"], "attempts": r["attempts"],
                                                   "pending_for_s": int(self.clock.now() - r["created_at"]),
                                                   "last_error": r["last_error"]})


def health(store: Store, now: float, stuck_after: float = STUCK_AFTER_S) -> dict[str, Any]:
    """What `monitor status` shows of the outbox; readable from another process while the daemon runs."""
    q = store.one("SELECT COUNT(*) AS n, MIN(created_at) AS oldest,"
                  " SUM(created_at < ?) AS stuck FROM deliveries WHERE state = 'pending'", (now - stuck_after,)) or {}
    halted = store.one("SELECT last_error FROM deliveries WHERE state = 'pending' AND last_error LIKE 'halted:%'"
                       " ORDER BY id LIMIT 1")
    worst = store.one("SELECT id, channel, last_error, attempts FROM deliveries WHERE state = 'pending'"
                      " AND created_at < ? ORDER BY id LIMIT 1", (now - stuck_after,))
    failed = store.one("SELECT COUNT(*) AS n FROM deliveries WHERE state = 'failed' AND created_at > ?",
                       (now - 86400,)) or {}
    # in flight for over a minute: posted (maybe) but not recorded: a timeout being checked, or a full disk
    unrecorded = store.one("SELECT COUNT(*) AS n FROM deliveries WHERE state = 'pending' AND in_flight_at < ?",
                           (now - 60,)) or {}
    # why the oldest of them is not settled: "not confirmed in Slack: <why the history could not be read>"
    why = store.one("SELECT last_error FROM deliveries WHERE state = 'pending' AND in_flight_at < ?"
                    " AND last_error IS NOT NULL ORDER BY in_flight_at LIMIT 1", (now - 60,)) if unrecorded.get("n") else None
    return {"pending": q.get("n") or 0, "oldest": q.get("oldest"), "stuck": int(q.get("stuck") or 0),
            "stuck_example": worst, "halted": halted["last_error"][8:] if halted else None,
            "failed_24h": failed.get("n") or 0, "unrecorded": unrecorded.get("n") or 0,
            "unrecorded_error": why["last_error"] if why else None}


__all__ = ["STUCK_AFTER_S", "StuckRows", "health"]
