"""Lookups given up on at the deadline are capped: under a dead resolver, new ones fail fast, said once.

Regression (round 23): a guarded DNS lookup that the request stopped waiting for kept its worker thread until
the C call returned, so under a dead resolver every poll left one more thread stuck (an NSS module that never
answers: without bound). At `dnsguard.MAX_ABANDONED` such threads, a guarded lookup now fails at once without
starting a thread; the log says it once per episode, and again when the resolver returns."""

from __future__ import annotations

import logging
import socket
import threading
import time

import pytest

from monitor.core import dnsguard
from monitor.core.netguard import WATCHDOG
from tests.timing import Stopwatch

CAP, GUARD_S = 3, 0.2


class DeadResolver:
    """`socket.getaddrinfo` for names ending in `.test`: blocks until `revive()`, then 127.0.0.1."""

    def __init__(self, real) -> None:
        self.real, self.asked, self.alive = real, [], threading.Event()

    def __call__(self, host, port, family=0, type=0, proto=0, flags=0):
        if not str(host).endswith(".test"):
            return self.real(host, port, family, type, proto, flags)
        self.asked.append(host)
        self.alive.wait(30)
        return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", ("127.0.0.1", port or 0))]

    def revive(self) -> None:
        self.alive.set()


@pytest.fixture(autouse=True)
def _no_earlier_lookup_is_still_abandoned() -> None:
    """The counts below start from zero: lookups another test gave up on must have returned first (bounded)."""
    end = time.monotonic() + 15
    while dnsguard.abandoned() and time.monotonic() < end:
        time.sleep(0.05)
    assert dnsguard.abandoned() == 0, "lookups abandoned by an earlier test are still in the resolver"


def _lookup(name: str, seconds: float = GUARD_S) -> list:
    with WATCHDOG.guard(seconds):
        return socket.getaddrinfo(name, 80)


def _wait_for(condition, seconds: float = 5.0) -> None:
    end = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.02)


def test_regression_lookups_stuck_in_a_dead_resolver_are_capped_and_new_ones_fail_fast(monkeypatch, caplog):
    resolver = DeadResolver(socket.getaddrinfo)
    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    monkeypatch.setattr(dnsguard, "MAX_ABANDONED", CAP)
    threads_before = threading.active_count()
    caplog.set_level(logging.WARNING, logger="monitor.core.dnsguard")
    try:
        for i in range(CAP):                            # each poll's lookup is cut at its deadline...
            with pytest.raises(socket.gaierror, match="cut at the deadline"):
                _lookup(f"feed{i}.test")
        assert dnsguard.abandoned() == CAP              # ...and its thread stays in the resolver
        for i in range(3):                              # at the cap: no thread, no wait, one clear error
            with Stopwatch() as sw, pytest.raises(socket.gaierror) as err:
                _lookup(f"more{i}.test", seconds=5.0)
            sw.assert_within(0.0, 0.1, "a lookup at the cap of abandoned lookups")
            assert str(err.value).endswith(f"DNS lookup of more{i}.test not started: {CAP} earlier lookups "
                                           "still wait for the system resolver (is it down?)")
        assert resolver.asked == [f"feed{i}.test" for i in range(CAP)]
        assert threading.active_count() - threads_before <= CAP + 1          # (the watchdog may have started)
        refused = [r for r in caplog.records if "DNS lookups refused" in r.getMessage()]
        assert len(refused) == 1                        # said once for the episode, not once per lookup
    finally:
        resolver.revive()
    _wait_for(lambda: dnsguard.abandoned() == 0)
    assert [r.getMessage() for r in caplog.records if "resumed" in r.getMessage()] == [
        "DNS lookups resumed: the system resolver returned (2 lookups still waiting)"]
    assert _lookup("back.test", seconds=5.0)[0][4] == ("127.0.0.1", 80)    # the resolver answers: lookups again


def test_a_lookup_answered_in_time_is_not_counted(monkeypatch):
    monkeypatch.setattr(dnsguard, "MAX_ABANDONED", 1)
    resolver = DeadResolver(socket.getaddrinfo)
    resolver.revive()
    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    for i in range(5):
        assert _lookup(f"quick{i}.test", seconds=5.0)
    assert dnsguard.abandoned() == 0


def test_regression_a_dead_resolver_shows_in_the_metrics_not_only_as_poll_errors(monkeypatch, tmp_path):
    """Round 23: abandoned lookups and the cap were in the log only; /metrics now has them as gauges."""
    from monitor.ops.metrics import Metrics

    resolver = DeadResolver(socket.getaddrinfo)
    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    monkeypatch.setattr(dnsguard, "MAX_ABANDONED", 2)
    metrics = Metrics(str(tmp_path / "monitor.db"))
    gauge = metrics.registry.get_sample_value
    try:
        assert (gauge("monitor_dns_lookups_abandoned"), gauge("monitor_dns_lookups_at_cap")) == (0, 0)
        with pytest.raises(socket.gaierror):
            _lookup("one.test")
        assert (gauge("monitor_dns_lookups_abandoned"), gauge("monitor_dns_lookups_at_cap")) == (1, 0)
        with pytest.raises(socket.gaierror):
            _lookup("two.test")
        assert (gauge("monitor_dns_lookups_abandoned"), gauge("monitor_dns_lookups_at_cap")) == (2, 1)
    finally:
        resolver.revive()
        metrics.close()
    _wait_for(lambda: gauge("monitor_dns_lookups_abandoned") == 0)
    assert gauge("monitor_dns_lookups_at_cap") == 0
