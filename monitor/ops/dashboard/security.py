"""Who may look, who clicked, and that a click came from our own page.

- Access: with `dashboard.token_env` set, every request needs the shared token (a cookie set by /login, or
  `Authorization: Bearer`); with `dashboard.user_header` set, every request must carry that header, which a
  trusted reverse proxy (oauth2-proxy, Authelia…) sets to the signed-in user; both may be combined.
- Actor: the proxy's user when there is one, else `ui:<the user running monitor ui>`; recorded as `ui:<name>`
  in alert events and feedback, beside Slack's `slack:U…` and the CLI's `cli:<user>`.
- CSRF: a random cookie (SameSite=Strict, HttpOnly) echoed in a hidden form field (double submit), and a
  cross-site Origin header refused, on every POST.
- Headers: a Content-Security-Policy without scripts on the dashboard's own pages (defence in depth behind
  the escaping), no framing, no referrer sent to the posts we link to.
"""

from __future__ import annotations

import hmac
import os
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import quote, urlsplit

Scope = MutableMapping[str, Any]
ASGI = Callable[[Scope, Any, Any], Awaitable[None]]
TOKEN_COOKIE = "monitor_ui"
CSRF_COOKIE = "monitor_csrf"
CSP = ("default-src 'none'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")


def cookies(scope: Scope) -> dict[str, str]:
    jar: SimpleCookie = SimpleCookie()
    for k, v in scope.get("headers", []):
        if k == b"cookie":
            try:
                jar.load(v.decode("latin-1"))
            except Exception:  # noqa: BLE001 - a malformed cookie header is no cookie
                continue
    return {k: m.value for k, m in jar.items()}


def header(scope: Scope, name: str) -> str | None:
    want = name.lower().encode()
    for k, v in scope.get("headers", []):
        if k == want:
            return str(v.decode("latin-1"))
    return None


def same(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(str(a).encode(), str(b).encode())


class Access:
    """The ASGI middleware in front of everything (dashboard and /data alike)."""

    def __init__(self, app: ASGI, *, token: str | None, user_header: str | None):
        self.app, self.token, self.user_header = app, token, user_header

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "/")
        if self.user_header and not header(scope, self.user_header):
            await _plain(send, 403, f"This dashboard is reached through the reverse proxy that sets {self.user_header}.")
            return
        if self.token and path not in ("/login", "/healthz") and not self._has_token(scope):
            if scope.get("method") == "GET" and "text/html" in (header(scope, "accept") or ""):
                await _redirect(send, "/login?next=" + quote(path, safe="/"))
            else:
                await _plain(send, 401, "a token is needed: sign in at /login")
            return
        await self.app(scope, receive, send)

    def _has_token(self, scope: Scope) -> bool:
        auth = header(scope, "authorization") or ""
        given = auth[7:] if auth.lower().startswith("bearer ") else cookies(scope).get(TOKEN_COOKIE)
        return same(given, self.token)


def actor(scope: Scope, user_header: str | None) -> str:
    user = header(scope, user_header) if user_header else None
    name = user or os.environ.get("USER") or os.environ.get("LOGNAME") or "dashboard"
    return "ui:" + "".join(ch for ch in name if ch.isprintable())[:80]


def csrf_ok(scope: Scope, form_token: str | None) -> bool:
    """The double-submit token matches, and a browser that names the page's origin names ours."""
    origin = header(scope, "origin")
    if origin and origin != "null":
        host = header(scope, "host") or ""
        if urlsplit(origin).netloc != host:
            return False
    return same(cookies(scope).get(CSRF_COOKIE), form_token)


def new_csrf() -> str:
    return secrets.token_urlsafe(24)


async def _plain(send: Any, status: int, text: str) -> None:
    body = text.encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


async def _redirect(send: Any, location: str) -> None:
    await send({"type": "http.response.start", "status": 303,
                "headers": [(b"location", location.encode()), (b"content-length", b"0")]})
    await send({"type": "http.response.body", "body": b""})


def page_headers() -> dict[str, str]:
    """The headers of every page the dashboard renders: the CSP, no framing, no sniffing, no referrer, no cache."""
    return {"Content-Security-Policy": CSP, "X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}
