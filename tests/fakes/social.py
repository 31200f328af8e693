"""Local stand-ins for the public APIs the query kinds read, each speaking its real wire format.

- `FakeAlgolia`: hn.algolia.com `/api/v1/search_by_date` (hits, nbPages, page, numericFilters created_at_i).
- `FakeReddit`: `/search.json` and `/r/<sub>/search.json` listings (t3 children), `/search.rss` Atom.
- `FakeMastodon`: `/api/v1/timelines/tag/<tag>` and `/api/v2/search` with `min_id`/`limit`, newest first,
  `X-RateLimit-*` headers, 401 `{"error": ...}` for a bad token.
- `FakeBluesky`: `/xrpc/app.bsky.feed.searchPosts` with `cursor`, `since`, `limit`; `ratelimit-*` headers.
- `FakeAppStore`: `/<cc>/rss/customerreviews/page=<n>/id=<id>/sortby=mostrecent/json`.
Every fake serves `faults` (a list of Reply) first, one per request.
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qs, unquote

from .server import LocalServer, Reply, Request

PDT = timezone(timedelta(hours=-7))


def jreply(obj: Any, status: int = 200, headers: dict[str, str] | None = None) -> Reply:
    return Reply(status, json.dumps(obj).encode(), {"Content-Type": "application/json; charset=utf-8",
                                                    **(headers or {})})


def iso(ts: float, ms: bool = True) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S" + (".000Z" if ms else "Z"))


class _Fake(LocalServer):
    def __init__(self) -> None:
        super().__init__(self._dispatch)
        self.faults: list[Reply] = []
        self._lock = threading.Lock()

    def _dispatch(self, req: Request) -> Reply:
        with self._lock:
            if self.faults:
                return self.faults.pop(0)
        q = {k: v[0] for k, v in parse_qs(req.query, keep_blank_values=True).items()}
        return self.serve(req, q)

    def serve(self, req: Request, q: dict[str, str]) -> Reply:  # pragma: no cover - overridden
        raise NotImplementedError


@dataclass
class Hit:
    id: int
    text: str
    created: float = field(default_factory=time.time)
    comment: bool = False
    points: int | None = 10
    author: str = "pg"
    url: str | None = None


class FakeAlgolia(_Fake):
    def __init__(self) -> None:
        super().__init__()
        self.hits: list[Hit] = []

    def serve(self, req: Request, q: dict[str, str]) -> Reply:
        if req.path != "/api/v1/search_by_date":
            return jreply({"message": "not found", "status": 404}, 404)
        term = q.get("query", "").lower()
        since = 0
        m = re.match(r"created_at_i>=?(\d+)", q.get("numericFilters", ""))
        if m:
            since = int(m.group(1))
        want = set(q.get("tags", "(story,comment)").strip("()").split(","))
        found = sorted((h for h in self.hits if term in h.text.lower() and h.created >= since
                        and ("comment" if h.comment else "story") in want), key=lambda h: -h.created)
        per, page = int(q.get("hitsPerPage", "20")), int(q.get("page", "0"))
        chunk = found[page * per:(page + 1) * per]
        hits = []
        for h in chunk:
            base = {"objectID": str(h.id), "author": h.author, "created_at": iso(h.created),
                    "created_at_i": int(h.created), "points": h.points,
                    "_tags": ["comment" if h.comment else "story", f"author_{h.author}", f"story_{h.id}"]}
            if h.comment:
                base.update(comment_text=f"<p>{h.text}</p>", story_id=1, story_title="Show HN: Acme",
                            story_url="https://acme.example", parent_id=1, title=None, url=None)
            else:
                base.update(title=h.text, url=h.url, story_text=None, num_comments=3, comment_text=None)
            hits.append(base)
        nb = (len(found) + per - 1) // per
        return jreply({"hits": hits, "nbHits": len(found), "page": page, "nbPages": nb, "hitsPerPage": per,
                       "exhaustiveNbHits": True, "query": q.get("query", ""), "params": req.query,
                       "processingTimeMS": 1})


@dataclass
class Post:
    id: str
    title: str
    selftext: str = ""
    score: int = 1
    comments: int = 0
    subreddit: str = "test"
    author: str = "someone"
    created: float = field(default_factory=time.time)


class FakeReddit(_Fake):
    """Reddit's public search, and with `apps` set its OAuth API as documented in reddit-archive/reddit/wiki/OAuth2:
    `POST /api/v1/access_token` (HTTP Basic client id:secret; `client_credentials` or `password` grant; a wrong
    secret is 401 `{"message": "Unauthorized", "error": 401}`, a wrong password is **200** `{"error":
    "invalid_grant"}`), then `GET /search` / `/r/<sub>/search` with `Authorization: bearer <token>` (else 401),
    `x-ratelimit-used/remaining/reset` on every answer (`budget` requests per window, then 429); and, for
    replies, `POST /api/comment` on the OAuth host with the `oauth_token` bearer."""

    def __init__(self, apps: dict[str, str] | None = None, users: dict[str, str] | None = None,
                 expires_in: int = 86400, budget: int = 1000) -> None:
        super().__init__()
        self.oauth_token: str | None = None
        self.comments: list[dict[str, str]] = []
        self.posts: list[Post] = []
        self.apps = apps or {}                 # client id -> secret; OAuth endpoints answer only when set
        self.users = users or {}               # username -> password (script apps)
        self.expires_in = expires_in
        self.budget, self.used = budget, 0
        self.tokens: dict[str, str] = {}       # access token -> grant type
        self.grants: list[str] = []

    def _token(self, req: Request) -> Reply:
        import base64
        basic = req.headers.get("authorization", "")
        try:
            cid, _, secret = base64.b64decode(basic.removeprefix("Basic ")).decode().partition(":")
        except ValueError:
            cid, secret = "", ""
        if not basic.startswith("Basic ") or self.apps.get(cid) != secret:
            return jreply({"message": "Unauthorized", "error": 401}, 401)
        form = {k: v[0] for k, v in parse_qs(req.body.decode()).items()}
        grant = form.get("grant_type", "")
        if grant == "password" and self.users.get(form.get("username", "")) != form.get("password"):
            return jreply({"error": "invalid_grant"})
        if grant not in ("password", "client_credentials"):
            return jreply({"error": "unsupported_grant_type"}, 400)
        token = f"tok-{len(self.tokens) + 1}-{grant}"
        self.tokens[token] = grant
        self.grants.append(grant)
        return jreply({"access_token": token, "token_type": "bearer", "expires_in": self.expires_in,
                       "scope": "*"})

    def _comment(self, req: Request) -> Reply:
        if not self.oauth_token or req.headers.get("authorization") != f"bearer {self.oauth_token}":
            return jreply({"message": "Unauthorized", "error": 401}, 401)
        form = {k: v[-1] for k, v in parse_qs(req.body.decode()).items()}
        thing = form.get("thing_id", "")
        if not any(f"t3_{p.id}" == thing for p in self.posts):
            return jreply({"json": {"errors": [["INVALID_PARENT", "that parent is not a valid thing", "parent"]]}})
        cid = f"c{len(self.comments) + 1:05d}"
        post = next(p for p in self.posts if f"t3_{p.id}" == thing)
        self.comments.append({"thing_id": thing, "text": form.get("text", ""), "id": cid})
        return jreply({"json": {"errors": [], "data": {"things": [{"kind": "t1", "data": {
            "id": cid, "name": f"t1_{cid}", "parent_id": thing, "body": form.get("text", ""),
            "permalink": f"/r/{post.subreddit}/comments/{post.id}/x/{cid}/"}}]}}})

    def serve(self, req: Request, q: dict[str, str]) -> Reply:
        if req.method == "POST" and req.path == "/api/comment":
            return self._comment(req)
        if self.apps and req.path == "/api/v1/access_token" and req.method == "POST":
            return self._token(req)
        if self.apps and re.fullmatch(r"(?:/r/(\w+))?/search", req.path):
            bearer = req.headers.get("authorization", "").removeprefix("bearer ")
            if bearer not in self.tokens:
                return jreply({"message": "Unauthorized", "error": 401}, 401)
            self.used += 1
            rl = {"x-ratelimit-used": str(self.used), "x-ratelimit-remaining": f"{max(0, self.budget - self.used):.1f}",
                  "x-ratelimit-reset": "120"}
            if self.used > self.budget:
                return jreply({"message": "Too Many Requests", "error": 429}, 429, rl)
            req = Request(req.method, req.path + ".json", req.query, req.headers, req.body)
            out = self.serve_public(req, q)
            out.headers.update(rl)
            return out
        return self.serve_public(req, q)

    def serve_public(self, req: Request, q: dict[str, str]) -> Reply:
        m = re.fullmatch(r"(?:/r/(\w+))?/search\.(json|rss)", req.path)
        if not m:
            return jreply({"message": "Not Found", "error": 404}, 404)
        sub, fmt = m.groups()
        term = q.get("q", "").lower()
        found = [p for p in sorted(self.posts, key=lambda p: -p.created)
                 if (term in p.title.lower() or term in p.selftext.lower()) and (not sub or p.subreddit == sub)]
        found = found[:int(q.get("limit", "25"))]
        if fmt == "rss":
            entries = "".join(
                f"<entry><author><name>/u/{p.author}</name></author><content type='html'>{p.selftext}</content>"
                f"<id>t3_{p.id}</id><link href='https://www.reddit.com/r/{p.subreddit}/comments/{p.id}/x/'/>"
                f"<updated>{iso(p.created, False)}</updated><title>{p.title}</title></entry>" for p in found)
            body = ("<?xml version='1.0' encoding='UTF-8'?><feed xmlns='http://www.w3.org/2005/Atom'>"
                    f"<title>search results</title>{entries}</feed>").encode()
            return Reply(200, body, {"Content-Type": "application/atom+xml; charset=UTF-8"})
        children = [{"kind": "t3", "data": {
            "id": p.id, "name": f"t3_{p.id}", "title": p.title, "selftext": p.selftext, "score": p.score,
            "num_comments": p.comments, "subreddit": p.subreddit, "author": p.author, "created_utc": p.created,
            "permalink": f"/r/{p.subreddit}/comments/{p.id}/x/", "url": f"https://example.com/{p.id}",
            "over_18": False}} for p in found]
        return jreply({"kind": "Listing", "data": {"after": None, "before": None, "dist": len(children),
                                                   "children": children}},
                      headers={"x-ratelimit-remaining": "99.0", "x-ratelimit-used": "1", "x-ratelimit-reset": "300"})


@dataclass
class Status:
    id: int
    html: str
    tags: list[str] = field(default_factory=list)
    acct: str = "alice"
    followers: int = 42
    created: float = field(default_factory=time.time)
    lang: str = "en"
    uri: str | None = None


class FakeMastodon(_Fake):
    def __init__(self, domain: str = "mastodon.test", token: str | None = None) -> None:
        super().__init__()
        self.domain = domain
        self.token = token            # when set, /api/v2/search requires it
        self.statuses: list[Status] = []

    def _status(self, s: Status) -> dict[str, Any]:
        return {"id": str(s.id), "created_at": iso(s.created), "language": s.lang, "visibility": "public",
                "uri": s.uri or f"https://{self.domain}/users/{s.acct}/statuses/{s.id}",
                "url": f"https://{self.domain}/@{s.acct}/{s.id}", "content": s.html, "spoiler_text": "",
                "reblogs_count": 1, "favourites_count": 2, "replies_count": 0, "reblog": None,
                "account": {"id": "1", "username": s.acct.split("@")[0], "acct": s.acct, "display_name": "A",
                            "followers_count": s.followers, "url": f"https://{self.domain}/@{s.acct}"},
                "tags": [{"name": t, "url": f"https://{self.domain}/tags/{t}"} for t in s.tags]}

    def serve(self, req: Request, q: dict[str, str]) -> Reply:
        rl = {"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "299",
              "X-RateLimit-Reset": iso(time.time() + 300)}
        if self.token and req.path.startswith("/api/v2/search") \
                and req.headers.get("authorization") != f"Bearer {self.token}":
            return jreply({"error": "The access token is invalid"}, 401, rl)
        m = re.fullmatch(r"/api/v1/timelines/tag/([^/]+)", req.path)
        if m:
            tag = unquote(m.group(1)).lower()
            pool = [s for s in self.statuses if tag in [t.lower() for t in s.tags]]
        elif req.path == "/api/v2/search":
            term = q.get("q", "").lower()
            pool = [s for s in self.statuses if term in s.html.lower()]
        else:
            return jreply({"error": "Record not found"}, 404)
        limit = min(int(q.get("limit", "20")), 40)
        if "min_id" in q:         # the page immediately after min_id, returned newest first
            pool = sorted((s for s in pool if s.id > int(q["min_id"])), key=lambda s: s.id)[:limit][::-1]
        else:
            pool = sorted(pool, key=lambda s: -s.id)[:limit]
        body = [self._status(s) for s in pool]
        if req.path == "/api/v2/search":
            return jreply({"accounts": [], "statuses": body, "hashtags": []}, 200, rl)
        return jreply(body, 200, rl)


@dataclass
class Skeet:
    rkey: str
    text: str
    handle: str = "bob.bsky.social"
    likes: int = 3
    reposts: int = 1
    created: float = field(default_factory=time.time)
    langs: list[str] = field(default_factory=lambda: ["en"])


class FakeBluesky(_Fake):
    """The AppView's searchPosts and, with `accounts` set, a PDS's session endpoints as the lexicons define
    them: `com.atproto.server.createSession` (JSON identifier + password; 401 `AuthenticationRequired`
    "Invalid identifier or password"; 429 `RateLimitExceeded` past 30 per 5 minutes), `refreshSession`
    (Bearer refreshJwt), JWT access tokens whose `exp` is enforced (400 `ExpiredToken`), and searchPosts
    refusing unauthenticated callers with 403 when `auth_required` (the public AppView since 2026)."""

    SECRET = "fake-pds-signing-key-not-a-real-one"

    def __init__(self, accounts: dict[str, str] | None = None, access_ttl: int = 7200,
                 auth_required: bool = False) -> None:
        super().__init__()
        self.posts: list[Skeet] = []
        self.accounts = accounts or {}         # handle -> app password
        self.access_ttl = access_ttl
        self.auth_required = auth_required
        self.sessions: list[str] = []           # "create" / "refresh", in order
        self.revoked: set[str] = set()          # jti of access tokens that now answer ExpiredToken
        self.records: list[dict[str, Any]] = []       # created with com.atproto.repo.createRecord

    def revoke(self) -> None:
        """Every access token issued so far expires now (as after a server-side session reset)."""
        self.revoked |= {f"com.atproto.access-{i}" for i in range(len(self.sessions) + 1)}

    def _jwt(self, handle: str, scope: str, ttl: int) -> str:
        import jwt
        now = int(time.time())
        return jwt.encode({"scope": scope, "sub": f"did:plc:{handle.split('.')[0]}", "iat": now, "exp": now + ttl,
                           "jti": f"{scope}-{len(self.sessions)}"}, self.SECRET, algorithm="HS256")

    def _claims(self, req: Request, scope: str) -> dict[str, Any] | Reply:
        import jwt
        token = req.headers.get("authorization", "").removeprefix("Bearer ")
        try:
            claims = jwt.decode(token, self.SECRET, algorithms=["HS256"])
        except jwt.ExpiredSignatureError:
            return jreply({"error": "ExpiredToken", "message": "Token has expired"}, 400)
        except jwt.PyJWTError:
            return jreply({"error": "InvalidToken", "message": "Malformed token"}, 400)
        if claims.get("scope") != scope:
            return jreply({"error": "InvalidToken", "message": "Bad token scope"}, 400)
        return dict(claims)

    def _session(self, handle: str, kind: str) -> Reply:
        self.sessions.append(kind)
        did = f"did:plc:{handle.split('.')[0]}"
        return jreply({"accessJwt": self._jwt(handle, "com.atproto.access", self.access_ttl),
                       "refreshJwt": self._jwt(handle, "com.atproto.refresh", 60 * 86400), "handle": handle,
                       "did": did, "active": True,
                       "didDoc": {"@context": ["https://www.w3.org/ns/did/v1"], "id": did,
                                  "alsoKnownAs": [f"at://{handle}"],
                                  "service": [{"id": "#atproto_pds", "type": "AtprotoPersonalDataServer",
                                               "serviceEndpoint": self.url}]}})

    def _create_record(self, req: Request) -> Reply:
        """createRecord (Bearer accessJwt) -> {"uri", "cid", "commit"}, validating the reply refs."""
        auth = req.headers.get("authorization", "")
        claims = self._claims(req, "com.atproto.access")
        if isinstance(claims, Reply):
            return claims
        body = json.loads(req.body or b"{}")
        record = body.get("record") or {}
        reply = record.get("reply") or {}
        for side in ("root", "parent"):
            ref = reply.get(side) if reply else None
            if reply and not (isinstance(ref, dict) and str(ref.get("uri", "")).startswith("at://") and ref.get("cid")):
                return jreply({"error": "InvalidRequest", "message": f"Invalid app.bsky.feed.post record: "
                               f"Record/reply/{side} must be an object with uri and cid"}, 400)
        if len(str(record.get("text") or "")) > 300:
            return jreply({"error": "InvalidRequest", "message": "Invalid app.bsky.feed.post record: "
                           "Record/text must not be longer than 300 graphemes"}, 400)
        rkey = f"3k{len(self.records) + 1:08d}"
        uri = f"at://{body.get('repo')}/app.bsky.feed.post/{rkey}"
        self.records.append({"repo": body.get("repo"), "record": record, "uri": uri, "auth": auth})
        return jreply({"uri": uri, "cid": f"bafyrei{rkey}", "commit": {"cid": "bafyc", "rev": rkey},
                       "validationStatus": "valid"})

    def serve(self, req: Request, q: dict[str, str]) -> Reply:
        if req.method == "POST" and req.path == "/xrpc/com.atproto.repo.createRecord":
            return self._create_record(req)
        rl = {"ratelimit-limit": "3000", "ratelimit-remaining": "2999",
              "ratelimit-reset": str(int(time.time()) + 300), "ratelimit-policy": "3000;w=300"}
        if req.path == "/xrpc/com.atproto.server.createSession" and req.method == "POST":
            if self.sessions.count("create") >= 30:
                return jreply({"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"}, 429,
                              {"ratelimit-limit": "30", "ratelimit-remaining": "0", "ratelimit-policy": "30;w=300",
                               "ratelimit-reset": str(int(time.time()) + 300)})
            body = json.loads(req.body or b"{}")
            if self.accounts.get(body.get("identifier")) != body.get("password"):
                return jreply({"error": "AuthenticationRequired", "message": "Invalid identifier or password"}, 401)
            return self._session(body["identifier"], "create")
        if req.path == "/xrpc/com.atproto.server.refreshSession" and req.method == "POST":
            claims = self._claims(req, "com.atproto.refresh")
            if isinstance(claims, Reply):
                return claims
            handle = next((h for h in self.accounts if claims["sub"] == f"did:plc:{h.split('.')[0]}"), "")
            return self._session(handle, "refresh")
        if req.path == "/xrpc/app.bsky.feed.searchPosts":
            if "authorization" in req.headers:
                claims = self._claims(req, "com.atproto.access")
                if isinstance(claims, Reply):
                    return claims
                if claims.get("jti") in self.revoked:
                    return jreply({"error": "ExpiredToken", "message": "Token has been revoked"}, 400)
            elif self.auth_required:
                return jreply({"error": "Forbidden", "message": "searchPosts requires authentication"}, 403, rl)
        if req.path != "/xrpc/app.bsky.feed.searchPosts":
            return jreply({"error": "MethodNotImplemented", "message": "Method Not Implemented"}, 501)
        if not q.get("q"):
            return jreply({"error": "InvalidRequest", "message": "Error: Params must have the property \"q\""}, 400)
        term = q["q"].lower()
        since = datetime.fromisoformat(q["since"].replace("Z", "+00:00")).timestamp() if q.get("since") else 0
        found = sorted((p for p in self.posts if term in p.text.lower() and p.created >= since),
                       key=lambda p: -p.created)
        start, limit = int(q.get("cursor") or 0), int(q.get("limit", "25"))
        chunk = found[start:start + limit]
        posts = [{"uri": f"at://did:plc:{p.handle.split('.')[0]}/app.bsky.feed.post/{p.rkey}", "cid": f"bafy{p.rkey}",
                  "author": {"did": f"did:plc:{p.handle.split('.')[0]}", "handle": p.handle, "displayName": "Bob"},
                  "record": {"$type": "app.bsky.feed.post", "text": p.text, "createdAt": iso(p.created),
                             "langs": p.langs},
                  "replyCount": 0, "repostCount": p.reposts, "likeCount": p.likes, "quoteCount": 0,
                  "indexedAt": iso(p.created), "labels": []} for p in chunk]
        out: dict[str, Any] = {"posts": posts, "hitsTotal": len(found)}
        if start + limit < len(found):
            out["cursor"] = str(start + limit)
        return jreply(out, 200, rl)


@dataclass
class AppReview:
    id: str
    title: str
    content: str
    rating: int
    author: str = "Customer"
    version: str = "1.2"
    updated: float = field(default_factory=time.time)


class FakeAppStore(_Fake):
    def __init__(self) -> None:
        super().__init__()
        self.reviews: dict[tuple[str, str], list[AppReview]] = {}     # (country, app id) -> newest first
        self.include_app_entry = True

    def serve(self, req: Request, q: dict[str, str]) -> Reply:
        m = re.fullmatch(r"/(\w\w)/rss/customerreviews/(?:page=(\d+)/)?id=(\d+)/sortby=mostrecent/json", req.path)
        if not m:
            return Reply(404, b"<html>not found</html>", {"Content-Type": "text/html"})
        cc, page, app = m.group(1), int(m.group(2) or 1), m.group(3)
        revs = self.reviews.get((cc, app), [])[(page - 1) * 50:page * 50]
        entries: list[dict[str, Any]] = []
        if self.include_app_entry and page == 1:
            entries.append({"im:name": {"label": "Acme"}, "id": {"label": f"https://apps.apple.com/app/id{app}"}})
        for r in revs:
            entries.append({
                "author": {"uri": {"label": "https://itunes.apple.com/us/reviews/id1"}, "name": {"label": r.author},
                           "label": ""},
                "updated": {"label": datetime.fromtimestamp(r.updated, PDT).isoformat()},
                "im:rating": {"label": str(r.rating)}, "im:version": {"label": r.version}, "id": {"label": r.id},
                "title": {"label": r.title}, "content": {"label": r.content, "attributes": {"type": "text"}},
                "link": {"attributes": {"rel": "related", "href": f"https://itunes.apple.com/{cc}/review?id={app}"}},
                "im:voteSum": {"label": "0"}, "im:voteCount": {"label": "0"}})
        feed: dict[str, Any] = {"author": {"name": {"label": "iTunes Store"}}, "title": {"label": "Customer Reviews"}}
        if entries:
            feed["entry"] = entries[0] if len(entries) == 1 else entries
        return jreply({"feed": feed})
