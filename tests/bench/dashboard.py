"""The dashboard on a large database: server render time of each page (HTML complete, charts drawn).

Run alone with ``python -m tests.bench dashboard``. 100,000 mentions over 30 days for two brands (25%
negative, issue types on negatives, reach, 500 authors, 8 sources; rows written in the pipeline's shape by
SQL, which is quicker than scoring them), 2% of them linked to alerts in every state. Each page is fetched
through the ASGI app in-process (no network), best of 3; the baseline is `SELECT COUNT(*) FROM mentions`.

`--postgres [URL]` (or `run("postgres")`): the same rows written into PostgreSQL, a fresh schema on the server
`tests/pgserver.py` starts (or on URL), then the same pages through the dashboard's PostgreSQL stores. There the
searches are measured twice: with the `mentions_search` GIN index (schema v16) and after dropping it (before v16),
so one run gives the before/after figures. `feed_search` looks for two words found in most rows,
`feed_search_rare` for one author's name (one row in 500): an index pays for the second.
"""

from __future__ import annotations

import json
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from monitor.ops.dashboard.stores import Stores
from monitor.ops.dashboard.web import Dashboard, Settings
from monitor.store.database import Store, is_url
from monitor.store.dialect import to_postgres

DAY = 86400.0
N = 100_000
WORDS = ("refund delivery late broken app crash billing charged twice support rude great love store new "
         "price order parcel waiting outage login password").split()
ISSUES = ("billing", "delivery", "outage", "support", "product")


MENTIONS_SQL = ("INSERT INTO mentions (source_id, source_kind, external_id, author, text, collected_at, processed_at,"
                " brands, status, negative, score, reach, issue, language, drivers, unscored)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,0)")
SEARCHES = (("feed_search", "/feed?period=30d&q=refund+parcel"), ("feed_search_rare", "/feed?period=30d&q=user123"))


def _insert_many(db: Any, sql: str, rows: list[tuple[Any, ...]]) -> None:
    """One batch on the transaction's own connection: sqlite3's executemany, or psycopg's (pipelined)."""
    if getattr(db, "dialect", "sqlite") == "postgres":
        with db.conn.cursor() as cur:
            cur.executemany(to_postgres(sql), rows)
    else:
        db.conn.executemany(sql, rows)


def fill(path: Path | str, now: float, n: int = N, seed: int = 7) -> None:
    rng = random.Random(seed)
    store = Store(path)
    start = now - 30 * DAY
    with store.tx() as db:
        rows = []
        for i in range(n):
            at = start + i * (30 * DAY / n)
            neg = rng.random() < 0.25
            brands = ["acme"] if rng.random() < 0.7 else ["globex"]
            text = " ".join(rng.choice(WORDS) for _ in range(18)) + f" {brands[0]}"
            score = -0.6 if neg else rng.choice((0.0, 0.4, 0.7))
            rows.append((f"src{i % 8}", "rss" if i % 8 < 5 else "reddit", f"e{i}", f"user{rng.randrange(500)}", text,
                         at, at, json.dumps(brands), "routed" if neg else "matched", int(neg), score,
                         rng.randrange(10, 50_000), rng.choice(ISSUES) if neg else None, "en",
                         json.dumps([{"text": "late", "weight": -1.2, "kind": "lexicon"}])))
        _insert_many(db, MENTIONS_SQL, rows)
        states = ("open", "acknowledged", "resolved")
        for i in range(0, n, 50):
            at = start + i * (30 * DAY / n)
            state = rng.choice(states)
            acked = at + rng.randrange(60, 7200) if state != "open" else None
            resolved = (acked or at) + rng.randrange(600, 86400) if state == "resolved" else None
            cur = db.execute(
                "INSERT INTO alerts (group_key, brand, targets, state, title, created_at, updated_at, acked_at,"
                " acked_by, resolved_at, resolved_by, notified_at, policy_levels) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (f"g{i}", "acme", json.dumps([{"owner": "comms", "slack": "#c"}]), state, f"story {i}", at, at,
                 acked, "jane" if acked else None, resolved, "jane" if resolved else None, at,
                 json.dumps([{"after": 0, "repeat": 0, "targets": []}, {"after": 1800, "repeat": 0, "targets": []}])))
            db.execute("INSERT INTO alert_mentions (alert_id, mention_id) VALUES (?, ?)", (cur.lastrowid, i + 1))
    if store.dialect == "postgres":
        store.query("ANALYZE")                 # as autovacuum would soon after such a load: plans see the rows
    store.close()


def _best(fn: Any, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def run(target: str | None = None) -> dict[str, Any]:
    """`target`: None (a SQLite file), "postgres" (a fresh schema on the test server) or a PostgreSQL URL."""
    with tempfile.TemporaryDirectory() as tmp:
        if target == "postgres":
            from tests.pgserver import fresh_schema_url
            target = fresh_schema_url()
        db = target or str(Path(tmp) / "monitor.db")
        now = time.time()
        t0 = time.perf_counter()
        fill(db, now, N)
        filled = time.perf_counter() - t0
        stores = Stores(db)
        client = TestClient(Dashboard(Settings(db, "Europe/Paris", ("acme", "globex")), stores=stores).app,
                            base_url="http://127.0.0.1")
        store = Store(db, readonly=True)
        baseline = _best(lambda: store.one("SELECT COUNT(*) FROM mentions"))
        store.close()
        postgres = is_url(db)
        out: dict[str, Any] = {"mentions": N, "database": "postgres" if postgres else "sqlite",
                               "fill_s (incl. FTS5 triggers)" if not postgres else "fill_s (incl. GIN index)": filled,
                               "baseline_count_ms": baseline * 1000}

        def get(p: str) -> None:
            r = client.get(p)
            assert r.status_code == 200, (p, r.status_code, r.text[:300])

        for name, path in (("overview_7d", "/?period=7d"), ("overview_30d", "/?period=30d"),
                           ("overview_30d_brand", "/?period=30d&brand=acme"), ("feed_30d", "/feed?period=30d"),
                           *SEARCHES,
                           ("feed_filtered", "/feed?period=30d&sentiment=negative&issue=billing&source=src3"),
                           ("alerts_board", "/alerts?period=30d"), ("report_png_7d", "/report.png?period=7d")):
            out[f"{name}_ms"] = _best(lambda p=path: get(p)) * 1000
        if postgres:                           # before v16: the same searches without the index
            writer = Store(db)
            writer.query("DROP INDEX mentions_search")
            writer.close()
            for name, path in SEARCHES:
                out[f"{name}_no_index_ms"] = _best(lambda p=path: get(p)) * 1000
        stores.close()
        return out


if __name__ == "__main__":  # pragma: no cover
    args = sys.argv[1:]
    chosen = (args[1] if len(args) > 1 else "postgres") if args[:1] == ["--postgres"] else None
    for k, v in run(chosen).items():
        print(f"{k:<32} {v:,.1f}" if isinstance(v, float) else f"{k:<32} {v}")
