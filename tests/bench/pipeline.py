"""Pipeline throughput: mentions/s through match, score, store and route, against bare VADER on the same texts."""

from __future__ import annotations

import random
import tempfile
import time
from pathlib import Path

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from monitor.config.settings import load_config
from monitor.core.model import Mention
from monitor.notify.outbox import ConsoleSender
from monitor.runtime.daemon import App, Paths
from monitor.sources import CollectResult

REPO = Path(__file__).resolve().parents[2]
WORDS = ("the app crashed again support was rude refund denied love it great update works fine slow "
         "shipping order arrived broken waiting on hold for two hours amazing service terrible never again "
         "thanks for the quick fix my account was hacked price went up happy customer").split()


def texts(n: int, seed: int = 7) -> list[str]:
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        words = rnd.choices(WORDS, k=rnd.randint(8, 30))
        if i % 3 == 0:
            words.insert(rnd.randint(0, len(words)), rnd.choice(["Acme", "@acme", "#acme", "acme's"]))
        out.append(" ".join(words))
    return out


def run(n: int = 5000) -> dict[str, float]:
    sample = texts(n)
    vader = SentimentIntensityAnalyzer()
    t0 = time.perf_counter()
    for t in sample:
        vader.polarity_scores(t)
    vader_s = time.perf_counter() - t0

    with tempfile.TemporaryDirectory() as tmp:
        cfg_path = Path(tmp) / "monitor.yaml"
        cfg_path.write_text(
            "brands:\n  acme: {query: '\"acme\" OR @acme OR #acme'}\n"
            "sources:\n  - {id: bench, kind: rss, url: 'http://127.0.0.1/'}\n"
            f"storage: {{path: {tmp}/bench.db}}\n")
        app = App(Paths(str(cfg_path), str(REPO / "rules.yaml")), sender=ConsoleSender(open("/dev/null", "w")))
        source = load_config(cfg_path).sources[0]
        mentions = [Mention("bench", "rss", f"id{i}", t, published=time.time()) for i, t in enumerate(sample)]
        t0 = time.perf_counter()
        for start in range(0, n, 100):     # pages of 100, as a collector would hand them over
            app.pipeline.ingest(source, CollectResult(mentions=mentions[start:start + 100]))
            app.pipeline.process_pending()
        pipe_s = time.perf_counter() - t0
        alerts = app.store.one("SELECT COUNT(*) AS n FROM alerts")["n"]
        app.close()
    return {"mentions": n, "vader_per_s": n / vader_s, "pipeline_per_s": n / pipe_s,
            "ratio_vs_vader": vader_s / pipe_s, "alerts": alerts}


if __name__ == "__main__":
    print(run())
