"""`http.deadline` bounds a request sent on a kept-alive connection reused from the pool, not only on a new one.

Regression: the guard (core/netguard) learned of a socket at its connect, or once the response headers had
arrived; a reused connection connects nothing, so a server that answered one request and stalled before the
headers of the next on the same connection held that request for `read_timeout` per read (20 s by default,
indefinitely for a server that sends a byte per read timeout), not the deadline. Keep-alive stays on."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from monitor.core.errors import FetchError
from monitor.core.pooled import is_guarded
from monitor.sources import api
from monitor.sources.fetch import HttpConfig, fetch, make_client
from tests.fakes.server import LocalServer, Reply, Request
from tests.timing import Stopwatch

DEADLINE_S = 1.0
CFG = HttpConfig(allow_private=True, deadline=DEADLINE_S, read_timeout=4.0, per_host_interval=0)
FEED = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'


TRICKLE_S, STALL_S = 0.2, 6.0


@pytest.fixture
def second_stalls() -> Iterator[LocalServer]:
    """Answers the first request at once; on the same connection, trickles the headers of the next one a byte
    every TRICKLE_S for STALL_S (no read timeout trips: only the deadline can cut it)."""
    def answer(req: Request) -> Reply:
        if len(server.requests) == 1:
            return Reply(200, FEED, {"Content-Type": "application/rss+xml"})
        return Reply(delay=STALL_S, head_trickle=TRICKLE_S)

    server = LocalServer(answer)
    with server:
        yield server


def _second_request_is_cut(server: LocalServer, send: Callable[[httpx.Client], object]) -> None:
    with make_client(CFG) as client:
        send(client)
        with Stopwatch() as sw, pytest.raises(FetchError, match="within the fetch deadline"):
            send(client)
    first, second = server.requests
    assert first.peer_port == second.peer_port, "the second request did not reuse the kept-alive connection"
    sw.assert_within(DEADLINE_S, 0.5, "a request stalled on a reused connection")


def test_regression_a_feed_fetch_stalled_on_a_reused_connection_is_cut_at_the_deadline(second_stalls):
    _second_request_is_cut(second_stalls, lambda client: fetch(client, second_stalls.url + "/feed", CFG))


def test_regression_an_api_request_stalled_on_a_reused_connection_is_cut_at_the_deadline(second_stalls):
    _second_request_is_cut(second_stalls, lambda client: api.request(client, "GET", second_stalls.url + "/v1",
                                                                       CFG, now=time.time()))


def test_keep_alive_stays_on_for_answers_within_the_deadline(second_stalls):
    """The fix does not trade politeness for the bound: sequential fetches to one host share one connection."""
    second_stalls.handler = lambda req: Reply(200, FEED, {"Content-Type": "application/rss+xml"})
    with make_client(CFG) as client:
        for _ in range(3):
            fetch(client, second_stalls.url + "/feed", CFG)
    assert len({r.peer_port for r in second_stalls.requests}) == 1


def test_every_pool_of_the_collectors_client_reports_to_the_guard_proxies_included(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.3:3128")
    with make_client(HttpConfig()) as client:
        assert len(client._mounts) >= 1 and is_guarded(client)
