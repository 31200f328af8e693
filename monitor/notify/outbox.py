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
"""

from __future__ import annotations

import logging
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
)
from monitor.core.model import Target
from monitor.notify.health import STUCK_AFTER_S, Health
from monitor.notify.inflight import UNKNOWN, InFlight, delivery_key
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
from monitor.store.database import Store, loads
from monitor.store.leases import Lease, LeaseLost

log = logging.getLogger(__name__)


class _Wait(Exception):
    """The parent message is not sent yet: try this row again shortly, without counting an attempt."""


class Outbox(Lanes, Outcomes, Health, InFlight):
    """Sends what `Lanes` says is due. InFlight comes last: its stubs (`_mono`, `_backoff`, `_finish`, `_halt`)
    are defined by the mixins before it."""

    def __init__(self, store: Store, sender: Sender, clock: Clock, per_channel_interval: float = 1.0,
                 fallback: list[Target] | None = None, stuck_after: float = STUCK_AFTER_S):
        self.store = store
        self.sender = sender
        self.clock = clock
        self.interval = per_channel_interval
        self.fallback = fallback or []
        self.stuck_after = stuck_after
        self.halted: str | None = None          # set on invalid_auth: no retry storm, loud in logs and status
        self._halt_logged = 0.0
        self._stuck_seen: set[int] = set()
        self._stuck_checked = float("-inf")
        self._last_sent: dict[str, float] = {}   # lane -> monotonic time of its last send
        self._wait_until: dict[int, float] = {}   # delivery id -> monotonic time before which it is not retried
        self._lock = threading.Lock()            # one sender at a time keeps per-channel order trivially true
        self.single_lane = bool(getattr(sender, "single_channel", False))
        # Slack said ok, the database refused to record it (disk full): kept here, written again before
        # anything else is sent. `stalled` says why, in logs, `monitor status` and systemd's STATUS.
        self._unrecorded: dict[int, tuple[str, str]] = {}
        self.stalled: str | None = None
        self._stall_logged = float("-inf")
        self.on_alarm: Callable[[], object] | None = None    # the daemon refreshes systemd's STATUS line
        # replicas: one replica sends to a channel at a time (order and pacing hold), fenced by its lease
        self._leases: dict[str, Lease] = {}
        self._refused: dict[str, float] = {}

    def run_once(self) -> int:
        """Send what is due now (at most one per channel); return how many went out."""
        if self.halted:
            self._remind_halted()
            return 0
        sent = 0
        with self._lock:
            if not self._record_unrecorded():
                return 0
            for row in self.due():
                lease = self._lane_lease(row)
                if lease is None:
                    continue                         # another replica delivers to this channel
                try:
                    with self.store.fence(lease):
                        ok = self._send(row)
                except LeaseLost as exc:
                    log.warning("channel lease lost: this replica stops sending there; %s", exc,
                                extra={"delivery_id": row["id"], "channel": row["channel"]})
                    self._leases.pop(self._lane(row), None)
                    ok = False
                except Exception as exc:  # noqa: BLE001 - a bug in one row must not stop the others
                    log.exception("delivery crashed; will retry", extra={"delivery_id": row["id"]})
                    self._backoff(row, f"{type(exc).__name__}: {exc}")
                    ok = False
                sent += ok
                if self.halted or self.stalled:
                    break
            self._report_stuck()
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
                    found = self._already_posted(row, channel, thread_ts)
                    if found is None:
                        return False
                    if isinstance(found, tuple):
                        return self._record_sent(row, found[0], found[1], note="found in the channel's history")
                with self.store.tx() as db:       # durable before the post: a crash from here on is looked up
                    db.execute("UPDATE deliveries SET in_flight_at=? WHERE id=?", (now, row["id"]))
                payload = {**payload, "metadata": {"event_type": EVENT_TYPE,
                                                   "event_payload": {"delivery": delivery_key(row)}}}
                channel, ts = self.sender.post(channel, payload, thread_ts)
        except OutcomeUnknown as exc:             # a timeout, a reset, a 5xx: in flight, looked up before any retry
            log.warning("delivery outcome unknown: it is looked for in Slack before any retry",
                        extra={"delivery_id": row["id"], "error": str(exc)})
            self._backoff(row, f"{UNKNOWN}{exc}", at_least=float(getattr(self.sender, "timeout", 15.0)))
            return False
        except _Wait:
            self._retry(row, now + max(self.interval, 1.0), "waiting for the parent message", bump=False)
            return False
        except SlackRateLimited as exc:
            self._clear_in_flight(row)
            self._retry(row, now + exc.retry_after, str(exc), bump=False)
            self._last_sent[self._lane(row)] = self._mono() + exc.retry_after - self.interval
            log.warning("slack rate limited", extra={"delivery_id": row["id"], "retry_after": exc.retry_after})
            return False
        except SlackTransient as exc:
            self._clear_in_flight(row)
            self._backoff(row, str(exc))
            return False
        except ChannelUnavailable as exc:
            if row["kind"] == "update":
                self._finish(row, "failed", f"cannot edit the message: {exc}", logging.WARNING)
            else:
                self._reroute(row, exc)
            return False
        except SlackRejected as exc:
            self._rejected(row, payload, exc)
            return False
        except SlackFatal as exc:
            self._clear_in_flight(row)           # refused: this post certainly did not land
            self._halt(row, exc)
            return False
        self._last_sent[self._lane(row)] = self._mono()
        return self._record_sent(row, channel, ts)

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
            self._finish(row, "superseded", f"superseded by delivery {newer['id']}", logging.DEBUG)
        return bool(newer)


__all__ = ["ConsoleSender", "Outbox", "Sender", "SlackSender", "classify", "delivery_key", "render_text"]
