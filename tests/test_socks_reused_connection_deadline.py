"""`http.deadline` bounds a request sent on a kept-alive connection through a SOCKS proxy (requests/tweepy).

Regression (round 23): through `ALL_PROXY=socks5://…` requests opens urllib3's SOCKS pools, which the guarded
adapter left as they were: the first connection was bounded (netguard's connect hook sees the connect to the
proxy), but a request on a reused one connected nothing, so a server that answered one request and then
trickled the headers of the next held it for as long as it trickled. The SOCKS pools now open guarded
connections too (core/pooled). Real PySocks client, a real SOCKS5 proxy on 127.0.0.1 (tests/fakes/socks.py)."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from contextlib import suppress

import pytest
import requests
import tweepy

from monitor.core.errors import ConfigError
from monitor.core.netguard import WATCHDOG
from monitor.core.pooled import guard_session
from monitor.sources.fetch import HttpConfig, make_client
from monitor.sources.kinds.twitter import adapt_session
from tests.fakes.server import LocalServer, Reply, Request
from tests.fakes.socks import FakeSocks5
from tests.fakes.twitter import BEARER
from tests.timing import Stopwatch

DEADLINE_S, READ_TIMEOUT_S, TRICKLE_S, STALL_S = 1.0, 4.0, 0.2, 6.0


@pytest.fixture
def second_trickles() -> Iterator[LocalServer]:
    """Answers the first request at once; the second trickles its headers a byte every TRICKLE_S for STALL_S
    (no read timeout trips: only the deadline can cut it)."""
    def serve(req: Request) -> Reply:
        if len(srv.requests) >= 2:
            return Reply(delay=STALL_S, head_trickle=TRICKLE_S)
        return Reply(200, b"{}", {"Content-Type": "application/json"})

    with LocalServer(serve) as srv:
        yield srv


def test_regression_a_reused_connection_through_socks_is_cut_at_the_deadline(second_trickles):
    with FakeSocks5() as proxy, requests.Session() as session:
        guard_session(session)
        session.proxies = {"http": proxy.url, "https": proxy.url}
        with WATCHDOG.guard(DEADLINE_S, allow_private=True):
            assert session.get(second_trickles.url + "/2/a", timeout=READ_TIMEOUT_S).json() == {}
        with Stopwatch() as sw, WATCHDOG.guard(DEADLINE_S, allow_private=True) as guard, \
                suppress(requests.RequestException):
            session.get(second_trickles.url + "/2/b", timeout=READ_TIMEOUT_S)
        assert proxy.connects == [("127.0.0.1", second_trickles.port)], "the second request did not reuse it"
    assert len(second_trickles.requests) == 2 and guard.fired
    sw.assert_within(DEADLINE_S, 0.5, "a request stalled on a reused connection through SOCKS")


def test_requests_in_time_through_socks_share_one_connection(second_trickles):
    """The bound costs no keep-alive through the proxy either: two requests, one proxied connection."""
    second_trickles.handler = lambda req: Reply(200, b"ok")
    with FakeSocks5() as proxy, requests.Session() as session:
        guard_session(session)
        session.proxies = {"http": proxy.url}
        for path in ("/a", "/b"):
            with WATCHDOG.guard(DEADLINE_S, allow_private=True):
                assert session.get(second_trickles.url + path, timeout=READ_TIMEOUT_S).text == "ok"
        assert len(proxy.connects) == 1


def test_tweepys_session_opens_guarded_socks_pools(monkeypatch):
    monkeypatch.setenv("ALL_PROXY", "socks5://127.0.0.3:1080")
    client = tweepy.Client(bearer_token=BEARER, wait_on_rate_limit=False)
    adapt_session(client.session, "https://api.x.test", HttpConfig(), None, 0.0)
    manager = client.session.get_adapter("https://api.x.test/2/tweets").proxy_manager_for("socks5://127.0.0.3:1080")
    assert all(getattr(cls.ConnectionCls, "guarded", False) for cls in manager.pool_classes_by_scheme.values())


def test_a_socks_proxy_httpx_cannot_use_is_one_clear_line_naming_the_variable(monkeypatch):
    """httpx needs socksio for SOCKS (not installed here): its ImportError was a traceback at startup."""
    if importlib.util.find_spec("socksio") is not None:
        pytest.skip("socksio is installed: httpx speaks SOCKS")
    monkeypatch.setenv("ALL_PROXY", "socks5h://user:secret@127.0.0.3:1080")
    with pytest.raises(ConfigError) as err:
        make_client(HttpConfig())
    assert str(err.value) == ("ALL_PROXY names a socks5h:// proxy, which the collectors' HTTP client (httpx) can "
                              "only use with socksio: pip install 'httpx[socks]' (or unset it)")
