"""The optional daily digest: one message per owner at `slack.digest.at` (in `slack.digest.tz`).

Per owner, over the 24 hours before the scheduled time: the alerts routed to them counted by brand and
sentiment, every brand's mention volume by sentiment, their open alerts (oldest first, with a link to the
Slack message, "+N more" past ten) and the median time to acknowledge. A digest is an outbox row keyed by
owner and day, so the daemon, a cron `--once` run and a restart all queue it exactly once; a daemon that
was down at the hour sends it when it comes back, the same day.
"""

from __future__ import annotations

import logging
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from monitor.config.rules import Rules
from monitor.core.durations import format_duration
from monitor.notify.blockkit import escape, more, owner_mention, plain_message, trim
from monitor.notify.queue import enqueue
from monitor.store.database import Store, loads

log = logging.getLogger(__name__)
SHOWN_OPEN = 10


@dataclass
class OwnerDigest:
    owner: str
    day: str
    alerts: Counter[tuple[str, str]] = field(default_factory=Counter)       # (brand, sentiment) -> n
    volumes: dict[str, Counter[str]] = field(default_factory=dict)          # brand -> sentiment -> n
    open_alerts: list[dict[str, Any]] = field(default_factory=list)
    ack_times: list[float] = field(default_factory=list)
    response_times: list[float] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.alerts and not self.open_alerts

    @property
    def median_ack(self) -> float | None:
        return statistics.median(self.ack_times) if self.ack_times else None

    @property
    def median_response(self) -> float | None:
        return statistics.median(self.response_times) if self.response_times else None


def slot(now: float, at: str, tz: str) -> tuple[str, float, float] | None:
    """(day, window start, window end) of today's digest if its time has come, else None."""
    zone = ZoneInfo(tz)
    local = datetime.fromtimestamp(now, zone)
    hh, mm = (int(x) for x in at.split(":"))
    scheduled = local.replace(hour=hh, minute=mm, second=0, microsecond=0)
    if local < scheduled:
        return None
    start = (scheduled - timedelta(days=1)).timestamp()     # wall-clock day: right across DST changes
    return scheduled.date().isoformat(), start, scheduled.timestamp()


def _sentiment(row: dict[str, Any]) -> str:
    if row.get("unscored"):
        return "unscored"
    if row.get("negative"):
        return "negative"
    score = row.get("score")
    return "positive" if isinstance(score, int | float) and score >= 0.05 else "neutral"


def build(store: Store, owner: str, day: str, start: float, end: float) -> OwnerDigest:
    d = OwnerDigest(owner, day)
    rows = store.query(
        "SELECT a.*, m.negative, m.unscored, m.score FROM alerts a LEFT JOIN mentions m ON m.id ="
        " (SELECT MIN(mention_id) FROM alert_mentions WHERE alert_id = a.id)"
        " WHERE (a.created_at >= ? AND a.created_at < ?) OR a.state != 'resolved' OR"
        " (a.acked_at >= ? AND a.acked_at < ?) OR (a.first_response_at >= ? AND a.first_response_at < ?)"
        " ORDER BY a.created_at, a.id", (start, end, start, end, start, end))
    for a in rows:
        if owner not in {t.get("owner") for t in loads(a["targets"], [])}:
            continue
        if start <= a["created_at"] < end:
            kind = "negative" if a["kind"] == "spike" else _sentiment(a)
            d.alerts[(a["brand"] or "?", kind)] += 1
        if a["state"] != "resolved" and a["created_at"] < end:
            d.open_alerts.append(a)
        if a["acked_at"] and start <= a["acked_at"] < end:
            d.ack_times.append(a["acked_at"] - a["created_at"])
        if a.get("first_response_at") and start <= a["first_response_at"] < end:
            d.response_times.append(a["first_response_at"] - a["created_at"])
    for m in store.query("SELECT brands, negative, unscored, score FROM mentions WHERE collected_at >= ?"
                         " AND collected_at < ?", (start, end)):
        for brand in loads(m["brands"], []) or []:
            d.volumes.setdefault(brand, Counter())[_sentiment(m)] += 1
    return d


def render(d: OwnerDigest, store: Store, ping: str = "", link: str | None = None) -> dict[str, Any]:
    lines = [f"*Daily digest for {escape(d.owner)}* — {d.day}" + (f" {ping}" if ping else "")]
    by_brand: dict[str, list[str]] = defaultdict(list)
    for (brand, kind), n in sorted(d.alerts.items()):
        by_brand[brand].append(f"{n} {kind}")
    total = sum(d.alerts.values())
    lines.append(f"*Your alerts, last 24 h:* {total}" + (" — " + "; ".join(
        f"{escape(b)}: {', '.join(v)}" for b, v in by_brand.items()) if total else ""))
    vols = [f"{escape(b)} {sum(c.values()):,} ({', '.join(f'{n} {k}' for k, n in sorted(c.items()))})"
            for b, c in sorted(d.volumes.items())]
    lines.append("*Mentions, last 24 h:* " + (more(vols, 10, "; ") if vols else "none"))
    med = d.median_ack
    lines.append("*Median time to acknowledge:* " + (f"{format_duration(med)} ({len(d.ack_times)} acknowledged)"
                                                    if med is not None else "nothing acknowledged"))
    resp = d.median_response
    lines.append("*Median time to first response:* " + (
        f"{format_duration(resp)} ({len(d.response_times)} answered)" if resp is not None else "nothing answered"))
    if link:          # dashboard.url: the dashboard and this week's report, one click away
        lines.append(f"<{link}/?period=24h|Dashboard, last 24 h> · <{link}/report?period=7d|This week's report>")
    head = [plain_message("\n".join(lines))["blocks"][0]]
    items = []
    for a in d.open_alerts[:SHOWN_OPEN]:
        age = format_duration(max(0.0, store.now() - a["created_at"]))
        link = _permalink(store, a["id"])
        title = escape(trim(a.get("title") or "", 80))
        items.append(f"• #{a['id']} {escape(a['brand'] or '')} — {title} ({a['state']}, {age})"
                     + (f" <{link}|view>" if link else ""))
    extra = len(d.open_alerts) - SHOWN_OPEN
    open_txt = f"*Open alerts:* {len(d.open_alerts)}" + ("\n" + "\n".join(items) if items else "")
    if extra > 0:
        open_txt += f"\n+{extra} more"
    head.append({"type": "section", "text": {"type": "mrkdwn", "text": trim(open_txt, 3000)}})
    text = trim(f"Daily digest for {escape(d.owner)}: {total} alert(s), {len(d.open_alerts)} open", 3000)
    return {"text": text, "blocks": head}


def _permalink(store: Store, alert_id: int) -> str | None:
    row = store.one("SELECT slack_channel, slack_ts FROM deliveries WHERE alert_id = ? AND kind = 'post' AND"
                    " parent_id IS NULL AND state = 'sent' AND slack_ts != '' ORDER BY id LIMIT 1", (alert_id,))
    if not row or not row["slack_channel"] or not str(row["slack_channel"]).startswith(("C", "G", "D")):
        return None
    return f"https://slack.com/archives/{row['slack_channel']}/p{str(row['slack_ts']).replace('.', '')}"


def queue_digests(store: Store, rules: Rules, cfg: Any, now: float | None = None, link: str | None = None) -> int:
    """Queue today's digests if their time has come and they are not queued yet; returns how many."""
    now = store.now() if now is None else now
    when = slot(now, cfg.at, cfg.tz)
    if when is None:
        return 0
    day, start, end = when
    owners = cfg.owners or list(rules.owners)
    queued = 0
    for owner in owners:
        if owner not in rules.owners:
            log.warning("digest: unknown owner %r in slack.digest.owners", owner)
            continue
        key = f"digest:{day}:{owner}"
        if store.one("SELECT 1 FROM deliveries WHERE dedupe_key = ?", (key,)):
            continue
        d = build(store, owner, day, start, end)
        if cfg.skip_empty and d.empty:
            continue
        target = rules.targets(owner)[0]
        payload = render(d, store, owner_mention(target) if d.open_alerts else "", link)
        with store.tx() as db:
            if enqueue(db, now, key, "digest", target, payload):
                queued += 1
    if queued:
        log.info("daily digests queued", extra={"day": day, "count": queued})
    return queued
