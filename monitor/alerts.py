"""Alerts: opened from routed mentions, queued for delivery in the same transaction, moved through states.

States: open → acknowledged → resolved (a snooze or an acknowledgement timeout can return one to open).
Every transition is an `alert_events` row with who and when, so time to acknowledge and to resolve are facts
in the database, not guesses.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

import sqlite_utils

from .errors import AlertError
from .model import Mention, Target
from .routing import RouteHit
from .sentiment import Sentiment
from .slack_message import alert_message, plain_message
from .storage import Store, dumps, loads

STATES = ("open", "acknowledged", "resolved")


def open_alert(db: sqlite_utils.Database, now: float, m: Mention, brand: str, sentiment: Sentiment,
               hit: RouteHit) -> int:
    """Create the alert, link the mention, and queue one root message per target. Caller holds the tx."""
    group_key = f"{hit.route or 'default'}|{brand}|{m.id}"
    cur = db.execute(
        "INSERT INTO alerts (kind, group_key, brand, route, policy, targets, state, title, created_at, updated_at)"
        " VALUES ('mention', ?, ?, ?, ?, ?, 'open', ?, ?, ?)",
        (group_key, brand, hit.route, hit.policy, dumps([t.__dict__ for t in hit.targets]),
         (m.title or m.text)[:200], now, now))
    alert_id = int(cur.lastrowid or 0)
    db.execute("INSERT OR IGNORE INTO alert_mentions (alert_id, mention_id) VALUES (?, ?)", (alert_id, m.id))
    record_event(db, alert_id, now, "opened", None, hit.route or "default")
    alert = {"id": alert_id, "brand": brand, "route": hit.route, "state": "open"}
    mention = {k: getattr(m, k) for k in ("source_kind", "source_id", "author", "reach", "rating", "title",
                                         "text", "url")}
    for target in hit.targets:
        payload = alert_message(alert, mention, sentiment.to_dict(), target)
        enqueue(db, now, f"alert:{alert_id}:post:{target.channel}", "post", target, payload, alert_id)
    return alert_id


def enqueue(db: sqlite_utils.Database, now: float, dedupe_key: str, kind: str, target: Target,
            payload: dict[str, Any], alert_id: int | None = None, parent_id: int | None = None) -> int | None:
    """Queue a message; the same dedupe_key twice queues it once (idempotent retries of a whole step)."""
    cur = db.execute(
        "INSERT OR IGNORE INTO deliveries (alert_id, dedupe_key, kind, owner, channel, payload, created_at,"
        " parent_id, not_before) VALUES (?,?,?,?,?,?,?,?,?)",
        (alert_id, dedupe_key, kind, target.owner, target.channel, dumps(payload), now, parent_id, now))
    return int(cur.lastrowid or 0) if cur.rowcount else None


def notify_plain(store: Store, dedupe_key: str, text: str, targets: list[Target]) -> None:
    """Operational notices (source health, config errors) through the same outbox as alerts."""
    now = store.now()
    with store.tx() as db:
        for t in targets:
            enqueue(db, now, f"{dedupe_key}:{t.channel}", "notice", t, plain_message(text, t))


def record_event(db: sqlite_utils.Database | sqlite3.Connection, alert_id: int, now: float, kind: str,
                 actor: str | None, detail: str | None = None) -> None:
    db.execute("INSERT INTO alert_events (alert_id, at, kind, actor, detail) VALUES (?,?,?,?,?)",
               (alert_id, now, kind, actor, detail))


def get_alert(store: Store, alert_id: int) -> dict[str, Any]:
    row = store.one("SELECT * FROM alerts WHERE id = ?", (alert_id,))
    if row is None:
        raise AlertError(f"no alert #{alert_id}")
    return row


def transition(store: Store, alert_id: int, action: str, actor: str) -> dict[str, Any]:
    """Acknowledge or resolve; the same action twice is a no-op, a resolved alert cannot be acknowledged."""
    now = store.now()
    with store.tx() as db:
        row = db.execute("SELECT state FROM alerts WHERE id = ?", (alert_id,)).fetchone()
        if row is None:
            raise AlertError(f"no alert #{alert_id}")
        state = row[0]
        if action == "ack":
            if state == "resolved":
                raise AlertError(f"alert #{alert_id} is already resolved")
            if state == "open":
                db.execute("UPDATE alerts SET state='acknowledged', acked_at=?, acked_by=?, updated_at=?,"
                           " next_action_at=NULL WHERE id=?", (now, actor, now, alert_id))
                record_event(db, alert_id, now, "acknowledged", actor)
        elif action == "resolve":
            if state != "resolved":
                db.execute("UPDATE alerts SET state='resolved', resolved_at=?, resolved_by=?, updated_at=?,"
                           " next_action_at=NULL, acked_at=COALESCE(acked_at, ?), acked_by=COALESCE(acked_by, ?)"
                           " WHERE id=?", (now, actor, now, now, actor, alert_id))
                record_event(db, alert_id, now, "resolved", actor)
        else:
            raise AlertError(f"unknown action {action!r}")
    return get_alert(store, alert_id)


def list_alerts(store: Store, only_open: bool = False, limit: int = 100) -> list[dict[str, Any]]:
    where = "WHERE state != 'resolved'" if only_open else ""
    rows = store.query(f"SELECT * FROM alerts {where} ORDER BY id DESC LIMIT ?", (limit,))
    for r in rows:
        r["targets"] = loads(r["targets"], [])
        r["time_to_ack"] = r["acked_at"] - r["created_at"] if r["acked_at"] else None
        r["time_to_resolve"] = r["resolved_at"] - r["created_at"] if r["resolved_at"] else None
    return rows


def targets_of(row: dict[str, Any]) -> list[Target]:
    raw = row["targets"] if isinstance(row["targets"], list) else json.loads(row["targets"])
    return [Target(**t) for t in raw]


# -- Seams for thread replies and root-message updates ---------------------------------------------------
# Escalations, repeats and group updates are thread replies under each root message of the alert; a state
# change re-renders the root message (chat.update). Both go through the outbox like everything else.

def root_deliveries(db: sqlite_utils.Database, alert_id: int) -> list[dict[str, Any]]:
    cur = db.execute("SELECT id, channel, owner, payload FROM deliveries WHERE alert_id = ? AND kind = 'post'"
                     " AND parent_id IS NULL AND state != 'failed' ORDER BY id", (alert_id,))
    cols = [c[0] for c in cur.description]
    return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]


def queue_reply(db: sqlite_utils.Database, now: float, alert_id: int, key: str, text: str,
                ping: Target | None = None) -> int:
    """A thread reply under every root message of the alert; returns how many were queued."""
    n = 0
    for root in root_deliveries(db, alert_id):
        target = Target(root["owner"] or "", root["channel"])
        if enqueue(db, now, f"alert:{alert_id}:reply:{key}:{root['channel']}", "post", target,
                   plain_message(text, ping), alert_id, parent_id=root["id"]):
            n += 1
    return n


def queue_root_update(db: sqlite_utils.Database, now: float, alert_id: int, key: str,
                      payload_for: Any) -> int:
    """Re-render every root message (chat.update); `payload_for(root_delivery) -> payload`."""
    n = 0
    for root in root_deliveries(db, alert_id):
        target = Target(root["owner"] or "", root["channel"])
        if enqueue(db, now, f"alert:{alert_id}:update:{key}:{root['channel']}", "update", target,
                   payload_for(root), alert_id, parent_id=root["id"]):
            n += 1
    return n
