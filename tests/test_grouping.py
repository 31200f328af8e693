"""Grouping: one alert per story per route (retweets, syndicated copies, the same link), timers like
Alertmanager's group_wait / group_interval, and a new story is a new alert."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from monitor.alerting.grouping import canonical_url
from monitor.core.model import Mention
from tests.harness import Harness, spec_rules

pytestmark = pytest.mark.usefixtures("backend")     # each test on SQLite and on PostgreSQL

STORY = "Acme customer service left me on hold for two hours and then hung up on me, absolutely awful"
OTHER = "The new Acme blender broke after two days and the refund was denied, terrible product"
NO_SPIKE = spec_rules().replace("  - name: storm\n    match: {spike: {negative: 20, within: 1h}}\n"
                                "    escalation: critical\n", "")


def _copies(n: int) -> list[str]:
    shapes = ["RT @user{i}: {s}", "{s} #fail", "{s} via @news{i}", "{s}", "rt @Someone_{i} {s}!!",
              "{s} https://t.co/abc{i}"]
    return [shapes[i % len(shapes)].format(i=i, s=STORY) for i in range(n)]


@pytest.fixture
def h(tmp_path):
    harness = Harness(tmp_path, NO_SPIKE)
    yield harness
    harness.close()


def test_200_near_duplicates_in_a_minute_make_one_alert_that_says_200(h):
    for i, text in enumerate(_copies(200)):
        h.mention(text, url=f"https://x.example/status/{i}")
        h.clock.advance(0.3)
        if i % 20 == 0:
            h.tick()
    (alert,) = h.alerts()
    assert alert["mention_count"] == 200
    h.advance(5 * 60)                                       # group_interval: one update, not 200
    assert len(h.sender.roots()) == 1
    updates = [r for r in h.sender.replies() if "more mentions of this story" in r.text]
    assert len(updates) == 1 and "(200 in all)" in updates[0].text
    assert h.sender.updates                                  # the root re-rendered with the count
    out = subprocess.run([sys.executable, "-m", "monitor", "alerts", "--json", "--config", str(h.cfg),
                          "--rules", str(h.rules_path)], capture_output=True, text=True, timeout=60)
    (listed,) = [json.loads(line) for line in out.stdout.splitlines()]
    assert listed["mention_count"] == 200 and listed["owners"] == ["comms-oncall"]


def test_a_new_story_is_a_new_alert(h):
    h.mention(STORY)
    h.mention("RT @jane: " + STORY)
    h.mention(OTHER)
    assert [a["mention_count"] for a in h.alerts()] == [2, 1]
    h.advance(30)
    assert len(h.sender.roots()) == 2


def test_a_story_silent_past_story_window_comes_back_as_a_new_alert(h):
    """Regression: an unresolved alert from weeks ago swallowed today's mention of the same text."""
    h.mention(STORY)
    h.clock.advance(23 * 3600)
    h.mention("RT @jane: " + STORY)                       # within the default 24h window: the same story
    h.clock.advance(25 * 3600)
    h.mention("RT @joe: " + STORY)                        # silent for 25h: a new alert
    assert [a["mention_count"] for a in h.alerts()] == [2, 1]


def test_same_link_after_unwrapping_is_one_story(h):
    h.mention("Acme layoffs: support staff say the company is a disaster",
              url="https://news.example.com/acme-layoffs?utm_source=twitter&utm_medium=social")
    h.mention("Horrible news from Acme, so sad for the people involved",
              url="https://www.google.com/url?q=https://news.example.com/acme-layoffs/&sa=D")
    h.mention("Everyone is angry at Acme right now: https://news.example.com/acme-layoffs#comments",
              url="https://social.example/post/1")
    (alert,) = h.alerts()
    assert alert["mention_count"] == 3


def test_same_story_on_another_route_is_another_alert(h):
    h.mention(STORY)
    h.mention(STORY, source="trustpilot", kind="reviews", rating=1)
    assert sorted(a["route"] for a in h.alerts()) == ["any-negative", "bad-review"]


def test_short_texts_are_not_grouped_by_similarity(h):
    h.mention("Acme is awful")
    h.mention("Acme is awful!")
    assert len(h.alerts()) == 2


def test_resolved_story_starts_a_new_alert(h):
    from monitor.alerting.lifecycle import transition
    h.mention(STORY)
    transition(h.app.store, h.alerts()[0]["id"], "resolve", "dan")
    h.mention("RT @x: " + STORY)
    assert [a["state"] for a in h.alerts()] == ["resolved", "open"]


def test_group_wait_batches_then_group_interval_paces_updates(h):
    h.mention(STORY)
    h.advance(10)
    h.mention("RT @a: " + STORY)
    h.advance(25)                                            # 35s: the first message, saying 2
    (root,) = h.sender.roots()
    assert h.alerts()[0]["notified_count"] == 2
    h.mention("RT @b: " + STORY)
    h.advance(60)
    h.mention("RT @c: " + STORY)
    h.advance(60)
    assert h.sender.replies() == []                          # still inside group_interval
    h.advance(5 * 60)
    (reply,) = h.sender.replies()
    assert "2 more mentions" in reply.text and reply.thread_ts == root.ts
    h.advance(20 * 60, step=60)
    assert len(h.sender.replies()) == 1                      # nothing new: no update


def test_update_reply_escapes_collected_text(h):
    h.mention(STORY)
    h.advance(30)
    h.mention("RT @evil: " + STORY + " <!channel>", url="https://evil.example/<@U123>|bank.com")
    h.advance(5 * 60)
    (reply,) = h.sender.replies()
    assert "<!channel>" not in reply.text and "<@U123>" not in reply.text


def test_spike_folds_a_storm_into_one_alert(tmp_path):
    h = Harness(tmp_path, spec_rules())
    try:
        for i, text in enumerate(_copies(200)):
            h.mention(text, url=f"https://x.example/status/{i}")
            h.clock.advance(0.3)
        h.tick()
        h.advance(30)
        kinds = {(a["kind"], a["state"], a["resolution"]) for a in h.alerts()}
        assert ("spike", "open", None) in kinds
        spike = next(a for a in h.alerts() if a["kind"] == "spike")
        assert spike["mention_count"] == 200 and spike["route"] == "storm"
        assert {r.channel for r in h.sender.roots()} == {"#security-incidents", "U0HEAD"}   # the storm only
    finally:
        h.close()


@pytest.mark.parametrize("url, key", [
    ("https://www.example.com/a/b/?utm_source=x&id=3#frag", "example.com/a/b?id=3"),
    ("http://m.example.com/a", "example.com/a"),
    ("https://l.facebook.com/l.php?u=https%3A%2F%2Fexample.com%2Fstory&h=AT0", "example.com/story"),
    ("javascript:alert(1)", None),
    ("", None),
])
def test_canonical_url(url, key):
    assert canonical_url(url) == key


def test_story_keys_include_links_in_the_text():
    from monitor.alerting.grouping import story_keys
    m = Mention("s", "rss", "1", "read this https://example.com/x?fbclid=1 now", url="https://t.example/9")
    assert story_keys(m) == ["url:t.example/9", "url:example.com/x"]
