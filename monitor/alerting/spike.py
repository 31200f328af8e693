"""Spike detection: a brand's negative volume in a window against its own baseline.

The baseline is the same window at the same time of day on each of the past `baseline_days` days (only days
the monitor was already collecting count), so a brand that always gets 30 complaints on Monday mornings does
not page anyone for 30, and a quiet brand pages on a handful. A spike fires when the window holds at least
`negative` mentions AND more than mean + k·sd of the baseline. It is an alert of its own, routed by `spike`
routes; while it fires, the brand's new mention alerts fold into it, and its mention alerts not yet announced
are folded in when it opens. After it ends, `cooldown` keeps the next one from paging again at once.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import sqlite_utils

from monitor.alerting import record
from monitor.alerting.grouping import open_alert, schedule_update
from monitor.alerting.lifecycle import announce, record_event
from monitor.alerting.view import rows
from monitor.analyse.routing import RouteHit, Router, Subject
from monitor.config.rules import Rules, Spike
from monitor.core.durations import format_duration
from monitor.store.database import Store, dumps
from monitor.store.leases import advisory_lock

DAY = 86400.0
CountFn = Callable[[float, float], int]     # negative mentions with start < collected_at <= end

_NEG = ("FROM mentions WHERE negative = 1 AND collected_at > ? AND collected_at <= ? AND status IS NOT 'stale'"
        " AND EXISTS (SELECT 1 FROM json_each(mentions.brands) WHERE value = ?)"
        " AND id NOT IN (SELECT mention_id FROM feedback WHERE verdict = 'not_negative' AND mention_id IS NOT NULL)")


@dataclass
class SpikeStat:
    count: int
    minimum: int
    baseline: list[int] = field(default_factory=list)
    mean: float = 0.0
    sd: float = 0.0
    k: float = 3.0
    within: float = 3600.0

    @property
    def needed(self) -> float:
        return self.mean + self.k * self.sd

    @property
    def fired(self) -> bool:
        return self.count >= self.minimum and self.count > self.needed

    def why_not(self) -> str | None:
        if self.count < self.minimum:
            return f"{self.count} negative in {format_duration(self.within)}, fewer than {self.minimum}"
        if not self.fired:
            return (f"{self.count} negative in {format_duration(self.within)} is within the usual "
                    f"{self.mean:.1f} + {self.k:g}·{self.sd:.1f} of the past {len(self.baseline)} day(s)")
        return None

    def summary(self, brand: str) -> str:
        usual = (f"usual for this time of day: {self.mean:.1f} ± {self.sd:.1f} over {len(self.baseline)} day(s)"
                 if self.baseline else "no baseline yet")
        return f"{self.count} negative mentions of {brand} in the last {format_duration(self.within)} ({usual})"


def evaluate(count_in: CountFn, spike: Spike, now: float, history_start: float | None) -> SpikeStat:
    """Count the window, then (only if it could fire) the same window on each past day with data."""
    stat = SpikeStat(count_in(now - spike.within, now), spike.negative, k=spike.k, within=spike.within)
    if stat.count < spike.negative:
        return stat
    for d in range(1, spike.baseline_days + 1):
        end = now - d * DAY
        if history_start is None or end - spike.within < history_start:
            break                                 # the monitor was not collecting yet: not a quiet day
        stat.baseline.append(count_in(end - spike.within, end))
    if stat.baseline:
        stat.mean = statistics.fmean(stat.baseline)
        stat.sd = statistics.pstdev(stat.baseline)
    return stat


def db_counter(store: Store, brand: str) -> CountFn:
    """Counts through the Store's lock, never on its connection directly: the tick thread once ran this on the
    shared SQLite connection while another thread's statement called `db_now()`; that thread held SQLite's
    connection mutex waiting for the GIL, this one held the GIL waiting for the mutex, and the whole daemon
    froze (regression: `monitor demo` hung in CI with its main thread in `Thread.start`)."""
    sql = f"SELECT COUNT(*) AS n {_NEG}"

    def count(start: float, end: float) -> int:
        row = store.one(sql, (start, end, brand))
        return int(row["n"]) if row else 0
    return count


def spike_subject(brand: str, check: Callable[[Spike], str | None]) -> Subject:
    from monitor.analyse.sentiment import Sentiment  # here: the lexicons load only where a spike is judged

    return Subject(brand, "spike", "spike", Sentiment(None, True, False, None), spike=True, spike_check=check)


def detect(store: Store, rules: Rules, router: Router, brands: list[str]) -> int:
    """Evaluate every brand against the spike routes; open, extend or end spike alerts. Returns opened."""
    if not any(r.match.spike for r in rules.routes):
        return _end_all(store, set())
    now = store.now()
    first = store.one("SELECT MIN(collected_at) AS t FROM mentions")
    history_start = first["t"] if first else None
    opened = 0
    firing: set[str] = set()
    for brand in brands:
        stats: dict[Spike, SpikeStat] = {}

        def check(spike: Spike, brand: str = brand, stats: dict[Spike, SpikeStat] = stats) -> str | None:
            if spike not in stats:
                stats[spike] = evaluate(db_counter(store, brand), spike, now, history_start)
            return stats[spike].why_not()

        for hit in router.route(spike_subject(brand, check)).hits:
            route = rules.route(hit.route)
            if route is None or route.match.spike is None:
                continue
            firing.add(f"spike|{hit.route}|{brand}")
            with store.tx() as db:
                opened += _fire(db, now, brand, hit, route.match.spike, stats[route.match.spike], rules)
    _end_all(store, firing)
    return opened


def _link_window(db: sqlite_utils.Database, alert_id: int, brand: str, spike: Spike, now: float) -> None:
    record.link_selected(db, alert_id, _NEG, (now - spike.within, now, brand))
    record.recount(db, alert_id, now)


def _fire(db: sqlite_utils.Database, now: float, brand: str, hit: RouteHit, spike: Spike, stat: SpikeStat,
          rules: Rules) -> int:
    advisory_lock(db, f"brand:{brand}")                  # with grouping: one spike, and no fold missed
    key = f"spike|{hit.route}|{brand}"
    info = dumps({**asdict(stat), "summary": stat.summary(brand)})
    live = rows(db, "SELECT id, spike_firing, mention_count FROM alerts WHERE group_key = ? AND state != 'resolved'"
                    " ORDER BY id DESC LIMIT 1", (key,))
    if live:
        a = live[0]
        record.update(db, a["id"], spike_firing=1, spike_last=now, spike_stats=info)
        _link_window(db, a["id"], brand, spike, now)
        schedule_update(db, now, a["id"])
        if not a["spike_firing"]:
            ev = record_event(db, a["id"], now, "spike_again", None, stat.summary(brand))
            announce(db, now, a["id"], f"ev{ev}", f":chart_with_upwards_trend: The spike is back: {stat.summary(brand)}.")
        return 0
    last = db.execute("SELECT MAX(spike_last) FROM alerts WHERE group_key = ?", (key,)).fetchone()[0]
    if last is not None and now - last < (spike.cooldown if spike.cooldown is not None else spike.within):
        return 0                                  # cooling down after the last one
    alert_id = open_alert(db, now, kind="spike", group_key=key, brand=brand, hit=hit, rules=rules,
                          title=f"Spike: {stat.summary(brand)}"[:200], story=None, wait=0.0)
    record.update(db, alert_id, spike_firing=1, spike_last=now, spike_stats=info)
    _link_window(db, alert_id, brand, spike, now)
    _fold_waiting(db, now, brand, alert_id)
    return 1


def _fold_waiting(db: sqlite_utils.Database, now: float, brand: str, spike_id: int) -> None:
    """Mention alerts of the brand still inside group_wait become part of the spike instead of paging apart."""
    for a in rows(db, "SELECT id FROM alerts WHERE brand = ? AND kind = 'mention' AND state != 'resolved'"
                      " AND notified_at IS NULL", (brand,)):
        record.link_mentions_of(db, spike_id, a["id"])
        record.update(db, a["id"], state="resolved", resolution="folded", folded_into=spike_id, resolved_at=now,
                      flush_at=None, next_action_at=None, updated_at=now)
        record_event(db, a["id"], now, "folded", None, f"into spike alert #{spike_id}")
    record.recount(db, spike_id)


def _end_all(store: Store, firing: set[str]) -> int:
    """Spikes no longer over their threshold stop absorbing mentions and say so in their thread."""
    now = store.now()
    for a in store.query("SELECT id, group_key, spike_stats FROM alerts WHERE kind = 'spike' AND spike_firing = 1"
                         " AND state != 'resolved'"):
        if a["group_key"] in firing:
            continue
        with store.tx() as db:
            if not record.update(db, a["id"], spike_firing=0, expect={"spike_firing": 1}):
                continue
            ev = record_event(db, a["id"], now, "spike_ended", None)
            announce(db, now, a["id"], f"ev{ev}", ":chart_with_downwards_trend: The spike has subsided; "
                                                  "new mentions of the brand alert on their own again.")
    return 0


def stats_dict(stat: SpikeStat) -> dict[str, Any]:
    return {**asdict(stat), "needed": stat.needed, "fired": stat.fired}
