"""A local X API v2 (`GET /2/tweets/search/recent`) speaking the real wire format to the real tweepy client.

Bearer-token auth (401 with the v2 problem body), `since_id`/`until_id` (both exclusive) and `next_token` paging
newest first, `expansions=author_id` users in `includes`, `meta.newest_id`/`oldest_id`, and rate-limit headers
on every answer: when the window's quota is spent it answers 429 with `x-rate-limit-reset` (or without it, with `send_reset=False`).
`page_faults` answers one page of a search (by its index) with a given reply once, e.g. a 503 on page 2.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import parse_qs

from .server import LocalServer, Reply, Request

BEARER = "AAAAAAAAAAAAAAAAAAAAAFakeBearerTokenForTests0123456789"


@dataclass
class Tweet:
    id: int
    text: str
    author_id: str = "100"
    created_at: float = field(default_factory=time.time)
    lang: str = "en"
    likes: int = 0


class FakeX(LocalServer):
    def __init__(self, token: str = BEARER, *, also: tuple[str, ...] = ()) -> None:
        super().__init__(self._serve)
        self.token = token
        self.also = also                        # other apps' tokens also accepted (one quota counter: tests set it)
        self.tweets: list[Tweet] = []
        self.users: dict[str, dict[str, object]] = {
            "100": {"id": "100", "username": "jane", "name": "Jane Doe", "public_metrics": {"followers_count": 1234}}}
        self.faults: list[Reply] = []          # served first, one per request
        self.remaining = 10_000                # requests left in the window
        self.reset_at = int(time.time()) + 900
        self.send_reset = True
        self.stall_page: int | None = None     # page index (0-based) that never answers: kill -9 tests
        self.page_faults: dict[int, Reply] = {}    # page index (0-based) -> its answer, once (a 503 on page 2)
        self.user_token: str | None = None     # POST /2/tweets needs a user-context token (OAuth 2.0 PKCE)
        self.created: list[dict[str, object]] = []
        self._lock = threading.Lock()

    @property
    def api_url(self) -> str:
        return self.url

    def add(self, *tweets: Tweet) -> None:
        self.tweets.extend(tweets)

    def _create(self, req: Request) -> Reply:
        """POST /2/tweets: 201 {"data": {"id", "text", "edit_history_tweet_ids"}}; 403 for an app-only token
        or duplicate content, as X answers."""
        if not self.user_token or req.headers.get("authorization") != f"Bearer {self.user_token}":
            return _json({"title": "Unsupported Authentication", "type": "https://api.twitter.com/2/problems/"
                          "unsupported-authentication", "status": 403, "detail": "Authenticating with OAuth 2.0 "
                          "Application-Only is forbidden for this endpoint."}, 403)
        body = json.loads(req.body or b"{}")
        text = str(body.get("text") or "")
        if any(c["text"] == text for c in self.created):
            return _json({"detail": "You are not allowed to create a Tweet with duplicate content.",
                          "type": "about:blank", "title": "Forbidden", "status": 403}, 403)
        parent = ((body.get("reply") or {}).get("in_reply_to_tweet_id"))
        if parent is not None and not any(str(t.id) == str(parent) for t in self.tweets):
            return _json({"errors": [{"parameters": {"reply.in_reply_to_tweet_id": [parent]},
                                      "message": "The `reply.in_reply_to_tweet_id` query parameter value is invalid"}],
                          "title": "Invalid Request", "detail": "One or more parameters to your request was invalid.",
                          "type": "https://api.twitter.com/2/problems/invalid-request"}, 400)
        with self._lock:
            new_id = str(2_000_000_000_000_000_000 + len(self.created) + 1)
            self.created.append({"id": new_id, "text": text, "in_reply_to": parent})
        return _json({"data": {"id": new_id, "text": text, "edit_history_tweet_ids": [new_id]}}, 201)

    def _serve(self, req: Request) -> Reply:
        with self._lock:
            if self.faults:
                return self.faults.pop(0)
        if req.method == "POST" and req.path == "/2/tweets":
            return self._create(req)
        if req.headers.get("authorization") not in {f"Bearer {t}" for t in (self.token, *self.also)}:
            return _json({"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"},
                         401)
        if req.path != "/2/tweets/search/recent":
            return _json({"title": "Not Found Error", "status": 404, "detail": "no such route"}, 404)
        with self._lock:
            self.remaining -= 1
            limited = self.remaining < 0
        rl = {"x-rate-limit-limit": "450", "x-rate-limit-remaining": str(max(0, self.remaining))}
        if self.send_reset:
            rl["x-rate-limit-reset"] = str(self.reset_at)
        if limited:
            return _json({"title": "Too Many Requests", "type": "about:blank", "status": 429,
                          "detail": "Too Many Requests"}, 429, rl)
        q = {k: v[0] for k, v in parse_qs(req.query).items()}
        if "query" not in q:
            return _json({"errors": [{"message": "query is required"}], "title": "Invalid Request",
                          "detail": "One or more parameters to your request was invalid.", "status": 400}, 400, rl)
        page = int(q.get("next_token", "p0")[1:])
        with self._lock:
            fault = self.page_faults.pop(page, None)
        if fault is not None:
            fault.headers = {**rl, **fault.headers}
            return fault
        if self.stall_page is not None and page == self.stall_page:
            return Reply(200, b"{}", rl, delay=3600)
        term = q["query"].split()[0].strip('"').lower()
        since = int(q.get("since_id", "0"))
        until = int(q.get("until_id", str(1 << 63)))
        size = int(q.get("max_results", "10"))
        found = sorted((t for t in self.tweets if since < t.id < until and term in t.text.lower()),
                       key=lambda t: t.id, reverse=True)
        chunk = found[page * size:(page + 1) * size]
        meta: dict[str, object] = {"result_count": len(chunk)}
        if not chunk:
            return _json({"meta": meta}, 200, rl)
        meta.update(newest_id=str(chunk[0].id), oldest_id=str(chunk[-1].id))
        if len(found) > (page + 1) * size:
            meta["next_token"] = f"p{page + 1}"
        data = [{"id": str(t.id), "text": t.text, "author_id": t.author_id, "lang": t.lang,
                 "edit_history_tweet_ids": [str(t.id)], "conversation_id": str(t.id),
                 "created_at": datetime.fromtimestamp(t.created_at, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                 "public_metrics": {"like_count": t.likes, "retweet_count": 0, "reply_count": 0, "quote_count": 0}}
                for t in chunk]
        users = [self.users[a] for a in sorted({t.author_id for t in chunk}) if a in self.users]
        return _json({"data": data, "includes": {"users": users}, "meta": meta}, 200, rl)


def unavailable() -> Reply:
    """X's 503 when a backend is down: the v2 problem body, as the API sends it."""
    return _json({"title": "Service Unavailable", "detail": "Service Unavailable", "type": "about:blank",
                  "status": 503}, 503)


def _json(obj: object, status: int, headers: dict[str, str] | None = None) -> Reply:
    return Reply(status, json.dumps(obj).encode(), {"Content-Type": "application/json; charset=utf-8",
                                                    **(headers or {})})
