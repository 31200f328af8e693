"""Whose turn it is to poll a source, among replicas: a shared next-due time per source and a lease per host.

Owns the `poll_due` table. See `PollTurns`; the leases themselves are `monitor.store.leases`.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any, Literal

from monitor.core.clock import iso
from monitor.store.database import Store
from monitor.store.leases import Coordinator, Lease, LeaseLost

log = logging.getLogger(__name__)

EARLY_S = 0.1                  # a replica whose timer fires this close to the shared due time may poll
#: Cron passes (`run --once`) on several boxes: a source whose last finished poll (any replica) started less than
#: this share of the cron interval ago is taken. The interval is `daemon.cron_interval`, or, unset, the source's
#: `every` (assumed to be it). Not the whole interval: each box's cron fires an interval after its last pass, and
#: a source is reached a little earlier or later within each pass, so a plain due time would skip the next
#: pass's poll about half the time. Half is the midpoint between the two errors it must absorb: two boxes on one
#: schedule fire seconds apart (skew, start-up, a late cron): up to half an interval late is the same tick; one
#: box's passes drift by where a source falls in them: up to half an interval early is still the next tick.
CRON_SHARE = 0.5


@dataclass(frozen=True)
class CronInterval:
    """The cron interval a `run --once` pass on replicas uses, decided once (`cron_interval`) and only rendered
    by its two readers: `monitor check` before any pass runs, the pass's log on the box that runs it
    (regression: each decided it with its own copy of the rule, free to drift apart)."""
    interval: float | None          # what the poller is given: `daemon.cron_interval`, or None: each source's `every`
    rests_on: Literal["daemon.cron_interval", "every"]     # "every": assumed, as daemon.cron_interval is unset
    everys: tuple[float, ...] = ()  # assumed: the distinct `every`s of the polled sources, ascending

    @property
    def window(self) -> float | None:
        """How recent another box's poll must be for this pass to leave the source to it; None: half of each
        source's own `every` (they differ)."""
        one = self.interval if self.interval is not None else self.everys[0] if len(self.everys) == 1 else None
        return None if one is None else one * CRON_SHARE

    @property
    def disagreement(self) -> tuple[float, ...]:
        """The `every`s assumed to be the cron interval when they differ (they cannot all be it), else ()."""
        return self.everys if len(self.everys) > 1 else ()


def cron_interval(configured: float | None, everys: list[float]) -> CronInterval:
    """`daemon.cron_interval` (`configured`) when set, else each polled source's `every`, assumed to be it."""
    if configured is not None:
        return CronInterval(configured, "daemon.cron_interval")
    return CronInterval(None, "every", tuple(sorted(set(everys))))


@dataclass
class Turn:
    """A poll this replica may make now: the host lease (commits fenced by it) and when it started (db clock)."""
    lease: Lease
    source_id: str
    every: float
    started: float
    sent: bool = False        # the source's next due time is `every` after `started` (see `PollTurns.sent`)


@dataclass(frozen=True)
class Taken:
    """Cron mode: another replica finished a poll of the source `ago` seconds ago (started then), within
    `within` (`CRON_SHARE` of the cron interval; `assumed`: that interval is the source's `every`, as
    `daemon.cron_interval` is unset); this pass leaves it alone."""
    ago: float
    by: str
    within: float = 0.0
    assumed: bool = False


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
        `scheduled=False` (forced polls): only the host lease counts. Cron passes use `begin_once`."""
        wait = self._wait(source_id) if scheduled else None
        if wait is not None:
            return None, wait
        lease, wait = self._host(host, every)
        if lease is None:
            return None, wait
        wait = self._wait(source_id) if scheduled else None    # another replica may have just polled it
        if wait is not None:
            self._let_go(lease, 0.0)
            return None, wait
        return self._claim(lease, source_id, every), None

    def begin_once(self, source_id: str, host: str, every: float,
                   cron_interval: float | None = None) -> Turn | Taken | float:
        """Cron mode (`run --once`): a Turn (poll now), Taken (another replica finished a poll of it within
        `CRON_SHARE` of `cron_interval`, or of `every` when that is None: this pass skips it, recorded in
        `taken_at`/`taken_by`/`taken_within`/`taken_assumed` for `monitor status`), or
        the seconds until the host, busy on another replica, is worth asking again. Decided under the host
        lease, which that poll held until it recorded `polled_at`, so two boxes never both poll one source in
        one tick; a poll cut short (killed, or its lease lost) records nothing, so the next pass polls it.
        One process (SQLite): nothing is shared, every pass polls every source."""
        lease, wait = self._host(host, every)
        if lease is None:
            return wait
        interval = cron_interval or every
        taken = self._taken(source_id, interval * CRON_SHARE, cron_interval is None) if self.coord.store.shared \
            else None
        if taken is None:
            return self._claim(lease, source_id, every)
        try:
            with self.coord.store.fence(lease), self.coord.store.tx() as db:
                db.execute("UPDATE poll_due SET taken_at = db_now(), taken_by = ?, taken_within = ?,"
                           " taken_assumed = ? WHERE source_id = ?",
                           (self.coord.holder, taken.within, int(taken.assumed), source_id))
        except LeaseLost:
            pass                      # only the record for `monitor status`; the skip is said by the caller
        finally:
            self._let_go(lease, 0.0)
        return taken

    def _taken(self, source_id: str, within: float, assumed: bool) -> Taken | None:
        # another replica's poll only: this process's own earlier pass (one App running run_once twice) polls again
        row = self.coord.store.one("SELECT db_now() - polled_at AS ago, polled_by FROM poll_due WHERE source_id = ?"
                                   " AND polled_at > db_now() - ? AND polled_by <> ?",
                                   (source_id, within, self.coord.holder))
        return None if row is None else Taken(max(0.0, float(row["ago"])), str(row["polled_by"]), within, assumed)

    def done(self, turn: Turn) -> None:
        """The poll finished (its outcome, success or failure, committed): cron passes on other boxes take the
        source as polled from `turn.started` (`begin_once`). Fenced like everything under the lease; shared
        stores only (one SQLite process has no one to tell)."""
        store = self.coord.store
        if not store.shared:
            return
        try:
            with store.fence(turn.lease), store.tx() as db:
                db.execute("UPDATE poll_due SET polled_at = ?, polled_by = by_replica WHERE source_id = ?"
                           " AND by_replica = ?", (turn.started, turn.source_id, self.coord.holder))
        except LeaseLost:
            log.warning("poll done but its host lease was lost before it was recorded: another box's cron pass may"
                        " poll it again", extra={"source_id": turn.source_id})

    def _host(self, host: str, every: float) -> tuple[Lease | None, float]:
        """This process's lease of `host` (shared by its concurrent polls of it), or None and the seconds until
        asking again is worth it (soon, or when the other replica's lease lapses)."""
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
        return lease, 0.0

    def _claim(self, lease: Lease, source_id: str, every: float) -> Turn:
        """Claim the source for this poll (one TTL on a shared store, see the class docstring)."""
        store = self.coord.store
        claim = min(every, self.coord.ttl) if store.shared else every
        with store.fence(lease), store.tx() as db:
            started = db.execute("INSERT INTO poll_due (source_id, due_at, by_replica) VALUES (?, db_now() + ?, ?)"
                                 " ON CONFLICT (source_id) DO UPDATE SET due_at = excluded.due_at,"
                                 " by_replica = excluded.by_replica RETURNING due_at - ?",
                                 (source_id, claim, self.coord.holder, claim)).fetchone()[0]
        return Turn(lease, source_id, every, float(started), sent=claim == every)

    def sent(self, turn: Turn) -> None:
        """The poll's first request is leaving: the source is due again `every` after the poll began (set once;
        fenced, so a replica that lost its lease never moves the schedule).

        Raises LeaseLost when the host lease is gone or another replica has claimed the source since: the
        request must not leave. Regression: a replica frozen (SIGSTOP) past its TTL between its claim and its
        request woke up and asked the feed 3 s after the replica that had taken the round over, one poll
        answered by two requests; its commits were refused, but the host had seen the request."""
        if turn.sent:
            return
        turn.sent = True
        store = self.coord.store
        with store.fence(turn.lease), store.tx() as db:
            if not db.execute("UPDATE poll_due SET due_at = ? + ? WHERE source_id = ? AND by_replica = ?",
                              (turn.started, turn.every, turn.source_id, self.coord.holder)).rowcount:
                raise LeaseLost(f"{turn.source_id}: another replica took this poll over before its request left")

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
        except LeaseLost:
            pass                      # another replica has the host now; the poll's own commits are refused too
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


def taken_recently(store: Store, within: float = 3600.0) -> dict[str, Any]:
    """For `monitor status`: the sources a cron pass skipped in the last `within` seconds as polled by another
    replica (`begin_once`), and the latest such skip: by whom, its window (`last_within_s`, half the cron
    interval) and whether that interval was assumed from the source's `every` (`daemon.cron_interval` unset).
    Empty figures on SQLite, where nothing is shared."""
    row = store.one("SELECT COUNT(*) AS n, MAX(taken_at) AS last FROM poll_due WHERE taken_at > db_now() - ?",
                    (within,))
    n = int(row["n"]) if row else 0
    last = store.one("SELECT taken_by, taken_within, taken_assumed FROM poll_due WHERE taken_at = ?",
                     (row["last"],)) if n and row else None
    return {"sources": n, "within_s": within, "last_at": iso(row["last"]) if n and row else None,
            "last_by": last["taken_by"] if last else None,
            "last_within_s": last["taken_within"] if last else None,
            "interval_assumed": bool(last["taken_assumed"]) if last else None}
