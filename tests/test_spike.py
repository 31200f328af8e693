"""Spike detection: negative volume of a brand against the same window on past days (mean + k·sd, a
minimum count, a cooldown); a spike is one alert routed by `spike` routes, and folds the brand's mentions."""

from __future__ import annotations

import random

import pytest

from monitor.alerting.lifecycle import transition
from monitor.alerting.spike import DAY
from tests.harness import Harness, spec_rules

pytestmark = pytest.mark.usefixtures("backend")     # each test on SQLite and on PostgreSQL

COMPLAINTS = ["Acme lost my parcel again, useless", "Acme billing charged me twice, awful",
              "Acme app is broken and support is rude", "Terrible experience with Acme today",
              "Acme refund denied, what a scam", "Acme customer service was unhelpful"]


def _history(h: Harness, per_hour: list[int], days: int = 7, brand: str = "acme") -> None:
    """Synthetic stored negative mentions: about per_hour[d-1] in every hour of day -d (before now)."""
    rnd = random.Random(7)
    now = h.clock.now() + 3600                     # the tests run up to an hour on from here
    with h.app.store.tx() as db:
        n = 0
        for d in range(1, days + 1):
            for hour in range(24):
                count = max(0, per_hour[d - 1] + rnd.randint(-1, 1))
                for _ in range(count):
                    n += 1
                    at = now - d * DAY - hour * 3600 - rnd.uniform(1, 3599)
                    db.execute("INSERT INTO mentions (source_id, source_kind, external_id, text, collected_at,"
                               " brands, score, negative, status, processed_at) VALUES"
                               " ('hist', 'rss', ?, 'old complaint', ?, ?, -0.6, 1, 'routed', ?)",
                               (f"h{n}", at, f'["{brand}"]', at))


def _burst(h: Harness, n: int, spread: float = 1800) -> None:
    for i in range(n):
        h.mention(f"{COMPLAINTS[i % len(COMPLAINTS)]} (#{i})")
        h.clock.advance(spread / n)
        if i % 5 == 0:
            h.tick()


@pytest.fixture
def h(tmp_path):
    harness = Harness(tmp_path, spec_rules())
    yield harness
    harness.close()


def test_baseline_then_burst_makes_one_spike_alert(h):
    _history(h, [3, 4, 2, 5, 3, 4, 3])
    _burst(h, 40)
    h.advance(60)
    spikes = [a for a in h.alerts() if a["kind"] == "spike"]
    assert len(spikes) == 1
    (s,) = spikes
    assert s["route"] == "storm" and s["policy"] == "critical" and s["spike_firing"] == 1
    assert s["mention_count"] >= 30                         # the burst, folded in
    stats = __import__("json").loads(s["spike_stats"])
    assert len(stats["baseline"]) == 7 and 2 <= stats["mean"] <= 5
    roots = h.sender.roots()
    storm = [i for i, r in enumerate(roots) if r.channel in ("#security-incidents", "U0HEAD")]
    assert len(storm) == 2                                   # the storm, once per owner
    before = roots[:storm[0]]
    # before the threshold: one alert per story (6 complaint texts), never one per mention; after it: nothing
    assert len(before) <= len(COMPLAINTS) and len(roots) == len(before) + 2
    # mention alerts not yet announced when the spike fired were folded into it
    mention_alerts = [a for a in h.alerts() if a["kind"] == "mention"]
    assert all(a["notified_at"] is not None or a["resolution"] == "folded" for a in mention_alerts)


def test_an_ordinary_day_makes_no_spike(h):
    _history(h, [3, 4, 2, 5, 3, 4, 3])
    _burst(h, 5)
    h.advance(120)
    assert [a for a in h.alerts() if a["kind"] == "spike"] == []


def test_a_busy_brand_at_its_usual_volume_is_not_a_spike(h):
    _history(h, [30, 28, 33, 31, 29, 30, 32])
    _burst(h, 32, spread=3000)
    h.advance(60)
    assert [a for a in h.alerts() if a["kind"] == "spike"] == []


def test_while_firing_new_mentions_fold_in_and_after_it_ends_they_alert_alone(h):
    _burst(h, 25, spread=600)
    h.advance(60)
    (spike,) = [a for a in h.alerts() if a["kind"] == "spike"]
    before = len(h.alerts())
    h.mention("Acme charged my card twice and nobody answers, terrible service")
    assert len(h.alerts()) == before                         # folded, no new alert
    assert [a for a in h.alerts() if a["kind"] == "spike"][0]["mention_count"] == spike["mention_count"] + 1
    h.advance(3600, step=60)                                 # the window empties: the spike ends
    assert [a for a in h.alerts() if a["kind"] == "spike"][0]["spike_firing"] == 0
    assert any("subsided" in r.text for r in h.sender.replies())
    h.mention("Acme lost my parcel for the third time, pathetic service")
    assert len(h.alerts()) == before + 1


def test_cooldown_after_resolve(h):
    _burst(h, 25, spread=600)
    h.advance(30)
    (spike,) = [a for a in h.alerts() if a["kind"] == "spike"]
    transition(h.app.store, spike["id"], "resolve", "erin")
    _burst(h, 25, spread=600)                                # still storming, 10 minutes later
    assert len([a for a in h.alerts() if a["kind"] == "spike"]) == 1
    h.advance(3600, step=60)
    _burst(h, 30, spread=300)                                # a new storm after the cooldown
    assert len([a for a in h.alerts() if a["kind"] == "spike"]) == 2


def test_not_negative_feedback_is_excluded_from_spike_counts(h):
    from monitor.alerting.spike import db_counter
    from monitor.config.rules import Spike
    _burst(h, 3, spread=30)
    now = h.clock.now()
    count = db_counter(h.app.store, "acme")
    assert count(now - 3600, now) == 3
    alert_id = h.alerts()[0]["id"]
    transition(h.app.store, alert_id, "not_negative", "fred")
    assert count(now - 3600, now) == 3 - h.alerts()[0]["mention_count"]
    assert Spike(negative=1).cooldown is None


def test_second_not_negative_click_on_a_spike_redraws_the_spike_not_one_mention(h):
    """Regression: the Slack-actions module had its own renderer that ignored the spike summary, so a second
    "Not negative" click (arriving before Slack showed the first) redrew the spike as one ordinary mention."""
    import json

    from monitor.alerting.interactive import Actions

    _history(h, [2] * 7)
    _burst(h, 30)
    h.tick()
    h.deliver()
    (spike,) = [a for a in h.alerts() if a["kind"] == "spike"]
    actions = Actions(h.app.store, h.clock, "http://127.0.0.1:9/api/")
    assert actions.apply("not_negative", str(spike["id"]), "U0CA5") is None
    before = h.app.store.one("SELECT MAX(id) AS id FROM deliveries")["id"]
    h.deliver()
    actions.apply("not_negative", str(spike["id"]), "U0BOB")        # the second click, same message
    redraws = h.app.store.query("SELECT payload FROM deliveries WHERE alert_id = ? AND kind = 'update' AND id > ?",
                                (spike["id"], before))
    assert redraws, "the second click re-renders the root message"
    text = json.dumps(json.loads(redraws[-1]["payload"]))
    assert "Latest:" in text and "spike" in text.lower()            # the spike summary, as the first render
