"""A database filled by the real pipeline for the dashboard tests: five days of mentions for two brands,
alerts acknowledged fast, late and never, one held by quiet hours right now, and one hostile post."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from monitor.alerting.lifecycle import transition
from tests.harness import Harness

DAY = 86400.0
HOSTILE = ('Acme is awful <script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2"> '
           'terrible & "rude" support')


def rules(now: float) -> str:
    """Quiet hours from an hour ago to two hours ahead (UTC), every day: an alert opened now is held."""
    start = datetime.fromtimestamp(now - 3600, UTC).strftime("%H:%M")
    end = datetime.fromtimestamp(now + 2 * 3600, UTC).strftime("%H:%M")
    return f"""\
version: 1
owners:
  comms-oncall:  {{slack: "#comms-alerts"}}
  support-lead:  {{slack: "@U024BE7LH"}}
  security:      {{slack: "#security-incidents"}}
defaults:
  notify: comms-oncall
  group_wait: 1s
quiet_hours: {{from: "{start}", to: "{end}", tz: UTC, except: [critical]}}
escalation_policies:
  critical:
    - notify: security
    - after: 10m
      notify: comms-oncall
  standard:
    - notify: comms-oncall
    - after: 30m
      notify: support-lead
routes:
  - name: data-security
    match: {{any: [breach, hacked]}}
    escalation: critical
  - name: any-negative
    match: {{sentiment: {{below: -0.05}}}}
    escalation: standard
"""


BRANDS = """\
acme:
  query: '"acme"'
globex:
  query: '"globex"'
"""

NEGATIVE = ["Acme delivery {n} days late, awful service, I am furious",
            "Acme billing charged me twice again, terrible and rude support",
            "Acme app crashed and lost my order {n}, horrible experience"]


@dataclass
class Built:
    db: str
    config: Path
    rules: Path
    now: float
    hostile_id: int
    held_alert: int


def build(tmp_path: Path, days: int = 5) -> Built:
    now = time.time()
    h = Harness(tmp_path, rules(now), start=now - days * DAY - 5 * 3600, brands=BRANDS)
    try:
        store = h.app.store
        for d in range(days, 0, -1):
            h.clock.set(max(h.clock.now(), now - d * DAY - 5 * 3600))
            for i, text in enumerate(NEGATIVE[: 1 + d % 3]):
                h.mention(text.format(n=d) + f" (day {d})", source="news" if i % 2 else "forum",
                          kind="rss" if i % 2 else "reddit", reach=1000 * (i + 1) + d, author=f"angry{i}")
            h.many([f"I love Acme, great blender {d}", f"Acme opens a new store in Lyon {d}",
                    f"Globex is fine I guess {d}", f"Globex has great support, thanks {d}"],
                   source="news", kind="rss", reach=50)
            h.clock.advance(2)
            h.tick()
            opened = [a["id"] for a in store.query("SELECT id FROM alerts WHERE state = 'open' ORDER BY id")]
            if opened:
                h.clock.advance(1200)
                transition(store, opened[0], "ack", "jane")                 # 20 min: in time
            if len(opened) > 1:
                h.clock.advance(2 * 3600)
                transition(store, opened[1], "ack", "slack:U024BE7LH")     # 2 h: an SLA breach
                transition(store, opened[1], "resolve", "slack:U024BE7LH")
        h.clock.set(max(h.clock.now(), now - 600))
        h.mention(HOSTILE, source="forum", kind="reddit", url="javascript:alert(1)", author="<b>mallory</b>",
                  reach=7)
        hostile = store.one("SELECT id FROM mentions WHERE text = ?", (HOSTILE,))
        assert hostile is not None
        h.mention("Acme checkout is broken, terrible, I want a refund now", source="news", kind="rss", reach=300)
        h.clock.advance(2)
        h.tick()
        held = store.one("SELECT id FROM alerts ORDER BY id DESC LIMIT 1")
        assert held is not None
        # Stands in for two other stages writing the v6 columns (the issue classifier in analyse, reply
        # tracking in alerting) until they land: the dashboard only reads them.
        with store.tx() as db:
            db.execute("UPDATE mentions SET issue = CASE WHEN text LIKE '%billing%' THEN 'billing'"
                       " WHEN text LIKE '%delivery%' THEN 'delivery' WHEN text LIKE '%crash%' THEN 'outage' END"
                       " WHERE negative = 1")
            db.execute("UPDATE alerts SET first_response_at = acked_at + 600, first_response_by = acked_by"
                       " WHERE acked_at IS NOT NULL AND id % 2 = 1")
        return Built(h.app.db_path, h.cfg, h.rules_path, now, hostile["id"], held["id"])
    finally:
        h.close()
