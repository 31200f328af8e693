"""Google's token endpoint and three Google APIs, from their official references, on one local server.

- `POST /token` (oauth2.googleapis.com): the RFC 7523 JWT-bearer grant, checked against the registered
  service account's public key (`aud`, `scope`, `exp`); the refresh-token grant for registered OAuth
  clients. Refusals are OAuth2 bodies: 400 `invalid_grant` ("Invalid JWT Signature.", "Token has been
  expired or revoked."), 401 `invalid_client`.
- `GET /androidpublisher/v3/applications/{pkg}/reviews`: `maxResults`, `token` paging (`tokenPagination`),
  403 PERMISSION_DENIED for an app the account cannot see.
- `GET /youtube/v3/commentThreads`: `key`, `allThreadsRelatedToChannelId` or `videoId`, `pageToken`;
  400 "API key not valid", 403 `commentsDisabled`, 403 `quotaExceeded` past `quota` units (1 per call).
- `GET /v4/accounts/{a}/locations/{l}/reviews` (Business Profile): `pageSize`, `pageToken`, enum `starRating`.
Write endpoints (the replies):
- `POST .../applications/{pkg}/reviews/{reviewId}:reply` (`replyText`, over 350 characters: 400
  INVALID_ARGUMENT), answering `{"result": {"replyText", "lastEdited"}}`; an unknown review is 404.
- `POST /youtube/v3/comments?part=snippet` (`snippet.parentId`, `snippet.textOriginal`): OAuth only (an API
  key alone is 401 "Login Required"), scope youtube.force-ssl; 404 `commentNotFound` for an unknown parent,
  400 `commentTextTooLong` past 10,000 characters, 403 `ineligibleAccount` for an account without a channel.
- `PUT /v4/{location}/reviews/{reviewId}/reply` (`comment`, at most 4096): the `ReviewReply` back.
Every API answers 401 UNAUTHENTICATED for a missing, unknown or expired bearer, in Google's error shape.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import jwt

from .server import Reply, Request
from .social import _Fake, iso, jreply

PLAY_SCOPE = "https://www.googleapis.com/auth/androidpublisher"
GBP_SCOPE = "https://www.googleapis.com/auth/business.manage"
YT_SCOPE = "https://www.googleapis.com/auth/youtube.force-ssl"
STAR_NAMES = {1: "ONE", 2: "TWO", 3: "THREE", 4: "FOUR", 5: "FIVE"}


def gerror(code: int, message: str, status: str, reason: str | None = None, domain: str = "global") -> Reply:
    err: dict[str, Any] = {"code": code, "message": message, "status": status}
    if reason:
        err["errors"] = [{"message": message, "domain": domain, "reason": reason}]
    return jreply({"error": err}, code)


@dataclass
class PlayReview:
    id: str
    text: str
    stars: int
    author: str = "A Google user"
    modified: float = field(default_factory=time.time)
    lang: str = "en"
    thumbs_up: int = 0


@dataclass
class Comment:
    id: str
    text: str
    video: str = "dQw4w9WgXcQ"
    author: str = "@viewer"
    likes: int = 0
    published: float = field(default_factory=time.time)


@dataclass
class PlaceReview:
    id: str
    stars: int
    comment: str | None = None
    author: str = "Sam"
    updated: float = field(default_factory=time.time)


class FakeGoogle(_Fake):
    def __init__(self) -> None:
        super().__init__()
        self.service_accounts: dict[str, Any] = {}     # client_email -> public key
        self.clients: dict[str, tuple[str, str]] = {}  # client_id -> (secret, refresh token)
        self.tokens: dict[str, tuple[str, float]] = {}  # access token -> (scope, expiry)
        self.token_ttl = 3599
        self.play: dict[str, list[PlayReview]] = {}     # package -> newest first
        self.api_keys: set[str] = set()
        self.comments: dict[str, list[Comment]] = {}    # channel id or video id -> newest first
        self.comments_disabled: set[str] = set()
        self.quota, self.units = 10_000, 0
        self.places: dict[str, list[PlaceReview]] = {}  # "accounts/1/locations/2" -> newest first
        self.grants: list[str] = []
        self.client_scopes: dict[str, str] = {}        # client_id -> scope its refresh token was granted
        self.play_replies: list[dict[str, Any]] = []
        self.yt_replies: list[dict[str, Any]] = []
        self.place_replies: list[dict[str, Any]] = []
        self.ineligible = False                         # the OAuth user has no YouTube channel

    # -- OAuth --------------------------------------------------------------------------------------------
    def _token(self, req: Request) -> Reply:
        form = {k: v[0] for k, v in parse_qs(req.body.decode()).items()}
        grant = form.get("grant_type")
        if grant == "urn:ietf:params:oauth:grant-type:jwt-bearer":
            try:
                unverified = jwt.decode(form.get("assertion", ""), options={"verify_signature": False})
                key = self.service_accounts[unverified["iss"]]
                claims = jwt.decode(form["assertion"], key, algorithms=["RS256"], audience=f"{self.url}/token")
            except (KeyError, jwt.PyJWTError):
                return jreply({"error": "invalid_grant", "error_description": "Invalid JWT Signature."}, 400)
            if claims["exp"] - claims["iat"] > 3600:
                return jreply({"error": "invalid_grant", "error_description": "Invalid JWT: Token must be a "
                               "short-lived token (60 minutes) and in a reasonable timeframe."}, 400)
            scope = claims.get("scope", "")
        elif grant == "refresh_token":
            cid = form.get("client_id", "")
            if cid not in self.clients or self.clients[cid][0] != form.get("client_secret"):
                return jreply({"error": "invalid_client", "error_description": "The OAuth client was not found."},
                              401)
            if self.clients[cid][1] != form.get("refresh_token"):
                return jreply({"error": "invalid_grant", "error_description": "Token has been expired or revoked."},
                              400)
            scope = self.client_scopes.get(cid, GBP_SCOPE)
        else:
            return jreply({"error": "unsupported_grant_type", "error_description": f"Invalid grant_type: {grant}"},
                          400)
        token = f"ya29.fake-{len(self.tokens) + 1}"
        self.tokens[token] = (scope, time.time() + self.token_ttl)
        self.grants.append(grant or "")
        return jreply({"access_token": token, "expires_in": self.token_ttl, "token_type": "Bearer", "scope": scope})

    def _bearer(self, req: Request, scope: str) -> Reply | None:
        tok = req.headers.get("authorization", "").removeprefix("Bearer ")
        granted = self.tokens.get(tok)
        if granted is None or granted[1] < time.time() or scope not in granted[0]:
            return gerror(401, "Request had invalid authentication credentials. Expected OAuth 2 access token, "
                          "login cookie or other valid authentication credential.", "UNAUTHENTICATED")
        return None

    # -- APIs ---------------------------------------------------------------------------------------------
    def serve(self, req: Request, q: dict[str, str]) -> Reply:
        if req.path == "/token" and req.method == "POST":
            return self._token(req)
        m = re.fullmatch(r"/androidpublisher/v3/applications/([\w.]+)/reviews/([^/]+):reply", req.path)
        if m and req.method == "POST":
            return self._bearer(req, PLAY_SCOPE) or self._play_reply(m.group(1), m.group(2), req)
        if req.path == "/youtube/v3/comments" and req.method == "POST":
            return self._yt_reply(req, q)
        m = re.fullmatch(r"/v4/(accounts/\d+/locations/\d+)/reviews/([^/]+)/reply", req.path)
        if m and req.method == "PUT":
            return self._bearer(req, GBP_SCOPE) or self._place_reply(m.group(1), m.group(2), req)
        m = re.fullmatch(r"/androidpublisher/v3/applications/([\w.]+)/reviews", req.path)
        if m:
            return self._bearer(req, PLAY_SCOPE) or self._play(m.group(1), q)
        if req.path == "/youtube/v3/commentThreads":
            return self._youtube(q)
        m = re.fullmatch(r"/v4/(accounts/\d+/locations/\d+)/reviews", req.path)
        if m:
            return self._bearer(req, GBP_SCOPE) or self._places(m.group(1), q)
        return gerror(404, "Requested entity was not found.", "NOT_FOUND")

    def _play(self, package: str, q: dict[str, str]) -> Reply:
        if package not in self.play:
            return gerror(403, "The caller does not have permission", "PERMISSION_DENIED")
        start, per = int(q.get("token") or 0), int(q.get("maxResults", "10"))
        revs = self.play[package][start:start + per]
        out: dict[str, Any] = {"reviews": [{
            "reviewId": r.id, "authorName": r.author,
            "comments": [{"userComment": {
                "text": "\t" + r.text if "\t" not in r.text else r.text,
                "lastModified": {"seconds": str(int(r.modified)), "nanos": 0}, "starRating": r.stars,
                "reviewerLanguage": r.lang, "device": "a51", "androidOsVersion": 34, "appVersionCode": 120,
                "appVersionName": "1.2.0", "thumbsUpCount": r.thumbs_up, "thumbsDownCount": 0}}]} for r in revs]}
        if start + per < len(self.play[package]):
            out["tokenPagination"] = {"nextPageToken": str(start + per)}
        return jreply(out)

    def _youtube(self, q: dict[str, str]) -> Reply:
        if q.get("key") not in self.api_keys:
            return gerror(400, "API key not valid. Please pass a valid API key.", "INVALID_ARGUMENT", "badRequest")
        self.units += 1
        if self.units > self.quota:
            return gerror(403, "The request cannot be completed because you have exceeded your "
                          '<a href="/youtube/v3/getting-started#quota">quota</a>.', "PERMISSION_DENIED",
                          "quotaExceeded", "youtube.quota")
        target = q.get("allThreadsRelatedToChannelId") or q.get("videoId") or ""
        if target in self.comments_disabled:
            return gerror(403, "The video identified by the <code><a href=\"/youtube/v3/docs/commentThreads/list"
                          "#videoId\">videoId</a></code> parameter has disabled comments.", "PERMISSION_DENIED",
                          "commentsDisabled", "youtube.commentThread")
        pool = self.comments.get(target, [])
        start, per = int(q.get("pageToken") or 0), int(q.get("maxResults", "20"))
        items = [{"kind": "youtube#commentThread", "etag": f"e{c.id}", "id": c.id, "snippet": {
            "channelId": "UC" + "x" * 22, "videoId": c.video, "canReply": True, "totalReplyCount": 0,
            "isPublic": True, "topLevelComment": {"kind": "youtube#comment", "etag": f"t{c.id}", "id": c.id,
                                                  "snippet": {
                "channelId": "UC" + "x" * 22, "videoId": c.video, "textDisplay": c.text, "textOriginal": c.text,
                "authorDisplayName": c.author, "authorChannelUrl": f"http://www.youtube.com/{c.author}",
                "authorChannelId": {"value": "UC" + "a" * 22}, "canRate": True, "viewerRating": "none",
                "likeCount": c.likes, "publishedAt": iso(c.published, ms=False),
                "updatedAt": iso(c.published, ms=False)}}}} for c in pool[start:start + per]]
        out: dict[str, Any] = {"kind": "youtube#commentThreadListResponse", "etag": "list",
                               "pageInfo": {"totalResults": len(items), "resultsPerPage": per}, "items": items}
        if start + per < len(pool):
            out["nextPageToken"] = str(start + per)
        return jreply(out)

    @staticmethod
    def _json(req: Request) -> dict[str, Any]:
        try:
            body = json.loads(req.body or b"null")
        except ValueError:
            body = None
        return body if isinstance(body, dict) else {}

    def _play_reply(self, package: str, review: str, req: Request) -> Reply:
        if package not in self.play:
            return gerror(403, "The caller does not have permission", "PERMISSION_DENIED")
        if review not in {r.id for r in self.play[package]}:
            return gerror(404, "Review not found.", "NOT_FOUND")
        text = self._json(req).get("replyText")
        if not isinstance(text, str) or not text.strip():
            return gerror(400, "Reply text is required.", "INVALID_ARGUMENT", "badRequest")
        if len(text) > 350:
            return gerror(400, "Reply text is too long.", "INVALID_ARGUMENT", "badRequest")
        edited = {"seconds": str(int(time.time())), "nanos": 0}
        self.play_replies.append({"package": package, "review": review, "text": text,
                                  "auth": req.headers.get("authorization", "")})
        return jreply({"result": {"replyText": text, "lastEdited": edited}})

    def _yt_reply(self, req: Request, q: dict[str, str]) -> Reply:
        if not req.headers.get("authorization"):
            return gerror(401, "Login Required.", "UNAUTHENTICATED", "required")
        refused = self._bearer(req, YT_SCOPE)
        if refused is not None:
            return refused
        if self.ineligible:
            return gerror(403, "The YouTube account used to authorize the API request must be merged with the "
                          "user's Google account to insert a comment.", "PERMISSION_DENIED", "ineligibleAccount",
                          "youtube.comment")
        if q.get("part") != "snippet":
            return gerror(400, "'part' parameter is required.", "INVALID_ARGUMENT", "required")
        snip = self._json(req).get("snippet") or {}
        parent, text = snip.get("parentId"), snip.get("textOriginal")
        if not parent:
            return gerror(400, "The comment must be linked to a parent comment.", "INVALID_ARGUMENT",
                          "parentIdMissing", "youtube.comment")
        if not isinstance(text, str) or not text:
            return gerror(400, "Comments cannot be empty.", "INVALID_ARGUMENT", "commentTextRequired",
                          "youtube.comment")
        if len(text) > 10_000:
            return gerror(400, "The comment text is too long.", "INVALID_ARGUMENT", "commentTextTooLong",
                          "youtube.comment")
        video = next((c.video for pool in self.comments.values() for c in pool if c.id == parent), None)
        if video is None:
            return gerror(404, "The comment identified by the <code>parentId</code> parameter could not be "
                          "found.", "NOT_FOUND", "commentNotFound", "youtube.comment")
        new_id = f"{parent}.reply{len(self.yt_replies) + 1}"
        self.yt_replies.append({"parent": parent, "text": text, "auth": req.headers.get("authorization", "")})
        return jreply({"kind": "youtube#comment", "etag": "r", "id": new_id, "snippet": {
            "channelId": "UC" + "x" * 22, "videoId": video, "textDisplay": text, "textOriginal": text,
            "parentId": parent, "authorDisplayName": "@acme", "canRate": True, "viewerRating": "none",
            "likeCount": 0, "publishedAt": iso(time.time(), ms=False), "updatedAt": iso(time.time(), ms=False)}})

    def _place_reply(self, location: str, review: str, req: Request) -> Reply:
        if review not in {r.id for r in self.places.get(location, [])}:
            return gerror(404, "Requested entity was not found.", "NOT_FOUND")
        text = self._json(req).get("comment")
        if not isinstance(text, str) or not text.strip():
            return gerror(400, "Request contains an invalid argument.", "INVALID_ARGUMENT")
        if len(text) > 4096:
            return gerror(400, "Request contains an invalid argument.", "INVALID_ARGUMENT")
        self.place_replies.append({"name": f"{location}/reviews/{review}", "text": text,
                                   "auth": req.headers.get("authorization", "")})
        return jreply({"comment": text, "updateTime": iso(time.time())})

    def _places(self, location: str, q: dict[str, str]) -> Reply:
        if location not in self.places:
            return gerror(404, "Requested entity was not found.", "NOT_FOUND")
        pool = self.places[location]
        start, per = int(q.get("pageToken") or 0), min(int(q.get("pageSize", "50")), 50)
        reviews = []
        for r in pool[start:start + per]:
            rev: dict[str, Any] = {"reviewId": r.id, "name": f"{location}/reviews/{r.id}",
                                   "reviewer": {"displayName": r.author, "profilePhotoUrl": "https://lh3.example/p"},
                                   "starRating": STAR_NAMES[r.stars], "createTime": iso(r.updated),
                                   "updateTime": iso(r.updated)}
            if r.comment is not None:
                rev["comment"] = r.comment
            reviews.append(rev)
        out: dict[str, Any] = {"reviews": reviews, "totalReviewCount": len(pool),
                               "averageRating": round(sum(r.stars for r in pool) / max(1, len(pool)), 1)}
        if start + per < len(pool):
            out["nextPageToken"] = str(start + per)
        return jreply(out)


def service_account_key(srv: FakeGoogle, email: str = "monitor@acme-prod.iam.gserviceaccount.com") -> str:
    """A fresh RSA key registered with the fake; the JSON a user would download from the Cloud console."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    srv.service_accounts[email] = key.public_key()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    return json.dumps({"type": "service_account", "project_id": "acme-prod", "private_key_id": "k1",
                       "private_key": pem, "client_email": email, "client_id": "1234567890",
                       "token_uri": f"{srv.url}/token"})
