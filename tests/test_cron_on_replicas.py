"""Cron (`monitor run --once`) on two boxes against one PostgreSQL: each source fetched once per interval.

Real `monitor run --once` processes on the session's PostgreSQL, RSS hosts that log every request, the fake
Slack. Regression (cron on replicas): `--once` polled with only the host lease counting, so two boxes firing
together polled a source twice whenever one reached a host after the other had let it go, and a box whose cron
ran a few seconds late polled every source again (twice the API quota). Now a source another box finished
polling within half its `every` is left alone, counted and said; a box killed mid-pass leaves what it did not
finish to the next pass; mentions are stored once and each alert posted once throughout.
"""

from __future__ import annotations

import random
import re
import signal
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlparse

import pytest

from monitor.store.database import Store
from tests.fakes.feeds import Feed, Item
from tests.fakes.process import MonitorProcess
from tests.fakes.slack import TOKEN, FakeSlack
from tests.replicas_helpers import (
    LoggedFeeds,
    pg_url_fixture,
    replica_config,
    roots_per_story,
    story_text,
    wait_until,
)
from tests.timing import assert_within

pytestmark = pytest.mark.slow
pg_url = pg_url_fixture          # a fresh schema per test, also in $MONITOR_DATABASE_URL

EVERY = 120.0                    # the cron interval; half of it (60 s) is the window a late box is kept out by
TAKEN = re.compile(r"(\d+) source\(s\) taken by another replica")


class Boxes:
    """Two feed hosts × two feeds, one negative story each, and the fake Slack: what two cron boxes share."""

    def __init__(self, tmp_path: Path, url: str, delays: tuple[float, float] = (0.5, 0.5), ttl: float = 4.0, *,
                 every: float = EVERY, cron_interval: str | None = None) -> None:
        self.url = url
        self.hosts = [LoggedFeeds(delay=d).start() for d in delays]
        self.slack = FakeSlack().start()
        self.cfg, self.rules = replica_config(tmp_path, self.hosts, 2, self.slack, every=every, ttl=ttl)
        self.cfg.write_text(self.cfg.read_text().replace("deadline: 2s", f"deadline: {ttl - 2:g}s")
                            + (f"daemon:\n  cron_interval: {cron_interval}\n" if cron_interval else ""))
        rng = random.Random(5)
        self.paths = [(h, f"/f{i}.xml") for h in self.hosts for i in range(2)]
        for n, (host, path) in enumerate(self.paths):
            title, text = story_text(n, rng)
            host.feeds[path] = Feed([Item(f"g{n}", title, text, published=time.time())])
        self.store = Store(url)

    def once(self) -> MonitorProcess:
        """A `run --once` box, started by its `with` block."""
        return MonitorProcess(["run", "--once", "--config", str(self.cfg), "--rules", str(self.rules)],
                              env={"MONITOR_DATABASE_URL": self.url, "SLACK_BOT_TOKEN": TOKEN})

    def requests(self) -> dict[str, int]:
        """Requests each feed got, by source id (h<host>f<feed>, as replica_config names them)."""
        return {f"h{h}f{i}": sum(p == f"/f{i}.xml" for p, _, _ in host.log)
                for h, host in enumerate(self.hosts) for i in range(2)}

    def check_once_each(self) -> None:
        """Every story stored once, routed, and posted once to Slack."""
        rows = self.store.query("SELECT external_id, COUNT(*) AS n FROM mentions GROUP BY external_id")
        assert sorted((r["external_id"], r["n"]) for r in rows) == [(f"g{n}", 1) for n in range(len(self.paths))]
        assert self.store.one("SELECT COUNT(*) AS n FROM mentions WHERE processed_at IS NULL")["n"] == 0
        wait_until(lambda: self.store.one("SELECT COUNT(*) AS n FROM deliveries WHERE state = 'pending'")["n"] == 0,
                   10, "every message delivered")
        roots, _ = roots_per_story(self.slack, "#comms-alerts")
        assert roots == Counter(range(len(self.paths))), roots

    def status(self) -> str:
        """`monitor status`'s report (stdout)."""
        with MonitorProcess(["status", "--config", str(self.cfg)], env={"MONITOR_DATABASE_URL": self.url}) as status:
            status.wait(timeout=60)
        return status.stdout + status.log()

    def live_leases(self) -> list[str]:
        """Leases held right now (not a politeness hold let go with `per_host_interval` still to run)."""
        return [r["name"] for r in self.store.query("SELECT name FROM leases WHERE expires_at > db_now()"
                                                    " AND holder NOT LIKE 'released:%' ORDER BY name")]

    def close(self) -> None:
        self.store.close()
        self.slack.stop()
        for h in self.hosts:
            h.stop()


def _finish(*procs: MonitorProcess) -> list[str]:
    """Each pass's exit status (0) and its summary line."""
    out = []
    for p in procs:
        assert p.wait(timeout=120) == 0, p.log()
        out.append(p.wait_for(r"^polled \d+ source"))
    return out


def _taken(summary: str) -> int:
    m = TAKEN.search(summary)
    return int(m.group(1)) if m else 0


def test_two_cron_boxes_firing_together_fetch_each_source_once_and_alert_once(tmp_path, pg_url):
    boxes = Boxes(tmp_path, pg_url)
    try:
        with boxes.once() as a, boxes.once() as b:
            summaries = _finish(a, b)
        assert boxes.requests() == {"h0f0": 1, "h0f1": 1, "h1f0": 1, "h1f1": 1}, (boxes.requests(), summaries)
        polled = [int(re.search(r"^polled (\d+)", s).group(1)) for s in summaries]  # type: ignore[union-attr]
        # each source polled by one box and taken by the other (whichever came second to it)
        assert sum(polled) == 4 and sum(map(_taken, summaries)) == 4, summaries
        boxes.check_once_each()
    finally:
        boxes.close()


def test_a_late_cron_box_does_not_poll_what_another_polled_within_half_the_interval(tmp_path, pg_url):
    """`daemon.cron_interval` unset: each source's `every` is taken for the cron interval, and that is said in the
    log, the summary and `monitor status` (a skip must never surprise ops whose `every` is not the interval)."""
    boxes = Boxes(tmp_path, pg_url)
    try:
        with boxes.once() as a:
            (first,) = _finish(a)
        assert boxes.requests() == {"h0f0": 1, "h0f1": 1, "h1f0": 1, "h1f1": 1}
        assert boxes.live_leases() == [], "a finished pass holds nothing: the next box never waits for a lease"
        assert "daemon.cron_interval is unset, so the cron interval is assumed to be the sources' `every` (2m)" \
            in a.log(), a.log()
        with boxes.once() as b:              # a few seconds later: the second box's cron ran late
            (late,) = _finish(b)
            said = [line for line in b.lines if "taken by another replica" in line and "source_id" in line]
        assert boxes.requests() == {"h0f0": 1, "h0f1": 1, "h1f0": 1, "h1f1": 1}, (boxes.requests(), late)
        assert _taken(late) == 4 and late.startswith("polled 0 source"), late
        assert len(said) == 4 and all("every (assumed)" in line for line in said), b.log()   # each one, its source
        assert "within half their `every`, assumed to be the cron interval: daemon.cron_interval is unset" in late
        boxes.check_once_each()
        status = boxes.status()
        assert "cron: 4 source(s) skipped in the last hour by a `run --once` pass as taken by another replica" \
            " (polled there within half the cron interval, assumed to be each source's `every` as" \
            " daemon.cron_interval is unset: 1m for the last)" in status, status
    finally:
        boxes.close()


def test_a_cron_box_killed_mid_pass_leaves_what_it_did_not_finish_to_the_other(tmp_path, pg_url):
    """Host 0 answers at once, host 1 takes 4 s a feed: the first box is killed (SIGKILL) once host 0's feeds are
    done and host 1's first request is out. The second box, right after, skips host 0's two feeds (taken) and
    polls both of host 1's (one was cut short, one never asked): nothing lost, nothing alerted twice."""
    boxes = Boxes(tmp_path, pg_url, delays=(0.0, 4.0), ttl=8.0)       # a request may take 6 s
    try:
        with boxes.once() as a:
            wait_until(lambda: boxes.store.one("SELECT COUNT(*) AS n FROM poll_due WHERE polled_at IS NOT NULL"
                                               " AND source_id LIKE 'h0%'")["n"] == 2
                       and boxes.requests()["h1f0"] + boxes.requests()["h1f1"] >= 1, 60, "host 0 done, host 1 asked")
            host1 = f"host:{urlparse(boxes.hosts[1].feed_url('/')).netloc}"
            lapses = boxes.store.one("SELECT expires_at FROM leases WHERE name = ? AND expires_at > db_now()",
                                     (host1,))
            a.signal(signal.SIGKILL)
            a.wait(timeout=10)
        cut = boxes.requests()
        assert lapses is not None, "host 1's poll is in progress: its lease is held"
        with boxes.once() as b:
            (after,) = _finish(b)
        got = boxes.requests()
        asked = [w for p, _, w in boxes.hosts[1].log][sum(cut.values()) - cut["h0f0"] - cut["h0f1"]:]
        assert min(asked) >= lapses["expires_at"] - 0.1, "b asked host 1 before the dead box's lease lapsed" \
            " (a killed pass cannot let its leases go: they lapse)"
        assert (got["h0f0"], got["h0f1"]) == (1, 1), got                 # taken: not asked again
        assert got["h1f0"] + got["h1f1"] == cut["h1f0"] + cut["h1f1"] + 2, (cut, got)    # both polled by b
        assert _taken(after) == 2 and after.startswith("polled 2 source"), after
        boxes.check_once_each()
    finally:
        boxes.close()


def test_a_cron_box_stopped_by_sigterm_mid_pass_lets_its_leases_go_and_the_next_box_does_not_wait(tmp_path, pg_url):
    """Regression (cron on replicas): SIGTERM ended a `--once` pass at once without letting its leases go, so the
    next box waited out `storage.lease_ttl` (30 s here) for the host and asked again for the feed whose poll was
    cut short. Now the pass stops: the poll in progress ends (within `daemon.drain_timeout`), no new one starts,
    every lease is let go, exit 0; the next box, started right after, polls what was left at once."""
    boxes = Boxes(tmp_path, pg_url, delays=(0.0, 8.0), ttl=30.0)
    boxes.cfg.write_text(boxes.cfg.read_text().replace("http:\n", "http:\n  per_host_concurrency: 1\n"))
    try:
        with boxes.once() as a:
            wait_until(lambda: boxes.store.one("SELECT COUNT(*) AS n FROM poll_due WHERE polled_at IS NOT NULL"
                                               " AND source_id LIKE 'h0%'")["n"] == 2
                       and boxes.requests()["h1f0"] + boxes.requests()["h1f1"] == 1, 60, "host 0 done, host 1 asked")
            a.signal(signal.SIGTERM)
            assert a.wait(timeout=60) == 0, a.log()
        assert boxes.live_leases() == [], (boxes.live_leases(), a.log())
        assert "stopped by a signal before its poll ended" in a.log() and "every lease was let go" in a.log(), a.log()
        assert sum(boxes.requests().values()) == 3                 # host 1's poll in progress ended, not cut
        started = time.time()
        with boxes.once() as b:
            (after,) = _finish(b)
        assert boxes.requests() == {"h0f0": 1, "h0f1": 1, "h1f0": 1, "h1f1": 1}, (boxes.requests(), after)
        assert _taken(after) == 3 and after.startswith("polled 1 source"), after
        (asked,) = [w for _, _, w in boxes.hosts[1].log if w > started]
        print(f"second box asked host 1 {asked - started:.2f}s after it was started (lease_ttl 30s)")
        assert_within(asked - started, 0.0, 10.0, "the next box reaching the host the stopped one let go")
        boxes.check_once_each()
    finally:
        boxes.close()


def test_cron_interval_set_sources_polled_hourly_are_fetched_once_per_cron_tick(tmp_path, pg_url):
    """`every: 1h` with cron every 20 s (`daemon.cron_interval: 20s`): each tick's two boxes fetch each feed once
    between them. Before, the window was half of `every` whatever the cron interval: every tick after the first
    found the sources taken (a feed fetched once in 30 minutes by a cron running every 5)."""
    boxes = Boxes(tmp_path, pg_url, every=3600.0, cron_interval="20s")
    try:
        for tick in (1, 2):
            started = time.monotonic()
            with boxes.once() as a, boxes.once() as b:
                summaries = _finish(a, b)
            assert boxes.requests() == {"h0f0": tick, "h0f1": tick, "h1f0": tick, "h1f1": tick}, (tick, summaries)
            assert sum(map(_taken, summaries)) == 4, summaries
            assert all("within 10s, half of daemon.cron_interval" in s for s in summaries if _taken(s)), summaries
            time.sleep(max(0.0, started + 20.0 - time.monotonic()))      # the next cron tick
        assert "a source another replica polled within 10s (half of daemon.cron_interval 20s)" in a.log(), a.log()
        status = boxes.status()
        assert "as taken by another replica (polled there within 10s, half of daemon.cron_interval)" in status, status
        boxes.check_once_each()
    finally:
        boxes.close()


def test_cron_interval_set_sources_polled_every_few_seconds_are_not_fetched_again_by_a_late_box(tmp_path, pg_url):
    """`every: 10s` with cron every 2 minutes (`daemon.cron_interval: 2m`): a box whose pass comes seconds after
    the other's is the same tick and fetches nothing. Before, the window was half of `every` (5 s): a box 6 s late
    fetched every feed again."""
    boxes = Boxes(tmp_path, pg_url, every=10.0, cron_interval="2m")
    try:
        with boxes.once() as a:
            _finish(a)
        time.sleep(6.0)                                 # this box's cron fired a few seconds after the other's
        with boxes.once() as b:
            (late,) = _finish(b)
        assert boxes.requests() == {"h0f0": 1, "h0f1": 1, "h1f0": 1, "h1f1": 1}, (boxes.requests(), late)
        assert _taken(late) == 4 and late.startswith("polled 0 source"), late
        assert "within 1m, half of daemon.cron_interval" in late, late
        boxes.check_once_each()
    finally:
        boxes.close()
