"""A real `monitor` process for tests: started with a bounded life, its log lines read as they come."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from signal import SIGTERM
from typing import Any

from tests.timing import MAX_SLOWNESS, assert_within


class MonitorProcess:
    """`with MonitorProcess(["run", "--config", ...]) as p: p.wait_for("daemon started")`.

    The process is always killed on exit from the block, so a failing test never leaves one behind.
    """

    def __init__(self, args: Sequence[str], env: dict[str, str] | None = None, cwd: str | Path | None = None,
                 unset: Sequence[str] = ()):
        self.args = [sys.executable, "-m", "monitor", *args]
        self.env = {k: v for k, v in {**os.environ, **(env or {})}.items() if k not in unset}
        self.cwd = cwd
        self.lines: list[str] = []
        self.stdout = ""
        self._cond = threading.Condition()
        self.proc: subprocess.Popen[str] | None = None

    def start(self) -> MonitorProcess:
        self.proc = subprocess.Popen(self.args, env=self.env, cwd=self.cwd, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self._readers = [threading.Thread(target=self._read, daemon=True),
                         threading.Thread(target=self._read_stdout, daemon=True)]
        for t in self._readers:
            t.start()
        return self

    def _read(self) -> None:
        assert self.proc and self.proc.stderr
        for line in self.proc.stderr:
            with self._cond:
                self.lines.append(line.rstrip("\n"))
                self._cond.notify_all()

    def _read_stdout(self) -> None:
        assert self.proc and self.proc.stdout
        for line in self.proc.stdout:
            self.stdout += line

    @property
    def pid(self) -> int:
        assert self.proc
        return self.proc.pid

    def wait_for(self, pattern: str, timeout: float = 20.0, start: int = 0) -> str:
        """The first log line (from index `start`) matching the regex; fail with the log if none comes."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for line in self.lines[start:]:
                    if rx.search(line):
                        return line
                if self.proc and self.proc.poll() is not None:
                    deadline = min(deadline, time.monotonic() + 0.5)    # exited: only late lines may come
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no log line matching {pattern!r} within {timeout}s; log:\n"
                                         + "\n".join(self.lines[-40:]))
                self._cond.wait(min(left, 0.1))

    def signal(self, sig: signal.Signals) -> None:
        assert self.proc
        self.proc.send_signal(sig)

    def stop_within(self, promise: float, slack: float, what: str, sig: signal.Signals = SIGTERM) -> str:
        """Send `sig`; the process exits 0 within `promise` + `slack` (the slack, signalling, Python's exit and
        the OS being ours, scaled by the machine's load); its log."""
        started = time.monotonic()
        self.signal(sig)
        rc = self.wait(timeout=60)
        assert rc == 0, self.log()
        assert_within(time.monotonic() - started, promise, slack, what)
        return self.log()

    def wait(self, timeout: float) -> int:
        assert self.proc
        rc = self.proc.wait(timeout=timeout)
        for t in self._readers:
            t.join(timeout=5)     # the last lines
        return rc

    def log(self) -> str:
        with self._cond:
            return "\n".join(self.lines)

    def get_when_up(self, url: str, timeout: float = 30.0) -> Any:
        """GET `url` once the process serves it (a `monitor ui` starting); fail with its log if it never does."""
        import httpx

        deadline = time.monotonic() + timeout
        while True:
            try:
                return httpx.get(url, timeout=5)
            except httpx.TransportError:
                if time.monotonic() > deadline or (self.proc and self.proc.poll() is not None):
                    raise AssertionError(f"monitor {' '.join(self.args[3:4])} did not come up:\n" + self.log()) from None
                time.sleep(0.1)

    def __enter__(self) -> MonitorProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


def mentions_in(db: Path | str) -> int:
    """Mentions stored so far (see `count_in`)."""
    return count_in(db, "SELECT COUNT(*) FROM mentions")


def count_in(db: Path | str, sql: str) -> int:
    """A `SELECT COUNT(*)` read with plain read-only sqlite3 while a daemon writes: 0 before the file exists or
    before the daemon's first migration created the table (opening a Store would race that migration)."""
    if not Path(db).exists():
        return 0
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    try:
        return int(conn.execute(sql).fetchone()[0])
    except sqlite3.Error:
        return 0
    finally:
        conn.close()


def kill9_loop(cmd: Sequence[str], env: dict[str, str], *, done: Callable[[], bool], activity: Callable[[], int],
               pause: Callable[[], float], deadline: float, max_kills: int | None = None, wait_s: float = 20.0,
               rounds: list[tuple[float, bool]] | None = None) -> int:
    """Start the daemon and `kill -9` it mid-work, again and again, until `done()`, the monotonic `deadline` or
    `max_kills`: each round waits (up to `wait_s`) for `activity()` to move past where it was, sleeps `pause()`
    (the window the test aims at, e.g. "posted, not yet marked"), then kills. Returns the number of kills;
    `rounds`, when given, gets (seconds from start to activity, whether activity moved) per kill: a kill whose
    daemon was still starting (a loaded machine) did not land mid-work and proves nothing."""
    kills = 0
    while not done() and time.monotonic() < deadline and (max_kills is None or kills < max_kills):
        before = activity()
        proc = subprocess.Popen(list(cmd), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            t0 = time.monotonic()
            while activity() == before and time.monotonic() - t0 < wait_s and proc.poll() is None:
                time.sleep(0.005)
            moved = (time.monotonic() - t0, activity() != before)
            time.sleep(pause())
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
        kills += 1
        if rounds is not None:
            rounds.append(moved)
    return kills


def run_until(cmd: Sequence[str], env: dict[str, str], *, done: Callable[[], bool], timeout: float, step: float,
              stop_timeout: float, drain_s: float = 20.0) -> tuple[int, str]:
    """Start the daemon, wait until its signal handlers are in place ("daemon started"), then until `done()` or
    `timeout`, stop it with SIGTERM; returns (exit code, stderr).

    The stop must come within `stop_timeout` on an idle machine: the daemon's drain bound (`drain_s`, the
    default `daemon.drain_timeout`) is the promise, the rest is the machine's and is scaled by load
    (tests/timing.py). A daemon still running long after that fails the test with every thread's stack
    (faulthandler, on SIGABRT) and the log's tail: a stop that hangs under CI's load (round 20: the Jira kill -9
    test, past 30 s) then names the wait that held it instead of only a TimeoutExpired."""
    proc = subprocess.Popen(list(cmd), env={**env, "PYTHONFAULTHANDLER": "1"}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    for line in proc.stderr:
        if "daemon started" in line:
            break
    t0 = time.monotonic()
    while not done() and time.monotonic() - t0 < timeout:
        time.sleep(step)
    proc.send_signal(signal.SIGTERM)
    slack = max(stop_timeout - drain_s, 5.0)
    ceiling = drain_s + slack * MAX_SLOWNESS
    stopping = time.monotonic()
    try:
        _, err = proc.communicate(timeout=ceiling)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGABRT)              # faulthandler writes each thread's stack to stderr
        _, err = proc.communicate(timeout=30)
        raise AssertionError(f"the daemon did not stop within {ceiling:g}s of SIGTERM (done: {done()});"
                             f" its threads and log:\n{err[-12000:]}") from None
    took = time.monotonic() - stopping
    print(f"stopped {took:.1f}s after SIGTERM", file=sys.stderr)
    assert_within(took, drain_s, slack, f"the stop (log:\n{err[-3000:]}\n)")
    return proc.returncode, err
