"""The feed's full-text search on PostgreSQL reads the `mentions_search_folded` GIN index (schema v17; v16's before), not every row of
the period: the plan of the very query `feed()` sends names the index, on a few thousand mentions, for whole
words and for a prefix. Before v16 PostgreSQL had no text index and read the period's rows (1.2 s at 100,000
mentions; README "Speed")."""

from __future__ import annotations

import time
from typing import Any

import pytest

from monitor.ops.dashboard import feed as feedmod
from monitor.ops.dashboard.feed import Filters
from monitor.ops.dashboard.figures import Window
from monitor.store.database import Store
from tests.pgserver import fresh_schema_url
from tests.sent_sql import recorded

ROWS = 4000
NOW = time.time()


@pytest.fixture
def backend(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.delenv("MONITOR_DATABASE_URL", raising=False)
    return "postgres"


@pytest.fixture(scope="module")
def store() -> Any:
    """A few thousand matched mentions over 30 days; one in 200 says "refund"."""
    s = Store(fresh_schema_url())
    rows = [(f"s{i % 7}", f"e{i}", f"user{i % 50}", f"title {i}",
             f"Acme parcel {i} " + ("wants a refund now" if i % 200 == 0 else "arrived late again"),
             NOW - (i % 30) * 86400 - 60, '["acme"]', int(i % 3 == 0)) for i in range(ROWS)]
    with s.tx() as db:
        for r in rows:
            db.execute("INSERT INTO mentions (source_id, source_kind, external_id, author, title, text, collected_at,"
                       " brands, negative, unscored, score, status, processed_at)"
                       " VALUES (?, 'rss', ?, ?, ?, ?, ?, ?, ?, 0, -0.2, 'routed', 0)", r)
    s.query("ANALYZE mentions")
    yield s
    s.close()


def _plan(store: Store, q: str, monkeypatch: pytest.MonkeyPatch) -> tuple[str, int]:
    """The plan of the query `feed()` sends for search `q` over 30 days, and how many rows the feed showed."""
    with recorded(monkeypatch) as sent:
        rows, _ = feedmod.feed(store, Window(NOW - 30 * 86400, NOW, "UTC"), Filters(q=q))
    sql, params = next((s, p) for s, p in sent if "@@" in s)
    plan = "\n".join(str(next(iter(r.values()))) for r in store.query("EXPLAIN " + sql, params))
    return plan, len(rows)


@pytest.mark.parametrize("q", ["refund", "wants refu"])
def test_search_on_postgresql_reads_the_gin_index(store, q, monkeypatch):
    plan, shown = _plan(store, q, monkeypatch)
    assert "mentions_search_folded" in plan, plan
    assert shown == ROWS // 200


def test_the_search_vector_is_the_index_expression():
    """The planner uses an expression index only for the same expression: the query's and the migration's agree."""
    from monitor.store.migrations import PG_MIGRATIONS

    index = " ".join(PG_MIGRATIONS[16].split())
    assert feedmod.PG_SEARCH_VECTOR.replace("m.", "") in index
