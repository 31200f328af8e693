"""App Store Connect, Trustpilot and Meta's Graph APIs (Facebook Pages, Threads), from their references.

- `FakeAppStoreConnect`: `GET /v1/apps/{id}/customerReviews` with `sort=-createdDate`, `limit`, `cursor`
  (`links.next` is absolute), `X-Rate-Limit: user-hour-lim:3600;user-hour-rem:N;`; the bearer must be an
  ES256 JWT with the registered `kid`, `iss`, `aud` appstoreconnect-v1 and a lifetime of at most 20 minutes,
  else 401 with Apple's `errors` array (NOT_AUTHORIZED).
  `POST /v1/customerReviewResponses` (JSON:API, `responseBody`, `relationships.review`): 201 with the
  response (state PENDING_PUBLISH); 404 for an unknown review, 409 ENTITY_ERROR past 5970 characters, 403
  FORBIDDEN_ERROR for a key whose role may not respond (`read_only`).
- `FakeTrustpilot`: `GET /v1/business-units/{id}/reviews` with the `apikey` header, `page`, `perPage`,
  `links` with rel `next-page`; a bad key is Apigee's 401 `fault` body. Replies: the business-user token
  (`POST /v1/oauth/oauth-business-users-for-applications/accesstoken`, Basic key:secret, password grant) and
  `POST /v1/private/reviews/{id}/reply` (`message`, `authorBusinessUserId`) answering 201; an unknown review
  is 404, a bearer it did not issue 401 (`fault`).
- `FakeGraph`: `/{ver}/{page}/posts` (nested comments), `/{ver}/{page}/visitor_posts`, `/v1.0/keyword_search`;
  `Authorization: Bearer` checked (400 OAuthException code 190), `paging.next` cursors, `X-App-Usage` that
  grows per call, and code 4 "Application request limit reached" past the budget. Writes: `POST /{ver}/{id}/comments`
  (`message`, at most 8000; code 100 subcode 33 for an unknown object, code 200 without pages_manage_engagement),
  `POST /v1.0/me/threads` (TEXT, `reply_to_id`, 500 characters) then `/v1.0/me/threads_publish` (`creation_id`),
  `GET /v1.0/{media}?fields=permalink`.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode

import jwt

from .server import Reply, Request
from .social import _Fake, iso, jreply

NOT_AUTHORIZED = {"errors": [{"id": "6f1f7d7a-0000-4000-8000-000000000001", "status": "401",
                              "code": "NOT_AUTHORIZED", "title": "Authentication credentials are missing or invalid.",
                              "detail": "Provide a properly configured and signed bearer token, and make sure that "
                                        "it has not expired. Learn more about Generating Tokens for API Requests "
                                        "https://developer.apple.com/go/?id=api-generating-tokens"}]}


@dataclass
class AscReview:
    id: str
    title: str
    body: str
    rating: int
    nickname: str = "someone"
    territory: str = "USA"
    created: float = field(default_factory=time.time)


class FakeAppStoreConnect(_Fake):
    def __init__(self, key_id: str, issuer: str, public_key: Any, budget: int = 3600) -> None:
        super().__init__()
        self.key_id, self.issuer, self.public_key = key_id, issuer, public_key
        self.reviews: dict[str, list[AscReview]] = {}      # app id -> newest first
        self.budget, self.used = budget, 0
        self.responses: list[dict[str, Any]] = []
        self.read_only = False

    def serve(self, req: Request, q: dict[str, str]) -> Reply:
        token = req.headers.get("authorization", "").removeprefix("Bearer ")
        try:
            if jwt.get_unverified_header(token).get("kid") != self.key_id:
                raise jwt.InvalidTokenError("kid")
            claims = jwt.decode(token, self.public_key, algorithms=["ES256"], audience="appstoreconnect-v1",
                                issuer=self.issuer)
            if claims["exp"] - claims["iat"] > 1200:
                raise jwt.InvalidTokenError("lifetime")
        except (jwt.PyJWTError, KeyError):
            return jreply(NOT_AUTHORIZED, 401)
        self.used += 1
        rl = {"X-Rate-Limit": f"user-hour-lim:{self.budget};user-hour-rem:{max(0, self.budget - self.used)};"}
        if self.used > self.budget:
            return jreply({"errors": [{"status": "429", "code": "RATE_LIMIT_EXCEEDED",
                                       "title": "The request rate limit has been reached.",
                                       "detail": "We've received too many requests for this API. Please wait and "
                                                 "try again or slow down your request rate."}]}, 429, rl)
        if req.path == "/v1/customerReviewResponses" and req.method == "POST":
            return self._respond(req, rl)
        m = re.fullmatch(r"/v1/apps/(\d+)/customerReviews", req.path)
        if not m or m.group(1) not in self.reviews:
            return jreply({"errors": [{"status": "404", "code": "NOT_FOUND", "title": "The specified resource does "
                                       "not exist", "detail": f"There is no resource of type 'apps' with id "
                                       f"'{m.group(1) if m else ''}'"}]}, 404, rl)
        pool = self.reviews[m.group(1)]
        if q.get("filter[territory]"):
            pool = [r for r in pool if r.territory in q["filter[territory]"].split(",")]
        start, per = int(q.get("cursor") or 0), min(int(q.get("limit", "50")), 200)
        data = [{"type": "customerReviews", "id": r.id,
                 "attributes": {"rating": r.rating, "title": r.title, "body": r.body,
                                "reviewerNickname": r.nickname, "createdDate": iso(r.created, ms=False)[:-1] + "-00:00",
                                "territory": r.territory},
                 "relationships": {"response": {"links": {
                     "self": f"{self.url}/v1/customerReviews/{r.id}/relationships/response"}}},
                 "links": {"self": f"{self.url}/v1/customerReviews/{r.id}"}} for r in pool[start:start + per]]
        links = {"self": f"{self.url}{req.path}?{req.query}"}
        if start + per < len(pool):
            links["next"] = f"{self.url}{req.path}?" + urlencode({**q, "cursor": str(start + per)})
        return jreply({"data": data, "links": links, "meta": {"paging": {"total": len(pool), "limit": per}}}, 200, rl)


    def _respond(self, req: Request, rl: dict[str, str]) -> Reply:
        if self.read_only:
            return jreply({"errors": [{"status": "403", "code": "FORBIDDEN_ERROR", "title": "This request is "
                                       "forbidden for security reasons", "detail": "The API key in use does not "
                                       "allow this request"}]}, 403, rl)
        try:
            data = json.loads(req.body)["data"]
            assert data["type"] == "customerReviewResponses"
            text = data["attributes"]["responseBody"]
            review = data["relationships"]["review"]["data"]["id"]
        except (ValueError, KeyError, TypeError, AssertionError):
            return jreply({"errors": [{"status": "422", "code": "ENTITY_UNPROCESSABLE", "title": "The request "
                                       "entity is not valid.", "detail": "The request body is missing required "
                                       "members."}]}, 422, rl)
        if review not in {r.id for pool in self.reviews.values() for r in pool}:
            return jreply({"errors": [{"status": "404", "code": "NOT_FOUND", "title": "The specified resource does "
                                       "not exist", "detail": f"There is no resource of type 'customerReviews' "
                                       f"with id '{review}'"}]}, 404, rl)
        if len(text) > 5970:
            return jreply({"errors": [{"status": "409", "code": "ENTITY_ERROR.ATTRIBUTE.INVALID.TOO_LONG",
                                       "title": "An attribute value is too long.", "detail": "The response body "
                                       "is longer than 5970 characters.",
                                       "source": {"pointer": "/data/attributes/responseBody"}}]}, 409, rl)
        rid = f"00000000-0000-0000-0000-{len(self.responses) + 1:012d}"
        self.responses.append({"id": rid, "review": review, "text": text,
                               "auth": req.headers.get("authorization", "")})
        return jreply({"data": {"type": "customerReviewResponses", "id": rid,
                                "attributes": {"responseBody": text, "lastModifiedDate": iso(time.time(), ms=False),
                                               "state": "PENDING_PUBLISH"},
                                "links": {"self": f"{self.url}/v1/customerReviewResponses/{rid}"}},
                       "links": {"self": f"{self.url}/v1/customerReviewResponses/{rid}"}}, 201, rl)


@dataclass
class TpReview:
    id: str
    title: str
    text: str
    stars: int
    name: str = "Jo"
    created: float = field(default_factory=time.time)
    language: str = "en"


class FakeTrustpilot(_Fake):
    def __init__(self, api_key: str) -> None:
        super().__init__()
        self.api_key = api_key
        self.reviews: dict[str, list[TpReview]] = {}       # business unit -> newest first
        self.api_secret = ""
        self.users: dict[str, str] = {}                     # business user login -> password
        self.tokens: set[str] = set()
        self.replies: list[dict[str, Any]] = []

    def serve(self, req: Request, q: dict[str, str]) -> Reply:
        if req.path == "/v1/oauth/oauth-business-users-for-applications/accesstoken" and req.method == "POST":
            return self._token(req)
        m = re.fullmatch(r"/v1/private/reviews/([\w-]+)/reply", req.path)
        if m and req.method == "POST":
            return self._reply(m.group(1), req)
        if req.headers.get("apikey") != self.api_key:
            return jreply({"fault": {"faultstring": "Invalid ApiKey",
                                     "detail": {"errorcode": "oauth.v2.InvalidApiKey"}}}, 401)
        m = re.fullmatch(r"/v1/business-units/([0-9a-f]{24})/reviews", req.path)
        if not m or m.group(1) not in self.reviews:
            return jreply({"message": "Not found", "errorCode": 404}, 404)
        pool = self.reviews[m.group(1)]
        page, per = int(q.get("page", "1")), min(int(q.get("perPage", "20")), 100)
        chunk = pool[(page - 1) * per:page * per]
        links = [{"href": f"{self.url}{req.path}?page={page}", "method": "GET", "rel": "self"}]
        if page * per < len(pool):
            links.append({"href": f"{self.url}{req.path}?page={page + 1}", "method": "GET", "rel": "next-page"})
        return jreply({"links": links, "reviews": [{
            "id": r.id, "consumer": {"id": "c" + r.id, "displayName": r.name, "numberOfReviews": 1},
            "businessUnit": {"id": m.group(1), "identifyingName": "acme.example", "displayName": "Acme"},
            "stars": r.stars, "title": r.title, "text": r.text, "language": r.language,
            "createdAt": iso(r.created), "updatedAt": None, "companyReply": None, "isVerified": False,
            "numberOfLikes": 0, "status": "active", "reportData": None,
            "links": [{"href": f"https://api.trustpilot.com/v1/reviews/{r.id}", "method": "GET", "rel": "reviews"}]}
            for r in chunk]})


    def _token(self, req: Request) -> Reply:
        import base64
        basic = req.headers.get("authorization", "").removeprefix("Basic ")
        try:
            key, _, secret = base64.b64decode(basic).decode().partition(":")
        except ValueError:
            key, secret = "", ""
        if key != self.api_key or secret != self.api_secret:
            return jreply({"fault": {"faultstring": "Invalid client identifier {0}",
                                     "detail": {"errorcode": "oauth.v2.InvalidClientIdentifier"}}}, 401)
        form = {k: v[0] for k, v in parse_qs(req.body.decode()).items()}
        if form.get("grant_type") != "password" or self.users.get(form.get("username", "")) != form.get("password"):
            return jreply({"error": "invalid_grant", "error_description": "Invalid username or password"}, 400)
        token = f"tp-{len(self.tokens) + 1}"
        self.tokens.add(token)
        return jreply({"access_token": token, "refresh_token": f"r{token}", "expires_in": "359999",
                       "token_type": "BearerToken", "issued_at": str(int(time.time() * 1000))})

    def _reply(self, review: str, req: Request) -> Reply:
        if req.headers.get("authorization", "").removeprefix("Bearer ") not in self.tokens:
            return jreply({"fault": {"faultstring": "Invalid access token",
                                     "detail": {"errorcode": "oauth.v2.InvalidAccessToken"}}}, 401)
        if review not in {r.id for pool in self.reviews.values() for r in pool}:
            return jreply({"message": "Review not found", "errorCode": 404}, 404)
        try:
            body = json.loads(req.body)
            text, author = body["message"], body["authorBusinessUserId"]
        except (ValueError, KeyError, TypeError):
            return jreply({"message": "message and authorBusinessUserId are required", "errorCode": 400}, 400)
        self.replies.append({"review": review, "text": text, "author": author,
                             "auth": req.headers.get("authorization", "")})
        return Reply(201)


@dataclass
class GraphItem:
    id: str
    message: str
    author: str = "Pat Doe"
    created: float = field(default_factory=time.time)
    likes: int = 0


class FakeGraph(_Fake):
    """Facebook Pages and Threads keyword search. `posts` maps a Page post id to its comments (newest first)."""

    def __init__(self, token: str, budget: int = 200) -> None:
        super().__init__()
        self.token = token
        self.posts: dict[str, list[GraphItem]] = {}
        self.visitor_posts: list[GraphItem] = []
        self.threads: list[GraphItem] = []                 # keyword_search pool, newest first
        self.budget, self.calls = budget, 0
        self.can_write = True                              # the token has pages_manage_engagement
        self.comments_made: list[dict[str, Any]] = []
        self.containers: dict[str, dict[str, str]] = {}
        self.published: list[dict[str, str]] = []

    def _usage(self) -> dict[str, str]:
        pct = min(100, round(100 * self.calls / self.budget))
        return {"x-app-usage": json.dumps({"call_count": pct, "total_cputime": pct // 2, "total_time": pct // 2})}

    @staticmethod
    def _gerr(message: str, code: int, status: int = 400, **extra: Any) -> Reply:
        return jreply({"error": {"message": message, "type": "OAuthException", "code": code, **extra,
                                 "fbtrace_id": "AbCdEh"}}, status)

    def _write(self, req: Request, form: dict[str, str]) -> Reply:
        m = re.fullmatch(r"/v\d+\.\d+/([\w.]+)/comments", req.path)
        if m:
            target = m.group(1)
            known = {f"{pid}_{c.id}" for pid, cs in self.posts.items() for c in cs} | set(self.posts) | {
                f"1_{p.id}" for p in self.visitor_posts}
            if target not in known:
                return jreply({"error": {"message": f"Unsupported post request. Object with ID '{target}' does not "
                                         "exist, cannot be loaded due to missing permissions, or does not support "
                                         "this operation.", "type": "GraphMethodException", "code": 100,
                                         "error_subcode": 33, "fbtrace_id": "x"}}, 400)
            if not self.can_write:
                return self._gerr("(#200) Permissions error", 200, 403)
            text = form.get("message", "")
            if not text or len(text) > 8000:
                return self._gerr("(#100) The message must be between 1 and 8000 characters", 100)
            new_id = f"{target.split('_')[0]}_{9000 + len(self.comments_made)}"
            self.comments_made.append({"id": new_id, "parent": target, "message": text,
                                       "auth": req.headers.get("authorization", "")})
            return jreply({"id": new_id}, 200, self._usage())
        if req.path == "/v1.0/me/threads":
            parent, text = form.get("reply_to_id", ""), form.get("text", "")
            if form.get("media_type") != "TEXT":
                return self._gerr("(#100) The parameter media_type is required", 100)
            if parent and parent not in {p.id for p in self.threads}:
                return self._gerr("(#100) Param reply_to_id must be a valid Threads media id", 100)
            if len(text.encode()) > 500:
                return self._gerr("(#100) Param text must be at most 500 characters long.", 100)
            cid = f"17890{len(self.containers) + 1:05d}"
            self.containers[cid] = {"text": text, "reply_to_id": parent, "auth": req.headers.get("authorization", "")}
            return jreply({"id": cid})
        if req.path == "/v1.0/me/threads_publish":
            container = self.containers.pop(form.get("creation_id", ""), None)
            if container is None:
                return self._gerr("(#100) Param creation_id must be a valid media container id", 100,
                                  error_subcode=4279009)
            mid = f"18000{len(self.published) + 1:05d}"
            self.published.append({"id": mid, **container})
            return jreply({"id": mid})
        return jreply({"error": {"message": "Unsupported post request.", "type": "GraphMethodException", "code": 100,
                                 "error_subcode": 33, "fbtrace_id": "x"}}, 400)

    @staticmethod
    def _graph_time(ts: float) -> str:
        return time.strftime("%Y-%m-%dT%H:%M:%S+0000", time.gmtime(ts))

    def _page(self, path: str, q: dict[str, str], pool: list[dict[str, Any]]) -> Reply:
        after, limit = int(q.get("after") or 0), int(q.get("limit", "25"))
        out: dict[str, Any] = {"data": pool[after:after + limit]}
        if pool:
            out["paging"] = {"cursors": {"before": str(after), "after": str(after + limit)}}
        if after + limit < len(pool):
            out["paging"]["next"] = f"{self.url}{path}?" + urlencode({**q, "after": str(after + limit)})
        return jreply(out, 200, self._usage())

    def serve(self, req: Request, q: dict[str, str]) -> Reply:
        if req.headers.get("authorization") != f"Bearer {self.token}":
            return jreply({"error": {"message": "Invalid OAuth access token - Cannot parse access token",
                                     "type": "OAuthException", "code": 190, "fbtrace_id": "AbCdEf"}}, 400)
        self.calls += 1
        if self.calls > self.budget:
            return jreply({"error": {"message": "(#4) Application request limit reached", "type": "OAuthException",
                                     "is_transient": True, "code": 4, "fbtrace_id": "AbCdEg"}}, 400, self._usage())
        if req.method == "POST":
            return self._write(req, {k: v[0] for k, v in parse_qs(req.body.decode()).items()})
        m = re.fullmatch(r"/v1\.0/(\d+)", req.path)
        if m and any(p["id"] == m.group(1) for p in self.published):
            return jreply({"id": m.group(1), "permalink": f"https://www.threads.net/@acme/post/{m.group(1)}"})
        if re.fullmatch(r"/v\d+\.\d+/[\w.]+/posts", req.path):
            limit = int((re.search(r"comments\.[^{]*limit\((\d+)\)", q.get("fields", "")) or [0, "25"])[1])
            pool = [{"id": pid, "permalink_url": f"https://www.facebook.com/acme/posts/{pid}",
                     "comments": {"data": [{"id": f"{pid}_{c.id}", "message": c.message,
                                            "created_time": self._graph_time(c.created),
                                            "from": {"id": "9" + c.id, "name": c.author},
                                            "permalink_url": f"https://www.facebook.com/acme/posts/{pid}?comment_id={c.id}",
                                            "like_count": c.likes} for c in comments[:limit]],
                                  "paging": {"cursors": {"before": "b", "after": "a"}}}}
                    for pid, comments in self.posts.items()]
            return self._page(req.path, q, pool)
        if re.fullmatch(r"/v\d+\.\d+/[\w.]+/visitor_posts", req.path):
            pool = [{"id": f"1_{p.id}", "message": p.message, "created_time": self._graph_time(p.created),
                     "from": {"id": "8" + p.id, "name": p.author},
                     "permalink_url": f"https://www.facebook.com/permalink.php?story_fbid={p.id}"}
                    for p in self.visitor_posts]
            return self._page(req.path, q, pool)
        if req.path == "/v1.0/keyword_search":
            if not q.get("q"):
                return jreply({"error": {"message": "(#100) The parameter q is required", "type": "OAuthException",
                                         "code": 100, "fbtrace_id": "x"}}, 400)
            since = int(q.get("since") or 0)
            pool = [{"id": p.id, "text": p.message, "media_type": "TEXT_POST",
                     "permalink": f"https://www.threads.net/@{p.author}/post/{p.id}",
                     "timestamp": self._graph_time(p.created), "username": p.author, "has_replies": False,
                     "is_quote_post": False, "is_reply": False}
                    for p in self.threads if q["q"].lower() in p.message.lower() and p.created >= since]
            return self._page(req.path, q, pool)
        return jreply({"error": {"message": "Unsupported get request.", "type": "GraphMethodException", "code": 100,
                                 "error_subcode": 33, "fbtrace_id": "x"}}, 400)
