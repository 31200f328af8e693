"""Which replica routes which pending mention: a short claim taken under `FOR UPDATE SKIP LOCKED`, let go early.

Apart from the pipeline so that its module says what routing decides, this one how the work is shared. On
PostgreSQL several replicas route from one table: `claim` takes the next unrouted mentions no other replica is
routing and marks them for CLAIM_TTL_S, so the analysis runs outside any transaction; `release` lets go of those
a pass will not route after all (the store failed, the breaker tripped), so the next pass, of this replica or
another, takes them at once. A claim left by a replica that died lapses after CLAIM_TTL_S. With SQLite (one
process) claims are not written and are ignored. Routing stays exactly-once either way: `Pipeline.process`
marks a mention routed only if it was not yet.
"""

from __future__ import annotations

import logging
from typing import Any

from monitor.core.errors import StorageError
from monitor.store.database import Store
from monitor.store.leases import for_update

log = logging.getLogger("monitor.runtime.pipeline.claims")    # the pipeline's child: its logging config covers it
CLAIM_TTL_S = 60.0        # a replica's claim on mentions it is routing; lapses if it dies meanwhile


def claim(store: Store, limit: int, after: int = 0) -> list[dict[str, Any]]:
    """Up to `limit` unrouted mentions, oldest first, with ids above `after`, that no other replica is routing
    (module doc); parked mentions and failed ones still in their backoff are not claimed."""
    with store.tx() as db:
        cur = db.execute(
            "SELECT * FROM mentions WHERE processed_at IS NULL AND id > ? AND route_parked_at IS NULL"
            " AND (route_retry_at IS NULL OR route_retry_at <= db_now()) AND (claimed_until IS NULL"
            " OR claimed_until < db_now() OR ?) ORDER BY id LIMIT ?" + for_update(db, skip_locked=True),
            (after, int(not store.shared), limit))
        cols = [c[0] for c in cur.description]
        rows = [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]
        if rows and store.shared:
            db.execute(f"UPDATE mentions SET claimed_until = db_now() + ? WHERE id IN ({','.join('?' * len(rows))})",
                       (CLAIM_TTL_S, *(r["id"] for r in rows)))
    return rows


def release(store: Store, rows: list[dict[str, Any]]) -> None:
    """Let go of the claims on `rows`, which this pass will not route (PostgreSQL); if the store cannot even do
    that, the claims lapse after CLAIM_TTL_S (said at DEBUG: the pass has said the outage already)."""
    if not rows or not store.shared:
        return
    try:
        with store.tx() as db:
            db.execute(f"UPDATE mentions SET claimed_until = NULL WHERE processed_at IS NULL"
                       f" AND id IN ({','.join('?' * len(rows))})", tuple(int(r["id"]) for r in rows))
    except StorageError as exc:
        log.debug("claims not released (they lapse): %s", exc)
