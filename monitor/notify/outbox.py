"""The outbox: every message is a stored row before it is sent and marked sent only after Slack said ok.

Order is kept per channel (only the oldest pending row of a channel may go), at most one message per
channel per `per_channel_interval`, on the monotonic clock, and one replica at a time sends to a channel
(`lanes.py`); a 429 waits out `Retry-After`. What becomes of a row Slack did not take (retried with backoff,
failed, rerouted, all delivery halted on a refused token) is `outcomes.py`; what is said of the rows held
(stuck rows at ERROR, `monitor status`) is `health.py`.

At most once, where the bot may read history: before each post the row is marked in flight (committed), and
the post carries the delivery's id as Slack message metadata. A row found in flight (the answer timed out,
the process was killed, or recording the answer failed) is looked for in the channel's history before
anything is posted again; without the history scopes (or with a webhook) it is retried once at most, said.
When Slack said ok but the database refuses the write (disk full), nothing else is sent until it succeeds,
said loudly (`inflight.py`).

Thread replies (`kind='post'` with `parent_id`) go under the parent's `ts`; root updates (`kind='update'`)
edit it. Both wait while the parent is unsent, follow it when it was rerouted, and are never lost silently:
a reply whose root failed for good is posted on its own; an update with nothing left to edit is recorded as
failed with the reason. Of several queued updates of one message only the newest is sent.

The Outbox is composed of parts, each holding only its own state and given what it needs at construction:
`Lanes` (waits, pacing, leases), `Outcomes` (the one writer of the rows' outcomes, and the halt), `StuckRows`
(the stuck-row log), `InFlight` (the lookup) and `Stall` (outcomes the disk refused). What the operator sets
(`interval`, `fallback`, `stuck_after`) is one `OutboxSettings` record that the parts share and a reload changes.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable
from typing import Any

from monitor.core.clock import Clock
from monitor.core.errors import (
    ChannelUnavailable,
    OutcomeUnknown,
    SlackFatal,
    SlackRateLimited,
    SlackRejected,
    SlackTransient,
    StorageError,
)
from monitor.core.model import Target
from monitor.notify.health import STUCK_AFTER_S, StuckRows, health
from monitor.notify.inflight import UNKNOWN, InFlight, Stall, delivery_key
from monitor.notify.lanes import Lanes
from monitor.notify.outcomes import REROUTE_PREFIX, Outcomes
from monitor.notify.senders import (
    EVENT_TYPE,
    ConsoleSender,
    Sender,
    SlackSender,
    classify,
    render_text,
)
from monitor.notify.settings import OutboxSettings, Setting
from monitor.store.database import Store, loads
from monitor.store.leases import LeaseLost

log = logging.getLogger(__name__)


class _Wait(Exception):
    """The parent message is not sent yet: try this row again shortly, without counting an attempt."""


class Outbox:
    """Sends what `Lanes` says is due, one row at a time, and has `Outcomes` write what became of it."""

    interval: Setting[float] = Setting()          # what a reload changes: fields of `settings`, seen by every part
    fallback: Setting[list[Target]] = Setting()
    stuck_after: Setting[float] = Setting()

    def __init__(self, store: Store, sender: Sender, clock: Clock, per_channel_interval: float = 1.0,
                 fallback: list[Target] | None = None, stuck_after: float = STUCK_AFTER_S):
        self.store = store
        self.sender = sender                     # replaced on a reload (`monitor.runtime.liveconfig`)
        self.clock = clock
        self.settings = OutboxSettings(per_channel_interval, fallback or [], stuck_after)
        self.lanes = Lanes(store, clock, self.settings, bool(getattr(sender, "single_channel", False)))
        self.outcomes = Outcomes(store, clock, self.settings, self.lanes)
        self.inflight = InFlight(store, clock, self.outcomes)
        self.stuck = StuckRows(store, clock, self.settings)
        self.stall = Stall(clock)
        self._lock = threading.Lock()            # one sender at a time keeps per-channel order trivially true

    # -- what other packages read and set -----------------------------------------------------------------
    @property
    def halted(self) -> str | None:
        """Why all delivery stopped (a refused token), or None."""
        return self.outcomes.halted

    @property
    def stalled(self) -> str | None:
        """Why sending stopped until a write succeeds (Slack has a post the disk could not record), or None."""
        return self.stall.stalled

    @property
    def on_alarm(self) -> Callable[[], object] | None:
        return self.stall.on_alarm

    @on_alarm.setter
    def on_alarm(self, alarm: Callable[[], object] | None) -> None:
        self.stall.on_alarm = alarm

    # the tests reach the stall through these two names (a full disk is faked in memory there)
    @property
    def _unrecorded(self) -> dict[int, tuple[str, str]]:
        return self.stall.unrecorded

    def _stall(self, reason: str) -> None:
        self.stall.stall(reason)

    def due(self) -> list[dict[str, Any]]:
        return self.lanes.due()

    def next_due_in(self) -> float | None:
        return self.lanes.next_due_in()

    def release_leases(self) -> None:
        self.lanes.release_leases()

    def depth(self) -> dict[str, Any]:
        """`health()` with what only this process knows: a halt, a stall (a sent post the disk cannot record)."""
        return {**health(self.store, self.clock.now(), self.settings.stuck_after), "halted": self.halted,
                "stalled": self.stalled}

    def run_once(self) -> int:
        """Send what is due now (at most one per channel); return how many went out."""
        if self.halted:
            self.outcomes.remind_halted()
            return 0
        sent = 0
        with self._lock:
            if not self.stall.flush(self._write_sent):
                return 0
            for row in self.due():
                lease = self.lanes.lease(row)
                if lease is None:
                    continue                         # another replica delivers to this channel
                try:
                    with self.store.fence(lease):
                        ok = self._send(row)
                except LeaseLost as exc:
                    log.warning("channel lease lost: this replica stops sending there; %s", exc,
                                extra={"delivery_id": row["id"], "channel": row["channel"]})
                    self.lanes.lost(row)
                    ok = False
                except Exception as exc:  # noqa: BLE001 - a bug in one row must not stop the others
                    log.exception("delivery crashed; will retry", extra={"delivery_id": row["id"]})
                    self.outcomes.backoff(row, f"{type(exc).__name__}: {exc}")
                    ok = False
                sent += ok
                if self.halted or self.stalled:
                    break
            self.stuck.report()
        return sent

    # -- one attempt ------------------------------------------------------------------------------------
    def _send(self, row: dict[str, Any]) -> bool:
        payload = loads(row["payload"], {})
        now = self.clock.now()
        try:
            if row["kind"] == "update":
                if self._superseded(row):
                    return False
                channel, ts = self._update(row, payload)
            else:
                thread_ts, channel = None, row["channel"]
                if row["parent_id"] and getattr(self.sender, "can_thread", True):
                    anchor = self._anchor(row["parent_id"])
                    if anchor is not None:
                        channel, thread_ts, _ = anchor
                if row["in_flight_at"] is not None:
                    found = self.inflight.already_posted(row, channel, thread_ts, self.sender)
                    if found is None:
                        return False
                    if isinstance(found, tuple):
                        return self._record_sent(row, found[0], found[1], note="found in the channel's history")
                self.outcomes.in_flight(row, now)   # durable before the post: a crash from here on is looked up
                payload = {**payload, "metadata": {"event_type": EVENT_TYPE,
                                                   "event_payload": {"delivery": delivery_key(row)}}}
                channel, ts = self.sender.post(channel, payload, thread_ts)
        except OutcomeUnknown as exc:             # a timeout, a reset, a 5xx: in flight, looked up before any retry
            log.warning("delivery outcome unknown: it is looked for in Slack before any retry",
                        extra={"delivery_id": row["id"], "error": str(exc)})
            self.outcomes.backoff(row, f"{UNKNOWN}{exc}", at_least=float(getattr(self.sender, "timeout", 15.0)))
            return False
        except _Wait:
            self.outcomes.retry(row, now + max(self.settings.interval, 1.0), "waiting for the parent message", bump=False)
            return False
        except SlackRateLimited as exc:
            self.outcomes.not_in_flight(row)
            self.outcomes.retry(row, now + exc.retry_after, str(exc), bump=False)
            self.lanes.pause(row, exc.retry_after)
            log.warning("slack rate limited", extra={"delivery_id": row["id"], "retry_after": exc.retry_after})
            return False
        except SlackTransient as exc:
            self.outcomes.not_in_flight(row)
            self.outcomes.backoff(row, str(exc))
            return False
        except ChannelUnavailable as exc:
            if row["kind"] == "update":
                self.outcomes.finish(row, "failed", f"cannot edit the message: {exc}", logging.WARNING)
            else:
                self.outcomes.reroute(row, exc)
            return False
        except SlackRejected as exc:
            self.outcomes.rejected(row, payload, exc)
            return False
        except SlackFatal as exc:
            self.outcomes.not_in_flight(row)           # refused: this post certainly did not land
            self.outcomes.halt(row, exc)
            return False
        self.lanes.sent(row)
        return self._record_sent(row, channel, ts)

    def _record_sent(self, row: dict[str, Any], channel: str, ts: str, note: str | None = None) -> bool:
        """Mark sent; if the database refuses (disk full), keep the outcome in memory and stop the outbox."""
        self.lanes.settled(row)
        try:
            self._write_sent(row["id"], channel, ts)
        except (StorageError, sqlite3.Error) as exc:
            self.stall.keep(row["id"], channel, ts, exc)
            return True
        log.info("delivered" + (f" ({note})" if note else ""), extra={
            "delivery_id": row["id"], "alert_id": row["alert_id"], "kind": row["kind"], "channel": row["channel"]})
        return True

    def _write_sent(self, delivery_id: int, channel: str, ts: str) -> None:
        """The one call that records a post Slack took (tests replace it to die between Slack's ok and the commit)."""
        self.outcomes.sent(delivery_id, channel, ts)

    def _update(self, row: dict[str, Any], payload: dict[str, Any]) -> tuple[str, str]:
        if not getattr(self.sender, "can_update", True):
            raise SlackRejected("this delivery mode cannot edit messages")
        anchor = self._anchor(row["parent_id"])
        if anchor is None:
            raise SlackRejected("the message to update was never delivered")
        channel, ts, note = anchor
        if note and not any(b.get("block_id") == "reroute-note" for b in payload.get("blocks") or []):
            payload = {**payload, "blocks": [note, *(payload.get("blocks") or [])][:50]}
        self.sender.update(channel, ts, payload)
        return channel, ts

    def _anchor(self, parent_id: int, depth: int = 0) -> tuple[str, str, dict[str, Any] | None] | None:
        """(channel, ts, reroute note) of the message a reply or update refers to, following reroutes."""
        p = self.store.one("SELECT id, state, slack_channel, slack_ts, payload FROM deliveries WHERE id = ?",
                           (parent_id,))
        if p is None or depth > 3:
            return None
        if p["state"] == "sent":
            blocks = loads(p["payload"], {}).get("blocks") or []
            note = blocks[0] if blocks and blocks[0].get("block_id") == "reroute-note" else None
            return (p["slack_channel"], p["slack_ts"], note) if p["slack_ts"] else None
        if p["state"] == "pending":
            raise _Wait()
        moved = self.store.one("SELECT id FROM deliveries WHERE dedupe_key LIKE ? ORDER BY id LIMIT 1",
                               (f"{REROUTE_PREFIX}{parent_id}:%",))
        return self._anchor(moved["id"], depth + 1) if moved else None

    def _superseded(self, row: dict[str, Any]) -> bool:
        newer = self.store.one("SELECT id FROM deliveries WHERE kind = 'update' AND parent_id = ? AND id > ?"
                               " AND state = 'pending' LIMIT 1", (row["parent_id"], row["id"]))
        if newer:
            self.outcomes.finish(row, "superseded", f"superseded by delivery {newer['id']}", logging.DEBUG)
        return bool(newer)


__all__ = ["ConsoleSender", "Outbox", "Sender", "SlackSender", "classify", "delivery_key", "render_text"]
