"""The outbox: every message is a stored row before it is sent and marked sent only after Slack said ok.

Order is kept per channel (only the oldest pending row of a channel may go), at most one message per
channel per `per_channel_interval`, a 429 waits out `Retry-After`, 5xx and network errors back off
exponentially with jitter (a 5xx to a post may have come after Slack posted: looked up first, below) (capped at 5 minutes, forever: nothing is dropped), and a row pending longer than
`stuck_after` is logged at ERROR and shown by `monitor status`.

At most once, where the bot may read history: before each post the row is marked in flight (committed), and
the post carries the delivery's id as Slack message metadata. A row found in flight (the answer timed out,
the process was killed, or recording the answer failed) is looked for in the channel's history
(`conversations.history`/`replies` with `include_all_metadata`, since it went in flight) before anything is
posted again; a lookup that cannot finish waits and looks again, one refused for a dead token halts delivery
(`inflight.py`). Without the
`channels:history`/`groups:history` scope (or with a webhook) such a message is retried once at most, and the
log says it may be a duplicate. When Slack said ok but the database refuses the write (disk full), the
outcome is kept in memory, the write retried, and nothing else is sent until it succeeds (CRITICAL log,
`monitor status`, systemd STATUS). Pacing uses the monotonic clock: stepping the wall clock changes nothing.

Thread replies (`kind='post'` with `parent_id`) go under the parent's `ts`; root updates (`kind='update'`)
edit it. Both wait while the parent is unsent, follow it when it was rerouted, and are never lost silently:
a reply whose root failed for good is posted on its own; an update with nothing left to edit is recorded as
failed with the reason. Of several queued updates of one message only the newest is sent.
"""

from __future__ import annotations

import logging
import random
import threading
import time
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
from monitor.notify.blockkit import plain_message
from monitor.notify.inflight import UNKNOWN, InFlight, delivery_key
from monitor.notify.queue import enqueue
from monitor.notify.senders import (
    EVENT_TYPE,
    ConsoleSender,
    Sender,
    SlackSender,
    classify,
    render_text,
)
from monitor.store.database import Store, dumps, loads
from monitor.store.leases import Coordinator, Lease, LeaseLost

log = logging.getLogger(__name__)

STUCK_AFTER_S = 15 * 60
MAX_BACKOFF_S = 300.0
HALT_REMINDER_S = 600.0
MAX_STORED_WAIT_S = 900.0      # a stored not_before further ahead than this is a stepped wall clock
REROUTE_PREFIX = "reroute:"
_BLOCK_ERRORS = {"invalid_blocks", "invalid_blocks_format", "msg_too_long", "too_many_blocks", "invalid_attachments"}


class _Wait(Exception):
    """The parent message is not sent yet: try this row again shortly, without counting an attempt."""


class Outbox(InFlight):
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

    # -- what is due ------------------------------------------------------------------------------------
    def _heads(self) -> list[dict[str, Any]]:
        """The oldest pending row of each lane (a channel; everything, for a one-channel sender)."""
        group = "" if self.single_lane else " GROUP BY channel"
        return self.store.query("SELECT * FROM deliveries WHERE id IN (SELECT MIN(id) FROM deliveries"
                                f" WHERE state = 'pending'{group}) ORDER BY id")

    def _lane(self, row: dict[str, Any]) -> str:
        return "*" if self.single_lane else row["channel"]

    def _mono(self) -> float:
        mono = getattr(self.clock, "monotonic", None)
        return float(mono()) if mono is not None else time.monotonic()

    def _wait(self, row: dict[str, Any], now: float, mono: float) -> float:
        """Seconds before this row may go: its own retry time and its lane's pacing, both on the monotonic clock.

        A retry time set by this process is kept as a monotonic deadline; one read from the database (set
        before a restart) is wall time, trusted only up to MAX_STORED_WAIT_S ahead (regression: a wall clock
        stepped back an hour stalled a channel for an hour)."""
        until = self._wait_until.get(row["id"])
        if until is not None:
            own = until - mono
        elif (row["not_before"] or 0.0) <= row["created_at"]:       # "as soon as possible", set at enqueue
            own = 0.0
        elif row["last_error"]:                                   # a retry time of ours, from before a restart
            own = min(row["not_before"] - now, MAX_STORED_WAIT_S)
        else:
            own = row["not_before"] - now
        paced = self._last_sent.get(self._lane(row), float("-inf")) + self.interval - mono
        return max(own, paced, 0.0)

    def due(self) -> list[dict[str, Any]]:
        """The oldest pending delivery of each channel whose time has come (Retry-After, backoff, pacing)."""
        now, mono = self.clock.now(), self._mono()
        return [r for r in self._heads() if self._wait(r, now, mono) <= 0 and not self._elsewhere(r)]

    def _elsewhere(self, row: dict[str, Any]) -> bool:
        """Another replica held this channel's lease when we last asked (we ask again after a while)."""
        return self._refused.get(self._lane(row), float("-inf")) > self.clock.now()

    def _lane_lease(self, row: dict[str, Any]) -> Lease | None:
        lane = self._lane(row)
        lease = self._leases.get(lane)
        coord = Coordinator.of(self.store)
        if lease is not None and not lease.lost:
            if lease.expires_at - self.store.now() < lease.ttl * 2 / 3 and not coord.renew(lease):
                self._leases.pop(lane, None)         # renewed before the send, so its commit is not refused
                return None
            return lease
        lease = coord.acquire(f"channel:{lane}")
        if lease is None:
            self._refused[lane] = self.clock.now() + min(5.0, coord.ttl / 4)
            self._leases.pop(lane, None)
            return None
        coord.start()                                # renewed in the background while we keep sending
        self._refused.pop(lane, None)
        self._leases[lane] = lease
        return lease

    def release_leases(self) -> None:
        for lease in list(self._leases.values()):
            Coordinator.of(self.store).release(lease)
        self._leases.clear()

    def next_due_in(self) -> float | None:
        """Seconds until something could be sent (None: nothing pending). A channel another replica held when
        last asked counts from when it is asked again: a cron pass (`drain`) waits for that box to let it go
        rather than leaving the message to the next pass (regression: two cron boxes routing together left the
        second box's alerts pending for a whole cron interval)."""
        heads = self._heads()
        if not heads:
            return None
        now, mono = self.clock.now(), self._mono()
        return min(max(self._wait(r, now, mono), self._refused.get(self._lane(r), now) - now) for r in heads)

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

    # -- outcomes ---------------------------------------------------------------------------------------
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

    # -- being loud -------------------------------------------------------------------------------------
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

    def _report_stuck(self) -> None:
        if self.clock.now() - self._stuck_checked < 30:
            return
        self._stuck_checked = self.clock.now()
        cutoff = self.clock.now() - self.stuck_after
        for r in self.store.query("SELECT id, alert_id, channel, attempts, last_error, created_at FROM deliveries"
                                  " WHERE state = 'pending' AND created_at < ? ORDER BY id LIMIT 20", (cutoff,)):
            if r["id"] not in self._stuck_seen:
                self._stuck_seen.add(r["id"])
                log.error("delivery stuck", extra={"delivery_id": r["id"], "alert_id": r["alert_id"],
                                                   "channel": r["channel"], "attempts": r["attempts"],
                                                   "pending_for_s": int(self.clock.now() - r["created_at"]),
                                                   "last_error": r["last_error"]})

    def depth(self) -> dict[str, Any]:
        return {**health(self.store, self.clock.now(), self.stuck_after), "halted": self.halted,
                "stalled": self.stalled}


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


__all__ = ["ConsoleSender", "Outbox", "Sender", "SlackSender", "classify", "delivery_key", "health", "render_text"]
