"""Operations at scale: pruning throughput, and what a Prometheus scrape or `monitor status` costs on a
large database (both read it while the daemon writes).

Run alone with ``python -m tests.bench operations``. 200,000 mentions over 100 days (2% linked to alerts),
pruned to 30 days; the scrape and status are timed before and after, and the baseline is a plain
`SELECT COUNT(*) FROM mentions` on the same database.
"""

from __future__ import annotations

import json
import random
import tempfile
import time
from pathlib import Path
from typing import Any

from prometheus_client import generate_latest

from monitor.config.settings import config_from
from monitor.core.clock import FakeClock
from monitor.core.yamlfile import load_yaml
from monitor.ops import health
from monitor.ops.metrics import Metrics
from monitor.store import retention
from monitor.store.database import Store

DAY = 86400.0
N = 200_000


def _fill(store: Store, clock: FakeClock, rng: random.Random) -> None:
    start = clock.now() - 100 * DAY
    text = "Acme support " + "lorem ipsum dolor sit amet " * 8
    with store.tx() as db:
        rows = []
        for i in range(N):
            at = start + i * (100 * DAY / N)
            neg = rng.random() < 0.2
            rows.append((f"src{i % 5}", f"e{i}", text, at, at, json.dumps(["acme"]) if rng.random() < 0.6 else "[]",
                         "routed" if neg else "matched", int(neg)))
        db.conn.executemany(
            "INSERT INTO mentions (source_id, source_kind, external_id, text, collected_at, processed_at, brands,"
            " status, negative) VALUES (?, 'rss', ?, ?, ?, ?, ?, ?, ?)", rows)
        for i in range(0, N, 50):
            cur = db.execute("INSERT INTO alerts (group_key, targets, created_at, updated_at) VALUES (?, ?, ?, ?)",
                             (f"g{i}", json.dumps([{"owner": "comms", "channel": "#c"}]), start, start))
            db.execute("INSERT INTO alert_mentions (alert_id, mention_id) VALUES (?, ?)", (cur.lastrowid, i + 1))


def _timed(fn: Any, repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def run() -> dict[str, Any]:
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        clock = FakeClock(1_700_000_000.0)
        store = Store(path, clock)
        _fill(store, clock, rng)
        cfg_file = Path(tmp) / "monitor.yaml"
        cfg_file.write_text("brands:\n  acme: {query: acme}\nsources:\n" + "".join(
            f"  - {{id: src{i}, kind: rss, url: 'http://127.0.0.1/{i}'}}\n" for i in range(5)))
        config = config_from(load_yaml(cfg_file))
        metrics = Metrics(str(path))
        baseline = _timed(lambda: store.one("SELECT COUNT(*) FROM mentions"))
        scrape_before = _timed(lambda: generate_latest(metrics.registry))
        status_before = _timed(lambda: health.report(config, store, clock.now()))
        size_before = path.stat().st_size
        t0 = time.perf_counter()
        result = retention.prune(store, 30 * DAY)
        prune_s = time.perf_counter() - t0
        scrape_after = _timed(lambda: generate_latest(metrics.registry))
        store.close()
        return {
            "mentions": N,
            "pruned": result.mentions,
            "kept (linked to alerts)": result.kept_linked,
            "prune mentions/s": result.mentions / prune_s,
            "scrape ms (200k rows)": scrape_before * 1000,
            "scrape ms (after prune)": scrape_after * 1000,
            "scrape / COUNT(*) ratio": scrape_before / baseline,
            "status ms (200k rows)": status_before * 1000,
            "db MB before prune": size_before / 1e6,
        }
