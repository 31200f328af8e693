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


def make_app(tmp_path: Path, source_yaml: str, slack_url: str = "http://127.0.0.1:9/api/") -> App:
    cfg, rules = write_config(tmp_path, sources=source_yaml, slack_url=slack_url)
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


def stored_ids(app: App) -> list[str]:
    return [r["external_id"] for r in app.store.query("SELECT external_id FROM mentions ORDER BY id")]
