"""Which pending delivery may go now, and which replica sends it: per-channel order, pacing, retry times, leases.

Why a part of its own: the outbox (`outbox.py`) asks `due()`, sends, and reports back what happened (`sent`,
`pause`, `hold`, `settled`); how long a row still waits is state only this class holds, apart from the sending. Only the oldest pending row of a lane (a channel; everything, for a one-channel sender)
may go, at most one per lane per `per_channel_interval`. Waits run on the monotonic clock: a retry time this
process set is a monotonic deadline, and one read from the database (set before a restart) is wall time,
trusted only up to MAX_STORED_WAIT_S ahead, so stepping the wall clock stalls nothing. On PostgreSQL one replica
sends to a channel at a time, under its lease (`monitor.store.leases`), renewed before each send.
"""

from __future__ import annotations

import time
from typing import Any

from monitor.core.clock import Clock
from monitor.notify.settings import OutboxSettings
from monitor.store.database import Store
from monitor.store.leases import Coordinator, Lease

MAX_STORED_WAIT_S = 900.0      # a stored not_before further ahead than this is a stepped wall clock


def monotonic(clock: Clock) -> float:
    """The clock's monotonic time (a clock without one: the process's)."""
    mono = getattr(clock, "monotonic", None)
    return float(mono()) if mono is not None else time.monotonic()


class Lanes:
    """When each pending row may go and which replica sends it; the Outbox asks `due()` and reports back."""

    def __init__(self, store: Store, clock: Clock, settings: OutboxSettings, single_lane: bool):
        self.store = store
        self.clock = clock
        self.settings = settings
        self.single_lane = single_lane
        self._last_sent: dict[str, float] = {}    # lane -> monotonic time of its last send
        self._wait_until: dict[int, float] = {}   # delivery id -> monotonic time before which it is not retried
        self._leases: dict[str, Lease] = {}
        self._refused: dict[str, float] = {}      # lane -> when to ask again for a lease another replica held

    # -- what the Outbox reports ------------------------------------------------------------------------
    def hold(self, row: dict[str, Any], seconds: float) -> None:
        """This row is not tried again for `seconds` (a retry time of ours: a monotonic deadline)."""
        self._wait_until[row["id"]] = monotonic(self.clock) + seconds

    def settled(self, row: dict[str, Any]) -> None:
        """The row is sent: it waits for nothing any more."""
        self._wait_until.pop(row["id"], None)

    def sent(self, row: dict[str, Any]) -> None:
        """Its lane sent now: the next goes an interval later."""
        self._last_sent[self.lane(row)] = monotonic(self.clock)

    def pause(self, row: dict[str, Any], seconds: float) -> None:
        """Nothing goes to its lane for `seconds` (a 429's Retry-After), the interval included."""
        self._last_sent[self.lane(row)] = monotonic(self.clock) + seconds - self.settings.interval

    def lane(self, row: dict[str, Any]) -> str:
        return "*" if self.single_lane else row["channel"]

    # -- what may go ------------------------------------------------------------------------------------
    def _heads(self) -> list[dict[str, Any]]:
        """The oldest pending row of each lane (a channel; everything, for a one-channel sender)."""
        group = "" if self.single_lane else " GROUP BY channel"
        return self.store.query("SELECT * FROM deliveries WHERE id IN (SELECT MIN(id) FROM deliveries"
                                f" WHERE state = 'pending'{group}) ORDER BY id")

    def _wait(self, row: dict[str, Any], now: float, mono: float) -> float:
        """Seconds before this row may go: its own retry time and its lane's pacing, both on the monotonic clock.

        A retry time set by this process is kept as a monotonic deadline; one read from the database (set
        before a restart) is wall time, trusted only up to MAX_STORED_WAIT_S ahead (regression: a wall clock
        stepped back an hour stalled a channel for an hour)."""
        until = self._wait_until.get(row["id"])
        if until is not None:
            own = until - mono
        elif (row["not_before"] or 0.0) <= row["created_at"]:       # "as soon as possible", set at enqueue
            own = 0.0
        elif row["last_error"]:                                   # a retry time of ours, from before a restart
            own = min(row["not_before"] - now, MAX_STORED_WAIT_S)
        else:
            own = row["not_before"] - now
        paced = self._last_sent.get(self.lane(row), float("-inf")) + self.settings.interval - mono
        return max(own, paced, 0.0)

    def due(self) -> list[dict[str, Any]]:
        """The oldest pending delivery of each channel whose time has come (Retry-After, backoff, pacing)."""
        now, mono = self.clock.now(), monotonic(self.clock)
        return [r for r in self._heads() if self._wait(r, now, mono) <= 0 and not self._elsewhere(r)]

    def _elsewhere(self, row: dict[str, Any]) -> bool:
        """Another replica held this channel's lease when we last asked (we ask again after a while)."""
        return self._refused.get(self.lane(row), float("-inf")) > self.clock.now()

    def lease(self, row: dict[str, Any]) -> Lease | None:
        """This replica's lease on the row's lane, renewed if due; None: another replica sends there."""
        lane = self.lane(row)
        lease = self._leases.get(lane)
        coord = Coordinator.of(self.store)
        if lease is not None and not lease.lost:
            if lease.expires_at - self.store.now() < lease.ttl * 2 / 3 and not coord.renew(lease):
                self._leases.pop(lane, None)         # renewed before the send, so its commit is not refused
                return None
            return lease
        lease = coord.acquire(f"channel:{lane}")
        if lease is None:
            self._refused[lane] = self.clock.now() + min(5.0, coord.ttl / 4)
            self._leases.pop(lane, None)
            return None
        coord.start()                                # renewed in the background while we keep sending
        self._refused.pop(lane, None)
        self._leases[lane] = lease
        return lease

    def lost(self, row: dict[str, Any]) -> None:
        """The lane's lease was taken over: asked for again next time."""
        self._leases.pop(self.lane(row), None)

    def release_leases(self) -> None:
        for lease in list(self._leases.values()):
            Coordinator.of(self.store).release(lease)
        self._leases.clear()

    def next_due_in(self) -> float | None:
        """Seconds until something could be sent (None: nothing pending). A channel another replica held when
        last asked counts from when it is asked again: a cron pass (`drain`) waits for that box to let it go
        rather than leaving the message to the next pass (regression: two cron boxes routing together left the
        second box's alerts pending for a whole cron interval)."""
        heads = self._heads()
        if not heads:
            return None
        now, mono = self.clock.now(), monotonic(self.clock)
        return min(max(self._wait(r, now, mono), self._refused.get(self.lane(r), now) - now) for r in heads)
