"""Safe HTTP fetching for collectors: every request is bounded in time and size, and polite.

httpx's timeouts are per operation (a server trickling one byte every few seconds never trips the read
timeout), so a watchdog shuts the socket at the fetch's deadline. httpx's decoders inflate a whole network
chunk at once (10 KB of double gzip can become 1 GB in one call), so bodies are read raw and inflated here,
64 KB at a time, against a cap on *decoded* bytes. Redirects are followed by hand so each hop can be checked
against the private-address rule. Hosts get a concurrency limit and a minimum gap (`politeness.py`).
"""

from __future__ import annotations

import email.utils
import json
import time
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
from pydantic import Field

from monitor import __version__
from monitor.core.durations import Duration
from monitor.core.errors import (
    BodyTooLarge,
    ConfigError,
    FetchError,
    ParseError,
    RateLimited,
    SourceAuthError,
)
from monitor.core.netguard import WATCHDOG, addresses_of, is_global_ip, origins_of
from monitor.core.pooled import guard_pools, socks_unsupported
from monitor.core.scrub import safe_netloc, scrub_urls
from monitor.core.validation import Strict
from monitor.sources.politeness import HostLimiter

USER_AGENT = f"mention-monitor/{__version__} (self-hosted brand monitoring; +https://github.com/mention-monitor)"
_STEP = 64 * 1024


class HttpConfig(Strict):
    user_agent: str = USER_AGENT
    connect_timeout: Duration = 10.0
    read_timeout: Duration = 20.0
    deadline: Duration = 60.0            # whole fetch, however slowly the server trickles
    max_bytes: int = Field(10 * 1024 * 1024, ge=1024)   # decoded body cap
    max_redirects: int = Field(5, ge=0, le=20)
    allow_private: bool = False          # allow redirects into non-public addresses (private, loopback, CGNAT…)
    per_host_concurrency: int = Field(2, ge=1, le=64)   # requests in flight to one host
    per_host_interval: Duration = 1.0    # minimum gap between two requests to one host


@dataclass
class Response:
    url: str
    status: int
    headers: dict[str, str]
    body: bytes = b""
    elapsed: float = 0.0
    history: list[str] = field(default_factory=list)

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    def json(self, source_id: str | None = None) -> Any:
        """The body as JSON; a ParseError (never a traceback) when it is not."""
        try:
            return json.loads(self.body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ParseError(f"not valid JSON from {_host(self.url)}: {str(exc)[:200]}",
                             source_id=source_id) from None


class PoliteClient(httpx.Client):
    """An httpx.Client that carries the per-host limiter every fetch through it obeys."""

    limiter: HostLimiter


def make_client(cfg: HttpConfig, transport: httpx.BaseTransport | None = None,
                max_connections: int = 50) -> httpx.Client:
    """One pooled client for all collectors; per-request deadlines are enforced in `fetch`, on a reused
    kept-alive connection too (core/pooled).

    A poll holds at most one connection at a time, so `max_connections` is the poll pool's size: a worker
    never waits for a connection another worker holds."""
    timeout = httpx.Timeout(connect=cfg.connect_timeout, read=cfg.read_timeout, write=cfg.read_timeout,
                            pool=cfg.deadline)
    if (problem := socks_unsupported()) is not None:      # httpx's own ImportError is a startup traceback
        raise ConfigError(problem)
    client = PoliteClient(timeout=timeout, follow_redirects=False, transport=transport,
                          headers={"User-Agent": cfg.user_agent, "Accept-Encoding": "gzip, deflate"},
                          limits=httpx.Limits(max_connections=max(50, max_connections),
                                              max_keepalive_connections=max(20, max_connections)))
    client.limiter = HostLimiter(cfg.per_host_concurrency, cfg.per_host_interval)
    return guard_pools(client)


def limiter_of(client: httpx.Client) -> HostLimiter | None:
    return getattr(client, "limiter", None)


def fetch(client: httpx.Client, url: str, cfg: HttpConfig, *, etag: str | None = None,
          last_modified: str | None = None, headers: dict[str, str] | None = None,
          params: dict[str, Any] | None = None, now: float | None = None,
          credentials: bool = False) -> Response:
    """GET `url` with conditional headers; raise FetchError/RateLimited/BodyTooLarge on anything abnormal.

    A 304 returns a Response with no body, so callers skip parsing entirely. `credentials=True` says the
    request carries a token: 401/403 then raise SourceAuthError, which disables the source.
    """
    req_headers = dict(headers or {})
    if etag:
        req_headers["If-None-Match"] = etag
    if last_modified:
        req_headers["If-Modified-Since"] = last_modified
    start = time.monotonic()
    history: list[str] = []
    current = url
    limiter = limiter_of(client)
    trusted = url                     # the configured origin may be internal; anything it redirects to may not
    for _hop in range(cfg.max_redirects + 1):
        host = safe_netloc(current)
        remaining = cfg.deadline - (time.monotonic() - start)
        if remaining <= 0:
            raise FetchError(f"no complete answer from {host} within the fetch deadline")
        if limiter:
            with limiter.slot(host, now, deadline=start + cfg.deadline):
                resp = _one(client, current, cfg, req_headers, params, now, start, limiter, credentials, trusted)
        else:
            resp = _one(client, current, cfg, req_headers, params, now, start, limiter, credentials, trusted)
        if isinstance(resp, Response):
            resp.history = history
            return resp
        history.append(current)
        nxt = urljoin(current, resp)
        check_redirect(nxt, cfg, trusted=trusted)
        if safe_netloc(nxt) != host:        # a token is for the host it was configured for
            req_headers = {k: v for k, v in req_headers.items() if k.lower() != "authorization"}
        current, params = nxt, None
    raise FetchError(f"more than {cfg.max_redirects} redirects starting at {scrub_urls(url)}")


def _one(client: httpx.Client, url: str, cfg: HttpConfig, headers: dict[str, str],
         params: dict[str, Any] | None, now: float | None, start: float, limiter: HostLimiter | None,
         credentials: bool, trusted: str) -> Response | str:
    """One request: a Response, or the Location to follow. The guard bounds the whole exchange in time and
    refuses a connection to a non-public address that is not the configured host's (see core/netguard)."""
    remaining = max(0.1, cfg.deadline - (time.monotonic() - start))
    timeout = httpx.Timeout(connect=min(cfg.connect_timeout, remaining), read=min(cfg.read_timeout, remaining),
                            write=min(cfg.read_timeout, remaining), pool=remaining)
    host = _host(url)
    with WATCHDOG.guard(remaining, trusted=[trusted], allow_private=cfg.allow_private) as guard:
        try:
            with client.stream("GET", url, headers=headers, params=params, timeout=timeout) as resp:
                if resp.is_redirect and "location" in resp.headers:
                    return resp.headers["location"]
                _check_status(resp, now, limiter, credentials)
                body = b"" if resp.status_code == 304 else read_body(resp, cfg.max_bytes, start + cfg.deadline)
                return Response(str(resp.url), resp.status_code, {k.lower(): v for k, v in resp.headers.items()},
                                body, time.monotonic() - start)
        except (httpx.TransportError, httpx.StreamError, OSError) as exc:
            if guard.fired:
                raise FetchError(f"no complete answer from {host} within "
                                 f"{guard.deadline_said(cfg.deadline)}") from None
            if guard.refused:
                raise FetchError(f"refused to connect to {host} ({guard.refused[-1]}): not a public address "
                                 "(set http.allow_private: true if this is intended)") from None
            if isinstance(exc, httpx.TimeoutException):
                raise FetchError(f"timed out ({type(exc).__name__}) fetching {host}") from None
            raise FetchError(f"network error fetching {host}: {exc or type(exc).__name__}") from None


def read_body(resp: httpx.Response, max_bytes: int, deadline: float) -> bytes:
    """The decoded body, stopped as soon as it passes `max_bytes` or the deadline."""
    encodings = [e.strip().lower() for e in resp.headers.get("content-encoding", "").split(",") if e.strip()]
    chunks: list[bytes] = []
    size = 0
    try:
        for chunk in inflate(resp.iter_raw(_STEP), encodings):
            size += len(chunk)
            if size > max_bytes:
                raise BodyTooLarge(f"body larger than {max_bytes:,} bytes (after decompression); stopped reading",
                                   status=resp.status_code)
            chunks.append(chunk)
            if time.monotonic() > deadline:
                raise FetchError(f"no complete answer within the fetch deadline ({size:,} bytes so far)",
                                 status=resp.status_code)
    except zlib.error as exc:
        raise FetchError(f"corrupt compressed body from {_host(str(resp.url))}: {exc}",
                         status=resp.status_code) from None
    return b"".join(chunks)


def inflate(chunks: Iterable[bytes], encodings: list[str]) -> Iterator[bytes]:
    """Undo Content-Encoding layers (last applied, first undone), never more than 64 KB per step."""
    stream: Iterable[bytes] = chunks
    for enc in reversed(encodings):
        if enc == "identity":
            continue
        if enc not in ("gzip", "x-gzip", "deflate"):
            raise FetchError(f"unsupported Content-Encoding {enc!r}")
        stream = _inflate_one(stream, enc)
    return iter(stream)


def _decompressor(enc: str, first: bytes) -> Any:
    if enc == "deflate" and first and (first[0] & 0x0F) != 8:   # "deflate" sent raw, as some servers do
        return zlib.decompressobj(-zlib.MAX_WBITS)
    return zlib.decompressobj(zlib.MAX_WBITS | 32)               # gzip or zlib header, detected


def _inflate_one(chunks: Iterable[bytes], enc: str) -> Iterator[bytes]:
    d = None
    for data in chunks:
        while data:
            if d is None:
                d = _decompressor(enc, data)
            out = d.decompress(data, _STEP)
            data = d.unconsumed_tail
            if out:
                yield out
            if d.eof:                                            # concatenated gzip members
                data = d.unused_data.lstrip(b"\0")
                d = None
    if d is not None:
        tail = d.flush()
        if tail:
            yield tail


def _check_status(resp: httpx.Response, now: float | None, limiter: HostLimiter | None,
                  credentials: bool) -> None:
    code = resp.status_code
    if 200 <= code < 300 or code == 304:
        return
    host = _host(str(resp.url))
    if code in (401, 403) and credentials:
        raise SourceAuthError(f"HTTP {code} from {host}: the credentials were refused")
    if code == 429 or (code == 503 and "retry-after" in resp.headers):
        retry_at = rate_limit_reset(resp.headers, now)
        if limiter:
            limiter.block(host, retry_at)
        raise RateLimited(f"HTTP {code} from {host}" + (f", retry at {_iso(retry_at)}" if retry_at else
                                                         ", no reset time given"), retry_at=retry_at, status=code)
    raise FetchError(f"HTTP {code} from {host}", status=code)


def rate_limit_reset(headers: Any, now: float | None = None) -> float | None:
    """When a rate-limited API says we may come back, as epoch seconds, from whichever header it uses.

    `Retry-After` (seconds or HTTP date), X's `x-rate-limit-reset` (epoch), Reddit's `x-ratelimit-reset`
    (seconds), Mastodon's `X-RateLimit-Reset` (ISO date), Bluesky's `ratelimit-reset` (epoch).
    """
    now = time.time() if now is None else now
    for name in ("retry-after", "x-rate-limit-reset", "x-ratelimit-reset", "ratelimit-reset"):
        value = headers.get(name)
        if value:
            when = _when(str(value).strip(), now)
            if when is not None:
                return when
    return None


def retry_after_to_epoch(value: str | None, now: float | None = None) -> float | None:
    """`Retry-After` is either delta-seconds or an HTTP date (RFC 9110 §10.2.3)."""
    return _when(value.strip(), time.time() if now is None else now) if value else None


def _when(value: str, now: float) -> float | None:
    try:
        number = float(value)
    except ValueError:
        number = None
    if number is not None:
        return number if number > 1e9 else now + max(0.0, number)     # epoch, or seconds from now
    try:
        return email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError):
        pass
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def check_redirect(url: str, cfg: HttpConfig, *, trusted: str = "",
                   schemes: tuple[str, ...] = ("http", "https")) -> None:
    """The one redirect policy of every transport: same family of scheme, and never into a non-public address
    (anything not `is_global`: private, loopback, CGNAT, link-local…) unless it is the configured host's own or
    `http.allow_private` is set. The connect itself is checked again (core/netguard), so DNS rebinding between
    this check and the connection cannot switch the address."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in schemes:
        kind = "non-HTTP" if "http" in schemes else "non-WebSocket"
        raise FetchError(f"redirect to a {kind} URL refused ({parts.scheme or 'no scheme'}): {scrub_urls(url[:200])}")
    if cfg.allow_private:
        return
    host = parts.hostname or ""
    if host and is_private_host(host) and not (trusted and origins_of(url) <= origins_of(trusted)):
        raise FetchError(f"redirect into a private/loopback (non-public) address refused: {host} "
                         "(set http.allow_private: true if this is intended)")


def is_private_host(host: str) -> bool:
    """True when `host` is, or resolves to, any address that is not on the public internet (`is_global`)."""
    return any(not is_global_ip(a) for a in addresses_of(host))


def _iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def _host(url: str) -> str:
    return safe_netloc(url)
