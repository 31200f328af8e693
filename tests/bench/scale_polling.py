"""Polling at scale: 5,000 RSS sources (50 local hosts × 100 feeds) at a 5-minute interval, compressed 10×.

Time is compressed so a bench takes about two minutes, not fifteen: `every` 30 s instead of 5 min, and every
politeness and timeout figure divided by ten with it (`per_host_interval` 0.1 s, fetch deadline 6 s, slow
feeds 0.5 s). Each host then carries the same share of its round as in real time (100 feeds × one gap =
a third of the interval), but the poller does ten times the work per second: the drift figures are for
that harsher load. CPU per round does not depend on the compression.

The feeds live in one child process and the poller in another, so CPU, peak memory and thread count are
the poller's own. Per round: 5% of the feeds change (3 new items each), 1% are slow, 10 never answer,
the rest answer 304. Steps in the poller process:
1. cold `monitor run --once` round (every feed new: 15,000 items stored and routed), then a warm one;
2. the baseline: the same 5,000 conditional GETs with a plain `httpx.Client`, nothing else, on one thread
   (the client's own cost) and on 64 threads at once (the same plus GIL contention);
3. the daemon for `ROUNDS` intervals: CPU per round (and its ratio to the baseline), schedule drift
   (actual start minus due time; the first round after a start is reported apart: everything is due at
   once and each host's sources queue behind its politeness gap), most threads alive, RSS after each round.
"""

from __future__ import annotations

import dataclasses
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
HOSTS, FEEDS_PER_HOST, ITEMS = 50, 100, 3
SCALE = 10.0                                    # time compression
EVERY = 300.0 / SCALE
ROUNDS = int(os.environ.get("BENCH_SCALE_ROUNDS", "3"))
SLOW = set(range(7, HOSTS * FEEDS_PER_HOST, 100))          # 1%, one per host
HUNG = set(range(13, HOSTS * FEEDS_PER_HOST, 500))         # 10 sources that never answer


def serve() -> None:
    from tests.fakes.feedfarm import FeedFarm

    farm = FeedFarm(HOSTS, FEEDS_PER_HOST, items=ITEMS, change_every=EVERY, change_share=0.05,
                    slow=SLOW, slow_s=5.0 / SCALE, hung=HUNG)
    with farm:
        print(json.dumps(farm.urls()), flush=True)
        sys.stdin.read()


def _rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(p * len(values)))] if values else 0.0


def poll(urls: list[str]) -> dict[str, Any]:
    """Poller child: everything measured here is the monitor's own."""
    import httpx

    from monitor.core import logs
    from monitor.notify.outbox import ConsoleSender
    from monitor.runtime.daemon import App, Daemon, Paths, run_once

    logs.setup("INFO", stream=open(os.devnull, "w"))       # the daemon logs a line per poll: pay for it
    out: dict[str, Any] = {"sources": len(urls), "hosts": HOSTS, "interval_s": EVERY,
                           "time_compression": SCALE}
    with tempfile.TemporaryDirectory() as tmp:
        cfg = Path(tmp) / "monitor.yaml"
        cfg.write_text("brands:\n  acme: {query: acme}\nsources:\n" + "".join(
            f"  - {{id: f{i}, kind: rss, url: '{u}', every: 5m}}\n" for i, u in enumerate(urls))
            + f"storage: {{path: {tmp}/bench.db}}\n"
            + f"http: {{per_host_interval: {1 / SCALE}, deadline: {60 / SCALE}, read_timeout: {20 / SCALE},"
              f" connect_timeout: {10 / SCALE}, allow_private: true}}\n")
        app = App(Paths(str(cfg), str(REPO / "rules.yaml")), sender=ConsoleSender(open(os.devnull, "w")))
        try:
            for name in ("cold", "warm"):
                w0, c0 = time.perf_counter(), time.process_time()
                summary = run_once(app, delivery_budget_s=0.0)
                out[f"once_{name}_wall_s"] = time.perf_counter() - w0
                out[f"once_{name}_cpu_s"] = time.process_time() - c0
                out[f"once_{name}_failed"] = summary["failed"]
            etags = {r["id"]: r["etag"] for r in app.store.query("SELECT id, etag FROM sources")}

            # baseline: the same conditional GETs, bare
            plain = httpx.Client(limits=httpx.Limits(max_connections=64, max_keepalive_connections=64),
                                 timeout=60 / SCALE)

            def get(i: int) -> int:
                etag = etags.get(f"f{i}")
                return plain.get(urls[i], headers={"If-None-Match": etag} if etag else {}).status_code

            live = [i for i in range(len(urls)) if i not in HUNG]
            w0, c0 = time.perf_counter(), time.process_time()
            statuses = [get(i) for i in live]               # one thread: the client's own cost, no contention
            out["bare_http_wall_s"] = time.perf_counter() - w0
            out["bare_http_cpu_s"] = time.process_time() - c0
            with ThreadPoolExecutor(64) as pool:            # and on 64 threads at once, as a burst
                c0 = time.process_time()
                list(pool.map(get, live))
                out["bare_http_64_threads_cpu_s"] = time.process_time() - c0
            plain.close()
            out["bare_http_304_share"] = statuses.count(304) / len(statuses)

            # the daemon, ROUNDS intervals
            app.config = dataclasses.replace(app.config, sources=[
                s.model_copy(update={"every": EVERY}) for s in app.config.sources])
            daemon = Daemon(app, drain_timeout=60 / SCALE)
            threads = [threading.active_count()]
            rss: list[float] = []
            stop_sampling = threading.Event()

            def sample() -> None:
                while not stop_sampling.wait(0.05):
                    threads.append(threading.active_count())

            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            runner = threading.Thread(target=daemon.run, daemon=True)
            w0, c0 = time.perf_counter(), time.process_time()
            runner.start()
            for _ in range(ROUNDS):
                time.sleep(EVERY)
                rss.append(_rss_mb())
            daemon.stop.set()
            runner.join(30)
            wall, cpu = time.perf_counter() - w0, time.process_time() - c0
            stop_sampling.set()
            sampler.join()
            drifts = list(daemon.polls.drifts)
            polls = len(drifts)
            first, steady = drifts[:len(urls)], drifts[len(urls):]
            out.update({
                "daemon_wall_s": wall, "daemon_polls": polls, "rounds": polls / len(urls),
                "cpu_per_round_s": cpu / (polls / len(urls)),
                "cpu_per_round_vs_bare_http": (cpu / (polls / len(urls))) / out["bare_http_cpu_s"],
                "cpu_share_of_one_core": cpu / wall,
                "drift_first_round_p50_s": _pct(first, 0.5), "drift_first_round_p99_s": _pct(first, 0.99),
                "drift_steady_p50_s": _pct(steady, 0.5), "drift_steady_p99_s": _pct(steady, 0.99),
                "drift_steady_max_s": max(steady, default=0.0),
                "max_concurrent_polls": app.config.daemon.max_concurrent_polls,
                "threads_max": max(threads),
                "rss_after_each_round_mb": " / ".join(f"{r:.0f}" for r in rss),
                "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "overlapped": _overlapped(app),
            })
        finally:
            app.close()
    return out


def _overlapped(app: Any) -> int:
    return int(sum(s.value for m in app.metrics.polls_overlapped.collect() for s in m.samples
                   if s.name.endswith("_total")))


def run() -> dict[str, Any]:
    server = subprocess.Popen([sys.executable, "-m", "tests.bench.scale_polling", "--serve"], cwd=REPO,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None and server.stdin is not None
        urls_json = server.stdout.readline()
        poller = subprocess.run([sys.executable, "-m", "tests.bench.scale_polling", "--poll"], cwd=REPO,
                                input=urls_json, capture_output=True, text=True, timeout=1800)
        if poller.returncode:
            raise RuntimeError(f"poller child failed:\n{poller.stderr[-3000:]}")
        result: dict[str, Any] = json.loads(poller.stdout.strip().splitlines()[-1])
        return result
    finally:
        if server.stdin:
            server.stdin.close()
        server.wait(30)


if __name__ == "__main__":
    if "--serve" in sys.argv:
        serve()
    elif "--poll" in sys.argv:
        print(json.dumps(poll(json.loads(sys.stdin.readline()))))
    else:
        for k, v in run().items():
            print(f"{k:<28} {v:,.3f}" if isinstance(v, float) else f"{k:<28} {v}")
