"""What becomes of a delivery that did not go, and the line that says so: retried, failed, rerouted, or halted.

Why a module of its own: the outbox (`outbox.py`) sends; this is what it writes back to the row when Slack did
not take the message, each outcome committed before the next attempt and logged as it happens. Nothing is
dropped: 5xx and network errors back off exponentially with jitter (capped at MAX_BACKOFF_S, forever); a message
whose blocks Slack refuses goes again as plain text; a channel Slack says is gone reroutes the message, once, to
the default owner with a note; only what cannot be sent at all is marked failed, with the reason. A refused
token halts all delivery (no retry storm): CRITICAL now and every HALT_REMINDER_S, and the row's `halted:`
error is what `monitor status` shows (kind `delivery_halted`), until the token is fixed and the daemon restarted.
"""

from __future__ import annotations

import logging
import random
from typing import TYPE_CHECKING, Any

from monitor.core.clock import Clock
from monitor.core.errors import ChannelUnavailable, SlackFatal, SlackRejected
from monitor.core.model import Target
from monitor.notify.blockkit import plain_message
from monitor.notify.queue import enqueue
from monitor.store.database import Store, dumps, loads

log = logging.getLogger("monitor.notify.outbox")

MAX_BACKOFF_S = 300.0
HALT_REMINDER_S = 600.0
REROUTE_PREFIX = "reroute:"
_BLOCK_ERRORS = {"invalid_blocks", "invalid_blocks_format", "msg_too_long", "too_many_blocks", "invalid_attachments"}


class Outcomes:
    """Mixed into Outbox: the state below is set up by Outbox.__init__."""

    store: Store
    clock: Clock
    fallback: list[Target]
    stuck_after: float
    halted: str | None
    _halt_logged: float
    _wait_until: dict[int, float]

    if TYPE_CHECKING:                     # `lanes.Lanes`'s and `health.Health`'s
        def _mono(self) -> float: ...

        def depth(self) -> dict[str, Any]: ...

    # -- retried, failed, rerouted ----------------------------------------------------------------------
    def _retry(self, row: dict[str, Any], not_before: float, error: str, bump: bool = True) -> None:
        self._wait_until[row["id"]] = self._mono() + (not_before - self.clock.now())
        with self.store.tx() as db:
            db.execute("UPDATE deliveries SET not_before=?, last_error=?, attempts=attempts+? WHERE id=?",
                       (not_before, error[:500], int(bump), row["id"]))

    def _backoff(self, row: dict[str, Any], error: str, at_least: float = 0.0) -> None:
        now = self.clock.now()
        backoff = max(at_least, min(MAX_BACKOFF_S, 2.0 ** min(row["attempts"], 10)) * random.uniform(0.8, 1.2))
        self._retry(row, now + backoff, error)
        stuck = now - row["created_at"] > self.stuck_after
        log.log(logging.ERROR if stuck else logging.WARNING, "delivery failed, will retry", extra={
            "delivery_id": row["id"], "alert_id": row["alert_id"], "error": error, "retry_in": round(backoff, 1),
            "attempts": row["attempts"] + 1, "stuck": stuck})

    def _finish(self, row: dict[str, Any], state: str, error: str, level: int) -> None:
        with self.store.tx() as db:
            db.execute("UPDATE deliveries SET state=?, last_error=?, attempts=attempts+1, in_flight_at=NULL WHERE id=?",
                       (state, error[:500], row["id"]))
        log.log(level, "delivery %s: %s", state, error, extra={"delivery_id": row["id"], "alert_id": row["alert_id"]})

    def _rejected(self, row: dict[str, Any], payload: dict[str, Any], exc: SlackRejected) -> None:
        """A message Slack refuses is not dropped: an alert whose blocks are refused goes again as plain text."""
        if row["kind"] != "update" and exc.error in _BLOCK_ERRORS and payload.get("blocks"):
            text = payload.get("text") or "(message could not be rendered)"
            with self.store.tx() as db:
                db.execute("UPDATE deliveries SET payload=?, last_error=?, attempts=attempts+1, in_flight_at=NULL WHERE id=?",
                           (dumps({"text": text[:3000]}), str(exc)[:500], row["id"]))
            log.error("Slack refused the message blocks; resending as plain text",
                      extra={"delivery_id": row["id"], "error": exc.error})
            return
        self._finish(row, "failed", str(exc), logging.WARNING if row["kind"] == "update" else logging.ERROR)

    def _reroute(self, row: dict[str, Any], exc: ChannelUnavailable) -> None:
        """Deliver to the default owner instead, with a note, once; the original row records why it failed."""
        now = self.clock.now()
        targets = [t for t in self.fallback if t.channel != row["channel"]]
        if row["dedupe_key"].startswith(REROUTE_PREFIX) or not targets:
            self._finish(row, "failed", f"{exc}; no other channel to send it to", logging.ERROR)
            return
        log.error("channel unavailable, rerouting to the default owner",
                  extra={"delivery_id": row["id"], "channel": row["channel"], "error": exc.error})
        with self.store.tx() as db:
            db.execute("UPDATE deliveries SET state='failed', last_error=? WHERE id=?", (str(exc), row["id"]))
            payload = loads(row["payload"], {})
            note = (f":warning: This was meant for `{row['channel']}` but Slack said `{exc.error}`; "
                    "invite the bot there or fix rules.yaml.")
            note_block = {**plain_message(note)["blocks"][0], "block_id": "reroute-note"}
            new = {"text": note + "\n" + payload.get("text", ""),
                   "blocks": [note_block, *list(payload.get("blocks") or [])[:49]]}
            for t in targets:
                # kind 'post' without a parent: the rerouted message becomes the alert's thread root there.
                enqueue(db, now, f"{REROUTE_PREFIX}{row['id']}:{t.channel}", "post", t, new, row["alert_id"])

    # -- halting -----------------------------------------------------------------------------------------
    def _halt(self, row: dict[str, Any], exc: SlackFatal, why: str = "") -> None:
        """Stop all delivery on a refused token: no retry storm; CRITICAL now and every HALT_REMINDER_S, and the
        row's `halted:` error is what `monitor status` shows (kind `delivery_halted`)."""
        now = self.clock.now()
        self.halted = f"{exc}{why}"
        self._halt_logged = now
        self._retry(row, now, f"halted: {self.halted}", bump=False)
        log.critical("DELIVERY HALTED: %s; nothing more is sent until the token is fixed and the daemon "
                     "restarted", self.halted, extra={"delivery_id": row["id"], "pending": self.depth()["pending"]})

    def _remind_halted(self) -> None:
        now = self.clock.now()
        if now - self._halt_logged >= HALT_REMINDER_S:
            self._halt_logged = now
            log.critical("DELIVERY HALTED: %s", self.halted, extra={"pending": self.depth()["pending"]})
