"""Polling round cost: 1,000 RSS sources on a local server, 90% answering 304, vs the same round without
conditional GET. The server runs in a child process so CPU time is the poller's own."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import threading
import time
from email.utils import formatdate
from pathlib import Path

from monitor.notify.outbox import ConsoleSender
from monitor.runtime.daemon import App, Paths, run_once
from tests.fakes.feeds import Feed, Item, render_rss
from tests.fakes.server import LocalServer, Reply, Request

REPO = Path(__file__).resolve().parents[2]
N_FEEDS, ITEMS = 1000, 20
WORDS = "router update outage support refund shipping price release review service login app".split()


def _feed(i: int, gen: int) -> bytes:
    items = [Item(f"f{i}-g{gen}-{k}", f"{WORDS[(i + k) % len(WORDS)]} news {k} for feed {i}",
                  " ".join(WORDS[(i * k + j) % len(WORDS)] for j in range(40)), f"https://news.example/{i}/{gen}/{k}",
                  published=1_700_000_000 + gen * 60 + k) for k in range(ITEMS)]
    return render_rss(Feed(items, title=f"feed {i}"))


def serve() -> None:
    """Child process: feed i changes when `/_bump` hits its decile, so each bump changes 10% of the feeds."""
    gens = [0] * N_FEEDS
    cache: dict[tuple[int, int], tuple[bytes, str]] = {}
    lock = threading.Lock()
    bumps = [0]

    def handler(req: Request) -> Reply:
        if req.path == "/_bump":
            with lock:
                for i in range(bumps[0] % 10, N_FEEDS, 10):
                    gens[i] += 1
                bumps[0] += 1
            return Reply(200, b"ok")
        i = int(req.path.split("/")[-1].split(".")[0])
        with lock:
            key = (i, gens[i])
            if key not in cache:
                body = _feed(i, gens[i])
                cache[key] = (body, '"' + hashlib.sha1(body).hexdigest()[:16] + '"')
            body, etag = cache[key]
        if req.headers.get("if-none-match") == etag:
            return Reply(304, b"", {"ETag": etag})
        return Reply(200, body, {"Content-Type": "application/rss+xml", "ETag": etag,
                                 "Last-Modified": formatdate(1_700_000_000 + key[1], usegmt=True)})

    with LocalServer(handler) as srv:
        print(srv.url, flush=True)
        sys.stdin.read()


def _round(app: App) -> tuple[float, float]:
    w0, c0 = time.perf_counter(), time.process_time()
    summary = run_once(app, delivery_budget_s=0.0, workers=16)
    assert summary["failed"] == 0, summary
    return time.perf_counter() - w0, time.process_time() - c0


def run() -> dict[str, float]:
    child = subprocess.Popen([sys.executable, "-m", "tests.bench.polling", "--serve"], cwd=REPO,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        url = child.stdout.readline().strip()
        import httpx
        with tempfile.TemporaryDirectory() as tmp:
            cfg = Path(tmp) / "monitor.yaml"
            cfg.write_text("brands:\n  acme: {query: acme}\nsources:\n" + "".join(
                f"  - {{id: f{i}, kind: rss, url: '{url}/feed/{i}.xml', every: 5m}}\n" for i in range(N_FEEDS))
                + f"storage: {{path: {tmp}/bench.db}}\nhttp: {{per_host_interval: 0, per_host_concurrency: 16}}\n")
            app = App(Paths(str(cfg), str(REPO / "rules.yaml")), sender=ConsoleSender(open(os.devnull, "w")))
            try:
                _round(app)                                        # prime: every feed stored, validators kept
                httpx.get(url + "/_bump")
                cond_wall, cond_cpu = _round(app)                  # 900 answer 304, 100 changed
                not_modified = app.store.one("SELECT COUNT(*) AS n FROM sources WHERE etag IS NOT NULL")["n"]
                httpx.get(url + "/_bump")
                with app.store.tx() as db:                         # the same round, without conditional GET
                    db.execute("UPDATE sources SET etag = NULL, last_modified = NULL")
                plain_wall, plain_cpu = _round(app)
            finally:
                app.close()
    finally:
        if child.stdin:
            child.stdin.close()
        child.wait(10)
    return {"sources": N_FEEDS, "items_per_feed": ITEMS, "with_validators": not_modified,
            "conditional_wall_s": cond_wall, "conditional_cpu_s": cond_cpu,
            "unconditional_wall_s": plain_wall, "unconditional_cpu_s": plain_cpu,
            "wall_ratio": cond_wall / plain_wall, "cpu_ratio": cond_cpu / plain_cpu}


if __name__ == "__main__":
    if "--serve" in sys.argv:
        serve()
    else:
        print(run())
