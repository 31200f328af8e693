"""A local fake of the Slack Web API, faithful to the wire format the real WebClient sees.

POST /api/<method> with a JSON or form body and `Authorization: Bearer xoxb-…`; answers HTTP 200 with
`{"ok": true, ...}` or `{"ok": false, "error": "..."}`, 429 with `Retry-After`, or 5xx. Every call is
recorded with its arrival time so tests can check order, pacing and idempotence.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from .server import LocalServer, Reply, Request

TOKEN = "xoxb-test-0000000000-abcdefghijklmnop"


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
    body: bytes | None = None


def channel_id(name: str) -> str:
    if name.startswith(("C", "D", "G")) and name.isupper():
        return name
    if name.startswith("U"):
        return "D" + hashlib.sha1(name.encode()).hexdigest()[:8].upper()
    return "C" + hashlib.sha1(name.lstrip("#").encode()).hexdigest()[:8].upper()


class FakeSlack(LocalServer):
    def __init__(self, token: str = TOKEN, port: int = 0):
        super().__init__(self._serve, port)
        self.token = token
        self.calls: list[Call] = []
        self.faults: list[Fault] = []                 # consumed one per call, in order
        self.channel_errors: dict[str, str] = {}      # channel as sent -> error (channel_not_found...)
        self.messages: dict[tuple[str, str], dict[str, Any]] = {}   # (channel id, ts) -> latest message
        self._lock = threading.Lock()
        self._ts = 1_700_000_000_000_000

    @property
    def api_url(self) -> str:
        return self.url + "/api/"

    def posts(self, channel: str | None = None) -> list[Call]:
        return [c for c in self.calls if c.method == "chat.postMessage"
                and (channel is None or c.args.get("channel") in (channel, channel.lstrip("#"), channel_id(channel)))]

    def _serve(self, req: Request) -> Reply:
        method = req.path.rsplit("/", 1)[-1]
        ctype = req.headers.get("content-type", "")
        try:
            if "json" in ctype:
                args = json.loads(req.body or b"{}")
            else:
                args = {k: v[0] for k, v in parse_qs(req.body.decode()).items()}
        except ValueError:
            return self._json({"ok": False, "error": "invalid_json"})
        auth = req.headers.get("authorization", "")
        token = auth[7:] if auth.lower().startswith("bearer ") else None
        with self._lock:
            self.calls.append(Call(method, args, time.monotonic(), token))
            fault = self.faults.pop(0) if self.faults else None
        if fault:
            headers = {"Content-Type": "application/json; charset=utf-8"}
            if fault.retry_after is not None:
                headers["Retry-After"] = f"{fault.retry_after:g}"
            if fault.status == 429:
                return Reply(429, fault.body or b'{"ok":false,"error":"ratelimited"}', headers)
            if fault.status != 200:
                return Reply(fault.status, fault.body or b"<html><body>Internal Server Error</body></html>",
                             {"Content-Type": "text/html"})
            return self._json({"ok": False, "error": fault.error or "internal_error"})
        if token != self.token:
            return self._json({"ok": False, "error": "not_authed" if not token else "invalid_auth"})
        if method == "auth.test":
            return self._json({"ok": True, "url": "https://fake.slack.com/", "team": "Fake", "user": "monitor",
                               "team_id": "T000", "user_id": "U000BOT", "bot_id": "B000"})
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
                if method == "chat.update":
                    ts = str(args.get("ts"))
                    if (cid, ts) not in self.messages:
                        return self._json({"ok": False, "error": "message_not_found"})
                else:
                    self._ts += 100
                    ts = f"{self._ts // 1_000_000}.{self._ts % 1_000_000:06d}"
                message = {"text": args.get("text"), "blocks": args.get("blocks"), "ts": ts,
                           "thread_ts": args.get("thread_ts")}
                self.messages[(cid, ts)] = message
            return self._json({"ok": True, "channel": cid, "ts": ts, "message": message})
        return self._json({"ok": False, "error": "unknown_method"})

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
