"""The run lock: one `monitor run` (daemon or `--once` pass) per SQLite database, whatever path reached it.

Why a module of its own: it guards the database file, not its rows, with the kernel's file locks (flock), and
holds no connection; the Store never takes it (the daemon, `monitor run --once` and the demo do). On PostgreSQL
it is a no-op: replicas are meant to run side by side, and leases in the database (`leases.py`) coordinate them.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from monitor.core.errors import LockHeld
from monitor.store.database import is_url

_SPENT_FDS: list[int] = []     # identity fds of released locks: kept open for the process's life (see below)


def _identity_fd(path: str) -> int | None:
    """An fd on the database file itself, for an flock on its device and inode. It is never closed: SQLite's
    own locks are POSIX locks, which closing *any* fd of the file drops, so this fd must outlive every
    connection (released ones are parked in _SPENT_FDS; one per lock taken, a handful per process)."""
    try:
        return os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None


class RunLock:
    """An exclusive lock for the database, so two `--once` runs (or a run and the daemon) never overlap.

    A kernel file lock (flock) is released by the OS when the process dies, even by kill -9: no stale locks.
    It is taken twice: on `<real path>.lock` (symlinks resolved) and on the database file itself, which is its
    device and inode: a second daemon reaching the same file through a symlink (`--db link.db`) or a hard link
    is refused (regression: 20 messages became 37 posts with two daemons on one database). flock and
    SQLite's POSIX locks do not interact on Linux.
    """

    def __init__(self, db_path: str):
        self.db_path = os.path.realpath(db_path) if db_path != ":memory:" else db_path
        self.path = f"{self.db_path}.lock"
        self._fd: int | None = None
        self._identity: int | None = None
        # PostgreSQL: replicas are meant to run side by side; leases in the database coordinate them
        self.shared = is_url(db_path)

    def acquire(self) -> None:
        if self.shared:
            return
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 64).decode(errors="replace").strip() or "another process"
            os.close(fd)
            raise LockHeld(f"{self.path} is held by pid {holder}: another `monitor run` is using this "
                           "database; this run exits without doing anything") from None
        identity = _identity_fd(self.db_path) if self.db_path != ":memory:" else None
        if identity is not None:
            try:
                fcntl.flock(identity, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                _SPENT_FDS.append(identity)
                fcntl.flock(fd, fcntl.LOCK_UN)
                os.close(fd)
                raise LockHeld(f"database {self.db_path} is in use by another `monitor run` that reached it by "
                               "another path (a hard link or another mount); this run exits without doing "
                               "anything") from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd, self._identity = fd, identity

    def release(self) -> None:
        if self._identity is not None:
            fcntl.flock(self._identity, fcntl.LOCK_UN)
            _SPENT_FDS.append(self._identity)
            self._identity = None
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
