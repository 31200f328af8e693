"""Deterministic order: every list shown to a user orders by a unique key after its timestamp or count, so SQLite
and PostgreSQL give the same order for the same rows. Tied rows are laid out so the two engines read them in
different orders when nothing breaks the tie: explicit ids inserted in descending order (SQLite scans by rowid,
PostgreSQL's heap by insertion), and text-keyed rows updated after insertion (PostgreSQL writes a new row
version at the end of the heap, SQLite updates in place).

Regressions pinned: the report's top negative sources and authors, its share of voice and SLA breaches, the
health strip's unscored languages, the digest's open alerts and `monitor status`'s replicas came back in a
different order on each database; and `monitor status` showed whichever of a week's per-brand reports the
engine read first, so a brand's report that failed to post was hidden behind another brand's that posted."""

from __future__ import annotations

import re
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from starlette.testclient import TestClient

from monitor.alerting import digest
from monitor.cli import main
from monitor.config.rules import load_rules
from monitor.config.settings import ReportConfig, load_config
from monitor.ops import health
from monitor.ops.dashboard import report, strip, web
from monitor.ops.dashboard.figures import Window
from monitor.ops.ui import dashboard
from monitor.store.database import Store
from monitor.store.leases import live_replicas
from tests.conftest import write_config
from tests.pgserver import fresh_schema_url

NOW = time.time()
T = NOW - 7200.0                    # every tied row's timestamp
OWNER = "comms"


@pytest.fixture
def backend(monkeypatch: pytest.MonkeyPatch) -> str:
    """Both stores side by side in each test, whatever the suite-wide parametrisation asks."""
    monkeypatch.delenv("MONITOR_DATABASE_URL", raising=False)
    return "sqlite"


def _fill(store: Store) -> None:
    """Ties everywhere a list is shown: sources, authors, brands, languages, alerts, replicas, reports."""
    with store.tx() as db:
        for i in range(12, 0, -1):               # descending ids: heap order is not id order
            source, author = ("zeta", "zed") if i % 2 else ("alpha", "amy")
            brand = "globex" if i % 4 in (0, 1) else "acme"
            unscored = 1 if i in (1, 2) else 0
            db.execute("INSERT INTO mentions (id, source_id, source_kind, external_id, author, title, text,"
                       " collected_at, language, reach, brands, score, negative, unscored, status, processed_at)"
                       " VALUES (?, ?, 'rss', ?, ?, ?, ?, ?, ?, 100, ?, -0.5, ?, ?, 'routed', ?)",
                       (i, source, f"e{i}", author, f"story {i}", f"Tied complaint {i}", T,
                        "pl" if i == 1 else "tr" if i == 2 else "en", f'["{brand}"]', 1 - unscored, unscored, T))
        for i in range(6, 0, -1):
            db.execute("INSERT INTO alerts (id, group_key, brand, route, targets, state, title, mention_count,"
                       " created_at, updated_at) VALUES (?, ?, 'acme', 'r', ?, 'open', ?, 2, ?, ?)",
                       (i, f"g{i}", f'[{{"owner": "{OWNER}"}}]', f"Alert {i}", T, T))
            db.execute("INSERT INTO alert_mentions (alert_id, mention_id) VALUES (?, ?)", (i, i))
        for name in ("r-a", "r-b", "r-c"):
            db.execute("INSERT INTO replicas (id, hostname, pid, started_at, seen_at) VALUES (?, 'h', 1, ?, db_now())",
                       (name, T))
        db.execute("UPDATE replicas SET seen_at = db_now() WHERE id IN ('r-a', 'r-b')")


def _reports(store: Store, failed_first: bool) -> None:
    """Two brands' reports of one week (the same `until`): acme's posted, globex's failed to post."""
    rows = [("2026-W48-globex", None, "not_in_channel"), ("2026-W48-acme", NOW, None)]
    with store.tx() as db:
        for period, posted, error in rows if failed_first else rows[::-1]:
            db.execute("INSERT INTO reports (period, created_at, since, until, posted_at, last_error, attempts)"
                       " VALUES (?, ?, ?, ?, ?, ?, 1)", (period, T, T - 7 * 86400, T, posted, error))
        db.execute("UPDATE reports SET attempts = attempts WHERE period = ?", (rows[0 if failed_first else 1][0],))


@pytest.fixture
def twins(tmp_path: Path) -> dict[str, str]:
    dbs = {"sqlite": str(tmp_path / "ties.db"), "postgres": fresh_schema_url()}
    for target in dbs.values():
        store = Store(target)
        try:
            _fill(store)
        finally:
            store.close()
    return dbs


def _listed(target: str) -> dict[str, object]:
    """Each user-facing list, as the report, the strip, the digest and `monitor status` read it."""
    store = Store(target, readonly=True)
    try:
        w = Window(T - 86400, NOW, "UTC")
        o = report.overview(store, w, NOW, draw=False, health=False)
        md = re.sub(r"_As of [^_]*_", "", report.markdown(o))
        return {"report": md, "sources": o.sources, "authors": o.authors, "voice": o.voice,
                "breaches": [b["id"] for b in o.breaches], "stories": [s["id"] for s in o.stories],
                "unscored": strip.unscored_in(store, w)["languages"],
                "digest": [a["id"] for a in digest.build(store, OWNER, "d", T - 60, T + 60).open_alerts],
                "replicas": [r["id"] for r in live_replicas(store, within=10 * 86400)]}
    finally:
        store.close()


@pytest.mark.slow
def test_tied_rows_are_listed_in_the_same_order_on_sqlite_and_postgresql(twins):
    lists = {name: _listed(target) for name, target in twins.items()}
    for key in lists["sqlite"]:
        assert lists["postgres"][key] == lists["sqlite"][key], key
    got = lists["sqlite"]
    assert [r["name"] for r in got["sources"]] == ["alpha", "zeta"]          # tied counts: by name
    assert [r["brand"] for r in got["voice"]] == ["acme", "globex"]
    assert got["breaches"] == [1, 2, 3, 4, 5, 6] and got["digest"] == [1, 2, 3, 4, 5, 6]
    assert got["unscored"] == ["pl", "tr"] and got["replicas"] == ["r-a", "r-b", "r-c"]


def _text(page: str) -> str:
    page = re.sub(r'<header class="top">.*?</header>', "", page, flags=re.S)
    page = re.sub(r'name="csrf" value="[^"]*"', "", page)
    return " ".join(re.sub(r"<[^>]+>", " ", page).split())


@pytest.mark.slow
def test_dashboard_pages_and_monitor_alerts_list_tied_rows_alike_on_both_stores(twins, tmp_path, monkeypatch,
                                                                                  capsys):
    monkeypatch.setattr(web, "time", SimpleNamespace(time=lambda: NOW))
    cfg, rules = write_config(tmp_path, sources="[]\n", brands="acme: {query: acme}\nglobex: {query: globex}\n")
    seen: dict[str, dict[str, str]] = {}
    for name, target in twins.items():
        app = dashboard(load_config(cfg), load_rules(rules), target, with_datasette=False)
        client = TestClient(app.app, base_url="http://127.0.0.1")
        pages = {p: _text(client.get(p).text) for p in ("/?period=24h", "/alerts", "/feed", "/report.md?period=24h")}
        assert main(["alerts", "--db", target]) == 0
        pages["monitor alerts"] = capsys.readouterr().out
        seen[name] = pages
    for page, text in seen["sqlite"].items():
        assert seen["postgres"][page] == text, page


@pytest.mark.parametrize("failed_first", [True, False])
def test_regression_status_hid_a_brand_s_failed_weekly_report_behind_another_s(tmp_path, failed_first):
    """`monitor status` read "the latest report" as `ORDER BY until DESC LIMIT 1`: with a report per brand, the
    week's rows tie on `until` and the engine's read order picked one; a posted one hid the failed one."""
    config = SimpleNamespace(report=ReportConfig(slack_channel="C0123ABCD", brands=["acme", "globex"]))
    for target in (str(tmp_path / "r.db"), fresh_schema_url()):
        store = Store(target)
        try:
            _reports(store, failed_first)
            got = health.weekly_report(config, store)
        finally:
            store.close()
        assert got is not None and got["period"] == "2026-W48-globex", (target, got)
        assert got["problem"] and "not_in_channel" in got["problem"]
