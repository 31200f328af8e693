"""Time bounds that keep the product's promise on a loaded machine.

Some tests are about a deadline the product promises ("a trickling server is cut at its 1.5 s deadline",
"a second `run --once` refuses at once"). A bare wall-clock bound on such a test fails whenever the machine is
busy (CI runs `make test` on 2 cores, often beside mypy or a model training): the 0.4 s of slack allowed for
Python's own work becomes 3 s when this process gets a quarter of a core. Here the promise stays a constant
and only the slack for our own work is scaled by how slow the machine is: the CPU share a short busy loop
gets right after the timed work. That is measured only when the unscaled bound was missed, so a test on an
idle machine pays nothing for it (the hostile-server table times hundreds of rows).

A product that waits past its promise still fails: the promise is never scaled, and the slack is only widened
by as much as the machine was measurably slow, capped (MAX_SLOWNESS) so that a hang is not excused.
"""

from __future__ import annotations

import statistics
import time
from types import TracebackType

#: A busy loop this long (CPU time) samples the share of a core the test gets.
SAMPLE_CPU_S = 0.03
#: The most the slack is ever widened: beyond this the machine is not "loaded", the test is broken.
MAX_SLOWNESS = 20.0


def slowness(samples: int = 5) -> float:
    """How many times longer than CPU time a short busy loop takes on the wall clock right now (1.0: a core
    of our own): the median of `samples` tries (the worst of a few 20 ms tries read x8.8 at load 7 on 2 cores,
    where our share is about a quarter), between 1 and MAX_SLOWNESS."""
    ratios = []
    for _ in range(samples):
        wall0, cpu0 = time.perf_counter(), time.thread_time()
        while time.thread_time() - cpu0 < SAMPLE_CPU_S:
            pass
        ratios.append((time.perf_counter() - wall0) / max(time.thread_time() - cpu0, 1e-6))
    return min(max(statistics.median(ratios), 1.0), MAX_SLOWNESS)


class Stopwatch:
    """`with Stopwatch() as sw: work()` then `sw.assert_within(promise, slack, what)`: the work took at most
    the promise plus `slack` seconds, the slack scaled by the machine's slowness when it was missed unscaled."""

    def __enter__(self) -> Stopwatch:
        self.started = time.monotonic()
        self.elapsed = 0.0
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.elapsed = time.monotonic() - self.started

    def assert_within(self, promise: float, slack: float, what: str) -> None:
        assert_within(self.elapsed, promise, slack, what)


def assert_within(elapsed: float, promise: float, slack: float, what: str) -> None:
    """`elapsed` seconds are at most `promise` + `slack`, the slack scaled by the machine's slowness (measured
    now, and only if the unscaled bound was missed)."""
    if elapsed < promise + slack:
        return
    factor = slowness()
    bound = promise + slack * factor
    assert elapsed < bound, (f"{what} took {elapsed:.2f}s; the promise is {promise:g}s + {slack:g}s of slack"
                             f" x {factor:.1f} (machine slowness) = {bound:.2f}s")
