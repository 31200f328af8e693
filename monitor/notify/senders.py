"""How the outbox talks to Slack: the bot (Web API), the terminal, or (see webhook.py) an incoming webhook.

A sender does one attempt and turns every answer into the outbox's vocabulary (`monitor/errors.py`): sent,
rate limited, transient, outcome unknown (a post that may have landed: a timeout, a 5xx), channel unavailable,
this message rejected, or fatal (stop everything). Retrying,
ordering and pacing belong to the outbox, which keeps its state on disk; so the SDK's own retries are off.
"""

from __future__ import annotations

import http.client
import socket
import sys
import threading
import urllib.error
import urllib.request
from typing import Any, Protocol, TextIO

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackRequestError

from monitor.core.errors import (
    ChannelUnavailable,
    DeliveryError,
    OutcomeUnknown,
    SlackFatal,
    SlackRateLimited,
    SlackRejected,
    SlackTransient,
    TokenRefused,
)
from monitor.core.netguard import WATCHDOG

# Every message the bot posts carries its delivery's id as Slack message metadata, so a post whose answer
# never came (timeout, crash) can be found in the channel's history instead of being posted again.
EVENT_TYPE = "mention_monitor_delivery"
HISTORY_SCOPES = ("channels:history + channels:read (public channels), groups:history + groups:read (private), "
                  "im:history + im:write (DMs)")

_FATAL = {"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired", "no_permission",
          "missing_scope", "team_access_not_granted", "ekm_access_denied", "not_allowed_token_type",
          "org_login_required", "two_factor_setup_required", "access_denied"}
_TOKEN = {"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired"}
# Slack documents these as "it's possible some aspect of the operation succeeded before the error was raised"
MAYBE_DONE = frozenset({"internal_error", "fatal_error"})   # the report's share reads it too (upload.py)
ERRED = "Slack erred after receiving it"     # how an OutcomeUnknown from an error answer begins
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


MAX_ANSWER = 8 * 1024 * 1024     # bytes of one Slack answer (a history page of 200 messages is ~1 MB)


class CappedWebClient(WebClient):
    """slack_sdk reads every answer whole (`resp.read()`): whatever answers at `slack.api_url` could hand us
    gigabytes. This reads at most MAX_ANSWER bytes of a success or an error answer, then says so.

    It replaces slack_sdk's `_perform_urllib_http_request_internal` (same signature and return shape, slack_sdk
    3.x); proxies are not supported here because the product never configures one for Slack."""

    def _perform_urllib_http_request_internal(self, url: str, req: urllib.request.Request) -> dict[str, Any]:
        if not url.lower().startswith(("http://", "https://")):
            raise SlackRequestError(f"Invalid URL detected: {url}")
        try:
            resp = urllib.request.urlopen(req, context=self.ssl, timeout=self.timeout)  # noqa: S310 - http(s) only
        except urllib.error.HTTPError as exc:        # 429, 5xx: still an answer, with headers
            resp = exc
        with resp:
            body = resp.read(MAX_ANSWER + 1)
            if len(body) > MAX_ANSWER:
                raise SlackRequestError(f"answer from {req.host} larger than {MAX_ANSWER:,} bytes; not read further")
            charset = resp.headers.get_content_charset() or "utf-8"
            return {"status": resp.code, "headers": resp.headers, "body": body.decode(charset, "replace")}


# A delivery whose outcome is unknown is looked for only among the messages posted since it went in flight:
# that is what makes the paging finite and "not there" sound. The margin covers our clock against Slack's ts.
LOOKBACK_MARGIN_S = 300.0
MAX_LOOKUP_PAGES = 50          # x 200 messages since the delivery went in flight; past that: "cannot tell"


class CannotTell(Exception):
    """The history since the delivery went in flight could not be read to the end (Slack error, 429, page cap):
    neither "posted" nor "not posted". `retry_after`: what Slack asked us to wait before reading again."""

    def __init__(self, reason: str, retry_after: float = 0.0):
        super().__init__(reason)
        self.retry_after = retry_after


class HistoryUnavailable(CannotTell):
    """The bot may not read the channel's history at all (no `channels:history`/`groups:history` scope, not in
    the channel...): waiting does not change the answer, so the outbox does not wait for it."""


class SlackSender:
    """slack_sdk's WebClient with its own retries off: the outbox owns retrying, with state on disk.

    Each call runs inside a core deadline guard: however slowly Slack (or anything pretending to be it)
    answers, the call ends `timeout` seconds after it started, and one that ended after the request went
    out raises OutcomeUnknown, never a plain transient error."""

    can_update = True
    can_thread = True
    single_channel = False

    def __init__(self, token: str, api_url: str, timeout: float = 15.0):
        self.timeout = float(max(1, timeout))
        self.api_url = api_url
        self.client = CappedWebClient(token=token, base_url=api_url, timeout=int(self.timeout), retry_handlers=[])
        self._ids: dict[str, str] = {}

    def post(self, channel: str, payload: dict[str, Any], thread_ts: str | None = None) -> tuple[str, str]:
        # No link_names, ever: a literal "@channel" in collected text must stay text.
        resp = self._call(self.client.chat_postMessage, channel=channel, text=payload["text"],
                          blocks=payload.get("blocks"), thread_ts=thread_ts, unfurl_links=False,
                          unfurl_media=False, metadata=payload.get("metadata"), sends=True)
        return str(resp["channel"]), str(resp["ts"])

    def update(self, channel: str, ts: str, payload: dict[str, Any]) -> None:
        self._call(self.client.chat_update, channel=channel, ts=ts, text=payload["text"],
                   blocks=payload.get("blocks"))

    def find_posted(self, channel: str, delivery: str, since: float,
                    thread_ts: str | None = None) -> tuple[str, str] | None:
        """(channel, ts) of a message of ours carrying `delivery` in its metadata, posted since `since` (when it
        went in flight, our clock); None only when the whole history since then was read and it is not there.

        Three answers, never two: CannotTell when the history could not be read to the end (a 5xx or network
        error on any page, a 429, more than MAX_LOOKUP_PAGES pages), HistoryUnavailable when the bot may not
        read it. Regression: after 10 pages this said "not posted", and a busy channel got the alert twice."""
        try:
            channel = self.channel_id(channel)
        except SlackRateLimited as exc:
            raise CannotTell(f"Slack rate limited the channel lookup (Retry-After {exc.retry_after:g}s)",
                             exc.retry_after) from None
        except SlackTransient as exc:
            raise CannotTell(f"cannot find the channel's id: {exc}") from None
        cursor: str | None = None
        oldest = f"{max(0.0, since - LOOKBACK_MARGIN_S):.6f}"
        for page in range(1, MAX_LOOKUP_PAGES + 1):
            args: dict[str, Any] = {"channel": channel, "oldest": oldest, "limit": 200, "include_all_metadata": True,
                                    "cursor": cursor}
            method: Any = self.client.conversations_history
            if thread_ts:
                method, args["ts"] = self.client.conversations_replies, thread_ts
            try:
                resp = self._call(method, **args)
            except TokenRefused:
                raise                       # a dead token: "cannot tell", and delivery halts (the outbox)
            except (SlackFatal, ChannelUnavailable, SlackRejected) as exc:
                raise HistoryUnavailable(str(exc)) from None
            except SlackRateLimited as exc:
                raise CannotTell(f"Slack rate limited the history read at page {page} (Retry-After "
                                 f"{exc.retry_after:g}s)", exc.retry_after) from None
            except SlackTransient as exc:
                raise CannotTell(f"the history read failed at page {page}: {exc}") from None
            for m in resp.get("messages") or []:
                meta = m.get("metadata") or {}
                if meta.get("event_type") == EVENT_TYPE and (meta.get("event_payload") or {}).get("delivery") \
                        == delivery:
                    return str(resp.get("channel") or channel), str(m["ts"])
            cursor = ((resp.get("response_metadata") or {}).get("next_cursor")) or None
            if not cursor:
                if resp.get("has_more"):
                    raise CannotTell(f"Slack said page {page} of the history has more but gave no cursor")
                return None
        raise CannotTell(f"more than {MAX_LOOKUP_PAGES * 200:,} messages since it went in flight; not searched "
                         "further")

    def channel_id(self, channel: str) -> str:
        """History wants an id: `#name` through conversations.list, a user's DM through conversations.open."""
        if channel[:1] in ("C", "G", "D") and channel.isupper():
            return channel
        if channel in self._ids:
            return self._ids[channel]
        try:
            user = channel.lstrip("@")
            if user[:1] in ("U", "W") and user.isupper() and user.isalnum():
                found = str(self._call(self.client.conversations_open, users=user)["channel"]["id"])
            else:
                found = self._find_name(channel.lstrip("#"))
        except TokenRefused:
            raise
        except (SlackFatal, ChannelUnavailable, SlackRejected) as exc:
            raise HistoryUnavailable(f"cannot find the id of {channel}: {exc}") from None
        self._ids[channel] = found
        return found

    def _find_name(self, name: str) -> str:
        cursor = None
        for _page in range(50):
            resp = self._call(self.client.conversations_list, types="public_channel,private_channel",
                              exclude_archived=True, limit=1000, cursor=cursor)
            for c in resp.get("channels") or []:
                if c.get("name") == name:
                    return str(c["id"])
            cursor = (resp.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                break
        raise SlackRejected(f"no channel named {name}")

    def _call(self, method: Any, sends: bool = False, **kwargs: Any) -> Any:
        channel = kwargs.get("channel", "?")
        with WATCHDOG.guard(self.timeout + 1.0, trusted=[self.api_url]) as guard:
            try:
                answer = method(**{k: v for k, v in kwargs.items() if v is not None})
                if guard.fired:          # cut at the deadline: a partial answer is no answer
                    raise TimeoutError("no complete answer within the deadline")
                return answer
            except SlackApiError as exc:
                if sends and may_have_acted(exc):
                    raise OutcomeUnknown(f"{ERRED} ({classify(exc, channel)}); it may have posted it"[:300]) from None
                raise classify(exc, channel) from None
            except Exception as exc:  # noqa: BLE001 - URLError, timeouts, resets, garbage bodies: all retryable
                what = "no complete answer within the deadline" if guard.fired else f"{type(exc).__name__}: {exc}"
                if sends and not never_sent(exc):
                    raise OutcomeUnknown(f"{what}; Slack may have posted it"[:300]) from None
                raise SlackTransient(what[:300]) from None


def never_sent(exc: BaseException) -> bool:
    """True when the request certainly did not reach Slack (refused, unresolvable, refused by policy)."""
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    return isinstance(reason, ConnectionRefusedError | socket.gaierror) and not isinstance(
        reason, http.client.RemoteDisconnected)


def may_have_acted(exc: SlackApiError) -> bool:
    """True when Slack (or a proxy before it) answered with an error that may have come after the message was
    posted: a 5xx (often an HTML page or an empty body), a 2xx that is not Slack's JSON, or `internal_error` /
    `fatal_error`, which Slack documents as "some aspect of the operation may have succeeded". A 429, a 4xx
    page from a proxy and Slack's own `ok: false` refusals (channel_not_found, invalid_blocks, msg_too_long…)
    were not acted on. The weekly report's share follows the same rule (`ops/dashboard/upload.py`).
    Regression: a 502 after Slack had posted cleared the in-flight mark and the alert was posted twice."""
    status = int(getattr(exc.response, "status_code", 0) or 0)
    data = exc.response.data if isinstance(getattr(exc.response, "data", None), dict) else {}
    error = str(data.get("error") or "")
    if status == 429 or error == "ratelimited":
        return False
    if status >= 500 or error in MAYBE_DONE:
        return True
    return status < 400 and (not data or error.startswith("Received a response in a non-JSON format"))


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
    if error in _TOKEN:
        return TokenRefused(f"Slack refused the token: {error}")
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
