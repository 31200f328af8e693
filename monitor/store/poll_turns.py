"""Whose turn it is to poll a source, among replicas: a shared next-due time per source and a lease per host.

Owns the `poll_due` table. See `PollTurns`; the leases themselves are `monitor.store.leases`.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from monitor.store.database import Store
from monitor.store.leases import Coordinator, Lease, LeaseLost

EARLY_S = 0.1                  # a replica whose timer fires this close to the shared due time may poll


@dataclass
class Turn:
    """A poll this replica may make now: the host lease (commits fenced by it) and when it started (db clock)."""
    lease: Lease
    source_id: str
    every: float
    started: float
    sent: bool = False        # the source's next due time is `every` after `started` (see `PollTurns.sent`)


class PollTurns:
    """Whose turn it is to poll a source: the shared next-due time (`poll_due`) plus a lease per host.

    Each replica schedules every source (so any survivor carries on), but polls one only when the shared due
    time has come and it holds the host's lease: every replica thus sees one schedule, per-host politeness
    holds across replicas (the lease is let go with `per_host_interval` still to run). A poll claims its
    source for one TTL when it starts; when its first request leaves (`sent`, through
    `politeness.on_first_request`) the next due time becomes start + every, not end + every: the host has seen
    the request whether or not its answer is stored, so a poll cut short by a kill or a freeze is not made
    again early (regression: due only a TTL ahead, a replica killed mid-poll had the feed asked again 4 s
    later with `every` 10 s). A replica killed before its request left has the source polled by another once
    the claim and the dead host lease lapse (regression: one poll skipped, a 20 s gap with `every` 10 s).
    What a cut-short poll would have brought comes with the next one; a stalled poll delays others on its host
    by at most the TTL. Within one process the host lease is shared by its concurrent polls of that host.
    """

    def __init__(self, coord: Coordinator):
        self.coord = coord
        self._users: dict[str, tuple[Lease, int]] = {}
        self._host_locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    def begin(self, source_id: str, host: str, every: float, *,
              scheduled: bool = True) -> tuple[Turn | None, float | None]:
        """(turn, None): poll now. (None, seconds): not this replica's turn; the shared schedule says when.
        `scheduled=False` (cron passes): only the host lease counts, every pass polls every source."""
        store = self.coord.store
        wait = self._wait(source_id) if scheduled else None
        if wait is not None:
            return None, wait
        name = f"host:{host}"
        lease = self._share(name)
        if lease is None:
            with self._host_lock(name):           # one thread per host asks the database (and may wait)
                lease = self._share(name)
                if lease is None:
                    got, left = self._acquire_host(name)
                    if got is None:           # the host is busy elsewhere: ask again soon, or when its lease lapses
                        return None, min(every, 1.0 + EARLY_S, max(0.2, left + 0.05))
                    with self._lock:
                        self._users[name] = (got, 1)
                    self.coord.start()
                    lease = got
        wait = self._wait(source_id) if scheduled else None    # another replica may have just polled it
        if wait is not None:
            self._let_go(lease, 0.0)
            return None, wait
        claim = min(every, self.coord.ttl) if store.shared else every
        with store.fence(lease), store.tx() as db:
            started = db.execute("INSERT INTO poll_due (source_id, due_at, by_replica) VALUES (?, db_now() + ?, ?)"
                                 " ON CONFLICT (source_id) DO UPDATE SET due_at = excluded.due_at,"
                                 " by_replica = excluded.by_replica RETURNING due_at - ?",
                                 (source_id, claim, self.coord.holder, claim)).fetchone()[0]
        return Turn(lease, source_id, every, float(started), sent=claim == every), None

    def sent(self, turn: Turn) -> None:
        """The poll's first request is leaving: the source is due again `every` after the poll began (set once;
        fenced, so a replica that lost its lease never moves the schedule)."""
        if turn.sent:
            return
        turn.sent = True
        store = self.coord.store
        try:
            with store.fence(turn.lease), store.tx() as db:
                db.execute("UPDATE poll_due SET due_at = ? + ? WHERE source_id = ? AND by_replica = ?",
                           (turn.started, turn.every, turn.source_id, self.coord.holder))
        except LeaseLost:
            pass                      # another replica has the host now; the poll's own commits are refused too

    def _share(self, name: str) -> Lease | None:
        """This process's live lease of the host, counted as one more user; None if it holds none."""
        with self._lock:
            held = self._users.get(name)
            if held is None or held[0].lost:
                return None
            self._users[name] = (held[0], held[1] + 1)
            return held[0]

    def _host_lock(self, name: str) -> threading.Lock:
        with self._lock:
            return self._host_locks.setdefault(name, threading.Lock())

    def _acquire_host(self, name: str) -> tuple[Lease | None, float]:
        """The host lease, or None and the seconds its holder's lease has left. A politeness hold
        (`released:…`, per_host_interval still running) is waited out, as the in-process HostLimiter waits,
        rather than skipping the poll. The time left matters when the holder is dead: its poll is taken over
        the moment its lease lapses, not up to a second later."""
        left = 0.0
        for _ in range(3):
            lease = self.coord.acquire(name)
            if lease is not None:
                return lease, 0.0
            row = self.coord.store.one("SELECT holder, expires_at - db_now() AS left FROM leases WHERE name = ?",
                                       (name,))
            left = 0.0 if row is None else max(0.0, float(row["left"]))
            if row is None or not str(row["holder"]).startswith("released:") or left > 5.0:
                return None, left                     # a poll in progress on another replica
            time.sleep(left + 0.01)
        return None, left

    def _wait(self, source_id: str) -> float | None:
        if not self.coord.store.shared:
            return None                               # one process: its own schedule is the schedule
        row = self.coord.store.one("SELECT due_at - db_now() AS wait FROM poll_due WHERE source_id = ?",
                                   (source_id,))
        if row is not None and row["wait"] > EARLY_S:
            return float(row["wait"])
        return None

    def end(self, turn: Turn, keep_off_for: float) -> None:
        """The poll is over: the host lease goes, with `keep_off_for` (per_host_interval) still to run. The next
        due time is `every` after the poll began, whether or not a request left (a kind that sends none
        through a HostLimiter, or a poll skipped while backing off)."""
        try:
            self.sent(turn)
        finally:
            self._let_go(turn.lease, keep_off_for)

    def _let_go(self, lease: Lease, keep_off_for: float) -> None:
        with self._lock:             # released under the lock: a poll starting now takes a fresh lease after
            lease_now, users = self._users.get(lease.name, (lease, 1))
            if users > 1:
                self._users[lease.name] = (lease_now, users - 1)
                return
            self._users.pop(lease.name, None)
            if not lease.lost:
                self.coord.release(lease, keep_off_for=keep_off_for)

    @classmethod
    def of(cls, store: Store) -> PollTurns:
        turns = getattr(store, "_poll_turns", None)
        if turns is None:
            turns = cls(Coordinator.of(store))
            store._poll_turns = turns  # type: ignore[attr-defined]
        return turns
