"""How the outbox talks to Slack: the bot (Web API), the terminal, or (see webhook.py) an incoming webhook.

A sender does one attempt and turns every answer into the outbox's vocabulary (`monitor/errors.py`): sent,
rate limited, transient, channel unavailable, this message rejected, or fatal (stop everything). Retrying,
ordering and pacing belong to the outbox, which keeps its state on disk; so the SDK's own retries are off.
"""

from __future__ import annotations

import sys
import threading
from typing import Any, Protocol, TextIO

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from monitor.core.errors import (
    ChannelUnavailable,
    DeliveryError,
    SlackFatal,
    SlackRateLimited,
    SlackRejected,
    SlackTransient,
)

_FATAL = {"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired", "no_permission",
          "missing_scope", "team_access_not_granted", "ekm_access_denied", "not_allowed_token_type",
          "org_login_required", "two_factor_setup_required", "access_denied"}
_CHANNEL = {"channel_not_found", "not_in_channel", "is_archived", "user_not_found", "cannot_dm_bot",
            "user_disabled", "channel_is_archived", "restricted_action", "restricted_action_read_only_channel"}
_TRANSIENT = {"internal_error", "fatal_error", "service_unavailable", "request_timeout", "ratelimited",
              "team_added_to_org", "accesslimited"}


class Sender(Protocol):
    """One attempt at a message. `can_update`/`can_thread`: whether edits and thread replies exist here;
    `single_channel`: every message lands in one channel (order and pacing then span everything)."""

    can_update: bool
    can_thread: bool
    single_channel: bool

    def post(self, channel: str, payload: dict[str, Any], thread_ts: str | None = None) -> tuple[str, str]: ...

    def update(self, channel: str, ts: str, payload: dict[str, Any]) -> None: ...


class SlackSender:
    """slack_sdk's WebClient with its own retries off: the outbox owns retrying, with state on disk."""

    can_update = True
    can_thread = True
    single_channel = False

    def __init__(self, token: str, api_url: str, timeout: float = 15.0):
        self.client = WebClient(token=token, base_url=api_url, timeout=int(max(1, timeout)), retry_handlers=[])

    def post(self, channel: str, payload: dict[str, Any], thread_ts: str | None = None) -> tuple[str, str]:
        # No link_names, ever: a literal "@channel" in collected text must stay text.
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


def retry_after_of(headers: dict[str, Any] | None, default: float = 1.0) -> float:
    h = {k.lower(): v for k, v in (headers or {}).items()}
    raw = h.get("retry-after", default)
    raw = raw[0] if isinstance(raw, list) and raw else raw
    try:
        return max(0.0, float(raw))
    except (TypeError, ValueError):
        return default


def classify(exc: SlackApiError, channel: str) -> DeliveryError:
    resp = exc.response
    status = getattr(resp, "status_code", 0)
    data = resp.data if isinstance(getattr(resp, "data", None), dict) else {}
    error = str(data.get("error") or f"HTTP {status}")
    return classify_error(status, error, bool(data), resp.headers, channel)


def classify_error(status: int, error: str, parsed: bool, headers: dict[str, Any] | None,
                   channel: str) -> DeliveryError:
    if status == 429 or error == "ratelimited":
        return SlackRateLimited(retry_after_of(headers))
    if error in _FATAL:
        return SlackFatal(f"Slack refused the token: {error}")
    if error in _CHANNEL:
        return ChannelUnavailable(channel, error)
    if status >= 500 or not parsed or error.startswith("Received a response in a non-JSON format"):
        return SlackTransient(f"Slack answered HTTP {status}" + (f" ({error[:100]})" if parsed else ""))
    if error in _TRANSIENT:
        return SlackTransient(f"Slack answered {error}")
    return SlackRejected(error)      # invalid_blocks, msg_too_long, message_not_found…: this message only


class ConsoleSender:
    """No token: print alerts to the terminal so a first `make run` shows what would be sent."""

    can_update = True
    can_thread = True
    single_channel = False

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
            print(f"\n─── Slack update of {channel} message {ts}: {render_text(payload)[:300]}",
                  file=self.stream, flush=True)


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
