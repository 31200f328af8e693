"""`http.deadline` bounds an X page request sent on a kept-alive connection that tweepy's `requests` reuses.

Regression: the guard (core/netguard) learns of a socket at its connect; tweepy's `requests` session keeps its
own urllib3 pool, so the X collector's second page went out on the first page's connection, connected nothing,
and a server that stalled before that page's headers held the poll for `read_timeout` per read (indefinitely
for one that sends a byte per read timeout), not the deadline. The httpx pool had been fixed (core/pooled,
tests/test_reused_connection_deadline.py); urllib3's had not. Keep-alive stays on."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path

import pytest
import requests
import tweepy

from monitor.core.netguard import WATCHDOG
from monitor.core.pooled import guard_session, is_session_guarded
from monitor.sources import SourceState
from monitor.sources.fetch import HttpConfig
from monitor.sources.kinds.twitter import adapt_session
from tests.fakes.harness import collect
from tests.fakes.server import Reply, Request
from tests.fakes.twitter import BEARER, FakeX, Tweet
from tests.test_tls_deadline import cert, trickling_tls_server  # noqa: F401  (cert: the CA fixture)
from tests.timing import Stopwatch

DEADLINE_S, READ_TIMEOUT_S, TRICKLE_S, STALL_S = 1.0, 4.0, 0.2, 6.0


@pytest.fixture
def fake_x(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeX]:
    """A local X API with two pages of matches for a poll that pages (a since_id cursor, page_size 10)."""
    monkeypatch.setenv("TWITTER_BEARER_TOKEN", BEARER)
    with FakeX() as srv:
        srv.add(*[Tweet(i, f"acme post {i}") for i in range(1, 16)])
        yield srv


def _poll(srv: FakeX) -> object:
    return collect("twitter", {"query": "acme -is:retweet", "api_url": srv.api_url, "page_size": 10},
                   SourceState(cursor={"since_id": "0"}), deadline=DEADLINE_S, read_timeout=READ_TIMEOUT_S)


def test_regression_an_x_page_stalled_on_a_reused_connection_is_cut_at_the_deadline(fake_x):
    """Page 1 is answered at once; page 2, on the same connection, trickles its headers a byte every TRICKLE_S
    for STALL_S (no read timeout trips: only the deadline can cut it)."""
    serve = fake_x.handler

    def second_page_trickles(req: Request) -> Reply:
        if len(fake_x.requests) == 2:
            return Reply(delay=STALL_S, head_trickle=TRICKLE_S)
        return serve(req)

    fake_x.handler = second_page_trickles
    with Stopwatch() as sw:
        result = _poll(fake_x)
    first, second = fake_x.requests
    assert "next_token=p1" in second.query
    assert first.peer_port == second.peer_port, "the second page did not reuse the kept-alive connection"
    sw.assert_within(DEADLINE_S, 0.5, "an X page stalled on a reused connection")
    # the poll's deadline cut it (tests/test_twitter_poll_deadline.py): page 1 is kept, the rest is read next time
    assert len(result.mentions) == 10 and "poll cut at the poll deadline" in result.warnings[0]  # type: ignore[attr-defined]


def test_pages_answered_in_time_share_one_kept_alive_connection(fake_x):
    """The bound does not cost keep-alive: both pages of a poll go out on one connection."""
    result = _poll(fake_x)
    assert len(result.mentions) == 15                # type: ignore[attr-defined]
    assert len(fake_x.requests) == 2 and len({r.peer_port for r in fake_x.requests}) == 1


def test_every_adapter_of_tweepys_session_reports_to_the_guard_proxies_included(monkeypatch):
    """Both schemes, and the pools a proxy manager opens (HTTPS_PROXY), use the guarded connection classes."""
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.3:3128")
    client = tweepy.Client(bearer_token=BEARER, wait_on_rate_limit=False)
    assert not is_session_guarded(client.session)
    adapt_session(client.session, "https://api.x.test", HttpConfig(), None, 0.0)
    assert is_session_guarded(client.session)
    adapter = client.session.get_adapter("https://api.x.test/2/tweets")
    manager = adapter.proxy_manager_for("http://127.0.0.3:3128")
    assert is_session_guarded(requests.Session()) is False
    assert all(getattr(cls.ConnectionCls, "guarded", False) for cls in manager.pool_classes_by_scheme.values())


@pytest.fixture
def tls_second_trickles(cert: Path) -> Iterator[str]:  # noqa: F811
    """An https server on 127.0.0.1 that answers the first request on a connection, then trickles the headers
    of the second on that same connection (the X API over TLS, as in production)."""
    with trickling_tls_server(cert, answered=1, path="/2/tweets/search/recent") as url:
        yield url


def test_regression_a_reused_tls_connection_is_cut_at_the_deadline(tls_second_trickles, cert):  # noqa: F811
    """Over TLS the pooled socket is an `ssl.SSLSocket`, which refuses `dup()`: the guard holds its
    descriptor instead, so the cut reaches the connection itself."""
    with requests.Session() as session:
        guard_session(session)
        with WATCHDOG.guard(DEADLINE_S, allow_private=True):
            assert session.get(tls_second_trickles, timeout=READ_TIMEOUT_S, verify=str(cert / "ca.pem")).json() == {}
        with Stopwatch() as sw, WATCHDOG.guard(DEADLINE_S, allow_private=True) as guard, \
                suppress(requests.RequestException):
            session.get(tls_second_trickles, timeout=READ_TIMEOUT_S, verify=str(cert / "ca.pem"))
    assert guard.fired
    sw.assert_within(DEADLINE_S, 0.5, "a request stalled on a reused TLS connection")
