"""The stall check (`monitor.ops.stall.routing_stalled`, run by every `monitor status` and the dashboard's strip)
reads indexes, never the whole `mentions` table, on both stores: the plan of every query it sends is read.

The bug it pins: "when was a mention last routed" was MAX(processed_at) with no index on processed_at, a scan of
every mention (most of them routed long ago) whenever the oldest pending one had waited 15 minutes. Schema v18
adds `mentions_processed`. (Figures: README "Routing stalled".)
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from monitor.ops import stall
from monitor.store.database import Store
from tests.sent_sql import recorded

ROWS = 3000
NOW = time.time()


@pytest.fixture
def stalled(fresh_db):
    """A few thousand routed mentions, a few pending for an hour, a daemon registered: the check reads it all."""
    with fresh_db.tx() as db:
        for i in range(ROWS):
            routed = i % 100 != 0
            db.execute("INSERT INTO mentions (source_id, source_kind, external_id, text, collected_at, processed_at,"
                       " status) VALUES ('rss-a', 'rss', ?, 'text', ?, ?, ?)",
                       (f"e{i}", NOW - 7200 - i, NOW - 7200 - i if routed else None, "routed" if routed else None))
        db.execute("INSERT INTO replicas (id, hostname, pid, started_at, seen_at) VALUES ('r1', 'elsewhere', 1, ?, ?)",
                   (NOW - 9000, NOW - 5))
    with fresh_db.tx() as db:
        db.execute("ANALYZE mentions")
    return fresh_db


def _plans(store: Store, monkeypatch: pytest.MonkeyPatch) -> tuple[dict[str, Any] | None, list[str]]:
    """routing_stalled's result and the plan of each query it sent about `mentions`."""
    with recorded(monkeypatch) as sent:
        found = stall.routing_stalled(store, NOW, paused=False)
    explain = "EXPLAIN QUERY PLAN " if store.dialect == "sqlite" else "EXPLAIN "
    plans = [" | ".join(str(list(r.values())[-1]) for r in store.query(explain + sql, params))
             for sql, params in sent if "FROM mentions" in sql]
    return found, plans


def test_the_stall_check_reads_indexes_not_every_mention(stalled, monkeypatch):
    found, plans = _plans(stalled, monkeypatch)
    assert found is not None and found["waiting"] == ROWS // 100        # both queries were sent
    assert len(plans) == 2
    for plan in plans:        # SQLite: "SCAN mentions" alone is the table; PostgreSQL: "Seq Scan on mentions"
        assert "INDEX" in plan.upper() and "Seq Scan" not in plan, plans
