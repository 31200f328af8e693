"""What becomes of a delivery once it is queued, and the line that says so: sent, retried, failed, rerouted, halted.

Why a part of its own: the outbox (`outbox.py`) and its at-most-once lookup (`inflight.py`) decide; this class
writes each decision to the row, the one writer of the `deliveries` table after `queue.enqueue` inserted it
(a reroute inserts through `enqueue` too). Each outcome is committed before the next attempt and logged as it
happens. Nothing is dropped: 5xx and network errors back off exponentially with jitter (capped at
MAX_BACKOFF_S, forever); a message whose blocks Slack refuses goes again as plain text; a channel Slack says is
gone reroutes the message, once, to the default owner with a note; only what cannot be sent at all is marked
failed, with the reason. A refused token halts all delivery (no retry storm): CRITICAL now and every
HALT_REMINDER_S, and the row's `halted:` error is what `monitor status` shows (kind `delivery_halted`), until
the token is fixed and the daemon restarted.
"""

from __future__ import annotations

import logging
import random
from typing import Any

from monitor.core.clock import Clock
from monitor.core.errors import ChannelUnavailable, SlackFatal, SlackRejected
from monitor.notify.blockkit import plain_message
from monitor.notify.health import health
from monitor.notify.lanes import Lanes
from monitor.notify.queue import enqueue
from monitor.notify.settings import OutboxSettings
from monitor.store.database import Store, dumps, loads

log = logging.getLogger("monitor.notify.outbox")

MAX_BACKOFF_S = 300.0
HALT_REMINDER_S = 600.0
REROUTE_PREFIX = "reroute:"
_BLOCK_ERRORS = {"invalid_blocks", "invalid_blocks_format", "msg_too_long", "too_many_blocks", "invalid_attachments"}


class Outcomes:
    """Writes what became of each attempt; holds the halt (`halted`), which stops the Outbox sending."""

    def __init__(self, store: Store, clock: Clock, settings: OutboxSettings, lanes: Lanes):
        self.store = store
        self.clock = clock
        self.settings = settings
        self.lanes = lanes                  # told how long a row waits before its retry
        self.halted: str | None = None      # set on invalid_auth: no retry storm, loud in logs and status
        self._halt_logged = 0.0

    # -- in flight and sent -----------------------------------------------------------------------------
    def in_flight(self, row: dict[str, Any], now: float) -> None:
        """Durable before the post: a crash from here on is looked for in the channel before posting again."""
        with self.store.tx() as db:
            db.execute("UPDATE deliveries SET in_flight_at=? WHERE id=?", (now, row["id"]))

    def not_in_flight(self, row: dict[str, Any]) -> None:
        """Slack certainly did not take this post (a 429, a refusal, a transient error before it acted)."""
        if row.get("in_flight_at") is not None or row["kind"] != "update":
            with self.store.tx() as db:
                db.execute("UPDATE deliveries SET in_flight_at=NULL WHERE id=?", (row["id"],))

    def unknown_again(self, row: dict[str, Any]) -> None:
        """Posted once more without knowing whether the last post landed: counted, so a third copy never goes."""
        with self.store.tx() as db:
            db.execute("UPDATE deliveries SET unknown_outcomes=unknown_outcomes+1 WHERE id=?", (row["id"],))

    def sent(self, delivery_id: int, channel: str, ts: str) -> None:
        with self.store.tx() as db:
            db.execute("UPDATE deliveries SET state='sent', sent_at=?, slack_channel=?, slack_ts=?, attempts=attempts+1,"
                       " last_error=NULL, in_flight_at=NULL WHERE id=?", (self.clock.now(), channel, ts, delivery_id))

    # -- retried, failed, rerouted ----------------------------------------------------------------------
    def retry(self, row: dict[str, Any], not_before: float, error: str, bump: bool = True) -> None:
        self.lanes.hold(row, not_before - self.clock.now())
        with self.store.tx() as db:
            db.execute("UPDATE deliveries SET not_before=?, last_error=?, attempts=attempts+? WHERE id=?",
                       (not_before, error[:500], int(bump), row["id"]))

    def backoff(self, row: dict[str, Any], error: str, at_least: float = 0.0) -> None:
        now = self.clock.now()
        backoff = max(at_least, min(MAX_BACKOFF_S, 2.0 ** min(row["attempts"], 10)) * random.uniform(0.8, 1.2))
        self.retry(row, now + backoff, error)
        stuck = now - row["created_at"] > self.settings.stuck_after
        log.log(logging.ERROR if stuck else logging.WARNING, "delivery failed, will retry", extra={
            "delivery_id": row["id"], "alert_id": row["alert_id"], "error": error, "retry_in": round(backoff, 1),
            "attempts": row["attempts"] + 1, "stuck": stuck})

    def finish(self, row: dict[str, Any], state: str, error: str, level: int) -> None:
        with self.store.tx() as db:
            db.execute("UPDATE deliveries SET state=?, last_error=?, attempts=attempts+1, in_flight_at=NULL WHERE id=?",
                       (state, error[:500], row["id"]))
        log.log(level, "delivery %s: %s", state, error, extra={"delivery_id": row["id"], "alert_id": row["alert_id"]})

    def rejected(self, row: dict[str, Any], payload: dict[str, Any], exc: SlackRejected) -> None:
        """A message Slack refuses is not dropped: an alert whose blocks are refused goes again as plain text."""
        if row["kind"] != "update" and exc.error in _BLOCK_ERRORS and payload.get("blocks"):
            text = payload.get("text") or "(message could not be rendered)"
            with self.store.tx() as db:
                db.execute("UPDATE deliveries SET payload=?, last_error=?, attempts=attempts+1, in_flight_at=NULL WHERE id=?",
                           (dumps({"text": text[:3000]}), str(exc)[:500], row["id"]))
            log.error("Slack refused the message blocks; resending as plain text",
                      extra={"delivery_id": row["id"], "error": exc.error})
            return
        self.finish(row, "failed", str(exc), logging.WARNING if row["kind"] == "update" else logging.ERROR)

    def reroute(self, row: dict[str, Any], exc: ChannelUnavailable) -> None:
        """Deliver to the default owner instead, with a note, once; the original row records why it failed."""
        now = self.clock.now()
        targets = [t for t in self.settings.fallback if t.channel != row["channel"]]
        if row["dedupe_key"].startswith(REROUTE_PREFIX) or not targets:
            self.finish(row, "failed", f"{exc}; no other channel to send it to", logging.ERROR)
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
    def halt(self, row: dict[str, Any], exc: SlackFatal, why: str = "") -> None:
        """Stop all delivery on a refused token: no retry storm; CRITICAL now and every HALT_REMINDER_S, and the
        row's `halted:` error is what `monitor status` shows (kind `delivery_halted`)."""
        now = self.clock.now()
        self.halted = f"{exc}{why}"
        self._halt_logged = now
        self.retry(row, now, f"halted: {self.halted}", bump=False)
        log.critical("DELIVERY HALTED: %s; nothing more is sent until the token is fixed and the daemon "
                     "restarted", self.halted, extra={"delivery_id": row["id"], "pending": self._pending()})

    def remind_halted(self) -> None:
        now = self.clock.now()
        if now - self._halt_logged >= HALT_REMINDER_S:
            self._halt_logged = now
            log.critical("DELIVERY HALTED: %s", self.halted, extra={"pending": self._pending()})

    def _pending(self) -> int:
        return int(health(self.store, self.clock.now(), self.settings.stuck_after)["pending"])
