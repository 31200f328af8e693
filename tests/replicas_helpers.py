"""Shared pieces of the replica tests and the replicas bench: feed hosts that log requests, a load of stories,
replica processes on one PostgreSQL schema, and the acceptance rig of issue 15 (`Rig`) with its checks
(nothing lost, nothing twice, order, politeness, the stream, escalations), which every fault scenario runs."""

from __future__ import annotations

import os
import random
import re
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from monitor.store.database import Store
from tests.conftest import write_config
from tests.fakes.feeds import Feed, FeedServer, Item
from tests.fakes.jetstream import FakeJetstream
from tests.fakes.process import MonitorProcess
from tests.fakes.server import Reply, Request
from tests.fakes.slack import TOKEN, FakeSlack, channel_id
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

EVERY, TTL, ESCALATE_AFTER = 10.0, 3.0, (4.0, 8.0)
JITTER = min(30.0, EVERY * 0.05)                 # the dispatcher's own rule (monitor/runtime/dispatch.py)
STORY_CHANNELS = ("#alerts-a", "#alerts-b", "#comms-alerts", "#esc-one", "#esc-two", "U0HEAD")
FIRST = {"stream:bsky"} | {f"channel:{c}" for c in ("#alerts-a", "#alerts-b", "#comms-alerts", "#social", "#esc-one")}
REFUSED = re.compile(r"lease (\S+) \(token (\d+)\) is no longer held")    # the fence's words (store/leases.py)
ESCALATED = re.compile(r"Escalated to level (\d+)")


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


def escalation_replies(slack: FakeSlack) -> Counter[tuple[int, int, str]]:
    """(story, level, channel id) -> how many "Escalated to level N" thread replies Slack got for it."""
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


def jetstream_posts(js: FakeJetstream, posts: int, every_nth: int) -> list[str]:
    """`posts` stream events, every `every_nth` one about the brand; returns the URIs that must be stored."""
    wanted = []
    for i in range(posts):
        if i % every_nth == 0:
            js.add_post(f"acme support is terrible, refund denied ({i})", rkey=f"k{i}")
            wanted.append(f"at://did:plc:fakeuser/app.bsky.feed.post/k{i}")
        else:
            js.add_post(f"just a day at the beach {i}", rkey=f"k{i}")
    return wanted


def stored(store: Store, source: str) -> list[str]:
    return [r["external_id"] for r in store.query("SELECT external_id FROM mentions WHERE source_id = ?", (source,))]


def channel_leases(held: list[str]) -> int:
    return sum(n.startswith("channel:") for n in held)


def check_roots(store: Store, slack: FakeSlack, stories: int, in_flight: int) -> dict[str, int]:
    """One root per story and channel, at most `in_flight` more per channel (sent by a replica that was hit
    before it marked them sent); per-channel order kept. Returns the extra roots per channel."""
    twice_by_channel = {}
    for channel in STORY_CHANNELS:
        counts, order = roots_per_story(slack, channel)
        assert set(counts) == {s for s in range(stories) if channel in story_channels(s)}, channel
        twice = sorted(s for s, c in counts.items() if c > 1)
        assert all(counts[s] == 2 for s in twice) and len(twice) <= in_flight, (channel, twice)
        twice_by_channel[channel] = len(twice)
        ids = delivery_order(store, channel)
        first_seen = list(dict.fromkeys(order))
        assert [ids[s] for s in first_seen] == sorted(ids[s] for s in first_seen), channel
    stream_roots = [c for c in slack.posts("#social") if not c.args.get("thread_ts")]
    stream_alerts = store.one("SELECT COUNT(*) AS n FROM alerts WHERE route = 'stream'")["n"]
    assert 1 <= stream_alerts <= len(stream_roots) <= stream_alerts + in_flight, (stream_alerts, len(stream_roots))
    twice_by_channel["#social"] = len(stream_roots) - stream_alerts
    return twice_by_channel


def check_feed_gaps(hosts: list[LoggedFeeds]) -> list[float]:
    """Each feed's request gaps between `every` - jitter and `every` + TTL + 2 s; returns them all."""
    gaps = []
    for host in hosts:
        for path in host.feeds:
            g = host.gaps(path)
            assert g and min(g) >= EVERY - JITTER - 0.05 and max(g) <= EVERY + TTL + 2, (path, g)
            gaps += g
    return gaps


def check_escalations(store: Store, slack: FakeSlack, escalating: list[int], walls: list[float]) -> list[int]:
    """Each level fired once per alert: one event, one "Escalated to level N" reply under each root that
    existed then. Returns, for each wall-clock instant, how many alerts opened before it escalated after it."""
    for a in store.query("SELECT id, level FROM alerts WHERE route = 'escalating'"):
        kinds = [e["kind"] for e in store.query("SELECT kind FROM alert_events WHERE alert_id = ?", (a["id"],))]
        assert kinds.count("escalated") == 2 and a["level"] == 2, (a, kinds)
    replies = escalation_replies(slack)
    one, two = channel_id("#esc-one"), channel_id("#esc-two")
    expected = {(s, 2, one) for s in escalating} | {(s, 3, c) for s in escalating for c in (one, two)}
    assert set(replies) == expected and set(replies.values()) == {1}, \
        sorted((k, v) for k, v in replies.items() if v != 1 or k not in expected)[:10]
    return [int(store.one("SELECT COUNT(DISTINCT a.id) AS n FROM alerts a JOIN alert_events e ON e.alert_id = a.id"
                          " WHERE a.route = 'escalating' AND a.notified_at < ? AND e.kind = 'escalated'"
                          " AND e.at > ?", (wall, wall))["n"]) for wall in walls]


@dataclass
class Hit:
    """One blow to the replicas (a signal to one of them, or the database restarted under all) and its effects."""

    what: str
    victim: int | None                     # the replica signalled; None: the database was restarted
    held: dict[int, list[str]]             # live leases per replica pid, read just before
    mid_poll: list[str]                    # host leases held then by the victim (by anyone, for a restart)
    stream_stored: int                     # stream posts stored then
    marks: dict[int, int]                  # log lines per replica then: what follows is its reaction
    at: float = field(default_factory=time.monotonic)
    wall: float = field(default_factory=time.time)
    resumed_s: float | None = None         # the stream went on this long after (see Rig.stream_resumed)

    def figures(self) -> dict[str, Any]:
        return {"what": self.what, "stream_stored": self.stream_stored, "mid_poll": self.mid_poll,
                "victim_leases": len(self.held.get(self.victim, [])) if self.victim else None,
                "stream_resumed_s": None if self.resumed_s is None else round(self.resumed_s, 1)}


class Rig:
    """The acceptance rig of issue 15: 3 slow feed hosts (a poll lasts a second) × 2 feeds every 10 s that log
    every request, a paced local Jetstream, a FakeSlack with latency, seven channels and a three-level
    escalation policy seconds apart; replicas started so that the first holds the stream and the channels.
    A scenario hits it (`hit_the_worst`, `restart_database`), then `settle` and `check` prove everything the
    issue lists and return the figures."""

    def __init__(self, tmp_path: Path, url: str, *, stream_s: float = 30.0) -> None:
        self.url = url
        self.hosts = [LoggedFeeds(delay=1.0).start() for _ in range(3)]
        self.slack = FakeSlack(post_delay=0.05).start()
        self.js = FakeJetstream().start()
        self.wanted = jetstream_posts(self.js, 5000, 20)
        self.js.pace = stream_s / 5000                       # the stream lasts long enough to be hit mid-way
        self.store = Store(url)
        self.cfg, self.rules = replica_config(tmp_path, self.hosts, 2, self.slack, every=EVERY, ttl=TTL)
        self.cfg.write_text(self.cfg.read_text().replace("sources:\n", (
            f"sources:\n  - id: bsky\n    kind: jetstream\n    url: {self.js.url}\n    rewind: 0s\n"
            "    batch_size: 5\n    cursor_every: 50ms\n"), 1))
        self.rules.write_text(channels_rules(ESCALATE_AFTER))
        self.load = Load(self.hosts, 2, rate=6.0)
        for _ in range(12):                                  # two stories per feed before anyone starts
            self.load.add()
        self.procs: list[MonitorProcess] = []
        self.hits: list[Hit] = []

    def __enter__(self) -> Rig:
        return self

    def __exit__(self, *exc: object) -> None:
        self.load.stop()
        for p in self.procs:
            p.__exit__()
        self.store.close()
        self.js.stop()
        self.slack.stop()
        for h in self.hosts:
            h.stop()

    def start(self) -> None:
        """The first replica starts alone, so it takes the stream and every channel with traffic; the load
        starts and two more replicas join."""
        self.procs += start_replicas(1, self.cfg, self.rules, self.url)
        first = self.procs[0].pid
        wait_until(lambda: FIRST <= set(leases_by_pid(self.store).get(first, [])), 30, f"{FIRST} held")
        self.load.start()
        self.procs += start_replicas(2, self.cfg, self.rules, self.url)
        time.sleep(2)

    def proc(self, pid: int) -> MonitorProcess:
        return next(p for p in self.procs if p.pid == pid)

    def replace(self, pid: int) -> MonitorProcess:
        """A fresh replica in the place of `pid` (a rolling upgrade's next step)."""
        i = self.procs.index(self.proc(pid))
        self.procs[i] = start_replicas(1, self.cfg, self.rules, self.url)[0]
        return self.procs[i]

    def _hit(self, what: str, victim: int | None, held: dict[int, list[str]], mid_poll: list[str]) -> Hit:
        hit = Hit(what, victim, held, mid_poll, len(stored(self.store, "bsky")),
                  {p.pid: len(p.lines) for p in self.procs})
        self.hits.append(hit)
        return hit

    def _moment(self, within: float, pick: Callable[[dict[int, list[str]]], int | None]) -> tuple[
            int | None, dict[int, list[str]]]:
        """Wait, up to `within`, for a moment worth hitting: the replica `pick` chooses from the live leases
        (None: any replica) holds a host lease, so it is mid-poll, and an escalating alert has a level still to
        fire, so escalations fall due across the hit (h2f1 is polled every 10 s and its levels come 4 s and 8 s
        after an alert opens: about one moment in five has none). Returns the choice and the leases then."""
        deadline = time.monotonic() + within
        while True:
            held = leases_by_pid(self.store)
            victim = pick(held)
            polling = held.get(victim, []) if victim is not None else [n for v in held.values() for n in v]
            pending = self.store.one("SELECT COUNT(*) AS n FROM alerts WHERE route = 'escalating' AND level < 2"
                                     " AND notified_at IS NOT NULL")["n"]
            if (pending and any(n.startswith("host:") for n in polling)) or time.monotonic() > deadline:
                return victim, held
            time.sleep(0.05)

    def hit_the_worst(self, sig: signal.Signals, *, among: set[int] | None = None,
                      within: float = EVERY + 2) -> Hit:
        """`sig` to the replica (of `among`, else of all) holding the stream lease and the most channel leases,
        read from the `leases` table, at a moment worth hitting (`_moment`) if one comes in time."""
        pids = among if among is not None else {p.pid for p in self.procs}
        victim, held = self._moment(within, lambda held: max(pids, key=lambda pid: (
            "stream:bsky" in held.get(pid, []), channel_leases(held.get(pid, [])))))
        assert victim is not None
        mine = held.get(victim, [])
        if among is None:
            assert "stream:bsky" in mine and channel_leases(mine) == max(map(channel_leases, held.values())), held
        hit = self._hit(sig.name, victim, held, [n for n in mine if n.startswith("host:")])
        os.kill(victim, sig)
        return hit

    def restart_database(self, pg: Any, *, within: float = EVERY + 2) -> Hit:
        """`pg_ctl restart -m fast` under all the replicas, every connection cut as in a failover, at a moment
        worth hitting (`_moment`) if one comes in time."""
        _, held = self._moment(within, lambda held: None)
        hit = self._hit("pg_ctl restart", None, held, [n for v in held.values() for n in v if n.startswith("host:")])
        pg.restart()
        return hit

    def stream_resumed(self, hit: Hit) -> float | None:
        """Seconds from `hit` until the stream went on, within TTL + 5 s: another replica logged "stream lease
        taken" (the victim held it), or a stream post was stored after the database came back. None: the
        victim did not hold the stream."""
        if hit.victim is not None and "stream:bsky" not in hit.held.get(hit.victim, []):
            return None
        assert hit.stream_stored < len(self.wanted), "the hit must land mid-stream"
        if hit.victim is not None:
            others = [p for p in self.procs if p.pid != hit.victim]

            def resumed() -> bool:
                return any("stream lease taken" in line for p in others for line in p.lines[hit.marks.get(p.pid, 0):])
        else:
            before = len(stored(self.store, "bsky"))         # read once the server is back: nothing committed since

            def resumed() -> bool:
                return len(stored(self.store, "bsky")) > before
        wait_until(resumed, max(0.0, hit.at + TTL + 5 - time.monotonic()), "the stream to resume within TTL + 5 s")
        hit.resumed_s = time.monotonic() - hit.at
        return hit.resumed_s

    def refused(self, hit: Hit, timeout: float = 15) -> list[tuple[str, int]]:
        """The victim's commits its fence refused after `hit` (lease, token), read from its log: waits for one."""
        proc = self.proc(hit.victim or 0)
        proc.wait_for(REFUSED.pattern, timeout=timeout, start=hit.marks[proc.pid])
        time.sleep(1)                                        # the other threads' refusals, if any
        return [(m.group(1), int(m.group(2))) for line in proc.lines[hit.marks[proc.pid]:]
                if (m := REFUSED.search(line))]

    def settle(self) -> int:
        """Stories keep coming 3 s after the last hit, then stop; every feed is polled across it; then the last
        escalation levels, the whole stream and every story's messages. Returns the stories."""
        time.sleep(3)
        self.load.stop()
        time.sleep(max(0.0, EVERY + TTL + 2 - (time.monotonic() - self.hits[-1].at)))
        n, store = self.load.count, self.store
        wait_until(lambda: store.one("SELECT COUNT(*) AS n FROM alerts WHERE route = 'escalating' AND level < 2")
                   ["n"] == 0 and len(stored(store, "bsky")) >= len(self.wanted), 60,
                   "the last levels reached and the stream read")
        wait_until(lambda: all(len(roots_per_story(self.slack, c)[0]) >= sum(c in story_channels(s) for s in range(n))
                               for c in STORY_CHANNELS)
                   and store.one("SELECT COUNT(*) AS n FROM deliveries WHERE state = 'pending'")["n"] == 0,
                   60, f"all {n} stories delivered")
        return n

    def check(self, in_flight: int) -> dict[str, Any]:
        """Everything the issue lists, on the settled run; `in_flight`: extra roots allowed per channel.
        Returns the figures."""
        n, store = self.load.count, self.store
        # every matched post, feeds and stream, stored exactly once; none missing, no gap in the stream
        assert store.one("SELECT COUNT(*) AS n FROM mentions WHERE source_id != 'bsky'")["n"] == n
        assert store.one("SELECT COUNT(*) AS n FROM mentions WHERE processed_at IS NULL")["n"] == 0
        assert sorted(stored(store, "bsky")) == sorted(self.wanted)
        twice = check_roots(store, self.slack, n, in_flight)
        gaps = check_feed_gaps(self.hosts)
        escalating = [s for s in range(n) if "#esc-one" in story_channels(s)]
        across = check_escalations(store, self.slack, escalating, [h.wall for h in self.hits])
        assert across[0] >= 1, "no escalation fell due across the first hit"
        first = self.hits[0]
        return {"stories": n, "stream_posts": len(self.wanted), "hits": [h.figures() for h in self.hits],
                "channels_held": sorted((channel_leases(first.held.get(pid, [])) for pid in first.marks), reverse=True),
                "twice_by_channel": twice, "escalating_alerts": len(escalating), "escalated_across": across,
                "feed_gaps_s": (round(min(gaps), 1), round(max(gaps), 1))}
