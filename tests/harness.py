"""A whole App on a fake clock for alert-lifecycle tests: feed it mentions, move time, read what Slack got.

Mentions go through the real pipeline (store, match, score, route, group); timers through the real `tick`;
messages through the real outbox into a recording sender (or the fake Slack server, when given its URL).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from monitor.core.clock import FakeClock
from monitor.core.model import Mention
from monitor.runtime.daemon import App, Paths
from monitor.sources import CollectResult, SourceOptions
from tests.conftest import write_config

# 2024-03-12 10:00 UTC, a Tuesday morning in Paris: outside the example's quiet hours.
MORNING = datetime(2024, 3, 12, 10, 0, tzinfo=UTC).timestamp()
NEGATIVE = "Acme customer service was unhelpful and rude, awful experience"


@dataclass
class Sent:
    channel: str
    text: str
    thread_ts: str | None = None
    ts: str = ""
    blocks: list[dict[str, Any]] = field(default_factory=list)


class Recorder:
    """The outbox's Sender, in memory."""

    def __init__(self) -> None:
        self.posts: list[Sent] = []
        self.updates: list[tuple[str, str, dict[str, Any]]] = []
        self._ts = itertools.count(1)

    def post(self, channel: str, payload: dict[str, Any], thread_ts: str | None = None) -> tuple[str, str]:
        ts = f"{next(self._ts)}.000100"
        self.posts.append(Sent(channel, payload["text"], thread_ts, ts, payload.get("blocks") or []))
        return channel, ts

    def update(self, channel: str, ts: str, payload: dict[str, Any]) -> None:
        self.updates.append((channel, ts, payload))

    def roots(self, channel: str | None = None) -> list[Sent]:
        return [p for p in self.posts if p.thread_ts is None and channel in (None, p.channel)]

    def replies(self, channel: str | None = None) -> list[Sent]:
        return [p for p in self.posts if p.thread_ts is not None and channel in (None, p.channel)]


class Harness:
    def __init__(self, tmp_path: Path, rules: str, *, start: float = MORNING, brands: str | None = None,
                 clock: FakeClock | None = None, sender: Any = None):
        self.tmp_path = tmp_path
        self.cfg, self.rules_path = write_config(tmp_path, sources="[]\n", rules=rules, brands=brands)
        self.clock = clock or FakeClock(start)
        self.sender = sender or Recorder()
        self.app = self._app()
        self._n = itertools.count(1)

    def _app(self) -> App:
        app = App(Paths(str(self.cfg), str(self.rules_path)), clock=self.clock, sender=self.sender)
        app.outbox.interval = 0.0
        return app

    def restart(self) -> None:
        """A new process on the same database (the old one is simply gone, as after kill -9 or a reboot)."""
        self.app.close()
        self.app = self._app()

    def mention(self, text: str = NEGATIVE, *, source: str = "news", kind: str = "rss", url: str | None = None,
                title: str | None = None, reach: int | None = None, rating: float | None = None,
                author: str | None = None, process: bool = True) -> None:
        n = next(self._n)
        m = Mention(source_id=source, source_kind=kind, external_id=f"m{n}", text=text, url=url, title=title,
                    reach=reach, rating=rating, author=author or f"user{n}")
        self.app.pipeline.ingest(SourceOptions(id=source, kind=kind), CollectResult(mentions=[m]))
        if process:
            self.app.pipeline.process_pending()

    def many(self, texts: list[str], **kw: Any) -> None:
        for t in texts:
            self.mention(t, process=False, **kw)
        self.app.pipeline.process_pending()

    def tick(self, flush_waiting: bool = False) -> dict[str, int]:
        out = self.app.tick(flush_waiting=flush_waiting)
        self.deliver()
        return out

    def deliver(self) -> int:
        sent, idle = 0, 0
        for _ in range(1000):
            n = self.app.outbox.run_once()
            sent += n
            idle = 0 if n else idle + 1
            if idle >= 2 or self.app.outbox.next_due_in() is None:
                break
            if not n:      # per-channel pacing: live through the interval, as the delivery loop would
                self.clock.advance(self.app.outbox.interval)
        return sent

    def advance(self, seconds: float, step: float = 5.0) -> None:
        """Move time like the daemon would live through it: a tick every `step` seconds."""
        end = self.clock.now() + seconds
        while self.clock.now() < end:
            self.clock.advance(min(step, end - self.clock.now()))
            self.tick()

    def alerts(self) -> list[dict[str, Any]]:
        return self.app.store.query("SELECT * FROM alerts ORDER BY id")

    def events(self, alert_id: int) -> list[str]:
        return [r["kind"] for r in self.app.store.query(
            "SELECT kind FROM alert_events WHERE alert_id = ? ORDER BY id", (alert_id,))]

    def close(self) -> None:
        self.app.close()


def spec_rules() -> str:
    """The rules.yaml example of SPEC.md, verbatim (kept in the routing table's data file)."""
    import yaml
    data = yaml.safe_load((Path(__file__).parent / "data" / "routing_cases.yaml").read_text())
    return str(data["rulesets"]["spec"])
