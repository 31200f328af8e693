"""Calls to the authenticated JSON APIs (OAuth token endpoints, Google, Apple, Meta, Reddit, Bluesky).

`fetch` is for public pages: it turns every non-2xx status into an exception before reading the body. The
official APIs say *why* in the body, and the why decides what we do: YouTube's 403 `quotaExceeded` is a
rate limit until midnight Pacific, not a refused key; Graph API code 190 is an expired token, code 4/17/32/613
a rate limit; Bluesky's 400 `ExpiredToken` means refresh, not "bad request". So `request` here reads the
(capped) body of every answer with the same limits as `fetch` (deadline watchdog, size cap, per-host
politeness, no redirects), and `check` turns an error answer into the right exception, with the API's own
error code and message (never the request, which may carry a credential).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from monitor.core import logs
from monitor.core.errors import FetchError, ParseError, RateLimited, SourceAuthError
from monitor.sources.fetch import HttpConfig, Response, limiter_of, rate_limit_reset, read_body
from monitor.sources.politeness import WATCHDOG

# Graph API (Facebook, Threads) error codes that mean "slow down", and the ones that mean "token unusable".
GRAPH_RATE_CODES = {4, 17, 32, 613, 80001, 80002, 80004, 80005, 80006, 80008}
GRAPH_AUTH_CODES = {10, 102, 190, 200, 210, 230}


def request(client: httpx.Client, method: str, url: str, http: HttpConfig, *, now: float,
            params: dict[str, Any] | None = None, headers: dict[str, str] | None = None,
            data: dict[str, str] | None = None, json_body: Any = None,
            auth: tuple[str, str] | None = None, trusted: list[str] | None = None) -> Response:
    """One request, any status, body read within the deadline and the size cap. `trusted`: the endpoints that
    may be internal (default: `url` itself, which the caller built from its config; a reply's token grant
    passes what monitor.yaml configures, since a key file's `token_uri` is not). Redirects are not followed:
    an API that redirects a credentialed call is answered as an error (the token must not follow it)."""
    host = urlsplit(url).netloc
    start = time.monotonic()
    timeout = httpx.Timeout(connect=http.connect_timeout, read=http.read_timeout, write=http.read_timeout,
                            pool=http.deadline)
    limiter = limiter_of(client)
    # never followed, whatever the client was built with: a grant's body carries client_secret, a call its token
    kwargs: dict[str, Any] = {"params": params, "headers": headers or {}, "timeout": timeout,
                              "follow_redirects": False}
    if data is not None:
        kwargs["data"] = data
    if json_body is not None:
        kwargs["json"] = json_body
    if auth is not None:
        kwargs["auth"] = auth

    def once() -> Response:
        # what the slot wait left of the deadline (regression: a full `http.deadline` after any wait)
        left = max(0.1, http.deadline - (time.monotonic() - start))
        with WATCHDOG.guard(left, trusted=[url] if trusted is None else trusted,
                            allow_private=http.allow_private) as guard:
            try:
                with client.stream(method, url, **kwargs) as resp:
                    body = read_body(resp, http.max_bytes, start + http.deadline)
                    return Response(str(resp.url), resp.status_code,
                                    {k.lower(): v for k, v in resp.headers.items()}, body, time.monotonic() - start)
            except (httpx.TransportError, httpx.StreamError, OSError) as exc:
                if guard.fired:
                    raise FetchError(f"no complete answer from {host} within "
                                     f"{guard.deadline_said(http.deadline)}") from None
                if isinstance(exc, httpx.TimeoutException):
                    raise FetchError(f"timed out ({type(exc).__name__}) talking to {host}") from None
                raise FetchError(f"network error talking to {host}: {exc or type(exc).__name__}") from None

    if limiter is None:
        return once()
    with limiter.slot(host, now, deadline=start + http.deadline):
        return once()


def error_of(resp: Response) -> tuple[str, str, int | None]:
    """(code, message, numeric code) from the error body shapes the official APIs use; empty when unknown.

    Google `{"error": {"code", "message", "status", "errors": [{"reason"}]}}`; OAuth2 `{"error",
    "error_description"}`; Graph `{"error": {"message", "type", "code"}}`; Apple `{"errors": [{"status",
    "code", "title", "detail"}]}`; XRPC `{"error", "message"}`; Reddit `{"message", "error": 403}`.
    """
    try:
        body = json.loads(resp.body) if resp.body else None
    except (ValueError, UnicodeDecodeError):
        return "", "", None
    if not isinstance(body, dict):
        return "", "", None
    err = body.get("error")
    if isinstance(err, dict):
        reasons = [e.get("reason") for e in err.get("errors") or [] if isinstance(e, dict) and e.get("reason")]
        code = str(reasons[0] if reasons else err.get("status") or err.get("type") or "")
        num = err.get("code") if isinstance(err.get("code"), int) else None
        return code, str(err.get("message") or ""), num
    fault = body.get("fault")                       # Apigee gateways (Trustpilot): {"fault": {"faultstring", "detail"}}
    if isinstance(fault, dict):
        detail: dict[str, Any] = fault["detail"] if isinstance(fault.get("detail"), dict) else {}
        return str(detail.get("errorcode") or ""), str(fault.get("faultstring") or ""), None
    errors = body.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        e = errors[0]
        return str(e.get("code") or ""), str(e.get("detail") or e.get("title") or ""), None
    if isinstance(err, str):
        return err, str(body.get("error_description") or body.get("message") or ""), None
    if "message" in body:
        return str(body.get("error") or ""), str(body["message"]), None
    return "", "", None


def check(resp: Response, *, source_id: str, api: str, now: float, client: httpx.Client | None = None,
          auth_statuses: tuple[int, ...] = (401, 403)) -> Any:
    """The JSON body of a 2xx answer; otherwise the exception its status and error body call for."""
    code, message, num = error_of(resp)
    detail = f"{code}: {message}" if code and message else code or message
    # scrubbed before the cut and before anything keeps it: a token endpoint's error may quote the form it was
    # sent (client_secret, refresh token, password), and this text becomes the source's `last_error`, its
    # disabled reason, `monitor status`, the ops notice and a reply's failure (round 23: only URLs were)
    detail = logs.scrubbed(" ".join(detail.split()), 200)
    status = resp.status
    if 200 <= status < 300:
        try:
            return json.loads(resp.body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ParseError(f"{api} answered something that is not JSON: {str(exc)[:200]}",
                             source_id=source_id) from None
    host = urlsplit(resp.url).netloc
    if status == 429 or code in ("quotaExceeded", "rateLimitExceeded", "userRateLimitExceeded",
                                 "RateLimitExceeded", "RATE_LIMIT_EXCEEDED") or num in GRAPH_RATE_CODES:
        retry_at = rate_limit_reset(resp.headers, now)
        if retry_at is None and code == "quotaExceeded":
            retry_at = _next_pacific_midnight(now)          # YouTube quotas reset at midnight Pacific time
        limiter = limiter_of(client) if client is not None else None
        if limiter is not None:
            limiter.block(host, retry_at)
        raise RateLimited(f"{api} rate limit (HTTP {status}" + (f", {detail})" if detail else ")"),
                          retry_at=retry_at, source_id=source_id, status=status)
    if status in auth_statuses or num in GRAPH_AUTH_CODES:
        raise SourceAuthError(f"{api} refused the credentials: HTTP {status}" + (f" {detail}" if detail else ""),
                              source_id=source_id)
    if 300 <= status < 400:
        where = resp.headers.get("location")
        raise FetchError(f"{api} answered a redirect (HTTP {status})"
                         + (f" to {logs.scrubbed(where, 200)}" if where else "")
                         + " to a credentialed call; not followed (configure the final URL)",
                         source_id=source_id, status=status)
    raise FetchError(f"{api} HTTP {status}" + (f": {detail}" if detail else f" from {host}"),
                     source_id=source_id, status=status)


def _next_pacific_midnight(now: float) -> float:
    """YouTube Data API quotas reset at midnight America/Los_Angeles (UTC-8, or UTC-7 in summer: take -7,
    an hour early at worst, and the next poll simply meets the 403 again)."""
    local = now - 7 * 3600
    return now + (86400 - local % 86400)


def get_json(collector: Any, url: str, *, api_name: str, params: dict[str, Any] | None = None,
             headers: dict[str, str] | None = None, token: Callable[[], str] | None = None,
             drop: Callable[[], None] | None = None, scheme: str = "Bearer",
             auth_statuses: tuple[int, ...] = (401, 403)) -> tuple[Any, Response]:
    """GET a JSON API as `collector`, with `token()` as the bearer when given. A 401 with a cached token
    drops it (`drop`) and asks once more with a fresh one: an early-expired or rotated token must not
    disable the source. Returns the parsed body and the response (for rate headers and paging)."""
    now = collector.clock.now()
    resp: Response | None = None
    for attempt in (1, 2):
        hdrs = {"Accept": "application/json", **(headers or {})}
        if token is not None:
            hdrs["Authorization"] = f"{scheme} {token()}"
        resp = request(collector.client, "GET", url, collector.http_config, now=now, params=params, headers=hdrs)
        if resp.status == 401 and attempt == 1 and token is not None and drop is not None:
            drop()
            continue
        break
    assert resp is not None
    body = check(resp, source_id=collector.options.id, api=api_name, now=now, client=collector.client,
                 auth_statuses=auth_statuses)
    return body, resp


def parse_time(value: Any) -> float | None:
    """Epoch seconds from the timestamp shapes the APIs use: ISO 8601 (`Z`, `+00:00`, `+0000`, nanoseconds),
    or Google's `{"seconds": "...", "nanos": ...}`."""
    if isinstance(value, dict) and "seconds" in value:
        try:
            return float(value["seconds"])
        except (TypeError, ValueError):
            return None
    if not isinstance(value, str) or not value:
        return None
    text = re.sub(r"(\.\d{6})\d+", r"\1", value.strip()).replace("Z", "+00:00")
    try:
        d = datetime.fromisoformat(text)
    except ValueError:
        return None
    return (d if d.tzinfo else d.replace(tzinfo=UTC)).timestamp()


def same_host(next_url: str, base: str) -> bool:
    """A `next` link is followed only to the API's own host: a credential must not go anywhere else."""
    return urlsplit(next_url).netloc == urlsplit(base).netloc and next_url.startswith(("https://", "http://"))
