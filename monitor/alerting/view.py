"""How an alert looks in Slack, rebuilt from the database whenever it changes.

A root message is re-rendered (chat.update) on every state change, escalation and group update, so it must
be derivable from stored rows alone: the alert, its first mention (or, for a spike, a summary of its
mentions), and the target the root was posted to. Thread replies are our own text; anything collected that
goes into one is escaped here.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from typing import Any

import sqlite_utils

from monitor.core.clock import iso
from monitor.core.model import Target
from monitor.notify.blockkit import alert_message, escape, owner_mention, safe_link, trim
from monitor.store.database import loads

VIEW_KEYS = ("id", "brand", "route", "state", "mention_count", "acked_by", "acked_at", "resolved_by", "level",
             "snoozed_until", "kind", "resolution", "issue", "first_response_at", "first_response_by")

Db = sqlite_utils.Database | sqlite3.Connection


def rows(db: Db, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    cur = db.execute(sql, params)
    cols = [c[0] for c in cur.description]
    return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


def alert_row(db: Db, alert_id: int) -> dict[str, Any] | None:
    found = rows(db, "SELECT * FROM alerts WHERE id = ?", (alert_id,))
    return found[0] if found else None


def view(alert: dict[str, Any], db: Db | None = None) -> dict[str, Any]:
    """The `alert` dict slack_message.alert_message renders (with the reply and ticket links, given `db`)."""
    out = {k: alert.get(k) for k in VIEW_KEYS}
    if db is not None and alert.get("id") is not None:
        out["links"] = links(db, int(alert["id"]))
    return out


def links(db: Db, alert_id: int) -> list[tuple[str, str | None]]:
    """Replies posted (or marked) and tickets opened for an alert, read from the `replies` and `actions` rows
    the respond stage writes: what the root message shows beside the state."""
    out: list[tuple[str, str | None]] = []
    try:
        for r in rows(db, "SELECT state, platform, url, author FROM replies WHERE alert_id = ? AND state IN"
                          " ('posted', 'marked') ORDER BY id", (alert_id,)):
            what = "Replied" if r["state"] == "posted" else "Marked replied"
            out.append((f"{what} on {r['platform']}", r["url"]))
        for a in rows(db, "SELECT kind, ticket_key, ticket_url, close_state FROM actions WHERE alert_id = ? AND"
                          " state = 'done' AND ticket_key IS NOT NULL ORDER BY id", (alert_id,)):
            closed = " (closed)" if a["close_state"] == "closed" else ""
            out.append((f"{a['kind']} {a['ticket_key']}{closed}", a["ticket_url"]))
    except sqlite3.OperationalError:      # a database from before the respond stage: nothing to show
        return []
    return out


def targets_of(alert: dict[str, Any]) -> list[Target]:
    raw = alert["targets"]
    return [Target(**t) for t in (loads(raw, []) if isinstance(raw, str) else raw)]


def mention_and_sentiment(db: Db, alert: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """What the root message shows: the alert's first mention, or a spike's summary."""
    if alert["kind"] == "spike":
        return _spike_summary(db, alert)
    found = rows(db, "SELECT m.* FROM mentions m JOIN alert_mentions am ON am.mention_id = m.id"
                     " WHERE am.alert_id = ? ORDER BY m.id LIMIT 1", (alert["id"],))
    m = found[0] if found else {}
    mention = {k: m.get(k) for k in ("source_kind", "source_id", "author", "reach", "rating", "title", "text", "url")}
    raw = loads(m.get("raw"), {}) if m.get("raw") else {}
    mention["contact"] = raw.get("contact") if isinstance(raw, dict) else None    # inbound and email: who to call back
    sentiment = {"language": m.get("language"), "score": m.get("score"), "negative": bool(m.get("negative")),
                 "unscored": bool(m.get("unscored")), "drivers": loads(m.get("drivers"), [])}
    return mention, sentiment


def _spike_summary(db: Db, alert: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    stats = loads(alert.get("spike_stats"), {})
    sample = rows(db, "SELECT m.title, m.text, m.score, m.drivers FROM mentions m JOIN alert_mentions am"
                      " ON am.mention_id = m.id WHERE am.alert_id = ? ORDER BY m.id DESC LIMIT 500", (alert["id"],))
    words: Counter[str] = Counter()
    scores = [r["score"] for r in sample if r["score"] is not None]
    for r in sample:
        words.update({d["text"] for d in loads(r["drivers"], []) if d.get("weight", 0) < 0})
    text = stats.get("summary") or alert.get("title") or "negative spike"
    examples = [trim((r["title"] or r["text"] or "").replace("\n", " "), 140) for r in sample[:3]]
    if examples:
        text += "\nLatest:\n" + "\n".join(f"• {e}" for e in examples)
    mention = {"source_kind": "spike", "source_id": alert.get("route") or "spike", "author": None, "reach": None,
               "rating": None, "title": alert.get("title"), "text": text, "url": None}
    sentiment = {"language": None, "score": sum(scores) / len(scores) if scores else None, "negative": True,
                 "unscored": False,
                 "drivers": [{"text": w, "weight": -1.0, "kind": "spike"} for w, _ in words.most_common(6)]}
    return mention, sentiment


def root_payload(db: Db, alert: dict[str, Any], target: Target) -> dict[str, Any]:
    mention, sentiment = mention_and_sentiment(db, alert)
    return alert_message(view(alert, db), mention, sentiment, target)


def payload_for(db: Db, alert: dict[str, Any]) -> Any:
    """For queue_root_update: re-render each root with the target it was posted to (its ping kept)."""
    mention, sentiment = mention_and_sentiment(db, alert)
    by_channel = {t.channel: t for t in targets_of(alert)}
    shown = view(alert, db)

    def render(root: dict[str, Any]) -> dict[str, Any]:
        target = by_channel.get(root["channel"]) or Target(root["owner"] or "", root["channel"])
        return alert_message(shown, mention, sentiment, target)
    return render


def pings(targets: list[Target]) -> str:
    """Trusted ping text for owners (a user destination pings the user even without `mention:`)."""
    out = []
    for t in targets:
        p = owner_mention(t) or (owner_mention(Target(t.owner, t.slack, t.slack)) if t.slack.startswith("@") else "")
        out.append(p or f"*{escape(t.owner if t.owner != 'inline' else t.slack)}*")
    return ", ".join(dict.fromkeys(out))


def mention_lines(db: Db, alert_id: int, after_count: int, limit: int = 5) -> str:
    """The newest mentions of a group (escaped, linked when the URL is http(s)) for a group-update reply."""
    found = rows(db, "SELECT m.title, m.text, m.url, m.author, m.source_id FROM mentions m JOIN alert_mentions am"
                     " ON am.mention_id = m.id WHERE am.alert_id = ? ORDER BY m.id DESC LIMIT ?", (alert_id, limit))
    out = []
    for r in found:
        label = trim((r["title"] or r["text"] or "").replace("\n", " "), 120)
        link = safe_link(r["url"], label)
        out.append(f"• {link or escape(label)} — {escape(r['author'] or r['source_id'])}")
    return "\n".join(out)


def when(ts: float | None) -> str:
    return (iso(ts) or "").replace("T", " ").replace("Z", " UTC")
