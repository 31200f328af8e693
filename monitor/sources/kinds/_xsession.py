"""tweepy's `requests` session adapted to our limits, for the X collector (kinds/twitter.py).

tweepy hard-codes `https://api.twitter.com` and sets no timeout; what it sends goes through its own `requests`
session. So that session is adapted here, below tweepy: host rewritten to `api_url`, a default timeout, no
redirects, our User-Agent, the per-host limiter, the whole exchange within `http.deadline`, and a cap on the body.
Kept apart from the collector, whose concern is which pages to read (the poll, its cursor): this is how one
request travels, whatever page it asks for.
"""

from __future__ import annotations

from typing import Any

import requests
import tweepy

from monitor.core.errors import BodyTooLarge, FetchError
from monitor.core.netguard import WATCHDOG
from monitor.core.pooled import guard_session
from monitor.core.scrub import safe_netloc
from monitor.sources.fetch import HttpConfig

TWITTER_HOST = "https://api.twitter.com"


def adapt_session(session: requests.Session, api_url: str, http: HttpConfig, limiter: Any, now: float) -> None:
    """Give tweepy's session what tweepy does not: our host, timeouts, limits, User-Agent and body cap, and
    connections that report to the deadline guard when reused (core/pooled: pages share one connection)."""
    guard_session(session)
    original = session.request
    base = api_url.rstrip("/")
    host = safe_netloc(base)
    session.max_redirects = 0

    def request(method: str, url: str, **kw: Any) -> requests.Response:
        if url.startswith(TWITTER_HOST):
            url = base + url[len(TWITTER_HOST):]
        kw.setdefault("timeout", (http.connect_timeout, http.read_timeout))
        kw["allow_redirects"] = False
        kw["stream"] = True
        kw["headers"] = {**(kw.get("headers") or {}), "User-Agent": f"{http.user_agent} tweepy/{tweepy.__version__}"}
        if limiter is None:
            return _bounded(original, method, url, kw, http, host)
        with limiter.slot(host, now):
            return _bounded(original, method, url, kw, http, host)

    session.request = request  # type: ignore[method-assign,assignment]


def _bounded(send: Any, method: str, url: str, kw: dict[str, Any], http: HttpConfig, host: str) -> requests.Response:
    """The whole exchange (connect, headers, body) within `http.deadline`, however the server trickles: the
    core watchdog shuts the socket down at the deadline (regression: a byte every 0.5 s held `run --once` for
    hours, because the deadline was only checked between 64 KB reads)."""
    with WATCHDOG.guard(http.deadline, trusted=[url],
                        allow_private=http.allow_private) as guard:
        try:
            resp = _capped(send(method, url, **kw), http)
            if guard.fired:      # http.client takes a shut connection for the end of the headers: not an answer
                raise OSError("cut at the deadline")
            return resp
        except (requests.RequestException, OSError) as exc:
            if guard.fired:
                raise FetchError(f"no complete answer from the X API ({host}) within "
                                 f"{guard.deadline_said(http.deadline)}") from None
            if guard.refused:
                raise FetchError(f"refused to connect to {host} ({guard.refused[-1]}): not a public address") from None
            raise exc


def _capped(resp: requests.Response, http: HttpConfig) -> requests.Response:
    """Read the streamed body against the size cap, then hand it to tweepy as usual."""
    chunks, size = [], 0
    try:
        for chunk in resp.iter_content(16 * 1024):
            size += len(chunk)
            if size > http.max_bytes:
                raise BodyTooLarge(f"X API body larger than {http.max_bytes:,} bytes; stopped reading")
            chunks.append(chunk)
    finally:
        resp.close()
    resp._content = b"".join(chunks)
    return resp
