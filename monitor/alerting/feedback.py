"""Feedback on one mention that has no alert to resolve (or a relabel): the dashboard's write path.

A "Not negative" on a mention with an alert goes through `lifecycle.transition(..., "not_negative", actor)`,
exactly as the Slack button does. A mention the router did not alert on can still be wrong: this records the
verdict in `feedback` (who, when, the text as scored) so the scorer's evaluation and spike baselines see it.
"""

from __future__ import annotations

from monitor.core.errors import AlertError
from monitor.store.database import Store, loads
from monitor.store.leases import lock_row

LABELS = ("not_negative", "negative", "positive", "neutral")


def relabel(store: Store, mention_id: int, label: str, actor: str) -> int:
    """Record `label` for the mention; the same label from the same actor twice is one row. Returns its id.
    The mention's row is locked first (PostgreSQL; SQLite's write lock already serialises): two clicks at once,
    from two dashboards beside replicas, both read "no such row yet" and both inserted one."""
    if label not in LABELS:
        raise AlertError(f"Unknown label {label!r} (expected one of: {', '.join(LABELS)}).")
    verdict = label if label == "not_negative" else f"relabel:{label}"
    now = store.now()
    with store.tx() as db:
        lock_row(db, "mentions", mention_id)
        m = db.execute("SELECT id, brands, title, text FROM mentions WHERE id = ?", (mention_id,)).fetchone()
        if m is None:
            raise AlertError(f"There is no mention #{mention_id}.")
        same = db.execute("SELECT id FROM feedback WHERE mention_id = ? AND verdict = ? AND actor IS ?",
                          (mention_id, verdict, actor)).fetchone()
        if same:
            return int(same[0])
        alert = db.execute("SELECT MAX(alert_id) FROM alert_mentions WHERE mention_id = ?", (mention_id,)).fetchone()
        brands = loads(m[1], []) or []
        text = m[3] if not m[2] or m[2] in m[3] else f"{m[2]}\n{m[3]}"
        cur = db.execute("INSERT INTO feedback (mention_id, alert_id, brand, verdict, actor, at, text)"
                         " VALUES (?,?,?,?,?,?,?)",
                         (mention_id, alert[0] if alert else None, brands[0] if brands else None, verdict, actor,
                          now, text))
        return int(cur.lastrowid or 0)
