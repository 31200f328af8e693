"""The outbox: every message is a stored row before it is sent and marked sent only after Slack said ok.

Order is kept per channel (only the oldest pending row of a channel may go), at most one message per
channel per `per_channel_interval`, a 429 waits out `Retry-After`, 5xx and network errors back off
exponentially with jitter, and nothing is ever dropped silently. A crash between Slack's ok and our commit
resends that one message; nothing else can be sent twice.
"""

from __future__ import annotations

import logging
import random
import sys
import threading
from typing import Any, Protocol, TextIO

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from .alerts import enqueue
from .clock import Clock
from .errors import ChannelUnavailable, DeliveryError, SlackFatal, SlackRateLimited, SlackTransient
from .model import Target
from .slack_message import plain_message
from .storage import Store, loads

log = logging.getLogger(__name__)

STUCK_AFTER_S = 15 * 60
MAX_BACKOFF_S = 300.0
_FATAL = {"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired", "no_permission",
          "missing_scope", "team_access_not_granted", "ekm_access_denied"}
_CHANNEL = {"channel_not_found", "not_in_channel", "is_archived", "user_not_found", "cannot_dm_bot"}
_TRANSIENT = {"internal_error", "fatal_error", "service_unavailable", "request_timeout", "ratelimited"}


class Sender(Protocol):
    def post(self, channel: str, payload: dict[str, Any], thread_ts: str | None = None) -> tuple[str, str]: ...

    def update(self, channel: str, ts: str, payload: dict[str, Any]) -> None: ...


class SlackSender:
    """slack_sdk's WebClient with its own retries off: the outbox owns retrying, with state on disk."""

    def __init__(self, token: str, api_url: str, timeout: float = 15.0):
        self.client = WebClient(token=token, base_url=api_url, timeout=int(max(1, timeout)), retry_handlers=[])

    def post(self, channel: str, payload: dict[str, Any], thread_ts: str | None = None) -> tuple[str, str]:
        resp = self._call(self.client.chat_postMessage, channel=channel, text=payload["text"],
                          blocks=payload.get("blocks"), thread_ts=thread_ts, unfurl_links=False,
                          unfurl_media=False)
        return str(resp["channel"]), str(resp["ts"])

    def update(self, channel: str, ts: str, payload: dict[str, Any]) -> None:
        self._call(self.client.chat_update, channel=channel, ts=ts, text=payload["text"],
                   blocks=payload.get("blocks"))

    def _call(self, method: Any, **kwargs: Any) -> Any:
        channel = kwargs.get("channel", "?")
        try:
            return method(**{k: v for k, v in kwargs.items() if v is not None})
        except SlackApiError as exc:
            raise classify(exc, channel) from None
        except Exception as exc:  # noqa: BLE001 - URLError, timeouts, resets, garbage bodies: all retryable
            raise SlackTransient(f"{type(exc).__name__}: {exc}"[:300]) from None


def classify(exc: SlackApiError, channel: str) -> DeliveryError:
    resp = exc.response
    status = getattr(resp, "status_code", 0)
    data = resp.data if isinstance(getattr(resp, "data", None), dict) else {}
    error = str(data.get("error") or f"HTTP {status}")
    if status == 429 or error == "ratelimited":
        headers = {k.lower(): v for k, v in (resp.headers or {}).items()}
        raw = headers.get("retry-after", "1")
        raw = raw[0] if isinstance(raw, list) else raw
        try:
            retry_after = float(raw)
        except ValueError:
            retry_after = 1.0
        return SlackRateLimited(max(retry_after, 0.0))
    if error in _FATAL:
        return SlackFatal(f"Slack refused the token: {error}")
    if error in _CHANNEL:
        return ChannelUnavailable(channel, error)
    if status >= 500 or error in _TRANSIENT or not data:
        return SlackTransient(f"Slack answered {error}")
    return SlackFatal(f"Slack rejected the message: {error}")   # invalid_blocks etc.: retrying cannot help


class ConsoleSender:
    """No token: print alerts to the terminal so a first `make run` shows what would be sent."""

    def __init__(self, stream: TextIO | None = None):
        self.stream = stream or sys.stdout
        self._n = 0
        self._lock = threading.Lock()

    def post(self, channel: str, payload: dict[str, Any], thread_ts: str | None = None) -> tuple[str, str]:
        with self._lock:
            self._n += 1
            ts = f"{self._n}.000000"
            where = f"{channel} (thread {thread_ts})" if thread_ts else channel
            print(f"\n─── Slack → {where} " + "─" * 20, file=self.stream)
            print(render_text(payload), file=self.stream, flush=True)
            return channel, ts

    def update(self, channel: str, ts: str, payload: dict[str, Any]) -> None:
        with self._lock:
            print(f"\n─── Slack update of {channel} message {ts}: {payload['text'][:200]}", file=self.stream,
                  flush=True)


def render_text(payload: dict[str, Any]) -> str:
    lines: list[str] = []
    for block in payload.get("blocks") or []:
        if block["type"] in ("header", "section"):
            lines.append(block["text"]["text"])
        elif block["type"] == "context":
            lines.extend(e["text"] for e in block["elements"])
        elif block["type"] == "actions":
            lines.append("  ".join(f"[{e['text']['text']}]" for e in block["elements"]))
    text = "\n".join(lines) or payload["text"]
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


class Outbox:
    def __init__(self, store: Store, sender: Sender, clock: Clock, per_channel_interval: float = 1.0,
                 fallback: list[Target] | None = None):
        self.store = store
        self.sender = sender
        self.clock = clock
        self.interval = per_channel_interval
        self.fallback = fallback or []
        self.halted: str | None = None          # set on invalid_auth: no retry storm, loud in logs and status
        self._last_sent: dict[str, float] = {}
        self._lock = threading.Lock()            # one sender at a time keeps per-channel order trivially true

    def due(self) -> list[dict[str, Any]]:
        """The oldest pending delivery of each channel whose time has come."""
        now = self.clock.now()
        rows = self.store.query(
            "SELECT * FROM deliveries WHERE id IN (SELECT MIN(id) FROM deliveries WHERE state = 'pending'"
            " GROUP BY channel) AND COALESCE(not_before, 0) <= ? ORDER BY id", (now,))
        return [r for r in rows if now - self._last_sent.get(r["channel"], float("-inf")) >= self.interval]

    def next_due_in(self) -> float | None:
        """Seconds until something could be sent (None: nothing pending)."""
        row = self.store.one("SELECT MIN(COALESCE(not_before, 0)) AS t, COUNT(*) AS n FROM deliveries"
                             " WHERE state = 'pending'")
        if not row or not row["n"]:
            return None
        return max(0.0, (row["t"] or 0) - self.clock.now())

    def run_once(self) -> int:
        """Send what is due now (at most one per channel); return how many went out."""
        if self.halted:
            return 0
        sent = 0
        with self._lock:
            for row in self.due():
                if self._send(row):
                    sent += 1
                if self.halted:
                    break
        return sent

    def _send(self, row: dict[str, Any]) -> bool:
        payload = loads(row["payload"], {})
        now = self.clock.now()
        try:
            if row["kind"] == "update":
                parent = self.store.one("SELECT slack_channel, slack_ts FROM deliveries WHERE id = ?",
                                        (row["parent_id"],))
                if not parent or not parent["slack_ts"]:
                    raise SlackTransient("root message not sent yet")
                self.sender.update(parent["slack_channel"], parent["slack_ts"], payload)
                channel, ts = parent["slack_channel"], parent["slack_ts"]
            else:
                thread_ts = None
                if row["parent_id"]:
                    parent = self.store.one("SELECT slack_ts FROM deliveries WHERE id = ?", (row["parent_id"],))
                    thread_ts = parent["slack_ts"] if parent else None
                channel, ts = self.sender.post(row["channel"], payload, thread_ts)
        except SlackRateLimited as exc:
            self._retry(row, now + exc.retry_after, str(exc), bump=False)
            log.warning("slack rate limited", extra={"delivery_id": row["id"], "retry_after": exc.retry_after})
            return False
        except SlackTransient as exc:
            backoff = min(MAX_BACKOFF_S, 2.0 ** min(row["attempts"], 10)) * random.uniform(0.8, 1.2)
            self._retry(row, now + backoff, str(exc))
            level = logging.ERROR if now - row["created_at"] > STUCK_AFTER_S else logging.WARNING
            log.log(level, "delivery failed, will retry", extra={
                "delivery_id": row["id"], "alert_id": row["alert_id"], "error": str(exc), "retry_in": round(backoff, 1),
                "stuck": now - row["created_at"] > STUCK_AFTER_S})
            return False
        except ChannelUnavailable as exc:
            self._reroute(row, exc)
            return False
        except SlackFatal as exc:
            self.halted = str(exc)
            self._retry(row, now, str(exc), bump=False)
            log.critical("delivery halted: %s", exc, extra={"delivery_id": row["id"]})
            return False
        self._last_sent[row["channel"]] = self.clock.now()
        with self.store.tx() as db:
            db.execute("UPDATE deliveries SET state='sent', sent_at=?, slack_channel=?, slack_ts=?,"
                       " attempts=attempts+1, last_error=NULL WHERE id=?", (self.clock.now(), channel, ts, row["id"]))
        log.info("delivered", extra={"delivery_id": row["id"], "alert_id": row["alert_id"], "channel": row["channel"]})
        return True

    def _retry(self, row: dict[str, Any], not_before: float, error: str, bump: bool = True) -> None:
        with self.store.tx() as db:
            db.execute("UPDATE deliveries SET not_before=?, last_error=?, attempts=attempts+? WHERE id=?",
                       (not_before, error[:500], int(bump), row["id"]))

    def _reroute(self, row: dict[str, Any], exc: ChannelUnavailable) -> None:
        """Deliver to the default owner instead, with a note, once; the original row records why it failed."""
        now = self.clock.now()
        log.error("channel unavailable, rerouting to the default owner",
                  extra={"delivery_id": row["id"], "channel": row["channel"], "error": exc.error})
        with self.store.tx() as db:
            db.execute("UPDATE deliveries SET state='failed', last_error=? WHERE id=?", (str(exc), row["id"]))
            if row["kind"] == "rerouted":
                return
            for t in self.fallback:
                if t.channel == row["channel"]:
                    continue
                payload = loads(row["payload"], {})
                note = (f":warning: This was meant for `{row['channel']}` but Slack said `{exc.error}`; "
                        "invite the bot there or fix rules.yaml.")
                payload = {"text": note + "\n" + payload.get("text", ""),
                           "blocks": plain_message(note)["blocks"] + list(payload.get("blocks") or [])[:49]}
                enqueue(db, now, f"reroute:{row['id']}:{t.channel}", "rerouted", t, payload, row["alert_id"])

    def depth(self) -> dict[str, Any]:
        row = self.store.one("SELECT COUNT(*) AS pending, MIN(created_at) AS oldest FROM deliveries"
                             " WHERE state = 'pending'") or {}
        return {"pending": row.get("pending", 0), "oldest_pending": row.get("oldest"), "halted": self.halted}



__all__ = ["ConsoleSender", "Outbox", "SlackSender", "classify", "render_text"]
