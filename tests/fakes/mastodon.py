"""A local Mastodon instance: the streaming API (server-sent events) and the REST timelines, on 127.0.0.1.

`GET /api/v1/streaming/hashtag?tag=X` (and `/public`, `/public/local`) streams `event: update` for statuses
posted *while connected* (Mastodon does not replay), with `:thump` heartbeats. `GET /api/v1/timelines/tag/X`
pages with `min_id`/`limit`, newest first, as Mastodon does. With `token` set, both need `Bearer <token>`.
Faults: `drop_after[i]` ends the i-th stream after that many updates; `post_raw` sends a malformed event;
`stall_from = i` holds the i-th stream request and later ones, unanswered, until `stop` (a server that accepts
the connection and never sends the response's headers). `stream_requests` counts the stream requests.
`slow_timeline_from = i`: the i-th timeline request and later ones answer `timeline_delay` seconds late (or at
`stop`), with the statuses there were when they were asked for (a slow back-fill).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

from .server import LocalServer, Reply, Request


class FakeMastodon(LocalServer):
    def __init__(self, token: str | None = None, heartbeat: float = 0.5, write_token: str | None = None):
        super().__init__(self._serve)
        self.token = token
        self.write_token = write_token                    # POST /api/v1/statuses needs it (write:statuses)
        self.replies: list[dict[str, Any]] = []           # statuses created through the API, with their request
        self.post_faults: list[tuple[int, dict[str, str]]] = []   # (status, headers) answered to the next POSTs
        self._idempotent: dict[tuple[str, str], dict[str, Any]] = {}
        self.honour_idempotency = True
        self.create_delay = 0.0                           # posted, not yet answered: where a kill -9 lands
        self.create_gate: threading.Event | None = None   # set: the answer waits for it (at most create_delay)
        self.heartbeat = heartbeat
        self.statuses: list[dict[str, Any]] = []
        self.streams: list[dict[str, Any]] = []           # one record per stream connection
        self.drop_after: list[int | None] = []
        self.stall_from: int | None = None
        self.stream_requests = 0
        self.timeline_requests: list[dict[str, str]] = []
        self.slow_timeline_from: int | None = None
        self.timeline_delay = 30.0
        self._cond = threading.Condition()
        self._events: list[tuple[str, str, str | None]] = []   # (event, data, tag) in posting order
        self._seq = 0
        self._closing = threading.Event()

    def post(self, text: str, *, tag: str = "acme", acct: str = "jane@example.social", followers: int = 10,
             language: str = "en") -> dict[str, Any]:
        with self._cond:
            self._seq += 1
            now = time.time()
            sid = str((int(now * 1000) << 16) | self._seq)
            status = {"id": sid, "uri": f"https://example.social/users/jane/statuses/{sid}",
                      "url": f"https://example.social/@jane/{sid}", "created_at": datetime.fromtimestamp(now, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                      "content": f"<p>{text}</p>", "spoiler_text": "", "language": language,
                      "account": {"acct": acct, "followers_count": followers},
                      "tags": [{"name": tag}], "reblog": None}
            self.statuses.append(status)
            self._events.append(("update", json.dumps(status), tag))
            self._cond.notify_all()
        return status

    def post_many(self, texts: list[str]) -> list[dict[str, Any]]:
        """Post `texts` as one burst: a stream reading them sees all of them pending at once."""
        with self._cond:                                  # re-entrant: post() takes it again
            return [self.post(text) for text in texts]

    def post_raw(self, event: str, data: str, tag: str = "acme") -> None:
        with self._cond:
            self._events.append((event, data, tag))
            self._cond.notify_all()

    def stop(self) -> None:
        self._closing.set()
        with self._cond:
            self._cond.notify_all()
        super().stop()

    def _authorized(self, req: Request) -> bool:
        return self.token is None or req.headers.get("authorization") == f"Bearer {self.token}"

    def _create_status(self, req: Request) -> Reply:
        """Mastodon's POST /api/v1/statuses: form or JSON body, 500-character limit, Idempotency-Key honoured
        (the same key and token within the hour returns the same status instead of posting twice)."""
        auth = req.headers.get("authorization", "")
        if not self.write_token or auth != f"Bearer {self.write_token}":
            return Reply(401, b'{"error":"The access token is invalid"}', {"Content-Type": "application/json"})
        if self.post_faults:
            status, headers = self.post_faults.pop(0)
            return Reply(status, b'{"error":"Service Unavailable"}' if status >= 500 else b'{"error":"Too many requests"}',
                         {"Content-Type": "application/json", **headers})
        if "json" in req.headers.get("content-type", ""):
            form = json.loads(req.body or b"{}")
        else:
            form = {k: v[-1] for k, v in parse_qs(req.body.decode()).items()}
        key = req.headers.get("idempotency-key")
        with self._cond:
            if key and self.honour_idempotency and (auth, key) in self._idempotent:
                return Reply(200, json.dumps(self._idempotent[(auth, key)]).encode(), {"Content-Type": "application/json"})
        text = str(form.get("status") or "")
        if not text:
            return Reply(422, b'{"error":"Validation failed: Text can\'t be blank"}', {"Content-Type": "application/json"})
        if len(text) > 500:
            return Reply(422, b'{"error":"Validation failed: Text character limit of 500 exceeded"}',
                         {"Content-Type": "application/json"})
        parent = form.get("in_reply_to_id")
        with self._cond:
            if parent and not any(s["id"] == str(parent) for s in self.statuses):
                return Reply(404, b'{"error":"Record not found"}', {"Content-Type": "application/json"})
            self._seq += 1
            sid = str((int(time.time() * 1000) << 16) | self._seq)
            status = {"id": sid, "uri": f"https://example.social/users/brand/statuses/{sid}",
                      "url": f"https://example.social/@brand/{sid}", "content": f"<p>{text}</p>",
                      "in_reply_to_id": parent, "visibility": form.get("visibility") or "public",
                      "created_at": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                      "account": {"acct": "brand"}}
            self.replies.append({"status": status, "form": form, "authorization": auth, "idempotency_key": key})
            if key:
                self._idempotent[(auth, key)] = status
        if self.create_gate is not None:
            self.create_gate.wait(self.create_delay)
        elif self.create_delay:
            time.sleep(self.create_delay)
        return Reply(200, json.dumps(status).encode(), {"Content-Type": "application/json"})

    def _serve(self, req: Request) -> Reply:
        if req.method == "POST" and req.path == "/api/v1/statuses":
            return self._create_status(req)
        if not self._authorized(req):
            return Reply(401, b'{"error":"The access token is invalid"}', {"Content-Type": "application/json"})
        q = {k: v[-1] for k, v in parse_qs(req.query).items()}
        if req.path.startswith("/api/v1/streaming/"):
            with self._cond:
                index, self.stream_requests = self.stream_requests, self.stream_requests + 1
            if self.stall_from is not None and index >= self.stall_from:
                self._closing.wait()
                return Reply(503, b"stalled")
            tag = q.get("tag") if req.path.endswith("/hashtag") else None
            return Reply(200, headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store"},
                         chunks=self._stream(tag))
        if req.path.startswith("/api/v1/timelines/"):
            self.timeline_requests.append(q)
            tag = req.path.rsplit("/", 1)[-1] if "/tag/" in req.path else None
            min_id = int(q.get("min_id") or 0)
            limit = min(40, int(q.get("limit") or 20))
            with self._cond:
                found = [s for s in self.statuses if int(s["id"]) > min_id
                         and (tag is None or any(t["name"] == tag for t in s["tags"]))]
            page = found[:limit] if "min_id" in q else found[-limit:]
            if self.slow_timeline_from is not None and len(self.timeline_requests) > self.slow_timeline_from:
                self._closing.wait(self.timeline_delay)
            return Reply(200, json.dumps(page[::-1]).encode(), {"Content-Type": "application/json"})
        return Reply(404, b'{"error":"Record not found"}', {"Content-Type": "application/json"})

    def _stream(self, tag: str | None) -> Iterator[bytes]:
        with self._cond:
            index = len(self.streams)
            rec: dict[str, Any] = {"tag": tag, "sent": 0}
            self.streams.append(rec)
            i = len(self._events)                 # live only: nothing from before the connection
        drop = self.drop_after[index] if index < len(self.drop_after) else None
        yield b":)\n\n"
        beat = time.monotonic()
        while not self._closing.is_set():
            with self._cond:
                if i >= len(self._events):
                    self._cond.wait(0.05)
                pending = self._events[i:]
                i += len(pending)
            for event, data, etag in pending:
                if tag is not None and etag != tag:
                    continue
                yield f"event: {event}\ndata: {data}\n\n".encode()
                rec["sent"] += 1
                if drop is not None and rec["sent"] >= drop:
                    return                        # the stream ends here, whatever comes next
            if time.monotonic() - beat >= self.heartbeat:
                beat = time.monotonic()
                yield b":thump\n\n"
