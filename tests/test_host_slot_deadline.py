"""`http.deadline` bounds the wait for a free per-host request slot (`HostLimiter.slot`), as it bounds the gap.

Regression (round 23): the slot's semaphore was acquired with no bound, so a request queued behind a host's
busy requests waited for them to end before its own deadline even began (an API request then got a whole
`http.deadline` more: three requests to a trickling host with `per_host_concurrency: 1` took 1x, 2x and 3x the
deadline). The gap wait already failed fast ("the host gap would outlast the deadline"); the slot wait now
fails the same way at the earlier of the caller's deadline and the thread's guard, holding nothing."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from monitor.core.errors import FetchError
from monitor.core.netguard import WATCHDOG
from monitor.sources import api
from monitor.sources.fetch import HttpConfig, fetch, limiter_of, make_client
from monitor.sources.politeness import HostLimiter
from tests.fakes.server import LocalServer, Reply, Request
from tests.timing import Stopwatch, assert_within

DEADLINE_S, TRICKLE_S, STALL_S, HOLD_S = 1.0, 0.2, 6.0, 5.0
CFG = HttpConfig(allow_private=True, deadline=DEADLINE_S, read_timeout=4.0, per_host_interval=0,
                 per_host_concurrency=1)


@contextmanager
def slot_held(limiter: HostLimiter, host: str) -> Iterator[threading.Event]:
    """Another thread holds one of `host`'s slots (an in-flight request) until the event is set, or for
    HOLD_S at most (so that a slot wait with no bound fails the test instead of hanging it)."""
    taken, done = threading.Event(), threading.Event()

    def hold() -> None:
        with limiter.slot(host):
            taken.set()
            done.wait(HOLD_S)

    t = threading.Thread(target=hold, daemon=True)
    t.start()
    assert taken.wait(5)
    try:
        yield done
    finally:
        done.set()
        t.join(5)


def test_regression_a_request_queued_for_a_busy_hosts_slot_fails_at_its_deadline():
    """The host's only slot is held past the deadline: the fetch is not sent and fails at its deadline with
    the host named; once the slot is free the same fetch goes out (the failed wait held no slot)."""
    with LocalServer(lambda req: Reply(200, b"ok")) as srv, make_client(CFG) as client:
        host = srv.url.split("//")[1]
        limiter = limiter_of(client)
        assert limiter is not None
        with slot_held(limiter, host):
            with Stopwatch() as sw, pytest.raises(FetchError) as err:
                fetch(client, srv.url + "/feed", CFG)
            assert srv.requests == []
        sw.assert_within(DEADLINE_S, 0.5, "a fetch waiting for a busy host's slot")
        assert str(err.value).startswith(f"not sent to {host}: no free request slot within the deadline "
                                         f"(all 1 busy for the 1.0s left)")
        assert fetch(client, srv.url + "/feed", CFG).body == b"ok"


def test_requests_queued_behind_a_trickling_host_each_end_within_their_deadline():
    """Three API requests at once to a host that trickles its headers, one slot: each ends within its own
    deadline (cut, or not sent), none waits out the ones before it."""
    def trickle(req: Request) -> Reply:
        return Reply(delay=STALL_S, head_trickle=TRICKLE_S)

    elapsed: list[float] = []
    errors: list[str] = []

    def call(client: object, url: str) -> None:
        started = time.monotonic()
        try:
            api.request(client, "GET", url, CFG, now=time.time())  # type: ignore[arg-type]
        except FetchError as exc:
            errors.append(str(exc))
        elapsed.append(time.monotonic() - started)

    with LocalServer(trickle) as srv, make_client(CFG) as client:
        threads = [threading.Thread(target=call, args=(client, srv.url + f"/v1/{i}")) for i in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    assert len(errors) == 3, errors
    assert all("within the fetch deadline" in e or "no free request slot within the deadline" in e for e in errors)
    for e in elapsed:
        assert_within(e, DEADLINE_S, 0.6, "an API request queued behind a trickling host")


def test_a_failed_slot_wait_holds_no_slot_and_takes_no_start():
    """Under a guard shorter than the holder's request: the wait fails at the guard, the host's next start
    is the holder's, and every slot is free again once the holder is done."""
    clock = [100.0]
    slept: list[float] = []
    lim = HostLimiter(2, 5.0, sleep=slept.append, monotonic=lambda: clock[0])
    with slot_held(lim, "api.example"), slot_held(lim, "api.example"):
        assert slept == [5.0]                               # the holders started at 100 and 105
        clock[0] = 108.0
        with Stopwatch() as sw, WATCHDOG.guard(0.3), pytest.raises(FetchError, match="no free request slot"):
            with lim.slot("api.example"):
                pytest.fail("a third request went out with two slots busy")
        assert lim.ready_in("api.example") == 2.0           # still the holders' next start (110), none taken
    sw.assert_within(0.3, 0.4, "a slot wait under a guard")
    clock[0] = 110.0
    with slot_held(lim, "api.example"), WATCHDOG.guard(10.0), lim.slot("api.example"):
        pass                                                # both slots free again (none leaked)
    assert slept == [5.0, 5.0]


def test_a_slot_free_at_once_is_taken_even_past_the_deadline_s_end():
    """A deadline already reached does not refuse a free slot by itself (the request's own guard cuts it);
    a busy one fails without waiting."""
    lim = HostLimiter(1, 0.0)
    with lim.slot("api.example", deadline=time.monotonic() - 1):
        pass
    with slot_held(lim, "api.example"):
        with Stopwatch() as sw, pytest.raises(FetchError, match="all 1 busy for the 0.0s left"):
            with lim.slot("api.example", deadline=time.monotonic() - 1):
                pass
    sw.assert_within(0.0, 0.2, "a slot wait with no time left")
