"""Shared pieces of the replica tests and the replicas bench: feed hosts that log requests, a load of stories,
replica processes on one PostgreSQL schema, and the checks "nothing lost, nothing twice"."""

from __future__ import annotations

import random
import re
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from monitor.store.database import Store
from tests.conftest import write_config
from tests.fakes.feeds import Feed, FeedServer, Item
from tests.fakes.process import MonitorProcess
from tests.fakes.server import Reply, Request
from tests.fakes.slack import TOKEN, FakeSlack
from tests.pgserver import fresh_schema_url

WORDS = ("blender kettle toaster refund courier parcel invoice screen battery hinge strap motor filter nozzle "
         "warranty manager checkout voucher basket login password update firmware speaker charger cable drawer "
         "handle lid seal valve pump boiler thermostat display keypad remote sensor timer plug socket fuse").split()
STORY = re.compile(r"story-(\d{5})")


@pytest.fixture(name="pg_url")
def pg_url_fixture(monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh schema on the session's PostgreSQL, also in $MONITOR_DATABASE_URL (the replicas' database)."""
    url = fresh_schema_url()
    monkeypatch.setenv("MONITOR_DATABASE_URL", url)
    return url


class LoggedFeeds(FeedServer):
    """A feed host that logs when each path was asked for (the per-feed gaps the acceptance criteria bound);
    `delay` makes it slow to answer, so a poll (and its host lease) lasts long enough to be killed mid-way."""

    def __init__(self, delay: float = 0.0) -> None:
        super().__init__()
        self.log: list[tuple[str, float]] = []
        self.delay = delay

    def _serve(self, req: Request) -> Reply:
        self.log.append((req.path, time.monotonic()))
        if self.delay:
            time.sleep(self.delay)
        return super()._serve(req)

    def gaps(self, path: str) -> list[float]:
        times = [t for p, t in self.log if p == path]
        return [b - a for a, b in zip(times, times[1:], strict=False)]


def story_text(n: int, rng: random.Random) -> tuple[str, str]:
    words = " ".join(rng.sample(WORDS, 9))
    return f"Acme story-{n:05d} {words}", f"Acme {words} is terrible, awful and broken. story-{n:05d}"


class Load:
    """New negative stories appear on the feeds at a steady rate until stopped (each feed gets its share)."""

    def __init__(self, hosts: list[LoggedFeeds], feeds_per_host: int, rate: float, seed: int = 7):
        self.hosts = hosts
        self.paths = [(h, f"/f{i}.xml") for h in hosts for i in range(feeds_per_host)]
        for h, p in self.paths:
            h.feeds[p] = Feed([])
        self.rate = rate
        self.rng = random.Random(seed)
        self.count = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def add(self) -> None:
        host, path = self.paths[self.count % len(self.paths)]
        title, text = story_text(self.count, self.rng)
        feed = host.feeds[path]
        feed.items = [Item(f"g{self.count}", title, text, published=time.time()), *feed.items][:40]
        self.count += 1

    def _run(self) -> None:
        while not self._stop.wait(1.0 / self.rate):
            self.add()

    def start(self) -> Load:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.ident is not None:       # started (stopping twice, or never started, is fine)
            self._thread.join()


def replica_config(tmp_path: Path, hosts: list[LoggedFeeds], feeds_per_host: int, slack: FakeSlack, *,
                   every: float = 2.0, ttl: float = 3.0) -> tuple[Path, Path]:
    sources = "".join(f"- id: h{h}f{i}\n  kind: rss\n  url: {host.feed_url(f'/f{i}.xml')}\n  every: {every}s\n"
                      for h, host in enumerate(hosts) for i in range(feeds_per_host))
    cfg, rules = write_config(tmp_path, slack_url=slack.api_url, sources=sources)
    text = cfg.read_text()
    text = text.replace("storage:\n", f"storage:\n  lease_ttl: {ttl}s\n")
    text = text.replace("http:\n", "http:\n  deadline: 2s\n  per_host_interval: 0\n")
    cfg.write_text(text)
    return cfg, rules


def start_replicas(n: int, cfg: Path, rules: Path, url: str) -> list[MonitorProcess]:
    procs = [MonitorProcess(["run", "--config", str(cfg), "--rules", str(rules)],
                            env={"MONITOR_DATABASE_URL": url, "SLACK_BOT_TOKEN": TOKEN}).start() for _ in range(n)]
    for p in procs:
        p.wait_for("daemon started", timeout=60)
    return procs


def holder_pid(store: Store, lease: str) -> int | None:
    row = store.one("SELECT holder FROM leases WHERE name = ? AND expires_at > db_now()", (lease,))
    if row is None or row["holder"].startswith("released:"):
        return None
    return int(row["holder"].split(":")[-2])


def roots_per_story(slack: FakeSlack, channel: str) -> tuple[Counter[int], list[int]]:
    """How many root messages each story got in `channel`, and the stories in the order they were posted."""
    order: list[int] = []
    for call in slack.posts(channel):
        if call.args.get("thread_ts"):
            continue
        m = STORY.search(str(call.args.get("text", "")) + str(call.args.get("blocks", "")))
        if m:
            order.append(int(m.group(1)))
    return Counter(order), order


def wait_until(cond: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.2)


def delivery_order(store: Store, channel: str) -> dict[int, int]:
    """story -> id of its root delivery in `channel` (the order the outbox must keep)."""
    out = {}
    for r in store.query("SELECT d.id, m.title FROM deliveries d JOIN alert_mentions am ON am.alert_id = d.alert_id"
                         " JOIN mentions m ON m.id = am.mention_id WHERE d.channel = ? AND d.kind = 'post'"
                         " AND d.parent_id IS NULL", (channel,)):
        m = STORY.search(r["title"] or "")
        if m:
            out.setdefault(int(m.group(1)), r["id"])
    return out


# -- the full acceptance run: several channels, a stream, an escalation policy in seconds ------------------

def channels_rules(esc_after: tuple[float, float]) -> str:
    """Each feed host posts to a channel of its own, the stream to #social, and the second feed of the third
    host opens alerts with a three-level policy whose levels come seconds apart (so they fire across a kill)."""
    two, three = esc_after
    return f"""\
version: 1
owners:
  team-a: {{slack: "#alerts-a"}}
  team-b: {{slack: "#alerts-b"}}
  comms-oncall: {{slack: "#comms-alerts"}}
  social: {{slack: "#social"}}
  esc-one: {{slack: "#esc-one"}}
  esc-two: {{slack: "#esc-two"}}
  head-of-comms: {{slack: "@U0HEAD"}}
defaults:
  notify: comms-oncall
  group_wait: 1s
escalation_policies:
  fast:
    - notify: esc-one
    - after: {two:g}s
      notify: esc-two
    - after: {three:g}s
      notify: head-of-comms
routes:
  - name: escalating
    match: {{source: [h2f1]}}
    escalation: fast
  - name: host-a
    match: {{source: [h0f0, h0f1]}}
    notify: team-a
  - name: host-b
    match: {{source: [h1f0, h1f1]}}
    notify: team-b
  - name: stream
    match: {{source: [bsky]}}
    notify: social
  - name: any-negative
    match: {{sentiment: {{below: -0.05}}}}
    notify: comms-oncall
"""


def story_channels(n: int) -> tuple[str, ...]:
    """Where story `n` of a `Load` over 3 hosts × 2 feeds must have its root message(s)."""
    return {0: ("#alerts-a",), 1: ("#alerts-a",), 2: ("#alerts-b",), 3: ("#alerts-b",), 4: ("#comms-alerts",),
            5: ("#esc-one", "#esc-two", "U0HEAD")}[n % 6]          # a user's DM: chat.postMessage(channel=U…)


def leases_by_pid(store: Store) -> dict[int, list[str]]:
    """Live leases per holder process, read from the leases table (who is the worst replica to lose)."""
    out: dict[int, list[str]] = {}
    for r in store.query("SELECT name, holder FROM leases WHERE expires_at > db_now() ORDER BY name"):
        if not r["holder"].startswith("released:"):
            out.setdefault(int(r["holder"].split(":")[-2]), []).append(r["name"])
    return out


ESCALATED = re.compile(r"Escalated to level (\d+)")


def escalation_replies(slack: FakeSlack) -> Counter[tuple[int, int, str]]:
    """(story, level, channel id) -> how many "Escalated to level N" thread replies Slack got for it."""
    from tests.fakes.slack import channel_id
    roots = {}
    for (cid, ts), m in list(slack.messages.items()):
        found = STORY.search(str(m.get("text")) + str(m.get("blocks"))) if not m.get("thread_ts") else None
        if found:
            roots[(cid, ts)] = int(found.group(1))
    out: Counter[tuple[int, int, str]] = Counter()
    for call in slack.posts():
        level = ESCALATED.search(str(call.args.get("text", "")))
        thread = call.args.get("thread_ts")
        if level and thread:
            cid = channel_id(str(call.args.get("channel")))
            out[(roots[(cid, str(thread))], int(level.group(1)), cid)] += 1
    return out
