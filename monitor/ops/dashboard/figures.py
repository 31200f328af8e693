"""The numbers behind the dashboard and the weekly report, read live from the database (never a snapshot).

One period is [since, until); every headline figure is also computed for the period just before it, so the
page can say "up 40%". Mentions count when matched to a brand (status matched or routed), by the time they
were collected; alert timings count alerts opened in the period, folded alerts left out (they were merged
into another). Sentiment buckets are the digest's: unscored, negative, positive (score >= 0.05), neutral.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from monitor.store.database import Store, loads

SENTIMENTS = ("negative", "neutral", "positive", "unscored")
SENTIMENT_SQL = ("CASE WHEN m.unscored = 1 THEN 'unscored' WHEN m.negative = 1 THEN 'negative'"
                 " WHEN m.score >= 0.05 THEN 'positive' ELSE 'neutral' END")
MATCHED = "m.status IN ('matched', 'routed')"
# brands is a JSON list written by the pipeline: the brand's JSON string (quotes included) occurs in it exactly
# when the brand is listed; instr() reads it from the covering index, json_each would parse every row.
BRAND_SQL = "instr(m.brands, json_quote(:brand)) > 0"
PERIODS = {"24h": 86400.0, "7d": 7 * 86400.0, "30d": 30 * 86400.0}


@dataclass(frozen=True)
class Window:
    """A period and how its charts are bucketed; `origin` aligns buckets to local midnight for daily ones."""

    since: float
    until: float
    tz: str
    brand: str | None = None

    @property
    def length(self) -> float:
        return self.until - self.since

    @property
    def previous(self) -> Window:
        return Window(self.since - self.length, self.since, self.tz, self.brand)

    @property
    def step(self) -> float:
        for limit, step in ((2 * 86400, 3600.0), (8 * 86400, 6 * 3600.0), (62 * 86400, 86400.0)):
            if self.length <= limit:
                return step
        return 7 * 86400.0

    @property
    def origin(self) -> float:
        if self.step < 6 * 3600:
            return self.since - self.since % 3600
        local = datetime.fromtimestamp(self.since, ZoneInfo(self.tz))
        return local.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()

    def buckets(self) -> list[float]:
        out, t = [], self.origin
        while t < self.until:
            out.append(t)
            t += self.step
        return out

    def params(self) -> dict[str, Any]:
        return {"since": self.since, "until": self.until, "brand": self.brand, "origin": self.origin,
                "step": self.step}

    def mention_where(self) -> str:
        where = f"m.collected_at >= :since AND m.collected_at < :until AND {MATCHED}"
        return where + (f" AND {BRAND_SQL}" if self.brand else "")


def window_for(period: str, now: float, tz: str, brand: str | None = None, start: float | None = None,
               end: float | None = None) -> Window:
    """24h / 7d / 30d ending now, or custom [start, end)."""
    if period == "custom" and start is not None and end is not None and end > start:
        return Window(start, end, tz, brand)
    return Window(now - PERIODS.get(period, PERIODS["7d"]), now, tz, brand)


@dataclass
class Headline:
    mentions: int = 0
    negative: int = 0
    reach: int = 0
    open_alerts: int = 0
    alerts_opened: int = 0
    tta: float | None = None          # median time to acknowledge (s)
    ttfr: float | None = None         # median time to first response (s)
    ttr: float | None = None          # median time to resolve (s)
    acked: int = 0
    responded: int = 0
    resolved: int = 0

    @property
    def share_negative(self) -> float | None:
        return self.negative / self.mentions if self.mentions else None


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def headline(store: Store, w: Window) -> Headline:
    p = w.params()
    row = store.one(f"SELECT COUNT(*) AS n, COALESCE(SUM(m.negative = 1), 0) AS neg, COALESCE(SUM(m.reach), 0)"
                    f" AS reach FROM mentions m WHERE {w.mention_where()}", p) or {}
    brand = " AND a.brand = :brand" if w.brand else ""
    opened = store.query("SELECT a.created_at, a.acked_at, a.first_response_at, a.resolved_at FROM alerts a"
                         " WHERE a.created_at >= :since AND a.created_at < :until"
                         f" AND COALESCE(a.resolution, '') != 'folded'{brand}", p)
    open_now = store.one("SELECT COUNT(*) AS n FROM alerts a WHERE a.created_at < :until"
                         " AND (a.resolved_at IS NULL OR a.resolved_at >= :until)"
                         f" AND COALESCE(a.resolution, '') != 'folded'{brand}", p) or {}
    h = Headline(int(row.get("n") or 0), int(row.get("neg") or 0), int(row.get("reach") or 0),
                 int(open_now.get("n") or 0), len(opened))
    tta = [a["acked_at"] - a["created_at"] for a in opened if a["acked_at"] is not None]
    ttfr = [a["first_response_at"] - a["created_at"] for a in opened if a["first_response_at"] is not None]
    ttr = [a["resolved_at"] - a["created_at"] for a in opened if a["resolved_at"] is not None]
    h.tta, h.ttfr, h.ttr = _median(tta), _median(ttfr), _median(ttr)
    h.acked, h.responded, h.resolved = len(tta), len(ttfr), len(ttr)
    return h


@dataclass
class Series:
    """Per bucket: counts by sentiment, negative share, issue types among negatives; spike buckets."""

    buckets: list[float]
    by_sentiment: dict[str, list[int]]
    by_issue: dict[str, list[int]]
    spikes: list[int] = field(default_factory=list)       # bucket indexes holding a spike alert

    @property
    def totals(self) -> list[int]:
        return [sum(v[i] for v in self.by_sentiment.values()) for i in range(len(self.buckets))]

    @property
    def negative_share(self) -> list[float | None]:
        return [(self.by_sentiment["negative"][i] / t) if t else None for i, t in enumerate(self.totals)]


def series(store: Store, w: Window) -> Series:
    p = w.params()
    buckets = w.buckets()
    by_sent = {s: [0] * len(buckets) for s in SENTIMENTS}
    idx = "CAST((m.collected_at - :origin) / :step AS INTEGER)"
    for r in store.query(f"SELECT {idx} AS b, {SENTIMENT_SQL} AS s, COUNT(*) AS n FROM mentions m"
                         f" WHERE {w.mention_where()} GROUP BY b, s", p):
        if 0 <= r["b"] < len(buckets):
            by_sent[r["s"]][r["b"]] += r["n"]
    by_issue: dict[str, list[int]] = {}
    for r in store.query(f"SELECT {idx} AS b, m.issue AS issue, COUNT(*) AS n FROM mentions m"
                         f" WHERE {w.mention_where()} AND m.negative = 1 AND m.issue IS NOT NULL"
                         " GROUP BY b, m.issue", p):
        if 0 <= r["b"] < len(buckets):
            by_issue.setdefault(str(r["issue"]), [0] * len(buckets))[r["b"]] += r["n"]
    brand = " AND a.brand = :brand" if w.brand else ""
    spikes = sorted({int((r["created_at"] - w.origin) // w.step) for r in store.query(
        f"SELECT a.created_at FROM alerts a WHERE a.kind = 'spike' AND a.created_at >= :since"
        f" AND a.created_at < :until{brand}", p)})
    return Series(buckets, by_sent, by_issue, [i for i in spikes if 0 <= i < len(buckets)])


def top_negative(store: Store, w: Window, by: str, limit: int = 8) -> list[dict[str, Any]]:
    """The sources (by: source) or authors (by: author) with the most negative mentions, with their reach."""
    col = {"source": "m.source_id", "author": "m.author"}[by]
    return store.query(f"SELECT {col} AS name, MIN(m.source_kind) AS kind, COUNT(*) AS negative,"
                       " COALESCE(SUM(m.reach), 0) AS reach, MAX(m.reach) AS max_reach FROM mentions m"
                       f" WHERE {w.mention_where()} AND m.negative = 1 AND {col} IS NOT NULL"
                       " GROUP BY name ORDER BY negative DESC, reach DESC, name LIMIT :limit", {**w.params(), "limit": limit})


def share_of_voice(store: Store, w: Window) -> list[dict[str, Any]]:
    """Every brand's matched mentions in the period (whatever the brand filter), negative ones apart."""
    p = {**w.params(), "brand": None}
    where = f"m.collected_at >= :since AND m.collected_at < :until AND {MATCHED}"
    return store.query("SELECT j.value AS brand, COUNT(*) AS mentions, COALESCE(SUM(m.negative = 1), 0) AS negative"
                       f" FROM mentions m, json_each(m.brands) j WHERE {where} GROUP BY j.value"
                       " ORDER BY mentions DESC, brand", p)


def top_stories(store: Store, w: Window, limit: int = 5) -> list[dict[str, Any]]:
    """The period's biggest alerts (most mentions, then reach): what the week was about."""
    brand = " AND a.brand = :brand" if w.brand else ""
    return store.query(
        "SELECT a.id, a.brand, a.title, a.issue, a.state, a.mention_count, a.created_at, a.kind,"
        " (SELECT COALESCE(SUM(m.reach), 0) FROM mentions m JOIN alert_mentions am ON am.mention_id = m.id"
        "  WHERE am.alert_id = a.id) AS reach,"
        " (SELECT m.url FROM mentions m JOIN alert_mentions am ON am.mention_id = m.id WHERE am.alert_id = a.id"
        "  ORDER BY m.id LIMIT 1) AS url"
        " FROM alerts a WHERE a.created_at >= :since AND a.created_at < :until"
        f" AND COALESCE(a.resolution, '') NOT IN ('folded', 'not_negative'){brand}"
        " ORDER BY a.mention_count DESC, reach DESC, a.id LIMIT :limit", {**w.params(), "limit": limit})


def ack_target(alert: dict[str, Any], default: float) -> float:
    """An alert's acknowledge target: when its policy's first escalation fires (nobody acknowledged in time),
    or `default` (report.ack_target) for a policy that never escalates."""
    levels = loads(alert.get("policy_levels"), None) or []
    return float(levels[1]["after"]) if len(levels) > 1 and levels[1].get("after") else default


def sla_breaches(store: Store, w: Window, default_target: float) -> list[dict[str, Any]]:
    """Alerts opened in the period not acknowledged within their target (or still not acknowledged past it)."""
    brand = " AND a.brand = :brand" if w.brand else ""
    out = []
    for r in store.query(
            "SELECT a.id, a.brand, a.title, a.state, a.created_at, a.acked_at, a.acked_by, a.level, a.policy,"
            " a.policy_levels FROM alerts a WHERE a.created_at >= :since AND a.created_at < :until"
            f" AND COALESCE(a.resolution, '') NOT IN ('folded', 'not_negative'){brand} ORDER BY a.created_at, a.id",
            w.params()):
        target = ack_target(r, default_target)
        waited = (r["acked_at"] if r["acked_at"] is not None else w.until) - r["created_at"]
        if waited > target:
            out.append({**r, "target": target, "waited": waited, "late_by": waited - target})
    return out


def local(ts: float | None, tz: str, fmt: str = "%a %d %b %H:%M") -> str:
    if ts is None:
        return "—"
    return datetime.fromtimestamp(ts, ZoneInfo(tz)).strftime(fmt)


def change(now: float | None, before: float | None) -> str:
    """"+40%", "−12%", "new", "=": how a figure moved since the previous period."""
    if now is None or before is None:
        return ""
    if before == 0:
        return "new" if now else "="
    pct = (now - before) / before * 100
    return "=" if abs(pct) < 0.5 else f"{'+' if pct > 0 else '−'}{abs(pct):.0f}%"

