"""The acceptance run of issue 15: `kill -9` of the worst replica to lose, mid-load, mid-poll, mid-escalation.

Three real `monitor run` replicas on one PostgreSQL, three slow feed hosts (two feeds each) that log every
request, a local Jetstream, a FakeSlack with latency, seven channels and a three-level escalation policy whose
levels come seconds apart. The first replica starts alone, so it takes the stream and every channel with
traffic; the other two join; the victim is read from the `leases` table (the stream lease and the most
channel leases), killed the moment it holds a host lease (mid-poll) if that comes within one `every`. Then
everything the issue lists is checked in this one run, and the figures are printed.
"""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass

import pytest

from monitor.store.database import Store
from tests.fakes.jetstream import FakeJetstream
from tests.fakes.process import MonitorProcess
from tests.fakes.slack import FakeSlack, channel_id
from tests.replicas_helpers import (
    Load,
    LoggedFeeds,
    channels_rules,
    delivery_order,
    escalation_replies,
    leases_by_pid,
    pg_url_fixture,  # noqa: F401 - the `pg_url` fixture
    replica_config,
    roots_per_story,
    start_replicas,
    story_channels,
    wait_until,
)

EVERY, TTL, ESCALATE_AFTER = 10.0, 3.0, (4.0, 8.0)
JITTER = min(30.0, EVERY * 0.05)                 # the dispatcher's own rule (monitor/runtime/dispatch.py)
STORY_CHANNELS = ("#alerts-a", "#alerts-b", "#comms-alerts", "#esc-one", "#esc-two", "U0HEAD")
FIRST = {"stream:bsky"} | {f"channel:{c}" for c in ("#alerts-a", "#alerts-b", "#comms-alerts", "#social", "#esc-one")}


@dataclass
class Kill:
    victim: int
    held: dict[int, list[str]]             # live leases per replica pid, read just before the kill
    mid_poll: list[str]                    # the host leases the victim held: it died mid-poll
    stored_at_kill: int                    # stream posts stored when it died
    at: float                              # monotonic
    wall: float


def _jetstream(js: FakeJetstream, posts: int, every_nth: int) -> list[str]:
    """`posts` stream events, every `every_nth` one about the brand; returns the URIs that must be stored."""
    wanted = []
    for i in range(posts):
        if i % every_nth == 0:
            js.add_post(f"acme support is terrible, refund denied ({i})", rkey=f"k{i}")
            wanted.append(f"at://did:plc:fakeuser/app.bsky.feed.post/k{i}")
        else:
            js.add_post(f"just a day at the beach {i}", rkey=f"k{i}")
    return wanted


def _stored(store: Store, source: str) -> list[str]:
    return [r["external_id"] for r in store.query("SELECT external_id FROM mentions WHERE source_id = ?", (source,))]


def _channels(held: list[str]) -> int:
    return sum(n.startswith("channel:") for n in held)


def _kill_the_worst(store: Store, procs: list[MonitorProcess]) -> Kill:
    """SIGKILL the replica holding the stream lease and the most channel leases, mid-poll if it polls soon."""
    def worst() -> tuple[int, dict[int, list[str]]]:
        held = leases_by_pid(store)
        return max(held, key=lambda pid: ("stream:bsky" in held[pid], _channels(held[pid]))), held

    victim, held = worst()
    deadline = time.monotonic() + EVERY + 2
    while not any(n.startswith("host:") for n in held[victim]) and time.monotonic() < deadline:
        time.sleep(0.05)
        victim, held = worst()
    assert "stream:bsky" in held[victim] and _channels(held[victim]) == max(map(_channels, held.values())), held
    stored = len(_stored(store, "bsky"))
    os.kill(victim, signal.SIGKILL)
    kill = Kill(victim, held, [n for n in held[victim] if n.startswith("host:")], stored, time.monotonic(),
                time.time())
    next(p for p in procs if p.pid == victim).wait(10)
    return kill


def _check_roots(store: Store, slack: FakeSlack, stories: int) -> dict[str, int]:
    """One root per story and channel, at most one more per channel (in flight at the kill); order kept.
    Returns the extra roots per channel."""
    twice_by_channel = {}
    for channel in STORY_CHANNELS:
        counts, order = roots_per_story(slack, channel)
        assert set(counts) == {s for s in range(stories) if channel in story_channels(s)}, channel
        twice = sorted(s for s, c in counts.items() if c > 1)
        assert all(counts[s] == 2 for s in twice) and len(twice) <= 1, (channel, twice)
        twice_by_channel[channel] = len(twice)
        ids = delivery_order(store, channel)
        first_seen = list(dict.fromkeys(order))
        assert [ids[s] for s in first_seen] == sorted(ids[s] for s in first_seen), channel
    stream_roots = [c for c in slack.posts("#social") if not c.args.get("thread_ts")]
    stream_alerts = store.one("SELECT COUNT(*) AS n FROM alerts WHERE route = 'stream'")["n"]
    assert 1 <= stream_alerts <= len(stream_roots) <= stream_alerts + 1
    twice_by_channel["#social"] = len(stream_roots) - stream_alerts
    return twice_by_channel


def _check_feed_gaps(hosts: list[LoggedFeeds]) -> list[float]:
    """Each feed's request gaps between `every` - jitter and `every` + TTL + 2 s; returns them all."""
    gaps = []
    for host in hosts:
        for path in host.feeds:
            g = host.gaps(path)
            assert g and min(g) >= EVERY - JITTER - 0.05 and max(g) <= EVERY + TTL + 2, (path, g)
            gaps += g
    return gaps


def _check_escalations(store: Store, slack: FakeSlack, escalating: list[int], kill: Kill) -> int:
    """Each level fired once per alert: one event, one "Escalated to level N" reply under each root that
    existed then. Returns how many alerts opened before the kill escalated after it."""
    for a in store.query("SELECT id, level FROM alerts WHERE route = 'escalating'"):
        kinds = [e["kind"] for e in store.query("SELECT kind FROM alert_events WHERE alert_id = ?", (a["id"],))]
        assert kinds.count("escalated") == 2 and a["level"] == 2, (a, kinds)
    replies = escalation_replies(slack)
    one, two = channel_id("#esc-one"), channel_id("#esc-two")
    expected = {(s, 2, one) for s in escalating} | {(s, 3, c) for s in escalating for c in (one, two)}
    assert set(replies) == expected and set(replies.values()) == {1}, \
        sorted((k, v) for k, v in replies.items() if v != 1 or k not in expected)[:10]
    return int(store.one("SELECT COUNT(DISTINCT a.id) AS n FROM alerts a JOIN alert_events e ON e.alert_id = a.id"
                         " WHERE a.route = 'escalating' AND a.notified_at < ? AND e.kind = 'escalated'"
                         " AND e.at > ?", (kill.wall, kill.wall))["n"])


@pytest.mark.slow
def test_kill_9_of_the_stream_and_channel_lease_holder_mid_load_loses_nothing_sends_nothing_twice_and_escalates_once(
        tmp_path, pg_url):
    hosts = [LoggedFeeds(delay=1.0).start() for _ in range(3)]    # slow hosts: a poll lasts a second
    slack = FakeSlack(post_delay=0.05).start()
    js = FakeJetstream().start()
    wanted = _jetstream(js, 5000, 20)
    js.pace = 0.006                                              # ~30 s of stream: the kill lands mid-way
    store = Store(pg_url)
    cfg, rules = replica_config(tmp_path, hosts, 2, slack, every=EVERY, ttl=TTL)
    cfg.write_text(cfg.read_text().replace("sources:\n", f"sources:\n  - id: bsky\n    kind: jetstream\n"
                                           f"    url: {js.url}\n    rewind: 0s\n    batch_size: 5\n"
                                           "    cursor_every: 50ms\n", 1))
    rules.write_text(channels_rules(ESCALATE_AFTER))
    load = Load(hosts, 2, rate=6.0)
    for _ in range(12):                                          # two stories per feed before anyone starts
        load.add()
    procs: list[MonitorProcess] = []
    try:
        procs += start_replicas(1, cfg, rules, pg_url)           # alone, it takes the stream and the channels
        wait_until(lambda: FIRST <= set(leases_by_pid(store).get(procs[0].pid, [])), 30, f"{FIRST} held")
        load.start()
        procs += start_replicas(2, cfg, rules, pg_url)
        time.sleep(2)
        marks = {p.pid: len(p.lines) for p in procs}
        kill = _kill_the_worst(store, procs)
        assert kill.stored_at_kill < len(wanted), "the kill must land mid-stream"
        survivors = [p for p in procs if p.pid != kill.victim]
        wait_until(lambda: any("stream lease taken" in line for p in survivors for line in p.lines[marks[p.pid]:]),
                   TTL + 5, "the stream taken over within TTL + 5 s")
        took = time.monotonic() - kill.at
        time.sleep(3)                                            # stories keep coming after the kill, then stop
        load.stop()
        time.sleep(max(0.0, EVERY + TTL + 2 - (time.monotonic() - kill.at)))   # every feed polled across it
        n = load.count
        wait_until(lambda: store.one("SELECT COUNT(*) AS n FROM alerts WHERE route = 'escalating' AND level < 2")
                   ["n"] == 0 and len(_stored(store, "bsky")) >= len(wanted), 60, "last levels reached, stream read")
        wait_until(lambda: all(len(roots_per_story(slack, c)[0]) >= sum(c in story_channels(s) for s in range(n))
                               for c in STORY_CHANNELS)
                   and store.one("SELECT COUNT(*) AS n FROM deliveries WHERE state = 'pending'")["n"] == 0,
                   60, f"all {n} stories delivered")

        # every matched post, feeds and stream, stored exactly once; none missing, no gap in the stream
        assert store.one("SELECT COUNT(*) AS n FROM mentions WHERE source_id != 'bsky'")["n"] == n
        assert store.one("SELECT COUNT(*) AS n FROM mentions WHERE processed_at IS NULL")["n"] == 0
        assert sorted(_stored(store, "bsky")) == sorted(wanted)
        twice = _check_roots(store, slack, n)
        gaps = _check_feed_gaps(hosts)
        escalating = [s for s in range(n) if "#esc-one" in story_channels(s)]
        across = _check_escalations(store, slack, escalating, kill)
        assert across >= 1, "no escalation fell due across the kill"
        print("kill -9 of the stream + channel holder:", {
            "stories": n, "stream_posts": len(wanted), "stored_at_kill": kill.stored_at_kill,
            "stream_takeover_s": round(took, 1), "victim_leases": len(kill.held[kill.victim]),
            "killed_mid_poll": kill.mid_poll, "channels_held": sorted(map(_channels, kill.held.values()), reverse=True),
            "twice_by_channel": twice, "escalating_alerts": len(escalating), "escalated_across_kill": across,
            "feed_gaps_s": (round(min(gaps), 1), round(max(gaps), 1))})
    finally:
        load.stop()
        for p in procs:
            p.__exit__()
        store.close()
        js.stop()
        slack.stop()
        for h in hosts:
            h.stop()
