"""Several replicas on one PostgreSQL: nothing lost, nothing twice, whatever happens to one of them.

The in-process tests run two "replicas" as two Apps in one interpreter: separate Stores, pools and locks, so
PostgreSQL sees two independent writers, exactly the race the brand lock exists for. The slow ones run real
`monitor run` processes against feed hosts that log every request and a FakeSlack with latency, and kill,
freeze or cut the database under them.
"""

from __future__ import annotations

import os
import random
import signal
import threading
import time

import pytest

from monitor.alerting import grouping
from monitor.core.model import Mention
from monitor.runtime.daemon import App, Paths
from monitor.sources import CollectResult
from monitor.store.database import Store
from monitor.store.leases import Coordinator, LeaseLost
from monitor.store.poll_turns import PollTurns
from tests.conftest import write_config
from tests.fakes.jetstream import FakeJetstream
from tests.fakes.process import MonitorProcess
from tests.fakes.slack import FakeSlack, channel_id
from tests.pgserver import fresh_schema_url, server
from tests.replicas_helpers import (
    Load,
    LoggedFeeds,
    channels_rules,
    delivery_order,
    escalation_replies,
    holder_pid,
    leases_by_pid,
    replica_config,
    roots_per_story,
    start_replicas,
    story_channels,
    story_text,
    wait_until,
)

CHANNEL = "#comms-alerts"
STORY_CHANNELS = ("#alerts-a", "#alerts-b", "#comms-alerts", "#esc-one", "#esc-two", "U0HEAD")


@pytest.fixture
def pg_url(monkeypatch: pytest.MonkeyPatch) -> str:
    url = fresh_schema_url()
    monkeypatch.setenv("MONITOR_DATABASE_URL", url)
    return url


def _two_apps(tmp_path) -> tuple[App, App]:
    cfg, rules = write_config(tmp_path, sources="- id: a\n  kind: rss\n  url: http://127.0.0.1:9/a.xml\n"
                                                "- id: b\n  kind: rss\n  url: http://127.0.0.1:9/b.xml\n")
    return App(Paths(str(cfg), str(rules))), App(Paths(str(cfg), str(rules)))


def _route_pairs_at_once(tmp_path, pairs: int) -> tuple[int, int]:
    """`pairs` stories, each posted twice (original + retweet), the two copies routed at the same moment by
    two replicas. Returns (alerts, stories)."""
    one, two = _two_apps(tmp_path)
    try:
        rng = random.Random(pairs)
        texts = [story_text(n, rng)[1] for n in range(pairs)]        # pairwise well below group_similarity
        for app, sid, prefix in ((one, "a", ""), (two, "b", "RT @fan: ")):
            app.pipeline.ingest(app.config.source(sid), CollectResult(
                [Mention(source_id=sid, source_kind="rss", external_id=f"{sid}{n}", text=prefix + t)
                 for n, t in enumerate(texts)]))
        start = threading.Barrier(2)

        def route(app: App, sid: str) -> None:
            rows = app.store.query("SELECT * FROM mentions WHERE source_id = ? ORDER BY id", (sid,))
            start.wait()
            for row in rows:
                app.pipeline.process(row)

        threads = [threading.Thread(target=route, args=(app, sid)) for app, sid in ((one, "a"), (two, "b"))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        alerts = one.store.one("SELECT COUNT(*) AS n FROM alerts")["n"]
        linked = one.store.one("SELECT COUNT(*) AS n FROM alert_mentions")["n"]
        assert linked == 2 * pairs                      # every copy routed exactly once
        return alerts, pairs
    finally:
        one.close()
        two.close()


def test_300_simultaneous_near_duplicate_pairs_through_two_replicas_give_one_alert_per_story(tmp_path, pg_url):
    alerts, stories = _route_pairs_at_once(tmp_path, 300)
    assert alerts == stories


def test_without_the_brand_lock_the_same_race_opens_duplicate_alerts(tmp_path, pg_url, monkeypatch):
    """Regression pin for the race the brand lock closes (today's logic is only safe with one writer). A race
    depends on the scheduler, so up to three rounds, each on a fresh schema: one must show duplicates."""
    monkeypatch.setattr(grouping, "advisory_lock", lambda db, key: None)
    seen = []
    for attempt in range(3):
        monkeypatch.setenv("MONITOR_DATABASE_URL", fresh_schema_url())
        (tmp_path / str(attempt)).mkdir()
        alerts, stories = _route_pairs_at_once(tmp_path / str(attempt), 150)
        seen.append(alerts - stories)
        if alerts > stories:
            break
    assert max(seen) > 0, seen


def test_a_lease_is_exclusive_fenced_and_taken_over_after_its_ttl(pg_url):
    a, b = Store(pg_url), Store(pg_url)
    try:
        one, two = Coordinator(a, ttl=1.0), Coordinator(b, ttl=1.0)
        lease = one.acquire("stream:x")
        assert lease is not None and two.acquire("stream:x") is None
        time.sleep(1.2)                                  # one is "paused" past its TTL
        taken = two.acquire("stream:x")
        assert taken is not None and taken.token == lease.token + 1
        with pytest.raises(LeaseLost), a.fence(lease), a.tx() as db:
            db.execute("INSERT INTO maintenance (job, last_run) VALUES ('fenced', 1)")
        assert a.one("SELECT COUNT(*) AS n FROM maintenance WHERE job = 'fenced'")["n"] == 0
        with b.fence(taken), b.tx() as db:                # the new holder commits
            db.execute("INSERT INTO maintenance (job, last_run) VALUES ('fenced', 2)")
        assert one.renew(lease) is False and lease.lost
    finally:
        a.close()
        b.close()


def test_regression_a_poll_cut_short_by_a_kill_was_made_again_a_ttl_later_not_every_later(pg_url):
    """Bug: while a poll ran its source was due again one TTL ahead, so a replica killed mid-poll had the feed
    asked again a TTL later (4 s after the dead request, `every` 10 s): below `every` - jitter, impolite. The
    next due time is now set when the poll starts; the host lease of the dead poll still lapses after the TTL."""
    a, b = Store(pg_url), Store(pg_url)
    try:
        dead, alive = PollTurns(Coordinator(a, ttl=1.0)), PollTurns(Coordinator(b, ttl=1.0))
        turn, _ = dead.begin("news", "feeds.example:443", 10.0)
        assert turn is not None                          # the request goes out... and the replica dies
        dead.coord.halt()                                # no more renewals: as after kill -9
        time.sleep(1.3)
        again, wait = alive.begin("news", "feeds.example:443", 10.0)
        assert again is None and wait is not None and 8.0 < wait <= 10.0, wait
        other, _ = alive.begin("other", "feeds.example:443", 10.0)
        assert other is not None                         # the host itself is free again after the TTL
        alive.end(other, 0.0)
    finally:
        alive.coord.halt()
        a.close()
        b.close()


def test_sqlite_mode_grants_every_lease(tmp_path):
    store = Store(tmp_path / "m.db")
    try:
        one, two = Coordinator(store), Coordinator(store)
        assert one.acquire("retention") is not None
        assert two.acquire("retention") is not None       # one process by construction: never refused
    finally:
        store.close()


# -- real processes --------------------------------------------------------------------------------------------

def _checks(store: Store, load: Load, slack: FakeSlack, hosts: list[LoggedFeeds], *, every: float, ttl: float,
            in_flight: int) -> dict[str, int]:
    n = load.count
    assert store.one("SELECT COUNT(*) AS n FROM mentions")["n"] == n            # none missing, none twice
    assert store.one("SELECT COUNT(*) AS n FROM mentions WHERE processed_at IS NULL")["n"] == 0
    counts, order = roots_per_story(slack, CHANNEL)
    assert set(counts) == set(range(n)), sorted(set(range(n)) - set(counts))[:10]
    twice = sorted(s for s, c in counts.items() if c > 1)
    assert all(counts[s] == 2 for s in twice) and len(twice) <= in_flight, twice
    ids = delivery_order(store, CHANNEL)
    first_seen = list(dict.fromkeys(order))
    assert [ids[s] for s in first_seen] == sorted(ids[s] for s in first_seen)   # channel order kept
    for host in hosts:
        for path in host.feeds:
            gaps = host.gaps(path)
            assert gaps and min(gaps) >= every - 0.3 and max(gaps) <= every + ttl + 2, (path, gaps)
    return {"stories": n, "twice": len(twice)}


def _finish(load: Load, store: Store, slack: FakeSlack, timeout: float = 120) -> None:
    load.stop()
    wait_until(lambda: len(roots_per_story(slack, CHANNEL)[0]) >= load.count
               and store.one("SELECT COUNT(*) AS n FROM deliveries WHERE state = 'pending'")["n"] == 0,
               timeout, f"all {load.count} stories delivered")


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


@pytest.mark.slow
def test_kill_9_of_the_stream_and_channel_lease_holder_mid_load_loses_nothing_sends_nothing_twice_and_escalates_once(
        tmp_path, pg_url):
    """The acceptance run of issue 15: 3 replicas, 3 feed hosts that log requests, a Jetstream, a FakeSlack with
    latency, 7 channels and a three-level escalation policy in seconds. The replica holding the stream and the
    most channel leases (read from the leases table) is killed with SIGKILL while stories keep coming and
    escalations are due; then everything the issue lists is checked in this one run."""
    every, ttl, esc = 10.0, 3.0, (4.0, 8.0)
    jitter = min(30.0, every * 0.05)                     # the dispatcher's own rule (monitor/runtime/dispatch.py)
    hosts = [LoggedFeeds(delay=1.0).start() for _ in range(3)]    # slow hosts: a poll lasts a second
    slack = FakeSlack(post_delay=0.05).start()
    js = FakeJetstream().start()
    wanted = _jetstream(js, 5000, 20)
    js.pace = 0.006                                      # ~30 s of stream: the kill lands mid-way
    store = Store(pg_url)
    cfg, rules = replica_config(tmp_path, hosts, 2, slack, every=every, ttl=ttl)
    cfg.write_text(cfg.read_text().replace("sources:\n", f"sources:\n  - id: bsky\n    kind: jetstream\n    url: {js.url}\n"
                                           "    rewind: 0s\n    batch_size: 5\n    cursor_every: 50ms\n", 1))
    rules.write_text(channels_rules(esc))
    load = Load(hosts, 2, rate=6.0)
    for _ in range(12):                                  # two stories per feed before the first replica starts
        load.add()
    procs: list[MonitorProcess] = []
    try:
        # the first replica alone takes the stream and every channel with traffic so far: the worst one to lose
        procs += start_replicas(1, cfg, rules, pg_url)
        first = {"stream:bsky"} | {f"channel:{c}" for c in ("#alerts-a", "#alerts-b", "#comms-alerts", "#social",
                                                             "#esc-one")}
        wait_until(lambda: first <= set(leases_by_pid(store).get(procs[0].pid, [])), 30, f"{first} held")
        load.start()
        procs += start_replicas(2, cfg, rules, pg_url)
        time.sleep(2)

        def worst() -> tuple[int, dict[int, list[str]]]:
            held = leases_by_pid(store)
            return max(held, key=lambda pid: ("stream:bsky" in held[pid],
                                              sum(n.startswith("channel:") for n in held[pid]))), held
        victim, held = worst()                           # then, if it comes soon, the moment it is mid-poll
        deadline = time.monotonic() + every + 2
        while not any(n.startswith("host:") for n in held[victim]) and time.monotonic() < deadline:
            time.sleep(0.05)
            victim, held = worst()
        mid_poll = [n for n in held[victim] if n.startswith("host:")]
        channels_held = {pid: sum(n.startswith("channel:") for n in names) for pid, names in held.items()}
        assert "stream:bsky" in held[victim] and channels_held[victim] == max(channels_held.values()), held
        proc = next(p for p in procs if p.pid == victim)
        survivors = [p for p in procs if p is not proc]
        marks = [len(p.lines) for p in survivors]
        at_kill = len(_stored(store, "bsky"))
        os.kill(victim, signal.SIGKILL)
        killed, killed_wall = time.monotonic(), time.time()
        proc.wait(10)
        assert at_kill < len(wanted), "the kill must land mid-stream"
        wait_until(lambda: any(any("stream lease taken" in line for line in p.lines[m:])
                               for p, m in zip(survivors, marks, strict=True)), ttl + 5, "the stream taken over")
        took = time.monotonic() - killed
        time.sleep(3)                                    # stories keep coming after the kill, then stop
        load.stop()
        time.sleep(max(0.0, every + ttl + 2 - (time.monotonic() - killed)))   # every feed polled across the kill
        escalating = [n for n in range(load.count) if n % 6 == 5]
        wait_until(lambda: store.one("SELECT COUNT(*) AS n FROM alerts WHERE route = 'escalating' AND level < 2")["n"] == 0
                   and len(_stored(store, "bsky")) >= len(wanted), 60, "every alert at its last level, stream read")
        wait_until(lambda: all(len(roots_per_story(slack, c)[0]) >= sum(c in story_channels(n) for n in
                                                                         range(load.count))
                               for c in STORY_CHANNELS)
                   and store.one("SELECT COUNT(*) AS n FROM deliveries WHERE state = 'pending'")["n"] == 0,
                   60, f"all {load.count} stories delivered")

        # every matched post stored exactly once, none missing: feeds and stream
        n = load.count
        assert store.one("SELECT COUNT(*) AS n FROM mentions WHERE source_id != 'bsky'")["n"] == n
        assert store.one("SELECT COUNT(*) AS n FROM mentions WHERE processed_at IS NULL")["n"] == 0
        assert sorted(_stored(store, "bsky")) == sorted(wanted)
        # one root per story and channel, at most one more per channel (the one in flight at the kill); order kept
        twice_by_channel = {}
        for channel in STORY_CHANNELS:
            counts, order = roots_per_story(slack, channel)
            assert set(counts) == {s for s in range(n) if channel in story_channels(s)}, channel
            twice = sorted(s for s, c in counts.items() if c > 1)
            assert all(counts[s] == 2 for s in twice) and len(twice) <= 1, (channel, twice)
            twice_by_channel[channel] = len(twice)
            ids = delivery_order(store, channel)
            first_seen = list(dict.fromkeys(order))
            assert [ids[s] for s in first_seen] == sorted(ids[s] for s in first_seen), channel
        stream_roots = [c for c in slack.posts("#social") if not c.args.get("thread_ts")]
        stream_alerts = store.one("SELECT COUNT(*) AS n FROM alerts WHERE route = 'stream'")["n"]
        assert stream_alerts >= 1 and stream_alerts <= len(stream_roots) <= stream_alerts + 1
        twice_by_channel["#social"] = len(stream_roots) - stream_alerts
        # each feed's request gaps between every - jitter and every + TTL + 2 s
        gaps = [g for h in hosts for path in h.feeds for g in h.gaps(path)]
        for host in hosts:
            for path in host.feeds:
                g = host.gaps(path)
                assert g and min(g) >= every - jitter - 0.05 and max(g) <= every + ttl + 2, (path, g)
        # the stream resumed within TTL + 5 s, with no gap (the set above)
        assert took <= ttl + 5
        # each escalation level fired once: one event per level per alert, one Slack reply per level per root
        for a in store.query("SELECT id, level FROM alerts WHERE route = 'escalating'"):
            kinds = [e["kind"] for e in store.query("SELECT kind FROM alert_events WHERE alert_id = ?", (a["id"],))]
            assert kinds.count("escalated") == 2 and a["level"] == 2, (a, kinds)
        replies = escalation_replies(slack)
        esc_one, esc_two = channel_id("#esc-one"), channel_id("#esc-two")
        expected = {(s, 2, esc_one) for s in escalating} | {(s, 3, c) for s in escalating for c in (esc_one, esc_two)}
        assert set(replies) == expected and set(replies.values()) == {1}, \
            sorted((k, v) for k, v in replies.items() if v != 1 or k not in expected)[:10]
        across = store.one("SELECT COUNT(DISTINCT a.id) AS n FROM alerts a JOIN alert_events e ON e.alert_id = a.id"
                           " WHERE a.route = 'escalating' AND a.notified_at < ? AND e.kind = 'escalated'"
                           " AND e.at > ?", (killed_wall, killed_wall))["n"]
        assert across >= 1, "no escalation was due across the kill"
        figures = {"stories": n, "stream_posts": len(wanted), "stored_at_kill": at_kill,
                   "stream_takeover_s": round(took, 1), "victim_leases": len(held[victim]), "killed_mid_poll": mid_poll,
                   "channels_held": sorted(channels_held.values(), reverse=True),
                   "twice_by_channel": twice_by_channel, "escalating_alerts": len(escalating),
                   "escalated_across_kill": across, "max_feed_gap_s": round(max(gaps), 1),
                   "min_feed_gap_s": round(min(gaps), 1)}
        print(f"kill -9 of the stream + channel holder: {figures}")
    finally:
        load.stop()
        for p in procs:
            p.__exit__()
        store.close()
        js.stop()
        slack.stop()
        for h in hosts:
            h.stop()


@pytest.mark.slow
def test_sigstop_past_the_ttl_then_sigcont_its_fenced_commits_are_refused(tmp_path, pg_url):
    every, ttl = 10.0, 3.0
    hosts = [LoggedFeeds().start() for _ in range(2)]
    slack = FakeSlack(post_delay=0.05).start()
    store = Store(pg_url)
    cfg, rules = replica_config(tmp_path, hosts, 2, slack, every=every, ttl=ttl)
    procs = start_replicas(2, cfg, rules, pg_url)
    try:
        load = Load(hosts, 2, rate=6.0).start()
        wait_until(lambda: holder_pid(store, f"channel:{CHANNEL}") is not None, 30, "a channel lease holder")
        time.sleep(2)
        victim = holder_pid(store, f"channel:{CHANNEL}")
        frozen = next(p for p in procs if p.pid == victim)
        mark = len(frozen.lines)
        os.kill(victim, signal.SIGSTOP)
        time.sleep(2 * ttl)
        assert holder_pid(store, f"channel:{CHANNEL}") not in (None, victim)     # the other took over
        os.kill(victim, signal.SIGCONT)
        frozen.wait_for(r"lease lost|no longer held", timeout=15, start=mark)
        time.sleep(every)
        _finish(load, store, slack)
        figures = _checks(store, load, slack, hosts, every=every, ttl=ttl, in_flight=1)
        print(f"SIGSTOP/SIGCONT: {figures}")
    finally:
        for p in procs:
            p.__exit__()
        store.close()
        slack.stop()
        for h in hosts:
            h.stop()


@pytest.mark.slow
def test_database_restart_mid_load_the_replicas_reconnect_and_lose_nothing(tmp_path, pg_url):
    pg = server()
    if pg is None:
        pytest.skip("$MONITOR_TEST_DATABASE_URL points at a server this test cannot restart")
    every, ttl = 10.0, 3.0
    hosts = [LoggedFeeds().start() for _ in range(2)]
    slack = FakeSlack(post_delay=0.05).start()
    cfg, rules = replica_config(tmp_path, hosts, 2, slack, every=every, ttl=ttl)
    procs = start_replicas(2, cfg, rules, pg_url)
    store: Store | None = None
    try:
        load = Load(hosts, 2, rate=6.0).start()
        time.sleep(4)
        pg.restart()                                     # every connection cut, as in a failover
        time.sleep(every + 2)
        store = Store(pg_url)
        _finish(load, store, slack)
        n = load.count
        assert store.one("SELECT COUNT(*) AS n FROM mentions")["n"] == n
        counts, _ = roots_per_story(slack, CHANNEL)
        assert set(counts) == set(range(n))
        twice = [s for s, c in counts.items() if c > 1]
        assert len(twice) <= 1, twice                    # at most the message in flight at the cut
        assert all(p.proc and p.proc.poll() is None for p in procs)     # both replicas rode it out
    finally:
        for p in procs:
            p.__exit__()
        if store is not None:
            store.close()
        slack.stop()
        for h in hosts:
            h.stop()


def test_two_replicas_ticking_at_once_fire_each_escalation_level_once(tmp_path, pg_url):
    """Timers are row-locked: two replicas whose ticks race over the same due alert fire it once."""
    from tests.harness import Harness, spec_rules
    h = Harness(tmp_path, spec_rules())
    other = App(Paths(str(h.cfg), str(h.rules_path)), clock=h.clock, sender=h.sender)
    other.outbox.interval = 0.0
    try:
        h.mention(reach=25_000)                          # angry influencer: the 3-level standard policy
        h.tick()
        for _ in range(60 * 3):                          # three hours in one-minute steps, both replicas ticking
            h.clock.advance(60)
            ticks = [threading.Thread(target=app.tick) for app in (h.app, other)]
            for t in ticks:
                t.start()
            for t in ticks:
                t.join(30)
            h.deliver()
        (alert,) = h.alerts()
        events = h.events(alert["id"])
        assert events.count("escalated") == 2 and events.count("notified") == 1, events
        assert len(h.sender.roots()) == len({(r.channel, r.ts) for r in h.sender.roots()})
        assert len(h.sender.roots("U0HEAD")) == 1
    finally:
        other.close()
        h.close()


def test_status_lists_replicas_and_lease_holders_and_flags_config_mismatch(tmp_path, pg_url):
    from monitor.config.settings import load_config
    from monitor.ops import health
    cfg, _ = write_config(tmp_path, sources="[]\n", slack_mode="bot")   # terminal mode is a problem of its own
    a, b = Store(pg_url), Store(pg_url)
    try:
        one, two = Coordinator(a, holder="box1:101:aa"), Coordinator(b, holder="box2:202:bb")
        one.register("hash-one")
        two.register("hash-one")
        assert one.acquire("channel:#comms-alerts") is not None
        looker = Store(pg_url, readonly=True)           # `monitor status` opens the database read-only
        rep = health.report(load_config(cfg), looker, time.time())
        looker.close()
        assert rep["healthy"] and [r["id"] for r in rep["replicas"]["live"]] == ["box1:101:aa", "box2:202:bb"]
        lines = "\n".join(health.render(rep))
        assert "replicas: 2 live" in lines and "leases of box1:101:aa: channel:#comms-alerts" in lines
        two.register("hash-two")                         # box2 was deployed with other rules
        rep = health.report(load_config(cfg), a, time.time())
        assert not rep["healthy"]
        assert any("different config/rules" in p and "box2:202:bb" in p for p in rep["problems"])
        one.halt()
        two.stop()                                       # a clean stop: no longer listed
        assert [r["id"] for r in health.replica_health(a)["live"]] == ["box1:101:aa"]
    finally:
        a.close()
        b.close()


@pytest.mark.slow
def test_rolling_sigterm_of_all_three_replicas_loses_nothing_and_sends_nothing_twice(tmp_path, pg_url):
    every, ttl = 10.0, 3.0
    hosts = [LoggedFeeds().start() for _ in range(3)]
    slack = FakeSlack(post_delay=0.05).start()
    store = Store(pg_url)
    cfg, rules = replica_config(tmp_path, hosts, 2, slack, every=every, ttl=ttl)
    procs = start_replicas(3, cfg, rules, pg_url)
    try:
        load = Load(hosts, 2, rate=6.0).start()
        time.sleep(4)
        for i in range(3):                               # a rolling upgrade: one replica at a time
            procs[i].signal(signal.SIGTERM)
            assert procs[i].wait(30) == 0
            procs[i] = start_replicas(1, cfg, rules, pg_url)[0]
            time.sleep(3)
        time.sleep(every)
        _finish(load, store, slack)
        figures = _checks(store, load, slack, hosts, every=every, ttl=ttl, in_flight=0)
        print(f"rolling SIGTERM: {figures}")
    finally:
        for p in procs:
            p.__exit__()
        store.close()
        slack.stop()
        for h in hosts:
            h.stop()
