"""Alert lifecycle costs: routing with grouping (near-duplicate storm vs all-distinct stories, the worst case
for text similarity) and one timer tick with many open alerts, against the same pipeline's ingest alone."""

from __future__ import annotations

import random
import tempfile
import time
from pathlib import Path

from monitor.core.clock import FakeClock
from monitor.core.model import Mention
from monitor.notify.outbox import ConsoleSender
from monitor.runtime.daemon import App, Paths
from monitor.sources import CollectResult, SourceOptions
from tests.bench.pipeline import WORDS

REPO = Path(__file__).resolve().parents[2]
STORY = "Acme customer service left me on hold for two hours and then hung up on me, absolutely awful"
# No spike route and no quiet hours: this measures grouping and timers, not a storm.
RULES = (REPO / "rules.yaml").read_text().replace("  - name: storm\n    match: {spike: {negative: 20, within: 1h}}\n"
                                                   "    escalation: critical\n", "")


def _app(tmp: str, clock: FakeClock) -> App:
    cfg = Path(tmp) / "monitor.yaml"
    cfg.write_text("brands:\n  acme: {query: acme}\nsources: []\n" + f"storage: {{path: {tmp}/bench.db}}\n")
    rules = Path(tmp) / "rules.yaml"
    rules.write_text(RULES.replace('quiet_hours: {from: "22:00", to: "07:00", tz: Europe/Paris, except: [critical]}\n', ""))
    return App(Paths(str(cfg), str(rules)), clock=clock, sender=ConsoleSender(open("/dev/null", "w")))


def _feed(app: App, texts: list[str]) -> float:
    src = SourceOptions(id="bench", kind="rss")
    ms = [Mention("bench", "rss", f"id{i}", t, url=f"https://x.example/{i}") for i, t in enumerate(texts)]
    t0 = time.perf_counter()
    for start in range(0, len(ms), 100):
        app.pipeline.ingest(src, CollectResult(mentions=ms[start:start + 100]))
        app.pipeline.process_pending()
    return time.perf_counter() - t0


def run(n: int = 2000) -> dict[str, float]:
    rnd = random.Random(3)
    dupes = [f"RT @u{i}: {STORY}" if i % 2 else f"{STORY} #{i}" for i in range(n)]
    distinct = [f"Acme {' '.join(rnd.choices(WORDS, k=25))} awful terrible" for _ in range(n)]
    out: dict[str, float] = {"mentions": n}
    for name, texts in (("storm", dupes), ("distinct", distinct)):
        with tempfile.TemporaryDirectory() as tmp:
            app = _app(tmp, FakeClock(1_710_237_600))
            took = _feed(app, texts)
            out[f"{name}_per_s"] = n / took
            out[f"{name}_alerts"] = app.store.one("SELECT COUNT(*) AS n FROM alerts")["n"]
            app.clock.advance(31)                             # type: ignore[attr-defined]
            t0 = time.perf_counter()
            app.tick()                                        # every group's first message at once
            out[f"{name}_first_tick_ms"] = (time.perf_counter() - t0) * 1000
            t0 = time.perf_counter()
            for _ in range(10):
                app.tick()                                    # the steady state: nothing due
            out[f"{name}_idle_tick_ms"] = (time.perf_counter() - t0) * 100
            app.close()
    out["distinct_vs_storm_cost"] = out["storm_per_s"] / out["distinct_per_s"]
    return out
