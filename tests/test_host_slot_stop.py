"""A stop (the guard's cancel) ends a wait for a host's request slot or for its gap at once, holding no slot.

Regression (round 23): the slot wait was bounded by the deadline but not woken by a cancel, so a daemon
stopping while a poll queued behind a busy host's requests waited for the slot until the poll's deadline
(60 s by default), past the stop's own bound. The guard now wakes the wait (`Guard.wake_on_end`)."""

from __future__ import annotations

import threading

import pytest

from monitor.core.errors import FetchError
from monitor.core.netguard import WATCHDOG
from monitor.sources.politeness import HostLimiter
from tests.test_host_slot_deadline import slot_held
from tests.timing import Stopwatch

STOP_AFTER_S, GUARD_S = 0.3, 30.0


def test_regression_a_stop_during_a_slot_wait_ends_it_at_once_holding_no_slot():
    lim = HostLimiter(1, 0.0)
    with slot_held(lim, "api.example"):
        with WATCHDOG.guard(GUARD_S) as guard:
            threading.Timer(STOP_AFTER_S, guard.cancel).start()
            with Stopwatch() as sw, pytest.raises(FetchError) as err:
                with lim.slot("api.example"):
                    pytest.fail("sent with the host's only slot busy")
        sw.assert_within(STOP_AFTER_S, 0.3, "a stop during a slot wait")
        assert str(err.value) == "not sent to api.example: stopping while waiting for a request slot"
    with WATCHDOG.guard(1.0), Stopwatch() as free, lim.slot("api.example"):
        pass                                         # the slot is free again: the stopped wait took none
    free.assert_within(0.0, 0.2, "a free slot after a stopped wait")


def test_a_stop_during_the_host_gap_ends_it_at_once_and_gives_the_start_back():
    lim = HostLimiter(2, 20.0)
    with lim.slot("api.example"):
        pass                                         # the host's next start is 20 s away
    with WATCHDOG.guard(GUARD_S) as guard:
        threading.Timer(STOP_AFTER_S, guard.cancel).start()
        with Stopwatch() as sw, pytest.raises(FetchError, match="stopping while waiting for the host gap"):
            with lim.slot("api.example"):
                pytest.fail("sent before the host's gap")
    sw.assert_within(STOP_AFTER_S, 0.3, "a stop during a host gap wait")
    assert 19.0 < lim.ready_in("api.example") <= 20.0     # the stopped request's start was given back
    assert lim._slots["api.example"].busy == 0          # and its slot


def test_a_wait_in_an_already_cancelled_block_takes_no_slot_even_a_free_one():
    lim = HostLimiter(1, 0.0)
    with WATCHDOG.guard(GUARD_S) as guard:
        guard.cancel()
        with pytest.raises(FetchError, match="stopping while waiting for a request slot"):
            with lim.slot("api.example"):
                pytest.fail("sent after the stop")
    with lim.slot("api.example"):
        pass
