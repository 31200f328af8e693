"""A guard's deadline bounds everything inside it, including requests made under guards nested in it.

Regression (round 22): when an outer guard's deadline passed, core/netguard shut only the sockets attached to
the outer guard itself, not those a request had connected under an inner guard opened inside it. A reply
attempt (`respond.attempt.bounded`, `http.deadline`) wraps a token grant (`sources.api.request`) that arms its
own guard with its own deadline, so a token endpoint trickling its answer held the attempt for the grant's
deadline instead of the attempt's. Now an inner guard is due at the earlier of the two, and an outer guard
that fires fires the guards inside it. Real clients (httpx, a bare socket) against a local server that
trickles its headers, so no read timeout trips and only a deadline can end the request.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import suppress

import httpx
import pytest

from monitor.core.netguard import WATCHDOG
from monitor.core.pooled import guard_pools
from tests.fakes.server import LocalServer, Reply
from tests.timing import Stopwatch

TRICKLE_S, STALL_S = 0.2, 6.0


@pytest.fixture
def trickling() -> Iterator[LocalServer]:
    """The status line, then a header byte every TRICKLE_S for STALL_S: never done, never idle long enough for
    a read timeout."""
    with LocalServer(lambda req: Reply(delay=STALL_S, head_trickle=TRICKLE_S)) as server:
        yield server


def _client() -> httpx.Client:
    return guard_pools(httpx.Client(timeout=httpx.Timeout(4.0)))


def test_regression_an_inner_guard_s_longer_deadline_is_cut_at_the_outer_deadline(trickling):
    """Outer 1 s, inner 10 s (a token grant inside a reply attempt): the request ends at ~1 s, and both
    blocks see the cut as the deadline (before: it ran the server's 6 s trickle to its end)."""
    with _client() as client, Stopwatch() as sw, WATCHDOG.guard(1.0, allow_private=True) as outer:
        with WATCHDOG.guard(10.0, allow_private=True) as inner, pytest.raises(httpx.TransportError):
            client.get(trickling.url + "/token")
    sw.assert_within(1.0, 0.5, "a request under a 10 s guard nested in a 1 s guard")
    assert outer.fired and inner.fired and not inner.cancelled


def test_regression_the_outer_deadline_reaches_every_level_and_a_bare_socket(trickling):
    """Three levels (1 s, 10 s, 10 s) and a socket read with no client in between: the innermost read is
    woken at the outermost deadline."""
    with Stopwatch() as sw, WATCHDOG.guard(1.0, allow_private=True) as outer:
        with WATCHDOG.guard(10.0, allow_private=True) as middle, WATCHDOG.guard(10.0, allow_private=True) as inner:
            with socket.create_connection(("127.0.0.1", trickling.port), timeout=4) as sock, suppress(OSError):
                sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
                while sock.recv(1024):
                    pass
    sw.assert_within(1.0, 0.5, "a socket read three guards deep under a 1 s outer guard")
    assert outer.fired and middle.fired and inner.fired


def test_a_guard_opened_after_the_outer_deadline_passed_is_fired_at_once(trickling):
    """A second request of the attempt made after its deadline is not given the inner guard's own time."""
    with _client() as client, WATCHDOG.guard(0.3, allow_private=True) as outer:
        while not outer.fired:
            threading.Event().wait(0.05)
        with Stopwatch() as sw, WATCHDOG.guard(10.0, allow_private=True) as late, \
                pytest.raises(httpx.TransportError):
            client.get(trickling.url + "/second")
    sw.assert_within(0.0, 0.5, "a request opened under an outer guard that had already fired")
    assert late.fired


def test_an_inner_guard_s_shorter_deadline_still_cuts_at_its_own(trickling):
    """The converse: outer 5 s, inner 1 s: cut at 1 s, seen by the inner block only (the outer block's
    deadline has not passed; its code may go on, e.g. to report the grant's failure)."""
    with _client() as client, WATCHDOG.guard(5.0, allow_private=True) as outer:
        with Stopwatch() as sw, WATCHDOG.guard(1.0, allow_private=True) as inner, \
                pytest.raises(httpx.TransportError):
            client.get(trickling.url + "/token")
        sw.assert_within(1.0, 0.5, "a request under a 1 s guard nested in a 5 s guard")
        assert inner.fired and not outer.fired


def test_a_stop_cancels_the_requests_of_nested_guards(trickling):
    """A daemon stop (`cancel()` from another thread) reaches a request two guards down, said as a stop:
    `cancelled`, not `fired`."""
    with _client() as client, WATCHDOG.guard(10.0, allow_private=True) as outer:
        timer = threading.Timer(0.5, outer.cancel)
        timer.start()
        with Stopwatch() as sw, WATCHDOG.guard(10.0, allow_private=True) as middle, \
                WATCHDOG.guard(10.0, allow_private=True) as inner, pytest.raises(httpx.TransportError):
            client.get(trickling.url + "/token")
        timer.join()
    sw.assert_within(0.5, 0.5, "a nested request when the outer block is stopped")
    assert middle.cancelled and inner.cancelled and not (outer.fired or middle.fired or inner.fired)


def test_an_inner_refusal_is_seen_by_the_outer_block():
    """What the reply attempt reports from (`attempt.refusal`): unchanged by the nesting of deadlines."""
    with WATCHDOG.guard(1.0) as outer:
        with WATCHDOG.guard(10.0) as inner, pytest.raises(ConnectionRefusedError, match="not a public address"):
            socket.create_connection(("127.0.0.2", 9), timeout=1)
    assert inner.refused == outer.refused == ["127.0.0.2"] and outer.last_refused and not outer.fired


@pytest.mark.parametrize("via", ["fetch", "api.request"])
def test_regression_a_fetch_cut_by_an_enclosing_guard_names_that_deadline(trickling, via):
    """A fetch with its own 10 s deadline inside an enclosing 1 s guard, cut at 1 s, says 1 s (before: "within
    the fetch deadline (10s)", its own, in source health and logs, though the cut came at 1 s)."""
    from monitor.core.errors import FetchError
    from monitor.sources.api import request
    from monitor.sources.fetch import HttpConfig, fetch, make_client

    cfg = HttpConfig(allow_private=True, deadline=10.0, read_timeout=4.0, per_host_interval=0)
    with make_client(cfg) as client, WATCHDOG.guard(1.0, allow_private=True), \
            pytest.raises(FetchError) as err:
        if via == "fetch":
            fetch(client, trickling.url + "/feed", cfg)
        else:
            request(client, "GET", trickling.url + "/token", cfg, now=0.0)
    assert "within an enclosing deadline (1s)" in str(err.value) and "10s" not in str(err.value)


def test_a_fetch_cut_by_its_own_deadline_still_names_it(trickling):
    """The converse: an enclosing 10 s guard, the fetch's own 1 s deadline cuts: "the fetch deadline (1s)",
    the whole fetch's deadline, not the remainder its hop's guard was armed with."""
    from monitor.core.errors import FetchError
    from monitor.sources.fetch import HttpConfig, fetch, make_client

    cfg = HttpConfig(allow_private=True, deadline=1.0, read_timeout=4.0, per_host_interval=0)
    with make_client(cfg) as client, WATCHDOG.guard(10.0, allow_private=True), \
            pytest.raises(FetchError, match=r"within the fetch deadline \(1s\)"):
        fetch(client, trickling.url + "/feed", cfg)
