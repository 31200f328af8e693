"""Latency: from a post appearing on the local Jetstream to the fake Slack receiving its alert, through the
real daemon (`Daemon.run`: stream thread, pipeline, outbox, real slack_sdk WebClient), with default settings.

Two arrival patterns, because the outbox paces each channel at `slack.per_channel_interval` (default 1s,
Slack's own guidance): a *trickle* (one negative post every 1.2s, under the pace) shows the pipeline's own
delay (`batch_wait` 0.25s + routing + the outbox wake-up); a *burst* (10 at once, one channel) shows the
queueing a user sees when complaints arrive together: the n-th waits about n seconds.

Every post is a different story (distinct words), or grouping would rightly fold them into one alert. Run
twice: with the default rules, where a new alert waits `group_wait` (30s) so that a burst of the same story
arrives as one message, and with `group_wait: 0s`, the pipeline's own latency. Run alone with
``python -m tests.bench.latency``.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

TRICKLE, TRICKLE_GAP_S, BURST = 8, 1.2, 8
WORDS = ("refund denied broken rude late charged twice crashed useless awful outage waiting hours never "
         "again lost parcel cancelled account locked support ignored billing error app froze").split()


def _pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def _story(i: int) -> str:
    """A complaint of its own: words drawn per post, so no two posts are near-duplicates."""
    import random
    rnd = random.Random(i)
    return "acme " + " ".join(rnd.sample(WORDS, 8)) + " terrible"


def run() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for label, group_wait in (("default", None), ("group_wait_0", "0s")):
        for key, value in _scenario(group_wait).items():
            out[f"{label}_{key}"] = value
    return out


def _scenario(group_wait: str | None) -> dict[str, Any]:
    from monitor.runtime.daemon import App, Daemon, Paths
    from tests.fakes.jetstream import FakeJetstream
    from tests.fakes.slack import TOKEN, FakeSlack

    os.environ.setdefault("SLACK_BOT_TOKEN", TOKEN)
    with FakeJetstream() as js, FakeSlack(token=os.environ["SLACK_BOT_TOKEN"]) as slack, \
            tempfile.TemporaryDirectory() as tmp:
        cfg = Path(tmp) / "monitor.yaml"
        cfg.write_text("brands:\n  acme: {query: acme}\n"
                       f"sources:\n  - {{id: bsky, kind: jetstream, url: '{js.url}'}}\n"
                       f"slack: {{api_url: '{slack.api_url}'}}\nstorage: {{path: {tmp}/bench.db}}\n")
        rules = Path(tmp) / "rules.yaml"
        rules.write_text("version: 1\nowners:\n  comms: {slack: '#comms'}\ndefaults:\n  notify: comms\n"
                         + (f"  group_wait: {group_wait}\n" if group_wait else "")
                         + "routes:\n  - name: any-negative\n    match: {sentiment: {below: -0.05}}\n    notify: comms\n")
        app = App(Paths(str(cfg), str(rules)))
        daemon = Daemon(app)
        ready = threading.Event()
        thread = threading.Thread(target=daemon.run, kwargs={"on_ready": ready.set}, daemon=True)
        thread.start()
        ready.wait(10)
        deadline = time.monotonic() + 10
        while not js.connections and time.monotonic() < deadline:
            time.sleep(0.01)

        def measure(n: int, gap: float, tag: str) -> list[float]:
            sent: dict[str, float] = {}
            for i in range(n):
                key = f"{tag}{i:03d}"
                sent[key] = time.monotonic()
                js.add_post(f"{_story(hash(key) & 0xFFFF)} {key}", time_us=int(time.time() * 1e6))
                if gap:
                    time.sleep(gap)
            got: dict[str, float] = {}
            deadline = time.monotonic() + 60 + n * 2
            while len(got) < n and time.monotonic() < deadline:
                for call in slack.posts():
                    for key in sent:
                        if key not in got and key in str(call.args.get("text")):
                            got[key] = call.at
                time.sleep(0.02)
            return [got[k] - sent[k] for k in sent if k in got]

        trickle = measure(TRICKLE, TRICKLE_GAP_S, "t")
        time.sleep(2)
        burst = measure(BURST, 0.0, "b")
        daemon.stop.set()
        thread.join(20)
        app.close()
    return {"trickle_n": len(trickle), "trickle_median_s": statistics.median(trickle),
            "trickle_p99_s": _pct(trickle, 99), "burst_n": len(burst), "burst_median_s": statistics.median(burst),
            "burst_p99_s": _pct(burst, 99), "per_channel_interval_s": app.config.slack.per_channel_interval,
            "batch_wait_s": app.config.sources[0].batch_wait}  # type: ignore[attr-defined]


if __name__ == "__main__":
    for k, v in run().items():
        print(f"{k:<24} {v:,.3f}" if isinstance(v, float) else f"{k:<24} {v}")
