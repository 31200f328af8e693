"""The search index of schema v16/v17 is built CONCURRENTLY on PostgreSQL: writers to `mentions` go on meanwhile, an
INVALID index left by a build cut short is dropped and built again, two replicas migrating at once build it once,
and a role that may not create `unaccent` gets accent-sensitive search, said, never a failed migration.

The bug it pins: v16's GIN index was built inside the migration's transaction, so on a large `mentions` table
every writer (collection, routing, on every replica) waited for the whole build. A real PostgreSQL (tests/pgserver).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Iterator

import psycopg
import pytest

from monitor.ops.dashboard import feed as feedmod
from monitor.ops.dashboard.figures import Window
from monitor.ops.store_report import store_report
from monitor.store.database import Store
from monitor.store.migrations import MIGRATIONS
from monitor.store.pg_online import index_valid
from tests.pgserver import fresh_schema_url, run_sql, schema_at, unprivileged_database

ROWS = 60_000
LATEST = len(MIGRATIONS)
WORDS = "parcel arrived late again refund wanted crème brûlée café über spät envío reclamação"


def _at_v15_with_rows(rows: int) -> str:
    """A schema at v15 (before either search index), built by the runner's own steps, holding `rows` mentions."""
    url = fresh_schema_url()
    schema_at(url, 15)
    run_sql(url, "INSERT INTO mentions (source_id, source_kind, external_id, text, collected_at) SELECT 'rss-a', 'rss',"
                 f" 'e' || g, '{WORDS} ' || g || ' ' || md5(g::text) || ' ' || md5((g * 7)::text), g"
                 f" FROM generate_series(1, {rows}) g; ANALYZE mentions")
    return url


def _valid_gin(url: str, name: str) -> bool:
    with psycopg.connect(url, autocommit=True) as conn:
        found = index_valid(conn, name)
        kind = conn.execute("SELECT indexdef FROM pg_indexes WHERE indexname = %s AND schemaname = current_schema()",
                            (name,)).fetchone()
    return bool(found) and kind is not None and "USING gin" in kind[0]


@pytest.mark.slow
def test_a_writer_is_not_blocked_while_the_search_index_builds():
    url = _at_v15_with_rows(ROWS)
    done: list[tuple[int, int]] = []
    migrating = threading.Thread(target=lambda: done.append(Store(url, migrate=False).migrate()))
    writes: list[float] = []
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET lock_timeout = '500ms'")      # a build holding a ShareLock would fail this insert
        migrating.start()
        deadline = time.monotonic() + 60
        while migrating.is_alive() and time.monotonic() < deadline:
            building = conn.execute("SELECT count(*) FROM pg_stat_progress_create_index p"
                                    " WHERE p.relid = to_regclass('mentions')").fetchone()[0]
            if building:
                t0 = time.monotonic()
                conn.execute("INSERT INTO mentions (source_id, source_kind, external_id, text, collected_at)"
                             " VALUES ('rss-a', 'rss', %s, 'written during the build', 1)", (uuid.uuid4().hex,))
                writes.append(time.monotonic() - t0)
            time.sleep(0.02)
        migrating.join(60)
    assert done == [(15, LATEST)]
    assert writes, "the index build was never seen in progress: too few rows to catch it"
    assert _valid_gin(url, "mentions_search_folded") and not _valid_gin(url, "mentions_search")


def test_an_invalid_index_left_by_a_cut_build_is_dropped_and_built_again(caplog):
    url = _at_v15_with_rows(500)
    run_sql(url, "UPDATE monitor_schema SET version = 16")
    with psycopg.connect(url, autocommit=True) as conn:      # a build that fails half-way leaves an INVALID index
        with pytest.raises(psycopg.errors.UniqueViolation):
            conn.execute("CREATE UNIQUE INDEX CONCURRENTLY mentions_search_folded ON mentions (source_kind)")
        assert index_valid(conn, "mentions_search_folded") is False
    with caplog.at_level(logging.WARNING, logger="monitor.store.migrate"):
        assert Store(url, migrate=False).migrate() == (16, LATEST)
    assert _valid_gin(url, "mentions_search_folded")
    assert any("left INVALID" in r.getMessage() for r in caplog.records)
    assert Store(url, migrate=False).migrate() == (LATEST, LATEST)     # idempotent: nothing to do


def test_two_replicas_migrating_at_once_build_the_index_once():
    url = _at_v15_with_rows(2000)
    results: list[object] = []

    def migrate() -> None:
        try:
            results.append(Store(url, migrate=False).migrate())
        except Exception as exc:  # noqa: BLE001 - the test asserts there is none
            results.append(exc)

    threads = [threading.Thread(target=migrate) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(results) == [(15, LATEST), (LATEST, LATEST)], results
    assert _valid_gin(url, "mentions_search_folded")


@pytest.fixture
def unprivileged() -> Iterator[tuple[str, str]]:
    """A role that may not create extensions, in a database without `unaccent` (tests/pgserver)."""
    with unprivileged_database() as urls:
        yield urls


def test_without_the_right_to_create_unaccent_search_is_accent_sensitive_and_says_so(unprivileged, caplog):
    url, admin = unprivileged
    with caplog.at_level(logging.WARNING, logger="monitor.store.migrate"):
        store = Store(url)
    assert any("unaccent extension cannot be created" in r.getMessage() for r in caplog.records)
    with store.tx() as db:
        for key, text in (("a", "Le café était froid"), ("b", "cafe ouvert")):
            db.execute("INSERT INTO mentions (source_id, source_kind, external_id, text, collected_at, brands, status)"
                       " VALUES ('rss-a', 'rss', ?, ?, ?, '[\"acme\"]', 'routed')", (key, text, time.time() - 60))

    def found(q: str) -> set[str]:
        rows, _ = feedmod.feed(store, Window(time.time() - 3600, time.time(), "UTC"), feedmod.Filters(q=q))
        return {r.text for r in rows}

    assert found("cafe") == {"cafe ouvert"}                  # degraded: accent-sensitive
    assert feedmod.search_note(store) == feedmod.SEARCH_NOTE
    assert _problem_kinds(store) == ["search_accents"]       # and `monitor status`, the strip, --json say it
    store.close()
    with psycopg.connect(admin, autocommit=True) as conn:     # a database owner installs it; the next start folds
        conn.execute("CREATE EXTENSION unaccent SCHEMA public")
    store = Store(url)
    assert found("cafe") == {"Le café était froid", "cafe ouvert"}
    assert feedmod.search_note(store) is None
    assert _problem_kinds(store) == []                      # cleared once the search folds
    store.close()


def _problem_kinds(store: Store) -> list[str]:
    """The kinds of the problems the report finds in this store (`assemble`, which `monitor status` runs too)."""
    return [p["kind"] for p in store_report(store, time.time())["issues"]]
