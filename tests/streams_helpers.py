"""Helpers shared by the stream tests: an App on a fake stream, a runner in a thread, waiting on the store."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from monitor.runtime.daemon import App, Paths, runner_for
from monitor.runtime.streams import StreamRunner
from tests.conftest import write_config
from tests.timing import Stopwatch


def make_app(tmp_path: Path, source_yaml: str, slack_url: str = "http://127.0.0.1:9/api/", http: str = "") -> App:
    """`http`: more keys of the `http:` section, e.g. "  connect_timeout: 30s\n"."""
    cfg, rules = write_config(tmp_path, sources=source_yaml, slack_url=slack_url)
    if http:
        cfg.write_text(cfg.read_text().replace("http:\n", "http:\n" + http, 1))
    return App(Paths(str(cfg), str(rules)))


def wait_for(cond: Callable[[], bool], timeout: float = 15.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


@contextmanager
def running(app: App, sleep: Callable[[float], bool] | None = None) -> Iterator[StreamRunner]:
    """The app's first source streaming in a thread; reconnect delays skipped unless `sleep` is given."""
    runner = runner_for(app, app.config.sources[0])  # type: ignore[arg-type]
    stop = threading.Event()
    runner._sleep = sleep or (lambda s: stop.is_set())
    thread = threading.Thread(target=runner.run, args=(stop,), daemon=True)
    thread.start()
    try:
        yield runner
    finally:
        stop.set()
        runner.interrupt()
        thread.join(10)
        assert not thread.is_alive(), "the stream thread did not stop"


def stop_when(app: App, stalled: Callable[[], bool]) -> Stopwatch:
    """Stream the app's first source (reconnecting at once) until `stalled()`, then stop it as the daemon does
    (the stop event, then `interrupt`): how long its thread took to end, which must be well within 10 s."""
    runner = runner_for(app, app.config.sources[0])  # type: ignore[arg-type]
    stop = threading.Event()
    runner._sleep = lambda s: stop.is_set()
    thread = threading.Thread(target=runner.run, args=(stop,), daemon=True)
    thread.start()
    try:
        wait_for(stalled, what="the stream to stall")
    finally:
        with Stopwatch() as sw:
            stop.set()
            runner.interrupt()
            thread.join(10)
    assert not thread.is_alive(), f"the stream thread did not stop within {sw.elapsed:.1f}s"
    return sw


def stored_ids(app: App) -> list[str]:
    return [r["external_id"] for r in app.store.query("SELECT external_id FROM mentions ORDER BY id")]
