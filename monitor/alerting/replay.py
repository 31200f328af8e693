"""`monitor replay`: stored mentions through the current rules, as the daemon would have alerted on them.

Everything is simulated in memory (nothing is written, nothing is sent): each mention is re-analyzed and
routed with today's rules, grouped into stories exactly as `monitor.alerting.grouping` does (same URL keys, same
similarity), and spikes are detected over the replayed mentions themselves (the baseline only knows the
replayed period), folding the brand's mentions while they fire. The result is one record per alert that
would have been sent, with who would have been told.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz import fuzz

from monitor.alerting.grouping import MIN_TEXT_FOR_SIMILARITY, snapshot, story_keys, story_text
from monitor.alerting.spike import evaluate, spike_subject
from monitor.analyse.analyzer import Analyzer, mention_from_row
from monitor.analyse.routing import RouteHit
from monitor.core.clock import iso
from monitor.store.database import Store


@dataclass
class WouldBe:
    kind: str
    route: str | None
    brand: str
    hit: RouteHit
    first_at: float
    text: str
    story: str = ""
    keys: set[str] = field(default_factory=set)
    mention_ids: list[int] = field(default_factory=list)
    last_fire: float = 0.0

    def record(self, analyzer: Analyzer) -> dict[str, Any]:
        levels = snapshot(analyzer.router.rules, self.hit)
        return {"kind": self.kind, "route": self.route, "brand": self.brand, "policy": self.hit.policy,
                "notify": [t.owner for t in self.hit.targets], "channels": [t.slack for t in self.hit.targets],
                "escalation": [[t["owner"] for t in lv["targets"]] for lv in levels[1:]],
                "mentions": len(self.mention_ids), "mention_ids": self.mention_ids[:50], "first_at": iso(self.first_at),
                "text": self.text[:200]}


@dataclass
class ReplayResult:
    mentions: int                      # published (else collected) since the cut-off
    stale: int                         # of those, older than their source's max_age when collected: never alerted
    would: list[dict[str, Any]]


def is_stale(row: dict[str, Any], max_age: float | None) -> bool:
    """What the pipeline decided at collection time: published more than `max_age` before it was collected."""
    if row.get("status") == "stale":
        return True
    published, collected = row.get("published"), row.get("collected_at")
    return bool(max_age and published and collected and collected - published > max_age)


def replay(store: Store, analyzer: Analyzer, since: float) -> ReplayResult:
    """Mentions by publication time (collection time when a source gives none), each through today's rules
    with its source's own brands; those the daemon never alerted on because they were too old are skipped."""
    rules = analyzer.router.rules
    similarity = rules.defaults.group_similarity * 100
    rows = store.query("SELECT * FROM mentions WHERE COALESCE(published, collected_at) >= ?"
                       " ORDER BY COALESCE(published, collected_at), id", (since,))
    sources = {s.id: s for s in analyzer.config.sources}
    alerts: list[WouldBe] = []
    open_by_group: dict[str, list[WouldBe]] = {}
    spikes: dict[tuple[str, str | None], WouldBe] = {}
    negatives: dict[str, list[float]] = {}
    stale = 0
    for row in rows:
        m = mention_from_row(row)
        source = sources.get(m.source_id)
        if is_stale(row, source.max_age if source else None):
            stale += 1
            continue
        at = float(row["published"] or row["collected_at"])
        for v in analyzer.analyze(m, source.brands if source else None).verdicts:
            if v.sentiment.negative:
                negatives.setdefault(v.brand, []).append(at)
                folded = _spike(analyzer, spikes, alerts, negatives[v.brand], v.brand, at, since)
                if folded is not None:
                    folded.mention_ids.append(int(row["id"]))
                    continue
            for hit in v.decision.hits:
                group = f"{hit.route or 'default'}|{v.brand}"
                keys, text = set(story_keys(m)), story_text(m)
                same = next((a for a in open_by_group.get(group, []) if a.keys & keys or (
                    len(text) >= MIN_TEXT_FOR_SIMILARITY and fuzz.ratio(text, a.story) >= similarity)), None)
                if same is None:
                    same = WouldBe("mention", hit.route, v.brand, hit, at, m.full_text, text)
                    open_by_group.setdefault(group, []).append(same)
                    alerts.append(same)
                same.keys |= keys
                same.mention_ids.append(int(row["id"]))
    return ReplayResult(len(rows), stale, [a.record(analyzer) for a in alerts])


def _spike(analyzer: Analyzer, spikes: dict[tuple[str, str | None], WouldBe], alerts: list[WouldBe],
           times: list[float], brand: str, at: float, since: float) -> WouldBe | None:
    """The spike this negative mention belongs to, opening one if the brand's volume now crosses a spike route."""
    rules = analyzer.router.rules

    def count(start: float, end: float) -> int:
        return bisect.bisect_right(times, end) - bisect.bisect_right(times, start)

    def check(spike: Any) -> str | None:
        return evaluate(count, spike, at, since).why_not()

    for hit in analyzer.router.route(spike_subject(brand, check)).hits:
        route = rules.route(hit.route)
        if route is None or route.match.spike is None:
            continue
        sp = route.match.spike
        live = spikes.get((brand, hit.route))
        cooldown = sp.cooldown if sp.cooldown is not None else sp.within
        if live is None or at - live.last_fire > sp.within + cooldown:
            live = WouldBe("spike", hit.route, brand, hit, at, f"spike: {count(at - sp.within, at)} negative "
                                                               f"mentions of {brand} within {sp.within:g}s")
            spikes[(brand, hit.route)] = live
            alerts.append(live)
        live.last_fire = at
        return live
    return None
