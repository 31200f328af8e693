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

pytestmark = pytest.mark.slow
pg_url = pg_url_fixture          # a fresh schema per test, also in $MONITOR_DATABASE_URL

EVERY = 120.0                    # the cron interval; half of it (60 s) is the window a late box is kept out by
TAKEN = re.compile(r"(\d+) source\(s\) taken by another replica")


class Boxes:
    """Two feed hosts × two feeds, one negative story each, and the fake Slack: what two cron boxes share."""

    def __init__(self, tmp_path: Path, url: str, delays: tuple[float, float] = (0.5, 0.5), ttl: float = 4.0) -> None:
        self.url = url
        self.hosts = [LoggedFeeds(delay=d).start() for d in delays]
        self.slack = FakeSlack().start()
        self.cfg, self.rules = replica_config(tmp_path, self.hosts, 2, self.slack, every=EVERY, ttl=ttl)
        self.cfg.write_text(self.cfg.read_text().replace("deadline: 2s", f"deadline: {ttl - 2:g}s"))
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
    boxes = Boxes(tmp_path, pg_url)
    try:
        with boxes.once() as a:
            (first,) = _finish(a)
        assert boxes.requests() == {"h0f0": 1, "h0f1": 1, "h1f0": 1, "h1f1": 1}
        with boxes.once() as b:              # a few seconds later: the second box's cron ran late
            (late,) = _finish(b)
            said = [line for line in b.lines if "taken by another replica" in line and "source_id" in line]
        assert boxes.requests() == {"h0f0": 1, "h0f1": 1, "h1f0": 1, "h1f1": 1}, (boxes.requests(), late)
        assert _taken(late) == 4 and late.startswith("polled 0 source"), late
        assert len(said) == 4, b.log()                          # each one logged, with the source
        boxes.check_once_each()
        with MonitorProcess(["status", "--config", str(boxes.cfg)], env={"MONITOR_DATABASE_URL": pg_url}) as status:
            status.wait(timeout=60)
        assert "cron: 4 source(s) skipped in the last hour by a `run --once` pass as taken by another replica" \
            in status.stdout, status.stdout + status.log()
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
            a.signal(signal.SIGKILL)
            a.wait(timeout=10)
        cut = boxes.requests()
        with boxes.once() as b:
            (after,) = _finish(b)
        got = boxes.requests()
        assert (got["h0f0"], got["h0f1"]) == (1, 1), got                 # taken: not asked again
        assert got["h1f0"] + got["h1f1"] == cut["h1f0"] + cut["h1f1"] + 2, (cut, got)    # both polled by b
        assert _taken(after) == 2 and after.startswith("polled 2 source"), after
        boxes.check_once_each()
    finally:
        boxes.close()
