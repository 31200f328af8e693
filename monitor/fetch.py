"""Safe HTTP fetching for collectors: every request is bounded in time and size, and polite.

httpx's timeouts are per operation (a server trickling one byte every few seconds never trips the read
timeout), and `max_bytes` must count *decoded* bytes (a 10 KB gzip can expand to 1 GB). So bodies are
streamed through `iter_bytes()` (decoded) against both a byte cap and a wall-clock deadline. Redirects are
followed by hand so each hop can be checked against the private-address rule.
"""

from __future__ import annotations

import email.utils
import ipaddress
import socket
import time
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import httpx
from pydantic import Field

from . import __version__
from .durations import Duration
from .errors import BodyTooLarge, FetchError, RateLimited
from .validation import Strict

USER_AGENT = f"mention-monitor/{__version__} (self-hosted brand monitoring; +https://github.com/mention-monitor)"


class HttpConfig(Strict):
    user_agent: str = USER_AGENT
    connect_timeout: Duration = 10.0
    read_timeout: Duration = 20.0
    deadline: Duration = 60.0            # whole fetch, however slowly the server trickles
    max_bytes: int = Field(10 * 1024 * 1024, ge=1024)   # decoded body cap
    max_redirects: int = Field(5, ge=0, le=20)
    allow_private: bool = False          # allow redirects into private/loopback addresses


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


def make_client(cfg: HttpConfig, transport: httpx.BaseTransport | None = None) -> httpx.Client:
    """One pooled client for all collectors; per-request deadlines are enforced in `fetch`."""
    timeout = httpx.Timeout(connect=cfg.connect_timeout, read=cfg.read_timeout, write=cfg.read_timeout,
                            pool=cfg.connect_timeout)
    return httpx.Client(timeout=timeout, follow_redirects=False, transport=transport,
                        headers={"User-Agent": cfg.user_agent, "Accept-Encoding": "gzip, deflate"},
                        limits=httpx.Limits(max_connections=50, max_keepalive_connections=20))


def fetch(client: httpx.Client, url: str, cfg: HttpConfig, *, etag: str | None = None,
          last_modified: str | None = None, headers: dict[str, str] | None = None,
          params: dict[str, str] | None = None, now: float | None = None) -> Response:
    """GET `url` with conditional headers; raise FetchError/RateLimited/BodyTooLarge on anything abnormal.

    A 304 returns a Response with no body, so callers skip parsing entirely.
    """
    req_headers = dict(headers or {})
    if etag:
        req_headers["If-None-Match"] = etag
    if last_modified:
        req_headers["If-Modified-Since"] = last_modified
    start = time.monotonic()
    deadline = start + cfg.deadline
    history: list[str] = []
    current = url
    for _hop in range(cfg.max_redirects + 1):
        try:
            with client.stream("GET", current, headers=req_headers, params=params) as resp:
                if resp.is_redirect and "location" in resp.headers:
                    history.append(current)
                    nxt = urljoin(current, resp.headers["location"])
                    _check_redirect(nxt, cfg)
                    current, params = nxt, None
                    continue
                _check_status(resp, now)
                body = b"" if resp.status_code == 304 else _read_capped(resp, cfg.max_bytes, deadline)
                return Response(str(resp.url), resp.status_code, {k.lower(): v for k, v in resp.headers.items()},
                                body, time.monotonic() - start, history)
        except httpx.TimeoutException as exc:
            raise FetchError(f"timed out ({type(exc).__name__}) fetching {_host(current)}") from None
        except httpx.TransportError as exc:
            raise FetchError(f"network error fetching {_host(current)}: {exc or type(exc).__name__}") from None
        except httpx.DecodingError as exc:
            raise FetchError(f"cannot decode the body from {_host(current)}: {exc}") from None
    raise FetchError(f"more than {cfg.max_redirects} redirects starting at {url}")


def _read_capped(resp: httpx.Response, max_bytes: int, deadline: float) -> bytes:
    chunks: list[bytes] = []
    size = 0
    for chunk in resp.iter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise BodyTooLarge(f"body larger than {max_bytes:,} bytes (after decompression); stopped reading",
                               status=resp.status_code)
        chunks.append(chunk)
        if time.monotonic() > deadline:
            raise FetchError(f"no complete answer within the fetch deadline ({size:,} bytes so far)",
                             status=resp.status_code)
    return b"".join(chunks)


def _check_status(resp: httpx.Response, now: float | None) -> None:
    code = resp.status_code
    if code in (200, 203, 304) or 200 <= code < 300:
        return
    if code in (429, 503) and ("retry-after" in resp.headers or code == 429):
        retry_at = retry_after_to_epoch(resp.headers.get("retry-after"), now)
        raise RateLimited(f"HTTP {code} from {_host(str(resp.url))}"
                          + (f", retry after {resp.headers['retry-after']}" if retry_at else ""),
                          retry_at=retry_at, status=code)
    raise FetchError(f"HTTP {code} from {_host(str(resp.url))}", status=code)


def retry_after_to_epoch(value: str | None, now: float | None = None) -> float | None:
    """`Retry-After` is either delta-seconds or an HTTP date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    now = time.time() if now is None else now
    value = value.strip()
    if value.isdigit():
        return now + int(value)
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return parsed.timestamp()


def _check_redirect(url: str, cfg: HttpConfig) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise FetchError(f"redirect to a non-HTTP URL refused: {url[:200]}")
    if cfg.allow_private:
        return
    host = parts.hostname or ""
    if is_private_host(host):
        raise FetchError(f"redirect into a private/loopback address refused: {host} "
                         "(set http.allow_private: true if this is intended)")


def is_private_host(host: str) -> bool:
    """True when `host` is, or resolves to, a loopback, private, link-local or reserved address."""
    try:
        addrs = [ipaddress.ip_address(host)]
    except ValueError:
        try:
            infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
        except OSError:
            return False   # unresolvable: the request itself will fail with a clear error
        addrs = [ipaddress.ip_address(i[4][0]) for i in infos]
    return any(a.is_private or a.is_loopback or a.is_link_local or a.is_reserved or a.is_multicast
               or a.is_unspecified for a in addrs)


def _host(url: str) -> str:
    return urlsplit(url).netloc or url[:100]
