"""The daily digest: per owner, once a day at the configured local time, with counts, open alerts, median TTA."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from monitor.alerting import lifecycle as alerts
from monitor.alerting.digest import build, queue_digests, slot
from monitor.config.rules import load_rules
from monitor.config.settings import DigestConfig
from monitor.core.clock import FakeClock
from monitor.core.model import Target
from monitor.runtime.daemon import App, Paths, run_once
from monitor.store.database import Store
from tests.alert_factory import make_alert
from tests.conftest import RULES, write_config

PARIS = ZoneInfo("Europe/Paris")
SECURITY = Target("security", "#security-incidents")


def at(day: int, hh: int, mm: int = 0) -> float:
    return datetime(2026, 3, day, hh, mm, tzinfo=PARIS).timestamp()


@pytest.fixture
def rules(tmp_path: Path):
    p = tmp_path / "rules.yaml"
    p.write_text(RULES)
    return load_rules(p)


@pytest.fixture
def store(tmp_path: Path):
    s = Store(tmp_path / "db.sqlite", FakeClock(at(10, 8)))
    yield s
    s.close()


def test_slot_is_local_time_and_waits_for_the_hour():
    assert slot(at(10, 8, 59), "09:00", "Europe/Paris") is None
    day, start, end = slot(at(10, 9, 1), "09:00", "Europe/Paris")
    assert day == "2026-03-10" and end == at(10, 9) and start == at(9, 9)
    # across the spring DST change (29 March in Paris) the window is a wall-clock day: 23 hours
    day, start, end = slot(at(29, 10), "09:00", "Europe/Paris")
    assert end - start == 23 * 3600


def test_counts_open_alerts_and_median_time_to_acknowledge(store, rules):
    clock: FakeClock = store.clock
    ids = [make_alert(store, brand=b, at=at(9, 12 + i)) for i, b in enumerate(["acme", "acme", "globex"])]
    make_alert(store, brand="acme", unscored=True, at=at(9, 16))
    make_alert(store, brand="acme", targets=(SECURITY,), at=at(9, 17))          # someone else's
    old = make_alert(store, brand="acme", at=at(1, 12))                          # old, still open
    clock.set(at(9, 13))
    alerts.transition(store, ids[0], "ack", "slack:U1")                         # 1 h after opening
    clock.set(at(9, 16))
    alerts.transition(store, ids[1], "resolve", "slack:U2")                     # acked+resolved after 3 h
    clock.set(at(10, 9, 0))
    d = build(store, "comms-oncall", "2026-03-10", at(9, 9), at(10, 9))
    assert dict(d.alerts) == {("acme", "negative"): 2, ("globex", "negative"): 1, ("acme", "unscored"): 1}
    assert {a["id"] for a in d.open_alerts} == {ids[0], ids[2], old, ids[2] + 1}
    assert d.median_ack == 2 * 3600
    assert d.volumes["acme"]["negative"] == 3 and d.volumes["acme"]["unscored"] == 1


def test_queued_once_per_owner_per_day_and_says_plus_n_more(store, rules):
    clock: FakeClock = store.clock
    for i in range(14):
        make_alert(store, text=f"complaint <!channel> {i}", at=at(9, 10) + i)
    cfg = DigestConfig(at="09:00", tz="Europe/Paris")
    clock.set(at(10, 8, 59))
    assert queue_digests(store, rules, cfg) == 0
    clock.set(at(10, 9, 1))
    assert queue_digests(store, rules, cfg) == 1                 # only comms-oncall has anything to say
    assert queue_digests(store, rules, cfg) == 0                 # a restart or the next cron run: not twice
    row = store.one("SELECT * FROM deliveries WHERE kind = 'digest'")
    assert row["dedupe_key"] == "digest:2026-03-10:comms-oncall" and row["channel"] == "#comms-alerts"
    body = json.loads(row["payload"])
    text = json.dumps(body)
    assert "Open alerts:* 14" in text and "+4 more" in text and "<!channel>" not in text
    assert "Your alerts, last 24 h:* 14" in text
    clock.set(at(11, 9, 30))
    assert queue_digests(store, rules, cfg) == 1                 # the next day: a new one


def test_skip_empty_false_sends_quiet_days_too(store, rules):
    store.clock.set(at(10, 9, 5))
    cfg = DigestConfig(at="09:00", tz="Europe/Paris", skip_empty=False, owners=["security", "nobody"])
    assert queue_digests(store, rules, cfg) == 1
    assert store.one("SELECT channel FROM deliveries")["channel"] == "#security-incidents"


def test_run_once_queues_and_sends_the_digest(tmp_path, fake_slack, slack_env):
    cfg, rules_path = write_config(tmp_path, sources="[]\n", slack_url=fake_slack.api_url,
                                   extra="")
    text = cfg.read_text().replace("slack:\n", "slack:\n  digest: {at: \"00:00\", tz: UTC}\n  interactive: off\n")
    cfg.write_text(text)
    app = App(Paths(str(cfg), str(rules_path)))
    try:
        now = app.clock.now()
        make_alert(app.store, at=now - now % 86400 - 3600)          # yesterday, 23:00 UTC
        run_once(app, delivery_budget_s=5)
        texts = [p.args["text"] for p in fake_slack.posts()]
        assert any(t.startswith("Daily digest for comms-oncall") for t in texts)
        run_once(app, delivery_budget_s=2)
        assert sum(t.startswith("Daily digest") for t in (p.args["text"] for p in fake_slack.posts())) == 1
    finally:
        app.close()


@pytest.mark.parametrize("yaml, message", [
    ('  digest: {at: "9am"}\n', 'slack.digest.at: bad time "9am"'),
    ('  digest: {tz: Mars/Olympus}\n', 'unknown time zone "Mars/Olympus"'),
    ('  interactive: sockets\n', "slack.interactive"),
    ('  http_listen: "3000"\n', 'must be host:port'),
    ('  mode: bot-ish\n', "slack.mode"),
])
def test_slack_config_errors_name_the_key(tmp_path, yaml, message):
    from monitor.config.settings import load_config
    from monitor.core.errors import ConfigValidationError

    cfg, _ = write_config(tmp_path, sources="[]\n")
    cfg.write_text(cfg.read_text().replace("slack:\n", "slack:\n" + yaml))
    with pytest.raises(ConfigValidationError) as exc:
        load_config(cfg)
    assert message in str(exc.value) and "monitor.yaml:" in str(exc.value)
