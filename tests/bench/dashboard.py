"""The dashboard on a large database: server render time of each page (HTML complete, charts drawn).

Run alone with ``python -m tests.bench dashboard``. 100,000 mentions over 30 days for two brands (25%
negative, issue types on negatives, reach, 500 authors, 8 sources; rows written in the pipeline's shape by
SQL, which is quicker than scoring them), 2% of them linked to alerts in every state. Each page is fetched
through the ASGI app in-process (no network), best of 3; the baseline is `SELECT COUNT(*) FROM mentions`.
"""

from __future__ import annotations

import json
import random
import tempfile
import time
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from monitor.ops.dashboard.web import Dashboard, Settings
from monitor.store.database import Store

DAY = 86400.0
N = 100_000
WORDS = ("refund delivery late broken app crash billing charged twice support rude great love store new "
         "price order parcel waiting outage login password").split()
ISSUES = ("billing", "delivery", "outage", "support", "product")


def fill(path: Path, now: float, n: int = N, seed: int = 7) -> None:
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
        db.conn.executemany(
            "INSERT INTO mentions (source_id, source_kind, external_id, author, text, collected_at, processed_at,"
            " brands, status, negative, score, reach, issue, language, drivers, unscored)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,0)", rows)
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
    store.close()


def _best(fn: Any, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def run() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "monitor.db"
        now = time.time()
        t0 = time.perf_counter()
        fill(db, now)
        filled = time.perf_counter() - t0
        client = TestClient(Dashboard(Settings(str(db), "Europe/Paris", ("acme", "globex"))).app,
                            base_url="http://127.0.0.1")
        store = Store(db, readonly=True)
        baseline = _best(lambda: store.one("SELECT COUNT(*) FROM mentions"))
        store.close()
        out: dict[str, Any] = {"mentions": N, "fill_s (incl. FTS5 triggers)": filled,
                               "baseline_count_ms": baseline * 1000}
        for name, path in (("overview_7d", "/?period=7d"), ("overview_30d", "/?period=30d"),
                           ("overview_30d_brand", "/?period=30d&brand=acme"), ("feed_30d", "/feed?period=30d"),
                           ("feed_search", "/feed?period=30d&q=refund+parcel"),
                           ("feed_filtered", "/feed?period=30d&sentiment=negative&issue=billing&source=src3"),
                           ("alerts_board", "/alerts?period=30d"), ("report_png_7d", "/report.png?period=7d")):
            def get(p: str = path) -> None:
                r = client.get(p)
                assert r.status_code == 200, (p, r.status_code, r.text[:300])
            out[f"{name}_ms"] = _best(get) * 1000
        return out


if __name__ == "__main__":  # pragma: no cover
    for k, v in run().items():
        print(f"{k:<32} {v:,.1f}" if isinstance(v, float) else f"{k:<32} {v}")
