"""Coordination between replicas through the database: leases with fencing tokens, row claims, advisory locks.

The patterns are the ones Oban, pg-boss, graphile-worker and procrastinate rely on, nothing home-made:

- a **lease** is a row (`leases`: name, holder, token, expires_at) taken and renewed on the *database* clock
  (`db_now()`), so replicas whose clocks disagree still agree on who holds what. Taking over an expired
  lease bumps its **fencing token**; `Store.fence(lease)` makes every transaction of the thread check (and
  share-lock) the row first, so a replica paused past its lease (GC, SIGSTOP, a VM freeze) commits nothing;
- **row claims**: `for_update(db, skip_locked=True)` appends `FOR UPDATE SKIP LOCKED` (two replicas never
  route the same mention, and neither waits for the other); `lock_row` serialises timers and transitions;
- **advisory locks**: `advisory_lock(db, "brand:acme")` serialises read-then-insert sections (grouping, spike
  detection) for the length of the transaction.

SQLite mode runs the same code: there is one process (the run lock says so), so a lease is always granted
(the `OR ?` below), and row and advisory locks are no-ops since `BEGIN IMMEDIATE` already serialises writers.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from monitor.core.errors import StorageError
from monitor.store.database import Store

log = logging.getLogger(__name__)

DEFAULT_TTL_S = 30.0
REPLICA_LIVE_S = 30.0          # a replica not seen for this long is reported gone


class LeaseLost(StorageError):
    """A fenced transaction found its lease taken over or expired: nothing of it was committed."""


def is_postgres(db: Any) -> bool:
    return getattr(db, "dialect", "sqlite") == "postgres"


def for_update(db: Any, *, skip_locked: bool = False) -> str:
    """The row-lock suffix of a SELECT: `FOR UPDATE [SKIP LOCKED]` on PostgreSQL, nothing on SQLite."""
    if not is_postgres(db):
        return ""
    return " FOR UPDATE SKIP LOCKED" if skip_locked else " FOR UPDATE"


def lock_row(db: Any, table: str, row_id: int) -> None:
    """Hold one row until the transaction ends (timers, transitions): a second replica waits, then re-reads."""
    if is_postgres(db):
        db.execute(f"SELECT id FROM {table} WHERE id = ? FOR UPDATE", (row_id,))


def advisory_lock(db: Any, key: str) -> None:
    """A transaction-scoped lock on an arbitrary name (e.g. `brand:acme`): read-then-insert without races."""
    if is_postgres(db):
        db.execute("SELECT pg_advisory_xact_lock(hashtextextended(?, 0))", (key,))


@dataclass
class Lease:
    name: str
    holder: str
    token: int
    expires_at: float
    ttl: float
    shared: bool = True
    lost: bool = False
    on_lost: list[Callable[[], None]] = field(default_factory=list)

    def check(self, db: Any) -> None:
        """The fence: raise LeaseLost unless this holder and token still own the unexpired lease."""
        row = db.execute("SELECT token FROM leases WHERE name = ? AND holder = ? AND token = ?"
                         " AND (expires_at > db_now() OR ?)" + (" FOR SHARE" if is_postgres(db) else ""),
                         (self.name, self.holder, self.token, int(not self.shared))).fetchone()
        if row is None:
            self.lost = True
            raise LeaseLost(f"lease {self.name} (token {self.token}) is no longer held by {self.holder}: "
                            "this replica was paused or cut off past its TTL; nothing was committed")


class Coordinator:
    """This process's identity among the replicas, its leases, and the thread that keeps them alive."""

    def __init__(self, store: Store, *, ttl: float = DEFAULT_TTL_S, holder: str | None = None):
        self.store = store
        self.ttl = ttl
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._held: dict[str, Lease] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.config_hash: str | None = None

    @classmethod
    def of(cls, store: Store) -> Coordinator:
        """The store's coordinator (one per process and database), created on first use."""
        coord = getattr(store, "_coordinator", None)
        if coord is None:
            coord = cls(store)
            store._coordinator = coord  # type: ignore[attr-defined]
        return coord

    # -- leases ----------------------------------------------------------------------------------------------
    def acquire(self, name: str, ttl: float | None = None) -> Lease | None:
        """Take `name` if it is free, expired or already ours (keeping our token then); None if another holds it."""
        ttl = ttl or self.ttl
        shared = self.store.shared
        with self.store.tx() as db:
            row = db.execute(
                "INSERT INTO leases (name, holder, token, acquired_at, expires_at) VALUES (?, ?, 1, db_now(), db_now() + ?)"
                " ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, acquired_at = excluded.acquired_at,"
                " expires_at = excluded.expires_at, token = CASE WHEN leases.holder = excluded.holder"
                " AND leases.expires_at > db_now() THEN leases.token ELSE leases.token + 1 END"
                " WHERE (leases.expires_at <= db_now() OR leases.holder = excluded.holder OR ?)"
                " RETURNING token, expires_at", (name, self.holder, ttl, int(not shared))).fetchone()
        if row is None:
            return None
        lease = Lease(name, self.holder, int(row[0]), float(row[1]), ttl, shared)
        with self._lock:
            self._held[name] = lease
        return lease

    def renew(self, lease: Lease) -> bool:
        try:
            with self.store.tx() as db:
                row = db.execute("UPDATE leases SET expires_at = db_now() + ? WHERE name = ? AND holder = ?"
                                 " AND token = ? AND (expires_at > db_now() OR ?) RETURNING expires_at",
                                 (lease.ttl, lease.name, lease.holder, lease.token, int(not lease.shared))).fetchone()
        except StorageError as exc:
            log.warning("lease renewal failed (database unreachable?): %s", exc, extra={"lease": lease.name})
            return True          # not known lost: the fence decides at the next commit
        if row is None:
            self._lose(lease)
            return False
        lease.expires_at = float(row[0])
        return True

    def release(self, lease: Lease, *, keep_off_for: float = 0.0) -> None:
        """Let go; `keep_off_for` keeps everyone (us included) off until then, e.g. a host's politeness gap."""
        with self._lock:
            if self._held.get(lease.name) is lease:
                del self._held[lease.name]
        try:
            with self.store.tx() as db:
                db.execute("UPDATE leases SET expires_at = db_now() + ?, holder = ? WHERE name = ? AND holder = ?"
                           " AND token = ?", (keep_off_for, f"released:{self.holder}" if keep_off_for else
                                              lease.holder, lease.name, lease.holder, lease.token))
        except StorageError as exc:
            log.warning("lease release failed; it expires by itself: %s", exc, extra={"lease": lease.name})

    def _lose(self, lease: Lease) -> None:
        lease.lost = True
        with self._lock:
            if self._held.get(lease.name) is lease:
                del self._held[lease.name]
        log.warning("lease lost to another replica", extra={"lease": lease.name, "token": lease.token})
        for fn in lease.on_lost:
            try:
                fn()
            except Exception:  # noqa: BLE001
                log.exception("on_lost callback failed")

    @contextmanager
    def holding(self, name: str, *, ttl: float | None = None, on_lost: Callable[[], None] | None = None,
                keep_off_for: float = 0.0) -> Iterator[Lease | None]:
        """Hold `name` for the block (renewed in the background, commits fenced); yields None if refused."""
        lease = self.acquire(name, ttl)
        if lease is None:
            yield None
            return
        if on_lost:
            lease.on_lost.append(on_lost)
        self.start()
        try:
            with self.store.fence(lease):
                yield lease
        finally:
            if not lease.lost:
                self.release(lease, keep_off_for=keep_off_for)

    def wait_for(self, name: str, stop: threading.Event, *, ttl: float | None = None) -> Lease | None:
        """Stand by until `name` is ours (a standby stream takes over within the TTL) or `stop` is set."""
        while not stop.is_set():
            try:
                lease = self.acquire(name, ttl)
            except StorageError as exc:
                log.warning("cannot reach the database for lease %s: %s", name, exc)
                lease = None
            if lease is not None:
                return lease
            stop.wait(min(2.0, (ttl or self.ttl) / 4))
        return None

    def holders(self) -> list[dict[str, Any]]:
        return self.store.query("SELECT name, holder, token, expires_at, expires_at > db_now() AS live"
                                " FROM leases ORDER BY name")

    # -- replicas --------------------------------------------------------------------------------------------
    def register(self, config_hash: str, version: str = "") -> None:
        self.config_hash = config_hash
        with self.store.tx() as db:
            db.execute("INSERT INTO replicas (id, hostname, pid, started_at, seen_at, config_hash, version)"
                       " VALUES (?, ?, ?, db_now(), db_now(), ?, ?) ON CONFLICT (id) DO UPDATE SET"
                       " seen_at = excluded.seen_at, config_hash = excluded.config_hash, stopped_at = NULL",
                       (self.holder, socket.gethostname(), os.getpid(), config_hash, version))
        self.start()

    def heartbeat(self) -> None:
        if self.config_hash is not None:
            with self.store.tx() as db:
                db.execute("UPDATE replicas SET seen_at = db_now() WHERE id = ?", (self.holder,))
        with self._lock:
            held = list(self._held.values())
        for lease in held:
            self.renew(lease)

    def start(self) -> None:
        with self._lock:
            if self._thread is not None:
                return
            self._thread = threading.Thread(target=self._loop, name="leases", daemon=True)
            self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(max(0.2, self.ttl / 3)):
            try:
                self.heartbeat()
            except Exception:  # noqa: BLE001 - a database blip: the next beat tries again, fences protect
                log.warning("replica heartbeat failed", exc_info=True)

    def halt(self, timeout: float = 5.0) -> bool:
        """No more renewals; True once the renewal thread has ended (within `timeout`: a beat in progress
        against a slow database may outlast it, and its transaction then dies with the closed store)."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=timeout)
            return not thread.is_alive()
        return True

    def stop(self) -> None:
        """A clean exit: leases released at once (a standby takes over now, not after the TTL)."""
        self._stop.set()
        with self._lock:
            held = list(self._held.values())
        for lease in held:
            self.release(lease)
        if self.config_hash is not None:
            try:
                with self.store.tx() as db:
                    db.execute("UPDATE replicas SET stopped_at = db_now() WHERE id = ?", (self.holder,))
            except StorageError:
                pass


def live_replicas(store: Store, within: float = REPLICA_LIVE_S) -> list[dict[str, Any]]:
    return store.query("SELECT id, hostname, pid, started_at, seen_at, config_hash FROM replicas"
                       " WHERE stopped_at IS NULL AND seen_at > db_now() - ? ORDER BY started_at, id", (within,))

