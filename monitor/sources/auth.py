"""Credentials for the authenticated kinds: read from the environment, exchanged for tokens, cached.

One module for every kind so there is one place that knows (a) that a credential only ever comes from a
variable named in the source's options (`*_env`) or the file such a variable points to, and is registered
with the log scrubber the moment it is read; (b) how each grant works: OAuth2 client credentials and
password (Reddit), refresh token (Google Business Profile), the RS256 service-account assertion (Google
Play), the ES256 App Store Connect token, Bluesky sessions (see kinds/bluesky.py); and (c) that a token is
fetched once, cached until shortly before it expires, shared by every source with the same credentials,
and dropped when the API refuses it so the next call fetches a fresh one instead of disabling the source.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import jwt

from monitor.core import logs
from monitor.core.errors import SourceAuthError
from monitor.sources import api
from monitor.sources.fetch import HttpConfig

MARGIN_S = 60.0                     # a token this close to expiry is renewed first (clock skew, slow calls)
GOOGLE_TOKEN_URL = "https://oauth2.googleapis.com/token"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"


@dataclass
class Token:
    value: str
    expires_at: float                            # epoch seconds
    refresh: str | None = None                   # refresh token / refreshJwt, when the grant gave one
    extra: dict[str, Any] = field(default_factory=dict)


class TokenCache:
    """Process-wide: every poll of every source with the same credentials reuses one token."""

    def __init__(self) -> None:
        self._tokens: dict[str, Token] = {}
        self._lock = threading.Lock()

    def get(self, key: str, now: float) -> Token | None:
        with self._lock:
            tok = self._tokens.get(key)
        return tok if tok is not None and tok.expires_at - MARGIN_S > now else None

    def stale(self, key: str) -> Token | None:
        """The cached token even if expired (its refresh token may still be good)."""
        with self._lock:
            return self._tokens.get(key)

    def put(self, key: str, token: Token) -> Token:
        logs.add_secret(token.value)
        logs.add_secret(token.refresh)
        token.extra["cache_key"] = key
        with self._lock:
            self._tokens[key] = token
        return token

    def drop(self, key: str) -> None:
        with self._lock:
            self._tokens.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._tokens.clear()


CACHE = TokenCache()


def cache_key(*parts: str) -> str:
    """A key that identifies the credentials without keeping them readable in memory dumps or logs."""
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def env_value(name: str, environ: Any = None) -> str | None:
    value = (environ if environ is not None else os.environ).get(name)
    value = value.strip() if isinstance(value, str) else None
    if value:
        logs.add_secret(value)
    return value or None


def require(name: str, source_id: str, what: str) -> str:
    """The value of `$name`, or a SourceAuthError naming the variable (the source waits for ops)."""
    value = env_value(name)
    if not value:
        raise SourceAuthError(f"no {what} in ${name}", source_id=source_id)
    return value


def file_or_value(value: str, source_id: str, name: str) -> str:
    """A variable may hold the credential itself or the path of the file that does (a .p8 key, a JSON key)."""
    stripped = value.strip()
    if stripped.startswith(("{", "-----BEGIN")):
        return stripped
    path = Path(stripped).expanduser()
    try:
        text = path.read_text()
    except OSError as exc:
        raise SourceAuthError(f"${name} is neither a key nor a readable key file ({exc.strerror})",
                              source_id=source_id) from None
    logs.add_secret(text.strip())
    return text.strip()


def grant(client: httpx.Client, http: HttpConfig, token_url: str, form: dict[str, str], *, key: str, now: float,
          source_id: str, api_name: str, basic: tuple[str, str] | None = None,
          headers: dict[str, str] | None = None, trusted: list[str] | None = None) -> Token:
    """An OAuth2 token request (RFC 6749 §4.3/4.4/6, RFC 7523), cached under `key` until it expires; `trusted`
    as `api.request`'s."""
    cached = CACHE.get(key, now)
    if cached is not None:
        return cached
    resp = api.request(client, "POST", token_url, http, now=now, data=form, auth=basic, headers=headers,
                       trusted=trusted)
    # invalid_grant / invalid_client come back as 400 or 401: both mean the credentials, not the request
    body = api.check(resp, source_id=source_id, api=f"{api_name} token endpoint", now=now, client=client,
                     auth_statuses=(400, 401, 403))
    value = body.get("access_token") if isinstance(body, dict) else None
    if not isinstance(value, str) or not value:
        # Reddit answers a wrong password with HTTP 200 and {"error": "invalid_grant"}
        err = body.get("error") if isinstance(body, dict) else None
        raise SourceAuthError(f"{api_name} token endpoint refused the credentials: {logs.scrubbed(str(err), 100)}" if err else
                              f"{api_name} token endpoint answered without an access_token", source_id=source_id)
    try:
        expires_in = float(body.get("expires_in") or 3600)
    except (TypeError, ValueError):
        expires_in = 3600.0
    return CACHE.put(key, Token(value, now + expires_in, body.get("refresh_token") or None,
                                {"scope": body.get("scope")}))


def google_service_account(client: httpx.Client, http: HttpConfig, raw: str, scope: str, *, now: float,
                           source_id: str, env_name: str, token_url: str | None = None,
                           trusted: list[str] | None = None) -> Token:
    """A service account's access token: an RS256-signed assertion exchanged at its `token_uri` (RFC 7523)."""
    try:
        info = json.loads(file_or_value(raw, source_id, env_name))
        email, pem = info["client_email"], info["private_key"]
    except (ValueError, KeyError, TypeError):
        raise SourceAuthError(f"${env_name} is not a service-account JSON key (client_email, private_key)",
                              source_id=source_id) from None
    logs.add_secret(pem)
    url = token_url or info.get("token_uri") or GOOGLE_TOKEN_URL
    key = cache_key("google-sa", url, email, scope)
    cached = CACHE.get(key, now)
    if cached is not None:
        return cached
    iat = int(now)
    try:
        assertion = jwt.encode({"iss": email, "scope": scope, "aud": url, "iat": iat, "exp": iat + 3600},
                               pem, algorithm="RS256",
                               headers={"kid": info["private_key_id"]} if info.get("private_key_id") else None)
    except (ValueError, TypeError, jwt.PyJWTError) as exc:
        raise SourceAuthError(f"${env_name}: the private key cannot sign ({type(exc).__name__})",
                              source_id=source_id) from None
    return grant(client, http, url, {"grant_type": JWT_BEARER, "assertion": assertion}, key=key, now=now,
                 source_id=source_id, api_name="Google OAuth", trusted=trusted)


def appstore_connect_token(key_id: str, issuer_id: str, raw_key: str, *, now: float, source_id: str,
                           env_name: str) -> str:
    """An App Store Connect API token: ES256, `kid` = key id, `iss` = issuer id, at most 20 minutes long.
    Signed locally (no token endpoint), cached for 19 minutes."""
    key = cache_key("asc", key_id, issuer_id)
    cached = CACHE.get(key, now)
    if cached is not None:
        return cached.value
    pem = file_or_value(raw_key, source_id, env_name)
    iat = int(now)
    try:
        token = jwt.encode({"iss": issuer_id, "iat": iat, "exp": iat + 1200, "aud": "appstoreconnect-v1"},
                           pem, algorithm="ES256", headers={"kid": key_id, "typ": "JWT"})
    except (ValueError, TypeError, jwt.PyJWTError) as exc:
        raise SourceAuthError(f"${env_name}: not an App Store Connect .p8 (ES256) private key "
                              f"({type(exc).__name__})", source_id=source_id) from None
    return CACHE.put(key, Token(token, iat + 1140)).value


def jwt_expiry(token: str, default: float) -> float:
    """The `exp` of a JWT we were handed (Bluesky's accessJwt), read without verifying: only to know when
    to refresh, never to trust its claims."""
    try:
        exp = jwt.decode(token, options={"verify_signature": False}).get("exp")
        return float(exp) if exp else default
    except (jwt.PyJWTError, TypeError, ValueError):
        return default


def bluesky_session(client: httpx.Client, http: HttpConfig, pds: str, handle: str, password: str, *, now: float,
                    source_id: str) -> Token:
    """An atproto session for `handle` with an app password: `com.atproto.server.createSession` once, then
    `refreshSession` with the refreshJwt when the accessJwt nears its `exp` (createSession is rate-limited
    to 30 per 5 minutes per account, so it is never called per poll). `extra["pds"]` is the account's own
    PDS from the session's DID document, where authenticated calls go."""
    key = cache_key("bsky", pds, handle)
    cached = CACHE.get(key, now)
    if cached is not None:
        return cached
    stale = CACHE.stale(key)
    if stale is not None and stale.refresh and jwt_expiry(stale.refresh, 0) - MARGIN_S > now:
        resp = api.request(client, "POST", f"{stale.extra.get('entryway') or pds}/xrpc/com.atproto.server."
                           "refreshSession", http, now=now, headers={"Authorization": f"Bearer {stale.refresh}"})
        if resp.status == 200:
            return CACHE.put(key, _session(api.check(resp, source_id=source_id, api="Bluesky", now=now), pds, now))
        CACHE.drop(key)                  # ExpiredToken / InvalidToken: a new session below
    resp = api.request(client, "POST", f"{pds}/xrpc/com.atproto.server.createSession", http, now=now,
                       json_body={"identifier": handle, "password": password})
    body = api.check(resp, source_id=source_id, api="Bluesky createSession", now=now, client=client,
                     auth_statuses=(400, 401, 403))
    return CACHE.put(key, _session(body, pds, now))


def forget(token: Token | None) -> None:
    """Drop a token the API refused (revoked, rotated, expired early): the next call fetches a fresh one."""
    if token is not None and token.extra.get("cache_key"):
        CACHE.drop(token.extra["cache_key"])


def expire(key: str) -> None:
    """Mark a cached token as expired but keep its refresh token (Bluesky's ExpiredToken answer)."""
    tok = CACHE.stale(key)
    if tok is not None:
        CACHE.put(key, Token(tok.value, 0.0, tok.refresh, tok.extra))


def _session(body: Any, entryway: str, now: float) -> Token:
    if not isinstance(body, dict) or not isinstance(body.get("accessJwt"), str):
        raise SourceAuthError("Bluesky answered a session without an accessJwt")
    access = body["accessJwt"]
    pds = entryway
    doc = body.get("didDoc")
    for svc in (doc.get("service") or []) if isinstance(doc, dict) else []:
        if isinstance(svc, dict) and str(svc.get("id", "")).endswith("#atproto_pds") \
                and str(svc.get("serviceEndpoint", "")).startswith(("https://", "http://")):
            pds = str(svc["serviceEndpoint"]).rstrip("/")
    return Token(access, jwt_expiry(access, now + 3600), body.get("refreshJwt"),
                 {"pds": pds, "entryway": entryway, "did": body.get("did"), "handle": body.get("handle")})
