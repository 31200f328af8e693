"""One attempt to post a reply or open (or close) a ticket: bounded by `http.deadline`, and the claim covering it.

Why: a claimed row is not claimed again until its claim lapses, so the claim must outlast anything the attempt
can still send, or a second replica (or the next pass after a crash) posts the reply twice; and it should not
outlast it by much, or a reply left by a dead process waits for nothing. Through round 21 the claim was a
constant 90 s, unrelated to anything that bounded an attempt: the respond client's per-operation timeout
(20 s a read, so a platform trickling its answer never tripped it; an attempt makes up to two requests, Bluesky's
session and post, Jira's search and create) and tweepy's X client, which has no timeout at all.

Now every socket an attempt opens, from httpx or tweepy, is shut at `http.deadline` after the claim
(`core.netguard`'s watchdog, as fetches are), and the claim is that deadline plus CLAIM_MARGIN_S for the
database work around it (reading the row before the first request, marking it posted after the last answer).
Both follow `http.deadline`: a deployment that gives slow servers longer gets longer claims, one that cuts
them sooner gets a dead process's rows back sooner. The stop bound (`daemon.drain_timeout`) does not enter: a
stop that outlasts it ends the process, whose claim lapses like a crash's.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import httpx

from monitor.core import logs
from monitor.core.errors import MonitorError
from monitor.core.netguard import WATCHDOG, Guard
from monitor.sources.fetch import HttpConfig

#: Database work of an attempt outside its requests (the row read before, the mark after), on a loaded
#: PostgreSQL; also the watchdog's and the clocks' slack.
CLAIM_MARGIN_S = 30.0
#: The redirects a write follows: they keep the method and the body (RFC 9110 §15.4.8-9). 301, 302 and 303 turn
#: a POST into a GET in every client (httpx, requests, browsers): the reply or ticket would never be made.
KEEP_METHOD = (307, 308)
#: The headers a request may take to another origin: none of them is a credential or a signature.
#: `requests` (tweepy's X poster) adds its transport headers to every request: none of them a credential either.
PLAIN_HEADERS = frozenset({"content-type", "accept", "user-agent", "x-monitor-delivery", "idempotency-key",
                           "accept-encoding", "connection", "content-length"})


class ReplyRefused(MonitorError):
    """The platform said no (4xx other than 429), or a redirect not followed: retrying will not help."""


class ReplyTransient(MonitorError):
    """429, 5xx or the network: try again later (`retry_after` seconds when the platform said)."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


def claim_lease(http: HttpConfig) -> float:
    """How long a claimed reply or ticket is not claimed again: longer than one attempt can take."""
    return http.deadline + CLAIM_MARGIN_S


def respond_client(http: HttpConfig) -> httpx.Client:
    """The responders' client: `http`'s per-operation timeouts, and no kept-alive connection, so that every
    request connects inside its attempt's guard (a pooled socket from an earlier attempt would not be shut)."""
    timeout = httpx.Timeout(connect=http.connect_timeout, read=http.read_timeout, write=http.read_timeout,
                            pool=http.deadline)
    return httpx.Client(timeout=timeout, follow_redirects=False, limits=httpx.Limits(max_keepalive_connections=0))


@contextmanager
def bounded(http: HttpConfig, trusted: Iterable[str] = ()) -> Iterator[Guard]:
    """Everything this thread connects inside is shut down `http.deadline` after entering (the client then
    fails with its own network error: see `cut_short`), under the collectors' address policy: the endpoints
    ops configured (`trusted`) may be internal; any other host (a Mastodon instance named only by a stored
    mention, a redirect) must be a public address unless `http.allow_private` is set. Until round 22 this
    allowed every address: a mention naming an internal host got an authenticated request sent there (SSRF).
    A request that arms a guard of its own inside (a token grant through `sources.api`) is bounded by this
    deadline too: netguard cuts a nested guard at the earlier of the two deadlines."""
    with WATCHDOG.guard(http.deadline, trusted=[u for u in trusted if u], allow_private=http.allow_private) as guard:
        yield guard


def refusal(guard: Guard, where: str) -> str | None:
    """The address policy's refusal as the row's permanent error (an internal address will not become public,
    so it is not retried), or None when nothing was refused. `where`: the file that configures the endpoints."""
    if not guard.last_refused:     # none, or the client went on to an allowed address (a dual-stack host's other)
        return None
    return (f"refused to connect to {guard.refused[-1]}: not a public address and not an endpoint configured in "
            f"{where} (set http.allow_private: true if this is intended)")


def cut_short(guard: Guard, http: HttpConfig, error: str) -> str:
    """The error to record: said as the deadline when the watchdog cut the attempt, else as the client said it."""
    return f"no complete answer within http.deadline ({http.deadline:g}s)" if guard.fired else error


def send(client: httpx.Client, http: HttpConfig, method: str, url: str, platform: str, *,
         secret_body: bool = False, **kwargs: Any) -> httpx.Response:
    """One request of an attempt, redirects judged as mature clients of write APIs do. 307/308 are followed with
    the same method and body, up to `http.max_redirects`, under the attempt's address policy (a redirect into
    the internal network is refused like any unconfigured host). 301/302/303 to anything but a GET, and any
    redirect past the limit, fail with the Location named: recorded as done, they were a silent loss (round 22:
    the client does not follow, and a 3xx was taken for success). See `crossing` for another origin."""
    headers = dict(kwargs.pop("headers", None) or {})
    first = httpx.URL(url)
    for hop in range(http.max_redirects + 1):
        try:
            resp = client.request(method, url, headers=headers, **kwargs)
        except httpx.HTTPError as exc:
            raise ReplyTransient(f"{platform} unreachable: {type(exc).__name__}") from exc
        if not resp.is_redirect:
            return resp
        target = resp.url.join(resp.headers["Location"])
        judge(platform, method, resp.status_code, first, target, headers, secret_body)
        if hop == http.max_redirects:
            raise ReplyRefused(f"{said_redirect(platform, method, resp.status_code, target)}: not followed (more"
                               f" than http.max_redirects ({http.max_redirects}))")
        url = str(target)
        kwargs.pop("params", None)          # the Location carries its own query
    raise AssertionError("unreachable")  # pragma: no cover


def judge(platform: str, method: str, status: int, first: httpx.URL, target: httpx.URL,
          headers: Mapping[str, str], secret_body: bool = False) -> None:
    """The one redirect policy of every write, whichever client sends it: `send` for httpx, and a `requests`
    response hook for tweepy's X poster (`posters.judged_redirect`: requests follows 307/308 itself and
    strips only `Authorization` across origins, so until round 23 the X reply's POST went on to another
    origin with the customer's text). Raises ReplyRefused, the Location named (scrubbed), when `status` to
    `target` must not be followed from `first` (the request's origin) by `method` carrying `headers`."""
    said = said_redirect(platform, method, status, target)
    if method not in ("GET", "HEAD") and status not in KEEP_METHOD:
        raise ReplyRefused(f"{said}: not followed (it would be re-sent as GET and nothing made); "
                           "configure the final URL")
    if target.scheme not in ("http", "https"):
        raise ReplyRefused(f"{said}: not followed (not http(s))")
    if (target.scheme, target.host, target.port) != (first.scheme, first.host, first.port) and (
            carried := crossing(headers, secret_body)):
        raise ReplyRefused(f"{said}: not followed (another origin, and the request carries {carried}); "
                           "configure the final URL")


def said_redirect(platform: str, method: str, status: int, target: httpx.URL) -> str:
    return f"{platform} answered HTTP {status} redirecting the {method} to {logs.scrubbed(str(target), 200)}"


def crossing(headers: Mapping[str, str], secret_body: bool) -> str | None:
    """What the request carries that must not reach an origin nobody configured (said by name, never by value),
    or None when it may follow a 307/308 there as it is: only `PLAIN_HEADERS` and a body with no credential.

    Why refuse rather than strip, as httpx (`_redirect_headers`) and requests (`rebuild_auth`/
    `should_strip_auth`) do: they strip the one header they know is a credential, `Authorization`. Ours carry
    others: a webhook's `X-Monitor-Signature` (no secret, but a valid signed request the new origin can replay
    to the configured endpoint; through round 22 it went along), and whatever a future header names an API key
    by (its name does not say so: hence an allow-list, not a deny-list). And stripped, the write can only fail
    there (401) or be accepted unauthenticated by a service nobody chose, with the customer's text. Failing at
    the Location, named, tells ops what to configure instead."""
    carried = [k for k in headers if k.lower() not in PLAIN_HEADERS]
    if secret_body:
        carried.append("a credential in its body")
    return ", ".join(carried) or None
