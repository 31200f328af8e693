"""A cron round (`PollDispatcher.run_round`) with its stop already set starts no poll: not one request leaves.

Regression (round 23): `run_round` queued the round's sources and started the pool before it looked at the stop,
so the pool's loop could start the first polls (one per host, up to the workers) of a pass whose SIGTERM had
already come; `run_once` checked the stop itself to avoid it, and any other caller did not. The pool now looks at
the caller's stop before each start, and `run_round` starts nothing when it is set.
"""

from __future__ import annotations

import threading

from monitor.runtime.daemon import App, Paths
from tests.conftest import write_config
from tests.fakes.feeds import Feed

SOURCES = 6


def _app(tmp_path, feed_server) -> App:
    listed = "".join(f"- id: s{i}\n  kind: rss\n  url: {feed_server.feed_url(f'/f{i}.xml')}\n" for i in range(SOURCES))
    for i in range(SOURCES):
        feed_server.feeds[f"/f{i}.xml"] = Feed([])
    cfg, rules = write_config(tmp_path, sources=listed)
    return App(Paths(str(cfg), str(rules)))


def test_a_round_whose_stop_is_already_set_sends_no_request(tmp_path, feed_server):
    app = _app(tmp_path, feed_server)
    stop = threading.Event()
    stop.set()
    try:
        for _ in range(20):          # the pool's loop raced run_round's first look at the stop: asked many times
            results = app.dispatcher(app.poll_source).run_round(app.config.sources, stop=stop, drain_s=5)
            assert results == [None] * SOURCES
        assert feed_server.hits == {}, "a poll started after the stop"
    finally:
        app.close()


def test_a_round_without_a_stop_polls_every_source_once(tmp_path, feed_server):
    app = _app(tmp_path, feed_server)
    try:
        results = app.dispatcher(app.poll_source).run_round(app.config.sources, stop=threading.Event(), drain_s=5)
        assert all(r is not None and r.ok for r in results), results
        assert feed_server.hits == {f"/f{i}.xml": 1 for i in range(SOURCES)}
    finally:
        app.close()
