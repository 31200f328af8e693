"""Queueing messages into the outbox: inserts into the `deliveries` table; every later change of a row is written
by the outbox's `Outcomes` (`outcomes.py`); only retention (`monitor.store.retention`) deletes settled ones.

A message is a row before it is a post (store before you act): alerts, their thread replies and root-message
updates, digests and operational notices are all queued here with a dedupe key, so retrying a whole step
queues nothing twice, and the outbox sends them in order per channel.
"""

from __future__ import annotations

from typing import Any

import sqlite_utils

from monitor.core.model import Target
from monitor.notify.blockkit import plain_message
from monitor.store.database import Store, dumps


def enqueue(db: sqlite_utils.Database, now: float, dedupe_key: str, kind: str, target: Target,
            payload: dict[str, Any], alert_id: int | None = None, parent_id: int | None = None,
            not_before: float | None = None) -> int | None:
    """Queue a message; the same dedupe_key twice queues it once (idempotent retries of a whole step)."""
    cur = db.execute(
        "INSERT OR IGNORE INTO deliveries (alert_id, dedupe_key, kind, owner, channel, payload, created_at,"
        " parent_id, not_before) VALUES (?,?,?,?,?,?,?,?,?)",
        (alert_id, dedupe_key, kind, target.owner, target.channel, dumps(payload), now, parent_id,
         now if not_before is None else not_before))
    return int(cur.lastrowid or 0) if cur.rowcount else None


def notify_plain(store: Store, dedupe_key: str, text: str, targets: list[Target]) -> None:
    """Operational notices (source health, config errors) through the same outbox as alerts."""
    now = store.now()
    with store.tx() as db:
        for t in targets:
            enqueue(db, now, f"{dedupe_key}:{t.channel}", "notice", t, plain_message(text, t))



# -- Thread replies and root-message updates -------------------------------------------------------------
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
