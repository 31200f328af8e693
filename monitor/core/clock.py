"""Time as an injected object, so tests drive timers instead of sleeping."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the epoch (UTC)."""
        ...

    def sleep(self, seconds: float) -> None: ...

    def monotonic(self) -> float:
        """Seconds on a clock that never steps (intervals, pacing); only differences mean anything."""
        ...


class SystemClock:
    def now(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)

    def monotonic(self) -> float:
        return time.monotonic()


class FakeClock:
    """A clock that only moves when told to; `sleep` advances it instead of blocking."""

    def __init__(self, start: float = 1_700_000_000.0):
        self._now = float(start)
        self._mono = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self._now

    def sleep(self, seconds: float) -> None:
        self.advance(max(0.0, seconds))

    def monotonic(self) -> float:
        with self._lock:
            return self._mono

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += seconds
            self._mono += max(0.0, seconds)

    def set(self, when: float | datetime) -> None:
        """Time passes to `when` (the monotonic clock follows forward moves)."""
        with self._lock:
            new = when.timestamp() if isinstance(when, datetime) else float(when)
            self._mono += max(0.0, new - self._now)
            self._now = new

    def step_wall(self, seconds: float) -> None:
        """An NTP/operator step of the wall clock only (negative: back in time); monotonic time does not move."""
        with self._lock:
            self._now += seconds


def iso(ts: float | None) -> str | None:
    """Epoch seconds to an ISO-8601 UTC string, the one format stored and shown."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
