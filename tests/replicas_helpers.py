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
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from monitor.core.errors import StorageError
from monitor.store.database import Store
from tests.conftest import write_config
from tests.fakes.feeds import Feed, FeedServer, Item
from tests.fakes.jetstream import FakeJetstream
from tests.fakes.process import MonitorProcess
from tests.fakes.server import Reply, Request
from tests.fakes.slack import TOKEN, FakeSlack, channel_id
from tests.pgserver import fresh_schema_url
from tests.timing import MAX_SLOWNESS, assert_within, slowness

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
    `delay` makes it slow to answer, so a poll (and its host lease) lasts long enough to be killed mid-way.
    Each request is logged on the monotonic clock (gaps) and the wall clock, which is the clock the database
    stamps poll starts with (`db_now()`, the same machine's), so a request can be matched to its poll."""

    def __init__(self, delay: float = 0.0) -> None:
        super().__init__()
        self.log: list[tuple[str, float, float]] = []
        self.delay = delay

    def _serve(self, req: Request) -> Reply:
        self.log.append((req.path, time.monotonic(), time.time()))
        if self.delay:
            time.sleep(self.delay)
        return super()._serve(req)

    def gaps(self, path: str) -> list[float]:
        times = [t for p, t, _ in self.log if p == path]
        return [b - a for a, b in zip(times, times[1:], strict=False)]

    def arrivals(self, path: str) -> list[float]:
        """When each request for `path` arrived, on the wall clock."""
        return [w for p, _, w in self.log if p == path]


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
    """`n` replicas, once each has said "daemon started"; if one does not, all `n` are killed (the caller
    never gets them to clean up: left running, they would load the machine for the tests after)."""
    procs = [MonitorProcess(["run", "--config", str(cfg), "--rules", str(rules)],
                            env={"MONITOR_DATABASE_URL": url, "SLACK_BOT_TOKEN": TOKEN}).start() for _ in range(n)]
    try:
        for p in procs:
            p.wait_for("daemon started", timeout=60)
    except BaseException:
        for p in procs:
            p.__exit__()
        raise
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
JITTER = min(30.0, EVERY * 0.05)                 # the dispatcher's own rule (monitor/runtime/pool.py)
#: How late the machine may be in getting a started poll's request onto the wire, and a poll start after its due
#: time: the scheduling of a loaded 2-core box, not the product's (regression, round 11: a request left its replica
#: 3.02 s after its poll started, 0.02 s past the TTL, and was called "a request no poll made").
SLACK = 2.0
STORY_CHANNELS = ("#alerts-a", "#alerts-b", "#comms-alerts", "#esc-one", "#esc-two", "U0HEAD")
FIRST = {"stream:bsky"} | {f"channel:{c}" for c in ("#alerts-a", "#alerts-b", "#comms-alerts", "#social", "#esc-one")}
REFUSED = re.compile(r"lease (\S+) \(token (\d+)\) is no longer held")    # the fence's words (store/leases.py)
ESCALATED = re.compile(r"Escalated to level (\d+)")
LEAD = 1.0          # the first hit is aimed at least this long before an escalation level is due (Rig._moment)


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


class StreamLoad:
    """Posts appear on the Jetstream at a steady rate until stopped, every `every_nth` one about the brand;
    `wanted` holds the URIs that must be stored. The stream thus flows through every hit however long the
    replicas took to start and the rig to find its moment (a stream of 5,000 posts read in 30 s ran nearly
    dry before the hit on a loaded machine: the hit must land mid-stream)."""

    def __init__(self, js: FakeJetstream, rate: float, every_nth: int = 20) -> None:
        self.js = js
        self.rate = rate
        self.every_nth = every_nth
        self.count = 0
        self.wanted: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="stream-load", daemon=True)

    def add(self) -> None:
        i = self.count
        if i % self.every_nth == 0:
            self.js.add_post(f"acme support is terrible, refund denied ({i})", rkey=f"k{i}")
            self.wanted.append(f"at://did:plc:fakeuser/app.bsky.feed.post/k{i}")
        else:
            self.js.add_post(f"just a day at the beach {i}", rkey=f"k{i}")
        self.count += 1

    def _run(self) -> None:
        began = time.monotonic()
        while not self._stop.wait(0.05):
            due = int((time.monotonic() - began) * self.rate)
            while self.count < due and not self._stop.is_set():
                self.add()

    def start(self) -> StreamLoad:
        self._thread.start()
        return self

    @property
    def flowing(self) -> bool:
        return self._thread.is_alive()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.ident is not None:
            self._thread.join()


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


class ScheduleWatch:
    """The replicas' shared poll schedule as it happens: when each poll of each source started and which
    replica started it, read from `poll_due` every 50 ms while the rig runs. Once a poll's first request is
    leaving, its row says `due_at` = start + `every` (the database clock) until the next poll claims the
    source, seconds later, so no poll is missed; a claim whose request has not left yet says start + TTL at
    most, which `TTL + 0.5` s still to run tells apart (see monitor/store/poll_turns.py)."""

    def __init__(self, url: str) -> None:
        self.store = Store(url)
        self.starts: dict[str, dict[float, str]] = {}       # source -> {poll start: holder of the replica}
        self.stopped_at: float | None = None                  # wall clock
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="schedule-watch", daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            try:
                rows = self.store.query("SELECT source_id, due_at, due_at - db_now() AS left, by_replica"
                                        " FROM poll_due")
            except StorageError:
                continue                                      # the database restarting under the rig
            for r in rows:
                if r["left"] > TTL + 0.5:
                    self.starts.setdefault(r["source_id"], {})[float(r["due_at"]) - EVERY] = r["by_replica"]

    def start(self) -> ScheduleWatch:
        self._thread.start()
        return self

    def stop(self) -> None:
        if self.stopped_at is None:
            self._stop.set()
            if self._thread.ident is not None:
                self._thread.join(10)
            self.stopped_at = time.time()
            self.store.close()


def holder_pid(holder: str) -> int:
    """The process id in a lease holder's or poll starter's id (`host:pid:random`)."""
    return int(holder.split(":")[-2])


def check_polls(hosts: list[LoggedFeeds], watch: ScheduleWatch, hits: list[Hit]) -> dict[str, Any]:
    """Polling stayed polite and went on through every hit, per feed, judged on events.

    The schedule: the poll starts the replicas recorded (`ScheduleWatch`) come between `every` - jitter and
    `every` + TTL + SLACK apart, so polling resumed after each hit. The wire: each request the host saw is the
    request of one of those polls (at most one each), arriving within a TTL (+ SLACK, the machine's scheduling) of
    its start: a poll's claim lasts one TTL, after which another replica could make the same round, but that
    round would be a recorded start of its own or a second request matched to this one, both caught here; every
    poll's request arrived,
    except a poll a hit cut in the TTL before it, between its start and its request: the schedule counts
    it as made, so it is not made again early (monitor/store/poll_turns.py), and the host sees that round
    skipped (20 s between requests with `every` 10 s, on a loaded machine that froze a replica in that
    window). The gaps between requests are the schedule's plus how long each request took to leave its
    replica after its poll started, which is the machine's scheduling, not the product's (a loaded 2-core
    box asked a feed 9.4 s after its previous request, for polls started 10.0 s apart): reported, bounded
    through the two checks above. Returns the figures."""
    assert watch.stopped_at is not None
    # SLACK is an idle 2-core box's scheduling; on a loaded one (CI beside mypy and a training: the SIGSTOP case
    # failed this bound in round 20) it is widened by the slowness measured now (tests/timing.py), never the TTL,
    # and never so far that a skipped round (a gap of 2 x `every`) would pass
    slack = min(SLACK * slowness(), EVERY - TTL - 0.5)
    figures: dict[str, Any] = {"slack_s": [slack], "feed_gaps_s": [], "poll_start_gaps_s": [], "request_after_start_s": [],
                               "cut_by_a_hit": []}
    for h, host in enumerate(hosts):
        for path in host.feeds:
            sid = f"h{h}f{path[2:-4]}"                        # replica_config: /f1.xml of host 2 is h2f1
            started = sorted(watch.starts.get(sid, {}).items())
            times = [t for t, _ in started]
            gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
            assert gaps and min(gaps) >= EVERY - JITTER - 0.05 and max(gaps) <= EVERY + TTL + slack, (sid, gaps)
            answered: dict[float, list[float]] = {t: [] for t in times}
            for arrived in host.arrivals(path):
                poll = max((t for t in times if t <= arrived + 0.05), default=None)
                if poll is None or arrived - poll > TTL + slack:
                    assert arrived >= watch.stopped_at - TTL - slack, (sid, "a request no poll made", arrived, times)
                    continue                                  # its poll may have started after the last look
                answered[poll].append(arrived)
            for t, by in started:
                assert len(answered[t]) <= 1, (sid, "one poll, several requests", t, answered[t])
                if answered[t]:
                    figures["request_after_start_s"].append(answered[t][0] - t)
                elif t < watch.stopped_at - TTL - slack:          # its request had time to arrive
                    cut = [hit for hit in hits if hit.victim == holder_pid(by) and hit.wall - TTL <= t < hit.wall]
                    assert cut, (sid, "a poll whose request never came", t, by, [(x.victim, x.wall) for x in hits])
                    figures["cut_by_a_hit"].append(sid)
            figures["feed_gaps_s"] += host.gaps(path)
            figures["poll_start_gaps_s"] += gaps
    return {k: (round(min(v), 2), round(max(v), 2)) if v and isinstance(v[0], float) else v
            for k, v in figures.items()}


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
    level_due: float | None = None         # an escalation level due then this (wall clock), aimed across
    at: float = field(default_factory=time.monotonic)
    wall: float = field(default_factory=time.time)
    resumed_s: float | None = None         # the stream went on this long after (see Rig.stream_resumed)

    def figures(self) -> dict[str, Any]:
        return {"what": self.what, "stream_stored": self.stream_stored, "mid_poll": self.mid_poll,
                "victim_leases": len(self.held.get(self.victim, [])) if self.victim else None,
                "stream_resumed_s": None if self.resumed_s is None else round(self.resumed_s, 1),
                "level_due_after_s": None if self.level_due is None else round(self.level_due - self.wall, 1)}


class Rig:
    """The acceptance rig of issue 15: 3 slow feed hosts (a poll lasts a second) × 2 feeds every 10 s that log
    every request, a local Jetstream fed at a steady rate, a FakeSlack with latency, seven channels and a
    three-level escalation policy seconds apart; replicas started so that the first holds the stream and the
    channels.
    A scenario hits it (`hit_the_worst`, `restart_database`), then `settle` and `check` prove everything the
    issue lists and return the figures."""

    def __init__(self, tmp_path: Path, url: str) -> None:
        self.url = url
        self.hosts = [LoggedFeeds(delay=1.0).start() for _ in range(3)]
        self.slack = FakeSlack(post_delay=0.05).start()
        self.js = FakeJetstream().start()
        self.stream = StreamLoad(self.js, rate=5000 / 30)      # flows from `start` until `settle`
        self.wanted = self.stream.wanted
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
        self.watch = ScheduleWatch(url)

    def __enter__(self) -> Rig:
        return self

    def __exit__(self, *exc: object) -> None:
        self.load.stop()
        self.stream.stop()
        self.watch.stop()
        for p in self.procs:
            p.__exit__()
        self.store.close()
        self.js.stop()
        self.slack.stop()
        for h in self.hosts:
            h.stop()

    def start(self) -> None:
        """The first replica starts alone, so it takes the stream and every channel with traffic; the load
        starts and two more replicas join. The schedule is watched from before the first poll; the stream
        flows from then on."""
        self.watch.start()
        self.stream.start()
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

    def _strike(self, what: str, victim: int | None, held: dict[int, list[str]], mid_poll: list[str],
                level_due: float | None, blow: Callable[[], object]) -> Hit | None:
        """Deal `blow` now, recorded as a Hit, if the escalation level aimed at (if any) is still more than
        LEAD / 2 s off: the level then fires after the blow whatever befalls this thread before it (its
        event is stamped with the tick that fires it, at or after the level's due time). None: this thread
        was held up past the aim (a loaded machine), so nothing was done."""
        hit = Hit(what, victim, held, mid_poll, len(stored(self.store, "bsky")),
                  {p.pid: len(p.lines) for p in self.procs}, level_due)
        if level_due is not None and hit.wall >= level_due - LEAD / 2:
            return None
        blow()
        self.hits.append(hit)
        return hit

    def _level_due(self) -> float | None:
        """When (wall clock) the last-falling escalation level still to fire more than LEAD s from now falls
        due, among escalating alerts already announced (their root queued); None if none has one."""
        row = self.store.one("SELECT MAX(next_action_at) AS due FROM alerts WHERE route = 'escalating'"
                             " AND notified_at IS NOT NULL AND level < 2 AND next_action = 'escalate'"
                             " AND next_action_at > db_now() + ?", (LEAD,))
        return None if row is None or row["due"] is None else float(row["due"])

    def _moment(self, within: float, pick: Callable[[dict[int, list[str]]], int | None]) -> tuple[
            int | None, dict[int, list[str]], float | None]:
        """Wait for a moment worth hitting: the replica `pick` chooses from the live leases (None: any
        replica) holds a host lease, so it is mid-poll, and, for the first hit, an escalating alert has a level
        to fire more than LEAD s later, so one falls due across the hit, as the checks require (h2f1 is polled
        every 10 s and its levels come 4 s and 8 s after its alerts are announced, so about three moments in
        ten have none, whatever the machine's load). Mid-poll is given up after `within` (the victim may not poll
        that often); the level is waited for, up to 3 × `every` more, read from the `alerts` rows rather than
        guessed from a clock. Returns the choice, the leases then and the level's due time (None: not
        needed)."""
        need_level = not self.hits
        deadline = time.monotonic() + within
        while True:
            held = leases_by_pid(self.store)
            victim = pick(held)
            polling = held.get(victim, []) if victim is not None else [n for v in held.values() for n in v]
            due = self._level_due() if need_level else None
            mid_poll = any(n.startswith("host:") for n in polling)
            if (due is not None or not need_level) and (mid_poll or time.monotonic() > deadline):
                return victim, held, due
            if time.monotonic() > deadline + 3 * EVERY:
                raise AssertionError(f"no escalating alert had a level to fire in {within + 3 * EVERY:g}s")
            time.sleep(0.05)

    def hit_the_worst(self, sig: signal.Signals, *, among: set[int] | None = None,
                      within: float = EVERY + 2) -> Hit:
        """`sig` to the replica (of `among`, else of all) holding the stream lease and the most channel leases,
        read from the `leases` table, at a moment worth hitting (`_moment`)."""
        pids = among if among is not None else {p.pid for p in self.procs}
        while True:
            victim, held, due = self._moment(within, lambda held: max(pids, key=lambda pid: (
                "stream:bsky" in held.get(pid, []), channel_leases(held.get(pid, [])))))
            assert victim is not None
            mine = held.get(victim, [])
            if among is None:
                assert "stream:bsky" in mine and channel_leases(mine) == max(map(channel_leases, held.values())), \
                    held
            hit = self._strike(sig.name, victim, held, [n for n in mine if n.startswith("host:")], due,
                               partial(os.kill, victim, sig))
            if hit is not None:
                return hit

    def restart_database(self, pg: Any, *, within: float = EVERY + 2) -> Hit:
        """`pg_ctl restart -m fast` under all the replicas, every connection cut as in a failover, at a moment
        worth hitting (`_moment`)."""
        while True:
            _, held, due = self._moment(within, lambda held: None)
            polling = [n for v in held.values() for n in v if n.startswith("host:")]
            hit = self._strike("pg_ctl restart", None, held, polling, due, pg.restart)
            if hit is not None:
                return hit

    def stream_resumed(self, hit: Hit) -> float | None:
        """Seconds from `hit` until the stream went on, within TTL + 5 s: another replica logged "stream lease
        taken" (the victim held it), or a stream post was stored after the database came back. None: the
        victim did not hold the stream."""
        if hit.victim is not None and "stream:bsky" not in hit.held.get(hit.victim, []):
            return None
        assert self.stream.flowing, "the hit must land mid-stream"
        if hit.victim is not None:
            others = [p for p in self.procs if p.pid != hit.victim]

            def resumed() -> bool:
                return any("stream lease taken" in line for p in others for line in p.lines[hit.marks.get(p.pid, 0):])
        else:
            before = len(stored(self.store, "bsky"))         # read once the server is back: nothing committed since

            def resumed() -> bool:
                return len(stored(self.store, "bsky")) > before
        # waited for generously; the TTL is the promise, the 5 s the machine's, scaled by load (tests/timing.py)
        wait_until(resumed, max(0.0, hit.at + TTL + 5 * MAX_SLOWNESS - time.monotonic()), "the stream to resume")
        hit.resumed_s = time.monotonic() - hit.at
        assert_within(hit.resumed_s, TTL, 5.0, "the stream's takeover")
        return hit.resumed_s

    def refused(self, hit: Hit, timeout: float = 15) -> list[tuple[str, int]]:
        """The victim's commits its fence refused after `hit` (lease, token), read from its log: waits for one."""
        proc = self.proc(hit.victim or 0)
        proc.wait_for(REFUSED.pattern, timeout=timeout, start=hit.marks[proc.pid])
        time.sleep(1)                                        # the other threads' refusals, if any
        return [(m.group(1), int(m.group(2))) for line in proc.lines[hit.marks[proc.pid]:]
                if (m := REFUSED.search(line))]

    def settle(self) -> int:
        """Stories keep coming 3 s after the last hit, then stop; every feed is asked for once more after that
        (so it was polled across the hit, and every story was on a feed asked for since); then the last
        escalation levels, the whole stream and every story's messages; the schedule watch stops. Returns
        the stories."""
        time.sleep(3)
        self.load.stop()
        self.stream.stop()
        stopped = time.monotonic()
        wait_until(lambda: all(any(t > stopped for p, t, _ in h.log if p == path) for h in self.hosts
                               for path in h.feeds), 60, "every feed asked for after the last story")
        n, store = self.load.count, self.store
        wait_until(lambda: store.one("SELECT COUNT(*) AS n FROM alerts WHERE route = 'escalating' AND level < 2")
                   ["n"] == 0 and len(stored(store, "bsky")) >= len(self.wanted), 60,
                   "the last levels reached and the stream read")
        wait_until(lambda: all(len(roots_per_story(self.slack, c)[0]) >= sum(c in story_channels(s) for s in range(n))
                               for c in STORY_CHANNELS)
                   and store.one("SELECT COUNT(*) AS n FROM deliveries WHERE state = 'pending'")["n"] == 0,
                   60, f"all {n} stories delivered")
        self.watch.stop()
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
        polls = check_polls(self.hosts, self.watch, self.hits)
        escalating = [s for s in range(n) if "#esc-one" in story_channels(s)]
        across = check_escalations(store, self.slack, escalating, [h.wall for h in self.hits])
        assert across[0] >= 1, "no escalation fell due across the first hit"
        first = self.hits[0]
        return {"stories": n, "stream_posts": len(self.wanted), "hits": [h.figures() for h in self.hits],
                "channels_held": sorted((channel_leases(first.held.get(pid, [])) for pid in first.marks), reverse=True),
                "twice_by_channel": twice, "escalating_alerts": len(escalating), "escalated_across": across,
                **polls}
