"""Slack delivery: rendering cost of hostile alerts, and outbox throughput against the local fake Slack.

Run alone with ``python -m tests.bench.slack``. Rendering is compared with `json.dumps` of the same
message (the floor of any sender); the outbox with a bare WebClient loop posting the same messages, so the
ratio is the price of storing, ordering and marking every message.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import Any

from slack_sdk import WebClient

from monitor.core.clock import SystemClock
from monitor.core.model import Target
from monitor.notify.blockkit import alert_message
from monitor.notify.outbox import Outbox, SlackSender
from monitor.notify.queue import enqueue
from monitor.store.database import Store
from tests.fakes.slack import TOKEN, FakeSlack

ALERT = {"id": 1, "brand": "acme", "route": "r", "state": "open", "mention_count": 3, "acked_by": None,
         "acked_at": None, "resolved_by": None, "level": 0, "snoozed_until": None, "kind": "mention"}
TARGET = Target("comms", "#comms", "@here")


def _render(n: int) -> dict[str, Any]:
    texts = ["<!channel> " * 2000, "&" * 100_000, "\u202egro.knab\u202c " * 500, "plain complaint " * 50]
    mentions = [{"text": t, "author": t[:300], "title": t[:200], "url": "https://x.example/a?b=1&c=<2>",
                 "source_kind": "rss", "source_id": "news"} for t in texts]
    sentiment = {"score": -0.7, "drivers": [{"text": "bad"}] * 10}
    t0 = time.perf_counter()
    msgs = [alert_message(ALERT, mentions[i % 4], sentiment, TARGET) for i in range(n)]
    render_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    for m in msgs:
        json.dumps(m)
    dump_s = time.perf_counter() - t0
    return {"render_per_s": n / render_s, "render_vs_json_dumps": render_s / dump_s}


def _outbox(n: int) -> dict[str, Any]:
    with FakeSlack() as slack, tempfile.TemporaryDirectory() as tmp:
        client = WebClient(token=TOKEN, base_url=slack.api_url, retry_handlers=[])
        t0 = time.perf_counter()
        for i in range(n):
            client.chat_postMessage(channel=f"#c{i % 5}", text=f"m{i}")
        bare_s = time.perf_counter() - t0
        store = Store(Path(tmp) / "db.sqlite", SystemClock())
        with store.tx() as db:
            for i in range(n):
                enqueue(db, store.now(), f"k{i}", "post", Target("o", f"#c{i % 5}"), {"text": f"m{i}"})
        box = Outbox(store, SlackSender(TOKEN, slack.api_url), SystemClock(), 0.0, [])
        t0 = time.perf_counter()
        sent = 0
        while sent < n:
            sent += box.run_once()
        outbox_s = time.perf_counter() - t0
        store.close()
    return {"outbox_msgs_per_s": n / outbox_s, "bare_webclient_msgs_per_s": n / bare_s,
            "outbox_vs_bare": outbox_s / bare_s}


def run() -> dict[str, Any]:
    return {**_render(400), **_outbox(500)}


if __name__ == "__main__":
    for k, v in run().items():
        print(f"{k:<28} {v:,.3f}")
