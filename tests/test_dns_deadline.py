"""`http.deadline` bounds a DNS lookup too (core/dnsguard), for every client, with one resolution per connect.

Regression (round 23): `getaddrinfo` blocks in C, out of reach of the watchdog's socket shutdown, so a request
to a name whose resolver answered slowly waited for the resolver (tens of seconds by resolv.conf's timeouts;
an NSS module, indefinitely), not the deadline. The fake resolver here stands where the system's is: it is
what `socket.getaddrinfo` calls, and it resolves the test's names to the local server on 127.0.0.1."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
import requests

from monitor.core import dnsguard
from monitor.core.errors import FetchError
from monitor.core.netguard import WATCHDOG
from monitor.sources.fetch import HttpConfig, fetch, make_client
from tests.fakes.server import LocalServer, Reply
from tests.timing import Stopwatch

DEADLINE_S, RESOLVER_S = 1.0, 5.0
CFG = HttpConfig(allow_private=True, deadline=DEADLINE_S, per_host_interval=0)


class SlowResolver:
    """`socket.getaddrinfo` for names ending in `.test`: 127.0.0.1 after `delay` seconds; the rest as usual."""

    made: list[SlowResolver] = []

    def __init__(self, real, delay: float) -> None:
        self.real, self.delay, self.asked = real, delay, []
        self.done = threading.Event()       # set at the test's end: its abandoned lookups return then, not later
        SlowResolver.made.append(self)

    def __call__(self, host, port, family=0, type=0, proto=0, flags=0):
        if not str(host).endswith(".test"):
            return self.real(host, port, family, type, proto, flags)
        self.asked.append(host)
        self.done.wait(self.delay)
        return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", ("127.0.0.1", port or 0))]


@pytest.fixture(autouse=True)
def _no_lookup_outlives_its_test() -> Iterator[None]:
    """The lookups a test gave up on end with it: left sleeping in their threads, they counted against
    `dnsguard.MAX_ABANDONED` in the next file's tests (test_dns_thread_cap failed after this file, round 23)."""
    yield
    while SlowResolver.made:
        SlowResolver.made.pop().done.set()
    end = time.monotonic() + 10
    while dnsguard.abandoned() and time.monotonic() < end:
        time.sleep(0.02)


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with LocalServer(lambda req: Reply(200, b"<rss/>")) as srv:
        yield srv


def _resolver(monkeypatch: pytest.MonkeyPatch, delay: float) -> SlowResolver:
    resolver = SlowResolver(socket.getaddrinfo, delay)
    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    return resolver


def test_regression_a_fetch_whose_dns_lookup_hangs_ends_at_the_deadline(monkeypatch, server):
    resolver = _resolver(monkeypatch, RESOLVER_S)
    with make_client(CFG) as client, Stopwatch() as sw, \
            pytest.raises(FetchError, match=r"no complete answer from slow\.test:\d+ within the fetch deadline"):
        fetch(client, f"http://slow.test:{server.port}/feed", CFG)
    sw.assert_within(DEADLINE_S, 0.5, "a fetch whose DNS lookup hangs")
    assert resolver.asked == ["slow.test"] and server.requests == []


def test_regression_a_requests_call_whose_dns_lookup_hangs_ends_at_the_deadline(monkeypatch, server):
    """tweepy's and slack_sdk's stacks (urllib3, http.client) resolve through the same call."""
    _resolver(monkeypatch, RESOLVER_S)
    with Stopwatch() as sw, WATCHDOG.guard(DEADLINE_S, allow_private=True) as guard, \
            pytest.raises(requests.ConnectionError):
        requests.get(f"http://slow.test:{server.port}/", timeout=30)
    assert guard.fired
    sw.assert_within(DEADLINE_S, 0.5, "a requests call whose DNS lookup hangs")


def test_a_lookup_in_time_is_resolved_once_and_the_host_name_is_kept(monkeypatch, server):
    """One resolution per connect (the address connected to is the one the connect hook checks: nothing
    resolved twice to race), and the request still names its host (Host header; SNI over TLS)."""
    resolver = _resolver(monkeypatch, 0.05)
    with make_client(CFG) as client:
        assert fetch(client, f"http://quick.test:{server.port}/feed", CFG).body == b"<rss/>"
    assert resolver.asked == ["quick.test"]
    assert server.requests[0].headers["host"] == f"quick.test:{server.port}"


def test_a_stop_ends_a_guarded_dns_lookup_at_once(monkeypatch, server):
    _resolver(monkeypatch, RESOLVER_S)
    with WATCHDOG.guard(30.0) as guard:
        threading.Timer(0.3, guard.cancel).start()
        with Stopwatch() as sw, pytest.raises(socket.gaierror, match="DNS lookup of slow.test cut stopping"):
            socket.create_connection(("slow.test", server.port), timeout=30)
    sw.assert_within(0.3, 0.5, "a stop during a DNS lookup")


def test_outside_a_guard_and_for_literal_addresses_the_lookup_is_the_plain_call(monkeypatch):
    calls: list[str] = []
    real = socket.getaddrinfo
    with WATCHDOG.guard(5.0):                 # installs the bound over the current resolver
        pass

    def spy(*args, **kw):
        calls.append(threading.current_thread().name)
        return real(*args, **kw)

    wrapped = socket.getaddrinfo
    monkeypatch.setattr(socket, "getaddrinfo", spy)
    with WATCHDOG.guard(5.0):
        socket.getaddrinfo("127.0.0.1", 80)   # a literal: no worker thread
        socket.getaddrinfo("localhost", 80)   # a name: resolved in a worker
    socket.getaddrinfo("localhost", 80)       # no guard: on this thread
    me = threading.current_thread().name
    assert calls == [me, "dns-lookup", me]
    assert getattr(wrapped, "guarded", False)
