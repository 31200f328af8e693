"""Firehose: a local Jetstream (its own process) replays posts as fast as they are read; how many per second
does one `monitor` stream keep up with, matching 1,000 brand keywords, storing and scoring only the matches?

Figures: sustained posts/s, CPU share of this process (1.0 = one core busy), peak memory, and the ratio to
bare `json.loads` of the same frames (the floor: no stream can be faster than decoding its frames).
Run alone with ``python -m tests.bench.firehose``.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import random
import resource
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

N_POSTS = 60_000
MATCH_RATE = 0.01            # one post in a hundred names a watched brand (a busy brand set; most are rarer)
WORDS = ("the a my is so was this today love hate app phone coffee train late again never always great awful "
         "weather cat dog news game music friends work home tired happy sad new old just really").split()
NEGATIVE = "support is terrible, refund denied, never again".split(", ")


def brand_queries(rng: random.Random, n_brands: int = 100, per_brand: int = 10) -> dict[str, str]:
    """1,000 keywords: 100 brands × 10 consonant-only names (they never collide with the filler words)."""
    def name() -> str:
        return "".join(rng.choice("bcdfghjklmnpqrstvwxz") for _ in range(rng.randint(5, 8)))
    return {f"brand{i}": " OR ".join(name() for _ in range(per_brand)) for i in range(n_brands)}


def frames(seed: int = 11) -> tuple[list[tuple[int, str]], int]:
    """Jetstream-shaped post frames (about 600 bytes each, as on the real network) and how many match."""
    rng = random.Random(seed)
    keywords = [k for q in brand_queries(random.Random(5)).values() for k in q.split(" OR ")]
    t = int((time.time() - 3600) * 1_000_000)
    out, matched = [], 0
    for _ in range(N_POSTS):
        words = rng.choices(WORDS, k=rng.randint(6, 40))
        if rng.random() < MATCH_RATE:
            words.insert(rng.randrange(len(words)), rng.choice(keywords))
            words.append(rng.choice(NEGATIVE))
            matched += 1
        t += rng.randint(50, 400)
        did = f"did:plc:{rng.getrandbits(100):025x}"
        ev = {"did": did, "time_us": t, "kind": "commit",
              "commit": {"rev": f"3l{rng.getrandbits(50):x}", "operation": "create", "collection": "app.bsky.feed.post",
                         "rkey": f"3l{rng.getrandbits(48):x}", "cid": f"bafyrei{rng.getrandbits(200):x}",
                         "record": {"$type": "app.bsky.feed.post", "langs": ["en"], "text": " ".join(words),
                                    "createdAt": datetime.fromtimestamp(t / 1e6, UTC).isoformat()}}}
        out.append((t, json.dumps(ev, separators=(",", ":"))))
    return out, matched


def _serve(port_q: Any, stop: Any) -> None:
    from tests.fakes.jetstream import FakeJetstream

    js = FakeJetstream()
    js.add_frames(frames()[0])
    with js:
        port_q.put(js.url)
        stop.wait()


def run() -> dict[str, Any]:
    from monitor.notify.outbox import ConsoleSender
    from monitor.runtime.daemon import App, Paths, runner_for

    data, matched = frames()
    raw = [f for _, f in data]
    t0 = time.perf_counter()
    for f in raw:
        json.loads(f)
    json_s = time.perf_counter() - t0

    ctx = mp.get_context("spawn")
    port_q, stop_srv = ctx.Queue(), ctx.Event()
    server = ctx.Process(target=_serve, args=(port_q, stop_srv), daemon=True)
    server.start()
    url = port_q.get(timeout=120)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with tempfile.TemporaryDirectory() as tmp:
        brands = brand_queries(random.Random(5))
        cfg = Path(tmp) / "monitor.yaml"
        cfg.write_text("brands:\n" + "".join(f"  {b}: {{query: '{q}'}}\n" for b, q in brands.items())
                       + f"sources:\n  - {{id: bsky, kind: jetstream, url: '{url}'}}\n"
                       + f"storage: {{path: {tmp}/bench.db}}\n")
        rules = Path(tmp) / "rules.yaml"
        rules.write_text("version: 1\nowners:\n  comms: {slack: '#comms'}\ndefaults:\n  notify: comms\n"
                         "routes:\n  - name: any-negative\n    match: {sentiment: {below: -0.05}}\n    notify: comms\n")
        app = App(Paths(str(cfg), str(rules)), sender=ConsoleSender(open("/dev/null", "w")))
        runner = runner_for(app, app.config.sources[0])  # type: ignore[arg-type]
        stop = threading.Event()
        thread = threading.Thread(target=runner.run, args=(stop,), daemon=True)
        cpu0, w0 = time.process_time(), time.perf_counter()
        thread.start()
        while runner.stats.events < N_POSTS and time.perf_counter() - w0 < 300:
            time.sleep(0.01)
        wall, cpu = time.perf_counter() - w0, time.process_time() - cpu0
        stop.set()
        thread.join(10)
        stored = app.store.one("SELECT COUNT(*) AS n FROM mentions")["n"]
        alerts = app.store.one("SELECT COUNT(*) AS n FROM alerts")["n"]
        app.close()
    stop_srv.set()
    server.join(10)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rate = runner.stats.events / wall
    return {"posts": runner.stats.events, "brand_keywords": 1000, "matched_expected": matched,
            "stored": stored, "alerts": alerts, "posts_per_s": rate, "json_decode_per_s": N_POSTS / json_s,
            "ratio_vs_json_decode": rate / (N_POSTS / json_s), "cpu_share": cpu / wall,
            "peak_rss_mb": peak, "rss_before_mb": rss_before}


if __name__ == "__main__":
    for k, v in run().items():
        print(f"{k:<24} {v:,.3f}" if isinstance(v, float) else f"{k:<24} {v}")
