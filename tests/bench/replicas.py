"""Replicas: routing throughput of 1, 2 and 3 replica processes sharing one PostgreSQL, beside one on SQLite.

The work is the part replicas split between them: stored mentions routed (match, score, group, open alerts,
queue deliveries) through `process_pending`, whose `FOR UPDATE SKIP LOCKED` claims hand each replica its own
chunk. Each replica is a separate process (its own interpreter, pool and locks), started and warmed up before
the clock starts. On this 2-core machine a third replica has no core of its own, so expect 1 -> 2 to scale
and 2 -> 3 to flatten; on machines with a core per replica the database is the limit.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import tempfile
import time
from pathlib import Path

from monitor.core.model import Mention
from monitor.runtime.daemon import App, Paths
from monitor.sources import CollectResult
from tests.bench.pipeline import texts
from tests.conftest import write_config

N = 3000


def _config(tmp: Path) -> tuple[Path, Path]:
    tmp.mkdir(parents=True, exist_ok=True)
    return write_config(tmp, sources="- id: news\n  kind: rss\n  url: http://127.0.0.1:9/news.xml\n")


def _fill(cfg: Path, rules: Path, n: int) -> None:
    app = App(Paths(str(cfg), str(rules)))
    try:
        source = app.config.source("news")
        sample = texts(n, seed=11)
        for start in range(0, n, 500):
            app.pipeline.ingest(source, CollectResult(
                [Mention(source_id="news", source_kind="rss", external_id=f"m{i}", text=t)
                 for i, t in enumerate(sample[start:start + 500], start)]))
    finally:
        app.close()


def _replica(cfg: str, rules: str, url: str | None, ready: mp.Barrier, go: mp.Event, out: mp.Queue) -> None:
    if url:
        os.environ["MONITOR_DATABASE_URL"] = url
    else:
        os.environ.pop("MONITOR_DATABASE_URL", None)
    app = App(Paths(cfg, rules))
    app.analyzer.analyze(Mention(source_id="news", source_kind="rss", external_id="warm", text="acme warm up"))
    ready.wait()
    go.wait()
    routed = app.pipeline.process_pending()
    out.put((routed, time.perf_counter()))
    app.close()


def _measure(k: int, url: str | None, tmp: Path) -> tuple[float, int]:
    cfg, rules = _config(tmp)
    if url:
        os.environ["MONITOR_DATABASE_URL"] = url
    try:
        _fill(cfg, rules, N)
    finally:
        os.environ.pop("MONITOR_DATABASE_URL", None)
    ctx = mp.get_context("spawn")
    ready, go, out = ctx.Barrier(k + 1), ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_replica, args=(str(cfg), str(rules), url, ready, go, out)) for _ in range(k)]
    for p in procs:
        p.start()
    ready.wait()
    t0 = time.perf_counter()
    go.set()
    results = [out.get(timeout=600) for _ in procs]
    for p in procs:
        p.join(30)
    took = max(t for _, t in results) - t0
    return N / took, sum(r for r, _ in results)


def run() -> dict[str, float | str]:
    from tests.pgserver import fresh_schema_url
    figures: dict[str, float | str] = {}
    with tempfile.TemporaryDirectory() as d:
        os.environ.pop("MONITOR_DATABASE_URL", None)
        rate, routed = _measure(1, None, Path(d) / "sqlite")
        figures["sqlite, 1 process (/s)"] = rate
        base = None
        for k in (1, 2, 3):
            rate, routed = _measure(k, fresh_schema_url(), Path(d) / f"pg{k}")
            assert routed == N, f"{k} replicas routed {routed} of {N}"
            base = base or rate
            figures[f"postgres, {k} replica(s) (/s)"] = rate
            figures[f"postgres, {k} vs 1 replica"] = rate / base
    figures["mentions routed per run"] = str(N)
    return figures
