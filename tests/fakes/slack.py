"""A local fake of the Slack Web API, faithful to the wire format the real WebClient sees.

POST /api/<method> with a JSON or form body (GET with a query for the read methods) and `Authorization:
Bearer xoxb-…`; answers HTTP 200 with `{"ok": true, ...}` or `{"ok": false, "error": "..."}`, 429 with
`Retry-After`, or 5xx. Every call is recorded with its arrival time so tests can check order, pacing and
idempotence. Messages keep their `metadata`; `conversations.history`/`conversations.replies` return it with
`include_all_metadata`, or `missing_scope` (with `needed`) when the scope is withheld; they page as Slack does
(`limit` up to 999, `has_more`, an opaque `response_metadata.next_cursor`; `invalid_cursor` for one we never gave)
and bound it as Slack does: only messages after `oldest` and before `latest` (default: now), both ends included
with `inclusive`. `chatter(channel, n)` is other people talking in a channel (a busy channel to page through);
a 429 with `Retry-After` is a `Fault(429, retry_after=...)`; `Fault(502, after=True)` carries the call out (the
message is posted) and then answers 502, as Slack does when its edge fails after the backend acted.
`post_delay` is a slow Slack that has posted: the message exists at once, the answer comes `post_delay` seconds
later; `complete_delay` the same for files.completeUploadExternal, whose share of the file in the channel is a
message (its `files` list the file, `upload: true`) in that channel's history, as on Slack.
Answers have the shape of Slack's recorded ones (tests/data/recorded/slack/, held by tests/test_recorded_slack.py):
a key with no value is left out, never null; chat.update's `message` has no `ts`; completeUploadExternal refuses a
`channel_id` that is not an ID with the body Slack was recorded answering.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from .server import LocalServer, Reply, Request

TOKEN = "xoxb-test-0000000000-abcdefghijklmnop"
APP_TOKEN = "xapp-1-A000-0000-abcdefghijklmnop"
WEBHOOK_PATH = "/services/T000/B000/fakewebhooksecret0000"


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    at: float
    token: str | None


@dataclass
class Fault:
    status: int = 500
    error: str | None = None            # ok:false error code (HTTP 200) when status is 200
    retry_after: float | None = None
    body: bytes | None = None           # None: Slack's JSON for 429/ok:false, a proxy's HTML page for a 5xx
    after: bool = False                 # the call is carried out (a message posted), then answered with this


# files.completeUploadExternal takes a channel ID only; anything else is refused with this body, as recorded from
# Slack in slackapi/python-slack-sdk#1426 (tests/data/recorded/slack/README.md)
CHANNEL_ID = re.compile(r"[CGDZ][A-Z0-9]{8,}")
INVALID_CHANNEL_ID = {"ok": False, "error": "invalid_arguments", "response_metadata": {"messages": [
    "[ERROR] input must match regex pattern: ^[CGDZ][A-Z0-9]{8,}$ [json-pointer:/channel_id]"]}}


def _present(message: dict[str, Any]) -> dict[str, Any]:
    """A message as Slack sends it: a key it has no value for is absent, never null (the recorded shapes in
    tests/data/recorded/slack/ have no null; `thread_ts: null` or `metadata: null` would be ours, not Slack's)."""
    return {k: v for k, v in message.items() if v is not None}


def channel_id(name: str) -> str:
    if name.startswith(("C", "D", "G")) and name.isupper():
        return name
    if name.startswith("U"):
        return "D" + hashlib.sha1(name.encode()).hexdigest()[:8].upper()
    return "C" + hashlib.sha1(name.lstrip("#").encode()).hexdigest()[:8].upper()


class FakeSlack(LocalServer):
    def __init__(self, token: str = TOKEN, port: int = 0, clock: Any = None, post_delay: float = 0.0,
                 complete_delay: float = 0.0):
        super().__init__(self._serve, port)
        self.token = token
        self.app_token = APP_TOKEN
        self.clock = clock                            # stamps `Call.at` (a FakeClock: simulated time)
        self.post_delay = post_delay                  # seconds each chat.postMessage takes to answer
        self.complete_delay = complete_delay          # seconds each files.completeUploadExternal takes to answer
        self.calls: list[Call] = []
        self.faults: list[Fault] = []                 # consumed one per call, in order
        self.fault_when: Callable[[Call], Fault | None] | None = None   # e.g. "down until the clock says"
        self.responses: list[dict[str, Any]] = []     # what was POSTed to response_urls
        self.webhook_posts: list[dict[str, Any]] = []  # what was POSTed to the incoming webhook
        self.socket: Any = None                       # a SocketModeServer, once `enable_socket_mode()`
        self.channel_errors: dict[str, str] = {}      # channel as sent -> error (channel_not_found...)
        self.messages: dict[tuple[str, str], dict[str, Any]] = {}   # (channel id, ts) -> latest message
        self.uploads: dict[str, dict[str, Any]] = {}   # file id -> {filename, length, data, completed, ...}
        self.scopes: set[str] = {"chat:write", "channels:history", "groups:history", "im:history", "channels:read",
                                 "groups:read", "im:write"}
        self.channel_names: dict[str, str] = {}       # channel id -> name, for every channel posted to
        self.views: list[Any] = []                    # modals opened with views.open
        self.used_triggers: set[str] = set()
        self._lock = threading.Lock()
        self._ts = 1_700_000_000_000_000

    @property
    def api_url(self) -> str:
        return self.url + "/api/"

    def posts(self, channel: str | None = None) -> list[Call]:
        return [c for c in self.calls if c.method == "chat.postMessage"
                and (channel is None or c.args.get("channel") in (channel, channel.lstrip("#"), channel_id(channel)))]

    @property
    def webhook_url(self) -> str:
        return self.url + WEBHOOK_PATH

    def response_url(self, key: str = "1") -> str:
        return f"{self.url}/actions/T000/{key}/fakeresponsesecret"

    def enable_socket_mode(self) -> Any:
        from .socket_mode import SocketModeServer

        self.socket = SocketModeServer().start()
        return self.socket

    def stop(self) -> None:
        if self.socket is not None:
            self.socket.stop()
            self.socket = None
        super().stop()

    def _now(self) -> float:
        return float(self.clock.now()) if self.clock is not None else time.monotonic()

    def _serve(self, req: Request) -> Reply:
        if req.path.startswith("/actions/"):
            with self._lock:
                self.responses.append(json.loads(req.body or b"{}"))
            return Reply(200, b"ok", {"Content-Type": "text/plain"})
        if req.path == WEBHOOK_PATH:
            return self._webhook(req)
        if req.path.startswith("/upload/v1/"):
            return self._upload(req)
        method = req.path.rsplit("/", 1)[-1]
        ctype = req.headers.get("content-type", "")
        try:
            if req.method == "GET":
                args = {k: v[0] for k, v in parse_qs(req.query).items()}
            elif "json" in ctype:
                args = json.loads(req.body or b"{}")
            else:
                args = {k: v[0] for k, v in parse_qs(req.body.decode()).items()}
        except ValueError:
            return self._json({"ok": False, "error": "invalid_json"})
        auth = req.headers.get("authorization", "")
        token = auth[7:] if auth.lower().startswith("bearer ") else None
        fault = self._record(Call(method, args, self._now(), token))
        self._exists(method, args)
        if fault and not fault.after:
            return self._fault(fault)
        reply = self._answer(method, args, token)
        return self._fault(fault) if fault else reply

    def _exists(self, method: str, args: dict[str, Any]) -> None:
        """A channel named in a chat call exists in the workspace (unless `channel_errors` says otherwise) whether
        or not that call succeeds: conversations.list shows it, as Slack shows a channel nobody has posted in."""
        channel = str(args.get("channel", "")) if method.startswith("chat.") else ""
        if channel and channel not in self.channel_errors and not (channel[:1] in "CDGU" and channel.isupper()):
            with self._lock:
                self.channel_names.setdefault(channel_id(channel), channel.lstrip("#"))

    def _fault(self, fault: Fault) -> Reply:
        """A scripted error answer. A 5xx is what a load balancer or Slack's edge sends: an HTML page by default,
        or `body` as given (b"" for the empty body a 502/504 often has)."""
        headers = {"Content-Type": "application/json; charset=utf-8"}
        if fault.retry_after is not None:
            headers["Retry-After"] = f"{fault.retry_after:g}"
        if fault.status == 429:
            return Reply(429, fault.body or b'{"ok":false,"error":"ratelimited"}', headers)
        if fault.status != 200:
            body = fault.body if fault.body is not None else b"<html><body>Internal Server Error</body></html>"
            return Reply(fault.status, body, {"Content-Type": "text/html"})
        return self._json({"ok": False, "error": fault.error or "internal_error"})

    def _answer(self, method: str, args: dict[str, Any], token: str | None) -> Reply:
        if method == "apps.connections.open":
            if token != self.app_token:
                return self._json({"ok": False, "error": "invalid_auth"})
            if self.socket is None:
                return self._json({"ok": False, "error": "not_allowed"})
            return self._json({"ok": True, "url": self.socket.url})
        if token != self.token:
            return self._json({"ok": False, "error": "not_authed" if not token else "invalid_auth"})
        if method == "auth.test":
            return self._json({"ok": True, "url": "https://fake.slack.com/", "team": "Fake", "user": "monitor",
                               "team_id": "T000", "user_id": "U000BOT", "bot_id": "B000"})
        if method == "views.open":
            # a trigger_id is single-use and expires after 3 s on the real Slack; the view must be a JSON object
            trigger = str(args.get("trigger_id") or "")
            view = args.get("view")
            if isinstance(view, str):
                try:
                    view = json.loads(view)
                except ValueError:
                    return self._json({"ok": False, "error": "invalid_arguments"})
            if not trigger:
                return self._json({"ok": False, "error": "invalid_trigger_id"})
            with self._lock:
                if trigger in self.used_triggers:
                    return self._json({"ok": False, "error": "expired_trigger_id"})
                self.used_triggers.add(trigger)
                self.views.append(view)
            if not isinstance(view, dict) or view.get("type") != "modal" or not view.get("title"):
                return self._json({"ok": False, "error": "invalid_arguments"})
            return self._json({"ok": True, "view": {**view, "id": f"V{len(self.views):08d}", "team_id": "T000"}})
        if method in ("chat.postMessage", "chat.update"):
            channel = str(args.get("channel", ""))
            if not channel:
                return self._json({"ok": False, "error": "channel_not_found"})
            if channel in self.channel_errors:
                return self._json({"ok": False, "error": self.channel_errors[channel]})
            if not args.get("text") and not args.get("blocks"):
                return self._json({"ok": False, "error": "no_text"})
            cid = channel_id(channel)
            with self._lock:
                if not channel.startswith(("C", "D", "G", "U")) or not channel.isupper():
                    self.channel_names[cid] = channel.lstrip("#")
                if method == "chat.update":
                    ts = str(args.get("ts"))
                    if (cid, ts) not in self.messages:
                        return self._json({"ok": False, "error": "message_not_found"})
                else:
                    ts = self._next_ts()
                meta = args.get("metadata")
                if isinstance(meta, str):
                    meta = json.loads(meta)
                old = self.messages.get((cid, ts), {})
                message = {"type": "message", "text": args.get("text"), "blocks": args.get("blocks"), "ts": ts,
                           "thread_ts": args.get("thread_ts") or old.get("thread_ts"),
                           "metadata": meta if method == "chat.postMessage" else old.get("metadata")}
                self.messages[(cid, ts)] = message
            if method == "chat.postMessage" and self.post_delay:
                time.sleep(self.post_delay)          # posted already; the answer is what is slow
            if method == "chat.update":             # as recorded: the text on top, the message without ts
                edited = {k: v for k, v in message.items() if k not in ("ts", "thread_ts")}
                return self._json({"ok": True, "channel": cid, "ts": ts, "text": message["text"] or "",
                                   "message": _present(edited)})
            return self._json({"ok": True, "channel": cid, "ts": ts, "message": _present(message)})
        if method in ("files.getUploadURLExternal", "files.completeUploadExternal"):
            return self._files(method, args)
        if method in ("conversations.history", "conversations.replies"):
            return self._history(method, args)
        if method == "conversations.list":
            if "channels:read" not in self.scopes:
                return self._json({"ok": False, "error": "missing_scope", "needed": "channels:read"})
            with self._lock:
                chans = [{"id": c, "name": n, "is_channel": True} for c, n in self.channel_names.items()]
            return self._json({"ok": True, "channels": chans, "response_metadata": {"next_cursor": ""}})
        if method == "conversations.open":
            if "im:write" not in self.scopes:
                return self._json({"ok": False, "error": "missing_scope", "needed": "im:write"})
            # the app's DM with the user: where chat.postMessage(channel=U…) lands
            return self._json({"ok": True, "channel": {"id": channel_id(str(args.get("users", "")))}})
        return self._json({"ok": False, "error": "unknown_method"})

    def _next_ts(self) -> str:
        """A message's ts is its posting time (epoch, microseconds), unique per workspace. Under `_lock`."""
        wall = self.clock.now() if self.clock is not None else time.time()
        self._ts = max(self._ts + 100, int(wall * 1_000_000))
        return f"{self._ts // 1_000_000}.{self._ts % 1_000_000:06d}"

    def chatter(self, channel: str, n: int) -> list[str]:
        """`n` messages from someone else in `channel` (a name or an id), stamped now as Slack would: the busy
        channel a lookup must page through. Returns their ts, oldest first."""
        cid = channel_id(channel)
        out = []
        with self._lock:
            for i in range(n):
                ts = self._next_ts()
                self.messages[(cid, ts)] = {"type": "message", "user": "U0PEOPLE", "text": f"chatter {i}", "ts": ts,
                                            "thread_ts": None, "metadata": None}
                out.append(ts)
        return out

    def shares(self, channel: str | None = None) -> list[dict[str, Any]]:
        """The messages that shared an uploaded file (completeUploadExternal with a channel), oldest first."""
        with self._lock:
            found = [m for (c, _), m in self.messages.items() if m.get("upload") and channel in (None, c)]
        return sorted(found, key=lambda m: float(m["ts"]))

    def _files(self, method: str, args: dict[str, Any]) -> Reply:
        """files_upload_v2's two Web API steps: get an upload URL (filename, length), then complete the upload
        (files=[{id, title}], channel_id, initial_comment), which shares the file in the channel."""
        with self._lock:
            if method == "files.getUploadURLExternal":
                if not args.get("filename") or not str(args.get("length", "")).isdigit():
                    return self._json({"ok": False, "error": "invalid_arguments"})
                fid = f"F{len(self.uploads) + 1:08d}"
                self.uploads[fid] = {"filename": args["filename"], "length": int(args["length"]), "data": None,
                                     "completed": False, "alt_txt": args.get("alt_txt")}
                return self._json({"ok": True, "upload_url": f"{self.url}/upload/v1/{fid}", "file_id": fid})
            try:
                files = json.loads(args.get("files") or "[]") if isinstance(args.get("files"), str) else args["files"]
            except (ValueError, KeyError):
                return self._json({"ok": False, "error": "invalid_arguments"})
            channel = str(args.get("channel_id") or "")
            if channel and not CHANNEL_ID.fullmatch(channel):
                return self._json(INVALID_CHANNEL_ID)
            if channel in self.channel_errors:
                return self._json({"ok": False, "error": self.channel_errors[channel]})
            out = []
            for f in files:
                up = self.uploads.get(f.get("id"))
                if up is None or up["data"] is None:
                    return self._json({"ok": False, "error": "file_not_found"})
            for f in files:
                up = self.uploads[f["id"]]
                up.update(completed=True, title=f.get("title"), channel=channel,
                          initial_comment=args.get("initial_comment"))
                # `shares` is empty in the answer: Slack shares the file in the channel asynchronously
                out.append({"id": f["id"], "name": up["filename"], "title": f.get("title"), "size": up["length"],
                            "mimetype": "image/png", "filetype": "png", "user": "U000BOT", "shares": {}})
            # python-slack-sdk #1818 (open, server-side): with `alt_txt` given at getUploadURLExternal, every call
            # answers ok but the file is never shared in the channel
            if channel and not any(self.uploads[f["id"]].get("alt_txt") for f in files):
                cid = channel_id(channel)
                ts = self._next_ts()
                self.messages[(cid, ts)] = {"type": "message", "text": args.get("initial_comment") or "",
                                            "user": "U000BOT", "ts": ts, "upload": True, "thread_ts": None,
                                            "files": [{k: v for k, v in o.items() if k != "shares"} for o in out],
                                            "metadata": None}
        if self.complete_delay:
            time.sleep(self.complete_delay)          # shared already; the answer is what is slow
        return self._json({"ok": True, "files": out})

    def _upload(self, req: Request) -> Reply:
        """The upload URL: raw bytes POSTed; answers `OK - <length>` as text, like files.slack.com."""
        fid = req.path.rsplit("/", 1)[-1]
        with self._lock:
            up = self.uploads.get(fid)
            if up is None:
                return Reply(404, b"not found", {"Content-Type": "text/plain"})
            up["data"] = req.body
        return Reply(200, f"OK - {len(req.body)}".encode(), {"Content-Type": "text/plain"})

    def _history(self, method: str, args: dict[str, Any]) -> Reply:
        cid = str(args.get("channel", ""))
        private = cid.startswith("G")
        needed = "groups:history" if private else "channels:history"
        if needed not in self.scopes:
            return self._json({"ok": False, "error": "missing_scope", "needed": needed,
                               "provided": ",".join(sorted(self.scopes))})
        if not cid.startswith(("C", "G", "D")) or not cid.isupper():
            return self._json({"ok": False, "error": "channel_not_found"})
        try:
            oldest = float(args.get("oldest") or 0)
            latest = float(args["latest"]) if args.get("latest") else float("inf")
        except ValueError:
            return self._json({"ok": False, "error": "invalid_ts_oldest"})
        inclusive = str(args.get("inclusive", "")).lower() in ("1", "true")
        with_meta = str(args.get("include_all_metadata", "")).lower() in ("1", "true")

        def within(ts: float) -> bool:
            return oldest <= ts <= latest if inclusive else oldest < ts < latest

        with self._lock:
            found = [dict(m) for (c, ts), m in self.messages.items() if c == cid and within(float(ts))]
        if method == "conversations.history":
            found = [m for m in found if not m.get("thread_ts") or m["thread_ts"] == m["ts"]]
        else:
            parent = str(args.get("ts"))
            found = [m for m in found if m["ts"] == parent or m.get("thread_ts") == parent]
        found.sort(key=lambda m: float(m["ts"]), reverse=method == "conversations.history")
        for m in found:
            if not with_meta or not m.get("metadata"):
                m.pop("metadata", None)
        found = [_present(m) for m in found]
        limit = max(1, min(int(args.get("limit") or 100), 999))
        start = 0
        if args.get("cursor"):                   # opaque to the client: where the next page starts
            try:
                start = int(base64.b64decode(str(args["cursor"])).decode().removeprefix("next:"))
            except ValueError:
                return self._json({"ok": False, "error": "invalid_cursor"})
        page, more = found[start:start + limit], len(found) > start + limit
        cursor = base64.b64encode(f"next:{start + limit}".encode()).decode() if more else ""
        return self._json({"ok": True, "messages": page, "has_more": more,
                           "response_metadata": {"next_cursor": cursor}})

    def _webhook(self, req: Request) -> Reply:
        """Incoming webhooks answer text, not JSON: `ok`, or `invalid_payload`, `no_service`… with a status."""
        try:
            body = json.loads(req.body or b"{}")
        except ValueError:
            return Reply(400, b"invalid_payload", {"Content-Type": "text/plain"})
        fault = self._record(Call("webhook", body, self._now(), None))
        if fault:
            headers = {"Content-Type": "text/plain"}
            if fault.retry_after is not None:
                headers["Retry-After"] = f"{fault.retry_after:g}"
            status = 429 if fault.status == 429 else fault.status
            text = fault.body or (fault.error or ("rate_limited" if status == 429 else "internal_error")).encode()
            return Reply(status if status != 200 else 400, text, headers)
        if not body.get("text") and not body.get("blocks"):
            return Reply(400, b"no_text", {"Content-Type": "text/plain"})
        with self._lock:
            self.webhook_posts.append(body)
        return Reply(200, b"ok", {"Content-Type": "text/plain"})

    def _record(self, call: Call) -> Fault | None:
        """Every call is recorded; the next scripted fault (or `fault_when`'s) decides how it is answered."""
        with self._lock:
            self.calls.append(call)
            fault = self.faults.pop(0) if self.faults else None
        if fault is None and self.fault_when is not None:
            fault = self.fault_when(call)
        return fault

    @staticmethod
    def _json(obj: dict[str, Any], status: int = 200) -> Reply:
        return Reply(status, json.dumps(obj).encode(), {"Content-Type": "application/json; charset=utf-8"})


@dataclass
class SlackOutage:
    """Helper to script faults: `slack.faults += SlackOutage(n=5).faults`."""

    n: int = 1
    status: int = 500
    faults: list[Fault] = field(init=False)

    def __post_init__(self) -> None:
        self.faults = [Fault(self.status) for _ in range(self.n)]
